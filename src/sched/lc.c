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
 * opening or closing moves one leaf.
 */
#include "sched/sched_int.h"

static inline uint64_t ipvs_overhead(const struct sched_server *srv)
{
	return ((uint64_t)sched_active(srv) << 8) + srv->inactive;
}

static bool lc_key(const struct sched_server *srv, uint64_t *oh, uint32_t *w)
{
	*oh = ipvs_overhead(srv);
	*w = 1;
	return sched_server_available(srv);
}

/* Also lblc's and lblcr's fallback order (sched_int.h). */
bool sched_wlc_key(const struct sched_server *srv, uint64_t *oh, uint32_t *w)
{
	*oh = ipvs_overhead(srv);
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

/* The instance state: the tree and the cost function it orders by. */
struct lc_state {
	struct ltree t;
	ltree_key_fn key;
};

static int lc_update(struct sched *s)
{
	struct lc_state *st = s->state;
	struct ltree t = { 0 };

	if (ltree_init(&t, (uint32_t)s->nsrv) < 0)
		return -ENOMEM;
	ltree_build(&t, s, st->key);
	ltree_fini(&st->t);
	st->t = t;
	return 0;
}

static void lc_fini(struct sched *s)
{
	struct lc_state *st = s->state;

	ltree_fini(&st->t);
}

static void lc_conn_changed(struct sched *s, struct sched_server *srv)
{
	struct lc_state *st = s->state;

	ltree_update(&st->t, s, st->key, (uint32_t)srv->idx);
}

static int lc_pick(struct sched *s, const struct sched_req *req)
{
	struct lc_state *st = s->state;

	return ltree_pick(&st->t, s, st->key, req);
}

#define LC_INIT(algo)                                            \
	static int algo##_init(struct sched *s)                  \
	{                                                        \
		((struct lc_state *)s->state)->key = algo##_key;  \
		return 0;                                        \
	}

#define wlc_key sched_wlc_key
LC_INIT(lc)
LC_INIT(wlc)
LC_INIT(sed)
LC_INIT(nq)

#define LC_OPS(algo, text)                                       \
	const struct sched_ops sched_##algo##_ops = {            \
		.name = #algo,                                   \
		.descr = text,                                   \
		.state_size = sizeof(struct lc_state),           \
		.init = algo##_init,                             \
		.fini = lc_fini,                                 \
		.update = lc_update,                             \
		.pick = lc_pick,                                 \
		.conn_changed = lc_conn_changed,                 \
		.periodic = true,                                \
	}

LC_OPS(lc, "least connections (IPVS: active*256 + inactive)");
LC_OPS(wlc, "weighted least connections (IPVS)");
LC_OPS(sed, "shortest expected delay: least (active+1)/weight");
LC_OPS(nq, "never queue: an idle server first, else sed");
