/* test_rendezvous.c - weighted rendezvous hashing (sched_rendezvous): the
 * share of keys follows the weights, a key stays on its server while it is
 * available whatever the others do, and a server that joins takes only
 * its own share, from everyone. */
#include <stdio.h>

#include "fixture.h"

#define NKEYS 20000

static int pick_key(struct fx *f, unsigned k)
{
	char key[32];
	int n = snprintf(key, sizeof(key), "session-%u", k);

	return sched_rendezvous(f->ptr, f->n, key, (size_t)n);
}

/* <n> servers of weights <w> (NULL = all 1), no scheduler instance. */
static void servers(struct fx *f, const uint32_t *w, size_t n)
{
	memset(f, 0, sizeof(*f));
	f->n = n;
	for (size_t i = 0; i < n; i++) {
		fx_server_init(&f->srv[i], i, w ? w[i] : 1);
		f->ptr[i] = &f->srv[i];
	}
}

TEST(rendezvous_share_follows_weights)
{
	static const uint32_t w[] = { 1, 2, 3, 4 };
	unsigned count[4] = { 0 };
	struct fx f;

	servers(&f, w, 4);
	for (unsigned k = 0; k < NKEYS; k++) {
		int i = pick_key(&f, k);

		REQUIRE(i >= 0 && i < 4);
		count[i]++;
	}
	for (int i = 0; i < 4; i++) {
		double share = (double)count[i] / NKEYS, want = w[i] / 10.0;

		if (share < want - 0.02 || share > want + 0.02)
			unit_fail(__FILE__, __LINE__, "server %d (weight %u): %.3f of the keys, want %.2f",
				  i, w[i], share, want);
	}
}

TEST(rendezvous_key_stays_when_others_leave)
{
	static int before[NKEYS];
	struct fx f;
	unsigned moved = 0, checked = 0;

	servers(&f, NULL, 6);
	for (unsigned k = 0; k < NKEYS; k++)
		before[k] = pick_key(&f, k);
	/* server 1 goes down, server 4 is drained, server 5 leaves the set */
	f.srv[1].flags |= SCHED_SRV_DOWN;
	f.srv[4].flags |= SCHED_SRV_DRAIN;
	f.n = 5;
	for (unsigned k = 0; k < NKEYS; k++) {
		int now = pick_key(&f, k);

		CHECK(now != 1 && now != 4 && now != 5);
		if (before[k] == 0 || before[k] == 2 || before[k] == 3) {
			checked++;
			moved += now != before[k];
		}
	}
	CHECK(checked > NKEYS / 3);
	CHECK_EQ(moved, 0);
	/* and back: every key returns where it was */
	f.srv[1].flags = f.srv[4].flags = 0;
	f.n = 6;
	for (unsigned k = 0; k < NKEYS; k++)
		if (pick_key(&f, k) != before[k]) {
			unit_fail(__FILE__, __LINE__, "key %u did not come back to %d", k, before[k]);
			break;
		}
}

TEST(rendezvous_few_keys_move_when_one_joins)
{
	static int before[NKEYS];
	static const uint32_t w[] = { 2, 2, 2, 2, 2, 1 };
	struct fx f;
	unsigned moved = 0;

	servers(&f, w, 6);
	f.n = 5;
	for (unsigned k = 0; k < NKEYS; k++)
		before[k] = pick_key(&f, k);
	f.n = 6; /* the weight-1 server joins: 1/11 of the keys are its own */
	for (unsigned k = 0; k < NKEYS; k++) {
		int now = pick_key(&f, k);

		if (now != before[k]) {
			moved++;
			CHECK_EQ(now, 5); /* a key moves only to the newcomer */
		}
	}
	if (moved < NKEYS / 11 - NKEYS / 50 || moved > NKEYS / 11 + NKEYS / 50)
		unit_fail(__FILE__, __LINE__, "%u of %u keys moved, want about %u", moved, NKEYS,
			  NKEYS / 11);
}

TEST(rendezvous_none_available)
{
	struct fx f;

	servers(&f, NULL, 3);
	CHECK_EQ(sched_rendezvous(f.ptr, 0, "k", 1), -1);
	f.srv[0].weight = 0;                 /* quiesced */
	f.srv[1].flags = SCHED_SRV_MAINT;
	f.srv[2].flags = SCHED_SRV_OVERLOAD;
	CHECK_EQ(sched_rendezvous(f.ptr, 3, "k", 1), -1);
	f.srv[2].flags = 0;
	CHECK_EQ(sched_rendezvous(f.ptr, 3, "k", 1), 2);
	CHECK_EQ(sched_rendezvous(f.ptr, 3, "", 0), 2); /* an empty key is a key */
}

/* The same key, the same server, in every process and version: sticky
 * sessions keyed by a header survive a restart or an upgrade. The answers
 * were computed apart from weir (FNV-1a, fmix64, -1/ln(u) in Python). */
TEST(rendezvous_answers_are_stable)
{
	struct fx f;

	servers(&f, NULL, 8);
	CHECK_EQ(sched_rendezvous(f.ptr, 8, "alice", 5), 1);
	CHECK_EQ(sched_rendezvous(f.ptr, 8, "bob", 3), 2);
	CHECK_EQ(sched_rendezvous(f.ptr, 8, "session-42", 10), 1);
	CHECK_EQ(sched_fnv1a64(SCHED_FNV64_BASIS, "a", 1), 0xaf63dc4c8601ec8cull);
}
