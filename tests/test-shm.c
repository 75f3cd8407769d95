/*
 * test-shm.c - shm:// (src/transport/shm.c) through the public API: both
 * start orders, 1 MiB messages, modes, limits, ENOBUFS, timeouts, the
 * receiver role, two concurrent sender processes, every wake-up policy,
 * zero-copy, the pollable fd, dead writers and receivers, the writers'
 * lock naming a live or a dead process, a forked sender, and a loop that
 * SIGKILLs the sender or the receiver at random moments.
 */
#include "t.h"

#include "ipcx.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TMO 10000 /* ms: long enough to never matter, short of a hang */

static char ep_buf[8][256];
static int ep_k;

/* "shm://NAME?opts" in a rotating static buffer. */
static const char *ep(const char *name, const char *opts)
{
	char *b = ep_buf[ep_k++ & 7];

	snprintf(b, 256, "shm://%s%s%s", name, opts ? "?" : "",
	         opts ? opts : "");
	return b;
}

/* Every ring the test uses ("/name"), removed at exit even after a
 * failure. */
static char used[32][128];
static int n_used;
static pid_t main_pid;

static void unlink_used(void)
{
	if (getpid() != main_pid) /* a failing child must not pull rings */
		return;
	for (int i = 0; i < n_used; i++)
		shm_unlink(used[i]);
}

/* Start from a clean name, and remember it for unlink_used(). */
static void unlink_quiet(const char *name)
{
	char p[sizeof(used[0])];
	int i;

	snprintf(p, sizeof(p), "/%s", name);
	for (i = 0; i < n_used && strcmp(used[i], p); i++)
		;
	if (i == n_used && n_used < 32)
		memcpy(used[n_used++], p, sizeof(p));
	shm_unlink(p);
}

static ipcx_chan *xopen(const char *endpoint, int flags)
{
	ipcx_chan *ch = NULL;

	T_OK(ipcx_open(endpoint, flags, &ch));
	T_ASSERT(ch != NULL);
	return ch;
}

/*
 * A test message: 16-byte header (magic, sender id, sequence, length)
 * then a pattern derived from all three, so a torn or mixed message
 * fails the check.
 */
#define MSG_MAGIC 0x4d534731u
struct msg_hdr {
	uint32_t magic, id, seq, len;
};

static unsigned char pat(uint32_t id, uint32_t seq, size_t i)
{
	return (unsigned char)(id * 131 + seq * 7 + i * 13 + (i >> 8));
}

static size_t msg_make(unsigned char *buf, uint32_t id, uint32_t seq,
                       size_t len)
{
	struct msg_hdr h = {MSG_MAGIC, id, seq, (uint32_t)len};

	if (len < sizeof(h))
		len = sizeof(h);
	h.len = (uint32_t)len;
	memcpy(buf, &h, sizeof(h));
	for (size_t i = sizeof(h); i < len; i++)
		buf[i] = pat(id, seq, i);
	return len;
}

/* Check a received message; return its header. */
static struct msg_hdr msg_check(const unsigned char *buf, size_t n)
{
	struct msg_hdr h;

	T_ASSERT(n >= sizeof(h));
	memcpy(&h, buf, sizeof(h));
	T_EXPECT(h.magic, MSG_MAGIC);
	T_EXPECT(h.len, n);
	for (size_t i = sizeof(h); i < n; i++)
		if (buf[i] != pat(h.id, h.seq, i)) {
			fprintf(stderr,
			        "torn message id %u seq %u at %zu/%zu\n", h.id,
			        h.seq, i, n);
			exit(T_EXIT_FAIL);
		}
	return h;
}

static unsigned rnd_state = 12345;
static unsigned rnd(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return rnd_state >> 8;
}

/* ---- simple cases in one process ---- */

static void test_basic(void)
{
	const char *name = t_name("basic");
	ipcx_chan *rx, *tx;
	char buf[64];
	struct ipcx_peer peer;
	struct stat st;
	char path[300];

	unlink_quiet(name);
	rx = xopen(ep(name, NULL), IPCX_RECV);
	tx = xopen(ep(name, NULL), IPCX_SEND);
	T_OK(ipcx_send(tx, "hello", 5, TMO));
	T_OK(ipcx_send(tx, "", 0, TMO));
	T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), TMO), 5);
	T_ASSERT(memcmp(buf, "hello", 5) == 0);
	T_OK(ipcx_peer(rx, &peer));
	T_EXPECT(peer.pid, getpid());
	T_EXPECT(peer.uid, geteuid());
	T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), TMO), 0);
	/* Empty: timeout 0 polls, a timeout waits at least that long. */
	T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), 0), IPCX_ETIMEDOUT);
	{
		struct timespec a, b;
		clock_gettime(CLOCK_MONOTONIC, &a);
		T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), 30), IPCX_ETIMEDOUT);
		clock_gettime(CLOCK_MONOTONIC, &b);
		T_ASSERT((b.tv_sec - a.tv_sec) * 1000000000L +
		             (b.tv_nsec - a.tv_nsec) >=
		         30000000L);
	}
	/* 0600 by default, whatever the umask. */
	snprintf(path, sizeof(path), "/dev/shm/%s", name);
	T_ASSERT(stat(path, &st) == 0);
	T_EXPECT(st.st_mode & 0777, 0600);
	/* One receiver at a time; the role frees on close. */
	{
		ipcx_chan *rx2 = NULL;
		T_EXPECT(ipcx_open(ep(name, NULL), IPCX_RECV, &rx2),
		         IPCX_EBUSY);
		T_ASSERT(rx2 == NULL);
	}
	T_EXPECT(ipcx_open(ep(name, NULL), IPCX_SEND | IPCX_CREATE | IPCX_EXCL,
	                   &(ipcx_chan *){NULL}),
	         IPCX_EEXIST);
	/* Only the receiver polls. */
	T_EXPECT(ipcx_fd(tx), IPCX_ENOTSUP);
	T_OK(ipcx_close(rx));
	rx = xopen(ep(name, NULL), IPCX_RECV);
	T_OK(ipcx_close(rx));
	T_OK(ipcx_close(tx));
	/* Close never unlinks; unlink does, once. */
	T_ASSERT(stat(path, &st) == 0);
	T_OK(ipcx_unlink(ep(name, NULL)));
	T_ASSERT(stat(path, &st) < 0 && errno == ENOENT);
	T_EXPECT(ipcx_unlink(ep(name, NULL)), IPCX_ENOENT);
}

