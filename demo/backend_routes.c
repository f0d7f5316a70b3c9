/*
 * backend_routes.c - what weir-backend answers, chosen by the request path
 * so that a test can steer one server through a proxy. One table entry per
 * path; an unlisted path gets the first entry ("NAME\n"). --fail-mode
 * reset|close-early|drain forces the route of that name on every request,
 * and /fail/set a status, except on the health and control paths (the
 * last block below): a test steers those separately.
 *
 *   /              200 "NAME\n"
 *   /echo          200, the head exactly as received then the body;
 *                  X-Body-Length and X-Body-Sha256 describe the body
 *   /headers       200, the request's header lines exactly as received
 *   /conns         connections accepted so far
 *   /requests      requests answered so far, this one included; requests
 *                  refused as malformed (4xx/5xx from the parser) count too
 *   /reqs-on-conn  the same for this connection
 *   /slow?ms=N     200 "NAME\n" after N ms (a loop timer)
 *   /status?code=N that status, body "N Reason\n"
 *   /drain         503 with X-Weir-Drain: 1, body "draining\n"
 *   /reset         the request is read, then an RST (SO_LINGER 0)
 *   /close-early   the request is read, then a FIN, no answer
 *   /partial       Content-Length: 100 and 10 bytes of body, then a FIN
 *   /chunked       Transfer-Encoding: chunked, three chunks
 *   /big?bytes=N   N bytes of 'a'..'z' repeated, streamed
 *   /expect-reject 417 before the body (the connection then closes)
 * and any path, with "Connection: upgrade" and "Upgrade: echo": 101, then
 * the connection echoes raw bytes ("[eof NAME]\n" after the client's FIN).
 *
 * Health and control (what a load balancer's checks see, changed at run time):
 *   /health             200 "ok\n"; or the status /health/set chose
 *                       (body "N Reason\n"), or the drain signal (as /drain)
 *   /health/set?code=N  /health answers N (200..599) and forgets drain=1;
 *              ?drain=1 /health answers the drain signal (drain=0: not)
 *   /agent              200 "TEXT\n", what the --agent port says now;
 *                       X-Agent-Polls: agent connections so far
 *   /agent/set?say=TEXT the --agent port says TEXT (URL-encoded, printable
 *                       ASCII, up to 127 bytes; "weight%2040", "drain")
 *   /fail/set?code=N    every other path answers N (200..599), body
 *                       "N Reason\n"; code=0 stops it
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "core/util.h"

#define ROUTE_KEEP_BODY  0x1   /* keep and hash the body (/echo) */
#define ROUTE_SKIP_BODY  0x2   /* answer before the body (/expect-reject) */
#define ROUTE_FAIL_MODE  0x4   /* --fail-mode may name it */
#define ROUTE_CONTROL    0x8   /* health and control: never failed on purpose */

#define SLOW_MAX_MS  3600000u
#define BIG_MAX      (1ull << 40)

struct route {
	const char *path;
	void (*answer)(struct conn *c);
	uint32_t (*delay)(const struct http_req *r);  /* NULL: none */
	unsigned flags;
};

/* Body bytes: sent, except in the answer to a HEAD request. */
static void body_send(struct conn *c, const void *p, size_t n)
{
	if (!c->req.is_head)
		conn_send(c, p, n);
}

static const char *reason(int status)
{
	static const struct { int status; const char *text; } reasons[] = {
		{ 200, "OK" }, { 201, "Created" }, { 202, "Accepted" }, { 204, "No Content" },
		{ 301, "Moved Permanently" }, { 302, "Found" }, { 304, "Not Modified" },
		{ 400, "Bad Request" }, { 401, "Unauthorized" }, { 403, "Forbidden" },
		{ 404, "Not Found" }, { 405, "Method Not Allowed" }, { 408, "Request Timeout" },
		{ 413, "Content Too Large" }, { 417, "Expectation Failed" },
		{ 429, "Too Many Requests" }, { 431, "Request Header Fields Too Large" },
		{ 500, "Internal Server Error" }, { 501, "Not Implemented" },
		{ 502, "Bad Gateway" }, { 503, "Service Unavailable" },
		{ 504, "Gateway Timeout" }, { 505, "HTTP Version Not Supported" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(reasons); i++)
		if (reasons[i].status == status)
			return reasons[i].text;
	return "Status";
}

/* 1xx, 204 and 304 answers have no body and no Content-Length. */
static bool status_has_body(int status)
{
	return status >= 200 && status != 204 && status != 304;
}

void reply_head(struct conn *c, int status, uint64_t len, const char *extra)
{
	struct http_req *r = &c->req;
	char framing[64] = "";

	r->status = status;
	r->resp_len = len;
	if (!status_has_body(status))
		r->resp_len = 0;
	else if (len != NO_LENGTH)
		snprintf(framing, sizeof(framing), "Content-Length: %" PRIu64 "\r\n", len);
	else if (r->minor == 1)
		snprintf(framing, sizeof(framing), "Transfer-Encoding: chunked\r\n");
	else
		r->keep_alive = false;   /* HTTP/1.0: the close ends the body */
	conn_sendf(c, "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n%sX-Backend: %s\r\n%s%s\r\n",
		   status, reason(status), framing, c->srv->name, extra ? extra : "",
		   r->keep_alive ? "" : "Connection: close\r\n");
}

void reply(struct conn *c, int status, const char *extra, const char *body, size_t blen)
{
	reply_head(c, status, status_has_body(status) ? blen : 0, extra);
	if (status_has_body(status))
		body_send(c, body, blen);
}

/* Finds "<key>=<value>" in <r>'s query; <value> may be empty. Returns 0
 * or -ENOENT. */
static int query_find(const struct http_req *r, const char *key, struct span *value)
{
	const char *p = r->query.p, *end = p + r->query.len;
	size_t klen = strlen(key);

	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *pair_end = amp ? amp : end;

		if ((size_t)(pair_end - p) > klen && memcmp(p, key, klen) == 0 && p[klen] == '=') {
			value->p = p + klen + 1;
			value->len = (size_t)(pair_end - value->p);
			return 0;
		}
		p = pair_end + 1;
	}
	return -ENOENT;
}

