/*
 * transport.h - a connection's I/O as ops, under the TCP and HTTP proxies.
 *
 * The proxies never call read(), send(), splice()... on a session's socket:
 * they call its transport, so that TLS (a later issue) is one more
 * transport with its own ops, not branches in the proxies. Plain TCP
 * (tp_tcp, transport.c) is the only one today.
 *
 * Every op that moves bytes returns:
 *   >= 0          bytes moved; 0 from read, peek or splice_in is the
 *                 peer's EOF
 *   -EAGAIN       nothing can move now. tp_want() says after which
 *                 readiness of the socket to try again: TP_WANT_READ or
 *                 TP_WANT_WRITE. For plain TCP it is always the op's own
 *                 direction; a TLS transport may have to read to write (a
 *                 handshake, a key update) or write to read, and says so
 *                 through its want op.
 *   -EOPNOTSUPP   the transport cannot move bytes past user space
 *                 (sendfile, splice: TLS without kernel TLS); the caller
 *                 copies with read/write instead
 *   other -errno  the connection failed (-EPIPE, -ECONNRESET, ...)
 * shutdown() returns 0 or -errno. The socket is non-blocking: no op
 * waits, and so none is interrupted (no EINTR).
 *
 * Ownership: a tp_conn is embedded in what owns the connection (a session,
 * a parked connection, a server connection), which registers <io> with its
 * worker's loop. tp_close() closes the socket (which takes it out of
 * epoll: the fd is never dup()ed) and frees the transport's state; it may
 * be called again, and does nothing then. A connection moves between
 * owners by copying the struct (the old copy is then forgotten, not
 * closed). One thread: the worker's.
 */
#ifndef WEIR_PROXY_TRANSPORT_H
#define WEIR_PROXY_TRANSPORT_H

#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "core/loop.h"

#define TP_WANT_READ  1
#define TP_WANT_WRITE 2

/* write/writev flags */
#define TP_MORE 1   /* more follows at once: hold these bytes back (MSG_MORE) */

struct tp_conn;

struct transport_ops {
	const char *name;
	ssize_t (*read)(struct tp_conn *c, void *buf, size_t len);
	/* as read, the bytes staying in the connection for the next read */
	ssize_t (*peek)(struct tp_conn *c, void *buf, size_t len);
	ssize_t (*write)(struct tp_conn *c, const void *buf, size_t len, int flags);
	ssize_t (*writev)(struct tp_conn *c, const struct iovec *iov, int iovcnt, int flags);
	/* <len> bytes of file <in_fd> from *<off> (moved on by what was sent) */
	ssize_t (*sendfile)(struct tp_conn *c, int in_fd, off_t *off, size_t len);
	/* from the connection into pipe <pipe_wr>, and from <pipe_rd> out to it */
	ssize_t (*splice_in)(struct tp_conn *c, int pipe_wr, size_t len);
	ssize_t (*splice_out)(struct tp_conn *c, int pipe_rd, size_t len);
	/* ends the write side: the peer reads EOF once what was sent is read */
	int (*shutdown)(struct tp_conn *c);
	void (*close)(struct tp_conn *c);
	/* optional: what the last -EAGAIN waits for; NULL: the op's own
	 * direction, always */
	int (*want)(const struct tp_conn *c);
};

struct tp_conn {
	struct loop_io io;                /* io.fd: the socket; -1 once closed */
	const struct transport_ops *ops;
	void *priv;                       /* the transport's state (plain TCP: none) */
};

/* Plain TCP (any stream socket). */
extern const struct transport_ops tp_tcp;

/* Makes <c> the connection over socket <fd> with transport <ops>; <cb>
 * gets its events once the owner registers c->io. */
static inline void tp_init(struct tp_conn *c, int fd, const struct transport_ops *ops,
			   void (*cb)(struct loop_io *io, uint32_t events))
{
	*c = (struct tp_conn){ .io = { .fd = fd, .cb = cb }, .ops = ops };
}

static inline ssize_t tp_read(struct tp_conn *c, void *buf, size_t len)
{
	return c->ops->read(c, buf, len);
}

static inline ssize_t tp_peek(struct tp_conn *c, void *buf, size_t len)
{
	return c->ops->peek(c, buf, len);
}

static inline ssize_t tp_write(struct tp_conn *c, const void *buf, size_t len, int flags)
{
	return c->ops->write(c, buf, len, flags);
}

static inline ssize_t tp_writev(struct tp_conn *c, const struct iovec *iov, int iovcnt,
				int flags)
{
	return c->ops->writev(c, iov, iovcnt, flags);
}

static inline ssize_t tp_sendfile(struct tp_conn *c, int in_fd, off_t *off, size_t len)
{
	return c->ops->sendfile(c, in_fd, off, len);
}

static inline ssize_t tp_splice_in(struct tp_conn *c, int pipe_wr, size_t len)
{
	return c->ops->splice_in(c, pipe_wr, len);
}

static inline ssize_t tp_splice_out(struct tp_conn *c, int pipe_rd, size_t len)
{
	return c->ops->splice_out(c, pipe_rd, len);
}

static inline int tp_shutdown(struct tp_conn *c)
{
	return c->ops->shutdown(c);
}

/* After an op of direction <own> (TP_WANT_READ for read, peek, splice_in;
 * TP_WANT_WRITE for the others) returned -EAGAIN: the readiness to wait
 * for. */
static inline int tp_want(const struct tp_conn *c, int own)
{
	return c->ops->want ? c->ops->want(c) : own;
}

static inline void tp_close(struct tp_conn *c)
{
	if (c->io.fd >= 0)
		c->ops->close(c);
}

#endif
