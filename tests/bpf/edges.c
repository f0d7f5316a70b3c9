/*
 * edges.c - fixtures of what weir_xdp must leave alone or survive:
 * non-VIP traffic, IP options, fragments, extension headers, malformed
 * headers, every truncation of valid packets, damaged and random frames.
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

/* --- what is not weir's ---------------------------------------------------------------- */

static void insert(struct pkt *p, size_t at, const void *bytes, size_t n)
{
	memmove(p->b + at + n, p->b + at, p->len - at);
	memcpy(p->b + at, bytes, n);
	p->len += n;
}

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static void fx_pass_edits(const struct net *n, const struct pkt *base)
{
	static const uint8_t vlan[4] = { 0x81, 0x00, 0x00, 0x07 };
	size_t l4 = pkt_l4_off(base);
	struct pkt p;

	p = *base;
	insert(&p, 12, vlan, 4);
	expect(name(n, "pass: a VLAN-tagged frame"), &p, X.if_c, XDP_PASS, NULL, NULL);
	if (n->family == 4) {
		static const uint8_t nops[4] = { 1, 1, 1, 0 };

		p = *base;
		insert(&p, l4, nops, 4);
		p.b[14] = 0x46;
		put16(p.b + 16, (uint16_t)(p.len - 14));
		pkt_fix_sums(&p);
		expect(name(n, "pass: IPv4 with options"), &p, X.if_c, XDP_PASS, NULL, NULL);
		p = *base;
		p.b[20] |= 0x20;
		pkt_fix_sums(&p);
		expect(name(n, "pass: an IPv4 first fragment (MF)"), &p, X.if_c, XDP_PASS, NULL, NULL);
		p = *base;
		p.b[21] = 100;
		pkt_fix_sums(&p);
		expect(name(n, "pass: an IPv4 later fragment"), &p, X.if_c, XDP_PASS, NULL, NULL);
		p = *base;
		put16(p.b + 16, (uint16_t)(p.len - 14 + 1));
		pkt_fix_sums(&p);
		expect(name(n, "pass: IPv4 total length beyond the frame"), &p, X.if_c, XDP_PASS,
		       NULL, NULL);
		p = *base;
		put16(p.b + 16, 19);
		expect(name(n, "pass: IPv4 total length under 20"), &p, X.if_c, XDP_PASS, NULL, NULL);
		p = *base;
		p.b[14] = 0x55;
		expect(name(n, "pass: IP version 5"), &p, X.if_c, XDP_PASS, NULL, NULL);
	} else {
		uint8_t hbh[8] = { IPPROTO_TCP, 0, 1, 4, 0, 0, 0, 0 };
		uint8_t frag[8] = { IPPROTO_TCP, 0, 0, 0, 0, 0, 0, 1 };

		p = *base;
		insert(&p, l4, hbh, 8);
		p.b[20] = 0;    /* next header: hop-by-hop options */
		put16(p.b + 18, (uint16_t)(p.len - 54));
		expect(name(n, "pass: IPv6 with a hop-by-hop header"), &p, X.if_c, XDP_PASS, NULL, NULL);
		p = *base;
		insert(&p, l4, frag, 8);
		p.b[20] = 44;   /* fragment header */
		put16(p.b + 18, (uint16_t)(p.len - 54));
		expect(name(n, "pass: an IPv6 fragment"), &p, X.if_c, XDP_PASS, NULL, NULL);
		p = *base;
		put16(p.b + 18, (uint16_t)(p.len - 54 + 1));
		expect(name(n, "pass: IPv6 payload length beyond the frame"), &p, X.if_c, XDP_PASS,
		       NULL, NULL);
	}
	p = *base;
	p.b[l4 + 12] = 4 << 4;
	expect(name(n, "pass: TCP data offset under 5"), &p, X.if_c, XDP_PASS, NULL, NULL);
	p = *base;
	p.b[l4 + 12] = 15 << 4;
	expect(name(n, "pass: TCP data offset beyond the segment"), &p, X.if_c, XDP_PASS, NULL, NULL);
	p = *base;
	p.b[12] = 0x08;
	p.b[13] = 0x06;
	expect(name(n, "pass: ARP"), &p, X.if_c, XDP_PASS, NULL, NULL);
}

