/*
 * wx_route.bpf.h - next hops for weir_xdp.bpf.c: bpf_fib_lookup, its
 * answers kept for a moment, and the frame's way out.
 *
 * Why a cache: measured on the development VM, one bpf_fib_lookup costs
 * about 90 ns for IPv4 and 230 ns for IPv6, more than the rest of the
 * program. Its answer (egress, MACs, route MTU) is kept NH_LIFE_NS for the
 * same destination and ingress: a real server's in a per-CPU array by
 * real index, a client's (NAT replies) in a per-CPU LRU hash. A route or
 * neighbour change is seen within NH_LIFE_NS; a failed lookup is never
 * kept, so the stack, which gets those packets, can resolve the neighbour
 * and the next packet looks again. Per-CPU entries are never read while
 * another CPU writes them. Source-based policy routing is not followed for
 * cached destinations (the source of the first lookup decides).
 */
#ifndef WX_ROUTE_BPF_H
#define WX_ROUTE_BPF_H

#define NH_LIFE_NS      (100 * 1000000ull)
#define NH_CLIENTS      65536

/* One bpf_fib_lookup answer. */
struct wx_nh {
	struct wx_addr dst;   /* the destination it was asked for */
	__u64 stamp;          /* when; 0: never */
	__u32 in_ifindex;     /* the ingress it was asked for (forwarding, policy) */
	__u32 ifindex;        /* egress */
	__u16 mtu;            /* of the route: what fits without fragments */
	__u8 smac[ETH_ALEN];
	__u8 dmac[ETH_ALEN];
	__u16 pad;
};

struct wx_nh_key {
	struct wx_addr addr;
	__u32 in_ifindex;
	__u8 family;
	__u8 pad[3];
};

/* next hops towards real servers, by real index (per CPU) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WX_MAX_REALS);
	__type(key, __u32);
	__type(value, struct wx_nh);
} wx_nh_real SEC(".maps");

/* next hops towards clients, for NAT/FULLNAT replies (per CPU) */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, NH_CLIENTS);
	__type(key, struct wx_nh_key);
	__type(value, struct wx_nh);
} wx_nh_client SEC(".maps");

static __always_inline int addr_eq(const struct wx_addr *a, const struct wx_addr *b)
{
	return a->w[0] == b->w[0] && a->w[1] == b->w[1] && a->w[2] == b->w[2] &&
	       a->w[3] == b->w[3];
}

/* Asks the kernel's FIB for <src> -> <dst> of a <len>-byte packet as if
 * forwarding it from the interface it came in on. */
static __always_inline int fib(struct xdp_md *ctx, struct bpf_fib_lookup *f,
			       const struct wx_pkt *p, const struct wx_addr *src,
			       const struct wx_addr *dst, __u16 len)
{
	__builtin_memset(f, 0, sizeof(*f));
	f->l4_protocol = p->key.proto;
	f->tot_len = len;
	f->ifindex = ctx->ingress_ifindex;
	if (p->key.family == 4) {
		f->family = AF_INET;
		f->tos = p->tos;
		f->ipv4_src = src->w[0];
		f->ipv4_dst = dst->w[0];
	} else {
		f->family = AF_INET6;
		__builtin_memcpy(f->ipv6_src, src->w, 16);
		__builtin_memcpy(f->ipv6_dst, dst->w, 16);
	}
	return bpf_fib_lookup(ctx, f, sizeof(*f), 0);
}

/* Looks the route up into <nh>: first with the largest length, which makes
 * the kernel tell the route's MTU (and stop), then for the neighbour. 0, or
 * the BPF_FIB_LKUP_RET_* that failed. */
static __always_inline int nh_lookup(struct xdp_md *ctx, const struct wx_pkt *p,
				     const struct wx_addr *src, const struct wx_addr *dst,
				     struct wx_nh *nh, __u64 now)
{
	struct bpf_fib_lookup f;
	__u16 mtu = 0xffff;
	int rc;

	rc = fib(ctx, &f, p, src, dst, 0xffff);
	if (rc == BPF_FIB_LKUP_RET_FRAG_NEEDED) {
		mtu = f.mtu_result;
		rc = fib(ctx, &f, p, src, dst, 0);
	}
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return rc;
	nh->dst = *dst;
	nh->stamp = now;
	nh->in_ifindex = ctx->ingress_ifindex;
	nh->ifindex = f.ifindex;
	nh->mtu = mtu;
	__builtin_memcpy(nh->smac, f.smac, ETH_ALEN);
	__builtin_memcpy(nh->dmac, f.dmac, ETH_ALEN);
	nh->pad = 0;
	return 0;
}

static __always_inline int nh_fresh(const struct wx_nh *nh, struct xdp_md *ctx,
				    const struct wx_addr *dst, __u64 now)
{
	return nh->stamp && now - nh->stamp < NH_LIFE_NS &&
	       nh->in_ifindex == ctx->ingress_ifindex && addr_eq(&nh->dst, dst);
}

/* The next hop towards real <idx> at <dst>, into <nh>; 0 or a FIB error. */
static __always_inline int nh_real(struct xdp_md *ctx, const struct wx_pkt *p, __u32 idx,
				   const struct wx_addr *src, const struct wx_addr *dst,
				   struct wx_nh *nh, __u64 now)
{
	struct wx_nh *c = bpf_map_lookup_elem(&wx_nh_real, &idx);
	int rc;

	if (c && nh_fresh(c, ctx, dst, now)) {
		*nh = *c;
		return 0;
	}
	rc = nh_lookup(ctx, p, src, dst, nh, now);
	if (!rc && c)
		*c = *nh;
	return rc;
}

/* The next hop towards client <dst>, into <nh>; 0 or a FIB error. */
static __always_inline int nh_client(struct xdp_md *ctx, const struct wx_pkt *p,
				     const struct wx_addr *src, const struct wx_addr *dst,
				     struct wx_nh *nh, __u64 now)
{
	struct wx_nh_key k = {};
	struct wx_nh *c;
	int rc;

	k.addr = *dst;
	k.in_ifindex = ctx->ingress_ifindex;
	k.family = p->key.family;
	c = bpf_map_lookup_elem(&wx_nh_client, &k);
	if (c && nh_fresh(c, ctx, dst, now)) {
		*nh = *c;
		return 0;
	}
	rc = nh_lookup(ctx, p, src, dst, nh, now);
	if (!rc)
		bpf_map_update_elem(&wx_nh_client, &k, nh, BPF_ANY);
	return rc;
}

/* Sets the Ethernet addresses of next hop <nh> and sends the frame out of
 * its interface: XDP_TX when that is where it came in. */
static __always_inline int xmit(struct xdp_md *ctx, const struct wx_nh *nh)
{
	void *data = pkt_data(ctx), *end = pkt_end(ctx);
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > end)
		return XDP_DROP;
	__builtin_memcpy(eth->h_dest, nh->dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, nh->smac, ETH_ALEN);
	if (nh->ifindex == ctx->ingress_ifindex)
		return XDP_TX;
	return bpf_redirect(nh->ifindex, 0);
}

#endif
