/*
 * modes.c - fixtures of the four forwarding methods (DR, TUN, NAT,
 * FULLNAT), both directions where there are two, and of their next hops:
 * failing routes, the route cache.
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

/* --- DR ------------------------------------------------------------------------- */

void fx_dr(const struct net *n)
{
	const char *const rs[] = { n->rs[0], n->rs[1] }, *const lan[] = { n->lan };
	struct pkt_spec in, w;
	struct svc_fx s, u;

	tables_clear();
	svc_make(&s, SID(n, 1), n->vip, 80, IPPROTO_TCP, WX_PICK_SEQ, WX_DR, rs, 0, 2);
	svc_make(&u, SID(n, 2), n->vip, 80, IPPROTO_UDP, WX_PICK_SEQ, WX_DR, lan, 0, 1);

	in = client(n, n->client, n->vip, 40000, 80, IPPROTO_TCP, TCPF_SYN);
	w = to_mac(in, MAC_R, MAC_RS0);
	expect_spec(name(n, "dr: a new TCP flow keeps its IP packet, gets the real's MAC"),
		    &in, X.if_c, XDP_REDIRECT, &w);
	in.sport = 40001;
	w = to_mac(in, MAC_R, MAC_RS1);
	expect_spec(name(n, "dr: the next new flow goes to the next real"),
		    &in, X.if_c, XDP_REDIRECT, &w);
	in.sport = 40000;
	in.flags = TCPF_ACK;
	w = to_mac(in, MAC_R, MAC_RS0);
	expect_spec(name(n, "dr: the first flow's next packet stays on its real"),
		    &in, X.if_c, XDP_REDIRECT, &w);
	in = client(n, n->client, n->vip, 40000, 80, IPPROTO_UDP, 0);
	w = to_mac(in, MAC_C, MAC_LAN);
	expect_spec(name(n, "dr: UDP to a real on the LAN it came from leaves by XDP_TX"),
		    &in, X.if_c, XDP_TX, &w);
}

/* --- TUN ------------------------------------------------------------------------ */

void fx_tun(const struct net *n)
{
	const char *const far0[] = { n->far[0] }, *const far1[] = { n->far[1] };
	int hdr = n->family == 4 ? 20 : 40, fit = 1500 - 2 * hdr - 20;
	uint64_t too_big = global_get(WX_G_TOO_BIG);
	struct pkt_spec in, w;
	struct svc_fx s, u;
	struct pkt p, want;

	tables_clear();
	svc_make(&s, SID(n, 3), n->vip, 81, IPPROTO_TCP, WX_PICK_SEQ, WX_TUN, far0, 0, 1);
	svc_make(&u, SID(n, 4), n->vip, 81, IPPROTO_UDP, WX_PICK_SEQ, WX_TUN, far1, 0, 1);

	in = client(n, n->client, n->vip, 40000, 81, IPPROTO_TCP, TCPF_SYN);
	w = to_mac(in, MAC_R, MAC_GW_R);
	w.outer_src = n->local;
	w.outer_dst = n->far[0];
	expect_spec(name(n, "tun: TCP encapsulated local -> real, to the router's MAC"),
		    &in, X.if_c, XDP_REDIRECT, &w);
	in.tos = 0x28;
	in.flags = TCPF_ACK;
	w = to_mac(in, MAC_R, MAC_GW_R);
	w.outer_src = n->local;
	w.outer_dst = n->far[0];
	expect_spec(name(n, "tun: the outer header copies the inner TOS / traffic class"),
		    &in, X.if_c, XDP_REDIRECT, &w);
	in = client(n, n->client, n->vip, 40000, 81, IPPROTO_UDP, 0);
	w = to_mac(in, MAC_R, MAC_GW_R);
	w.outer_src = n->local;
	w.outer_dst = n->far[1];
	expect_spec(name(n, "tun: UDP encapsulated"), &in, X.if_c, XDP_REDIRECT, &w);

	in = client(n, n->client, n->vip, 40001, 81, IPPROTO_TCP, TCPF_ACK);
	in.payload = fit;
	w = to_mac(in, MAC_R, MAC_GW_R);
	w.outer_src = n->local;
	w.outer_dst = n->far[0];
	expect_spec(name(n, "tun: a packet that fits the MTU exactly once encapsulated"),
		    &in, X.if_c, XDP_REDIRECT, &w);
	in.payload = fit + 1;
	pkt_build(&p, &in);
	pkt_too_big(&want, &p, MAC_C, MAC_GW_C, (uint32_t)(1500 - hdr));
	expect(name(n, n->family == 4 ? "tun: one byte more: ICMP fragmentation needed, MTU 1480"
				       : "tun: one byte more: ICMPv6 packet too big, MTU 1460"),
	       &p, X.if_c, XDP_TX, &want, NULL);
	check(global_get(WX_G_TOO_BIG) == too_big + 1, name(n, "tun: too big is counted"),
	      "WX_G_TOO_BIG %llu, want %llu",
	      (unsigned long long)global_get(WX_G_TOO_BIG), (unsigned long long)too_big + 1);
	if (n->family == 4) {
		in.df = 0;
		expect_spec(name(n, "tun: too big without DF goes to the stack to fragment"),
			    &in, X.if_c, XDP_PASS, NULL);
	}
}

