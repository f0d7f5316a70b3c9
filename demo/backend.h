/*
 * backend.h - the pieces of weir-backend shared by its files.
 *
 *   backend.c         the server: options, sockets, a connection's I/O and
 *                     its state machine, echo mode, closing and resetting,
 *                     the agent port (--agent)
 *   backend_http.c    reads HTTP/1.x requests: head, Content-Length and
 *                     chunked bodies, 100-continue, keep-alive, pipelining
 *   backend_routes.c  answers them: one entry per path in a table
 *   sha256.c          the digest /echo reports for the body it read
 *
 * Ownership: a struct conn is owned by the loop callbacks of backend.c; it
 * is freed (deferred) by conn_close(), which also cancels its timer. Every
 * buffer in it is bounded by the limits below, so no client can make the
 * server grow without end. Everything runs on the one loop thread.
 */
#ifndef WEIR_DEMO_BACKEND_H
#define WEIR_DEMO_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/buf.h"
#include "core/loop.h"
#include "sha256.h"

#define HEAD_MAX   (64u << 10)        /* request line + headers + blank line */
#define BODY_MAX   (64ull << 20)      /* a request body, decoded */
#define IN_MAX     (2 * HEAD_MAX)     /* bytes read ahead of the parser */
#define READ_SIZE  (16u << 10)        /* bytes asked of one recv() */
#define OUT_HIGH   (256u << 10)       /* no new request until out drains below */
#define OUT_MAX    (BODY_MAX + HEAD_MAX + 2 * OUT_HIGH) /* /echo of the largest body */
#define LINGER_MS  2000               /* after our FIN, wait this long for theirs */
#define AGENT_SAY_MAX 128             /* the agent's line, with its NUL */

enum mode { MODE_HTTP, MODE_ECHO };

struct route;

struct server {
	struct loop *loop;
	struct loop_io lio, sig;
	const char *name;
	enum mode mode;
	bool verbose;
	const struct route *fail_route;  /* --fail-mode reset|close-early|drain */
	uint32_t fail_delay_ms;          /* --fail-mode slow:MS */
	int fail_status;                 /* /fail/set?code=N: traffic answers N; 0 = off */
	int health_status;               /* /health answers this ... */
	bool health_drain;               /* ... or the drain signal, if set */
	struct loop_io agent_lio;        /* --agent; fd -1 when not asked for */
	char agent_say[AGENT_SAY_MAX];   /* what the agent port answers, without "\n" */
	uint64_t agent_polls;            /* agent connections accepted so far */
	uint64_t conns;                  /* accepted so far (the agent's not counted) */
	uint64_t requests;               /* answered, refused or failed on purpose */
};

/* A connection is in one state; the I/O driver in backend.c reads, lets the
 * state do its work and flushes, until nothing moves. */
enum conn_state {
	ST_HEAD,    /* reading a request head */
	ST_BODY,    /* reading its body */
	ST_DELAY,   /* request read; the timer holds the answer back */
	ST_STREAM,  /* answering /big: body still to queue */
	ST_RAW,     /* echo mode, or upgraded: send back what arrives */
	ST_FINISH,  /* no more requests: <finish> once out is sent */
	ST_LINGER,  /* FIN sent: drop input until the peer's FIN or a timeout */
};

enum finish { FIN_CLOSE, FIN_RESET };

/* A byte range inside conn->head (valid until the next request starts). */
struct span {
	const char *p;
	size_t len;
};

enum body_state { BODY_NONE, BODY_LENGTH, CHUNK_SIZE, CHUNK_DATA, CHUNK_CRLF, CHUNK_TRAILER };

