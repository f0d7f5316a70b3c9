/* test_portown.c - who holds a port (src/proxy/portown.c): the sock_diag
 * answer read by hand-made messages, the overlap rules, a weir command
 * line's config file, and a live lookup of a socket this test holds. */
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <arpa/inet.h>
#include <string.h>
#include <unistd.h>

#include "proxy/lsock.h"
#include "proxy/portown.h"
#include "unit.h"

struct nlbuf {
	_Alignas(8) unsigned char b[4096];
	size_t len;
};

/* Appends a SOCK_DIAG_BY_FAMILY message for a socket bound to <ip>:<port>;
 * <v6only> < 0 = no INET_DIAG_SKV6ONLY attribute. */
static void add_sock(struct nlbuf *nb, int family, const char *ip, uint16_t port,
		     int v6only, uint32_t uid)
{
	struct nlmsghdr *nh = (struct nlmsghdr *)(nb->b + nb->len);
	struct inet_diag_msg *m = NLMSG_DATA(nh);
	size_t len = NLMSG_LENGTH(sizeof(*m));

	memset(nh, 0, NLMSG_SPACE(sizeof(*m)) + RTA_SPACE(1));
	m->idiag_family = (uint8_t)family;
	m->id.idiag_sport = htons(port);
	inet_pton(family, ip, m->id.idiag_src);
	m->idiag_uid = uid;
	m->idiag_inode = 4242;
	if (v6only >= 0) {
		struct rtattr *rta = (struct rtattr *)((char *)nh + NLMSG_ALIGN(len));

		rta->rta_type = INET_DIAG_SKV6ONLY;
		rta->rta_len = RTA_LENGTH(1);
		*(unsigned char *)RTA_DATA(rta) = (unsigned char)v6only;
		len = NLMSG_ALIGN(len) + RTA_SPACE(1);
	}
	nh->nlmsg_len = (uint32_t)len;
	nh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nb->len += NLMSG_ALIGN(len);
}

static void add_type(struct nlbuf *nb, uint16_t type, int error)
{
	struct nlmsghdr *nh = (struct nlmsghdr *)(nb->b + nb->len);
	size_t len = NLMSG_LENGTH(type == NLMSG_ERROR ? sizeof(struct nlmsgerr) : sizeof(int));

	memset(nh, 0, NLMSG_ALIGN(len));
	nh->nlmsg_len = (uint32_t)len;
	nh->nlmsg_type = type;
	if (type == NLMSG_ERROR)
		((struct nlmsgerr *)NLMSG_DATA(nh))->error = error;
	nb->len += NLMSG_ALIGN(len);
}

static struct weir_addr mk(const char *s)
{
	struct weir_addr a;

	memset(&a, 0, sizeof(a));
	addr_parse(s, false, &a);
	return a;
}

TEST(portown_diag_overlap)
{
	struct nlbuf nb = { .len = 0 };
	struct port_holder h[8];
	struct weir_addr a = mk("127.0.0.1:80");
	char s[ADDR_STRLEN];
	int n = 0;

	add_sock(&nb, AF_INET, "127.0.0.1", 80, -1, 1);   /* same: yes */
	add_sock(&nb, AF_INET, "127.0.0.2", 80, -1, 2);   /* other address: no */
	add_sock(&nb, AF_INET, "0.0.0.0", 80, -1, 3);     /* wildcard: yes */
	add_sock(&nb, AF_INET, "127.0.0.1", 81, -1, 4);   /* other port: no */
	add_sock(&nb, AF_INET6, "::", 80, 0, 5);          /* dual-stack ::: yes */
	add_sock(&nb, AF_INET6, "::", 80, 1, 6);          /* v6-only ::: no */
	add_sock(&nb, AF_INET6, "::ffff:127.0.0.1", 80, 0, 7); /* v4-mapped: yes */
	add_sock(&nb, AF_INET6, "::1", 80, 1, 8);         /* v6: no */
	CHECK_EQ(portown_parse_diag(nb.b, nb.len, &a, h, 8, &n), 0);
	REQUIRE(n == 4);
	CHECK_EQ(h[0].uid, 1);
	CHECK_STR(addr_str(&h[0].addr, s), "127.0.0.1:80");
	CHECK_EQ(h[1].uid, 3);
	CHECK_EQ(h[2].uid, 5);
	CHECK(!h[2].v6only);
	CHECK_EQ(h[3].uid, 7);
	CHECK_EQ(h[0].inode, 4242);
	/* a v6 address: only v6 sockets, wildcard or equal */
	n = 0;
	a = mk("[::1]:80");
	CHECK_EQ(portown_parse_diag(nb.b, nb.len, &a, h, 8, &n), 0);
	CHECK_EQ(n, 3);
	/* the end, and room for fewer */
	add_type(&nb, NLMSG_DONE, 0);
	n = 0;
	a = mk("0.0.0.0:80");
	CHECK_EQ(portown_parse_diag(nb.b, nb.len, &a, h, 2, &n), 1);
	CHECK_EQ(n, 2);
}