static void test_mode_and_size(void)
{
	const char *name = t_name("mode");
	ipcx_chan *ch, *rx;
	struct stat st;
	char path[300];
	static unsigned char big[8192];

	unlink_quiet(name);
	ch = xopen(ep(name, "mode=0640&size=5000"), IPCX_SEND);
	snprintf(path, sizeof(path), "/dev/shm/%s", name);
	T_ASSERT(stat(path, &st) == 0);
	T_EXPECT(st.st_mode & 0777, 0640);
	/* 5000 rounds up to 8192 bytes of data: messages up to 4032. */
	T_EXPECT(st.st_size, 4096 + 8192);
	T_EXPECT(ipcx_send(ch, big, 4033, TMO), IPCX_EMSGSIZE);
	T_ASSERT(strstr(ipcx_errmsg(), "size=") != NULL);
	T_ASSERT(strstr(ipcx_errmsg(), "4032") != NULL);
	T_OK(ipcx_send(ch, big, 4032, TMO));
	T_OK(ipcx_send(ch, big, 4032, TMO));
	/* Full: a third cannot fit until the receiver makes room. */
	T_EXPECT(ipcx_send(ch, big, 4032, 0), IPCX_ETIMEDOUT);
	T_EXPECT(ipcx_send(ch, big, 4032, 20), IPCX_ETIMEDOUT);
	/* An attacher's size= does not change the existing ring. */
	rx = xopen(ep(name, "size=1M"), IPCX_RECV);
	/* ENOBUFS leaves the message queued and says its size. */
	T_EXPECT(ipcx_recv(rx, big, 100, TMO), IPCX_ENOBUFS);
	T_EXPECT(ipcx_pending(rx), 4032);
	T_EXPECT(ipcx_recv(rx, big, sizeof(big), TMO), 4032);
	T_EXPECT(ipcx_pending(rx), IPCX_ESTATE);
	T_EXPECT(ipcx_recv(rx, big, sizeof(big), TMO), 4032);
	T_OK(ipcx_send(ch, big, 4032, 0));
	T_OK(ipcx_close(rx));
	T_OK(ipcx_close(ch));
	T_OK(ipcx_unlink(ep(name, NULL)));
	T_EXPECT(
	    ipcx_open(ep(name, "size=2G"), IPCX_SEND, &(ipcx_chan *){NULL}),
	    IPCX_EOPTION);
}

/* A ring owned by another uid is refused unless ?trust=any (root only:
 * it takes a chown). */
static void test_foreign_owner(void)
{
	const char *name = t_name("owner");
	char path[300];
	ipcx_chan *ch;

	if (geteuid() != 0)
		return;
	unlink_quiet(name);
	ch = xopen(ep(name, NULL), IPCX_SEND);
	T_OK(ipcx_close(ch));
	snprintf(path, sizeof(path), "/dev/shm/%s", name);
	T_ASSERT(chown(path, 65534, 65534) == 0);
	T_EXPECT(ipcx_open(ep(name, NULL), IPCX_RECV, &(ipcx_chan *){NULL}),
	         IPCX_EACCES);
	T_ASSERT(strstr(ipcx_errmsg(), "trust=any") != NULL);
	ch = xopen(ep(name, "trust=any"), IPCX_RECV);
	T_OK(ipcx_close(ch));
	T_OK(ipcx_unlink(ep(name, NULL)));
}

