/*
 * test-stream-send.c - the stream send path (src/core/stream-send.c): the
 * bytes on the wire, the sender's own size limit, a send timing out
 * mid-frame, raw mode and SIGPIPE on pipes; batches (ipcx__stream_sendv)
 * into a pipe that fills, a socket that times out, a shared blocking pipe.
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

/* Receive n messages of lens[] from r in order (seq from 0), then none. */
static void recv_batch(struct ipcx__stream *r, const size_t *lens, int n)
{
	static uint8_t buf[4096];

	for (int i = 0; i < n; i++) {
		ssize_t got = ipcx__stream_recv(r, buf, sizeof(buf), &ch, 1000);
		T_EXPECT(got, (ssize_t)lens[i]);
		T_ASSERT(t_msg_is(buf, lens[i], (uint32_t)i));
	}
	T_EXPECT(ipcx__stream_recv(r, buf, sizeof(buf), &ch, 0),
	         IPCX_ETIMEDOUT);
}

/*
 * sendv with timeout 0 into a pipe that fills: whole frames of at most
 * PIPE_BUF bytes a write, so every call returns how many went, none is cut
 * and the stream never breaks; the receiver gets exactly those. Then a
 * positive timeout: the messages counted arrive whole, and a cut one (if
 * any) has put the stream out of step.
 */
static void test_sendv_full_pipe(void)
{
	enum { N = 3000 };
	static uint8_t data[N][200];
	static struct iovec v[N];
	static size_t lens[N];
	struct ipcx__stream w, r;
	static uint8_t buf0[256];
	int p[2], at = 0, calls = 0, ret;

	reset_ep();
	T_ASSERT(pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0);
	ipcx__stream_init(&r, p[0], IPCX__ST_PIPE, &ep, "r");
	ipcx__stream_init(&w, p[1], IPCX__ST_PIPE, &ep, "w");
	for (int i = 0; i < N; i++) {
		lens[i] = 1 + t_rand_below(200);
		t_msg_fill(data[i], lens[i], (uint32_t)i);
		v[i].iov_base = data[i];
		v[i].iov_len = lens[i];
	}
	/* ~300 KiB: more than the pipe holds. */
	while (at < N) {
		calls++;
		ret = ipcx__stream_sendv(&w, v + at, N - at, ipcx__deadline(0));
		if (ret == IPCX_ETIMEDOUT)
			break;
		T_ASSERT(ret > 0 && ret <= N - at);
		T_ASSERT(!w.broken);
		at += ret;
	}
	T_ASSERT(at > 0 && at < N);
	T_ASSERT(!w.broken);
	T_ASSERT(strstr(ipcx_errmsg(), "nothing sent") != NULL);
	recv_batch(&r, lens, at);
	/* Room again: the rest goes on where it stopped. */
	T_EXPECT(ipcx__stream_sendv(&w, v + at, 10, 0), 10);
	for (int i = 0; i < 10; i++) {
		uint8_t buf[256];
		T_EXPECT(ipcx__stream_recv(&r, buf, sizeof(buf), &ch, 0),
		         (ssize_t)lens[at + i]);
		T_ASSERT(t_msg_is(buf, lens[at + i], (uint32_t)(at + i)));
	}
	/* Full again, with 5 ms: what is counted arrives whole. */
	recv_batch(&r, lens + at, 0);
	{
		int from = at + 10, got;
		ret = ipcx__stream_sendv(&w, v + from, N - from,
		                         ipcx__deadline(5));
		T_ASSERT(ret > 0 && ret < N - from);
		for (int i = 0; i < ret; i++) {
			uint8_t buf[256];
			got = (int)ipcx__stream_recv(&r, buf, sizeof(buf), &ch,
			                             0);
			T_EXPECT(got, (int)lens[from + i]);
			T_ASSERT(t_msg_is(buf, lens[from + i],
			                  (uint32_t)(from + i)));
		}
		if (w.broken)
			T_EXPECT(ipcx__stream_sendv(&w, v, 1, 0), IPCX_ESTATE);
		else
			T_EXPECT(
			    ipcx__stream_recv(&r, buf0, sizeof(buf0), &ch, 0),
			    IPCX_ETIMEDOUT);
	}
	ipcx__stream_fini(&r);
	ipcx__stream_fini(&w);

	/* The reader gone: EPEER for the batch, no SIGPIPE left pending. */
	T_ASSERT(pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0);
	close(p[0]);
	signal(SIGPIPE, SIG_DFL);
	ipcx__stream_init(&w, p[1], IPCX__ST_PIPE, &ep, "w");
	T_EXPECT(ipcx__stream_sendv(&w, v, 5, -1), IPCX_EPEER);
	{
		sigset_t pend;
		sigemptyset(&pend);
		sigpending(&pend);
		T_ASSERT(!sigismember(&pend, SIGPIPE));
	}
	ipcx__stream_fini(&w);
}

