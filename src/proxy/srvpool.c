/* srvpool.c - see srvpool.h. The pool is a small hash of real-server
 * pointers to lists of idle connections, per worker. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/log.h"
#include "core/table.h"
#include "core/util.h"
#include "proxy/pworker.h"
#include "proxy/srvpool.h"

#define POOL_BUCKETS 256
/* How long an idle connection beyond a server's <max_idle> is kept. Under
 * load the number of idle connections swings with every burst of
 * responses (200 clients on 2 servers: often more than 64 idle per server
 * between two bursts, and all in use in the next). Closing the surplus at
 * release, as the pool did, made the next burst connect again: one new
 * server connection per 7 requests at 200 keep-alive clients, a TIME_WAIT
 * each, and the requests behind those connects in the p99. The surplus is
 * kept instead, as long as load comes back for it within this time; only
 * <max_idle> connections wait the whole <idle_ms>. */
#define SURPLUS_IDLE_MS 2000

struct srvpool {
	struct srvconn *bucket[POOL_BUCKETS];
	unsigned count[POOL_BUCKETS]; /* idle in bucket (an upper bound per server) */
};

static struct srvpool *pool_of(struct worker *w)
{
	struct proxy_worker *pw = pworker(w);

	if (!pw->srvpool)
		pw->srvpool = calloc(1, sizeof(struct srvpool));
	return pw->srvpool;
}

static unsigned bucket_of(const struct real_server *rs)
{
	uintptr_t p = (uintptr_t)rs;

	return (unsigned)((p >> 6) ^ (p >> 14)) % POOL_BUCKETS;
}

static void srvconn_free(void *arg)
{
	struct srvconn *sc = arg;

	buf_free(&sc->in);
	rs_put(sc->rs);
	free(sc);
}

static void pool_unlink(struct srvconn *sc)
{
	struct srvpool *p = pool_of(sc->w);
	unsigned b = bucket_of(sc->rs);

	if (sc->prev)
		sc->prev->next = sc->next;
	else
		p->bucket[b] = sc->next;
	if (sc->next)
		sc->next->prev = sc->prev;
	sc->next = sc->prev = NULL;
	sc->pooled = false;
	p->count[b]--;
	/* the idle timer stays armed: see idle_cb() */
}

void srvconn_close(struct srvconn *sc)
{
	if (sc->conn.io.fd < 0)
		return;
	if (sc->pooled)
		pool_unlink(sc);
	timer_cancel(sc->w->loop, &sc->idle);
	tp_close(&sc->conn);
	sc->owner = NULL;
	if (loop_defer(sc->w->loop, srvconn_free, sc) != 0)
		fatalx("out of memory deferring a free");
}

static void io_cb(struct loop_io *io, uint32_t events)
{
	struct srvconn *sc = container_of(io, struct srvconn, conn.io);

	if (sc->conn.io.fd < 0)
		return;
	if (sc->owner) {
		sc->on_event(sc, events);
		return;
	}
	/* idle: room to write means nothing; the server closing it, or
	 * sending what it should not, ends it */
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		srvconn_close(sc);
}

/* A connection goes in and out of the pool once per request: rather than
 * move its timer in the loop's heap each time, the timer is left where it
 * is; when it fires, a connection in use ignores it (srvconn_release()
 * arms it again), one pooled since then sleeps until its <idle_until>. */
static void idle_cb(struct timer *t)
{
	struct srvconn *sc = container_of(t, struct srvconn, idle);

	if (!sc->pooled)
		return;
	if (sc->idle_until > loop_now(sc->w->loop)) {
		timer_arm(sc->w->loop, &sc->idle, sc->idle_until);
		return;
	}
	srvconn_close(sc);
}

struct srvconn *srvconn_open(struct worker *w, struct real_server *rs)
{
	struct srvconn *sc = calloc(1, sizeof(*sc));
	int one = 1, fd, err;

	if (!sc)
		return NULL;
	fd = socket(addr_family(&rs->addr), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto out_free;
	tp_init(&sc->conn, fd, &tp_tcp, io_cb);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, &rs->addr.u.sa, addr_len(&rs->addr)) != 0 && errno != EINPROGRESS)
		goto out_close;
	sc->w = w;
	sc->rs = rs;
	sc->idle.cb = idle_cb;
	sc->in.max = 1u << 20;
	if (loop_add(w->loop, &sc->conn.io, EPOLLIN | EPOLLOUT | EPOLLRDHUP) != 0)
		goto out_close;
	rs_get(rs);
	return sc;

out_close:
	err = errno;
	tp_close(&sc->conn);
	errno = err;
out_free:
	free(sc);
	return NULL;
}

struct srvconn *srvpool_take(struct worker *w, struct real_server *rs)
{
	struct srvpool *p = pool_of(w);
	unsigned b = bucket_of(rs);

	if (!p)
		return NULL;
	for (struct srvconn *sc = p->bucket[b]; sc; sc = sc->next)
		if (sc->rs == rs) {
			pool_unlink(sc);
			sc->reused = true;
			return sc;
		}
	return NULL;
}

void srvconn_release(struct srvconn *sc, bool reusable, uint32_t max_idle, uint32_t idle_ms)
{
	struct srvpool *p = pool_of(sc->w);
	unsigned b = bucket_of(sc->rs), n = 0;

	sc->owner = NULL;
	if (!p || !reusable || sc->in.len || !sc->connected || sc->rs->removed ||
	    sc->w->stopping || max_idle == 0) {
		srvconn_close(sc);
		return;
	}
	/* count[b] bounds the server's idle connections: count only past it,
	 * and only up to <max_idle> (the surplus makes the list longer) */
	if (p->count[b] >= max_idle)
		for (struct srvconn *o = p->bucket[b]; o && n < max_idle; o = o->next)
			n += o->rs == sc->rs;
	if (n >= max_idle)
		idle_ms = MIN(idle_ms, SURPLUS_IDLE_MS); /* surplus: see above */
	sc->next = p->bucket[b];
	sc->prev = NULL;
	if (sc->next)
		sc->next->prev = sc;
	p->bucket[b] = sc;
	p->count[b]++;
	sc->pooled = true;
	sc->idle_until = loop_now(sc->w->loop) + idle_ms;
	if (!timer_armed(&sc->idle) || sc->idle.when > sc->idle_until)
		timer_arm(sc->w->loop, &sc->idle, sc->idle_until);
}

void srvpool_flush(struct worker *w)
{
	struct srvpool *p = pworker(w)->srvpool;

	if (!p)
		return;
	for (unsigned b = 0; b < POOL_BUCKETS; b++)
		while (p->bucket[b])
			srvconn_close(p->bucket[b]);
	free(p);
	pworker(w)->srvpool = NULL;
}
