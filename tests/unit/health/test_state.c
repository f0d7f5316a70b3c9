/* test_state.c - a real server's state on a live table: active check
 * results counted against rise/fall, the admin state, the agent's words and
 * weights, slow start, passive ejection and its end in the tick, and what
 * the scheduler is then allowed to pick. Packet-mode services only, so no
 * socket is opened; health_sync does nothing without health_start. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <time.h>

#include "core/config.h"
#include "core/log.h"
#include "core/table.h"
#include "health/state.h"
#include "unit.h"

struct hs_fx {
	struct vs_table t;
	struct virtual_service *svc;
	enum log_level saved_log;
};

/* Applies <conf> to <f>'s table (opened by the first call). */
static bool fx_apply(struct hs_fx *f, const char *conf, int line)
{
	struct weir_config c;
	char err[CONFIG_ERR_MAX];
	int rc;

	if (config_parse("t.conf", conf, strlen(conf), &c, err) != 0) {
		unit_fail(__FILE__, line, "config refused: %s", err);
		return false;
	}
	rc = table_apply(&f->t, &c, err);
	spec_free(&c);
	if (rc) {
		unit_fail(__FILE__, line, "table_apply: %s", err);
		return false;
	}
	f->svc = f->t.head;
	return f->svc != NULL;
}

static void fx_close(struct hs_fx *f)
{
	table_fini(&f->t);
	log_threshold = f->saved_log;
}

/* A table made from <conf>; on failure nothing is left open. */
static bool fx_open(struct hs_fx *f, const char *conf, int line)
{
	memset(f, 0, sizeof(*f));
	table_init(&f->t, 1);
	f->saved_log = log_threshold;
	log_threshold = LOG_ERR; /* packet-mode services and state changes log */
	if (fx_apply(f, conf, line))
		return true;
	fx_close(f);
	return false;
}
#define FX_OPEN(f, conf) fx_open(f, conf, __LINE__)

/* REQUIRE for a test holding <f> open: closes it before leaving. */
#define FX_REQUIRE(f, cond)                                                  \
	do { if (!(cond)) { unit_fail(__FILE__, __LINE__, "%s", #cond);     \
			    fx_close(f); return; } } while (0)

/* The server of the first service at <addr> ("10.0.0.1:80"). */
static struct real_server *rs_at(struct hs_fx *f, const char *addr)
{
	struct weir_addr a;

	if (addr_parse(addr, true, &a) != 0)
		return NULL;
	for (size_t i = 0; i < f->svc->nservers; i++)
		if (addr_equal(&f->svc->servers[i]->addr, &a))
			return f->svc->servers[i];
	unit_fail(__FILE__, __LINE__, "no server %s", addr);
	return NULL;
}

/* rs_state_name under the lock, copied out. */
static const char *state_of(struct real_server *rs)
{
	static char buf[4][16];
	static int k;
	char *out = buf[k++ & 3];

	pthread_mutex_lock(&rs->svc->lock);
	snprintf(out, 16, "%s", rs_state_name(rs));
	pthread_mutex_unlock(&rs->svc->lock);
	return out;
}

static uint32_t flags_of(struct real_server *rs)
{
	uint32_t f;

	pthread_mutex_lock(&rs->svc->lock);
	f = rs->ss.flags;
	pthread_mutex_unlock(&rs->svc->lock);
	return f;
}

static uint32_t weight_of(struct real_server *rs)
{
	uint32_t w;

	pthread_mutex_lock(&rs->svc->lock);
	w = rs->ss.weight;
	pthread_mutex_unlock(&rs->svc->lock);
	return w;
}

/* rs_refresh_locked at <now>, with the lock; returns the weight. */
static uint32_t refresh_at(struct real_server *rs, uint64_t now)
{
	uint32_t w;

	pthread_mutex_lock(&rs->svc->lock);
	rs_refresh_locked(rs, now);
	w = rs->ss.weight;
	pthread_mutex_unlock(&rs->svc->lock);
	return w;
}

/* <n> picks from the service; counts[i] = how many went to servers[i]. */
static void picks(struct hs_fx *f, int n, int *counts)
{
	struct weir_addr client;

	addr_parse("198.51.100.7:40000", true, &client);
	memset(counts, 0, (f->svc->nservers + 1) * sizeof(*counts)); /* + "none" */
	for (int i = 0; i < n; i++) {
		struct real_server *rs = svc_schedule(f->svc, &client, now_ms(), NULL, 0, NULL);

		if (!rs) {
			counts[f->svc->nservers]++; /* the slot after the last: none */
			continue;
		}
		for (size_t k = 0; k < f->svc->nservers; k++)
			if (f->svc->servers[k] == rs)
				counts[k]++;
		svc_conn_close(rs, true, &client, now_ms());
	}
}

static bool check_fn(struct real_server *rs, const struct check_spec *c, bool pass)
{
	return health_check_done(rs, c, pass ? CHECK_PASS : CHECK_FAIL,
				 pass ? "connected" : "connection refused", 1500);
}

/* An agent line parsed and applied (ok = the agent answered). */
static void agent_says(struct real_server *rs, const char *line)
{
	struct agent_answer a;
	char err[128];

	if (agent_parse(line, strlen(line), &a, err) != 0) {
		unit_fail(__FILE__, __LINE__, "agent line '%s': %s", line, err);
		return;
	}
	health_agent_done(rs, true, &a, line);
}

#define ALL_FLAGS (SCHED_SRV_DOWN | SCHED_SRV_DRAIN | SCHED_SRV_MAINT)

/* --- the configured state ------------------------------------------------------ */

static const char four_servers[] =
	"service tcp 192.0.2.1:80 {\n"
	"    scheduler rr;\n"
	"    check tcp rise 2 fall 3;\n"
	"    server 10.0.0.1 weight 10;\n"
	"    server 10.0.0.2 weight 4 state drain;\n"
	"    server 10.0.0.3 state maint;\n"
	"    server 10.0.0.4 weight 0;\n"
	"}\n";

TEST(hstate_fresh_servers_follow_the_config)
{
	struct hs_fx f;
	struct real_server *a, *b, *c, *d;

	REQUIRE(FX_OPEN(&f, four_servers));
	a = rs_at(&f, "10.0.0.1:80");
	b = rs_at(&f, "10.0.0.2:80");
	c = rs_at(&f, "10.0.0.3:80");
	d = rs_at(&f, "10.0.0.4:80");
	FX_REQUIRE(&f, a && b && c && d);
	CHECK_EQ(flags_of(a) & ALL_FLAGS, 0);
	CHECK_EQ(weight_of(a), 10);
	CHECK_STR(state_of(a), "up");
	CHECK_EQ(flags_of(b) & ALL_FLAGS, SCHED_SRV_DRAIN);
	CHECK_EQ(weight_of(b), 4);
	CHECK_STR(state_of(b), "drain");
	CHECK_EQ(health_rs(b)->h.admin, ADMIN_DRAIN);
	CHECK_EQ(flags_of(c) & ALL_FLAGS, SCHED_SRV_MAINT);
	CHECK_EQ(weight_of(c), 1);
	CHECK_STR(state_of(c), "maint");
	CHECK_EQ(flags_of(d) & ALL_FLAGS, 0);
	CHECK_EQ(weight_of(d), 0);
	CHECK_STR(state_of(d), "quiesced");
	{
		int counts[5];

		picks(&f, 8, counts);
		CHECK_EQ(counts[0], 8); /* only the up one takes work */
		CHECK_EQ(counts[1] + counts[2] + counts[3] + counts[4], 0);
	}
	fx_close(&f);
}

/* A table edit changes the admin state; the scheduler follows at once. */
TEST(hstate_admin_state_by_table_edit)
{
#define EDIT_CONF "service tcp 192.0.2.1:80 {\n scheduler rr;\n server 10.0.0.1;\n" \
		  " server 10.0.0.2 state %s;\n}\n"
	static const struct {
		const char *state;
		uint32_t flags;
		const char *name;
		int picked;   /* of 10 picks */
	} steps[] = {
		{ "ready", 0, "up", 5 },
		{ "drain", SCHED_SRV_DRAIN, "drain", 0 },
		{ "maint", SCHED_SRV_MAINT, "maint", 0 },
		{ "maintenance", SCHED_SRV_MAINT, "maint", 0 },
		{ "ready", 0, "up", 5 },
	};
	struct hs_fx f;
	char conf[256];

	snprintf(conf, sizeof(conf), EDIT_CONF, "ready");
	REQUIRE(FX_OPEN(&f, conf));
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct real_server *b;
		int counts[3];

		snprintf(conf, sizeof(conf), EDIT_CONF, steps[i].state);
		FX_REQUIRE(&f, fx_apply(&f, conf, __LINE__));
		b = rs_at(&f, "10.0.0.2:80");
		FX_REQUIRE(&f, b);
		CHECK_EQ(flags_of(b) & ALL_FLAGS, steps[i].flags);
		CHECK_STR(state_of(b), steps[i].name);
		picks(&f, 10, counts);
		if (counts[1] != steps[i].picked)
			unit_fail(__FILE__, __LINE__, "state %s: picked %d times, want %d",
				  steps[i].state, counts[1], steps[i].picked);
		CHECK_EQ(counts[2], 0);
	}
	fx_close(&f);
#undef EDIT_CONF
}

