/* xdp_pass.bpf.c - passes every packet. The integration tests attach it to
 * the switch side of the veth pairs they create: in native mode a veth only
 * receives the frames its peer sends with XDP_TX or a redirect when it runs
 * an XDP program itself. No headers, so that it builds with clang alone:
 *   clang -O2 -target bpf -c tests/xdp_pass.bpf.c -o xdp_pass.bpf.o */
#define SEC(name) __attribute__((section(name), used))
#define XDP_PASS 2

struct xdp_md;

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
