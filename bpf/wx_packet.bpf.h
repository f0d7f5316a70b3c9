/*
 * wx_packet.bpf.h - what weir_xdp.bpf.c does to packet bytes: parse,
 * rewrite addresses and ports with incremental checksums, encapsulate,
 * answer "too big". BPF side only; the policy (which real, which mode)
 * lives in weir_xdp.bpf.c, next hops and Ethernet addresses in
 * wx_route.bpf.h.
 *
 * Offsets: weir takes only untagged Ethernet, IPv4 without options and
 * IPv6 with TCP/UDP directly after its header, so every header sits at a
 * fixed offset (L3 at 14, L4 at 34 or 54). Every access re-derives its
 * pointer from ctx and checks it against data_end: the verifier wants it,
 * and after bpf_xdp_adjust_head/tail old pointers are invalid anyway.
 */
#ifndef WX_PACKET_BPF_H
#define WX_PACKET_BPF_H

#define ETH_HLEN        14
#define ETH_ALEN        6
#define ETH_P_IP        0x0800
#define ETH_P_IPV6      0x86DD
#define AF_INET         2
#define AF_INET6        10
#define IP_DF           0x4000
#define IP_MF           0x2000
#define IP_OFFSET       0x1fff
#define TCP_FIN         0x01
#define TCP_SYN         0x02
#define TCP_RST         0x04
#define TCP_ACK         0x10
#define L4_OFF4         (ETH_HLEN + sizeof(struct iphdr))
#define L4_OFF6         (ETH_HLEN + sizeof(struct ipv6hdr))
#define ICMP_DATA       8     /* bytes of the offending packet's payload quoted back */
#define IPPROTO_ICMPV6  58    /* a macro in the uapi headers, so not in vmlinux.h */

/* What the parser keeps of a packet: its flow key as received and the few
 * header fields the modes need later. */
struct wx_pkt {
	struct wx_flow_key key;
	__u32 l3_len;         /* IP header + payload: what the counters count */
	__u8 tcp_flags;       /* 0 for UDP */
	__u8 tos;             /* IPv4 TOS, copied to a TUN outer header */
	__u8 df;              /* IPv4 DF set: too big means ICMP, not fragments */
	__u8 pad;
};

static __always_inline void *pkt_data(struct xdp_md *ctx)
{
	return (void *)(long)ctx->data;
}

static __always_inline void *pkt_end(struct xdp_md *ctx)
{
	return (void *)(long)ctx->data_end;
}

/* --- parsing --------------------------------------------------------------- */

/* Reads the ports and flags of the L4 header at <l4>, of <len> bytes by the
 * IP header. A header cut short or lying about its length is not ours. */
static __always_inline int parse_l4(void *l4, void *end, __u32 len, struct wx_pkt *p)
{
	if (p->key.proto == IPPROTO_TCP) {
		struct tcphdr *th = l4;

		if ((void *)(th + 1) > end || len < sizeof(*th))
			return -1;
		if (th->doff < 5 || th->doff * 4u > len)
			return -1;
		p->key.sport = th->source;
		p->key.dport = th->dest;
		p->tcp_flags = ((__u8 *)th)[13];
		return 0;
	}
	if (p->key.proto == IPPROTO_UDP) {
		struct udphdr *uh = l4;
		__u32 ulen;

		if ((void *)(uh + 1) > end || len < sizeof(*uh))
			return -1;
		ulen = bpf_ntohs(uh->len);
		if (ulen < sizeof(*uh) || ulen > len)
			return -1;
		p->key.sport = uh->source;
		p->key.dport = uh->dest;
		return 0;
	}
	return -1;
}

