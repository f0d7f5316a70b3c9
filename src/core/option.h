/*
 * option.h - every service and server option, declared once, as a row.
 *
 * A row says everything about one option: its config keyword, its weirctl
 * flag (and ipvsadm's short letter), its type, where its value lives, the
 * one parser the config reader and weirctl both call, the one printer that
 * `weirctl -S` and the config writer both call, whether `-E`/`-e` keep it
 * when it is not given (weir's options) or reset it (ipvsadm's), its
 * default and its help. These read the rows and name no option:
 *
 *   core/config.c        the service, pool and server directives
 *   core/config_write.c  a config file from a running config
 *   ctl/ipvsadm.c        weirctl's options, the command x option matrix, -h
 *   ctl/exec.c           what -E / -e / -A --pool keep
 *   ctl/list.c           -S
 *
 * Rows come in blocks. The core's blocks (core/spec_opts.c) hold the
 * service's and the server's own fields. A mode or feature registers its
 * own block (src/register.c): its rows live in the service's option area
 * (service_spec.opts, see spec.h) at an offset given at registration, and
 * its code reaches them with a small accessor (proxy/http_opts.h). Adding
 * an option is adding a row; see docs/design.md, "How to add an option".
 *
 * Registration happens once at start-up, before any config is read, on one
 * thread; afterwards the registry is read-only and any thread may read it.
 */
#ifndef WEIR_OPTION_H
#define WEIR_OPTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/spec.h"

enum opt_type {
	OPT_BOOL,       /* on | off */
	OPT_U32,        /* min..max (field of 1, 2 or 4 bytes) */
	OPT_DURATION,   /* 250ms, 2s, 5m, 1h; a bare number is seconds (uint32 ms) */
	OPT_SIZE,       /* 512, 16k, 10m, 1g (uint32 or uint64 bytes) */
	OPT_ENUM,       /* one of <words> */
	OPT_STRING,     /* a word, no control characters (char[]) */
	OPT_WORDS,      /* several words read by <parse> (check, agent...) */
	OPT_CUSTOM,     /* <parse> and <format> */
};

/* Scopes: where a row may be written. */
#define OPT_SVC  0x1u   /* service { } and weirctl -A / -E */
#define OPT_POOL 0x2u   /* also a pool's own: pool { } and -A --pool */
#define OPT_SRV  0x4u   /* server ... / server { } and weirctl -a / -e */

/* Row flags. */
#define OPT_F_IPVSADM 0x01u  /* ipvsadm's: -E/-e reset it when not given, -S
                              * prints it as ipvsadm does (short letter) */
#define OPT_F_ALWAYS  0x02u  /* -S prints it even at its default (-s, -w...) */
#define OPT_F_FIRST   0x04u  /* the config reader reads it before the rest */
#define OPT_F_OPTARG  0x08u  /* the value may be left out (-p, backup); one
                              * that parses to "on" is then not written */
#define OPT_F_OWNMSG  0x10u  /* the parser's message names its subject: the
                              * config does not put "KEY: " before it */
#define OPT_F_QUOTE   0x20u  /* -S always quotes the value (--check "tcp") */
#define OPT_F_OFF     0x40u  /* "off" is the empty/zero value (durations, strings) */
#define OPT_F_REPEAT  0x80u  /* weirctl: the flag may be given again (each one
                              * parsed in turn: --name a --name b) */

/* An ENUM word; a later word with the same value is an alias (accepted,
 * never printed, not listed in messages). */
struct opt_word {
	const char *word;
	uint32_t value;
};

/* A weirctl switch without a value that stands for a value of the row
 * (ipvsadm's -g/-i/-m for the forwarding method). */
struct opt_alias {
	char shortname;
	const char *flag;         /* long form; NULL = none */
	const char *value;        /* the word it stands for */
	const char *help;
};

struct opt_row;

/* Reads words <w>[0..n) into the row's field at <base> (the block's
 * start). Returns 0, or -EINVAL with the reason in <why> (SPEC_ERR_MAX),
 * without the keyword: "'5x' is not a duration (e.g. 500ms, 2s, 5m)".
 * -ENOENT: the value is well-formed but names nothing known (an unknown
 * scheduler): the config refuses it at its line, weirctl leaves it to the
 * apply (exit 255), as ipvsadm leaves it to the kernel. */
typedef int (*opt_parse_fn)(const struct opt_row *o, char *const *w, int n, void *base,
			    char *why);
/* Writes the value at <base> as words the parser reads back, each quoted
 * when it needs to be (opt_put_word); "" = nothing to write. */
typedef void (*opt_format_fn)(const struct opt_row *o, const void *base, char *out,
			      size_t len);

