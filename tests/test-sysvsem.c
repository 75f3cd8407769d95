/*
 * test-sysvsem.c - sysv-sem:// (src/transport/sysvsem.c): zero-byte events
 * on a System V semaphore. A key and an ftok path, value=, the mode (no
 * umask), another uid's set refused unless trust=any, a plain semop
 * program as a peer, a waiter told IPCX_EPEER when the set is removed,
 * and ipcx_unlink (IPC_RMID).
 */
#include "t.h"

#include "ipcx.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <unistd.h>

#define TMO 10000

static int key;
static char ep[256];
static char file[256];

static void set_ep(const char *opts)
{
	snprintf(ep, sizeof(ep), "sysv-sem://0x%x%s%s", (unsigned)key,
	         opts ? "?" : "", opts ? opts : "");
}

static void cleanup(void)
{
	int id = semget(key, 0, 0);

	if (id >= 0)
		semctl(id, 0, IPC_RMID);
	if (file[0]) {
		id = semget(ftok(file, 9), 0, 0);
		if (id >= 0)
			semctl(id, 0, IPC_RMID);
		unlink(file);
	}
}

static void test_basic(void)
{
	struct semid_ds ds;
	ipcx_chan *a, *b;
	int id;

	set_ep("value=2&mode=0640");
	T_OK(ipcx_open(ep, IPCX_SEND | IPCX_RECV, &a));
	id = semget(key, 0, 0);
	T_ASSERT(id >= 0 && semctl(id, 0, IPC_STAT, &ds) == 0);
	T_ASSERT((ds.sem_perm.mode & 0777) == 0640 && ds.sem_nsems == 1);
	T_ASSERT(semctl(id, 0, GETVAL) == 2);
	T_EXPECT(ipcx_recv(a, NULL, 0, 0), 0);
	T_EXPECT(ipcx_recv(a, NULL, 0, 0), 0);
	T_EXPECT(ipcx_recv(a, NULL, 0, 0), IPCX_ETIMEDOUT);
	T_EXPECT(ipcx_recv(a, NULL, 0, 30), IPCX_ETIMEDOUT);
	set_ep("value=9");
	T_OK(ipcx_open(ep, IPCX_RECV, &b));
	T_ASSERT(semctl(id, 0, GETVAL) == 0);
	T_OK(ipcx_send(a, "", 0, 0));
	T_EXPECT(ipcx_recv(b, NULL, 0, TMO), 0);
	T_EXPECT(ipcx_send(a, "ab", 2, 0), IPCX_EMSGSIZE);
	T_ASSERT(strstr(ipcx_errmsg(), "carries no bytes") != NULL);
	T_EXPECT(ipcx_fd(b), IPCX_ENOTSUP);
	{
		ipcx_chan *dup = NULL;
		T_EXPECT(
		    ipcx_open(ep, IPCX_SEND | IPCX_CREATE | IPCX_EXCL, &dup),
		    IPCX_EEXIST);
		T_ASSERT(dup == NULL);
	}
	/* A plain semop is a peer both ways. */
	{
		struct sembuf up = {0, 1, 0}, down = {0, -1, IPC_NOWAIT};
		T_ASSERT(semop(id, &up, 1) == 0);
		T_EXPECT(ipcx_recv(b, NULL, 0, TMO), 0);
		T_OK(ipcx_send(a, NULL, 0, 0));
		T_ASSERT(semop(id, &down, 1) == 0);
	}
	T_OK(ipcx_close(a));
	T_OK(ipcx_close(b));
	set_ep(NULL);
	T_OK(ipcx_unlink(ep));
	T_ASSERT(semget(key, 0, 0) < 0 && errno == ENOENT);
	T_EXPECT(ipcx_unlink(ep), IPCX_ENOENT);
}

/* sysv-sem:///path?proj=N is ftok(path, N); the file must exist. */
static void test_ftok(void)
{
	char fep[300];
	ipcx_chan *ch;
	int fd;

	snprintf(file, sizeof(file), "%s", t_tmp_path("sysvsem-key"));
	snprintf(fep, sizeof(fep), "sysv-sem://%s?proj=9", file);
	T_EXPECT(ipcx_open(fep, IPCX_SEND, &ch), IPCX_ENOENT);
	T_ASSERT(strstr(ipcx_errmsg(), "ftok") != NULL);
	fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	T_ASSERT(fd >= 0);
	close(fd);
	T_OK(ipcx_open(fep, IPCX_SEND | IPCX_RECV, &ch));
	T_ASSERT(semget(ftok(file, 9), 0, 0) >= 0);
	T_OK(ipcx_send(ch, "", 0, 0));
	T_EXPECT(ipcx_recv(ch, NULL, 0, 0), 0);
	T_OK(ipcx_close(ch));
	T_OK(ipcx_unlink(fep));
	T_ASSERT(semget(ftok(file, 9), 0, 0) < 0);
	unlink(file);
	file[0] = '\0';
}

/* A waiter is told the set was removed: IPCX_EPEER, not a hang. */
static void *waiter(void *arg)
{
	ipcx_chan *rx = arg;

	return (void *)(long)ipcx_recv(rx, NULL, 0, TMO);
}

static void test_removed(void)
{
	struct semid_ds ds;
	ipcx_chan *rx;
	pthread_t th;
	void *ret;
	int id;

	set_ep(NULL);
	T_OK(ipcx_open(ep, IPCX_RECV, &rx));
	id = semget(key, 0, 0);
	T_ASSERT(pthread_create(&th, NULL, waiter, rx) == 0);
	/* Asleep in semtimedop or not yet there, the thread gets EPEER:
	 * no need to wait for it to sleep. */
	T_ASSERT(id >= 0 && semctl(id, 0, IPC_STAT, &ds) == 0);
	T_OK(ipcx_unlink(ep));
	T_ASSERT(pthread_join(th, &ret) == 0);
	T_EXPECT((long)ret, IPCX_EPEER);
	T_OK(ipcx_close(rx));
}

int main(void)
{
	/* A key of our own: high bits fixed, low bits from the pid. */
	key = (int)(0x5e000000u | ((unsigned)getpid() & 0xffffffu));
	atexit(cleanup);
	t_leak_begin();
	test_basic();
	test_ftok();
	test_removed();
	t_leak_end();
	return T_EXIT_PASS;
}
