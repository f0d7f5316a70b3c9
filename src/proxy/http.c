/*
 * http.c - the session of the HTTP reverse proxy (--proxy http) and of the
 * redirect mode (--proxy redirect), and its client side. The other files
 * of the session are listed in http_session.h.
 *
 * One session per client connection, on the worker that accepted it:
 *   head      read until the head is complete (header timeout: 408; too
 *             large: 431; malformed: 400), parse it (proto/http.c), route
 *             it (route.c), read its sticky key
 *   request   the mode takes it (<on_request>): the proxy forwards it
 *             (http_forward.c), the redirect mode answers it (redirect.c)
 *   next      the answer sent, the next request's head is looked for; an
 *             idle keep-alive connection parks (http_park.c)
 * Requests on one connection are answered in order; pipelined ones wait in
 * the client buffer. The errors weir answers itself end the connection,
 * with a lingering close.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/conns.h"
#include "core/log.h"
#include "proto/proxy_proto.h"
#include "proxy/accesslog.h"
#include "proxy/http_session.h"
#include "proxy/route.h"

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

/*
 * The heads being handled. A head is parsed, used and forgotten in one go
 * (the session keeps the few scalars it needs later), so its 128 header
 * slots (2 KB) live once per worker thread, not in every session: an idle
 * keep-alive connection does not carry them. <s->rh> and <s->resph> point
 * here only while their head is handled, NULL otherwise.
 */
static _Thread_local struct http_head req_head; /* and resp_head in http_forward.c */

static void linger_start(struct http_session *s);

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

static uint64_t ms_between(uint64_t from, uint64_t to)
{
	return from && to > from ? (to - from) / 1000000 : 0;
}

/* One line per request, HAProxy-httplog-like: client, service, server,
 * status, body bytes, timings in ms Tw/Tc/Tr/Tt (waiting for a server,
 * connecting, until the response head, total), retries, request. */
void hs_access_log(struct http_session *s)
{
	char c[ADDR_STRLEN], v[ADDR_STRLEN], r[ADDR_STRLEN], line[512];
	uint64_t now = now_ns();
	int n;

	if (!http_opts_rt(&s->rt)->access_log[0])
		return;
	n = snprintf(line, sizeof(line), "%s %s %s %u %" PRIu64 " %" PRIu64 "/%" PRIu64
		     "/%" PRIu64 "/%" PRIu64 " %d \"%s\"\n",
		     addr_str(&s->client, c), addr_str(&s->svc->addr, v),
		     s->rs ? addr_str(&s->rs->addr, r) : "-", s->status, s->resp_bytes,
		     ms_between(s->t_start, s->t_dispatch),
		     ms_between(s->t_dispatch, s->t_connected),
		     ms_between(s->t_connected, s->t_resp),
		     ms_between(s->t_start, now), s->ntried, s->line);
	if (n <= 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1; /* cut short, still a line */
		line[n - 1] = '\n';
	}
	accesslog_put(s->w, http_opts_rt(&s->rt)->access_log, line, (size_t)n);
}

/* --- answering ourselves ------------------------------------------------------- */

void hs_respond_error(struct http_session *s, int status, const char *why)
{
	const char *reason = reason_of(status);

	buf_printf(&s->cout, "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
		   "Content-Length: %zu\r\nConnection: close\r\n\r\n%s\n",
		   status, reason, strlen(reason) + 1, reason);
	unsigned cls = (unsigned)status / 100;

	s->status = (uint16_t)status;
	s->close_after = true;
	s->linger = true;
	hs_counters(s, hs_count_status, &cls);
	if (why)
		log_debug("http: %d to %s: %s", status, addr_str(&s->client, (char[ADDR_STRLEN]){ 0 }),
			  why);
	hs_access_log(s);
	s->state = HS_HEAD; /* no more reading: close_after wins */
	hs_client_flush(s);
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
int hs_client_read(struct http_session *s, size_t limit)
{
	while (s->cli_readable && !s->cli_eof && s->cin.len < limit) {
		char *dst = buf_reserve(&s->cin, READ_CHUNK);
		ssize_t n;

		if (!dst)
			return -ENOMEM;
		n = tp_read(&s->cli, dst, READ_CHUNK);
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
		} else if (n == -EAGAIN) {
			s->cli_readable = false;
		} else {
			return (int)n;
		}
	}
	return 0;
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

void hs_set_target(struct http_session *s, struct virtual_service *t)
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
		hs_set_target(s, s->svc);
		return;
	}
	/* the host the request names: an absolute-form target's, else Host */
	r = route_match(rt, &(struct route_req){
		.method = base + h->method.off, .method_len = h->method.len,
		.host = base + h->authority.off, .host_len = h->authority.len,
		.path = base + h->path.off, .path_len = h->path.len,
		.header = route_header, .arg = &l,
	});
	hs_set_target(s, r && r->pool ? r->pool : s->svc);
	route_table_put(rt);
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
		hs_respond_error(s, 413, "declared body too large");
		return;
	}
	s->state = HS_FORWARD;
	hs_deadline_after(s, http_opts_rt(&s->rt)->server_timeout_ms);
	hs_sticky_key_of(s, base);
	route_request(s, base);
	counter_add(&hs_share(s)->requests, 1);
	s->on_request(s, n);
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
		hs_session_close(s);
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
		hs_respond_error(s, s->req.status, s->req.why);
		return;
	}
	if (s->cli_eof) {
		if (s->cin.len)
			hs_respond_error(s, 400, "client closed mid-head");
		else
			hs_session_close(s);
		return;
	}
	/* a slow head is timed from its first byte */
	if (s->cin.len && !s->deadline)
		hs_deadline_after(s, http_opts_rt(&s->rt)->header_timeout_ms);
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
	if (timer_armed(&s->timer) && s->timer.when > hs_ms(s) + PARK_AFTER_MS)
		timer_arm(s->w->loop, &s->timer, hs_ms(s) + PARK_AFTER_MS);
}