void fx_pass(const struct net *n)
{
	const char *const rs0[] = { n->rs[0] };
	const char *other = n->family == 4 ? "192.0.2.99" : "2001:db8:10::99";
	struct pkt_spec in;
	struct svc_fx s, u;
	struct pkt base;

	tables_clear();
	svc_make(&s, SID(n, 20), n->vip, 96, IPPROTO_TCP, WX_PICK_SEQ, WX_DR, rs0, 0, 1);
	svc_make(&u, SID(n, 24), n->vip, 97, IPPROTO_UDP, WX_PICK_SEQ, WX_DR, rs0, 0, 1);
	in = client(n, n->client, other, 49000, 96, IPPROTO_TCP, TCPF_SYN);
	expect_spec(name(n, "pass: not a VIP"), &in, X.if_c, XDP_PASS, NULL);
	in = client(n, n->client, n->vip, 49000, 95, IPPROTO_TCP, TCPF_SYN);
	expect_spec(name(n, "pass: a VIP's port without a service"), &in, X.if_c, XDP_PASS, NULL);
	in = client(n, n->client, n->vip, 49000, 96, IPPROTO_UDP, 0);
	expect_spec(name(n, "pass: UDP to a TCP service's port"), &in, X.if_c, XDP_PASS, NULL);
	in = client(n, n->client, n->vip, 49000, 97, IPPROTO_UDP, 0);
	pkt_build(&base, &in);
	base.b[pkt_l4_off(&base) + 5] += 1; /* UDP length one past the datagram */
	expect(name(n, "pass: UDP length beyond the IP payload"), &base, X.if_c, XDP_PASS, NULL,
	       NULL);
	if (n->family == 4) {
		/* a short datagram in a 60-byte minimum Ethernet frame */
		struct pkt_spec w;
		struct pkt p, want;

		in.payload = 2;
		pkt_build(&p, &in);
		w = to_mac(in, MAC_R, MAC_RS0);
		pkt_build(&want, &w);
		memset(p.b + p.len, 0, 60 - p.len);
		memset(want.b + want.len, 0, 60 - want.len);
		p.len = want.len = 60;
		expect(name(n, "dr: a frame with Ethernet padding is forwarded, padding kept"), &p,
		       X.if_c, XDP_REDIRECT, &want, NULL);
	}
	in = client(n, n->client, n->vip, 49000, 96, IPPROTO_TCP, TCPF_SYN);
	pkt_build(&base, &in);
	fx_pass_edits(n, &base);
}

/* --- malformed and truncated ------------------------------------------------------------- */

/* Every prefix of <p> must run; shorter than the IP header says: PASS, untouched. */
static void truncations(const struct net *n, const char *what, const struct pkt *p, int ifindex)
{
	char detail[256] = "";
	static struct pkt cut, out;
	int bad = 0;

	for (size_t len = 0; len <= p->len; len++) {
		int v;

		memcpy(cut.b, p->b, len);
		cut.len = len;
		v = xdp_run(&cut, ifindex, &out);
		if (len < 14 && v == -EINVAL)
			continue;       /* the kernel runs no frame shorter than Ethernet */
		if (len < p->len && v == XDP_PASS && out.len == len && !memcmp(out.b, cut.b, len))
			continue;
		if (len == p->len && (v == XDP_TX || v == XDP_REDIRECT))
			continue;
		if (!bad++)
			snprintf(detail, sizeof(detail), "at %zu of %zu bytes: %s%s", len, p->len,
				 v < 0 ? "refused: " : verdict_name(v), v < 0 ? strerror(-v) : "");
	}
	check(!bad, name(n, what), "%d lengths wrong, first %s", bad, detail);
}

