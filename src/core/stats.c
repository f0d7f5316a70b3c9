/* stats.c - the counters of services and real servers (see stats.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/stats.h"

_Thread_local int weir_thread_id;

int stats_init(struct vs_stats *s, int nthreads)
{
	memset(s, 0, sizeof(*s));
	s->pt = aligned_alloc(CACHELINE, (size_t)nthreads * sizeof(*s->pt));
	s->d = calloc(1, sizeof(*s->d));
	if (!s->pt || !s->d) {
		free(s->pt);
		free(s->d);
		return -ENOMEM;
	}
	memset(s->pt, 0, (size_t)nthreads * sizeof(*s->pt));
	/* the p99 window starts from nothing: snapshot 0 is all zeros */
	s->d->nsnaps = 1;
	s->d->snap_next = 1;
	return 0;
}

void stats_fini(struct vs_stats *s)
{
	free(s->pt);
	free(s->d);
	free(s->hist);
}

void stats_sum(const struct vs_stats *s, int nthreads, struct rate_totals *out)
{
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < nthreads; i++) {
		out->conns    += counter_read(&s->pt[i].conns);
		out->inpkts   += counter_read(&s->pt[i].inpkts);
		out->outpkts  += counter_read(&s->pt[i].outpkts);
		out->inbytes  += counter_read(&s->pt[i].inbytes);
		out->outbytes += counter_read(&s->pt[i].outbytes);
		out->requests += counter_read(&s->pt[i].requests);
	}
}

unsigned rt_bucket(uint64_t us)
{
	unsigned octave, b;

	if (us < 4)
		return (unsigned)us;
	octave = 63u - (unsigned)__builtin_clzll(us);   /* >= 2 */
	b = octave * 4 + (unsigned)((us >> (octave - 2)) & 3);
	return b < RT_BUCKETS ? b : RT_BUCKETS - 1;
}

uint64_t rt_bucket_upper(unsigned b)
{
	unsigned octave = b / 4;

	if (b < 8) /* 0..3 hold 0..3 us; 4..7 are never used */
		return b < 4 ? b + 1 : 4;
	return ((uint64_t)(4 + (b & 3) + 1)) << (octave - 2);
}

void stats_observe_rt(struct vs_counters *c, uint64_t us)
{
	counter_add(&c->resp_time_us, us);
	counter_add(&c->resp_timed, 1);
	counter_add(&c->rt_hist[rt_bucket(us)], 1);
}

static void hist_sum(const struct vs_stats *s, int nthreads, uint64_t *h)
{
	memset(h, 0, RT_BUCKETS * sizeof(*h));
	for (int i = 0; i < nthreads; i++)
		for (unsigned b = 0; b < RT_BUCKETS; b++)
			h[b] += counter_read(&s->pt[i].rt_hist[b]);
}

/* The <pct>th percentile of the counts in <h> (upper bucket bound, us). */
static uint64_t hist_pct(const uint64_t *h, unsigned pct)
{
	uint64_t n = 0, seen = 0, want;

	for (unsigned b = 0; b < RT_BUCKETS; b++)
		n += h[b];
	if (!n)
		return 0;
	want = n - n * (100 - pct) / 100; /* the smallest count covering pct% */
	for (unsigned b = 0; b < RT_BUCKETS; b++) {
		seen += h[b];
		if (seen >= want)
			return rt_bucket_upper(b);
	}
	return rt_bucket_upper(RT_BUCKETS - 1);
}

/* The p50 and p99 of what the histogram gained since the window's start:
 * the oldest snapshot kept. Read at any time, on the control thread. */
static void window_pcts(const struct vs_stats *s, int nthreads, struct stats_view *v)
{
	const struct vs_derived *d = s->d;
	const uint64_t *old = d->snaps[d->nsnaps < RT_WINDOW_SNAPS ? 0 : d->snap_next];
	uint64_t h[RT_BUCKETS];

	hist_sum(s, nthreads, h);
	for (unsigned b = 0; b < RT_BUCKETS; b++)
		h[b] -= MIN(h[b], old[b]);
	v->p50_us = hist_pct(h, 50);
	v->p99_us = hist_pct(h, 99);
}

