/*
 * xdp.h - the control of the XDP data path (bpf/weir_xdp.bpf.c) that
 * carries weir's packet-mode services (ipvsadm -g/-i/-m, and FULLNAT).
 *
 * It loads the program, attaches it to the interfaces of the config's
 * `xdp { }` block and to those each packet-mode service needs, which it
 * finds from the kernel's routes or the service's --interface (attach.c;
 * native mode, generic with a warning when the driver has none), through
 * BPF links, so the program goes away with the process even when weir
 * dies; refuses a table change it could not forward (svc_prepare); keeps the maps in step with the table (services, real
 * servers with their state, lookup tables built by the scheduler library);
 * and folds the data path's counters into the table's, so `-L --stats`,
 * `--rate`, JSON and /metrics show them.
 *
 * Lookup tables: for sh, dh and mh the scheduler's own static table (mh
 * with WX_RING slots); for every other scheduler the sequence of its next
 * picks, simulated on a copy of the servers with their current open-flow
 * counts, which the program walks with one cursor for all CPUs (reset to
 * the start when a new sequence is written). Tables of the schedulers
 * whose picks follow connection counts or chance (the `periodic` trait:
 * lc, wlc, sed, nq, lblc, lblcr, p2c, lrt, ovf, twos) are rebuilt every
 * rebuild_interval; the others when a server, weight or state changes.
 *
 * Control thread only.
 */
#ifndef WEIR_XDP_CTL_H
#define WEIR_XDP_CTL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/spec.h"
#include "core/table.h"

/* Registers the data path's area of the real servers and its table hooks
 * (src/register.c, at start-up). */
void xdp_register(void);

/* Takes the xdp { } block's settings; loads and attaches when <spec> names
 * interfaces (the services' own are attached by their svc_prepare). A
 * reload calls it again: interfaces are attached and detached to match
 * and the settings rewritten; flows survive. 0 or -errno with <err>. */
int xdp_configure(const struct xdp_spec *spec, char *err);
/* Makes the maps match the table (the sync hook: after every table_apply),
 * detaches the interfaces no service needs any more, and unloads the
 * program when nothing is attached. */
void xdp_sync(struct vs_table *t);
/* Every HEALTH_TICK_MS: tables of services whose servers changed, and the
 * periodic rebuilds. */
void xdp_tick(uint64_t now);
/* Every rate tick: the data path's counters into the table's. */
void xdp_fold_counters(void);
/* Detaches and unloads. */
void xdp_stop(void);
/* True while the data path is loaded. */
bool xdp_running(void);
/* The open flows of <rs> the data path counted at the last rate tick (0
 * for a server it does not carry). */
uint64_t xdp_rs_active(const struct real_server *rs);

/* What the lookup table of <svc> would hold, into <ring> (WX_RING slots of
 * server positions in svc->servers, -1 = empty): returns the slots used
 * and the pick kind (enum wx_pick). <active> gives each server's open
 * flows (NULL = the scheduler's own counts). Takes svc->lock. Pure of the
 * data path: the tests compare it with the scheduler. */
int xdp_build_ring(struct virtual_service *svc, const uint64_t *active, int32_t *ring,
		   uint32_t *used, uint8_t *pick);

/* --- DNS answers (bpf/wx_dns.bpf.h) -----------------------------------------------
 * The DNS mode (src/dns/dns_xdp.c) hands the data path what a DNS service
 * answers; this layer knows no DNS, only the maps' layout. Control thread. */

/* One family's records, in wire form, <len> bytes each (16 or 28). */
struct xdp_dns_set {
	const uint8_t *rr;
	uint16_t n, len;
};

/* What a DNS service answers in the data path. The pointers are read
 * during xdp_dns_put() only. */
struct xdp_dns {
	const uint8_t (*names)[255];    /* wire form, lower case */
	size_t nnames;
	const uint8_t (*empty)[255];    /* names that exist without addresses (the
	                                 * apex, those above a name): NODATA */
	size_t nempty;
	const uint8_t *apex;            /* wire form, lower case; under it, a name of
	                                 * neither list: NXDOMAIN */
	const uint8_t *soa;             /* the SOA record but for its owner: type,
	                                 * class, TTL, length, rdata; NULL: negative
	                                 * answers are left to user space */
	size_t soa_len;
	struct xdp_dns_set set[2];      /* A, AAAA */
	uint32_t answers;               /* records per answer; 0 = all */
	const uint32_t *ring;           /* WX_DNS_SLOT()s, <ring_size> of them */
	uint32_t ring_size;
	uint8_t pick;                   /* WX_PICK_SEQ or WX_PICK_SH */
	uint16_t edns_size;
};

/* Writes (or rewrites) the answers of DNS service <svc>: 0, -ENODEV when
 * the data path is not running, -ENOSPC without a free service slot. */
int xdp_dns_put(struct virtual_service *svc, const struct xdp_dns *d);
/* Stops answering for <svc> in the data path (no-op if it did not). */
void xdp_dns_drop(struct virtual_service *svc);
/* True if the data path answers for <svc> now. */
bool xdp_dns_has(const struct virtual_service *svc);
/* What the data path answered for <svc> since the last call, summed over
 * the CPUs, into <delta> (a struct wx_dns_stats of weir_xdp.h); 0, or
 * -ENOENT when it does not answer for <svc>. */
struct wx_dns_stats;
int xdp_dns_take_stats(const struct virtual_service *svc, struct wx_dns_stats *delta);

#endif
