/*
 * udp.c - the layer-4 UDP proxy (--proxy udp).
 *
 * A session is a flow: a client's address and port and the local address
 * it sent to, on one service. Its first datagram picks a server (the
 * scheduler, persistence); later ones follow it. Replies go back through
 * the service's datagram listener (dgram.h) from the address the client
 * sent to. Everything of a session runs on the worker whose listener
 * received its first datagram (SO_REUSEPORT keeps a client on one).
 *
 * Upstream sockets: shared and unconnected, not one connected socket per
 * session. A worker keeps a pool of UDP sockets per address family, each
 * bound to an ephemeral port; a session to server S takes a socket no
 * other live session to S uses, so a reply from S on socket K names its
 * session: the demultiplexing table is keyed by (K, S). Measured on this
 * machine (bench/RESULTS.md, issue 12): socket() + connect() + epoll_ctl()
 * + close() for each session cost ~10 us of CPU more than a send on a
 * pooled socket, which is what a DNS-like service (one exchange per
 * session) pays for every query; with pooled sockets the datagrams of one
 * batch going to one socket leave in one sendmmsg(), and the kernel work
 * per session is none. The cost: weir, not the kernel, drops replies from
 * anyone else (the table has no entry: counted), and a socket freed by one
 * session and taken by the next session to the same server could hand the
 * new client a late reply meant for the old one. Hence the reuse rule: a
 * session that ended cleanly (its expected responses all came, it was
 * idle for the whole timeout, no answer expected) frees its socket for
 * the same server at once; one that ended early (evicted, moved off a
 * failed server) quarantines it for that server for UDP_QUARANTINE_MS.
 * Idle sockets are closed after UDP_GC_MS; a socket made later for the
 * same slot has a new port.
 *
 * Sessions end: when the server sent `responses` datagrams per client
 * datagram (and the `requests` limit, if any, was reached), after
 * idle_timeout without a datagram either way, when evicted (max_conn: the
 * service's oldest idle session on this worker makes room), when the
 * server answers ICMP unreachable (a passive failure, as a refused TCP
 * connect), when its server is down, in maintenance or removed (its next
 * datagram goes to another server), or when the listener closes. A
 * drained server keeps its sessions until they end. `requests N` (and
 * ops, = requests 1) takes a session out of the flow table after N
 * datagrams: it lives on for the replies, and the client's next datagram
 * starts a new session.
 *
 * Memory: sessions come from a per-worker free list (allocation only when
 * it is empty); the receive buffers are the listener's and one per-worker
 * reply arena; the hash tables grow by doubling. Nothing is allocated per
 * datagram. Sessions per service are bounded by max_conn and per worker
 * by the upstream socket budget (a share of RLIMIT_NOFILE).
 *
 * Threads: everything here belongs to one worker's thread, except the
 * mode's ops (control thread), which only bind and hand over listeners.
 */
#include <errno.h>
#include <time.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "core/table.h"
#include "health/state.h"
#include "proto/proxy_proto.h"
#include "proxy/dgram.h"
#include "proxy/proxy.h"
#include "proxy/pworker.h"
#include "proxy/udp.h"
#include "proxy/udp_opts.h"

#define UDP_BATCH DGRAM_BATCH_MAX
#define UDP_SLOT 65536u             /* reply arena: one slot per datagram */
#define UDP_ROUNDS 16               /* recvmmsg() per socket wake-up */
#define UDP_QUARANTINE_MS 2000u
#define UDP_GC_MS 10000u
#define UDP_FREE_MAX 4096u          /* sessions kept for reuse */
#define UDP_PP_MAX 56               /* a PROXY v2 header without TLVs */
#define LOG_EVERY_MS 10000u

enum end_why { END_DONE, END_IDLE, END_SENT, END_REFUSED, END_EVICTED, END_MOVED, END_GONE };

struct udp_worker;
struct udp_lst;

/* A pooled upstream socket: slot <idx> of family <fam> (0 IPv4, 1 IPv6). */
struct udp_up {
	struct loop_io io;
	struct udp_worker *uw;
	struct timer more;           /* budget spent: go on after other events */
	uint32_t idx;
	uint8_t fam;
	uint32_t users;              /* sessions on it */
	uint64_t last_used;          /* ms */
	int staged;                  /* first staged datagram (stage_in), -1 */
	int staged_tail;
	struct udp_up *dirty_next;   /* sockets with staged datagrams */
};

