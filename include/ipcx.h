/*
 * ipcx.h - one message API over Linux's IPC mechanisms.
 *
 * This header is the whole public API of libipcx. Every public name starts
 * with ipcx_ or IPCX_. Functions return 0 (or a count) on success and a
 * negative IPCX_E* code on failure; the library never prints and never exits.
 * ipcx_strerror() names a code, ipcx_errmsg() gives the detailed message of
 * the calling thread's last failure (what went wrong and what to do).
 *
 * A channel is opened from an endpoint string, "scheme://rest?key=value&...":
 *
 *   pipe://            anonymous pipe (stdin/stdout, or ?fd=N, or ipcx_pipe())
 *   fifo:///path       named pipe
 *   unix:///path       unix stream socket; unix://@name is the abstract space
 *   tcp://host:port    TCP stream
 *   udp://host:port    UDP, one datagram a message
 *   shm://name         a ring of records in /dev/shm/name
 *   mq://name          a POSIX message queue, /dev/mqueue/name
 *   sysv-mq://0x1234   a System V message queue (or sysv-mq:///path, ftok)
 *   sem://name         POSIX named semaphore: zero-byte events
 *   sysv-sem://0x1234  System V semaphore: zero-byte events
 *   semshm://name      a bounded buffer guarded by System V semaphores
 *   nats://host:port/subject  a subject on a NATS server (libnats at run time)
 *   file:///dir        a spool directory, one file a message
 *   signal://pid       one 64-bit value a message on a real-time signal
 *                      (signal:// receives in this process)
 *
 * Timeouts are in milliseconds: -1 waits forever, 0 polls once, > 0 waits at
 * most that long and then fails with IPCX_ETIMEDOUT. EINTR is retried inside
 * with the time left.
 */
#ifndef IPCX_H
#define IPCX_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IPCX_VERSION_MAJOR  0
#define IPCX_VERSION_MINOR  1
#define IPCX_VERSION_PATCH  0
#define IPCX_VERSION_STRING "0.1.0"

#if defined(__GNUC__)
#define IPCX_API __attribute__((visibility("default")))
#else
#define IPCX_API
#endif

/*
 * Error codes: X(NAME, value, text). The values are part of the ABI and never
 * change; new codes get new values.
 */
#define IPCX_ERRNO_MAP(X)                                    \
	X(EINVAL, -1, "invalid argument")                    \
	X(EENDPOINT, -2, "malformed endpoint")               \
	X(ESCHEME, -3, "unknown scheme")                     \
	X(EOPTION, -4, "unknown or invalid endpoint option") \
	X(ENAMETOOLONG, -5, "name too long")                 \
	X(ETIMEDOUT, -6, "timed out")                        \
	X(EMSGSIZE, -7, "message too large")                 \
	X(ENOBUFS, -8, "buffer too small for the message")   \
	X(EPEER, -9, "peer gone")                            \
	X(ENOPEER, -10, "no peer at the other end")          \
	X(ENOENT, -11, "no such object")                     \
	X(EEXIST, -12, "object already exists")              \
	X(EACCES, -13, "permission denied")                  \
	X(ECORRUPT, -14, "corrupt frame or ring")            \
	X(EAGAIN, -15, "would block")                        \
	X(ENOTSUP, -16, "not supported by this transport")   \
	X(ENOMEM, -17, "out of memory")                      \
	X(EBUSY, -18, "object busy")                         \
	X(ESYS, -19, "system call failed")                   \
	X(ESTATE, -20, "operation not valid in this state")

enum ipcx_error {
	IPCX_OK = 0,
#define IPCX__ERRENUM(name, val, text) IPCX_##name = (val),
	IPCX_ERRNO_MAP(IPCX__ERRENUM)
#undef IPCX__ERRENUM
};

/* Flags for ipcx_open(). */
enum ipcx_flags {
	IPCX_SEND = 1 << 0, /* this end sends */
	IPCX_RECV = 1 << 1, /* this end receives */
	IPCX_CREATE =
	    1 << 2,         /* create / bind / listen; else attach / connect */
	IPCX_EXCL = 1 << 3, /* with IPCX_CREATE: fail if the name exists */
};

typedef struct ipcx_chan ipcx_chan;

/* Who sent the last message received, where the transport knows. */
struct ipcx_peer {
	pid_t pid; /* -1 when unknown */
	uid_t uid; /* (uid_t)-1 when unknown */
	gid_t gid; /* (gid_t)-1 when unknown */
};

/*
 * ipcx_open - open a channel.
 * endpoint: "scheme://rest?options"; validated in full before any system call.
 * flags: IPCX_SEND and/or IPCX_RECV, optionally IPCX_CREATE (listen, bind,
 * create the object) and IPCX_EXCL. Does not block: a sender whose receiver is
 * not there yet gets IPCX_ENOPEER at once (retry, or start the receiver).
 * Objects that hold messages without a receiver (shm://, mq://, semshm://,
 * sysv-mq://) are created by whichever side opens first, IPCX_CREATE or not:
 * a sender that comes first creates the object and its messages wait there
 * for the receiver (a mistyped name strands them: ipcx_unlink it).
 * On success *chp owns the channel until ipcx_close(). Returns 0 or IPCX_E*.
 */
IPCX_API int ipcx_open(const char *endpoint, int flags, ipcx_chan **chp);

/*
 * ipcx_pipe - an anonymous pipe as two channels, for a parent and its child.
 * *rdp receives, *wrp sends. options: NULL or "raw", "maxmsg=N" (as after
 * '?'). Both fds are close-on-exec. Returns 0 or IPCX_E*.
 */
IPCX_API int ipcx_pipe(const char *options, ipcx_chan **rdp, ipcx_chan **wrp);

