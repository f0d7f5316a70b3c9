/* harness.c - namespace, programs, maps and test runs of the BPF fixtures
 * (see harness.h). */
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "weir_xdp.skel.h"
#include "tc_decap.skel.h"

struct fx X;

const struct net NET4 = {
	.family = 4,
	.vip = "192.0.2.10", .vip2 = "192.0.2.20",
	.client = "198.51.100.7", .client2 = "198.51.101.7", .client_near = "198.51.100.8",
	.rs = { "10.0.2.11", "10.0.2.12", "10.0.2.13" },
	.lan = "10.0.1.11",
	.far = { "203.0.113.7", "203.0.113.8" },
	.noneigh = "10.0.2.99",
	.unrouted = "100.64.0.1",
	.local = "10.0.2.1",
	.prefix = 24,
};

const struct net NET6 = {
	.family = 6,
	.vip = "2001:db8:10::10", .vip2 = "2001:db8:10::20",
	.client = "2001:db8:c::7", .client2 = "2001:db8:c:1::7", .client_near = "2001:db8:c::8",
	.rs = { "fd00:2::11", "fd00:2::12", "fd00:2::13" },
	.lan = "fd00:1::11",
	.far = { "2001:db8:f::7", "2001:db8:f::8" },
	.noneigh = "fd00:2::99",
	.unrouted = "2001:db8:dead::1",
	.local = "fd00:2::1",
	.prefix = 64,
};

static void die(const char *func, const char *what)
{
	fprintf(stderr, "bpf-fixtures: %s: %s: %s\n", func, what, strerror(errno));
	exit(2);
}

void fx_sh(const char *cmd)
{
	if (system(cmd) != 0) {
		errno = EIO;
		die(__func__, cmd);
	}
}

static void sysctl(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY);

	if (fd < 0 || write(fd, value, strlen(value)) != (ssize_t)strlen(value))
		die(__func__, path);
	close(fd);
}

/* The namespace of harness.h: everything the fib lookups need, fixed. */
static void net_setup(void)
{
	static const char *const cmds[] = {
		"ip link set lo up",
		"ip link add wxc address " MAC_C " type veth peer name wxcp",
		"ip link add wxr address " MAC_R " type veth peer name wxrp",
		"ip link set wxc up", "ip link set wxcp up",
		"ip link set wxr up", "ip link set wxrp up",
		"ip addr add 10.0.1.1/24 dev wxc",
		"ip addr add 10.0.2.1/24 dev wxr",
		"ip -6 addr add fd00:1::1/64 dev wxc nodad",
		"ip -6 addr add fd00:2::1/64 dev wxr nodad",
		"ip neigh add 10.0.1.254 lladdr " MAC_GW_C " dev wxc nud permanent",
		"ip neigh add 10.0.1.11 lladdr " MAC_LAN " dev wxc nud permanent",
		"ip neigh add 10.0.2.254 lladdr " MAC_GW_R " dev wxr nud permanent",
		"ip neigh add 10.0.2.11 lladdr " MAC_RS0 " dev wxr nud permanent",
		"ip neigh add 10.0.2.12 lladdr " MAC_RS1 " dev wxr nud permanent",
		"ip neigh add 10.0.2.13 lladdr " MAC_RS2 " dev wxr nud permanent",
		"ip -6 neigh add fd00:1::fe lladdr " MAC_GW_C " dev wxc nud permanent",
		"ip -6 neigh add fd00:1::11 lladdr " MAC_LAN " dev wxc nud permanent",
		"ip -6 neigh add fd00:2::fe lladdr " MAC_GW_R " dev wxr nud permanent",
		"ip -6 neigh add fd00:2::11 lladdr " MAC_RS0 " dev wxr nud permanent",
		"ip -6 neigh add fd00:2::12 lladdr " MAC_RS1 " dev wxr nud permanent",
		"ip -6 neigh add fd00:2::13 lladdr " MAC_RS2 " dev wxr nud permanent",
		"ip route add 198.51.0.0/16 via 10.0.1.254",
		"ip route add 203.0.113.0/24 via 10.0.2.254",
		"ip -6 route add 2001:db8:c::/48 via fd00:1::fe",
		"ip -6 route add 2001:db8:f::/64 via fd00:2::fe",
	};

	if (unshare(CLONE_NEWNET) != 0)
		die(__func__, "unshare(CLONE_NEWNET) (run as root)");
	/* bpf_fib_lookup answers "forwarding disabled" otherwise */
	sysctl("/proc/sys/net/ipv4/conf/all/forwarding", "1");
	sysctl("/proc/sys/net/ipv4/conf/default/forwarding", "1");
	sysctl("/proc/sys/net/ipv6/conf/all/forwarding", "1");
	sysctl("/proc/sys/net/ipv6/conf/default/forwarding", "1");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fx_sh(cmds[i]);
	X.if_c = (int)if_nametoindex("wxc");
	X.if_r = (int)if_nametoindex("wxr");
	if (!X.if_c || !X.if_r)
		die(__func__, "if_nametoindex");
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN)
		return vfprintf(stderr, fmt, ap);
	return 0;
}

