/*
 * http_head.c - heads rewritten on their way through the HTTP proxy: the
 * request head as the server gets it (hop-by-hop fields dropped, an
 * absolute-form target made origin-form with its authority as Host, the
 * forwarding fields X-Forwarded-For/-Proto, Forwarded and Via) and the
 * response head as the client gets it (hop-by-hop fields dropped, Via,
 * insert mode's cookie, Connection as this hop needs).
 */
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#include "proxy/http_session.h"

/* --- writing heads ----------------------------------------------------------- */

/*
 * Heads are rewritten by copying spans of the parsed head, not formatted:
 * a header line written "Name: value\r\n" in the original is copied as it
 * is, and neighbouring lines that are kept go out in one copy. The bytes
 * are those "%.*s: %.*s\r\n" would give.
 */

/* Where a rewritten head goes: the request store (to the server) when
 * <store> is set, else <buf> (to the client). <from>..<to> of <base> wait
 * to be copied in one piece. The first failed write sticks in <rc>. */
struct head_out {
	struct reqstore *store;
	struct buf *buf;
	const char *base;
	uint32_t from, to;
	int rc;
};

static void out_put(struct head_out *o, const void *p, size_t n)
{
	int rc = o->store ? reqstore_put(o->store, p, n) : buf_put(o->buf, p, n);

	if (rc && !o->rc)
		o->rc = rc;
}

static void out_flush(struct head_out *o)
{
	if (o->to > o->from)
		out_put(o, o->base + o->from, o->to - o->from);
	o->from = o->to = 0;
}

/* Copies bytes [<from>, <to>) of the head, in one piece with the pending
 * ones when they follow them. */
static void out_span(struct head_out *o, uint32_t from, uint32_t to)
{
	if (o->to == o->from || o->to != from) {
		out_flush(o);
		o->from = from;
	}
	o->to = to;
}

static void out_bytes(struct head_out *o, const void *p, size_t n)
{
	out_flush(o);
	out_put(o, p, n);
}

#define out_lit(o, lit) out_bytes((o), (lit), sizeof(lit) - 1)

static void out_str(struct head_out *o, const char *str)
{
	out_bytes(o, str, strlen(str));
}

static void out_field(struct head_out *o, struct http_span sp)
{
	out_bytes(o, o->base + sp.off, sp.len);
}

static void out_uint(struct head_out *o, unsigned v)
{
	char d[10];
	size_t i = sizeof(d);

	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	out_bytes(o, d + i, sizeof(d) - i);
}

/* Header <hd> as "Name: value\r\n". */
static void out_header(struct head_out *o, const struct http_header *hd)
{
	const char *b = o->base;
	uint32_t ne = hd->name.off + hd->name.len, ve = hd->value.off + hd->value.len;

	/* in bounds: a header line is followed by at least the head's last CRLF */
	if (hd->value.off == ne + 2 && b[ne] == ':' && b[ne + 1] == ' ' && b[ve] == '\r' &&
	    b[ve + 1] == '\n') {
		out_span(o, hd->name.off, ve + 2);
		return;
	}
	out_field(o, hd->name);
	out_lit(o, ": ");
	out_field(o, hd->value);
	out_lit(o, "\r\n");
}

/* The blank line that ends head <h>. */
static void out_end(struct head_out *o, const struct http_head *h)
{
	if (h->len >= 2 && o->base[h->len - 2] == '\r' && o->base[h->len - 1] == '\n')
		out_span(o, h->len - 2, h->len);
	else
		out_lit(o, "\r\n");
	out_flush(o);
}

/* --- hop-by-hop and forwarding headers ---------------------------------------- */

enum hdr_kind {
	HK_OTHER,
	HK_CONNECTION,
	HK_UPGRADE,
	HK_HOP,          /* keep-alive, proxy-connection, te, proxy-authenticate, proxy-authorization */
	HK_XFF,          /* x-forwarded-for */
	HK_XFP,          /* x-forwarded-proto */
	HK_FORWARDED,
	HK_HOST,
};

static bool name_is(const char *n, const char *lower, size_t len)
{
	return (n[0] | 0x20) == lower[0] && strncasecmp(n, lower, len) == 0;
}

