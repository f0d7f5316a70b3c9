/*
 * xdp_int.h - what the files of src/xdp/ share inside the layer: xdp.c
 * owns the loaded program and the service ids, dns_maps.c writes the DNS
 * services' maps with them, attach.c decides where the program is
 * attached (with ifpick.c's answers from the kernel) and xdp_opts.c holds
 * the services' --interface row. Control thread only, but for ifpick.c's
 * lookups (any thread).
 */
#ifndef WEIR_XDP_INT_H
#define WEIR_XDP_INT_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/option.h"
#include "core/spec.h"
#include "core/table.h"

struct weir_xdp;

/* --- xdp.c ------------------------------------------------------------------------ */

/* Loads the program if it is not loaded (its settings written): 0 or
 * -errno with <err> (SPEC_ERR_MAX). */
int xdp_load(char *err);
/* Unloads the program when it carries no packet-mode service and the
 * config names no interface (a failed change loaded it for nothing). */
void xdp_unload_idle(void);
/* The xdp { } block's settings in force (defaults without a config). */
const struct xdp_spec *xdp_settings(void);

/* The loaded program's skeleton; NULL when the data path is not running. */
struct weir_xdp *xdp_skel(void);
int xdp_ncpus(void);
/* A free service id (ring, cursor, stats slot), or -1; and its release. */
int xdp_svc_id_alloc(void);
void xdp_svc_id_free(uint32_t id);
/* The number of DNS services in wx_dns_svcs, into wx_config. */
void xdp_dns_count(uint32_t n);
/* Forgets every DNS service (the program is being unloaded). */
void xdp_dns_stop(void);

/* --- attach.c: where the program runs ------------------------------------------------
 * Attachments are BPF links (closing the fd detaches). Two kinds: the
 * config's (xdp { interface }), kept while the config names them, and
 * automatic ones, made in a packet-mode service's svc_prepare (the
 * interfaces it needs, or its --interface) and dropped at the sync after
 * the last service needing them left. */

/* Registers the services' area and the --interface row (xdp_register). */
void xdp_attach_register(void);
/* Attaches the config's interfaces (<spec>), the new ones first: on failure
 * the old set stays. 0 or -errno with <err>. The program is loaded. */
int xdp_attach_config(const struct xdp_spec *spec, char *err);
/* The svc_prepare hook: finds what packet-mode service <svc> (to become
 * <sp>) needs, attaches it, or refuses with the reason. */
int xdp_attach_prepare(struct virtual_service *svc, const struct service_spec *sp, char *err);
/* After a sync of the maps: detaches what no service and no config needs
 * any more. True if anything is still attached. */
bool xdp_attach_sync(struct vs_table *t);
/* Detaches everything (weir stops). */
void xdp_attach_stop(void);
/* The TUN outer / FULLNAT source of <family> (AF_INET, AF_INET6): the
 * config's `local`, else the one chosen from the routes; NULL if none. */
const struct weir_addr *xdp_local(int family);

/* --- ifpick.c: the kernel's answers ------------------------------------------------ */

/* The route the kernel would take to an address. */
struct xdp_route {
	int type;                       /* RTN_UNICAST, RTN_LOCAL... */
	int oif;                        /* output interface; 0 = none */
	char oif_name[IF_NAMESIZE];
	struct weir_addr src;           /* the source it would choose; family 0 = none */
	bool via_gateway;
};

/* RTM_GETROUTE for <dst>: 0, or -errno (-ENETUNREACH: no route). */
int xdp_route_get(const struct weir_addr *dst, struct xdp_route *r);
/* The name of the (non-loopback) interface holding address <a>: 0, or
 * -ENOENT when none does. */
int xdp_addr_holder(const struct weir_addr *a, char name[IF_NAMESIZE]);
/* False if <ifname> has IPv4 (IPv6, by <family>) forwarding off. */
bool xdp_forwarding_on(const char *ifname, int family);

/* --- xdp_opts.c: the service's --interface ----------------------------------------- */

#define XDP_SVC_IFACES 4

/* Plain data (the option area is copied as bytes). */
struct xdp_opts {
	char ifaces[XDP_SVC_IFACES][IF_NAMESIZE]; /* "" after the last */
};

extern struct opt_block xdp_opt_block;

static inline const struct xdp_opts *xdp_opts_spec(const struct service_spec *s)
{
	return (const struct xdp_opts *)(const void *)(s->opts + xdp_opt_block.off);
}

#endif
