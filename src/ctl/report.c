/* report.c - JSON and Prometheus output (see report.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/healthspec.h"
#include "ctl/report.h"
#include "dns/dns.h"
#include "health/state.h"

/* --- snapshots ----------------------------------------------------------------- */

/* One real server as seen at one moment. */
struct rs_snap {
	struct real_server *rs;        /* a reference */
	struct sched_server ss;
	struct rs_health h;
	const char *pool;              /* "default" or the pool's name */
	const char *state;
	struct stats_view v;
};

/* One service, or one pool of a service. */
struct svc_snap {
	struct virtual_service *svc;
	struct virtual_service *owner; /* the service a pool belongs to; NULL */
	const char *pool;
	struct stats_view v;           /* the pool's; for a service, pool "default" */
	struct stats_view total;       /* the whole service (= v for a pool) */
	struct rs_snap *rs;
	size_t nrs;
	uint64_t active, inactive;
};

struct snapshot {
	struct svc_snap *s;
	size_t n, cap;
	int nthreads;
	const struct virtual_service *only;
};

static void snap_one(struct virtual_service *svc, struct virtual_service *owner,
		     const char *pool, void *arg)
{
	struct snapshot *sn = arg;
	struct svc_snap *ss;

	if (sn->only && svc != sn->only && owner != sn->only)
		return;
	if (sn->n == sn->cap) {
		size_t cap = sn->cap ? sn->cap * 2 : 8;
		struct svc_snap *p = realloc(sn->s, cap * sizeof(*p));

		if (!p)
			return;
		sn->s = p;
		sn->cap = cap;
	}
	ss = &sn->s[sn->n];
	memset(ss, 0, sizeof(*ss));
	ss->svc = svc;
	ss->owner = owner;
	ss->pool = pool ? pool : "default";
	stats_view(&svc->stats, sn->nthreads, &ss->total);
	/* with named pools, "default" is the requests to the service's own
	 * servers; without, it is the whole service */
	if (!owner && svc->npools)
		stats_view(&svc->own, sn->nthreads, &ss->v);
	else
		ss->v = ss->total;
	pthread_mutex_lock(&svc->lock);
	ss->rs = calloc(svc->nservers + 1, sizeof(*ss->rs));
	for (size_t i = 0; ss->rs && i < svc->nservers; i++) {
		struct rs_snap *r = &ss->rs[i];

		r->rs = svc->servers[i];
		rs_get(r->rs);
		r->ss = r->rs->ss;
		r->h = health_rs(r->rs)->h;
		r->pool = ss->pool;
		r->state = rs_state_name(r->rs);
		ss->active += r->ss.active;
		ss->inactive += r->ss.inactive;
		ss->nrs++;
	}
	pthread_mutex_unlock(&svc->lock);
	for (size_t i = 0; i < ss->nrs; i++)
		stats_view(&ss->rs[i].rs->stats, sn->nthreads, &ss->rs[i].v);
	sn->n++;
}

static void snap_take(struct vs_table *t, const struct virtual_service *only,
		      struct snapshot *sn)
{
	memset(sn, 0, sizeof(*sn));
	sn->nthreads = t->nthreads;
	sn->only = only;
	table_foreach(t, snap_one, sn);
}

static void snap_free(struct snapshot *sn)
{
	for (size_t i = 0; i < sn->n; i++) {
		for (size_t k = 0; k < sn->s[i].nrs; k++)
			rs_put(sn->s[i].rs[k].rs);
		free(sn->s[i].rs);
	}
	free(sn->s);
}

/* "TCP 127.0.0.1:8080": the name of the service a snapshot belongs to. */
static void svc_label(const struct svc_snap *s, char *out, size_t size)
{
	const struct virtual_service *svc = s->owner ? s->owner : s->svc;
	char a[ADDR_STRLEN];

	snprintf(out, size, "%s %s", proto_name(svc->proto), addr_str(&svc->addr, a));
}

/* --- JSON ------------------------------------------------------------------------- */

/* The length of the valid UTF-8 sequence at <s>, or 0. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;

	if (!n || s[0] > 0xf4)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((n == 3 && s[0] == 0xe0 && s[1] < 0xa0) || (n == 3 && s[0] == 0xed && s[1] >= 0xa0) ||
	    (n == 4 && s[0] == 0xf0 && s[1] < 0x90) || (n == 4 && s[0] == 0xf4 && s[1] >= 0x90))
		return 0; /* overlong, surrogate, beyond U+10FFFF */
	return n;
}

