/*
 * test-signal.c - signal://: 64-bit values through sigqueue/sigtimedwait.
 *
 * In this process: values of all 64 bits (0x100000000, UINT64_MAX) round
 * trip, in order, with the sender's pid and uid; sizes other than 8 are
 * EMSGSIZE, a classic signal carries only empty messages; timeouts, the
 * signalfd, ENOBUFS leaving the value queued, a second receiver refused, an
 * ignored signal refused, ?sig= parsing. Across processes: `ipcx send`
 * (when $IPCX is set) reaches a plain sigtimedwait receiver as 5 and
 * 4294967296; a pid that is gone or not ours to signal is a clear error; a
 * full queue is EAGAIN naming RLIMIT_SIGPENDING; a sender killed mid-stream
 * leaves the receiver every value it queued, in order, then a timeout; a
 * receiver killed (and reaped) makes sends fail with EPEER.
 */
#include "internal.h"
#include "t.h"

#include <errno.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define LONG_MS 10000

static void send_u64(ipcx_chan *tx, uint64_t v)
{
	T_OK(ipcx_send(tx, &v, sizeof(v), LONG_MS));
}

static uint64_t recv_u64(ipcx_chan *rx)
{
	uint64_t v = 0;

	T_EXPECT(ipcx_recv(rx, &v, sizeof(v), LONG_MS), 8);
	return v;
}

static void test_values(void)
{
	static const uint64_t vals[] = {0, 5, 0x100000000ull, UINT64_MAX,
	                                0x8000000000000001ull};
	struct ipcx_peer peer;
	ipcx_chan *rx, *tx;
	char small[4];

	T_OK(ipcx_open("signal://", IPCX_RECV, &rx));
	T_OK(ipcx_open("signal://", IPCX_SEND, &tx));
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		send_u64(tx, vals[i]);
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		T_ASSERT(recv_u64(rx) == vals[i]);
	T_OK(ipcx_peer(rx, &peer));
	T_ASSERT(peer.pid == getpid() && peer.uid == getuid());
	/* Order over many, below any RLIMIT_SIGPENDING. */
	for (uint64_t i = 0; i < 300; i++)
		send_u64(tx, i * 0x0101010101ull);
	for (uint64_t i = 0; i < 300; i++)
		T_ASSERT(recv_u64(rx) == i * 0x0101010101ull);
	/* Exactly 8 bytes. */
	T_EXPECT(ipcx_send(tx, "1234567", 7, 0), IPCX_EMSGSIZE);
	T_ASSERT(strstr(ipcx_errmsg(), "8 bytes") != NULL);
	T_EXPECT(ipcx_send(tx, "123456789", 9, 0), IPCX_EMSGSIZE);
	T_EXPECT(ipcx_send(tx, "", 0, 0), IPCX_EMSGSIZE);
	/* Timeouts. */
	T_EXPECT(ipcx_recv(rx, small, sizeof(small), 0), IPCX_ETIMEDOUT);
	T_EXPECT(ipcx_recv(rx, &peer, 8, 20), IPCX_ETIMEDOUT);
	/* Too small a buffer: ENOBUFS once one is queued; it stays. */
	send_u64(tx, 77);
	T_EXPECT(ipcx_recv(rx, small, sizeof(small), LONG_MS), IPCX_ENOBUFS);
	T_EXPECT(ipcx_pending(rx), 8);
	T_ASSERT(recv_u64(rx) == 77);
	/* The signalfd polls readable while a value is queued. */
	T_EXPECT(ipcx_recv(rx, small, sizeof(small), 0), IPCX_ETIMEDOUT);
	T_ASSERT(!t_poll_in(ipcx_fd(rx), 0));
	send_u64(tx, 78);
	T_ASSERT(t_poll_in(ipcx_fd(rx), LONG_MS));
	T_ASSERT(recv_u64(rx) == 78);
	T_EXPECT(ipcx_fd(tx), IPCX_ENOTSUP);
	T_OK(ipcx_close(tx));
	T_OK(ipcx_close(rx));
}

static int child_receives_too(void *arg)
{
	ipcx_chan *rx;

	(void)arg;
	T_OK(ipcx_open("signal://", IPCX_RECV, &rx));
	T_OK(ipcx_close(rx));
	return 0;
}

