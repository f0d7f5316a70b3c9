/*
 * check.c - active health checks and agent checks (see check.h): what every
 * kind of check shares. The kinds themselves are in check_tcp.c,
 * check_http.c, check_agent.c, check_udp.c and check_dns.c, behind struct
 * hc_ops (check_ops.h); nothing here knows one kind from another, only
 * whether it talks over a stream or in datagrams.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/healthspec.h"
#include "core/log.h"
#include "core/loop.h"
#include "health/check.h"
#include "health/check_ops.h"
#include "health/state.h"

struct hthread {
	pthread_t thread;
	struct loop *loop;
	int id;
};

/* One check of one server. Created and forgotten by the control thread
 * (health_sync); between hc_begin and hc_end it belongs to its thread. */
struct hcheck {
	struct loop_io io;
	struct timer timer;           /* the next check, or the running one's deadline */
	struct real_server *rs;       /* holds a reference */
	struct hthread *ht;
	const struct hc_ops *ops;
	struct hc_conf conf;          /* immutable */
	struct weir_addr to;
	char req[512];                /* what to send once connected */
	size_t reqlen;
	/* one check in flight (check thread) */
	bool running, connected;
	uint64_t started_ns;
	size_t sent;
	char buf[HC_ANSWER_MAX + 1];
	size_t len;
	char ignored[48];             /* dgram: why the last datagram was ignored */
	unsigned nignored;
	uint64_t rng;
	/* control thread */
	struct hcheck *next;
	bool seen;
	/* the kind's running state (ops->state_size bytes) */
	_Alignas(max_align_t) unsigned char state[];
};

static struct hthread *threads;
static int nthreads, next_thread;
static struct hcheck *all;          /* every check object, control thread */

_Static_assert(HC_SLOTS == ARRAY_SIZE(((struct health_rs *)0)->checks), "a check per slot");

/* The registered kinds (health_kinds_register). */
#define HC_KINDS_MAX 8
static const struct hc_ops *kinds[HC_KINDS_MAX];
static size_t nkinds;

/* --- one check ---------------------------------------------------------------- */

/* Datagrams a dgram check ignores before it fails: a server that keeps
 * sending what is not an answer does not hold a check thread. */
#define HC_IGNORED_MAX 64

static uint64_t hc_rand(struct hcheck *hc)
{
	hc->rng ^= hc->rng << 13;
	hc->rng ^= hc->rng >> 7;
	hc->rng ^= hc->rng << 17;
	return hc->rng;
}

static uint32_t jittered(struct hcheck *hc, uint32_t ms, uint8_t pct)
{
	uint64_t span = (uint64_t)ms * pct / 100;

	if (!span)
		return ms;
	return (uint32_t)(ms - span + hc_rand(hc) % (2 * span + 1));
}