/* The request and its response are over: get ready for the next one. */
void hs_next_request(struct http_session *s)
{
	s->state = HS_HEAD;
	request_msg_init(s);
	if (s->close_after || !s->keepalive) {
		hs_deadline_clear(s);
		s->close_after = true;
		hs_client_flush(s);
		return;
	}
	hs_deadline_after(s, s->cin.len ? http_opts_rt(&s->rt)->header_timeout_ms :
		       http_opts_rt(&s->rt)->keepalive_timeout_ms);
	if (hs_client_read(s, http_opts_rt(&s->rt)->max_head + 1) != 0) {
		hs_session_close(s);
		return;
	}
	try_head(s);
	idle_wait(s);
}

/* --- the client side --------------------------------------------------------------- */

void hs_client_flush(struct http_session *s)
{
	/* the last bytes before weir closes (an answer of its own, or the end
	 * of a response on a connection that closes after it) are held back
	 * (MSG_MORE) until the close or shutdown that follows at once, which
	 * sends them with the FIN: one segment instead of two */
	bool last = s->close_after ? !s->sc :
		    s->state == HS_FORWARD && s->resp_started && s->resp.complete && !s->keepalive;
	int more = last ? TP_MORE : 0;

	while (s->cout.len) {
		ssize_t n = tp_write(&s->cli, buf_head(&s->cout), s->cout.len, more);

		if (n > 0) {
			buf_consume(&s->cout, (size_t)n);
		} else if (n == -EAGAIN) {
			return;
		} else {
			hs_session_close(s);
			return;
		}
	}
	if (s->close_after && !s->sc) {
		if (!s->cli_eof && (s->linger || s->cin.len || s->cli_readable || !s->req_done))
			linger_start(s);
		else
			hs_session_close(s);
		return;
	}
	idle_wait(s); /* the last of a response went while idle */
}

/* Reads and drops what the client still sends, until EOF or a bound. */
static void linger_read(struct http_session *s)
{
	char drop[16384];
	uint64_t now = hs_ms(s);

	for (;;) {
		ssize_t n = tp_read(&s->cli, drop, sizeof(drop));

		if (n > 0) {
			s->linger_bytes += (uint64_t)n;
			if (s->linger_bytes <= LINGER_MAX)
				continue;
		} else if (n == -EAGAIN) {
			break;
		}
		hs_session_close(s); /* EOF, an error, or enough */
		return;
	}
	if (now >= s->linger_end) {
		hs_session_close(s);
		return;
	}
	hs_deadline_set(s, MIN(now + LINGER_IDLE_MS, s->linger_end));
}

static void linger_start(struct http_session *s)
{
	if (tp_shutdown(&s->cli) != 0) {
		hs_session_close(s);
		return;
	}
	s->state = HS_LINGER;
	buf_consume(&s->cin, s->cin.len);
	s->linger_bytes = 0;
	s->linger_end = hs_ms(s) + LINGER_MS;
	linger_read(s);
}

void hs_cli_cb(struct loop_io *io, uint32_t events)
{
	struct http_session *s = container_of(io, struct http_session, cli.io);

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
		hs_client_flush(s);
		if (s->state == HS_CLOSED)
			return;
		if (s->sc && s->srv_readable)
			hs_server_pump(s);
		if (s->state == HS_CLOSED)
			return;
	}
	if (s->close_after)
		return;
	if (s->state == HS_HEAD) {
		if (hs_client_read(s, http_opts_rt(&s->rt)->max_head + 1) != 0) {
			hs_session_close(s);
			return;
		}
		try_head(s);
	} else {
		hs_client_forward(s);
	}
}

