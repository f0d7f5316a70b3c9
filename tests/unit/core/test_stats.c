/* test_stats.c - the numbers of a live table: the response-time histogram
 * (buckets, p99 over the window, moving average), per-thread counters summed
 * in stats_view, and -Z zeroing what stats_view shows. */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/config.h"
#include "core/log.h"
#include "core/table.h"
#include "unit.h"

/* --- buckets ---------------------------------------------------------------- */

TEST(stats_rt_bucket_values)
{
	static const struct { uint64_t us; unsigned b; uint64_t upper; } cases[] = {
		{ 0, 0, 1 }, { 1, 1, 2 }, { 2, 2, 3 }, { 3, 3, 4 },
		{ 4, 8, 5 }, { 5, 9, 6 }, { 7, 11, 8 }, { 8, 12, 10 }, { 9, 12, 10 },
		{ 10, 13, 12 }, { 15, 15, 16 }, { 16, 16, 20 },
		{ 100, 26, 112 }, { 1000, 39, 1024 }, { 1024, 40, 1280 },
		{ 10000, 52, 10240 }, { 1000000, 79, 1048576 },
		{ (1u << 24) - 1, 95, 1u << 24 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned b = rt_bucket(cases[i].us);

		if (b != cases[i].b)
			unit_fail(__FILE__, __LINE__, "rt_bucket(%llu) = %u, want %u",
				  (unsigned long long)cases[i].us, b, cases[i].b);
		else if (rt_bucket_upper(b) != cases[i].upper)
			unit_fail(__FILE__, __LINE__, "rt_bucket_upper(%u) = %llu, want %llu", b,
				  (unsigned long long)rt_bucket_upper(b),
				  (unsigned long long)cases[i].upper);
	}
	/* beyond about 17 s everything goes to the last bucket */
	CHECK_EQ(rt_bucket(1u << 24), RT_BUCKETS - 1);
	CHECK_EQ(rt_bucket(60000000), RT_BUCKETS - 1);
	CHECK_EQ(rt_bucket(UINT64_MAX), RT_BUCKETS - 1);
}

/* Monotonic; each value below its bucket's upper bound, which is the next
 * bucket's start, at most 25% above the value (from 4 us on). */
static int check_value(uint64_t us, unsigned *last_b)
{
	unsigned b = rt_bucket(us);
	uint64_t up;

	if (b < *last_b || b >= RT_BUCKETS) {
		unit_fail(__FILE__, __LINE__, "rt_bucket(%llu) = %u after %u",
			  (unsigned long long)us, b, *last_b);
		return 1;
	}
	*last_b = b;
	up = rt_bucket_upper(b);
	if (up < us || rt_bucket(up - 1) != b ||
	    (b < RT_BUCKETS - 1 && rt_bucket(up) <= b)) {
		unit_fail(__FILE__, __LINE__, "%llu in bucket %u with upper bound %llu",
			  (unsigned long long)us, b, (unsigned long long)up);
		return 1;
	}
	if (us >= 4 && (up - us) * 4 > us) {
		unit_fail(__FILE__, __LINE__, "%llu: upper bound %llu is more than 25%% above",
			  (unsigned long long)us, (unsigned long long)up);
		return 1;
	}
	return 0;
}

TEST(stats_rt_bucket_monotonic_and_bounded)
{
	unsigned last_b = 0;
	int bad = 0;

	for (uint64_t us = 0; us < 70000 && bad < 5; us++)
		bad += check_value(us, &last_b);
	for (uint64_t us = 70000; us < (1u << 24) && bad < 5; us += us / 97 + 1)
		bad += check_value(us, &last_b);
	CHECK_EQ(bad, 0);
	/* the upper bounds of the buckets values land in grow with them */
	{
		uint64_t prev = 0;

		last_b = 0;
		for (uint64_t us = 0; us < (1u << 24); us = us < 16 ? us + 1 : us + us / 8) {
			uint64_t up = rt_bucket_upper(rt_bucket(us));

			if (up < prev) {
				unit_fail(__FILE__, __LINE__, "upper bound %llu after %llu at %llu us",
					  (unsigned long long)up, (unsigned long long)prev,
					  (unsigned long long)us);
				break;
			}
			prev = up;
		}
	}
}

/* rt_bucket_upper() is documented for every bucket <b>: it must be defined
 * (no undefined shift) and grow with b for all RT_BUCKETS of them. Run in
 * a child, as UBSan stops the process on an undefined shift. */
TEST(stats_rt_bucket_upper_defined_for_every_bucket)
{
	pid_t pid;
	int status = 0;

	fflush(NULL);
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		uint64_t prev = 0;

		for (unsigned b = 0; b < RT_BUCKETS; b++) {
			uint64_t up = rt_bucket_upper(b);

			if (up < prev || up == 0)
				_exit(2);
			prev = up;
		}
		_exit(0);
	}
	REQUIRE(waitpid(pid, &status, 0) == pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		unit_fail(__FILE__, __LINE__, "rt_bucket_upper over 0..%d: child %s %d",
			  RT_BUCKETS - 1, WIFEXITED(status) ? "exited" : "killed by signal",
			  WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

/* --- a table to count on ----------------------------------------------------- */

struct st_fx {
	struct vs_table t;
	struct virtual_service *svc, *other;
	enum log_level saved_log;
};

static void st_close(struct st_fx *f)
{
	table_fini(&f->t);
	log_threshold = f->saved_log;
}

/* The table; on failure nothing is left open. */
static bool st_open(struct st_fx *f, int nthreads)
{
	static const char conf[] =
		"service tcp 192.0.2.1:80 {\n server 10.0.0.1;\n server 10.0.0.2;\n}\n"
		"service udp 192.0.2.1:53 {\n server 10.0.0.3;\n}\n";
	struct weir_config c;
	char err[CONFIG_ERR_MAX];
	int rc;

	memset(f, 0, sizeof(*f));
	table_init(&f->t, nthreads);
	f->saved_log = log_threshold;
	log_threshold = LOG_ERR;
	if (config_parse("t.conf", conf, strlen(conf), &c, err) != 0) {
		unit_fail(__FILE__, __LINE__, "config: %s", err);
		st_close(f);
		return false;
	}
	rc = table_apply(&f->t, &c, err);
	spec_free(&c);
	if (rc) {
		unit_fail(__FILE__, __LINE__, "table_apply: %s", err);
		st_close(f);
		return false;
	}
	f->svc = f->t.head;
	f->other = f->svc ? f->svc->next : NULL;
	if (f->svc && f->other && f->svc->nservers == 2)
		return true;
	st_close(f);
	return false;
}

static void observe_n(struct vs_stats *s, int n, uint64_t us)
{
	for (int i = 0; i < n; i++)
		stats_observe_rt(stats_mine(s), us);
}

static struct stats_view view_of(struct st_fx *f, const struct vs_stats *s)
{
	struct stats_view v;

	stats_view(s, f->t.nthreads, &v);
	return v;
}

static uint64_t tick_ms = 1000000;

static void tick(struct st_fx *f)
{
	tick_ms += RATE_INTERVAL_MS;
	table_tick(&f->t, tick_ms);
}

/* --- response times ------------------------------------------------------------ */

TEST(stats_observe_rt_sums_and_histogram)
{
	struct st_fx f;
	struct vs_counters *c;
	struct stats_view v;

	REQUIRE(st_open(&f, 1));
	c = stats_mine(&f.svc->servers[0]->stats);
	stats_observe_rt(c, 100);
	stats_observe_rt(c, 1000);
	stats_observe_rt(c, 1010);
	stats_observe_rt(c, 0);
	CHECK_EQ(c->resp_time_us, 2110);
	CHECK_EQ(c->resp_timed, 4);
	CHECK_EQ(c->rt_hist[0], 1);
	CHECK_EQ(c->rt_hist[26], 1);
	CHECK_EQ(c->rt_hist[39], 2);
	v = view_of(&f, &f.svc->servers[0]->stats);
	CHECK_EQ(v.rt_sum_us, 2110);
	CHECK_EQ(v.timed, 4);
	/* the other server and the service are apart */
	v = view_of(&f, &f.svc->servers[1]->stats);
	CHECK_EQ(v.timed, 0);
	v = view_of(&f, &f.svc->stats);
	CHECK_EQ(v.timed, 0);
	st_close(&f);
}

/* p99 = the upper bound of the bucket holding the 99th percentile of the
 * samples in the window; read at any time (the window moves at ticks). */
TEST(stats_p99_after_tick)
{
	struct st_fx f;
	struct vs_stats *s;

	REQUIRE(st_open(&f, 1));
	s = &f.svc->stats;
	tick(&f); /* the window starts here */
	CHECK_EQ(view_of(&f, s).p99_us, 0);
	observe_n(s, 99, 100);
	observe_n(s, 1, 10000);
	CHECK_EQ(view_of(&f, s).p99_us, 112); /* at once: 99 of 100 are <= 112 us */
	tick(&f);
	CHECK_EQ(view_of(&f, s).p99_us, 112);
	observe_n(s, 1, 10000);
	tick(&f);
	CHECK_EQ(view_of(&f, s).p99_us, 10240); /* 2 of 101: the 99th percentile moved */
	observe_n(s, 1000, 1000);
	tick(&f);
	CHECK_EQ(view_of(&f, s).p99_us, 1024);
	/* the server's own histogram is apart */
	CHECK_EQ(view_of(&f, &f.svc->servers[0]->stats).p99_us, 0);
	st_close(&f);
}

/* Samples leave the window after RT_WINDOW_SNAPS x RT_SNAP_TICKS ticks. */
TEST(stats_p99_window_slides)
{
	struct st_fx f;
	struct vs_stats *s;
	int ticks;

	REQUIRE(st_open(&f, 1));
	s = &f.svc->stats;
	tick(&f);
	observe_n(s, 50, 10000);
	for (ticks = 0; ticks < 200; ticks++) {
		tick(&f);
		if (view_of(&f, s).p99_us != 10240)
			break;
	}
	CHECK(ticks >= (RT_WINDOW_SNAPS - 1) * RT_SNAP_TICKS);
	CHECK(ticks <= RT_WINDOW_SNAPS * RT_SNAP_TICKS);
	CHECK_EQ(view_of(&f, s).p99_us, 0);
	st_close(&f);
}

/* Samples seen before a service's first tick are in the window too (they
 * are within the last minute). */
TEST(stats_p99_counts_samples_before_the_first_tick)
{
	struct st_fx f;
	struct vs_stats *s;

	REQUIRE(st_open(&f, 1));
	s = &f.svc->stats;
	observe_n(s, 100, 1000);
	tick(&f);
	CHECK_EQ(view_of(&f, s).p99_us, 1024);
	tick(&f);
	CHECK_EQ(view_of(&f, s).p99_us, 1024);
	st_close(&f);
}

TEST(stats_rt_ewma)
{
	struct st_fx f;
	struct vs_stats *s;
	struct stats_view v;

	REQUIRE(st_open(&f, 1));
	s = &f.svc->stats;
	observe_n(s, 100, 1000);
	tick(&f);
	CHECK_EQ(view_of(&f, s).rt_ewma_us, 1000);
	observe_n(s, 100, 2000);
	tick(&f);
	CHECK_EQ(view_of(&f, s).rt_ewma_us, 1250); /* a quarter of the way */
	tick(&f);
	CHECK_EQ(view_of(&f, s).rt_ewma_us, 1250); /* no sample: no change */
	v = view_of(&f, s);
	CHECK_EQ(v.rt_sum_us, 300000);
	CHECK_EQ(v.timed, 200);
	st_close(&f);
}

/* --- counters ---------------------------------------------------------------------- */

/* Adds to every counter of <s> in thread slot <k>. */
static void count_all(struct vs_stats *s, int k, uint64_t n)
{
	struct vs_counters *c = &s->pt[k];

	counter_add(&c->conns, n);
	counter_add(&c->inpkts, 2 * n);
	counter_add(&c->outpkts, 3 * n);
	counter_add(&c->inbytes, 1000 * n);
	counter_add(&c->outbytes, 5000 * n);
	counter_add(&c->requests, 4 * n);
	for (int i = 0; i < 6; i++)
		counter_add(&c->resp[i], (uint64_t)(i + 1) * n);
	counter_add(&c->retries, n);
	for (uint64_t i = 0; i < n; i++)
		stats_observe_rt(c, 500);
}

static int nonzero_fields(const struct stats_view *v)
{
	int n = 0;

	n += v->tot.conns != 0;
	n += v->tot.inpkts != 0;
	n += v->tot.outpkts != 0;
	n += v->tot.inbytes != 0;
	n += v->tot.outbytes != 0;
	n += v->tot.requests != 0;
	n += v->rate.cps != 0;
	n += v->rate.inpps != 0;
	n += v->rate.outpps != 0;
	n += v->rate.inbps != 0;
	n += v->rate.outbps != 0;
	n += v->rate.rps != 0;
	n += v->requests != 0;
	for (int i = 0; i < 6; i++)
		n += v->resp[i] != 0;
	n += v->retries != 0;
	n += v->rt_sum_us != 0;
	n += v->timed != 0;
	n += v->rps != 0;
	return n;
}

/* Every thread's slot is summed. */
TEST(stats_view_sums_the_threads)
{
	struct st_fx f;
	struct stats_view v;

	REQUIRE(st_open(&f, 3));
	count_all(&f.svc->stats, 0, 1);
	count_all(&f.svc->stats, 1, 10);
	count_all(&f.svc->stats, 2, 100);
	v = view_of(&f, &f.svc->stats);
	CHECK_EQ(v.tot.conns, 111);
	CHECK_EQ(v.tot.inpkts, 222);
	CHECK_EQ(v.tot.outpkts, 333);
	CHECK_EQ(v.tot.inbytes, 111000);
	CHECK_EQ(v.tot.outbytes, 555000);
	CHECK_EQ(v.tot.requests, 444);
	CHECK_EQ(v.requests, 444);
	for (int i = 0; i < 6; i++)
		CHECK_EQ(v.resp[i], 111 * (i + 1));
	CHECK_EQ(v.retries, 111);
	CHECK_EQ(v.timed, 111);
	CHECK_EQ(v.rt_sum_us, 111 * 500);
	st_close(&f);
}

/* -Z: every counter stats_view shows reads 0 afterwards, rates included,
 * and counts again from there. */
TEST(stats_zero_clears_every_counter)
{
	struct st_fx f;
	struct stats_view v;
	struct vs_stats *objs[4];

	REQUIRE(st_open(&f, 2));
	objs[0] = &f.svc->stats;
	objs[1] = &f.svc->servers[0]->stats;
	objs[2] = &f.svc->servers[1]->stats;
	objs[3] = &f.other->stats;
	for (int i = 0; i < 4; i++)
		count_all(objs[i], 1, 50);
	tick(&f);
	for (int i = 0; i < 4; i++)
		count_all(objs[i], 0, 500);
	tick(&f);
	for (int i = 0; i < 4; i++) {
		v = view_of(&f, objs[i]);
		if (nonzero_fields(&v) != 23)
			unit_fail(__FILE__, __LINE__, "object %d: %d fields counted before -Z", i,
				  nonzero_fields(&v));
	}
	/* one service: its servers too, not the other service */
	table_zero(&f.t, f.svc);
	for (int i = 0; i < 3; i++) {
		v = view_of(&f, objs[i]);
		if (nonzero_fields(&v) != 0)
			unit_fail(__FILE__, __LINE__, "object %d: %d fields left after -Z", i,
				  nonzero_fields(&v));
	}
	v = view_of(&f, objs[3]);
	CHECK_EQ(nonzero_fields(&v), 23);
	CHECK_EQ(v.tot.conns, 550);
	/* everything */
	table_zero(&f.t, NULL);
	v = view_of(&f, objs[3]);
	CHECK_EQ(nonzero_fields(&v), 0);
	/* counting goes on from zero */
	count_all(objs[1], 1, 7);
	v = view_of(&f, objs[1]);
	CHECK_EQ(v.tot.conns, 7);
	CHECK_EQ(v.tot.inbytes, 7000);
	CHECK_EQ(v.requests, 28);
	CHECK_EQ(v.resp[5], 42);
	CHECK_EQ(v.retries, 7);
	CHECK_EQ(v.timed, 7);
	CHECK_EQ(v.rt_sum_us, 3500);
	/* rates start over from the zeroing: 7 conns in one 2 s tick are
	 * 3.5/s, and the average goes a quarter of the way: 0.875, rounded */
	tick(&f);
	v = view_of(&f, objs[1]);
	CHECK_EQ(v.rate.cps, 1);
	CHECK_EQ(v.tot.conns, 7);
	st_close(&f);
}
