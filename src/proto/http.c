/*
 * http.c - HTTP/1.x heads over llhttp (see http.h; bodies: http_body.c).
 *
 * llhttp runs strict (no lenient flags): it refuses Content-Length together
 * with Transfer-Encoding, duplicate or invalid Content-Length, a
 * Transfer-Encoding whose last coding is not chunked, invalid characters in
 * names, values and targets. Before llhttp sees a head, head_scan() refuses
 * what llhttp would let through and a proxy must not: a bare CR or LF, a
 * NUL, obsolete line folding. After it, head_check() applies the rules of
 * RFC 9112 that concern the whole head (one valid Host; the target's form,
 * with no blank or control in it: Debian's llhttp is built without
 * LLHTTP_STRICT_MODE and lets HTAB and FF through; no Transfer-Encoding in
 * HTTP/1.0; only chunked on a request).
 */
#include <ctype.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "proto/http.h"

/* RFC 9110 token characters: what a field name is made of (a table: this
 * runs for every byte of every header name). */
static const bool tchar[256] = {
	['a' ... 'z'] = true, ['A' ... 'Z'] = true, ['0' ... '9'] = true,
	['!'] = true, ['#'] = true, ['$'] = true, ['%'] = true, ['&'] = true,
	['\''] = true, ['*'] = true, ['+'] = true, ['-'] = true, ['.'] = true,
	['^'] = true, ['_'] = true, ['`'] = true, ['|'] = true, ['~'] = true,
};

bool http_is_tchar(unsigned char c)
{
	return tchar[c];
}

/* --- llhttp callbacks: record spans into the head ---------------------------- */

static struct http_msg *msg_of(llhttp_t *p)
{
	return p->data;
}

static struct http_span span_of(struct http_msg *m, const char *at, size_t len)
{
	struct http_span s = { (uint32_t)(at - m->base), (uint32_t)len };

	return s;
}

/* llhttp calls a data callback once per contiguous piece; the whole head is
 * in one buffer, but be safe and extend a span that continues. */
static void extend(struct http_msg *m, struct http_span *s, const char *at, size_t len)
{
	if (s->len && s->off + s->len == (uint32_t)(at - m->base))
		s->len += (uint32_t)len;
	else
		*s = span_of(m, at, len);
}

static int on_method(llhttp_t *p, const char *at, size_t len)
{
	struct http_msg *m = msg_of(p);

	if (m->method_fed)
		return 0; /* not the caller's bytes: head_run() sets the span */
	extend(m, &m->h->method, at, len);
	return 0;
}

static int on_url(llhttp_t *p, const char *at, size_t len)
{
	struct http_msg *m = msg_of(p);

	extend(m, &m->h->target, at, len);
	return 0;
}

static int on_header_field(llhttp_t *p, const char *at, size_t len)
{
	struct http_msg *m = msg_of(p);
	struct http_head *h = m->h;

	if (m->in_value || h->nhdr == 0) {
		if (h->nhdr == HTTP_MAX_HEADERS) {
			m->status = 431;
			m->why = "too many header fields";
			return -1;
		}
		h->hdr[h->nhdr].name = span_of(m, at, len);
		h->hdr[h->nhdr].value = (struct http_span){ 0, 0 };
		h->nhdr++;
		m->in_value = false;
		return 0;
	}
	extend(m, &h->hdr[h->nhdr - 1].name, at, len);
	return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t len)
{
	struct http_msg *m = msg_of(p);
	struct http_header *hd = &m->h->hdr[m->h->nhdr - 1];

	extend(m, &hd->value, at, len);
	m->in_value = true;
	return 0;
}

static int on_header_value_complete(llhttp_t *p)
{
	struct http_msg *m = msg_of(p);
	struct http_header *hd = &m->h->hdr[m->h->nhdr - 1];

	while (hd->value.len && (m->base[hd->value.off + hd->value.len - 1] == ' ' ||
				 m->base[hd->value.off + hd->value.len - 1] == '\t'))
		hd->value.len--;
	return 0;
}

static int on_header_field_complete(llhttp_t *p)
{
	/* a value callback may not come for an empty value */
	msg_of(p)->in_value = true;
	return 0;
}

static int on_headers_complete(llhttp_t *p)
{
	struct http_msg *m = msg_of(p);
	struct http_head *h = m->h;

	h->method_id = p->method;
	h->status = p->status_code;
	h->major = p->http_major;
	h->minor = p->http_minor;
	h->chunked = p->flags & F_CHUNKED;
	h->has_length = p->flags & F_CONTENT_LENGTH;
	h->length = p->content_length;
	h->keep_alive = llhttp_should_keep_alive(p);
	h->upgrade = p->upgrade;
	m->head_done = true;
	if (m->head_request)
		return 1; /* a response to HEAD has no body, whatever it says */
	return 0;
}

