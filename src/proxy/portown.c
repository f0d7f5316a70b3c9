/* portown.c - see portown.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/spec.h"
#include "proxy/lsock.h"
#include "proxy/portown.h"

#define DIAG_BUF 32768

/* --- which sockets: sock_diag ----------------------------------------------- */

static bool is_any(const struct weir_addr *a)
{
	static const struct in6_addr any6;

	if (addr_family(a) == AF_INET)
		return a->u.in.sin_addr.s_addr == htonl(INADDR_ANY);
	return memcmp(&a->u.in6.sin6_addr, &any6, sizeof(any6)) == 0;
}

/* <a> (v4 or v6, the address weir binds) and the bound socket <h> would
 * take the same datagrams or connections. A v6 <h> on :: takes v4 too
 * unless it is v6-only; weir's own v6 sockets always are. */
static bool overlaps(const struct weir_addr *a, const struct port_holder *h)
{
	struct weir_addr hv = h->addr;

	if (addr_family(&hv) == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&hv.u.in6.sin6_addr)) {
		struct sockaddr_in in = { .sin_family = AF_INET };

		memcpy(&in.sin_addr, &hv.u.in6.sin6_addr.s6_addr[12], 4);
		memset(&hv, 0, sizeof(hv));
		hv.u.in = in;
	}
	if (addr_family(a) != addr_family(&hv))
		return addr_family(a) == AF_INET && is_any(&hv) && !h->v6only;
	if (is_any(a) || is_any(&hv))
		return true;
	if (addr_family(a) == AF_INET)
		return a->u.in.sin_addr.s_addr == hv.u.in.sin_addr.s_addr;
	return memcmp(&a->u.in6.sin6_addr, &hv.u.in6.sin6_addr, 16) == 0;
}

/* One inet_diag_msg of <len> bytes at <p> (unaligned). */
static void parse_one(const uint8_t *p, size_t len, const struct weir_addr *a,
		      struct port_holder *out, int max, int *n)
{
	struct inet_diag_msg m;
	struct port_holder h = { .pid = 0 };
	size_t off = NLMSG_ALIGN(sizeof(m));

	if (len < sizeof(m))
		return;
	memcpy(&m, p, sizeof(m));
	if (ntohs(m.id.idiag_sport) != addr_port(a))
		return;
	if (m.idiag_family == AF_INET) {
		h.addr.u.in.sin_family = AF_INET;
		memcpy(&h.addr.u.in.sin_addr, m.id.idiag_src, 4);
		h.addr.u.in.sin_port = m.id.idiag_sport;
	} else if (m.idiag_family == AF_INET6) {
		h.addr.u.in6.sin6_family = AF_INET6;
		memcpy(&h.addr.u.in6.sin6_addr, m.id.idiag_src, 16);
		h.addr.u.in6.sin6_port = m.id.idiag_sport;
	} else {
		return;
	}
	while (off + sizeof(struct rtattr) <= len) {
		struct rtattr rta;

		memcpy(&rta, p + off, sizeof(rta));
		if (rta.rta_len < sizeof(rta) || rta.rta_len > len - off)
			break;
		if (rta.rta_type == INET_DIAG_SKV6ONLY && rta.rta_len > sizeof(rta))
			h.v6only = p[off + RTA_LENGTH(0)] != 0;
		off += RTA_ALIGN(rta.rta_len);
	}
	h.uid = m.idiag_uid;
	h.inode = m.idiag_inode;
	if (*n < max && overlaps(a, &h))
		out[(*n)++] = h;
}

int portown_parse_diag(const void *buf, size_t len, const struct weir_addr *a,
		       struct port_holder *out, int max, int *n)
{
	const uint8_t *p = buf;

