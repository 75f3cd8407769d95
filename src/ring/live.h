/*
 * live.h - whether another process still takes part: byte locks on an
 * open file description, which the kernel drops when the last process
 * holding that description dies, and which every PID namespace sharing
 * the file sees alike.
 *
 * A process holds a write lock (F_OFD_SETLK) on one byte of a shared
 * file for as long as it plays a role (the ring's receiver, or writer N);
 * another asks with F_OFD_GETLK whether the byte is held. Unlike a pid,
 * the answer is right across PID namespaces, never names a recycled
 * process, and needs no /proc. The bytes need not exist in the file: a
 * lock beyond its end is fine, and the locks are advisory (they guard no
 * data). The /proc reader here serves diagnostics only (is a pid visible
 * and alive in *our* namespace); no decision rests on it.
 */
#ifndef IPCX__LIVE_H
#define IPCX__LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/*
 * ipcx__live_hold - take a write lock on the byte at off of fd, for the
 * open file description behind fd, without waiting. Returns 0 (held until
 * the description's last fd closes, in whatever process, or
 * ipcx__live_drop), IPCX_EBUSY (another description holds it) or IPCX_ESYS.
 */
IPCX__HIDDEN int ipcx__live_hold(int fd, uint64_t off);

/*
 * ipcx__live_held - whether a description other than fd's holds a lock on
 * the byte at off. Returns 1 (held: its holder lives), 0 (free) or
 * IPCX_ESYS (cannot tell: callers treat that as held, and wait).
 */
IPCX__HIDDEN int ipcx__live_held(int fd, uint64_t off);

/* ipcx__live_drop - release our lock on the byte at off (if any). */
IPCX__HIDDEN void ipcx__live_drop(int fd, uint64_t off);

/*
 * ipcx__live_reopen - after fork: give fd a description of its own (a
 * fresh open of the same file through /proc/self/fd, dup2'ed onto fd), so
 * that the locks the parent holds through the shared description stay the
 * parent's and die with it. Async-signal-safe (for a pthread_atfork child
 * handler). Returns 0 or IPCX_ESYS (fd still shared).
 */
IPCX__HIDDEN int ipcx__live_reopen(int fd);

/*
 * ipcx__proc_stat_parse - the state (field 3) and start time (field 22,
 * clock ticks since boot, low 32 bits) from the n bytes of a
 * /proc/PID/stat line in buf (not NUL-terminated). Returns 0 or
 * IPCX_ECORRUPT. Fuzzed by tests/fuzz/fuzz-procstat.c.
 */
IPCX__HIDDEN int ipcx__proc_stat_parse(const char *buf, size_t n, char *state,
                                       uint32_t *start);

/*
 * ipcx__proc_start - the same two fields for pid, from /proc/PID/stat.
 * Returns 0, IPCX_ENOENT (no such process in our PID namespace) or
 * IPCX_ESYS / IPCX_ECORRUPT.
 */
IPCX__HIDDEN int ipcx__proc_start(uint32_t pid, char *state, uint32_t *start);

/*
 * ipcx__proc_alive - for diagnostics: whether pid (with start time start,
 * 0: any) lives in our PID namespace and is not a zombie. A process of
 * another namespace reads as not alive here, which is why no liveness
 * decision uses this.
 */
IPCX__HIDDEN bool ipcx__proc_alive(uint32_t pid, uint32_t start);

#endif /* IPCX__LIVE_H */
