/*
 * xdp_int.h - what the files of src/xdp/ share inside the layer: xdp.c
 * owns the loaded program and the service ids, dns_maps.c writes the DNS
 * services' maps with them. Control thread only.
 */
#ifndef WEIR_XDP_INT_H
#define WEIR_XDP_INT_H

#include <stdint.h>

struct weir_xdp;

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

#endif