static int on_message_complete(llhttp_t *p)
{
	struct http_msg *m = msg_of(p);

	m->complete = true;
	return HPE_PAUSED; /* stop exactly at the end of this message */
}

static const llhttp_settings_t callbacks = {
	.on_method = on_method,
	.on_url = on_url,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_header_field_complete = on_header_field_complete,
	.on_header_value_complete = on_header_value_complete,
	.on_headers_complete = on_headers_complete,
	.on_message_complete = on_message_complete,
};

void http_msg_init(struct http_msg *m, llhttp_type_t kind, uint32_t max_head)
{
	memset(m, 0, sizeof(*m));
	llhttp_init(&m->p, kind, &callbacks);
	m->p.data = m;
	m->kind = kind;
	m->max_head = max_head ? max_head : HTTP_DEFAULT_MAX_HEAD;
}

/* --- the head -------------------------------------------------------------- */

static int refuse(struct http_msg *m, uint16_t status, const char *why)
{
	m->status = m->kind == HTTP_REQUEST ? status : 502;
	m->why = why;
	return -1;
}

/* Finds the blank line ending the head, checking each byte once across
 * calls: every LF preceded by CR, every CR followed by LF, no NUL, no line
 * that starts with blank (obsolete folding). The first fault in the order
 * of the bytes is the one reported, so that the verdict and its reason do
 * not depend on how the bytes arrived. Returns the head length, 0 if not
 * complete, -1 refused. */
static int head_scan(struct http_msg *m, const char *buf, size_t len)
{
	size_t i = m->scanned;

	/* one empty line before a request line is ignored (RFC 9112 2.2): a
	 * client's stray CRLF after a body; it is part of the head's bytes */
	if (i == 0 && m->kind == HTTP_REQUEST && len && buf[0] == '\r') {
		if (len < 2)
			return 0;
		if (buf[1] == '\n')
			m->lead = i = 2;
	}

	/* line by line: memchr finds the LF, and what lies before it is
	 * checked for NUL and CR in bulk rather than byte by byte */
	while (i < len) {
		const char *nl = memchr(buf + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - buf) : len; /* the LF, or the end */
		const char *nul, *cr;

		/* checked here, at the line's start, not when its LF was seen:
		 * the blank may come in a later read */
		if (i > m->lead && buf[i - 1] == '\n' && (buf[i] == ' ' || buf[i] == '\t'))
			return refuse(m, 400, "obsolete line folding");
		nul = memchr(buf + i, '\0', end - i);
		cr = memchr(buf + i, '\r', end - i);
		/* a CR is bare unless an LF follows; the last byte so far waits */
		if (cr && (size_t)(cr - buf) == end - 1)
			cr = NULL;
		if (nul && (!cr || nul < cr))
			return refuse(m, 400, "NUL byte in head");
		if (cr)
			return refuse(m, 400, "bare CR in head");
		if (!nl) {
			i = buf[len - 1] == '\r' ? len - 1 : len;
			break;
		}
		if (end == 0 || buf[end - 1] != '\r')
			return refuse(m, 400, "bare LF in head");
		if (end >= (size_t)m->lead + 3 && buf[end - 2] == '\n' && buf[end - 3] == '\r') {
			if (end + 1 > m->max_head)
				return refuse(m, 431, "head too large");
			m->scanned = (uint32_t)end + 1;
			return (int)(end + 1);
		}
		if (end == (size_t)m->lead + 1)
			return refuse(m, 400, "empty line before the request");
		i = end + 1;
	}
	m->scanned = (uint32_t)i;
	if (i >= m->max_head)
		return refuse(m, 431, "head too large");
	return 0;
}

/* RFC 3986 reg-name characters (unreserved, pct-encoded, sub-delims) but
 * the comma: a Host that is a list is refused, whatever reads it. */
static const bool host_char[256] = {
	['a' ... 'z'] = true, ['A' ... 'Z'] = true, ['0' ... '9'] = true,
	['-'] = true, ['.'] = true, ['_'] = true, ['~'] = true, ['%'] = true,
	['!'] = true, ['$'] = true, ['&'] = true, ['\''] = true, ['('] = true,
	[')'] = true, ['*'] = true, ['+'] = true, [';'] = true, ['='] = true,
};

/* uri-host [ ":" port ], as Host and an absolute-form target carry it:
 * a reg-name or IPv4 address, or an IP literal in brackets. */
