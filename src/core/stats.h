/*
 * stats.h - the counters of a service, a pool's share or a real server:
 * connections, packets, bytes, HTTP requests by status class, retries and
 * response times (a sum and a log-linear histogram), with the rates and
 * percentiles the control thread derives from them.
 *
 * Threads: counters are per thread (index weir_thread_id), written only by
 * their thread without locks and summed on read. What is derived (rates,
 * the response-time average, histogram snapshots, the -Z baseline) belongs
 * to the control thread.
 */
#ifndef WEIR_STATS_H
#define WEIR_STATS_H

#include <stdint.h>

#include "core/history.h"
#include "core/rate.h"
#include "core/util.h"

/* Response times are counted in a log-linear histogram: 4 buckets per
 * power of two of microseconds, from 1 us to about 17 s (the last bucket
 * takes everything above). */
#define RT_BUCKETS 96
#define RT_WINDOW_SNAPS 4            /* p99 window: snapshots ... */
#define RT_SNAP_TICKS 8              /* ... every 8 rate ticks (16 s) */

/* One thread's share of an object's counters, on its own cache lines. */
struct vs_counters {
	uint64_t conns, inpkts, outpkts, inbytes, outbytes;
	/* HTTP */
	uint64_t requests;
	uint64_t resp[6];        /* by status class: [1]..[5]; [0] none sent */
	uint64_t retries;
	/* datagram services (UDP) */
	uint64_t evictions;      /* sessions ended early to make room (max_conn) */
	uint64_t drops;          /* datagrams dropped: no server, too large,
	                          * refused by the kernel, a stray reply */
	uint64_t timeouts;       /* sessions that ended waiting for an expected
	                          * response */
	uint64_t resp_time_us;   /* sum, to the first response byte */
	uint64_t resp_timed;     /* how many the sum and histogram hold */
	uint64_t rt_hist[RT_BUCKETS];
} __attribute__((aligned(CACHELINE)));

/* What the control thread derives from the counters every rate tick. */
struct vs_derived {
	uint64_t rt_ewma_us;      /* response time, moving average */
	uint64_t last_timed, last_rt_sum;
	uint64_t snaps[RT_WINDOW_SNAPS][RT_BUCKETS]; /* histogram history */
	uint32_t snap_next, nsnaps, ticks;
};

struct vs_stats {
	struct vs_counters *pt;   /* [table nthreads] */
	struct rate_est est;      /* control thread only */
	struct rate_totals zero;  /* totals at the last -Z */
	uint64_t zero_resp[6], zero_retries, zero_rt_sum, zero_timed; /* ditto */
	uint64_t zero_evictions, zero_drops, zero_timeouts;           /* ditto */
	struct vs_derived *d;     /* control thread only */
	struct hist_ring *hist;   /* the dashboard's graphs (history.h); control
	                           * thread only, NULL until the first tick */
};

/* The calling thread's counter slot: workers 0..n-1, control thread n. */
extern _Thread_local int weir_thread_id;

/* Allocates <s>'s counters for <nthreads> threads. 0 or -ENOMEM. */
int stats_init(struct vs_stats *s, int nthreads);
void stats_fini(struct vs_stats *s);

/* Counter updates from the calling thread. */
static inline struct vs_counters *stats_mine(struct vs_stats *s)
{
	return &s->pt[weir_thread_id];
}
void stats_sum(const struct vs_stats *s, int nthreads, struct rate_totals *out);
/* One response time, into the sum and the histogram. */
void stats_observe_rt(struct vs_counters *c, uint64_t us);
/* The bucket of <us>, and the upper bound of bucket <b> in us. */
unsigned rt_bucket(uint64_t us);
uint64_t rt_bucket_upper(unsigned b);

/* Everything the listings, JSON and /metrics show of one object: totals
 * since the last -Z (all of them), rates, response times. */
struct stats_view {
	struct rate_totals tot;
	struct rate_value rate;
	uint64_t requests, resp[6], retries, rt_sum_us, timed;
	uint64_t evictions, drops, timeouts;
	uint64_t rps;             /* requests per second (rate estimator) */
	uint64_t rt_ewma_us, p99_us;
	uint64_t p50_us;          /* the median, over the p99's window */
};
void stats_view(const struct vs_stats *s, int nthreads, struct stats_view *out);

/* Control thread: every rate tick, the rates and what is derived from the
 * counters; and -Z, which makes the listings count from now. */
void stats_tick(struct vs_stats *s, int nthreads);
void stats_zero(struct vs_stats *s, int nthreads);

#endif
