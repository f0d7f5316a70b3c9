/*
 * http_forward.c - the HTTP reverse proxy (--proxy http): a request whose
 * head is complete is forwarded to a real server and its response relayed
 * back.
 *
 *   forward   the rewritten head and the body (streamed as it arrives) go
 *             into the request store and from there to the server; the
 *             store keeps them until the response starts, spilling large
 *             bodies to a temporary file
 *   dispatch  schedule a real server (per request), take an idle keep-alive
 *             connection from the worker's pool or open one
 *   response  the first byte of a final response ends retries; its head is
 *             rewritten, its body streamed to the client, and the server
 *             connection goes back to the pool if it can carry another
 *
 * A server that fails before answering (refused, reset, closed, timed out)
 * or answers the drain signal gets the request sent again to another
 * server, skipping those tried: always for idempotent methods, and for the
 * others when the server cannot have seen it (connect failed, drain
 * signal) unless retry_unsafe is on.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "core/log.h"
#include "health/state.h"
#include "proto/proxy_proto.h"
#include "proxy/http.h"
#include "proxy/http_session.h"

/* The response head being handled: see req_head in http.c. */
static _Thread_local struct http_head resp_head;

static void dispatch(struct http_session *s);
static bool client_pull(struct http_session *s);
static void srv_event(struct srvconn *sc, uint32_t events);

/* --- the request --------------------------------------------------------------- */

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
		hs_session_close(s); /* the answer is on its way: nothing to say */
		return;
	}
	if (s->sc) {
		srvconn_close(s->sc);
		s->sc = NULL;
	}
	hs_respond_error(s, err == -EFBIG ? 413 : err == -EBADMSG ? s->req.status : 502,
		      err == -EFBIG ? "body too large" : err == -EBADMSG ? s->req.why : "request body");
}

/* The proxy's hs_request_fn: the head (<n> bytes of cin) goes into the
 * store rewritten, with the body bytes already there, and a server is
 * chosen. */
