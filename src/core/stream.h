/*
 * stream.h - framed byte streams, shared by pipe://, fifo://, unix:// and
 * tcp:// (and the fan-in listener that unix:// and tcp:// share).
 *
 * Three layers, each usable alone, one job per file:
 *
 *   struct ipcx__stream   one connection: the frame codec (docs/FORMAT.md
 *                         section 1), a read buffer, deadlines, SIGPIPE.
 *                         Receiving in stream.c, sending in stream-send.c,
 *                         the fd's system calls in stream-io.c.
 *   struct ipcx__pollset  a pollable fd over user-space buffers (pollset.c).
 *   struct ipcx__solo     one stream as a channel: adds a pollable fd that
 *                         stays readable while whole frames sit buffered
 *                         (solo.c).
 *   struct ipcx__fanin    a listening socket and its accepted connections
 *                         as one channel: any sender's next message,
 *                         reply to whoever sent the last one (fanin.c).
 *   struct ipcx__sock     either of the last two as a socket channel's ops
 *                         (sock.c).
 *
 * Not installed. Internal names start with ipcx__.
 */
#ifndef IPCX_STREAM_H
#define IPCX_STREAM_H

#include "internal.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>

/* Default per-connection read buffer: small messages cost one read. */
#define IPCX__RBUF (64u << 10)

/* How a stream talks to its fd. */
enum ipcx__st_kind {
	/* A socket we own, O_NONBLOCK unless blk; sends use MSG_NOSIGNAL. */
	IPCX__ST_SOCK,
	/* A pipe or FIFO we own, O_NONBLOCK unless blk; SIGPIPE blocked
	 * around writes unless ignored. */
	IPCX__ST_PIPE,
	/*
	 * An inherited socket whose file description others share: we never
	 * touch its O_NONBLOCK flag and pass MSG_DONTWAIT on every call.
	 */
	IPCX__ST_SHARED_SOCK,
	/*
	 * An inherited pipe, tty or file whose O_NONBLOCK we must not touch
	 * (other processes share the description). Every read follows a
	 * poll() that reported POLLIN, every write a poll() that reported
	 * POLLOUT and writes at most PIPE_BUF bytes, which a pipe with room
	 * takes without blocking. See pipe.c for the trade-off.
	 */
	IPCX__ST_SHARED,
	/*
	 * No fd (it is -1): reads take the bytes handed in by
	 * ipcx__stream_feed, so tests and fuzzers run the real codec over
	 * chunks they choose without a system call.
	 */
	IPCX__ST_MEM,
};

/*
 * One byte stream. rbuf[rpos, rpos + rlen) is the received, not yet
 * delivered prefix of the stream; it may hold several frames or part of
 * one. Normally IPCX__RBUF bytes; grown to hold one whole frame only when a
 * receive of a frame larger than that times out halfway, and shrunk back
 * after that frame is delivered.
 */
struct ipcx__stream {
	int fd; /* owned; -1 once closed */
	enum ipcx__st_kind kind;
	bool raw;    /* no framing (pipe, fifo ?raw) */
	bool broken; /* a send timed out mid-frame: the stream is out of step */
	bool killed; /* we closed fd after a bad frame */
	bool hup;    /* the peer closed cleanly, at a frame boundary */
	bool sigpipe_ign; /* SIGPIPE was ignored at init: no guard on writes */
	bool drained;     /* the last read found the kernel's buffer empty */
	/*
	 * The fd is blocking and ours alone (ipcx__stream_blocking): calls
	 * that must not wait pass MSG_DONTWAIT or RWF_NOWAIT, and a receive
	 * that has to wait reads blocking instead of poll() then read(), one
	 * system call as with a bare blocking fd. Sockets bound that read
	 * with SO_RCVTIMEO; pipes block only without a deadline.
	 */
	bool blk;
	int64_t rcvtimeo; /* blk sockets: SO_RCVTIMEO now set, ns; 0: none */
	/*
	 * A FIFO's or reopened pipe's read end keeps fd O_NONBLOCK (the
	 * kernel refuses RWF_NOWAIT there) and may have a blocking twin:
	 * another description of the same pipe (ipcx__stream_twin), read
	 * by a receive without a deadline while a writer is there (`live`:
	 * the last read brought bytes), so it too costs one read. -1: none.
	 */
	int bfd;
	bool live;
	size_t maxmsg;
	uint8_t *rbuf;
	size_t rcap, rpos, rlen;
	struct ipcx_peer peer; /* the other end, where known */
	const char *name;      /* endpoint for messages; owned by the caller */
	const uint8_t *mem;    /* IPCX__ST_MEM: fed bytes not read yet */
	size_t memlen;
	bool memend; /* IPCX__ST_MEM: the stream ends after them */
};

