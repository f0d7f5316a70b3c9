/* Tests for proxy/transport.c: the plain TCP transport's ops on real
 * sockets (loopback TCP and socketpairs), non-blocking as the proxies'. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proxy/transport.h"
#include "unit.h"

static void nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* A connected loopback TCP pair, both ends non-blocking; 0 or -1. */
static int tcp_pair(int fds[2])
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	if (l < 0)
		return -1;
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(l, 1) != 0 ||
	    getsockname(l, (struct sockaddr *)&a, &len) != 0) {
		close(l);
		return -1;
	}
	fds[0] = socket(AF_INET, SOCK_STREAM, 0);
	if (fds[0] < 0 || connect(fds[0], (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(l);
		return -1;
	}
	fds[1] = accept(l, NULL, NULL);
	close(l);
	if (fds[1] < 0)
		return -1;
	nonblock(fds[0]);
	nonblock(fds[1]);
	return 0;
}

static int unix_pair(int fds[2])
{
	return socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds);
}

/* Reads what <fd> holds within a moment (the peer of a tp_conn). */
static ssize_t read_some(int fd, char *buf, size_t len)
{
	for (int i = 0; i < 200; i++) {
		ssize_t n = read(fd, buf, len);

		if (n >= 0 || errno != EAGAIN)
			return n;
		usleep(1000);
	}
	return -1;
}

/* tp_read() and tp_splice_in() of what the peer sent a moment ago. */
static ssize_t read_wait(struct tp_conn *c, char *buf, size_t len)
{
	ssize_t n = -EAGAIN;

	for (int i = 0; i < 200 && n == -EAGAIN; i++)
		if ((n = tp_read(c, buf, len)) == -EAGAIN)
			usleep(1000);
	return n;
}

static ssize_t splice_in_wait(struct tp_conn *c, int pipe_wr, size_t len)
{
	ssize_t n = -EAGAIN;

	for (int i = 0; i < 200 && n == -EAGAIN; i++)
		if ((n = tp_splice_in(c, pipe_wr, len)) == -EAGAIN)
			usleep(1000);
	return n;
}

TEST(transport_read_write)
{
	struct tp_conn c;
	int fds[2];
	char buf[16];

	REQUIRE(unix_pair(fds) == 0);
	tp_init(&c, fds[0], &tp_tcp, NULL);
	CHECK_EQ(tp_write(&c, "hello", 5, 0), 5);
	CHECK_EQ(read_some(fds[1], buf, sizeof(buf)), 5);
	CHECK(memcmp(buf, "hello", 5) == 0);
	CHECK_EQ(write(fds[1], "world", 5), 5);
	CHECK_EQ(tp_read(&c, buf, sizeof(buf)), 5);
	CHECK(memcmp(buf, "world", 5) == 0);
	tp_close(&c);
	close(fds[1]);
}

TEST(transport_read_eagain_then_eof)
{
	struct tp_conn c;
	int fds[2];
	char buf[16];

	REQUIRE(unix_pair(fds) == 0);
	tp_init(&c, fds[0], &tp_tcp, NULL);
	CHECK_EQ(tp_read(&c, buf, sizeof(buf)), -EAGAIN);
	CHECK_EQ(tp_want(&c, TP_WANT_READ), TP_WANT_READ);
	close(fds[1]);
	CHECK_EQ(tp_read(&c, buf, sizeof(buf)), 0);
	tp_close(&c);
}

TEST(transport_peek_leaves_bytes)
{
	struct tp_conn c;
	int fds[2];
	char buf[16];

	REQUIRE(unix_pair(fds) == 0);
	tp_init(&c, fds[0], &tp_tcp, NULL);
	CHECK_EQ(tp_peek(&c, buf, sizeof(buf)), -EAGAIN);
	CHECK_EQ(write(fds[1], "abcdef", 6), 6);
	CHECK_EQ(tp_peek(&c, buf, 3), 3);
	CHECK(memcmp(buf, "abc", 3) == 0);
	CHECK_EQ(tp_read(&c, buf, sizeof(buf)), 6);
	CHECK(memcmp(buf, "abcdef", 6) == 0);
	tp_close(&c);
	close(fds[1]);
}

TEST(transport_writev_and_more)
{
	struct iovec iov[3] = { { "GET ", 4 }, { "/ ", 2 }, { "HTTP/1.1", 8 } };
	struct tp_conn c;
	int fds[2];
	char buf[32];
	ssize_t n, got = 0;

	REQUIRE(tcp_pair(fds) == 0);
	tp_init(&c, fds[0], &tp_tcp, NULL);
	CHECK_EQ(tp_writev(&c, iov, 3, 0), 14);
	/* held back by TP_MORE, then pushed out by the write without it */
	CHECK_EQ(tp_write(&c, "\r\n", 2, TP_MORE), 2);
	CHECK_EQ(tp_write(&c, "\r\n", 2, 0), 2);
	while (got < 18 && (n = read_some(fds[1], buf + got, sizeof(buf) - (size_t)got)) > 0)
		got += n;
	CHECK_EQ(got, 18);
	CHECK(memcmp(buf, "GET / HTTP/1.1\r\n\r\n", 18) == 0);
	tp_close(&c);
	close(fds[1]);
}

