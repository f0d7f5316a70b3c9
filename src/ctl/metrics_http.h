/*
 * metrics_http.h - the admin HTTP listener (`metrics ADDR;`): GET /metrics
 * answers the Prometheus text format, GET /status the JSON summary, / and
 * /dashboard and /api/... the live dashboard (ctl/dash.h). One
 * request per connection (Connection: close), heads of at most 8 KiB, on
 * the control thread through ctl/admin.c's client handling.
 *
 * DNS rebinding: the listener's address decides who may connect, but a
 * hostile web page can point a name it owns at 127.0.0.1 and read the
 * answers as its own origin's. Every request (/metrics included: its
 * numbers are the dashboard's) must therefore name the listener in Host as
 * an IP literal, localhost, or a `metrics_hosts` name; else 421.
 */
#ifndef WEIR_METRICS_HTTP_H
#define WEIR_METRICS_HTTP_H

#include <stddef.h>

#include "core/spec.h"
#include "ctl/admin.h"

#define MHTTP_MAX_HEAD 8192

extern const struct admin_proto metrics_http_proto;

/* The request head's verdict, read with proto/http.c's parser. Pure, for
 * the fuzzer. */
struct mhttp_req {
	int status;          /* 0 = fine; else the error status to answer:
	                      * 400 malformed, 405 not GET or HEAD, 414 path
	                      * too long, 431 head too large (the Host check
	                      * is mhttp_req_host's) */
	char method[16];
	char path[256];      /* without the query */
	char query[512];     /* after '?'; "" when none or too long */
	char token[256];     /* X-Weir-Token (the dashboard's control); "" none */
	char host[272];      /* Host (or an absolute target's authority); ""
	                      * none, or too long (host_long) */
	bool host_long;
	bool http10;         /* HTTP/1.0: Host is optional */
	bool head;           /* HEAD: no body in the answer */
	bool post;           /* POST (status 405: only the dashboard takes one) */
	bool body;           /* the request announces a body */
};
/* Parses a complete head (up to and including the empty line). */
void mhttp_parse(const char *head, size_t len, struct mhttp_req *out);

/* 0 if <host> (a Host value: HOST[:PORT]) names this listener: an IPv4
 * literal, an [IPv6] literal, localhost, or one of <cfg>'s metrics_hosts;
 * letters in any case, a name with one trailing dot; any port. Else 421.
 * Pure, for the unit tests and the fuzzer. */
int mhttp_host_check(const char *host, const struct weir_config *cfg);
/* The Host verdict of a parsed request <r> (status 0 or 405): 0, or 421;
 * an HTTP/1.0 request may leave Host out (a browser never does). */
int mhttp_req_host(const struct mhttp_req *r, const struct weir_config *cfg);

#endif