/* Finds "<key>=<decimal>" in <r>'s query; the value must be <= <max>.
 * Returns 0, -ENOENT or -EINVAL. */
static int query_u64(const struct http_req *r, const char *key, uint64_t max, uint64_t *out)
{
	struct span v;
	uint64_t n = 0;
	size_t i;

	if (query_find(r, key, &v) != 0)
		return -ENOENT;
	if (!v.len)
		return -EINVAL;
	for (i = 0; i < v.len; i++) {
		if (v.p[i] < '0' || v.p[i] > '9' || n > max)
			return -EINVAL;
		n = n * 10 + (uint64_t)(v.p[i] - '0');
	}
	if (n > max)
		return -EINVAL;
	*out = n;
	return 0;
}

static int hex_value(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f')
		return (ch | 0x20) - 'a' + 10;
	return -1;
}

/* Decodes the URL-encoded <v> ('+' is a blank, %XX a byte) into <out>, a
 * string of at most <size> - 1 bytes. Only printable ASCII may result: the
 * text goes on one line of a protocol. Returns 0 or -EINVAL. */
static int url_decode(struct span v, char *out, size_t size)
{
	size_t i, n = 0;

	for (i = 0; i < v.len; i++) {
		int ch = (unsigned char)v.p[i];

		if (ch == '+') {
			ch = ' ';
		} else if (ch == '%') {
			if (i + 2 >= v.len)
				return -EINVAL;
			if (hex_value(v.p[i + 1]) < 0 || hex_value(v.p[i + 2]) < 0)
				return -EINVAL;
			ch = hex_value(v.p[i + 1]) * 16 + hex_value(v.p[i + 2]);
			i += 2;
		}
		if (ch < 0x20 || ch > 0x7e || n + 1 >= size)
			return -EINVAL;
		out[n++] = (char)ch;
	}
	out[n] = '\0';
	return 0;
}

