/*
 * metrics_http.h - the admin HTTP listener (`metrics ADDR;`): GET /metrics
 * answers the Prometheus text format, GET /status the JSON summary, / and
 * /dashboard and /api/... the live dashboard (ctl/dash.h). One
 * request per connection (Connection: close), heads of at most 8 KiB, on
 * the control thread through ctl/admin.c's client handling.
 */
#ifndef WEIR_METRICS_HTTP_H
#define WEIR_METRICS_HTTP_H

#include <stddef.h>

#include "ctl/admin.h"

#define MHTTP_MAX_HEAD 8192

extern const struct admin_proto metrics_http_proto;

/* The request head's verdict, read with proto/http.c's parser. Pure, for
 * the fuzzer. */
struct mhttp_req {
	int status;          /* 0 = fine; else the error status to answer:
	                      * 400 malformed, 405 not GET or HEAD, 414 path
	                      * too long, 431 head too large */
	char method[16];
	char path[256];      /* without the query */
	char query[512];     /* after '?'; "" when none or too long */
	char token[256];     /* X-Weir-Token (the dashboard's control); "" none */
	bool head;           /* HEAD: no body in the answer */
	bool post;           /* POST (status 405: only the dashboard takes one) */
	bool body;           /* the request announces a body */
};
/* Parses a complete head (up to and including the empty line). */
void mhttp_parse(const char *head, size_t len, struct mhttp_req *out);

#endif
