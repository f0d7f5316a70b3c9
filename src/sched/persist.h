/*
 * persist.h - IPVS persistence templates (ipvsadm -p TIMEOUT -M NETMASK):
 * the same client goes to the same real server while it keeps coming back
 * within the timeout.
 *
 * A template binds a client -- its source address masked to a prefix, so
 * that with -M a whole subnet shares one -- to a server. The caller asks
 * persist_lookup() first and, when it answers NULL, schedules the client
 * with sched_pick() and records the choice with persist_bind().
 *
 * Semantics (IPVS, with weir's flags):
 *   - A template lives <timeout> after its last use (lookup or bind); each
 *     use restarts the clock (IPVS re-arms the template's timer on every
 *     connection it directs). Default timeout 300 s.
 *   - Optionally, persist_hold()/persist_release() count the connections a
 *     template directs; while it has any, it does not expire but re-arms
 *     for another timeout (IPVS's n_control).
 *   - A template whose server is DOWN or MAINT is dropped by the lookup and
 *     the client is scheduled afresh. One whose server is quiesced (weight
 *     0), DRAIN or OVERLOAD is still honoured, so sessions finish on a
 *     draining server (IPVS default, expire_quiescent_template = 0).
 *
 * Ownership and threads
 *   - The table holds pointers to the caller's sched_servers and reads
 *     their flags at lookup. Before a server is freed (or leaves the
 *     service) the caller must call persist_forget_server(), which drops
 *     its templates in time proportional to their number.
 *   - Not thread-safe: the caller serialises calls (the service lock).
 *   - No call does unbounded work: the hash table grows a few buckets per
 *     call and persist_expire() takes a budget.
 */
#ifndef WEIR_SCHED_PERSIST_H
#define WEIR_SCHED_PERSIST_H

#include <stddef.h>
#include <stdint.h>

#include "sched/sched.h"

#define PERSIST_DEFAULT_TIMEOUT_MS (300 * 1000u)

struct persist_table;

/* Creates an empty table. <timeout_ms> 0 = 300 s. Clients are grouped by
 * the first <v4_prefix> bits of a v4 address (0..32; 32 = each address
 * alone) and the first <v6_prefix> bits of a v6 one (0..128). <seed> keys
 * the hash (give a random one: client addresses are attacker-chosen).
 * Returns NULL on ENOMEM or a prefix out of range. */
struct persist_table *persist_create(uint32_t timeout_ms, uint8_t v4_prefix,
				     uint8_t v6_prefix, uint64_t seed);
void persist_destroy(struct persist_table *t);

/* The server <src> (4 or 16 bytes) is bound to, or NULL if none, expired,
 * or its server is DOWN or MAINT (the template is then dropped). A hit
 * restarts the template's timeout. */
struct sched_server *persist_lookup(struct persist_table *t, const uint8_t *src,
				    uint8_t len, uint64_t now_ms);

/* Binds <src>'s client group to <srv> (replacing any template it had).
 * Returns 0, -EINVAL for a bad length, -ENOMEM. */
int persist_bind(struct persist_table *t, const uint8_t *src, uint8_t len,
		 struct sched_server *srv, uint64_t now_ms);

/* A connection directed by <src>'s template opened / ended. Returns 0 or
 * -ENOENT if it has no template. */
int persist_hold(struct persist_table *t, const uint8_t *src, uint8_t len);
int persist_release(struct persist_table *t, const uint8_t *src, uint8_t len,
		    uint64_t now_ms);

/* <srv> is going away: drops every template bound to it. */
void persist_forget_server(struct persist_table *t, const struct sched_server *srv);

/* Drops up to <max> expired templates (0 = no limit), oldest first; those
 * still holding connections are re-armed instead. Returns how many were
 * dropped. Call it from a timer; lookups drop what they find expired. */
size_t persist_expire(struct persist_table *t, uint64_t now_ms, size_t max);

/* Calls <fn> for each live template bound to <srv> at <now_ms>: its
 * client group's masked address (<len> 4 or 16 bytes) and the ms it has
 * left (one holding connections: a whole timeout). Changes nothing. */
typedef void (*persist_visit_fn)(const uint8_t *addr, uint8_t len, uint64_t left_ms,
				 void *arg);
void persist_foreach_server(struct persist_table *t, const struct sched_server *srv,
			    uint64_t now_ms, persist_visit_fn fn, void *arg);

/* How many templates are bound to <srv> (ipvsadm's PersistConn). */
size_t persist_count_server(struct persist_table *t, const struct sched_server *srv);

/* How many templates the table holds. */
size_t persist_count(const struct persist_table *t);

/* ipvsadm -M for v4: the prefix length of a dotted mask ("255.255.255.0"
 * -> 24). Returns 0, or -EINVAL if it is not a dotted quad of contiguous
 * ones. */
int persist_v4_prefix(const char *mask, uint8_t *prefix);

#endif