/* A JSON string: escapes, and U+FFFD for bytes that are not UTF-8 (an
 * agent may answer anything). */
static void json_str(struct buf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	buf_append(out, "\"", 1);
	while (*p) {
		size_t n;

		if (*p == '"' || *p == '\\') {
			buf_printf(out, "\\%c", *p++);
		} else if (*p < 0x20 || *p == 0x7f) {
			buf_printf(out, "\\u%04x", *p++);
		} else if (*p < 0x80) {
			buf_append(out, p++, 1);
		} else if ((n = utf8_len(p)) != 0) {
			buf_append(out, p, n);
			p += n;
		} else {
			buf_printf(out, "\\ufffd");
			p++;
		}
	}
	buf_append(out, "\"", 1);
}

void report_json_str(struct buf *out, const char *s)
{
	json_str(out, s);
}

static void json_key(struct buf *out, const char *k, const char *v)
{
	buf_printf(out, "\"%s\":", k);
	json_str(out, v);
}

static void json_stats(struct buf *out, const struct stats_view *v)
{
	static const char *const cls[] = { "none", "1xx", "2xx", "3xx", "4xx", "5xx" };

	buf_printf(out, "\"stats\":{\"conns\":%" PRIu64 ",\"inpkts\":%" PRIu64
		   ",\"outpkts\":%" PRIu64 ",\"inbytes\":%" PRIu64 ",\"outbytes\":%" PRIu64
		   ",\"requests\":%" PRIu64 ",\"responses\":{", v->tot.conns, v->tot.inpkts,
		   v->tot.outpkts, v->tot.inbytes, v->tot.outbytes, v->requests);
	for (int k = 1; k < 6; k++)
		buf_printf(out, "%s\"%s\":%" PRIu64, k > 1 ? "," : "", cls[k], v->resp[k]);
	buf_printf(out, "},\"retries\":%" PRIu64 ",\"evictions\":%" PRIu64 ",\"dropped\":%"
		   PRIu64 ",\"timeouts\":%" PRIu64 ",\"response_ms\":{\"mean\":%.3f,"
		   "\"ewma\":%.3f,\"p99\":%.3f,\"p50\":%.3f}},", v->retries, v->evictions, v->drops,
		   v->timeouts, v->timed ? (double)v->rt_sum_us / 1000.0 / (double)v->timed : 0.0,
		   (double)v->rt_ewma_us / 1000.0, (double)v->p99_us / 1000.0,
		   (double)v->p50_us / 1000.0);
	buf_printf(out, "\"rates\":{\"cps\":%" PRIu64 ",\"inpps\":%" PRIu64 ",\"outpps\":%" PRIu64
		   ",\"inbps\":%" PRIu64 ",\"outbps\":%" PRIu64 ",\"rps\":%" PRIu64 "}",
		   v->rate.cps, v->rate.inpps, v->rate.outpps, v->rate.inbps, v->rate.outbps,
		   v->rps);
}

