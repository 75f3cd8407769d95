/*
 * test-fanin.c - the listener fan-in (src/core/fanin.c) over an abstract
 * unix socket: accepting with an admit hook, reply-to-last, a clean close
 * dropped silently, a torn frame reported, ENOBUFS retried on the same
 * connection, the pollable fd. Then out of file descriptors (RLIMIT_NOFILE
 * 64, 200 senders, over unix:// and tcp://): every message a sender's
 * ipcx_send acknowledged arrives, in order, once; no error, bounded CPU.
 */
#include "ipcx.h"
#include "stream.h"
#include "t.h"

#include <string.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static struct ipcx__ep ep;
static ipcx_chan ch;

static void reset_ep(void)
{
	ipcx__ep_defaults(&ep, IPCX__S_UNIX);
	memset(&ch, 0, sizeof(ch));
}

static int admitted;

static int admit_all(struct ipcx__fanin *f, struct ipcx__stream *c)
{
	(void)f;
	c->peer.pid = 4242;
	admitted++;
	return 0;
}

static void test_fanin(void)
{
	struct ipcx__fanin f;
	const char *name = t_name("fan");
	int lfd, c[3], fd;
	char buf[16];

	reset_ep();
	lfd = t_abstract_listen(name);
	T_OK(ipcx__fanin_init(&f, lfd, &ep, "fan", admit_all));
	T_EXPECT(ipcx__fanin_send(&f, "x", 1, 0), IPCX_ESTATE);
	for (int i = 0; i < 3; i++) {
		c[i] = t_abstract_connect(name);
	}
	fd = ipcx__fanin_fd(&f);
	T_ASSERT(t_poll_in(fd, 0));
	T_EXPECT(ipcx__fanin_recv(&f, buf, sizeof(buf), &ch, 0),
	         IPCX_ETIMEDOUT);
	T_ASSERT(admitted == 3 && f.nconn == 3);
	t_write_all(c[1], "\0\0\0\2c1", 6);
	T_EXPECT(ipcx__fanin_recv(&f, buf, sizeof(buf), &ch, 1000), 2);
	T_ASSERT(memcmp(buf, "c1", 2) == 0);
	T_ASSERT(ch.peer.pid == 4242);
	T_OK(ipcx__fanin_send(&f, "r", 1, 1000));
	T_EXPECT(read(c[1], buf, sizeof(buf)), 5);
	/* c0 closes cleanly: dropped without a word. */
	close(c[0]);
	T_EXPECT(ipcx__fanin_recv(&f, buf, sizeof(buf), &ch, 20),
	         IPCX_ETIMEDOUT);
	T_ASSERT(f.nconn == 2);
	/* c2 sends two frames and a half, then dies: two messages, then
	 * IPCX_EPEER for the torn one. */
	t_write_all(c[2], "\0\0\0\1a\0\0\0\1b\0\0\0\5ab", 17);
	close(c[2]);
	T_EXPECT(ipcx__fanin_recv(&f, buf, sizeof(buf), &ch, 1000), 1);
	T_ASSERT(t_poll_in(fd, 0));
	T_EXPECT(ipcx__fanin_recv(&f, buf, sizeof(buf), &ch, 1000), 1);
	T_ASSERT(buf[0] == 'b');
	T_EXPECT(ipcx__fanin_recv(&f, buf, sizeof(buf), &ch, 1000), IPCX_EPEER);
	T_ASSERT(f.nconn == 1);
	/* The last sender (c2) is gone: replying says so. */
	T_EXPECT(ipcx__fanin_send(&f, "x", 1, 0), IPCX_EPEER);
	/* ENOBUFS on c1: the retry gets exactly that message. */
	t_write_all(c[1], "\0\0\0\6abcdef", 10);
	T_EXPECT(ipcx__fanin_recv(&f, buf, 3, &ch, 1000), IPCX_ENOBUFS);
	T_ASSERT(ch.pending == 6);
	T_EXPECT(ipcx__fanin_recv(&f, buf, sizeof(buf), &ch, 1000), 6);
	ipcx__fanin_fini(&f);
	ipcx__fanin_fini(&f); /* twice is fine */
	close(c[1]);
}

/* ---- out of file descriptors ---- */

#define STORM_SENDERS  200 /* more than the fd limit */
#define STORM_MSGS     20  /* per sender; also its exit status at most */
#define STORM_FD_LIMIT 64
#define STORM_MSG_LEN  32
/* CPU the receiving process may use: a spin would take all it gets. */
#define STORM_CPU_MS 3000

struct storm {
	const char *ep;               /* what the senders open */
	ipcx_chan *rx;                /* the receiver, or NULL: use f */
	struct ipcx__fanin *f;        /* a bare fan-in, to see it pause */
	bool paused;                  /* f was seen paused */
	uint32_t next[STORM_SENDERS]; /* next sequence number expected */
	int acked[STORM_SENDERS];     /* sends acknowledged, from exit codes */
	pid_t pid[STORM_SENDERS];
	int sender; /* in the child: which one */
};

/* A sender: open, send STORM_MSGS numbered messages, exit with how many
 * ipcx_send acknowledged. */
