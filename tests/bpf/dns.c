/*
 * dns.c - fixtures of the DNS fast path (bpf/wx_dns.bpf.h): queries to a
 * DNS service answered in place, the response compared byte for byte with
 * what user space (src/dns/answer.c dns_respond(), linked in) writes for
 * the same zone and first record, checksums verified from scratch; and
 * every query that must reach the socket passed untouched.
 */
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fixtures.h"
#include "dns_oracle.h"
#include "weir_xdp.skel.h"

#define DNS_SID(n) ((n)->family == 4 ? 50u : 150u)
#define NSRV 4                      /* 3 IPv4, 1 IPv6 */
#define BIG 40                      /* servers of the zone too large for 512 bytes */

/* The fixtures' own sum (not src/xdp/dns_maps.c's: they must not share its
 * mistakes), of big-endian 16-bit words, folded. */
static uint32_t sum16(const uint8_t *p, size_t len)
{
	uint64_t s = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint32_t)s;
}

static void put_set(uint32_t id, int aaaa, const struct oracle_set *r, uint32_t answers)
{
	static struct wx_dns_set v;
	uint32_t key = (id * 2 + 0) * 2 + (uint32_t)aaaa;
	size_t bytes = (size_t)r->n * r->len;

	memset(&v, 0, sizeof(v));
	v.n = r->n;
	v.len = r->len;
	v.k = answers && answers < r->n ? (uint16_t)answers : r->n;
	if (bytes) {
		memcpy(v.rr, r->rr, bytes);
		memcpy(v.rr + bytes, r->rr, bytes);
	}
	for (int i = 0; i < r->n; i++)
		v.sum[i] = sum16(v.rr + (size_t)i * r->len, (size_t)v.k * r->len);
	bpf_map_update_elem(bpf_map__fd(X.xdp->maps.wx_dns_sets), &key, &v, BPF_ANY);
}

/* Service <id> on the VIP:53 answering zone <z>; ring: the servers in order. */
static void dns_svc(const struct net *n, uint32_t id, const struct oracle *z)
{
	struct wx_dns_svc v = { .id = id, .pick = WX_PICK_SEQ, .edns_size = 1232 };
	struct wx_svc_key k = { .port = htons(53), .proto = IPPROTO_UDP };
	uint32_t ring[BIG];
	struct wx_config c;

	k.family = (uint8_t)pkt_addr(k.vip.w, n->vip);
	static const uint8_t empty[2][32] = { "\7example\4test", "\4deep\7example\4test" };
	static struct wx_dns_neg neg;
	uint32_t nkey = id * 2;

	for (uint32_t i = 0; i < z->nnames + 2; i++) {
		struct wx_dns_name_key nk = { .id = id };
		struct wx_dns_name nv = { .idx = i, .kind = WX_DNS_OWNED };

		if (i < z->nnames) {
			memcpy(nk.name, z->names[i], z->name_len[i]);
		} else {
			memcpy(nk.name, empty[i - z->nnames], strlen((const char *)empty[i - z->nnames]));
			nv.idx = WX_DNS_NAMES;
			nv.kind = WX_DNS_EMPTY;
		}
		bpf_map_update_elem(bpf_map__fd(X.xdp->maps.wx_dns_names), &nk, &nv, BPF_ANY);
	}
	memset(&neg, 0, sizeof(neg));
	neg.soa_len = (uint16_t)z->soa_len;
	neg.apex_len = (uint16_t)z->apex_len;
	neg.soa_sum = sum16(z->soa, z->soa_len);
	memcpy(neg.apex, z->apex, z->apex_len);
	memcpy(neg.soa, z->soa, z->soa_len);
	bpf_map_update_elem(bpf_map__fd(X.xdp->maps.wx_dns_negs), &nkey, &neg, BPF_ANY);
	put_set(id, 0, &z->a, z->answers);
	put_set(id, 1, &z->aaaa, z->answers);
	/* slot i: A record i, and the AAAA one for the last server */
	v.ring_size = z->a.n + z->aaaa.n;
	for (uint32_t i = 0; i < v.ring_size; i++)
		ring[i] = i < z->a.n ? WX_DNS_SLOT(i, WX_DNS_NONE) :
			  WX_DNS_SLOT(WX_DNS_NONE, i - z->a.n);
	ring_put(id, ring, v.ring_size);
	cursor_reset(id);
	bpf_map_update_elem(bpf_map__fd(X.xdp->maps.wx_dns_svcs), &k, &v, BPF_ANY);
	config_get(&c);
	c.dns_services = 1;
	config_put(&c);
}

