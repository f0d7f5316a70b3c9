/*
 * rowopts.c - the option rows (core/option.h) as weirctl options: each
 * row's flag, ipvsadm's letter and its aliases (-g/-i/-m) become options of
 * the grammar (ipvsadm.c), with ipvsadm's order for ipvsadm's rows and the
 * rows' order after for weir's; setting one parses its argument with the
 * row's parser (see grammar.h).
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/option.h"
#include "core/util.h"
#include "ctl/exec.h"
#include "ctl/grammar.h"

int ctl_fail(char *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, CTL_ERR_MAX, fmt, ap);
	va_end(ap);
	return CTL_EXIT_USAGE;
}

#define ROW_OPTS (CTL_OPT_MAX - O_ROWS)
#define ROW_ENTRIES (2 * ROW_OPTS)
#define ROWS_OF_OPT 4

/* One weirctl option made of rows: the rows sharing a flag (the service's
 * and the server's --check). */
struct row_opt {
	const struct opt_ref *rows[ROWS_OF_OPT];
	int nrows;
	unsigned scope;
};

/* Built once from the registry (ctl_rows, under a pthread_once), read-only
 * afterwards: any thread may read it. */
static struct {
	struct ctl_option entries[ROW_ENTRIES]; /* flags and aliases of rows */
	size_t nentries;
	struct row_opt opts[ROW_OPTS];          /* by id - O_ROWS */
	int nopts;
} g;

/* The identity of row <r>'s option: a new one, or -1 when a row of
 * another scope has its flag already (then <r> joins it). */
static int row_opt_of(const struct opt_ref *r, const char *flag)
{
	for (size_t i = 0; i < g.nentries; i++)
		if (flag && g.entries[i].longname && strcmp(g.entries[i].longname, flag) == 0) {
			struct row_opt *ro = &g.opts[g.entries[i].id - O_ROWS];

			if (ro->nrows == ROWS_OF_OPT)
				fatalx("option --%s: too many rows", flag);
			ro->rows[ro->nrows++] = r;
			ro->scope |= r->row->scope;
			return -1; /* already there */
		}
	if (g.nopts == ROW_OPTS)
		fatalx("too many weirctl options");
	g.opts[g.nopts] = (struct row_opt){ .rows = { r }, .nrows = 1, .scope = r->row->scope };
	return O_ROWS + g.nopts++;
}

static void add_entry(const struct ctl_option *e)
{
	if (g.nentries == ROW_ENTRIES)
		fatalx("too many weirctl options");
	g.entries[g.nentries++] = *e;
}

static struct ctl_rows view;

static void build_grammar(void)
{
	size_t n;
	const struct opt_ref *all = opt_rows(&n);

	for (size_t i = 0; i < n; i++) {
		const struct opt_row *o = all[i].row;
		unsigned order = (o->flags & OPT_F_IPVSADM) ? o->order : 100u + (unsigned)i;
		int id;

		if (!o->flag && !o->aliases)
			continue;
		id = row_opt_of(&all[i], o->flag);
		if (id < 0)
			continue;
		if (o->flag)
			add_entry(&(struct ctl_option){
				.shortname = o->shortname, .longname = o->flag, .id = id,
				.arg = (o->flags & OPT_F_OPTARG) ? ARG_OPTIONAL : ARG_REQUIRED,
				.name = o->name ? o->name : o->flag, .help = o->help,
				.order = order, .metavar = o->metavar });
		for (const struct opt_alias *a = o->aliases; a && a->value; a++)
			add_entry(&(struct ctl_option){
				.shortname = a->shortname, .longname = a->flag, .id = id,
				.arg = ARG_NONE, .name = o->name ? o->name : a->flag,
				.help = a->help, .order = order, .alias = a->value });
	}
	view.entries = g.entries;
	view.nentries = g.nentries;
	view.nopts = g.nopts;
}

const struct ctl_rows *ctl_rows(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, build_grammar);
	return &view;
}

static const struct row_opt *row_opt(int id)
{
	ctl_rows();
	return id >= O_ROWS && id < O_ROWS + g.nopts ? &g.opts[id - O_ROWS] : NULL;
}

bool ctl_row_repeats(int id)
{
	const struct row_opt *ro = row_opt(id);

	return ro && (ro->rows[0]->row->flags & OPT_F_REPEAT);
}

unsigned ctl_row_scope(int id)
{
	const struct row_opt *ro = row_opt(id);

	return ro ? ro->scope : 0;
}

