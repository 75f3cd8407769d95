/*
 * shm-pingpong.c - a by-hand measurement of the shm:// transport against
 * the machine's floors (not a test; `ipcx bench` is the real benchmark).
 *
 *   cc -O2 -D_GNU_SOURCE -Iinclude bench/shm-pingpong.c build/libipcx.a \
 *      -pthread -o /tmp/shm-pingpong && /tmp/shm-pingpong [seconds]
 *
 * Prints, two processes pinned to CPUs 0 and 1:
 *   - a bare cache-line ping-pong round trip (the floor),
 *   - 64 B round trips over two shm:// rings, wait=spin, adaptive, sleep,
 *   - 64 KiB one-way streaming (copy and zero-copy) vs single-core memcpy,
 *   - the CPU an idle receiver burns in 3 s (getrusage).
 */
#include "ipcx.h"

#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double secs = 1.0;
static int tmo = 5000; /* ms for send/recv in the round trips */

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void pin(int cpu)
{
	cpu_set_t s;

	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	sched_setaffinity(0, sizeof(s), &s);
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static void report(const char *what, int64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp64);
	printf("%-34s p50 %7.3f us  p99 %8.3f us  p99.9 %8.3f us  (n=%zu)\n",
	       what, v[n / 2] / 1e3, v[n * 99 / 100] / 1e3,
	       v[n * 999 / 1000] / 1e3, n);
}

/* ---- the floor: one cache line bounced between two processes ---- */

static void bare_line(void)
{
	_Atomic uint64_t *line = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	                              MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	size_t n = 200000;
	int64_t *v = malloc(n * sizeof(*v));
	pid_t pid;

	atomic_store(line, 0);
	pid = fork();
	if (pid == 0) {
		pin(1);
		for (uint64_t i = 0; i < n; i++) {
			while (atomic_load_explicit(
			           line, memory_order_acquire) != 2 * i + 1)
				__builtin_ia32_pause();
			atomic_store_explicit(line, 2 * i + 2,
			                      memory_order_release);
		}
		_exit(0);
	}
	pin(0);
	for (uint64_t i = 0; i < n; i++) {
		int64_t t = now_ns();
		atomic_store_explicit(line, 2 * i + 1, memory_order_release);
		while (atomic_load_explicit(line, memory_order_acquire) !=
		       2 * i + 2)
			__builtin_ia32_pause();
		v[i] = now_ns() - t;
	}
	waitpid(pid, NULL, 0);
	report("bare cache line round trip", v, n);
	free(v);
	munmap((void *)line, 4096);
}

/* The same with one line per direction (each written by one side). */
static void bare_lines(void)
{
	_Atomic uint64_t *l = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	                           MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	_Atomic uint64_t *ping = l, *pong = l + 8;
	size_t n = 200000;
	int64_t *v = malloc(n * sizeof(*v));
	pid_t pid;

	pid = fork();
	if (pid == 0) {
		pin(1);
		for (uint64_t i = 1; i <= n; i++) {
			while (atomic_load_explicit(ping,
			                            memory_order_acquire) != i)
				__builtin_ia32_pause();
			atomic_store_explicit(pong, i, memory_order_release);
		}
		_exit(0);
	}
	pin(0);
	for (uint64_t i = 1; i <= n; i++) {
		int64_t t = now_ns();
		atomic_store_explicit(ping, i, memory_order_release);
		while (atomic_load_explicit(pong, memory_order_acquire) != i)
			__builtin_ia32_pause();
		v[i - 1] = now_ns() - t;
	}
	waitpid(pid, NULL, 0);
	report("bare two-line round trip", v, n);
	free(v);
	munmap((void *)l, 4096);
}

/* A bare pipe round trip, 64 B each way: the kernel path to compare. */
static void pipe_rtt(void)
{
	int a[2], b[2];
	size_t n = 20000;
	int64_t *v = malloc(n * sizeof(*v));
	char buf[64] = {0};
	pid_t pid;

	if (pipe(a) || pipe(b))
		exit(1);
	pid = fork();
	if (pid == 0) {
		pin(1);
		for (size_t i = 0; i < n; i++)
			if (read(a[0], buf, 64) != 64 ||
			    write(b[1], buf, 64) != 64)
				_exit(1);
		_exit(0);
	}
	pin(0);
	for (size_t i = 0; i < n; i++) {
		int64_t t = now_ns();
		if (write(a[1], buf, 64) != 64 || read(b[0], buf, 64) != 64)
			exit(1);
		v[i] = now_ns() - t;
	}
	waitpid(pid, NULL, 0);
	report("pipe 64 B round trip", v, n);
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
	free(v);
}

/* ---- round trips over two rings ---- */

