/*
 * channel.c - the public API: endpoint -> transport table -> ops.
 *
 * Adding a mechanism means one file in src/transport/ and one row here.
 * This file turns timeouts into deadlines once, checks arguments and
 * directions, and leaves everything mechanism-specific to the ops.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The transport table: one row per implemented scheme. */
static const struct ipcx__transport *const transports[] = {
    &ipcx__tp_pipe, /* pipe:// */
    &ipcx__tp_fifo, /* fifo:// */
    &ipcx__tp_unix, /* unix:// */
    &ipcx__tp_tcp,  /* tcp:// */
    &ipcx__tp_udp,  /* udp:// */
    &ipcx__tp_shm,  /* shm:// */
    &ipcx__tp_file, /* file:// */
    /* signal:// */
    &ipcx__tp_signal,
    &ipcx__tp_nats, /* nats:// (needs libnats at run time) */
    &ipcx__tp_sem,  /* sem:// */
    /* sysv-sem:// */
    &ipcx__tp_sysv_sem,
    /* semshm:// */
    &ipcx__tp_semshm,
    &ipcx__tp_mq, /* mq:// */
    /* sysv-mq:// */
    &ipcx__tp_sysvmq,
};

static const struct ipcx__transport *tp_find(enum ipcx__scheme s)
{
	for (size_t i = 0; i < sizeof(transports) / sizeof(transports[0]); i++)
		if (transports[i]->scheme == s)
			return transports[i];
	return NULL;
}

static int tp_for(const struct ipcx__ep *ep, const struct ipcx__transport **tpp)
{
	char have[128];
	size_t n = 0;

	*tpp = tp_find(ep->scheme);
	if (*tpp)
		return 0;
	/* Name what is built from the table itself, so it never drifts. */
	have[0] = '\0';
	for (size_t i = 0; i < sizeof(transports) / sizeof(transports[0]); i++)
		n += (size_t)snprintf(
		    have + n, n < sizeof(have) ? sizeof(have) - n : 0, "%s%s",
		    i ? ", " : "", ipcx__scheme_name(transports[i]->scheme));
	return ipcx__err(
	    IPCX_ENOTSUP,
	    "%s:// is not implemented yet in ipcx %s (implemented: %s)",
	    ipcx__scheme_name(ep->scheme), IPCX_VERSION_STRING, have);
}

ipcx_chan *ipcx__chan_new(const struct ipcx__transport *tp,
                          const struct ipcx__ep *ep, int flags)
{
	ipcx_chan *ch = calloc(1, sizeof(*ch));

	if (!ch)
		return NULL;
	ch->tp = tp;
	ch->ep = *ep;
	ch->flags = flags;
	ch->peer.pid = -1;
	ch->peer.uid = (uid_t)-1;
	ch->peer.gid = (gid_t)-1;
	return ch;
}

int ipcx_open(const char *endpoint, int flags, ipcx_chan **chp)
{
	const struct ipcx__transport *tp;
	struct ipcx__ep *ep;
	ipcx_chan *ch;
	int r;

	if (!chp)
		return ipcx__err(IPCX_EINVAL, "ipcx_open: chp is NULL");
	*chp = NULL;
	if (!endpoint)
		return ipcx__err(IPCX_EINVAL, "ipcx_open: endpoint is NULL");
	if (flags & ~(IPCX_SEND | IPCX_RECV | IPCX_CREATE | IPCX_EXCL))
		return ipcx__err(IPCX_EINVAL, "ipcx_open: unknown flags 0x%x",
		                 (unsigned)flags);
	if (!(flags & (IPCX_SEND | IPCX_RECV)))
		return ipcx__err(IPCX_EINVAL,
		                 "ipcx_open: say IPCX_SEND and/or IPCX_RECV");
	/* struct ipcx__ep holds a 4 KiB name: keep it off the stack. */
	ep = malloc(sizeof(*ep));
	if (!ep)
		return ipcx__err(IPCX_ENOMEM, "out of memory");
	r = ipcx__ep_parse(endpoint, strnlen(endpoint, IPCX__EP_MAX + 1), ep);
	if (r == 0)
		r = tp_for(ep, &tp);
	ch = r == 0 ? ipcx__chan_new(tp, ep, flags) : NULL;
	free(ep);
	if (r < 0)
		return r;
	if (!ch)
		return ipcx__err(IPCX_ENOMEM, "out of memory");
	r = tp->open(ch);
	if (r < 0)
		goto fail_open;
	*chp = ch;
	return 0;
fail_open:
	/* open leaves priv NULL or safe for close; keep open's message. */
	if (ch->priv) {
		char keep[IPCX__ERRMSG_MAX];
		strncpy(keep, ipcx_errmsg(), sizeof(keep) - 1);
		keep[sizeof(keep) - 1] = '\0';
		tp->close(ch);
		ipcx__err(r, "%s", keep);
	}
	free(ch);
	return r;
}

