/*
 * harness.h - what the BPF fixtures stand on: a network namespace of their
 * own with fixed addresses, routes and permanent neighbours (so that
 * bpf_fib_lookup answers the same every run), weir_xdp and tc_decap loaded
 * from their skeletons, their maps filled directly, and BPF_PROG_TEST_RUN.
 *
 * The topology (IPv6 alongside, see NET4/NET6 in harness.c):
 *
 *   clients 198.51.100.0/24           director              reals 10.0.2.11-13
 *   via router 10.0.1.254  --- wxc 10.0.1.1 | wxr 10.0.2.1 --- far reals 203.0.113.0/24
 *   DR real on this LAN 10.0.1.11                               via router 10.0.2.254
 *
 * Everything lives in the namespace the process unshared at start: it ends
 * with the process, whatever happens, and nothing is attached to a device.
 */
#ifndef WEIR_TESTS_BPF_HARNESS_H
#define WEIR_TESTS_BPF_HARNESS_H

#include <stdint.h>
#include <linux/types.h>

#include "weir_xdp.h"
#include "pkt.h"

/* MACs: the director's two ports, the two routers, the reals. */
#define MAC_C     "02:00:00:00:01:01"
#define MAC_GW_C  "02:00:00:00:01:fe"
#define MAC_LAN   "02:00:00:00:01:11"
#define MAC_R     "02:00:00:00:02:01"
#define MAC_GW_R  "02:00:00:00:02:fe"
#define MAC_RS0   "02:00:00:00:02:11"
#define MAC_RS1   "02:00:00:00:02:12"
#define MAC_RS2   "02:00:00:00:02:13"

/* One address family's view of the topology. */
struct net {
	int family;
	const char *vip, *vip2;         /* virtual IPs (no device holds them) */
	const char *client, *client2;   /* two clients in different /24 (/64) */
	const char *client_near;        /* same /24 (/64) as client */
	const char *rs[3];              /* reals on wxr's LAN: MAC_RS0..2 */
	const char *lan;                /* a real on the clients' LAN: MAC_LAN */
	const char *far[2];             /* reals behind the router on wxr */
	const char *noneigh;            /* on wxr's LAN, no neighbour entry */
	const char *unrouted;           /* no route at all */
	const char *local;              /* the director's address on wxr */
	int prefix;                     /* persistence prefix for client/client_near */
};

extern const struct net NET4, NET6;

struct fx {
	struct weir_xdp *xdp;
	struct tc_decap *tc;
	int if_c, if_r;                 /* ifindex of wxc, wxr */
	int ncpu;
	int passed, failed;
};

extern struct fx X;

/* Sets up the namespace and loads both programs; exits on failure. The
 * fixtures want small connection tables (<small_maps>: they are
 * preallocated), the benchmark the real ones. */
void fx_init(int small_maps);
void fx_fini(void);
/* Moves the process to <cpu>: BPF_PROG_TEST_RUN runs where it is. */
void fx_cpu(int cpu);
/* Runs a shell command (ip ...) in the fixtures' namespace; exits if it fails. */
void fx_sh(const char *cmd);

/* --- checks ---------------------------------------------------------------------- */

/* One check: passes if <ok>, else prints "FAIL <what>: <detail>". */
int check(int ok, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Runs <in> through weir_xdp as received on <ifindex>; output in <out>.
 * Returns the verdict, or -errno if the kernel refused the run. */
int xdp_run(const struct pkt *in, int ifindex, struct pkt *out);

/* Checks that <in> on <ifindex> gets <verdict> and, if <want>, that the
 * output equals it field by field; a forwarded packet's checksums are
 * verified from scratch. <out> (may be NULL) receives the output. */
int expect(const char *what, const struct pkt *in, int ifindex, int verdict,
	   const struct pkt *want, struct pkt *out);

/* Same, building <in> from <s>; an expected output <want> is built from
 * <w> when it is not NULL (else the input is expected back untouched). */
int expect_spec(const char *what, const struct pkt_spec *s, int ifindex, int verdict,
		const struct pkt_spec *w);

const char *verdict_name(int v);

/* --- the maps --------------------------------------------------------------------- */

void svc_put(const char *vip, uint16_t port, int proto, const struct wx_svc *v);
void real_put(uint32_t idx, const char *addr, uint16_t port, int mode, uint32_t svc_id,
	      uint32_t flags);
void real_flags(uint32_t idx, uint32_t flags);
void ring_put(uint32_t svc_id, const uint32_t *reals, uint32_t n);
void config_put(const struct wx_config *c);
void config_get(struct wx_config *c);
void cursor_reset(uint32_t svc_id);
/* Empties the connection, reply and persistence tables. */
void tables_clear(void);

int64_t active_get(uint32_t real);
uint64_t global_get(uint32_t which);
struct wx_stats stats_get(uint32_t slot);
/* The flow of packet <p> as the client sent it; 0 if found. */
int flow_get(const struct pkt *p, struct wx_flow *f);
void flow_key(const struct pkt *p, struct wx_flow_key *k);
int back_count(void);

/* A service with <n> reals of <mode>, indexes <first>...: ring in order. */
struct svc_fx {
	uint32_t id;
	uint32_t real[8];
	uint32_t n;
};
void svc_make(struct svc_fx *sf, uint32_t id, const char *vip, uint16_t port, int proto,
	      uint8_t pick, int mode, const char *const *reals, uint16_t rport, uint32_t n);

#endif
