/* test_lblc.c - lblc and lblcr: stickiness, IPVS's overload rule, the
 * periodic expiry, and lblcr's server sets. */
#include "fixture.h"
#include "sched/lbl.h"

#define MIN (60 * 1000ULL)

static void load(struct fx *f, int i, uint32_t act)
{
	for (uint32_t k = 0; k < act; k++)
		sched_conn_open(f->s, &f->srv[i]);
}

static void unload(struct fx *f, int i, uint32_t act)
{
	for (uint32_t k = 0; k < act; k++)
		sched_conn_close(f->s, &f->srv[i], true);
}

TEST(lblc_sticks_to_its_server)
{
	struct fx f;
	const uint32_t w[3] = { 4, 4, 4 };

	if (!fx_open(&f, "lblc", w, 3, NULL))
		return;
	CHECK_EQ(fx_pick_key(&f, "x", 0), 0);
	load(&f, 0, 3); /* busier, but 3 <= weight 4: not overloaded */
	CHECK_EQ(fx_pick_key(&f, "x", 1), 0);
	CHECK_EQ(fx_pick_key(&f, "y", 2), 1); /* a new key: wlc */
	CHECK_EQ(fx_pick_key(&f, "y", 3), 1);
	CHECK_EQ(fx_pick(&f, 4), 1);          /* no key: wlc */
	fx_close(&f);
}

/* is_overloaded(): active > weight while some server has active*2 <
 * weight. */
TEST(lblc_overload_rule)
{
	struct fx f;
	const uint32_t w[3] = { 2, 2, 2 };

	if (!fx_open(&f, "lblc", w, 3, NULL))
		return;
	CHECK_EQ(fx_pick_key(&f, "x", 0), 0);
	load(&f, 0, 3);       /* 3 > 2 */
	load(&f, 1, 1);       /* 2*1 < 2? no */
	load(&f, 2, 1);       /* no server half idle: x stays */
	CHECK_EQ(fx_pick_key(&f, "x", 1), 0);
	unload(&f, 2, 1);     /* c idle: x moves to wlc's choice, c */
	CHECK_EQ(fx_pick_key(&f, "x", 2), 2);
	load(&f, 2, 1);
	CHECK_EQ(fx_pick_key(&f, "x", 3), 2); /* and stays there */
	fx_close(&f);
}

TEST(lblc_unavailable_server_reschedules)
{
	struct fx f;
	struct sched_server *rest[2];

	if (!fx_open(&f, "lblc", NULL, 3, NULL))
		return;
	CHECK_EQ(fx_pick_key(&f, "x", 0), 0);
	load(&f, 1, 1);
	f.srv[0].flags |= SCHED_SRV_DOWN;
	sched_server_changed(f.s, &f.srv[0]);
	CHECK_EQ(fx_pick_key(&f, "x", 1), 2);
	f.srv[0].flags &= ~SCHED_SRV_DOWN;
	sched_server_changed(f.s, &f.srv[0]);
	CHECK_EQ(fx_pick_key(&f, "x", 2), 2); /* remembered c */
	/* c leaves the set: the key is forgotten, wlc decides */
	rest[0] = &f.srv[0];
	rest[1] = &f.srv[1];
	CHECK_EQ(sched_set_servers(f.s, rest, 2), 0);
	CHECK_EQ(fx_pick_key(&f, "x", 3), 0);
	fx_close(&f);
}

TEST(lblc_retry_does_not_rewrite)
{
	struct fx f;
	uint64_t skip = 1;
	struct sched_req req = { .lkey = "x", .lkey_len = 1, .skip = &skip };

	if (!fx_open(&f, "lblc", NULL, 3, NULL))
		return;
	CHECK_EQ(fx_pick_key(&f, "x", 0), 0);
	CHECK_EQ(sched_pick(f.s, &req), 1);
	CHECK_EQ(fx_pick_key(&f, "x", 0), 0);
	fx_close(&f);
}

/* IPVS collects entries from a timer: a full check of the expiration
 * every thirtieth minute, nothing at lookup. */
