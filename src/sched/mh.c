/*
 * mh.c - Maglev consistent hashing (Eisenbud et al., NSDI 2016, 3.4) of
 * the client's source address, as IPVS ip_vs_mh.c.
 *
 * Each server has a permutation of the M table slots, given by an offset
 * and a skip from two hashes of its address and port; the table is filled
 * by letting the servers, in list order, take turns claiming the next free
 * slot of their permutation, weight/gcd turns each per round (the turns
 * right-shifted so the largest fits in half of log2(M) bits, as IPVS does).
 * A lookup is one hash and one load. The table follows the servers' last
 * non-zero weight, so quiescing a server (weight 0) keeps its slots -- its
 * clients get -1, or with SCHED_F_FALLBACK the next slot IPVS's walk finds;
 * down, drained and overloaded servers are treated the same way. A server
 * in standby (failover order: a backup while a primary serves) gets no
 * slots, so that every key has a server of the serving tier.
 *
 * The hashes are the kernel's 64-bit hsiphash with ip_vs_mh's fixed keys,
 * so weir fills the same table as an x86-64 IPVS given the same servers in
 * the same order and the same table size; M defaults to 65537 here (IPVS:
 * 4093) and is rounded up to a prime.
 */
#include "sched/sched_int.h"

#define MH_DEFAULT_SIZE 65537u
#define MH_HASH1 2654435761ULL /* generate_hash_secret() */
#define MH_HASH2 2654446892ULL

struct mh_state {
	uint32_t m;          /* table size, prime */
	uint32_t bits;       /* IP_VS_MH_TAB_BITS for m */
	int32_t *lookup;     /* [m] slot -> idx, -1 = none */
	uint32_t *built_lw;  /* last_weight of each idx the table was built with */
	size_t built_n;
};

/* Per-server fill state (ip_vs_mh_dest_setup). */
struct mh_setup {
	uint32_t perm;  /* next slot to try */
	uint32_t skip;
	uint32_t turns;
};

static bool is_prime(uint32_t v)
{
	if (v < 2)
		return false;
	for (uint32_t d = 2; (uint64_t)d * d <= v; d++)
		if (v % d == 0)
			return false;
	return true;
}

static uint32_t ceil_log2(uint32_t v)
{
	uint32_t b = 0;

	while (b < 32 && (UINT64_C(1) << b) < v)
		b++;
	return b;
}

static int mh_init(struct sched *s)
{
	struct mh_state *st = s->state;
	uint32_t m = s->params.mh_table_size ? s->params.mh_table_size :
		     MH_DEFAULT_SIZE;

	if (m < 3)
		m = 3;
	while (!is_prime(m))
		m++;
	st->m = m;
	/* IPVS sizes its primes ~2^k and uses k/2 bits for the turns */
	st->bits = ceil_log2(m) / 2;
	return 0;
}

static void mh_fini(struct sched *s)
{
	struct mh_state *st = s->state;

	free(st->lookup);
	free(st->built_lw);
}

/* ip_vs_mh_hashkey() */
static inline uint32_t mh_hash(uint32_t fold, uint16_t port, uint32_t offset,
			       uint64_t key)
{
	return sched_hsiphash_u32(offset + port + fold, key);
}

static uint32_t fls32(uint32_t v)
{
	return v ? 32 - (uint32_t)__builtin_clz(v) : 0;
}

/* The weight the table deals <srv>: its last non-zero one, none in
 * standby (a backup while primaries serve, or the reverse). */
static uint32_t mh_weight(const struct sched_server *srv)
{
	return sched_table_weight(srv, srv->last_weight);
}

/* Offsets, skips and turns (ip_vs_mh_permutate); false if no weights. */
static bool mh_permutate(const struct sched *s, const struct mh_state *st,
			 struct mh_setup *ds)
{
	uint32_t g = 0, max = 0, shift;
	int sh;

	for (size_t i = 0; i < s->nsrv; i++) {
		uint32_t lw = mh_weight(s->srv[i]);

		g = lw ? (g ? sched_gcd(lw, g) : lw) : g;
		max = lw > max ? lw : max;
	}
	if (!g)
		return false;
	sh = (int)fls32(max / g) - (int)st->bits;
	shift = sh > 0 ? (uint32_t)sh : 0;
	for (size_t i = 0; i < s->nsrv; i++) {
		const struct sched_server *srv = s->srv[i];
		uint32_t fold = sched_addr_fold(srv->addr, srv->family == 6 ? 16 : 4);
		uint32_t lw = mh_weight(srv);

		ds[i].perm = mh_hash(fold, srv->port, 0, MH_HASH1) % st->m;
		ds[i].skip = mh_hash(fold, srv->port, 0, MH_HASH2) % (st->m - 1) + 1;
		ds[i].turns = (lw / g) >> shift;
		if (!ds[i].turns)
			ds[i].turns = lw != 0;
	}
	return true;
}

