/*
 * mq.c - mq://name: a POSIX message queue (/dev/mqueue/name), one kernel
 * message per ipcx message, with no header of ours inside it.
 *
 * Any program that calls mq_send()/mq_receive() on "/name" is a peer. The
 * kernel keeps boundaries and orders by priority (?prio=, default 0), then
 * by arrival. Either end creates the queue if it is missing (O_EXCL, then
 * fchmod to ?mode=, default 0600, whatever the umask), with ?maxmsg=
 * messages of ?msgsize= bytes (else the system's defaults,
 * /proc/sys/fs/mqueue/msg_default and msgsize_default); an existing queue
 * must have the asked-for geometry and, unless ?trust=any, belong to us.
 * So a sender may start first: its messages wait in the queue. Close never
 * removes the queue: ipcx_unlink() (mq_unlink) does.
 *
 * The kernel does not tell anyone when the other side goes away: a
 * receiver whose senders left, or a sender whose receiver left, waits
 * until its timeout (IPCX_ETIMEDOUT). Waits are mq_timedsend() and
 * mq_timedreceive(), whose absolute CLOCK_REALTIME timeout is computed
 * from the monotonic deadline; a wait the wall clock ended early is
 * resumed for the time left. ipcx_fd() is the mqd_t, pollable on Linux.
 *
 * mq_receive() needs a buffer of the queue's whole msgsize. A caller's
 * smaller buffer is served from a buffer of our own: a message that does
 * not fit stays there (IPCX_ENOBUFS, ipcx_pending() tells its size) until
 * a receive with a big enough buffer takes it.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The kernel's ceilings for root (HARD_MSGMAX, HARD_MSGSIZEMAX). */
#define MQ_HARD_MAXMSG  65536
#define MQ_HARD_MSGSIZE (16 << 20)

struct mq_priv {
	mqd_t q;
	long msgsize; /* the queue's, from mq_getattr */
	long maxmsg;
	char *held;  /* our own receive buffer (msgsize bytes), or NULL */
	ssize_t got; /* length of a message held there, -1 = none */
	char name[NAME_MAX + 2]; /* "/name" for mq_open */
	char ep[NAME_MAX + 8];   /* "mq://name" for messages */
};

/* A value from /proc/sys/fs/mqueue/<knob>, or dflt if unreadable. */
static long mq_sysctl(const char *knob, long dflt)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/sys/fs/mqueue/%s", knob);
	return ipcx__sysctl(path, dflt);
}

/* Explain a failed creation: which limit, where it is, what to do. */
static int mq_create_err(const struct mq_priv *p, int e, long maxmsg,
                         long msgsize)
{
	switch (e) {
	case EINVAL:
		return ipcx__err(
		    IPCX_EINVAL,
		    "create %s: maxmsg %ld and msgsize %ld exceed the "
		    "system's limits (msg_max %ld, msgsize_max %ld in "
		    "/proc/sys/fs/mqueue/; root may go to %d messages of "
		    "16 MiB): ask less with ?maxmsg= and ?msgsize=",
		    p->ep, maxmsg, msgsize, mq_sysctl("msg_max", 10),
		    mq_sysctl("msgsize_max", 8192), MQ_HARD_MAXMSG);
	case EMFILE:
		return ipcx__err(
		    IPCX_ENOMEM,
		    "create %s: %ld messages of %ld bytes do not fit in "
		    "what is left of this user's queue memory (ulimit -q, "
		    "RLIMIT_MSGQUEUE), or this process has too many "
		    "descriptors open: remove unused queues (ipcx rm), "
		    "ask less with ?maxmsg=/?msgsize=, or raise ulimit -q",
		    p->ep, maxmsg, msgsize);
	case ENOSPC:
		return ipcx__err(IPCX_ENOMEM,
		                 "create %s: the system's limit on queues "
		                 "(/proc/sys/fs/mqueue/queues_max, %ld) is "
		                 "reached: remove unused queues (ipcx rm) or "
		                 "raise it",
		                 p->ep, mq_sysctl("queues_max", 256));
	case EACCES:
		return ipcx__err(IPCX_EACCES,
		                 "open %s: permission denied (the queue's "
		                 "mode does not let you in)",
		                 p->ep);
	}
	return ipcx__errno(e, "mq_open %s", p->ep);
}

/*
 * Open the queue for oflag, creating it if missing. Sets *created. Returns
 * 0 or IPCX_E*.
 */
