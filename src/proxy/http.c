/*
 * http.c - the HTTP/1.x reverse proxy (--proxy http) and the redirect mode
 * (--proxy redirect).
 *
 * One session per client connection, on the worker that accepted it. A
 * request goes through these steps:
 *   head      read until the head is complete (header timeout: 408; too
 *             large: 431; malformed: 400), parse it (proto/http.c)
 *   dispatch  schedule a real server (per request), take an idle keep-alive
 *             connection from the worker's pool or open one
 *   forward   the rewritten head and the body (streamed as it arrives) go
 *             into the request store and from there to the server; the
 *             store keeps them until the response starts, spilling large
 *             bodies to a temporary file
 *   response  the first byte of a final response ends retries; its head is
 *             rewritten, its body streamed to the client, and the server
 *             connection goes back to the pool if it can carry another
 * A server that fails before answering (refused, reset, closed, timed out)
 * or answers the drain signal gets the request sent again to another
 * server, skipping those tried: always for idempotent methods, and for the
 * others when the server cannot have seen it (connect failed, drain
 * signal) unless retry_unsafe is on. Requests on one connection are
 * answered in order; pipelined ones wait in the client buffer.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "core/table.h"
#include "health/state.h"
#include "proto/http.h"
#include "proto/proxy_proto.h"
#include "proxy/http.h"
#include "proxy/http_opts.h"
#include "proxy/pworker.h"
#include "proxy/reqstore.h"
#include "proxy/route.h"
#include "proxy/srvpool.h"

#define MAX_TRIES 8
#define OUT_HIGH (256u << 10)     /* stop reading the server above this */
#define STORE_HIGH (256u << 10)   /* stop reading the client above this unsent */
#define READ_CHUNK 16384
#define PARK_AFTER_MS 1000        /* an idle keep-alive connection parks after this */

enum hs_state { HS_HEAD, HS_FORWARD, HS_TUNNEL, HS_LINGER, HS_CLOSED };

/*
 * Lingering close, as nginx's: closing a socket with bytes unread makes the
 * kernel send a reset, which can overtake the answer just written (and a
 * client still sending sees its send fail before it reads the status). So
 * when weir ends a connection while the client may still be sending (its
 * own error answers, a request not read whole, bytes pipelined behind),
 * it shuts its write side (the answer, then EOF), reads and drops what
 * still comes until the client closes, and closes after LINGER_MS in all,
 * LINGER_IDLE_MS without a byte, or LINGER_MAX bytes, whichever is first.
 */
#define LINGER_MS 5000
#define LINGER_IDLE_MS 2000
#define LINGER_MAX (64ull << 20)

struct http_session {
	struct session_link link;
	struct loop_io cli;
	struct worker *w;
	struct virtual_service *svc;   /* reference */
	struct virtual_service *target; /* reference: svc, or the pool a route chose */
	bool redirect;                 /* --proxy redirect */
	struct vs_runtime rt;
	struct weir_addr client;       /* as the PROXY header says, if trusted */
	char client_ip[ADDR_STRLEN];   /* its address as text, once needed */
	uint8_t client_ip_len;         /* 0: not made yet */
	struct weir_addr local;        /* the address the client connected to */
	bool need_proxy_header;        /* a trusted front: its header comes first */
	struct buf cin, cout;
	bool cli_readable, cli_eof, close_after;
	bool cli_hup;                  /* the client's FIN was reported: read to EOF */
	bool linger;                   /* weir answered an error: linger on close */
	uint64_t linger_end;           /* ms: HS_LINGER ends then at the latest */
	uint64_t linger_bytes;         /* dropped so far */
	enum hs_state state;
	struct timer timer;            /* fires at or before <deadline> */
	uint64_t deadline;             /* ms; 0: none */
	unsigned served;               /* requests answered on this connection */
	/* the request in flight */
	struct http_msg req;
	struct http_head *rh;          /* its head: req_head, while try_head() handles it */
	uint8_t req_minor;             /* HTTP/1.<minor> of the request */
	bool req_done, idempotent, keepalive, head_method;
	uint64_t body_bytes;
	struct reqstore store;
	char line[200];                /* "METHOD target" for the access log */
	uint64_t t_start;              /* the head was complete */
	uint64_t t_dispatch;           /* a server was first chosen (log_stamp) */
	uint64_t t_connected;          /* a server connection was ready (log_stamp) */
	uint64_t t_resp;               /* the response head was complete */
	int ntried;
	struct real_server *tried[MAX_TRIES]; /* references */
	uint16_t fail_status;          /* what the last failed try calls for */
	const char *fail_why;
	struct real_server *rs;        /* counted active by svc_schedule */
	struct srvconn *sc;
	bool srv_readable;
	bool srv_hup;                  /* the server's FIN was reported: read to EOF */
	struct http_msg resp;
	struct http_head *resph;       /* its head: resp_head, while server_pump() handles it */
	bool resp_keep_alive, resp_until_close; /* what the final response's head said */
	bool resp_started;
	uint16_t status;
	uint64_t resp_bytes;
	/* sticky sessions: the key the request carried */
	char sticky_key[128];
	uint8_t sticky_len;
	bool set_cookie;               /* insert mode: tell the client its server */
	bool fresh_retry;              /* a pooled connection died: tried a new one */
};

/*
 * The heads being handled. A head is parsed, used and forgotten in one go
 * (the session keeps the few scalars it needs later), so its 128 header
 * slots (2 KB) live once per worker thread, not in every session: an idle
 * keep-alive connection does not carry them. <s->rh> and <s->resph> point
 * here only while their head is handled, NULL otherwise.
 */
static _Thread_local struct http_head req_head, resp_head;

static void session_close(struct http_session *s);
static void count_status(struct vs_counters *c, void *arg);
static void dispatch(struct http_session *s);
static void client_flush(struct http_session *s);
static void linger_start(struct http_session *s);
static void server_pump(struct http_session *s);
static void next_request(struct http_session *s);
static bool client_pull(struct http_session *s);
static bool park_or_wait(struct http_session *s);

/* --- small helpers ----------------------------------------------------------- */

static uint64_t loop_ms(struct http_session *s)
{
	return loop_now(s->w->loop);
}

/*
 * The session's timeout. Most steps of a request push the deadline later;
 * moving a timer in the loop's heap each time would cost more than the
 * rest of the step, so the timer stays where it is and, when it fires
 * before the deadline, goes to sleep again until then. Only a deadline
 * earlier than the timer moves it.
 */
static void deadline_set(struct http_session *s, uint64_t when)
{
	s->deadline = when;
	if (!timer_armed(&s->timer) || when < s->timer.when)
		timer_arm(s->w->loop, &s->timer, when);
}

static void deadline_after(struct http_session *s, uint32_t ms)
{
	deadline_set(s, loop_ms(s) + ms);
}

static void deadline_clear(struct http_session *s)
{
	s->deadline = 0;
	timer_cancel(s->w->loop, &s->timer);
}

/* The counters of the share the request went to: its pool, or the
 * service's own servers (svc->own). */
static struct vs_counters *share(struct http_session *s)
{
	return stats_mine(s->target == s->svc ? &s->svc->own : &s->target->stats);
}

/* The service's counters, its share's once the request is routed (a head
 * refused before that counts in the service's alone), and the server's. */
static void counters(struct http_session *s, void (*fn)(struct vs_counters *, void *), void *arg)
{
	fn(stats_mine(&s->svc->stats), arg);
	if (s->target && s->state != HS_HEAD)
		fn(share(s), arg);
	if (s->rs)
		fn(stats_mine(&s->rs->stats), arg);
}

