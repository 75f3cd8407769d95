/*
 * time.c - deadlines. A timeout in ms becomes an absolute CLOCK_MONOTONIC
 * deadline once, at the API boundary, so every retry after EINTR or a
 * spurious wake-up waits only for the time left.
 */
#include "internal.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <time.h>

int64_t ipcx__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * The coarse clock's tick, read once. Relaxed atomics: every thread that
 * races here stores the same value.
 */
static _Atomic int64_t coarse_tick;

static int64_t coarse_tick_ns(void)
{
	int64_t t = atomic_load_explicit(&coarse_tick, memory_order_relaxed);
	struct timespec res;

	if (t == 0) {
		t = 4000000; /* HZ=250, if the kernel will not say */
		if (clock_getres(CLOCK_MONOTONIC_COARSE, &res) == 0)
			t = (int64_t)res.tv_sec * 1000000000 + res.tv_nsec;
		atomic_store_explicit(&coarse_tick, t, memory_order_relaxed);
	}
	return t;
}

/*
 * Every ipcx_send/ipcx_recv computes a deadline, so this is on the fast
 * path: a precise clock_gettime costs ~35 ns in this VM, a 0.3 us shm round
 * trip makes two. Timeout 0 needs no clock at all (deadline 0 is always in
 * the past), and a positive one reads CLOCK_MONOTONIC_COARSE (~7 ns), the
 * same time base one tick behind. Adding one tick makes the deadline never
 * early: coarse <= now < coarse + tick, so coarse + tick + T >= now + T.
 * It may be late by a tick (a few ms), which a ms timeout tolerates.
 * Expiry checks use the precise clock.
 */
int64_t ipcx__deadline(int timeout_ms)
{
	struct timespec ts;

	if (timeout_ms < 0)
		return -1;
	if (timeout_ms == 0)
		return 0;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec + coarse_tick_ns() +
	       (int64_t)timeout_ms * 1000000;
}

bool ipcx__expired(int64_t deadline)
{
	return deadline >= 0 && ipcx__now_ns() >= deadline;
}

int ipcx__remaining_ms(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - ipcx__now_ns();
	if (left <= 0)
		return 0;
	/* Round up: waking a little late beats spinning on a 0 ms poll. */
	left = (left + 999999) / 1000000;
	return left > 0x7fffffff ? 0x7fffffff : (int)left;
}

int ipcx__poll1(int fd, short events, int64_t deadline)
{
	struct pollfd p = {.fd = fd, .events = events};

	for (;;) {
		int r = poll(&p, 1, ipcx__remaining_ms(deadline));
		if (r > 0)
			return p.revents;
		if (r == 0)
			return ipcx__err(IPCX_ETIMEDOUT, "timed out");
		if (errno != EINTR)
			return ipcx__errno(errno, "poll");
		/* EINTR: go round again with the time left. */
	}
}