bool ctl_given(const struct ctl_cmd *c, const struct opt_row *r)
{
	ctl_rows();
	for (int i = 0; i < g.nopts; i++)
		for (int k = 0; k < g.opts[i].nrows; k++)
			if (g.opts[i].rows[k]->row == r)
				return ctl_has(c, O_ROWS + i);
	return false;
}

bool ctl_gives_only(const struct ctl_cmd *c, uint64_t fixed, unsigned scope)
{
	ctl_rows();
	for (int id = 0; id < O_ROWS + g.nopts; id++) {
		const struct row_opt *ro = row_opt(id);

		if (!ctl_has(c, id))
			continue;
		if (ro ? !(ro->scope & scope) : !(fixed & BIT(id)))
			return false;
	}
	return true;
}

void ctl_scope_flags(unsigned scope, char *out, size_t len)
{
	int n = 0, k = 0;

	ctl_rows();
	out[0] = '\0';
	for (size_t i = 0; i < g.nentries; i++)
		n += !g.entries[i].alias && (row_opt(g.entries[i].id)->scope & scope);
	for (size_t i = 0, pos = 0; i < g.nentries && pos < len; i++) {
		const struct ctl_option *e = &g.entries[i];
		char name[48];

		if (e->alias || !(row_opt(e->id)->scope & scope))
			continue;
		if (e->shortname)
			snprintf(name, sizeof(name), "-%c", e->shortname);
		else
			snprintf(name, sizeof(name), "--%s", e->longname);
		k++;
		pos += (size_t)snprintf(out + pos, len - pos, "%s%s",
					k == 1 ? "" : k == n ? " and " : ", ", name);
	}
}

/* --- setting a row from its argument --------------------------------------------- */

/* The row of option <ro> that <cmd>'s command sets, and where its value
 * goes. A command that takes no rows still parses the value (into the
 * row's own kind of object), so a bad value is reported first, as ipvsadm
 * does, before the matrix refuses the option. */
static const struct opt_ref *row_for(struct ctl_cmd *cmd, const struct row_opt *ro,
				     unsigned scope, void **obj)
{
	const struct opt_ref *r = ro->rows[0];

	for (int k = 0; k < ro->nrows; k++)
		if (ro->rows[k]->row->scope & scope) {
			r = ro->rows[k];
			break;
		}
	*obj = r->row->scope & OPT_SRV ? (void *)&cmd->rs : (void *)&cmd->svc;
	return r;
}

/* <fmt> with its "%s" replaced by <arg>. */
static int fail_with(char *err, const char *fmt, const char *arg)
{
	const char *p = strstr(fmt, "%s");

	if (!p)
		return ctl_fail(err, "%s", fmt);
	return ctl_fail(err, "%.*s%s%s", (int)(p - fmt), fmt, arg ? arg : "", p + 2);
}

int ctl_set_row(struct ctl_cmd *cmd, const struct ctl_option *how, const char *arg,
		unsigned scope, char *err)
{
	const struct row_opt *ro = row_opt(how->id);
	void *obj;
	const struct opt_ref *r = row_for(cmd, ro, scope, &obj);
	const struct opt_row *o = r->row;
	char copy[1024], why[SPEC_ERR_MAX], *words[64];
	const char *flag = o->flag ? o->flag : how->longname ? how->longname : how->name;
	int n = 0, rc;

	if (how->alias) {
		words[n++] = (char *)how->alias;
	} else if (arg && opt_takes_words(o)) {
		if (strlen(arg) >= sizeof(copy))
			return ctl_fail(err, "--%s: too long", flag);
		strcpy(copy, arg);
		if ((n = ctl_split(copy, words, 64)) < 0)
			return ctl_fail(err, "--%s: too many words or an unclosed quote", flag);
	} else if (arg) {
		words[n++] = (char *)arg;
	}
	rc = opt_parse(r, words, n, obj, why);
	if (rc == 0 || rc == -ENOENT) /* -ENOENT: the apply refuses it (exit 255) */
		return 0;
	if (rc == -EOPNOTSUPP) /* ipvsadm's value weir refuses: <why> says why */
		return ctl_fail(err, "--%s: %s", flag, why);
	if (o->ctl_err)
		return fail_with(err, o->ctl_err6 && addr_family(&cmd->svc.addr) == AF_INET6 ?
				 o->ctl_err6 : o->ctl_err, arg);
	return ctl_fail(err, "--%s: %s", flag, why);
}

