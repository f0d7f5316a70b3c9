/* history.c - the ring of samples behind the dashboard's graphs (see history.h). */
#include <stdlib.h>

#include "core/history.h"
#include "core/stats.h"

/* <now> - <then> per second over <ms>, 0 when the counter went back (-Z). */
static float per_s(uint64_t now, uint64_t then, uint64_t ms)
{
	return now > then ? (float)((double)(now - then) * 1000.0 / (double)ms) : 0.0f;
}

void hist_push(struct hist_ring *h, uint64_t tick, uint64_t wall_ms, const struct hist_in *in)
{
	struct hist_sample *s;
	uint64_t ms;

	if (h->primed && tick == h->last_tick)
		return;
	if (h->primed && tick > h->last_tick) {
		ms = tick - h->last_tick;
		s = &h->s[h->next];
		s->t_ms = wall_ms;
		s->rps = per_s(in->tot.requests, h->last.requests, ms);
		s->cps = per_s(in->tot.conns, h->last.conns, ms);
		s->inbps = per_s(in->tot.inbytes, h->last.inbytes, ms);
		s->outbps = per_s(in->tot.outbytes, h->last.outbytes, ms);
		s->p99_ms = (float)((double)in->p99_us / 1000.0);
		s->active = in->active;
		h->next = (h->next + 1) % HIST_SAMPLES;
		if (h->n < HIST_SAMPLES)
			h->n++;
	}
	h->last_tick = tick;
	h->last_wall = wall_ms;
	h->last = in->tot;
	h->primed = 1;
}

const struct hist_sample *hist_at(const struct hist_ring *h, uint32_t i)
{
	return &h->s[(h->next + HIST_SAMPLES - h->n + i) % HIST_SAMPLES];
}

void stats_record(struct vs_stats *s, int nthreads, uint64_t tick, uint64_t wall_ms,
		  uint32_t active)
{
	struct stats_view v;
	struct hist_in in;

	if (!s->hist && !(s->hist = calloc(1, sizeof(*s->hist))))
		return; /* the graph has a gap; the data path does not care */
	stats_view(s, nthreads, &v);
	stats_sum(s, nthreads, &in.tot); /* raw totals: -Z does not reach them */
	in.p99_us = v.p99_us;
	in.active = active;
	hist_push(s->hist, tick, wall_ms, &in);
}
