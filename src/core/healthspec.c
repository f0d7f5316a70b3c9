/* healthspec.c - the health-check words (see healthspec.h). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/healthspec.h"
#include "core/util.h"

void check_spec_defaults(struct check_spec *c, enum check_kind kind)
{
	memset(c, 0, sizeof(*c));
	c->kind = (uint8_t)kind;
	c->rise = 2;
	c->fall = 3;
	c->jitter_pct = 10;
	c->interval_ms = 2000;
	c->fast_interval_ms = 500;
	c->timeout_ms = 1000;
	snprintf(c->method, sizeof(c->method), "GET");
	snprintf(c->path, sizeof(c->path), "/");
}

void agent_spec_defaults(struct agent_spec *a)
{
	memset(a, 0, sizeof(*a));
	a->interval_ms = 2000;
	a->timeout_ms = 1000;
}

void outlier_spec_defaults(struct outlier_spec *o)
{
	memset(o, 0, sizeof(*o));
	o->eject_ms = 30000;
	o->max_eject_ms = 300000;
	o->max_pct = 50;
}

/* --- one table of keys per spec -------------------------------------------- */

enum key_type { K_U8, K_PORT, K_U32, K_DURATION, K_PERCENT, K_STRING, K_TEXT, K_EXPECT };
/* K_TEXT: a string that may hold newlines, written \n */

struct key {
	const char *name;
	enum key_type type;
	size_t off, size;   /* where in the spec; size for strings */
	uint32_t min, max;  /* for numbers */
	bool http_only;
};

#define KEY(n, t, T, f, lo, hi) { n, t, offsetof(T, f), sizeof(((T *)0)->f), lo, hi, false }
#define HKEY(n, t, f) { n, t, offsetof(struct check_spec, f), \
			sizeof(((struct check_spec *)0)->f), 0, 0, true }

static const struct key check_keys[] = {
	KEY("port", K_PORT, struct check_spec, port, 1, 65535),
	KEY("interval", K_DURATION, struct check_spec, interval_ms, 10, 3600000),
	KEY("fast_interval", K_DURATION, struct check_spec, fast_interval_ms, 10, 3600000),
	KEY("timeout", K_DURATION, struct check_spec, timeout_ms, 10, 3600000),
	KEY("rise", K_U8, struct check_spec, rise, 1, 100),
	KEY("fall", K_U8, struct check_spec, fall, 1, 100),
	KEY("jitter", K_PERCENT, struct check_spec, jitter_pct, 0, 50),
	HKEY("method", K_STRING, method),
	HKEY("path", K_STRING, path),
	HKEY("host", K_STRING, host),
	HKEY("expect", K_EXPECT, nexpect),
	HKEY("body", K_STRING, body),
};

static const struct key agent_keys[] = {
	KEY("port", K_PORT, struct agent_spec, port, 1, 65535),
	KEY("interval", K_DURATION, struct agent_spec, interval_ms, 10, 3600000),
	KEY("timeout", K_DURATION, struct agent_spec, timeout_ms, 10, 3600000),
	KEY("send", K_TEXT, struct agent_spec, send, 0, 0),
};

static const struct key outlier_keys[] = {
	KEY("errors", K_U32, struct outlier_spec, errors, 1, 1000),
	KEY("eject", K_DURATION, struct outlier_spec, eject_ms, 100, 86400000),
	KEY("max_eject", K_DURATION, struct outlier_spec, max_eject_ms, 100, 86400000),
	KEY("max_ejected", K_PERCENT, struct outlier_spec, max_pct, 1, 100),
};

