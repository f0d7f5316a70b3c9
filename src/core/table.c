/* table.c - the live virtual-service table (see table.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/healthspec.h"
#include "core/log.h"
#include "core/table.h"
#include "health/check.h"
#include "health/state.h"
#include "xdp/xdp.h"
#include "proxy/route.h"

_Thread_local int weir_thread_id;

static int stats_init(struct vs_stats *s, int nthreads)
{
	memset(s, 0, sizeof(*s));
	s->pt = aligned_alloc(CACHELINE, (size_t)nthreads * sizeof(*s->pt));
	s->d = calloc(1, sizeof(*s->d));
	if (!s->pt || !s->d) {
		free(s->pt);
		free(s->d);
		return -ENOMEM;
	}
	memset(s->pt, 0, (size_t)nthreads * sizeof(*s->pt));
	/* the p99 window starts from nothing: snapshot 0 is all zeros */
	s->d->nsnaps = 1;
	s->d->snap_next = 1;
	return 0;
}

static void stats_fini(struct vs_stats *s)
{
	free(s->pt);
	free(s->d);
}

void stats_sum(const struct vs_stats *s, int nthreads, struct rate_totals *out)
{
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < nthreads; i++) {
		out->conns    += counter_read(&s->pt[i].conns);
		out->inpkts   += counter_read(&s->pt[i].inpkts);
		out->outpkts  += counter_read(&s->pt[i].outpkts);
		out->inbytes  += counter_read(&s->pt[i].inbytes);
		out->outbytes += counter_read(&s->pt[i].outbytes);
		out->requests += counter_read(&s->pt[i].requests);
	}
}

unsigned rt_bucket(uint64_t us)
{
	unsigned octave, b;

	if (us < 4)
		return (unsigned)us;
	octave = 63u - (unsigned)__builtin_clzll(us);   /* >= 2 */
	b = octave * 4 + (unsigned)((us >> (octave - 2)) & 3);
	return b < RT_BUCKETS ? b : RT_BUCKETS - 1;
}

uint64_t rt_bucket_upper(unsigned b)
{
	unsigned octave = b / 4;

	if (b < 8) /* 0..3 hold 0..3 us; 4..7 are never used */
		return b < 4 ? b + 1 : 4;
	return ((uint64_t)(4 + (b & 3) + 1)) << (octave - 2);
}

void stats_observe_rt(struct vs_counters *c, uint64_t us)
{
	counter_add(&c->resp_time_us, us);
	counter_add(&c->resp_timed, 1);
	counter_add(&c->rt_hist[rt_bucket(us)], 1);
}

static void hist_sum(const struct vs_stats *s, int nthreads, uint64_t *h)
{
	memset(h, 0, RT_BUCKETS * sizeof(*h));
	for (int i = 0; i < nthreads; i++)
		for (unsigned b = 0; b < RT_BUCKETS; b++)
			h[b] += counter_read(&s->pt[i].rt_hist[b]);
}

/* The 99th percentile of the counts in <h> (upper bucket bound, us). */
static uint64_t hist_p99(const uint64_t *h)
{
	uint64_t n = 0, seen = 0, want;

	for (unsigned b = 0; b < RT_BUCKETS; b++)
		n += h[b];
	if (!n)
		return 0;
	want = n - n / 100; /* the smallest count covering 99% */
	for (unsigned b = 0; b < RT_BUCKETS; b++) {
		seen += h[b];
		if (seen >= want)
			return rt_bucket_upper(b);
	}
	return rt_bucket_upper(RT_BUCKETS - 1);
}

/* The p99 of what the histogram gained since the window's start: the
 * oldest snapshot kept. Read at any time, on the control thread. */
static uint64_t window_p99(const struct vs_stats *s, int nthreads)
{
	const struct vs_derived *d = s->d;
	const uint64_t *old = d->snaps[d->nsnaps < RT_WINDOW_SNAPS ? 0 : d->snap_next];
	uint64_t h[RT_BUCKETS];

	hist_sum(s, nthreads, h);
	for (unsigned b = 0; b < RT_BUCKETS; b++)
		h[b] -= MIN(h[b], old[b]);
	return hist_p99(h);
}

/* Every rate tick: the response-time average, and every RT_SNAP_TICKS a
 * histogram snapshot (where a later p99 window starts). */
static void stats_derive(struct vs_stats *s, int nthreads)
{
	struct vs_derived *d = s->d;
	uint64_t sum = 0, timed = 0;

	for (int i = 0; i < nthreads; i++) {
		sum += counter_read(&s->pt[i].resp_time_us);
		timed += counter_read(&s->pt[i].resp_timed);
	}
	if (timed > d->last_timed) {
		uint64_t avg = (sum - d->last_rt_sum) / (timed - d->last_timed);

		/* as the rate estimator: a quarter of the way each tick */
		d->rt_ewma_us = d->rt_ewma_us ? d->rt_ewma_us - d->rt_ewma_us / 4 + avg / 4 : avg;
	}
	d->last_timed = timed;
	d->last_rt_sum = sum;
	if (d->ticks++ % RT_SNAP_TICKS == 0) {
		hist_sum(s, nthreads, d->snaps[d->snap_next]);
		d->snap_next = (d->snap_next + 1) % RT_WINDOW_SNAPS;
		if (d->nsnaps < RT_WINDOW_SNAPS)
			d->nsnaps++;
	}
}

