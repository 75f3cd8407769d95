/*
 * test-pipe.c - pipe:// and ipcx_pipe() (src/transport/pipe.c).
 *
 * Round trips, boundaries, sizes 0/1/maxmsg/maxmsg+1, 1 MiB through a
 * forked reader, ENOBUFS and retry, timeouts, peer gone on both sides (no
 * SIGPIPE), a hostile 0xFFFFFFFF header, a writer dying mid-frame, raw
 * mode, stdin/stdout of a child (flags of the shared fds untouched),
 * inherited non-pipe fds, and the pollable fd seeing buffered frames.
 */
#include "ipcx.h"
#include "t.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void test_roundtrip_and_boundaries(void)
{
	ipcx_chan *rd, *wr;
	uint8_t buf[256], msg[128];

	T_OK(ipcx_pipe(NULL, &rd, &wr));
	T_OK(ipcx_send(wr, "hello", 5, 1000));
	T_EXPECT(ipcx_recv(rd, buf, sizeof(buf), 1000), 5);
	T_ASSERT(memcmp(buf, "hello", 5) == 0);

	/* 100 messages of sizes 0..99 back to back keep their edges. */
	for (unsigned i = 0; i < 100; i++) {
		t_fill(msg, i, i);
		T_OK(ipcx_send(wr, msg, i, 1000));
	}
	for (unsigned i = 0; i < 100; i++) {
		T_EXPECT(ipcx_recv(rd, buf, sizeof(buf), 1000), i);
		T_ASSERT(t_same(buf, i, i));
	}
	T_EXPECT(ipcx_recv(rd, buf, sizeof(buf), 0), IPCX_ETIMEDOUT);
	/* Direction is enforced by the core. */
	T_EXPECT(ipcx_send(rd, "x", 1, 0), IPCX_ESTATE);
	T_OK(ipcx_close(rd));
	T_OK(ipcx_close(wr));
}

static void test_sizes(void)
{
	ipcx_chan *rd, *wr;
	static uint8_t msg[1025], buf[1025];

	T_OK(ipcx_pipe("maxmsg=1024", &rd, &wr));
	t_fill(msg, sizeof(msg), 7);
	T_OK(ipcx_send(wr, msg, 0, 1000));
	T_OK(ipcx_send(wr, msg, 1, 1000));
	T_OK(ipcx_send(wr, msg, 1024, 1000));
	T_EXPECT(ipcx_send(wr, msg, 1025, 1000), IPCX_EMSGSIZE);
	T_ASSERT(strstr(ipcx_errmsg(), "maxmsg") != NULL);
	T_EXPECT(ipcx_recv(rd, buf, sizeof(buf), 1000), 0);
	T_EXPECT(ipcx_recv(rd, buf, sizeof(buf), 1000), 1);
	T_EXPECT(ipcx_recv(rd, buf, sizeof(buf), 1000), 1024);
	T_ASSERT(t_same(buf, 1024, 7));
	/* The refused message sent nothing. */
	T_EXPECT(ipcx_recv(rd, buf, sizeof(buf), 0), IPCX_ETIMEDOUT);
	/* A zero-length receive buffer takes an empty message. */
	T_OK(ipcx_send(wr, NULL, 0, 1000));
	T_EXPECT(ipcx_recv(rd, NULL, 0, 1000), 0);
	T_OK(ipcx_close(rd));
	T_OK(ipcx_close(wr));
	T_EXPECT(ipcx_pipe("fd=3", &rd, &wr), IPCX_EOPTION);
	T_EXPECT(ipcx_pipe("bogus", &rd, &wr), IPCX_EOPTION);
}

struct big {
	ipcx_chan *rd, *wr;
	size_t n;
};

/* Child: receive the big message, check it, send it back. */
static int big_child(void *arg)
{
	struct big *b = arg;
	void *m = NULL;
	ssize_t n;

	ipcx_close(b->wr);
	n = ipcx_recv_alloc(b->rd, &m, 10000);
	if (n != (ssize_t)b->n || !t_same(m, b->n, 3))
		return 1;
	free(m);
	ipcx_close(b->rd);
	return 0;
}

