/* fuzz_metrics_http.c - libFuzzer driver for the metrics listener's request
 * head parser (mhttp_parse, over proto/http.c's parser). Besides not
 * crashing or reading past <len>, it checks that:
 * - the verdict is one of 0, 400, 405, 414, 431, and the same twice;
 * - an accepted head is GET or HEAD (head set for HEAD only), proto/http.c
 *   accepts it as the proxy would, with that method; its path is empty or
 *   starts with '/', lies in the request target, and holds no '?', blank
 *   or control; the request (after an empty line, if any) starts with
 *   the method and a blank;
 * - 405 keeps the method, 414 comes with a target of 256 bytes or more;
 * - bytes after the first empty line never change a final verdict;
 * - the Host check (mhttp_host_check, on the head's Host and on the whole
 *   input as a Host value) answers 0 or 421, the same twice, and accepts
 *   only IP literals, localhost and the config's name (any case, one
 *   trailing dot, a port of digits). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/dash.h"
#include "ctl/metrics_http.h"
#include "proto/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FAIL(...) do { fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); abort(); } while (0)

static bool terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static void check_accepted(const char *in, size_t size, const struct mhttp_req *r)
{
	size_t mlen = strlen(r->method), plen = strlen(r->path);
	const char *target, *end;
	struct http_msg m;
	struct http_head h;
	int n;

	if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0)
		FAIL("accepted method '%s'", r->method);
	if (r->head != (strcmp(r->method, "HEAD") == 0))
		FAIL("head %d for method %s", r->head, r->method);
	/* the proxy's parser, which knows GET and HEAD, agrees */
	http_msg_init(&m, HTTP_REQUEST, MHTTP_MAX_HEAD);
	n = http_head_parse(&m, in, size, &h);
	if (n <= 0 || h.method_id != (r->head ? HTTP_HEAD : HTTP_GET))
		FAIL("accepted, but proto/http.c says %d (%s)", n, n < 0 ? m.why : "");
	/* one empty line before the request line is ignored (RFC 9112 2.2) */
	if (size >= 2 && in[0] == '\r' && in[1] == '\n') {
		in += 2;
		size -= 2;
	}
	if (mlen + 1 > size || memcmp(in, r->method, mlen) != 0 || in[mlen] != ' ')
		FAIL("method '%s' is not the start of the request", r->method);
	/* a run of blanks around the target counts as one (RFC 9112 3) */
	for (target = in + mlen + 1; target < in + size && *target == ' '; target++)
		;
	end = memchr(target, ' ', (size_t)(in + size - target));
	if (!end || !memmem(target, (size_t)(end - target), r->path, plen))
		FAIL("path '%s' is not in the target", r->path);
	if (plen && r->path[0] != '/')
		FAIL("path '%s' does not start with /", r->path);
	for (size_t i = 0; i < plen; i++)
		if ((unsigned char)r->path[i] <= 0x20 || r->path[i] == 0x7f || r->path[i] == '?')
			FAIL("byte %#x in the path", (unsigned char)r->path[i]);
}

/* More bytes after the first empty line change nothing. */
static void check_extended(const char *in, size_t size, const struct mhttp_req *r)
{
	static const char more[] = "X-More: 1\r\n\x01\x7f garbage \r\n\r\n";
	const char *end = memmem(in, size, "\r\n\r\n", 4);
	struct mhttp_req r2;
	char *copy;

	if (!end)
		return;
	copy = malloc(size + sizeof(more) - 1);
	if (!copy)
		return;
	memcpy(copy, in, size);
	memcpy(copy + size, more, sizeof(more) - 1);
	mhttp_parse(copy, size + sizeof(more) - 1, &r2);
	if (memcmp(r, &r2, sizeof(r2)) != 0)
		FAIL("bytes after the empty line changed status %d to %d", r->status, r2.status);
	free(copy);
}

