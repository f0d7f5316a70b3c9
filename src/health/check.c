/* check.c - active health checks and agent checks (see check.h). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/healthspec.h"
#include "core/log.h"
#include "core/loop.h"
#include "health/check.h"
#include "health/state.h"

#define CHECK_BUF 4096      /* an HTTP check reads at most this much */
#define AGENT_LINE 256      /* an agent's answer: one line */

struct hthread {
	pthread_t thread;
	struct loop *loop;
	int id;
};

enum hc_kind { HC_ACTIVE, HC_AGENT };

struct hcheck {
	struct loop_io io;
	struct timer timer;           /* the next check, or the running one's deadline */
	struct real_server *rs;       /* holds a reference */
	struct hthread *ht;
	enum hc_kind kind;
	struct check_spec c;          /* HC_ACTIVE */
	struct agent_spec a;          /* HC_AGENT */
	uint16_t drain_status;        /* the service's drain signal */
	char drain_header[64];
	struct weir_addr to;
	/* one check in flight (health thread) */
	bool running, connected;
	uint64_t started_ns;
	char req[512];
	size_t reqlen, sent;
	char buf[CHECK_BUF + 1];
	size_t len;
	uint64_t rng;
	/* control thread */
	struct hcheck *next;
	bool seen;
};

static struct hthread *threads;
static int nthreads, next_thread;
static struct hcheck *all;          /* every check object, control thread */

/* --- one check ---------------------------------------------------------------- */

static uint32_t jittered(struct hcheck *hc, uint32_t ms, uint8_t pct)
{
	uint64_t span = (uint64_t)ms * pct / 100;

	hc->rng ^= hc->rng << 13;
	hc->rng ^= hc->rng >> 7;
	hc->rng ^= hc->rng << 17;
	if (!span)
		return ms;
	return (uint32_t)(ms - span + hc->rng % (2 * span + 1));
}

