/*
 * report.h - the numbers for programs: `weirctl -L --json`, `weirctl
 * status --json` and the Prometheus text of /metrics (and `weirctl
 * metrics`). All of them read one snapshot per service, taken under the
 * service's lock; counters are summed from the per-thread slots.
 */
#ifndef WEIR_CTL_REPORT_H
#define WEIR_CTL_REPORT_H

#include "core/buf.h"
#include "core/table.h"

struct report_info {
	const char *version;
	const char *config_path;  /* NULL = none */
	uint64_t uptime_ms;
	int nworkers;
};

/* Every service (or only <only>) with its pools and servers, as JSON. */
void report_json(struct vs_table *t, const struct virtual_service *only, struct buf *out);
/* The daemon summary as JSON. */
void report_status_json(struct vs_table *t, const struct report_info *info, struct buf *out);
/* The Prometheus text exposition format (version 0.0.4). */
void report_metrics(struct vs_table *t, const struct report_info *info, struct buf *out);

/* <s> as a JSON string: quoted, escaped, U+FFFD for bytes not UTF-8. */
void report_json_str(struct buf *out, const char *s);

/* Servers by state, for `weirctl status`. */
struct report_counts {
	unsigned services, proxies, servers, up, down, drain, maint, ejected, quiesced;
	unsigned long long active, inactive;
};
void report_counts(struct vs_table *t, struct report_counts *c);

#endif
