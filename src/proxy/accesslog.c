/* accesslog.c - see accesslog.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "proxy/accesslog.h"
#include "proxy/pworker.h"

#define RETRY_OPEN_MS 1000   /* a path that did not open is tried again after this */

/* One file's buffer on one worker. <buf> holds whole lines only. */
struct alog_file {
	struct alog_file *next;
	char *path;              /* as configured; owned */
	int fd;                  /* -1: not open yet */
	bool own_fd;             /* <fd> is ours to close (not stderr) */
	bool chunked;            /* not a regular file: writes of at most PIPE_BUF */
	bool failing;            /* the last open or write failed (said once) */
	uint64_t retry_ms;       /* after a failed open: not tried again before */
	size_t len;
	char buf[ACCESSLOG_BUF];
};

/* A worker's access logs: pworker(w)->alog, made by the first line. */
struct accesslog {
	struct worker *w;
	struct alog_file *files;
	struct timer timer;      /* armed while a buffer holds lines */
};

static void file_failed(struct alog_file *f, const char *what, int err)
{
	if (!f->failing)
		log_warn("access log %s: %s: %s; its lines are dropped until it works", f->path,
			 what, strerror(err));
	f->failing = true;
}

static int file_open(struct alog_file *f, uint64_t now)
{
	struct stat st;

	if (strcmp(f->path, "stderr") == 0) {
		f->fd = STDERR_FILENO;
		f->own_fd = false;
	} else {
		if (now < f->retry_ms)
			return -EAGAIN;
		f->fd = open(f->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		if (f->fd < 0) {
			int err = errno;

			f->retry_ms = now + RETRY_OPEN_MS;
			file_failed(f, "open", err);
			return -err;
		}
		f->own_fd = true;
	}
	f->chunked = fstat(f->fd, &st) != 0 || !S_ISREG(st.st_mode);
	return 0;
}

/* How much of <p> (<n> bytes of whole lines) goes in one write of at most
 * <max> bytes: up to the last line end that fits (a line longer than
 * <max>, which weir never writes, is cut). */
static size_t piece(const char *p, size_t n, size_t max)
{
	const char *nl;

	if (n <= max)
		return n;
	nl = memrchr(p, '\n', max);
	return nl ? (size_t)(nl - p) + 1 : max;
}

static void file_flush(struct accesslog *al, struct alog_file *f)
{
	size_t off = 0;

	if (!f->len)
		return;
	if (f->fd < 0 && file_open(f, loop_now(al->w->loop)) != 0) {
		f->len = 0;
		return;
	}
	while (off < f->len) {
		size_t n = f->chunked ? piece(f->buf + off, f->len - off, PIPE_BUF) : f->len - off;
		ssize_t k = write(f->fd, f->buf + off, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			file_failed(f, "write", k < 0 ? errno : EIO);
			break;
		}
		f->failing = false;
		off += (size_t)k;
	}
	f->len = 0;
}

static void flush_all(struct accesslog *al)
{
	for (struct alog_file *f = al->files; f; f = f->next)
		file_flush(al, f);
}

static void timer_cb(struct timer *t)
{
	flush_all(container_of(t, struct accesslog, timer));
}

static struct accesslog *alog_of(struct worker *w)
{
	struct proxy_worker *pw = pworker(w);

	if (!pw->alog && (pw->alog = calloc(1, sizeof(*pw->alog)))) {
		pw->alog->w = w;
		pw->alog->timer.cb = timer_cb;
	}
	return pw->alog;
}

/* <path>'s buffer, made at its first line; NULL when out of memory. */
static struct alog_file *file_of(struct accesslog *al, const char *path)
{
	struct alog_file *f;

	for (f = al->files; f; f = f->next)
		if (strcmp(f->path, path) == 0)
			return f;
	f = malloc(sizeof(*f));
	if (!f)
		return NULL;
	f->path = strdup(path);
	if (!f->path) {
		free(f);
		return NULL;
	}
	f->fd = -1;
	f->own_fd = f->chunked = f->failing = false;
	f->retry_ms = 0;
	f->len = 0;
	f->next = al->files;
	al->files = f;
	return f;
}

void accesslog_put(struct worker *w, const char *path, const char *line, size_t len)
{
	struct accesslog *al = alog_of(w);
	struct alog_file *f = al ? file_of(al, path) : NULL;

	if (!f)
		return; /* out of memory: the line is lost, traffic goes on */
	/* opened now, not when written: a line logged before logrotate's
	 * rename goes to the renamed file, as it would unbuffered */
	if (f->fd < 0)
		file_open(f, loop_now(w->loop));
	len = MIN(len, (size_t)ACCESSLOG_BUF);
	if (f->len + len > ACCESSLOG_BUF)
		file_flush(al, f);
	memcpy(f->buf + f->len, line, len);
	f->len += len;
	if (!timer_armed(&al->timer))
		timer_arm(w->loop, &al->timer, loop_now(w->loop) + ACCESSLOG_FLUSH_MS);
}

void accesslog_flush(struct worker *w)
{
	struct accesslog *al = pworker(w)->alog;

	if (al)
		flush_all(al);
}

void accesslog_reopen(struct worker *w)
{
	struct accesslog *al = pworker(w)->alog;

	if (!al)
		return;
	flush_all(al);
	timer_cancel(w->loop, &al->timer);
	while (al->files) {
		struct alog_file *f = al->files;

		al->files = f->next;
		if (f->own_fd)
			close(f->fd);
		free(f->path);
		free(f);
	}
}

void accesslog_fini(struct worker *w)
{
	struct proxy_worker *pw = pworker(w);

	accesslog_reopen(w);
	free(pw->alog);
	pw->alog = NULL;
}

static void reopen_posted(void *arg)
{
	struct worker *w = arg;

	/* a task the worker never ran is run at loop_free(), after its end */
	if (w->exited || !w->proxy_priv)
		return;
	accesslog_reopen(w);
}

void accesslog_reopen_all(void)
{
	for (int i = 0; i < nworkers; i++)
		if (loop_post(workers[i].loop, reopen_posted, &workers[i]) != 0)
			log_warn("access logs: worker %d cannot reopen its files (out of memory)", i);
}
