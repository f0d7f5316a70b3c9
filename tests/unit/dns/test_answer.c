/* test_answer.c - a DNS service's zone and answers (src/dns/answer.c):
 * what a zone refuses, how queries are read (verdicts), classified (owned,
 * NXDOMAIN, empty non-terminal, REFUSED) and answered (counts, rotation,
 * the answers limit, TC at the client's limit, SOA and NS at the apex). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/table.h"
#include "dns/answer.h"
#include "unit.h"

/* Servers: only their address is read (and their pointer compared). */
static struct real_server *mk_server(const char *addr)
{
	struct real_server *rs = calloc(1, sizeof(*rs));

	if (rs)
		addr_parse(addr, false, &rs->addr);
	return rs;
}

static struct dns_opts opts(const char *names, const char *zone, uint32_t answers)
{
	struct dns_opts o;

	memset(&o, 0, sizeof(o));
	snprintf(o.names, sizeof(o.names), "%s", names);
	snprintf(o.zone, sizeof(o.zone), "%s", zone);
	o.ttl_ms = 30000;
	o.answers = answers;
	return o;
}

/* A query for <name> of <type>; <extra> flags; with an OPT record if <edns>. */
static size_t mkq(uint8_t *buf, const char *name, uint16_t type, uint16_t flags, bool edns)
{
	uint8_t wire[DNS_NAME_MAX];
	int n = dns_name_from_text(name, wire);
	size_t len = 12;

	memset(buf, 0, 12);
	buf[0] = 0x12;
	buf[1] = 0x34;
	buf[2] = (uint8_t)(flags >> 8);
	buf[3] = (uint8_t)flags;
	buf[5] = 1;
	buf[11] = edns;
	memcpy(buf + len, wire, (size_t)n);
	len += (size_t)n;
	buf[len++] = 0;
	buf[len++] = (uint8_t)type;
	buf[len++] = 0;
	buf[len++] = 1;
	if (edns) {
		static const uint8_t opt[] = { 0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0 };

		memcpy(buf + len, opt, sizeof(opt));
		len += sizeof(opt);
	}
	return len;
}

TEST(dns_zone_refuses_bad_options)
{
	struct dns_opts o = opts("", "", 0);
	struct dns_zone *z;
	char why[SPEC_ERR_MAX];

	CHECK_EQ(dns_zone_build(&o, NULL, 0, NULL, 0, 1, &z, why), -EINVAL);
	CHECK_STR(why, "a DNS service needs a name (name www.example.test)");
	o = opts("www.example.test", "other.test", 0);
	CHECK_EQ(dns_zone_build(&o, NULL, 0, NULL, 0, 1, &z, why), -EINVAL);
	CHECK_STR(why, "name www.example.test is outside zone other.test");
	o = opts("www.example.test", "", 0);
	REQUIRE(dns_zone_build(&o, NULL, 0, NULL, 0, 1, &z, why) == 0);
	dns_zone_free(z);
}

TEST(dns_query_verdicts)
{
	uint8_t q[600];
	struct dns_ask a;
	size_t n = mkq(q, "www.example.test", DNS_T_A, 0, false);

	CHECK_EQ(dns_read_query(q, n, &a), DNS_V_ANSWER);
	CHECK_EQ(a.udp_size, 512);
	CHECK_EQ(dns_read_query(q, 11, &a), DNS_V_DROP);          /* no header */
	n = mkq(q, "www.example.test", DNS_T_A, DNS_QR, false);
	CHECK_EQ(dns_read_query(q, n, &a), DNS_V_DROP);            /* a response */
	n = mkq(q, "www.example.test", DNS_T_A, 2 << 11, false);
	CHECK_EQ(dns_read_query(q, n, &a), DNS_V_NOTIMP);
	n = mkq(q, "www.example.test", DNS_T_A, 0, false);
	q[5] = 2;                                                  /* two questions */
	CHECK_EQ(dns_read_query(q, n, &a), DNS_V_FORMERR);
	q[5] = 1;
	CHECK_EQ(dns_read_query(q, n - 2, &a), DNS_V_FORMERR);    /* cut short */
	q[n] = 0;
	CHECK_EQ(dns_read_query(q, n + 1, &a), DNS_V_FORMERR);    /* trailing garbage */
	n = mkq(q, "www.example.test", DNS_T_A, 0, true);
	CHECK_EQ(dns_read_query(q, n, &a), DNS_V_ANSWER);
	CHECK(a.edns);
	CHECK_EQ(a.udp_size, 1232);                                /* 4096 asked: ours */
	memcpy(q + n, q + n - 11, 11);                             /* OPT twice */
	q[11] = 2;
	CHECK_EQ(dns_read_query(q, n + 11, &a), DNS_V_FORMERR);
}

