/*
 * baseline.c - the reference rows, measured in the same run as the rest:
 *
 *   cache-line ping-pong  two processes bounce a counter through two
 *                         atomics in a MAP_SHARED page, each on its own
 *                         cache line: the floor of any shared-memory round
 *                         trip on this machine;
 *   bare pipe             raw read()/write() of the message over two pipes,
 *                         no ipcx: the floor of every kernel mechanism that
 *                         sleeps and wakes;
 *   bare socketpair       the same over one AF_UNIX stream socketpair: the
 *                         floor of the socket transports;
 *   memcpy                single-core memcpy bandwidth at the size: what a
 *                         copying transport can hope to stream;
 *   bare sem_post/wait    two process-shared POSIX semaphores in a shared
 *                         page, posted and waited on directly: the floor of
 *                         the semaphore transports' events.
 */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

static inline void base_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield" ::: "memory");
#endif
}

static void base_row_init(struct bench_row *row, const char *name,
                          const char *wait, size_t size)
{
	memset(row, 0, sizeof(*row));
	snprintf(row->name, sizeof(row->name), "%s", name);
	snprintf(row->wait, sizeof(row->wait), "%s", wait);
	row->kind = BENCH_BASELINE;
	row->size = size;
	row->status = BENCH_OK;
}

static void base_emit(const struct bench_config *cfg, struct bench_result *res,
                      const struct bench_row *row)
{
	(void)cfg;
	*bench_row_add(res) = *row;
}

/* ---- cache-line ping-pong ---- */

/* Each counter alone on its line; 128 apart to dodge the pair prefetcher. */
struct base_lines {
	_Alignas(128) _Atomic uint64_t ping;
	_Alignas(128) _Atomic uint64_t pong;
};

#define BASE_STOP UINT64_MAX

struct base_pp_job {
	struct base_lines *lines;
	long total;
	int to;
	bool yield; /* one CPU: spinning only burns the other side's slice */
};

/*
 * Spin until *v is want (or BASE_STOP). The clock is read only every 4096
 * turns, so a wait is bounded by about `to` without slowing the fast path.
 * Returns 0, or -1 on timeout or stop.
 */
static int base_spin(_Atomic uint64_t *v, uint64_t want, int to, bool yield)
{
	uint64_t start = 0;

	for (unsigned k = 1;; k++) {
		uint64_t x = atomic_load_explicit(v, memory_order_acquire);

		if (x == want || x == BASE_STOP)
			return x == want ? 0 : -1;
		if (yield)
			sched_yield();
		else
			base_relax();
		if ((k & 4095) == 0) {
			uint64_t now = bench_now_ns();

			if (bench_stop)
				return -1;
			if (!start)
				start = now;
			else if (now - start > (uint64_t)to * BENCH_NS_PER_MS)
				return -1;
		}
	}
}

static int base_pp_child(void *arg, int ctl)
{
	struct base_pp_job *j = arg;

	(void)ctl;
	for (long i = 1; i <= j->total; i++) {
		if (base_spin(&j->lines->ping, (uint64_t)i, j->to, j->yield))
			return 1;
		/* Release: the parent's acquire load pairs with it. */
		atomic_store_explicit(&j->lines->pong, (uint64_t)i,
		                      memory_order_release);
	}
	return 0;
}

void bench_pingpong_row(const struct bench_config *cfg,
                        struct bench_result *res)
{
	struct bench_row row;
	struct base_pp_job j;
	struct bench_child c;
	long n, m, warm;
	uint64_t *t = NULL;
	char err[160];
	int st;

