/*
 * sysvsem.c - sysv-sem://KEY: a System V semaphore set (ipcs -s) whose
 * semaphore 0 carries zero-byte events, and the key helper both System V
 * transports share.
 *
 * send is semop(+1), recv is semtimedop(-1) with the time left. The key is
 * a number (0x1234) or ftok(path, proj=) for sysv-sem:///path. A new set is
 * created with mode= (System V ignores the umask) and its count starts at
 * ?value=N, added with one semop so that a peer posting meanwhile is never
 * lost (no SETVAL race between creator and early users).
 *
 * No SEM_UNDO here: a post is an event handed to someone else, and undoing
 * it when the poster exits would take back an event already delivered.
 * (semshm.c uses SEM_UNDO for its mutex, where it does make sense.) There
 * is no file descriptor: ipcx_fd() is IPCX_ENOTSUP.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <time.h>
#include <unistd.h>

struct ssem {
	int id;
};

int ipcx__sysv_key(const struct ipcx__ep *ep, int *key)
{
	key_t k;

	if (ep->has_key) {
		*key = (int)ep->key;
		return 0;
	}
	k = ftok(ep->name, ep->proj);
	if (k == (key_t)-1)
		return ipcx__errno(errno,
		                   "ftok %s (a System V path endpoint names an "
		                   "existing file; create it first)",
		                   ep->name);
	*key = (int)k;
	return 0;
}

/*
 * open: create the set (IPC_EXCL, mode=, count value=) or, unless
 * IPCX_EXCL, use the existing one if its owner is us (or ?trust=any).
 * Either end may create it. Never blocks.
 */
static int ssem_op_open(ipcx_chan *ch)
{
	const struct ipcx__ep *ep = &ch->ep;
	struct semid_ds ds;
	struct ssem *s;
	int key, r;

	r = ipcx__sysv_key(ep, &key);
	if (r < 0)
		return r;
	s = calloc(1, sizeof(*s));
	if (!s)
		return ipcx__err(IPCX_ENOMEM, "out of memory");
	ch->priv = s;
	s->id = semget(key, 1, IPC_CREAT | IPC_EXCL | (int)ep->mode);
	if (s->id >= 0) {
		struct sembuf op = {0, (short)ep->value, 0};
		if (ep->value && semop(s->id, &op, 1) < 0) {
			int e = errno;
			semctl(s->id, 0, IPC_RMID);
			s->id = -1;
			return ipcx__errno(e, "semop (initial value %u)",
			                   ep->value);
		}
		return 0;
	}
	if (errno == ENOSPC)
		return ipcx__err(
		    IPCX_ENOMEM,
		    "sysv-sem://%s: the system's semaphore sets are "
		    "used up (see /proc/sys/kernel/sem, `ipcs -s`)",
		    ep->name);
	if (errno != EEXIST)
		return ipcx__errno(errno, "semget sysv-sem://%s", ep->name);
	if (ch->flags & IPCX_EXCL)
		return ipcx__err(IPCX_EEXIST,
		                 "sysv-sem://%s already exists (remove it with "
		                 "`ipcx rm sysv-sem://%s`)",
		                 ep->name, ep->name);
	s->id = semget(key, 0, 0);
	if (s->id < 0)
		return ipcx__errno(errno, "semget sysv-sem://%s", ep->name);
	if (semctl(s->id, 0, IPC_STAT, &ds) < 0)
		return ipcx__errno(errno, "semctl IPC_STAT sysv-sem://%s",
		                   ep->name);
	if (ds.sem_perm.uid != geteuid() && !ep->trust_any)
		return ipcx__err(IPCX_EACCES,
		                 "sysv-sem://%s belongs to uid %u, not to you "
		                 "(uid %u); add ?trust=any to use it anyway",
		                 ep->name, (unsigned)ds.sem_perm.uid,
		                 (unsigned)geteuid());
	return 0;
}