/* Common argument checks for the data calls. */
static int chk(ipcx_chan *ch, int need, const char *fn)
{
	if (!ch)
		return ipcx__err(IPCX_EINVAL, "%s: channel is NULL", fn);
	if (need && !(ch->flags & need))
		return ipcx__err(IPCX_ESTATE,
		                 "%s: channel was not opened for %s", fn,
		                 need == IPCX_SEND ? "sending (IPCX_SEND)"
		                                   : "receiving (IPCX_RECV)");
	return 0;
}

int ipcx_send(ipcx_chan *ch, const void *buf, size_t len, int timeout_ms)
{
	int r = chk(ch, IPCX_SEND, "ipcx_send");

	if (r < 0)
		return r;
	if (!buf && len)
		return ipcx__err(IPCX_EINVAL, "ipcx_send: buf is NULL");
	if (timeout_ms > 0 && ch->tp->try_first) {
		r = ch->tp->send(ch, buf, len, 0);
		if (r != IPCX_ETIMEDOUT)
			return r;
	}
	return ch->tp->send(ch, buf, len, ipcx__deadline(timeout_ms));
}

/* See ipcx.h. One deadline for the whole batch. */
int ipcx_sendv(ipcx_chan *ch, const struct iovec *msgs, int n, int timeout_ms)
{
	int64_t deadline;
	int r = chk(ch, IPCX_SEND, "ipcx_sendv");

	if (r < 0)
		return r;
	if (n < 0 || (!msgs && n))
		return ipcx__err(IPCX_EINVAL, "ipcx_sendv: %s",
		                 n < 0 ? "n is negative" : "msgs is NULL");
	for (int i = 0; i < n; i++)
		if (!msgs[i].iov_base && msgs[i].iov_len)
			return ipcx__err(
			    IPCX_EINVAL,
			    "ipcx_sendv: msgs[%d].iov_base is NULL", i);
	if (n == 0)
		return 0;
	deadline = ipcx__deadline(timeout_ms);
	if (ch->tp->sendv)
		return ch->tp->sendv(ch, msgs, n, deadline);
	/* No batch path: one by one; the first failure ends the batch. */
	for (int i = 0; i < n; i++) {
		r = ch->tp->send(ch, msgs[i].iov_base, msgs[i].iov_len,
		                 deadline);
		if (r < 0)
			return i > 0 ? i : r;
	}
	return n;
}

ssize_t ipcx_recv(ipcx_chan *ch, void *buf, size_t cap, int timeout_ms)
{
	int r = chk(ch, IPCX_RECV, "ipcx_recv");

	if (r < 0)
		return r;
	if (!buf && cap)
		return ipcx__err(IPCX_EINVAL, "ipcx_recv: buf is NULL");
	ch->has_pending = false;
	return ch->tp->recv(ch, buf, cap, ipcx__deadline(timeout_ms));
}

ssize_t ipcx_recv_alloc(ipcx_chan *ch, void **bufp, int timeout_ms)
{
	int64_t deadline = ipcx__deadline(timeout_ms);
	size_t cap = 4096;
	void *buf;
	ssize_t n;
	int r = chk(ch, IPCX_RECV, "ipcx_recv_alloc");

	if (r < 0)
		return r;
	if (!bufp)
		return ipcx__err(IPCX_EINVAL, "ipcx_recv_alloc: bufp is NULL");
	*bufp = NULL;
	buf = malloc(cap);
	if (!buf)
		return ipcx__err(IPCX_ENOMEM, "out of memory");
	for (;;) {
		void *bigger;
		ch->has_pending = false;
		n = ch->tp->recv(ch, buf, cap, deadline);
		if (n != IPCX_ENOBUFS || !ch->has_pending)
			break;
		/* The message waits in the transport; size the buffer for
		 * it and take it. The transport bounds pending by its own
		 * limit (maxmsg, ring size), so this cannot run away. */
		cap = ch->pending ? ch->pending : 1;
		bigger = realloc(buf, cap);
		if (!bigger) {
			free(buf);
			return ipcx__err(IPCX_ENOMEM,
			                 "out of memory for a %zu-byte message",
			                 cap);
		}
		buf = bigger;
	}
	if (n < 0) {
		free(buf);
		return n;
	}
	*bufp = buf;
	return n;
}

