/* udp_pool.c - the UDP proxy's per-worker upstream sockets, server slots
 * and hash tables; see udp.c for the design and udp_int.h for the API. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "proxy/lsock.h"
#include "proxy/udp.h"
#include "proxy/udp_int.h"

/* --- hashing ------------------------------------------------------------------ */

static inline uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* Keyed by the worker's random seed: a client choosing its ports cannot
 * aim at one chain. */
static uint64_t addr_hash(uint64_t seed, const struct weir_addr *a)
{
	if (a->u.sa.sa_family == AF_INET)
		return mix(seed ^ ((uint64_t)a->u.in.sin_addr.s_addr << 16) ^ a->u.in.sin_port ^
			   (1ull << 63));
	uint64_t w[2];

	memcpy(w, &a->u.in6.sin6_addr, sizeof(w));
	return mix(mix(mix(seed ^ w[0]) ^ w[1]) ^ a->u.in6.sin6_port ^
		   ((uint64_t)a->u.in6.sin6_scope_id << 16));
}

uint64_t udp_flow_hash(const struct udp_worker *uw, const struct udp_lst *lst,
			  const struct weir_addr *client, const struct weir_addr *local)
{
	return mix(addr_hash(uw->seed, client) ^ (addr_hash(uw->seed + 1, local) >> 1) ^
		   (uint64_t)(uintptr_t)lst);
}

uint64_t udp_up_hash(const struct udp_worker *uw, uint8_t fam, uint32_t idx,
			const struct weir_addr *srv)
{
	return mix(addr_hash(uw->seed, srv) ^ ((uint64_t)idx << 1 | fam));
}

/* An intrusive chained table of sessions; <off> is the chain field. */
static struct udp_sess **chain(struct udp_sess *s, size_t off)
{
	return (struct udp_sess **)(void *)((char *)s + off);
}

static uint64_t hash_of(const struct udp_sess *s, size_t off)
{
	return off == offsetof(struct udp_sess, fnext) ? s->fhash : s->uhash;
}

static void htab_grow(struct htab *t, size_t off)
{
	uint32_t size = t->b ? (t->mask + 1) * 2 : 256;
	struct udp_sess **b = calloc(size, sizeof(*b));

	if (!b)
		return; /* longer chains, still right */
	for (uint32_t i = 0; t->b && i <= t->mask; i++)
		for (struct udp_sess *s = t->b[i], *next; s; s = next) {
			uint32_t k = (uint32_t)hash_of(s, off) & (size - 1);

			next = *chain(s, off);
			*chain(s, off) = b[k];
			b[k] = s;
		}
	free(t->b);
	t->b = b;
	t->mask = size - 1;
}

int udp_htab_add(struct htab *t, struct udp_sess *s, uint64_t h, size_t off)
{
	if (!t->b || t->n > t->mask)
		htab_grow(t, off);
	if (!t->b)
		return -ENOMEM;
	*chain(s, off) = t->b[h & t->mask];
	t->b[h & t->mask] = s;
	t->n++;
	return 0;
}

void udp_htab_del(struct htab *t, struct udp_sess *s, uint64_t h, size_t off)
{
	for (struct udp_sess **pp = &t->b[h & t->mask]; *pp; pp = chain(*pp, off))
		if (*pp == s) {
			*pp = *chain(s, off);
			t->n--;
			return;
		}
}

struct udp_sess *udp_flow_find(struct udp_worker *uw, struct udp_lst *lst,
				  const struct dgram_msg *m, uint64_t h)
{
	if (!uw->flows.b)
		return NULL;
	for (struct udp_sess *s = uw->flows.b[h & uw->flows.mask]; s; s = s->fnext)
		if (s->fhash == h && s->lst == lst && addr_same(&s->client, &m->peer) &&
		    addr_same(&s->local, &m->local))
			return s;
	return NULL;
}

struct udp_sess *udp_up_find(struct udp_worker *uw, const struct udp_up *up,
				const struct weir_addr *from)
{
	uint64_t h = udp_up_hash(uw, up->fam, up->idx, from);

	if (!uw->upt.b)
		return NULL;
	for (struct udp_sess *s = uw->upt.b[h & uw->upt.mask]; s; s = s->unext)
		if (s->uhash == h && s->up == up && addr_same(&s->rs->addr, from))
			return s;
	return NULL;
}

/* --- the worker's state ---------------------------------------------------------- */

static void gc_cb(struct timer *t);

/* The fds this worker may spend on upstream sockets: half the process's
 * open-file limit shared by the workers (the rest for the TCP proxies), at
 * most UDP_SOCKS_MAX. A session needs a socket no other session to its
 * server uses: this bounds the sessions per server and worker. */
static uint32_t sock_budget(void)
{
	struct rlimit rl;
	uint64_t cur = 4096;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		cur = rl.rlim_cur;
	else if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		cur = 1u << 20;
	cur = cur / 2 / (uint64_t)(nworkers > 0 ? nworkers : 1);
	return (uint32_t)MIN(MAX(cur, 64u), UDP_SOCKS_MAX);
}

