/*
 * file.c - file:///dir: a spool directory, each message one file
 * (docs/FORMAT.md section 5; names and header in spool.h).
 *
 * Sending writes the message under a temporary name t.<chan>.<seq> while
 * holding an OFD write lock on it, fsyncs it, renames it into place as
 * m.<stamp>.<chan>.<seq> (never over an existing name) and fsyncs the
 * directory; ?fsync=0 skips both fsyncs (faster; a crash of the machine
 * may then lose or empty recent messages, which receivers refuse as
 * corrupt, never deliver torn). The stamp is the commit time, so names
 * sort in the order messages were committed, from any number of senders.
 * A writer killed mid-write leaves only its temporary file: receivers
 * ignore it, and `ipcx clean file:///dir` removes it once no process holds
 * its lock (the kernel drops an OFD lock when its holder dies, in any PID
 * namespace, where a pid in the name would say nothing).
 *
 * Receiving claims the oldest message by renaming it to c.<...>.<rx>
 * while holding an OFD read lock on it: rename is atomic, so with any
 * number of receivers exactly one wins each message. The winner reads,
 * checks the header (a payload length that is exactly the rest of the
 * file) and unlinks it. A receiver killed between claim and unlink leaves
 * c.*, which `ipcx clean` renames back to m.* once its lock is gone.
 * Receivers wait with inotify on the directory, never by polling.
 *
 * Either end creates the directory if it is missing (0700, or ?mode= plus
 * x where r), so senders may start first; a directory of another uid is
 * refused unless ?trust=any; a symlink as the directory, or where a message
 * should be, is refused, never followed (a refused entry is moved aside as
 * x.*). Close removes nothing; ipcx_unlink removes the spool and what is in
 * it, if everything there is ipcx's.
 */
#include "internal.h"
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

struct file_priv {
	int dirfd;
	int ino;  /* receiver: inotify on the directory */
	int efd;  /* receiver: eventfd, signalled while messages are known */
	int epfd; /* receiver: epoll over ino and efd, ipcx_fd() */
	bool ready;
	uint64_t id;   /* this channel's part of names */
	uint64_t seq;  /* next message (sender) */
	uint64_t last; /* last stamp used (sender) */
	/* Receiver: the sorted message names of the last scan. */
	char (*batch)[IPCX__SPOOL_MSG_LEN + 1];
	size_t n, next, cap;
	char name[16 + PATH_MAX];
};

/* A 64-bit id unlikely to be another channel's, in any PID namespace. */
static uint64_t file_random_id(void)
{
	uint64_t x = 0;

	if (getrandom(&x, sizeof(x), GRND_NONBLOCK) != sizeof(x))
		x = (uint64_t)ipcx__now_ns() ^ ((uint64_t)getpid() << 32) ^
		    (uint64_t)(uintptr_t)&x;
	return x;
}

/*
 * Take an OFD lock on fd: without waiting (F_OFD_SETLK), or waiting
 * (F_OFD_SETLKW). Returns 0, or -1 with errno.
 */
static int file_lock(int fd, short type, int cmd)
{
	struct flock fl;
	int r;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	while ((r = fcntl(fd, cmd, &fl)) < 0 && errno == EINTR)
		;
	return r;
}

/* The receiver's wake-up fds: inotify first, so nothing is missed. */
static int file_open_wait(struct file_priv *p)
{
	char proc[40];
	struct epoll_event ev;

	p->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (p->ino < 0)
		return ipcx__errno(errno,
		                   "%s: inotify_init1 (raise "
		                   "fs.inotify.max_user_instances)",
		                   p->name);
	/* Watch the directory we opened, not whatever the path is now. */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", p->dirfd);
	if (inotify_add_watch(p->ino, proc,
	                      IN_MOVED_TO | IN_CREATE | IN_ONLYDIR) < 0)
		return ipcx__errno(errno,
		                   "%s: inotify_add_watch (raise "
		                   "fs.inotify.max_user_watches)",
		                   p->name);
	p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (p->efd < 0 || p->epfd < 0)
		return ipcx__errno(errno, "%s: eventfd/epoll", p->name);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->ino, &ev) < 0 ||
	    epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->efd, &ev) < 0)
		return ipcx__errno(errno, "%s: epoll_ctl", p->name);
	return 0;
}

