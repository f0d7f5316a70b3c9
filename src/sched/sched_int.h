/*
 * sched_int.h - what the scheduler algorithms share, private to src/sched/.
 *
 * Nothing here is part of the library's interface (sched.h is); the
 * algorithms (rr.c, wrr.c, lc.c, ...) include it for the registry entries,
 * the hashes IPVS uses, the random generator and two ordered structures:
 * the tournament tree of the lc family, fo and ovf (ltree.c) and the keyed
 * table with a use-ordered list of lblc, lblcr and persistence (ktab.c).
 */
#ifndef WEIR_SCHED_INT_H
#define WEIR_SCHED_INT_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sched/sched.h"

/* The registry entries, one per algorithm file. */
extern const struct sched_ops sched_rr_ops, sched_wrr_ops, sched_lc_ops,
	sched_wlc_ops, sched_sed_ops, sched_nq_ops, sched_lblc_ops,
	sched_lblcr_ops, sched_dh_ops, sched_sh_ops, sched_mh_ops,
	sched_swrr_ops, sched_p2c_ops, sched_lrt_ops, sched_fo_ops,
	sched_ovf_ops, sched_twos_ops;

/* DOWN, DRAIN, MAINT and STANDBY are weir's own flags; IPVS expresses
 * them by quiescing (weight 0) or removing a destination. So where IPVS reads the
 * weight for anything but "may it take work now" (wrr's gcd and maximum,
 * lblc's "is there a half-idle server"), weir reads this. */
#define SCHED_SRV_OFF (SCHED_SRV_DOWN | SCHED_SRV_DRAIN | SCHED_SRV_MAINT | \
		       SCHED_SRV_STANDBY)

static inline uint32_t sched_eff_weight(const struct sched_server *srv)
{
	return (srv->flags & SCHED_SRV_OFF) ? 0 : srv->weight;
}

/* The weight a static table (sh, mh) deals a server: none while it is
 * in standby (not in the serving tier), else <w>. */
static inline uint32_t sched_table_weight(const struct sched_server *srv, uint32_t w)
{
	return (srv->flags & SCHED_SRV_STANDBY) ? 0 : w;
}

/* May <idx> take this request: available and not in req->skip. */
static inline bool sched_usable(const struct sched *s,
				const struct sched_req *req, int idx)
{
	return sched_server_available(s->srv[idx]) && !sched_skipped(req, idx);
}

/* True if <req> skips anything at all among the first <n> servers. */
bool sched_skip_any(const struct sched_req *req, size_t n);

/* Index of a pointer of the previous set in the current one, or -1. Only
 * valid inside update(). */
static inline int32_t sched_prev_to_new(const struct sched *s, size_t old)
{
	return s->prev_srv[old]->idx;
}

/* lrt (p2c.c): folds one response time into srv's peak EWMA. */
void sched_lrt_observe(const struct sched *s, struct sched_server *srv,
		       uint64_t rtt_ns, uint64_t now_ms);

/* ---- bitmaps over server indices ---- */

/* First index in [from, to) set in <bits> and clear in <skip> (may be
 * NULL), or -1. */
static inline int32_t sched_bit_next(const uint64_t *bits, const uint64_t *skip,
				     uint32_t from, uint32_t to)
{
	for (uint32_t w = from / 64; w * 64 < to; w++) {
		uint64_t v = bits[w] & (skip ? ~skip[w] : ~UINT64_C(0));

		if (w == from / 64)
			v &= ~UINT64_C(0) << (from % 64);
		if (v) {
			uint32_t i = w * 64 + (uint32_t)__builtin_ctzll(v);

			return i < to ? (int32_t)i : -1;
		}
	}
	return -1;
}

static inline void sched_bit_set(uint64_t *bits, uint32_t i, bool on)
{
	if (on)
		bits[i / 64] |= UINT64_C(1) << (i % 64);
	else
		bits[i / 64] &= ~(UINT64_C(1) << (i % 64));
}

