/*
 * check_http.c - the http check: a request to the server, and its answer
 * read with proto/http.c's parser (the proxy's): the status must be one the
 * check expects, the service's drain signal drains the server, and with
 * `body TEXT` the body must contain TEXT, framed as the response says
 * (Content-Length, chunked, or until close; a match may straddle chunks).
 *
 * The answer is read in the buffer check.c holds: the head must fit in it
 * (HC_ANSWER_MAX); body bytes are decoded to the front of the buffer and
 * dropped once searched, but for the last strlen(TEXT) - 1 of them, so the
 * body may be of any length; the first HTTP_BODY_SCAN bytes of it are
 * searched. The verdict does not depend on how the bytes arrive.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health/check_http.h"
#include "proto/http.h"

#define HTTP_BODY_SCAN (64u << 10)

_Static_assert(sizeof(struct http_check) <= CHECK_OWN_MAX, "http_check fits check_spec.own");

/* The service's drain signal, which a check of it reads (struct hc_conf.own). */
struct http_conf {
	struct check_spec c;          /* first: hc_active_* */
	uint16_t drain_status;
	char drain_header[64];
};

_Static_assert(sizeof(struct http_conf) <= HC_OWN_MAX, "http_conf fits hc_conf.own");

/* One check's reading of the answer (zeroed before each check). */
struct http_run {
	struct http_msg m;            /* m.max_head 0: not started */
	uint16_t status;              /* of the final response, once its head is read */
	bool in_body;                 /* looking for the body text */
	size_t kept;                  /* body bytes kept at the buffer's start */
	uint64_t scanned;             /* body bytes scanned, framing included */
};

const struct http_check *http_check_of(const struct check_spec *c)
{
	return (const struct http_check *)c->own.bytes;
}

static const struct http_conf *conf_of(const struct hc_conf *conf)
{
	return (const struct http_conf *)conf->own.bytes;
}

/* --- the words ------------------------------------------------------------------ */

/* "200-399,404" into the expect list. */
static int expect_parse(const char *v, void *field, char *err)
{
	struct http_expect *e = field;
	const char *p = v;

	e->n = 0;
	while (*p) {
		char *end;
		unsigned long lo = strtoul(p, &end, 10), hi = lo;

		if (end == p)
			goto bad;
		if (*end == '-') {
			p = end + 1;
			hi = strtoul(p, &end, 10);
			if (end == p)
				goto bad;
		}
		if (lo < 100 || hi > 599 || lo > hi)
			goto bad;
		if (e->n == HTTP_CHECK_MAX_EXPECT) {
			snprintf(err, SPEC_ERR_MAX, "expect: at most %d status ranges",
				 HTTP_CHECK_MAX_EXPECT);
			return -EINVAL;
		}
		e->r[e->n].lo = (uint16_t)lo;
		e->r[e->n].hi = (uint16_t)hi;
		e->n++;
		if (*end == ',')
			end++;
		else if (*end)
			goto bad;
		p = end;
	}
	if (e->n)
		return 0;
bad:
	snprintf(err, SPEC_ERR_MAX, "expect: '%s' is not a status list such as 200-399,404", v);
	return -EINVAL;
}

static void expect_format(const void *field, char *out, size_t size)
{
	const struct http_expect *e = field;
	size_t len = 0;

	out[0] = '\0';
	for (int i = 0; i < e->n && len < size; i++) {
		if (e->r[i].lo == e->r[i].hi)
			len += (size_t)snprintf(out + len, size - len, "%s%u", i ? "," : "",
						e->r[i].lo);
		else
			len += (size_t)snprintf(out + len, size - len, "%s%u-%u", i ? "," : "",
						e->r[i].lo, e->r[i].hi);
	}
}

