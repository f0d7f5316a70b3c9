/*
 * xdp_wire.bpf.c - the wire of bench/dns.sh's RIG=nic: attached to both
 * veth ends in the router namespace, it redirects every frame that arrives
 * on one to the other (the map: ingress ifindex -> egress device, filled by
 * the script with bpftool). A frame redirected to a veth end goes as an
 * xdp_frame into the ring of that end's peer (veth_xdp_xmit()), so the
 * server's veth gets the page the frame is in, as a NIC's driver gets the
 * page its DMA wrote: its XDP program, if any, runs on it without a copy.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} wire SEC(".maps");

SEC("xdp")
int wire_fwd(struct xdp_md *ctx)
{
	return bpf_redirect_map(&wire, ctx->ingress_ifindex, XDP_DROP);
}
