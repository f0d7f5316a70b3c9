/*
 * ktab.c - the keyed table of lblc, lblcr and persistence templates; see
 * struct ktab in sched_int.h.
 *
 * Growth never rehashes the whole table in one call: when the entries
 * reach half the buckets (short chains: a hit costs a bucket and an
 * entry), a table twice the size is allocated and
 * every later call moves a few old buckets into it until none is left.
 * A lookup meanwhile searches the old bucket if it has not moved yet.
 */
#include "sched/sched_int.h"

#define KTAB_MIN_BUCKETS 64
#define KTAB_MOVE_STEP 8 /* old buckets moved per call while growing */

int ktab_init(struct ktab *t, uint64_t seed)
{
	memset(t, 0, sizeof(*t));
	t->b = calloc(KTAB_MIN_BUCKETS, sizeof(*t->b));
	if (!t->b)
		return -ENOMEM;
	t->nb = KTAB_MIN_BUCKETS;
	t->lru.lnext = t->lru.lprev = &t->lru;
	/* two key words from one seed; any fixed mixing will do */
	t->k0 = seed ^ 0x6a09e667f3bcc908ULL;
	t->k1 = (seed * 0x9E3779B97F4A7C15ULL) ^ 0xbb67ae8584caa73bULL;
	return 0;
}

void ktab_fini(struct ktab *t)
{
	free(t->b);
	free(t->ob);
	t->b = t->ob = NULL;
}

uint64_t ktab_hash(const struct ktab *t, const void *key, size_t len)
{
	return sched_siphash13(key, len, t->k0, t->k1);
}

/* The chain <h> lives in: an old bucket not yet moved, or a new one. */
static struct ktab_ent **chain(struct ktab *t, uint64_t h)
{
	if (t->ob) {
		size_t ob = h & (t->onb - 1);

		if (ob >= t->orover)
			return &t->ob[ob];
	}
	return &t->b[h & (t->nb - 1)];
}

static void move_some(struct ktab *t)
{
	for (int k = 0; t->ob && k < KTAB_MOVE_STEP; k++) {
		struct ktab_ent *e = t->ob[t->orover], *next;

		for (; e; e = next) {
			struct ktab_ent **b = &t->b[e->hash & (t->nb - 1)];

			next = e->hnext;
			e->hnext = *b;
			*b = e;
		}
		t->ob[t->orover] = NULL;
		if (++t->orover == t->onb) {
			free(t->ob);
			t->ob = NULL;
		}
	}
}

/* Starts moving to twice the buckets; on ENOMEM just keeps the chains. */
static void grow(struct ktab *t)
{
	struct ktab_ent **nb = calloc(t->nb * 2, sizeof(*nb));

	if (!nb)
		return;
	t->ob = t->b;
	t->onb = t->nb;
	t->orover = 0;
	t->b = nb;
	t->nb *= 2;
}

/* Keys are short (addresses, host names): a loop beats a call to memcmp. */
static inline bool key_eq(const uint8_t *a, const uint8_t *b, size_t len)
{
	if (len > 32)
		return memcmp(a, b, len) == 0;
	for (size_t i = 0; i < len; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

struct ktab_ent *ktab_find(struct ktab *t, const void *key, size_t len,
			   uint64_t hash)
{
	move_some(t);
	for (struct ktab_ent *e = *chain(t, hash); e; e = e->hnext)
		if (e->hash == hash && e->klen == len && key_eq(e->key, key, len))
			return e;
	return NULL;
}

static void lru_unlink(struct ktab_ent *e)
{
	e->lprev->lnext = e->lnext;
	e->lnext->lprev = e->lprev;
}

static void lru_append(struct ktab *t, struct ktab_ent *e)
{
	e->lnext = &t->lru;
	e->lprev = t->lru.lprev;
	t->lru.lprev->lnext = e;
	t->lru.lprev = e;
}

void ktab_insert(struct ktab *t, struct ktab_ent *e)
{
	struct ktab_ent **b;

	move_some(t);
	if (!t->ob && 2 * t->n >= t->nb)
		grow(t);
	b = chain(t, e->hash);
	e->hnext = *b;
	*b = e;
	lru_append(t, e);
	t->n++;
}

void ktab_remove(struct ktab *t, struct ktab_ent *e)
{
	struct ktab_ent **p = chain(t, e->hash);

	while (*p && *p != e)
		p = &(*p)->hnext;
	if (*p)
		*p = e->hnext;
	lru_unlink(e);
	t->n--;
}

void ktab_touch(struct ktab *t, struct ktab_ent *e, uint64_t stamp)
{
	e->stamp = stamp;
	lru_unlink(e);
	lru_append(t, e);
}