static __always_inline int parse4(void *data, void *end, struct wx_pkt *p)
{
	struct iphdr *ip = data + ETH_HLEN;
	__u32 len;

	if ((void *)(ip + 1) > end)
		return -1;
	/* options would move L4 (and IPVS passes them on too); fragments
	 * after the first have no ports, and the first alone is not a flow */
	if (ip->version != 4 || ip->ihl != 5)
		return -1;
	if (ip->frag_off & bpf_htons(IP_MF | IP_OFFSET))
		return -1;
	len = bpf_ntohs(ip->tot_len);
	if (len < sizeof(*ip) || (void *)ip + len > end)
		return -1;
	p->l3_len = len;
	p->tos = ip->tos;
	p->df = !!(ip->frag_off & bpf_htons(IP_DF));
	p->key.family = 4;
	p->key.proto = ip->protocol;
	p->key.src.w[0] = ip->saddr;
	p->key.dst.w[0] = ip->daddr;
	return parse_l4(data + L4_OFF4, end, len - sizeof(*ip), p);
}

static __always_inline int parse6(void *data, void *end, struct wx_pkt *p)
{
	struct ipv6hdr *ip6 = data + ETH_HLEN;
	__u32 plen;

	if ((void *)(ip6 + 1) > end)
		return -1;
	if (ip6->version != 6)
		return -1;
	/* extension headers (fragments, routing, ...) are the stack's */
	plen = bpf_ntohs(ip6->payload_len);
	if ((void *)(ip6 + 1) + plen > end)
		return -1;
	p->l3_len = plen + sizeof(*ip6);
	p->key.family = 6;
	p->key.proto = ip6->nexthdr;
	__builtin_memcpy(p->key.src.w, ip6->saddr.in6_u.u6_addr32, 16);
	__builtin_memcpy(p->key.dst.w, ip6->daddr.in6_u.u6_addr32, 16);
	return parse_l4(data + L4_OFF6, end, plen, p);
}

/* Fills <p> from the packet; 0 if it is IPv4/IPv6 TCP/UDP that weir may
 * handle, -1 if it belongs to the stack (anything else, malformed too). */
static __always_inline int parse(struct xdp_md *ctx, struct wx_pkt *p)
{
	void *data = pkt_data(ctx), *end = pkt_end(ctx);
	struct ethhdr *eth = data;

	__builtin_memset(p, 0, sizeof(*p));
	if ((void *)(eth + 1) > end)
		return -1;
	/* VLAN tags: the stack's too (weir attaches where they are gone) */
	if (eth->h_proto == bpf_htons(ETH_P_IP))
		return parse4(data, end, p);
	if (eth->h_proto == bpf_htons(ETH_P_IPV6))
		return parse6(data, end, p);
	return -1;
}

/* --- checksums (RFC 1071, 1624) --------------------------------------------
 * A ones' complement sum does not care about byte order as long as every
 * word is added the way it lies in memory, so nothing here swaps bytes. */

static __always_inline __u16 csum_fold(__u64 s)
{
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)s;
}

/* What replacing the 32-bit word <from> by <to> adds to a sum: ~m + m'. */
static __always_inline __u64 csum_delta32(__u32 from, __u32 to)
{
	return (__u64)(__u32)~from + to;
}

static __always_inline __u64 csum_delta16(__u16 from, __u16 to)
{
	return (__u64)(__u16)~from + to;
}

/* RFC 1624 eqn. 3: HC' = ~(~HC + sum of the deltas). */
static __always_inline __u16 csum_update(__u16 check, __u64 delta)
{
	return ~csum_fold((__u64)(__u16)~check + delta);
}

/* A from-scratch IPv4 header checksum; the caller checked ip + 1 <= end. */
static __always_inline __u16 csum_ip4(struct iphdr *ip)
{
	__u16 *w = (__u16 *)ip;
	__u64 s = 0;

	ip->check = 0;
#pragma clang loop unroll(full)
	for (int i = 0; i < (int)(sizeof(*ip) / 2); i++)
		s += w[i];
	return ~csum_fold(s);
}

/* --- rewriting addresses and ports (NAT, FULLNAT, their replies) ------------ */

/* New addresses and ports for a packet; <set_src>/<set_dst> say which
 * halves change (the other is left as it is). */
struct wx_nat {
	struct wx_addr saddr, daddr;
	__u16 sport, dport;
	__u8 set_src, set_dst;
};

