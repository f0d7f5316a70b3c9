/* list.c - see list.h. Formats follow ipvsadm 1.31 column for column. */
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/option.h"
#include "ctl/list.h"
#include "health/state.h"
#include "sched/sched.h"
#include "version.h"
#include "xdp/xdp.h"

void list_addr_cell(struct buf *out, bool names, const char *prefix, int proto,
		    const struct weir_addr *a, int cut, int pad)
{
	char s[ADDR_STRLEN];

	addr_str(a, s);
	if (names) {
		buf_printf(out, "%c%d %d %d %s%c%s%c", LIST_MARK_START, cut, pad, proto, s,
			   LIST_MARK_SEP, prefix, LIST_MARK_END);
		return;
	}
	if (cut > 0 && strlen(s) > (size_t)cut)
		s[cut] = '\0';
	buf_printf(out, "%s%-*s", prefix, pad > (int)strlen(prefix) ?
		   pad - (int)strlen(prefix) : 0, s);
}

/* A listing's first column: a service ("TCP  1.2.3.4:80"), a server
 * ("  -> 10.0.0.1:80") or a text ("  pool NAME"), padded to <pad>. */
struct cell {
	const char *prefix;
	const struct weir_addr *addr;  /* NULL: <prefix> alone */
	int proto;
};

/* ipvsadm cuts an IPv4 service's or server's name at 28 characters (its
 * services at 33 with "TCP  "), never an IPv6 one. */
static void put_cell(struct buf *out, const struct list_opts *o, const struct cell *c, int pad)
{
	if (!c->addr) {
		buf_printf(out, "%-*s", pad, c->prefix);
		return;
	}
	list_addr_cell(out, o->names, c->prefix, c->proto, c->addr,
		       addr_family(c->addr) == AF_INET ? 28 : 0, pad);
}

void list_svc_cell(struct buf *out, const struct list_opts *o,
		   const struct virtual_service *svc, int pad)
{
	char prefix[8];

	snprintf(prefix, sizeof(prefix), "%-4s ", proto_name(svc->proto));
	put_cell(out, o, &(struct cell){ prefix, &svc->addr, svc->proto }, pad);
}

/* ipvsadm's print_largenum: 9 columns, K/M/G/T above 10^8 unless exact. */
void list_largenum(struct buf *out, uint64_t v, bool exact)
{
	static const struct { uint64_t below, div; char unit; } steps[] = {
		{ 1000000000ull, 1000ull, 'K' },
		{ 100000000000ull, 1000000ull, 'M' },
		{ 100000000000000ull, 1000000000ull, 'G' },
		{ UINT64_MAX, 1000000000000ull, 'T' },
	};

	if (exact) {
		int digits = snprintf(NULL, 0, "%" PRIu64, v);

		buf_printf(out, "%*" PRIu64, digits <= 8 ? 9 : digits + 1, v);
		return;
	}
	if (v < 100000000ull) {
		buf_printf(out, "%9" PRIu64, v);
		return;
	}
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (v < steps[i].below || i == 3) {
			buf_printf(out, "%8" PRIu64 "%c", v / steps[i].div, steps[i].unit);
			return;
		}
}

/* weir's HTTP view: one row of counters per service and server. */
static const char http_fmt[] = "%-33s %8s %8s %8s %8s %8s %8s %8s %8s\n";

static void http_row(struct buf *out, const struct list_opts *o, const struct cell *name,
		     const struct vs_stats *st, int nthreads, bool exact)
{
	struct stats_view t;

	stats_view(st, nthreads, &t);
	put_cell(out, o, name, 33);
	list_largenum(out, t.requests, exact);
	for (int k = 1; k < 6; k++)
		list_largenum(out, t.resp[k], exact);
	list_largenum(out, t.retries, exact);
	buf_printf(out, " %8.2f\n", t.timed ? (double)t.rt_sum_us / 1000.0 / (double)t.timed : 0.0);
}

/* weir's UDP view: sessions started and open, evicted, dropped datagrams,
 * sessions that timed out waiting for an answer, datagrams per second. */
