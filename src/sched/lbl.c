/*
 * lbl.c - the parts lblc and lblcr share; see lbl.h.
 *
 * IPVS collects stale locality entries from a timer every minute: every
 * thirtieth run (or the first after thirty quiet ones) drops every entry
 * unused for the expiration time (24 h by default); in between, only when
 * the table holds more than 16K entries, it drops entries idle for six
 * minutes, at most 4/3 of the excess. weir has no timer in a pure library,
 * so the timer's runs that fell due by req->now_ms are run at the next
 * pick. An entry is never refused at lookup for being old: like IPVS it
 * lives until a collection finds it stale. Like IPVS's, a full check walks
 * the whole table (once per half hour); a lookup only stamps its entry.
 */
#include "sched/lbl.h"

int lbl_init(struct lbl *l, const struct sched *s,
	     void (*drop)(struct lbl *l, struct ktab_ent *e))
{
	memset(l, 0, sizeof(*l));
	l->drop = drop;
	l->gc_counter = 1;
	l->expire_ms = s->params.lblc_expire_ms ? s->params.lblc_expire_ms :
			LBL_DEFAULT_EXPIRE;
	return ktab_init(&l->tab, s->params.seed);
}

void lbl_fini(struct lbl *l)
{
	struct ktab_ent *e;

	while ((e = ktab_oldest(&l->tab))) {
		ktab_remove(&l->tab, e);
		l->drop(l, e);
	}
	ktab_fini(&l->tab);
	ltree_fini(&l->wlc);
	free(l->half);
}

static bool is_half_idle(const struct sched_server *srv)
{
	return 2 * (uint64_t)sched_active(srv) < sched_eff_weight(srv);
}

int lbl_update(struct lbl *l, const struct sched *s)
{
	struct ltree t = { 0 };
	uint8_t *half = calloc(s->nsrv ? s->nsrv : 1, 1);

	if (!half || ltree_init(&t, (uint32_t)s->nsrv) < 0) {
		free(half);
		return -ENOMEM;
	}
	ltree_build(&t, s, sched_wlc_key);
	ltree_fini(&l->wlc);
	l->wlc = t;
	free(l->half);
	l->half = half;
	l->nhalf = 0;
	for (size_t i = 0; i < s->nsrv; i++)
		l->nhalf += (half[i] = is_half_idle(s->srv[i]));
	return 0;
}

void lbl_conn_changed(struct lbl *l, const struct sched *s,
		      const struct sched_server *srv)
{
	uint32_t i = (uint32_t)srv->idx;
	bool now = is_half_idle(srv);

	l->nhalf += (uint32_t)now - l->half[i];
	l->half[i] = now;
	ltree_update(&l->wlc, s, sched_wlc_key, i);
}

bool lbl_overloaded(const struct lbl *l, const struct sched_server *srv)
{
	return sched_active(srv) > srv->weight && l->nhalf > 0;
}

int lbl_wlc(struct lbl *l, const struct sched *s, const struct sched_req *req)
{
	return ltree_pick(&l->wlc, s, sched_wlc_key, req);
}

struct ktab_ent *lbl_lookup(struct lbl *l, const struct sched_req *req)
{
	uint64_t h = ktab_hash(&l->tab, req->lkey, req->lkey_len);
	struct ktab_ent *e = ktab_find(&l->tab, req->lkey, req->lkey_len, h);

	/* IPVS only stamps the entry: its collection scans the whole table,
	 * so the list may stay in insertion order and a hit writes nothing
	 * but its own entry */
	if (e)
		e->stamp = req->now_ms;
	return e;
}

/* Drops up to <goal> entries unused for <idle> or longer, walking the
 * table in insertion order (IPVS walks its buckets from a rover). */
static void drop_idle(struct lbl *l, uint64_t now, uint64_t idle, size_t goal)
{
	struct ktab_ent *e = ktab_oldest(&l->tab), *next;

	for (; e && goal; e = next) {
		next = ktab_newer(&l->tab, e);
		if (now < e->stamp + idle)
			continue;
		ktab_remove(&l->tab, e);
		l->drop(l, e);
		goal--;
	}
}

/* One run of ip_vs_lblc(r)_check_expire(). */
static void check_expire(struct lbl *l, uint64_t now)
{
	size_t goal;

	if (l->gc_counter % LBL_FULL_EVERY == 0) {
		drop_idle(l, now, l->expire_ms, SIZE_MAX);
		l->gc_counter = 1;
		return;
	}
	if (l->tab.n <= LBL_MAX_SIZE) {
		l->gc_counter++;
		return;
	}
	goal = (l->tab.n - LBL_MAX_SIZE) * 4 / 3;
	if (goal > LBL_MAX_SIZE / 2)
		goal = LBL_MAX_SIZE / 2;
	drop_idle(l, now, LBL_ENTRY_TIMEOUT, goal);
}

void lbl_gc(struct lbl *l, uint64_t now)
{
	uint64_t due;

	if (!l->gc_started) {
		/* the timer starts with the first request we see */
		l->gc_started = true;
		l->gc_next = now + LBL_CHECK_INTERVAL;
		return;
	}
	if (now < l->gc_next)
		return;
	/* the runs that fell due since, capped at thirty: enough for the
	 * full check among them; the skipped ones would only repeat work */
	due = (now - l->gc_next) / LBL_CHECK_INTERVAL + 1;
	for (uint64_t k = 0; k < due && k < LBL_FULL_EVERY; k++)
		check_expire(l, now);
	l->gc_next = now + LBL_CHECK_INTERVAL;
}
