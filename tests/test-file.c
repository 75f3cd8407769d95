/*
 * test-file.c - file:// spools.
 *
 * Messages round trip whole and in order, sent before or after the
 * receiver opens, with the sender's pid and uid; the directory is 0700
 * and message files 0600 whatever the umask (?mode= changes both); a
 * receiver's limit (?maxmsg=) and buffer (ENOBUFS) leave the message in
 * the spool; ipcx_fd() is readable for a backlog and for new messages;
 * '..', a symlinked spool and a symlink, a FIFO or a torn file where a
 * message should be are refused and never followed or delivered.
 * Two receiver processes share 200 messages: each delivered exactly once.
 * A writer of 1 MiB messages is SIGKILLed 30 times at random moments:
 * receivers only ever get whole messages, temporary files are ignored,
 * and `ipcx clean file:///dir` (when $IPCX is set) removes the dead
 * writers' leftovers and gives back a dead receiver's claimed message.
 */
#include "internal.h"
#include "t.h"

#include "../src/transport/spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define LONG_MS 10000

static char dir[128], ep[400];

static void spool_new(const char *tag, const char *opts)
{
	snprintf(dir, sizeof(dir), "%s", t_tmp_path(tag));
	snprintf(ep, sizeof(ep), "file://%s%s%s", dir, *opts ? "?" : "", opts);
}

static void spool_gone(void)
{
	char base[300];

	snprintf(base, sizeof(base), "file://%s", dir);
	T_OK(ipcx_unlink(base));
	T_ASSERT(t_path_gone(dir));
}

/* How many entries of kind k the spool holds. */
static int spool_count(enum ipcx__spool_kind k)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	T_ASSERT(d != NULL);
	while ((e = readdir(d)) != NULL)
		n += ipcx__spool_kind(e->d_name) == k;
	closedir(d);
	return n;
}

static void test_basics(void)
{
	uint8_t buf[5000];
	struct ipcx_peer peer;
	ipcx_chan *rx, *tx;
	struct stat st;
	char path[400];

	spool_new("fbasic", "maxmsg=4096");
	/* Sender first: the spool keeps what comes before any receiver. */
	T_OK(ipcx_open(ep, IPCX_SEND, &tx));
	T_ASSERT(stat(dir, &st) == 0 && S_ISDIR(st.st_mode) &&
	         (st.st_mode & 07777) == 0700);
	for (uint32_t i = 0; i < 50; i++) {
		t_msg_fill(buf, T_MSG_MIN + i * 80, i);
		T_OK(ipcx_send(tx, buf, T_MSG_MIN + i * 80, LONG_MS));
	}
	T_OK(ipcx_send(tx, "", 0, LONG_MS));
	T_EXPECT(ipcx_send(tx, buf, 4097, LONG_MS), IPCX_EMSGSIZE);
	T_ASSERT(spool_count(IPCX__SPOOL_MSG) == 51);
	{
		DIR *d = opendir(dir);
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			T_ASSERT(lstat(path, &st) == 0);
			T_ASSERT((st.st_mode & 07777) == 0600);
		}
		closedir(d);
	}
	T_OK(ipcx_open(ep, IPCX_RECV | IPCX_CREATE, &rx));
	/* The backlog makes ipcx_fd() readable at once. */
	T_ASSERT(t_poll_in(ipcx_fd(rx), 0));
	/* Too small a buffer: ENOBUFS, and it stays first in line. */
	T_EXPECT(ipcx_recv(rx, buf, 5, LONG_MS), IPCX_ENOBUFS);
	T_EXPECT(ipcx_pending(rx), T_MSG_MIN);
	for (uint32_t i = 0; i < 50; i++) {
		T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), LONG_MS),
		         T_MSG_MIN + i * 80);
		T_ASSERT(t_msg_is(buf, T_MSG_MIN + i * 80, i));
	}
	T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), LONG_MS), 0);
	T_OK(ipcx_peer(rx, &peer));
	T_ASSERT(peer.pid == getpid() && peer.uid == geteuid());
	T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), 0), IPCX_ETIMEDOUT);
	T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), 20), IPCX_ETIMEDOUT);
	/* A new message wakes the fd; a temporary file alone does not
	 * deliver anything. */
	T_OK(ipcx_send(tx, "ping", 4, LONG_MS));
	T_ASSERT(t_poll_in(ipcx_fd(rx), LONG_MS));
	T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), 0), 4);
	T_ASSERT(spool_count(IPCX__SPOOL_MSG) == 0);
	T_OK(ipcx_close(tx));
	T_OK(ipcx_close(rx));
	spool_gone();

	/* ?mode=0640: files 0640, the directory 0750. */
	spool_new("fmode", "mode=0640&fsync=0");
	T_OK(ipcx_open(ep, IPCX_SEND, &tx));
	T_OK(ipcx_send(tx, "m", 1, LONG_MS));
	T_ASSERT(stat(dir, &st) == 0 && (st.st_mode & 07777) == 0750);
	T_OK(ipcx_close(tx));
	spool_gone();
}

