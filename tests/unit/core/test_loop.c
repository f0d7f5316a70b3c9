/* test_loop.c - the event loop: timers in order (heap under random arms,
 * re-arms and cancels), tasks posted from other threads, deferred work. */
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/util.h"
#include "unit.h"

/* Every test arms a watchdog: a loop that never stops fails instead of
 * hanging the suite. */
#define WATCHDOG_MS 5000

struct tm_rec {
	struct timer t;
	int id;
	int fired;
};

static struct loop *cur_loop;
static int order[4096], norder;
static bool watchdog_fired;
static uint64_t last_when;
static bool out_of_order;
static int expect_fires;

static void watchdog_cb(struct timer *t)
{
	watchdog_fired = true;
	loop_stop(cur_loop);
}

static void rec_cb(struct timer *t)
{
	struct tm_rec *r = container_of(t, struct tm_rec, t);

	r->fired++;
	if (t->when < last_when)
		out_of_order = true;
	last_when = t->when;
	if (t->when > loop_now(cur_loop))
		out_of_order = true; /* fired early */
	if (norder < (int)ARRAY_SIZE(order))
		order[norder++] = r->id;
	if (norder == expect_fires)
		loop_stop(cur_loop);
}

static struct loop *start(struct timer *watchdog)
{
	struct loop *l = loop_new();

	cur_loop = l;
	norder = 0;
	watchdog_fired = false;
	out_of_order = false;
	last_when = 0;
	expect_fires = -1;
	if (l) {
		memset(watchdog, 0, sizeof(*watchdog));
		watchdog->cb = watchdog_cb;
		timer_arm(l, watchdog, loop_now(l) + WATCHDOG_MS);
	}
	return l;
}

static void finish(struct loop *l, struct timer *watchdog)
{
	timer_cancel(l, watchdog);
	loop_free(l);
	cur_loop = NULL;
}

TEST(loop_timers_fire_in_order)
{
	struct timer wd;
	struct loop *l = start(&wd);
	struct tm_rec r[5] = { { .id = 0 } };
	static const int delay[5] = { 30, 10, 20, 0, 10 };
	uint64_t t0, t1;

	REQUIRE(l != NULL);
	t0 = loop_now(l);
	for (int i = 0; i < 5; i++) {
		r[i].id = i;
		r[i].t.cb = rec_cb;
		timer_arm(l, &r[i].t, t0 + (uint64_t)delay[i]);
		CHECK(timer_armed(&r[i].t));
	}
	expect_fires = 5;
	CHECK_EQ(loop_run(l), 0);
	t1 = now_ms();
	CHECK(!watchdog_fired);
	REQUIRE(norder == 5);
	CHECK_EQ(order[0], 3);
	CHECK(order[1] == 1 || order[1] == 4);
	CHECK(order[2] == 1 || order[2] == 4);
	CHECK_EQ(order[3], 2);
	CHECK_EQ(order[4], 0);
	CHECK(!out_of_order);
	CHECK(t1 >= t0 + 30);
	for (int i = 0; i < 5; i++) {
		CHECK_EQ(r[i].fired, 1);
		CHECK(!timer_armed(&r[i].t));
	}
	finish(l, &wd);
}

TEST(loop_timer_rearm_and_cancel)
{
	struct timer wd;
	struct loop *l = start(&wd);
	struct tm_rec a = { .id = 1 }, b = { .id = 2 }, c = { .id = 3 }, d = { .id = 4 };
	uint64_t t0;

	REQUIRE(l != NULL);
	t0 = loop_now(l);
	a.t.cb = b.t.cb = c.t.cb = d.t.cb = rec_cb;
	timer_arm(l, &a.t, t0 + 1000);
	timer_arm(l, &b.t, t0 + 5);
	timer_arm(l, &c.t, t0 + 10);
	timer_arm(l, &d.t, t0 + 15);
	timer_arm(l, &a.t, t0 + 1);   /* earlier: fires first */
	timer_arm(l, &b.t, t0 + 20);  /* later: fires last */
	timer_cancel(l, &c.t);        /* never fires */
	CHECK(!timer_armed(&c.t));
	timer_cancel(l, &c.t);        /* twice is harmless */
	expect_fires = 3;
	CHECK_EQ(loop_run(l), 0);
	CHECK(!watchdog_fired);
	REQUIRE(norder == 3);
	CHECK_EQ(order[0], 1);
	CHECK_EQ(order[1], 4);
	CHECK_EQ(order[2], 2);
	CHECK_EQ(a.fired, 1);
	CHECK_EQ(b.fired, 1);
	CHECK_EQ(c.fired, 0);
	CHECK_EQ(d.fired, 1);
	finish(l, &wd);
}