	while (len >= sizeof(struct nlmsghdr)) {
		struct nlmsghdr nh;

		memcpy(&nh, p, sizeof(nh));
		if (nh.nlmsg_len < sizeof(nh) || nh.nlmsg_len > len)
			return -EBADMSG;
		if (nh.nlmsg_type == NLMSG_DONE)
			return 1;
		if (nh.nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr e;

			if (nh.nlmsg_len < NLMSG_LENGTH(sizeof(e)))
				return -EBADMSG;
			memcpy(&e, p + NLMSG_HDRLEN, sizeof(e));
			return e.error < 0 && e.error > -4096 ? e.error : -EBADMSG;
		}
		if (nh.nlmsg_type == SOCK_DIAG_BY_FAMILY && nh.nlmsg_len >= NLMSG_HDRLEN)
			parse_one(p + NLMSG_HDRLEN, nh.nlmsg_len - NLMSG_HDRLEN, a, out, max, n);
		if (NLMSG_ALIGN(nh.nlmsg_len) >= len)
			break;
		p += NLMSG_ALIGN(nh.nlmsg_len);
		len -= NLMSG_ALIGN(nh.nlmsg_len);
	}
	return 0;
}

/* Asks for the <proto> sockets of <family>; TCP ones in LISTEN only. */
static int diag_dump(int family, int proto, const struct weir_addr *a,
		     struct port_holder *out, int max, int *n)
{
	struct {
		struct nlmsghdr nh;
		struct inet_diag_req_v2 req;
	} q = {
		.nh = { .nlmsg_len = sizeof(q), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1 },
		.req = { .sdiag_family = (uint8_t)family, .sdiag_protocol = (uint8_t)proto,
			 .idiag_states = proto == IPPROTO_TCP ? 1u << TCP_LISTEN : ~0u },
	};
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	char *buf = malloc(DIAG_BUF);
	int fd, rc = 0;

	if (!buf)
		return -ENOMEM;
	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0 || sendto(fd, &q, sizeof(q), 0, (struct sockaddr *)&kernel,
			     sizeof(kernel)) != (ssize_t)sizeof(q))
		rc = -errno;
	while (rc == 0) {
		ssize_t got = recv(fd, buf, DIAG_BUF, 0);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			rc = got < 0 ? -errno : -EBADMSG;
			break;
		}
		rc = portown_parse_diag(buf, (size_t)got, a, out, max, n);
	}
	if (fd >= 0)
		close(fd);
	free(buf);
	return rc < 0 ? rc : 0;
}

/* --- whose sockets: /proc -------------------------------------------------- */