/*
 * ipcx__stream_init - make st a stream over fd (which it then owns) with
 * the channel's ep (raw, maxmsg) and a display name (kept by pointer: it
 * must outlive the stream). Does not block; allocates nothing yet.
 */
IPCX__HIDDEN void ipcx__stream_init(struct ipcx__stream *st, int fd,
                                    enum ipcx__st_kind kind,
                                    const struct ipcx__ep *ep,
                                    const char *name);

/*
 * ipcx__stream_feed - give a stream of kind IPCX__ST_MEM the next bytes of
 * its stream: reads take them (kept by pointer: the caller keeps them
 * alive until they are read, which ipcx__stream_try answering IPCX_EAGAIN
 * guarantees), then find nothing there yet (IPCX_EAGAIN), or with end,
 * the end of the stream. Replaces any bytes still unread. Use
 * ipcx__stream_try on such a stream (nothing to poll). Does not block.
 */
IPCX__HIDDEN void ipcx__stream_feed(struct ipcx__stream *st, const void *bytes,
                                    size_t n, bool end);

/*
 * ipcx__pipe_grow - ask the kernel for a pipe buffer of IPCX__PIPE_SZ on
 * a pipe or FIFO we created (F_SETPIPE_SZ), so that a 64 KiB message and
 * its header fit at once. Best effort: a limit (pipe-max-size, the
 * per-user soft limit) leaves the default.
 */
#define IPCX__PIPE_SZ (128u << 10)
IPCX__HIDDEN void ipcx__pipe_grow(int fd);

/*
 * ipcx__stream_blocking - st's fd (a pipe we created, or a connected
 * socket, no other process shares its description) becomes blocking, and
 * st drives it as described at `blk`. Does not block. Best effort: if
 * fcntl fails the stream stays as it was.
 */
IPCX__HIDDEN void ipcx__stream_blocking(struct ipcx__stream *st);

/*
 * ipcx__pipe_reopen - a new description of the pipe or FIFO behind fd,
 * opened through /proc/self/fd with acc (O_RDONLY or O_WRONLY),
 * O_NONBLOCK and O_CLOEXEC, checked to be the inode of want. Returns the
 * fd, or -1 with errno (ENXIO: a write end whose pipe has no reader left;
 * EINVAL: /proc gave another file). Does not block.
 */
IPCX__HIDDEN int ipcx__pipe_reopen(int fd, int acc, const struct stat *want);

/*
 * ipcx__stream_twin - give a pipe or FIFO read end (IPCX__ST_PIPE, fd not
 * blk) its blocking twin, opened through /proc/self/fd. Does not block.
 * Best effort: without /proc the stream waits in poll() as before.
 */
IPCX__HIDDEN void ipcx__stream_twin(struct ipcx__stream *st);

/*
 * ipcx__stream_nowait_lost - the kernel refused RWF_NOWAIT on this pipe
 * (EOPNOTSUPP: before Linux 6.4, and on FIFOs): make the fd O_NONBLOCK again
 * and drive it the plain way. Does not block.
 */
IPCX__HIDDEN void ipcx__stream_nowait_lost(struct ipcx__stream *st);

/*
 * How a read may go: without waiting (the default), right after poll()
 * reported POLLIN (`readable`), or, on a blk stream, waiting up to
 * `deadline` in the read itself (`block`).
 */
struct ipcx__rdm {
	bool readable;
	bool block;
	int64_t deadline;
};

/*
 * ipcx__stream_readv - one read into iov as m allows (stream-io.c). Returns
 * bytes read (> 0), 0 at end of stream, or -1 with errno (EAGAIN: nothing
 * there now, or a read that waited ran out of time or was interrupted).
 * Sets st->drained and st->live.
 */
