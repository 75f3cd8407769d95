/*
 * sysvmq.c - sysv-mq://KEY and sysv-mq:///path?proj=N: a System V message
 * queue (msgget/msgsnd/msgrcv, `ipcs -q`), one kernel message per ipcx
 * message, with no header of ours inside it.
 *
 * The key is the number given, or ftok(path, proj) (proj defaults to 1, as
 * in Perl's IPC::SysV::ftok). Messages are sent with type ?type= (default
 * 1); a receiver takes that type only, or any type with type=0. Any
 * program that calls msgsnd/msgrcv on the key (Perl's IPC::Msg, ipcmk and
 * a C loop) is a peer. Either end creates the queue if it is missing
 * (IPC_CREAT | IPC_EXCL, ?mode=, default 0600: System V ignores the
 * umask); an existing queue of another uid is refused unless ?trust=any.
 * Close never removes the queue: ipcx_unlink() (IPC_RMID) does.
 *
 * Waiting. msgsnd and msgrcv block without a timeout and have no file
 * descriptor to poll, so this transport never blocks in them: it calls
 * them with IPC_NOWAIT and, while the queue is empty (or full), sleeps
 * between tries, 50 us at first, doubling up to 1 ms, never past the
 * deadline. The cost, measured with `ipcx bench` (docs/ipcx.1): a message
 * that arrives while a receiver sleeps waits up to 1 ms; an idle receiver
 * wakes about 1000 times a second, which costs little CPU but is not zero;
 * a receiver that keeps up with a busy queue never sleeps. The alternative,
 * a helper thread blocked in msgrcv feeding an eventfd, would give a
 * pollable fd but take messages out of the queue before the caller asks
 * (unfair to other receivers of the same queue) and cannot be interrupted
 * without a signal handler, which a library must not install. So
 * ipcx_fd() is IPCX_ENOTSUP here.
 *
 * A removed queue (IPC_RMID by anyone) is IPCX_EPEER on the next call.
 * Nothing tells either side that the other one left: they time out.
 */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <time.h>
#include <unistd.h>

/* The back-off between two IPC_NOWAIT tries (see the top of the file). */
#define SV_PAUSE_MIN_NS 50000
#define SV_PAUSE_MAX_NS 1000000

struct sv_msg {
	long mtype;
	char mtext[];
};

struct sv_priv {
	int id; /* msqid */
	key_t key;
	size_t cap;          /* mtext bytes in buf */
	size_t limit;        /* largest message: min(msgmax, msg_qbytes) */
	size_t msgmax;       /* /proc/sys/kernel/msgmax when opened */
	size_t qbytes;       /* the queue's msg_qbytes */
	struct sv_msg *buf;  /* receive buffer (may hold a message: got) */
	struct sv_msg *sbuf; /* send staging: type, then the bytes */
	ssize_t got;         /* length of a received message held, -1 none */
	char ep[IPCX__EP_MAX + 40]; /* "sysv-mq://..." for messages */
};

/* A value from /proc/sys/kernel/<knob>, or dflt. */
static long sv_sysctl(const char *knob, long dflt)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/sys/kernel/%s", knob);
	return ipcx__sysctl(path, dflt);
}

/*
 * sv_key - the key behind ep: the number, or ftok(path, proj). The path
 * must exist (ftok reads its inode). Returns 0 or IPCX_E*.
 */
static int sv_key(const struct ipcx__ep *ep, key_t *key)
{
	if (ep->has_key) {
		*key = (key_t)ep->key;
		return 0;
	}
	*key = ftok(ep->name, (int)ep->proj);
	if (*key != (key_t)-1)
		return 0;
	if (errno == ENOENT)
		return ipcx__err(IPCX_ENOENT,
		                 "sysv-mq://%s: no such file; ftok needs an "
		                 "existing path (create it, e.g. touch %s)",
		                 ep->name, ep->name);
	return ipcx__errno(errno, "ftok %s", ep->name);
}

