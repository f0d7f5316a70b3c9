/* conf.c - tokenizer and tree builder for the config syntax (see conf.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf.h"

enum tok { T_WORD, T_SEMI, T_OPEN, T_CLOSE, T_EOF, T_ERR };

struct lexer {
	const char *p, *end;
	int line;
	char word[CONF_MAX_TOKEN + 1];
	char *err;
	size_t errlen;
};

static enum tok lex_fail(struct lexer *lx, const char *msg)
{
	snprintf(lx->err, lx->errlen, "%d: %s", lx->line, msg);
	return T_ERR;
}

static void skip_space(struct lexer *lx)
{
	while (lx->p < lx->end) {
		char c = *lx->p;

		if (c == '\n') {
			lx->line++;
			lx->p++;
		} else if (c == ' ' || c == '\t' || c == '\r') {
			lx->p++;
		} else if (c == '#') {
			while (lx->p < lx->end && *lx->p != '\n')
				lx->p++;
		} else {
			break;
		}
	}
}

static enum tok lex_quoted(struct lexer *lx)
{
	size_t n = 0;

	lx->p++; /* opening quote */
	while (lx->p < lx->end && *lx->p != '"') {
		char c = *lx->p++;

		if (c == '\n')
			return lex_fail(lx, "unterminated string");
		if (c == '\0')
			return lex_fail(lx, "NUL byte in string");
		if (c == '\\') {
			if (lx->p == lx->end)
				break;
			c = *lx->p++;
			if (c == 'n') {
				c = '\n';
			} else if (c != '"' && c != '\\') {
				/* any other: kept as written, so regexes read
				 * naturally ("\.png$") */
				if (n == CONF_MAX_TOKEN)
					return lex_fail(lx, "string too long");
				lx->word[n++] = '\\';
			}
		}
		if (n == CONF_MAX_TOKEN)
			return lex_fail(lx, "string too long");
		lx->word[n++] = c;
	}
	if (lx->p == lx->end)
		return lex_fail(lx, "unterminated string");
	lx->p++;
	lx->word[n] = '\0';
	return T_WORD;
}

static enum tok lex_next(struct lexer *lx)
{
	size_t n = 0;

	skip_space(lx);
	if (lx->p == lx->end)
		return T_EOF;
	switch (*lx->p) {
	case ';': lx->p++; return T_SEMI;
	case '{': lx->p++; return T_OPEN;
	case '}': lx->p++; return T_CLOSE;
	case '"': return lex_quoted(lx);
	case '\0': return lex_fail(lx, "NUL byte in config");
	}
	while (lx->p < lx->end && !strchr(" \t\r\n;{}#\"", *lx->p)) {
		if (*lx->p == '\0')
			return lex_fail(lx, "NUL byte in config");
		if (n == CONF_MAX_TOKEN)
			return lex_fail(lx, "word too long");
		lx->word[n++] = *lx->p++;
	}
	lx->word[n] = '\0';
	return T_WORD;
}

static int push_child(struct conf_node *parent, struct conf_node **out)
{
	struct conf_node *c;

	c = realloc(parent->children, (size_t)(parent->nchildren + 1) * sizeof(*c));
	if (!c)
		return -ENOMEM;
	parent->children = c;
	*out = &c[parent->nchildren++];
	memset(*out, 0, sizeof(**out));
	return 0;
}

static int push_arg(struct conf_node *n, const char *word)
{
	char **a = realloc(n->args, (size_t)(n->nargs + 1) * sizeof(*a));

	if (!a)
		return -ENOMEM;
	n->args = a;
	a[n->nargs] = strdup(word);
	if (!a[n->nargs])
		return -ENOMEM;
	n->nargs++;
	return 0;
}

/* Parses directives into <parent> until '}' (depth > 0) or end of file. */
static int parse_block(struct lexer *lx, struct conf_node *parent, int depth)
{
	for (;;) {
		enum tok t = lex_next(lx);
		struct conf_node *n;
		int rc;

		if (t == T_ERR)
			return -EINVAL;
		if (t == T_EOF) {
			if (depth == 0)
				return 0;
			lex_fail(lx, "unexpected end of file: missing '}'");
			return -EINVAL;
		}
		if (t == T_CLOSE) {
			if (depth > 0)
				return 0;
			lex_fail(lx, "unexpected '}'");
			return -EINVAL;
		}
		if (t != T_WORD) {
			lex_fail(lx, t == T_SEMI ? "unexpected ';'" : "unexpected '{'");
			return -EINVAL;
		}
		if ((rc = push_child(parent, &n)) != 0)
			return rc;
		n->line = lx->line;
		if (!(n->name = strdup(lx->word)))
			return -ENOMEM;
		/* A directive's words share its line ('{' may go on the next):
		 * a word on a new line means a ';' was forgotten. */
		while ((t = lex_next(lx)) == T_WORD) {
			if (lx->line != n->line) {
				snprintf(lx->err, lx->errlen, "%d: missing ';' after '%s'",
					 n->line, n->nargs ? n->args[n->nargs - 1] : n->name);
				return -EINVAL;
			}
			if ((rc = push_arg(n, lx->word)) != 0)
				return rc;
		}
		if (t == T_ERR)
			return -EINVAL;
		if (t == T_OPEN) {
			if (depth + 1 >= CONF_MAX_DEPTH) {
				lex_fail(lx, "blocks nested too deep");
				return -EINVAL;
			}
			n->block = true;
			if ((rc = parse_block(lx, n, depth + 1)) != 0)
				return rc;
		} else if (t != T_SEMI) {
			snprintf(lx->err, lx->errlen, "%d: missing ';' after '%s'",
				 n->line, n->name);
			return -EINVAL;
		}
	}
}

static void node_free(struct conf_node *n)
{
	for (int i = 0; i < n->nchildren; i++)
		node_free(&n->children[i]);
	for (int i = 0; i < n->nargs; i++)
		free(n->args[i]);
	free(n->args);
	free(n->children);
	free(n->name);
}

void conf_free(struct conf_node *root)
{
	node_free(root);
	memset(root, 0, sizeof(*root));
}

int conf_parse(const char *text, size_t len, struct conf_node *root,
	       char *err, size_t errlen)
{
	struct lexer *lx = malloc(sizeof(*lx));
	int rc;

	memset(root, 0, sizeof(*root));
	if (!lx)
		return -ENOMEM;
	lx->p = text;
	lx->end = text + len;
	lx->line = 1;
	lx->err = err;
	lx->errlen = errlen;
	rc = parse_block(lx, root, 0);
	if (rc == -ENOMEM)
		snprintf(err, errlen, "%d: out of memory", lx->line);
	if (rc)
		conf_free(root);
	free(lx);
	return rc;
}