static const struct spec_key http_keys[] = {
	CHECK_OWN_KEY("method", KEY_STRING, struct http_check, method, 0, 0),
	CHECK_OWN_KEY("path", KEY_STRING, struct http_check, path, 0, 0),
	CHECK_OWN_KEY("host", KEY_STRING, struct http_check, host, 0, 0),
	CHECK_OWN_CUSTOM("expect", struct http_check, expect, expect_parse, expect_format),
	CHECK_OWN_KEY("body", KEY_STRING, struct http_check, body, 0, 0),
};

static void http_defaults(struct check_spec *c)
{
	struct http_check *h = (struct http_check *)c->own.bytes;

	snprintf(h->method, sizeof(h->method), "GET");
	snprintf(h->path, sizeof(h->path), "/");
}

static int http_validate(const struct check_spec *c, char *err)
{
	const struct http_check *h = http_check_of(c);

	if (h->path[0] != '/' || strchr(h->path, ' ')) {
		snprintf(err, SPEC_ERR_MAX, "check: path must start with / and have no blanks");
		return -EINVAL;
	}
	if (!h->method[0] || strpbrk(h->method, " \t")) {
		snprintf(err, SPEC_ERR_MAX, "check: method must be one word");
		return -EINVAL;
	}
	return 0;
}

static const struct check_kind http_words = {
	.name = "http",
	.keys = http_keys,
	.nkeys = ARRAY_SIZE(http_keys),
	.defaults = http_defaults,
	.validate = http_validate,
};

bool http_check_expects(const struct http_check *h, unsigned status)
{
	if (!h->expect.n)
		return status >= 200 && status <= 399;
	for (int i = 0; i < h->expect.n; i++)
		if (status >= h->expect.r[i].lo && status <= h->expect.r[i].hi)
			return true;
	return false;
}

/* --- the check --------------------------------------------------------------- */

/* The service's drain signal, which an http check also reads. */
static void set_drain(struct hc_conf *conf, uint16_t status, const char *header)
{
	struct http_conf *hc = (struct http_conf *)conf->own.bytes;

	hc->drain_status = status;
	snprintf(hc->drain_header, sizeof(hc->drain_header), "%s", header);
}

void http_check_conf(struct hc_conf *conf, const struct check_spec *c, uint16_t drain_status,
		     const char *drain_header)
{
	hc_active_conf(conf, c);
	set_drain(conf, drain_status, drain_header);
}

static bool http_want(const struct virtual_service *svc, const struct real_server *rs,
		      struct hc_conf *conf)
{
	if (!hc_active_want(&http_words, svc, rs, conf))
		return false;
	set_drain(conf, svc->spec.drain_status, svc->spec.drain_header);
	return true;
}

static size_t http_request(const struct hc_conf *conf, const struct weir_addr *to, char *out,
			   size_t size)
{
	const struct http_check *h = http_check_of(&conf_of(conf)->c);
	char host[ADDR_STRLEN + 8];
	int n;

	if (h->host[0])
		snprintf(host, sizeof(host), "%s", h->host);
	else
		addr_str(to, host);
	n = snprintf(out, size, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: weir-check\r\n"
		     "Connection: close\r\n\r\n", h->method, h->path, host);
	return n > 0 && (size_t)n < size ? (size_t)n : 0;
}

/* Could <buf> be the start of "HTTP/"? */
static bool http_like(const char *buf, size_t len)
{
	return strncmp(buf, "HTTP/", MIN(len, 5)) == 0;
}

/* A refused head: why, as a person would say it. */
static int bad_head(struct http_run *r, char *what)
{
	const char *why = http_why(&r->m);
	/* llhttp capitalises ("Invalid status"); an acronym ("NUL") stays */
	bool lower = why[0] >= 'A' && why[0] <= 'Z' && why[1] >= 'a' && why[1] <= 'z';

	return hc_verdict(what, CHECK_FAIL, "bad response: %c%s", lower ? why[0] - 'A' + 'a' : why[0],
		       why[0] ? why + 1 : "");
}