/* The request being read or answered on a connection. */
struct http_req {
	struct span method, target, path, query, headers; /* headers: the raw lines */
	size_t scan;                     /* head bytes already searched for its end */
	int minor;                       /* HTTP/1.<minor> */
	uint64_t clen;                   /* Content-Length, if has_clen */
	bool has_clen, chunked, is_head;
	bool conn_close, conn_upgrade;   /* Connection: close / upgrade */
	bool upgrade_offered;            /* Upgrade: echo */
	bool keep_alive, expect_continue, upgrade_echo;
	bool keep_body;                  /* /echo: keep the body and hash it */
	const struct route *route;
	enum body_state bst;
	uint64_t left;                   /* of Content-Length or of this chunk */
	uint64_t body_len;               /* body bytes decoded so far */
	size_t trailer_bytes;
	unsigned trailers;
	struct sha256 sha;
	int status;                      /* answered with; 0 = none (reset, close) */
	uint64_t resp_len;               /* body bytes announced */
};

struct conn {
	struct loop_io io;
	struct server *srv;
	struct buf in, out;
	struct buf head;                 /* the current request's head, as received */
	struct buf body;                 /* its body, for /echo only */
	struct http_req req;
	struct timer timer;              /* ST_DELAY: the answer; ST_LINGER: the close */
	struct weir_addr peer;
	uint64_t nreqs;                  /* requests begun on this connection */
	uint64_t big_left;               /* /big: body bytes not yet queued */
	enum conn_state state;
	enum finish finish;
	bool readable;                   /* recv() may find bytes (see conn_read) */
	bool fin_queued;                 /* an EPOLLRDHUP was seen: read on to the FIN */
	bool eof;                        /* the peer's FIN was read */
	bool failed;                     /* out of memory or over a cap: close */
	bool closed;
};

/* backend.c */
/* Stops reading requests on <c>: once out is sent, close or reset. */
void conn_finish(struct conn *c, enum finish how);
/* Queues <n> bytes on <c>'s output; past OUT_MAX the connection fails. */
void conn_send(struct conn *c, const void *p, size_t n);
void conn_sendf(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Holds <c> in ST_DELAY for <ms>, then calls http_timer(). */
void conn_delay(struct conn *c, uint32_t ms);

/* backend_http.c */
/* Advances the request state of <c>; returns whether anything moved. */
bool http_work(struct conn *c);
/* The ST_DELAY timer of <c> fired: answer the request. */
void http_timer(struct conn *c);
/* Ends the answered request: next one, or close if not keep-alive. */
void http_request_end(struct conn *c);
/* Answers <status> with a short body and closes (a request we refuse). */
void http_error(struct conn *c, int status);

/* backend_routes.c */
/* The route that answers <r> on <s>: the one of its path (the default, which
 * answers NAME, if unlisted), unless a failure mode of <s> or an upgrade
 * takes over. The health and control paths are never failed on purpose. */
const struct route *route_pick(const struct server *s, const struct http_req *r);
/* Whether <rt> is a health or control path, which --fail-mode slow:MS does
 * not delay either. */
bool route_is_control(const struct route *rt);
/* The route a --fail-mode <name> forces, NULL if there is none. */
const struct route *route_fail_mode(const char *name);
/* Whether <rt> answers without reading the body. */
bool route_skips_body(const struct route *rt);
/* Whether <rt> needs the body kept (and hashed). */
bool route_keeps_body(const struct route *rt);
/* Milliseconds <rt> waits before answering <r>. */
uint32_t route_delay(const struct route *rt, const struct http_req *r);
/* Queues the answer of <c>->req.route. */
void route_answer(struct conn *c);
/* ST_STREAM: queues more of /big; returns whether anything was queued. */
bool route_stream(struct conn *c);
/* Queues a response head: <len> is the Content-Length, or NO_LENGTH for a
 * chunked body (close-delimited for HTTP/1.0); <extra> are header lines. */
#define NO_LENGTH UINT64_MAX
void reply_head(struct conn *c, int status, uint64_t len, const char *extra);
/* Queues a whole response with body <body>. */
void reply(struct conn *c, int status, const char *extra, const char *body, size_t blen);

#endif
