/*
 * xdp_pps_gen.bpf.c - the frames of bench/blaster.c's xdp mode.
 *
 * blaster runs this program with BPF_PROG_TEST_RUN in live-frames mode
 * (BPF_F_TEST_XDP_LIVE_FRAMES): every run makes one frame, and its XDP_TX
 * really sends that frame out of the generator's veth, so the director's
 * veth receives xdp_frames as it would from a NIC driver, not skbs built
 * by a socket. Frames come from a page pool and are recycled with whatever
 * the director wrote into them (a NAT destination, a MAC), so each run
 * writes the whole Ethernet, IPv4 and UDP header again from cfg.
 *
 * Flow k (run n is flow n % flows) is source port 1024 + k % 64512 from
 * source address cfg.hdr's + k / 64512 (its low 16 bits; blaster checks
 * they do not overflow). Both checksums are finished here from sums
 * blaster computed with those two fields zero.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define HDR 42          /* Ethernet 14 + IPv4 20 + UDP 8 */
#define PORTS 64512     /* source ports 1024-65535 */

/* Set by blaster before load; shared layout in blaster.c. */
struct gen_cfg {
	__u8 hdr[HDR];      /* the headers, source port, low source address
	                       half and both checksums zero */
	__u16 pad;
	__u32 flows;        /* distinct (source address, port) pairs */
	__u32 ip_sum;       /* one's-complement sum of hdr's IPv4 header */
	__u32 udp_sum;      /* ... of the pseudo header, UDP header and payload */
	__u32 src_lo;       /* the source address's low 16 bits, host order */
} cfg;

/* runs so far: one generator thread, so no atomics */
__u32 runs;

static __always_inline __u16 fold(__u32 s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

SEC("xdp")
int gen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 k = runs++ % cfg.flows;
	__u16 port = bpf_htons((__u16)(1024 + k % PORTS));
	__u16 addr = bpf_htons((__u16)(cfg.src_lo + k / PORTS));
	__u16 usum;

	if (data + HDR > end)
		return XDP_ABORTED;
	__builtin_memcpy(data, cfg.hdr, HDR);
	/* the sums are of 16-bit words as they lie in memory: add the two
	 * fields the same way and store the result as it is */
	*(__u16 *)(data + 28) = addr;
	*(__u16 *)(data + 24) = fold(cfg.ip_sum + addr);
	*(__u16 *)(data + 34) = port;
	usum = fold(cfg.udp_sum + addr + port);
	*(__u16 *)(data + 40) = usum ? usum : 0xffff;
	return XDP_TX;
}
