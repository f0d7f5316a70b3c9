/* healthspec.c - the health-check words (see healthspec.h). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/healthspec.h"
#include "core/util.h"

/* --- the registered check kinds ----------------------------------------------- */

static const struct check_kind *kinds[CHECK_KINDS_MAX];
static unsigned nkinds;

#define CHECK_COMMON_KEYS 7   /* check_keys[], below */

int check_kind_register(const struct check_kind *k)
{
	int id = check_kind_find(k->name);

	if (id >= 0)
		return id;
	if (nkinds == CHECK_KINDS_MAX)
		return -ENOSPC;
	if (CHECK_COMMON_KEYS + k->nkeys > 32) /* parse_pairs' mask of keys seen */
		return -E2BIG;
	kinds[nkinds++] = k;
	return (int)(CHECK_KIND_FIRST + nkinds - 1);
}

int check_kind_find(const char *name)
{
	for (unsigned i = 0; i < nkinds; i++)
		if (strcmp(kinds[i]->name, name) == 0)
			return (int)(CHECK_KIND_FIRST + i);
	return -ENOENT;
}

const struct check_kind *check_kind_get(unsigned kind)
{
	if (kind < CHECK_KIND_FIRST || kind - CHECK_KIND_FIRST >= nkinds)
		return NULL;
	return kinds[kind - CHECK_KIND_FIRST];
}

/* "off, tcp or http" for messages. */
static void kind_names(char *out, size_t size)
{
	size_t len = (size_t)snprintf(out, size, "off");

	for (unsigned i = 0; i < nkinds && len < size; i++)
		len += (size_t)snprintf(out + len, size - len, "%s%s",
					i + 1 == nkinds ? " or " : ", ", kinds[i]->name);
}

