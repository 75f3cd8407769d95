/*
 * proc.c - the engine's process plumbing: forking a pinned child that dies
 * with its parent, its report pipe, reaping it within a bound, CPU pinning
 * and the stop flag that SIGINT / SIGTERM raise.
 */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

int bench_cpu_parent = -1, bench_cpu_child = -1;
volatile sig_atomic_t bench_stop;

static cpu_set_t proc_saved_mask;
static bool proc_mask_saved;

int bench_pin_setup(bool want, char *note, size_t cap)
{
	cpu_set_t set;
	int cpus[2], n = 0, total;

	bench_cpu_parent = bench_cpu_child = -1;
	if (sched_getaffinity(0, sizeof(set), &set) != 0) {
		snprintf(note, cap, "not pinned (sched_getaffinity: %s)",
		         strerror(errno));
		return 1;
	}
	total = CPU_COUNT(&set);
	for (int i = 0; i < CPU_SETSIZE && n < 2; i++)
		if (CPU_ISSET(i, &set))
			cpus[n++] = i;
	if (!want) {
		snprintf(note, cap, "not pinned (--no-pin), %d CPUs", total);
		return total;
	}
	if (n < 2) {
		snprintf(note, cap, "not pinned: only 1 CPU available");
		return total;
	}
	proc_saved_mask = set;
	proc_mask_saved = true;
	CPU_ZERO(&set);
	CPU_SET(cpus[0], &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0) {
		snprintf(note, cap, "not pinned (sched_setaffinity: %s)",
		         strerror(errno));
		proc_mask_saved = false;
		return total;
	}
	bench_cpu_parent = cpus[0];
	bench_cpu_child = cpus[1];
	snprintf(note, cap, "pinned: parent on CPU %d, child on CPU %d (of %d)",
	         cpus[0], cpus[1], total);
	return total;
}

void bench_pin_restore(void)
{
	if (proc_mask_saved)
		sched_setaffinity(0, sizeof(proc_saved_mask), &proc_saved_mask);
	proc_mask_saved = false;
}

static struct sigaction proc_old_int, proc_old_term, proc_old_pipe;

static void proc_on_signal(int sig)
{
	(void)sig;
	bench_stop = 1;
}

void bench_signals_setup(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	/*
	 * No SA_RESTART: a raw read() in a baseline returns EINTR so the loop
	 * sees the flag. The library retries EINTR itself and is bounded by
	 * its own timeouts.
	 */
	sa.sa_handler = proc_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &proc_old_int);
	sigaction(SIGTERM, &sa, &proc_old_term);
	/* The raw pipe baseline writes to pipes whose reader may be gone. */
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, &proc_old_pipe);
}

void bench_signals_restore(void)
{
	sigaction(SIGINT, &proc_old_int, NULL);
	sigaction(SIGTERM, &proc_old_term, NULL);
	sigaction(SIGPIPE, &proc_old_pipe, NULL);
}

double bench_loadavg(void)
{
	FILE *f = fopen("/proc/loadavg", "r");
	double l = -1;

	if (f) {
		if (fscanf(f, "%lf", &l) != 1)
			l = -1;
		fclose(f);
	}
	return l;
}

void bench_sleep_ns(uint64_t ns)
{
	struct timespec ts = {(time_t)(ns / BENCH_NS_PER_S),
	                      (long)(ns % BENCH_NS_PER_S)};

	nanosleep(&ts, NULL);
}

