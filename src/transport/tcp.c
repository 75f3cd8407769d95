/*
 * tcp.c - tcp://host:port: TCP carrying framed messages (docs/FORMAT.md
 * section 1). The same model as unix://: IPCX_CREATE listens and fans in
 * every sender (replies go to the sender of the last message), otherwise
 * the channel connects. TCP_NODELAY everywhere: a message is written in one
 * call, so Nagle would only add latency. TCP has no SO_PEERCRED: ipcx_peer()
 * reports -1.
 *
 * host is an IPv4 literal, an IPv6 literal (written [::1] in the endpoint;
 * the parser strips the brackets) or a name for getaddrinfo(), which reads
 * /etc/hosts first, so localhost does not touch DNS.
 */
#include "internal.h"
#include "stream.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* How long open() waits for a TCP handshake before giving up. */
#define TCP_CONNECT_MS 5000

struct tcp_priv {
	struct ipcx__sock s; /* first: the shared ops take ch->priv as one */
	char name[300];
};

/* Resolve ep's host and port. Returns 0 with *res set, or IPCX_E*. */
static int tcp_resolve(const struct ipcx__ep *ep, bool passive,
                       const char *name, struct addrinfo **res)
{
	struct addrinfo hints;
	char port[8];
	int r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
	snprintf(port, sizeof(port), "%u", (unsigned)ep->port);
	r = getaddrinfo(ep->name, port, &hints, res);
	if (r == EAI_SYSTEM)
		return ipcx__errno(errno, "resolve %s", name);
	if (r == EAI_MEMORY)
		return ipcx__err(IPCX_ENOMEM, "resolve %s: out of memory",
		                 name);
	if (r != 0)
		return ipcx__err(IPCX_ENOENT,
		                 "resolve %s: %s (use an address such as "
		                 "127.0.0.1 or a name in /etc/hosts)",
		                 name, gai_strerror(r));
	return 0;
}

static void tcp_nodelay(int fd)
{
	int one = 1;

	/* Best effort: without it messages are only slower. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* Admit an accepted connection: no credentials over TCP, just NODELAY. */
static int tcp_admit(struct ipcx__fanin *f, struct ipcx__stream *c)
{
	(void)f;
	tcp_nodelay(c->fd);
	return 0;
}

/*
 * Listen on the first address of res that works. A name such as localhost
 * gives both ::1 and 127.0.0.1 and one listening socket takes only one of
 * them: prefer IPv4, which is what people type on the sending side (a
 * dialer by name tries every address anyway).
 */
static int tcp_listen(ipcx_chan *ch, struct tcp_priv *p, struct addrinfo *res)
{
	int fd = -1, e = 0;

	for (int pass = 0; pass < 2 && fd < 0; pass++) {
		for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
			int one = 1;

			if ((ai->ai_family == AF_INET) != (pass == 0))
				continue;
			fd = socket(ai->ai_family,
			            SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			            0);
			if (fd < 0) {
				e = errno;
				continue;
			}
			/* Rebind at once after a restart (TIME_WAIT). */
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
			           sizeof(one));
			if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
			    listen(fd, SOMAXCONN) == 0)
				break;
			e = errno;
			close(fd);
			fd = -1;
		}
	}
	if (fd < 0) {
		if (e == EADDRINUSE)
			return ipcx__err(IPCX_EEXIST,
			                 "listen %s: address in use (another "
			                 "listener has this port)",
			                 p->name);
		if (e == EADDRNOTAVAIL)
			return ipcx__err(IPCX_EINVAL,
			                 "listen %s: not an address of this "
			                 "machine",
			                 p->name);
		if (e == EACCES)
			return ipcx__err(IPCX_EACCES,
			                 "listen %s: ports below 1024 need "
			                 "privileges",
			                 p->name);
		return ipcx__errno(e, "listen %s", p->name);
	}
	p->s.listening = true;
	return ipcx__fanin_init(&p->s.fan, fd, &ch->ep, p->name, tcp_admit);
}

