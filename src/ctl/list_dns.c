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