static const char udp_fmt[] = "%-33s %8s %8s %8s %8s %8s %8s %8s\n";

static void udp_row(struct buf *out, const struct list_opts *o, const struct cell *name,
		    const struct vs_stats *st, uint64_t open, int nthreads, bool exact)
{
	struct stats_view t;

	stats_view(st, nthreads, &t);
	put_cell(out, o, name, 33);
	list_largenum(out, t.tot.conns, exact);
	list_largenum(out, open, exact);
	list_largenum(out, t.evictions, exact);
	list_largenum(out, t.drops, exact);
	list_largenum(out, t.timeouts, exact);
	list_largenum(out, t.rate.inpps, exact);
	list_largenum(out, t.rate.outpps, exact);
	buf_printf(out, "\n");
}

static void title(struct buf *out, const struct list_opts *o)
{
	const char *hdr = "%-33s %8s %8s %8s %8s %8s\n";

	if (o->health) {
		buf_printf(out, "Prot LocalAddress:Port Scheduler Flags\n");
		buf_printf(out, "  -> RemoteAddress:Port           State    Weight      "
			   "LastCheck            CheckMs  Reason\n");
		return;
	}
	if (o->http) {
		buf_printf(out, http_fmt, "Prot LocalAddress:Port", "Reqs", "1xx", "2xx", "3xx",
			   "4xx", "5xx", "Retries", "RTms");
		buf_printf(out, "  -> RemoteAddress:Port\n");
		return;
	}
	if (o->dns) {
		list_dns_title(out);
		return;
	}
	if (o->udp) {
		buf_printf(out, udp_fmt, "Prot LocalAddress:Port", "Sessions", "Open", "Evicted",
			   "Dropped", "TimedOut", "InPPS", "OutPPS");
		buf_printf(out, "  -> RemoteAddress:Port\n");
		return;
	}
	if (o->stats)
		buf_printf(out, hdr, "Prot LocalAddress:Port", "Conns", "InPkts", "OutPkts",
			   "InBytes", "OutBytes");
	else if (o->rate)
		buf_printf(out, hdr, "Prot LocalAddress:Port", "CPS", "InPPS", "OutPPS",
			   "InBPS", "OutBPS");
	else if (o->thresholds)
		buf_printf(out, "%-33s %-10s %-10s %-10s %-10s\n", "Prot LocalAddress:Port",
			   "Uthreshold", "Lthreshold", "ActiveConn", "InActConn");
	else if (o->pconn)
		buf_printf(out, "%-33s %-9s %-11s %-10s %-10s\n", "Prot LocalAddress:Port",
			   "Weight", "PersistConn", "ActiveConn", "InActConn");
	else {
		buf_printf(out, "Prot LocalAddress:Port Scheduler Flags\n");
		buf_printf(out, "  -> RemoteAddress:Port           Forward %sWeight ActiveConn "
			   "InActConn\n", o->tuninfo ? "TunnelInfo    " : "");
		return;
	}
	buf_printf(out, "  -> RemoteAddress:Port\n");
}

static void totals_since_zero(const struct vs_stats *st, int nthreads, struct rate_totals *t)
{
	stats_sum(st, nthreads, t);
	t->conns -= st->zero.conns;
	t->inpkts -= st->zero.inpkts;
	t->outpkts -= st->zero.outpkts;
	t->inbytes -= st->zero.inbytes;
	t->outbytes -= st->zero.outbytes;
}

static void five(struct buf *out, uint64_t a, uint64_t b, uint64_t c, uint64_t d,
		 uint64_t e, bool exact)
{
	list_largenum(out, a, exact);
	list_largenum(out, b, exact);
	list_largenum(out, c, exact);
	list_largenum(out, d, exact);
	list_largenum(out, e, exact);
	buf_printf(out, "\n");
}

/* The persistence mask differs from "one client"? */
static bool has_mask(const struct service_spec *s)
{
	return s->persist_prefix != spec_full_prefix(&s->addr);
}

