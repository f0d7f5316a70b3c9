/* transport.c - the plain TCP transport (see transport.h): each op is the
 * system call, errno turned into the return value. */
#include <errno.h>
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proxy/transport.h"

/*
 * The plain TCP ops are one system call each, as short as the direct call
 * they replace: -EAGAIN is errno's EAGAIN (its direction is the op's own:
 * no want op), and there is no retry on EINTR: the sockets are
 * non-blocking (and the pipes of splice too), so the calls never sleep
 * and no signal can interrupt them; worker threads block signals besides.
 */

static ssize_t tcp_read(struct tp_conn *c, void *buf, size_t len)
{
	ssize_t n = recv(c->io.fd, buf, len, 0);

	return n >= 0 ? n : -errno;
}

static ssize_t tcp_peek(struct tp_conn *c, void *buf, size_t len)
{
	ssize_t n = recv(c->io.fd, buf, len, MSG_PEEK);

	return n >= 0 ? n : -errno;
}

static ssize_t tcp_write(struct tp_conn *c, const void *buf, size_t len, int flags)
{
	ssize_t n = send(c->io.fd, buf, len, MSG_NOSIGNAL | (flags & TP_MORE ? MSG_MORE : 0));

	return n >= 0 ? n : -errno;
}

static ssize_t tcp_writev(struct tp_conn *c, const struct iovec *iov, int iovcnt, int flags)
{
	struct msghdr m = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt };
	ssize_t n = sendmsg(c->io.fd, &m, MSG_NOSIGNAL | (flags & TP_MORE ? MSG_MORE : 0));

	return n >= 0 ? n : -errno;
}

static ssize_t tcp_sendfile(struct tp_conn *c, int in_fd, off_t *off, size_t len)
{
	ssize_t n = sendfile(c->io.fd, in_fd, off, len);

	return n >= 0 ? n : -errno;
}

#define SPLICE_FLAGS (SPLICE_F_MOVE | SPLICE_F_NONBLOCK)

/* With data in the pipe, -EAGAIN may mean the pipe is full, not the
 * socket empty: the caller knows which (tcp.c). */
static ssize_t tcp_splice_in(struct tp_conn *c, int pipe_wr, size_t len)
{
	ssize_t n = splice(c->io.fd, NULL, pipe_wr, NULL, len, SPLICE_FLAGS);

	return n >= 0 ? n : -errno;
}

static ssize_t tcp_splice_out(struct tp_conn *c, int pipe_rd, size_t len)
{
	ssize_t n = splice(pipe_rd, NULL, c->io.fd, NULL, len, SPLICE_FLAGS);

	return n >= 0 ? n : -errno;
}

static int tcp_shutdown(struct tp_conn *c)
{
	return shutdown(c->io.fd, SHUT_WR) == 0 ? 0 : -errno;
}

static void tcp_close(struct tp_conn *c)
{
	close(c->io.fd);
	c->io.fd = -1;
}

const struct transport_ops tp_tcp = {
	.name = "tcp",
	.read = tcp_read,
	.peek = tcp_peek,
	.write = tcp_write,
	.writev = tcp_writev,
	.sendfile = tcp_sendfile,
	.splice_in = tcp_splice_in,
	.splice_out = tcp_splice_out,
	.shutdown = tcp_shutdown,
	.close = tcp_close,
};
