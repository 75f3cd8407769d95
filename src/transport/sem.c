/*
 * sem.c - sem://name: a POSIX named semaphore (/dev/shm/sem.name) whose
 * messages are zero-byte events.
 *
 * send posts the semaphore once (sem_post), recv waits for a post and
 * takes it (sem_clockwait on CLOCK_MONOTONIC, so a clock change does not
 * move a deadline). A message carries no bytes: a non-empty one is
 * IPCX_EMSGSIZE. ?value=N is the count a newly created semaphore starts
 * with; opening an existing one leaves its count alone. Any program that
 * calls sem_post/sem_wait on the same name is a peer.
 *
 * There is no file descriptor behind a POSIX semaphore, so ipcx_fd() is
 * IPCX_ENOTSUP (a helper thread feeding an eventfd would have to consume
 * posts to see them, stealing events from other waiters).
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct psem {
	sem_t *sem;
	char name[NAME_MAX + 2]; /* "/name" for sem_open */
};

/* "/name" for sem_open and "/dev/shm/sem.name" for stat and chmod. */
static void psem_names(const struct ipcx__ep *ep, char name[NAME_MAX + 2],
                       char path[NAME_MAX + 16])
{
	/* The parser bounds the name to NAME_MAX - 4 ("sem." is added). */
	name[0] = '/';
	memcpy(name + 1, ep->name, ep->name_len + 1);
	if (path) {
		memcpy(path, "/dev/shm/sem.", 13);
		memcpy(path + 13, ep->name, ep->name_len + 1);
	}
}

/*
 * open: create the semaphore (O_EXCL, count value=, mode exactly mode=
 * whatever the umask) or, unless IPCX_EXCL, open the existing one if its
 * owner is us (or ?trust=any). Either end may create it. Never blocks.
 */
static int psem_op_open(ipcx_chan *ch)
{
	const struct ipcx__ep *ep = &ch->ep;
	char path[NAME_MAX + 16];
	struct psem *p;
	struct stat st;
	int e;

	p = calloc(1, sizeof(*p));
	if (!p)
		return ipcx__err(IPCX_ENOMEM, "out of memory");
	ch->priv = p;
	psem_names(ep, p->name, path);
	p->sem =
	    sem_open(p->name, O_CREAT | O_EXCL, (mode_t)ep->mode, ep->value);
	if (p->sem != SEM_FAILED) {
		/* sem_open applied the umask; mode= means exactly that. Only
		 * bits the umask removed come back: never more than asked. */
		if (chmod(path, (mode_t)ep->mode) < 0) {
			e = errno;
			sem_close(p->sem);
			p->sem = NULL;
			sem_unlink(p->name);
			return ipcx__errno(e, "chmod %s", path);
		}
		return 0;
	}
	p->sem = NULL;
	e = errno;
	if (e != EEXIST)
		return ipcx__errno(e, "sem_open %s (creating sem://%s)", path,
		                   ep->name);
	if (ch->flags & IPCX_EXCL)
		return ipcx__err(IPCX_EEXIST,
		                 "sem://%s already exists (remove it with "
		                 "`ipcx rm sem://%s`)",
		                 ep->name, ep->name);
	p->sem = sem_open(p->name, 0);
	if (p->sem == SEM_FAILED) {
		p->sem = NULL;
		return ipcx__errno(errno, "sem_open %s", path);
	}
	/* The owner check comes after sem_open, which gives no descriptor
	 * to fstat; a name swapped in between is still a semaphore file in
	 * /dev/shm, which only its owner (or root) could have replaced. */
	if (lstat(path, &st) < 0)
		return ipcx__errno(errno, "stat %s", path);
	if (!S_ISREG(st.st_mode))
		return ipcx__err(IPCX_ECORRUPT, "%s is not a file", path);
	if (st.st_uid != geteuid() && !ep->trust_any)
		return ipcx__err(IPCX_EACCES,
		                 "sem://%s belongs to uid %u, not to you (uid "
		                 "%u); add ?trust=any to use it anyway",
		                 ep->name, (unsigned)st.st_uid,
		                 (unsigned)geteuid());
	return 0;
}

