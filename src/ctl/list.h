/* list.h - weirctl's listings: -L in ipvsadm's columns (and its --stats,
 * --rate, --thresholds, --persistent-conn views) and -S rules. */
#ifndef WEIR_CTL_LIST_H
#define WEIR_CTL_LIST_H

#include <stdbool.h>

#include "core/buf.h"
#include "core/table.h"

struct list_opts {
	bool stats, rate, thresholds, pconn, exact, nosort, http, health, udp, dns;
	const struct virtual_service *only;   /* -L -t VIP:PORT; NULL = all */
};

/* Control thread. Reads counts under each service's lock. */
void ctl_list(struct vs_table *t, const struct list_opts *o, struct buf *out);
/* -S: one -A line per service and one -a line per server, -R's input. */
void ctl_save(const struct weir_config *cfg, bool nosort, struct buf *out);

/* For list.c and list_dns.c: ipvsadm's 9-column number (K/M/G/T above
 * 10^8 unless <exact>), and a DNS service's lines per name in the --stats
 * and --rate views (nothing for another mode). */
void list_largenum(struct buf *out, uint64_t v, bool exact);
void list_dns_names(struct buf *out, struct virtual_service *svc, const struct list_opts *o);
/* The --dns view (list_dns.c): its title, and a DNS service's block (its
 * queries by type, then per name, then its answers per location). */
void list_dns_title(struct buf *out);
void list_dns_block(struct buf *out, struct virtual_service *svc, const char *name, bool exact);

#endif