/* Rewrites the ports and fixes the L4 checksum, <d> being what the
 * addresses changed in the pseudo-header. An IPv4 UDP checksum of 0 means
 * "none" and stays 0; a computed 0 is sent as 0xffff (RFC 768). */
static __always_inline int nat_l4(void *l4, void *end, __u8 proto, __u64 d,
				  const struct wx_nat *n, int v6)
{
	if (proto == IPPROTO_TCP) {
		struct tcphdr *th = l4;

		if ((void *)(th + 1) > end)
			return -1;
		if (n->set_src) {
			d += csum_delta16(th->source, n->sport);
			th->source = n->sport;
		}
		if (n->set_dst) {
			d += csum_delta16(th->dest, n->dport);
			th->dest = n->dport;
		}
		th->check = csum_update(th->check, d);
	} else {
		struct udphdr *uh = l4;
		__u16 c;

		if ((void *)(uh + 1) > end)
			return -1;
		if (n->set_src) {
			d += csum_delta16(uh->source, n->sport);
			uh->source = n->sport;
		}
		if (n->set_dst) {
			d += csum_delta16(uh->dest, n->dport);
			uh->dest = n->dport;
		}
		if (uh->check || v6) {
			c = csum_update(uh->check, d);
			uh->check = c ? c : 0xffff;
		}
	}
	return 0;
}

static __always_inline int nat4(struct xdp_md *ctx, __u8 proto, const struct wx_nat *n)
{
	void *data = pkt_data(ctx), *end = pkt_end(ctx);
	struct iphdr *ip = data + ETH_HLEN;
	__u64 d = 0;

	if ((void *)(ip + 1) > end)
		return -1;
	if (n->set_src) {
		d += csum_delta32(ip->saddr, n->saddr.w[0]);
		ip->saddr = n->saddr.w[0];
	}
	if (n->set_dst) {
		d += csum_delta32(ip->daddr, n->daddr.w[0]);
		ip->daddr = n->daddr.w[0];
	}
	ip->check = csum_update(ip->check, d);
	return nat_l4(data + L4_OFF4, end, proto, d, n, 0);
}

static __always_inline __u64 nat_addr6(__u32 *a, const __u32 *to)
{
	__u64 d = 0;

#pragma clang loop unroll(full)
	for (int i = 0; i < 4; i++) {
		d += csum_delta32(a[i], to[i]);
		a[i] = to[i];
	}
	return d;
}

static __always_inline int nat6(struct xdp_md *ctx, __u8 proto, const struct wx_nat *n)
{
	void *data = pkt_data(ctx), *end = pkt_end(ctx);
	struct ipv6hdr *ip6 = data + ETH_HLEN;
	__u64 d = 0;

	if ((void *)(ip6 + 1) > end)
		return -1;
	if (n->set_src)
		d += nat_addr6(ip6->saddr.in6_u.u6_addr32, n->saddr.w);
	if (n->set_dst)
		d += nat_addr6(ip6->daddr.in6_u.u6_addr32, n->daddr.w);
	return nat_l4(data + L4_OFF6, end, proto, d, n, 1);
}

/* Applies <n> to the packet described by <p>: 0, or -1 if it shrank. */
static __always_inline int nat_apply(struct xdp_md *ctx, const struct wx_pkt *p,
				     const struct wx_nat *n)
{
	if (p->key.family == 4)
		return nat4(ctx, p->key.proto, n);
	return nat6(ctx, p->key.proto, n);
}

/* --- TUN: IPv4-in-IPv4, IPv6-in-IPv6 ----------------------------------------- */

/* Puts an outer IPv4 header <src> -> <dst> in front of the packet. The
 * Ethernet source and destination are set later, from the route. */
