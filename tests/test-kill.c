/*
 * test-kill.c - peers killed with SIGKILL at random moments, on every
 * transport.
 *
 * Each round forks a peer and kills it:
 *   - sender-random: the child streams self-checking messages (sequence
 *     number, length, checksum; sizes random, some larger than a pipe's
 *     buffer so a kill can land inside a write); the parent receives a
 *     random number of them, kills the child, then drains.
 *   - receiver-random: the child receives and checks; the parent sends a
 *     random number of messages, kills it, then keeps sending.
 *   - mid-frame: the child writes the header and half the payload of a
 *     frame straight to the stream's descriptor (for shm://, it loans a
 *     record and fills half of it; for semshm://, it stops between taking
 *     a slot and committing it) and is killed there.
 * The survivor must return (an error, or a timeout where the transport
 * waits for new peers) within a bounded time, never deliver a torn or
 * reordered message, never die of SIGPIPE, and a reader whose writer died
 * mid-frame returns an error, not IPCX_ETIMEDOUT. Afterwards ipcx_unlink
 * removes whatever the dead peer left, and the test checks it is gone.
 *
 * Rounds are drawn from a seeded PRNG (the seed is printed first;
 * IPCX_T_SEED=N repeats a run). Usage: test-kill [TRANSPORT [ROUNDS]].
 */
#include "internal.h"
#include "t.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

enum {
	K_PIPE = 1 << 0,   /* ipcx_pipe() / pipe://?fd=N */
	K_FRAME = 1 << 1,  /* a framed stream: mid-frame writes by hand */
	K_PORT = 1 << 2,   /* tcp/udp: endpoint needs a port */
	K_LOSSY = 1 << 3,  /* may drop (udp): sequence increases, with gaps */
	K_SHM = 1 << 4,    /* mid-record: an unfinished loan */
	K_EVENT = 1 << 5,  /* zero-byte events (semaphores): posts counted */
	K_SEMSHM = 1 << 6, /* mid-record: killed holding the buffer's mutex */
	K_KEY = 1 << 7,    /* named by a System V key */
	K_STORE = 1 << 8, /* a spool: sends never fail for want of a receiver */
	K_VALUE = 1 << 9, /* signal: 8-byte values, each the sequence number;
	                     the peer is named by its pid */
};

/* What a survivor may see once the peer is dead (a mask). */
enum {
	G_EPEER = T_GONE_EPEER,
	G_TIMEOUT = T_GONE_TIMEOUT,
	G_ACCEPTED = T_GONE_ACCEPTED
};

struct ktp {
	const char *name;
	const char *ep; /* prefix; then the name, or the port with K_PORT */
	int bare;       /* a bare name (shm, abstract), else a /tmp path */
	const char *opts;
	unsigned caps;
	size_t maxlen;    /* largest message sent */
	const char *obj;  /* prefix of the file system object, or NULL */
	unsigned rx_gone; /* receiver after its sender died */
	unsigned tx_gone; /* sender after its receiver died */
};

