/*
 * test-mq.c - mq:// (src/transport/mq.c).
 *
 * Creation (0600 whatever the umask, ?mode=, IPCX_EXCL, an existing queue
 * of another geometry, ?maxmsg= out of range, limits that name their
 * knobs, as root and as nobody), the 1024-byte queue that refuses 2000 bytes
 * naming 1024, a full queue with timeout 0, priorities, a small buffer (the
 * message stays with the channel), a bare mq_send/mq_receive peer both ways (no
 * header of ours in the queue), the sender first (the message waits in the
 * queue), unlink. The cases every transport shares are in test-conformance.c.
 */
#include "ipcx.h"
#include "t.h"

#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <string.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char name[128], ep[300];

/* "mq://NAME?opts" in ep. */
static const char *mk(const char *opts)
{
	snprintf(ep, sizeof(ep), "mq://%s%s%s", name, *opts ? "?" : "", opts);
	return ep;
}

static void rm_queue(void)
{
	int r = ipcx_unlink(mk(""));

	T_ASSERT(r == 0 || r == IPCX_ENOENT);
}

static void test_create(void)
{
	ipcx_chan *rx, *tx;
	struct stat st;

	/* 0600 whatever the umask. */
	umask(0);
	T_OK(ipcx_open(mk(""), IPCX_RECV | IPCX_CREATE, &rx));
	T_ASSERT(fstat(ipcx_fd(rx), &st) == 0);
	T_ASSERT((st.st_mode & 07777) == 0600 && st.st_uid == geteuid());
	T_OK(ipcx_close(rx));
	rm_queue();
	umask(077);
	T_OK(ipcx_open(mk("mode=0640"), IPCX_RECV | IPCX_CREATE, &rx));
	T_ASSERT(fstat(ipcx_fd(rx), &st) == 0);
	T_ASSERT((st.st_mode & 07777) == 0640);
	umask(022);
	/* IPCX_EXCL refuses it now; without, it is opened as it is. */
	T_EXPECT(ipcx_open(mk(""), IPCX_SEND | IPCX_CREATE | IPCX_EXCL, &tx),
	         IPCX_EEXIST);
	T_OK(ipcx_open(mk(""), IPCX_SEND, &tx));
	T_OK(ipcx_close(tx));
	/* Another geometry than the queue's is said at once. */
	T_EXPECT(ipcx_open(mk("msgsize=100"), IPCX_SEND, &tx), IPCX_EEXIST);
	T_ASSERT(strstr(ipcx_errmsg(), "msgsize") != NULL);
	T_OK(ipcx_close(rx));
	rm_queue();
	/* maxmsg counts messages here. */
	T_EXPECT(ipcx_open(mk("maxmsg=0"), IPCX_SEND, &tx), IPCX_EOPTION);
	T_EXPECT(ipcx_open(mk("maxmsg=70000"), IPCX_SEND, &tx), IPCX_EOPTION);
	T_ASSERT(strstr(ipcx_errmsg(), "number of messages") != NULL);
	/* Too big for the system: the error names the knobs. */
	{
		int r =
		    ipcx_open(mk("maxmsg=65536&msgsize=16M"), IPCX_SEND, &tx);
		T_ASSERT(r == IPCX_ENOMEM || r == IPCX_EINVAL);
		T_ASSERT(strstr(ipcx_errmsg(), "ulimit -q") ||
		         strstr(ipcx_errmsg(), "msgsize_max"));
	}
	T_EXPECT(ipcx_unlink(mk("")), IPCX_ENOENT);
}

/* As nobody, past msg_max: EINVAL, and the message names the knob. */
static int child_unprivileged(void *arg)
{
	ipcx_chan *tx;
	char e[320];
	int r;

	(void)arg;
	if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
		return 2;
	snprintf(e, sizeof(e), "mq://%s-nobody?maxmsg=65536", name);
	r = ipcx_open(e, IPCX_SEND, &tx);
	if (r != IPCX_EINVAL || !strstr(ipcx_errmsg(), "msg_max") ||
	    !strstr(ipcx_errmsg(), "/proc/sys/fs/mqueue/")) {
		fprintf(stderr, "as nobody: %s (%s)\n", ipcx_errname(r),
		        ipcx_errmsg());
		if (r == 0) {
			ipcx_close(tx);
			ipcx_unlink(e);
		}
		return 1;
	}
	return 0;
}

static void test_unprivileged(void)
{
	if (geteuid() != 0) {
		fprintf(stderr,
		        "  (not root: no nobody to test limits with)\n");
		return;
	}
	t_child_ok(t_fork(child_unprivileged, NULL));
}