/* --- active checks ------------------------------------------------------------- */

static uint64_t wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

TEST(hstate_check_fall_then_rise)
{
	struct hs_fx f;
	struct real_server *a;
	const struct check_spec *c;
	uint64_t before, after;

	REQUIRE(FX_OPEN(&f, four_servers));
	a = rs_at(&f, "10.0.0.1:80");
	FX_REQUIRE(&f, a);
	c = &f.svc->spec.check;
	FX_REQUIRE(&f, c->fall == 3 && c->rise == 2);
	CHECK_EQ(health_rs(a)->h.check_ms, 0); /* no check yet */
	before = wall_now();
	/* failures not in a row do not count */
	CHECK(check_fn(a, c, false));
	CHECK(check_fn(a, c, false));
	CHECK(!check_fn(a, c, true));
	CHECK(check_fn(a, c, false));
	CHECK(check_fn(a, c, false));
	CHECK_STR(state_of(a), "up");
	CHECK_EQ(flags_of(a) & SCHED_SRV_DOWN, 0);
	CHECK_STR(health_rs(a)->h.check_last, "connection refused");
	CHECK_EQ(health_rs(a)->h.check_us, 1500);
	/* the time of the last check: wall clock, taken as it ended */
	after = wall_now();
	CHECK(health_rs(a)->h.check_ms >= before && health_rs(a)->h.check_ms <= after);
	/* the third in a row */
	CHECK(!check_fn(a, c, false));
	CHECK_STR(state_of(a), "down");
	CHECK_EQ(flags_of(a) & ALL_FLAGS, SCHED_SRV_DOWN);
	CHECK_STR(health_rs(a)->h.reason, "check failed: connection refused");
	CHECK(health_rs(a)->h.changed_ms > 0);
	/* more failures change nothing */
	CHECK(!check_fn(a, c, false));
	CHECK_STR(state_of(a), "down");
	/* a pass, a failure: still down; then two passes */
	CHECK(check_fn(a, c, true));
	CHECK_STR(state_of(a), "down");
	CHECK(!check_fn(a, c, false));
	CHECK(check_fn(a, c, true));
	CHECK_STR(state_of(a), "down");
	CHECK(!check_fn(a, c, true));
	CHECK_STR(state_of(a), "up");
	CHECK_EQ(flags_of(a) & ALL_FLAGS, 0);
	CHECK_EQ(weight_of(a), 10);
	CHECK_STR(health_rs(a)->h.reason, "check passed: connected");
	CHECK(!check_fn(a, c, true));
	CHECK_STR(state_of(a), "up");
	fx_close(&f);
}

/* rise and fall come from the spec given with the result. */
TEST(hstate_check_counts_use_the_given_spec)
{
	struct hs_fx f;
	struct real_server *a;
	struct check_spec c;

	REQUIRE(FX_OPEN(&f, four_servers));
	a = rs_at(&f, "10.0.0.1:80");
	FX_REQUIRE(&f, a);
	c = f.svc->spec.check;
	c.rise = 1;
	c.fall = 1;
	CHECK(!check_fn(a, &c, false));
	CHECK_STR(state_of(a), "down");
	CHECK(!check_fn(a, &c, true));
	CHECK_STR(state_of(a), "up");
	c.fall = 5;
	for (int i = 0; i < 4; i++)
		CHECK(check_fn(a, &c, false));
	CHECK_STR(state_of(a), "up");
	CHECK(!check_fn(a, &c, false));
	CHECK_STR(state_of(a), "down");
	fx_close(&f);
}

