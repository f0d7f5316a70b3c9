/*
 * backend_http.c - reads HTTP/1.x requests for weir-backend.
 *
 * A request goes ST_HEAD -> ST_BODY -> [ST_DELAY] -> answered -> ST_HEAD
 * (or ST_FINISH when the connection is not kept alive). Its head is copied
 * from conn->in to conn->head, so that /echo can send it back exactly as it
 * arrived, and parsed there; its body is decoded from conn->in as it comes
 * and dropped, or kept in conn->body for /echo. Nothing is answered before
 * the whole body is read, except a 417 for /expect-reject.
 *
 * Strict where framing is at stake (request line, header names,
 * Content-Length, Transfer-Encoding, chunk sizes), because a test server
 * must never guess where a body ends; lenient elsewhere (bare LF line ends,
 * blank lines before a request, no Host).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "backend.h"
#include "core/util.h"

#define CHUNK_LINE_MAX 4096   /* a chunk-size line with its extensions */

/* --- characters and spans ------------------------------------------------ */

static bool is_tchar(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/* Control characters other than HTAB never belong in a line. */
static bool is_ctl(unsigned char ch)
{
	return (ch < 0x20 && ch != '\t') || ch == 0x7f;
}

static bool is_ows(char ch)
{
	return ch == ' ' || ch == '\t';
}

static struct span span_trim(struct span s)
{
	while (s.len && is_ows(s.p[0])) {
		s.p++;
		s.len--;
	}
	while (s.len && is_ows(s.p[s.len - 1]))
		s.len--;
	return s;
}

static bool span_ieq(struct span s, const char *lit)
{
	return strlen(lit) == s.len && strncasecmp(s.p, lit, s.len) == 0;
}

/* Takes the next comma-separated element of <list> into <elem>, trimmed.
 * Returns false when the list is used up. */
static bool list_next(struct span *list, struct span *elem)
{
	const char *comma;

	if (!list->len)
		return false;
	comma = memchr(list->p, ',', list->len);
	elem->p = list->p;
	elem->len = comma ? (size_t)(comma - list->p) : list->len;
	list->p += elem->len + (comma ? 1 : 0);
	list->len -= elem->len + (comma ? 1 : 0);
	*elem = span_trim(*elem);
	return true;
}

/* Parses decimal digits (all of <s>, at least one); values past <max> are
 * reported as max + 1. Returns 0 or -EINVAL. */
static int span_u64(struct span s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (!s.len)
		return -EINVAL;
	for (i = 0; i < s.len; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return -EINVAL;
		if (v <= max)
			v = v * 10 + (uint64_t)(s.p[i] - '0');
	}
	*out = v > max ? max + 1 : v;
	return 0;
}

/* --- the request line and the headers ----------------------------------- */

/* Splits <r>'s target into path and query. The absolute form a proxy may
 * send ("http://host/p?q") routes on its path too. */
static void split_target(struct http_req *r)
{
	struct span t = r->target;
	const char *q, *end = t.p + t.len, *scheme = memmem(t.p, t.len, "://", 3);

	if (t.p[0] != '/' && scheme) {
		const char *slash = memchr(scheme + 3, '/', (size_t)(end - scheme - 3));

		t = slash ? (struct span){ slash, (size_t)(end - slash) } : (struct span){ "/", 1 };
	}
	q = memchr(t.p, '?', t.len);
	r->path.p = t.p;
	r->path.len = q ? (size_t)(q - t.p) : t.len;
	r->query.p = q ? q + 1 : t.p + t.len;
	r->query.len = q ? t.len - r->path.len - 1 : 0;
}

/* "METHOD SP TARGET SP HTTP/1.x". Returns 0 or an HTTP status. */
static int parse_request_line(struct http_req *r, struct span l)
{
	const char *sp1 = memchr(l.p, ' ', l.len), *sp2, *end = l.p + l.len;
	struct span v;
	size_t i;

	if (!sp1 || sp1 == l.p)
		return 400;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1));
	if (!sp2 || sp2 == sp1 + 1)
		return 400;
	r->method = (struct span){ l.p, (size_t)(sp1 - l.p) };
	r->target = (struct span){ sp1 + 1, (size_t)(sp2 - sp1 - 1) };
	v = (struct span){ sp2 + 1, (size_t)(end - sp2 - 1) };
	for (i = 0; i < r->method.len; i++)
		if (!is_tchar((unsigned char)r->method.p[i]))
			return 400;
	for (i = 0; i < r->target.len; i++)
		if ((unsigned char)r->target.p[i] <= ' ' || (unsigned char)r->target.p[i] >= 0x7f)
			return 400;
	if (v.len != 8 || memcmp(v.p, "HTTP/", 5) != 0 || v.p[6] != '.' ||
	    v.p[5] < '0' || v.p[5] > '9' || v.p[7] < '0' || v.p[7] > '9')
		return 400;
	if (v.p[5] != '1' || v.p[7] > '1')
		return 505;
	r->minor = v.p[7] - '0';
	r->is_head = span_ieq(r->method, "HEAD");
	split_target(r);
	return 0;
}

