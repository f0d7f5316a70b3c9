/*
 * conns.h - the proxies' sessions as lines of the connection table
 * (weirctl -L -c).
 *
 * The sessions live on the workers, which alone may touch them; the
 * listing runs on the control thread. Rather than a lock on every
 * session's start and end (the request path), the lister asks: it posts
 * a snapshot task to every worker's loop, each worker walks its own
 * session list (struct session_link, pworker.h) between two batches of
 * events and appends each session's describe() line to a shared result
 * under the result's mutex, and the lister waits for all of them (at most
 * PROXY_CONNS_WAIT_MS: a busy worker answers late, it is then left out).
 * The result is reference-counted, so a worker that answers after the
 * lister gave up writes into a result nobody reads and the last one out
 * frees it. The cost on the request path is nothing but the describe
 * pointer each session sets when it starts.
 */
#ifndef WEIR_PROXY_CONNS_H
#define WEIR_PROXY_CONNS_H

#include "core/conns.h"

#define PROXY_CONNS_WAIT_MS 2000

/* Appends every open proxy session of every worker to <out>. Control
 * thread; blocks until the workers answered. Returns 0, -ENOMEM, or
 * -ETIMEDOUT when a worker did not answer in time (<out> then holds the
 * others'). */
int proxy_conns(struct conn_list *out);

#endif
