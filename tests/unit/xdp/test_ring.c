/* test_ring.c - the tables the XDP data path walks (xdp_build_ring): whole
 * weighted round-robin cycles, the scheduler's own static table for the
 * hashing schedulers, the lc family following the open-flow counts given,
 * unavailable servers left out. Built from a live table of packet-mode
 * services; nothing is loaded into the kernel. */
#include <linux/types.h>
#include <stdlib.h>

#include "core/config.h"
#include "core/log.h"
#include "core/table.h"
#include "health/state.h"
#include "unit.h"
#include "weir_xdp.h"
#include "xdp/xdp.h"

struct ring_fx {
	struct vs_table t;
	int32_t *ring;
	uint32_t used;
	uint8_t pick;
	enum log_level saved;
};

static bool fx_open(struct ring_fx *f, const char *conf, int line)
{
	struct weir_config c;
	char err[CONFIG_ERR_MAX];
	int rc;

	memset(f, 0, sizeof(*f));
	f->saved = log_threshold;
	log_threshold = LOG_ERR;
	table_init(&f->t, 1);
	f->ring = calloc(WX_RING, sizeof(*f->ring));
	if (config_parse("t.conf", conf, strlen(conf), &c, err) != 0) {
		unit_fail(__FILE__, line, "config refused: %s", err);
		return false;
	}
	rc = table_apply(&f->t, &c, err);
	spec_free(&c);
	if (rc)
		unit_fail(__FILE__, line, "table_apply: %s", err);
	return rc == 0 && f->ring;
}

static void fx_close(struct ring_fx *f)
{
	table_fini(&f->t);
	free(f->ring);
	log_threshold = f->saved;
}

static int build(struct ring_fx *f, const uint64_t *active)
{
	return xdp_build_ring(f->t.head, active, f->ring, &f->used, &f->pick);
}

/* How many slots of the ring name server <pos>. */
static uint32_t count(const struct ring_fx *f, int32_t pos)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < f->used; i++)
		n += f->ring[i] == pos;
	return n;
}

TEST(ring_rr_whole_cycles_in_order)
{
	struct ring_fx f;

	if (!fx_open(&f, "service tcp 10.0.0.1:80 { scheduler rr; server 10.0.1.1; "
			 "server 10.0.1.2; server 10.0.1.3; }", __LINE__))
		goto out;
	REQUIRE(build(&f, NULL) == 0);
	CHECK_EQ(f.pick, WX_PICK_SEQ);
	CHECK_EQ(f.used % 3, 0);
	CHECK(f.used > WX_RING - 3);
	for (uint32_t i = 0; i < 12; i++)
		CHECK_EQ(f.ring[i], (int32_t)(i % 3));
	CHECK_EQ(count(&f, 0), count(&f, 2));
out:
	fx_close(&f);
}

TEST(ring_wrr_proportions_exact)
{
	struct ring_fx f;

	if (!fx_open(&f, "service tcp 10.0.0.1:80 { scheduler wrr; server 10.0.1.1 weight 3; "
			 "server 10.0.1.2 weight 2; server 10.0.1.3 weight 1; }", __LINE__))
		goto out;
	REQUIRE(build(&f, NULL) == 0);
	CHECK_EQ(f.used % 6, 0); /* whole cycles of 3+2+1 */
	CHECK_EQ(count(&f, 0) * 2, count(&f, 1) * 3);
	CHECK_EQ(count(&f, 2) * 3, count(&f, 0));
out:
	fx_close(&f);
}

TEST(ring_leaves_out_drained_and_zero_weight)
{
	struct ring_fx f;

	if (!fx_open(&f, "service tcp 10.0.0.1:80 { scheduler rr; server 10.0.1.1; "
			 "server 10.0.1.2 state drain; server 10.0.1.3 weight 0; }", __LINE__))
		goto out;
	REQUIRE(build(&f, NULL) == 0);
	CHECK(f.used > 0);
	CHECK_EQ(count(&f, 0), f.used);
out:
	fx_close(&f);
}

TEST(ring_empty_when_none_available)
{
	struct ring_fx f;

	if (!fx_open(&f, "service tcp 10.0.0.1:80 { scheduler wlc; server 10.0.1.1 state maint; }",
		     __LINE__))
		goto out;
	REQUIRE(build(&f, NULL) == 0);
	CHECK_EQ(f.used, 0);
out:
	fx_close(&f);
}

TEST(ring_wlc_fills_the_least_loaded_first)
{
	struct ring_fx f;
	const uint64_t active[2] = { 100, 0 };

	if (!fx_open(&f, "service tcp 10.0.0.1:80 { scheduler wlc; server 10.0.1.1; "
			 "server 10.0.1.2; }", __LINE__))
		goto out;
	REQUIRE(build(&f, active) == 0);
	CHECK_EQ(f.pick, WX_PICK_SEQ);
	CHECK_EQ(f.used, 1024);
	/* server 1 has 100 fewer open flows: the first 100 picks are its */
	for (int i = 0; i < 100; i++)
		CHECK_EQ(f.ring[i], 1);
	/* then they alternate, as wlc with equal counts does */
	CHECK(abs((int)count(&f, 0) - (int)(count(&f, 1) - 100)) <= 1);
out:
	fx_close(&f);
}