/* What header name <n> (<len> bytes) is to the proxy. */
static enum hdr_kind hdr_kind(const char *n, size_t len)
{
	switch (len) {
	case 2: return name_is(n, "te", 2) ? HK_HOP : HK_OTHER;
	case 4: return name_is(n, "host", 4) ? HK_HOST : HK_OTHER;
	case 7: return name_is(n, "upgrade", 7) ? HK_UPGRADE : HK_OTHER;
	case 9: return name_is(n, "forwarded", 9) ? HK_FORWARDED : HK_OTHER;
	case 10:
		if (name_is(n, "connection", 10))
			return HK_CONNECTION;
		return name_is(n, "keep-alive", 10) ? HK_HOP : HK_OTHER;
	case 15: return name_is(n, "x-forwarded-for", 15) ? HK_XFF : HK_OTHER;
	case 16: return name_is(n, "proxy-connection", 16) ? HK_HOP : HK_OTHER;
	case 17: return name_is(n, "x-forwarded-proto", 17) ? HK_XFP : HK_OTHER;
	case 18: return name_is(n, "proxy-authenticate", 18) ? HK_HOP : HK_OTHER;
	case 19: return name_is(n, "proxy-authorization", 19) ? HK_HOP : HK_OTHER;
	default: return HK_OTHER;
	}
}

/* The kinds of <h>'s headers, and where the first of each kind is (-1:
 * none). */
struct head_kinds {
	uint8_t kind[HTTP_MAX_HEADERS];
	int first[HK_HOST + 1];
};

static void classify(const struct http_head *h, const char *base, struct head_kinds *k)
{
	for (size_t j = 0; j < ARRAY_SIZE(k->first); j++)
		k->first[j] = -1;
	for (int i = h->nhdr - 1; i >= 0; i--) {
		enum hdr_kind t = hdr_kind(base + h->hdr[i].name.off, h->hdr[i].name.len);

		k->kind[i] = (uint8_t)t;
		k->first[t] = i;
	}
}

/* True if header <i> of <h> does not go past this hop: a hop-by-hop name,
 * or one a Connection field names. Connection and Upgrade stay when
 * <keep_upgrade> (an upgrade going through). */
static bool hop_by_hop(const char *base, const struct http_head *h, const struct head_kinds *k,
		       int i, bool keep_upgrade)
{
	const struct http_header *hd = &h->hdr[i];

	switch (k->kind[i]) {
	case HK_CONNECTION:
	case HK_UPGRADE:
		return !keep_upgrade;
	case HK_HOP:
		return true;
	}
	if (hd->name.len >= 64)
		return false; /* as ever: so long a name is not looked for in Connection */
	for (int c = k->first[HK_CONNECTION]; c >= 0 && c < h->nhdr; c++)
		if (k->kind[c] == HK_CONNECTION &&
		    http_list_has_n(base, h->hdr[c].value, base + hd->name.off, hd->name.len))
			return true;
	return false;
}

/* --- the request head going to the server --------------------------------- */

/* Writes "NAME: v1, v2, " for every field of <kind> of the request (repeated
 * fields are one list, RFC 9110 5.3), <shown> alone when there is none. */
static void list_so_far(struct http_session *s, struct head_out *o, const struct head_kinds *k,
			enum hdr_kind kind, const char *shown)
{
	bool any = false;

	for (int i = k->first[kind]; i >= 0 && i < s->rh->nhdr; i++) {
		if (k->kind[i] != kind || !s->rh->hdr[i].value.len)
			continue;
		if (!any)
			out_str(o, shown);
		out_field(o, s->rh->hdr[i].value);
		out_lit(o, ", ");
		any = true;
	}
	if (!any)
		out_str(o, shown);
}

/* The client's address as text, made once per connection. */
static const char *client_ip(struct http_session *s, size_t *len)
{
	if (!s->client_ip_len) {
		addr_ip_str(&s->client, s->client_ip);
		s->client_ip_len = (uint8_t)strlen(s->client_ip);
	}
	*len = s->client_ip_len;
	return s->client_ip;
}

/* Appends the client to X-Forwarded-For and Forwarded (keeping what earlier
 * proxies wrote), and sets X-Forwarded-Proto. */
static void append_forwarded(struct http_session *s, struct head_out *o,
			     const struct head_kinds *k)
{
	size_t iplen;
	const char *ip = client_ip(s, &iplen);

	list_so_far(s, o, k, HK_XFF, "X-Forwarded-For: ");
	out_bytes(o, ip, iplen);
	out_lit(o, "\r\nX-Forwarded-Proto: http\r\n");
	list_so_far(s, o, k, HK_FORWARDED, "Forwarded: ");
	if (addr_family(&s->client) == AF_INET6) {
		out_lit(o, "for=\"[");
		out_bytes(o, ip, iplen);
		out_lit(o, "]\";proto=http\r\n");
	} else {
		out_lit(o, "for=");
		out_bytes(o, ip, iplen);
		out_lit(o, ";proto=http\r\n");
	}
}

/* "METHOD target HTTP/1.x\r\n", the target in origin-form: an
 * absolute-form one loses its scheme and authority (they become Host). */
