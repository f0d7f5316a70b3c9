/*
 * http_sticky.c - sticky sessions of the HTTP proxy and the redirect mode
 * (sticky insert|cookie|header|param NAME). A request's key is read from
 * its head; its first try goes where the key says:
 *   insert   the cookie NAME holds an opaque id of the server (weir set it
 *            on an earlier response: rs_sticky_id());
 *   cookie, header, param   the value of the cookie, header or query
 *            parameter NAME is hashed over the available servers
 *            (weighted rendezvous hashing: svc_schedule_hash()).
 * A retry goes where the scheduler says; in insert mode the cookie follows
 * the request there (Set-Cookie on its response), as it does when the
 * server the cookie names is gone or down.
 */
#include <stdio.h>
#include <string.h>

#include "proxy/http_session.h"

/* Finds <name>=value in a list "a=1; b=2" (cookies, <sep> ';') or
 * "a=1&b=2" (query, <sep> '&'). Returns the value's length or -1. */
static int find_pair(const char *p, size_t len, const char *name, char sep, const char **val)
{
	const char *end = p + len;
	size_t nl = strlen(name);

	while (p < end) {
		const char *next = memchr(p, sep, (size_t)(end - p));
		const char *e = next ? next : end;

		while (p < e && *p == ' ')
			p++;
		if ((size_t)(e - p) > nl && memcmp(p, name, nl) == 0 && p[nl] == '=') {
			*val = p + nl + 1;
			return (int)(e - *val);
		}
		p = next ? next + 1 : end;
	}
	return -1;
}

void hs_sticky_read_key(struct http_session *s, const char *base)
{
	const struct http_opts *o = http_opts_rt(&s->rt);
	const char *val = NULL;
	int len = -1;

	s->set_cookie = o->sticky == STICKY_INSERT;
	if (o->sticky == STICKY_PARAM) {
		len = find_pair(base + s->rh->query.off, s->rh->query.len, o->sticky_name, '&', &val);
	} else if (o->sticky == STICKY_HEADER) {
		int i = http_find(s->rh, base, o->sticky_name, 0);

		if (i >= 0) {
			val = base + s->rh->hdr[i].value.off;
			len = (int)s->rh->hdr[i].value.len;
		}
	} else if (o->sticky == STICKY_COOKIE || o->sticky == STICKY_INSERT) {
		for (int i = http_find(s->rh, base, "cookie", 0); i >= 0 && len < 0;
		     i = http_find(s->rh, base, "cookie", i + 1))
			len = find_pair(base + s->rh->hdr[i].value.off, s->rh->hdr[i].value.len,
					o->sticky_name, ';', &val);
	}
	if (len > 0 && (size_t)len <= sizeof(s->sticky_key)) {
		memcpy(s->sticky_key, val, (size_t)len);
		s->sticky_len = (uint8_t)MIN(len, 255);
	}
}

/* Only the first try follows the key: a retry goes where the scheduler
 * says, and in insert mode the cookie follows it there. */
struct real_server *hs_sticky_choose(struct http_session *s)
{
	struct real_server *want, *rs = NULL;

	if (s->ntried && http_opts_rt(&s->rt)->sticky == STICKY_INSERT)
		s->set_cookie = true; /* its server failed this request */
	if (s->ntried)
		return NULL;
	if (http_opts_rt(&s->rt)->sticky != STICKY_INSERT)
		return svc_schedule_hash(s->target, s->sticky_key, s->sticky_len, &s->client,
					 hs_ms(s));
	want = svc_find_sticky(s->target, s->sticky_key, s->sticky_len);
	if (want) {
		rs = svc_schedule_to(s->target, want, &s->client, hs_ms(s));
		rs_put(want);
	}
	/* its server is gone or down: the scheduler chooses, the cookie follows */
	s->set_cookie = !rs;
	return rs;
}

size_t hs_sticky_cookie(const struct http_session *s, char *out, size_t cap)
{
	char id[17];
	int n;

	rs_sticky_id(s->rs, id);
	n = snprintf(out, cap, "Set-Cookie: %s=%s; Path=/; HttpOnly\r\n", http_opts_rt(&s->rt)->sticky_name, id);
	return n < 0 ? 0 : MIN((size_t)n, cap - 1);
}
