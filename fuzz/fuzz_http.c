/* fuzz_http.c - libFuzzer driver for the HTTP head parser and body framing
 * (src/proto/http.c, over llhttp). Properties: no crash, no read outside the
 * input, and the verdict does not depend on how the bytes were split
 * (parsing the whole input at once and in two pieces agree on where the
 * head and the message end). The first byte picks request or response and
 * the split point. */
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
