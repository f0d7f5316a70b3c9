/* conns.c - the proxies' sessions for weirctl -L -c (see conns.h). */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "core/worker.h"
#include "proxy/conns.h"
#include "proxy/pworker.h"

/* One listing's result, shared by the lister and the tasks it posted;
 * every field under <lock>. Freed by the last of them (<refs>). */
struct snapshot {
	pthread_mutex_t lock;
	pthread_cond_t done;
	int refs;
	int pending;              /* workers that have not answered */
	bool closed;              /* the lister took the result: add nothing */
	int err;                  /* -ENOMEM from a worker */
	struct conn_list list;
};

static void snapshot_put(struct snapshot *sn)
{
	bool last;

	pthread_mutex_lock(&sn->lock);
	last = --sn->refs == 0;
	pthread_mutex_unlock(&sn->lock);
	if (!last)
		return;
	conn_list_free(&sn->list);
	pthread_cond_destroy(&sn->done);
	pthread_mutex_destroy(&sn->lock);
	free(sn);
}

/* This worker's sessions into <mine>. Worker thread. */
static int collect(struct worker *w, struct conn_list *mine)
{
	struct proxy_worker *pw = pworker(w);
	uint64_t now = loop_now(w->loop);

	if (!pw)
		return 0;
	for (struct session_link *l = pw->sessions.next; l != &pw->sessions; l = l->next) {
		struct conn_entry e = { 0 };

		if (l->describe && l->describe(l, now, &e) && conn_list_add(mine, &e) != 0)
			return -ENOMEM;
	}
	return 0;
}

/* The posted task: on the worker's thread, or on the control thread when
 * the loop is freed before it ran (this_worker NULL: nothing to add). */
static void snapshot_task(void *arg)
{
	struct snapshot *sn = arg;
	struct conn_list mine = { 0 };
	int rc = this_worker && !this_worker->exited ? collect(this_worker, &mine) : 0;

	pthread_mutex_lock(&sn->lock);
	if (!sn->closed && (rc || conn_list_move(&sn->list, &mine) != 0))
		sn->err = -ENOMEM;
	if (--sn->pending == 0)
		pthread_cond_signal(&sn->done);
	pthread_mutex_unlock(&sn->lock);
	conn_list_free(&mine);
	snapshot_put(sn);
}

int proxy_conns(struct conn_list *out)
{
	struct snapshot *sn = calloc(1, sizeof(*sn));
	struct timespec until;
	int rc = 0;

	if (!sn)
		return -ENOMEM;
	pthread_mutex_init(&sn->lock, NULL);
	pthread_cond_init(&sn->done, NULL);
	sn->refs = 1;
	for (int i = 0; i < nworkers; i++) {
		pthread_mutex_lock(&sn->lock);
		sn->refs++;
		sn->pending++;
		pthread_mutex_unlock(&sn->lock);
		if (loop_post(workers[i].loop, snapshot_task, sn) != 0) {
			pthread_mutex_lock(&sn->lock);
			sn->refs--;
			sn->pending--;
			pthread_mutex_unlock(&sn->lock);
			rc = -ENOMEM;
		}
	}
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += PROXY_CONNS_WAIT_MS / 1000;
	pthread_mutex_lock(&sn->lock);
	while (sn->pending > 0)
		if (pthread_cond_timedwait(&sn->done, &sn->lock, &until) == ETIMEDOUT)
			break;
	if (sn->pending > 0 && !rc)
		rc = -ETIMEDOUT;
	if (sn->err)
		rc = sn->err;
	if (conn_list_move(out, &sn->list) != 0)
		rc = -ENOMEM;
	sn->closed = true;
	pthread_mutex_unlock(&sn->lock);
	snapshot_put(sn);
	return rc;
}