static void hc_close(struct hcheck *hc)
{
	if (hc->io.fd >= 0) {
		/* close with a reset: a checker leaves no TIME_WAIT behind */
		struct linger lg = { 1, 0 };

		if (!hc->ops->dgram)
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
	next = hc->ops->done(hc->rs, &hc->conf, r, what, us);
	next = jittered(hc, next, hc->conf.jitter_pct);
	timer_arm(hc->ht->loop, &hc->timer, loop_now(hc->ht->loop) + next);
}

static void hc_fail_errno(struct hcheck *hc, int err)
{
	char what[64];

	/* over UDP, what an ICMP port unreachable turns into */
	if (hc->ops->dgram && err == ECONNREFUSED) {
		hc_finish(hc, CHECK_FAIL, "refused");
		return;
	}
	snprintf(what, sizeof(what), "%s", strerror(err));
	what[0] = (char)(what[0] >= 'A' && what[0] <= 'Z' ? what[0] - 'A' + 'a' : what[0]);
	hc_finish(hc, CHECK_FAIL, what);
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

/* An answer() that wants more: whether it may have it. A stream may not
 * once closed or the buffer is full (a kind decides by then; should one
 * not, the check fails); a datagram ignored is forgotten, HC_IGNORED_MAX
 * of them fail the check. Writes <what> when it may not. */
static bool hc_more(struct hcheck *hc, ssize_t n, char *what)
{
	if (hc->ops->dgram) {
		if (what[0])
			snprintf(hc->ignored, sizeof(hc->ignored), "%s", what);
		hc->len = 0;
		if (++hc->nignored < HC_IGNORED_MAX)
			return true;
		snprintf(what, HC_WHAT_MAX, "%u replies ignored (%s)", hc->nignored,
			 hc->ignored[0] ? hc->ignored : "not answers");
		return false;
	}
	if (n > 0 && hc->len < hc->ops->answer_max)
		return true;
	snprintf(what, HC_WHAT_MAX, "%s", n ? "answer too long" : "closed");
	return false;
}

/* What came, to the kind until it decides: a stream appended to the
 * buffer, or each datagram whole (its first answer_max bytes). */
static void hc_read(struct hcheck *hc)
{
	size_t cap = hc->ops->answer_max;
	bool dgram = hc->ops->dgram;

	for (;;) {
		ssize_t n = recv(hc->io.fd, hc->buf + hc->len, cap - hc->len, dgram ? MSG_TRUNC : 0);
		char what[HC_WHAT_MAX];
		int st = io_step(hc, n), r;

		if (st == 0)
			continue;
		if (st < 0)
			return;
		hc->len += MIN((size_t)n, cap - hc->len);
		hc->buf[hc->len] = '\0';
		what[0] = '\0';
		r = hc->ops->answer(hc->state, &hc->conf, hc->buf, &hc->len, !dgram && n == 0, what);
		if (r == HC_MORE && hc_more(hc, n, what))
			continue;
		hc_finish(hc, r == HC_MORE ? CHECK_FAIL : (enum check_result)r, what);
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
	if (hc->ops->dgram) {
		hc_read(hc);
		return;
	}
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
		if (!hc->ops->answer) {
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

/* The kind's per-check state, and its request made fresh if it asks. */
static void hc_prepare(struct hcheck *hc)
{
	const struct hc_ops *ops = hc->ops;
	uint64_t rnd;

	memset(hc->state + ops->keep_size, 0, ops->state_size - ops->keep_size);
	if (!ops->prepare)
		return;
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
		rnd = hc_rand(hc);
	ops->prepare(hc->state, &hc->conf, hc->req, hc->reqlen, rnd);
}

/* UDP: connected at once; the request goes out now. */
static int hc_send_dgram(struct hcheck *hc)
{
	ssize_t n;

	hc->connected = true;
	do
		n = send(hc->io.fd, hc->req, hc->reqlen, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		hc_fail_errno(hc, errno);
		return -1;
	}
	hc->sent = hc->reqlen;
	return 0;
}

static void hc_start(struct hcheck *hc)
{
	struct loop *l = hc->ht->loop;
	bool dgram = hc->ops->dgram;
	int fd = socket(addr_family(&hc->to), (dgram ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK |
			SOCK_CLOEXEC, 0);

	hc->started_ns = now_ns();
	hc->len = 0;
	hc->sent = 0;
	hc->buf[0] = '\0';
	hc->ignored[0] = '\0';
	hc->nignored = 0;
	hc_prepare(hc);
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
	if (dgram && hc_send_dgram(hc) != 0)
		return;
	if (loop_add(l, &hc->io, dgram ? EPOLLIN : EPOLLIN | EPOLLOUT | EPOLLRDHUP) != 0) {
		int e = errno;

		close(fd);
		hc->io.fd = -1;
		hc_fail_errno(hc, e ? e : ENOMEM);
		return;
	}
	timer_arm(l, &hc->timer, loop_now(l) + hc->conf.timeout_ms);
}

static void hc_timer(struct timer *t)
{
	struct hcheck *hc = container_of(t, struct hcheck, timer);

	if (hc->running) {
		char what[96];

		if (hc->ops->dgram)
			snprintf(what, sizeof(what), "no reply after %u ms%s%s%s", hc->conf.timeout_ms,
				 hc->ignored[0] ? " (ignored: " : "", hc->ignored,
				 hc->ignored[0] ? ")" : "");
		else
			snprintf(what, sizeof(what), "%s after %u ms",
				 hc->connected ? "no answer" : "connect timeout",
				 hc->conf.timeout_ms);
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
	uint32_t interval = hc->conf.interval_ms;

	/* the first check of each server comes at a random point of the
	 * first interval (at most 1 s away), so checks don't fire together */
	timer_arm(l, &hc->timer, loop_now(l) + hc->rng % (MIN(interval, 1000u) + 1));
}

static void hc_free(void *arg)
{
	struct hcheck *hc = arg;

	if (hc->ops->teardown)
		hc->ops->teardown(hc->state);
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

void health_kinds_register(void)
{
	static const struct hc_ops *const builtin[] = { &hc_tcp, &hc_http, &hc_agent, &hc_udp,
							&hc_dns };

	for (size_t i = 0; i < ARRAY_SIZE(builtin) && nkinds < HC_KINDS_MAX; i++) {
		if (builtin[i]->words && check_kind_register(builtin[i]->words) < 0)
			fatalx("%s: cannot register check kind %s", __func__, builtin[i]->name);
		kinds[nkinds++] = builtin[i];
	}
}

/* --- what active kinds share -------------------------------------------------- */

int hc_verdict(char *what, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, HC_WHAT_MAX, fmt, ap);
	va_end(ap);
	return r;
}

bool hc_active_want(const struct check_kind *words, const struct virtual_service *svc,
		    const struct real_server *rs, struct hc_conf *conf)
{
	const struct check_spec *c = rs->spec.check.kind == CHECK_INHERIT ? &svc->spec.check :
				     &rs->spec.check;

	if (check_kind_get(c->kind) != words)
		return false;
	hc_active_conf(conf, c);
	return true;
}

void hc_active_conf(struct hc_conf *conf, const struct check_spec *c)
{
	conf->port = c->port;
	conf->jitter_pct = c->jitter_pct;
	conf->interval_ms = c->interval_ms;
	conf->timeout_ms = c->timeout_ms;
	memcpy(conf->own.bytes, c, sizeof(*c));
}

uint32_t hc_active_done(struct real_server *rs, const struct hc_conf *conf,
			enum check_result r, const char *what, uint32_t us)
{
	const struct check_spec *c = hc_spec(conf);

	if (health_check_done(rs, c, r, what, us))
		return MIN(c->fast_interval_ms, c->interval_ms);
	return c->interval_ms;
}

void hc_active_forget(struct real_server *rs)
{
	struct rs_health *h = &health_rs(rs)->h;

	h->down = false;
	h->rise = h->fall = 0;
	h->check_last[0] = '\0';
	h->check_ms = 0;
}

static void hc_stop(struct hcheck *hc)
{
	if (loop_post(hc->ht->loop, hc_end, hc) != 0)
		fatalx("cannot stop a health check: out of memory");
}

static struct hcheck *hc_new(struct real_server *rs, const struct hc_ops *ops,
			     const struct hc_conf *conf)
{
	struct hcheck *hc = calloc(1, sizeof(*hc) + ops->state_size);

	if (!hc)
		return NULL;
	hc->io.fd = -1;
	hc->io.cb = hc_io;
	hc->timer.cb = hc_timer;
	hc->ops = ops;
	hc->conf = *conf;
	hc->to = rs->addr;
	if (conf->port)
		addr_set_port(&hc->to, conf->port);
	hc->rng = (now_ns() ^ (uintptr_t)hc) | 1;
	if (ops->request)
		hc->reqlen = ops->request(conf, &hc->to, hc->req, sizeof(hc->req));
	if (ops->setup && ops->setup(hc->state, conf) != 0) {
		free(hc);
		return NULL;
	}
	hc->ht = &threads[next_thread++ % nthreads];
	hc->rs = rs;
	rs_get(rs);
	return hc;
}

/* Keeps, replaces or creates the check in <slot> of one server. */
static void sync_slot(struct virtual_service *svc, struct real_server *rs, unsigned slot)
{
	struct hcheck *hc = health_rs(rs)->checks[slot];
	const struct hc_ops *ops = NULL;
	struct hc_conf conf;

	for (size_t i = 0; i < nkinds && !ops; i++) {
		memset(&conf, 0, sizeof(conf));
		if (kinds[i]->slot == slot && kinds[i]->want(svc, rs, &conf))
			ops = kinds[i];
	}
	if (hc && ops && hc->ops == ops && memcmp(&hc->conf, &conf, sizeof(conf)) == 0) {
		hc->seen = true;
		return;
	}
	health_rs(rs)->checks[slot] = NULL; /* an old one, if any, stays unseen: stopped */
	if (!ops)
		return;
	if (!(hc = hc_new(rs, ops, &conf))) {
		log_err("cannot start a health check: out of memory");
		return;
	}
	hc->seen = true;
	hc->next = all;
	all = hc;
	health_rs(rs)->checks[slot] = hc;
	if (loop_post(hc->ht->loop, hc_begin, hc) != 0)
		fatalx("cannot start a health check: out of memory");
}

static void sync_service(struct virtual_service *svc, struct virtual_service *owner,
			 const char *pool, void *arg)
{
	for (size_t i = 0; i < svc->nservers; i++)
		for (unsigned slot = 0; slot < HC_SLOTS; slot++)
			sync_slot(svc, svc->servers[i], slot);
}

/* A server lost its check (or agent): what it said no longer holds. */
static void forget_verdict(struct hcheck *hc)
{
	struct real_server *rs = hc->rs;
	struct virtual_service *svc = rs->svc;

	pthread_mutex_lock(&svc->lock);
	hc->ops->forget(rs);
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
		if (health_rs(hc->rs)->checks[hc->ops->slot] == hc) /* its server left the table */
			health_rs(hc->rs)->checks[hc->ops->slot] = NULL;
		else if (!health_rs(hc->rs)->checks[hc->ops->slot]) /* not replaced: no check now */
			forget_verdict(hc);
		hc_stop(hc);
	}
}

void health_shutdown(void)
{
	while (all) {
		struct hcheck *hc = all;

		all = hc->next;
		health_rs(hc->rs)->checks[hc->ops->slot] = NULL;
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
