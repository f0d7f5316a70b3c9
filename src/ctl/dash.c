/* dash.c - the dashboard's JSON and its control requests (see dash.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/history.h"
#include "core/log.h"
#include "ctl/dash.h"
#include "ctl/exec.h"
#include "ctl/report.h"

static uint64_t wall_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* "TCP 127.0.0.1:8080", as report.c names a service. */
static void svc_name(const struct virtual_service *svc, char *out, size_t size)
{
	char a[ADDR_STRLEN];

	snprintf(out, size, "%s %s", proto_name(svc->proto), addr_str(&svc->addr, a));
}

static void key_str(struct buf *out, const char *k, const char *v, bool comma)
{
	buf_printf(out, "%s\"%s\":", comma ? "," : "", k);
	report_json_str(out, v);
}

/* --- /api/dash --------------------------------------------------------------------- */

static void dash_json_build(struct ctl_ctx *ctx, struct buf *out);

static void route_json(struct buf *out, const char *svc, const struct route_spec *r)
{
	buf_append(out, "{", 1);
	key_str(out, "service", svc, false);
	key_str(out, "pool", r->pool, true);
	key_str(out, "host", r->host, true);
	key_str(out, "path_prefix", r->path_prefix, true);
	key_str(out, "path_regex", r->path_regex, true);
	key_str(out, "method", r->method, true);
	key_str(out, "header", r->header, true);
	key_str(out, "header_regex", r->header_regex, true);
	buf_append(out, "}", 1);
}

/* The last /api/dash answer, reused for DASH_CACHE_MS: however many pages
 * poll (or a client in a loop), the control thread builds it a few times a
 * second at most and takes each service's lock as often. Control thread only. */
#define DASH_CACHE_MS 250
static struct {
	struct buf body;
	uint64_t at;              /* monotonic ms; 0 = nothing kept */
	const struct vs_table *table;
} cache;

void dash_json(struct ctl_ctx *ctx, struct buf *out)
{
	uint64_t now = now_ms();

	if (cache.at && cache.table == ctx->table && now - cache.at < DASH_CACHE_MS) {
		buf_append(out, buf_head(&cache.body), cache.body.len);
		return;
	}
	buf_reset(&cache.body);
	dash_json_build(ctx, &cache.body);
	cache.at = now;
	cache.table = ctx->table;
	buf_append(out, buf_head(&cache.body), cache.body.len);
}

void dash_forget(void)
{
	cache.at = 0;
}

static void dash_json_build(struct ctl_ctx *ctx, struct buf *out)
{
	const struct weir_config *cfg = &ctx->table->cfg;
	struct report_info info = ctl_info(ctx);
	bool first = true;

	buf_printf(out, "{\"now_ms\":%" PRIu64 ",\"interval_ms\":%d,\"control\":%s,\"status\":",
		   wall_now_ms(), RATE_INTERVAL_MS, cfg->metrics_token[0] ? "true" : "false");
	report_status_json(ctx->table, &info, out);
	buf_printf(out, ",\"report\":");
	report_json(ctx->table, NULL, out);
	buf_printf(out, ",\"routes\":[");
	for (size_t i = 0; i < cfg->nservices; i++) {
		const struct service_spec *s = &cfg->services[i];
		char name[ADDR_STRLEN + 8], a[ADDR_STRLEN];

		snprintf(name, sizeof(name), "%s %s", proto_name(s->proto), addr_str(&s->addr, a));
		for (size_t k = 0; k < s->nroutes; k++) {
			if (!first)
				buf_append(out, ",", 1);
			first = false;
			route_json(out, name, &s->routes[k]);
		}
	}
	buf_printf(out, "]}\n");
}

/* --- /api/history ------------------------------------------------------------------- */

enum col { COL_RPS, COL_CPS, COL_INBPS, COL_OUTBPS, COL_ACTIVE, COL_P99, NCOLS };