/* Connect one address with a deadline. Returns the fd or -1 with errno. */
static int tcp_connect1(const struct addrinfo *ai, int64_t deadline)
{
	socklen_t l = sizeof(int);
	int fd, e = 0, r;

	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	            0);
	if (fd < 0)
		return -1;
	tcp_nodelay(fd);
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		e = errno;
		goto fail;
	}
	r = ipcx__poll1(fd, POLLOUT, deadline);
	if (r < 0) {
		e = r == IPCX_ETIMEDOUT ? ETIMEDOUT : EIO;
		goto fail;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l) < 0)
		e = errno;
	if (e == 0)
		return fd;
fail:
	close(fd);
	errno = e;
	return -1;
}

static int tcp_dial(ipcx_chan *ch, struct tcp_priv *p, struct addrinfo *res)
{
	int64_t deadline = ipcx__deadline(TCP_CONNECT_MS);
	int fd = -1, e = 0;

	for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
		fd = tcp_connect1(ai, deadline);
		/* Keep the most telling error: a refusal beats the rest. */
		if (fd < 0 && e != ECONNREFUSED)
			e = errno;
	}
	if (fd < 0) {
		if (e == ECONNREFUSED)
			return ipcx__err(IPCX_ENOPEER,
			                 "connect %s: nobody is listening "
			                 "(start the receiver first, or give "
			                 "`ipcx send -t MS` to wait for it)",
			                 p->name);
		if (e == ETIMEDOUT)
			return ipcx__err(IPCX_ETIMEDOUT,
			                 "connect %s: no answer within %d ms "
			                 "(is the host up, is a firewall "
			                 "dropping it?)",
			                 p->name, TCP_CONNECT_MS);
		return ipcx__errno(e, "connect %s", p->name);
	}
	ipcx__solo_init(&p->s.solo, fd, IPCX__ST_SOCK, &ch->ep, p->name);
	/* Ours alone: one blocking read a message (stream.h, `blk`). */
	ipcx__stream_blocking(&p->s.solo.st);
	return 0;
}

/*
 * open: IPCX_CREATE listens on host:port, else connects (waiting at most
 * TCP_CONNECT_MS for the handshake; loopback answers at once).
 */
static int tcp_open(ipcx_chan *ch)
{
	struct addrinfo *res;
	struct tcp_priv *p;
	int r;

	p = calloc(1, sizeof(*p));
	if (!p)
		return ipcx__err(IPCX_ENOMEM, "out of memory");
	ipcx__sock_reset(&p->s);
	if (strchr(ch->ep.name, ':'))
		snprintf(p->name, sizeof(p->name), "tcp://[%.253s]:%u",
		         ch->ep.name, (unsigned)ch->ep.port);
	else
		snprintf(p->name, sizeof(p->name), "tcp://%.253s:%u",
		         ch->ep.name, (unsigned)ch->ep.port);
	ch->priv = p;
	r = tcp_resolve(&ch->ep, ch->flags & IPCX_CREATE, p->name, &res);
	if (r < 0)
		return r;
	if (ch->flags & IPCX_CREATE)
		r = tcp_listen(ch, p, res);
	else
		r = tcp_dial(ch, p, res);
	freeaddrinfo(res);
	return r;
}

/* close: closes the listener and every connection. */
static int tcp_close(ipcx_chan *ch)
{
	struct tcp_priv *p = ch->priv;

	if (p) {
		ipcx__sock_fini(&p->s);
		free(p);
		ch->priv = NULL;
	}
	return 0;
}

const struct ipcx__transport ipcx__tp_tcp = {
    .scheme = IPCX__S_TCP,
    .open = tcp_open,
    .send = ipcx__sock_send,
    .sendv = ipcx__sock_sendv,
    .recv = ipcx__sock_recv,
    .fd = ipcx__sock_fd,
    .close = tcp_close,
};
