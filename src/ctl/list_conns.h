/*
 * list_conns.h - weirctl -L -c: the connection table in ipvsadm 1.31's
 * format ("IPVS connection entries", then pro, expire, state, source,
 * virtual, destination), gathered from the XDP flow table, the proxies'
 * sessions and the persistence templates (XDP's and the proxy services').
 */
#ifndef WEIR_CTL_LIST_CONNS_H
#define WEIR_CTL_LIST_CONNS_H

#include <stdbool.h>

#include "core/buf.h"
#include "core/conns.h"
#include "core/table.h"

/* Control thread: gathers and writes the table (<pconn>: --persistent-conn's
 * header; <names>: addresses as marks for weirctl's names, list.h). 0, or
 * CTL_EXIT_LIST with <err> (CTL_ERR_MAX). */
int ctl_list_conns(struct vs_table *t, bool pconn, bool names, struct buf *out, char *err);

/* Writes <l> (sorted here) as ipvsadm does: pure, for the tests. */
void list_conns_write(struct conn_list *l, bool pconn, bool names, struct buf *out);
/* The name of state <state> (enum conn_state) in <proto>, as the kernel's
 * /proc/net/ip_vs_conn. */
const char *list_conn_state(int proto, int state);

#endif