/* A server address's slots: which sockets its live sessions use. */
struct udp_dest {
	struct udp_dest *next;       /* hash chain */
	struct weir_addr addr;
	uint64_t hash;
	uint8_t fam;
	uint32_t inuse;
	uint32_t nfresh;             /* slots 0..nfresh-1 were handed out */
	uint32_t *clean;             /* free slots, reusable at once (stack) */
	uint32_t nclean, capclean;
	struct qent { uint32_t idx; uint64_t until; } *q; /* quarantined (FIFO) */
	uint32_t qhead, qlen, qcap;
	uint64_t last_used;
};

struct udp_sess {
	struct session_link link;
	struct udp_sess *fnext;      /* flow table chain */
	struct udp_sess *unext;      /* upstream table chain */
	struct udp_sess *prev, *next; /* the listener's LRU, oldest first */
	struct udp_lst *lst;
	struct real_server *rs;      /* reference from svc_schedule */
	struct udp_dest *dest;
	struct udp_up *up;
	struct weir_addr client, local;
	int ifindex;
	uint64_t fhash, uhash;
	uint64_t last;               /* ms of the last datagram either way */
	uint64_t sent_ns;            /* first datagram sent (response time) */
	uint32_t nreq, nresp;
	unsigned gen;                /* svc->gen when rs was last seen usable */
	bool in_flows;               /* takes the client's next datagrams */
	bool answered;
	uint8_t pplen;
	uint8_t pp[UDP_PP_MAX];
};

/* A listener's state on its worker (dgram_listener.priv): the service's
 * sessions there, oldest first, and their idle timer. */
struct udp_lst {
	struct dgram_listener *dl;
	struct virtual_service *svc; /* the listener's (dl->ctx, held) */
	struct udp_worker *uw;
	struct udp_sess lru;         /* list head */
	size_t nsess;
	struct timer idle;
	struct vs_runtime rt;        /* refreshed for every batch */
};

/* A client datagram waiting for the end of its batch. */
struct stage_in {
	struct udp_up *up;
	int next;
	struct weir_addr dst;
	struct iovec iov[2];         /* PROXY header, payload */
	struct virtual_service *svc; /* for drop counts; held by the listener */
	uint8_t pp[UDP_PP_MAX];
};

/* A reply waiting for the end of the loop's batch (its data in the arena). */
struct stage_out {
	struct dgram_listener *dl;
	struct dgram_msg m;
};

struct htab {
	struct udp_sess **b;
	uint32_t mask, n;
};

struct udp_worker {
	struct worker *w;
	uint64_t seed;
	struct udp_up **ups[2];
	uint32_t nups[2];            /* slots (some may be NULL) */
	uint32_t nsocks, budget;
	struct htab flows, upt;
	struct udp_dest **dests;
	uint32_t dmask, ndests;
	struct udp_sess *free;
	uint32_t nfree;
	struct timer gc;
	uint64_t last_log;
	/* client -> server, within one listener batch */
	struct stage_in in[UDP_BATCH];
	unsigned nin;
	struct udp_up *dirty;
	/* server -> client, until the end of the loop's batch */
	struct stage_out out[UDP_BATCH];
	unsigned nout, arena_used;
	uint8_t *arena;
	struct loop_flush flush;
	struct mmsghdr hdr[UDP_BATCH];
	struct iovec iov[UDP_BATCH];
	struct weir_addr names[UDP_BATCH];
};

static void sess_end(struct udp_sess *s, enum end_why why);
static void up_drain(struct udp_up *up);

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

static uint64_t flow_hash(const struct udp_worker *uw, const struct udp_lst *lst,
			  const struct weir_addr *client, const struct weir_addr *local)
{
	return mix(addr_hash(uw->seed, client) ^ (addr_hash(uw->seed + 1, local) >> 1) ^
		   (uint64_t)(uintptr_t)lst);
}

