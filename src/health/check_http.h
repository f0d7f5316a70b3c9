/*
 * check_http.h - the http check (check_http.c): its settings, and the
 * pieces the unit tests and the fuzzer drive without a socket.
 */
#ifndef WEIR_HEALTH_CHECK_HTTP_H
#define WEIR_HEALTH_CHECK_HTTP_H

#include "health/check_ops.h"

#define HTTP_CHECK_MAX_EXPECT 8

/* An http check's own settings: its words, in check_spec.own. */
struct http_check {
	char method[16];
	char path[128];
	char host[128];               /* "" = the server's address */
	char body[64];                /* "" = any body; else it must contain this */
	struct http_expect {
		uint8_t n;            /* 0 = 200-399 */
		struct { uint16_t lo, hi; } r[HTTP_CHECK_MAX_EXPECT];
	} expect;
};

/* The http settings of an http check_spec. */
const struct http_check *http_check_of(const struct check_spec *c);

/* True if <status> is one the check expects. */
bool http_check_expects(const struct http_check *h, unsigned status);

/* What an http check of <c> runs with, as want() makes it from a service
 * whose drain signal is <drain_status> (0: none) with <drain_header>. */
void http_check_conf(struct hc_conf *conf, const struct check_spec *c, uint16_t drain_status,
		     const char *drain_header);

#endif
