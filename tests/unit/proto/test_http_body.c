/* test_http_body.c - body framing (src/proto/http_body.c): chunk lines held
 * to RFC 9112 7.1 as strictly as the head, sizes bounded, the error found
 * before the offending byte, whatever way the bytes are split. */
#include <string.h>

#include "proto/http.h"
#include "unit.h"

#define CHUNKED_HEAD "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"

/* Scans <body> after a chunked request head, in one piece, then byte by
 * byte. Returns the status of a refusal, 0 when the body completes, -1
 * when it is incomplete; *<used> gets the bytes accepted (fed byte by
 * byte: before the error, if any). Both ways of feeding must agree. */
static int scan(const char *body, size_t len, uint64_t max_body, long *used)
{
	int verdicts[2];
	long ks[2];

	for (int way = 0; way < 2; way++) {
		struct http_msg m;
		struct http_head h;
		long k = 0, r = 0;

		http_msg_init(&m, HTTP_REQUEST, 4096);
		m.max_body = max_body;
		if (http_head_parse(&m, CHUNKED_HEAD, sizeof(CHUNKED_HEAD) - 1, &h) <= 0)
			return -2;
		if (way == 0) {
			r = http_body_scan(&m, body, len);
			k = r;
		} else {
			for (size_t i = 0; i < len && !m.complete && r >= 0; i++) {
				r = http_body_scan(&m, body + i, 1);
				k += r > 0 ? r : 0;
			}
		}
		verdicts[way] = r < 0 ? m.status : m.complete ? 0 : -1;
		ks[way] = k;
		if (r < 0) /* the error sticks */
			CHECK_EQ(http_body_scan(&m, "0\r\n\r\n", 5), -1);
	}
	CHECK_EQ(verdicts[0], verdicts[1]);
	if (verdicts[0] == 0)
		CHECK_EQ(ks[0], ks[1]);
	if (used)
		*used = ks[1];
	return verdicts[0];
}

#define SCAN(lit) scan(lit, sizeof(lit) - 1, 0, NULL)

TEST(http_body_cr_not_followed_by_lf)
{
	/* issue 10's stream: "2\r\r;a" would let a backend that reads to LF
	 * see a second request weir never saw */
	static const char smuggle[] = "2\r\r;a\r\n43\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\n"
				      "Host: localhost\r\nContent-Length: 7\r\n\r\n\r\n0\r\n\r\n";
	long used;

	CHECK_EQ(scan(smuggle, sizeof(smuggle) - 1, 0, &used), 400);
	CHECK_EQ(used, 2); /* "2\r" only: the byte after the CR is never accepted */
	CHECK_EQ(SCAN("2\rX\r\nab\r\n0\r\n\r\n"), 400);           /* after the size */
	CHECK_EQ(SCAN("2;a\rX\r\nab\r\n0\r\n\r\n"), 400);         /* in an extension */
	CHECK_EQ(SCAN("2;a=b\rX\r\nab\r\n0\r\n\r\n"), 400);
	CHECK_EQ(SCAN("2;a=\"b\"\rX\r\nab\r\n0\r\n\r\n"), 400);
	CHECK_EQ(SCAN("2\r\nab\rX0\r\n\r\n"), 400);               /* after the data */
	CHECK_EQ(SCAN("2\r\nabX\n0\r\n\r\n"), 400);
	CHECK_EQ(SCAN("2\r\nab\n0\r\n\r\n"), 400);
	CHECK_EQ(SCAN("0\rX\r\n\r\n"), 400);                      /* the last chunk */
	CHECK_EQ(SCAN("0\r\n\rX"), 400);                          /* the final CRLF */
	CHECK_EQ(SCAN("0\r\nT: v\rX\r\n\r\n"), 400);              /* a trailer */
	CHECK_EQ(SCAN("0\r\nT: v\r\n\r\r"), 400);
}

