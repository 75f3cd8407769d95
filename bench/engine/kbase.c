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
 * Each row has the round trip (p50/p99/p99.9) and a one-way stream
 * (msgs/s, bytes/s, both sides' CPU per message), like the ipcx rows; a
 * phase that outlasts its time budget is cut short (bench_budget_cut).
 * Every wait is bounded by the run's timeout.
 */
#include "bench.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
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

/* One message of a row: i-th round trip (echo) or i-th streamed message. */
typedef int (*kb_op)(void *ctx, long i);

/*
 * Time warm + plan->n round trips of rt(); past the budget the round trip
 * under way becomes the last. Fills row's percentiles; 0, or -1 when a
 * round trip failed.
 */
static int kb_rtt(const struct bench_config *cfg, struct bench_plan *plan,
                  long warm, kb_op rt, void *ctx, struct bench_row *row)
{
	uint64_t budget = bench_budget_ns(cfg, false), start = 0, t0;
	long n0 = plan->n, n = n0, total = warm + n;
	uint64_t *t = malloc(sizeof(*t) * (size_t)n);
	int ok = t != NULL;

	for (long i = 0; i < total && ok; i++) {
		t0 = bench_now_ns();
		if (i == warm)
			start = t0;
		if (i > warm && bench_budget_cut(budget, start, i - warm)) {
			plan->n = n = i - warm + 1;
			total = i + 1;
		}
		ok = rt(ctx, i) == 0;
		if (ok && i >= warm)
			t[i - warm] = bench_now_ns() - t0;
	}
	if (ok) {
		bench_percentiles(t, (size_t)n, row);
		bench_budget_note(row, false, n, n0, budget);
	}
	free(t);
	return ok ? 0 : -1;
}

/*
 * Send plan->m messages with send() (the budget may cut m), then wait for
 * the child's report {count, first, last receive time, CPU} and fill row's
 * throughput and both sides' CPU. 0, or -1.
 */
static int kb_stream(const struct bench_config *cfg, struct bench_plan *plan,
                     struct bench_child *c, kb_op send, void *ctx,
                     struct bench_row *row)
{
	uint64_t budget = bench_budget_ns(cfg, true), t0;
	long m0 = plan->m, m = m0;
	struct bench_cpu cpu;
	struct bench_msg msg;

	bench_cpu_start(&cpu);
	t0 = bench_now_ns();
	for (long i = 0; i < m; i++) {
		if (bench_budget_cut(budget, t0, i))
			plan->m = m = i + 1;
		if (send(ctx, i))
			return -1;
	}
	if (bench_wait_report(c, &msg, cfg->timeout_ms) != 1 ||
	    msg.kind != 'D' || msg.v[0] != (uint64_t)m || msg.v[2] <= t0)
		return -1;
	row->has_tput = true;
	row->messages = row->received = m;
	row->msgs_per_s =
	    (double)m / ((double)(msg.v[2] - t0) / BENCH_NS_PER_S);
	row->bytes_per_s = row->msgs_per_s * (double)row->size;
	bench_cpu_fill(&cpu, m, msg.v[3], row);
	bench_budget_note(row, true, m, m0, budget);
	return 0;
}

/*
 * The child's sink: take plan->m messages with take(), reading the count
 * after each, then report {count, first, last receive time, its CPU}.
 * 0 or 1.
 */
static int kb_sink(int ctl, struct bench_plan *plan, kb_op take, void *ctx)
{
	uint64_t v[4] = {0, 0, 0, bench_cpu_self_ns()};

	for (long i = 0; i < plan->m; i++) {
		if (take(ctx, i))
			return 1;
		v[2] = bench_now_ns();
		if (i == 0)
			v[1] = v[2];
		v[0]++;
	}
	v[3] = bench_cpu_self_ns() - v[3];
	bench_report_data(ctl, v);
	return 0;
}

/* Say why the row failed (unless ok) and reap the child whatever happened. */
static void kb_finish(const struct bench_config *cfg, struct bench_row *row,
                      struct bench_child *c, int ok, const char *why)
{
	int st;

	if (!ok) {
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
	struct bench_plan *plan;
	long warm;
	pid_t peer; /* the other side's pid */
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

/* Queue v to pid; a full signal queue (EAGAIN) waits for room. */
static int kb_sig_send(pid_t pid, uint64_t v)
{
	union sigval sv;

	memset(&sv, 0, sizeof(sv));
	sv.sival_ptr = (void *)(uintptr_t)v;
	while (sigqueue(pid, SIGRTMIN + 1, sv) < 0)
		if (errno != EAGAIN || bench_stop)
			return -1;
		else
			sched_yield();
	return 0;
}

/* Take the i-th signal; it must carry i. */
static int kb_sig_take(void *ctx, long i)
{
	struct kb_sig_job *j = ctx;
	uint64_t v;

	return kb_sig_wait(j->to, &v) || v != (uint64_t)i ? -1 : 0;
}

static int kb_sig_put(void *ctx, long i)
{
	struct kb_sig_job *j = ctx;

	return kb_sig_send(j->peer, (uint64_t)i);
}

static int kb_sig_rt(void *ctx, long i)
{
	return kb_sig_put(ctx, i) || kb_sig_take(ctx, i) ? -1 : 0;
}

static int kb_sig_child(void *arg, int ctl)
{
	struct kb_sig_job *j = arg;

	j->peer = getppid();
	/* Echo (the count is read after each round trip), then sink. */
	for (long i = 0; i < j->warm + j->plan->n; i++)
		if (kb_sig_take(j, i) || kb_sig_put(j, i))
			return 1;
	return kb_sink(ctl, j->plan, kb_sig_take, j);
}

void bench_sigqueue_row(const struct bench_config *cfg,
                        struct bench_result *res)
{
	struct kb_sig_job j = {NULL, 0, -1, cfg->timeout_ms};
	struct bench_child c = {-1, -1};
	struct bench_row row;
	sigset_t set, old;
	long n, m;
	char err[160];
	int ok = 1;

	kb_row_init(&row, "bare sigqueue", "sigqueue(2) + sigtimedwait(2)", 8);
	bench_counts(cfg, 8, &n, &m, &j.warm);
	j.plan = bench_plan_map(n, m);
	/* Blocked before fork, so the child has it blocked from birth. */
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 1);
	sigprocmask(SIG_BLOCK, &set, &old);
	if (!j.plan || bench_fork(&c, kb_sig_child, &j, err, sizeof(err)) < 0) {
		row.status = BENCH_FAIL;
		snprintf(row.note, sizeof(row.note), "%s",
		         j.plan ? err : "out of memory");
		goto out;
	}
	j.peer = c.pid;
	ok = kb_rtt(cfg, j.plan, j.warm, kb_sig_rt, &j, &row) == 0 &&
	     kb_stream(cfg, j.plan, &c, kb_sig_put, &j, &row) == 0;
	kb_finish(cfg, &row, &c, ok, "the child stopped answering");
out:
	/* Anything still queued goes before the signal is unblocked. */
	{
		struct timespec zero = {0, 0};
		while (sigtimedwait(&set, NULL, &zero) > 0)
			;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	bench_plan_unmap(j.plan);
	*bench_row_add(res) = row;
}

/* ---- rename into a spool ---- */

struct kb_spool_job {
	char dir[2][128]; /* [0] parent -> child, [1] child -> parent */
	struct bench_plan *plan;
	size_t size;
	long warm;
	int to;
	int side; /* 0 the parent, 1 the child: which dir it writes */
	int ino;  /* inotify on the dir it reads */
	void *buf;
};

/* Write buf as dir/t, rename it to dir/m<i>. */
static int kb_spool_put(void *ctx, long i)
{
	struct kb_spool_job *j = ctx;
	const char *dir = j->dir[j->side];
	char tmp[160], fin[160];
	int fd;

	snprintf(tmp, sizeof(tmp), "%s/t", dir);
	snprintf(fin, sizeof(fin), "%s/m%ld", dir, i);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (j->size && write(fd, j->buf, j->size) != (ssize_t)j->size) {
		close(fd);
		return -1;
	}
	close(fd);
	return rename(tmp, fin);
}

/* Wait (inotify) for dir/m<i>, read it into buf, unlink it. */
static int kb_spool_take(void *ctx, long i)
{
	struct kb_spool_job *j = ctx;
	char fin[160], ev[4096];
	struct pollfd pfd = {j->ino, POLLIN, 0};
	int fd;

	snprintf(fin, sizeof(fin), "%s/m%ld", j->dir[!j->side], i);
	while ((fd = open(fin, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno != ENOENT || bench_stop)
			return -1;
		if (poll(&pfd, 1, j->to) <= 0)
			return -1;
		while (read(j->ino, ev, sizeof(ev)) > 0)
			;
	}
	if (j->size && read(fd, j->buf, j->size) != (ssize_t)j->size) {
		close(fd);
		return -1;
	}
	close(fd);
	bench_progress++;
	return unlink(fin);
}

static int kb_spool_rt(void *ctx, long i)
{
	return kb_spool_put(ctx, i) || kb_spool_take(ctx, i) ? -1 : 0;
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

	if (j->ino >= 0)
		close(j->ino); /* the parent's watch */
	j->side = 1;
	j->buf = bench_alloc(j->size ? j->size : 1);
	j->ino = kb_spool_watch(j->dir[0]);
	if (!j->buf || j->ino < 0)
		return 1;
	bench_report(ctl, 'R', 0, "ready");
	for (long i = 0; i < j->warm + j->plan->n; i++)
		if (kb_spool_take(j, i) || kb_spool_put(j, i))
			return 1;
	if (kb_sink(ctl, j->plan, kb_spool_take, j))
		return 1;
	close(j->ino);
	bench_free(j->buf);
	return 0;
}

/* Remove dir and what a run may have left in it. */
static void kb_spool_rmdir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[400];

	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
			unlink(p);
		}
	if (d)
		closedir(d);
	rmdir(dir);
}

void bench_spool_row(const struct bench_config *cfg, size_t size, unsigned seq,
                     struct bench_result *res)
{
	struct kb_spool_job j;
	struct bench_child c = {-1, -1};
	struct bench_row row;
	struct bench_msg msg;
	long n, m;
	char err[160];
	int ok = 1;

	memset(&j, 0, sizeof(j));
	j.ino = -1;
	kb_row_init(&row, "bare spool rename", "write + rename(2), inotify",
	            size);
	bench_counts(cfg, size, &n, &m, &j.warm);
	j.size = size;
	j.to = cfg->timeout_ms;
	for (int k = 0; k < 2; k++)
		snprintf(j.dir[k], sizeof(j.dir[k]),
		         "/tmp/ipcx-bench-%ld-%u-spool%d", (long)getpid(), seq,
		         k);
	j.plan = bench_plan_map(n, m);
	j.buf = bench_alloc(size ? size : 1);
	if (!j.plan || !j.buf || mkdir(j.dir[0], 0700) ||
	    mkdir(j.dir[1], 0700) || (j.ino = kb_spool_watch(j.dir[1])) < 0) {
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
	ok = bench_wait_report(&c, &msg, cfg->timeout_ms) == 1 &&
	     msg.kind == 'R' &&
	     kb_rtt(cfg, j.plan, j.warm, kb_spool_rt, &j, &row) == 0 &&
	     kb_stream(cfg, j.plan, &c, kb_spool_put, &j, &row) == 0;
	kb_finish(cfg, &row, &c, ok, "the child stopped answering");
out:
	if (j.ino >= 0)
		close(j.ino);
	for (int k = 0; k < 2; k++)
		kb_spool_rmdir(j.dir[k]);
	bench_plan_unmap(j.plan);
	bench_free(j.buf);
	*bench_row_add(res) = row;
}
