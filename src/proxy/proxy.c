/* proxy.c - registers the user-space forwarding modes with the core. */
#include "proxy/proxy.h"
#include "proxy/http.h"
#include "proxy/redirect.h"
#include "proxy/tcp.h"
#include "proxy/udp.h"

void proxy_register(void)
{
	mode_register(&tcp_mode);
	mode_register(&http_mode);
	mode_register(&redirect_mode);
	mode_register(&udp_mode);
}
