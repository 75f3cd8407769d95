/*
 * test-unix.c - unix:// (src/transport/unix.c).
 *
 * Listener and dialer round trips with replies, fan-in from several
 * senders, boundaries, sizes 0/1/maxmsg/maxmsg+1, 1 MiB both ways across
 * processes, ENOBUFS and retry, timeouts, peers leaving on either side, a
 * 0xFFFFFFFF header, a sender dying mid-frame, socket file mode, stale
 * socket reclaim, live listener and non-socket paths refused, abstract
 * names, SO_PEERCRED, the ?uid= filter (as root: a child that becomes
 * nobody), the pollable fd, unlink.
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
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char ep[256];
static char path[200];

/* A raw client socket connected to the listener at `path`. */
static int raw_connect(void)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	T_ASSERT(fd >= 0);
	strcpy(a.sun_path, path);
	T_ASSERT(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	return fd;
}

static void test_roundtrip(void)
{
	ipcx_chan *l, *d, *l2;
	struct ipcx_peer peer;
	struct stat st;
	char buf[64];

	T_EXPECT(ipcx_open(ep, IPCX_SEND, &d), IPCX_ENOPEER);
	T_ASSERT(strstr(ipcx_errmsg(), "start the receiver first") != NULL);
	T_OK(ipcx_open(ep, IPCX_RECV | IPCX_SEND | IPCX_CREATE, &l));
	T_ASSERT(lstat(path, &st) == 0);
	T_ASSERT(S_ISSOCK(st.st_mode));
	T_ASSERT((st.st_mode & 07777) == 0600);
	/* A listener replies only after it heard from someone. */
	T_EXPECT(ipcx_send(l, "x", 1, 0), IPCX_ESTATE);

	T_OK(ipcx_open(ep, IPCX_SEND | IPCX_RECV, &d));
	T_OK(ipcx_send(d, "ping", 4, 1000));
	T_EXPECT(ipcx_recv(l, buf, sizeof(buf), 1000), 4);
	T_ASSERT(memcmp(buf, "ping", 4) == 0);
	T_OK(ipcx_peer(l, &peer));
	T_ASSERT(peer.pid == getpid());
	T_ASSERT(peer.uid == getuid());
	T_ASSERT(peer.gid == getgid());
	T_OK(ipcx_send(l, "pong", 4, 1000));
	T_EXPECT(ipcx_recv(d, buf, sizeof(buf), 1000), 4);
	T_ASSERT(memcmp(buf, "pong", 4) == 0);
	T_OK(ipcx_peer(d, &peer));
	T_ASSERT(peer.pid == getpid());

	/* A second listener on a live socket is refused. */
	T_EXPECT(ipcx_open(ep, IPCX_RECV | IPCX_CREATE, &l2), IPCX_EEXIST);
	T_ASSERT(strstr(ipcx_errmsg(), "in use") != NULL);
	T_ASSERT(l2 == NULL);
	T_OK(ipcx_close(d));
	T_OK(ipcx_close(l));
	/* Closing the listener removed the socket file it created. */
	T_ASSERT(lstat(path, &st) < 0 && errno == ENOENT);
}

