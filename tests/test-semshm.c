/*
 * test-semshm.c - semshm:// (src/transport/semshm.c), the bounded buffer:
 * order and content, a full buffer (slots=) and an empty one time out,
 * the slot size limit, ENOBUFS, modes, and the point of the design: a
 * process SIGKILLed between its wait and its commit (holding a mutex), at
 * each stage of a send and of a receive, does not stop the next writer,
 * loses no committed message and costs no slot. ipcx_unlink removes the
 * segment and its semaphore set; a corrupt slot is IPCX_ECORRUPT.
 */
#include "internal.h"
#include "t.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/sem.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define TMO   10000
#define SLOTS 4

static char name[128], ep[256], path[256];

static void set_ep(const char *opts)
{
	snprintf(ep, sizeof(ep), "semshm://%s%s%s", name, opts ? "?" : "",
	         opts ? opts : "");
}

/* The header's semaphore set id (struct sm_hdr: magic, version, semid). */
static int set_id(void)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), id = -1;

	T_ASSERT(fd >= 0);
	T_ASSERT(pread(fd, &id, sizeof(id), 8) == sizeof(id));
	close(fd);
	return id;
}

static void cleanup(void)
{
	char ep2[300];

	snprintf(ep2, sizeof(ep2), "semshm://%s", name);
	(void)ipcx_unlink(ep2);
}

/* Fill to exactly `slots`, check the next send times out, drain. */
static void check_capacity(ipcx_chan *tx, ipcx_chan *rx, int slots)
{
	char buf[64];

	for (int i = 0; i < slots; i++) {
		t_msg_fill(buf, 20, (uint32_t)i);
		T_OK(ipcx_send(tx, buf, 20, 0));
	}
	T_EXPECT(ipcx_send(tx, "x", 1, 0), IPCX_ETIMEDOUT);
	T_EXPECT(ipcx_send(tx, "x", 1, 20), IPCX_ETIMEDOUT);
	for (int i = 0; i < slots; i++) {
		T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), 0), 20);
		T_ASSERT(t_msg_is(buf, 20, (uint32_t)i));
	}
	T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), 0), IPCX_ETIMEDOUT);
}

static void test_basic(void)
{
	ipcx_chan *tx, *rx;
	char buf[300];
	struct stat st;

	set_ep("slots=4&maxmsg=256");
	T_OK(ipcx_open(ep, IPCX_RECV | IPCX_CREATE, &rx));
	T_ASSERT(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600);
	/* The attacher takes the creator's geometry, whatever it asks. */
	set_ep("slots=9&maxmsg=16");
	T_OK(ipcx_open(ep, IPCX_SEND, &tx));
	T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), 0), IPCX_ETIMEDOUT);
	check_capacity(tx, rx, SLOTS);
	/* Sizes 0 and the slot size; one more is refused, naming it. */
	T_OK(ipcx_send(tx, "", 0, 0));
	T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), TMO), 0);
	t_msg_fill(buf, 256, 7);
	T_OK(ipcx_send(tx, buf, 256, 0));
	T_EXPECT(ipcx_send(tx, buf, 257, 0), IPCX_EMSGSIZE);
	T_ASSERT(strstr(ipcx_errmsg(), "256") != NULL);
	/* Too small a buffer: ENOBUFS, and the message stays first. */
	T_EXPECT(ipcx_recv(rx, buf, 10, TMO), IPCX_ENOBUFS);
	T_EXPECT(ipcx_pending(rx), 256);
	memset(buf, 0, sizeof(buf));
	T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), TMO), 256);
	T_ASSERT(t_msg_is(buf, 256, 7));
	T_EXPECT(ipcx_fd(rx), IPCX_ENOTSUP);
	/* ENOBUFS cost no slot. */
	check_capacity(tx, rx, SLOTS);
	T_OK(ipcx_close(tx));
	T_OK(ipcx_close(rx));
}

/* ---- killed inside the mutex ---- */

struct killctx {
	struct t_sync sync;
	int stage;
};

static struct killctx *kc;

/* In the child: at the chosen stage, tell the parent and wait to die. */
static void hook(int stage)
{
	if (stage != kc->stage)
		return;
	t_notify_parent(&kc->sync);
	for (;;)
		pause();
}

static int child_holder(void *arg)
{
	char buf[64];
	ipcx_chan *ch;

	kc = arg;
	T_OK(ipcx_open(ep, IPCX_SEND | IPCX_RECV, &ch));
	ipcx__semshm_hook = hook;
	if (kc->stage <= 3) {
		t_msg_fill(buf, 30, 99);
		(void)ipcx_send(ch, buf, 30, TMO);
	} else {
		(void)ipcx_recv(ch, buf, sizeof(buf), TMO);
	}
	return 1; /* never reached: killed in the hook */
}

/*
 * Stages (semshm.c): a writer has taken EMPTY and the producers' mutex
 * (1), has filled the slot (2), has stamped it (3), but not committed; a
 * reader has taken FULL and the consumers' mutex (4), has copied the
 * message out (5), but not committed.
 */
