/*
 * register.c - the one place where the layers above the core register
 * themselves with it: service modes, the table hooks and state areas of
 * the HTTP routes, health (with its check kinds) and the XDP data path,
 * and the option blocks of modes. weir, weirctl, the unit tests and the
 * fuzzers call weir_register() once at start-up, before reading a config.
 * Adding a mode = its folder plus a line here.
 */
#include "register.h"
#include "core/option.h"
#include "dns/dns.h"
#include "health/health.h"
#include "proxy/http_opts.h"
#include "proxy/proxy.h"
#include "proxy/route.h"
#include "proxy/udp_opts.h"
#include "xdp/xdp.h"

void weir_register(void)
{
	static int done;

	if (done++)
		return;
	/* table hooks run in this order: health's sync before the data
	 * path's, which mirrors the states health just settled */
	proxy_register();
	route_register();
	health_register();
	xdp_register();
	opt_register(&http_opt_block);
	opt_register(&udp_opt_block);
	dns_register();
}