static void iso_time(uint64_t wall_ms, char *out, size_t size)
{
	time_t t = (time_t)(wall_ms / 1000);
	struct tm tm;

	if (!wall_ms) {
		snprintf(out, size, "%s", "");
		return;
	}
	gmtime_r(&t, &tm);
	strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void json_server(struct buf *out, const struct svc_snap *s, const struct rs_snap *r)
{
	const struct real_server *rs = r->rs;
	const struct virtual_service *svc = s->svc;
	const struct check_spec *c = rs->spec.check.kind == CHECK_INHERIT ? &svc->spec.check :
				     &rs->spec.check;
	char a[ADDR_STRLEN], words[512], when[32];

	buf_append(out, "{", 1);
	json_key(out, "address", addr_str(&rs->addr, a));
	buf_append(out, ",", 1);
	json_key(out, "pool", r->pool);
	buf_append(out, ",", 1);
	json_key(out, "forward", (s->owner ? s->owner : svc)->proxy ? "Proxy" :
		 fwd_name(rs->spec.fwd));
	buf_printf(out, ",\"weight\":%u,\"effective_weight\":%u,", r->h.weight, r->ss.weight);
	json_key(out, "state", r->state);
	buf_append(out, ",", 1);
	json_key(out, "admin", r->h.admin == ADMIN_UNSET ? "ready" :
		 admin_state_name((enum admin_state)r->h.admin));
	buf_printf(out, ",\"backup\":%s", r->ss.backup ? "true" : "false");
	buf_printf(out, ",\"active_conns\":%u,\"inactive_conns\":%u,\"health\":{",
		   r->ss.active, r->ss.inactive);
	check_spec_format(c, words, sizeof(words));
	json_key(out, "check", words);
	buf_append(out, ",", 1);
	json_key(out, "last", r->h.check_last);
	buf_printf(out, ",\"latency_ms\":%.3f,\"last_check_ms\":%" PRIu64 ",",
		   (double)r->h.check_us / 1000.0, r->h.check_ms);
	iso_time(r->h.check_ms, when, sizeof(when));
	json_key(out, "checked", when);
	buf_append(out, ",", 1);
	json_key(out, "agent", r->h.agent_last);
	buf_append(out, ",", 1);
	json_key(out, "reason", r->h.reason);
	iso_time(r->h.changed_ms, when, sizeof(when));
	buf_append(out, ",", 1);
	json_key(out, "changed", when);
	buf_printf(out, ",\"ejections\":%u,\"slow_start\":%s},", r->h.ejections,
		   r->h.ramp_start ? "true" : "false");
	json_stats(out, &r->v);
	buf_append(out, "}", 1);
}

/* --- DNS services' numbers ------------------------------------------------------- */

struct dns_out {
	struct buf *out;
	bool first;
	const char *label;            /* Prometheus: the service label; NULL: JSON */
};

static void dns_query_json(void *arg, const char *name, const char *type, const char *rcode,
			   uint64_t n)
{
	struct dns_out *d = arg;

	buf_printf(d->out, "%s{", d->first ? "" : ",");
	d->first = false;
	json_key(d->out, "name", name);
	buf_append(d->out, ",", 1);
	json_key(d->out, "type", type);
	buf_append(d->out, ",", 1);
	json_key(d->out, "rcode", rcode);
	buf_printf(d->out, ",\"queries\":%" PRIu64 "}", n);
}

static void dns_loc_json(void *arg, const char *loc, uint64_t n)
{
	struct dns_out *d = arg;

	buf_printf(d->out, "%s{", d->first ? "" : ",");
	d->first = false;
	json_key(d->out, "name", loc);
	buf_printf(d->out, ",\"answers\":%" PRIu64 "}", n);
}

/* ,"dns":{"xdp_answers":N,"queries":[...],"locations":[...]} of a DNS
 * service (xdp_answers: those of the queries the XDP data path answered). */
static void json_dns(struct buf *out, struct virtual_service *svc)
{
	struct dns_out d = { .out = out, .first = true };

	if (svc->spec.proxy != &dns_mode)
		return;
	buf_printf(out, ",\"dns\":{\"xdp_answers\":%" PRIu64 ",\"queries\":[",
		   dns_xdp_answered(svc));
	dns_stats(svc, dns_query_json, NULL, &d);
	buf_printf(out, "],\"locations\":[");
	d.first = true;
	dns_stats(svc, NULL, dns_loc_json, &d);
	buf_printf(out, "]}");
}

void report_json(struct vs_table *t, const struct virtual_service *only, struct buf *out)
{
	struct snapshot sn;
	bool first_svc = true;

	snap_take(t, only, &sn);
	buf_printf(out, "{\"services\":[");
	for (size_t i = 0; i < sn.n; i++) {
		const struct svc_snap *s = &sn.s[i];
		const struct service_spec *sp = &s->svc->spec;
		char a[ADDR_STRLEN];
		bool first_rs = true;
		size_t first;

		if (s->owner)
			continue; /* pools are listed inside their service */
		buf_printf(out, "%s{", first_svc ? "" : ",");
		first_svc = false;
		json_key(out, "proto", proto_name(s->svc->proto));
		buf_append(out, ",", 1);
		json_key(out, "address", addr_str(&s->svc->addr, a));
		buf_append(out, ",", 1);
		json_key(out, "proxy", mode_name(sp->proxy));
		buf_append(out, ",", 1);
		json_key(out, "scheduler", sp->sched);
		buf_printf(out, ",\"persistent\":%u,\"active_conns\":%" PRIu64
			   ",\"inactive_conns\":%" PRIu64 ",", sp->persist_s, s->active, s->inactive);
		json_stats(out, &s->total);
		buf_printf(out, ",\"pools\":[");
		/* "default" is listed with the named pools, when there are some */
		first = s->svc->npools ? i : i + 1;
		for (size_t k = first; k < sn.n && (k == i || sn.s[k].owner == s->svc); k++) {
			buf_printf(out, "%s{", k > first ? "," : "");
			json_key(out, "name", sn.s[k].pool);
			buf_append(out, ",", 1);
			json_key(out, "scheduler", sn.s[k].svc->spec.sched);
			buf_append(out, ",", 1);
			json_stats(out, &sn.s[k].v);
			buf_append(out, "}", 1);
		}
		buf_printf(out, "],\"servers\":[");
		for (size_t k = i; k < sn.n && (k == i || sn.s[k].owner == s->svc); k++)
			for (size_t j = 0; j < sn.s[k].nrs; j++) {
				if (!first_rs)
					buf_append(out, ",", 1);
				first_rs = false;
				json_server(out, &sn.s[k], &sn.s[k].rs[j]);
			}
		buf_printf(out, "]");
		json_dns(out, s->svc);
		buf_printf(out, "}");
	}
	buf_printf(out, "]}\n");
	snap_free(&sn);
}

/* --- counts and status -------------------------------------------------------- */

static void count_snap(const struct snapshot *sn, struct report_counts *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < sn->n; i++) {
		const struct svc_snap *s = &sn->s[i];

		if (!s->owner) {
			c->services++;
			c->proxies += s->svc->proxy != NULL;
		}
		c->active += s->active;
		c->inactive += s->inactive;
		for (size_t k = 0; k < s->nrs; k++) {
			const char *st = s->rs[k].state;

			c->servers++;
			c->up += strcmp(st, "up") == 0;
			c->down += strcmp(st, "down") == 0;
			c->drain += strcmp(st, "drain") == 0;
			c->maint += strcmp(st, "maint") == 0;
			c->ejected += strcmp(st, "ejected") == 0;
			c->quiesced += strcmp(st, "quiesced") == 0;
		}
	}
}

