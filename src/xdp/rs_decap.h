/*
 * rs_decap.h - weir's tc-BPF IP-in-IP decapsulator (bpf/tc_decap.bpf.c) for
 * real servers whose kernel has no ipip/ip6tnl: attached at clsact ingress
 * of each device, with the VIPs it decapsulates for in a map pinned under
 * /sys/fs/bpf/weir/, so it outlives the command and later calls extend it.
 */
#ifndef WEIR_XDP_RS_DECAP_H
#define WEIR_XDP_RS_DECAP_H

#include <stdbool.h>

#include "core/addr.h"

/* Adds (or removes) <vip> to the decapsulated VIPs and makes sure the
 * program is attached to <devs>. 0 or -errno with a message on stderr. */
int rs_decap(bool add, const struct weir_addr *vip, const char *const *devs, int ndevs);
/* Prints the VIPs and devices. */
int rs_decap_show(void);

#endif
