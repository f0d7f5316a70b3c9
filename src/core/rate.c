/* rate.c - see rate.h. */
#include <string.h>

#include "core/rate.h"
#include "core/util.h"

/* One step of avg += (sample - avg) / 4, on values scaled by 2^shift over a
 * 2 s interval: sample = delta * 2^shift / 2. */
static uint64_t ewma(uint64_t avg, uint64_t delta, unsigned shift)
{
	int64_t sample = (int64_t)((delta << shift) / (RATE_INTERVAL_MS / 1000));
	int64_t a = (int64_t)avg;

	a += (sample - a) >> 2;
	return a < 0 ? 0 : (uint64_t)a;
}

void rate_update(struct rate_est *e, const struct rate_totals *now)
{
	if (!e->primed) {
		e->last = *now;
		e->primed = 1;
		return;
	}
	e->cps    = ewma(e->cps, now->conns - e->last.conns, 10);
	e->inpps  = ewma(e->inpps, now->inpkts - e->last.inpkts, 10);
	e->outpps = ewma(e->outpps, now->outpkts - e->last.outpkts, 10);
	e->inbps  = ewma(e->inbps, now->inbytes - e->last.inbytes, 5);
	e->outbps = ewma(e->outbps, now->outbytes - e->last.outbytes, 5);
	e->rps    = ewma(e->rps, now->requests - e->last.requests, 10);
	e->last = *now;
}

void rate_read(const struct rate_est *e, struct rate_value *out)
{
	/* round to nearest, as IPVS's (x + 0x1FF) >> 10 */
	out->cps    = (e->cps + 0x1FF) >> 10;
	out->inpps  = (e->inpps + 0x1FF) >> 10;
	out->outpps = (e->outpps + 0x1FF) >> 10;
	out->inbps  = (e->inbps + 0xF) >> 5;
	out->outbps = (e->outbps + 0xF) >> 5;
	out->rps    = (e->rps + 0x1FF) >> 10;
}

void rate_reset(struct rate_est *e, const struct rate_totals *now)
{
	memset(e, 0, sizeof(*e));
	e->last = *now;
	e->primed = 1;
}

void rate_one_update(struct rate_one *e, uint64_t total)
{
	if (e->primed)
		e->avg = ewma(e->avg, total - e->last, 10);
	e->last = total;
	e->primed = 1;
}

uint64_t rate_one_read(const struct rate_one *e)
{
	return (e->avg + 0x1FF) >> 10;
}