/*
 * open: make the directory if missing (either end), open it without
 * following a symlink, check its owner; a receiver also sets up inotify.
 */
static int file_open(ipcx_chan *ch)
{
	const char *path = ch->ep.name;
	bool recv = ch->flags & IPCX_RECV;
	mode_t dmode = 0700;
	bool created = false;
	struct file_priv *p;
	struct stat st;

	if (recv == !!(ch->flags & IPCX_SEND))
		return ipcx__err(
		    IPCX_EINVAL,
		    "file://%s: an end either sends or receives: "
		    "open it with IPCX_SEND or IPCX_RECV, not both",
		    path);
	p = calloc(1, sizeof(*p));
	if (!p)
		return ipcx__err(IPCX_ENOMEM, "out of memory");
	p->dirfd = p->ino = p->efd = p->epfd = -1;
	ch->priv = p;
	snprintf(p->name, sizeof(p->name), "file://%.4095s", path);
	p->id = file_random_id();

	/* mode= is for the message files; the directory adds x where r. */
	if (ch->ep.set & IPCX__O_MODE)
		dmode = ch->ep.mode | ((ch->ep.mode & 0444) >> 2);
	if (mkdir(path, dmode) == 0)
		created = true;
	else if (errno != EEXIST)
		return ipcx__errno(errno, "mkdir %s", p->name);
	else if ((ch->flags & IPCX_CREATE) && (ch->flags & IPCX_EXCL))
		return ipcx__err(IPCX_EEXIST,
		                 "mkdir %s: the path exists "
		                 "(IPCX_EXCL)",
		                 p->name);
	p->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (p->dirfd < 0) {
		if (errno == ELOOP || errno == ENOTDIR)
			return ipcx__err(
			    IPCX_EEXIST,
			    "open %s: the path is a symlink or not "
			    "a directory; refused (a spool is a "
			    "directory named directly)",
			    p->name);
		return ipcx__errno(errno, "open %s", p->name);
	}
	if (fstat(p->dirfd, &st) < 0)
		return ipcx__errno(errno, "fstat %s", p->name);
	if (st.st_uid != geteuid() && !ch->ep.trust_any)
		return ipcx__err(
		    IPCX_EACCES,
		    "open %s: the spool belongs to uid %u, not to you (uid "
		    "%u); add ?trust=any to use it anyway",
		    p->name, (unsigned)st.st_uid, (unsigned)geteuid());
	/* mkdir applied the umask: give back the bits asked for. */
	if (created && (st.st_mode & 07777) != dmode)
		fchmod(p->dirfd, dmode);
	if (recv) {
		int r = file_open_wait(p);
		if (r < 0)
			return r;
		/* A backlog from before we came: make ipcx_fd() say so. */
		p->ready = false;
		if (eventfd_write(p->efd, 1) == 0)
			p->ready = true;
	}
	return 0;
}