IPCX__HIDDEN ssize_t ipcx__stream_readv(struct ipcx__stream *st,
                                        struct iovec *iov, int cnt,
                                        const struct ipcx__rdm *m);

/*
 * ipcx__stream_writev - one write of iov (stream-io.c): waits in the kernel
 * only with wait on a blk stream; a shared blocking fd gets at most
 * PIPE_BUF bytes. Returns bytes written or -1 with errno.
 */
IPCX__HIDDEN ssize_t ipcx__stream_writev(struct ipcx__stream *st,
                                         struct iovec *v, int cnt, bool wait);

/* ipcx__stream_fini - close the fd and free the buffer. Accepts a stream
 * set up by ipcx__stream_init with fd -1, and a second call. */
IPCX__HIDDEN void ipcx__stream_fini(struct ipcx__stream *st);

/*
 * ipcx__stream_send - write one frame (or, raw, all len bytes) before the
 * deadline. Blocks. Returns 0 once every byte is in the kernel, else
 * IPCX_EMSGSIZE (len > maxmsg; nothing sent), IPCX_EPEER (reader gone; no
 * SIGPIPE), IPCX_ETIMEDOUT (if part of a frame went out the stream is
 * marked broken and later sends fail with IPCX_ESTATE) or IPCX_E*.
 * The caller keeps buf.
 */
IPCX__HIDDEN int ipcx__stream_send(struct ipcx__stream *st, const void *buf,
                                   size_t len, int64_t deadline);

/*
 * ipcx__stream_sendv - write n >= 1 messages in order, as few writev()
 * calls as IOV_MAX allows (see ipcx_sendv in ipcx.h). Blocks until the
 * deadline. Returns how many went whole (1..n; ipcx_errmsg() says why the
 * next did not), or as ipcx__stream_send when none did.
 */
IPCX__HIDDEN int ipcx__stream_sendv(struct ipcx__stream *st,
                                    const struct iovec *msgs, int n,
                                    int64_t deadline);

/*
 * ipcx__stream_recv - one whole frame into buf (raw: whatever bytes are
 * there, at most cap). Blocks until the deadline. Returns its length, or
 * IPCX_ENOBUFS with ch->pending set (the frame stays buffered),
 * IPCX_ETIMEDOUT (a partial frame stays buffered for the next call),
 * IPCX_EPEER (st->hup set: clean close at a boundary; else the peer died
 * mid-frame and the partial frame was discarded), IPCX_EMSGSIZE (the header
 * announced more than maxmsg: the connection is shut down and st->killed
 * set; its owner closes the fd, as solo and fan-in do at once; later calls
 * fail with IPCX_ESTATE) or IPCX_E*.
 */
IPCX__HIDDEN ssize_t ipcx__stream_recv(struct ipcx__stream *st, void *buf,
                                       size_t cap, ipcx_chan *ch,
                                       int64_t deadline);

/*
 * ipcx__stream_try - ipcx__stream_recv without waiting: reads what the
 * kernel has now. Returns as ipcx__stream_recv, except IPCX_EAGAIN (no
 * ipcx_errmsg set) when the next frame is not complete yet.
 */
IPCX__HIDDEN ssize_t ipcx__stream_try(struct ipcx__stream *st, void *buf,
                                      size_t cap, ipcx_chan *ch);

/*
 * ipcx__stream_dead - the IPCX_ESTATE error (message included) for op
 * ("send", "recv") on a stream closed after a bad frame.
 */
IPCX__HIDDEN int ipcx__stream_dead(const struct ipcx__stream *st,
                                   const char *op);

/*
 * ipcx__stream_ready - whether a receive would return at once without
 * reading: a whole frame is buffered, or the stream was killed.
 */
IPCX__HIDDEN bool ipcx__stream_ready(const struct ipcx__stream *st);

/*
 * A pollable fd for channels whose data may sit in a user-space buffer: an
 * epoll fd watching the real fds plus an eventfd we keep readable while a
 * whole frame is buffered, so poll() on it never misses a message.
 */