TEST(http_body_bare_lf_and_junk)
{
	CHECK_EQ(SCAN("2\nab\r\n0\r\n\r\n"), 400);
	CHECK_EQ(SCAN("0\n\r\n"), 400);
	CHECK_EQ(SCAN("0\r\n\n"), 400);
	CHECK_EQ(SCAN(" 2\r\nab\r\n0\r\n\r\n"), 400);
	CHECK_EQ(SCAN("2 \r\nab\r\n0\r\n\r\n"), 400);             /* BWS only before ';' */
	CHECK_EQ(SCAN("0x2\r\nab\r\n0\r\n\r\n"), 400);
	CHECK_EQ(SCAN("+2\r\nab\r\n0\r\n\r\n"), 400);
	CHECK_EQ(SCAN("\r\n2\r\nab\r\n0\r\n\r\n"), 400);
	CHECK_EQ(SCAN("2;\r\nab\r\n0\r\n\r\n"), 400);             /* ';' without a name */
	CHECK_EQ(SCAN("2;a b\r\nab\r\n0\r\n\r\n"), 400);
	CHECK_EQ(SCAN("2;a=\r\nab\r\n0\r\n\r\n"), 400);
	CHECK_EQ(SCAN("2;a=b c\r\nab\r\n0\r\n\r\n"), 400);
	CHECK_EQ(SCAN("2;a=\"b\r\nab\r\n0\r\n\r\n"), 400);        /* unterminated quote */
	CHECK_EQ(SCAN("2;a=\"b\"c\r\nab\r\n0\r\n\r\n"), 400);
	CHECK_EQ(SCAN("2;a=\"\x01\"\r\nab\r\n0\r\n\r\n"), 400);
	CHECK_EQ(SCAN("2;a\x01\r\nab\r\n0\r\n\r\n"), 400);
	CHECK_EQ(SCAN("2;a\0\r\nab\r\n0\r\n\r\n"), 400);
	CHECK_EQ(SCAN("2;a \r\nab\r\n0\r\n\r\n"), 400);           /* BWS, then no '=' */
	CHECK_EQ(SCAN("0\r\n T: v\r\n\r\n"), 400);                /* folding */
	CHECK_EQ(SCAN("0\r\nT: v\r\n x\r\n\r\n"), 400);
	CHECK_EQ(SCAN("0\r\nT : v\r\n\r\n"), 400);
	CHECK_EQ(SCAN("0\r\n: v\r\n\r\n"), 400);
	CHECK_EQ(SCAN("0\r\nT: a\0b\r\n\r\n"), 400);
	CHECK_EQ(SCAN("0\r\nT: a\x7f\r\n\r\n"), 400);
}

TEST(http_body_valid_extensions)
{
	/* RFC 9112 7.1.1: several parameters, BWS around ';' and '=', quoted
	 * strings with escapes */
	CHECK_EQ(SCAN("5;a=b;c=d\r\nhello\r\n0\r\n\r\n"), 0);
	CHECK_EQ(SCAN("5 ;a=b\r\nhello\r\n0\r\n\r\n"), 0);
	CHECK_EQ(SCAN("5;foo=bar;baz=\"q\"\r\nhello\r\n0\r\n\r\n"), 0);
	CHECK_EQ(SCAN("5;a\r\nhello\r\n0\r\n\r\n"), 0);
	CHECK_EQ(SCAN("5\t; a = b ;c\r\nhello\r\n0\r\n\r\n"), 0);
	CHECK_EQ(SCAN("5;a=\"x\\\"y; z\"\r\nhello\r\n0;last\r\n\r\n"), 0);
	CHECK_EQ(SCAN("00005\r\nhello\r\n000\r\n\r\n"), 0);
	CHECK_EQ(SCAN("A\r\n0123456789\r\n0\r\nT: v\r\nU:\r\n\r\n"), 0);
}