void report_counts(struct vs_table *t, struct report_counts *c)
{
	struct snapshot sn;

	snap_take(t, NULL, &sn);
	count_snap(&sn, c);
	snap_free(&sn);
}

void report_status_json(struct vs_table *t, const struct report_info *info, struct buf *out)
{
	struct report_counts c;

	report_counts(t, &c);
	buf_printf(out, "{");
	json_key(out, "version", info->version);
	buf_printf(out, ",\"uptime_s\":%" PRIu64 ",", info->uptime_ms / 1000);
	json_key(out, "config", info->config_path ? info->config_path : "");
	buf_printf(out, ",\"workers\":%d,\"services\":%u,\"proxy_services\":%u,"
		   "\"servers\":%u,\"servers_by_state\":{\"up\":%u,\"down\":%u,\"drain\":%u,"
		   "\"maint\":%u,\"ejected\":%u,\"quiesced\":%u},\"active_conns\":%llu,"
		   "\"inactive_conns\":%llu}\n", info->nworkers, c.services, c.proxies, c.servers,
		   c.up, c.down, c.drain, c.maint, c.ejected, c.quiesced, c.active, c.inactive);
}

/* --- Prometheus ------------------------------------------------------------------- */

/* One sample source: a service (rs NULL) or a server. */
struct obj {
	const struct svc_snap *s;
	const struct rs_snap *r;
};

struct family {
	const char *name;        /* without weir_service_ / weir_server_ */
	const char *type;        /* counter, gauge */
	const char *help;
	bool server_only;
	double (*get)(const struct obj *o);
};

static const struct stats_view *view_of(const struct obj *o)
{
	return o->r ? &o->r->v : &o->s->v;
}

#define STAT_GETTER(fn, expr) \
	static double fn(const struct obj *o) { const struct stats_view *v = view_of(o); return (double)(expr); }