/* A down server is not picked; back up, it is again. */
TEST(hstate_down_server_is_not_scheduled)
{
	struct hs_fx f;
	struct real_server *a;
	int counts[5];

	REQUIRE(FX_OPEN(&f, "service tcp 192.0.2.1:80 {\n scheduler rr;\n check tcp;\n"
			" server 10.0.0.1;\n server 10.0.0.2;\n}\n"));
	a = rs_at(&f, "10.0.0.1:80");
	FX_REQUIRE(&f, a);
	picks(&f, 10, counts);
	CHECK_EQ(counts[0], 5);
	CHECK_EQ(counts[1], 5);
	for (int i = 0; i < 3; i++)
		check_fn(a, &f.svc->spec.check, false);
	picks(&f, 10, counts);
	CHECK_EQ(counts[0], 0);
	CHECK_EQ(counts[1], 10);
	for (int i = 0; i < 2; i++)
		check_fn(a, &f.svc->spec.check, true);
	picks(&f, 10, counts);
	CHECK_EQ(counts[0], 5);
	CHECK_EQ(counts[1], 5);
	/* both down: nothing to pick */
	for (int i = 0; i < 3; i++) {
		check_fn(a, &f.svc->spec.check, false);
		check_fn(f.svc->servers[1], &f.svc->spec.check, false);
	}
	picks(&f, 4, counts);
	CHECK_EQ(counts[2], 4);
	fx_close(&f);
}

/* The drain signal holds a server out until it has been down and up again
 * (it restarted) or the operator says ready. */
TEST(hstate_drain_signal)
{
	struct hs_fx f;
	struct real_server *a;
	const struct check_spec *c;

	REQUIRE(FX_OPEN(&f, four_servers));
	a = rs_at(&f, "10.0.0.1:80");
	FX_REQUIRE(&f, a);
	c = &f.svc->spec.check;
	CHECK(!health_check_done(a, c, CHECK_DRAINING, "HTTP 503", 10));
	CHECK_EQ(flags_of(a) & ALL_FLAGS, SCHED_SRV_DRAIN);
	CHECK_STR(state_of(a), "drain");
	CHECK_STR(health_rs(a)->h.reason, "check answered the drain signal (HTTP 503)");
	/* passing checks while up do not end it */
	check_fn(a, c, true);
	check_fn(a, c, true);
	check_fn(a, c, true);
	CHECK_STR(state_of(a), "drain");
	/* down, then up: it restarted */
	for (int i = 0; i < 3; i++)
		check_fn(a, c, false);
	CHECK_STR(state_of(a), "down");
	CHECK_EQ(flags_of(a) & ALL_FLAGS, SCHED_SRV_DOWN | SCHED_SRV_DRAIN);
	check_fn(a, c, true);
	check_fn(a, c, true);
	CHECK_STR(state_of(a), "up");
	CHECK_EQ(flags_of(a) & ALL_FLAGS, 0);
	/* from live traffic, then by hand */
	svc_server_drain(a);
	CHECK_STR(state_of(a), "drain");
	CHECK_STR(health_rs(a)->h.reason, "answered the drain signal");
	svc_server_drain(a);
	CHECK_STR(state_of(a), "drain");
	health_server_ready(a);
	CHECK_STR(state_of(a), "up");
	CHECK_EQ(flags_of(a) & ALL_FLAGS, 0);
	/* the drain signal resets the counts in a row */
	check_fn(a, c, false);
	check_fn(a, c, false);
	health_check_done(a, c, CHECK_DRAINING, "HTTP 503", 10);
	check_fn(a, c, false);
	CHECK_EQ(flags_of(a) & SCHED_SRV_DOWN, 0);
	fx_close(&f);
}

/* --- the agent ----------------------------------------------------------------- */

struct agent_case {
	const char *line;
	uint8_t state;
	int32_t pct, weight;
};

