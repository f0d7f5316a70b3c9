/*
 * dns_oracle.h - user space's DNS answers (src/dns/answer.c, from
 * libweir.a) for the DNS fixtures, behind a header that names none of
 * src/'s types (harness.h has names of its own that src/core/ also uses).
 */
#ifndef WEIR_TESTS_BPF_DNS_ORACLE_H
#define WEIR_TESTS_BPF_DNS_ORACLE_H

#include <stddef.h>
#include <stdint.h>

/* One family's records as the zone holds them. */
struct oracle_set {
	const uint8_t *rr;
	uint16_t n, len;
};

/* A zone example.test for names www, api and x.deep (deep.example.test
 * an empty non-terminal), TTL 20 s. */
struct oracle {
	void *zone;                 /* struct dns_zone */
	void *servers[64];          /* struct real_server */
	int nservers;
	const uint8_t *names[3];    /* wire form, lower case */
	size_t name_len[3];
	uint32_t nnames;
	const uint8_t *apex;        /* wire form */
	size_t apex_len;
	uint8_t soa[10 + 512];      /* the SOA record but for its owner */
	size_t soa_len;
	struct oracle_set a, aaaa;
	uint32_t answers;           /* records per answer; 0 = all */
};

/* <n> == 4: 10.0.0.1-3 and 2001:db8::1; 2: 10.0.0.1 and 2001:db8::1; else
 * 10.1.0.1 ... 10.1.0.<n>. */
struct oracle *oracle_zone(int n);
/* The same with the `answers` option: <answers> records per answer. */
struct oracle *oracle_zone_answers(int n, uint32_t answers);
void oracle_free(struct oracle *o);
/* What user space answers to query msg[0..len) with the records from
 * <first> (dns_request_parse, dns_classify, dns_respond over UDP); 0 for
 * a message it would not answer with dns_respond(). */
size_t oracle_respond(const struct oracle *o, const uint8_t *msg, size_t len, unsigned first,
		      uint8_t *out, size_t size);
/* The bucket IPVS's sh (src/sched/sh.c) puts client address <text> in. */
uint32_t oracle_sh_bucket(const char *text);
/* <text> as a name in wire form, its case kept; its length. */
size_t oracle_name(const char *text, uint8_t *out);

#endif
