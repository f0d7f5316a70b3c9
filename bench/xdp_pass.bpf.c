/*
 * xdp_pass.bpf.c - passes every frame. bench/dns.sh attaches it to the
 * client's end of its veth pair: veth kicks the NAPI of the peer an XDP_TX
 * was sent to only when that peer has an XDP program of its own
 * (veth_xdp_flush() in drivers/net/veth.c); without one, the server's XDP
 * answers wait in the client's ring until some other packet wakes it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("xdp")
int pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}