void fx_truncated(const struct net *n)
{
	const char *const rs[] = { n->rs[0] }, *const far[] = { n->far[0] };
	struct pkt_spec in;
	struct svc_fx s;
	struct pkt p;

	tables_clear();
	svc_make(&s, SID(n, 25), n->vip, 100, IPPROTO_TCP, WX_PICK_SEQ, WX_DR, rs, 0, 1);
	svc_make(&s, SID(n, 26), n->vip, 101, IPPROTO_UDP, WX_PICK_SEQ, WX_NAT, rs, 53, 1);
	svc_make(&s, SID(n, 27), n->vip, 102, IPPROTO_TCP, WX_PICK_SEQ, WX_TUN, far, 0, 1);
	svc_make(&s, SID(n, 28), n->vip, 103, IPPROTO_TCP, WX_PICK_SEQ, WX_FULLNAT, rs, 80, 1);
	in = client(n, n->client, n->vip, 50000, 100, IPPROTO_TCP, TCPF_SYN);
	pkt_build(&p, &in);
	truncations(n, "truncated: every prefix of a DR TCP packet", &p, X.if_c);
	in = client(n, n->client, n->vip, 50000, 101, IPPROTO_UDP, 0);
	pkt_build(&p, &in);
	truncations(n, "truncated: every prefix of a NAT UDP packet", &p, X.if_c);
	in = client(n, n->client, n->vip, 50000, 102, IPPROTO_TCP, TCPF_ACK);
	pkt_build(&p, &in);
	truncations(n, "truncated: every prefix of a TUN TCP packet", &p, X.if_c);
	in = client(n, n->client, n->vip, 50000, 103, IPPROTO_TCP, TCPF_SYN);
	pkt_build(&p, &in);
	truncations(n, "truncated: every prefix of a FULLNAT TCP packet", &p, X.if_c);
	in = from_real(MAC_RS0, n->rs[0], n->client, 53, 50000, IPPROTO_UDP, 0);
	pkt_build(&p, &in);
	truncations(n, "truncated: every prefix of a NAT reply", &p, X.if_r);
}

/* Random damage to valid packets and random frames: the program must run
 * and answer one of the four verdicts every time. */
void fx_garbage(void)
{
	static struct pkt base[6], p, out;
	const struct net *nets[2] = { &NET4, &NET6 };
	unsigned seed = 1;
	int bad = 0, runs = 0;
	char detail[160] = "";

	for (int i = 0; i < 6; i++) {
		const struct net *n = nets[i & 1];
		static const uint16_t ports[3] = { 100, 101, 103 };
		struct pkt_spec in = client(n, n->client, n->vip, 51000, ports[i / 2],
					    i / 2 == 1 ? IPPROTO_UDP : IPPROTO_TCP, TCPF_SYN);

		pkt_build(&base[i], &in);
	}
	for (int i = 0; i < 6000; i++) {
		int v, flips;

		p = base[rand_r(&seed) % 6];
		if (i % 10 == 9) {      /* a random frame of an IP type */
			p.len = 14 + (size_t)(rand_r(&seed) % 120);
			for (size_t k = 12; k < p.len; k++)
				p.b[k] = (uint8_t)rand_r(&seed);
			p.b[12] = i & 1 ? 0x86 : 0x08;
			p.b[13] = i & 1 ? 0xdd : 0x00;
		}
		flips = p.len > 14 ? 1 + rand_r(&seed) % 4 : 0;
		for (int k = 0; k < flips; k++)
			p.b[14 + rand_r(&seed) % (p.len - 14)] ^= (uint8_t)(1 + rand_r(&seed) % 255);
		if (rand_r(&seed) % 4 == 0)
			p.len = 14 + (size_t)rand_r(&seed) % (p.len - 13);
		v = xdp_run(&p, i & 2 ? X.if_c : X.if_r, &out);
		runs++;
		if (v == XDP_PASS || v == XDP_DROP || v == XDP_TX || v == XDP_REDIRECT)
			continue;
		if (!bad++)
			snprintf(detail, sizeof(detail), "run %d (%zu bytes): %s%s", i, p.len,
				 v < 0 ? "refused: " : verdict_name(v), v < 0 ? strerror(-v) : "");
	}
	check(!bad, "garbage: 6000 damaged and random frames each get a verdict",
	      "%d of %d wrong, first %s", bad, runs, detail);
}

void fx_counters(void)
{
	uint64_t rx = global_get(WX_G_RX), pass = global_get(WX_G_PASS);
	uint64_t fwd = global_get(WX_G_FWD), drop = global_get(WX_G_DROP);

	check(rx > 0 && rx == pass + fwd + drop, "counters: every packet seen is passed, "
	      "forwarded or dropped", "rx %llu pass %llu fwd %llu drop %llu",
	      (unsigned long long)rx, (unsigned long long)pass, (unsigned long long)fwd,
	      (unsigned long long)drop);
}
