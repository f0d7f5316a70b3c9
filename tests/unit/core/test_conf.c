/* test_conf.c - the config syntax: words, ';', blocks, strings, comments,
 * and "LINE: reason" errors. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/conf.h"
#include "unit.h"

static int parse(const char *text, struct conf_node *root, char *err)
{
	err[0] = '\0';
	return conf_parse(text, strlen(text), root, err, 256);
}

/* Parsing <text> fails with exactly <want>, and leaves an empty tree. */
static void check_error(const char *text, size_t len, const char *want, int line)
{
	struct conf_node root;
	char err[256] = "";
	int rc = conf_parse(text, len, &root, err, sizeof(err));

	if (rc != -EINVAL)
		unit_fail(__FILE__, line, "rc %d, want -EINVAL", rc);
	if (strcmp(err, want) != 0)
		unit_fail(__FILE__, line, "error \"%s\", want \"%s\"", err, want);
	if (root.nchildren != 0 || root.children != NULL)
		unit_fail(__FILE__, line, "tree not empty after an error");
	conf_free(&root);
}
#define CHECK_ERROR(text, want) check_error(text, strlen(text), want, __LINE__)

/* Parsing <text> fails with a message starting with <want>. */
static void check_error_prefix(const char *text, const char *want, int line)
{
	struct conf_node root;
	char err[256] = "";

	if (conf_parse(text, strlen(text), &root, err, sizeof(err)) != -EINVAL ||
	    strncmp(err, want, strlen(want)) != 0)
		unit_fail(__FILE__, line, "error \"%s\", want \"%s...\"", err, want);
	conf_free(&root);
}

TEST(conf_words_and_semicolons)
{
	struct conf_node root;
	char err[256];

	REQUIRE(parse("workers 4;\nlog_level   debug ;\n\tgrace\t10s;x;", &root, err) == 0);
	REQUIRE(root.nchildren == 4);
	CHECK(root.name == NULL);
	CHECK_STR(root.children[0].name, "workers");
	CHECK_EQ(root.children[0].nargs, 1);
	CHECK_STR(root.children[0].args[0], "4");
	CHECK_EQ(root.children[0].line, 1);
	CHECK(!root.children[0].block);
	CHECK_STR(root.children[1].name, "log_level");
	CHECK_STR(root.children[1].args[0], "debug");
	CHECK_EQ(root.children[1].line, 2);
	CHECK_STR(root.children[2].name, "grace");
	CHECK_STR(root.children[2].args[0], "10s");
	CHECK_EQ(root.children[2].line, 3);
	CHECK_STR(root.children[3].name, "x");
	CHECK_EQ(root.children[3].nargs, 0);
	CHECK_EQ(root.children[3].line, 3);
	conf_free(&root);
	CHECK_EQ(root.nchildren, 0);
}

TEST(conf_empty_and_comment_only)
{
	struct conf_node root;
	char err[256];

	REQUIRE(parse("", &root, err) == 0);
	CHECK_EQ(root.nchildren, 0);
	conf_free(&root);
	REQUIRE(parse("# nothing here\n   \n\t# still nothing", &root, err) == 0);
	CHECK_EQ(root.nchildren, 0);
	conf_free(&root);
}

TEST(conf_blocks)
{
	struct conf_node root;
	char err[256];
	const char *text =
		"service tcp 192.0.2.1:80 {\n"
		"    scheduler rr;\n"
		"    server 10.0.0.1:80 {\n"
		"        weight 3;\n"
		"    }\n"
		"    server 10.0.0.2:80;\n"
		"}\n"
		"empty { }\n"
		"late\n"
		"{\n"
		"  x;\n"
		"}\n";
	const struct conf_node *svc, *srv;

	REQUIRE(parse(text, &root, err) == 0);
	REQUIRE(root.nchildren == 3);
	svc = &root.children[0];
	CHECK(svc->block);
	CHECK_EQ(svc->nargs, 2);
	CHECK_STR(svc->args[1], "192.0.2.1:80");
	REQUIRE(svc->nchildren == 3);
	CHECK_STR(svc->children[0].name, "scheduler");
	CHECK_EQ(svc->children[0].line, 2);
	srv = &svc->children[1];
	CHECK(srv->block);
	CHECK_EQ(srv->line, 3);
	REQUIRE(srv->nchildren == 1);
	CHECK_STR(srv->children[0].name, "weight");
	CHECK_STR(srv->children[0].args[0], "3");
	CHECK_EQ(srv->children[0].line, 4);
	CHECK(!svc->children[2].block);
	CHECK_EQ(svc->children[2].line, 6);
	CHECK(root.children[1].block);
	CHECK_EQ(root.children[1].nchildren, 0);
	/* '{' may go on the line after the directive */
	CHECK(root.children[2].block);
	CHECK_EQ(root.children[2].line, 9);
	REQUIRE(root.children[2].nchildren == 1);
	CHECK_EQ(root.children[2].children[0].line, 11);
	conf_free(&root);
}

