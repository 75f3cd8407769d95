/*
 * test-segment.c - a process's part in a ring segment (src/ring/segment.c):
 * writer ids and the receiver role held as byte locks, the writers' lock
 * waited for while its holder lives and taken over once it died, a forked
 * child that keeps its parent's segment open without keeping its parent's
 * roles alive, and all of it across PID namespaces (unshare(CLONE_NEWPID);
 * that part is skipped with 77 where the kernel refuses it).
 */
#include "t.h"

#include "ipcx.h"

#include "../src/ring/segment.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define TMO        10000 /* ms */
#define NS_REFUSED 77

static char ep_str[256];
static struct ipcx__ep ep;
static char shm_path[200];

static void ep_set(const char *tag)
{
	snprintf(ep_str, sizeof(ep_str), "shm://%s?size=8192", t_name(tag));
	snprintf(shm_path, sizeof(shm_path), "/%s", t_name(tag));
	shm_unlink(shm_path);
	T_OK(ipcx__ep_parse(ep_str, strlen(ep_str), &ep));
}

static void seg_open(struct ipcx__seg *g)
{
	memset(g, 0, sizeof(*g));
	T_OK(ipcx__seg_open(g, &ep, false));
}

static int64_t in_ms(int ms)
{
	return ipcx__now_ns() + (int64_t)ms * 1000000;
}

/* Ids and the receiver role, within one process. */
static void test_roles(void)
{
	struct ipcx__seg a, b;

	ep_set("roles");
	seg_open(&a);
	seg_open(&b);
	T_ASSERT(a.me.id != 0 && b.me.id != 0 && a.me.id != b.me.id);
	T_ASSERT(ipcx__seg_writer_alive(&a, b.me.id));
	T_ASSERT(ipcx__seg_writer_alive(&a, a.me.id)); /* ourselves */
	T_ASSERT(!ipcx__seg_writer_alive(&a, b.me.id + 100));
	T_ASSERT(!ipcx__seg_writer_alive(&a, 0));
	T_OK(ipcx__seg_claim_rx(&a));
	T_EXPECT(ipcx__seg_claim_rx(&b), IPCX_EBUSY);
	T_ASSERT(strstr(t_errmsg(), "already has a receiver") != NULL);
	T_EXPECT(ipcx__seg_rx_gone(&b), 0);
	ipcx__seg_close(&a);
	/* Closed, not dead: the role is free and nobody "died". */
	T_EXPECT(ipcx__seg_rx_gone(&b), 0);
	T_OK(ipcx__seg_claim_rx(&b));
	ipcx__seg_close(&b);
	shm_unlink(shm_path);
}

/* A child takes a role, says so, then holds it or dies. */
struct holder {
	int said[2], go[2];
	bool die;
	bool fork_keeper; /* first fork a child that keeps the fd open */
};

/* Say "holding", then die (h->die) or wait to be told to let go. */
static int holder_say(struct holder *h)
{
	char c = 0;

	if (write(h->said[1], "x", 1) != 1)
		return -1;
	if (h->die)
		raise(SIGKILL);
	return read(h->go[0], &c, 1) == 1 ? 0 : -1;
}

static int hold_main(void *arg)
{
	struct holder *h = arg;
	struct ipcx__seg g;
	char c = 0;
	pid_t keeper = -1;

	memset(&g, 0, sizeof(g));
	if (ipcx__seg_open(&g, &ep, false) < 0 || ipcx__seg_lock(&g, -1) < 0)
		return 2;
	if (h->fork_keeper) {
		/* A child that inherits the segment's fd and outlives us:
		 * it must not keep our writer id alive. */
		keeper = fork();
		if (keeper == 0) {
			(void)read(h->go[0], &c, 1);
			_exit(0);
		}
	}
	if (holder_say(h) < 0)
		return 3;
	ipcx__seg_unlock(&g);
	ipcx__seg_close(&g);
	return 0;
}

static void holder_init(struct holder *h, bool die, bool keeper)
{
	memset(h, 0, sizeof(*h));
	T_ASSERT(pipe(h->said) == 0 && pipe(h->go) == 0);
	h->die = die;
	h->fork_keeper = keeper;
}

static void holder_fini(struct holder *h)
{
	close(h->said[0]);
	close(h->said[1]);
	close(h->go[0]);
	close(h->go[1]);
}