static void rtt(const char *opts, size_t size, const char *label)
{
	char ping[128], pong[128];
	ipcx_chan *out, *in;
	size_t max = 2000000;
	int64_t *v = malloc(max * sizeof(*v));
	char *buf = calloc(1, size ? size : 1);
	size_t n = 0;
	pid_t pid;

	snprintf(ping, sizeof(ping), "shm://ipcx-pp-%d-a?%s", (int)getpid(),
	         opts);
	snprintf(pong, sizeof(pong), "shm://ipcx-pp-%d-b?%s", (int)getpid(),
	         opts);
	if (ipcx_open(ping, IPCX_SEND, &out) ||
	    ipcx_open(pong, IPCX_RECV, &in)) {
		fprintf(stderr, "open: %s\n", ipcx_errmsg());
		exit(1);
	}
	pid = fork();
	if (pid == 0) {
		ipcx_chan *cin, *cout;
		pin(1);
		if (ipcx_open(ping, IPCX_RECV, &cin) ||
		    ipcx_open(pong, IPCX_SEND, &cout))
			_exit(1);
		for (;;) {
			ssize_t r = ipcx_recv(cin, buf, size, tmo);
			if (r < 0 || r == 1) /* 1 byte: stop */
				_exit(r < 0);
			ipcx_send(cout, buf, (size_t)r, tmo);
		}
	}
	pin(0);
	/* Warm up, then measure for `secs`. */
	for (int i = 0; i < 1000; i++) {
		ipcx_send(out, buf, size, 5000);
		ipcx_recv(in, buf, size, 5000);
	}
	int64_t end = now_ns() + (int64_t)(secs * 1e9);
	while (n < max) {
		int64_t t = now_ns();
		ipcx_send(out, buf, size, tmo);
		if (ipcx_recv(in, buf, size, tmo) < 0) {
			fprintf(stderr, "recv: %s\n", ipcx_errmsg());
			break;
		}
		v[n++] = now_ns() - t;
		if ((n & 255) == 0 && now_ns() > end)
			break;
	}
	ipcx_send(out, "x", 1, 5000);
	waitpid(pid, NULL, 0);
	report(label, v, n);
	ipcx_close(out);
	ipcx_close(in);
	ipcx_unlink(ping);
	ipcx_unlink(pong);
	free(v);
	free(buf);
}

/* ---- one-way streaming ---- */

static void memcpy_bw(size_t size)
{
	/* Page-aligned: two malloc'd buffers 16 bytes apart modulo 4 KiB
	 * hit 4K aliasing and copy ~10x slower; this is the fair best case. */
	char *a = aligned_alloc(4096, size), *b = aligned_alloc(4096, size);
	int64_t t, n = 0;

	memset(a, 1, size);
	memset(b, 2, size);
	t = now_ns();
	while (now_ns() - t < (int64_t)(secs * 0.5e9)) {
		for (int i = 0; i < 64; i++) {
			memcpy(b, a, size);
			__asm__ __volatile__("" ::"r"(b) : "memory");
		}
		n += 64;
	}
	t = now_ns() - t;
	printf("%-34s %7.2f GB/s\n", "memcpy 64 KiB, one core",
	       (double)n * size / t);
	free(a);
	free(b);
}

static void stream(size_t size, bool zc, const char *opts)
{
	char name[128];
	ipcx_chan *in;
	/* malloc'd, as most users' buffers are (16 mod 4096). */
	char *buf = malloc(size);
	int64_t t, bytes = 0, msgs = 0;
	pid_t pid;

	snprintf(name, sizeof(name), "shm://ipcx-st-%d?%s", (int)getpid(),
	         opts);
	if (ipcx_open(name, IPCX_RECV, &in)) {
		fprintf(stderr, "open: %s\n", ipcx_errmsg());
		exit(1);
	}
	pid = fork();
	if (pid == 0) {
		ipcx_chan *out;
		pin(1);
		memset(buf, 3, size);
		if (ipcx_open(name, IPCX_SEND, &out))
			_exit(1);
		for (;;) {
			int r;
			if (zc) {
				void *p;
				r = ipcx_loan(out, size, &p, 2000);
				if (r == 0) {
					memset(p, 3, 64); /* touch, no copy */
					r = ipcx_commit(out, p, size);
				}
			} else {
				r = ipcx_send(out, buf, size, 2000);
			}
			if (r < 0)
				_exit(0);
		}
	}
	pin(0);
	t = now_ns();
	while (now_ns() - t < (int64_t)(secs * 1e9)) {
		ssize_t r;
		if (zc) {
			const void *p;
			r = ipcx_peek(in, &p, 2000);
			if (r >= 0)
				ipcx_release(in);
		} else {
			r = ipcx_recv(in, buf, size, 2000);
		}
		if (r < 0)
			break;
		bytes += r;
		msgs++;
	}
	t = now_ns() - t;
	ipcx_close(in); /* the sender then times out and exits */
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	ipcx_unlink(name);
	printf("%-25s %-25s %6.2f GB/s %8.0f msgs/s\n",
	       zc ? "64 KiB stream, loan/peek" : "64 KiB stream, send/recv",
	       opts, (double)bytes / t, msgs * 1e9 / t);
	free(buf);
}

/* ---- idle receiver ---- */

static double cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3 +
	       ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3;
}

/* CPU used by a receiver blocked 3 s in ipcx_recv on an empty ring. */
static void idle(const char *opts)
{
	char name[128];
	pid_t pid;
	int st;

	snprintf(name, sizeof(name), "shm://ipcx-idle-%d?%s", (int)getpid(),
	         opts);
	pid = fork();
	if (pid == 0) {
		ipcx_chan *in;
		char b[64];
		double c0;
		if (ipcx_open(name, IPCX_RECV, &in))
			_exit(1);
		c0 = cpu_ms();
		ipcx_recv(in, b, sizeof(b), 3000);
		printf("%-34s %7.3f ms CPU in 3 s (%s)\n", "idle receiver",
		       cpu_ms() - c0, opts);
		ipcx_close(in);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	ipcx_unlink(name);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		secs = atof(argv[1]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 2)
		tmo = atoi(argv[2]);
	bare_line();
	bare_lines();
	rtt("wait=spin", 64, "shm 64 B round trip, spin");
	rtt("wait=adaptive", 64, "shm 64 B round trip, adaptive");
	rtt("wait=sleep", 64, "shm 64 B round trip, sleep");
	pipe_rtt();
	memcpy_bw(65536);
	stream(65536, false, "wait=adaptive");
	stream(65536, false, "wait=adaptive&size=256K");
	stream(65536, false, "wait=adaptive&size=1M");
	stream(65536, false, "wait=spin&size=256K");
	stream(65536, true, "wait=adaptive");
	idle("wait=adaptive");
	return 0;
}