static void test_fanin_and_boundaries(void)
{
	ipcx_chan *l, *a, *b;
	uint8_t msg[256], buf[256];
	int from_a = 0, from_b = 0;

	T_OK(ipcx_open(ep, IPCX_RECV | IPCX_SEND | IPCX_CREATE, &l));
	T_OK(ipcx_open(ep, IPCX_SEND | IPCX_RECV, &a));
	T_OK(ipcx_open(ep, IPCX_SEND | IPCX_RECV, &b));
	/* 200 messages each, back to back, of 1..200 bytes: byte 0 names
	 * the sender, the rest is a pattern of the index. */
	for (unsigned i = 0; i < 200; i++) {
		msg[0] = 0;
		t_fill(msg + 1, i, i);
		T_OK(ipcx_send(a, msg, i + 1, 1000));
		msg[0] = 1;
		t_fill(msg + 1, i, i + 1000);
		T_OK(ipcx_send(b, msg, i + 1, 1000));
	}
	/* Each sender's messages arrive whole and in its order. */
	for (int k = 0; k < 400; k++) {
		ssize_t n = ipcx_recv(l, buf, sizeof(buf), 1000);
		int *cnt = buf[0] ? &from_b : &from_a;
		T_ASSERT(n >= 1 && buf[0] <= 1);
		T_ASSERT(n - 1 == *cnt);
		T_ASSERT(t_same(buf + 1, (size_t)n - 1,
		                (unsigned)(n - 1) + 1000u * buf[0]));
		(*cnt)++;
	}
	T_ASSERT(from_a == 200 && from_b == 200);
	T_EXPECT(ipcx_recv(l, buf, sizeof(buf), 0), IPCX_ETIMEDOUT);

	/* Replies go to the sender of the last message. */
	T_OK(ipcx_send(b, "from b", 6, 1000));
	T_EXPECT(ipcx_recv(l, buf, sizeof(buf), 1000), 6);
	T_OK(ipcx_send(l, "to b", 4, 1000));
	T_EXPECT(ipcx_recv(b, buf, sizeof(buf), 1000), 4);
	T_ASSERT(memcmp(buf, "to b", 4) == 0);
	T_EXPECT(ipcx_recv(a, buf, sizeof(buf), 0), IPCX_ETIMEDOUT);
	T_OK(ipcx_send(a, "from a", 6, 1000));
	T_EXPECT(ipcx_recv(l, buf, sizeof(buf), 1000), 6);
	T_OK(ipcx_send(l, "to a", 4, 1000));
	T_EXPECT(ipcx_recv(a, buf, sizeof(buf), 1000), 4);
	T_ASSERT(memcmp(buf, "to a", 4) == 0);

	/* a leaves at a boundary: the listener does not care and keeps
	 * serving b; a reply to the gone sender is IPCX_EPEER. */
	T_OK(ipcx_close(a));
	T_EXPECT(ipcx_recv(l, buf, sizeof(buf), 30), IPCX_ETIMEDOUT);
	T_EXPECT(ipcx_send(l, "x", 1, 100), IPCX_EPEER);
	T_OK(ipcx_send(b, "still", 5, 1000));
	T_EXPECT(ipcx_recv(l, buf, sizeof(buf), 1000), 5);
	T_OK(ipcx_close(b));
	T_OK(ipcx_close(l));
}

static void test_sizes_and_enobufs(void)
{
	static uint8_t msg[2048], buf[2048];
	ipcx_chan *l, *d, *big;
	char ep2[300];

	snprintf(ep2, sizeof(ep2), "%s?maxmsg=1024", ep);
	T_OK(ipcx_open(ep2, IPCX_RECV | IPCX_SEND | IPCX_CREATE, &l));
	T_OK(ipcx_open(ep2, IPCX_SEND | IPCX_RECV, &d));
	t_fill(msg, sizeof(msg), 5);
	T_OK(ipcx_send(d, msg, 0, 1000));
	T_OK(ipcx_send(d, msg, 1, 1000));
	T_OK(ipcx_send(d, msg, 1024, 1000));
	T_EXPECT(ipcx_send(d, msg, 1025, 1000), IPCX_EMSGSIZE);
	T_ASSERT(strstr(ipcx_errmsg(), "maxmsg") != NULL);
	T_EXPECT(ipcx_recv(l, buf, sizeof(buf), 1000), 0);
	T_EXPECT(ipcx_recv(l, buf, sizeof(buf), 1000), 1);
	/* Too small a buffer: ENOBUFS, the message waits, then comes. */
	T_EXPECT(ipcx_recv(l, buf, 100, 1000), IPCX_ENOBUFS);
	T_EXPECT(ipcx_pending(l), 1024);
	T_EXPECT(ipcx_recv(l, buf, 1024, 1000), 1024);
	T_ASSERT(t_same(buf, 1024, 5));

	/* A sender with a larger limit: the listener refuses the frame by
	 * its header and closes that connection; the sender sees it gone. */
	T_OK(ipcx_open(ep, IPCX_SEND | IPCX_RECV, &big));
	T_OK(ipcx_send(big, msg, 1025, 1000));
	T_EXPECT(ipcx_recv(l, buf, sizeof(buf), 1000), IPCX_EMSGSIZE);
	T_ASSERT(strstr(ipcx_errmsg(), "maxmsg") != NULL);
	T_EXPECT(ipcx_recv(big, buf, sizeof(buf), 1000), IPCX_EPEER);
	/* The other sender is unaffected. */
	T_OK(ipcx_send(d, "ok", 2, 1000));
	T_EXPECT(ipcx_recv(l, buf, sizeof(buf), 1000), 2);
	T_OK(ipcx_close(big));
	T_OK(ipcx_close(d));
	T_OK(ipcx_close(l));
}

