/*
 * fixture.h - helpers the ctl tests share: a weirctl command line split on
 * blanks and parsed, and applied to a config.
 */
#ifndef WEIR_TEST_CTL_FIXTURE_H
#define WEIR_TEST_CTL_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/option.h"
#include "core/table.h"
#include "core/util.h"
#include "core/spec.h"
#include "ctl/cmd.h"
#include "ctl/exec.h"
#include "../unit.h"

/* Parses <line> (words separated by single blanks, no quoting). */
static inline int fx_parse(const char *line, struct ctl_cmd *cmd, char *err)
{
	char copy[1024], *words[64], *save = NULL;
	int n = 0;

	snprintf(copy, sizeof(copy), "%s", line);
	for (char *w = strtok_r(copy, " ", &save); w && n < 64; w = strtok_r(NULL, " ", &save))
		words[n++] = w;
	err[0] = '\0';
	return ctl_parse(n, words, cmd, err);
}

/* Parses and applies <line> to <cfg>; returns 0, the ctl_parse status, or
 * the -errno of ctl_apply_change, with the message in <err>. */
static inline int fx_apply(struct weir_config *cfg, const char *line, char *err)
{
	struct ctl_cmd cmd;
	int rc = fx_parse(line, &cmd, err);

	if (rc)
		return rc;
	return ctl_apply_change(cfg, &cmd, err);
}

/* Applies each line of <lines> (NULL-terminated) or fails the test. */
static inline bool fx_build(struct weir_config *cfg, const char *const *lines)
{
	char err[CTL_ERR_MAX];

	spec_init(cfg);
	for (size_t i = 0; lines[i]; i++)
		if (fx_apply(cfg, lines[i], err) != 0) {
			unit_fail(__FILE__, __LINE__, "\"%s\": %s", lines[i], err);
			return false;
		}
	return true;
}

/* Replays <text> (ctl_save's output) line by line into <out>; returns
 * false with the message of the first line that fails. */
static inline bool fx_replay(const char *text, struct weir_config *out, char *err)
{
	char *copy = strdup(text), *save = NULL;
	bool ok = true;

	spec_init(out);
	for (char *line = strtok_r(copy, "\n", &save); line && ok;
	     line = strtok_r(NULL, "\n", &save)) {
		char *words[CTL_MAX_WORDS];
		struct ctl_cmd cmd;
		int n = ctl_split(line, words, CTL_MAX_WORDS);

		if (n < 0) {
			snprintf(err, CTL_ERR_MAX, "split failed");
			ok = false;
		} else if (ctl_parse(n, words, &cmd, err) != 0 ||
			   ctl_apply_change(out, &cmd, err) != 0) {
			ok = false;
		}
	}
	free(copy);
	return ok;
}

/* True if <cmd> gave the service option whose config keyword is <key>. */
static inline bool fx_given(const struct ctl_cmd *cmd, const char *key)
{
	const struct opt_ref *r = opt_find_key(OPT_SVC, key);

	return r && ctl_given(cmd, r->row);
}

static inline const char *fx_addr(const struct weir_addr *a)
{
	static char buf[4][ADDR_STRLEN];
	static int k;

	return addr_str(a, buf[k++ & 3]);
}

/* --- ctl_exec: whole requests on a live table (packet-mode services only,
 * so no socket is opened) ------------------------------------------------- */

struct exec_fx {
	struct vs_table t;
	struct ctl_ctx ctx;
	struct buf out;
	enum log_level saved_log;
};

static inline void exec_open(struct exec_fx *f)
{
	memset(f, 0, sizeof(*f));
	table_init(&f->t, 1);
	f->ctx.table = &f->t;
	f->ctx.started_ms = now_ms();
	f->ctx.nworkers = 1;
	f->saved_log = log_threshold;
	log_threshold = LOG_ERR; /* packet-mode services warn that they carry no traffic */
}

static inline void exec_close(struct exec_fx *f)
{
	buf_free(&f->out);
	table_fini(&f->t);
	log_threshold = f->saved_log;
}

/* Runs the weirctl request <req> and returns the answer as a string (valid until the next run). */
static inline const char *exec_run(struct exec_fx *f, const char *req)
{
	size_t len = strlen(req);
	char *copy = malloc(len + 1);

	memcpy(copy, req, len + 1);
	buf_reset(&f->out);
	ctl_exec(&f->ctx, copy, len, &f->out);
	free(copy);
	buf_append(&f->out, "", 1);
	f->out.len--;
	return buf_head(&f->out);
}

#endif
