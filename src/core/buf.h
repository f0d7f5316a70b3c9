/* buf.h - a growable byte buffer with a size cap. The buffer owns <data>;
 * buf_free() releases it. Not thread-safe. */
#ifndef WEIR_BUF_H
#define WEIR_BUF_H

#include <stddef.h>
#include <string.h>

struct buf {
	char *data;
	size_t len;   /* bytes held, from data[off] */
	size_t off;   /* bytes already consumed at the front */
	size_t cap;
	size_t max;   /* refuse to grow past this; 0 = no cap */
};

/* Appends <n> bytes. Returns 0, -ENOBUFS past the cap, -ENOMEM. */
int buf_append(struct buf *b, const void *p, size_t n);
/* buf_append(), with the copy inline when the bytes fit in the room the
 * buffer already has (the common case on a hot path: a reused buffer). */
static inline int buf_put(struct buf *b, const void *p, size_t n)
{
	if (b->data && b->off + b->len + n <= b->cap && (!b->max || b->len + n <= b->max)) {
		memcpy(b->data + b->off + b->len, p, n);
		b->len += n;
		return 0;
	}
	return buf_append(b, p, n);
}
/* Appends formatted text; same returns as buf_append. */
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Makes room for <n> more bytes and returns where to write them; then
 * buf_commit(<n'>) the bytes actually written. NULL on -ENOBUFS/-ENOMEM. */
char *buf_reserve(struct buf *b, size_t n);
void buf_commit(struct buf *b, size_t n);
static inline char *buf_head(const struct buf *b)
{
	static char empty[1];

	return b->data ? b->data + b->off : empty;
}
/* Drops <n> bytes from the front. */
void buf_consume(struct buf *b, size_t n);
void buf_reset(struct buf *b);
void buf_free(struct buf *b);

#endif