/* The set was removed under us (ipcx rm, ipcrm): the peer is gone. */
static int ssem_gone(ipcx_chan *ch, int e)
{
	if (e == EIDRM || e == EINVAL)
		return ipcx__err(IPCX_EPEER,
		                 "sysv-sem://%s was removed while in use",
		                 ch->ep.name);
	return ipcx__errno(e, "semop sysv-sem://%s", ch->ep.name);
}

/*
 * send: post once (semop +1). Never blocks. An empty message only.
 * IPCX_EAGAIN at the kernel's maximum count (SEMVMX, 32767).
 */
static int ssem_op_send(ipcx_chan *ch, const void *buf, size_t len,
                        int64_t deadline)
{
	struct ssem *s = ch->priv;
	struct sembuf op = {0, 1, 0};

	(void)buf;
	(void)deadline;
	if (len)
		return ipcx__sem_no_bytes(len);
	while (semop(s->id, &op, 1) < 0) {
		if (errno == EINTR)
			continue;
		if (errno == ERANGE)
			return ipcx__err(
			    IPCX_EAGAIN,
			    "sysv-sem://%s: the count is at the "
			    "kernel's maximum (32767); nobody takes "
			    "the posts",
			    ch->ep.name);
		return ssem_gone(ch, errno);
	}
	return 0;
}

/*
 * recv: wait for a post and take it (semtimedop -1): returns 0, an empty
 * message. Blocks until the deadline, then IPCX_ETIMEDOUT.
 */
static ssize_t ssem_op_recv(ipcx_chan *ch, void *buf, size_t cap,
                            int64_t deadline)
{
	struct ssem *s = ch->priv;
	struct sembuf op = {0, -1, 0};

	(void)buf;
	(void)cap;
	if (deadline == 0)
		op.sem_flg = IPC_NOWAIT;
	for (;;) {
		struct timespec ts;
		/* semtimedop's timeout is relative: what is left (deadline 0
		 * is IPC_NOWAIT above). */
		if (semtimedop(s->id, &op, 1,
		               ipcx__timespec_left(deadline, &ts)) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			return ipcx__err(IPCX_ETIMEDOUT,
			                 "no post within the timeout");
		return ssem_gone(ch, errno);
	}
}

/* fd: none (System V objects are not files). */
static int ssem_op_fd(ipcx_chan *ch)
{
	(void)ch;
	return ipcx__err(IPCX_ENOTSUP,
	                 "sysv-sem:// has no file descriptor: the kernel "
	                 "offers no way to poll a semaphore; receive with a "
	                 "timeout, or use a transport with one (shm://, "
	                 "unix://)");
}

static int ssem_op_close(ipcx_chan *ch)
{
	free(ch->priv);
	ch->priv = NULL;
	return 0;
}

/* unlink: IPC_RMID the set; its waiters get IPCX_EPEER. */
static int ssem_op_unlink(const struct ipcx__ep *ep)
{
	int key, id, r;

	r = ipcx__sysv_key(ep, &key);
	if (r < 0)
		return r;
	id = semget(key, 0, 0);
	if (id < 0 && errno == ENOENT)
		return ipcx__err(IPCX_ENOENT,
		                 "no System V semaphore set with key 0x%x "
		                 "(already removed, or check the key)",
		                 (unsigned)key);
	if (id < 0)
		return ipcx__errno(errno, "semget key 0x%x", (unsigned)key);
	if (semctl(id, 0, IPC_RMID) < 0)
		return ipcx__errno(errno, "semctl IPC_RMID key 0x%x",
		                   (unsigned)key);
	return 0;
}

const struct ipcx__transport ipcx__tp_sysv_sem = {
    .scheme = IPCX__S_SYSV_SEM,
    .try_first = true,
    .open = ssem_op_open,
    .send = ssem_op_send,
    .recv = ssem_op_recv,
    .fd = ssem_op_fd,
    .close = ssem_op_close,
    .unlink = ssem_op_unlink,
};
