/* test_persist.c - persistence templates: timeout, netmask grouping, the
 * down/drain rules, forgetting servers, bounded expiry. */
#include "fixture.h"
#include "sched/persist.h"

static const uint8_t *v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	static uint8_t buf[8][4];
	static int k;
	uint8_t *p = buf[k++ % 8];

	p[0] = a; p[1] = b; p[2] = c; p[3] = d;
	return p;
}

TEST(persist_timeout_from_last_use)
{
	struct persist_table *t = persist_create(1000, 32, 128, 1);
	struct sched_server a = { .weight = 1 };

	REQUIRE(t);
	CHECK(persist_lookup(t, v4(1, 2, 3, 4), 4, 0) == NULL);
	CHECK_EQ(persist_bind(t, v4(1, 2, 3, 4), 4, &a, 0), 0);
	CHECK(persist_lookup(t, v4(1, 2, 3, 4), 4, 999) == &a);  /* refreshed */
	CHECK(persist_lookup(t, v4(1, 2, 3, 4), 4, 1998) == &a);
	CHECK(persist_lookup(t, v4(1, 2, 3, 5), 4, 1998) == NULL); /* /32 */
	CHECK(persist_lookup(t, v4(1, 2, 3, 4), 4, 2998) == NULL); /* expired */
	CHECK_EQ(persist_count(t), 0);
	CHECK_EQ(persist_bind(t, v4(1, 2, 3, 4), 3, &a, 0), -EINVAL);
	persist_destroy(t);
}

TEST(persist_default_timeout)
{
	struct persist_table *t = persist_create(0, 32, 128, 1);
	struct sched_server a = { .weight = 1 };

	REQUIRE(t);
	persist_bind(t, v4(1, 1, 1, 1), 4, &a, 0);
	CHECK(persist_lookup(t, v4(1, 1, 1, 1), 4, 299999) == &a);
	CHECK(persist_lookup(t, v4(1, 1, 1, 1), 4, 299999 + 300000) == NULL);
	persist_destroy(t);
}

TEST(persist_netmask_grouping)
{
	struct persist_table *t;
	struct sched_server a = { .weight = 1 }, b = { .weight = 1 };
	uint8_t p6a[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8 };
	uint8_t p6b[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 9, 9, 9, 9, 9, 9, 9, 9 };
	uint8_t p6c[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 2, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8 };
	uint8_t prefix;

	REQUIRE(persist_v4_prefix("255.255.255.0", &prefix) == 0);
	CHECK_EQ(prefix, 24);
	t = persist_create(60000, prefix, 64, 7);
	REQUIRE(t);
	persist_bind(t, v4(10, 0, 0, 1), 4, &a, 0);
	CHECK(persist_lookup(t, v4(10, 0, 0, 200), 4, 1) == &a);
	CHECK(persist_lookup(t, v4(10, 0, 1, 1), 4, 1) == NULL);
	persist_bind(t, p6a, 16, &b, 0);
	CHECK(persist_lookup(t, p6b, 16, 1) == &b); /* same /64 */
	CHECK(persist_lookup(t, p6c, 16, 1) == NULL);
	CHECK_EQ(persist_count(t), 2);
	persist_destroy(t);

	/* a prefix that ends inside a byte */
	t = persist_create(60000, 20, 128, 7);
	REQUIRE(t);
	persist_bind(t, v4(10, 0, 0x1f, 1), 4, &a, 0);
	CHECK(persist_lookup(t, v4(10, 0, 0x10, 9), 4, 1) == &a);
	CHECK(persist_lookup(t, v4(10, 0, 0x20, 1), 4, 1) == NULL);
	persist_destroy(t);
	CHECK(persist_create(1, 33, 128, 0) == NULL);
	CHECK(persist_create(1, 32, 129, 0) == NULL);
}

TEST(persist_v4_prefix_parsing)
{
	uint8_t p = 99;

	CHECK_EQ(persist_v4_prefix("255.255.255.255", &p), 0);
	CHECK_EQ(p, 32);
	CHECK_EQ(persist_v4_prefix("0.0.0.0", &p), 0);
	CHECK_EQ(p, 0);
	CHECK_EQ(persist_v4_prefix("255.255.240.0", &p), 0);
	CHECK_EQ(p, 20);
	CHECK_EQ(persist_v4_prefix("255.0.255.0", &p), -EINVAL);
	CHECK_EQ(persist_v4_prefix("255.255.255", &p), -EINVAL);
	CHECK_EQ(persist_v4_prefix("255.255.255.0x", &p), -EINVAL);
	CHECK_EQ(persist_v4_prefix("256.0.0.0", &p), -EINVAL);
	CHECK_EQ(persist_v4_prefix(NULL, &p), -EINVAL);
}

/* DOWN and MAINT drop the template; weight 0, DRAIN and OVERLOAD keep it
 * (IPVS expire_quiescent_template = 0). */
