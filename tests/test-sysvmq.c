/*
 * test-sysvmq.c - sysv-mq:// (src/transport/sysvmq.c).
 *
 * Keys (a number, ftok(path, proj) with proj defaulting to 1, a missing
 * path), creation (mode 0600 or ?mode=, IPCX_EXCL), message types (type=,
 * type=0 takes any, a send with type=0 refused), a bare msgsnd/msgrcv peer
 * both ways (no header of ours), messages above msgmax, a full queue with
 * timeout 0, a small buffer, a queue removed under an open channel, no
 * pollable fd, unlink (the key leaves /proc/sysvipc/msg). The cases every
 * transport shares are in test-conformance.c.
 */
#include "ipcx.h"
#include "t.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/stat.h>
#include <unistd.h>

static char key[16], ep[300];

/* "sysv-mq://KEY?opts" in ep. */
static const char *mk(const char *opts)
{
	snprintf(ep, sizeof(ep), "sysv-mq://%s%s%s", key, *opts ? "?" : "",
	         opts);
	return ep;
}

/* Whether /proc/sysvipc/msg lists key k. */
static bool key_listed(key_t k)
{
	FILE *f = fopen("/proc/sysvipc/msg", "r");
	char line[512];
	bool found = false;

	T_ASSERT(f != NULL);
	while (fgets(line, sizeof(line), f)) {
		long v;
		if (sscanf(line, "%ld", &v) == 1 && (key_t)v == k)
			found = true;
	}
	fclose(f);
	return found;
}

static void test_keys(void)
{
	const char *path = t_tmp_path("sysvkey");
	char e[300];
	ipcx_chan *ch;
	key_t k;
	int fd;

	/* ftok needs the file. */
	snprintf(e, sizeof(e), "sysv-mq://%s?proj=3", path);
	T_EXPECT(ipcx_open(e, IPCX_SEND, &ch), IPCX_ENOENT);
	T_ASSERT(strstr(ipcx_errmsg(), "ftok"));
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	T_ASSERT(fd >= 0);
	close(fd);
	T_OK(ipcx_open(e, IPCX_SEND, &ch));
	k = ftok(path, 3);
	T_ASSERT(k != (key_t)-1 && msgget(k, 0) >= 0 && key_listed(k));
	T_OK(ipcx_close(ch));
	T_OK(ipcx_unlink(e));
	T_ASSERT(!key_listed(k));
	/* proj defaults to 1, as Perl's ftok. */
	snprintf(e, sizeof(e), "sysv-mq://%s", path);
	T_OK(ipcx_open(e, IPCX_SEND, &ch));
	k = ftok(path, 1);
	T_ASSERT(msgget(k, 0) >= 0);
	T_OK(ipcx_close(ch));
	T_OK(ipcx_unlink(e));
	T_EXPECT(ipcx_unlink(e), IPCX_ENOENT);
	T_ASSERT(unlink(path) == 0);
}

static void test_create(void)
{
	struct msqid_ds ds;
	ipcx_chan *ch, *ch2;
	key_t k = (key_t)strtoul(key, NULL, 16);

	umask(0);
	T_OK(ipcx_open(mk(""), IPCX_RECV | IPCX_CREATE, &ch));
	T_ASSERT(msgctl(msgget(k, 0), IPC_STAT, &ds) == 0);
	T_ASSERT((ds.msg_perm.mode & 0777) == 0600 &&
	         ds.msg_perm.uid == geteuid());
	T_EXPECT(ipcx_open(mk(""), IPCX_SEND | IPCX_CREATE | IPCX_EXCL, &ch2),
	         IPCX_EEXIST);
	/* No timeout in System V, so no fd either (docs/ipcx.1). */
	T_EXPECT(ipcx_fd(ch), IPCX_ENOTSUP);
	T_OK(ipcx_close(ch));
	T_OK(ipcx_unlink(mk("")));
	umask(022);
	T_OK(ipcx_open(mk("mode=0640"), IPCX_RECV | IPCX_CREATE, &ch));
	T_ASSERT(msgctl(msgget(k, 0), IPC_STAT, &ds) == 0);
	T_ASSERT((ds.msg_perm.mode & 0777) == 0640);
	T_OK(ipcx_close(ch));
	T_OK(ipcx_unlink(mk("")));
}

