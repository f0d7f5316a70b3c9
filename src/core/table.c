/* table.c - the live virtual-service table (see table.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/table.h"

/* --- what the layers above registered -------------------------------------- */

#define TABLE_HOOKS_MAX 16
#define AREA_ALIGN _Alignof(max_align_t)

static const struct table_hooks *hooks[TABLE_HOOKS_MAX];
static size_t nhooks;
static size_t svc_area_size, rs_area_size;
static bool sealed; /* a service exists: no more areas or hooks */

/* Calls hook <fn> of every layer that has one, in registration order. */
#define HOOKS(fn, ...)                                          \
	do {                                                    \
		for (size_t h_ = 0; h_ < nhooks; h_++)          \
			if (hooks[h_]->fn)                      \
				hooks[h_]->fn(__VA_ARGS__);     \
	} while (0)

static size_t area_reserve(size_t *total, size_t size)
{
	size_t off = (*total + AREA_ALIGN - 1) / AREA_ALIGN * AREA_ALIGN;

	if (sealed)
		fatalx("a state area asked for after the table made services");
	*total = off + size;
	return off;
}

size_t table_svc_area(size_t size)
{
	return area_reserve(&svc_area_size, size);
}

size_t table_rs_area(size_t size)
{
	return area_reserve(&rs_area_size, size);
}

