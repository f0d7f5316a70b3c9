/*
 * lblcr.c - locality-based least connection with replication, as IPVS
 * ip_vs_lblcr.c. A key maps to a set of servers:
 *
 *   n <- the wlc-least of the set's servers that may take work
 *   if the set has more than one member and was last modified more than
 *      the expiration ago, drop its most loaded member (wlc-most)
 *   if n is none, or overloaded (n.active > n.weight while some server m
 *      has m.active < m.weight/2): n <- wlc over all; add n to the set
 *
 * IPVS adds members at the head of the set's list, and its scans take the
 * first among equals; here the set is an array walked newest first.
 * The shrink period is lblcr_expiration (params.lblc_expire_ms, 24 h by
 * default) as in the kernel; the six-minute ENTRY_TIMEOUT only governs the
 * collection of idle entries when the table is over its size (lbl.c).
 * Same deliberate differences from IPVS as lblc.c.
 */
#include "sched/lbl.h"

__extension__ typedef unsigned __int128 u128;

#define SET_INLINE 4

struct lblcr_ent {
	uint64_t lastmod;   /* when the set last changed */
	int32_t *set;       /* members, oldest first: inl, or the heap */
	uint32_t n, cap;
	int32_t inl[SET_INLINE]; /* small sets, on the entry's cache line */
	struct ktab_ent e;
	uint8_t key[];      /* right after e: see struct ktab_ent */
};

#define to_ent(p) sched_container_of(p, struct lblcr_ent, e)

static void lblcr_drop(struct lbl *l, struct ktab_ent *e)
{
	struct lblcr_ent *en = to_ent(e);

	if (en->set != en->inl)
		free(en->set);
	free(en);
}

static int lblcr_init(struct sched *s)
{
	return lbl_init(s->state, s, lblcr_drop);
}

static void lblcr_fini(struct sched *s)
{
	lbl_fini(s->state);
}

static void set_erase_at(struct lblcr_ent *en, uint32_t k)
{
	memmove(&en->set[k], &en->set[k + 1], (en->n - k - 1) * sizeof(*en->set));
	en->n--;
}

static void lblcr_remap(struct sched *s, struct lbl *l)
{
	for (struct ktab_ent *e = ktab_oldest(&l->tab); e; e = ktab_newer(&l->tab, e)) {
		struct lblcr_ent *en = to_ent(e);

		for (uint32_t k = en->n; k-- > 0;) {
			int32_t to = sched_prev_to_new(s, (size_t)en->set[k]);

			if (to < 0)
				set_erase_at(en, k);
			else
				en->set[k] = to;
		}
	}
}

static int lblcr_update(struct sched *s)
{
	struct lbl *l = s->state;
	int err = lbl_update(l, s);

	if (!err && s->prev_srv != s->srv)
		lblcr_remap(s, l);
	return err;
}

static void lblcr_conn_changed(struct sched *s, struct sched_server *srv)
{
	lbl_conn_changed(s->state, s, srv);
}

/* oh_a/w_a < oh_b/w_b, IPVS's cross-multiplied wlc order */
static bool lighter(const struct sched_server *a, const struct sched_server *b,
		    uint32_t wa, uint32_t wb)
{
	uint64_t oha = ((uint64_t)sched_active(a) << 8) + a->inactive;
	uint64_t ohb = ((uint64_t)sched_active(b) << 8) + b->inactive;

	return (u128)oha * wb < (u128)ohb * wa;
}

/* ip_vs_dest_set_min(): the least loaded member that may take work. */
static int set_min(const struct sched *s, const struct lblcr_ent *en,
		   const struct sched_req *req)
{
	int best = -1;

	for (uint32_t k = en->n; k-- > 0;) {
		int i = en->set[k];

		if (!sched_usable(s, req, i))
			continue;
		if (best < 0 || lighter(s->srv[i], s->srv[best],
					s->srv[i]->weight, s->srv[best]->weight))
			best = i;
	}
	return best;
}

/* ip_vs_dest_set_max(): the most loaded member with a weight. */
static int set_max(const struct sched *s, const struct lblcr_ent *en)
{
	int most = -1;

	for (uint32_t k = en->n; k-- > 0;) {
		int i = en->set[k];
		uint32_t w = sched_eff_weight(s->srv[i]);

		if (!w)
			continue;
		if (most < 0 || lighter(s->srv[most], s->srv[i],
					sched_eff_weight(s->srv[most]), w))
			most = i;
	}
	return most;
}

static void set_erase(struct lblcr_ent *en, int idx, uint64_t now)
{
	for (uint32_t k = 0; k < en->n; k++) {
		if (en->set[k] == idx) {
			set_erase_at(en, k);
			en->lastmod = now;
			return;
		}
	}
}

static void set_insert(struct lblcr_ent *en, int idx, uint64_t now)
{
	for (uint32_t k = 0; k < en->n; k++)
		if (en->set[k] == idx)
			return;
	if (en->n == en->cap) {
		uint32_t cap = 2 * en->cap;
		int32_t *set = malloc(cap * sizeof(*set));

		if (!set)
			return;
		memcpy(set, en->set, en->n * sizeof(*set));
		if (en->set != en->inl)
			free(en->set);
		en->set = set;
		en->cap = cap;
	}
	en->set[en->n++] = idx;
	en->lastmod = now;
}

static void lblcr_new(struct lbl *l, const struct sched_req *req, int idx)
{
	struct lblcr_ent *en = calloc(1, sizeof(*en) + req->lkey_len);

	if (!en)
		return;
	memcpy(en->key, req->lkey, req->lkey_len);
	en->e.key = en->key;
	en->e.klen = (uint32_t)req->lkey_len;
	en->e.hash = ktab_hash(&l->tab, req->lkey, req->lkey_len);
	en->e.stamp = req->now_ms;
	en->set = en->inl;
	en->cap = SET_INLINE;
	set_insert(en, idx, req->now_ms);
	ktab_insert(&l->tab, &en->e);
}

/* The cached part of a pick: a set member, or -1 to schedule afresh. */
static int from_set(struct sched *s, struct lbl *l, struct lblcr_ent *en,
		    const struct sched_req *req)
{
	int idx = set_min(s, en, req);

	if (en->n > 1 && req->now_ms > en->lastmod + l->expire_ms) {
		int most = set_max(s, en);

		if (most >= 0)
			set_erase(en, most, req->now_ms);
	}
	if (idx >= 0 && !lbl_overloaded(l, s->srv[idx]))
		return idx;
	return -1;
}

static int lblcr_pick(struct sched *s, const struct sched_req *req)
{
	struct lbl *l = s->state;
	struct lblcr_ent *en = NULL;
	struct ktab_ent *e;
	bool retry = sched_skip_any(req, s->nsrv);
	int idx;

	lbl_gc(l, req->now_ms);
	if (!req->lkey)
		return lbl_wlc(l, s, req);
	if ((e = lbl_lookup(l, req))) {
		en = to_ent(e);
		if ((idx = from_set(s, l, en, req)) >= 0)
			return idx;
	}
	idx = lbl_wlc(l, s, req);
	if (idx < 0 || retry)
		return idx;
	if (en)
		set_insert(en, idx, req->now_ms);
	else
		lblcr_new(l, req, idx);
	return idx;
}

const struct sched_ops sched_lblcr_ops = {
	.name = "lblcr",
	.descr = "locality-based least connections with replication (IPVS)",
	.state_size = sizeof(struct lbl),
	.init = lblcr_init,
	.fini = lblcr_fini,
	.update = lblcr_update,
	.pick = lblcr_pick,
	.conn_changed = lblcr_conn_changed,
	.periodic = true,
};
