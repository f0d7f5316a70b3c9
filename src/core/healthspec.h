/*
 * healthspec.h - the words that describe health checking, one grammar for
 * the config file and weirctl:
 *
 *   check off | KIND [KEY VALUE]...
 *       every kind: port N, interval D, fast_interval D, timeout D, rise N,
 *       fall N, jitter P%; then the kind's own keys (http: method M, path P,
 *       host H, expect LIST, body TEXT; tcp: none)
 *   agent off | port N [interval D] [timeout D] [send TEXT]
 *   outlier off | errors N [eject D] [max_eject D] [max_ejected P%]
 *
 * Parsing is pure and fills a whole spec (defaults for what is not said);
 * formatting writes the words back, only what differs from the defaults, so
 * `weirctl -S` output parses to the same spec.
 *
 * Check kinds: the layer that runs checks (health/) registers each kind at
 * start-up (src/register.c) with its name and its own keys; this file
 * parses and prints `check KIND ...` from those tables and never names a
 * kind. A kind keeps its settings in check_spec.own (its own struct laid
 * over those bytes); its keys say where, with CHECK_OWN_KEY.
 */
#ifndef WEIR_HEALTHSPEC_H
#define WEIR_HEALTHSPEC_H

#include <stddef.h>

#include "core/spec.h"

/* One KEY VALUE word pair of a spec: its type says how the value is read
 * and printed. */
enum spec_key_type {
	KEY_U8, KEY_PORT, KEY_U32,  /* numbers from min to max */
	KEY_DURATION,               /* "2s", "500ms" into milliseconds */
	KEY_PERCENT,                /* "10%" */
	KEY_STRING,                 /* no control characters */
	KEY_TEXT,                   /* may hold newlines, written \n */
	KEY_CUSTOM,                 /* the key's own parse and format */
};

struct spec_key {
	const char *name;
	enum spec_key_type type;
	size_t off, size;           /* the field: where in the spec, how large */
	uint32_t min, max;          /* numbers */
	/* KEY_CUSTOM: reads <v> into <field> (0, or -EINVAL with a message in
	 * <err>, SPEC_ERR_MAX bytes); writes <field> back as one word */
	int (*parse)(const char *v, void *field, char *err);
	void (*format)(const void *field, char *out, size_t size);
};

/* A key of a kind's own settings: field <f> of its struct <T>. */
#define CHECK_OWN_KEY(n, t, T, f, lo, hi)                                        \
	{ .name = (n), .type = (t),                                              \
	  .off = offsetof(struct check_spec, own) + offsetof(T, f),              \
	  .size = sizeof(((T *)0)->f), .min = (lo), .max = (hi) }
#define CHECK_OWN_CUSTOM(n, T, f, p, fmt)                                        \
	{ .name = (n), .type = KEY_CUSTOM,                                       \
	  .off = offsetof(struct check_spec, own) + offsetof(T, f),              \
	  .size = sizeof(((T *)0)->f), .parse = (p), .format = (fmt) }

/* A kind of active check as the core knows it: its words. Registered kinds
 * are static objects that live as long as the program. */
struct check_kind {
	const char *name;                 /* `check NAME ...` */
	const struct spec_key *keys;      /* its own keys, after the common ones */
	size_t nkeys;
	/* its own settings' defaults (c->own is zero before); NULL: zeros */
	void (*defaults)(struct check_spec *c);
	/* the whole spec once parsed: 0, or -EINVAL with a message; NULL: fine */
	int (*validate)(const struct check_spec *c, char *err);
};

#define CHECK_KINDS_MAX 8

/* Registers <k> (start-up, before any config is read; not thread-safe).
 * Returns its id, the check_spec.kind of its specs; registering a name
 * again returns the first id. -ENOSPC when full, -E2BIG for more than 25
 * keys of its own. */
int check_kind_register(const struct check_kind *k);
/* The kind registered as <name>: its id, or -ENOENT. */
int check_kind_find(const char *name);
/* The kind of id <kind>, or NULL (CHECK_INHERIT, CHECK_NONE, unknown). */
const struct check_kind *check_kind_get(unsigned kind);

void check_spec_defaults(struct check_spec *c, unsigned kind);
void agent_spec_defaults(struct agent_spec *a);
void outlier_spec_defaults(struct outlier_spec *o);

/* Each returns 0, or -EINVAL with a message in <err> (SPEC_ERR_MAX). */
int check_spec_parse(char *const *w, int n, struct check_spec *out, char *err);
int agent_spec_parse(char *const *w, int n, struct agent_spec *out, char *err);
int outlier_spec_parse(char *const *w, int n, struct outlier_spec *out, char *err);

/* The words again, quoted where needed (for weirctl -S and listings). */
void check_spec_format(const struct check_spec *c, char *out, size_t size);
void agent_spec_format(const struct agent_spec *a, char *out, size_t size);
void outlier_spec_format(const struct outlier_spec *o, char *out, size_t size);

const char *check_kind_name(unsigned kind);       /* "tcp", "http", "off", "inherit" */
const char *admin_state_name(enum admin_state s); /* "ready", "drain", "maint" */
int admin_state_parse(const char *s, enum admin_state *out);

#endif
