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
 * winner; servers of equal weight gain equally and so keep their order,
 * which a heap per weight class holds. A pick compares the heads of the
 * classes and fixes one heap: O(classes + log n), classes being the
 * distinct weights in the set. The answers are nginx's exactly.
 * (nginx's effective_weight, lowered after failures, is not modelled.)
 */
#include "sched/sched_int.h"

#define SWRR_RENORM (INT64_C(1) << 20) /* picks between rebasing */

struct swrr_class {
	uint32_t w;            /* the weight of every member */
	uint32_t off, size;    /* heap slice: heap[off .. off+size) */
};

struct swrr_state {
	int64_t t;             /* picks since the last rebase */
	int64_t *base;         /* in a heap: current = base + w*t; else current */
	uint8_t *in;           /* [n] in its class heap (taking part) */
	uint32_t *cls;         /* [n] class, UINT32_MAX for weight 0 */
	uint32_t *pos;         /* [n] position in its class heap */
	int32_t *heap;         /* [n] the class heaps, one slice each */
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
	free(st->pos);
	free(st->heap);
	free(st->c);
}

static void swrr_fini(struct sched *s)
{
	swrr_free(s->state);
}

/* Heap order: higher current first, then lower index. */
static inline bool above(const struct swrr_state *st, int32_t a, int32_t b)
{
	return st->base[a] > st->base[b] || (st->base[a] == st->base[b] && a < b);
}

static void heap_swap(struct swrr_state *st, int32_t *h, uint32_t x, uint32_t y)
{
	int32_t t = h[x];

	h[x] = h[y];
	h[y] = t;
	st->pos[h[x]] = x;
	st->pos[h[y]] = y;
}

static void sift_up(struct swrr_state *st, int32_t *h, uint32_t x)
{
	while (x && above(st, h[x], h[(x - 1) / 2])) {
		heap_swap(st, h, x, (x - 1) / 2);
		x = (x - 1) / 2;
	}
}

static void sift_down(struct swrr_state *st, int32_t *h, uint32_t size, uint32_t x)
{
	for (;;) {
		uint32_t l = 2 * x + 1, r = l + 1, top = x;

		if (l < size && above(st, h[l], h[top]))
			top = l;
		if (r < size && above(st, h[r], h[top]))
			top = r;
		if (top == x)
			return;
		heap_swap(st, h, x, top);
		x = top;
	}
}

/* Server <i>, current weight in base[i], joins the picks. */
static void join(struct swrr_state *st, int32_t i)
{
	struct swrr_class *c = &st->c[st->cls[i]];
	int32_t *h = st->heap + c->off;

	st->base[i] -= (int64_t)c->w * st->t;
	h[c->size] = i;
	st->pos[i] = c->size++;
	sift_up(st, h, st->pos[i]);
	st->in[i] = 1;
	st->wsum += c->w;
}

/* Server <i> sits out; base[i] keeps its current weight. */
static void leave(struct swrr_state *st, int32_t i)
{
	struct swrr_class *c = &st->c[st->cls[i]];
	int32_t *h = st->heap + c->off;
	uint32_t x = st->pos[i];

	heap_swap(st, h, x, --c->size);
	if (x < c->size) { /* the former last one now at x: up or down */
		int32_t moved = h[x];

		sift_up(st, h, x);
		sift_down(st, h, c->size, st->pos[moved]);
	}
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
		st->c[lo].size++; /* counted here, reset below */
	}
	for (uint32_t k = 0; k < st->nc; k++) {
		st->c[k].off = off;
		off += st->c[k].size;
		st->c[k].size = 0;
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

static int swrr_update(struct sched *s)
{
	struct swrr_state *st = s->state, nst = { 0 };
	size_t n = s->nsrv ? s->nsrv : 1;

	nst.n = s->nsrv;
	nst.base = calloc(n, sizeof(*nst.base));
	nst.in = calloc(n, 1);
	nst.cls = malloc(n * sizeof(*nst.cls));
	nst.pos = malloc(n * sizeof(*nst.pos));
	nst.heap = malloc(n * sizeof(*nst.heap));
	if (!nst.base || !nst.in || !nst.cls || !nst.pos || !nst.heap ||
	    build_classes(s, &nst) < 0) {
		swrr_free(&nst);
		return -ENOMEM;
	}
	carry_current(s, st, nst.base);
	for (size_t i = 0; i < s->nsrv; i++)
		if (sched_server_available(s->srv[i]))
			join(&nst, (int32_t)i);
	swrr_free(st);
	*st = nst;
	return 0;
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

/* Folds t into the bases before w*t could grow large. */
static void rebase(struct swrr_state *st)
{
	for (size_t i = 0; i < st->n; i++)
		if (st->in[i])
			st->base[i] += (int64_t)st->c[st->cls[i]].w * st->t;
	st->t = 0;
}

static int swrr_round(struct swrr_state *st)
{
	int32_t best = -1;
	int64_t bestv = 0;
	struct swrr_class *bc = NULL;

	if (!st->wsum)
		return -1;
	st->t++;
	for (uint32_t k = 0; k < st->nc; k++) {
		struct swrr_class *c = &st->c[k];
		int32_t i;
		int64_t v;

		if (!c->size)
			continue;
		i = st->heap[c->off];
		v = st->base[i] + (int64_t)c->w * st->t;
		if (best < 0 || v > bestv || (v == bestv && i < best)) {
			best = i;
			bestv = v;
			bc = c;
		}
	}
	st->base[best] -= (int64_t)st->wsum;
	sift_down(st, st->heap + bc->off, bc->size, 0);
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
