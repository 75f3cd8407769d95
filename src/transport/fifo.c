/*
 * fifo.c - fifo:///path: a named pipe carrying framed messages
 * (docs/FORMAT.md section 1), or raw bytes with ?raw.
 *
 * A FIFO is many writers -> one reader. The receiver (IPCX_RECV) creates it
 * with IPCX_CREATE (mkfifo, ?mode=, default 0600) and opens it for reading;
 * a sender (IPCX_SEND) opens it for writing and fails at once with
 * IPCX_ENOPEER while no reader has it open. Close never removes the FIFO:
 * ipcx_unlink() does.
 *
 * Writers coming and going: when the last writer closes at a frame
 * boundary, Linux keeps reporting POLLHUP on that reader for ever. The
 * receiver then reopens the FIFO (same inode, through /proc/self/fd) and
 * goes on waiting for new writers until its deadline. A writer that dies
 * in the middle of a frame gives IPCX_EPEER at once; the torn frame is
 * discarded.
 *
 * Several writers at once: the kernel writes a frame of at most PIPE_BUF
 * (4096) bytes, header included, in one piece, so messages up to 4092
 * bytes never interleave. Larger frames from two concurrent writers can
 * interleave in the pipe and desynchronise the stream; use one writer per
 * FIFO for messages above 4092 bytes, or unix:// (one connection per
 * sender).
 */
#include "internal.h"
#include "stream.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct fifo_priv {
	struct ipcx__solo so;
	dev_t dev; /* the FIFO we opened, to reopen that one and no other */
	ino_t ino;
	char name[8 + PATH_MAX];
};

/* Open path for the role without following a final symlink. */
static int fifo_open_path(const char *path, bool reader)
{
	return open(path, (reader ? O_RDONLY : O_WRONLY) | O_NONBLOCK |
	                      O_CLOEXEC | O_NOFOLLOW);
}

/*
 * open: IPCX_CREATE makes the FIFO if it is absent; then the receiver opens
 * it for reading, the sender for writing. Does not block: a sender with no
 * reader present gets IPCX_ENOPEER.
 */
static int fifo_open(ipcx_chan *ch)
{
	const char *path = ch->ep.name;
	bool reader = ch->flags & IPCX_RECV;
	bool created = false;
	struct fifo_priv *p;
	struct stat st, fst;
	int fd;

	if (reader == !!(ch->flags & IPCX_SEND))
		return ipcx__err(IPCX_EINVAL,
		                 "fifo://%s: a FIFO end either sends or "
		                 "receives: open it with IPCX_SEND or "
		                 "IPCX_RECV, not both",
		                 path);
	p = calloc(1, sizeof(*p));
	if (!p)
		return ipcx__err(IPCX_ENOMEM, "out of memory");
	snprintf(p->name, sizeof(p->name), "fifo://%.4095s", path);
	ipcx__solo_init(&p->so, -1, IPCX__ST_PIPE, &ch->ep, p->name);
	ch->priv = p;

	if (ch->flags & IPCX_CREATE) {
		if (mkfifo(path, ch->ep.mode) == 0)
			created = true;
		else if (errno != EEXIST) {
			char what[sizeof(p->name) + 8];
			snprintf(what, sizeof(what), "mkfifo %s", p->name);
			return ipcx__errno_path(errno, what, path);
		} else if (ch->flags & IPCX_EXCL)
			return ipcx__err(IPCX_EEXIST,
			                 "mkfifo %s: the path exists "
			                 "(IPCX_EXCL)",
			                 p->name);
	}
	/*
	 * Look before opening: opening a device or someone else's object by
	 * mistake can have effects of its own.
	 */
	if (lstat(path, &st) < 0) {
		/* For a sender a missing FIFO means the same as a FIFO
		 * nobody reads: no receiver yet. */
		if (errno == ENOENT && !reader)
			return ipcx__err(
			    IPCX_ENOPEER,
			    "open %s: no such FIFO, so no receiver "
			    "(start the receiver first)",
			    p->name);
		if (errno == ENOENT)
			return ipcx__err(IPCX_ENOENT,
			                 "open %s: no such FIFO (start the "
			                 "receiver first, or open with "
			                 "IPCX_CREATE)",
			                 p->name);
		return ipcx__errno(errno, "open %s", p->name);
	}
	if (!S_ISFIFO(st.st_mode))
		return ipcx__err(IPCX_EEXIST,
		                 "open %s: the path exists and is not a FIFO "
		                 "(remove it or pick another path)",
		                 p->name);
	if (st.st_uid != geteuid() && !ch->ep.trust_any)
		return ipcx__err(
		    IPCX_EACCES,
		    "open %s: the FIFO belongs to uid %u, not to "
		    "you (uid %u); add ?trust=any to use it anyway",
		    p->name, (unsigned)st.st_uid, (unsigned)geteuid());
	fd = fifo_open_path(path, reader);
	if (fd < 0) {
		if (errno == ENXIO)
			return ipcx__err(
			    IPCX_ENOPEER,
			    "open %s: no reader on the FIFO (start "
			    "the receiver first)",
			    p->name);
		if (errno == ENOENT)
			return ipcx__err(reader ? IPCX_ENOENT : IPCX_ENOPEER,
			                 "open %s: the FIFO vanished while "
			                 "opening (start the receiver first)",
			                 p->name);
		return ipcx__errno(errno, "open %s", p->name);
	}
	/* What we opened must be what we checked (no swap in between). */
	if (fstat(fd, &fst) < 0 || fst.st_dev != st.st_dev ||
	    fst.st_ino != st.st_ino) {
		close(fd);
		return ipcx__err(IPCX_EBUSY,
		                 "open %s: the FIFO was replaced while "
		                 "opening; try again",
		                 p->name);
	}
	/* mkfifo applied the umask: give back bits that were asked for. */
	if (created && (fst.st_mode & 07777) != ch->ep.mode)
		fchmod(fd, ch->ep.mode);
	p->dev = fst.st_dev;
	p->ino = fst.st_ino;
	p->so.st.fd = fd;
	if (created)
		ipcx__pipe_grow(fd);
	/* A receive without a deadline: one blocking read (stream.h). */
	if (reader)
		ipcx__stream_twin(&p->so.st);
	return 0;
}

