/*
 * tcp.c - the layer-4 TCP proxy (--proxy tcp).
 *
 * A session joins a client connection and a real-server connection, both
 * plain TCP transports (transport.h). Each direction (a "flow") moves bytes
 * with the transports' splice ops: socket -> pipe -> socket, never through
 * user space. A flow takes a pipe from the worker's pool only while it
 * holds data, so an idle session costs two sockets and this struct.
 *
 * Life: accepted -> scheduled -> CONNECTING (non-blocking connect, timer =
 * connect timeout; on failure the next server is tried, skipping those
 * tried) -> RELAYING (timer = idle timeout) -> closed. A direction that
 * reads EOF shuts down the write side of the other socket once its pipe is
 * drained (half-close); the session ends when both directions have ended or
 * on an error or timeout. Everything runs on the worker that accepted it.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/conns.h"
#include "core/log.h"
#include "core/table.h"
#include "health/state.h"
#include "proto/proxy_proto.h"
#include "proxy/proxy.h"
#include "proxy/pworker.h"
#include "proxy/tcp.h"
#include "proxy/transport.h"

#define MAX_TRIES 8
#define SPLICE_CHUNK (64u << 10)   /* default pipe capacity */

enum tcp_state { TS_PROXY_HEADER, TS_CONNECTING, TS_RELAYING, TS_CLOSED };

struct tcp_side {
	struct tp_conn conn;
	bool readable, writable;
	bool eof;        /* read returned 0 */
	bool shut;       /* we shut down its write side */
};

/* One direction: from <src> through <pipe> to <dst>. */
struct tcp_flow {
	struct pipe_pair pipe;
	size_t in_pipe;
	bool done;       /* EOF forwarded */
};

struct tcp_session {
	struct session_link link;
	struct tcp_side cli, srv;
	struct tcp_flow up, down;      /* up: client -> server */
	enum tcp_state state;
	bool active;                   /* counted active (not half-closed) */
	struct worker *w;
	struct virtual_service *svc;   /* reference */
	struct real_server *rs;        /* reference from svc_schedule */
	struct real_server *tried[MAX_TRIES]; /* references */
	int ntried;
	struct weir_addr client;       /* as the PROXY header says, if trusted */
	struct weir_addr local;        /* the address the client connected to */
	struct vs_runtime_l4 rt;
	struct timer timer;
	uint64_t last_io;
	uint64_t connect_ns;           /* when the connect started */
};

static void session_close(struct tcp_session *s);
static uint32_t idle_ms(const struct tcp_session *s);
static void relay(struct tcp_session *s);
static bool try_connect(struct tcp_session *s);
static void read_proxy_header(struct tcp_session *s);

static void session_free(void *arg)
{
	free(arg);
}

static void flow_release(struct tcp_session *s, struct tcp_flow *f)
{
	if (f->pipe.rd < 0)
		return;
	if (f->in_pipe)
		pipe_close(&f->pipe);
	else
		pipe_put(s->w, &f->pipe);
}

/* Ends the session: sockets, pipes, accounting, then the memory after the
 * current batch of events (it may still be referenced there). */
static void session_close(struct tcp_session *s)
{
	struct virtual_service *svc = s->svc;

	if (s->state == TS_CLOSED)
		return;
	s->state = TS_CLOSED;
	tp_close(&s->cli.conn);
	tp_close(&s->srv.conn);
	flow_release(s, &s->up);
	flow_release(s, &s->down);
	timer_cancel(s->w->loop, &s->timer);
	if (s->rs)
		svc_conn_close(s->rs, s->active, &s->client, loop_now(s->w->loop));
	for (int i = 0; i < s->ntried; i++)
		rs_put(s->tried[i]);
	session_end(s->w, &s->link, svc);
	if (loop_defer(s->w->loop, session_free, s) != 0)
		fatalx("out of memory deferring a free");
}

static void force_close(struct session_link *l)
{
	session_close(container_of(l, struct tcp_session, link));
}

/* The session as a line of -L -c. Its expiry: the running timer (PROXY
 * header, connect), or the idle timeout after its last I/O. */
