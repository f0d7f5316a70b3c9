/*
 * sched_bench.c - what one scheduling decision costs, for every algorithm
 * of src/sched at 2, 100 and 10,000 servers, and what a Maglev table costs
 * to build (N=1000, M=65537). Run by bench/sched.sh.
 *
 * "pick" is sched_pick() alone, with the connection counts standing still.
 * "+acct" is one pick plus the accounting a connection brings: it opens on
 * the chosen server and, once 4 connections per server are open, the
 * oldest one closes -- so the lc family's tree moves on every request.
 * When a pick finds no server (ovf: every server over its weight, as at
 * N=2 with weights 1 and 2, which hold 5) the oldest closes all the same.
 * Requests carry a client address and a locality key drawn from 64K
 * distinct ones. Weights are 1..10 round the servers.
 *
 * Anchors, measured in the same run: IPVS's wlc linear scan and nginx's
 * smooth-WRR loop, both O(n) per pick, which the library replaces.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sched/sched.h"

#define NKEYS 65536
#define TARGET_NS 300000000ull /* per measurement */
#define REPEAT 5

static uint8_t addrs[NKEYS][4];
static char keys[NKEYS][16];
static size_t keylen[NKEYS];

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t xs(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void make_inputs(void)
{
	uint64_t x = 88172645463325252ull;

	for (int k = 0; k < NKEYS; k++) {
		uint32_t a = (uint32_t)xs(&x);

		memcpy(addrs[k], &a, 4);
		keylen[k] = (size_t)snprintf(keys[k], sizeof(keys[k]), "/o/%u", a % 100000);
	}
}

struct setup {
	struct sched *s;
	struct sched_server *srv;
	struct sched_server **ptr;
	size_t n;
};

static int setup_open(struct setup *st, const char *name, size_t n, size_t nweights)
{
	struct sched_params p = { .seed = 1, .flags = SCHED_F_FALLBACK };

	st->n = n;
	st->srv = calloc(n, sizeof(*st->srv));
	st->ptr = calloc(n, sizeof(*st->ptr));
	if (!st->srv || !st->ptr)
		return -1;
	for (size_t i = 0; i < n; i++) {
		st->srv[i].weight = 1 + (uint32_t)(i % nweights);
		st->srv[i].family = 4;
		st->srv[i].addr[0] = 10;
		st->srv[i].addr[1] = (uint8_t)(i >> 16);
		st->srv[i].addr[2] = (uint8_t)(i >> 8);
		st->srv[i].addr[3] = (uint8_t)i;
		st->srv[i].port = 80;
		st->srv[i].idx = -1;
		st->ptr[i] = &st->srv[i];
	}
	st->s = sched_create(sched_find(name), &p);
	if (!st->s || sched_set_servers(st->s, st->ptr, n) != 0)
		return -1;
	return 0;
}

static void setup_close(struct setup *st)
{
	sched_destroy(st->s);
	free(st->srv);
	free(st->ptr);
}

static inline int pick_k(struct setup *st, uint64_t k)
{
	struct sched_req req = {
		.src = addrs[k % NKEYS], .src_len = 4,
		.src_port = (uint16_t)k,
		.lkey = keys[k % NKEYS], .lkey_len = keylen[k % NKEYS],
		.now_ms = k / 1024, /* about 1M picks a second */
	};

	return sched_pick(st->s, &req);
}

static volatile int sink;

/* ns per pick, connection counts standing still: the best of REPEAT runs
 * (the machine is shared; the minimum is the least disturbed) */
static double bench_pick(struct setup *st)
{
	uint64_t iters = 1000, t0, dt, k = 0;
	double best = 1e18;
	int acc = 0;

	for (;;) { /* size a run */
		t0 = now_ns();
		for (uint64_t j = 0; j < iters; j++, k++)
			acc += pick_k(st, k);
		dt = now_ns() - t0;
		if (dt > TARGET_NS / REPEAT)
			break;
		iters *= 4;
	}
	for (int r = 0; r < REPEAT; r++) {
		t0 = now_ns();
		for (uint64_t j = 0; j < iters; j++, k++)
			acc += pick_k(st, k);
		dt = now_ns() - t0;
		if ((double)dt / iters < best)
			best = (double)dt / iters;
	}
	sink = acc;
	return best;
}

/* ns per pick + conn_open + (steady state) conn_close of the oldest */
static double bench_acct(struct setup *st)
{
	size_t ring_n = 4 * st->n, head = 0, len = 0;
	int32_t *ring = malloc(ring_n * sizeof(*ring));
	uint64_t iters = 1000, t0 = 0, dt = 0, k = 0;
	double best = 1e18;

	if (!ring)
		return -1;
	/* fill to the steady state first */
	while (len < ring_n) {
		int i = pick_k(st, k++);

		if (i < 0)
			break;
		sched_conn_open(st->s, st->ptr[i]);
		ring[(head + len++) % ring_n] = i;
	}
	for (int r = -1; r < REPEAT; r++) { /* run -1 sizes the others */
		t0 = now_ns();
		for (uint64_t j = 0; j < iters; j++, k++) {
			int i = pick_k(st, k);

			if (i >= 0)
				sched_conn_open(st->s, st->ptr[i]);
			/* the oldest ends when a new one came and the ring is
			 * full, or when none could be placed (ovf's servers
			 * all over their weights): the churn goes on */
			if (len && (len == ring_n || i < 0)) {
				sched_conn_close(st->s, st->ptr[ring[head]], true);
				head = (head + 1) % ring_n;
				len--;
			}
			if (i >= 0)
				ring[(head + len++) % ring_n] = i;
		}
		dt = now_ns() - t0;
		if (r < 0 && dt < TARGET_NS / REPEAT) {
			iters *= 4;
			r--;
			continue;
		}
		if (r >= 0 && (double)dt / iters < best)
			best = (double)dt / iters;
	}
	free(ring);
	return best;
}

/* ---- anchors: the O(n) loops the library replaces ---- */

/* ip_vs_wlc_schedule() over an array */
static int ipvs_wlc_scan(struct sched_server **d, size_t n)
{
	int least = -1;
	long long loh = 0;

	for (size_t i = 0; i < n; i++) {
		long long doh = ((long long)d[i]->active << 8) + d[i]->inactive;

		if ((d[i]->flags & SCHED_SRV_OVERLOAD) || !d[i]->weight)
			continue;
		if (least < 0 || loh * d[i]->weight > doh * d[least]->weight) {
			least = (int)i;
			loh = doh;
		}
	}
	return least;
}

/* ngx_http_upstream_get_peer()'s smooth WRR over an array */
static int nginx_swrr(struct sched_server **d, long long *cur, size_t n)
{
	long long total = 0;
	int best = -1;

	for (size_t i = 0; i < n; i++) {
		cur[i] += d[i]->weight;
		total += d[i]->weight;
		if (best < 0 || cur[i] > cur[best])
			best = (int)i;
	}
	cur[best] -= total;
	return best;
}

static double bench_anchor(struct setup *st, bool swrr)
{
	long long *cur = calloc(st->n, sizeof(*cur));
	uint64_t iters = 100, t0, dt;
	int acc = 0;

	for (;;) {
		t0 = now_ns();
		for (uint64_t k = 0; k < iters; k++)
			acc += swrr ? nginx_swrr(st->ptr, cur, st->n) :
				      ipvs_wlc_scan(st->ptr, st->n);
		dt = now_ns() - t0;
		if (dt > TARGET_NS / 4)
			break;
		iters *= 4;
	}
	sink = acc;
	free(cur);
	return (double)dt / iters;
}

/* ---- Maglev table build ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void bench_maglev(void)
{
	struct setup st;
	struct sched_server **rev;
	double ms[21];
	int runs = 21;

	if (setup_open(&st, "mh", 1000, 1) != 0 ||
	    !(rev = malloc(1000 * sizeof(*rev)))) {
		fprintf(stderr, "mh setup failed\n");
		return;
	}
	for (size_t i = 0; i < 1000; i++)
		rev[i] = st.ptr[999 - i];
	for (int r = 0; r < runs; r++) {
		uint64_t t0 = now_ns();

		/* a new server order is a new set: a full rebuild */
		if (sched_set_servers(st.s, r % 2 ? st.ptr : rev, 1000) != 0)
			fprintf(stderr, "mh rebuild failed\n");
		ms[r] = (double)(now_ns() - t0) / 1e6;
	}
	qsort(ms, (size_t)runs, sizeof(ms[0]), cmp_double);
	printf("\nMaglev table build, N=1000, M=65537, equal weights: median %.2f ms, "
	       "min %.2f ms, max %.2f ms (%d builds; paper: 1.8 ms)\n",
	       ms[runs / 2], ms[0], ms[runs - 1], runs);
	free(rev);
	setup_close(&st);
}

