/*
 * lblc.c - locality-based least connection, as IPVS ip_vs_lblc.c:
 *
 *   if the key has a server n, and n may take work, and not
 *      (n.active > n.weight and some server m has m.active < m.weight/2)
 *   then n
 *   else n <- wlc over all servers; remember key -> n
 *
 * The key is req->lkey (the destination address in packet mode, Host and
 * path in HTTP mode). Entries expire by IPVS's periodic collection (lbl.c).
 * Differences from IPVS, by design: a remembered server that is flagged
 * OVERLOAD by its -x threshold is not used (IPVS uses it: weir never picks
 * an overloaded server); a retry (req->skip) never changes the table; a
 * request without a key is scheduled by plain wlc.
 */
#include "sched/lbl.h"

struct lblc_ent {
	int32_t idx;
	struct ktab_ent e;
	uint8_t key[];      /* right after e: see struct ktab_ent */
};

#define to_ent(p) sched_container_of(p, struct lblc_ent, e)

static void lblc_drop(struct lbl *l, struct ktab_ent *e)
{
	free(to_ent(e));
}

static int lblc_init(struct sched *s)
{
	return lbl_init(s->state, s, lblc_drop);
}

static void lblc_fini(struct sched *s)
{
	lbl_fini(s->state);
}

/* Follows the servers that stayed to their new index; forgets the rest. */
static void lblc_remap(struct sched *s, struct lbl *l)
{
	struct ktab_ent *e = ktab_oldest(&l->tab), *next;

	for (; e; e = next) {
		struct lblc_ent *en = to_ent(e);

		next = ktab_newer(&l->tab, e);
		en->idx = (size_t)en->idx < s->prev_nsrv ?
			  sched_prev_to_new(s, (size_t)en->idx) : -1;
		if (en->idx < 0) {
			ktab_remove(&l->tab, e);
			lblc_drop(l, e);
		}
	}
}

static int lblc_update(struct sched *s)
{
	struct lbl *l = s->state;
	int err = lbl_update(l, s);

	if (!err && s->prev_srv != s->srv)
		lblc_remap(s, l);
	return err;
}

static void lblc_conn_changed(struct sched *s, struct sched_server *srv)
{
	lbl_conn_changed(s->state, s, srv);
}

/* Remembers key -> <idx>; without memory the choice simply stands. */
static void lblc_remember(struct lbl *l, struct lblc_ent *en,
			  const struct sched_req *req, int idx)
{
	if (en) {
		en->idx = idx;
		return;
	}
	en = malloc(sizeof(*en) + req->lkey_len);
	if (!en)
		return;
	memcpy(en->key, req->lkey, req->lkey_len);
	en->e.key = en->key;
	en->e.klen = (uint32_t)req->lkey_len;
	en->e.hash = ktab_hash(&l->tab, req->lkey, req->lkey_len);
	en->e.stamp = req->now_ms;
	en->idx = idx;
	ktab_insert(&l->tab, &en->e);
}

static int lblc_pick(struct sched *s, const struct sched_req *req)
{
	struct lbl *l = s->state;
	struct lblc_ent *en = NULL;
	struct ktab_ent *e;
	int idx;

	lbl_gc(l, req->now_ms);
	if (!req->lkey)
		return lbl_wlc(l, s, req);
	if ((e = lbl_lookup(l, req))) {
		en = to_ent(e);
		if (sched_usable(s, req, en->idx) &&
		    !lbl_overloaded(l, s->srv[en->idx]))
			return en->idx;
	}
	idx = lbl_wlc(l, s, req);
	if (idx >= 0 && !sched_skip_any(req, s->nsrv))
		lblc_remember(l, en, req, idx);
	return idx;
}

const struct sched_ops sched_lblc_ops = {
	.name = "lblc",
	.descr = "locality-based least connections (IPVS)",
	.state_size = sizeof(struct lbl),
	.init = lblc_init,
	.fini = lblc_fini,
	.update = lblc_update,
	.pick = lblc_pick,
	.conn_changed = lblc_conn_changed,
	.periodic = true,
};
