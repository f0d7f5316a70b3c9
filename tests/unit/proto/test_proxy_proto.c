/* test_proxy_proto.c - PROXY protocol v1/v2: parsing the spec's forms,
 * round trips through the encoders, every split point of a valid header,
 * a corpus of malformed headers, and data that is no PROXY header. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/addr.h"
#include "core/util.h"
#include "proto/proxy_proto.h"
#include "unit.h"

/* A byte string given as a C literal, NULs included. */
struct bytes {
	const char *p;
	size_t len;
};
#define B(s) { (s), sizeof(s) - 1 }

#define SIG "\r\n\r\n\0\r\nQUIT\n"
/* 127.0.0.1:1234 -> 127.0.0.2:80 as a v2 AF_INET block */
#define V4BLK "\x7f\x00\x00\x01" "\x7f\x00\x00\x02" "\x04\xd2" "\x00\x50"
/* 2001:db8::1:1234 -> 2001:db8::2:443 as a v2 AF_INET6 block */
#define V6BLK "\x20\x01\x0d\xb8" "\0\0\0\0" "\0\0\0\0" "\0\0\0\x01" \
	      "\x20\x01\x0d\xb8" "\0\0\0\0" "\0\0\0\0" "\0\0\0\x02" \
	      "\x04\xd2" "\x01\xbb"

static struct weir_addr A(const char *s)
{
	struct weir_addr a;

	if (addr_parse(s, false, &a) != 0) {
		unit_fail(__FILE__, __LINE__, "addr_parse(\"%s\") failed", s);
		memset(&a, 0, sizeof(a));
	}
	return a;
}

static int parse(struct bytes b, struct pp_info *pi)
{
	return pp_parse((const uint8_t *)b.p, b.len, pi);
}

static int parse_str(const char *s, struct pp_info *pi)
{
	return pp_parse((const uint8_t *)s, strlen(s), pi);
}

static bool is_addr(const struct weir_addr *a, const char *want)
{
	struct weir_addr w = A(want);

	return addr_equal(a, &w);
}

static bool is_unspec(const struct weir_addr *a)
{
	static const struct weir_addr zero;

	return memcmp(a, &zero, sizeof(zero)) == 0;
}

/* Feeds <buf>[<n>] (a whole valid header) at every split point: each
 * shorter prefix must ask for more, the whole must parse to <n>, and so
 * must the whole followed by payload. Parses it into <pi>. */
static void check_splits(const char *what, const uint8_t *buf, size_t n,
			 struct pp_info *pi)
{
	uint8_t more[PP_V2_MAX + 16];
	struct pp_info tmp;
	int rc;

	for (size_t k = 0; k < n; k++) {
		rc = pp_parse(buf, k, &tmp);
		if (rc != PP_NEED_MORE) {
			unit_fail(__FILE__, __LINE__, "%s: prefix %zu of %zu gave %d",
				  what, k, n, rc);
			break;
		}
	}
	if (n + 5 <= sizeof(more)) {
		memcpy(more, buf, n);
		memcpy(more + n, "GET /", 5);
		rc = pp_parse(more, n + 5, &tmp);
		if (rc != (int)n)
			unit_fail(__FILE__, __LINE__, "%s: with payload gave %d, not %zu",
				  what, rc, n);
	}
	rc = pp_parse(buf, n, pi);
	if (rc != (int)n)
		unit_fail(__FILE__, __LINE__, "%s: gave %d, not %zu", what, rc, n);
}

/* Builds <src> -> <dst> in <version>, checks its split points and parses
 * it back into <pi>. Returns the header length, or -1. */
static int roundtrip(int version, const struct weir_addr *src,
		     const struct weir_addr *dst, int proto, struct pp_info *pi)
{
	uint8_t buf[PP_BUILD_MAX];
	int n;

	memset(pi, 0, sizeof(*pi));
	if (version == 1)
		n = pp_build_v1((char *)buf, sizeof(buf), src, dst);
	else
		n = pp_build_v2(buf, sizeof(buf), src, dst, proto);
	if (n <= 0) {
		unit_fail(__FILE__, __LINE__, "build v%d gave %d", version, n);
		return -1;
	}
	check_splits(version == 1 ? "v1 round trip" : "v2 round trip", buf, (size_t)n, pi);
	if (pi->version != version)
		unit_fail(__FILE__, __LINE__, "version %d, not %d", pi->version, version);
	return n;
}