	base_row_init(&row, "cache-line ping-pong", "spin", 64);
	row.absent = BENCH_NO_TPUT | BENCH_NO_CPU;
	snprintf(row.absent_why, sizeof(row.absent_why),
	         "a counter bounced between two cores, no stream");
	bench_counts(cfg, 64, &n, &m, &warm);
	j.lines = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	t = malloc(sizeof(*t) * (size_t)n);
	if (j.lines == MAP_FAILED || !t) {
		row.status = BENCH_FAIL;
		snprintf(row.note, sizeof(row.note), "out of memory");
		goto out;
	}
	j.total = warm + n;
	j.to = cfg->timeout_ms;
	j.yield = bench_cpu_child < 0 && res->ncpu < 2;
	if (bench_fork(&c, base_pp_child, &j, err, sizeof(err)) < 0) {
		row.status = BENCH_FAIL;
		snprintf(row.note, sizeof(row.note), "%s", err);
		goto out;
	}
	for (long i = 1; i <= j.total; i++) {
		uint64_t t0 = bench_now_ns();

		atomic_store_explicit(&j.lines->ping, (uint64_t)i,
		                      memory_order_release);
		if (base_spin(&j.lines->pong, (uint64_t)i, j.to, j.yield)) {
			row.status = BENCH_FAIL;
			snprintf(row.note, sizeof(row.note), "%s",
			         bench_stop ? "interrupted"
			                    : "the child stopped answering");
			break;
		}
		if (i > warm)
			t[i - warm - 1] = bench_now_ns() - t0;
	}
	atomic_store_explicit(&j.lines->ping, BASE_STOP, memory_order_release);
	st = bench_reap(&c, row.status == BENCH_OK ? j.to : 0);
	if (row.status == BENCH_OK && st != 0) {
		row.status = BENCH_FAIL;
		snprintf(row.note, sizeof(row.note), "child exited with %d",
		         st);
	}
	if (row.status == BENCH_OK)
		bench_percentiles(t, (size_t)n, &row);
out:
	if (j.lines != MAP_FAILED)
		munmap(j.lines, 4096);
	free(t);
	base_emit(cfg, res, &row);
}

/* ---- bare pipe ---- */

struct base_pipe_job {
	int p2c[2], c2p[2];
	size_t size;
	long total, m;
};

/* read() exactly n bytes: 0, or -1 on EOF, error or a stuck watchdog. */
static int base_read_full(int fd, void *buf, size_t n)
{
	char *p = buf;

	while (n > 0) {
		ssize_t r = read(fd, p, n);

		if (r > 0) {
			p += r;
			n -= (size_t)r;
			continue;
		}
		if (r < 0 && errno == EINTR && !bench_stuck && !bench_stop)
			continue;
		return -1;
	}
	bench_progress++;
	return 0;
}

static int base_write_full(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n > 0) {
		ssize_t r = write(fd, p, n);

		if (r > 0) {
			p += r;
			n -= (size_t)r;
			continue;
		}
		if (r < 0 && errno == EINTR && !bench_stuck && !bench_stop)
			continue;
		return -1;
	}
	return 0;
}

static int base_pipe_child(void *arg, int ctl)
{
	struct base_pipe_job *j = arg;
	uint64_t ack[4] = {0, 0, 0, 0};
	void *buf = bench_alloc(j->size);

	(void)ctl;
	close(j->p2c[1]);
	close(j->c2p[0]);
	if (!buf)
		return 1;
	/* Echo; a read fails at EOF, when the parent is gone. */
	for (long i = 0; i < j->total; i++)
		if (base_read_full(j->p2c[0], buf, j->size) ||
		    base_write_full(j->c2p[1], buf, j->size))
			return 1;
	/* Sink m messages, then say when the last one arrived and the CPU
	 * it took. */
	ack[3] = bench_cpu_self_ns();
	for (long i = 0; i < j->m; i++) {
		if (base_read_full(j->p2c[0], buf, j->size))
			return 1;
		ack[2] = bench_now_ns();
		if (i == 0)
			ack[1] = ack[2];
		ack[0]++;
	}
	ack[3] = bench_cpu_self_ns() - ack[3];
	if (base_write_full(j->c2p[1], ack, sizeof(ack)))
		return 1;
	bench_free(buf);
	return 0;
}

/*
 * Two one-way byte channels: two pipes, or one socketpair whose ends are
 * duplicated so that the parent and the child each close "the other" end
 * exactly as with pipes. Returns 0, or -1 with errno.
 */