static const char *reason_of(int status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 413: return "Content Too Large";
	case 417: return "Expectation Failed";
	case 431: return "Request Header Fields Too Large";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

/* --- the access log ----------------------------------------------------------- */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static struct { char path[108]; int fd; } logs[16];

/* The fd for access log <path>, opened once (O_APPEND: whole lines). */
static int access_log_fd(const char *path)
{
	int fd = -1;

	if (strcmp(path, "stderr") == 0)
		return STDERR_FILENO;
	pthread_mutex_lock(&log_lock);
	for (size_t i = 0; i < ARRAY_SIZE(logs) && fd < 0; i++) {
		if (logs[i].path[0] && strcmp(logs[i].path, path) == 0) {
			fd = logs[i].fd;
		} else if (!logs[i].path[0]) {
			fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
			if (fd >= 0) {
				snprintf(logs[i].path, sizeof(logs[i].path), "%s", path);
				logs[i].fd = fd;
			}
			break;
		}
	}
	pthread_mutex_unlock(&log_lock);
	return fd;
}

static uint64_t ms_between(uint64_t from, uint64_t to)
{
	return from && to > from ? (to - from) / 1000000 : 0;
}

/* The time for a timing only the access log shows: no clock read without
 * one. */
static uint64_t log_stamp(struct http_session *s)
{
	return http_opts_rt(&s->rt)->access_log[0] ? now_ns() : 0;
}

/* One line per request, HAProxy-httplog-like: client, service, server,
 * status, body bytes, timings in ms Tw/Tc/Tr/Tt (waiting for a server,
 * connecting, until the response head, total), retries, request. */
static void access_log(struct http_session *s)
{
	char c[ADDR_STRLEN], v[ADDR_STRLEN], r[ADDR_STRLEN], line[512];
	uint64_t now = now_ns();
	int fd, n;

	if (!http_opts_rt(&s->rt)->access_log[0])
		return;
	fd = access_log_fd(http_opts_rt(&s->rt)->access_log);
	if (fd < 0)
		return;
	n = snprintf(line, sizeof(line), "%s %s %s %u %" PRIu64 " %" PRIu64 "/%" PRIu64
		     "/%" PRIu64 "/%" PRIu64 " %d \"%s\"\n",
		     addr_str(&s->client, c), addr_str(&s->svc->addr, v),
		     s->rs ? addr_str(&s->rs->addr, r) : "-", s->status, s->resp_bytes,
		     ms_between(s->t_start, s->t_dispatch),
		     ms_between(s->t_dispatch, s->t_connected),
		     ms_between(s->t_connected, s->t_resp),
		     ms_between(s->t_start, now), s->ntried, s->line);
	if (n > 0 && write(fd, line, (size_t)MIN((size_t)n, sizeof(line) - 1)) < 0) {
		/* a full disk must not stop traffic */
	}
}

/* --- answering ourselves ------------------------------------------------------- */

/* Answers <status> with a short body and closes after it. */
static void respond_error(struct http_session *s, int status, const char *why)
{
	const char *reason = reason_of(status);

	buf_printf(&s->cout, "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
		   "Content-Length: %zu\r\nConnection: close\r\n\r\n%s\n",
		   status, reason, strlen(reason) + 1, reason);
	unsigned cls = (unsigned)status / 100;

	s->status = (uint16_t)status;
	s->close_after = true;
	s->linger = true;
	counters(s, count_status, &cls);
	if (why)
		log_debug("http: %d to %s: %s", status, addr_str(&s->client, (char[ADDR_STRLEN]){ 0 }),
			  why);
	access_log(s);
	s->state = HS_HEAD; /* no more reading: close_after wins */
	client_flush(s);
}

/* --- writing heads ----------------------------------------------------------- */

/*
 * Heads are rewritten by copying spans of the parsed head, not formatted:
 * a header line written "Name: value\r\n" in the original is copied as it
 * is, and neighbouring lines that are kept go out in one copy. The bytes
 * are those "%.*s: %.*s\r\n" would give.
 */

/* Where a rewritten head goes: the request store (to the server) when
 * <store> is set, else <buf> (to the client). <from>..<to> of <base> wait
 * to be copied in one piece. The first failed write sticks in <rc>. */
struct head_out {
	struct reqstore *store;
	struct buf *buf;
	const char *base;
	uint32_t from, to;
	int rc;
};

static void out_put(struct head_out *o, const void *p, size_t n)
{
	int rc = o->store ? reqstore_put(o->store, p, n) : buf_put(o->buf, p, n);

	if (rc && !o->rc)
		o->rc = rc;
}

static void out_flush(struct head_out *o)
{
	if (o->to > o->from)
		out_put(o, o->base + o->from, o->to - o->from);
	o->from = o->to = 0;
}

/* Copies bytes [<from>, <to>) of the head, in one piece with the pending
 * ones when they follow them. */
static void out_span(struct head_out *o, uint32_t from, uint32_t to)
{
	if (o->to == o->from || o->to != from) {
		out_flush(o);
		o->from = from;
	}
	o->to = to;
}

static void out_bytes(struct head_out *o, const void *p, size_t n)
{
	out_flush(o);
	out_put(o, p, n);
}

#define out_lit(o, lit) out_bytes((o), (lit), sizeof(lit) - 1)

static void out_str(struct head_out *o, const char *str)
{
	out_bytes(o, str, strlen(str));
}

static void out_field(struct head_out *o, struct http_span sp)
{
	out_bytes(o, o->base + sp.off, sp.len);
}

static void out_uint(struct head_out *o, unsigned v)
{
	char d[10];
	size_t i = sizeof(d);

	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	out_bytes(o, d + i, sizeof(d) - i);
}

/* Header <hd> as "Name: value\r\n". */
static void out_header(struct head_out *o, const struct http_header *hd)
{
	const char *b = o->base;
	uint32_t ne = hd->name.off + hd->name.len, ve = hd->value.off + hd->value.len;

	/* in bounds: a header line is followed by at least the head's last CRLF */
	if (hd->value.off == ne + 2 && b[ne] == ':' && b[ne + 1] == ' ' && b[ve] == '\r' &&
	    b[ve + 1] == '\n') {
		out_span(o, hd->name.off, ve + 2);
		return;
	}
	out_field(o, hd->name);
	out_lit(o, ": ");
	out_field(o, hd->value);
	out_lit(o, "\r\n");
}

/* The blank line that ends head <h>. */
static void out_end(struct head_out *o, const struct http_head *h)
{
	if (h->len >= 2 && o->base[h->len - 2] == '\r' && o->base[h->len - 1] == '\n')
		out_span(o, h->len - 2, h->len);
	else
		out_lit(o, "\r\n");
	out_flush(o);
}

/* --- hop-by-hop and forwarding headers ---------------------------------------- */

enum hdr_kind {
	HK_OTHER,
	HK_CONNECTION,
	HK_UPGRADE,
	HK_HOP,          /* keep-alive, proxy-connection, te, proxy-authenticate, proxy-authorization */
	HK_XFF,          /* x-forwarded-for */
	HK_XFP,          /* x-forwarded-proto */
	HK_FORWARDED,
	HK_HOST,
};

static bool name_is(const char *n, const char *lower, size_t len)
{
	return (n[0] | 0x20) == lower[0] && strncasecmp(n, lower, len) == 0;
}

/* What header name <n> (<len> bytes) is to the proxy. */
static enum hdr_kind hdr_kind(const char *n, size_t len)
{
	switch (len) {
	case 2: return name_is(n, "te", 2) ? HK_HOP : HK_OTHER;
	case 4: return name_is(n, "host", 4) ? HK_HOST : HK_OTHER;
	case 7: return name_is(n, "upgrade", 7) ? HK_UPGRADE : HK_OTHER;
	case 9: return name_is(n, "forwarded", 9) ? HK_FORWARDED : HK_OTHER;
	case 10:
		if (name_is(n, "connection", 10))
			return HK_CONNECTION;
		return name_is(n, "keep-alive", 10) ? HK_HOP : HK_OTHER;
	case 15: return name_is(n, "x-forwarded-for", 15) ? HK_XFF : HK_OTHER;
	case 16: return name_is(n, "proxy-connection", 16) ? HK_HOP : HK_OTHER;
	case 17: return name_is(n, "x-forwarded-proto", 17) ? HK_XFP : HK_OTHER;
	case 18: return name_is(n, "proxy-authenticate", 18) ? HK_HOP : HK_OTHER;
	case 19: return name_is(n, "proxy-authorization", 19) ? HK_HOP : HK_OTHER;
	default: return HK_OTHER;
	}
}

/* The kinds of <h>'s headers, and where the first of each kind is (-1:
 * none). */
struct head_kinds {
	uint8_t kind[HTTP_MAX_HEADERS];
	int first[HK_HOST + 1];
};

static void classify(const struct http_head *h, const char *base, struct head_kinds *k)
{
	for (size_t j = 0; j < ARRAY_SIZE(k->first); j++)
		k->first[j] = -1;
	for (int i = h->nhdr - 1; i >= 0; i--) {
		enum hdr_kind t = hdr_kind(base + h->hdr[i].name.off, h->hdr[i].name.len);

		k->kind[i] = (uint8_t)t;
		k->first[t] = i;
	}
}

/* True if header <i> of <h> does not go past this hop: a hop-by-hop name,
 * or one a Connection field names. Connection and Upgrade stay when
 * <keep_upgrade> (an upgrade going through). */
static bool hop_by_hop(const char *base, const struct http_head *h, const struct head_kinds *k,
		       int i, bool keep_upgrade)
{
	const struct http_header *hd = &h->hdr[i];

	switch (k->kind[i]) {
	case HK_CONNECTION:
	case HK_UPGRADE:
		return !keep_upgrade;
	case HK_HOP:
		return true;
	}
	if (hd->name.len >= 64)
		return false; /* as ever: so long a name is not looked for in Connection */
	for (int c = k->first[HK_CONNECTION]; c >= 0 && c < h->nhdr; c++)
		if (k->kind[c] == HK_CONNECTION &&
		    http_list_has_n(base, h->hdr[c].value, base + hd->name.off, hd->name.len))
			return true;
	return false;
}

/* --- the request head going to the server --------------------------------- */

/* Writes "NAME: v1, v2, " for every field of <kind> of the request (repeated
 * fields are one list, RFC 9110 5.3), <shown> alone when there is none. */
static void list_so_far(struct http_session *s, struct head_out *o, const struct head_kinds *k,
			enum hdr_kind kind, const char *shown)
{
	bool any = false;

	for (int i = k->first[kind]; i >= 0 && i < s->rh->nhdr; i++) {
		if (k->kind[i] != kind || !s->rh->hdr[i].value.len)
			continue;
		if (!any)
			out_str(o, shown);
		out_field(o, s->rh->hdr[i].value);
		out_lit(o, ", ");
		any = true;
	}
	if (!any)
		out_str(o, shown);
}

/* The client's address as text, made once per connection. */
static const char *client_ip(struct http_session *s, size_t *len)
{
	if (!s->client_ip_len) {
		addr_ip_str(&s->client, s->client_ip);
		s->client_ip_len = (uint8_t)strlen(s->client_ip);
	}
	*len = s->client_ip_len;
	return s->client_ip;
}

/* Appends the client to X-Forwarded-For and Forwarded (keeping what earlier
 * proxies wrote), and sets X-Forwarded-Proto. */
static void append_forwarded(struct http_session *s, struct head_out *o,
			     const struct head_kinds *k)
{
	size_t iplen;
	const char *ip = client_ip(s, &iplen);

	list_so_far(s, o, k, HK_XFF, "X-Forwarded-For: ");
	out_bytes(o, ip, iplen);
	out_lit(o, "\r\nX-Forwarded-Proto: http\r\n");
	list_so_far(s, o, k, HK_FORWARDED, "Forwarded: ");
	if (addr_family(&s->client) == AF_INET6) {
		out_lit(o, "for=\"[");
		out_bytes(o, ip, iplen);
		out_lit(o, "]\";proto=http\r\n");
	} else {
		out_lit(o, "for=");
		out_bytes(o, ip, iplen);
		out_lit(o, ";proto=http\r\n");
	}
}

/* "METHOD target HTTP/1.x\r\n", the target in origin-form: an
 * absolute-form one loses its scheme and authority (they become Host). */
static void out_request_line(struct head_out *o, const struct http_head *h)
{
	const char *b = o->base;
	uint32_t te = h->target.off + h->target.len;

	/* in bounds: the head goes on past the request line */
	if (!h->absolute && h->method.off == 0 && h->target.off == h->method.len + 1 &&
	    b[h->method.len] == ' ' && h->minor < 10 && memcmp(b + te, " HTTP/1.", 8) == 0 && b[te + 8] == '0' + h->minor &&
	    b[te + 9] == '\r' && b[te + 10] == '\n') {
		out_span(o, 0, te + 11);
		return;
	}
	out_field(o, h->method);
	out_lit(o, " ");
	if (h->origin.len)
		out_field(o, h->origin);
	else if (h->method_id == HTTP_OPTIONS)
		out_lit(o, "*"); /* OPTIONS http://a HTTP/1.1 (RFC 9112 3.2.4) */
	else
		out_lit(o, "/");
	out_lit(o, " HTTP/1.");
	out_uint(o, h->minor);
	out_lit(o, "\r\n");
}

/* Writes the head as the server gets it into the store. */
static int build_request_head(struct http_session *s, const char *base)
{
	const struct http_head *h = s->rh;
	struct head_out o = { .store = &s->store, .base = base };
	struct head_kinds k;
	bool fwd = http_opts_rt(&s->rt)->forwarded;

	classify(h, base, &k);
	out_request_line(&o, h);
	if (h->absolute) {
		/* the target's authority wins over Host (RFC 9112 3.2.2) */
		out_lit(&o, "Host: ");
		out_field(&o, h->authority);
		out_lit(&o, "\r\n");
	}
	for (int i = 0; i < h->nhdr; i++) {
		if (hop_by_hop(base, h, &k, i, h->upgrade) || (h->absolute && k.kind[i] == HK_HOST))
			continue;
		if (fwd && (k.kind[i] == HK_XFF || k.kind[i] == HK_XFP || k.kind[i] == HK_FORWARDED))
			continue; /* rewritten below */
		out_header(&o, &h->hdr[i]);
	}
	if (fwd)
		append_forwarded(s, &o, &k);
	if (http_opts_rt(&s->rt)->via) {
		out_lit(&o, "Via: 1.");
		out_uint(&o, h->minor);
		out_lit(&o, " weir\r\n");
	}
	if (h->upgrade)
		out_lit(&o, "Connection: upgrade\r\n");
	else if (h->minor == 0)
		out_lit(&o, "Connection: keep-alive\r\n");
	out_end(&o, h);
	return o.rc;
}

static bool method_idempotent(uint8_t m)
{
	return m == HTTP_GET || m == HTTP_HEAD || m == HTTP_OPTIONS || m == HTTP_PUT ||
	       m == HTTP_DELETE || m == HTTP_TRACE;
}

/* --- reading the request ------------------------------------------------------- */

/*
 * Reading a socket (edge-triggered epoll): a read that returns less than
 * it asked for emptied the socket, and bytes that come later bring a new
 * event, so it is the last read until then; reading on until EAGAIN would
 * cost one more recv() per event. The exception is a FIN already reported
 * (EPOLLRDHUP, <hup>): it may wait behind the bytes just read with no event
 * left to announce it, so then the reads go on until EOF or EAGAIN. A step
 * that stops reading before the socket is drained (its buffer is full)
 * leaves the readable flag set, and reads again when it resumes.
 */

/* Reads what the client sent, up to what the current step can take. */
static int client_read(struct http_session *s, size_t limit)
{
	while (s->cli_readable && !s->cli_eof && s->cin.len < limit) {
		char *dst = buf_reserve(&s->cin, READ_CHUNK);
		ssize_t n;

		if (!dst)
			return -ENOMEM;
		n = recv(s->cli.fd, dst, READ_CHUNK, 0);
		if (n > 0) {
			struct vs_counters *cs = stats_mine(&s->svc->stats);

			buf_commit(&s->cin, (size_t)n);
			/* a "packet" of a proxy is a read that moved data */
			counter_add(&cs->inbytes, (uint64_t)n);
			counter_add(&cs->inpkts, 1);
			if (n < READ_CHUNK && !s->cli_hup)
				s->cli_readable = false; /* drained */
		} else if (n == 0) {
			s->cli_eof = true;
		} else if (errno == EAGAIN) {
			s->cli_readable = false;
		} else if (errno != EINTR) {
			return -errno;
		}
	}
	return 0;
}

/* Moves request body bytes from the client buffer into the store. */
static int take_body(struct http_session *s)
{
	long k;

	if (s->req_done || !s->cin.len)
		return 0;
	k = http_body_scan(&s->req, buf_head(&s->cin), s->cin.len);
	if (k < 0)
		return -EBADMSG; /* s->req.status says which answer */
	s->body_bytes += (uint64_t)k;
	if (http_opts_rt(&s->rt)->max_body && s->body_bytes > http_opts_rt(&s->rt)->max_body)
		return -EFBIG;
	if (reqstore_append(&s->store, buf_head(&s->cin), (size_t)k) != 0)
		return -EIO;
	buf_consume(&s->cin, (size_t)k);
	s->req_done = s->req.complete;
	return 0;
}

static void request_failed_body(struct http_session *s, int err)
{
	if (s->resp_started) {
		session_close(s); /* the answer is on its way: nothing to say */
		return;
	}
	if (s->sc) {
		srvconn_close(s->sc);
		s->sc = NULL;
	}
	respond_error(s, err == -EFBIG ? 413 : err == -EBADMSG ? s->req.status : 502,
		      err == -EFBIG ? "body too large" : err == -EBADMSG ? s->req.why : "request body");
}

/* --- routing ------------------------------------------------------------------- */

struct hdr_lookup {
	const struct http_head *h;
	const char *base;
};

static const char *route_header(void *arg, const char *name, size_t *len)
{
	struct hdr_lookup *l = arg;
	int i = http_find(l->h, l->base, name, 0);

	if (i < 0)
		return NULL;
	*len = l->h->hdr[i].value.len;
	return l->base + l->h->hdr[i].value.off;
}

static void set_target(struct http_session *s, struct virtual_service *t)
{
	if (t == s->target)
		return; /* the same as the last request's: no reference to move */
	if (t)
		svc_get(t);
	if (s->target)
		svc_put(s->target);
	s->target = t;
}

/* Chooses where the request goes: the pool of the first matching route,
 * else the service's own servers. Before the head is consumed. */
static void route_request(struct http_session *s, const char *base)
{
	struct route_table *rt = svc_routes_get(s->svc);
	const struct http_head *h = s->rh;
	struct hdr_lookup l = { h, base };
	const struct route *r;

	if (!rt) {
		set_target(s, s->svc);
		return;
	}
	/* the host the request names: an absolute-form target's, else Host */
	r = route_match(rt, &(struct route_req){
		.method = base + h->method.off, .method_len = h->method.len,
		.host = base + h->authority.off, .host_len = h->authority.len,
		.path = base + h->path.off, .path_len = h->path.len,
		.header = route_header, .arg = &l,
	});
	set_target(s, r && r->pool ? r->pool : s->svc);
	route_table_put(rt);
}

/* --- sticky sessions ----------------------------------------------------------- */

/* Finds <name>=value in a list "a=1; b=2" (cookies, <sep> ';') or
 * "a=1&b=2" (query, <sep> '&'). Returns the value's length or -1. */
static int find_pair(const char *p, size_t len, const char *name, char sep, const char **val)
{
	const char *end = p + len;
	size_t nl = strlen(name);

	while (p < end) {
		const char *next = memchr(p, sep, (size_t)(end - p));
		const char *e = next ? next : end;

		while (p < e && *p == ' ')
			p++;
		if ((size_t)(e - p) > nl && memcmp(p, name, nl) == 0 && p[nl] == '=') {
			*val = p + nl + 1;
			return (int)(e - *val);
		}
		p = next ? next + 1 : end;
	}
	return -1;
}

/* Records the request's sticky key (before its head is consumed). */
static void sticky_key_of(struct http_session *s, const char *base)
{
	const struct http_opts *o = http_opts_rt(&s->rt);
	const char *val = NULL;
	int len = -1;

	s->sticky_len = 0;
	s->set_cookie = o->sticky == STICKY_INSERT;
	if (o->sticky == STICKY_PARAM) {
		len = find_pair(base + s->rh->query.off, s->rh->query.len, o->sticky_name, '&', &val);
	} else if (o->sticky == STICKY_HEADER) {
		int i = http_find(s->rh, base, o->sticky_name, 0);

		if (i >= 0) {
			val = base + s->rh->hdr[i].value.off;
			len = (int)s->rh->hdr[i].value.len;
		}
	} else if (o->sticky == STICKY_COOKIE || o->sticky == STICKY_INSERT) {
		for (int i = http_find(s->rh, base, "cookie", 0); i >= 0 && len < 0;
		     i = http_find(s->rh, base, "cookie", i + 1))
			len = find_pair(base + s->rh->hdr[i].value.off, s->rh->hdr[i].value.len,
					o->sticky_name, ';', &val);
	}
	if (len > 0 && (size_t)len <= sizeof(s->sticky_key)) {
		memcpy(s->sticky_key, val, (size_t)len);
		s->sticky_len = (uint8_t)MIN(len, 255);
	}
}

/* The choice of a sticky request; NULL: let the scheduler choose. Only the
 * first try follows the key: a retry goes where the scheduler says, and in
 * insert mode the cookie follows it there. */
static struct real_server *sticky_pick(struct http_session *s)
{
	struct real_server *want, *rs = NULL;

	if (s->ntried && s->sticky_len && http_opts_rt(&s->rt)->sticky == STICKY_INSERT)
		s->set_cookie = true; /* its server failed this request */
	if (!s->sticky_len || s->ntried)
		return NULL;
	if (http_opts_rt(&s->rt)->sticky != STICKY_INSERT)
		return svc_schedule_hash(s->target, s->sticky_key, s->sticky_len, &s->client,
					 loop_ms(s));
	want = svc_find_sticky(s->target, s->sticky_key, s->sticky_len);
	if (want) {
		rs = svc_schedule_to(s->target, want, &s->client, loop_ms(s));
		rs_put(want);
	}
	/* its server is gone or down: the scheduler chooses, the cookie follows */
	s->set_cookie = !rs;
	return rs;
}

/* --- redirect mode -------------------------------------------------------------- */

static void redirect(struct http_session *s, const char *base)
{
	struct real_server *rs = sticky_pick(s);
	char a[ADDR_STRLEN];

	if (!rs)
		rs = svc_schedule(s->target, &s->client, loop_ms(s), NULL, 0, NULL);
	if (!rs) {
		respond_error(s, 503, "no server");
		return;
	}
	s->rs = rs;
	s->status = 302;
	buf_printf(&s->cout, "HTTP/1.1 302 Found\r\nLocation: ");
	if (rs->spec.url[0])
		buf_printf(&s->cout, "%s", rs->spec.url);
	else
		buf_printf(&s->cout, "http://%s", addr_str(&rs->addr, a));
	buf_printf(&s->cout, "%s%.*s\r\nContent-Length: 0\r\n%s\r\n", s->rh->origin.len ? "" : "/",
		   (int)s->rh->origin.len, base + s->rh->origin.off,
		   s->keepalive ? "" : "Connection: close\r\n");
	counter_add(&stats_mine(&rs->stats)->conns, 1);
	counter_add(&share(s)->conns, 1);
	access_log(s);
	svc_conn_close(rs, true, &s->client, loop_ms(s));
	s->rs = NULL;
	if (!s->keepalive)
		s->close_after = true;
	s->served++;
	client_flush(s);
	if (s->state != HS_CLOSED && s->state != HS_LINGER)
		next_request(s);
}

/* --- a new request --------------------------------------------------------------- */

/* Keeps "METHOD target" (cut short) for the logs. */
static void request_line_of(struct http_session *s, const char *base)
{
	const struct http_head *h = s->rh;
	size_t ml = MIN(h->method.len, 16u), tl = MIN(h->target.len, 160u);

	_Static_assert(sizeof(s->line) >= 16 + 1 + 160 + 1, "room for the request line");
	memcpy(s->line, base + h->method.off, ml);
	s->line[ml] = ' ';
	memcpy(s->line + ml + 1, base + h->target.off, tl);
	s->line[ml + 1 + tl] = '\0';
}

/* The head of a request is complete in cin: <n> bytes. */
static void start_request(struct http_session *s, int n)
{
	const char *base = buf_head(&s->cin);
	const struct http_head *h = s->rh;
	int rc;

	s->t_start = now_ns();
	s->t_resp = s->t_dispatch = s->t_connected = 0;
	s->status = 0;
	s->resp_bytes = 0;
	s->body_bytes = 0;
	for (int i = 0; i < s->ntried; i++)
		rs_put(s->tried[i]);
	s->ntried = 0;
	s->fresh_retry = false;
	s->resp_started = false;
	s->idempotent = method_idempotent(h->method_id);
	s->head_method = h->method_id == HTTP_HEAD;
	s->keepalive = h->keep_alive && !h->upgrade;
	s->req_minor = h->minor;
	request_line_of(s, base);
	counter_add(&stats_mine(&s->svc->stats)->requests, 1);
	if (http_opts_rt(&s->rt)->max_body && h->has_length && h->length > http_opts_rt(&s->rt)->max_body) {
		respond_error(s, 413, "declared body too large");
		return;
	}
	s->state = HS_FORWARD;
	deadline_after(s, http_opts_rt(&s->rt)->server_timeout_ms);
	sticky_key_of(s, base);
	route_request(s, base);
	counter_add(&share(s)->requests, 1);
	if (s->redirect) {
		/* a request with a body is answered, then the connection
		 * closes: its body is never read */
		buf_consume(&s->cin, (size_t)n);
		s->req_done = s->req.complete;
		if (!s->req_done)
			s->keepalive = false;
		redirect(s, base);
		return;
	}
	reqstore_clear(&s->store);
	s->store.keep = true;
	rc = 0;
	if (s->rt.send_proxy) {
		/* each connection to a server starts with it: it goes into the
		 * store, so a retry on a new connection sends it again */
		uint8_t hdr[PP_BUILD_MAX];
		int k = s->rt.send_proxy == 1 ?
			pp_build_v1((char *)hdr, sizeof(hdr), &s->client, &s->local) :
			pp_build_v2(hdr, sizeof(hdr), &s->client, &s->local, SOCK_STREAM);

		rc = k < 0 ? k : reqstore_append(&s->store, hdr, (size_t)k);
	}
	if (rc == 0)
		rc = build_request_head(s, base);
	buf_consume(&s->cin, (size_t)n);
	s->req_done = s->req.complete;
	if (rc == 0)
		rc = take_body(s);
	if (rc) {
		request_failed_body(s, rc);
		return;
	}
	dispatch(s);
}

/* A trusted front's PROXY header at the start of cin. Returns true once it
 * is consumed; false while it is incomplete or when the session ended. */
static bool take_proxy_header(struct http_session *s)
{
	struct pp_info info;
	int r = pp_parse((const uint8_t *)buf_head(&s->cin), s->cin.len, &info);

	if (r == PP_NEED_MORE && !s->cli_eof)
		return false;
	if (r <= 0) {
		log_info("http: %s sent no valid PROXY header",
			 addr_str(&s->client, (char[ADDR_STRLEN]){ 0 }));
		session_close(s);
		return false;
	}
	buf_consume(&s->cin, (size_t)r);
	if (!info.local) {
		s->client = info.src;
		s->local = info.dst;
		s->client_ip_len = 0;
	}
	s->need_proxy_header = false;
	return true;
}

/* Looks for the next request's head in cin. */
static void try_head(struct http_session *s)
{
	int n;

	if (s->close_after || s->state != HS_HEAD)
		return;
	if (s->need_proxy_header && !take_proxy_header(s))
		return;
	s->rh = &req_head;
	n = http_head_parse(&s->req, buf_head(&s->cin), s->cin.len, s->rh);
	if (n > 0)
		start_request(s, n);
	s->rh = NULL;
	if (n > 0)
		return;
	if (n < 0) {
		respond_error(s, s->req.status, s->req.why);
		return;
	}
	if (s->cli_eof) {
		if (s->cin.len)
			respond_error(s, 400, "client closed mid-head");
		else
			session_close(s);
		return;
	}
	/* a slow head is timed from its first byte */
	if (s->cin.len && !s->deadline)
		deadline_after(s, http_opts_rt(&s->rt)->header_timeout_ms);
}

/* Readies the parser for the next request, with the service's limits. */
static void request_msg_init(struct http_session *s)
{
	http_msg_init(&s->req, HTTP_REQUEST, http_opts_rt(&s->rt)->max_head);
	s->req.max_body = http_opts_rt(&s->rt)->max_body;
	s->req.allow_codings = http_opts_rt(&s->rt)->request_codings;
}

/*
 * The wait for the next request began, or the last of a response reached
 * the client during it: if the wait lasts PARK_AFTER_MS, the connection
 * parks (timer_cb), giving back the session and its buffers. They are not
 * freed sooner: between the requests of a busy connection, freeing the
 * 16 KB input buffer and allocating it again halved the requests per
 * second (glibc trims a thread's heap on such a free and grows it again
 * on the next malloc, system calls and page faults on every request).
 */
static void idle_wait(struct http_session *s)
{
	if (s->state != HS_HEAD || s->cin.len || s->cout.len)
		return;
	if (timer_armed(&s->timer) && s->timer.when > loop_ms(s) + PARK_AFTER_MS)
		timer_arm(s->w->loop, &s->timer, loop_ms(s) + PARK_AFTER_MS);
}

/* The request and its response are over: get ready for the next one. */
static void next_request(struct http_session *s)
{
	s->state = HS_HEAD;
	request_msg_init(s);
	if (s->close_after || !s->keepalive) {
		deadline_clear(s);
		s->close_after = true;
		client_flush(s);
		return;
	}
	deadline_after(s, s->cin.len ? http_opts_rt(&s->rt)->header_timeout_ms :
		       http_opts_rt(&s->rt)->keepalive_timeout_ms);
	if (client_read(s, http_opts_rt(&s->rt)->max_head + 1) != 0) {
		session_close(s);
		return;
	}
	try_head(s);
	idle_wait(s);
}

/* --- servers ----------------------------------------------------------------- */

static void release_server(struct http_session *s, bool reusable)
{
	if (s->sc) {
		srvconn_release(s->sc, reusable, http_opts_rt(&s->rt)->pool_max_idle, http_opts_rt(&s->rt)->pool_idle_ms);
		s->sc = NULL;
	}
	if (s->rs) {
		svc_conn_close(s->rs, true, &s->client, loop_ms(s));
		s->rs = NULL;
	}
}

static void count_retry(struct vs_counters *c, void *arg)
{
	counter_add(&c->retries, 1);
}

/* The request leaves its server before the response started, for another
 * one if it may be retried, else with <status>. <seen> is false when the
 * server cannot have processed it (connect failed, drain signal). */
static void server_left(struct http_session *s, const char *why, bool seen, int status)
{
	char a[ADDR_STRLEN];
	bool may = !seen || s->idempotent || http_opts_rt(&s->rt)->retry_unsafe;

	log_info("http: %s %s: %s%s", s->line, s->rs ? addr_str(&s->rs->addr, a) : "-", why,
		 may ? "" : " (not retried: the request may have been processed)");
	if (s->sc) {
		srvconn_close(s->sc);
		s->sc = NULL;
	}
	if (s->rs) {
		if (s->ntried < MAX_TRIES) {
			rs_get(s->rs);
			s->tried[s->ntried++] = s->rs;
		}
		svc_conn_close(s->rs, true, &s->client, loop_ms(s));
		s->rs = NULL;
	}
	s->fail_status = (uint16_t)status;
	s->fail_why = why;
	if (!may || (uint32_t)s->ntried > s->rt.retries || s->ntried >= MAX_TRIES) {
		respond_error(s, status, why);
		return;
	}
	counters(s, count_retry, NULL);
	reqstore_rewind(&s->store);
	dispatch(s);
}

/* The server failed before the response started: as server_left(), and a
 * failure for the passive checks. */
static void server_failed(struct http_session *s, const char *why, bool seen, int status)
{
	if (s->rs)
		health_passive(s->rs, false);
	server_left(s, why, seen, status);
}

static void srv_event(struct srvconn *sc, uint32_t events);

/* Chooses a server and a connection to it, and starts sending. */
static void dispatch(struct http_session *s)
{
	s->rs = sticky_pick(s);
	if (!s->rs)
		s->rs = svc_schedule(s->target, &s->client, loop_ms(s), s->tried, s->ntried, NULL);
	if (!s->rs) {
		/* none left to try: the last failure speaks (502, 504), else 503 */
		if (s->ntried)
			respond_error(s, s->fail_status, s->fail_why);
		else
			respond_error(s, 503, "no server available");
		return;
	}
	counter_add(&stats_mine(&s->rs->stats)->conns, 1);
	counter_add(&share(s)->conns, 1);
	if (!s->t_dispatch)
		s->t_dispatch = log_stamp(s);
	/* a request that must not be repeated gets a fresh connection: a
	 * pooled one may have been closed by the server meanwhile */
	s->sc = s->idempotent && !s->rt.send_proxy ? srvpool_take(s->w, s->rs) : NULL;
	if (!s->sc) {
		s->sc = srvconn_open(s->w, s->rs);
		if (!s->sc) {
			server_failed(s, strerror(errno), false, 502);
			return;
		}
	}
	s->sc->owner = s;
	s->sc->on_event = srv_event;
	/* a pooled connection was read dry, a new one has nothing yet: an
	 * event will say when something comes */
	s->srv_readable = false;
	s->srv_hup = false;
	http_msg_init(&s->resp, HTTP_RESPONSE, 64u << 10);
	s->resp.head_request = s->head_method;
	deadline_after(s, s->sc->connected ? http_opts_rt(&s->rt)->server_timeout_ms :
		       s->rt.connect_timeout_ms);
	if (s->sc->connected) {
		s->t_connected = log_stamp(s); /* a pooled one */
		server_pump(s);
	}
}

/* --- the response --------------------------------------------------------------- */

static void count_status(struct vs_counters *c, void *arg)
{
	unsigned cls = *(unsigned *)arg;

	counter_add(&c->resp[cls < 6 ? cls : 0], 1);
}

static void count_rt(struct vs_counters *c, void *arg)
{
	stats_observe_rt(c, *(uint64_t *)arg);
}

static bool is_drain(struct http_session *s, const char *base)
{
	return s->resph->status == s->rt.drain_status &&
	       (!s->rt.drain_header[0] ||
		http_find(s->resph, base, s->rt.drain_header, 0) >= 0);
}

/* "HTTP/1.1 <status> <reason as the server wrote it>\r\n" */
static void out_status_line(struct head_out *o, const struct http_head *h)
{
	const char *b = o->base;
	const char *eol = memchr(b, '\r', h->len);
	const char *sp, *rp;

	/* the server wrote it so already: "HTTP/1.1 DDD reason\r\n" */
	if (eol && eol - b > 12 && eol[1] == '\n' && memcmp(b, "HTTP/1.1 ", 9) == 0 && b[9] >= '1' && b[9] <= '9' &&
	    b[10] >= '0' && b[10] <= '9' && b[11] >= '0' && b[11] <= '9' && b[12] == ' ' &&
	    (b[9] - '0') * 100 + (b[10] - '0') * 10 + (b[11] - '0') == h->status) {
		out_span(o, 0, (uint32_t)(eol - b) + 2);
		return;
	}
	out_lit(o, "HTTP/1.1 ");
	out_uint(o, h->status);
	out_lit(o, " ");
	sp = memchr(b, ' ', h->len);
	rp = sp ? memchr(sp + 1, ' ', (size_t)(b + h->len - sp - 1)) : NULL;
	if (rp && eol && rp < eol)
		out_bytes(o, rp + 1, (size_t)(eol - rp - 1));
	out_lit(o, "\r\n");
}

/* Writes the response head for the client. */
static void relay_response_head(struct http_session *s, const char *base)
{
	const struct http_head *h = s->resph;
	struct head_out o = { .buf = &s->cout, .base = base };
	struct head_kinds k;

	classify(h, base, &k);
	out_status_line(&o, h);
	for (int i = 0; i < h->nhdr; i++)
		if (!hop_by_hop(base, h, &k, i, h->status == 101))
			out_header(&o, &h->hdr[i]);
	if (http_opts_rt(&s->rt)->via)
		out_lit(&o, "Via: 1.1 weir\r\n");
	if (s->set_cookie && s->rs) {
		char id[17];

		rs_sticky_id(s->rs, id);
		out_lit(&o, "Set-Cookie: ");
		out_str(&o, http_opts_rt(&s->rt)->sticky_name);
		out_lit(&o, "=");
		out_str(&o, id);
		out_lit(&o, "; Path=/; HttpOnly\r\n");
	}
	if (h->status == 101)
		out_lit(&o, "Connection: upgrade\r\n");
	else if (!s->keepalive || h->until_close)
		out_lit(&o, "Connection: close\r\n");
	else if (s->req_minor == 0)
		out_lit(&o, "Connection: keep-alive\r\n");
	out_end(&o, h);
}

static void response_complete(struct http_session *s)
{
	unsigned cls = s->status / 100;
	uint64_t us = s->t_resp ? (s->t_resp - s->t_start) / 1000 : 0;
	/* a connection that began with this client's PROXY header is its alone */
	bool reusable = s->resp_keep_alive && !s->resp_until_close && s->req_done &&
			reqstore_unsent(&s->store) == 0 && !s->rt.send_proxy;

	if (s->rs)
		counter_add(&stats_mine(&s->rs->stats)->requests, 1);
	counters(s, count_status, &cls);
	counters(s, count_rt, &us);
	access_log(s);
	if (s->rs)
		svc_observe_rtt(s->rs, us * 1000, loop_ms(s));
	if (!s->req_done)
		s->close_after = true; /* the rest of the body would be a new request */
	release_server(s, reusable);
	if (s->resp_until_close)
		s->close_after = true;
	s->served++;
	next_request(s);
}

/* A response head is complete in sc->in: <n> bytes. */
static void on_response_head(struct http_session *s, int n)
{
	const char *base = buf_head(&s->sc->in);

	if (s->resph->status >= 100 && s->resph->status < 200 && s->resph->status != 101) {
		/* interim (100 Continue): pass it on, wait for the final one */
		buf_append(&s->cout, base, (size_t)n);
		buf_consume(&s->sc->in, (size_t)n);
		http_msg_init(&s->resp, HTTP_RESPONSE, 64u << 10);
		s->resp.head_request = s->head_method;
		return;
	}
	if (is_drain(s, base)) {
		svc_server_drain(s->rs);
		server_left(s, "drain signal", false, 503); /* not a failure */
		return;
	}
	s->resp_started = true;
	s->resp_keep_alive = s->resph->keep_alive;
	s->resp_until_close = s->resph->until_close;
	s->t_resp = now_ns();
	s->status = s->resph->status;
	health_passive(s->rs, s->status < 500); /* 5xx in a row eject */
	reqstore_release(&s->store);
	relay_response_head(s, base);
	buf_consume(&s->sc->in, (size_t)n);
	if (s->resph->status == 101) {
		s->state = HS_TUNNEL;
		deadline_after(s, s->rt.idle_timeout_ms);
	}
}

/* Moves response body bytes from the server buffer to the client buffer. */
static int relay_body(struct http_session *s)
{
	struct buf *in = &s->sc->in;
	long k;

	if (!in->len)
		return 0;
	if (s->state == HS_TUNNEL) {
		k = (long)in->len;
	} else {
		k = http_body_scan(&s->resp, buf_head(in), in->len);
		if (k < 0)
			return -EBADMSG;
	}
	buf_append(&s->cout, buf_head(in), (size_t)k);
	s->resp_bytes += (uint64_t)k;
	buf_consume(in, (size_t)k);
	return 0;
}

/* Reads from the server, as client_read() does; returns 0, or -errno /
 * -EPIPE on EOF. */
static int server_read(struct http_session *s)
{
	struct srvconn *sc = s->sc;

	while (s->srv_readable && s->cout.len + sc->in.len < OUT_HIGH) {
		char *dst = buf_reserve(&sc->in, READ_CHUNK);
		ssize_t n;

		if (!dst)
			return -ENOMEM;
		n = recv(sc->io.fd, dst, READ_CHUNK, 0);
		if (n > 0) {
			struct vs_counters *cs = stats_mine(&s->svc->stats);
			struct vs_counters *cr = stats_mine(&s->rs->stats);
			struct vs_counters *cp = share(s);

			buf_commit(&sc->in, (size_t)n);
			counter_add(&cs->outbytes, (uint64_t)n);
			counter_add(&cs->outpkts, 1);
			counter_add(&cr->outbytes, (uint64_t)n);
			counter_add(&cr->outpkts, 1);
			counter_add(&cp->outbytes, (uint64_t)n);
			counter_add(&cp->outpkts, 1);
			if (n < READ_CHUNK && !s->srv_hup)
				s->srv_readable = false; /* drained (see client_read) */
		} else if (n == 0) {
			return -EPIPE;
		} else if (errno == EAGAIN) {
			s->srv_readable = false;
		} else if (errno != EINTR) {
			return -errno;
		}
	}
	return 0;
}

/* Server EOF or error after <rc>. */
static void server_gone(struct http_session *s, int rc)
{
	if (!s->resp_started && s->sc && s->sc->reused && !s->sc->in.len && !s->fresh_retry &&
	    (s->idempotent || http_opts_rt(&s->rt)->retry_unsafe)) {
		/* a pooled connection the server closed while idle: the same
		 * server on a new connection, not a failure of the server */
		struct srvconn *old = s->sc;

		s->fresh_retry = true;
		s->sc = srvconn_open(s->w, s->rs);
		srvconn_close(old);
		if (s->sc) {
			s->sc->owner = s;
			s->sc->on_event = srv_event;
			s->srv_readable = false; /* as in dispatch() */
			s->srv_hup = false;
			reqstore_rewind(&s->store);
			http_msg_init(&s->resp, HTTP_RESPONSE, 64u << 10);
			s->resp.head_request = s->head_method;
			deadline_after(s, s->rt.connect_timeout_ms);
			return;
		}
	}
	if (!s->resp_started) {
		server_failed(s, rc == -EPIPE ? "closed before answering" : strerror(-rc), true, 502);
		return;
	}
	if (rc == -EPIPE && s->state != HS_TUNNEL) {
		http_msg_eof(&s->resp);
		if (s->resp.complete) {
			s->srv_readable = false;
			client_flush(s);
			response_complete(s);
			return;
		}
	}
	/* a truncated answer: the client must see the connection end */
	release_server(s, false);
	s->close_after = true;
	client_flush(s);
}

/* Everything that can move between the server and us. */
static void server_pump(struct http_session *s)
{
	ssize_t sent = 0;
	int rc;

	if (!s->sc || !s->sc->connected)
		return; /* srv_event starts once the connect is done */
	/* the request: send, and pull more from the client as room appears */
	while (s->sc && (sent = reqstore_send(&s->store, s->sc->io.fd)) > 0) {
		struct vs_counters *cr = stats_mine(&s->rs->stats);
		struct vs_counters *cp = share(s);

		counter_add(&cr->inbytes, (uint64_t)sent);
		counter_add(&cr->inpkts, 1);
		counter_add(&cp->inbytes, (uint64_t)sent);
		counter_add(&cp->inpkts, 1);
		if (s->cli_readable && (!s->req_done || s->state == HS_TUNNEL) &&
		    !client_pull(s))
			return;
	}
	if (s->sc && sent < 0 && sent != -EAGAIN) {
		server_gone(s, (int)sent);
		return;
	}
	while (s->sc) {
		rc = server_read(s);
		if (!s->resp_started && s->sc->in.len) {
			int n;

			s->resph = &resp_head;
			n = http_head_parse(&s->resp, buf_head(&s->sc->in), s->sc->in.len, s->resph);
			if (n > 0)
				on_response_head(s, n);
			s->resph = NULL;
			if (n < 0) {
				server_failed(s, s->resp.why, true, 502);
				return;
			}
			if (n > 0)
				continue;
		}
		if (s->resp_started && relay_body(s) != 0) {
			server_gone(s, -EBADMSG);
			return;
		}
		client_flush(s);
		if (s->state == HS_CLOSED)
			return;
		if (s->resp_started && s->state == HS_FORWARD && s->resp.complete) {
			response_complete(s);
			return;
		}
		if (rc) {
			server_gone(s, rc);
			return;
		}
		/* the client took it all and the server has more: go on (no
		 * edge would come for bytes already waiting in its socket) */
		if (s->srv_readable && s->cout.len + s->sc->in.len < OUT_HIGH)
			continue;
		break;
	}
}

static void srv_event(struct srvconn *sc, uint32_t events)
{
	struct http_session *s = sc->owner;

	if (s->state == HS_CLOSED)
		return;
	if (!sc->connected) {
		int err = 0;
		socklen_t len = sizeof(err);

		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		getsockopt(sc->io.fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err) {
			server_failed(s, strerror(err), false, 502);
			return;
		}
		sc->connected = true;
		s->t_connected = log_stamp(s);
		deadline_after(s, http_opts_rt(&s->rt)->server_timeout_ms);
	}
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		s->srv_readable = true;
	if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		s->srv_hup = true;
	deadline_after(s, s->state == HS_TUNNEL ? s->rt.idle_timeout_ms :
		       http_opts_rt(&s->rt)->server_timeout_ms);
	server_pump(s);
}

/* --- the client side --------------------------------------------------------------- */

static void client_flush(struct http_session *s)
{
	/* the last bytes before weir closes (an answer of its own, or the end
	 * of a response on a connection that closes after it) are held back
	 * (MSG_MORE) until the close or shutdown that follows at once, which
	 * sends them with the FIN: one segment instead of two */
	bool last = s->close_after ? !s->sc :
		    s->state == HS_FORWARD && s->resp_started && s->resp.complete && !s->keepalive;
	int more = last ? MSG_MORE : 0;

	while (s->cout.len) {
		ssize_t n = send(s->cli.fd, buf_head(&s->cout), s->cout.len, MSG_NOSIGNAL | more);

		if (n > 0) {
			buf_consume(&s->cout, (size_t)n);
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && errno == EAGAIN) {
			return;
		} else {
			session_close(s);
			return;
		}
	}
	if (s->close_after && !s->sc) {
		if (!s->cli_eof && (s->linger || s->cin.len || s->cli_readable || !s->req_done))
			linger_start(s);
		else
			session_close(s);
		return;
	}
	idle_wait(s); /* the last of a response went while idle */
}

/* Reads and drops what the client still sends, until EOF or a bound. */
static void linger_read(struct http_session *s)
{
	char drop[16384];
	uint64_t now = loop_ms(s);

	for (;;) {
		ssize_t n = recv(s->cli.fd, drop, sizeof(drop), 0);

		if (n > 0) {
			s->linger_bytes += (uint64_t)n;
			if (s->linger_bytes <= LINGER_MAX)
				continue;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && errno == EAGAIN) {
			break;
		}
		session_close(s); /* EOF, an error, or enough */
		return;
	}
	if (now >= s->linger_end) {
		session_close(s);
		return;
	}
	deadline_set(s, MIN(now + LINGER_IDLE_MS, s->linger_end));
}

static void linger_start(struct http_session *s)
{
	if (shutdown(s->cli.fd, SHUT_WR) != 0) {
		session_close(s);
		return;
	}
	s->state = HS_LINGER;
	buf_consume(&s->cin, s->cin.len);
	s->linger_bytes = 0;
	s->linger_end = loop_ms(s) + LINGER_MS;
	linger_read(s);
}

/* Pulls what the client sent while a request is being forwarded into the
 * store, as far as the store may grow. Returns false when the session
 * ended. */
static bool client_pull(struct http_session *s)
{
	int rc;

	if (s->state == HS_TUNNEL) {
		if (client_read(s, STORE_HIGH) != 0) {
			session_close(s);
			return false;
		}
		if (s->cin.len && reqstore_append(&s->store, buf_head(&s->cin), s->cin.len) == 0)
			buf_consume(&s->cin, s->cin.len);
		if (s->cli_eof && s->sc && reqstore_unsent(&s->store) == 0)
			shutdown(s->sc->io.fd, SHUT_WR);
	} else if (!s->req_done && reqstore_unsent(&s->store) < STORE_HIGH) {
		if (client_read(s, STORE_HIGH) != 0) {
			session_close(s);
			return false;
		}
		rc = take_body(s);
		if (rc) {
			request_failed_body(s, rc);
			return false;
		}
		if (s->cli_eof && !s->req_done) {
			session_close(s); /* the client gave up mid-body */
			return false;
		}
	} else if (s->req_done) {
		/* pipelined bytes wait in cin; only read to see the client go */
		client_read(s, http_opts_rt(&s->rt)->max_head + 1);
	}
	return true;
}

static void client_forward(struct http_session *s)
{
	if (client_pull(s) && s->sc && s->sc->connected)
		server_pump(s);
}

static void cli_cb(struct loop_io *io, uint32_t events)
{
	struct http_session *s = container_of(io, struct http_session, cli);

	if (s->state == HS_CLOSED)
		return;
	if (s->state == HS_LINGER) {
		if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
			linger_read(s);
		return;
	}
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		s->cli_readable = true;
	if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		s->cli_hup = true;
	if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
		client_flush(s);
		if (s->state == HS_CLOSED)
			return;
		if (s->sc && s->srv_readable)
			server_pump(s);
		if (s->state == HS_CLOSED)
			return;
	}
	if (s->close_after)
		return;
	if (s->state == HS_HEAD) {
		if (client_read(s, http_opts_rt(&s->rt)->max_head + 1) != 0) {
			session_close(s);
			return;
		}
		try_head(s);
	} else {
		client_forward(s);
	}
}