static void flush_cb(struct loop_flush *f)
{
	udp_out_flush(container_of(f, struct udp_worker, flush));
}

struct udp_worker *udp_worker_get(struct worker *w)
{
	struct proxy_worker *pw = pworker(w);
	struct udp_worker *uw = pw->udp;

	if (uw)
		return uw;
	uw = calloc(1, sizeof(*uw));
	if (!uw)
		return NULL;
	/* virtual: only the pages replies touch become resident */
	uw->arena = malloc((size_t)UDP_BATCH * UDP_SLOT);
	if (!uw->arena) {
		free(uw);
		return NULL;
	}
	if (getrandom(&uw->seed, sizeof(uw->seed), 0) != sizeof(uw->seed))
		uw->seed = now_ns() ^ (uint64_t)(uintptr_t)uw;
	uw->w = w;
	uw->budget = sock_budget();
	for (unsigned i = 0; i < UDP_BATCH; i++) {
		uw->rxiov[i] = (struct iovec){ uw->arena + (size_t)i * UDP_SLOT, UDP_SLOT };
		uw->rxhdr[i].msg_hdr = (struct msghdr){
			.msg_name = &uw->rxname[i].u, .msg_namelen = sizeof(uw->rxname[i].u),
			.msg_iov = &uw->rxiov[i], .msg_iovlen = 1,
		};
	}
	uw->flush.fn = flush_cb;
	uw->gc.cb = gc_cb;
	pw->udp = uw;
	return uw;
}

/* Rate-limited warnings: one per LOG_EVERY_MS per worker. */
bool udp_may_log(struct udp_worker *uw)
{
	uint64_t now = loop_now(uw->w->loop);

	if (uw->last_log && now - uw->last_log < LOG_EVERY_MS)
		return false;
	uw->last_log = now;
	return true;
}

/* --- upstream sockets ---------------------------------------------------------------- */

void udp_up_close(struct udp_up *up)
{
	struct udp_worker *uw = up->uw;

	loop_del(uw->w->loop, &up->io);
	close(up->io.fd);
	timer_cancel(uw->w->loop, &up->more);
	uw->ups[up->fam][up->idx] = NULL;
	uw->nsocks--;
	free(up);
}

/* The socket of slot <idx>, made when missing. NULL: out of the budget or
 * of fds. */
struct udp_up *udp_up_get(struct udp_worker *uw, uint8_t fam, uint32_t idx)
{
	struct udp_up *up;
	int fd, one = 1;

	if (idx < uw->nups[fam] && uw->ups[fam][idx])
		return uw->ups[fam][idx];
	if (uw->nsocks >= uw->budget)
		return NULL;
	if (idx >= uw->nups[fam]) {
		uint32_t n = MAX(idx + 1, uw->nups[fam] * 2);
		struct udp_up **a = realloc(uw->ups[fam], n * sizeof(*a));

		if (!a)
			return NULL;
		memset(a + uw->nups[fam], 0, (n - uw->nups[fam]) * sizeof(*a));
		uw->ups[fam] = a;
		uw->nups[fam] = n;
	}
	fd = socket(fam ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	/* ICMP errors (port unreachable) come to the error queue, naming the
	 * server they are about */
	if (fam)
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof(one));
	else
		setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
	lsock_rcvbuf(fd, UDP_RCVBUF / 4);
	up = calloc(1, sizeof(*up));
	if (!up) {
		close(fd);
		return NULL;
	}
	up->io.fd = fd;
	up->io.cb = udp_up_cb;
	up->more.cb = udp_up_more_cb;
	up->uw = uw;
	up->idx = idx;
	up->fam = fam;
	up->staged = up->staged_tail = -1;
	if (loop_add(uw->w->loop, &up->io, EPOLLIN) != 0) {
		close(fd);
		free(up);
		return NULL;
	}
	uw->ups[fam][idx] = up;
	uw->nsocks++;
	return up;
}

/* --- server slots ------------------------------------------------------------------- */

struct udp_dest *udp_dest_get(struct udp_worker *uw, const struct weir_addr *a)
{
	uint64_t h = addr_hash(uw->seed + 2, a);
	struct udp_dest *d;