static void test_options(void)
{
	ipcx_chan *rx, *rx2, *tx;
	char ep[64];

	/* One receiver per signal per process; another signal is fine. */
	T_OK(ipcx_open("signal://", IPCX_RECV, &rx));
	T_EXPECT(ipcx_open("signal://?sig=RTMIN+1", IPCX_RECV, &rx2),
	         IPCX_EBUSY);
	T_OK(ipcx_open("signal://?sig=RTMAX-1", IPCX_RECV, &rx2));
	T_OK(ipcx_close(rx2));
	/* A child forked meanwhile is another process: it may receive. */
	t_child_ok(t_fork(child_receives_too, NULL));
	T_OK(ipcx_close(rx));
	/* Receive only in this process. */
	snprintf(ep, sizeof(ep), "signal://%ld", (long)getpid());
	T_OK(ipcx_open(ep, IPCX_RECV, &rx));
	T_OK(ipcx_close(rx));
	T_EXPECT(ipcx_open("signal://1", IPCX_RECV, &rx), IPCX_EINVAL);
	/* Bad signals are refused by the parser. */
	T_EXPECT(ipcx_open("signal://?sig=TERM", IPCX_SEND, &tx), IPCX_EOPTION);
	T_EXPECT(ipcx_open("signal://?sig=9", IPCX_SEND, &tx), IPCX_EOPTION);
	T_EXPECT(ipcx_open("signal://?sig=RTMIN+99", IPCX_SEND, &tx),
	         IPCX_EOPTION);
	T_EXPECT(ipcx_open("signal://?mode=0600", IPCX_SEND, &tx),
	         IPCX_EOPTION);
	T_EXPECT(ipcx_open("signal://abc", IPCX_SEND, &tx), IPCX_EENDPOINT);
	/* A classic signal carries no value: empty messages only. */
	T_OK(ipcx_open("signal://?sig=USR2", IPCX_RECV, &rx));
	T_OK(ipcx_open("signal://?sig=SIGUSR2", IPCX_SEND, &tx));
	T_EXPECT(ipcx_send(tx, "12345678", 8, 0), IPCX_EMSGSIZE);
	T_ASSERT(strstr(ipcx_errmsg(), "no value") != NULL);
	T_OK(ipcx_send(tx, "", 0, 0));
	T_EXPECT(ipcx_recv(rx, ep, sizeof(ep), LONG_MS), 0);
	T_OK(ipcx_close(tx));
	T_OK(ipcx_close(rx));
	/* An ignored signal would swallow every value: refused. */
	signal(SIGRTMIN + 3, SIG_IGN);
	T_EXPECT(ipcx_open("signal://?sig=RTMIN+3", IPCX_RECV, &rx),
	         IPCX_EBUSY);
	signal(SIGRTMIN + 3, SIG_DFL);
}

/* ---- across processes ---- */

/*
 * A plain sigtimedwait receiver: blocks SIGRTMIN+1, says it is ready, and
 * writes each value it takes (sival_ptr, 8 bytes) to the parent.
 */
static int child_plain_receiver(void *arg)
{
	struct t_sync *s = arg;
	struct timespec ts = {10, 0};
	sigset_t set;
	siginfo_t si;

	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	t_notify_parent(s);
	for (int i = 0; i < 2; i++) {
		uint64_t v;
		if (sigtimedwait(&set, &si, &ts) < 0 || si.si_code != SI_QUEUE)
			return 1;
		v = (uint64_t)(uintptr_t)si.si_value.sival_ptr;
		if (write(s->c2p[1], &v, sizeof(v)) != sizeof(v))
			return 1;
	}
	return 0;
}

static void test_cli_to_plain(void)
{
	const char *ipcx = getenv("IPCX");
	struct t_sync s;
	char cmd[600];
	uint64_t v;
	pid_t pid;

	if (!ipcx) {
		fprintf(stderr, "  (IPCX not set: ipcx send not tested)\n");
		return;
	}
	t_sync_init(&s);
	pid = t_fork(child_plain_receiver, &s);
	t_wait_child(&s);
	snprintf(cmd, sizeof(cmd), "'%s' send signal://%ld 5 0x100000000", ipcx,
	         (long)pid);
	T_EXPECT(system(cmd), 0);
	T_ASSERT(t_poll_in(s.c2p[0], LONG_MS));
	T_ASSERT(read(s.c2p[0], &v, 8) == 8 && v == 5);
	T_ASSERT(t_poll_in(s.c2p[0], LONG_MS));
	T_ASSERT(read(s.c2p[0], &v, 8) == 8 && v == 4294967296ull);
	t_child_ok(pid);
	t_sync_close(&s);
}

static int child_exit(void *arg)
{
	(void)arg;
	return 0;
}

static int child_nobody_signals(void *arg)
{
	char ep[64];
	ipcx_chan *tx;
	int r;

	snprintf(ep, sizeof(ep), "signal://%ld", (long)*(pid_t *)arg);
	T_ASSERT(setgroups(0, NULL) == 0 && setgid(65534) == 0 &&
	         setuid(65534) == 0);
	r = ipcx_open(ep, IPCX_SEND, &tx);
	if (r != IPCX_EACCES || !strstr(ipcx_errmsg(), "may not signal")) {
		fprintf(stderr, "nobody signalling root: %s (%s)\n",
		        ipcx_errname(r), ipcx_errmsg());
		return 1;
	}
	return 0;
}

