/* worker.c - see worker.h. */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/table.h"
#include "core/worker.h"

struct worker *workers;
int nworkers;
_Thread_local struct worker *this_worker;
void (*worker_init_hook)(struct worker *w);
void (*worker_fini_hook)(struct worker *w);
static atomic_int running;

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	char name[16];
	int rc;

	snprintf(name, sizeof(name), "w%d", w->id);
	log_set_thread(name);
	weir_thread_id = w->id;
	this_worker = w;
	if (worker_init_hook)
		worker_init_hook(w);
	rc = loop_run(w->loop);
	if (rc)
		log_err("event loop failed: %s", strerror(-rc));
	if (worker_fini_hook)
		worker_fini_hook(w);
	w->exited = true;
	atomic_fetch_sub(&running, 1);
	return NULL;
}

int workers_start(int n)
{
	sigset_t all, old;
	int rc = 0;

	workers = calloc((size_t)n, sizeof(*workers));
	if (!workers)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		workers[i].id = i;
		if (!(workers[i].loop = loop_new())) {
			rc = -ENOMEM;
			goto out_free;
		}
	}
	/* Signals go to the control thread's signalfd, never to a worker. */
	sigfillset(&all);
	/* faults stay deliverable, so a crash is reported, not a silent kill */
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGILL);
	sigdelset(&all, SIGABRT);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	atomic_store(&running, n);
	for (int i = 0; i < n; i++) {
		rc = -pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]);
		if (rc) {
			fatalx("cannot start worker %d: %s", i, strerror(-rc));
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	nworkers = n;
	return 0;

out_free:
	for (int i = 0; i < n; i++)
		loop_free(workers[i].loop);
	free(workers);
	workers = NULL;
	return rc;
}

static void maybe_exit(struct worker *w)
{
	if (w->stopping && w->nsessions == 0)
		loop_stop(w->loop);
}

static void do_stop(void *arg)
{
	struct worker *w = arg;

	if (w->exited)
		return;
	w->stopping = true;
	if (w->on_stop)
		w->on_stop(w);
	maybe_exit(w);
}

static void do_force(void *arg)
{
	struct worker *w = arg;

	if (w->exited)
		return;
	if (w->on_force)
		w->on_force(w);
	loop_stop(w->loop);
}

void workers_stop(void)
{
	for (int i = 0; i < nworkers; i++)
		loop_post(workers[i].loop, do_stop, &workers[i]);
}

void workers_force(void)
{
	for (int i = 0; i < nworkers; i++)
		loop_post(workers[i].loop, do_force, &workers[i]);
}

bool workers_done(void)
{
	return atomic_load(&running) == 0;
}

void workers_join(void)
{
	for (int i = 0; i < nworkers; i++) {
		pthread_join(workers[i].thread, NULL);
		loop_free(workers[i].loop);
	}
	free(workers);
	workers = NULL;
	nworkers = 0;
}

void worker_session_open(struct worker *w)
{
	w->nsessions++;
}

void worker_session_close(struct worker *w)
{
	w->nsessions--;
	maybe_exit(w);
}
