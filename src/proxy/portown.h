/*
 * portown.h - who holds a port: the sockets bound to an address that
 * overlaps a listening address (sock_diag, NETLINK_SOCK_DIAG), the
 * processes owning them (weir's listening uid names a weir and its pid,
 * see lsock.h; else /proc/PID/fd), and what is built on that: the reason a
 * bind failed, the check after bind when weir has no uid of its own, and
 * the port check of `weir -t`.
 *
 * Only TCP sockets in LISTEN and UDP sockets are looked at; a holder that
 * cannot be named (another user's process, seen by a non-root weir) is
 * "another process". Everything here runs on the control thread (or in
 * weir -t), never on a worker: it reads /proc and may take milliseconds.
 */
#ifndef WEIR_PORTOWN_H
#define WEIR_PORTOWN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "core/addr.h"

struct weir_config;

#define PORT_MAX_HOLDERS 16

struct port_holder {
	struct weir_addr addr;    /* where it is bound */
	uint32_t uid;             /* the socket's uid (sk_uid) */
	uint64_t inode;           /* the socket's inode: socket:[inode] in /proc/PID/fd */
	bool v6only;
	pid_t pid;                /* its process; 0 = not found */
	char comm[16];            /* the process's name, "" if unknown */
	bool weir;                /* a weir daemon (weir's uid, or its name) */
};

/* Fills out[0..max-1] with the sockets of <proto> (IPPROTO_TCP, _UDP)
 * whose bound address overlaps <a> (same port; same address, or either a
 * wildcard), with their processes. Returns how many, or -errno when the
 * kernel cannot be asked. */
int port_holders(const struct weir_addr *a, int proto, struct port_holder *out, int max);

/* The reason a bind of <a> failed with errno <errnum>, into <why> (<size>):
 * "address already in use by another process (python3, pid 812)". Returns
 * <why>. */
const char *port_why(const struct weir_addr *a, int proto, int errnum, char *why, size_t size);

/* The whole message for a listener other than a service's:
 * "<what> ADDR: <port_why>" into <err> (<size>). */
void port_error(char *err, size_t size, const char *what, const struct weir_addr *a,
		int proto, int errnum);

/* After this process bound <a>: 0 if every socket overlapping it is this
 * process's, else -EADDRINUSE with the reason in <why> (<size>). A kernel
 * that cannot be asked lets it pass. */
int port_check_mine(const struct weir_addr *a, int proto, char *why, size_t size);

/* weir -t: for every listening address of <cfg> (proxy services, the
 * metrics listener) held by another program, prints "<path>:LINE: ..." to
 * <out> and counts it as an error. A port held by a running weir is not an
 * error: silent if that weir was started with the same file (checking
 * before a reload), else a note on <out> that a second daemon could not
 * bind it. Returns the number of errors. */
int port_check_config(const struct weir_config *cfg, const char *path, FILE *out);

/* Pure helpers, exposed for the fuzzer and the unit tests. */

/* Reads the sock_diag answer in buf[0..len) (any alignment), appending
 * the sockets overlapping <a> to out[*n..max). Returns 1 at NLMSG_DONE, 0
 * if more is to come, -errno for an error answer or a malformed one. */
int portown_parse_diag(const void *buf, size_t len, const struct weir_addr *a,
		       struct port_holder *out, int max, int *n);

/* The config file a weir command line (argv joined by NULs, as in
 * /proc/PID/cmdline) names with -c FILE, -cFILE, --config FILE or
 * --config=FILE, into <out>. Returns 0, or -ENOENT when none. */
int portown_cmdline_config(const char *argv, size_t len, char *out, size_t size);

#endif
