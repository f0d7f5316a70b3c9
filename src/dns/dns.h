/*
 * dns.h - the DNS mode (--proxy dns): weir as an authoritative DNS server
 * for service names, answering with the servers that can take traffic now.
 * server.c serves (UDP and TCP), answer.c builds and writes the answers.
 */
#ifndef WEIR_DNS_DNS_H
#define WEIR_DNS_DNS_H

#include "core/mode.h"

extern const struct svc_mode dns_mode;

/* Registers the mode, its option block, its state area and table hooks
 * (start-up, from src/register.c). */
void dns_register(void);

struct virtual_service;

/* A DNS service's numbers since it started (control thread): <fn> gets
 * each (name, type, rcode) with queries, the name "other" for names not
 * the service's, the type "other" for the rarer types; <loc_fn> each
 * location with the answers it gave. Either may be NULL; nothing for a
 * service of another mode. */
void dns_stats(struct virtual_service *svc,
	       void (*fn)(void *arg, const char *name, const char *type, const char *rcode,
			  uint64_t n),
	       void (*loc_fn)(void *arg, const char *loc, uint64_t n), void *arg);

/* Query classes by rcode, for the listings: every query, then by rcode
 * (FORMERR, SERVFAIL, NOTIMP and BADVERS are "other"). */
enum { DNS_CLASS_ALL, DNS_CLASS_NOERROR, DNS_CLASS_NXDOMAIN, DNS_CLASS_REFUSED,
       DNS_CLASS_OTHER, DNS_CLASSES };

/* A DNS service's queries per name (control thread): <fn> gets each of
 * its names in the options' order, then "other" (names not its own) if it
 * has any, with the queries since the service started and the queries per
 * second (IPVS's estimator, over the table's 2 s tick), by DNS_CLASS_*.
 * Nothing for a service of another mode. */
void dns_name_numbers(struct virtual_service *svc,
		      void (*fn)(void *arg, const char *name, const uint64_t *total,
				 const uint64_t *rate), void *arg);

/* The fast path (dns_xdp.c), control thread: every health tick, the
 * zones of the DNS services written to the XDP data path when they
 * changed; every rate tick, what it answered folded into the counters;
 * how many queries of <svc> it answered. */
struct vs_table;
void dns_xdp_tick(struct vs_table *t, uint64_t now);
void dns_xdp_fold(struct vs_table *t);
uint64_t dns_xdp_answered(struct virtual_service *svc);

#endif
