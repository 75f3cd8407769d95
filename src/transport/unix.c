/*
 * unix.c - unix:///path and unix://@abstract: unix stream sockets carrying
 * framed messages (docs/FORMAT.md section 1).
 *
 * IPCX_CREATE listens. The listener is a fan-in: one channel receives the
 * next whole message from any connected sender, accepting new senders as
 * they come, and a send replies to the sender of the last message. Each
 * accepted connection's SO_PEERCRED is recorded and reported through
 * ipcx_peer(); ?uid=N / ?gid=N refuse senders with other credentials.
 * Without IPCX_CREATE the channel connects, and may send and receive.
 *
 * Permissions: the socket file is created with ?mode= (default 0600) from
 * the start, by fchmod() on the socket before bind(): the kernel creates
 * the file with the socket inode's mode minus the umask, so there is no
 * moment at which it is more open than asked. Abstract sockets have no
 * file and no permissions: anyone in the network namespace may connect, so
 * use ?uid= there.
 */
#include "internal.h"
#include "stream.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

struct unix_priv {
	struct ipcx__sock s; /* first: the shared ops take ch->priv as one */
	bool created;        /* we bound this path: close removes it */
	dev_t dev;
	ino_t ino;
	char name[8 + sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static bool un_abstract(const struct ipcx__ep *ep)
{
	return ep->name[0] == '@';
}

/* Fill the socket address for ep. Returns 0 or IPCX_ENAMETOOLONG. */
static int un_addr(const struct ipcx__ep *ep, struct sockaddr_un *a,
                   socklen_t *len)
{
	size_t n = ep->name_len;

	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	/* sun_path holds 108 bytes: a path and its NUL, or a NUL and an
	 * abstract name of up to 107 bytes (the parser checks this too). */
	if (n >= sizeof(a->sun_path))
		return ipcx__err(IPCX_ENAMETOOLONG,
		                 "unix://%s: the name is %zu bytes, the "
		                 "kernel's limit is %zu (use a shorter path "
		                 "or unix://@name)",
		                 ep->name, n, sizeof(a->sun_path) - 1);
	if (un_abstract(ep)) {
		/* Abstract: a leading NUL, then the name, no terminator. */
		memcpy(a->sun_path + 1, ep->name + 1, n - 1);
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	} else {
		memcpy(a->sun_path, ep->name, n);
		*len =
		    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	}
	return 0;
}

/*
 * Ask whether a listener is alive at a: 1 yes, 0 no (stale socket), 2 the
 * path vanished meanwhile, or -errno. The probe connection, if it gets
 * through, is closed at once: the live listener sees a sender leave at a
 * frame boundary and ignores it.
 */
static int un_probe(const struct sockaddr_un *a, socklen_t len)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int r, e;

	if (fd < 0)
		return -errno;
	r = connect(fd, (const struct sockaddr *)a, len);
	e = errno;
	close(fd);
	if (r == 0 || e == EAGAIN)
		return 1; /* EAGAIN: alive, its backlog is full */
	if (e == ECONNREFUSED)
		return 0;
	if (e == ENOENT)
		return 2;
	return -e;
}

/*
 * Admit an accepted connection: record its credentials and refuse it when
 * ?uid= / ?gid= ask for others.
 */
static int un_admit(struct ipcx__fanin *f, struct ipcx__stream *c)
{
	struct ucred cr;
	socklen_t l = sizeof(cr);

	if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cr, &l) < 0)
		return -1;
	if ((f->ep->set & IPCX__O_UID) && cr.uid != f->ep->uid)
		return -1;
	if ((f->ep->set & IPCX__O_GID) && cr.gid != f->ep->gid)
		return -1;
	c->peer.pid = cr.pid;
	c->peer.uid = cr.uid;
	c->peer.gid = cr.gid;
	return 0;
}

/*
 * Bind fd to a, reclaiming a stale socket file left by a listener that
 * died. Returns 0 or IPCX_E*.
 */