void fx_cpu(int cpu)
{
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (sched_setaffinity(0, sizeof(one), &one) != 0)
		die(__func__, "sched_setaffinity");
}

void fx_init(int small_maps)
{

	/* the next-hop caches are per CPU: stay on one, so that a fixture
	 * sees the cache the previous one filled */
	fx_cpu(0);
	setvbuf(stdout, NULL, _IOLBF, 0);
	net_setup();
	libbpf_set_print(quiet);
	X.ncpu = libbpf_num_possible_cpus();
	X.xdp = weir_xdp__open();
	if (!X.xdp)
		die(__func__, "weir_xdp__open");
	if (small_maps) {
		bpf_map__set_max_entries(X.xdp->maps.wx_flows, 8192);
		bpf_map__set_max_entries(X.xdp->maps.wx_back, 8192);
		bpf_map__set_max_entries(X.xdp->maps.wx_persist, 1024);
	}
	if (weir_xdp__load(X.xdp) != 0)
		die(__func__, "weir_xdp__load (the verifier's log is above)");
	X.tc = tc_decap__open_and_load();
	if (!X.tc)
		die(__func__, "tc_decap__open_and_load");
}

void fx_fini(void)
{
	tc_decap__destroy(X.tc);
	weir_xdp__destroy(X.xdp);
}

/* --- checks ---------------------------------------------------------------------- */

int check(int ok, const char *what, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		X.passed++;
		return 1;
	}
	X.failed++;
	printf("FAIL %s: ", what);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	return 0;
}

const char *verdict_name(int v)
{
	static const char *const names[] = { "ABORTED", "DROP", "PASS", "TX", "REDIRECT" };

	return v >= 0 && v <= XDP_REDIRECT ? names[v] : "?";
}

int xdp_run(const struct pkt *in, int ifindex, struct pkt *out)
{
	struct xdp_md ctx = { .data_end = (__u32)in->len, .ingress_ifindex = (__u32)ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o,
		.data_in = in->b, .data_size_in = (__u32)in->len,
		.data_out = out->b, .data_size_out = sizeof(out->b),
		.ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
		.repeat = 1);

	if (bpf_prog_test_run_opts(bpf_program__fd(X.xdp->progs.weir_xdp), &o) != 0)
		return -errno;
	out->len = o.data_size_out;
	return (int)o.retval;
}

