/*
 * names.h - host and service names, for weirctl (the client) only: the
 * daemon never resolves a name, its control thread must not block on DNS.
 *
 * Reading: an address of a command line or of a -R line
 * ("www.example.test:http", "-r web1.example.test") becomes its numeric
 * form before the line goes to the daemon, by ipvsadm's rules
 * (parse_service): a host is a dotted quad or an IPv4 host name (the first
 * address of gethostbyname, as ipvsadm's host_to_addr), a port is a number
 * or a service name of the service's protocol (getservbyname); an IPv6
 * address is numeric, in brackets when a port follows; all digits is no
 * address.
 *
 * Writing: a listing asked with --name-marks holds marks (ctl/list.h);
 * names_fill() writes each as ipvsadm's addrport_to_anyname does: the host
 * name (getnameinfo) or the number, ':', the service name (getservbyport)
 * or the number, at most 59 characters, then cut and padded as the mark
 * says.
 *
 * The lookups go through struct names_ops: libc's in weirctl, fakes in
 * the tests.
 */
#ifndef WEIR_CTL_NAMES_H
#define WEIR_CTL_NAMES_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

struct names_ops {
	/* The IPv4 address of host <name>: 0, or -1 when it has none. */
	int (*host_addr)(const char *name, struct in_addr *out);
	/* The port of service <name> for <proto> (IPPROTO_TCP/UDP), or -1. */
	int (*service_port)(const char *name, int proto);
	/* The name of host <addr> (family <af>) into <out>: 0, or -1. */
	int (*host_name)(int af, const void *addr, char *out, size_t len);
	/* The name of <port> for <proto> into <out>: 0, or -1. */
	int (*service_name)(uint16_t port, int proto, char *out, size_t len);
};

/* libc's resolver: /etc/hosts, DNS... as nsswitch.conf says. */
extern const struct names_ops names_libc;

/* Writes the numeric form of address <arg> of a <proto> service into
 * <out> ("192.0.2.1:80", "192.0.2.1" without a port). 0, or -1 when <arg>
 * is no address (ipvsadm's "illegal ... address[:port] specified"). */
int names_address(const struct names_ops *ops, const char *arg, int proto, char *out,
		  size_t len);

/* Appends <in>[0..len) to <out> with every mark replaced by its cell with
 * names. Each address and port is looked up once per call. */
void names_fill(const struct names_ops *ops, const char *in, size_t len, struct buf *out);

#endif
