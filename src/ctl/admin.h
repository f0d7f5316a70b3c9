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

/* Listens on <path>, creating its directory if missing. A stale socket is
 * replaced; a live one (another weir) is an error. Returns NULL with a
 * message in <err> (256 bytes). */
struct admin *admin_open(struct loop *l, const char *path, struct ctl_ctx *ctx, char *err);
/* Closes the socket, every client, and unlinks the path. */
void admin_close(struct admin *a);

#endif
