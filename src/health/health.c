/* health.c - the health layer's registration with the table (see health.h). */
#include "health/check.h"
#include "health/health.h"
#include "health/state.h"

static const struct table_hooks health_hooks = {
	.rs_new = health_rs_new,
	.svc_spec = health_svc_spec,
	.rs_spec = health_rs_spec,
	.sync = health_sync,
};

void health_register(void)
{
	health_rs_off = table_rs_area(sizeof(struct health_rs));
	health_svc_off = table_svc_area(sizeof(struct health_svc));
	table_hooks_register(&health_hooks);
}
