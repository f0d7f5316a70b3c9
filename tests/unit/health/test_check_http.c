/* test_check_http.c - the http check's reading of an answer (check_http.c,
 * over proto/http.c): the status against `expect`, the drain signal, the
 * body text found in Content-Length, chunked (across chunks, not in the
 * framing) and until-close bodies, interim 1xx answers, and every
 * malformed or cut answer a failed check with its reason. Each answer is
 * fed as check.c feeds it, whole and in pieces of every size from 1 byte:
 * the verdict must not depend on how the bytes arrive. */
#include <stdlib.h>

#include "health/check_http.h"
#include "unit.h"

struct outcome {
	int r;                   /* HC_MORE: still waiting (the timeout decides) */
	char what[HC_WHAT_MAX];
};

/* An http check conf from <words> ("http body ok"); the service's drain
 * signal is 503 with X-Weir-Drain. */
static bool conf_of(const char *words, struct hc_conf *conf, int line)
{
	char buf[256], *w[16], err[SPEC_ERR_MAX];
	struct check_spec c;
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", words);
	for (char *save = NULL, *t = strtok_r(buf, " ", &save); t && n < 16;
	     t = strtok_r(NULL, " ", &save))
		w[n++] = t;
	if (check_spec_parse(w, n, &c, err) != 0) {
		unit_fail(__FILE__, line, "'%s': %s", words, err);
		return false;
	}
	memset(conf, 0, sizeof(*conf));
	http_check_conf(conf, &c, 503, "X-Weir-Drain");
	return true;
}

/* Feeds <in> as check.c does, at most <piece> bytes a read (0: what fits),
 * then the close if <close>. */
static struct outcome feed(const struct hc_conf *conf, const char *in, size_t inlen, size_t piece,
			   bool close, int line)
{
	char *buf = malloc(HC_ANSWER_MAX + 1);
	void *state = calloc(1, hc_http.state_size);
	struct outcome o = { HC_MORE, "" };
	size_t len = 0, pos = 0;

	if (!buf || !state) {
		unit_fail(__FILE__, line, "out of memory");
		goto out;
	}
	while (o.r == HC_MORE) {
		size_t n = MIN(hc_http.answer_max - len, inlen - pos);

		if (piece && n > piece)
			n = piece;
		if (!n && !close)
			break;
		memcpy(buf + len, in + pos, n);
		pos += n;
		len += n;
		buf[len] = '\0';
		o.r = hc_http.answer(state, conf, buf, &len, n == 0, o.what);
		if (o.r == HC_MORE && len >= hc_http.answer_max) {
			unit_fail(__FILE__, line, "the buffer was left full");
			break;
		}
	}
out:
	free(buf);
	free(state);
	return o;
}

/* The verdict on <in> for a check of <words>, the same however it is cut. */
static struct outcome verdict(const char *words, const char *in, size_t inlen, bool close,
			      int line)
{
	static const size_t pieces[] = { 1, 2, 3, 5, 7, 13, 64, 1000 };
	struct hc_conf conf;
	struct outcome whole = { HC_MORE, "" };

	if (!conf_of(words, &conf, line))
		return whole;
	whole = feed(&conf, in, inlen, 0, close, line);
	for (size_t i = 0; i < ARRAY_SIZE(pieces); i++) {
		struct outcome o = feed(&conf, in, inlen, pieces[i], close, line);

		if (o.r != whole.r || strcmp(o.what, whole.what) != 0) {
			unit_fail(__FILE__, line, "in pieces of %zu: %d \"%s\", whole: %d \"%s\"",
				  pieces[i], o.r, o.what, whole.r, whole.what);
			break;
		}
	}
	return whole;
}

