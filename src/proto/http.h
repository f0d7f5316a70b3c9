/*
 * http.h - HTTP/1.x messages as the proxy sees them: a head parsed into
 * spans of the caller's buffer, then a body whose end is found as it
 * streams through. llhttp (Debian's node-llhttp C sources, built into weir)
 * does the parsing; this layer adds what a proxy must refuse on top of it
 * (RFC 9112 request smuggling rules) and never allocates.
 *
 * Use:
 *   http_msg_init(&m, HTTP_REQUEST);
 *   n = http_head_parse(&m, buf, len, &head);  // >0: head length, 0: need
 *                                              // more, <0: refuse (m.status)
 *   then for the bytes after the head, as they arrive:
 *   k = http_body_scan(&m, p, avail);          // bytes of this message;
 *                                              // m.complete when it ended
 *
 * A struct http_msg belongs to one connection direction; it is reset with
 * http_msg_init() for each message. Spans stay valid while the caller keeps
 * the head bytes where they were parsed.
 */
#ifndef WEIR_PROTO_HTTP_H
#define WEIR_PROTO_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <llhttp.h>

#define HTTP_MAX_HEADERS 128
/* No body, and no chunk, may be larger than this (256 TiB): a chunk size or
 * a Content-Length beyond it is refused at once, and the body size limit
 * of a service cannot be set above it. */
#define HTTP_MAX_BODY (1ull << 48)

/* Message kinds are llhttp's: HTTP_REQUEST, HTTP_RESPONSE. */

/* method_id of a method llhttp does not know (with http_msg.any_method) */
#define HTTP_METHOD_OTHER 0xff

struct http_span {
	uint32_t off, len;             /* into the parsed buffer */
};

struct http_header {
	struct http_span name, value;  /* value without surrounding blanks */
};

struct http_head {
	struct http_span method, target;      /* request line */
	struct http_span path, query;         /* target split at '?' (query without it);
					       * the path after the authority in
					       * absolute-form */
	struct http_span origin;              /* path and query: the origin-form
					       * target (empty: "/") */
	struct http_span authority;           /* the host the request names: the
					       * target's authority in absolute-form,
					       * else the Host value (RFC 9112 3.2) */
	bool absolute;                        /* absolute-form target */
	bool asterisk;                        /* "OPTIONS *" */
	uint8_t method_id;                    /* llhttp_method_t, or HTTP_METHOD_OTHER */
	uint16_t status;                      /* response status */
	uint8_t major, minor;
	uint16_t nhdr;
	struct http_header hdr[HTTP_MAX_HEADERS];
	uint32_t len;                         /* head bytes, blank line included */
	/* framing, as the head declares it */
	bool chunked;
	bool has_length;
	uint64_t length;                      /* Content-Length */
	bool keep_alive;                      /* the connection may carry another */
	bool upgrade;                         /* Connection: upgrade + Upgrade */
	bool expect_continue;                 /* Expect: 100-continue */
	bool until_close;                     /* response body runs to EOF */
	bool no_body;                         /* nothing follows the head */
};

struct http_msg {
	llhttp_t p;
	llhttp_type_t kind;
	uint32_t max_head;       /* refuse heads longer than this */
	uint32_t scanned;        /* bytes of the head checked so far */
	uint8_t lead;            /* an empty line before the request line: 2 */
	bool head_done;
	bool complete;           /* the message's last byte has been scanned */
	bool head_request;       /* response to HEAD: no body whatever it says */
	uint16_t status;         /* why a head was refused: 400, 431, 501, 502 */
	const char *why;         /* ... in words */
	/* during http_head_parse only */
	const char *base;
	struct http_head *h;
	bool in_value;
	int hosts;
	bool allow_codings;      /* requests may carry codings before chunked */
	bool any_method;         /* a request method llhttp does not know is
				  * taken (method_id HTTP_METHOD_OTHER), not
				  * refused: for a server that answers 405 */
	bool method_fed;         /* during http_head_parse: see head_run() */
	uint64_t max_body;       /* a chunk larger than this is refused (413); 0: none */
	/* the body (http_body.c) */
	uint8_t body;            /* HTTP_BODY_*: how its end is found */
	uint8_t cs;              /* chunked: where in the grammar */
	bool cs_failed;          /* a framing error was found: it stays */
	uint32_t line_len;       /* bytes of the current chunk line, or trailers */
	uint64_t left;           /* bytes of the chunk or Content-Length to come */
};

enum { HTTP_BODY_NONE, HTTP_BODY_LENGTH, HTTP_BODY_CHUNKED, HTTP_BODY_EOF };

#define HTTP_DEFAULT_MAX_HEAD (32u << 10)

void http_msg_init(struct http_msg *m, llhttp_type_t kind, uint32_t max_head);

/* Parses the head at the start of <buf>. Returns its length (> 0) with <h>
 * filled, 0 if the head is not complete yet, or -1 when it must be refused:
 * m->status (400, 431 for requests; 502 for responses) and m->why say why. */
int http_head_parse(struct http_msg *m, const char *buf, size_t len, struct http_head *h);

/* Why a message was refused, for people: llhttp's words where llhttp found
 * the fault ("Invalid status code"), else m->why. */
const char *http_why(const struct http_msg *m);

/* Scans <len> body bytes that follow the head (or earlier body bytes).
 * Returns how many belong to this message (m->complete is set once the
 * last one is seen; the rest belong to the next message), or -1 on a
 * framing error: m->status (400, 413, 431; 502 for responses) and m->why
 * say which. Bytes before the error were valid; none after it is. */
long http_body_scan(struct http_msg *m, const char *buf, size_t len);

/* The same for a reader of the body's content (not a forwarder): scans the
 * framing up to and including one run of content bytes. Returns the bytes
 * of <buf> that took (call again with the rest), with <data> the content
 * among them (offset from <buf>; len 0 if none), or -1 as above. */
long http_body_data(struct http_msg *m, const char *buf, size_t len, struct http_span *data);

/* Sets up body framing from a parsed head (http_head_parse does it). */
void http_body_start(struct http_msg *m, const struct http_head *h);

/* The peer closed: a body that runs until close is now complete. */
void http_msg_eof(struct http_msg *m);

/* Finds header <name> (case-insensitive); returns its index or -1.
 * <from> lets a caller find the next one. */
int http_find(const struct http_head *h, const char *base, const char *name, int from);
/* True if span <s> of <base> equals <str>, ignoring case. */
bool http_span_ieq(const char *base, struct http_span s, const char *str);
/* RFC 9110 token characters: what a method or a field name is made of. */
bool http_is_tchar(unsigned char c);
/* True if the comma-separated list in header value <s> holds <token>
 * (ignoring case); the _n form takes a token of <tl> bytes. */
bool http_list_has(const char *base, struct http_span s, const char *token);
bool http_list_has_n(const char *base, struct http_span s, const char *token, size_t tl);

#endif
