/*
 * xdp_pps_sink.bpf.c - the sink of bench/xdp_pps.sh: drops every frame at
 * the first place it can, so that the sink is never what limits the rate.
 * The script counts the frames in the veth's own XDP counters
 * (`ethtool -S`: rx_queue_0_xdp_drops). Attached natively it also lets the
 * director's XDP_REDIRECT into the veth pair arrive at all.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("xdp")
int sink(struct xdp_md *ctx)
{
	return XDP_DROP;
}

