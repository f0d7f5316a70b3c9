/* test_exec.c - weirctl requests: splitting lines into words, applying
 * changes to a config, and whole requests run against a live table. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "core/log.h"
#include "core/table.h"
#include "core/util.h"
#include "fixture.h"

/* --- ctl_split ------------------------------------------------------------- */

/* Splits <line> and checks the words against <want> (NULL-terminated). */
static void check_split(const char *line, const char *const *want, int at)
{
	char buf[512], *words[16];
	int n, k;

	snprintf(buf, sizeof(buf), "%s", line);
	n = ctl_split(buf, words, 16);
	for (k = 0; want[k]; k++)
		;
	if (n != k) {
		unit_fail(__FILE__, at, "\"%s\": %d words, want %d", line, n, k);
		return;
	}
	for (int i = 0; i < n; i++)
		if (strcmp(words[i], want[i]) != 0)
			unit_fail(__FILE__, at, "\"%s\": word %d \"%s\", want \"%s\"", line, i,
				  words[i], want[i]);
}
#define CHECK_SPLIT(line, ...) check_split(line, (const char *const[]){ __VA_ARGS__, NULL }, \
					   __LINE__)

TEST(ctlexec_split_blanks)
{
	CHECK_SPLIT("-A -t 192.0.2.1:80 -s rr", "-A", "-t", "192.0.2.1:80", "-s", "rr");
	CHECK_SPLIT("  -L\t -n  \r", "-L", "-n");
	CHECK_SPLIT("x", "x");
}

TEST(ctlexec_split_empty_line)
{
	char buf[8] = "  \t ", *words[4];

	CHECK_EQ(ctl_split(buf, words, 4), 0);
	buf[0] = '\0';
	CHECK_EQ(ctl_split(buf, words, 4), 0);
}

TEST(ctlexec_split_quotes_and_escapes)
{
	CHECK_SPLIT("a \"b c\" d", "a", "b c", "d");
	CHECK_SPLIT("\"a\\\"b\" \"c\\\\d\"", "a\"b", "c\\d");
	CHECK_SPLIT("\"\" x", "", "x");
	CHECK_SPLIT("\"  lead and trail  \"", "  lead and trail  ");
	/* only \" and \\ are escapes; another backslash stays */
	CHECK_SPLIT("\"a\\nb\"", "a\\nb");
	/* outside quotes a backslash is an ordinary character */
	CHECK_SPLIT("a\\b", "a\\b");
}

TEST(ctlexec_split_unclosed_quote)
{
	char buf[64], *words[8];

	snprintf(buf, sizeof(buf), "-A \"-t 192.0.2.1:80");
	CHECK_EQ(ctl_split(buf, words, 8), -1);
	snprintf(buf, sizeof(buf), "x \"abc\\\"");
	CHECK_EQ(ctl_split(buf, words, 8), -1);
}

TEST(ctlexec_split_too_many_words)
{
	char buf[64], *words[4];

	snprintf(buf, sizeof(buf), "a b c d");
	CHECK_EQ(ctl_split(buf, words, 4), 4); /* exactly max */
	snprintf(buf, sizeof(buf), "a b c d e");
	CHECK_EQ(ctl_split(buf, words, 4), -1);
	snprintf(buf, sizeof(buf), "a b c d   ");
	CHECK_EQ(ctl_split(buf, words, 4), 4); /* trailing blanks are no word */
}

/* --- ctl_apply_change --------------------------------------------------------- */

