/*
 * persist.c - persistence templates; see persist.h for the semantics.
 *
 * Templates live in a keyed table (ktab.c) by masked client address, on a
 * list in last-use order so expiry takes the oldest first and stops at the
 * first one still fresh. Each server's templates are also chained on a
 * per-server list, found through a second small table keyed by the
 * server's address in memory, so forgetting a server costs its templates
 * only.
 */
#include <stdio.h>

#include "sched/persist.h"
#include "sched/sched_int.h"

#define PKEY_LEN 17 /* length byte (4 or 16), then the masked address */

struct psrv;

/* One template. */
struct pent {
	struct ktab_ent e;
	struct sched_server *srv;
	struct psrv *ps;              /* srv's list */
	struct pent *sprev, *snext;
	uint32_t nconn;               /* connections it directs (hold) */
	uint8_t key[PKEY_LEN];
};

/* The templates of one server. */
struct psrv {
	struct ktab_ent e;
	const struct sched_server *srv;
	struct pent *head;
	uint8_t key[sizeof(void *)];
	size_t n;                   /* templates in the list */
};

struct persist_table {
	struct ktab tab;      /* struct pent by client key */
	struct ktab srvs;     /* struct psrv by server pointer */
	uint64_t timeout;
	uint8_t v4_prefix, v6_prefix;
};

#define to_pent(p) sched_container_of(p, struct pent, e)
#define to_psrv(p) sched_container_of(p, struct psrv, e)

struct persist_table *persist_create(uint32_t timeout_ms, uint8_t v4_prefix,
				     uint8_t v6_prefix, uint64_t seed)
{
	struct persist_table *t;

	if (v4_prefix > 32 || v6_prefix > 128)
		return NULL;
	if (!(t = calloc(1, sizeof(*t))))
		return NULL;
	if (ktab_init(&t->tab, seed) < 0)
		goto out_free;
	if (ktab_init(&t->srvs, ~seed) < 0)
		goto out_tab;
	t->timeout = timeout_ms ? timeout_ms : PERSIST_DEFAULT_TIMEOUT_MS;
	t->v4_prefix = v4_prefix;
	t->v6_prefix = v6_prefix;
	return t;

out_tab:
	ktab_fini(&t->tab);
out_free:
	free(t);
	return NULL;
}

/* The client key of <src>: its length, then the address under the mask. */
static int make_key(const struct persist_table *t, const uint8_t *src,
		    uint8_t len, uint8_t *key)
{
	unsigned prefix;

	if (!src || (len != 4 && len != 16))
		return -EINVAL;
	prefix = len == 4 ? t->v4_prefix : t->v6_prefix;
	memset(key, 0, PKEY_LEN);
	key[0] = len;
	for (unsigned i = 0; i < len; i++) {
		unsigned bits = prefix > 8 * i ? prefix - 8 * i : 0;

		if (bits >= 8)
			key[1 + i] = src[i];
		else if (bits)
			key[1 + i] = src[i] & (uint8_t)(0xff00u >> bits);
	}
	return 0;
}

static struct pent *find(struct persist_table *t, const uint8_t *key)
{
	struct ktab_ent *e = ktab_find(&t->tab, key, PKEY_LEN,
				       ktab_hash(&t->tab, key, PKEY_LEN));

	return e ? to_pent(e) : NULL;
}

static struct psrv *srv_list(struct persist_table *t,
			     const struct sched_server *srv, bool create)
{
	uint64_t h = ktab_hash(&t->srvs, &srv, sizeof(srv));
	struct ktab_ent *e = ktab_find(&t->srvs, &srv, sizeof(srv), h);
	struct psrv *ps;

	if (e || !create)
		return e ? to_psrv(e) : NULL;
	if (!(ps = calloc(1, sizeof(*ps))))
		return NULL;
	ps->srv = srv;
	memcpy(ps->key, &srv, sizeof(srv));
	ps->e.key = ps->key;
	ps->e.klen = sizeof(srv);
	ps->e.hash = h;
	ktab_insert(&t->srvs, &ps->e);
	return ps;
}

static void unlink_srv(struct persist_table *t, struct pent *p)
{
	struct psrv *ps = p->ps;

	if (p->sprev)
		p->sprev->snext = p->snext;
	else
		ps->head = p->snext;
	if (p->snext)
		p->snext->sprev = p->sprev;
	p->sprev = p->snext = NULL;
	p->ps = NULL;
	ps->n--;
	if (!ps->head) {
		ktab_remove(&t->srvs, &ps->e);
		free(ps);
	}
}

static void link_srv(struct pent *p, struct psrv *ps)
{
	p->ps = ps;
	ps->n++;
	p->sprev = NULL;
	p->snext = ps->head;
	if (ps->head)
		ps->head->sprev = p;
	ps->head = p;
}

static void drop(struct persist_table *t, struct pent *p)
{
	unlink_srv(t, p);
	ktab_remove(&t->tab, &p->e);
	free(p);
}

static bool expired(const struct persist_table *t, const struct pent *p,
		    uint64_t now)
{
	return now >= p->e.stamp + t->timeout;
}