struct ipcx__pollset {
	int epfd;   /* -1 until created */
	int evfd;   /* -1 until created */
	bool armed; /* evfd is readable */
};

/* ipcx__ps_reset - the empty state (both fds -1); allocates nothing. */
IPCX__HIDDEN void ipcx__ps_reset(struct ipcx__pollset *ps);
/* ipcx__ps_close - close whatever was created; back to the empty state. */
IPCX__HIDDEN void ipcx__ps_close(struct ipcx__pollset *ps);
/*
 * ipcx__ps_open - create the epoll fd if not yet there, and with want_ev
 * the eventfd in it (epoll tag evtag). name is for messages. Does not
 * block. Returns 0 or IPCX_E*; on failure what exists is kept for
 * ipcx__ps_close.
 */
IPCX__HIDDEN int ipcx__ps_open(struct ipcx__pollset *ps, bool want_ev,
                               void *evtag, const char *name);
/* ipcx__ps_add - watch fd (not owned) for EPOLLIN with tag. 0 or IPCX_E*. */
IPCX__HIDDEN int ipcx__ps_add(struct ipcx__pollset *ps, int fd, void *tag,
                              const char *name);
/* ipcx__ps_del - stop watching fd; a no-op without an epoll fd or fd < 0. */
IPCX__HIDDEN void ipcx__ps_del(struct ipcx__pollset *ps, int fd);
/*
 * ipcx__ps_arm - make the eventfd readable (on) or not: call it with
 * whether a whole frame is buffered. A no-op until ipcx__ps_open made the
 * eventfd, and when nothing changes. Does not block.
 */
IPCX__HIDDEN void ipcx__ps_arm(struct ipcx__pollset *ps, bool on);

/* ---- one stream as a channel ---- */

struct ipcx__solo {
	struct ipcx__stream st;
	struct ipcx__pollset ps; /* created by the first ipcx__solo_fd() */
};

/* ipcx__solo_init - as ipcx__stream_init; the pollset starts empty. */
IPCX__HIDDEN void ipcx__solo_init(struct ipcx__solo *so, int fd,
                                  enum ipcx__st_kind kind,
                                  const struct ipcx__ep *ep, const char *name);
/* ipcx__solo_fini - close everything. Accepts one set up by
 * ipcx__solo_init (or ipcx__sock_reset), however far it got. */
IPCX__HIDDEN void ipcx__solo_fini(struct ipcx__solo *so);
/* ipcx__solo_recv - ipcx__stream_recv, then ch->peer and the pollset. */
IPCX__HIDDEN ssize_t ipcx__solo_recv(struct ipcx__solo *so, void *buf,
                                     size_t cap, ipcx_chan *ch,
                                     int64_t deadline);
/*
 * ipcx__solo_fd - the channel's pollable fd (an epoll fd, created on first
 * use and owned by so), or IPCX_E*. Does not block.
 */
IPCX__HIDDEN int ipcx__solo_fd(struct ipcx__solo *so);
/*
 * ipcx__solo_swap_fd - replace the stream's fd by newfd (a reopened FIFO):
 * the old one is closed, the pollset follows. Buffers are kept.
 */
IPCX__HIDDEN void ipcx__solo_swap_fd(struct ipcx__solo *so, int newfd);

/* ---- a listening socket as a channel ---- */

struct ipcx__fanin;

/*
 * Called for each accepted connection before it is used: set c->peer and
 * return 0 to keep it, or a negative value to refuse (it is then closed).
 */
typedef int (*ipcx__admit_fn)(struct ipcx__fanin *f, struct ipcx__stream *c);

struct ipcx__fanin {
	int lfd; /* the listening socket, owned */
	struct ipcx__pollset ps;
	struct ipcx__stream **conn;
	size_t nconn, capconn;
	struct ipcx__stream *last; /* sent the last message delivered */
	bool had_last;             /* some message was delivered */
	struct ipcx__stream *pend; /* holds a frame refused by IPCX_ENOBUFS */
	size_t rr;                 /* round-robin start of the buffer scan */
	/*
	 * Out of fds or memory to accept with (EMFILE, ENFILE, ENOMEM,
	 * ENOBUFS): the listener is out of the epoll set until retry_at or
	 * until a connection closes (freed); accepted ones are still served.
	 */
	bool paused;
	bool freed;       /* a connection closed while paused */
	int paused_errno; /* why, for the timeout message */
	int64_t retry_at; /* CLOCK_MONOTONIC ns */
	ipcx__admit_fn admit;
	const struct ipcx__ep *ep; /* the channel's, for raw/maxmsg/uid/gid */
	const char *name;
};

