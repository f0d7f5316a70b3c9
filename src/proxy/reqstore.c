/* reqstore.c - see reqstore.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "proxy/reqstore.h"

void reqstore_init(struct reqstore *s, uint32_t mem_limit)
{
	*s = (struct reqstore){ .fd = -1, .mem_limit = mem_limit, .keep = true };
}

static int spill_open(void)
{
	const char *dir = getenv("TMPDIR");
	int fd = open(dir && *dir ? dir : "/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	return fd < 0 ? -errno : fd;
}

static int spill_write(struct reqstore *s, const char *p, size_t n)
{
	off_t at = (off_t)(s->len - s->mem.len);

	if (s->fd < 0) {
		int fd = spill_open();

		if (fd < 0)
			return fd;
		s->fd = fd;
	}
	while (n) {
		ssize_t w = pwrite(s->fd, p, n, at);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
		at += w;
		s->len += (uint64_t)w;
	}
	return 0;
}

int reqstore_append(struct reqstore *s, const void *p, size_t n)
{
	size_t room = s->len == s->mem.len && s->mem.len < s->mem_limit ?
		      s->mem_limit - s->mem.len : 0;
	size_t now = n < room ? n : room;

	if (now) {
		if (buf_append(&s->mem, p, now) != 0)
			return -ENOMEM;
		s->len += now;
	}
	if (n > now)
		return spill_write(s, (const char *)p + now, n - now);
	return 0;
}

/* Sends spilled bytes from *<off> through user space: for a transport
 * without sendfile (TLS). */
static ssize_t send_copy(struct tp_conn *c, int fd, off_t off, size_t len)
{
	char chunk[16384];
	ssize_t n;

	do
		n = pread(fd, chunk, len < sizeof(chunk) ? len : sizeof(chunk), off);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return n < 0 ? -errno : -EIO; /* the file is shorter than it was written */
	return tp_write(c, chunk, (size_t)n, 0);
}

ssize_t reqstore_send(struct reqstore *s, struct tp_conn *c)
{
	ssize_t n;

	if (s->sent == s->len)
		return 0;
	if (s->sent < s->mem.len) {
		n = tp_write(c, buf_head(&s->mem) + s->sent, s->mem.len - s->sent, 0);
	} else {
		off_t off = (off_t)(s->sent - s->mem.len);

		n = tp_sendfile(c, s->fd, &off, s->len - s->sent);
		if (n == -EOPNOTSUPP)
			n = send_copy(c, s->fd, (off_t)(s->sent - s->mem.len), s->len - s->sent);
	}
	if (n < 0)
		return n;
	s->sent += (uint64_t)n;
	if (!s->keep && s->sent == s->len)
		reqstore_clear(s);
	return n;
}

void reqstore_rewind(struct reqstore *s)
{
	s->sent = 0;
}

void reqstore_release(struct reqstore *s)
{
	s->keep = false;
	if (s->sent == s->len)
		reqstore_clear(s);
}

void reqstore_clear(struct reqstore *s)
{
	buf_reset(&s->mem);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->len = s->sent = 0;
}

void reqstore_free(struct reqstore *s)
{
	reqstore_clear(s);
	buf_free(&s->mem);
}
