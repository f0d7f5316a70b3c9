/*
 * sched.c - fixtures of who gets a connection and for how long:
 * persistence, OUT reals with and without the reset policy, sequence and
 * hash picks, TCP states and active counts, expiry, any-port services.
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
#include "wx_hash.h"

static uint32_t first_of(const struct svc_fx *s)
{
	return s->real[0];
}

/* --- persistence ------------------------------------------------------------------- */

static void persist_set(const struct svc_fx *s, const struct net *n, uint16_t port,
			uint32_t ms)
{
	struct wx_svc v = { .id = s->id, .ring_size = s->n, .pick = WX_PICK_SEQ,
			    .persist_prefix = (uint8_t)n->prefix, .persist_ms = ms };

	svc_put(n->vip, port, IPPROTO_TCP, &v);
}

void fx_persist(const struct net *n)
{
	const char *const rs[] = { n->rs[0], n->rs[1] };
	uint32_t ring[2];
	struct svc_fx s;

	tables_clear();
	svc_make(&s, SID(n, 10), n->vip, 86, IPPROTO_TCP, WX_PICK_SEQ, WX_DR, rs, 0, 2);
	persist_set(&s, n, 86, 60000);
	dr_expect(n, "persist: a client's first flow is scheduled", n->client, 1000, 86, 0);
	dr_expect(n, "persist: its next flow follows the template, not the sequence", n->client,
		  1001, 86, 0);
	dr_expect(n, "persist: another network's client is scheduled", n->client2, 1000, 86, 1);
	dr_expect(n, "persist: a client of the same prefix shares the template", n->client_near,
		  1000, 86, 0);
	ring[0] = ring[1] = s.real[1];
	ring_put(s.id, ring, 2);
	dr_expect(n, "persist: the template outlives a ring change", n->client, 1002, 86, 0);
	real_flags(s.real[0], WX_REAL_LIVE | WX_REAL_OUT);
	dr_expect(n, "persist: a template whose real is OUT is scheduled again", n->client, 1003,
		  86, 1);
	real_flags(s.real[0], WX_REAL_LIVE);
	dr_expect(n, "persist: ...and the template now names the new real", n->client, 1004, 86, 1);
	persist_set(&s, n, 86, 1);
	ring[0] = ring[1] = s.real[0];
	ring_put(s.id, ring, 2);
	usleep(20000);
	dr_expect(n, "persist: an expired template is scheduled again", n->client, 1005, 86, 0);
}

/* --- real servers going OUT ---------------------------------------------------------- */