/* Write all of iov to fd. Returns 0 or -1 with errno. */
static int file_write_all(int fd, struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t w = writev(fd, iov, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

/*
 * A fresh temporary file, write-locked by us and still linked (ipcx clean
 * may take an unlocked one in the instant between create and lock: then
 * we make another). Returns the fd, or IPCX_E*; tmp gets its name.
 */
static int file_tmp(ipcx_chan *ch, struct file_priv *p, char *tmp, size_t cap)
{
	for (int tries = 0; tries < 100; tries++) {
		struct stat st;
		int fd;

		snprintf(tmp, cap, "t.%016llx.%016llx",
		         (unsigned long long)p->id, (unsigned long long)p->seq);
		fd =
		    openat(p->dirfd, tmp,
		           O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		           ch->ep.mode);
		if (fd < 0 && errno == EEXIST) {
			p->seq++;
			continue;
		}
		if (fd < 0)
			return ipcx__errno(errno, "send %s: creating %s",
			                   p->name, tmp);
		if (file_lock(fd, F_WRLCK, F_OFD_SETLK) == 0 &&
		    fstat(fd, &st) == 0 && st.st_nlink > 0) {
			/* openat applied the umask: the mode asked for. */
			if ((st.st_mode & 07777) != ch->ep.mode)
				fchmod(fd, ch->ep.mode);
			return fd;
		}
		close(fd);
		p->seq++;
	}
	return ipcx__err(IPCX_EBUSY,
	                 "send %s: cannot keep a temporary file "
	                 "(something removes them at once)",
	                 p->name);
}

/* Rename tmp to its message name, never over an existing file. */
static int file_commit(struct file_priv *p, const char *tmp, uint64_t seq)
{
	char final[IPCX__SPOOL_MSG_LEN + 1];
	struct timespec ts;
	uint64_t stamp;

	clock_gettime(CLOCK_REALTIME, &ts);
	stamp = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	/* Our own names keep our order even if the clock steps back. */
	if (stamp <= p->last)
		stamp = p->last + 1;
	for (;;) {
		p->last = stamp;
		snprintf(final, sizeof(final), "m.%020llu.%016llx.%016llx",
		         (unsigned long long)stamp, (unsigned long long)p->id,
		         (unsigned long long)seq);
		if (renameat2(p->dirfd, tmp, p->dirfd, final,
		              RENAME_NOREPLACE) == 0)
			return 0;
		if (errno == EEXIST) {
			stamp++;
			continue;
		}
		if (errno != EINVAL && errno != ENOSYS)
			return ipcx__errno(errno, "send %s: renaming %s",
			                   p->name, tmp);
		/* No RENAME_NOREPLACE here: link (which never replaces),
		 * then drop the temporary name. */
		if (linkat(p->dirfd, tmp, p->dirfd, final, 0) == 0) {
			unlinkat(p->dirfd, tmp, 0);
			return 0;
		}
		if (errno == EEXIST) {
			stamp++;
			continue;
		}
		return ipcx__errno(errno, "send %s: linking %s", p->name, tmp);
	}
}

/*
 * send: one message file, whole or not at all. Does not wait for a
 * receiver (a spool stores); the deadline is not used (disk writes do not
 * wait for room).
 */
static int file_send(ipcx_chan *ch, const void *buf, size_t len,
                     int64_t deadline)
{
	struct file_priv *p = ch->priv;
	char tmp[IPCX__SPOOL_TMP_LEN + 1];
	uint8_t hdr[IPCX__SPOOL_HDR];
	struct iovec iov[2];
	uint64_t seq;
	int fd, r;

	(void)deadline;
	if (len > ch->ep.maxmsg)
		return ipcx__err(IPCX_EMSGSIZE,
		                 "send %s: message of %zu bytes exceeds maxmsg "
		                 "%zu (raise ?maxmsg=, up to 1G)",
		                 p->name, len, ch->ep.maxmsg);
	fd = file_tmp(ch, p, tmp, sizeof(tmp));
	if (fd < 0)
		return fd;
	seq = p->seq++;
	ipcx__spool_hdr_put(hdr, len, (uint32_t)getpid());
	iov[0].iov_base = hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = (void *)buf;
	iov[1].iov_len = len;
	if (file_write_all(fd, iov, len ? 2 : 1) < 0) {
		r = ipcx__errno(errno, "send %s: writing %s", p->name, tmp);
		goto fail;
	}
	/* The data is on disk before the name says it is a message. */
	if (!ch->ep.nosync && fdatasync(fd) < 0) {
		r = ipcx__errno(errno, "send %s: fdatasync", p->name);
		goto fail;
	}
	r = file_commit(p, tmp, seq);
	if (r < 0)
		goto fail;
	/* Drop the lock at once: a receiver waits for it (file_take). */
	close(fd);
	/* And the new name is on disk before send returns. */
	if (!ch->ep.nosync && fsync(p->dirfd) < 0)
		return ipcx__errno(errno, "send %s: fsync of the directory",
		                   p->name);
	return 0;
fail:
	unlinkat(p->dirfd, tmp, 0);
	close(fd);
	return r;
}

static int file_name_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Add a message name to the batch. Returns 0 or IPCX_ENOMEM. */
static int file_batch_add(struct file_priv *p, const char *name)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		void *nb = realloc(p->batch, cap * sizeof(*p->batch));
		if (!nb)
			return ipcx__err(IPCX_ENOMEM, "out of memory");
		p->batch = nb;
		p->cap = cap;
	}
	memcpy(p->batch[p->n++], name, IPCX__SPOOL_MSG_LEN + 1);
	return 0;
}

