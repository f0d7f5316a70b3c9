/*
 * dns.h - the DNS mode (--proxy dns): weir as an authoritative DNS server
 * for service names, answering with the servers that can take traffic now.
 * server.c serves (UDP and TCP), answer.c builds and writes the answers.
 */
#ifndef WEIR_DNS_DNS_H
#define WEIR_DNS_DNS_H

#include "core/mode.h"

extern const struct svc_mode dns_mode;

/* Registers the mode, its option block, its state area and table hooks
 * (start-up, from src/register.c). */
void dns_register(void);

#endif
