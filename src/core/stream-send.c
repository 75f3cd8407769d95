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
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define HDR IPCX__FRAME_HDR
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
	case IPCX__ST_MEM: /* receive only: nothing to write to */
		errno = EBADF;
		return -1;
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
	bool guard =
	    (st->kind == IPCX__ST_PIPE || st->kind == IPCX__ST_SHARED) &&
	    !st->sigpipe_ign;
	size_t total = 0, done = 0;
	int cnt = 0, r = 0, e = 0;

	if (st->killed || st->fd < 0)
		return ipcx__stream_dead(st, "send");
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