static void timer_cb(struct timer *t)
{
	struct http_session *s = container_of(t, struct http_session, timer);

	if (s->deadline > loop_ms(s)) {
		if (!park_or_wait(s))
			timer_arm(s->w->loop, &s->timer, s->deadline); /* pushed back meanwhile */
		return;
	}
	s->deadline = 0;
	switch (s->state) {
	case HS_HEAD:
		if (s->cin.len)
			respond_error(s, 408, "header timeout");
		else
			session_close(s); /* idle keep-alive connection */
		break;
	case HS_FORWARD:
		if (s->sc && !s->sc->connected)
			server_failed(s, "connect timeout", false, 504);
		else if (!s->resp_started)
			server_failed(s, "server timeout", true, 504);
		else
			session_close(s);
		break;
	default:
		session_close(s);
	}
}

/* --- life of a session --------------------------------------------------------- */

static void session_free(void *arg)
{
	struct http_session *s = arg;

	buf_free(&s->cin);
	buf_free(&s->cout);
	reqstore_free(&s->store);
	free(s);
}

static void session_close(struct http_session *s)
{
	struct virtual_service *svc = s->svc;

	if (s->state == HS_CLOSED)
		return;
	s->state = HS_CLOSED;
	close(s->cli.fd);
	deadline_clear(s);
	release_server(s, false);
	for (int i = 0; i < s->ntried; i++)
		rs_put(s->tried[i]);
	s->ntried = 0;
	s->fresh_retry = false;
	set_target(s, NULL);
	session_end(s->w, &s->link, svc);
	if (loop_defer(s->w->loop, session_free, s) != 0)
		fatalx("out of memory deferring a free");
}