static int base_channels(struct base_pipe_job *j, bool sock)
{
	int sv[2];

	if (!sock)
		return pipe2(j->p2c, O_CLOEXEC) || pipe2(j->c2p, O_CLOEXEC) ? -1
		                                                            : 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -1;
	j->p2c[1] = sv[0]; /* parent writes, child reads */
	j->p2c[0] = sv[1];
	j->c2p[0] = fcntl(sv[0], F_DUPFD_CLOEXEC, 0);
	j->c2p[1] = fcntl(sv[1], F_DUPFD_CLOEXEC, 0);
	return j->c2p[0] < 0 || j->c2p[1] < 0 ? -1 : 0;
}

static void base_stream_row(const struct bench_config *cfg, size_t size,
                            bool sock, struct bench_result *res)
{
	struct base_pipe_job j;
	struct bench_child c = {-1, -1};
	struct bench_row row;
	uint64_t *t = NULL, ack[4], t0, c0;
	void *buf = NULL;
	long n, warm;
	char err[160];
	int st;

	base_row_init(&row, sock ? "bare socketpair" : "bare pipe", "kernel",
	              size);
	snprintf(row.endpoint, sizeof(row.endpoint), "%s",
	         sock ? "socketpair(AF_UNIX, SOCK_STREAM), raw read/write"
	              : "pipe(2), raw read/write");
	bench_counts(cfg, size, &n, &j.m, &warm);
	/* A pipe cannot carry an empty message; one byte stands in for it. */
	j.size = size ? size : 1;
	j.total = warm + n;
	j.p2c[0] = j.p2c[1] = j.c2p[0] = j.c2p[1] = -1;
	t = malloc(sizeof(*t) * (size_t)n);
	buf = bench_alloc(j.size);
	if (!t || !buf || base_channels(&j, sock)) {
		row.status = BENCH_FAIL;
		snprintf(row.note, sizeof(row.note), "setup: %s",
		         strerror(errno));
		goto out;
	}
	if (bench_fork(&c, base_pipe_child, &j, err, sizeof(err)) < 0) {
		row.status = BENCH_FAIL;
		snprintf(row.note, sizeof(row.note), "%s", err);
		goto out;
	}
	close(j.p2c[0]);
	close(j.c2p[1]);
	j.p2c[0] = j.c2p[1] = -1;
	bench_watchdog_start(cfg->timeout_ms);
	for (long i = 0; i < j.total; i++) {
		t0 = bench_now_ns();
		if (base_write_full(j.p2c[1], buf, j.size) ||
		    base_read_full(j.c2p[0], buf, j.size)) {
			row.status = BENCH_FAIL;
			break;
		}
		if (i >= warm)
			t[i - warm] = bench_now_ns() - t0;
	}
	if (row.status == BENCH_OK) {
		bench_percentiles(t, (size_t)n, &row);
		t0 = bench_now_ns();
		c0 = bench_cpu_self_ns();
		for (long i = 0; i < j.m && row.status == BENCH_OK; i++)
			if (base_write_full(j.p2c[1], buf, j.size))
				row.status = BENCH_FAIL;
		if (row.status == BENCH_OK &&
		    base_read_full(j.c2p[0], ack, sizeof(ack)) == 0 &&
		    ack[0] == (uint64_t)j.m && ack[2] > t0) {
			row.has_tput = true;
			row.messages = row.received = j.m;
			row.msgs_per_s = (double)j.m / ((double)(ack[2] - t0) /
			                                BENCH_NS_PER_S);
			row.bytes_per_s = row.msgs_per_s * (double)j.size;
			row.has_cpu = true;
			row.tx_cpu_ns =
			    (double)(bench_cpu_self_ns() - c0) / (double)j.m;
			row.rx_cpu_ns = (double)ack[3] / (double)j.m;
			row.cpu_ns_per_msg = row.rx_cpu_ns + row.tx_cpu_ns;
		} else {
			row.status = BENCH_FAIL;
		}
	}
	bench_watchdog_stop();
	if (row.status != BENCH_OK)
		snprintf(row.note, sizeof(row.note), "%s",
		         bench_stop    ? "interrupted"
		         : bench_stuck ? "the child stopped answering"
		                       : "the child went away");
	st = bench_reap(&c, row.status == BENCH_OK ? cfg->timeout_ms : 0);
	if (row.status == BENCH_OK && st != 0) {
		row.status = BENCH_FAIL;
		snprintf(row.note, sizeof(row.note), "child exited with %d",
		         st);
	}
out:
	for (int i = 0; i < 2; i++) {
		if (j.p2c[i] >= 0)
			close(j.p2c[i]);
		if (j.c2p[i] >= 0)
			close(j.c2p[i]);
	}
	free(t);
	bench_free(buf);
	base_emit(cfg, res, &row);
}