static void expect_verdict(const char *words, const char *in, size_t inlen, bool close,
			   int want, const char *what, int line)
{
	struct outcome o = verdict(words, in, inlen, close, line);

	if (o.r != want || (want != HC_MORE && strcmp(o.what, what) != 0))
		unit_fail(__FILE__, line, "%d \"%s\", want %d \"%s\"", o.r, o.what, want, what);
}
/* the server answers <lit> and closes */
#define VERDICT(words, lit, want, what) \
	expect_verdict(words, lit, sizeof(lit) - 1, true, want, what, __LINE__)
/* the server answers <lit> and stays connected */
#define VERDICT_OPEN(words, lit, want, what) \
	expect_verdict(words, lit, sizeof(lit) - 1, false, want, what, __LINE__)

#define OK_HEAD "HTTP/1.1 200 OK\r\n"

TEST(check_http_status_and_expect)
{
	VERDICT_OPEN("http", OK_HEAD "Content-Length: 2\r\n\r\nhi", CHECK_PASS, "HTTP 200");
	VERDICT_OPEN("http", "HTTP/1.1 302 Found\r\nLocation: /x\r\n\r\n", CHECK_PASS, "HTTP 302");
	VERDICT_OPEN("http", "HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n", CHECK_FAIL,
		     "HTTP 500");
	VERDICT_OPEN("http", "HTTP/1.1 404 Not Found\r\n\r\n", CHECK_FAIL, "HTTP 404");
	VERDICT_OPEN("http expect 404", "HTTP/1.1 404 Not Found\r\n\r\n", CHECK_PASS, "HTTP 404");
	VERDICT_OPEN("http expect 200-299,404", "HTTP/1.1 302 Found\r\n\r\n", CHECK_FAIL,
		     "HTTP 302");
	/* the status decides once the head is whole: no waiting for the body */
	VERDICT_OPEN("http", OK_HEAD "Content-Length: 100\r\n\r\npart", CHECK_PASS, "HTTP 200");
	/* HTTP/1.0, no length: the body runs until close, not waited for */
	VERDICT_OPEN("http", "HTTP/1.0 200 OK\r\n\r\nall of it", CHECK_PASS, "HTTP 200");
	/* an answer to HEAD has no body, whatever its Content-Length */
	VERDICT_OPEN("http method HEAD", OK_HEAD "Content-Length: 5\r\n\r\n", CHECK_PASS,
		     "HTTP 200");
	/* a head not whole yet: the timeout decides */
	VERDICT_OPEN("http", OK_HEAD "Content-Length: 2\r\n", HC_MORE, "");
}

TEST(check_http_expects_lists)
{
	struct hc_conf conf;
	const struct http_check *h;

	REQUIRE(conf_of("http", &conf, __LINE__));
	h = http_check_of(hc_spec(&conf));
	/* no list: 200-399 */
	CHECK(!http_check_expects(h, 199));
	CHECK(http_check_expects(h, 200));
	CHECK(http_check_expects(h, 302));
	CHECK(http_check_expects(h, 399));
	CHECK(!http_check_expects(h, 400));
	CHECK(!http_check_expects(h, 503));
	REQUIRE(conf_of("http expect 200-299,404", &conf, __LINE__));
	h = http_check_of(hc_spec(&conf));
	CHECK(!http_check_expects(h, 199));
	CHECK(http_check_expects(h, 200));
	CHECK(http_check_expects(h, 299));
	CHECK(!http_check_expects(h, 300));
	CHECK(!http_check_expects(h, 403));
	CHECK(http_check_expects(h, 404));
	CHECK(!http_check_expects(h, 405));
	REQUIRE(conf_of("http expect 503", &conf, __LINE__));
	h = http_check_of(hc_spec(&conf));
	CHECK(http_check_expects(h, 503));
	CHECK(!http_check_expects(h, 200));
	CHECK(!http_check_expects(h, 0));
}

