/* test_addr.c - "IP:PORT" / "[IPv6]:PORT" parsing, printing and ordering. */
#include <arpa/inet.h>
#include <errno.h>

#include "core/addr.h"
#include "core/util.h"
#include "unit.h"

/* Parses <s> (port required) or fails the test. */
static struct weir_addr A(const char *s)
{
	struct weir_addr a;

	if (addr_parse(s, false, &a) != 0) {
		unit_fail(__FILE__, __LINE__, "addr_parse(\"%s\") failed", s);
		memset(&a, 0, sizeof(a));
	}
	return a;
}

TEST(addr_parse_v4_with_port)
{
	struct weir_addr a;
	char buf[ADDR_STRLEN];

	REQUIRE(addr_parse("192.0.2.1:80", false, &a) == 0);
	CHECK_EQ(addr_family(&a), AF_INET);
	CHECK_EQ(addr_port(&a), 80);
	CHECK_EQ(a.u.in.sin_addr.s_addr, htonl(0xc0000201));
	CHECK_EQ(addr_len(&a), sizeof(struct sockaddr_in));
	CHECK_STR(addr_ip_str(&a, buf), "192.0.2.1");
	REQUIRE(addr_parse("10.0.0.1:65535", false, &a) == 0);
	CHECK_EQ(addr_port(&a), 65535);
	REQUIRE(addr_parse("10.0.0.1:0", false, &a) == 0);
	CHECK_EQ(addr_port(&a), 0);
}

TEST(addr_parse_v6_bracketed)
{
	struct weir_addr a;
	uint8_t b[16];
	static const uint8_t want[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

	REQUIRE(addr_parse("[2001:db8::1]:443", false, &a) == 0);
	CHECK_EQ(addr_family(&a), AF_INET6);
	CHECK_EQ(addr_port(&a), 443);
	CHECK_EQ(addr_bytes(&a, b), 16);
	CHECK(memcmp(b, want, 16) == 0);
	CHECK_EQ(addr_len(&a), sizeof(struct sockaddr_in6));
}

TEST(addr_parse_port_optional)
{
	struct weir_addr a;

	CHECK_EQ(addr_parse("192.0.2.1", false, &a), -EINVAL);
	REQUIRE(addr_parse("192.0.2.1", true, &a) == 0);
	CHECK_EQ(addr_family(&a), AF_INET);
	CHECK_EQ(addr_port(&a), 0);

	CHECK_EQ(addr_parse("[::1]", false, &a), -EINVAL);
	REQUIRE(addr_parse("[::1]", true, &a) == 0);
	CHECK_EQ(addr_family(&a), AF_INET6);
	CHECK_EQ(addr_port(&a), 0);

	CHECK_EQ(addr_parse("::1", false, &a), -EINVAL);
	REQUIRE(addr_parse("::1", true, &a) == 0);
	CHECK_EQ(addr_family(&a), AF_INET6);
	CHECK_EQ(addr_port(&a), 0);
}

/* "::1:80" is an IPv6 address (0:0:0:0:0:0:1:80), not ::1 port 80. */
TEST(addr_parse_bare_v6_is_never_split)
{
	struct weir_addr a, b;
	char buf[ADDR_STRLEN];
	uint8_t bytes[16];
	static const uint8_t want[16] = { [13] = 1, [15] = 0x80 };

	CHECK_EQ(addr_parse("::1:80", false, &a), -EINVAL);
	REQUIRE(addr_parse("::1:80", true, &a) == 0);
	CHECK_EQ(addr_family(&a), AF_INET6);
	CHECK_EQ(addr_port(&a), 0);
	CHECK_EQ(addr_bytes(&a, bytes), 16);
	CHECK(memcmp(bytes, want, 16) == 0);
	REQUIRE(addr_parse("[::1]:80", false, &b) == 0);
	CHECK(!addr_equal(&a, &b));
	REQUIRE(addr_parse("2001:db8::10", true, &a) == 0);
	CHECK_STR(addr_ip_str(&a, buf), "2001:db8::10");
}

TEST(addr_parse_rejects_invalid)
{
	static const char *const bad[] = {
		"", ":", ":80", "1.2.3.4:", "1.2.3.4:65536", "1.2.3.4:99999999999",
		"1.2.3.4:-1", "1.2.3.4:80x", "1.2.3.4: 80", "1.2.3.256:80", "1.2.3:80",
		"host.example:80", "[::1", "[::1]80", "[::1]:", "[]:80", "[::1]:65536",
		"[::g]:80", "[::1]]:80", "::1]:80",
		"[0000:0000:0000:0000:0000:0000:0000:0000:0000:0001]:80",
		"0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0001",
	};
	struct weir_addr a;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		int rc1 = addr_parse(bad[i], false, &a), rc2 = addr_parse(bad[i], true, &a);

		if (rc1 != -EINVAL || rc2 != -EINVAL)
			unit_fail(__FILE__, __LINE__, "addr_parse(\"%s\") = %d / %d, want -EINVAL",
				  bad[i], rc1, rc2);
	}
}

