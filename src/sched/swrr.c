/*
 * swrr.c - smooth weighted round robin, as nginx's upstream round robin:
 * every pick adds each available server's weight to its current weight,
 * takes the server with the highest current weight (the first in list
 * order among equals) and subtracts the total of the weights added from
 * it. Weights 5,1,1 give a a b a c a a. A server that may not take work
 * (or that req->skip names) sits the round out: its current weight stays
 * as it is, like nginx's down, failed and already-tried peers.
 *
 * nginx scans every peer per pick. Here current weights are kept lazily
 * as base + weight * T, T counting the picks, so a pick touches only the
 * winner. Servers of equal weight gain equally and so keep their order:
 * each weight class is a ring sorted by current weight (then index), whose
 * front is cached. A pick compares the fronts of the classes, takes the
 * best, and re-inserts it from the back of its ring -- where it belongs in
 * the steady state, having just lost the total weight: O(classes) per
 * pick, classes being the distinct weights in the set. A server that stops
 * or starts taking work leaves or joins its ring in O(ring). The answers
 * are nginx's exactly. (nginx's effective_weight, lowered after failures,
 * is not modelled.)
 */
#include "sched/sched_int.h"

#define SWRR_RENORM (INT64_C(1) << 20) /* picks between rebasing */

struct swrr_class {
	uint32_t w;            /* the weight of every member */
	uint32_t off, cap;     /* its ring: ring[off .. off+cap) */
	uint32_t head, size;   /* the members taking part, sorted */
	int32_t front;         /* cached ring front, -1 if empty */
	int64_t front_base;
};

struct swrr_state {
	int64_t t;             /* picks since the last rebase */
	int64_t *base;         /* in a ring: current = base + w*t; else current */
	uint8_t *in;           /* [n] in its ring (taking part) */
	uint32_t *cls;         /* [n] class, UINT32_MAX for weight 0 */
	int32_t *ring;         /* [n] the class rings, one slice each */
	struct swrr_class *c;
	uint32_t nc;
	uint64_t wsum;         /* weights of the servers taking part */
	size_t n;
};

static void swrr_free(struct swrr_state *st)
{
	free(st->base);
	free(st->in);
	free(st->cls);
	free(st->ring);
	free(st->c);
}

static void swrr_fini(struct sched *s)
{
	swrr_free(s->state);
}

/* Ring order: higher current first, then lower index. */
static inline bool above(const struct swrr_state *st, int32_t a, int32_t b)
{
	return st->base[a] > st->base[b] || (st->base[a] == st->base[b] && a < b);
}

static inline int32_t *slot(struct swrr_state *st, struct swrr_class *c, uint32_t k)
{
	uint32_t p = c->head + k;

	return &st->ring[c->off + (p >= c->cap ? p - c->cap : p)];
}

static void refresh_front(struct swrr_state *st, struct swrr_class *c)
{
	c->front = c->size ? *slot(st, c, 0) : -1;
	c->front_base = c->size ? st->base[c->front] : 0;
}

/* Inserts <i> in order, searching from the back. */
static void ring_insert(struct swrr_state *st, struct swrr_class *c, int32_t i)
{
	uint32_t k = c->size;

	for (; k > 0 && above(st, i, *slot(st, c, k - 1)); k--)
		*slot(st, c, k) = *slot(st, c, k - 1);
	*slot(st, c, k) = i;
	c->size++;
	if (k == 0)
		refresh_front(st, c);
}

static void ring_remove(struct swrr_state *st, struct swrr_class *c, int32_t i)
{
	uint32_t k = 0;

	while (k < c->size && *slot(st, c, k) != i)
		k++;
	for (; k + 1 < c->size; k++)
		*slot(st, c, k) = *slot(st, c, k + 1);
	c->size--;
	refresh_front(st, c);
}

