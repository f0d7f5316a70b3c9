/* test_options.c - every registered option row (core/option.h), without
 * naming one: its example value set from the config file survives
 * config -> weirctl -S -> -R and config -> config writer -> config, the
 * same value given as a weirctl flag reads the same, -E/-e keep weir's
 * options and reset ipvsadm's, and the docs name it. A new row is tested
 * by being registered. */
#include <errno.h>
#include <stdlib.h>

#include "core/buf.h"
#include "core/config.h"
#include "ctl/list.h"
#include "fixture.h"

#define VIP "192.0.2.1:80"

/* A config holding <row>'s example: in the service, in a server's block,
 * or in a pool (<pool>: then the service is an HTTP one). */
static void sample(const struct opt_ref *r, bool pool, char *out, size_t len)
{
	const struct opt_row *o = r->row;
	char val[512] = "", svc[600] = "", srv[600] = "", pl[700] = "";

	if (opt_takes_words(o))
		snprintf(val, sizeof(val), "%s", o->example);
	else
		opt_put_word(val, sizeof(val), o->example);
	if (pool)
		snprintf(pl, sizeof(pl), "    pool p { %s %s; server 10.0.0.9:80; }\n", o->key, val);
	else if (o->scope & OPT_SRV)
		snprintf(srv, sizeof(srv), " %s %s;", o->key, val);
	else
		snprintf(svc, sizeof(svc), "    %s %s;\n", o->key, val);
	snprintf(out, len,
		 "service tcp " VIP " {\n"
		 "    scheduler sh;\n"
		 "    persistent 60;\n"
		 "%s%s"
		 "    server 10.0.0.1:80 { upper 1000;%s }\n"
		 "    server 10.0.0.2:80;\n"
		 "%s"
		 "}\n", pool ? "    proxy http;\n" : "", svc, srv, pl);
}

static bool parse_conf(const char *text, struct weir_config *c, int at)
{
	char err[CONFIG_ERR_MAX];

	if (config_parse("t.conf", text, strlen(text), c, err) != 0) {
		unit_fail(__FILE__, at, "config refused: %s\n%s", err, text);
		return false;
	}
	return true;
}

/* Every row of <a> and <b> (services, their servers and pools) is equal. */
static bool same_config(const struct weir_config *a, const struct weir_config *b,
			const char *how, int at)
{
	size_t n;
	const struct opt_ref *all = opt_rows(&n);

	if (a->nservices != b->nservices) {
		unit_fail(__FILE__, at, "%s: %zu services, want %zu", how, b->nservices,
			  a->nservices);
		return false;
	}
	for (size_t i = 0; i < a->nservices; i++) {
		const struct service_spec *x = &a->services[i];
		struct service_spec *y = spec_find_service((struct weir_config *)b, x->proto,
							   &x->addr);

		if (!y || y->nservers != x->nservers || y->npools != x->npools) {
			unit_fail(__FILE__, at, "%s: service %s differs", how, fx_addr(&x->addr));
			return false;
		}
		for (size_t k = 0; k < n; k++) {
			const struct opt_row *o = all[k].row;

			if ((o->scope & OPT_SVC) && !opt_equal(&all[k], x, y)) {
				unit_fail(__FILE__, at, "%s: service option %s differs", how,
					  o->key ? o->key : o->flag);
				return false;
			}
			for (size_t p = 0; p < x->npools; p++)
				if ((o->scope & OPT_POOL) &&
				    !opt_equal(&all[k], &x->pools[p].s, &y->pools[p].s)) {
					unit_fail(__FILE__, at, "%s: pool option %s differs", how,
						  o->key);
					return false;
				}
			for (size_t s = 0; s < x->nservers; s++) {
				const struct server_spec *q = spec_find_server(y, &x->servers[s].addr);

				if (!(o->scope & OPT_SRV))
					continue;
				if (!q || !opt_equal(&all[k], &x->servers[s], q)) {
					unit_fail(__FILE__, at, "%s: server option %s differs", how,
						  o->key ? o->key : o->flag);
					return false;
				}
			}
		}
	}
	return true;
}

/* -S | -R: weirctl's lines replayed into a new config. */
static bool replay_save(const struct weir_config *c, struct weir_config *out, int at)
{
	struct buf b = { 0 };
	char err[CTL_ERR_MAX] = "";
	bool ok;

	ctl_save(c, false, false, &b);
	buf_append(&b, "", 1);
	ok = fx_replay(buf_head(&b), out, err);
	if (!ok)
		unit_fail(__FILE__, at, "replaying -S failed: %s\n%s", err, buf_head(&b));
	buf_free(&b);
	return ok;
}