/* A query for <name> (text, its case kept) of <type>; <edns>: an OPT
 * record (with a cookie option, as dig sends; DO if <edns> is 2). */
static size_t query(uint8_t *q, const char *name, uint16_t type, int edns)
{
	size_t len = 12;

	memset(q, 0, 12);
	q[0] = 0xab, q[1] = 0xcd, q[2] = 0x01; /* RD */
	q[5] = 1;
	q[11] = edns ? 1 : 0;
	len += oracle_name(name, q + 12);
	q[len++] = (uint8_t)(type >> 8), q[len++] = (uint8_t)type;
	q[len++] = 0, q[len++] = 1;
	if (edns) {
		static const uint8_t opt[] = { 0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 12,
					       0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8 };

		memcpy(q + len, opt, sizeof(opt));
		if (edns == 2)
			q[len + 7] = 0x80;
		len += sizeof(opt);
	}
	return len;
}

/* sh: the ring is IPVS's 256 buckets, slot b holding A record b % n; a
 * client's first record is that of its bucket as user space's sh puts it
 * there (the program's hash is the scheduler's). */
static void sh_pick(const struct net *n, const struct oracle *z)
{
	struct wx_svc_key k = { .port = htons(53), .proto = IPPROTO_UDP };
	struct wx_dns_svc v;
	const char *const clients[] = { n->client, n->client2, n->client_near };
	uint32_t ring[256];
	static uint8_t q[512], want[2048];
	static struct pkt in, out;

	k.family = (uint8_t)pkt_addr(k.vip.w, n->vip);
	bpf_map_lookup_elem(bpf_map__fd(X.xdp->maps.wx_dns_svcs), &k, &v);
	for (uint32_t b = 0; b < 256; b++)
		ring[b] = WX_DNS_SLOT(b % z->a.n, WX_DNS_NONE);
	ring_put(v.id, ring, 256);
	v.pick = WX_PICK_SH;
	v.ring_size = 256;
	bpf_map_update_elem(bpf_map__fd(X.xdp->maps.wx_dns_svcs), &k, &v, BPF_ANY);
	for (int i = 0; i < 3; i++) {
		struct pkt_spec s = client(n, clients[i], n->vip, 40000, 53, IPPROTO_UDP, 0);
		size_t len = query(q, "www.example.test", 1, 0), wlen, l4;
		unsigned first = oracle_sh_bucket(clients[i]) % z->a.n;
		int rc;

		s.payload = (int)len;
		pkt_build(&in, &s);
		memcpy(in.b + pkt_l4_off(&in) + 8, q, len);
		pkt_fix_sums(&in);
		rc = xdp_run(&in, X.if_c, &out);
		wlen = oracle_respond(z, q, len, first, want, sizeof(want));
		l4 = pkt_l4_off(&out);
		check(rc == XDP_TX && out.len == l4 + 8 + wlen &&
		      memcmp(out.b + l4 + 8, want, wlen) == 0,
		      name(n, "dns: sh: the client's bucket as user space's sh hashes it"),
		      "client %s, bucket %u: not record %u first", clients[i],
		      oracle_sh_bucket(clients[i]), first);
	}
}

static void packet(const struct net *n, struct pkt *p, const uint8_t *msg, size_t len)
{
	struct pkt_spec s = client(n, n->client, n->vip, 40000, 53, IPPROTO_UDP, 0);

	s.payload = (int)len;
	pkt_build(p, &s);
	memcpy(p->b + pkt_l4_off(p) + 8, msg, len);
	pkt_fix_sums(p);
}

/* The query <msg> answered in XDP with the records from <first>: the same
 * bytes as dns_respond() writes, headers turned back to the client. */
