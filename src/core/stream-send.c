/*
 * stream-send.c - sends one frame (or raw bytes) on a byte stream: header
 * and payload leave in one writev()/sendmsg() (docs/FORMAT.md section 1).
 *
 * A send that times out before its first byte has sent nothing; one that
 * times out halfway leaves the peer holding half a frame, so the stream is
 * marked broken and refuses further sends. Pipes get SIGPIPE blocked around
 * the write (sockets use MSG_NOSIGNAL).
 */
#include "stream.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include <time.h>

#define HDR IPCX__FRAME_HDR
/* Messages one writev takes at most: two iovecs each, within IOV_MAX. */
#define SENDV_MAX 256
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
 * Write v[0..cnt), total bytes, until all of it is in the kernel or the
 * deadline passes; *done counts what went. On a full kernel buffer poll()
 * for POLLOUT and go on with the rest. Returns 0, a positive errno of a
 * failed write, or IPCX_E* from poll (IPCX_ETIMEDOUT).
 */
static int st_push(struct ipcx__stream *st, struct iovec *v, int cnt,
                   size_t total, int64_t deadline, size_t *done)
{
	int r;

	*done = 0;
	while (*done < total) {
		ssize_t n;

		if (st->kind == IPCX__ST_SHARED) {
			/* Never write to a shared blocking fd without room. */
			r = ipcx__poll1(st->fd, POLLOUT, deadline);
			if (r < 0)
				return r;
		}
		n = ipcx__stream_writev(st, v, cnt, st->blk && deadline < 0);
		if (n >= 0) {
			*done += (size_t)n;
			if (*done == total)
				break;
			iov_advance(&v, &cnt, (size_t)n);
			if (st->kind == IPCX__ST_SHARED)
				continue;
			/* A short write on a nonblocking fd: it is full. */
		} else if (errno == EINTR) {
			continue;
		} else if (errno != EAGAIN) {
			return errno;
		}
		r = ipcx__poll1(st->fd, POLLOUT, deadline);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The sender's own limit, checked before anything is written. */
static int st_too_big(const struct ipcx__stream *st, size_t len)
{
	if (st->raw || (len <= st->maxmsg && len <= UINT32_MAX))
		return 0;
	return ipcx__err(IPCX_EMSGSIZE,
	                 "send %s: message of %zu bytes exceeds maxmsg %zu "
	                 "(raise ?maxmsg= on both ends)",
	                 st->name, len, st->maxmsg);
}

/*
 * A write of a batch stopped after done bytes with error r (a positive
 * errno, or IPCX_E*): count the messages of msgs[0..k) that went whole
 * into *whole, and return the error for the one that did not. A frame cut
 * by a timeout puts the stream out of step (marked broken).
 */
static int st_stopped(struct ipcx__stream *st, const struct iovec *msgs, int k,
                      size_t done, int r, int *whole)
{
	size_t hdr = st->raw ? 0 : HDR, at = 0;
	int i = 0;

	while (i < k && at + hdr + msgs[i].iov_len <= done)
		at += hdr + msgs[i++].iov_len;
	*whole = i;
	done -= at; /* bytes of message i that went */
	if (r == EPIPE || r == ECONNRESET)
		return ipcx__err(IPCX_EPEER,
		                 "send %s: peer gone (the receiving end was "
		                 "closed)",
		                 st->name);
	if (r > 0)
		return ipcx__errno(r, "send %s", st->name);
	if (r != IPCX_ETIMEDOUT)
		return r;
	if (done == 0)
		return ipcx__err(IPCX_ETIMEDOUT,
		                 "send %s: timed out, nothing sent%s (the "
		                 "receiver is not keeping up)",
		                 st->name, i ? " of the next message" : "");
	if (!st->raw) {
		st->broken = true;
		return ipcx__err(IPCX_ETIMEDOUT,
		                 "send %s: timed out after %zu of %zu bytes of "
		                 "a message; the stream is out of step now: "
		                 "close and reopen the channel",
		                 st->name, done, hdr + msgs[i].iov_len);
	}
	return ipcx__err(IPCX_ETIMEDOUT,
	                 "send %s: timed out after writing %zu of %zu bytes",
	                 st->name, done, msgs[i].iov_len);
}

/*
 * See stream.h. Blocks until the deadline. Each round takes up to
 * SENDV_MAX messages into one writev/sendmsg of header, payload, header,
 * payload... A short write (the kernel's buffer is full) waits for room
 * and goes on, so a frame is cut only if the deadline passes first. On a
 * pipe whose deadline has passed already (timeout 0) a round takes whole
 * frames of at most PIPE_BUF bytes (or one bigger frame): a nonblocking
 * pipe takes such a write whole or not at all, so polling a full pipe
 * never cuts a small message. (Doing that always would cost a write, and
 * a wake-up of the reader, per 4 KiB: half the throughput of 64-byte
 * batches here.) The caller keeps the buffers.
 */
int ipcx__stream_sendv(struct ipcx__stream *st, const struct iovec *msgs, int n,
                       int64_t deadline)
{
	uint8_t hdr[SENDV_MAX][HDR];
	struct iovec iov[SENDV_MAX * 2];
	struct sigpipe_guard g;
	bool is_pipe = st->kind == IPCX__ST_PIPE || st->kind == IPCX__ST_SHARED;
	bool guard = is_pipe && !st->sigpipe_ign;
	int sent = 0, r = 0;

	if (st->killed || st->fd < 0)
		return ipcx__stream_dead(st, "send");
	if (st->broken)
		return ipcx__err(IPCX_ESTATE,
		                 "send %s: an earlier send timed out halfway "
		                 "through a message, so the stream is out of "
		                 "step; close and reopen the channel",
		                 st->name);
	if (guard)
		sp_block(&g);
	while (sent < n && r == 0) {
		const struct iovec *m = msgs + sent;
		size_t total = 0, done;
		int k = 0, cnt = 0, whole;
		/* No time left to finish a frame a short write would cut
		 * (timeout 0, or late in a batch): write only what a pipe
		 * takes whole or not at all. */
		bool atomic = is_pipe && (st->kind == IPCX__ST_SHARED ||
		                          ipcx__expired(deadline));

		for (; sent + k < n && k < SENDV_MAX; k++) {
			size_t len = m[k].iov_len;
			size_t f = len + (st->raw ? 0 : HDR);

			if (atomic && k > 0 && total + f > PIPE_BUF)
				break;
			r = st_too_big(st, len);
			if (r < 0)
				break;
			if (!st->raw) {
				ipcx__frame_put(hdr[k], (uint32_t)len);
				iov[cnt].iov_base = hdr[k];
				iov[cnt++].iov_len = HDR;
			}
			if (len) {
				iov[cnt].iov_base = m[k].iov_base;
				iov[cnt++].iov_len = len;
			}
			total += f;
		}
		if (total == 0) { /* nothing to write: empty raw messages */
			sent += k;
			continue;
		}
		int w = st_push(st, iov, cnt, total, deadline, &done);
		if (w == 0) {
			sent += k;
			continue;
		}
		r = st_stopped(st, m, k, done, w, &whole);
		sent += whole;
	}
	if (guard)
		sp_restore(&g, r == IPCX_EPEER);
	return sent > 0 ? sent : r;
}

/* See stream.h: a batch of one. */
int ipcx__stream_send(struct ipcx__stream *st, const void *buf, size_t len,
                      int64_t deadline)
{
	struct iovec m = {.iov_base = (void *)buf, .iov_len = len};
	int r = ipcx__stream_sendv(st, &m, 1, deadline);

	return r < 0 ? r : 0;
}