static void hc_close(struct hcheck *hc)
{
	if (hc->io.fd >= 0) {
		/* close with a reset: a checker leaves no TIME_WAIT behind */
		struct linger lg = { 1, 0 };

		setsockopt(hc->io.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		loop_del(hc->ht->loop, &hc->io);
		close(hc->io.fd);
		hc->io.fd = -1;
	}
	hc->running = hc->connected = false;
}

/* The check is over: report it and plan the next one. */
static void hc_finish(struct hcheck *hc, enum check_result r, const char *what)
{
	uint32_t us = (uint32_t)MIN((now_ns() - hc->started_ns) / 1000, UINT32_MAX);
	uint32_t next;

	hc_close(hc);
	if (hc->kind == HC_ACTIVE) {
		bool changing = health_check_done(hc->rs, &hc->c, r, what, us);

		next = changing ? MIN(hc->c.fast_interval_ms, hc->c.interval_ms) : hc->c.interval_ms;
		next = jittered(hc, next, hc->c.jitter_pct);
	} else {
		struct agent_answer ans;
		char why[128];

		if (r != CHECK_PASS) {
			health_agent_done(hc->rs, false, NULL, what);
		} else if (agent_parse(hc->buf, hc->len, &ans, why) != 0) {
			char msg[64];

			snprintf(msg, sizeof(msg), "unreadable: %s", why);
			health_agent_done(hc->rs, false, NULL, msg);
		} else {
			health_agent_done(hc->rs, true, &ans, hc->buf);
		}
		next = jittered(hc, hc->a.interval_ms, 10);
	}
	timer_arm(hc->ht->loop, &hc->timer, loop_now(hc->ht->loop) + next);
}

static void hc_fail_errno(struct hcheck *hc, int err)
{
	char what[64];

	snprintf(what, sizeof(what), "%s", strerror(err));
	what[0] = (char)(what[0] >= 'A' && what[0] <= 'Z' ? what[0] - 'A' + 'a' : what[0]);
	hc_finish(hc, CHECK_FAIL, what);
}

/* An HTTP check's answer so far: decides when it can. Returns false to
 * read more. */
static bool http_verdict(struct hcheck *hc, bool eof)
{
	char *head_end = strstr(hc->buf, "\r\n\r\n");
	unsigned status;
	char what[64];

	if (!head_end && !eof && hc->len < CHECK_BUF)
		return false;
	if (hc->len < 12 || strncmp(hc->buf, "HTTP/1.", 7) != 0 || hc->buf[8] != ' ' ||
	    sscanf(hc->buf + 9, "%3u", &status) != 1 || status < 100 || status > 599) {
		hc_finish(hc, CHECK_FAIL, hc->len ? "not an HTTP response" : "closed without answering");
		return true;
	}
	snprintf(what, sizeof(what), "HTTP %u", status);
	if (status == hc->drain_status && head_end) {
		bool drain = !hc->drain_header[0];

		if (!drain) {
			size_t hl = strlen(hc->drain_header);

			for (char *p = strstr(hc->buf, "\r\n"); p && p < head_end && !drain;
			     p = strstr(p + 2, "\r\n"))
				drain = strncasecmp(p + 2, hc->drain_header, hl) == 0 && p[2 + hl] == ':';
		}
		if (drain) {
			hc_finish(hc, CHECK_DRAINING, what);
			return true;
		}
	}
	if (!check_expects(&hc->c, status)) {
		hc_finish(hc, CHECK_FAIL, what);
		return true;
	}
	if (hc->c.body[0]) {
		if (head_end && strstr(head_end + 4, hc->c.body)) {
			hc_finish(hc, CHECK_PASS, what);
			return true;
		}
		if (!eof && hc->len < CHECK_BUF)
			return false;
		snprintf(what, sizeof(what), "HTTP %u without \"%.30s\"", status, hc->c.body);
		hc_finish(hc, CHECK_FAIL, what);
		return true;
	}
	hc_finish(hc, CHECK_PASS, what);
	return true;
}

/* After a recv/send that returned <n>: 1 go on, 0 retry (EINTR), -1 stop
 * (would block, or failed: the check is finished). */
static int io_step(struct hcheck *hc, ssize_t n)
{
	if (n >= 0)
		return 1;
	if (errno == EINTR)
		return 0;
	if (errno != EAGAIN)
		hc_fail_errno(hc, errno);
	return -1;
}

static void hc_read(struct hcheck *hc)
{
	size_t cap = hc->kind == HC_AGENT ? AGENT_LINE : CHECK_BUF;

	for (;;) {
		ssize_t n = hc->len < cap ? recv(hc->io.fd, hc->buf + hc->len, cap - hc->len, 0) : 0;
		bool eof = n == 0;
		int st = io_step(hc, n);

		if (st == 0)
			continue;
		if (st < 0)
			return;
		hc->len += (size_t)n;
		hc->buf[hc->len] = '\0';
		if (hc->kind == HC_AGENT) {
			char *nl = memchr(hc->buf, '\n', hc->len);

			if (nl || eof || hc->len >= cap) {
				if (nl)
					hc->len = (size_t)(nl - hc->buf);
				while (hc->len && (hc->buf[hc->len - 1] == '\r'))
					hc->len--;
				hc->buf[hc->len] = '\0';
				if (!hc->len)
					hc_finish(hc, CHECK_FAIL, "closed without answering");
				else
					hc_finish(hc, CHECK_PASS, hc->buf);
				return;
			}
		} else if (http_verdict(hc, eof)) {
			return;
		}
		if (eof)
			return;
	}
}

static void hc_write(struct hcheck *hc)
{
	while (hc->sent < hc->reqlen) {
		ssize_t n = send(hc->io.fd, hc->req + hc->sent, hc->reqlen - hc->sent, MSG_NOSIGNAL);
		int st = io_step(hc, n);

		if (st == 0)
			continue;
		if (st < 0)
			return;
		hc->sent += (size_t)n;
	}
}

static void hc_io(struct loop_io *io, uint32_t events)
{
	struct hcheck *hc = container_of(io, struct hcheck, io);

	if (!hc->running)
		return;
	if (!hc->connected) {
		int err = 0;
		socklen_t len = sizeof(err);

		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		getsockopt(io->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err || (events & (EPOLLERR | EPOLLHUP)) == EPOLLHUP) {
			hc_fail_errno(hc, err ? err : ECONNRESET);
			return;
		}
		hc->connected = true;
		if (hc->kind == HC_ACTIVE && hc->c.kind == CHECK_TCP) {
			hc_finish(hc, CHECK_PASS, "connected");
			return;
		}
	}
	if (hc->sent < hc->reqlen) {
		hc_write(hc);
		if (!hc->running)
			return;
	}
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		hc_read(hc);
}

static void hc_start(struct hcheck *hc)
{
	struct loop *l = hc->ht->loop;
	int fd = socket(addr_family(&hc->to), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	hc->started_ns = now_ns();
	hc->len = 0;
	hc->sent = 0;
	hc->buf[0] = '\0';
	hc->running = true;
	hc->connected = false;
	if (fd < 0) {
		hc_fail_errno(hc, errno);
		return;
	}
	hc->io.fd = fd;
	if (connect(fd, &hc->to.u.sa, addr_len(&hc->to)) != 0 && errno != EINPROGRESS) {
		hc_fail_errno(hc, errno);
		return;
	}
	if (loop_add(l, &hc->io, EPOLLIN | EPOLLOUT | EPOLLRDHUP) != 0) {
		int e = errno;

		close(fd);
		hc->io.fd = -1;
		hc_fail_errno(hc, e ? e : ENOMEM);
		return;
	}
	timer_arm(l, &hc->timer, loop_now(l) + (hc->kind == HC_ACTIVE ? hc->c.timeout_ms :
							      hc->a.timeout_ms));
}

static void hc_timer(struct timer *t)
{
	struct hcheck *hc = container_of(t, struct hcheck, timer);

	if (hc->running) {
		char what[48];

		snprintf(what, sizeof(what), "%s after %u ms",
			 hc->connected ? "no answer" : "connect timeout",
			 hc->kind == HC_ACTIVE ? hc->c.timeout_ms : hc->a.timeout_ms);
		hc_finish(hc, CHECK_FAIL, what);
		return;
	}
	hc_start(hc);
}

/* --- life on the check thread ------------------------------------------------ */

static void hc_begin(void *arg)
{
	struct hcheck *hc = arg;
	struct loop *l = hc->ht->loop;
	uint32_t interval = hc->kind == HC_ACTIVE ? hc->c.interval_ms : hc->a.interval_ms;

	/* the first check of each server comes at a random point of the
	 * first interval (at most 1 s away), so checks don't fire together */
	timer_arm(l, &hc->timer, loop_now(l) + hc->rng % (MIN(interval, 1000u) + 1));
}

static void hc_free(void *arg)
{
	struct hcheck *hc = arg;

	rs_put(hc->rs);
	free(hc);
}

static void hc_end(void *arg)
{
	struct hcheck *hc = arg;

	hc_close(hc);
	timer_cancel(hc->ht->loop, &hc->timer);
	/* an event for it may still be in the batch being dispatched */
	if (loop_defer(hc->ht->loop, hc_free, hc) != 0)
		hc_free(hc);
}

static void *hthread_main(void *arg)
{
	struct hthread *ht = arg;
	char name[16];
	int rc;

	snprintf(name, sizeof(name), "h%d", ht->id);
	log_set_thread(name);
	weir_thread_id = -1; /* counts nothing */
	if ((rc = loop_run(ht->loop)) != 0)
		log_err("health check loop failed: %s", strerror(-rc));
	return NULL;
}

static void hthread_stop(void *arg)
{
	struct hthread *ht = arg;

	loop_stop(ht->loop);
}

int health_start(int n)
{
	sigset_t all_sigs, old;

	threads = calloc((size_t)n, sizeof(*threads));
	if (!threads)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		threads[i].id = i;
		if (!(threads[i].loop = loop_new())) {
			for (int k = 0; k < i; k++)
				loop_free(threads[k].loop);
			free(threads);
			threads = NULL;
			return -ENOMEM;
		}
	}
	sigfillset(&all_sigs);
	sigdelset(&all_sigs, SIGSEGV);
	sigdelset(&all_sigs, SIGBUS);
	sigdelset(&all_sigs, SIGFPE);
	sigdelset(&all_sigs, SIGILL);
	sigdelset(&all_sigs, SIGABRT);
	pthread_sigmask(SIG_BLOCK, &all_sigs, &old);
	for (int i = 0; i < n; i++)
		if (pthread_create(&threads[i].thread, NULL, hthread_main, &threads[i]) != 0)
			fatalx("cannot start health check thread %d", i);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	nthreads = n;
	return 0;
}

/* --- the control thread's side ---------------------------------------------- */

static void hc_stop(struct hcheck *hc)
{
	if (loop_post(hc->ht->loop, hc_end, hc) != 0)
		fatalx("cannot stop a health check: out of memory");
}

/* The request an HTTP check sends, or what an agent check sends first. */
static void hc_request(struct hcheck *hc)
{
	if (hc->kind == HC_AGENT) {
		hc->reqlen = strlen(hc->a.send); /* newlines already real (healthspec) */
		memcpy(hc->req, hc->a.send, hc->reqlen);
		return;
	}
	if (hc->c.kind != CHECK_HTTP) {
		hc->reqlen = 0;
		return;
	}
	{
		char host[ADDR_STRLEN + 8];
		int n;

		if (hc->c.host[0])
			snprintf(host, sizeof(host), "%s", hc->c.host);
		else
			addr_str(&hc->to, host);
		n = snprintf(hc->req, sizeof(hc->req),
			     "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: weir-check\r\n"
			     "Connection: close\r\n\r\n", hc->c.method, hc->c.path, host);
		hc->reqlen = n > 0 && (size_t)n < sizeof(hc->req) ? (size_t)n : 0;
	}
}

static struct hcheck *hc_new(struct real_server *rs, struct virtual_service *svc,
			     enum hc_kind kind, const struct check_spec *c,
			     const struct agent_spec *a)
{
	struct hcheck *hc = calloc(1, sizeof(*hc));

	if (!hc)
		return NULL;
	hc->io.fd = -1;
	hc->io.cb = hc_io;
	hc->timer.cb = hc_timer;
	hc->kind = kind;
	if (c)
		hc->c = *c;
	if (a)
		hc->a = *a;
	hc->drain_status = svc->spec.http.drain_status;
	memcpy(hc->drain_header, svc->spec.http.drain_header, sizeof(hc->drain_header));
	hc->to = rs->addr;
	if (kind == HC_ACTIVE && c->port)
		addr_set_port(&hc->to, c->port);
	if (kind == HC_AGENT)
		addr_set_port(&hc->to, a->port);
	hc->rng = (now_ns() ^ (uintptr_t)hc) | 1;
	hc_request(hc);
	hc->ht = &threads[next_thread++ % nthreads];
	hc->rs = rs;
	rs_get(rs);
	return hc;
}

static bool hc_same(const struct hcheck *hc, enum hc_kind kind, const struct check_spec *c,
		    const struct agent_spec *a, const struct virtual_service *svc)
{
	if (hc->kind != kind || hc->drain_status != svc->spec.http.drain_status ||
	    strcmp(hc->drain_header, svc->spec.http.drain_header) != 0)
		return false;
	return kind == HC_ACTIVE ? memcmp(&hc->c, c, sizeof(*c)) == 0 :
				   memcmp(&hc->a, a, sizeof(*a)) == 0;
}

/* Keeps, replaces or creates the check of <kind> of one server. */
static void sync_one(struct virtual_service *svc, struct real_server *rs, enum hc_kind kind,
		     bool want, const struct check_spec *c, const struct agent_spec *a)
{
	struct hcheck *hc = health_rs(rs)->checks[kind];

	if (hc && want && hc_same(hc, kind, c, a, svc)) {
		hc->seen = true;
		return;
	}
	health_rs(rs)->checks[kind] = NULL; /* an old one, if any, stays unseen: stopped */
	if (!want)
		return;
	if (!(hc = hc_new(rs, svc, kind, c, a))) {
		log_err("cannot start a health check: out of memory");
		return;
	}
	hc->seen = true;
	hc->next = all;
	all = hc;
	health_rs(rs)->checks[kind] = hc;
	if (loop_post(hc->ht->loop, hc_begin, hc) != 0)
		fatalx("cannot start a health check: out of memory");
}

static void sync_service(struct virtual_service *svc, struct virtual_service *owner,
			 const char *pool, void *arg)
{
	for (size_t i = 0; i < svc->nservers; i++) {
		struct real_server *rs = svc->servers[i];
		const struct check_spec *c = rs->spec.check.kind == CHECK_INHERIT ?
					     &svc->spec.check : &rs->spec.check;

		sync_one(svc, rs, HC_ACTIVE, c->kind == CHECK_TCP || c->kind == CHECK_HTTP, c, NULL);
		sync_one(svc, rs, HC_AGENT, svc->spec.agent.port != 0, NULL, &svc->spec.agent);
	}
}

/* A server lost its check (or agent): what it said no longer holds. */
static void forget_verdict(struct hcheck *hc)
{
	struct real_server *rs = hc->rs;
	struct virtual_service *svc = rs->svc;
	struct rs_health *h = &health_rs(rs)->h;

	pthread_mutex_lock(&svc->lock);
	if (hc->kind == HC_ACTIVE) {
		h->down = false;
		h->rise = h->fall = 0;
		h->check_last[0] = '\0';
	} else {
		h->agent = AGENT_NONE;
		h->agent_pct = 100;
		h->agent_weight = 0;
		h->agent_last[0] = '\0';
	}
	rs_refresh_locked(rs, now_ms());
	pthread_mutex_unlock(&svc->lock);
}

void health_sync(struct vs_table *t)
{
	if (!nthreads)
		return;
	for (struct hcheck *hc = all; hc; hc = hc->next)
		hc->seen = false;
	table_foreach(t, sync_service, NULL);
	for (struct hcheck **pp = &all; *pp;) {
		struct hcheck *hc = *pp;

		if (hc->seen) {
			pp = &hc->next;
			continue;
		}
		*pp = hc->next;
		if (health_rs(hc->rs)->checks[hc->kind] == hc) /* its server left the table */
			health_rs(hc->rs)->checks[hc->kind] = NULL;
		else if (!health_rs(hc->rs)->checks[hc->kind]) /* not replaced: no check now */
			forget_verdict(hc);
		hc_stop(hc);
	}
}

void health_shutdown(void)
{
	while (all) {
		struct hcheck *hc = all;

		all = hc->next;
		health_rs(hc->rs)->checks[hc->kind] = NULL;
		hc_stop(hc);
	}
	for (int i = 0; i < nthreads; i++)
		loop_post(threads[i].loop, hthread_stop, &threads[i]);
	for (int i = 0; i < nthreads; i++) {
		pthread_join(threads[i].thread, NULL);
		loop_free(threads[i].loop);
	}
	free(threads);
	threads = NULL;
	nthreads = 0;
}