static int32_t ring_pop(struct swrr_state *st, struct swrr_class *c)
{
	int32_t i = c->front;

	c->head = c->head + 1 == c->cap ? 0 : c->head + 1;
	c->size--;
	refresh_front(st, c);
	return i;
}

/* Server <i>, current weight in base[i], joins the picks. */
static void join(struct swrr_state *st, int32_t i)
{
	struct swrr_class *c = &st->c[st->cls[i]];

	st->base[i] -= (int64_t)c->w * st->t;
	ring_insert(st, c, i);
	st->in[i] = 1;
	st->wsum += c->w;
}

/* Server <i> sits out; base[i] keeps its current weight. */
static void leave(struct swrr_state *st, int32_t i)
{
	struct swrr_class *c = &st->c[st->cls[i]];

	ring_remove(st, c, i);
	st->base[i] += (int64_t)c->w * st->t;
	st->in[i] = 0;
	st->wsum -= c->w;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* The distinct non-zero weights of the set, sorted, with member counts. */
static int build_classes(struct sched *s, struct swrr_state *st)
{
	uint32_t *w = malloc((s->nsrv ? s->nsrv : 1) * sizeof(*w)), nw = 0, off = 0;

	if (!w)
		return -ENOMEM;
	for (size_t i = 0; i < s->nsrv; i++)
		if (s->srv[i]->weight)
			w[nw++] = s->srv[i]->weight;
	qsort(w, nw, sizeof(*w), cmp_u32);
	st->c = calloc(nw ? nw : 1, sizeof(*st->c));
	if (!st->c) {
		free(w);
		return -ENOMEM;
	}
	for (uint32_t k = 0; k < nw; k++) {
		if (st->nc && st->c[st->nc - 1].w == w[k])
			continue;
		st->c[st->nc++].w = w[k];
	}
	for (size_t i = 0; i < s->nsrv; i++) {
		uint32_t lo = 0, hi = st->nc;

		st->cls[i] = UINT32_MAX;
		if (!s->srv[i]->weight)
			continue;
		while (hi - lo > 1) { /* the class with this weight */
			uint32_t mid = (lo + hi) / 2;

			if (st->c[mid].w <= s->srv[i]->weight)
				lo = mid;
			else
				hi = mid;
		}
		st->cls[i] = lo;
		st->c[lo].cap++;
	}
	for (uint32_t k = 0; k < st->nc; k++) {
		st->c[k].off = off;
		st->c[k].front = -1;
		off += st->c[k].cap;
	}
	free(w);
	return 0;
}

/* The current weight of every server of the previous set, by new index. */
static void carry_current(const struct sched *s, const struct swrr_state *old,
			  int64_t *cur)
{
	for (size_t j = 0; j < old->n; j++) {
		int32_t to = s->prev_srv == s->srv ? (int32_t)j :
			     sched_prev_to_new(s, j);
		int64_t v = old->base[j];

		if (old->in[j])
			v += (int64_t)old->c[old->cls[j]].w * old->t;
		if (to >= 0)
			cur[to] = v;
	}
}

/* A member as the rings order it: by class, then ring order. */
struct member {
	uint32_t cls;
	int32_t idx;
	int64_t cur;
};

static int cmp_member(const void *a, const void *b)
{
	const struct member *x = a, *y = b;

	if (x->cls != y->cls)
		return x->cls < y->cls ? -1 : 1;
	if (x->cur != y->cur)
		return x->cur > y->cur ? -1 : 1;
	return (x->idx > y->idx) - (x->idx < y->idx);
}

/* Fills the rings with the available servers, sorted in one go (joining
 * them one by one could cost O(n^2) with arbitrary current weights). */
static int fill_rings(struct sched *s, struct swrr_state *st)
{
	struct member *m = malloc((s->nsrv ? s->nsrv : 1) * sizeof(*m));
	size_t nm = 0;

	if (!m)
		return -ENOMEM;
	for (size_t i = 0; i < s->nsrv; i++)
		if (sched_server_available(s->srv[i]))
			m[nm++] = (struct member){ st->cls[i], (int32_t)i, st->base[i] };
	qsort(m, nm, sizeof(*m), cmp_member);
	for (size_t k = 0; k < nm; k++) {
		struct swrr_class *c = &st->c[m[k].cls];

		st->ring[c->off + c->size++] = m[k].idx;
		st->in[m[k].idx] = 1;
		st->wsum += c->w;
	}
	for (uint32_t k = 0; k < st->nc; k++)
		refresh_front(st, &st->c[k]);
	free(m);
	return 0;
}

static int swrr_update(struct sched *s)
{
	struct swrr_state *st = s->state, nst = { 0 };
	size_t n = s->nsrv ? s->nsrv : 1;

	nst.n = s->nsrv;
	nst.base = calloc(n, sizeof(*nst.base));
	nst.in = calloc(n, 1);
	nst.cls = malloc(n * sizeof(*nst.cls));
	nst.ring = malloc(n * sizeof(*nst.ring));
	if (!nst.base || !nst.in || !nst.cls || !nst.ring ||
	    build_classes(s, &nst) < 0)
		goto out_free;
	/* t starts at 0: a base is the current weight */
	carry_current(s, st, nst.base);
	if (fill_rings(s, &nst) < 0)
		goto out_free;
	swrr_free(st);
	*st = nst;
	return 0;

out_free:
	swrr_free(&nst);
	return -ENOMEM;
}

static void swrr_conn_changed(struct sched *s, struct sched_server *srv)
{
	struct swrr_state *st = s->state;
	int32_t i = srv->idx;
	bool avail = sched_server_available(srv);

	if (avail && !st->in[i])
		join(st, i);
	else if (!avail && st->in[i])
		leave(st, i);
}

/* Folds t into the bases before w*t could grow large; a ring's order is
 * unchanged, its members all move by the same amount. */
static void rebase(struct swrr_state *st)
{
	for (size_t i = 0; i < st->n; i++)
		if (st->in[i])
			st->base[i] += (int64_t)st->c[st->cls[i]].w * st->t;
	for (uint32_t k = 0; k < st->nc; k++)
		refresh_front(st, &st->c[k]);
	st->t = 0;
}

static int swrr_round(struct swrr_state *st)
{
	struct swrr_class *bc = NULL;
	int32_t best = -1;
	int64_t bestv = 0;

	if (!st->wsum)
		return -1;
	st->t++;
	for (uint32_t k = 0; k < st->nc; k++) {
		struct swrr_class *c = &st->c[k];
		int64_t v;

		if (c->front < 0)
			continue;
		v = c->front_base + (int64_t)c->w * st->t;
		if (best < 0 || v > bestv || (v == bestv && c->front < best)) {
			best = c->front;
			bestv = v;
			bc = c;
		}
	}
	ring_pop(st, bc);
	st->base[best] -= (int64_t)st->wsum;
	ring_insert(st, bc, best);
	if (st->t >= SWRR_RENORM)
		rebase(st);
	return best;
}

static int swrr_pick(struct sched *s, const struct sched_req *req)
{
	struct swrr_state *st = s->state;
	bool retry = sched_skip_any(req, s->nsrv);
	int best;

	if (!retry)
		return swrr_round(st);
	for (size_t i = 0; i < st->n; i++)
		if (st->in[i] && sched_skipped(req, (int)i))
			leave(st, (int32_t)i);
	best = swrr_round(st);
	for (size_t i = 0; i < st->n; i++)
		if (!st->in[i] && sched_server_available(s->srv[i]))
			join(st, (int32_t)i);
	return best;
}

const struct sched_ops sched_swrr_ops = {
	.name = "swrr",
	.descr = "smooth weighted round robin (nginx)",
	.state_size = sizeof(struct swrr_state),
	.fini = swrr_fini,
	.update = swrr_update,
	.pick = swrr_pick,
	.conn_changed = swrr_conn_changed,
};