void stats_view(const struct vs_stats *s, int nthreads, struct stats_view *v)
{
	memset(v, 0, sizeof(*v));
	stats_sum(s, nthreads, &v->tot);
	v->tot.conns -= s->zero.conns;
	v->tot.inpkts -= s->zero.inpkts;
	v->tot.outpkts -= s->zero.outpkts;
	v->tot.inbytes -= s->zero.inbytes;
	v->tot.outbytes -= s->zero.outbytes;
	v->tot.requests -= s->zero.requests;
	v->requests = v->tot.requests;
	rate_read(&s->est, &v->rate);
	v->rps = v->rate.rps;
	for (int i = 0; i < nthreads; i++) {
		for (int k = 0; k < 6; k++)
			v->resp[k] += counter_read(&s->pt[i].resp[k]);
		v->retries += counter_read(&s->pt[i].retries);
		v->rt_sum_us += counter_read(&s->pt[i].resp_time_us);
		v->timed += counter_read(&s->pt[i].resp_timed);
	}
	for (int k = 0; k < 6; k++)
		v->resp[k] -= s->zero_resp[k];
	v->retries -= s->zero_retries;
	v->rt_sum_us -= s->zero_rt_sum;
	v->timed -= s->zero_timed;
	v->rt_ewma_us = s->d->rt_ewma_us;
	v->p99_us = window_p99(s, nthreads); /* up to date, not as of the tick */
}

/* --- references ------------------------------------------------------------ */

void svc_get(struct virtual_service *svc)
{
	atomic_fetch_add_explicit(&svc->refcnt, 1, memory_order_relaxed);
}

static void svc_free(struct virtual_service *svc)
{
	/* servers were dropped by svc_remove(); only counters remain */
	if (svc->persist)
		persist_destroy(svc->persist);
	sched_destroy(svc->sched);
	free(svc->servers);
	stats_fini(&svc->stats);
	stats_fini(&svc->own);
	pthread_mutex_destroy(&svc->lock);
	free(svc);
}

void svc_put(struct virtual_service *svc)
{
	if (atomic_fetch_sub_explicit(&svc->refcnt, 1, memory_order_acq_rel) == 1)
		svc_free(svc);
}

void rs_get(struct real_server *rs)
{
	atomic_fetch_add_explicit(&rs->refcnt, 1, memory_order_relaxed);
}

void rs_put(struct real_server *rs)
{
	if (atomic_fetch_sub_explicit(&rs->refcnt, 1, memory_order_acq_rel) == 1) {
		struct virtual_service *svc = rs->svc;

		stats_fini(&rs->stats);
		free(rs);
		svc_put(svc);
	}
}

/* --- scheduling ------------------------------------------------------------- */

static struct sched_params sched_params_of(const struct service_spec *s)
{
	struct sched_params p = {
		.flags = s->sched_flags,
		.seed = (uint64_t)now_ns() ^ (uintptr_t)s,
	};
	return p;
}

/* True if the template's server may still take this client's connections:
 * persistence outlives quiescing and draining (IPVS), not failure. */
static bool persist_usable(const struct sched_server *ss)
{
	return !(ss->flags & (SCHED_SRV_DOWN | SCHED_SRV_MAINT));
}

static struct real_server *pick_locked(struct virtual_service *svc,
				       const struct sched_req *req,
				       struct real_server *const *tried, int ntried)
{
	uint64_t *skip = NULL;
	struct sched_req r = *req;
	int idx;

	if (ntried) {
		skip = calloc((svc->nservers + 63) / 64 + 1, sizeof(*skip));
		if (!skip)
			return NULL;
		for (int i = 0; i < ntried; i++) {
			int k = tried[i]->ss.idx;

			if (k >= 0)
				skip[k >> 6] |= 1ull << (k & 63);
		}
		r.skip = skip;
	}
	idx = sched_pick(svc->sched, &r);
	free(skip);
	return idx < 0 ? NULL : svc->servers[idx];
}

static bool was_tried(struct real_server *rs, struct real_server *const *tried, int ntried)
{
	for (int i = 0; i < ntried; i++)
		if (tried[i] == rs)
			return true;
	return false;
}

struct real_server *svc_schedule(struct virtual_service *svc,
				 const struct weir_addr *client, uint64_t now,
				 struct real_server *const *tried, int ntried,
				 struct vs_runtime *rt)
{
	uint8_t src[16], dst[16];
	struct sched_req req = {
		.src = src,
		.src_len = addr_bytes(client, src),
		.src_port = addr_port(client),
		/* the locality key of lblc/lblcr/dh: the destination address,
		 * as IPVS sees it (the HTTP proxy will pass Host+path) */
		.lkey = dst,
		.lkey_len = addr_bytes(&svc->addr, dst),
		.now_ms = now,
	};
	struct real_server *rs = NULL;

