/*
 * redirect.c - the HTTP redirect mode (--proxy redirect): each request is
 * answered "302 Found" with a Location on the real server the scheduler
 * (or the request's sticky key) chose: the server's url when it has one,
 * else http://ADDRESS:PORT, followed by the request's target. Nothing is
 * forwarded; the session (http.c) reads heads, keeps connections alive,
 * answers errors and logs as it does for the proxy.
 */
#include <stdio.h>

#include "proxy/http_session.h"
#include "proxy/redirect.h"

static void redirect(struct http_session *s, int n)
{
	const char *base = buf_head(&s->cin);
	struct http_span origin = s->rh->origin;
	struct real_server *rs;
	char a[ADDR_STRLEN];

	/* a request with a body is answered, then the connection closes: its
	 * body is never read */
	s->req_done = s->req.complete;
	if (!s->req_done)
		s->keepalive = false;
	rs = hs_sticky_pick(s);
	if (!rs)
		rs = svc_schedule(s->target, &s->client, hs_ms(s), NULL, 0, NULL);
	if (!rs) {
		buf_consume(&s->cin, (size_t)n);
		hs_respond_error(s, 503, "no server");
		return;
	}
	s->rs = rs;
	s->status = 302;
	buf_printf(&s->cout, "HTTP/1.1 302 Found\r\nLocation: ");
	if (rs->spec.url[0])
		buf_printf(&s->cout, "%s", rs->spec.url);
	else
		buf_printf(&s->cout, "http://%s", addr_str(&rs->addr, a));
	buf_printf(&s->cout, "%s%.*s\r\nContent-Length: 0\r\n%s\r\n", origin.len ? "" : "/",
		   (int)origin.len, base + origin.off, s->keepalive ? "" : "Connection: close\r\n");
	buf_consume(&s->cin, (size_t)n);
	counter_add(&stats_mine(&rs->stats)->conns, 1);
	counter_add(&hs_share(s)->conns, 1);
	hs_access_log(s);
	svc_conn_close(rs, true, &s->client, hs_ms(s));
	s->rs = NULL;
	if (!s->keepalive)
		s->close_after = true;
	s->served++;
	hs_client_flush(s);
	if (s->state != HS_CLOSED && s->state != HS_LINGER)
		hs_next_request(s);
}

static void redirect_accept(struct listener *li, int fd, const struct weir_addr *peer)
{
	hs_accept(li, fd, peer, redirect);
}

static void redirect_start(struct virtual_service *svc)
{
	listener_start(svc, redirect_accept);
}

const struct svc_mode redirect_mode = {
	.proto = IPPROTO_TCP,
	.server_url = true,
	.name = "redirect",
	.prepare = listener_prepare_reqresp,
	.start = redirect_start,
	.stop = listener_stop,
};