static void reply_text(struct conn *c, int status, const char *extra, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void reply_text(struct conn *c, int status, const char *extra, const char *fmt, ...)
{
	char body[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	reply(c, status, extra, body, MIN((size_t)n, sizeof(body) - 1));
}

static void answer_name(struct conn *c)
{
	size_t n = strlen(c->srv->name);

	reply_head(c, 200, n + 1, NULL);
	body_send(c, c->srv->name, n);
	body_send(c, "\n", 1);
}

static void answer_echo(struct conn *c)
{
	struct http_req *r = &c->req;
	char extra[256], hex[2 * SHA256_LEN + 1];

	sha256_hex(&r->sha, hex);
	snprintf(extra, sizeof(extra), "X-Body-Length: %" PRIu64 "\r\nX-Body-Sha256: %s\r\n"
		 "X-Trailer-Count: %u\r\n", r->body_len, hex, r->trailers);
	reply_head(c, 200, c->head.len + c->body.len, extra);
	body_send(c, buf_head(&c->head), c->head.len);
	body_send(c, buf_head(&c->body), c->body.len);
}

static void answer_headers(struct conn *c)
{
	reply(c, 200, NULL, c->req.headers.p, c->req.headers.len);
}

static void answer_conns(struct conn *c)
{
	reply_text(c, 200, NULL, "%" PRIu64 "\n", c->srv->conns);
}

static void answer_requests(struct conn *c)
{
	reply_text(c, 200, NULL, "%" PRIu64 "\n", c->srv->requests);
}

static void answer_reqs_on_conn(struct conn *c)
{
	reply_text(c, 200, NULL, "%" PRIu64 "\n", c->nreqs);
}

static uint32_t slow_delay(const struct http_req *r)
{
	uint64_t ms;

	return query_u64(r, "ms", SLOW_MAX_MS, &ms) == 0 ? (uint32_t)ms : 0;
}

static void answer_slow(struct conn *c)
{
	uint64_t ms;

	if (query_u64(&c->req, "ms", SLOW_MAX_MS, &ms) != 0)
		reply_text(c, 400, NULL, "slow needs ms=0..%u\n", SLOW_MAX_MS);
	else
		answer_name(c);
}

static void answer_status(struct conn *c)
{
	uint64_t code;

	if (query_u64(&c->req, "code", 599, &code) != 0 || code < 200)
		reply_text(c, 400, NULL, "status needs code=200..599\n");
	else
		reply_text(c, (int)code, NULL, "%d %s\n", (int)code, reason((int)code));
}

static void answer_drain(struct conn *c)
{
	reply_text(c, 503, "X-Weir-Drain: 1\r\n", "draining\n");
}

static void answer_reset(struct conn *c)
{
	conn_finish(c, FIN_RESET);
}

static void answer_close_early(struct conn *c)
{
	conn_finish(c, FIN_CLOSE);
}

static void answer_partial(struct conn *c)
{
	reply_head(c, 200, 100, NULL);
	body_send(c, "0123456789", 10);
	conn_finish(c, FIN_CLOSE);
}

static void answer_chunked(struct conn *c)
{
	static const char *const chunks[] = { "chunk 1\n", "chunk 2\n", "chunk 3\n" };
	bool framed = c->req.minor == 1;
	size_t i;

	reply_head(c, 200, NO_LENGTH, NULL);
	for (i = 0; i < ARRAY_SIZE(chunks); i++) {
		size_t n = strlen(chunks[i]);

		if (framed && !c->req.is_head)
			conn_sendf(c, "%zx\r\n", n);
		body_send(c, chunks[i], n);
		if (framed)
			body_send(c, "\r\n", 2);
	}
	if (framed)
		body_send(c, "0\r\n\r\n", 5);
}

/* 'a'..'z' repeated; a whole number of periods, so every piece of a /big
 * body queued from its start continues the pattern. */
static char pattern[26 * 630];

static void answer_big(struct conn *c)
{
	uint64_t n;

	if (query_u64(&c->req, "bytes", BIG_MAX, &n) != 0) {
		reply_text(c, 400, NULL, "big needs bytes=0..%llu\n", BIG_MAX);
		return;
	}
	if (!pattern[0])
		for (size_t i = 0; i < sizeof(pattern); i++)
			pattern[i] = (char)('a' + i % 26);
	reply_head(c, 200, n, NULL);
	c->big_left = c->req.is_head ? 0 : n;
	if (c->big_left)
		c->state = ST_STREAM;
}

bool route_stream(struct conn *c)
{
	bool moved = false;

	while (c->big_left && c->out.len < OUT_HIGH && !c->failed) {
		size_t n = (size_t)MIN(c->big_left, (uint64_t)sizeof(pattern));

		conn_send(c, pattern, n);
		c->big_left -= n;
		moved = true;
	}
	if (c->big_left)
		return moved;
	http_request_end(c);
	return true;
}

static void answer_expect_reject(struct conn *c)
{
	reply_text(c, 417, NULL, "expectation refused\n");
}

static void answer_upgrade(struct conn *c)
{
	conn_sendf(c, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
		   "Upgrade: echo\r\nX-Backend: %s\r\n\r\n", c->srv->name);
	c->req.status = 101;
	c->state = ST_RAW;
}

/* --- health and control --------------------------------------------------- */

static void answer_health(struct conn *c)
{
	int status = c->srv->health_status;

	if (c->srv->health_drain)
		answer_drain(c);
	else if (status == 200)
		reply_text(c, 200, NULL, "ok\n");
	else
		reply_text(c, status, NULL, "%d %s\n", status, reason(status));
}

/* "code=N" and "drain=0|1", either or both; code=N also ends a drain. */
static void answer_health_set(struct conn *c)
{
	struct server *s = c->srv;
	uint64_t code = 0, drain = 0;
	int has_code = query_u64(&c->req, "code", 599, &code);
	int has_drain = query_u64(&c->req, "drain", 1, &drain);

	if (has_code == -EINVAL || has_drain == -EINVAL || (has_code == 0 && code < 200) ||
	    (has_code == -ENOENT && has_drain == -ENOENT)) {
		reply_text(c, 400, NULL, "health/set needs code=200..599 or drain=0|1\n");
		return;
	}
	if (has_code == 0) {
		s->health_status = (int)code;
		s->health_drain = false;
	}
	if (has_drain == 0)
		s->health_drain = drain;
	if (s->health_drain)
		reply_text(c, 200, NULL, "health drain\n");
	else
		reply_text(c, 200, NULL, "health %d\n", s->health_status);
}

static void answer_agent(struct conn *c)
{
	char extra[64];

	snprintf(extra, sizeof(extra), "X-Agent-Polls: %" PRIu64 "\r\n", c->srv->agent_polls);
	reply_text(c, 200, extra, "%s\n", c->srv->agent_say);
}

static void answer_agent_set(struct conn *c)
{
	char say[AGENT_SAY_MAX];
	struct span v;

	if (query_find(&c->req, "say", &v) != 0 || url_decode(v, say, sizeof(say)) != 0) {
		reply_text(c, 400, NULL, "agent/set needs say=TEXT (URL-encoded, printable, "
			   "at most %d bytes)\n", AGENT_SAY_MAX - 1);
		return;
	}
	memcpy(c->srv->agent_say, say, sizeof(say));
	reply_text(c, 200, NULL, "agent says %s\n", say);
}

static void answer_fail_set(struct conn *c)
{
	uint64_t code;

	if (query_u64(&c->req, "code", 599, &code) != 0 || (code && code < 200)) {
		reply_text(c, 400, NULL, "fail/set needs code=200..599, or 0 to stop\n");
		return;
	}
	c->srv->fail_status = (int)code;
	reply_text(c, 200, NULL, "fail %d\n", (int)code);
}

/* What every traffic path answers after /fail/set?code=N. */
static void answer_fail_status(struct conn *c)
{
	int status = c->srv->fail_status;

	reply_text(c, status, NULL, "%d %s\n", status, reason(status));
}

static const struct route routes[] = {
	{ "/", answer_name, NULL, 0 },   /* first: the default */
	{ "/echo", answer_echo, NULL, ROUTE_KEEP_BODY },
	{ "/headers", answer_headers, NULL, 0 },
	{ "/conns", answer_conns, NULL, 0 },
	{ "/requests", answer_requests, NULL, 0 },
	{ "/reqs-on-conn", answer_reqs_on_conn, NULL, 0 },
	{ "/slow", answer_slow, slow_delay, 0 },
	{ "/status", answer_status, NULL, 0 },
	{ "/drain", answer_drain, NULL, ROUTE_FAIL_MODE },
	{ "/reset", answer_reset, NULL, ROUTE_FAIL_MODE },
	{ "/close-early", answer_close_early, NULL, ROUTE_FAIL_MODE },
	{ "/partial", answer_partial, NULL, 0 },
	{ "/chunked", answer_chunked, NULL, 0 },
	{ "/big", answer_big, NULL, 0 },
	{ "/expect-reject", answer_expect_reject, NULL, ROUTE_SKIP_BODY },
	{ "/health", answer_health, NULL, ROUTE_CONTROL },
	{ "/health/set", answer_health_set, NULL, ROUTE_CONTROL },
	{ "/agent", answer_agent, NULL, ROUTE_CONTROL },
	{ "/agent/set", answer_agent_set, NULL, ROUTE_CONTROL },
	{ "/fail/set", answer_fail_set, NULL, ROUTE_CONTROL },
};

static const struct route upgrade_route = { "upgrade", answer_upgrade, NULL, 0 };
static const struct route fail_status_route = { "fail", answer_fail_status, NULL, 0 };

static const struct route *route_find(const struct http_req *r)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(routes); i++)
		if (strlen(routes[i].path) == r->path.len &&
		    memcmp(routes[i].path, r->path.p, r->path.len) == 0)
			return &routes[i];
	return &routes[0];
}

const struct route *route_pick(const struct server *s, const struct http_req *r)
{
	const struct route *rt = route_find(r);
	bool control = rt->flags & ROUTE_CONTROL;

	if (s->fail_route && !control)
		return s->fail_route;
	if (s->fail_status && !control)
		return &fail_status_route;
	if (r->upgrade_echo)
		return &upgrade_route;
	return rt;
}

bool route_is_control(const struct route *rt)
{
	return rt->flags & ROUTE_CONTROL;
}

const struct route *route_fail_mode(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(routes); i++)
		if ((routes[i].flags & ROUTE_FAIL_MODE) && strcmp(routes[i].path + 1, name) == 0)
			return &routes[i];
	return NULL;
}

bool route_skips_body(const struct route *rt)
{
	return rt->flags & ROUTE_SKIP_BODY;
}

bool route_keeps_body(const struct route *rt)
{
	return rt->flags & ROUTE_KEEP_BODY;
}

uint32_t route_delay(const struct route *rt, const struct http_req *r)
{
	return rt->delay ? rt->delay(r) : 0;
}

void route_answer(struct conn *c)
{
	c->req.route->answer(c);
}