static uint64_t up_hash(const struct udp_worker *uw, uint8_t fam, uint32_t idx,
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

static int htab_add(struct htab *t, struct udp_sess *s, uint64_t h, size_t off)
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

static void htab_del(struct htab *t, struct udp_sess *s, uint64_t h, size_t off)
{
	for (struct udp_sess **pp = &t->b[h & t->mask]; *pp; pp = chain(*pp, off))
		if (*pp == s) {
			*pp = *chain(s, off);
			t->n--;
			return;
		}
}

#define FLOWS offsetof(struct udp_sess, fnext)
#define UPS offsetof(struct udp_sess, unext)

static struct udp_sess *flow_find(struct udp_worker *uw, struct udp_lst *lst,
				  const struct dgram_msg *m, uint64_t h)
{
	if (!uw->flows.b)
		return NULL;
	for (struct udp_sess *s = uw->flows.b[h & uw->flows.mask]; s; s = s->fnext)
		if (s->fhash == h && s->lst == lst && addr_equal(&s->client, &m->peer) &&
		    addr_equal(&s->local, &m->local))
			return s;
	return NULL;
}

static struct udp_sess *up_find(struct udp_worker *uw, const struct udp_up *up,
				const struct weir_addr *from)
{
	uint64_t h = up_hash(uw, up->fam, up->idx, from);

	if (!uw->upt.b)
		return NULL;
	for (struct udp_sess *s = uw->upt.b[h & uw->upt.mask]; s; s = s->unext)
		if (s->uhash == h && s->up == up && addr_equal(&s->rs->addr, from))
			return s;
	return NULL;
}

/* --- the worker's state ---------------------------------------------------------- */

static void gc_cb(struct timer *t);

/* The fds this worker may spend on upstream sockets: half the process's
 * open-file limit shared by the workers, the rest for the TCP proxies. */
static uint32_t sock_budget(void)
{
	struct rlimit rl;
	uint64_t cur = 4096;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		cur = rl.rlim_cur;
	else if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		cur = 1u << 20;
	cur = cur / 2 / (uint64_t)(nworkers > 0 ? nworkers : 1);
	return (uint32_t)MIN(MAX(cur, 64u), 1u << 20);
}

static void out_flush(struct udp_worker *uw);

static void flush_cb(struct loop_flush *f)
{
	out_flush(container_of(f, struct udp_worker, flush));
}

static struct udp_worker *uw_get(struct worker *w)
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
	uw->flush.fn = flush_cb;
	uw->gc.cb = gc_cb;
	pw->udp = uw;
	return uw;
}

/* Rate-limited warnings: one per LOG_EVERY_MS per worker. */
static bool may_log(struct udp_worker *uw)
{
	uint64_t now = loop_now(uw->w->loop);

	if (uw->last_log && now - uw->last_log < LOG_EVERY_MS)
		return false;
	uw->last_log = now;
	return true;
}

/* --- upstream sockets ---------------------------------------------------------------- */

static void up_cb(struct loop_io *io, uint32_t events);
static void up_more_cb(struct timer *t);

static void up_close(struct udp_up *up)
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
static struct udp_up *up_get(struct udp_worker *uw, uint8_t fam, uint32_t idx)
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
	up = calloc(1, sizeof(*up));
	if (!up) {
		close(fd);
		return NULL;
	}
	up->io.fd = fd;
	up->io.cb = up_cb;
	up->more.cb = up_more_cb;
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

static struct udp_dest *dest_get(struct udp_worker *uw, const struct weir_addr *a)
{
	uint64_t h = addr_hash(uw->seed + 2, a);
	struct udp_dest *d;

	for (d = uw->dests ? uw->dests[h & uw->dmask] : NULL; d; d = d->next)
		if (d->hash == h && addr_equal(&d->addr, a))
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
 * time is up (or, with no fresh slot left in the budget, the oldest), or a
 * fresh one. */
static bool dest_take(struct udp_worker *uw, struct udp_dest *d, uint64_t now, uint32_t *idx)
{
	if (d->nclean) {
		*idx = d->clean[--d->nclean];
	} else if (d->qlen && (d->q[d->qhead].until <= now || uw->nsocks >= uw->budget)) {
		*idx = d->q[d->qhead].idx;
		d->qhead = (d->qhead + 1) % d->qcap;
		d->qlen--;
	} else {
		*idx = d->nfresh++;
	}
	d->inuse++;
	d->last_used = now;
	return true;
}

static void dest_give(struct udp_dest *d, uint32_t idx, bool clean, uint64_t now)
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

static void dest_free(struct udp_dest *d)
{
	free(d->clean);
	free(d->q);
	free(d);
}

/* Every UDP_GC_MS: servers no session used for a while forget their slots,
 * and sockets no session used for a while close (a slot made again later
 * gets a new port). */
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
				dest_free(d);
				continue;
			}
			busy = true;
			pp = &d->next;
		}
	for (int f = 0; f < 2; f++)
		for (uint32_t i = 0; i < uw->nups[f]; i++) {
			struct udp_up *up = uw->ups[f][i];

			if (up && !up->users && up->staged < 0 && now - up->last_used >= UDP_GC_MS)
				up_close(up);
			else if (up)
				busy = true;
		}
	if (busy)
		timer_arm(uw->w->loop, &uw->gc, now + UDP_GC_MS);
}

/* --- sessions ---------------------------------------------------------------------- */

static void lru_unlink(struct udp_sess *s)
{
	s->prev->next = s->next;
	s->next->prev = s->prev;
	s->prev = s->next = s;
}