static const struct ktp ktps[] = {
    {"pipe", NULL, 0, "", K_PIPE | K_FRAME, 150000, NULL, G_EPEER, G_EPEER},
    {"fifo", "fifo://", 0, "", K_FRAME, 150000, "", G_EPEER | G_TIMEOUT,
     G_EPEER},
    {"unix", "unix://", 0, "", K_FRAME, 150000, "", G_EPEER | G_TIMEOUT,
     G_EPEER},
    {"unix-abstract", "unix://@", 1, "", K_FRAME, 150000, NULL,
     G_EPEER | G_TIMEOUT, G_EPEER},
    {"tcp", "tcp://127.0.0.1:", 0, "", K_FRAME | K_PORT, 150000, NULL,
     G_EPEER | G_TIMEOUT, G_EPEER},
    {"udp", "udp://127.0.0.1:", 0, "", K_PORT | K_LOSSY, 60000, NULL, G_TIMEOUT,
     G_EPEER | G_ACCEPTED},
    {"shm", "shm://", 1, "size=256K", K_SHM, 100000, "/dev/shm/", G_TIMEOUT,
     G_EPEER | G_TIMEOUT},
    /* Writers killed mid-write leave temporary files, never messages. */
    {"file", "file://", 0, "fsync=0", K_STORE, 150000, "", G_TIMEOUT,
     G_ACCEPTED},
    /* A dead but unreaped receiver still takes signals (accepted). */
    {"signal", "signal://", 1, "", K_VALUE, 8, NULL, G_TIMEOUT,
     G_EPEER | G_ACCEPTED},
    {"sem", "sem://", 1, "", K_EVENT, 0, "/dev/shm/sem.", G_TIMEOUT,
     G_ACCEPTED},
    {"sysv-sem", "sysv-sem://", 1, "", K_EVENT | K_KEY, 0, NULL, G_TIMEOUT,
     G_ACCEPTED},
    {"semshm", "semshm://", 1, "slots=16&maxmsg=64K", K_SEMSHM, 60000,
     "/dev/shm/semshm.", G_TIMEOUT, G_TIMEOUT},
    /* Kernel message queues: whole messages or none, no frames to tear;
     * nobody is told that the other side died. */
    {"mq", "mq://", 1, "maxmsg=10&msgsize=8192", 0, 8192, "/dev/mqueue/",
     G_TIMEOUT, G_TIMEOUT},
    {"sysv-mq", "sysv-mq://", 0, "", K_KEY, 8192, NULL, G_TIMEOUT, G_TIMEOUT},
};

#define NKTPS   (sizeof(ktps) / sizeof(ktps[0]))
#define LONG_MS 10000
/* How long a survivor that may wait for new peers is given. */
#define SHORT_MS 200
/* An event sender posts this many, then waits to be killed (a System V
 * count stops at 32767). */
#define EVENT_POSTS 100

struct round {
	const struct ktp *tp;
	char name[128];
	char ep[320];
	char obj[160];
	int port;
	uint32_t child_seed;
	struct t_sync sync;
	pid_t peer;             /* K_VALUE: the other side's pid */
	int pfd[2];             /* pipe: the raw pipe behind pipe://?fd= */
	ipcx_chan *keep, *drop; /* pipe: the child's end, the parent's */
};

static uint8_t buf[200000];
static int next_port;

static void make_ep(struct round *r)
{
	if (r->tp->caps & K_VALUE) /* receive in ourselves, send to peer */
		snprintf(r->ep, sizeof(r->ep), "signal://");
	else if (r->tp->caps & K_PORT)
		snprintf(r->ep, sizeof(r->ep), "%s%d%s%s", r->tp->ep, r->port,
		         *r->tp->opts ? "?" : "", r->tp->opts);
	else
		snprintf(r->ep, sizeof(r->ep), "%s%s%s%s", r->tp->ep, r->name,
		         *r->tp->opts ? "?" : "", r->tp->opts);
}

static void open_rx(struct round *r, ipcx_chan **rx)
{
	int rc;

	if (!(r->tp->caps & K_PORT)) {
		make_ep(r);
		T_OK(ipcx_open(r->ep, IPCX_RECV | IPCX_CREATE, rx));
		return;
	}
	if (!next_port)
		next_port = 20000 + (int)((getpid() * 11 + 5000) % 20000);
	for (int i = 0; i < 200; i++) {
		r->port = next_port;
		next_port = next_port >= 60000 ? 20000 : next_port + 1;
		make_ep(r);
		rc = ipcx_open(r->ep, IPCX_RECV | IPCX_CREATE, rx);
		if (rc == 0)
			return;
		T_ASSERT(rc == IPCX_EEXIST || rc == IPCX_EBUSY);
	}
	fprintf(stderr, "no free port\n");
	exit(T_EXIT_FAIL);
}

