/*
 * udp.h - the layer-4 UDP proxy (--proxy udp): sessions between clients
 * and real servers over datagrams. See udp.c for the design.
 */
#ifndef WEIR_UDP_H
#define WEIR_UDP_H

#include "core/mode.h"
#include "core/worker.h"

extern const struct svc_mode udp_mode;

/* The worker's end (pworker.c, after its sessions and listeners are
 * closed): the upstream sockets and tables go. */
void udp_worker_fini(struct worker *w);

#endif
