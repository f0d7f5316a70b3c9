/* listener.c - stream listeners of proxy services: one SO_REUSEPORT socket
 * per worker, so the kernel spreads new connections over the workers. The
 * sockets come from lsock.c (shared with the datagram listeners, dgram.c),
 * which keeps every other program off their port. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "core/table.h"
#include "proxy/dgram.h"
#include "proxy/lsock.h"
#include "proxy/pworker.h"

#define LISTEN_BACKLOG 4096
#define PAUSE_MS 50

/* svc->proxy_priv for TCP-based proxies: sockets bound by prepare(). */
struct listener_set {
	int *fds;        /* [nworkers], -1 once handed to a worker */
	int n;
	bool started;
};

void listeners_close_all(struct worker *w);

/* Listens on each socket of the group. A request/response client waits for
 * the answer to what it sent: the ACK of its request can ride on the
 * answer. A new connection would ACK it at once (quick-ACK mode), one more
 * segment per connection for both sides (0.9 per request with Connection:
 * close, issue 10). The accepted connections inherit the setting; listen()
 * resets it, hence after. */
static int listen_all(const int *fds, int n, bool reqresp, char *err)
{
	int zero = 0;

	for (int i = 0; i < n; i++) {
		if (listen(fds[i], LISTEN_BACKLOG) != 0) {
			snprintf(err, 256, "cannot listen: %s", strerror(errno));
			return -errno;
		}
		if (reqresp)
			setsockopt(fds[i], IPPROTO_TCP, TCP_QUICKACK, &zero, sizeof(zero));
	}
	return 0;
}

static int prepare(struct virtual_service *svc, bool reqresp, char *err)
{
	struct listener_set *ls = calloc(1, sizeof(*ls));
	int rc;

	if (!ls || !(ls->fds = calloc((size_t)nworkers, sizeof(int)))) {
		free(ls);
		snprintf(err, 256, "Memory allocation problem");
		return -ENOMEM;
	}
	if ((rc = lsock_open_group(&svc->addr, SOCK_STREAM, nworkers, ls->fds, err)) != 0 ||
	    (rc = listen_all(ls->fds, nworkers, reqresp, err)) != 0) {
		lsock_close_group(ls->fds, nworkers);
		free(ls->fds);
		free(ls);
		return rc;
	}
	ls->n = nworkers;
	svc->proxy_priv = ls;
	return 0;
}

int listener_prepare(struct virtual_service *svc, char *err)
{
	return prepare(svc, false, err);
}

int listener_prepare_reqresp(struct virtual_service *svc, char *err)
{
	return prepare(svc, true, err);
}

/* --- on the worker's thread ------------------------------------------------ */

static void listener_free(void *arg)
{
	struct listener *li = arg;

	svc_put(li->svc);
	free(li);
}

/* Closes <li>; its memory goes after the current batch of events, which may
 * still point at it. */
static void listener_close(struct listener *li)
{
	struct worker *w = li->w;

	loop_del(w->loop, &li->io);
	close(li->io.fd);
	li->io.fd = -1;
	li->paused = true; /* a pending event must not accept on it */
	timer_cancel(w->loop, &li->resume);
	if (loop_defer(w->loop, listener_free, li) != 0)
		fatalx("out of memory deferring a free");
}

static bool over_limit(struct virtual_service *svc)
{
	unsigned max = atomic_load_explicit(&svc->maxconn, memory_order_relaxed);

	return max && atomic_load_explicit(&svc->active, memory_order_relaxed) >= max;
}

static void listener_pause(struct listener *li)
{
	li->paused = true;
	timer_arm(li->w->loop, &li->resume, loop_now(li->w->loop) + PAUSE_MS);
}

/* Accepts until the queue is empty (edge-triggered) or a limit is hit. */
static void accept_all(struct listener *li)
{
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		struct weir_addr peer;
		int fd;

		if (over_limit(li->svc)) {
			listener_pause(li);
			return;
		}
		fd = accept4(li->io.fd, (struct sockaddr *)&ss, &len,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				log_warn("accept: %s; pausing %d ms", strerror(errno), PAUSE_MS);
				listener_pause(li);
			} else if (errno != EAGAIN) {
				log_err("accept: %s", strerror(errno));
			}
			return;
		}
		addr_from_sockaddr(&peer, (struct sockaddr *)&ss, len);
		li->on_accept(li, fd, &peer);
	}
}

static void listener_cb(struct loop_io *io, uint32_t events)
{
	struct listener *li = container_of(io, struct listener, io);

	if (!li->paused)
		accept_all(li);
}

static void listener_resume_cb(struct timer *t)
{
	struct listener *li = container_of(t, struct listener, resume);

	li->paused = false;
	accept_all(li);
}

void listener_session_ended(struct worker *w, struct virtual_service *svc)
{
	for (struct listener *li = pworker(w)->listeners; li; li = li->next)
		if (li->svc == svc && li->paused && !over_limit(svc)) {
			timer_cancel(w->loop, &li->resume);
			li->paused = false;
			accept_all(li);
		}
}

struct attach_task {
	struct listener *li;
};

static void attach_cb(void *arg)
{
	struct listener *li = arg;
	struct worker *w = this_worker;

	if (!w || w->stopping) {
		/* run by loop_free after the worker exited, or stopping */
		close(li->io.fd);
		svc_put(li->svc);
		free(li);
		return;
	}
	li->w = w;
	if (loop_add(w->loop, &li->io, EPOLLIN) != 0) {
		log_err("cannot watch listener: %s", strerror(errno));
		close(li->io.fd);
		svc_put(li->svc);
		free(li);
		return;
	}
	li->next = pworker(w)->listeners;
	pworker(w)->listeners = li;
	accept_all(li);
}

void listener_start(struct virtual_service *svc, accept_fn on_accept)
{
	struct listener_set *ls = svc->proxy_priv;

	for (int i = 0; i < ls->n; i++) {
		struct listener *li = calloc(1, sizeof(*li));

		if (!li)
			fatalx("out of memory");
		li->io.fd = ls->fds[i];
		li->io.cb = listener_cb;
		li->svc = svc;
		li->on_accept = on_accept;
		li->resume.cb = listener_resume_cb;
		svc_get(svc);
		ls->fds[i] = -1;
		loop_post(workers[i].loop, attach_cb, li);
	}
	ls->started = true;
}

static void detach_cb(void *arg)
{
	struct virtual_service *svc = arg;
	struct worker *w = this_worker;

	if (w && w->proxy_priv) {
		for (struct listener **pp = &pworker(w)->listeners; *pp;) {
			struct listener *li = *pp;

			if (li->svc == svc) {
				*pp = li->next;
				listener_close(li);
			} else {
				pp = &li->next;
			}
		}
	}
	svc_put(svc);
}

void listener_stop(struct virtual_service *svc)
{
	struct listener_set *ls = svc->proxy_priv;

	if (!ls)
		return;
	if (ls->started) {
		for (int i = 0; i < nworkers; i++) {
			svc_get(svc);
			loop_post(workers[i].loop, detach_cb, svc);
		}
	}
	lsock_close_group(ls->fds, ls->n);
	free(ls->fds);
	free(ls);
	svc->proxy_priv = NULL;
}

/* The worker stops (its on_stop) or exits: every listener it has, stream
 * or datagram, closes. */
void listeners_close_all(struct worker *w)
{
	struct proxy_worker *pw = pworker(w);

	dgram_close_all(w);
	while (pw->listeners) {
		struct listener *li = pw->listeners;

		pw->listeners = li->next;
		listener_close(li);
	}
}
