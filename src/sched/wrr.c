/*
 * wrr.c - weighted round robin, as IPVS ip_vs_wrr.c (interleaved):
 * passes over the list with a current weight cw that starts at the
 * maximum weight and steps down by the gcd of the weights; a pass takes,
 * in list order after the cursor, every available server whose weight is
 * at least cw. Weights 4,3,2 give a a b a b c a b c.
 *
 * IPVS walks the list to find the next server with weight >= cw. Here a
 * max-tree over the available servers' weights finds it in O(log n), and
 * passes in which no available server qualifies are skipped in one step;
 * neither changes which server IPVS would return, nor cw and the cursor
 * it would leave behind.
 */
#include "sched/sched_int.h"

struct wrr_state {
	int32_t cl;      /* cursor: last chosen idx, -1 = list head */
	int64_t cw;      /* current weight */
	int64_t mw;      /* max weight - (di - 1): the first pass's cw */
	int64_t di;      /* step: gcd of the non-zero weights */
	uint32_t *mx;    /* [2*cap] max of the available weights below */
	uint32_t cap, n;
};

static inline uint32_t leaf_value(const struct sched_server *srv)
{
	return sched_server_available(srv) ? srv->weight : 0;
}

static void mx_set(struct wrr_state *st, uint32_t i, uint32_t v)
{
	uint32_t pos = st->cap + i;

	st->mx[pos] = v;
	for (pos >>= 1; pos >= 1; pos >>= 1) {
		uint32_t l = st->mx[2 * pos], r = st->mx[2 * pos + 1];

		st->mx[pos] = l > r ? l : r;
	}
}

/* The first idx >= from whose available weight is >= cw, or -1. */
static int32_t mx_next(const struct wrr_state *st, uint32_t from, int64_t cw)
{
	uint32_t pos;

	if (from >= st->n)
		return -1;
	pos = st->cap + from;
	while (st->mx[pos] < cw) {
		while (pos & 1) { /* a right child: its parent ends where it ends */
			pos >>= 1;
			if (pos <= 1)
				return -1;
		}
		pos++;
	}
	while (pos < st->cap)
		pos = st->mx[2 * pos] >= cw ? 2 * pos : 2 * pos + 1;
	return pos - st->cap < st->n ? (int32_t)(pos - st->cap) : -1;
}

static int wrr_update(struct sched *s)
{
	struct wrr_state *st = s->state;
	uint32_t cap = 1, g = 0, max = 0, *mx;

	while (cap < s->nsrv)
		cap <<= 1;
	if (!(mx = calloc(2 * (size_t)cap, sizeof(*mx))))
		return -ENOMEM;
	free(st->mx);
	st->mx = mx;
	st->cap = cap;
	st->n = (uint32_t)s->nsrv;
	for (size_t i = 0; i < s->nsrv; i++) {
		uint32_t w = sched_eff_weight(s->srv[i]);

		g = w ? (g ? sched_gcd(w, g) : w) : g;
		max = w > max ? w : max;
		st->mx[cap + i] = leaf_value(s->srv[i]);
	}
	for (uint32_t pos = cap - 1; pos >= 1; pos--)
		st->mx[pos] = st->mx[2 * pos] > st->mx[2 * pos + 1] ?
			      st->mx[2 * pos] : st->mx[2 * pos + 1];

	/* ip_vs_wrr_dest_changed() */
	st->cl = -1;
	st->di = g ? g : 1;
	st->mw = (int64_t)max - (st->di - 1);
	if (st->cw > st->mw || !st->cw)
		st->cw = st->mw;
	else if (st->di > 1)
		st->cw = (st->cw / st->di) * st->di + 1;
	return 0;
}

static void wrr_fini(struct sched *s)
{
	struct wrr_state *st = s->state;

	free(st->mx);
}

static void wrr_conn_changed(struct sched *s, struct sched_server *srv)
{
	mx_set(s->state, (uint32_t)srv->idx, leaf_value(srv));
}

/*
 * Where IPVS ends when nothing is available: a cursor in mid-list at the
 * last pass (cw == 1) stops at itself; otherwise the walk wraps with cw
 * reset to mw and stops at the head.
 */
static int wrr_none(struct wrr_state *st)
{
	if (!(st->cl >= 0 && st->cw == 1)) {
		st->cl = -1;
		st->cw = st->mw;
	}
	return -1;
}

static int wrr_walk(struct wrr_state *st)
{
	int32_t i;
	int64_t top = st->mx[1];

	if (st->mw <= 0)
		return -1;
	if (!top)
		return wrr_none(st);
	i = mx_next(st, (uint32_t)(st->cl + 1), st->cw);
	if (i < 0) {
		/* end of the list: next pass from the head */
		st->cw -= st->di;
		if (st->cw <= 0)
			st->cw = st->mw;
		/* passes above the best available weight find nothing; cw
		 * values are all 1 mod di, so land on the largest <= top */
		if (st->cw > top)
			st->cw = top - (top - 1) % st->di;
		i = mx_next(st, 0, st->cw);
	}
	st->cl = i;
	return i;
}

static int wrr_pick(struct sched *s, const struct sched_req *req)
{
	struct wrr_state *st = s->state;
	int i;

	if (!sched_skip_any(req, s->nsrv))
		return wrr_walk(st);
	/* a retry: take the tried servers out of the tree for this walk */
	for (uint32_t k = 0; k < st->n; k++)
		if (sched_skipped(req, (int)k))
			mx_set(st, k, 0);
	i = wrr_walk(st);
	for (uint32_t k = 0; k < st->n; k++)
		if (sched_skipped(req, (int)k))
			mx_set(st, k, leaf_value(s->srv[k]));
	return i;
}

const struct sched_ops sched_wrr_ops = {
	.name = "wrr",
	.descr = "weighted round robin (IPVS, interleaved)",
	.state_size = sizeof(struct wrr_state),
	.fini = wrr_fini,
	.update = wrr_update,
	.pick = wrr_pick,
	.conn_changed = wrr_conn_changed,
};
