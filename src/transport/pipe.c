/*
 * pipe.c - pipe://: an anonymous pipe between related processes.
 *
 *   pipe://         IPCX_SEND writes stdout (fd 1), IPCX_RECV reads stdin
 *   pipe://?fd=N    that descriptor instead
 *   ipcx_pipe()     a new pipe as two channels, for a parent and its child
 *
 * Messages are framed (docs/FORMAT.md section 1) unless ?raw.
 *
 * Inherited descriptors and O_NONBLOCK: stdin/stdout usually share their
 * open file description with other processes (the shell, the other end of
 * a pipeline). Setting O_NONBLOCK on it would change their behaviour too,
 * so we never touch it. Instead:
 *
 *  - If the fd is a pipe or FIFO we open it again through /proc/self/fd/N.
 *    That gives a new description of the same pipe, private to us, which
 *    we may make nonblocking: deadlines then hold exactly, for any size.
 *  - Otherwise (no /proc, a socket, a tty, a file) we dup() it. A socket is
 *    driven with MSG_DONTWAIT per call, which needs no flag. Anything else
 *    is only read after poll() said POLLIN and only written after poll()
 *    said POLLOUT, at most PIPE_BUF bytes at a time: a pipe with room
 *    takes that much without blocking. The cost is two system calls per
 *    4 KiB; the residual risk is another process draining the same fd
 *    between our poll() and read(), which would make the read wait.
 *
 * The channel's fd is a dup or a reopen, so ipcx_close() never closes the
 * process's stdin/stdout; but the pipe stays open through them, so the
 * reader sees end of stream only once this process closes fd 1 or exits.
 */
#include "internal.h"
#include "stream.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct pipe_priv {
	struct ipcx__solo so;
	char name[48];
};

/* A channel state with no descriptor yet (safe for pipe_close). */
static struct pipe_priv *pipe_priv_new(const struct ipcx__ep *ep)
{
	struct pipe_priv *p = calloc(1, sizeof(*p));

	if (p)
		ipcx__solo_init(&p->so, -1, IPCX__ST_PIPE, ep, p->name);
	return p;
}

/*
 * open: attach to stdin, stdout or ?fd=N. Does not block. The channel gets
 * its own descriptor (see the top of the file).
 */
static int pipe_open(ipcx_chan *ch)
{
	bool tx = ch->flags & IPCX_SEND;
	int src, fd, acc;
	enum ipcx__st_kind kind = IPCX__ST_PIPE;
	struct pipe_priv *p;
	struct stat st;

	if (tx == !!(ch->flags & IPCX_RECV))
		return ipcx__err(IPCX_EINVAL,
		                 "pipe://: a pipe end either sends or "
		                 "receives: open it with IPCX_SEND or "
		                 "IPCX_RECV, not both");
	src = ch->ep.fd >= 0 ? ch->ep.fd : (tx ? 1 : 0);
	if (fstat(src, &st) < 0 || (acc = fcntl(src, F_GETFL)) < 0) {
		if (errno == EBADF)
			return ipcx__err(IPCX_EINVAL,
			                 "pipe://: fd %d is not open (pass an "
			                 "open descriptor with ?fd=N)",
			                 src);
		return ipcx__errno(errno, "pipe://: fd %d", src);
	}
	acc &= O_ACCMODE;
	if (tx ? acc == O_RDONLY : acc == O_WRONLY)
		return ipcx__err(IPCX_EINVAL,
		                 "pipe://: fd %d is not open for %s", src,
		                 tx ? "writing" : "reading");

	p = pipe_priv_new(&ch->ep);
	if (!p)
		return ipcx__err(IPCX_ENOMEM, "out of memory");
	if (ch->ep.set & IPCX__O_FD)
		snprintf(p->name, sizeof(p->name), "pipe://?fd=%d", src);
	else
		snprintf(p->name, sizeof(p->name), "pipe:// (%s)",
		         tx ? "stdout" : "stdin");

	fd = -1;
	if (S_ISFIFO(st.st_mode)) {
		fd = ipcx__pipe_reopen(src, tx ? O_WRONLY : O_RDONLY, &st);
		if (fd < 0 && errno == ENXIO) {
			int r = ipcx__err(IPCX_ENOPEER,
			                  "%s: nobody reads this pipe (its "
			                  "read end is closed)",
			                  p->name);
			free(p);
			return r;
		}
	}
	if (fd < 0) {
		fd = fcntl(src, F_DUPFD_CLOEXEC, 0);
		if (fd < 0) {
			int e = errno;
			free(p);
			return ipcx__errno(e, "pipe://: dup fd %d", src);
		}
		kind = S_ISSOCK(st.st_mode) ? IPCX__ST_SHARED_SOCK
		                            : IPCX__ST_SHARED;
	}
	ipcx__solo_init(&p->so, fd, kind, &ch->ep, p->name);
	/* A receive without a deadline: one blocking read (stream.h). */
	if (kind == IPCX__ST_PIPE && !tx)
		ipcx__stream_twin(&p->so.st);
	ch->priv = p;
	return 0;
}

