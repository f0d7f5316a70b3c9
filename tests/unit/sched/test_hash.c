/* test_hash.c - sh and dh (IPVS's 256-bucket static hashing), and the
 * hash functions against the kernel's own test vectors. */
#include "fixture.h"
#include "sched/sched_int.h"

/* lib/test_siphash.c, 64-bit hsiphash: key 00..0f, input 00..(len-1) */
TEST(hash_siphash13_kernel_vectors)
{
	static const struct { size_t len; uint32_t want; } v[] = {
		{ 0, 0x050fc4dcU }, { 1, 0x7d57ca93U }, { 4, 0x88d38328U },
		{ 7, 0x9bb11140U }, { 8, 0x8d299a8eU }, { 15, 0x2a519956U },
		{ 16, 0x7d908b66U }, { 63, 0xb7bbb3a8U },
	};
	uint8_t in[64];

	for (int i = 0; i < 64; i++)
		in[i] = (uint8_t)i;
	for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++)
		CHECK_EQ((uint32_t)sched_siphash13(in, v[k].len, 0x0706050403020100ULL,
						   0x0f0e0d0c0b0a0908ULL), v[k].want);
	/* hsiphash_1u32(v) hashes v's four little-endian bytes */
	for (uint32_t x = 1; x < 100000; x += 997) {
		uint8_t b[4] = { (uint8_t)x, (uint8_t)(x >> 8), (uint8_t)(x >> 16),
				 (uint8_t)(x >> 24) };

		CHECK_EQ(sched_hsiphash_u32(x, 2654435761ULL),
			 (uint32_t)sched_siphash13(b, 4, 2654435761ULL, 2654435761ULL));
	}
}

TEST(hash_fold)
{
	const uint8_t v4[4] = { 1, 2, 3, 4 };
	const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0,
				 0, 0, 0, 1 };

	CHECK_EQ(sched_addr_fold(v4, 4), 0x01020304);
	CHECK_EQ(sched_addr_fold(v6, 16), 0x20010db8 ^ 1);
	CHECK_EQ(sched_hash_32(0x01020304, 8), (0x01020304u * 0x61C88647u) >> 24);
	CHECK_EQ(sched_key_fold("abc", 3), 0x1a47e90b); /* FNV-1a 32 */
}

static uint32_t rand_addr(uint64_t *x)
{
	return (uint32_t)fx_rand(x);
}

/* The share of picks of each server is within one percentage point of its
 * share of the weights. */
static void check_shares(const long *count, const uint32_t *w, size_t n, long total)
{
	uint64_t wsum = 0;

	for (size_t i = 0; i < n; i++)
		wsum += w[i];
	for (size_t i = 0; i < n; i++) {
		double got = (double)count[i] / total, want = (double)w[i] / wsum;

		if (got - want > 0.01 || want - got > 0.01)
			unit_fail(__FILE__, __LINE__, "server %zu: %.4f of picks, "
				  "weight share %.4f", i, got, want);
	}
}

TEST(sh_ipvs_bucket)
{
	struct fx f;

	if (!fx_open(&f, "sh", NULL, 2, NULL))
		return;
	/* weights 1,1: buckets alternate a, b; bucket = hash_32(addr, 8) */
	for (uint32_t a = 0x0a000001; a < 0x0a000101; a++)
		CHECK_EQ(fx_pick_src(&f, a, 0, 0),
			 (int)(sched_hash_32(a, 8) % 2));
	fx_close(&f);
}

TEST(sh_weighted_distribution)
{
	struct fx f;
	const uint32_t w[4] = { 1, 2, 3, 4 };
	long count[4] = { 0 };
	uint64_t x = 99;
	const int32_t *slots;

	if (!fx_open(&f, "sh", w, 4, NULL))
		return;
	/* IPVS deals weight-many consecutive buckets: a bb ccc dddd a ... */
	REQUIRE(sched_table(f.s, &slots) == 256);
	CHECK_EQ(slots[0], 0);
	CHECK_EQ(slots[1], 1);
	CHECK_EQ(slots[2], 1);
	CHECK_EQ(slots[5], 2);
	CHECK_EQ(slots[6], 3);
	CHECK_EQ(slots[10], 0);
	CHECK_EQ(slots[255], 2); /* 256 = 25 rounds of 10, then a bb ccc */
	for (int k = 0; k < 100000; k++) {
		int i = fx_pick_src(&f, rand_addr(&x), 0, 0);

		REQUIRE(i >= 0);
		count[i]++;
	}
	check_shares(count, w, 4, 100000);
	fx_close(&f);
}

