/* list.h - weirctl's listings: -L in ipvsadm's columns (and its --stats,
 * --rate, --thresholds, --persistent-conn views) and -S rules. */
#ifndef WEIR_CTL_LIST_H
#define WEIR_CTL_LIST_H

#include <stdbool.h>

#include "core/buf.h"
#include "core/table.h"

struct list_opts {
	bool stats, rate, thresholds, pconn, exact, nosort, http, health, udp;
	const struct virtual_service *only;   /* -L -t VIP:PORT; NULL = all */
};

/* Control thread. Reads counts under each service's lock. */
void ctl_list(struct vs_table *t, const struct list_opts *o, struct buf *out);
/* -S: one -A line per service and one -a line per server, -R's input. */
void ctl_save(const struct weir_config *cfg, bool nosort, struct buf *out);

#endif