/* Explain a failed msgget. */
static int sv_get_err(const struct sv_priv *p, int e)
{
	if (e == ENOSPC)
		return ipcx__err(IPCX_ENOMEM,
		                 "create %s: the system's limit on System V "
		                 "queues (/proc/sys/kernel/msgmni, %ld) is "
		                 "reached: remove unused ones (ipcs -q, ipcx "
		                 "rm) or raise it",
		                 p->ep, sv_sysctl("msgmni", 32000));
	if (e == EACCES)
		return ipcx__err(IPCX_EACCES,
		                 "open %s: permission denied (the queue's "
		                 "mode does not let you in)",
		                 p->ep);
	return ipcx__errno(e, "msgget %s", p->ep);
}

/* Create the queue or find the existing one; *created says which. */
static int sv_get(ipcx_chan *ch, struct sv_priv *p, bool *created)
{
	for (int tries = 0; tries < 8; tries++) {
		p->id = msgget(p->key, IPC_CREAT | IPC_EXCL | (int)ch->ep.mode);
		if (p->id >= 0) {
			*created = true;
			return 0;
		}
		if (errno != EEXIST)
			return sv_get_err(p, errno);
		if (ch->flags & IPCX_EXCL)
			return ipcx__err(IPCX_EEXIST,
			                 "create %s: the queue exists "
			                 "(IPCX_EXCL); remove it with ipcx rm "
			                 "or pick another key",
			                 p->ep);
		p->id = msgget(p->key, 0);
		if (p->id >= 0)
			return 0;
		if (errno != ENOENT)
			return sv_get_err(p, errno);
	}
	return ipcx__err(IPCX_EBUSY,
	                 "open %s: the queue keeps being created and "
	                 "removed by someone else; try again",
	                 p->ep);
}

/* Size the buffer for the largest message: grow, never shrink. */
static int sv_buf(struct sv_priv *p, size_t cap)
{
	struct sv_msg *b;

	if (p->buf && p->cap >= cap)
		return 0;
	b = realloc(p->buf, sizeof(*b) + (cap ? cap : 1));
	if (!b)
		return ipcx__err(IPCX_ENOMEM, "out of memory for %s", p->ep);
	p->buf = b;
	p->cap = cap;
	return 0;
}

/*
 * open: find the key, create or open the queue, check its owner, learn its
 * limits. Never blocks.
 */
static int sv_open(ipcx_chan *ch)
{
	const struct ipcx__ep *ep = &ch->ep;
	bool created = false;
	struct msqid_ds ds;
	struct sv_priv *p;
	int r;

	p = calloc(1, sizeof(*p));
	if (!p)
		return ipcx__err(IPCX_ENOMEM, "out of memory");
	p->id = -1;
	p->got = -1;
	ch->priv = p;
	r = sv_key(ep, &p->key);
	if (r < 0)
		return r;
	if (ep->has_key)
		snprintf(p->ep, sizeof(p->ep), "sysv-mq://%s", ep->name);
	else
		snprintf(p->ep, sizeof(p->ep), "sysv-mq://%s (key 0x%08x)",
		         ep->name, (unsigned)p->key);
	r = sv_get(ch, p, &created);
	if (r < 0)
		return r;
	if (msgctl(p->id, IPC_STAT, &ds) < 0)
		return ipcx__errno(errno, "msgctl IPC_STAT %s", p->ep);
	if (!created && ds.msg_perm.uid != geteuid() && !ep->trust_any)
		return ipcx__err(IPCX_EACCES,
		                 "open %s: the queue belongs to uid %u, not "
		                 "to you (uid %u); add ?trust=any to use it "
		                 "anyway",
		                 p->ep, (unsigned)ds.msg_perm.uid,
		                 (unsigned)geteuid());
	p->msgmax = (size_t)sv_sysctl("msgmax", 8192);
	p->qbytes = (size_t)ds.msg_qbytes;
	/* A message above msg_qbytes would wait for room for ever. */
	p->limit = p->msgmax < p->qbytes ? p->msgmax : p->qbytes;
	/* Apart from the receive buffer, which may hold a message that a
	 * small buffer refused while this channel sends. */
	if (ch->flags & IPCX_SEND) {
		p->sbuf = malloc(sizeof(*p->sbuf) + (p->limit ? p->limit : 1));
		if (!p->sbuf)
			return ipcx__err(IPCX_ENOMEM, "out of memory");
	}
	return (ch->flags & IPCX_RECV) ? sv_buf(p, p->limit) : 0;
}