	pthread_mutex_lock(&svc->lock);
	if (svc->persist) {
		struct sched_server *ss = persist_lookup(svc->persist, src, req.src_len, now);

		if (ss && persist_usable(ss)) {
			rs = container_of(ss, struct real_server, ss);
			if (was_tried(rs, tried, ntried))
				rs = NULL;
		}
	}
	if (!rs) {
		rs = pick_locked(svc, &req, tried, ntried);
		if (rs && svc->persist)
			persist_bind(svc->persist, src, req.src_len, &rs->ss, now);
	}
	if (rs && svc->persist)
		persist_hold(svc->persist, src, req.src_len);
	if (rs) {
		sched_conn_open(svc->sched, &rs->ss);
		rs_get(rs);
		if (rt)
			*rt = svc->rt;
	}
	pthread_mutex_unlock(&svc->lock);
	return rs;
}

void svc_runtime(struct virtual_service *svc, struct vs_runtime *rt)
{
	pthread_mutex_lock(&svc->lock);
	*rt = svc->rt;
	pthread_mutex_unlock(&svc->lock);
}

void svc_runtime_l4(struct virtual_service *svc, struct vs_runtime_l4 *rt)
{
	pthread_mutex_lock(&svc->lock);
	rt->connect_timeout_ms = svc->rt.connect_timeout_ms;
	rt->idle_timeout_ms = svc->rt.idle_timeout_ms;
	rt->retries = svc->rt.retries;
	rt->send_proxy = svc->rt.send_proxy;
	rt->trusts_fronts = svc->rt.trusts_fronts;
	pthread_mutex_unlock(&svc->lock);
}

bool svc_proxy_trusted(struct virtual_service *svc, const struct weir_addr *peer)
{
	bool yes;

	pthread_mutex_lock(&svc->lock);
	yes = svc->naccept_proxy && cidr_match(svc->accept_proxy, svc->naccept_proxy, peer);
	pthread_mutex_unlock(&svc->lock);
	return yes;
}

/* The accept_proxy networks of <sp>. Lock held. */
static void trusted_set(struct virtual_service *svc, const struct service_spec *sp)
{
	svc->naccept_proxy = sp->naccept_proxy;
	memcpy(svc->accept_proxy, sp->accept_proxy, sizeof(svc->accept_proxy));
}

/* Counts a connection to <rs> as svc_schedule() does. Lock held. */
static struct real_server *take_locked(struct virtual_service *svc, struct real_server *rs,
				       const struct weir_addr *client, uint64_t now)
{
	uint8_t src[16];
	uint8_t len = addr_bytes(client, src);

	if (svc->persist) {
		persist_bind(svc->persist, src, len, &rs->ss, now);
		persist_hold(svc->persist, src, len);
	}
	sched_conn_open(svc->sched, &rs->ss);
	rs_get(rs);
	return rs;
}

struct real_server *svc_schedule_to(struct virtual_service *svc, struct real_server *want,
				    const struct weir_addr *client, uint64_t now)
{
	struct real_server *rs = NULL;

	pthread_mutex_lock(&svc->lock);
	if (!want->removed && want->ss.idx >= 0 && sched_server_available(&want->ss))
		rs = take_locked(svc, want, client, now);
	pthread_mutex_unlock(&svc->lock);
	return rs;
}

struct real_server *svc_schedule_hash(struct virtual_service *svc, const void *key, size_t len,
				      const struct weir_addr *client, uint64_t now)
{
	struct real_server *rs = NULL;
	int idx;

	pthread_mutex_lock(&svc->lock);
	idx = sched_rendezvous((struct sched_server *const *)svc->servers, svc->nservers, key,
			       len);
	if (idx >= 0)
		rs = take_locked(svc, svc->servers[idx], client, now);
	pthread_mutex_unlock(&svc->lock);
	return rs;
}

void rs_sticky_id(const struct real_server *rs, char out[17])
{
	char a[ADDR_STRLEN], b[ADDR_STRLEN];
	uint64_t h;

	addr_str(&rs->svc->addr, a);
	addr_str(&rs->addr, b);
	h = sched_mix64(sched_fnv1a64(sched_fnv1a64(0x9e3779b97f4a7c15ull, a, strlen(a)), b,
				      strlen(b)));
	snprintf(out, 17, "%016llx", (unsigned long long)h);
}

struct real_server *svc_find_sticky(struct virtual_service *svc, const char *id, size_t len)
{
	struct real_server *found = NULL;
	char cur[17];

	if (len != 16)
		return NULL;
	pthread_mutex_lock(&svc->lock);
	for (size_t i = 0; i < svc->nservers && !found; i++) {
		rs_sticky_id(svc->servers[i], cur);
		if (memcmp(cur, id, 16) == 0) {
			found = svc->servers[i];
			rs_get(found);
		}
	}
	pthread_mutex_unlock(&svc->lock);
	return found;
}

