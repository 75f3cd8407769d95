/*
 * test-live.c - who is alive (src/ring/live.c): byte locks held by one
 * open file description and seen by another, dropped when the holder
 * closes or dies, a forked child's description of its own, and the
 * /proc/PID/stat reader, hostile command names included.
 */
#include "t.h"

#include "../src/ring/live.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *path;

static int open_file(void)
{
	int fd = shm_open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	T_ASSERT(fd >= 0);
	return fd;
}

static void test_locks(void)
{
	int a = open_file(), b = open_file();
	uint64_t far = (1ull << 32) + 12345;

	T_EXPECT(ipcx__live_held(b, 7), 0);
	T_OK(ipcx__live_hold(a, 7));
	T_OK(ipcx__live_hold(a, 7));        /* again: ours already */
	T_EXPECT(ipcx__live_held(a, 7), 0); /* our own lock: not "another" */
	T_EXPECT(ipcx__live_held(b, 7), 1);
	T_EXPECT(ipcx__live_hold(b, 7), IPCX_EBUSY);
	T_EXPECT(ipcx__live_held(b, 8), 0); /* one byte only */
	/* Far past the end of the file: fine, locks guard no data. */
	T_OK(ipcx__live_hold(a, far));
	T_EXPECT(ipcx__live_held(b, far), 1);
	ipcx__live_drop(a, 7);
	T_EXPECT(ipcx__live_held(b, 7), 0);
	close(a); /* the last fd: every lock goes */
	T_EXPECT(ipcx__live_held(b, far), 0);
	close(b);
}

/* A child holds a byte and dies: the kernel drops it. */
static int hold_and_die(void *arg)
{
	int *p = arg, fd = open_file();

	if (ipcx__live_hold(fd, 9) < 0 || write(p[1], "x", 1) != 1)
		return 2;
	raise(SIGKILL);
	return 3;
}

static void test_death(void)
{
	int p[2], fd = open_file(), st;
	char c;

	T_ASSERT(pipe(p) == 0);
	st = t_waitpid(t_fork(hold_and_die, p), 10000);
	T_ASSERT(read(p[0], &c, 1) == 1);
	T_ASSERT(WIFSIGNALED(st));
	T_EXPECT(ipcx__live_held(fd, 9), 0);
	close(p[0]);
	close(p[1]);
	close(fd);
}

/* After fork, reopen: the parent's lock dies with the parent's fd. */
static int child_reopen(void *arg)
{
	int *fds = arg;
	char c;

	if (ipcx__live_reopen(fds[0]) < 0)
		return 2;
	if (write(fds[2], "x", 1) != 1 || read(fds[1], &c, 1) != 1)
		return 3;
	return 0;
}

static void test_reopen(void)
{
	int a = open_file(), b = open_file(), p[2], q[2];
	int fds[3];
	pid_t pid;
	char c;

	T_ASSERT(pipe(p) == 0 && pipe(q) == 0);
	T_OK(ipcx__live_hold(a, 11));
	fds[0] = a;
	fds[1] = p[0];
	fds[2] = q[1];
	pid = t_fork(child_reopen, fds);
	T_ASSERT(read(q[0], &c, 1) == 1);
	close(a); /* the child holds only a description of its own */
	T_EXPECT(ipcx__live_held(b, 11), 0);
	T_ASSERT(write(p[1], "x", 1) == 1);
	T_EXPECT(t_waitpid(pid, 10000), 0);
	close(b);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
}

/*
 * /proc/PID/stat lines: the command name is chosen by its owner and may
 * hold ") Z " and digits; only the text after the last ')' counts.
 */
static void test_proc(void)
{
	static const char hostile[] =
	    "9 (x) Z 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 999) S 1 2 "
	    "3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 4242 0 0";
	char state = 0;
	uint32_t start = 0, me;
	pid_t pid;

	T_OK(ipcx__proc_stat_parse(hostile, sizeof(hostile) - 1, &state,
	                           &start));
	T_ASSERT(state == 'S' && start == 4242);
	/* Truncated lines, no ')' or no field 22: refused, never read past. */
	T_EXPECT(ipcx__proc_stat_parse("5 (a) R 1 2", 11, &state, &start),
	         IPCX_ECORRUPT);
	T_EXPECT(ipcx__proc_stat_parse("5 (a", 4, &state, &start),
	         IPCX_ECORRUPT);
	T_EXPECT(ipcx__proc_stat_parse("5 (a)", 5, &state, &start),
	         IPCX_ECORRUPT);
	T_EXPECT(ipcx__proc_stat_parse("", 0, &state, &start), IPCX_ECORRUPT);
	T_OK(ipcx__proc_start((uint32_t)getpid(), &state, &me));
	T_ASSERT(me != 0 && ipcx__proc_alive((uint32_t)getpid(), me));
	T_ASSERT(!ipcx__proc_alive((uint32_t)getpid(), me + 1));
	pid = fork();
	T_ASSERT(pid >= 0);
	if (pid == 0)
		_exit(0);
	T_EXPECT(t_waitpid(pid, 10000), 0);
	T_ASSERT(!ipcx__proc_alive((uint32_t)pid, 0));
	T_EXPECT(ipcx__proc_start((uint32_t)pid, &state, &me), IPCX_ENOENT);
}

int main(void)
{
	char p[200];

	snprintf(p, sizeof(p), "/%s", t_name("live"));
	path = p;
	t_leak_begin();
	test_locks();
	test_death();
	test_reopen();
	test_proc();
	shm_unlink(path);
	t_leak_end();
	return T_EXIT_PASS;
}
