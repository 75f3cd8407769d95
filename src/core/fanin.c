/*
 * fanin.c - a listening socket and its accepted connections as one channel
 * (unix:// and tcp:// listeners): any sender's next message, replies to
 * whoever sent the last one.
 */
#include "stream.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* How many epoll events one wait takes in. */
#define FAN_BATCH 16
/* Room for this many connections at first; it doubles as they come. */
#define FAN_CONN_INIT 8
/* Out of fds or memory for a new connection: try again after this long. */
#define FAN_RETRY_MS 100

/* epoll tags for the two fds that are not connections. */
static char fan_tag_listen, fan_tag_ev;

/* See stream.h. Does not block; takes ownership of lfd. */
int ipcx__fanin_init(struct ipcx__fanin *f, int lfd, const struct ipcx__ep *ep,
                     const char *name, ipcx__admit_fn admit)
{
	int r;

	memset(f, 0, sizeof(*f));
	f->lfd = lfd;
	ipcx__ps_reset(&f->ps);
	f->ep = ep;
	f->name = name;
	f->admit = admit;
	r = ipcx__ps_open(&f->ps, false, NULL, name);
	if (r < 0)
		return r;
	return ipcx__ps_add(&f->ps, lfd, &fan_tag_listen, name);
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
	ipcx__ps_close(&f->ps);
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
	ipcx__ps_del(&f->ps, c->fd);
	ipcx__stream_fini(c);
	free(c);
	f->freed = true; /* an fd is free: a paused accept may go on */
	f->conn[i] = f->conn[--f->nconn];
	if (f->rr >= f->nconn)
		f->rr = 0;
}

/*
 * Out of file descriptors or memory for a new connection: stop watching
 * the listening socket, so epoll does not report it again and again (the
 * connection stays queued in the kernel, and so do the messages its sender
 * already wrote). Connections already accepted are served as before. The
 * next try comes when a connection closes (an fd is free again) or after
 * FAN_RETRY_MS, whichever is first: a bounded cost, never a spin.
 */
static void fan_pause(struct ipcx__fanin *f, int e)
{
	if (!f->paused)
		ipcx__ps_del(&f->ps, f->lfd);
	f->paused = true;
	f->paused_errno = e;
	f->retry_at = ipcx__now_ns() + FAN_RETRY_MS * IPCX__NS_PER_MS;
}

/* Whether accept failed for want of a resource that a closing connection
 * or a little time gives back (rather than for a broken socket). */
static bool fan_exhausted(int e)
{
	return e == EMFILE || e == ENFILE || e == ENOMEM || e == ENOBUFS;
}

/* Room in f->conn for one more connection. Returns false if out of memory. */
static bool fan_room(struct ipcx__fanin *f)
{
	size_t n;
	void *p;

	if (f->nconn < f->capconn)
		return true;
	n = f->capconn ? 2 * f->capconn : FAN_CONN_INIT;
	p = realloc(f->conn, n * sizeof(*f->conn));
	if (!p)
		return false;
	f->conn = p;
	f->capconn = n;
	return true;
}

/*
 * Accept every waiting connection. Memory for it is found before accept4,
 * so a connection once accepted is never dropped for want of it. Returns 0
 * (also when it had to pause, see fan_pause) or IPCX_E*.
 */
static int fan_accept(struct ipcx__fanin *f)
{
	for (;;) {
		struct ipcx__stream *c = NULL;
		int fd, r;

		if (fan_room(f))
			c = malloc(sizeof(*c));
		if (!c) {
			fan_pause(f, ENOMEM);
			return 0;
		}
		fd = accept4(f->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			int e = errno;
			free(c);
			if (e == EINTR || e == ECONNABORTED)
				continue;
			if (fan_exhausted(e)) {
				fan_pause(f, e);
				return 0;
			}
			if (e != EAGAIN)
				return ipcx__errno(e, "accept on %s", f->name);
			/* All taken: watch the listener again if we had
			 * stopped. */
			if (f->paused) {
				r = ipcx__ps_add(&f->ps, f->lfd,
				                 &fan_tag_listen, f->name);
				if (r < 0)
					return r;
				f->paused = false;
			}
			return 0;
		}
		ipcx__stream_init(c, fd, IPCX__ST_SOCK, f->ep, f->name);
		if (f->admit && f->admit(f, c) < 0) {
			/* Refused (credentials): close it, keep listening. */
			ipcx__stream_fini(c);
			free(c);
			continue;
		}
		r = ipcx__ps_add(&f->ps, fd, c, f->name);
		if (r < 0) {
			ipcx__stream_fini(c);
			free(c);
			return r;
		}
		f->conn[f->nconn++] = c;
	}
}