static void test_1mib(void)
{
	struct big b = {.n = 1u << 20};
	uint8_t *m = malloc(b.n);
	pid_t pid;

	T_ASSERT(m != NULL);
	t_fill(m, b.n, 3);
	T_OK(ipcx_pipe(NULL, &b.rd, &b.wr));
	pid = t_fork(big_child, &b);
	T_OK(ipcx_close(b.rd));
	T_OK(ipcx_send(b.wr, m, b.n, 10000));
	t_child_ok(pid);
	T_OK(ipcx_close(b.wr));
	free(m);
}

static void test_enobufs(void)
{
	ipcx_chan *rd, *wr;
	uint8_t msg[100], buf[100];

	T_OK(ipcx_pipe(NULL, &rd, &wr));
	t_fill(msg, 100, 9);
	T_OK(ipcx_send(wr, msg, 100, 1000));
	T_OK(ipcx_send(wr, "z", 1, 1000));
	T_EXPECT(ipcx_pending(rd), IPCX_ESTATE);
	T_EXPECT(ipcx_recv(rd, buf, 10, 1000), IPCX_ENOBUFS);
	T_EXPECT(ipcx_pending(rd), 100);
	T_EXPECT(ipcx_recv(rd, buf, 99, 1000), IPCX_ENOBUFS);
	T_EXPECT(ipcx_recv(rd, buf, 100, 1000), 100);
	T_ASSERT(t_same(buf, 100, 9));
	T_EXPECT(ipcx_recv(rd, buf, 1, 1000), 1);
	T_ASSERT(buf[0] == 'z');
	T_OK(ipcx_close(rd));
	T_OK(ipcx_close(wr));
}

static void test_timeouts(void)
{
	ipcx_chan *rd, *wr;
	static uint8_t msg[300000], buf[300000]; /* past the 128 KiB pipe */
	long long t0;
	int n = 0, r;

	T_OK(ipcx_pipe(NULL, &rd, &wr));
	T_EXPECT(ipcx_recv(rd, buf, sizeof(buf), 0), IPCX_ETIMEDOUT);
	t0 = t_now_ms();
	T_EXPECT(ipcx_recv(rd, buf, sizeof(buf), 50), IPCX_ETIMEDOUT);
	T_ASSERT(t_now_ms() - t0 >= 45);

	/* Fill the pipe with 1000-byte messages: each goes whole or not at
	 * all (a frame <= PIPE_BUF is atomic), so the last one times out
	 * with nothing sent and the stream stays usable. */
	t_fill(msg, sizeof(msg), 1);
	while ((r = ipcx_send(wr, msg, 1000, 0)) == 0)
		n++;
	T_EXPECT(r, IPCX_ETIMEDOUT);
	T_ASSERT(n >= 15);
	t0 = t_now_ms();
	T_EXPECT(ipcx_send(wr, msg, 1000, 30), IPCX_ETIMEDOUT);
	T_ASSERT(t_now_ms() - t0 >= 25);
	for (int i = 0; i < n; i++)
		T_EXPECT(ipcx_recv(rd, buf, sizeof(buf), 1000), 1000);
	T_EXPECT(ipcx_recv(rd, buf, sizeof(buf), 0), IPCX_ETIMEDOUT);

	/* A big message times out halfway: the stream is out of step and
	 * refuses further sends with a message saying to reopen. */
	T_EXPECT(ipcx_send(wr, msg, sizeof(msg), 20), IPCX_ETIMEDOUT);
	T_ASSERT(strstr(ipcx_errmsg(), "reopen") != NULL);
	T_EXPECT(ipcx_send(wr, "x", 1, 0), IPCX_ESTATE);
	T_ASSERT(strstr(ipcx_errmsg(), "reopen") != NULL);
	/* The reader holds a partial frame: it times out and keeps it. */
	T_EXPECT(ipcx_recv(rd, buf, sizeof(buf), 20), IPCX_ETIMEDOUT);
	/* The writer goes: the half frame is discarded, never delivered. */
	T_OK(ipcx_close(wr));
	T_EXPECT(ipcx_recv(rd, buf, sizeof(buf), 1000), IPCX_EPEER);
	T_ASSERT(strstr(ipcx_errmsg(), "mid-message") != NULL);
	T_OK(ipcx_close(rd));
}

