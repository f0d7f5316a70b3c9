/*
 * xdp_cost.c - ns per packet of weir_xdp (bpf/weir_xdp.bpf.c) by forwarding
 * method, IPv4 and IPv6: a packet of an existing connection, a new
 * connection's first packet, a NAT/FULLNAT reply; through BPF_PROG_TEST_RUN
 * with repeat, in the fixtures' network namespace (tests/bpf/harness.c) so
 * that every packet does its real bpf_fib_lookup. Run as root:
 *
 *   build/rel/xdp-cost [existing-repeat [new-repeat]]   (1000000, 200000)
 *
 * Each figure is the median of 5 runs of <repeat> packets, minus what the
 * restoring wrapper (bench/xdp_cost.bpf.c) costs alone, measured the same
 * way with a no-op in weir_xdp's place. The connection tables have their
 * real sizes (1M flows). Prints a markdown table.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "harness.h"
#include "weir_xdp.skel.h"
#include "xdp_cost.skel.h"

#define RUNS    5
#define NREALS  16
#define PAYLOAD 100     /* frames of 154 (IPv4) and 174 (IPv6) bytes */

struct tpl {            /* as in xdp_cost.bpf.c */
	__u32 len;
	__u8 vary;
	__u8 family;
	__u16 pad;
	__u8 b[128];
};

static struct xdp_cost *B;

