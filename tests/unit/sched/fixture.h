/*
 * fixture.h - helpers the scheduler tests share: a set of servers with
 * given weights, an instance of a named algorithm over them, requests.
 */
#ifndef WEIR_TEST_SCHED_FIXTURE_H
#define WEIR_TEST_SCHED_FIXTURE_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sched/sched.h"
#include "../unit.h"

#define FX_MAX 1024

struct fx {
	struct sched *s;
	struct sched_server srv[FX_MAX];
	struct sched_server *ptr[FX_MAX];
	size_t n;
};

/* Server i gets address 10.0.i/256.i%256, port 80. */
static inline void fx_server_init(struct sched_server *srv, size_t i, uint32_t w)
{
	memset(srv, 0, sizeof(*srv));
	srv->weight = w;
	srv->addr[0] = 10;
	srv->addr[2] = (uint8_t)(i >> 8);
	srv->addr[3] = (uint8_t)i;
	srv->port = 80;
	srv->family = 4;
	srv->idx = -1;
}

/* Fills <f> with <n> servers of weights <w> (NULL = all 1) and an
 * instance of <name>; returns false (and fails the test) on error. */
static inline bool fx_open(struct fx *f, const char *name, const uint32_t *w,
			   size_t n, const struct sched_params *p)
{
	const struct sched_ops *ops = sched_find(name);

	memset(f, 0, sizeof(*f));
	if (!ops || n > FX_MAX) {
		unit_fail(__FILE__, __LINE__, "no scheduler %s", name);
		return false;
	}
	f->n = n;
	for (size_t i = 0; i < n; i++) {
		fx_server_init(&f->srv[i], i, w ? w[i] : 1);
		f->ptr[i] = &f->srv[i];
	}
	f->s = sched_create(ops, p);
	if (!f->s || sched_set_servers(f->s, f->ptr, n) != 0) {
		unit_fail(__FILE__, __LINE__, "cannot create %s", name);
		return false;
	}
	return true;
}

static inline void fx_close(struct fx *f)
{
	sched_set_servers(f->s, NULL, 0); /* sched_destroy leaves the servers */
	sched_destroy(f->s);
	f->s = NULL;
}

static inline int fx_pick(struct fx *f, uint64_t now)
{
	struct sched_req req = { .now_ms = now };

	return sched_pick(f->s, &req);
}

/* A request from v4 address <addr> (host order) and <port>. */
static inline int fx_pick_src(struct fx *f, uint32_t addr, uint16_t port,
			      uint64_t now)
{
	uint8_t a[4] = { (uint8_t)(addr >> 24), (uint8_t)(addr >> 16),
			 (uint8_t)(addr >> 8), (uint8_t)addr };
	struct sched_req req = { .src = a, .src_len = 4, .src_port = port,
				 .now_ms = now };

	return sched_pick(f->s, &req);
}

/* A request with locality key <key> (a string). */
static inline int fx_pick_key(struct fx *f, const char *key, uint64_t now)
{
	struct sched_req req = { .lkey = key, .lkey_len = strlen(key),
				 .now_ms = now };

	return sched_pick(f->s, &req);
}

/* A test-local xorshift, so tests do not depend on libc's rand(). */
static inline uint64_t fx_rand(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

#endif
