/*
 * check_ops.h - a kind of check, as health/check.c runs it, for the files
 * that implement one (check_tcp.c, check_http.c, check_agent.c,
 * check_udp.c, check_dns.c).
 *
 * check.c does what every kind shares: the check threads, when checks run
 * (the interval with jitter; the first check at a random point of the
 * first interval), connecting, the timeout, sending the kind's request,
 * reading the answer into a buffer, closing, and handing the result on. A
 * kind says whether a server has a check of its kind and with what
 * settings, what to send, what the answer means, and whom to tell.
 *
 * A check talks over TCP (connect, send, read a stream), or with `dgram`
 * over UDP (one datagram out, datagrams back, each read whole).
 *
 * A new kind is a file filling a struct hc_ops, and a line in
 * health_kinds_register() (check.c). A kind of active check (settings in a
 * check_spec, its words `check NAME ...`) also fills a struct check_kind
 * for the core's parser and takes the hc_active_* functions below.
 */
#ifndef WEIR_HEALTH_CHECK_OPS_H
#define WEIR_HEALTH_CHECK_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/healthspec.h"
#include "core/table.h"
#include "health/state.h"

/* A server has one check per slot: its active check (tcp, http...), which
 * its check_spec chooses, and its agent. */
enum hc_slot { HC_SLOT_ACTIVE, HC_SLOT_AGENT, HC_SLOTS };

#define HC_OWN_MAX (sizeof(struct check_spec) + 96)
#define HC_WHAT_MAX 288   /* a verdict in words: "HTTP 200", an agent's line */
#define HC_MORE (-1)      /* answer(): not decided yet, read on */

/* What one check runs with, as its kind's want() found it in the table. It
 * is compared whole to tell whether a running check must be replaced:
 * want() gets it zeroed. Immutable once the check runs (the check thread
 * reads it). */
struct hc_conf {
	uint16_t port;               /* where to connect; 0 = the server's port */
	uint8_t jitter_pct;          /* each interval varies by up to +-this % */
	uint32_t interval_ms;        /* the first check comes within it (at most
	                              * 1 s); done() says when the next ones do */
	uint32_t timeout_ms;         /* connect and answer */
	/* the kind's own settings: its struct laid over these bytes (an
	 * active kind's starts with its check_spec: hc_active_*) */
	union {
		unsigned char bytes[HC_OWN_MAX];
		uint64_t align_;
	} own;
};

struct hc_ops {
	const char *name;
	const struct check_kind *words; /* registered with the core by
					 * health_kinds_register(); NULL: none */
	uint8_t slot;                 /* enum hc_slot */
	size_t answer_max;            /* answer bytes held at once (<= HC_ANSWER_MAX) */
	bool dgram;                   /* over UDP: the request is one datagram, sent
				       * at the start; each datagram back from the
				       * server's address and port is one answer()
				       * call (the kernel drops others), and an ICMP
				       * port unreachable fails the check, "refused" */
	size_t state_size;            /* one check's running state, zeroed before
				       * each but for its first keep_size bytes */
	size_t keep_size;             /* the head of the state that lives as long as
				       * the check object: setup() fills it */
	/* Control thread, when the check object is made: fills the kept head of
	 * <state> (zeroed) for <conf>, e.g. compiles a regex once. 0, or -errno:
	 * no check then. NULL: nothing kept. */
	int (*setup)(void *state, const struct hc_conf *conf);
	/* Any thread, once, when the check object goes: releases what setup()
	 * made (setup() returned 0). */
	void (*teardown)(void *state);
	/* Check thread, before each check: may rewrite the request in place
	 * (req[0..len)) with <rnd>, 64 random bits (a DNS id), and note in
	 * <state> what answer() must see. NULL: the same request every time. */
	void (*prepare)(void *state, const struct hc_conf *conf, char *req, size_t len,
			uint64_t rnd);
	/* Control thread: whether <rs> of <svc> has a check of this kind; if
	 * so fills <conf> (zeroed). Exactly one kind of a slot says yes. */
	bool (*want)(const struct virtual_service *svc, const struct real_server *rs,
		     struct hc_conf *conf);
	/* Control thread: what to send once connected, into <out> (<size>
	 * bytes); returns its length. NULL: send nothing. */
	size_t (*request)(const struct hc_conf *conf, const struct weir_addr *to, char *out,
			  size_t size);
	/* Check thread: the answer so far is buf[0..*len), NUL-terminated, at
	 * most answer_max bytes; <eof> once the server has closed. Returns
	 * HC_MORE to read on (with room left in the buffer: it may consume
	 * bytes by lowering *len), or an enum check_result with <what>
	 * (HC_WHAT_MAX bytes) saying why. NULL: connecting is the check.
	 * dgram: buf holds one datagram (its first answer_max bytes), <eof> is
	 * false; HC_MORE = not an answer to this check (a stale DNS id): wait
	 * for another, with <what>, if written, saying why it was ignored. */
	int (*answer)(void *state, const struct hc_conf *conf, char *buf, size_t *len, bool eof,
		      char *what);
	/* Check thread: the check is over; tells health/state.c. Returns the
	 * milliseconds to the next check (check.c adds the jitter). */
	uint32_t (*done)(struct real_server *rs, const struct hc_conf *conf, enum check_result r,
			 const char *what, uint32_t us);
	/* Control thread, svc->lock held: this kind's check of <rs> was removed;
	 * what it said no longer holds. */
	void (*forget)(struct real_server *rs);
};

#define HC_ANSWER_MAX 4096

extern const struct hc_ops hc_tcp, hc_http, hc_agent, hc_udp, hc_dns;

/* For active kinds: want() when the server's check_spec (or its service's)
 * is of kind <words> (registered by health_kinds_register), with the check_spec
 * at the start of conf->own; done() hands the result to health_check_done
 * and asks for the fast interval while the server changes state; forget()
 * clears the active check's verdict. */
bool hc_active_want(const struct check_kind *words, const struct virtual_service *svc,
		    const struct real_server *rs, struct hc_conf *conf);
/* What hc_active_want() fills in <conf> for spec <c>. */
void hc_active_conf(struct hc_conf *conf, const struct check_spec *c);
uint32_t hc_active_done(struct real_server *rs, const struct hc_conf *conf,
			enum check_result r, const char *what, uint32_t us);
void hc_active_forget(struct real_server *rs);

/* Writes the verdict <fmt> into <what> (HC_WHAT_MAX) and returns <r>: for
 * answer()'s "return hc_verdict(what, CHECK_FAIL, "...", ...)". */
int hc_verdict(char *what, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The check_spec at the start of an active kind's conf->own. */
static inline const struct check_spec *hc_spec(const struct hc_conf *conf)
{
	return (const struct check_spec *)conf->own.bytes;
}

#endif