void bench_pipe_row(const struct bench_config *cfg, size_t size,
                    struct bench_result *res)
{
	base_stream_row(cfg, size, false, res);
}

void bench_socketpair_row(const struct bench_config *cfg, size_t size,
                          struct bench_result *res)
{
	base_stream_row(cfg, size, true, res);
}

/* ---- memcpy ---- */

void bench_memcpy_row(const struct bench_config *cfg, size_t size,
                      struct bench_result *res)
{
	struct bench_row row;
	size_t sz = size ? size : 1;
	char *src = bench_alloc(sz), *dst = bench_alloc(sz);
	uint64_t budget = cfg->quick ? 5000000u : 100000000u;
	uint64_t t0, el = 0;
	long iters = 0, batch = 16;

	base_row_init(&row, "memcpy", "-", size);
	snprintf(row.endpoint, sizeof(row.endpoint), "one core, warm cache");
	row.absent = BENCH_NO_RTT;
	snprintf(row.absent_why, sizeof(row.absent_why),
	         "one process copies, nothing comes back");
	if (!src || !dst) {
		row.status = BENCH_FAIL;
		snprintf(row.note, sizeof(row.note), "out of memory");
		goto out;
	}
	/* Warm both buffers, then double the batch until the clock's cost
	 * is noise, and run batches until the time budget is spent. */
	memcpy(dst, src, sz);
	t0 = bench_now_ns();
	while (el < budget && !bench_stop) {
		for (long i = 0; i < batch; i++) {
			memcpy(dst, src, sz);
			/* Keep the compiler from dropping or merging copies. */
			__asm__ volatile("" : : "r"(dst), "r"(src) : "memory");
		}
		iters += batch;
		el = bench_now_ns() - t0;
		if (batch < (1L << 20) && el < budget / 16)
			batch *= 2;
	}
	row.has_tput = true;
	row.messages = row.received = iters;
	row.msgs_per_s = (double)iters / ((double)el / BENCH_NS_PER_S);
	row.bytes_per_s = row.msgs_per_s * (double)sz;
	/* One core busy the whole time: the CPU of a copy is its time. */
	row.has_cpu = true;
	row.tx_cpu_ns = row.cpu_ns_per_msg = (double)el / (double)iters;
out:
	bench_free(src);
	bench_free(dst);
	base_emit(cfg, res, &row);
}

/* ---- bare sem_post / sem_wait ---- */

struct base_sems {
	sem_t ping, pong;
	long total, m;
	int to;
};

/* sem_clockwait with a timeout of to ms: 0, or -1 (timeout, error). */
static int base_sem_wait(sem_t *s, int to)
{
	struct timespec ts;
	uint64_t end = bench_now_ns() + (uint64_t)to * BENCH_NS_PER_MS;

	ts.tv_sec = (time_t)(end / BENCH_NS_PER_S);
	ts.tv_nsec = (long)(end % BENCH_NS_PER_S);
	while (sem_clockwait(s, CLOCK_MONOTONIC, &ts) < 0)
		if (errno != EINTR || bench_stop)
			return -1;
	return 0;
}

