/* test_mh.c - Maglev hashing: slot shares, weights, disruption when a
 * server leaves, quiescing, fallback, and IPVS's permutation. */
#include "fixture.h"
#include "sched/sched_int.h"

static void slot_counts(struct sched *s, long *count, size_t n)
{
	const int32_t *slots;
	uint32_t m = sched_table(s, &slots);

	memset(count, 0, n * sizeof(*count));
	for (uint32_t c = 0; c < m; c++)
		if (slots[c] >= 0 && (size_t)slots[c] < n)
			count[slots[c]]++;
}

TEST(mh_equal_weights_floor_or_ceil)
{
	static const size_t ns[] = { 1, 2, 7, 10, 100, 1000 };

	for (size_t t = 0; t < sizeof(ns) / sizeof(ns[0]); t++) {
		struct fx f;
		size_t n = ns[t] > FX_MAX ? FX_MAX : ns[t];
		long count[FX_MAX], lo = 65537 / (long)n, hi = (65537 + (long)n - 1) / (long)n;
		const int32_t *slots;

		if (!fx_open(&f, "mh", NULL, n, NULL))
			return;
		CHECK_EQ(sched_table(f.s, &slots), 65537);
		slot_counts(f.s, count, n);
		for (size_t i = 0; i < n; i++)
			if (count[i] < lo || count[i] > hi)
				unit_fail(__FILE__, __LINE__, "n=%zu server %zu: %ld slots",
					  n, i, count[i]);
		fx_close(&f);
	}
}

TEST(mh_weights_proportional)
{
	struct fx f;
	const uint32_t w[4] = { 10, 20, 30, 40 }; /* gcd 10: 1,2,3,4 turns */
	long count[4];

	if (!fx_open(&f, "mh", w, 4, NULL))
		return;
	slot_counts(f.s, count, 4);
	for (int i = 0; i < 4; i++) {
		long want = 65537L * w[i] / 100;

		CHECK(labs(count[i] - want) <= 4);
	}
	fx_close(&f);
}

TEST(mh_distribution_over_clients)
{
	struct fx f;
	const uint32_t w[5] = { 1, 1, 2, 3, 3 };
	long count[5] = { 0 };
	uint64_t x = 77;

	if (!fx_open(&f, "mh", w, 5, NULL))
		return;
	for (int k = 0; k < 100000; k++) {
		int i = fx_pick_src(&f, (uint32_t)fx_rand(&x), 0, 0);

		REQUIRE(i >= 0);
		count[i]++;
	}
	for (int i = 0; i < 5; i++) {
		double got = count[i] / 100000.0, want = w[i] / 10.0;

		CHECK(got - want < 0.01 && want - got < 0.01);
	}
	fx_close(&f);
}

/* Removing one of N servers: its clients move, and at most 2% of the
 * others' do (Maglev's "minimal disruption"). */
static void disruption(size_t n, size_t gone, double *moved_other)
{
	struct fx f;
	struct sched_server *rest[FX_MAX];
	uint64_t x = 4242;
	static int before[200000];
	long other = 0, other_moved = 0;

	if (!fx_open(&f, "mh", NULL, n, NULL))
		return;
	for (int k = 0; k < 200000; k++)
		before[k] = fx_pick_src(&f, (uint32_t)fx_rand(&x), 0, 0);
	for (size_t i = 0, j = 0; i < n; i++)
		if (i != gone)
			rest[j++] = &f.srv[i];
	REQUIRE(sched_set_servers(f.s, rest, n - 1) == 0);
	x = 4242;
	for (int k = 0; k < 200000; k++) {
		int i = fx_pick_src(&f, (uint32_t)fx_rand(&x), 0, 0);
		struct sched_server *now = i >= 0 ? rest[i] : NULL;

		REQUIRE(now != NULL);
		CHECK(now != &f.srv[gone]);
		if ((size_t)before[k] == gone)
			continue;
		other++;
		other_moved += now != &f.srv[before[k]];
	}
	*moved_other = (double)other_moved / other;
	fx_close(&f);
}

TEST(mh_removal_disruption)
{
	static const size_t ns[] = { 5, 10, 50, 100, 250 };

	for (size_t t = 0; t < sizeof(ns) / sizeof(ns[0]); t++) {
		double moved = 1;

		disruption(ns[t], ns[t] / 3, &moved);
		if (moved > 0.02)
			unit_fail(__FILE__, __LINE__, "n=%zu: %.2f%% of other "
				  "clients moved", ns[t], 100 * moved);
	}
}

/* Quiescing keeps the table (IPVS uses the last non-zero weight): the
 * server's clients get -1, or another server with fallback; nobody else
 * moves. */
