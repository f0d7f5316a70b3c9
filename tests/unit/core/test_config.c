/* test_config.c - the config file's meaning: a complete config, and the
 * "FILE:LINE: reason" of each mistake; netmasks and scheduler flags. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/config.h"
#include "core/log.h"
#include "sched/sched.h"
#include "unit.h"

static int parse(const char *text, struct weir_config *c, char *err)
{
	err[0] = '\0';
	return config_parse("t.conf", text, strlen(text), c, err);
}

static const char *astr(const struct weir_addr *a)
{
	static char buf[4][ADDR_STRLEN];
	static int k;

	return addr_str(a, buf[k++ & 3]);
}

/* Parsing <text> fails with exactly <want>; the config holds nothing. */
static void check_bad(const char *text, const char *want, int line)
{
	struct weir_config c;
	char err[CONFIG_ERR_MAX];
	int rc = parse(text, &c, err);

	if (rc == 0)
		unit_fail(__FILE__, line, "parsed, want \"%s\"", want);
	else if (strcmp(err, want) != 0)
		unit_fail(__FILE__, line, "error \"%s\", want \"%s\"", err, want);
	if (c.services || c.nservices || c.socket_path)
		unit_fail(__FILE__, line, "config not empty after an error");
	spec_free(&c);
}
#define CHECK_BAD(text, want) check_bad(text, want, __LINE__)

static const char full_config[] =
	"# a complete config\n"                                  /* 1 */
	"workers 4;\n"                                           /* 2 */
	"log_level debug;\n"                                     /* 3 */
	"socket \"/run/weir test.sock\";\n"                      /* 4 */
	"grace 10s;\n"                                           /* 5 */
	"\n"                                                     /* 6 */
	"service tcp 192.0.2.1:80 {\n"                           /* 7 */
	"    scheduler sh sh-fallback sh-port;\n"                /* 8 */
	"    persistent 600;\n"                                  /* 9 */
	"    netmask 255.255.255.0;\n"                           /* 10 */
	"    server 10.0.0.1:8080 weight 3 upper 100 lower 50 forward masq;\n" /* 11 */
	"    server 10.0.0.2 forward tunnel;\n"                  /* 12 */
	"    server 10.0.0.3:8080 {\n"                           /* 13 */
	"        weight 0;\n"                                    /* 14 */
	"        upper 7;\n"                                     /* 15 */
	"        lower 2;\n"                                     /* 16 */
	"        forward route;\n"                               /* 17 */
	"    }\n"                                                /* 18 */
	"    server 10.0.0.4 forward nat;\n"                     /* 19 */
	"}\n"                                                    /* 20 */
	"service udp 192.0.2.1:53 {\n"                           /* 21 */
	"    scheduler mh mh-fallback,mh-port;\n"                /* 22 */
	"    server 10.0.0.5:53 forward dr;\n"                   /* 23 */
	"    server 10.0.0.6:53 forward tun;\n"                  /* 24 */
	"}\n"                                                    /* 25 */
	"service tcp [2001:db8::1]:443 {\n"                      /* 26 */
	"    scheduler wrr;\n"                                   /* 27 */
	"    persistent;\n"                                      /* 28 */
	"    netmask 64;\n"                                      /* 29 */
	"    connect_timeout 500ms;\n"                           /* 30 */
	"    idle_timeout 2m;\n"                                 /* 31 */
	"    max_conn 1000;\n"                                   /* 32 */
	"    retries 0;\n"                                       /* 33 */
	"    server [2001:db8::10]:8443 weight 2;\n"             /* 34 */
	"    proxy tcp;\n"                                       /* 35 */
	"}\n"                                                    /* 36 */
	"service udp 192.0.2.2:53 { }\n";                        /* 37 */

TEST(config_full_globals)
{
	struct weir_config c;
	char err[CONFIG_ERR_MAX];

	REQUIRE(parse(full_config, &c, err) == 0);
	CHECK_EQ(c.workers, 4);
	CHECK_EQ(c.log_level, LOG_DEBUG);
	CHECK_STR(c.socket_path, "/run/weir test.sock");
	CHECK_EQ(c.grace_ms, 10000);
	CHECK_EQ(c.nservices, 4);
	spec_free(&c);
}