void table_hooks_register(const struct table_hooks *h)
{
	if (sealed || nhooks == TABLE_HOOKS_MAX)
		fatalx("table hooks registered too late or too many (%d at most)",
		       TABLE_HOOKS_MAX);
	hooks[nhooks++] = h;
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

/* The accept_proxy networks of <sp>. Lock held. */
static void trusted_set(struct virtual_service *svc, const struct service_spec *sp)
{
	svc->naccept_proxy = sp->naccept_proxy;
	memcpy(svc->accept_proxy, sp->accept_proxy, sizeof(svc->accept_proxy));
}

/* --- building and editing services --------------------------------------- */

/* Lock held (or the server not yet shared). The scheduler is told by the
 * caller, who gives it the whole server set next (resched_locked). */
static void server_apply_spec(struct real_server *rs, const struct server_spec *sp)
{
	rs->spec = *sp;
	rs->ss.upper = sp->upper;
	rs->ss.lower = sp->lower;
	rs->ss.backup = sp->backup;
	HOOKS(rs_spec, rs, sp); /* the state layer sets ss.weight and ss.flags */
}

static struct real_server *server_new(struct virtual_service *svc,
				      const struct server_spec *sp, int nthreads)
{
	struct real_server *rs = calloc(1, sizeof(*rs) + rs_area_size);

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
	rs->load_reported = -1;
	HOOKS(rs_new, rs); /* servers_apply() gives it its spec */
	atomic_init(&rs->refcnt, 1); /* the table's */
	svc_get(svc);
	return rs;
}

/* <tmo>: the global connection timeouts a service without its own idle
 * timeout follows. */
static int runtime_of(const struct service_spec *s, const struct conn_timeouts *tmo,
		      struct vs_runtime *rt)
{
	rt->connect_timeout_ms = s->connect_timeout_ms;
	rt->idle_timeout_ms = spec_idle_timeout(s, tmo);
	rt->fin_timeout_ms = tmo->tcp_fin_ms;
	rt->retries = s->retries;
	rt->drain_status = s->drain_status;
	memcpy(rt->drain_header, s->drain_header, sizeof(rt->drain_header));
	memcpy(rt->opts, s->opts, sizeof(rt->opts));
	rt->send_proxy = s->send_proxy;
	rt->trusts_fronts = s->naccept_proxy > 0;
	rt->ops = s->ops;
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

static struct virtual_service *service_new(const struct vs_table *t,
					   const struct service_spec *sp, char *err)
{
	struct virtual_service *svc = calloc(1, sizeof(*svc) + svc_area_size);
	struct sched_params params = sched_params_of(sp);

	if (!svc)
		goto out_nomem;
	sealed = true;
	svc->spec = *sp;
	svc->spec.servers = NULL;
	svc->spec.nservers = 0;
	svc->proto = sp->proto;
	svc->addr = sp->addr;
	atomic_init(&svc->refcnt, 1); /* the table's */
	atomic_init(&svc->maxconn, sp->maxconn);
	atomic_init(&svc->wants_rtt, sched_find(sp->sched)->uses_rtt);
	pthread_mutex_init(&svc->lock, NULL);
	runtime_of(sp, &t->tmo, &svc->rt);
	trusted_set(svc, sp);
	HOOKS(svc_new, svc);
	HOOKS(svc_spec, svc, sp);
	if (stats_init(&svc->stats, t->nthreads) != 0 || stats_init(&svc->own, t->nthreads) != 0)
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
static int service_update(const struct vs_table *t, struct virtual_service *svc,
			  const struct service_spec *sp, char *err)
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
		runtime_of(sp, &t->tmo, &svc->rt);
		trusted_set(svc, sp);
		HOOKS(svc_spec, svc, sp);
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

/* --- HTTP pools ------------------------------------------------------------ */

struct virtual_service *svc_pool(struct virtual_service *svc, const char *name)
{
	for (size_t i = 0; i < svc->npools; i++)
		if (strcmp(svc->pool_names[i], name) == 0)
			return svc->pools[i];
	return NULL; /* "default": the service's own servers */
}

static void pools_remove_all(struct virtual_service *svc)
{
	for (size_t i = 0; i < svc->npools; i++)
		service_remove(svc->pools[i]);
	free(svc->pools);
	free(svc->pool_names);
	svc->pools = NULL;
	svc->pool_names = NULL;
	svc->npools = 0;
}

/* Removes the pools of a NULL-terminated array, and the array. */
static void pools_drop(struct virtual_service **gone)
{
	for (size_t i = 0; gone && gone[i]; i++)
		service_remove(gone[i]);
	free(gone);
}

static int servers_apply(struct vs_table *t, struct virtual_service *svc,
			 const struct service_spec *sp, char *err);
static int service_update(const struct vs_table *t, struct virtual_service *svc,
			  const struct service_spec *sp, char *err);

/* One pool of <sp>: reuse the live one of that name or make it. */
static struct virtual_service *pool_apply(struct vs_table *t, struct virtual_service *svc,
					  const struct pool_spec *p, char *err)
{
	struct service_spec ps = p->s;
	struct virtual_service *pool = svc_pool(svc, p->name);
	bool reused = pool != NULL;

	ps.proxy = NULL; /* a pool listens nowhere */
	if (reused) {
		if (service_update(t, pool, &ps, err) != 0)
			return NULL;
	} else if (!(pool = service_new(t, &ps, err))) {
		return NULL;
	}
	if (servers_apply(t, pool, &ps, err) != 0) {
		if (!reused)
			service_remove(pool);
		return NULL;
	}
	return pool;
}

static bool listed(struct virtual_service *const *set, size_t n, const struct virtual_service *s)
{
	for (size_t i = 0; i < n; i++)
		if (set[i] == s)
			return true;
	return false;
}

/* Makes <svc>'s pools match <sp>. The pools it no longer has are not
 * removed yet: *<gone> lists them (NULL-terminated) for pools_drop(), once
 * the hooks have stopped pointing at them (the routes). */
static int pools_apply(struct vs_table *t, struct virtual_service *svc,
		       const struct service_spec *sp, struct virtual_service ***gone, char *err)
{
	struct virtual_service **pools = calloc(sp->npools + 1, sizeof(*pools));
	char (*names)[32] = calloc(sp->npools + 1, sizeof(*names));
	struct virtual_service **stale = calloc(svc->npools + 1, sizeof(*stale));
	size_t n = 0, nstale = 0;

	if (!pools || !names || !stale)
		goto out_nomem;
	for (size_t i = 0; i < sp->npools; i++) {
		if (!(pools[i] = pool_apply(t, svc, &sp->pools[i], err)))
			goto out_undo;
		memcpy(names[i], sp->pools[i].name, sizeof(names[i]));
		n++;
	}
	for (size_t k = 0; k < svc->npools; k++)
		if (!listed(pools, n, svc->pools[k]))
			stale[nstale++] = svc->pools[k];
	free(svc->pools);
	free(svc->pool_names);
	svc->pools = pools;
	svc->pool_names = names;
	svc->npools = n;
	*gone = stale;
	return 0;

out_undo:
	/* new pools go; reused ones keep what they were given (reload
	 * semantics: a failed edit leaves the rest applied) */
	for (size_t i = 0; i < n; i++)
		if (!listed(svc->pools, svc->npools, pools[i]))
			service_remove(pools[i]);
	free(pools);
	free(names);
	free(stale);
	return -ENOMEM;

out_nomem:
	free(pools);
	free(names);
	free(stale);
	snprintf(err, SPEC_ERR_MAX, "Memory allocation problem");
	return -ENOMEM;
}

static void service_remove(struct virtual_service *svc)
{
	struct real_server **old;
	size_t n;

	HOOKS(svc_removed, svc);
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
	t->tmo = t->cfg.timeouts;
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
		fresh[i] = service_new(t, sp, why);
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

/* Phase 1, the layers' part: svc_prepare for every service of <cfg>, the
 * live one to be edited or the new one. */
static int prepare_hooks(struct vs_table *t, const struct weir_config *cfg,
			 struct virtual_service *const *fresh, char *err)
{
	for (size_t i = 0; i < cfg->nservices; i++) {
		const struct service_spec *sp = &cfg->services[i];
		struct virtual_service *svc = fresh[i] ? fresh[i] : table_find(t, sp->proto, &sp->addr);

		for (size_t k = 0; k < nhooks; k++) {
			char why[SPEC_ERR_MAX], a[ADDR_STRLEN];
			int rc;

			if (!hooks[k]->svc_prepare || !(rc = hooks[k]->svc_prepare(svc, sp, why)))
				continue;
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
	t->tmo = cfg->timeouts; /* what service_new/update give the services */
	rc = prepare_new(t, cfg, fresh, err);
	if (rc == 0)
		rc = prepare_hooks(t, cfg, fresh, err);
	if (rc) {
		for (size_t i = 0; i < cfg->nservices; i++)
			if (fresh[i])
				service_remove(fresh[i]);
		free(fresh);
		spec_free(&copy);
		t->tmo = t->cfg.timeouts;
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
		struct virtual_service *svc = fresh[i], **gone = NULL;

		if (svc) {
			table_append(t, svc);
			if (svc->proxy)
				svc->proxy->start(svc);
			HOOKS(svc_added, svc);
		} else {
			svc = table_find(t, sp->proto, &sp->addr);
			rc = service_update(t, svc, sp, err);
		}
		if (rc == 0)
			rc = servers_apply(t, svc, sp, err);
		if (rc == 0 && (sp->npools || svc->npools))
			rc = pools_apply(t, svc, sp, &gone, err);
		if (rc == 0)
			HOOKS(svc_applied, svc, sp);
		pools_drop(gone);
	}
	free(fresh);
	if (rc) {
		spec_free(&copy);
		return rc;
	}
	spec_free(&t->cfg);
	t->cfg = copy;
	HOOKS(sync, t);
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
	uint64_t wall_ms;         /* the history samples' time */
};

static void tick_one(struct virtual_service *svc, struct virtual_service *owner,
		     const char *pool, void *arg)
{
	struct tick_ctx *c = arg;
	uint64_t active = 0;

	stats_tick(&svc->stats, c->nthreads);
	stats_tick(&svc->own, c->nthreads);
	pthread_mutex_lock(&svc->lock);
	if (svc->persist)
		persist_expire(svc->persist, c->now, 4096);
	for (size_t i = 0; i < svc->nservers; i++) {
		struct real_server *rs = svc->servers[i];
		uint64_t n = rs_active_all(rs);

		stats_tick(&rs->stats, c->nthreads);
		stats_record(&rs->stats, c->nthreads, c->now, c->wall_ms, (uint32_t)n);
		active += n;
	}
	pthread_mutex_unlock(&svc->lock);
	stats_record(&svc->stats, c->nthreads, c->now, c->wall_ms, (uint32_t)active);
	HOOKS(svc_tick, svc, c->now);
}

void table_tick(struct vs_table *t, uint64_t now)
{
	struct tick_ctx c = { t->nthreads, now, 0 };
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	c.wall_ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;

	table_foreach(t, tick_one, &c);
	table_load_tick(t);
}

uint64_t rs_active_all(const struct real_server *rs)
{
	uint64_t n = rs->ss.active;

	for (size_t h = 0; h < nhooks; h++)
		if (hooks[h]->rs_active)
			n += hooks[h]->rs_active(rs);
	return n;
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
