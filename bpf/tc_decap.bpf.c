/*
 * tc_decap.bpf.c - IP-in-IP decapsulation for TUN real servers whose kernel
 * has no ipip/ip6_tunnel module. Attached at clsact ingress by `weir rs add
 * --mode tun`: an IPv4 packet carrying IPv4 (protocol 4), or an IPv6 packet
 * carrying IPv6 (next header 41), whose INNER destination is a VIP listed
 * in wx_vips loses its outer header and goes up the stack, which finds the
 * VIP bound on lo and answers the client directly. Everything else goes on
 * untouched: this program never drops.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "weir_xdp.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define TC_ACT_OK       0
#define ETH_HLEN        14
#define ETH_P_IP        0x0800
#define ETH_P_IPV6      0x86DD
#define IP_MF           0x2000
#define IP_OFFSET       0x1fff

/* VIPs bound on lo whose tunnelled packets are decapsulated (value 1) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WX_MAX_VIPS);
	__type(key, struct wx_vip_key);
	__type(value, __u8);
} wx_vips SEC(".maps");

/* Outer IPv4 (no options, not a fragment: the ipip module would reassemble,
 * weir leaves that to the stack) carrying IPv4 to a listed VIP. The headers
 * are copied out with bpf_skb_load_bytes: a GRO'd or paged skb may hold
 * less than both in its linear part, and this is not a hot path. */
static __always_inline int is_ours4(struct __sk_buff *skb)
{
	struct wx_vip_key k = {};
	struct {
		struct iphdr outer, inner;
	} h;

	if (bpf_skb_load_bytes(skb, ETH_HLEN, &h, sizeof(h)))
		return 0;
	if (h.outer.version != 4 || h.outer.ihl != 5 || h.outer.protocol != IPPROTO_IPIP)
		return 0;
	if (h.outer.frag_off & bpf_htons(IP_MF | IP_OFFSET))
		return 0;
	if (h.inner.version != 4)
		return 0;
	k.family = 4;
	k.addr.w[0] = h.inner.daddr;
	return bpf_map_lookup_elem(&wx_vips, &k) != NULL;
}

static __always_inline int is_ours6(struct __sk_buff *skb)
{
	struct wx_vip_key k = {};
	struct {
		struct ipv6hdr outer, inner;
	} h;

	if (bpf_skb_load_bytes(skb, ETH_HLEN, &h, sizeof(h)))
		return 0;
	if (h.outer.version != 6 || h.outer.nexthdr != IPPROTO_IPV6 || h.inner.version != 6)
		return 0;
	k.family = 6;
	__builtin_memcpy(k.addr.w, h.inner.daddr.in6_u.u6_addr32, 16);
	return bpf_map_lookup_elem(&wx_vips, &k) != NULL;
}

SEC("tc")
int tc_decap(struct __sk_buff *skb)
{
	/* same family inside and out: skb->protocol stays right */
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		if (is_ours4(skb))
			bpf_skb_adjust_room(skb, -(int)sizeof(struct iphdr), BPF_ADJ_ROOM_MAC,
					    BPF_F_ADJ_ROOM_DECAP_L3_IPV4);
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		if (is_ours6(skb))
			bpf_skb_adjust_room(skb, -(int)sizeof(struct ipv6hdr), BPF_ADJ_ROOM_MAC,
					    BPF_F_ADJ_ROOM_DECAP_L3_IPV6);
	}
	return TC_ACT_OK;
}