TEST(addr_str_round_trip)
{
	static const char *const in[] = {
		"0.0.0.0:0", "192.0.2.1:80", "255.255.255.255:65535",
		"[::]:0", "[::1]:80", "[2001:db8::1]:443", "[::ffff:192.0.2.1]:8080",
		"[2001:db8:1:2:3:4:5:6]:1",
	};

	for (size_t i = 0; i < ARRAY_SIZE(in); i++) {
		struct weir_addr a = A(in[i]), b;
		char buf[ADDR_STRLEN];

		CHECK_STR(addr_str(&a, buf), in[i]);
		REQUIRE(addr_parse(buf, false, &b) == 0);
		CHECK(addr_equal(&a, &b));
		CHECK_EQ(addr_cmp(&a, &b), 0);
	}
}

TEST(addr_str_longest_v6_fits)
{
	struct weir_addr a = A("[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535");
	char buf[ADDR_STRLEN];

	CHECK_STR(addr_str(&a, buf), "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
	a = A("[::ffff:255.255.255.255]:65535");
	CHECK_STR(addr_str(&a, buf), "[::ffff:255.255.255.255]:65535");
}

TEST(addr_set_port_and_from_sockaddr)
{
	struct weir_addr a = A("192.0.2.1:80"), b = A("[::1]:80"), c;
	char buf[ADDR_STRLEN];

	addr_set_port(&a, 8080);
	addr_set_port(&b, 9090);
	CHECK_STR(addr_str(&a, buf), "192.0.2.1:8080");
	CHECK_STR(addr_str(&b, buf), "[::1]:9090");
	addr_from_sockaddr(&c, &b.u.sa, sizeof(b.u.in6));
	CHECK(addr_equal(&b, &c));
	addr_from_sockaddr(&c, &a.u.sa, sizeof(a.u.in));
	CHECK(addr_equal(&a, &c));
}

/* The sign of addr_cmp(<x>, <y>). */
static int cmp_sign(const char *x, const char *y)
{
	struct weir_addr a = A(x), b = A(y);
	int c = addr_cmp(&a, &b), d = addr_cmp(&b, &a);

	if ((c > 0) - (c < 0) != -((d > 0) - (d < 0)))
		unit_fail(__FILE__, __LINE__, "addr_cmp(%s, %s) not antisymmetric", x, y);
	return (c > 0) - (c < 0);
}

TEST(addr_cmp_orders_v4_first_then_bytes_then_port)
{
	/* family first: the largest v4 before the smallest v6 */
	CHECK_EQ(cmp_sign("255.255.255.255:65535", "[::]:0"), -1);
	CHECK_EQ(cmp_sign("[::]:0", "0.0.0.0:0"), 1);
	/* then the address bytes, as numbers, not as text */
	CHECK_EQ(cmp_sign("9.0.0.0:80", "10.0.0.0:80"), -1);
	CHECK_EQ(cmp_sign("192.0.2.1:9999", "192.0.2.2:1"), -1);
	CHECK_EQ(cmp_sign("[2001:db8::2]:1", "[2001:db8::10]:1"), -1);
	CHECK_EQ(cmp_sign("[2001:db8::1]:65535", "[2001:db9::]:0"), -1);
	/* then the port, as a number */
	CHECK_EQ(cmp_sign("192.0.2.1:80", "192.0.2.1:443"), -1);
	CHECK_EQ(cmp_sign("192.0.2.1:65535", "192.0.2.1:0"), 1);
	CHECK_EQ(cmp_sign("[::1]:9", "[::1]:10"), -1);
	CHECK_EQ(cmp_sign("192.0.2.1:80", "192.0.2.1:80"), 0);
}

TEST(addr_equal_needs_the_same_family)
{
	struct weir_addr v4 = A("0.0.0.0:0"), v6 = A("[::]:0");
	struct weir_addr x = A("192.0.2.1:80"), y = A("192.0.2.1:81");

	CHECK(!addr_equal(&v4, &v6));
	CHECK(!addr_equal(&x, &y));
	addr_set_port(&y, 80);
	CHECK(addr_equal(&x, &y));
}

/* IPv4 text is weir's own formatter: the same as inet_ntop() for every
 * octet value, in every position. */
TEST(addr_ip_str_v4_matches_inet_ntop)
{
	for (unsigned v = 0; v < 256; v++) {
		struct weir_addr a;
		char mine[ADDR_STRLEN], ref[INET_ADDRSTRLEN];
		uint8_t *b = (uint8_t *)&a.u.in.sin_addr.s_addr;

		memset(&a, 0, sizeof(a));
		a.u.in.sin_family = AF_INET;
		b[0] = (uint8_t)v;
		b[1] = (uint8_t)(255 - v);
		b[2] = (uint8_t)(v * 7);
		b[3] = (uint8_t)(v / 3);
		inet_ntop(AF_INET, &a.u.in.sin_addr, ref, sizeof(ref));
		CHECK_STR(addr_ip_str(&a, mine), ref);
	}
}
