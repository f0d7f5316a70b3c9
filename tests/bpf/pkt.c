/* pkt.c - building, comparing and checking fixture packets (see pkt.h). */
#include "pkt.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ETH_LEN  14
#define IP4_LEN  20
#define IP6_LEN  40
#define TCP_LEN  20
#define UDP_LEN  8
#define ICMP_QUOTE 8

static void fatal(const char *func, const char *what)
{
	fprintf(stderr, "%s: %s\n", func, what);
	abort();
}

void pkt_mac(uint8_t mac[6], const char *text)
{
	unsigned v[6];

	if (sscanf(text, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
		fatal(__func__, text);
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
}

int pkt_addr(uint32_t w[4], const char *text)
{
	memset(w, 0, 16);
	if (inet_pton(AF_INET, text, w) == 1)
		return 4;
	if (inet_pton(AF_INET6, text, w) == 1)
		return 6;
	fatal(__func__, text);
	return 0;
}

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = v >> 8;
	b[1] = v & 0xff;
}

static uint16_t get16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static void put32(uint8_t *b, uint32_t v)
{
	put16(b, v >> 16);
	put16(b + 2, v & 0xffff);
}

/* The ones' complement sum of <len> bytes as big-endian 16-bit words. */
static uint32_t sum_bytes(uint32_t s, const uint8_t *b, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		s += get16(b + i);
	if (len & 1)
		s += b[len - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* The pseudo-header sum of an L4 segment of <len> bytes after IP header <ip>. */
static uint32_t pseudo(const uint8_t *ip, int family, uint8_t proto, size_t len)
{
	uint32_t s = 0;

	if (family == 4)
		s = sum_bytes(s, ip + 12, 8);
	else
		s = sum_bytes(s, ip + 8, 32);
	return s + proto + (uint32_t)(len >> 16) + (uint32_t)(len & 0xffff);
}

/* Writes an IP header for <l4len> bytes of <proto> at <b>; returns its size. */
static size_t put_ip(uint8_t *b, int family, const uint32_t *src, const uint32_t *dst,
		     uint8_t proto, size_t l4len, uint8_t tos, int df, uint32_t first_word6)
{
	if (family == 4) {
		memset(b, 0, IP4_LEN);
		b[0] = 0x45;
		b[1] = tos;
		put16(b + 2, (uint16_t)(IP4_LEN + l4len));
		put16(b + 4, 0x1234);
		put16(b + 6, df ? 0x4000 : 0);
		b[8] = 64;
		b[9] = proto;
		memcpy(b + 12, src, 4);
		memcpy(b + 16, dst, 4);
		put16(b + 10, (uint16_t)~fold(sum_bytes(0, b, IP4_LEN)));
		return IP4_LEN;
	}
	memset(b, 0, IP6_LEN);
	put32(b, first_word6 ? first_word6 : 0x60000000u | (uint32_t)tos << 20);
	put16(b + 4, (uint16_t)l4len);
	b[6] = proto;
	b[7] = 64;
	memcpy(b + 8, src, 16);
	memcpy(b + 24, dst, 16);
	return IP6_LEN;
}

static void put_l4_sum(uint8_t *ip, int family, uint8_t proto, uint8_t *l4, size_t len,
		       int nocsum)
{
	size_t at = proto == IPPROTO_TCP ? 16 : 6;
	uint16_t c;

	put16(l4 + at, 0);
	if (nocsum)
		return;
	c = (uint16_t)~fold(sum_bytes(pseudo(ip, family, proto, len), l4, len));
	if (proto == IPPROTO_UDP && c == 0)
		c = 0xffff;
	put16(l4 + at, c);
}

void pkt_build(struct pkt *p, const struct pkt_spec *s)
{
	uint32_t src[4], dst[4], osrc[4], odst[4];
	int family = pkt_addr(src, s->src);
	size_t l4len, at = ETH_LEN, ip_at;
	uint8_t *b = p->b, *l4;

	if (pkt_addr(dst, s->dst) != family)
		fatal(__func__, "mixed families");
	memset(p, 0, sizeof(*p));
	pkt_mac(b, s->dmac);
	pkt_mac(b + 6, s->smac);
	put16(b + 12, family == 4 ? 0x0800 : 0x86dd);
	l4len = (s->proto == IPPROTO_TCP ? TCP_LEN : UDP_LEN) + (size_t)s->payload;
	if (s->outer_src) {
		size_t inner = (family == 4 ? IP4_LEN : IP6_LEN) + l4len;

		if (pkt_addr(osrc, s->outer_src) != family || pkt_addr(odst, s->outer_dst) != family)
			fatal(__func__, "mixed tunnel families");
		/* weir's outer header: inner TOS / first word, DF, id 0 */
		at += put_ip(b + at, family, osrc, odst, family == 4 ? 4 : 41, inner, s->tos, 1,
			     family == 6 ? 0x60000000u | (uint32_t)s->tos << 20 : 0);
		if (family == 4) {
			put16(b + ETH_LEN + 4, 0);
			put16(b + ETH_LEN + 10, 0);
			put16(b + ETH_LEN + 10, (uint16_t)~fold(sum_bytes(0, b + ETH_LEN, IP4_LEN)));
		}
	}
	ip_at = at;
	at += put_ip(b + at, family, src, dst, (uint8_t)s->proto, l4len, s->tos, s->df, 0);
	l4 = b + at;
	put16(l4, s->sport);
	put16(l4 + 2, s->dport);
	if (s->proto == IPPROTO_TCP) {
		put32(l4 + 4, 0x01020304);
		put32(l4 + 8, s->flags & TCPF_ACK ? 0x0a0b0c0d : 0);
		l4[12] = (TCP_LEN / 4) << 4;
		l4[13] = s->flags;
		put16(l4 + 14, 65535);
	} else {
		put16(l4 + 4, (uint16_t)l4len);
	}
	for (int i = 0; i < s->payload; i++)
		l4[(s->proto == IPPROTO_TCP ? TCP_LEN : UDP_LEN) + i] = (uint8_t)(i * 7 + 3);
	put_l4_sum(b + ip_at, family, (uint8_t)s->proto, l4, l4len, s->udp_nocsum);
	p->len = at + l4len;
	if (p->len > PKT_MAX)
		fatal(__func__, "too long");
}

void pkt_too_big(struct pkt *p, const struct pkt *orig, const char *smac, const char *dmac,
		 uint32_t mtu)
{
	const uint8_t *oip = orig->b + ETH_LEN;
	int family = orig->b[12] == 0x08 ? 4 : 6;
	size_t iplen = family == 4 ? IP4_LEN : IP6_LEN, quote = iplen + ICMP_QUOTE;
	uint8_t *b = p->b, *icmp;
	uint32_t src[4] = {0}, dst[4] = {0};

	memset(p, 0, sizeof(*p));
	pkt_mac(b, dmac);
	pkt_mac(b + 6, smac);
	put16(b + 12, family == 4 ? 0x0800 : 0x86dd);
	memcpy(src, oip + (family == 4 ? 16 : 24), family == 4 ? 4 : 16);
	memcpy(dst, oip + (family == 4 ? 12 : 8), family == 4 ? 4 : 16);
	put_ip(b + ETH_LEN, family, src, dst, family == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6,
	       8 + quote, 0, 0, 0);
	if (family == 4) {  /* weir sends id 0 */
		put16(b + ETH_LEN + 4, 0);
		put16(b + ETH_LEN + 10, 0);
		put16(b + ETH_LEN + 10, (uint16_t)~fold(sum_bytes(0, b + ETH_LEN, IP4_LEN)));
	}
	icmp = b + ETH_LEN + iplen;
	if (family == 4) {
		icmp[0] = 3;
		icmp[1] = 4;
		put16(icmp + 6, (uint16_t)mtu);
	} else {
		icmp[0] = 2;
		put32(icmp + 4, mtu);
	}
	memcpy(icmp + 8, oip, quote);
	put16(icmp + 2, (uint16_t)~fold(sum_bytes(family == 4 ? 0 :
				pseudo(b + ETH_LEN, 6, IPPROTO_ICMPV6, 8 + quote), icmp, 8 + quote)));
	p->len = ETH_LEN + iplen + 8 + quote;
}

size_t pkt_l4_off(const struct pkt *p)
{
	return ETH_LEN + (p->b[12] == 0x08 ? IP4_LEN : IP6_LEN);
}

void pkt_fix_sums(struct pkt *p)
{
	uint8_t *ip = p->b + ETH_LEN, proto;
	int family = p->b[12] == 0x08 ? 4 : 6;
	size_t l4len;

	if (family == 4) {
		put16(ip + 10, 0);
		put16(ip + 10, (uint16_t)~fold(sum_bytes(0, ip, (size_t)(ip[0] & 15) * 4)));
		proto = ip[9];
		l4len = get16(ip + 2) - (size_t)(ip[0] & 15) * 4;
		put_l4_sum(ip, 4, proto, ip + (ip[0] & 15) * 4, l4len, 0);
	} else {
		proto = ip[6];
		l4len = get16(ip + 4);
		put_l4_sum(ip, 6, proto, ip + IP6_LEN, l4len, 0);
	}
}

/* --- dissecting, for readable differences ----------------------------------- */

struct field {
	char name[40];
	size_t off, len;
	int addr;               /* 4 or 6: print as an address */
};

struct fields {
	struct field f[64];
	int n;
};

static void add(struct fields *fs, const char *pfx, const char *name, size_t off, size_t len,
		int addr)
{
	struct field *f;

	if (fs->n == (int)(sizeof(fs->f) / sizeof(fs->f[0])))
		return;
	f = &fs->f[fs->n++];
	snprintf(f->name, sizeof(f->name), "%s%s", pfx, name);
	f->off = off;
	f->len = len;
	f->addr = addr;
}

static void dissect_ip(struct fields *fs, const struct pkt *p, size_t at, const char *pfx);

static void dissect_l4(struct fields *fs, const struct pkt *p, size_t at, int proto,
		       const char *pfx)
{
	switch (proto) {
	case IPPROTO_TCP:
		add(fs, pfx, "tcp.sport", at, 2, 0);
		add(fs, pfx, "tcp.dport", at + 2, 2, 0);
		add(fs, pfx, "tcp.seq", at + 4, 4, 0);
		add(fs, pfx, "tcp.ack", at + 8, 4, 0);
		add(fs, pfx, "tcp.off", at + 12, 1, 0);
		add(fs, pfx, "tcp.flags", at + 13, 1, 0);
		add(fs, pfx, "tcp.window", at + 14, 2, 0);
		add(fs, pfx, "tcp.check", at + 16, 2, 0);
		add(fs, pfx, "tcp.urg", at + 18, 2, 0);
		at += TCP_LEN;
		break;
	case IPPROTO_UDP:
		add(fs, pfx, "udp.sport", at, 2, 0);
		add(fs, pfx, "udp.dport", at + 2, 2, 0);
		add(fs, pfx, "udp.len", at + 4, 2, 0);
		add(fs, pfx, "udp.check", at + 6, 2, 0);
		at += UDP_LEN;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		add(fs, pfx, "icmp.type", at, 1, 0);
		add(fs, pfx, "icmp.code", at + 1, 1, 0);
		add(fs, pfx, "icmp.check", at + 2, 2, 0);
		add(fs, pfx, "icmp.mtu", at + 4, 4, 0);
		if (at + 8 < p->len)
			dissect_ip(fs, p, at + 8, "quoted ");
		return;
	case 4:
	case 41:
		dissect_ip(fs, p, at, "inner ");
		return;
	}
	if (at < p->len)
		add(fs, pfx, "payload", at, p->len - at, 0);
}

static void dissect_ip(struct fields *fs, const struct pkt *p, size_t at, const char *pfx)
{
	const uint8_t *ip = p->b + at;

	if (at + 1 > p->len)
		return;
	if (ip[0] >> 4 == 4) {
		add(fs, pfx, "ip.version/ihl", at, 1, 0);
		add(fs, pfx, "ip.tos", at + 1, 1, 0);
		add(fs, pfx, "ip.tot_len", at + 2, 2, 0);
		add(fs, pfx, "ip.id", at + 4, 2, 0);
		add(fs, pfx, "ip.frag_off", at + 6, 2, 0);
		add(fs, pfx, "ip.ttl", at + 8, 1, 0);
		add(fs, pfx, "ip.protocol", at + 9, 1, 0);
		add(fs, pfx, "ip.check", at + 10, 2, 0);
		add(fs, pfx, "ip.saddr", at + 12, 4, 4);
		add(fs, pfx, "ip.daddr", at + 16, 4, 4);
		if (at + IP4_LEN <= p->len && !strcmp(pfx, "quoted ")) {
			add(fs, pfx, "first 8 payload bytes", at + IP4_LEN, 8, 0);
			return;
		}
		if (at + IP4_LEN + 1 <= p->len)
			dissect_l4(fs, p, at + (size_t)(ip[0] & 15) * 4, ip[9], pfx);
	} else {
		add(fs, pfx, "ip6.version/tc/flow", at, 4, 0);
		add(fs, pfx, "ip6.payload_len", at + 4, 2, 0);
		add(fs, pfx, "ip6.nexthdr", at + 6, 1, 0);
		add(fs, pfx, "ip6.hop_limit", at + 7, 1, 0);
		add(fs, pfx, "ip6.saddr", at + 8, 16, 6);
		add(fs, pfx, "ip6.daddr", at + 24, 16, 6);
		if (at + IP6_LEN <= p->len && !strcmp(pfx, "quoted ")) {
			add(fs, pfx, "first 8 payload bytes", at + IP6_LEN, 8, 0);
			return;
		}
		if (at + IP6_LEN + 1 <= p->len && at + 7 <= p->len)
			dissect_l4(fs, p, at + IP6_LEN, ip[6], pfx);
	}
}

static void show(char *out, size_t cap, const uint8_t *b, size_t len, int addr)
{
	size_t n = 0;

	if (addr) {
		inet_ntop(addr == 4 ? AF_INET : AF_INET6, b, out, (socklen_t)cap);
		return;
	}
	out[0] = 0;
	for (size_t i = 0; i < len && i < 12 && n + 3 < cap; i++)
		n += (size_t)snprintf(out + n, cap - n, "%02x", b[i]);
	if (len > 12 && n + 4 < cap)
		snprintf(out + n, cap - n, "...");
}

int pkt_diff(const struct pkt *got, const struct pkt *want, char *why, size_t cap)
{
	struct fields fs = {0};
	size_t used = 0;
	int bad = 0;

	why[0] = 0;
	add(&fs, "", "eth.dst", 0, 6, 0);
	add(&fs, "", "eth.src", 6, 6, 0);
	add(&fs, "", "eth.type", 12, 2, 0);
	if (want->len > ETH_LEN)
		dissect_ip(&fs, want, ETH_LEN, "");
	if (got->len != want->len) {
		used += (size_t)snprintf(why + used, cap - used, "length %zu, want %zu; ",
					 got->len, want->len);
		bad++;
	}
	for (int i = 0; i < fs.n && used < cap; i++) {
		const struct field *f = &fs.f[i];
		size_t len = f->len;
		char g[64], w[64];

		if (f->off + len > want->len)
			len = want->len > f->off ? want->len - f->off : 0;
		if (f->off + len > got->len) {
			used += (size_t)snprintf(why + used, cap - used, "%s missing; ", f->name);
			bad++;
			continue;
		}
		if (!memcmp(got->b + f->off, want->b + f->off, len))
			continue;
		show(g, sizeof(g), got->b + f->off, len, f->addr);
		show(w, sizeof(w), want->b + f->off, len, f->addr);
		used += (size_t)snprintf(why + used, cap - used, "%s %s, want %s; ", f->name, g, w);
		bad++;
	}
	return bad;
}

/* --- checksums from scratch ----------------------------------------------------- */

static int sums_at(const struct pkt *p, size_t at, char *why, size_t cap)
{
	const uint8_t *ip = p->b + at, *l4;
	size_t hl, len;
	int family;
	uint8_t proto;

	if (at + 20 > p->len)
		return snprintf(why, cap, "IP header cut at %zu", at), -1;
	family = ip[0] >> 4;
	if (family == 4) {
		hl = (size_t)(ip[0] & 15) * 4;
		len = get16(ip + 2);
		if (at + len > p->len || len < hl)
			return snprintf(why, cap, "IPv4 length %zu beyond the frame", len), -1;
		if (fold(sum_bytes(0, ip, hl)) != 0xffff)
			return snprintf(why, cap, "IPv4 header checksum %04x wrong", get16(ip + 10)), -1;
		proto = ip[9];
		len -= hl;
	} else if (family == 6) {
		hl = IP6_LEN;
		len = get16(ip + 4);
		if (at + hl + len > p->len)
			return snprintf(why, cap, "IPv6 payload length %zu beyond the frame", len), -1;
		proto = ip[6];
	} else {
		return snprintf(why, cap, "IP version %d", family), -1;
	}
	l4 = ip + hl;
	switch (proto) {
	case 4:
	case 41:
		return sums_at(p, at + hl, why, cap);
	case IPPROTO_UDP:
		if (family == 4 && get16(l4 + 6) == 0)
			return 0;
		/* fall through */
	case IPPROTO_TCP:
	case IPPROTO_ICMPV6:
		if (fold(sum_bytes(pseudo(ip, family, proto, len), l4, len)) != 0xffff)
			return snprintf(why, cap, "protocol %d checksum %04x wrong", proto,
					get16(l4 + (proto == IPPROTO_TCP ? 16 : proto == IPPROTO_UDP ? 6 : 2))), -1;
		return 0;
	case IPPROTO_ICMP:
		if (fold(sum_bytes(0, l4, len)) != 0xffff)
			return snprintf(why, cap, "ICMP checksum %04x wrong", get16(l4 + 2)), -1;
		return 0;
	}
	return 0;
}

int pkt_sums_ok(const struct pkt *p, char *why, size_t cap)
{
	if (p->len < ETH_LEN)
		return snprintf(why, cap, "shorter than Ethernet"), -1;
	return sums_at(p, ETH_LEN, why, cap);
}
