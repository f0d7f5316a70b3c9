/*
 * blaster.c - a bounded UDP packet generator for bench/xdp_pps.sh.
 *
 *   blaster -i IF -d DSTMAC -s SRC -t DST:PORT [-m xdp|sendmmsg] [-n PACKETS]
 *           [-T SECONDS] [-f FLOWS] [-l LEN] [-b BATCH]
 *
 * Sends at most PACKETS (default 10,000,000) Ethernet frames of LEN bytes
 * (default 64, at least 60) out of IF to DSTMAC, UDP from SRC to DST:PORT,
 * for at most SECONDS (default 10), as fast as it can, then prints one line:
 *   packets N seconds S pps P
 * Flow k is source port 1024 + k % 64512 from address SRC + k / 64512;
 * packet n belongs to flow n % FLOWS (default 4096), so each flow comes back
 * every FLOWS packets. FLOWS at least PACKETS makes every packet a new flow.
 * Both checksums are right.
 *
 * Modes:
 *   xdp       (default) bench/xdp_pps_gen.bpf.c run by BPF_PROG_TEST_RUN in
 *             live-frames mode, BATCH (default 64, at most 256) frames per
 *             batch: the kernel sends each frame with XDP_TX out of IF.
 *             The peer receives xdp_frames, as from a NIC driver, and IF's
 *             peer must have an XDP program or GRO on (a veth then has
 *             NAPI); frames the peer's ring cannot take are dropped and
 *             counted by the peer, not here. Several million frames per
 *             second per core.
 *   sendmmsg  an AF_PACKET socket on IF (qdisc bypassed), BATCH messages
 *             per sendmmsg call: the peer receives skbs, as from a local
 *             socket. Slower; here to show what a socket generator reaches.
 * Run it as root in the namespace of IF, pinned where the benchmark wants
 * the generator's CPU.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/bpf.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define HDR      42     /* Ethernet 14 + IPv4 20 + UDP 8 */
#define PORTS    64512  /* source ports 1024-65535 */
#define MAX_LEN  1514
#define MAX_BATCH 256

struct gen_cfg {        /* as in xdp_pps_gen.bpf.c */
	uint8_t hdr[HDR];
	uint16_t pad;
	uint32_t flows;
	uint32_t ip_sum;
	uint32_t udp_sum;
	uint32_t src_lo;
};

#include "xdp_pps_gen.skel.h"

struct opts {
	const char *mode, *ifname;
	uint8_t dmac[6];
	struct in_addr src, dst;
	uint16_t dport;
	uint64_t packets;
	double seconds;
	uint32_t flows, len, batch;
};

static void usage(void)
{
	fprintf(stderr, "usage: blaster -i IF -d DSTMAC -s SRC -t DST:PORT [-m xdp|sendmmsg] "
		"[-n PACKETS] [-T SECONDS] [-f FLOWS] [-l LEN] [-b BATCH]\n");
	exit(2);
}

