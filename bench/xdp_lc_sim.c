/*
 * xdp_lc_sim.c - how close the XDP data path's connection-count scheduling
 * comes to IPVS's exact result.
 *
 * IPVS runs lc/wlc/sed/nq on every new connection with the live counts. The
 * XDP program cannot: it walks a sequence of picks that user space
 * simulated (sched_sequence) from the counts it read, rebuilt every
 * rebuild interval, with one cursor for all CPUs that restarts at each new
 * sequence (so the CPUs argument changes nothing; it is kept to show so). This simulation feeds both with the
 * same connections (Poisson arrivals, exponential durations, a seeded
 * generator) and compares, over time, each server's share of open
 * connections with its weight's share: the mean and worst relative error,
 * exact vs sequence.
 *
 *   build/rel/xdp-lc-sim [SCHED] [RATE_PER_S] [MEAN_MS] [REBUILD_MS] [CPUS]
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched/sched.h"

#define NSRV 8
#define SIM_MS 60000

struct conn {
	uint64_t end_ms;
	int srv;
};

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static double uniform(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return ((double)(rng >> 11) + 0.5) / 9007199254740992.0;
}

struct world {
	struct sched_server srv[NSRV], *ptrs[NSRV];
	struct sched *s;           /* exact: picks with live counts */
	struct conn *conns;
	size_t nconns, cap;
	double err_sum, err_max;
	uint64_t samples;
};

static void world_init(struct world *w, const struct sched_ops *ops, const uint32_t *weights)
{
	struct sched_params p = { .seed = 42 };

	memset(w, 0, sizeof(*w));
	for (int i = 0; i < NSRV; i++) {
		w->srv[i].weight = weights[i];
		w->srv[i].idx = -1;
		w->srv[i].port = (uint16_t)(8000 + i);
		w->srv[i].family = 4;
		w->srv[i].addr[3] = (uint8_t)(i + 1);
		w->ptrs[i] = &w->srv[i];
	}
	w->s = sched_create(ops, &p);
	sched_set_servers(w->s, w->ptrs, NSRV);
}

static void add_conn(struct world *w, int srv, uint64_t end)
{
	if (w->nconns == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 1024;
		w->conns = realloc(w->conns, w->cap * sizeof(*w->conns));
	}
	w->conns[w->nconns++] = (struct conn){ end, srv };
	sched_conn_open(w->s, &w->srv[srv]);
}

static void expire(struct world *w, uint64_t now)
{
	for (size_t i = 0; i < w->nconns;) {
		if (w->conns[i].end_ms <= now) {
			sched_conn_close(w->s, &w->srv[w->conns[i].srv], true);
			w->conns[i] = w->conns[--w->nconns];
		} else {
			i++;
		}
	}
}

/* Relative error of each server's share of open connections against its
 * weight's share. */
static void sample(struct world *w, const uint32_t *weights, bool equal)
{
	uint64_t total = 0, wsum = 0;

	for (int i = 0; i < NSRV; i++) {
		total += w->srv[i].active;
		wsum += equal ? 1 : weights[i];
	}
	if (total < 50)
		return;
	for (int i = 0; i < NSRV; i++) {
		double want = (double)total * (equal ? 1 : weights[i]) / (double)wsum;
		double e = fabs((double)w->srv[i].active - want) / want;

		w->err_sum += e;
		w->err_max = e > w->err_max ? e : w->err_max;
		w->samples++;
	}
}

int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : "wlc";
	double rate = argc > 2 ? atof(argv[2]) : 2000;      /* new connections per second */
	double mean_ms = argc > 3 ? atof(argv[3]) : 500;    /* mean duration */
	uint64_t rebuild_ms = argc > 4 ? strtoull(argv[4], NULL, 10) : 100;
	int cpus = argc > 5 ? atoi(argv[5]) : 2;
	static const uint32_t weights[NSRV] = { 1, 1, 2, 2, 3, 3, 4, 4 };
	const struct sched_ops *ops = sched_find(name);
	struct world exact, seq;
	int32_t *ring = calloc(4096, sizeof(*ring));
	uint32_t ring_len = 0, *cursor = calloc((size_t)cpus, sizeof(*cursor));
	uint8_t src[4] = { 10, 0, 0, 1 };
	struct sched_req req = { .src = src, .src_len = 4 };
	double next_arrival = 0;
	/* lc and nq-like algorithms without weights aim at equal counts */
	bool equal = strcmp(name, "lc") == 0;

	if (!ops || !ring || !cursor) {
		fprintf(stderr, "usage: xdp-lc-sim [SCHED] [RATE] [MEAN_MS] [REBUILD_MS] [CPUS]\n");
		return 2;
	}
	world_init(&exact, ops, weights);
	world_init(&seq, ops, weights);
	for (uint64_t now = 0; now < SIM_MS; now++) {
		expire(&exact, now);
		expire(&seq, now);
		if (now % rebuild_ms == 0) {
			struct sched_params p = { .seed = now };
			int n;

			req.now_ms = now;
			n = sched_sequence(ops, &p, seq.ptrs, NSRV, &req, ring, 1024);
			ring_len = n > 0 ? (uint32_t)n : 0;
			cursor[0] = 0; /* the data path's cursor restarts */
		}
		while (next_arrival < (double)now + 1) {
			uint64_t dur = (uint64_t)(-log(uniform()) * mean_ms) + 1;
			int cpu = (int)(uniform() * cpus) % cpus;
			int idx;

			req.now_ms = now;
			idx = sched_pick(exact.s, &req);
			if (idx >= 0)
				add_conn(&exact, idx, now + dur);
			(void)cpu;
			if (ring_len)
				add_conn(&seq, ring[cursor[0]++ % ring_len], now + dur);
			next_arrival += -log(uniform()) * 1000.0 / rate;
		}
		if (now % 10 == 0 && now > 5000) {
			sample(&exact, weights, equal);
			sample(&seq, weights, equal);
		}
	}
	printf("%-5s rate=%.0f/s mean=%.0fms rebuild=%llums cpus=%d  open-share error vs target: "
	       "exact mean %.1f%% max %.1f%% | xdp sequence mean %.1f%% max %.1f%%\n",
	       name, rate, mean_ms, (unsigned long long)rebuild_ms, cpus,
	       100 * exact.err_sum / (double)(exact.samples ? exact.samples : 1), 100 * exact.err_max,
	       100 * seq.err_sum / (double)(seq.samples ? seq.samples : 1), 100 * seq.err_max);
	return 0;
}