/* Every rate tick: the response-time average, and every RT_SNAP_TICKS a
 * histogram snapshot (where a later p99 window starts). */
static void stats_derive(struct vs_stats *s, int nthreads)
{
	struct vs_derived *d = s->d;
	uint64_t sum = 0, timed = 0;

	for (int i = 0; i < nthreads; i++) {
		sum += counter_read(&s->pt[i].resp_time_us);
		timed += counter_read(&s->pt[i].resp_timed);
	}
	if (timed > d->last_timed) {
		uint64_t avg = (sum - d->last_rt_sum) / (timed - d->last_timed);

		/* as the rate estimator: a quarter of the way each tick */
		d->rt_ewma_us = d->rt_ewma_us ? d->rt_ewma_us - d->rt_ewma_us / 4 + avg / 4 : avg;
	}
	d->last_timed = timed;
	d->last_rt_sum = sum;
	if (d->ticks++ % RT_SNAP_TICKS == 0) {
		hist_sum(s, nthreads, d->snaps[d->snap_next]);
		d->snap_next = (d->snap_next + 1) % RT_WINDOW_SNAPS;
		if (d->nsnaps < RT_WINDOW_SNAPS)
			d->nsnaps++;
	}
}

void stats_view(const struct vs_stats *s, int nthreads, struct stats_view *v)
{
	memset(v, 0, sizeof(*v));
	stats_sum(s, nthreads, &v->tot);
	v->tot.conns -= s->zero.conns;
	v->tot.inpkts -= s->zero.inpkts;
	v->tot.outpkts -= s->zero.outpkts;
	v->tot.inbytes -= s->zero.inbytes;
	v->tot.outbytes -= s->zero.outbytes;
	v->tot.requests -= s->zero.requests;
	v->requests = v->tot.requests;
	rate_read(&s->est, &v->rate);
	v->rps = v->rate.rps;
	for (int i = 0; i < nthreads; i++) {
		for (int k = 0; k < 6; k++)
			v->resp[k] += counter_read(&s->pt[i].resp[k]);
		v->retries += counter_read(&s->pt[i].retries);
		v->rt_sum_us += counter_read(&s->pt[i].resp_time_us);
		v->timed += counter_read(&s->pt[i].resp_timed);
		v->evictions += counter_read(&s->pt[i].evictions);
		v->drops += counter_read(&s->pt[i].drops);
		v->timeouts += counter_read(&s->pt[i].timeouts);
	}
	for (int k = 0; k < 6; k++)
		v->resp[k] -= s->zero_resp[k];
	v->evictions -= s->zero_evictions;
	v->drops -= s->zero_drops;
	v->timeouts -= s->zero_timeouts;
	v->retries -= s->zero_retries;
	v->rt_sum_us -= s->zero_rt_sum;
	v->timed -= s->zero_timed;
	v->rt_ewma_us = s->d->rt_ewma_us;
	window_pcts(s, nthreads, v); /* up to date, not as of the tick */
}

void stats_tick(struct vs_stats *st, int nthreads)
{
	struct rate_totals tot;

	stats_sum(st, nthreads, &tot);
	rate_update(&st->est, &tot);
	stats_derive(st, nthreads);
}

void stats_zero(struct vs_stats *s, int nthreads)
{
	struct rate_totals tot;

	stats_sum(s, nthreads, &tot);
	s->zero = tot;
	memset(s->zero_resp, 0, sizeof(s->zero_resp));
	s->zero_retries = s->zero_rt_sum = s->zero_timed = 0;
	s->zero_evictions = s->zero_drops = s->zero_timeouts = 0;
	for (int i = 0; i < nthreads; i++) {
		for (int k = 0; k < 6; k++)
			s->zero_resp[k] += counter_read(&s->pt[i].resp[k]);
		s->zero_retries += counter_read(&s->pt[i].retries);
		s->zero_rt_sum += counter_read(&s->pt[i].resp_time_us);
		s->zero_timed += counter_read(&s->pt[i].resp_timed);
		s->zero_evictions += counter_read(&s->pt[i].evictions);
		s->zero_drops += counter_read(&s->pt[i].drops);
		s->zero_timeouts += counter_read(&s->pt[i].timeouts);
	}
	rate_reset(&s->est, &tot);
}
