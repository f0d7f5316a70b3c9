/*
 * attach.c - where the XDP data path runs (see xdp_int.h and docs/config.md,
 * "The XDP data path").
 *
 * The program is attached to the interfaces of the config's xdp { } block
 * and, by default, to those each packet-mode service needs, which weir
 * finds itself, so that an ipvsadm script forwards without a config:
 *   - the interface clients reach the VIP on: the one holding the VIP
 *     address (not a loopback), else the output interface of the kernel's
 *     route toward the VIP. A VIP held by lo only, or with no route, gives
 *     none (logged): its packets' interface is unknown;
 *   - for each real server, the output interface of the kernel's route to
 *     it: where DR, TUN and NAT packets leave, and where NAT replies come
 *     back;
 *   - or, instead of both, the service's --interface list.
 * A service that needs none, an interface that does not exist, has
 * forwarding off or refuses the program, a real server with no route, or a
 * TUN/FULLNAT real with no source address for its route (and no `local` in
 * the config) make its svc_prepare fail: weirctl -A/-a exits 255 with the
 * reason and the table stays as it was.
 *
 * The automatic `local` (TUN outer source, FULLNAT source) is, per family,
 * the source the kernel chooses for the route to the first TUN or FULLNAT
 * real server in the table; the data path has one per family.
 *
 * WEIR_XDP_AUTO=off in weir's environment turns the automatic choice off:
 * only the config's interfaces and the services' --interface are attached,
 * and a packet-mode service without them carries no traffic (a warning),
 * as before weir chose itself.
 *
 * Life of an automatic attachment: made "fresh" in svc_prepare; the sync
 * after a successful table_apply keeps those a service of the table needs
 * (and the config's) and detaches the rest; a failing svc_prepare
 * detaches the fresh ones (its apply fails: the live table never needed
 * them). Control thread only.
 */
#include <errno.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "core/log.h"
#include "sched/sched.h"
#include "xdp/xdp.h"
#include "xdp/xdp_int.h"

#include "weir_xdp.skel.h"

#define ATT_MAX 32
#define SVC_NEED_MAX 8

/* One attachment. */
struct att {
	char name[IF_NAMESIZE];
	int ifindex;
	int link_fd;           /* a BPF link: closing it detaches */
	bool conf;             /* the config's xdp { interface } names it */
	bool fresh;            /* attached for a change not applied yet */
	bool used;             /* xdp_attach_sync's mark */
};

/* What a packet-mode service needs (its area), as its last svc_prepare
 * found it; read by the sync that follows a successful apply. */
struct svc_att {
	uint64_t key;                   /* choice_key() of the spec it was found for;
	                                 * 0 = never prepared */
	char need[SVC_NEED_MAX][IF_NAMESIZE];
	uint8_t nneed;
	struct weir_addr local[2];      /* [0] IPv4, [1] IPv6: the source of the route
	                                 * to its first TUN/FULLNAT real; family 0: none */
};

static struct {
	struct att a[ATT_MAX];
	int n;
	bool generic;                   /* the mode they were attached in */
	struct weir_addr local[2];      /* chosen at the last sync */
	size_t svc_off;
} A;

/* The config's `local` of <family>, or NULL. */
static const struct weir_addr *conf_local(int family)
{
	const struct xdp_spec *s = xdp_settings();
	const struct weir_addr *a = family == AF_INET6 ? &s->local6 : &s->local4;

	return addr_family(a) == family ? a : NULL;
}

static struct svc_att *sa(const struct virtual_service *svc)
{
	return svc_area(svc, A.svc_off);
}

static bool auto_on(void)
{
	const char *v = getenv("WEIR_XDP_AUTO");

	return !v || (strcmp(v, "off") != 0 && strcmp(v, "0") != 0 && strcmp(v, "no") != 0);
}

static int fam_idx(int family)
{
	return family == AF_INET6;
}

const struct weir_addr *xdp_local(int family)
{
	if (conf_local(family))
		return conf_local(family);
	if (addr_family(&A.local[fam_idx(family)]) == family)
		return &A.local[fam_idx(family)];
	return NULL;
}

/* --- attaching and detaching -------------------------------------------------------- */

static struct att *find_att(const char *name)
{
	for (int i = 0; i < A.n; i++)
		if (strcmp(A.a[i].name, name) == 0)
			return &A.a[i];
	return NULL;
}