TEST(lblc_periodic_expiry)
{
	struct fx f;
	struct sched_params p = { .lblc_expire_ms = 1000 };

	if (!fx_open(&f, "lblc", NULL, 2, &p))
		return;
	CHECK_EQ(fx_pick_key(&f, "x", 0), 0);  /* the timer starts */
	load(&f, 0, 1);                         /* wlc now prefers b */
	/* idle far past 1 s, but no full check has run: still a */
	CHECK_EQ(fx_pick_key(&f, "x", 20 * MIN), 0);
	/* 31 minutes on: ten more runs, the tenth a full check */
	CHECK_EQ(fx_pick_key(&f, "x", 51 * MIN), 1);
	fx_close(&f);
}

TEST(lblc_default_expiry_is_a_day)
{
	struct fx f;

	if (!fx_open(&f, "lblc", NULL, 2, NULL))
		return;
	CHECK_EQ(fx_pick_key(&f, "x", 0), 0);
	load(&f, 0, 1);
	CHECK_EQ(fx_pick_key(&f, "y", 23 * 60 * MIN), 1);
	CHECK_EQ(fx_pick_key(&f, "x", 23 * 60 * MIN + 31 * MIN), 0);
	CHECK_EQ(fx_pick_key(&f, "y", 48 * 60 * MIN), 1); /* y re-created */
	/* x was last used at 23.5 h: gone by the check after 47.5 h */
	CHECK_EQ(fx_pick_key(&f, "x", 49 * 60 * MIN), 1);
	fx_close(&f);
}

TEST(lblcr_grows_on_overload)
{
	struct fx f;
	const uint32_t w[3] = { 2, 2, 2 };

	if (!fx_open(&f, "lblcr", w, 3, NULL))
		return;
	CHECK_EQ(fx_pick_key(&f, "x", 0), 0);
	load(&f, 0, 3);                        /* overloaded, b and c idle */
	CHECK_EQ(fx_pick_key(&f, "x", 1), 1);  /* wlc: b joins the set */
	load(&f, 1, 1);
	/* the set's least loaded member: b (256/2) rather than a (768/2) */
	CHECK_EQ(fx_pick_key(&f, "x", 2), 1);
	unload(&f, 0, 3);
	CHECK_EQ(fx_pick_key(&f, "x", 3), 0);  /* a is lighter now */
	fx_close(&f);
}

/* Builds x -> {a, b} with b the more loaded; returns false on failure. */
static bool two_member_set(struct fx *f)
{
	if (fx_pick_key(f, "x", 0) != 0)
		return false;
	load(f, 0, 3);                      /* overloaded: b joins at t=1 */
	if (fx_pick_key(f, "x", 1) != 1)
		return false;
	unload(f, 0, 2);                    /* a: 1 active */
	load(f, 1, 2);                      /* b: 2 active, not > 2 */
	return fx_pick_key(f, "x", 2) == 0; /* a is the lighter member */
}

TEST(lblcr_set_shrinks_after_expiration)
{
	struct fx f;
	const uint32_t w[3] = { 2, 2, 2 };
	struct sched_params p = { .lblc_expire_ms = 1000 };

	if (!fx_open(&f, "lblcr", w, 3, &p))
		return;
	REQUIRE(two_member_set(&f));
	/* modified at t=1; at t=1002 the most loaded member, b, goes */
	CHECK_EQ(fx_pick_key(&f, "x", 1002), 0);
	load(&f, 0, 2);   /* a: 3 > 2 but no server is half idle... */
	load(&f, 2, 1);   /* c: 2*1 < 2 is false */
	/* a heavier than b now; b left the set, so still a */
	CHECK_EQ(fx_pick_key(&f, "x", 1003), 0);
	fx_close(&f);
}

TEST(lblcr_set_kept_before_expiration)
{
	struct fx f;
	const uint32_t w[3] = { 2, 2, 2 };
	struct sched_params p = { .lblc_expire_ms = 1000 };

	if (!fx_open(&f, "lblcr", w, 3, &p))
		return;
	REQUIRE(two_member_set(&f));
	CHECK_EQ(fx_pick_key(&f, "x", 1000), 0);
	load(&f, 0, 2);
	load(&f, 2, 1);
	CHECK_EQ(fx_pick_key(&f, "x", 1001), 1); /* b is still a member */
	fx_close(&f);
}

