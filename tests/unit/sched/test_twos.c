/* test_twos.c - weighted random twos choice against IPVS's ip_vs_twos.c:
 * two draws in proportion to the weights, the second only if strictly
 * less loaded. The draws come from the instance's seed, so the sequences
 * are fixed. */
#include "ipvs_ref.h"

/*
 * Hand-derived. Weights 2, 0, 3: W = 5, a draw r in [0, 5] takes server 0
 * for r <= 2, server 2 for r >= 3 (1 is quiesced). Seed 4's first draws
 * (sched_rand_below(6)) are (1,4) (2,2) (3,2) (5,1) (2,5) (5,1) (4,0)
 * (2,5).
 */
TEST(twos_hand_derived_sequences)
{
	const uint32_t w[3] = { 2, 0, 3 };
	struct sched_params p = { .seed = 4 };
	/* nothing held: loads equal, the first draw wins */
	const int idle[8] = { 0, 0, 2, 2, 0, 2, 2, 0 };
	/* each held, loads as active*256 over the weight: 4th (5,1), 2 at
	 * 256/3 first, 0 at 512/2 not less; 5th (2,5), 0 at 512/2, 2 at
	 * 512/3 less; 6th (5,1), 2 at 768/3 and 0 at 512/2 tie: the first;
	 * 7th (4,0), 2 at 1024/3, 0 at 512/2 less; 8th (2,5), 0 at 768/2,
	 * 2 at 1024/3 less */
	const int held[8] = { 0, 0, 2, 2, 2, 2, 0, 2 };
	struct fx f;

	if (!fx_open(&f, "twos", w, 3, &p))
		return;
	for (int k = 0; k < 8; k++)
		CHECK_EQ(fx_pick(&f, 0), idle[k]);
	fx_close(&f);
	if (!fx_open(&f, "twos", w, 3, &p))
		return;
	for (int k = 0; k < 8; k++) {
		int i = fx_pick(&f, 0);

		CHECK_EQ(i, held[k]);
		if (i >= 0)
			sched_conn_open(f.s, &f.srv[i]);
	}
	fx_close(&f);
}

/* With equal loads the pick is the first draw: server k has a chance
 * w_k / (W + 1), the first one (w_0 + 1) / (W + 1). */
TEST(twos_idle_proportions_are_ipvs_draws)
{
	const uint32_t w[4] = { 1, 2, 3, 4 };
	const double share[4] = { 2 / 11.0, 2 / 11.0, 3 / 11.0, 4 / 11.0 };
	struct sched_params p = { .seed = 99 };
	long count[4] = { 0 }, n = 220000;
	struct fx f;

	if (!fx_open(&f, "twos", w, 4, &p))
		return;
	for (long k = 0; k < n; k++) {
		int i = fx_pick(&f, 0);

		REQUIRE(i >= 0 && i < 4);
		count[i]++;
	}
	/* binomial sd is under 0.1 % of n: 1 % is ten of them */
	for (int i = 0; i < 4; i++)
		CHECK(count[i] > (share[i] - 0.01) * n && count[i] < (share[i] + 0.01) * n);
	fx_close(&f);
}

/* Under load (connections held, some ending) the active counts follow
 * the weights: the less loaded of two draws is taken. */
TEST(twos_loads_follow_weights)
{
	const uint32_t w[4] = { 1, 2, 3, 4 };
	struct sched_params p = { .seed = 5 };
	uint64_t x = 17;
	struct fx f;

	if (!fx_open(&f, "twos", w, 4, &p))
		return;
	for (int k = 0; k < 40000; k++) {
		int i = fx_pick(&f, 0);

		REQUIRE(i >= 0);
		sched_conn_open(f.s, &f.srv[i]);
		/* about 200 connections stay open */
		if (k >= 200) {
			size_t j;

			do
				j = fx_rand(&x) % 4;
			while (!f.srv[j].active);
			sched_conn_close(f.s, &f.srv[j], true);
		}
	}
	/* active/weight within a few connections of each other */
	for (int i = 0; i < 4; i++) {
		double per_w = (double)f.srv[i].active / w[i];

		CHECK(per_w > 10 && per_w < 30);
	}
	fx_close(&f);
}

TEST(twos_overloaded_and_skipped_are_never_drawn)
{
	const uint32_t w[3] = { 5, 1, 5 };
	struct sched_params p = { .seed = 3 };
	uint64_t skip = 1u << 2;
	struct sched_req req = { .skip = &skip };
	struct fx f;

	if (!fx_open(&f, "twos", w, 3, &p))
		return;
	f.srv[0].upper = 1;
	sched_server_changed(f.s, &f.srv[0]);
	sched_conn_open(f.s, &f.srv[0]); /* overloaded */
	for (int k = 0; k < 200; k++)
		CHECK_EQ(sched_pick(f.s, &req), 1);
	skip |= 1u << 1;
	CHECK_EQ(sched_pick(f.s, &req), -1);
	sched_conn_close(f.s, &f.srv[0], true);
	CHECK_EQ(sched_pick(f.s, &req), 0);
	fx_close(&f);
}

TEST(twos_sequences_match_ipvs)
{
	for (uint64_t seed = 1; seed <= 40; seed++)
		CHECK(ref_run("twos", ref_twos, seed, 3000) > 1000);
}

/* The Fenwick tree's search over many servers, some unavailable, against
 * the model's list walk. */
TEST(twos_large_set_matches_ipvs)
{
	static struct fx f;
	static struct ref_dest d[FX_MAX];
	struct sched_params p = { .seed = 11 };
	struct ref_rand rr = { .g = { .rng = 11 } };
	static uint32_t w[FX_MAX];
	uint64_t x = 5;

	for (int i = 0; i < FX_MAX; i++)
		w[i] = fx_rand(&x) % 4 ? (uint32_t)(fx_rand(&x) % 100) : 0;
	if (!fx_open(&f, "twos", w, 1000, &p))
		return;
	for (int k = 0; k < 20000 && !unit_failed_now; k++) {
		int got, want;

		ref_view(&f, NULL, d);
		want = ref_twos(d, 1000, &rr);
		got = fx_pick(&f, 0);
		CHECK_EQ(got, want);
		if (got >= 0)
			sched_conn_open(f.s, &f.srv[got]);
		if (k % 97 == 0) {
			struct sched_server *srv = &f.srv[fx_rand(&x) % 1000];

			srv->flags ^= SCHED_SRV_DOWN;
			sched_server_changed(f.s, srv);
		}
	}
	fx_close(&f);
}