/* Segments that are not rings, or are broken ones. */
static void test_hostile_segment(void)
{
	const char *name = t_name("hostile");
	char p[300];
	ipcx_chan *ch;
	int fd;
	void *m;

	unlink_quiet(name);
	ch = xopen(ep(name, "size=4096"), IPCX_SEND);
	T_OK(ipcx_close(ch));
	snprintf(p, sizeof(p), "/%s", name);
	fd = shm_open(p, O_RDWR, 0);
	T_ASSERT(fd >= 0);
	m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	T_ASSERT(m != MAP_FAILED);
	/* Bad magic. */
	((volatile uint32_t *)m)[0] = 0xdeadbeef;
	T_EXPECT(ipcx_open(ep(name, NULL), IPCX_RECV, &(ipcx_chan *){NULL}),
	         IPCX_ECORRUPT);
	((volatile uint32_t *)m)[0] = 0x52585049;
	/* Wild tail (offset 112). */
	((volatile uint64_t *)m)[14] = 1u << 20;
	T_EXPECT(ipcx_open(ep(name, NULL), IPCX_RECV, &(ipcx_chan *){NULL}),
	         IPCX_ECORRUPT);
	ch = xopen(ep(name, NULL), IPCX_SEND);
	T_EXPECT(ipcx_send(ch, "x", 1, 0), IPCX_ECORRUPT);
	T_OK(ipcx_close(ch));
	((volatile uint64_t *)m)[14] = 0;
	/* The writers' lock (offset 64) naming a live writer (id 1000:
	 * we hold its lock byte, FORMAT.md 3.6): senders wait for it until
	 * their deadline. */
	{
		struct flock fl = {.l_type = F_WRLCK,
		                   .l_whence = SEEK_SET,
		                   .l_start = (off_t)((1ull << 32) + 1000),
		                   .l_len = 1};
		T_ASSERT(fcntl(fd, F_OFD_SETLK, &fl) == 0);
	}
	((volatile uint64_t *)m)[8] = 1000;
	ch = xopen(ep(name, NULL), IPCX_SEND);
	T_EXPECT(ipcx_send(ch, "x", 1, 30), IPCX_ETIMEDOUT);
	/* Naming no live writer: the sender takes it over. */
	((volatile uint64_t *)m)[8] = 0x7fffffff;
	T_OK(ipcx_send(ch, "x", 1, TMO));
	T_EXPECT(((volatile uint64_t *)m)[8], 0);
	T_OK(ipcx_close(ch));
	/* Wrong size for its geometry. */
	T_ASSERT(ftruncate(fd, 3 * 4096) == 0);
	T_EXPECT(ipcx_open(ep(name, NULL), IPCX_RECV, &(ipcx_chan *){NULL}),
	         IPCX_ECORRUPT);
	munmap(m, 8192);
	close(fd);
	T_OK(ipcx_unlink(ep(name, NULL)));
}

/* ---- two processes ---- */

/* A forked child sending on its parent's channel does so as itself. */
static ipcx_chan *fork_tx;

static int fork_send_main(void *arg)
{
	(void)arg;
	return ipcx_send(fork_tx, "child", 5, TMO) < 0 ? 10 : 0;
}

static void test_forked_sender(void)
{
	const char *name = t_name("fork");
	struct ipcx_peer peer;
	ipcx_chan *rx;
	char buf[16];
	pid_t pid;

	unlink_quiet(name);
	rx = xopen(ep(name, NULL), IPCX_RECV);
	fork_tx = xopen(ep(name, NULL), IPCX_SEND);
	T_OK(ipcx_send(fork_tx, "parent", 6, TMO));
	pid = t_fork(fork_send_main, NULL);
	T_EXPECT(t_waitpid(pid, TMO), 0);
	T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), TMO), 6);
	T_OK(ipcx_peer(rx, &peer));
	T_EXPECT(peer.pid, getpid());
	T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), TMO), 5);
	T_OK(ipcx_peer(rx, &peer));
	T_EXPECT(peer.pid, pid);
	T_OK(ipcx_close(fork_tx));
	T_OK(ipcx_close(rx));
	T_OK(ipcx_unlink(ep(name, NULL)));
}

struct peer_arg {
	const char *endpoint;
	struct t_sync *sync;
	uint32_t id;
	uint32_t count;
	size_t size;
};

/* Child: open for sending, say so, send count messages of size bytes. */
static int sender_main(void *varg)
{
	struct peer_arg *a = varg;
	static unsigned char buf[1 << 21];
	ipcx_chan *ch = NULL;

	if (ipcx_open(a->endpoint, IPCX_SEND, &ch) < 0)
		return 10;
	if (a->sync)
		t_notify_parent(a->sync);
	for (uint32_t i = 0; i < a->count; i++) {
		size_t n =
		    msg_make(buf, a->id, i, a->size ? a->size : rnd() % 3000);
		int rc = ipcx_send(ch, buf, n, TMO);
		if (rc < 0) {
			fprintf(stderr, "sender %u: %s\n", a->id,
			        ipcx_errmsg());
			return 11;
		}
	}
	ipcx_close(ch);
	return 0;
}

/* Receive count messages from `senders` senders, in order per sender. */
static void receive_all(ipcx_chan *rx, uint32_t senders, uint32_t count,
                        size_t cap)
{
	unsigned char *buf = malloc(cap);
	uint32_t next[8] = {0};

	T_ASSERT(buf && senders <= 8);
	for (uint32_t k = 0; k < senders * count; k++) {
		ssize_t n = ipcx_recv(rx, buf, cap, TMO);
		struct msg_hdr h;
		if (n < 0)
			fprintf(stderr, "recv %u: %s\n", k, ipcx_errmsg());
		T_ASSERT(n >= 0);
		h = msg_check(buf, (size_t)n);
		T_ASSERT(h.id < senders);
		T_EXPECT(h.seq, next[h.id]);
		next[h.id]++;
	}
	free(buf);
}

