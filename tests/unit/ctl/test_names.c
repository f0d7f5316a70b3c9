/* test_names.c - weirctl's names (ctl/names.h): addresses read as ipvsadm
 * reads them, and listing marks written as ipvsadm writes names, through
 * fake lookups (a small hosts table, /etc/services' numbers). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "core/addr.h"
#include "ctl/list.h"
#include "ctl/names.h"
#include "unit.h"

static const struct { const char *name, *addr; } hosts[] = {
	{ "www.example.test", "192.0.2.10" },
	{ "web1.example.test", "10.9.0.1" },
	{ "a-very-long-host-name-for-the-cut.example.test", "10.9.0.7" },
	{ "v6.example.test", "2001:db8::10" },
};
static const struct { const char *name; int port, proto; } services[] = {
	{ "http", 80, IPPROTO_TCP }, { "https", 443, IPPROTO_TCP },
	{ "domain", 53, IPPROTO_TCP }, { "domain", 53, IPPROTO_UDP },
};

static int fake_host_addr(const char *name, struct in_addr *out)
{
	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++)
		if (strcmp(hosts[i].name, name) == 0)
			return inet_pton(AF_INET, hosts[i].addr, out) == 1 ? 0 : -1;
	return -1;
}

static int fake_service_port(const char *name, int proto)
{
	for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++)
		if (strcmp(services[i].name, name) == 0 && services[i].proto == proto)
			return services[i].port;
	return -1;
}

static int fake_host_name(int af, const void *addr, char *out, size_t len)
{
	char s[INET6_ADDRSTRLEN];

	inet_ntop(af, addr, s, sizeof(s));
	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++)
		if (strcmp(hosts[i].addr, s) == 0) {
			snprintf(out, len, "%s", hosts[i].name);
			return 0;
		}
	return -1;
}

static int fake_service_name(uint16_t port, int proto, char *out, size_t len)
{
	for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++)
		if (services[i].port == port && services[i].proto == proto) {
			snprintf(out, len, "%s", services[i].name);
			return 0;
		}
	return -1;
}

static const struct names_ops fake = {
	fake_host_addr, fake_service_port, fake_host_name, fake_service_name,
};

static const char *numeric(const char *arg, int proto)
{
	static char out[ADDR_STRLEN + 8];

	if (names_address(&fake, arg, proto, out, sizeof(out)) != 0)
		return "(no address)";
	return out;
}

TEST(names_addresses_read_as_ipvsadm)
{
	CHECK_STR(numeric("www.example.test:http", IPPROTO_TCP), "192.0.2.10:80");
	CHECK_STR(numeric("www.example.test", IPPROTO_TCP), "192.0.2.10");
	CHECK_STR(numeric("web1.example.test:8080", IPPROTO_TCP), "10.9.0.1:8080");
	CHECK_STR(numeric("192.0.2.1:https", IPPROTO_TCP), "192.0.2.1:443");
	CHECK_STR(numeric("www.example.test:domain", IPPROTO_UDP), "192.0.2.10:53");
	CHECK_STR(numeric("[2001:db8::1]:https", IPPROTO_TCP), "[2001:db8::1]:443");
	/* inet_aton's forms, as ipvsadm */
	CHECK_STR(numeric("10.1:80", IPPROTO_TCP), "10.0.0.1:80");
	/* a service name of the other protocol, an unknown host or service */
	CHECK_STR(numeric("www.example.test:https", IPPROTO_UDP), "(no address)");
	CHECK_STR(numeric("nosuch.example.test:80", IPPROTO_TCP), "(no address)");
	CHECK_STR(numeric("www.example.test:nosuch", IPPROTO_TCP), "(no address)");
	CHECK_STR(numeric("www.example.test:", IPPROTO_TCP), "(no address)");
	CHECK_STR(numeric("www.example.test:65536", IPPROTO_TCP), "(no address)");
	/* all digits is no address (ipvsadm's str_is_digit); IPv6 names are not read */
	CHECK_STR(numeric("8080", IPPROTO_TCP), "(no address)");
	CHECK_STR(numeric("", IPPROTO_TCP), "(no address)");
	CHECK_STR(numeric("v6.example.test:80", IPPROTO_TCP), "(no address)");
	CHECK_STR(numeric("[www.example.test]:80", IPPROTO_TCP), "(no address)");
	CHECK_STR(numeric("[2001:db8::1]80", IPPROTO_TCP), "(no address)");
}