static void answered(const struct net *n, const char *what, const struct oracle *z,
		     const uint8_t *msg, size_t len, unsigned first)
{
	static struct pkt in, out;
	static uint8_t want[2048];
	size_t wlen, l4;
	char why[4096];
	int v;

	packet(n, &in, msg, len);
	v = xdp_run(&in, X.if_c, &out);
	if (!check(v == XDP_TX, name(n, what), "verdict %s", verdict_name(v)))
		return;
	wlen = oracle_respond(z, msg, len, first, want, sizeof(want));
	l4 = pkt_l4_off(&out);
	check(out.len == l4 + 8 + wlen && memcmp(out.b + l4 + 8, want, wlen) == 0,
	      name(n, what), "the DNS message differs from dns_respond()'s (%zu vs %zu bytes)",
	      out.len - l4 - 8, wlen);
	check(memcmp(out.b, in.b + 6, 6) == 0 && memcmp(out.b + 6, in.b, 6) == 0 &&
	      memcmp(out.b + l4, in.b + l4 + 2, 2) == 0 && memcmp(out.b + l4 + 2, in.b + l4, 2) == 0,
	      name(n, what), "%s", "MACs or ports not swapped");
	check(pkt_sums_ok(&out, why, sizeof(why)) == 0, name(n, what), "%s", why);
}

static void passed(const struct net *n, const char *what, const uint8_t *msg, size_t len)
{
	static struct pkt in;

	packet(n, &in, msg, len);
	expect(name(n, what), &in, X.if_c, XDP_PASS, &in, NULL);
}

static uint64_t rnd_state = 0x5eed5eed12345678ull;

static uint32_t rnd(uint32_t below)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (uint32_t)(rnd_state >> 11) % below;
}

/* Queries mutated at random (bytes changed, cut, extended): each is either
 * answered with exactly user space's response or passed untouched. One
 * record per family, so the first record is always the first. */
static void mutations(const struct net *n)
{
	static const char *const names[] = { "www.example.test", "API.example.test",
					     "www.example.tesT" };
	struct oracle *z = oracle_zone(2);
	static struct pkt in, out;
	static uint8_t q[600], want[2048];
	int tx = 0, pass = 0, bad = 0;

	tables_clear();
	dns_svc(n, DNS_SID(n), z);
	for (int i = 0; i < 3000; i++) {
		size_t len = query(q, names[rnd(3)], rnd(2) ? 1 : 28, (int)rnd(3)), wlen, l4;
		int rc, changes = (int)rnd(4);

		for (int c = 0; c < changes; c++) {
			switch (rnd(4)) {
			case 0:
				len -= len > 13 ? rnd(4) : 0;
				break;
			case 1:
				q[len++] = (uint8_t)rnd(256);
				break;
			default:
				q[rnd((uint32_t)len)] = (uint8_t)(rnd(2) ? rnd(256) : rnd(64));
			}
		}
		packet(n, &in, q, len);
		rc = xdp_run(&in, X.if_c, &out);
		if (rc == XDP_TX) {
			tx++;
			wlen = oracle_respond(z, q, len, 0, want, sizeof(want));
			l4 = pkt_l4_off(&out);
			if (!wlen || out.len != l4 + 8 + wlen || memcmp(out.b + l4 + 8, want, wlen))
				bad++;
		} else {
			pass++;
			if (rc != XDP_PASS || out.len != in.len || memcmp(out.b, in.b, in.len))
				bad++;
		}
	}
	check(!bad && tx > 100 && pass > 100, name(n, "dns: 3000 mutated queries: answered as "
						   "user space answers, or passed untouched"),
	      "%d wrong (%d answered, %d passed)", bad, tx, pass);
	oracle_free(z);
}

/* Plain queries answered, the rotation, the question's case, EDNS and DO. */
static void answers_plain(const struct net *n, const struct oracle *z)
{
	uint64_t before = global_get(WX_G_DNS);
	uint8_t q[512];
	size_t len;

	tables_clear();
	dns_svc(n, DNS_SID(n), z);
	len = query(q, "www.example.test", 1, 1);
	answered(n, "dns: A with EDNS, the first record first", z, q, len, 0);
	answered(n, "dns: the next query, the next record first", z, q, len, 1);
	answered(n, "dns: and the next", z, q, len, 2);
	/* slot 3 is the IPv6 server's: passed over to slot 0 */
	answered(n, "dns: a slot without an A record passed over", z, q, len, 0);
	len = query(q, "WwW.ExAmPlE.TeSt", 1, 0);
	cursor_reset(DNS_SID(n));
	answered(n, "dns: no EDNS, the question's case kept", z, q, len, 0);
	len = query(q, "api.example.test", 28, 2);
	answered(n, "dns: AAAA, DO copied", z, q, len, 0);
	check(global_get(WX_G_DNS) - before == 6, name(n, "dns: answers counted"), "%s", "");
}

