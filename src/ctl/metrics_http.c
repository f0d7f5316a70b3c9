/* metrics_http.c - the admin HTTP listener (see metrics_http.h). */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctl/dash.h"
#include "ctl/exec.h"
#include "ctl/metrics_http.h"
#include "ctl/report.h"
#include "proto/http.h"

/* Copies span <sp> of <base> into <out> (<size> bytes) if it fits. */
static bool span_copy(const char *base, struct http_span sp, char *out, size_t size)
{
	if (sp.len >= size)
		return false;
	memcpy(out, base + sp.off, sp.len);
	out[sp.len] = '\0';
	return true;
}

void mhttp_parse(const char *head, size_t len, struct mhttp_req *r)
{
	struct http_msg m;
	struct http_head h;
	int n, k;

	memset(r, 0, sizeof(*r));
	r->status = 400;
	http_msg_init(&m, HTTP_REQUEST, MHTTP_MAX_HEAD);
	m.any_method = true; /* BREW /metrics is a 405, not a 400 */
	n = http_head_parse(&m, head, len, &h);
	if (n < 0 && m.status == 431)
		r->status = 431;
	if (n == 0 || (n < 0 && m.status != 405)) /* 405: CONNECT, well formed */
		return;
	if (!span_copy(head, h.method, r->method, sizeof(r->method))) {
		r->method[0] = '\0';
		return;
	}
	if (!span_copy(head, h.path, r->path, sizeof(r->path))) {
		r->path[0] = '\0';
		r->status = 414;
		return;
	}
	if (n > 0 && h.query.len < sizeof(r->query))
		span_copy(head, h.query, r->query, sizeof(r->query));
	if (n > 0 && (k = http_find(&h, head, "X-Weir-Token", 0)) >= 0)
		span_copy(head, h.hdr[k].value, r->token, sizeof(r->token));
	if (n > 0 && !span_copy(head, h.authority, r->host, sizeof(r->host))) {
		r->host[0] = '\0';
		r->host_long = true;
	}
	r->http10 = n > 0 && h.major == 1 && h.minor == 0;
	r->body = n > 0 && (h.chunked || h.length > 0);
	r->post = n > 0 && h.method_id == HTTP_POST;
	r->head = n > 0 && h.method_id == HTTP_HEAD;
	r->status = n > 0 && (h.method_id == HTTP_GET || r->head) ? 0 : 405;
}

/* <s> (<len> bytes) is a port: 1 to 5 digits. */
static bool is_port(const char *s, size_t len)
{
	if (!len || len > 5)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return strtoul(s, NULL, 10) <= 65535;
}

int mhttp_host_check(const char *host, const struct weir_config *cfg)
{
	size_t len = strlen(host), hlen;
	const char *colon;
	char name[METRICS_HOST_LEN + 1];

	if (host[0] == '[') {
		const char *end = strchr(host, ']');
		char a6[INET6_ADDRSTRLEN + 16];
		struct in6_addr in6;

		if (!end || (size_t)(end - host - 1) >= sizeof(a6))
			return 421;
		memcpy(a6, host + 1, (size_t)(end - host - 1));
		a6[end - host - 1] = '\0';
		if (inet_pton(AF_INET6, a6, &in6) != 1)
			return 421;
		if (end[1] == '\0')
			return 0;
		return end[1] == ':' && is_port(end + 2, strlen(end + 2)) ? 0 : 421;
	}
	/* one ':' at most: a bare IPv6 address is no Host (RFC 3986 3.2.2) */
	colon = strchr(host, ':');
	hlen = colon ? (size_t)(colon - host) : len;
	if (colon && (strchr(colon + 1, ':') || !is_port(colon + 1, len - hlen - 1)))
		return 421;
	if (!hlen || hlen >= sizeof(name))
		return 421;
	memcpy(name, host, hlen);
	name[hlen] = '\0';
	{
		struct in_addr in4;

		if (inet_pton(AF_INET, name, &in4) == 1)
			return 0;
	}
	if (hlen > 1 && name[hlen - 1] == '.')
		name[--hlen] = '\0';
	if (strcasecmp(name, "localhost") == 0)
		return 0;
	for (size_t i = 0; cfg && i < METRICS_HOSTS_MAX && cfg->metrics_hosts[i][0]; i++)
		if (strcasecmp(name, cfg->metrics_hosts[i]) == 0)
			return 0;
	return 421;
}