static void detach_at(int i)
{
	close(A.a[i].link_fd);
	log_info("xdp: detached from %s", A.a[i].name);
	A.a[i] = A.a[--A.n];
}

/* The kernel's next-hop lookup (bpf_fib_lookup) refuses to forward for an
 * interface without forwarding on: say so rather than drop silently. */
static void warn_forwarding(const char *name)
{
	for (int f = 0; f < 2; f++)
		if (!xdp_forwarding_on(name, f ? AF_INET6 : AF_INET))
			log_warn("xdp: %s has IPv%c forwarding off: weir cannot forward its "
				 "packets (set net.ipv%c.%s.forwarding=1)", name, f ? '6' : '4',
				 f ? '6' : '4', f ? "conf.all" : "ip_forward / conf.*");
}

/* Attaches the program to <name> (native, generic when the driver has
 * none or <generic>); the new attachment is the last of A.a. */
static int attach(const char *name, bool generic, char *err)
{
	int ifindex = (int)if_nametoindex(name), prog, fd;
	LIBBPF_OPTS(bpf_link_create_opts, opts);
	struct att *a;

	if (!ifindex) {
		snprintf(err, SPEC_ERR_MAX, "xdp: no interface %s", name);
		return -ENODEV;
	}
	if (A.n == ATT_MAX) {
		snprintf(err, SPEC_ERR_MAX, "xdp: cannot attach to %s: %d interfaces at most",
			 name, ATT_MAX);
		return -ENOSPC;
	}
	prog = bpf_program__fd(xdp_skel()->progs.weir_xdp);
	opts.flags = generic ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
	fd = bpf_link_create(prog, ifindex, BPF_XDP, &opts);
	if (fd < 0 && !generic) {
		log_warn("xdp: %s has no native XDP (%s): attaching in generic mode, which is "
			 "much slower", name, strerror(errno));
		opts.flags = XDP_FLAGS_SKB_MODE;
		fd = bpf_link_create(prog, ifindex, BPF_XDP, &opts);
	}
	if (fd < 0) {
		snprintf(err, SPEC_ERR_MAX, "xdp: cannot attach to %s: %s", name, strerror(errno));
		return -errno;
	}
	/* a link closes with its fd: the program leaves with the process */
	a = &A.a[A.n++];
	memset(a, 0, sizeof(*a));
	a->link_fd = fd;
	snprintf(a->name, sizeof(a->name), "%s", name);
	a->ifindex = ifindex;
	A.generic = generic; /* one mode for all: the settings' */
	log_info("xdp: attached to %s (%s mode)", name,
		 opts.flags == XDP_FLAGS_SKB_MODE ? "generic" : "native");
	warn_forwarding(name);
	return 0;
}

static bool in_spec(const struct xdp_spec *spec, const char *name)
{
	for (int i = 0; i < spec->nifaces; i++)
		if (strcmp(spec->ifaces[i], name) == 0)
			return true;
	return false;
}

int xdp_attach_config(const struct xdp_spec *spec, char *err)
{
	int first_new, rc;

	if (A.n && spec->generic != A.generic) /* a mode change attaches again */
		while (A.n)
			detach_at(0);
	A.generic = spec->generic;
	first_new = A.n;
	for (int i = 0; i < spec->nifaces; i++) {
		if (find_att(spec->ifaces[i]))
			continue;
		if ((rc = attach(spec->ifaces[i], spec->generic, err)) != 0) {
			while (A.n > first_new) /* the old set stays */
				detach_at(A.n - 1);
			return rc;
		}
	}
	/* one the config no longer names stays while a service needs it: the
	 * sync after the table's apply decides */
	for (int i = 0; i < A.n; i++) {
		bool named = in_spec(spec, A.a[i].name);

		if (A.a[i].conf && !named)
			A.a[i].fresh = true;
		A.a[i].conf = named;
	}
	return 0;
}

/* Detaches what a failing table change attached. */
static void drop_fresh(void)
{
	for (int i = A.n - 1; i >= 0; i--)
		if (A.a[i].fresh && !A.a[i].conf)
			detach_at(i);
}

void xdp_attach_stop(void)
{
	while (A.n)
		detach_at(A.n - 1);
	memset(A.local, 0, sizeof(A.local));
}

/* --- what a service needs ------------------------------------------------------------ */

