/*
 * stream.c - framed byte streams (docs/FORMAT.md section 1): the one place
 * that turns a byte stream into messages and back, for pipe://, fifo://,
 * unix:// and tcp://.
 *
 * Receive side: each connection has a read buffer (IPCX__RBUF), so a burst
 * of small messages costs one read() for many of them. A frame larger than
 * the buffer is read straight into the caller's buffer instead (after the
 * part already buffered), so big messages are copied once. If a receive
 * times out in the middle of such a frame, the part read so far is moved
 * into a buffer grown to hold the whole frame, and the next receive goes on
 * from there: no byte is lost and no torn message is ever delivered.
 *
 * Send side: header and payload leave in one writev()/sendmsg(). A send
 * that times out before its first byte has sent nothing; one that times out
 * halfway leaves the peer holding half a frame, so the stream is marked
 * broken and refuses further sends.
 *
 * On top: a "solo" (one stream as a channel, with a pollable fd that also
 * covers frames already buffered in user space) and a "fan-in" (a listening
 * socket whose channel receives from every accepted connection).
 */
#include "stream.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define HDR IPCX__FRAME_HDR

/* The announced length of the header at p, unchecked (for messages). */
static uint32_t hdr_len(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* See stream.h. Does not block; the read buffer comes with the first read. */
void ipcx__stream_init(struct ipcx__stream *st, int fd, enum ipcx__st_kind kind,
                       const struct ipcx__ep *ep, const char *name)
{
	memset(st, 0, sizeof(*st));
	st->fd = fd;
	st->kind = kind;
	st->raw = ep->raw;
	st->maxmsg = ep->maxmsg;
	st->peer.pid = -1;
	st->peer.uid = (uid_t)-1;
	st->peer.gid = (gid_t)-1;
	st->name = name;
}

/* See stream.h. Closes the fd (if still open) and frees the buffer. */
void ipcx__stream_fini(struct ipcx__stream *st)
{
	if (st->fd >= 0)
		close(st->fd);
	st->fd = -1;
	free(st->rbuf);
	st->rbuf = NULL;
	st->rcap = st->rpos = st->rlen = 0;
}

/*
 * Give up on the connection after a frame we cannot follow (oversized
 * header, no memory for a partial frame): whatever follows in the stream is
 * unframeable. The owner closes the fd (it may have to take it out of an
 * epoll set first); from now on every call fails with IPCX_ESTATE.
 */
static void st_kill(struct ipcx__stream *st)
{
	st->killed = true;
	st->rpos = st->rlen = 0;
	if (st->fd >= 0)
		shutdown(st->fd, SHUT_RDWR); /* sockets: tell the peer now */
}

static int st_dead(const struct ipcx__stream *st, const char *op)
{
	return ipcx__err(IPCX_ESTATE,
	                 "%s %s: the connection was closed after a bad frame; "
	                 "close and reopen the channel",
	                 op, st->name);
}

/*
 * Read into iov without blocking. Returns bytes read (> 0), 0 at end of
 * stream, or -1 with errno (EAGAIN: nothing there now). For a shared
 * blocking fd, `readable` says a poll() just reported POLLIN; otherwise we
 * ask poll() first, since a read() there could block.
 */
static ssize_t st_readv(struct ipcx__stream *st, struct iovec *iov, int cnt,
                        bool readable)
{
	ssize_t n;

	if (st->kind == IPCX__ST_SHARED && !readable) {
		struct pollfd p = {.fd = st->fd, .events = POLLIN};
		int r;
		do
			r = poll(&p, 1, 0);
		while (r < 0 && errno == EINTR);
		if (r < 0)
			return -1;
		if (r == 0) {
			errno = EAGAIN;
			return -1;
		}
	}
	do {
		if (st->kind == IPCX__ST_SHARED_SOCK) {
			struct msghdr m = {.msg_iov = iov,
			                   .msg_iovlen = (size_t)cnt};
			n = recvmsg(st->fd, &m, MSG_DONTWAIT);
		} else {
			n = readv(st->fd, iov, cnt);
		}
	} while (n < 0 && errno == EINTR);
	return n;
}

/* End of stream (or a reset). mid: inside a frame. Returns IPCX_EPEER. */
static ssize_t st_eof(struct ipcx__stream *st, bool mid)
{
	st->rpos = st->rlen = 0;
	if (!mid) {
		st->hup = true;
		return ipcx__err(IPCX_EPEER, "recv %s: peer closed", st->name);
	}
	return ipcx__err(IPCX_EPEER,
	                 "recv %s: peer died mid-message; partial message "
	                 "discarded",
	                 st->name);
}

/* A failed read: EAGAIN, a reset (treated as end of stream), or an error. */
static ssize_t st_rderr(struct ipcx__stream *st, bool mid)
{
	if (errno == EAGAIN)
		return IPCX_EAGAIN;
	if (errno == ECONNRESET)
		return st_eof(st, mid);
	return ipcx__errno(errno, "recv %s", st->name);
}

static int st_rbuf_alloc(struct ipcx__stream *st)
{
	st->rbuf = malloc(IPCX__RBUF);
	if (!st->rbuf)
		return ipcx__err(IPCX_ENOMEM, "recv %s: out of memory",
		                 st->name);
	st->rcap = IPCX__RBUF;
	st->rpos = st->rlen = 0;
	return 0;
}

/* Move the buffered bytes to the start of the buffer. */
static void st_compact(struct ipcx__stream *st)
{
	if (st->rpos == 0)
		return;
	memmove(st->rbuf, st->rbuf + st->rpos, st->rlen);
	st->rpos = 0;
}

/*
 * After delivering a frame from a buffer that was grown for it, go back to
 * the normal size so a single huge message does not pin memory forever.
 * If that allocation fails we simply keep the big buffer.
 */
static void st_shrink(struct ipcx__stream *st)
{
	uint8_t *nb;

	if (st->rcap <= IPCX__RBUF || st->rlen > IPCX__RBUF)
		return;
	nb = malloc(IPCX__RBUF);
	if (!nb)
		return;
	memcpy(nb, st->rbuf + st->rpos, st->rlen);
	free(st->rbuf);
	st->rbuf = nb;
	st->rcap = IPCX__RBUF;
	st->rpos = 0;
}

/* Hand the buffered frame of len bytes to the caller. */
static ssize_t st_deliver(struct ipcx__stream *st, void *buf, uint32_t len,
                          ipcx_chan *ch)
{
	if (len)
		memcpy(buf, st->rbuf + st->rpos + HDR, len);
	st->rpos += HDR + (size_t)len;
	st->rlen -= HDR + (size_t)len;
	if (st->rlen == 0)
		st->rpos = 0;
	st_shrink(st);
	ch->has_pending = false;
	ch->pending = 0;
	return (ssize_t)len;
}

/*
 * Progress of one receive whose payload goes straight into the caller's
 * buffer (a frame larger than the read buffer).
 */
struct rx {
	bool direct;
	uint32_t len; /* the frame's payload length */
	size_t got;   /* payload bytes already in the caller's buffer */
};

/*
 * A receive gives up waiting (timeout, or the fan-in moves on) while a
 * direct frame is half read: put its header and the bytes read so far into
 * a read buffer larger than the normal one, so the next receive continues
 * with whatever buffer it brings. The buffer is sized by the bytes that
 * actually arrived (and grows as more do, see st_grow), not by what the
 * header announces: a sender that announces 16 MiB and stalls costs little.
 */
static int st_stash(struct ipcx__stream *st, const void *buf, struct rx *rx)
{
	size_t frame, cap;
	uint8_t *nb;

	if (!rx->direct)
		return 0;
	rx->direct = false;
	frame = HDR + (size_t)rx->len;
	cap = 2 * (HDR + rx->got);
	if (cap < 2 * (size_t)IPCX__RBUF)
		cap = 2 * (size_t)IPCX__RBUF;
	if (cap > frame)
		cap = frame;
	nb = malloc(cap);
	if (!nb) {
		st_kill(st);
		return ipcx__err(IPCX_ENOMEM,
		                 "recv %s: out of memory keeping a partial "
		                 "%u-byte message; the connection was closed",
		                 st->name, rx->len);
	}
	ipcx__frame_put(nb, rx->len);
	if (rx->got)
		memcpy(nb + HDR, buf, rx->got);
	free(st->rbuf);
	st->rbuf = nb;
	st->rcap = cap;
	st->rpos = 0;
	st->rlen = HDR + rx->got;
	rx->got = 0;
	return 0;
}

/*
 * The buffer holds a kept partial frame (see st_stash) and is full: double
 * it, up to the frame's size. Doubling keeps the copying linear.
 */
static int st_grow(struct ipcx__stream *st, size_t frame)
{
	size_t cap = 2 * st->rcap;
	uint8_t *nb;

	if (cap > frame)
		cap = frame;
	nb = realloc(st->rbuf, cap);
	if (!nb) {
		st_kill(st);
		return ipcx__err(IPCX_ENOMEM,
		                 "recv %s: out of memory for a %zu-byte "
		                 "message; the connection was closed",
		                 st->name, frame - HDR);
	}
	st->rbuf = nb;
	st->rcap = cap;
	return 0;
}

/* Raw mode: whatever bytes are there, at most cap. */
static ssize_t st_step_raw(struct ipcx__stream *st, void *buf, size_t cap,
                           bool readable)
{
	struct iovec iov = {.iov_base = buf, .iov_len = cap};
	ssize_t n;

	if (cap == 0)
		return 0;
	n = st_readv(st, &iov, 1, readable);
	if (n > 0)
		return n;
	if (n == 0)
		return st_eof(st, false);
	return st_rderr(st, false);
}

/*
 * One receive attempt without waiting. Returns a frame's length, IPCX_EAGAIN
 * (quietly: the next frame is not all there; rx holds the progress), or an
 * error. `readable`: a poll() just said the fd is readable.
 */
static ssize_t st_step(struct ipcx__stream *st, void *buf, size_t cap,
                       ipcx_chan *ch, struct rx *rx, bool readable)
{
	struct iovec iov[2];
	bool drained = false;
	uint32_t len;
	ssize_t n;

	if (st->killed || st->fd < 0)
		return st_dead(st, "recv");
	if (st->raw)
		return st_step_raw(st, buf, cap, readable);
	if (!st->rbuf && st_rbuf_alloc(st) < 0)
		return IPCX_ENOMEM;
	for (;;) {
		if (rx->direct) {
			size_t want = rx->len - rx->got;
			if (drained)
				return IPCX_EAGAIN;
			/* The rest of this frame into the caller's buffer,
			 * and whatever follows into our (empty) buffer. */
			iov[0].iov_base = (uint8_t *)buf + rx->got;
			iov[0].iov_len = want;
			iov[1].iov_base = st->rbuf;
			iov[1].iov_len = st->rcap;
			n = st_readv(st, iov, 2, readable);
			if (n < 0 && errno == EAGAIN)
				return IPCX_EAGAIN; /* rx keeps the progress */
			if (n <= 0) {
				/* The peer is gone with the frame unfinished.
				 */
				rx->direct = false;
				rx->got = 0;
				if (n == 0)
					return st_eof(st, true);
				return st_rderr(st, true);
			}
			readable = false;
			if ((size_t)n < want) {
				rx->got += (size_t)n;
				drained = true;
				continue;
			}
			st->rpos = 0;
			st->rlen = (size_t)n - want;
			rx->direct = false;
			rx->got = 0;
			ch->has_pending = false;
			ch->pending = 0;
			return (ssize_t)rx->len;
		}
		if (st->rlen >= HDR) {
			const uint8_t *h = st->rbuf + st->rpos;
			if (ipcx__frame_get(h, st->maxmsg, &len) < 0) {
				/* Never read or allocate what it announces. */
				uint32_t big = hdr_len(h);
				st_kill(st);
				return ipcx__err(
				    IPCX_EMSGSIZE,
				    "recv %s: a frame announces %u bytes, "
				    "above "
				    "this end's limit of %zu (raise it with "
				    "?maxmsg=); the connection was closed",
				    st->name, big, st->maxmsg);
			}
			if (len > cap) {
				ch->pending = len;
				ch->has_pending = true;
				return ipcx__err(IPCX_ENOBUFS,
				                 "recv %s: the next message is "
				                 "%u bytes, the "
				                 "buffer holds %zu (the "
				                 "message stays queued: "
				                 "receive again with a bigger "
				                 "buffer, or use "
				                 "ipcx_recv_alloc)",
				                 st->name, len, cap);
			}
			if (st->rlen - HDR >= len)
				return st_deliver(st, buf, len, ch);
			if (HDR + (size_t)len > st->rcap &&
			    st->rcap > IPCX__RBUF) {
				/* A kept partial frame: room as data comes. */
				st_compact(st);
				if (st->rlen == st->rcap &&
				    st_grow(st, HDR + (size_t)len) < 0)
					return IPCX_ENOMEM;
			} else if (HDR + (size_t)len > st->rcap) {
				/*
				 * The frame can never fit the read buffer: move
				 * what we have of it to the caller's buffer and
				 * read the rest straight there.
				 */
				size_t have = st->rlen - HDR;
				memcpy(buf, h + HDR, have);
				st->rpos = st->rlen = 0;
				rx->direct = true;
				rx->len = len;
				rx->got = have;
				continue;
			}
			if (st->rpos + HDR + (size_t)len > st->rcap)
				st_compact(st);
		} else if (st->rpos + HDR > st->rcap) {
			st_compact(st);
		}
		/*
		 * A read that returned less than asked emptied the kernel's
		 * buffer: asking again now would only say EAGAIN, so save the
		 * system call and let the caller wait.
		 */
		if (drained)
			return IPCX_EAGAIN;
		iov[0].iov_base = st->rbuf + st->rpos + st->rlen;
		iov[0].iov_len = st->rcap - st->rpos - st->rlen;
		n = st_readv(st, iov, 1, readable);
		if (n > 0) {
			readable = false;
			st->rlen += (size_t)n;
			drained = (size_t)n < iov[0].iov_len;
			continue;
		}
		if (n == 0)
			return st_eof(st, st->rlen > 0);
		return st_rderr(st, st->rlen > 0);
	}
}

/*
 * See stream.h. Blocks until the deadline: read what is there, and only
 * when a frame is incomplete poll() for more. The caller owns buf; a frame
 * is copied there only whole.
 */
ssize_t ipcx__stream_recv(struct ipcx__stream *st, void *buf, size_t cap,
                          ipcx_chan *ch, int64_t deadline)
{
	struct rx rx = {0};
	bool readable = false;

	for (;;) {
		ssize_t r = st_step(st, buf, cap, ch, &rx, readable);
		int p;

		if (r != IPCX_EAGAIN)
			return r;
		p = ipcx__poll1(st->fd, POLLIN, deadline);
		if (p < 0) {
			int s = st_stash(st, buf, &rx);
			if (s < 0)
				return s;
			if (p != IPCX_ETIMEDOUT)
				return p;
			if (st->rlen)
				return ipcx__err(IPCX_ETIMEDOUT,
				                 "recv %s: timed out with a "
				                 "message partly received (it "
				                 "is kept: receive again)",
				                 st->name);
			return ipcx__err(IPCX_ETIMEDOUT,
			                 "recv %s: timed out (no message "
			                 "arrived)",
			                 st->name);
		}
		/* POLLIN, POLLHUP or POLLERR: the next read will not block
		 * and tells which. */
		readable = true;
	}
}

/* See stream.h. Never blocks; a partial frame stays kept in the stream. */
ssize_t ipcx__stream_try(struct ipcx__stream *st, void *buf, size_t cap,
                         ipcx_chan *ch)
{
	struct rx rx = {0};
	ssize_t r = st_step(st, buf, cap, ch, &rx, false);

	if (r == IPCX_EAGAIN) {
		int s = st_stash(st, buf, &rx);
		if (s < 0)
			return s;
	}
	return r;
}

/* See stream.h. Never blocks, reads nothing. */
bool ipcx__stream_ready(const struct ipcx__stream *st)
{
	uint32_t len;

	if (st->killed)
		return true;
	if (st->raw || st->rlen < HDR)
		return false;
	len = hdr_len(st->rbuf + st->rpos);
	return len > st->maxmsg || len <= st->rlen - HDR;
}

/* ---- send ---- */

/*
 * Writing to a pipe whose reader is gone raises SIGPIPE, which kills the
 * process by default. Sockets avoid it with MSG_NOSIGNAL; pipes cannot, so
 * we block SIGPIPE in this thread around the write. If the write then
 * fails with EPIPE, the signal is pending for this thread: we consume it
 * with sigtimedwait, unless one was already pending before (that one is the
 * application's, not ours), and then restore the mask.
 */
struct sigpipe_guard {
	sigset_t old;
	bool was_pending;
};

static void sp_block(struct sigpipe_guard *g)
{
	sigset_t set, pend;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, &g->old);
	g->was_pending = false;
	/*
	 * Only a thread that had SIGPIPE blocked can have one pending: an
	 * unblocked one would have been delivered already. So the common
	 * case skips the sigpending() call (a third of the guard's cost).
	 */
	if (sigismember(&g->old, SIGPIPE) == 1) {
		sigemptyset(&pend);
		sigpending(&pend);
		g->was_pending = sigismember(&pend, SIGPIPE) == 1;
	}
}