/* The --stats or --rate row of a service or pool: false in other views. */
static bool counters_row(struct buf *out, const struct cell *name, const struct vs_stats *st,
			 const struct list_opts *o, int nthreads)
{
	struct rate_totals t;
	struct rate_value r;

	if (o->stats) {
		totals_since_zero(st, nthreads, &t);
		put_cell(out, o, name, 33);
		five(out, t.conns, t.inpkts, t.outpkts, t.inbytes, t.outbytes, o->exact);
		return true;
	}
	if (o->rate) {
		rate_read(&st->est, &r);
		put_cell(out, o, name, 33);
		five(out, r.cps, r.inpps, r.outpps, r.inbps, r.outbps, o->exact);
		return true;
	}
	return false;
}

static void service_line(struct buf *out, const struct virtual_service *svc,
			 const struct list_opts *o, int nthreads)
{
	const struct service_spec *sp = &svc->spec;
	char prefix[8], tmp[64];
	struct cell name = { prefix, &svc->addr, svc->proto };

	snprintf(prefix, sizeof(prefix), "%-4s ", proto_name(svc->proto));
	if (o->http) {
		http_row(out, o, &name, &svc->stats, nthreads, o->exact);
		return;
	}
	if (o->udp) {
		udp_row(out, o, &name, &svc->stats, atomic_load(&svc->active), nthreads, o->exact);
		return;
	}
	if (counters_row(out, &name, &svc->stats, o, nthreads))
		return;
	put_cell(out, o, &name, 0);
	buf_printf(out, " %s", sp->sched);
	if (sp->sched_flags) {
		sched_flags_format(sp->sched_flags, sp->sched, tmp, sizeof(tmp));
		buf_printf(out, " (%s)", tmp);
	}
	if (sp->ops)
		buf_printf(out, " ops");
	if (sp->persist_s) {
		buf_printf(out, " persistent %u", sp->persist_s);
		if (has_mask(sp)) {
			netmask_format(sp->persist_prefix, addr_family(&sp->addr), tmp, sizeof(tmp));
			buf_printf(out, " mask %s", tmp);
		}
	}
	buf_printf(out, "\n");
}

struct rs_view {
	struct real_server *rs;
	struct sched_server ss;   /* copied under the lock */
	struct rs_health h;       /* ditto */
	const char *state;
	size_t persist_conns;     /* templates bound to it */
};

/* weir's health view: state, weight in effect / configured, last check. */
static void health_line(struct buf *out, const struct list_opts *o, const struct cell *name,
			const struct rs_view *v)
{
	char w[24], ms[16], reason[sizeof(v->h.reason) + 16];

	snprintf(w, sizeof(w), "%u/%u", v->ss.weight, v->h.weight);
	if (v->h.check_last[0])
		snprintf(ms, sizeof(ms), "%.1f", (double)v->h.check_us / 1000.0);
	else
		snprintf(ms, sizeof(ms), "-");
	snprintf(reason, sizeof(reason), "%s%s", v->h.reason,
		 v->h.ramp_start ? " (slow start)" : "");
	put_cell(out, o, name, 33);
	buf_printf(out, " %-8s %-11s %-20.20s %7s  %s\n", v->state, w,
		   v->h.check_last[0] ? v->h.check_last : "-", ms, reason);
}