static void die(const char *what)
{
	fprintf(stderr, "blaster: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One's-complement sum of the <n> bytes at <p> as 16-bit words in memory
 * order (<n> even), unfolded. */
static uint32_t sum16(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint32_t s = 0;

	for (size_t i = 0; i < n; i += 2) {
		uint16_t w;

		memcpy(&w, b + i, 2);
		s += w;
	}
	return s;
}

static uint16_t fold(uint32_t s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* <c> for <o>: the headers with the per-flow fields (source port, the
 * source address's low half) and both checksums zero, and the sums the
 * per-flow fields are added to. The payload is zeros. */
static void make_cfg(const struct opts *o, const uint8_t smac[6], struct gen_cfg *c)
{
	uint8_t *h = c->hdr;
	uint16_t w;
	uint32_t src = ntohl(o->src.s_addr);

	memset(c, 0, sizeof(*c));
	memcpy(h, o->dmac, 6);
	memcpy(h + 6, smac, 6);
	h[12] = 0x08;                           /* IPv4 */
	h[14] = 0x45;
	w = htons((uint16_t)(o->len - 14));     /* total length */
	memcpy(h + 16, &w, 2);
	h[20] = 0x40;                           /* DF */
	h[22] = 64;                             /* TTL */
	h[23] = IPPROTO_UDP;
	memcpy(h + 26, &o->src.s_addr, 2);      /* the high half; the low one varies */
	memcpy(h + 30, &o->dst.s_addr, 4);
	memcpy(h + 36, &o->dport, 2);
	w = htons((uint16_t)(o->len - 34));     /* UDP length */
	memcpy(h + 38, &w, 2);
	c->flows = o->flows;
	c->src_lo = src & 0xffff;
	c->ip_sum = sum16(h + 14, 20);
	/* pseudo header: addresses, protocol, UDP length; then the UDP header */
	c->udp_sum = sum16(h + 26, 8) + htons(IPPROTO_UDP) + w + sum16(h + 34, 8);
}

/* The frame of flow <k> into <f> (LEN bytes, zero past the headers), as
 * xdp_pps_gen.bpf.c writes it. */
static void make_frame(const struct gen_cfg *c, uint32_t k, uint8_t *f)
{
	uint16_t port = htons((uint16_t)(1024 + k % PORTS));
	uint16_t addr = htons((uint16_t)(c->src_lo + k / PORTS));
	uint16_t s;

	memcpy(f, c->hdr, HDR);
	memcpy(f + 28, &addr, 2);
	s = fold(c->ip_sum + addr);
	memcpy(f + 24, &s, 2);
	memcpy(f + 34, &port, 2);
	s = fold(c->udp_sum + addr + port);
	if (s == 0)
		s = 0xffff;
	memcpy(f + 40, &s, 2);
}

static void src_mac(const char *ifname, uint8_t mac[6])
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0)
		die("socket");
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) != 0)
		die(ifname);
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
}

static void on_alarm(int sig)
{
	(void)sig;      /* only interrupts the test run */
}

/* Arms SIGALRM for <secs> seconds, without SA_RESTART: a long system call
 * (a test run) returns EINTR then. */
static void time_limit(double secs)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval it = { .it_value = { .tv_sec = (time_t)secs,
		.tv_usec = (suseconds_t)((secs - (double)(time_t)secs) * 1e6) } };

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, NULL) != 0 || setitimer(ITIMER_REAL, &it, NULL) != 0)
		die("timer");
}

/* xdp mode: up to <o->packets> runs of the generator program in ONE test
 * run (each call sets up and tears down a page pool, and the teardown
 * waits for RCU: tens of ms with no frames), ended early by SIGALRM at the
 * time limit; the program counts its runs. Returns the frames made. */
static uint64_t run_xdp(const struct opts *o, const struct gen_cfg *c, int ifindex, double *secs)
{
	static uint8_t frame[MAX_LEN];
	struct xdp_pps_gen *g = xdp_pps_gen__open();
	struct xdp_md ctx = { .data_end = o->len, .ingress_ifindex = (uint32_t)ifindex };
	uint64_t done;
	double t0;

	if (!g)
		die("open xdp_pps_gen");
	g->bss->cfg = *c;
	if (xdp_pps_gen__load(g) != 0)
		die("load xdp_pps_gen");
	make_frame(c, 0, frame);
	LIBBPF_OPTS(bpf_test_run_opts, r,
		.data_in = frame, .data_size_in = o->len,
		.ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
		.repeat = (uint32_t)o->packets,
		.batch_size = o->batch,
		.flags = BPF_F_TEST_XDP_LIVE_FRAMES);
	time_limit(o->seconds);
	t0 = now();
	if (bpf_prog_test_run_opts(bpf_program__fd(g->progs.gen), &r) != 0 && errno != EINTR)
		die("BPF_PROG_TEST_RUN (live frames)");
	*secs = now() - t0;
	done = g->bss->runs;
	xdp_pps_gen__destroy(g);
	return done;
}

