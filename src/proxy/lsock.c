/* lsock.c - see lsock.h. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "proxy/lsock.h"
#include "proxy/portown.h"

static pthread_once_t uid_once = PTHREAD_ONCE_INIT;
static bool uid_own;
static uid_t uid_mine;

/* Runs socket() with the calling thread's fsuid set to <uid>; -EPERM if
 * the switch did not happen (setfsuid() returns the previous fsuid whether
 * it succeeded or not: the call that switches back tells). A change of
 * fsuid makes the kernel reset the process's dumpable flag (to
 * fs.suid_dumpable, usually 0: no core dumps, no ptrace by the same user,
 * which LeakSanitizer needs) and the thread's parent-death signal: both are
 * put back. */
static int socket_as(uid_t uid, int family, int type)
{
	int dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), pdeath = 0, fd, e;
	uid_t prev, was;

	prctl(PR_GET_PDEATHSIG, &pdeath, 0, 0, 0);
	prev = (uid_t)setfsuid(uid);
	fd = socket(family, type, 0);
	e = errno;
	was = (uid_t)setfsuid(prev);
	if (dumpable >= 0 && prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != dumpable)
		prctl(PR_SET_DUMPABLE, dumpable, 0, 0, 0);
	if (pdeath)
		prctl(PR_SET_PDEATHSIG, pdeath, 0, 0, 0);
	if (was != uid || (uid_t)setfsuid((uid_t)-1) != prev) {
		if (fd >= 0)
			close(fd);
		return -EPERM;
	}
	errno = e;
	return fd < 0 ? -e : fd;
}

static void uid_probe(void)
{
	uid_t want = LSOCK_UID_BASE + (uid_t)getpid() % LSOCK_UID_SPAN;
	int fd = socket_as(want, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC);

	if (fd >= 0) {
		close(fd);
		uid_own = true;
		uid_mine = want;
		return;
	}
	uid_mine = geteuid();
	log_warn("cannot create listening sockets under a uid of weir's own (needs CAP_SETUID): "
		 "ports are checked when bound, but a program of uid %u that binds one with "
		 "SO_REUSEPORT later would share it", (unsigned)uid_mine);
}

bool lsock_own_uid(uid_t *uid)
{
	pthread_once(&uid_once, uid_probe);
	if (uid)
		*uid = uid_mine;
	return uid_own;
}

/* A socket with the options its group shares, not bound. */
static int open_one(const struct weir_addr *a, int type)
{
	int one = 1, family = addr_family(a), fd;
	int flags = type | SOCK_NONBLOCK | SOCK_CLOEXEC;

	if (lsock_own_uid(NULL))
		fd = socket_as(uid_mine, family, flags);
	else if ((fd = socket(family, flags, 0)) < 0)
		fd = -errno;
	if (fd < 0)
		return fd;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0)
		goto out_close;
	if (family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0)
		goto out_close;
	if (type == SOCK_STREAM) {
		/* TIME_WAIT leftovers of a previous run must not block a restart */
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		/* accepted connections inherit TCP_NODELAY: no setsockopt per accept */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	} else if (family == AF_INET) {
		if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) != 0)
			goto out_close;
	} else if (setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)) != 0) {
		goto out_close;
	}
	return fd;

out_close:
	one = errno;
	close(fd);
	return -one;
}

void lsock_close_group(int *fds, int n)
{
	for (int i = 0; i < n; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

int lsock_open_group(const struct weir_addr *a, int type, int n, int *fds, char *why)
{
	int proto = type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP, rc = 0;

	for (int i = 0; i < n; i++)
		fds[i] = -1;
	for (int i = 0; i < n && rc == 0; i++) {
		if ((fds[i] = open_one(a, type)) < 0) {
			rc = fds[i];
			fds[i] = -1;
			snprintf(why, LSOCK_WHY_MAX, "cannot create a socket: %s", strerror(-rc));
		} else if (bind(fds[i], &a->u.sa, addr_len(a)) != 0) {
			rc = -errno;
			port_why(a, proto, -rc, why, LSOCK_WHY_MAX);
		}
	}
	/* The kernel keeps everyone else out when the uid is ours; otherwise
	 * look at who else is there now that the port is taken. */
	if (rc == 0 && !lsock_own_uid(NULL))
		rc = port_check_mine(a, proto, why, LSOCK_WHY_MAX);
	if (rc)
		lsock_close_group(fds, n);
	return rc;
}

void lsock_rcvbuf(int fd, int bytes)
{
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) != 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
}