STAT_GETTER(g_conns, v->tot.conns)
STAT_GETTER(g_inpkts, v->tot.inpkts)
STAT_GETTER(g_outpkts, v->tot.outpkts)
STAT_GETTER(g_inbytes, v->tot.inbytes)
STAT_GETTER(g_outbytes, v->tot.outbytes)
STAT_GETTER(g_requests, v->requests)
STAT_GETTER(g_retries, v->retries)
STAT_GETTER(g_evictions, v->evictions)
STAT_GETTER(g_drops, v->drops)
STAT_GETTER(g_timeouts, v->timeouts)
STAT_GETTER(g_cps, v->rate.cps)
STAT_GETTER(g_rps, v->rps)
STAT_GETTER(g_inpps, v->rate.inpps)
STAT_GETTER(g_outpps, v->rate.outpps)
STAT_GETTER(g_inbps, v->rate.inbps)
STAT_GETTER(g_outbps, v->rate.outbps)
STAT_GETTER(g_rt_ewma, (double)v->rt_ewma_us / 1e6)

static double g_active(const struct obj *o)
{
	return o->r ? (double)o->r->ss.active : (double)o->s->active;
}

static double g_inactive(const struct obj *o)
{
	return o->r ? (double)o->r->ss.inactive : (double)o->s->inactive;
}

static double g_up(const struct obj *o)
{
	return sched_server_available(&o->r->ss) ? 1 : 0;
}

static double g_weight(const struct obj *o)
{
	return o->r->h.weight;
}

static double g_eff_weight(const struct obj *o)
{
	return o->r->ss.weight;
}

static double g_check_seconds(const struct obj *o)
{
	return (double)o->r->h.check_us / 1e6;
}

static double g_check_time(const struct obj *o)
{
	/* whole seconds: prom_num's 9 digits would round a fraction to 1.7e+09 */
	return (double)(o->r->h.check_ms / 1000);
}

static const struct family families[] = {
	{ "connections_total", "counter", "Connections (or requests, for packet mode: flows) scheduled.", false, g_conns },
	{ "active_connections", "gauge", "Open connections.", false, g_active },
	{ "inactive_connections", "gauge", "Half-closed connections (IPVS: not ESTABLISHED).", false, g_inactive },
	{ "packets_in_total", "counter", "Packets (proxy: reads) from clients.", false, g_inpkts },
	{ "packets_out_total", "counter", "Packets (proxy: reads) from servers.", false, g_outpkts },
	{ "bytes_in_total", "counter", "Bytes from clients to servers.", false, g_inbytes },
	{ "bytes_out_total", "counter", "Bytes from servers to clients.", false, g_outbytes },
	{ "requests_total", "counter", "HTTP requests.", false, g_requests },
	{ "retries_total", "counter", "HTTP requests sent again to another server.", false, g_retries },
	{ "evictions_total", "counter", "UDP sessions ended early to make room (max_conn).", false, g_evictions },
	{ "dropped_total", "counter", "UDP datagrams dropped (no server, too large, refused, stray replies).", false, g_drops },
	{ "timeouts_total", "counter", "UDP sessions that timed out waiting for an expected response.", false, g_timeouts },
	{ "connection_rate", "gauge", "Connections per second (moving average).", false, g_cps },
	{ "request_rate", "gauge", "HTTP requests per second (moving average).", false, g_rps },
	{ "packets_in_rate", "gauge", "Packets per second from clients.", false, g_inpps },
	{ "packets_out_rate", "gauge", "Packets per second from servers.", false, g_outpps },
	{ "bytes_in_rate", "gauge", "Bytes per second from clients.", false, g_inbps },
	{ "bytes_out_rate", "gauge", "Bytes per second from servers.", false, g_outbps },
	{ "response_seconds_ewma", "gauge", "Time to the response, moving average.", false, g_rt_ewma },
	{ "up", "gauge", "1 if the server takes new connections.", true, g_up },
	{ "weight", "gauge", "Configured weight.", true, g_weight },
	{ "effective_weight", "gauge", "Weight in effect (agent, slow start).", true, g_eff_weight },
	{ "check_duration_seconds", "gauge", "Duration of the last active check.", true, g_check_seconds },
	{ "last_check_timestamp_seconds", "gauge", "When the last active check ended (Unix time, s; 0 = none yet).", true, g_check_time },
};