TEST(hstate_agent_parse_words)
{
	static const struct agent_case good[] = {
		{ "up", AGENT_UP, -1, -1 },
		{ "ready", AGENT_UP, -1, -1 },
		{ "drain", AGENT_DRAIN, -1, -1 },
		{ "down", AGENT_DOWN, -1, -1 },
		{ "fail", AGENT_DOWN, -1, -1 },
		{ "failed", AGENT_DOWN, -1, -1 },
		{ "stopped", AGENT_DOWN, -1, -1 },
		{ "maint", AGENT_MAINT, -1, -1 },
		{ "UP", AGENT_UP, -1, -1 },
		{ "Drain", AGENT_DRAIN, -1, -1 },
		{ "MAINT\r\n", AGENT_MAINT, -1, -1 },
		{ "up 75%", AGENT_UP, 75, -1 },
		{ "ready,100%", AGENT_UP, 100, -1 },
		{ "75%", AGENT_NONE, 75, -1 },
		{ "0%", AGENT_NONE, 0, -1 },
		{ "1000%", AGENT_NONE, 1000, -1 },
		{ "weight 40", AGENT_NONE, -1, 40 },
		{ "WEIGHT 40", AGENT_NONE, -1, 40 },
		{ "weight,40", AGENT_NONE, -1, 40 },
		{ "40", AGENT_NONE, -1, 40 },
		{ "0", AGENT_NONE, -1, 0 },
		{ "65535", AGENT_NONE, -1, 65535 },
		{ "weight 0", AGENT_NONE, -1, 0 },
		{ " \t up , 10% \r\n", AGENT_UP, 10, -1 },
		{ "drain,,weight\t7\n", AGENT_DRAIN, -1, 7 },
		{ "up down", AGENT_DOWN, -1, -1 },
		{ "50% 60%", AGENT_NONE, 60, -1 },
		{ "up 50% weight 7", AGENT_UP, 50, 7 },
	};
	static const struct { const char *line; const char *err; } bad[] = {
		{ "", "an empty answer" },
		{ " ,\t\r\n", "an empty answer" },
		{ "bogus", "unknown word 'bogus'" },
		{ "Bogus", "unknown word 'bogus'" },
		{ "up bogus", "unknown word 'bogus'" },
		{ "-5", "unknown word '-5'" },
		{ "+5", "unknown word '+5'" },
		{ "up%", "unknown word 'up%'" },
		{ "weight", "'weight' without a number" },
		{ "up weight", "'weight' without a number" },
		{ "weight x", "'x' is not a weight (0..65535) or a percentage" },
		{ "weight 50%", "'50%' is not a weight (0..65535) or a percentage" },
		{ "weight weight 5", "'weight' is not a weight (0..65535) or a percentage" },
		{ "65536", "'65536' is not a weight (0..65535) or a percentage" },
		{ "weight 99999999999999999999",
		  "'99999999999999999999' is not a weight (0..65535) or a percentage" },
		{ "1001%", "'1001%' is not a weight (0..65535) or a percentage" },
		{ "5x", "'5x' is not a weight (0..65535) or a percentage" },
		{ "50%%", "'50%%' is not a weight (0..65535) or a percentage" },
		{ "abcdefghijklmnopqrstuvwxyz01234", /* 31 characters: not too long */
		  "unknown word 'abcdefghijklmnopqrstuvwxyz01234'" },
		{ "abcdefghijklmnopqrstuvwxyz012345", "a word longer than 31 characters" },
		{ "up abcdefghijklmnopqrstuvwxyz0123456789", "a word longer than 31 characters" },
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct agent_answer a;
		char err[128] = "";
		int rc = agent_parse(good[i].line, strlen(good[i].line), &a, err);

		if (rc != 0) {
			unit_fail(__FILE__, __LINE__, "'%s' refused: %s", good[i].line, err);
			continue;
		}
		if (a.state != good[i].state || a.pct != good[i].pct || a.weight != good[i].weight)
			unit_fail(__FILE__, __LINE__, "'%s': state %u pct %d weight %d, want %u %d %d",
				  good[i].line, a.state, a.pct, a.weight, good[i].state, good[i].pct,
				  good[i].weight);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct agent_answer a, untouched;
		char err[128] = "";
		int rc;

		memset(&a, 0x5a, sizeof(a));
		untouched = a;
		rc = agent_parse(bad[i].line, strlen(bad[i].line), &a, err);
		if (rc != -EINVAL)
			unit_fail(__FILE__, __LINE__, "'%s': rc %d, want -EINVAL", bad[i].line, rc);
		else if (strcmp(err, bad[i].err) != 0)
			unit_fail(__FILE__, __LINE__, "'%s': \"%s\", want \"%s\"", bad[i].line, err,
				  bad[i].err);
		if (memcmp(&a, &untouched, sizeof(a)) != 0)
			unit_fail(__FILE__, __LINE__, "'%s': output written on error", bad[i].line);
	}
}

/* Only <len> bytes are read; a NUL inside is refused. */
TEST(hstate_agent_parse_length)
{
	struct agent_answer a;
	char err[128];

	REQUIRE(agent_parse("up 50%", 2, &a, err) == 0);
	CHECK_EQ(a.state, AGENT_UP);
	CHECK_EQ(a.pct, -1);
	REQUIRE(agent_parse("drain 50%", 8, &a, err) == 0);
	CHECK_EQ(a.state, AGENT_DRAIN);
	CHECK_EQ(a.pct, -1);
	CHECK_EQ(a.weight, 50); /* "50" without its '%' */
	CHECK_EQ(agent_parse("up", 0, &a, err), -EINVAL);
	CHECK_STR(err, "an empty answer");
	CHECK_EQ(agent_parse("up\0down", 7, &a, err), -EINVAL);
}

TEST(hstate_agent_states)
{
	static const struct { const char *line; uint32_t flags; const char *name; } steps[] = {
		{ "drain", SCHED_SRV_DRAIN, "drain" },
		{ "down", SCHED_SRV_DOWN, "down" },
		{ "maint", SCHED_SRV_MAINT, "maint" },
		{ "up", 0, "up" },
		{ "stopped", SCHED_SRV_DOWN, "down" },
		{ "75%", SCHED_SRV_DOWN, "down" },     /* a weight alone keeps the state */
		{ "ready", 0, "up" },
	};
	struct hs_fx f;
	struct real_server *a;

	REQUIRE(FX_OPEN(&f, four_servers));
	a = rs_at(&f, "10.0.0.1:80");
	FX_REQUIRE(&f, a);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		agent_says(a, steps[i].line);
		if ((flags_of(a) & ALL_FLAGS) != steps[i].flags)
			unit_fail(__FILE__, __LINE__, "after '%s': flags %#x, want %#x", steps[i].line,
				  flags_of(a) & ALL_FLAGS, steps[i].flags);
		if (strcmp(state_of(a), steps[i].name) != 0)
			unit_fail(__FILE__, __LINE__, "after '%s': %s, want %s", steps[i].line,
				  state_of(a), steps[i].name);
		CHECK_STR(health_rs(a)->h.agent_last, steps[i].line);
	}
	/* an agent that cannot be reached changes nothing */
	{
		struct agent_answer down = { AGENT_DOWN, 10, -1, -1 };

		health_agent_done(a, false, &down, "connection refused");
		CHECK_STR(state_of(a), "up");
		CHECK_EQ(weight_of(a), 8);
		CHECK_STR(health_rs(a)->h.agent_last, "connection refused");
	}
	/* the agent and the operator both hold it out */
	agent_says(a, "drain");
	{
		struct real_server *b = rs_at(&f, "10.0.0.2:80"); /* state drain */

		FX_REQUIRE(&f, b);
		agent_says(b, "maint");
		CHECK_EQ(flags_of(b) & ALL_FLAGS, SCHED_SRV_DRAIN | SCHED_SRV_MAINT);
		CHECK_STR(state_of(b), "maint");
		agent_says(b, "up");
		CHECK_EQ(flags_of(b) & ALL_FLAGS, SCHED_SRV_DRAIN); /* still drained by hand */
	}
	fx_close(&f);
}