TEST(config_full_packet_service)
{
	struct weir_config c;
	char err[CONFIG_ERR_MAX];
	const struct service_spec *s;
	const struct server_spec *r;

	REQUIRE(parse(full_config, &c, err) == 0);
	REQUIRE(c.nservices == 4);
	s = &c.services[0];
	CHECK_EQ(s->proto, IPPROTO_TCP);
	CHECK_STR(astr(&s->addr), "192.0.2.1:80");
	CHECK_EQ(s->line, 7);
	CHECK_EQ(s->proxy, NULL);
	CHECK_STR(s->sched, "sh");
	CHECK_EQ(s->sched_flags, SCHED_F_FALLBACK | SCHED_F_PORT);
	CHECK_EQ(s->persist_s, 600);
	CHECK_EQ(s->persist_prefix, 24);
	CHECK_EQ(s->connect_timeout_ms, DEFAULT_CONNECT_TIMEOUT_MS);
	CHECK_EQ(s->idle_timeout_ms, DEFAULT_IDLE_TIMEOUT_MS);
	CHECK_EQ(s->maxconn, 0);
	CHECK_EQ(s->retries, 3);
	REQUIRE(s->nservers == 4);
	r = &s->servers[0]; /* NAT keeps its own port */
	CHECK_STR(astr(&r->addr), "10.0.0.1:8080");
	CHECK_EQ(r->fwd, FWD_MASQ);
	CHECK_EQ(r->weight, 3);
	CHECK_EQ(r->upper, 100);
	CHECK_EQ(r->lower, 50);
	CHECK_EQ(r->line, 11);
	r = &s->servers[1]; /* TUN takes the service's port */
	CHECK_STR(astr(&r->addr), "10.0.0.2:80");
	CHECK_EQ(r->fwd, FWD_TUNNEL);
	CHECK_EQ(r->weight, 1);
	CHECK_EQ(r->upper, 0);
	CHECK_EQ(r->line, 12);
	r = &s->servers[2]; /* options in a block; DR takes the service's port */
	CHECK_STR(astr(&r->addr), "10.0.0.3:80");
	CHECK_EQ(r->fwd, FWD_ROUTE);
	CHECK_EQ(r->weight, 0);
	CHECK_EQ(r->upper, 7);
	CHECK_EQ(r->lower, 2);
	CHECK_EQ(r->line, 13);
	r = &s->servers[3]; /* NAT without a port: the service's */
	CHECK_STR(astr(&r->addr), "10.0.0.4:80");
	CHECK_EQ(r->fwd, FWD_MASQ);
	spec_free(&c);
}

TEST(config_full_udp_and_v6_proxy_service)
{
	struct weir_config c;
	char err[CONFIG_ERR_MAX];
	const struct service_spec *s;

	REQUIRE(parse(full_config, &c, err) == 0);
	REQUIRE(c.nservices == 4);
	s = &c.services[1];
	CHECK_EQ(s->proto, IPPROTO_UDP);
	CHECK_STR(astr(&s->addr), "192.0.2.1:53");
	CHECK_STR(s->sched, "mh");
	CHECK_EQ(s->sched_flags, SCHED_F_FALLBACK | SCHED_F_PORT);
	CHECK_EQ(s->persist_s, 0);
	REQUIRE(s->nservers == 2);
	CHECK_EQ(s->servers[0].fwd, FWD_ROUTE);
	CHECK_EQ(s->servers[1].fwd, FWD_TUNNEL);
	CHECK_EQ(s->line, 21);

	s = &c.services[2];
	CHECK_EQ(s->proto, IPPROTO_TCP);
	CHECK_EQ(addr_family(&s->addr), AF_INET6);
	CHECK_STR(astr(&s->addr), "[2001:db8::1]:443");
	/* "proxy" is read first even when written last */
	CHECK_EQ(s->proxy, mode_find("tcp"));
	CHECK_STR(s->sched, "wrr");
	CHECK_EQ(s->persist_s, DEFAULT_PERSIST_S);
	CHECK_EQ(s->persist_prefix, 64);
	CHECK_EQ(s->connect_timeout_ms, 500);
	CHECK_EQ(s->idle_timeout_ms, 120000);
	CHECK_EQ(s->maxconn, 1000);
	CHECK_EQ(s->retries, 0);
	REQUIRE(s->nservers == 1);
	CHECK_STR(astr(&s->servers[0].addr), "[2001:db8::10]:8443");
	CHECK_EQ(s->servers[0].weight, 2);

	s = &c.services[3];
	CHECK_EQ(s->proto, IPPROTO_UDP);
	CHECK_STR(s->sched, DEFAULT_SCHED);
	CHECK_EQ(s->nservers, 0);
	CHECK(s->servers == NULL);
	spec_free(&c);
}