/*
 * A fresh read descriptor of the same FIFO: through /proc/self/fd (works
 * even if the path was removed or replaced), else by path if it still is
 * the same inode. Returns the fd or IPCX_E*.
 */
static int fifo_reopen(struct fifo_priv *p, const char *path)
{
	char proc[40];
	struct stat st;
	int fd;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", p->so.st.fd);
	fd = open(proc, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		fd = fifo_open_path(path, true);
	if (fd < 0)
		return ipcx__errno(errno, "recv %s: reopening the FIFO",
		                   p->name);
	if (fstat(fd, &st) < 0 || st.st_dev != p->dev || st.st_ino != p->ino) {
		close(fd);
		return ipcx__err(IPCX_EPEER,
		                 "recv %s: the FIFO was removed or replaced",
		                 p->name);
	}
	return fd;
}

/* send: one frame (or raw bytes). Blocks until the deadline. */
static int fifo_send(ipcx_chan *ch, const void *buf, size_t len,
                     int64_t deadline)
{
	struct fifo_priv *p = ch->priv;

	return ipcx__stream_send(&p->so.st, buf, len, deadline);
}

/* sendv: a batch of frames, one writev per round; blocks until deadline. */
static int fifo_sendv(ipcx_chan *ch, const struct iovec *msgs, int n,
                      int64_t deadline)
{
	struct fifo_priv *p = ch->priv;

	return ipcx__stream_sendv(&p->so.st, msgs, n, deadline);
}

/*
 * recv: one whole frame from whichever writer. Blocks until the deadline,
 * across writers leaving and new ones arriving.
 */
static ssize_t fifo_recv(ipcx_chan *ch, void *buf, size_t cap, int64_t deadline)
{
	struct fifo_priv *p = ch->priv;

	for (;;) {
		ssize_t r = ipcx__solo_recv(&p->so, buf, cap, ch, deadline);
		int fd;

		if (r != IPCX_EPEER || !p->so.st.hup)
			return r;
		/* Every writer left at a frame boundary: wait for new ones
		 * on a fresh descriptor (see the top of the file). */
		fd = fifo_reopen(p, ch->ep.name);
		if (fd < 0)
			return fd;
		ipcx__solo_swap_fd(&p->so, fd);
		/*
		 * With no writer, read() on a FIFO says end of stream at
		 * once, whatever poll() says: wait for POLLIN (data, or a new
		 * writer come and gone) before reading again, or we would
		 * spin through reopens until the deadline.
		 */
		r = ipcx__poll1(fd, POLLIN, deadline);
		if (r == IPCX_ETIMEDOUT)
			return ipcx__err(IPCX_ETIMEDOUT,
			                 "recv %s: timed out (no message "
			                 "arrived; no writer is there)",
			                 p->name);
		if (r < 0)
			return r;
	}
}

/*
 * fd: for the receiver, an epoll fd that stays valid across reopens and is
 * readable when a receive may make progress. A sender has none.
 */
static int fifo_fd(ipcx_chan *ch)
{
	struct fifo_priv *p = ch->priv;

	if (!(ch->flags & IPCX_RECV))
		return ipcx__err(IPCX_ENOTSUP,
		                 "%s: a sending end has nothing to poll for",
		                 p->name);
	return ipcx__solo_fd(&p->so);
}

/* close: closes the descriptor; the FIFO stays (ipcx_unlink removes it). */
static int fifo_close(ipcx_chan *ch)
{
	struct fifo_priv *p = ch->priv;

	if (p) {
		ipcx__solo_fini(&p->so);
		free(p);
		ch->priv = NULL;
	}
	return 0;
}

/* unlink: remove the FIFO at ep's path, and nothing that is not a FIFO. */
static int fifo_unlink(const struct ipcx__ep *ep)
{
	struct stat st;

	if (lstat(ep->name, &st) < 0) {
		if (errno == ENOENT)
			return ipcx__err(IPCX_ENOENT,
			                 "unlink fifo://%s: no such FIFO",
			                 ep->name);
		return ipcx__errno(errno, "unlink fifo://%s", ep->name);
	}
	if (!S_ISFIFO(st.st_mode))
		return ipcx__err(
		    IPCX_EINVAL,
		    "unlink fifo://%s: not a FIFO; not removing it", ep->name);
	if (unlink(ep->name) < 0)
		return ipcx__errno(errno, "unlink fifo://%s", ep->name);
	return 0;
}

const struct ipcx__transport ipcx__tp_fifo = {
    .scheme = IPCX__S_FIFO,
    .open = fifo_open,
    .send = fifo_send,
    .sendv = fifo_sendv,
    .recv = fifo_recv,
    .fd = fifo_fd,
    .close = fifo_close,
    .unlink = fifo_unlink,
};
