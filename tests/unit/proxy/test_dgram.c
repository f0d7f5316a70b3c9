/* test_dgram.c - the datagram listener (src/proxy/dgram.c) with real UDP
 * clients on 127.0.0.1-3 and ::1, served by real workers: replies leave
 * from the address each client sent to, batches are taken and answered
 * whole, oversize datagrams are counted and dropped, a stopped listener
 * answers no more, and nobody else can share its port. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "core/util.h"
#include "core/worker.h"
#include "proxy/dgram.h"
#include "proxy/lsock.h"
#include "proxy/pworker.h"
#include "unit.h"

#define NWORKERS 2

/* What the echo saw, written by the workers. */
static atomic_int held, seen_ifindex, seen_other_ifindex, batches_over_one;
static atomic_int bad_local;
static struct weir_addr want_local_any;  /* the listener's address */

static void echo_recv(struct dgram_listener *dl, struct dgram_msg *msgs, size_t n)
{
	int lo = (int)if_nametoindex("lo");

	for (size_t i = 0; i < n; i++) {
		if (msgs[i].ifindex == lo)
			atomic_fetch_add(&seen_ifindex, 1);
		else
			atomic_fetch_add(&seen_other_ifindex, 1);
		if (addr_family(&msgs[i].local) != addr_family(&want_local_any) ||
		    addr_port(&msgs[i].local) != addr_port(&want_local_any))
			atomic_fetch_add(&bad_local, 1);
	}
	if (n > 1)
		atomic_fetch_add(&batches_over_one, 1);
	dgram_send(dl, msgs, n);
}

static void hold(void *ctx)
{
	atomic_fetch_add(&held, 1);
}

static void release(void *ctx)
{
	atomic_fetch_sub(&held, 1);
}

static const struct dgram_ops echo_ops = { .recv = echo_recv, .hold = hold, .release = release };

static int workers_up(void)
{
	atomic_store(&held, 0);
	atomic_store(&seen_ifindex, 0);
	atomic_store(&seen_other_ifindex, 0);
	atomic_store(&batches_over_one, 0);
	atomic_store(&bad_local, 0);
	pworker_setup();
	return workers_start(NWORKERS);
}

static void workers_down(void)
{
	workers_stop();
	for (int i = 0; i < 500 && !workers_done(); i++)
		usleep(10000);
	workers_join();
}

/* A UDP port free on every address now. */
static uint16_t free_udp_port(int family)
{
	struct weir_addr a = { .u.sa.sa_family = (sa_family_t)family };
	socklen_t len = sizeof(a.u);
	uint16_t port = 0;
	int fd = socket(family, SOCK_DGRAM, 0);

	if (fd >= 0 && bind(fd, &a.u.sa, addr_len(&a)) == 0 &&
	    getsockname(fd, &a.u.sa, &len) == 0)
		port = addr_port(&a);
	if (fd >= 0)
		close(fd);
	return port;
}

static struct weir_addr mk(const char *s)
{
	struct weir_addr a;

	if (addr_parse(s, false, &a) != 0)
		memset(&a, 0, sizeof(a));
	return a;
}

/* A client socket bound to <src> (port 0), connect()ed to <dst> when
 * <connected>: the kernel then drops datagrams from any other source. */