int ipcx__sem_no_bytes(size_t len)
{
	if (len == 0)
		return 0;
	return ipcx__err(IPCX_EMSGSIZE,
	                 "a semaphore carries no bytes (the message has %zu, "
	                 "the limit is 0); send an empty message to post it",
	                 len);
}

/*
 * send: post once. Never blocks. An empty message only: a semaphore
 * carries no bytes. IPCX_EAGAIN if the count is at SEM_VALUE_MAX.
 */
static int psem_op_send(ipcx_chan *ch, const void *buf, size_t len,
                        int64_t deadline)
{
	struct psem *p = ch->priv;

	(void)buf;
	(void)deadline;
	if (len)
		return ipcx__sem_no_bytes(len);
	if (sem_post(p->sem) == 0)
		return 0;
	if (errno == EOVERFLOW)
		return ipcx__err(IPCX_EAGAIN,
		                 "sem://%s: the count is at its maximum (%d); "
		                 "nobody takes the posts",
		                 ch->ep.name, SEM_VALUE_MAX);
	return ipcx__errno(errno, "sem_post sem://%s", ch->ep.name);
}

/*
 * recv: wait for a post and take it: returns 0 (an empty message, which
 * fits any buffer). Blocks until the deadline, then IPCX_ETIMEDOUT.
 */
static ssize_t psem_op_recv(ipcx_chan *ch, void *buf, size_t cap,
                            int64_t deadline)
{
	struct psem *p = ch->priv;
	struct timespec ts;
	int r;

	(void)buf;
	(void)cap;
	ts.tv_sec = (time_t)(deadline / 1000000000);
	ts.tv_nsec = (long)(deadline % 1000000000);
	for (;;) {
		if (deadline < 0)
			r = sem_wait(p->sem);
		else if (deadline == 0)
			r = sem_trywait(p->sem);
		else
			/* The deadline is absolute on CLOCK_MONOTONIC, which
			 * also makes an EINTR retry wait only the time left. */
			r = sem_clockwait(p->sem, CLOCK_MONOTONIC, &ts);
		if (r == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == ETIMEDOUT)
			return ipcx__err(IPCX_ETIMEDOUT,
			                 "no post within the timeout");
		return ipcx__errno(errno, "sem_wait sem://%s", ch->ep.name);
	}
}

/* fd: none; say why and what to do instead. */
static int psem_op_fd(ipcx_chan *ch)
{
	return ipcx__err(IPCX_ENOTSUP,
	                 "%s:// has no file descriptor: the kernel offers no "
	                 "way to poll a semaphore; receive with a timeout, or "
	                 "use a transport with one (shm://, unix://)",
	                 ipcx__scheme_name(ch->ep.scheme));
}

/* close: sem_close; the name stays (ipcx_unlink removes it). */
static int psem_op_close(ipcx_chan *ch)
{
	struct psem *p = ch->priv;

	if (!p)
		return 0;
	if (p->sem)
		sem_close(p->sem);
	free(p);
	ch->priv = NULL;
	return 0;
}

/* unlink: sem_unlink; open semaphores keep working. */
static int psem_op_unlink(const struct ipcx__ep *ep)
{
	char name[NAME_MAX + 2];

	psem_names(ep, name, NULL);
	if (sem_unlink(name) == 0)
		return 0;
	if (errno == ENOENT)
		return ipcx__err(IPCX_ENOENT,
		                 "no semaphore /dev/shm/sem.%s (already "
		                 "removed, or check the name)",
		                 ep->name);
	return ipcx__errno(errno, "sem_unlink /dev/shm/sem.%s", ep->name);
}

const struct ipcx__transport ipcx__tp_sem = {
    .scheme = IPCX__S_SEM,
    .try_first = true,
    .open = psem_op_open,
    .send = psem_op_send,
    .recv = psem_op_recv,
    .fd = psem_op_fd,
    .close = psem_op_close,
    .unlink = psem_op_unlink,
};