TEST(persist_down_and_drain_rules)
{
	struct persist_table *t = persist_create(60000, 32, 128, 3);
	struct sched_server s[5] = { { .weight = 1 }, { .weight = 1 },
				     { .weight = 1 }, { .weight = 1 },
				     { .weight = 1 } };

	REQUIRE(t);
	for (uint8_t i = 0; i < 5; i++)
		persist_bind(t, v4(10, 0, 0, i), 4, &s[i], 0);
	s[0].weight = 0;
	s[1].flags = SCHED_SRV_DRAIN;
	s[2].flags = SCHED_SRV_OVERLOAD;
	s[3].flags = SCHED_SRV_DOWN;
	s[4].flags = SCHED_SRV_MAINT;
	CHECK(persist_lookup(t, v4(10, 0, 0, 0), 4, 1) == &s[0]);
	CHECK(persist_lookup(t, v4(10, 0, 0, 1), 4, 1) == &s[1]);
	CHECK(persist_lookup(t, v4(10, 0, 0, 2), 4, 1) == &s[2]);
	CHECK(persist_lookup(t, v4(10, 0, 0, 3), 4, 1) == NULL);
	CHECK(persist_lookup(t, v4(10, 0, 0, 4), 4, 1) == NULL);
	CHECK_EQ(persist_count(t), 3);
	/* back up: the template is gone, the client is scheduled afresh */
	s[3].flags = 0;
	CHECK(persist_lookup(t, v4(10, 0, 0, 3), 4, 2) == NULL);
	persist_destroy(t);
}

TEST(persist_forget_and_rebind)
{
	struct persist_table *t = persist_create(60000, 32, 128, 4);
	struct sched_server a = { .weight = 1 }, b = { .weight = 1 };

	REQUIRE(t);
	for (uint8_t i = 0; i < 100; i++)
		persist_bind(t, v4(10, 1, 0, i), 4, i % 2 ? &a : &b, 0);
	CHECK_EQ(persist_count(t), 100);
	persist_forget_server(t, &a);
	CHECK_EQ(persist_count(t), 50);
	for (uint8_t i = 0; i < 100; i++)
		CHECK(persist_lookup(t, v4(10, 1, 0, i), 4, 1) == (i % 2 ? NULL : &b));
	persist_forget_server(t, &a); /* nothing left: a no-op */
	persist_bind(t, v4(10, 1, 0, 0), 4, &a, 2); /* moves to a */
	CHECK(persist_lookup(t, v4(10, 1, 0, 0), 4, 3) == &a);
	persist_forget_server(t, &b);
	CHECK_EQ(persist_count(t), 1);
	persist_forget_server(t, &a);
	CHECK_EQ(persist_count(t), 0);
	persist_destroy(t);
}

TEST(persist_expire_budget_and_hold)
{
	struct persist_table *t = persist_create(1000, 32, 128, 5);
	struct sched_server a = { .weight = 1 };

	REQUIRE(t);
	for (uint8_t i = 0; i < 10; i++)
		persist_bind(t, v4(10, 2, 0, i), 4, &a, i);
	CHECK_EQ(persist_hold(t, v4(10, 2, 0, 0), 4), 0);
	CHECK_EQ(persist_hold(t, v4(10, 9, 0, 0), 4), -ENOENT);
	CHECK_EQ(persist_expire(t, 999, 0), 0);
	CHECK_EQ(persist_expire(t, 1004, 3), 2); /* 0 is held: re-armed */
	CHECK_EQ(persist_count(t), 8);
	CHECK_EQ(persist_expire(t, 2000, 0), 7);
	/* the held one outlives its timeout while it has connections */
	CHECK(persist_lookup(t, v4(10, 2, 0, 0), 4, 2003) == &a);
	CHECK_EQ(persist_release(t, v4(10, 2, 0, 0), 4, 2003), 0);
	CHECK_EQ(persist_expire(t, 3003, 0), 1);
	CHECK_EQ(persist_count(t), 0);
	persist_destroy(t);
}

/* Many templates: the table grows a step at a time and loses nothing. */
TEST(persist_many_clients)
{
	struct persist_table *t = persist_create(1000, 32, 128, 6);
	struct sched_server s[4] = { { .weight = 1 }, { .weight = 1 },
				     { .weight = 1 }, { .weight = 1 } };
	uint8_t a[4];
	int bad = 0;

	REQUIRE(t);
	for (uint32_t i = 0; i < 100000; i++) {
		a[0] = 10; a[1] = (uint8_t)(i >> 16); a[2] = (uint8_t)(i >> 8);
		a[3] = (uint8_t)i;
		if (persist_bind(t, a, 4, &s[i % 4], i / 1000) != 0)
			bad++;
	}
	CHECK_EQ(persist_count(t), 100000);
	for (uint32_t i = 0; i < 100000; i++) {
		a[0] = 10; a[1] = (uint8_t)(i >> 16); a[2] = (uint8_t)(i >> 8);
		a[3] = (uint8_t)i;
		if (persist_lookup(t, a, 4, 100) != &s[i % 4])
			bad++;
	}
	CHECK_EQ(bad, 0);
	persist_forget_server(t, &s[1]);
	CHECK_EQ(persist_count(t), 75000);
	CHECK_EQ(persist_expire(t, 2000, 0), 75000);
	persist_destroy(t);
}