TEST(mh_quiesce_keeps_slots)
{
	struct fx f;
	struct sched_params p = { .flags = SCHED_F_FALLBACK };
	long before[8], after[8];
	int first[2000];

	for (int fb = 0; fb < 2; fb++) {
		if (!fx_open(&f, "mh", NULL, 8, fb ? &p : NULL))
			return;
		slot_counts(f.s, before, 8);
		for (uint32_t k = 0; k < 2000; k++)
			first[k] = fx_pick_src(&f, 0x0b000000u + k * 13, 0, 0);
		f.srv[3].weight = 0;
		sched_server_changed(f.s, &f.srv[3]);
		slot_counts(f.s, after, 8);
		CHECK(memcmp(before, after, sizeof(before)) == 0);
		for (uint32_t k = 0; k < 2000; k++) {
			int now = fx_pick_src(&f, 0x0b000000u + k * 13, 0, 0);

			if (first[k] != 3)
				CHECK_EQ(now, first[k]);
			else if (fb)
				CHECK(now >= 0 && now != 3);
			else
				CHECK_EQ(now, -1);
		}
		fx_close(&f);
	}
}

TEST(mh_ipvs_permutation)
{
	struct fx f;
	const int32_t *slots;
	uint32_t off[2];

	if (!fx_open(&f, "mh", NULL, 2, NULL))
		return;
	CHECK_EQ(sched_table(f.s, &slots), 65537);
	/* each server's first claim is its offset, hsiphash(addr+port) % M */
	for (int i = 0; i < 2; i++)
		off[i] = sched_hsiphash_u32(sched_addr_fold(f.srv[i].addr, 4) + 80,
					    2654435761ULL) % 65537;
	CHECK_EQ(slots[off[0]], 0);
	if (off[1] != off[0])
		CHECK_EQ(slots[off[1]], 1);
	/* a client's slot is hsiphash(addr) % M */
	for (uint32_t a = 1; a < 1000; a += 37)
		CHECK_EQ(fx_pick_src(&f, a, 0, 0),
			 slots[sched_hsiphash_u32(a, 2654435761ULL) % 65537]);
	fx_close(&f);
}

TEST(mh_port_and_table_size)
{
	struct fx f;
	struct sched_params p = { .flags = SCHED_F_PORT, .mh_table_size = 100 };
	const int32_t *slots;
	int seen[4] = { 0 };

	if (!fx_open(&f, "mh", NULL, 4, &p))
		return;
	CHECK_EQ(sched_table(f.s, &slots), 101); /* next prime */
	for (uint16_t port = 2000; port < 2100; port++)
		seen[fx_pick_src(&f, 0x0a000001, port, 0)]++;
	for (int i = 0; i < 4; i++)
		CHECK(seen[i] > 10);
	fx_close(&f);
}

TEST(mh_more_servers_than_slots)
{
	struct fx f;
	struct sched_params p = { .mh_table_size = 7 };

	if (!fx_open(&f, "mh", NULL, 7, &p))
		return;
	fx_server_init(&f.srv[7], 7, 1);
	f.ptr[7] = &f.srv[7];
	CHECK_EQ(sched_set_servers(f.s, f.ptr, 8), -EINVAL);
	CHECK_EQ(f.srv[0].idx, 0); /* the old set stays */
	CHECK(fx_pick_src(&f, 1, 0, 0) >= 0);
	fx_close(&f);
}

TEST(mh_and_sh_v6)
{
	static const char *const algos[] = { "mh", "sh" };

	for (int a = 0; a < 2; a++) {
		struct fx f;
		uint8_t src[16] = { 0x20, 0x01, 0x0d, 0xb8 };
		int seen[4] = { 0 };

		if (!fx_open(&f, algos[a], NULL, 4, NULL))
			return;
		/* an address is identity: a new one means a new set */
		f.srv[2].family = 6;
		f.srv[2].addr[0] = 0x20;
		REQUIRE(sched_set_servers(f.s, f.ptr, 4) == 0);
		for (int k = 0; k < 400; k++) {
			struct sched_req req = { .src = src, .src_len = 16 };
			int i, j;

			src[15] = (uint8_t)k;
			src[9] = (uint8_t)(k * 7);
			i = sched_pick(f.s, &req);
			j = sched_pick(f.s, &req);
			REQUIRE(i >= 0 && i < 4);
			CHECK_EQ(i, j);
			seen[i]++;
		}
		for (int i = 0; i < 4; i++)
			CHECK(seen[i] > 40);
		fx_close(&f);
	}
}

/* IPVS caps turns per round at 2^(log2(M)/2) - 1: weights 1 and 1000 are
 * shifted right by 2 (1000/4 = 250 turns), and a server shifted to 0
 * still gets one. */
TEST(mh_turns_shifted_like_ipvs)
{
	struct fx f;
	const uint32_t w[2] = { 1000, 1 };
	long count[2];

	if (!fx_open(&f, "mh", w, 2, NULL))
		return;
	slot_counts(f.s, count, 2);
	CHECK(count[1] >= 65537 / 251 - 1 && count[1] <= 65537 / 251 + 1);
	CHECK_EQ(count[0] + count[1], 65537);
	fx_close(&f);
}
