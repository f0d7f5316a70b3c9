/*
 * history.h - the last minutes of a service's or a real server's numbers,
 * for the dashboard's graphs (ctl/dash.c): a ring of samples, one per rate
 * tick (RATE_INTERVAL_MS), so a page opened late still shows what came
 * before it.
 *
 * A sample's rates are the counters' growth over the interval it closes
 * (not the listings' moving average: a graph shows the interval as it was).
 *
 * Threads and ownership: a ring belongs to its vs_stats (stats.h, field
 * hist), is allocated by the control thread at the object's first tick and
 * freed by stats_fini; only the control thread writes or reads it.
 */
#ifndef WEIR_HISTORY_H
#define WEIR_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "core/rate.h"

#define HIST_SAMPLES 180          /* 6 minutes at one sample per 2 s tick */

struct hist_sample {
	uint64_t t_ms;            /* wall clock at the tick, ms since the epoch */
	float rps, cps;           /* requests and connections per second */
	float inbps, outbps;      /* bytes per second, client->server and back */
	float p99_ms;             /* response time p99 (stats.h's window) */
	uint32_t active;          /* open connections at the tick */
};

/* What one tick observed of an object. */
struct hist_in {
	struct rate_totals tot;   /* totals since start (a decrease, after -Z,
	                           * counts as no growth) */
	uint64_t p99_us;
	uint32_t active;
};

struct hist_ring {
	struct hist_sample s[HIST_SAMPLES];
	uint32_t next, n;         /* where the next sample goes; how many held */
	uint64_t last_tick;       /* monotonic ms of the last push */
	uint64_t last_wall;       /* wall ms of the last push */
	struct rate_totals last;  /* the totals then */
	int primed;
};

/* Records tick <tick> (monotonic ms) at wall time <wall_ms>. The first call
 * only primes the ring (a rate needs two ticks); a second call for the same
 * <tick> is ignored (a server seen twice in one tick). Pure. */
void hist_push(struct hist_ring *h, uint64_t tick, uint64_t wall_ms, const struct hist_in *in);
/* Sample <i> of those held, oldest first (i < h->n). */
const struct hist_sample *hist_at(const struct hist_ring *h, uint32_t i);

struct vs_stats;
/* Control thread, every rate tick after stats_tick(): one sample of <s>
 * (allocating its ring the first time; no sample without memory). */
void stats_record(struct vs_stats *s, int nthreads, uint64_t tick, uint64_t wall_ms,
		  uint32_t active);

#endif
