/* tcp.h - the layer-4 TCP proxy mode (see tcp.c). */
#ifndef WEIR_PROXY_TCP_H
#define WEIR_PROXY_TCP_H

#include "proxy/proxy.h"

extern const struct svc_mode tcp_mode;

#endif