void svc_conn_deactivate(struct real_server *rs)
{
	struct virtual_service *svc = rs->svc;

	pthread_mutex_lock(&svc->lock);
	sched_conn_deactivate(svc->sched, &rs->ss);
	pthread_mutex_unlock(&svc->lock);
}

void svc_observe_rtt(struct real_server *rs, uint64_t rtt_ns, uint64_t now)
{
	struct virtual_service *svc = rs->svc;

	if (!atomic_load_explicit(&svc->wants_rtt, memory_order_relaxed))
		return; /* no lock taken for schedulers that ignore it */
	pthread_mutex_lock(&svc->lock);
	sched_observe_rtt(svc->sched, &rs->ss, rtt_ns, now);
	pthread_mutex_unlock(&svc->lock);
}

void svc_conn_close(struct real_server *rs, bool was_active, const struct weir_addr *client,
		    uint64_t now)
{
	struct virtual_service *svc = rs->svc;
	uint8_t src[16];

	pthread_mutex_lock(&svc->lock);
	sched_conn_close(svc->sched, &rs->ss, was_active);
	if (svc->persist)
		persist_release(svc->persist, src, addr_bytes(client, src), now);
	pthread_mutex_unlock(&svc->lock);
	rs_put(rs);
}

/* --- building and editing services --------------------------------------- */

/* Lock held (or the server not yet shared). The scheduler is told by the
 * caller (resched) or by rs_refresh_locked(). */
static void server_apply_spec(struct real_server *rs, const struct server_spec *sp)
{
	if (rs->h.admin != sp->admin && (rs->h.admin > ADMIN_READY || sp->admin > ADMIN_READY)) {
		char a[ADDR_STRLEN], b[ADDR_STRLEN];

		snprintf(rs->h.reason, sizeof(rs->h.reason), "set to %s by hand",
			 admin_state_name(sp->admin ? (enum admin_state)sp->admin : ADMIN_READY));
		log_info("%s %s -> %s: real server %s", proto_name(rs->svc->proto),
			 addr_str(&rs->svc->addr, a), addr_str(&rs->addr, b), rs->h.reason);
	}
	rs->spec = *sp;
	rs->h.weight = sp->weight;
	rs->h.admin = sp->admin;
	rs->ss.upper = sp->upper;
	rs->ss.lower = sp->lower;
	rs_recompute_locked(rs, now_ms());
}

static struct real_server *server_new(struct virtual_service *svc,
				      const struct server_spec *sp, int nthreads)
{
	struct real_server *rs = calloc(1, sizeof(*rs));

	if (!rs)
		return NULL;
	if (stats_init(&rs->stats, nthreads) != 0) {
		free(rs);
		return NULL;
	}
	rs->addr = sp->addr;
	rs->svc = svc;
	rs->ss.family = addr_family(&sp->addr) == AF_INET6 ? 6 : 4;
	addr_bytes(&sp->addr, rs->ss.addr);
	rs->ss.port = addr_port(&sp->addr);
	rs->ss.idx = -1;
	rs->xdp_idx = -1;
	rs->h.agent_pct = 100;
	server_apply_spec(rs, sp);
	atomic_init(&rs->refcnt, 1); /* the table's */
	svc_get(svc);
	return rs;
}

static int runtime_of(const struct service_spec *s, struct vs_runtime *rt)
{
	rt->connect_timeout_ms = s->connect_timeout_ms;
	rt->idle_timeout_ms = s->idle_timeout_ms;
	rt->retries = s->retries;
	rt->http = s->http;
	rt->send_proxy = s->send_proxy;
	rt->trusts_fronts = s->naccept_proxy > 0;
	return 0;
}

static struct persist_table *persist_for(const struct service_spec *s)
{
	uint8_t full = spec_full_prefix(&s->addr);
	uint8_t prefix = s->persist_prefix;

	if (!s->persist_s)
		return NULL;
	return persist_create(s->persist_s * 1000u, full == 32 ? prefix : 32,
			      full == 128 ? prefix : 128, (uint64_t)now_ns() ^ (uintptr_t)s);
}

static struct virtual_service *service_new(const struct service_spec *sp, int nthreads,
					   char *err)
{
	struct virtual_service *svc = calloc(1, sizeof(*svc));
	struct sched_params params = sched_params_of(sp);

	if (!svc)
		goto out_nomem;
	svc->spec = *sp;
	svc->spec.servers = NULL;
	svc->spec.nservers = 0;
	svc->proto = sp->proto;
	svc->addr = sp->addr;
	atomic_init(&svc->refcnt, 1); /* the table's */
	svc->xdp_id = -1;
	atomic_init(&svc->maxconn, sp->maxconn);
	atomic_init(&svc->wants_rtt, sched_find(sp->sched)->uses_rtt);
	pthread_mutex_init(&svc->lock, NULL);
	runtime_of(sp, &svc->rt);
	health_opts_set(svc, sp);
	trusted_set(svc, sp);
	if (stats_init(&svc->stats, nthreads) != 0 || stats_init(&svc->own, nthreads) != 0)
		goto out_free;
	svc->sched = sched_create(sched_find(sp->sched), &params);
	if (!svc->sched)
		goto out_free;
	if (sp->persist_s && !(svc->persist = persist_for(sp)))
		goto out_free;
	svc->proxy = sp->proxy;
	return svc;

out_free:
	svc_free(svc);
out_nomem:
	snprintf(err, SPEC_ERR_MAX, "Memory allocation problem");
	return NULL;
}