/* A sender: connect, retrying while the receiver is not there yet. */
static void open_tx(struct round *r, ipcx_chan **tx)
{
	make_ep(r);
	if (r->tp->caps & K_VALUE)
		snprintf(r->ep, sizeof(r->ep), "signal://%ld", (long)r->peer);
	T_OK(ipcx_open(r->ep, IPCX_SEND, tx));
}

/*
 * A message: t_msg_fill's, or (K_VALUE) the 8-byte sequence number.
 * msg_check: whether buf/n is whole, and its sequence number.
 */
static void msg_fill(const struct ktp *tp, void *b, size_t len, uint32_t seq)
{
	uint64_t v = seq;

	if (tp->caps & K_VALUE)
		memcpy(b, &v, sizeof(v));
	else
		t_msg_fill(b, len, seq);
}

static int msg_check(const struct ktp *tp, const void *b, size_t n,
                     uint32_t *seq)
{
	uint64_t v;

	if (!(tp->caps & K_VALUE))
		return t_msg_check(b, n, seq);
	if (n != sizeof(v))
		return 0;
	memcpy(&v, b, sizeof(v));
	*seq = (uint32_t)v;
	return v <= UINT32_MAX;
}

/* The size of message seq in a stream seeded with seed: mostly small. */
static size_t msg_len(const struct ktp *tp, uint32_t seed, uint32_t seq)
{
	uint32_t h = (seed ^ (seq * 2654435761u)) * 2246822519u;

	if (tp->caps & K_VALUE)
		return 8;
	if (tp->caps & K_EVENT)
		return 0;
	h ^= h >> 15;
	if (h % 8 == 0)
		return T_MSG_MIN + h / 8 % (tp->maxlen - T_MSG_MIN + 1);
	return T_MSG_MIN + h / 8 % 2000;
}

/* ---- children ---- */

/* Stream messages until killed (or a bounded count). */
static int child_sender(void *arg)
{
	struct round *r = arg;
	ipcx_chan *tx = r->keep;

	if (r->drop)
		ipcx_close(r->drop);
	r->peer = getppid();
	if (!tx)
		open_tx(r, &tx);
	t_notify_parent(&r->sync);
	if (r->tp->caps & K_EVENT) {
		for (int i = 0; i < EVENT_POSTS; i++)
			T_OK(ipcx_send(tx, "", 0, LONG_MS));
		t_wait_parent(&r->sync); /* killed here */
		return 2;
	}
	for (uint32_t seq = 0; seq < 1000000; seq++) {
		size_t len = msg_len(r->tp, r->child_seed, seq);
		int rc;
		msg_fill(r->tp, buf, len, seq);
		rc = ipcx_send(tx, buf, len, LONG_MS);
		/* A full signal queue: the parent is behind. */
		while (rc == IPCX_EAGAIN) {
			sched_yield();
			rc = ipcx_send(tx, buf, len, LONG_MS);
		}
		if (rc < 0)
			return 3;
		/* Pending signals count against this uid everywhere on
		 * the machine, and a spool takes all a sender writes
		 * (even orphaned): keep to a few. */
		if ((r->tp->caps & (K_VALUE | K_STORE)) && seq == 2000)
			t_wait_parent(&r->sync); /* killed here */
	}
	return 0;
}

/* Receive and check until killed; report a bad message with a 'X'. */
static int child_receiver(void *arg)
{
	struct round *r = arg;
	ipcx_chan *rx = r->keep;
	uint32_t seq, want = 0;

	if (r->drop)
		ipcx_close(r->drop);
	if (!rx)
		open_rx(r, &rx);
	T_ASSERT(write(r->sync.c2p[1], &r->port, sizeof(r->port)) ==
	         sizeof(r->port));
	for (;;) {
		ssize_t n = ipcx_recv(rx, buf, sizeof(buf), LONG_MS);
		if (n < 0)
			return 3;
		if ((r->tp->caps & K_EVENT) && n == 0)
			continue;
		if (!msg_check(r->tp, buf, (size_t)n, &seq) || seq < want ||
		    (seq != want && !(r->tp->caps & K_LOSSY))) {
			char x = 'X';
			T_ASSERT(write(r->sync.c2p[1], &x, 1) == 1);
			return 1;
		}
		want = seq + 1;
	}
}

