/*
 * test-fifo.c - fifo:// (src/transport/fifo.c).
 *
 * Creation (mode 0600, ?mode=, IPCX_EXCL, a non-FIFO path, someone else's
 * FIFO and ?trust=any), a sender with no reader or no FIFO, round trips,
 * boundaries, sizes 0/1/maxmsg/maxmsg+1, 1 MiB through a forked reader,
 * ENOBUFS and retry, timeouts, writers leaving and new ones arriving (the
 * receiver keeps waiting, without spinning), the reader leaving (EPEER, no
 * SIGPIPE), a 0xFFFFFFFF header, a writer dying mid-frame, raw mode, the
 * pollable fd across a reopen, unlink.
 */
#include "ipcx.h"
#include "t.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char path[200], ep[300];

static long long cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
}

static void test_create(void)
{
	ipcx_chan *r, *w;
	struct stat st;
	char ep2[320];
	int fd;

	T_EXPECT(ipcx_open(ep, IPCX_SEND, &w),
	         IPCX_ENOPEER); /* a sender: no receiver yet */
	T_EXPECT(ipcx_open(ep, IPCX_RECV, &r), IPCX_ENOENT);
	T_EXPECT(ipcx_unlink(ep), IPCX_ENOENT);
	T_EXPECT(ipcx_open(ep, IPCX_SEND | IPCX_RECV | IPCX_CREATE, &r),
	         IPCX_EINVAL);
	T_OK(ipcx_open(ep, IPCX_RECV | IPCX_CREATE, &r));
	T_ASSERT(lstat(path, &st) == 0);
	T_ASSERT(S_ISFIFO(st.st_mode));
	T_ASSERT((st.st_mode & 07777) == 0600);
	T_OK(ipcx_close(r));
	/* Close leaves the FIFO; EXCL refuses it; CREATE reuses it. */
	T_ASSERT(lstat(path, &st) == 0);
	T_EXPECT(ipcx_open(ep, IPCX_RECV | IPCX_CREATE | IPCX_EXCL, &r),
	         IPCX_EEXIST);
	/* No reader: the sender is told to start the receiver. */
	T_EXPECT(ipcx_open(ep, IPCX_SEND, &w), IPCX_ENOPEER);
	T_ASSERT(strstr(ipcx_errmsg(), "start the receiver first") != NULL);
	T_OK(ipcx_unlink(ep));
	T_EXPECT(ipcx_unlink(ep), IPCX_ENOENT);

	snprintf(ep2, sizeof(ep2), "%s?mode=0666", ep);
	T_OK(ipcx_open(ep2, IPCX_RECV | IPCX_CREATE, &r));
	T_ASSERT(lstat(path, &st) == 0 && (st.st_mode & 07777) == 0666);
	T_OK(ipcx_close(r));
	T_OK(ipcx_unlink(ep));

	/* A path that is not a FIFO is refused and not removed. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	T_ASSERT(fd >= 0);
	close(fd);
	T_EXPECT(ipcx_open(ep, IPCX_RECV | IPCX_CREATE, &r), IPCX_EEXIST);
	T_ASSERT(strstr(ipcx_errmsg(), "not a FIFO") != NULL);
	T_EXPECT(ipcx_unlink(ep), IPCX_EINVAL);
	T_ASSERT(unlink(path) == 0);

	/* Someone else's FIFO: refused unless ?trust=any. */
	if (geteuid() == 0) {
		T_ASSERT(mkfifo(path, 0600) == 0);
		T_ASSERT(chown(path, 65534, 65534) == 0);
		T_EXPECT(ipcx_open(ep, IPCX_RECV, &r), IPCX_EACCES);
		T_ASSERT(strstr(ipcx_errmsg(), "trust=any") != NULL);
		snprintf(ep2, sizeof(ep2), "%s?trust=any", ep);
		T_OK(ipcx_open(ep2, IPCX_RECV, &r));
		T_OK(ipcx_close(r));
		T_OK(ipcx_unlink(ep));
	} else {
		fprintf(stderr, "skip foreign owner: needs root to chown\n");
	}
}