/* --- NAT ------------------------------------------------------------------------ */

static void fx_nat_udp(const struct net *n)
{
	const char *const rs2[] = { n->rs[2] };
	struct pkt_spec in, w, r;
	struct svc_fx u;

	svc_make(&u, SID(n, 6), n->vip, 53, IPPROTO_UDP, WX_PICK_SEQ, WX_NAT, rs2, 5353, 1);
	for (int nocsum = 0; nocsum <= (n->family == 4); nocsum++) {
		uint16_t port = (uint16_t)(41100 + nocsum);

		in = client(n, n->client, n->vip, port, 53, IPPROTO_UDP, 0);
		in.udp_nocsum = nocsum;
		w = to_mac(in, MAC_R, MAC_RS2);
		w.dst = n->rs[2];
		w.dport = 5353;
		expect_spec(name(n, nocsum ? "nat: UDP without checksum keeps checksum 0"
					   : "nat: UDP to the real's port, checksum updated"),
			    &in, X.if_c, XDP_REDIRECT, &w);
		r = from_real(MAC_RS2, n->rs[2], n->client, 5353, port, IPPROTO_UDP, 0);
		r.udp_nocsum = nocsum;
		w = to_mac(r, MAC_C, MAC_GW_C);
		w.src = n->vip;
		w.sport = 53;
		expect_spec(name(n, "nat: the UDP reply comes back from VIP:53"),
			    &r, X.if_r, XDP_REDIRECT, &w);
	}
}

void fx_nat(const struct net *n)
{
	const char *const rs[] = { n->rs[0], n->rs[1] };
	struct pkt_spec in, w, r;
	struct wx_stats st, sr;
	struct svc_fx s;
	uint32_t both1[2];
	struct pkt p;

	tables_clear();
	svc_make(&s, SID(n, 5), n->vip, 82, IPPROTO_TCP, WX_PICK_SEQ, WX_NAT, rs, 8080, 2);

	in = client(n, n->client, n->vip, 41000, 82, IPPROTO_TCP, TCPF_SYN);
	w = to_mac(in, MAC_R, MAC_RS0);
	w.dst = n->rs[0];
	w.dport = 8080;
	expect_spec(name(n, "nat: a new flow's destination becomes the real's address and port"),
		    &in, X.if_c, XDP_REDIRECT, &w);
	both1[0] = both1[1] = s.real[1];
	ring_put(s.id, both1, 2);
	in.flags = TCPF_ACK;
	w.flags = TCPF_ACK;
	expect_spec(name(n, "nat: an existing flow stays on its real after the ring changed"),
		    &in, X.if_c, XDP_REDIRECT, &w);
	in.sport = 41001;
	in.flags = TCPF_SYN;
	w = to_mac(in, MAC_R, MAC_RS1);
	w.dst = n->rs[1];
	w.dport = 8080;
	expect_spec(name(n, "nat: a new flow follows the new ring"), &in, X.if_c, XDP_REDIRECT, &w);

	r = from_real(MAC_RS0, n->rs[0], n->client, 8080, 41000, IPPROTO_TCP, TCPF_SYN | TCPF_ACK);
	w = to_mac(r, MAC_C, MAC_GW_C);
	w.src = n->vip;
	w.sport = 82;
	expect_spec(name(n, "nat: the reply's source goes back to VIP:port, towards the client"),
		    &r, X.if_r, XDP_REDIRECT, &w);

	/* 3 packets in (2 new flows), 1 out */
	pkt_build(&p, &in);
	st = stats_get(s.id);
	sr = stats_get(WX_STATS_REAL + s.real[0]);
	check(st.conns == 2 && st.inpkts == 3 && st.outpkts == 1 &&
	      st.inbytes == 3 * (p.len - 14) && st.outbytes == p.len - 14 + 8,
	      name(n, "nat: service counters"),
	      "conns %llu inpkts %llu outpkts %llu inbytes %llu outbytes %llu",
	      (unsigned long long)st.conns, (unsigned long long)st.inpkts,
	      (unsigned long long)st.outpkts, (unsigned long long)st.inbytes,
	      (unsigned long long)st.outbytes);
	check(sr.conns == 1 && sr.inpkts == 2 && sr.outpkts == 1, name(n, "nat: real counters"),
	      "conns %llu inpkts %llu outpkts %llu", (unsigned long long)sr.conns,
	      (unsigned long long)sr.inpkts, (unsigned long long)sr.outpkts);
	fx_nat_udp(n);
}

