/*
 * accesslog.h - access logs, per worker and buffered (the HTTP proxy's
 * `access_log stderr|PATH`; the line itself is the caller's).
 *
 * A line goes into the calling worker's buffer for its file: no lock and
 * no system call per line. A buffer is written out, whole lines in one
 * write(), when the next line would not fit (ACCESSLOG_BUF), a second
 * after it took its first line (a timer of the worker's loop), when the
 * worker ends (a clean stop, the grace time over), and on a reload, when
 * the files are also closed, to be opened again by their next line. A
 * file is opened by its first line (once per worker and reload), so with
 * logrotate (rename, then SIGHUP) the lines from before the SIGHUP are in
 * the renamed file, those after it in a new one at the path. Nothing is
 * lost but what a full disk or an unwritable path refuses (said once in
 * weir's log).
 *
 * Several workers appending to one file each have their own O_APPEND fd
 * and write whole lines: their lines never mix. To a pipe or terminal
 * (stderr, where weir's own log goes too), writes are cut at line ends to
 * at most PIPE_BUF bytes, which the kernel writes in one piece.
 *
 * All on the worker's thread (its state hangs off its proxy_worker), but
 * accesslog_reopen_all(), for the control thread.
 */
#ifndef WEIR_PROXY_ACCESSLOG_H
#define WEIR_PROXY_ACCESSLOG_H

#include <stddef.h>

#include "core/worker.h"

#define ACCESSLOG_BUF (64u << 10)     /* bytes buffered per file and worker */
#define ACCESSLOG_FLUSH_MS 1000       /* a line waits at most this long */

/* Appends <line> (<len> bytes, ending in '\n') to access log <path>
 * ("stderr" or a file path) on worker <w>. */
void accesslog_put(struct worker *w, const char *path, const char *line, size_t len);
/* Writes out what <w> holds for every file. */
void accesslog_flush(struct worker *w);
/* accesslog_flush(), then closes the files: the next line opens its file
 * again (a reload). */
void accesslog_reopen(struct worker *w);
/* accesslog_reopen() and frees <w>'s state: the worker ends. */
void accesslog_fini(struct worker *w);
/* Control thread: every worker reopens its files (posted to its loop). */
void accesslog_reopen_all(void);

#endif