/* Write a header and half a payload by hand, then wait to be killed. */
static int raw_connect(struct round *r)
{
	int fd = -1;

	if (r->tp->caps & K_PIPE)
		return r->pfd[1];
	if (!strcmp(r->tp->name, "fifo"))
		return open(r->name, O_WRONLY | O_CLOEXEC);
	if (!strncmp(r->tp->name, "unix", 4)) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		socklen_t len;
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (r->tp->bare) {
			memcpy(sa.sun_path + 1, r->name, strlen(r->name));
			len =
			    (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
			                1 + strlen(r->name));
		} else {
			memcpy(sa.sun_path, r->name, strlen(r->name) + 1);
			len = sizeof(sa);
		}
		if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, len) < 0)
			return -1;
		return fd;
	}
	{
		struct sockaddr_in sa = {.sin_family = AF_INET};
		sa.sin_port = htons((uint16_t)r->port);
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 &&
		    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			return -1;
		return fd;
	}
}

static int child_half_frame(void *arg)
{
	struct round *r = arg;
	uint32_t len = 1000 + r->child_seed % 3000;
	uint8_t frame[4 + 4000];
	size_t part = 4 + len / 2;
	int fd = raw_connect(r);

	T_ASSERT(fd >= 0);
	/* First a whole good message, then the torn one. */
	ipcx__frame_put(frame, 100);
	t_msg_fill(frame + 4, 100, 0);
	T_ASSERT(write(fd, frame, 104) == 104);
	ipcx__frame_put(frame, len);
	t_msg_fill(frame + 4, len, 1);
	/* Sometimes only part of the header. */
	if (r->child_seed % 4 == 0)
		part = 1 + r->child_seed / 4 % 3;
	T_ASSERT(write(fd, frame, part) == (ssize_t)part);
	t_notify_parent(&r->sync);
	t_wait_parent(&r->sync); /* killed here */
	return 2;
}

static int child_half_loan(void *arg)
{
	struct round *r = arg;
	size_t len = 1000 + r->child_seed % 3000;
	ipcx_chan *tx;
	void *p;

	open_tx(r, &tx);
	t_msg_fill(buf, 100, 0);
	T_OK(ipcx_send(tx, buf, 100, LONG_MS));
	T_OK(ipcx_loan(tx, len, &p, LONG_MS));
	t_msg_fill(buf, len, 1);
	memcpy(p, buf, len / 2);
	t_notify_parent(&r->sync);
	t_wait_parent(&r->sync); /* killed here */
	return 2;
}

/* semshm: stop inside the mutex at a random stage (semshm.c's hook). */
static struct round *hook_round;

static void hook_stop(int stage)
{
	if (stage != (int)(1 + hook_round->child_seed % 3))
		return;
	t_notify_parent(&hook_round->sync);
	t_wait_parent(&hook_round->sync); /* killed here */
	_exit(2);
}

static int child_in_mutex(void *arg)
{
	struct round *r = arg;
	size_t len = 1000 + r->child_seed % 3000;
	ipcx_chan *tx;

	open_tx(r, &tx);
	t_msg_fill(buf, 100, 0);
	T_OK(ipcx_send(tx, buf, 100, LONG_MS));
	hook_round = r;
	ipcx__semshm_hook = hook_stop;
	t_msg_fill(buf, len, 1);
	(void)ipcx_send(tx, buf, len, LONG_MS);
	return 2;
}

/* ---- the parent's side ---- */

/*
 * SIGKILL the child. Half the time reap it at once, else at the end of the
 * round (reap_later), so survivors also meet a dead but unreaped peer.
 */
static pid_t zombie;

static void reap(pid_t pid)
{
	int st = t_waitpid(pid, LONG_MS);

	/* It may have failed on its own first: that is a failure. */
	if (!(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)) {
		fprintf(stderr, "child ended by itself: status 0x%x\n", st);
		exit(T_EXIT_FAIL);
	}
}