static bool sigpipe_pending(void)
{
	sigset_t s;

	sigemptyset(&s);
	sigpending(&s);
	return sigismember(&s, SIGPIPE) == 1;
}

static void test_peer_gone(void)
{
	ipcx_chan *rd, *wr;
	uint8_t buf[16];

	/* Writer leaves at a frame boundary: the queued message still comes,
	 * then IPCX_EPEER "peer closed". */
	T_OK(ipcx_pipe(NULL, &rd, &wr));
	T_OK(ipcx_send(wr, "last", 4, 1000));
	T_OK(ipcx_close(wr));
	T_EXPECT(ipcx_recv(rd, buf, sizeof(buf), 1000), 4);
	T_EXPECT(ipcx_recv(rd, buf, sizeof(buf), 1000), IPCX_EPEER);
	T_ASSERT(strstr(ipcx_errmsg(), "peer closed") != NULL);
	T_OK(ipcx_close(rd));

	/* Reader leaves: the writer gets IPCX_EPEER, not SIGPIPE (SIGPIPE
	 * is at its default action here, which would kill us), and no
	 * SIGPIPE is left pending. */
	signal(SIGPIPE, SIG_DFL);
	T_OK(ipcx_pipe(NULL, &rd, &wr));
	T_OK(ipcx_close(rd));
	T_EXPECT(ipcx_send(wr, "x", 1, 1000), IPCX_EPEER);
	T_EXPECT(ipcx_send(wr, "x", 1, 1000), IPCX_EPEER);
	T_ASSERT(!sigpipe_pending());
	T_OK(ipcx_close(wr));

	/* SIGPIPE ignored when the channel opens: sends write without
	 * blocking it (one system call), and a gone reader is still
	 * IPCX_EPEER. */
	signal(SIGPIPE, SIG_IGN);
	T_OK(ipcx_pipe(NULL, &rd, &wr));
	T_OK(ipcx_close(rd));
	T_EXPECT(ipcx_send(wr, "x", 1, 1000), IPCX_EPEER);
	T_ASSERT(!sigpipe_pending());
	T_OK(ipcx_close(wr));
	signal(SIGPIPE, SIG_DFL);
}

/* Child: write a header announcing 100 bytes, 10 of them, and die. */
static int torn_child(void *arg)
{
	int fd = *(int *)arg;
	uint8_t b[14] = {0, 0, 0, 100};

	if (write(fd, b, sizeof(b)) != (ssize_t)sizeof(b))
		return 1;
	_exit(0);
}

static void test_hostile_and_torn(void)
{
	char ep[64];
	ipcx_chan *rd;
	uint8_t buf[128];
	long long t0;
	int p[2];
	pid_t pid;

	/* A header announcing 0xFFFFFFFF: refused, never allocated, and the
	 * connection is closed (later receives say so). */
	T_ASSERT(pipe2(p, O_CLOEXEC) == 0);
	snprintf(ep, sizeof(ep), "pipe://?fd=%d", p[0]);
	T_OK(ipcx_open(ep, IPCX_RECV, &rd));
	T_ASSERT(write(p[1], "\xff\xff\xff\xff", 4) == 4);
	T_EXPECT(ipcx_recv(rd, buf, sizeof(buf), 1000), IPCX_EMSGSIZE);
	T_ASSERT(strstr(ipcx_errmsg(), "maxmsg") != NULL);
	T_EXPECT(ipcx_recv(rd, buf, sizeof(buf), 0), IPCX_ESTATE);
	T_OK(ipcx_close(rd));
	close(p[0]);
	close(p[1]);

	/* A writer dies mid-frame: IPCX_EPEER at once, not at the timeout. */
	T_ASSERT(pipe2(p, O_CLOEXEC) == 0);
	snprintf(ep, sizeof(ep), "pipe://?fd=%d", p[0]);
	T_OK(ipcx_open(ep, IPCX_RECV, &rd));
	close(p[0]);
	pid = t_fork(torn_child, &p[1]);
	close(p[1]);
	t0 = t_now_ms();
	T_EXPECT(ipcx_recv(rd, buf, sizeof(buf), 10000), IPCX_EPEER);
	T_ASSERT(t_now_ms() - t0 < 5000);
	T_ASSERT(strstr(ipcx_errmsg(), "mid-message") != NULL);
	t_child_ok(pid);
	T_OK(ipcx_close(rd));
}

