/*
 * worker.h - the worker threads. Each runs its own event loop with its own
 * SO_REUSEPORT listeners and the sessions accepted on them; a session never
 * moves between workers. The control thread talks to a worker only by
 * posting functions to its loop.
 */
#ifndef WEIR_WORKER_H
#define WEIR_WORKER_H

#include <pthread.h>
#include <stdbool.h>

#include "core/loop.h"

struct worker {
	int id;                 /* 0..nworkers-1, also its counter slot */
	pthread_t thread;
	struct loop *loop;
	unsigned nsessions;     /* open sessions, all modes (worker thread only) */
	bool stopping;          /* graceful stop: exit once nsessions is 0 */
	bool exited;            /* its loop is over: posted tasks find nothing to do */
	void (*on_stop)(struct worker *w);  /* close listeners (set by proxy layer) */
	void (*on_force)(struct worker *w); /* close every session */
	void *proxy_priv;       /* the proxy layer's per-worker state */
};

extern struct worker *workers;
extern int nworkers;
/* The worker running on this thread, NULL on the control thread. */
extern _Thread_local struct worker *this_worker;

/* Starts <n> workers. Returns 0 or -errno (then none runs). */
int workers_start(int n);
/* Asks every worker to stop accepting and exit when its sessions end. */
void workers_stop(void);
/* Asks every worker to close its remaining sessions now. */
void workers_force(void);
/* Waits for every worker to exit and frees them. */
void workers_join(void);
/* True once every worker has exited its loop (control thread polls it). */
bool workers_done(void);

/* Session accounting; a worker that is stopping exits at zero. */
void worker_session_open(struct worker *w);
void worker_session_close(struct worker *w);

/* Hooks the proxy layer installs on each worker before workers_start(). */
extern void (*worker_init_hook)(struct worker *w);
extern void (*worker_fini_hook)(struct worker *w);

#endif
