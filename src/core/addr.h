/* addr.h - socket addresses: "IP:PORT" and "[IPv6]:PORT" parsed and
 * printed the way ipvsadm -n prints them. */
#ifndef WEIR_ADDR_H
#define WEIR_ADDR_H

#include <stdbool.h>
#include <string.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

struct weir_addr {
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} u;
};

/* Longest text form: "[" v6 "]:" port */
#define ADDR_STRLEN (INET6_ADDRSTRLEN + 8)

/* Parses "1.2.3.4:80", "[::1]:80". With <port_optional>, "1.2.3.4" and
 * "::1" / "[::1]" give port 0. Returns 0 or -EINVAL. */
int addr_parse(const char *s, bool port_optional, struct weir_addr *out);
/* Writes the ipvsadm -n form into <buf> (ADDR_STRLEN) and returns it. */
const char *addr_str(const struct weir_addr *a, char *buf);
/* Writes the address without the port. */
const char *addr_ip_str(const struct weir_addr *a, char *buf);

socklen_t addr_len(const struct weir_addr *a);
int addr_family(const struct weir_addr *a);
uint16_t addr_port(const struct weir_addr *a);
void addr_set_port(struct weir_addr *a, uint16_t port);
bool addr_equal(const struct weir_addr *a, const struct weir_addr *b);
/* The same for the data path: family, port, address (and IPv6 scope)
 * compared in place, nothing copied; two addresses of no family are the
 * same. */
static inline bool addr_same(const struct weir_addr *a, const struct weir_addr *b)
{
	if (a->u.sa.sa_family != b->u.sa.sa_family)
		return false;
	if (a->u.sa.sa_family == AF_INET)
		return a->u.in.sin_port == b->u.in.sin_port &&
		       a->u.in.sin_addr.s_addr == b->u.in.sin_addr.s_addr;
	if (a->u.sa.sa_family == AF_INET6)
		return a->u.in6.sin6_port == b->u.in6.sin6_port &&
		       a->u.in6.sin6_scope_id == b->u.in6.sin6_scope_id &&
		       memcmp(&a->u.in6.sin6_addr, &b->u.in6.sin6_addr, 16) == 0;
	return true;
}
/* Orders addresses: v4 before v6, then bytes, then port. */
int addr_cmp(const struct weir_addr *a, const struct weir_addr *b);
/* Copies the raw address bytes (4 or 16) to <out>; returns the length. */
uint8_t addr_bytes(const struct weir_addr *a, uint8_t out[16]);
/* Fills <a> from a sockaddr returned by accept(2)/getpeername(2). */
void addr_from_sockaddr(struct weir_addr *a, const struct sockaddr *sa, socklen_t len);

#endif