static double col_value(const struct hist_sample *s, enum col c)
{
	switch (c) {
	case COL_RPS: return s->rps;
	case COL_CPS: return s->cps;
	case COL_INBPS: return s->inbps;
	case COL_OUTBPS: return s->outbps;
	case COL_ACTIVE: return s->active;
	default: return s->p99_ms;
	}
}

struct hist_out {
	struct buf *out;
	uint64_t since;
	bool first;
};

/* One series: the samples of <h> after o->since, column by column. */
static void series_json(struct hist_out *o, const char *svc, const char *pool, const char *srv,
			const struct hist_ring *h)
{
	static const char *const names[NCOLS] = { "rps", "cps", "inbps", "outbps", "active",
						  "p99_ms" };
	struct buf *out = o->out;
	uint32_t from = 0, n = h ? h->n : 0;

	while (from < n && hist_at(h, from)->t_ms <= o->since)
		from++;
	buf_printf(out, "%s{", o->first ? "" : ",");
	o->first = false;
	key_str(out, "service", svc, false);
	key_str(out, "pool", pool, true);
	key_str(out, "server", srv, true);
	buf_printf(out, ",\"t\":[");
	for (uint32_t i = from; i < n; i++)
		buf_printf(out, "%s%.3f", i > from ? "," : "", (double)hist_at(h, i)->t_ms / 1000.0);
	for (int c = 0; c < NCOLS; c++) {
		buf_printf(out, "],\"%s\":[", names[c]);
		for (uint32_t i = from; i < n; i++)
			buf_printf(out, "%s%.6g", i > from ? "," : "", col_value(hist_at(h, i), c));
	}
	buf_printf(out, "]}");
}

static void hist_one(struct virtual_service *svc, struct virtual_service *owner,
		     const char *pool, void *arg)
{
	struct hist_out *o = arg;
	char name[ADDR_STRLEN + 8], a[ADDR_STRLEN];
	struct real_server **rs;
	size_t n = 0;

	svc_name(owner ? owner : svc, name, sizeof(name));
	pool = pool ? pool : "default";
	series_json(o, name, pool, "", svc->stats.hist);
	/* the workers schedule under svc->lock: hold it only to take the list;
	 * the rings are the control thread's, read without it */
	pthread_mutex_lock(&svc->lock);
	rs = calloc(svc->nservers + 1, sizeof(*rs));
	for (size_t i = 0; rs && i < svc->nservers; i++) {
		rs[n] = svc->servers[i];
		rs_get(rs[n++]);
	}
	pthread_mutex_unlock(&svc->lock);
	for (size_t i = 0; i < n; i++) {
		series_json(o, name, pool, addr_str(&rs[i]->addr, a), rs[i]->stats.hist);
		rs_put(rs[i]);
	}
	free(rs);
}

void dash_history_json(struct vs_table *t, uint64_t since_ms, struct buf *out)
{
	struct hist_out o = { out, since_ms, true };

	buf_printf(out, "{\"now_ms\":%" PRIu64 ",\"interval_ms\":%d,\"series\":[", wall_now_ms(),
		   RATE_INTERVAL_MS);
	table_foreach(t, hist_one, &o);
	buf_printf(out, "]}\n");
}

/* --- POST /api/server ----------------------------------------------------------------- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool dash_query_get(const char *query, const char *key, char *out, size_t size)
{
	size_t kl = strlen(key);

	for (const char *p = query; p && *p; p = strchr(p, '&'), p = p ? p + 1 : NULL) {
		size_t n = 0;

		if (strncmp(p, key, kl) != 0 || p[kl] != '=')
			continue;
		for (p += kl + 1; *p && *p != '&'; p++) {
			int c = (unsigned char)*p;

			if (c == '%') {
				int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);

				if (lo < 0)
					return false;
				c = hi * 16 + lo;
				p += 2;
			} else if (c == '+') {
				c = ' ';
			}
			if (n + 1 >= size || c == 0)
				return false;
			out[n++] = (char)c;
		}
		out[n] = '\0';
		return true;
	}
	return false;
}

bool dash_token_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char diff = la != lb;

	/* every byte of the secret <b> is read whatever <a> holds */
	for (size_t i = 0; i < lb; i++)
		diff |= (unsigned char)(b[i] ^ (i < la ? a[i] : 0));
	return diff == 0 && lb > 0;
}

