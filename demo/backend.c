/*
 * backend.c - weir-backend, the demo and test real server.
 *
 *   weir-backend --listen ADDR:PORT [--name NAME] [--mode http|echo]
 *                [--fail-mode reset|close-early|drain|slow:MS] [--verbose]
 *                [--agent ADDR:PORT [--agent-reply TEXT]]
 *
 * http: an HTTP/1.1 server whose answer is chosen by the request path, so
 *       a test can steer it through a proxy (backend_routes.c has the
 *       table): GET / answers "200 OK" with the body "NAME\n", /conns the
 *       number of connections accepted so far, /echo the request as it
 *       arrived, /slow?ms=N, /status?code=N, /drain, /reset, /partial...
 *       Keep-alive for HTTP/1.1 unless "Connection: close", pipelining,
 *       Content-Length and chunked bodies, 100-continue, an upgrade to a
 *       raw echo. --fail-mode makes every request fail one way.
 *       GET /health answers 200 "ok\n" until /health/set changes it.
 * echo: sends back what it reads; when the client half-closes, it writes
 *       "[eof NAME]\n" and closes, which proves a half-close got through.
 * --agent: a second port, for a load balancer's agent check: to each
 *       connection it writes one line, TEXT "\n" (--agent-reply TEXT,
 *       default "up"; GET /agent/set?say=TEXT changes it), then closes.
 * --verbose logs one line per request to stderr. Runs until SIGINT/SIGTERM.
 *
 * This file owns the sockets: it reads into conn->in, lets the state of the
 * connection (backend.h) consume it, and flushes conn->out, until nothing
 * moves; edge-triggered epoll then wakes it when something can.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend.h"
#include "core/util.h"

static void conn_drive(struct conn *c);

static void conn_free(void *arg)
{
	struct conn *c = arg;

	buf_free(&c->in);
	buf_free(&c->out);
	buf_free(&c->head);
	buf_free(&c->body);
	free(c);
}

static void conn_close(struct conn *c)
{
	if (c->closed)
		return;
	c->closed = true;
	timer_cancel(c->srv->loop, &c->timer);
	loop_del(c->srv->loop, &c->io);
	close(c->io.fd);
	loop_defer(c->srv->loop, conn_free, c);
}

void conn_send(struct conn *c, const void *p, size_t n)
{
	if (!c->failed && buf_append(&c->out, p, n) != 0)
		c->failed = true;
}

void conn_sendf(struct conn *c, const char *fmt, ...)
{
	char line[512], *dst;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0) {
		c->failed = true;
	} else if ((size_t)n < sizeof(line)) {
		conn_send(c, line, (size_t)n);
	} else if (!c->failed) {
		/* A long --name: format again, straight into out. */
		dst = buf_reserve(&c->out, (size_t)n + 1);
		if (!dst) {
			c->failed = true;
			return;
		}
		va_start(ap, fmt);
		vsnprintf(dst, (size_t)n + 1, fmt, ap);
		va_end(ap);
		buf_commit(&c->out, (size_t)n);
	}
}

void conn_finish(struct conn *c, enum finish how)
{
	c->state = ST_FINISH;
	c->finish = how;
}

void conn_delay(struct conn *c, uint32_t ms)
{
	c->state = ST_DELAY;
	timer_arm(c->srv->loop, &c->timer, loop_now(c->srv->loop) + ms);
}

/* Out is sent and the connection is done. A reset is an RST now; a close
 * is our FIN, then input is dropped until the peer's FIN, so that bytes it
 * sent after its last request do not turn our close into an RST that
 * destroys the answer before the peer has read it. */
