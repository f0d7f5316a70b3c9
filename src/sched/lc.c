/*
 * lc.c - the least-connection family of IPVS: lc, wlc, sed and nq.
 *
 * Each is "the available server with the lowest cost/weight, the first in
 * list order among equals", with IPVS's cost:
 *   lc   active*256 + inactive (ip_vs_dest_conn_overhead), weight ignored
 *   wlc  active*256 + inactive, over the weight
 *   sed  active + 1, over the weight (shortest expected delay)
 *   nq   an idle server (no active connection) first, the first such in
 *        list order; otherwise as sed (never queue)
 * nq's rule fits the same order by giving idle servers cost 0.
 * "active" is sched_active(): with the connections a server has elsewhere
 * (ext_active), the load weir or an agent sees on it outside this set.
 * The tournament tree (ltree.c) keeps the answer at its root; a connection
 * opening or closing moves one leaf. The operations over the tree are
 * shared with fo.c and ovf.c, which order by weight instead of cost.
 */
#include "sched/sched_int.h"

static bool lc_key(const struct sched_server *srv, uint64_t *oh, uint32_t *w)
{
	*oh = sched_ipvs_overhead(srv);
	*w = 1;
	return sched_server_available(srv);
}

/* Also lblc's and lblcr's fallback order (sched_int.h). */
bool sched_wlc_key(const struct sched_server *srv, uint64_t *oh, uint32_t *w)
{
	*oh = sched_ipvs_overhead(srv);
	*w = srv->weight;
	return sched_server_available(srv);
}

static bool sed_key(const struct sched_server *srv, uint64_t *oh, uint32_t *w)
{
	*oh = (uint64_t)sched_active(srv) + 1;
	*w = srv->weight;
	return sched_server_available(srv);
}

static bool nq_key(const struct sched_server *srv, uint64_t *oh, uint32_t *w)
{
	*oh = sched_active(srv) ? (uint64_t)sched_active(srv) + 1 : 0;
	*w = srv->weight;
	return sched_server_available(srv);
}

/* The tree-backed operations fo.c and ovf.c share (sched_int.h). */
int sched_ltree_update(struct sched *s)
{
	struct sched_ltree_state *st = s->state;
	struct ltree t = { 0 };

	if (ltree_init(&t, (uint32_t)s->nsrv) < 0)
		return -ENOMEM;
	ltree_build(&t, s, st->key);
	ltree_fini(&st->t);
	st->t = t;
	return 0;
}

void sched_ltree_fini(struct sched *s)
{
	struct sched_ltree_state *st = s->state;

	ltree_fini(&st->t);
}

void sched_ltree_conn_changed(struct sched *s, struct sched_server *srv)
{
	struct sched_ltree_state *st = s->state;

	ltree_update(&st->t, s, st->key, (uint32_t)srv->idx);
}

void sched_ltree_presence_changed(struct sched *s, struct sched_server *srv)
{
	struct sched_ltree_state *st = s->state;
	uint64_t oh;
	uint32_t w;

	if (st->key(srv, &oh, &w) != ltree_has(&st->t, (uint32_t)srv->idx))
		ltree_update(&st->t, s, st->key, (uint32_t)srv->idx);
}

int sched_ltree_pick(struct sched *s, const struct sched_req *req)
{
	struct sched_ltree_state *st = s->state;

	return ltree_pick(&st->t, s, st->key, req);
}

SCHED_LTREE_OPS(lc, lc_key, sched_ltree_conn_changed, true,
		"least connections (IPVS: active*256 + inactive)");
SCHED_LTREE_OPS(wlc, sched_wlc_key, sched_ltree_conn_changed, true,
		"weighted least connections (IPVS)");
SCHED_LTREE_OPS(sed, sed_key, sched_ltree_conn_changed, true,
		"shortest expected delay: least (active+1)/weight");
SCHED_LTREE_OPS(nq, nq_key, sched_ltree_conn_changed, true,
		"never queue: an idle server first, else sed");