static void lru_append(struct udp_lst *lst, struct udp_sess *s)
{
	s->prev = lst->lru.prev;
	s->next = &lst->lru;
	lst->lru.prev->next = s;
	lst->lru.prev = s;
}

static void touch(struct udp_sess *s, uint64_t now)
{
	s->last = now;
	if (s->next != &s->lst->lru) {
		lru_unlink(s);
		lru_append(s->lst, s);
	}
}

static void arm_idle(struct udp_lst *lst)
{
	struct udp_sess *head = lst->lru.next;

	if (head != &lst->lru && !timer_armed(&lst->idle))
		timer_arm(lst->uw->w->loop, &lst->idle, head->last + lst->rt.idle_timeout_ms);
}

static void flow_unlink(struct udp_sess *s)
{
	if (!s->in_flows)
		return;
	htab_del(&s->lst->uw->flows, s, s->fhash, FLOWS);
	s->in_flows = false;
}

static void force_close(struct session_link *l)
{
	sess_end(container_of(l, struct udp_sess, link), END_GONE);
}

static struct udp_sess *sess_alloc(struct udp_worker *uw)
{
	struct udp_sess *s = uw->free;

	if (s) {
		uw->free = s->next;
		uw->nfree--;
		memset(s, 0, sizeof(*s));
		return s;
	}
	return calloc(1, sizeof(*s));
}

static void sess_release(struct udp_worker *uw, struct udp_sess *s)
{
	if (uw->nfree >= UDP_FREE_MAX) {
		free(s);
		return;
	}
	s->next = uw->free;
	uw->free = s;
	uw->nfree++;
}

static void count_drop(struct virtual_service *svc, uint64_t n)
{
	counter_add(&stats_mine(&svc->stats)->drops, n);
}

/* The session's server still takes its datagrams: not removed, down or in
 * maintenance (draining is fine). Looked at again only when the service's
 * generation moved. */
static bool sess_usable(struct udp_sess *s)
{
	struct virtual_service *svc = s->lst->svc;
	unsigned g = atomic_load_explicit(&svc->gen, memory_order_acquire);
	bool ok;

	if (g == s->gen)
		return true;
	pthread_mutex_lock(&svc->lock);
	ok = s->rs->ss.idx >= 0 &&
	     !(s->rs->ss.flags & (SCHED_SRV_DOWN | SCHED_SRV_MAINT));
	pthread_mutex_unlock(&svc->lock);
	if (ok)
		s->gen = g;
	return ok;
}

/* Makes room under max_conn: the service's oldest idle session here goes. */
static bool make_room(struct udp_lst *lst)
{
	struct virtual_service *svc = lst->svc;
	unsigned max = atomic_load_explicit(&svc->maxconn, memory_order_relaxed);
	struct udp_sess *old = lst->lru.next;

	if (!max || atomic_load_explicit(&svc->active, memory_order_relaxed) < max)
		return true;
	if (old == &lst->lru)
		return false; /* the others' sessions hold the bound */
	counter_add(&stats_mine(&svc->stats)->evictions, 1);
	counter_add(&stats_mine(&old->rs->stats)->evictions, 1);
	sess_end(old, END_EVICTED);
	return true;
}