static int storm_sender(void *arg)
{
	struct storm *s = arg;
	uint8_t buf[STORM_MSG_LEN];
	ipcx_chan *tx;
	int ok = 0;

	if (ipcx_open(s->ep, IPCX_SEND, &tx) < 0)
		return 0;
	for (int i = 0; i < STORM_MSGS; i++) {
		t_msg_fill(buf, sizeof(buf),
		           (uint32_t)(s->sender * STORM_MSGS + i));
		if (ipcx_send(tx, buf, sizeof(buf), 10000) < 0)
			break;
		ok++;
	}
	ipcx_close(tx);
	return ok;
}

static ssize_t storm_recv(struct storm *s, void *buf, size_t cap, int ms)
{
	ssize_t r;

	if (s->rx)
		return ipcx_recv(s->rx, buf, cap, ms);
	r = ipcx__fanin_recv(s->f, buf, cap, &ch, ipcx__deadline(ms));
	s->paused |= s->f->paused;
	return r;
}

/* Reap the senders that have exited. Returns how many are still running. */
static int storm_reap(struct storm *s)
{
	int running = 0, st;

	for (int i = 0; i < STORM_SENDERS; i++) {
		if (s->pid[i] <= 0)
			continue;
		pid_t p = waitpid(s->pid[i], &st, WNOHANG);
		T_ASSERT(p >= 0);
		if (p == 0) {
			running++;
			continue;
		}
		T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) <= STORM_MSGS);
		s->acked[i] = WEXITSTATUS(st);
		s->pid[i] = 0;
	}
	return running;
}

static long cpu_ms(void)
{
	struct rusage ru;

	T_ASSERT(getrusage(RUSAGE_SELF, &ru) == 0);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000L +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
}

/*
 * 200 senders at a receiver limited to 64 fds. The receiver never sees an
 * error; it stops when every sender has exited and every acknowledged
 * message has arrived.
 */
static void storm(struct storm *s)
{
	struct rlimit old, lim;
	uint8_t buf[STORM_MSG_LEN + 1];
	long cpu0 = cpu_ms(), total = 0, got = 0;
	int running = STORM_SENDERS;
	uint32_t seq;

	T_ASSERT(getrlimit(RLIMIT_NOFILE, &old) == 0);
	lim = old;
	lim.rlim_cur = STORM_FD_LIMIT;
	T_ASSERT(t_fd_count() < STORM_FD_LIMIT / 2);
	T_ASSERT(setrlimit(RLIMIT_NOFILE, &lim) == 0);
	for (int i = 0; i < STORM_SENDERS; i++) {
		s->sender = i;
		s->pid[i] = t_fork(storm_sender, s);
	}
	while (running > 0 || got < total) {
		ssize_t n = storm_recv(s, buf, sizeof(buf), 100);
		if (n == IPCX_ETIMEDOUT) {
			running = storm_reap(s);
			if (running == 0) {
				total = 0;
				for (int i = 0; i < STORM_SENDERS; i++)
					total += s->acked[i];
			}
			continue;
		}
		if (n < 0)
			fprintf(stderr, "%s: %zd %s\n", s->ep, n,
			        ipcx_errmsg());
		T_ASSERT(n == STORM_MSG_LEN);
		T_ASSERT(t_msg_check(buf, (size_t)n, &seq));
		T_ASSERT(seq / STORM_MSGS < STORM_SENDERS);
		/* Per sender: in order, each once. */
		T_ASSERT(seq % STORM_MSGS == s->next[seq / STORM_MSGS]);
		s->next[seq / STORM_MSGS]++;
		got++;
	}
	for (int i = 0; i < STORM_SENDERS; i++)
		T_ASSERT(s->next[i] == (uint32_t)s->acked[i]);
	T_EXPECT(storm_recv(s, buf, sizeof(buf), 0), IPCX_ETIMEDOUT);
	T_ASSERT(setrlimit(RLIMIT_NOFILE, &old) == 0);
	fprintf(stderr,
	        "%s: %ld of %d messages acknowledged, all delivered; "
	        "%ld ms CPU\n",
	        s->ep, total, STORM_SENDERS * STORM_MSGS, cpu_ms() - cpu0);
	T_ASSERT(total > 0);
	T_ASSERT(cpu_ms() - cpu0 < STORM_CPU_MS);
}

static void test_out_of_fds_unix(void)
{
	static struct storm s;
	static char where[128];
	struct ipcx__fanin f;
	const char *name = t_name("storm");

	reset_ep();
	snprintf(where, sizeof(where), "unix://@%s", name);
	s.ep = where;
	s.f = &f;
	T_OK(ipcx__fanin_init(&f, t_abstract_listen(name), &ep, "storm", NULL));
	storm(&s);
	/* 200 connections cannot all fit in 64 fds: it had to pause. */
	T_ASSERT(s.paused);
	ipcx__fanin_fini(&f);
}

static void test_out_of_fds_tcp(void)
{
	static struct storm s;
	static char where[64];
	unsigned port = t_free_port(AF_INET, SOCK_STREAM);

	T_ASSERT(port != 0);
	snprintf(where, sizeof(where), "tcp://127.0.0.1:%u", port);
	s.ep = where;
	T_OK(ipcx_open(where, IPCX_RECV | IPCX_CREATE, &s.rx));
	storm(&s);
	T_OK(ipcx_close(s.rx));
}

int main(void)
{
	t_leak_begin();
	test_fanin();
	test_out_of_fds_unix();
	test_out_of_fds_tcp();
	t_leak_end();
	return T_EXIT_PASS;
}