/*
 * sv_pause - sleep before the next IPC_NOWAIT try: *pause_ns, doubled for
 * next time up to SV_PAUSE_MAX_NS, never past the deadline. Returns 0 to
 * try again, IPCX_ETIMEDOUT once the deadline has passed.
 */
static int sv_pause(int64_t *pause_ns, int64_t deadline)
{
	int64_t ns = *pause_ns;
	struct timespec ts;

	if (deadline >= 0) {
		int64_t left = deadline - ipcx__now_ns();
		if (left <= 0)
			return IPCX_ETIMEDOUT;
		if (left < ns)
			ns = left;
	}
	ts.tv_sec = (time_t)(ns / 1000000000);
	ts.tv_nsec = (long)(ns % 1000000000);
	/* EINTR ends the sleep early: the caller just tries again. */
	nanosleep(&ts, NULL);
	*pause_ns =
	    *pause_ns * 2 > SV_PAUSE_MAX_NS ? SV_PAUSE_MAX_NS : *pause_ns * 2;
	return 0;
}

/* The queue vanished under us (IPC_RMID): EIDRM, or EINVAL for the id. */
static int sv_removed(const struct sv_priv *p, const char *op)
{
	return ipcx__err(IPCX_EPEER,
	                 "%s %s: the queue was removed (ipcrm or ipcx rm)", op,
	                 p->ep);
}

/*
 * send: one message of type ?type=, whole or nothing. Waits with back-off
 * while the queue is full, until the deadline. IPCX_EMSGSIZE above
 * msgmax or the queue's msg_qbytes.
 */
static int sv_send(ipcx_chan *ch, const void *buf, size_t len, int64_t deadline)
{
	struct sv_priv *p = ch->priv;
	int64_t pause = SV_PAUSE_MIN_NS;

	if (ch->ep.type == 0)
		return ipcx__err(IPCX_EOPTION,
		                 "send %s: type=0 only receives (any type); a "
		                 "message sent needs type=1 or more",
		                 p->ep);
	if (len > p->limit) {
		if (p->limit == p->msgmax)
			return ipcx__err(
			    IPCX_EMSGSIZE,
			    "send %s: message of %zu bytes exceeds "
			    "System V's msgmax %zu (raise "
			    "/proc/sys/kernel/msgmax)",
			    p->ep, len, p->msgmax);
		return ipcx__err(IPCX_EMSGSIZE,
		                 "send %s: message of %zu bytes exceeds this "
		                 "queue's capacity msg_qbytes %zu (new queues "
		                 "get /proc/sys/kernel/msgmnb; ipcx rm it and "
		                 "raise that)",
		                 p->ep, len, p->qbytes);
	}
	/* msgsnd wants the type right before the bytes: one copy. */
	p->sbuf->mtype = ch->ep.type;
	if (len)
		memcpy(p->sbuf->mtext, buf, len);
	for (;;) {
		if (msgsnd(p->id, p->sbuf, len, IPC_NOWAIT) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == EIDRM || errno == EINVAL)
			return sv_removed(p, "send");
		if (errno != EAGAIN)
			return ipcx__errno(errno, "send %s", p->ep);
		if (sv_pause(&pause, deadline) < 0)
			return ipcx__err(
			    IPCX_ETIMEDOUT,
			    "send %s: timed out, nothing sent (the "
			    "queue stayed full: msg_qbytes %zu; is "
			    "anyone receiving?)",
			    p->ep, p->qbytes);
	}
}

