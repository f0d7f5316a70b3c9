/*
 * p2c.c - power of two random choices (Mitzenmacher): draw two distinct
 * available servers at random from s->rng and take the less loaded, the
 * first drawn among equals. Two loads:
 *   p2c  (active + 1) / weight: least active connections when weights
 *        are equal
 *   lrt  peak-EWMA response time * (active + 1) / weight (Finagle's and
 *        linkerd's least response time), fed by sched_observe_rtt()
 * A dense array of the available servers makes a draw O(1) however many
 * are down; a retry (req->skip) draws among the others in O(n).
 */
#include "sched/sched_int.h"

#define LRT_DEFAULT_DECAY_MS 10000u
/* Finagle's penalty for a server with requests but no response time yet */
#define LRT_PENALTY ((double)(INT64_MAX >> 16))

struct p2c_state {
	int32_t *avl;   /* the available servers, in no order */
	int32_t *apos;  /* [n] position in avl, -1 if absent */
	uint32_t navl;
	double inv_tau; /* lrt: 1 / decay time constant in ms */
};

static int p2c_update(struct sched *s)
{
	struct p2c_state *st = s->state;
	size_t n = s->nsrv ? s->nsrv : 1;
	int32_t *avl = malloc(n * sizeof(*avl)), *apos = malloc(n * sizeof(*apos));

	if (!avl || !apos) {
		free(avl);
		free(apos);
		return -ENOMEM;
	}
	free(st->avl);
	free(st->apos);
	st->avl = avl;
	st->apos = apos;
	st->navl = 0;
	for (size_t i = 0; i < s->nsrv; i++) {
		apos[i] = -1;
		if (sched_server_available(s->srv[i])) {
			apos[i] = (int32_t)st->navl;
			avl[st->navl++] = (int32_t)i;
		}
	}
	return 0;
}

static void p2c_fini(struct sched *s)
{
	struct p2c_state *st = s->state;

	free(st->avl);
	free(st->apos);
}

static void p2c_conn_changed(struct sched *s, struct sched_server *srv)
{
	struct p2c_state *st = s->state;
	int32_t i = srv->idx, p = st->apos[i];
	bool avail = sched_server_available(srv);

	if (avail && p < 0) {
		st->apos[i] = (int32_t)st->navl;
		st->avl[st->navl++] = i;
	} else if (!avail && p >= 0) {
		int32_t last = st->avl[--st->navl];

		st->avl[p] = last;
		st->apos[last] = p;
		st->apos[i] = -1;
	}
}

/* Two distinct draws <a>, <b>; false if there is nothing to draw. */
static bool draw_two(struct sched *s, const struct sched_req *req,
		     int *a, int *b)
{
	struct p2c_state *st = s->state;
	uint32_t m = 0, ra, rb, k = 0;

	if (!sched_skip_any(req, s->nsrv)) {
		if (!st->navl)
			return false;
		ra = sched_rand_below(s, st->navl);
		*a = *b = st->avl[ra];
		if (st->navl > 1) {
			rb = sched_rand_below(s, st->navl - 1);
			*b = st->avl[rb >= ra ? rb + 1 : rb];
		}
		return true;
	}
	/* a retry: rank the untried ones and draw two ranks */
	for (uint32_t p = 0; p < st->navl; p++)
		m += !sched_skipped(req, st->avl[p]);
	if (!m)
		return false;
	ra = sched_rand_below(s, m);
	rb = m > 1 ? sched_rand_below(s, m - 1) : ra;
	if (m > 1 && rb >= ra)
		rb++;
	for (uint32_t p = 0; p < st->navl; p++) {
		if (sched_skipped(req, st->avl[p]))
			continue;
		if (k == ra)
			*a = st->avl[p];
		if (k == rb)
			*b = st->avl[p];
		k++;
	}
	return true;
}

static int p2c_pick(struct sched *s, const struct sched_req *req)
{
	int a, b;
	const struct sched_server *sa, *sb;

	if (!draw_two(s, req, &a, &b))
		return -1;
	if (a == b)
		return a;
	sa = s->srv[a];
	sb = s->srv[b];
	/* b only if strictly less loaded: (b.active+1)/b.w < (a.active+1)/a.w */
	if (((uint64_t)sched_active(sb) + 1) * sa->weight <
	    ((uint64_t)sched_active(sa) + 1) * sb->weight)
		return b;
	return a;
}

