/*
 * t.h - the tests' shared helpers. A test program exits 0 on pass, 1 on
 * failure, 77 to skip (T_EXIT_*); tests/run.sh runs each under a timeout.
 */
#ifndef IPCX_T_H
#define IPCX_T_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

#define T_EXIT_PASS 0
#define T_EXIT_FAIL 1
#define T_EXIT_SKIP 77

/* Fail the test with file:line and a message unless cond holds. */
#define T_ASSERT(cond)                                                   \
	do {                                                             \
		if (!(cond)) {                                           \
			fprintf(stderr, "%s:%d: assertion failed: %s\n", \
			        __FILE__, __LINE__, #cond);              \
			exit(T_EXIT_FAIL);                               \
		}                                                        \
	} while (0)

/* Assert an ipcx call returned want; print ipcx_errmsg() if not. */
#define T_EXPECT(call, want)                                                  \
	do {                                                                  \
		long long t_got_ = (long long)(call);                         \
		long long t_want_ = (long long)(want);                        \
		if (t_got_ != t_want_) {                                      \
			fprintf(stderr, "%s:%d: %s = %lld, want %lld (%s)\n", \
			        __FILE__, __LINE__, #call, t_got_, t_want_,   \
			        t_errmsg());                                  \
			exit(T_EXIT_FAIL);                                    \
		}                                                             \
	} while (0)

#define T_OK(call) T_EXPECT(call, 0)

/* ipcx_errmsg(), or "" if the library is not linked. */
const char *t_errmsg(void);

/* Count of open fds in this process (from /proc/self/fd). */
int t_fd_count(void);

/*
 * t_leak_begin / t_leak_end: record the open fds at start; at the end fail
 * the test if any fd is still open that was not open at the start.
 */
void t_leak_begin(void);
void t_leak_end(void);

/*
 * A unique name for this test run, "ipcx-t<pid>-<tag>", for shm, mq and
 * fifo names; t_tmp_path() gives "/tmp/ipcx-t<pid>-<tag>" in a static
 * rotating buffer.
 */
const char *t_name(const char *tag);
const char *t_tmp_path(const char *tag);
/*
 * t_key_name - a System V key for this run and tag, "0x%08x" (a hash of
 * t_name(tag)), for sysv-mq:// and sysv-sem:// endpoints.
 */
const char *t_key_name(const char *tag);

/*
 * Two-process tests: t_fork() forks a child that runs fn(arg) and _exits
 * with its return value. t_sync_* is a pipe pair for "ready" handshakes,
 * never sleep: t_signal() writes one byte, t_wait() reads one (with a 10 s
 * timeout, failing the test).
 */
struct t_sync {
	int p2c[2];
	int c2p[2];
};
void t_sync_init(struct t_sync *s);
void t_sync_close(struct t_sync *s);
void t_notify_parent(struct t_sync *s);
void t_wait_child(struct t_sync *s);
void t_notify_child(struct t_sync *s);
void t_wait_parent(struct t_sync *s);
pid_t t_fork(int (*fn)(void *), void *arg);
/* Wait for pid with a timeout in ms (kill -9 on timeout); returns status. */
int t_waitpid(pid_t pid, int timeout_ms);

/*
 * A seeded PRNG for randomised tests (xorshift64*). The seed comes from the
 * environment variable IPCX_T_SEED if set, else from the clock and pid; the
 * first call prints it to stderr ("seed N: IPCX_T_SEED=N to repeat"), which
 * tests/run.sh shows when the test fails.
 */
uint64_t t_seed(void);
uint32_t t_rand(void);
/* Uniform in [0, n); n > 0. */
uint32_t t_rand_below(uint32_t n);

/* poll() fd for POLLIN up to timeout_ms (EINTR retried): 1 ready, 0 not. */
int t_poll_in(int fd, int timeout_ms);

/*
 * What a test accepts from a call made after its peer went away, for
 * t_expect_gone(): a bit set of T_GONE_*.
 */
enum {
	T_GONE_EPEER = 1 << 0,    /* IPCX_EPEER */
	T_GONE_TIMEOUT = 1 << 1,  /* keeps waiting: IPCX_ETIMEDOUT */
	T_GONE_ACCEPTED = 1 << 2, /* succeeds (datagrams dropped) */
};

/*
 * t_expect_gone - fail the test, naming who and what r was, unless r (an
 * ipcx_send/ipcx_recv result after the peer went) is one of allowed.
 */
void t_expect_gone(const char *who, ssize_t r, unsigned allowed);

/* A connected AF_UNIX stream socketpair, both ends O_NONBLOCK. */
void t_socketpair(int sv[2]);

/* write() all n bytes of b to fd (a socket or pipe with room), or fail. */
void t_write_all(int fd, const void *b, size_t n);

/*
 * t_abstract_listen - a nonblocking AF_UNIX stream socket listening on the
 * abstract name "\0<name>" (backlog SOMAXCONN); t_abstract_connect - a blocking
 * socket connected to it. Both fail the test on error.
 */
int t_abstract_listen(const char *name);
int t_abstract_connect(const char *name);

/*
 * Self-checking messages: t_msg_fill() writes len bytes derived from seq
 * (len >= T_MSG_MIN: a header with seq and len, a body, and an FNV-1a
 * checksum at the end; shorter messages are a pure function of seq and
 * len). t_msg_check() returns 1 if buf/len is exactly what t_msg_fill()
 * would write for some seq and stores it in *seq (only for len >=
 * T_MSG_MIN), 0 if the message is torn, mixed or corrupt.
 */
#define T_MSG_MIN 12
void t_msg_fill(void *buf, size_t len, uint32_t seq);
int t_msg_check(const void *buf, size_t len, uint32_t *seq);
/* t_msg_is: buf/len is exactly t_msg_fill(.., len, seq). */
int t_msg_is(const void *buf, size_t len, uint32_t seq);

/*
 * t_path_gone: 1 if path does not exist (lstat fails with ENOENT), else
 * print what is there and return 0.
 */
int t_path_gone(const char *path);

/*
 * A byte pattern derived from seed: t_fill() writes n bytes, t_same()
 * returns 1 if b holds exactly that pattern.
 */
void t_fill(uint8_t *b, size_t n, unsigned seed);
int t_same(const uint8_t *b, size_t n, unsigned seed);

/* CLOCK_MONOTONIC in milliseconds. */
long long t_now_ms(void);

/* Reap pid (20 s limit) and fail the test unless it exited 0. */
void t_child_ok(pid_t pid);

/*
 * t_free_port - a loopback port of family (AF_INET, AF_INET6) free right
 * now for a socket of type, or 0.
 */
unsigned t_free_port(int family, int type);

/*
 * t_hostile_and_torn - for a stream listener at ep: a frame announcing
 * 0xFFFFFFFF bytes gets IPCX_EMSGSIZE and that connection closed; a child
 * that sends half a frame and dies gets IPCX_EPEER ("mid-message") well
 * before the timeout; the listener goes on. raw_connect() returns a plain
 * socket connected to the listener.
 */
void t_hostile_and_torn(const char *ep, int (*raw_connect)(void));

#endif