TEST(hstate_agent_weights)
{
	static const struct { const char *line; uint32_t weight; const char *name; } steps[] = {
		{ "50%", 5, "up" },
		{ "75%", 8, "up" },          /* 7.5 rounds to 8 */
		{ "1%", 1, "up" },           /* a little still takes work */
		{ "0%", 0, "quiesced" },
		{ "1000%", 100, "up" },
		{ "weight 40", 40, "up" },
		{ "100%", 10, "up" },        /* a percentage ends an absolute weight */
		{ "3", 3, "up" },
		{ "weight 0", 0, "quiesced" },
		{ "up 100%", 10, "up" },
		{ "up 50% weight 7", 7, "up" },
		{ "65535", 65535, "up" },
	};
	struct hs_fx f;
	struct real_server *a;

	REQUIRE(FX_OPEN(&f, four_servers));
	a = rs_at(&f, "10.0.0.1:80");
	FX_REQUIRE(&f, a);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		agent_says(a, steps[i].line);
		if (weight_of(a) != steps[i].weight)
			unit_fail(__FILE__, __LINE__, "after '%s': weight %u, want %u", steps[i].line,
				  weight_of(a), steps[i].weight);
		if (strcmp(state_of(a), steps[i].name) != 0)
			unit_fail(__FILE__, __LINE__, "after '%s': %s, want %s", steps[i].line,
				  state_of(a), steps[i].name);
		CHECK_EQ(health_rs(a)->h.weight, 10); /* the configured weight stays */
	}
	fx_close(&f);
}

/* Percentages of big weights stop at 65535; of weight 0 stay 0. */
TEST(hstate_agent_weight_limits)
{
	struct hs_fx f;
	struct real_server *a, *d;

	REQUIRE(FX_OPEN(&f, "service tcp 192.0.2.1:80 {\n server 10.0.0.1 weight 40000;\n"
			" server 10.0.0.4 weight 0;\n}\n"));
	a = rs_at(&f, "10.0.0.1:80");
	d = rs_at(&f, "10.0.0.4:80");
	FX_REQUIRE(&f, a && d);
	agent_says(a, "1000%");
	CHECK_EQ(weight_of(a), 65535);
	agent_says(a, "200%");
	CHECK_EQ(weight_of(a), 65535);
	agent_says(a, "150%");
	CHECK_EQ(weight_of(a), 60000);
	agent_says(d, "1000%");
	CHECK_EQ(weight_of(d), 0);
	CHECK_STR(state_of(d), "quiesced");
	agent_says(d, "weight 5");
	CHECK_EQ(weight_of(d), 5);
	CHECK_STR(state_of(d), "up");
	fx_close(&f);
}

/* The scheduler sees the agent's weights. */
TEST(hstate_agent_weight_reaches_the_scheduler)
{
	struct hs_fx f;
	struct real_server *a;
	int counts[3];

	REQUIRE(FX_OPEN(&f, "service tcp 192.0.2.1:80 {\n scheduler wrr;\n"
			" server 10.0.0.1 weight 3;\n server 10.0.0.2 weight 1;\n}\n"));
	a = rs_at(&f, "10.0.0.1:80");
	FX_REQUIRE(&f, a);
	picks(&f, 40, counts);
	CHECK_EQ(counts[0], 30);
	CHECK_EQ(counts[1], 10);
	agent_says(a, "weight 1");
	picks(&f, 40, counts);
	CHECK_EQ(counts[0], 20);
	CHECK_EQ(counts[1], 20);
	agent_says(a, "0%");
	picks(&f, 40, counts);
	CHECK_EQ(counts[0], 0);
	CHECK_EQ(counts[1], 40);
	fx_close(&f);
}

/* --- slow start ---------------------------------------------------------------- */

static const char slow_conf[] =
	"service tcp 192.0.2.1:80 {\n"
	"    check tcp rise 1 fall 1;\n"
	"    slow_start 10s;\n"
	"    server 10.0.0.1 weight 10;\n"
	"    server 10.0.0.2 weight 0;\n"
	"}\n";

TEST(hstate_slow_start_ramps_after_down)
{
	struct hs_fx f;
	struct real_server *a;
	uint64_t t0;
	uint32_t last = 0;

	REQUIRE(FX_OPEN(&f, slow_conf));
	a = rs_at(&f, "10.0.0.1:80");
	FX_REQUIRE(&f, a);
	CHECK_EQ(weight_of(a), 10); /* a new server starts at full weight */
	CHECK_EQ(health_rs(a)->h.ramp_start, 0);
	check_fn(a, &f.svc->spec.check, false);
	CHECK_STR(state_of(a), "down");
	CHECK_EQ(health_rs(a)->h.ramp_start, 0);
	check_fn(a, &f.svc->spec.check, true);
	CHECK_STR(state_of(a), "up");
	t0 = health_rs(a)->h.ramp_start;
	FX_REQUIRE(&f, t0 != 0);
	CHECK(t0 <= now_ms());
	CHECK(weight_of(a) >= 1 && weight_of(a) <= 1 + (uint32_t)((now_ms() - t0) / 1000));
	CHECK(atomic_load(&health_svc(f.svc)->busy));
	CHECK_EQ(refresh_at(a, t0), 1);
	CHECK_EQ(refresh_at(a, t0 + 999), 1);
	CHECK_EQ(refresh_at(a, t0 + 1000), 1);
	CHECK_EQ(refresh_at(a, t0 + 2500), 2);
	CHECK_EQ(refresh_at(a, t0 + 5000), 5);
	CHECK_EQ(refresh_at(a, t0 + 9999), 9);
	CHECK_STR(state_of(a), "up");
	/* linear, never 0, never above the weight */
	for (uint64_t t = 0; t < 10000; t += 50) {
		uint32_t w = refresh_at(a, t0 + t);

		if (w < last || w < 1 || w > 10 || w != MAX(1, 10 * t / 10000)) {
			unit_fail(__FILE__, __LINE__, "at +%llums weight %u (before %u)",
				  (unsigned long long)t, w, last);
			break;
		}
		last = w;
	}
	/* the tick steps it; at the end, full weight and no more ramp */
	health_tick(&f.t, t0 + 7500);
	CHECK_EQ(weight_of(a), 7);
	CHECK(atomic_load(&health_svc(f.svc)->busy));
	health_tick(&f.t, t0 + 10000);
	CHECK_EQ(weight_of(a), 10);
	CHECK_EQ(health_rs(a)->h.ramp_start, 0);
	CHECK(!atomic_load(&health_svc(f.svc)->busy));
	CHECK_EQ(refresh_at(a, t0 + 20000), 10);
	fx_close(&f);
}