/* <h> was accepted: what it may be. */
static void check_host_accepted(const char *h)
{
	size_t len = strlen(h);
	const char *colon = h[0] == '[' ? strstr(h, "]:") : strchr(h, ':');

	if (h[0] == '[' ? !strchr(h, ']') : false)
		FAIL("accepted Host '%s' without its ']'", h);
	if (colon) {
		for (const char *p = colon + (h[0] == '[' ? 2 : 1); *p; p++)
			if (*p < '0' || *p > '9')
				FAIL("accepted Host '%s': port not digits", h);
		len = (size_t)(colon - h);
	}
	for (size_t i = 0; i < len; i++)
		if (!strchr("0123456789abcdefABCDEFlocalhostLOCALHOSTwWeEiIrRxXmMpP.:[]", h[i]))
			FAIL("accepted Host '%s': byte %#x", h, (unsigned char)h[i]);
}

static void check_host(const char *h, const struct weir_config *cfg)
{
	int v = mhttp_host_check(h, cfg);

	if (v != 0 && v != 421)
		FAIL("Host '%s': %d", h, v);
	if (v != mhttp_host_check(h, cfg))
		FAIL("Host '%s': two answers", h);
	if (v == 0)
		check_host_accepted(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct weir_config cfg = { .metrics_hosts = { "weir.example" } };
	/* a copy of exactly <size> bytes: ASan catches any read past it */
	char *in = malloc(size ? size : 1);
	struct mhttp_req r, again;

	if (!in)
		return 0;
	memcpy(in, data, size);
	memset(&r, 0xa5, sizeof(r));
	memset(&again, 0x5a, sizeof(again));
	mhttp_parse(in, size, &r);
	mhttp_parse(in, size, &again);
	if (memcmp(&r, &again, sizeof(r)) != 0)
		FAIL("two parses of the same head differ");
	if (!terminated(r.method, sizeof(r.method)) || !terminated(r.path, sizeof(r.path)))
		FAIL("method or path not terminated");
	if (!terminated(r.query, sizeof(r.query)) || !terminated(r.token, sizeof(r.token)))
		FAIL("query or token not terminated");
	{
		/* the dashboard's query decoding: bounded, never a NUL inside */
		char v[64];

		memset(v, 0x5a, sizeof(v));
		if (dash_query_get(r.query, "vip", v, sizeof(v)) && !terminated(v, sizeof(v)))
			FAIL("query value not terminated");
	}
	if (!terminated(r.host, sizeof(r.host)) || (r.host_long && r.host[0]))
		FAIL("host not terminated, or kept when too long");
	if (r.status == 0 || r.status == 405) {
		int v = mhttp_req_host(&r, &cfg);

		if (v != 0 && v != 421)
			FAIL("request Host verdict %d", v);
		if (r.host[0])
			check_host(r.host, &cfg);
	}
	{
		/* the whole input as a Host value, up to its first NUL */
		char *s = malloc(size + 1);

		if (s) {
			memcpy(s, in, size);
			s[size] = '\0';
			check_host(s, &cfg);
			free(s);
		}
	}
	switch (r.status) {
	case 0:
		check_accepted(in, size, &r);
		break;
	case 405:
		if (!r.method[0] || strcmp(r.method, "GET") == 0 || strcmp(r.method, "HEAD") == 0)
			FAIL("405 for method '%s'", r.method);
		if (r.head)
			FAIL("head set on a 405");
		break;
	case 414: {
		const char *sp = memchr(in, ' ', size);

		if (!sp || (size_t)(in + size - sp) < 257 + 10)
			FAIL("414 for a short target");
		break;
	}
	case 400:
	case 431:
		if (r.method[0] || r.path[0] || r.head)
			FAIL("%d with method '%s' path '%s'", r.status, r.method, r.path);
		break;
	default:
		FAIL("status %d", r.status);
	}
	check_extended(in, size, &r);
	free(in);
	return 0;
}
