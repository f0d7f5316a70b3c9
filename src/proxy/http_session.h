/*
 * http_session.h - the session of the HTTP proxy and of the redirect mode,
 * shared by the files that handle it (internal to src/proxy/):
 *
 *   http.c          the session's life and its client side: reading and
 *                   parsing heads, keep-alive, the answers weir gives
 *                   itself, the lingering close, timeouts, accepting
 *   http_park.c     idle keep-alive connections parked without a session
 *   http_forward.c  --proxy http: a request forwarded to a server (retries,
 *                   the server pool, the drain signal), its response back
 *   http_head.c     heads rewritten: hop-by-hop fields, Host, the
 *                   forwarding fields (X-Forwarded-*, Forwarded, Via)
 *   http_sticky.c   sticky sessions: the key a request carries, the choice
 *                   it makes, the cookie of insert mode
 *   redirect.c      --proxy redirect: a request answered with a 302
 *
 * One session per client connection. A session, its buffers and its server
 * connection belong to the worker thread that accepted the connection.
 *
 * The two modes share everything up to a complete request head; then
 * <on_request> (the mode's) takes the request: the proxy forwards it, the
 * redirect mode answers it. Either ends by answering (hs_respond_error(),
 * or a response relayed and hs_next_request()), or by closing.
 */
#ifndef WEIR_PROXY_HTTP_SESSION_H
#define WEIR_PROXY_HTTP_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/loop.h"
#include "core/table.h"
#include "proto/http.h"
#include "proxy/http_opts.h"
#include "proxy/pworker.h"
#include "proxy/reqstore.h"
#include "proxy/srvpool.h"
#include "proxy/transport.h"

#define MAX_TRIES 8
#define OUT_HIGH (256u << 10)     /* stop reading the server above this */
#define STORE_HIGH (256u << 10)   /* stop reading the client above this unsent */
#define READ_CHUNK 16384
#define PARK_AFTER_MS 1000        /* an idle keep-alive connection parks after this */

enum hs_state { HS_HEAD, HS_FORWARD, HS_TUNNEL, HS_LINGER, HS_CLOSED };

struct http_session;

/* What a mode does with a request whose head is complete: <n> bytes at the
 * start of s->cin, parsed in s->rh (valid during the call only). */
typedef void (*hs_request_fn)(struct http_session *s, int n);

struct http_session {
	struct session_link link;
	struct tp_conn cli;            /* the client connection */
	struct worker *w;
	struct virtual_service *svc;   /* reference */
	struct virtual_service *target; /* reference: svc, or the pool a route chose */
	hs_request_fn on_request;      /* the mode's */
	struct vs_runtime rt;
	struct weir_addr client;       /* as the PROXY header says, if trusted */
	char client_ip[ADDR_STRLEN];   /* its address as text, once needed */
	uint8_t client_ip_len;         /* 0: not made yet */
	struct weir_addr local;        /* the address the client connected to */
	bool need_proxy_header;        /* a trusted front: its header comes first */
	struct buf cin, cout;
	bool cli_readable, cli_eof, close_after;
	bool cli_hup;                  /* the client's FIN was reported: read to EOF */
	bool linger;                   /* weir answered an error: linger on close */
	uint64_t linger_end;           /* ms: HS_LINGER ends then at the latest */
	uint64_t linger_bytes;         /* dropped so far */
	enum hs_state state;
	struct timer timer;            /* fires at or before <deadline> */
	uint64_t deadline;             /* ms; 0: none */
	unsigned served;               /* requests answered on this connection */
	/* the request in flight */
	struct http_msg req;
	struct http_head *rh;          /* its head, while the head is handled */
	uint8_t req_minor;             /* HTTP/1.<minor> of the request */
	bool req_done, idempotent, keepalive, head_method;
	uint64_t body_bytes;
	struct reqstore store;
	char line[200];                /* "METHOD target" for the access log */
	uint64_t t_start;              /* the head was complete */
	uint64_t t_dispatch;           /* a server was first chosen (hs_log_stamp) */
	uint64_t t_connected;          /* a server connection was ready (hs_log_stamp) */
	uint64_t t_resp;               /* the response head was complete */
	int ntried;
	struct real_server *tried[MAX_TRIES]; /* references */
	uint16_t fail_status;          /* what the last failed try calls for */
	const char *fail_why;
	struct real_server *rs;        /* counted active by svc_schedule */
	struct srvconn *sc;
	bool srv_readable;
	bool srv_hup;                  /* the server's FIN was reported: read to EOF */
	struct http_msg resp;
	struct http_head *resph;       /* its head, while the response head is handled */
	bool resp_keep_alive, resp_until_close; /* what the final response's head said */
	bool resp_started;
	uint16_t status;
	uint64_t resp_bytes;
	/* sticky sessions: the key the request carried */
	char sticky_key[128];
	uint8_t sticky_len;
	bool set_cookie;               /* insert mode: tell the client its server */
	bool fresh_retry;              /* a pooled connection died: tried a new one */
};

