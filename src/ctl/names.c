/* names.c - see names.h. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/addr.h"
#include "ctl/list.h"
#include "ctl/names.h"

/* --- libc ------------------------------------------------------------------- */

static const char *proto_word(int proto)
{
	return proto == IPPROTO_UDP ? "udp" : proto == IPPROTO_TCP ? "tcp" : NULL;
}

/* gethostbyname, as ipvsadm's host_to_addr: its first address, in the
 * order of the source (getaddrinfo would sort several addresses). */
static int libc_host_addr(const char *name, struct in_addr *out)
{
	struct hostent *h = gethostbyname(name);

	if (!h || h->h_addrtype != AF_INET || h->h_length != sizeof(*out) || !h->h_addr_list[0])
		return -1;
	memcpy(out, h->h_addr_list[0], sizeof(*out));
	return 0;
}

static int libc_service_port(const char *name, int proto)
{
	const char *p = proto_word(proto);
	struct servent *s = p ? getservbyname(name, p) : NULL;

	return s ? ntohs((uint16_t)s->s_port) : -1;
}

static int libc_host_name(int af, const void *addr, char *out, size_t len)
{
	struct sockaddr_storage ss = { .ss_family = (sa_family_t)af };
	socklen_t sl;

	if (af == AF_INET) {
		memcpy(&((struct sockaddr_in *)&ss)->sin_addr, addr, 4);
		sl = sizeof(struct sockaddr_in);
	} else {
		memcpy(&((struct sockaddr_in6 *)&ss)->sin6_addr, addr, 16);
		sl = sizeof(struct sockaddr_in6);
	}
	return getnameinfo((struct sockaddr *)&ss, sl, out, (socklen_t)len, NULL, 0,
			   NI_NAMEREQD) == 0 ? 0 : -1;
}

static int libc_service_name(uint16_t port, int proto, char *out, size_t len)
{
	const char *p = proto_word(proto);
	struct servent *s = p ? getservbyport(htons(port), p) : NULL;

	if (!s)
		return -1;
	snprintf(out, len, "%s", s->s_name);
	return 0;
}

const struct names_ops names_libc = {
	.host_addr = libc_host_addr,
	.service_port = libc_service_port,
	.host_name = libc_host_name,
	.service_name = libc_service_name,
};

/* --- reading names ------------------------------------------------------------ */

/* ipvsadm's string_to_number for ports: all of <s> a decimal 0..65535. */
static int port_number(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	return end == s || *end || errno == ERANGE || v < 0 || v > 65535 ? -1 : (int)v;
}