static void server_line(struct buf *out, const struct virtual_service *svc,
			const struct rs_view *v, const struct list_opts *o, int nthreads)
{
	const struct real_server *rs = v->rs;
	const struct cell name = { "  -> ", &rs->addr, svc->proto };
	struct rate_totals t;
	struct rate_value r;

	if (o->health) {
		health_line(out, o, &name, v);
	} else if (o->http) {
		http_row(out, o, &name, &rs->stats, nthreads, o->exact);
	} else if (o->udp) {
		udp_row(out, o, &name, &rs->stats, (uint64_t)v->ss.active + v->ss.inactive,
			nthreads, o->exact);
	} else if (o->stats) {
		totals_since_zero(&rs->stats, nthreads, &t);
		put_cell(out, o, &name, 33);
		five(out, t.conns, t.inpkts, t.outpkts, t.inbytes, t.outbytes, o->exact);
	} else if (o->rate) {
		rate_read(&rs->stats.est, &r);
		put_cell(out, o, &name, 33);
		buf_printf(out, " %8" PRIu64 " %8" PRIu64 " %8" PRIu64, r.cps, r.inpps, r.outpps);
		list_largenum(out, r.inbps, o->exact);
		list_largenum(out, r.outbps, o->exact);
		buf_printf(out, "\n");
	} else if (o->thresholds) {
		put_cell(out, o, &name, 33);
		buf_printf(out, " %-10u %-10u %-10u %-10u\n", v->ss.upper, v->ss.lower,
			   v->ss.active, v->ss.inactive);
	} else if (o->pconn) {
		put_cell(out, o, &name, 33);
		buf_printf(out, " %-9u %-11zu %-10u %-10u\n", v->h.weight, v->persist_conns,
			   v->ss.active, v->ss.inactive);
	} else {
		const char *fwd = svc->proxy ? "Proxy" : fwd_name(rs->spec.fwd);

		put_cell(out, o, &name, 33);
		/* weir's tunnels are all IP-in-IP: ipvsadm's "ipip" */
		if (o->tuninfo)
			buf_printf(out, " %-7s %-13s", fwd,
				   !svc->proxy && rs->spec.fwd == FWD_TUNNEL ? "ipip" : "n/a");
		else
			buf_printf(out, " %-7s", fwd);
		/* a backup says so after ipvsadm's columns (ipvsadm has none) */
		buf_printf(out, " %-6u %-10u %-10u%s\n", v->h.weight, v->ss.active,
			   v->ss.inactive, v->ss.backup ? " backup" : "");
	}
}

static int cmp_rs(const void *a, const void *b)
{
	const struct rs_view *x = a, *y = b;

	return addr_cmp(&x->rs->addr, &y->rs->addr);
}

/* The server lines of <svc>: a service, or a pool of <owner> (whose
 * forwarding method its servers use). */
static void servers_of(struct buf *out, struct virtual_service *svc,
		       const struct virtual_service *owner, const struct list_opts *o,
		       int nthreads)
{
	struct rs_view *v;
	size_t n;

	pthread_mutex_lock(&svc->lock);
	n = svc->nservers;
	v = calloc(n + 1, sizeof(*v));
	for (size_t i = 0; v && i < n; i++) {
		v[i].rs = svc->servers[i];
		v[i].ss = svc->servers[i]->ss;
		/* packet mode: the data path's open flows (control thread field) */
		v[i].ss.active += (uint32_t)xdp_rs_active(svc->servers[i]);
		v[i].h = health_rs(svc->servers[i])->h;
		v[i].state = rs_state_name(svc->servers[i]);
		v[i].persist_conns = svc->persist ?
			persist_count_server(svc->persist, &svc->servers[i]->ss) : 0;
		rs_get(v[i].rs);
	}
	pthread_mutex_unlock(&svc->lock);
	if (!v)
		return;
	if (!o->nosort)
		qsort(v, n, sizeof(*v), cmp_rs);
	for (size_t i = 0; i < n; i++) {
		server_line(out, owner, &v[i], o, nthreads);
		rs_put(v[i].rs);
	}
	free(v);
}

/* "  pool NAME": a pool of an HTTP service, after the service's own servers
 * and before its own. With --stats and --rate it carries the pool's numbers
 * in the service columns; otherwise its scheduler. ipvsadm has no such line:
 * a service without pools lists exactly as in ipvsadm. */
static void pool_line(struct buf *out, const char *name, const struct virtual_service *pool,
		      const struct list_opts *o, int nthreads)
{
	char row[48];
	const struct cell c = { row, NULL, 0 };

	snprintf(row, sizeof(row), "  pool %s", name);
	if (!counters_row(out, &c, &pool->stats, o, nthreads))
		buf_printf(out, "%s %s\n", row, pool->spec.sched);
}