static bool authority_valid(const char *p, size_t len)
{
	size_t i = 0;

	if (len && p[0] == '[') {
		const char *close = memchr(p, ']', len);

		if (!close || close == p + 1)
			return false;
		for (const char *c = p + 1; c < close; c++)
			if (!isxdigit((unsigned char)*c) && *c != ':' && *c != '.')
				return false;
		i = (size_t)(close - p) + 1;
	} else {
		while (i < len && host_char[(unsigned char)p[i]])
			i++;
	}
	if (i < len && p[i] == ':') {
		for (size_t k = ++i; k < len; k++)
			if (!isdigit((unsigned char)p[k]))
				return false;
		return len - i <= 5;
	}
	return i == len;
}

/* The target's form (RFC 9112 3.2): origin-form, absolute-form (whose
 * authority replaces Host), or "*" for OPTIONS. Sets path, query, origin
 * and authority; returns 0 or -1 (refused). */
static int target_form(struct http_msg *m, const char *base, struct http_head *h, int host)
{
	const char *t = base + h->target.off, *end = t + h->target.len, *p = t, *q;

	/* llhttp (built without LLHTTP_STRICT_MODE) lets HTAB and FF through:
	 * a server splitting the line at any blank would see another target */
	for (const char *c = t; c < end; c++)
		if ((unsigned char)*c <= 0x20 || *c == 0x7f)
			return refuse(m, 400, "control character in the request target");
	h->authority = host >= 0 ? h->hdr[host].value : (struct http_span){ 0, 0 };
	if (h->target.len == 1 && t[0] == '*') {
		if (h->method_id != HTTP_OPTIONS)
			return refuse(m, 400, "asterisk-form is only for OPTIONS");
		h->asterisk = true;
	} else if (t[0] != '/') {
		const char *auth;

		if (h->target.len > 7 && strncasecmp(t, "http://", 7) == 0)
			auth = t + 7;
		else if (h->target.len > 8 && strncasecmp(t, "https://", 8) == 0)
			auth = t + 8;
		else
			return refuse(m, 400, "invalid request target");
		p = auth;
		while (p < end && *p != '/' && *p != '?')
			p++;
		if (p == auth || !authority_valid(auth, (size_t)(p - auth)))
			return refuse(m, 400, "invalid authority in the target");
		h->absolute = true;
		h->authority = (struct http_span){ (uint32_t)(auth - base), (uint32_t)(p - auth) };
	}
	h->origin = (struct http_span){ (uint32_t)(p - base), (uint32_t)(end - p) };
	q = memchr(p, '?', (size_t)(end - p));
	h->path = (struct http_span){ (uint32_t)(p - base), (uint32_t)((q ? q : end) - p) };
	h->query = q ? (struct http_span){ (uint32_t)(q + 1 - base), (uint32_t)(end - q - 1) } :
		       (struct http_span){ (uint32_t)(end - base), 0 };
	return 0;
}

static bool names_valid(const char *buf, const struct http_head *h)
{
	for (int i = 0; i < h->nhdr; i++) {
		if (h->hdr[i].name.len == 0)
			return false;
		for (uint32_t k = 0; k < h->hdr[i].name.len; k++)
			if (!http_is_tchar((unsigned char)buf[h->hdr[i].name.off + k]))
				return false;
	}
	return true;
}

/* Whole-head rules llhttp does not apply. */
static int head_check(struct http_msg *m, const char *buf, struct http_head *h)
{
	int te = http_find(h, buf, "transfer-encoding", 0);
	int host = http_find(h, buf, "host", 0);
	int ex = http_find(h, buf, "expect", 0);

	if (!names_valid(buf, h))
		return refuse(m, 400, "invalid header field name");
	if (h->major != 1)
		return refuse(m, 505, "only HTTP/1.0 and HTTP/1.1 are spoken here");
	if (h->has_length && h->length > HTTP_MAX_BODY)
		return refuse(m, 400, "Content-Length too large");
	if (m->kind == HTTP_RESPONSE) {
		h->until_close = !h->chunked && !h->has_length && !m->head_request &&
				 h->status >= 200 && h->status != 204 && h->status != 304;
		h->no_body = m->complete;
		return 0;
	}
	if (te >= 0 && h->major == 1 && h->minor == 0)
		return refuse(m, 400, "Transfer-Encoding in an HTTP/1.0 request");
	if (host >= 0 && http_find(h, buf, "host", host + 1) >= 0)
		return refuse(m, 400, "more than one Host");
	if (host < 0 && h->major == 1 && h->minor == 1)
		return refuse(m, 400, "HTTP/1.1 request without Host");
	if (host >= 0 && h->hdr[host].value.len &&
	    !authority_valid(buf + h->hdr[host].value.off, h->hdr[host].value.len))
		return refuse(m, 400, "invalid Host");
	if (te >= 0 && !m->allow_codings && !http_span_ieq(buf, h->hdr[te].value, "chunked"))
		return refuse(m, 501, "transfer coding other than chunked");
	if (h->method_id == HTTP_CONNECT)
		return refuse(m, 405, "CONNECT is not proxied");
	if (ex >= 0) {
		if (!http_span_ieq(buf, h->hdr[ex].value, "100-continue"))
			return refuse(m, 417, "unknown expectation");
		h->expect_continue = true;
	}
	h->no_body = m->complete;
	return target_form(m, buf, h, host);
}