static void test_limits(void)
{
	static char big[2000];
	ipcx_chan *rx, *tx;
	int n = 0, r;

	T_OK(ipcx_open(mk("maxmsg=4&msgsize=1024"), IPCX_RECV | IPCX_CREATE,
	               &rx));
	T_OK(ipcx_open(mk(""), IPCX_SEND, &tx));
	/* The example, word for word where it matters. */
	T_EXPECT(ipcx_send(tx, big, sizeof(big), 1000), IPCX_EMSGSIZE);
	T_ASSERT(strstr(ipcx_errmsg(), "message of 2000 bytes exceeds this "
	                               "queue's msgsize 1024"));
	T_ASSERT(strstr(ipcx_errmsg(), "?msgsize="));
	T_ASSERT(strstr(ipcx_errmsg(), "/proc/sys/fs/mqueue/msgsize_max"));
	T_OK(ipcx_send(tx, big, 1024, 1000));
	/* Fill it: a full queue with timeout 0 is ETIMEDOUT at once, and a
	 * positive timeout waits and says the same. */
	while ((r = ipcx_send(tx, "x", 1, 0)) == 0)
		n++;
	T_EXPECT(r, IPCX_ETIMEDOUT);
	T_EXPECT(n, 3);
	T_EXPECT(ipcx_send(tx, "x", 1, 20), IPCX_ETIMEDOUT);
	T_ASSERT(strstr(ipcx_errmsg(), "full"));
	T_EXPECT(ipcx_recv(rx, big, sizeof(big), 0), 1024);
	T_OK(ipcx_send(tx, "y", 1, 0));
	T_OK(ipcx_close(tx));
	T_OK(ipcx_close(rx));
	rm_queue();
}

static void test_prio_and_enobufs(void)
{
	ipcx_chan *rx, *lo, *hi;
	char buf[64];

	T_OK(ipcx_open(mk("msgsize=64"), IPCX_RECV | IPCX_CREATE, &rx));
	T_OK(ipcx_open(mk("prio=1"), IPCX_SEND, &lo));
	T_OK(ipcx_open(mk("prio=9"), IPCX_SEND, &hi));
	T_OK(ipcx_send(lo, "low", 3, 0));
	T_OK(ipcx_send(hi, "high one", 8, 0));
	/* Highest priority first; too small a buffer keeps it. */
	T_EXPECT(ipcx_recv(rx, buf, 4, 0), IPCX_ENOBUFS);
	T_EXPECT(ipcx_pending(rx), 8);
	T_EXPECT(ipcx_recv(rx, buf, 4, 0), IPCX_ENOBUFS);
	T_EXPECT(ipcx_recv(rx, buf, 8, 0), 8);
	T_ASSERT(memcmp(buf, "high one", 8) == 0);
	T_EXPECT(ipcx_recv(rx, buf, 3, 0), 3);
	T_ASSERT(memcmp(buf, "low", 3) == 0);
	T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), 0), IPCX_ETIMEDOUT);
	T_OK(ipcx_close(lo));
	T_OK(ipcx_close(hi));
	T_OK(ipcx_close(rx));
	rm_queue();
}

/* A program that knows nothing of ipcx: bare mq_send / mq_receive. */
static void test_bare_peer(void)
{
	struct mq_attr a = {.mq_maxmsg = 4, .mq_msgsize = 128};
	char qname[140], buf[128];
	ipcx_chan *ch;
	unsigned prio;
	mqd_t q;

	snprintf(qname, sizeof(qname), "/%s", name);
	q = mq_open(qname, O_RDWR | O_CREAT | O_EXCL, 0600, &a);
	T_ASSERT(q != (mqd_t)-1);
	T_OK(ipcx_open(mk(""), IPCX_SEND | IPCX_RECV, &ch));
	T_ASSERT(mq_send(q, "from C", 6, 0) == 0);
	T_EXPECT(ipcx_recv(ch, buf, sizeof(buf), 1000), 6);
	T_ASSERT(memcmp(buf, "from C", 6) == 0);
	/* Exactly our bytes in the queue, nothing around them. */
	T_OK(ipcx_send(ch, "to C", 4, 1000));
	T_ASSERT(mq_receive(q, buf, sizeof(buf), &prio) == 4);
	T_ASSERT(memcmp(buf, "to C", 4) == 0 && prio == 0);
	T_OK(ipcx_send(ch, "", 0, 1000));
	T_ASSERT(mq_receive(q, buf, sizeof(buf), &prio) == 0);
	T_OK(ipcx_close(ch));
	T_ASSERT(mq_close(q) == 0);
	rm_queue();
}

/* The sender first: its message waits in the queue for a receiver. */
static void test_send_first(void)
{
	ipcx_chan *rx, *tx;
	char buf[16], path[200];

	T_OK(ipcx_open(mk(""), IPCX_SEND, &tx));
	T_OK(ipcx_send(tx, "early", 5, 0));
	T_OK(ipcx_close(tx));
	T_OK(ipcx_open(mk(""), IPCX_RECV, &rx));
	T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), 0), 5);
	T_ASSERT(memcmp(buf, "early", 5) == 0);
	T_OK(ipcx_close(rx));
	T_OK(ipcx_unlink(mk("")));
	T_EXPECT(ipcx_unlink(mk("")), IPCX_ENOENT);
	snprintf(path, sizeof(path), "/dev/mqueue/%s", name);
	T_ASSERT(t_path_gone(path));
}

int main(void)
{
	snprintf(name, sizeof(name), "%s", t_name("mq"));
	t_leak_begin();
	test_create();
	test_unprivileged();
	test_limits();
	test_prio_and_enobufs();
	test_bare_peer();
	test_send_first();
	t_leak_end();
	return T_EXIT_PASS;
}
