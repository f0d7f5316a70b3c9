/*
 * http_park.c - idle keep-alive connections of the HTTP proxy and of the
 * redirect mode, parked without a session (see struct http_parked).
 */
#include <errno.h>
#include <stdlib.h>

#include "core/conns.h"
#include "core/log.h"
#include "proxy/http_session.h"

/*
 * A keep-alive connection idle for PARK_AFTER_MS parks: its session
 * (1.6 KB) is freed and this keeps the connection, with what the next
 * request needs from before: the socket, the keep-alive deadline, the
 * client and local addresses (as a PROXY header gave them), the mode. The
 * first read event makes a new session of it again, with the service's
 * options as they are then. Worker thread only, like a session; it is in
 * the worker's session list and holds session_begin()'s reference.
 */
struct http_parked {
	struct session_link link;
	struct tp_conn cli;            /* the client connection */
	struct worker *w;
	struct virtual_service *svc;   /* reference */
	struct timer timer;            /* the keep-alive deadline */
	struct weir_addr client, local;
	hs_request_fn on_request;      /* the mode's */
};

/* Closed, or a session again (which took <cli>): its events are stale. */
static bool gone(const struct http_parked *p)
{
	return p->cli.io.fd < 0;
}

static void parked_close(struct http_parked *p)
{
	tp_close(&p->cli);
	timer_cancel(p->w->loop, &p->timer);
	session_end(p->w, &p->link, p->svc);
	if (loop_defer(p->w->loop, free, p) != 0)
		fatalx("out of memory deferring a free");
}

static void parked_timer_cb(struct timer *t)
{
	parked_close(container_of(t, struct http_parked, timer));
}

/* A parked keep-alive connection as a line of -L -c: no server. */
static bool parked_describe(struct session_link *l, uint64_t now, struct conn_entry *e)
{
	struct http_parked *p = container_of(l, struct http_parked, link);

	e->proto = IPPROTO_TCP;
	e->state = CONN_ESTABLISHED;
	e->src = p->client;
	e->vip = p->svc->addr;
	e->expire_s = timer_armed(&p->timer) ? conn_expire_s(now, p->timer.when, 1000) : 0;
	return true;
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
	struct http_parked *p = container_of(io, struct http_parked, cli.io);
	struct http_session *s;
	char c;
	ssize_t n;

	if (gone(p) || !(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
		return;
	n = tp_peek(&p->cli, &c, 1);
	if (n == -EAGAIN)
		return;
	if (n <= 0) {
		parked_close(p);
		return;
	}
	s = hs_session_new(p->w, p->svc, p->on_request, &p->client, &p->cli);
	if (!s || loop_mod(p->w->loop, &s->cli.io, EPOLLIN | EPOLLOUT | EPOLLRDHUP) != 0) {
		free(s);
		parked_close(p);
		return;
	}
	s->local = p->local;
	session_link_add(p->w, &s->link);
	session_link_del(&p->link);
	hs_deadline_set(s, p->timer.when);
	timer_cancel(p->w->loop, &p->timer);
	p->cli.io.fd = -1; /* the session's now */
	if (loop_defer(p->w->loop, free, p) != 0)
		fatalx("out of memory deferring a free");
	hs_cli_cb(&s->cli.io, events);
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
	p->on_request = s->on_request;
	p->cli = s->cli;
	p->cli.io.cb = parked_cb;
	if (loop_mod(l, &p->cli.io, EPOLLIN | EPOLLRDHUP) != 0) {
		free(p);
		return false;
	}
	p->timer.cb = parked_timer_cb;
	timer_arm(l, &p->timer, s->deadline);
	p->link.force_close = parked_link_close;
	p->link.graceful = parked_link_close;
	p->link.describe = parked_describe;
	session_link_add(s->w, &p->link);
	session_link_del(&s->link);
	/* what hs_session_close() lets go of, but the socket and the session's
	 * place in the counts, which the parked connection keeps */
	s->state = HS_CLOSED;
	hs_deadline_clear(s);
	for (int i = 0; i < s->ntried; i++)
		rs_put(s->tried[i]);
	s->ntried = 0;
	hs_set_target(s, NULL);
	if (loop_defer(l, hs_session_free, s) != 0)
		fatalx("out of memory deferring a free");
	return true;
}

bool hs_park_or_wait(struct http_session *s)
{
	/* idle since the keep-alive wait began: hs_deadline_after() in hs_next_request() */
	uint64_t since = s->deadline - http_opts_rt(&s->rt)->keepalive_timeout_ms;

	if (!parkable(s))
		return false;
	if (hs_ms(s) >= since + PARK_AFTER_MS)
		return park(s);
	if (since + PARK_AFTER_MS >= s->deadline)
		return false;
	timer_arm(s->w->loop, &s->timer, since + PARK_AFTER_MS);
	return true;
}