/* A label value, escaped as the exposition format wants. */
static void prom_value(struct buf *out, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			buf_printf(out, "\\%c", *v);
		else if (*v == '\n')
			buf_printf(out, "\\n");
		else
			buf_append(out, v, 1);
	}
}

static void prom_labels(struct buf *out, const struct obj *o, const char *extra_k,
			const char *extra_v)
{
	char name[ADDR_STRLEN + 8], a[ADDR_STRLEN];

	svc_label(o->s, name, sizeof(name));
	buf_printf(out, "{service=\"");
	prom_value(out, name);
	buf_printf(out, "\",pool=\"");
	prom_value(out, o->s->pool);
	buf_printf(out, "\"");
	if (o->r)
		buf_printf(out, ",server=\"%s\"", addr_str(&o->r->rs->addr, a));
	if (extra_k) {
		buf_printf(out, ",%s=\"", extra_k);
		prom_value(out, extra_v);
		buf_printf(out, "\"");
	}
	buf_printf(out, "}");
}

static void prom_num(struct buf *out, double v)
{
	if (v == (double)(uint64_t)v && v < 1e18)
		buf_printf(out, " %" PRIu64 "\n", (uint64_t)v);
	else
		buf_printf(out, " %.9g\n", v);
}

/* Calls <fn> for every service (servers = false) or server object. */
static void each_obj(const struct snapshot *sn, bool servers,
		     void (*fn)(const struct obj *o, void *arg), void *arg)
{
	for (size_t i = 0; i < sn->n; i++) {
		struct obj o = { &sn->s[i], NULL };

		if (!servers) {
			fn(&o, arg);
			continue;
		}
		for (size_t k = 0; k < sn->s[i].nrs; k++) {
			o.r = &sn->s[i].rs[k];
			fn(&o, arg);
		}
	}
}

struct emit {
	struct buf *out;
	const char *metric;
	const struct family *f;
	int cls;
};

static void emit_family(const struct obj *o, void *arg)
{
	struct emit *e = arg;

	buf_printf(e->out, "%s", e->metric);
	prom_labels(e->out, o, NULL, NULL);
	prom_num(e->out, e->f->get(o));
}

static void emit_class(const struct obj *o, void *arg)
{
	static const char *const cls[] = { "none", "1xx", "2xx", "3xx", "4xx", "5xx" };
	struct emit *e = arg;

	for (int k = 1; k < 6; k++) {
		buf_printf(e->out, "%s", e->metric);
		prom_labels(e->out, o, "class", cls[k]);
		prom_num(e->out, (double)view_of(o)->resp[k]);
	}
}

static void emit_summary(const struct obj *o, void *arg)
{
	struct emit *e = arg;
	const struct stats_view *v = view_of(o);

	buf_printf(e->out, "%s", e->metric);
	prom_labels(e->out, o, "quantile", "0.99");
	prom_num(e->out, (double)v->p99_us / 1e6);
	buf_printf(e->out, "%s_sum", e->metric);
	prom_labels(e->out, o, NULL, NULL);
	prom_num(e->out, (double)v->rt_sum_us / 1e6);
	buf_printf(e->out, "%s_count", e->metric);
	prom_labels(e->out, o, NULL, NULL);
	prom_num(e->out, (double)v->timed);
}

static void emit_state(const struct obj *o, void *arg)
{
	static const char *const states[] = { "up", "down", "ejected", "drain", "maint",
					      "quiesced", "standby" };
	struct emit *e = arg;

	for (size_t k = 0; k < ARRAY_SIZE(states); k++) {
		buf_printf(e->out, "%s", e->metric);
		prom_labels(e->out, o, "state", states[k]);
		prom_num(e->out, strcmp(o->r->state, states[k]) == 0);
	}
}

static void prom_value(struct buf *out, const char *v);

static void dns_query_prom(void *arg, const char *name, const char *type, const char *rcode,
			   uint64_t n)
{
	struct dns_out *d = arg;

	buf_printf(d->out, "weir_dns_queries_total{service=\"");
	prom_value(d->out, d->label);
	buf_printf(d->out, "\",name=\"");
	prom_value(d->out, name);
	buf_printf(d->out, "\",type=\"%s\",rcode=\"%s\"} %" PRIu64 "\n", type, rcode, n);
}

