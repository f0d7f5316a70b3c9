/* test_http.c - the HTTP head parser and body framing (src/proto/http.c),
 * with the request-smuggling corpus: every request here must be refused
 * before a byte of it could reach a server. */
#include <stdlib.h>
#include <string.h>

#include "proto/http.h"
#include "unit.h"

/* Parses a whole request (head, then body); returns the status it is
 * refused with, or 0 when it parses completely. */
static int verdict(const char *req, size_t len)
{
	struct http_msg m;
	struct http_head h;
	int n;
	long k;

	http_msg_init(&m, HTTP_REQUEST, 4096);
	n = http_head_parse(&m, req, len, &h);
	if (n < 0)
		return m.status;
	if (n == 0)
		return -1; /* incomplete */
	k = http_body_scan(&m, req + n, len - (size_t)n);
	if (k < 0)
		return m.status;
	return m.complete ? 0 : -1;
}

#define V(s) verdict(s, sizeof(s) - 1)

static const struct { const char *name; const char *req; size_t len; int status; } smuggling[] = {
#define S(name, req, status) { name, req, sizeof(req) - 1, status }
	S("CL and TE", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
	S("TE and CL", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 400),
	S("CL twice same", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", 400),
	S("CL twice differ", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx", 400),
	S("CL list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 1\r\n\r\nx", 400),
	S("CL negative", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400),
	S("CL plus", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +1\r\n\r\nx", 400),
	S("CL hex", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x1\r\n\r\nx", 400),
	S("CL inner space", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 1\r\n\r\nx", 400),
	S("CL overflow", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400),
	S("TE chunked not last", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n", 400),
	S("TE identity", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n", 400),
	S("TE xchunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n", 400),
	S("TE twice", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
	S("TE chunked twice", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400),
	S("TE folded", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n", 400),
	S("obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n\tc\r\n\r\n", 400),
	S("bare LF", "GET / HTTP/1.1\nHost: a\n\n", 400),
	S("bare LF in header", "GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n", 400),
	S("bare CR", "GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", 400),
	S("space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400),
	S("space in name", "GET / HTTP/1.1\r\nHost: a\r\nX Y: b\r\n\r\n", 400),
	S("empty name", "GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n", 400),
	S("NUL in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n", 400),
	S("control char in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\x01" "b\r\n\r\n", 400),
	S("two Host", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
	S("no Host in 1.1", "GET / HTTP/1.1\r\nX: a\r\n\r\n", 400),
	S("TE in 1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
	S("bad chunk size", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
	S("negative chunk", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n", 400),
	S("chunk size overflow", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n", 400),
	S("chunk without CRLF", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxy\r\n0\r\n\r\n", 400),
	S("chunk size with space", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1 1\r\nx\r\n0\r\n\r\n", 400),
	S("chunk LF only", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\nx\r\n0\r\n\r\n", 400),
	S("bad method", "G@T / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	S("bad version", "GET / HTTP/1.7\r\nHost: a\r\n\r\n", 400),
	S("space in target", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	S("control in target", "GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	S("two leading blank lines", "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	S("leading CR alone", "\rGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	/* the target's form and Host (RFC 9112 3.2) */
	S("Host list", "GET / HTTP/1.1\r\nHost: a, b\r\n\r\n", 400),
	S("Host list no space", "GET / HTTP/1.1\r\nHost: a,b\r\n\r\n", 400),
	S("Host with space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400),
	S("Host with path", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400),
	S("Host with userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", 400),
	S("Host bad port", "GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n", 400),
	S("Host port too long", "GET / HTTP/1.1\r\nHost: a:123456\r\n\r\n", 400),
	S("Host bad literal", "GET / HTTP/1.1\r\nHost: [zz]\r\n\r\n", 400),
	S("asterisk GET", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	S("asterisk path", "OPTIONS */x HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	S("relative target", "GET a/b HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	S("other scheme", "GET ftp://a/ HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	S("absolute no authority", "GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	S("absolute userinfo", "GET http://u@a/ HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	/* only chunked is a transfer coding a request may have */
	S("TE gzip, chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501),
	S("CL beyond any body", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000000000000\r\n\r\n", 400),
	S("CONNECT", "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", 405),
	S("unknown expectation", "POST / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\nContent-Length: 0\r\n\r\n", 417),
#undef S
};

TEST(http_smuggling_corpus_refused)
{
	CHECK(sizeof(smuggling) / sizeof(smuggling[0]) >= 30);
	for (size_t i = 0; i < sizeof(smuggling) / sizeof(smuggling[0]); i++) {
		int v = verdict(smuggling[i].req, smuggling[i].len);

		if (v != smuggling[i].status)
			unit_fail(__FILE__, __LINE__, "%s: got %d, want %d", smuggling[i].name, v,
				  smuggling[i].status);
	}
}

TEST(http_valid_requests)
{
	CHECK_EQ(V("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
	CHECK_EQ(V("GET / HTTP/1.0\r\n\r\n"), 0);
	CHECK_EQ(V("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"), 0);
	CHECK_EQ(V("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
		   "3;ext=1\r\nabc\r\n0\r\nTrailer: t\r\n\r\n"), 0);
	CHECK_EQ(V("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n0\r\n\r\n"), 0);
	CHECK_EQ(V("GET http://a/b?c HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
	CHECK_EQ(V("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
	/* one empty line before the request line is ignored (RFC 9112 2.2) */
	CHECK_EQ(V("\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
	CHECK_EQ(V("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n"), 0);
	CHECK_EQ(V("GET / HTTP/1.1\r\nHost: 127.0.0.1:80\r\n\r\n"), 0);
	CHECK_EQ(V("GET / HTTP/1.1\r\nHost:\r\n\r\n"), 0);
	CHECK_EQ(V("GET HTTPS://a:443 HTTP/1.1\r\nHost: b\r\n\r\n"), 0);
}

/* The spans a target gives: what routing and the forwarded head use. */
TEST(http_target_forms)
{
	static const struct {
		const char *req, *path, *query, *origin, *authority;
		bool absolute;
	} t[] = {
		{ "GET /p?q HTTP/1.1\r\nHost: h\r\n\r\n", "/p", "q", "/p?q", "h", false },
		{ "GET http://admin.example/x?y=1 HTTP/1.1\r\nHost: public.example\r\n\r\n",
		  "/x", "y=1", "/x?y=1", "admin.example", true },
		{ "GET http://a:81 HTTP/1.1\r\nHost: b\r\n\r\n", "", "", "", "a:81", true },
		{ "GET http://a?z HTTP/1.1\r\nHost: b\r\n\r\n", "", "z", "?z", "a", true },
		{ "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", "*", "", "*", "h", false },
		{ "\r\nGET /lead HTTP/1.1\r\nHost: h\r\n\r\n", "/lead", "", "/lead", "h", false },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct http_msg m;
		struct http_head h;
		const char *r = t[i].req;

		http_msg_init(&m, HTTP_REQUEST, 0);
		REQUIRE(http_head_parse(&m, r, strlen(r), &h) == (int)strlen(r));
		CHECK(http_span_ieq(r, h.path, t[i].path));
		CHECK(http_span_ieq(r, h.query, t[i].query));
		CHECK(http_span_ieq(r, h.origin, t[i].origin));
		CHECK(http_span_ieq(r, h.authority, t[i].authority));
		CHECK_EQ(h.absolute, t[i].absolute);
	}
}

TEST(http_head_fields)
{
	static const char req[] = "PUT /p/q?x=1&y HTTP/1.1\r\nHost:  example.org \r\n"
				  "Connection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n"
				  "Expect: 100-continue\r\nContent-Length: 4\r\nX-Empty:\r\n\r\nbody";
	struct http_msg m;
	struct http_head h;
	int n, i;

	http_msg_init(&m, HTTP_REQUEST, 0);
	n = http_head_parse(&m, req, sizeof(req) - 1, &h);
	REQUIRE(n == (int)(sizeof(req) - 1 - 4));
	CHECK(http_span_ieq(req, h.method, "PUT"));
	CHECK(http_span_ieq(req, h.path, "/p/q"));
	CHECK(http_span_ieq(req, h.query, "x=1&y"));
	CHECK_EQ(h.method_id, HTTP_PUT);
	CHECK_EQ(h.major, 1);
	CHECK_EQ(h.minor, 1);
	CHECK_EQ(h.nhdr, 6);
	i = http_find(&h, req, "host", 0);
	REQUIRE(i == 0);
	CHECK(http_span_ieq(req, h.hdr[i].value, "example.org"));
	i = http_find(&h, req, "x-empty", 0);
	REQUIRE(i == 5);
	CHECK_EQ(h.hdr[i].value.len, 0);
	CHECK(http_list_has(req, h.hdr[http_find(&h, req, "connection", 0)].value, "upgrade"));
	CHECK(h.upgrade);
	CHECK(h.expect_continue);
	CHECK(h.has_length);
	CHECK_EQ(h.length, 4);
	CHECK(!h.chunked);
	CHECK_EQ(http_body_scan(&m, req + n, 4), 4);
	CHECK(m.complete);
}

TEST(http_head_at_every_split_point)
{
	static const char req[] = "GET /a HTTP/1.1\r\nHost: a\r\nX-Long: 0123456789\r\n\r\n";
	size_t len = sizeof(req) - 1;

	for (size_t cut = 0; cut < len; cut++) {
		struct http_msg m;
		struct http_head h;

		http_msg_init(&m, HTTP_REQUEST, 0);
		CHECK_EQ(http_head_parse(&m, req, cut, &h), 0);
		CHECK_EQ(http_head_parse(&m, req, len, &h), (int)len);
	}
}

TEST(http_body_at_every_split_point)
{
	static const char req[] = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
				  "5\r\nhello\r\n6;e=x\r\n world\r\n0\r\nT: v\r\n\r\n"
				  "GET /next HTTP/1.1\r\nHost: a\r\n\r\n";
	const char *end = strstr(req, "GET /next");

	for (const char *cut = req; cut < end; cut++) {
		struct http_msg m;
		struct http_head h;
		int n;
		long a, b;

		http_msg_init(&m, HTTP_REQUEST, 0);
		n = http_head_parse(&m, req, sizeof(req) - 1, &h);
		REQUIRE(n > 0);
		if (cut < req + n)
			continue;
		a = http_body_scan(&m, req + n, (size_t)(cut - (req + n)));
		CHECK_EQ(a, cut - (req + n));
		b = http_body_scan(&m, cut, strlen(cut));
		/* the message ends exactly before the pipelined request */
		CHECK_EQ(b, end - cut);
		CHECK(m.complete);
	}
}

TEST(http_head_limits)
{
	char *big = malloc(8192);
	struct http_msg m;
	struct http_head h;
	size_t n = 0;

	REQUIRE(big);
	n += (size_t)sprintf(big, "GET / HTTP/1.1\r\nHost: a\r\n");
	while (n < 5000)
		n += (size_t)sprintf(big + n, "X-Filler: 0123456789012345678901234567890123456789\r\n");
	http_msg_init(&m, HTTP_REQUEST, 4096);
	CHECK_EQ(http_head_parse(&m, big, n, &h), -1);
	CHECK_EQ(m.status, 431);
	/* too many fields, under the byte limit */
	n = (size_t)sprintf(big, "GET / HTTP/1.1\r\nHost: a\r\n");
	for (int i = 0; i < HTTP_MAX_HEADERS + 5; i++)
		n += (size_t)sprintf(big + n, "X: %d\r\n", i % 10);
	n += (size_t)sprintf(big + n, "\r\n");
	http_msg_init(&m, HTTP_REQUEST, 8192);
	CHECK_EQ(http_head_parse(&m, big, n, &h), -1);
	CHECK_EQ(m.status, 431);
	free(big);
}

TEST(http_responses)
{
	static const char r1[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 204 No Content\r\n\r\n";
	static const char r2[] = "HTTP/1.0 200 OK\r\n\r\nuntil close";
	static const char r3[] = "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n";
	static const char r4[] = "HTTP/1.1 100 Continue\r\n\r\n";
	struct http_msg m;
	struct http_head h;
	int n;

	http_msg_init(&m, HTTP_RESPONSE, 0);
	n = http_head_parse(&m, r1, sizeof(r1) - 1, &h);
	REQUIRE(n > 0);
	CHECK_EQ(h.status, 200);
	CHECK_EQ(http_body_scan(&m, r1 + n, sizeof(r1) - 1 - (size_t)n), 2);
	CHECK(m.complete);

	http_msg_init(&m, HTTP_RESPONSE, 0);
	n = http_head_parse(&m, r2, sizeof(r2) - 1, &h);
	REQUIRE(n > 0);
	CHECK(h.until_close);
	CHECK_EQ(http_body_scan(&m, r2 + n, 11), 11);
	CHECK(!m.complete);
	http_msg_eof(&m);
	CHECK(m.complete);

	/* a response to HEAD has no body, whatever its length says */
	http_msg_init(&m, HTTP_RESPONSE, 0);
	m.head_request = true;
	n = http_head_parse(&m, r3, sizeof(r3) - 1, &h);
	REQUIRE(n > 0);
	CHECK(m.complete);
	CHECK(h.no_body);

	http_msg_init(&m, HTTP_RESPONSE, 0);
	n = http_head_parse(&m, r4, sizeof(r4) - 1, &h);
	REQUIRE(n > 0);
	CHECK_EQ(h.status, 100);
	CHECK(m.complete);

	/* a broken response head is a bad gateway */
	http_msg_init(&m, HTTP_RESPONSE, 0);
	CHECK_EQ(http_head_parse(&m, "HTTP/1.1 2x0 OK\r\n\r\n", 19, &h), -1);
	CHECK_EQ(m.status, 502);
}

TEST(http_versions)
{
	CHECK_EQ(V("GET /\r\n\r\n"), 505);                 /* HTTP/0.9 */
	CHECK_EQ(V("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), 505);
	CHECK_EQ(V("GET / HTTP/1.0\r\n\r\n"), 0);
}

/* any_method: a method llhttp does not know is a token taken as it is
 * (for a server that answers 405), all else checked as before. */
TEST(http_any_method)
{
	static const char other[] = "BREW /pot?x=1 HTTP/1.1\r\nHost: a\r\n\r\n";
	static const char lower[] = "get / HTTP/1.0\r\n\r\n";
	struct http_msg m;
	struct http_head h;
	int n;

	/* refused without it */
	http_msg_init(&m, HTTP_REQUEST, 0);
	CHECK_EQ(http_head_parse(&m, other, sizeof(other) - 1, &h), -1);
	CHECK_EQ(m.status, 400);

	http_msg_init(&m, HTTP_REQUEST, 0);
	m.any_method = true;
	n = http_head_parse(&m, other, sizeof(other) - 1, &h);
	REQUIRE(n == (int)sizeof(other) - 1);
	CHECK_EQ(h.method_id, HTTP_METHOD_OTHER);
	CHECK(http_span_ieq(other, h.method, "BREW"));
	CHECK(http_span_ieq(other, h.path, "/pot"));
	CHECK(http_span_ieq(other, h.query, "x=1"));
	CHECK(http_span_ieq(other, h.authority, "a"));
	CHECK_EQ(h.nhdr, 1);

	http_msg_init(&m, HTTP_REQUEST, 0);
	m.any_method = true;
	REQUIRE(http_head_parse(&m, lower, sizeof(lower) - 1, &h) > 0);
	CHECK_EQ(h.method_id, HTTP_METHOD_OTHER);
	CHECK_EQ(h.method.len, 3);

	/* known methods keep their id */
	http_msg_init(&m, HTTP_REQUEST, 0);
	m.any_method = true;
	REQUIRE(http_head_parse(&m, "HEAD / HTTP/1.0\r\n\r\n", 19, &h) > 0);
	CHECK_EQ(h.method_id, HTTP_HEAD);

	/* the rest of the head is still held to the rules */
	static const char *const bad[] = {
		"BREW  / HTTP/1.1\r\nHost: a\r\n\r\n",
		"BR(EW / HTTP/1.1\r\nHost: a\r\n\r\n",
		"BREW / HTTP/1.1\r\n\r\n",                  /* no Host */
		"BREW / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n",
		"BREW /a b HTTP/1.1\r\nHost: a\r\n\r\n",
		"BREW / HTTP/1.1 \r\nHost: a\r\n\r\n",
		"BREW\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		http_msg_init(&m, HTTP_REQUEST, 0);
		m.any_method = true;
		if (http_head_parse(&m, bad[i], strlen(bad[i]), &h) != -1 || m.status != 400)
			unit_fail(__FILE__, __LINE__, "accepted: %s", bad[i]);
	}
}

/* http_why: llhttp's own words where it found the fault. */
TEST(http_why_in_words)
{
	struct http_msg m;
	struct http_head h;

	http_msg_init(&m, HTTP_RESPONSE, 0);
	CHECK_EQ(http_head_parse(&m, "HTTP/1.1 2x0 OK\r\n\r\n", 19, &h), -1);
	CHECK_STR(http_why(&m), "Invalid response status");
	http_msg_init(&m, HTTP_RESPONSE, 0);
	CHECK_EQ(http_head_parse(&m, "HTTP/1.1 200 OK\nX: y\n\n", 22, &h), -1);
	CHECK_STR(http_why(&m), "bare LF in head");
	http_msg_init(&m, HTTP_REQUEST, 0);
	CHECK_EQ(http_head_parse(&m, "GET / HTTP/1.1\r\n\r\n", 18, &h), -1);
	CHECK_STR(http_why(&m), "HTTP/1.1 request without Host");
}

/* A blank or control inside the request target is refused: llhttp lets
 * HTAB and FF through, and a server splitting the request line at any
 * blank (RFC 9112 3 allows it) would read another target. */
TEST(http_target_controls_refused)
{
	static const char *const bad[] = {
		"GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /a\fb HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /a\x0b" "b HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET http://a/\tb HTTP/1.1\r\nHost: a\r\n\r\n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (verdict(bad[i], strlen(bad[i])) != 400)
			unit_fail(__FILE__, __LINE__, "not refused: case %zu", i);
	CHECK_EQ(V("GET /a%09b HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
	CHECK_EQ(V("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
}

/* Obsolete line folding is refused however the head is cut, also when a
 * read ends right after the line the blank continues. */
TEST(http_folding_split_at_the_line_end)
{
	static const char req[] = "GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n";
	static const char resp[] = "HTTP/1.1 200 OK\r\nX: b\r\n\tc\r\nContent-Length: 0\r\n\r\n";
	struct http_msg m;
	struct http_head h;

	for (size_t cut = 1; cut < sizeof(req) - 1; cut++) {
		http_msg_init(&m, HTTP_REQUEST, 0);
		if (http_head_parse(&m, req, cut, &h) != 0)
			continue; /* refused already: fine */
		if (http_head_parse(&m, req, sizeof(req) - 1, &h) != -1 || m.status != 400)
			unit_fail(__FILE__, __LINE__, "request cut at %zu: folding accepted", cut);
	}
	for (size_t cut = 1; cut < sizeof(resp) - 1; cut++) {
		http_msg_init(&m, HTTP_RESPONSE, 0);
		if (http_head_parse(&m, resp, cut, &h) != 0)
			continue;
		if (http_head_parse(&m, resp, sizeof(resp) - 1, &h) != -1)
			unit_fail(__FILE__, __LINE__, "response cut at %zu: folding accepted", cut);
	}
}

/* The reason for refusing a head is the first fault in byte order, the
 * same whole and byte by byte. */
TEST(http_refusal_reason_does_not_depend_on_cuts)
{
	static const struct { const char *head; size_t len; const char *why; } cases[] = {
#define R(lit, why) { lit, sizeof(lit) - 1, why }
		R("HTTP/1.1 200 OK\r\nX: a\r\xff\n\r\n", "bare CR in head"),
		R("HTTP/1.1 200 OK\r\nX: a\r\0\r\n\r\n", "bare CR in head"),
		R("HTTP/1.1 200 OK\r\nX: \0a\rb\r\n\r\n", "NUL byte in head"),
		R("HTTP/1.1 200 OK\r\nX: a\n\r\n", "bare LF in head"),
		R("HTTP/1.1 200 OK\r\nX: a\rb\n\r\n", "bare CR in head"),
#undef R
	};

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct http_msg m;
		struct http_head h;
		int n = 0;

		http_msg_init(&m, HTTP_RESPONSE, 0);
		CHECK_EQ(http_head_parse(&m, cases[c].head, cases[c].len, &h), -1);
		CHECK_STR(m.why, cases[c].why);
		http_msg_init(&m, HTTP_RESPONSE, 0);
		for (size_t k = 1; k <= cases[c].len && n == 0; k++)
			n = http_head_parse(&m, cases[c].head, k, &h);
		CHECK_EQ(n, -1);
		CHECK_STR(m.why, cases[c].why);
	}
}