/* The token in the config's file: its first line, blanks trimmed. */
static int token_read(const char *path, char *out, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, out, size - 1);
	close(fd);
	if (n < 0)
		return -EIO;
	out[n] = '\0';
	out[strcspn(out, "\r\n")] = '\0';
	for (size_t l = strlen(out); l && (out[l - 1] == ' ' || out[l - 1] == '\t'); l--)
		out[l - 1] = '\0';
	return out[0] ? 0 : -ENODATA;
}

static int fail(struct buf *out, int status, const char *why)
{
	buf_printf(out, "{\"ok\":false,");
	key_str(out, "error", why, false);
	buf_printf(out, "}\n");
	return status;
}

/* An address as the page sends it: IPv4 or [IPv6] with a port, nothing
 * that could split the command line it goes into. */
static bool addr_word(const char *s)
{
	return s[0] && strspn(s, "0123456789abcdefABCDEF.:[]") == strlen(s);
}

int dash_control(struct ctl_ctx *ctx, const char *query, const char *token, struct buf *out)
{
	const char *path = ctx->table->cfg.metrics_token;
	char secret[256], proto[8] = "tcp", vip[64], rs[64], act[16], weight[16] = "";
	char cmd[256];
	struct buf res = { 0 };
	int rc;

	if (!path[0])
		return fail(out, 403, "control from the dashboard is off (see metrics_token)");
	if ((rc = token_read(path, secret, sizeof(secret))) != 0) {
		log_warn("dashboard: cannot read the metrics_token file %s: %s", path,
			 rc == -ENODATA ? "empty" : strerror(-rc));
		return fail(out, 403, "the token file cannot be read");
	}
	rc = dash_token_equal(token, secret);
	memset(secret, 0, sizeof(secret));
	if (!rc)
		return fail(out, 403, "wrong or missing X-Weir-Token");
	dash_query_get(query, "proto", proto, sizeof(proto));
	if (!dash_query_get(query, "vip", vip, sizeof(vip)) || !addr_word(vip) ||
	    !dash_query_get(query, "server", rs, sizeof(rs)) || !addr_word(rs) ||
	    !dash_query_get(query, "action", act, sizeof(act)))
		return fail(out, 400, "vip=IP:PORT, server=IP:PORT and action= are needed");
	if (strcmp(proto, "tcp") && strcmp(proto, "udp"))
		return fail(out, 400, "proto: tcp or udp");
	if (strcmp(act, "weight") == 0) {
		if (!dash_query_get(query, "weight", weight, sizeof(weight)) || !weight[0] ||
		    strspn(weight, "0123456789") != strlen(weight))
			return fail(out, 400, "weight=N is needed");
	} else if (strcmp(act, "drain") && strcmp(act, "ready") && strcmp(act, "maint")) {
		return fail(out, 400, "action: drain, ready, maint or weight");
	}
	snprintf(cmd, sizeof(cmd), "server -%c %s %s %s %s\n", proto[0] == 't' ? 't' : 'u', vip,
		 rs, act, weight);
	ctl_exec(ctx, cmd, strlen(cmd), &res);
	buf_append(&res, "", 1);
	if (strncmp(buf_head(&res), "OK", 2) == 0) {
		log_info("dashboard: server %s %s %s %s", vip, rs, act, weight);
		dash_forget();
		buf_printf(out, "{\"ok\":true}\n");
		rc = 200;
	} else {
		/* "ERR <status> <message>\n" */
		char *msg = buf_head(&res), *sp = strchr(msg + 4, ' ');

		msg = sp ? sp + 1 : msg;
		msg[strcspn(msg, "\n")] = '\0';
		rc = fail(out, 400, msg);
	}
	buf_free(&res);
	return rc;
}