static int hdr_content_length(struct http_req *r, struct span v)
{
	uint64_t n;

	if (span_u64(v, BODY_MAX, &n) != 0)
		return 400;
	if (r->has_clen && r->clen != n)
		return 400;
	r->has_clen = true;
	r->clen = n;
	return 0;
}

/* Only "chunked" is understood, and it must be the last coding, once. */
static int hdr_transfer_encoding(struct http_req *r, struct span v)
{
	struct span e;
	bool any = false;

	while (list_next(&v, &e)) {
		if (!e.len)
			continue;
		if (r->chunked)
			return 400;
		if (!span_ieq(e, "chunked"))
			return 501;
		r->chunked = any = true;
	}
	return any ? 0 : 400;
}

static int hdr_connection(struct http_req *r, struct span v)
{
	struct span e;

	while (list_next(&v, &e)) {
		if (span_ieq(e, "close"))
			r->conn_close = true;
		else if (span_ieq(e, "upgrade"))
			r->conn_upgrade = true;
	}
	return 0;
}

static int hdr_upgrade(struct http_req *r, struct span v)
{
	struct span e;

	while (list_next(&v, &e)) {
		const char *slash = memchr(e.p, '/', e.len);

		if (slash)
			e.len = (size_t)(slash - e.p);
		if (span_ieq(e, "echo"))
			r->upgrade_offered = true;
	}
	return 0;
}

static int hdr_expect(struct http_req *r, struct span v)
{
	if (span_ieq(v, "100-continue"))
		r->expect_continue = true;
	return 0;
}

static const struct {
	const char *name;
	int (*parse)(struct http_req *r, struct span v);
} header_parsers[] = {
	{ "Content-Length", hdr_content_length },
	{ "Transfer-Encoding", hdr_transfer_encoding },
	{ "Connection", hdr_connection },
	{ "Upgrade", hdr_upgrade },
	{ "Expect", hdr_expect },
};

/* Splits a header (or trailer) line into name and trimmed value. Returns
 * 0, or 400 for a line that is not "token: value" (obs-fold included). */
static int header_split(struct span l, struct span *name, struct span *value)
{
	const char *colon = memchr(l.p, ':', l.len);
	size_t i;

	if (!colon || colon == l.p)
		return 400;
	*name = (struct span){ l.p, (size_t)(colon - l.p) };
	for (i = 0; i < name->len; i++)
		if (!is_tchar((unsigned char)name->p[i]))
			return 400;
	*value = span_trim((struct span){ colon + 1, (size_t)(l.p + l.len - colon - 1) });
	for (i = 0; i < value->len; i++)
		if (is_ctl((unsigned char)value->p[i]))
			return 400;
	return 0;
}

static int parse_header(struct http_req *r, struct span l)
{
	struct span name, value;
	size_t i;
	int rc = header_split(l, &name, &value);

	if (rc)
		return rc;
	for (i = 0; i < ARRAY_SIZE(header_parsers); i++)
		if (span_ieq(name, header_parsers[i].name))
			return header_parsers[i].parse(r, value);
	return 0;
}