static void test_killed_holder(int stage)
{
	struct killctx k = {.stage = stage};
	ipcx_chan *tx, *rx;
	char buf[64];
	pid_t pid;
	int st;

	set_ep("slots=4&maxmsg=64");
	T_OK(ipcx_open(ep, IPCX_RECV | IPCX_SEND | IPCX_CREATE, &rx));
	T_OK(ipcx_open(ep, IPCX_SEND, &tx));
	if (stage >= 4) {
		t_msg_fill(buf, 25, 1);
		T_OK(ipcx_send(tx, buf, 25, 0));
	}
	t_sync_init(&k.sync);
	pid = t_fork(child_holder, &k);
	t_wait_child(&k.sync);
	/* The child holds a mutex now: its side cannot get in. */
	if (stage <= 3)
		T_EXPECT(ipcx_send(tx, "y", 1, 0), IPCX_ETIMEDOUT);
	else
		T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), 0), IPCX_ETIMEDOUT);
	T_ASSERT(kill(pid, SIGKILL) == 0);
	st = t_waitpid(pid, TMO);
	T_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	/* The kernel undid its waits; the next writer proceeds. */
	t_msg_fill(buf, 40, 2);
	T_OK(ipcx_send(tx, buf, 40, TMO));
	/* A message the dead writer had not committed is never delivered;
	 * one the dead reader had not committed is still there, whole. */
	if (stage >= 4) {
		T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), TMO), 25);
		T_ASSERT(t_msg_is(buf, 25, 1));
	}
	T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), TMO), 40);
	T_ASSERT(t_msg_is(buf, 40, 2));
	/* And no slot was lost or invented. */
	check_capacity(tx, rx, SLOTS);
	T_OK(ipcx_close(tx));
	T_OK(ipcx_close(rx));
	t_sync_close(&k.sync);
	set_ep(NULL);
	T_OK(ipcx_unlink(ep));
}

/* ipcx_unlink removes the segment and the set; ECORRUPT on a bad slot. */
static void test_unlink_and_corrupt(void)
{
	struct semid_ds ds;
	ipcx_chan *ch, *other;
	char buf[16];
	int id, fd;
	uint64_t bad = 1000;
	char big[64];

	set_ep("slots=2&maxmsg=16");
	T_OK(ipcx_open(ep, IPCX_SEND | IPCX_RECV, &ch));
	fd = open(path, O_RDWR | O_CLOEXEC);
	T_ASSERT(fd >= 0);
	T_OK(ipcx_send(ch, "a", 1, 0));
	/* The first slot (at 64) claims 1000 bytes (its length at +16). */
	T_ASSERT(pwrite(fd, &bad, sizeof(bad), 64 + 16) == sizeof(bad));
	T_EXPECT(ipcx_recv(ch, big, sizeof(big), 0), IPCX_ECORRUPT);
	/* Given back, not lost and nothing hangs: the same answer again. */
	T_EXPECT(ipcx_recv(ch, big, sizeof(big), 0), IPCX_ECORRUPT);
	/* A stamp that is not the slot's position: corrupt too. */
	bad = 1;
	T_ASSERT(pwrite(fd, &bad, sizeof(bad), 64 + 16) == sizeof(bad));
	T_EXPECT(ipcx_recv(ch, buf, sizeof(buf), 0), 1);
	T_OK(ipcx_send(ch, "b", 1, 0));
	/* Slot 1 (slots of 24 + 16 bytes) stamped 1, not its position + 1. */
	T_ASSERT(pwrite(fd, &bad, sizeof(bad), 64 + 40) == sizeof(bad));
	T_EXPECT(ipcx_recv(ch, buf, sizeof(buf), 0), IPCX_ECORRUPT);
	close(fd);
	id = set_id();
	T_ASSERT(semctl(id, 0, IPC_STAT, &ds) == 0);
	set_ep(NULL);
	T_OK(ipcx_unlink(ep));
	T_ASSERT(t_path_gone(path));
	T_ASSERT(semctl(id, 0, IPC_STAT, &ds) < 0);
	/* The open channel learns it at its next wait. */
	T_EXPECT(ipcx_send(ch, "a", 1, 0), IPCX_EPEER);
	T_EXPECT(ipcx_unlink(ep), IPCX_ENOENT);
	/* EXCL on an existing buffer. */
	T_OK(ipcx_open(ep, IPCX_SEND, &other));
	{
		ipcx_chan *dup = NULL;
		T_EXPECT(
		    ipcx_open(ep, IPCX_SEND | IPCX_CREATE | IPCX_EXCL, &dup),
		    IPCX_EEXIST);
	}
	T_OK(ipcx_close(other));
	T_OK(ipcx_close(ch));
	T_OK(ipcx_unlink(ep));
}

int main(void)
{
	snprintf(name, sizeof(name), "%s", t_name("semshm"));
	snprintf(path, sizeof(path), "/dev/shm/semshm.%s", name);
	atexit(cleanup);
	umask(077);
	t_leak_begin();
	test_basic();
	set_ep(NULL);
	T_OK(ipcx_unlink(ep));
	for (int stage = 1; stage <= 5; stage++) {
		fprintf(stderr, "killed holder, stage %d\n", stage);
		test_killed_holder(stage);
	}
	test_unlink_and_corrupt();
	T_ASSERT(t_path_gone(path));
	t_leak_end();
	return T_EXIT_PASS;
}