TEST(config_defaults)
{
	struct weir_config c;
	char err[CONFIG_ERR_MAX];

	REQUIRE(parse("# empty\n", &c, err) == 0);
	CHECK_EQ(c.workers, 0);
	CHECK_EQ(c.log_level, LOG_INFO);
	CHECK(c.socket_path == NULL);
	CHECK_EQ(c.grace_ms, DEFAULT_GRACE_MS);
	CHECK_EQ(c.nservices, 0);
	spec_free(&c);
	REQUIRE(parse("workers auto; grace 5; log_level error;", &c, err) == 0);
	CHECK_EQ(c.workers, 0);
	CHECK_EQ(c.grace_ms, 5000);
	CHECK_EQ(c.log_level, LOG_ERR);
	spec_free(&c);
	REQUIRE(parse("workers 256; grace 250ms; log_level warn;", &c, err) == 0);
	CHECK_EQ(c.workers, 256);
	CHECK_EQ(c.grace_ms, 250);
	CHECK_EQ(c.log_level, LOG_WARN);
	spec_free(&c);
}

TEST(config_syntax_errors_name_the_file)
{
	CHECK_BAD("workers 4\nlog_level info;\n", "t.conf:1: missing ';' after '4'");
	CHECK_BAD("service tcp 192.0.2.1:80 {\n  server 10.0.0.1:80;\n",
		  "t.conf:3: unexpected end of file: missing '}'");
	CHECK_BAD("workers 4;\n}\n", "t.conf:2: unexpected '}'");
	CHECK_BAD("socket \"/tmp/x\n\";", "t.conf:1: unterminated string");
}

TEST(config_bad_globals)
{
	CHECK_BAD("workers 0;", "t.conf:1: workers: '0' is not 'auto' or a number in 1..256");
	CHECK_BAD("\nworkers 257;", "t.conf:2: workers: '257' is not 'auto' or a number in 1..256");
	CHECK_BAD("workers many;", "t.conf:1: workers: 'many' is not 'auto' or a number in 1..256");
	CHECK_BAD("log_level loud;",
		  "t.conf:1: log_level: 'loud' is not one of error, warn, info, debug");
	CHECK_BAD("grace soon;", "t.conf:1: grace: 'soon' is not a duration (e.g. 500ms, 2s, 5m)");
	CHECK_BAD("socket \"\";", "t.conf:1: socket: path must be 1..107 bytes");
	CHECK_BAD("a;", "t.conf:1: unknown directive 'a' at top level");
	CHECK_BAD("workers 4;\n\n  server 10.0.0.1:80;",
		  "t.conf:3: unknown directive 'server' at top level");
	CHECK_BAD("workers;", "t.conf:1: 'workers' takes 1 argument, not 0");
	CHECK_BAD("workers 1 2;", "t.conf:1: 'workers' takes 1 argument, not 2");
	CHECK_BAD("workers 2 { }", "t.conf:1: 'workers' does not take a block");
}

TEST(config_socket_path_length)
{
	struct weir_config c;
	char err[CONFIG_ERR_MAX], text[300], path[120];

	memset(path, 'p', 107);
	path[107] = '\0';
	snprintf(text, sizeof(text), "socket %s;", path);
	REQUIRE(parse(text, &c, err) == 0);
	CHECK_EQ(strlen(c.socket_path), 107);
	spec_free(&c);
	strcat(path, "p");
	snprintf(text, sizeof(text), "socket %s;", path);
	CHECK_BAD(text, "t.conf:1: socket: path must be 1..107 bytes");
}

