/*
 * reqstore.h - the bytes of a request as sent to a server, kept until the
 * response starts so the request can be sent again to another server.
 * The first <mem_limit> bytes stay in memory; the rest spill to an unnamed
 * temporary file (O_TMPFILE), so a large upload can be retried without
 * holding it in memory. Once retries are over (the response started) the
 * store is a plain FIFO: sent bytes are dropped.
 *
 * Owned by one session on one worker; not thread-safe.
 */
#ifndef WEIR_REQSTORE_H
#define WEIR_REQSTORE_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/buf.h"
#include "proxy/transport.h"

struct reqstore {
	struct buf mem;       /* bytes [0, mem.len) */
	int fd;               /* spill file for bytes [mem.len, len); -1 = none */
	uint64_t len;         /* bytes stored */
	uint64_t sent;        /* bytes of them sent to the current server */
	uint32_t mem_limit;
	bool keep;            /* keep sent bytes (a retry may need them) */
};

void reqstore_init(struct reqstore *s, uint32_t mem_limit);
/* Appends <n> bytes. Returns 0 or -errno (the spill file could not be made
 * or written). */
int reqstore_append(struct reqstore *s, const void *p, size_t n);
/* reqstore_append(), inline while the bytes go to memory (the head of a
 * request, piece by piece). */
static inline int reqstore_put(struct reqstore *s, const void *p, size_t n)
{
	if (s->len == s->mem.len && s->mem.len + n <= s->mem_limit) {
		if (buf_put(&s->mem, p, n) != 0)
			return -ENOMEM;
		s->len += n;
		return 0;
	}
	return reqstore_append(s, p, n);
}
/* Sends what has not been sent yet to connection <c>. Returns bytes sent,
 * 0 when all is sent, -EAGAIN when it takes no more now, or -errno. */
ssize_t reqstore_send(struct reqstore *s, struct tp_conn *c);
static inline uint64_t reqstore_unsent(const struct reqstore *s) { return s->len - s->sent; }
/* Starts sending again from the first byte (a retry). */
void reqstore_rewind(struct reqstore *s);
/* Retries are over: forget sent bytes from now on. */
void reqstore_release(struct reqstore *s);
/* Empties the store for the next request (keeps the memory buffer). */
void reqstore_clear(struct reqstore *s);
void reqstore_free(struct reqstore *s);

#endif
