/*
 * pkt.h - packets for the BPF fixtures: built from a short description,
 * compared field by field, checksums verified from scratch. Deliberately
 * independent of bpf/wx_packet.bpf.h: the fixtures check that code, they
 * must not share its mistakes.
 */
#ifndef WEIR_TESTS_BPF_PKT_H
#define WEIR_TESTS_BPF_PKT_H

#include <stddef.h>
#include <stdint.h>

#define PKT_MAX 4096

struct pkt {
	uint8_t b[PKT_MAX];
	size_t len;
};

#define TCPF_FIN 0x01
#define TCPF_SYN 0x02
#define TCPF_RST 0x04
#define TCPF_PSH 0x08
#define TCPF_ACK 0x10

/* What pkt_build() makes: Ethernet, [outer IP,] IP, TCP or UDP, payload.
 * Addresses are text ("192.0.2.1", "2001:db8::1", "02:00:00:00:00:01");
 * the family comes from the address. IP fields not named here have fixed
 * values (IPv4 id 0x1234, TTL/hop limit 64, no options), so an expected
 * packet built from a copy of the input's spec differs only where the
 * spec does. */
struct pkt_spec {
	const char *smac, *dmac;
	const char *src, *dst;
	uint16_t sport, dport;     /* host order */
	int proto;                 /* IPPROTO_TCP or IPPROTO_UDP */
	uint8_t flags;             /* TCP */
	uint8_t tos;
	int df;                    /* IPv4 DF */
	int payload;               /* payload bytes (a fixed pattern) */
	int udp_nocsum;            /* IPv4 UDP sent with checksum 0 */
	const char *outer_src, *outer_dst; /* set: IP-in-IP around it (TUN) */
};

/* Builds <s> into <p> with correct lengths and checksums. */
void pkt_build(struct pkt *p, const struct pkt_spec *s);

/* The ICMP "fragmentation needed" (IPv4) or ICMPv6 "packet too big"
 * answer to <orig> that weir sends: from orig's destination to its source,
 * quoting orig's IP header and 8 bytes of payload. */
void pkt_too_big(struct pkt *p, const struct pkt *orig, const char *smac, const char *dmac,
		 uint32_t mtu);

/* Compares <got> with <want> field by field; writes one line per differing
 * field (at most <cap> bytes) into <why>. Returns the number of differences. */
int pkt_diff(const struct pkt *got, const struct pkt *want, char *why, size_t cap);

/* Verifies every checksum of <p> (IPv4 header, TCP/UDP/ICMP/ICMPv6, and
 * those of an IP-in-IP inner packet) from scratch. 0, or -1 with the
 * reason in <why>. */
int pkt_sums_ok(const struct pkt *p, char *why, size_t cap);

/* Byte offsets of a plain (not tunnelled) packet's headers. */
size_t pkt_l4_off(const struct pkt *p);

void pkt_mac(uint8_t mac[6], const char *text);
/* <text> as the four words of a struct wx_addr and its family (4 or 6). */
int pkt_addr(uint32_t w[4], const char *text);

/* Recomputes every checksum of a plain packet after a test edited it. */
void pkt_fix_sums(struct pkt *p);

#endif
