/* test_ovf.c - overflow connection against IPVS's ip_vs_ovf.c: the highest
 * weight while its active connections do not exceed its weight. */
#include "ipvs_ref.h"

/* Picks <n> connections, each held, and checks them against <want>. */
static void expect_held(struct fx *f, const int *want, int n, int line)
{
	for (int k = 0; k < n; k++) {
		int got = fx_pick(f, 0);

		if (got != want[k])
			unit_fail(__FILE__, line, "pick %d: %d, IPVS %d", k, got, want[k]);
		if (got >= 0)
			sched_conn_open(f->s, &f->srv[got]);
	}
}

/* Hand-derived from ip_vs_ovf_schedule(): a server is skipped once
 * activeconns > weight, so a server of weight w holds w + 1. */
TEST(ovf_overflows_in_weight_order)
{
	struct fx f;
	const uint32_t w[3] = { 1, 3, 2 };
	const int want[10] = { 1, 1, 1, 1, 2, 2, 2, 0, 0, -1 };

	if (!fx_open(&f, "ovf", w, 3, NULL))
		return;
	expect_held(&f, want, 10, __LINE__);
	/* one of 1's ends: it is back under its weight and first again */
	sched_conn_close(f.s, &f.srv[1], true);
	CHECK_EQ(fx_pick(&f, 0), 1);
	/* only active connections count: one going inactive frees a place */
	sched_conn_deactivate(f.s, &f.srv[2]);
	CHECK_EQ(fx_pick(&f, 0), 1);
	sched_conn_open(f.s, &f.srv[1]);
	CHECK_EQ(fx_pick(&f, 0), 2);
	fx_close(&f);
}

/* Equal weights: the first in list order fills first. */
TEST(ovf_ties_in_list_order)
{
	struct fx f;
	const uint32_t w[3] = { 2, 2, 2 };
	const int want[10] = { 0, 0, 0, 1, 1, 1, 2, 2, 2, -1 };

	if (!fx_open(&f, "ovf", w, 3, NULL))
		return;
	expect_held(&f, want, 10, __LINE__);
	fx_close(&f);
}

/* The load a server has elsewhere counts as its active connections. */
TEST(ovf_counts_load_elsewhere)
{
	struct fx f;
	const uint32_t w[2] = { 3, 1 };

	if (!fx_open(&f, "ovf", w, 2, NULL))
		return;
	CHECK_EQ(fx_pick(&f, 0), 0);
	sched_server_load(f.s, &f.srv[0], 4);
	CHECK_EQ(fx_pick(&f, 0), 1);
	sched_server_load(f.s, &f.srv[0], 3);
	CHECK_EQ(fx_pick(&f, 0), 0);
	fx_close(&f);
}

TEST(ovf_sequences_match_ipvs)
{
	for (uint64_t seed = 1; seed <= 40; seed++)
		CHECK(ref_run("ovf", ref_ovf, seed, 3000) > 1000);
}