/* The working state of one svc_prepare. */
struct pick {
	const struct service_spec *sp;
	bool known;                     /* the service was prepared before */
	struct svc_att out;
	char what[ADDR_STRLEN + 8];     /* "tcp VIP:PORT", for messages */
	char *err;
};

/* Adds <name> to what the service needs (once). Past SVC_NEED_MAX distinct
 * interfaces (one service's real servers behind more than 8 of them) the
 * others are not attached for it: --interface says which. */
static void need(struct pick *p, const char *name)
{
	for (int i = 0; i < p->out.nneed; i++)
		if (strcmp(p->out.need[i], name) == 0)
			return;
	if (p->out.nneed < SVC_NEED_MAX)
		snprintf(p->out.need[p->out.nneed++], IF_NAMESIZE, "%s", name);
}

/* The interface clients reach the VIP on (see the top): NULL with it
 * added, or why there is none (for the caller's messages). */
static const char *pick_vip(struct pick *p)
{
	char name[IF_NAMESIZE];
	struct xdp_route r;

	if (xdp_addr_holder(&p->sp->addr, name) == 0) {
		need(p, name);
		return NULL;
	}
	if (xdp_route_get(&p->sp->addr, &r) != 0)
		return "has no route and is on no interface";
	if (r.type == RTN_LOCAL || !r.oif)
		return "is on lo only";
	need(p, r.oif_name);
	return NULL;
}

/* Checks the route to each real server of the service; adds its output
 * interface unless <given> (--interface); records the TUN/FULLNAT source. */
static int pick_reals(struct pick *p, bool given)
{
	for (size_t i = 0; i < p->sp->nservers; i++) {
		const struct server_spec *s = &p->sp->servers[i];
		bool local_needed = s->fwd == FWD_TUNNEL || s->fwd == FWD_FULLNAT;
		int fam = addr_family(&s->addr), rc;
		struct weir_addr *rec = &p->out.local[fam_idx(fam)];
		char a[ADDR_STRLEN];
		struct xdp_route r;

		if ((rc = xdp_route_get(&s->addr, &r)) != 0) {
			snprintf(p->err, SPEC_ERR_MAX, "cannot forward: no route to real server %s "
				 "(%s)", addr_ip_str(&s->addr, a), strerror(-rc));
			return -ENETUNREACH;
		}
		if (r.type == RTN_LOCAL) /* a server on the director itself */
			continue;
		if (!given && r.oif)
			need(p, r.oif_name);
		if (!local_needed || conf_local(fam) || addr_family(rec))
			continue;
		if (addr_family(&r.src) != fam) {
			snprintf(p->err, SPEC_ERR_MAX, "cannot forward: no local address for %s "
				 "real server %s: its route gives no source (set `local` in the xdp "
				 "block)", fwd_name(s->fwd), addr_ip_str(&s->addr, a));
			return -EADDRNOTAVAIL;
		}
		*rec = r.src;
	}
	return 0;
}

/* The program on every interface <p> needs, loaded first if it is not. */
static int attach_needed(struct pick *p)
{
	int fam = addr_family(&p->sp->addr), rc;

	for (int i = 0; i < p->out.nneed; i++) {
		const char *name = p->out.need[i];
		struct att *a = find_att(name);

		if (a)
			continue;
		if (!if_nametoindex(name)) {
			snprintf(p->err, SPEC_ERR_MAX, "cannot forward: no interface %s", name);
			return -ENODEV;
		}
		if (!xdp_forwarding_on(name, fam)) {
			snprintf(p->err, SPEC_ERR_MAX, "cannot forward: %s has IPv%c forwarding "
				 "off (sysctl -w net.ipv%c.conf.%s.forwarding=1)", name,
				 fam == AF_INET6 ? '6' : '4', fam == AF_INET6 ? '6' : '4',
				 fam == AF_INET6 ? "all" : name);
			return -EPERM;
		}
		if ((rc = xdp_load(p->err)) != 0 ||
		    (rc = attach(name, xdp_settings()->generic, p->err)) != 0)
			return rc;
		A.a[A.n - 1].fresh = true;
	}
	return 0;
}

/* What the choice for <sp> depends on: its VIP, --interface, servers and
 * their methods, the config's `local`. An unchanged service (every
 * service is prepared at every table change) is not looked up again. */
