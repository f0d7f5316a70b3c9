/*
 * fixtures.h - what the fixture files share: names that carry the family,
 * the packets clients and real servers send, expectations, and each
 * file's fixtures. One file per subject:
 *   fixtures.c  these helpers, and main
 *   modes.c     DR, TUN, NAT, FULLNAT; failing routes, the route cache
 *   sched.c     persistence, OUT reals, sequence and hash picks, TCP
 *               states and active counts, expiry, any-port services
 *   edges.c     what is passed untouched, truncated and damaged frames
 *   decap.c     tc_decap
 *   dns.c       DNS answers in XDP, against user space's dns_respond()
 */
#ifndef WEIR_TESTS_BPF_FIXTURES_H
#define WEIR_TESTS_BPF_FIXTURES_H

#include <stdint.h>

#include "harness.h"

/* Service ids: each family has its own range (ids share rings and stats). */
#define SID(n, k) ((n)->family == 4 ? (uint32_t)(k) : 100u + (k))

#define FULLNAT_LO 20000
#define FULLNAT_HI 20999

extern const char *const MAC_RS[3];

/* "[v4] what": fixture names carry their family (8 rotating buffers). */
const char *name(const struct net *n, const char *what);
/* A client's packet as it arrives from the clients' router on wxc. */
struct pkt_spec client(const struct net *n, const char *src, const char *dst,
		       uint16_t sport, uint16_t dport, int proto, uint8_t flags);
/* A real server's packet as it arrives on wxr. */
struct pkt_spec from_real(const char *mac, const char *src, const char *dst,
			  uint16_t sport, uint16_t dport, int proto, uint8_t flags);
/* <s> with other Ethernet addresses, as it leaves. */
struct pkt_spec to_mac(struct pkt_spec s, const char *smac, const char *dmac);
/* Compares an output packet with the one <w> describes, checksums too. */
int same(const char *what, const struct pkt *got, const struct pkt_spec *w);
/* local4/6, FULLNAT_LO..FULLNAT_HI, the default timeouts. */
void config_default(void);
/* A client's SYN from <src>:<sport> to the VIP:<dport> must leave for real
 * <real> (0..2 on wxr's LAN) with only its MACs changed (DR). */
void dr_expect(const struct net *n, const char *what, const char *src, uint16_t sport,
	       uint16_t dport, int real);

void fx_dr(const struct net *n);
void fx_tun(const struct net *n);
void fx_nat(const struct net *n);
void fx_fullnat(const struct net *n);
void fx_fib(const struct net *n);
void fx_route_cache(const struct net *n);
void fx_persist(const struct net *n);
void fx_out(const struct net *n);
void fx_seq(const struct net *n);
void fx_hash(const struct net *n);
void fx_state(const struct net *n);
void fx_anyport(const struct net *n);
void fx_pass(const struct net *n);
void fx_truncated(const struct net *n);
void fx_garbage(void);
void fx_counters(void);
void fx_decap(const struct net *n);
void fx_dns(const struct net *n);

#endif