static struct udp_sess *sess_new(struct udp_lst *lst, const struct dgram_msg *m, uint64_t h,
				 uint64_t now)
{
	struct udp_worker *uw = lst->uw;
	struct virtual_service *svc = lst->svc;
	struct real_server *rs;
	struct udp_dest *d;
	struct udp_sess *s;
	uint32_t idx;
	char a[ADDR_STRLEN];

	if (!make_room(lst))
		return NULL;
	rs = svc_schedule(svc, &m->peer, now, NULL, 0, NULL);
	if (!rs) {
		if (may_log(uw))
			log_info("udp %s: no real server available", addr_str(&svc->addr, a));
		return NULL;
	}
	/* IPVS counts UDP connections inactive: there is no established state */
	svc_conn_deactivate(rs);
	d = dest_get(uw, &rs->addr);
	s = d ? sess_alloc(uw) : NULL;
	if (!s)
		goto fail;
	dest_take(uw, d, now, &idx);
	s->up = up_get(uw, d->fam, idx);
	if (!s->up) {
		dest_give(d, idx, true, now);
		sess_release(uw, s);
		if (may_log(uw))
			log_warn("udp: no upstream socket (%u of %u per worker in use): %s",
				 uw->nsocks, uw->budget, uw->nsocks >= uw->budget ?
				 "raise the open-file limit" : strerror(errno));
		goto fail;
	}
	s->lst = lst;
	s->rs = rs;
	s->dest = d;
	s->client = m->peer;
	s->local = m->local;
	s->ifindex = m->ifindex;
	s->fhash = h;
	s->uhash = up_hash(uw, d->fam, idx, &rs->addr);
	s->last = now;
	s->gen = atomic_load_explicit(&svc->gen, memory_order_acquire);
	if (htab_add(&uw->flows, s, h, FLOWS) != 0 || htab_add(&uw->upt, s, s->uhash, UPS) != 0) {
		if (uw->flows.b)
			htab_del(&uw->flows, s, h, FLOWS);
		dest_give(d, idx, true, now);
		sess_release(uw, s);
		goto fail;
	}
	s->in_flows = true;
	s->up->users++;
	s->up->last_used = now;
	if (lst->rt.send_proxy) {
		/* the address the client sent to: the listener's when the kernel
		 * gave none (a datagram always has one) */
		const struct weir_addr *dst = m->local.u.sa.sa_family ? &m->local : &svc->addr;
		int n = pp_build_v2(s->pp, sizeof(s->pp), &m->peer, dst, SOCK_DGRAM);

		s->pplen = n > 0 ? (uint8_t)n : 0;
	}
	session_begin(uw->w, &s->link, svc);
	s->link.force_close = force_close;
	counter_add(&stats_mine(&rs->stats)->conns, 1);
	lru_append(lst, s);
	lst->nsess++;
	arm_idle(lst);
	if (!timer_armed(&uw->gc))
		timer_arm(uw->w->loop, &uw->gc, now + UDP_GC_MS);
	return s;

fail:
	svc_conn_close(rs, false, &m->peer, now);
	return NULL;
}

static bool end_is_clean(enum end_why why)
{
	return why != END_EVICTED && why != END_MOVED;
}

static void sess_end(struct udp_sess *s, enum end_why why)
{
	struct udp_lst *lst = s->lst;
	struct udp_worker *uw = lst->uw;
	uint64_t now = loop_now(uw->w->loop);
	const struct udp_opts *o = udp_opts_rt(&lst->rt);

	if (why == END_IDLE && o->responses != UDP_UNLIMITED &&
	    (uint64_t)s->nresp < (uint64_t)s->nreq * o->responses) {
		/* an answer was due and never came */
		counter_add(&stats_mine(&lst->svc->stats)->timeouts, 1);
		counter_add(&stats_mine(&s->rs->stats)->timeouts, 1);
		health_passive(s->rs, false);
	}
	flow_unlink(s);
	htab_del(&uw->upt, s, s->uhash, UPS);
	lru_unlink(s);
	lst->nsess--;
	s->up->users--;
	s->up->last_used = now;
	dest_give(s->dest, s->up->idx, end_is_clean(why), now);
	svc_conn_close(s->rs, false, &s->client, now);
	session_end(uw->w, &s->link, lst->svc);
	sess_release(uw, s);
}

static void idle_cb(struct timer *t)
{
	struct udp_lst *lst = container_of(t, struct udp_lst, idle);
	uint64_t now = loop_now(lst->uw->w->loop);

	while (lst->lru.next != &lst->lru && lst->lru.next->last + lst->rt.idle_timeout_ms <= now)
		sess_end(lst->lru.next, END_IDLE);
	arm_idle(lst);
}

/* --- client -> server ------------------------------------------------------------- */

/* Queues <m> for <s>'s server, to leave with the batch. */
static void stage_in(struct udp_worker *uw, struct udp_sess *s, const struct dgram_msg *m)
{
	struct stage_in *e = &uw->in[uw->nin];
	struct udp_up *up = s->up;
	int i = (int)uw->nin++;

	e->up = up;
	e->next = -1;
	e->dst = s->rs->addr;
	e->svc = s->lst->svc;
	memcpy(e->pp, s->pp, s->pplen);
	e->iov[0] = (struct iovec){ e->pp, s->pplen };
	e->iov[1] = (struct iovec){ m->data, m->len };
	if (up->staged < 0) {
		up->staged = i;
		up->dirty_next = uw->dirty;
		uw->dirty = up;
	} else {
		uw->in[up->staged_tail].next = i;
	}
	up->staged_tail = i;
}

/* A send refused for a reason of an earlier datagram: an ICMP error left
 * on the (unconnected) socket fails the next send once. */
static bool async_error(int err)
{
	return err == ECONNREFUSED || err == EHOSTUNREACH || err == ENETUNREACH ||
	       err == EHOSTDOWN || err == ENONET;
}

