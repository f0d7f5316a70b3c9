/* proxy.c - the registry of user-space forwarding modes. */
#include <stddef.h>

#include "proxy/proxy.h"
#include "proxy/http.h"
#include "proxy/redirect.h"
#include "proxy/tcp.h"

static const struct proxy_ops *const modes[] = {
	&tcp_proxy_ops,
	&http_proxy_ops,
	&redirect_proxy_ops,
};

const struct proxy_ops *proxy_find(enum proxy_kind kind)
{
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (modes[i]->kind == kind)
			return modes[i];
	return NULL;
}