static int client(const char *src, const struct weir_addr *dst, bool connected)
{
	struct weir_addr s = mk(src);
	int fd = socket(addr_family(dst), SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (bind(fd, &s.u.sa, addr_len(&s)) != 0 ||
	    (connected && connect(fd, &dst->u.sa, addr_len(dst)) != 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Waits up to <ms> for a datagram; its length (-1 if none) and sender. */
static ssize_t recv_wait(int fd, void *buf, size_t len, int ms, struct weir_addr *from)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct weir_addr dummy;
	socklen_t flen = sizeof(dummy.u);

	if (!from)
		from = &dummy;
	memset(from, 0, sizeof(*from));
	if (poll(&p, 1, ms) != 1)
		return -1;
	return recvfrom(fd, buf, len, MSG_DONTWAIT, &from->u.sa, &flen);
}

/* The set's counters once <tx> answers are counted: the worker counts a
 * batch after sendmmsg() returns, maybe after the client has its answer. */
static void counters_after(struct dgram_set *s, uint64_t tx, struct dgram_counters *c)
{
	for (int i = 0; i < 200; i++) {
		dgram_counters(s, c);
		if (c->tx >= tx)
			return;
		usleep(5000);
	}
}

static struct dgram_set *start_echo_batch(const char *addr, uint16_t port, size_t max_len,
					  unsigned batch)
{
	struct dgram_conf conf = { .max_len = max_len, .batch = batch };
	struct dgram_set *s = NULL;
	char why[LSOCK_WHY_MAX];
	char text[64];

	snprintf(text, sizeof(text), "%s:%u", addr, port);
	want_local_any = mk(text);
	if (dgram_prepare(&want_local_any, &conf, &s, why) != 0) {
		fprintf(stderr, "  dgram_prepare %s: %s\n", text, why);
		return NULL;
	}
	dgram_start(s, &echo_ops, NULL);
	return s;
}

static struct dgram_set *start_echo(const char *addr, uint16_t port, size_t max_len)
{
	return start_echo_batch(addr, port, max_len, 0);
}

/* One echo set on <bind>:PORT (a free port of <family>) served by the
 * workers, and a client from <src> connect()ed to <dst>:PORT. */
struct echo_case {
	struct dgram_set *s;
	struct weir_addr d;
	int fd;
};

static bool echo_up(struct echo_case *e, int family, const char *bind, const char *src,
		    const char *dst, size_t max_len, unsigned batch)
{
	uint16_t port = free_udp_port(family);
	char text[64];

	e->s = NULL;
	e->fd = -1;
	if (!port || workers_up() != 0)
		return false;
	if (!(e->s = start_echo_batch(bind, port, max_len, batch)))
		return false;
	snprintf(text, sizeof(text), "%s:%u", dst, port);
	e->d = mk(text);
	e->fd = client(src, &e->d, true);
	return e->fd >= 0;
}

static void echo_down(struct echo_case *e)
{
	if (e->fd >= 0)
		close(e->fd);
	if (e->s)
		dgram_stop(e->s);
	if (nworkers)
		workers_down();
}

/* A listener on 0.0.0.0 answers each client from the address it sent to:
 * connect()ed clients (which drop anything else) all get their answer,
 * and recvfrom() shows the source. Every client sends from 127.0.0.1, so
 * the kernel's own choice of source would be 127.0.0.1 for all. */
TEST(dgram_wildcard_answers_from_each_destination)
{
	static const char *const dst[] = { "127.0.0.1", "127.0.0.2", "127.0.0.3" };
	uint16_t port = free_udp_port(AF_INET);
	struct dgram_set *s;
	struct dgram_counters c;

	REQUIRE(port && workers_up() == 0);
	s = start_echo("0.0.0.0", port, 0);
	REQUIRE(s);
	for (size_t i = 0; i < ARRAY_SIZE(dst); i++) {
		char text[64], msg[64], buf[128];
		struct weir_addr d, from;
		int fc, fu;
		ssize_t got;

		snprintf(text, sizeof(text), "%s:%u", dst[i], port);
		d = mk(text);
		fc = client("127.0.0.1:0", &d, true);
		fu = client("127.0.0.1:0", &d, false);
		CHECK(fc >= 0 && fu >= 0);
		snprintf(msg, sizeof(msg), "hello %s", dst[i]);
		CHECK(send(fc, msg, strlen(msg), 0) == (ssize_t)strlen(msg));
		got = recv_wait(fc, buf, sizeof(buf), 2000, NULL);
		CHECK_EQ(got, (ssize_t)strlen(msg));
		CHECK(got > 0 && memcmp(buf, msg, (size_t)got) == 0);
		CHECK(sendto(fu, msg, strlen(msg), 0, &d.u.sa, addr_len(&d)) > 0);
		got = recv_wait(fu, buf, sizeof(buf), 2000, &from);
		CHECK_EQ(got, (ssize_t)strlen(msg));
		CHECK(addr_equal(&from, &d));
		close(fc);
		close(fu);
	}
	CHECK_EQ(atomic_load(&seen_ifindex), 6);
	CHECK_EQ(atomic_load(&seen_other_ifindex), 0);
	CHECK_EQ(atomic_load(&bad_local), 0);
	CHECK_EQ(atomic_load(&held), NWORKERS);
	counters_after(s, 6, &c);
	CHECK_EQ(c.rx, 6);
	CHECK_EQ(c.tx, 6);
	CHECK_EQ(c.tx_dropped, 0);
	dgram_stop(s);
	workers_down();
	CHECK_EQ(atomic_load(&held), 0);
}

static void sleep_cb(void *arg)
{
	usleep(150000);
}

/* 100 datagrams sent while the workers are busy wait in the socket; they
 * are taken in batches (recvmmsg returning many at once) and every one is
 * answered (sendmmsg). */
static void batches(unsigned batch)
{
	char text[64], seen[100] = { 0 };
	struct dgram_counters c;
	struct echo_case e;
	int answers = 0;

	if (!echo_up(&e, AF_INET, "127.0.0.1", "127.0.0.1:0", "127.0.0.1", 0, batch)) {
		unit_fail(__FILE__, __LINE__, "echo set-up failed");
		echo_down(&e);
		return;
	}
	/* an answer first: the listeners are on their loops */
	CHECK(send(e.fd, "x", 1, 0) == 1);
	CHECK(recv_wait(e.fd, text, sizeof(text), 2000, NULL) == 1);
	for (int i = 0; i < nworkers; i++)
		loop_post(workers[i].loop, sleep_cb, NULL);
	usleep(20000);
	for (int i = 0; i < 100; i++) {
		unsigned char b[32];

		memset(b, i, sizeof(b));
		CHECK(send(e.fd, b, sizeof(b), 0) == (ssize_t)sizeof(b));
	}
	while (answers < 100) {
		unsigned char b[64];
		ssize_t got = recv_wait(e.fd, b, sizeof(b), 2000, NULL);

		if (got < 0)
			break;
		CHECK_EQ(got, 32);
		if (got == 32 && b[0] < 100 && !seen[b[0]]) {
			seen[b[0]] = 1;
			answers++;
		}
	}
	CHECK_EQ(answers, 100);
	counters_after(e.s, 101, &c);
	CHECK_EQ(c.rx, 101);
	CHECK_EQ(c.tx, 101);
	CHECK(c.rx_multi >= 1);
	CHECK(c.rx_batches < 101);
	CHECK(atomic_load(&batches_over_one) >= 1);
	echo_down(&e);
}

TEST(dgram_batches_all_answered)
{
	batches(0);
}

/* Batches of 4: the budget of a wake-up (16 calls) is spent before the
 * queue is empty; the rest is read after the loop's other events. */
TEST(dgram_small_batches_budget)
{
	batches(4);
}

/* max_len bytes pass; one byte more is counted and dropped, never
 * delivered cut; the listener goes on answering. */
TEST(dgram_oversize_counted_and_dropped)
{
	char big[600], buf[1024];
	struct dgram_counters c;
	struct echo_case e;

	if (!echo_up(&e, AF_INET, "127.0.0.1", "127.0.0.1:0", "127.0.0.1", 512, 0)) {
		unit_fail(__FILE__, __LINE__, "echo set-up failed");
		echo_down(&e);
		return;
	}
	memset(big, 'b', sizeof(big));
	CHECK(send(e.fd, big, 513, 0) == 513);
	CHECK(send(e.fd, big, 600, 0) == 600);
	CHECK(send(e.fd, big, 512, 0) == 512);
	CHECK_EQ(recv_wait(e.fd, buf, sizeof(buf), 2000, NULL), 512);
	CHECK_EQ(recv_wait(e.fd, buf, sizeof(buf), 200, NULL), -1);
	CHECK(send(e.fd, "small", 5, 0) == 5);
	CHECK_EQ(recv_wait(e.fd, buf, sizeof(buf), 2000, NULL), 5);
	counters_after(e.s, 2, &c);
	CHECK_EQ(c.truncated, 2);
	CHECK_EQ(c.rx, 2);
	CHECK_EQ(c.tx, 2);
	echo_down(&e);
}

/* IPv6: a listener on :: answers ::1 from ::1, by lo. */
TEST(dgram_ipv6)
{
	struct weir_addr from;
	struct echo_case e;
	char buf[64];

	if (!free_udp_port(AF_INET6)) {
		fprintf(stderr, "  no IPv6 here: skipped\n");
		return;
	}
	if (!echo_up(&e, AF_INET6, "[::]", "[::1]:0", "[::1]", 0, 0)) {
		unit_fail(__FILE__, __LINE__, "echo set-up failed");
		echo_down(&e);
		return;
	}
	CHECK(send(e.fd, "six", 3, 0) == 3);
	CHECK_EQ(recv_wait(e.fd, buf, sizeof(buf), 2000, &from), 3);
	CHECK(addr_equal(&from, &e.d));
	CHECK_EQ(atomic_load(&seen_ifindex), 1);
	CHECK_EQ(atomic_load(&bad_local), 0);
	echo_down(&e);
}

/* After dgram_stop() the workers close their sockets: no answer, and the
 * port is free again. A worker that stops closes its listeners too. */
TEST(dgram_stop_closes)
{
	struct echo_case e;
	char buf[64];
	int again;

	if (!echo_up(&e, AF_INET, "127.0.0.1", "127.0.0.1:0", "127.0.0.1", 0, 0)) {
		unit_fail(__FILE__, __LINE__, "echo set-up failed");
		echo_down(&e);
		return;
	}
	CHECK(send(e.fd, "a", 1, 0) == 1);
	CHECK_EQ(recv_wait(e.fd, buf, sizeof(buf), 2000, NULL), 1);
	dgram_stop(e.s);
	usleep(100000);
	CHECK(send(e.fd, "b", 1, 0) == 1);
	CHECK_EQ(recv_wait(e.fd, buf, sizeof(buf), 300, NULL), -1);
	again = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(bind(again, &e.d.u.sa, addr_len(&e.d)) == 0);
	close(again);
	/* the on_stop path */
	e.s = start_echo("127.0.0.1", addr_port(&e.d), 0);
	REQUIRE(e.s);
	CHECK(send(e.fd, "c", 1, 0) == 1);
	CHECK_EQ(recv_wait(e.fd, buf, sizeof(buf), 2000, NULL), 1);
	workers_down();
	CHECK_EQ(atomic_load(&held), 0);
	again = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(bind(again, &e.d.u.sa, addr_len(&e.d)) == 0);
	close(again);
	echo_down(&e); /* after the workers: only lets go of the set */
}

/* Nobody shares the port: a SO_REUSEPORT socket bound first makes
 * dgram_prepare() fail, and (with a uid of weir's own)
 * one bound after fails with EADDRINUSE. */
TEST(dgram_port_conflict)
{
	uint16_t port = free_udp_port(AF_INET);
	struct dgram_set *s = NULL;
	char text[64], why[LSOCK_WHY_MAX] = "";
	struct weir_addr a, any;
	int one = 1, fd;

	REQUIRE(port);
	/* dumpable, whatever earlier tests left */
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	snprintf(text, sizeof(text), "127.0.0.1:%u", port);
	a = mk(text);
	snprintf(text, sizeof(text), "0.0.0.0:%u", port);
	any = mk(text);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	REQUIRE(bind(fd, &any.u.sa, addr_len(&any)) == 0);
	CHECK_EQ(dgram_prepare(&a, NULL, &s, why), -EADDRINUSE);
	/* the holder is this very process (the names come in test_portown.c
	 * and test_port_conflict.py) */
	CHECK_STR(why, "address already in use by another listener of this weir");
	close(fd);
	if (!lsock_own_uid(NULL)) {
		fprintf(stderr, "  no CAP_SETUID: the second half is skipped\n");
		return;
	}
	REQUIRE(dgram_prepare(&a, NULL, &s, why) == 0);
	/* the fsuid switch leaves the process as it was (core dumps, ptrace) */
	CHECK_EQ(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 1);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	CHECK(bind(fd, &a.u.sa, addr_len(&a)) != 0 && errno == EADDRINUSE);
	CHECK(bind(fd, &any.u.sa, addr_len(&any)) != 0 && errno == EADDRINUSE);
	close(fd);
	dgram_stop(s);
}
