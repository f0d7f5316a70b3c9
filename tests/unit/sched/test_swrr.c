/* test_swrr.c - smooth weighted round robin against nginx's loop. */
#include "fixture.h"

TEST(swrr_nginx_sequence_5_1_1)
{
	struct fx f;
	const uint32_t w[3] = { 5, 1, 1 };
	static const int want[] = { 0, 0, 1, 0, 2, 0, 0, 0, 0, 1, 0, 2, 0, 0 };

	if (!fx_open(&f, "swrr", w, 3, NULL))
		return;
	for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++)
		CHECK_EQ(fx_pick(&f, 0), want[k]);
	fx_close(&f);
}

TEST(swrr_distribution)
{
	struct fx f;
	const uint32_t w[6] = { 1, 2, 3, 5, 8, 13 };
	long count[6] = { 0 };

	if (!fx_open(&f, "swrr", w, 6, NULL))
		return;
	for (int k = 0; k < 100000; k++)
		count[fx_pick(&f, 0)]++;
	for (int i = 0; i < 6; i++) {
		long want = 100000L * w[i] / 32;

		CHECK(labs(count[i] - want) * 100 <= want);
	}
	fx_close(&f);
}

/* ---- nginx's ngx_http_upstream_get_peer(), transcribed ---- */

struct ref {
	long long cur[64];
};

static int ref_pick_set(struct ref *r, struct sched_server **srv, size_t n,
			const uint64_t *skip)
{
	long long total = 0;
	int best = -1;

	for (int i = 0; i < (int)n; i++) {
		if (!sched_server_available(srv[i]) || (skip && *skip >> i & 1))
			continue;
		r->cur[i] += srv[i]->weight;
		total += srv[i]->weight;
		if (best < 0 || r->cur[i] > r->cur[best])
			best = i;
	}
	if (best >= 0)
		r->cur[best] -= total;
	return best;
}

static int ref_pick(struct ref *r, struct fx *f, const uint64_t *skip)
{
	return ref_pick_set(r, f->ptr, f->n, skip);
}

TEST(swrr_equals_nginx_loop)
{
	uint64_t x = 777;
	int mismatches = 0;

	for (int round = 0; round < 40; round++) {
		struct fx f;
		struct ref r = { { 0 } };
		uint32_t w[64];
		size_t n = 1 + fx_rand(&x) % 64;

		for (size_t i = 0; i < n; i++)
			w[i] = 1 + (uint32_t)(fx_rand(&x) % (round % 2 ? 3 : 9));
		if (!fx_open(&f, "swrr", w, n, NULL))
			return;
		for (size_t i = 0; i < n; i++) {
			f.srv[i].upper = (uint32_t)(fx_rand(&x) % 5);
			sched_server_changed(f.s, &f.srv[i]);
		}
		for (int k = 0; k < 4000; k++) {
			uint64_t op = fx_rand(&x) % 100, skip = fx_rand(&x) & fx_rand(&x);
			size_t i = fx_rand(&x) % n;
			struct sched_req req = { .skip = &skip };
			int got, want;

			if (op < 4) {
				if (op < 2)
					f.srv[i].flags ^= (uint32_t)1 << (fx_rand(&x) % 3);
				else
					f.srv[i].weight = (uint32_t)(fx_rand(&x) % 6);
				sched_server_changed(f.s, &f.srv[i]);
				continue;
			}
			if (op < 20) {
				sched_conn_open(f.s, &f.srv[i]);
				continue;
			}
			if (op < 36) {
				sched_conn_close(f.s, &f.srv[i], true);
				continue;
			}
			if (op > 90) {
				got = sched_pick(f.s, &req);
				want = ref_pick(&r, &f, &skip);
			} else {
				got = fx_pick(&f, 0);
				want = ref_pick(&r, &f, NULL);
			}
			if (got != want && mismatches++ < 5)
				unit_fail(__FILE__, __LINE__,
					  "round %d step %d: got %d, nginx %d",
					  round, k, got, want);
		}
		fx_close(&f);
	}
	CHECK_EQ(mismatches, 0);
}

/* Servers that stay keep their current weight across a set change; a new
 * one starts at zero, as nginx's dynamic upstreams do. */
TEST(swrr_set_change_keeps_currents)
{
	struct fx f;
	const uint32_t w[3] = { 5, 1, 1 };
	struct sched_server *next[3];
	struct ref r = { { 0 } };

	if (!fx_open(&f, "swrr", w, 3, NULL))
		return;
	for (int k = 0; k < 3; k++)
		CHECK_EQ(fx_pick(&f, 0), ref_pick(&r, &f, NULL));
	/* drop b, add d: the reference is re-indexed the same way */
	fx_server_init(&f.srv[3], 3, 2);
	next[0] = &f.srv[0];
	next[1] = &f.srv[2];
	next[2] = &f.srv[3];
	REQUIRE(sched_set_servers(f.s, next, 3) == 0);
	r.cur[1] = r.cur[2];
	r.cur[2] = 0;
	for (int k = 0; k < 30; k++)
		CHECK_EQ(fx_pick(&f, 0), ref_pick_set(&r, next, 3, NULL));
	fx_close(&f);
}

/* Past 2^20 picks the lazy current weights are rebased: nothing shows. */
TEST(swrr_long_run_rebases)
{
	struct fx f;
	const uint32_t w[3] = { 5, 1, 1 };
	struct ref r = { { 0 } };
	int mismatches = 0;

	if (!fx_open(&f, "swrr", w, 3, NULL))
		return;
	for (long k = 0; k < (1L << 20) + 5000; k++) {
		if (k == (1L << 20) - 3) { /* a server sits out across it */
			f.srv[1].flags |= SCHED_SRV_MAINT;
			sched_server_changed(f.s, &f.srv[1]);
		}
		if (k == (1L << 20) + 7) {
			f.srv[1].flags = 0;
			sched_server_changed(f.s, &f.srv[1]);
		}
		if (fx_pick(&f, 0) != ref_pick(&r, &f, NULL))
			mismatches++;
	}
	CHECK_EQ(mismatches, 0);
	fx_close(&f);
}
