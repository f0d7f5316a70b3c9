/* test_hooks.c - what a layer registered with the table sees: its hooks in
 * the documented order for a new service, an edit and a removal; a
 * failing svc_prepare leaving the table as it was; its state areas zeroed,
 * aligned and its own in every object. The hooks here record only while a
 * test arms them: every other test's tables pass through them too. */
#include <errno.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/config.h"
#include "core/log.h"
#include "core/table.h"
#include "unit.h"

struct probe_rs {
	uint64_t zero_at_new;   /* nonzero if the area was not zeroed */
	const void *owner;      /* the server, written by rs_new */
};

static size_t probe_svc_off, probe_rs_off;
static bool armed;
static uint16_t fail_port;     /* svc_prepare of that service fails */
static char events[1024];

static void note(const char *what, unsigned id)
{
	size_t n = strlen(events);

	if (armed)
		snprintf(events + n, sizeof(events) - n, "%s%s %u", n ? ", " : "", what, id);
}

static unsigned svc_id(const struct virtual_service *svc)
{
	return addr_port(&svc->addr);
}

static unsigned rs_id(const struct real_server *rs)
{
	uint8_t b[16];

	addr_bytes(&rs->addr, b);
	return b[3];
}

static void p_svc_new(struct virtual_service *svc)
{
	uint64_t *area = svc_area(svc, probe_svc_off);

	if (*area)
		unit_fail(__FILE__, __LINE__, "service area not zeroed");
	note("new", svc_id(svc));
}

static void p_rs_new(struct real_server *rs)
{
	struct probe_rs *p = rs_area(rs, probe_rs_off);

	p->zero_at_new |= (uintptr_t)p->owner;
	p->owner = rs;
	note("rsnew", rs_id(rs));
}

static int p_svc_prepare(struct virtual_service *svc, const struct service_spec *sp, char *err)
{
	note("prep", svc_id(svc));
	if (armed && fail_port && svc_id(svc) == fail_port) {
		snprintf(err, SPEC_ERR_MAX, "refused by the test");
		return -EBUSY;
	}
	return 0;
}

static void p_svc_spec(struct virtual_service *svc, const struct service_spec *sp)
{
	note("spec", svc_id(svc));
}

static void p_rs_spec(struct real_server *rs, const struct server_spec *sp)
{
	note("rsspec", rs_id(rs));
}

static void p_svc_added(struct virtual_service *svc)
{
	note("added", svc_id(svc));
}

static void p_svc_applied(struct virtual_service *svc, const struct service_spec *sp)
{
	note("applied", svc_id(svc));
}

static void p_svc_removed(struct virtual_service *svc)
{
	note("removed", svc_id(svc));
}

static void p_sync(struct vs_table *t)
{
	note("sync", 0);
}

static const struct table_hooks probe_hooks = {
	.svc_new = p_svc_new,
	.rs_new = p_rs_new,
	.svc_prepare = p_svc_prepare,
	.svc_spec = p_svc_spec,
	.rs_spec = p_rs_spec,
	.svc_added = p_svc_added,
	.svc_applied = p_svc_applied,
	.svc_removed = p_svc_removed,
	.sync = p_sync,
};

/* Before main(), as a layer registers before any service exists. */
__attribute__((constructor)) static void probe_register(void)
{
	probe_svc_off = table_svc_area(sizeof(uint64_t));
	probe_rs_off = table_rs_area(sizeof(struct probe_rs));
	table_hooks_register(&probe_hooks);
}

static int apply(struct vs_table *t, const char *conf, char *err)
{
	struct weir_config c;
	int rc;

	if (config_parse("t.conf", conf, strlen(conf), &c, err) != 0) {
		unit_fail(__FILE__, __LINE__, "config refused: %s", err);
		return -EINVAL;
	}
	rc = table_apply(t, &c, err);
	spec_free(&c);
	return rc;
}

