/*
 * futex.c - sleeping on and waking a shared 32-bit futex word with an
 * absolute deadline (see futex.h).
 */
#include "futex.h"

#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

void ipcx__futex_wait(_Atomic uint32_t *w, uint32_t val, int64_t until)
{
	struct timespec ts, *tp = NULL;

	/* FUTEX_WAIT takes a relative timeout: compute it from what is
	 * left, so a retry after a spurious wake-up waits no longer. */
	if (until >= 0) {
		int64_t left = until - ipcx__now_ns();
		if (left <= 0)
			return;
		ts.tv_sec = (time_t)(left / 1000000000);
		ts.tv_nsec = (long)(left % 1000000000);
		tp = &ts;
	}
	syscall(SYS_futex, (uint32_t *)w, FUTEX_WAIT, val, tp, NULL, 0);
}

void ipcx__futex_wake(_Atomic uint32_t *w)
{
	syscall(SYS_futex, (uint32_t *)w, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}