int expect(const char *what, const struct pkt *in, int ifindex, int verdict,
	   const struct pkt *want, struct pkt *out)
{
	static struct pkt tmp;
	static char why[4096];
	struct pkt *o = out ? out : &tmp;
	int v = xdp_run(in, ifindex, o);

	if (v < 0)
		return check(0, what, "the kernel refused the run: %s", strerror(-v));
	if (v != verdict)
		return check(0, what, "verdict %s, want %s", verdict_name(v), verdict_name(verdict));
	if (!want && verdict == XDP_PASS)
		want = in;      /* what the stack gets must be what arrived */
	if (want && pkt_diff(o, want, why, sizeof(why)))
		return check(0, what, "%s", why);
	if ((v == XDP_TX || v == XDP_REDIRECT) && pkt_sums_ok(o, why, sizeof(why)))
		return check(0, what, "%s", why);
	return check(1, what, "%s", "");
}

int expect_spec(const char *what, const struct pkt_spec *s, int ifindex, int verdict,
		const struct pkt_spec *w)
{
	static struct pkt in, want;

	pkt_build(&in, s);
	if (w)
		pkt_build(&want, w);
	return expect(what, &in, ifindex, verdict, w ? &want : NULL, NULL);
}

/* --- the maps --------------------------------------------------------------------- */

static int fd_of(struct bpf_map *m)
{
	return bpf_map__fd(m);
}

static void update(struct bpf_map *m, const void *k, const void *v)
{
	if (bpf_map_update_elem(fd_of(m), k, v, BPF_ANY) != 0)
		die(__func__, bpf_map__name(m));
}

void svc_put(const char *vip, uint16_t port, int proto, const struct wx_svc *v)
{
	struct wx_svc_key k = {0};

	k.family = (__u8)pkt_addr(k.vip.w, vip);
	k.port = htons(port);
	k.proto = (__u8)proto;
	update(X.xdp->maps.wx_services, &k, v);
}

void real_put(uint32_t idx, const char *addr, uint16_t port, int mode, uint32_t svc_id,
	      uint32_t flags)
{
	struct wx_real r = {0};

	r.family = (__u8)pkt_addr(r.addr.w, addr);
	r.port = htons(port);
	r.mode = (__u8)mode;
	r.svc_id = svc_id;
	r.flags = flags;
	update(X.xdp->maps.wx_reals, &idx, &r);
}

void real_flags(uint32_t idx, uint32_t flags)
{
	struct wx_real r;

	if (bpf_map_lookup_elem(fd_of(X.xdp->maps.wx_reals), &idx, &r) != 0)
		die(__func__, "lookup");
	r.flags = flags;
	update(X.xdp->maps.wx_reals, &idx, &r);
}

void ring_put(uint32_t svc_id, const uint32_t *reals, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		uint32_t k = svc_id * WX_RING + i;

		update(X.xdp->maps.wx_rings, &k, &reals[i]);
	}
}

void config_put(const struct wx_config *c)
{
	uint32_t zero = 0;

	update(X.xdp->maps.wx_config, &zero, c);
}

void config_get(struct wx_config *c)
{
	uint32_t zero = 0;

	if (bpf_map_lookup_elem(fd_of(X.xdp->maps.wx_config), &zero, c) != 0)
		die(__func__, "lookup");
}

/* Per-CPU values come to user space one per possible CPU, each rounded up
 * to 8 bytes. */
static void *percpu(struct bpf_map *m, uint32_t k, size_t size)
{
	static uint8_t buf[512 * 64];

	if ((size_t)X.ncpu * ((size + 7) & ~(size_t)7) > sizeof(buf))
		die(__func__, "too many CPUs");
	if (bpf_map_lookup_elem(fd_of(m), &k, buf) != 0)
		die(__func__, bpf_map__name(m));
	return buf;
}

void cursor_reset(uint32_t svc_id)
{
	uint32_t zero = 0;

	if (bpf_map_update_elem(fd_of(X.xdp->maps.wx_cursor), &svc_id, &zero, BPF_ANY) != 0)
		die(__func__, "update");
}

int64_t active_get(uint32_t real)
{
	int64_t *v = percpu(X.xdp->maps.wx_active, real, sizeof(*v)), sum = 0;

	for (int i = 0; i < X.ncpu; i++)
		sum += v[i];
	return sum;
}