/* Heap correctness: 1000 random timers, half cancelled, a quarter
 * re-armed; the rest fire exactly once each, in order of their times. */
TEST(loop_timer_heap_random)
{
	enum { N = 1000 };
	struct timer wd;
	struct loop *l = start(&wd);
	struct tm_rec *r = calloc(N, sizeof(*r));
	bool *cancelled = calloc(N, sizeof(*cancelled));
	uint64_t t0;
	int live = 0;

	REQUIRE(l != NULL && r != NULL && cancelled != NULL);
	srand(12345);
	t0 = loop_now(l);
	for (int i = 0; i < N; i++) {
		r[i].id = i;
		r[i].t.cb = rec_cb;
		timer_arm(l, &r[i].t, t0 + (uint64_t)(rand() % 40));
	}
	for (int k = 0; k < N / 2; k++) {
		int i = rand() % N;

		if (cancelled[i]) {
			k--;
			continue;
		}
		cancelled[i] = true;
		timer_cancel(l, &r[i].t);
	}
	for (int k = 0; k < N / 4; k++) {
		int i = rand() % N;

		if (!cancelled[i])
			timer_arm(l, &r[i].t, t0 + (uint64_t)(rand() % 40));
	}
	for (int i = 0; i < N; i++) {
		CHECK_EQ(timer_armed(&r[i].t), !cancelled[i]);
		live += !cancelled[i];
	}
	CHECK_EQ(live, N / 2);
	expect_fires = live;
	CHECK_EQ(loop_run(l), 0);
	CHECK(!watchdog_fired);
	CHECK_EQ(norder, live);
	CHECK(!out_of_order);
	for (int i = 0; i < N; i++)
		if (r[i].fired != (cancelled[i] ? 0 : 1))
			unit_fail(__FILE__, __LINE__, "timer %d fired %d times (cancelled %d)",
				  i, r[i].fired, cancelled[i]);
	finish(l, &wd);
	free(r);
	free(cancelled);
}

/* The same with times spread over the whole past (all due at the first
 * iteration): distinct keys, so any heap misorder shows. */
TEST(loop_timer_heap_random_distinct)
{
	enum { N = 1000 };
	struct timer wd;
	struct loop *l = start(&wd);
	struct tm_rec *r = calloc(N, sizeof(*r));
	bool *cancelled = calloc(N, sizeof(*cancelled));
	uint64_t t0;
	int live = 0;

	REQUIRE(l != NULL && r != NULL && cancelled != NULL);
	srand(777);
	t0 = loop_now(l) + 1;
	for (int i = 0; i < N; i++) {
		r[i].id = i;
		r[i].t.cb = rec_cb;
		timer_arm(l, &r[i].t, (uint64_t)rand() % t0);
	}
	for (int k = 0; k < 3 * N; k++) {
		int i = rand() % N;

		switch (rand() % 3) {
		case 0:
			cancelled[i] = true;
			timer_cancel(l, &r[i].t);
			break;
		case 1:
			cancelled[i] = false;
			timer_arm(l, &r[i].t, (uint64_t)rand() % t0);
			break;
		default:
			if (!cancelled[i])
				timer_arm(l, &r[i].t, (uint64_t)rand() % t0);
		}
	}
	for (int i = 0; i < N; i++) {
		CHECK_EQ(timer_armed(&r[i].t), !cancelled[i]);
		live += !cancelled[i];
	}
	REQUIRE(live > 0);
	expect_fires = live;
	CHECK_EQ(loop_run(l), 0);
	CHECK(!watchdog_fired);
	CHECK_EQ(norder, live);
	CHECK(!out_of_order);
	for (int i = 0; i < N; i++)
		if (r[i].fired != (cancelled[i] ? 0 : 1))
			unit_fail(__FILE__, __LINE__, "timer %d fired %d times (cancelled %d)",
				  i, r[i].fired, cancelled[i]);
	finish(l, &wd);
	free(r);
	free(cancelled);
}