/* A live holder is waited for (to the deadline), never taken over. */
static void test_lock_live(void)
{
	struct ipcx__seg g;
	struct holder h;
	pid_t pid;
	char c;

	ep_set("live");
	seg_open(&g);
	holder_init(&h, false, false);
	pid = t_fork(hold_main, &h);
	T_ASSERT(read(h.said[0], &c, 1) == 1);
	/* 30 ms: past the 10 ms liveness check, which finds it alive. */
	T_EXPECT(ipcx__seg_lock(&g, in_ms(30)), IPCX_ETIMEDOUT);
	T_EXPECT(ipcx__seg_lock(&g, 0), IPCX_ETIMEDOUT);
	T_ASSERT(write(h.go[1], "x", 1) == 1);
	T_OK(ipcx__seg_lock(&g, -1)); /* woken, or finds it free */
	ipcx__seg_unlock(&g);
	T_EXPECT(t_waitpid(pid, TMO), 0);
	holder_fini(&h);
	ipcx__seg_close(&g);
	shm_unlink(shm_path);
}

/*
 * A holder SIGKILLed with the lock is taken over; also when a child it
 * forked still holds the segment's fd open (the child's own description,
 * from the fork handler, keeps nothing of the parent's alive).
 */
static void test_lock_dead(void)
{
	for (int keeper = 0; keeper < 2; keeper++) {
		struct ipcx__seg g;
		struct holder h;
		int st;
		char c;

		ep_set("dead");
		seg_open(&g);
		holder_init(&h, true, keeper);
		st = t_waitpid(t_fork(hold_main, &h), TMO);
		T_ASSERT(read(h.said[0], &c, 1) == 1);
		T_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
		T_ASSERT(ipcx__ring_lock_owner(&g.ring) != 0);
		T_OK(ipcx__seg_lock(&g, in_ms(TMO)));
		T_EXPECT(ipcx__ring_lock_owner(&g.ring), g.me.id);
		ipcx__seg_unlock(&g);
		/* Let the keeper go (it reads the same pipe). */
		T_ASSERT(write(h.go[1], "x", 1) == 1);
		holder_fini(&h);
		ipcx__seg_close(&g);
		shm_unlink(shm_path);
	}
}

/* ---- PID namespaces ---- */

/*
 * Run fn(arg) in a new PID namespace, as its pid 2 (pid 1, its init,
 * only waits: init cannot be killed from inside). Returns the host pid of
 * the process that unshared; its exit status is fn's, NS_REFUSED if the
 * kernel refused the namespace, 128 + sig if fn died of sig.
 */
static int (*ns_fn)(void *);
static void *ns_arg;

