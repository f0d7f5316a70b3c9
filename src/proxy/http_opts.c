/* http_opts.c - the HTTP proxy's block of option rows (see http_opts.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "proto/http.h"
#include "proxy/http_opts.h"

static void http_defaults(void *base)
{
	struct http_opts *h = base;

	memset(h, 0, sizeof(*h));
	h->max_head = 32u << 10;
	h->max_body = 0;
	h->header_timeout_ms = 10000;
	h->server_timeout_ms = 30000;
	h->keepalive_timeout_ms = 60000;
	h->retry_mem = 64u << 10;
	h->forwarded = true;
	h->via = false;
	h->pool_idle_ms = 30000;
	h->pool_max_idle = 64;
}

/* `access_log off|stderr|PATH` */
static int parse_access_log(const struct opt_row *o, char *const *w, int n, void *base,
			    char *why)
{
	struct http_opts *h = base;
	const char *v = strcmp(w[0], "off") == 0 ? "" : w[0];

	if (strlen(v) >= sizeof(h->access_log))
		return opt_fail(why, "path too long");
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return opt_fail(why, "control characters are not allowed");
	memset(h->access_log, 0, sizeof(h->access_log));
	memcpy(h->access_log, v, strlen(v));
	return 0;
}

static void format_access_log(const struct opt_row *o, const void *base, char *out,
			      size_t len)
{
	const struct http_opts *h = base;

	opt_put_word(out, len, h->access_log[0] ? h->access_log : "off");
}

static const struct { const char *how; uint8_t mode; } sticky_hashes[] = {
	{ "cookie", STICKY_COOKIE }, { "header", STICKY_HEADER }, { "param", STICKY_PARAM },
};