TEST(ctlexec_apply_add_and_delete)
{
	static const char *const setup[] = {
		"-A -t 192.0.2.1:80 -s rr",
		"-A -u 192.0.2.1:53",
		"-a -t 192.0.2.1:80 -r 10.0.0.1:80 -w 2",
		"-a -t 192.0.2.1:80 -r 10.0.0.2 -m",
		NULL,
	};
	struct weir_config c;
	char err[CTL_ERR_MAX];

	REQUIRE(fx_build(&c, setup));
	REQUIRE(c.nservices == 2);
	CHECK_STR(c.services[0].sched, "rr");
	CHECK_EQ(c.services[1].proto, IPPROTO_UDP);
	REQUIRE(c.services[0].nservers == 2);
	CHECK_EQ(c.services[0].servers[0].weight, 2);
	CHECK_STR(fx_addr(&c.services[0].servers[1].addr), "10.0.0.2:80");
	CHECK_EQ(c.services[0].servers[1].fwd, FWD_MASQ);

	CHECK_EQ(fx_apply(&c, "-A -t 192.0.2.1:80", err), -EEXIST);
	CHECK_STR(err, "Service already exists");
	CHECK_EQ(fx_apply(&c, "-a -t 192.0.2.1:80 -r 10.0.0.1:80", err), -EEXIST);
	CHECK_STR(err, "Destination already exists");
	CHECK_EQ(fx_apply(&c, "-a -t 192.0.2.9:80 -r 10.0.0.1:80", err), -ESRCH);
	CHECK_STR(err, "Service not defined");
	CHECK_EQ(fx_apply(&c, "-d -t 192.0.2.1:80 -r 10.0.0.9", err), -ENOENT);
	CHECK_STR(err, "No such destination");
	CHECK_EQ(fx_apply(&c, "-D -t 192.0.2.9:80", err), -ESRCH);
	CHECK_STR(err, "No such service");
	CHECK_EQ(fx_apply(&c, "-E -t 192.0.2.9:80", err), -ESRCH);
	CHECK_STR(err, "No such service");

	CHECK_EQ(fx_apply(&c, "-d -t 192.0.2.1:80 -r 10.0.0.1", err), 0);
	CHECK_EQ(c.services[0].nservers, 1);
	CHECK_EQ(fx_apply(&c, "-D -u 192.0.2.1:53", err), 0);
	CHECK_EQ(c.nservices, 1);
	CHECK_EQ(fx_apply(&c, "-C", err), 0);
	CHECK_EQ(c.nservices, 0);
	spec_free(&c);
}

/* -E: ipvsadm's options left out take their defaults; weir's keep their
 * values unless given. */
TEST(ctlexec_apply_edit_service_defaults)
{
	static const char *const setup[] = {
		"-A -t 192.0.2.1:80 -s sh -b sh-port -p 60 -M 255.255.255.0 --proxy tcp "
			"--connect-timeout 1s --idle-timeout 1m --max-conn 10 --retries 1",
		"-a -t 192.0.2.1:80 -r 10.0.0.1:8080 -w 4",
		NULL,
	};
	struct weir_config c;
	char err[CTL_ERR_MAX];
	const struct service_spec *s;

	REQUIRE(fx_build(&c, setup));
	CHECK_EQ(fx_apply(&c, "-E -t 192.0.2.1:80 -s rr", err), 0);
	REQUIRE(c.nservices == 1);
	s = &c.services[0];
	CHECK_STR(s->sched, "rr");
	CHECK_EQ(s->sched_flags, 0);
	CHECK_EQ(s->persist_s, 0);
	CHECK_EQ(s->persist_prefix, 32); /* each client alone */
	CHECK_EQ(s->proxy, mode_find("tcp"));
	CHECK_EQ(s->connect_timeout_ms, 1000);
	CHECK_EQ(s->idle_timeout_ms, 60000);
	CHECK_EQ(s->maxconn, 10);
	CHECK_EQ(s->retries, 1);
	REQUIRE(s->nservers == 1); /* servers stay */
	CHECK_STR(fx_addr(&s->servers[0].addr), "10.0.0.1:8080");
	CHECK_EQ(s->servers[0].weight, 4);

	CHECK_EQ(fx_apply(&c, "-E -t 192.0.2.1:80 --retries 5 --max-conn 0", err), 0);
	s = &c.services[0];
	CHECK_STR(s->sched, "wlc");
	CHECK_EQ(s->retries, 5);
	CHECK_EQ(s->maxconn, 0);
	CHECK_EQ(s->connect_timeout_ms, 1000);
	CHECK_EQ(s->proxy, mode_find("tcp"));
	spec_free(&c);
}