static void kill_and_reap(pid_t pid)
{
	T_ASSERT(kill(pid, SIGKILL) == 0);
	if (t_rand_below(2))
		reap(pid);
	else
		zombie = pid;
}

/* Receive and check; returns the result of the receive that failed. */
static ssize_t drain(struct round *r, ipcx_chan *rx, uint32_t *want, int limit,
                     int timeout_ms)
{
	uint32_t seq;

	for (int i = 0; limit < 0 || i < limit; i++) {
		ssize_t n = ipcx_recv(rx, buf, sizeof(buf), timeout_ms);
		if (n < 0)
			return n;
		if ((r->tp->caps & K_EVENT) && n == 0) {
			/* An event: count it (never more than were posted). */
			T_ASSERT(++*want <= EVENT_POSTS);
			continue;
		}
		if (!msg_check(r->tp, buf, (size_t)n, &seq) || seq < *want ||
		    (seq != *want && !(r->tp->caps & K_LOSSY))) {
			fprintf(stderr,
			        "torn or out-of-order message: %zd bytes, "
			        "want seq %u\n",
			        n, (unsigned)*want);
			exit(T_EXIT_FAIL);
		}
		*want = seq + 1;
	}
	return 0;
}

/*
 * A reader that did not see the start: every message whole, sequence
 * numbers strictly increasing from wherever they start.
 */
static ssize_t drain_any(ipcx_chan *rx, int timeout_ms, int *count)
{
	uint32_t seq, last = 0;

	for (;;) {
		ssize_t n = ipcx_recv(rx, buf, sizeof(buf), timeout_ms);
		if (n < 0)
			return n;
		if (!t_msg_check(buf, (size_t)n, &seq) ||
		    (*count > 0 && seq <= last)) {
			fprintf(stderr,
			        "torn or out-of-order message: %zd "
			        "bytes\n",
			        n);
			exit(T_EXIT_FAIL);
		}
		last = seq;
		(*count)++;
	}
}

static void round_sender_random(struct round *r)
{
	const struct ktp *tp = r->tp;
	ipcx_chan *rx = NULL, *tx = NULL;
	int k = (int)t_rand_below(60);
	uint32_t want = 0;
	ssize_t rc;
	pid_t pid;

	if (tp->caps & K_PIPE) {
		T_OK(ipcx_pipe(tp->opts, &rx, &tx));
		r->keep = tx;
		r->drop = rx;
	} else {
		open_rx(r, &rx);
	}
	pid = t_fork(child_sender, r);
	ipcx_close(tx);
	t_wait_child(&r->sync);
	/* udp may drop: never wait for a count there, just take some. */
	rc = drain(r, rx, &want, k, (tp->caps & K_LOSSY) ? SHORT_MS : LONG_MS);
	T_ASSERT(rc == 0 || (rc == IPCX_ETIMEDOUT && (tp->caps & K_LOSSY)));
	kill_and_reap(pid);
	/* Whatever was queued comes out whole; then the end. */
	rc = drain(r, rx, &want, -1,
	           (tp->rx_gone & G_TIMEOUT) ? SHORT_MS : LONG_MS);
	t_expect_gone("receiver", rc, tp->rx_gone);
	T_OK(ipcx_close(rx));
}

