/*
 * weir_xdp.bpf.c - the LVS packet modes in XDP: direct routing (DR), IP
 * tunnel (TUN), NAT and FULLNAT; IPv4 and IPv6, TCP and UDP. This file is
 * the policy: which real server, which state, which mode. The maps'
 * layouts are the contract in weir_xdp.h, the maps themselves and their
 * counters are in wx_maps.bpf.h, what is done to packet bytes in
 * wx_packet.bpf.h, next hops in wx_route.bpf.h.
 *
 * One packet's way through weir_xdp():
 *   parse     untagged Ethernet, IPv4 without options or fragments, IPv6
 *             with TCP/UDP right after its header; anything else: PASS
 *   dns       UDP to a DNS service (wx_dns_svcs): answered here or passed
 *             to weir's socket (wx_dns.bpf.h)
 *   reply     wx_back: a NAT/FULLNAT real server's answer goes back to the
 *             client with the VIP as its source
 *   service   wx_services by VIP:port, then VIP:0 (persistent any-port)
 *   flow      wx_flows: a live connection keeps its real server, whatever
 *             the rings say now
 *   schedule  a new flow: persistence template, else the service's ring
 *   forward   by the real server's mode, next hop from bpf_fib_lookup
 *
 * Concurrency: the per-CPU maps need no care. Flow, reply and template
 * entries are shared and written without locks: two CPUs on one flow at
 * once can both count its end in wx_active, and two new FULLNAT flows at
 * once can be given the same local port (replies then reach the later
 * client only). A NIC's RSS sends a connection's packets to one CPU, and
 * two clients collide only if they hash to the same port too: rare.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "weir_xdp.h"
#include "wx_hash.h"
#include "wx_maps.bpf.h"
#include "wx_packet.bpf.h"
#include "wx_route.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL"; /* bpf_fib_lookup is GPL-only */

#define PICK_TRIES      8       /* ring slots tried past an empty or OUT one */
#define PORT_TRIES      16      /* FULLNAT local ports tried per new flow */
#define NS_PER_MS       1000000ull

#include "wx_dns.bpf.h"       /* after PICK_TRIES, which it shares */

enum { FLOW_NONE, FLOW_USE, FLOW_DROP };

/* --- reals and ages ------------------------------------------------------- */

static __always_inline const struct wx_real *real_get(__u32 idx)
{
	if (idx >= WX_MAX_REALS)
		return NULL;
	return bpf_map_lookup_elem(&wx_reals, &idx);
}

/* May real <idx> take a new flow of a <family> packet? */
static __always_inline int real_usable(__u32 idx, __u8 family)
{
	const struct wx_real *r = real_get(idx);

	return r && (r->flags & (WX_REAL_LIVE | WX_REAL_OUT)) == WX_REAL_LIVE &&
	       r->family == family;
}

/* The real's port for a packet to <vport>: NAT reals may listen elsewhere. */
static __always_inline __u16 real_port(const struct wx_real *r, __u16 vport)
{
	return r->port ? r->port : vport;
}

/* Was <seen> less than <life> ns before <now>? Another CPU may have
 * written a <seen> later than this packet's <now>: that is young too. */
static __always_inline int young(__u64 now, __u64 seen, __u64 life)
{
	return (__s64)(now - seen) < (__s64)life;
}

static __always_inline __u64 life_ns(const struct wx_config *cfg, __u8 state)
{
	__u32 ms;

	switch (state) {
	case WX_ST_SYN:
		ms = cfg->tcp_syn_ms ? cfg->tcp_syn_ms : WX_DEF_SYN_MS;
		break;
	case WX_ST_EST:
		ms = cfg->tcp_est_ms ? cfg->tcp_est_ms : WX_DEF_EST_MS;
		break;
	case WX_ST_FIN:
	case WX_ST_CLOSE:
		ms = cfg->tcp_fin_ms ? cfg->tcp_fin_ms : WX_DEF_FIN_MS;
		break;
	default:
		ms = cfg->udp_ms ? cfg->udp_ms : WX_DEF_UDP_MS;
	}
	return ms * NS_PER_MS;
}

/* --- the connection table --------------------------------------------------- */