/* Applies <conf> with the probe armed; the events it saw. */
static const char *watch(struct vs_table *t, const char *conf, int want_rc, char *err)
{
	int rc;

	events[0] = '\0';
	armed = true;
	rc = apply(t, conf, err);
	armed = false;
	if (rc != want_rc)
		unit_fail(__FILE__, __LINE__, "table_apply: %d, want %d (%s)", rc, want_rc,
			  rc ? err : "");
	return events;
}

static const char one[] =
	"service tcp 192.0.2.1:80 {\n server 10.0.0.1 weight 2;\n server 10.0.0.2;\n}\n";

static enum log_level saved_log;

/* A table holding <one> (unless <empty>); quiet: packet-mode services warn
 * without XDP. */
static bool fx_open(struct vs_table *t, bool empty)
{
	char err[CONFIG_ERR_MAX];

	saved_log = log_threshold;
	log_threshold = LOG_ERR;
	table_init(t, 1);
	if (empty || apply(t, one, err) == 0)
		return true;
	unit_fail(__FILE__, __LINE__, "table_apply: %s", err);
	return false;
}

static void fx_close(struct vs_table *t)
{
	table_fini(t);
	log_threshold = saved_log;
}

TEST(hooks_order_new_edit_remove)
{
	char err[CONFIG_ERR_MAX];
	struct vs_table t;

	fx_open(&t, true);
	CHECK_STR(watch(&t, one, 0, err),
		  "new 80, spec 80, prep 80, added 80, rsnew 1, rsnew 2, rsspec 1, rsspec 2, "
		  "applied 80, sync 0");
	CHECK_STR(watch(&t, "service tcp 192.0.2.1:80 {\n server 10.0.0.1 weight 5;\n"
			"server 10.0.0.3;\n}\n", 0, err),
		  "prep 80, spec 80, rsnew 3, rsspec 1, rsspec 3, applied 80, sync 0");
	CHECK_STR(watch(&t, "", 0, err), "removed 80, sync 0");
	fx_close(&t);
}

/* A layer that cannot take the new config stops it before anything
 * changed: the service edited in place keeps its weights, the new one
 * never joins the table, and no later hook runs. */
TEST(hooks_failed_prepare_changes_nothing)
{
	char err[CONFIG_ERR_MAX];
	struct vs_table t;
	struct virtual_service *svc;

	if (!fx_open(&t, false))
		return;
	fail_port = 81;
	CHECK_STR(watch(&t, "service tcp 192.0.2.1:80 {\n server 10.0.0.1 weight 7;\n}\n"
			"service tcp 192.0.2.1:81 {\n server 10.0.0.4;\n}\n", -EBUSY, err),
		  "new 81, spec 81, prep 80, prep 81, removed 81");
	fail_port = 0;
	CHECK_STR(err, "TCP 192.0.2.1:81: refused by the test");
	svc = t.head;
	CHECK(svc && !svc->next);
	if (svc && svc->nservers == 2) {
		CHECK_EQ(svc->servers[0]->spec.weight, 2);
		CHECK_EQ(svc->servers[0]->ss.weight, 2); /* the state layer saw nothing */
	} else {
		unit_fail(__FILE__, __LINE__, "the service lost its servers");
	}
	fx_close(&t);
}

TEST(hooks_areas_zeroed_aligned_own)
{
	struct vs_table t;
	struct virtual_service *svc;

	if (!fx_open(&t, false))
		return;
	svc = t.head;
	if (!svc || svc->nservers != 2) {
		unit_fail(__FILE__, __LINE__, "no service of two servers");
		fx_close(&t);
		return;
	}
	CHECK_EQ((uintptr_t)svc_area(svc, 0) % alignof(max_align_t), 0);
	for (size_t i = 0; i < svc->nservers; i++) {
		struct real_server *rs = svc->servers[i];
		struct probe_rs *p = rs_area(rs, probe_rs_off);

		CHECK_EQ((uintptr_t)p % alignof(max_align_t), 0);
		CHECK_EQ(p->zero_at_new, 0);
		CHECK(p->owner == rs);
	}
	fx_close(&t);
}
