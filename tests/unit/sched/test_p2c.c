/* test_p2c.c - power of two choices and least response time. */
#include "fixture.h"

TEST(p2c_roughly_even)
{
	struct fx f;
	struct sched_params p = { .seed = 1 };
	long count[10] = { 0 };

	if (!fx_open(&f, "p2c", NULL, 10, &p))
		return;
	for (int k = 0; k < 100000; k++)
		count[fx_pick(&f, 0)]++;
	for (int i = 0; i < 10; i++)
		CHECK(count[i] > 9700 && count[i] < 10300);
	fx_close(&f);
}

TEST(p2c_avoids_the_loaded)
{
	struct fx f;
	struct sched_params p = { .seed = 2 };

	if (!fx_open(&f, "p2c", NULL, 5, &p))
		return;
	for (int c = 0; c < 10; c++)
		sched_conn_open(f.s, &f.srv[3]);
	for (int k = 0; k < 10000; k++)
		CHECK(fx_pick(&f, 0) != 3); /* it always meets a lighter one */
	fx_close(&f);
}

/* With connections held, the spread between servers stays small. */
TEST(p2c_balances_under_load)
{
	struct fx f;
	struct sched_params p = { .seed = 3 };
	uint64_t x = 9;
	uint32_t lo = UINT32_MAX, hi = 0;

	if (!fx_open(&f, "p2c", NULL, 20, &p))
		return;
	for (int k = 0; k < 20000; k++) {
		int i = fx_pick(&f, 0);

		sched_conn_open(f.s, &f.srv[i]);
		if (fx_rand(&x) % 3 == 0) {
			size_t j = fx_rand(&x) % 20;

			sched_conn_close(f.s, &f.srv[j], true);
		}
	}
	for (int i = 0; i < 20; i++) {
		lo = f.srv[i].active < lo ? f.srv[i].active : lo;
		hi = f.srv[i].active > hi ? f.srv[i].active : hi;
	}
	CHECK(hi - lo <= 8);
	fx_close(&f);
}

TEST(p2c_seeded_and_single)
{
	struct fx a, b;
	struct sched_params p = { .seed = 99 };

	if (!fx_open(&a, "p2c", NULL, 50, &p) || !fx_open(&b, "p2c", NULL, 50, &p))
		return;
	for (int k = 0; k < 1000; k++)
		CHECK_EQ(fx_pick(&a, 0), fx_pick(&b, 0));
	fx_close(&a);
	fx_close(&b);
	if (!fx_open(&a, "p2c", NULL, 1, &p))
		return;
	CHECK_EQ(fx_pick(&a, 0), 0);
	fx_close(&a);
}

TEST(lrt_prefers_fast)
{
	struct fx f;
	int count[2] = { 0 };

	if (!fx_open(&f, "lrt", NULL, 2, NULL))
		return;
	sched_observe_rtt(f.s, &f.srv[0], 10000000, 0);
	sched_observe_rtt(f.s, &f.srv[1], 1000000, 0);
	for (int k = 0; k < 1000; k++)
		count[fx_pick(&f, 0)]++;
	CHECK_EQ(count[1], 1000);
	/* ten in flight on the fast one: 1 ms * 11 > 10 ms */
	for (int c = 0; c < 10; c++)
		sched_conn_open(f.s, &f.srv[1]);
	for (int k = 0; k < 100; k++)
		CHECK_EQ(fx_pick(&f, 0), 0);
	fx_close(&f);
}

TEST(lrt_peak_ewma)
{
	struct fx f;
	struct sched_server *a;

	if (!fx_open(&f, "lrt", NULL, 1, NULL))
		return;
	a = &f.srv[0];
	sched_observe_rtt(f.s, a, 1000, 0);
	CHECK_EQ(a->rtt_ewma_ns, 1000);
	sched_observe_rtt(f.s, a, 5000, 10); /* peak: jumps at once */
	CHECK_EQ(a->rtt_ewma_ns, 5000);
	sched_observe_rtt(f.s, a, 1000, 10); /* no time passed: no move */
	CHECK_EQ(a->rtt_ewma_ns, 5000);
	/* one time constant (10 s): 5000/e + 1000*(1 - 1/e) = 2471.5 */
	sched_observe_rtt(f.s, a, 1000, 10010);
	CHECK(a->rtt_ewma_ns >= 2471 && a->rtt_ewma_ns <= 2472);
	CHECK_EQ(a->rtt_stamp_ms, 10010);
	/* long quiet: converges on the sample */
	sched_observe_rtt(f.s, a, 1000, 10010 + 1000000);
	CHECK_EQ(a->rtt_ewma_ns, 1000);
	fx_close(&f);
}

TEST(lrt_decay_and_unknown_servers)
{
	struct fx f;
	struct sched_params p = { .lrt_decay_ms = 1000 };

	if (!fx_open(&f, "lrt", NULL, 2, &p))
		return;
	/* a: slow long ago; b: never measured, idle: cost 0 wins */
	sched_observe_rtt(f.s, &f.srv[0], 50000000, 0);
	CHECK_EQ(fx_pick(&f, 0), 1);
	/* b busy without a measurement: Finagle's penalty */
	sched_conn_open(f.s, &f.srv[1]);
	CHECK_EQ(fx_pick(&f, 0), 0);
	/* b measured fast, a's old sample decays towards 0 as time passes */
	sched_observe_rtt(f.s, &f.srv[1], 1000000, 0);
	CHECK_EQ(fx_pick(&f, 0), 1);
	CHECK_EQ(fx_pick(&f, 5000), 1);   /* a: 50 ms * e^-5 = 0.34 ms vs 2 ms */
	sched_observe_rtt(f.s, &f.srv[1], 1000000, 20000);
	CHECK_EQ(fx_pick(&f, 20000), 0);  /* a: ~0 */
	fx_close(&f);
}

/* A server overloaded by its threshold leaves the draw and comes back. */
TEST(p2c_overload_leaves_and_returns)
{
	struct fx f;
	struct sched_params p = { .seed = 5 };
	int seen = 0;

	if (!fx_open(&f, "p2c", NULL, 3, &p))
		return;
	f.srv[0].upper = 1;
	sched_server_changed(f.s, &f.srv[0]);
	sched_conn_open(f.s, &f.srv[0]);
	for (int k = 0; k < 1000; k++)
		CHECK(fx_pick(&f, 0) != 0);
	sched_conn_close(f.s, &f.srv[0], true);
	for (int k = 0; k < 1000; k++)
		seen += fx_pick(&f, 0) == 0;
	CHECK(seen > 200);
	fx_close(&f);
}
