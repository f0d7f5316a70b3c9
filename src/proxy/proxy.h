/*
 * proxy.h - the user-space forwarding modes (tcp, http, redirect, udp). Each is a
 * `struct svc_mode` (core/mode.h) registered with the core by
 * proxy_register(); the table calls their ops and never names one.
 */
#ifndef WEIR_PROXY_H
#define WEIR_PROXY_H

#include "core/mode.h"

/* Registers every proxy mode (start-up, from src/register.c). */
void proxy_register(void);

#endif