static void force_close(struct session_link *l)
{
	session_close(container_of(l, struct http_session, link));
}

/* The worker is stopping: an idle keep-alive connection closes now, a
 * busy one after its current response. */
static void graceful(struct session_link *l)
{
	struct http_session *s = container_of(l, struct http_session, link);

	s->keepalive = false;
	if (s->state == HS_HEAD && !s->cin.len)
		session_close(s);
	else if (s->state == HS_HEAD)
		s->close_after = true;
}

/* A session for client <fd> of <svc>, waiting for a head; NULL when out of
 * memory. The caller links it and registers <fd>. */
static struct http_session *session_new(struct worker *w, struct virtual_service *svc,
					bool redirect_mode, const struct weir_addr *client, int fd)
{
	struct http_session *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->w = w;
	s->svc = svc;
	svc_runtime(s->svc, &s->rt);
	s->redirect = redirect_mode;
	s->client = *client;
	s->cli.fd = fd;
	s->cli.cb = cli_cb;
	s->cin.max = http_opts_rt(&s->rt)->max_head + READ_CHUNK + STORE_HIGH;
	s->timer.cb = timer_cb;
	s->link.force_close = force_close;
	s->link.graceful = graceful;
	s->state = HS_HEAD;
	reqstore_init(&s->store, http_opts_rt(&s->rt)->retry_mem);
	request_msg_init(s);
	return s;
}