/* The config writer's text read back. */
static bool rewrite(const struct weir_config *c, struct weir_config *out, int at)
{
	struct buf b = { 0 };
	bool ok;

	config_write(c, &b);
	buf_append(&b, "", 1);
	ok = parse_conf(buf_head(&b), out, at);
	buf_free(&b);
	return ok;
}

static void check_round_trips(const char *text, int at)
{
	struct weir_config a, b, c;

	if (!parse_conf(text, &a, at))
		return;
	if (replay_save(&a, &b, at))
		same_config(&a, &b, "-S | -R", at);
	spec_free(&b);
	if (rewrite(&a, &c, at))
		same_config(&a, &c, "config writer", at);
	spec_free(&c);
	spec_free(&a);
}

/* The row's value in the first service (or its first server / pool). */
static const void *holder(const struct weir_config *c, const struct opt_ref *r, bool pool)
{
	const struct service_spec *s = &c->services[0];

	if (pool)
		return &s->pools[0].s;
	return (r->row->scope & OPT_SRV) ? (const void *)&s->servers[0] : (const void *)s;
}

TEST(options_every_row_has_a_non_default_example)
{
	size_t n;
	const struct opt_ref *all = opt_rows(&n);

	CHECK(n > 30);
	for (size_t i = 0; i < n; i++) {
		const struct opt_row *o = all[i].row;
		struct weir_config c;
		struct service_spec def;
		struct server_spec sdef;
		char text[4096];

		if (!o->size) /* no value of its own (--tun-type) */
			continue;
		if (!o->example || !o->key || (!o->flag && !o->aliases) || (o->flag && !o->help)) {
			unit_fail(__FILE__, __LINE__, "row %s: needs a key, a flag, an example and "
				  "help", o->key ? o->key : o->flag);
			continue;
		}
		sample(&all[i], false, text, sizeof(text));
		if (!parse_conf(text, &c, __LINE__))
			continue;
		spec_service_defaults(&def);
		def.addr = c.services[0].addr;
		def.persist_prefix = spec_full_prefix(&def.addr);
		spec_server_defaults(&sdef);
		if (opt_equal(&all[i], holder(&c, &all[i], false),
			      (o->scope & OPT_SRV) ? (const void *)&sdef : (const void *)&def))
			unit_fail(__FILE__, __LINE__, "row %s: example '%s' is the default", o->key,
				  o->example);
		spec_free(&c);
	}
}

TEST(options_each_row_round_trips)
{
	size_t n;
	const struct opt_ref *all = opt_rows(&n);

	for (size_t i = 0; i < n; i++) {
		char text[4096];

		if (!all[i].row->key || !all[i].row->example)
			continue;
		sample(&all[i], false, text, sizeof(text));
		check_round_trips(text, __LINE__);
		if (all[i].row->scope & OPT_POOL) {
			sample(&all[i], true, text, sizeof(text));
			check_round_trips(text, __LINE__);
		}
	}
}

/* Every example together, in one HTTP service and its server. */
TEST(options_all_rows_at_once_round_trip)
{
	struct buf b = { 0 };
	size_t n;
	const struct opt_ref *all = opt_rows(&n);

	buf_printf(&b, "service tcp " VIP " {\n    persistent 60;\n");
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1)
			buf_printf(&b, "    server 10.0.0.1:80 {\n        upper 1000;\n");
		for (size_t i = 0; i < n; i++) {
			const struct opt_row *o = all[i].row;
			char val[512] = "";

			if (!o->key || !o->example || !(o->scope & (pass ? OPT_SRV : OPT_SVC)) ||
			    strcmp(o->key, "scheduler") == 0 || strcmp(o->key, "upper") == 0)
				continue;
			if (opt_takes_words(o))
				snprintf(val, sizeof(val), "%s", o->example);
			else
				opt_put_word(val, sizeof(val), o->example);
			buf_printf(&b, "    %s%s %s;\n", pass ? "    " : "", o->key, val);
		}
	}
	/* sched_flags need sh or mh */
	buf_printf(&b, "    }\n    scheduler mh mh-port;\n}\n");
	buf_append(&b, "", 1);
	check_round_trips(buf_head(&b), __LINE__);
	buf_free(&b);
}

