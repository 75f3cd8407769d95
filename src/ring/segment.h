/*
 * segment.h - one process's part in a ring segment: the /dev/shm file
 * (created 0600 with O_EXCL, or attached after an owner check), the fd
 * whose byte locks tell others we live (our writer id, the receiver role:
 * live.h), and the writers' lock with its waiting. shm.c builds the
 * transport on top; ring.c knows the bytes.
 */
#ifndef IPCX__SEGMENT_H
#define IPCX__SEGMENT_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "internal.h"
#include "ring.h"

struct ipcx__seg {
	struct ipcx__ring ring;
	void *map;
	size_t map_len;
	int fd;                   /* holds our locks; -1 when closed */
	char name[NAME_MAX + 2];  /* "/name" for shm_open */
	const char *ep_name;      /* for messages: the endpoint's name */
	struct ipcx__ring_who me; /* pid, uid, writer id (fresh after fork) */
	bool rx;                  /* we hold the receiver role */
	bool exposed; /* another uid may write the file, so truncate it */
	bool listed;  /* on the list of open segments */
	struct ipcx__seg *next; /* that list, for fork */
};

/*
 * ipcx__seg_open - create /dev/shm/NAME (O_EXCL, mode 0600 or mode=,
 * posix_fallocate, format) or attach to the existing one (owner check
 * unless trust=any, wait at most 2 s for its creator, validate), then
 * take a writer id and hold its byte. Sets g->exposed if another uid could
 * write (and truncate) the file. excl: refuse an existing one
 * (IPCX_EEXIST). On failure g is safe for ipcx__seg_close. Returns 0 or
 * IPCX_E*.
 */
IPCX__HIDDEN int ipcx__seg_open(struct ipcx__seg *g, const struct ipcx__ep *ep,
                                bool excl);

/*
 * ipcx__seg_claim_rx - take the receiver role: the lock on the ring's
 * receiver byte. IPCX_EBUSY if a live receiver (in any PID namespace)
 * holds it. Returns 0 or IPCX_E*. Never blocks.
 */
IPCX__HIDDEN int ipcx__seg_claim_rx(struct ipcx__seg *g);

/*
 * ipcx__seg_rx_gone - a writer short of room: 1 if a receiver took the
 * ring and is gone without closing (died), else 0. One fcntl.
 */
IPCX__HIDDEN int ipcx__seg_rx_gone(struct ipcx__seg *g);

/*
 * ipcx__seg_writer_alive - whether writer id still takes part (its byte
 * is held, or it is us). Cannot tell: alive (callers wait, never take
 * over).
 */
IPCX__HIDDEN bool ipcx__seg_writer_alive(struct ipcx__seg *g, uint64_t id);

/*
 * ipcx__seg_lock - take the writers' lock as our writer id, waiting
 * until deadline (absolute CLOCK_MONOTONIC ns, -1 forever): spin, then
 * sleep on the lock's futex; a holder that holds it for 10 ms is asked
 * whether it lives, and a dead one is taken over and tail repaired.
 * Returns 0, IPCX_ETIMEDOUT or IPCX_ECORRUPT.
 */
IPCX__HIDDEN int ipcx__seg_lock(struct ipcx__seg *g, int64_t deadline);

/* ipcx__seg_unlock - release it, waking writers asleep on it. */
IPCX__HIDDEN void ipcx__seg_unlock(struct ipcx__seg *g);

/*
 * ipcx__seg_close - give up the roles (the kernel drops the locks with
 * the fd), unmap. Never removes the name. Accepts a half-open g.
 */
IPCX__HIDDEN void ipcx__seg_close(struct ipcx__seg *g);

#endif /* IPCX__SEGMENT_H */