static void test_bad_pids(void)
{
	char ep[64];
	ipcx_chan *tx;
	pid_t pid, me = getpid();

	/* A pid that is gone (reaped: no zombie keeps it). */
	pid = t_fork(child_exit, NULL);
	t_child_ok(pid);
	snprintf(ep, sizeof(ep), "signal://%ld", (long)pid);
	T_EXPECT(ipcx_open(ep, IPCX_SEND, &tx), IPCX_ENOPEER);
	T_ASSERT(strstr(ipcx_errmsg(), "no process") != NULL);
	if (geteuid() != 0) {
		fprintf(stderr, "  (not root: EPERM not tested)\n");
		return;
	}
	pid = t_fork(child_nobody_signals, &me);
	t_child_ok(pid);
}

/* With RLIMIT_SIGPENDING 1, queueing to itself soon meets EAGAIN. */
static int child_full_queue(void *arg)
{
	struct rlimit rl = {1, 1};
	ipcx_chan *rx, *tx;
	int r = 0;

	(void)arg;
	T_OK(ipcx_open("signal://", IPCX_RECV, &rx));
	T_OK(ipcx_open("signal://", IPCX_SEND, &tx));
	T_ASSERT(setrlimit(RLIMIT_SIGPENDING, &rl) == 0);
	for (uint64_t i = 0; i < 64 && r == 0; i++)
		r = ipcx_send(tx, &i, 8, 0);
	if (r != IPCX_EAGAIN || !strstr(ipcx_errmsg(), "RLIMIT_SIGPENDING")) {
		fprintf(stderr, "full queue: %s (%s)\n", ipcx_errname(r),
		        ipcx_errmsg());
		return 1;
	}
	return 0;
}

static void test_full_queue(void)
{
	t_child_ok(t_fork(child_full_queue, NULL));
}

/* Send 0, 1, 2, ... to the parent until killed. */
static int child_stream(void *arg)
{
	struct t_sync *s = arg;
	char ep[64];
	ipcx_chan *tx;

	snprintf(ep, sizeof(ep), "signal://%ld", (long)getppid());
	T_OK(ipcx_open(ep, IPCX_SEND, &tx));
	t_notify_parent(s);
	/* A bounded number: the queue is shared by all of this uid. */
	for (uint64_t i = 0; i < 2000; i++) {
		int r;
		while ((r = ipcx_send(tx, &i, 8, 0)) == IPCX_EAGAIN)
			sched_yield(); /* the parent is behind */
		if (r < 0)
			return 3;
	}
	t_wait_parent(s); /* killed here */
	return 2;
}

/* Take values from the parent until killed. */
static int child_take(void *arg)
{
	struct t_sync *s = arg;
	ipcx_chan *rx;
	uint64_t v;

	T_OK(ipcx_open("signal://", IPCX_RECV, &rx));
	t_notify_parent(s);
	for (;;)
		if (ipcx_recv(rx, &v, 8, LONG_MS) < 0)
			return 3;
}

static void test_killed_peers(void)
{
	struct t_sync s;
	ipcx_chan *rx, *tx;
	uint64_t want = 0, v;
	char ep[64];
	ssize_t n;
	pid_t pid;
	int r = 0, st;

	for (int round = 0; round < 10; round++) {
		/* The sender dies: every value queued comes out, in order. */
		T_OK(ipcx_open("signal://", IPCX_RECV, &rx));
		t_sync_init(&s);
		pid = t_fork(child_stream, &s);
		t_wait_child(&s);
		want = 0;
		for (uint32_t k = t_rand_below(200); k > 0; k--)
			T_ASSERT(recv_u64(rx) == want++);
		T_ASSERT(kill(pid, SIGKILL) == 0);
		st = t_waitpid(pid, LONG_MS);
		T_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
		while ((n = ipcx_recv(rx, &v, 8, 50)) == 8)
			T_ASSERT(v == want++);
		T_EXPECT(n, IPCX_ETIMEDOUT);
		T_OK(ipcx_close(rx));
		t_sync_close(&s);

		/* The receiver dies: once it is reaped, sends say EPEER. */
		t_sync_init(&s);
		pid = t_fork(child_take, &s);
		t_wait_child(&s);
		snprintf(ep, sizeof(ep), "signal://%ld", (long)pid);
		T_OK(ipcx_open(ep, IPCX_SEND, &tx));
		for (uint64_t i = t_rand_below(100); i > 0; i--)
			T_OK(ipcx_send(tx, &i, 8, 0));
		T_ASSERT(kill(pid, SIGKILL) == 0);
		st = t_waitpid(pid, LONG_MS);
		T_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
		r = ipcx_send(tx, &want, 8, 0);
		T_EXPECT(r, IPCX_EPEER);
		T_OK(ipcx_close(tx));
		t_sync_close(&s);
	}
}

int main(void)
{
	t_seed();
	t_leak_begin();
	test_values();
	test_options();
	test_cli_to_plain();
	test_bad_pids();
	test_full_queue();
	test_killed_peers();
	t_leak_end();
	printf("signal tests passed\n");
	return T_EXIT_PASS;
}
