/*
 * wx_maps.bpf.h - the maps of weir_xdp.bpf.c (their layouts and purposes
 * are the contract in weir_xdp.h) and the counting done in them.
 */
#ifndef WX_MAPS_BPF_H
#define WX_MAPS_BPF_H

/* virtual services: VIP, port, protocol -> ring, scheduler kind, policy */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WX_MAX_SERVICES);
	__type(key, struct wx_svc_key);
	__type(value, struct wx_svc);
} wx_services SEC(".maps");

/* real servers by index: address, port, mode, state */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, WX_MAX_REALS);
	__type(key, __u32);
	__type(value, struct wx_real);
} wx_reals SEC(".maps");

/* per-service lookup tables built by the scheduler library: slot -> real */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, WX_MAX_SERVICES * WX_RING);
	__type(key, __u32);
	__type(value, __u32);
} wx_rings SEC(".maps");

/* the connection table, keyed by the packet as the client sent it */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, WX_MAX_FLOWS);
	__type(key, struct wx_flow_key);
	__type(value, struct wx_flow);
} wx_flows SEC(".maps");

/* NAT/FULLNAT replies, keyed by the packet as the real server sends it */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, WX_MAX_FLOWS);
	__type(key, struct wx_flow_key);
	__type(value, struct wx_back);
} wx_back SEC(".maps");

/* persistence templates (-p): client prefix and service -> real */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, WX_MAX_PERSIST);
	__type(key, struct wx_persist_key);
	__type(value, struct wx_persist);
} wx_persist SEC(".maps");

/* packet, byte and connection counters: services, then WX_STATS_REAL + real */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WX_STATS_SIZE);
	__type(key, __u32);
	__type(value, struct wx_stats);
} wx_stats SEC(".maps");

/* flows opened minus flows ended, per real (input of lc, wlc, sed, nq...) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WX_MAX_REALS);
	__type(key, __u32);
	__type(value, __s64);
} wx_active SEC(".maps");

/* the next ring slot of a WX_PICK_SEQ service; one for all CPUs, so
 * that rr is IPVS's rr however the NIC spreads connections over CPUs */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, WX_MAX_SERVICES);
	__type(key, __u32);
	__type(value, __u32);
} wx_cursor SEC(".maps");

/* director-wide settings: local addresses, FULLNAT ports, timeouts */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct wx_config);
} wx_config SEC(".maps");

/* what the program did (enum wx_global), for operators */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WX_G_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} wx_global SEC(".maps");

/* The source addresses NAT/FULLNAT reals answer from: a byte per hash of
 * the address, set by every packet weir sends to such a real, never
 * cleared. A packet whose source's byte is 0 is no reply: it skips the
 * wx_back lookup, which most packets (the clients') would only miss. */
#define NAT_SRC_SLOTS   (1u << 16)
struct wx_nat_srcs {
	__u8 seen[NAT_SRC_SLOTS];
};

/* which source addresses may be NAT/FULLNAT replies (see above) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct wx_nat_srcs);
} wx_nat_srcs SEC(".maps");

/* --- counters ------------------------------------------------------------- */

static __always_inline void count(__u32 what)
{
	__u64 *c = bpf_map_lookup_elem(&wx_global, &what);

	if (c)
		*c += 1;
}

/* Counts the verdict (RX = PASS + FWD + DROP) and returns it. */
static __always_inline int verdict(int act)
{
	if (act == XDP_PASS)
		count(WX_G_PASS);
	else if (act == XDP_TX || act == XDP_REDIRECT)
		count(WX_G_FWD);
	else
		count(WX_G_DROP);
	return act;
}

static __always_inline struct wx_stats *stats(__u32 slot)
{
	return bpf_map_lookup_elem(&wx_stats, &slot);
}

/* <in>: client -> real; else real -> client. <svc> and <real> are in range. */
static __always_inline void stats_pkt(__u32 svc, __u32 real, __u32 bytes, int in)
{
	struct wx_stats *s[2] = { stats(svc), stats(WX_STATS_REAL + real) };

#pragma clang loop unroll(full)
	for (int i = 0; i < 2; i++) {
		if (!s[i])
			continue;
		if (in) {
			s[i]->inpkts++;
			s[i]->inbytes += bytes;
		} else {
			s[i]->outpkts++;
			s[i]->outbytes += bytes;
		}
	}
}

static __always_inline void stats_conn(__u32 svc, __u32 real)
{
	struct wx_stats *s = stats(svc);

	if (s)
		s->conns++;
	s = stats(WX_STATS_REAL + real);
	if (s)
		s->conns++;
	count(WX_G_NEW);
}

static __always_inline void active_add(__u32 real, __s64 n)
{
	__s64 *a = bpf_map_lookup_elem(&wx_active, &real);

	if (a)
		*a += n;
}

static __always_inline __u8 *nat_src(const struct wx_addr *a)
{
	struct wx_nat_srcs *s;
	__u32 zero = 0;

	s = bpf_map_lookup_elem(&wx_nat_srcs, &zero);
	if (!s)
		return NULL;
	/* a multiplicative hash is plenty: only a handful of bytes are set */
	return &s->seen[((a->w[0] ^ a->w[1] ^ a->w[2] ^ a->w[3]) * 0x9e3779b1u) >> 16];
}

/* Real <a> answers through weir: its packets may be replies. Done for
 * every client packet, not once per flow, so that reply entries kept
 * across a reload of the program (pinned maps) find their mark again. */
static __always_inline void nat_src_mark(const struct wx_addr *a)
{
	__u8 *seen = nat_src(a);

	if (seen && !*seen)
		*seen = 1;
}

/* Can a packet from <a> be a NAT/FULLNAT reply? */
static __always_inline int maybe_reply(const struct wx_addr *a)
{
	__u8 *seen = nat_src(a);

	return !seen || *seen;
}

#endif