/* --- v1 parsing ---------------------------------------------------------- */

TEST(pp_v1_parses_tcp4)
{
	const char *h = "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n";
	struct pp_info pi;

	REQUIRE(parse_str(h, &pi) == (int)strlen(h));
	CHECK_EQ(pi.version, 1);
	CHECK(!pi.local);
	CHECK_EQ(pi.proto, SOCK_STREAM);
	CHECK(is_addr(&pi.src, "192.168.0.1:56324"));
	CHECK(is_addr(&pi.dst, "192.168.0.11:443"));
}

TEST(pp_v1_parses_tcp6)
{
	const char *h = "PROXY TCP6 2001:db8::1 ::ffff:10.0.0.1 0 65535\r\n";
	struct pp_info pi;

	REQUIRE(parse_str(h, &pi) == (int)strlen(h));
	CHECK_EQ(addr_family(&pi.src), AF_INET6);
	CHECK(is_addr(&pi.src, "[2001:db8::1]:0"));
	CHECK(is_addr(&pi.dst, "[::ffff:10.0.0.1]:65535"));
}

TEST(pp_v1_parses_the_longest_tcp6_line)
{
	const char *h = "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
			"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
	struct pp_info pi;

	CHECK_EQ(strlen(h), 104);
	CHECK_EQ(parse_str(h, &pi), 104);
	CHECK_EQ(addr_port(&pi.dst), 65535);
}

TEST(pp_v1_unknown_ignores_the_rest)
{
	const char *forms[] = {
		"PROXY UNKNOWN\r\n",
		"PROXY UNKNOWN \r\n",
		"PROXY UNKNOWN ffff:f::1 ffff::2 65535 65535\r\n",
		"PROXY UNKNOWN any \t junk\x01 at all\r\n",
	};
	struct pp_info pi;

	for (size_t i = 0; i < ARRAY_SIZE(forms); i++) {
		memset(&pi, 0x55, sizeof(pi));
		CHECK_EQ(parse_str(forms[i], &pi), strlen(forms[i]));
		CHECK_EQ(pi.version, 1);
		CHECK(pi.local);
		CHECK_EQ(pi.proto, 0);
		CHECK(is_unspec(&pi.src) && is_unspec(&pi.dst));
	}
}

TEST(pp_v1_107_bytes_is_the_limit)
{
	char h[128];
	struct pp_info pi;

	/* "PROXY UNKNOWN " is 14 bytes: 91 more + CRLF = 107 */
	memcpy(h, "PROXY UNKNOWN ", 14);
	memset(h + 14, 'x', 91);
	memcpy(h + 105, "\r\n", 3);
	CHECK_EQ(parse_str(h, &pi), PP_V1_MAX);
	check_splits("107-byte v1", (const uint8_t *)h, PP_V1_MAX, &pi);

	memset(h + 14, 'x', 92);
	memcpy(h + 106, "\r\n", 3);
	CHECK_EQ(parse_str(h, &pi), PP_ERROR);
	/* no CR in the first 106 bytes: already hopeless */
	CHECK_EQ(pp_parse((const uint8_t *)h, 106, &pi), PP_ERROR);
	CHECK_EQ(pp_parse((const uint8_t *)h, 105, &pi), PP_NEED_MORE);
}

TEST(pp_v1_leaves_the_payload)
{
	const char *h = "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\nGET / HTTP/1.1\r\n\r\n";
	struct pp_info pi;

	CHECK_EQ(parse_str(h, &pi), strlen("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n"));
}

