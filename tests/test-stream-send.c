/*
 * test-stream-send.c - the stream send path (src/core/stream-send.c): the
 * bytes on the wire, the sender's own size limit, a send timing out
 * mid-frame, raw mode and SIGPIPE on pipes.
 */
#include "ipcx.h"
#include "stream.h"
#include "t.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static struct ipcx__ep ep;
static ipcx_chan ch;

static void reset_ep(void)
{
	ipcx__ep_defaults(&ep, IPCX__S_UNIX);
	memset(&ch, 0, sizeof(ch));
}

static void test_wire_format(void)
{
	struct ipcx__stream st;
	uint8_t raw[16];
	int sv[2];

	reset_ep();
	t_socketpair(sv);
	ipcx__stream_init(&st, sv[0], IPCX__ST_SOCK, &ep, "test");
	T_OK(ipcx__stream_send(&st, "hi", 2, -1));
	T_OK(ipcx__stream_send(&st, "", 0, -1));
	T_EXPECT(read(sv[1], raw, sizeof(raw)), 10);
	T_ASSERT(memcmp(raw, "\0\0\0\2hi\0\0\0\0", 10) == 0);
	ipcx__stream_fini(&st);
	T_ASSERT(st.fd == -1);
	ipcx__stream_fini(&st); /* twice is fine */
	close(sv[1]);
}

static void test_sender_limit(void)
{
	struct ipcx__stream st;
	uint8_t buf[1025] = {0};
	int sv[2];

	reset_ep();
	ep.maxmsg = 1024;
	/* The sender's own limit: nothing goes out. */
	t_socketpair(sv);
	ipcx__stream_init(&st, sv[0], IPCX__ST_SOCK, &ep, "test");
	T_EXPECT(ipcx__stream_send(&st, buf, 1025, 0), IPCX_EMSGSIZE);
	ipcx__stream_fini(&st);
	close(sv[1]);
	T_ASSERT(strstr(ipcx_errmsg(), "maxmsg") != NULL);
}

static void test_send_timeout_breaks(void)
{
	size_t n = 4u << 20;
	uint8_t *msg = calloc(1, n);
	struct ipcx__stream st;
	int sv[2];

	T_ASSERT(msg);
	reset_ep();
	t_socketpair(sv);
	ipcx__stream_init(&st, sv[0], IPCX__ST_SOCK, &ep, "test");
	T_EXPECT(ipcx__stream_send(&st, msg, n, 20), IPCX_ETIMEDOUT);
	T_ASSERT(st.broken);
	T_EXPECT(ipcx__stream_send(&st, "x", 1, 0), IPCX_ESTATE);
	ipcx__stream_fini(&st);
	close(sv[1]);

	/* Nothing fits: timeout with nothing sent, not broken. */
	t_socketpair(sv);
	ipcx__stream_init(&st, sv[0], IPCX__ST_SOCK, &ep, "test");
	while (ipcx__stream_send(&st, msg, 1000, 0) == 0)
		;
	T_ASSERT(!st.broken || strstr(ipcx_errmsg(), "of step") != NULL);
	ipcx__stream_fini(&st);
	close(sv[1]);
	free(msg);
}

static void test_raw_and_sigpipe(void)
{
	struct ipcx__stream w, r;
	char buf[8];
	sigset_t pend;
	int p[2];

	reset_ep();
	ep.raw = true;
	T_ASSERT(pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0);
	ipcx__stream_init(&r, p[0], IPCX__ST_PIPE, &ep, "r");
	ipcx__stream_init(&w, p[1], IPCX__ST_PIPE, &ep, "w");
	T_OK(ipcx__stream_send(&w, "xy", 2, 0));
	T_OK(ipcx__stream_send(&w, "z", 1, 0));
	T_EXPECT(ipcx__stream_recv(&r, buf, sizeof(buf), &ch, 0), 3);
	T_ASSERT(memcmp(buf, "xyz", 3) == 0);
	T_EXPECT(ipcx__stream_recv(&r, buf, 0, &ch, 0), 0);
	ipcx__stream_fini(&r);
	signal(SIGPIPE, SIG_DFL);
	T_EXPECT(ipcx__stream_send(&w, "q", 1, 0), IPCX_EPEER);
	sigemptyset(&pend);
	sigpending(&pend);
	T_ASSERT(!sigismember(&pend, SIGPIPE));

	/* The application blocks SIGPIPE itself: ours is consumed... */
	{
		sigset_t set, old;
		struct timespec zero = {0, 0};
		sigemptyset(&set);
		sigaddset(&set, SIGPIPE);
		pthread_sigmask(SIG_BLOCK, &set, &old);
		T_EXPECT(ipcx__stream_send(&w, "q", 1, 0), IPCX_EPEER);
		sigpending(&pend);
		T_ASSERT(!sigismember(&pend, SIGPIPE));
		/* ...but one of its own that was pending stays pending. */
		T_ASSERT(pthread_kill(pthread_self(), SIGPIPE) == 0);
		T_EXPECT(ipcx__stream_send(&w, "q", 1, 0), IPCX_EPEER);
		sigpending(&pend);
		T_ASSERT(sigismember(&pend, SIGPIPE));
		T_ASSERT(sigtimedwait(&set, NULL, &zero) == SIGPIPE);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	ipcx__stream_fini(&w);
}

int main(void)
{
	t_leak_begin();
	test_wire_format();
	test_sender_limit();
	test_send_timeout_breaks();
	test_raw_and_sigpipe();
	t_leak_end();
	return T_EXIT_PASS;
}