TEST(ring_wlc_counts_do_not_leak_into_the_live_table)
{
	struct ring_fx f;
	const uint64_t active[2] = { 5, 7 };

	if (!fx_open(&f, "service tcp 10.0.0.1:80 { scheduler wlc; server 10.0.1.1; "
			 "server 10.0.1.2; }", __LINE__))
		goto out;
	REQUIRE(build(&f, active) == 0);
	CHECK_EQ(f.t.head->servers[0]->ss.active, 0);
	CHECK_EQ(f.t.head->servers[1]->ss.active, 0);
out:
	fx_close(&f);
}

TEST(ring_mh_is_the_maglev_table)
{
	struct ring_fx f;

	if (!fx_open(&f, "service tcp 10.0.0.1:80 { scheduler mh mh-port; server 10.0.1.1; "
			 "server 10.0.1.2; server 10.0.1.3; }", __LINE__))
		goto out;
	REQUIRE(build(&f, NULL) == 0);
	CHECK_EQ(f.pick, WX_PICK_SRC_PORT);
	CHECK_EQ(f.used, WX_RING);
	/* Maglev gives each of three equal servers a third of the slots, +-1 */
	for (int32_t s = 0; s < 3; s++)
		CHECK(abs((int)count(&f, s) - (int)(WX_RING / 3)) <= 1);
out:
	fx_close(&f);
}

TEST(ring_sh_and_dh_pick_kinds)
{
	struct ring_fx f;

	if (!fx_open(&f, "service tcp 10.0.0.1:80 { scheduler dh; server 10.0.1.1; "
			 "server 10.0.1.2; }", __LINE__))
		goto out;
	REQUIRE(build(&f, NULL) == 0);
	CHECK_EQ(f.pick, WX_PICK_DST);
	CHECK(f.used > 0);
	CHECK(count(&f, 0) > 0 && count(&f, 1) > 0);
	fx_close(&f);
	if (!fx_open(&f, "service tcp 10.0.0.1:80 { scheduler sh; server 10.0.1.1; "
			 "server 10.0.1.2 state maint; }", __LINE__))
		goto out;
	REQUIRE(build(&f, NULL) == 0);
	CHECK_EQ(f.pick, WX_PICK_SRC);
	CHECK_EQ(count(&f, 1), 0); /* its slots are empty, not someone else's */
	CHECK(count(&f, -1) > 0);
out:
	fx_close(&f);
}

/* fo: every slot the highest weight; a sequence, not rebuilt for counts */
TEST(ring_fo_all_to_the_highest_weight)
{
	struct ring_fx f;
	const uint64_t active[3] = { 0, 50, 0 };

	if (!fx_open(&f, "service tcp 10.0.0.1:80 { scheduler fo; server 10.0.1.1 weight 2; "
			 "server 10.0.1.2 weight 5; server 10.0.1.3 weight 5; }", __LINE__))
		goto out;
	REQUIRE(build(&f, active) == 0);
	CHECK_EQ(f.pick, WX_PICK_SEQ);
	CHECK(f.used > 0);
	CHECK_EQ(count(&f, 1), f.used);
out:
	fx_close(&f);
}

/* ovf: from the open-flow counts, each server up to weight + 1 active in
 * weight order, then nothing more: a short ring, rebuilt periodically */
TEST(ring_ovf_fills_each_up_to_its_weight)
{
	struct ring_fx f;
	const uint64_t active[3] = { 1, 0, 9 };
	const int32_t want[6] = { 0, 0, 0, 1, 1, 1 };

	if (!fx_open(&f, "service tcp 10.0.0.1:80 { scheduler ovf; server 10.0.1.1 weight 3; "
			 "server 10.0.1.2 weight 2; server 10.0.1.3 weight 4; }", __LINE__))
		goto out;
	REQUIRE(build(&f, active) == 0);
	CHECK_EQ(f.pick, WX_PICK_SEQ);
	REQUIRE(f.used == 6);
	for (int i = 0; i < 6; i++)
		CHECK_EQ(f.ring[i], want[i]);
out:
	fx_close(&f);
}

/* twos: a window of picks that follows the weights and the counts */
TEST(ring_twos_follows_weights_and_counts)
{
	struct ring_fx f;
	const uint64_t active[2] = { 0, 300 };

	if (!fx_open(&f, "service tcp 10.0.0.1:80 { scheduler twos; server 10.0.1.1 weight 1; "
			 "server 10.0.1.2 weight 3; }", __LINE__))
		goto out;
	REQUIRE(build(&f, NULL) == 0);
	CHECK_EQ(f.pick, WX_PICK_SEQ);
	CHECK_EQ(f.used, 1024);
	/* loads even out at active in proportion 1:3 */
	CHECK(count(&f, 1) > 600 && count(&f, 1) < 860);
	REQUIRE(build(&f, active) == 0);
	/* server 1 is far ahead: server 0 takes every pick it is drawn in,
	 * by either of the two draws (each 2/5: r = 0 or 1; 1 - (3/5)^2 = 64 %) */
	{
		uint32_t first = 0;

		for (int i = 0; i < 100; i++)
			first += f.ring[i] == 0;
		CHECK(first > 45);
	}
out:
	fx_close(&f);
}