static void test_raw(void)
{
	ipcx_chan *rd, *wr;
	char buf[16];

	T_OK(ipcx_pipe("raw", &rd, &wr));
	T_OK(ipcx_send(wr, "abc", 3, 1000));
	T_OK(ipcx_send(wr, "def", 3, 1000));
	T_OK(ipcx_send(wr, "", 0, 1000));
	T_EXPECT(ipcx_recv(rd, buf, sizeof(buf), 1000), 6);
	T_ASSERT(memcmp(buf, "abcdef", 6) == 0);
	T_OK(ipcx_send(wr, "0123456789", 10, 1000));
	T_EXPECT(ipcx_recv(rd, buf, 4, 1000), 4);
	T_EXPECT(ipcx_recv(rd, buf, sizeof(buf), 1000), 6);
	T_ASSERT(memcmp(buf, "456789", 6) == 0);
	T_OK(ipcx_close(wr));
	T_EXPECT(ipcx_recv(rd, buf, sizeof(buf), 1000), IPCX_EPEER);
	T_OK(ipcx_close(rd));
}

/* Child: echo one message from pipe:// (stdin) to pipe:// (stdout). */
static int echo_child(void *arg)
{
	ipcx_chan *in, *out;
	char buf[64];
	ssize_t n;

	(void)arg;
	if (ipcx_open("pipe://", IPCX_RECV, &in) < 0 ||
	    ipcx_open("pipe://", IPCX_SEND, &out) < 0)
		return 2;
	n = ipcx_recv(in, buf, sizeof(buf), 10000);
	if (n < 0 || ipcx_send(out, buf, (size_t)n, 10000) < 0)
		return 3;
	ipcx_close(in);
	ipcx_close(out);
	/* stdin and stdout are still open and usable. */
	if (fcntl(0, F_GETFD) < 0 || fcntl(1, F_GETFD) < 0)
		return 4;
	return 0;
}

static void test_stdio(void)
{
	int to[2], from[2], saved_in, saved_out;
	ipcx_chan *wr, *rd;
	char ep[64], buf[64];
	pid_t pid;

	T_ASSERT(pipe2(to, O_CLOEXEC) == 0);
	T_ASSERT(pipe2(from, O_CLOEXEC) == 0);
	saved_in = dup(0);
	saved_out = dup(1);
	T_ASSERT(saved_in >= 0 && saved_out >= 0);
	fflush(stdout);
	T_ASSERT(dup2(to[0], 0) == 0);
	T_ASSERT(dup2(from[1], 1) == 1);
	pid = t_fork(echo_child, NULL);
	T_ASSERT(dup2(saved_in, 0) == 0);
	T_ASSERT(dup2(saved_out, 1) == 1);
	close(saved_in);
	close(saved_out);
	close(to[0]);
	close(from[1]);

	snprintf(ep, sizeof(ep), "pipe://?fd=%d", to[1]);
	T_OK(ipcx_open(ep, IPCX_SEND, &wr));
	snprintf(ep, sizeof(ep), "pipe://?fd=%d", from[0]);
	T_OK(ipcx_open(ep, IPCX_RECV, &rd));
	T_OK(ipcx_send(wr, "ping", 4, 5000));
	T_EXPECT(ipcx_recv(rd, buf, sizeof(buf), 10000), 4);
	T_ASSERT(memcmp(buf, "ping", 4) == 0);
	t_child_ok(pid);
	/* The descriptions we share with the child were left blocking. */
	T_ASSERT(!(fcntl(to[1], F_GETFL) & O_NONBLOCK));
	T_ASSERT(!(fcntl(from[0], F_GETFL) & O_NONBLOCK));
	T_OK(ipcx_close(wr));
	T_OK(ipcx_close(rd));
	close(to[1]);
	close(from[0]);
}

/* Inherited fds that are not pipes: a file (poll-then-I/O path) and a
 * socket (MSG_DONTWAIT path); also a bad fd and a wrong direction. */
