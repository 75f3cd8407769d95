/*
 * test-time.c - deadlines (src/core/time.c): -1 and 0 need no clock, a
 * positive timeout becomes an absolute deadline, the time left rounds up
 * and saturates, and ipcx__poll1 goes on after EINTR with the time left.
 * Bounds only ever in the safe direction: no test depends on speed.
 */
#include "ipcx.h"
#include "internal.h"
#include "t.h"

#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static void test_deadlines(void)
{
	int64_t t0 = ipcx__now_ns(), d;

	T_ASSERT(ipcx__deadline(-1) == -1);
	T_ASSERT(ipcx__deadline(0) == 0);
	T_ASSERT(!ipcx__expired(-1));
	T_ASSERT(ipcx__expired(0));
	T_ASSERT(ipcx__remaining_ms(-1) == -1);
	T_ASSERT(ipcx__remaining_ms(0) == 0);
	d = ipcx__deadline(10000);
	T_ASSERT(d >= t0 + 10000 * IPCX__NS_PER_MS);
	T_ASSERT(ipcx__remaining_ms(d) <= 10000);
	T_ASSERT(!ipcx__expired(d));
	/* Far in the future: saturates at INT_MAX ms. */
	T_ASSERT(ipcx__remaining_ms(INT64_MAX) == INT_MAX);
	/* The clock never goes back. */
	T_ASSERT(ipcx__now_ns() >= t0);
}

static void on_alarm(int sig)
{
	(void)sig;
}

static void test_poll1(void)
{
	struct sigaction sa;
	struct itimerval it = {.it_value = {.tv_usec = 20000}};
	int64_t t0, d;
	int p[2];

	T_ASSERT(pipe(p) == 0);
	T_EXPECT(ipcx__poll1(p[0], POLLIN, 0), IPCX_ETIMEDOUT);
	t_write_all(p[1], "x", 1);
	T_ASSERT(ipcx__poll1(p[0], POLLIN, -1) & POLLIN);
	T_ASSERT(read(p[0], &sa, 1) == 1);

	/* A signal (no SA_RESTART) in the middle: still waits it all. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	T_ASSERT(sigaction(SIGALRM, &sa, NULL) == 0);
	t0 = ipcx__now_ns();
	d = ipcx__deadline(200);
	T_ASSERT(setitimer(ITIMER_REAL, &it, NULL) == 0);
	T_EXPECT(ipcx__poll1(p[0], POLLIN, d), IPCX_ETIMEDOUT);
	T_ASSERT(ipcx__now_ns() >= t0 + 200 * IPCX__NS_PER_MS);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	test_deadlines();
	test_poll1();
	return T_EXIT_PASS;
}