static void test_start_orders(void)
{
	const char *name = t_name("order");
	struct peer_arg a = {.endpoint = ep(name, NULL), .count = 200};
	struct t_sync sync;
	ipcx_chan *rx;
	pid_t pid;

	/* Receiver first: it creates, the sender attaches. */
	unlink_quiet(name);
	t_sync_init(&sync);
	rx = xopen(a.endpoint, IPCX_RECV);
	a.sync = &sync;
	pid = t_fork(sender_main, &a);
	t_wait_child(&sync);
	receive_all(rx, 1, a.count, 4096);
	T_EXPECT(t_waitpid(pid, TMO), 0);
	T_OK(ipcx_close(rx));
	T_OK(ipcx_unlink(a.endpoint));
	t_sync_close(&sync);

	/* Sender first: it creates, sends everything and exits; the
	 * messages wait in the ring for a receiver. */
	a.sync = NULL;
	pid = t_fork(sender_main, &a);
	T_EXPECT(t_waitpid(pid, TMO), 0);
	rx = xopen(a.endpoint, IPCX_RECV);
	receive_all(rx, 1, a.count, 4096);
	T_OK(ipcx_close(rx));
	T_OK(ipcx_unlink(a.endpoint));
}

/* 1 MiB messages through the default ring, intact. */
static void test_big(void)
{
	const char *name = t_name("big");
	struct peer_arg a = {
	    .endpoint = ep(name, NULL), .count = 20, .size = 1 << 20};
	ipcx_chan *rx;
	pid_t pid;

	unlink_quiet(name);
	rx = xopen(a.endpoint, IPCX_RECV);
	pid = t_fork(sender_main, &a);
	receive_all(rx, 1, a.count, 1 << 20);
	T_EXPECT(t_waitpid(pid, TMO), 0);
	T_OK(ipcx_close(rx));
	T_OK(ipcx_unlink(a.endpoint));
}

/* Two sender processes at once into a small ring: nothing lost or mixed. */
static void test_two_senders(void)
{
	const char *name = t_name("two");
	struct peer_arg a[2];
	pid_t pid[2];
	ipcx_chan *rx;

	unlink_quiet(name);
	rx = xopen(ep(name, "size=16384"), IPCX_RECV);
	for (int i = 0; i < 2; i++) {
		a[i] = (struct peer_arg){.endpoint = ep(name, NULL),
		                         .id = (uint32_t)i,
		                         .count = 5000};
		pid[i] = t_fork(sender_main, &a[i]);
	}
	receive_all(rx, 2, 5000, 4096);
	for (int i = 0; i < 2; i++)
		T_EXPECT(t_waitpid(pid[i], TMO), 0);
	T_OK(ipcx_close(rx));
	T_OK(ipcx_unlink(ep(name, NULL)));
}

/* Ping-pong over two rings, and streaming into a small ring, for each
 * wake-up policy. */
struct pp_arg {
	const char *ping, *pong;
	int rounds;
};

static int pong_main(void *varg)
{
	struct pp_arg *a = varg;
	ipcx_chan *in = NULL, *out = NULL;
	unsigned char buf[256];

	if (ipcx_open(a->ping, IPCX_RECV, &in) < 0 ||
	    ipcx_open(a->pong, IPCX_SEND, &out) < 0)
		return 10;
	for (int i = 0; i < a->rounds; i++) {
		ssize_t n = ipcx_recv(in, buf, sizeof(buf), TMO);
		if (n < 0 || ipcx_send(out, buf, (size_t)n, TMO) < 0)
			return 11;
	}
	ipcx_close(in);
	ipcx_close(out);
	return 0;
}

static void test_policies(void)
{
	const char *pol[] = {"wait=spin", "wait=adaptive", "wait=sleep",
	                     "wait=adaptive&spin=10"};

	for (unsigned p = 0; p < sizeof(pol) / sizeof(pol[0]); p++) {
		const char *ping = t_name("ping"), *pong = t_name("pong");
		struct pp_arg a = {.rounds = 300};
		ipcx_chan *out, *in;
		unsigned char buf[256];
		char o1[64], o2[64];
		pid_t pid;

		unlink_quiet(ping);
		unlink_quiet(pong);
		snprintf(o1, sizeof(o1), "%s", pol[p]);
		snprintf(o2, sizeof(o2), "%s", pol[p]);
		a.ping = ep(ping, o1);
		a.pong = ep(pong, o2);
		out = xopen(a.ping, IPCX_SEND);
		in = xopen(a.pong, IPCX_RECV);
		pid = t_fork(pong_main, &a);
		for (int i = 0; i < a.rounds; i++) {
			size_t n = msg_make(buf, 0, (uint32_t)i, 16 + i % 200);
			struct msg_hdr h;
			ssize_t got;
			T_OK(ipcx_send(out, buf, n, TMO));
			got = ipcx_recv(in, buf, sizeof(buf), TMO);
			T_ASSERT(got >= 0);
			h = msg_check(buf, (size_t)got);
			T_EXPECT(h.seq, i);
		}
		T_EXPECT(t_waitpid(pid, TMO), 0);
		T_OK(ipcx_close(out));
		T_OK(ipcx_close(in));
		T_OK(ipcx_unlink(a.ping));
		T_OK(ipcx_unlink(a.pong));

		/* Streaming into an 8 KiB ring: the sender keeps waiting for
		 * room, the receiver for messages. */
		{
			const char *s = t_name("stream");
			char o3[80];
			struct peer_arg sa = {.count = 3000, .size = 1000};
			unlink_quiet(s);
			snprintf(o3, sizeof(o3), "size=8192&%s", pol[p]);
			sa.endpoint = ep(s, o3);
			in = xopen(sa.endpoint, IPCX_RECV);
			pid = t_fork(sender_main, &sa);
			receive_all(in, 1, sa.count, 4096);
			T_EXPECT(t_waitpid(pid, TMO), 0);
			T_OK(ipcx_close(in));
			T_OK(ipcx_unlink(sa.endpoint));
		}
	}
}

