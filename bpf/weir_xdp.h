/*
 * weir_xdp.h - what the XDP data path (bpf/weir_xdp.bpf.c) and its control
 * (src/xdp/) share: the maps' keys and values. Both sides include this
 * file; it uses only the kernel's fixed-width types (__u8..__u64), which
 * vmlinux.h gives the BPF side and <linux/types.h> user space.
 *
 * Byte order: addresses and ports are in network order, as in packets;
 * every other number is in host order.
 *
 * The maps, each with its one purpose:
 *   wx_services  HASH     wx_svc_key -> wx_svc       virtual services (VIP, port, protocol)
 *   wx_reals     ARRAY    u32 idx -> wx_real         real servers, by index
 *   wx_rings     ARRAY    svc_id * WX_RING + slot -> u32 real idx
 *                                                    per-service lookup tables
 *   wx_flows     LRU_HASH wx_flow_key -> wx_flow     the connection table, keyed by
 *                                                    the packet as the client sent it
 *   wx_back      LRU_HASH wx_flow_key -> wx_back     NAT/FULLNAT replies, keyed by the
 *                                                    packet as the real server sends it
 *   wx_persist   LRU_HASH wx_persist_key -> wx_persist  persistence templates (-p)
 *   wx_stats     PERCPU_ARRAY u32 -> wx_stats        counters: [0, WX_MAX_SERVICES)
 *                                                    services, then reals (WX_STATS_REAL + idx)
 *   wx_active    PERCPU_ARRAY u32 real idx -> __s64  flows opened minus flows ended, per
 *                                                    real (the lc family's input)
 *   wx_cursor    ARRAY    u32 svc_id -> u32          next slot of a sequence service
 *                                                    (one for all CPUs, atomic)
 *   wx_config    ARRAY    0 -> wx_config             director-wide settings
 *   wx_global    PERCPU_ARRAY u32 WX_G_* -> u64      what the program did, for operators
 *
 * and those of the DNS answers (bpf/wx_dns.bpf.h), whose services share the
 * service ids (and so wx_rings and wx_cursor) with the packet-mode ones:
 *   wx_dns_svcs  HASH     wx_svc_key -> wx_dns_svc   DNS services answered here
 *   wx_dns_names HASH     wx_dns_name_key -> wx_dns_name  the names each owns, and
 *                                                    those that exist without addresses
 *   wx_dns_negs  ARRAY    svc_id * 2 + half -> wx_dns_neg  the zone's apex and SOA
 *                                                    record: NXDOMAIN and NODATA
 *   wx_dns_sets  ARRAY    (svc_id * 2 + half) * 2 + (AAAA) -> wx_dns_set
 *                                                    address records: two halves, one
 *                                                    in use, the other rewritten
 *   wx_dns_stats PERCPU_ARRAY svc_id -> wx_dns_stats  what was answered
 * (and wx_dns_scratch, the program's own: a query's bytes, read once)
 *
 * weir_xdp.bpf.c has three more maps of its own, which user space leaves
 * alone: wx_nh_real and wx_nh_client (bpf_fib_lookup answers kept 100 ms)
 * and wx_nat_srcs (which sources may be NAT replies). If wx_back is kept
 * across a reload of the program, keep wx_nat_srcs with it.
 *
 * and the one map of the real servers' tc decapsulator (bpf/tc_decap.bpf.c):
 *   wx_vips      HASH     wx_vip_key -> __u8         VIPs bound on lo whose IP-in-IP
 *                                                    packets it decapsulates (value 1)
 */
#ifndef WEIR_XDP_H
#define WEIR_XDP_H

#define WX_MAX_SERVICES 256
#define WX_MAX_REALS    4096
#define WX_RING         16381       /* slots per service table: prime, for Maglev */
#define WX_MAX_FLOWS    (1u << 20)
#define WX_MAX_PERSIST  (1u << 18)
#define WX_NONE         0xffffffffu /* an empty ring slot */
#define WX_STATS_REAL   WX_MAX_SERVICES
#define WX_STATS_SIZE   (WX_MAX_SERVICES + WX_MAX_REALS)

/* How a real server is reached (ipvsadm -g, -i, -m; -b is weir's). */
enum wx_mode {
	WX_DR = 0,       /* same IP packet, destination MAC rewritten */
	WX_TUN = 1,      /* IPv4-in-IPv4 / IPv6-in-IPv6, outer source = local4/local6 */
	WX_NAT = 2,      /* destination rewritten; replies' source rewritten back */
	WX_FULLNAT = 3,  /* also the source: a local address and port */
};

/* How a new flow picks its slot in the service's ring. */
enum wx_pick {
	WX_PICK_SEQ = 0,      /* the next slot of a shared cursor (rr, wrr, lc ...:
	                       * user space writes the sequence of picks) */
	WX_PICK_SRC = 1,      /* hash of the source address (sh, mh) */
	WX_PICK_SRC_PORT = 2, /* ... and source port (sh-port, mh-port) */
	WX_PICK_DST = 3,      /* hash of the destination address (dh) */
	WX_PICK_SH = 4,       /* DNS services: IPVS sh's bucket of the source address,
	                       * hash_32(fold, 8), as user space's sh picks (256 slots) */
};

