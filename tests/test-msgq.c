/*
 * test-msgq.c - the message-queue helpers (src/core/msgq.c): a /proc/sys
 * number, or the default when the file is missing or not a number; a held
 * message given to a big enough buffer, or kept (IPCX_ENOBUFS, pending)
 * for a small one.
 */
#include "internal.h"
#include "t.h"

#include <string.h>

static void test_sysctl(void)
{
	T_EXPECT(ipcx__sysctl("/proc/sys/nope/none", 42), 42);
	T_EXPECT(ipcx__sysctl("/proc/self/comm", 7), 7); /* not a number */
	T_ASSERT(ipcx__sysctl("/proc/sys/kernel/msgmax", -1) > 0);
}

static void test_held(void)
{
	ipcx_chan ch;
	char buf[8];
	ssize_t got = 5;

	memset(&ch, 0, sizeof(ch));
	T_EXPECT(ipcx__held_give(&ch, "mq://x", "hello", &got, buf, 4),
	         IPCX_ENOBUFS);
	T_ASSERT(ch.has_pending && ch.pending == 5 && got == 5);
	T_ASSERT(strstr(ipcx_errmsg(), "mq://x") != NULL);
	T_EXPECT(ipcx__held_give(&ch, "mq://x", "hello", &got, buf, 5), 5);
	T_ASSERT(got == -1 && memcmp(buf, "hello", 5) == 0);
	got = 0;
	T_EXPECT(ipcx__held_give(&ch, "mq://x", "", &got, NULL, 0), 0);
	T_ASSERT(got == -1);
}

int main(void)
{
	test_sysctl();
	test_held();
	return T_EXIT_PASS;
}