/* ---- zero-copy ---- */

static void test_zero_copy(void)
{
	const char *name = t_name("zc");
	ipcx_chan *tx, *rx;
	void *p;
	const void *q;
	unsigned char buf[64];

	unlink_quiet(name);
	tx = xopen(ep(name, "size=65536"), IPCX_SEND);
	rx = xopen(ep(name, NULL), IPCX_RECV);
	T_EXPECT(ipcx_commit(tx, buf, 1), IPCX_ESTATE);
	T_EXPECT(ipcx_release(rx), IPCX_ESTATE);
	T_OK(ipcx_loan(tx, 20000, &p, TMO));
	T_EXPECT(ipcx_loan(tx, 10, &(void *){NULL}, TMO), IPCX_ESTATE);
	T_EXPECT(ipcx_commit(tx, buf, 10), IPCX_EINVAL);
	T_EXPECT(ipcx_commit(tx, p, 20001), IPCX_EINVAL);
	msg_make(p, 3, 1, 12345);
	T_EXPECT(ipcx_peek(rx, &q, 0), IPCX_ETIMEDOUT); /* not committed */
	T_OK(ipcx_commit(tx, p, 12345));
	T_EXPECT(ipcx_peek(rx, &q, TMO), 12345);
	msg_check(q, 12345);
	/* Peek again: the same message, in place. */
	{
		const void *q2;
		T_EXPECT(ipcx_peek(rx, &q2, TMO), 12345);
		T_ASSERT(q2 == q);
	}
	T_OK(ipcx_release(rx));
	T_EXPECT(ipcx_release(rx), IPCX_ESTATE);

	/* Loans and copies mix, in order. */
	T_OK(ipcx_loan(tx, 100, &p, TMO));
	memcpy(p, "loaned", 6);
	T_OK(ipcx_commit(tx, p, 6));
	T_OK(ipcx_send(tx, "copied", 6, TMO));
	T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), TMO), 6);
	T_ASSERT(memcmp(buf, "loaned", 6) == 0);
	T_EXPECT(ipcx_peek(rx, &q, TMO), 6);
	T_ASSERT(memcmp(q, "copied", 6) == 0);
	T_OK(ipcx_release(rx));

	/* A loan never committed is cancelled by close: the receiver
	 * passes it. */
	T_OK(ipcx_loan(tx, 500, &p, TMO));
	{
		ipcx_chan *tx2 = xopen(ep(name, NULL), IPCX_SEND);
		T_OK(ipcx_send(tx2, "after", 5, TMO));
		T_OK(ipcx_close(tx2));
	}
	T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), 0), IPCX_ETIMEDOUT);
	T_OK(ipcx_close(tx));
	T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), TMO), 5);
	T_ASSERT(memcmp(buf, "after", 5) == 0);
	T_OK(ipcx_close(rx));
	T_OK(ipcx_unlink(ep(name, NULL)));
}

/* ---- the pollable fd ---- */

static int readable(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int r;

	do
		r = poll(&p, 1, ms);
	while (r < 0 && errno == EINTR);
	T_ASSERT(r >= 0);
	return r > 0 && (p.revents & POLLIN);
}

static void test_fd(void)
{
	const char *name = t_name("fd");
	struct peer_arg a = {.count = 1, .size = 100};
	ipcx_chan *rx, *tx;
	unsigned char buf[256];
	int fd;
	pid_t pid;

	unlink_quiet(name);
	a.endpoint = ep(name, NULL);
	rx = xopen(a.endpoint, IPCX_RECV);
	tx = xopen(a.endpoint, IPCX_SEND);
	/* A message already queued makes a new fd readable at once. */
	T_OK(ipcx_send(tx, "a", 1, TMO));
	fd = ipcx_fd(rx);
	T_ASSERT(fd >= 0);
	T_EXPECT(ipcx_fd(rx), fd);
	T_ASSERT(readable(fd, TMO));
	T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), 0), 1);
	T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), 0), IPCX_ETIMEDOUT);
	/* Empty and drained: not readable, until a commit. */
	T_ASSERT(!readable(fd, 0));
	T_OK(ipcx_send(tx, "b", 1, TMO));
	T_ASSERT(readable(fd, TMO));
	T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), 0), 1);
	T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), 0), IPCX_ETIMEDOUT);
	T_ASSERT(!readable(fd, 0));
	/* From another process. */
	pid = t_fork(sender_main, &a);
	T_ASSERT(readable(fd, TMO));
	T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), 0), 100);
	T_EXPECT(t_waitpid(pid, TMO), 0);
	T_OK(ipcx_close(tx));
	T_OK(ipcx_close(rx));
	T_OK(ipcx_unlink(a.endpoint));
}

/* ---- dead peers ---- */

/* Child: reserve a record (loan) and die before committing it. */
static int die_mid_record(void *varg)
{
	struct peer_arg *a = varg;
	ipcx_chan *ch = NULL;
	void *p;

	if (ipcx_open(a->endpoint, IPCX_SEND, &ch) < 0 ||
	    ipcx_loan(ch, 1000, &p, TMO) < 0)
		return 10;
	memset(p, 0xee, 500);
	raise(SIGKILL);
	return 11;
}