static bool describe(struct session_link *l, uint64_t now, struct conn_entry *e)
{
	struct tcp_session *s = container_of(l, struct tcp_session, link);
	uint64_t until = timer_armed(&s->timer) ? s->timer.when : now;

	if (s->state == TS_CLOSED)
		return false;
	e->proto = IPPROTO_TCP;
	e->src = s->client;
	e->vip = s->svc->addr;
	if (s->rs)
		e->dst = s->rs->addr;
	if (s->state == TS_PROXY_HEADER) {
		e->state = CONN_SYN_RECV;
	} else if (s->state == TS_CONNECTING) {
		e->state = CONN_SYN_SENT;
	} else {
		e->state = s->up.done || s->down.done ? CONN_FIN_WAIT : CONN_ESTABLISHED;
		until = s->last_io + idle_ms(s);
	}
	e->expire_s = conn_expire_s(now, until, 1000);
	return true;
}

/* --- relaying ---------------------------------------------------------------- */

/* Moves what it can from <src> to <dst> through <f>. Counts bytes on
 * <c_rs>/<c_svc> as in (client->server) or out. Returns 0, or -1 when the
 * session must end (error). */
static int flow_pump(struct tcp_session *s, struct tcp_flow *f,
		     struct tcp_side *src, struct tcp_side *dst, bool inbound)
{
	bool progress = true;

	while (progress) {
		progress = false;
		if (!src->eof && src->readable && f->in_pipe < SPLICE_CHUNK) {
			ssize_t n;

			if (f->pipe.rd < 0 && pipe_get(s->w, &f->pipe) != 0)
				return -1;
			n = tp_splice_in(&src->conn, f->pipe.wr, SPLICE_CHUNK - f->in_pipe);
			if (n > 0) {
				struct vs_counters *cs = stats_mine(&s->svc->stats);
				struct vs_counters *cr = stats_mine(&s->rs->stats);

				f->in_pipe += (size_t)n;
				if (inbound) {
					counter_add(&cs->inbytes, (uint64_t)n);
					counter_add(&cs->inpkts, 1);
					counter_add(&cr->inbytes, (uint64_t)n);
					counter_add(&cr->inpkts, 1);
				} else {
					counter_add(&cs->outbytes, (uint64_t)n);
					counter_add(&cs->outpkts, 1);
					counter_add(&cr->outbytes, (uint64_t)n);
					counter_add(&cr->outpkts, 1);
				}
				progress = true;
			} else if (n == 0) {
				src->eof = true;
			} else if (n == -EAGAIN) {
				/* With data in the pipe, EAGAIN may mean the pipe is
				 * full; only an empty pipe proves the socket is. */
				if (f->in_pipe == 0)
					src->readable = false;
			} else {
				return -1;
			}
		}
		if (f->in_pipe && dst->writable) {
			ssize_t n = tp_splice_out(&dst->conn, f->pipe.rd, f->in_pipe);

			if (n > 0) {
				f->in_pipe -= (size_t)n;
				progress = true;
			} else if (n == -EAGAIN) {
				dst->writable = false;
			} else if (n < 0) {
				return -1;
			}
		}
	}
	if (f->in_pipe == 0 && f->pipe.rd >= 0)
		pipe_put(s->w, &f->pipe);
	if (src->eof && f->in_pipe == 0 && !f->done) {
		f->done = true;
		tp_shutdown(&dst->conn);
		dst->shut = true;
	}
	return 0;
}

static void relay(struct tcp_session *s)
{
	if (flow_pump(s, &s->up, &s->cli, &s->srv, true) != 0 ||
	    flow_pump(s, &s->down, &s->srv, &s->cli, false) != 0) {
		session_close(s);
		return;
	}
	s->last_io = loop_now(s->w->loop);
	if (s->up.done && s->down.done) {
		session_close(s);
		return;
	}
	if (s->active && (s->up.done || s->down.done)) {
		/* half-closed: IPVS counts such a connection inactive */
		s->active = false;
		svc_conn_deactivate(s->rs);
		timer_arm(s->w->loop, &s->timer, s->last_io + idle_ms(s));
	}
}

/* --- connecting ------------------------------------------------------------- */

static void connect_failed(struct tcp_session *s, int err)
{
	char a[ADDR_STRLEN];

	log_info("%s: connect to %s failed: %s", "tcp", addr_str(&s->rs->addr, a),
		 strerror(err));
	tp_close(&s->srv.conn);
	s->srv.readable = s->srv.writable = s->srv.eof = false;
	if (s->ntried < MAX_TRIES) {
		rs_get(s->rs);
		s->tried[s->ntried++] = s->rs;
	}
	health_passive(s->rs, false);
	svc_conn_close(s->rs, true, &s->client, loop_now(s->w->loop));
	s->rs = NULL;
	s->active = false;
	if ((uint32_t)s->ntried > s->rt.retries || s->ntried >= MAX_TRIES || !try_connect(s))
		session_close(s);
}

