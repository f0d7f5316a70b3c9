/*
 * ifpick.c - what the kernel tells the data path's control about this
 * director (xdp_int.h): the route to an address (rtnetlink RTM_GETROUTE:
 * its type, output interface and the source the kernel would choose), the
 * interface that holds an address (getifaddrs), and whether an interface
 * forwards. attach.c decides with them where the program goes.
 *
 * Any thread; each call opens and closes what it needs (one netlink socket
 * per lookup: a table change asks a few of them, never the packet path).
 */
#include <errno.h>
#include <ifaddrs.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "xdp/xdp_int.h"

/* The address bytes of <a> and their length (4 or 16). */
static const void *ip_bytes(const struct weir_addr *a, int *len)
{
	if (addr_family(a) == AF_INET6) {
		*len = 16;
		return &a->u.in6.sin6_addr;
	}
	*len = 4;
	return &a->u.in.sin_addr;
}

static void addr_of_bytes(struct weir_addr *out, int family, const void *b)
{
	memset(out, 0, sizeof(*out));
	out->u.sa.sa_family = (sa_family_t)family;
	if (family == AF_INET6)
		memcpy(&out->u.in6.sin6_addr, b, 16);
	else
		memcpy(&out->u.in.sin_addr, b, 4);
}

/* Reads the RTM_NEWROUTE answer <nh> into <r>. */
static void parse_route(const struct nlmsghdr *nh, int family, struct xdp_route *r)
{
	const struct rtmsg *rt = NLMSG_DATA(nh);
	int len = (int)RTM_PAYLOAD(nh), alen = family == AF_INET6 ? 16 : 4;

	r->type = rt->rtm_type;
	for (const struct rtattr *a = RTM_RTA(rt); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == RTA_OIF && RTA_PAYLOAD(a) >= sizeof(int))
			memcpy(&r->oif, RTA_DATA(a), sizeof(int));
		else if (a->rta_type == RTA_PREFSRC && (int)RTA_PAYLOAD(a) == alen)
			addr_of_bytes(&r->src, family, RTA_DATA(a));
		else if (a->rta_type == RTA_GATEWAY && (int)RTA_PAYLOAD(a) == alen)
			r->via_gateway = true;
	}
	if (r->oif > 0 && !if_indextoname((unsigned)r->oif, r->oif_name))
		r->oif = 0;
}

int xdp_route_get(const struct weir_addr *dst, struct xdp_route *r)
{
	struct {
		struct nlmsghdr nh;
		struct rtmsg rt;
		char attrs[64];
	} req;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = 2 };
	_Alignas(struct nlmsghdr) char ans[8192];
	int family = addr_family(dst), alen, fd, rc = -EIO;
	const void *bytes = ip_bytes(dst, &alen);
	struct rtattr *rta;
	ssize_t n;

	memset(r, 0, sizeof(*r));
	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
	req.nh.nlmsg_type = RTM_GETROUTE;
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	req.nh.nlmsg_seq = 1;
	req.rt.rtm_family = (unsigned char)family;
	req.rt.rtm_dst_len = (unsigned char)(alen * 8);
	rta = (struct rtattr *)((char *)&req + NLMSG_ALIGN(req.nh.nlmsg_len));
	rta->rta_type = RTA_DST;
	rta->rta_len = (unsigned short)RTA_LENGTH(alen);
	memcpy(RTA_DATA(rta), bytes, (size_t)alen);
	req.nh.nlmsg_len = NLMSG_ALIGN(req.nh.nlmsg_len) + RTA_ALIGN(rta->rta_len);

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) < 0) {
		rc = -errno;
		goto out_close;
	}
	n = recv(fd, ans, sizeof(ans), 0);
	if (n < 0) {
		rc = -errno;
		goto out_close;
	}
	for (struct nlmsghdr *nh = (struct nlmsghdr *)ans; NLMSG_OK(nh, (unsigned)n);
	     nh = NLMSG_NEXT(nh, n)) {
		if (nh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(nh);

			rc = e->error ? e->error : -EIO;
			break;
		}
		if (nh->nlmsg_type == RTM_NEWROUTE) {
			parse_route(nh, family, r);
			rc = 0;
			break;
		}
	}
out_close:
	close(fd);
	return rc;
}

int xdp_addr_holder(const struct weir_addr *a, char name[IF_NAMESIZE])
{
	struct ifaddrs *all;
	int alen, found = -ENOENT;
	const void *want = ip_bytes(a, &alen);

	if (getifaddrs(&all) != 0)
		return -errno;
	for (const struct ifaddrs *i = all; i && found; i = i->ifa_next) {
		int len;
		const void *have;
		struct weir_addr ia;

		if (!i->ifa_addr || i->ifa_addr->sa_family != addr_family(a) ||
		    (i->ifa_flags & IFF_LOOPBACK))
			continue;
		addr_from_sockaddr(&ia, i->ifa_addr, addr_family(a) == AF_INET6 ?
				   sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
		have = ip_bytes(&ia, &len);
		if (len == alen && memcmp(have, want, (size_t)len) == 0) {
			snprintf(name, IF_NAMESIZE, "%s", i->ifa_name);
			found = 0;
		}
	}
	freeifaddrs(all);
	return found;
}

bool xdp_forwarding_on(const char *ifname, int family)
{
	char path[128], v = '1';
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv%c/conf/%s/forwarding",
		 family == AF_INET6 ? '6' : '4', ifname);
	if ((f = fopen(path, "r"))) {
		v = (char)fgetc(f);
		fclose(f);
	}
	return v != '0';
}
