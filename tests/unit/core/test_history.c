/* test_history.c - the dashboard's history ring: rates over the interval a
 * sample closes, one sample per tick, the oldest dropped when full, -Z. */
#include <stdlib.h>

#include "core/history.h"
#include "core/stats.h"
#include "unit.h"

static struct hist_in in_of(uint64_t req, uint64_t conns, uint64_t inb, uint64_t outb)
{
	struct hist_in in = { .tot = { .requests = req, .conns = conns, .inbytes = inb,
				       .outbytes = outb }, .p99_us = 1500, .active = 7 };
	return in;
}

TEST(history_rates_per_interval)
{
	struct hist_ring h = { 0 };
	struct hist_in in = in_of(100, 10, 1000, 5000);

	hist_push(&h, 1000, 1700000000000, &in);
	CHECK_EQ(h.n, 0); /* primed only: a rate needs two ticks */
	in = in_of(300, 30, 5000, 25000);
	hist_push(&h, 3000, 1700000002000, &in);
	REQUIRE(h.n == 1);
	CHECK_EQ(hist_at(&h, 0)->t_ms, 1700000002000);
	CHECK_EQ((long)hist_at(&h, 0)->rps, 100);
	CHECK_EQ((long)hist_at(&h, 0)->cps, 10);
	CHECK_EQ((long)hist_at(&h, 0)->inbps, 2000);
	CHECK_EQ((long)hist_at(&h, 0)->outbps, 10000);
	CHECK_EQ((long)(hist_at(&h, 0)->p99_ms * 10), 15);
	CHECK_EQ(hist_at(&h, 0)->active, 7);
	/* the same tick again (a server in two pools): no second sample */
	hist_push(&h, 3000, 1700000002000, &in);
	CHECK_EQ(h.n, 1);
	/* after -Z the totals may go back: no growth, not a huge number */
	in = in_of(0, 0, 0, 0);
	hist_push(&h, 5000, 1700000004000, &in);
	REQUIRE(h.n == 2);
	CHECK_EQ((long)hist_at(&h, 1)->rps, 0);
	CHECK_EQ((long)hist_at(&h, 1)->inbps, 0);
}

TEST(history_ring_keeps_the_newest)
{
	struct hist_ring *h = calloc(1, sizeof(*h));
	struct hist_in in;

	REQUIRE(h);
	for (uint64_t k = 0; k <= HIST_SAMPLES + 10; k++) {
		in = in_of(k * k, 0, 0, 0); /* k-th interval: 2k-1 requests in 2 s */
		hist_push(h, 2000 * k, 1000 * k, &in);
	}
	CHECK_EQ(h->n, HIST_SAMPLES);
	/* oldest first: the first 10 samples were pushed out */
	CHECK_EQ(hist_at(h, 0)->t_ms, 1000 * 11);
	CHECK_EQ(hist_at(h, HIST_SAMPLES - 1)->t_ms, 1000 * (HIST_SAMPLES + 10));
	for (uint32_t i = 0; i < HIST_SAMPLES; i++) {
		uint64_t k = 11 + i;

		CHECK_EQ((long)(hist_at(h, i)->rps * 2), (long)(2 * k - 1));
	}
	free(h);
}

TEST(history_stats_record)
{
	struct vs_stats s;

	REQUIRE(stats_init(&s, 2) == 0);
	weir_thread_id = 0;
	stats_mine(&s)->requests += 10;
	stats_record(&s, 2, 2000, 1, 3);
	REQUIRE(s.hist);
	CHECK_EQ(s.hist->n, 0);
	weir_thread_id = 1;
	stats_mine(&s)->requests += 40;
	stats_mine(&s)->inbytes += 4000;
	stats_record(&s, 2, 4000, 2, 5);
	REQUIRE(s.hist->n == 1);
	CHECK_EQ((long)hist_at(s.hist, 0)->rps, 20);
	CHECK_EQ((long)hist_at(s.hist, 0)->inbps, 2000);
	CHECK_EQ(hist_at(s.hist, 0)->active, 5);
	weir_thread_id = 0;
	stats_fini(&s);
}