/* ip_vs_mh_populate(): rounds of turns until every slot is claimed. */
static void mh_populate(const struct sched *s, uint32_t m, struct mh_setup *ds,
			uint8_t *taken, int32_t *lookup)
{
	uint32_t filled = 0;

	while (filled < m) {
		for (size_t i = 0; i < s->nsrv; i++) {
			for (uint32_t t = 0; t < ds[i].turns; t++) {
				uint32_t c = ds[i].perm;

				while (taken[c]) {
					c += ds[i].skip;
					if (c >= m)
						c -= m;
				}
				ds[i].perm = c;
				taken[c] = 1;
				lookup[c] = (int32_t)i;
				if (++filled == m)
					return;
			}
		}
	}
}

/* True if the set and every last weight are what the table was built on. */
static bool mh_unchanged(const struct sched *s, const struct mh_state *st)
{
	if (s->prev_srv != s->srv || st->built_n != s->nsrv || !st->lookup)
		return false;
	for (size_t i = 0; i < s->nsrv; i++)
		if (st->built_lw[i] != mh_weight(s->srv[i]))
			return false;
	return true;
}

static int mh_update(struct sched *s)
{
	struct mh_state *st = s->state;
	int32_t *lookup = NULL;
	uint32_t *lw = NULL;
	struct mh_setup *ds = NULL;
	uint8_t *taken = NULL;
	int err = -ENOMEM;

	if (s->nsrv > st->m)
		return -EINVAL;
	if (mh_unchanged(s, st))
		return 0; /* a flag changed: lookups check availability */
	lookup = malloc(st->m * sizeof(*lookup));
	lw = malloc((s->nsrv ? s->nsrv : 1) * sizeof(*lw));
	ds = malloc((s->nsrv ? s->nsrv : 1) * sizeof(*ds));
	taken = calloc(st->m, 1);
	if (!lookup || !lw || !ds || !taken)
		goto out;
	for (uint32_t c = 0; c < st->m; c++)
		lookup[c] = -1;
	if (mh_permutate(s, st, ds))
		mh_populate(s, st->m, ds, taken, lookup);
	for (size_t i = 0; i < s->nsrv; i++)
		lw[i] = mh_weight(s->srv[i]);
	free(st->lookup);
	free(st->built_lw);
	st->lookup = lookup;
	st->built_lw = lw;
	st->built_n = s->nsrv;
	lookup = NULL;
	lw = NULL;
	err = 0;
out:
	free(lookup);
	free(lw);
	free(ds);
	free(taken);
	return err;
}

/* ip_vs_mh_get_fallback(): from the key's slot, the walk IPVS takes. */
static int mh_fallback(struct sched *s, const struct sched_req *req,
		       uint32_t fold, uint16_t port, uint32_t ihash)
{
	struct mh_state *st = s->state;

	for (uint32_t off = 0; off < st->m; off++) {
		uint32_t roff = (off + ihash) % st->m;
		int32_t idx = st->lookup[mh_hash(fold, port, roff, MH_HASH1) % st->m];

		if (idx < 0)
			break;
		if (sched_usable(s, req, idx))
			return idx;
	}
	return -1;
}

static int mh_pick(struct sched *s, const struct sched_req *req)
{
	struct mh_state *st = s->state;
	uint16_t port = (s->params.flags & SCHED_F_PORT) ? req->src_port : 0;
	uint32_t fold, ihash;
	int32_t idx;

	if (!req->src || (req->src_len != 4 && req->src_len != 16))
		return -1;
	fold = sched_addr_fold(req->src, req->src_len);
	ihash = mh_hash(fold, port, 0, MH_HASH1) % st->m;
	idx = st->lookup[ihash];
	if (idx < 0)
		return -1;
	if (sched_usable(s, req, idx))
		return idx;
	if (!(s->params.flags & SCHED_F_FALLBACK))
		return -1;
	return mh_fallback(s, req, fold, port, ihash);
}

static uint32_t mh_table(const struct sched *s, const int32_t **slots)
{
	const struct mh_state *st = s->state;

	*slots = st->lookup;
	return st->lookup ? st->m : 0;
}

const struct sched_ops sched_mh_ops = {
	.name = "mh",
	.descr = "Maglev consistent hashing of the source (IPVS; mh-fallback, mh-port)",
	.state_size = sizeof(struct mh_state),
	.init = mh_init,
	.fini = mh_fini,
	.update = mh_update,
	.pick = mh_pick,
	.table = mh_table,
	.hash = SCHED_HASH_SRC,
	.table_sized = true,
	.takes_flags = true,
};
