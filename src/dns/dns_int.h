/*
 * dns_int.h - what the files of src/dns/ share inside the mode: server.c
 * owns the zones and the counters, dns_xdp.c hands zones to the XDP data
 * path and folds back what it answered.
 */
#ifndef WEIR_DNS_INT_H
#define WEIR_DNS_INT_H

#include <stdint.h>

struct virtual_service;
struct dns_zone;

/* The current zone of DNS service <svc>, rebuilt first if its servers or
 * options changed (server.c; any thread, takes svc->lock to rebuild).
 * Valid for DNS_RETIRE_MS after it is replaced; NULL if none could be
 * built. */
const struct dns_zone *dns_zone_current(struct virtual_service *svc);
/* Counts <n> answers of <rcode> to <qtype> queries for the zone's name
 * <name> (its index; -1 or past the counted ones: "other") on the calling
 * thread's counters. */
void dns_count_answers(struct virtual_service *svc, int name, uint16_t qtype, unsigned rcode,
		       uint64_t n);
/* dns_xdp.c's state area and table hooks (from dns_register()). */
void dns_xdp_register(void);

#endif
