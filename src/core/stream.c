/*
 * stream.c - turns a received byte stream into whole frames
 * (docs/FORMAT.md section 1), for pipe://, fifo://, unix:// and tcp://; it
 * also sets a stream up and tears it down. Sending is in stream-send.c,
 * the system calls of both (and the blocking fds) in stream-io.c.
 *
 * Each connection has a read buffer (IPCX__RBUF), so a burst of small
 * messages costs one read() for many of them. A frame larger than the
 * buffer is read straight into the caller's buffer instead (after the part
 * already buffered), so big messages are copied once. If a receive times
 * out in the middle of such a frame, the part read so far is moved into a
 * buffer grown to hold the whole frame, and the next receive goes on from
 * there: no byte is lost and no torn message is ever delivered.
 */
#include "stream.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define HDR IPCX__FRAME_HDR

/* See stream.h. Does not block; the read buffer comes with the first read. */
void ipcx__stream_init(struct ipcx__stream *st, int fd, enum ipcx__st_kind kind,
                       const struct ipcx__ep *ep, const char *name)
{
	memset(st, 0, sizeof(*st));
	st->fd = fd;
	st->kind = kind;
	st->raw = ep->raw;
	st->maxmsg = ep->maxmsg;
	st->bfd = -1;
	st->peer.pid = -1;
	st->peer.uid = (uid_t)-1;
	st->peer.gid = (gid_t)-1;
	st->name = name;
	/*
	 * Pipes cannot send with MSG_NOSIGNAL. If the process ignores
	 * SIGPIPE when the channel opens (the ipcx command's case, and any
	 * server's), a write to a gone reader just fails with EPIPE, so
	 * sends skip the two rt_sigprocmask calls that otherwise block it
	 * around each write. Read once: a process that restores the default
	 * disposition later must reopen its pipe channels (libipcx(3)).
	 */
	if (kind == IPCX__ST_PIPE || kind == IPCX__ST_SHARED) {
		struct sigaction sa;

		st->sigpipe_ign = sigaction(SIGPIPE, NULL, &sa) == 0 &&
		                  !(sa.sa_flags & SA_SIGINFO) &&
		                  sa.sa_handler == SIG_IGN;
	}
}