/* Does a flow in <state> count in wx_active? */
static __always_inline int open_state(__u8 state)
{
	return state == WX_ST_SYN || state == WX_ST_EST || state == WX_ST_UDP;
}

/* Moves <f>'s TCP state by one of its packet's <flags>. The handshake
 * (SYN -> EST) is the client's; FIN and RST count from either side. The
 * first FIN or RST ends the flow for wx_active; its entry stays, with the
 * shorter life, to carry the last packets. */
static __always_inline void flow_track(struct wx_flow *f, __u8 flags, int from_client)
{
	__u8 st = f->state;

	if (st == WX_ST_UDP)
		return;
	if (flags & TCP_RST)
		st = WX_ST_CLOSE;
	else if (flags & TCP_FIN)
		st = st == WX_ST_CLOSE ? st : WX_ST_FIN;
	else if (from_client && st == WX_ST_SYN && (flags & (TCP_SYN | TCP_ACK)) == TCP_ACK)
		st = WX_ST_EST;
	if (st == f->state)
		return;
	if (open_state(f->state) && !open_state(st))
		active_add(f->real, -1);
	f->state = st;
}

/* Ends <f> for wx_active once, whatever happens to its entry next. */
static __always_inline void flow_end(struct wx_flow *f)
{
	if (open_state(f->state))
		active_add(f->real, -1);
	f->state = WX_ST_CLOSE;
}

static __always_inline int flow_alive(const struct wx_flow *f, const struct wx_config *cfg,
				      __u64 now)
{
	return young(now, f->seen_ns, life_ns(cfg, f->state));
}

/* A client SYN on the 5-tuple of a closing flow is a new connection (port
 * reuse from TIME_WAIT): schedule it afresh. */
static __always_inline int flow_reopened(const struct wx_flow *f, const struct wx_pkt *p)
{
	return (p->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN &&
	       (f->state == WX_ST_FIN || f->state == WX_ST_CLOSE);
}

/* The wx_back key of a NAT/FULLNAT flow: its replies as <r> sends them. */
static __always_inline void back_key(struct wx_flow_key *k, const struct wx_pkt *p,
				     const struct wx_real *r, const struct wx_flow *f)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->src = r->addr;
	k->sport = real_port(r, p->key.dport);
	if (r->mode == WX_FULLNAT) {
		k->dst = f->laddr;
		k->dport = f->lport;
	} else {
		k->dst = p->key.src;
		k->dport = p->key.sport;
	}
	k->proto = p->key.proto;
	k->family = p->key.family;
}

static __always_inline void flow_forget(const struct wx_pkt *p, const struct wx_real *r,
					const struct wx_flow *f)
{
	struct wx_flow_key k;

	if (r->mode == WX_NAT || r->mode == WX_FULLNAT) {
		back_key(&k, p, r, f);
		bpf_map_delete_elem(&wx_back, &k);
	}
	bpf_map_delete_elem(&wx_flows, &p->key);
}

/* The template key of <p>'s client: its address cut to the prefix. */
static __always_inline void persist_key(struct wx_persist_key *k, const struct wx_pkt *p,
					const struct wx_svc *svc)
{
	__u32 bits = svc->persist_prefix;

	__builtin_memset(k, 0, sizeof(*k));
	k->svc_id = svc->id;
#pragma clang loop unroll(full)
	for (int i = 0; i < 4; i++) {
		__u32 b = bits > 32 ? 32 : bits;

		k->src.w[i] = b ? p->key.src.w[i] & bpf_htonl(~0u << (32 - b)) : 0;
		bits -= b;
	}
}

/* A packet of a persistent service's flow keeps its template alive, as
 * IPVS keeps a template while it controls connections. */
static __always_inline void persist_touch(const struct wx_pkt *p, const struct wx_svc *svc,
					  __u32 real, __u64 now)
{
	struct wx_persist_key k;
	struct wx_persist *t;

	persist_key(&k, p, svc);
	t = bpf_map_lookup_elem(&wx_persist, &k);
	if (t && t->real == real)
		t->seen_ns = now;
}

/* Looks the packet's flow up. FLOW_USE: <out> is the flow to follow (its
 * entry already moved on by this packet); FLOW_DROP: the flow's real is
 * gone and the service resets such flows; FLOW_NONE: schedule anew. */
