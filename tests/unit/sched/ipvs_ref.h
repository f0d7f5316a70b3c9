/*
 * ipvs_ref.h - reference models of IPVS's fo, ovf and twos schedulers for
 * the unit tests, and a driver that runs the library and a model side by
 * side through random connections, state changes and retries.
 *
 * The models are written after the kernel's ip_vs_fo.c, ip_vs_ovf.c and
 * ip_vs_twos.c: a plain scan of the destination list with IPVS's signed
 * ints, reading a destination as IPVS sees it. weir's DOWN, DRAIN and
 * MAINT (and a server a retry skips) are what IPVS does by quiescing:
 * weight 0. They share nothing with src/sched but the random generator
 * twos draws from (sched_rand, over a copy of the instance's seed).
 */
#ifndef WEIR_TEST_SCHED_IPVS_REF_H
#define WEIR_TEST_SCHED_IPVS_REF_H

#include "fixture.h"
#include "sched/sched_int.h"

/* One destination as IPVS's schedulers read it. */
struct ref_dest {
	int weight;
	int activeconns;
	int inactconns;
	bool overload; /* IP_VS_DEST_F_OVERLOAD */
};

/* The random numbers twos draws: the library's generator from the same
 * seed, advanced only when the model draws. */
struct ref_rand {
	struct sched g;
};

typedef int (*ref_sched_fn)(const struct ref_dest *d, int n, struct ref_rand *r);

static inline int ref_fo(const struct ref_dest *d, int n, struct ref_rand *r)
{
	int hw = 0, found = -1;

	(void)r;
	for (int k = 0; k < n; k++) {
		if (d[k].overload || d[k].weight <= hw)
			continue;
		found = k;
		hw = d[k].weight;
	}
	return found;
}

static inline int ref_ovf(const struct ref_dest *d, int n, struct ref_rand *r)
{
	int hw = 0, found = -1;

	(void)r;
	for (int k = 0; k < n; k++) {
		int w = d[k].weight;

		if (d[k].overload || w == 0 || d[k].activeconns > w)
			continue;
		if (found < 0 || w > hw) {
			found = k;
			hw = w;
		}
	}
	return found;
}

/* IPVS's prandom_u32() % n: a number uniform in [0, n), here from the
 * library's generator as it maps them (sched_rand_below). */
static inline long long ref_below(struct ref_rand *r, long long n)
{
	return (long long)sched_rand_below(&r->g, (uint32_t)n);
}

static inline long long ref_overhead(const struct ref_dest *d)
{
	return (long long)d->activeconns * 256 + d->inactconns;
}

static inline int ref_twos(const struct ref_dest *d, int n, struct ref_rand *r)
{
	long long total = 0, rw1, rw2, oh1 = 0, oh2 = 0;
	int c1 = -1, c2 = -1, w1 = -1, w2 = -1;

	for (int k = 0; k < n; k++)
		if (!d[k].overload && d[k].weight > 0)
			total += d[k].weight;
	if (total == 0)
		return -1;
	total += 1; /* both ends of [0, total] */
	rw1 = ref_below(r, total);
	rw2 = ref_below(r, total);
	for (int k = 0; k < n && (w1 < 0 || w2 < 0); k++) {
		if (d[k].overload || d[k].weight <= 0)
			continue;
		rw1 -= d[k].weight;
		rw2 -= d[k].weight;
		if (rw1 <= 0 && w1 < 0) {
			c1 = k;
			w1 = d[k].weight;
			oh1 = ref_overhead(&d[k]);
		}
		if (rw2 <= 0 && w2 < 0) {
			c2 = k;
			w2 = d[k].weight;
			oh2 = ref_overhead(&d[k]);
		}
	}
	if (w2 * oh1 > w1 * oh2)
		return c2;
	return c1;
}

/* <f>'s servers as IPVS would hold them; <skip> (may be NULL) quiesced. */
static inline void ref_view(const struct fx *f, const uint64_t *skip,
			    struct ref_dest *d)
{
	for (size_t k = 0; k < f->n; k++) {
		const struct sched_server *srv = &f->srv[k];
		bool off = (srv->flags & (SCHED_SRV_DOWN | SCHED_SRV_DRAIN |
					  SCHED_SRV_MAINT)) ||
			   (skip && (skip[k / 64] >> (k % 64)) & 1);

		d[k].weight = off ? 0 : (int)srv->weight;
		d[k].activeconns = (int)(srv->active + srv->ext_active);
		d[k].inactconns = (int)srv->inactive;
		d[k].overload = srv->flags & SCHED_SRV_OVERLOAD;
	}
}

