/* test_memtrim.c - when freed heap memory goes back to the kernel. */
#include "core/memtrim.h"
#include "unit.h"

#define MB (1u << 20)

TEST(memtrim_once_after_memory_is_freed)
{
	struct memtrim m = { 0 };

	CHECK(!memtrim_due(&m, MB));          /* the first look sets the mark */
	CHECK(!memtrim_due(&m, 2 * MB - 1));
	CHECK(memtrim_due(&m, 2 * MB));       /* a megabyte freed, still resident */
	memtrim_done(&m, MB / 2);             /* the trim gave most of it back */
	CHECK(!memtrim_due(&m, MB / 2));
	CHECK(!memtrim_due(&m, MB));
}

TEST(memtrim_counts_from_the_lowest_point)
{
	struct memtrim m = { 0 };

	CHECK(!memtrim_due(&m, 3 * MB));
	CHECK(!memtrim_due(&m, MB / 4));      /* freed memory was reused */
	CHECK(memtrim_due(&m, MB / 4 + MB));  /* ... and freed again */
}

TEST(memtrim_never_under_steady_load)
{
	struct memtrim m = { 0 };

	/* slack moving around by less than the gain */
	for (int i = 0; i < 100; i++)
		CHECK(!memtrim_due(&m, 4 * MB + (size_t)(i % 3) * (MB / 4)));
}