/* Child: claim the receiver role and die. */
static int die_receiver(void *varg)
{
	struct peer_arg *a = varg;
	ipcx_chan *ch = NULL;

	if (ipcx_open(a->endpoint, IPCX_RECV, &ch) < 0)
		return 10;
	raise(SIGKILL);
	return 11;
}

static void test_dead_peers(void)
{
	const char *name = t_name("dead");
	struct peer_arg a = {.count = 1, .size = 64, .id = 1};
	ipcx_chan *rx, *tx;
	unsigned char buf[4096];
	int st;

	unlink_quiet(name);
	a.endpoint = ep(name, "size=8192");
	/* A writer dead mid-record: the receiver skips its record. */
	rx = xopen(a.endpoint, IPCX_RECV);
	st = t_waitpid(t_fork(die_mid_record, &a), TMO);
	T_ASSERT(WIFSIGNALED(st));
	T_EXPECT(t_waitpid(t_fork(sender_main, &a), TMO), 0);
	T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), TMO), 64);
	msg_check(buf, 64);
	/* Same with polling: recv with timeout 0 finds it dead too. */
	st = t_waitpid(t_fork(die_mid_record, &a), TMO);
	T_ASSERT(WIFSIGNALED(st));
	T_EXPECT(t_waitpid(t_fork(sender_main, &a), TMO), 0);
	T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), 0), 64);
	T_OK(ipcx_close(rx));

	/* A dead receiver: a new one can claim the ring, and a sender that
	 * finds it full hears that its receiver died. */
	st = t_waitpid(t_fork(die_receiver, &a), TMO);
	T_ASSERT(WIFSIGNALED(st));
	tx = xopen(a.endpoint, IPCX_SEND);
	for (int i = 0;; i++) {
		int rc = ipcx_send(tx, buf, 1000, TMO);
		if (rc == IPCX_EPEER)
			break;
		T_OK(rc);
		T_ASSERT(i < 100);
	}
	rx = xopen(a.endpoint, IPCX_RECV);
	T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), TMO), 1000);
	T_OK(ipcx_send(tx, buf, 1000, TMO));
	T_OK(ipcx_close(tx));
	T_OK(ipcx_close(rx));
	T_OK(ipcx_unlink(a.endpoint));
}

/* ---- the kill loop ---- */

/* Sender child: stream messages of random sizes until killed. */
static int stream_until_killed(void *varg)
{
	struct peer_arg *a = varg;
	static unsigned char buf[300000];
	ipcx_chan *ch = NULL;

	rnd_state = (unsigned)getpid();
	if (ipcx_open(a->endpoint, IPCX_SEND, &ch) < 0)
		return 10;
	t_notify_parent(a->sync);
	for (uint32_t i = 0;; i++) {
		size_t n = 16 + rnd() % (sizeof(buf) - 16);
		int rc;
		if (rnd() % 2) {
			msg_make(buf, a->id, i, n);
			rc = ipcx_send(ch, buf, n, TMO);
		} else {
			/* Built in place, slowly: most of this loop's time
			 * is then spent inside a reserved record. */
			void *p;
			rc = ipcx_loan(ch, n, &p, TMO);
			if (rc == 0) {
				msg_make(p, a->id, i, n);
				rc = ipcx_commit(ch, p, n);
			}
		}
		if (rc < 0)
			return 11;
		/* Pace it so the ring rarely fills: the kill then lands in
		 * a copy as often as between messages. */
		for (volatile unsigned spin = rnd() % 100000; spin; spin--)
			;
	}
}

/* Receiver child: check everything until END (seq 0xffffffff). */
static int receive_until_end(void *varg)
{
	struct peer_arg *a = varg;
	static unsigned char buf[70000];
	ipcx_chan *ch = NULL;
	uint32_t next = 0;
	bool first = true;

	if (ipcx_open(a->endpoint, IPCX_RECV, &ch) < 0) {
		fprintf(stderr, "receiver: %s\n", ipcx_errmsg());
		return 10;
	}
	t_notify_parent(a->sync);
	for (;;) {
		ssize_t n = ipcx_recv(ch, buf, sizeof(buf), TMO);
		struct msg_hdr h;
		if (n < 0) {
			fprintf(stderr, "receiver: %s\n", ipcx_errmsg());
			return 11;
		}
		h = msg_check(buf, (size_t)n);
		if (h.seq == 0xffffffffu)
			return 0;
		/* A new receiver may see again the message its killed
		 * predecessor was reading; after that, no gap. */
		if (!first && h.seq != next)
			return 12;
		first = false;
		next = h.seq + 1;
	}
}

