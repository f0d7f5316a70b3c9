/*
 * health.h - how the health layer plugs into the table: its areas of the
 * services and real servers (struct health_svc, struct health_rs in
 * state.h) and its table hooks (a server's state from its spec, the
 * service's options, the checks kept in step after every apply).
 */
#ifndef WEIR_HEALTH_H
#define WEIR_HEALTH_H

/* Registers them (src/register.c, at start-up). */
void health_register(void);

#endif