/* The example given as a weirctl flag reads as the config file's. */
TEST(options_flag_and_keyword_read_the_same)
{
	size_t n;
	const struct opt_ref *all = opt_rows(&n);

	for (size_t i = 0; i < n; i++) {
		const struct opt_row *o = all[i].row;
		char text[4096], flag[64], err[CTL_ERR_MAX];
		const char *value = o->example;
		char *argv[10];
		int argc = 0;
		struct weir_config c;
		struct ctl_cmd cmd;
		bool srv = o->scope & OPT_SRV;

		if (!o->key || !o->example)
			continue;
		sample(&all[i], false, text, sizeof(text));
		if (!parse_conf(text, &c, __LINE__))
			continue;
		if (o->flag) {
			snprintf(flag, sizeof(flag), "--%s", o->flag);
		} else { /* the alias that stands for the example */
			const struct opt_alias *a = o->aliases;

			while (a->value && strcmp(a->value, o->example) != 0)
				a++;
			REQUIRE(a->value);
			if (a->shortname)
				snprintf(flag, sizeof(flag), "-%c", a->shortname);
			else
				snprintf(flag, sizeof(flag), "--%s", a->flag);
			value = NULL;
		}
		argv[argc++] = srv ? "-a" : "-A";
		argv[argc++] = "-t";
		argv[argc++] = VIP;
		if (srv) {
			argv[argc++] = "-r";
			argv[argc++] = "10.0.0.1:80";
		} else { /* the sample's scheduler and persistence, unless the row's */
			if (strcmp(flag, "--scheduler") != 0) {
				argv[argc++] = "-s";
				argv[argc++] = "sh";
			}
			if (strcmp(flag, "--persistent") != 0) {
				argv[argc++] = "-p";
				argv[argc++] = "60";
			}
		}
		argv[argc++] = flag;
		if (value)
			argv[argc++] = (char *)value;
		if (ctl_parse(argc, argv, &cmd, err) != 0)
			unit_fail(__FILE__, __LINE__, "%s %s: %s", flag, value ? value : "", err);
		else if (!opt_equal(&all[i], holder(&c, &all[i], false),
				    srv ? (const void *)&cmd.rs : (const void *)&cmd.svc))
			unit_fail(__FILE__, __LINE__, "%s %s reads differently from the config's %s",
				  flag, value ? value : "", o->key);
		spec_free(&c);
	}
}

/* -E / -e without options: ipvsadm's options back to their defaults, weir's
 * kept. */
TEST(options_edit_keeps_weirs_and_resets_ipvsadms)
{
	size_t n;
	const struct opt_ref *all = opt_rows(&n);

	for (size_t i = 0; i < n; i++) {
		const struct opt_row *o = all[i].row;
		bool srv = o->scope & OPT_SRV;
		struct weir_config c, before;
		struct service_spec def;
		struct server_spec sdef;
		char text[4096], err[CTL_ERR_MAX];
		const void *want;

		if (!o->key || !o->example)
			continue;
		sample(&all[i], false, text, sizeof(text));
		if (!parse_conf(text, &c, __LINE__))
			continue;
		REQUIRE(spec_dup(&before, &c) == 0);
		if (fx_apply(&c, srv ? "-e -t " VIP " -r 10.0.0.1:80" : "-E -t " VIP, err) != 0) {
			unit_fail(__FILE__, __LINE__, "%s: %s", o->key, err);
		} else {
			spec_service_defaults(&def);
			def.addr = c.services[0].addr;
			def.persist_prefix = spec_full_prefix(&def.addr);
			spec_server_defaults(&sdef);
			want = (o->flags & OPT_F_IPVSADM) ?
				(srv ? (const void *)&sdef : (const void *)&def) :
				holder(&before, &all[i], false);
			if (!opt_equal(&all[i], holder(&c, &all[i], false), want))
				unit_fail(__FILE__, __LINE__, "%s: %s after %s", o->key,
					  (o->flags & OPT_F_IPVSADM) ? "not reset" : "not kept",
					  srv ? "-e" : "-E");
		}
		spec_free(&before);
		spec_free(&c);
	}
}

/* docs/config.md names every keyword, docs/weirctl.md every flag (the unit
 * tests run from the top of the tree). */
static char *read_doc(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text = calloc(1, 1 << 20);

	if (f && text)
		fread(text, 1, (1 << 20) - 1, f);
	if (f)
		fclose(f);
	return text;
}

TEST(options_are_documented)
{
	char *config = read_doc("docs/config.md"), *weirctl = read_doc("docs/weirctl.md");
	size_t n;
	const struct opt_ref *all = opt_rows(&n);

	REQUIRE(config && weirctl);
	if (!config[0] || !weirctl[0]) {
		unit_fail(__FILE__, __LINE__, "docs/config.md or docs/weirctl.md not found: run "
			  "the unit tests from the top of the tree");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct opt_row *o = all[i].row;
		char word[80];

		snprintf(word, sizeof(word), "`%s", o->key ? o->key : "");
		if (o->key && !strstr(config, word))
			unit_fail(__FILE__, __LINE__, "docs/config.md does not name %s", o->key);
		snprintf(word, sizeof(word), "--%s", o->flag ? o->flag : "");
		if (o->flag && !strstr(weirctl, word))
			unit_fail(__FILE__, __LINE__, "docs/weirctl.md does not name --%s", o->flag);
	}
out:
	free(config);
	free(weirctl);
}