/* --- parked connections ---------------------------------------------------------- */

/*
 * A keep-alive connection idle for PARK_AFTER_MS parks: its session
 * (1.5 KB) is freed and this keeps the connection, with what the next
 * request needs from before: the socket, the keep-alive deadline, the
 * client and local addresses (as a PROXY header gave them), the mode. The
 * first read event makes a new session of it again, with the service's
 * options as they are then. Worker thread only, like a session; it is in
 * the worker's session list and holds session_begin()'s reference.
 */
struct http_parked {
	struct session_link link;
	struct loop_io cli;
	struct worker *w;
	struct virtual_service *svc;   /* reference */
	struct timer timer;            /* the keep-alive deadline */
	struct weir_addr client, local;
	bool redirect;
	bool gone;                     /* closed or a session again: events are stale */
};

static void parked_close(struct http_parked *p)
{
	p->gone = true;
	close(p->cli.fd);
	timer_cancel(p->w->loop, &p->timer);
	session_end(p->w, &p->link, p->svc);
	if (loop_defer(p->w->loop, free, p) != 0)
		fatalx("out of memory deferring a free");
}

static void parked_timer_cb(struct timer *t)
{
	parked_close(container_of(t, struct http_parked, timer));
}

/* force_close and graceful: a parked connection has nothing in flight */
static void parked_link_close(struct session_link *l)
{
	parked_close(container_of(l, struct http_parked, link));
}