/* See stream.h. Closes the fd (if still open) and frees the buffer. */
void ipcx__stream_fini(struct ipcx__stream *st)
{
	if (st->fd >= 0)
		close(st->fd);
	if (st->bfd >= 0)
		close(st->bfd);
	st->fd = st->bfd = -1;
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

/* See stream.h. */
int ipcx__stream_dead(const struct ipcx__stream *st, const char *op)
{
	return ipcx__err(IPCX_ESTATE,
	                 "%s %s: the connection was closed after a bad frame; "
	                 "close and reopen the channel",
	                 op, st->name);
}

/* See stream.h. */
void ipcx__stream_feed(struct ipcx__stream *st, const void *bytes, size_t n,
                       bool end)
{
	st->mem = bytes;
	st->memlen = n;
	st->memend = end;
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
                           const struct ipcx__rdm *m)
{
	struct iovec iov = {.iov_base = buf, .iov_len = cap};
	ssize_t n;

	if (cap == 0)
		return 0;
	n = ipcx__stream_readv(st, &iov, 1, m);
	if (n > 0)
		return n;
	if (n == 0)
		return st_eof(st, false);
	return st_rderr(st, false);
}

/*
 * The direct half: read the rest of a frame larger than the read buffer
 * straight into the caller's buffer, and whatever follows into our (empty)
 * read buffer, in one readv. Returns the frame's length, IPCX_EAGAIN
 * (quietly; rx keeps the progress) or an error.
 */
static ssize_t st_step_direct(struct ipcx__stream *st, void *buf, ipcx_chan *ch,
                              struct rx *rx, const struct ipcx__rdm *m)
{
	size_t want = rx->len - rx->got;
	struct iovec iov[2] = {
	    {.iov_base = (uint8_t *)buf + rx->got, .iov_len = want},
	    {.iov_base = st->rbuf, .iov_len = st->rcap},
	};
	ssize_t n = ipcx__stream_readv(st, iov, 2, m);

	if (n < 0 && errno == EAGAIN)
		return IPCX_EAGAIN;
	if (n <= 0) {
		/* The peer is gone with the frame unfinished. */
		rx->direct = false;
		rx->got = 0;
		if (n == 0)
			return st_eof(st, true);
		return st_rderr(st, true);
	}
	if ((size_t)n < want) {
		/* A short read emptied the kernel's buffer: wait for more. */
		rx->got += (size_t)n;
		return IPCX_EAGAIN;
	}
	st->rpos = 0;
	st->rlen = (size_t)n - want;
	rx->direct = false;
	rx->got = 0;
	ch->has_pending = false;
	ch->pending = 0;
	return (ssize_t)rx->len;
}

/*
 * The header half: decide from what the read buffer holds. Returns a
 * frame's length (delivered into buf), an error, or IPCX_EAGAIN when more
 * bytes are needed: then either rx->direct is set (the frame can never fit
 * the read buffer; what we had of it is in buf already) or the buffer has
 * room at st->rbuf + st->rpos + st->rlen for the next read.
 */
static ssize_t st_step_header(struct ipcx__stream *st, void *buf, size_t cap,
                              ipcx_chan *ch, struct rx *rx)
{
	const uint8_t *h = st->rbuf + st->rpos;
	uint32_t len;

	if (st->rlen < HDR) {
		if (st->rpos + HDR > st->rcap)
			st_compact(st);
		return IPCX_EAGAIN;
	}
	if (ipcx__frame_get(h, st->maxmsg, &len) < 0) {
		/* Never read or allocate what it announces. */
		st_kill(st);
		return ipcx__err(IPCX_EMSGSIZE,
		                 "recv %s: a frame announces %u bytes, above "
		                 "this end's limit of %zu (raise it with "
		                 "?maxmsg=); the connection was closed",
		                 st->name, len, st->maxmsg);
	}
	if (len > cap) {
		ch->pending = len;
		ch->has_pending = true;
		return ipcx__err(IPCX_ENOBUFS,
		                 "recv %s: the next message is %u bytes, the "
		                 "buffer holds %zu (the message stays queued: "
		                 "receive again with a bigger buffer, or use "
		                 "ipcx_recv_alloc)",
		                 st->name, len, cap);
	}
	if (st->rlen - HDR >= len)
		return st_deliver(st, buf, len, ch);
	if (HDR + (size_t)len > st->rcap && st->rcap > IPCX__RBUF) {
		/* A kept partial frame: room as data comes. */
		st_compact(st);
		if (st->rlen == st->rcap && st_grow(st, HDR + (size_t)len) < 0)
			return IPCX_ENOMEM;
	} else if (HDR + (size_t)len > st->rcap) {
		/*
		 * The frame can never fit the read buffer: move what we have
		 * of it to the caller's buffer and read the rest straight
		 * there.
		 */
		size_t have = st->rlen - HDR;
		memcpy(buf, h + HDR, have);
		st->rpos = st->rlen = 0;
		rx->direct = true;
		rx->len = len;
		rx->got = have;
	} else if (st->rpos + HDR + (size_t)len > st->rcap) {
		st_compact(st);
	}
	return IPCX_EAGAIN;
}

/* A caller's buffer this big makes a receive try st_step_first. */
#define FIRST_MIN 4096

/*
 * Nothing is buffered, the last read emptied the kernel's buffer and the
 * caller's buffer is big: most likely one message is on its way (a
 * request, a reply). Read its header into the read buffer and what follows
 * straight into the caller's buffer, so a big message is not copied
 * again. At most IPCX__RBUF bytes go there, so whatever is not this
 * message fits the read buffer afterwards. Returns the frame's length, an
 * error, or IPCX_EAGAIN with the stream as the rest of st_step expects it:
 * the bytes read are where a read into the read buffer (or the direct
 * half) would have put them, or nowhere if the read brought none.
 */
static ssize_t st_step_first(struct ipcx__stream *st, void *buf, size_t cap,
                             ipcx_chan *ch, struct rx *rx,
                             const struct ipcx__rdm *m)
{
	size_t take = cap < IPCX__RBUF ? cap : IPCX__RBUF, got;
	struct iovec iov[2] = {{.iov_base = st->rbuf, .iov_len = HDR},
	                       {.iov_base = buf, .iov_len = take}};
	ssize_t n = ipcx__stream_readv(st, iov, 2, m);
	uint32_t len;

	st->rpos = 0;
	if (n == 0)
		return st_eof(st, false);
	if (n < 0)
		return st_rderr(st, false);
	if ((size_t)n <= HDR) {
		st->rlen = (size_t)n;
		return IPCX_EAGAIN;
	}
	got = (size_t)n - HDR;
	st->rlen = HDR;
	if (ipcx__frame_get(st->rbuf, st->maxmsg, &len) < 0)
		return IPCX_EAGAIN; /* st_step_header refuses it */
	if (len <= cap && len <= got) {
		/* The whole message: keep what follows it. */
		memcpy(st->rbuf, (uint8_t *)buf + len, got - len);
		st->rlen = got - len;
		/* A read that ended with the message most likely emptied the
		 * kernel's buffer, even if it filled the iovec exactly. */
		if (st->rlen == 0)
			st->drained = true;
		ch->has_pending = false;
		ch->pending = 0;
		return (ssize_t)len;
	}
	if (len > cap || HDR + (size_t)len <= st->rcap) {
		if (HDR + got <= st->rcap) {
			/* As if read into the read buffer. */
			memcpy(st->rbuf + HDR, buf, got);
			st->rlen = HDR + got;
			return IPCX_EAGAIN;
		}
	}
	/* Part of a frame bigger than the read buffer: the direct half
	 * goes on, or, too big for buf as well, the frame is kept (as a
	 * timed-out direct frame is) for st_step_header to say ENOBUFS. */
	st->rlen = 0;
	rx->direct = true;
	rx->len = len;
	rx->got = got;
	if (len <= cap)
		return IPCX_EAGAIN;
	return st_stash(st, buf, rx) < 0 ? IPCX_ENOMEM : IPCX_EAGAIN;
}

/*
 * One receive attempt. Returns a frame's length, IPCX_EAGAIN (quietly: the
 * next frame is not all there; rx holds the progress), or an error. m says
 * whether reads may wait (see struct ipcx__rdm): a blocking attempt reads until
 * the frame is whole and returns IPCX_EAGAIN only when a read ran out of
 * time or was interrupted.
 */
static ssize_t st_step(struct ipcx__stream *st, void *buf, size_t cap,
                       ipcx_chan *ch, struct rx *rx, struct ipcx__rdm m)
{
	/*
	 * A read that returned less than asked emptied the kernel's buffer:
	 * asking again now would only say EAGAIN, so save the system call
	 * and let the caller wait (unless the next read may wait itself).
	 */
	bool drained = false;
	struct iovec iov;
	ssize_t n;

	if (st->killed || (st->fd < 0 && st->kind != IPCX__ST_MEM))
		return ipcx__stream_dead(st, "recv");
	if (st->raw)
		return st_step_raw(st, buf, cap, &m);
	if (!st->rbuf && st_rbuf_alloc(st) < 0)
		return IPCX_ENOMEM;
	for (;;) {
		if (rx->direct) {
			size_t had = rx->got;

			if (drained && !m.block)
				return IPCX_EAGAIN;
			n = st_step_direct(st, buf, ch, rx, &m);
			if (n != IPCX_EAGAIN || !m.block || rx->got == had)
				return n;
			m.readable = false;
			continue;
		}
		n = st_step_header(st, buf, cap, ch, rx);
		if (n != IPCX_EAGAIN)
			return n;
		if (rx->direct)
			continue;
		if (drained && !m.block)
			return IPCX_EAGAIN;
		if (st->rlen == 0 && st->drained && cap >= FIRST_MIN &&
		    st->rcap == IPCX__RBUF) {
			n = st_step_first(st, buf, cap, ch, rx, &m);
			if (n != IPCX_EAGAIN || (st->rlen == 0 && !rx->direct))
				return n;
			m.readable = false;
			drained = st->drained;
			continue;
		}
		iov.iov_base = st->rbuf + st->rpos + st->rlen;
		iov.iov_len = st->rcap - st->rpos - st->rlen;
		n = ipcx__stream_readv(st, &iov, 1, &m);
		if (n > 0) {
			m.readable = false;
			st->rlen += (size_t)n;
			drained = (size_t)n < iov.iov_len;
			continue;
		}
		if (n == 0)
			return st_eof(st, st->rlen > 0);
		return st_rderr(st, st->rlen > 0);
	}
}

/*
 * See stream.h. Blocks until the deadline: on a blk stream that may block
 * (see `blk`) the reads themselves wait; otherwise read what is there, and
 * only when a frame is incomplete poll() for more. The caller owns buf; a
 * frame is copied there only whole (bytes past it may be overwritten).
 */
ssize_t ipcx__stream_recv(struct ipcx__stream *st, void *buf, size_t cap,
                          ipcx_chan *ch, int64_t deadline)
{
	struct rx rx = {0};
	struct ipcx__rdm m = {.deadline = deadline};
	/* The last read emptied the kernel's buffer and nothing is
	 * buffered: a read now would most likely just say EAGAIN, so wait
	 * for data first. Messages that come one at a time (a round trip)
	 * then cost poll + read, not read + poll + read; on a blk stream
	 * whose read may wait, one read. */
	bool wait_first;

	m.block = (st->blk && (deadline < 0 || st->kind == IPCX__ST_SOCK)) ||
	          (st->bfd >= 0 && deadline < 0 && st->live);
	wait_first = !m.block && st->drained && st->fd >= 0 && st->rlen == 0 &&
	             !(st->raw && cap == 0);
	for (;;) {
		ssize_t r = wait_first ? IPCX_EAGAIN
		                       : st_step(st, buf, cap, ch, &rx, m);
		int p;

		wait_first = false;
		m.block = false; /* from now on poll() waits */
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
		m.readable = true;
	}
}

/* See stream.h. Never blocks; a partial frame stays kept in the stream. */
ssize_t ipcx__stream_try(struct ipcx__stream *st, void *buf, size_t cap,
                         ipcx_chan *ch)
{
	struct rx rx = {0};
	struct ipcx__rdm m = {.readable = false, .block = false, .deadline = 0};
	ssize_t r = st_step(st, buf, cap, ch, &rx, m);

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
	len = ipcx__frame_len(st->rbuf + st->rpos);
	return len > st->maxmsg || len <= st->rlen - HDR;
}