/* ---- random numbers: xorshift64* over s->rng ---- */
static inline uint64_t sched_rand(struct sched *s)
{
	uint64_t x = s->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	s->rng = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* Uniform in [0, n), n <= 2^32 (Lemire's multiply-shift). */
static inline uint32_t sched_rand_below(struct sched *s, uint32_t n)
{
	return (uint32_t)(((sched_rand(s) >> 32) * (uint64_t)n) >> 32);
}

/* ---- the hashes IPVS uses (hash.c) ---- */

/* Big-endian 32-bit load: ntohl() of an address word. */
static inline uint32_t sched_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* IPVS's addr_fold: the v4 address, or the xor of the four v6 words, in
 * host order. <len> is 4 or 16. */
static inline uint32_t sched_addr_fold(const uint8_t *a, size_t len)
{
	if (len == 16)
		return sched_be32(a) ^ sched_be32(a + 4) ^ sched_be32(a + 8) ^
		       sched_be32(a + 12);
	return sched_be32(a);
}

/* The kernel's hash_32(): multiplicative hash, top <bits> bits. */
static inline uint32_t sched_hash_32(uint32_t v, unsigned bits)
{
	return (v * 0x61C88647u) >> (32 - bits);
}

/* The kernel's hsiphash_1u32() on a 64-bit kernel (SipHash-1-3 truncated
 * to 32 bits), with both key words equal to <k>, as ip_vs_mh keys it. */
uint32_t sched_hsiphash_u32(uint32_t v, uint64_t k);
/* SipHash-1-3 of a byte string under (k0, k1): weir's table hash. */
uint64_t sched_siphash13(const void *data, size_t len, uint64_t k0, uint64_t k1);
/* A 32-bit key for dh/sh: the IPVS fold for a 4 or 16 byte address, an
 * unkeyed FNV-1a otherwise (so every weir instance agrees). */
uint32_t sched_key_fold(const void *key, size_t len);

/* ---- ltree.c: tournament tree, least overhead/weight first ---- */

/*
 * A complete tree over server indices whose internal nodes hold the winner
 * of their children: the lowest oh/w, compared as oh_a*w_b < oh_b*w_a, and
 * among equals the lowest index, which is the first in list order --
 * exactly the server a linear IPVS scan returns. Leaves of servers that
 * may not take work hold -1. The root is the answer in O(1); one server's
 * change costs O(log n).
 */
struct ltree_node {
	uint64_t oh;     /* the winner's overhead */
	uint32_t w;      /* and weight */
	int32_t idx;     /* the winner, -1 = none */
};

struct ltree {
	/* A 4-ary tree: node p's children are 4p+1..4p+4, the root is 0,
	 * leaves start at <leaf0>. Stored from node[3] on, so that the four
	 * children share a 64-byte line; a node carries its winner's key, so
	 * a level costs that one line and not a lookup per child. */
	struct ltree_node *node;
	uint32_t leaf0;  /* index of the first leaf */
	uint32_t cap;    /* leaves: a power of four >= n */
	uint32_t n;
};

/* Computes <srv>'s key; returns false if it may not take work. */
typedef bool (*ltree_key_fn)(const struct sched_server *srv, uint64_t *oh,
			     uint32_t *w);

int  ltree_init(struct ltree *t, uint32_t n);
void ltree_fini(struct ltree *t);
/* Rebuilds every leaf of <t> from <s>'s servers. */
void ltree_build(struct ltree *t, const struct sched *s, ltree_key_fn key);
/* Recomputes leaf <i> from its server and the path to the root. */
void ltree_update(struct ltree *t, const struct sched *s, ltree_key_fn key,
		  uint32_t i);
/* True if leaf <i> holds its server (its key function said it may take
 * work when the leaf was last set). */
bool ltree_has(const struct ltree *t, uint32_t i);
/* The winner, or -1; with <req>->skip, the winner among the others. */
int  ltree_pick(struct ltree *t, const struct sched *s, ltree_key_fn key,
		const struct sched_req *req);

/* wlc's cost (lc.c), which lblc and lblcr fall back on. */
bool sched_wlc_key(const struct sched_server *srv, uint64_t *oh, uint32_t *w);

/* IPVS's ip_vs_dest_conn_overhead(): active*256 + inactive, "active" with
 * the connections the server has elsewhere (sched_active). */
static inline uint64_t sched_ipvs_overhead(const struct sched_server *srv)
{
	return ((uint64_t)sched_active(srv) << 8) + srv->inactive;
}

/*
 * An algorithm that is "the server with the best key of <key>, the first
 * in list order among equals" (lc, wlc, sed, nq, fo, ovf): a tree over
 * the set, rebuilt by update(), one leaf moved by a connection change.
 * SCHED_LTREE_OPS() defines its init and its sched_ops; the operations
 * live in lc.c.
 */
struct sched_ltree_state {
	struct ltree t;
	ltree_key_fn key;
};

int  sched_ltree_update(struct sched *s);
void sched_ltree_fini(struct sched *s);
void sched_ltree_conn_changed(struct sched *s, struct sched_server *srv);
/* conn_changed for a key that reads the counts only to say whether the
 * server may take work (fo, ovf): the tree moves only when that changes. */
void sched_ltree_presence_changed(struct sched *s, struct sched_server *srv);
int  sched_ltree_pick(struct sched *s, const struct sched_req *req);

#define SCHED_LTREE_OPS(algo, keyfn, changed, is_periodic, text)           \
	static int algo##_init(struct sched *s)                           \
	{                                                                 \
		((struct sched_ltree_state *)s->state)->key = keyfn;      \
		return 0;                                                 \
	}                                                                 \
	const struct sched_ops sched_##algo##_ops = {                     \
		.name = #algo,                                            \
		.descr = text,                                            \
		.state_size = sizeof(struct sched_ltree_state),           \
		.init = algo##_init,                                      \
		.fini = sched_ltree_fini,                                 \
		.update = sched_ltree_update,                             \
		.pick = sched_ltree_pick,                                 \
		.conn_changed = changed,                                  \
		.periodic = is_periodic,                                  \
	}

/* ---- ktab.c: keyed table with a use-ordered list ---- */

/*
 * A chained hash table of entries embedded in the owner's structures,
 * keyed by byte strings with a keyed SipHash, that grows by moving a few
 * buckets per call (no call rehashes everything). Its entries are also on
 * a list: in last-use order if the owner marks uses with ktab_touch(), so
 * expiry is O(expired); in insertion order if it only sets e->stamp.
 * The owner allocates and frees entries and the key bytes they point to.
 */
struct ktab_ent {
	struct ktab_ent *lprev, *lnext; /* use list */
	uint64_t stamp;                 /* last use, owner's clock */
	/* what a lookup reads last, so that an owner who puts the key bytes
	 * right after the entry has them on the same cache line */
	struct ktab_ent *hnext;         /* bucket chain */
	uint64_t hash;
	const uint8_t *key;
	uint32_t klen;
};

struct ktab {
	struct ktab_ent **b;   /* buckets, nb a power of two */
	size_t nb;
	struct ktab_ent **ob;  /* buckets being emptied into b, or NULL */
	size_t onb, orover;    /* ob buckets below orover are already moved */
	size_t n;
	struct ktab_ent lru;   /* list head: lru.lnext is the oldest */
	uint64_t k0, k1;
};

int  ktab_init(struct ktab *t, uint64_t seed);
void ktab_fini(struct ktab *t); /* frees the buckets, not the entries */
uint64_t ktab_hash(const struct ktab *t, const void *key, size_t len);
struct ktab_ent *ktab_find(struct ktab *t, const void *key, size_t len,
			   uint64_t hash);
/* Inserts <e> (hash, key, klen, stamp set) as the newest. */
void ktab_insert(struct ktab *t, struct ktab_ent *e);
void ktab_remove(struct ktab *t, struct ktab_ent *e);
/* Marks <e> used at <stamp>: it becomes the newest. */
void ktab_touch(struct ktab *t, struct ktab_ent *e, uint64_t stamp);

static inline struct ktab_ent *ktab_oldest(const struct ktab *t)
{
	return t->lru.lnext == &t->lru ? NULL : t->lru.lnext;
}

static inline struct ktab_ent *ktab_newer(const struct ktab *t,
					  const struct ktab_ent *e)
{
	return e->lnext == &t->lru ? NULL : e->lnext;
}

#define sched_container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

#endif
