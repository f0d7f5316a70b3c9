/*
 * backend.c - weir-backend, the demo and test real server.
 *
 *   weir-backend --listen ADDR:PORT [--name NAME] [--mode http|echo]
 *
 * http: answers every HTTP/1.x request "200 OK" with the body
 *       "NAME\n" (keep-alive honoured); GET /conns answers the number of
 *       connections accepted so far, so tests can see connection reuse.
 * echo: sends back what it reads; when the client half-closes, it writes
 *       "[eof NAME]\n" and closes, which proves a half-close got through.
 * Runs until SIGINT/SIGTERM.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/addr.h"
#include "core/buf.h"
#include "core/loop.h"
#include "core/util.h"

enum mode { MODE_HTTP, MODE_ECHO };

struct server {
	struct loop *loop;
	struct loop_io lio, sig;
	const char *name;
	enum mode mode;
	unsigned long conns;
};

struct conn {
	struct loop_io io;
	struct server *srv;
	struct buf in, out;
	bool eof, closed, close_after;
};

static void conn_free(void *arg)
{
	struct conn *c = arg;

	buf_free(&c->in);
	buf_free(&c->out);
	free(c);
}

static void conn_close(struct conn *c)
{
	if (c->closed)
		return;
	c->closed = true;
	loop_del(c->srv->loop, &c->io);
	close(c->io.fd);
	loop_defer(c->srv->loop, conn_free, c);
}

static void conn_flush(struct conn *c)
{
	while (c->out.len) {
		ssize_t n = send(c->io.fd, buf_head(&c->out), c->out.len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN)
				return;
			conn_close(c);
			return;
		}
		buf_consume(&c->out, (size_t)n);
	}
	if (c->close_after)
		conn_close(c);
}

/* Answers every complete request header block in c->in. */
static void http_serve(struct conn *c)
{
	for (;;) {
		char *head = buf_head(&c->in), *end;
		char body[128];
		size_t hlen;
		int blen;

		end = memmem(head, c->in.len, "\r\n\r\n", 4);
		if (!end)
			break;
		hlen = (size_t)(end - head) + 4;
		if (strncmp(head, "GET /conns ", 11) == 0)
			blen = snprintf(body, sizeof(body), "%lu\n", c->srv->conns);
		else
			blen = snprintf(body, sizeof(body), "%s\n", c->srv->name);
		if (memmem(head, hlen, "Connection: close", 17) ||
		    memmem(head, hlen, "connection: close", 17) ||
		    memmem(head, hlen, "HTTP/1.0", 8))
			c->close_after = true;
		buf_printf(&c->out, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
			   "Content-Length: %d\r\nX-Backend: %s\r\n%s\r\n%s",
			   blen, c->srv->name, c->close_after ? "Connection: close\r\n" : "",
			   body);
		buf_consume(&c->in, hlen);
		if (c->close_after)
			break;
	}
}

static void conn_cb(struct loop_io *io, uint32_t events)
{
	struct conn *c = container_of(io, struct conn, io);

	if (c->closed)
		return;
	while (!c->eof) {
		char *dst = buf_reserve(&c->in, 16384);
		ssize_t n;

		if (!dst) {
			conn_close(c);
			return;
		}
		n = recv(io->fd, dst, 16384, 0);
		if (n > 0) {
			buf_commit(&c->in, (size_t)n);
			if (c->srv->mode == MODE_ECHO) {
				buf_append(&c->out, buf_head(&c->in), c->in.len);
				buf_reset(&c->in);
			}
			continue;
		}
		if (n == 0) {
			c->eof = true;
			break;
		}
		if (errno == EAGAIN)
			break;
		conn_close(c);
		return;
	}
	if (c->srv->mode == MODE_HTTP)
		http_serve(c);
	if (c->eof && !c->close_after) {
		if (c->srv->mode == MODE_ECHO)
			buf_printf(&c->out, "[eof %s]\n", c->srv->name);
		c->close_after = true;
	}
	conn_flush(c);
}

static void accept_cb(struct loop_io *io, uint32_t events)
{
	struct server *s = container_of(io, struct server, lio);

	for (;;) {
		int fd = accept4(io->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;

		if (fd < 0)
			return;
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		s->conns++;
		c->io.fd = fd;
		c->io.cb = conn_cb;
		c->srv = s;
		c->in.max = 1 << 20;
		if (loop_add(s->loop, &c->io, EPOLLIN | EPOLLOUT | EPOLLRDHUP) != 0) {
			close(fd);
			free(c);
		}
	}
}

static void sig_cb(struct loop_io *io, uint32_t events)
{
	struct server *s = container_of(io, struct server, sig);

	loop_stop(s->loop);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "name", required_argument, NULL, 'n' },
		{ "mode", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	struct server s = { .name = "backend", .mode = MODE_HTTP };
	struct weir_addr a;
	const char *listen_at = NULL;
	sigset_t set;
	int opt, one = 1;

	while ((opt = getopt_long(argc, argv, "l:n:m:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'l': listen_at = optarg; break;
		case 'n': s.name = optarg; break;
		case 'm':
			if (strcmp(optarg, "echo") == 0)
				s.mode = MODE_ECHO;
			else if (strcmp(optarg, "http") != 0)
				goto usage;
			break;
		default:
			goto usage;
		}
	}
	if (!listen_at || addr_parse(listen_at, false, &a) != 0)
		goto usage;
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	s.loop = loop_new();
	s.sig.fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	s.sig.cb = sig_cb;
	s.lio.fd = socket(addr_family(&a), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	s.lio.cb = accept_cb;
	setsockopt(s.lio.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s.lio.fd, &a.u.sa, addr_len(&a)) != 0 || listen(s.lio.fd, 4096) != 0) {
		fprintf(stderr, "weir-backend: %s: %s\n", listen_at, strerror(errno));
		return 1;
	}
	loop_add(s.loop, &s.lio, EPOLLIN);
	loop_add(s.loop, &s.sig, EPOLLIN);
	loop_run(s.loop);
	close(s.lio.fd);
	close(s.sig.fd);
	loop_free(s.loop);
	return 0;

usage:
	fprintf(stderr, "usage: weir-backend --listen ADDR:PORT [--name NAME] [--mode http|echo]\n");
	return 2;
}