static void conn_end(struct conn *c)
{
	if (c->finish == FIN_RESET) {
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		setsockopt(c->io.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		conn_close(c);
		return;
	}
	if (c->eof || shutdown(c->io.fd, SHUT_WR) != 0) {
		conn_close(c);
		return;
	}
	c->state = ST_LINGER;
	buf_reset(&c->in);
	timer_arm(c->srv->loop, &c->timer, loop_now(c->srv->loop) + LINGER_MS);
}

static void timer_cb(struct timer *t)
{
	struct conn *c = container_of(t, struct conn, timer);

	if (c->state == ST_LINGER) {
		conn_close(c);
		return;
	}
	http_timer(c);
	conn_drive(c);
}

static bool want_read(const struct conn *c)
{
	switch (c->state) {
	case ST_FINISH:
		return false;
	case ST_LINGER:
		return true;   /* and dropped */
	case ST_RAW:
		if (c->out.len >= OUT_HIGH)
			return false;
		/* fall through */
	default:
		/* room, or recv(0 bytes) would look like the peer's FIN */
		return c->in.len < IN_MAX;
	}
}

/* Reads what the state wants. Returns whether anything arrived (or EOF).
 * A short read means TCP handed over all it held, and whatever comes next
 * brings a new edge, so the recv() that would only say EAGAIN is skipped;
 * except when the peer's FIN is known to be queued behind the data, as its
 * edge may be the one already consumed. */
static bool conn_read(struct conn *c)
{
	bool moved = false;

	while (c->readable && !c->eof && !c->closed && want_read(c)) {
		size_t room = MIN((size_t)READ_SIZE, IN_MAX - c->in.len);
		char *dst = buf_reserve(&c->in, room);
		ssize_t n;

		if (!dst) {
			c->failed = true;
			break;
		}
		n = recv(c->io.fd, dst, room, 0);
		if (n > 0) {
			buf_commit(&c->in, (size_t)n);
			if (c->state == ST_LINGER)
				buf_reset(&c->in);
			if ((size_t)n < room && !c->fin_queued)
				c->readable = false;
			moved = true;
		} else if (n == 0) {
			c->eof = true;
			moved = true;
		} else if (errno == EAGAIN) {
			c->readable = false;
			break;
		} else if (errno != EINTR) {
			conn_close(c);
		}
	}
	return moved;
}

/* Sends what out holds. Returns whether anything was sent. */
static bool conn_flush(struct conn *c)
{
	bool moved = false;

	while (c->out.len && !c->closed) {
		ssize_t n = send(c->io.fd, buf_head(&c->out), c->out.len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				conn_close(c);
			break;
		}
		buf_consume(&c->out, (size_t)n);
		moved = true;
	}
	/* A big /echo answer is gone: do not keep its room for the life of
	 * the connection. */
	if (!c->out.len && c->out.cap > 4 * OUT_HIGH)
		buf_free(&c->out);
	return moved;
}

/* Echo mode and upgraded connections: what came in goes back out. */
static bool raw_work(struct conn *c)
{
	if (!c->in.len)
		return false;
	conn_send(c, buf_head(&c->in), c->in.len);
	buf_reset(&c->in);
	return true;
}

static bool conn_work(struct conn *c)
{
	switch (c->state) {
	case ST_RAW:
		return raw_work(c);
	case ST_LINGER:
	case ST_FINISH:
		return false;
	default:
		return http_work(c);
	}
}

/* The peer's FIN was read and nothing more can move: finish what the state
 * allows. A request still being delayed or streamed is answered first. */
static void conn_eof(struct conn *c)
{
	switch (c->state) {
	case ST_RAW:
		conn_sendf(c, "[eof %s]\n", c->srv->name);
		conn_finish(c, FIN_CLOSE);
		break;
	case ST_HEAD:
		/* Requests may still wait behind answers the peer has not read. */
		if (c->out.len < OUT_HIGH)
			conn_finish(c, FIN_CLOSE);
		break;
	case ST_BODY:
	case ST_LINGER:
		conn_close(c);
		break;
	default:
		break;
	}
}

/* Moves <c> as far as it goes: read, work, send, until nothing moves. */
static void conn_drive(struct conn *c)
{
	bool moved;

	do {
		moved = conn_read(c);
		moved |= conn_work(c);
		moved |= conn_flush(c);
		if (c->closed)
			return;
		if (c->failed) {
			conn_close(c);
			return;
		}
		if (!moved && c->eof && c->state != ST_FINISH) {
			conn_eof(c);
			if (c->closed)
				return;
			moved = c->state == ST_FINISH;
		}
		if (c->state == ST_FINISH && !c->out.len) {
			conn_end(c);
			moved = true;
		}
	} while (moved && !c->closed);
}

static void conn_cb(struct loop_io *io, uint32_t events)
{
	struct conn *c = container_of(io, struct conn, io);

	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->readable = true;
	if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->fin_queued = true;
	if (!c->closed)
		conn_drive(c);
}

static struct conn *conn_new(struct server *s, int fd)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->io.fd = fd;
	c->io.cb = conn_cb;
	c->srv = s;
	c->timer.cb = timer_cb;
	c->readable = true;
	c->in.max = IN_MAX;
	c->out.max = OUT_MAX;
	c->head.max = HEAD_MAX;
	c->body.max = BODY_MAX;
	c->state = s->mode == MODE_ECHO ? ST_RAW : ST_HEAD;
	return c;
}

static void accept_cb(struct loop_io *io, uint32_t events)
{
	struct server *s = container_of(io, struct server, lio);

	(void)events;
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int fd = accept4(io->fd, (struct sockaddr *)&ss, &len,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;

		if (fd < 0)
			return;
		c = conn_new(s, fd);
		if (!c) {
			close(fd);
			continue;
		}
		s->conns++;
		addr_from_sockaddr(&c->peer, (struct sockaddr *)&ss, len);
		if (loop_add(s->loop, &c->io, EPOLLIN | EPOLLOUT | EPOLLRDHUP) != 0) {
			close(fd);
			free(c);
		}
	}
}

/* An agent connection: its one line is queued at once; the connection then
 * ends like an HTTP one (our FIN, what the peer sent is read and dropped,
 * so that a check which sends first never sees an RST for an answer). */