/* --- FULLNAT --------------------------------------------------------------------- */

/* Sends a FULLNAT client packet, checks it against <real>:<rport> from the
 * local address and the port its flow was given; returns that port. */
static uint16_t fullnat_in(const struct net *n, const char *what, const struct pkt_spec *in,
			   int real, uint16_t rport, int verdict)
{
	struct pkt p, out;
	struct wx_flow f;
	struct pkt_spec w;
	uint32_t local[4];
	uint16_t lport;

	pkt_build(&p, in);
	if (!expect(what, &p, X.if_c, verdict, NULL, &out) || verdict != XDP_REDIRECT)
		return 0;
	if (!check(flow_get(&p, &f) == 0, what, "no flow entry"))
		return 0;
	lport = ntohs(f.lport);
	pkt_addr(local, n->local);
	check(lport >= FULLNAT_LO && lport <= FULLNAT_HI && !memcmp(local, f.laddr.w, 16),
	      what, "local port %u or address outside the configured ones", lport);
	w = to_mac(*in, MAC_R, MAC_RS[real]);
	w.src = n->local;
	w.sport = lport;
	w.dst = n->rs[real];
	w.dport = rport;
	same(what, &out, &w);
	return lport;
}

static void fullnat_out(const struct net *n, const char *what, const char *client, uint16_t cport,
			int real, uint16_t rport, uint16_t lport, int proto, uint16_t vport)
{
	struct pkt_spec r = from_real(MAC_RS[real], n->rs[real], n->local, rport, lport, proto,
				      proto == IPPROTO_TCP ? TCPF_SYN | TCPF_ACK : 0), w;

	w = to_mac(r, MAC_C, MAC_GW_C);
	w.src = n->vip;
	w.sport = vport;
	w.dst = client;
	w.dport = cport;
	expect_spec(what, &r, X.if_r, XDP_REDIRECT, &w);
}

static void fx_fullnat_full(const struct net *n)
{
	const char *const rs2[] = { n->rs[2] };
	uint64_t full = global_get(WX_G_PORTS_FULL);
	struct pkt_spec a, b;
	struct wx_config c;
	struct svc_fx s;

	svc_make(&s, SID(n, 9), n->vip, 85, IPPROTO_TCP, WX_PICK_SEQ, WX_FULLNAT, rs2, 9292, 1);
	config_get(&c);
	c.fullnat_lo = c.fullnat_hi = FULLNAT_LO + 500;
	config_put(&c);
	a = client(n, n->client, n->vip, 42100, 85, IPPROTO_TCP, TCPF_SYN);
	b = client(n, n->client2, n->vip, 42100, 85, IPPROTO_TCP, TCPF_SYN);
	fullnat_in(n, name(n, "fullnat: one local port: the first client gets it"), &a, 2, 9292,
		   XDP_REDIRECT);
	expect_spec(name(n, "fullnat: ...the second is dropped"), &b, X.if_c, XDP_DROP, NULL);
	check(global_get(WX_G_PORTS_FULL) == full + 1, name(n, "fullnat: ports full is counted"),
	      "WX_G_PORTS_FULL %llu, want %llu",
	      (unsigned long long)global_get(WX_G_PORTS_FULL), (unsigned long long)full + 1);
	/* the first flow closes and, its FIN life over, frees the port */
	a.flags = TCPF_RST;
	fullnat_in(n, name(n, "fullnat: RST forwarded"), &a, 2, 9292, XDP_REDIRECT);
	c.tcp_fin_ms = 1;
	config_put(&c);
	usleep(20000);
	fullnat_in(n, name(n, "fullnat: a port whose flow is over is taken again"), &b, 2, 9292,
		   XDP_REDIRECT);
	config_default();
}

