/* test_lc.c - lc, wlc, sed and nq: IPVS's answers, ties included, and the
 * tournament tree against IPVS's linear scans over random histories. */
#include "fixture.h"

/* Gives server <i> <act> active and <inact> inactive connections. */
static void load(struct fx *f, int i, uint32_t act, uint32_t inact)
{
	for (uint32_t k = 0; k < act + inact; k++)
		sched_conn_open(f->s, &f->srv[i]);
	for (uint32_t k = 0; k < inact; k++)
		sched_conn_deactivate(f->s, &f->srv[i]);
}

TEST(lc_overhead_and_ties)
{
	struct fx f;

	if (!fx_open(&f, "lc", NULL, 3, NULL))
		return;
	load(&f, 0, 1, 0);   /* 256 */
	load(&f, 1, 0, 300); /* 300 */
	load(&f, 2, 0, 256); /* 256: ties with a, a is first */
	CHECK_EQ(fx_pick(&f, 0), 0);
	sched_conn_deactivate(f.s, &f.srv[0]); /* a: 1 */
	CHECK_EQ(fx_pick(&f, 0), 0);
	load(&f, 0, 1, 0);                      /* a: 257 */
	CHECK_EQ(fx_pick(&f, 0), 2);
	f.srv[2].weight = 0;                    /* quiesced */
	sched_server_changed(f.s, &f.srv[2]);
	CHECK_EQ(fx_pick(&f, 0), 0);
	fx_close(&f);
}

TEST(lc_ignores_weight)
{
	struct fx f;
	const uint32_t w[2] = { 1, 100 };

	if (!fx_open(&f, "lc", w, 2, NULL))
		return;
	load(&f, 1, 1, 0);
	CHECK_EQ(fx_pick(&f, 0), 0);
	fx_close(&f);
}

TEST(wlc_ratio_and_ties)
{
	struct fx f;
	const uint32_t w[3] = { 1, 2, 4 };

	if (!fx_open(&f, "wlc", w, 3, NULL))
		return;
	CHECK_EQ(fx_pick(&f, 0), 0); /* all 0: the first */
	load(&f, 0, 1, 0);           /* 256/1 */
	load(&f, 1, 2, 0);           /* 512/2: equal, a first */
	load(&f, 2, 4, 0);           /* 1024/4: equal */
	CHECK_EQ(fx_pick(&f, 0), 0);
	sched_conn_close(f.s, &f.srv[2], true); /* 768/4 < 256 */
	CHECK_EQ(fx_pick(&f, 0), 2);
	load(&f, 2, 0, 256);                    /* 1024/4 again, by inactive */
	CHECK_EQ(fx_pick(&f, 0), 0);
	sched_conn_deactivate(f.s, &f.srv[1]);  /* b: 256+1 over 2 < 256 */
	CHECK_EQ(fx_pick(&f, 0), 1);
	fx_close(&f);
}

TEST(sed_counts_active_only)
{
	struct fx f;
	const uint32_t w[2] = { 1, 3 };

	if (!fx_open(&f, "sed", w, 2, NULL))
		return;
	CHECK_EQ(fx_pick(&f, 0), 1); /* 1/1 vs 1/3 */
	load(&f, 1, 2, 0);           /* 3/3 = 1/1: a first */
	CHECK_EQ(fx_pick(&f, 0), 0);
	load(&f, 0, 0, 50);          /* inactive does not count */
	CHECK_EQ(fx_pick(&f, 0), 0);
	sched_conn_close(f.s, &f.srv[1], true); /* 2/3 */
	CHECK_EQ(fx_pick(&f, 0), 1);
	fx_close(&f);
}

TEST(nq_idle_first_then_sed)
{
	struct fx f;
	const uint32_t w[3] = { 10, 1, 5 };

	if (!fx_open(&f, "nq", w, 3, NULL))
		return;
	load(&f, 0, 3, 0);
	CHECK_EQ(fx_pick(&f, 0), 1); /* the first idle, though a is faster */
	load(&f, 1, 1, 0);
	CHECK_EQ(fx_pick(&f, 0), 2);
	load(&f, 2, 1, 0);           /* none idle: sed 4/10, 2/1, 2/5 */
	CHECK_EQ(fx_pick(&f, 0), 0); /* a and c tie: a is first */
	load(&f, 0, 1, 0);           /* 5/10 > 2/5 */
	CHECK_EQ(fx_pick(&f, 0), 2);
	load(&f, 1, 0, 9);           /* inactive: b still counts as busy */
	sched_conn_close(f.s, &f.srv[1], true); /* b idle again */
	CHECK_EQ(fx_pick(&f, 0), 1);
	fx_close(&f);
}

/* ---- IPVS's scans, transcribed ---- */

static bool ok(const struct fx *f, int i)
{
	return !(f->srv[i].flags & (SCHED_SRV_DOWN | SCHED_SRV_DRAIN |
				    SCHED_SRV_MAINT | SCHED_SRV_OVERLOAD));
}