TEST(check_http_drain_signal)
{
	VERDICT_OPEN("http", "HTTP/1.1 503 Busy\r\nX-Weir-Drain: 1\r\n\r\n", CHECK_DRAINING,
		     "HTTP 503");
	VERDICT_OPEN("http", "HTTP/1.1 503 Busy\r\nx-weir-drain:\r\n\r\n", CHECK_DRAINING,
		     "HTTP 503");
	/* the status without the header is a plain failure */
	VERDICT_OPEN("http", "HTTP/1.1 503 Busy\r\nX-Weir-Drained: 1\r\n\r\n", CHECK_FAIL,
		     "HTTP 503");
	/* the header with another status is nothing */
	VERDICT_OPEN("http", OK_HEAD "X-Weir-Drain: 1\r\n\r\n", CHECK_PASS, "HTTP 200");
}

TEST(check_http_body_content_length)
{
	VERDICT_OPEN("http body ok", OK_HEAD "Content-Length: 11\r\n\r\nall is ok!\n",
		     CHECK_PASS, "HTTP 200");
	VERDICT_OPEN("http body ok", OK_HEAD "Content-Length: 5\r\n\r\nfine!", CHECK_FAIL,
		     "HTTP 200 without \"ok\"");
	/* the text after the body's end is not the body's */
	VERDICT_OPEN("http body ok", OK_HEAD "Content-Length: 3\r\n\r\nabcok", CHECK_FAIL,
		     "HTTP 200 without \"ok\"");
	/* in the head only */
	VERDICT_OPEN("http body ok", OK_HEAD "X-Status: ok\r\nContent-Length: 2\r\n\r\nno",
		     CHECK_FAIL, "HTTP 200 without \"ok\"");
	/* no body at all */
	VERDICT_OPEN("http body ok", OK_HEAD "Content-Length: 0\r\n\r\n", CHECK_FAIL,
		     "HTTP 200 without \"ok\"");
	VERDICT_OPEN("http body ok", "HTTP/1.1 204 No Content\r\n\r\n", CHECK_FAIL,
		     "HTTP 204 without \"ok\"");
	/* cut short: what came is searched */
	VERDICT("http body ok", OK_HEAD "Content-Length: 10\r\n\r\nabc", CHECK_FAIL,
		"HTTP 200 without \"ok\"");
	VERDICT("http body ok", OK_HEAD "Content-Length: 10\r\n\r\nab ok", CHECK_PASS,
		"HTTP 200");
	/* not all there yet, and still connected: wait */
	VERDICT_OPEN("http body ok", OK_HEAD "Content-Length: 10\r\n\r\nabc", HC_MORE, "");
	/* a wrong status is not looked into */
	VERDICT_OPEN("http body ok", "HTTP/1.1 500 E\r\nContent-Length: 2\r\n\r\nok", CHECK_FAIL,
		     "HTTP 500");
}