/* The next line of a complete head at *<p>, without its LF or CRLF. */
static struct span line_next(const char **p, const char *end)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	struct span l = { *p, (size_t)(nl - *p) };

	*p = nl + 1;
	if (l.len && l.p[l.len - 1] == '\r')
		l.len--;
	return l;
}

/* What the headers mean together, once all are read. */
static void settle_headers(struct http_req *r)
{
	/* Both framings: chunked wins (RFC 9112 6.3), and the connection
	 * cannot be trusted afterwards. */
	if (r->chunked && r->has_clen) {
		r->has_clen = false;
		r->conn_close = true;
	}
	r->keep_alive = r->minor == 1 && !r->conn_close;
	r->expect_continue = r->expect_continue && r->minor == 1;
	r->upgrade_echo = r->minor == 1 && r->conn_upgrade && r->upgrade_offered;
}

/* Parses the complete head <p>[<len>] (it ends with a blank line) into <r>.
 * Returns 0 or an HTTP status. */
static int parse_head(struct http_req *r, const char *p, size_t len)
{
	const char *end = p + len;
	struct span l = line_next(&p, end);
	int rc;
	size_t i;

	for (i = 0; i < l.len; i++)
		if (is_ctl((unsigned char)l.p[i]))
			return 400;
	rc = parse_request_line(r, l);
	if (rc)
		return rc;
	r->headers.p = p;
	for (;;) {
		const char *at = p;

		l = line_next(&p, end);
		if (!l.len) {
			r->headers.len = (size_t)(at - r->headers.p);
			break;
		}
		if (is_ows(l.p[0]))
			return 400;   /* obs-fold: RFC 9112 5.2 lets a server refuse it */
		rc = parse_header(r, l);
		if (rc)
			return rc;
	}
	settle_headers(r);
	return 0;
}

/* --- finding the head ---------------------------------------------------- */

/* Drops the blank lines a client may send between requests. */
static void skip_blank_lines(struct buf *in)
{
	for (;;) {
		const char *p = buf_head(in);

		if (in->len >= 1 && p[0] == '\n')
			buf_consume(in, 1);
		else if (in->len >= 2 && p[0] == '\r' && p[1] == '\n')
			buf_consume(in, 2);
		else
			return;
	}
}

/* Returns the length of the head at the front of <c>->in through its blank
 * line, or 0 while it is incomplete. Resumes where the last call stopped. */
static size_t head_end(struct conn *c)
{
	const char *p = buf_head(&c->in);
	size_t len = MIN(c->in.len, (size_t)HEAD_MAX);
	size_t at = c->req.scan;

	while (at < len) {
		const char *nl = memchr(p + at, '\n', len - at);
		size_t start = at;

		if (!nl)
			break;
		at = (size_t)(nl - p) + 1;
		/* The first line is never blank: skip_blank_lines() ate those. */
		if (start > 0 && (at - start == 1 || (at - start == 2 && p[start] == '\r')))
			return at;
		c->req.scan = at;
	}
	return 0;
}

/* --- the body ------------------------------------------------------------ */

/* Takes <n> body bytes from the front of in. */
static void body_take(struct conn *c, size_t n)
{
	struct http_req *r = &c->req;
	const char *p = buf_head(&c->in);

	r->body_len += n;
	if (r->keep_body) {
		sha256_update(&r->sha, p, n);
		if (buf_append(&c->body, p, n) != 0)
			c->failed = true;
	}
	buf_consume(&c->in, n);
}

/* Each decoder returns 1 when it moved, 0 when it needs more input, or
 * minus an HTTP status. */
static int body_length(struct conn *c)
{
	size_t n = (size_t)MIN((uint64_t)c->in.len, c->req.left);

	if (!n)
		return 0;
	body_take(c, n);
	c->req.left -= n;
	if (!c->req.left)
		c->req.bst = c->req.bst == CHUNK_DATA ? CHUNK_CRLF : BODY_NONE;
	return 1;
}

static int hex_digit(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f')
		return (ch | 0x20) - 'a' + 10;
	return -1;
}