int mhttp_req_host(const struct mhttp_req *r, const struct weir_config *cfg)
{
	if (r->host_long)
		return 421;
	if (!r->host[0])
		return r->http10 ? 0 : 421;
	return mhttp_host_check(r->host, cfg);
}

static bool head_complete(const struct buf *in)
{
	struct http_msg m;
	struct http_head h;

	/* done when the head is whole, or known to be refused */
	http_msg_init(&m, HTTP_REQUEST, MHTTP_MAX_HEAD);
	m.any_method = true;
	return http_head_parse(&m, buf_head(in), in->len, &h) != 0;
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 414: return "URI Too Long";
	case 421: return "Misdirected Request";
	case 431: return "Request Header Fields Too Large";
	default: return "Error";
	}
}

/* The page runs only its own inline script and style, and talks only to
 * this listener; no other site may frame it. */
#define PAGE_CSP "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; " \
		 "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; " \
		 "frame-ancestors 'none'"

static void respond(struct buf *out, int status, const char *type, const char *body,
		    size_t len, bool head)
{
	bool html = strncmp(type, "text/html", 9) == 0;

	buf_printf(out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		   "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n%s%s%s"
		   "Connection: close\r\n\r\n", status, reason(status), type, len,
		   status == 405 ? "Allow: GET, HEAD\r\n" : "",
		   html ? "Content-Security-Policy: " PAGE_CSP "\r\n" : "",
		   html ? "X-Frame-Options: DENY\r\nReferrer-Policy: no-referrer\r\n" : "");
	if (!head)
		buf_append(out, body, len);
}

/* GET <r->path>: 0 with <body> and <type> filled, or 404. */
static int get(struct ctl_ctx *ctx, const struct mhttp_req *r, struct buf *body,
	       const char **type)
{
	char since[24];

	if (strcmp(r->path, "/metrics") == 0) {
		*type = "text/plain; version=0.0.4; charset=utf-8";
		ctl_metrics(ctx, body);
	} else if (strcmp(r->path, "/status") == 0) {
		struct report_info info = ctl_info(ctx);

		*type = "application/json";
		report_status_json(ctx->table, &info, body);
	} else if (strcmp(r->path, "/api/dash") == 0) {
		*type = "application/json";
		dash_json(ctx, body);
	} else if (strcmp(r->path, "/api/history") == 0) {
		*type = "application/json";
		if (!dash_query_get(r->query, "since", since, sizeof(since)))
			since[0] = '\0';
		dash_history_json(ctx->table, strtoull(since, NULL, 10), body);
	} else {
		return 404;
	}
	return 0;
}

static void answer(struct ctl_ctx *ctx, struct buf *in, struct buf *out)
{
	struct buf body = { 0 };
	struct mhttp_req r;
	const char *type = "text/plain; charset=utf-8";
	int status = 200;
	bool page = false;

	if (!in) {
		status = 431;
	} else {
		mhttp_parse(buf_head(in), in->len, &r);
		status = r.status ? r.status : 200;
		/* a well-formed request that names another host (DNS rebinding) */
		if ((status == 200 || status == 405) &&
		    mhttp_req_host(&r, &ctx->table->cfg) != 0) {
			status = 421;
			buf_printf(&body, "421 Misdirected Request: Host is not this listener's "
				   "(an IP address, localhost, or a metrics_hosts name)\n");
		}
	}
	if (status == 405 && r.post && strcmp(r.path, "/api/server") == 0) {
		type = "application/json";
		/* no body is read: a request that sends one is refused */
		status = r.body ? 400 : dash_control(ctx, r.query, r.token, &body);
		if (r.body)
			buf_printf(&body, "{\"ok\":false,\"error\":\"no body: the query says it\"}\n");
	} else if (status == 200 && (strcmp(r.path, "/") == 0 || strcmp(r.path, "/dashboard") == 0)) {
		type = "text/html; charset=utf-8";
		page = true;
	} else if (status == 200) {
		status = get(ctx, &r, &body, &type) ? 404 : 200;
	}
	if (status != 200 && !body.len) {
		type = "text/plain; charset=utf-8";
		buf_printf(&body, "%d %s\n", status, reason(status));
	}
	if (page)
		respond(out, status, type, dash_page_html, dash_page_len, r.head);
	else
		respond(out, status, type, buf_head(&body), body.len,
			status == 200 && in && r.head);
	buf_free(&body);
}

const struct admin_proto metrics_http_proto = {
	.max_request = MHTTP_MAX_HEAD,
	.complete = head_complete,
	.answer = answer,
	.busy = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
};