/* Sets the scheduler's server set from svc->servers. Lock held. */
static int resched_locked(struct virtual_service *svc)
{
	return sched_set_servers(svc->sched, (struct sched_server *const *)svc->servers,
				 svc->nservers);
}

/* Makes svc's server list match <sp>. New servers are created first, so a
 * failed allocation leaves the service unchanged. */
static int servers_apply(struct vs_table *t, struct virtual_service *svc,
			 const struct service_spec *sp, char *err)
{
	struct real_server **next = calloc(sp->nservers + 1, sizeof(*next));
	bool *made = calloc(sp->nservers + 1, sizeof(*made));
	struct real_server **old;
	size_t nold;
	int rc = 0;

	if (!next || !made)
		goto out_nomem;
	for (size_t i = 0; i < sp->nservers; i++) {
		for (size_t k = 0; k < svc->nservers; k++)
			if (addr_equal(&svc->servers[k]->addr, &sp->servers[i].addr))
				next[i] = svc->servers[k];
		if (next[i])
			continue;
		if (!(next[i] = server_new(svc, &sp->servers[i], t->nthreads))) {
			for (size_t k = 0; k < i; k++)
				if (made[k])
					rs_put(next[k]);
			goto out_nomem;
		}
		made[i] = true;
	}
	pthread_mutex_lock(&svc->lock);
	old = svc->servers;
	nold = svc->nservers;
	for (size_t k = 0; k < nold; k++) {
		bool kept = false;

		for (size_t i = 0; i < sp->nservers; i++)
			kept |= next[i] == old[k];
		if (!kept) {
			old[k]->removed = true;
			if (svc->persist)
				persist_forget_server(svc->persist, &old[k]->ss);
		}
	}
	for (size_t i = 0; i < sp->nservers; i++)
		server_apply_spec(next[i], &sp->servers[i]);
	svc->servers = next;
	svc->nservers = sp->nservers;
	rc = resched_locked(svc);
	atomic_fetch_add_explicit(&svc->gen, 1, memory_order_relaxed);
	pthread_mutex_unlock(&svc->lock);
	for (size_t k = 0; k < nold; k++)
		if (old[k]->removed)
			rs_put(old[k]);
	free(old);
	free(made);
	if (rc)
		snprintf(err, SPEC_ERR_MAX, "scheduler update failed: %s", strerror(-rc));
	return rc;

out_nomem:
	free(next);
	free(made);
	snprintf(err, SPEC_ERR_MAX, "Memory allocation problem");
	return -ENOMEM;
}

/* Applies changed service options. The scheduler instance is replaced only
 * when the algorithm or its flags change; connection counts live in the
 * servers, so the new instance sees them. */
static int service_update(struct virtual_service *svc, const struct service_spec *sp,
			  char *err)
{
	struct sched *ns = NULL, *old_sched = NULL;
	struct persist_table *np = NULL, *old_persist = NULL;
	bool new_sched = strcmp(svc->spec.sched, sp->sched) != 0 ||
			 svc->spec.sched_flags != sp->sched_flags;
	bool new_persist = svc->spec.persist_s != sp->persist_s ||
			   svc->spec.persist_prefix != sp->persist_prefix;
	int rc = 0;

	if (new_sched) {
		struct sched_params params = sched_params_of(sp);

		if (!(ns = sched_create(sched_find(sp->sched), &params)))
			goto out_nomem;
	}
	if (new_persist && sp->persist_s && !(np = persist_for(sp))) {
		sched_destroy(ns);
		goto out_nomem;
	}
	pthread_mutex_lock(&svc->lock);
	if (ns) {
		rc = sched_set_servers(ns, (struct sched_server *const *)svc->servers,
				       svc->nservers);
		if (rc != 0) /* the failed set cleared the servers' idx: back */
			sched_set_servers(svc->sched, (struct sched_server *const *)svc->servers,
					  svc->nservers);
		if (rc == 0) {
			old_sched = svc->sched;
			svc->sched = ns;
		}
	}
	if (rc == 0 && new_persist) {
		old_persist = svc->persist;
		svc->persist = np;
	}
	if (rc == 0) {
		runtime_of(sp, &svc->rt);
		trusted_set(svc, sp);
		health_opts_set(svc, sp);
	}
	pthread_mutex_unlock(&svc->lock);
	if (rc) {
		sched_destroy(ns);
		if (np)
			persist_destroy(np);
		snprintf(err, SPEC_ERR_MAX, "scheduler update failed: %s", strerror(-rc));
		return rc;
	}
	sched_destroy(old_sched);
	atomic_store(&svc->wants_rtt, svc->sched->ops->uses_rtt);
	if (old_persist)
		persist_destroy(old_persist);
	atomic_store(&svc->maxconn, sp->maxconn);
	svc->spec = *sp;
	svc->spec.servers = NULL;
	svc->spec.nservers = 0;
	atomic_fetch_add_explicit(&svc->gen, 1, memory_order_relaxed);
	return 0;

out_nomem:
	snprintf(err, SPEC_ERR_MAX, "Memory allocation problem");
	return -ENOMEM;
}

