/*
 * sock.c - the send, recv and fd ops of a socket channel (unix://, tcp://):
 * dispatch to the fan-in when it listens, to the solo when it dialled.
 */
#include "stream.h"

#include <string.h>

/* See stream.h. Does not block. */
void ipcx__sock_reset(struct ipcx__sock *s)
{
	memset(s, 0, sizeof(*s));
	s->fan.lfd = -1;
	ipcx__ps_reset(&s->fan.ps);
	s->solo.st.fd = s->solo.st.bfd = -1;
	ipcx__ps_reset(&s->solo.ps);
}

/* See stream.h: the listener replies, a dialer sends. Blocks. */
int ipcx__sock_sendv(ipcx_chan *ch, const struct iovec *msgs, int n,
                     int64_t deadline)
{
	struct ipcx__sock *s = ch->priv;

	if (s->listening)
		return ipcx__fanin_sendv(&s->fan, msgs, n, deadline);
	return ipcx__stream_sendv(&s->solo.st, msgs, n, deadline);
}

/* See stream.h: a batch of one. Blocks. */
int ipcx__sock_send(ipcx_chan *ch, const void *buf, size_t len,
                    int64_t deadline)
{
	struct iovec m = {.iov_base = (void *)buf, .iov_len = len};
	int r = ipcx__sock_sendv(ch, &m, 1, deadline);

	return r < 0 ? r : 0;
}

/* See stream.h. Blocks until the deadline. */
ssize_t ipcx__sock_recv(ipcx_chan *ch, void *buf, size_t cap, int64_t deadline)
{
	struct ipcx__sock *s = ch->priv;

	if (s->listening)
		return ipcx__fanin_recv(&s->fan, buf, cap, ch, deadline);
	return ipcx__solo_recv(&s->solo, buf, cap, ch, deadline);
}

/* See stream.h. Does not block. */
int ipcx__sock_fd(ipcx_chan *ch)
{
	struct ipcx__sock *s = ch->priv;

	if (s->listening)
		return ipcx__fanin_fd(&s->fan);
	return ipcx__solo_fd(&s->solo);
}

/* See stream.h. Both halves accept their reset state. */
void ipcx__sock_fini(struct ipcx__sock *s)
{
	ipcx__fanin_fini(&s->fan);
	ipcx__solo_fini(&s->solo);
}
