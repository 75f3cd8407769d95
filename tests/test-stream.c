/*
 * test-stream.c - the framed-stream layer (src/core/stream.c), fed through
 * socketpairs and pipes directly, below any transport.
 *
 * Wire format, frames split at every byte, many frames per read, a frame
 * larger than the read buffer interrupted by a timeout and finished with a
 * different buffer, ENOBUFS, clean and torn end of stream, oversized
 * headers, a send timing out mid-frame, raw mode, SIGPIPE, the pollset
 * (solo) and the fan-in with reply-to-last.
 */
#include "ipcx.h"
#include "stream.h"
#include "t.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static struct ipcx__ep ep;
static ipcx_chan ch;

static void reset_ep(void)
{
	ipcx__ep_defaults(&ep, IPCX__S_UNIX);
	memset(&ch, 0, sizeof(ch));
}

static void pair(int sv[2])
{
	T_ASSERT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	                    0, sv) == 0);
}

static void put_all(int fd, const void *b, size_t n)
{
	T_ASSERT(write(fd, b, n) == (ssize_t)n);
}

static void test_wire_format(void)
{
	struct ipcx__stream st;
	uint8_t raw[16];
	int sv[2];

	reset_ep();
	pair(sv);
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

static void test_split_and_batched(void)
{
	struct ipcx__stream st;
	uint8_t wire[64], buf[64];
	size_t w = 0;
	int sv[2];

	reset_ep();
	pair(sv);
	ipcx__stream_init(&st, sv[0], IPCX__ST_SOCK, &ep, "test");
	/* Three frames: "abc", "", "defgh". */
	memcpy(wire + w, "\0\0\0\3abc", 7), w += 7;
	memcpy(wire + w, "\0\0\0\0", 4), w += 4;
	memcpy(wire + w, "\0\0\0\5defgh", 9), w += 9;

	/* One byte at a time: nothing until a frame is whole. */
	for (size_t i = 0; i < 6; i++) {
		put_all(sv[1], wire + i, 1);
		T_EXPECT(ipcx__stream_try(&st, buf, sizeof(buf), &ch),
		         IPCX_EAGAIN);
		T_ASSERT(!ipcx__stream_ready(&st));
	}
	put_all(sv[1], wire + 6, 1);
	T_EXPECT(ipcx__stream_try(&st, buf, sizeof(buf), &ch), 3);
	T_ASSERT(memcmp(buf, "abc", 3) == 0);

	/* The rest in one go: one read, two frames, the second buffered. */
	put_all(sv[1], wire + 7, w - 7);
	T_EXPECT(ipcx__stream_try(&st, buf, sizeof(buf), &ch), 0);
	T_ASSERT(ipcx__stream_ready(&st));
	T_EXPECT(ipcx__stream_recv(&st, buf, sizeof(buf), &ch, 0), 5);
	T_ASSERT(memcmp(buf, "defgh", 5) == 0);
	T_ASSERT(!ipcx__stream_ready(&st));
	T_EXPECT(ipcx__stream_recv(&st, buf, sizeof(buf), &ch, 0),
	         IPCX_ETIMEDOUT);

	/* Clean end of stream at a boundary: hup. */
	close(sv[1]);
	T_EXPECT(ipcx__stream_recv(&st, buf, sizeof(buf), &ch, 1000),
	         IPCX_EPEER);
	T_ASSERT(st.hup);
	ipcx__stream_fini(&st);
}

static void test_enobufs(void)
{
	struct ipcx__stream st;
	uint8_t msg[300], buf[300];
	int sv[2];

	reset_ep();
	pair(sv);
	ipcx__stream_init(&st, sv[0], IPCX__ST_SOCK, &ep, "test");
	t_fill(msg, sizeof(msg), 4);
	T_OK(ipcx__stream_send(&st, msg, 300, -1));
	{
		struct ipcx__stream peer;
		ipcx__stream_init(&peer, sv[1], IPCX__ST_SOCK, &ep, "peer");
		T_EXPECT(ipcx__stream_recv(&peer, buf, 10, &ch, 1000),
		         IPCX_ENOBUFS);
		T_ASSERT(ch.has_pending && ch.pending == 300);
		T_EXPECT(ipcx__stream_recv(&peer, buf, 300, &ch, 1000), 300);
		T_ASSERT(!ch.has_pending);
		T_ASSERT(t_same(buf, 300, 4));
		ipcx__stream_fini(&peer);
	}
	ipcx__stream_fini(&st);
}

/*
 * A 200 KiB frame (larger than the 64 KiB read buffer): half arrives, the
 * receive times out, the rest arrives, a receive with a different buffer
 * gets it whole. Then the same with a frame right behind it.
 */
static void test_big_interrupted(void)
{
	size_t n = 200u << 10;
	uint8_t *msg = malloc(n + 64), *b1 = malloc(n), *b2 = malloc(n);
	uint8_t hdr[4];
	struct ipcx__stream st;
	int sv[2], sz = 1 << 20;

	T_ASSERT(msg && b1 && b2);
	reset_ep();
	pair(sv);
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	ipcx__stream_init(&st, sv[0], IPCX__ST_SOCK, &ep, "test");
	t_fill(msg, n, 8);
	ipcx__frame_put(hdr, (uint32_t)n);
	put_all(sv[1], hdr, 4);
	put_all(sv[1], msg, 1000);
	T_EXPECT(ipcx__stream_recv(&st, b1, n, &ch, 10), IPCX_ETIMEDOUT);
	/* What is kept is sized by what arrived, not by the header. */
	T_ASSERT(st.rcap > IPCX__RBUF && st.rcap < n);
	put_all(sv[1], msg + 1000, 70000);
	T_EXPECT(ipcx__stream_try(&st, b2, n, &ch), IPCX_EAGAIN);
	T_EXPECT(ipcx__stream_recv(&st, b2, 10, &ch, 0), IPCX_ENOBUFS);
	for (size_t off = 71000; off < n;) {
		size_t k = n - off < 60000 ? n - off : 60000;
		put_all(sv[1], msg + off, k);
		off += k;
	}
	put_all(sv[1], "\0\0\0\1Z", 5);
	memset(b2, 0, n);
	T_EXPECT(ipcx__stream_recv(&st, b2, n, &ch, 1000), (ssize_t)n);
	T_ASSERT(t_same(b2, n, 8));
	T_EXPECT(ipcx__stream_recv(&st, b1, n, &ch, 1000), 1);
	T_ASSERT(b1[0] == 'Z');
	/* The grown buffer went back to its normal size. */
	T_ASSERT(st.rcap == IPCX__RBUF);

	/* Straight into the caller's buffer, no timeout. */
	put_all(sv[1], hdr, 4);
	for (size_t off = 0; off < n;) {
		size_t k = n - off < 60000 ? n - off : 60000;
		put_all(sv[1], msg + off, k);
		off += k;
	}
	T_EXPECT(ipcx__stream_recv(&st, b1, n, &ch, 1000), (ssize_t)n);
	T_ASSERT(t_same(b1, n, 8));

	/* Torn: half a big frame and the peer goes. */
	put_all(sv[1], hdr, 4);
	put_all(sv[1], msg, 5000);
	close(sv[1]);
	T_EXPECT(ipcx__stream_recv(&st, b1, n, &ch, 1000), IPCX_EPEER);
	T_ASSERT(!st.hup);
	T_EXPECT(ipcx__stream_recv(&st, b1, n, &ch, 1000), IPCX_EPEER);
	T_ASSERT(st.hup);
	ipcx__stream_fini(&st);
	free(msg);
	free(b1);
	free(b2);
}

static void test_oversize_header(void)
{
	struct ipcx__stream st;
	uint8_t buf[16];
	int sv[2];

	reset_ep();
	ep.maxmsg = 1024;
	pair(sv);
	ipcx__stream_init(&st, sv[0], IPCX__ST_SOCK, &ep, "test");
	put_all(sv[1], "\0\0\4\1", 4); /* 1025 */
	T_EXPECT(ipcx__stream_recv(&st, buf, sizeof(buf), &ch, 1000),
	         IPCX_EMSGSIZE);
	T_ASSERT(strstr(ipcx_errmsg(), "1025") != NULL);
	T_ASSERT(strstr(ipcx_errmsg(), "?maxmsg=") != NULL);
	T_ASSERT(st.killed);
	T_ASSERT(ipcx__stream_ready(&st));
	T_EXPECT(ipcx__stream_recv(&st, buf, sizeof(buf), &ch, 0), IPCX_ESTATE);
	T_EXPECT(ipcx__stream_send(&st, "x", 1, 0), IPCX_ESTATE);
	/* The peer was told (shutdown). */
	T_ASSERT(read(sv[1], buf, sizeof(buf)) == 0);
	T_EXPECT(ipcx__stream_send(&st, buf, 1025, 0), IPCX_ESTATE);
	ipcx__stream_fini(&st);
	close(sv[1]);

	/* The sender's own limit. */
	pair(sv);
	ipcx__stream_init(&st, sv[0], IPCX__ST_SOCK, &ep, "test");
	T_EXPECT(ipcx__stream_send(&st, buf, 1025, 0), IPCX_EMSGSIZE);
	ipcx__stream_fini(&st);
	close(sv[1]);
}

static void test_send_timeout_breaks(void)
{
	size_t n = 4u << 20;
	uint8_t *msg = calloc(1, n);
	struct ipcx__stream st;
	int sv[2];

	T_ASSERT(msg);
	reset_ep();
	pair(sv);
	ipcx__stream_init(&st, sv[0], IPCX__ST_SOCK, &ep, "test");
	T_EXPECT(ipcx__stream_send(&st, msg, n, 20), IPCX_ETIMEDOUT);
	T_ASSERT(st.broken);
	T_EXPECT(ipcx__stream_send(&st, "x", 1, 0), IPCX_ESTATE);
	ipcx__stream_fini(&st);
	close(sv[1]);

	/* Nothing fits: timeout with nothing sent, not broken. */
	pair(sv);
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

static int readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static void test_solo_pollset(void)
{
	struct ipcx__solo so;
	char buf[8];
	int sv[2], fd, nfd;

	reset_ep();
	pair(sv);
	ipcx__solo_init(&so, sv[0], IPCX__ST_SOCK, &ep, "solo");
	fd = ipcx__solo_fd(&so);
	T_ASSERT(fd >= 0 && !readable(fd));
	put_all(sv[1], "\0\0\0\1a\0\0\0\1b", 10);
	T_ASSERT(readable(fd));
	T_EXPECT(ipcx__solo_recv(&so, buf, sizeof(buf), &ch, 0), 1);
	T_ASSERT(readable(fd)); /* "b" is buffered */
	T_EXPECT(ipcx__solo_recv(&so, buf, sizeof(buf), &ch, 0), 1);
	T_ASSERT(!readable(fd));
	/* Swapping the fd keeps the pollable fd working. */
	close(sv[1]);
	pair(sv);
	nfd = dup(sv[0]);
	close(sv[0]);
	ipcx__solo_swap_fd(&so, nfd);
	T_ASSERT(!readable(fd));
	put_all(sv[1], "\0\0\0\1c", 5);
	T_ASSERT(readable(fd));
	T_EXPECT(ipcx__solo_recv(&so, buf, sizeof(buf), &ch, 0), 1);
	T_ASSERT(buf[0] == 'c');
	ipcx__solo_fini(&so);
	close(sv[1]);
}

static int admitted;

static int admit_all(struct ipcx__fanin *f, struct ipcx__stream *c)
{
	(void)f;
	c->peer.pid = 4242;
	admitted++;
	return 0;
}

static void test_fanin(void)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	socklen_t alen;
	struct ipcx__fanin f;
	const char *name = t_name("fan");
	int lfd, c[3], fd;
	char buf[16];

	reset_ep();
	a.sun_path[0] = '\0';
	memcpy(a.sun_path + 1, name, strlen(name));
	alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
	                   strlen(name));
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	T_ASSERT(lfd >= 0);
	T_ASSERT(bind(lfd, (struct sockaddr *)&a, alen) == 0);
	T_ASSERT(listen(lfd, 8) == 0);
	T_OK(ipcx__fanin_init(&f, lfd, &ep, "fan", admit_all));
	T_EXPECT(ipcx__fanin_send(&f, "x", 1, 0), IPCX_ESTATE);
	for (int i = 0; i < 3; i++) {
		c[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		T_ASSERT(connect(c[i], (struct sockaddr *)&a, alen) == 0);
	}
	fd = ipcx__fanin_fd(&f);
	T_ASSERT(readable(fd));
	T_EXPECT(ipcx__fanin_recv(&f, buf, sizeof(buf), &ch, 0),
	         IPCX_ETIMEDOUT);
	T_ASSERT(admitted == 3 && f.nconn == 3);
	put_all(c[1], "\0\0\0\2c1", 6);
	T_EXPECT(ipcx__fanin_recv(&f, buf, sizeof(buf), &ch, 1000), 2);
	T_ASSERT(memcmp(buf, "c1", 2) == 0);
	T_ASSERT(ch.peer.pid == 4242);
	T_OK(ipcx__fanin_send(&f, "r", 1, 1000));
	T_EXPECT(read(c[1], buf, sizeof(buf)), 5);
	/* c0 closes cleanly: dropped without a word. */
	close(c[0]);
	T_EXPECT(ipcx__fanin_recv(&f, buf, sizeof(buf), &ch, 20),
	         IPCX_ETIMEDOUT);
	T_ASSERT(f.nconn == 2);
	/* c2 sends two frames and a half, then dies: two messages, then
	 * IPCX_EPEER for the torn one. */
	put_all(c[2], "\0\0\0\1a\0\0\0\1b\0\0\0\5ab", 17);
	close(c[2]);
	T_EXPECT(ipcx__fanin_recv(&f, buf, sizeof(buf), &ch, 1000), 1);
	T_ASSERT(readable(fd));
	T_EXPECT(ipcx__fanin_recv(&f, buf, sizeof(buf), &ch, 1000), 1);
	T_ASSERT(buf[0] == 'b');
	T_EXPECT(ipcx__fanin_recv(&f, buf, sizeof(buf), &ch, 1000), IPCX_EPEER);
	T_ASSERT(f.nconn == 1);
	/* The last sender (c2) is gone: replying says so. */
	T_EXPECT(ipcx__fanin_send(&f, "x", 1, 0), IPCX_EPEER);
	/* ENOBUFS on c1: the retry gets exactly that message. */
	put_all(c[1], "\0\0\0\6abcdef", 10);
	T_EXPECT(ipcx__fanin_recv(&f, buf, 3, &ch, 1000), IPCX_ENOBUFS);
	T_ASSERT(ch.pending == 6);
	T_EXPECT(ipcx__fanin_recv(&f, buf, sizeof(buf), &ch, 1000), 6);
	ipcx__fanin_fini(&f);
	ipcx__fanin_fini(&f); /* twice is fine */
	close(c[1]);
}

int main(void)
{
	t_leak_begin();
	test_wire_format();
	test_split_and_batched();
	test_enobufs();
	test_big_interrupted();
	test_oversize_header();
	test_send_timeout_breaks();
	test_raw_and_sigpipe();
	test_solo_pollset();
	test_fanin();
	t_leak_end();
	return T_EXIT_PASS;
}