struct sched_server *persist_lookup(struct persist_table *t, const uint8_t *src,
				    uint8_t len, uint64_t now_ms)
{
	uint8_t key[PKEY_LEN];
	struct pent *p;

	if (make_key(t, src, len, key) < 0 || !(p = find(t, key)))
		return NULL;
	if ((expired(t, p, now_ms) && !p->nconn) ||
	    (p->srv->flags & (SCHED_SRV_DOWN | SCHED_SRV_MAINT))) {
		drop(t, p);
		return NULL;
	}
	ktab_touch(&t->tab, &p->e, now_ms);
	return p->srv;
}

int persist_bind(struct persist_table *t, const uint8_t *src, uint8_t len,
		 struct sched_server *srv, uint64_t now_ms)
{
	uint8_t key[PKEY_LEN];
	struct psrv *ps;
	struct pent *p;

	if (make_key(t, src, len, key) < 0 || !srv)
		return -EINVAL;
	if (!(ps = srv_list(t, srv, true)))
		return -ENOMEM;
	if ((p = find(t, key))) {
		if (p->srv != srv) {
			unlink_srv(t, p);
			link_srv(p, ps);
			p->srv = srv;
		}
		ktab_touch(&t->tab, &p->e, now_ms);
		return 0;
	}
	if (!(p = calloc(1, sizeof(*p)))) {
		if (!ps->head) { /* created for nothing */
			ktab_remove(&t->srvs, &ps->e);
			free(ps);
		}
		return -ENOMEM;
	}
	memcpy(p->key, key, PKEY_LEN);
	p->e.key = p->key;
	p->e.klen = PKEY_LEN;
	p->e.hash = ktab_hash(&t->tab, key, PKEY_LEN);
	p->e.stamp = now_ms;
	p->srv = srv;
	link_srv(p, ps);
	ktab_insert(&t->tab, &p->e);
	return 0;
}

int persist_hold(struct persist_table *t, const uint8_t *src, uint8_t len)
{
	uint8_t key[PKEY_LEN];
	struct pent *p;

	if (make_key(t, src, len, key) < 0 || !(p = find(t, key)))
		return -ENOENT;
	p->nconn++;
	return 0;
}

int persist_release(struct persist_table *t, const uint8_t *src, uint8_t len,
		    uint64_t now_ms)
{
	uint8_t key[PKEY_LEN];
	struct pent *p;

	if (make_key(t, src, len, key) < 0 || !(p = find(t, key)))
		return -ENOENT;
	if (p->nconn)
		p->nconn--;
	return 0;
}

void persist_forget_server(struct persist_table *t, const struct sched_server *srv)
{
	struct psrv *ps = srv_list(t, srv, false);

	/* dropping the last template frees ps itself */
	while (ps && ps->head) {
		bool last = !ps->head->snext;

		drop(t, ps->head);
		if (last)
			break;
	}
}

size_t persist_expire(struct persist_table *t, uint64_t now_ms, size_t max)
{
	size_t dropped = 0, seen = 0;
	struct ktab_ent *e;

	while ((!max || seen < max) && (e = ktab_oldest(&t->tab))) {
		struct pent *p = to_pent(e);

		if (!expired(t, p, now_ms))
			break;
		seen++;
		if (p->nconn) {
			/* IPVS: a template with connections re-arms */
			ktab_touch(&t->tab, e, now_ms);
			continue;
		}
		drop(t, p);
		dropped++;
	}
	return dropped;
}

size_t persist_count_server(struct persist_table *t, const struct sched_server *srv)
{
	struct psrv *ps = srv_list(t, srv, false);

	return ps ? ps->n : 0;
}

void persist_foreach_server(struct persist_table *t, const struct sched_server *srv,
			    uint64_t now_ms, persist_visit_fn fn, void *arg)
{
	struct psrv *ps = srv_list(t, srv, false);

	for (struct pent *p = ps ? ps->head : NULL; p; p = p->snext) {
		uint64_t left = expired(t, p, now_ms) ? 0 : p->e.stamp + t->timeout - now_ms;

		if (!left && p->nconn)
			left = t->timeout; /* re-armed while it holds connections */
		if (left)
			fn(p->key + 1, p->key[0], left, arg);
	}
}

size_t persist_count(const struct persist_table *t)
{
	return t->tab.n;
}

void persist_destroy(struct persist_table *t)
{
	struct ktab_ent *e;

	if (!t)
		return;
	while ((e = ktab_oldest(&t->tab)))
		drop(t, to_pent(e));
	ktab_fini(&t->tab);
	ktab_fini(&t->srvs);
	free(t);
}

int persist_v4_prefix(const char *mask, uint8_t *prefix)
{
	unsigned a, b, c, d;
	uint32_t m;
	char end;

	if (!mask || sscanf(mask, "%u.%u.%u.%u%c", &a, &b, &c, &d, &end) != 4 ||
	    a > 255 || b > 255 || c > 255 || d > 255)
		return -EINVAL;
	m = a << 24 | b << 16 | c << 8 | d;
	/* contiguous ones: the complement plus one is a power of two */
	if (((~m + 1) & ~m) != 0)
		return -EINVAL;
	*prefix = (uint8_t)__builtin_popcount(m);
	return 0;
}
