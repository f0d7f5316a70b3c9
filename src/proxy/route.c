/* route.c - see route.h. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/table.h"
#include "proxy/route.h"

struct route_table *route_table_build(const struct route_spec *spec, size_t n,
				      struct virtual_service *(*pool_of)(void *arg, const char *name),
				      void *arg)
{
	struct route_table *t = calloc(1, sizeof(*t) + n * sizeof(t->r[0]));

	if (!t)
		return NULL;
	atomic_init(&t->ref, 1);
	for (size_t i = 0; i < n; i++) {
		const struct route_spec *s = &spec[i];
		struct route *r = &t->r[i];

		memcpy(r->host, s->host, sizeof(r->host));
		memcpy(r->path_prefix, s->path_prefix, sizeof(r->path_prefix));
		memcpy(r->method, s->method, sizeof(r->method));
		memcpy(r->header, s->header, sizeof(r->header));
		t->n++;
		r->pool = pool_of(arg, s->pool);
		if (s->path_regex[0]) {
			if (regcomp(&r->path_re, s->path_regex, REG_EXTENDED | REG_NOSUB) != 0)
				goto out_free;
			r->has_path_re = true;
		}
		if (s->header_regex[0]) {
			if (regcomp(&r->header_re, s->header_regex, REG_EXTENDED | REG_NOSUB) != 0)
				goto out_free;
			r->has_header_re = true;
		}
	}
	return t;

out_free:
	route_table_put(t);
	return NULL;
}

void route_table_get(struct route_table *t)
{
	atomic_fetch_add_explicit(&t->ref, 1, memory_order_relaxed);
}

void route_table_put(struct route_table *t)
{
	if (!t || atomic_fetch_sub_explicit(&t->ref, 1, memory_order_acq_rel) != 1)
		return;
	for (size_t i = 0; i < t->n; i++) {
		if (t->r[i].has_path_re)
			regfree(&t->r[i].path_re);
		if (t->r[i].has_header_re)
			regfree(&t->r[i].header_re);
		if (t->r[i].pool)
			svc_put(t->r[i].pool);
	}
	free(t);
}

/* Host without its port, case-insensitive; "*.example.com" matches
 * "a.example.com" and "a.b.example.com", not "example.com". */
static bool host_match(const char *pat, const char *host, size_t len)
{
	const char *colon = memchr(host, ':', len);
	size_t pl = strlen(pat);

	if (colon && host[0] != '[')
		len = (size_t)(colon - host);
	if (pat[0] == '*' && pat[1] == '.')
		return len > pl - 1 && strncasecmp(host + len - (pl - 1), pat + 1, pl - 1) == 0;
	return len == pl && strncasecmp(host, pat, len) == 0;
}

/* regexec wants a C string. */
static bool rx_match(const regex_t *re, const char *s, size_t len)
{
	char small[1024], *buf = len < sizeof(small) ? small : malloc(len + 1);
	bool ok;

	if (!buf)
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	ok = regexec(re, buf, 0, NULL, 0) == 0;
	if (buf != small)
		free(buf);
	return ok;
}

static bool rule_match(const struct route *r, const struct route_req *q)
{
	size_t pl = strlen(r->path_prefix);

	if (r->method[0] && (strlen(r->method) != q->method_len ||
			     memcmp(r->method, q->method, q->method_len) != 0))
		return false;
	if (r->host[0] && (!q->host || !host_match(r->host, q->host, q->host_len)))
		return false;
	if (pl && (q->path_len < pl || memcmp(q->path, r->path_prefix, pl) != 0))
		return false;
	if (r->has_path_re && !rx_match(&r->path_re, q->path, q->path_len))
		return false;
	if (r->header[0]) {
		size_t len;
		const char *v = q->header(q->arg, r->header, &len);

		if (!v || (r->has_header_re && !rx_match(&r->header_re, v, len)))
			return false;
	}
	return true;
}

const struct route *route_match(const struct route_table *t, const struct route_req *q)
{
	for (size_t i = 0; t && i < t->n; i++)
		if (rule_match(&t->r[i], q))
			return &t->r[i];
	return NULL;
}
