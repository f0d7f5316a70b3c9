/* list.h - weirctl's listings: -L in ipvsadm's columns (and its --stats,
 * --rate, --thresholds, --persistent-conn views) and -S rules. */
#ifndef WEIR_CTL_LIST_H
#define WEIR_CTL_LIST_H

#include <stdbool.h>

#include "core/buf.h"
#include "core/table.h"

struct list_opts {
	bool stats, rate, thresholds, pconn, exact, nosort, http, health, udp, dns;
	bool tuninfo;   /* --tun-info: ipvsadm's TunnelInfo column */
	bool names;     /* weirctl prints names: addresses as marks (below) */
	const struct virtual_service *only;   /* -L -t VIP:PORT; NULL = all */
};

/* Control thread. Reads counts under each service's lock. */
void ctl_list(struct vs_table *t, const struct list_opts *o, struct buf *out);
/* -S: one -A line per service and one -a line per server, -R's input;
 * addresses as marks with <names>. */
void ctl_save(const struct weir_config *cfg, bool nosort, bool names, struct buf *out);

/*
 * Names in listings. ipvsadm prints host and service names unless -n; the
 * daemon never resolves (its control thread must not block on DNS), so
 * when weirctl asks (the hidden --name-marks option) every address cell of
 * a listing is written as a mark, and weirctl (ctl/names.h) replaces each
 * mark with the names, cut and padded as the mark says:
 *
 *   \x01 CUT ' ' PAD ' ' PROTO ' ' ADDRESS \x1f PREFIX \x02
 *
 * ADDRESS is numeric ("192.0.2.1:80", "[2001:db8::1]:80"); the cell is
 * PREFIX then the name (host:service, cut at CUT characters when CUT > 0),
 * the whole padded with blanks to PAD columns. Without marks, the same
 * cell is written with the numbers. A listing that prints addresses (-L,
 * -S, -L -c) writes each through list_addr_cell.
 */
#define LIST_MARK_START '\x01'
#define LIST_MARK_SEP   '\x1f'
#define LIST_MARK_END   '\x02'

struct weir_addr;
/* Writes the cell "<prefix><address>" of <a> (a <proto> address) into
 * <out>: the address cut at <cut> characters (0 = never), the cell padded
 * to <pad> columns (0 = not); a mark instead when <names>. */
void list_addr_cell(struct buf *out, bool names, const char *prefix, int proto,
		    const struct weir_addr *a, int cut, int pad);
/* A service's cell, "TCP  1.2.3.4:80", as the listings write it. */
void list_svc_cell(struct buf *out, const struct list_opts *o,
		   const struct virtual_service *svc, int pad);

/* For list.c and list_dns.c: ipvsadm's 9-column number (K/M/G/T above
 * 10^8 unless <exact>), and a DNS service's lines per name in the --stats
 * and --rate views (nothing for another mode). */
void list_largenum(struct buf *out, uint64_t v, bool exact);
void list_dns_names(struct buf *out, struct virtual_service *svc, const struct list_opts *o);
/* The --dns view (list_dns.c): its title, and a DNS service's block (its
 * queries by type, then per name, then its answers per location). */
void list_dns_title(struct buf *out);
void list_dns_block(struct buf *out, struct virtual_service *svc, const struct list_opts *o);

#endif