static int fail(char *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, SPEC_ERR_MAX, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* "200-399,404" into the check's expect list. */
static int parse_expect(const char *v, struct check_spec *c, char *err)
{
	const char *p = v;

	c->nexpect = 0;
	while (*p) {
		char *end;
		unsigned long lo = strtoul(p, &end, 10), hi = lo;

		if (end == p)
			goto bad;
		if (*end == '-') {
			p = end + 1;
			hi = strtoul(p, &end, 10);
			if (end == p)
				goto bad;
		}
		if (lo < 100 || hi > 599 || lo > hi)
			goto bad;
		if (c->nexpect == CHECK_MAX_EXPECT)
			return fail(err, "expect: at most %d status ranges", CHECK_MAX_EXPECT);
		c->expect[c->nexpect].lo = (uint16_t)lo;
		c->expect[c->nexpect].hi = (uint16_t)hi;
		c->nexpect++;
		if (*end == ',')
			end++;
		else if (*end)
			goto bad;
		p = end;
	}
	if (c->nexpect)
		return 0;
bad:
	return fail(err, "expect: '%s' is not a status list such as 200-399,404", v);
}

static int set_key(const struct key *k, void *spec, const char *v, char *err)
{
	char *field = (char *)spec + k->off;
	uint32_t n = 0;

	switch (k->type) {
	case K_U8:
	case K_U32:
	case K_PORT:
		if (parse_u32(v, k->max, &n) != 0 || n < k->min)
			return fail(err, "%s: '%s' is not a number from %u to %u", k->name, v,
				    k->min, k->max);
		break;
	case K_PERCENT: {
		size_t len = strlen(v);
		char num[16];

		if (len == 0 || len >= sizeof(num) || v[len - 1] != '%')
			return fail(err, "%s: '%s' is not a percentage such as 10%%", k->name, v);
		memcpy(num, v, len - 1);
		num[len - 1] = '\0';
		if (parse_u32(num, k->max, &n) != 0 || n < k->min)
			return fail(err, "%s: '%s' is not a percentage from %u%% to %u%%", k->name,
				    v, k->min, k->max);
		break;
	}
	case K_DURATION:
		if (parse_duration_ms(v, 1000, &n) != 0 || n < k->min || n > k->max)
			return fail(err, "%s: '%s' is not a duration from %ums to %us", k->name, v,
				    k->min, k->max / 1000);
		break;
	case K_STRING:
	case K_TEXT: {
		size_t len = 0;

		for (const char *p = v; *p; p++) {
			char c = *p;

			/* K_TEXT escapes: \n a newline, \\ a backslash (a config
			 * file's "\n" arrives as a newline already) */
			if (k->type == K_TEXT && p[0] == '\\' && (p[1] == 'n' || p[1] == '\\')) {
				c = p[1] == 'n' ? '\n' : '\\';
				p++;
			}
			if (((unsigned char)c < 0x20 && !(k->type == K_TEXT && c == '\n')) ||
			    c == 0x7f)
				return fail(err, "%s: control characters are not allowed", k->name);
			if (len + 1 >= k->size)
				return fail(err, "%s: longer than %zu characters", k->name,
					    k->size - 1);
			field[len++] = c;
		}
		field[len] = '\0';
		return 0;
	}
	case K_EXPECT:
		return parse_expect(v, spec, err);
	}
	if (k->size == 1)
		*(uint8_t *)field = (uint8_t)n;
	else if (k->size == 2)
		*(uint16_t *)field = (uint16_t)n;
	else
		*(uint32_t *)field = n;
	return 0;
}

/* KEY VALUE pairs from <w>[0..n) into <spec>. */
static int parse_pairs(const char *what, const struct key *keys, size_t nkeys, bool http,
		       char *const *w, int n, void *spec, char *err, uint32_t *seen_out)
{
	uint32_t seen = 0;

	for (int i = 0; i < n; i += 2) {
		const struct key *k = NULL;
		size_t ki;

		for (ki = 0; ki < nkeys; ki++)
			if (strcmp(keys[ki].name, w[i]) == 0) {
				k = &keys[ki];
				break;
			}
		if (!k || (k->http_only && !http)) {
			char names[256] = "";
			size_t len = 0;

			for (size_t j = 0; j < nkeys; j++)
				if (!keys[j].http_only || http)
					len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s",
								len ? ", " : "", keys[j].name);
			return fail(err, "%s: unknown option '%s' (%s)", what, w[i], names);
		}
		if (seen & (1u << ki))
			return fail(err, "%s: '%s' given twice", what, w[i]);
		seen |= 1u << ki;
		if (i + 1 >= n)
			return fail(err, "%s: '%s' needs a value", what, w[i]);
		if (set_key(k, spec, w[i + 1], err) != 0)
			return -EINVAL;
	}
	*seen_out = seen;
	return 0;
}

/* Bit of key <name> in a seen mask. */
static uint32_t key_bit(const struct key *keys, size_t nkeys, const char *name)
{
	for (size_t i = 0; i < nkeys; i++)
		if (strcmp(keys[i].name, name) == 0)
			return 1u << i;
	return 0;
}