TEST(transport_write_eagain_when_full)
{
	static char chunk[65536];
	struct tp_conn c;
	int fds[2];
	ssize_t n = 0;

	REQUIRE(unix_pair(fds) == 0);
	tp_init(&c, fds[0], &tp_tcp, NULL);
	for (int i = 0; i < 1000 && (n = tp_write(&c, chunk, sizeof(chunk), 0)) > 0; i++)
		;
	CHECK_EQ(n, -EAGAIN);
	CHECK_EQ(tp_want(&c, TP_WANT_WRITE), TP_WANT_WRITE);
	CHECK_EQ(tp_writev(&c, &(struct iovec){ chunk, sizeof(chunk) }, 1, 0), -EAGAIN);
	tp_close(&c);
	close(fds[1]);
}

TEST(transport_write_to_closed_peer_fails)
{
	struct tp_conn c;
	int fds[2];
	ssize_t n;

	REQUIRE(unix_pair(fds) == 0);
	tp_init(&c, fds[0], &tp_tcp, NULL);
	close(fds[1]);
	/* no SIGPIPE (it would end this test run): an error instead */
	n = tp_write(&c, "x", 1, 0);
	CHECK(n == -EPIPE || n == -ECONNRESET);
	tp_close(&c);
}

TEST(transport_sendfile)
{
	char path[] = "/tmp/weir-test-transport-XXXXXX";
	int file = mkstemp(path);
	struct tp_conn c;
	int fds[2];
	off_t off = 2;
	char buf[32];

	REQUIRE(file >= 0);
	unlink(path);
	REQUIRE(write(file, "0123456789", 10) == 10);
	REQUIRE(tcp_pair(fds) == 0);
	tp_init(&c, fds[0], &tp_tcp, NULL);
	CHECK_EQ(tp_sendfile(&c, file, &off, 5), 5);
	CHECK_EQ(off, 7);
	CHECK_EQ(read_some(fds[1], buf, sizeof(buf)), 5);
	CHECK(memcmp(buf, "23456", 5) == 0);
	tp_close(&c);
	close(fds[1]);
	close(file);
}

TEST(transport_splice_through_a_pipe)
{
	struct tp_conn c;
	int fds[2], p[2];
	char buf[32];

	REQUIRE(tcp_pair(fds) == 0);
	REQUIRE(pipe2(p, O_NONBLOCK) == 0);
	tp_init(&c, fds[1], &tp_tcp, NULL);
	/* nothing to read: the socket is empty */
	CHECK_EQ(tp_splice_in(&c, p[1], 65536), -EAGAIN);
	CHECK_EQ(tp_want(&c, TP_WANT_READ), TP_WANT_READ);
	CHECK_EQ(write(fds[0], "spliced", 7), 7);
	CHECK_EQ(splice_in_wait(&c, p[1], 65536), 7);
	/* back out to the same connection: the peer reads it */
	CHECK_EQ(tp_splice_out(&c, p[0], 7), 7);
	CHECK_EQ(read_some(fds[0], buf, sizeof(buf)), 7);
	CHECK(memcmp(buf, "spliced", 7) == 0);
	/* the peer's EOF comes through as 0 */
	shutdown(fds[0], SHUT_WR);
	CHECK_EQ(splice_in_wait(&c, p[1], 65536), 0);
	tp_close(&c);
	close(fds[0]);
	close(p[0]);
	close(p[1]);
}

TEST(transport_shutdown_is_eof_for_the_peer)
{
	struct tp_conn c;
	int fds[2];
	char buf[16];

	REQUIRE(tcp_pair(fds) == 0);
	tp_init(&c, fds[0], &tp_tcp, NULL);
	CHECK_EQ(tp_write(&c, "bye", 3, 0), 3);
	CHECK_EQ(tp_shutdown(&c), 0);
	CHECK_EQ(read_some(fds[1], buf, sizeof(buf)), 3);
	CHECK_EQ(read_some(fds[1], buf, sizeof(buf)), 0);
	/* the other direction still works: a half-close */
	CHECK_EQ(write(fds[1], "ok", 2), 2);
	CHECK_EQ(read_wait(&c, buf, sizeof(buf)), 2);
	CHECK(tp_write(&c, "x", 1, 0) < 0); /* shut: writing fails */
	tp_close(&c);
	close(fds[1]);
}

TEST(transport_close)
{
	struct tp_conn c;
	int fds[2];
	char buf[4];

	REQUIRE(unix_pair(fds) == 0);
	tp_init(&c, fds[0], &tp_tcp, NULL);
	tp_close(&c);
	CHECK_EQ(c.io.fd, -1);
	CHECK_EQ(fcntl(fds[0], F_GETFD), -1); /* the fd is closed */
	CHECK_EQ(read_some(fds[1], buf, sizeof(buf)), 0);
	tp_close(&c); /* again: nothing */
	close(fds[1]);
}

/* A transport that must read before it can write (TLS in a handshake),
 * as far as tp_want() goes. */
static int wants_read(const struct tp_conn *c)
{
	return TP_WANT_READ;
}

TEST(transport_want_op_is_asked)
{
	struct transport_ops ops = tp_tcp;
	struct tp_conn c;

	tp_init(&c, -1, &tp_tcp, NULL);
	CHECK_EQ(tp_want(&c, TP_WANT_WRITE), TP_WANT_WRITE);
	ops.want = wants_read;
	tp_init(&c, -1, &ops, NULL);
	CHECK_EQ(tp_want(&c, TP_WANT_WRITE), TP_WANT_READ);
}