static int mq_get(ipcx_chan *ch, struct mq_priv *p, int oflag, bool *created)
{
	const struct ipcx__ep *ep = &ch->ep;
	struct mq_attr a = {0}, *ap = NULL;

	if (ep->set & (IPCX__O_MAXMSG | IPCX__O_MSGSIZE)) {
		a.mq_maxmsg = (ep->set & IPCX__O_MAXMSG)
		                  ? (long)ep->maxmsg
		                  : mq_sysctl("msg_default", 10);
		a.mq_msgsize = (ep->set & IPCX__O_MSGSIZE)
		                   ? (long)ep->msgsize
		                   : mq_sysctl("msgsize_default", 8192);
		ap = &a;
	}
	/* Another process may create or remove the name between our two
	 * tries: go round a few times before giving up. */
	for (int tries = 0; tries < 8; tries++) {
		p->q = mq_open(p->name, oflag | O_CREAT | O_EXCL, ep->mode, ap);
		if (p->q != (mqd_t)-1) {
			*created = true;
			return 0;
		}
		if (errno != EEXIST)
			return mq_create_err(
			    p, errno,
			    ap ? a.mq_maxmsg : mq_sysctl("msg_default", 10),
			    ap ? a.mq_msgsize
			       : mq_sysctl("msgsize_default", 8192));
		if (ch->flags & IPCX_EXCL)
			return ipcx__err(IPCX_EEXIST,
			                 "create %s: the queue exists "
			                 "(IPCX_EXCL); remove it with ipcx rm "
			                 "or pick another name",
			                 p->ep);
		p->q = mq_open(p->name, oflag);
		if (p->q != (mqd_t)-1)
			return 0;
		if (errno != ENOENT)
			return mq_create_err(p, errno, 0, 0);
	}
	return ipcx__err(IPCX_EBUSY,
	                 "open %s: the queue keeps being created and "
	                 "removed by someone else; try again",
	                 p->ep);
}

/*
 * open: create or open /dev/mqueue/NAME (see the top of the file). Never
 * blocks. Checks the owner and the geometry of an existing queue.
 */
static int mq_xopen(ipcx_chan *ch)
{
	const struct ipcx__ep *ep = &ch->ep;
	int dir = ch->flags & (IPCX_SEND | IPCX_RECV);
	int oflag = dir == IPCX_SEND   ? O_WRONLY
	            : dir == IPCX_RECV ? O_RDONLY
	                               : O_RDWR;
	bool created = false;
	struct mq_priv *p;
	struct mq_attr a;
	struct stat st;
	int r;

	p = calloc(1, sizeof(*p));
	if (!p)
		return ipcx__err(IPCX_ENOMEM, "out of memory");
	p->q = (mqd_t)-1;
	p->got = -1;
	snprintf(p->name, sizeof(p->name), "/%.255s", ep->name);
	snprintf(p->ep, sizeof(p->ep), "mq://%.255s", ep->name);
	ch->priv = p;
	/* The parser takes maxmsg as a byte count: here it counts messages. */
	if ((ep->set & IPCX__O_MAXMSG) &&
	    (ep->maxmsg < 1 || ep->maxmsg > MQ_HARD_MAXMSG))
		return ipcx__err(
		    IPCX_EOPTION,
		    "%s: maxmsg=%zu: for mq:// it is the number of "
		    "messages the queue holds, 1 to %d",
		    p->ep, ep->maxmsg, MQ_HARD_MAXMSG);
	r = mq_get(ch, p, oflag, &created);
	if (r < 0)
		return r;
	if (fstat((int)p->q, &st) < 0)
		return ipcx__errno(errno, "fstat %s", p->ep);
	if (created) {
		/* mq_open applied the umask: give back what was asked. */
		if ((st.st_mode & 07777) != ep->mode &&
		    fchmod((int)p->q, ep->mode) < 0)
			return ipcx__errno(errno, "fchmod %s", p->ep);
	} else if (st.st_uid != geteuid() && !ep->trust_any) {
		return ipcx__err(IPCX_EACCES,
		                 "open %s: the queue belongs to uid %u, not "
		                 "to you (uid %u); add ?trust=any to use it "
		                 "anyway",
		                 p->ep, (unsigned)st.st_uid,
		                 (unsigned)geteuid());
	}
	if (mq_getattr(p->q, &a) < 0)
		return ipcx__errno(errno, "mq_getattr %s", p->ep);
	p->msgsize = a.mq_msgsize;
	p->maxmsg = a.mq_maxmsg;
	/* Asked-for geometry that the existing queue does not have would
	 * only surface later, as a puzzling EMSGSIZE: say it now. */
	if (((ep->set & IPCX__O_MSGSIZE) && (long)ep->msgsize != p->msgsize) ||
	    ((ep->set & IPCX__O_MAXMSG) && (long)ep->maxmsg != p->maxmsg))
		return ipcx__err(IPCX_EEXIST,
		                 "open %s: the queue exists with maxmsg %ld "
		                 "and msgsize %ld, not what was asked; remove "
		                 "it (ipcx rm %s) or drop ?maxmsg=/?msgsize=",
		                 p->ep, p->maxmsg, p->msgsize, p->ep);
	return 0;
}