/* send: one frame (or raw bytes); blocks until the deadline. */
static int pipe_send(ipcx_chan *ch, const void *buf, size_t len,
                     int64_t deadline)
{
	struct pipe_priv *p = ch->priv;

	return ipcx__stream_send(&p->so.st, buf, len, deadline);
}

/* sendv: a batch of frames, one writev per round; blocks until deadline. */
static int pipe_sendv(ipcx_chan *ch, const struct iovec *msgs, int n,
                      int64_t deadline)
{
	struct pipe_priv *p = ch->priv;

	return ipcx__stream_sendv(&p->so.st, msgs, n, deadline);
}

/*
 * recv: one whole frame; blocks until the deadline. End of stream at a
 * frame boundary is IPCX_EPEER "peer closed": a pipe has one writer side.
 */
static ssize_t pipe_recv(ipcx_chan *ch, void *buf, size_t cap, int64_t deadline)
{
	struct pipe_priv *p = ch->priv;

	return ipcx__solo_recv(&p->so, buf, cap, ch, deadline);
}

/* fd: the receiving end's pollable fd; a sending end has none. */
static int pipe_fd(ipcx_chan *ch)
{
	struct pipe_priv *p = ch->priv;

	if (!(ch->flags & IPCX_RECV))
		return ipcx__err(IPCX_ENOTSUP,
		                 "%s: a sending end has nothing to poll for",
		                 p->name);
	return ipcx__solo_fd(&p->so);
}

/* close: closes the channel's own descriptor (never stdin/stdout). */
static int pipe_close(ipcx_chan *ch)
{
	struct pipe_priv *p = ch->priv;

	if (p) {
		ipcx__solo_fini(&p->so);
		free(p);
		ch->priv = NULL;
	}
	return 0;
}

const struct ipcx__transport ipcx__tp_pipe = {
    .scheme = IPCX__S_PIPE,
    .open = pipe_open,
    .send = pipe_send,
    .sendv = pipe_sendv,
    .recv = pipe_recv,
    .fd = pipe_fd,
    .close = pipe_close,
};

/* A channel on one end of a fresh pipe; takes fd (closes it on failure). */
static int pipe_chan(const struct ipcx__ep *ep, int fd, int flags,
                     ipcx_chan **chp)
{
	struct pipe_priv *p;
	ipcx_chan *ch;

	ch = ipcx__chan_new(&ipcx__tp_pipe, ep, flags);
	p = pipe_priv_new(ep);
	if (!ch || !p) {
		free(ch);
		free(p);
		close(fd);
		return ipcx__err(IPCX_ENOMEM, "ipcx_pipe: out of memory");
	}
	snprintf(p->name, sizeof(p->name), "pipe:// (ipcx_pipe, %s end)",
	         flags & IPCX_SEND ? "write" : "read");
	ipcx__solo_init(&p->so, fd, IPCX__ST_PIPE, &ch->ep, p->name);
	/* Ours alone: a receive without a deadline is one blocking read
	 * (stream.h, `blk`); everything else passes RWF_NOWAIT. */
	ipcx__stream_blocking(&p->so.st);
	ch->priv = p;
	*chp = ch;
	return 0;
}

/*
 * ipcx_pipe - see ipcx.h. Does not block. Both descriptors are
 * close-on-exec and ours alone: blocking, driven with RWF_NOWAIT where a
 * call must not wait (or O_NONBLOCK where the kernel lacks it).
 * For a child that execs, pass the fd with ?fd=N after clearing
 * FD_CLOEXEC on its copy.
 */
int ipcx_pipe(const char *options, ipcx_chan **rdp, ipcx_chan **wrp)
{
	struct ipcx__ep *ep;
	int fds[2], r;

	if (!rdp || !wrp)
		return ipcx__err(IPCX_EINVAL, "ipcx_pipe: NULL argument");
	*rdp = *wrp = NULL;
	/* struct ipcx__ep holds a 4 KiB name: keep it off the stack. */
	ep = malloc(sizeof(*ep));
	if (!ep)
		return ipcx__err(IPCX_ENOMEM, "out of memory");
	ipcx__ep_defaults(ep, IPCX__S_PIPE);
	r = 0;
	if (options) {
		size_t n = strlen(options);
		/* Tolerate a leading '?', as in an endpoint. */
		if (n && options[0] == '?')
			options++, n--;
		r = ipcx__opts_parse(options, n, ep);
	}
	if (r == 0 && (ep->set & IPCX__O_FD))
		r = ipcx__err(IPCX_EOPTION,
		              "ipcx_pipe: fd= does not apply to a new pipe "
		              "(use ipcx_open(\"pipe://?fd=N\") for that)");
	if (r == 0 && pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
		r = ipcx__errno(errno, "ipcx_pipe: pipe2");
	if (r == 0)
		ipcx__pipe_grow(fds[1]);
	if (r == 0) {
		r = pipe_chan(ep, fds[0], IPCX_RECV, rdp);
		if (r < 0)
			close(fds[1]);
	}
	if (r == 0) {
		r = pipe_chan(ep, fds[1], IPCX_SEND, wrp);
		if (r < 0) {
			ipcx_close(*rdp);
			*rdp = NULL;
		}
	}
	free(ep);
	return r;
}