static void timer_cb(struct timer *t)
{
	struct http_session *s = container_of(t, struct http_session, timer);

	if (s->deadline > hs_ms(s)) {
		if (!hs_park_or_wait(s))
			timer_arm(s->w->loop, &s->timer, s->deadline); /* pushed back meanwhile */
		return;
	}
	s->deadline = 0;
	switch (s->state) {
	case HS_HEAD:
		if (s->cin.len)
			hs_respond_error(s, 408, "header timeout");
		else
			hs_session_close(s); /* idle keep-alive connection */
		break;
	case HS_FORWARD:
		hs_forward_timeout(s);
		break;
	default:
		hs_session_close(s);
	}
}

/* --- life of a session --------------------------------------------------------- */

void hs_session_free(void *arg)
{
	struct http_session *s = arg;

	buf_free(&s->cin);
	buf_free(&s->cout);
	reqstore_free(&s->store);
	free(s);
}

void hs_session_close(struct http_session *s)
{
	struct virtual_service *svc = s->svc;

	if (s->state == HS_CLOSED)
		return;
	s->state = HS_CLOSED;
	tp_close(&s->cli);
	hs_deadline_clear(s);
	hs_release_server(s, false);
	for (int i = 0; i < s->ntried; i++)
		rs_put(s->tried[i]);
	s->ntried = 0;
	s->fresh_retry = false;
	hs_set_target(s, NULL);
	session_end(s->w, &s->link, svc);
	if (loop_defer(s->w->loop, hs_session_free, s) != 0)
		fatalx("out of memory deferring a free");
}

static void force_close(struct session_link *l)
{
	hs_session_close(container_of(l, struct http_session, link));
}

/* The session as a line of -L -c: the client's connection, with the
 * server of its request in flight if any; it ends at its deadline. */
static bool describe(struct session_link *l, uint64_t now, struct conn_entry *e)
{
	struct http_session *s = container_of(l, struct http_session, link);

	if (s->state == HS_CLOSED)
		return false;
	e->proto = IPPROTO_TCP;
	e->state = CONN_ESTABLISHED;
	e->src = s->client;
	e->vip = s->svc->addr;
	if (s->rs)
		e->dst = s->rs->addr;
	e->expire_s = conn_expire_s(now, s->deadline, 1000);
	return true;
}

/* The worker is stopping: an idle keep-alive connection closes now, a
 * busy one after its current response. */
static void graceful(struct session_link *l)
{
	struct http_session *s = container_of(l, struct http_session, link);

	s->keepalive = false;
	if (s->state == HS_HEAD && !s->cin.len)
		hs_session_close(s);
	else if (s->state == HS_HEAD)
		s->close_after = true;
}

struct http_session *hs_session_new(struct worker *w, struct virtual_service *svc,
				    hs_request_fn on_request, const struct weir_addr *client,
				    const struct tp_conn *cli)
{
	struct http_session *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->w = w;
	s->svc = svc;
	svc_runtime(s->svc, &s->rt);
	s->on_request = on_request;
	s->client = *client;
	s->cli = *cli;
	s->cli.io.cb = hs_cli_cb;
	s->cin.max = http_opts_rt(&s->rt)->max_head + READ_CHUNK + STORE_HIGH;
	s->timer.cb = timer_cb;
	s->link.force_close = force_close;
	s->link.graceful = graceful;
	s->link.describe = describe;
	s->state = HS_HEAD;
	reqstore_init(&s->store, http_opts_rt(&s->rt)->retry_mem);
	request_msg_init(s);
	return s;
}

void hs_accept(struct listener *li, int fd, const struct weir_addr *peer,
	       hs_request_fn on_request)
{
	struct worker *w = li->w;
	struct http_session *s;
	struct tp_conn cli;

	tp_init(&cli, fd, &tp_tcp, NULL);
	s = hs_session_new(w, li->svc, on_request, peer, &cli);
	if (!s) {
		tp_close(&cli);
		return;
	}
	session_begin(w, &s->link, s->svc);
	s->local = s->svc->addr; /* TCP_NODELAY: the listener's, inherited */
	if (s->rt.send_proxy)
		session_local_addr(fd, &s->svc->addr, &s->local);
	s->need_proxy_header = s->rt.trusts_fronts && svc_proxy_trusted(s->svc, peer);
	hs_deadline_after(s, http_opts_rt(&s->rt)->header_timeout_ms);
	if (loop_add(w->loop, &s->cli.io, EPOLLIN | EPOLLOUT | EPOLLRDHUP) != 0)
		hs_session_close(s);
}

