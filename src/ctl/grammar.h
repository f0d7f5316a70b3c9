/*
 * grammar.h - inside weirctl's grammar (ipvsadm.c): its options, and the
 * ones made of the option rows (rowopts.c).
 */
#ifndef WEIR_CTL_GRAMMAR_H
#define WEIR_CTL_GRAMMAR_H

#include <stddef.h>

#include "ctl/cmd.h"

enum arg_kind { ARG_NONE, ARG_REQUIRED, ARG_OPTIONAL };

/* A weirctl option: one of weirctl's own (with <set>), or the flag or an
 * alias of a row. */
struct ctl_option {
	char shortname;
	const char *longname;
	int id;                  /* enum ctl_opt, or O_ROWS + n for rows */
	enum arg_kind arg;
	const char *name;        /* in messages */
	int (*set)(struct ctl_cmd *c, const char *arg, char *err);
	const char *help;
	unsigned order;          /* ipvsadm's option order: the matrix checks in it */
	const char *alias;       /* a row's alias: the value it stands for */
	const char *metavar;     /* rows: in -h */
	/* an ipvsadm option weir refuses: why, and what weir does instead; the
	 * option reads its value, then fails "--OPT: not supported by weir: ..." */
	const char *refused;
};

/* Writes the message into <err> (CTL_ERR_MAX); returns CTL_EXIT_USAGE. */
int ctl_fail(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The options made of rows: their identities are O_ROWS..O_ROWS+nopts-1;
 * each entry (a flag or an alias) has its <order>: ipvsadm's for ipvsadm's
 * rows, 100 and more for weir's, in the rows' order. */
struct ctl_rows {
	const struct ctl_option *entries;
	size_t nentries;
	int nopts;
};

/* Built from the registered rows on the first call (any thread; the
 * registry must be complete), the same afterwards. */
const struct ctl_rows *ctl_rows(void);
/* The scopes (OPT_SVC, OPT_SRV...) of option <id>'s rows; 0 when <id> is
 * one of weirctl's own. */
unsigned ctl_row_scope(int id);
/* Sets row option <how> from <arg> in <cmd>, whose command takes rows of
 * <scope>. 0, or CTL_EXIT_USAGE with ipvsadm's message for ipvsadm's
 * options, "--FLAG: reason" for weir's. */
/* True if option <id> is a row that may be given more than once. */
bool ctl_row_repeats(int id);
int ctl_set_row(struct ctl_cmd *cmd, const struct ctl_option *how, const char *arg,
		unsigned scope, char *err);

/* ipvsadm's sync daemon options (sync_opts.c): each sets its part of
 * <c>->sync from <arg>, or fails with ipvsadm's message. */
int set_start_daemon(struct ctl_cmd *c, const char *arg, char *err);
int set_stop_daemon(struct ctl_cmd *c, const char *arg, char *err);
int set_mcast_ifn(struct ctl_cmd *c, const char *arg, char *err);
int set_syncid(struct ctl_cmd *c, const char *arg, char *err);
int set_sync_maxlen(struct ctl_cmd *c, const char *arg, char *err);
int set_mcast_group(struct ctl_cmd *c, const char *arg, char *err);
int set_mcast_port(struct ctl_cmd *c, const char *arg, char *err);
int set_mcast_ttl(struct ctl_cmd *c, const char *arg, char *err);

#endif