/* The body so far: decodes what arrived to the front of the buffer and
 * looks for the text there. */
static int read_body(struct http_run *r, const struct http_check *h, char *buf, size_t *len,
		     bool eof, char *what)
{
	size_t tl = strlen(h->body), pos = r->kept, clen = r->kept;
	bool bad = false;

	while (pos < *len && !r->m.complete && r->scanned < HTTP_BODY_SCAN) {
		struct http_span d;
		long k = http_body_data(&r->m, buf + pos, MIN(*len - pos,
							       HTTP_BODY_SCAN - r->scanned), &d);

		if (k <= 0) {
			bad = k < 0;
			break;
		}
		memmove(buf + clen, buf + pos + d.off, d.len);
		clen += d.len;
		pos += (size_t)k;
		r->scanned += (uint64_t)k;
	}
	/* what arrived before a framing error still counts */
	if (memmem(buf, clen, h->body, tl))
		return hc_verdict(what, CHECK_PASS, "HTTP %u", r->status);
	if (bad)
		return hc_verdict(what, CHECK_FAIL, "HTTP %u, bad body: %s", r->status,
			       http_why(&r->m));
	if (!eof && !r->m.complete && r->scanned < HTTP_BODY_SCAN) {
		size_t keep = MIN(clen, tl - 1);

		memmove(buf, buf + clen - keep, keep);
		*len = r->kept = keep;
		return HC_MORE;
	}
	return hc_verdict(what, CHECK_FAIL, "HTTP %u without \"%.30s\"", r->status, h->body);
}

/* The head, then what it means; the body if the text must be found. */
static int http_answer(void *state, const struct hc_conf *conf, char *buf, size_t *len,
		       bool eof, char *what)
{
	struct http_run *r = state;
	const struct http_conf *hc = conf_of(conf);
	const struct http_check *h = http_check_of(&hc->c);
	struct http_head head;
	int n;

	if (r->in_body)
		return read_body(r, h, buf, len, eof, what);
	for (;;) {
		if (!r->m.max_head) {
			http_msg_init(&r->m, HTTP_RESPONSE, HC_ANSWER_MAX);
			r->m.head_request = strcmp(h->method, "HEAD") == 0;
		}
		if (!http_like(buf, *len))
			return hc_verdict(what, CHECK_FAIL, "not an HTTP response");
		n = http_head_parse(&r->m, buf, *len, &head);
		if (n < 0)
			return bad_head(r, what);
		if (n == 0 && !eof)
			return HC_MORE;
		if (n == 0)
			return hc_verdict(what, CHECK_FAIL, "%s", *len ? "response cut short" :
				       "closed without answering");
		if (head.status >= 200 || head.status == 101)
			break;
		/* 1xx: an interim response, the final one follows */
		memmove(buf, buf + n, *len - (size_t)n + 1);
		*len -= (size_t)n;
		r->m.max_head = 0;
	}
	r->status = head.status;
	snprintf(what, HC_WHAT_MAX, "HTTP %u", head.status);
	if (head.status == hc->drain_status &&
	    (!hc->drain_header[0] || http_find(&head, buf, hc->drain_header, 0) >= 0))
		return CHECK_DRAINING;
	if (!http_check_expects(h, head.status))
		return CHECK_FAIL;
	if (!h->body[0])
		return CHECK_PASS;
	memmove(buf, buf + n, *len - (size_t)n + 1);
	*len -= (size_t)n;
	r->in_body = true;
	return read_body(r, h, buf, len, eof, what);
}

const struct hc_ops hc_http = {
	.name = "http",
	.words = &http_words,
	.slot = HC_SLOT_ACTIVE,
	.answer_max = HC_ANSWER_MAX,
	.state_size = sizeof(struct http_run),
	.want = http_want,
	.request = http_request,
	.answer = http_answer,
	.done = hc_active_done,
	.forget = hc_active_forget,
};
