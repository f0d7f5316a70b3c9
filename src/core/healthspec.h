/*
 * healthspec.h - the words that describe health checking, one grammar for
 * the config file and weirctl:
 *
 *   check off | tcp [KEY VALUE]... | http [KEY VALUE]...
 *       port N, interval D, fast_interval D, timeout D, rise N, fall N,
 *       jitter P%; http also: method M, path P, host H, expect LIST
 *       (200-399,404), body TEXT
 *   agent off | port N [interval D] [timeout D] [send TEXT]
 *   outlier off | errors N [eject D] [max_eject D] [max_ejected P%]
 *
 * Parsing is pure and fills a whole spec (defaults for what is not said);
 * formatting writes the words back, only what differs from the defaults, so
 * `weirctl -S` output parses to the same spec.
 */
#ifndef WEIR_HEALTHSPEC_H
#define WEIR_HEALTHSPEC_H

#include "core/spec.h"

void check_spec_defaults(struct check_spec *c, enum check_kind kind);
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

/* True if <status> is one the check expects. */
bool check_expects(const struct check_spec *c, unsigned status);

const char *check_kind_name(enum check_kind k);   /* "tcp", "http", "off" */
const char *admin_state_name(enum admin_state s); /* "ready", "drain", "maint" */
int admin_state_parse(const char *s, enum admin_state *out);

#endif