/* Sends the PROXY protocol header naming the client (send_proxy). */
static int send_proxy_header(struct tcp_session *s)
{
	uint8_t hdr[PP_BUILD_MAX];
	int n = s->rt.send_proxy == 1 ?
		pp_build_v1((char *)hdr, sizeof(hdr), &s->client, &s->local) :
		pp_build_v2(hdr, sizeof(hdr), &s->client, &s->local, SOCK_STREAM);

	/* a fresh connection's buffer takes ~100 bytes whole */
	if (n < 0 || tp_write(&s->srv.conn, hdr, (size_t)n, 0) != n)
		return -EIO;
	return 0;
}

static void connected(struct tcp_session *s)
{
	int one = 1;

	if (s->rt.send_proxy && send_proxy_header(s) != 0) {
		connect_failed(s, EIO);
		return;
	}
	s->state = TS_RELAYING;
	svc_observe_rtt(s->rs, now_ns() - s->connect_ns, loop_now(s->w->loop));
	health_passive(s->rs, true);
	setsockopt(s->srv.conn.io.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	timer_arm(s->w->loop, &s->timer, loop_now(s->w->loop) + s->rt.idle_timeout_ms);
	relay(s);
}

static void side_event(struct tcp_session *s, struct tcp_side *side, uint32_t events)
{
	if (s->state == TS_CLOSED)
		return;
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		side->readable = true;
	if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
		side->writable = true;
	if (s->state == TS_PROXY_HEADER) {
		if (side == &s->cli && side->readable)
			read_proxy_header(s);
		return;
	}
	if (s->state == TS_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);

		if (side != &s->srv || !(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return; /* client data waits in its socket until connected */
		getsockopt(s->srv.conn.io.fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err)
			connect_failed(s, err);
		else
			connected(s);
		return;
	}
	relay(s);
}

/* The two sides' events: which side it is says which member of the
 * session it is (no pointer back in each side). */
static void cli_cb(struct loop_io *io, uint32_t events)
{
	struct tcp_session *s = container_of(io, struct tcp_session, cli.conn.io);

	side_event(s, &s->cli, events);
}

static void srv_cb(struct loop_io *io, uint32_t events)
{
	struct tcp_session *s = container_of(io, struct tcp_session, srv.conn.io);

	side_event(s, &s->srv, events);
}

/* Reads the PROXY protocol header a trusted front sends first: peeked, so
 * what follows it stays in the socket for splice(). */
static void read_proxy_header(struct tcp_session *s)
{
	uint8_t buf[PP_V2_MAX];
	struct pp_info info;
	ssize_t n = tp_peek(&s->cli.conn, buf, sizeof(buf));
	int r;

	if (n <= 0) {
		if (n == -EAGAIN)
			s->cli.readable = false;
		else
			session_close(s);
		return;
	}
	r = pp_parse(buf, (size_t)n, &info);
	if (r == PP_NEED_MORE) {
		s->cli.readable = false; /* more will come with the next edge */
		return;
	}
	if (r < 0 || tp_read(&s->cli.conn, buf, (size_t)r) != r) {
		char a[ADDR_STRLEN];

		log_info("tcp: %s sent no valid PROXY header", addr_str(&s->client, a));
		session_close(s);
		return;
	}
	if (!info.local) {
		s->client = info.src;
		s->local = info.dst;
	}
	timer_cancel(s->w->loop, &s->timer);
	s->state = TS_CONNECTING;
	if (!try_connect(s))
		session_close(s);
}

/* Schedules a server and starts connecting to it. Returns false when no
 * server is left to try (the caller closes the session). */
static bool try_connect(struct tcp_session *s)
{
	struct loop *l = s->w->loop;
	int fd, rc;

	for (;;) {
		s->rs = svc_schedule(s->svc, &s->client, loop_now(l), s->tried, s->ntried, NULL);
		if (!s->rs) {
			char a[ADDR_STRLEN];

			log_info("tcp %s: no real server available", addr_str(&s->svc->addr, a));
			return false;
		}
		s->active = true;
		counter_add(&stats_mine(&s->rs->stats)->conns, 1);
		fd = socket(addr_family(&s->rs->addr), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			log_warn("tcp: socket: %s", strerror(errno));
			return false; /* out of fds: another server won't help */
		}
		tp_init(&s->srv.conn, fd, &tp_tcp, srv_cb);
		s->connect_ns = now_ns();
		rc = connect(fd, &s->rs->addr.u.sa, addr_len(&s->rs->addr));
		if (rc == 0 || errno == EINPROGRESS)
			break;
		rc = errno;
		tp_close(&s->srv.conn);
		if (s->ntried < MAX_TRIES) {
			rs_get(s->rs);
			s->tried[s->ntried++] = s->rs;
		}
		log_info("tcp: connect: %s", strerror(rc));
		health_passive(s->rs, false);
		svc_conn_close(s->rs, true, &s->client, loop_now(s->w->loop));
		s->rs = NULL;
		s->active = false;
		if ((uint32_t)s->ntried > s->rt.retries || s->ntried >= MAX_TRIES)
			return false;
	}
	if (loop_add(l, &s->srv.conn.io, EPOLLIN | EPOLLOUT | EPOLLRDHUP) != 0) {
		tp_close(&s->srv.conn);
		return false;
	}
	s->state = TS_CONNECTING;
	timer_arm(l, &s->timer, loop_now(l) + s->rt.connect_timeout_ms);
	return true;
}

/* How long a relaying session may stay idle: a half-closed one (IPVS's
 * FIN_WAIT) at most the global tcpfin timeout. */
static uint32_t idle_ms(const struct tcp_session *s)
{
	bool half = s->up.done || s->down.done;

	return half ? MIN(s->rt.idle_timeout_ms, s->rt.fin_timeout_ms) : s->rt.idle_timeout_ms;
}

static void timer_cb(struct timer *t)
{
	struct tcp_session *s = container_of(t, struct tcp_session, timer);
	uint64_t now = loop_now(s->w->loop);

	if (s->state == TS_PROXY_HEADER) {
		session_close(s); /* a trusted front that never said who */
		return;
	}
	if (s->state == TS_CONNECTING) {
		connect_failed(s, ETIMEDOUT);
		return;
	}
	if (now - s->last_io >= idle_ms(s)) {
		session_close(s);
		return;
	}
	timer_arm(s->w->loop, &s->timer, s->last_io + idle_ms(s));
}

static void tcp_accept(struct listener *li, int fd, const struct weir_addr *peer)
{
	struct tcp_session *s = calloc(1, sizeof(*s));
	struct worker *w = li->w;
	struct tp_conn cli;

	tp_init(&cli, fd, &tp_tcp, cli_cb);
	if (!s) {
		tp_close(&cli);
		return;
	}
	s->w = w;
	s->svc = li->svc;
	s->client = *peer;
	svc_runtime_l4(s->svc, &s->rt);
	s->cli.conn = cli;
	tp_init(&s->srv.conn, -1, &tp_tcp, srv_cb);
	s->up.pipe.rd = s->up.pipe.wr = -1;
	s->down.pipe.rd = s->down.pipe.wr = -1;
	s->timer.cb = timer_cb;
	s->link.force_close = force_close;
	s->link.describe = describe;
	s->state = TS_CONNECTING;
	session_begin(w, &s->link, s->svc);
	s->local = s->svc->addr;
	if (s->rt.send_proxy)
		session_local_addr(fd, &s->svc->addr, &s->local);
	if (loop_add(w->loop, &s->cli.conn.io, EPOLLIN | EPOLLOUT | EPOLLRDHUP) != 0) {
		session_close(s);
		return;
	}
	if (s->rt.trusts_fronts && svc_proxy_trusted(s->svc, peer)) {
		/* a trusted front: its PROXY header says who the client is */
		s->state = TS_PROXY_HEADER;
		timer_arm(w->loop, &s->timer, loop_now(w->loop) + s->rt.connect_timeout_ms);
		return;
	}
	if (!try_connect(s))
		session_close(s);
}

/* --- the mode's ops -------------------------------------------------------- */

static void tcp_start(struct virtual_service *svc)
{
	listener_start(svc, tcp_accept);
}

const struct svc_mode tcp_mode = {
	.name = "tcp",
	.proto = IPPROTO_TCP,
	.prepare = listener_prepare,
	.start = tcp_start,
	.stop = listener_stop,
};