static __always_inline int flow_existing(const struct wx_pkt *p, const struct wx_svc *svc,
					 const struct wx_config *cfg, __u64 now,
					 struct wx_flow *out)
{
	struct wx_flow *f = bpf_map_lookup_elem(&wx_flows, &p->key);
	const struct wx_real *r;

	if (!f)
		return FLOW_NONE;
	r = real_get(f->real);
	if (!r || !(r->flags & WX_REAL_LIVE) || !flow_alive(f, cfg, now) ||
	    flow_reopened(f, p)) {
		flow_end(f);
		return FLOW_NONE;
	}
	if ((r->flags & WX_REAL_OUT) && (svc->flags & WX_SVC_RESET_GONE)) {
		flow_end(f);
		flow_forget(p, r, f);
		return FLOW_DROP;
	}
	flow_track(f, p->tcp_flags, 1);
	/* the coarse clock moves once a tick: no need to dirty the line more */
	if (f->seen_ns != now)
		f->seen_ns = now;
	if (svc->persist_ms)
		persist_touch(p, svc, f->real, now);
	*out = *f;
	return FLOW_USE;
}

/* --- scheduling ------------------------------------------------------------- */

/* Picks a real from the service's ring: the slot its scheduler kind
 * names, or the first usable one of the next PICK_TRIES - 1 (a slot is
 * empty, or its real OUT, between two table rebuilds). WX_NONE if none. */
static __always_inline __u32 pick(const struct wx_pkt *p, const struct wx_svc *svc)
{
	__u32 size = svc->ring_size, base = svc->id * WX_RING, slot, *cursor = NULL;

	if (size == 0)
		return WX_NONE;
	if (size > WX_RING)
		size = WX_RING;
	switch (svc->pick) {
	case WX_PICK_SEQ:
		cursor = bpf_map_lookup_elem(&wx_cursor, &svc->id);
		if (!cursor)
			return WX_NONE;
		slot = __sync_fetch_and_add(cursor, 1) % size;
		break;
	case WX_PICK_SRC:
		slot = wx_hash_addr(p->key.src.w) % size;
		break;
	case WX_PICK_SRC_PORT:
		slot = wx_hash_addr_port(p->key.src.w, p->key.sport) % size;
		break;
	case WX_PICK_DST:
		slot = wx_hash_addr(p->key.dst.w) % size;
		break;
	default:
		return WX_NONE;
	}
	for (__u32 i = 0; i < PICK_TRIES; i++) {
		__u32 k = base + slot, *idx = bpf_map_lookup_elem(&wx_rings, &k);

		if (idx && real_usable(*idx, p->key.family)) {
			/* the sequence goes on after the slot used, as rr
			 * goes on after the server it skipped to */
			if (cursor && i)
				__sync_fetch_and_add(cursor, i);
			return *idx;
		}
		slot = slot + 1 < size ? slot + 1 : 0;
	}
	return WX_NONE;
}

/* Persistence first (a young template whose real is usable), else pick and
 * (re)write the template. */
static __always_inline __u32 schedule(const struct wx_pkt *p, const struct wx_svc *svc,
				      __u64 now)
{
	struct wx_persist_key k;
	struct wx_persist *t, nt = {};
	__u32 idx;

	if (!svc->persist_ms)
		return pick(p, svc);
	persist_key(&k, p, svc);
	t = bpf_map_lookup_elem(&wx_persist, &k);
	if (t && young(now, t->seen_ns, svc->persist_ms * NS_PER_MS) &&
	    real_usable(t->real, p->key.family)) {
		t->seen_ns = now;
		return t->real;
	}
	idx = pick(p, svc);
	if (idx != WX_NONE) {
		nt.real = idx;
		nt.seen_ns = now;
		bpf_map_update_elem(&wx_persist, &k, &nt, BPF_ANY);
	}
	return idx;
}

/* A FULLNAT reply entry may be taken over when the flow it was made for
 * is gone, expired or moved to another port or real: LRU maps keep dead
 * entries until they fill, so "exists" alone would use the ports up. */