static void test_roundtrip_sizes_enobufs(void)
{
	static uint8_t msg[2048], buf[2048];
	ipcx_chan *r, *w;
	char ep2[320];

	snprintf(ep2, sizeof(ep2), "%s?maxmsg=1024", ep);
	T_OK(ipcx_open(ep2, IPCX_RECV | IPCX_CREATE, &r));
	T_OK(ipcx_open(ep2, IPCX_SEND, &w));
	T_EXPECT(ipcx_recv(w, buf, 1, 0), IPCX_ESTATE);
	T_OK(ipcx_send(w, "hello", 5, 1000));
	T_EXPECT(ipcx_recv(r, buf, sizeof(buf), 1000), 5);
	T_ASSERT(memcmp(buf, "hello", 5) == 0);
	/* Boundaries: 300 messages back to back. */
	for (unsigned i = 0; i < 300; i++) {
		t_fill(msg, i % 100, i);
		T_OK(ipcx_send(w, msg, i % 100, 1000));
	}
	for (unsigned i = 0; i < 300; i++) {
		T_EXPECT(ipcx_recv(r, buf, sizeof(buf), 1000), i % 100);
		T_ASSERT(t_same(buf, i % 100, i));
	}
	t_fill(msg, sizeof(msg), 2);
	T_OK(ipcx_send(w, msg, 0, 1000));
	T_OK(ipcx_send(w, msg, 1, 1000));
	T_OK(ipcx_send(w, msg, 1024, 1000));
	T_EXPECT(ipcx_send(w, msg, 1025, 1000), IPCX_EMSGSIZE);
	T_EXPECT(ipcx_recv(r, buf, sizeof(buf), 1000), 0);
	T_EXPECT(ipcx_recv(r, buf, sizeof(buf), 1000), 1);
	T_EXPECT(ipcx_recv(r, buf, 1023, 1000), IPCX_ENOBUFS);
	T_EXPECT(ipcx_pending(r), 1024);
	T_EXPECT(ipcx_recv(r, buf, 1024, 1000), 1024);
	T_ASSERT(t_same(buf, 1024, 2));
	T_EXPECT(ipcx_recv(r, buf, sizeof(buf), 0), IPCX_ETIMEDOUT);
	T_OK(ipcx_close(w));
	T_OK(ipcx_close(r));
	T_OK(ipcx_unlink(ep));
}

static int big_reader(void *arg)
{
	ipcx_chan *r = arg;
	void *m = NULL;
	ssize_t n = ipcx_recv_alloc(r, &m, 10000);

	if (n != 1 << 20 || !t_same(m, 1u << 20, 6))
		return 1;
	free(m);
	ipcx_close(r);
	return 0;
}

static void test_1mib(void)
{
	uint8_t *m = malloc(1u << 20);
	ipcx_chan *r, *w;
	pid_t pid;

	T_ASSERT(m);
	t_fill(m, 1u << 20, 6);
	T_OK(ipcx_open(ep, IPCX_RECV | IPCX_CREATE, &r));
	T_OK(ipcx_open(ep, IPCX_SEND, &w));
	pid = t_fork(big_reader, r);
	T_OK(ipcx_close(r));
	T_OK(ipcx_send(w, m, 1u << 20, 10000));
	t_child_ok(pid);
	T_OK(ipcx_close(w));
	T_OK(ipcx_unlink(ep));
	free(m);
}

static struct t_sync sync_;

/* Child: wait for the go (and arg's ms, if any), then open the FIFO,
 * send, leave. */
static int late_writer(void *arg)
{
	ipcx_chan *w;

	t_wait_parent(&sync_);
	if (arg) {
		int ms = *(const int *)arg;
		struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
		nanosleep(&ts, NULL);
	}
	if (ipcx_open(ep, IPCX_SEND, &w) < 0)
		return 2;
	if (ipcx_send(w, "late", 4, 5000) < 0)
		return 3;
	ipcx_close(w);
	return 0;
}