/* Child: send 1 MiB, expect it back. */
static int big_child(void *arg)
{
	size_t n = 1u << 20;
	uint8_t *m = malloc(n);
	void *back = NULL;
	ipcx_chan *d;

	(void)arg;
	t_fill(m, n, 11);
	if (ipcx_open(ep, IPCX_SEND | IPCX_RECV, &d) < 0)
		return 2;
	if (ipcx_send(d, m, n, 10000) < 0)
		return 3;
	if (ipcx_recv_alloc(d, &back, 10000) != (ssize_t)n ||
	    !t_same(back, n, 11))
		return 4;
	free(back);
	free(m);
	ipcx_close(d);
	return 0;
}

static void test_1mib(void)
{
	struct ipcx_peer peer;
	ipcx_chan *l;
	void *m = NULL;
	pid_t pid;

	T_OK(ipcx_open(ep, IPCX_RECV | IPCX_SEND | IPCX_CREATE, &l));
	pid = t_fork(big_child, NULL);
	T_EXPECT(ipcx_recv_alloc(l, &m, 10000), 1 << 20);
	T_ASSERT(t_same(m, 1u << 20, 11));
	T_OK(ipcx_peer(l, &peer));
	T_ASSERT(peer.pid == pid);
	T_OK(ipcx_send(l, m, 1u << 20, 10000));
	free(m);
	t_child_ok(pid);
	T_OK(ipcx_close(l));
}

static void test_timeouts(void)
{
	ipcx_chan *l;
	char buf[16];
	long long t0;

	T_OK(ipcx_open(ep, IPCX_RECV | IPCX_CREATE, &l));
	T_EXPECT(ipcx_recv(l, buf, sizeof(buf), 0), IPCX_ETIMEDOUT);
	t0 = t_now_ms();
	T_EXPECT(ipcx_recv(l, buf, sizeof(buf), 50), IPCX_ETIMEDOUT);
	T_ASSERT(t_now_ms() - t0 >= 45);
	T_OK(ipcx_close(l));
}

static void test_peer_gone(void)
{
	ipcx_chan *l, *d;
	char buf[16];

	signal(SIGPIPE, SIG_DFL);
	T_OK(ipcx_open(ep, IPCX_RECV | IPCX_SEND | IPCX_CREATE, &l));
	T_OK(ipcx_open(ep, IPCX_SEND | IPCX_RECV, &d));
	T_OK(ipcx_send(d, "hi", 2, 1000));
	T_EXPECT(ipcx_recv(l, buf, sizeof(buf), 1000), 2);
	/* The listener goes: the dialer's receive says peer closed, its
	 * send says peer gone, and SIGPIPE does not kill us. */
	T_OK(ipcx_close(l));
	T_EXPECT(ipcx_recv(d, buf, sizeof(buf), 1000), IPCX_EPEER);
	T_ASSERT(strstr(ipcx_errmsg(), "peer closed") != NULL);
	T_EXPECT(ipcx_send(d, "x", 1, 1000), IPCX_EPEER);
	T_OK(ipcx_close(d));
}