TEST(lblcr_removed_server_leaves_sets)
{
	struct fx f;
	const uint32_t w[3] = { 2, 2, 2 };

	if (!fx_open(&f, "lblcr", w, 3, NULL))
		return;
	CHECK_EQ(fx_pick_key(&f, "x", 0), 0);
	CHECK_EQ(sched_set_servers(f.s, &f.ptr[1], 2), 0);
	load(&f, 1, 1);                       /* b, now index 0, is busier */
	CHECK_EQ(fx_pick_key(&f, "x", 1), 1); /* fresh wlc: c */
	load(&f, 2, 2);
	CHECK_EQ(fx_pick_key(&f, "x", 2), 1); /* remembered */
	fx_close(&f);
}

TEST(lblc_many_keys_spread_like_wlc)
{
	struct fx f;
	int count[4] = { 0 };
	char key[16];

	if (!fx_open(&f, "lblc", NULL, 4, NULL))
		return;
	for (int k = 0; k < 4000; k++) {
		int i;

		snprintf(key, sizeof(key), "host%d", k);
		i = fx_pick_key(&f, key, (uint64_t)k);
		REQUIRE(i >= 0);
		count[i]++;
		sched_conn_open(f.s, &f.srv[i]);
	}
	for (int i = 0; i < 4; i++)
		CHECK_EQ(count[i], 1000);
	fx_close(&f);
}

/* Over 16K entries, the minute's collection drops entries idle for six
 * minutes, at most 4/3 of the excess (white box: counts the table). */
TEST(lblc_partial_collection_over_size)
{
	struct fx f;
	struct lbl *l;
	char key[16];

	if (!fx_open(&f, "lblc", NULL, 4, NULL))
		return;
	l = f.s->state;
	for (int k = 0; k < 20000; k++) {
		snprintf(key, sizeof(key), "k%d", k);
		fx_pick_key(&f, key, k < 10000 ? 0 : 5 * MIN);
	}
	CHECK_EQ(l->tab.n, 20000);
	/* at 7 min: the first half is idle 7 min, the rest 2 min; goal is
	 * (20000 - 16384) * 4/3 = 4821 */
	fx_pick_key(&f, "k19999", 7 * MIN);
	CHECK_EQ(l->tab.n, 20000 - 4821);
	/* a minute later, again: 15179 - 16384 < 0, nothing to do */
	fx_pick_key(&f, "k19999", 8 * MIN);
	CHECK_EQ(l->tab.n, 20000 - 4821);
	/* the full check of the 30th run drops only those past 24 h */
	fx_pick_key(&f, "k19999", 40 * MIN);
	CHECK_EQ(l->tab.n, 20000 - 4821);
	fx_pick_key(&f, "k19999", 25 * 60 * MIN);
	CHECK_EQ(l->tab.n, 1);
	fx_close(&f);
}

/* A set grows one member per overload; among equals the newest member
 * wins, as IPVS adds members at the head of the set's list. */
TEST(lblcr_set_grows_and_newest_wins_ties)
{
	struct fx f;

	if (!fx_open(&f, "lblcr", NULL, 8, NULL))
		return;
	CHECK_EQ(fx_pick_key(&f, "x", 0), 0);
	for (int i = 0; i < 6; i++) {
		load(&f, i, 2); /* 2 > weight 1, and idle servers remain */
		CHECK_EQ(fx_pick_key(&f, "x", 1), i + 1);
	}
	for (int i = 0; i < 6; i++)
		unload(&f, i, 2);
	/* all idle: plain wlc would say 0; the set says its newest, 6 */
	CHECK_EQ(fx_pick(&f, 2), 0);
	CHECK_EQ(fx_pick_key(&f, "x", 2), 6);
	fx_close(&f);
}
