/*
 * udp.c - udp://host:port: one UDP datagram is one message, unframed
 * (docs/FORMAT.md section 2).
 *
 * IPCX_CREATE binds host:port and receives from anyone; its sends reply to
 * the source of the last datagram received (request/reply). Otherwise the
 * channel connects its socket to host:port: sends go there, only that
 * address's datagrams are received, and an ICMP "port unreachable" for an
 * earlier datagram surfaces as IPCX_EPEER on a later send or receive.
 *
 * UDP keeps no promise of delivery or order; ipcx adds none. A message is
 * at most 65507 bytes over IPv4, 65527 over IPv6 (the 16-bit length field
 * minus headers); larger ones are refused with IPCX_EMSGSIZE.
 *
 * A receive whose buffer is too small first peeks (MSG_PEEK | MSG_TRUNC
 * tells the datagram's true size without consuming it), so the datagram
 * stays queued for the retry; with a buffer of 64 KiB or more no datagram
 * can be truncated and one recvfrom() suffices.
 */
#include "internal.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define UDP_MAX4 65507u
#define UDP_MAX6 65527u
/* A buffer this big cannot truncate any datagram. */
#define UDP_ANY 65536u

struct udp_priv {
	int fd;
	bool bound; /* IPCX_CREATE: receives from anyone, replies */
	size_t max; /* largest message for this address family */
	struct sockaddr_storage last; /* source of the last datagram */
	socklen_t lastlen;
	char name[300];
};

/*
 * open: resolve, then bind (IPCX_CREATE) or connect. Does not block beyond
 * name resolution (connect on UDP only sets the default destination).
 */
static int udp_open(ipcx_chan *ch)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct udp_priv *p;
	bool bind_it = ch->flags & IPCX_CREATE;
	char port[8];
	int r, e = 0;

	p = calloc(1, sizeof(*p));
	if (!p)
		return ipcx__err(IPCX_ENOMEM, "out of memory");
	p->fd = -1;
	p->bound = bind_it;
	if (strchr(ch->ep.name, ':'))
		snprintf(p->name, sizeof(p->name), "udp://[%.253s]:%u",
		         ch->ep.name, (unsigned)ch->ep.port);
	else
		snprintf(p->name, sizeof(p->name), "udp://%.253s:%u",
		         ch->ep.name, (unsigned)ch->ep.port);
	ch->priv = p;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICSERV | (bind_it ? AI_PASSIVE : 0);
	snprintf(port, sizeof(port), "%u", (unsigned)ch->ep.port);
	r = getaddrinfo(ch->ep.name, port, &hints, &res);
	if (r == EAI_SYSTEM)
		return ipcx__errno(errno, "resolve %s", p->name);
	if (r != 0)
		return ipcx__err(IPCX_ENOENT,
		                 "resolve %s: %s (use an address such as "
		                 "127.0.0.1 or a name in /etc/hosts)",
		                 p->name, gai_strerror(r));
	/*
	 * A name such as localhost may give ::1 and 127.0.0.1; both ends
	 * must pick the same one, and UDP has no handshake to tell a wrong
	 * pick: prefer IPv4 on both sides, as people type 127.0.0.1.
	 */
	for (int pass = 0; pass < 2 && p->fd < 0; pass++) {
		for (ai = res; ai; ai = ai->ai_next) {
			int fd;

			if ((ai->ai_family == AF_INET) != (pass == 0))
				continue;
			fd = socket(ai->ai_family,
			            SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			            0);
			if (fd < 0) {
				e = errno;
				continue;
			}
			if ((bind_it ? bind(fd, ai->ai_addr, ai->ai_addrlen)
			             : connect(fd, ai->ai_addr,
			                       ai->ai_addrlen)) == 0) {
				p->fd = fd;
				p->max = ai->ai_family == AF_INET6 ? UDP_MAX6
				                                   : UDP_MAX4;
				break;
			}
			e = errno;
			close(fd);
		}
	}
	freeaddrinfo(res);
	if (p->fd >= 0)
		return 0;
	if (e == EADDRINUSE)
		return ipcx__err(
		    IPCX_EEXIST,
		    "bind %s: address in use (another receiver has "
		    "this port)",
		    p->name);
	if (e == EACCES && bind_it)
		return ipcx__err(IPCX_EACCES,
		                 "bind %s: ports below 1024 need privileges",
		                 p->name);
	return ipcx__errno(e, "%s %s", bind_it ? "bind" : "connect", p->name);
}

/* The ICMP error that a connected UDP socket reports late. */
static int udp_refused(const struct udp_priv *p, const char *op)
{
	return ipcx__err(IPCX_EPEER,
	                 "%s %s: nobody is receiving there (port "
	                 "unreachable; start the receiver first)",
	                 op, p->name);
}

/*
 * send: one datagram of len bytes, or nothing. Blocks until the deadline
 * only while the socket's send buffer is full. A bound channel sends to the
 * source of the last datagram it received.
 */
