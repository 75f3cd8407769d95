/*
 * solo.c - one byte stream as a channel (pipe://, fifo://, a unix:// or
 * tcp:// dialer): receives through the stream codec and keeps the
 * channel's pollable fd in step with the frames it buffers.
 */
#include "stream.h"

#include <stdbool.h>
#include <unistd.h>

/* See stream.h. Does not block. */
void ipcx__solo_init(struct ipcx__solo *so, int fd, enum ipcx__st_kind kind,
                     const struct ipcx__ep *ep, const char *name)
{
	ipcx__stream_init(&so->st, fd, kind, ep, name);
	ipcx__ps_reset(&so->ps);
}

/* See stream.h. Closes the pollset, then the stream. */
void ipcx__solo_fini(struct ipcx__solo *so)
{
	ipcx__ps_close(&so->ps);
	ipcx__stream_fini(&so->st);
}

/* The connection was given up: close it now, as FORMAT.md promises. */
static void solo_reap(struct ipcx__solo *so)
{
	if (so->st.killed && so->st.fd >= 0) {
		ipcx__ps_del(&so->ps, so->st.fd);
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
	ipcx__ps_arm(&so->ps, ipcx__stream_ready(&so->st));
	return r;
}

/* See stream.h. Does not block; the epoll fd is owned by so. */
int ipcx__solo_fd(struct ipcx__solo *so)
{
	int r;

	if (so->ps.epfd >= 0)
		return so->ps.epfd;
	r = ipcx__ps_open(&so->ps, true, NULL, so->st.name);
	if (r == 0 && so->st.fd >= 0)
		r = ipcx__ps_add(&so->ps, so->st.fd, NULL, so->st.name);
	if (r < 0) {
		ipcx__ps_close(&so->ps);
		return r;
	}
	ipcx__ps_arm(&so->ps, ipcx__stream_ready(&so->st));
	return so->ps.epfd;
}

/* See stream.h. Does not block; takes ownership of newfd. */
void ipcx__solo_swap_fd(struct ipcx__solo *so, int newfd)
{
	ipcx__ps_del(&so->ps, so->st.fd);
	if (so->st.fd >= 0)
		close(so->st.fd);
	so->st.fd = newfd;
	so->st.hup = false;
	/* If this fails the pollable fd misses this FIFO's wake-ups; there
	 * is nothing better to do than carry on (receives still work). */
	if (so->ps.epfd >= 0)
		(void)ipcx__ps_add(&so->ps, newfd, NULL, so->st.name);
}
