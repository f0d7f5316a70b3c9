/* admin.c - see admin.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"
#include "ctl/admin.h"
#include "proxy/portown.h"

struct admin_client {
	struct loop_io io;
	struct admin *a;
	struct buf in, out;
	bool answered;
	bool closed;
	struct timer timer;
	struct admin_client *next;
};

struct admin {
	struct loop_io io;
	struct loop *loop;
	struct ctl_ctx *ctx;
	const struct admin_proto *proto;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)]; /* "" = not a unix socket */
	struct admin_client *clients;
	int nclients;
};

static void client_free(void *arg)
{
	struct admin_client *c = arg;

	buf_free(&c->in);
	buf_free(&c->out);
	free(c);
}

static void client_close(struct admin_client *c)
{
	struct admin *a = c->a;

	if (c->closed)
		return;
	c->closed = true;
	loop_del(a->loop, &c->io);
	close(c->io.fd);
	timer_cancel(a->loop, &c->timer);
	for (struct admin_client **pp = &a->clients; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	a->nclients--;
	if (loop_defer(a->loop, client_free, c) != 0)
		fatalx("out of memory deferring a free");
}

/* Writes what is pending; closes once everything is out. */
static void client_flush(struct admin_client *c)
{
	while (c->out.len) {
		ssize_t n = send(c->io.fd, buf_head(&c->out), c->out.len, MSG_NOSIGNAL);

		if (n > 0) {
			buf_consume(&c->out, (size_t)n);
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && errno == EAGAIN) {
			return;
		} else {
			break;
		}
	}
	client_close(c);
}

static void client_answer(struct admin_client *c, bool too_large)
{
	c->answered = true;
	/* the answer functions may use one spare byte after the request */
	if (!too_large && !buf_reserve(&c->in, 1))
		too_large = true;
	c->a->proto->answer(c->a->ctx, too_large ? NULL : &c->in, &c->out);
	shutdown(c->io.fd, SHUT_RD);
	client_flush(c);
}

static void client_read(struct admin_client *c)
{
	const struct admin_proto *p = c->a->proto;

	for (;;) {
		size_t room = p->max_request - c->in.len;
		char *dst = room ? buf_reserve(&c->in, MIN(room, 4096)) : NULL;
		ssize_t n;

		if (!dst) {
			client_answer(c, true);
			return;
		}
		n = recv(c->io.fd, dst, MIN(room, 4096), 0);
		if (n > 0) {
			buf_commit(&c->in, (size_t)n);
			if (p->complete && p->complete(&c->in)) {
				client_answer(c, false);
				return;
			}
			continue;
		}
		if (n == 0) {
			if (p->complete) /* a request cut short: nothing to answer */
				client_close(c);
			else
				client_answer(c, false);
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			client_close(c);
		return;
	}
}

static void client_cb(struct loop_io *io, uint32_t events)
{
	struct admin_client *c = container_of(io, struct admin_client, io);

	if (c->closed)
		return;
	if (!c->answered)
		client_read(c);
	else if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
		client_flush(c);
}

static void client_timeout(struct timer *t)
{
	struct admin_client *c = container_of(t, struct admin_client, timer);

	log_warn("admin: client sent no complete request in %d ms; closing",
		 ADMIN_TIMEOUT_MS);
	client_close(c);
}

/* Answers <fd> with <busy> and closes it. The end of the answer is a FIN,
 * not a reset: closing with the request unread would make the kernel
 * reset the connection (TCP), or fail the client's next read with
 * ECONNRESET (UNIX), either of which can hide the answer. So the request
 * that has arrived is read first; one that arrives later may still reset,
 * which is why weirctl keeps an answer it read before a reset. */
static void refuse(int fd, const char *busy)
{
	char sink[4096];
	int n = 16; /* at most 64 KiB: the control thread does not wait */

	if (send(fd, busy, strlen(busy), MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		/* the client will see the close */
	}
	shutdown(fd, SHUT_WR);
	while (n-- > 0 && recv(fd, sink, sizeof(sink), MSG_DONTWAIT) > 0)
		;
	close(fd);
}

static void admin_accept(struct loop_io *io, uint32_t events)
{
	struct admin *a = container_of(io, struct admin, io);

	for (;;) {
		int fd = accept4(io->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct admin_client *c;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN)
				log_warn("admin: accept: %s", strerror(errno));
			return;
		}
		if (a->nclients >= ADMIN_MAX_CLIENTS || !(c = calloc(1, sizeof(*c)))) {
			refuse(fd, a->proto->busy);
			continue;
		}
		c->io.fd = fd;
		c->io.cb = client_cb;
		c->a = a;
		c->in.max = a->proto->max_request + 1; /* + the spare byte */
		c->timer.cb = client_timeout;
		c->next = a->clients;
		a->clients = c;
		a->nclients++;
		timer_arm(a->loop, &c->timer, loop_now(a->loop) + ADMIN_TIMEOUT_MS);
		if (loop_add(a->loop, &c->io, EPOLLIN | EPOLLOUT | EPOLLRDHUP) != 0) {
			client_close(c);
			continue;
		}
		client_read(c);
	}
}

static int mkdir_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Is a daemon answering on <sun>? */
static bool socket_alive(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool alive;

	if (fd < 0)
		return false;
	alive = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(fd);
	return alive;
}

/* The admin socket's protocol: the request ends when the client shuts its
 * writing side down. */
static void exec_answer(struct ctl_ctx *ctx, struct buf *in, struct buf *out)
{
	if (!in)
		buf_printf(out, "ERR 2 request too large (at most %u bytes)\n", ADMIN_MAX_REQUEST);
	else
		ctl_exec(ctx, buf_head(in), in->len, out);
}

static const struct admin_proto exec_proto = {
	.max_request = ADMIN_MAX_REQUEST,
	.answer = exec_answer,
	.busy = "ERR 255 too many admin connections\n",
};

/* Wraps a listening socket <fd> in an admin server. */
static struct admin *admin_new(struct loop *l, int fd, const struct admin_proto *proto,
			       struct ctl_ctx *ctx)
{
	struct admin *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->io.fd = fd;
	a->io.cb = admin_accept;
	a->loop = l;
	a->ctx = ctx;
	a->proto = proto;
	if (loop_add(l, &a->io, EPOLLIN) != 0) {
		free(a);
		return NULL;
	}
	return a;
}

struct admin *admin_open_tcp(struct loop *l, const struct weir_addr *addr,
			     const struct admin_proto *proto, struct ctl_ctx *ctx, char *err)
{
	int fd = socket(addr_family(addr), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	struct admin *a;

	if (fd < 0)
		goto out_err;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, &addr->u.sa, addr_len(addr)) != 0 || listen(fd, 64) != 0)
		goto out_close;
	if (!(a = admin_new(l, fd, proto, ctx)))
		goto out_close;
	return a;

out_close:
	close(fd);
out_err:
	port_error(err, 256, "cannot listen on", addr, IPPROTO_TCP, errno);
	return NULL;
}

struct admin *admin_open(struct loop *l, const char *path, struct ctl_ctx *ctx, char *err)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct admin *a;
	mode_t old;
	int fd, rc;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, 256, "admin socket path too long: %s", path);
		return NULL;
	}
	strcpy(sun.sun_path, path);
	if ((rc = mkdir_parent(path)) != 0) {
		snprintf(err, 256, "cannot create the directory of %s: %s", path, strerror(-rc));
		return NULL;
	}
	if (socket_alive(&sun)) {
		snprintf(err, 256, "another weir is already answering on %s", path);
		return NULL;
	}
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto out_err;
	old = umask(0177); /* the socket is born 0600 */
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (rc != 0 || listen(fd, 64) != 0)
		goto out_close;
	if (!(a = admin_new(l, fd, &exec_proto, ctx)))
		goto out_close;
	snprintf(a->path, sizeof(a->path), "%s", path);
	return a;

out_close:
	close(fd);
out_err:
	snprintf(err, 256, "cannot listen on %s: %s", path, strerror(errno));
	return NULL;
}

void admin_close(struct admin *a)
{
	if (!a)
		return;
	while (a->clients)
		client_close(a->clients);
	loop_del(a->loop, &a->io);
	close(a->io.fd);
	if (a->path[0])
		unlink(a->path);
	free(a);
}
