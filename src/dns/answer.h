/*
 * answer.h - what a DNS service answers (--proxy dns): a zone built from
 * the service's names and its servers' state, whole, and swapped in when
 * that state changes (the service's generation, svc->gen), so that a query
 * is a lookup and a copy.
 *
 * A zone holds the records ready to send: every available server's A or
 * AAAA record (its name a pointer to the question's), the SOA and NS
 * records (their owner a pointer into the question's name, which a query
 * in the zone always ends with), and the names owned. Pure: no locks, no
 * clocks; built by whoever holds the service's lock, read by any thread
 * while it is current (see server.c for how an old zone is let go).
 */
#ifndef WEIR_DNS_ANSWER_H
#define WEIR_DNS_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/dns_opts.h"
#include "core/addr.h"
#include "proto/dns.h"

struct real_server;

#define DNS_RRSET_MAX 64      /* addresses in one answer at most */
#define DNS_EDNS_SIZE 1232    /* our UDP payload size (DNS flag day 2020) */

/* The records of one type, one per server. */
struct dns_rrset {
	uint16_t n;
	uint16_t len;                       /* bytes of one record */
	uint8_t *rr;                        /* n records of len bytes */
	const struct real_server **rs;      /* each record's server: compared,
	                                     * never followed */
};

/* The address records of a location preference list, and the location
 * that answers it (-1: none preferred had a server: every available one). */
struct dns_sets {
	struct dns_rrset a, aaaa;
	int loc_a, loc_aaaa;
};

struct geo_map;

struct dns_zone {
	unsigned gen;                       /* the service's generation */
	unsigned ogen;                      /* its options' (server.c) */
	uint32_t serial;                    /* SOA serial */
	uint32_t ttl;                       /* seconds */
	uint32_t answers;                   /* records per answer; 0 = all */
	uint8_t apex[DNS_NAME_MAX];         /* wire form, lowercase */
	size_t apex_len;
	uint8_t (*names)[DNS_NAME_MAX];     /* the names answered, wire, lowercase */
	size_t nnames;
	struct dns_rrset a, aaaa;           /* with no location map */
	bool a_all_down, aaaa_all_down;     /* no server available: all answered */
	const struct geo_map *geo;          /* NULL: none; lives longer than the zone */
	struct dns_sets *bylist;            /* [geo_list_count()]: the records of the
	                                     * first location of each list with an
	                                     * available server */
	size_t nlists;
	uint8_t soa[512];                   /* SOA rdata */
	size_t soa_len;
	uint8_t ns[8][DNS_NAME_MAX];        /* NS rdata: names */
	size_t nns;
};

/* Which of the <n> servers an answer may hold now (avail[i]): those that
 * could take work by their own state, the backups only while no primary
 * of their family (IPv4 or IPv6) could: an A query cannot use an AAAA
 * record, so the failover order is per family here. Lock held. */
void dns_servers_available(struct real_server *const *servers, size_t n, bool *avail);
/* Builds a zone from <o> and the <n> servers (their address and whether
 * they are available now). *out gets it; 0, or -EINVAL with a reason in
 * <why> (SPEC_ERR_MAX: no name, a name outside the zone), or -ENOMEM. */
int dns_zone_build(const struct dns_opts *o, struct real_server *const *servers, size_t n,
		   const bool *available, unsigned gen, uint32_t serial, struct dns_zone **out,
		   char *why);
/* Adds the answers of location map <geo> to <z>: one set of records per
 * preference list (servers carry their location, rs->spec.location). */
int dns_zone_locate(struct dns_zone *z, const struct geo_map *geo,
		    struct real_server *const *servers, size_t n, const bool *available);
void dns_zone_free(struct dns_zone *z);
/* Sets the serial of <z> (its SOA record follows). */
void dns_zone_set_serial(struct dns_zone *z, uint32_t serial);
/* True if <a> and <b> answer the same records (the serial moves if not). */
bool dns_zone_same_answers(const struct dns_zone *a, const struct dns_zone *b);

/* A query and what answers it. */
struct dns_ask {
	struct dns_request req;             /* proto/dns.h: dns_request_parse() */
	/* filled by dns_classify */
	int rcode;
	const struct dns_rrset *set;        /* A or AAAA records to pick from */
	uint8_t scope;                      /* ECS scope of the answer (RFC 7871) */
	int name;                           /* which of the zone's names; -1: another */
	int loc;                            /* the location answering; -1: none */
};

/* Decides the answer to <q> (its request parsed with the verdict
 * DNS_V_ANSWER) from <z>: its rcode, and q->set when the answer is
 * address records (the caller then picks the first). <client> is the
 * resolver's address: with the query's Client Subnet, if any, it chooses
 * the location (a zone with a location map). */
void dns_classify(const struct dns_zone *z, struct dns_ask *q, const struct weir_addr *client);
/* Writes the response to <q> into out[0..size) for a client that takes
 * <limit> bytes: the records of q->set from index <first> on, rotating, as
 * many as the zone says. Too large: the header and question (and OPT)
 * only, with TC. Returns the length (0: none). */
size_t dns_respond(const struct dns_zone *z, const struct dns_ask *q, unsigned first,
		   uint8_t *out, size_t size, size_t limit);
/* The response to a query refused before any zone (FORMERR, NOTIMP,
 * BADVERS, SERVFAIL): its rcode, the question when it was read. */
size_t dns_respond_error(const struct dns_request *req, unsigned rcode, uint8_t *out,
			 size_t size, size_t limit);

/* The index in <set> of <rs>'s record, or -1. */
int dns_rrset_find(const struct dns_rrset *set, const struct real_server *rs);

#endif