static bool skipped(const uint64_t *skip, int i)
{
	return skip && (skip[i / 64] >> (i % 64) & 1);
}

static long long oh(const struct sched_server *d)
{
	return ((long long)d->active << 8) + d->inactive;
}

static int scan_lc(const struct fx *f, const uint64_t *skip)
{
	int least = -1;
	long long loh = 0;

	for (int i = 0; i < (int)f->n; i++) {
		if (!ok(f, i) || f->srv[i].weight == 0 || skipped(skip, i))
			continue;
		if (least < 0 || oh(&f->srv[i]) < loh) {
			least = i;
			loh = oh(&f->srv[i]);
		}
	}
	return least;
}

/* wlc and sed: the first server with a weight, then strictly lower
 * cost/weight replaces it. */
static int scan_ratio(const struct fx *f, const uint64_t *skip, bool sed)
{
	int least = -1;
	long long loh = 0;

	for (int i = 0; i < (int)f->n; i++) {
		const struct sched_server *d = &f->srv[i];
		long long doh = sed ? (long long)d->active + 1 : oh(d);

		if (!ok(f, i) || skipped(skip, i))
			continue;
		if (least < 0) {
			if (d->weight > 0) {
				least = i;
				loh = doh;
			}
			continue;
		}
		if (loh * d->weight > doh * f->srv[least].weight) {
			least = i;
			loh = doh;
		}
	}
	return least;
}

static int scan_nq(const struct fx *f, const uint64_t *skip)
{
	int least = -1;
	long long loh = 0;

	for (int i = 0; i < (int)f->n; i++) {
		const struct sched_server *d = &f->srv[i];
		long long doh = (long long)d->active + 1;

		if (!ok(f, i) || !d->weight || skipped(skip, i))
			continue;
		if (d->active == 0)
			return i;
		if (least < 0 || loh * d->weight > doh * f->srv[least].weight) {
			least = i;
			loh = doh;
		}
	}
	return least;
}

static int scan(const char *name, const struct fx *f, const uint64_t *skip)
{
	if (!strcmp(name, "lc"))
		return scan_lc(f, skip);
	if (!strcmp(name, "nq"))
		return scan_nq(f, skip);
	return scan_ratio(f, skip, !strcmp(name, "sed"));
}

/* One random step: a connection opens, goes inactive or closes, a
 * server's weight, flags or threshold change. */
static void random_step(struct fx *f, uint64_t *x)
{
	size_t i = fx_rand(x) % f->n;
	uint64_t op = fx_rand(x) % 100;
	struct sched_server *d = &f->srv[i];

	if (op < 40) {
		sched_conn_open(f->s, d);
	} else if (op < 55) {
		sched_conn_deactivate(f->s, d);
	} else if (op < 75) {
		sched_conn_close(f->s, d, true);
	} else if (op < 90) {
		sched_conn_close(f->s, d, false);
	} else {
		if (op < 94)
			d->weight = (uint32_t)(fx_rand(x) % 6);
		else if (op < 97)
			d->flags ^= (uint32_t)1 << (fx_rand(x) % 3);
		else
			d->upper = (uint32_t)(fx_rand(x) % 8);
		sched_server_changed(f->s, d);
	}
}

static void property(const char *name, uint64_t seed)
{
	uint64_t x = seed;
	int mismatches = 0;

	for (int round = 0; round < 30; round++) {
		static struct fx f;
		uint32_t w[700];
		/* one large set, for a deep tree; the rest small, for ties */
		size_t n = round ? 1 + fx_rand(&x) % 64 : 700;

		for (size_t i = 0; i < n; i++)
			w[i] = (uint32_t)(fx_rand(&x) % 6);
		if (!fx_open(&f, name, w, n, NULL))
			return;
		for (int k = 0; k < 4000; k++) {
			uint64_t skip[11];
			struct sched_req req = { .skip = skip };
			bool retry = k % 7 == 0;
			int got, want;

			for (int j = 0; j < 11; j++)
				skip[j] = fx_rand(&x) & fx_rand(&x) & fx_rand(&x);
			random_step(&f, &x);
			got = retry ? sched_pick(f.s, &req) : fx_pick(&f, 0);
			want = scan(name, &f, retry ? skip : NULL);
			if (got != want && mismatches++ < 5)
				unit_fail(__FILE__, __LINE__, "%s round %d step %d: "
					  "tree %d, IPVS scan %d", name, round, k,
					  got, want);
		}
		fx_close(&f);
	}
	CHECK_EQ(mismatches, 0);
}

TEST(lc_tree_equals_scan)  { property("lc", 1); }
TEST(wlc_tree_equals_scan) { property("wlc", 2); }
TEST(sed_tree_equals_scan) { property("sed", 3); }
TEST(nq_tree_equals_scan)  { property("nq", 4); }