static __always_inline int encap4(struct xdp_md *ctx, const struct wx_pkt *p,
				  __u32 src, __u32 dst)
{
	struct ethhdr *eth;
	struct iphdr *ip;
	void *data, *end;

	if (bpf_xdp_adjust_head(ctx, -(int)sizeof(struct iphdr)))
		return -1;
	data = pkt_data(ctx);
	end = pkt_end(ctx);
	eth = data;
	ip = data + ETH_HLEN;
	if ((void *)(ip + 1) > end)
		return -1;
	eth->h_proto = bpf_htons(ETH_P_IP);
	*(__u8 *)ip = 0x45;     /* version 4, no options */
	ip->tos = p->tos;
	ip->tot_len = bpf_htons(p->l3_len + sizeof(*ip));
	ip->id = 0;             /* DF set: no fragment to tell apart (RFC 6864) */
	ip->frag_off = bpf_htons(IP_DF);
	ip->ttl = 64;
	ip->protocol = IPPROTO_IPIP;
	ip->saddr = src;
	ip->daddr = dst;
	ip->check = csum_ip4(ip);
	return 0;
}

static __always_inline int encap6(struct xdp_md *ctx, const struct wx_pkt *p,
				  const __u32 *src, const __u32 *dst)
{
	struct ipv6hdr *ip6, *inner;
	struct ethhdr *eth;
	void *data, *end;

	if (bpf_xdp_adjust_head(ctx, -(int)sizeof(struct ipv6hdr)))
		return -1;
	data = pkt_data(ctx);
	end = pkt_end(ctx);
	eth = data;
	ip6 = data + ETH_HLEN;
	inner = data + L4_OFF6;
	if ((void *)(inner + 1) > end)
		return -1;
	eth->h_proto = bpf_htons(ETH_P_IPV6);
	/* version, traffic class and flow label of the inner packet: the
	 * flow label keeps ECMP on the way to the real per connection */
	*(__u32 *)ip6 = *(__u32 *)inner;
	ip6->payload_len = bpf_htons(p->l3_len);
	ip6->nexthdr = IPPROTO_IPV6;
	ip6->hop_limit = 64;
	__builtin_memcpy(ip6->saddr.in6_u.u6_addr32, src, 16);
	__builtin_memcpy(ip6->daddr.in6_u.u6_addr32, dst, 16);
	return 0;
}

/* --- TUN: "fragmentation needed" / "packet too big" back to the client -------
 * Built in place: the packet is cut to its IP header and ICMP_DATA bytes of
 * payload (enough for the client's stack to find the socket), a new IP and
 * ICMP header go in front, and it leaves by the port it came in on. */

static __always_inline void swap_macs(void *data, __u32 old_eth_off)
{
	struct ethhdr *eth = data;
	unsigned char src[ETH_ALEN], dst[ETH_ALEN];

	/* the old Ethernet header overlaps the new headers: copy it out first */
	__builtin_memcpy(src, (unsigned char *)data + old_eth_off + ETH_ALEN, ETH_ALEN);
	__builtin_memcpy(dst, (unsigned char *)data + old_eth_off, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, src, ETH_ALEN);
	__builtin_memcpy(eth->h_source, dst, ETH_ALEN);
}

/* Resizes the frame to <keep> bytes of the original, then <grow> bytes of
 * new headers in front. */
static __always_inline int icmp_room(struct xdp_md *ctx, __u32 keep, int grow)
{
	int len = (int)(pkt_end(ctx) - pkt_data(ctx));

	if (bpf_xdp_adjust_tail(ctx, (int)keep - len))
		return -1;
	return bpf_xdp_adjust_head(ctx, -grow);
}

#define TOO_BIG4_GROW  (sizeof(struct iphdr) + sizeof(struct icmphdr))
#define TOO_BIG4_LEN   (ETH_HLEN + TOO_BIG4_GROW + sizeof(struct iphdr) + ICMP_DATA)

