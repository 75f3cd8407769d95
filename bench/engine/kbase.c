/*
 * kbase.c - reference rows for signal:// and file://, measured with the
 * bare system calls and no ipcx, in the same run as their ipcx rows:
 *
 *   bare sigqueue       an 8-byte value to the echo child with sigqueue(2),
 *                       taken with sigtimedwait(2), echoed back the same
 *                       way: what a signal round trip costs at least;
 *   bare spool rename   the message written to a temporary file in a
 *                       directory, renamed into place; the echo child
 *                       waits with inotify, reads and unlinks it and
 *                       answers the same way in a second directory. No
 *                       fsync: the floor under file://?fsync=0.
 *
 * Round trips only (p50/p99/p99.9); every wait is bounded by the run's
 * timeout.
 */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void kb_row_init(struct bench_row *row, const char *name, const char *ep,
                        size_t size)
{
	memset(row, 0, sizeof(*row));
	snprintf(row->name, sizeof(row->name), "%s", name);
	snprintf(row->endpoint, sizeof(row->endpoint), "%s", ep);
	snprintf(row->wait, sizeof(row->wait), "kernel");
	row->kind = BENCH_BASELINE;
	row->size = size;
	row->status = BENCH_OK;
}

/*
 * Fill row from the n round-trip times in t (when ok, else say why it
 * failed) and reap the child whatever happened.
 */
static void kb_finish(const struct bench_config *cfg, struct bench_row *row,
                      struct bench_child *c, uint64_t *t, long n, int ok,
                      const char *why)
{
	int st;

	if (ok)
		bench_percentiles(t, (size_t)n, row);
	else {
		row->status = BENCH_FAIL;
		snprintf(row->note, sizeof(row->note), "%s",
		         bench_stop ? "interrupted" : why);
	}
	st = bench_reap(c, ok ? cfg->timeout_ms : 0);
	if (ok && st != 0) {
		row->status = BENCH_FAIL;
		snprintf(row->note, sizeof(row->note), "child exited with %d",
		         st);
	}
}

/* ---- sigqueue / sigtimedwait ---- */

struct kb_sig_job {
	long total;
	int to;
};

static int kb_sig_wait(int to, uint64_t *v)
{
	struct timespec ts = {to / 1000, (long)(to % 1000) * 1000000};
	sigset_t set;
	siginfo_t si;

	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 1);
	while (sigtimedwait(&set, &si, &ts) < 0)
		if (errno != EINTR || bench_stop)
			return -1;
	*v = (uint64_t)(uintptr_t)si.si_value.sival_ptr;
	return 0;
}

static int kb_sig_send(pid_t pid, uint64_t v)
{
	union sigval sv;

	memset(&sv, 0, sizeof(sv));
	sv.sival_ptr = (void *)(uintptr_t)v;
	return sigqueue(pid, SIGRTMIN + 1, sv);
}

static int kb_sig_child(void *arg, int ctl)
{
	struct kb_sig_job *j = arg;
	pid_t parent = getppid();
	uint64_t v;

	(void)ctl;
	for (long i = 0; i < j->total; i++)
		if (kb_sig_wait(j->to, &v) || kb_sig_send(parent, v))
			return 1;
	return 0;
}

void bench_sigqueue_row(const struct bench_config *cfg,
                        struct bench_result *res)
{
	struct kb_sig_job j = {0, cfg->timeout_ms};
	struct bench_child c = {-1, -1};
	struct bench_row row;
	sigset_t set, old;
	uint64_t *t, t0, v;
	long n, m, warm;
	char err[160];
	int ok = 1;

	kb_row_init(&row, "bare sigqueue", "sigqueue(2) + sigtimedwait(2)", 8);
	bench_counts(cfg, 8, &n, &m, &warm);
	j.total = warm + n;
	t = malloc(sizeof(*t) * (size_t)n);
	/* Blocked before fork, so the child has it blocked from birth. */
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 1);
	sigprocmask(SIG_BLOCK, &set, &old);
	if (!t || bench_fork(&c, kb_sig_child, &j, err, sizeof(err)) < 0) {
		row.status = BENCH_FAIL;
		snprintf(row.note, sizeof(row.note), "%s",
		         t ? err : "out of memory");
		goto out;
	}
	for (long i = 0; i < j.total && ok; i++) {
		t0 = bench_now_ns();
		ok = kb_sig_send(c.pid, (uint64_t)i) == 0 &&
		     kb_sig_wait(cfg->timeout_ms, &v) == 0 && v == (uint64_t)i;
		if (i >= warm)
			t[i - warm] = bench_now_ns() - t0;
	}
	kb_finish(cfg, &row, &c, t, n, ok, "the child stopped answering");
out:
	/* Anything still queued goes before the signal is unblocked. */
	{
		struct timespec zero = {0, 0};
		while (sigtimedwait(&set, NULL, &zero) > 0)
			;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	free(t);
	*bench_row_add(res) = row;
}