static void test_types_and_bare_peer(void)
{
	struct {
		long mtype;
		char mtext[64];
	} m;
	ipcx_chan *any, *t1, *t2;
	key_t k = (key_t)strtoul(key, NULL, 16);
	char buf[64];
	int id;

	T_OK(ipcx_open(mk("type=0"), IPCX_RECV | IPCX_SEND, &any));
	T_OK(ipcx_open(mk(""), IPCX_RECV | IPCX_SEND, &t1));
	T_OK(ipcx_open(mk("type=2"), IPCX_RECV | IPCX_SEND, &t2));
	T_EXPECT(ipcx_send(any, "x", 1, 0), IPCX_EOPTION);
	T_OK(ipcx_send(t2, "two", 3, 0));
	T_EXPECT(ipcx_recv(t1, buf, sizeof(buf), 0), IPCX_ETIMEDOUT);
	T_OK(ipcx_send(t1, "one", 3, 0));
	/* type=0 takes whatever comes first. */
	T_EXPECT(ipcx_recv(any, buf, sizeof(buf), 0), 3);
	T_ASSERT(memcmp(buf, "two", 3) == 0);
	T_EXPECT(ipcx_recv(t2, buf, sizeof(buf), 0), IPCX_ETIMEDOUT);
	/* A small buffer: the message stays with the channel. */
	T_EXPECT(ipcx_recv(t1, buf, 2, 0), IPCX_ENOBUFS);
	T_EXPECT(ipcx_pending(t1), 3);
	/* Sending meanwhile leaves the held message alone. */
	T_OK(ipcx_send(t2, "other", 5, 0));
	T_OK(ipcx_send(t1, "x", 1, 0));
	T_EXPECT(ipcx_recv(t1, buf, 3, 0), 3);
	T_ASSERT(memcmp(buf, "one", 3) == 0);
	T_EXPECT(ipcx_recv(t1, buf, sizeof(buf), 0), 1);
	T_EXPECT(ipcx_recv(t2, buf, sizeof(buf), 0), 5);

	/* A bare peer: msgsnd in, msgrcv out, our bytes and nothing more. */
	id = msgget(k, 0);
	T_ASSERT(id >= 0);
	m.mtype = 1;
	memcpy(m.mtext, "from C", 6);
	T_ASSERT(msgsnd(id, &m, 6, 0) == 0);
	T_EXPECT(ipcx_recv(t1, buf, sizeof(buf), 1000), 6);
	T_ASSERT(memcmp(buf, "from C", 6) == 0);
	T_OK(ipcx_send(t2, "to C", 4, 0));
	T_ASSERT(msgrcv(id, &m, sizeof(m.mtext), 0, IPC_NOWAIT) == 4);
	T_ASSERT(m.mtype == 2 && memcmp(m.mtext, "to C", 4) == 0);
	T_OK(ipcx_send(t1, "", 0, 0));
	T_ASSERT(msgrcv(id, &m, sizeof(m.mtext), 1, IPC_NOWAIT) == 0);

	T_OK(ipcx_close(any));
	T_OK(ipcx_close(t2));
	/* Removed under an open channel: EPEER, not a wait. */
	T_OK(ipcx_unlink(mk("")));
	T_EXPECT(ipcx_recv(t1, buf, sizeof(buf), 1000), IPCX_EPEER);
	T_EXPECT(ipcx_send(t1, "x", 1, 1000), IPCX_EPEER);
	T_OK(ipcx_close(t1));
	T_ASSERT(!key_listed(k));
}

static void test_limits(void)
{
	struct msqid_ds ds;
	ipcx_chan *ch;
	char *big, want[64];
	long msgmax = 8192;
	size_t lim;
	FILE *f = fopen("/proc/sys/kernel/msgmax", "r");
	int r, n = 0;

	if (f) {
		T_ASSERT(fscanf(f, "%ld", &msgmax) == 1);
		fclose(f);
	}
	T_OK(ipcx_open(mk(""), IPCX_RECV | IPCX_SEND, &ch));
	T_ASSERT(msgctl(msgget((key_t)strtoul(key, NULL, 16), 0), IPC_STAT,
	                &ds) == 0);
	lim = (size_t)msgmax < ds.msg_qbytes ? (size_t)msgmax : ds.msg_qbytes;
	big = calloc(1, lim + 1);
	T_ASSERT(big != NULL);
	T_EXPECT(ipcx_send(ch, big, lim + 1, 0), IPCX_EMSGSIZE);
	snprintf(want, sizeof(want), " %zu", lim);
	T_ASSERT(strstr(ipcx_errmsg(), want));
	T_ASSERT(strstr(ipcx_errmsg(), "/proc/sys/kernel/msg"));
	/* Full: timeout 0 says so at once; nothing was half sent. */
	while ((r = ipcx_send(ch, big, 1000, 0)) == 0)
		n++;
	T_EXPECT(r, IPCX_ETIMEDOUT);
	T_ASSERT(n > 0 && (size_t)n <= ds.msg_qbytes / 1000);
	T_EXPECT(ipcx_send(ch, big, 1000, 20), IPCX_ETIMEDOUT);
	T_ASSERT(strstr(ipcx_errmsg(), "full"));
	for (int i = 0; i < n; i++)
		T_EXPECT(ipcx_recv(ch, big, lim, 0), 1000);
	T_EXPECT(ipcx_recv(ch, big, lim, 20), IPCX_ETIMEDOUT);
	free(big);
	T_OK(ipcx_close(ch));
	T_OK(ipcx_unlink(mk("")));
}

int main(void)
{
	snprintf(key, sizeof(key), "%s", t_key_name("sysvmq"));
	t_leak_begin();
	test_keys();
	test_create();
	test_types_and_bare_peer();
	test_limits();
	t_leak_end();
	return T_EXIT_PASS;
}
