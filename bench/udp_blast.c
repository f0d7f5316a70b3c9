/*
 * udp_blast.c - a bounded UDP load generator for bench/udp_proxy.sh: a few
 * long flows of equal datagrams, as QUIC connections send them.
 *
 *   udp-blast ADDR:PORT [-f FLOWS] [-n PACKETS] [-T SECONDS] [-l LEN]
 *             [-b BATCH] [-r RATE] [-e [-w WINDOW]]
 *
 * FLOWS (default 4) sockets, each connected to ADDR:PORT from a port of its
 * own (so FLOWS flows), take turns sending BATCH (default 32, at most 256)
 * datagrams of LEN bytes (default 1200) with one sendmmsg(). Sends at most
 * PACKETS datagrams (default 10,000,000) for at most SECONDS (default 10),
 * as fast as it can or at most RATE datagrams per second (0: no limit).
 * With -e it also reads what comes back (an echo server behind the proxy)
 * after every round of batches, and for 200 ms after the last one; with
 * -w, at most WINDOW datagrams are unanswered at any time (a congestion
 * window over all flows): it waits for echoes before sending more, and
 * takes what did not come back within 10 ms as lost. Then prints one
 * line:
 *   sent N received N seconds S pps P errors N rxdrops N
 * (pps: sent per second of sending; errors: sendmmsg() calls the kernel
 * refused, e.g. ICMP port unreachable reported on a connected socket;
 * rxdrops: echoes that arrived but found the flows' receive buffers full,
 * SO_MEMINFO). Traffic goes only to the address given; bench/udp_proxy.sh
 * gives 127.0.0.1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/sock_diag.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_FLOWS 1024
#define MAX_BATCH 256
#define MAX_LEN   65507
#define DRAIN_NS  200000000LL   /* -e: how long to wait for late echoes */
#define LOST_MS   10             /* -w: an echo not back by then is lost */

struct blast {
	int fd[MAX_FLOWS];
	unsigned flows, batch;
	size_t len;
	uint64_t packets, rate, window, sent, received, errors, rxdrops;
	uint64_t written_off;    /* -w: echoes given up for lost */
	double seconds;
	int echo;
	unsigned char *buf;      /* one datagram, sent BATCH times per call */
	unsigned char *rxbuf;    /* BATCH receive slots of LEN bytes */
	struct mmsghdr tx[MAX_BATCH], rx[MAX_BATCH];
	struct iovec txv[MAX_BATCH], rxv[MAX_BATCH];
};

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int parse_target(const char *s, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	char *end;
	long port;

	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 1 || port > 65535)
		return -EINVAL;
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -EINVAL;
}

/* Opens the flows' sockets, each connected to <sa>. 0 or -errno. */
static int open_flows(struct blast *b, const struct sockaddr_in *sa)
{
	unsigned i;

	for (i = 0; i < b->flows; i++) {
		b->fd[i] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (b->fd[i] < 0)
			return -errno;
		if (connect(b->fd[i], (const struct sockaddr *)sa, sizeof(*sa)) != 0)
			return -errno;
	}
	return 0;
}

static void setup_msgs(struct blast *b)
{
	unsigned i;

	for (i = 0; i < b->batch; i++) {
		b->txv[i] = (struct iovec){ .iov_base = b->buf, .iov_len = b->len };
		b->tx[i].msg_hdr = (struct msghdr){ .msg_iov = &b->txv[i], .msg_iovlen = 1 };
		b->rxv[i] = (struct iovec){ .iov_base = b->rxbuf + (size_t)i * b->len,
					    .iov_len = b->len };
		b->rx[i].msg_hdr = (struct msghdr){ .msg_iov = &b->rxv[i], .msg_iovlen = 1 };
	}
}

/* Sends up to <n> datagrams on flow <f>; counts what went and what the
 * kernel refused. */
static void send_batch(struct blast *b, unsigned f, unsigned n)
{
	int r = sendmmsg(b->fd[f], b->tx, n, 0);

	if (r > 0)
		b->sent += (unsigned)r;
	else if (errno != EINTR)
		b->errors++;  /* one refused datagram (ECONNREFUSED, ENOBUFS) */
}

/* Reads every echo waiting on every flow, without blocking. */
static void drain(struct blast *b)
{
	unsigned f;
	int r;

	for (f = 0; f < b->flows; f++) {
		do {
			r = recvmmsg(b->fd[f], b->rx, b->batch, MSG_DONTWAIT, NULL);
			if (r > 0)
				b->received += (unsigned)r;
		} while (r == (int)b->batch);
	}
}

/* -w: until <n> more datagrams fit in the window, reads echoes, waiting
 * for them; those not back within LOST_MS are written off. */