static int base_sem_child(void *arg, int ctl)
{
	struct base_sems *j = arg;
	uint64_t ack[4] = {0, 0, 0, 0};

	/* Echo: each post on ping answered by one on pong. */
	for (long i = 0; i < j->total; i++)
		if (base_sem_wait(&j->ping, j->to) || sem_post(&j->pong))
			return 1;
	/* Sink m posts, then say when the last one arrived and the CPU it
	 * took. */
	ack[3] = bench_cpu_self_ns();
	for (long i = 0; i < j->m; i++) {
		if (base_sem_wait(&j->ping, j->to))
			return 1;
		ack[2] = bench_now_ns();
		if (i == 0)
			ack[1] = ack[2];
		ack[0]++;
	}
	ack[3] = bench_cpu_self_ns() - ack[3];
	bench_report_data(ctl, ack);
	return 0;
}

void bench_sem_row(const struct bench_config *cfg, struct bench_result *res)
{
	struct bench_child c = {-1, -1};
	struct base_sems *j;
	struct bench_row row;
	struct bench_msg msg;
	struct bench_cpu cpu;
	uint64_t *t = NULL, t0;
	long n, m, warm;
	char err[160];
	int st;

	base_row_init(&row, "bare sem_post/sem_wait", "kernel", 0);
	snprintf(row.endpoint, sizeof(row.endpoint),
	         "sem_init(pshared) in a shared page, no ipcx");
	bench_counts(cfg, 0, &n, &m, &warm);
	if (m > 30000)
		m = 30000; /* as the ipcx event rows */
	j = mmap(NULL, sizeof(*j), PROT_READ | PROT_WRITE,
	         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	t = malloc(sizeof(*t) * (size_t)n);
	if (j == MAP_FAILED || !t || sem_init(&j->ping, 1, 0) ||
	    sem_init(&j->pong, 1, 0)) {
		row.status = BENCH_FAIL;
		snprintf(row.note, sizeof(row.note), "setup: %s",
		         strerror(errno));
		if (j == MAP_FAILED)
			j = NULL;
		goto out;
	}
	j->total = warm + n;
	j->m = m;
	j->to = cfg->timeout_ms;
	if (bench_fork(&c, base_sem_child, j, err, sizeof(err)) < 0) {
		row.status = BENCH_FAIL;
		snprintf(row.note, sizeof(row.note), "%s", err);
		goto out;
	}
	for (long i = 0; i < j->total && row.status == BENCH_OK; i++) {
		t0 = bench_now_ns();
		if (sem_post(&j->ping) || base_sem_wait(&j->pong, j->to))
			row.status = BENCH_FAIL;
		else if (i >= warm)
			t[i - warm] = bench_now_ns() - t0;
	}
	if (row.status == BENCH_OK) {
		bench_percentiles(t, (size_t)n, &row);
		bench_cpu_start(&cpu);
		t0 = bench_now_ns();
		for (long i = 0; i < m; i++)
			sem_post(&j->ping);
		if (bench_wait_report(&c, &msg, cfg->timeout_ms) == 1 &&
		    msg.kind == 'D' && msg.v[0] == (uint64_t)m &&
		    msg.v[2] > t0) {
			row.has_tput = true;
			row.messages = row.received = m;
			row.msgs_per_s = (double)m / ((double)(msg.v[2] - t0) /
			                              BENCH_NS_PER_S);
			bench_cpu_fill(&cpu, m, msg.v[3], &row);
		} else {
			row.status = BENCH_FAIL;
		}
	}
	if (row.status != BENCH_OK && !row.note[0])
		snprintf(row.note, sizeof(row.note), "%s",
		         bench_stop ? "interrupted"
		                    : "the child stopped answering");
	st = bench_reap(&c, row.status == BENCH_OK ? cfg->timeout_ms : 0);
	if (row.status == BENCH_OK && st != 0) {
		row.status = BENCH_FAIL;
		snprintf(row.note, sizeof(row.note), "child exited with %d",
		         st);
	}
out:
	if (j) {
		sem_destroy(&j->ping);
		sem_destroy(&j->pong);
		munmap(j, sizeof(*j));
	}
	free(t);
	base_emit(cfg, res, &row);
}