TEST(config_bad_service_header)
{
	CHECK_BAD("service tcp 192.0.2.1:80;", "t.conf:1: 'service' needs a { } block");
	CHECK_BAD("service tcp { }", "t.conf:1: 'service' takes 2 arguments, not 1");
	CHECK_BAD("service sctp 192.0.2.1:80 { }",
		  "t.conf:1: service: protocol 'sctp' is not tcp or udp");
	CHECK_BAD("service tcp 192.0.2.1 { }",
		  "t.conf:1: service: '192.0.2.1' is not an address IP:PORT or [IPv6]:PORT");
	CHECK_BAD("service tcp 192.0.2.1:0 { }",
		  "t.conf:1: service tcp 192.0.2.1:0: service 192.0.2.1:0 needs a port (port 0 only with -p)");
	CHECK_BAD("service tcp 192.0.2.1:80 { }\n\nservice tcp 192.0.2.1:80 { }\n",
		  "t.conf:3: service tcp 192.0.2.1:80: declared twice");
	/* a mode of the other protocol */
	CHECK_BAD("service tcp 192.0.2.1:53 {\n\n proxy udp;\n}",
		  "t.conf:1: service tcp 192.0.2.1:53: --proxy udp needs a UDP service (-u)");
	CHECK_BAD("service udp 192.0.2.1:53 {\n proxy udp;\n send_proxy v1;\n}",
		  "t.conf:1: service udp 192.0.2.1:53: send_proxy v1 is a text header for "
		  "streams: a UDP service sends v2 (a header in front of each datagram)");
	CHECK_BAD("service udp 192.0.2.1:53 {\n ops on;\n}",
		  "t.conf:1: service udp 192.0.2.1:53: one-packet scheduling (-o) is not "
		  "supported by weir for packet-mode services: it is built for UDP proxy services "
		  "(--proxy udp); the XDP data path keeps one flow per client");
}

TEST(config_same_vip_tcp_and_udp_are_two_services)
{
	struct weir_config c;
	char err[CONFIG_ERR_MAX];

	REQUIRE(parse("service tcp 192.0.2.1:53 { }\nservice udp 192.0.2.1:53 { }\n"
		      "service tcp [::1]:53 { }", &c, err) == 0);
	CHECK_EQ(c.nservices, 3);
	spec_free(&c);
}

TEST(config_bad_service_options)
{
	CHECK_BAD("service tcp 192.0.2.1:80 {\n  scheduler rr;\n  scheduler nope;\n}",
		  "t.conf:3: scheduler: unknown scheduler 'nope'");
	CHECK_BAD("service tcp 192.0.2.1:80 {\n  scheduler sh bogus;\n}",
		  "t.conf:2: scheduler: unknown flag 'bogus'");
	CHECK_BAD("service tcp 192.0.2.1:80 {\n  scheduler;\n}",
		  "t.conf:2: 'scheduler' takes 1 or more arguments, not 0");
	CHECK_BAD("service tcp 192.0.2.1:80 {\n  persistent 500ms;\n}",
		  "t.conf:2: persistent: timeout must be 1s to 31 days");
	CHECK_BAD("service tcp 192.0.2.1:80 {\n  persistent 0;\n}",
		  "t.conf:2: persistent: timeout must be 1s to 31 days");
	CHECK_BAD("service tcp 192.0.2.1:80 {\n  persistent forever;\n}",
		  "t.conf:2: persistent: 'forever' is not a duration (e.g. 500ms, 2s, 5m)");
	CHECK_BAD("service tcp 192.0.2.1:80 {\n  netmask 255.0.255.0;\n}",
		  "t.conf:2: netmask: '255.0.255.0' is not a netmask");
	CHECK_BAD("service tcp [::1]:80 {\n  netmask 255.255.255.0;\n}",
		  "t.conf:2: netmask: '255.255.255.0' is not a netmask");
	CHECK_BAD("service tcp 192.0.2.1:80 {\n  proxy ftp;\n}",
		  "t.conf:2: proxy: 'ftp' is not one of none, tcp, http, redirect, udp, dns");
	CHECK_BAD("service tcp 192.0.2.1:80 {\n  connect_timeout 5x;\n}",
		  "t.conf:2: connect_timeout: '5x' is not a duration (e.g. 500ms, 2s, 5m)");
	CHECK_BAD("service tcp 192.0.2.1:80 {\n  idle_timeout -1;\n}",
		  "t.conf:2: idle_timeout: '-1' is not a duration (e.g. 500ms, 2s, 5m)");
	CHECK_BAD("service tcp 192.0.2.1:80 {\n  max_conn -1;\n}",
		  "t.conf:2: max_conn: '-1' is not a number in 0..4294967295");
	CHECK_BAD("service tcp 192.0.2.1:80 {\n  retries 101;\n}",
		  "t.conf:2: retries: '101' is not a number in 0..100");
	CHECK_BAD("service tcp 192.0.2.1:80 {\n  workers 4;\n}",
		  "t.conf:2: unknown directive 'workers' in a service");
	CHECK_BAD("service tcp 192.0.2.1:80 {\n  retries 1 { }\n}",
		  "t.conf:2: 'retries' does not take a block");
}