TEST(check_http_body_chunked)
{
	/* the text straddles two chunks: "o" ends one, "k" starts the next */
	VERDICT_OPEN("http body ok", OK_HEAD "Transfer-Encoding: chunked\r\n\r\n"
		     "3\r\nxxo\r\n4\r\nkyyy\r\n0\r\n\r\n", CHECK_PASS, "HTTP 200");
	VERDICT_OPEN("http body status:ok", OK_HEAD "Transfer-Encoding: chunked\r\n\r\n"
		     "1\r\ns\r\n1\r\nt\r\n5\r\natus:\r\n1\r\no\r\n1;x=y\r\nk\r\n0\r\n\r\n",
		     CHECK_PASS, "HTTP 200");
	/* the text only in the framing (an extension, a trailer): not found */
	VERDICT_OPEN("http body ok", OK_HEAD "Transfer-Encoding: chunked\r\n\r\n"
		     "2;ok=1\r\nno\r\n0\r\nX-ok: ok\r\n\r\n", CHECK_FAIL, "HTTP 200 without \"ok\"");
	/* across the chunk line: "o\r\n1\r\nk" is not "ok" in the raw bytes */
	VERDICT_OPEN("http body o1", OK_HEAD "Transfer-Encoding: chunked\r\n\r\n"
		     "1\r\no\r\n1\r\nk\r\n0\r\n\r\n", CHECK_FAIL, "HTTP 200 without \"o1\"");
	/* a framing error after the text: the text was there */
	VERDICT_OPEN("http body ok", OK_HEAD "Transfer-Encoding: chunked\r\n\r\n"
		     "2\r\nok\r\nzz\r\n", CHECK_PASS, "HTTP 200");
	/* before it: a bad body */
	VERDICT_OPEN("http body ok", OK_HEAD "Transfer-Encoding: chunked\r\n\r\n"
		     "2\r\nno\r\nzz\r\n2\r\nok\r\n0\r\n\r\n", CHECK_FAIL,
		     "HTTP 200, bad body: invalid chunk size");
	VERDICT_OPEN("http body ok", OK_HEAD "Transfer-Encoding: chunked\r\n\r\n"
		     "2\r\nnoX\r\n", CHECK_FAIL, "HTTP 200, bad body: chunk data not followed by CRLF");
	/* the last chunk without the text: decided without waiting for close */
	VERDICT_OPEN("http body ok", OK_HEAD "Transfer-Encoding: chunked\r\n\r\n"
		     "2\r\nno\r\n0\r\n\r\n", CHECK_FAIL, "HTTP 200 without \"ok\"");
	/* cut in a chunk */
	VERDICT("http body ok", OK_HEAD "Transfer-Encoding: chunked\r\n\r\n"
		"10\r\nno", CHECK_FAIL, "HTTP 200 without \"ok\"");
}

TEST(check_http_body_until_close)
{
	VERDICT("http body ok", "HTTP/1.0 200 OK\r\n\r\nthis is ok", CHECK_PASS, "HTTP 200");
	VERDICT("http body ok", "HTTP/1.0 200 OK\r\n\r\nthis is fine", CHECK_FAIL,
		"HTTP 200 without \"ok\"");
	/* found before the close: no need to wait for it */
	VERDICT_OPEN("http body ok", "HTTP/1.0 200 OK\r\n\r\nok, more to come", CHECK_PASS,
		     "HTTP 200");
	VERDICT_OPEN("http body ok", "HTTP/1.0 200 OK\r\n\r\nnot yet", HC_MORE, "");
}

/* A body far longer than the buffer: read through, the text found wherever
 * it is in the first 64 KiB, and across reads. */
TEST(check_http_long_body)
{
	static const size_t at[] = { 0, 4000, 4095, 4096, 10000, 60000 };
	size_t blen = 70000, hlen;
	char *in = malloc(blen + 200);

	REQUIRE(in);
	hlen = (size_t)snprintf(in, 200, OK_HEAD "Content-Length: %zu\r\n\r\n", blen);
	for (size_t i = 0; i < ARRAY_SIZE(at); i++) {
		memset(in + hlen, 'x', blen);
		memcpy(in + hlen + at[i], "status:ok", 9);
		expect_verdict("http body status:ok", in, hlen + blen, false, CHECK_PASS, "HTTP 200",
			       __LINE__);
	}
	/* past the first 64 KiB: not looked at */
	memset(in + hlen, 'x', blen);
	memcpy(in + hlen + 66000, "status:ok", 9);
	expect_verdict("http body status:ok", in, hlen + blen, false, CHECK_FAIL,
		       "HTTP 200 without \"status:ok\"", __LINE__);
	free(in);
}

TEST(check_http_interim_answers)
{
	VERDICT_OPEN("http", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n", CHECK_PASS,
		     "HTTP 200");
	VERDICT_OPEN("http body ok", "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
		     "HTTP/1.1 100 Continue\r\n\r\n" OK_HEAD "Content-Length: 2\r\n\r\nok",
		     CHECK_PASS, "HTTP 200");
	VERDICT_OPEN("http", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 500 E\r\n\r\n", CHECK_FAIL,
		     "HTTP 500");
	/* 101 is final, and not expected */
	VERDICT_OPEN("http", "HTTP/1.1 101 Switching\r\nConnection: upgrade\r\nUpgrade: x\r\n\r\n",
		     CHECK_FAIL, "HTTP 101");
}

