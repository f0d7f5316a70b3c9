/*
 * xdp_cost.bpf.c - the harness around weir_xdp for bench/xdp_cost.c.
 *
 * BPF_PROG_TEST_RUN with repeat runs a program again and again on ONE
 * frame: what weir_xdp wrote (a NAT destination, a TUN outer header) would
 * be the next run's input, and from the second run on weir would measure
 * "not a VIP". bench_restore puts the frame back as it was (head moved
 * back, the first TPL_COPY bytes rewritten from the template; for new-flow
 * runs a counter in the source port and address makes every run a new
 * connection), then tail-calls slot 0 of <next>: weir_xdp, or bench_nop to
 * measure what restoring and the tail call cost by themselves.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define TPL_COPY 128

struct tpl {
	__u32 len;            /* the frame's length as weir_xdp receives it */
	__u8 vary;            /* 1: a new source port (and address) each run */
	__u8 family;          /* 4 or 6: where the source port and address are */
	__u16 pad;
	__u8 b[TPL_COPY];     /* the frame's first bytes */
};

/* the frame to restore before each run */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tpl);
} tpl SEC(".maps");

/* runs so far, for new flows */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} runs SEC(".maps");

/* slot 0: the program measured */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} next SEC(".maps");

SEC("xdp")
int bench_restore(struct xdp_md *ctx)
{
	__u32 zero = 0, *n, c;
	struct tpl *t = bpf_map_lookup_elem(&tpl, &zero);
	void *data, *end;
	long len;

	if (!t)
		return XDP_ABORTED;
	len = (long)ctx->data_end - (long)ctx->data;
	/* weir_xdp only ever grows the head (TUN): move it back */
	if (len != t->len && bpf_xdp_adjust_head(ctx, (int)(len - t->len)))
		return XDP_ABORTED;
	/* keeps clang from reusing ctx + offset, which the verifier refuses */
	barrier_var(ctx);
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + TPL_COPY > end)
		return XDP_ABORTED;
	__builtin_memcpy(data, t->b, TPL_COPY);
	if (t->vary) {
		n = bpf_map_lookup_elem(&runs, &zero);
		if (!n)
			return XDP_ABORTED;
		c = ++*n;
		/* source port: the run's low 16 bits; last 16 bits of the
		 * source address: the high ones */
		if (t->family == 4) {
			*(__u16 *)(data + 34) = (__u16)c;
			*(__u16 *)(data + 28) = (__u16)(c >> 16);
		} else {
			*(__u16 *)(data + 54) = (__u16)c;
			*(__u16 *)(data + 36) = (__u16)(c >> 16);
		}
	}
	bpf_tail_call(ctx, &next, 0);
	return XDP_ABORTED;
}

SEC("xdp")
int bench_nop(struct xdp_md *ctx)
{
	return XDP_TX;
}