/* A directive taking 0 or 1 argument must not be described as taking "0
 * or more". */
TEST(config_arg_count_message_for_optional_argument)
{
	struct weir_config c;
	char err[CONFIG_ERR_MAX];

	REQUIRE(parse("service tcp 192.0.2.1:80 {\n  persistent 1 2;\n}", &c, err) != 0);
	CHECK(strncmp(err, "t.conf:2: 'persistent' takes 0", 30) == 0);
	CHECK(strstr(err, "or more") == NULL);
	spec_free(&c);
}

TEST(config_bad_servers)
{
	CHECK_BAD("service tcp 192.0.2.1:80 {\n  server nonsense;\n}",
		  "t.conf:2: server: 'nonsense' is not an address IP:PORT or [IPv6]:PORT");
	CHECK_BAD("service tcp 192.0.2.1:80 {\n  server 10.0.0.1:80 weight;\n}",
		  "t.conf:2: server: 'weight' needs a value");
	CHECK_BAD("service tcp 192.0.2.1:80 {\n  server 10.0.0.1:80 colour red;\n}",
		  "t.conf:2: server: unknown option 'colour' (weight, upper, lower, forward, url, state, check, location, backup)");
	CHECK_BAD("service tcp 192.0.2.1:80 {\n  server 10.0.0.1:80 weight 65536;\n}",
		  "t.conf:2: weight: '65536' is not a number in 0..65535");
	CHECK_BAD("service tcp 192.0.2.1:80 {\n  server 10.0.0.1:80 upper x;\n}",
		  "t.conf:2: upper: 'x' is not a number in 0..2147483647");
	CHECK_BAD("service tcp 192.0.2.1:80 {\n  server 10.0.0.1:80 forward nat6;\n}",
		  "t.conf:2: forward: 'nat6' is not one of route, tunnel, masq, fullnat");
	CHECK_BAD("service tcp 192.0.2.1:80 {\n  server 10.0.0.1:80 {\n    weight 1 2;\n  }\n}",
		  "t.conf:3: 'weight' takes 1 argument");
	CHECK_BAD("service tcp 192.0.2.1:80 {\n  server 10.0.0.1:80 {\n\n    lower x;\n  }\n}",
		  "t.conf:4: lower: 'x' is not a number in 0..2147483647");
	CHECK_BAD("service tcp 192.0.2.1:80 {\n  server 10.0.0.1:80 {\n    bogus 1;\n  }\n}",
		  "t.conf:3: server: unknown option 'bogus' (weight, upper, lower, forward, url, state, check, location, backup)");
	CHECK_BAD("service tcp 192.0.2.1:80 {\n  server 10.0.0.1:80 lower 5;\n}",
		  "t.conf:2: server 10.0.0.1:80: Numerical result out of range "
		  "(lower threshold 5 above upper 0)");
	CHECK_BAD("service tcp 192.0.2.1:80 {\n  server [::1]:80;\n}",
		  "t.conf:2: server [::1]:80: real server [::1]:80 is not of the service's "
		  "address family");
	CHECK_BAD("service tcp 192.0.2.1:80 {\n  server 10.0.0.1:80;\n  server 10.0.0.1:80;\n}",
		  "t.conf:3: server 10.0.0.1:80: declared twice in this service");
	/* DR servers share the service's port: :81 is the same server as :80 */
	CHECK_BAD("service tcp 192.0.2.1:80 {\n  server 10.0.0.1:80;\n  server 10.0.0.1:81;\n}",
		  "t.conf:3: server 10.0.0.1:81: declared twice in this service");
}