void fx_fullnat(const struct net *n)
{
	const char *const rs0[] = { n->rs[0] }, *const rs1[] = { n->rs[1] };
	uint16_t l1, l2, l3;
	struct pkt_spec in;
	struct svc_fx s, u;

	tables_clear();
	svc_make(&s, SID(n, 7), n->vip, 83, IPPROTO_TCP, WX_PICK_SEQ, WX_FULLNAT, rs0, 9090, 1);
	svc_make(&u, SID(n, 8), n->vip, 84, IPPROTO_UDP, WX_PICK_SEQ, WX_FULLNAT, rs1, 9191, 1);

	in = client(n, n->client, n->vip, 42000, 83, IPPROTO_TCP, TCPF_SYN);
	l1 = fullnat_in(n, name(n, "fullnat: source -> local address and port, destination -> real"),
			&in, 0, 9090, XDP_REDIRECT);
	in.flags = TCPF_ACK;
	l2 = fullnat_in(n, name(n, "fullnat: the flow keeps its local port"), &in, 0, 9090,
			XDP_REDIRECT);
	check(l1 == l2, name(n, "fullnat: same port"), "%u then %u", l1, l2);
	in = client(n, n->client2, n->vip, 42000, 83, IPPROTO_TCP, TCPF_SYN);
	l3 = fullnat_in(n, name(n, "fullnat: a second client"), &in, 0, 9090, XDP_REDIRECT);
	check(l3 != l1, name(n, "fullnat: two clients, two local ports"), "both got %u", l1);
	fullnat_out(n, name(n, "fullnat: the reply goes back VIP -> first client"), n->client,
		    42000, 0, 9090, l1, IPPROTO_TCP, 83);
	fullnat_out(n, name(n, "fullnat: the reply goes back VIP -> second client"), n->client2,
		    42000, 0, 9090, l3, IPPROTO_TCP, 83);

	in = client(n, n->client, n->vip, 42001, 84, IPPROTO_UDP, 0);
	l1 = fullnat_in(n, name(n, "fullnat: UDP"), &in, 1, 9191, XDP_REDIRECT);
	fullnat_out(n, name(n, "fullnat: the UDP reply"), n->client, 42001, 1, 9191, l1,
		    IPPROTO_UDP, 84);
	fx_fullnat_full(n);
}

/* --- next hops -------------------------------------------------------------------------- */

void fx_fib(const struct net *n)
{
	const char *const noneigh[] = { n->noneigh }, *const unrouted[] = { n->unrouted };
	uint64_t fails = global_get(WX_G_FIB_FAIL);
	struct pkt_spec in;
	struct svc_fx s;

	tables_clear();
	svc_make(&s, SID(n, 21), n->vip, 98, IPPROTO_TCP, WX_PICK_SEQ, WX_DR, noneigh, 0, 1);
	svc_make(&s, SID(n, 22), n->vip, 99, IPPROTO_TCP, WX_PICK_SEQ, WX_NAT, unrouted, 8080, 1);
	in = client(n, n->client, n->vip, 48000, 98, IPPROTO_TCP, TCPF_SYN);
	expect_spec(name(n, "fib: no neighbour for the real: passed untouched"), &in, X.if_c,
		    XDP_PASS, NULL);
	in.dport = 99;
	expect_spec(name(n, "fib: no route to the NAT real: passed untouched"), &in, X.if_c,
		    XDP_PASS, NULL);
	check(global_get(WX_G_FIB_FAIL) == fails + 2, name(n, "fib: failures counted"),
	      "WX_G_FIB_FAIL %llu, want %llu", (unsigned long long)global_get(WX_G_FIB_FAIL),
	      (unsigned long long)fails + 2);
}

/* Next hops are kept 100 ms (bpf/wx_route.bpf.h): a neighbour's new MAC
 * is used after that, not before. */
void fx_route_cache(const struct net *n)
{
	const char *const rs2[] = { n->rs[2] };
	char cmd[160];
	struct svc_fx s;

	tables_clear();
	svc_make(&s, SID(n, 29), n->vip, 104, IPPROTO_TCP, WX_PICK_SEQ, WX_DR, rs2, 0, 1);
	dr_expect(n, "route cache: to the real's MAC", n->client, 53000, 104, 2);
	snprintf(cmd, sizeof(cmd), "ip neigh replace %s lladdr 02:00:00:00:02:99 dev wxr nud permanent",
		 n->rs[2]);
	fx_sh(cmd);
	dr_expect(n, "route cache: a new MAC is not looked up at once", n->client, 53001, 104, 2);
	usleep(150000);
	{
		struct pkt_spec in = client(n, n->client, n->vip, 53002, 104, IPPROTO_TCP, TCPF_SYN);
		struct pkt_spec w = to_mac(in, MAC_R, "02:00:00:00:02:99");

		expect_spec(name(n, "route cache: ...but within 100 ms"), &in, X.if_c, XDP_REDIRECT, &w);
	}
	snprintf(cmd, sizeof(cmd), "ip neigh replace %s lladdr " MAC_RS2 " dev wxr nud permanent",
		 n->rs[2]);
	fx_sh(cmd);
	usleep(150000);
}
