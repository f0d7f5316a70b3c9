/* addr.c - see addr.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/addr.h"
#include "core/util.h"

static int parse_port(const char *s, uint16_t *port)
{
	uint32_t v;

	if (parse_u32(s, 65535, &v) != 0)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

static int set_ip(const char *ip, uint16_t port, struct weir_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, ip, &out->u.in.sin_addr) == 1) {
		out->u.in.sin_family = AF_INET;
		out->u.in.sin_port = htons(port);
		return 0;
	}
	if (inet_pton(AF_INET6, ip, &out->u.in6.sin6_addr) == 1) {
		out->u.in6.sin6_family = AF_INET6;
		out->u.in6.sin6_port = htons(port);
		return 0;
	}
	return -EINVAL;
}

int addr_parse(const char *s, bool port_optional, struct weir_addr *out)
{
	char ip[INET6_ADDRSTRLEN + 1];
	const char *port_s = NULL, *end;
	uint16_t port = 0;
	size_t n;

	if (s[0] == '[') {
		end = strchr(s, ']');
		if (!end)
			return -EINVAL;
		n = (size_t)(end - s - 1);
		if (n == 0 || n >= sizeof(ip))
			return -EINVAL;
		memcpy(ip, s + 1, n);
		ip[n] = '\0';
		if (end[1] == ':')
			port_s = end + 2;
		else if (end[1] != '\0')
			return -EINVAL;
	} else {
		end = strrchr(s, ':');
		if (end && strchr(s, ':') != end)
			end = NULL; /* bare IPv6: no port */
		n = end ? (size_t)(end - s) : strlen(s);
		if (n == 0 || n >= sizeof(ip))
			return -EINVAL;
		memcpy(ip, s, n);
		ip[n] = '\0';
		if (end)
			port_s = end + 1;
	}
	if (port_s) {
		if (parse_port(port_s, &port) != 0)
			return -EINVAL;
	} else if (!port_optional) {
		return -EINVAL;
	}
	return set_ip(ip, port, out);
}

/* "a.b.c.d" into <buf>: what inet_ntop() writes, without the sprintf()
 * underneath it (an HTTP client's address is formatted once per
 * connection; with Connection: close that was 12 % of the proxy's
 * instructions). */
static void ipv4_str(const struct in_addr *in, char *buf)
{
	const uint8_t *b = (const uint8_t *)&in->s_addr;
	char *p = buf;

	for (int i = 0; i < 4; i++) {
		unsigned v = b[i];

		if (i)
			*p++ = '.';
		if (v >= 100)
			*p++ = (char)('0' + v / 100);
		if (v >= 10)
			*p++ = (char)('0' + v / 10 % 10);
		*p++ = (char)('0' + v % 10);
	}
	*p = '\0';
}

const char *addr_ip_str(const struct weir_addr *a, char *buf)
{
	if (a->u.sa.sa_family == AF_INET6)
		inet_ntop(AF_INET6, &a->u.in6.sin6_addr, buf, ADDR_STRLEN);
	else if (a->u.sa.sa_family == AF_INET)
		ipv4_str(&a->u.in.sin_addr, buf);
	else
		snprintf(buf, ADDR_STRLEN, "?");
	return buf;
}

const char *addr_str(const struct weir_addr *a, char *buf)
{
	char ip[INET6_ADDRSTRLEN];

	addr_ip_str(a, ip);
	if (a->u.sa.sa_family == AF_INET6)
		snprintf(buf, ADDR_STRLEN, "[%s]:%u", ip, addr_port(a));
	else
		snprintf(buf, ADDR_STRLEN, "%s:%u", ip, addr_port(a));
	return buf;
}

socklen_t addr_len(const struct weir_addr *a)
{
	return a->u.sa.sa_family == AF_INET6 ? sizeof(a->u.in6) : sizeof(a->u.in);
}

int addr_family(const struct weir_addr *a)
{
	return a->u.sa.sa_family;
}

uint16_t addr_port(const struct weir_addr *a)
{
	return ntohs(a->u.sa.sa_family == AF_INET6 ? a->u.in6.sin6_port : a->u.in.sin_port);
}

void addr_set_port(struct weir_addr *a, uint16_t port)
{
	if (a->u.sa.sa_family == AF_INET6)
		a->u.in6.sin6_port = htons(port);
	else
		a->u.in.sin_port = htons(port);
}

uint8_t addr_bytes(const struct weir_addr *a, uint8_t out[16])
{
	if (a->u.sa.sa_family == AF_INET6) {
		memcpy(out, &a->u.in6.sin6_addr, 16);
		return 16;
	}
	memcpy(out, &a->u.in.sin_addr, 4);
	return 4;
}

int addr_cmp(const struct weir_addr *a, const struct weir_addr *b)
{
	uint8_t x[16], y[16];
	uint8_t lx = addr_bytes(a, x), ly = addr_bytes(b, y);
	int c;

	if (lx != ly)
		return lx < ly ? -1 : 1;
	c = memcmp(x, y, lx);
	if (c)
		return c;
	return (int)addr_port(a) - (int)addr_port(b);
}

bool addr_equal(const struct weir_addr *a, const struct weir_addr *b)
{
	return addr_family(a) == addr_family(b) && addr_cmp(a, b) == 0;
}

void addr_from_sockaddr(struct weir_addr *a, const struct sockaddr *sa, socklen_t len)
{
	memset(a, 0, sizeof(*a));
	if (len > sizeof(a->u))
		len = sizeof(a->u);
	memcpy(&a->u, sa, len);
}
