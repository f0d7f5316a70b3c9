/*
 * pworker.h - what the proxy layer keeps per worker: its listeners, its open
 * sessions (so a forced stop can close them), a pool of pipes for
 * splice(), idle server connections and access log buffers. All of it
 * belongs to the worker's thread.
 */
#ifndef WEIR_PWORKER_H
#define WEIR_PWORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/loop.h"
#include "core/worker.h"

struct virtual_service;
struct listener;
struct dgram_listener;

struct conn_entry;

/* A session of any proxy mode, linked into its worker's list. */
struct session_link {
	struct session_link *prev, *next;
	void (*force_close)(struct session_link *l);
	/* optional: the worker stops; finish what is in flight, take no more */
	void (*graceful)(struct session_link *l);
	/* optional: the session as a line of weirctl -L -c, at <now_ms> (its
	 * worker's loop time); false = nothing to show. Worker thread. */
	bool (*describe)(struct session_link *l, uint64_t now_ms, struct conn_entry *e);
};

/* Called for each accepted connection; the callee owns <fd>. */
typedef void (*accept_fn)(struct listener *li, int fd, const struct weir_addr *peer);

struct listener {
	struct loop_io io;
	struct virtual_service *svc;  /* holds a reference */
	struct worker *w;
	accept_fn on_accept;
	bool paused;                  /* maxconn reached or out of fds */
	struct timer resume;
	struct listener *next;        /* the worker's list */
};

struct pipe_pair {
	int rd, wr;
};

struct proxy_worker {
	struct listener *listeners;
	struct dgram_listener *dgrams; /* datagram listeners (dgram.c) */
	struct session_link sessions; /* list head */
	struct pipe_pair *pipes;      /* idle, empty pipes */
	size_t npipes, cappipes;
	struct srvpool *srvpool;      /* idle HTTP server connections (srvpool.c) */
	struct accesslog *alog;       /* access log buffers (accesslog.c) */
	struct udp_worker *udp;       /* UDP sessions and upstream sockets (udp.c) */
};

static inline struct proxy_worker *pworker(struct worker *w)
{
	return w->proxy_priv;
}

/* Installs the per-worker hooks; call before workers_start(). */
void pworker_setup(void);

void session_link_add(struct worker *w, struct session_link *l);
void session_link_del(struct session_link *l);

/* What every proxy session does when it starts and ends on worker <w> for
 * service <svc>: the session list, the service's reference, its open count
 * (max_conn) and connection counter, the worker's session count. */
void session_begin(struct worker *w, struct session_link *l, struct virtual_service *svc);
void session_end(struct worker *w, struct session_link *l, struct virtual_service *svc);
/* The address client socket <fd> reached (for PROXY headers); <fallback>
 * when the kernel cannot say. */
void session_local_addr(int fd, const struct weir_addr *fallback, struct weir_addr *out);

/* Takes an empty pipe from the pool, or makes one. Returns 0 or -errno. */
int pipe_get(struct worker *w, struct pipe_pair *p);
/* Returns an EMPTY pipe to the pool (or closes it when the pool is full). */
void pipe_put(struct worker *w, struct pipe_pair *p);
/* Closes a pipe that may still hold data. */
void pipe_close(struct pipe_pair *p);

/* Listener life (see proxy.h for prepare/start/stop). */
int listener_prepare(struct virtual_service *svc, char *err);
/* The same for request/response protocols (HTTP): the ACK of a request
 * waits to ride on its answer, from the first request on. */
int listener_prepare_reqresp(struct virtual_service *svc, char *err);
void listener_start(struct virtual_service *svc, accept_fn on_accept);
void listener_stop(struct virtual_service *svc);
/* A session of <svc> ended on this worker: a listener paused on maxconn
 * may accept again. */
void listener_session_ended(struct worker *w, struct virtual_service *svc);

#endif