static int un_bind(ipcx_chan *ch, struct unix_priv *p, int fd,
                   const struct sockaddr_un *a, socklen_t len)
{
	const char *path = ch->ep.name;

	for (int tries = 0;; tries++) {
		struct stat st;
		int e, live;

		if (bind(fd, (const struct sockaddr *)a, len) == 0)
			return 0;
		e = errno;
		if (e != EADDRINUSE) {
			char what[sizeof(p->name) + 8];
			snprintf(what, sizeof(what), "bind %s", p->name);
			return ipcx__errno_path(e, what, path);
		}
		if (un_abstract(&ch->ep))
			return ipcx__err(IPCX_EEXIST,
			                 "bind %s: address in use (another "
			                 "listener has this name)",
			                 p->name);
		if (tries >= 3)
			break;
		if (lstat(path, &st) < 0) {
			if (errno == ENOENT)
				continue; /* gone meanwhile: try again */
			return ipcx__errno(errno, "bind %s: lstat", p->name);
		}
		if (!S_ISSOCK(st.st_mode))
			return ipcx__err(
			    IPCX_EEXIST,
			    "bind %s: the path exists and is not a "
			    "socket (remove it or pick another path)",
			    p->name);
		if (ch->flags & IPCX_EXCL)
			return ipcx__err(IPCX_EEXIST,
			                 "bind %s: the socket file exists "
			                 "(IPCX_EXCL)",
			                 p->name);
		live = un_probe(a, len);
		if (live == 1)
			break;
		if (live < 0)
			return ipcx__errno(-live,
			                   "bind %s: probing the old "
			                   "socket",
			                   p->name);
		/*
		 * Nobody listens: a listener died without removing its
		 * file. Remove it and bind again. (Two processes reclaiming
		 * at the same instant could both unlink; the loser's bind
		 * then fails or it unlinks the winner's fresh socket. We
		 * accept that tiny window rather than lock a directory.)
		 */
		if (live == 0 && unlink(path) < 0 && errno != ENOENT)
			return ipcx__errno(errno,
			                   "bind %s: removing the stale socket",
			                   p->name);
	}
	return ipcx__err(IPCX_EEXIST,
	                 "bind %s: address in use (a listener is live there)",
	                 p->name);
}

static int un_listen(ipcx_chan *ch, struct unix_priv *p,
                     const struct sockaddr_un *a, socklen_t len)
{
	int fd, r;
	struct stat st;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ipcx__errno(errno, "socket for %s", p->name);
	/* The file takes the socket inode's mode at bind(): set it first. */
	if (!un_abstract(&ch->ep) && fchmod(fd, ch->ep.mode) < 0) {
		r = ipcx__errno(errno, "fchmod %s", p->name);
		close(fd);
		return r;
	}
	r = un_bind(ch, p, fd, a, len);
	if (r < 0) {
		close(fd);
		return r;
	}
	if (!un_abstract(&ch->ep)) {
		if (lstat(ch->ep.name, &st) == 0) {
			p->created = true;
			p->dev = st.st_dev;
			p->ino = st.st_ino;
			/* The umask may have taken bits the caller asked for:
			 * give them back (this only ever widens). */
			if ((st.st_mode & 07777) != ch->ep.mode)
				chmod(ch->ep.name, ch->ep.mode);
		}
	}
	if (listen(fd, SOMAXCONN) < 0) {
		r = ipcx__errno(errno, "listen %s", p->name);
		close(fd);
		return r;
	}
	p->s.listening = true;
	return ipcx__fanin_init(&p->s.fan, fd, &ch->ep, p->name, un_admit);
}

