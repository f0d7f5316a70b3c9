/* test_sched.c - the registry, the server set, connection accounting and
 * the IPVS overload thresholds, and the rules every algorithm obeys. */
#include "fixture.h"
#include "sched/sched_int.h"

static void count_ops(const struct sched_ops *ops, void *arg)
{
	(*(int *)arg)++;
	CHECK(sched_find(ops->name) == ops);
	CHECK(ops->descr && ops->descr[0]);
}

TEST(sched_registry)
{
	int n = 0;
	static const char *const names[] = { "rr", "wrr", "lc", "wlc", "lblc",
		"lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos", "swrr",
		"p2c", "lrt" };

	sched_foreach(count_ops, &n);
	CHECK_EQ(n, 17);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		CHECK(sched_find(names[i]) != NULL);
	CHECK(sched_find("nope") == NULL);
	CHECK(sched_find(NULL) == NULL);
}

struct every {
	int failures;
};

/* Picks with every kind of input a scheduler may read. */
static int pick_all_inputs(struct sched *s, uint32_t client, const uint64_t *skip,
			   uint64_t now)
{
	uint8_t a[4] = { 192, 168, (uint8_t)(client >> 8), (uint8_t)client };
	char key[16];
	struct sched_req req = { .src = a, .src_len = 4, .src_port = 1000,
				 .lkey = key, .now_ms = now, .skip = skip };

	req.lkey_len = (size_t)snprintf(key, sizeof(key), "k%u", client % 50);
	return sched_pick(s, &req);
}

/* Every algorithm: never a flagged, quiesced or skipped server; -1 when
 * nothing may take work. */