static void test_paths(void)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	ipcx_chan *l;
	struct stat st;
	char ep2[300];
	int fd;

	/* A stale socket file (its listener died) is reclaimed. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	strcpy(a.sun_path, path);
	T_ASSERT(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	close(fd);
	T_ASSERT(lstat(path, &st) == 0);
	T_EXPECT(ipcx_open(ep, IPCX_RECV | IPCX_CREATE | IPCX_EXCL, &l),
	         IPCX_EEXIST);
	T_OK(ipcx_open(ep, IPCX_RECV | IPCX_CREATE, &l));
	T_OK(ipcx_close(l));

	/* ?mode= is applied exactly, whatever the umask. */
	snprintf(ep2, sizeof(ep2), "%s?mode=0666", ep);
	T_OK(ipcx_open(ep2, IPCX_RECV | IPCX_CREATE, &l));
	T_ASSERT(lstat(path, &st) == 0);
	T_ASSERT((st.st_mode & 07777) == 0666);
	T_OK(ipcx_close(l));

	/* A path that is not a socket is neither replaced nor removed. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	T_ASSERT(fd >= 0);
	close(fd);
	T_EXPECT(ipcx_open(ep, IPCX_RECV | IPCX_CREATE, &l), IPCX_EEXIST);
	T_ASSERT(strstr(ipcx_errmsg(), "not a socket") != NULL);
	T_EXPECT(ipcx_unlink(ep), IPCX_EINVAL);
	T_ASSERT(unlink(path) == 0);

	/* unlink removes a socket file, then there is none. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	T_ASSERT(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	close(fd);
	T_OK(ipcx_unlink(ep));
	T_EXPECT(ipcx_unlink(ep), IPCX_ENOENT);
}

static void test_abstract(void)
{
	ipcx_chan *l, *d, *l2;
	struct ipcx_peer peer;
	char aep[128], buf[16];

	snprintf(aep, sizeof(aep), "unix://@%s", t_name("abs"));
	T_EXPECT(ipcx_open(aep, IPCX_SEND, &d), IPCX_ENOPEER);
	T_OK(ipcx_open(aep, IPCX_RECV | IPCX_SEND | IPCX_CREATE, &l));
	T_EXPECT(ipcx_open(aep, IPCX_RECV | IPCX_CREATE, &l2), IPCX_EEXIST);
	T_OK(ipcx_open(aep, IPCX_SEND | IPCX_RECV, &d));
	T_OK(ipcx_send(d, "abs", 3, 1000));
	T_EXPECT(ipcx_recv(l, buf, sizeof(buf), 1000), 3);
	T_OK(ipcx_peer(l, &peer));
	T_ASSERT(peer.pid == getpid());
	T_OK(ipcx_send(l, "yes", 3, 1000));
	T_EXPECT(ipcx_recv(d, buf, sizeof(buf), 1000), 3);
	T_OK(ipcx_close(d));
	T_OK(ipcx_close(l));
	T_EXPECT(ipcx_unlink(aep), IPCX_ENOENT);
}

static struct t_sync sync_;
static char aep_uid[160];

/* Child: become nobody, connect, send; the listener must refuse us. */
static int nobody_child(void *arg)
{
	ipcx_chan *d;
	char buf[8];
	int r;

	(void)arg;
	if (setgid(65534) < 0 || setuid(65534) < 0)
		return 2;
	if (ipcx_open(aep_uid, IPCX_SEND | IPCX_RECV, &d) < 0)
		return 3;
	/* The connection was accepted by the kernel; the listener closes it
	 * when it checks our credentials. */
	ipcx_send(d, "evil", 4, 1000);
	t_notify_parent(&sync_);
	t_wait_parent(&sync_);
	r = (int)ipcx_recv(d, buf, sizeof(buf), 5000);
	ipcx_close(d);
	return r == IPCX_EPEER ? 0 : 4;
}

