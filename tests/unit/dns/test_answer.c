/* test_answer.c - a DNS service's zone and answers (src/dns/answer.c):
 * what a zone refuses, how queries are classified (owned, NXDOMAIN, empty
 * non-terminal, REFUSED) and answered (counts, rotation, the answers
 * limit, TC at the client's limit, SOA and NS at the apex), and answers by
 * location with the Client Subnet scope. (Reading queries: proto/dns's
 * tests and their corpus.) */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/table.h"
#include "dns/answer.h"
#include "dns/geo.h"
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

static bool parse(const uint8_t *q, size_t n, struct dns_ask *a)
{
	return dns_request_parse(q, n, &a->req) == DNS_V_ANSWER;
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
	struct weir_addr client;

	addr_parse("192.0.2.9:5353", false, &client);

	REQUIRE(s[0] && s[1] && s[2]);
	REQUIRE(dns_zone_build(&o, s, 3, avail, 0, 7, &z, why) == 0);
	CHECK_EQ(z->a.n, 2);                                       /* the one down is out */
	CHECK(!z->a_all_down);
	n = mkq(q, "WWW.example.test", DNS_T_A, DNS_RD, false);
	REQUIRE(parse(q, n, &a));
	dns_classify(z, &a, &client);
	CHECK_EQ(a.rcode, DNS_R_NOERROR);
	REQUIRE(a.set == &z->a);
	r = dns_respond(z, &a, 1, out, sizeof(out), 512);
	CHECK_EQ(r, n + 2 * 16);
	CHECK_EQ(out[2], 0x85);                                    /* QR AA RD */
	CHECK_EQ(out[5], 1);
	CHECK_EQ(out[7], 2);
	CHECK(memcmp(out + 12, q + 12, n - 12) == 0);              /* the question, as asked */
	CHECK(memcmp(out + n + 12, "\x0a\x00\x00\x03", 4) == 0);   /* first: index 1 */
	CHECK(memcmp(out + n + 28, "\x0a\x00\x00\x01", 4) == 0);   /* then the next */
	/* the limit of answers */
	z->answers = 1;
	CHECK_EQ(dns_respond(z, &a, 0, out, sizeof(out), 512), n + 16);
	z->answers = 0;
	/* too large for the client: the question alone, TC */
	CHECK_EQ(dns_respond(z, &a, 0, out, sizeof(out), n + 20), n);
	CHECK(out[2] & 0x02);
	CHECK_EQ(out[7], 0);
	/* NXDOMAIN with the SOA; an empty non-terminal; the apex; outside */
	n = mkq(q, "nope.example.test", DNS_T_A, 0, false);
	REQUIRE(parse(q, n, &a));
	dns_classify(z, &a, &client);
	CHECK_EQ(a.rcode, DNS_R_NXDOMAIN);
	r = dns_respond(z, &a, 0, out, sizeof(out), 512);
	CHECK_EQ(out[3] & 0xf, DNS_R_NXDOMAIN);
	CHECK_EQ(out[9], 1);
	CHECK(r > n);
	n = mkq(q, "b.example.test", DNS_T_A, 0, false);
	REQUIRE(parse(q, n, &a));
	dns_classify(z, &a, &client);
	CHECK_EQ(a.rcode, DNS_R_NOERROR);
	CHECK(a.set == NULL);
	n = mkq(q, "example.test", DNS_T_NS, 0, false);
	REQUIRE(parse(q, n, &a));
	dns_classify(z, &a, &client);
	dns_respond(z, &a, 0, out, sizeof(out), 512);
	CHECK_EQ(out[7], 1);                                       /* ns.example.test */
	n = mkq(q, "example.org", DNS_T_A, 0, false);
	REQUIRE(parse(q, n, &a));
	dns_classify(z, &a, &client);
	CHECK_EQ(a.rcode, DNS_R_REFUSED);
	dns_respond(z, &a, 0, out, sizeof(out), 512);
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

/* Locations: a client network prefers fra, then ams; the answer holds the
 * servers of the first location with one available, and the Client
 * Subnet's scope is the widest network with the same answer. */
TEST(dns_answers_by_location)
{
	struct dns_opts o = opts("www.example.test", "example.test", 0);
	struct real_server *s[3] = { mk_server("10.0.0.1:80"), mk_server("10.0.0.2:80"),
				     mk_server("10.0.0.3:80") };
	bool avail[3] = { true, true, true };
	struct geo_map *g = geo_map_new();
	struct dns_zone *z;
	struct dns_ask a;
	struct weir_addr client;
	uint8_t q[600];
	char why[GEO_ERR_MAX];
	size_t n;

	REQUIRE(g && s[0] && s[1] && s[2]);
	snprintf(s[0]->spec.location, sizeof(s[0]->spec.location), "fra");
	snprintf(s[1]->spec.location, sizeof(s[1]->spec.location), "ams");
	snprintf(s[2]->spec.location, sizeof(s[2]->spec.location), "ams");
	REQUIRE(geo_map_add_line(g, "10.0.0.0/8 -> fra, ams", why) == 0);
	REQUIRE(geo_map_add_line(g, "10.1.0.0/16 -> ams", why) == 0);
	REQUIRE(geo_map_finish(g) == 0);
	REQUIRE(dns_zone_build(&o, s, 3, avail, 0, 7, &z, why) == 0);
	REQUIRE(dns_zone_locate(z, g, s, 3, avail) == 0);
	n = mkq(q, "www.example.test", DNS_T_A, 0, false);
	/* the resolver's own address decides; no Client Subnet: scope 0 */
	addr_parse("10.2.3.4:53", false, &client);
	REQUIRE(parse(q, n, &a));
	dns_classify(z, &a, &client);
	REQUIRE(a.set != NULL);
	CHECK_EQ(a.set->n, 1);
	CHECK(a.set->rs[0] == s[0]);
	CHECK_EQ(a.scope, 0);
	addr_parse("10.1.3.4:53", false, &client);
	dns_classify(z, &a, &client);
	REQUIRE(a.set != NULL);
	CHECK_EQ(a.set->n, 2);
	/* a Client Subnet decides over the resolver, with its scope */
	a.req.has_ecs = true;
	a.req.ecs = (struct dns_ecs){ .family = 1, .source = 24, .addr = { 10, 2, 3 } };
	dns_classify(z, &a, &client);
	CHECK(a.set->rs[0] == s[0]);
	CHECK_EQ(a.scope, 15);                       /* 10.2/15: no 10.1/16 in it */
	/* fra down: its clients fall back to ams */
	dns_zone_free(z);
	avail[0] = false;
	REQUIRE(dns_zone_build(&o, s, 3, avail, 0, 7, &z, why) == 0);
	REQUIRE(dns_zone_locate(z, g, s, 3, avail) == 0);
	dns_classify(z, &a, &client);
	CHECK_EQ(a.set->n, 2);
	CHECK(a.set->rs[0] != s[0] && a.set->rs[1] != s[0]);
	dns_zone_free(z);
	geo_map_free(g);
	for (int i = 0; i < 3; i++)
		free(s[i]);
}

/* Failover order in answers: a family's backups only while no primary of
 * that family could take work; a backup in standby does not shorten the
 * TTL, a primary out does. */
TEST(dns_backups_by_family)
{
	static const char *const addrs[] = { "192.0.2.1:80", "192.0.2.2:80", "[2001:db8::1]:80",
					     "[2001:db8::2]:80" };
	struct real_server *rs[4];
	struct dns_opts o = opts("www.example.test", "", 0);
	struct dns_zone *z;
	char why[SPEC_ERR_MAX];
	bool av[4];

	for (int i = 0; i < 4; i++) {
		REQUIRE((rs[i] = mk_server(addrs[i])) != NULL);
		rs[i]->ss.weight = 1;
		rs[i]->ss.backup = i == 1 || i == 3;
	}
	dns_servers_available(rs, 4, av);
	CHECK(av[0] && !av[1] && av[2] && !av[3]);
	o.ttl_down_ms = 5000;
	REQUIRE(dns_zone_build(&o, rs, 4, av, 1, 1, &z, why) == 0);
	CHECK_EQ(z->ttl, 30);
	CHECK_EQ(z->a.n, 1);
	CHECK(z->a.rs[0] == rs[0]);
	dns_zone_free(z);
	/* the IPv6 primary down: its backup answers AAAA; A is unchanged */
	rs[2]->ss.flags = SCHED_SRV_DOWN;
	dns_servers_available(rs, 4, av);
	CHECK(av[0] && !av[1] && !av[2] && av[3]);
	REQUIRE(dns_zone_build(&o, rs, 4, av, 1, 1, &z, why) == 0);
	CHECK_EQ(z->ttl, 5);
	CHECK(z->a.n == 1 && z->a.rs[0] == rs[0]);
	CHECK(z->aaaa.n == 1 && z->aaaa.rs[0] == rs[3]);
	dns_zone_free(z);
	/* the IPv4 primary drained and quiesced too: the IPv4 backup */
	rs[0]->ss.flags = SCHED_SRV_DRAIN;
	dns_servers_available(rs, 4, av);
	CHECK(!av[0] && av[1]);
	rs[0]->ss.flags = 0;
	rs[0]->ss.weight = 0;
	dns_servers_available(rs, 4, av);
	CHECK(!av[0] && av[1]);
	/* back: the backup leaves */
	rs[0]->ss.weight = 1;
	rs[2]->ss.flags = 0;
	dns_servers_available(rs, 4, av);
	CHECK(av[0] && !av[1] && av[2] && !av[3]);
	for (int i = 0; i < 4; i++)
		free(rs[i]);
}