/* sendmmsg mode: the same frames through an AF_PACKET socket. */
static uint64_t run_sendmmsg(const struct opts *o, const struct gen_cfg *c, int ifindex,
			     double *secs)
{
	static uint8_t frames[MAX_BATCH][MAX_LEN];
	struct mmsghdr msg[MAX_BATCH];
	struct iovec iov[MAX_BATCH];
	struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_ifindex = ifindex };
	uint64_t done = 0, k = 0;
	int one = 1, fd = socket(AF_PACKET, SOCK_RAW, 0);
	double t0;

	if (fd < 0)
		die("AF_PACKET socket");
	if (bind(fd, (struct sockaddr *)&ll, sizeof(ll)) != 0)
		die("bind");
	if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) != 0)
		die("PACKET_QDISC_BYPASS");
	memset(msg, 0, sizeof(msg));
	for (uint32_t i = 0; i < o->batch; i++) {
		iov[i] = (struct iovec){ .iov_base = frames[i], .iov_len = o->len };
		msg[i].msg_hdr.msg_iov = &iov[i];
		msg[i].msg_hdr.msg_iovlen = 1;
	}
	t0 = now();
	while (done < o->packets && now() - t0 < o->seconds) {
		uint64_t left = o->packets - done;
		unsigned n = (unsigned)(left < o->batch ? left : o->batch);
		int sent;

		for (unsigned i = 0; i < n; i++)
			make_frame(c, (uint32_t)((k + i) % o->flows), frames[i]);
		sent = sendmmsg(fd, msg, n, 0);
		if (sent < 0) {
			if (errno == ENOBUFS || errno == EAGAIN)
				continue;
			die("sendmmsg");
		}
		done += (uint64_t)sent;
		k += (uint64_t)sent;
	}
	*secs = now() - t0;
	close(fd);
	return done;
}

static int parse_mac(const char *s, uint8_t m[6])
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &m[0], &m[1], &m[2], &m[3], &m[4],
		      &m[5]) == 6 ? 0 : -1;
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	char host[64], *colon;
	int c, have = 0;

	*o = (struct opts){ .mode = "xdp", .packets = 10000000, .seconds = 10, .flows = 4096,
			    .len = 64, .batch = 64 };
	while ((c = getopt(argc, argv, "m:i:d:s:t:n:T:f:l:b:")) != -1) {
		switch (c) {
		case 'm': o->mode = optarg; break;
		case 'i': o->ifname = optarg; have |= 1; break;
		case 'd':
			if (parse_mac(optarg, o->dmac) != 0)
				usage();
			have |= 2;
			break;
		case 's':
			if (inet_pton(AF_INET, optarg, &o->src) != 1)
				usage();
			have |= 4;
			break;
		case 't':
			snprintf(host, sizeof(host), "%s", optarg);
			colon = strchr(host, ':');
			if (!colon)
				usage();
			*colon = 0;
			if (inet_pton(AF_INET, host, &o->dst) != 1)
				usage();
			o->dport = htons((uint16_t)atoi(colon + 1));
			have |= 8;
			break;
		case 'n': o->packets = strtoull(optarg, NULL, 10); break;
		case 'T': o->seconds = atof(optarg); break;
		case 'f': o->flows = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'l': o->len = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'b': o->batch = (uint32_t)strtoul(optarg, NULL, 10); break;
		default: usage();
		}
	}
	if (have != 15 || o->flows == 0 || o->len < 60 || o->len > MAX_LEN || o->batch == 0 ||
	    o->batch > MAX_BATCH || o->seconds <= 0 ||
	    (strcmp(o->mode, "xdp") != 0 && strcmp(o->mode, "sendmmsg") != 0))
		usage();
	if (strcmp(o->mode, "xdp") == 0 && o->packets > UINT32_MAX)
		o->packets = UINT32_MAX;        /* one test run's repeat */
	if ((ntohl(o->src.s_addr) & 0xffff) + (o->flows - 1) / PORTS > 0xffff) {
		fprintf(stderr, "blaster: %u flows need more source addresses than %s's /16 has\n",
			o->flows, inet_ntoa(o->src));
		exit(2);
	}
}

int main(int argc, char **argv)
{
	struct opts o;
	struct gen_cfg c;
	uint8_t smac[6];
	uint64_t sent;
	double secs;
	int ifindex;

	parse_args(argc, argv, &o);
	ifindex = (int)if_nametoindex(o.ifname);
	if (ifindex == 0)
		die(o.ifname);
	src_mac(o.ifname, smac);
	make_cfg(&o, smac, &c);
	if (strcmp(o.mode, "xdp") == 0)
		sent = run_xdp(&o, &c, ifindex, &secs);
	else
		sent = run_sendmmsg(&o, &c, ifindex, &secs);
	printf("packets %llu seconds %.6f pps %.0f\n", (unsigned long long)sent, secs,
	       (double)sent / secs);
	return 0;
}
