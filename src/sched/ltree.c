/*
 * ltree.c - the tournament tree behind lc, wlc, sed, nq, lblc and lblcr.
 *
 * IPVS scans every destination for the least loaded one; at 10,000 servers
 * that is tens of microseconds per connection. The tree keeps the scan's
 * answer at its root instead: each internal node holds the better of its
 * two children, and since the left child covers lower indices, "better"
 * with ties going left is exactly the scan's "first in list order wins".
 * See struct ltree in sched_int.h.
 */
#include "sched/sched_int.h"

__extension__ typedef unsigned __int128 u128;

int ltree_init(struct ltree *t, uint32_t n)
{
	uint32_t cap = 1;

	while (cap < n)
		cap <<= 1;
	t->node = malloc(2 * (size_t)cap * sizeof(*t->node));
	t->oh = malloc((size_t)cap * sizeof(*t->oh));
	t->w = malloc((size_t)cap * sizeof(*t->w));
	if (!t->node || !t->oh || !t->w) {
		ltree_fini(t);
		return -ENOMEM;
	}
	t->cap = cap;
	t->n = n;
	return 0;
}

void ltree_fini(struct ltree *t)
{
	free(t->node);
	free(t->oh);
	free(t->w);
	memset(t, 0, sizeof(*t));
}

/* The winner of <a> (left, lower indices) and <b> (right). */
static inline int32_t winner(const struct ltree *t, int32_t a, int32_t b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	/* b wins only if strictly better: oh_b/w_b < oh_a/w_a */
	if ((u128)t->oh[b] * t->w[a] < (u128)t->oh[a] * t->w[b])
		return b;
	return a;
}

static inline void set_leaf(struct ltree *t, const struct sched *s,
			    ltree_key_fn key, uint32_t i)
{
	bool ok = key(s->srv[i], &t->oh[i], &t->w[i]);

	t->node[t->cap + i] = ok ? (int32_t)i : -1;
}

void ltree_build(struct ltree *t, const struct sched *s, ltree_key_fn key)
{
	uint32_t i;

	for (i = 0; i < t->n; i++)
		set_leaf(t, s, key, i);
	for (; i < t->cap; i++)
		t->node[t->cap + i] = -1;
	for (i = t->cap - 1; i >= 1; i--)
		t->node[i] = winner(t, t->node[2 * i], t->node[2 * i + 1]);
}

static void climb(struct ltree *t, uint32_t pos)
{
	/* No early exit: an unchanged winner may still have a new key. */
	for (pos >>= 1; pos >= 1; pos >>= 1)
		t->node[pos] = winner(t, t->node[2 * pos], t->node[2 * pos + 1]);
}

void ltree_update(struct ltree *t, const struct sched *s, ltree_key_fn key,
		  uint32_t i)
{
	set_leaf(t, s, key, i);
	climb(t, t->cap + i);
}

/* Removes the skipped leaves (<hide>) or puts them back. */
static void mask_skipped(struct ltree *t, const struct sched *s,
			 ltree_key_fn key, const uint64_t *skip, bool hide)
{
	for (uint32_t w = 0; w < (t->n + 63) / 64; w++) {
		uint64_t bits = skip[w];

		while (bits) {
			uint32_t i = w * 64 + (uint32_t)__builtin_ctzll(bits);

			bits &= bits - 1;
			if (i >= t->n)
				break;
			if (hide) {
				if (t->node[t->cap + i] < 0)
					continue;
				t->node[t->cap + i] = -1;
				climb(t, t->cap + i);
			} else {
				ltree_update(t, s, key, i);
			}
		}
	}
}

int ltree_pick(struct ltree *t, const struct sched *s, ltree_key_fn key,
	       const struct sched_req *req)
{
	int32_t best;

	if (!req || !req->skip)
		return t->n ? t->node[1] : -1;
	/* Retries are rare: hide the servers already tried, read the root,
	 * and put them back, O(tried * log n). */
	mask_skipped(t, s, key, req->skip, true);
	best = t->n ? t->node[1] : -1;
	mask_skipped(t, s, key, req->skip, false);
	return best;
}