int check_spec_parse(char *const *w, int n, struct check_spec *out, char *err)
{
	static const struct { const char *name; enum check_kind kind; } kinds[] = {
		{ "off", CHECK_NONE }, { "none", CHECK_NONE },
		{ "tcp", CHECK_TCP }, { "http", CHECK_HTTP },
	};
	struct check_spec c;
	uint32_t seen;
	int rc;

	if (n < 1)
		return fail(err, "check: say off, tcp or http");
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		if (strcmp(w[0], kinds[i].name) != 0)
			continue;
		check_spec_defaults(&c, kinds[i].kind);
		if (kinds[i].kind == CHECK_NONE && n > 1)
			return fail(err, "check off takes no options");
		rc = parse_pairs("check", check_keys, ARRAY_SIZE(check_keys),
				 c.kind == CHECK_HTTP, w + 1, n - 1, &c, err, &seen);
		if (rc)
			return rc;
		/* a short interval brings the default timeout down with it */
		if (!(seen & key_bit(check_keys, ARRAY_SIZE(check_keys), "timeout")))
			c.timeout_ms = MIN(c.timeout_ms, c.interval_ms);
		if (c.timeout_ms > c.interval_ms)
			return fail(err, "check: timeout (%ums) is longer than the interval (%ums)",
				    c.timeout_ms, c.interval_ms);
		if (c.kind == CHECK_HTTP && (c.path[0] != '/' || strchr(c.path, ' ')))
			return fail(err, "check: path must start with / and have no blanks");
		if (c.kind == CHECK_HTTP && (!c.method[0] || strpbrk(c.method, " \t")))
			return fail(err, "check: method must be one word");
		*out = c;
		return 0;
	}
	return fail(err, "check: unknown kind '%s' (off, tcp or http)", w[0]);
}

int agent_spec_parse(char *const *w, int n, struct agent_spec *out, char *err)
{
	struct agent_spec a;
	uint32_t seen;
	int rc;

	agent_spec_defaults(&a);
	if (n == 1 && strcmp(w[0], "off") == 0) {
		*out = a;
		return 0;
	}
	rc = parse_pairs("agent", agent_keys, ARRAY_SIZE(agent_keys), false, w, n, &a, err, &seen);
	if (rc)
		return rc;
	if (!(seen & key_bit(agent_keys, ARRAY_SIZE(agent_keys), "timeout")))
		a.timeout_ms = MIN(a.timeout_ms, a.interval_ms);
	if (!a.port)
		return fail(err, "agent: say 'port N' (or 'off')");
	if (a.timeout_ms > a.interval_ms)
		return fail(err, "agent: timeout (%ums) is longer than the interval (%ums)",
			    a.timeout_ms, a.interval_ms);
	*out = a;
	return 0;
}

int outlier_spec_parse(char *const *w, int n, struct outlier_spec *out, char *err)
{
	struct outlier_spec o;
	uint32_t seen;
	int rc;

	outlier_spec_defaults(&o);
	if (n == 1 && strcmp(w[0], "off") == 0) {
		*out = o;
		return 0;
	}
	rc = parse_pairs("outlier", outlier_keys, ARRAY_SIZE(outlier_keys), false, w, n, &o,
			 err, &seen);
	if (rc)
		return rc;
	if (!o.errors)
		return fail(err, "outlier: say 'errors N' (or 'off')");
	if (o.max_eject_ms < o.eject_ms)
		return fail(err, "outlier: max_eject is shorter than eject");
	*out = o;
	return 0;
}

/* --- formatting ------------------------------------------------------------- */

struct out {
	char *p;
	size_t size, len;
};

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->len >= o->size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->p + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

/* A word, in double quotes with \" and \\ escapes when it needs them. */
static void put_word(struct out *o, const char *w)
{
	if (*w && !strpbrk(w, " \t\"\\;{}#'")) {
		put(o, " %s", w);
		return;
	}
	put(o, " \"");
	for (; *w; w++)
		put(o, *w == '"' || *w == '\\' ? "\\%c" : "%c", *w);
	put(o, "\"");
}

static void put_duration(struct out *o, const char *name, uint32_t ms)
{
	if (ms % 1000 == 0)
		put(o, " %s %us", name, ms / 1000);
	else
		put(o, " %s %ums", name, ms);
}