/* Text of <n> nested blocks "a{a{...}}". */
static char *nested(int n)
{
	char *s = malloc((size_t)n * 4 + 1), *p = s;

	for (int i = 0; i < n; i++)
		p += sprintf(p, "a{\n");
	for (int i = 0; i < n; i++)
		*p++ = '}';
	*p = '\0';
	return s;
}

/* The root counts as a level: CONF_MAX_DEPTH - 1 blocks may nest. */
TEST(conf_nesting_limit)
{
	struct conf_node root;
	char err[256], want[64];
	char *ok = nested(CONF_MAX_DEPTH - 1), *deep = nested(CONF_MAX_DEPTH);
	char *deeper = nested(1000);
	const struct conf_node *n;
	int depth = 0;

	REQUIRE(parse(ok, &root, err) == 0);
	for (n = &root; n->nchildren; n = &n->children[0])
		depth++;
	CHECK_EQ(depth, CONF_MAX_DEPTH - 1);
	conf_free(&root);
	snprintf(want, sizeof(want), "%d: blocks nested too deep", CONF_MAX_DEPTH);
	CHECK_ERROR(deep, want);
	CHECK_ERROR(deeper, want);
	free(ok);
	free(deep);
	free(deeper);
}

TEST(conf_quoted_strings)
{
	struct conf_node root;
	char err[256];
	const char *text =
		"msg \"hello world\" \"a\\\"b\" \"c\\\\d\" \"e\\nf\" \"\" \"x;{}#y\";\n"
		"next\"quoted\";\n";
	const struct conf_node *n;

	REQUIRE(parse(text, &root, err) == 0);
	REQUIRE(root.nchildren == 2);
	n = &root.children[0];
	REQUIRE(n->nargs == 6);
	CHECK_STR(n->args[0], "hello world");
	CHECK_STR(n->args[1], "a\"b");
	CHECK_STR(n->args[2], "c\\d");
	CHECK_STR(n->args[3], "e\nf");
	CHECK_STR(n->args[4], "");
	CHECK_STR(n->args[5], "x;{}#y");
	/* a quote ends a bare word: two words */
	n = &root.children[1];
	CHECK_STR(n->name, "next");
	REQUIRE(n->nargs == 1);
	CHECK_STR(n->args[0], "quoted");
	CHECK_EQ(n->line, 2);
	conf_free(&root);
}

TEST(conf_comments)
{
	struct conf_node root;
	char err[256];
	const char *text =
		"# leading comment\n"
		"a 1; # trailing comment with ; and { and \"\n"
		"b 2 # comment inside a directive\n"
		"  ;\n"
		"#last";

	REQUIRE(parse(text, &root, err) == 0);
	REQUIRE(root.nchildren == 2);
	CHECK_STR(root.children[0].name, "a");
	CHECK_EQ(root.children[0].line, 2);
	CHECK_STR(root.children[1].name, "b");
	CHECK_EQ(root.children[1].nargs, 1);
	CHECK_EQ(root.children[1].line, 3);
	conf_free(&root);
}

TEST(conf_crlf_line_endings)
{
	struct conf_node root;
	char err[256];

	REQUIRE(parse("a 1;\r\nb {\r\n c;\r\n}\r\n", &root, err) == 0);
	REQUIRE(root.nchildren == 2);
	CHECK_EQ(root.children[1].line, 2);
	REQUIRE(root.children[1].nchildren == 1);
	CHECK_EQ(root.children[1].children[0].line, 3);
	conf_free(&root);
}