static int un_dial(ipcx_chan *ch, struct unix_priv *p,
                   const struct sockaddr_un *a, socklen_t len)
{
	struct ucred cr;
	socklen_t l = sizeof(cr);
	int fd, e;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ipcx__errno(errno, "socket for %s", p->name);
	/* A unix connect completes at once (or fails): no waiting here. */
	if (connect(fd, (const struct sockaddr *)a, len) < 0) {
		e = errno;
		close(fd);
		if (e == ENOENT || e == ECONNREFUSED)
			return ipcx__err(IPCX_ENOPEER,
			                 "connect %s: nobody is listening "
			                 "(start the receiver first, or give "
			                 "`ipcx send -t MS` to wait for it)",
			                 p->name);
		if (e == EAGAIN)
			return ipcx__err(
			    IPCX_EAGAIN,
			    "connect %s: the listener's backlog is "
			    "full (it is not accepting; retry "
			    "later)",
			    p->name);
		return ipcx__errno(e, "connect %s", p->name);
	}
	ipcx__solo_init(&p->s.solo, fd, IPCX__ST_SOCK, &ch->ep, p->name);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &l) == 0) {
		p->s.solo.st.peer.pid = cr.pid;
		p->s.solo.st.peer.uid = cr.uid;
		p->s.solo.st.peer.gid = cr.gid;
		/* ?uid= / ?gid= on a dialer: talk only to that listener. */
		if ((ch->ep.set & IPCX__O_UID) && cr.uid != ch->ep.uid)
			return ipcx__err(IPCX_EACCES,
			                 "connect %s: the listener runs as uid "
			                 "%u, not %u as ?uid= asks",
			                 p->name, (unsigned)cr.uid,
			                 (unsigned)ch->ep.uid);
		/* Without ?uid= or ?trust=any, talk only to our own uid:
		 * the same owner check as on every other named object. */
		if (!(ch->ep.set & IPCX__O_UID) && !ch->ep.trust_any &&
		    cr.uid != geteuid())
			return ipcx__err(IPCX_EACCES,
			                 "connect %s: the listener runs as uid "
			                 "%u, not as you (uid %u); add "
			                 "?trust=any or ?uid=%u to talk to it",
			                 p->name, (unsigned)cr.uid,
			                 (unsigned)geteuid(), (unsigned)cr.uid);
		if ((ch->ep.set & IPCX__O_GID) && cr.gid != ch->ep.gid)
			return ipcx__err(IPCX_EACCES,
			                 "connect %s: the listener runs as gid "
			                 "%u, not %u as ?gid= asks",
			                 p->name, (unsigned)cr.gid,
			                 (unsigned)ch->ep.gid);
	}
	/* Ours alone: one blocking read a message (stream.h, `blk`). */
	ipcx__stream_blocking(&p->s.solo.st);
	return 0;
}

/*
 * open: IPCX_CREATE binds and listens (reclaiming a stale socket file),
 * else connects. Does not block. On failure ch->priv is safe for close.
 */
static int unix_open(ipcx_chan *ch)
{
	struct unix_priv *p;
	struct sockaddr_un a;
	socklen_t len = 0;
	int r;

	r = un_addr(&ch->ep, &a, &len);
	if (r < 0)
		return r;
	p = calloc(1, sizeof(*p));
	if (!p)
		return ipcx__err(IPCX_ENOMEM, "out of memory");
	ipcx__sock_reset(&p->s);
	snprintf(p->name, sizeof(p->name), "unix://%.108s", ch->ep.name);
	ch->priv = p;
	if (ch->flags & IPCX_CREATE)
		return un_listen(ch, p, &a, len);
	return un_dial(ch, p, &a, len);
}

/*
 * close: closes every connection; a listener also removes the socket file
 * it created, if the file is still that socket (not a newer listener's).
 */
static int unix_close(ipcx_chan *ch)
{
	struct unix_priv *p = ch->priv;
	struct stat st;

	if (!p)
		return 0;
	if (p->created && lstat(ch->ep.name, &st) == 0 &&
	    S_ISSOCK(st.st_mode) && st.st_dev == p->dev && st.st_ino == p->ino)
		unlink(ch->ep.name);
	ipcx__sock_fini(&p->s);
	free(p);
	ch->priv = NULL;
	return 0;
}

/* unlink: remove the socket file (never anything that is not a socket). */
static int unix_unlink(const struct ipcx__ep *ep)
{
	struct stat st;

	if (un_abstract(ep))
		return ipcx__err(IPCX_ENOENT,
		                 "unix://%s: an abstract socket has no file; "
		                 "it vanishes with its listener",
		                 ep->name);
	if (lstat(ep->name, &st) < 0) {
		if (errno == ENOENT)
			return ipcx__err(
			    IPCX_ENOENT,
			    "unlink unix://%s: no such socket file "
			    "(already removed, or check the path)",
			    ep->name);
		return ipcx__errno(errno, "unlink unix://%s", ep->name);
	}
	if (!S_ISSOCK(st.st_mode))
		return ipcx__err(IPCX_EINVAL,
		                 "unlink unix://%s: not a socket; not removing "
		                 "it",
		                 ep->name);
	if (unlink(ep->name) < 0)
		return ipcx__errno(errno, "unlink unix://%s", ep->name);
	return 0;
}

const struct ipcx__transport ipcx__tp_unix = {
    .scheme = IPCX__S_UNIX,
    .open = unix_open,
    .send = ipcx__sock_send,
    .sendv = ipcx__sock_sendv,
    .recv = ipcx__sock_recv,
    .fd = ipcx__sock_fd,
    .close = unix_close,
    .unlink = unix_unlink,
};
