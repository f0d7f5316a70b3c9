/*
 * mode.h - how a virtual service carries traffic. Packet mode (LVS NAT, DR,
 * TUN through the XDP data path) is the absence of a mode: spec->proxy NULL.
 * Every user-space mode (tcp, http, redirect; later udp, dns) fills a
 * `struct svc_mode` and registers it at start-up (src/register.c); the core
 * keeps services and calls a mode's ops, and never names one.
 *
 * Life of a service of a mode, all on the control thread:
 *   prepare()  acquires resources (binds listening sockets); nothing is
 *              visible to traffic yet. On error everything is released.
 *   start()    hands the listeners to the workers: traffic flows. Cannot fail.
 *   stop()     closes the listeners in every worker (asynchronously);
 *              sessions already open go on and finish. Also undoes a
 *              prepare() that was never started.
 *
 * Registered modes are static objects that live as long as the program; a
 * spec holds a plain pointer to one.
 */
#ifndef WEIR_MODE_H
#define WEIR_MODE_H

#include <stdbool.h>
#include <stddef.h>

struct virtual_service;
struct service_spec;

struct svc_mode {
	const char *name;          /* config `proxy NAME`, weirctl --proxy NAME */
	int proto;                 /* IPPROTO_TCP or IPPROTO_UDP: its services' */
	bool pools;                /* takes named pools and routing rules */
	bool server_url;           /* its servers carry a public URL (redirect) */
	/* its own connections are not its servers' load (a DNS answer opens
	 * none): the table gives its servers, as sched_server.ext_active, the
	 * load weir sees on them elsewhere (core/load.c) */
	bool load_elsewhere;
	/* optional: refuses options the mode cannot honour (0, or -EINVAL with
	 * the reason in <err>, SPEC_ERR_MAX); pure, any thread */
	int  (*check)(const struct service_spec *sp, char *err);
	int  (*prepare)(struct virtual_service *svc, char *err);
	void (*start)(struct virtual_service *svc);
	void (*stop)(struct virtual_service *svc);
};

#define MODE_MAX 16

/* Registers <m> (start-up, before any config is read; not thread-safe).
 * Registering the same object again does nothing; two modes of one name,
 * or more than MODE_MAX, are a broken build: fatal. */
void mode_register(const struct svc_mode *m);
/* The mode named <name>, or NULL when none is registered by that name. */
const struct svc_mode *mode_find(const char *name);
/* "none" for packet mode, else the mode's name. */
const char *mode_name(const struct svc_mode *m);
/* "none" -> NULL; a registered name -> its mode. 0, or -ENOENT. */
int mode_parse(const char *s, const struct svc_mode **out);
/* The accepted words for messages: "none, tcp, http, redirect". */
void mode_names(char *out, size_t len);

#endif