struct opt_row {
	const char *key;          /* config keyword; NULL = weirctl only */
	const char *flag;         /* weirctl long option; NULL = only <aliases> */
	char shortname;           /* ipvsadm's letter, 0 = none */
	const char *name;         /* in weirctl's messages; NULL = <flag> */
	enum opt_type type;
	uint8_t scope;            /* OPT_SVC / OPT_POOL / OPT_SRV */
	uint8_t flags;            /* OPT_F_* */
	uint8_t order;            /* ipvsadm's rows: ipvsadm's option order */
	int8_t min_args, max_args; /* OPT_WORDS/CUSTOM: words (-1 = any); others 1 */
	size_t off, size;         /* the field in the block; size 0 = none */
	uint64_t min, max;        /* OPT_U32, OPT_SIZE; OPT_STRING: max = bytes */
	const struct opt_word *words;     /* OPT_ENUM, ended by { NULL } */
	const struct opt_alias *aliases;  /* ended by { 0 } */
	opt_parse_fn parse;       /* OPT_WORDS/CUSTOM; others may leave NULL */
	opt_format_fn format;     /* ditto */
	const char *ctl_err;      /* weirctl's message for a bad value, ipvsadm's
	                           * own where it has one; "%s" = the argument */
	const char *ctl_err6;     /* the same for an IPv6 service; NULL = ctl_err */
	const char *metavar;      /* in weirctl -h: "SIZE", "T", "N" */
	const char *example;      /* a value other than the default (tests) */
	const char *def;          /* the default, as the docs write it */
	const char *help;
};

/* The field of a row, in its initializer: <f> of <T>; or a span of
 * adjacent fields from <a> to <b> for an option held in several. */
#define OPT_FIELD(T, f) .off = offsetof(T, f), .size = sizeof(((T *)0)->f)
#define OPT_SPAN(T, a, b) .off = offsetof(T, a), \
	.size = offsetof(T, b) + sizeof(((T *)0)->b) - offsetof(T, a)

/* A block of rows. scope OPT_SVC: rows of a service (<rows> may also be
 * OPT_POOL); OPT_SRV: rows of a server. size 0: the fields are the
 * struct's own (the core's blocks); size > 0: the block lives in the
 * service's option area, filled with <defaults>. */
struct opt_block {
	const char *name;
	uint8_t scope;
	size_t size, align;
	void (*defaults)(void *base);
	const struct opt_row *rows;
	size_t nrows;
	size_t off;               /* set by opt_register(): its place in the area */
};

#define OPT_BLOCKS_MAX 16
#define OPT_ROWS_MAX 160

/* Registers <b> (start-up, before any config is read; not thread-safe).
 * Aborts when the area is full or a keyword or flag is taken twice in one
 * scope: both are mistakes in the program, not in a config. */
void opt_register(struct opt_block *b);

/* One row and its block. */
struct opt_ref {
	const struct opt_block *block;
	const struct opt_row *row;
};

/* Every row, in registration order (the core's first). */
const struct opt_ref *opt_rows(size_t *n);
/* The same in the order -S prints them: ipvsadm's rows by ipvsadm's
 * order, then the others in registration order. */
const struct opt_ref *opt_rows_saved(size_t *n);
/* Bytes of the service option area in use (a copy needs no more). */
size_t opt_area_used(void);

/* The row of scope <scope> whose config keyword is <key>; NULL if none. */
const struct opt_ref *opt_find_key(uint8_t scope, const char *key);

/* Where <r>'s block lives in <obj> (a service_spec for service rows, a
 * server_spec for server rows). */
void *opt_base(const struct opt_ref *r, void *obj);
const void *opt_cbase(const struct opt_ref *r, const void *obj);

/* Parses <w>[0..n) into <r>'s field in <obj>: the row's parser, or its
 * type's. Returns 0, -EINVAL or -ENOENT (see opt_parse_fn), with the reason
 * in <why> (SPEC_ERR_MAX). */
int opt_parse(const struct opt_ref *r, char *const *w, int n, void *obj, char *why);
/* The value of <r> in <obj> as words (see opt_format_fn). */
void opt_format(const struct opt_ref *r, const void *obj, char *out, size_t len);
/* <r>'s field of <a> and <b> equal; copy it from <src> to <dst>. */
bool opt_equal(const struct opt_ref *r, const void *a, const void *b);
void opt_copy(const struct opt_ref *r, void *dst, const void *src);
/* Copies every row of <scope> from <src> to <dst> (service specs). */
void opt_copy_scope(uint8_t scope, struct service_spec *dst, const struct service_spec *src);

/* The area blocks' defaults into <s>'s option area (spec_service_defaults). */
void opt_area_defaults(struct service_spec *s);

/* True if <v>, a value of row <o> as opt_format() wrote it, is the one
 * its keyword alone stands for ("backup" for "backup on"): written so. */
static inline bool opt_value_implied(const struct opt_row *o, const char *v)
{
	return (o->flags & OPT_F_OPTARG) && v[0] == 'o' && v[1] == 'n' && !v[2];
}

/* How many words the config takes after the keyword: [*min, *max] (-1 any). */
void opt_nargs(const struct opt_row *o, int *min, int *max);
/* True if weirctl hands the row several words (split from one argument). */
bool opt_takes_words(const struct opt_row *o);

/* Appends <w> to <out> (of <len>, NUL-terminated) as one word that both
 * the config file and weirctl read back: in double quotes with \" and \\
 * when it is empty or holds blanks or ;{}#"'\ characters. A blank goes
 * before it unless <out> is empty. */
void opt_put_word(char *out, size_t len, const char *w);

/* Writes the reason into <why> (SPEC_ERR_MAX) and returns -EINVAL: the
 * parsers' way to fail. */
int opt_fail(char *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