static __always_inline int back_stale(const struct wx_back *b, const struct wx_flow_key *k,
				      const struct wx_config *cfg, __u64 now)
{
	struct wx_flow_key fk = {};
	struct wx_flow *f;

	fk.src = b->dst;
	fk.dst = b->src;
	fk.sport = b->dport;
	fk.dport = b->sport;
	fk.proto = k->proto;
	fk.family = k->family;
	f = bpf_map_lookup_elem(&wx_flows, &fk);
	return !f || f->lport != k->dport || f->real != b->real || !flow_alive(f, cfg, now);
}

/* A hash of the client's connection: where its FULLNAT port search starts. */
static __always_inline __u32 flow_hash(const struct wx_pkt *p)
{
	__u32 h = wx_hash_addr_port(p->key.src.w, p->key.sport);

	h = wx_hash_step(h, p->key.dst.w[0] ^ p->key.dst.w[3]);
	h = wx_hash_step(h, p->key.dport);
	return wx_hash_final(h, 8);
}

/* Takes a free local port for a FULLNAT flow: the client's 5-tuple hashed
 * into [fullnat_lo, fullnat_hi], then the next ports. <k> is the reply key
 * with all but dport set; <b> the reply entry. 0, or -1 if none is free. */
static __always_inline int fullnat_port(const struct wx_pkt *p, const struct wx_config *cfg,
					struct wx_flow_key *k, const struct wx_back *b, __u64 now)
{
	__u32 lo = cfg->fullnat_lo, hi = cfg->fullnat_hi, span, h;

	if (lo == 0 || hi < lo)
		return -1;
	span = hi - lo + 1;
	h = flow_hash(p);
	for (int i = 0; i < PORT_TRIES; i++) {
		struct wx_back *old;

		k->dport = bpf_htons((__u16)(lo + (h + i) % span));
		if (!bpf_map_update_elem(&wx_back, k, b, BPF_NOEXIST))
			return 0;
		old = bpf_map_lookup_elem(&wx_back, k);
		if (old && back_stale(old, k, cfg, now) &&
		    !bpf_map_update_elem(&wx_back, k, b, BPF_EXIST))
			return 0;
	}
	return -1;
}

/* Inserts the reply entry of a new NAT/FULLNAT flow <f> to <r>; for
 * FULLNAT also chooses its local address and port (into <f>). */
static __always_inline int back_insert(const struct wx_pkt *p, const struct wx_config *cfg,
				       const struct wx_real *r, struct wx_flow *f, __u64 now)
{
	struct wx_flow_key k;
	struct wx_back b = {};

	b.src = p->key.dst;
	b.sport = p->key.dport;
	b.dst = p->key.src;
	b.dport = p->key.sport;
	b.real = f->real;
	b.svc_id = f->svc_id;
	b.seen_ns = now;
	back_key(&k, p, r, f);
	if (r->mode == WX_NAT)
		return bpf_map_update_elem(&wx_back, &k, &b, BPF_ANY) ? -1 : 0;

	k.dst = p->key.family == 4 ? cfg->local4 : cfg->local6;
	if (!k.dst.w[0] && !k.dst.w[1] && !k.dst.w[2] && !k.dst.w[3])
		return -1;
	if (fullnat_port(p, cfg, &k, &b, now))
		return -1;
	f->laddr = k.dst;
	f->lport = k.dport;
	return 0;
}

/* Schedules a new flow into <f> and enters it in the tables; -1 (drop)
 * if no real or, FULLNAT, no local port is free. */
static __always_inline int flow_new(const struct wx_pkt *p, const struct wx_svc *svc,
				    const struct wx_config *cfg, __u64 now, struct wx_flow *f)
{
	const struct wx_real *r;
	__u32 idx = schedule(p, svc, now);

	r = real_get(idx);
	if (!r) {
		count(WX_G_NO_REAL);
		return -1;
	}
	__builtin_memset(f, 0, sizeof(*f));
	f->real = idx;
	f->svc_id = svc->id;
	f->seen_ns = now;
	if (p->key.proto == IPPROTO_UDP)
		f->state = WX_ST_UDP;
	else
		f->state = p->tcp_flags & TCP_SYN ? WX_ST_SYN : WX_ST_EST;
	if ((r->mode == WX_NAT || r->mode == WX_FULLNAT) && back_insert(p, cfg, r, f, now)) {
		count(WX_G_PORTS_FULL);
		return -1;
	}
	stats_conn(svc->id, idx);
	active_add(idx, 1);
	flow_track(f, p->tcp_flags, 1); /* a first packet may carry FIN or RST */
	bpf_map_update_elem(&wx_flows, &p->key, f, BPF_ANY);
	return 0;
}