/* Each key of <spec> that differs from <def>. */
static void format_pairs(struct out *o, const struct key *keys, size_t nkeys, bool http,
			 const void *spec, const void *def)
{
	for (size_t i = 0; i < nkeys; i++) {
		const struct key *k = &keys[i];
		const char *f = (const char *)spec + k->off;
		uint32_t v = 0;

		if ((k->http_only && !http) ||
		    memcmp(f, (const char *)def + k->off, k->size) == 0)
			continue;
		if (k->type == K_STRING) {
			put(o, " %s", k->name);
			put_word(o, f);
			continue;
		}
		if (k->type == K_TEXT) {
			char text[2 * sizeof(((struct agent_spec *)0)->send) + 1];
			size_t n = 0;

			for (const char *p = f; *p && n + 2 < sizeof(text); p++) {
				if (*p == '\n' || *p == '\\') {
					text[n++] = '\\';
					text[n++] = *p == '\n' ? 'n' : '\\';
				} else {
					text[n++] = *p;
				}
			}
			text[n] = '\0';
			put(o, " %s", k->name);
			put_word(o, text);
			continue;
		}
		if (k->type == K_EXPECT) {
			const struct check_spec *c = spec;

			put(o, " expect ");
			for (int j = 0; j < c->nexpect; j++) {
				put(o, j ? "," : "");
				if (c->expect[j].lo == c->expect[j].hi)
					put(o, "%u", c->expect[j].lo);
				else
					put(o, "%u-%u", c->expect[j].lo, c->expect[j].hi);
			}
			continue;
		}
		if (k->size == 1)
			v = *(const uint8_t *)f;
		else if (k->size == 2)
			v = *(const uint16_t *)f;
		else
			v = *(const uint32_t *)f;
		if (k->type == K_DURATION)
			put_duration(o, k->name, v);
		else if (k->type == K_PERCENT)
			put(o, " %s %u%%", k->name, v);
		else
			put(o, " %s %u", k->name, v);
	}
}

void check_spec_format(const struct check_spec *c, char *out, size_t size)
{
	struct out o = { out, size, 0 };
	struct check_spec def;

	out[0] = '\0';
	if (c->kind == CHECK_INHERIT || c->kind == CHECK_NONE) {
		put(&o, "%s", c->kind == CHECK_NONE ? "off" : "inherit");
		return;
	}
	check_spec_defaults(&def, (enum check_kind)c->kind);
	put(&o, "%s", check_kind_name((enum check_kind)c->kind));
	format_pairs(&o, check_keys, ARRAY_SIZE(check_keys), c->kind == CHECK_HTTP, c, &def);
}

void agent_spec_format(const struct agent_spec *a, char *out, size_t size)
{
	struct out o = { out, size, 0 };
	struct agent_spec def;

	out[0] = '\0';
	if (!a->port) {
		put(&o, "off");
		return;
	}
	agent_spec_defaults(&def);
	format_pairs(&o, agent_keys, ARRAY_SIZE(agent_keys), false, a, &def);
	memmove(out, out + 1, strlen(out)); /* the leading blank */
}

void outlier_spec_format(const struct outlier_spec *ol, char *out, size_t size)
{
	struct out o = { out, size, 0 };
	struct outlier_spec def;

	out[0] = '\0';
	if (!ol->errors) {
		put(&o, "off");
		return;
	}
	outlier_spec_defaults(&def);
	format_pairs(&o, outlier_keys, ARRAY_SIZE(outlier_keys), false, ol, &def);
	memmove(out, out + 1, strlen(out));
}

bool check_expects(const struct check_spec *c, unsigned status)
{
	if (!c->nexpect)
		return status >= 200 && status <= 399;
	for (int i = 0; i < c->nexpect; i++)
		if (status >= c->expect[i].lo && status <= c->expect[i].hi)
			return true;
	return false;
}

const char *check_kind_name(enum check_kind k)
{
	switch (k) {
	case CHECK_TCP: return "tcp";
	case CHECK_HTTP: return "http";
	case CHECK_NONE: return "off";
	default: return "inherit";
	}
}

static const char *const admin_names[] = { "", "ready", "drain", "maint" };

const char *admin_state_name(enum admin_state s)
{
	return (unsigned)s < ARRAY_SIZE(admin_names) ? admin_names[s] : "?";
}

int admin_state_parse(const char *s, enum admin_state *out)
{
	for (size_t i = 1; i < ARRAY_SIZE(admin_names); i++)
		if (strcmp(s, admin_names[i]) == 0) {
			*out = (enum admin_state)i;
			return 0;
		}
	if (strcmp(s, "maintenance") == 0) {
		*out = ADMIN_MAINT;
		return 0;
	}
	return -EINVAL;
}