static void round_receiver_random(struct round *r)
{
	const struct ktp *tp = r->tp;
	ipcx_chan *rx = NULL, *tx = NULL;
	int k = (int)t_rand_below(60), i;
	int rc = 0;
	pid_t pid;
	char x;

	if (tp->caps & K_PIPE) {
		T_OK(ipcx_pipe(tp->opts, &rx, &tx));
		r->keep = rx;
		r->drop = tx;
	}
	pid = t_fork(child_receiver, r);
	r->peer = pid;
	ipcx_close(rx);
	T_ASSERT(t_poll_in(r->sync.c2p[0], LONG_MS));
	T_ASSERT(read(r->sync.c2p[0], &r->port, sizeof(r->port)) ==
	         sizeof(r->port));
	if (!tx)
		open_tx(r, &tx);
	for (i = 0; i < k; i++) {
		size_t len = msg_len(tp, r->child_seed, (uint32_t)i);
		msg_fill(tp, buf, len, (uint32_t)i);
		T_OK(ipcx_send(tx, buf, len, LONG_MS));
	}
	kill_and_reap(pid);
	/* The child reports a bad message with 'X' before it could die. */
	if (t_poll_in(r->sync.c2p[0], 0)) {
		T_ASSERT(read(r->sync.c2p[0], &x, 1) == 1);
		fprintf(stderr, "the receiver got a torn message\n");
		exit(T_EXIT_FAIL);
	}
	/* Keep sending: an error must come within bounds (or, for
	 * datagrams, none at all). */
	for (i = 0; i < 5000; i++) {
		size_t len = msg_len(tp, r->child_seed, (uint32_t)(k + i));
		msg_fill(tp, buf, len, (uint32_t)(k + i));
		rc = ipcx_send(tx, buf, len, SHORT_MS);
		if (rc < 0 || ((tp->caps & (K_STORE | K_VALUE)) && i == 100))
			break;
	}
	t_expect_gone("sender", rc, tp->tx_gone);
	T_OK(ipcx_close(tx));

	/* shm: a new receiver takes over (even while the dead one is not
	 * yet reaped) and finds only whole messages, in order. */
	if (tp->caps & (K_SHM | K_SEMSHM)) {
		int count = 0;
		T_OK(ipcx_open(r->ep, IPCX_RECV, &rx));
		T_EXPECT(drain_any(rx, 0, &count), IPCX_ETIMEDOUT);
		T_OK(ipcx_close(rx));
	}
}

static void round_mid_frame(struct round *r)
{
	const struct ktp *tp = r->tp;
	ipcx_chan *rx = NULL, *tx;
	uint32_t want = 0;
	ssize_t rc;
	pid_t pid;

	if (tp->caps & K_PIPE) {
		char ep[64];
		T_ASSERT(pipe2(r->pfd, O_CLOEXEC) == 0);
		snprintf(ep, sizeof(ep), "pipe://?fd=%d", r->pfd[0]);
		T_OK(ipcx_open(ep, IPCX_RECV, &rx));
		close(r->pfd[0]);
	} else {
		open_rx(r, &rx);
	}
	pid = t_fork((tp->caps & K_SHM)      ? child_half_loan
	             : (tp->caps & K_SEMSHM) ? child_in_mutex
	                                     : child_half_frame,
	             r);
	if (tp->caps & K_PIPE)
		close(r->pfd[1]);
	t_wait_child(&r->sync);
	/* The whole message first. */
	T_EXPECT(drain(r, rx, &want, 1, LONG_MS), 0);
	/* Sometimes the reader is already waiting when the writer dies. */
	if (t_rand_below(2))
		T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), 1), IPCX_ETIMEDOUT);
	kill_and_reap(pid);
	if (tp->caps & K_SEMSHM) {
		/* Killed holding the producers' mutex: the kernel undid its
		 * waits (SEM_UNDO), so its message never comes (a committed
		 * one would come whole), and a new writer's gets through. */
		uint32_t seq;
		ssize_t n;
		open_tx(r, &tx);
		t_msg_fill(buf, 500, 77);
		T_OK(ipcx_send(tx, buf, 500, LONG_MS));
		n = ipcx_recv(rx, buf, sizeof(buf), LONG_MS);
		if (n != 500) {
			T_ASSERT(n > 0 && t_msg_check(buf, (size_t)n, &seq) &&
			         seq == 1);
			n = ipcx_recv(rx, buf, sizeof(buf), LONG_MS);
		}
		T_EXPECT(n, 500);
		T_ASSERT(t_msg_is(buf, 500, 77));
		T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), 0), IPCX_ETIMEDOUT);
		T_OK(ipcx_close(tx));
	} else if (!(tp->caps & K_SHM)) {
		/* The torn frame is dropped, the reader told at once: an
		 * error well before the long timeout, never ETIMEDOUT. */
		rc = drain(r, rx, &want, -1, LONG_MS);
		if (rc != IPCX_EPEER) {
			fprintf(stderr,
			        "reader after mid-frame kill: %s (%s)\n",
			        ipcx_errname((int)rc), ipcx_errmsg());
			exit(T_EXIT_FAIL);
		}
	} else {
		/* The ring: the dead loan is never delivered and does not
		 * wedge the ring: a new writer's message gets through. */
		int count = 0;
		rc = drain_any(rx, SHORT_MS, &count);
		T_EXPECT(rc, IPCX_ETIMEDOUT);
		T_EXPECT(count, 0);
		open_tx(r, &tx);
		t_msg_fill(buf, 500, 77);
		T_OK(ipcx_send(tx, buf, 500, LONG_MS));
		T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), LONG_MS), 500);
		T_ASSERT(t_msg_is(buf, 500, 77));
		T_OK(ipcx_close(tx));
	}
	T_OK(ipcx_close(rx));
}