static bool all_digits(const char *s)
{
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

int names_address(const struct names_ops *ops, const char *arg, int proto, char *out,
		  size_t len)
{
	char buf[1024], host[INET6_ADDRSTRLEN];
	const char *port = NULL;
	struct in6_addr a6;
	struct in_addr a4;
	int p = 0, n;

	if (all_digits(arg) || strlen(arg) >= sizeof(buf))
		return -1;
	strcpy(buf, arg);
	if (buf[0] == '[') { /* "[IPv6]:port": the address numeric, the port maybe a name */
		char *end = strchr(buf, ']');

		if (!end || end[1] != ':')
			return -1;
		*end = '\0';
		if (inet_pton(AF_INET6, buf + 1, &a6) != 1)
			return -1;
		port = end + 2;
		inet_ntop(AF_INET6, &a6, host, sizeof(host));
	} else if (inet_pton(AF_INET6, buf, &a6) == 1) {
		inet_ntop(AF_INET6, &a6, host, sizeof(host));
	} else {
		char *colon = strrchr(buf, ':');

		if (colon) {
			*colon = '\0';
			port = colon + 1;
		}
		if (inet_aton(buf, &a4) == 0 && ops->host_addr(buf, &a4) != 0)
			return -1;
		inet_ntop(AF_INET, &a4, host, sizeof(host));
	}
	if (port && (p = port_number(port)) < 0 && (p = ops->service_port(port, proto)) < 0)
		return -1;
	if (!port)
		n = snprintf(out, len, "%s", host);
	else if (strchr(host, ':'))
		n = snprintf(out, len, "[%s]:%d", host, p);
	else
		n = snprintf(out, len, "%s:%d", host, p);
	return n > 0 && (size_t)n < len ? 0 : -1;
}

/* --- writing names ------------------------------------------------------------ */

/* Each address and port looked up once in a names_fill(). */
#define CACHE_SIZE 64

struct lookup {
	uint8_t key[20];        /* family or protocol, then the address or port */
	char name[NI_MAXHOST];
};

struct cache {
	struct lookup e[CACHE_SIZE];
	int n;
};

/* The cached name of <key>, or NULL; *slot = where a new one goes. */
static const char *cached(struct cache *c, const uint8_t key[20], struct lookup **slot)
{
	for (int i = 0; i < c->n; i++)
		if (memcmp(c->e[i].key, key, 20) == 0)
			return c->e[i].name;
	*slot = c->n < CACHE_SIZE ? &c->e[c->n] : NULL;
	return NULL;
}

static void remember(struct cache *c, struct lookup *slot, const uint8_t key[20],
		     const char *name)
{
	if (!slot)
		return;
	memcpy(slot->key, key, 20);
	snprintf(slot->name, sizeof(slot->name), "%s", name);
	c->n++;
}

/* ipvsadm's addrport_to_anyname: host or number, ':', service or number,
 * in its 60-byte buffer. */
static void any_name(const struct names_ops *ops, struct cache *c, const struct weir_addr *a,
		     int proto, char out[60])
{
	uint8_t key[20] = { 0 }, bytes[16];
	char host[NI_MAXHOST], serv[NI_MAXSERV];
	const char *hit;
	struct lookup *slot;
	int af = addr_family(a);
	size_t n = addr_bytes(a, bytes);

	key[0] = (uint8_t)af;
	memcpy(key + 4, bytes, n);
	if ((hit = cached(c, key, &slot))) {
		snprintf(host, sizeof(host), "%s", hit);
	} else {
		if (ops->host_name(af, bytes, host, sizeof(host)) != 0)
			inet_ntop(af, bytes, host, sizeof(host));
		remember(c, slot, key, host);
	}
	memset(key, 0, sizeof(key));
	key[0] = 0xff;
	key[1] = (uint8_t)proto;
	key[2] = (uint8_t)(addr_port(a) >> 8);
	key[3] = (uint8_t)addr_port(a);
	if ((hit = cached(c, key, &slot))) {
		snprintf(serv, sizeof(serv), "%s", hit);
	} else {
		if (ops->service_name(addr_port(a), proto, serv, sizeof(serv)) != 0)
			snprintf(serv, sizeof(serv), "%u", addr_port(a));
		remember(c, slot, key, serv);
	}
	snprintf(out, 60, "%s%s%s:%s", af == AF_INET ? "" : "[", host, af == AF_INET ? "" : "]",
		 serv);
}

/* A mark's number at *<p> (then past it and one blank): 0..<max>, or -1. */
static int mark_number(char **p, int max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(*p, &end, 10);
	if (end == *p || *end != ' ' || errno == ERANGE || v < 0 || v > max)
		return -1;
	*p = end + 1;
	return (int)v;
}

/* One mark, <p>[0..len) without its start and end bytes: its cell. */
static int fill_mark(const struct names_ops *ops, struct cache *c, const char *p, size_t len,
		     struct buf *out)
{
	char mark[ADDR_STRLEN + 128], name[60], *sep, *addr = mark;
	int cut, pad, proto;
	struct weir_addr a;

	if (len >= sizeof(mark))
		return -1;
	memcpy(mark, p, len);
	mark[len] = '\0';
	/* widths as the listings use them (a few dozen columns), nothing wilder */
	if ((cut = mark_number(&addr, 255)) < 0 || (pad = mark_number(&addr, 255)) < 0 ||
	    (proto = mark_number(&addr, 255)) < 0 || !(sep = strchr(addr, LIST_MARK_SEP)))
		return -1;
	*sep = '\0';
	if (addr_parse(addr, true, &a) != 0)
		return -1;
	any_name(ops, c, &a, proto, name);
	if (cut > 0 && strlen(name) > (size_t)cut)
		name[cut] = '\0';
	/* the prefix ("TCP  ", "  -> ") then the name, padded as a whole */
	pad -= (int)strlen(sep + 1);
	buf_printf(out, "%s%-*s", sep + 1, pad > 0 ? pad : 0, name);
	return 0;
}

void names_fill(const struct names_ops *ops, const char *in, size_t len, struct buf *out)
{
	struct cache *c = calloc(1, sizeof(*c));
	const char *end = in + len;

	while (in < end) {
		const char *start = memchr(in, LIST_MARK_START, (size_t)(end - in)), *stop;

		if (!start || !(stop = memchr(start, LIST_MARK_END, (size_t)(end - start)))) {
			buf_append(out, in, (size_t)(end - in));
			break;
		}
		buf_append(out, in, (size_t)(start - in));
		/* a mark weirctl cannot read stays as it came: visible, not lost */
		if (!c || fill_mark(ops, c, start + 1, (size_t)(stop - start - 1), out) != 0)
			buf_append(out, start, (size_t)(stop + 1 - start));
		in = stop + 1;
	}
	free(c);
}