ssize_t ipcx_pending(ipcx_chan *ch)
{
	if (!ch)
		return ipcx__err(IPCX_EINVAL, "ipcx_pending: channel is NULL");
	if (!ch->has_pending)
		return ipcx__err(IPCX_ESTATE, "no message is pending");
	return (ssize_t)ch->pending;
}

int ipcx_fd(ipcx_chan *ch)
{
	if (!ch)
		return ipcx__err(IPCX_EINVAL, "ipcx_fd: channel is NULL");
	if (!ch->tp->fd)
		return ipcx__err(IPCX_ENOTSUP, "%s:// has no pollable fd",
		                 ipcx__scheme_name(ch->ep.scheme));
	return ch->tp->fd(ch);
}

int ipcx_peer(ipcx_chan *ch, struct ipcx_peer *peer)
{
	if (!ch || !peer)
		return ipcx__err(IPCX_EINVAL, "ipcx_peer: NULL argument");
	*peer = ch->peer;
	return 0;
}

static int no_zc(ipcx_chan *ch, const char *fn)
{
	return ipcx__err(IPCX_ENOTSUP, "%s: %s:// has no zero-copy path", fn,
	                 ipcx__scheme_name(ch->ep.scheme));
}

int ipcx_loan(ipcx_chan *ch, size_t len, void **ptr, int timeout_ms)
{
	int r = chk(ch, IPCX_SEND, "ipcx_loan");

	if (r < 0)
		return r;
	if (!ptr)
		return ipcx__err(IPCX_EINVAL, "ipcx_loan: ptr is NULL");
	if (!ch->tp->loan)
		return no_zc(ch, "ipcx_loan");
	if (timeout_ms > 0 && ch->tp->try_first) {
		r = ch->tp->loan(ch, len, ptr, 0);
		if (r != IPCX_ETIMEDOUT)
			return r;
	}
	return ch->tp->loan(ch, len, ptr, ipcx__deadline(timeout_ms));
}

int ipcx_commit(ipcx_chan *ch, void *ptr, size_t len)
{
	int r = chk(ch, IPCX_SEND, "ipcx_commit");

	if (r < 0)
		return r;
	if (!ch->tp->commit)
		return no_zc(ch, "ipcx_commit");
	return ch->tp->commit(ch, ptr, len);
}

ssize_t ipcx_peek(ipcx_chan *ch, const void **ptr, int timeout_ms)
{
	int r = chk(ch, IPCX_RECV, "ipcx_peek");

	if (r < 0)
		return r;
	if (!ptr)
		return ipcx__err(IPCX_EINVAL, "ipcx_peek: ptr is NULL");
	if (!ch->tp->peek)
		return no_zc(ch, "ipcx_peek");
	return ch->tp->peek(ch, ptr, ipcx__deadline(timeout_ms));
}

int ipcx_release(ipcx_chan *ch)
{
	int r = chk(ch, IPCX_RECV, "ipcx_release");

	if (r < 0)
		return r;
	if (!ch->tp->release)
		return no_zc(ch, "ipcx_release");
	return ch->tp->release(ch);
}

int ipcx_close(ipcx_chan *ch)
{
	int r = 0;

	if (!ch)
		return 0;
	if (ch->tp && ch->tp->close)
		r = ch->tp->close(ch);
	free(ch);
	return r;
}

int ipcx_unlink(const char *endpoint)
{
	const struct ipcx__transport *tp;
	struct ipcx__ep *ep;
	int r;

	if (!endpoint)
		return ipcx__err(IPCX_EINVAL, "ipcx_unlink: endpoint is NULL");
	/* struct ipcx__ep holds a 4 KiB name: keep it off the stack. */
	ep = malloc(sizeof(*ep));
	if (!ep)
		return ipcx__err(IPCX_ENOMEM, "out of memory");
	r = ipcx__ep_parse(endpoint, strnlen(endpoint, IPCX__EP_MAX + 1), ep);
	if (r == 0)
		r = tp_for(ep, &tp);
	if (r == 0 && !tp->unlink)
		r = ipcx__err(IPCX_ENOTSUP, "%s:// has no name to remove",
		              ipcx__scheme_name(ep->scheme));
	if (r == 0)
		r = tp->unlink(ep);
	free(ep);
	return r;
}