static void out_request_line(struct head_out *o, const struct http_head *h)
{
	const char *b = o->base;
	uint32_t te = h->target.off + h->target.len;

	/* in bounds: the head goes on past the request line */
	if (!h->absolute && h->method.off == 0 && h->target.off == h->method.len + 1 &&
	    b[h->method.len] == ' ' && h->minor < 10 && memcmp(b + te, " HTTP/1.", 8) == 0 && b[te + 8] == '0' + h->minor &&
	    b[te + 9] == '\r' && b[te + 10] == '\n') {
		out_span(o, 0, te + 11);
		return;
	}
	out_field(o, h->method);
	out_lit(o, " ");
	if (h->origin.len)
		out_field(o, h->origin);
	else if (h->method_id == HTTP_OPTIONS)
		out_lit(o, "*"); /* OPTIONS http://a HTTP/1.1 (RFC 9112 3.2.4) */
	else
		out_lit(o, "/");
	out_lit(o, " HTTP/1.");
	out_uint(o, h->minor);
	out_lit(o, "\r\n");
}

int hs_build_request_head(struct http_session *s, const char *base)
{
	const struct http_head *h = s->rh;
	struct head_out o = { .store = &s->store, .base = base };
	struct head_kinds k;
	bool fwd = http_opts_rt(&s->rt)->forwarded;

	classify(h, base, &k);
	out_request_line(&o, h);
	if (h->absolute) {
		/* the target's authority wins over Host (RFC 9112 3.2.2) */
		out_lit(&o, "Host: ");
		out_field(&o, h->authority);
		out_lit(&o, "\r\n");
	}
	for (int i = 0; i < h->nhdr; i++) {
		if (hop_by_hop(base, h, &k, i, h->upgrade) || (h->absolute && k.kind[i] == HK_HOST))
			continue;
		if (fwd && (k.kind[i] == HK_XFF || k.kind[i] == HK_XFP || k.kind[i] == HK_FORWARDED))
			continue; /* rewritten below */
		out_header(&o, &h->hdr[i]);
	}
	if (fwd)
		append_forwarded(s, &o, &k);
	if (http_opts_rt(&s->rt)->via) {
		out_lit(&o, "Via: 1.");
		out_uint(&o, h->minor);
		out_lit(&o, " weir\r\n");
	}
	if (h->upgrade)
		out_lit(&o, "Connection: upgrade\r\n");
	else if (h->minor == 0)
		out_lit(&o, "Connection: keep-alive\r\n");
	out_end(&o, h);
	return o.rc;
}

/* "HTTP/1.1 <status> <reason as the server wrote it>\r\n" */
static void out_status_line(struct head_out *o, const struct http_head *h)
{
	const char *b = o->base;
	const char *eol = memchr(b, '\r', h->len);
	const char *sp, *rp;

	/* the server wrote it so already: "HTTP/1.1 DDD reason\r\n" */
	if (eol && eol - b > 12 && eol[1] == '\n' && memcmp(b, "HTTP/1.1 ", 9) == 0 && b[9] >= '1' && b[9] <= '9' &&
	    b[10] >= '0' && b[10] <= '9' && b[11] >= '0' && b[11] <= '9' && b[12] == ' ' &&
	    (b[9] - '0') * 100 + (b[10] - '0') * 10 + (b[11] - '0') == h->status) {
		out_span(o, 0, (uint32_t)(eol - b) + 2);
		return;
	}
	out_lit(o, "HTTP/1.1 ");
	out_uint(o, h->status);
	out_lit(o, " ");
	sp = memchr(b, ' ', h->len);
	rp = sp ? memchr(sp + 1, ' ', (size_t)(b + h->len - sp - 1)) : NULL;
	if (rp && eol && rp < eol)
		out_bytes(o, rp + 1, (size_t)(eol - rp - 1));
	out_lit(o, "\r\n");
}

void hs_relay_response_head(struct http_session *s, const char *base)
{
	const struct http_head *h = s->resph;
	struct head_out o = { .buf = &s->cout, .base = base };
	struct head_kinds k;

	classify(h, base, &k);
	out_status_line(&o, h);
	for (int i = 0; i < h->nhdr; i++)
		if (!hop_by_hop(base, h, &k, i, h->status == 101))
			out_header(&o, &h->hdr[i]);
	if (http_opts_rt(&s->rt)->via)
		out_lit(&o, "Via: 1.1 weir\r\n");
	if (s->set_cookie && s->rs) {
		char line[HS_COOKIE_MAX];

		out_bytes(&o, line, hs_sticky_cookie(s, line, sizeof(line)));
	}
	if (h->status == 101)
		out_lit(&o, "Connection: upgrade\r\n");
	else if (!s->keepalive || h->until_close)
		out_lit(&o, "Connection: close\r\n");
	else if (s->req_minor == 0)
		out_lit(&o, "Connection: keep-alive\r\n");
	out_end(&o, h);
}
