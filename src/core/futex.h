/*
 * futex.h - waiting on a 32-bit word that another process changes: the
 * spin-wait pause, and sleeping on and waking a shared futex.
 *
 * The futexes are shared (no FUTEX_PRIVATE_FLAG): sleepers and wakers are
 * in different processes that map the same page.
 */
#ifndef IPCX__FUTEX_H
#define IPCX__FUTEX_H

#include <stdatomic.h>
#include <stdint.h>

#include "internal.h"

/* ipcx__cpu_relax - one pause in a spin loop (x86 PAUSE, arm64 YIELD). */
static inline void ipcx__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

/*
 * ipcx__futex_wait - sleep while *w == val, until the absolute
 * CLOCK_MONOTONIC time `until` (ns; -1: no limit). Every outcome (woken,
 * value changed, EINTR, timed out) returns: the caller re-checks its
 * condition and its deadline.
 */
IPCX__HIDDEN void ipcx__futex_wait(_Atomic uint32_t *w, uint32_t val,
                                   int64_t until);

/* ipcx__futex_wake - wake every sleeper on w. */
IPCX__HIDDEN void ipcx__futex_wake(_Atomic uint32_t *w);

#endif /* IPCX__FUTEX_H */