/* ---- rename into a spool ---- */

struct kb_spool_job {
	char dir[2][128]; /* [0] parent -> child, [1] child -> parent */
	size_t size;
	long total;
	int to;
};

/* Write buf as dir/t, rename it to dir/m. */
static int kb_spool_put(const char *dir, const void *buf, size_t n)
{
	char tmp[160], fin[160];
	int fd;

	snprintf(tmp, sizeof(tmp), "%s/t", dir);
	snprintf(fin, sizeof(fin), "%s/m", dir);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (n && write(fd, buf, n) != (ssize_t)n) {
		close(fd);
		return -1;
	}
	close(fd);
	return rename(tmp, fin);
}

/* Wait (inotify) for dir/m, read it into buf, unlink it. */
static int kb_spool_take(int ino, const char *dir, void *buf, size_t n, int to)
{
	char fin[160], ev[4096];
	struct pollfd pfd = {ino, POLLIN, 0};
	int fd;

	snprintf(fin, sizeof(fin), "%s/m", dir);
	while ((fd = open(fin, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno != ENOENT || bench_stop)
			return -1;
		if (poll(&pfd, 1, to) <= 0)
			return -1;
		while (read(ino, ev, sizeof(ev)) > 0)
			;
	}
	if (n && read(fd, buf, n) != (ssize_t)n) {
		close(fd);
		return -1;
	}
	close(fd);
	bench_progress++;
	return unlink(fin);
}

static int kb_spool_watch(const char *dir)
{
	int ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

	if (ino >= 0 && inotify_add_watch(ino, dir, IN_MOVED_TO) < 0) {
		close(ino);
		return -1;
	}
	return ino;
}

static int kb_spool_child(void *arg, int ctl)
{
	struct kb_spool_job *j = arg;
	void *buf = bench_alloc(j->size ? j->size : 1);
	int ino = kb_spool_watch(j->dir[0]);

	(void)ctl;
	if (!buf || ino < 0)
		return 1;
	bench_report(ctl, 'R', 0, "ready");
	for (long i = 0; i < j->total; i++)
		if (kb_spool_take(ino, j->dir[0], buf, j->size, j->to) ||
		    kb_spool_put(j->dir[1], buf, j->size))
			return 1;
	close(ino);
	bench_free(buf);
	return 0;
}

void bench_spool_row(const struct bench_config *cfg, size_t size, unsigned seq,
                     struct bench_result *res)
{
	struct kb_spool_job j;
	struct bench_child c = {-1, -1};
	struct bench_row row;
	struct bench_msg msg;
	uint64_t *t = NULL, t0;
	void *buf = NULL;
	long n, m, warm;
	char err[160];
	int ino = -1, ok = 1;

	memset(&j, 0, sizeof(j));
	kb_row_init(&row, "bare spool rename", "write + rename(2), inotify",
	            size);
	bench_counts(cfg, size, &n, &m, &warm);
	j.size = size;
	j.total = warm + n;
	j.to = cfg->timeout_ms;
	for (int k = 0; k < 2; k++)
		snprintf(j.dir[k], sizeof(j.dir[k]),
		         "/tmp/ipcx-bench-%ld-%u-spool%d", (long)getpid(), seq,
		         k);
	t = malloc(sizeof(*t) * (size_t)n);
	buf = bench_alloc(size ? size : 1);
	if (!t || !buf || mkdir(j.dir[0], 0700) || mkdir(j.dir[1], 0700) ||
	    (ino = kb_spool_watch(j.dir[1])) < 0) {
		row.status = BENCH_FAIL;
		snprintf(row.note, sizeof(row.note), "setup: %s",
		         strerror(errno));
		goto out;
	}
	if (bench_fork(&c, kb_spool_child, &j, err, sizeof(err)) < 0) {
		row.status = BENCH_FAIL;
		snprintf(row.note, sizeof(row.note), "%s", err);
		goto out;
	}
	if (bench_wait_report(&c, &msg, cfg->timeout_ms) != 1 ||
	    msg.kind != 'R')
		ok = 0;
	for (long i = 0; i < j.total && ok; i++) {
		t0 = bench_now_ns();
		ok = kb_spool_put(j.dir[0], buf, size) == 0 &&
		     kb_spool_take(ino, j.dir[1], buf, size, cfg->timeout_ms) ==
		         0;
		if (i >= warm)
			t[i - warm] = bench_now_ns() - t0;
	}
	kb_finish(cfg, &row, &c, t, n, ok, "the child stopped answering");
out:
	if (ino >= 0)
		close(ino);
	for (int k = 0; k < 2; k++) {
		char p[160];
		snprintf(p, sizeof(p), "%s/t", j.dir[k]);
		unlink(p);
		snprintf(p, sizeof(p), "%s/m", j.dir[k]);
		unlink(p);
		rmdir(j.dir[k]);
	}
	free(t);
	bench_free(buf);
	*bench_row_add(res) = row;
}
