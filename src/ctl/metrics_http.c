/* metrics_http.c - the admin HTTP listener (see metrics_http.h). */
#include <string.h>

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
	int n;

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
	r->head = n > 0 && h.method_id == HTTP_HEAD;
	r->status = n > 0 && (h.method_id == HTTP_GET || r->head) ? 0 : 405;
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