/* Takes <svc> out of the table: listeners close, servers are released as
 * their sessions end. */
static void service_remove(struct virtual_service *svc);

/* --- HTTP pools and routes ----------------------------------------------------- */

struct pool_ctx {
	struct virtual_service **pools;
	char (*names)[32];
	size_t n;
};

static struct virtual_service *pool_of(void *arg, const char *name)
{
	struct pool_ctx *c = arg;

	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->names[i], name) == 0) {
			svc_get(c->pools[i]);
			return c->pools[i];
		}
	return NULL; /* "default": the service's own servers */
}

static void routes_swap(struct virtual_service *svc, struct route_table *rt)
{
	struct route_table *old;

	pthread_mutex_lock(&svc->lock);
	old = svc->routes;
	svc->routes = rt;
	atomic_store_explicit(&svc->has_routes, rt != NULL, memory_order_relaxed);
	pthread_mutex_unlock(&svc->lock);
	route_table_put(old);
}

struct route_table *svc_routes_get(struct virtual_service *svc)
{
	struct route_table *rt;

	if (!atomic_load_explicit(&svc->has_routes, memory_order_relaxed))
		return NULL; /* most services: no lock on the request path */
	pthread_mutex_lock(&svc->lock);
	rt = svc->routes;
	if (rt)
		route_table_get(rt);
	pthread_mutex_unlock(&svc->lock);
	return rt;
}

static void pools_remove_all(struct virtual_service *svc)
{
	routes_swap(svc, NULL);
	for (size_t i = 0; i < svc->npools; i++)
		service_remove(svc->pools[i]);
	free(svc->pools);
	free(svc->pool_names);
	svc->pools = NULL;
	svc->pool_names = NULL;
	svc->npools = 0;
}

static int servers_apply(struct vs_table *t, struct virtual_service *svc,
			 const struct service_spec *sp, char *err);
static int service_update(struct virtual_service *svc, const struct service_spec *sp,
			  char *err);

/* One pool of <sp>: reuse the live one of that name or make it. */
static struct virtual_service *pool_apply(struct vs_table *t, struct virtual_service *svc,
					  const struct pool_spec *p, bool *reused, char *err)
{
	struct service_spec ps = p->s;
	struct virtual_service *pool = NULL;

	ps.proxy = NULL; /* a pool listens nowhere */
	for (size_t k = 0; k < svc->npools && !pool; k++)
		if (strcmp(svc->pool_names[k], p->name) == 0)
			pool = svc->pools[k];
	*reused = pool != NULL;
	if (pool) {
		if (service_update(pool, &ps, err) != 0)
			return NULL;
	} else if (!(pool = service_new(&ps, t->nthreads, err))) {
		return NULL;
	}
	if (servers_apply(t, pool, &ps, err) != 0) {
		if (!*reused)
			service_remove(pool);
		return NULL;
	}
	return pool;
}

/* Makes <svc>'s pools and routes match <sp>. */
static int pools_apply(struct vs_table *t, struct virtual_service *svc,
		       const struct service_spec *sp, char *err)
{
	struct pool_ctx c = {
		.pools = calloc(sp->npools + 1, sizeof(*c.pools)),
		.names = calloc(sp->npools + 1, sizeof(*c.names)),
	};
	bool *kept = calloc(svc->npools + 1, sizeof(*kept));
	struct route_table *rt = NULL;

	if (!c.pools || !c.names || !kept)
		goto out_nomem;
	for (size_t i = 0; i < sp->npools; i++) {
		bool reused;

		c.pools[i] = pool_apply(t, svc, &sp->pools[i], &reused, err);
		if (!c.pools[i])
			goto out_undo;
		memcpy(c.names[i], sp->pools[i].name, sizeof(c.names[i]));
		c.n++;
		for (size_t k = 0; k < svc->npools && reused; k++)
			kept[k] |= svc->pools[k] == c.pools[i];
	}
	if (sp->nroutes && !(rt = route_table_build(sp->routes, sp->nroutes, pool_of, &c)))
		goto out_nomem_undo;
	routes_swap(svc, rt);
	for (size_t k = 0; k < svc->npools; k++)
		if (!kept[k])
			service_remove(svc->pools[k]);
	free(svc->pools);
	free(svc->pool_names);
	svc->pools = c.pools;
	svc->pool_names = c.names;
	svc->npools = c.n;
	free(kept);
	return 0;

out_nomem_undo:
	snprintf(err, SPEC_ERR_MAX, "Memory allocation problem");
out_undo:
	/* new pools go; reused ones keep what they were given (reload
	 * semantics: a failed edit leaves the rest applied) */
	for (size_t i = 0; i < c.n; i++) {
		bool old = false;

		for (size_t k = 0; k < svc->npools; k++)
			old |= svc->pools[k] == c.pools[i];
		if (!old)
			service_remove(c.pools[i]);
	}
	free(c.pools);
	free(c.names);
	free(kept);
	return -ENOMEM;

out_nomem:
	free(c.pools);
	free(c.names);
	free(kept);
	snprintf(err, SPEC_ERR_MAX, "Memory allocation problem");
	return -ENOMEM;
}