static void test_writers_come_and_go(void)
{
	ipcx_chan *r, *w;
	char buf[16];
	long long t0, c0;
	pid_t pid;

	T_OK(ipcx_open(ep, IPCX_RECV | IPCX_CREATE, &r));
	T_EXPECT(ipcx_recv(r, buf, sizeof(buf), 0), IPCX_ETIMEDOUT);
	T_OK(ipcx_open(ep, IPCX_SEND, &w));
	T_OK(ipcx_send(w, "one", 3, 1000));
	T_OK(ipcx_close(w));
	T_EXPECT(ipcx_recv(r, buf, sizeof(buf), 1000), 3);
	/* The writer left at a boundary: no error, the receiver waits for
	 * the deadline, and does not spin on POLLHUP meanwhile. */
	t0 = t_now_ms();
	c0 = cpu_ms();
	T_EXPECT(ipcx_recv(r, buf, sizeof(buf), 200), IPCX_ETIMEDOUT);
	T_ASSERT(t_now_ms() - t0 >= 190);
	T_ASSERT(cpu_ms() - c0 < 100);
	T_EXPECT(ipcx_recv(r, buf, sizeof(buf), 0), IPCX_ETIMEDOUT);
	/* A new writer in this process. */
	T_OK(ipcx_open(ep, IPCX_SEND, &w));
	T_OK(ipcx_send(w, "two", 3, 1000));
	T_OK(ipcx_close(w));
	T_EXPECT(ipcx_recv(r, buf, sizeof(buf), 1000), 3);
	T_ASSERT(memcmp(buf, "two", 3) == 0);
	/* A new writer in another process, while we block in recv. */
	t_sync_init(&sync_);
	pid = t_fork(late_writer, NULL);
	t_notify_child(&sync_);
	T_EXPECT(ipcx_recv(r, buf, sizeof(buf), 10000), 4);
	T_ASSERT(memcmp(buf, "late", 4) == 0);
	t_child_ok(pid);
	t_sync_close(&sync_);
	/* And after that writer left too, still only timeouts. */
	T_EXPECT(ipcx_recv(r, buf, sizeof(buf), 20), IPCX_ETIMEDOUT);
	/*
	 * Without a deadline: a message read, so the next receive reads the
	 * blocking twin, which says end of stream once the writer is gone;
	 * the receiver then waits in poll() for a new one, not spinning.
	 */
	T_OK(ipcx_open(ep, IPCX_SEND, &w));
	T_OK(ipcx_send(w, "three", 5, 1000));
	T_EXPECT(ipcx_recv(r, buf, sizeof(buf), -1), 5);
	T_OK(ipcx_close(w));
	t_sync_init(&sync_);
	{
		static const int ms = 300;
		pid = t_fork(late_writer, (void *)&ms);
	}
	t_notify_child(&sync_);
	c0 = cpu_ms();
	T_EXPECT(ipcx_recv(r, buf, sizeof(buf), -1), 4);
	T_ASSERT(memcmp(buf, "late", 4) == 0);
	T_ASSERT(cpu_ms() - c0 < 100);
	t_child_ok(pid);
	t_sync_close(&sync_);
	T_OK(ipcx_close(r));
	T_OK(ipcx_unlink(ep));
}

static void test_reader_gone(void)
{
	ipcx_chan *r, *w;
	sigset_t pend;

	signal(SIGPIPE, SIG_DFL);
	T_OK(ipcx_open(ep, IPCX_RECV | IPCX_CREATE, &r));
	T_OK(ipcx_open(ep, IPCX_SEND, &w));
	T_OK(ipcx_close(r));
	T_EXPECT(ipcx_send(w, "x", 1, 1000), IPCX_EPEER);
	sigemptyset(&pend);
	sigpending(&pend);
	T_ASSERT(!sigismember(&pend, SIGPIPE));
	T_OK(ipcx_close(w));
	T_OK(ipcx_unlink(ep));
}

/* Child: open the FIFO raw, write half a frame, die. */
static int torn_writer(void *arg)
{
	uint8_t b[14] = {0, 0, 0, 100};
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	(void)arg;
	if (fd < 0 || write(fd, b, sizeof(b)) != (ssize_t)sizeof(b))
		return 1;
	_exit(0);
}