static void check_rules(const struct sched_ops *ops, void *arg)
{
	struct fx f;
	uint64_t x = 42, skip[1];
	const uint32_t w[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct sched_params p = { .seed = 7, .flags = SCHED_F_FALLBACK,
				  .mh_table_size = 251 };
	static const uint32_t bad[] = { SCHED_SRV_DOWN, SCHED_SRV_DRAIN,
					SCHED_SRV_MAINT };

	if (!fx_open(&f, ops->name, w, 8, &p))
		return;
	f.srv[1].flags |= SCHED_SRV_DOWN;
	f.srv[2].flags |= SCHED_SRV_DRAIN;
	f.srv[3].flags |= SCHED_SRV_MAINT;
	f.srv[4].weight = 0;
	for (int i = 1; i <= 4; i++)
		CHECK(sched_server_changed(f.s, &f.srv[i]) == 0);
	f.srv[5].upper = 1;
	sched_server_changed(f.s, &f.srv[5]);
	sched_conn_open(f.s, &f.srv[5]); /* now OVERLOAD */
	CHECK(f.srv[5].flags & SCHED_SRV_OVERLOAD);
	for (int k = 0; k < 2000; k++) {
		int i;

		skip[0] = (fx_rand(&x) & 1) ? (1u << 6) : 0;
		i = pick_all_inputs(f.s, (uint32_t)k, skip, (uint64_t)k);
		if (i < 0)
			continue;
		if (i >= 8 || (i >= 1 && i <= 5) || (skip[0] >> i & 1)) {
			unit_fail(__FILE__, __LINE__, "%s picked %d", ops->name, i);
			((struct every *)arg)->failures++;
			break;
		}
		if (fx_rand(&x) % 3 == 0)
			sched_conn_open(f.s, f.ptr[i]);
	}
	/* nothing left: -1 */
	for (int i = 0; i < 8; i++) {
		f.srv[i].flags |= bad[i % 3];
		sched_server_changed(f.s, &f.srv[i]);
	}
	for (int k = 0; k < 50; k++)
		CHECK_EQ(pick_all_inputs(f.s, (uint32_t)k, NULL, 10000), -1);
	fx_close(&f);
}

TEST(sched_every_algorithm_obeys_flags_and_skip)
{
	struct every e = { 0 };

	sched_foreach(check_rules, &e);
	CHECK_EQ(e.failures, 0);
}

static void check_empty(const struct sched_ops *ops, void *arg)
{
	struct sched *s = sched_create(ops, NULL);
	struct sched_req req = { .now_ms = 1 };

	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_EQ(sched_pick(s, &req), -1);
	CHECK_EQ(sched_pick(s, NULL), -1);
	CHECK_EQ(sched_set_servers(s, NULL, 0), 0);
	CHECK_EQ(sched_pick(s, &req), -1);
	sched_destroy(s);
}

TEST(sched_empty_set_picks_nothing)
{
	sched_foreach(check_empty, NULL);
}

/* With every server skipped, every algorithm answers -1. */
static void check_all_skipped(const struct sched_ops *ops, void *arg)
{
	struct fx f;
	uint64_t skip[2] = { ~UINT64_C(0), ~UINT64_C(0) };

	if (!fx_open(&f, ops->name, NULL, 70, NULL))
		return;
	for (int k = 0; k < 20; k++)
		CHECK_EQ(pick_all_inputs(f.s, (uint32_t)k, skip, 5), -1);
	fx_close(&f);
}

TEST(sched_skip_everything)
{
	sched_foreach(check_all_skipped, NULL);
}

TEST(sched_set_servers_indexes_and_rejects_duplicates)
{
	struct fx f;
	struct sched_server *dup[3];

	if (!fx_open(&f, "rr", NULL, 3, NULL))
		return;
	for (int i = 0; i < 3; i++)
		CHECK_EQ(f.srv[i].idx, i);
	dup[0] = &f.srv[2];
	dup[1] = &f.srv[0];
	dup[2] = &f.srv[2];
	CHECK_EQ(sched_set_servers(f.s, dup, 3), -EINVAL);
	for (int i = 0; i < 3; i++) /* the old set stays */
		CHECK_EQ(f.srv[i].idx, i);
	CHECK_EQ(sched_set_servers(f.s, f.ptr, SCHED_MAX_SERVERS + 1), -EINVAL);
	CHECK_EQ(sched_set_servers(f.s, &f.ptr[1], 1), 0);
	CHECK_EQ(f.srv[0].idx, -1);
	CHECK_EQ(f.srv[1].idx, 0);
	CHECK_EQ(f.srv[2].idx, -1);
	fx_close(&f);
	CHECK_EQ(f.srv[1].idx, -1);
}

TEST(sched_conn_accounting)
{
	struct fx f;

	if (!fx_open(&f, "wlc", NULL, 2, NULL))
		return;
	sched_conn_open(f.s, &f.srv[0]);
	sched_conn_open(f.s, &f.srv[0]);
	CHECK_EQ(f.srv[0].active, 2);
	sched_conn_deactivate(f.s, &f.srv[0]);
	CHECK_EQ(f.srv[0].active, 1);
	CHECK_EQ(f.srv[0].inactive, 1);
	sched_conn_close(f.s, &f.srv[0], false);
	CHECK_EQ(f.srv[0].inactive, 0);
	sched_conn_close(f.s, &f.srv[0], true);
	CHECK_EQ(f.srv[0].active, 0);
	/* never below zero */
	sched_conn_close(f.s, &f.srv[0], true);
	sched_conn_deactivate(f.s, &f.srv[0]);
	CHECK_EQ(f.srv[0].active, 0);
	CHECK_EQ(f.srv[0].inactive, 0);
	fx_close(&f);
}

TEST(sched_conn_close_after_removal)
{
	struct fx f;

	if (!fx_open(&f, "lc", NULL, 3, NULL))
		return;
	sched_conn_open(f.s, &f.srv[1]);
	sched_conn_open(f.s, &f.srv[1]);
	CHECK_EQ(sched_set_servers(f.s, &f.ptr[2], 1), 0);
	CHECK_EQ(f.srv[1].idx, -1);
	sched_conn_close(f.s, &f.srv[1], true); /* no tree to touch: counters */
	CHECK_EQ(f.srv[1].active, 1);
	sched_conn_close(f.s, &f.srv[1], true);
	CHECK_EQ(f.srv[1].active, 0);
	CHECK_EQ(fx_pick(&f, 1), 0);
	fx_close(&f);
}

/* ip_vs_bind_dest / ip_vs_unbind_dest: set at active+inactive >= upper,
 * cleared below lower. */
TEST(sched_threshold_upper_lower)
{
	struct fx f;
	struct sched_server *a;

	if (!fx_open(&f, "rr", NULL, 2, NULL))
		return;
	a = &f.srv[0];
	a->upper = 4;
	a->lower = 2;
	sched_server_changed(f.s, a);
	for (int i = 0; i < 3; i++)
		sched_conn_open(f.s, a);
	CHECK(!(a->flags & SCHED_SRV_OVERLOAD));
	sched_conn_deactivate(f.s, a); /* inactive counts too */
	sched_conn_open(f.s, a);       /* 3 active + 1 inactive = 4 */
	CHECK(a->flags & SCHED_SRV_OVERLOAD);
	for (int k = 0; k < 10; k++)
		CHECK_EQ(fx_pick(&f, 1), 1);
	sched_conn_close(f.s, a, true); /* 3 */
	CHECK(a->flags & SCHED_SRV_OVERLOAD);
	sched_conn_close(f.s, a, true); /* 2: not below 2 */
	CHECK(a->flags & SCHED_SRV_OVERLOAD);
	sched_conn_close(f.s, a, false); /* 1 < 2 */
	CHECK(!(a->flags & SCHED_SRV_OVERLOAD));
	fx_close(&f);
}

/* Without -y the flag clears when conns*4 < upper*3. */
TEST(sched_threshold_three_quarters)
{
	struct fx f;
	struct sched_server *a;

	if (!fx_open(&f, "rr", NULL, 2, NULL))
		return;
	a = &f.srv[0];
	a->upper = 10;
	sched_server_changed(f.s, a);
	for (int i = 0; i < 10; i++)
		sched_conn_open(f.s, a);
	CHECK(a->flags & SCHED_SRV_OVERLOAD);
	for (int i = 0; i < 2; i++)
		sched_conn_close(f.s, a, true);
	CHECK(a->flags & SCHED_SRV_OVERLOAD); /* 8*4 = 32 >= 30 */
	sched_conn_close(f.s, a, true);       /* 7*4 = 28 < 30 */
	CHECK(!(a->flags & SCHED_SRV_OVERLOAD));
	/* upper 2: IPVS clears at 1 (4 < 6), the boundary rounds up */
	a->upper = 2;
	sched_server_changed(f.s, a);
	while (a->active)
		sched_conn_close(f.s, a, true);
	sched_conn_open(f.s, a);
	sched_conn_open(f.s, a);
	CHECK(a->flags & SCHED_SRV_OVERLOAD);
	sched_conn_close(f.s, a, true);
	CHECK(!(a->flags & SCHED_SRV_OVERLOAD));
	fx_close(&f);
}

/* __ip_vs_update_dest: raising or removing -x clears the flag; lowering
 * it does not set it (the next connection does). */
TEST(sched_threshold_reconfigured)
{
	struct fx f;
	struct sched_server *a;

	if (!fx_open(&f, "rr", NULL, 2, NULL))
		return;
	a = &f.srv[0];
	a->upper = 2;
	sched_server_changed(f.s, a);
	sched_conn_open(f.s, a);
	sched_conn_open(f.s, a);
	CHECK(a->flags & SCHED_SRV_OVERLOAD);
	a->upper = 1; /* lowered: stays */
	sched_server_changed(f.s, a);
	CHECK(a->flags & SCHED_SRV_OVERLOAD);
	a->upper = 5; /* raised: cleared */
	sched_server_changed(f.s, a);
	CHECK(!(a->flags & SCHED_SRV_OVERLOAD));
	a->upper = 1; /* lowered below the count: not set yet */
	sched_server_changed(f.s, a);
	CHECK(!(a->flags & SCHED_SRV_OVERLOAD));
	sched_conn_open(f.s, a);
	CHECK(a->flags & SCHED_SRV_OVERLOAD);
	a->upper = 0; /* removed: cleared */
	sched_server_changed(f.s, a);
	CHECK(!(a->flags & SCHED_SRV_OVERLOAD));
	fx_close(&f);
}

TEST(sched_last_weight)
{
	struct fx f;
	const uint32_t w[2] = { 3, 0 };

	if (!fx_open(&f, "rr", w, 2, NULL))
		return;
	CHECK_EQ(f.srv[0].last_weight, 3);
	CHECK_EQ(f.srv[1].last_weight, 0); /* joined with 0 */
	f.srv[0].weight = 0;
	sched_server_changed(f.s, &f.srv[0]);
	CHECK_EQ(f.srv[0].last_weight, 3); /* quiesced: kept */
	f.srv[0].weight = 7;
	sched_server_changed(f.s, &f.srv[0]);
	CHECK_EQ(f.srv[0].last_weight, 7);
	fx_close(&f);
}

TEST(sched_skip_any)
{
	uint64_t bits[2] = { 0, UINT64_C(1) << 5 };
	struct sched_req req = { .skip = bits };

	CHECK(!sched_skip_any(&req, 64));
	CHECK(!sched_skip_any(&req, 69)); /* bit 69 is past n */
	CHECK(sched_skip_any(&req, 70));
	CHECK(!sched_skip_any(NULL, 70));
}

/* A service changing scheduler hands its servers to a new instance, then
 * destroys the old one: that must not take the servers' idx from the new
 * one (it did, and the lc tree then wrote out of bounds). */
TEST(sched_destroy_leaves_servers_to_the_new_instance)
{
	struct fx f;
	struct sched *b;
	struct sched_params p = { 0 };

	if (!fx_open(&f, "rr", NULL, 3, NULL))
		return;
	b = sched_create(sched_find("lc"), &p);
	REQUIRE(b != NULL);
	REQUIRE(sched_set_servers(b, f.ptr, 3) == 0);
	sched_destroy(f.s);
	f.s = b;
	for (int i = 0; i < 3; i++)
		CHECK_EQ(f.srv[i].idx, i);
	sched_conn_open(b, &f.srv[0]);
	CHECK(fx_pick(&f, 1) != 0); /* lc avoids the busy one */
	sched_conn_close(b, &f.srv[0], true);
	fx_close(&f);
}
