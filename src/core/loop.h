/*
 * loop.h - one event loop per thread: edge-triggered epoll, a timer heap,
 * functions posted from other threads, and deferred work that runs after
 * the current batch of events.
 *
 * Ownership: the loop owns none of the loop_io or timer objects registered
 * with it; their owner must loop_del()/timer_cancel() before freeing them.
 * An object whose events may still be in the batch being dispatched must be
 * freed with loop_defer(), not directly: the batch may still hold a pointer
 * to it. Everything except loop_post() must be called on the loop's thread.
 */
#ifndef WEIR_LOOP_H
#define WEIR_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>

struct loop;

struct loop_io {
	int fd;
	void (*cb)(struct loop_io *io, uint32_t events);
};

struct timer {
	uint64_t when;     /* monotonic ms */
	size_t heap_idx;   /* position in the heap + 1; 0 = not armed */
	void (*cb)(struct timer *t);
};

/* Work that runs once the events of the current batch (and the timers due)
 * have been dispatched, before deferred frees: e.g. send in one syscall
 * what the batch's callbacks queued. Intrusive and allocation-free:
 * queueing a queued hook does nothing. Its owner cancels it before freeing
 * it. */
struct loop_flush {
	void (*fn)(struct loop_flush *f);
	struct loop_flush *next;
	bool queued;
};

struct loop *loop_new(void);
/* Frees the loop. Tasks posted or deferred but never run are run first, on
 * the caller's thread, so the references they carry are released. */
void loop_free(struct loop *l);

/* Registers <io> for <events> (EPOLLIN|EPOLLOUT..., EPOLLET is added). */
int loop_add(struct loop *l, struct loop_io *io, uint32_t events);
int loop_mod(struct loop *l, struct loop_io *io, uint32_t events);
void loop_del(struct loop *l, struct loop_io *io);

/* Arms <t> to fire at <when_ms> (re-arms if armed). */
void timer_arm(struct loop *l, struct timer *t, uint64_t when_ms);
void timer_cancel(struct loop *l, struct timer *t);
static inline bool timer_armed(const struct timer *t) { return t->heap_idx != 0; }

/* Runs <fn>(<arg>) on the loop's thread soon. Safe from any thread.
 * Returns 0 or -ENOMEM. */
int loop_post(struct loop *l, void (*fn)(void *arg), void *arg);
/* Runs <fn>(<arg>) after the current batch of events (loop thread only). */
int loop_defer(struct loop *l, void (*fn)(void *arg), void *arg);
/* Queues <f> to run after the current batch (see struct loop_flush). A
 * hook queued while the flushes run goes in the same round. */
void loop_flush_queue(struct loop *l, struct loop_flush *f);
void loop_flush_cancel(struct loop *l, struct loop_flush *f);

/* Milliseconds cached at the start of the current iteration. */
uint64_t loop_now(const struct loop *l);

/* Runs until loop_stop(). Returns 0, or -errno if epoll fails. */
int loop_run(struct loop *l);
/* Makes loop_run() return after the current iteration. Loop thread only;
 * from another thread, post a function that calls it. */
void loop_stop(struct loop *l);

#endif