static void wait_window(struct blast *b, unsigned n)
{
	struct pollfd pfd[MAX_FLOWS];
	unsigned f;

	for (f = 0; f < b->flows; f++)
		pfd[f] = (struct pollfd){ .fd = b->fd[f], .events = POLLIN };
	while (b->sent - b->received - b->written_off + n > b->window) {
		drain(b);
		if (b->sent - b->received - b->written_off + n <= b->window)
			return;
		if (poll(pfd, b->flows, LOST_MS) == 0)
			b->written_off = b->sent - b->received;
	}
}

/* Adds what the kernel dropped on the flows' receive side to rxdrops. */
static void count_rx_drops(struct blast *b)
{
	uint32_t mem[SK_MEMINFO_VARS];
	socklen_t len;
	unsigned f;

	for (f = 0; f < b->flows; f++) {
		len = sizeof(mem);
		if (getsockopt(b->fd[f], SOL_SOCKET, SO_MEMINFO, mem, &len) == 0 &&
		    len > SK_MEMINFO_DROPS * sizeof(mem[0]))
			b->rxdrops += mem[SK_MEMINFO_DROPS];
	}
}

/* Sleeps until datagram number <b->sent> is due at RATE per second. */
static void pace(const struct blast *b, long long t0)
{
	long long due = t0 + (long long)((double)b->sent * 1e9 / (double)b->rate);
	struct timespec ts = { .tv_sec = due / 1000000000LL, .tv_nsec = due % 1000000000LL };

	if (due > now_ns())
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

/* Runs the bounded blast; returns the nanoseconds spent sending. */
static long long run(struct blast *b)
{
	long long t0 = now_ns(), stop = t0 + (long long)(b->seconds * 1e9), t = t0, end;
	unsigned f;

	while (b->sent < b->packets && t < stop) {
		for (f = 0; f < b->flows && b->sent < b->packets; f++) {
			uint64_t left = b->packets - b->sent;

			unsigned n = left < b->batch ? (unsigned)left : b->batch;

			if (b->rate)
				pace(b, t0);
			if (b->window)
				wait_window(b, n);
			send_batch(b, f, n);
		}
		if (b->echo)
			drain(b);
		t = now_ns();
	}
	end = t;
	while (b->echo && now_ns() < end + DRAIN_NS) {
		drain(b);
		usleep(1000);
	}
	count_rx_drops(b);
	return end - t0;
}

static void usage(void)
{
	fprintf(stderr, "usage: udp-blast ADDR:PORT [-f FLOWS] [-n PACKETS] [-T SECONDS] "
		"[-l LEN] [-b BATCH] [-r RATE] [-e [-w WINDOW]]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static struct blast b = {
		.flows = 4, .batch = 32, .len = 1200, .packets = 10000000, .seconds = 10,
	};
	struct sockaddr_in sa;
	long long ns;
	int opt, err;

	while ((opt = getopt(argc, argv, "f:n:T:l:b:r:ew:")) != -1) {
		switch (opt) {
		case 'f': b.flows = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'n': b.packets = strtoull(optarg, NULL, 10); break;
		case 'T': b.seconds = strtod(optarg, NULL); break;
		case 'l': b.len = strtoul(optarg, NULL, 10); break;
		case 'b': b.batch = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'r': b.rate = strtoull(optarg, NULL, 10); break;
		case 'e': b.echo = 1; break;
		case 'w': b.window = strtoull(optarg, NULL, 10); break;
		default: usage();
		}
	}
	if (optind != argc - 1 || b.flows < 1 || b.flows > MAX_FLOWS || b.batch < 1 ||
	    b.batch > MAX_BATCH || b.len < 1 || b.len > MAX_LEN || !(b.seconds > 0) ||
	    b.seconds > 3600 || (b.window && (!b.echo || b.window < b.batch)))
		usage();
	if (parse_target(argv[optind], &sa) != 0) {
		fprintf(stderr, "udp-blast: %s: not an IPv4 ADDR:PORT\n", argv[optind]);
		return 2;
	}
	b.buf = malloc(b.len);
	b.rxbuf = malloc((size_t)b.batch * b.len);
	if (!b.buf || !b.rxbuf) {
		fprintf(stderr, "udp-blast: out of memory\n");
		return 1;
	}
	/* something QUIC-like: a short-header first byte, then filler */
	memset(b.buf, 0xa5, b.len);
	b.buf[0] = 0x40;
	err = open_flows(&b, &sa);
	if (err) {
		fprintf(stderr, "udp-blast: socket to %s: %s\n", argv[optind], strerror(-err));
		return 1;
	}
	setup_msgs(&b);
	ns = run(&b);
	printf("sent %llu received %llu seconds %.3f pps %.0f errors %llu rxdrops %llu\n",
	       (unsigned long long)b.sent, (unsigned long long)b.received, ns / 1e9,
	       ns > 0 ? b.sent * 1e9 / ns : 0.0, (unsigned long long)b.errors,
	       (unsigned long long)b.rxdrops);
	return 0;
}