static void in_flush_up(struct udp_worker *uw, struct udp_up *up)
{
	struct mmsghdr *hdr = uw->hdr;
	unsigned k = 0, i = 0;
	bool retried = false;

	for (int e = up->staged; e >= 0; e = uw->in[e].next) {
		struct stage_in *x = &uw->in[e];

		hdr[k].msg_hdr = (struct msghdr){
			.msg_name = &x->dst.u, .msg_namelen = addr_len(&x->dst),
			.msg_iov = x->iov[0].iov_len ? &x->iov[0] : &x->iov[1],
			.msg_iovlen = x->iov[0].iov_len ? 2 : 1,
		};
		k++;
	}
	while (i < k) {
		int r = sendmmsg(up->io.fd, hdr + i, k - i, 0);
		struct stage_in *x;
		int e;

		if (r > 0) {
			i += (unsigned)r;
			retried = false;
			continue;
		}
		if (errno == EINTR)
			continue;
		e = errno;
		if (async_error(e) && !retried) {
			retried = true;
			continue;
		}
		/* find the entry of hdr[i] for its service */
		x = NULL;
		for (int j = up->staged, n = 0; j >= 0; j = uw->in[j].next, n++)
			if ((unsigned)n == i)
				x = &uw->in[j];
		if (e == EAGAIN || e == ENOBUFS) {
			for (unsigned n = i; n < k; n++)
				count_drop(x->svc, 1); /* the socket buffer is full */
			break;
		}
		count_drop(x->svc, 1); /* too large, no route: this one */
		if (may_log(uw))
			log_info("udp: send to a server: %s", strerror(e));
		i++;
		retried = false;
	}
	up->staged = up->staged_tail = -1;
}

static void in_flush(struct udp_worker *uw)
{
	while (uw->dirty) {
		struct udp_up *up = uw->dirty;

		uw->dirty = up->dirty_next;
		up->dirty_next = NULL;
		in_flush_up(uw, up);
	}
	uw->nin = 0;
}

static struct udp_lst *lst_new(struct dgram_listener *dl, struct udp_worker *uw)
{
	struct udp_lst *lst = calloc(1, sizeof(*lst));

	if (!lst)
		return NULL;
	lst->dl = dl;
	lst->svc = dl->ctx;
	lst->uw = uw;
	lst->lru.prev = lst->lru.next = &lst->lru;
	lst->idle.cb = idle_cb;
	dl->priv = lst;
	return lst;
}

/* The session of client datagram <m>: its flow's, or a new one. NULL: it
 * is dropped (no server, no room). */
static struct udp_sess *session_of(struct udp_lst *lst, const struct dgram_msg *m,
				   uint64_t now)
{
	struct udp_worker *uw = lst->uw;
	uint64_t h = flow_hash(uw, lst, &m->peer, &m->local);
	struct udp_sess *s = flow_find(uw, lst, m, h);

	if (s && !sess_usable(s)) {
		sess_end(s, END_MOVED);
		s = NULL;
	}
	return s ? s : sess_new(lst, m, h, now);
}

/* The client datagrams a session takes: ops is `requests 1`. */
static uint32_t requests_of(const struct udp_lst *lst)
{
	return lst->rt.ops ? 1 : udp_opts_rt(&lst->rt)->requests;
}

/* Everything expected has been said: the client sent its last datagram
 * (or has no limit) and the server its responses to each. */
static bool sess_done(const struct udp_sess *s)
{
	uint32_t responses = udp_opts_rt(&s->lst->rt)->responses;
	uint32_t requests = requests_of(s->lst);

	return responses != UDP_UNLIMITED &&
	       (uint64_t)s->nresp >= (uint64_t)s->nreq * responses &&
	       (requests == UDP_UNLIMITED || s->nreq >= requests);
}

static void udp_recv(struct dgram_listener *dl, struct dgram_msg *msgs, size_t n)
{
	struct udp_worker *uw = uw_get(dl->w);
	struct udp_lst *lst = dl->priv;
	struct virtual_service *svc = dl->ctx;
	uint64_t now = loop_now(dl->w->loop);
	uint32_t requests;

	if (!lst && (!uw || !(lst = lst_new(dl, uw)))) {
		count_drop(svc, n);
		return;
	}
	svc_runtime(svc, &lst->rt);
	requests = requests_of(lst);
	for (size_t i = 0; i < n; i++) {
		struct dgram_msg *m = &msgs[i];
		struct udp_sess *s = session_of(lst, m, now);
		struct vs_counters *cs = stats_mine(&svc->stats), *cr;

		if (!s) {
			count_drop(svc, 1);
			continue;
		}
		cr = stats_mine(&s->rs->stats);
		counter_add(&cs->inpkts, 1);
		counter_add(&cs->inbytes, m->len);
		counter_add(&cr->inpkts, 1);
		counter_add(&cr->inbytes, m->len);
		if (!s->nreq++)
			s->sent_ns = now_ns();
		touch(s, now);
		stage_in(uw, s, m);
		if (requests != UDP_UNLIMITED && s->nreq >= requests)
			flow_unlink(s); /* its next datagram starts a new session */
		if (sess_done(s))
			sess_end(s, END_SENT); /* no answer expected (responses 0) */
		if (uw->nin == UDP_BATCH)
			in_flush(uw);
	}
	in_flush(uw);
}