static void service_remove(struct virtual_service *svc)
{
	struct real_server **old;
	size_t n;

	pools_remove_all(svc);
	svc->removed = true;
	if (svc->proxy)
		svc->proxy->stop(svc);
	pthread_mutex_lock(&svc->lock);
	old = svc->servers;
	n = svc->nservers;
	svc->servers = NULL;
	svc->nservers = 0;
	for (size_t i = 0; i < n; i++) {
		old[i]->removed = true;
		if (svc->persist)
			persist_forget_server(svc->persist, &old[i]->ss);
	}
	sched_set_servers(svc->sched, NULL, 0);
	pthread_mutex_unlock(&svc->lock);
	for (size_t i = 0; i < n; i++)
		rs_put(old[i]);
	free(old);
	svc_put(svc);
}

int table_init(struct vs_table *t, int nthreads)
{
	memset(t, 0, sizeof(*t));
	t->nthreads = nthreads;
	spec_init(&t->cfg);
	return 0;
}

void table_fini(struct vs_table *t)
{
	while (t->head) {
		struct virtual_service *svc = t->head;

		t->head = svc->next;
		service_remove(svc);
	}
	spec_free(&t->cfg);
}

struct virtual_service *table_find(struct vs_table *t, int proto,
				   const struct weir_addr *addr)
{
	for (struct virtual_service *s = t->head; s; s = s->next)
		if (s->proto == proto && addr_equal(&s->addr, addr))
			return s;
	return NULL;
}

/* A live service must be rebuilt (not edited) when its mode changes. */
static bool needs_replace(const struct virtual_service *svc, const struct service_spec *sp)
{
	return svc->spec.proxy != sp->proxy;
}

static void table_append(struct vs_table *t, struct virtual_service *svc)
{
	struct virtual_service **pp = &t->head;

	while (*pp)
		pp = &(*pp)->next;
	svc->next = NULL;
	*pp = svc;
}

static void table_unlink(struct vs_table *t, struct virtual_service *svc)
{
	for (struct virtual_service **pp = &t->head; *pp; pp = &(*pp)->next)
		if (*pp == svc) {
			*pp = svc->next;
			return;
		}
}

/* Phase 1 of table_apply: creates and prepares the services that are new
 * or replaced (their mode changed). Fills fresh[i] for cfg->services[i];
 * NULL means an edit in place. A replacement binds beside the old
 * listeners (SO_REUSEPORT), so the old one serves until phase 2. */
static int prepare_new(struct vs_table *t, const struct weir_config *cfg,
		       struct virtual_service **fresh, char *err)
{
	char a[ADDR_STRLEN];

	for (size_t i = 0; i < cfg->nservices; i++) {
		const struct service_spec *sp = &cfg->services[i];
		struct virtual_service *cur = table_find(t, sp->proto, &sp->addr);
		char why[SPEC_ERR_MAX];
		int rc;

		if (cur && !needs_replace(cur, sp))
			continue;
		fresh[i] = service_new(sp, t->nthreads, why);
		if (!fresh[i]) {
			snprintf(err, SPEC_ERR_MAX, "%s %s: %s", proto_name(sp->proto),
				 addr_str(&sp->addr, a), why);
			return -EINVAL;
		}
		if (fresh[i]->proxy && (rc = fresh[i]->proxy->prepare(fresh[i], why)) != 0) {
			fresh[i]->proxy = NULL; /* prepare released what it took */
			snprintf(err, SPEC_ERR_MAX, "%s %s: %s", proto_name(sp->proto),
				 addr_str(&sp->addr, a), why);
			return rc;
		}
	}
	return 0;
}

/* True if <s> stays in the table as it is (edited in place). */
static bool kept_in_place(const struct virtual_service *s, const struct weir_config *cfg,
			  struct virtual_service *const *fresh)
{
	for (size_t i = 0; i < cfg->nservices; i++)
		if (!fresh[i] && s->proto == cfg->services[i].proto &&
		    addr_equal(&s->addr, &cfg->services[i].addr))
			return true;
	return false;
}

