/*
 * srvpool.h - connections to real servers for the HTTP proxy, with a
 * per-worker pool of idle keep-alive ones.
 *
 * A srvconn is either in use by one session (sc->owner set, events go to
 * sc->on_event) or idle in its worker's pool (any event closes it: an idle
 * server connection has nothing to say). A connection goes back to the pool
 * only when its last response was read completely and the server allows
 * keep-alive; the caller decides, srvconn_release() obeys.
 *
 * All on the worker's thread. The pool holds a reference to each server.
 */
#ifndef WEIR_SRVPOOL_H
#define WEIR_SRVPOOL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/loop.h"
#include "core/worker.h"
#include "proxy/transport.h"

struct real_server;

struct srvconn {
	struct tp_conn conn;         /* plain TCP */
	struct worker *w;
	struct real_server *rs;      /* reference */
	struct buf in;               /* bytes read from the server */
	void *owner;                 /* the session using it; NULL when idle */
	void (*on_event)(struct srvconn *sc, uint32_t events);
	bool connected;
	bool reused;                 /* served an earlier request */
	bool pooled;                 /* idle in the pool */
	uint32_t requests;
	struct timer idle;           /* fires at or before idle_until (srvpool.c) */
	struct srvconn *next, *prev; /* pool list */
	uint64_t idle_until;         /* ms: a pooled connection closes then */
};

/* An idle connection to <rs> from the pool, or NULL. */
struct srvconn *srvpool_take(struct worker *w, struct real_server *rs);
/* A new connection to <rs>, connecting (non-blocking). NULL with errno. */
struct srvconn *srvconn_open(struct worker *w, struct real_server *rs);
/* Gives <sc> back: pooled when <reusable> and there is room (at most
 * <max_idle> per server, for <idle_ms>), closed otherwise. */
void srvconn_release(struct srvconn *sc, bool reusable, uint32_t max_idle, uint32_t idle_ms);
/* Closes <sc> at once. */
void srvconn_close(struct srvconn *sc);
/* Closes every idle connection of this worker (stop). */
void srvpool_flush(struct worker *w);

#endif