/* --- server -> client -------------------------------------------------------------- */

static void out_flush(struct udp_worker *uw)
{
	struct dgram_msg msgs[UDP_BATCH];

	loop_flush_cancel(uw->w->loop, &uw->flush);
	for (unsigned i = 0; i < uw->nout; i++) {
		struct dgram_listener *dl = uw->out[i].dl;
		size_t k = 0, sent;

		if (!dl)
			continue;
		for (unsigned j = i; j < uw->nout; j++)
			if (uw->out[j].dl == dl) {
				msgs[k++] = uw->out[j].m;
				uw->out[j].dl = NULL;
			}
		sent = dgram_send(dl, msgs, k);
		if (sent < k)
			count_drop(dl->ctx, k - sent);
	}
	uw->nout = 0;
	uw->arena_used = 0;
}

static void reply(struct udp_up *up, const struct weir_addr *from, void *data, size_t len,
		  bool trunc)
{
	struct udp_worker *uw = up->uw;
	struct udp_sess *s = up_find(uw, up, from);
	struct virtual_service *svc;
	struct vs_counters *cs, *cr;
	uint64_t now = loop_now(uw->w->loop);

	if (!s) {
		/* a late reply of a session that ended, or a stranger */
		log_debug("udp: a datagram from a server with no session: dropped");
		return;
	}
	svc = s->lst->svc;
	if (trunc) {
		count_drop(svc, 1);
		return;
	}
	cs = stats_mine(&svc->stats);
	cr = stats_mine(&s->rs->stats);
	counter_add(&cs->outpkts, 1);
	counter_add(&cs->outbytes, len);
	counter_add(&cr->outpkts, 1);
	counter_add(&cr->outbytes, len);
	if (!s->answered) {
		s->answered = true;
		svc_observe_rtt(s->rs, now_ns() - s->sent_ns, now);
		health_passive(s->rs, true);
	}
	s->nresp++;
	touch(s, now);
	uw->out[uw->nout++] = (struct stage_out){
		.dl = s->lst->dl,
		.m = { .data = data, .len = len, .peer = s->client, .local = s->local,
		       .ifindex = s->ifindex },
	};
	loop_flush_queue(uw->w->loop, &uw->flush);
	if (sess_done(s))
		sess_end(s, END_DONE);
}

/* ICMP errors about datagrams this socket sent: "port unreachable" from a
 * server is a refused connection. */
static void up_errors(struct udp_up *up)
{
	struct udp_worker *uw = up->uw;

	for (int i = 0; i < UDP_BATCH; i++) {
		union { char buf[512]; struct cmsghdr align; } ctl;
		struct weir_addr to;
		char byte;
		struct iovec iov = { &byte, 1 };
		struct msghdr mh = {
			.msg_name = &to.u, .msg_namelen = sizeof(to.u),
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
		};
		struct udp_sess *s;
		int err = 0;

		memset(&to, 0, sizeof(to));
		if (recvmsg(up->io.fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			return;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
			if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) ||
			    (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR)) {
				struct sock_extended_err ee;

				memcpy(&ee, CMSG_DATA(c), sizeof(ee));
				if (ee.ee_origin == SO_EE_ORIGIN_ICMP ||
				    ee.ee_origin == SO_EE_ORIGIN_ICMP6)
					err = (int)ee.ee_errno;
			}
		if (!err || !(s = up_find(uw, up, &to)))
			continue;
		if (err == ECONNREFUSED || err == EHOSTUNREACH || err == ENETUNREACH) {
			char a[ADDR_STRLEN];

			if (may_log(uw))
				log_info("udp: %s: %s", addr_str(&s->rs->addr, a), strerror(err));
			health_passive(s->rs, false);
			sess_end(s, END_REFUSED);
		}
	}
}

