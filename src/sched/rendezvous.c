/*
 * rendezvous.c - weighted rendezvous hashing (see sched_rendezvous() in
 * sched.h), and the stable hashes it is built on.
 *
 * Each available server scores -w / ln(u), u = a hash of (key, server)
 * mapped into (0, 1): the highest score wins. -1/ln(u) of a uniform u is
 * distributed so that the winner of a set is server i with probability
 * w_i / sum(w) (Schindelhauer and Schomaker's weighted distributed hash
 * tables), and a key's scores do not depend on the other servers: a key
 * moves only to a server that joined, or off one that left.
 */
#include <math.h>

#include "sched/sched_int.h"

uint64_t sched_fnv1a64(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

/* The finaliser of MurmurHash3 (fmix64). */
uint64_t sched_mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

int sched_rendezvous(struct sched_server *const *srv, size_t n, const void *key, size_t len)
{
	uint64_t kh = sched_fnv1a64(SCHED_FNV64_BASIS, key, len);
	double best_score = 0;
	int best = -1;

	for (size_t i = 0; i < n; i++) {
		const struct sched_server *ss = srv[i];
		uint64_t h;
		double u, score;

		if (!sched_server_available(ss))
			continue;
		h = sched_mix64(kh ^ sched_fnv1a64(SCHED_FNV64_BASIS, ss->addr, 16) ^ ss->port);
		/* the top 53 bits, centred in their step: never 0, never 1 */
		u = ((double)(h >> 11) + 0.5) / 9007199254740992.0;
		score = -(double)ss->weight / log(u);
		if (best < 0 || score > best_score) {
			best = (int)i;
			best_score = score;
		}
	}
	return best;
}
