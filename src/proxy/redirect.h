/* redirect.h - the HTTP redirect mode (--proxy redirect); see redirect.c. */
#ifndef WEIR_PROXY_REDIRECT_H
#define WEIR_PROXY_REDIRECT_H

#include "proxy/proxy.h"

extern const struct svc_mode redirect_mode;

#endif
