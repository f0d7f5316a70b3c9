/* fuzz_http.c - libFuzzer driver for the HTTP head parser (src/proto/http.c,
 * over llhttp) and the body framing (src/proto/http_body.c). Properties: no
 * crash, no read outside the input; the verdict does not depend on how the
 * bytes were split (parsing the whole input at once and in two pieces agree
 * on where the head and the message end); and a chunked body the scanner
 * accepts ends at the same byte for a lenient reader that takes lines to LF
 * and sizes by their leading hex digits, as many servers do: what weir
 * forwards cannot be framed differently behind it. The first byte picks
 * request or response and the split point. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct outcome {
	int head;      /* head length, 0 incomplete, -1 refused */
	int status;
	long body;     /* bytes of body in the input, -1 framing error */
	int complete;
};

/* A lenient chunked reader: lines end at LF (a CR before it dropped),
 * a size is its leading hex digits, trailers run to an empty line.
 * Returns where the body ends, or -1 if it does not within <len>. */
static long lenient_chunked_end(const char *p, size_t len)
{
	size_t i = 0;

	for (;;) {
		const char *nl = memchr(p + i, '\n', len - i);
		unsigned long long size = 0;
		size_t k = i;

		if (!nl)
			return -1;
		while (k < len && isxdigit((unsigned char)p[k]) && size < (1ull << 56))
			size = size * 16 + (unsigned long long)(isdigit((unsigned char)p[k]) ? p[k] - '0' :
								 (p[k] | 0x20) - 'a' + 10), k++;
		i = (size_t)(nl - p) + 1;
		if (size == 0)
			break;
		if (size > len - i || len - i - size < 1)
			return -1;
		i += size;
		nl = memchr(p + i, '\n', len - i);
		if (!nl)
			return -1;
		i = (size_t)(nl - p) + 1;
	}
	for (;;) { /* trailers, to an empty line */
		const char *nl = memchr(p + i, '\n', len - i);
		size_t line = nl ? (size_t)(nl - p) - i : 0;

		if (!nl)
			return -1;
		i = (size_t)(nl - p) + 1;
		if (line == 0 || (line == 1 && p[i - 2] == '\r'))
			return (long)i;
	}
}

static struct outcome run(const char *buf, size_t len, size_t split, llhttp_type_t kind)
{
	struct outcome o = { 0, 0, 0, 0 };
	struct http_msg m;
	struct http_head h;
	long a, b;

	http_msg_init(&m, kind, 1024);
	/* a first look at a prefix must not change the final answer; once the
	 * parser answers (a head or a refusal) that answer is final */
	o.head = split < len ? http_head_parse(&m, buf, split, &h) : 0;
	if (o.head == 0)
		o.head = http_head_parse(&m, buf, len, &h);
	o.status = o.head < 0 ? m.status : 0;
	if (o.head <= 0)
		return o;
	split = split < (size_t)o.head ? (size_t)o.head : split;
	a = http_body_scan(&m, buf + o.head, split - (size_t)o.head);
	if (a < 0 || (size_t)a < split - (size_t)o.head || m.complete) {
		o.body = a;
	} else {
		b = http_body_scan(&m, buf + split, len - split);
		o.body = b < 0 ? -1 : a + b;
	}
	o.complete = m.complete;
	if (o.body > 0 && o.complete && h.chunked &&
	    lenient_chunked_end(buf + o.head, (size_t)o.body) != o.body) {
		fprintf(stderr, "a lenient reader frames the accepted body differently\n");
		abort();
	}
	return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	llhttp_type_t kind;
	struct outcome one, two;
	size_t split;
	char *buf;

	if (size < 2)
		return 0;
	kind = data[0] & 1 ? HTTP_RESPONSE : HTTP_REQUEST;
	split = data[1] % (size - 1);
	size -= 2;
	buf = malloc(size ? size : 1);
	memcpy(buf, data + 2, size);
	one = run(buf, size, size, kind);
	two = run(buf, size, split, kind);
	/* (after a framing error "complete" means nothing: compare verdicts) */
	if (one.head > 0 && two.head > 0 &&
	    (one.head != two.head || (one.body >= 0) != (two.body >= 0) ||
	     (one.body >= 0 && (one.complete != two.complete ||
				(one.complete && one.body != two.body))))) {
		fprintf(stderr, "split %zu changes the parse: head %d/%d body %ld/%ld complete %d/%d\n",
			split, one.head, two.head, one.body, two.body, one.complete, two.complete);
		abort();
	}
	free(buf);
	return 0;
}