struct wx_addr {
	__u32 w[4];           /* IPv4 in w[0], the rest zero */
};

struct wx_svc_key {
	struct wx_addr vip;
	__u16 port;           /* 0: a persistent any-port service (ipvsadm -p, port 0) */
	__u8 proto;           /* IPPROTO_TCP / IPPROTO_UDP */
	__u8 family;          /* 4 or 6 */
};

#define WX_SVC_RESET_GONE 0x01 /* flows of a removed or down real are dropped
                                * (TCP answered with RST by the client's retries
                                * reaching a new real); else kept until they end */

struct wx_svc {
	__u32 id;             /* its ring, stats slot and cursor */
	__u32 ring_size;      /* slots in use (<= WX_RING); 0 = no real available */
	__u8 pick;            /* enum wx_pick */
	__u8 flags;           /* WX_SVC_* */
	__u8 persist_prefix;  /* persistence groups clients by this prefix length */
	__u8 pad;
	__u32 persist_ms;     /* template life; 0 = not persistent */
};

#define WX_REAL_LIVE 0x01     /* the slot holds a real server */
#define WX_REAL_OUT  0x02     /* removed, down or in maintenance: no new flows */

struct wx_real {
	struct wx_addr addr;
	__u16 port;           /* NAT/FULLNAT: the real's port; DR/TUN: 0 (the VIP's) */
	__u8 family;          /* 4 or 6 */
	__u8 mode;            /* enum wx_mode */
	__u32 svc_id;
	__u32 flags;          /* WX_REAL_* */
};

struct wx_flow_key {
	struct wx_addr src, dst;
	__u16 sport, dport;
	__u8 proto, family;
	__u16 pad;
};

/* TCP state as the director sees it; it decides how long a flow lives. */
enum wx_state { WX_ST_SYN = 1, WX_ST_EST = 2, WX_ST_FIN = 3, WX_ST_CLOSE = 4, WX_ST_UDP = 5 };

struct wx_flow {
	__u32 real;
	__u32 svc_id;
	__u64 seen_ns;        /* bpf_ktime_get_coarse_ns() of its last packet
	                       * (CLOCK_MONOTONIC, to a tick) */
	__u8 state;           /* enum wx_state */
	__u8 pad;
	__u16 lport;          /* FULLNAT: the local port it was given */
	struct wx_addr laddr; /* FULLNAT: the local address */
};

struct wx_back {
	struct wx_addr src;   /* the reply's new source (the VIP) */
	struct wx_addr dst;   /* FULLNAT: its new destination (the client) */
	__u16 sport, dport;   /* the same for ports (dport used by FULLNAT only) */
	__u32 real;
	__u32 svc_id;
	__u32 pad;
	__u64 seen_ns;
};

struct wx_persist_key {
	struct wx_addr src;   /* masked with the service's persist_prefix */
	__u32 svc_id;
	__u32 pad;
};

struct wx_persist {
	__u32 real;
	__u32 pad;
	__u64 seen_ns;
};

struct wx_stats {
	__u64 conns, inpkts, outpkts, inbytes, outbytes;
};

/* Timeouts when wx_config leaves them 0: those of IPVS (the program's, and
 * what -L -c computes expiries with). */
#define WX_DEF_SYN_MS 60000
#define WX_DEF_EST_MS 900000
#define WX_DEF_FIN_MS 120000
#define WX_DEF_UDP_MS 300000

struct wx_config {
	struct wx_addr local4;       /* this director's IPv4 (TUN outer source, FULLNAT) */
	struct wx_addr local6;       /* ... and IPv6 */
	__u16 fullnat_lo, fullnat_hi; /* FULLNAT local ports, host order, inclusive */
	__u32 tcp_syn_ms;            /* how long a flow lives after its last packet: */
	__u32 tcp_est_ms;            /* ... established */
	__u32 tcp_fin_ms;            /* ... after FIN or RST */
	__u32 udp_ms;
	__u32 dns_services;          /* DNS services in wx_dns_svcs: 0 skips the lookup */
};

/* A VIP of a TUN real server, for tc_decap's wx_vips. */
#define WX_MAX_VIPS 256
struct wx_vip_key {
	struct wx_addr addr;
	__u8 family;          /* 4 or 6 */
	__u8 pad[3];
};

/* wx_global counters. */
enum wx_global {
	WX_G_RX,          /* packets seen */
	WX_G_PASS,        /* not ours (non-VIP, fragments, IP options, malformed): passed */
	WX_G_FWD,         /* forwarded (XDP_TX / redirect) */
	WX_G_DROP,        /* dropped (no real available, reset policy) */
	WX_G_NEW,         /* new flows */
	WX_G_NO_REAL,     /* new flow, no real available */
	WX_G_FIB_FAIL,    /* no route or neighbour to the next hop: passed to the stack */
	WX_G_TOO_BIG,     /* TUN: answered ICMP fragmentation needed / packet too big */
	WX_G_PORTS_FULL,  /* FULLNAT: no local port free */
	WX_G_DNS,         /* DNS queries answered here (XDP_TX) */
	WX_G_DNS_PASS,    /* DNS queries passed to weir's socket (user space answers) */
	WX_G_COUNT
};