TEST(ctlexec_apply_edit_server_defaults)
{
	static const char *const setup[] = {
		"-A -t 192.0.2.1:80",
		"-a -t 192.0.2.1:80 -r 10.0.0.1 -w 5 -x 10 -y 5 -i",
		NULL,
	};
	struct weir_config c;
	char err[CTL_ERR_MAX];
	const struct server_spec *r;

	REQUIRE(fx_build(&c, setup));
	CHECK_EQ(fx_apply(&c, "-e -t 192.0.2.1:80 -r 10.0.0.1", err), 0);
	REQUIRE(c.services[0].nservers == 1);
	r = &c.services[0].servers[0];
	CHECK_EQ(r->weight, 1); /* -e without -w: weight 1 */
	CHECK_EQ(r->fwd, FWD_ROUTE);
	CHECK_EQ(r->upper, 0);
	CHECK_EQ(r->lower, 0);
	CHECK_EQ(fx_apply(&c, "-e -t 192.0.2.1:80 -r 10.0.0.1:80 -w 0 -m", err), 0);
	r = &c.services[0].servers[0];
	CHECK_EQ(r->weight, 0);
	CHECK_EQ(r->fwd, FWD_MASQ);
	CHECK_EQ(fx_apply(&c, "-e -t 192.0.2.1:80 -r 10.0.0.1:80 -x 1 -y 2", err), -ERANGE);
	CHECK_EQ(c.services[0].servers[0].weight, 0);
	spec_free(&c);
}

TEST(ctlexec_is_change)
{
	CHECK(ctl_is_change(OP_ADD_SVC));
	CHECK(ctl_is_change(OP_EDIT_SVC));
	CHECK(ctl_is_change(OP_DEL_SVC));
	CHECK(ctl_is_change(OP_CLEAR));
	CHECK(ctl_is_change(OP_ADD_RS));
	CHECK(ctl_is_change(OP_EDIT_RS));
	CHECK(ctl_is_change(OP_DEL_RS));
	CHECK(!ctl_is_change(OP_LIST));
	CHECK(!ctl_is_change(OP_SAVE));
	CHECK(!ctl_is_change(OP_ZERO));
	CHECK(!ctl_is_change(OP_RESTORE));
	CHECK(!ctl_is_change(OP_STATUS));
	CHECK(!ctl_is_change(OP_RELOAD));
}

/* --- ctl_exec: whole requests on a live table (packet-mode services only,
 * so no socket is opened) ------------------------------------------------- */

TEST(ctlexec_request_applies_all_lines)
{
	struct exec_fx f;

	exec_open(&f);
	CHECK_STR(exec_run(&f, "-A -t 192.0.2.1:80 -s rr\n"
			  "ipvsadm -a -t 192.0.2.1:80 -r 10.0.0.1:80 -m -w 2\n"
			  "weirctl -a -t 192.0.2.1:80 -r 10.0.0.2:80\n"), "OK\n");
	REQUIRE(f.t.cfg.nservices == 1);
	CHECK_EQ(f.t.cfg.services[0].nservers, 2);
	REQUIRE(f.t.head != NULL);
	CHECK_EQ(f.t.head->nservers, 2);
	CHECK_STR(f.t.head->spec.sched, "rr");
	exec_close(&f);
}

TEST(ctlexec_request_is_all_or_nothing)
{
	struct exec_fx f;

	exec_open(&f);
	CHECK_STR(exec_run(&f, "-A -t 192.0.2.1:80\n-A -t 192.0.2.2:80\n-A -t 192.0.2.1:80\n"),
		  "ERR 255 line 3: Service already exists\n");
	CHECK_EQ(f.t.cfg.nservices, 0);
	CHECK(f.t.head == NULL);
	CHECK_STR(exec_run(&f, "-A -t 192.0.2.1:80\n-a -t 192.0.2.1:80 -r 10.0.0.1 -q\n"),
		  "ERR 2 line 2: -q: unknown option\n");
	CHECK_EQ(f.t.cfg.nservices, 0);
	/* a single line: no line number */
	CHECK_STR(exec_run(&f, "-D -t 192.0.2.1:80"), "ERR 255 No such service\n");
	CHECK_STR(exec_run(&f, "-A -t 192.0.2.1:80 -s"), "ERR 2 -s: missing argument\n");
	CHECK_STR(exec_run(&f, "-A -t \"192.0.2.1:80"),
		  "ERR 2 too many words or an unclosed quote\n");
	exec_close(&f);
}