/* --- small helpers, inline: they are on every request's path ------------------ */

static inline uint64_t hs_ms(const struct http_session *s)
{
	return loop_now(s->w->loop);
}

/*
 * The session's timeout. Most steps of a request push the deadline later;
 * moving a timer in the loop's heap each time would cost more than the
 * rest of the step, so the timer stays where it is and, when it fires
 * before the deadline, goes to sleep again until then. Only a deadline
 * earlier than the timer moves it.
 */
static inline void hs_deadline_set(struct http_session *s, uint64_t when)
{
	s->deadline = when;
	if (!timer_armed(&s->timer) || when < s->timer.when)
		timer_arm(s->w->loop, &s->timer, when);
}

static inline void hs_deadline_after(struct http_session *s, uint32_t ms)
{
	hs_deadline_set(s, hs_ms(s) + ms);
}

static inline void hs_deadline_clear(struct http_session *s)
{
	s->deadline = 0;
	timer_cancel(s->w->loop, &s->timer);
}

/* The counters of the share the request went to: its pool, or the
 * service's own servers (svc->own). */
static inline struct vs_counters *hs_share(struct http_session *s)
{
	return stats_mine(s->target == s->svc ? &s->svc->own : &s->target->stats);
}

/* Calls <fn> on the service's counters, its share's once the request is
 * routed (a head refused before that counts in the service's alone), and
 * the server's. */
static inline void hs_counters(struct http_session *s,
			       void (*fn)(struct vs_counters *, void *), void *arg)
{
	fn(stats_mine(&s->svc->stats), arg);
	if (s->target && s->state != HS_HEAD)
		fn(hs_share(s), arg);
	if (s->rs)
		fn(stats_mine(&s->rs->stats), arg);
}

/* For hs_counters(): one response of class *<arg> (unsigned, 1..5). */
static inline void hs_count_status(struct vs_counters *c, void *arg)
{
	unsigned cls = *(unsigned *)arg;

	counter_add(&c->resp[cls < 6 ? cls : 0], 1);
}

/* The time for a timing only the access log shows: no clock read without
 * one. */
static inline uint64_t hs_log_stamp(const struct http_session *s)
{
	return http_opts_rt(&s->rt)->access_log[0] ? now_ns() : 0;
}

/* --- http.c: the session and its client side ------------------------------------ */

/* A session for client connection <cli> of <svc> (taken over: copied, its
 * events going to the session), waiting for a head, its requests going to
 * <on_request>; NULL when out of memory (<cli> is then the caller's
 * still). The caller links the session and registers s->cli.io. */
struct http_session *hs_session_new(struct worker *w, struct virtual_service *svc,
				    hs_request_fn on_request, const struct weir_addr *client,
				    const struct tp_conn *cli);
