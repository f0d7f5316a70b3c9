/* Tests for proxy/reqstore.c: a request kept in memory and a spill file,
 * sent through a transport, rewound for a retry. */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proxy/reqstore.h"
#include "unit.h"

/* Sends the whole store to <c>, reading the peer <peer> as it goes, into
 * <out>; returns the bytes the peer got. */
static size_t send_all(struct reqstore *s, struct tp_conn *c, int peer, char *out, size_t cap)
{
	size_t got = 0;

	for (int i = 0; i < 100000; i++) {
		ssize_t n = reqstore_send(s, c);
		ssize_t r;

		if (n < 0 && n != -EAGAIN)
			break;
		while (got < cap && (r = read(peer, out + got, cap - got)) > 0)
			got += (size_t)r;
		if (n == 0 && reqstore_unsent(s) == 0)
			break;
	}
	return got;
}

static void fill(char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (char)('a' + i % 23);
}

/* The transport of TLS without kernel TLS, as far as the store can tell:
 * plain TCP, but no sendfile. */
static ssize_t no_sendfile(struct tp_conn *c, int in_fd, off_t *off, size_t len)
{
	return -EOPNOTSUPP;
}

static void store_roundtrip(const struct transport_ops *ops)
{
	enum { N = 200000 };
	struct reqstore s;
	struct tp_conn c;
	char *in = malloc(N), *out = malloc(N);
	int fds[2];

	REQUIRE(in && out);
	REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) == 0);
	tp_init(&c, fds[0], ops, NULL);
	fill(in, N);
	reqstore_init(&s, 1000);           /* the rest spills to a file */
	CHECK_EQ(reqstore_append(&s, in, 600), 0);
	CHECK_EQ(reqstore_append(&s, in + 600, N - 600), 0);
	CHECK(s.fd >= 0);
	CHECK_EQ(send_all(&s, &c, fds[1], out, N), N);
	CHECK(memcmp(in, out, N) == 0);
	/* a retry sends it all again */
	reqstore_rewind(&s);
	memset(out, 0, N);
	CHECK_EQ(send_all(&s, &c, fds[1], out, N), N);
	CHECK(memcmp(in, out, N) == 0);
	reqstore_free(&s);
	tp_close(&c);
	close(fds[1]);
	free(in);
	free(out);
}

TEST(reqstore_memory_and_spill_file)
{
	store_roundtrip(&tp_tcp);
}

TEST(reqstore_copies_when_the_transport_has_no_sendfile)
{
	struct transport_ops ops = tp_tcp;

	ops.sendfile = no_sendfile;
	store_roundtrip(&ops);
}

TEST(reqstore_send_reports_a_failed_connection)
{
	struct reqstore s;
	struct tp_conn c;
	int fds[2];

	REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) == 0);
	tp_init(&c, fds[0], &tp_tcp, NULL);
	reqstore_init(&s, 1000);
	CHECK_EQ(reqstore_append(&s, "GET / HTTP/1.1\r\n\r\n", 18), 0);
	close(fds[1]);
	ssize_t n = reqstore_send(&s, &c);

	CHECK(n == -EPIPE || n == -ECONNRESET);
	CHECK_EQ(reqstore_unsent(&s), 18);
	reqstore_free(&s);
	tp_close(&c);
}