static void sp_restore(struct sigpipe_guard *g, bool epipe)
{
	if (epipe && !g->was_pending) {
		sigset_t set;
		struct timespec zero = {0, 0};
		sigemptyset(&set);
		sigaddset(&set, SIGPIPE);
		while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

/* Skip n written bytes in the iovec array. */
static void iov_advance(struct iovec **v, int *cnt, size_t n)
{
	while (n > 0 && *cnt > 0) {
		if (n >= (*v)->iov_len) {
			n -= (*v)->iov_len;
			(*v)++;
			(*cnt)--;
		} else {
			(*v)->iov_base = (uint8_t *)(*v)->iov_base + n;
			(*v)->iov_len -= n;
			n = 0;
		}
	}
}

/*
 * One write attempt. A shared blocking fd gets at most PIPE_BUF bytes, which
 * a pipe that just polled writable takes without blocking.
 */
static ssize_t st_writev(struct ipcx__stream *st, struct iovec *v, int cnt)
{
	struct msghdr m = {.msg_iov = v, .msg_iovlen = (size_t)cnt};
	struct iovec cut[2];
	size_t room = PIPE_BUF;
	int k;

	switch (st->kind) {
	case IPCX__ST_SOCK:
		return sendmsg(st->fd, &m, MSG_NOSIGNAL);
	case IPCX__ST_SHARED_SOCK:
		return sendmsg(st->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
	case IPCX__ST_PIPE:
		return writev(st->fd, v, cnt);
	case IPCX__ST_SHARED:
		break;
	}
	for (k = 0; k < cnt && k < 2 && room > 0; k++) {
		cut[k] = v[k];
		if (cut[k].iov_len > room)
			cut[k].iov_len = room;
		room -= cut[k].iov_len;
	}
	return writev(st->fd, cut, k);
}

/*
 * See stream.h. Blocks until the deadline. Header and payload go out in one
 * writev/sendmsg; on a full kernel buffer we poll() for POLLOUT and go on
 * with the rest. The caller keeps buf.
 */
int ipcx__stream_send(struct ipcx__stream *st, const void *buf, size_t len,
                      int64_t deadline)
{
	uint8_t hdr[HDR];
	struct iovec iov[2], *v = iov;
	struct sigpipe_guard g;
	bool guard = st->kind == IPCX__ST_PIPE || st->kind == IPCX__ST_SHARED;
	size_t total = 0, done = 0;
	int cnt = 0, r = 0, e = 0;

	if (st->killed || st->fd < 0)
		return st_dead(st, "send");
	if (st->broken)
		return ipcx__err(IPCX_ESTATE,
		                 "send %s: an earlier send timed out halfway "
		                 "through a message, so the stream is out of "
		                 "step; close and reopen the channel",
		                 st->name);
	if (!st->raw) {
		if (len > st->maxmsg || len > UINT32_MAX)
			return ipcx__err(
			    IPCX_EMSGSIZE,
			    "send %s: message of %zu bytes exceeds "
			    "maxmsg %zu (raise ?maxmsg= on both "
			    "ends)",
			    st->name, len, st->maxmsg);
		ipcx__frame_put(hdr, (uint32_t)len);
		iov[cnt].iov_base = hdr;
		iov[cnt++].iov_len = HDR;
		total = HDR;
	} else if (len == 0) {
		return 0;
	}
	if (len) {
		iov[cnt].iov_base = (void *)buf;
		iov[cnt++].iov_len = len;
		total += len;
	}

	if (guard)
		sp_block(&g);
	for (;;) {
		ssize_t n;

		if (st->kind == IPCX__ST_SHARED) {
			/* Never write to a shared blocking fd without room. */
			r = ipcx__poll1(st->fd, POLLOUT, deadline);
			if (r < 0)
				break;
			r = 0;
		}
		n = st_writev(st, v, cnt);
		if (n >= 0) {
			done += (size_t)n;
			if (done == total)
				break;
			iov_advance(&v, &cnt, (size_t)n);
			if (st->kind == IPCX__ST_SHARED)
				continue;
			/* A short write on a nonblocking fd: it is full. */
		} else if (errno == EINTR) {
			continue;
		} else if (errno != EAGAIN) {
			e = errno;
			break;
		}
		r = ipcx__poll1(st->fd, POLLOUT, deadline);
		if (r < 0)
			break;
		r = 0;
	}
	if (guard)
		sp_restore(&g, e == EPIPE);

	if (e == EPIPE || e == ECONNRESET)
		return ipcx__err(IPCX_EPEER,
		                 "send %s: peer gone (the receiving end was "
		                 "closed)",
		                 st->name);
	if (e)
		return ipcx__errno(e, "send %s", st->name);
	if (r == IPCX_ETIMEDOUT) {
		if (done == 0)
			return ipcx__err(
			    IPCX_ETIMEDOUT,
			    "send %s: timed out, nothing sent (the "
			    "receiver is not keeping up)",
			    st->name);
		if (!st->raw) {
			st->broken = true;
			return ipcx__err(
			    IPCX_ETIMEDOUT,
			    "send %s: timed out after %zu of %zu "
			    "bytes of a message; the stream is out "
			    "of step now: close and reopen the "
			    "channel",
			    st->name, done, total);
		}
		return ipcx__err(IPCX_ETIMEDOUT,
		                 "send %s: timed out after writing %zu of %zu "
		                 "bytes",
		                 st->name, done, total);
	}
	return r;
}

/* ---- pollset: an epoll fd plus an eventfd for buffered frames ---- */

static void ps_reset(struct ipcx__pollset *ps)
{
	ps->epfd = -1;
	ps->evfd = -1;
	ps->armed = false;
}

static void ps_close(struct ipcx__pollset *ps)
{
	if (ps->evfd >= 0)
		close(ps->evfd);
	if (ps->epfd >= 0)
		close(ps->epfd);
	ps_reset(ps);
}

static int ps_add(struct ipcx__pollset *ps, int fd, void *tag, const char *name)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = tag};

	if (epoll_ctl(ps->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return ipcx__errno(errno, "%s: epoll_ctl", name);
	return 0;
}

static void ps_del(struct ipcx__pollset *ps, int fd)
{
	if (ps->epfd >= 0 && fd >= 0)
		epoll_ctl(ps->epfd, EPOLL_CTL_DEL, fd, NULL);
}

/* Create the epoll fd, and with want_ev the eventfd in it. */
static int ps_open(struct ipcx__pollset *ps, bool want_ev, void *evtag,
                   const char *name)
{
	if (ps->epfd < 0) {
		ps->epfd = epoll_create1(EPOLL_CLOEXEC);
		if (ps->epfd < 0)
			return ipcx__errno(errno, "%s: epoll_create1", name);
	}
	if (want_ev && ps->evfd < 0) {
		int r;
		ps->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (ps->evfd < 0)
			return ipcx__errno(errno, "%s: eventfd", name);
		r = ps_add(ps, ps->evfd, evtag, name);
		if (r < 0) {
			close(ps->evfd);
			ps->evfd = -1;
			return r;
		}
		ps->armed = false;
	}
	return 0;
}

/*
 * Keep the eventfd readable exactly while a whole frame waits in a read
 * buffer, where poll() on the real fd cannot see it. Costs a system call
 * only when that changes, and nothing until someone asked for the fd.
 */
static void ps_arm(struct ipcx__pollset *ps, bool on)
{
	uint64_t v = 1;

	if (ps->evfd < 0 || ps->armed == on)
		return;
	if (on) {
		if (write(ps->evfd, &v, sizeof(v)) < 0)
			return;
	} else {
		if (read(ps->evfd, &v, sizeof(v)) < 0)
			return;
	}
	ps->armed = on;
}

/* ---- solo: one stream as a channel ---- */

/* See stream.h. Does not block. */
void ipcx__solo_init(struct ipcx__solo *so, int fd, enum ipcx__st_kind kind,
                     const struct ipcx__ep *ep, const char *name)
{
	ipcx__stream_init(&so->st, fd, kind, ep, name);
	ps_reset(&so->ps);
}

/* See stream.h. Closes the pollset, then the stream. */
void ipcx__solo_fini(struct ipcx__solo *so)
{
	ps_close(&so->ps);
	ipcx__stream_fini(&so->st);
}

/* The connection was given up: close it now, as FORMAT.md promises. */
static void solo_reap(struct ipcx__solo *so)
{
	if (so->st.killed && so->st.fd >= 0) {
		ps_del(&so->ps, so->st.fd);
		close(so->st.fd);
		so->st.fd = -1;
	}
}

/* See stream.h. Blocks until the deadline. */
ssize_t ipcx__solo_recv(struct ipcx__solo *so, void *buf, size_t cap,
                        ipcx_chan *ch, int64_t deadline)
{
	ssize_t r = ipcx__stream_recv(&so->st, buf, cap, ch, deadline);

	if (r >= 0)
		ch->peer = so->st.peer;
	solo_reap(so);
	ps_arm(&so->ps, ipcx__stream_ready(&so->st));
	return r;
}

/* See stream.h. Does not block; the epoll fd is owned by so. */
int ipcx__solo_fd(struct ipcx__solo *so)
{
	int r;

	if (so->ps.epfd >= 0)
		return so->ps.epfd;
	r = ps_open(&so->ps, true, NULL, so->st.name);
	if (r == 0 && so->st.fd >= 0)
		r = ps_add(&so->ps, so->st.fd, NULL, so->st.name);
	if (r < 0) {
		ps_close(&so->ps);
		return r;
	}
	ps_arm(&so->ps, ipcx__stream_ready(&so->st));
	return so->ps.epfd;
}

/* See stream.h. Does not block; takes ownership of newfd. */
void ipcx__solo_swap_fd(struct ipcx__solo *so, int newfd)
{
	ps_del(&so->ps, so->st.fd);
	if (so->st.fd >= 0)
		close(so->st.fd);
	so->st.fd = newfd;
	so->st.hup = false;
	/* If this fails the pollable fd misses this FIFO's wake-ups; there
	 * is nothing better to do than carry on (receives still work). */
	if (so->ps.epfd >= 0)
		(void)ps_add(&so->ps, newfd, NULL, so->st.name);
}

/* ---- fan-in: a listening socket and its connections ---- */

/* epoll tags for the two fds that are not connections. */
static char fan_tag_listen, fan_tag_ev;

/* See stream.h. Does not block; takes ownership of lfd. */
int ipcx__fanin_init(struct ipcx__fanin *f, int lfd, const struct ipcx__ep *ep,
                     const char *name, ipcx__admit_fn admit)
{
	int r;

	memset(f, 0, sizeof(*f));
	f->lfd = lfd;
	ps_reset(&f->ps);
	f->ep = ep;
	f->name = name;
	f->admit = admit;
	r = ps_open(&f->ps, false, NULL, name);
	if (r < 0)
		return r;
	return ps_add(&f->ps, lfd, &fan_tag_listen, name);
}

/* See stream.h. Closes every connection, the pollset and the listener. */
void ipcx__fanin_fini(struct ipcx__fanin *f)
{
	for (size_t i = 0; i < f->nconn; i++) {
		ipcx__stream_fini(f->conn[i]);
		free(f->conn[i]);
	}
	free(f->conn);
	f->conn = NULL;
	f->nconn = f->capconn = 0;
	f->last = f->pend = NULL;
	ps_close(&f->ps);
	if (f->lfd >= 0)
		close(f->lfd);
	f->lfd = -1;
}

/* Forget connection c: out of the epoll set, closed, freed. */
static void fan_drop(struct ipcx__fanin *f, struct ipcx__stream *c)
{
	size_t i;

	for (i = 0; i < f->nconn && f->conn[i] != c; i++)
		;
	if (i == f->nconn)
		return;
	if (f->last == c)
		f->last = NULL;
	if (f->pend == c)
		f->pend = NULL;
	ps_del(&f->ps, c->fd);
	ipcx__stream_fini(c);
	free(c);
	f->conn[i] = f->conn[--f->nconn];
	if (f->rr >= f->nconn)
		f->rr = 0;
}

/* Accept every waiting connection. Returns 0 or IPCX_E*. */
static int fan_accept(struct ipcx__fanin *f)
{
	for (;;) {
		struct ipcx__stream *c;
		int fd, r;

		fd = accept4(f->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EAGAIN)
				return 0;
			return ipcx__errno(errno, "accept on %s", f->name);
		}
		if (f->nconn == f->capconn) {
			size_t n = f->capconn ? 2 * f->capconn : 8;
			void *p = realloc(f->conn, n * sizeof(*f->conn));
			if (!p) {
				close(fd);
				return ipcx__err(IPCX_ENOMEM,
				                 "accept on %s: out of memory",
				                 f->name);
			}
			f->conn = p;
			f->capconn = n;
		}
		c = malloc(sizeof(*c));
		if (!c) {
			close(fd);
			return ipcx__err(IPCX_ENOMEM,
			                 "accept on %s: out of memory",
			                 f->name);
		}
		ipcx__stream_init(c, fd, IPCX__ST_SOCK, f->ep, f->name);
		if (f->admit && f->admit(f, c) < 0) {
			/* Refused (credentials): close it, keep listening. */
			ipcx__stream_fini(c);
			free(c);
			continue;
		}
		r = ps_add(&f->ps, fd, c, f->name);
		if (r < 0) {
			ipcx__stream_fini(c);
			free(c);
			return r;
		}
		f->conn[f->nconn++] = c;
	}
}

/* Keep the eventfd in step with the frames buffered in any connection. */
static void fan_arm(struct ipcx__fanin *f)
{
	bool any = false;

	if (f->ps.evfd < 0)
		return;
	for (size_t i = 0; i < f->nconn && !any; i++)
		any = ipcx__stream_ready(f->conn[i]);
	ps_arm(&f->ps, any);
}

/*
 * What a receive attempt on connection c means for the fan-in. Returns the
 * result to hand to the caller, or IPCX_EAGAIN to keep looking. A clean
 * close at a frame boundary is no news: the listener waits for the other
 * and for new senders. Anything else that ends the connection (death mid-
 * message, an oversized header, a read error) is reported once.
 */
static ssize_t fan_result(struct ipcx__fanin *f, struct ipcx__stream *c,
                          ssize_t r, ipcx_chan *ch)
{
	bool quiet;

	if (r >= 0) {
		f->last = c;
		f->had_last = true;
		if (f->pend == c)
			f->pend = NULL;
		ch->peer = c->peer;
		return r;
	}
	if (r == IPCX_ENOBUFS) {
		f->pend = c;
		return r;
	}
	if (r == IPCX_EAGAIN || r == IPCX_ETIMEDOUT)
		return r;
	quiet = c->hup && !c->killed;
	fan_drop(f, c);
	return quiet ? IPCX_EAGAIN : r;
}

/* A connection with a whole frame buffered, round-robin, or NULL. */
static struct ipcx__stream *fan_buffered(struct ipcx__fanin *f)
{
	for (size_t k = 0; k < f->nconn; k++) {
		size_t i = (f->rr + k) % f->nconn;
		if (ipcx__stream_ready(f->conn[i])) {
			f->rr = (i + 1) % f->nconn;
			return f->conn[i];
		}
	}
	return NULL;
}

/*
 * See stream.h. Blocks until the deadline. Order of service: a message
 * refused with ENOBUFS first, then frames already buffered (round robin),
 * then whatever epoll reports (new connections are accepted on the way).
 */
ssize_t ipcx__fanin_recv(struct ipcx__fanin *f, void *buf, size_t cap,
                         ipcx_chan *ch, int64_t deadline)
{
	struct epoll_event ev[16];
	struct ipcx__stream *c;
	ssize_t r;

	for (;;) {
		int n;

		/*
		 * A message refused for its size comes first, so the retry
		 * with a bigger buffer gets exactly it: wait on that
		 * connection alone (its header is here, the rest is on its
		 * way or the sender died).
		 */
		if (f->pend) {
			c = f->pend;
			r = fan_result(
			    f, c, ipcx__stream_recv(c, buf, cap, ch, deadline),
			    ch);
			if (r != IPCX_EAGAIN)
				goto out;
			continue;
		}
		while ((c = fan_buffered(f)) != NULL) {
			r = fan_result(f, c, ipcx__stream_try(c, buf, cap, ch),
			               ch);
			if (r != IPCX_EAGAIN)
				goto out;
		}
		n = epoll_wait(f->ps.epfd, ev, 16,
		               ipcx__remaining_ms(deadline));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return ipcx__errno(errno, "recv %s: epoll_wait",
			                   f->name);
		}
		for (int i = 0; i < n; i++) {
			void *tag = ev[i].data.ptr;
			if (tag == &fan_tag_ev)
				continue;
			if (tag == &fan_tag_listen) {
				r = fan_accept(f);
				if (r < 0)
					goto out;
				continue;
			}
			c = tag;
			r = fan_result(f, c, ipcx__stream_try(c, buf, cap, ch),
			               ch);
			if (r != IPCX_EAGAIN)
				goto out;
		}
		if (ipcx__expired(deadline))
			return ipcx__err(IPCX_ETIMEDOUT,
			                 "recv %s: timed out (no message from "
			                 "any sender)",
			                 f->name);
	}
out:
	fan_arm(f);
	return r;
}

/* See stream.h. Blocks until the deadline; the caller keeps buf. */
int ipcx__fanin_send(struct ipcx__fanin *f, const void *buf, size_t len,
                     int64_t deadline)
{
	if (!f->last) {
		if (f->had_last)
			return ipcx__err(IPCX_EPEER,
			                 "send %s: the sender of the last "
			                 "message is gone",
			                 f->name);
		return ipcx__err(IPCX_ESTATE,
		                 "send %s: a listener only replies: receive "
		                 "a message first, then send answers its "
		                 "sender",
		                 f->name);
	}
	return ipcx__stream_send(f->last, buf, len, deadline);
}

/* See stream.h. Does not block; the epoll fd is owned by f. */
int ipcx__fanin_fd(struct ipcx__fanin *f)
{
	int r = ps_open(&f->ps, true, &fan_tag_ev, f->name);

	if (r < 0)
		return r;
	fan_arm(f);
	return f->ps.epfd;
}

/* ---- socket channels ---- */

/* See stream.h. Does not block. */
void ipcx__sock_reset(struct ipcx__sock *s)
{
	memset(s, 0, sizeof(*s));
	s->fan.lfd = -1;
	ps_reset(&s->fan.ps);
	s->solo.st.fd = -1;
	ps_reset(&s->solo.ps);
}

/* See stream.h: the listener replies, a dialer sends. Blocks. */
int ipcx__sock_send(ipcx_chan *ch, const void *buf, size_t len,
                    int64_t deadline)
{
	struct ipcx__sock *s = ch->priv;

	if (s->listening)
		return ipcx__fanin_send(&s->fan, buf, len, deadline);
	return ipcx__stream_send(&s->solo.st, buf, len, deadline);
}

/* See stream.h. Blocks until the deadline. */
ssize_t ipcx__sock_recv(ipcx_chan *ch, void *buf, size_t cap, int64_t deadline)
{
	struct ipcx__sock *s = ch->priv;

	if (s->listening)
		return ipcx__fanin_recv(&s->fan, buf, cap, ch, deadline);
	return ipcx__solo_recv(&s->solo, buf, cap, ch, deadline);
}

/* See stream.h. Does not block. */
int ipcx__sock_fd(ipcx_chan *ch)
{
	struct ipcx__sock *s = ch->priv;

	if (s->listening)
		return ipcx__fanin_fd(&s->fan);
	return ipcx__solo_fd(&s->solo);
}

/* See stream.h. Both halves accept their reset state. */
void ipcx__sock_fini(struct ipcx__sock *s)
{
	ipcx__fanin_fini(&s->fan);
	ipcx__solo_fini(&s->solo);
}
