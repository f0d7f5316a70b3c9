/* rs.c - `weir rs`: the real-server side of DR and TUN (see rs.h). */
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/addr.h"
#include "core/util.h"
#include "xdp/rs.h"
#include "xdp/rs_decap.h"

extern char **environ;

#define RS_MAX_DEVS 16

struct rs_args {
	bool add;
	struct weir_addr vip;
	char vip_text[64];
	bool tun;
	const char *devs[RS_MAX_DEVS];
	int ndevs;
};

static int usage(void)
{
	fprintf(stderr, "usage: weir rs add|del VIP [--mode dr|tun] [--dev IFACE]...\n"
			"       weir rs show\n"
			"Prepares this real server for weir's DR (-g) or TUN (-i) services: the VIP on lo,\n"
			"arp_ignore=1 and arp_announce=2; for tun, IP-in-IP decapsulation.\n");
	return 2;
}

/* Runs a command; its output goes to ours. Returns its exit status. */
static int run(const char *const *argv, bool quiet)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status, rc;

	posix_spawn_file_actions_init(&fa);
	if (quiet) {
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	}
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		fprintf(stderr, "weir rs: cannot run %s: %s\n", argv[0], strerror(rc));
		return 127;
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static int write_sysctl(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0) {
		fprintf(stderr, "weir rs: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	n = write(fd, value, strlen(value));
	close(fd);
	if (n != (ssize_t)strlen(value)) {
		fprintf(stderr, "weir rs: cannot write %s\n", path);
		return -EIO;
	}
	printf("weir rs: %s = %s\n", path, value);
	return 0;
}

/* Answer no ARP for the VIP (it is on lo) and never announce it (LVS-DR). */
static int arp_quiet(void)
{
	int rc = 0;

	rc |= write_sysctl("/proc/sys/net/ipv4/conf/all/arp_ignore", "1");
	rc |= write_sysctl("/proc/sys/net/ipv4/conf/all/arp_announce", "2");
	rc |= write_sysctl("/proc/sys/net/ipv4/conf/lo/arp_ignore", "1");
	rc |= write_sysctl("/proc/sys/net/ipv4/conf/lo/arp_announce", "2");
	return rc ? -EIO : 0;
}

static int vip_on_lo(const struct rs_args *a)
{
	char cidr[80];
	const char *argv[] = { "ip", addr_family(&a->vip) == AF_INET6 ? "-6" : "-4", "addr",
			       a->add ? "replace" : "del", cidr, "dev", "lo", NULL, NULL };

	snprintf(cidr, sizeof(cidr), "%s/%s", a->vip_text,
		 addr_family(&a->vip) == AF_INET6 ? "128" : "32");
	if (a->add && addr_family(&a->vip) == AF_INET6)
		argv[7] = "nodad";
	if (run(argv, false) != 0) {
		fprintf(stderr, "weir rs: ip addr %s %s dev lo failed\n", argv[3], cidr);
		return -EIO;
	}
	printf("weir rs: %s %s on lo\n", a->add ? "bound" : "unbound", cidr);
	return 0;
}

/* The kernel's own tunnel device, when the kernel has it. */
static bool kernel_tunnel(bool v6)
{
	const char *probe[] = { "ip", "link", "add", "weir-probe0", "type",
				v6 ? "ip6tnl" : "ipip", NULL };
	const char *del[] = { "ip", "link", "del", "weir-probe0", NULL };

	if (run(probe, true) != 0)
		return false;
	run(del, true);
	return true;
}

static int kernel_tunnel_up(bool v6)
{
	const char *dev = v6 ? "ip6tnl0" : "tunl0";
	const char *up[] = { "ip", "link", "set", dev, "up", NULL };
	char path[128];

	if (run(up, false) != 0)
		return -EIO;
	if (!v6) {
		snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/rp_filter", dev);
		write_sysctl(path, "0");
		write_sysctl("/proc/sys/net/ipv4/conf/all/rp_filter", "0");
	}
	printf("weir rs: the kernel's %s decapsulates\n", dev);
	return 0;
}

/* Every interface that is up, but lo: where tunnelled packets may arrive. */
static int default_devs(struct rs_args *a, char names[][IF_NAMESIZE])
{
	struct if_nameindex *ifs = if_nameindex();

	if (!ifs)
		return -errno;
	for (struct if_nameindex *i = ifs; i->if_index && a->ndevs < RS_MAX_DEVS; i++) {
		if (strcmp(i->if_name, "lo") == 0)
			continue;
		snprintf(names[a->ndevs], IF_NAMESIZE, "%s", i->if_name);
		a->devs[a->ndevs] = names[a->ndevs];
		a->ndevs++;
	}
	if_freenameindex(ifs);
	return 0;
}

static int tunnel(struct rs_args *a)
{
	static char names[RS_MAX_DEVS][IF_NAMESIZE];
	bool v6 = addr_family(&a->vip) == AF_INET6;
	int rc;

	if (a->add && kernel_tunnel(v6))
		return kernel_tunnel_up(v6);
	if (!a->ndevs && (rc = default_devs(a, names)) != 0)
		return rc;
	if (!v6)
		write_sysctl("/proc/sys/net/ipv4/conf/all/rp_filter", "0");
	for (int i = 0; i < a->ndevs; i++) {
		char path[128];

		if (v6)
			continue;
		snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/rp_filter", a->devs[i]);
		if (a->add)
			write_sysctl(path, "0");
	}
	return rs_decap(a->add, &a->vip, (const char *const *)a->devs, a->ndevs);
}

static int parse(int argc, char **argv, struct rs_args *a)
{
	memset(a, 0, sizeof(*a));
	if (argc < 3)
		return -EINVAL;
	if (strcmp(argv[1], "add") == 0)
		a->add = true;
	else if (strcmp(argv[1], "del") != 0)
		return -EINVAL;
	if (addr_parse(argv[2], true, &a->vip) != 0 || addr_port(&a->vip) != 0) {
		fprintf(stderr, "weir rs: '%s' is not an IP address\n", argv[2]);
		return -EINVAL;
	}
	addr_str(&a->vip, a->vip_text);
	if (addr_family(&a->vip) == AF_INET6) { /* "[::1]:0" -> "::1" */
		char *end = strrchr(a->vip_text, ']');

		if (end)
			*end = '\0';
		memmove(a->vip_text, a->vip_text + (a->vip_text[0] == '['),
			strlen(a->vip_text) + 1);
	} else {
		char *colon = strrchr(a->vip_text, ':');

		if (colon)
			*colon = '\0';
	}
	for (int i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc) {
			i++;
			if (strcmp(argv[i], "tun") == 0)
				a->tun = true;
			else if (strcmp(argv[i], "dr") != 0)
				return -EINVAL;
		} else if (strcmp(argv[i], "--dev") == 0 && i + 1 < argc &&
			   a->ndevs < RS_MAX_DEVS) {
			a->devs[a->ndevs++] = argv[++i];
		} else {
			fprintf(stderr, "weir rs: unexpected argument '%s'\n", argv[i]);
			return -EINVAL;
		}
	}
	return 0;
}

int rs_main(int argc, char **argv)
{
	struct rs_args a;
	int rc;

	if (argc == 2 && strcmp(argv[1], "show") == 0)
		return rs_decap_show() == 0 ? 0 : 1;
	if (parse(argc, argv, &a) != 0)
		return usage();
	if (geteuid() != 0) {
		fprintf(stderr, "weir rs: must run as root\n");
		return 1;
	}
	if ((rc = vip_on_lo(&a)) != 0 && a.add)
		return 1;
	if (a.add && addr_family(&a.vip) == AF_INET && arp_quiet() != 0)
		return 1;
	if (a.tun && (rc = tunnel(&a)) != 0)
		return 1;
	return 0;
}