/* The agent's weight is what ramps. */
TEST(hstate_slow_start_ramps_the_agent_weight)
{
	struct hs_fx f;
	struct real_server *a;
	uint64_t t0;

	REQUIRE(FX_OPEN(&f, slow_conf));
	a = rs_at(&f, "10.0.0.1:80");
	FX_REQUIRE(&f, a);
	agent_says(a, "weight 100");
	agent_says(a, "down");
	CHECK_STR(state_of(a), "down");
	agent_says(a, "up");
	t0 = health_rs(a)->h.ramp_start;
	FX_REQUIRE(&f, t0 != 0);
	CHECK_EQ(refresh_at(a, t0 + 2500), 25);
	CHECK_EQ(refresh_at(a, t0 + 5000), 50);
	CHECK_EQ(refresh_at(a, t0 + 10000), 100);
	fx_close(&f);
}

/* Back from maintenance (a table edit) it ramps too; weight 0 stays 0;
 * without slow_start the full weight comes at once. */
TEST(hstate_slow_start_after_maint_and_without)
{
	static const char maint[] =
		"service tcp 192.0.2.1:80 {\n slow_start 4s;\n"
		" server 10.0.0.1 weight 8 state maint;\n server 10.0.0.2 weight 0 state maint;\n}\n";
	static const char ready[] =
		"service tcp 192.0.2.1:80 {\n slow_start 4s;\n"
		" server 10.0.0.1 weight 8 state ready;\n server 10.0.0.2 weight 0 state ready;\n}\n";
	static const char ready_no_ramp[] =
		"service tcp 192.0.2.1:80 {\n"
		" server 10.0.0.1 weight 8 state ready;\n server 10.0.0.2 weight 0 state ready;\n}\n";
	struct hs_fx f;
	struct real_server *a, *d;
	uint64_t t0;

	REQUIRE(FX_OPEN(&f, maint));
	FX_REQUIRE(&f, fx_apply(&f, ready, __LINE__));
	a = rs_at(&f, "10.0.0.1:80");
	d = rs_at(&f, "10.0.0.2:80");
	FX_REQUIRE(&f, a && d);
	CHECK_STR(state_of(a), "up");
	t0 = health_rs(a)->h.ramp_start;
	FX_REQUIRE(&f, t0 != 0);
	CHECK(weight_of(a) >= 1 && weight_of(a) < 8);
	CHECK_EQ(refresh_at(a, t0 + 1000), 2);
	CHECK_EQ(refresh_at(a, t0 + 3999), 7);
	CHECK_EQ(refresh_at(a, t0 + 4000), 8);
	CHECK_EQ(weight_of(d), 0);
	CHECK_STR(state_of(d), "quiesced");
	CHECK_EQ(refresh_at(d, health_rs(d)->h.ramp_start + 1000), 0);

	FX_REQUIRE(&f, fx_apply(&f, maint, __LINE__));
	CHECK_STR(state_of(a), "maint");
	FX_REQUIRE(&f, fx_apply(&f, ready_no_ramp, __LINE__));
	CHECK_STR(state_of(a), "up");
	CHECK_EQ(weight_of(a), 8);
	CHECK_EQ(health_rs(a)->h.ramp_start, 0);
	fx_close(&f);
}

/* --- passive checks ------------------------------------------------------------ */

static const char outlier_conf[] =
	"service tcp 192.0.2.1:80 {\n"
	"    scheduler rr;\n"
	"    outlier errors 3 eject 1s max_eject 4s max_ejected 50%;\n"
	"    server 10.0.0.1;\n"
	"    server 10.0.0.2;\n"
	"    server 10.0.0.3;\n"
	"    server 10.0.0.4;\n"
	"}\n";

static void fail_n(struct real_server *rs, int n)
{
	for (int i = 0; i < n; i++)
		health_passive(rs, false);
}

TEST(hstate_passive_ejects_after_errors_in_a_row)
{
	struct hs_fx f;
	struct real_server *a;
	uint64_t before, after;
	int counts[5];

	REQUIRE(FX_OPEN(&f, outlier_conf));
	a = rs_at(&f, "10.0.0.1:80");
	FX_REQUIRE(&f, a);
	fail_n(a, 2);
	CHECK_EQ(atomic_load(&health_rs(a)->fails_in_row), 2);
	health_passive(a, true);
	CHECK_EQ(atomic_load(&health_rs(a)->fails_in_row), 0);
	fail_n(a, 2);
	CHECK_STR(state_of(a), "up");
	CHECK_EQ(health_rs(a)->h.ejected_until, 0);
	before = now_ms();
	health_passive(a, false);
	after = now_ms();
	CHECK_STR(state_of(a), "ejected");
	CHECK_EQ(flags_of(a) & ALL_FLAGS, SCHED_SRV_DOWN);
	CHECK(health_rs(a)->h.ejected_until >= before + 1000 && health_rs(a)->h.ejected_until <= after + 1000);
	CHECK_EQ(health_rs(a)->h.ejections, 1);
	CHECK_EQ(atomic_load(&health_rs(a)->fails_in_row), 0);
	CHECK_STR(health_rs(a)->h.reason, "ejected for 1000 ms after 3 failures in a row");
	CHECK(atomic_load(&health_svc(f.svc)->busy));
	picks(&f, 9, counts);
	CHECK_EQ(counts[0], 0);
	CHECK_EQ(counts[1] + counts[2] + counts[3], 9);
	/* more failures while ejected do not extend it */
	{
		uint64_t until = health_rs(a)->h.ejected_until;

		fail_n(a, 6);
		CHECK_EQ(health_rs(a)->h.ejected_until, until);
		CHECK_EQ(health_rs(a)->h.ejections, 1);
	}
	fx_close(&f);
}