TEST(sh_stable_and_blind_to_load)
{
	struct fx f;
	int first[500];
	uint64_t x = 5;

	if (!fx_open(&f, "sh", NULL, 5, NULL))
		return;
	for (int k = 0; k < 500; k++)
		first[k] = fx_pick_src(&f, 0xc0a80000u + (uint32_t)k, 0, 0);
	for (int i = 0; i < 5; i++)
		for (int c = 0; c < 50; c++)
			sched_conn_open(f.s, &f.srv[(i + fx_rand(&x)) % 5]);
	for (int k = 0; k < 500; k++)
		CHECK_EQ(fx_pick_src(&f, 0xc0a80000u + (uint32_t)k, 0, 0), first[k]);
	fx_close(&f);
}

TEST(sh_fallback_and_port)
{
	struct fx f;
	struct sched_params p = { .flags = SCHED_F_FALLBACK };
	int before[1000], moved = 0;

	if (!fx_open(&f, "sh", NULL, 4, &p))
		return;
	for (int k = 0; k < 1000; k++)
		before[k] = fx_pick_src(&f, 0x0a0a0000u + (uint32_t)k * 7, 0, 0);
	f.srv[2].flags |= SCHED_SRV_DOWN;
	sched_server_changed(f.s, &f.srv[2]);
	for (int k = 0; k < 1000; k++) {
		int now = fx_pick_src(&f, 0x0a0a0000u + (uint32_t)k * 7, 0, 0);

		CHECK(now >= 0 && now != 2);
		if (before[k] != 2)
			CHECK_EQ(now, before[k]); /* only c's clients move */
		moved += before[k] == 2;
	}
	CHECK(moved > 150);
	fx_close(&f);

	/* without fallback, c's clients get nothing */
	if (!fx_open(&f, "sh", NULL, 4, NULL))
		return;
	f.srv[2].flags |= SCHED_SRV_DOWN;
	for (int k = 0; k < 1000; k++) {
		int now = fx_pick_src(&f, 0x0a0a0000u + (uint32_t)k * 7, 0, 0);

		CHECK_EQ(now, before[k] == 2 ? -1 : before[k]);
	}
	fx_close(&f);

	/* sh-port: one address, many ports, many servers */
	p.flags = SCHED_F_PORT;
	if (!fx_open(&f, "sh", NULL, 4, &p))
		return;
	{
		int seen[4] = { 0 };

		for (uint16_t port = 1000; port < 1100; port++)
			seen[fx_pick_src(&f, 0x0a000001, port, 0)]++;
		for (int i = 0; i < 4; i++)
			CHECK(seen[i] > 10);
	}
	fx_close(&f);
}

TEST(dh_even_over_keys_and_stable)
{
	struct fx f;
	const uint32_t w[4] = { 1, 1, 1, 1 };
	long count[4] = { 0 };
	char key[32];
	uint64_t x = 3;

	if (!fx_open(&f, "dh", w, 4, NULL))
		return;
	for (int k = 0; k < 100000; k++) {
		int i;

		snprintf(key, sizeof(key), "/obj/%llu",
			 (unsigned long long)fx_rand(&x));
		i = fx_pick_key(&f, key, 0);
		REQUIRE(i >= 0);
		count[i]++;
		if (k < 1000) {
			sched_conn_open(f.s, &f.srv[i]); /* load is no matter */
			CHECK_EQ(fx_pick_key(&f, key, 0), i);
		}
	}
	check_shares(count, w, 4, 100000);
	CHECK_EQ(fx_pick_key(&f, "/a", 0), fx_pick_key(&f, "/a", 0));
	CHECK_EQ(fx_pick(&f, 0), -1); /* no key */
	fx_close(&f);
}

/* IPVS dh deals one bucket per server, whatever its weight. */
TEST(dh_ignores_weights_but_zero)
{
	struct fx f;
	const uint32_t w[2] = { 1, 9 };
	long count[2] = { 0 };
	uint32_t a;

	if (!fx_open(&f, "dh", w, 2, NULL))
		return;
	for (a = 0; a < 25600; a++) {
		uint8_t key[4] = { 10, 1, (uint8_t)(a >> 8), (uint8_t)a };
		struct sched_req req = { .lkey = key, .lkey_len = 4 };
		int i = sched_pick(f.s, &req);

		REQUIRE(i >= 0);
		/* an address key: IPVS's own bucket, hash_32(daddr) */
		CHECK_EQ(i, (int)(sched_hash_32(0x0a010000u | a, 8) % 2));
		count[i]++;
	}
	CHECK(labs(count[0] - count[1]) < 256);
	f.srv[1].weight = 0;
	sched_server_changed(f.s, &f.srv[1]);
	for (a = 0; a < 256; a++) {
		uint8_t key[4] = { 10, 1, 0, (uint8_t)a };
		struct sched_req req = { .lkey = key, .lkey_len = 4 };
		int i = sched_pick(f.s, &req);

		CHECK(i == 0 || i == -1);
	}
	fx_close(&f);
}
