/*
 * exec.h - carries out weirctl requests on the control thread.
 *
 * A request is text: one command a line, words separated by blanks, a word
 * may be "double quoted"; blank lines and lines starting with '#' are
 * skipped, a leading "ipvsadm" or "weirctl" word is dropped (so ipvsadm -S
 * files and scripts work as they are). All lines are parsed, then all the
 * changes are made to a copy of the config, which is applied to the live
 * table at once: a request changes everything it asks for or nothing.
 *
 * The answer is "OK\n" followed by the output, or "ERR <status> <message>\n"
 * where status is the exit code weirctl should return (as ipvsadm's).
 * The protocol is described in docs/admin-protocol.md.
 */
#ifndef WEIR_CTL_EXEC_H
#define WEIR_CTL_EXEC_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/table.h"
#include "ctl/cmd.h"
#include "ctl/report.h"

struct ctl_ctx {
	struct vs_table *table;
	const char *config_path;   /* NULL when started without -c */
	uint64_t started_ms;
	int nworkers;
	/* Re-reads the config file and applies it; <err> gets the reason. */
	int (*reload)(struct ctl_ctx *ctx, char *err);
};

#define CTL_MAX_WORDS 128

/* Runs the request <req>[0..len) (modified in place) and writes the answer. */
void ctl_exec(struct ctl_ctx *ctx, char *req, size_t len, struct buf *out);

struct ctl_cmd;
struct weir_config;
/* True if <op> edits the config (-A -E -D -C -a -e -d). */
bool ctl_is_change(enum ctl_op op);
/* Applies one editing command to <cfg> (pure). 0 or -errno with <err>. */
int ctl_apply_change(struct weir_config *cfg, const struct ctl_cmd *cmd, char *err);

/* The daemon's identity for reports. */
struct report_info ctl_info(const struct ctl_ctx *ctx);
/* The Prometheus text (weirctl metrics and the metrics listener). */
void ctl_metrics(struct ctl_ctx *ctx, struct buf *out);

/* Splits one line into words in place. Returns the count, or -1 when there
 * are more than <max> words or a quote is not closed. */
int ctl_split(char *line, char **words, int max);

#endif
