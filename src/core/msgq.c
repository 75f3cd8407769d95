/*
 * msgq.c - what the kernel message-queue transports (mq.c, sysvmq.c)
 * share: reading the kernel's limits from /proc/sys, and handing over a
 * message that was taken from the queue into the channel's own buffer.
 */
#include "internal.h"

#include <stdio.h>
#include <string.h>

long ipcx__sysctl(const char *path, long dflt)
{
	long v = dflt;
	FILE *f = fopen(path, "re");

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = dflt;
		fclose(f);
	}
	return v;
}

ssize_t ipcx__held_give(ipcx_chan *ch, const char *what, const void *held,
                        ssize_t *got, void *buf, size_t cap)
{
	ssize_t n = *got;

	if ((size_t)n > cap) {
		/* A kernel queue cannot put a message back in its place:
		 * the channel keeps it until a big enough buffer comes. */
		ch->pending = (size_t)n;
		ch->has_pending = true;
		return ipcx__err(IPCX_ENOBUFS,
		                 "recv %s: the next message is %zd bytes, the "
		                 "buffer holds %zu (it stays with the channel: "
		                 "receive again with a bigger buffer)",
		                 what, n, cap);
	}
	if (n)
		memcpy(buf, held, (size_t)n);
	*got = -1;
	return n;
}