/* ICMP type 3 code 4 with next-hop MTU <mtu>. */
static __always_inline int too_big4(struct xdp_md *ctx, __u16 mtu)
{
	struct iphdr *ip, *orig;
	struct icmphdr *icmp;
	void *data, *end;
	__u64 s = 0;
	__u16 *w;

	if (icmp_room(ctx, ETH_HLEN + sizeof(struct iphdr) + ICMP_DATA, TOO_BIG4_GROW))
		return -1;
	data = pkt_data(ctx);
	end = pkt_end(ctx);
	if (data + TOO_BIG4_LEN > end)
		return -1;
	swap_macs(data, TOO_BIG4_GROW);
	ip = data + ETH_HLEN;
	icmp = data + L4_OFF4;
	orig = (void *)(icmp + 1);
	((struct ethhdr *)data)->h_proto = bpf_htons(ETH_P_IP);
	*(__u8 *)ip = 0x45;
	ip->tos = 0;
	ip->tot_len = bpf_htons(TOO_BIG4_LEN - ETH_HLEN);
	ip->id = 0;
	ip->frag_off = 0;
	ip->ttl = 64;
	ip->protocol = IPPROTO_ICMP;
	/* from the VIP the client was talking to, so it trusts the answer */
	ip->saddr = orig->daddr;
	ip->daddr = orig->saddr;
	ip->check = csum_ip4(ip);
	icmp->type = 3;         /* destination unreachable */
	icmp->code = 4;         /* fragmentation needed and DF set */
	icmp->checksum = 0;
	icmp->un.frag.__unused = 0;
	icmp->un.frag.mtu = bpf_htons(mtu);
	w = (__u16 *)icmp;
#pragma clang loop unroll(full)
	for (int i = 0; i < (int)(TOO_BIG4_LEN - L4_OFF4) / 2; i++)
		s += w[i];
	icmp->checksum = ~csum_fold(s);
	return 0;
}

#define TOO_BIG6_GROW  (sizeof(struct ipv6hdr) + sizeof(struct icmp6hdr))
#define TOO_BIG6_LEN   (ETH_HLEN + TOO_BIG6_GROW + sizeof(struct ipv6hdr) + ICMP_DATA)
#define TOO_BIG6_PLEN  (TOO_BIG6_LEN - L4_OFF6)

/* ICMPv6 type 2 (packet too big) with MTU <mtu>. */
static __always_inline int too_big6(struct xdp_md *ctx, __u32 mtu)
{
	struct ipv6hdr *ip6, *orig;
	struct icmp6hdr *icmp;
	void *data, *end;
	__u64 s = 0;
	__u16 *w;

	if (icmp_room(ctx, ETH_HLEN + sizeof(struct ipv6hdr) + ICMP_DATA, TOO_BIG6_GROW))
		return -1;
	data = pkt_data(ctx);
	end = pkt_end(ctx);
	if (data + TOO_BIG6_LEN > end)
		return -1;
	swap_macs(data, TOO_BIG6_GROW);
	ip6 = data + ETH_HLEN;
	icmp = data + L4_OFF6;
	orig = (void *)(icmp + 1);
	((struct ethhdr *)data)->h_proto = bpf_htons(ETH_P_IPV6);
	*(__u32 *)ip6 = bpf_htonl(0x60000000);
	ip6->payload_len = bpf_htons(TOO_BIG6_PLEN);
	ip6->nexthdr = IPPROTO_ICMPV6;
	ip6->hop_limit = 64;
	ip6->saddr = orig->daddr;
	ip6->daddr = orig->saddr;
	icmp->icmp6_type = 2;
	icmp->icmp6_code = 0;
	icmp->icmp6_cksum = 0;
	icmp->icmp6_dataun.un_data32[0] = bpf_htonl(mtu);
	/* pseudo-header: addresses, upper-layer length, next header */
	w = (__u16 *)ip6->saddr.in6_u.u6_addr16;
#pragma clang loop unroll(full)
	for (int i = 0; i < 16; i++)
		s += w[i];
	s += bpf_htonl(TOO_BIG6_PLEN) + bpf_htonl(IPPROTO_ICMPV6);
	w = (__u16 *)icmp;
#pragma clang loop unroll(full)
	for (int i = 0; i < (int)TOO_BIG6_PLEN / 2; i++)
		s += w[i];
	icmp->icmp6_cksum = ~csum_fold(s);
	return 0;
}

#endif