/*
 * While paused: try to accept again if a connection closed since, or the
 * retry time has come. Returns 0 or IPCX_E*.
 */
static int fan_resume(struct ipcx__fanin *f)
{
	if (!f->paused || (!f->freed && ipcx__now_ns() < f->retry_at))
		return 0;
	f->freed = false;
	return fan_accept(f);
}

/*
 * The epoll_wait timeout: until the deadline, but while paused no later
 * than the next retry.
 */
static int fan_wait_ms(const struct ipcx__fanin *f, int64_t deadline)
{
	int ms = ipcx__remaining_ms(deadline);
	int64_t left;
	int retry;

	if (!f->paused)
		return ms;
	left = f->retry_at - ipcx__now_ns();
	retry = left <= 0
	            ? 0
	            : (int)((left + IPCX__NS_PER_MS - 1) / IPCX__NS_PER_MS);
	return ms < 0 || retry < ms ? retry : ms;
}

/* Keep the eventfd in step with the frames buffered in any connection. */
static void fan_arm(struct ipcx__fanin *f)
{
	bool any = false;

	if (f->ps.evfd < 0)
		return;
	for (size_t i = 0; i < f->nconn && !any; i++)
		any = ipcx__stream_ready(f->conn[i]);
	ipcx__ps_arm(&f->ps, any);
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

/* The timeout error; while paused it says why new senders wait. */
static int fan_timed_out(const struct ipcx__fanin *f)
{
	if (!f->paused)
		return ipcx__err(IPCX_ETIMEDOUT,
		                 "recv %s: timed out (no message from any "
		                 "sender)",
		                 f->name);
	if (f->paused_errno == EMFILE || f->paused_errno == ENFILE)
		return ipcx__err(
		    IPCX_ETIMEDOUT,
		    "recv %s: timed out; new senders wait to be accepted: "
		    "out of file descriptors (%s; raise the limit with "
		    "ulimit -n, or have fewer senders connected at once)",
		    f->name,
		    f->paused_errno == EMFILE ? "this process's limit"
		                              : "the system's limit");
	return ipcx__err(IPCX_ETIMEDOUT,
	                 "recv %s: timed out; new senders wait to be "
	                 "accepted: out of memory for a connection",
	                 f->name);
}

/*
 * See stream.h. Blocks until the deadline. Order of service: a message
 * refused with ENOBUFS first, then frames already buffered (round robin),
 * then whatever epoll reports (new connections are accepted on the way).
 */
ssize_t ipcx__fanin_recv(struct ipcx__fanin *f, void *buf, size_t cap,
                         ipcx_chan *ch, int64_t deadline)
{
	struct epoll_event ev[FAN_BATCH];
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
		r = fan_resume(f);
		if (r < 0)
			goto out;
		n = epoll_wait(f->ps.epfd, ev, FAN_BATCH,
		               fan_wait_ms(f, deadline));
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
			return fan_timed_out(f);
	}
out:
	fan_arm(f);
	return r;
}

/* See stream.h. Blocks until the deadline; the caller keeps the buffers. */
int ipcx__fanin_sendv(struct ipcx__fanin *f, const struct iovec *msgs, int n,
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
	return ipcx__stream_sendv(f->last, msgs, n, deadline);
}

/* See stream.h: a batch of one. */
int ipcx__fanin_send(struct ipcx__fanin *f, const void *buf, size_t len,
                     int64_t deadline)
{
	struct iovec m = {.iov_base = (void *)buf, .iov_len = len};
	int r = ipcx__fanin_sendv(f, &m, 1, deadline);

	return r < 0 ? r : 0;
}

/* See stream.h. Does not block; the epoll fd is owned by f. */
int ipcx__fanin_fd(struct ipcx__fanin *f)
{
	int r = ipcx__ps_open(&f->ps, true, &fan_tag_ev, f->name);

	if (r < 0)
		return r;
	fan_arm(f);
	return f->ps.epfd;
}