/* Take the next message of our type into p->buf; its length or IPCX_E*. */
static ssize_t sv_take(ipcx_chan *ch, int64_t deadline)
{
	struct sv_priv *p = ch->priv;
	int64_t pause = SV_PAUSE_MIN_NS;

	for (;;) {
		ssize_t n =
		    msgrcv(p->id, p->buf, p->cap, ch->ep.type, IPC_NOWAIT);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno == EIDRM || errno == EINVAL)
			return sv_removed(p, "recv");
		if (errno == E2BIG) {
			/* msgmax was raised after we opened: grow to what
			 * the queue can hold at all, once. */
			size_t want = p->qbytes > p->cap
			                  ? p->qbytes
			                  : (size_t)sv_sysctl("msgmax", 8192);
			int r;
			if (want <= p->cap)
				return ipcx__err(IPCX_ESYS,
				                 "recv %s: a message larger "
				                 "than msgmax %zu is queued",
				                 p->ep, p->cap);
			r = sv_buf(p, want);
			if (r < 0)
				return r;
			continue;
		}
		if (errno != ENOMSG)
			return ipcx__errno(errno, "recv %s", p->ep);
		if (sv_pause(&pause, deadline) < 0)
			return ipcx__err(IPCX_ETIMEDOUT,
			                 "recv %s: timed out (no message of "
			                 "type %ld arrived)",
			                 p->ep, ch->ep.type);
	}
}

/*
 * recv: the next message of type ?type= (any with type=0) into buf.
 * Waits with back-off until the deadline. A message longer than cap is
 * held by the channel: IPCX_ENOBUFS with ch->pending set.
 */
static ssize_t sv_recv(ipcx_chan *ch, void *buf, size_t cap, int64_t deadline)
{
	struct sv_priv *p = ch->priv;
	ssize_t n;

	if (p->got < 0) {
		n = sv_take(ch, deadline);
		if (n < 0)
			return n;
		p->got = n;
	}
	return ipcx__held_give(ch, p->ep, p->buf->mtext, &p->got, buf, cap);
}

/* close: frees the channel; the queue and its messages stay. */
/* fd: none; say why and what to do instead. */
static int sv_fd(ipcx_chan *ch)
{
	(void)ch;
	return ipcx__err(
	    IPCX_ENOTSUP,
	    "sysv-mq:// has no file descriptor: the kernel offers "
	    "no way to poll a System V queue (ipcx waits on it "
	    "with IPC_NOWAIT tries and a back-off); receive with a "
	    "timeout, or use mq:// whose queue descriptor polls");
}

static int sv_close(ipcx_chan *ch)
{
	struct sv_priv *p = ch->priv;

	if (p) {
		free(p->buf);
		free(p->sbuf);
		free(p);
		ch->priv = NULL;
	}
	return 0;
}

/* unlink: IPC_RMID the queue behind the key (its messages go with it). */
static int sv_unlink(const struct ipcx__ep *ep)
{
	key_t key;
	int id, r = sv_key(ep, &key);

	if (r < 0)
		return r;
	id = msgget(key, 0);
	if (id < 0 && errno == ENOENT)
		return ipcx__err(IPCX_ENOENT,
		                 "unlink sysv-mq://%s: no such queue (key "
		                 "0x%08x)",
		                 ep->name, (unsigned)key);
	if (id < 0 || msgctl(id, IPC_RMID, NULL) < 0)
		return ipcx__errno(errno, "unlink sysv-mq://%s", ep->name);
	return 0;
}

const struct ipcx__transport ipcx__tp_sysvmq = {
    .scheme = IPCX__S_SYSV_MQ,
    .try_first = true,
    .open = sv_open,
    .send = sv_send,
    .recv = sv_recv,
    .fd = sv_fd,
    .close = sv_close,
    .unlink = sv_unlink,
};