/* Remove what the dead (or the living) left, and check it is gone. */
static void round_cleanup(struct round *r)
{
	int rc;

	if (!r->tp->ep || (r->tp->caps & K_PORT))
		return;
	make_ep(r);
	rc = ipcx_unlink(r->ep);
	T_ASSERT(rc == 0 || rc == IPCX_ENOENT || rc == IPCX_ENOTSUP);
	if (r->obj[0])
		T_ASSERT(t_path_gone(r->obj));
}

int main(int argc, char **argv)
{
	int rounds = argc > 2 ? atoi(argv[2]) : 30;
	int ran = 0;

	signal(SIGPIPE, SIG_DFL);
	t_seed();
	for (size_t i = 0; i < NKTPS; i++) {
		const struct ktp *tp = &ktps[i];
		int counts[3] = {0, 0, 0};

		if (argc > 1 && strcmp(argv[1], tp->name) != 0)
			continue;
		for (int n = 0; n < rounds; n++) {
			struct round r;
			int kind = (int)t_rand_below(3);

			/* udp has no frames to tear. */
			if (kind == 2 &&
			    !(tp->caps & (K_FRAME | K_SHM | K_SEMSHM)))
				kind = (int)t_rand_below(2);
			memset(&r, 0, sizeof(r));
			r.tp = tp;
			r.child_seed = t_rand();
			if (tp->caps & K_KEY)
				snprintf(r.name, sizeof(r.name), "0x%x",
				         0x48000000u |
				             ((unsigned)getpid() & 0x3ffff)
				                 << 8 |
				             ((unsigned)n & 0xff));
			else
				snprintf(r.name, sizeof(r.name), "%s",
				         tp->bare ? t_name("kill")
				                  : t_tmp_path("kill"));
			if (tp->obj)
				snprintf(r.obj, sizeof(r.obj), "%s%s", tp->obj,
				         r.name);
			t_leak_begin();
			t_sync_init(&r.sync);
			if (kind == 0)
				round_sender_random(&r);
			else if (kind == 1)
				round_receiver_random(&r);
			else
				round_mid_frame(&r);
			if (zombie)
				reap(zombie);
			zombie = 0;
			t_sync_close(&r.sync);
			round_cleanup(&r);
			t_leak_end();
			counts[kind]++;
			ran++;
		}
		fprintf(
		    stderr,
		    "%s: %d rounds (sender %d, receiver %d, mid-frame %d)\n",
		    tp->name, rounds, counts[0], counts[1], counts[2]);
	}
	if (!ran)
		return argc > 1 ? T_EXIT_FAIL : T_EXIT_SKIP;
	printf("%d rounds passed\n", ran);
	return T_EXIT_PASS;
}