TEST(ctlexec_request_skips_comments_and_blank_lines)
{
	struct exec_fx f;

	exec_open(&f);
	CHECK_STR(exec_run(&f, "# saved rules\n\n   \n-A -t 192.0.2.1:80\n  # indented\n"), "OK\n");
	CHECK_EQ(f.t.cfg.nservices, 1);
	exec_close(&f);
}

/* The error names the line as the user counts it: blank lines count. */
TEST(ctlexec_error_line_counts_blank_lines)
{
	struct exec_fx f;

	exec_open(&f);
	CHECK_STR(exec_run(&f, "-A -t 192.0.2.1:80\n\n-A -t 192.0.2.1:80\n"),
		  "ERR 255 line 3: Service already exists\n");
	CHECK_STR(exec_run(&f, "\n\n\n-D -t 192.0.2.1:80\n"), "ERR 255 line 4: No such service\n");
	exec_close(&f);
}

/* A '#' line is a comment whatever it holds: an odd quote ("don't") or
 * more words than a command may have. */
TEST(ctlexec_comment_with_a_quote_is_skipped)
{
	struct exec_fx f;

	exec_open(&f);
	CHECK_STR(exec_run(&f, "# the \"main\" site's rules, don't \"edit\n-A -t 192.0.2.1:80\n"),
		  "OK\n");
	CHECK_EQ(f.t.cfg.nservices, 1);
	exec_close(&f);
}

TEST(ctlexec_request_with_nul_is_refused)
{
	struct exec_fx f;
	char req[] = "-C\0-A -t 192.0.2.1:80\n";

	exec_open(&f);
	buf_reset(&f.out);
	ctl_exec(&f.ctx, req, sizeof(req) - 1, &f.out);
	buf_append(&f.out, "", 1);
	CHECK_STR(buf_head(&f.out), "ERR 2 request contains a NUL byte\n");
	exec_close(&f);
}

TEST(ctlexec_save_sees_the_requests_changes)
{
	struct exec_fx f;

	exec_open(&f);
	CHECK_STR(exec_run(&f, "-A -t 192.0.2.1:80 -s rr\n-S -n\n-a -t 192.0.2.1:80 -r 10.0.0.1\n-S"),
		  "OK\n"
		  "-A -t 192.0.2.1:80 -s rr\n"
		  "-A -t 192.0.2.1:80 -s rr\n"
		  "-a -t 192.0.2.1:80 -r 10.0.0.1:80 -g -w 1\n");
	exec_close(&f);
}

TEST(ctlexec_read_only_commands)
{
	struct exec_fx f;
	const char *out;

	exec_open(&f);
	out = exec_run(&f, "-v");
	CHECK(strncmp(out, "OK\nweir v0.", 11) == 0);
	CHECK(strstr(out, "(daemon pid ") && strstr(out, ", IP Virtual Server version 1.2.1)\n"));
	out = exec_run(&f, "-h");
	CHECK(strncmp(out, "OK\nweirctl - ", 13) == 0);
	out = exec_run(&f, "status");
	CHECK(strncmp(out, "OK\nweir ", 8) == 0);
	CHECK(strstr(out, "services: 0 (0 proxy, 0 packet)\n") != NULL);
	CHECK_STR(exec_run(&f, "reload"),
		  "ERR 255 weir was started without -c: no config to reload\n");
	CHECK_STR(exec_run(&f, "-R"), "ERR 2 -R reads its rules from standard input: "
		  "run it as weirctl -R < FILE\n");
	CHECK_STR(exec_run(&f, "-L -t 192.0.2.1:80"), "ERR 1 No such service\n");
	CHECK_STR(exec_run(&f, "-Z -t 192.0.2.1:80"), "ERR 255 No such service\n");
	CHECK_STR(exec_run(&f, "-Z"), "OK\n");
	exec_close(&f);
}
