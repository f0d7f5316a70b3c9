/*
 * fixtures.c - packet fixtures for weir_xdp (and tc_decap): an input
 * packet, the verdict it must get, the packet that must come out, for
 * every mode, IPv4 and IPv6, TCP and UDP. Run as root by `make test`
 * (make bpf-fixtures); prints one line per failure, then "N passed, N
 * failed". The namespace the fib lookups run in: harness.h; which file
 * holds which fixtures: fixtures.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixtures.h"

const char *const MAC_RS[3] = { MAC_RS0, MAC_RS1, MAC_RS2 };

const char *name(const struct net *n, const char *what)
{
	static char buf[8][160];
	static int i;

	i = (i + 1) % 8;
	snprintf(buf[i], sizeof(buf[i]), "[v%d] %s", n->family, what);
	return buf[i];
}

/* A client's packet as it arrives from the clients' router on wxc. */
struct pkt_spec client(const struct net *n, const char *src, const char *dst,
		       uint16_t sport, uint16_t dport, int proto, uint8_t flags)
{
	return (struct pkt_spec){
		.smac = MAC_GW_C, .dmac = MAC_C, .src = src, .dst = dst,
		.sport = sport, .dport = dport, .proto = proto, .flags = flags,
		.df = n->family == 4, .payload = 16,
	};
}

/* A real server's packet as it arrives on wxr. */
struct pkt_spec from_real(const char *mac, const char *src, const char *dst,
			  uint16_t sport, uint16_t dport, int proto, uint8_t flags)
{
	return (struct pkt_spec){
		.smac = mac, .dmac = MAC_R, .src = src, .dst = dst,
		.sport = sport, .dport = dport, .proto = proto, .flags = flags,
		.df = 1, .payload = 24,
	};
}

/* <s> as it leaves towards real <mac> on wxr, unchanged otherwise (DR). */
struct pkt_spec to_mac(struct pkt_spec s, const char *smac, const char *dmac)
{
	s.smac = smac;
	s.dmac = dmac;
	return s;
}

/* Compares an output packet with the one <w> describes. */
int same(const char *what, const struct pkt *got, const struct pkt_spec *w)
{
	static struct pkt want;
	static char why[4096];

	pkt_build(&want, w);
	if (pkt_diff(got, &want, why, sizeof(why)))
		return check(0, what, "%s", why);
	if (pkt_sums_ok(got, why, sizeof(why)))
		return check(0, what, "%s", why);
	return check(1, what, "%s", "");
}

void config_default(void)
{
	struct wx_config c = {0};

	pkt_addr(c.local4.w, NET4.local);
	pkt_addr(c.local6.w, NET6.local);
	c.fullnat_lo = FULLNAT_LO;
	c.fullnat_hi = FULLNAT_HI;
	config_put(&c);
}

void dr_expect(const struct net *n, const char *what, const char *src, uint16_t sport,
	       uint16_t dport, int real)
{
	struct pkt_spec in = client(n, src, n->vip, sport, dport, IPPROTO_TCP, TCPF_SYN);
	struct pkt_spec w = to_mac(in, MAC_R, MAC_RS[real]);

	expect_spec(name(n, what), &in, X.if_c, XDP_REDIRECT, &w);
}

int main(void)
{
	const struct net *nets[2] = { &NET4, &NET6 };

	fx_init(1);
	config_default();
	for (int i = 0; i < 2; i++) {
		const struct net *n = nets[i];

		fx_dr(n);
		fx_tun(n);
		fx_nat(n);
		fx_fullnat(n);
		fx_persist(n);
		fx_out(n);
		fx_seq(n);
		fx_hash(n);
		fx_state(n);
		fx_anyport(n);
		fx_fib(n);
		fx_route_cache(n);
		fx_pass(n);
		fx_truncated(n);
		fx_decap(n);
		fx_dns(n);
	}
	fx_garbage();
	fx_counters();
	printf("%d passed, %d failed\n", X.passed, X.failed);
	fx_fini();
	return X.failed ? 1 : 0;
}