static void kill_sender_once(const char *endpoint, ipcx_chan *rx)
{
	static unsigned char buf[300000];
	struct peer_arg a = {.endpoint = endpoint, .id = 7};
	struct t_sync sync;
	uint32_t next = 0;
	unsigned k = rnd() % 12;
	pid_t pid;
	int st;

	t_sync_init(&sync);
	a.sync = &sync;
	pid = t_fork(stream_until_killed, &a);
	t_wait_child(&sync);
	for (unsigned i = 0; i < k; i++) {
		ssize_t n = ipcx_recv(rx, buf, sizeof(buf), TMO);
		if (n < 0)
			fprintf(stderr, "kill loop recv: %s\n", ipcx_errmsg());
		T_ASSERT(n >= 0);
		T_EXPECT(msg_check(buf, (size_t)n).seq, next);
		next++;
	}
	/* A random moment: mid-copy of a large message is likely. */
	for (volatile unsigned spin = rnd() % 400000; spin; spin--)
		;
	kill(pid, SIGKILL);
	st = t_waitpid(pid, TMO);
	T_ASSERT(WIFSIGNALED(st));
	t_sync_close(&sync);
	/* What it committed arrives intact; then the ring runs dry within
	 * the timeout, never hangs on the dead writer's record. */
	for (;;) {
		ssize_t n = ipcx_recv(rx, buf, sizeof(buf), 50);
		if (n == IPCX_ETIMEDOUT)
			break;
		T_ASSERT(n >= 0);
		T_EXPECT(msg_check(buf, (size_t)n).seq, next);
		next++;
	}
	/* And a new sender gets through (past any dead reservation, and
	 * past the writers' lock if it died holding it). */
	{
		struct peer_arg b = {
		    .endpoint = endpoint, .id = 8, .count = 1, .size = 5000};
		ssize_t n;
		T_EXPECT(t_waitpid(t_fork(sender_main, &b), TMO), 0);
		n = ipcx_recv(rx, buf, sizeof(buf), TMO);
		T_EXPECT(n, 5000);
		T_EXPECT(msg_check(buf, 5000).id, 8);
	}
}

static void kill_receiver_once(const char *endpoint, ipcx_chan *tx,
                               uint32_t *seq)
{
	static unsigned char buf[70000];
	struct peer_arg a = {.endpoint = endpoint};
	struct t_sync sync;
	unsigned k = rnd() % 40;
	pid_t pid;
	int st, rc;

	t_sync_init(&sync);
	a.sync = &sync;
	pid = t_fork(receive_until_end, &a);
	t_wait_child(&sync);
	for (unsigned i = 0; i < k; i++) {
		size_t n = msg_make(buf, 1, (*seq)++, rnd() % 20000);
		T_OK(ipcx_send(tx, buf, n, TMO));
	}
	for (volatile unsigned spin = rnd() % 100000; spin; spin--)
		;
	kill(pid, SIGKILL);
	st = t_waitpid(pid, TMO);
	T_ASSERT(WIFSIGNALED(st));
	t_sync_close(&sync);
	/* The sender fills the ring and learns the receiver died (or times
	 * out): either way it returns. */
	for (;;) {
		size_t n = msg_make(buf, 1, *seq, rnd() % 20000);
		rc = ipcx_send(tx, buf, n, 200);
		if (rc < 0)
			break;
		(*seq)++;
	}
	T_ASSERT(rc == IPCX_EPEER || rc == IPCX_ETIMEDOUT);
	/* A new receiver claims the ring and gets the rest, in order. */
	t_sync_init(&sync);
	a.sync = &sync;
	pid = t_fork(receive_until_end, &a);
	t_wait_child(&sync);
	for (unsigned i = 0; i < 5; i++) {
		size_t n = msg_make(buf, 1, (*seq)++, rnd() % 20000);
		T_OK(ipcx_send(tx, buf, n, TMO));
	}
	msg_make(buf, 1, 0xffffffffu, 16);
	T_OK(ipcx_send(tx, buf, 16, TMO));
	T_EXPECT(t_waitpid(pid, TMO), 0);
	t_sync_close(&sync);
	(*seq)++;
}

/* Map /dev/shm/NAME to play another process through the layout. */
static unsigned char *map_ring(const char *name, size_t *lenp)
{
	char p[160];
	struct stat st;
	int fd;
	void *m;

	snprintf(p, sizeof(p), "/%s", name);
	fd = shm_open(p, O_RDWR, 0);
	T_ASSERT(fd >= 0 && fstat(fd, &st) == 0);
	m = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED,
	         fd, 0);
	T_ASSERT(m != MAP_FAILED);
	close(fd);
	*lenp = (size_t)st.st_size;
	return m;
}

/* A word of the header or a record, at byte offset off of the segment. */
#define W64(m, off) ((_Atomic uint64_t *)(void *)((m) + (off)))
#define W32(m, off) ((_Atomic uint32_t *)(void *)((m) + (off)))

/*
 * The dead writer of crash window 1 (issue 14), by hand through FORMAT.md
 * 3.3-3.6: it took a writer id (whose lock byte nobody holds now: it
 * died) and the writers' lock, wrote and committed a message at tail,
 * and died before storing tail. Returns the old tail.
 */
static uint64_t play_dead_writer(unsigned char *m, const char *msg)
{
	uint64_t d = atomic_load(W64(m, 16)), t = atomic_load(W64(m, 112));
	uint64_t n = strlen(msg), span = (32 + n + 31) & ~(uint64_t)31;
	uint64_t id = atomic_fetch_add(W64(m, 80), 1) + 1; /* wr_next */
	unsigned char *rec = m + 4096 + (t & (d - 1));

	T_ASSERT((t & (d - 1)) + span + 32 <= d); /* no wrap, for brevity */
	atomic_store(W64(m, 64), id); /* wr_owner: the dead writer */
	memcpy(rec + 32, msg, n);
	atomic_store(W32(rec, 8), (uint32_t)span);
	atomic_store(W32(rec, 12), (uint32_t)n);
	atomic_store(W32(rec, 16), 4242);                /* pid */
	atomic_store(W32(rec, 20), (uint32_t)geteuid()); /* uid */
	atomic_store(W64(rec, 24), id);                  /* writer id */
	atomic_store(W64(rec + span, 0), 0); /* the next slot's stamp */
	atomic_store(W64(rec, 0), t | 1);    /* committed; tail not moved */
	return t;
}