TEST(pp_v1_refuses_a_bad_field_before_the_line_ends)
{
	struct pp_info pi;

	CHECK_EQ(parse_str("PROXY TCP5", &pi), PP_ERROR);
	CHECK_EQ(parse_str("PROXY TCP4 1.2.3.256", &pi), PP_ERROR);
	CHECK_EQ(parse_str("PROXY TCP4 1.2.3.4 5.6.7.8 65536", &pi), PP_ERROR);
	CHECK_EQ(parse_str("PROXY TCP4 1.2.3.4 5.6.7.8 01", &pi), PP_ERROR);
	CHECK_EQ(parse_str("PROXY TCP4 01", &pi), PP_ERROR);
	CHECK_EQ(parse_str("PROXY TCP4 ::1", &pi), PP_ERROR);
	CHECK_EQ(parse_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 ", &pi), PP_ERROR);
	CHECK_EQ(parse_str("PROXY TCP6 1::2::3 ", &pi), PP_ERROR);
	/* longer than any IPv6 text form (45) */
	CHECK_EQ(parse_str("PROXY TCP6 0000:0000:0000:0000:0000:0000:000.000.000.0000", &pi),
		 PP_ERROR);
	CHECK_EQ(parse_str("PROXY TCP6 0000:0000:0000:0000:0000:0000:000.000.000.000", &pi),
		 PP_NEED_MORE);
	/* line ended by CR, LF still to come: the fields are final */
	CHECK_EQ(parse_str("PROXY TCP4 1.2.3.4 5.6.7.8 1\r", &pi), PP_ERROR);
	CHECK_EQ(parse_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r", &pi), PP_NEED_MORE);
}

/* --- v1 encoding --------------------------------------------------------- */

TEST(pp_v1_builds_the_spec_text)
{
	struct weir_addr s = A("192.168.0.1:56324"), d = A("192.168.0.11:443");
	struct weir_addr s6 = A("[2001:db8::1]:1"), d6 = A("[::1]:2");
	char out[PP_BUILD_MAX + 1];
	int n;

	n = pp_build_v1(out, sizeof(out), &s, &d);
	REQUIRE(n > 0);
	out[n] = '\0';
	CHECK_STR(out, "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n");
	n = pp_build_v1(out, sizeof(out), &s6, &d6);
	REQUIRE(n > 0);
	out[n] = '\0';
	CHECK_STR(out, "PROXY TCP6 2001:db8::1 ::1 1 2\r\n");
	n = pp_build_v1(out, sizeof(out), &s, &d6);
	REQUIRE(n > 0);
	out[n] = '\0';
	CHECK_STR(out, "PROXY TCP6 ::ffff:192.168.0.1 ::1 56324 2\r\n");
	n = pp_build_v1(out, sizeof(out), NULL, &d);
	REQUIRE(n > 0);
	out[n] = '\0';
	CHECK_STR(out, "PROXY UNKNOWN\r\n");
}

TEST(pp_v1_round_trips)
{
	static const char *const pairs[][2] = {
		{ "10.0.0.1:40000", "10.0.0.2:80" },
		{ "0.0.0.0:0", "255.255.255.255:65535" },
		{ "[2001:db8::1]:40000", "[2001:db8::2]:443" },
		{ "[::]:0", "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535" },
		{ "[::ffff:1.2.3.4]:5", "[fe80::1]:6" },
	};
	struct pp_info pi;

	for (size_t i = 0; i < ARRAY_SIZE(pairs); i++) {
		struct weir_addr s = A(pairs[i][0]), d = A(pairs[i][1]);

		REQUIRE(roundtrip(1, &s, &d, SOCK_STREAM, &pi) > 0);
		CHECK(!pi.local);
		CHECK_EQ(pi.proto, SOCK_STREAM);
		CHECK(addr_equal(&pi.src, &s));
		CHECK(addr_equal(&pi.dst, &d));
	}
}

TEST(pp_v1_mixed_families_become_v4_mapped)
{
	struct weir_addr s = A("192.0.2.1:1000"), d = A("[2001:db8::2]:80");
	struct pp_info pi;

	REQUIRE(roundtrip(1, &s, &d, SOCK_STREAM, &pi) > 0);
	CHECK(is_addr(&pi.src, "[::ffff:192.0.2.1]:1000"));
	CHECK(addr_equal(&pi.dst, &d));
	REQUIRE(roundtrip(1, &d, &s, SOCK_STREAM, &pi) > 0);
	CHECK(addr_equal(&pi.src, &d));
	CHECK(is_addr(&pi.dst, "[::ffff:192.0.2.1]:1000"));
}

TEST(pp_v1_unknown_round_trips)
{
	struct weir_addr d = A("10.0.0.2:80"), none;
	struct pp_info pi;

	memset(&none, 0, sizeof(none));
	CHECK_EQ(roundtrip(1, NULL, &d, 0, &pi), 15);
	CHECK(pi.local);
	CHECK_EQ(roundtrip(1, &none, &d, 0, &pi), 15);
	CHECK(pi.local);
	CHECK(is_unspec(&pi.src) && is_unspec(&pi.dst));
}

/* --- v2 parsing ---------------------------------------------------------- */

TEST(pp_v2_parses_tcp4)
{
	struct bytes h = B(SIG "\x21\x11\x00\x0c" V4BLK);
	struct pp_info pi;

	REQUIRE(parse(h, &pi) == 28);
	CHECK_EQ(pi.version, 2);
	CHECK(!pi.local);
	CHECK_EQ(pi.proto, SOCK_STREAM);
	CHECK(is_addr(&pi.src, "127.0.0.1:1234"));
	CHECK(is_addr(&pi.dst, "127.0.0.2:80"));
}

TEST(pp_v2_parses_udp6)
{
	struct bytes h = B(SIG "\x21\x22\x00\x24" V6BLK);
	struct pp_info pi;

	REQUIRE(parse(h, &pi) == 52);
	CHECK_EQ(pi.proto, SOCK_DGRAM);
	CHECK(is_addr(&pi.src, "[2001:db8::1]:1234"));
	CHECK(is_addr(&pi.dst, "[2001:db8::2]:443"));
}

TEST(pp_v2_skips_tlvs)
{
	/* ALPN "h2", an empty NOOP, a 0-length unknown type: 5 + 3 + 3 */
	struct bytes h = B(SIG "\x21\x11\x00\x17" V4BLK
			   "\x01\x00\x02h2" "\x04\x00\x00" "\xee\x00\x00" "payload");
	struct pp_info pi;

	CHECK_EQ(parse(h, &pi), 16 + 12 + 11);
	CHECK(is_addr(&pi.src, "127.0.0.1:1234"));
	check_splits("v2 with TLVs", (const uint8_t *)h.p, 39, &pi);
}

TEST(pp_v2_local_ignores_the_block)
{
	/* LOCAL: family byte and block are not looked at */
	struct bytes h = B(SIG "\x20\xff\x00\x05" "\x01\x02\x03\x04\x05" "x");
	struct bytes h0 = B(SIG "\x20\x00\x00\x00");
	struct pp_info pi;

	memset(&pi, 0x55, sizeof(pi));
	REQUIRE(parse(h, &pi) == 21);
	CHECK(pi.local);
	CHECK_EQ(pi.proto, 0);
	CHECK(is_unspec(&pi.src) && is_unspec(&pi.dst));
	CHECK_EQ(parse(h0, &pi), 16);
	CHECK(pi.local);
}

TEST(pp_v2_unix_and_unspec_are_local)
{
	uint8_t h[16 + 216];
	struct bytes unspec = B(SIG "\x21\x00\x00\x03" "abc");
	struct pp_info pi;

	memcpy(h, SIG "\x21\x31\x00\xd8", 16);
	memset(h + 16, 'u', 216);
	memset(&pi, 0x55, sizeof(pi));
	check_splits("v2 AF_UNIX", h, sizeof(h), &pi);
	CHECK(pi.local);
	CHECK_EQ(pi.proto, SOCK_STREAM);
	CHECK(is_unspec(&pi.src) && is_unspec(&pi.dst));

	memset(&pi, 0x55, sizeof(pi));
	CHECK_EQ(parse(unspec, &pi), 19);
	CHECK(pi.local);
	CHECK_EQ(pi.proto, 0);
	CHECK(is_unspec(&pi.src) && is_unspec(&pi.dst));
}

TEST(pp_v2_sanity_limit)
{
	static uint8_t h[PP_V2_MAX + 1];
	size_t body = PP_V2_MAX - PP_V2_HDR_LEN;
	struct pp_info pi;

	/* exactly PP_V2_MAX: the address block then one TLV filling the rest */
	memcpy(h, SIG "\x21\x11", 14);
	h[14] = (uint8_t)(body >> 8);
	h[15] = (uint8_t)body;
	memcpy(h + 16, V4BLK, 12);
	h[28] = 0xe0;
	h[29] = (uint8_t)((body - 15) >> 8);
	h[30] = (uint8_t)(body - 15);
	CHECK_EQ(pp_parse(h, PP_V2_MAX, &pi), PP_V2_MAX);
	CHECK_EQ(pp_parse(h, PP_V2_MAX - 1, &pi), PP_NEED_MORE);

	/* one more: refused as soon as the length field is in */
	if (body + 1 <= 0xffff) {
		body++;
		h[14] = (uint8_t)(body >> 8);
		h[15] = (uint8_t)body;
		CHECK_EQ(pp_parse(h, 16, &pi), PP_ERROR);
		CHECK_EQ(pp_parse(h, 15, &pi), PP_NEED_MORE);
	}
}

/* --- v2 encoding --------------------------------------------------------- */

TEST(pp_v2_builds_the_spec_bytes)
{
	struct weir_addr s = A("127.0.0.1:1234"), d = A("127.0.0.2:80");
	struct weir_addr s6 = A("[2001:db8::1]:1234"), d6 = A("[2001:db8::2]:443");
	struct bytes v4 = B(SIG "\x21\x11\x00\x0c" V4BLK);
	struct bytes v6 = B(SIG "\x21\x22\x00\x24" V6BLK);
	struct bytes local = B(SIG "\x20\x00\x00\x00");
	uint8_t out[PP_BUILD_MAX];

	REQUIRE(pp_build_v2(out, sizeof(out), &s, &d, SOCK_STREAM) == (int)v4.len);
	CHECK(memcmp(out, v4.p, v4.len) == 0);
	REQUIRE(pp_build_v2(out, sizeof(out), &s6, &d6, SOCK_DGRAM) == (int)v6.len);
	CHECK(memcmp(out, v6.p, v6.len) == 0);
	REQUIRE(pp_build_v2(out, sizeof(out), NULL, NULL, SOCK_STREAM) == (int)local.len);
	CHECK(memcmp(out, local.p, local.len) == 0);
}

TEST(pp_v2_round_trips)
{
	static const char *const pairs[][2] = {
		{ "10.0.0.1:40000", "10.0.0.2:80" },
		{ "0.0.0.0:0", "255.255.255.255:65535" },
		{ "[2001:db8::1]:40000", "[2001:db8::2]:443" },
		{ "[::]:0", "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535" },
	};
	static const int protos[] = { SOCK_STREAM, SOCK_DGRAM };
	struct pp_info pi;

	for (size_t i = 0; i < ARRAY_SIZE(pairs); i++) {
		struct weir_addr s = A(pairs[i][0]), d = A(pairs[i][1]);

		for (size_t j = 0; j < ARRAY_SIZE(protos); j++) {
			REQUIRE(roundtrip(2, &s, &d, protos[j], &pi) > 0);
			CHECK(!pi.local);
			CHECK_EQ(pi.proto, protos[j]);
			CHECK(addr_equal(&pi.src, &s));
			CHECK(addr_equal(&pi.dst, &d));
		}
	}
}

TEST(pp_v2_mixed_families_become_v4_mapped)
{
	struct weir_addr s = A("192.0.2.1:1000"), d = A("[2001:db8::2]:80");
	struct pp_info pi;

	CHECK_EQ(roundtrip(2, &s, &d, SOCK_STREAM, &pi), 52);
	CHECK(is_addr(&pi.src, "[::ffff:192.0.2.1]:1000"));
	CHECK(addr_equal(&pi.dst, &d));
}

TEST(pp_v2_local_and_unspec_round_trip)
{
	struct weir_addr d = A("10.0.0.2:80"), none;
	struct pp_info pi;

	memset(&none, 0, sizeof(none));
	CHECK_EQ(roundtrip(2, NULL, NULL, SOCK_STREAM, &pi), 16);
	CHECK(pi.local);
	CHECK_EQ(roundtrip(2, &none, &d, SOCK_STREAM, &pi), 16);
	CHECK(pi.local);
	CHECK(is_unspec(&pi.src) && is_unspec(&pi.dst));
}

TEST(pp_v2_build_refuses_other_protocols)
{
	struct weir_addr s = A("10.0.0.1:1"), d = A("10.0.0.2:2");
	uint8_t out[PP_BUILD_MAX];

	CHECK_EQ(pp_build_v2(out, sizeof(out), &s, &d, 0), -EINVAL);
	CHECK_EQ(pp_build_v2(out, sizeof(out), &s, &d, SOCK_RAW), -EINVAL);
}

TEST(pp_build_reports_enospc_at_every_short_cap)
{
	struct weir_addr s = A("[2001:db8::1]:40000"), d = A("[2001:db8::2]:443");
	uint8_t out[PP_BUILD_MAX];
	int n1 = pp_build_v1((char *)out, sizeof(out), &s, &d);
	int n2 = pp_build_v2(out, sizeof(out), &s, &d, SOCK_STREAM);

	REQUIRE(n1 > 0 && n2 > 0);
	for (int cap = 0; cap < n1; cap++)
		CHECK_EQ(pp_build_v1((char *)out, (size_t)cap, &s, &d), -ENOSPC);
	for (int cap = 0; cap < n2; cap++)
		CHECK_EQ(pp_build_v2(out, (size_t)cap, &s, &d, SOCK_STREAM), -ENOSPC);
	CHECK_EQ(pp_build_v1((char *)out, (size_t)n1, &s, &d), n1);
	CHECK_EQ(pp_build_v2(out, (size_t)n2, &s, &d, SOCK_STREAM), n2);
}

/* --- every split point, malformed corpus, non-PROXY data ----------------- */

static const struct bytes valid[] = {
	B("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n"),
	B("PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n"),
	B("PROXY TCP6 2001:db8::1 ::ffff:10.0.0.1 0 65535\r\n"),
	B("PROXY TCP6 ::1 ::2 1 2\r\n"),
	B("PROXY UNKNOWN\r\n"),
	B("PROXY UNKNOWN whatever 1 2\r\n"),
	B(SIG "\x21\x11\x00\x0c" V4BLK),
	B(SIG "\x21\x12\x00\x0c" V4BLK),
	B(SIG "\x21\x21\x00\x24" V6BLK),
	B(SIG "\x21\x11\x00\x11" V4BLK "\x01\x00\x02h2"),
	B(SIG "\x20\x00\x00\x00"),
	B(SIG "\x20\x11\x00\x0c" V4BLK),
	B(SIG "\x21\x00\x00\x00"),
};

TEST(pp_every_split_point_needs_more_then_parses)
{
	struct pp_info pi;
	char what[32];

	for (size_t i = 0; i < ARRAY_SIZE(valid); i++) {
		snprintf(what, sizeof(what), "valid[%zu]", i);
		check_splits(what, (const uint8_t *)valid[i].p, valid[i].len, &pi);
	}
}

static const struct bytes malformed[] = {
	/* v1 */
	B("PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n"),	/* double space */
	B("PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n"),
	B("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n"),	/* trailing space */
	B("PROXY TCP4 1.2.3.4\t5.6.7.8 1 2\r\n"),	/* tab */
	B("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"),		/* LF without CR */
	B("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX"),		/* CR without LF */
	B("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\r\n"),
	B("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\0\r\n"),
	B("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n"),		/* missing port */
	B("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n"),	/* extra field */
	B("PROXY TCP4\r\n"),
	B("PROXY \r\n"),
	B("PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n"),
	B("PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n"),
	B("PROXY UNKNOWNX\r\n"),
	B("PROXY TCP4 ::1 ::2 1 2\r\n"),		/* v6 in TCP4 */
	B("PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n"),	/* v4 in TCP6 */
	B("PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n"),
	B("PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n"),
	B("PROXY TCP4 1.2.3.4. 5.6.7.8 1 2\r\n"),
	B("PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n"),	/* leading zero in octet */
	B("PROXY TCP6 1::2::3 ::1 1 2\r\n"),
	B("PROXY TCP6 ::g ::1 1 2\r\n"),
	B("PROXY TCP6 [::1] ::2 1 2\r\n"),
	B("PROXY TCP6 fe80::1%eth0 ::2 1 2\r\n"),
	B("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n"),
	B("PROXY TCP4 1.2.3.4 5.6.7.8 123456 2\r\n"),
	B("PROXY TCP4 1.2.3.4 5.6.7.8 080 2\r\n"),	/* leading zero */
	B("PROXY TCP4 1.2.3.4 5.6.7.8 00 2\r\n"),
	B("PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n"),
	B("PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n"),
	B("PROXY TCP4 1.2.3.4 5.6.7.8 0x1 2\r\n"),
	/* valid fields, but 116 bytes > 107 */
	B("PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255 "
	  "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255 65535 65535\r\n"),
	B("PROXY UNKNOWN xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n"),
	/* v2 */
	B(SIG "\x11\x11\x00\x0c" V4BLK),		/* version 1 */
	B(SIG "\x31\x11\x00\x0c" V4BLK),		/* version 3 */
	B(SIG "\x01\x11\x00\x0c" V4BLK),		/* version 0 */
	B(SIG "\x22\x11\x00\x0c" V4BLK),		/* command 2 */
	B(SIG "\x2f\x11\x00\x0c" V4BLK),		/* command 15 */
	B(SIG "\x21\x13\x00\x0c" V4BLK),		/* transport 3 */
	B(SIG "\x21\x10\x00\x0c" V4BLK),		/* AF_INET, UNSPEC transport */
	B(SIG "\x21\x41\x00\x0c" V4BLK),		/* family 4 */
	B(SIG "\x21\x01\x00\x00"),			/* UNSPEC family, STREAM */
	B(SIG "\x21\x11\x00\x0b" V4BLK),		/* short AF_INET block */
	B(SIG "\x21\x21\x00\x23" V6BLK),		/* short AF_INET6 block */
	B(SIG "\x21\x31\x00\xd7"),			/* short AF_UNIX block */
#if PP_V2_MAX < 16 + 0xffff
	B(SIG "\x21\x11\xff\xff" V4BLK),		/* length over PP_V2_MAX */
#endif
	B(SIG "\x21\x11\x00\x11" V4BLK "\x01\x00\x05" "ab"),	/* TLV overrun */
	B(SIG "\x21\x11\x00\x12" V4BLK "\x01\x00\x00" "\x02\x00\x01"),
	B(SIG "\x21\x11\x00\x0d" V4BLK "\x01"),		/* 1 stray byte */
	B(SIG "\x21\x11\x00\x0e" V4BLK "\x01\x00"),	/* 2 stray bytes */
	B(SIG "\x21\x11\x00\x10" V4BLK "\x01\x00\x00" "\x02"),
};

TEST(pp_malformed_headers_are_errors)
{
	struct pp_info pi;

	CHECK(ARRAY_SIZE(malformed) >= 25);
	for (size_t i = 0; i < ARRAY_SIZE(malformed); i++) {
		int rc = parse(malformed[i], &pi);

		if (rc != PP_ERROR)
			unit_fail(__FILE__, __LINE__, "malformed[%zu] gave %d", i, rc);
	}
}

/* A prefix of a malformed header may need more; once refused, it stays
 * refused, and nothing along the way parses. */
TEST(pp_malformed_prefixes_never_parse)
{
	struct pp_info pi;

	for (size_t i = 0; i < ARRAY_SIZE(malformed); i++) {
		bool refused = false;

		for (size_t k = 0; k <= malformed[i].len; k++) {
			int rc = pp_parse((const uint8_t *)malformed[i].p, k, &pi);

			if (rc == PP_ERROR)
				refused = true;
			else if (rc != PP_NEED_MORE || refused)
				unit_fail(__FILE__, __LINE__,
					  "malformed[%zu] prefix %zu gave %d", i, k, rc);
		}
	}
}

TEST(pp_non_proxy_data)
{
	static const struct bytes other[] = {
		B("GET / HTTP/1.1\r\n"),
		B("SSH-2.0-OpenSSH_9.6\r\n"),
		B("\x16\x03\x01\x02\x00\x01"),		/* TLS ClientHello */
		B("proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n"),
		B("PROXY\r\n"),
		B("PROXYTCP4"),
		B("PRO "),
		B("\r\n\r\n\0\r\nQUIX\n\x21"),
		B("\r\n\r\n"
		  "GET"),
		B("\r\r"),
		B("\0"),
	};
	struct pp_info pi;

	for (size_t i = 0; i < ARRAY_SIZE(other); i++) {
		int rc = parse(other[i], &pi);

		if (rc != PP_NOT_PROXY)
			unit_fail(__FILE__, __LINE__, "other[%zu] gave %d", i, rc);
	}
}

TEST(pp_short_prefixes_need_more)
{
	struct pp_info pi;

	CHECK_EQ(pp_parse(NULL, 0, &pi), PP_NEED_MORE);
	CHECK_EQ(parse_str("P", &pi), PP_NEED_MORE);
	CHECK_EQ(parse_str("PROXY", &pi), PP_NEED_MORE);
	CHECK_EQ(parse_str("PROXY ", &pi), PP_NEED_MORE);
	CHECK_EQ(parse_str("\r", &pi), PP_NEED_MORE);
	CHECK_EQ(pp_parse((const uint8_t *)SIG, 12, &pi), PP_NEED_MORE);
}

TEST(pp_out_is_untouched_unless_parsed)
{
	struct pp_info pi, before;

	memset(&pi, 0x5a, sizeof(pi));
	before = pi;
	CHECK_EQ(parse(malformed[0], &pi), PP_ERROR);
	CHECK_EQ(parse_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 2", &pi), PP_NEED_MORE);
	CHECK_EQ(parse_str("GET /", &pi), PP_NOT_PROXY);
	CHECK(memcmp(&pi, &before, sizeof(pi)) == 0);
}
