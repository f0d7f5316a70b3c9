/*
 * dash.h - the live dashboard, served by the metrics listener
 * (ctl/metrics_http.c, on the control thread):
 *
 *   GET /, /dashboard         the page: ctl/dash/page.html with uPlot inlined,
 *                             turned into a C array at build time
 *                             (scripts/embed.py -> build/gen/dash_page.c)
 *   GET /api/dash             what the page shows now (JSON, below)
 *   GET /api/history?since=MS the graphs' samples taken after MS (history.h)
 *   POST /api/server?...      drain, ready, maint or weight of one server, as
 *                             `weirctl server` does; only when the config has
 *                             `metrics_token FILE;` and the request carries
 *                             that token in the X-Weir-Token header
 *
 * Every string from the config or from a server (pool names, routes, agent
 * answers) goes out through report.c's JSON escaping; the page puts them in
 * with textContent only.
 */
#ifndef WEIR_CTL_DASH_H
#define WEIR_CTL_DASH_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/table.h"

struct ctl_ctx;

/* The page (build/gen/dash_page.c). */
extern const char dash_page_html[];
extern const size_t dash_page_len;

/* {"now_ms":..,"interval_ms":..,"control":bool,"status":{..},"report":{..},
 *  "routes":[..]}: the daemon summary, every service with its pools and
 * servers (report_json), the HTTP routes of the config. */
void dash_json(struct ctl_ctx *ctx, struct buf *out);
/* dash_json() answers from a copy at most 250 ms old; this drops it (after
 * a change, and for tests). */
void dash_forget(void);

/* {"now_ms":..,"series":[{"service":"TCP 1.2.3.4:80","pool":"default",
 * "server":"" (the service or pool itself) or "IP:PORT","t":[seconds],
 * "rps":[..],"cps":[..],"inbps":[..],"outbps":[..],"active":[..],
 * "p99_ms":[..]}]}: the samples of every ring taken after <since_ms>. */
void dash_history_json(struct vs_table *t, uint64_t since_ms, struct buf *out);

/* The value of <key> in the query string <query> (no '?'), percent-decoded
 * into <out> (<size> bytes). False when absent, too long or badly encoded. */
bool dash_query_get(const char *query, const char *key, char *out, size_t size);

/* POST /api/server: checks <token> against the config's metrics_token file
 * and carries out the query's action. Returns the HTTP status (200, 400,
 * 403) with a JSON answer in <out>. */
int dash_control(struct ctl_ctx *ctx, const char *query, const char *token, struct buf *out);

/* Equal strings, in a time that depends only on <b>'s length (the secret's
 * is not told by how fast a wrong guess fails). */
bool dash_token_equal(const char *a, const char *b);

#endif
