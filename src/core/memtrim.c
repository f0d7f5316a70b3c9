/* memtrim.c - see memtrim.h. */
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <unistd.h>

#include "core/memtrim.h"

/* Resident bytes minus the heap in use; 0 if /proc cannot say. */
static size_t slack_now(void)
{
	struct mallinfo2 mi = mallinfo2();
	size_t used = mi.uordblks + mi.hblkhd;
	unsigned long size, resident;
	char buf[128];
	ssize_t n;
	int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (sscanf(buf, "%lu %lu", &size, &resident) != 2)
		return 0;
	resident *= (unsigned long)sysconf(_SC_PAGESIZE);
	return resident > used ? resident - used : 0;
}

void memtrim_init(void)
{
	/* set explicitly, both thresholds stop adapting; the mmap one is
	 * raised so that a large buffer freed and taken again (a big upload's)
	 * does not cost an mmap and munmap each time */
	mallopt(M_TRIM_THRESHOLD, 1 << 20);
	mallopt(M_MMAP_THRESHOLD, 4 << 20);
}

void memtrim_tick(struct memtrim *m)
{
	if (!memtrim_due(m, slack_now()))
		return;
	malloc_trim(0);
	memtrim_done(m, slack_now());
}
