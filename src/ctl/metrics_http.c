/* metrics_http.c - the admin HTTP listener (see metrics_http.h). */
#include <string.h>

#include "ctl/exec.h"
#include "ctl/metrics_http.h"
#include "ctl/report.h"
#include "proto/http.h"

/* One header line "Name: value" (RFC 9112: no blank before the colon, no
 * control characters but tab in the value). */
static bool header_ok(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && http_is_tchar((unsigned char)p[i]))
		i++;
	if (i == 0 || i == n || p[i] != ':')
		return false;
	for (i++; i < n; i++)
		if (((unsigned char)p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f)
			return false;
	return true;
}

void mhttp_parse(const char *head, size_t len, struct mhttp_req *r)
{
	const char *end = head + len, *line_end, *sp1, *sp2, *q;
	size_t mlen, tlen;

	memset(r, 0, sizeof(*r));
	r->status = 400;
	line_end = memmem(head, len, "\r\n", 2);
	if (!line_end)
		return;
	sp1 = memchr(head, ' ', (size_t)(line_end - head));
	if (!sp1)
		return;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(line_end - sp1 - 1));
	if (!sp2 || (size_t)(line_end - sp2 - 1) != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0 ||
	    (sp2[8] != '0' && sp2[8] != '1'))
		return;
	mlen = (size_t)(sp1 - head);
	tlen = (size_t)(sp2 - sp1 - 1);
	if (mlen == 0 || mlen >= sizeof(r->method) || tlen == 0)
		return;
	for (size_t i = 0; i < mlen; i++)
		if (!http_is_tchar((unsigned char)head[i]))
			return;
	for (const char *p = sp1 + 1; p < sp2; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return;
	/* the headers: well formed, up to the empty line */
	for (const char *p = line_end + 2; p < end;) {
		const char *e = memmem(p, (size_t)(end - p), "\r\n", 2);

		if (!e)
			return;
		if (e == p)
			break; /* the empty line */
		if (memchr(p, '\n', (size_t)(e - p)) || memchr(p, '\r', (size_t)(e - p)) ||
		    !header_ok(p, (size_t)(e - p)))
			return;
		p = e + 2;
	}
	memcpy(r->method, head, mlen);
	q = memchr(sp1 + 1, '?', tlen);
	if (q)
		tlen = (size_t)(q - sp1 - 1);
	if (tlen >= sizeof(r->path)) {
		r->status = 414;
		return;
	}
	memcpy(r->path, sp1 + 1, tlen);
	r->head = strcmp(r->method, "HEAD") == 0;
	if (strcmp(r->method, "GET") != 0 && !r->head) {
		r->status = 405;
		return;
	}
	r->status = 0;
}

static bool head_complete(const struct buf *in)
{
	return memmem(buf_head(in), in->len, "\r\n\r\n", 4) != NULL;
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	default: return "Error";
	}
}

static void respond(struct buf *out, int status, const char *type, const struct buf *body,
		    bool head)
{
	buf_printf(out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		   "Cache-Control: no-store\r\n%sConnection: close\r\n\r\n", status,
		   reason(status), type, body->len, status == 405 ? "Allow: GET, HEAD\r\n" : "");
	if (!head)
		buf_append(out, buf_head(body), body->len);
}

static void answer(struct ctl_ctx *ctx, struct buf *in, struct buf *out)
{
	struct buf body = { 0 };
	struct mhttp_req r;
	const char *type = "text/plain; charset=utf-8";
	int status = 200;

	if (!in) {
		status = 431;
	} else {
		mhttp_parse(buf_head(in), in->len, &r);
		status = r.status ? r.status : 200;
	}
	if (status == 200 && strcmp(r.path, "/metrics") == 0) {
		type = "text/plain; version=0.0.4; charset=utf-8";
		ctl_metrics(ctx, &body);
	} else if (status == 200 && strcmp(r.path, "/status") == 0) {
		struct report_info info = ctl_info(ctx);

		type = "application/json";
		report_status_json(ctx->table, &info, &body);
	} else if (status == 200 && strcmp(r.path, "/") == 0) {
		buf_printf(&body, "weir: GET /metrics (Prometheus), GET /status (JSON)\n");
	} else {
		if (status == 200)
			status = 404;
		buf_printf(&body, "%d %s\n", status, reason(status));
	}
	respond(out, status, type, &body, status == 200 && in && r.head);
	buf_free(&body);
}

const struct admin_proto metrics_http_proto = {
	.max_request = MHTTP_MAX_HEAD,
	.complete = head_complete,
	.answer = answer,
	.busy = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
};