/* NODATA and NXDOMAIN: the SOA in the authority section, its owner a
 * pointer into the question. */
static void negatives(const struct net *n, const struct oracle *z)
{
	uint8_t q[512];
	size_t len;

	len = query(q, "www.example.test", 15, 1);
	answered(n, "dns: MX for a name: NODATA", z, q, len, 0);
	len = query(q, "nope.Example.test", 1, 1);
	answered(n, "dns: a name under the apex not owned: NXDOMAIN", z, q, len, 0);
	len = query(q, "a.b.nope.example.test", 28, 0);
	answered(n, "dns: NXDOMAIN, no EDNS, deeper", z, q, len, 0);
	len = query(q, "DEEP.example.test", 1, 2);
	answered(n, "dns: an empty non-terminal: NODATA", z, q, len, 0);
	len = query(q, "example.test", 1, 1);
	answered(n, "dns: A at the apex: NODATA", z, q, len, 0);
	len = query(q, "x.deep.example.test", 28, 1);
	answered(n, "dns: a name under the empty non-terminal: addresses", z, q, len, 0);
	len = query(q, "www.example.tes", 1, 1);
	passed(n, "dns: outside the zone (REFUSED) passed", q, len);
	len = query(q, "xexample.test", 1, 1);
	passed(n, "dns: a name ending like the apex, not under it, passed", q, len);
	len = query(q, "example.test", 6, 1);
	passed(n, "dns: SOA at the apex passed", q, len);
	len = query(q, "example.test", 2, 1);
	passed(n, "dns: NS passed", q, len);
	len = query(q, "www.example.test", 255, 1);
	passed(n, "dns: ANY passed (RFC 8482)", q, len);
}

/* What user space must answer: passed untouched. */
static void passes(const struct net *n)
{
	uint8_t q[512];
	size_t len;

	len = query(q, "www.example.test", 1, 1);
	q[len - 12 + 1] = 8;    /* the cookie option becomes a Client Subnet */
	passed(n, "dns: an EDNS Client Subnet passed", q, len);
	len = query(q, "www.example.test", 1, 0);
	q[2] |= 0x80;
	passed(n, "dns: QR set passed", q, len);
	len = query(q, "www.example.test", 1, 0);
	q[5] = 2;
	passed(n, "dns: two questions passed", q, len);
	len = query(q, "www.example.test", 1, 0);
	passed(n, "dns: a question cut short passed", q, len - 3);
	len = query(q, "www.example.test", 1, 1);
	q[len - 23 + 6] = 1;    /* EDNS version 1 */
	passed(n, "dns: EDNS version 1 passed (BADVERS is user space's)", q, len);
}

/* Zones of another shape: `answers 2` (a rotation that wraps), and one
 * too large for a client without EDNS. */
static void answers_shapes(const struct net *n)
{
	struct oracle *z = oracle_zone_answers(NSRV, 2);
	uint8_t q[512];
	size_t len = query(q, "www.example.test", 1, 1);

	tables_clear();
	dns_svc(n, DNS_SID(n), z);
	answered(n, "dns: answers 2, from the first record", z, q, len, 0);
	answered(n, "dns: answers 2, from the second", z, q, len, 1);
	answered(n, "dns: answers 2, from the third: the set wraps", z, q, len, 2);
	oracle_free(z);

	z = oracle_zone(BIG);
	tables_clear();
	dns_svc(n, DNS_SID(n), z);
	len = query(q, "www.example.test", 1, 0);
	passed(n, "dns: an answer over the client's 512 bytes passed (TC)", q, len);
	len = query(q, "www.example.test", 1, 1);
	answered(n, "dns: the same with EDNS fits", z, q, len, 0);
	len = query(q, "www.example.test", 28, 1);
	answered(n, "dns: AAAA with no IPv6 server: NODATA", z, q, len, 0);
	oracle_free(z);
}

void fx_dns(const struct net *n)
{
	struct oracle *z = oracle_zone(NSRV);

	answers_plain(n, z);
	negatives(n, z);
	passes(n);
	sh_pick(n, z);
	oracle_free(z);
	answers_shapes(n);
	mutations(n);
}