/* e^-x for x >= 0 without libm: e^-x = 2^-y, y = x*log2(e); 2^-k by the
 * exponent bits, 2^-f = e^-(f ln 2) by its Taylor series to the 7th power
 * in Horner form (relative error < 2e-6). */
static double exp_neg(double x)
{
	double y = x * 1.4426950408889634, z, p, scale;
	uint64_t bits;
	int k;

	if (!(x > 0))
		return 1;
	if (y >= 1000)
		return 0;
	k = (int)y;
	z = (y - k) * 0.6931471805599453;
	p = 1 + z * (-1 + z * (1.0 / 2 + z * (-1.0 / 6 + z * (1.0 / 24 +
	    z * (-1.0 / 120 + z * (1.0 / 720 + z * (-1.0 / 5040)))))));
	bits = (uint64_t)(1023 - k) << 52; /* 2^-k, k < 1000 */
	memcpy(&scale, &bits, sizeof(scale));
	return p * scale;
}

static double decay_ms(const struct sched *s)
{
	return s->params.lrt_decay_ms ? s->params.lrt_decay_ms :
	       LRT_DEFAULT_DECAY_MS;
}

/*
 * Peak EWMA: a sample above the average replaces it at once; otherwise the
 * average moves towards the sample by 1 - e^(-dt/tau), dt being the time
 * since the last sample.
 */
void sched_lrt_observe(const struct sched *s, struct sched_server *srv,
		       uint64_t rtt_ns, uint64_t now_ms)
{
	double cost = (double)srv->rtt_ewma_ns, w;
	uint64_t dt = now_ms > srv->rtt_stamp_ms ? now_ms - srv->rtt_stamp_ms : 0;

	if (rtt_ns > srv->rtt_ewma_ns) {
		srv->rtt_ewma_ns = rtt_ns;
	} else {
		w = exp_neg((double)dt / decay_ms(s));
		cost = cost * w + (double)rtt_ns * (1 - w);
		srv->rtt_ewma_ns = (uint64_t)(cost + 0.5);
	}
	srv->rtt_stamp_ms = now_ms;
}

/* The load lrt compares: the average decayed towards 0 for the time since
 * the last sample (Finagle reads it so), times the requests in flight. */
static double lrt_load(const struct p2c_state *st, const struct sched_server *srv,
		       uint64_t now_ms)
{
	uint64_t dt = now_ms > srv->rtt_stamp_ms ? now_ms - srv->rtt_stamp_ms : 0;
	double cost = (double)srv->rtt_ewma_ns;

	if (!srv->rtt_ewma_ns)
		return sched_active(srv) ? LRT_PENALTY + sched_active(srv) : 0;
	if (dt)
		cost *= exp_neg((double)dt * st->inv_tau);
	return cost * ((double)sched_active(srv) + 1);
}

static int lrt_pick(struct sched *s, const struct sched_req *req)
{
	struct p2c_state *st = s->state;
	int a, b;
	double la, lb;

	if (!draw_two(s, req, &a, &b))
		return -1;
	if (a == b)
		return a;
	/* lb/wb < la/wa */
	la = lrt_load(st, s->srv[a], req->now_ms) * s->srv[b]->weight;
	lb = lrt_load(st, s->srv[b], req->now_ms) * s->srv[a]->weight;
	return lb < la ? b : a;
}

static int lrt_init(struct sched *s)
{
	struct p2c_state *st = s->state;

	st->inv_tau = 1.0 / decay_ms(s);
	return 0;
}

const struct sched_ops sched_p2c_ops = {
	.name = "p2c",
	.descr = "power of two random choices, least active connections",
	.state_size = sizeof(struct p2c_state),
	.fini = p2c_fini,
	.update = p2c_update,
	.pick = p2c_pick,
	.conn_changed = p2c_conn_changed,
	.periodic = true,
};

const struct sched_ops sched_lrt_ops = {
	.name = "lrt",
	.descr = "least response time: peak-EWMA latency * load, by p2c",
	.state_size = sizeof(struct p2c_state),
	.init = lrt_init,
	.fini = p2c_fini,
	.update = p2c_update,
	.pick = lrt_pick,
	.conn_changed = p2c_conn_changed,
	.uses_rtt = true,
	.periodic = true,
};