/* The receiver's own limit: a bigger message stays, said so. */
static void test_rx_limit(void)
{
	char opts[200];
	uint8_t buf[64];
	ipcx_chan *rx, *tx;

	spool_new("flimit", "maxmsg=100");
	T_OK(ipcx_open(ep, IPCX_RECV, &rx));
	snprintf(opts, sizeof(opts), "file://%s?maxmsg=200", dir);
	T_OK(ipcx_open(opts, IPCX_SEND, &tx));
	memset(buf, 1, sizeof(buf));
	T_OK(ipcx_send(tx, buf, 0, LONG_MS));
	{
		uint8_t big[150] = {0};
		T_OK(ipcx_send(tx, big, sizeof(big), LONG_MS));
	}
	T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), LONG_MS), 0);
	T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), LONG_MS), IPCX_EMSGSIZE);
	T_ASSERT(strstr(ipcx_errmsg(), "maxmsg") != NULL);
	T_ASSERT(spool_count(IPCX__SPOOL_MSG) == 1);
	T_OK(ipcx_close(tx));
	T_OK(ipcx_close(rx));
	spool_gone();
}

/* A message file made by hand: name and raw bytes. */
static void put_file(const char *name, const void *b, size_t n)
{
	char path[300];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	T_ASSERT(fd >= 0);
	T_ASSERT(write(fd, b, n) == (ssize_t)n);
	close(fd);
}

#define NAME0 "m.00000000000000000001.0000000000000000.0000000000000000"
#define NAME1 "m.00000000000000000002.0000000000000000.0000000000000000"
#define NAME2 "m.00000000000000000003.0000000000000000.0000000000000000"

static void test_hostile(void)
{
	uint8_t buf[64], hdr[IPCX__SPOOL_HDR + 3];
	ipcx_chan *rx, *tx;
	char path[400], link[300];

	/* '..' and a symlinked spool are refused. */
	T_EXPECT(ipcx_open("file:///tmp/../etc", IPCX_RECV, &rx),
	         IPCX_EENDPOINT);
	T_EXPECT(ipcx_open("file:///tmp/a/..", IPCX_SEND, &tx), IPCX_EENDPOINT);
	spool_new("fhost", "");
	snprintf(link, sizeof(link), "%s-link", dir);
	T_ASSERT(symlink("/tmp", link) == 0);
	snprintf(path, sizeof(path), "file://%s", link);
	T_EXPECT(ipcx_open(path, IPCX_RECV, &rx), IPCX_EEXIST);
	T_ASSERT(unlink(link) == 0);

	T_OK(ipcx_open(ep, IPCX_RECV, &rx));
	/* A symlink where a message should be: refused, not followed. */
	snprintf(path, sizeof(path), "%s/" NAME0, dir);
	T_ASSERT(symlink("/etc/passwd", path) == 0);
	/* A torn file: the header says more than there is. */
	ipcx__spool_hdr_put(hdr, 10, 1);
	memcpy(hdr + IPCX__SPOOL_HDR, "abc", 3);
	put_file(NAME1, hdr, sizeof(hdr));
	/* A whole one after them still comes through. */
	ipcx__spool_hdr_put(hdr, 3, 1);
	put_file(NAME2, hdr, sizeof(hdr));
	/* Names that are not messages are left alone. */
	put_file("t.0000000000000000.0000000000000000", hdr, 5);
	put_file("notes.txt", "x", 1);
	T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), LONG_MS), IPCX_ECORRUPT);
	T_ASSERT(strstr(ipcx_errmsg(), "symlink") != NULL);
	T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), LONG_MS), IPCX_ECORRUPT);
	T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), LONG_MS), 3);
	T_ASSERT(memcmp(buf, "abc", 3) == 0);
	T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), 0), IPCX_ETIMEDOUT);
	T_ASSERT(spool_count(IPCX__SPOOL_ASIDE) == 2);
	T_OK(ipcx_close(rx));
	/* ipcx_unlink keeps a directory with files not ipcx's. */
	snprintf(path, sizeof(path), "file://%s", dir);
	T_EXPECT(ipcx_unlink(path), IPCX_EBUSY);
	snprintf(path, sizeof(path), "%s/notes.txt", dir);
	T_ASSERT(unlink(path) == 0);
	spool_gone();
}

