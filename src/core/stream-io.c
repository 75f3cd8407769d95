/*
 * stream-io.c - how a byte stream talks to its fd: the system calls of
 * reading and writing for each kind of stream (stream.h, enum
 * ipcx__st_kind), the blocking fds (`blk`: MSG_DONTWAIT, RWF_NOWAIT and
 * SO_RCVTIMEO), a FIFO's blocking twin, and a pipe's buffer size. The
 * frame codec above it is in stream.c (receiving) and stream-send.c.
 */
#include "stream.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

/* See stream.h. */
void ipcx__pipe_grow(int fd)
{
	int cur = fcntl(fd, F_GETPIPE_SZ);

	if (cur >= 0 && (unsigned)cur < IPCX__PIPE_SZ)
		(void)fcntl(fd, F_SETPIPE_SZ, (int)IPCX__PIPE_SZ);
}

/* Set or clear O_NONBLOCK on fd's description. 0, or -1 with errno. */
static int fd_nonblock(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -1;
	return fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

/* See stream.h. */
int ipcx__pipe_reopen(int fd, int acc, const struct stat *want)
{
	char path[40];
	struct stat st;
	int nfd;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	nfd = open(path, acc | O_NONBLOCK | O_CLOEXEC);
	if (nfd < 0)
		return -1;
	/* Make sure /proc gave us the very same pipe. */
	if (fstat(nfd, &st) < 0 || st.st_dev != want->st_dev ||
	    st.st_ino != want->st_ino) {
		close(nfd);
		errno = EINVAL;
		return -1;
	}
	return nfd;
}

/* See stream.h. */
void ipcx__stream_blocking(struct ipcx__stream *st)
{
	if (fd_nonblock(st->fd, false) == 0)
		st->blk = true;
}

/* See stream.h. */
void ipcx__stream_twin(struct ipcx__stream *st)
{
	struct stat a;
	int fd;

	if (st->kind != IPCX__ST_PIPE || st->blk || st->bfd >= 0 ||
	    fstat(st->fd, &a) < 0 || !S_ISFIFO(a.st_mode))
		return;
	/* Opened O_NONBLOCK (a FIFO's open for reading must not wait for a
	 * writer), then made blocking. */
	fd = ipcx__pipe_reopen(st->fd, O_RDONLY, &a);
	if (fd < 0)
		return;
	if (fd_nonblock(fd, false) < 0) {
		close(fd);
		return;
	}
	st->bfd = fd;
}

/* See stream.h. */
void ipcx__stream_nowait_lost(struct ipcx__stream *st)
{
	(void)fd_nonblock(st->fd, true);
	st->blk = false;
}

/*
 * A blocking socket read may wait at most until the deadline. SO_RCVTIMEO
 * is rounded up to the kernel's tick, so it is set RCVTIMEO_SLACK short of
 * the time left and a read that ends on it hands the rest to poll(), which
 * is exact. The option is set only when the value in place does not fit
 * (more than the time left, or far less): a caller who passes the same
 * timeout each time pays for setsockopt once.
 */
#define RCVTIMEO_SLACK (10 * IPCX__NS_PER_MS)

static bool st_rcvtimeo(struct ipcx__stream *st, int64_t deadline)
{
	int64_t want = 0, left;
	struct timeval tv = {0, 0};

	if (deadline >= 0) {
		left = deadline - ipcx__now_ns() - RCVTIMEO_SLACK;
		if (left < RCVTIMEO_SLACK)
			return false; /* too close: poll() is exact */
		if (st->rcvtimeo > 0 && st->rcvtimeo <= left &&
		    st->rcvtimeo >= left - left / 16 - IPCX__NS_PER_MS)
			return true;
		want = left - left % IPCX__NS_PER_MS;
		tv.tv_sec = (time_t)(want / IPCX__NS_PER_S);
		tv.tv_usec = (suseconds_t)(want % IPCX__NS_PER_S / 1000);
	} else if (st->rcvtimeo == 0) {
		return true;
	}
	if (setsockopt(st->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		return false;
	st->rcvtimeo = want;
	return true;
}

/* IPCX__ST_MEM: what readv() does on a socket holding the fed bytes. */
static ssize_t st_read_mem(struct ipcx__stream *st, const struct iovec *iov,
                           int cnt)
{
	size_t got = 0;

	for (int i = 0; i < cnt && st->memlen; i++) {
		size_t k =
		    iov[i].iov_len < st->memlen ? iov[i].iov_len : st->memlen;
		if (k)
			memcpy(iov[i].iov_base, st->mem, k);
		st->mem += k;
		st->memlen -= k;
		got += k;
	}
	if (got == 0 && st->memlen == 0 && !st->memend) {
		errno = EAGAIN;
		return -1;
	}
	return (ssize_t)got;
}

/* Whether a read on st may wait in the kernel now (see `blk`). */
static bool st_may_block(struct ipcx__stream *st, const struct ipcx__rdm *m)
{
	if (!m->block)
		return false;
	if (st->bfd >= 0)
		return m->deadline < 0 && st->live;
	if (!st->blk)
		return false;
	if (st->kind == IPCX__ST_SOCK)
		return st_rcvtimeo(st, m->deadline);
	return m->deadline < 0;
}

/*
 * See stream.h. Read into iov. Returns bytes read (> 0), 0 at end of
 * stream, or -1 with
 * errno (EAGAIN: nothing there now, or a blocking read ran out of time or
 * was interrupted: poll() takes it from there). For a shared blocking fd,
 * m->readable says a poll() just reported POLLIN; otherwise we ask poll()
 * first, since a read() there could block.
 */
ssize_t ipcx__stream_readv(struct ipcx__stream *st, struct iovec *iov, int cnt,
                           const struct ipcx__rdm *m)
{
	bool wait = st_may_block(st, m);
	ssize_t n;

	if (st->kind == IPCX__ST_SHARED && !m->readable) {
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
	for (;;) {
		if (st->kind == IPCX__ST_MEM) {
			n = st_read_mem(st, iov, cnt);
		} else if (st->kind == IPCX__ST_SHARED_SOCK ||
		           (st->kind == IPCX__ST_SOCK && st->blk)) {
			struct msghdr mh = {.msg_iov = iov,
			                    .msg_iovlen = (size_t)cnt};
			n = recvmsg(st->fd, &mh, wait ? 0 : MSG_DONTWAIT);
		} else if (st->blk && !wait) {
			n = preadv2(st->fd, iov, cnt, -1, RWF_NOWAIT);
			if (n < 0 && errno == EOPNOTSUPP) {
				ipcx__stream_nowait_lost(st);
				continue;
			}
		} else if (wait && st->bfd >= 0) {
			n = readv(st->bfd, iov, cnt);
		} else {
			n = readv(st->fd, iov, cnt);
		}
		if (n >= 0 || errno != EINTR)
			break;
		if (wait) {
			/* poll() goes on with the time left */
			errno = EAGAIN;
			break;
		}
	}
	/* With no writer a FIFO's read says end of stream at once: the
	 * twin waits only while the last read brought bytes. */
	st->live = n > 0 || (n < 0 && errno == EAGAIN && st->live);
	/* A short read, or none, emptied the kernel's buffer. */
	if (n > 0) {
		size_t want = 0;
		for (int i = 0; i < cnt; i++)
			want += iov[i].iov_len;
		st->drained = (size_t)n < want;
	} else {
		st->drained = n < 0 && errno == EAGAIN;
	}
	return n;
}

/*
 * See stream.h. One write attempt. It waits in the kernel only with `wait` on a
 * blk stream (no deadline: the writer then wakes as soon as there is room,
 * where poll() on a socket reports POLLOUT only once most of the buffer
 * is free); otherwise a blk stream's blocking fd is written with
 * MSG_DONTWAIT or RWF_NOWAIT. A shared blocking fd gets at most
 * PIPE_BUF bytes, which a pipe that just polled writable takes without
 * blocking.
 */
ssize_t ipcx__stream_writev(struct ipcx__stream *st, struct iovec *v, int cnt,
                            bool wait)
{
	struct msghdr m = {.msg_iov = v, .msg_iovlen = (size_t)cnt};
	size_t room = PIPE_BUF, keep;
	ssize_t n;
	int k;

	switch (st->kind) {
	case IPCX__ST_SOCK:
		return sendmsg(st->fd, &m,
		               MSG_NOSIGNAL |
		                   (st->blk && !wait ? MSG_DONTWAIT : 0));
	case IPCX__ST_SHARED_SOCK:
		return sendmsg(st->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
	case IPCX__ST_PIPE:
		if (st->blk && !wait) {
			n = pwritev2(st->fd, v, cnt, -1, RWF_NOWAIT);
			if (n >= 0 || errno != EOPNOTSUPP)
				return n;
			ipcx__stream_nowait_lost(st);
		}
		return writev(st->fd, v, cnt);
	case IPCX__ST_SHARED:
		break;
	case IPCX__ST_MEM: /* receive only: nothing to write to */
		errno = EBADF;
		return -1;
	}
	for (k = 0; k < cnt && v[k].iov_len < room; k++)
		room -= v[k].iov_len;
	if (k == cnt)
		return writev(st->fd, v, cnt);
	/* Cut the iovec at PIPE_BUF bytes for this one call. */
	keep = v[k].iov_len;
	v[k].iov_len = room;
	n = writev(st->fd, v, k + 1);
	v[k].iov_len = keep;
	return n;
}