void check_spec_defaults(struct check_spec *c, unsigned kind)
{
	const struct check_kind *k = check_kind_get(kind);

	memset(c, 0, sizeof(*c));
	c->kind = (uint8_t)kind;
	c->rise = 2;
	c->fall = 3;
	c->jitter_pct = 10;
	c->interval_ms = 2000;
	c->fast_interval_ms = 500;
	c->timeout_ms = 1000;
	if (k && k->defaults)
		k->defaults(c);
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

#define KEY(n, t, T, f, lo, hi) \
	{ .name = n, .type = t, .off = offsetof(T, f), .size = sizeof(((T *)0)->f), \
	  .min = lo, .max = hi }

/* what every kind of check takes; the kind's own keys follow */
static const struct spec_key check_keys[] = {
	KEY("port", KEY_PORT, struct check_spec, port, 1, 65535),
	KEY("interval", KEY_DURATION, struct check_spec, interval_ms, 10, 3600000),
	KEY("fast_interval", KEY_DURATION, struct check_spec, fast_interval_ms, 10, 3600000),
	KEY("timeout", KEY_DURATION, struct check_spec, timeout_ms, 10, 3600000),
	KEY("rise", KEY_U8, struct check_spec, rise, 1, 100),
	KEY("fall", KEY_U8, struct check_spec, fall, 1, 100),
	KEY("jitter", KEY_PERCENT, struct check_spec, jitter_pct, 0, 50),
};
_Static_assert(ARRAY_SIZE(check_keys) == CHECK_COMMON_KEYS, "CHECK_COMMON_KEYS");

static const struct spec_key agent_keys[] = {
	KEY("port", KEY_PORT, struct agent_spec, port, 1, 65535),
	KEY("interval", KEY_DURATION, struct agent_spec, interval_ms, 10, 3600000),
	KEY("timeout", KEY_DURATION, struct agent_spec, timeout_ms, 10, 3600000),
	KEY("send", KEY_TEXT, struct agent_spec, send, 0, 0),
};

static const struct spec_key outlier_keys[] = {
	KEY("errors", KEY_U32, struct outlier_spec, errors, 1, 1000),
	KEY("eject", KEY_DURATION, struct outlier_spec, eject_ms, 100, 86400000),
	KEY("max_eject", KEY_DURATION, struct outlier_spec, max_eject_ms, 100, 86400000),
	KEY("max_ejected", KEY_PERCENT, struct outlier_spec, max_pct, 1, 100),
};

/* The keys a spec takes: a common table, then (checks) the kind's. */
struct keyset {
	const struct spec_key *tab[2];
	size_t n[2];
};

static size_t keyset_len(const struct keyset *ks)
{
	return ks->n[0] + ks->n[1];
}

static const struct spec_key *keyset_at(const struct keyset *ks, size_t i)
{
	return i < ks->n[0] ? &ks->tab[0][i] : &ks->tab[1][i - ks->n[0]];
}

static struct keyset keys_of(const struct spec_key *common, size_t n,
			     const struct check_kind *k)
{
	struct keyset ks = { { common, k ? k->keys : NULL }, { n, k ? k->nkeys : 0 } };

	return ks;
}

static int fail(char *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, SPEC_ERR_MAX, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int set_key(const struct spec_key *k, void *spec, const char *v, char *err)
{
	char *field = (char *)spec + k->off;
	uint32_t n = 0;

	switch (k->type) {
	case KEY_U8:
	case KEY_U32:
	case KEY_PORT:
		if (parse_u32(v, k->max, &n) != 0 || n < k->min)
			return fail(err, "%s: '%s' is not a number from %u to %u", k->name, v,
				    k->min, k->max);
		break;
	case KEY_PERCENT: {
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
	case KEY_DURATION:
		if (parse_duration_ms(v, 1000, &n) != 0 || n < k->min || n > k->max)
			return fail(err, "%s: '%s' is not a duration from %ums to %us", k->name, v,
				    k->min, k->max / 1000);
		break;
	case KEY_STRING:
	case KEY_TEXT: {
		size_t len = 0;

		for (const char *p = v; *p; p++) {
			char c = *p;

			/* K_TEXT escapes: \n a newline, \\ a backslash (a config
			 * file's "\n" arrives as a newline already) */
			if (k->type == KEY_TEXT && p[0] == '\\' && (p[1] == 'n' || p[1] == '\\')) {
				c = p[1] == 'n' ? '\n' : '\\';
				p++;
			}
			if (((unsigned char)c < 0x20 && !(k->type == KEY_TEXT && c == '\n')) ||
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
	case KEY_CUSTOM:
		return k->parse(v, field, err);
	}
	if (k->size == 1)
		*(uint8_t *)field = (uint8_t)n;
	else if (k->size == 2)
		*(uint16_t *)field = (uint16_t)n;
	else
		*(uint32_t *)field = n;
	return 0;
}

/* KEY VALUE pairs from <w>[0..n) into <spec>; <seen_out> gets a bit per key
 * given (its index in <ks>). */
static int parse_pairs(const char *what, const struct keyset *ks, char *const *w, int n,
		       void *spec, char *err, uint32_t *seen_out)
{
	size_t nkeys = keyset_len(ks);
	uint32_t seen = 0;

	for (int i = 0; i < n; i += 2) {
		const struct spec_key *k = NULL;
		size_t ki;

		for (ki = 0; ki < nkeys; ki++)
			if (strcmp(keyset_at(ks, ki)->name, w[i]) == 0) {
				k = keyset_at(ks, ki);
				break;
			}
		if (!k) {
			char names[256] = "";
			size_t len = 0;

			for (size_t j = 0; j < nkeys && len < sizeof(names); j++)
				len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s",
							len ? ", " : "", keyset_at(ks, j)->name);
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
static uint32_t key_bit(const struct keyset *ks, const char *name)
{
	for (size_t i = 0; i < keyset_len(ks); i++)
		if (strcmp(keyset_at(ks, i)->name, name) == 0)
			return 1u << i;
	return 0;
}

int check_spec_parse(char *const *w, int n, struct check_spec *out, char *err)
{
	const struct check_kind *k;
	struct check_spec c;
	struct keyset ks;
	char names[128];
	uint32_t seen;
	int id, rc;

	kind_names(names, sizeof(names));
	if (n < 1)
		return fail(err, "check: say %s", names);
	if (strcmp(w[0], "off") == 0 || strcmp(w[0], "none") == 0) {
		if (n > 1)
			return fail(err, "check off takes no options");
		check_spec_defaults(out, CHECK_NONE);
		return 0;
	}
	if ((id = check_kind_find(w[0])) < 0)
		return fail(err, "check: unknown kind '%s' (%s)", w[0], names);
	k = check_kind_get((unsigned)id);
	check_spec_defaults(&c, (unsigned)id);
	ks = keys_of(check_keys, ARRAY_SIZE(check_keys), k);
	rc = parse_pairs("check", &ks, w + 1, n - 1, &c, err, &seen);
	if (rc)
		return rc;
	/* a short interval brings the default timeout down with it */
	if (!(seen & key_bit(&ks, "timeout")))
		c.timeout_ms = MIN(c.timeout_ms, c.interval_ms);
	if (c.timeout_ms > c.interval_ms)
		return fail(err, "check: timeout (%ums) is longer than the interval (%ums)",
			    c.timeout_ms, c.interval_ms);
	if (k->validate && (rc = k->validate(&c, err)) != 0)
		return rc;
	*out = c;
	return 0;
}

int agent_spec_parse(char *const *w, int n, struct agent_spec *out, char *err)
{
	struct agent_spec a;
	struct keyset ks;
	uint32_t seen;
	int rc;

	agent_spec_defaults(&a);
	if (n == 1 && strcmp(w[0], "off") == 0) {
		*out = a;
		return 0;
	}
	ks = keys_of(agent_keys, ARRAY_SIZE(agent_keys), NULL);
	rc = parse_pairs("agent", &ks, w, n, &a, err, &seen);
	if (rc)
		return rc;
	if (!(seen & key_bit(&ks, "timeout")))
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
	struct keyset ks;
	uint32_t seen;
	int rc;

	outlier_spec_defaults(&o);
	if (n == 1 && strcmp(w[0], "off") == 0) {
		*out = o;
		return 0;
	}
	ks = keys_of(outlier_keys, ARRAY_SIZE(outlier_keys), NULL);
	rc = parse_pairs("outlier", &ks, w, n, &o, err, &seen);
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
static void format_pairs(struct out *o, const struct keyset *ks, const void *spec,
			 const void *def)
{
	for (size_t i = 0; i < keyset_len(ks); i++) {
		const struct spec_key *k = keyset_at(ks, i);
		const char *f = (const char *)spec + k->off;
		uint32_t v = 0;

		if (memcmp(f, (const char *)def + k->off, k->size) == 0)
			continue;
		if (k->type == KEY_STRING) {
			put(o, " %s", k->name);
			put_word(o, f);
			continue;
		}
		if (k->type == KEY_TEXT) {
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
		if (k->type == KEY_CUSTOM) {
			char word[256];

			k->format(f, word, sizeof(word));
			put(o, " %s", k->name);
			put_word(o, word);
			continue;
		}
		if (k->size == 1)
			v = *(const uint8_t *)f;
		else if (k->size == 2)
			v = *(const uint16_t *)f;
		else
			v = *(const uint32_t *)f;
		if (k->type == KEY_DURATION)
			put_duration(o, k->name, v);
		else if (k->type == KEY_PERCENT)
			put(o, " %s %u%%", k->name, v);
		else
			put(o, " %s %u", k->name, v);
	}
}

void check_spec_format(const struct check_spec *c, char *out, size_t size)
{
	struct out o = { out, size, 0 };
	struct check_spec def;
	struct keyset ks;

	out[0] = '\0';
	if (c->kind == CHECK_INHERIT || c->kind == CHECK_NONE || !check_kind_get(c->kind)) {
		put(&o, "%s", check_kind_name(c->kind));
		return;
	}
	check_spec_defaults(&def, c->kind);
	put(&o, "%s", check_kind_name(c->kind));
	ks = keys_of(check_keys, ARRAY_SIZE(check_keys), check_kind_get(c->kind));
	format_pairs(&o, &ks, c, &def);
}

void agent_spec_format(const struct agent_spec *a, char *out, size_t size)
{
	struct out o = { out, size, 0 };
	struct agent_spec def;
	struct keyset ks;

	out[0] = '\0';
	if (!a->port) {
		put(&o, "off");
		return;
	}
	agent_spec_defaults(&def);
	ks = keys_of(agent_keys, ARRAY_SIZE(agent_keys), NULL);
	format_pairs(&o, &ks, a, &def);
	memmove(out, out + 1, strlen(out)); /* the leading blank */
}

void outlier_spec_format(const struct outlier_spec *ol, char *out, size_t size)
{
	struct out o = { out, size, 0 };
	struct outlier_spec def;
	struct keyset ks;

	out[0] = '\0';
	if (!ol->errors) {
		put(&o, "off");
		return;
	}
	outlier_spec_defaults(&def);
	ks = keys_of(outlier_keys, ARRAY_SIZE(outlier_keys), NULL);
	format_pairs(&o, &ks, ol, &def);
	memmove(out, out + 1, strlen(out));
}

const char *check_kind_name(unsigned kind)
{
	const struct check_kind *k = check_kind_get(kind);

	if (k)
		return k->name;
	return kind == CHECK_NONE ? "off" : kind == CHECK_INHERIT ? "inherit" : "?";
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
