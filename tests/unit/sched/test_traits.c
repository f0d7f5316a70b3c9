/* test_traits.c - the traits the rest of weir reads instead of scheduler
 * names: which algorithms hash (and on what), take -b flags, have a table
 * whose size the caller picks, or pick by counts and chance (the XDP data
 * path rebuilds those periodically). */
#include "fixture.h"

struct want {
	const char *name;
	uint8_t hash;
	bool takes_flags, table_sized, periodic, uses_rtt;
};

static const struct want wants[] = {
	{ "rr",    SCHED_HASH_NONE, false, false, false, false },
	{ "wrr",   SCHED_HASH_NONE, false, false, false, false },
	{ "swrr",  SCHED_HASH_NONE, false, false, false, false },
	{ "lc",    SCHED_HASH_NONE, false, false, true,  false },
	{ "wlc",   SCHED_HASH_NONE, false, false, true,  false },
	{ "sed",   SCHED_HASH_NONE, false, false, true,  false },
	{ "nq",    SCHED_HASH_NONE, false, false, true,  false },
	{ "lblc",  SCHED_HASH_NONE, false, false, true,  false },
	{ "lblcr", SCHED_HASH_NONE, false, false, true,  false },
	{ "p2c",   SCHED_HASH_NONE, false, false, true,  false },
	{ "lrt",   SCHED_HASH_NONE, false, false, true,  true  },
	/* fo only moves when a server's state does, as rr; ovf follows the
	 * active counts, twos chance and the counts */
	{ "fo",    SCHED_HASH_NONE, false, false, false, false },
	{ "ovf",   SCHED_HASH_NONE, false, false, true,  false },
	{ "twos",  SCHED_HASH_NONE, false, false, true,  false },
	{ "sh",    SCHED_HASH_SRC,  true,  false, false, false },
	{ "mh",    SCHED_HASH_SRC,  true,  true,  false, false },
	{ "dh",    SCHED_HASH_DST,  false, false, false, false },
};

TEST(sched_traits)
{
	for (size_t i = 0; i < sizeof(wants) / sizeof(wants[0]); i++) {
		const struct want *w = &wants[i];
		const struct sched_ops *ops = sched_find(w->name);

		if (!ops) {
			unit_fail(__FILE__, __LINE__, "no scheduler %s", w->name);
			continue;
		}
		if (ops->hash != w->hash || ops->takes_flags != w->takes_flags ||
		    ops->table_sized != w->table_sized || ops->periodic != w->periodic ||
		    ops->uses_rtt != w->uses_rtt)
			unit_fail(__FILE__, __LINE__, "%s: traits hash %u flags %d sized %d "
				  "periodic %d rtt %d", w->name, ops->hash, ops->takes_flags,
				  ops->table_sized, ops->periodic, ops->uses_rtt);
		/* a hashing algorithm has the static table a mirror copies */
		CHECK_EQ(ops->hash != SCHED_HASH_NONE, ops->table != NULL);
	}
}

static void count_one(const struct sched_ops *ops, void *arg)
{
	(*(size_t *)arg)++;
}

/* A new algorithm gets a line above: its traits are a decision. */
TEST(sched_traits_cover_the_registry)
{
	size_t n = 0;

	sched_foreach(count_one, &n);
	CHECK_EQ(n, sizeof(wants) / sizeof(wants[0]));
}
