/*
 * list_dns.c - a DNS service's queries per name in `weirctl -L --stats`
 * and `--rate`: after its servers, a title line, then one line per name
 * in the service columns (ipvsadm has no such lines: only DNS services
 * have them, so other services list exactly as in ipvsadm):
 *
 *   UDP  127.0.0.1:5353                     7        7        7      300      600
 *     -> 10.0.0.1:80                        4        0        0        0        0
 *     DNS names                       Queries  NOERROR NXDOMAIN  REFUSED    Other
 *     name www.example.test                 4        4        0        0        0
 *     name other                            3        0        1        1        1
 *
 * --rate has the same lines per second (QPS, NoErr/s, ...). The numbers
 * count from the service's start, as its JSON and Prometheus ones.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/list.h"
#include "dns/dns.h"

struct names_ctx {
	struct buf *out;
	const struct list_opts *o;
	bool titled;
};

static void one_name(void *arg, const char *name, const uint64_t *total, const uint64_t *rate)
{
	static const char *const stats[] = { "Queries", "NOERROR", "NXDOMAIN", "REFUSED",
					     "Other" };
	static const char *const rates[] = { "QPS", "NoErr/s", "NXDom/s", "Refus/s",
					     "Other/s" };
	struct names_ctx *c = arg;
	const char *const *t = c->o->rate ? rates : stats;
	const uint64_t *v = c->o->rate ? rate : total;
	char row[64];

	if (!c->titled) {
		buf_printf(c->out, "%-33s %8s %8s %8s %8s %8s\n", "  DNS names", t[0], t[1], t[2],
			   t[3], t[4]);
		c->titled = true;
	}
	snprintf(row, sizeof(row), "  name %s", name);
	buf_printf(c->out, "%-33s", row);
	for (int k = 0; k < DNS_CLASSES; k++)
		list_largenum(c->out, v[k], c->o->exact);
	buf_printf(c->out, "\n");
}

void list_dns_names(struct buf *out, struct virtual_service *svc, const struct list_opts *o)
{
	struct names_ctx c = { out, o, false };

	dns_name_numbers(svc, one_name, &c);
}

/* --- the --dns view ---------------------------------------------------------------- */

/*
 *   Prot LocalAddress:Port             Queries        A     AAAA      SOA       NS      ANY    Other
 *     -> name NAME / location NAME     Answers
 *   UDP  127.0.0.1:5353                      9        6        1        1        0        0        1
 *     -> name www.example.test               6        5        1        0        0        0        0
 *     -> name other                          3        1        0        1        0        0        1
 *     -> location fra                        5
 * A service of another mode has no lines.
 */
static const char *const view_types[] = { "A", "AAAA", "SOA", "NS", "ANY", "other" };
#define VIEW_TYPES 6
#define VIEW_NAMES 32

struct view_row {
	char name[256];
	uint64_t n[VIEW_TYPES + 1];   /* all, then by view_types */
};

struct view_ctx {
	struct view_row rows[VIEW_NAMES], total;
	size_t nrows;
	struct buf *out;
	bool exact;
};

static void view_row_print(struct buf *out, const char *label, const struct view_row *r,
			   bool exact)
{
	buf_printf(out, "%-*s", *label ? 33 : 0, label);
	for (int k = 0; k <= VIEW_TYPES; k++)
		list_largenum(out, r->n[k], exact);
	buf_printf(out, "\n");
}

static void view_query(void *arg, const char *name, const char *type, const char *rcode,
		       uint64_t n)
{
	struct view_ctx *c = arg;
	struct view_row *r = NULL;
	int t = VIEW_TYPES - 1;

	for (size_t i = 0; i < c->nrows && !r; i++)
		if (strcmp(c->rows[i].name, name) == 0)
			r = &c->rows[i];
	if (!r && c->nrows < VIEW_NAMES) {
		r = &c->rows[c->nrows++];
		snprintf(r->name, sizeof(r->name), "%s", name);
	}
	for (int k = 0; k < VIEW_TYPES; k++)
		if (strcmp(view_types[k], type) == 0)
			t = k;
	c->total.n[0] += n;
	c->total.n[1 + t] += n;
	if (r) {
		r->n[0] += n;
		r->n[1 + t] += n;
	}
}

static void view_location(void *arg, const char *loc, uint64_t n)
{
	struct view_ctx *c = arg;
	char label[64];

	snprintf(label, sizeof(label), "  -> location %s", loc);
	buf_printf(c->out, "%-33s", label);
	list_largenum(c->out, n, c->exact);
	buf_printf(c->out, "\n");
}

void list_dns_title(struct buf *out)
{
	buf_printf(out, "%-33s %8s %8s %8s %8s %8s %8s %8s\n", "Prot LocalAddress:Port",
		   "Queries", "A", "AAAA", "SOA", "NS", "ANY", "Other");
	buf_printf(out, "  -> name NAME / location NAME     Answers\n");
}

void list_dns_block(struct buf *out, struct virtual_service *svc, const struct list_opts *o)
{
	struct view_ctx *c = calloc(1, sizeof(*c));
	bool exact = o->exact;

	if (!c || svc->proxy != &dns_mode) {
		free(c);
		return;
	}
	c->out = out;
	c->exact = exact;
	dns_stats(svc, view_query, NULL, c);
	list_svc_cell(out, o, svc, 33);
	view_row_print(out, "", &c->total, exact);
	for (size_t i = 0; i < c->nrows; i++) {
		char label[300];

		snprintf(label, sizeof(label), "  -> name %s", c->rows[i].name);
		view_row_print(out, label, &c->rows[i], exact);
	}
	dns_stats(svc, NULL, view_location, c);
	free(c);
}