/* The absolute CLOCK_REALTIME time for a monotonic deadline (>= 0). */
static void mq_abstime(int64_t deadline, struct timespec *ts)
{
	int64_t left = deadline - ipcx__now_ns(), rt;
	struct timespec now;

	if (deadline == 0 || left <= 0) {
		/* In the past: the kernel tries once and does not sleep. */
		ts->tv_sec = 0;
		ts->tv_nsec = 0;
		return;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	rt = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec + left;
	ts->tv_sec = (time_t)(rt / 1000000000);
	ts->tv_nsec = (long)(rt % 1000000000);
}

/*
 * send: one message at priority ?prio=, whole or not at all. Blocks while
 * the queue is full, until the deadline (timeout 0 on a full queue is
 * IPCX_ETIMEDOUT at once). IPCX_EMSGSIZE above the queue's msgsize.
 */
static int mq_xsend(ipcx_chan *ch, const void *buf, size_t len,
                    int64_t deadline)
{
	struct mq_priv *p = ch->priv;
	struct timespec ts;
	int r;

	if (len > (size_t)p->msgsize)
		return ipcx__err(
		    IPCX_EMSGSIZE,
		    "send %s: message of %zu bytes exceeds this queue's "
		    "msgsize %ld; create the queue with ?msgsize= (ipcx rm "
		    "it first), system maximum in "
		    "/proc/sys/fs/mqueue/msgsize_max",
		    p->ep, len, p->msgsize);
	for (;;) {
		if (deadline < 0) {
			r = mq_send(p->q, buf, len, ch->ep.prio);
		} else {
			mq_abstime(deadline, &ts);
			r = mq_timedsend(p->q, buf, len, ch->ep.prio, &ts);
		}
		if (r == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == ETIMEDOUT && !ipcx__expired(deadline))
			continue; /* the wall clock jumped ahead */
		if (errno == ETIMEDOUT)
			return ipcx__err(
			    IPCX_ETIMEDOUT,
			    "send %s: timed out, nothing sent (the "
			    "queue stayed full: %ld messages; is "
			    "anyone receiving?)",
			    p->ep, p->maxmsg);
		return ipcx__errno(errno, "send %s", p->ep);
	}
}

/* One mq_receive into b (at least msgsize bytes) until the deadline. */
static ssize_t mq_take(ipcx_chan *ch, char *b, int64_t deadline)
{
	struct mq_priv *p = ch->priv;
	struct timespec ts;
	ssize_t n;

	for (;;) {
		if (deadline < 0) {
			n = mq_receive(p->q, b, (size_t)p->msgsize, NULL);
		} else {
			mq_abstime(deadline, &ts);
			n = mq_timedreceive(p->q, b, (size_t)p->msgsize, NULL,
			                    &ts);
		}
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno == ETIMEDOUT && !ipcx__expired(deadline))
			continue;
		if (errno == ETIMEDOUT)
			return ipcx__err(IPCX_ETIMEDOUT,
			                 "recv %s: timed out (no message "
			                 "arrived)",
			                 p->ep);
		return ipcx__errno(errno, "recv %s", p->ep);
	}
}

/*
 * recv: the next message (highest priority first) into buf. Blocks until
 * the deadline. A message longer than cap is held by the channel:
 * IPCX_ENOBUFS with ch->pending set; the next receive with room takes it.
 */
static ssize_t mq_xrecv(ipcx_chan *ch, void *buf, size_t cap, int64_t deadline)
{
	struct mq_priv *p = ch->priv;
	ssize_t n;

	if (p->got < 0) {
		/* Straight into the caller's buffer when it can take any
		 * message: no copy. */
		if (cap >= (size_t)p->msgsize)
			return mq_take(ch, buf, deadline);
		if (!p->held) {
			p->held = malloc((size_t)p->msgsize);
			if (!p->held)
				return ipcx__err(IPCX_ENOMEM,
				                 "out of memory for %s's "
				                 "%ld-byte msgsize",
				                 p->ep, p->msgsize);
		}
		n = mq_take(ch, p->held, deadline);
		if (n < 0)
			return n;
		p->got = n;
	}
	return ipcx__held_give(ch, p->ep, p->held, &p->got, buf, cap);
}

/* fd: the mqd_t itself (POLLIN: a message is queued). */
static int mq_xfd(ipcx_chan *ch)
{
	struct mq_priv *p = ch->priv;

	return (int)p->q;
}

/* close: mq_close; the queue and what is in it stay. */
static int mq_xclose(ipcx_chan *ch)
{
	struct mq_priv *p = ch->priv;

	if (p) {
		if (p->q != (mqd_t)-1)
			mq_close(p->q);
		free(p->held);
		free(p);
		ch->priv = NULL;
	}
	return 0;
}

/* unlink: mq_unlink; open descriptors keep the queue until closed. */
static int mq_xunlink(const struct ipcx__ep *ep)
{
	char name[NAME_MAX + 2];

	snprintf(name, sizeof(name), "/%.255s", ep->name);
	if (mq_unlink(name) == 0)
		return 0;
	if (errno == ENOENT)
		return ipcx__err(IPCX_ENOENT, "unlink mq://%s: no such queue",
		                 ep->name);
	return ipcx__errno(errno, "unlink mq://%s", ep->name);
}

const struct ipcx__transport ipcx__tp_mq = {
    .scheme = IPCX__S_MQ,
    .try_first = true,
    .open = mq_xopen,
    .send = mq_xsend,
    .recv = mq_xrecv,
    .fd = mq_xfd,
    .close = mq_xclose,
    .unlink = mq_xunlink,
};