static void read_comm(pid_t pid, char comm[16])
{
	char path[64];
	ssize_t got;
	int fd;

	comm[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	got = read(fd, comm, 15);
	close(fd);
	comm[got > 0 ? got : 0] = '\0';
	comm[strcspn(comm, "\n")] = '\0';
}

/* Finds in /proc/<pid>/fd the holders not yet owned; true if any found. */
static bool scan_fds(pid_t pid, struct port_holder *h, int n)
{
	char path[64], link[64];
	struct dirent *de;
	bool found = false;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	if (!(d = opendir(path)))
		return false;
	while ((de = readdir(d))) {
		unsigned long long ino;
		ssize_t len;

		snprintf(path, sizeof(path), "/proc/%d/fd/%.20s", (int)pid, de->d_name);
		if ((len = readlink(path, link, sizeof(link) - 1)) <= 0)
			continue;
		link[len] = '\0';
		if (sscanf(link, "socket:[%llu]", &ino) != 1)
			continue;
		for (int i = 0; i < n; i++)
			if (!h[i].pid && h[i].inode == ino) {
				h[i].pid = pid;
				found = true;
			}
	}
	closedir(d);
	return found;
}

/* Names the processes of h[0..n). weir's uid says which weir; the others
 * are looked for in /proc (all of it, or only <only> when not 0). */
static void find_owners(struct port_holder *h, int n, pid_t only)
{
	int unknown = 0;

	for (int i = 0; i < n; i++) {
		if (h[i].uid >= LSOCK_UID_BASE && h[i].uid < LSOCK_UID_BASE + LSOCK_UID_SPAN) {
			h[i].pid = (pid_t)(h[i].uid - LSOCK_UID_BASE);
			h[i].weir = true;
		} else {
			unknown++;
		}
	}
	if (unknown && only) {
		scan_fds(only, h, n);
	} else if (unknown) {
		DIR *d = opendir("/proc");
		struct dirent *de;

		while (d && (de = readdir(d))) {
			char *end;
			long pid = strtol(de->d_name, &end, 10);

			if (*end == '\0' && pid > 0 && pid <= INT_MAX)
				scan_fds((pid_t)pid, h, n);
		}
		if (d)
			closedir(d);
	}
	for (int i = 0; i < n; i++) {
		if (h[i].pid)
			read_comm(h[i].pid, h[i].comm);
		if (strcmp(h[i].comm, "weir") == 0)
			h[i].weir = true;
	}
}

static int holders(const struct weir_addr *a, int proto, struct port_holder *out, int max,
		   pid_t only)
{
	int n = 0, rc;

	/* a dual-stack v6 socket on :: holds v4 ports too */
	if ((rc = diag_dump(AF_INET, proto, a, out, max, &n)) != 0 ||
	    (rc = diag_dump(AF_INET6, proto, a, out, max, &n)) != 0)
		return rc;
	find_owners(out, n, only);
	return n;
}

int port_holders(const struct weir_addr *a, int proto, struct port_holder *out, int max)
{
	return holders(a, proto, out, max, 0);
}

/* --- what to say ------------------------------------------------------------- */

static void describe(const struct port_holder *h, int n, char *why, size_t size)
{
	if (n > 0 && h->pid && h->comm[0])
		snprintf(why, size, "address already in use by another process (%s, pid %d)",
			 h->comm, (int)h->pid);
	else if (n > 0 && h->pid)
		snprintf(why, size, "address already in use by another process (pid %d)",
			 (int)h->pid);
	else
		snprintf(why, size, "address already in use by another process");
}

const char *port_why(const struct weir_addr *a, int proto, int errnum, char *why, size_t size)
{
	struct port_holder h[PORT_MAX_HOLDERS];
	pid_t self = getpid();
	int n;

	if (errnum != EADDRINUSE) {
		snprintf(why, size, "cannot listen: %s", strerror(errnum));
		return why;
	}
	n = port_holders(a, proto, h, PORT_MAX_HOLDERS);
	/* name someone else than this process, if the kernel lists it */
	for (int i = 0; i < n; i++)
		if (h[i].pid != self) {
			describe(&h[i], 1, why, size);
			return why;
		}
	if (n > 0) /* e.g. the metrics listener moved to an overlapping address */
		snprintf(why, size, "address already in use by another listener of this weir");
	else
		describe(h, 0, why, size);
	return why;
}

void port_error(char *err, size_t size, const char *what, const struct weir_addr *a,
		int proto, int errnum)
{
	char s[ADDR_STRLEN], why[LSOCK_WHY_MAX];

	snprintf(err, size, "%s %s: %s", what, addr_str(a, s),
		 port_why(a, proto, errnum, why, sizeof(why)));
}

int port_check_mine(const struct weir_addr *a, int proto, char *why, size_t size)
{
	struct port_holder h[PORT_MAX_HOLDERS];
	pid_t self = getpid();
	int n = holders(a, proto, h, PORT_MAX_HOLDERS, self);

	for (int i = 0; i < n; i++)
		if (h[i].pid != self) {
			/* not in our fds: find whose it is for the message */
			find_owners(&h[i], 1, 0);
			describe(&h[i], 1, why, size);
			return -EADDRINUSE;
		}
	return 0;
}

/* --- weir -t ----------------------------------------------------------------- */

int portown_cmdline_config(const char *argv, size_t len, char *out, size_t size)
{
	const char *end = argv + len, *p = argv;
	bool first = true;

	while (p < end) {
		const char *arg = p, *nul = memchr(p, '\0', (size_t)(end - p));
		size_t alen = nul ? (size_t)(nul - p) : (size_t)(end - p);
		const char *val = NULL, *next = arg + alen + 1;
		size_t vlen = 0;

		p = next;
		if (first) { /* argv[0] */
			first = false;
			continue;
		}
		if (alen == 2 && memcmp(arg, "--", 2) == 0)
			break;
		if ((alen == 2 && memcmp(arg, "-c", 2) == 0) ||
		    (alen == 8 && memcmp(arg, "--config", 8) == 0)) {
			if (next >= end)
				break;
			val = next;
			nul = memchr(next, '\0', (size_t)(end - next));
			vlen = nul ? (size_t)(nul - next) : (size_t)(end - next);
		} else if (alen > 2 && memcmp(arg, "-c", 2) == 0) {
			val = arg + 2;
			vlen = alen - 2;
		} else if (alen > 9 && memcmp(arg, "--config=", 9) == 0) {
			val = arg + 9;
			vlen = alen - 9;
		}
		if (val && vlen > 0 && vlen < size) {
			memcpy(out, val, vlen);
			out[vlen] = '\0';
			return 0;
		}
	}
	return -ENOENT;
}

/* True if weir <pid> runs with the config file <real> (a realpath). */
static bool same_config(pid_t pid, const char *real)
{
	char path[64], cmd[4096], cfg[PATH_MAX], full[PATH_MAX + 64], *r;
	ssize_t got;
	bool same;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	got = read(fd, cmd, sizeof(cmd));
	close(fd);
	if (got <= 0 || portown_cmdline_config(cmd, (size_t)got, cfg, sizeof(cfg)) != 0)
		return false;
	if (cfg[0] == '/')
		snprintf(full, sizeof(full), "%s", cfg);
	else /* relative to where that weir started */
		snprintf(full, sizeof(full), "/proc/%d/cwd/%s", (int)pid, cfg);
	if (!(r = realpath(full, NULL)))
		return false;
	same = strcmp(r, real) == 0;
	free(r);
	return same;
}

/* Checks one address; returns 1 if another program holds it. */
static int check_one(const char *path, const char *real, int line, const char *what,
		     const struct weir_addr *a, int proto, FILE *out)
{
	struct port_holder h[PORT_MAX_HOLDERS];
	int n = port_holders(a, proto, h, PORT_MAX_HOLDERS);
	char s[ADDR_STRLEN], why[LSOCK_WHY_MAX], where[32] = "";

	if (line > 0)
		snprintf(where, sizeof(where), "%d:", line);
	for (int i = 0; i < n; i++) {
		if (!h[i].weir) {
			describe(&h[i], 1, why, sizeof(why));
			fprintf(out, "%s:%s %s %s: %s\n", path, where, what, addr_str(a, s), why);
			return 1;
		}
	}
	for (int i = 0; i < n; i++) {
		if (!real || !same_config(h[i].pid, real)) {
			fprintf(out, "%s:%s note: %s %s is served by another weir (pid %d): a daemon "
				"started with this file could not bind it; a reload of that one can\n",
				path, where, what, addr_str(a, s), (int)h[i].pid);
			break;
		}
	}
	return 0;
}

int port_check_config(const struct weir_config *cfg, const char *path, FILE *out)
{
	char *real = realpath(path, NULL);
	int errors = 0;

	for (size_t i = 0; i < cfg->nservices; i++) {
		const struct service_spec *sp = &cfg->services[i];

		if (!sp->proxy)
			continue; /* packet mode: no listening socket */
		errors += check_one(path, real, sp->line, sp->proto == IPPROTO_UDP ? "udp" : "tcp",
				    &sp->addr, sp->proto, out);
	}
	if (addr_port(&cfg->metrics))
		errors += check_one(path, real, 0, "metrics", &cfg->metrics, IPPROTO_TCP, out);
	free(real);
	return errors;
}