static uint64_t choice_key(const struct service_spec *sp)
{
	const struct xdp_spec *x = xdp_settings();
	uint64_t h = sched_fnv1a64(SCHED_FNV64_BASIS, &sp->addr, sizeof(sp->addr));

	h = sched_fnv1a64(h, xdp_opts_spec(sp), sizeof(struct xdp_opts));
	h = sched_fnv1a64(h, &x->local4, sizeof(x->local4));
	h = sched_fnv1a64(h, &x->local6, sizeof(x->local6));
	for (size_t i = 0; i < sp->nservers; i++) {
		h = sched_fnv1a64(h, &sp->servers[i].addr, sizeof(sp->servers[i].addr));
		h = sched_fnv1a64(h, &sp->servers[i].fwd, sizeof(sp->servers[i].fwd));
	}
	return h | 1;
}

static bool all_attached(const struct svc_att *s)
{
	for (int i = 0; i < s->nneed; i++)
		if (!find_att(s->need[i]))
			return false;
	return true;
}

static int prepare(struct pick *p)
{
	const struct xdp_opts *o = xdp_opts_spec(p->sp);
	bool given = o->ifaces[0][0] != '\0';
	const char *why = NULL;
	char a[ADDR_STRLEN];
	int rc;

	for (int i = 0; given && i < XDP_SVC_IFACES && o->ifaces[i][0]; i++)
		need(p, o->ifaces[i]);
	if (!given && !auto_on())
		return 0;
	if (!given)
		why = pick_vip(p);
	if (auto_on() && (rc = pick_reals(p, given)) != 0)
		return rc;
	if (!p->out.nneed && !xdp_settings()->nifaces) {
		snprintf(p->err, SPEC_ERR_MAX, "cannot forward: no interface found (the VIP %s "
			 "%s, and no real server is routed): put the VIP on the clients' "
			 "interface or give --interface", addr_ip_str(&p->sp->addr, a),
			 why ? why : "is on no interface");
		return -ENODEV;
	}
	if ((rc = attach_needed(p)) == 0 && why && !p->known)
		log_warn("xdp: %s: the VIP %s %s: weir attaches to the real servers' "
			 "interfaces only (use --interface for the clients' side)", p->what,
			 addr_ip_str(&p->sp->addr, a), why);
	return rc;
}

int xdp_attach_prepare(struct virtual_service *svc, const struct service_spec *sp, char *err)
{
	struct pick p = { .sp = sp, .known = sa(svc)->key != 0, .err = err };
	char a[ADDR_STRLEN];
	int rc;

	if (sp->proxy) {
		if (xdp_opts_spec(sp)->ifaces[0][0] == '\0')
			return 0;
		snprintf(err, SPEC_ERR_MAX, "interface: only a packet-mode service (proxy "
			 "none) is attached to interfaces");
		return -EINVAL;
	}
	p.out.key = choice_key(sp);
	if (sa(svc)->key == p.out.key && all_attached(sa(svc)))
		return 0;
	snprintf(p.what, sizeof(p.what), "%s %s", proto_name(sp->proto), addr_str(&sp->addr, a));
	if ((rc = prepare(&p)) != 0) {
		log_err("xdp: %s: %s", p.what, err);
		drop_fresh();
		if (!A.n)
			xdp_unload_idle();
		return rc;
	}
	*sa(svc) = p.out;
	return 0;
}

/* --- following the table --------------------------------------------------------- */

bool xdp_attach_sync(struct vs_table *t)
{
	for (int i = 0; i < A.n; i++)
		A.a[i].used = A.a[i].conf;
	memset(A.local, 0, sizeof(A.local));
	for (struct virtual_service *svc = t->head; svc; svc = svc->next) {
		struct svc_att *s = sa(svc);

		if (svc->proxy)
			continue;
		for (int k = 0; k < s->nneed; k++) {
			struct att *a = find_att(s->need[k]);

			if (a)
				a->used = true;
		}
		for (int f = 0; f < 2; f++)
			if (!addr_family(&A.local[f]) && addr_family(&s->local[f]))
				A.local[f] = s->local[f];
	}
	for (int i = A.n - 1; i >= 0; i--) {
		if (!A.a[i].used)
			detach_at(i);
		else
			A.a[i].fresh = false;
	}
	return A.n > 0;
}

static const struct table_hooks attach_hooks = {
	.svc_prepare = xdp_attach_prepare,
};

void xdp_attach_register(void)
{
	A.svc_off = table_svc_area(sizeof(struct svc_att));
	table_hooks_register(&attach_hooks);
	opt_register(&xdp_opt_block);
}
