/*
 * conns.h - one line of the connection table (weirctl -L -c, ipvsadm's
 * "IPVS connection entries"): what the data paths (xdp/ flows, proxy/
 * sessions, persistence templates) report and ctl/list_conns.c prints.
 * Plain data; a conn_list belongs to whoever made it (one thread at a
 * time), conn_list_free() releases it.
 */
#ifndef WEIR_CONNS_H
#define WEIR_CONNS_H

#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"

/* IPVS's states (the kernel's TCP state names, "UDP", and "NONE" for a
 * persistence template); list_conns.c has their names. */
enum conn_state {
	CONN_NONE,          /* a persistence template */
	CONN_SYN_SENT,      /* weir is connecting to the server (proxy) */
	CONN_SYN_RECV,      /* the client's SYN seen (XDP), or its PROXY header awaited */
	CONN_ESTABLISHED,
	CONN_FIN_WAIT,      /* one side closed */
	CONN_CLOSE,         /* reset (XDP) */
	CONN_UDP,
};

struct conn_entry {
	uint8_t proto;            /* IPPROTO_TCP or IPPROTO_UDP */
	uint8_t state;            /* enum conn_state */
	uint32_t expire_s;        /* seconds left before it ends unless used */
	struct weir_addr src;     /* the client (a template: its port is 0) */
	struct weir_addr vip;     /* the virtual service it reached */
	struct weir_addr dst;     /* the real server; none yet: family 0 */
};

struct conn_list {
	struct conn_entry *v;
	size_t n, cap;
};

/* Appends a copy of <e>. 0 or -ENOMEM. */
int conn_list_add(struct conn_list *l, const struct conn_entry *e);
/* Appends every entry of <from> and empties it. 0 or -ENOMEM (<from>
 * then unchanged). */
int conn_list_move(struct conn_list *to, struct conn_list *from);
void conn_list_free(struct conn_list *l);
/* Seconds from <now> to <until> (any unit, <per_s> of them a second),
 * rounded down; 0 when past. */
static inline uint32_t conn_expire_s(uint64_t now, uint64_t until, uint64_t per_s)
{
	return until > now ? (uint32_t)((until - now) / per_s) : 0;
}

#endif