static void die(const char *what)
{
	fprintf(stderr, "xdp-cost: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* Slot 0 of the wrapper's prog array: what is measured. */
static void measure_prog(int fd)
{
	__u32 zero = 0;

	if (bpf_map_update_elem(bpf_map__fd(B->maps.next), &zero, &fd, BPF_ANY) != 0)
		die("prog array");
}

static void template(const struct pkt *p, int family, int vary)
{
	struct tpl t = { .len = (__u32)p->len, .vary = (__u8)vary, .family = (__u8)family };
	__u32 zero = 0;
	static __u8 zeros[512 * 8];

	memcpy(t.b, p->b, sizeof(t.b));
	if (bpf_map_update_elem(bpf_map__fd(B->maps.tpl), &zero, &t, BPF_ANY) != 0 ||
	    bpf_map_update_elem(bpf_map__fd(B->maps.runs), &zero, zeros, BPF_ANY) != 0)
		die("template");
}

/* <repeat> runs of the wrapper on <p>: average ns per run, verdict in <v>. */
static double run(const struct pkt *p, int ifindex, __u32 repeat, int *v)
{
	static struct pkt out;
	struct xdp_md ctx = { .data_end = (__u32)p->len, .ingress_ifindex = (__u32)ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o,
		.data_in = p->b, .data_size_in = (__u32)p->len,
		.data_out = out.b, .data_size_out = sizeof(out.b),
		.ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
		.repeat = repeat);

	if (bpf_prog_test_run_opts(bpf_program__fd(B->progs.bench_restore), &o) != 0)
		die("BPF_PROG_TEST_RUN");
	*v = (int)o.retval;
	return o.duration;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median over RUNS of weir_xdp's ns per packet on <p>, the wrapper's
 * own cost taken off; -1 if weir did not answer <want>. <fresh> clears the
 * tables before each run (new connections every packet). */
static double cost(const struct pkt *p, int family, int ifindex, int vary, __u32 repeat,
		   int want, double *overhead)
{
	double t[RUNS], o[RUNS];
	int v;

	template(p, family, vary);
	for (int i = 0; i < RUNS; i++) {
		measure_prog(bpf_program__fd(B->progs.bench_nop));
		o[i] = run(p, ifindex, repeat, &v);
		if (vary)
			tables_clear();
		template(p, family, vary);
		measure_prog(bpf_program__fd(X.xdp->progs.weir_xdp));
		t[i] = run(p, ifindex, repeat, &v);
		if (v != want) {
			fprintf(stderr, "xdp-cost: verdict %s, want %s\n", verdict_name(v),
				verdict_name(want));
			return -1;
		}
	}
	qsort(t, RUNS, sizeof(t[0]), cmp);
	qsort(o, RUNS, sizeof(o[0]), cmp);
	*overhead = o[RUNS / 2];
	return t[RUNS / 2] - o[RUNS / 2];
}

struct mode {
	const char *name;
	int mode, verdict;
};

static const struct mode MODES[] = {
	{ "DR", WX_DR, XDP_REDIRECT },
	{ "TUN", WX_TUN, XDP_REDIRECT },
	{ "NAT", WX_NAT, XDP_REDIRECT },
	{ "FULLNAT", WX_FULLNAT, XDP_REDIRECT },
};

/* A service of NREALS reals in <m>'s mode on VIP:80+<k>; NAT reals listen
 * on 8080 + their number, so FULLNAT has NREALS port ranges. */
static uint16_t service(const struct net *n, int k, const struct mode *m)
{
	uint32_t id = (uint32_t)(n->family == 4 ? 1 + k : 101 + k), ring[NREALS];
	uint16_t port = (uint16_t)(80 + k);
	struct wx_svc v = { .id = id, .ring_size = NREALS, .pick = WX_PICK_SEQ };

	for (uint32_t i = 0; i < NREALS; i++) {
		const char *addr = m->mode == WX_TUN ? n->far[i % 2] : n->rs[i % 3];

		ring[i] = id * 32 + i;
		real_put(ring[i], addr, m->mode >= WX_NAT ? (uint16_t)(8080 + i) : 0, m->mode, id,
			 WX_REAL_LIVE);
	}
	ring_put(id, ring, NREALS);
	cursor_reset(id);
	svc_put(n->vip, port, IPPROTO_TCP, &v);
	return port;
}

static struct pkt_spec client(const struct net *n, uint16_t dport, uint8_t flags)
{
	return (struct pkt_spec){
		.smac = MAC_GW_C, .dmac = MAC_C, .src = n->client, .dst = n->vip,
		.sport = 40000, .dport = dport, .proto = IPPROTO_TCP, .flags = flags,
		.df = 1, .payload = PAYLOAD,
	};
}

/* The reply to the flow of <in>: what its real sends back. */
static void reply_of(const struct net *n, const struct pkt *in, struct pkt *r)
{
	char rs[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	struct wx_flow_key bk;
	struct wx_flow f;
	struct wx_real real;
	struct pkt_spec s;
	int af = n->family == 4 ? AF_INET : AF_INET6;

	if (flow_get(in, &f) != 0 ||
	    bpf_map_lookup_elem(bpf_map__fd(X.xdp->maps.wx_reals), &f.real, &real) != 0)
		die("the flow to reply to");
	flow_key(in, &bk);
	inet_ntop(af, real.addr.w, rs, sizeof(rs));
	inet_ntop(af, f.lport ? f.laddr.w : bk.src.w, dst, sizeof(dst));
	s = (struct pkt_spec){
		.smac = MAC_RS0, .dmac = MAC_R, .src = rs, .dst = dst,
		.sport = ntohs(real.port), .dport = ntohs(f.lport ? f.lport : bk.sport),
		.proto = IPPROTO_TCP, .flags = TCPF_ACK, .df = 1, .payload = PAYLOAD,
	};
	pkt_build(r, &s);
}

static void row(const struct net *n, int k, const struct mode *m, __u32 rep_old, __u32 rep_new,
		double *ovh)
{
	uint16_t port = service(n, k, m);
	struct pkt_spec s = client(n, port, TCPF_ACK);
	double old, fresh, back = 0;
	struct pkt p, r;
	int v;

	tables_clear();
	pkt_build(&p, &s);
	template(&p, n->family, 0);
	measure_prog(bpf_program__fd(X.xdp->progs.weir_xdp));
	run(&p, X.if_c, 1, &v);    /* the connection now exists */
	old = cost(&p, n->family, X.if_c, 0, rep_old, m->verdict, ovh);
	if (m->mode >= WX_NAT) {
		reply_of(n, &p, &r);
		back = cost(&r, n->family, X.if_r, 0, rep_old, XDP_REDIRECT, ovh);
	}
	s.flags = TCPF_SYN;
	pkt_build(&p, &s);
	fresh = cost(&p, n->family, X.if_c, 1, rep_new, m->verdict, ovh);
	printf("| %s | IPv%d | %.0f | %.0f | ", m->name, n->family, old, fresh);
	if (m->mode >= WX_NAT)
		printf("%.0f |\n", back);
	else
		printf("- |\n");
}

int main(int argc, char **argv)
{
	__u32 rep_old = argc > 1 ? (__u32)atoi(argv[1]) : 1000000;
	__u32 rep_new = argc > 2 ? (__u32)atoi(argv[2]) : 200000;
	const struct net *nets[2] = { &NET4, &NET6 };
	struct wx_config c = { .fullnat_lo = 1024, .fullnat_hi = 65535 };
	struct utsname u;
	double ovh = 0, pass;
	struct pkt p;
	int v;

	fx_init(0);
	B = xdp_cost__open_and_load();
	if (!B)
		die("xdp_cost__open_and_load");
	pkt_addr(c.local4.w, NET4.local);
	pkt_addr(c.local6.w, NET6.local);
	config_put(&c);
	uname(&u);
	printf("# weir_xdp, ns per packet (BPF_PROG_TEST_RUN)\n\n");
	printf("%s %s, %d CPUs; %u packets per run (new connections: %u), median of %d runs,\n"
	       "the restoring wrapper's own cost subtracted.\n\n",
	       u.sysname, u.release, libbpf_num_possible_cpus(), rep_old, rep_new, RUNS);
	printf("| method | family | existing connection | new connection | NAT reply |\n");
	printf("|---|---|---:|---:|---:|\n");
	for (int i = 0; i < 2; i++)
		for (int k = 0; k < 4; k++)
			row(nets[i], k, &MODES[k], rep_old, rep_new, &ovh);
	{
		struct pkt_spec s = client(&NET4, 9, TCPF_ACK);

		s.dst = "192.0.2.99";
		pkt_build(&p, &s);
		pass = cost(&p, 4, X.if_c, 0, rep_old, XDP_PASS, &ovh);
		(void)v;
	}
	printf("\nNot a VIP (passed to the stack): %.0f ns. Wrapper alone: %.0f ns.\n", pass, ovh);
	xdp_cost__destroy(B);
	fx_fini();
	return 0;
}