void hs_forward(struct http_session *s, int n)
{
	const char *base = buf_head(&s->cin);
	int rc = 0;

	reqstore_clear(&s->store);
	s->store.keep = true;
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
		rc = hs_build_request_head(s, base);
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

/* --- servers ----------------------------------------------------------------- */

void hs_release_server(struct http_session *s, bool reusable)
{
	if (s->sc) {
		srvconn_release(s->sc, reusable, http_opts_rt(&s->rt)->pool_max_idle, http_opts_rt(&s->rt)->pool_idle_ms);
		s->sc = NULL;
	}
	if (s->rs) {
		svc_conn_close(s->rs, true, &s->client, hs_ms(s));
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
		svc_conn_close(s->rs, true, &s->client, hs_ms(s));
		s->rs = NULL;
	}
	s->fail_status = (uint16_t)status;
	s->fail_why = why;
	if (!may || (uint32_t)s->ntried > s->rt.retries || s->ntried >= MAX_TRIES) {
		hs_respond_error(s, status, why);
		return;
	}
	hs_counters(s, count_retry, NULL);
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


/* Chooses a server and a connection to it, and starts sending. */
static void dispatch(struct http_session *s)
{
	s->rs = hs_sticky_pick(s);
	if (!s->rs)
		s->rs = svc_schedule(s->target, &s->client, hs_ms(s), s->tried, s->ntried, NULL);
	if (!s->rs) {
		/* none left to try: the last failure speaks (502, 504), else 503 */
		if (s->ntried)
			hs_respond_error(s, s->fail_status, s->fail_why);
		else
			hs_respond_error(s, 503, "no server available");
		return;
	}
	counter_add(&stats_mine(&s->rs->stats)->conns, 1);
	counter_add(&hs_share(s)->conns, 1);
	if (!s->t_dispatch)
		s->t_dispatch = hs_log_stamp(s);
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
	hs_deadline_after(s, s->sc->connected ? http_opts_rt(&s->rt)->server_timeout_ms :
		       s->rt.connect_timeout_ms);
	if (s->sc->connected) {
		s->t_connected = hs_log_stamp(s); /* a pooled one */
		hs_server_pump(s);
	}
}

/* --- the response --------------------------------------------------------------- */

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


static void response_complete(struct http_session *s)
{
	unsigned cls = s->status / 100;
	uint64_t us = s->t_resp ? (s->t_resp - s->t_start) / 1000 : 0;
	/* a connection that began with this client's PROXY header is its alone */
	bool reusable = s->resp_keep_alive && !s->resp_until_close && s->req_done &&
			reqstore_unsent(&s->store) == 0 && !s->rt.send_proxy;

	if (s->rs)
		counter_add(&stats_mine(&s->rs->stats)->requests, 1);
	hs_counters(s, hs_count_status, &cls);
	hs_counters(s, count_rt, &us);
	hs_access_log(s);
	if (s->rs)
		svc_observe_rtt(s->rs, us * 1000, hs_ms(s));
	if (!s->req_done)
		s->close_after = true; /* the rest of the body would be a new request */
	hs_release_server(s, reusable);
	if (s->resp_until_close)
		s->close_after = true;
	s->served++;
	hs_next_request(s);
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
	hs_relay_response_head(s, base);
	buf_consume(&s->sc->in, (size_t)n);
	if (s->resph->status == 101) {
		s->state = HS_TUNNEL;
		hs_deadline_after(s, s->rt.idle_timeout_ms);
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

/* Reads from the server, as hs_client_read() does; returns 0, or -errno /
 * -EPIPE on EOF. */
static int server_read(struct http_session *s)
{
	struct srvconn *sc = s->sc;

	while (s->srv_readable && s->cout.len + sc->in.len < OUT_HIGH) {
		char *dst = buf_reserve(&sc->in, READ_CHUNK);
		ssize_t n;

		if (!dst)
			return -ENOMEM;
		n = tp_read(&sc->conn, dst, READ_CHUNK);
		if (n > 0) {
			struct vs_counters *cs = stats_mine(&s->svc->stats);
			struct vs_counters *cr = stats_mine(&s->rs->stats);
			struct vs_counters *cp = hs_share(s);

			buf_commit(&sc->in, (size_t)n);
			counter_add(&cs->outbytes, (uint64_t)n);
			counter_add(&cs->outpkts, 1);
			counter_add(&cr->outbytes, (uint64_t)n);
			counter_add(&cr->outpkts, 1);
			counter_add(&cp->outbytes, (uint64_t)n);
			counter_add(&cp->outpkts, 1);
			if (n < READ_CHUNK && !s->srv_hup)
				s->srv_readable = false; /* drained (see hs_client_read) */
		} else if (n == 0) {
			return -EPIPE;
		} else if (n == -EAGAIN) {
			s->srv_readable = false;
		} else {
			return (int)n;
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
			hs_deadline_after(s, s->rt.connect_timeout_ms);
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
			hs_client_flush(s);
			response_complete(s);
			return;
		}
	}
	/* a truncated answer: the client must see the connection end */
	hs_release_server(s, false);
	s->close_after = true;
	hs_client_flush(s);
}

void hs_server_pump(struct http_session *s)
{
	ssize_t sent = 0;
	int rc;

	if (!s->sc || !s->sc->connected)
		return; /* srv_event starts once the connect is done */
	/* the request: send, and pull more from the client as room appears */
	while (s->sc && (sent = reqstore_send(&s->store, &s->sc->conn)) > 0) {
		struct vs_counters *cr = stats_mine(&s->rs->stats);
		struct vs_counters *cp = hs_share(s);

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
		hs_client_flush(s);
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
		getsockopt(sc->conn.io.fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err) {
			server_failed(s, strerror(err), false, 502);
			return;
		}
		sc->connected = true;
		s->t_connected = hs_log_stamp(s);
		hs_deadline_after(s, http_opts_rt(&s->rt)->server_timeout_ms);
	}
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		s->srv_readable = true;
	if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		s->srv_hup = true;
	hs_deadline_after(s, s->state == HS_TUNNEL ? s->rt.idle_timeout_ms :
		       http_opts_rt(&s->rt)->server_timeout_ms);
	hs_server_pump(s);
}

/* Pulls what the client sent while a request is being forwarded into the
 * store, as far as the store may grow. Returns false when the session
 * ended. */
static bool client_pull(struct http_session *s)
{
	int rc;

	if (s->state == HS_TUNNEL) {
		if (hs_client_read(s, STORE_HIGH) != 0) {
			hs_session_close(s);
			return false;
		}
		if (s->cin.len && reqstore_append(&s->store, buf_head(&s->cin), s->cin.len) == 0)
			buf_consume(&s->cin, s->cin.len);
		if (s->cli_eof && s->sc && reqstore_unsent(&s->store) == 0)
			tp_shutdown(&s->sc->conn);
	} else if (!s->req_done && reqstore_unsent(&s->store) < STORE_HIGH) {
		if (hs_client_read(s, STORE_HIGH) != 0) {
			hs_session_close(s);
			return false;
		}
		rc = take_body(s);
		if (rc) {
			request_failed_body(s, rc);
			return false;
		}
		if (s->cli_eof && !s->req_done) {
			hs_session_close(s); /* the client gave up mid-body */
			return false;
		}
	} else if (s->req_done) {
		/* pipelined bytes wait in cin; only read to see the client go */
		hs_client_read(s, http_opts_rt(&s->rt)->max_head + 1);
	}
	return true;
}

void hs_client_forward(struct http_session *s)
{
	if (client_pull(s) && s->sc && s->sc->connected)
		hs_server_pump(s);
}

void hs_forward_timeout(struct http_session *s)
{
	if (s->sc && !s->sc->connected)
		server_failed(s, "connect timeout", false, 504);
	else if (!s->resp_started)
		server_failed(s, "server timeout", true, 504);
	else
		hs_session_close(s);
}

/* --- the mode's ops ------------------------------------------------------------ */

static void http_accept(struct listener *li, int fd, const struct weir_addr *peer)
{
	hs_accept(li, fd, peer, hs_forward);
}

static void http_start(struct virtual_service *svc)
{
	listener_start(svc, http_accept);
}

const struct svc_mode http_mode = {
	.proto = IPPROTO_TCP,
	.pools = true,
	.name = "http",
	.prepare = listener_prepare_reqresp,
	.start = http_start,
	.stop = listener_stop,
};