/* A timer may re-arm itself from its callback. */
static int self_count;

static void self_cb(struct timer *t)
{
	if (++self_count < 3)
		timer_arm(cur_loop, t, loop_now(cur_loop) + 2);
	else
		loop_stop(cur_loop);
}

TEST(loop_timer_rearms_itself)
{
	struct timer wd, t = { .cb = self_cb };
	struct loop *l = start(&wd);

	REQUIRE(l != NULL);
	self_count = 0;
	timer_arm(l, &t, loop_now(l));
	CHECK_EQ(loop_run(l), 0);
	CHECK(!watchdog_fired);
	CHECK_EQ(self_count, 3);
	CHECK(!timer_armed(&t));
	finish(l, &wd);
}

/* --- posted and deferred tasks ------------------------------------------------ */

static char trace[64];
static size_t ntrace;
static pthread_t loop_thread;
static bool ran_on_loop_thread;

static void note(char c)
{
	if (ntrace + 1 < sizeof(trace))
		trace[ntrace++] = c;
	trace[ntrace] = '\0';
}

static void stop_task(void *arg)
{
	ran_on_loop_thread = pthread_equal(pthread_self(), loop_thread);
	note('S');
	loop_stop(cur_loop);
}

static void *poster(void *arg)
{
	usleep(50 * 1000); /* the loop is asleep in epoll_wait by now */
	loop_post(arg, stop_task, NULL);
	return NULL;
}

TEST(loop_post_from_another_thread_wakes_the_loop)
{
	struct timer wd;
	struct loop *l = start(&wd);
	pthread_t th;
	uint64_t t0;

	REQUIRE(l != NULL);
	ntrace = 0;
	ran_on_loop_thread = false;
	loop_thread = pthread_self();
	t0 = now_ms();
	REQUIRE(pthread_create(&th, NULL, poster, l) == 0);
	CHECK_EQ(loop_run(l), 0);
	pthread_join(th, NULL);
	CHECK(!watchdog_fired);
	CHECK_STR(trace, "S");
	CHECK(ran_on_loop_thread);
	CHECK(now_ms() - t0 < WATCHDOG_MS);
	finish(l, &wd);
}

static int counted;

static void count_task(void *arg)
{
	if (++counted == 4000)
		loop_stop(cur_loop);
}

static void *count_poster(void *arg)
{
	for (int i = 0; i < 1000; i++)
		loop_post(arg, count_task, NULL);
	return NULL;
}

