/* test_metrics_http.c - the metrics listener's request heads: GET and HEAD
 * accepted (query dropped), 405 for other methods, 414 for long paths, 400
 * for anything malformed (RFC 9112 request line and header fields); the
 * Host check against DNS rebinding and its config row, metrics_hosts. */
#include <stdio.h>
#include <stdlib.h>

#include "core/buf.h"
#include "core/config.h"
#include "ctl/metrics_http.h"
#include "unit.h"

static struct mhttp_req parse(const char *head)
{
	struct mhttp_req r;

	memset(&r, 0x5a, sizeof(r));
	mhttp_parse(head, strlen(head), &r);
	return r;
}

static void check_status(const char *head, int want, int line)
{
	struct mhttp_req r = parse(head);

	if (r.status != want)
		unit_fail(__FILE__, line, "status %d, want %d for \"%s\"", r.status, want, head);
}
#define CHECK_STATUS(head, want) check_status(head, want, __LINE__)

TEST(mhttp_get_and_head)
{
	struct mhttp_req r;

	r = parse("GET /metrics HTTP/1.1\r\nHost: localhost:9100\r\nAccept: */*\r\n\r\n");
	CHECK_EQ(r.status, 0);
	CHECK_STR(r.method, "GET");
	CHECK_STR(r.path, "/metrics");
	CHECK(!r.head);
	r = parse("HEAD /status HTTP/1.0\r\n\r\n");
	CHECK_EQ(r.status, 0);
	CHECK_STR(r.method, "HEAD");
	CHECK_STR(r.path, "/status");
	CHECK(r.head);
	r = parse("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK_EQ(r.status, 0);
	CHECK_STR(r.path, "/");
	/* what follows the empty line is not the head's business */
	r = parse("GET /x HTTP/1.1\r\nHost: h\r\n\r\nGARBAGE \x01\r\n");
	CHECK_EQ(r.status, 0);
	CHECK_STR(r.path, "/x");
	/* header values may hold tabs, blanks, and bytes above 0x7f */
	r = parse("GET /metrics HTTP/1.1\r\nHost: h\r\nUser-Agent: Prometheus/2.45\t(x)\r\n"
		  "X-Odd: \xc3\xa9t\xc3\xa9\r\nEmpty:\r\nTchars!#$%&'*+-.^_`|~: v\r\n\r\n");
	CHECK_EQ(r.status, 0);
}

TEST(mhttp_query_is_dropped)
{
	struct mhttp_req r;

	r = parse("GET /metrics?name[]=weir_up&x=1 HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK_EQ(r.status, 0);
	CHECK_STR(r.path, "/metrics");
	r = parse("GET /status? HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK_EQ(r.status, 0);
	CHECK_STR(r.path, "/status");
	r = parse("GET /a?b?c HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK_EQ(r.status, 0);
	CHECK_STR(r.path, "/a");
}

TEST(mhttp_other_methods_are_405)
{
	static const char *const methods[] = { "POST", "PUT", "DELETE", "OPTIONS", "get", "Head",
					       "PATCH", "BREW" };

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		char head[128];
		struct mhttp_req r;

		snprintf(head, sizeof(head), "%s /metrics HTTP/1.1\r\nHost: x\r\n\r\n", methods[i]);
		r = parse(head);
		CHECK_EQ(r.status, 405);
		CHECK_STR(r.method, methods[i]);
		CHECK_STR(r.path, "/metrics");
	}
	/* a method of 15 characters is still a method; 16 is not */
	CHECK_STATUS("ABCDEFGHIJKLMNO / HTTP/1.1\r\nHost: h\r\n\r\n", 405);
	CHECK_STATUS("ABCDEFGHIJKLMNOP / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}

TEST(mhttp_long_path_is_414)
{
	char head[1200], path[1100];
	struct mhttp_req r;

	/* 255 characters fit */
	path[0] = '/';
	memset(path + 1, 'a', 254);
	path[255] = '\0';
	snprintf(head, sizeof(head), "GET %s HTTP/1.1\r\nHost: h\r\n\r\n", path);
	r = parse(head);
	CHECK_EQ(r.status, 0);
	CHECK_EQ(strlen(r.path), 255);
	/* 256 do not */
	path[255] = 'a';
	path[256] = '\0';
	snprintf(head, sizeof(head), "GET %s HTTP/1.1\r\nHost: h\r\n\r\n", path);
	CHECK_STATUS(head, 414);
	memset(path + 1, 'b', 1000);
	path[1001] = '\0';
	snprintf(head, sizeof(head), "GET %s HTTP/1.1\r\nHost: h\r\n\r\n", path);
	CHECK_STATUS(head, 414);
	/* the query does not count */
	path[200] = '?';
	snprintf(head, sizeof(head), "GET %s HTTP/1.1\r\nHost: h\r\n\r\n", path);
	r = parse(head);
	CHECK_EQ(r.status, 0);
	CHECK_EQ(strlen(r.path), 200);
}

TEST(mhttp_bad_request_lines_are_400)
{
	static const char *const bad[] = {
		"",
		"\r\n\r\n",
		"GET /metrics HTTP/1.1",                      /* no CRLF at all */
		"GET /metrics HTTP/1.1\n\n",                  /* bare LF */
		"GET /metrics\r\nHost: h\r\n\r\n",            /* HTTP/0.9: no version */
		"GET\r\nHost: h\r\n\r\n",
		"GET /metrics \r\nHost: h\r\n\r\n",
		"GET /metrics HTTP/2.0\r\nHost: h\r\n\r\n",
		"GET /metrics HTTP/1.2\r\nHost: h\r\n\r\n",
		"GET /metrics HTTP/1.10\r\nHost: h\r\n\r\n",
		"GET /metrics http/1.1\r\nHost: h\r\n\r\n",
		"GET /metrics HTTP/1.1 \r\nHost: h\r\n\r\n",
		" GET /metrics HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET\t/metrics HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /met rics HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /met\trics HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /met\x7frics HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /met\x01rics HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /metrics\rHTTP/1.1\r\nHost: h\r\n\r\n",
		"G(ET /metrics HTTP/1.1\r\nHost: h\r\n\r\n",  /* not a token */
		"GE:T /metrics HTTP/1.1\r\nHost: h\r\n\r\n",
		"G\xc3\x89T /metrics HTTP/1.1\r\nHost: h\r\n\r\n",
		" /metrics HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET  HTTP/1.1\r\nHost: h\r\n\r\n",           /* empty target */
	};

	/* each has a Host: it is the request line that is refused */
	CHECK_STATUS("GET /metrics HTTP/1.1\r\nHost: h\r\n\r\n", 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_status(bad[i], 400, __LINE__);
	/* RFC 9112 3.2: an HTTP/1.1 request must name its host */
	CHECK_STATUS("GET /metrics HTTP/1.1\r\n\r\n", 400);
	CHECK_STATUS("GET /metrics HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);
	CHECK_STATUS("GET /metrics HTTP/1.0\r\n\r\n", 0);
	/* runs of blanks around the target are taken as one (RFC 9112 3 lets
	 * a recipient; the HTTP proxy does the same with the same parser) */
	CHECK_STR(parse("GET  /metrics HTTP/1.1\r\nHost: h\r\n\r\n").path, "/metrics");
	CHECK_STR(parse("GET /metrics  HTTP/1.1\r\nHost: h\r\n\r\n").path, "/metrics");
	/* an absolute-form target names the path after the authority */
	CHECK_STR(parse("GET http://h:9100/status?x HTTP/1.1\r\nHost: h\r\n\r\n").path,
		  "/status");
}

TEST(mhttp_bad_header_lines_are_400)
{
	static const char *const bad[] = {
		"GET / HTTP/1.0\r\nHost : x\r\n\r\n",         /* blank before the colon */
		"GET / HTTP/1.0\r\nHost\t: x\r\n\r\n",
		"GET / HTTP/1.0\r\n Host: x\r\n\r\n",         /* obsolete line folding */
		"GET / HTTP/1.0\r\nHost: x\r\n continued\r\n\r\n",
		"GET / HTTP/1.0\r\n\tHost: x\r\n\r\n",
		"GET / HTTP/1.0\r\nHost x\r\n\r\n",           /* no colon */
		"GET / HTTP/1.0\r\nHost\r\n\r\n",
		"GET / HTTP/1.0\r\n: x\r\n\r\n",              /* no name */
		"GET / HTTP/1.0\r\nHo(st: x\r\n\r\n",         /* not a token */
		"GET / HTTP/1.0\r\nHo\"st: x\r\n\r\n",
		"GET / HTTP/1.0\r\nH\xc3\xa9: x\r\n\r\n",
		"GET / HTTP/1.0\r\nX-A: a\nb\r\n\r\n",        /* bare LF */
		"GET / HTTP/1.0\r\nX-A: a\rb\r\n\r\n",        /* bare CR */
		"GET / HTTP/1.0\r\nHost: x\nX-A: b\r\n\r\n",
		"GET / HTTP/1.0\r\nX-A: a\x01z\r\n\r\n",      /* control characters */
		"GET / HTTP/1.0\r\nX-A: a\x1fz\r\n\r\n",
		"GET / HTTP/1.0\r\nX-A: a\x7fz\r\n\r\n",
		"GET / HTTP/1.0\r\nHost: x\r\nAccept: y",     /* cut in a line */
	};

	/* HTTP/1.0: no Host needed, it is the header line that is refused */
	CHECK_STATUS("GET / HTTP/1.0\r\nHost: x\r\n\r\n", 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct mhttp_req r = parse(bad[i]);

		if (r.status != 400)
			unit_fail(__FILE__, __LINE__, "status %d, want 400 for case %zu", r.status, i);
	}
	/* a NUL in a value, with an explicit length */
	{
		static const char head[] = "GET / HTTP/1.0\r\nX-A: a\0b\r\n\r\n";
		struct mhttp_req r;

		mhttp_parse(head, sizeof(head) - 1, &r);
		CHECK_EQ(r.status, 400);
	}
}

/* The length is honoured: bytes past it are not read (the head is not
 * NUL-terminated in the listener's buffer). */
TEST(mhttp_reads_only_len_bytes)
{
	static const char head[] = "GET /metrics HTTP/1.1\r\nHost: h\r\n\r\n";
	char *copy = malloc(sizeof(head) - 1); /* no terminator: ASan sees overreads */
	struct mhttp_req r;

	REQUIRE(copy);
	memcpy(copy, head, sizeof(head) - 1);
	mhttp_parse(copy, sizeof(head) - 1, &r);
	CHECK_EQ(r.status, 0);
	CHECK_STR(r.path, "/metrics");
	for (size_t len = 0; len < sizeof(head) - 1; len++) {
		mhttp_parse(copy, len, &r);
		/* cut before the request line's CRLF: 400 */
		if (len < sizeof("GET /metrics HTTP/1.1\r\n") - 1 && r.status != 400)
			unit_fail(__FILE__, __LINE__, "prefix of %zu bytes: status %d", len, r.status);
	}
	free(copy);
}

/* A refused head leaves no method or path behind but for 405 and 414. */
TEST(mhttp_fields_on_error)
{
	struct mhttp_req r = parse("GET /metrics HTTP/3\r\n\r\n");

	CHECK_EQ(r.status, 400);
	CHECK_STR(r.method, "");
	CHECK_STR(r.path, "");
	CHECK(!r.head);
	r = parse("HEAD /metrics HTTP/1.1\r\nBad Header: x\r\n\r\n");
	CHECK_EQ(r.status, 400);
	CHECK(!r.head);
	CHECK_STR(r.method, "");
}

/* --- the Host check (DNS rebinding) ------------------------------------------ */

static void check_host(const struct weir_config *c, const char *host, int want, int line)
{
	int got = mhttp_host_check(host, c);

	if (got != want)
		unit_fail(__FILE__, line, "Host \"%s\": %d, want %d", host, got, want);
}
#define CHECK_HOST(c, host, want) check_host(c, host, want, __LINE__)

TEST(mhttp_host_literals_and_localhost)
{
	static const char *const ok[] = {
		"127.0.0.1", "127.0.0.1:9100", "10.1.2.3:1", "[::1]", "[::1]:9100",
		"[2001:db8::5]:65535", "[::ffff:127.0.0.1]:80", "localhost", "localhost:9100",
		"LOCALHOST", "LocalHost:80", "localhost.", "localhost.:9100",
	};
	static const char *const bad[] = {
		"", "evil.example", "evil.example:9100", "EVIL.EXAMPLE.", "localhost.evil.example",
		"127.0.0.1.evil.example", "evil-127.0.0.1", "::1", "[::1", "[::1]x", "[::1]:",
		"[::1]:99999", "[evil.example]", "127.0.0.1:", "127.0.0.1:x", "127.0.0.1:80:80",
		"localhost:123456", "localhost..", ".", ":80", "127.1", "localhost:-1",
		"localhost:+80", "local host", "localhost\t",
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		CHECK_HOST(NULL, ok[i], 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_HOST(NULL, bad[i], 421);
}

TEST(mhttp_host_names_of_the_config)
{
	static const char conf[] = "metrics_hosts weir.example LB1.Internal.;\n";
	struct weir_config c;
	char err[CONFIG_ERR_MAX];

	REQUIRE(config_parse("t.conf", conf, strlen(conf), &c, err) == 0);
	CHECK_HOST(&c, "weir.example", 0);
	CHECK_HOST(&c, "WEIR.EXAMPLE:9100", 0);
	CHECK_HOST(&c, "weir.example.:9100", 0);
	CHECK_HOST(&c, "lb1.internal", 0);
	CHECK_HOST(&c, "weir.example.evil", 421);
	CHECK_HOST(&c, "x.weir.example", 421);
	CHECK_HOST(&c, "weir.exampl", 421);
	CHECK_HOST(&c, "evil.example", 421);
	CHECK_HOST(&c, "localhost", 0);
	spec_free(&c);
}

/* The request's Host: from the header or an absolute target; HTTP/1.1
 * without one is malformed (400), HTTP/1.0 may leave it out. */
TEST(mhttp_request_host)
{
	struct mhttp_req r;

	r = parse("GET /metrics HTTP/1.1\r\nHost: Evil.Example:9100\r\n\r\n");
	CHECK_EQ(r.status, 0);
	CHECK_STR(r.host, "Evil.Example:9100");
	CHECK_EQ(mhttp_req_host(&r, NULL), 421);
	r = parse("GET /metrics HTTP/1.1\r\nHost:  127.0.0.1:9100 \r\n\r\n");
	CHECK_EQ(mhttp_req_host(&r, NULL), 0);
	r = parse("GET http://evil.example/metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
	CHECK_EQ(mhttp_req_host(&r, NULL), 421);
	r = parse("GET /metrics HTTP/1.1\r\n\r\n");
	CHECK_EQ(r.status, 400);
	r = parse("GET /metrics HTTP/1.1\r\nHost:\r\n\r\n");
	CHECK_EQ(r.status == 400 || mhttp_req_host(&r, NULL) == 421, true);
	r = parse("GET /metrics HTTP/1.0\r\n\r\n");
	CHECK_EQ(r.status, 0);
	CHECK_EQ(mhttp_req_host(&r, NULL), 0);
	r = parse("GET /metrics HTTP/1.0\r\nHost: evil.example\r\n\r\n");
	CHECK_EQ(mhttp_req_host(&r, NULL), 421);
	r = parse("BREW /metrics HTTP/1.1\r\nHost: evil.example\r\n\r\n");
	CHECK_EQ(r.status, 405);
	CHECK_EQ(mhttp_req_host(&r, NULL), 421);
	{
		/* a Host too long for the copy is refused, not cut */
		char head[600];

		snprintf(head, sizeof(head), "GET / HTTP/1.1\r\nHost: %0300d\r\n\r\n", 1);
		r = parse(head);
		CHECK_EQ(r.status, 0);
		CHECK(r.host_long);
		CHECK_EQ(mhttp_req_host(&r, NULL), 421);
	}
}

/* metrics_hosts in the config: lower case, no trailing dot, written back;
 * bad names and too many refused. */
TEST(mhttp_config_metrics_hosts)
{
	static const char conf[] = "metrics 127.0.0.1:9100;\nmetrics_hosts Weir.Example. lb-1.internal;\n";
	static const char *const bad[] = {
		"metrics_hosts evil/x;", "metrics_hosts \"a b\";", "metrics_hosts .x;",
		"metrics_hosts -x;", "metrics_hosts a b c d e f g h i;", "metrics_hosts;",
		"metrics_hosts [::1];",
	};
	struct weir_config c, again;
	struct buf w = { 0 };
	char err[CONFIG_ERR_MAX], longer[400];

	REQUIRE(config_parse("t.conf", conf, strlen(conf), &c, err) == 0);
	CHECK_STR(c.metrics_hosts[0], "weir.example");
	CHECK_STR(c.metrics_hosts[1], "lb-1.internal");
	CHECK_STR(c.metrics_hosts[2], "");
	config_write(&c, &w);
	buf_append(&w, "", 1);
	CHECK(strstr(buf_head(&w), "\nmetrics_hosts weir.example lb-1.internal;\n") != NULL);
	REQUIRE(config_parse("t2.conf", buf_head(&w), w.len - 1, &again, err) == 0);
	CHECK_STR(again.metrics_hosts[1], "lb-1.internal");
	spec_free(&again);
	spec_free(&c);
	buf_free(&w);
	/* none by default, and none written */
	REQUIRE(config_parse("t.conf", "metrics 127.0.0.1:9100;", 23, &c, err) == 0);
	CHECK_STR(c.metrics_hosts[0], "");
	config_write(&c, &w);
	buf_append(&w, "", 1);
	CHECK(strstr(buf_head(&w), "metrics_hosts") == NULL);
	spec_free(&c);
	buf_free(&w);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (config_parse("t.conf", bad[i], strlen(bad[i]), &c, err) == 0) {
			unit_fail(__FILE__, __LINE__, "'%s' accepted", bad[i]);
			spec_free(&c);
		} else if (!strstr(err, "metrics_hosts")) {
			unit_fail(__FILE__, __LINE__, "'%s': %s", bad[i], err);
		}
	}
	memset(longer, 0, sizeof(longer));
	memcpy(longer, "metrics_hosts ", 14);
	memset(longer + 14, 'a', 260);
	strcat(longer, ";");
	CHECK(config_parse("t.conf", longer, strlen(longer), &c, err) != 0);
	CHECK(strstr(err, "metrics_hosts") != NULL);
}

/* metrics PORT: the loopback address; an address as given; nonsense refused
 * with the reason. */
TEST(mhttp_config_metrics_port_alone)
{
	static const char *const bad[] = { "metrics 99999;", "metrics 0;", "metrics 91x;",
					   "metrics :9100;", "metrics 1234567;" };
	struct weir_config c;
	struct buf w = { 0 };
	char err[CONFIG_ERR_MAX], a[ADDR_STRLEN];

	REQUIRE(config_parse("t.conf", "metrics 9100;", 13, &c, err) == 0);
	CHECK_STR(addr_str(&c.metrics, a), "127.0.0.1:9100");
	config_write(&c, &w);
	buf_append(&w, "", 1);
	CHECK(strstr(buf_head(&w), "metrics 127.0.0.1:9100;\n") != NULL);
	spec_free(&c);
	buf_free(&w);
	REQUIRE(config_parse("t.conf", "metrics [::1]:9100;", 19, &c, err) == 0);
	CHECK_STR(addr_str(&c.metrics, a), "[::1]:9100");
	spec_free(&c);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (config_parse("t.conf", bad[i], strlen(bad[i]), &c, err) == 0) {
			unit_fail(__FILE__, __LINE__, "'%s' accepted", bad[i]);
			spec_free(&c);
		} else if (!strstr(err, "t.conf:1: metrics:")) {
			unit_fail(__FILE__, __LINE__, "'%s': %s", bad[i], err);
		}
	}
}