int table_apply(struct vs_table *t, const struct weir_config *cfg, char *err)
{
	struct virtual_service **fresh = calloc(cfg->nservices + 1, sizeof(*fresh));
	struct weir_config copy;
	int rc;

	if (!fresh || spec_dup(&copy, cfg) != 0) {
		free(fresh);
		snprintf(err, SPEC_ERR_MAX, "Memory allocation problem");
		return -ENOMEM;
	}
	rc = prepare_new(t, cfg, fresh, err);
	if (rc) {
		for (size_t i = 0; i < cfg->nservices; i++)
			if (fresh[i])
				service_remove(fresh[i]);
		free(fresh);
		spec_free(&copy);
		return rc;
	}
	/* Phase 2: nothing below fails but an allocation. */
	for (struct virtual_service *s = t->head, *next; s; s = next) {
		next = s->next;
		if (!kept_in_place(s, cfg, fresh)) {
			table_unlink(t, s);
			service_remove(s);
		}
	}
	for (size_t i = 0; i < cfg->nservices && rc == 0; i++) {
		const struct service_spec *sp = &cfg->services[i];
		struct virtual_service *svc = fresh[i];

		if (svc) {
			char a[ADDR_STRLEN];

			table_append(t, svc);
			if (svc->proxy)
				svc->proxy->start(svc);
			else if (!xdp_running())
				log_warn("%s %s: packet-mode service with no xdp interface configured: "
					 "it carries no traffic", proto_name(svc->proto),
					 addr_str(&svc->addr, a));
		} else {
			svc = table_find(t, sp->proto, &sp->addr);
			rc = service_update(svc, sp, err);
		}
		if (rc == 0)
			rc = servers_apply(t, svc, sp, err);
		if (rc == 0 && (sp->npools || svc->npools || sp->nroutes || svc->routes))
			rc = pools_apply(t, svc, sp, err);
	}
	free(fresh);
	if (rc) {
		spec_free(&copy);
		return rc;
	}
	spec_free(&t->cfg);
	t->cfg = copy;
	health_sync(t);
	xdp_sync(t);
	return 0;
}
void table_foreach(struct vs_table *t,
		   void (*fn)(struct virtual_service *svc, struct virtual_service *owner,
			      const char *pool, void *arg), void *arg)
{
	for (struct virtual_service *svc = t->head; svc; svc = svc->next) {
		fn(svc, NULL, NULL, arg);
		for (size_t i = 0; i < svc->npools; i++)
			fn(svc->pools[i], svc, svc->pool_names[i], arg);
	}
}

struct tick_ctx {
	int nthreads;
	uint64_t now;
};

static void stats_tick(struct vs_stats *st, int nthreads)
{
	struct rate_totals tot;

	stats_sum(st, nthreads, &tot);
	rate_update(&st->est, &tot);
	stats_derive(st, nthreads);
}

static void tick_one(struct virtual_service *svc, struct virtual_service *owner,
		     const char *pool, void *arg)
{
	struct tick_ctx *c = arg;

	stats_tick(&svc->stats, c->nthreads);
	stats_tick(&svc->own, c->nthreads);
	pthread_mutex_lock(&svc->lock);
	if (svc->persist)
		persist_expire(svc->persist, c->now, 4096);
	for (size_t i = 0; i < svc->nservers; i++)
		stats_tick(&svc->servers[i]->stats, c->nthreads);
	pthread_mutex_unlock(&svc->lock);
}

void table_tick(struct vs_table *t, uint64_t now)
{
	struct tick_ctx c = { t->nthreads, now };

	table_foreach(t, tick_one, &c);
}

static void stats_zero(struct vs_stats *s, int nthreads)
{
	struct rate_totals tot;

	stats_sum(s, nthreads, &tot);
	s->zero = tot;
	memset(s->zero_resp, 0, sizeof(s->zero_resp));
	s->zero_retries = s->zero_rt_sum = s->zero_timed = 0;
	for (int i = 0; i < nthreads; i++) {
		for (int k = 0; k < 6; k++)
			s->zero_resp[k] += counter_read(&s->pt[i].resp[k]);
		s->zero_retries += counter_read(&s->pt[i].retries);
		s->zero_rt_sum += counter_read(&s->pt[i].resp_time_us);
		s->zero_timed += counter_read(&s->pt[i].resp_timed);
	}
	rate_reset(&s->est, &tot);
}

struct zero_ctx {
	int nthreads;
	struct virtual_service *only;
};

static void zero_one(struct virtual_service *svc, struct virtual_service *owner,
		     const char *pool, void *arg)
{
	struct zero_ctx *z = arg;

	if (z->only && svc != z->only && owner != z->only)
		return;
	stats_zero(&svc->stats, z->nthreads);
	stats_zero(&svc->own, z->nthreads);
	pthread_mutex_lock(&svc->lock);
	for (size_t i = 0; i < svc->nservers; i++)
		stats_zero(&svc->servers[i]->stats, z->nthreads);
	pthread_mutex_unlock(&svc->lock);
}

void table_zero(struct vs_table *t, struct virtual_service *only)
{
	struct zero_ctx z = { t->nthreads, only };

	table_foreach(t, zero_one, &z);
}
