/* fuzz_metrics_http.c - libFuzzer driver for the metrics listener's request
 * head parser (mhttp_parse). Besides not crashing or reading past <len>, it
 * checks that:
 * - the verdict is one of 0, 400, 405, 414, and the same twice;
 * - an accepted head is GET or HEAD (head set for HEAD only), its path is a
 *   non-empty prefix of the target without '?', blanks or controls, and the
 *   input starts with "METHOD PATH";
 * - 405 keeps the method, 414 comes with a target of 256 bytes or more;
 * - bytes after the first empty line never change a final verdict. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/metrics_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FAIL(...) do { fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); abort(); } while (0)

static bool terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static void check_accepted(const char *in, size_t size, const struct mhttp_req *r)
{
	size_t mlen = strlen(r->method), plen = strlen(r->path);

	if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0)
		FAIL("accepted method '%s'", r->method);
	if (r->head != (strcmp(r->method, "HEAD") == 0))
		FAIL("head %d for method %s", r->head, r->method);
	if (mlen + 1 + plen > size || memcmp(in, r->method, mlen) != 0 || in[mlen] != ' ' ||
	    memcmp(in + mlen + 1, r->path, plen) != 0)
		FAIL("method '%s' and path '%s' are not the start of the input", r->method, r->path);
	for (size_t i = 0; i < plen; i++)
		if ((unsigned char)r->path[i] <= 0x20 || r->path[i] == 0x7f || r->path[i] == '?')
			FAIL("byte %#x in the path", (unsigned char)r->path[i]);
	/* the target ends at the query or at the blank before the version */
	if (in[mlen + 1 + plen] != '?' && in[mlen + 1 + plen] != ' ')
		FAIL("path '%s' cut inside the target", r->path);
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
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
		if (r.method[0] || r.path[0] || r.head)
			FAIL("400 with method '%s' path '%s'", r.method, r.path);
		break;
	default:
		FAIL("status %d", r.status);
	}
	check_extended(in, size, &r);
	free(in);
	return 0;
}