void fx_out(const struct net *n)
{
	const char *const rs[] = { n->rs[0], n->rs[1] };
	uint64_t no_real = global_get(WX_G_NO_REAL);
	struct pkt_spec in, w;
	struct svc_fx s, t, e;
	struct wx_flow f;
	struct pkt p;

	tables_clear();
	svc_make(&s, SID(n, 11), n->vip, 87, IPPROTO_TCP, WX_PICK_SEQ, WX_DR, rs, 0, 2);
	dr_expect(n, "out: flow A to the first real", n->client, 43000, 87, 0);
	dr_expect(n, "out: flow B to the second", n->client, 43001, 87, 1);
	real_flags(s.real[0], WX_REAL_LIVE | WX_REAL_OUT);
	in = client(n, n->client, n->vip, 43000, 87, IPPROTO_TCP, TCPF_ACK);
	w = to_mac(in, MAC_R, MAC_RS0);
	expect_spec(name(n, "out: flow A is kept on its OUT real (no reset policy)"), &in, X.if_c,
		    XDP_REDIRECT, &w);
	dr_expect(n, "out: new flow C skips the OUT real's slot", n->client, 43002, 87, 1);
	dr_expect(n, "out: new flow D too", n->client, 43003, 87, 1);
	check(active_get(s.real[0]) == 1 && active_get(s.real[1]) == 3,
	      name(n, "out: active counts"), "%lld and %lld, want 1 and 3",
	      (long long)active_get(s.real[0]), (long long)active_get(s.real[1]));

	svc_make(&t, SID(n, 12), n->vip, 88, IPPROTO_TCP, WX_PICK_SEQ, WX_NAT, rs, 8080, 2);
	{
		struct wx_svc v = { .id = t.id, .ring_size = 2, .flags = WX_SVC_RESET_GONE };

		svc_put(n->vip, 88, IPPROTO_TCP, &v);
	}
	in = client(n, n->client, n->vip, 43010, 88, IPPROTO_TCP, TCPF_SYN);
	w = to_mac(in, MAC_R, MAC_RS0);
	w.dst = n->rs[0];
	w.dport = 8080;
	expect_spec(name(n, "reset: flow A to the first real"), &in, X.if_c, XDP_REDIRECT, &w);
	int backs = back_count();
	real_flags(t.real[0], WX_REAL_LIVE | WX_REAL_OUT);
	in.flags = TCPF_ACK;
	expect_spec(name(n, "reset: flow A of an OUT real is dropped (RESET_GONE)"), &in, X.if_c,
		    XDP_DROP, NULL);
	pkt_build(&p, &in);
	check(flow_get(&p, &f) != 0 && back_count() == backs - 1 && active_get(t.real[0]) == 0,
	      name(n, "reset: its flow and reply entries are gone, active 0"),
	      "flow %s, reply entries %d (were %d), active %lld",
	      flow_get(&p, &f) ? "gone" : "still there", back_count(), backs,
	      (long long)active_get(t.real[0]));
	in.flags = TCPF_SYN;
	w = to_mac(in, MAC_R, MAC_RS1);
	w.dst = n->rs[1];
	w.dport = 8080;
	expect_spec(name(n, "reset: the client's retry is a new flow to a live real"), &in, X.if_c,
		    XDP_REDIRECT, &w);
	real_flags(t.real[1], WX_REAL_LIVE | WX_REAL_OUT);
	in.sport = 43011;
	expect_spec(name(n, "out: every real OUT: dropped"), &in, X.if_c, XDP_DROP, NULL);
	svc_make(&e, SID(n, 13), n->vip, 89, IPPROTO_TCP, WX_PICK_SEQ, WX_DR, rs, 0, 0);
	in.dport = 89;
	expect_spec(name(n, "out: an empty ring: dropped"), &in, X.if_c, XDP_DROP, NULL);
	check(global_get(WX_G_NO_REAL) == no_real + 2, name(n, "out: no real is counted"),
	      "WX_G_NO_REAL %llu, want %llu", (unsigned long long)global_get(WX_G_NO_REAL),
	      (unsigned long long)no_real + 2);
}

/* --- picks: sequence and hashes ------------------------------------------------------ */

void fx_seq(const struct net *n)
{
	static const int order[4] = { 0, 1, 1, 2 };
	const char *const rs[] = { n->rs[0], n->rs[1], n->rs[2] };
	uint32_t ring[4];
	struct svc_fx s;
	struct wx_svc v;

	tables_clear();
	svc_make(&s, SID(n, 14), n->vip, 90, IPPROTO_TCP, WX_PICK_SEQ, WX_DR, rs, 0, 3);
	for (int i = 0; i < 4; i++)
		ring[i] = s.real[order[i]];
	ring_put(s.id, ring, 4);
	v = (struct wx_svc){ .id = s.id, .ring_size = 4, .pick = WX_PICK_SEQ };
	svc_put(n->vip, 90, IPPROTO_TCP, &v);
	for (int i = 0; i < 8; i++)
		dr_expect(n, "seq: new flows follow the ring (a b b c a b b c)", n->client,
			  (uint16_t)(44000 + i), 90, order[i % 4]);
	if (X.ncpu < 2)
		return;
	/* as IPVS's rr: one sequence, whichever CPU a connection arrives on */
	for (int i = 8; i < 16; i++) {
		fx_cpu(i & 1);
		dr_expect(n, "seq: one sequence for all CPUs", n->client, (uint16_t)(44000 + i), 90,
			  order[i % 4]);
	}
	fx_cpu(0);
}

/* The ring slot weir must pick for <addr> (and <port>, network order). */
static uint32_t predict(const char *addr, int with_port, uint16_t port)
{
	uint32_t w[4];

	pkt_addr(w, addr);
	return (with_port ? wx_hash_addr_port(w, port) : wx_hash_addr(w)) % WX_RING;
}