/* At most max_ejected of the servers out at once, always at least one. */
TEST(hstate_passive_ejection_cap)
{
	static const char one_pct[] =
		"service tcp 192.0.2.1:80 {\n outlier errors 1 max_ejected 1%;\n"
		" server 10.0.0.1;\n server 10.0.0.2;\n server 10.0.0.3;\n}\n";
	static const char alone[] =
		"service tcp 192.0.2.1:80 {\n outlier errors 2;\n server 10.0.0.1;\n}\n";
	struct hs_fx f;
	struct real_server *rs[4];

	REQUIRE(FX_OPEN(&f, outlier_conf));
	rs[0] = rs_at(&f, "10.0.0.1:80");
	rs[1] = rs_at(&f, "10.0.0.2:80");
	rs[2] = rs_at(&f, "10.0.0.3:80");
	rs[3] = rs_at(&f, "10.0.0.4:80");
	FX_REQUIRE(&f, rs[0] && rs[1] && rs[2] && rs[3]);
	for (int i = 0; i < 4; i++)
		fail_n(rs[i], 10);
	CHECK_STR(state_of(rs[0]), "ejected");
	CHECK_STR(state_of(rs[1]), "ejected");
	CHECK_STR(state_of(rs[2]), "up"); /* 50% of 4 */
	CHECK_STR(state_of(rs[3]), "up");
	CHECK_EQ(health_rs(rs[2])->h.ejections, 0);
	fx_close(&f);

	REQUIRE(FX_OPEN(&f, one_pct));
	rs[0] = rs_at(&f, "10.0.0.1:80");
	rs[1] = rs_at(&f, "10.0.0.2:80");
	FX_REQUIRE(&f, rs[0] && rs[1]);
	fail_n(rs[0], 1);
	fail_n(rs[1], 1);
	CHECK_STR(state_of(rs[0]), "ejected");
	CHECK_STR(state_of(rs[1]), "up");
	fx_close(&f);

	REQUIRE(FX_OPEN(&f, alone));
	rs[0] = rs_at(&f, "10.0.0.1:80");
	FX_REQUIRE(&f, rs[0]);
	fail_n(rs[0], 1);
	CHECK_STR(state_of(rs[0]), "up");
	fail_n(rs[0], 1);
	CHECK_STR(state_of(rs[0]), "ejected");
	fx_close(&f);
}

TEST(hstate_passive_off_does_nothing)
{
	struct hs_fx f;
	struct real_server *a;

	REQUIRE(FX_OPEN(&f, four_servers));
	a = rs_at(&f, "10.0.0.1:80");
	FX_REQUIRE(&f, a);
	fail_n(a, 100);
	CHECK_STR(state_of(a), "up");
	CHECK_EQ(atomic_load(&health_rs(a)->fails_in_row), 0);
	CHECK_EQ(health_rs(a)->h.ejected_until, 0);
	fx_close(&f);
}

/* The tick ends an ejection once now reaches its end. */
TEST(hstate_ejection_ends_in_the_tick)
{
	struct hs_fx f;
	struct real_server *a;
	uint64_t until;

	REQUIRE(FX_OPEN(&f, outlier_conf));
	a = rs_at(&f, "10.0.0.1:80");
	FX_REQUIRE(&f, a);
	fail_n(a, 3);
	until = health_rs(a)->h.ejected_until;
	FX_REQUIRE(&f, until != 0);
	health_tick(&f.t, until - 1);
	CHECK_STR(state_of(a), "ejected");
	CHECK_EQ(health_rs(a)->h.ejected_until, until);
	CHECK(atomic_load(&health_svc(f.svc)->busy));
	health_tick(&f.t, until);
	CHECK_STR(state_of(a), "up");
	CHECK_EQ(flags_of(a) & ALL_FLAGS, 0);
	CHECK_EQ(health_rs(a)->h.ejected_until, 0);
	CHECK_EQ(health_rs(a)->h.back_ms, until);
	CHECK_STR(health_rs(a)->h.reason, "ejection over");
	CHECK(!atomic_load(&health_svc(f.svc)->busy)); /* nothing left to step */
	fx_close(&f);
}

/* With slow_start, a server back from an ejection ramps up from the tick. */
TEST(hstate_ejection_end_starts_slow_start)
{
	struct hs_fx f;
	struct real_server *a;
	uint64_t until;

	REQUIRE(FX_OPEN(&f, "service tcp 192.0.2.1:80 {\n outlier errors 1;\n slow_start 10s;\n"
			" server 10.0.0.1 weight 10;\n server 10.0.0.2 weight 10;\n}\n"));
	a = rs_at(&f, "10.0.0.1:80");
	FX_REQUIRE(&f, a);
	fail_n(a, 1);
	until = health_rs(a)->h.ejected_until;
	FX_REQUIRE(&f, until != 0);
	health_tick(&f.t, until + 5);
	CHECK_STR(state_of(a), "up");
	CHECK_EQ(health_rs(a)->h.ramp_start, until + 5);
	CHECK_EQ(weight_of(a), 1);
	CHECK(atomic_load(&health_svc(f.svc)->busy));
	health_tick(&f.t, until + 5 + 3000);
	CHECK_EQ(weight_of(a), 3);
	health_tick(&f.t, until + 5 + 10000);
	CHECK_EQ(weight_of(a), 10);
	CHECK(!atomic_load(&health_svc(f.svc)->busy));
	fx_close(&f);
}

/* Ejections in a row last eject x n, at most max_eject; a server that
 * behaved for max_eject starts over. */
