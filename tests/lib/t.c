/* t.c - the tests' shared helpers (see t.h). */
#include "t.h"

#include "ipcx.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *t_errmsg(void)
{
	return ipcx_errmsg();
}

static int t_fds_at_start[1024];

static void t_fd_scan(int *set, size_t n)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	memset(set, 0, n * sizeof(*set));
	T_ASSERT(d != NULL);
	while ((e = readdir(d)) != NULL) {
		int fd = atoi(e->d_name);
		if (e->d_name[0] == '.' || fd == dirfd(d))
			continue;
		if (fd >= 0 && (size_t)fd < n)
			set[fd] = 1;
	}
	closedir(d);
}

int t_fd_count(void)
{
	int set[1024], n = 0;

	t_fd_scan(set, 1024);
	for (int i = 0; i < 1024; i++)
		n += set[i];
	return n;
}

void t_leak_begin(void)
{
	t_fd_scan(t_fds_at_start, 1024);
}

void t_leak_end(void)
{
	int now[1024];
	int leaked = 0;

	t_fd_scan(now, 1024);
	for (int i = 0; i < 1024; i++) {
		if (now[i] && !t_fds_at_start[i]) {
			char link[64], target[256];
			ssize_t n;
			snprintf(link, sizeof(link), "/proc/self/fd/%d", i);
			n = readlink(link, target, sizeof(target) - 1);
			target[n > 0 ? n : 0] = '\0';
			fprintf(stderr, "leaked fd %d -> %s\n", i, target);
			leaked++;
		}
	}
	T_ASSERT(leaked == 0);
}

const char *t_name(const char *tag)
{
	static char buf[4][128];
	static int k;
	char *b = buf[k++ & 3];

	snprintf(b, 128, "ipcx-t%d-%s", (int)getpid(), tag);
	return b;
}

const char *t_tmp_path(const char *tag)
{
	static char buf[4][160];
	static int k;
	char *b = buf[k++ & 3];

	snprintf(b, 160, "/tmp/ipcx-t%d-%s", (int)getpid(), tag);
	return b;
}

void t_sync_init(struct t_sync *s)
{
	T_ASSERT(pipe(s->p2c) == 0);
	T_ASSERT(pipe(s->c2p) == 0);
}

void t_sync_close(struct t_sync *s)
{
	close(s->p2c[0]);
	close(s->p2c[1]);
	close(s->c2p[0]);
	close(s->c2p[1]);
}

static void t_put(int fd)
{
	char c = 1;
	ssize_t n;

	do
		n = write(fd, &c, 1);
	while (n < 0 && errno == EINTR);
	T_ASSERT(n == 1);
}

static void t_get(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char c;
	int r;

	do
		r = poll(&p, 1, 10000);
	while (r < 0 && errno == EINTR);
	if (r == 0) {
		fprintf(stderr, "t_sync: peer did not answer in 10 s\n");
		exit(T_EXIT_FAIL);
	}
	T_ASSERT(read(fd, &c, 1) == 1);
}

void t_notify_parent(struct t_sync *s)
{
	t_put(s->c2p[1]);
}

void t_wait_child(struct t_sync *s)
{
	t_get(s->c2p[0]);
}

void t_notify_child(struct t_sync *s)
{
	t_put(s->p2c[1]);
}

void t_wait_parent(struct t_sync *s)
{
	t_get(s->p2c[0]);
}

pid_t t_fork(int (*fn)(void *), void *arg)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	T_ASSERT(pid >= 0);
	if (pid == 0)
		_exit(fn(arg));
	return pid;
}

int t_waitpid(pid_t pid, int timeout_ms)
{
	struct timespec ts = {0, 1000000};
	int status = 0;

	for (int waited = 0;; waited++) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return status;
		T_ASSERT(r == 0);
		if (waited >= timeout_ms) {
			fprintf(stderr, "child %d did not exit in %d ms\n",
				(int)pid, timeout_ms);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			exit(T_EXIT_FAIL);
		}
		nanosleep(&ts, NULL);
	}
}
