/*
 * rate.h - the rate estimator behind `weirctl -L --rate`: IPVS's method
 * (net/netfilter/ipvs/ip_vs_est.c). Every 2 seconds the totals are sampled
 * and each rate moves 1/4 of the way towards the rate of the last interval,
 * in fixed point, so a burst decays over a few seconds. Pure arithmetic.
 */
#ifndef WEIR_RATE_H
#define WEIR_RATE_H

#include <stdint.h>

#define RATE_INTERVAL_MS 2000

/* Totals a rate is computed from. */
struct rate_totals {
	uint64_t conns, inpkts, outpkts, inbytes, outbytes;
	uint64_t requests;        /* HTTP requests (weir's own) */
};

/* Rates, per second. */
struct rate_value {
	uint64_t cps, inpps, outpps, inbps, outbps;
	uint64_t rps;
};

struct rate_est {
	struct rate_totals last;
	/* averages scaled: conns/pkts x 2^10, bytes x 2^5 (as IPVS) */
	uint64_t cps, inpps, outpps, inbps, outbps, rps;
	int primed;
};

/* The same estimator for one counter of a layer's own (DNS queries per
 * name): fed its total every RATE_INTERVAL_MS, read per second. */
struct rate_one {
	uint64_t last, avg;       /* avg scaled x 2^10 */
	int primed;
};
void rate_one_update(struct rate_one *e, uint64_t total);
uint64_t rate_one_read(const struct rate_one *e);

/* Feeds the totals of one RATE_INTERVAL_MS tick. */
void rate_update(struct rate_est *e, const struct rate_totals *now);
void rate_read(const struct rate_est *e, struct rate_value *out);
/* Forgets history (after -Z). */
void rate_reset(struct rate_est *e, const struct rate_totals *now);

#endif