static int udp_send(ipcx_chan *ch, const void *buf, size_t len,
                    int64_t deadline)
{
	struct udp_priv *p = ch->priv;
	const struct sockaddr *to = NULL;
	socklen_t tolen = 0;

	if (len > p->max)
		return ipcx__err(IPCX_EMSGSIZE,
		                 "send %s: a UDP datagram holds at most %zu "
		                 "bytes over IPv%d, this message is %zu (use "
		                 "tcp:// or unix:// for larger messages)",
		                 p->name, p->max, p->max == UDP_MAX6 ? 6 : 4,
		                 len);
	if (p->bound) {
		if (p->lastlen == 0)
			return ipcx__err(IPCX_ESTATE,
			                 "send %s: a bound udp:// channel only "
			                 "replies: receive a datagram first, "
			                 "then send answers its source",
			                 p->name);
		to = (const struct sockaddr *)&p->last;
		tolen = p->lastlen;
	}
	for (;;) {
		ssize_t n = sendto(p->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL,
		                   to, tolen);
		int r;

		if (n >= 0)
			return 0; /* a datagram goes whole or not at all */
		if (errno == EINTR)
			continue;
		if (errno == ECONNREFUSED)
			return udp_refused(p, "send");
		if (errno == EMSGSIZE)
			return ipcx__err(IPCX_EMSGSIZE,
			                 "send %s: %zu bytes is more than the "
			                 "kernel takes in one datagram here",
			                 p->name, len);
		if (errno != EAGAIN)
			return ipcx__errno(errno, "send %s", p->name);
		r = ipcx__poll1(p->fd, POLLOUT, deadline);
		if (r == IPCX_ETIMEDOUT)
			return ipcx__err(
			    IPCX_ETIMEDOUT,
			    "send %s: timed out, nothing sent (the "
			    "socket's send buffer stayed full)",
			    p->name);
		if (r < 0)
			return r;
	}
}

/*
 * recv: one whole datagram into buf. Blocks until the deadline. If it does
 * not fit, IPCX_ENOBUFS with ch->pending set, and the datagram stays
 * queued. No credentials: ch->peer stays -1.
 */
static ssize_t udp_recv(ipcx_chan *ch, void *buf, size_t cap, int64_t deadline)
{
	struct udp_priv *p = ch->priv;

	for (;;) {
		struct sockaddr_storage from;
		socklen_t fromlen = sizeof(from);
		ssize_t n;
		int r;

		n = 0;
		if (cap < UDP_ANY) {
			/* Learn the size without taking the datagram. */
			n = recvfrom(p->fd, buf, cap,
			             MSG_DONTWAIT | MSG_PEEK | MSG_TRUNC, NULL,
			             NULL);
			if (n >= 0 && (size_t)n > cap) {
				ch->pending = (size_t)n;
				ch->has_pending = true;
				return ipcx__err(
				    IPCX_ENOBUFS,
				    "recv %s: the next datagram is %zd bytes, "
				    "the buffer holds %zu (it stays queued: "
				    "receive again with a bigger buffer)",
				    p->name, n, cap);
			}
		}
		/* A failed peek already consumed any pending socket error
		 * (an ICMP refusal): report it rather than read again. */
		if (n >= 0)
			n = recvfrom(p->fd, buf, cap, MSG_DONTWAIT,
			             (struct sockaddr *)&from, &fromlen);
		if (n >= 0) {
			if (p->bound) {
				memcpy(&p->last, &from, fromlen);
				p->lastlen = fromlen;
			}
			ch->has_pending = false;
			ch->pending = 0;
			return n;
		}
		if (errno == EINTR)
			continue;
		if (errno == ECONNREFUSED)
			return udp_refused(p, "recv");
		if (errno != EAGAIN)
			return ipcx__errno(errno, "recv %s", p->name);
		r = ipcx__poll1(p->fd, POLLIN, deadline);
		if (r == IPCX_ETIMEDOUT)
			return ipcx__err(IPCX_ETIMEDOUT,
			                 "recv %s: timed out (no datagram "
			                 "arrived)",
			                 p->name);
		if (r < 0)
			return r;
	}
}

/* fd: the socket itself; nothing is buffered in user space. */
static int udp_fd(ipcx_chan *ch)
{
	struct udp_priv *p = ch->priv;

	return p->fd;
}

/* close: closes the socket. */
static int udp_close(ipcx_chan *ch)
{
	struct udp_priv *p = ch->priv;

	if (p) {
		if (p->fd >= 0)
			close(p->fd);
		free(p);
		ch->priv = NULL;
	}
	return 0;
}

const struct ipcx__transport ipcx__tp_udp = {
    .scheme = IPCX__S_UDP,
    .open = udp_open,
    .send = udp_send,
    .recv = udp_recv,
    .fd = udp_fd,
    .close = udp_close,
};