static void service_block(struct buf *out, struct virtual_service *svc,
			  const struct list_opts *o, int nthreads)
{
	if (o->dns) {
		list_dns_block(out, svc, o);
		return;
	}
	service_line(out, svc, o, nthreads);
	servers_of(out, svc, svc, o, nthreads);
	if (o->stats || o->rate)
		list_dns_names(out, svc, o);
	for (size_t i = 0; i < svc->npools; i++) {
		pool_line(out, svc->pool_names[i], svc->pools[i], o, nthreads);
		servers_of(out, svc->pools[i], svc, o, nthreads);
	}
}

static int cmp_key(int pa, const struct weir_addr *a, int pb, const struct weir_addr *b)
{
	if (addr_family(a) != addr_family(b))
		return addr_family(a) == AF_INET ? -1 : 1;
	if (pa != pb)
		return pa < pb ? -1 : 1;
	return addr_cmp(a, b);
}

static int cmp_svc(const void *a, const void *b)
{
	const struct virtual_service *x = *(const struct virtual_service *const *)a;
	const struct virtual_service *y = *(const struct virtual_service *const *)b;

	return cmp_key(x->proto, &x->addr, y->proto, &y->addr);
}

void ctl_list(struct vs_table *t, const struct list_opts *o, struct buf *out)
{
	struct virtual_service **all;
	size_t n = 0;

	if (o->only) {
		title(out, o);
		service_block(out, (struct virtual_service *)o->only, o, t->nthreads);
		return;
	}
	buf_printf(out, "IP Virtual Server version %s (size=4096)\n", WEIR_IPVS_VERSION);
	title(out, o);
	for (struct virtual_service *s = t->head; s; s = s->next)
		n++;
	all = calloc(n + 1, sizeof(*all));
	if (!all)
		return;
	n = 0;
	for (struct virtual_service *s = t->head; s; s = s->next)
		all[n++] = s;
	if (!o->nosort)
		qsort(all, n, sizeof(*all), cmp_svc);
	for (size_t i = 0; i < n; i++)
		service_block(out, all[i], o, t->nthreads);
	free(all);
}

/* --- -S ---------------------------------------------------------------------- */

/* A weirctl word in double quotes, with \" and \\ escaped. */
static void save_quoted(struct buf *out, const char *opt, const char *v)
{
	buf_printf(out, " %s \"", opt);
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			buf_append(out, "\\", 1);
		buf_append(out, v, 1);
	}
	buf_append(out, "\"", 1);
}

/* Row <r> of <obj> as weirctl options (" -s rr", " --check \"tcp\"", " -m"),
 * when it differs from <def>'s or is always written. */
static void save_row(struct buf *out, const struct opt_ref *r, const void *obj,
		     const void *def)
{
	const struct opt_row *o = r->row;
	char v[1024], flag[48];

	if ((!o->flag && !o->aliases) ||
	    (!(o->flags & OPT_F_ALWAYS) && opt_equal(r, obj, def)))
		return;
	opt_format(r, obj, v, sizeof(v));
	if (!v[0])
		return;
	for (const struct opt_alias *a = o->aliases; a && a->value; a++)
		if (strcmp(a->value, v) == 0) {
			if (a->shortname)
				buf_printf(out, " -%c", a->shortname);
			else
				buf_printf(out, " --%s", a->flag);
			return;
		}
	if (!o->flag)
		return;
	if (o->shortname)
		snprintf(flag, sizeof(flag), "-%c", o->shortname);
	else
		snprintf(flag, sizeof(flag), "--%s", o->flag);
	if (opt_value_implied(o, v)) {
		buf_printf(out, " %s", flag);
		return;
	}
	/* several words go as one argument */
	if ((o->flags & OPT_F_QUOTE) || (opt_takes_words(o) && strpbrk(v, " \t\"\\")))
		save_quoted(out, flag, v);
	else
		buf_printf(out, " %s %s", flag, v);
}

/* The rows of <scope> of <obj> (a service or pool, or with OPT_SRV a
 * server) that differ from <def>'s, in -S order. */
static void save_rows(struct buf *out, unsigned scope, const void *obj, const void *def)
{
	size_t n;
	const struct opt_ref *all = opt_rows_saved(&n);

	for (size_t i = 0; i < n; i++)
		if (all[i].row->scope & scope)
			save_row(out, &all[i], obj, def);
}