TEST(check_http_malformed_answers)
{
	VERDICT("http", "", CHECK_FAIL, "closed without answering");
	VERDICT("http", OK_HEAD "Content-Le", CHECK_FAIL, "response cut short");
	VERDICT("http", "HTTP/1.1 200", CHECK_FAIL, "response cut short");
	/* not HTTP: known from the first bytes, without waiting */
	VERDICT_OPEN("http", "SSH-2.0-OpenSSH_9.6\r\n", CHECK_FAIL, "not an HTTP response");
	VERDICT_OPEN("http", "garbage\r\n\r\n", CHECK_FAIL, "not an HTTP response");
	VERDICT_OPEN("http", "http/1.1 200 OK\r\n\r\n", CHECK_FAIL, "not an HTTP response");
	VERDICT_OPEN("http", "\r\nHTTP/1.1 200 OK\r\n\r\n", CHECK_FAIL, "not an HTTP response");
	/* HTTP, but not well formed */
	VERDICT_OPEN("http", "HTTP/1.1 2x0 OK\r\n\r\n", CHECK_FAIL,
		     "bad response: invalid response status");
	VERDICT_OPEN("http", "HTTP/1.1 200 OK\nContent-Length: 0\n\n", CHECK_FAIL,
		     "bad response: bare LF in head");
	VERDICT_OPEN("http", "HTTP/2.0 200 OK\r\n\r\n", CHECK_FAIL,
		     "bad response: only HTTP/1.0 and HTTP/1.1 are spoken here");
	VERDICT_OPEN("http", OK_HEAD "Content-Length: 1\r\nContent-Length: 2\r\n\r\n", CHECK_FAIL,
		     "bad response: duplicate Content-Length");
	VERDICT_OPEN("http", OK_HEAD "Bad Header: x\r\n\r\n", CHECK_FAIL,
		     "bad response: invalid header field name");
	VERDICT_OPEN("http", OK_HEAD "X: a\0b\r\n\r\n", CHECK_FAIL,
		     "bad response: NUL byte in head");
}

/* A head larger than the buffer is refused, not waited on. */
TEST(check_http_head_too_large)
{
	char *in = malloc(HC_ANSWER_MAX + 100);
	size_t n;

	REQUIRE(in);
	n = (size_t)snprintf(in, 100, OK_HEAD "X-Big: ");
	memset(in + n, 'a', HC_ANSWER_MAX);
	expect_verdict("http", in, n + HC_ANSWER_MAX, false, CHECK_FAIL,
		       "bad response: head too large", __LINE__);
	free(in);
}

TEST(check_http_request)
{
	struct hc_conf conf;
	struct weir_addr to;
	char out[512];
	size_t n;

	REQUIRE(addr_parse("10.0.0.1:8080", true, &to) == 0);
	REQUIRE(conf_of("http path /health", &conf, __LINE__));
	n = hc_http.request(&conf, &to, out, sizeof(out));
	REQUIRE(n > 0 && n < sizeof(out));
	CHECK_STR(out, "GET /health HTTP/1.1\r\nHost: 10.0.0.1:8080\r\nUser-Agent: weir-check\r\n"
		       "Connection: close\r\n\r\n");
	REQUIRE(conf_of("http method HEAD path /a?b=c host api.example.com", &conf, __LINE__));
	n = hc_http.request(&conf, &to, out, sizeof(out));
	CHECK_STR(out, "HEAD /a?b=c HTTP/1.1\r\nHost: api.example.com\r\nUser-Agent: weir-check\r\n"
		       "Connection: close\r\n\r\n");
	CHECK_EQ(n, strlen(out));
}