/* "1a3f[ ;ext=val;ext2]" without its line end. Returns 0 or an HTTP status. */
static int parse_chunk_size(struct span l, uint64_t *size)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < l.len && hex_digit(l.p[i]) >= 0; i++)
		if (v <= BODY_MAX)   /* past it, only "too large" matters */
			v = v * 16 + (uint64_t)hex_digit(l.p[i]);
	if (i == 0)
		return 400;
	while (i < l.len && is_ows(l.p[i]))
		i++;
	if (i < l.len && l.p[i] != ';')
		return 400;
	for (; i < l.len; i++)
		if (is_ctl((unsigned char)l.p[i]))
			return 400;
	*size = v;
	return v > BODY_MAX ? 413 : 0;
}

static int chunk_size(struct conn *c)
{
	struct http_req *r = &c->req;
	const char *p = buf_head(&c->in);
	const char *nl = memchr(p, '\n', MIN(c->in.len, (size_t)CHUNK_LINE_MAX));
	struct span l = { p, nl ? (size_t)(nl - p) : 0 };
	uint64_t size;
	int rc;

	if (!nl)
		return c->in.len >= CHUNK_LINE_MAX ? -400 : 0;
	if (l.len && l.p[l.len - 1] == '\r')
		l.len--;
	rc = parse_chunk_size(l, &size);
	if (rc)
		return -rc;
	buf_consume(&c->in, (size_t)(nl - p) + 1);
	if (r->body_len + size > BODY_MAX)
		return -413;
	r->left = size;
	r->bst = size ? CHUNK_DATA : CHUNK_TRAILER;
	return 1;
}

static int chunk_crlf(struct conn *c)
{
	const char *p = buf_head(&c->in);

	if (c->in.len >= 1 && p[0] == '\n') {
		buf_consume(&c->in, 1);
	} else if (c->in.len >= 1 && p[0] != '\r') {
		return -400;
	} else if (c->in.len >= 2) {
		if (p[1] != '\n')
			return -400;
		buf_consume(&c->in, 2);
	} else {
		return 0;
	}
	c->req.bst = CHUNK_SIZE;
	return 1;
}

/* A trailer line, or the blank line that ends the body. Trailers are
 * checked and counted, and their total is bounded like a head. */
static int chunk_trailer(struct conn *c)
{
	struct http_req *r = &c->req;
	const char *p = buf_head(&c->in);
	size_t budget = HEAD_MAX - r->trailer_bytes;
	const char *nl = memchr(p, '\n', MIN(c->in.len, budget));
	struct span l = { p, nl ? (size_t)(nl - p) : 0 }, name, value;

	if (!nl)
		return c->in.len >= budget ? -431 : 0;
	r->trailer_bytes += l.len + 1;
	if (l.len && l.p[l.len - 1] == '\r')
		l.len--;
	if (!l.len) {
		r->bst = BODY_NONE;
	} else {
		if (is_ows(l.p[0]) || header_split(l, &name, &value) != 0)
			return -400;
		r->trailers++;
	}
	buf_consume(&c->in, (size_t)(nl - p) + 1);
	return 1;
}

static int body_decode(struct conn *c)
{
	switch (c->req.bst) {
	case BODY_LENGTH:
	case CHUNK_DATA:
		return body_length(c);
	case CHUNK_SIZE:
		return chunk_size(c);
	case CHUNK_CRLF:
		return chunk_crlf(c);
	case CHUNK_TRAILER:
		return chunk_trailer(c);
	default:
		return 0;
	}
}

/* --- a request's life ---------------------------------------------------- */

/* The "%.*s" argument for <s>, which may be still unset. */
#define SPAN_ARG(s) (int)(s).len, (s).p ? (s).p : ""

static void log_request(struct conn *c)
{
	struct http_req *r = &c->req;
	char peer[ADDR_STRLEN];

	if (!c->srv->verbose)
		return;
	fprintf(stderr, "weir-backend %s: %s \"%.*s %.*s HTTP/1.%d\" %d %" PRIu64 " body=%" PRIu64 "\n",
		c->srv->name, addr_str(&c->peer, peer), SPAN_ARG(r->method),
		SPAN_ARG(r->target), r->minor, r->status, r->resp_len, r->body_len);
}

