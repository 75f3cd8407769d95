/*
 * test-sem.c - sem:// (src/transport/sem.c): zero-byte events on a POSIX
 * named semaphore. Initial value=, counting, a non-empty message refused,
 * timeouts, no fd, modes whatever the umask, IPCX_EXCL, a plain
 * sem_post/sem_wait program as a peer both ways, a waiter in another
 * process woken by a post, and ipcx_unlink.
 */
#include "t.h"

#include "ipcx.h"

#include <fcntl.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TMO 10000

static char name[128], ep[256], path[256], sname[160];

static void set_ep(const char *opts)
{
	snprintf(ep, sizeof(ep), "sem://%s%s%s", name, opts ? "?" : "",
	         opts ? opts : "");
}

static void cleanup(void)
{
	sem_unlink(sname);
}

/* value= sets the count of a new semaphore only. */
static void test_value(void)
{
	ipcx_chan *a, *b;
	char c;

	set_ep("value=2");
	T_OK(ipcx_open(ep, IPCX_RECV | IPCX_SEND, &a));
	T_EXPECT(ipcx_recv(a, &c, 1, 0), 0);
	T_EXPECT(ipcx_recv(a, &c, 0, 0), 0);
	T_EXPECT(ipcx_recv(a, &c, 1, 0), IPCX_ETIMEDOUT);
	/* Opening it again with value= changes nothing. */
	set_ep("value=5");
	T_OK(ipcx_open(ep, IPCX_RECV, &b));
	T_EXPECT(ipcx_recv(b, &c, 1, 0), IPCX_ETIMEDOUT);
	/* Three posts, three events, in any channel. */
	for (int i = 0; i < 3; i++)
		T_OK(ipcx_send(a, "", 0, 0));
	T_EXPECT(ipcx_recv(b, &c, 1, TMO), 0);
	T_EXPECT(ipcx_recv(a, NULL, 0, TMO), 0);
	T_EXPECT(ipcx_recv(b, &c, 1, TMO), 0);
	T_EXPECT(ipcx_recv(b, &c, 1, 0), IPCX_ETIMEDOUT);
	/* A semaphore carries no bytes. */
	T_EXPECT(ipcx_send(a, "x", 1, 0), IPCX_EMSGSIZE);
	T_ASSERT(strstr(ipcx_errmsg(), "carries no bytes") != NULL);
	/* No descriptor, said plainly. */
	T_EXPECT(ipcx_fd(a), IPCX_ENOTSUP);
	T_ASSERT(strstr(ipcx_errmsg(), "no file descriptor") != NULL);
	{
		ipcx_chan *dup = NULL;
		T_EXPECT(
		    ipcx_open(ep, IPCX_SEND | IPCX_CREATE | IPCX_EXCL, &dup),
		    IPCX_EEXIST);
		T_ASSERT(dup == NULL);
	}
	T_OK(ipcx_close(a));
	T_OK(ipcx_close(b));
}

/* A timeout waits at least its time, then ETIMEDOUT; 0 polls. */
static void test_timeout(void)
{
	ipcx_chan *rx;
	long long t0;

	set_ep(NULL);
	T_OK(ipcx_open(ep, IPCX_RECV, &rx));
	t0 = t_now_ms();
	T_EXPECT(ipcx_recv(rx, NULL, 0, 50), IPCX_ETIMEDOUT);
	T_ASSERT(t_now_ms() - t0 >= 49);
	T_OK(ipcx_close(rx));
}

/* 0600 whatever the umask; mode= exactly. */
static void test_mode(void)
{
	static const unsigned modes[] = {0600, 0640};
	mode_t old = umask(0);

	for (int i = 0; i < 2; i++) {
		ipcx_chan *ch;
		struct stat st;
		char opts[32];
		umask(i ? 0 : 077);
		snprintf(opts, sizeof(opts), "mode=0%o", modes[i]);
		set_ep(i ? opts : NULL);
		T_OK(ipcx_open(ep, IPCX_SEND, &ch));
		T_ASSERT(stat(path, &st) == 0);
		T_ASSERT((st.st_mode & 07777) == modes[i]);
		T_OK(ipcx_close(ch));
		set_ep(NULL);
		T_OK(ipcx_unlink(ep));
	}
	umask(old);
}

/* A plain program's sem_post wakes ipcx; ipcx's post wakes sem_wait. */
static int child_plain(void *arg)
{
	sem_t *s = sem_open(sname, 0);
	struct t_sync *sy = arg;

	T_ASSERT(s != SEM_FAILED);
	T_ASSERT(sem_post(s) == 0);
	t_wait_parent(sy);
	/* The parent posted with ipcx_send. */
	T_ASSERT(sem_trywait(s) == 0);
	sem_close(s);
	return 0;
}

static void test_plain_peer(void)
{
	struct t_sync sy;
	ipcx_chan *ch;
	pid_t pid;

	set_ep(NULL);
	T_OK(ipcx_open(ep, IPCX_SEND | IPCX_RECV, &ch));
	t_sync_init(&sy);
	pid = t_fork(child_plain, &sy);
	T_EXPECT(ipcx_recv(ch, NULL, 0, TMO), 0);
	T_OK(ipcx_send(ch, NULL, 0, 0));
	t_notify_child(&sy);
	t_child_ok(pid);
	T_EXPECT(ipcx_recv(ch, NULL, 0, 0), IPCX_ETIMEDOUT);
	t_sync_close(&sy);
	T_OK(ipcx_close(ch));
}

/* A waiter in another process, already asleep, is woken by a post. */
static int child_waiter(void *arg)
{
	struct t_sync *sy = arg;
	ipcx_chan *rx;

	T_OK(ipcx_open(ep, IPCX_RECV, &rx));
	t_notify_parent(sy);
	T_EXPECT(ipcx_recv(rx, NULL, 0, TMO), 0);
	T_EXPECT(ipcx_recv(rx, NULL, 0, TMO), 0);
	ipcx_close(rx);
	return 0;
}

static void test_wake(void)
{
	struct t_sync sy;
	ipcx_chan *tx;
	pid_t pid;

	set_ep(NULL);
	T_OK(ipcx_open(ep, IPCX_SEND | IPCX_CREATE, &tx));
	t_sync_init(&sy);
	pid = t_fork(child_waiter, &sy);
	t_wait_child(&sy);
	T_OK(ipcx_send(tx, "", 0, TMO));
	T_OK(ipcx_send(tx, "", 0, TMO));
	t_child_ok(pid);
	t_sync_close(&sy);
	T_OK(ipcx_close(tx));
}

int main(void)
{
	snprintf(name, sizeof(name), "%s", t_name("sem"));
	snprintf(sname, sizeof(sname), "/%s", name);
	snprintf(path, sizeof(path), "/dev/shm/sem.%s", name);
	atexit(cleanup);
	t_leak_begin();
	test_value();
	set_ep(NULL);
	T_OK(ipcx_unlink(ep));
	T_EXPECT(ipcx_unlink(ep), IPCX_ENOENT);
	T_ASSERT(t_path_gone(path));
	test_timeout();
	T_OK(ipcx_unlink(ep));
	test_mode();
	test_plain_peer();
	T_OK(ipcx_unlink(ep));
	test_wake();
	T_OK(ipcx_unlink(ep));
	T_ASSERT(t_path_gone(path));
	t_leak_end();
	return T_EXIT_PASS;
}