/* Frees a session that ended (loop_defer() callback). */
void hs_session_free(void *arg);
/* Ends the session: sockets, server, references, then the memory after
 * the current batch of events. */
void hs_session_close(struct http_session *s);
/* The client socket's events (also for a parked connection waking up). */
void hs_cli_cb(struct loop_io *io, uint32_t events);
/* Accepts client <fd> of listener <li> into a session of the mode whose
 * requests go to <on_request>. */
void hs_accept(struct listener *li, int fd, const struct weir_addr *peer,
	       hs_request_fn on_request);

/* Reads what the client sent into cin, up to <limit> bytes there. 0 or
 * -errno. */
int hs_client_read(struct http_session *s, size_t limit);
/* Sends cout to the client; then closes or lingers when the session is
 * to end (close_after). */
void hs_client_flush(struct http_session *s);
/* Answers <status> with a short body and closes after it; <why> goes to
 * the debug log. */
void hs_respond_error(struct http_session *s, int status, const char *why);
/* The request and its response are over: get ready for the next one. */
void hs_next_request(struct http_session *s);
/* Points s->target at <t> (a reference), letting go of the last one. */
void hs_set_target(struct http_session *s, struct virtual_service *t);
/* The access log line of the request that just ended, if the service
 * keeps one. */
void hs_access_log(struct http_session *s);

/* --- http_park.c ------------------------------------------------------------------ */

/* The session's timer fired before its deadline: an idle keep-alive
 * connection parks once it has waited PARK_AFTER_MS, or the timer comes
 * back when it will have. False: not idle, or the deadline comes first
 * (the caller re-arms for the deadline). */
bool hs_park_or_wait(struct http_session *s);

/* --- http_forward.c: --proxy http -------------------------------------------------- */

/* The proxy mode's hs_request_fn: forwards the request. */
void hs_forward(struct http_session *s, int n);
/* Moves what can move between the server and the client. */
void hs_server_pump(struct http_session *s);
/* Client bytes arrived while a request is forwarded (its body, a tunnel). */
void hs_client_forward(struct http_session *s);
/* The session's deadline passed while forwarding. */
void hs_forward_timeout(struct http_session *s);
/* Lets go of the server connection (to the pool when <reusable>) and of
 * the server's count. */
void hs_release_server(struct http_session *s, bool reusable);

/* --- http_head.c ------------------------------------------------------------------- */

/* Writes the request head (s->rh, over <base>) as the server gets it into
 * the store. 0 or -errno. */
int hs_build_request_head(struct http_session *s, const char *base);
/* Writes the response head (s->resph, over <base>) as the client gets it
 * into cout. */
void hs_relay_response_head(struct http_session *s, const char *base);

/* --- http_sticky.c ----------------------------------------------------------------- */

/* The two below, for a service with sticky sessions. */
void hs_sticky_read_key(struct http_session *s, const char *base);
struct real_server *hs_sticky_choose(struct http_session *s);

/* Records the request's sticky key (s->rh over <base>, before the head is
 * consumed). */
static inline void hs_sticky_key_of(struct http_session *s, const char *base)
{
	s->sticky_len = 0;
	s->set_cookie = false;
	if (http_opts_rt(&s->rt)->sticky)
		hs_sticky_read_key(s, base);
}

/* The server a sticky request goes to (a reference counted active, as
 * svc_schedule()'s); NULL: the scheduler chooses. */
static inline struct real_server *hs_sticky_pick(struct http_session *s)
{
	return s->sticky_len ? hs_sticky_choose(s) : NULL;
}
/* The Set-Cookie line of insert mode for s->rs into <out>; its length. */
size_t hs_sticky_cookie(const struct http_session *s, char *out, size_t cap);
#define HS_COOKIE_MAX (sizeof("Set-Cookie: =; Path=/; HttpOnly\r\n") + 64 + 16)

#endif