static void dns_loc_prom(void *arg, const char *loc, uint64_t n)
{
	struct dns_out *d = arg;

	buf_printf(d->out, "weir_dns_location_answers_total{service=\"");
	prom_value(d->out, d->label);
	buf_printf(d->out, "\",location=\"");
	prom_value(d->out, loc);
	buf_printf(d->out, "\"} %" PRIu64 "\n", n);
}

static void family_head(struct buf *out, const char *name, const char *type, const char *help)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The DNS services' queries by name, type and rcode, and answers by
 * location (families only when a DNS service exists). */
static void prom_dns(const struct snapshot *sn, struct buf *out)
{
	static const char *const heads[3][2] = {
		{ "weir_dns_queries_total", "DNS queries by name, type and response code." },
		{ "weir_dns_location_answers_total", "DNS answers by the location answering." },
		{ "weir_dns_xdp_answers_total", "DNS queries answered in the XDP data path "
		  "(counted in the others too)." },
	};

	for (int f = 0; f < 3; f++) {
		bool any = false;

		for (size_t i = 0; i < sn->n; i++) {
			char name[ADDR_STRLEN + 8];
			struct dns_out d = { .out = out, .label = name };

			if (sn->s[i].owner || sn->s[i].svc->spec.proxy != &dns_mode)
				continue;
			if (!any)
				family_head(out, heads[f][0], "counter", heads[f][1]);
			any = true;
			svc_label(&sn->s[i], name, sizeof(name));
			if (f == 0) {
				dns_stats(sn->s[i].svc, dns_query_prom, NULL, &d);
			} else if (f == 1) {
				dns_stats(sn->s[i].svc, NULL, dns_loc_prom, &d);
			} else {
				buf_printf(out, "weir_dns_xdp_answers_total{service=\"");
				prom_value(out, name);
				buf_printf(out, "\"} %" PRIu64 "\n", dns_xdp_answered(sn->s[i].svc));
			}
		}
	}
}

void report_metrics(struct vs_table *t, const struct report_info *info, struct buf *out)
{
	static const char *const kinds[] = { "service", "server" };
	struct snapshot sn;
	struct report_counts c;
	char metric[96];

	snap_take(t, NULL, &sn);
	count_snap(&sn, &c);
	family_head(out, "weir_info", "gauge", "weir's version.");
	buf_printf(out, "weir_info{version=\"");
	prom_value(out, info->version);
	buf_printf(out, "\"} 1\n");
	family_head(out, "weir_uptime_seconds", "gauge", "Seconds since weir started.");
	buf_printf(out, "weir_uptime_seconds %.3f\n", (double)info->uptime_ms / 1000.0);
	family_head(out, "weir_workers", "gauge", "Worker threads.");
	buf_printf(out, "weir_workers %d\n", info->nworkers);
	family_head(out, "weir_services", "gauge", "Virtual services.");
	buf_printf(out, "weir_services %u\n", c.services);
	for (int k = 0; k < 2; k++) {
		struct emit e = { .out = out, .metric = metric };

		for (size_t i = 0; i < ARRAY_SIZE(families); i++) {
			const struct family *f = &families[i];

			if (f->server_only && k == 0)
				continue;
			snprintf(metric, sizeof(metric), "weir_%s_%s", kinds[k], f->name);
			family_head(out, metric, f->type, f->help);
			e.f = f;
			each_obj(&sn, k == 1, emit_family, &e);
		}
		snprintf(metric, sizeof(metric), "weir_%s_responses_total", kinds[k]);
		family_head(out, metric, "counter", "HTTP responses by status class.");
		each_obj(&sn, k == 1, emit_class, &e);
		snprintf(metric, sizeof(metric), "weir_%s_response_seconds", kinds[k]);
		family_head(out, metric, "summary",
			    "Time to the response: p99 over the last minute, sum and count.");
		each_obj(&sn, k == 1, emit_summary, &e);
		if (k == 1) {
			snprintf(metric, sizeof(metric), "weir_server_state");
			family_head(out, metric, "gauge", "1 for the server's state.");
			each_obj(&sn, true, emit_state, &e);
		}
	}
	prom_dns(&sn, out);
	snap_free(&sn);
}
