/*
 * json_valid.h - a strict JSON validator (RFC 8259, UTF-8) for the tests of
 * the JSON weir writes (test_report.c, test_dash.c): json_valid(s, len,
 * __LINE__) fails the test with the place and the reason.
 */
#ifndef WEIR_TEST_JSON_VALID_H
#define WEIR_TEST_JSON_VALID_H

#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>

#include "../unit.h"

struct jp {
	const char *p, *end;
	int depth;
	const char *why;
};

static void j_ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static bool j_fail(struct jp *j, const char *why)
{
	if (!j->why)
		j->why = why;
	return false;
}

/* One UTF-8 sequence at j->p (not an overlong form, not a surrogate). */
static bool j_utf8(struct jp *j)
{
	const unsigned char *s = (const unsigned char *)j->p;
	size_t left = (size_t)(j->end - j->p);
	unsigned n, cp;

	if (s[0] < 0x80) {
		j->p++;
		return true;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 1, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 2, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 3, cp = s[0] & 0x07;
	else
		return j_fail(j, "not UTF-8");
	if (left <= n)
		return j_fail(j, "cut UTF-8 sequence");
	for (unsigned i = 1; i <= n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return j_fail(j, "not UTF-8");
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return j_fail(j, "not UTF-8");
	j->p += n + 1;
	return true;
}

static bool j_string(struct jp *j)
{
	if (j->p >= j->end || *j->p != '"')
		return j_fail(j, "string expected");
	j->p++;
	while (j->p < j->end && *j->p != '"') {
		unsigned char c = (unsigned char)*j->p;

		if (c < 0x20)
			return j_fail(j, "control character in a string");
		if (c == '\\') {
			j->p++;
			if (j->p >= j->end)
				return j_fail(j, "cut escape");
			if (*j->p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (j->p + i >= j->end || !isxdigit((unsigned char)j->p[i]))
						return j_fail(j, "bad \\u escape");
				j->p += 5;
			} else if (strchr("\"\\/bfnrt", *j->p) && *j->p) {
				j->p++;
			} else {
				return j_fail(j, "bad escape");
			}
			continue;
		}
		if (!j_utf8(j))
			return false;
	}
	if (j->p >= j->end)
		return j_fail(j, "unterminated string");
	j->p++;
	return true;
}

static bool j_number(struct jp *j)
{
	const char *s = j->p;

	if (s < j->end && *s == '-')
		s++;
	if (s >= j->end || !isdigit((unsigned char)*s))
		return j_fail(j, "bad number");
	if (*s == '0')
		s++;
	else
		while (s < j->end && isdigit((unsigned char)*s))
			s++;
	if (s < j->end && *s == '.') {
		s++;
		if (s >= j->end || !isdigit((unsigned char)*s))
			return j_fail(j, "bad fraction");
		while (s < j->end && isdigit((unsigned char)*s))
			s++;
	}
	if (s < j->end && (*s == 'e' || *s == 'E')) {
		s++;
		if (s < j->end && (*s == '+' || *s == '-'))
			s++;
		if (s >= j->end || !isdigit((unsigned char)*s))
			return j_fail(j, "bad exponent");
		while (s < j->end && isdigit((unsigned char)*s))
			s++;
	}
	j->p = s;
	return true;
}

static bool j_value(struct jp *j);

static bool j_object(struct jp *j)
{
	j->p++; /* { */
	j_ws(j);
	if (j->p < j->end && *j->p == '}') {
		j->p++;
		return true;
	}
	for (;;) {
		j_ws(j);
		if (!j_string(j))
			return false;
		j_ws(j);
		if (j->p >= j->end || *j->p != ':')
			return j_fail(j, "':' expected");
		j->p++;
		if (!j_value(j))
			return false;
		j_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == '}') {
			j->p++;
			return true;
		}
		return j_fail(j, "',' or '}' expected");
	}
}

static bool j_array(struct jp *j)
{
	j->p++; /* [ */
	j_ws(j);
	if (j->p < j->end && *j->p == ']') {
		j->p++;
		return true;
	}
	for (;;) {
		if (!j_value(j))
			return false;
		j_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == ']') {
			j->p++;
			return true;
		}
		return j_fail(j, "',' or ']' expected");
	}
}

static bool j_value(struct jp *j)
{
	bool ok;

	j_ws(j);
	if (j->p >= j->end)
		return j_fail(j, "value expected");
	if (++j->depth > 64)
		return j_fail(j, "too deep");
	switch (*j->p) {
	case '{': ok = j_object(j); break;
	case '[': ok = j_array(j); break;
	case '"': ok = j_string(j); break;
	case 't': ok = j->end - j->p >= 4 && memcmp(j->p, "true", 4) == 0;
		  j->p += ok ? 4 : 0; break;
	case 'f': ok = j->end - j->p >= 5 && memcmp(j->p, "false", 5) == 0;
		  j->p += ok ? 5 : 0; break;
	case 'n': ok = j->end - j->p >= 4 && memcmp(j->p, "null", 4) == 0;
		  j->p += ok ? 4 : 0; break;
	default: ok = j_number(j); break;
	}
	j->depth--;
	return ok || j_fail(j, "bad value");
}

/* True if <s>[0..len) is one JSON value (with blanks around). Reports
 * why not as a failure at <line>, unless <line> is 0. */
static bool json_valid(const char *s, size_t len, int line)
{
	struct jp j = { s, s + len, 0, NULL };
	bool ok = j_value(&j);

	j_ws(&j);
	if (ok && j.p != j.end)
		ok = j_fail(&j, "text after the value");
	if (!ok && line)
		unit_fail(__FILE__, line, "invalid JSON (%s) at byte %td: ...%.40s", j.why,
			  j.p - s, j.p);
	return ok;
}

#endif