static void test_uid_filter(void)
{
	ipcx_chan *l, *d;
	struct ipcx_peer peer;
	char buf[16];
	pid_t pid;

	if (getuid() != 0) {
		fprintf(stderr, "skip uid filter: needs root to setuid\n");
		return;
	}
	snprintf(aep_uid, sizeof(aep_uid), "unix://@%s?uid=0", t_name("uid"));
	T_OK(ipcx_open(aep_uid, IPCX_RECV | IPCX_CREATE, &l));
	t_sync_init(&sync_);
	pid = t_fork(nobody_child, NULL);
	t_wait_child(&sync_);
	/* nobody's message never arrives. */
	T_EXPECT(ipcx_recv(l, buf, sizeof(buf), 200), IPCX_ETIMEDOUT);
	t_notify_child(&sync_);
	t_child_ok(pid);
	t_sync_close(&sync_);
	/* uid 0 gets through. */
	T_OK(ipcx_open(aep_uid, IPCX_SEND, &d));
	T_OK(ipcx_send(d, "root", 4, 1000));
	T_EXPECT(ipcx_recv(l, buf, sizeof(buf), 1000), 4);
	T_OK(ipcx_peer(l, &peer));
	T_ASSERT(peer.uid == 0);
	T_OK(ipcx_close(d));
	T_OK(ipcx_close(l));
}

static void test_pollable(void)
{
	ipcx_chan *l, *d;
	char buf[16];
	int fd, dfd;

	T_OK(ipcx_open(ep, IPCX_RECV | IPCX_SEND | IPCX_CREATE, &l));
	fd = ipcx_fd(l);
	T_ASSERT(fd >= 0);
	T_ASSERT(!t_poll_in(fd, 0));
	T_OK(ipcx_open(ep, IPCX_SEND | IPCX_RECV, &d));
	dfd = ipcx_fd(d);
	T_ASSERT(dfd >= 0);
	/* A new connection wakes the listener's fd. */
	T_ASSERT(t_poll_in(fd, 0));
	T_EXPECT(ipcx_recv(l, buf, sizeof(buf), 0), IPCX_ETIMEDOUT);
	T_OK(ipcx_send(d, "1", 1, 0));
	T_OK(ipcx_send(d, "2", 1, 0));
	T_ASSERT(t_poll_in(fd, 0));
	T_EXPECT(ipcx_recv(l, buf, sizeof(buf), 0), 1);
	/* "2" sits in our buffer now: the fd must still say so. */
	T_ASSERT(t_poll_in(fd, 0));
	T_EXPECT(ipcx_recv(l, buf, sizeof(buf), 0), 1);
	T_ASSERT(buf[0] == '2');
	T_ASSERT(!t_poll_in(fd, 0));
	T_OK(ipcx_send(l, "a", 1, 0));
	T_OK(ipcx_send(l, "b", 1, 0));
	T_ASSERT(t_poll_in(dfd, 0));
	T_EXPECT(ipcx_recv(d, buf, sizeof(buf), 0), 1);
	T_ASSERT(t_poll_in(dfd, 0));
	T_EXPECT(ipcx_recv(d, buf, sizeof(buf), 0), 1);
	T_ASSERT(!t_poll_in(dfd, 0));
	T_OK(ipcx_close(d));
	T_OK(ipcx_close(l));
}

int main(void)
{
	snprintf(path, sizeof(path), "%s", t_tmp_path("sock"));
	snprintf(ep, sizeof(ep), "unix://%s", path);
	t_leak_begin();
	test_roundtrip();
	test_fanin_and_boundaries();
	test_sizes_and_enobufs();
	test_1mib();
	test_timeouts();
	test_peer_gone();
	t_hostile_and_torn(ep, raw_connect);
	test_paths();
	test_abstract();
	test_uid_filter();
	test_pollable();
	t_leak_end();
	unlink(path);
	return T_EXIT_PASS;
}