/* --- forwarding -------------------------------------------------------------- */

/* No route or no neighbour (or a DR/NAT packet bigger than the route
 * takes): the stack will know better, and resolve the neighbour. */
static __always_inline int route_failed(void)
{
	count(WX_G_FIB_FAIL);
	return XDP_PASS;
}

/* DR: the same IP packet to the real's MAC. */
static __always_inline int fwd_dr(struct xdp_md *ctx, const struct wx_pkt *p,
				  const struct wx_real *r, __u32 idx, __u64 now)
{
	struct wx_nh nh;

	if (nh_real(ctx, p, idx, &p->key.src, &r->addr, &nh, now) || p->l3_len > nh.mtu)
		return route_failed();
	return xmit(ctx, &nh);
}

/* TUN, the packet too big for the tunnel: tell the client the MTU it has
 * (an IPv4 packet without DF may be fragmented: the stack's job). */
static __always_inline int fwd_too_big(struct xdp_md *ctx, const struct wx_pkt *p, __u16 mtu)
{
	int err;

	if (p->key.family == 4) {
		if (!p->df)
			return XDP_PASS;
		err = too_big4(ctx, mtu - sizeof(struct iphdr));
	} else {
		err = too_big6(ctx, mtu - sizeof(struct ipv6hdr));
	}
	if (err)
		return XDP_DROP;
	count(WX_G_TOO_BIG);
	return XDP_TX;
}

/* TUN: the packet inside a new IP header local -> real. */
static __always_inline int fwd_tun(struct xdp_md *ctx, const struct wx_pkt *p,
				   const struct wx_real *r, __u32 idx,
				   const struct wx_config *cfg, __u64 now)
{
	const struct wx_addr *local = p->key.family == 4 ? &cfg->local4 : &cfg->local6;
	__u32 outer = p->key.family == 4 ? sizeof(struct iphdr) : sizeof(struct ipv6hdr);
	struct wx_nh nh;
	int err;

	if (nh_real(ctx, p, idx, local, &r->addr, &nh, now))
		return route_failed();
	if (p->l3_len + outer > nh.mtu)
		return fwd_too_big(ctx, p, nh.mtu);
	if (p->key.family == 4)
		err = encap4(ctx, p, local->w[0], r->addr.w[0]);
	else
		err = encap6(ctx, p, local->w, r->addr.w);
	if (err)
		return XDP_DROP;
	return xmit(ctx, &nh);
}

/* NAT: destination -> the real; FULLNAT: and source -> the local address
 * and port of flow <f>. Routed first, so a packet the stack gets back is
 * untouched. */
static __always_inline int fwd_nat(struct xdp_md *ctx, const struct wx_pkt *p,
				   const struct wx_real *r, const struct wx_flow *f, __u64 now)
{
	struct wx_nat n = {};
	struct wx_nh nh;

	n.set_dst = 1;
	n.daddr = r->addr;
	n.dport = real_port(r, p->key.dport);
	if (r->mode == WX_FULLNAT) {
		n.set_src = 1;
		n.saddr = f->laddr;
		n.sport = f->lport;
	} else {
		n.saddr = p->key.src;
		n.sport = p->key.sport;
	}
	if (nh_real(ctx, p, f->real, &n.saddr, &n.daddr, &nh, now) || p->l3_len > nh.mtu)
		return route_failed();
	nat_src_mark(&r->addr);
	if (nat_apply(ctx, p, &n))
		return XDP_DROP;
	return xmit(ctx, &nh);
}

/* --- the two directions --------------------------------------------------------- */

/* A reply of a NAT/FULLNAT real server: source back to the VIP and, for
 * FULLNAT, destination back to the client; its flow lives on. */