/* docs/config.md: "A server without a port takes the service's port." --
 * in a proxy service too, as weirctl -a -r RIP does. */
TEST(config_proxy_server_without_port_takes_the_service_port)
{
	struct weir_config c;
	char err[CONFIG_ERR_MAX];
	int rc;

	rc = parse("service tcp 192.0.2.1:80 {\n  proxy tcp;\n  server 10.0.0.1;\n}", &c, err);
	CHECK_EQ(rc, 0);
	if (rc) {
		unit_fail(__FILE__, __LINE__, "refused: %s", err);
		return;
	}
	REQUIRE(c.nservices == 1 && c.services[0].nservers == 1);
	CHECK_STR(astr(&c.services[0].servers[0].addr), "10.0.0.1:80");
	spec_free(&c);
}

TEST(config_nat_servers_on_one_ip_differ_by_port)
{
	struct weir_config c;
	char err[CONFIG_ERR_MAX];

	REQUIRE(parse("service tcp 192.0.2.1:80 {\n"
		      "  server 10.0.0.1:80 forward masq;\n"
		      "  server 10.0.0.1:81 forward masq;\n}\n"
		      "service tcp 192.0.2.1:81 {\n  proxy tcp;\n"
		      "  server 10.0.0.1:80;\n  server 10.0.0.1:81;\n}\n", &c, err) == 0);
	REQUIRE(c.nservices == 2);
	CHECK_EQ(c.services[0].nservers, 2);
	CHECK_EQ(c.services[1].nservers, 2);
	CHECK_STR(astr(&c.services[1].servers[1].addr), "10.0.0.1:81");
	spec_free(&c);
}

TEST(config_error_line_is_the_directive_line)
{
	/* the error of a directive inside a block names its own line */
	CHECK_BAD("workers 2;\n"
		  "service tcp 192.0.2.1:80 {\n"
		  "  scheduler rr;\n"
		  "  # a comment\n"
		  "\n"
		  "  server 10.0.0.1:80 weight 2;\n"
		  "  server 10.0.0.2:80 weight heavy;\n"
		  "}\n",
		  "t.conf:7: weight: 'heavy' is not a number in 0..65535");
}

TEST(config_load_reads_a_file)
{
	char path[] = "/tmp/weir-test-config-XXXXXX", err[CONFIG_ERR_MAX];
	const char text[] = "workers 3;\nservice tcp 192.0.2.1:80 {\n  bogus;\n}\n";
	struct weir_config c;
	int fd = mkstemp(path);

	REQUIRE(fd >= 0);
	REQUIRE(write(fd, "workers 3;\n", 11) == 11);
	REQUIRE(config_load(path, &c, err) == 0);
	CHECK_EQ(c.workers, 3);
	spec_free(&c);
	REQUIRE(ftruncate(fd, 0) == 0);
	REQUIRE(pwrite(fd, text, sizeof(text) - 1, 0) == (ssize_t)sizeof(text) - 1);
	close(fd);
	CHECK(config_load(path, &c, err) != 0);
	CHECK(strncmp(err, path, strlen(path)) == 0);
	CHECK_STR(err + strlen(path), ":3: unknown directive 'bogus' in a service");
	CHECK(c.services == NULL);
	unlink(path);
	CHECK_EQ(config_load(path, &c, err), -ENOENT);
	CHECK(strstr(err, path) != NULL);
	CHECK(config_load("/tmp", &c, err) != 0);
	CHECK(strstr(err, "not a regular file") != NULL);
}