int bench_fork(struct bench_child *c, int (*fn)(void *arg, int ctl), void *arg,
               char *err, size_t errcap)
{
	int p[2];
	pid_t parent = getpid();

	c->pid = -1;
	c->ctl = -1;
	if (pipe2(p, O_CLOEXEC) != 0) {
		snprintf(err, errcap, "pipe: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	c->pid = fork();
	if (c->pid < 0) {
		snprintf(err, errcap, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (c->pid == 0) {
		int rc;

		close(p[0]);
		/* Never outlive the parent, whatever it died of. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		if (bench_cpu_child >= 0) {
			cpu_set_t set;

			CPU_ZERO(&set);
			CPU_SET(bench_cpu_child, &set);
			sched_setaffinity(0, sizeof(set), &set);
		}
		rc = fn(arg, p[1]);
		close(p[1]);
		_exit(rc);
	}
	close(p[1]);
	c->ctl = p[0];
	return 0;
}

static void proc_send(int ctl, const struct bench_msg *m)
{
	ssize_t w;

	/* Smaller than PIPE_BUF, so the write is atomic. */
	do
		w = write(ctl, m, sizeof(*m));
	while (w < 0 && errno == EINTR);
}

void bench_report(int ctl, char kind, int code, const char *fmt, ...)
{
	struct bench_msg m;
	va_list ap;

	memset(&m, 0, sizeof(m));
	m.kind = kind;
	m.code = code;
	va_start(ap, fmt);
	vsnprintf(m.text, sizeof(m.text), fmt, ap);
	va_end(ap);
	proc_send(ctl, &m);
}

void bench_report_data(int ctl, const uint64_t v[4])
{
	struct bench_msg m;

	memset(&m, 0, sizeof(m));
	m.kind = 'D';
	memcpy(m.v, v, sizeof(m.v));
	proc_send(ctl, &m);
}

int bench_wait_report(struct bench_child *c, struct bench_msg *m,
                      int timeout_ms)
{
	uint64_t end = bench_now_ns() + (uint64_t)timeout_ms * BENCH_NS_PER_MS;

	if (c->ctl < 0)
		return -1;
	for (;;) {
		struct pollfd pfd = {c->ctl, POLLIN, 0};
		uint64_t now = bench_now_ns();
		int left = now >= end
		               ? 0
		               : (int)((end - now + BENCH_NS_PER_MS - 1) /
		                       BENCH_NS_PER_MS);
		int r = poll(&pfd, 1, left);
		ssize_t n;

		if (r < 0 && errno == EINTR && !bench_stop)
			continue;
		if (r <= 0)
			return r == 0 || bench_stop ? 0 : -1;
		n = read(c->ctl, m, sizeof(*m));
		if (n < 0 && errno == EINTR)
			continue;
		if (n == (ssize_t)sizeof(*m))
			return 1;
		return -1;
	}
}

int bench_reap(struct bench_child *c, int timeout_ms)
{
	uint64_t end = bench_now_ns() + (uint64_t)timeout_ms * BENCH_NS_PER_MS;
	int st = 0, rc = -1;

	if (c->ctl >= 0) {
		close(c->ctl);
		c->ctl = -1;
	}
	if (c->pid <= 0)
		return -1;
	for (;;) {
		pid_t r = waitpid(c->pid, &st, WNOHANG);

		if (r == c->pid)
			break;
		if (r < 0 && errno != EINTR) {
			c->pid = -1;
			return -1;
		}
		if (bench_now_ns() >= end) {
			kill(c->pid, SIGKILL);
			while (waitpid(c->pid, &st, 0) < 0 && errno == EINTR)
				;
			c->pid = -1;
			return -1;
		}
		bench_sleep_ns(BENCH_NS_PER_MS);
	}
	if (WIFEXITED(st))
		rc = WEXITSTATUS(st);
	c->pid = -1;
	return rc;
}

/*
 * The watchdog for raw system-call loops: a periodic timer whose signal
 * interrupts a blocked read(); if the loop made no progress over a whole
 * period it is declared stuck. This costs nothing per iteration but an
 * increment, so the bare baselines stay bare.
 */
volatile unsigned long bench_progress;
volatile sig_atomic_t bench_stuck;
volatile pid_t bench_watchdog_victim;
static unsigned long proc_last_progress;
static struct sigaction proc_old_alrm;

static void proc_on_alarm(int sig)
{
	(void)sig;
	if (bench_progress == proc_last_progress) {
		bench_stuck = 1;
		if (bench_watchdog_victim > 0)
			kill(bench_watchdog_victim, SIGKILL);
	}
	proc_last_progress = bench_progress;
}

void bench_watchdog_start(int period_ms)
{
	struct sigaction sa;
	struct itimerval it;

	bench_stuck = 0;
	proc_last_progress = bench_progress - 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = proc_on_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, &proc_old_alrm);
	memset(&it, 0, sizeof(it));
	it.it_interval.tv_sec = period_ms / 1000;
	it.it_interval.tv_usec = (period_ms % 1000) * 1000;
	it.it_value = it.it_interval;
	setitimer(ITIMER_REAL, &it, NULL);
}

void bench_watchdog_stop(void)
{
	struct itimerval it;

	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	sigaction(SIGALRM, &proc_old_alrm, NULL);
}

/* See bench.h. */
bool bench_parse_size(const char *s, size_t *out)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return false;
	if (*end == 'K' || *end == 'k') {
		v *= 1024;
		end++;
	} else if (*end == 'M' || *end == 'm') {
		v *= 1024 * 1024;
		end++;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end != '\0' || v > BENCH_MAX_SIZE)
		return false;
	*out = (size_t)v;
	return true;
}

/* See bench.h. */
int bench_free_port(int type)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	int port = -1;

	if (fd < 0)
		return -1;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &alen) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

uint64_t bench_cpu_self_ns(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) *
	           BENCH_NS_PER_S +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000u;
}

/* A process CPU clock in ns (user + system), or 0 when it cannot be read. */
static uint64_t proc_clock_ns(clockid_t clk)
{
	struct timespec ts;

	if (clock_gettime(clk, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void bench_cpu_start(struct bench_cpu *c)
{
	c->self0 = proc_clock_ns(CLOCK_PROCESS_CPUTIME_ID);
}

void bench_cpu_fill(const struct bench_cpu *c, long msgs, uint64_t rx_ns,
                    struct bench_row *row)
{
	uint64_t self = proc_clock_ns(CLOCK_PROCESS_CPUTIME_ID);

	if (msgs <= 0 || !rx_ns || !self || self < c->self0)
		return;
	row->has_cpu = true;
	row->rx_cpu_ns = (double)rx_ns / (double)msgs;
	row->tx_cpu_ns = (double)(self - c->self0) / (double)msgs;
	row->cpu_ns_per_msg = row->rx_cpu_ns + row->tx_cpu_ns;
}

struct bench_plan *bench_plan_map(long n, long m)
{
	struct bench_plan *p = mmap(NULL, sizeof(*p), PROT_READ | PROT_WRITE,
	                            MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	p->n = n;
	p->m = m;
	return p;
}

void bench_plan_unmap(struct bench_plan *p)
{
	if (p)
		munmap(p, sizeof(*p));
}

/* The fewest round trips or messages a budget leaves: a p99 still means
 * something. */
#define PROC_BUDGET_MIN 100

uint64_t bench_budget_ns(const struct bench_config *cfg, bool stream)
{
	if (stream ? cfg->messages > 0 : cfg->roundtrips > 0)
		return 0;
	return (uint64_t)(cfg->quick ? 1 : 4) * BENCH_NS_PER_S;
}

bool bench_budget_cut(uint64_t budget_ns, uint64_t t0, long done)
{
	return budget_ns && done >= PROC_BUDGET_MIN &&
	       bench_now_ns() - t0 > budget_ns;
}

void bench_budget_note(struct bench_row *row, bool stream, long done,
                       long count, uint64_t budget_ns)
{
	if (done >= count)
		return;
	if (stream)
		row->msgs_asked = count;
	else
		row->rtt_asked = count;
	row->budget_s = (unsigned)(budget_ns / BENCH_NS_PER_S);
}