	for (d = uw->dests ? uw->dests[h & uw->dmask] : NULL; d; d = d->next)
		if (d->hash == h && addr_same(&d->addr, a))
			return d;
	if (!uw->dests || uw->ndests > uw->dmask) {
		uint32_t size = uw->dests ? (uw->dmask + 1) * 2 : 64;
		struct udp_dest **b = calloc(size, sizeof(*b));

		if (b) {
			for (uint32_t i = 0; uw->dests && i <= uw->dmask; i++)
				for (struct udp_dest *x = uw->dests[i], *next; x; x = next) {
					next = x->next;
					x->next = b[x->hash & (size - 1)];
					b[x->hash & (size - 1)] = x;
				}
			free(uw->dests);
			uw->dests = b;
			uw->dmask = size - 1;
		} else if (!uw->dests) {
			return NULL;
		}
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->addr = *a;
	d->hash = h;
	d->fam = a->u.sa.sa_family == AF_INET6;
	d->next = uw->dests[h & uw->dmask];
	uw->dests[h & uw->dmask] = d;
	uw->ndests++;
	return d;
}

/* A slot no live session to <d> uses: a clean one, a quarantined one whose
 * time is up, or a fresh one. */
void udp_dest_take(struct udp_worker *uw, struct udp_dest *d, uint64_t now, uint32_t *idx)
{
	/* A flood of evictions must not grow the sockets without end: beyond
	 * as many quarantined slots as live ones (at least 64), or with the
	 * budget spent, the oldest quarantined slot is taken early. */
	bool crowded = d->qlen >= MAX(64u, d->inuse) || uw->nsocks >= uw->budget;

	if (d->nclean) {
		*idx = d->clean[--d->nclean];
	} else if (d->qlen && (d->q[d->qhead].until <= now || crowded)) {
		*idx = d->q[d->qhead].idx;
		d->qhead = (d->qhead + 1) % d->qcap;
		d->qlen--;
	} else {
		*idx = d->nfresh++;
	}
	d->inuse++;
	d->last_used = now;
}

void udp_dest_give(struct udp_dest *d, uint32_t idx, bool clean, uint64_t now)
{
	d->inuse--;
	d->last_used = now;
	if (clean && d->nclean < d->capclean) {
		d->clean[d->nclean++] = idx;
		return;
	}
	if (clean) {
		uint32_t cap = d->capclean ? d->capclean * 2 : 8;
		uint32_t *c = realloc(d->clean, cap * sizeof(*c));

		if (c) {
			d->clean = c;
			d->capclean = cap;
			d->clean[d->nclean++] = idx;
			return;
		}
	}
	if (d->qlen == d->qcap) {
		uint32_t cap = d->qcap ? d->qcap * 2 : 8;
		struct qent *q = malloc(cap * sizeof(*q));

		if (!q)
			return; /* the slot is lost to <d> until the next gc */
		for (uint32_t i = 0; i < d->qlen; i++)
			q[i] = d->q[(d->qhead + i) % d->qcap];
		free(d->q);
		d->q = q;
		d->qcap = cap;
		d->qhead = 0;
	}
	d->q[(d->qhead + d->qlen) % d->qcap] = (struct qent){ idx, now + UDP_QUARANTINE_MS };
	d->qlen++;
}

static void udp_dest_free(struct udp_dest *d)
{
	free(d->clean);
	free(d->q);
	free(d);
}

/* Every UDP_GC_MS: servers no session used for a while forget their slots,
 * and sockets no session used for a while close (a slot made again later
 * gets a new port). */
void udp_gc_arm(struct udp_worker *uw, uint64_t now)
{
	if (!timer_armed(&uw->gc))
		timer_arm(uw->w->loop, &uw->gc, now + UDP_GC_MS);
}

static void gc_cb(struct timer *t)
{
	struct udp_worker *uw = container_of(t, struct udp_worker, gc);
	uint64_t now = loop_now(uw->w->loop);
	bool busy = false;

	for (uint32_t i = 0; uw->dests && i <= uw->dmask; i++)
		for (struct udp_dest **pp = &uw->dests[i]; *pp;) {
			struct udp_dest *d = *pp;

			if (!d->inuse && now - d->last_used >= UDP_GC_MS) {
				*pp = d->next;
				uw->ndests--;
				udp_dest_free(d);
				continue;
			}
			busy = true;
			pp = &d->next;
		}
	for (int f = 0; f < 2; f++)
		for (uint32_t i = 0; i < uw->nups[f]; i++) {
			struct udp_up *up = uw->ups[f][i];

			if (up && !up->users && up->staged < 0 && now - up->last_used >= UDP_GC_MS)
				udp_up_close(up);
			else if (up)
				busy = true;
		}
	if (busy)
		timer_arm(uw->w->loop, &uw->gc, now + UDP_GC_MS);
}

void udp_worker_fini(struct worker *w)
{
	struct proxy_worker *pw = pworker(w);
	struct udp_worker *uw = pw ? pw->udp : NULL;

	if (!uw)
		return;
	udp_out_flush(uw);
	for (int f = 0; f < 2; f++) {
		for (uint32_t i = 0; i < uw->nups[f]; i++)
			if (uw->ups[f][i])
				udp_up_close(uw->ups[f][i]);
		free(uw->ups[f]);
	}
	for (uint32_t i = 0; uw->dests && i <= uw->dmask; i++)
		for (struct udp_dest *d = uw->dests[i], *next; d; d = next) {
			next = d->next;
			udp_dest_free(d);
		}
	while (uw->free) {
		struct udp_sess *s = uw->free;

		uw->free = s->next;
		free(s);
	}
	timer_cancel(w->loop, &uw->gc);
	free(uw->dests);
	free(uw->flows.b);
	free(uw->upt.b);
	free(uw->arena);
	free(uw);
	pw->udp = NULL;
}

