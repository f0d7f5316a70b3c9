/* loop.c - see loop.h. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"

#define LOOP_BATCH 256

struct task {
	void (*fn)(void *arg);
	void *arg;
	struct task *next;
};

struct loop {
	int epfd;
	bool stopping;
	uint64_t now;
	struct timer **heap;   /* min-heap on when */
	size_t nheap, capheap;
	struct loop_io wake;   /* eventfd: posted tasks are waiting */
	pthread_mutex_t post_lock;
	struct task *posted, **posted_tail; /* guarded by post_lock */
	struct task *deferred, **deferred_tail;
	struct loop_flush *flush;  /* queued hooks, newest first */
};

static void loop_wake_cb(struct loop_io *io, uint32_t events);
static void run_tasks(struct task *t);

struct loop *loop_new(void)
{
	struct loop *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		goto out_free;
	l->wake.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (l->wake.fd < 0)
		goto out_close_ep;
	l->wake.cb = loop_wake_cb;
	pthread_mutex_init(&l->post_lock, NULL);
	l->posted_tail = &l->posted;
	l->deferred_tail = &l->deferred;
	l->now = now_ms();
	if (loop_add(l, &l->wake, EPOLLIN) != 0)
		goto out_close_wake;
	return l;

out_close_wake:
	close(l->wake.fd);
	pthread_mutex_destroy(&l->post_lock);
out_close_ep:
	close(l->epfd);
out_free:
	free(l);
	return NULL;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	/* Tasks never run still carry references: run them here. */
	run_tasks(l->posted);
	run_tasks(l->deferred);
	close(l->wake.fd);
	close(l->epfd);
	pthread_mutex_destroy(&l->post_lock);
	free(l->heap);
	free(l);
}

int loop_add(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct epoll_event ev = { .events = events | EPOLLET, .data.ptr = io };

	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, io->fd, &ev) ? -errno : 0;
}

int loop_mod(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct epoll_event ev = { .events = events | EPOLLET, .data.ptr = io };

	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, io->fd, &ev) ? -errno : 0;
}

void loop_del(struct loop *l, struct loop_io *io)
{
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, io->fd, NULL);
}

uint64_t loop_now(const struct loop *l)
{
	return l->now;
}

void loop_stop(struct loop *l)
{
	l->stopping = true;
}

/* --- timers: a binary min-heap; heap_idx is 1-based so 0 means unarmed --- */

static void heap_set(struct loop *l, size_t i, struct timer *t)
{
	l->heap[i] = t;
	t->heap_idx = i + 1;
}

static void heap_up(struct loop *l, size_t i)
{
	struct timer *t = l->heap[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (l->heap[parent]->when <= t->when)
			break;
		heap_set(l, i, l->heap[parent]);
		i = parent;
	}
	heap_set(l, i, t);
}

static void heap_down(struct loop *l, size_t i)
{
	struct timer *t = l->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= l->nheap)
			break;
		if (c + 1 < l->nheap && l->heap[c + 1]->when < l->heap[c]->when)
			c++;
		if (t->when <= l->heap[c]->when)
			break;
		heap_set(l, i, l->heap[c]);
		i = c;
	}
	heap_set(l, i, t);
}

void timer_cancel(struct loop *l, struct timer *t)
{
	struct timer *moved;
	size_t i;

	if (!t->heap_idx)
		return;
	i = t->heap_idx - 1;
	t->heap_idx = 0;
	if (i == --l->nheap)
		return;
	moved = l->heap[l->nheap];
	heap_set(l, i, moved);
	heap_down(l, i);
	heap_up(l, moved->heap_idx - 1);
}

