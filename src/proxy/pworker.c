/* pworker.c - per-worker proxy state: session list and pipe pool; at the
 * worker's end, its server pool and access logs are let go. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/log.h"
#include "core/table.h"
#include "proxy/accesslog.h"
#include "proxy/pworker.h"
#include "proxy/srvpool.h"
#include "proxy/udp.h"

#define PIPE_POOL_MAX 1024

void listeners_close_all(struct worker *w); /* listener.c */

void session_link_add(struct worker *w, struct session_link *l)
{
	struct session_link *head = &pworker(w)->sessions;

	l->next = head->next;
	l->prev = head;
	head->next->prev = l;
	head->next = l;
}

void session_link_del(struct session_link *l)
{
	l->prev->next = l->next;
	l->next->prev = l->prev;
	l->prev = l->next = l;
}

void session_begin(struct worker *w, struct session_link *l, struct virtual_service *svc)
{
	svc_get(svc);
	atomic_fetch_add_explicit(&svc->active, 1, memory_order_relaxed);
	counter_add(&stats_mine(&svc->stats)->conns, 1);
	session_link_add(w, l);
	worker_session_open(w);
}

void session_end(struct worker *w, struct session_link *l, struct virtual_service *svc)
{
	session_link_del(l);
	atomic_fetch_sub_explicit(&svc->active, 1, memory_order_relaxed);
	listener_session_ended(w, svc);
	worker_session_close(w);
	svc_put(svc);
}

void session_local_addr(int fd, const struct weir_addr *fallback, struct weir_addr *out)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		addr_from_sockaddr(out, (struct sockaddr *)&ss, len);
	else
		*out = *fallback;
}

int pipe_get(struct worker *w, struct pipe_pair *p)
{
	struct proxy_worker *pw = pworker(w);
	int fds[2];

	if (pw->npipes) {
		*p = pw->pipes[--pw->npipes];
		return 0;
	}
	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0)
		return -errno;
	p->rd = fds[0];
	p->wr = fds[1];
	return 0;
}

void pipe_close(struct pipe_pair *p)
{
	if (p->rd >= 0) {
		close(p->rd);
		close(p->wr);
	}
	p->rd = p->wr = -1;
}

void pipe_put(struct worker *w, struct pipe_pair *p)
{
	struct proxy_worker *pw = pworker(w);

	if (pw->npipes == pw->cappipes && pw->cappipes < PIPE_POOL_MAX) {
		size_t cap = pw->cappipes ? pw->cappipes * 2 : 16;
		struct pipe_pair *np = realloc(pw->pipes, cap * sizeof(*np));

		if (np) {
			pw->pipes = np;
			pw->cappipes = cap;
		}
	}
	if (pw->npipes < pw->cappipes) {
		pw->pipes[pw->npipes++] = *p;
		p->rd = p->wr = -1;
		return;
	}
	pipe_close(p);
}

static void pw_force(struct worker *w)
{
	struct session_link *head = &pworker(w)->sessions;

	while (head->next != head)
		head->next->force_close(head->next);
}

static void pw_stop(struct worker *w)
{
	struct session_link *head = &pworker(w)->sessions;

	listeners_close_all(w);
	for (struct session_link *l = head->next, *next; l != head; l = next) {
		next = l->next; /* <l> may close and unlink itself */
		if (l->graceful)
			l->graceful(l);
	}
}

static void pw_init(struct worker *w)
{
	struct proxy_worker *pw = calloc(1, sizeof(*pw));

	if (!pw)
		fatalx("out of memory");
	pw->sessions.next = pw->sessions.prev = &pw->sessions;
	w->proxy_priv = pw;
	w->on_force = pw_force;
	w->on_stop = pw_stop;
}

static void pw_fini(struct worker *w)
{
	struct proxy_worker *pw = pworker(w);

	pw_force(w);
	listeners_close_all(w);
	udp_worker_fini(w); /* after its sessions and listeners */
	srvpool_flush(w);
	accesslog_fini(w); /* after the sessions: none logs any more */
	for (size_t i = 0; i < pw->npipes; i++)
		pipe_close(&pw->pipes[i]);
	free(pw->pipes);
	free(pw);
	w->proxy_priv = NULL;
}

void pworker_setup(void)
{
	worker_init_hook = pw_init;
	worker_fini_hook = pw_fini;
}
