/* fuzz_agent.c - libFuzzer driver for agent_parse(), the reader of an agent
 * check's answer line (bytes from a real server: untrusted). Besides not
 * crashing or reading past <len>, it checks that:
 * - an error leaves <out> untouched and writes a reason: a non-empty,
 *   terminated string within the 128 bytes of <err>;
 * - an answer is in range (state AGENT_NONE..AGENT_MAINT, pct -1 or
 *   0..1000, weight -1 or 0..65535, conns -1 or 0..INT32_MAX) and says
 *   something;
 * - an answer printed back in canonical words ("drain 75% weight 40
 *   conns 3")
 *   parses to the same answer;
 * - the answer does not depend on letter case, on which blank or comma
 *   separates words, or on a trailing newline. */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health/state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FAIL(...) do { fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); abort(); } while (0)

#define ERR_SIZE 128
#define LINE_MAX_FUZZ 512   /* the daemon reads at most a 256-byte line */

static bool same_answer(const struct agent_answer *a, const struct agent_answer *b)
{
	return a->state == b->state && a->pct == b->pct && a->weight == b->weight &&
	       a->conns == b->conns;
}

/* Parses <line>[<len>] from a buffer of exactly <len> bytes (so ASan sees
 * any read past it) into <out>; checks what must hold of either answer. */
static int parse_checked(const char *line, size_t len, struct agent_answer *out)
{
	char *copy = malloc(len ? len : 1);
	char err[ERR_SIZE];
	struct agent_answer a, untouched;
	int rc;

	if (!copy)
		abort();
	memcpy(copy, line, len);
	memset(&a, 0x5a, sizeof(a));
	untouched = a;
	memset(err, 'x', sizeof(err));
	rc = agent_parse(copy, len, &a, err);
	free(copy);
	if (rc != 0) {
		size_t n = strnlen(err, sizeof(err));

		if (rc != -EINVAL)
			FAIL("unexpected answer %d", rc);
		if (memcmp(&a, &untouched, sizeof(a)) != 0)
			FAIL("<out> written on an error");
		if (n == 0 || n == sizeof(err))
			FAIL("the reason is %s", n ? "not terminated" : "empty");
		return rc;
	}
	if (a.state > AGENT_MAINT)
		FAIL("state %u", a.state);
	if (a.pct < -1 || a.pct > 1000)
		FAIL("pct %d", a.pct);
	if (a.weight < -1 || a.weight > 65535)
		FAIL("weight %d", a.weight);
	if (a.conns < -1)
		FAIL("conns %d", a.conns);
	if (a.state == AGENT_NONE && a.pct < 0 && a.weight < 0 && a.conns < 0)
		FAIL("an answer that says nothing");
	*out = a;
	return 0;
}

/* <a> in canonical words. */
static size_t print_answer(const struct agent_answer *a, char *buf, size_t size)
{
	static const char *const words[] = { "", "up", "drain", "down", "maint" };
	size_t n = (size_t)snprintf(buf, size, "%s", words[a->state]);

	if (a->pct >= 0)
		n += (size_t)snprintf(buf + n, size - n, " %d%%", a->pct);
	if (a->weight >= 0)
		n += (size_t)snprintf(buf + n, size - n, " weight %d", a->weight);
	if (a->conns >= 0)
		n += (size_t)snprintf(buf + n, size - n, " conns %d", a->conns);
	return n;
}

static bool is_sep(char ch)
{
	return ch == ' ' || ch == '\t' || ch == ',' || ch == '\r' || ch == '\n';
}

/* Parses the variant <v> of the input and wants the same result. */
static void check_variant(const char *v, size_t len, int rc, const struct agent_answer *a,
			  const char *what)
{
	struct agent_answer b;
	int rc2 = parse_checked(v, len, &b);

	if (rc2 != rc)
		FAIL("%s: answer %d became %d", what, rc, rc2);
	if (rc == 0 && !same_answer(a, &b))
		FAIL("%s: state %u pct %d weight %d conns %d became %u %d %d %d", what, a->state,
		     a->pct, a->weight, a->conns, b.state, b.pct, b.weight, b.conns);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char seps[] = " \t,\r\n";
	const char *line = (const char *)data;
	char v[LINE_MAX_FUZZ + 1];
	struct agent_answer a;
	size_t i, n;
	int rc;

	rc = parse_checked(line, size, &a);
	if (size > LINE_MAX_FUZZ)
		return 0;
	if (rc == 0) {
		char text[64];

		n = print_answer(&a, text, sizeof(text));
		check_variant(text, n, 0, &a, "printed back");
	}
	for (i = 0; i < size; i++)
		v[i] = (char)toupper((unsigned char)line[i]);
	check_variant(v, size, rc, &a, "upper case");
	for (i = 0; i < size; i++)
		v[i] = is_sep(line[i]) ? seps[(i + (size_t)line[i]) % 5] : line[i];
	check_variant(v, size, rc, &a, "other separators");
	memcpy(v, line, size);
	v[size] = '\n';
	check_variant(v, size + 1, rc, &a, "a trailing newline");
	return 0;
}