void fx_hash(const struct net *n)
{
	static const uint8_t picks[3] = { WX_PICK_SRC, WX_PICK_SRC_PORT, WX_PICK_DST };
	static const char *const what[3] = {
		"hash: source picks are stable and as predicted",
		"hash: source+port picks are as predicted",
		"hash: destination picks are as predicted",
	};
	const char *const rs[] = { n->rs[0], n->rs[1], n->rs[2] };
	static uint32_t ring[WX_RING];
	char addr[64];
	struct svc_fx s;

	tables_clear();
	for (int k = 0; k < 3; k++) {
		uint16_t port = (uint16_t)(91 + k);
		int used[3] = {0};
		struct wx_svc v;

		svc_make(&s, SID(n, 15 + k), n->vip, port, IPPROTO_TCP, WX_PICK_SEQ, WX_DR, rs, 0, 3);
		for (uint32_t i = 0; i < WX_RING; i++)
			ring[i] = s.real[(i * 7 + i / 5) % 3];
		ring_put(s.id, ring, WX_RING);
		v = (struct wx_svc){ .id = s.id, .ring_size = WX_RING, .pick = picks[k] };
		svc_put(n->vip, port, IPPROTO_TCP, &v);
		for (int c = 1; c <= 12; c++) {
			snprintf(addr, sizeof(addr), n->family == 4 ? "198.51.100.%d" : "2001:db8:c::%x",
				 c * 17);
			for (uint16_t sp = 45000; sp < 45003; sp++) {
				uint32_t slot = k == 2 ? predict(n->vip, 0, 0)
						       : predict(addr, k == 1, htons(sp));
				int real = (int)(ring[slot] - s.real[0]);

				used[real] = 1;
				dr_expect(n, what[k], addr, sp, port, real);
			}
		}
		if (k < 2)
			check(used[0] && used[1] && used[2], name(n, "hash: 12 clients reach all 3 reals"),
			      "reals used: %d %d %d", used[0], used[1], used[2]);
	}
}

/* --- TCP states, active counts, expiry ------------------------------------------------- */

static int state_is(const struct net *n, const char *what, const struct pkt_spec *in,
		    int state, long long active, uint32_t real)
{
	struct wx_flow f = {0};
	struct pkt p;

	pkt_build(&p, in);
	flow_get(&p, &f);
	return check(f.state == state && active_get(real) == active, name(n, what),
		     "state %u active %lld, want %d and %lld", f.state,
		     (long long)active_get(real), state, active);
}

static void nat_send(const struct net *n, const char *what, struct pkt_spec *in, uint8_t flags,
		     int real, uint16_t rport)
{
	struct pkt_spec w;

	in->flags = flags;
	w = to_mac(*in, MAC_R, MAC_RS[real]);
	w.dst = n->rs[real];
	w.dport = rport;
	expect_spec(name(n, what), in, X.if_c, XDP_REDIRECT, &w);
}

static void fx_udp_expiry(const struct net *n)
{
	const char *const rs[] = { n->rs[0], n->rs[1] };
	struct pkt_spec in;
	struct wx_config c;
	uint32_t ring[2];
	struct svc_fx u;

	svc_make(&u, SID(n, 19), n->vip, 95, IPPROTO_UDP, WX_PICK_SEQ, WX_NAT, rs, 8080, 2);
	in = client(n, n->client, n->vip, 46100, 95, IPPROTO_UDP, 0);
	nat_send(n, "udp: a flow to the first real", &in, 0, 0, 8080);
	ring[0] = ring[1] = u.real[1];
	ring_put(u.id, ring, 2);
	nat_send(n, "udp: a live flow ignores the ring change", &in, 0, 0, 8080);
	config_get(&c);
	c.udp_ms = 1;
	config_put(&c);
	usleep(20000);
	nat_send(n, "udp: once expired, the flow is scheduled again", &in, 0, 1, 8080);
	check(active_get(u.real[0]) == 0 && active_get(u.real[1]) == 1,
	      name(n, "udp: the expired flow left the old real's active count"),
	      "active %lld and %lld, want 0 and 1", (long long)active_get(u.real[0]),
	      (long long)active_get(u.real[1]));
	config_default();
}

