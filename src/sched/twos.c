/*
 * twos.c - weighted random twos choice, as IPVS ip_vs_twos.c (Linux 6.x):
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
 * both draws' searches side by side, and a server whose availability
 * changes (an OVERLOAD flag after a connection) moves one path. A retry (req->skip) walks the list as IPVS
 * does, over the servers not yet tried.
 */
#include "sched/sched_int.h"

__extension__ typedef unsigned __int128 u128;

/* Instance state. fw is 1-based: fw[p] holds the sum of wgt over
 * (p - lowbit(p), p]; it covers cap positions, those past n weigh 0, so
 * that a search never needs a bound check. */
struct twos_state {
	uint64_t *fw;   /* [cap + 1] Fenwick tree of wgt */
	uint32_t *wgt;  /* [n] the weight a server counts with: 0 if unavailable */
	uint64_t total; /* the sum of wgt */
	uint32_t cap;   /* the lowest power of two >= n (1 if n = 0) */
};

static uint32_t count_weight(const struct sched_server *srv)
{
	return sched_server_available(srv) ? srv->weight : 0;
}

static int twos_update(struct sched *s)
{
	struct twos_state *st = s->state;
	uint32_t n = (uint32_t)s->nsrv, cap = 1;
	uint64_t *fw;
	uint32_t *wgt;

	while (cap < n)
		cap *= 2;
	fw = calloc((size_t)cap + 1, sizeof(*fw));
	wgt = calloc(n ? n : 1, sizeof(*wgt));
	if (!fw || !wgt) {
		free(fw);
		free(wgt);
		return -ENOMEM;
	}
	st->total = 0;
	for (uint32_t p = 1; p <= cap; p++) {
		if (p <= n) {
			wgt[p - 1] = count_weight(s->srv[p - 1]);
			fw[p] += wgt[p - 1];
			st->total += wgt[p - 1];
		}
		/* each node passes its sum on to its parent: O(cap) */
		if (p + (p & -p) <= cap)
			fw[p + (p & -p)] += fw[p];
	}
	free(st->fw);
	free(st->wgt);
	st->fw = fw;
	st->wgt = wgt;
	st->cap = cap;
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
	for (uint32_t p = i + 1; p <= st->cap; p += p & -p)
		st->fw[p] += delta;
}

/*
 * The first servers whose running sums of weights reach <r1> and <r2>
 * (both in [1, total]), into *<a> and *<b>. The two searches go down
 * together and without branches: their loads are in flight at once and
 * a random path costs no mispredictions.
 */
static void fw_find2(const struct twos_state *st, uint64_t r1, uint64_t r2,
		     int *a, int *b)
{
	uint32_t p1 = 0, p2 = 0;

	for (uint32_t step = st->cap; step; step /= 2) {
		uint64_t v1 = st->fw[p1 + step], v2 = st->fw[p2 + step];
		uint64_t m1 = -(uint64_t)(v1 < r1), m2 = -(uint64_t)(v2 < r2);

		p1 += step & (uint32_t)m1;
		r1 -= v1 & m1;
		p2 += step & (uint32_t)m2;
		r2 -= v2 & m2;
	}
	*a = (int)p1;
	*b = (int)p2;
}

/* IPVS's draw, uniform in [0, total] (total + 1 values), read as at least
 * 1 (see above). */
static uint64_t draw(struct sched *s, uint64_t total)
{
	uint64_t r = total < UINT32_MAX ? sched_rand_below(s, (uint32_t)(total + 1)) :
		     sched_rand(s) % (total + 1);

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
	int a, b;

	if (sched_skip_any(req, s->nsrv))
		return twos_pick_walk(s, req);
	if (!st->total)
		return -1;
	r1 = draw(s, st->total);
	r2 = draw(s, st->total);
	fw_find2(st, r1, r2, &a, &b);
	return less_loaded(s, a, b);
}

const struct sched_ops sched_twos_ops = {
	.name = "twos",
	.descr = "weighted random twos: the less loaded of two weighted draws (IPVS)",
	.state_size = sizeof(struct twos_state),
	.fini = twos_fini,
	.update = twos_update,
	.pick = twos_pick,
	.conn_changed = twos_conn_changed,
	.periodic = true,
};
