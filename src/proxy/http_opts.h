/*
 * http_opts.h - the options of an HTTP proxy service (and of the redirect
 * mode): a block of rows (core/option.h) registered by src/register.c. The
 * values live in each service's option area (service_spec.opts) at
 * http_opt_block.off; a session reads its copy (struct vs_runtime, copied
 * under svc->lock when the session starts or schedules) through
 * http_opts_rt().
 *
 * The drain signal is not here: health checks read it too, so it is the
 * core's (service_spec.drain_status, vs_runtime.drain_status).
 */
#ifndef WEIR_HTTP_OPTS_H
#define WEIR_HTTP_OPTS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/option.h"
#include "core/table.h"

/* Plain data (the option area is copied as bytes). */
struct http_opts {
	uint32_t max_head;             /* request head bytes; 431 above */
	uint64_t max_body;             /* request body bytes; 413 above; 0 = no limit */
	uint32_t header_timeout_ms;    /* a client has this long to send a head; 408 */
	uint32_t server_timeout_ms;    /* a server has this long to start answering; 504 */
	uint32_t keepalive_timeout_ms; /* a client may idle this long between requests */
	uint32_t retry_mem;            /* request bytes kept in memory for a retry;
	                                * beyond, they spill to a temporary file */
	bool retry_unsafe;             /* retry non-idempotent requests on any failure */
	bool request_codings;          /* requests may carry transfer codings before
	                                * chunked (else 501) */
	bool forwarded;                /* add X-Forwarded-For/-Proto and Forwarded */
	bool via;                      /* add Via */
	uint32_t pool_idle_ms;         /* idle server connections live this long */
	uint32_t pool_max_idle;        /* idle server connections kept per server and worker */
	char access_log[108];          /* "" = none, "stderr", or a file path */
	uint8_t sticky;                /* STICKY_* */
	char sticky_name[64];          /* cookie, header or parameter name */
};
#define STICKY_NONE   0
#define STICKY_INSERT 1   /* weir sets a cookie naming the server (opaquely) */
#define STICKY_COOKIE 2   /* hash of a cookie's value */
#define STICKY_HEADER 3   /* hash of a header's value */
#define STICKY_PARAM  4   /* hash of a URL query parameter */

extern struct opt_block http_opt_block;

/* The HTTP options of a service's spec. */
static inline const struct http_opts *http_opts_spec(const struct service_spec *s)
{
	return (const struct http_opts *)(const void *)(s->opts + http_opt_block.off);
}

/* The HTTP options of a session's copy of its service's runtime. */
static inline const struct http_opts *http_opts_rt(const struct vs_runtime *rt)
{
	return (const struct http_opts *)(const void *)(rt->opts + http_opt_block.off);
}

#endif
