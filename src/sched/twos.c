/*
 * twos.c - weighted random twos choice, as IPVS ip_vs_twos.c (Linux 6.2):
 * two servers drawn at random, each with a chance in proportion to its
 * weight, and the second taken only if it is strictly less loaded, by
 * IPVS's overhead (active*256 + inactive) over the weight; otherwise, and
 * when the same server is drawn twice, the first.
 *
 * IPVS's draw, kept exactly: with W the sum of the available weights, a
 * number r uniform in [0, W] (W + 1 values) picks the first server in list
 * order whose running sum of weights reaches r. So r = 0 and r = 1 both
 * pick the first server: it has a chance (w + 1) / (W + 1), the others
 * w / (W + 1). The two numbers come from s->rng (params.seed), first the
 * first one's, both always drawn.
 *
 * IPVS walks the list twice per connection; a Fenwick tree over the
 * weights of the available servers finds the same servers in O(log n),
 * and a server whose availability changes (an OVERLOAD flag after a
 * connection) moves one path. A retry (req->skip) walks the list as IPVS
 * does, over the servers not yet tried.
 */
#include "sched/sched_int.h"

__extension__ typedef unsigned __int128 u128;

/* Instance state. fw is 1-based: fw[p] holds the sum of wgt over
 * (p - lowbit(p), p]. */
struct twos_state {
	uint64_t *fw;   /* [n + 1] Fenwick tree of wgt */
	uint32_t *wgt;  /* [n] the weight a server counts with: 0 if unavailable */
	uint64_t total; /* the sum of wgt */
	uint32_t n;
	uint32_t top;   /* the highest power of two <= n (0 if n = 0) */
};

static uint32_t count_weight(const struct sched_server *srv)
{
	return sched_server_available(srv) ? srv->weight : 0;
}

static int twos_update(struct sched *s)
{
	struct twos_state *st = s->state;
	uint32_t n = (uint32_t)s->nsrv;
	uint64_t *fw = calloc((size_t)n + 1, sizeof(*fw));
	uint32_t *wgt = calloc(n ? n : 1, sizeof(*wgt));

	if (!fw || !wgt) {
		free(fw);
		free(wgt);
		return -ENOMEM;
	}
	st->total = 0;
	for (uint32_t i = 0; i < n; i++) {
		wgt[i] = count_weight(s->srv[i]);
		fw[i + 1] += wgt[i];
		st->total += wgt[i];
		/* each node passes its sum on to its parent: O(n) */
		if (i + 1 + ((i + 1) & -(i + 1)) <= n)
			fw[i + 1 + ((i + 1) & -(i + 1))] += fw[i + 1];
	}
	free(st->fw);
	free(st->wgt);
	st->fw = fw;
	st->wgt = wgt;
	st->n = n;
	for (st->top = n ? 1 : 0; st->top && st->top <= n / 2; st->top *= 2)
		;
	return 0;
}

static void twos_fini(struct sched *s)
{
	struct twos_state *st = s->state;

	free(st->fw);
	free(st->wgt);
}

static void twos_conn_changed(struct sched *s, struct sched_server *srv)
{
	struct twos_state *st = s->state;
	uint32_t i = (uint32_t)srv->idx, w = count_weight(srv);
	uint64_t delta = (uint64_t)w - st->wgt[i]; /* modulo 2^64: may be "negative" */

	if (w == st->wgt[i])
		return;
	st->wgt[i] = w;
	st->total += delta;
	for (uint32_t p = i + 1; p <= st->n; p += p & -p)
		st->fw[p] += delta;
}

/* The first server whose running sum of weights reaches <r> >= 1. */
static int fw_find(const struct twos_state *st, uint64_t r)
{
	uint32_t pos = 0;

	for (uint32_t step = st->top; step; step /= 2)
		if (pos + step <= st->n && st->fw[pos + step] < r) {
			pos += step;
			r -= st->fw[pos];
		}
	return (int)pos;
}

/* IPVS's draw: uniform in [0, total], read as at least 1 (see above). */
static uint64_t draw(struct sched *s, uint64_t total)
{
	uint64_t r = sched_rand(s) % (total + 1);

	return r ? r : 1;
}

/* <a>, or <b> if strictly less loaded: oh_b / w_b < oh_a / w_a. */
static int less_loaded(const struct sched *s, int a, int b)
{
	const struct sched_server *sa = s->srv[a], *sb = s->srv[b];

	if ((u128)sched_ipvs_overhead(sa) * sb->weight >
	    (u128)sched_ipvs_overhead(sb) * sa->weight)
		return b;
	return a;
}

/* A retry: IPVS's walk over the available servers not in req->skip. */
static int twos_pick_walk(struct sched *s, const struct sched_req *req)
{
	uint64_t total = 0, r1, r2, sum = 0;
	int a = -1, b = -1;

	for (size_t i = 0; i < s->nsrv; i++)
		if (sched_usable(s, req, (int)i))
			total += s->srv[i]->weight;
	if (!total)
		return -1;
	r1 = draw(s, total);
	r2 = draw(s, total);
	for (size_t i = 0; i < s->nsrv && (a < 0 || b < 0); i++) {
		if (!sched_usable(s, req, (int)i))
			continue;
		sum += s->srv[i]->weight;
		if (a < 0 && sum >= r1)
			a = (int)i;
		if (b < 0 && sum >= r2)
			b = (int)i;
	}
	return less_loaded(s, a, b);
}

static int twos_pick(struct sched *s, const struct sched_req *req)
{
	struct twos_state *st = s->state;
	uint64_t r1, r2;

	if (sched_skip_any(req, s->nsrv))
		return twos_pick_walk(s, req);
	if (!st->total)
		return -1;
	r1 = draw(s, st->total);
	r2 = draw(s, st->total);
	return less_loaded(s, fw_find(st, r1), fw_find(st, r2));
}

const struct sched_ops sched_twos_ops = {
	.name = "twos",
	.descr = "weighted random twos choice: the less loaded of two weighted draws (IPVS)",
	.state_size = sizeof(struct twos_state),
	.fini = twos_fini,
	.update = twos_update,
	.pick = twos_pick,
	.conn_changed = twos_conn_changed,
	.periodic = true,
};
