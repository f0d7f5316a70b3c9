/*
 * memtrim.h - when a worker gives freed heap memory back to the kernel.
 *
 * glibc keeps what is freed in its arenas: after a flood of connections
 * closes, a worker's resident memory stays at the flood's peak. Each
 * worker notes its peak session count; once a second it asks
 * memtrim_due() and, when the count has fallen far below that peak, calls
 * malloc_trim(0) (which returns the free pages of every arena) and starts
 * a new peak. A steady load never trims; a flood that ends trims once.
 * Pure: no clock, no allocator, so the rule is unit-tested.
 */
#ifndef WEIR_MEMTRIM_H
#define WEIR_MEMTRIM_H

#include <stdbool.h>

#define MEMTRIM_MIN_PEAK 256   /* fewer sessions than this never held much */

/* True when <now> open sessions are few enough, against the <peak> seen
 * since the last trim, for a trim to be worth its cost. */
static inline bool memtrim_due(unsigned now, unsigned peak)
{
	return peak >= MEMTRIM_MIN_PEAK && now <= peak / 4;
}

#endif