void http_error(struct conn *c, int status)
{
	char body[64];
	int n;

	/* Refusals count as requests: a test asking whether anything reached
	 * the server through a proxy must see malformed ones too. */
	c->srv->requests++;
	c->nreqs++;
	c->req.keep_alive = false;
	n = snprintf(body, sizeof(body), "%d\n", status);
	reply(c, status, NULL, body, (size_t)n);
	log_request(c);
	conn_finish(c, FIN_CLOSE);
}

void http_request_end(struct conn *c)
{
	bool keep = c->req.keep_alive;

	/* A large /echo body is not kept for the life of the connection. */
	if (c->body.cap > HEAD_MAX)
		buf_free(&c->body);
	buf_reset(&c->body);
	memset(&c->req, 0, sizeof(c->req));
	c->state = ST_HEAD;
	if (!keep)
		conn_finish(c, FIN_CLOSE);
}

static void http_answer(struct conn *c)
{
	c->srv->requests++;
	c->nreqs++;
	/* An answer that takes the connection over (stream, upgrade, reset)
	 * moves it to another state; the others leave it here. */
	c->state = ST_HEAD;
	route_answer(c);
	log_request(c);
	if (c->state == ST_HEAD)
		http_request_end(c);
}

void http_timer(struct conn *c)
{
	if (c->state == ST_DELAY)
		http_answer(c);
}

/* The body is read: answer now or after the route's delay. */
static void request_ready(struct conn *c)
{
	const struct route *rt = c->req.route;
	uint64_t ms = (uint64_t)route_delay(rt, &c->req) +
		      (route_is_control(rt) ? 0 : c->srv->fail_delay_ms);

	if (ms) {
		conn_delay(c, (uint32_t)MIN(ms, (uint64_t)UINT32_MAX));
		return;
	}
	http_answer(c);
}

/* The head is parsed: pick the route and get ready for the body. */
static void request_route(struct conn *c)
{
	struct http_req *r = &c->req;
	const struct server *s = c->srv;

	r->route = route_pick(s, r);
	if (r->chunked)
		r->bst = CHUNK_SIZE;
	else if (r->has_clen && r->clen)
		r->bst = BODY_LENGTH;
	r->left = r->clen;
	if (r->has_clen && r->clen > BODY_MAX) {
		http_error(c, 413);
		return;
	}
	if (route_skips_body(r->route)) {
		/* The body may come or not: the connection cannot go on. */
		if (r->bst != BODY_NONE)
			r->keep_alive = false;
		r->bst = BODY_NONE;
		http_answer(c);
		return;
	}
	r->keep_body = route_keeps_body(r->route);
	if (r->keep_body)
		sha256_init(&r->sha);
	if (r->expect_continue && r->bst != BODY_NONE)
		conn_sendf(c, "HTTP/1.1 100 Continue\r\n\r\n");
	c->state = ST_BODY;
}

static bool head_step(struct conn *c)
{
	size_t hlen;
	int status;

	/* Answers pile up unread: take no more requests until they drain. */
	if (c->out.len >= OUT_HIGH)
		return false;
	if (!c->req.scan)
		skip_blank_lines(&c->in);
	hlen = head_end(c);
	if (!hlen) {
		if (c->in.len < HEAD_MAX)
			return false;
		http_error(c, 431);
		return true;
	}
	buf_reset(&c->head);
	if (buf_append(&c->head, buf_head(&c->in), hlen) != 0) {
		c->failed = true;
		return true;
	}
	buf_consume(&c->in, hlen);
	status = parse_head(&c->req, buf_head(&c->head), hlen);
	if (status)
		http_error(c, status);
	else
		request_route(c);
	return true;
}

static bool body_step(struct conn *c)
{
	bool moved = false;
	int rc;

	while (c->req.bst != BODY_NONE) {
		rc = body_decode(c);
		if (rc < 0) {
			http_error(c, -rc);
			return true;
		}
		if (rc == 0)
			return moved;
		moved = true;
	}
	request_ready(c);
	return true;
}

bool http_work(struct conn *c)
{
	switch (c->state) {
	case ST_HEAD:
		return head_step(c);
	case ST_BODY:
		return body_step(c);
	case ST_STREAM:
		return route_stream(c);
	default:
		return false;
	}
}
