/*
 * check.h - active health checks and agent checks.
 *
 * Checks run on their own threads (as many as there are workers), each
 * with an event loop, off the request path. Every real server with a check
 * has exactly one check object, on one of those threads, however many
 * workers there are; a server with an agent has one agent object too.
 *
 * Ownership: the control thread creates and forgets check objects
 * (health_sync); a check object then belongs to its thread, which frees it
 * when told to stop. Each holds a reference to its real server.
 */
#ifndef WEIR_HEALTH_CHECK_H
#define WEIR_HEALTH_CHECK_H

#include "core/table.h"

/* Registers the kinds of checks (tcp, http, agent) here and their words
 * with the core (health_register(), at start-up). */
void health_kinds_register(void);
/* Starts <n> check threads. Returns 0 or -errno. Control thread. */
int health_start(int n);
/* Makes the running checks match the table: a check for every server whose
 * service (or own config) asks for one, none for the others. Servers whose
 * check was removed are assumed up again. Control thread; a no-op before
 * health_start(). */
void health_sync(struct vs_table *t);
/* Stops every check and the threads. Control thread. */
void health_shutdown(void);

#endif