#define REF_MAX_CONNS 4096
#define REF_SERVERS 12

/*
 * Runs <steps> random steps over a set of REF_SERVERS servers: a new
 * connection (picked by both, held), one closing or going inactive, a
 * server going down, drained, in maintenance and back, a weight or an
 * upper threshold changed, a retry that skips some servers, load seen
 * elsewhere. Every pick must be the model's. Returns the picks made.
 */
static inline long ref_run(const char *name, ref_sched_fn model, uint64_t seed,
			   long steps)
{
	struct fx f;
	struct sched_params p = { .seed = seed };
	struct ref_rand rr = { .g = { .rng = seed } };
	struct ref_dest d[REF_SERVERS];
	uint32_t w[REF_SERVERS];
	static int32_t conn[REF_MAX_CONNS];
	static bool conn_active[REF_MAX_CONNS];
	size_t nconn = 0;
	uint64_t x = seed * 2654435761u + 1;
	long picks = 0;

	for (int k = 0; k < REF_SERVERS; k++)
		w[k] = (uint32_t)(fx_rand(&x) % 6); /* some quiesced */
	if (!fx_open(&f, name, w, REF_SERVERS, &p))
		return 0;
	for (long step = 0; step < steps && !unit_failed_now; step++) {
		uint32_t op = (uint32_t)(fx_rand(&x) % 100);
		struct sched_server *srv = &f.srv[fx_rand(&x) % REF_SERVERS];

		if (op < 50 || (op < 80 && nconn == 0)) {
			uint64_t skip[1] = { 0 };
			bool retry = op >= 45;
			struct sched_req req = { .skip = retry ? skip : NULL };
			int got, want;

			if (retry)
				skip[0] = fx_rand(&x) & ((1u << REF_SERVERS) - 1);
			ref_view(&f, retry ? skip : NULL, d);
			want = model(d, REF_SERVERS, &rr);
			got = sched_pick(f.s, &req);
			picks++;
			if (got != want) {
				unit_fail(__FILE__, __LINE__, "%s seed %llu step %ld: "
					  "library %d, IPVS %d", name,
					  (unsigned long long)seed, step, got, want);
				break;
			}
			if (got >= 0 && nconn < REF_MAX_CONNS) {
				sched_conn_open(f.s, &f.srv[got]);
				conn[nconn] = got;
				conn_active[nconn++] = true;
			}
		} else if (op < 75) {
			size_t c = fx_rand(&x) % nconn;

			sched_conn_close(f.s, &f.srv[conn[c]], conn_active[c]);
			conn[c] = conn[--nconn];
			conn_active[c] = conn_active[nconn];
		} else if (op < 80) {
			size_t c = fx_rand(&x) % nconn;

			if (conn_active[c]) {
				sched_conn_deactivate(f.s, &f.srv[conn[c]]);
				conn_active[c] = false;
			}
		} else if (op < 88) {
			static const uint32_t flag[] = { SCHED_SRV_DOWN, SCHED_SRV_DRAIN,
							 SCHED_SRV_MAINT, 0, 0, 0 };

			srv->flags = (srv->flags & SCHED_SRV_LIBRARY) |
				     flag[fx_rand(&x) % 6];
			sched_server_changed(f.s, srv);
		} else if (op < 93) {
			srv->weight = (uint32_t)(fx_rand(&x) % 6);
			sched_server_changed(f.s, srv);
		} else if (op < 97) {
			srv->upper = (uint32_t)(fx_rand(&x) % 8);
			srv->upper = srv->upper < 2 ? 0 : srv->upper;
			sched_server_changed(f.s, srv);
		} else {
			sched_server_load(f.s, srv, (uint32_t)(fx_rand(&x) % 4));
		}
	}
	for (size_t c = 0; c < nconn; c++)
		sched_conn_close(f.s, &f.srv[conn[c]], conn_active[c]);
	fx_close(&f);
	return picks;
}

#endif