/* Crash window 1 through the API: nothing lost, the ring carries on. */
static void test_window_head_past_tail(void)
{
	const char *name = t_name("win1");
	ipcx_chan *rx, *tx;
	unsigned char *m;
	char buf[64];
	size_t len;

	unlink_quiet(name);
	rx = xopen(ep(name, "size=8192"), IPCX_RECV);
	tx = xopen(ep(name, NULL), IPCX_SEND);
	T_OK(ipcx_send(tx, "first", 5, TMO));
	T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), TMO), 5);
	m = map_ring(name, &len);
	play_dead_writer(m, "dead");
	/* The receiver takes the committed message: head passes tail. */
	T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), TMO), 4);
	T_ASSERT(memcmp(buf, "dead", 4) == 0);
	/* A new receiver accepts the ring; the sender takes the lock over. */
	T_OK(ipcx_close(rx));
	rx = xopen(ep(name, NULL), IPCX_RECV);
	T_OK(ipcx_send(tx, "after", 5, TMO));
	T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), TMO), 5);
	T_ASSERT(memcmp(buf, "after", 5) == 0);
	T_OK(ipcx_send(tx, "more", 4, TMO));
	T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), TMO), 4);
	T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), 0), IPCX_ETIMEDOUT);
	munmap(m, len);
	T_OK(ipcx_close(tx));
	T_OK(ipcx_close(rx));
}

/*
 * A ring that another uid could truncate (mode=0666 here: group and
 * others may write it) survives truncation: the receiver, spinning in
 * ipcx_recv in another process, and the sender here get IPCX_ECORRUPT,
 * naming `ipcx rm`, instead of dying of SIGBUS (issue 25).
 */
struct trunc_job {
	const char *endpoint;
	int said[2];
};

static int trunc_receiver(void *arg)
{
	struct trunc_job *j = arg;
	ipcx_chan *rx = NULL;
	char buf[64];
	ssize_t n;

	if (ipcx_open(j->endpoint, IPCX_RECV, &rx) < 0)
		return 2;
	if (write(j->said[1], "x", 1) != 1)
		return 3;
	n = ipcx_recv(rx, buf, sizeof(buf), TMO);
	if (n != IPCX_ECORRUPT || !strstr(ipcx_errmsg(), "ipcx rm"))
		return 4;
	/* Broken for good, and closing touches nothing. */
	if (ipcx_recv(rx, buf, sizeof(buf), 0) != IPCX_ECORRUPT)
		return 5;
	return ipcx_close(rx) < 0 ? 6 : 0;
}

static void test_truncated(void)
{
	const char *name = t_name("trunc");
	struct trunc_job j;
	ipcx_chan *tx;
	char p[160], c;
	pid_t pid;
	int fd;

	unlink_quiet(name);
	j.endpoint = ep(name, "mode=0666&wait=spin");
	T_ASSERT(pipe(j.said) == 0);
	tx = xopen(j.endpoint, IPCX_SEND);
	pid = t_fork(trunc_receiver, &j);
	T_ASSERT(read(j.said[0], &c, 1) == 1);
	snprintf(p, sizeof(p), "/%s", name);
	fd = shm_open(p, O_RDWR, 0);
	T_ASSERT(fd >= 0 && ftruncate(fd, 4096) == 0);
	close(fd);
	T_EXPECT(t_waitpid(pid, TMO), 0);
	T_EXPECT(ipcx_send(tx, "x", 1, TMO), IPCX_ECORRUPT);
	T_ASSERT(strstr(ipcx_errmsg(), "truncated") != NULL);
	T_OK(ipcx_close(tx));
	close(j.said[0]);
	close(j.said[1]);
	T_OK(ipcx_unlink(ep(name, NULL)));
}

static void test_kill_loop(void)
{
	const char *n1 = t_name("killtx"), *n2 = t_name("killrx");
	const char *e1, *e2;
	ipcx_chan *rx, *tx;
	uint32_t seq = 0;
	int iters = 100;

	unlink_quiet(n1);
	unlink_quiet(n2);
	e1 = ep(n1, "size=1M");
	e2 = ep(n2, "size=65536");
	rx = xopen(e1, IPCX_RECV);
	tx = xopen(e2, IPCX_SEND);
	for (int i = 0; i < iters; i++) {
		if (rnd() % 2)
			kill_sender_once(e1, rx);
		else
			kill_receiver_once(e2, tx, &seq);
	}
	T_OK(ipcx_close(rx));
	T_OK(ipcx_close(tx));
	T_OK(ipcx_unlink(e1));
	T_OK(ipcx_unlink(e2));
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	main_pid = getpid();
	atexit(unlink_used);
	t_leak_begin();
	test_basic();
	test_mode_and_size();
	test_hostile_segment();
	test_foreign_owner();
	test_start_orders();
	test_big();
	test_forked_sender();
	test_two_senders();
	test_policies();
	test_zero_copy();
	test_fd();
	test_dead_peers();
	test_window_head_past_tail();
	test_truncated();
	test_kill_loop();
	t_leak_end();
	return T_EXIT_PASS;
}