/* A listing line with marks, filled. */
static const char *fill(const char *in)
{
	static char out[1024];
	struct buf b = { 0 };

	names_fill(&fake, in, strlen(in), &b);
	snprintf(out, sizeof(out), "%.*s", (int)b.len, buf_head(&b));
	buf_free(&b);
	return out;
}

/* A mark made by list.c: <prefix> + <addr>, cut and padded. */
static const char *mark(const char *prefix, int proto, const char *addr, int cut, int pad)
{
	static char out[256];
	struct weir_addr a;
	struct buf b = { 0 };

	if (addr_parse(addr, false, &a) != 0)
		return "(bad test address)";
	list_addr_cell(&b, true, prefix, proto, &a, cut, pad);
	snprintf(out, sizeof(out), "%.*s", (int)b.len, buf_head(&b));
	buf_free(&b);
	return out;
}

TEST(names_fill_writes_ipvsadms_cells)
{
	char line[512];

	snprintf(line, sizeof(line), "%s rr\n", mark("TCP  ", IPPROTO_TCP, "192.0.2.10:80", 28, 0));
	CHECK_STR(fill(line), "TCP  www.example.test:http rr\n");
	snprintf(line, sizeof(line), "%s Masq\n", mark("  -> ", IPPROTO_TCP, "10.9.0.1:80", 28, 33));
	CHECK_STR(fill(line), "  -> web1.example.test:http       Masq\n");
	/* no name: the numbers; a port without a name: its number */
	snprintf(line, sizeof(line), "%s|", mark("  -> ", IPPROTO_UDP, "10.9.0.3:5353", 28, 33));
	CHECK_STR(fill(line), "  -> 10.9.0.3:5353               |");
	/* ipvsadm cuts an IPv4 name at 28 (the caller says so), never pads past it */
	snprintf(line, sizeof(line), "%s|", mark("  -> ", IPPROTO_TCP, "10.9.0.7:443", 28, 33));
	CHECK_STR(fill(line), "  -> a-very-long-host-name-for-th|");
	/* IPv6: in brackets, no cut (the caller passes 0) */
	snprintf(line, sizeof(line), "%s|", mark("", IPPROTO_TCP, "[2001:db8::10]:443", 0, 0));
	CHECK_STR(fill(line), "[v6.example.test]:https|");
	/* -S: no cut, no pad; ipvsadm's 60-byte buffer keeps 59 characters */
	snprintf(line, sizeof(line), "-a%s -w 1",
		 mark(" -r ", IPPROTO_TCP, "10.9.0.7:8080", 0, 0));
	CHECK_STR(fill(line), "-a -r a-very-long-host-name-for-the-cut.example.test:8080 -w 1");
	/* text around marks is kept; a broken mark stays as it came */
	CHECK_STR(fill("plain\n"), "plain\n");
	CHECK_STR(fill("a\x01" "1 2\x02" "b"), "a\x01" "1 2\x02" "b");
	CHECK_STR(fill("a\x01" "0 0 6 nonsense\x1f\x02" "b"), "a\x01" "0 0 6 nonsense\x1f\x02" "b");
	CHECK_STR(fill("unended\x01" "0 0 6 1.2.3.4:80"), "unended\x01" "0 0 6 1.2.3.4:80");
	/* widths beyond any listing's are no mark */
	CHECK_STR(fill("\x01" "0 2010102099999 6 1.2.3.4:80\x1f\x02"),
		  "\x01" "0 2010102099999 6 1.2.3.4:80\x1f\x02");
	CHECK_STR(fill("\x01" "-1 0 6 1.2.3.4:80\x1f\x02"), "\x01" "-1 0 6 1.2.3.4:80\x1f\x02");
}

TEST(names_numeric_cell_matches_ipvsadm_columns)
{
	struct weir_addr a;
	struct buf b = { 0 };

	REQUIRE(addr_parse("10.9.0.1:80", false, &a) == 0);
	list_addr_cell(&b, false, "  -> ", IPPROTO_TCP, &a, 28, 33);
	buf_append(&b, "|", 1);
	CHECK_EQ(b.len, 34);
	CHECK(memcmp(buf_head(&b), "  -> 10.9.0.1:80                 |", 34) == 0);
	buf_free(&b);
}
