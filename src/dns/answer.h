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
	struct dns_rrset a, aaaa;
	bool a_all_down, aaaa_all_down;     /* no server available: all answered */
	uint8_t soa[512];                   /* SOA rdata */
	size_t soa_len;
	uint8_t ns[8][DNS_NAME_MAX];        /* NS rdata: names */
	size_t nns;
};

/* Builds a zone from <o> and the <n> servers (their address and whether
 * they are available now). *out gets it; 0, or -EINVAL with a reason in
 * <why> (SPEC_ERR_MAX: no name, a name outside the zone), or -ENOMEM. */
int dns_zone_build(const struct dns_opts *o, struct real_server *const *servers, size_t n,
		   const bool *available, unsigned gen, uint32_t serial, struct dns_zone **out,
		   char *why);
void dns_zone_free(struct dns_zone *z);
/* Sets the serial of <z> (its SOA record follows). */
void dns_zone_set_serial(struct dns_zone *z, uint32_t serial);
/* True if <a> and <b> answer the same records (the serial moves if not). */
bool dns_zone_same_answers(const struct dns_zone *a, const struct dns_zone *b);

/* A query, read. */
enum dns_verdict {
	DNS_V_ANSWER,     /* answer it (rcode and records per the zone) */
	DNS_V_FORMERR,    /* malformed: FORMERR */
	DNS_V_NOTIMP,     /* an opcode other than QUERY */
	DNS_V_DROP,       /* not a query (QR set), or shorter than a header */
};

struct dns_ask {
	uint16_t id, flags;
	uint16_t qtype, qclass;
	uint8_t qname[DNS_NAME_MAX];        /* as asked (case kept), wire */
	size_t qname_len;
	bool edns;
	uint16_t udp_size;                  /* the client's limit over UDP */
	/* filled by dns_classify: which records would answer */
	int rcode;
	const struct dns_rrset *set;        /* A or AAAA records to pick from */
};

/* Reads query msg[0..len) into <q>. */
enum dns_verdict dns_read_query(const uint8_t *msg, size_t len, struct dns_ask *q);
/* Decides the answer to <q> from <z>: its rcode, and q->set when the
 * answer is address records (the caller then picks the first). */
void dns_classify(const struct dns_zone *z, struct dns_ask *q);
/* Writes the response to <q> into out[0..size) (size: the client's limit,
 * 512 without EDNS, 65535 over TCP): the records of q->set from index
 * <first> on, rotating, as many as the zone says. Too large: the header
 * and question only, with TC. Returns the length. An error verdict gets
 * its rcode with the question (FORMERR: without it when it was unreadable). */
size_t dns_respond(const struct dns_zone *z, const struct dns_ask *q, unsigned first,
		   uint8_t *out, size_t size);
/* The same for a query refused before any zone (FORMERR, NOTIMP): */
size_t dns_respond_error(const uint8_t *msg, size_t len, int rcode, uint8_t *out, size_t size);

/* The index in <set> of <rs>'s record, or -1. */
int dns_rrset_find(const struct dns_rrset *set, const struct real_server *rs);

#endif