/*
 * ipcx_send - send one message of len bytes from buf.
 * Blocks up to timeout_ms for room. Returns 0 once the whole message sits in
 * the kernel object or the ring; never a part of it. The caller keeps buf.
 * IPCX_EMSGSIZE if len exceeds the transport's limit, IPCX_EPEER if the peer
 * is gone (never SIGPIPE), IPCX_ETIMEDOUT.
 */
IPCX_API int ipcx_send(ipcx_chan *ch, const void *buf, size_t len,
                       int timeout_ms);

/*
 * ipcx_sendv - send n messages in order, msgs[i] being one message of
 * iov_len bytes at iov_base, in as few system calls as the transport
 * allows: pipe://, fifo://, unix:// and tcp:// write the frames of up to
 * 256 messages with one writev(); shm:// copies them all into the ring and
 * wakes the receiver once; every other transport sends them one by one.
 * The receiver sees n ordinary messages. timeout_ms bounds the whole call.
 * Returns n when all went; k (1 <= k < n) when messages 0..k-1 went and
 * message k did not (full until the timeout, too large, peer gone:
 * ipcx_errmsg() says which; sending again from msgs + k returns the
 * error); a negative IPCX_E* when none went; 0 for n == 0. A message
 * counted sits whole in the kernel object or the ring, and no byte of a
 * later one does, with the exception ipcx_send has too: a stream that took
 * part of a frame when the receiver then made no room for the rest before
 * the timeout is out of step, and later sends fail with IPCX_ESTATE. With
 * timeout 0 a pipe or FIFO is only given whole frames in writes of at most
 * PIPE_BUF bytes, which it takes whole or not at all: polling a full pipe
 * never cuts a message of up to PIPE_BUF - 4 bytes. The caller keeps the
 * buffers.
 */
IPCX_API int ipcx_sendv(ipcx_chan *ch, const struct iovec *msgs, int n,
                        int timeout_ms);

/*
 * ipcx_recv - receive one whole message into buf (capacity cap).
 * Blocks up to timeout_ms. Returns the message length (0 is a valid empty
 * message). If the message is longer than cap, returns IPCX_ENOBUFS, leaves
 * the message queued and ipcx_pending() tells its size.
 * IPCX_EPEER when the only peer is gone, IPCX_ECORRUPT on a bad frame.
 * Bytes of buf past the returned length may have been written.
 */
IPCX_API ssize_t ipcx_recv(ipcx_chan *ch, void *buf, size_t cap,
                           int timeout_ms);

/*
 * ipcx_recv_alloc - receive one message into a buffer allocated for it.
 * On success *bufp is a malloc'd buffer (free() it; never NULL, even for an
 * empty message) and the length is returned.
 */
IPCX_API ssize_t ipcx_recv_alloc(ipcx_chan *ch, void **bufp, int timeout_ms);

/*
 * ipcx_pending - size of the message that the last ipcx_recv() refused with
 * IPCX_ENOBUFS, or IPCX_ESTATE if there is none.
 */
IPCX_API ssize_t ipcx_pending(ipcx_chan *ch);

/*
 * ipcx_fd - a file descriptor that polls readable (POLLIN) when a receive may
 * make progress, for poll/epoll. Owned by the channel: do not close it or
 * read from it. A wake-up may be spurious: receive with timeout 0 after it.
 */
IPCX_API int ipcx_fd(ipcx_chan *ch);

/*
 * ipcx_peer - the credentials of the sender of the last message received,
 * where the transport can tell (unix sockets: SO_PEERCRED). Fields it cannot
 * tell are -1. Returns 0 or IPCX_E*.
 */
IPCX_API int ipcx_peer(ipcx_chan *ch, struct ipcx_peer *peer);

/*
 * Zero-copy (shm:// today; IPCX_ENOTSUP elsewhere).
 * ipcx_loan reserves len bytes in the ring and points *ptr at them; write the
 * message there, then ipcx_commit(ch, ptr, used) publishes used <= len bytes.
 * One loan at a time per channel. ipcx_peek points *ptr at the next message
 * in place and returns its length; ipcx_release frees it. The pointer is
 * valid until ipcx_release/ipcx_close. Both block up to timeout_ms.
 */
IPCX_API int ipcx_loan(ipcx_chan *ch, size_t len, void **ptr, int timeout_ms);
IPCX_API int ipcx_commit(ipcx_chan *ch, void *ptr, size_t len);
IPCX_API ssize_t ipcx_peek(ipcx_chan *ch, const void **ptr, int timeout_ms);
IPCX_API int ipcx_release(ipcx_chan *ch);

/*
 * ipcx_close - stop I/O and free the channel. Accepts NULL. Removes nothing
 * by name except what only this channel could use (a listener's unix socket
 * path it created). Returns 0 or the first error met while closing.
 */
IPCX_API int ipcx_close(ipcx_chan *ch);

/*
 * ipcx_unlink - remove the named object behind an endpoint (a FIFO, a unix
 * socket path, a shm segment, a POSIX or System V message queue).
 * IPCX_ENOENT if there is none.
 */
IPCX_API int ipcx_unlink(const char *endpoint);

/* ipcx_strerror - a short static text for an IPCX_E* code. */
IPCX_API const char *ipcx_strerror(int code);

/*
 * ipcx_errname - the code's name without prefix ("ETIMEDOUT"), or
 * "UNKNOWN".
 */
IPCX_API const char *ipcx_errname(int code);

/*
 * ipcx_errmsg - the calling thread's last detailed error: what failed and,
 * where there is one, what to do. Valid until the thread's next ipcx call.
 */
IPCX_API const char *ipcx_errmsg(void);

/* ipcx_version - the library's version string. */
IPCX_API const char *ipcx_version(void);

#ifdef __cplusplus
}
#endif

#endif /* IPCX_H */