TEST(dns_classify_and_answer)
{
	struct dns_opts o = opts("www.example.test a.b.example.test", "example.test", 0);
	struct real_server *s[3] = { mk_server("10.0.0.1:80"), mk_server("10.0.0.2:80"),
				     mk_server("10.0.0.3:80") };
	bool avail[3] = { true, false, true };
	struct dns_zone *z;
	struct dns_ask a;
	uint8_t q[600], out[600];
	char why[SPEC_ERR_MAX];
	size_t n, r;

	REQUIRE(s[0] && s[1] && s[2]);
	REQUIRE(dns_zone_build(&o, s, 3, avail, 0, 7, &z, why) == 0);
	CHECK_EQ(z->a.n, 2);                                       /* the one down is out */
	CHECK(!z->a_all_down);
	n = mkq(q, "WWW.example.test", DNS_T_A, DNS_RD, false);
	REQUIRE(dns_read_query(q, n, &a) == DNS_V_ANSWER);
	dns_classify(z, &a);
	CHECK_EQ(a.rcode, DNS_R_NOERROR);
	REQUIRE(a.set == &z->a);
	r = dns_respond(z, &a, 1, out, sizeof(out));
	CHECK_EQ(r, n + 2 * 16);
	CHECK_EQ(out[2], 0x85);                                    /* QR AA RD */
	CHECK_EQ(out[5], 1);
	CHECK_EQ(out[7], 2);
	CHECK(memcmp(out + 12, q + 12, n - 12) == 0);              /* the question, as asked */
	CHECK(memcmp(out + n + 12, "\x0a\x00\x00\x03", 4) == 0);   /* first: index 1 */
	CHECK(memcmp(out + n + 28, "\x0a\x00\x00\x01", 4) == 0);   /* then the next */
	/* the limit of answers */
	z->answers = 1;
	CHECK_EQ(dns_respond(z, &a, 0, out, sizeof(out)), n + 16);
	z->answers = 0;
	/* too large for the client: the question alone, TC */
	CHECK_EQ(dns_respond(z, &a, 0, out, n + 20), n);
	CHECK(out[2] & 0x02);
	CHECK_EQ(out[7], 0);
	/* NXDOMAIN with the SOA; an empty non-terminal; the apex; outside */
	n = mkq(q, "nope.example.test", DNS_T_A, 0, false);
	dns_read_query(q, n, &a);
	dns_classify(z, &a);
	CHECK_EQ(a.rcode, DNS_R_NXDOMAIN);
	r = dns_respond(z, &a, 0, out, sizeof(out));
	CHECK_EQ(out[3] & 0xf, DNS_R_NXDOMAIN);
	CHECK_EQ(out[9], 1);
	CHECK(r > n);
	n = mkq(q, "b.example.test", DNS_T_A, 0, false);
	dns_read_query(q, n, &a);
	dns_classify(z, &a);
	CHECK_EQ(a.rcode, DNS_R_NOERROR);
	CHECK(a.set == NULL);
	n = mkq(q, "example.test", DNS_T_NS, 0, false);
	dns_read_query(q, n, &a);
	dns_classify(z, &a);
	dns_respond(z, &a, 0, out, sizeof(out));
	CHECK_EQ(out[7], 1);                                       /* ns.example.test */
	n = mkq(q, "example.org", DNS_T_A, 0, false);
	dns_read_query(q, n, &a);
	dns_classify(z, &a);
	CHECK_EQ(a.rcode, DNS_R_REFUSED);
	dns_respond(z, &a, 0, out, sizeof(out));
	CHECK_EQ(out[2] & 0x04, 0);                                /* not authoritative */
	dns_zone_free(z);
	/* every server down: all answered */
	avail[0] = avail[2] = false;
	REQUIRE(dns_zone_build(&o, s, 3, avail, 0, 7, &z, why) == 0);
	CHECK_EQ(z->a.n, 3);
	CHECK(z->a_all_down);
	dns_zone_free(z);
	for (int i = 0; i < 3; i++)
		free(s[i]);
}
