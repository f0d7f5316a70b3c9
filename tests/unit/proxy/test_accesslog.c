/* Tests for proxy/accesslog.c: lines buffered per worker and written out
 * whole by size, by the timer, on flush, reopen (logrotate) and the
 * worker's end; several workers on one file. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "proxy/accesslog.h"
#include "proxy/pworker.h"
#include "unit.h"

struct fake_worker {
	struct worker w;
	struct proxy_worker pw;
};

static void fw_init(struct fake_worker *f)
{
	memset(f, 0, sizeof(*f));
	f->w.loop = loop_new();
	f->w.proxy_priv = &f->pw;
}

static void fw_fini(struct fake_worker *f)
{
	accesslog_fini(&f->w);
	loop_free(f->w.loop);
}

static char dir[64];

static const char *tmp_path(const char *name)
{
	static char p[128];

	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/weir-test-alog-XXXXXX");
		if (!mkdtemp(dir))
			return NULL;
	}
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	unlink(p);
	return p;
}

/* The file's size; -1 when there is none. */
static long fsize(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* Lines of <path>; each must be "w<worker> <n> ..." and whole. */
static int count_lines(const char *path, int *broken)
{
	FILE *f = fopen(path, "r");
	char line[512];
	int n = 0;

	*broken = 0;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);
		int a, b;

		if (len == 0 || line[len - 1] != '\n' || sscanf(line, "w%d %d ", &a, &b) != 2 ||
		    len != 80)
			(*broken)++;
		n++;
	}
	fclose(f);
	return n;
}

/* A line of 80 bytes, as the HTTP proxy's are of the same order. */
static size_t make_line(char *buf, int worker, int n)
{
	int k = snprintf(buf, 81, "w%d %d ", worker, n);

	memset(buf + k, 'x', (size_t)(79 - k));
	buf[79] = '\n';
	return 80;
}

TEST(accesslog_buffers_until_flush)
{
	struct fake_worker f;
	const char *path = tmp_path("a.log");
	char line[81];
	int broken;

	REQUIRE(path);
	fw_init(&f);
	for (int i = 0; i < 100; i++)
		accesslog_put(&f.w, path, line, make_line(line, 0, i));
	CHECK_EQ(fsize(path), 0);          /* opened by the first line, nothing written */
	accesslog_flush(&f.w);
	CHECK_EQ(count_lines(path, &broken), 100);
	CHECK_EQ(broken, 0);
	accesslog_flush(&f.w);             /* nothing more */
	CHECK_EQ(fsize(path), 8000);
	fw_fini(&f);
}

TEST(accesslog_writes_when_the_buffer_is_full)
{
	struct fake_worker f;
	const char *path = tmp_path("b.log");
	int per_buf = ACCESSLOG_BUF / 80, broken;
	char line[81];

	REQUIRE(path);
	fw_init(&f);
	for (int i = 0; i < per_buf; i++)
		accesslog_put(&f.w, path, line, make_line(line, 0, i));
	CHECK_EQ(fsize(path), 0);
	accesslog_put(&f.w, path, line, make_line(line, 0, per_buf)); /* does not fit */
	CHECK_EQ(fsize(path), (long)per_buf * 80);
	CHECK_EQ(count_lines(path, &broken), per_buf);
	CHECK_EQ(broken, 0);
	fw_fini(&f);                       /* the worker's end writes the rest */
	CHECK_EQ(fsize(path), (long)(per_buf + 1) * 80);
}

struct stopper {
	struct timer t;
	struct loop *l;
};

static void stop_cb(struct timer *t)
{
	loop_stop(container_of(t, struct stopper, t)->l);
}

TEST(accesslog_timer_writes_within_a_second)
{
	struct fake_worker f;
	const char *path = tmp_path("c.log");
	struct stopper stop = { .t.cb = stop_cb };
	uint64_t t0;
	char line[81];

	REQUIRE(path);
	fw_init(&f);
	stop.l = f.w.loop;
	accesslog_put(&f.w, path, line, make_line(line, 0, 1));
	t0 = loop_now(f.w.loop);
	timer_arm(f.w.loop, &stop.t, t0 + ACCESSLOG_FLUSH_MS + 100);
	loop_run(f.w.loop);
	CHECK_EQ(fsize(path), 80);
	fw_fini(&f);
}

TEST(accesslog_reopen_follows_a_renamed_file)
{
	struct fake_worker f;
	const char *path = tmp_path("d.log");
	char old[160], line[81];
	int broken;

	REQUIRE(path);
	snprintf(old, sizeof(old), "%s.1", path);
	unlink(old);
	fw_init(&f);
	for (int i = 0; i < 3; i++)
		accesslog_put(&f.w, path, line, make_line(line, 0, i));
	CHECK_EQ(fsize(path), 0);
	accesslog_put(&f.w, path, line, make_line(line, 0, 3)); /* all buffered */
	REQUIRE(rename(path, old) == 0);   /* logrotate */
	accesslog_reopen(&f.w);            /* SIGHUP */
	CHECK_EQ(count_lines(old, &broken), 4); /* the lines from before went to the old file */
	CHECK_EQ(fsize(path), -1);
	accesslog_put(&f.w, path, line, make_line(line, 0, 4));
	accesslog_flush(&f.w);
	CHECK_EQ(count_lines(path, &broken), 1);
	CHECK_EQ(count_lines(old, &broken), 4);
	fw_fini(&f);
	unlink(old);
}

TEST(accesslog_unwritable_path_drops_lines_not_the_caller)
{
	struct fake_worker f;
	char line[81];

	fw_init(&f);
	accesslog_put(&f.w, "/nonexistent-dir/weir.log", line, make_line(line, 0, 1));
	accesslog_flush(&f.w);
	accesslog_put(&f.w, "/nonexistent-dir/weir.log", line, make_line(line, 0, 2));
	accesslog_flush(&f.w);
	fw_fini(&f);
}

#define THREAD_LINES 20000

struct writer {
	int id;
	const char *path;
};

static void *writer_main(void *arg)
{
	struct writer *wr = arg;
	struct fake_worker f;
	char line[81];

	fw_init(&f);
	for (int i = 0; i < THREAD_LINES; i++) {
		accesslog_put(&f.w, wr->path, line, make_line(line, wr->id, i));
		if (i % 1000 == 999)
			accesslog_flush(&f.w);
	}
	fw_fini(&f);
	return NULL;
}

TEST(accesslog_workers_never_mix_lines)
{
	const char *path = tmp_path("e.log");
	struct writer wr[4];
	pthread_t t[4];
	int broken;

	REQUIRE(path);
	for (int i = 0; i < 4; i++) {
		wr[i] = (struct writer){ i, path };
		REQUIRE(pthread_create(&t[i], NULL, writer_main, &wr[i]) == 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	CHECK_EQ(count_lines(path, &broken), 4 * THREAD_LINES);
	CHECK_EQ(broken, 0);
}