TEST(loop_post_many_threads_none_lost)
{
	struct timer wd;
	struct loop *l = start(&wd);
	pthread_t th[4];

	REQUIRE(l != NULL);
	counted = 0;
	for (int i = 0; i < 4; i++)
		REQUIRE(pthread_create(&th[i], NULL, count_poster, l) == 0);
	CHECK_EQ(loop_run(l), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	CHECK(!watchdog_fired);
	CHECK_EQ(counted, 4000);
	finish(l, &wd);
}

static void deferred_task(void *arg)
{
	note((char)(uintptr_t)arg);
	if ((char)(uintptr_t)arg == 'D')
		loop_stop(cur_loop);
}

static void post_a(void *arg)
{
	note('A');
	loop_defer(cur_loop, deferred_task, (void *)(uintptr_t)'D');
	loop_defer(cur_loop, deferred_task, (void *)(uintptr_t)'d');
}

static void post_b(void *arg)
{
	note('B');
}

/* Deferred work runs after the whole batch, in the order deferred. */
TEST(loop_defer_runs_after_the_batch)
{
	struct timer wd;
	struct loop *l = start(&wd);

	REQUIRE(l != NULL);
	ntrace = 0;
	trace[0] = '\0';
	REQUIRE(loop_post(l, post_a, NULL) == 0);
	REQUIRE(loop_post(l, post_b, NULL) == 0);
	CHECK_EQ(loop_run(l), 0);
	CHECK(!watchdog_fired);
	CHECK_STR(trace, "ABDd");
	finish(l, &wd);
}

static void timer_defers(struct timer *t)
{
	note('T');
	loop_defer(cur_loop, deferred_task, (void *)(uintptr_t)'D');
}

TEST(loop_defer_from_a_timer_runs_in_the_same_iteration)
{
	struct timer wd, t = { .cb = timer_defers };
	struct loop *l = start(&wd);

	REQUIRE(l != NULL);
	ntrace = 0;
	trace[0] = '\0';
	timer_arm(l, &t, loop_now(l));
	CHECK_EQ(loop_run(l), 0);
	CHECK(!watchdog_fired);
	CHECK_STR(trace, "TD");
	finish(l, &wd);
}

/* Flush hooks: run once after the batch that queued them (queueing twice
 * runs once), before deferred work; a cancelled one does not run. */
static struct loop_flush fl_x, fl_y;

static void flush_note(struct loop_flush *f)
{
	note(f == &fl_x ? 'X' : 'Y');
}

static void post_flushes(void *arg)
{
	note('P');
	loop_flush_queue(cur_loop, &fl_x);
	loop_flush_queue(cur_loop, &fl_x);
	loop_flush_queue(cur_loop, &fl_y);
	loop_flush_cancel(cur_loop, &fl_y);
	loop_defer(cur_loop, deferred_task, (void *)(uintptr_t)'D');
}

static void timer_flushes(struct timer *t)
{
	note('T');
	loop_flush_queue(cur_loop, &fl_y);
}

TEST(loop_flush_runs_once_after_the_batch)
{
	struct timer wd, t = { .cb = timer_flushes };
	struct loop *l = start(&wd);

	REQUIRE(l != NULL);
	ntrace = 0;
	trace[0] = '\0';
	fl_x = (struct loop_flush){ .fn = flush_note };
	fl_y = (struct loop_flush){ .fn = flush_note };
	REQUIRE(loop_post(l, post_flushes, NULL) == 0);
	CHECK_EQ(loop_run(l), 0);
	CHECK(!watchdog_fired);
	CHECK_STR(trace, "PXD");
	CHECK(!fl_x.queued && !fl_y.queued);
	/* from a timer: in the same iteration, after the timers */
	ntrace = 0;
	trace[0] = '\0';
	timer_arm(l, &t, loop_now(l));
	REQUIRE(loop_post(l, post_a, NULL) == 0);
	CHECK_EQ(loop_run(l), 0);
	CHECK(strchr(trace, 'Y') != NULL);
	CHECK(strchr(trace, 'T') < strchr(trace, 'Y'));
	finish(l, &wd);
}

static void free_note(void *arg)
{
	note((char)(uintptr_t)arg);
}

/* loop_free() runs what was posted or deferred but never run. */
TEST(loop_free_runs_pending_tasks)
{
	struct loop *l = loop_new();

	REQUIRE(l != NULL);
	ntrace = 0;
	trace[0] = '\0';
	REQUIRE(loop_post(l, free_note, (void *)(uintptr_t)'p') == 0);
	REQUIRE(loop_defer(l, free_note, (void *)(uintptr_t)'d') == 0);
	loop_free(l);
	CHECK_STR(trace, "pd");
}

/* --- io --------------------------------------------------------------------- */

static int io_hits;

static void pipe_cb(struct loop_io *io, uint32_t events)
{
	char b[16];

	io_hits++;
	while (read(io->fd, b, sizeof(b)) > 0)
		;
	loop_stop(cur_loop);
}

TEST(loop_io_readiness)
{
	struct timer wd;
	struct loop *l = start(&wd);
	struct loop_io io = { .cb = pipe_cb };
	int p[2];

	REQUIRE(l != NULL);
	REQUIRE(pipe2(p, O_NONBLOCK) == 0);
	io.fd = p[0];
	io_hits = 0;
	CHECK_EQ(loop_add(l, &io, EPOLLIN), 0);
	CHECK(loop_add(l, &io, EPOLLIN) < 0); /* twice: -EEXIST */
	REQUIRE(write(p[1], "x", 1) == 1);
	CHECK_EQ(loop_run(l), 0);
	CHECK(!watchdog_fired);
	CHECK_EQ(io_hits, 1);
	loop_del(l, &io);
	close(p[0]);
	close(p[1]);
	finish(l, &wd);
}