static void test_other_fds(void)
{
	const char *path = t_tmp_path("pipefile");
	ipcx_chan *wr, *rd;
	char ep[64], buf[64];
	int fd, sv[2];

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	T_ASSERT(fd >= 0);
	snprintf(ep, sizeof(ep), "pipe://?fd=%d", fd);
	T_OK(ipcx_open(ep, IPCX_SEND, &wr));
	T_OK(ipcx_send(wr, "one", 3, 1000));
	T_OK(ipcx_send(wr, "", 0, 1000));
	T_OK(ipcx_close(wr));
	T_EXPECT(ipcx_open(ep, IPCX_RECV, &rd), IPCX_EINVAL);
	close(fd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	T_ASSERT(fd >= 0);
	snprintf(ep, sizeof(ep), "pipe://?fd=%d", fd);
	T_OK(ipcx_open(ep, IPCX_RECV, &rd));
	T_EXPECT(ipcx_recv(rd, buf, sizeof(buf), 1000), 3);
	T_EXPECT(ipcx_recv(rd, buf, sizeof(buf), 1000), 0);
	T_EXPECT(ipcx_recv(rd, buf, sizeof(buf), 1000), IPCX_EPEER);
	T_OK(ipcx_close(rd));
	close(fd);
	unlink(path);

	T_ASSERT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	snprintf(ep, sizeof(ep), "pipe://?fd=%d", sv[0]);
	T_OK(ipcx_open(ep, IPCX_SEND, &wr));
	snprintf(ep, sizeof(ep), "pipe://?fd=%d", sv[1]);
	T_OK(ipcx_open(ep, IPCX_RECV, &rd));
	T_OK(ipcx_send(wr, "sock", 4, 1000));
	T_EXPECT(ipcx_recv(rd, buf, sizeof(buf), 1000), 4);
	T_EXPECT(ipcx_recv(rd, buf, sizeof(buf), 0), IPCX_ETIMEDOUT);
	T_ASSERT(!(fcntl(sv[1], F_GETFL) & O_NONBLOCK));
	T_OK(ipcx_close(wr));
	T_OK(ipcx_close(rd));
	close(sv[0]);
	close(sv[1]);

	T_EXPECT(ipcx_open("pipe://?fd=999", IPCX_RECV, &rd), IPCX_EINVAL);
	T_EXPECT(ipcx_open("pipe://", IPCX_SEND | IPCX_RECV, &rd), IPCX_EINVAL);
}

static void test_pollable(void)
{
	ipcx_chan *rd, *wr;
	char buf[16];
	int fd;

	T_OK(ipcx_pipe(NULL, &rd, &wr));
	T_EXPECT(ipcx_fd(wr), IPCX_ENOTSUP);
	fd = ipcx_fd(rd);
	T_ASSERT(fd >= 0);
	T_ASSERT(ipcx_fd(rd) == fd);
	T_ASSERT(!t_poll_in(fd, 0));
	T_OK(ipcx_send(wr, "a", 1, 0));
	T_OK(ipcx_send(wr, "b", 1, 0));
	T_OK(ipcx_send(wr, "c", 1, 0));
	T_ASSERT(t_poll_in(fd, 0));
	/* One read takes all three into the buffer: the fd must stay
	 * readable while two whole messages wait there. */
	T_EXPECT(ipcx_recv(rd, buf, sizeof(buf), 0), 1);
	T_ASSERT(t_poll_in(fd, 0));
	T_EXPECT(ipcx_recv(rd, buf, sizeof(buf), 0), 1);
	T_ASSERT(t_poll_in(fd, 0));
	T_EXPECT(ipcx_recv(rd, buf, sizeof(buf), 0), 1);
	T_ASSERT(buf[0] == 'c');
	T_ASSERT(!t_poll_in(fd, 0));
	T_OK(ipcx_close(rd));
	T_OK(ipcx_close(wr));
}

int main(void)
{
	t_leak_begin();
	test_roundtrip_and_boundaries();
	test_sizes();
	test_1mib();
	test_enobufs();
	test_timeouts();
	test_peer_gone();
	test_hostile_and_torn();
	test_raw();
	test_stdio();
	test_other_fds();
	test_pollable();
	t_leak_end();
	return T_EXIT_PASS;
}