TEST(hstate_ejection_grows_then_starts_over)
{
	static const uint32_t want[] = { 1000, 2000, 3000, 4000, 4000 };
	struct hs_fx f;
	struct real_server *a;

	REQUIRE(FX_OPEN(&f, outlier_conf));
	a = rs_at(&f, "10.0.0.1:80");
	FX_REQUIRE(&f, a);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		uint64_t before = now_ms(), after;

		fail_n(a, 3);
		after = now_ms();
		if (health_rs(a)->h.ejected_until < before + want[i] || health_rs(a)->h.ejected_until > after + want[i])
			unit_fail(__FILE__, __LINE__, "ejection %zu: until %llu, want %u ms after %llu",
				  i + 1, (unsigned long long)health_rs(a)->h.ejected_until, want[i],
				  (unsigned long long)before);
		CHECK_EQ(health_rs(a)->h.ejections, i + 1);
		/* time passes: the ejection is over now */
		pthread_mutex_lock(&f.svc->lock);
		health_rs(a)->h.ejected_until = now_ms();
		pthread_mutex_unlock(&f.svc->lock);
		health_tick(&f.t, now_ms());
		CHECK_STR(state_of(a), "up");
	}
	/* it behaved for longer than max_eject (4s) */
	pthread_mutex_lock(&f.svc->lock);
	health_rs(a)->h.back_ms = now_ms() - 4001;
	pthread_mutex_unlock(&f.svc->lock);
	{
		uint64_t before = now_ms(), after;

		fail_n(a, 3);
		after = now_ms();
		CHECK(health_rs(a)->h.ejected_until >= before + 1000 && health_rs(a)->h.ejected_until <= after + 1000);
		CHECK_EQ(health_rs(a)->h.ejections, 1);
	}
	fx_close(&f);
}

/* `weirctl server ... ready` forgets an ejection and the drain signal. */
TEST(hstate_server_ready_forgets_ejection)
{
	struct hs_fx f;
	struct real_server *a;

	REQUIRE(FX_OPEN(&f, outlier_conf));
	a = rs_at(&f, "10.0.0.1:80");
	FX_REQUIRE(&f, a);
	fail_n(a, 3);
	svc_server_drain(a);
	CHECK_STR(state_of(a), "ejected");
	fail_n(a, 2);
	health_server_ready(a);
	CHECK_STR(state_of(a), "up");
	CHECK_EQ(flags_of(a) & ALL_FLAGS, 0);
	CHECK_EQ(health_rs(a)->h.ejected_until, 0);
	CHECK_EQ(health_rs(a)->h.ejections, 0);
	CHECK_EQ(atomic_load(&health_rs(a)->fails_in_row), 0);
	fail_n(a, 2);
	CHECK_STR(state_of(a), "up"); /* the count started over */
	fx_close(&f);
}

/* --- names --------------------------------------------------------------------- */

/* maint, then ejected, down, drain, quiesced, up. */
TEST(hstate_state_name_precedence)
{
	static const struct {
		uint8_t admin, agent;
		bool down, drain_signal, ejected;
		uint32_t agent_weight;
		uint16_t agent_pct;
		const char *want;
	} cases[] = {
		{ ADMIN_UNSET, AGENT_NONE, false, false, false, 0, 100, "up" },
		{ ADMIN_MAINT, AGENT_NONE, true, true, true, 0, 100, "maint" },
		{ ADMIN_UNSET, AGENT_MAINT, true, false, false, 0, 100, "maint" },
		{ ADMIN_DRAIN, AGENT_NONE, true, false, true, 0, 100, "ejected" },
		{ ADMIN_DRAIN, AGENT_NONE, true, false, false, 0, 100, "down" },
		{ ADMIN_UNSET, AGENT_DOWN, false, true, false, 0, 100, "down" },
		{ ADMIN_DRAIN, AGENT_NONE, false, false, false, 0, 0, "drain" },
		{ ADMIN_READY, AGENT_DRAIN, false, false, false, 0, 100, "drain" },
		{ ADMIN_UNSET, AGENT_NONE, false, true, false, 0, 100, "drain" },
		{ ADMIN_READY, AGENT_UP, false, false, false, 0, 0, "quiesced" },
		{ ADMIN_READY, AGENT_UP, false, false, false, 2, 100, "up" },
	};
	struct hs_fx f;
	struct real_server *a;

	REQUIRE(FX_OPEN(&f, four_servers));
	a = rs_at(&f, "10.0.0.1:80");
	FX_REQUIRE(&f, a);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got;

		pthread_mutex_lock(&f.svc->lock);
		health_rs(a)->h.admin = cases[i].admin;
		health_rs(a)->h.agent = cases[i].agent;
		health_rs(a)->h.down = cases[i].down;
		health_rs(a)->h.drain_signal = cases[i].drain_signal;
		health_rs(a)->h.ejected_until = cases[i].ejected ? now_ms() + 60000 : 0;
		health_rs(a)->h.agent_weight = cases[i].agent_weight;
		health_rs(a)->h.agent_pct = cases[i].agent_pct;
		rs_refresh_locked(a, now_ms());
		got = rs_state_name(a);
		if (strcmp(got, cases[i].want) != 0)
			unit_fail(__FILE__, __LINE__, "case %zu: %s, want %s", i, got, cases[i].want);
		pthread_mutex_unlock(&f.svc->lock);
	}
	fx_close(&f);
}

/* weir's "conns N": the connections the agent reports, alone or with the
 * other words; the server's load_reported follows. */
TEST(hstate_agent_parse_conns)
{
	static const struct { const char *line; int32_t conns, weight; uint8_t state; } good[] = {
		{ "conns 12", 12, -1, AGENT_NONE },
		{ "up conns 0", 0, -1, AGENT_UP },
		{ "CONNS,7 weight 3", 7, 3, AGENT_NONE },
		{ "up 50%", -1, -1, AGENT_UP },
	};
	static const struct { const char *line; const char *err; } bad[] = {
		{ "conns", "'conns' without a number" },
		{ "up conns", "'conns' without a number" },
		{ "conns x", "'x' is not a number of connections" },
		{ "conns -1", "'-1' is not a number of connections" },
		{ "conns 5%", "'5%' is not a number of connections" },
		{ "conns 99999999999", "'99999999999' is not a number of connections" },
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct agent_answer a;
		char err[128] = "";

		if (agent_parse(good[i].line, strlen(good[i].line), &a, err) != 0) {
			unit_fail(__FILE__, __LINE__, "'%s' refused: %s", good[i].line, err);
			continue;
		}
		if (a.conns != good[i].conns || a.weight != good[i].weight ||
		    a.state != good[i].state)
			unit_fail(__FILE__, __LINE__, "'%s': conns %d weight %d state %u",
				  good[i].line, a.conns, a.weight, a.state);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct agent_answer a;
		char err[128] = "";

		CHECK_EQ(agent_parse(bad[i].line, strlen(bad[i].line), &a, err), -EINVAL);
		CHECK_STR(err, bad[i].err);
	}
}
