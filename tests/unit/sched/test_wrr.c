/* test_wrr.c - IPVS interleaved weighted round robin, against a literal
 * transcription of ip_vs_wrr_schedule(). */
#include "fixture.h"

#define OFF (SCHED_SRV_DOWN | SCHED_SRV_DRAIN | SCHED_SRV_MAINT)

TEST(wrr_ipvs_sequence_4_3_2)
{
	struct fx f;
	const uint32_t w[3] = { 4, 3, 2 };
	static const int want[] = { 0, 0, 1, 0, 1, 2, 0, 1, 2, 0, 0, 1 };

	if (!fx_open(&f, "wrr", w, 3, NULL))
		return;
	for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++)
		CHECK_EQ(fx_pick(&f, 0), want[k]);
	fx_close(&f);
}

TEST(wrr_gcd_steps)
{
	struct fx f;
	const uint32_t w[3] = { 40, 30, 20 }; /* same as 4,3,2 */
	static const int want[] = { 0, 0, 1, 0, 1, 2, 0, 1, 2 };

	if (!fx_open(&f, "wrr", w, 3, NULL))
		return;
	for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++)
		CHECK_EQ(fx_pick(&f, 0), want[k]);
	fx_close(&f);
}

TEST(wrr_distribution)
{
	struct fx f;
	const uint32_t w[5] = { 1, 2, 3, 4, 10 };
	long count[5] = { 0 };

	if (!fx_open(&f, "wrr", w, 5, NULL))
		return;
	for (int k = 0; k < 100000; k++)
		count[fx_pick(&f, 0)]++;
	for (int i = 0; i < 5; i++) {
		long want = 100000L * w[i] / 20;

		CHECK(labs(count[i] - want) * 100 <= want);
	}
	fx_close(&f);
}

/* ---- the reference: ip_vs_wrr.c over an array ---- */

struct ref {
	int cl, cw, mw, di;
};

static uint32_t gcd(uint32_t a, uint32_t b)
{
	return b ? gcd(b, a % b) : a;
}

static void ref_changed(struct ref *r, struct fx *f)
{
	uint32_t g = 0, max = 0;

	for (size_t i = 0; i < f->n; i++) {
		uint32_t w = (f->srv[i].flags & OFF) ? 0 : f->srv[i].weight;

		if (w)
			g = g ? gcd(w, g) : w;
		if (w > max)
			max = w;
	}
	r->cl = -1;
	r->di = g ? (int)g : 1;
	r->mw = (int)max - (r->di - 1);
	if (r->cw > r->mw || !r->cw)
		r->cw = r->mw;
	else if (r->di > 1)
		r->cw = (r->cw / r->di) * r->di + 1;
}

static bool ref_ok(struct fx *f, int i, const uint64_t *skip, int cw)
{
	return sched_server_available(&f->srv[i]) && !(skip && (*skip >> i & 1)) &&
	       (int)f->srv[i].weight >= cw;
}

static int ref_pick(struct ref *r, struct fx *f, const uint64_t *skip)
{
	int dest = r->cl, last = r->cl, stop = -2, n = (int)f->n;
	bool last_pass = false, restarted = false;

	if (r->mw == 0)
		return -1;
	for (;;) {
		for (dest = dest + 1; dest < n; dest++) {
			if (ref_ok(f, dest, skip, r->cw)) {
				r->cl = dest;
				return dest;
			}
			if (dest == stop) {
				r->cl = dest;
				return -1;
			}
		}
		dest = -1;
		r->cw -= r->di;
		if (r->cw <= 0) {
			r->cw = r->mw;
			if (last_pass || last == -1) {
				r->cl = -1;
				return -1;
			}
			restarted = true;
		}
		last_pass = r->cw <= r->di;
		if (last_pass && restarted && last != -1)
			stop = last;
	}
}

/* Random weights, flags, overloads and retries: the tree walk returns
 * what the IPVS loop returns, every time. */
TEST(wrr_equals_ipvs_loop)
{
	uint64_t x = 12345;
	int mismatches = 0;

	for (int round = 0; round < 40; round++) {
		struct fx f;
		struct ref r = { 0 };
		uint32_t w[24];
		size_t n = 1 + fx_rand(&x) % 24;

		for (size_t i = 0; i < n; i++)
			w[i] = (uint32_t)(fx_rand(&x) % 7) * (round % 3 ? 1 : 6);
		if (!fx_open(&f, "wrr", w, n, NULL))
			return;
		for (size_t i = 0; i < n; i++)
			f.srv[i].upper = (uint32_t)(fx_rand(&x) % 4);
		for (size_t i = 0; i < n; i++)
			sched_server_changed(f.s, &f.srv[i]);
		ref_changed(&r, &f);
		for (int k = 0; k < 3000; k++) {
			uint64_t op = fx_rand(&x) % 100, skip = fx_rand(&x);
			size_t i = fx_rand(&x) % n;
			struct sched_req req = { .skip = &skip };
			int got, want;

			if (op < 3) {
				f.srv[i].flags ^= (uint32_t)1 << (fx_rand(&x) % 3);
			} else if (op < 6) {
				f.srv[i].weight = (uint32_t)(fx_rand(&x) % 5);
			} else if (op < 20) {
				sched_conn_open(f.s, &f.srv[i]);
				continue;
			} else if (op < 34) {
				sched_conn_close(f.s, &f.srv[i], true);
				continue;
			}
			if (op < 6) {
				sched_server_changed(f.s, &f.srv[i]);
				ref_changed(&r, &f);
				continue;
			}
			if (op > 90) {
				skip &= fx_rand(&x) & fx_rand(&x);
				got = sched_pick(f.s, &req);
				want = ref_pick(&r, &f, &skip);
			} else {
				got = fx_pick(&f, 0);
				want = ref_pick(&r, &f, NULL);
			}
			if (got != want && mismatches++ < 5)
				unit_fail(__FILE__, __LINE__,
					  "round %d step %d: got %d, IPVS %d",
					  round, k, got, want);
		}
		fx_close(&f);
	}
	CHECK_EQ(mismatches, 0);
}

TEST(wrr_all_weight_zero)
{
	struct fx f;
	const uint32_t w[2] = { 0, 0 };

	if (!fx_open(&f, "wrr", w, 2, NULL))
		return;
	CHECK_EQ(fx_pick(&f, 0), -1);
	f.srv[1].weight = 2;
	sched_server_changed(f.s, &f.srv[1]);
	CHECK_EQ(fx_pick(&f, 0), 1);
	fx_close(&f);
}
