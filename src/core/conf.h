/*
 * conf.h - the config file's syntax: directives as words ending in ';' or
 * opening a '{ ... }' block, '#' comments, "quoted strings" with \" \\ \n
 * escapes. This layer knows no directive names; config.c gives them meaning.
 *
 * Ownership: conf_parse() fills a tree that conf_free() releases entirely.
 */
#ifndef WEIR_CONF_H
#define WEIR_CONF_H

#include <stdbool.h>
#include <stddef.h>

#define CONF_MAX_DEPTH 8
#define CONF_MAX_TOKEN 4096

struct conf_node {
	char *name;                  /* first word; NULL for the root */
	char **args;                 /* the words after it */
	int nargs;
	int line;                    /* line of the first word */
	bool block;                  /* followed by { ... } */
	struct conf_node *children;  /* block contents */
	int nchildren;
};

/* Parses <len> bytes of <text>. On error returns -EINVAL (or -ENOMEM) and
 * writes "LINE: reason" into <err>; the tree is then empty. */
int conf_parse(const char *text, size_t len, struct conf_node *root,
	       char *err, size_t errlen);
void conf_free(struct conf_node *root);

#endif