/*
 * Read every queued inotify event. Returns a mask: 1 if one may be a
 * message, 2 if the queue overflowed (events were lost). With collect,
 * message names go into the batch.
 */
static int file_drain_events(struct file_priv *p, bool collect)
{
	char ev[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	int got = 0;
	ssize_t n;

	while ((n = read(p->ino, ev, sizeof(ev))) > 0) {
		for (char *q = ev; q < ev + n;) {
			const struct inotify_event *e = (const void *)q;
			enum ipcx__spool_kind k =
			    e->len ? ipcx__spool_kind(e->name)
			           : IPCX__SPOOL_OTHER;
			if (e->mask & IN_Q_OVERFLOW)
				got |= 2;
			/* A temporary file appearing is no message yet. */
			if (k != IPCX__SPOOL_TMP)
				got |= 1;
			if (collect && k == IPCX__SPOOL_MSG &&
			    file_batch_add(p, e->name) < 0)
				got |= 2; /* out of memory: scan again */
			q += sizeof(*e) + e->len;
		}
	}
	return got;
}

/*
 * List the messages: every name, sorted, each once. readdir may miss a
 * name renamed in while it runs (in hash order, it may see a later one
 * of the same sender and miss an earlier one), so the events queued
 * meanwhile are added too: the batch then holds every message committed
 * before the scan ended, and per-sender order holds. Returns 0 or IPCX_E*.
 */
static int file_scan(struct file_priv *p)
{
	struct dirent *e;
	size_t k;
	DIR *d;
	int fd, r = 0;

	do {
		p->n = p->next = 0;
		/* Renamed in before the listing starts: readdir sees it. */
		file_drain_events(p, false);
		fd = openat(p->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0 || !(d = fdopendir(fd))) {
			int err = errno;
			if (fd >= 0)
				close(fd);
			return ipcx__errno(
			    err, "recv %s: reading the directory", p->name);
		}
		while (r == 0 && (e = readdir(d)) != NULL)
			if (ipcx__spool_kind(e->d_name) == IPCX__SPOOL_MSG)
				r = file_batch_add(p, e->d_name);
		closedir(d);
		if (r < 0)
			return r;
	} while (file_drain_events(p, true) & 2);
	if (p->n < 2) /* batch is NULL until the first message */
		return 0;
	qsort(p->batch, p->n, sizeof(*p->batch), file_name_cmp);
	/* A name both listed and announced: keep one. */
	k = 1;
	for (size_t i = 1; i < p->n; i++)
		if (strcmp(p->batch[i], p->batch[k - 1]) != 0)
			memcpy(p->batch[k++], p->batch[i], sizeof(*p->batch));
	p->n = k;
	return 0;
}

/* Move a refused entry aside as x.<rest> so the spool goes on. */
static void file_aside(struct file_priv *p, const char *name)
{
	char aside[IPCX__SPOOL_CLAIM_LEN + 1];

	snprintf(aside, sizeof(aside), "x.%s", name + 2);
	renameat(p->dirfd, name, p->dirfd, aside);
}

/* pread exactly n bytes at off. Returns 0, or -1 (errno 0: file short). */
static int file_read_all(int fd, void *buf, size_t n, off_t off)
{
	while (n > 0) {
		ssize_t r = pread(fd, buf, n, off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = 0;
			return -1;
		}
		buf = (char *)buf + r;
		n -= (size_t)r;
		off += r;
	}
	return 0;
}

/*
 * Claim and read message `name`. Returns the length, IPCX_EAGAIN when
 * another receiver took it first, or IPCX_E* (ENOBUFS and EMSGSIZE leave
 * it in the spool).
 */
static ssize_t file_take(ipcx_chan *ch, struct file_priv *p, const char *name,
                         void *buf, size_t cap)
{
	char claim[IPCX__SPOOL_CLAIM_LEN + 1];
	uint8_t hdr[IPCX__SPOOL_HDR];
	uint64_t len;
	uint32_t pid;
	struct stat st;
	ssize_t r;
	int fd;

	fd = openat(p->dirfd, name,
	            O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return IPCX_EAGAIN;
	if (fd < 0 && errno == ELOOP) {
		file_aside(p, name);
		return ipcx__err(IPCX_ECORRUPT,
		                 "recv %s: %s is a symlink where a message "
		                 "should be; refused, not followed (moved "
		                 "aside as x.%s)",
		                 p->name, name, name + 2);
	}
	if (fd < 0)
		return ipcx__errno(errno, "recv %s: opening %s", p->name, name);
	if (fstat(fd, &st) < 0) {
		r = ipcx__errno(errno, "recv %s: fstat %s", p->name, name);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		file_aside(p, name);
		r = ipcx__err(IPCX_ECORRUPT,
		              "recv %s: %s is not a regular file; refused "
		              "(moved aside as x.%s)",
		              p->name, name, name + 2);
		goto out;
	}
	len = st.st_size > IPCX__SPOOL_HDR
	          ? (uint64_t)st.st_size - IPCX__SPOOL_HDR
	          : 0;
	if (len > ch->ep.maxmsg) {
		r = ipcx__err(IPCX_EMSGSIZE,
		              "recv %s: %s holds %llu bytes, above maxmsg %zu "
		              "(raise ?maxmsg=, or remove the file)",
		              p->name, name, (unsigned long long)len,
		              ch->ep.maxmsg);
		goto out;
	}
	if (len > cap) {
		ch->pending = (size_t)len;
		ch->has_pending = true;
		r = ipcx__err(IPCX_ENOBUFS,
		              "recv %s: message of %llu bytes, buffer %zu",
		              p->name, (unsigned long long)len, cap);
		goto out;
	}
	/*
	 * Locked before the claim, so a claimed file always has a live lock
	 * while its receiver lives (ipcx clean relies on it). A write lock
	 * is held only for an instant: by its writer between rename and
	 * close, or by ipcx clean giving back a claimed message; a dead
	 * holder's lock goes with it. So waiting for it is bounded.
	 */
	if (file_lock(fd, F_RDLCK, F_OFD_SETLKW) < 0) {
		r = ipcx__errno(errno, "recv %s: locking %s", p->name, name);
		goto out;
	}
	snprintf(claim, sizeof(claim), "c.%s.%016llx", name + 2,
	         (unsigned long long)p->id);
	if (renameat(p->dirfd, name, p->dirfd, claim) < 0) {
		r = errno == ENOENT ? IPCX_EAGAIN
		                    : ipcx__errno(errno, "recv %s: claiming %s",
		                                  p->name, name);
		goto out;
	}
	/* Ours alone now. Whole and as announced, or refused. */
	if (file_read_all(fd, hdr, sizeof(hdr), 0) < 0 ||
	    ipcx__spool_hdr_get(hdr, sizeof(hdr), (uint64_t)st.st_size, &len,
	                        &pid) < 0 ||
	    file_read_all(fd, buf, (size_t)len, IPCX__SPOOL_HDR) < 0) {
		file_aside(p, claim);
		r = ipcx__err(IPCX_ECORRUPT,
		              "recv %s: %s is not a whole message (bad header "
		              "or length); moved aside as x.%s",
		              p->name, name, claim + 2);
		goto out;
	}
	ch->peer.pid = pid ? (pid_t)pid : -1;
	ch->peer.uid = st.st_uid;
	ch->peer.gid = (gid_t)-1;
	unlinkat(p->dirfd, claim, 0);
	r = (ssize_t)len;
out:
	close(fd);
	return r;
}

/* Say (or stop saying) through ipcx_fd() that messages are known. */
static void file_set_ready(struct file_priv *p, bool ready)
{
	eventfd_t v;

	if (ready == p->ready)
		return;
	if (ready)
		eventfd_write(p->efd, 1);
	else
		eventfd_read(p->efd, &v);
	p->ready = ready;
}

/*
 * recv: the oldest message no other receiver took. Blocks until deadline,
 * woken by inotify.
 */
static ssize_t file_recv(ipcx_chan *ch, void *buf, size_t cap, int64_t deadline)
{
	struct file_priv *p = ch->priv;
	bool scanned = false;
	ssize_t r;

	for (;;) {
		while (p->next < p->n) {
			r = file_take(ch, p, p->batch[p->next], buf, cap);
			if (r == IPCX_ENOBUFS || r == IPCX_EMSGSIZE)
				return r; /* it stays first in line */
			p->next++;
			if (r == IPCX_EAGAIN)
				continue; /* another receiver's */
			if (r >= 0)
				file_set_ready(p, p->next < p->n);
			return r;
		}
		if (!scanned) {
			/* The scan drains the events first: a message renamed
			 * in after it leaves an event to wake us. */
			r = file_scan(p);
			if (r < 0)
				return r;
			scanned = true;
			if (p->n)
				continue;
			file_set_ready(p, false);
		}
		r = ipcx__poll1(p->ino, POLLIN, deadline);
		if (r == IPCX_ETIMEDOUT)
			return ipcx__err(IPCX_ETIMEDOUT,
			                 "recv %s: timed out (no message "
			                 "arrived)",
			                 p->name);
		if (r < 0)
			return r;
		if (file_drain_events(p, false)) {
			r = file_scan(p);
			if (r < 0)
				return r;
		}
	}
}

/* fd: the receiver's epoll fd (inotify plus "messages known"). */
static int file_fd(ipcx_chan *ch)
{
	struct file_priv *p = ch->priv;

	if (p->epfd < 0)
		return ipcx__err(IPCX_ENOTSUP,
		                 "%s: a sending end has nothing to poll for",
		                 p->name);
	return p->epfd;
}

/* close: closes our descriptors; the spool and its messages stay. */
static int file_close(ipcx_chan *ch)
{
	struct file_priv *p = ch->priv;

	if (!p)
		return 0;
	if (p->epfd >= 0)
		close(p->epfd);
	if (p->efd >= 0)
		close(p->efd);
	if (p->ino >= 0)
		close(p->ino);
	if (p->dirfd >= 0)
		close(p->dirfd);
	free(p->batch);
	free(p);
	ch->priv = NULL;
	return 0;
}

/*
 * unlink: remove the spool: every entry of ours in it (messages, claimed,
 * temporary and set-aside files), then the directory. A directory holding
 * anything else is kept, and said so.
 */
static int file_unlink(const struct ipcx__ep *ep)
{
	struct dirent *e;
	bool foreign = false;
	DIR *d;
	int fd =
	    open(ep->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT)
		return ipcx__err(IPCX_ENOENT, "unlink file://%s: no such spool",
		                 ep->name);
	if (fd < 0)
		return ipcx__errno(errno,
		                   "unlink file://%s (not a spool "
		                   "directory?)",
		                   ep->name);
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return ipcx__errno(errno, "unlink file://%s", ep->name);
	}
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (ipcx__spool_kind(e->d_name) == IPCX__SPOOL_OTHER ||
		    unlinkat(dirfd(d), e->d_name, 0) < 0)
			foreign = true;
	}
	closedir(d);
	if (rmdir(ep->name) < 0) {
		if (foreign || errno == ENOTEMPTY)
			return ipcx__err(
			    IPCX_EBUSY,
			    "unlink file://%s: the directory holds "
			    "files that are not ipcx messages; "
			    "kept it",
			    ep->name);
		return ipcx__errno(errno, "unlink file://%s", ep->name);
	}
	return 0;
}

const struct ipcx__transport ipcx__tp_file = {
    .scheme = IPCX__S_FILE,
    .open = file_open,
    .send = file_send,
    .recv = file_recv,
    .fd = file_fd,
    .close = file_close,
    .unlink = file_unlink,
};
