/* test_rate.c - the IPVS rate estimator (ip_vs_est.c): every 2 s tick the
 * average moves 1/4 of the way to the last interval's rate. */
#include "core/rate.h"
#include "core/util.h"
#include "unit.h"

static double dabs(double x)
{
	return x < 0 ? -x : x;
}

/* Feeds <ticks> intervals of <cps> connections, <pps> packets each way and
 * <bps> bytes each way per second. */
static void feed(struct rate_est *e, struct rate_totals *t, int ticks,
		 uint64_t cps, uint64_t pps, uint64_t bps)
{
	uint64_t secs = RATE_INTERVAL_MS / 1000;

	for (int i = 0; i < ticks; i++) {
		t->conns += cps * secs;
		t->inpkts += pps * secs;
		t->outpkts += pps * secs;
		t->inbytes += bps * secs;
		t->outbytes += bps * secs;
		rate_update(e, t);
	}
}

TEST(rate_first_update_only_primes)
{
	struct rate_est e = { 0 };
	struct rate_totals t = { .conns = 1000000, .inbytes = 5000000 };
	struct rate_value v;

	rate_update(&e, &t); /* totals since boot are not a rate */
	rate_read(&e, &v);
	CHECK_EQ(v.cps, 0);
	CHECK_EQ(v.inbps, 0);
}

/* After k ticks of a steady rate R the estimate is R(1 - (3/4)^k). */
TEST(rate_steady_load_converges)
{
	struct rate_est e = { 0 };
	struct rate_totals t = { 0 };
	struct rate_value v;

	double left = 1.0; /* (3/4)^k */

	rate_update(&e, &t);
	for (int k = 1; k <= 40; k++) {
		double want, want_b;

		left *= 0.75;
		want = 100.0 * (1.0 - left);
		want_b = 1000000.0 * (1.0 - left);

		feed(&e, &t, 1, 100, 50, 1000000);
		rate_read(&e, &v);
		if (dabs((double)v.cps - want) > 1.0)
			unit_fail(__FILE__, __LINE__, "tick %d: cps %llu, want %.2f", k,
				  (unsigned long long)v.cps, want);
		if (dabs((double)v.inbps - want_b) > 1.0 + want_b * 1e-6)
			unit_fail(__FILE__, __LINE__, "tick %d: inbps %llu, want %.2f", k,
				  (unsigned long long)v.inbps, want_b);
		if (v.inpps != v.outpps || v.inbps != v.outbps)
			unit_fail(__FILE__, __LINE__, "tick %d: in and out differ", k);
	}
	feed(&e, &t, 40, 100, 50, 1000000); /* bytes, scaled less, settle later */
	rate_read(&e, &v);
	CHECK_EQ(v.cps, 100);
	CHECK_EQ(v.inpps, 50);
	CHECK_EQ(v.outpps, 50);
	CHECK_EQ(v.inbps, 1000000);
	CHECK_EQ(v.outbps, 1000000);
}

TEST(rate_first_ticks_exact)
{
	struct rate_est e = { 0 };
	struct rate_totals t = { 0 };
	struct rate_value v;
	static const uint64_t want[] = { 25, 44, 58, 68, 76, 82 };

	rate_update(&e, &t);
	for (size_t k = 0; k < ARRAY_SIZE(want); k++) {
		feed(&e, &t, 1, 100, 0, 0);
		rate_read(&e, &v);
		CHECK_EQ(v.cps, want[k]);
	}
}

TEST(rate_decays_to_zero_when_idle)
{
	struct rate_est e = { 0 };
	struct rate_totals t = { 0 };
	struct rate_value v;

	rate_update(&e, &t);
	feed(&e, &t, 40, 100, 100, 100000);
	feed(&e, &t, 1, 0, 0, 0);
	rate_read(&e, &v);
	CHECK_EQ(v.cps, 75);
	feed(&e, &t, 200, 0, 0, 0);
	rate_read(&e, &v);
	CHECK_EQ(v.cps, 0);
	CHECK_EQ(v.inpps, 0);
	CHECK_EQ(v.inbps, 0);
	CHECK_EQ(e.cps, 0); /* all the way, not stuck a few units above */
	CHECK_EQ(e.inbps, 0);
}

/* IPVS rounds (x + 0x1FF) >> 10 for conns/packets and (x + 0xF) >> 5 for
 * bytes: just under one half rounds down, one half and above rounds up. */
TEST(rate_read_rounding)
{
	struct rate_est e = { 0 };
	struct rate_value v;

	e.cps = (3 << 10) + 512;    /* 3.5 */
	e.inpps = (3 << 10) + 513;  /* 3.501 */
	e.outpps = (3 << 10) + 511; /* 3.499 */
	e.inbps = (7 << 5) + 16;    /* 7.5 */
	e.outbps = (7 << 5) + 17;
	rate_read(&e, &v);
	CHECK_EQ(v.cps, 3);
	CHECK_EQ(v.inpps, 4);
	CHECK_EQ(v.outpps, 3);
	CHECK_EQ(v.inbps, 7);
	CHECK_EQ(v.outbps, 8);
}

/* After -Z the totals restart from zero: the next tick must not see a
 * huge negative delta wrapped around. */
TEST(rate_reset_forgets_history)
{
	struct rate_est e = { 0 };
	struct rate_totals t = { 0 }, zero = { 0 };
	struct rate_value v;

	rate_update(&e, &t);
	feed(&e, &t, 30, 1000, 1000, 1000);
	rate_reset(&e, &zero);
	rate_read(&e, &v);
	CHECK_EQ(v.cps, 0);
	CHECK_EQ(v.inbps, 0);
	t = zero;
	feed(&e, &t, 1, 100, 0, 0); /* the first tick after a reset counts */
	rate_read(&e, &v);
	CHECK_EQ(v.cps, 25);
	CHECK_EQ(v.inpps, 0);
}

TEST(rate_large_byte_rates)
{
	struct rate_est e = { 0 };
	struct rate_totals t = { 0 };
	struct rate_value v;

	rate_update(&e, &t);
	feed(&e, &t, 80, 0, 0, 10000000000ull); /* 10 GB/s */
	rate_read(&e, &v);
	CHECK(v.inbps > 9999999000ull && v.inbps <= 10000000000ull);
}

/* One counter's estimator: primes on its first total, then follows the
 * per-second rate as the whole estimator does. */
TEST(rate_one_follows_a_counter)
{
	struct rate_one e = { 0 };
	uint64_t total = 1000;

	rate_one_update(&e, total);
	CHECK_EQ(rate_one_read(&e), 0);
	for (int i = 0; i < 60; i++) {
		total += 200; /* 100 per second over 2 s */
		rate_one_update(&e, total);
	}
	CHECK_EQ(rate_one_read(&e), 100);
	for (int i = 0; i < 60; i++)
		rate_one_update(&e, total);
	CHECK_EQ(rate_one_read(&e), 0);
}
