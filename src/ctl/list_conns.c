/* list_conns.c - weirctl -L -c (see list_conns.h). */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "ctl/cmd.h"
#include "ctl/list.h"
#include "ctl/list_conns.h"
#include "proxy/conns.h"
#include "sched/persist.h"
#include "xdp/conns.h"

const char *list_conn_state(int proto, int state)
{
	/* the kernel's names (ip_vs_proto_tcp.c, ip_vs_proto_udp.c) */
	static const char *const tcp[] = {
		[CONN_NONE] = "NONE", [CONN_SYN_SENT] = "SYN_SENT", [CONN_SYN_RECV] = "SYN_RECV",
		[CONN_ESTABLISHED] = "ESTABLISHED", [CONN_FIN_WAIT] = "FIN_WAIT",
		[CONN_CLOSE] = "CLOSE",
	};

	if (state == CONN_NONE)
		return "NONE"; /* a template, in either protocol */
	if (proto == IPPROTO_UDP)
		return state == CONN_UDP ? "UDP" : "ERR!";
	if (state < 0 || (size_t)state >= ARRAY_SIZE(tcp) || !tcp[state])
		return "ERR!";
	return tcp[state];
}

/* Every address of the listing is written by this one function: the cell
 * of ipvsadm's addrport_to_anyname, "IP:PORT" or "[IPv6]:PORT" padded to
 * <pad> columns, or with <names> a mark weirctl turns into host:service
 * (list_addr_cell, list.h). An address not known (a proxy session not
 * connected yet) is the unspecified one of <family_of>'s family, port 0. */
static void conn_addr(struct buf *out, bool names, int proto, const struct weir_addr *a,
		      const struct weir_addr *family_of, int pad)
{
	struct weir_addr none;

	if (addr_family(a) != AF_INET && addr_family(a) != AF_INET6) {
		addr_parse(addr_family(family_of) == AF_INET6 ? "[::]:0" : "0.0.0.0:0", true, &none);
		a = &none;
	}
	list_addr_cell(out, names, "", proto, a, 0, pad);
}

/* ipvsadm's order does not exist (the kernel's hash order): weir's is the
 * virtual service, then the source, then the destination. */
static int entry_cmp(const void *pa, const void *pb)
{
	const struct conn_entry *a = pa, *b = pb;
	int c;

	if (a->proto != b->proto)
		return a->proto < b->proto ? -1 : 1;
	if ((c = addr_cmp(&a->vip, &b->vip)) != 0)
		return c;
	if ((c = addr_cmp(&a->src, &b->src)) != 0)
		return c;
	return addr_cmp(&a->dst, &b->dst);
}

void list_conns_write(struct conn_list *l, bool pconn, bool names, struct buf *out)
{
	buf_printf(out, "IPVS connection entries\n");
	if (pconn)
		buf_printf(out, "pro expire %-11s %-18s %-18s %-18s %-16s %s\n", "state", "source",
			   "virtual", "destination", "pe name", "pe_data");
	else
		buf_printf(out, "pro expire %-11s %-18s %-18s %s\n", "state", "source", "virtual",
			   "destination");
	if (l->n)
		qsort(l->v, l->n, sizeof(*l->v), entry_cmp);
	for (size_t i = 0; i < l->n; i++) {
		const struct conn_entry *e = &l->v[i];
		char expire[24];

		snprintf(expire, sizeof(expire), "%02u:%02u", e->expire_s / 60, e->expire_s % 60);
		/* "%-18s %-18s %s": no persistence engine, so the short line even
		 * with --persistent-conn, as ipvsadm */
		buf_printf(out, "%-3s %-6s %-11s ", e->proto == IPPROTO_UDP ? "UDP" : "TCP", expire,
			   list_conn_state(e->proto, e->state));
		conn_addr(out, names, e->proto, &e->src, &e->vip, 18);
		buf_printf(out, " ");
		conn_addr(out, names, e->proto, &e->vip, &e->vip, 18);
		buf_printf(out, " ");
		conn_addr(out, names, e->proto, &e->dst, &e->vip, 0);
		buf_printf(out, "\n");
	}
}

/* --- the proxy services' persistence templates ------------------------------------ */

struct tmpl_ctx {
	struct conn_list *out;
	const struct virtual_service *svc;
	const struct real_server *rs;
	int err;
};

static void add_template(const uint8_t *addr, uint8_t len, uint64_t left_ms, void *arg)
{
	struct tmpl_ctx *c = arg;
	struct conn_entry e = {
		.proto = (uint8_t)c->svc->proto, .state = CONN_NONE,
		.expire_s = (uint32_t)(left_ms / 1000), .vip = c->svc->addr, .dst = c->rs->addr,
	};

	if (len == 16) {
		e.src.u.in6.sin6_family = AF_INET6;
		memcpy(&e.src.u.in6.sin6_addr, addr, 16);
	} else {
		e.src.u.in.sin_family = AF_INET;
		memcpy(&e.src.u.in.sin_addr, addr, 4);
	}
	if (conn_list_add(c->out, &e) != 0)
		c->err = -ENOMEM;
}

/* Those of the proxy services (the packet-mode ones are in the XDP maps). */
static int proxy_templates(struct vs_table *t, struct conn_list *out)
{
	uint64_t now = now_ms();
	int err = 0;

	for (struct virtual_service *svc = t->head; svc; svc = svc->next) {
		if (!svc->proxy)
			continue;
		pthread_mutex_lock(&svc->lock);
		for (size_t i = 0; svc->persist && i < svc->nservers; i++) {
			struct tmpl_ctx c = { .out = out, .svc = svc, .rs = svc->servers[i] };

			persist_foreach_server(svc->persist, &svc->servers[i]->ss, now, add_template,
					       &c);
			err = err ? err : c.err;
		}
		pthread_mutex_unlock(&svc->lock);
	}
	return err;
}

int ctl_list_conns(struct vs_table *t, bool pconn, bool names, struct buf *out, char *err)
{
	struct conn_list l = { 0 };
	int rc = proxy_conns(&l);

	if (rc == -ETIMEDOUT) {
		log_warn("-L -c: a worker did not answer in time; its sessions are not listed");
		rc = 0;
	}
	if (rc == 0)
		rc = proxy_templates(t, &l);
	if (rc == 0)
		rc = xdp_conns(&l);
	if (rc != 0) {
		snprintf(err, CTL_ERR_MAX, "cannot read the connection table: %s", strerror(-rc));
		conn_list_free(&l);
		return CTL_EXIT_LIST;
	}
	list_conns_write(&l, pconn, names, out);
	conn_list_free(&l);
	return 0;
}