void fx_state(const struct net *n)
{
	const char *const rs0[] = { n->rs[0] };
	struct pkt_spec a, b, c, r;
	struct svc_fx s;
	uint32_t x;

	tables_clear();
	svc_make(&s, SID(n, 18), n->vip, 94, IPPROTO_TCP, WX_PICK_SEQ, WX_NAT, rs0, 8080, 1);
	x = first_of(&s);
	a = client(n, n->client, n->vip, 46000, 94, IPPROTO_TCP, 0);
	nat_send(n, "state: SYN", &a, TCPF_SYN, 0, 8080);
	state_is(n, "state: SYN -> SYN, active 1", &a, WX_ST_SYN, 1, x);
	nat_send(n, "state: ACK", &a, TCPF_ACK, 0, 8080);
	state_is(n, "state: the client's ACK -> EST", &a, WX_ST_EST, 1, x);
	nat_send(n, "state: FIN", &a, TCPF_FIN | TCPF_ACK, 0, 8080);
	state_is(n, "state: FIN -> FIN, active 0", &a, WX_ST_FIN, 0, x);
	nat_send(n, "state: FIN again", &a, TCPF_FIN | TCPF_ACK, 0, 8080);
	state_is(n, "state: a second FIN counts nothing", &a, WX_ST_FIN, 0, x);
	nat_send(n, "state: RST", &a, TCPF_RST, 0, 8080);
	state_is(n, "state: RST -> CLOSE, active still 0", &a, WX_ST_CLOSE, 0, x);

	b = client(n, n->client, n->vip, 46001, 94, IPPROTO_TCP, 0);
	nat_send(n, "state: SYN of B", &b, TCPF_SYN, 0, 8080);
	nat_send(n, "state: RST of B", &b, TCPF_RST, 0, 8080);
	state_is(n, "state: SYN then RST -> CLOSE, active 0", &b, WX_ST_CLOSE, 0, x);

	c = client(n, n->client, n->vip, 46002, 94, IPPROTO_TCP, 0);
	nat_send(n, "state: SYN of C", &c, TCPF_SYN, 0, 8080);
	nat_send(n, "state: ACK of C", &c, TCPF_ACK, 0, 8080);
	r = from_real(MAC_RS0, n->rs[0], n->client, 8080, 46002, IPPROTO_TCP, TCPF_FIN | TCPF_ACK);
	{
		struct pkt_spec w = to_mac(r, MAC_C, MAC_GW_C);

		w.src = n->vip;
		w.sport = 94;
		expect_spec(name(n, "state: the real's FIN goes back"), &r, X.if_r, XDP_REDIRECT, &w);
	}
	state_is(n, "state: the real's FIN -> FIN, active 0", &c, WX_ST_FIN, 0, x);

	nat_send(n, "state: a SYN on A's closed 5-tuple", &a, TCPF_SYN, 0, 8080);
	state_is(n, "state: ...is a new flow", &a, WX_ST_SYN, 1, x);
	check(stats_get(s.id).conns == 4, name(n, "state: 4 connections counted"),
	      "conns %llu", (unsigned long long)stats_get(s.id).conns);
	fx_udp_expiry(n);
}

/* --- any-port services ------------------------------------------------------------------ */

void fx_anyport(const struct net *n)
{
	const char *const rs2[] = { n->rs[2] };
	struct pkt_spec in, w;
	struct svc_fx s;
	struct wx_svc v;

	tables_clear();
	svc_make(&s, SID(n, 23), n->vip2, 0, IPPROTO_TCP, WX_PICK_SEQ, WX_DR, rs2, 0, 1);
	v = (struct wx_svc){ .id = s.id, .ring_size = 1, .persist_ms = 60000,
			     .persist_prefix = (uint8_t)(n->family == 4 ? 32 : 128) };
	svc_put(n->vip2, 0, IPPROTO_TCP, &v);
	in = client(n, n->client, n->vip2, 47000, 1234, IPPROTO_TCP, TCPF_SYN);
	w = to_mac(in, MAC_R, MAC_RS2);
	expect_spec(name(n, "any port: a persistent port-0 service takes port 1234"), &in, X.if_c,
		    XDP_REDIRECT, &w);
	in.dport = 5678;
	w = to_mac(in, MAC_R, MAC_RS2);
	expect_spec(name(n, "any port: ...and port 5678"), &in, X.if_c, XDP_REDIRECT, &w);
	in.proto = IPPROTO_UDP;
	expect_spec(name(n, "any port: not UDP: passed"), &in, X.if_c, XDP_PASS, NULL);
}