TEST(conf_token_length_limit)
{
	struct conf_node root;
	char err[256];
	size_t n = CONF_MAX_TOKEN;
	char *text = malloc(n + 16);

	memset(text, 'w', n);
	strcpy(text + n, ";");
	REQUIRE(parse(text, &root, err) == 0);
	REQUIRE(root.nchildren == 1);
	CHECK_EQ(strlen(root.children[0].name), CONF_MAX_TOKEN);
	conf_free(&root);
	memset(text, 'w', n + 1);
	strcpy(text + n + 1, ";");
	CHECK_ERROR(text, "1: word too long");
	text[0] = '"';
	memset(text + 1, 's', n + 1);
	strcpy(text + n + 2, "\";");
	CHECK_ERROR(text, "1: string too long");
	free(text);
}

TEST(conf_error_missing_semicolon)
{
	CHECK_ERROR("workers 4\nlog_level info;\n", "1: missing ';' after '4'");
	CHECK_ERROR("a;\nworkers 4 5\nlog_level\ninfo;\n", "2: missing ';' after '5'");
	CHECK_ERROR("a;\nworkers\nb;", "2: missing ';' after 'workers'");
	/* a directive's words continuing on the next line */
	CHECK_ERROR("service tcp\n  192.0.2.1:80 { }\n", "1: missing ';' after 'tcp'");
	CHECK_ERROR("x { y {\n z\n}}", "2: missing ';' after 'z'");
	CHECK_ERROR("a;\nb", "2: missing ';' after 'b'");
	/* before a '}' or the end of the file */
	check_error_prefix("x {\n  a b }\n", "2: missing ';' after '", __LINE__);
	check_error_prefix("a;\nb 1", "2: missing ';' after '", __LINE__);
}

TEST(conf_error_unexpected_tokens)
{
	CHECK_ERROR("}", "1: unexpected '}'");
	CHECK_ERROR("a { }\n\n}\n", "3: unexpected '}'");
	CHECK_ERROR("a;\n;", "2: unexpected ';'");
	CHECK_ERROR("{ a; }", "1: unexpected '{'");
}

TEST(conf_error_unterminated_string)
{
	CHECK_ERROR("a \"abc", "1: unterminated string");
	CHECK_ERROR("a;\nb \"ab\ncd\";", "2: unterminated string");
	CHECK_ERROR("a \"abc\\", "1: unterminated string");
	CHECK_ERROR("a \"abc\\\"", "1: unterminated string");
	/* other escapes stay as written (regexes): not an error */
}

TEST(conf_error_nul_byte)
{
	static const char word[] = "a;\nab\0c;";
	static const char str[] = "a \"x\0y\";";
	static const char alone[] = "a;\n\n\0";

	check_error(word, sizeof(word) - 1, "2: NUL byte in config", __LINE__);
	check_error(str, sizeof(str) - 1, "1: NUL byte in string", __LINE__);
	check_error(alone, sizeof(alone) - 1, "3: NUL byte in config", __LINE__);
}

TEST(conf_error_missing_close_at_eof)
{
	CHECK_ERROR("a {\n  b;\n", "3: unexpected end of file: missing '}'");
	CHECK_ERROR("a { b { c; }", "1: unexpected end of file: missing '}'");
}

/* Only <len> bytes are read: text past it, even a NUL, is not looked at. */
TEST(conf_reads_only_len_bytes)
{
	struct conf_node root;
	char err[256];
	const char text[] = "a 1;b 2;";

	REQUIRE(conf_parse(text, 4, &root, err, sizeof(err)) == 0);
	CHECK_EQ(root.nchildren, 1);
	conf_free(&root);
}

TEST(conf_error_message_truncated_to_errlen)
{
	struct conf_node root;
	char err[8];

	memset(err, 'X', sizeof(err));
	CHECK_EQ(conf_parse("}", 1, &root, err, sizeof(err)), -EINVAL);
	CHECK(memchr(err, '\0', sizeof(err)) != NULL);
	CHECK(strncmp(err, "1: unex", 7) == 0);
}