static const char *const algos[] = { "rr", "wrr", "lc", "wlc", "sed", "nq",
	"lblc", "lblcr", "dh", "sh", "mh", "swrr", "p2c", "lrt", "fo", "ovf", "twos" };
static const size_t sizes[] = { 2, 100, 10000 };

static bool wanted(int argc, char **argv, const char *name)
{
	if (argc < 2)
		return true;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], name))
			return true;
	return false;
}

/* sched_bench [NAME...]: only those algorithms ("anchors", "maglev") */
int main(int argc, char **argv)
{
	double worst = 0;

	make_inputs();
	printf("ns per decision (weights 1..10; +acct = pick + conn_open + conn_close)\n\n");
	printf("%-8s", "sched");
	for (size_t z = 0; z < 3; z++)
		printf(" | N=%-5zu pick | N=%-5zu +acct", sizes[z], sizes[z]);
	printf("\n");
	for (size_t a = 0; a < sizeof(algos) / sizeof(algos[0]); a++) {
		if (!wanted(argc, argv, algos[a]))
			continue;
		printf("%-8s", algos[a]);
		for (size_t z = 0; z < 3; z++) {
			struct setup st;
			double p, c;

			if (setup_open(&st, algos[a], sizes[z], 10) != 0) {
				printf(" | setup failed");
				continue;
			}
			p = bench_pick(&st);
			setup_close(&st);
			setup_open(&st, algos[a], sizes[z], 10);
			c = bench_acct(&st);
			setup_close(&st);
			printf(" | %12.1f | %13.1f", p, c);
			if (sizes[z] == 10000 && p > worst)
				worst = p;
		}
		printf("\n");
		fflush(stdout);
	}
	printf("\nslowest pick at N=10000: %.1f ns (target < 100 ns)\n", worst);

	if (!wanted(argc, argv, "anchors"))
		goto maglev;
	printf("\nanchors (O(n) per pick, same run):\n");
	for (size_t z = 0; z < 3; z++) {
		struct setup st;

		if (setup_open(&st, "rr", sizes[z], 10) != 0)
			continue;
		printf("  N=%-5zu IPVS wlc scan %10.1f ns   nginx swrr loop %10.1f ns\n",
		       sizes[z], bench_anchor(&st, false), bench_anchor(&st, true));
		setup_close(&st);
	}
	{
		struct setup st;

		if (setup_open(&st, "swrr", 10000, 100) == 0) {
			printf("\nswrr, N=10000 with 100 distinct weights: %.1f ns per pick "
			       "(O(distinct weights + log n))\n", bench_pick(&st));
			setup_close(&st);
		}
	}
maglev:
	if (wanted(argc, argv, "maglev"))
		bench_maglev();
	return 0;
}
