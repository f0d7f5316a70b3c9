/*
 * admin.h - the admin socket: a unix stream socket (mode 0600) on which
 * weirctl sends one request and reads one answer (see ctl/exec.h and
 * docs/admin-protocol.md). Runs on the control thread's loop.
 */
#ifndef WEIR_ADMIN_H
#define WEIR_ADMIN_H

#include "core/loop.h"
#include "ctl/exec.h"

#define ADMIN_DEFAULT_SOCKET "/run/weir/weir.sock"
#define ADMIN_MAX_REQUEST (1u << 20)
#define ADMIN_MAX_CLIENTS 32
#define ADMIN_TIMEOUT_MS 10000

struct admin;

/* What an admin server speaks: when a request is complete and what to
 * answer. The same client handling (limits, timeout, non-blocking writes)
 * serves the unix socket and the metrics listener (ctl/metrics_http.c). */
struct admin_proto {
	size_t max_request;
	/* NULL: the request ends when the client shuts down its writing side */
	bool (*complete)(const struct buf *in);
	/* <in> is NULL when the request was larger than max_request */
	void (*answer)(struct ctl_ctx *ctx, struct buf *in, struct buf *out);
	const char *busy;   /* sent when ADMIN_MAX_CLIENTS are connected */
};

/* Listens on <path>, creating its directory if missing. A stale socket is
 * replaced; a live one (another weir) is an error. Returns NULL with a
 * message in <err> (256 bytes). */
struct admin *admin_open(struct loop *l, const char *path, struct ctl_ctx *ctx, char *err);
/* Listens on a TCP address with <proto>. NULL with a message in <err>. */
struct admin *admin_open_tcp(struct loop *l, const struct weir_addr *addr,
			     const struct admin_proto *proto, struct ctl_ctx *ctx, char *err);
/* Closes the socket, every client, and unlinks the path. */
void admin_close(struct admin *a);

#endif