static void agent_accept_cb(struct loop_io *io, uint32_t events)
{
	struct server *s = container_of(io, struct server, agent_lio);

	(void)events;
	for (;;) {
		int fd = accept4(io->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;

		if (fd < 0)
			return;
		c = conn_new(s, fd);
		if (!c) {
			close(fd);
			continue;
		}
		s->agent_polls++;
		conn_sendf(c, "%s\n", s->agent_say);
		conn_finish(c, FIN_CLOSE);
		if (s->verbose)
			fprintf(stderr, "weir-backend %s: agent says '%s'\n", s->name, s->agent_say);
		if (loop_add(s->loop, &c->io, EPOLLIN | EPOLLOUT | EPOLLRDHUP) != 0) {
			close(fd);
			conn_free(c);
		}
	}
}

static void sig_cb(struct loop_io *io, uint32_t events)
{
	struct server *s = container_of(io, struct server, sig);

	(void)events;
	loop_stop(s->loop);
}

/* Parses --fail-mode <arg> into <s>. Returns 0 or -EINVAL. */
static int parse_fail_mode(struct server *s, const char *arg)
{
	if (strncmp(arg, "slow:", 5) == 0)
		return parse_duration_ms(arg + 5, 1, &s->fail_delay_ms);
	s->fail_route = route_fail_mode(arg);
	return s->fail_route ? 0 : -EINVAL;
}

/* --agent-reply <arg>: one printable line. Returns 0 or -EINVAL. */
static int parse_agent_reply(struct server *s, const char *arg)
{
	size_t i, n = strlen(arg);

	if (n >= sizeof(s->agent_say))
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (arg[i] < 0x20 || arg[i] > 0x7e)
			return -EINVAL;
	memcpy(s->agent_say, arg, n + 1);
	return 0;
}

struct addrs {
	const char *listen_at, *agent_at;
};

static int parse_args(struct server *s, int argc, char **argv, struct addrs *at)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "name", required_argument, NULL, 'n' },
		{ "mode", required_argument, NULL, 'm' },
		{ "fail-mode", required_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "agent", required_argument, NULL, 'a' },
		{ "agent-reply", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "l:n:m:f:va:r:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'l': at->listen_at = optarg; break;
		case 'a': at->agent_at = optarg; break;
		case 'n': s->name = optarg; break;
		case 'v': s->verbose = true; break;
		case 'r':
			if (parse_agent_reply(s, optarg) != 0)
				return -EINVAL;
			break;
		case 'm':
			if (strcmp(optarg, "echo") == 0)
				s->mode = MODE_ECHO;
			else if (strcmp(optarg, "http") != 0)
				return -EINVAL;
			break;
		case 'f':
			if (parse_fail_mode(s, optarg) != 0)
				return -EINVAL;
			break;
		default:
			return -EINVAL;
		}
	}
	return at->listen_at && optind == argc ? 0 : -EINVAL;
}

/* Listens on <at> with <lio>, whose callback is <cb>. Returns 0 or -errno,
 * with the reason printed. */
static int listen_on(struct server *s, struct loop_io *lio, const char *at,
		     void (*cb)(struct loop_io *io, uint32_t events))
{
	struct weir_addr a;
	int one = 1, rc;

	rc = addr_parse(at, false, &a);
	if (rc != 0)
		goto out_print;
	lio->cb = cb;
	lio->fd = socket(addr_family(&a), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lio->fd < 0) {
		rc = -errno;
		goto out_print;
	}
	setsockopt(lio->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lio->fd, &a.u.sa, addr_len(&a)) != 0 || listen(lio->fd, 4096) != 0)
		rc = -errno;
	else
		rc = loop_add(s->loop, lio, EPOLLIN);
	if (rc == 0)
		return 0;
out_print:
	fprintf(stderr, "weir-backend: %s: %s\n", at, strerror(-rc));
	return rc;
}

int main(int argc, char **argv)
{
	struct server s = {
		.name = "backend", .mode = MODE_HTTP, .health_status = 200,
		.agent_lio = { .fd = -1 }, .agent_say = "up",
	};
	struct weir_addr a;
	struct addrs at = { NULL, NULL };
	sigset_t set;

	if (parse_args(&s, argc, argv, &at) != 0 || addr_parse(at.listen_at, false, &a) != 0 ||
	    (at.agent_at && addr_parse(at.agent_at, false, &a) != 0)) {
		fprintf(stderr, "usage: weir-backend --listen ADDR:PORT [--name NAME] "
			"[--mode http|echo]\n"
			"       [--fail-mode reset|close-early|drain|slow:MS] [--verbose]\n"
			"       [--agent ADDR:PORT [--agent-reply TEXT]]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	s.loop = loop_new();
	if (!s.loop)
		return 1;
	if (listen_on(&s, &s.lio, at.listen_at, accept_cb) != 0 ||
	    (at.agent_at && listen_on(&s, &s.agent_lio, at.agent_at, agent_accept_cb) != 0))
		return 1;
	s.sig.fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	s.sig.cb = sig_cb;
	loop_add(s.loop, &s.sig, EPOLLIN);
	loop_run(s.loop);
	close(s.lio.fd);
	if (s.agent_lio.fd >= 0)
		close(s.agent_lio.fd);
	close(s.sig.fd);
	loop_free(s.loop);
	return 0;
}
