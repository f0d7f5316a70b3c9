/*
 * proxy.h - the user-space forwarding modes. Each fills a `struct
 * proxy_ops` and is listed in proxy.c; the table finds a mode by its kind
 * and never names one.
 *
 * Life of a proxy service, all on the control thread:
 *   prepare()  acquires resources (binds listening sockets); nothing is
 *              visible to traffic yet. On error everything is released.
 *   start()    hands the listeners to the workers: traffic flows. Cannot fail.
 *   stop()     closes the listeners in every worker (asynchronously);
 *              sessions already open go on and finish. Also undoes a
 *              prepare() that was never started.
 */
#ifndef WEIR_PROXY_H
#define WEIR_PROXY_H

#include "core/spec.h"

struct virtual_service;

struct proxy_ops {
	enum proxy_kind kind;
	const char *name;
	int  (*prepare)(struct virtual_service *svc, char *err);
	void (*start)(struct virtual_service *svc);
	void (*stop)(struct virtual_service *svc);
};

/* The mode for <kind>, or NULL if this build has none. */
const struct proxy_ops *proxy_find(enum proxy_kind kind);

#endif
