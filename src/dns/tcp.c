/*
 * tcp.c - DNS over TCP for the DNS mode (RFC 7766): the stream listener on
 * the service's address, each message behind its two-byte length, several
 * in flight on one connection (pipelining), answered in order.
 *
 * A connection reads while nothing waits to be written: a client that does
 * not read its answers stops being read, so its memory stays bounded by
 * one read buffer and the answers to what that buffer held. An answer is
 * written straight into the output queue behind room for its length, with
 * no copy. A connection idle for DNS_TCP_IDLE_MS ends.
 *
 * Ownership: a connection belongs to the worker that accepted it; it holds
 * a reference to its service (session_begin) until it is closed, and is
 * freed after the loop's current batch (loop_defer).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/table.h"
#include "core/worker.h"
#include "dns/dns_int.h"
#include "proto/dns.h"
#include "proxy/pworker.h"
#include "proxy/transport.h"

#define DNS_TCP_IDLE_MS 10000u
#define DNS_TCP_BUF (DNS_TCP_PREFIX + DNS_TCP_MAX)

struct dns_tcp {
	struct session_link link;
	struct tp_conn conn;
	struct worker *w;
	struct virtual_service *svc;    /* reference (session_begin) */
	struct weir_addr client;
	struct timer idle;
	size_t inlen;
	uint8_t *out;                   /* framed responses not written yet */
	size_t outlen, outoff, outcap;
	bool closed;
	uint8_t in[DNS_TCP_BUF];
};

static void tcp_free(void *arg)
{
	struct dns_tcp *t = arg;

	free(t->out);
	free(t);
}

static void tcp_close(struct dns_tcp *t)
{
	if (t->closed)
		return;
	t->closed = true;
	tp_close(&t->conn);
	timer_cancel(t->w->loop, &t->idle);
	session_end(t->w, &t->link, t->svc);
	if (loop_defer(t->w->loop, tcp_free, t) != 0)
		fatalx("out of memory deferring a free");
}

static void tcp_force(struct session_link *l)
{
	tcp_close(container_of(l, struct dns_tcp, link));
}

/* Answers msg[0..len) into the output queue, framed. -ENOMEM: the queue
 * could not grow. */
static int answer_queued(struct dns_tcp *t, const uint8_t *msg, size_t len, uint64_t now)
{
	size_t r;

	if (t->outlen + DNS_TCP_PREFIX + DNS_TCP_MAX > t->outcap) {
		size_t cap = (t->outlen + DNS_TCP_PREFIX + DNS_TCP_MAX) * 2;
		uint8_t *o = realloc(t->out, cap);

		if (!o)
			return -ENOMEM;
		t->out = o;
		t->outcap = cap;
	}
	r = dns_answer(t->svc, msg, len, &t->client, t->out + t->outlen + DNS_TCP_PREFIX,
		       DNS_TCP_MAX, true, now);
	if (!r)
		return 0;
	t->out[t->outlen] = (uint8_t)(r >> 8);
	t->out[t->outlen + 1] = (uint8_t)r;
	t->outlen += DNS_TCP_PREFIX + r;
	return 0;
}

/* Writes what is queued; -1: the connection must end. */
static int flush_out(struct dns_tcp *t)
{
	while (t->outoff < t->outlen) {
		ssize_t n = tp_write(&t->conn, t->out + t->outoff, t->outlen - t->outoff, 0);

		if (n == -EAGAIN)
			return 0;
		if (n <= 0)
			return -1;
		t->outoff += (size_t)n;
	}
	t->outoff = t->outlen = 0;
	return 0;
}

static void tcp_cb(struct loop_io *io, uint32_t events)
{
	struct dns_tcp *t = container_of(io, struct dns_tcp, conn.io);
	uint64_t now = loop_now(t->w->loop);

	if (t->closed)
		return;
	if (flush_out(t) != 0) {
		tcp_close(t);
		return;
	}
	while (!t->outlen) {
		ssize_t n = tp_read(&t->conn, t->in + t->inlen, sizeof(t->in) - t->inlen);
		size_t pos = 0;

		if (n == -EAGAIN)
			break;
		if (n <= 0) {
			tcp_close(t);
			return;
		}
		t->inlen += (size_t)n;
		/* every whole message in the buffer (pipelining) */
		for (;;) {
			const uint8_t *msg;
			size_t len;
			int took = dns_tcp_frame(t->in + pos, t->inlen - pos, DNS_TCP_MAX, &msg, &len);

			if (took < 0) {
				tcp_close(t); /* a length of 0 */
				return;
			}
			if (!took)
				break;
			if (answer_queued(t, msg, len, now) != 0) {
				tcp_close(t);
				return;
			}
			pos += (size_t)took;
		}
		memmove(t->in, t->in + pos, t->inlen - pos);
		t->inlen -= pos;
		if (flush_out(t) != 0) {
			tcp_close(t);
			return;
		}
	}
	timer_arm(t->w->loop, &t->idle, now + DNS_TCP_IDLE_MS);
}

static void tcp_idle(struct timer *tm)
{
	tcp_close(container_of(tm, struct dns_tcp, idle));
}

void dns_tcp_accept(struct listener *li, int fd, const struct weir_addr *peer)
{
	struct dns_tcp *t = malloc(sizeof(*t));

	if (!t) {
		close(fd);
		return;
	}
	memset(t, 0, offsetof(struct dns_tcp, in));
	t->w = li->w;
	t->svc = li->svc;
	t->client = *peer;
	t->idle.cb = tcp_idle;
	t->link.force_close = tcp_force;
	tp_init(&t->conn, fd, &tp_tcp, tcp_cb);
	session_begin(t->w, &t->link, t->svc);
	if (loop_add(t->w->loop, &t->conn.io, EPOLLIN | EPOLLOUT | EPOLLRDHUP) != 0) {
		tcp_close(t);
		return;
	}
	timer_arm(t->w->loop, &t->idle, loop_now(t->w->loop) + DNS_TCP_IDLE_MS);
}