/* ---- two receivers, 200 messages: each exactly once ---- */

#define SHARED 200

static int child_share(void *arg)
{
	struct t_sync *s = arg;
	pid_t parent = getppid();
	uint8_t buf[256];
	ipcx_chan *rx;
	uint32_t seq;

	T_OK(ipcx_open(ep, IPCX_RECV, &rx));
	t_notify_parent(s);
	for (;;) {
		ssize_t n = ipcx_recv(rx, buf, sizeof(buf), 50);
		if (n == IPCX_ETIMEDOUT) {
			if (t_poll_in(s->p2c[0], 0))
				break; /* the parent has all of them */
			if (getppid() != parent)
				return 1; /* the parent failed and left */
			continue;
		}
		if (n < 0 || !t_msg_check(buf, (size_t)n, &seq))
			return 1;
		/* At most PIPE_BUF: written in one piece. */
		T_ASSERT(write(s->c2p[1], &seq, 4) == 4);
	}
	ipcx_close(rx);
	return 0;
}

static void test_two_receivers(void)
{
	struct t_sync s[2];
	uint8_t seen[SHARED] = {0}, buf[256];
	ipcx_chan *tx;
	pid_t pid[2];
	int got = 0;

	spool_new("fshare", "");
	for (int k = 0; k < 2; k++) {
		t_sync_init(&s[k]);
		pid[k] = t_fork(child_share, &s[k]);
		t_wait_child(&s[k]);
	}
	T_OK(ipcx_open(ep, IPCX_SEND, &tx));
	for (uint32_t i = 0; i < SHARED; i++) {
		t_msg_fill(buf, T_MSG_MIN + i % 200, i);
		T_OK(ipcx_send(tx, buf, T_MSG_MIN + i % 200, LONG_MS));
	}
	T_OK(ipcx_close(tx));
	while (got < SHARED) {
		int any = 0;
		for (int k = 0; k < 2; k++) {
			uint32_t seq;
			if (!t_poll_in(s[k].c2p[0], 0))
				continue;
			T_ASSERT(read(s[k].c2p[0], &seq, 4) == 4);
			T_ASSERT(seq < SHARED && !seen[seq]);
			seen[seq] = 1;
			got++;
			any = 1;
		}
		if (!any) {
			/* Wait for either child, bounded. */
			T_ASSERT(t_poll_in(s[0].c2p[0], 1) ||
			         t_poll_in(s[1].c2p[0], LONG_MS));
		}
	}
	for (int k = 0; k < 2; k++) {
		t_notify_child(&s[k]);
		t_child_ok(pid[k]);
		/* Nothing more came after the 200. */
		T_ASSERT(!t_poll_in(s[k].c2p[0], 0));
		t_sync_close(&s[k]);
	}
	T_ASSERT(spool_count(IPCX__SPOOL_MSG) == 0);
	T_ASSERT(spool_count(IPCX__SPOOL_CLAIM) == 0);
	spool_gone();
}

/* ---- a 1 MiB writer SIGKILLed at random moments ---- */

#define BIG (1u << 20)

static uint8_t big[BIG];

static int child_big_writer(void *arg)
{
	struct t_sync *s = arg;
	pid_t parent = getppid();
	ipcx_chan *tx;

	T_OK(ipcx_open(ep, IPCX_SEND, &tx));
	t_notify_parent(s);
	/* Until killed; an orphan (the parent failed) stops. */
	for (unsigned i = 0; getppid() == parent; i++) {
		t_fill(big, BIG, i);
		T_OK(ipcx_send(tx, big, BIG, LONG_MS));
	}
	return 1;
}