TEST(config_netmask_parse)
{
	uint8_t p = 99;

	CHECK_EQ(netmask_parse("255.255.255.0", AF_INET, &p), 0);
	CHECK_EQ(p, 24);
	CHECK_EQ(netmask_parse("255.255.255.255", AF_INET, &p), 0);
	CHECK_EQ(p, 32);
	CHECK_EQ(netmask_parse("255.255.128.0", AF_INET, &p), 0);
	CHECK_EQ(p, 17);
	CHECK_EQ(netmask_parse("128.0.0.0", AF_INET, &p), 0);
	CHECK_EQ(p, 1);
	CHECK_EQ(netmask_parse("0.0.0.0", AF_INET, &p), 0);
	CHECK_EQ(p, 0);
	CHECK_EQ(netmask_parse("16", AF_INET, &p), 0);
	CHECK_EQ(p, 16);
	CHECK_EQ(netmask_parse("32", AF_INET, &p), 0);
	CHECK_EQ(p, 32);
	p = 99;
	CHECK_EQ(netmask_parse("33", AF_INET, &p), -EINVAL);
	CHECK_EQ(netmask_parse("255.0.255.0", AF_INET, &p), -EINVAL);
	CHECK_EQ(netmask_parse("255.255.255.1", AF_INET, &p), -EINVAL);
	CHECK_EQ(netmask_parse("0.255.255.255", AF_INET, &p), -EINVAL);
	CHECK_EQ(netmask_parse("255.255.255", AF_INET, &p), -EINVAL);
	CHECK_EQ(netmask_parse("", AF_INET, &p), -EINVAL);
	CHECK_EQ(netmask_parse("/24", AF_INET, &p), -EINVAL);
	CHECK_EQ(p, 99);
}

TEST(config_netmask_parse_v6_is_a_prefix)
{
	uint8_t p = 99;

	CHECK_EQ(netmask_parse("64", AF_INET6, &p), 0);
	CHECK_EQ(p, 64);
	CHECK_EQ(netmask_parse("128", AF_INET6, &p), 0);
	CHECK_EQ(p, 128);
	CHECK_EQ(netmask_parse("33", AF_INET6, &p), 0);
	CHECK_EQ(p, 33);
	p = 99;
	CHECK_EQ(netmask_parse("129", AF_INET6, &p), -EINVAL);
	CHECK_EQ(netmask_parse("ffff:ffff::", AF_INET6, &p), -EINVAL);
	CHECK_EQ(netmask_parse("255.255.255.0", AF_INET6, &p), -EINVAL);
	CHECK_EQ(p, 99);
}

TEST(config_sched_flags_parse)
{
	uint32_t f = 99;
	char longs[200];

	CHECK_EQ(sched_flags_parse("sh-fallback", &f), 0);
	CHECK_EQ(f, SCHED_F_FALLBACK);
	CHECK_EQ(sched_flags_parse("sh-port", &f), 0);
	CHECK_EQ(f, SCHED_F_PORT);
	CHECK_EQ(sched_flags_parse("sh-fallback,sh-port", &f), 0);
	CHECK_EQ(f, SCHED_F_FALLBACK | SCHED_F_PORT);
	CHECK_EQ(sched_flags_parse("mh-port,mh-fallback", &f), 0);
	CHECK_EQ(f, SCHED_F_FALLBACK | SCHED_F_PORT);
	CHECK_EQ(sched_flags_parse("mh-fallback", &f), 0);
	CHECK_EQ(f, SCHED_F_FALLBACK);
	CHECK_EQ(sched_flags_parse("sh-port,bogus", &f), -EINVAL);
	CHECK_EQ(sched_flags_parse("SH-PORT", &f), -EINVAL);
	CHECK_EQ(sched_flags_parse("sh-port sh-fallback", &f), -EINVAL);
	memset(longs, 'a', sizeof(longs) - 1);
	longs[sizeof(longs) - 1] = '\0';
	CHECK_EQ(sched_flags_parse(longs, &f), -EINVAL);
}