/* The client sent something: a session takes the connection back and
 * handles the event. A client that left (EOF, reset) needs no session for
 * that: a flood of parked connections closing allocates nothing. */
static void parked_cb(struct loop_io *io, uint32_t events)
{
	struct http_parked *p = container_of(io, struct http_parked, cli);
	struct http_session *s;
	char c;
	ssize_t n;

	if (p->gone || !(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
		return;
	n = recv(p->cli.fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		parked_close(p);
		return;
	}
	s = session_new(p->w, p->svc, p->redirect, &p->client, p->cli.fd);
	if (!s || loop_mod(p->w->loop, &s->cli, EPOLLIN | EPOLLOUT | EPOLLRDHUP) != 0) {
		free(s);
		parked_close(p);
		return;
	}
	s->local = p->local;
	session_link_add(p->w, &s->link);
	session_link_del(&p->link);
	deadline_set(s, p->timer.when);
	timer_cancel(p->w->loop, &p->timer);
	p->gone = true;
	if (loop_defer(p->w->loop, free, p) != 0)
		fatalx("out of memory deferring a free");
	cli_cb(&s->cli, events);
}

static bool parkable(const struct http_session *s)
{
	return s->state == HS_HEAD && !s->cin.len && !s->cout.len && !s->close_after &&
	       !s->cli_readable && !s->cli_eof && !s->cli_hup && !s->need_proxy_header &&
	       !s->sc && !s->rs;
}

/* Parks <s>; false (and <s> stays as it is) when out of memory. */
static bool park(struct http_session *s)
{
	struct http_parked *p = calloc(1, sizeof(*p));
	struct loop *l = s->w->loop;

	if (!p)
		return false;
	p->w = s->w;
	p->svc = s->svc;
	p->client = s->client;
	p->local = s->local;
	p->redirect = s->redirect;
	p->cli.fd = s->cli.fd;
	p->cli.cb = parked_cb;
	if (loop_mod(l, &p->cli, EPOLLIN | EPOLLRDHUP) != 0) {
		free(p);
		return false;
	}
	p->timer.cb = parked_timer_cb;
	timer_arm(l, &p->timer, s->deadline);
	p->link.force_close = parked_link_close;
	p->link.graceful = parked_link_close;
	session_link_add(s->w, &p->link);
	session_link_del(&s->link);
	/* what session_close() lets go of, but the socket and the session's
	 * place in the counts, which the parked connection keeps */
	s->state = HS_CLOSED;
	deadline_clear(s);
	for (int i = 0; i < s->ntried; i++)
		rs_put(s->tried[i]);
	s->ntried = 0;
	set_target(s, NULL);
	if (loop_defer(l, session_free, s) != 0)
		fatalx("out of memory deferring a free");
	return true;
}

/* The session's timer fired before its deadline: an idle keep-alive
 * connection parks once it has waited PARK_AFTER_MS, or the timer comes
 * back when it will have. False: not idle, or the deadline comes first
 * (the caller re-arms for the deadline). */
static bool park_or_wait(struct http_session *s)
{
	/* idle since the keep-alive wait began: deadline_after() in next_request() */
	uint64_t since = s->deadline - http_opts_rt(&s->rt)->keepalive_timeout_ms;

	if (!parkable(s))
		return false;
	if (loop_ms(s) >= since + PARK_AFTER_MS)
		return park(s);
	if (since + PARK_AFTER_MS >= s->deadline)
		return false;
	timer_arm(s->w->loop, &s->timer, since + PARK_AFTER_MS);
	return true;
}

static void accept_common(struct listener *li, int fd, const struct weir_addr *peer,
			  bool redirect_mode)
{
	struct worker *w = li->w;
	struct http_session *s = session_new(w, li->svc, redirect_mode, peer, fd);

	if (!s) {
		close(fd);
		return;
	}
	session_begin(w, &s->link, s->svc);
	s->local = s->svc->addr; /* TCP_NODELAY: the listener's, inherited */
	if (s->rt.send_proxy)
		session_local_addr(fd, &s->svc->addr, &s->local);
	s->need_proxy_header = s->rt.trusts_fronts && svc_proxy_trusted(s->svc, peer);
	deadline_after(s, http_opts_rt(&s->rt)->header_timeout_ms);
	if (loop_add(w->loop, &s->cli, EPOLLIN | EPOLLOUT | EPOLLRDHUP) != 0)
		session_close(s);
}

static void http_accept(struct listener *li, int fd, const struct weir_addr *peer)
{
	accept_common(li, fd, peer, false);
}

static void redirect_accept(struct listener *li, int fd, const struct weir_addr *peer)
{
	accept_common(li, fd, peer, true);
}

static void http_start(struct virtual_service *svc)
{
	listener_start(svc, http_accept);
}

static void redirect_start(struct virtual_service *svc)
{
	listener_start(svc, redirect_accept);
}

const struct svc_mode http_proxy_ops = {
	.name = "http",
	.proto = IPPROTO_TCP,
	.pools = true,
	.prepare = listener_prepare_reqresp,
	.start = http_start,
	.stop = listener_stop,
};

const struct svc_mode redirect_proxy_ops = {
	.name = "redirect",
	.proto = IPPROTO_TCP,
	.server_url = true,
	.prepare = listener_prepare_reqresp,
	.start = redirect_start,
	.stop = listener_stop,
};
