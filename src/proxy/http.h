/* http.h - the HTTP reverse proxy (--proxy http) and the HTTP redirect
 * mode (--proxy redirect); see http.c. */
#ifndef WEIR_PROXY_HTTP_H
#define WEIR_PROXY_HTTP_H

#include "proxy/proxy.h"

extern const struct svc_mode http_proxy_ops;
extern const struct svc_mode redirect_proxy_ops;

#endif