static __always_inline int reply(struct xdp_md *ctx, const struct wx_pkt *p, struct wx_back *b)
{
	struct wx_flow_key fk = {};
	struct wx_nat n = {};
	struct wx_flow *f;
	struct wx_nh nh;
	__u64 now = bpf_ktime_get_coarse_ns();

	n.set_src = 1;
	n.saddr = b->src;
	n.sport = b->sport;
	n.daddr = b->dst;
	n.dport = b->dport;
	n.set_dst = b->dport != p->key.dport || b->dst.w[0] != p->key.dst.w[0] ||
		    b->dst.w[1] != p->key.dst.w[1] || b->dst.w[2] != p->key.dst.w[2] ||
		    b->dst.w[3] != p->key.dst.w[3];
	if (b->seen_ns != now)
		b->seen_ns = now;
	fk.src = b->dst;
	fk.dst = b->src;
	fk.sport = b->dport;
	fk.dport = b->sport;
	fk.proto = p->key.proto;
	fk.family = p->key.family;
	f = bpf_map_lookup_elem(&wx_flows, &fk);
	if (f && f->real == b->real) {
		flow_track(f, p->tcp_flags, 0);
		if (f->seen_ns != now)
			f->seen_ns = now;
	}
	if (b->svc_id < WX_MAX_SERVICES && b->real < WX_MAX_REALS)
		stats_pkt(b->svc_id, b->real, p->l3_len, 0);
	if (nh_client(ctx, p, &n.saddr, &n.daddr, &nh, now) || p->l3_len > nh.mtu)
		return route_failed();
	if (nat_apply(ctx, p, &n))
		return XDP_DROP;
	return xmit(ctx, &nh);
}

static __always_inline const struct wx_svc *service(const struct wx_pkt *p)
{
	struct wx_svc_key k = {};
	const struct wx_svc *svc;

	k.vip = p->key.dst;
	k.port = p->key.dport;
	k.proto = p->key.proto;
	k.family = p->key.family;
	svc = bpf_map_lookup_elem(&wx_services, &k);
	if (svc)
		return svc;
	k.port = 0;
	return bpf_map_lookup_elem(&wx_services, &k);
}

/* A client's packet to a virtual service (or not: PASS). */
static __always_inline int request(struct xdp_md *ctx, const struct wx_pkt *p)
{
	const struct wx_config *cfg;
	const struct wx_svc *svc;
	const struct wx_real *r;
	struct wx_flow f;
	__u32 zero = 0;
	__u64 now;
	int rc;

	svc = service(p);
	if (!svc || svc->id >= WX_MAX_SERVICES)
		return XDP_PASS;
	cfg = bpf_map_lookup_elem(&wx_config, &zero);
	if (!cfg)
		return XDP_PASS;
	now = bpf_ktime_get_coarse_ns();
	rc = flow_existing(p, svc, cfg, now, &f);
	if (rc == FLOW_DROP)
		return XDP_DROP;
	if (rc == FLOW_NONE && flow_new(p, svc, cfg, now, &f))
		return XDP_DROP;
	r = real_get(f.real);
	if (!r)
		return XDP_DROP;
	stats_pkt(svc->id, f.real, p->l3_len, 1);
	switch (r->mode) {
	case WX_DR:
		return fwd_dr(ctx, p, r, f.real, now);
	case WX_TUN:
		return fwd_tun(ctx, p, r, f.real, cfg, now);
	case WX_NAT:
	case WX_FULLNAT:
		return fwd_nat(ctx, p, r, &f, now);
	}
	return XDP_DROP;
}

SEC("xdp")
int weir_xdp(struct xdp_md *ctx)
{
	struct wx_back *b;
	struct wx_pkt p;

	count(WX_G_RX);
	if (parse(ctx, &p))
		return verdict(XDP_PASS);
	if (p.key.proto == IPPROTO_UDP) {
		const struct wx_dns_svc *ds = dns_service(&p);

		if (ds)
			return verdict(dns_query(ctx, &p, ds));
	}
	/* replies first: a FULLNAT reply to a local address that is also a
	 * persistent VIP must not be taken for a new client */
	if (maybe_reply(&p.key.src)) {
		b = bpf_map_lookup_elem(&wx_back, &p.key);
		if (b)
			return verdict(reply(ctx, &p, b));
	}
	return verdict(request(ctx, &p));
}
