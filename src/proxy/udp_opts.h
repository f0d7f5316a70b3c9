/*
 * udp_opts.h - the options of a UDP proxy service (--proxy udp): a block
 * of rows (core/option.h) registered by src/register.c, in each service's
 * option area. A session reads its listener's copy (struct vs_runtime,
 * refreshed under svc->lock once per batch of datagrams) through
 * udp_opts_rt().
 *
 * The session timeout is the core's idle_timeout, the session bound its
 * max_conn and one-packet scheduling its ops (ipvsadm's -o): those are
 * every mode's words.
 */
#ifndef WEIR_UDP_OPTS_H
#define WEIR_UDP_OPTS_H

#include <stdint.h>

#include "core/option.h"
#include "core/table.h"

#define UDP_UNLIMITED UINT32_MAX

/* Plain data (the option area is copied as bytes). */
struct udp_opts {
	uint32_t responses;  /* datagrams a server sends per client datagram;
	                      * when all came the session ends. UDP_UNLIMITED
	                      * (`off`, the default): idle_timeout ends it */
	uint32_t requests;   /* client datagrams per session; the next one
	                      * starts a new session. UDP_UNLIMITED: no limit */
};

extern struct opt_block udp_opt_block;

static inline const struct udp_opts *udp_opts_spec(const struct service_spec *s)
{
	return (const struct udp_opts *)(const void *)(s->opts + udp_opt_block.off);
}

static inline const struct udp_opts *udp_opts_rt(const struct vs_runtime *rt)
{
	return (const struct udp_opts *)(const void *)(rt->opts + udp_opt_block.off);
}

#endif
