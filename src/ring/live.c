/*
 * live.c - whether another process still takes part: open file
 * description byte locks (see live.h), and /proc/PID/stat for messages.
 */
#include "live.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void byte_lock(struct flock *fl, short type, uint64_t off)
{
	memset(fl, 0, sizeof(*fl));
	fl->l_type = type;
	fl->l_whence = SEEK_SET;
	fl->l_start = (off_t)off;
	fl->l_len = 1;
	/* l_pid must be 0 for the F_OFD_* commands. */
}

int ipcx__live_hold(int fd, uint64_t off)
{
	struct flock fl;

	byte_lock(&fl, F_WRLCK, off);
	if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
		return 0;
	if (errno == EAGAIN || errno == EACCES)
		return IPCX_EBUSY;
	return ipcx__errno(errno, "fcntl(F_OFD_SETLK) on a ring byte");
}

int ipcx__live_held(int fd, uint64_t off)
{
	struct flock fl;

	/* F_OFD_GETLK reports only locks of other descriptions: ours (a
	 * thread of this process holding the same role) reads as free, so
	 * callers never ask about themselves. */
	byte_lock(&fl, F_WRLCK, off);
	if (fcntl(fd, F_OFD_GETLK, &fl) < 0)
		return ipcx__errno(errno, "fcntl(F_OFD_GETLK) on a ring byte");
	return fl.l_type != F_UNLCK;
}

void ipcx__live_drop(int fd, uint64_t off)
{
	struct flock fl;

	byte_lock(&fl, F_UNLCK, off);
	(void)fcntl(fd, F_OFD_SETLK, &fl);
}

int ipcx__live_reopen(int fd)
{
	char path[32] = "/proc/self/fd/";
	char digits[12];
	int n = 0, nfd, v = fd;

	/* snprintf is not async-signal-safe: format the number by hand. */
	do
		digits[n++] = (char)('0' + v % 10);
	while ((v /= 10) && n < (int)sizeof(digits));
	for (int i = 0; i < n; i++)
		path[14 + i] = digits[n - 1 - i];
	path[14 + n] = 0;
	nfd = open(path, O_RDWR | O_CLOEXEC);
	if (nfd < 0)
		return IPCX_ESYS;
	/* dup2 replaces fd atomically: our reference to the shared
	 * description goes, the parent's stays (with its locks). */
	if (dup3(nfd, fd, O_CLOEXEC) < 0) {
		close(nfd);
		return IPCX_ESYS;
	}
	close(nfd);
	return 0;
}

int ipcx__proc_stat_parse(const char *buf, size_t n, char *state,
                          uint32_t *start)
{
	const char *p = NULL, *end = buf + n;
	int field;

	/* Field 2 is the command in parentheses and may hold anything
	 * (another user chooses it), spaces and ')' included: the fields
	 * resume after the last ')'. */
	for (const char *q = buf; q < end; q++)
		if (*q == ')')
			p = q;
	if (!p || end - p < 3 || p[1] != ' ')
		return IPCX_ECORRUPT;
	p += 2;
	*state = *p; /* field 3 */
	for (field = 3; field < 22; field++) {
		while (p < end && *p != ' ')
			p++;
		if (p >= end)
			return IPCX_ECORRUPT;
		p++;
	}
	if (p >= end || *p < '0' || *p > '9')
		return IPCX_ECORRUPT;
	/* field 22, kept to its low 32 bits */
	*start = 0;
	for (; p < end && *p >= '0' && *p <= '9'; p++)
		*start = *start * 10 + (uint32_t)(*p - '0');
	return 0;
}

int ipcx__proc_start(uint32_t pid, char *state, uint32_t *start)
{
	char path[32], buf[1024];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ESRCH
		           ? IPCX_ENOENT
		           : ipcx__errno(errno, "open %s", path);
	do
		n = read(fd, buf, sizeof(buf));
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n <= 0)
		return IPCX_ENOENT; /* the process went away while we read */
	return ipcx__proc_stat_parse(buf, (size_t)n, state, start);
}

bool ipcx__proc_alive(uint32_t pid, uint32_t start)
{
	uint32_t now_start = 0;
	char state = 0;
	int rc;

	if (pid == 0 || pid > INT_MAX)
		return false;
	rc = ipcx__proc_start(pid, &state, &now_start);
	if (rc == IPCX_ENOENT)
		return false;
	if (rc < 0) /* no /proc: the pid alone */
		return kill((pid_t)pid, 0) == 0 || errno == EPERM;
	if (state == 'Z' || state == 'X' || state == 'x')
		return false;
	return start == 0 || now_start == start;
}
