/*
 * ltree.c - the tournament tree behind lc, wlc, sed, nq, lblc and lblcr.
 *
 * IPVS scans every destination for the least loaded one; at 10,000 servers
 * that is tens of microseconds per connection. The tree keeps the scan's
 * answer at its root instead: each internal node holds the best of its
 * four children, which cover consecutive index ranges in order, and ties
 * go to the leftmost -- exactly the scan's "first in list order wins".
 * Four children rather than two halve the depth, and the four share a
 * cache line. See struct ltree in sched_int.h.
 */
#include "sched/sched_int.h"

__extension__ typedef unsigned __int128 u128;

#define NODE(t, p) (&(t)->node[(p) + 3])

int ltree_init(struct ltree *t, uint32_t n)
{
	uint32_t cap = 1, leaf0 = 0;

	while (cap < n) {
		leaf0 += cap;
		cap *= 4;
	}
	/* (leaf0 + cap + 3) nodes, rounded up to whole 64-byte lines */
	t->node = aligned_alloc(64, ((size_t)leaf0 + cap + 3 + 3) / 4 * 64);
	if (!t->node)
		return -ENOMEM;
	t->leaf0 = leaf0;
	t->cap = cap;
	t->n = n;
	return 0;
}

void ltree_fini(struct ltree *t)
{
	free(t->node);
	memset(t, 0, sizeof(*t));
}

/* The winner of <a> (lower indices) and <b>: b only if strictly better. */
static inline const struct ltree_node *winner(const struct ltree_node *a,
					      const struct ltree_node *b)
{
	if (a->idx < 0)
		return b;
	if (b->idx < 0)
		return a;
	if ((u128)b->oh * a->w < (u128)a->oh * b->w)
		return b;
	return a;
}

/* The winner among node <p>'s four children. */
static inline const struct ltree_node *winner4(const struct ltree *t, uint32_t p)
{
	const struct ltree_node *c = NODE(t, 4 * p + 1);

	return winner(winner(&c[0], &c[1]), winner(&c[2], &c[3]));
}

static inline void set_leaf(struct ltree *t, const struct sched *s,
			    ltree_key_fn key, uint32_t i)
{
	struct ltree_node *l = NODE(t, t->leaf0 + i);

	l->idx = key(s->srv[i], &l->oh, &l->w) ? (int32_t)i : -1;
}

void ltree_build(struct ltree *t, const struct sched *s, ltree_key_fn key)
{
	uint32_t i;

	for (i = 0; i < t->n; i++)
		set_leaf(t, s, key, i);
	for (; i < t->cap; i++)
		*NODE(t, t->leaf0 + i) = (struct ltree_node){ .idx = -1 };
	for (i = t->leaf0; i-- > 0;)
		*NODE(t, i) = *winner4(t, i);
}

/*
 * Recomputes the ancestors of leaf <i>. A node whose winner stays the same
 * server, and that server is not <i>, is unchanged in every way, and so
 * are the nodes above it: stop there. (If it is <i>, its key moved: go on.)
 */
static void climb(struct ltree *t, uint32_t i)
{
	uint32_t p = t->leaf0 + i;

	while (p > 0) {
		const struct ltree_node *w;

		p = (p - 1) / 4;
		w = winner4(t, p);
		if (w->idx == NODE(t, p)->idx && w->idx != (int32_t)i)
			return;
		*NODE(t, p) = *w;
	}
}

void ltree_update(struct ltree *t, const struct sched *s, ltree_key_fn key,
		  uint32_t i)
{
	set_leaf(t, s, key, i);
	climb(t, i);
}

bool ltree_has(const struct ltree *t, uint32_t i)
{
	return NODE(t, t->leaf0 + i)->idx >= 0;
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
				if (NODE(t, t->leaf0 + i)->idx < 0)
					continue;
				NODE(t, t->leaf0 + i)->idx = -1;
				climb(t, i);
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
		return t->n ? NODE(t, 0)->idx : -1;
	/* Retries are rare: hide the servers already tried, read the root,
	 * and put them back, O(tried * log n). */
	mask_skipped(t, s, key, req->skip, true);
	best = t->n ? NODE(t, 0)->idx : -1;
	mask_skipped(t, s, key, req->skip, false);
	return best;
}
