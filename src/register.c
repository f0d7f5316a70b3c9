/*
 * register.c - the one place where the layers above the core register
 * themselves with it: service modes, and (as they come) health check
 * kinds, option blocks, table hooks. weir, weirctl, the unit tests and the
 * fuzzers call weir_register() once at start-up, before reading a config.
 * Adding a mode = its folder plus a line here.
 */
#include "register.h"
#include "health/check.h"
#include "proxy/proxy.h"

void weir_register(void)
{
	static int done;

	if (done++)
		return;
	proxy_register();
	health_kinds_register();
}