uint64_t global_get(uint32_t which)
{
	uint64_t *v = percpu(X.xdp->maps.wx_global, which, sizeof(*v)), sum = 0;

	for (int i = 0; i < X.ncpu; i++)
		sum += v[i];
	return sum;
}

struct wx_stats stats_get(uint32_t slot)
{
	struct wx_stats *v = percpu(X.xdp->maps.wx_stats, slot, sizeof(*v)), sum = {0};

	for (int i = 0; i < X.ncpu; i++) {
		sum.conns += v[i].conns;
		sum.inpkts += v[i].inpkts;
		sum.outpkts += v[i].outpkts;
		sum.inbytes += v[i].inbytes;
		sum.outbytes += v[i].outbytes;
	}
	return sum;
}

/* Deletes every entry of hash map <m>. Keys are listed first: a hash
 * map's next-key walk starts over once its current key is deleted. */
static void map_clear(struct bpf_map *m, size_t key_size)
{
	size_t n = 0, cap = bpf_map__max_entries(m);
	uint8_t *keys = malloc(cap * key_size);
	void *prev = NULL;

	if (!keys)
		die(__func__, "malloc");
	while (n < cap && bpf_map_get_next_key(fd_of(m), prev, keys + n * key_size) == 0) {
		prev = keys + n * key_size;
		n++;
	}
	for (size_t i = 0; i < n; i++)
		bpf_map_delete_elem(fd_of(m), keys + i * key_size);
	free(keys);
}

void tables_clear(void)
{
	static uint8_t zeros[512 * 8];

	map_clear(X.xdp->maps.wx_flows, sizeof(struct wx_flow_key));
	map_clear(X.xdp->maps.wx_back, sizeof(struct wx_flow_key));
	map_clear(X.xdp->maps.wx_persist, sizeof(struct wx_persist_key));
	for (uint32_t i = 0; i < 1024; i++)
		bpf_map_update_elem(fd_of(X.xdp->maps.wx_active), &i, zeros, BPF_ANY);
}

int back_count(void)
{
	struct wx_flow_key k, next;
	int n = 0;
	void *prev = NULL;

	while (bpf_map_get_next_key(fd_of(X.xdp->maps.wx_back), prev, &next) == 0) {
		k = next;
		prev = &k;
		n++;
	}
	return n;
}

void flow_key(const struct pkt *p, struct wx_flow_key *k)
{
	const uint8_t *ip = p->b + 14, *l4 = p->b + pkt_l4_off(p);

	memset(k, 0, sizeof(*k));
	if (p->b[12] == 0x08) {
		k->family = 4;
		k->proto = ip[9];
		memcpy(k->src.w, ip + 12, 4);
		memcpy(k->dst.w, ip + 16, 4);
	} else {
		k->family = 6;
		k->proto = ip[6];
		memcpy(k->src.w, ip + 8, 16);
		memcpy(k->dst.w, ip + 24, 16);
	}
	memcpy(&k->sport, l4, 2);
	memcpy(&k->dport, l4 + 2, 2);
}

int flow_get(const struct pkt *p, struct wx_flow *f)
{
	struct wx_flow_key k;

	flow_key(p, &k);
	return bpf_map_lookup_elem(fd_of(X.xdp->maps.wx_flows), &k, f);
}

void svc_make(struct svc_fx *sf, uint32_t id, const char *vip, uint16_t port, int proto,
	      uint8_t pick, int mode, const char *const *reals, uint16_t rport, uint32_t n)
{
	struct wx_svc v = { .id = id, .ring_size = n, .pick = pick };

	sf->id = id;
	sf->n = n;
	for (uint32_t i = 0; i < n; i++) {
		sf->real[i] = id * 8 + i;
		real_put(sf->real[i], reals[i], rport, mode, id, WX_REAL_LIVE);
	}
	ring_put(id, sf->real, n);
	cursor_reset(id);
	svc_put(vip, port, proto, &v);
}