static int ns_wait(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 5;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int ns_init(void *unused)
{
	pid_t pid;

	(void)unused;
	pid = fork();
	if (pid < 0)
		return 5;
	if (pid == 0)
		_exit(ns_fn(ns_arg));
	return ns_wait(pid);
}

static int ns_main(void *unused)
{
	pid_t pid;

	(void)unused;
	if (unshare(CLONE_NEWPID) < 0)
		return NS_REFUSED;
	pid = fork(); /* the namespace's pid 1 */
	if (pid < 0)
		return 5;
	if (pid == 0)
		_exit(ns_init(NULL));
	return ns_wait(pid);
}

static pid_t ns_run(int (*fn)(void *), void *arg)
{
	ns_fn = fn;
	ns_arg = arg;
	return t_fork(ns_main, NULL);
}

static int ns_status(pid_t pid)
{
	int st = t_waitpid(pid, TMO);

	T_ASSERT(WIFEXITED(st));
	return WEXITSTATUS(st);
}

/* In the namespace: hold the receiver role (then die, or wait). */
static int ns_receiver(void *arg)
{
	struct holder *j = arg;
	ipcx_chan *ch = NULL;

	if (ipcx_open(ep_str, IPCX_RECV, &ch) < 0)
		return 2;
	if (holder_say(j) < 0)
		return 3;
	return ipcx_close(ch) < 0 ? 6 : 0;
}

static int ns_locker(void *arg)
{
	struct holder *j = arg;
	struct ipcx__seg g;

	memset(&g, 0, sizeof(g));
	if (ipcx__seg_open(&g, &ep, false) < 0 || ipcx__seg_lock(&g, -1) < 0)
		return 2;
	if (holder_say(j) < 0)
		return 3;
	ipcx__seg_unlock(&g);
	ipcx__seg_close(&g);
	return 0;
}

/* Self-checking messages from two namespaces at once. */
#define NS_MSGS 3000

static int ns_sender(void *arg)
{
	unsigned base = (unsigned)(uintptr_t)arg;
	unsigned char buf[600];
	ipcx_chan *ch = NULL;

	if (ipcx_open(ep_str, IPCX_SEND, &ch) < 0)
		return 2;
	for (unsigned i = 0; i < NS_MSGS; i++) {
		size_t n = T_MSG_MIN + (i * 37) % 500;
		t_msg_fill(buf, n, base + i);
		if (ipcx_send(ch, buf, n, TMO) < 0)
			return 3;
	}
	return ipcx_close(ch) < 0 ? 6 : 0;
}

/* Returns false if the kernel refused the namespace. */
static bool test_namespaces(void)
{
	struct holder j;
	struct ipcx__seg g;
	ipcx_chan *rx = NULL, *tx;
	unsigned char buf[600];
	unsigned next[2] = {0, 0};
	pid_t pid, p2;
	char c;
	int st;

	ep_set("ns");
	tx = NULL;
	T_OK(ipcx_open(ep_str, IPCX_SEND, &tx)); /* creates the ring */

	/* A receiver in another namespace: a second one here is busy. */
	holder_init(&j, false, false);
	pid = ns_run(ns_receiver, &j);
	if (read(j.said[0], &c, 1) != 1) {
		T_EXPECT(ns_status(pid), NS_REFUSED);
		holder_fini(&j);
		T_OK(ipcx_close(tx));
		shm_unlink(shm_path);
		return false;
	}
	T_EXPECT(ipcx_open(ep_str, IPCX_RECV, &rx), IPCX_EBUSY);
	T_OK(ipcx_send(tx, "to-ns", 5, TMO));
	T_ASSERT(write(j.go[1], "x", 1) == 1);
	T_EXPECT(ns_status(pid), 0);
	holder_fini(&j);

	/* One SIGKILLed there is taken over from here. */
	holder_init(&j, true, false);
	pid = ns_run(ns_receiver, &j);
	T_ASSERT(read(j.said[0], &c, 1) == 1);
	T_EXPECT(ns_status(pid), 128 + SIGKILL);
	T_OK(ipcx_open(ep_str, IPCX_RECV, &rx));
	T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), TMO), 5); /* "to-ns" */
	holder_fini(&j);

	/* The writers' lock held there: waited for here, not taken. */
	holder_init(&j, false, false);
	pid = ns_run(ns_locker, &j);
	T_ASSERT(read(j.said[0], &c, 1) == 1);
	seg_open(&g);
	T_EXPECT(ipcx__seg_lock(&g, in_ms(30)), IPCX_ETIMEDOUT);
	T_EXPECT(ipcx_send(tx, "x", 1, 30), IPCX_ETIMEDOUT);
	T_ASSERT(write(j.go[1], "x", 1) == 1);
	T_EXPECT(ns_status(pid), 0);
	T_OK(ipcx__seg_lock(&g, in_ms(TMO)));
	ipcx__seg_unlock(&g);
	ipcx__seg_close(&g);
	holder_fini(&j);

	/* Writers in two namespaces at once: no record torn or mixed. */
	pid = ns_run(ns_sender, (void *)(uintptr_t)0);
	p2 = ns_run(ns_sender, (void *)(uintptr_t)1000000);
	for (unsigned got = 0; got < 2 * NS_MSGS; got++) {
		uint32_t seq;
		ssize_t n = ipcx_recv(rx, buf, sizeof(buf), TMO);
		unsigned k;

		T_ASSERT(n >= T_MSG_MIN);
		T_ASSERT(t_msg_check(buf, (size_t)n, &seq));
		k = seq >= 1000000;
		T_EXPECT(seq - k * 1000000, next[k]);
		next[k]++;
	}
	st = ns_status(pid);
	T_EXPECT(st, 0);
	T_EXPECT(ns_status(p2), 0);
	T_OK(ipcx_close(rx));
	T_OK(ipcx_close(tx));
	shm_unlink(shm_path);
	return true;
}

int main(void)
{
	bool ns;

	t_leak_begin();
	test_roles();
	test_lock_live();
	test_lock_dead();
	ns = test_namespaces();
	t_leak_end();
	if (!ns) {
		printf("skip: PID namespaces refused (unshare(CLONE_NEWPID) "
		       "needs root); the rest passed\n");
		return T_EXIT_SKIP;
	}
	return T_EXIT_PASS;
}