/*
 * Receive everything there: each must be a whole 1 MiB message, the
 * writer's 0th, 1st, ... in order (t_fill seeded with its count).
 */
static int drain_big(ipcx_chan *rx)
{
	unsigned want = 0;
	ssize_t r;

	while ((r = ipcx_recv(rx, big, BIG, 0)) >= 0) {
		T_EXPECT(r, BIG);
		T_ASSERT(t_same(big, BIG, want));
		want++;
	}
	T_EXPECT(r, IPCX_ETIMEDOUT);
	return (int)want;
}

static void test_killed_writer(void)
{
	const char *ipcx = getenv("IPCX");
	ipcx_chan *rx;
	int whole = 0;
	char cmd[600];

	spool_new("fkill", "maxmsg=2M");
	T_OK(ipcx_open(ep, IPCX_RECV, &rx));
	for (int round = 0; round < 30; round++) {
		struct t_sync s;
		pid_t pid;
		int st;

		/* Half the rounds without fsync: more kills land mid-write
		 * rather than in fsync. */
		snprintf(ep, sizeof(ep), "file://%s?maxmsg=2M%s", dir,
		         round % 2 ? "&fsync=0" : "");
		t_sync_init(&s);
		pid = t_fork(child_big_writer, &s);
		t_wait_child(&s);
		/* A random moment: the writer runs while we wait for no
		 * event for up to 40 ms (the pipe stays silent). */
		(void)t_poll_in(s.c2p[0], (int)t_rand_below(40));
		T_ASSERT(kill(pid, SIGKILL) == 0);
		st = t_waitpid(pid, LONG_MS);
		T_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
		t_sync_close(&s);
		whole += drain_big(rx);
	}
	T_OK(ipcx_close(rx));
	fprintf(stderr,
	        "  30 kills: %d whole messages, %d temporary files "
	        "left\n",
	        whole, spool_count(IPCX__SPOOL_TMP));
	if (ipcx) {
		snprintf(cmd, sizeof(cmd), "'%s' clean file://%s >/dev/null",
		         ipcx, dir);
		T_EXPECT(system(cmd), 0);
		T_EXPECT(spool_count(IPCX__SPOOL_TMP), 0);
	} else {
		fprintf(stderr, "  (IPCX not set: ipcx clean not tested)\n");
	}
	snprintf(ep, sizeof(ep), "file://%s", dir);
	spool_gone();
}

/* A receiver killed after its claim: ipcx clean gives the message back. */
static void test_dead_claim(void)
{
	const char *ipcx = getenv("IPCX");
	uint8_t hdr[IPCX__SPOOL_HDR + 2];
	ipcx_chan *rx;
	char cmd[600], buf[8];

	if (!ipcx) {
		fprintf(stderr,
		        "  (IPCX not set: claim recovery not tested)\n");
		return;
	}
	spool_new("fclaim", "");
	T_OK(ipcx_open(ep, IPCX_RECV, &rx));
	ipcx__spool_hdr_put(hdr, 2, 1);
	memcpy(hdr + IPCX__SPOOL_HDR, "hi", 2);
	/* As a receiver that died between rename and unlink leaves it. */
	put_file("c.00000000000000000005.0000000000000000.0000000000000000."
	         "00000000000000aa",
	         hdr, sizeof(hdr));
	T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), 0), IPCX_ETIMEDOUT);
	snprintf(cmd, sizeof(cmd), "'%s' clean file://%s >/dev/null", ipcx,
	         dir);
	T_EXPECT(system(cmd), 0);
	T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), LONG_MS), 2);
	T_ASSERT(memcmp(buf, "hi", 2) == 0);
	T_OK(ipcx_close(rx));
	spool_gone();
}

int main(void)
{
	umask(0);
	t_seed();
	t_leak_begin();
	test_basics();
	test_rx_limit();
	test_hostile();
	test_two_receivers();
	test_killed_writer();
	test_dead_claim();
	t_leak_end();
	printf("file tests passed\n");
	return T_EXIT_PASS;
}
