/* test_fo.c - weighted failover against IPVS's ip_vs_fo.c: the highest
 * weight that may take work, the first in list order among equals. */
#include "ipvs_ref.h"

/* Hand-derived from ip_vs_fo_schedule(). */
TEST(fo_highest_weight_then_the_next)
{
	struct fx f;
	const uint32_t w[4] = { 2, 5, 5, 1 };

	if (!fx_open(&f, "fo", w, 4, NULL))
		return;
	/* 1 and 2 tie at 5: the first in list order, whatever its load */
	for (int k = 0; k < 5; k++) {
		CHECK_EQ(fx_pick(&f, 0), 1);
		sched_conn_open(f.s, &f.srv[1]);
	}
	f.srv[1].flags |= SCHED_SRV_DRAIN;
	sched_server_changed(f.s, &f.srv[1]);
	CHECK_EQ(fx_pick(&f, 0), 2);
	f.srv[2].flags |= SCHED_SRV_DOWN;
	sched_server_changed(f.s, &f.srv[2]);
	CHECK_EQ(fx_pick(&f, 0), 0);
	f.srv[0].weight = 0; /* quiesced */
	sched_server_changed(f.s, &f.srv[0]);
	CHECK_EQ(fx_pick(&f, 0), 3);
	f.srv[3].flags |= SCHED_SRV_MAINT;
	sched_server_changed(f.s, &f.srv[3]);
	CHECK_EQ(fx_pick(&f, 0), -1);
	/* the first to come back with the highest weight takes it all */
	f.srv[1].flags &= ~SCHED_SRV_DRAIN;
	sched_server_changed(f.s, &f.srv[1]);
	CHECK_EQ(fx_pick(&f, 0), 1);
	for (int k = 0; k < 5; k++)
		sched_conn_close(f.s, &f.srv[1], true);
	fx_close(&f);
}

/* An upper threshold (-x) overloads the leader: the next takes over until
 * it is back under its lower one. */
TEST(fo_overloaded_leader_fails_over)
{
	struct fx f;
	const uint32_t w[3] = { 1, 3, 2 };

	if (!fx_open(&f, "fo", w, 3, NULL))
		return;
	f.srv[1].upper = 2;
	sched_server_changed(f.s, &f.srv[1]);
	CHECK_EQ(fx_pick(&f, 0), 1);
	sched_conn_open(f.s, &f.srv[1]);
	CHECK_EQ(fx_pick(&f, 0), 1);
	sched_conn_open(f.s, &f.srv[1]);
	CHECK_EQ(fx_pick(&f, 0), 2);     /* 2 >= upper: overloaded */
	sched_conn_close(f.s, &f.srv[1], true);
	CHECK_EQ(fx_pick(&f, 0), 1);     /* 1 < 3/4 of 2: clear */
	sched_conn_close(f.s, &f.srv[1], true);
	fx_close(&f);
}

/* A retry skips the servers tried: the next highest weight. */
TEST(fo_retry_takes_the_next)
{
	struct fx f;
	const uint32_t w[3] = { 1, 3, 2 };
	uint64_t skip = 1u << 1;
	struct sched_req req = { .skip = &skip };

	if (!fx_open(&f, "fo", w, 3, NULL))
		return;
	CHECK_EQ(sched_pick(f.s, &req), 2);
	skip |= 1u << 2;
	CHECK_EQ(sched_pick(f.s, &req), 0);
	skip |= 1u << 0;
	CHECK_EQ(sched_pick(f.s, &req), -1);
	CHECK_EQ(fx_pick(&f, 0), 1);
	fx_close(&f);
}

TEST(fo_sequences_match_ipvs)
{
	for (uint64_t seed = 1; seed <= 40; seed++)
		CHECK(ref_run("fo", ref_fo, seed, 3000) > 1000);
}