/* --- DNS answers (bpf/wx_dns.bpf.h) ----------------------------------------
 * What a DNS service (--proxy dns) answers without user space: A and AAAA
 * queries for the names it owns, with the records its zone holds (the
 * user-space server's, src/dns/answer.h, copied byte for byte), and NODATA
 * and NXDOMAIN for the names of its zone, with its SOA record. Memory:
 * wx_dns_sets is WX_MAX_SERVICES * 4 * ~3.9 KB (4 MB), wx_dns_negs
 * WX_MAX_SERVICES * 2 * 456 B, wx_dns_stats WX_MAX_SERVICES * 2.1 KB per
 * CPU, wx_dns_names WX_DNS_MAX_NAMES * 140 B. */
#define WX_DNS_NAME      128   /* a name's wire form in a key; longer names: passed */
#define WX_DNS_RRS       64    /* records of one set (src/dns/answer.h DNS_RRSET_MAX) */
#define WX_DNS_RR_MAX    28    /* an AAAA record: pointer, type, class, TTL, length, 16 */
#define WX_DNS_NAMES     16    /* names counted one by one, then "other" (server.c) */
#define WX_DNS_MSG       512   /* query bytes read; a larger query is passed */
#define WX_DNS_MAX_NAMES (WX_MAX_SERVICES * 16)
#define WX_DNS_NONE      0xffff /* a ring slot's server has no record of that family */

/* A ring slot of a DNS service (wx_rings): the index of its server's record
 * in the A set (low 16 bits) and in the AAAA set (high 16), WX_DNS_NONE if
 * it has none. */
#define WX_DNS_SLOT(a, aaaa) ((__u32)(a) | (__u32)(aaaa) << 16)

struct wx_dns_svc {
	__u32 id;             /* the service id: ring, cursor, sets, stats */
	__u32 ring_size;      /* slots of its ring in use; 0: rotate through the set */
	__u8 pick;            /* WX_PICK_SEQ or WX_PICK_SH */
	__u8 half;            /* which half of its wx_dns_sets is current: a new
	                       * zone is written to the other, then this flips */
	__u16 edns_size;      /* the UDP payload size its OPT record offers */
};

struct wx_dns_name_key {
	__u32 id;
	__u8 name[WX_DNS_NAME]; /* wire form, ASCII lower case, zeros after it */
};

#define WX_DNS_OWNED 0   /* a name the service answers with addresses */
#define WX_DNS_EMPTY 1   /* the apex or a name above an owned one: exists, no
                          * address of its own (NODATA) */

struct wx_dns_name {
	__u32 idx;            /* WX_DNS_OWNED: its place among the service's names
	                       * (counters); WX_DNS_EMPTY: WX_DNS_NAMES ("other") */
	__u32 kind;           /* WX_DNS_OWNED or WX_DNS_EMPTY */
};

/* What a negative answer needs: the zone's apex (a name under it that is
 * not in wx_dns_names does not exist) and its SOA record as the authority
 * section carries it (RFC 2308), but for its owner, a pointer into the
 * question's name. */
#define WX_DNS_SOA 320        /* type, class, TTL, length, rdata; larger: passed */
struct wx_dns_neg {
	__u16 soa_len;        /* bytes in soa; 0: no negative answers here */
	__u16 apex_len;
	__u32 soa_sum;        /* their sum as big-endian 16-bit words, folded */
	__u8 apex[WX_DNS_NAME];  /* wire form, lower case */
	__u8 soa[WX_DNS_SOA];
};

/* One family's records, as the zone holds them. */
struct wx_dns_set {
	__u16 n;              /* records; 0: none (NODATA, user space answers) */
	__u16 len;            /* bytes of each: 16 (A) or 28 (AAAA) */
	__u16 k;              /* records per answer (the `answers` option, <= n) */
	__u16 pad;
	__u32 sum[WX_DNS_RRS]; /* the ones' complement sum of the k records from
	                        * record i on, as 16-bit big-endian words, folded */
	__u8 rr[2 * WX_DNS_RRS * WX_DNS_RR_MAX]; /* the n records, then again: the
	                        * k from any first are one run of bytes */
};

struct wx_dns_stats {
	__u64 queries;        /* answered: one datagram in, one out */
	__u64 inbytes, outbytes; /* DNS messages' bytes */
	__u64 q[WX_DNS_NAMES + 1][2]; /* addresses, by name (then "other") x A, AAAA */
	__u64 first[2][WX_DNS_RRS];   /* by family x record: answers it came first in */
	__u64 neg[WX_DNS_NAMES + 1][3][2]; /* negative answers, by name x A, AAAA,
	                                    * another type x NODATA, NXDOMAIN */
};

#endif