/* " -t VIP:PORT" ("-t NAME:SERVICE" with <names>: a mark, list.h) */
static void save_svc_addr(struct buf *out, const struct service_spec *s, bool names)
{
	list_addr_cell(out, names, s->proto == IPPROTO_UDP ? " -u " : " -t ", s->proto, &s->addr,
		       0, 0);
}

static void save_service(struct buf *out, const struct service_spec *s, bool names)
{
	struct service_spec def;

	spec_service_defaults(&def);
	buf_printf(out, "-A");
	save_svc_addr(out, s, names);
	save_rows(out, OPT_SVC, s, &def);
	buf_printf(out, "\n");
}

/* " --pool NAME", quoted when the name is not one plain word. */
static void save_pool_name(struct buf *out, const char *name)
{
	if (name[strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			"0123456789_.-")])
		save_quoted(out, "--pool", name);
	else
		buf_printf(out, " --pool %s", name);
}

static void save_server(struct buf *out, const struct service_spec *s,
			const struct server_spec *r, const char *pool, bool names)
{
	struct server_spec def;

	spec_server_defaults(&def);
	/* ipvsadm does not save thresholds; weir does, so -R is exact */
	buf_printf(out, "-a");
	save_svc_addr(out, s, names);
	list_addr_cell(out, names, " -r ", s->proto, &r->addr, 0, 0);
	save_rows(out, OPT_SRV, r, &def);
	if (pool)
		save_pool_name(out, pool);
	buf_printf(out, "\n");
}

static int cmp_server_spec(const void *a, const void *b)
{
	return addr_cmp(&((const struct server_spec *)a)->addr,
			&((const struct server_spec *)b)->addr);
}

/* The -a lines of <s>'s servers (of its pool <pool> when not NULL),
 * sorted by address unless <nosort>. */
static void save_servers(struct buf *out, const struct service_spec *s, const char *pool,
			 bool nosort, bool names)
{
	struct server_spec *v = malloc((s->nservers + 1) * sizeof(*v));

	if (!v)
		return;
	if (s->nservers)
		memcpy(v, s->servers, s->nservers * sizeof(*v));
	if (!nosort)
		qsort(v, s->nservers, sizeof(*v), cmp_server_spec);
	for (size_t i = 0; i < s->nservers; i++)
		save_server(out, s, &v[i], pool, names);
	free(v);
}

/* A pool of <svc>: "-A VIP --pool NAME" with its own options (scheduler
 * always, the others where they are not the service's), then its servers. */
static void save_pool(struct buf *out, const struct service_spec *svc,
		      const struct pool_spec *pl, bool nosort, bool names)
{
	const struct service_spec *s = &pl->s;

	buf_printf(out, "-A");
	save_svc_addr(out, s, names);
	save_pool_name(out, pl->name);
	save_rows(out, OPT_POOL, s, svc);
	buf_printf(out, "\n");
	save_servers(out, &pl->s, pl->name, nosort, names);
}

static int cmp_spec(const void *a, const void *b)
{
	const struct service_spec *x = *(const struct service_spec *const *)a;
	const struct service_spec *y = *(const struct service_spec *const *)b;

	return cmp_key(x->proto, &x->addr, y->proto, &y->addr);
}

void ctl_save(const struct weir_config *cfg, bool nosort, bool names, struct buf *out)
{
	const struct service_spec **v = calloc(cfg->nservices + 1, sizeof(*v));

	if (!v)
		return;
	for (size_t i = 0; i < cfg->nservices; i++)
		v[i] = &cfg->services[i];
	if (!nosort)
		qsort(v, cfg->nservices, sizeof(*v), cmp_spec);
	for (size_t i = 0; i < cfg->nservices; i++) {
		save_service(out, v[i], names);
		save_servers(out, v[i], NULL, nosort, names);
		/* pools in their declared order: it is the config's */
		for (size_t k = 0; k < v[i]->npools; k++)
			save_pool(out, v[i], &v[i]->pools[k], nosort, names);
	}
	free(v);
}