/*
 * ipcx__fanin_init - take ownership of the listening socket lfd (nonblocking)
 * and create the epoll set. Returns 0 or IPCX_E* (lfd is then owned anyway:
 * ipcx__fanin_fini closes it).
 */
IPCX__HIDDEN int ipcx__fanin_init(struct ipcx__fanin *f, int lfd,
                                  const struct ipcx__ep *ep, const char *name,
                                  ipcx__admit_fn admit);
/* ipcx__fanin_fini - close the listener and all connections. Accepts one
 * set up by ipcx__fanin_init (or ipcx__sock_reset), however far it got. */
IPCX__HIDDEN void ipcx__fanin_fini(struct ipcx__fanin *f);
/*
 * ipcx__fanin_recv - the next whole message from any connection, accepting
 * new ones meanwhile. Blocks until the deadline. A connection that closes
 * at a frame boundary is dropped silently; one that dies mid-frame or sends
 * an oversized header is dropped and its error returned. Sets ch->peer.
 * Running out of fds or memory to accept with is no error: new senders
 * wait in the kernel's queue (their messages with them) while the others
 * are served, and the timeout message says so.
 */
IPCX__HIDDEN ssize_t ipcx__fanin_recv(struct ipcx__fanin *f, void *buf,
                                      size_t cap, ipcx_chan *ch,
                                      int64_t deadline);
/*
 * ipcx__fanin_send - send to the connection that delivered the last message
 * (request/reply). IPCX_ESTATE before any message, IPCX_EPEER if that
 * connection is gone. Blocks until the deadline.
 */
IPCX__HIDDEN int ipcx__fanin_send(struct ipcx__fanin *f, const void *buf,
                                  size_t len, int64_t deadline);
/* ipcx__fanin_sendv - as ipcx__fanin_send for a batch: see
 * ipcx__stream_sendv. */
IPCX__HIDDEN int ipcx__fanin_sendv(struct ipcx__fanin *f,
                                   const struct iovec *msgs, int n,
                                   int64_t deadline);
/* ipcx__fanin_fd - the epoll fd covering the listener and connections. */
IPCX__HIDDEN int ipcx__fanin_fd(struct ipcx__fanin *f);

/* ---- a socket channel: either listening (fan-in) or connected (solo) ---- */

struct ipcx__sock {
	bool listening;
	struct ipcx__fanin fan;
	struct ipcx__solo solo;
};

/* ipcx__sock_reset - a safe empty state (all fds -1) before setup. */
IPCX__HIDDEN void ipcx__sock_reset(struct ipcx__sock *s);
/*
 * The send, recv and fd ops of a transport whose ch->priv begins with a
 * struct ipcx__sock (unix, tcp): put them in its ops table as they are.
 * send: ipcx__fanin_send or ipcx__stream_send; blocks until the deadline.
 * sendv: the same for a batch (ipcx__stream_sendv).
 * recv: ipcx__fanin_recv or ipcx__solo_recv; blocks; sets ch->peer.
 * fd: ipcx__fanin_fd or ipcx__solo_fd; does not block.
 */
IPCX__HIDDEN int ipcx__sock_send(ipcx_chan *ch, const void *buf, size_t len,
                                 int64_t deadline);
IPCX__HIDDEN int ipcx__sock_sendv(ipcx_chan *ch, const struct iovec *msgs,
                                  int n, int64_t deadline);
IPCX__HIDDEN ssize_t ipcx__sock_recv(ipcx_chan *ch, void *buf, size_t cap,
                                     int64_t deadline);
IPCX__HIDDEN int ipcx__sock_fd(ipcx_chan *ch);
/* ipcx__sock_fini - close whichever side was set up. */
IPCX__HIDDEN void ipcx__sock_fini(struct ipcx__sock *s);

#endif /* IPCX_STREAM_H */
