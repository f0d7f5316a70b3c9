/*
 * lsock.h - the sockets weir's workers listen on, stream and datagram
 * alike: creation, the options they share, bind, and the rule that nobody
 * else may share their port.
 *
 * Each worker has its own socket per listening address, all in one
 * SO_REUSEPORT group: the kernel spreads clients over them. Linux lets a
 * socket join such a group only if both were created under the same uid
 * (sk_uid: the fsuid of the thread that called socket(); checked in
 * inet_csk_bind_conflict for TCP, udp_lib_lport_inuse for UDP). weir
 * creates its listening sockets under a uid of its own, LSOCK_UID_BASE +
 * its pid, by switching the calling thread's fsuid around socket(): then
 * any other program, or another weir, that binds an overlapping address
 * fails with EADDRINUSE, whichever starts first. The switch needs
 * CAP_SETUID. Without it (weir not root) the sockets are created under
 * weir's own uid and the port is checked after bind (portown.h): a holder
 * already there is found and the bind refused, but a program of the same
 * user that binds with SO_REUSEPORT after weir is not seen.
 *
 * The uid shows in `ss -e` and is what uid-based rules (ip rule uidrange,
 * iptables -m owner) see of what a listening socket itself sends: SYN-ACKs,
 * datagram replies. Accepted connections take weir's own uid (the kernel
 * sets it when accept() gives them a file).
 *
 * Datagram sockets never get SO_REUSEADDR: two UDP sockets that both have
 * it share a port whatever their uids.
 *
 * Thread rules: any thread; the fsuid switch affects the calling thread
 * only, for the duration of one socket() call.
 */
#ifndef WEIR_LSOCK_H
#define WEIR_LSOCK_H

#include <stdbool.h>
#include <sys/types.h>

#include "core/addr.h"

/* weir's listening uids: LSOCK_UID_BASE + pid. The range above systemd's
 * container uids (up to 0x6fffffff) that nothing allocates. */
#define LSOCK_UID_BASE 0x70000000u
#define LSOCK_UID_SPAN 0x00400000u /* pid_max can be at most 2^22 */

/* Room for a reason written by the functions below. */
#define LSOCK_WHY_MAX 200

/* True if weir's listening sockets get their own uid (see above); decided
 * once per process. *<uid> gets the uid its sockets carry. */
bool lsock_own_uid(uid_t *uid);

/* Opens <n> sockets of <type> (SOCK_STREAM or SOCK_DGRAM) bound to <a>,
 * one SO_REUSEPORT group: fds[0..n-1]. Stream sockets get SO_REUSEADDR
 * and TCP_NODELAY (accepted connections inherit it); datagram sockets
 * IP_PKTINFO / IPV6_RECVPKTINFO; IPv6 ones IPV6_V6ONLY. Not listening yet.
 * Returns 0, or -errno with the reason in <why> (LSOCK_WHY_MAX) and no
 * socket left open. */
int lsock_open_group(const struct weir_addr *a, int type, int n, int *fds, char *why);

/* Closes fds[0..n-1] that are >= 0 and sets them to -1. */
void lsock_close_group(int *fds, int n);
/* Asks for a receive buffer of <bytes> on <fd>: beyond net.core.rmem_max
 * when weir may (CAP_NET_ADMIN), else up to it. Best effort. */
void lsock_rcvbuf(int fd, int bytes);

#endif