static void head_clear(struct http_head *h)
{
	/* all but the header array (nhdr says how much of it is in use) */
	memset(h, 0, offsetof(struct http_head, hdr));
	memset(&h->len, 0, sizeof(*h) - offsetof(struct http_head, len));
}

/* Runs llhttp over the complete head <buf>[lead..n). llhttp knows a fixed
 * list of methods; with m->any_method, a request whose method is another
 * token followed by one blank is run again with llhttp fed "GET " in its
 * place, so that llhttp still checks all the rest; the method's span is
 * set here, and its id is HTTP_METHOD_OTHER. */
static llhttp_errno_t head_run(struct http_msg *m, const char *buf, size_t n)
{
	const char *p = buf + m->lead;
	size_t len = n - m->lead, mlen = 0;
	llhttp_errno_t e = llhttp_execute(&m->p, p, len);

	if (e != HPE_INVALID_METHOD || !m->any_method || m->kind != HTTP_REQUEST)
		return e;
	while (mlen < len && tchar[(unsigned char)p[mlen]])
		mlen++;
	/* one blank after it: llhttp does not check for a second across the
	 * two runs below */
	if (!mlen || mlen + 1 >= len || p[mlen] != ' ' || p[mlen + 1] == ' ')
		return e;
	llhttp_init(&m->p, HTTP_REQUEST, &callbacks);
	m->p.data = m;
	m->in_value = false;
	head_clear(m->h);
	m->method_fed = true;
	e = llhttp_execute(&m->p, "GET ", 4);
	m->method_fed = false;
	if (e == HPE_OK)
		e = llhttp_execute(&m->p, p + mlen + 1, len - mlen - 1);
	m->h->method = (struct http_span){ m->lead, (uint32_t)mlen };
	m->h->method_id = HTTP_METHOD_OTHER;
	return e;
}

int http_head_parse(struct http_msg *m, const char *buf, size_t len, struct http_head *h)
{
	llhttp_errno_t e;
	int n = head_scan(m, buf, len);

	if (n <= 0)
		return n;
	head_clear(h);
	m->base = buf;
	m->h = h;
	e = head_run(m, buf, (size_t)n);
	m->base = NULL;
	m->h = NULL;
	if (e == HPE_PAUSED_UPGRADE) {
		m->complete = true; /* what follows is the upgraded protocol */
	} else if (e != HPE_OK && e != HPE_PAUSED) {
		if (m->status)
			return -1; /* refused in a callback */
		return refuse(m, 400, llhttp_errno_name(e));
	}
	if (!m->head_done)
		return refuse(m, 400, "incomplete head");
	h->len = (uint32_t)n;
	if (head_check(m, buf, h) != 0)
		return -1;
	http_body_start(m, h);
	return n;
}

const char *http_why(const struct http_msg *m)
{
	const char *reason = llhttp_get_error_reason(&m->p);

	/* llhttp found it: its errno's name is what http_head_parse kept */
	if (reason && *reason && m->why == llhttp_errno_name(llhttp_get_errno(&m->p)))
		return reason;
	return m->why ? m->why : "";
}

/* --- header helpers -------------------------------------------------------- */

bool http_span_ieq(const char *base, struct http_span s, const char *str)
{
	return strlen(str) == s.len && strncasecmp(base + s.off, str, s.len) == 0;
}

int http_find(const struct http_head *h, const char *base, const char *name, int from)
{
	for (int i = from; i < h->nhdr; i++)
		if (http_span_ieq(base, h->hdr[i].name, name))
			return i;
	return -1;
}

bool http_list_has(const char *base, struct http_span s, const char *token)
{
	return http_list_has_n(base, s, token, strlen(token));
}

bool http_list_has_n(const char *base, struct http_span s, const char *token, size_t tl)
{
	const char *p = base + s.off, *end = p + s.len;

	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *e = comma ? comma : end;

		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if ((size_t)(e - p) == tl && strncasecmp(p, token, tl) == 0)
			return true;
		p = comma ? comma + 1 : end;
	}
	return false;
}