static void up_drain(struct udp_up *up)
{
	struct udp_worker *uw = up->uw;

	for (int round = 0; round < UDP_ROUNDS; round++) {
		unsigned room, base;
		int got;

		if (uw->arena_used == UDP_BATCH)
			out_flush(uw);
		base = uw->arena_used;
		room = UDP_BATCH - base;
		for (unsigned i = 0; i < room; i++) {
			uw->iov[i] = (struct iovec){ uw->arena + (size_t)(base + i) * UDP_SLOT,
						    UDP_SLOT };
			uw->hdr[i].msg_hdr = (struct msghdr){
				.msg_name = &uw->names[i].u, .msg_namelen = sizeof(uw->names[i].u),
				.msg_iov = &uw->iov[i], .msg_iovlen = 1,
			};
		}
		got = recvmmsg(up->io.fd, uw->hdr, room, MSG_DONTWAIT, NULL);
		if (got < 0) {
			if (errno == EINTR || async_error(errno))
				continue; /* the error queue says more */
			if (errno != EAGAIN)
				log_warn("udp: recvmmsg: %s", strerror(errno));
			return;
		}
		uw->arena_used += (unsigned)got;
		for (int i = 0; i < got; i++) {
			struct weir_addr from;

			addr_from_sockaddr(&from, uw->hdr[i].msg_hdr.msg_name,
					   uw->hdr[i].msg_hdr.msg_namelen);
			reply(up, &from, uw->iov[i].iov_base, uw->hdr[i].msg_len,
			      uw->hdr[i].msg_hdr.msg_flags & MSG_TRUNC);
		}
		if ((unsigned)got < room)
			return;
	}
	timer_arm(uw->w->loop, &up->more, loop_now(uw->w->loop));
}

static void up_cb(struct loop_io *io, uint32_t events)
{
	struct udp_up *up = container_of(io, struct udp_up, io);

	if (events & EPOLLERR)
		up_errors(up);
	up_drain(up);
}

static void up_more_cb(struct timer *t)
{
	up_drain(container_of(t, struct udp_up, more));
}

/* --- listeners ---------------------------------------------------------------------- */

/* The listener closes (service removed or changed, worker stopping): its
 * replies still queued go, its sessions end. */
static void udp_closing(struct dgram_listener *dl)
{
	struct udp_lst *lst = dl->priv;

	if (!lst)
		return;
	out_flush(lst->uw);
	while (lst->lru.next != &lst->lru)
		sess_end(lst->lru.next, END_GONE);
	timer_cancel(lst->uw->w->loop, &lst->idle);
	dl->priv = NULL;
	free(lst);
}

static void hold_svc(void *ctx)
{
	svc_get(ctx);
}

static void release_svc(void *ctx)
{
	svc_put(ctx);
}

static const struct dgram_ops udp_dgram_ops = {
	.recv = udp_recv,
	.hold = hold_svc,
	.release = release_svc,
	.closing = udp_closing,
};

void udp_worker_fini(struct worker *w)
{
	struct proxy_worker *pw = pworker(w);
	struct udp_worker *uw = pw ? pw->udp : NULL;

	if (!uw)
		return;
	out_flush(uw);
	for (int f = 0; f < 2; f++) {
		for (uint32_t i = 0; i < uw->nups[f]; i++)
			if (uw->ups[f][i])
				up_close(uw->ups[f][i]);
		free(uw->ups[f]);
	}
	for (uint32_t i = 0; uw->dests && i <= uw->dmask; i++)
		for (struct udp_dest *d = uw->dests[i], *next; d; d = next) {
			next = d->next;
			dest_free(d);
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

/* --- the mode's ops (control thread) ------------------------------------------------ */

static int udp_prepare(struct virtual_service *svc, char *err)
{
	struct dgram_conf conf = { .max_len = 65535, .batch = UDP_BATCH };
	struct dgram_set *set;
	int rc = dgram_prepare(&svc->addr, &conf, &set, err);

	if (rc == 0)
		svc->proxy_priv = set;
	return rc;
}

static void udp_start(struct virtual_service *svc)
{
	dgram_start(svc->proxy_priv, &udp_dgram_ops, svc);
}

static void udp_stop(struct virtual_service *svc)
{
	dgram_stop(svc->proxy_priv);
	svc->proxy_priv = NULL;
}

static int udp_check(const struct service_spec *sp, char *err)
{
	if (sp->send_proxy == 1) {
		snprintf(err, SPEC_ERR_MAX, "send_proxy v1 is a text header for streams: "
			 "a UDP service sends v2 (a header in front of each datagram)");
		return -EINVAL;
	}
	return 0;
}

const struct svc_mode udp_mode = {
	.name = "udp",
	.proto = IPPROTO_UDP,
	.check = udp_check,
	.prepare = udp_prepare,
	.start = udp_start,
	.stop = udp_stop,
};
