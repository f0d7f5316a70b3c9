/*
 * memtrim.h - giving freed heap memory back to the kernel.
 *
 * glibc keeps what is freed in its arenas: after a flood of connections
 * closed, or once idle keep-alive connections parked (their sessions
 * freed), the process's RSS stayed at the peak. The control thread's tick
 * (every 2 s) calls memtrim_tick(), which measures the slack: resident
 * memory (/proc/self/statm) minus the heap in use (mallinfo2, every
 * arena). When the slack has grown by MEMTRIM_MIN_GAIN from its lowest
 * since the last trim, malloc_trim(0) gives every arena's free pages back.
 * A steady load, whose freed memory is reused, never trims; a drop trims
 * once; freed pages that were reused and freed again count again.
 */
#ifndef WEIR_MEMTRIM_H
#define WEIR_MEMTRIM_H

#include <stdbool.h>
#include <stddef.h>

#define MEMTRIM_MIN_GAIN (1u << 20)

struct memtrim {
	size_t low;         /* least slack seen since the last trim */
	bool started;
};

/* Notes <slack> bytes now; true when a trim is due. Pure, for the unit
 * tests. */
static inline bool memtrim_due(struct memtrim *m, size_t slack)
{
	if (!m->started || slack < m->low)
		m->low = slack;
	m->started = true;
	return slack - m->low >= MEMTRIM_MIN_GAIN;
}

/* The trim is done, leaving <slack>: the new low mark. */
static inline void memtrim_done(struct memtrim *m, size_t slack)
{
	m->low = slack;
}

/* At start-up, before any thread: a heap shrinks on free only once 1 MB is
 * free at its top, not 128 KB (glibc's default, with which a worker's
 * heap shrank and grew again every few dozen connections with
 * Connection: close: a madvise and ~50 page faults each time). A worker
 * heap's top is also what malloc_trim() cannot give back (it trims only
 * the main arena's top), so the bound must stay small: after a flood a
 * worker keeps at most 1 MB of it. */
void memtrim_init(void);

/* Measures, and trims if memtrim_due() says so. One thread calls it (a
 * trim covers the whole process). */
void memtrim_tick(struct memtrim *m);

#endif
