/* http.h - the HTTP reverse proxy mode (--proxy http): http_forward.c,
 * with the session in http.c (see http_session.h for the files). */
#ifndef WEIR_PROXY_HTTP_H
#define WEIR_PROXY_HTTP_H

#include "proxy/proxy.h"

extern const struct svc_mode http_mode;

#endif