TEST(portown_diag_errors)
{
	struct nlbuf nb = { .len = 0 };
	struct port_holder h[2];
	struct weir_addr a = mk("127.0.0.1:80");
	int n = 0;

	add_type(&nb, NLMSG_ERROR, -EPERM);
	CHECK_EQ(portown_parse_diag(nb.b, nb.len, &a, h, 2, &n), -EPERM);
	/* cut short, at any length: never read past the end, never a holder */
	nb.len = 0;
	add_sock(&nb, AF_INET, "127.0.0.1", 80, -1, 1);
	for (size_t cut = 0; cut < nb.len; cut++) {
		n = 0;
		CHECK(portown_parse_diag(nb.b, cut, &a, h, 2, &n) <= 0);
		CHECK_EQ(n, 0);
	}
	/* a length field larger than what was read */
	((struct nlmsghdr *)nb.b)->nlmsg_len = 9999;
	CHECK_EQ(portown_parse_diag(nb.b, nb.len, &a, h, 2, &n), -EBADMSG);
}

static int cfg_of(const char *argv, size_t len, char *out)
{
	return portown_cmdline_config(argv, len, out, 64);
}

TEST(portown_cmdline_config)
{
	char out[64];

#define ARGV(s) s, sizeof(s)
	CHECK_EQ(cfg_of(ARGV("weir\0-c\0/etc/weir.conf"), out), 0);
	CHECK_STR(out, "/etc/weir.conf");
	CHECK_EQ(cfg_of(ARGV("weir\0--socket\0/s\0--config\0rel.conf"), out), 0);
	CHECK_STR(out, "rel.conf");
	CHECK_EQ(cfg_of(ARGV("weir\0-cx.conf"), out), 0);
	CHECK_STR(out, "x.conf");
	CHECK_EQ(cfg_of(ARGV("weir\0--config=y.conf"), out), 0);
	CHECK_STR(out, "y.conf");
	CHECK_EQ(cfg_of(ARGV("weir\0--socket\0/s"), out), -ENOENT);
	CHECK_EQ(cfg_of(ARGV("weir\0-c"), out), -ENOENT);
	CHECK_EQ(cfg_of(ARGV("-c\0not-argv0"), out), -ENOENT);
	CHECK_EQ(cfg_of(ARGV("weir\0--\0-c\0z"), out), -ENOENT);
	/* without the final NUL, and too long for <out> */
	CHECK_EQ(cfg_of("weir\0-c\0abc", 11, out), 0);
	CHECK_STR(out, "abc");
	CHECK_EQ(portown_cmdline_config(ARGV("weir\0-c\0abcdef"), out, 4), -ENOENT);
#undef ARGV
}

/* A socket this process holds is found, with its pid and name. */
TEST(portown_live_holder)
{
	struct weir_addr a = mk("127.0.0.1:0"), any;
	socklen_t len = sizeof(a.u);
	struct port_holder h[PORT_MAX_HOLDERS];
	char why[LSOCK_WHY_MAX], text[64];
	int fd = socket(AF_INET, SOCK_DGRAM, 0), n;

	REQUIRE(fd >= 0);
	REQUIRE(bind(fd, &a.u.sa, addr_len(&a)) == 0 && getsockname(fd, &a.u.sa, &len) == 0);
	snprintf(text, sizeof(text), "0.0.0.0:%u", addr_port(&a));
	any = mk(text);
	n = port_holders(&any, IPPROTO_UDP, h, PORT_MAX_HOLDERS);
	if (n == -EPROTONOSUPPORT || n == -ENOENT) {
		fprintf(stderr, "  no udp sock_diag here: skipped\n");
		close(fd);
		return;
	}
	REQUIRE(n == 1);
	CHECK_EQ(h[0].pid, getpid());
	CHECK_STR(h[0].comm, "unit");
	CHECK(!h[0].weir);
	/* a bind failure names someone else first: here only this process */
	port_why(&any, IPPROTO_UDP, EADDRINUSE, why, sizeof(why));
	CHECK_STR(why, "address already in use by another listener of this weir");
	port_why(&any, IPPROTO_UDP, EACCES, why, sizeof(why));
	CHECK_STR(why, "cannot listen: Permission denied");
	/* the process's own sockets pass the check after bind */
	CHECK_EQ(port_check_mine(&any, IPPROTO_UDP, why, sizeof(why)), 0);
	close(fd);
	CHECK_EQ(port_holders(&any, IPPROTO_UDP, h, PORT_MAX_HOLDERS), 0);
	port_why(&any, IPPROTO_UDP, EADDRINUSE, why, sizeof(why));
	CHECK_STR(why, "address already in use by another process");
}