/* weir's own flags, in the messages the config file gives for the same
 * value, behind the flag's name. */
TEST(options_http_flags)
{
	struct ctl_cmd cmd;
	char err[CTL_ERR_MAX];
	char *ok[] = { "-A", "-t", VIP, "--proxy", "http", "--max-body-size", "1k", "--sticky",
		       "cookie SRV", "--send-proxy", "v2", "--accept-proxy", "10.0.0.0/8,::1",
		       "--access-log", "stderr" };
	char *bad[] = { "-A", "-t", VIP, "--max-body-size", "10x" };
	char *sticky[] = { "-A", "-t", VIP, "--sticky", "cookie" };

	REQUIRE(ctl_parse(ARRAY_SIZE(ok), ok, &cmd, err) == 0);
	CHECK_EQ(cmd.svc.send_proxy, 2);
	CHECK_EQ(cmd.svc.naccept_proxy, 2);
	CHECK_EQ(ctl_parse(ARRAY_SIZE(bad), bad, &cmd, err), CTL_EXIT_USAGE);
	CHECK_STR(err, "--max-body-size: '10x' is not a size (e.g. 512, 16k, 10m) up to "
		  "281474976710656");
	CHECK_EQ(ctl_parse(ARRAY_SIZE(sticky), sticky, &cmd, err), CTL_EXIT_USAGE);
	CHECK_STR(err, "--sticky: use 'cookie NAME', 'hash cookie|header|param NAME' or 'off'");
	/* several words in one argument, counted as the config counts them */
	sticky[4] = "hash header X-User extra";
	CHECK_EQ(ctl_parse(ARRAY_SIZE(sticky), sticky, &cmd, err), CTL_EXIT_USAGE);
	CHECK_STR(err, "--sticky: takes at most 3 values, not 4");
	sticky[4] = "";
	CHECK_EQ(ctl_parse(ARRAY_SIZE(sticky), sticky, &cmd, err), CTL_EXIT_USAGE);
	CHECK_STR(err, "--sticky: a value is missing");
}

TEST(options_http_config_messages)
{
	static const struct { const char *text, *want; } cases[] = {
		{ "max_body_size 10x;", "t.conf:2: max_body_size: '10x' is not a size "
		  "(e.g. 512, 16k, 10m) up to 281474976710656" },
		{ "max_header_size 512;", "t.conf:2: max_header_size: at least 1k" },
		{ "via maybe;", "t.conf:2: via: 'maybe' is not on or off" },
		{ "sticky hash body x;", "t.conf:2: sticky: use 'cookie NAME', 'hash "
		  "cookie|header|param NAME' or 'off'" },
		{ "send_proxy v3;", "t.conf:2: send_proxy: 'v3' is not off, v1 or v2" },
		{ "on_server_gone drop;", "t.conf:2: on_server_gone: 'drop' is not keep or reset" },
		{ "drain_signal 99;", "t.conf:2: drain_signal: '99' is not a status 200..599" },
		{ "accept_proxy 10.0.0.0/33;", "t.conf:2: accept_proxy: '10.0.0.0/33' is not a "
		  "network (e.g. 10.0.0.0/8, 192.0.2.7, ::1)" },
		{ "slow_start soon;", "t.conf:2: slow_start: 'soon' is not a duration "
		  "(e.g. 500ms, 2s, 5m)" },
		{ "check smtp;", "t.conf:2: check: unknown kind 'smtp' (off, tcp, http, udp or dns)" },
		{ "sched_flags sh-bogus;", "t.conf:2: sched_flags: unknown flag 'sh-bogus'" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char text[256], err[CONFIG_ERR_MAX];
		struct weir_config c;

		snprintf(text, sizeof(text), "service tcp " VIP " {\n    %s\n}\n", cases[i].text);
		if (config_parse("t.conf", text, strlen(text), &c, err) == 0) {
			unit_fail(__FILE__, __LINE__, "%s: accepted", cases[i].text);
			spec_free(&c);
		} else if (strcmp(err, cases[i].want) != 0) {
			unit_fail(__FILE__, __LINE__, "\"%s\", want \"%s\"", err, cases[i].want);
		}
	}
}
