/* test_memtrim.c - when a worker returns freed memory to the kernel. */
#include "core/memtrim.h"
#include "unit.h"

TEST(memtrim_after_a_flood_ends)
{
	CHECK(memtrim_due(0, 2000));
	CHECK(memtrim_due(500, 2000));   /* a quarter of the peak left */
	CHECK(!memtrim_due(501, 2000));
}

TEST(memtrim_never_for_a_small_peak)
{
	/* a handful of sessions coming and going holds nothing worth a trim */
	CHECK(!memtrim_due(0, 0));
	CHECK(!memtrim_due(0, MEMTRIM_MIN_PEAK - 1));
	CHECK(memtrim_due(0, MEMTRIM_MIN_PEAK));
}

TEST(memtrim_never_under_steady_load)
{
	CHECK(!memtrim_due(2000, 2000));
	CHECK(!memtrim_due(1500, 2000));
}