/* `sticky cookie NAME | hash cookie|header|param NAME | off` */
static int parse_sticky(const struct opt_row *o, char *const *w, int n, void *base, char *why)
{
	struct http_opts *h = base;
	const char *name = n > 1 ? w[n - 1] : "";
	int mode = -1;

	if (n == 1 && strcmp(w[0], "off") == 0)
		mode = STICKY_NONE;
	else if (n == 2 && strcmp(w[0], "cookie") == 0)
		mode = STICKY_INSERT;
	else if (n == 3 && strcmp(w[0], "hash") == 0)
		for (size_t i = 0; i < ARRAY_SIZE(sticky_hashes); i++)
			if (strcmp(w[1], sticky_hashes[i].how) == 0)
				mode = sticky_hashes[i].mode;
	if (mode < 0 || strlen(name) >= sizeof(h->sticky_name) ||
	    (mode != STICKY_NONE && !*name) || strpbrk(name, " \t;=,\""))
		return opt_fail(why, "use 'cookie NAME', 'hash cookie|header|param NAME' or 'off'");
	for (const char *p = name; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return opt_fail(why, "control characters are not allowed");
	h->sticky = (uint8_t)mode;
	memset(h->sticky_name, 0, sizeof(h->sticky_name));
	memcpy(h->sticky_name, name, strlen(name));
	return 0;
}

static void format_sticky(const struct opt_row *o, const void *base, char *out, size_t len)
{
	const struct http_opts *h = base;

	if (h->sticky == STICKY_NONE) {
		snprintf(out, len, "off");
		return;
	}
	if (h->sticky == STICKY_INSERT)
		snprintf(out, len, "cookie");
	for (size_t i = 0; i < ARRAY_SIZE(sticky_hashes); i++)
		if (sticky_hashes[i].mode == h->sticky)
			snprintf(out, len, "hash %s", sticky_hashes[i].how);
	opt_put_word(out, len, h->sticky_name);
}

#define H struct http_opts

static const struct opt_row http_rows[] = {
	{ .key = "max_header_size", .flag = "max-header-size", .type = OPT_SIZE,
	  .scope = OPT_SVC, OPT_FIELD(H, max_head), .min = 1024, .max = 1u << 20,
	  .metavar = "SIZE", .example = "64k", .def = "32k",
	  .help = "weir: http: a request head above this is answered 431" },
	{ .key = "max_body_size", .flag = "max-body-size", .type = OPT_SIZE, .scope = OPT_SVC,
	  OPT_FIELD(H, max_body), .max = HTTP_MAX_BODY, .metavar = "SIZE", .example = "10m",
	  .def = "0 (none)", .help = "weir: http: a request body above this is answered 413" },
	{ .key = "header_timeout", .flag = "header-timeout", .type = OPT_DURATION,
	  .scope = OPT_SVC, OPT_FIELD(H, header_timeout_ms), .metavar = "T", .example = "5s",
	  .def = "10s", .help = "weir: http: a client has T to send a head (408)" },
	{ .key = "keepalive_timeout", .flag = "keepalive-timeout", .type = OPT_DURATION,
	  .scope = OPT_SVC, OPT_FIELD(H, keepalive_timeout_ms), .metavar = "T",
	  .example = "10s", .def = "60s",
	  .help = "weir: http: an idle client connection between requests closes after T" },
	{ .key = "server_timeout", .flag = "server-timeout", .type = OPT_DURATION,
	  .scope = OPT_SVC, OPT_FIELD(H, server_timeout_ms), .metavar = "T", .example = "1m",
	  .def = "30s", .help = "weir: http: a server silent T before answering: retry or 504" },
	{ .key = "server_keepalive_timeout", .flag = "server-keepalive-timeout",
	  .type = OPT_DURATION, .scope = OPT_SVC, OPT_FIELD(H, pool_idle_ms), .metavar = "T",
	  .example = "5s", .def = "30s",
	  .help = "weir: http: idle server connections are kept T for reuse" },
	{ .key = "server_keepalive_max", .flag = "server-keepalive-max", .type = OPT_U32,
	  .scope = OPT_SVC, OPT_FIELD(H, pool_max_idle), .max = 100000, .metavar = "N",
	  .example = "8", .def = "64",
	  .help = "weir: http: idle connections kept per server and worker (0: no reuse)" },
	{ .key = "retry_buffer", .flag = "retry-buffer", .type = OPT_SIZE, .scope = OPT_SVC,
	  OPT_FIELD(H, retry_mem), .max = 64u << 20, .metavar = "SIZE", .example = "1m",
	  .def = "64k", .help = "weir: http: request bytes kept in memory for a retry" },
	{ .key = "retry_unsafe", .flag = "retry-unsafe", .type = OPT_BOOL, .scope = OPT_SVC,
	  OPT_FIELD(H, retry_unsafe), .metavar = "on|off", .example = "on", .def = "off",
	  .help = "weir: http: also retry non-idempotent requests a server may have seen" },
	{ .key = "request_transfer_codings", .flag = "request-transfer-codings",
	  .type = OPT_BOOL, .scope = OPT_SVC, OPT_FIELD(H, request_codings),
	  .metavar = "on|off", .example = "on", .def = "off",
	  .help = "weir: http: requests may carry codings before chunked (else 501)" },
	{ .key = "forwarded_headers", .flag = "forwarded-headers", .type = OPT_BOOL,
	  .scope = OPT_SVC, OPT_FIELD(H, forwarded), .metavar = "on|off", .example = "off",
	  .def = "on", .help = "weir: http: add X-Forwarded-For/-Proto and Forwarded" },
	{ .key = "via", .flag = "via", .type = OPT_BOOL, .scope = OPT_SVC, OPT_FIELD(H, via),
	  .metavar = "on|off", .example = "on", .def = "off",
	  .help = "weir: http: add Via: 1.x weir both ways" },
	{ .key = "sticky", .flag = "sticky", .type = OPT_CUSTOM, .scope = OPT_SVC,
	  .min_args = 1, .max_args = 3, OPT_SPAN(H, sticky, sticky_name),
	  .parse = parse_sticky, .format = format_sticky, .metavar = "WORDS",
	  .example = "hash header X-User", .def = "off",
	  .help = "weir: http: sticky sessions: \"cookie NAME\", \"hash cookie|header|param NAME\"" },
	{ .key = "access_log", .flag = "access-log", .type = OPT_CUSTOM, .scope = OPT_SVC,
	  .min_args = 1, .max_args = 1, OPT_FIELD(H, access_log), .parse = parse_access_log,
	  .format = format_access_log, .metavar = "PATH", .example = "/var/log/weir access.log",
	  .def = "off", .help = "weir: http: one line per request: off, stderr or a file" },
};

#undef H

struct opt_block http_opt_block = {
	.name = "http", .scope = OPT_SVC,
	.size = sizeof(struct http_opts), .align = _Alignof(struct http_opts),
	.defaults = http_defaults,
	.rows = http_rows, .nrows = ARRAY_SIZE(http_rows),
};
