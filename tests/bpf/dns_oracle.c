/* dns_oracle.c - user space's DNS answers for the fixtures (dns_oracle.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns_oracle.h"
#include "core/table.h"
#include "dns/answer.h"
#include "sched/sched_int.h"

static void set_of(struct oracle_set *s, const struct dns_rrset *r)
{
	s->rr = r->rr;
	s->n = r->n;
	s->len = r->len;
}

struct oracle *oracle_zone(int n)
{
	return oracle_zone_answers(n, 0);
}

struct oracle *oracle_zone_answers(int n, uint32_t answers)
{
	static const char *const srv[4] = { "10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80",
					    "[2001:db8::1]:80" };
	static const char *const two[2] = { "10.0.0.1:80", "[2001:db8::1]:80" };
	struct dns_opts opts = { .ttl_ms = 20000, .answers = answers, .xdp = true };
	struct oracle *o = calloc(1, sizeof(*o));
	struct real_server *rs[64];
	struct dns_zone *z;
	bool avail[64];
	char why[SPEC_ERR_MAX], a[32];

	if (!o || n > 64)
		abort();
	snprintf(opts.names, sizeof(opts.names), "www.example.test api.example.test "
		 "x.deep.example.test");
	for (int i = 0; i < n; i++) {
		rs[i] = calloc(1, sizeof(*rs[i]) + 256);
		if (!rs[i])
			abort();
		snprintf(a, sizeof(a), "10.1.0.%d:80", i + 1);
		addr_parse(n == 4 ? srv[i] : n == 2 ? two[i] : a, false, &rs[i]->addr);
		avail[i] = true;
		o->servers[i] = rs[i];
	}
	o->nservers = n;
	o->answers = answers;
	if (dns_zone_build(&opts, rs, (size_t)n, avail, 1, 7, &z, why) != 0) {
		fprintf(stderr, "oracle zone: %s\n", why);
		exit(1);
	}
	o->zone = z;
	o->nnames = (uint32_t)z->nnames;
	for (size_t i = 0; i < z->nnames && i < 3; i++) {
		o->names[i] = z->names[i];
		o->name_len[i] = dns_name_len(z->names[i]);
	}
	o->apex = z->apex;
	o->apex_len = z->apex_len;
	o->soa[1] = 6;          /* SOA */
	o->soa[3] = 1;          /* IN */
	o->soa[4] = (uint8_t)(z->ttl >> 24), o->soa[5] = (uint8_t)(z->ttl >> 16);
	o->soa[6] = (uint8_t)(z->ttl >> 8), o->soa[7] = (uint8_t)z->ttl;
	o->soa[8] = (uint8_t)(z->soa_len >> 8), o->soa[9] = (uint8_t)z->soa_len;
	memcpy(o->soa + 10, z->soa, z->soa_len);
	o->soa_len = 10 + z->soa_len;
	set_of(&o->a, &z->a);
	set_of(&o->aaaa, &z->aaaa);
	return o;
}

void oracle_free(struct oracle *o)
{
	dns_zone_free(o->zone);
	for (int i = 0; i < o->nservers; i++)
		free(o->servers[i]);
	free(o);
}

size_t oracle_respond(const struct oracle *o, const uint8_t *msg, size_t len, unsigned first,
		      uint8_t *out, size_t size)
{
	struct weir_addr client;
	struct dns_ask q;

	addr_parse("198.51.100.1:40000", false, &client);
	if (dns_request_parse(msg, len, &q.req) != DNS_V_ANSWER)
		return 0;
	dns_classify(o->zone, &q, &client);
	return dns_respond(o->zone, &q, first, out, size < DNS_EDNS_SIZE ? size : DNS_EDNS_SIZE,
			   dns_udp_limit(&q.req, DNS_EDNS_SIZE));
}

size_t oracle_name(const char *text, uint8_t *out)
{
	int n = dns_name_from_text(text, out);

	return n > 0 ? (size_t)n : 0;
}

uint32_t oracle_sh_bucket(const char *text)
{
	struct weir_addr a;
	uint8_t b[16];
	uint8_t len;

	addr_parse(text, true, &a);
	len = addr_bytes(&a, b);
	return sched_hash_32(sched_addr_fold(b, len), 8);
}