static void test_hostile_and_torn(void)
{
	ipcx_chan *r;
	uint8_t buf[128];
	long long t0;
	pid_t pid;
	int fd;

	T_OK(ipcx_open(ep, IPCX_RECV | IPCX_CREATE, &r));
	pid = t_fork(torn_writer, NULL);
	t0 = t_now_ms();
	T_EXPECT(ipcx_recv(r, buf, sizeof(buf), 10000), IPCX_EPEER);
	T_ASSERT(strstr(ipcx_errmsg(), "mid-message") != NULL);
	T_ASSERT(t_now_ms() - t0 < 5000);
	t_child_ok(pid);
	/* The FIFO goes on serving new writers. */
	T_EXPECT(ipcx_recv(r, buf, sizeof(buf), 20), IPCX_ETIMEDOUT);

	fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	T_ASSERT(fd >= 0);
	T_ASSERT(write(fd, "\xff\xff\xff\xff", 4) == 4);
	T_EXPECT(ipcx_recv(r, buf, sizeof(buf), 1000), IPCX_EMSGSIZE);
	T_ASSERT(strstr(ipcx_errmsg(), "maxmsg") != NULL);
	T_EXPECT(ipcx_recv(r, buf, sizeof(buf), 0), IPCX_ESTATE);
	close(fd);
	T_OK(ipcx_close(r));
	T_OK(ipcx_unlink(ep));
}

static void test_raw(void)
{
	ipcx_chan *r, *w;
	char ep2[320], buf[16];

	snprintf(ep2, sizeof(ep2), "%s?raw", ep);
	T_OK(ipcx_open(ep2, IPCX_RECV | IPCX_CREATE, &r));
	T_OK(ipcx_open(ep2, IPCX_SEND, &w));
	T_OK(ipcx_send(w, "ab", 2, 1000));
	T_OK(ipcx_send(w, "cd", 2, 1000));
	T_EXPECT(ipcx_recv(r, buf, sizeof(buf), 1000), 4);
	T_ASSERT(memcmp(buf, "abcd", 4) == 0);
	T_OK(ipcx_close(w));
	/* Raw too: the writer leaving is not an error for the FIFO. */
	T_EXPECT(ipcx_recv(r, buf, sizeof(buf), 20), IPCX_ETIMEDOUT);
	T_OK(ipcx_close(r));
	T_OK(ipcx_unlink(ep));
}

static void test_pollable(void)
{
	ipcx_chan *r, *w;
	char buf[16];
	int fd;

	T_OK(ipcx_open(ep, IPCX_RECV | IPCX_CREATE, &r));
	fd = ipcx_fd(r);
	T_ASSERT(fd >= 0);
	T_ASSERT(!t_poll_in(fd, 0));
	T_OK(ipcx_open(ep, IPCX_SEND, &w));
	T_EXPECT(ipcx_fd(w), IPCX_ENOTSUP);
	T_OK(ipcx_send(w, "1", 1, 0));
	T_OK(ipcx_send(w, "2", 1, 0));
	T_ASSERT(t_poll_in(fd, 0));
	T_EXPECT(ipcx_recv(r, buf, sizeof(buf), 0), 1);
	T_ASSERT(t_poll_in(fd, 0));
	T_EXPECT(ipcx_recv(r, buf, sizeof(buf), 0), 1);
	T_OK(ipcx_close(w));
	/* The writer left: a (spurious) wake-up is allowed, after which
	 * the reopened FIFO is quiet... */
	T_EXPECT(ipcx_recv(r, buf, sizeof(buf), 0), IPCX_ETIMEDOUT);
	T_ASSERT(!t_poll_in(fd, 0));
	/* ...and the same fd wakes for the next writer. */
	T_OK(ipcx_open(ep, IPCX_SEND, &w));
	T_OK(ipcx_send(w, "3", 1, 0));
	T_ASSERT(t_poll_in(fd, 0));
	T_EXPECT(ipcx_recv(r, buf, sizeof(buf), 0), 1);
	T_ASSERT(buf[0] == '3');
	T_OK(ipcx_close(w));
	T_OK(ipcx_close(r));
	T_OK(ipcx_unlink(ep));
}

int main(void)
{
	snprintf(path, sizeof(path), "%s", t_tmp_path("fifo"));
	snprintf(ep, sizeof(ep), "fifo://%s", path);
	t_leak_begin();
	test_create();
	test_roundtrip_sizes_enobufs();
	test_1mib();
	test_writers_come_and_go();
	test_reader_gone();
	test_hostile_and_torn();
	test_raw();
	test_pollable();
	t_leak_end();
	unlink(path);
	return T_EXIT_PASS;
}