/*
 * A socket has no atomic writes: a batch that times out may cut a frame.
 * The return still counts exactly the whole ones, which arrive; a cut one
 * puts the stream out of step.
 */
static void test_sendv_socket_timeout(void)
{
	enum { N = 2000, LEN = 1000 };
	static uint8_t data[N][LEN];
	static struct iovec v[N];
	static size_t lens[N];
	struct ipcx__stream w, r;
	int sv[2], ret;

	reset_ep();
	t_socketpair(sv);
	ipcx__stream_init(&w, sv[0], IPCX__ST_SOCK, &ep, "w");
	ipcx__stream_init(&r, sv[1], IPCX__ST_SOCK, &ep, "r");
	for (int i = 0; i < N; i++) {
		lens[i] = LEN;
		t_msg_fill(data[i], LEN, (uint32_t)i);
		v[i].iov_base = data[i];
		v[i].iov_len = LEN;
	}
	ret = ipcx__stream_sendv(&w, v, N, ipcx__deadline(20));
	T_ASSERT(ret > 0 && ret < N);
	if (w.broken)
		T_EXPECT(ipcx__stream_sendv(&w, v, 1, 0), IPCX_ESTATE);
	for (int i = 0; i < ret; i++) {
		uint8_t buf[LEN];
		T_EXPECT(ipcx__stream_recv(&r, buf, sizeof(buf), &ch, 1000),
		         LEN);
		T_ASSERT(t_msg_is(buf, LEN, (uint32_t)i));
	}
	if (!w.broken)
		recv_batch(&r, lens, 0);
	ipcx__stream_fini(&w);
	ipcx__stream_fini(&r);
}

/* A shared blocking pipe: writes of whole frames after POLLOUT. */
static void test_sendv_shared(void)
{
	static uint8_t data[100][300];
	struct iovec v[100];
	size_t lens[100];
	struct ipcx__stream w, r;
	int p[2];

	reset_ep();
	T_ASSERT(pipe2(p, O_CLOEXEC) == 0);
	T_ASSERT(fcntl(p[0], F_SETFL, O_NONBLOCK) == 0);
	ipcx__stream_init(&r, p[0], IPCX__ST_PIPE, &ep, "r");
	ipcx__stream_init(&w, p[1], IPCX__ST_SHARED, &ep, "w");
	for (int i = 0; i < 100; i++) {
		lens[i] = (size_t)i * 3;
		t_msg_fill(data[i], lens[i], (uint32_t)i);
		v[i].iov_base = data[i];
		v[i].iov_len = lens[i];
	}
	T_EXPECT(ipcx__stream_sendv(&w, v, 100, 1000), 100);
	recv_batch(&r, lens, 100);
	ipcx__stream_fini(&w);
	ipcx__stream_fini(&r);
}

int main(void)
{
	t_leak_begin();
	test_wire_format();
	test_sender_limit();
	test_send_timeout_breaks();
	test_raw_and_sigpipe();
	test_sendv_full_pipe();
	test_sendv_socket_timeout();
	test_sendv_shared();
	t_leak_end();
	return T_EXIT_PASS;
}
