/*
 * time.c - deadlines. A timeout in ms becomes an absolute CLOCK_MONOTONIC
 * deadline once, at the API boundary, so every retry after EINTR or a
 * spurious wake-up waits only for the time left.
 */
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <time.h>

int64_t ipcx__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * IPCX__NS_PER_S + ts.tv_nsec;
}

/*
 * Every ipcx_send/ipcx_recv computes a deadline, so this is on the fast
 * path: timeout 0 needs no clock at all (deadline 0 is always in the past)
 * and -1 none either. A positive timeout reads the precise clock:
 * CLOCK_MONOTONIC_COARSE would cost a fifth, but on this tickless kernel it
 * was seen up to 8 ms behind, which would end waits early.
 */
int64_t ipcx__deadline(int timeout_ms)
{
	if (timeout_ms < 0)
		return -1;
	if (timeout_ms == 0)
		return 0;
	return ipcx__now_ns() + (int64_t)timeout_ms * IPCX__NS_PER_MS;
}

struct timespec *ipcx__timespec_left(int64_t deadline, struct timespec *ts)
{
	int64_t left;

	if (deadline < 0)
		return NULL;
	left = deadline - ipcx__now_ns();
	if (left < 0)
		left = 0;
	ts->tv_sec = (time_t)(left / 1000000000);
	ts->tv_nsec = (long)(left % 1000000000);
	return ts;
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
	left = (left + IPCX__NS_PER_MS - 1) / IPCX__NS_PER_MS;
	return left > INT_MAX ? INT_MAX : (int)left;
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