void timer_arm(struct loop *l, struct timer *t, uint64_t when_ms)
{
	if (t->heap_idx) {
		uint64_t old = t->when;
		size_t i = t->heap_idx - 1;

		t->when = when_ms;
		if (when_ms < old)
			heap_up(l, i);
		else
			heap_down(l, i);
		return;
	}
	if (l->nheap == l->capheap) {
		size_t cap = l->capheap ? l->capheap * 2 : 64;
		struct timer **h = realloc(l->heap, cap * sizeof(*h));

		if (!h)
			fatalx("out of memory for %zu timers", cap);
		l->heap = h;
		l->capheap = cap;
	}
	t->when = when_ms;
	heap_set(l, l->nheap, t);
	l->nheap++;
	heap_up(l, l->nheap - 1);
}

static void run_timers(struct loop *l)
{
	while (l->nheap && l->heap[0]->when <= l->now) {
		struct timer *t = l->heap[0];

		timer_cancel(l, t);
		t->cb(t);
	}
}

static int next_timeout(const struct loop *l)
{
	uint64_t when;

	if (l->deferred || l->flush)
		return 0;
	if (!l->nheap)
		return -1;
	when = l->heap[0]->when;
	if (when <= l->now)
		return 0;
	return (int)MIN(when - l->now, 60000u);
}

/* --- posted and deferred tasks --------------------------------------------- */

static int task_push(struct task ***tail, void (*fn)(void *), void *arg)
{
	struct task *t = malloc(sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->fn = fn;
	t->arg = arg;
	t->next = NULL;
	**tail = t;
	*tail = &t->next;
	return 0;
}

int loop_post(struct loop *l, void (*fn)(void *arg), void *arg)
{
	uint64_t one = 1;
	int rc;

	pthread_mutex_lock(&l->post_lock);
	rc = task_push(&l->posted_tail, fn, arg);
	pthread_mutex_unlock(&l->post_lock);
	if (rc == 0 && write(l->wake.fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("loop: eventfd write: %s", strerror(errno));
	return rc;
}

int loop_defer(struct loop *l, void (*fn)(void *arg), void *arg)
{
	return task_push(&l->deferred_tail, fn, arg);
}

static void run_tasks(struct task *t)
{
	while (t) {
		struct task *next = t->next;

		t->fn(t->arg);
		free(t);
		t = next;
	}
}

static void loop_wake_cb(struct loop_io *io, uint32_t events)
{
	struct loop *l = container_of(io, struct loop, wake);
	uint64_t n;
	struct task *t;

	while (read(io->fd, &n, sizeof(n)) > 0)
		;
	pthread_mutex_lock(&l->post_lock);
	t = l->posted;
	l->posted = NULL;
	l->posted_tail = &l->posted;
	pthread_mutex_unlock(&l->post_lock);
	run_tasks(t);
}

void loop_flush_queue(struct loop *l, struct loop_flush *f)
{
	if (f->queued)
		return;
	f->queued = true;
	f->next = l->flush;
	l->flush = f;
}

void loop_flush_cancel(struct loop *l, struct loop_flush *f)
{
	if (!f->queued)
		return;
	for (struct loop_flush **pp = &l->flush; *pp; pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	f->queued = false;
	f->next = NULL;
}

static void run_flush(struct loop *l)
{
	while (l->flush) {
		struct loop_flush *f = l->flush;

		l->flush = f->next;
		f->next = NULL;
		f->queued = false;
		f->fn(f);
	}
}

static void run_deferred(struct loop *l)
{
	while (l->deferred) {
		struct task *t = l->deferred;

		l->deferred = NULL;
		l->deferred_tail = &l->deferred;
		run_tasks(t);
	}
}

int loop_run(struct loop *l)
{
	struct epoll_event ev[LOOP_BATCH];

	l->stopping = false;
	while (!l->stopping) {
		int n = epoll_wait(l->epfd, ev, LOOP_BATCH, next_timeout(l));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		l->now = now_ms();
		for (int i = 0; i < n; i++) {
			struct loop_io *io = ev[i].data.ptr;

			io->cb(io, ev[i].events);
		}
		run_flush(l);
		run_deferred(l);
		run_timers(l);
		run_flush(l);
		run_deferred(l);
	}
	return 0;
}
