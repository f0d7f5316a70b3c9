/* fuzz_check_http.c - libFuzzer driver for the http check's reading of a
 * server's answer (health/check_http.c over proto/http.c; the bytes come
 * from a real server: untrusted). The first byte picks the check (method
 * GET or HEAD, a body text or none, the drain header or not) and a piece
 * size; the rest is the answer, fed as check.c feeds it: into a buffer of
 * HC_ANSWER_MAX bytes, a piece per read, then the close. Besides not
 * crashing or reading outside the buffer, it checks that:
 * - the verdict and its words are the same whole and in pieces of 1 byte
 *   and of the chosen size (however the bytes arrive);
 * - a verdict is PASS, FAIL or DRAINING with non-empty words; the close
 *   always brings one; waiting never leaves the buffer full;
 * - a pass or a drain means the answer starts with "HTTP/1." and its
 *   words are "HTTP <status>"; with a body text, a pass has that text's
 *   bytes in order after an empty line (the framing may come between). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health/check_http.h"
#include "register.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FAIL(...) do { fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); abort(); } while (0)

struct outcome {
	int r;
	char what[HC_WHAT_MAX];
};

static struct outcome feed(const struct hc_conf *conf, const char *in, size_t len, size_t piece)
{
	char *buf = malloc(HC_ANSWER_MAX + 1);
	void *state = calloc(1, hc_http.state_size);
	struct outcome o = { HC_MORE, "" };
	size_t have = 0, pos = 0;

	if (!buf || !state)
		abort();
	while (o.r == HC_MORE) {
		size_t n = MIN(hc_http.answer_max - have, len - pos);

		if (n > piece)
			n = piece;
		memcpy(buf + have, in + pos, n);
		pos += n;
		have += n;
		buf[have] = '\0';
		memset(o.what, 0x5a, sizeof(o.what));
		o.r = hc_http.answer(state, conf, buf, &have, n == 0, o.what);
		if (o.r == HC_MORE && have >= hc_http.answer_max)
			FAIL("waiting with a full buffer");
		if (o.r == HC_MORE && n == 0)
			FAIL("no verdict at the close");
		if (o.r == HC_MORE)
			memset(o.what, 0, sizeof(o.what));
		if (have > hc_http.answer_max)
			FAIL("length %zu beyond the buffer", have);
	}
	free(buf);
	free(state);
	return o;
}

/* True if the bytes of <text> are in <in>, in order, after the first empty
 * line (chunk framing may come between them). */
static bool in_order(const char *in, size_t len, const char *text)
{
	const char *p = memmem(in, len, "\r\n\r\n", 4);

	for (p = p ? p + 4 : in + len; *text && p < in + len; p++)
		if (*p == *text)
			text++;
	return !*text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const checks[] = {
		"http", "http body ok", "http method HEAD", "http expect 200-299,503 body status:ok",
	};
	char words[64], *w[8], *save = NULL, *in;
	struct check_spec c;
	struct hc_conf conf;
	struct outcome whole, one, some;
	size_t piece, len;
	const char *body;
	int n = 0;

	weir_register();
	if (size < 1)
		return 0;
	snprintf(words, sizeof(words), "%s", checks[data[0] & 3]);
	for (char *t = strtok_r(words, " ", &save); t; t = strtok_r(NULL, " ", &save))
		w[n++] = t;
	if (check_spec_parse(w, n, &c, words) != 0)
		FAIL("%s: %s", checks[data[0] & 3], words);
	memset(&conf, 0, sizeof(conf));
	http_check_conf(&conf, &c, 503, data[0] & 4 ? "X-Weir-Drain" : "");
	piece = 1 + (data[0] >> 3) * 97;
	/* a copy of exactly the answer: ASan catches a read past it */
	len = size - 1;
	in = malloc(len ? len : 1);
	if (!in)
		return 0;
	memcpy(in, data + 1, len);

	whole = feed(&conf, in, len, (size_t)-1);
	one = feed(&conf, in, len, 1);
	some = feed(&conf, in, len, piece);
	if (one.r != whole.r || strcmp(one.what, whole.what) != 0 || some.r != whole.r ||
	    strcmp(some.what, whole.what) != 0)
		FAIL("whole: %d \"%s\"; bytewise: %d \"%s\"; by %zu: %d \"%s\"", whole.r, whole.what,
		     one.r, one.what, piece, some.r, some.what);
	if (whole.r != CHECK_PASS && whole.r != CHECK_FAIL && whole.r != CHECK_DRAINING)
		FAIL("verdict %d", whole.r);
	if (!memchr(whole.what, '\0', sizeof(whole.what)) || !whole.what[0])
		FAIL("no words for verdict %d", whole.r);
	if (whole.r != CHECK_FAIL) {
		unsigned status;
		char tail;

		if (len < 7 || memcmp(in, "HTTP/1.", 7) != 0)
			FAIL("verdict %d for an answer not starting with HTTP/1.", whole.r);
		if (sscanf(whole.what, "HTTP %3u%c", &status, &tail) != 1)
			FAIL("words \"%s\" for verdict %d", whole.what, whole.r);
	}
	body = http_check_of(&c)->body;
	if (whole.r == CHECK_PASS && body[0] && !in_order(in, len, body))
		FAIL("passed without \"%s\" in the answer", body);
	free(in);
	return 0;
}