TEST(http_body_sizes)
{
	/* 15 hex digits: beyond any body weir accepts; refused at the size */
	CHECK_EQ(SCAN("fffffffffffffff\r\n"), 400);
	CHECK_EQ(SCAN("1000000000001\r\n"), 400); /* 2^48 + 1 */
	CHECK_EQ(SCAN("ffffffffffff\r\nx"), -1);  /* 2^48 - 1: allowed, incomplete */
	/* a chunk larger than the service's limit: 413 before its data */
	CHECK_EQ(scan("100001\r\n", 8, 1u << 20, NULL), 413);
	CHECK_EQ(scan("100000\r\n", 8, 1u << 20, NULL), -1);
	/* a chunk line that never ends */
	{
		char line[5000];

		memset(line, '0', sizeof(line));
		CHECK_EQ(scan(line, sizeof(line), 0, NULL), 400);
	}
}

TEST(http_body_ends_exactly)
{
	static const char body[] = "3\r\nabc\r\n0\r\nT: v\r\n\r\nGET / HTTP/1.1\r\n";
	long used;

	CHECK_EQ(scan(body, sizeof(body) - 1, 0, &used), 0);
	CHECK_EQ(used, (long)(strstr(body, "GET") - body));
}

TEST(http_body_responses)
{
	static const char r[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\r;a\r\n";
	struct http_msg m;
	struct http_head h;
	int n;

	http_msg_init(&m, HTTP_RESPONSE, 0);
	n = http_head_parse(&m, r, sizeof(r) - 1, &h);
	REQUIRE(n > 0);
	CHECK_EQ(http_body_scan(&m, r + n, sizeof(r) - 1 - (size_t)n), -1);
	CHECK_EQ(m.status, 502);
}

/* Reads the content of <body> after <head> with http_body_data, <piece>
 * bytes at a time; returns it (NUL-terminated in <out>) or -1 on error. */
static long content(const char *head, const char *body, size_t len, size_t piece, char *out,
		    size_t size)
{
	struct http_msg m;
	struct http_head h;
	size_t pos = 0, o = 0;

	http_msg_init(&m, HTTP_RESPONSE, 4096);
	if (http_head_parse(&m, head, strlen(head), &h) <= 0)
		return -2;
	while (pos < len && !m.complete) {
		struct http_span d;
		size_t avail = len - pos < piece ? len - pos : piece;
		long k = http_body_data(&m, body + pos, avail, &d);

		if (k < 0)
			return -1;
		if (k == 0 || d.off + d.len > (size_t)k || o + d.len >= size)
			return -3;
		memcpy(out + o, body + pos + d.off, d.len);
		o += d.len;
		pos += (size_t)k;
	}
	out[o] = '\0';
	return m.complete ? (long)o : -4;
}

TEST(http_body_data_gives_the_content)
{
	static const char chunked[] = "3;a=b\r\nabc\r\n1\r\nd\r\nA\r\n0123456789\r\n0\r\nT: x\r\n\r\nNEXT";
	static const char te[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
	static const char cl[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
	char out[256];

	for (size_t piece = 1; piece < sizeof(chunked); piece++) {
		if (content(te, chunked, sizeof(chunked) - 1, piece, out, sizeof(out)) != 14) {
			unit_fail(__FILE__, __LINE__, "chunked in pieces of %zu", piece);
			continue;
		}
		CHECK_STR(out, "abcd0123456789");
		CHECK_EQ(content(cl, "hello world", 11, piece, out, sizeof(out)), 5);
		CHECK_STR(out, "hello");
	}
	/* one run of data per call: the framing before it comes with it */
	{
		struct http_msg m;
		struct http_head h;
		struct http_span d;

		http_msg_init(&m, HTTP_RESPONSE, 4096);
		REQUIRE(http_head_parse(&m, te, sizeof(te) - 1, &h) > 0);
		CHECK_EQ(http_body_data(&m, chunked, sizeof(chunked) - 1, &d), 10);
		CHECK_EQ(d.off, 7);
		CHECK_EQ(d.len, 3);
		CHECK_EQ(http_body_data(&m, chunked + 10, sizeof(chunked) - 11, &d), 6);
		CHECK_EQ(d.off, 5);
		CHECK_EQ(d.len, 1);
	}
	/* a framing error is an error, as for http_body_scan */
	CHECK_EQ(content(te, "2\r\nabc\r\n", 8, 100, out, sizeof(out)), -1);
}
