/*
 * shm.c - shm://name: the message transport over a ring of records in
 * /dev/shm/name, with its wake-up policies.
 *
 * The ring's bytes are ring.c's, the segment and who lives segment.c's;
 * this file owns the wake-up policy (spin, adaptive, sleep) on futexes
 * that live in the segment, the pollable fd, what to do about dead peers,
 * and the zero-copy ops. The layout is in docs/FORMAT.md section 3.
 *
 * Wake-ups: a waiter announces itself in a wait word (rx_wait for the
 * receiver, tx_wait for writers short of room), fences, re-checks, then
 * FUTEX_WAITs on that word. The other side does its store, fences, and
 * only if the word is set swaps it to 0 and issues FUTEX_WAKE: a busy
 * receiver costs a sender no system call at all. The futexes are shared
 * (no FUTEX_PRIVATE_FLAG): the waiters are in other processes.
 *
 * Dead peers: a writer that dies holding the writers' lock is found dead
 * by the next one, which takes the lock over and repairs (segment.c). A
 * writer that dies between reserve and commit leaves a record with stamp 0
 * that names its writer id: the receiver, finding it at head for a while,
 * asks whether that writer's lock byte is still held and skips the record
 * if not (unless it got committed meanwhile). A dead receiver's role (its
 * byte lock) is free for the next receiver; senders short of room whose
 * receiver died get IPCX_EPEER, others just time out.
 */
#include "bus.h"
#include "futex.h"
#include "idle.h"
#include "internal.h"
#include "segment.h"

#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Spin policy: look at the tail for a dead writer at most this often. */
#define SHM_STUCK_PEEK_NS 1000000
/* Re-check a stuck writer's or a receiver's liveness this often. */
#define SHM_LIVE_SLICE_NS 10000000
/* The hot spin reads the clock once per this many rounds (a power of 2). */
#define SHM_CLOCK_EVERY 32u

struct shm {
	struct ipcx__seg seg;          /* the segment, our roles, the ring */
	struct ipcx__ring *ring;       /* &seg.ring */
	struct ipcx__idle_policy idle; /* wait=, spin= and their estimates */
	bool broken; /* truncated under us (SIGBUS caught): never touch it */
	bool loaned;
	struct ipcx__ring_resv loan;
	bool peeked;
	int poll_fd; /* receiver's datagram socket for ipcx_fd(), or -1 */
	int poke_fd; /* sender's socket to poke a polling receiver, or -1 */
	uint64_t chk_pos; /* last stuck record whose writer we checked */
	int64_t chk_ns;
	int64_t rx_chk_ns; /* last check of a dead receiver (sender side) */
};

/* One receiver's wait: the policy's part, and dead writers. */
struct shm_wait {
	struct ipcx__idle_wait iw;
	int64_t next_peek; /* next look for a dead writer */
	bool stuck;        /* a live writer's reservation sits at head */
};

/* ---- the pollable fd: an abstract unix datagram socket ---- */

static socklen_t poll_addr(uint64_t nonce, struct sockaddr_un *sa)
{
	int n;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	/* Abstract name (leading NUL): no file to clean up, gone when the
	 * socket closes. The nonce is random, so nobody who cannot read the
	 * segment can guess it to squat or spoof it. */
	n = snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1,
	             "ipcx-shm-%016llx", (unsigned long long)nonce);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
	                   (size_t)n);
}

/* Send one byte to the receiver's socket. Failure is harmless: it is
 * gone (ECONNREFUSED) or already has a poke queued (EAGAIN). */
static void poke(int fd, uint64_t nonce)
{
	struct sockaddr_un sa;
	socklen_t len = poll_addr(nonce, &sa);

	if (fd >= 0)
		(void)sendto(fd, "", 1, MSG_DONTWAIT | MSG_NOSIGNAL,
		             (struct sockaddr *)&sa, len);
}

/* After a commit: wake the receiver the way it said it waits. */
static void wake_rx(struct shm *s)
{
	uint32_t w = s->ring->rx_wake;

	if (s->ring->wr_wake) {
		/* The send's unlock found writers asleep on the lock. */
		s->ring->wr_wake = false;
		ipcx__futex_wake(ipcx__ring_words(s->ring).wr_wake);
	}
	if (!w)
		return;
	s->ring->rx_wake = 0;
	if (w & IPCX__RING_W_FUTEX)
		ipcx__futex_wake(ipcx__ring_words(s->ring).rx_wait);
	if (w & IPCX__RING_W_POLL) {
		if (s->poke_fd < 0)
			s->poke_fd = socket(
			    AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
			    0);
		/* The nonce was stored before the poll bit that our swap
		 * (acq_rel, in ring.c) read: it is the current one. */
		poke(s->poke_fd, ipcx__ring_nonce(s->ring));
	}
}

/* After a release or skip: wake writers parked for room. */
static void wake_tx(struct shm *s)
{
	if (s->ring->tx_wake) {
		s->ring->tx_wake = 0;
		ipcx__futex_wake(ipcx__ring_words(s->ring).tx_wait);
	}
}

/*
 * Arm the poll socket: make it readable at the next commit. Drain old
 * pokes first, then set the poll bit, fence (the Dekker pair of the
 * commit's fence), and re-check: a message committed before a writer
 * could see the bit gets a poke from us, so the fd is readable whenever
 * a receive may make progress.
 */
static void poll_arm(struct shm *s)
{
	char b[64];

	while (recv(s->poll_fd, b, sizeof(b), MSG_DONTWAIT) >= 0)
		;
	(void)ipcx__ring_rx_wait_set(s->ring, IPCX__RING_W_POLL);
	if (ipcx__ring_ready(s->ring))
		poke(s->poll_fd, ipcx__ring_nonce(s->ring));
}

/* ---- opening ---- */

/*
 * open: create /dev/shm/NAME (O_EXCL, mode 0600 or mode=) and lay out a
 * ring, or attach to the existing one (owner check, wait for its creator,
 * validate): segment.c. Either end may create; IPCX_EXCL refuses an
 * existing one. A receiving end then claims the receiver role (IPCX_EBUSY
 * if a live receiver has it). Blocks at most ~2 s, only while another
 * process initialises the ring.
 */
static int shm_op_open(ipcx_chan *ch)
{
	struct shm *s = calloc(1, sizeof(*s));
	int rc;

	if (!s)
		return ipcx__err(IPCX_ENOMEM, "out of memory");
	s->poll_fd = s->poke_fd = -1;
	s->ring = &s->seg.ring;
	ch->priv = s;
	ipcx__idle_policy_init(&s->idle, &ch->ep);
	rc = ipcx__seg_open(&s->seg, &ch->ep, (ch->flags & IPCX_EXCL) != 0);
	if (rc == 0 && s->seg.exposed)
		rc = ipcx__bus_init();
	if (rc == 0 && (ch->flags & IPCX_RECV))
		rc = ipcx__seg_claim_rx(&s->seg);
	return rc;
}

/* ---- waiting ---- */

/*
 * The hot spin, for up to SHM_CLOCK_EVERY polls of the stamp at head (or
 * of head), with a pause and without the clock (~35 ns in a VM): true if
 * the wait is to go on to the clock, false to look again now.
 */
static bool hot_spin(const struct shm *s, struct ipcx__idle_wait *w, bool room,
                     uint64_t seen)
{
	if (w->budget == 0 || s->idle.polls_set ||
	    !(++w->n & (SHM_CLOCK_EVERY - 1)))
		return true;
	do {
		ipcx__cpu_relax();
		if (room ? ipcx__ring_head_moved(s->ring, seen)
		         : ipcx__ring_ready(s->ring))
			return false;
	} while (++w->n & (SHM_CLOCK_EVERY - 1));
	return true;
}

/*
 * Nothing committed at head: is a dead writer's reservation in the way?
 * Returns 1 if we skipped one (peek again), 2 if something got committed,
 * 0 if not (w->stuck says a live writer holds head), or IPCX_ECORRUPT.
 */
static int check_stuck(struct shm *s, struct shm_wait *w, int64_t now)
{
	struct ipcx__ring_who who;
	int rc = ipcx__ring_pending(s->ring, &who);

	w->stuck = false;
	w->next_peek = now + SHM_STUCK_PEEK_NS;
	if (rc != 1)
		return rc;
	/* Asking the kernel costs a system call: once per slice per record. */
	if (s->ring->stuck_pos == s->chk_pos &&
	    now - s->chk_ns < SHM_LIVE_SLICE_NS) {
		w->stuck = true;
		return 0;
	}
	s->chk_pos = s->ring->stuck_pos;
	s->chk_ns = now;
	if (ipcx__seg_writer_alive(&s->seg, who.id)) {
		w->stuck = true;
		return 0;
	}
	/* Dead: skip, unless it committed before it went (skip re-reads
	 * the stamp after our liveness test; 2: peek again). */
	if (ipcx__ring_skip(s->ring) == 2)
		return 2;
	wake_tx(s);
	return 1;
}

/* Park the receiver on rx_wait until a commit, the deadline or a slice. */
static void park_rx(struct shm *s, const struct shm_wait *w, int64_t deadline)
{
	/* Announce and fence (ring.c), then re-check the stamp: a writer
	 * stores the stamp, fences, then reads rx_wait. One of us sees the
	 * other: no lost wake-up. */
	uint32_t v = ipcx__ring_rx_wait_set(s->ring, IPCX__RING_W_FUTEX);
	int64_t until = deadline;

	if (ipcx__ring_ready(s->ring))
		return;
	if (w->stuck) {
		/* A live writer sits on an unfinished record: wake up now
		 * and then to see whether it died. */
		int64_t slice = ipcx__now_ns() + SHM_LIVE_SLICE_NS;
		if (until < 0 || slice < until)
			until = slice;
	}
	ipcx__futex_wait(ipcx__ring_words(s->ring).rx_wait, v, until);
}

/* Wait for the next message at head; point *ptr at it, set *len. */
static int next_msg(ipcx_chan *ch, struct shm *s, int64_t deadline,
                    const void **ptr, size_t *len)
{
	/* A receive after this thread sent on a ring waits for a reply. */
	enum ipcx__idle_kind kind =
	    ipcx__idle_sent ? IPCX__IDLE_REPLY : IPCX__IDLE_NEXT;
	struct shm_wait w = {.stuck = false};
	struct ipcx__ring_who who;
	bool waiting = false;

	for (;;) {
		int64_t now;
		bool expired, park;
		int rc = ipcx__ring_peek(s->ring, ptr, len, &who);

		wake_tx(s);
		if (rc == 0) {
			if (waiting)
				ipcx__idle_end(&w.iw);
			else
				ipcx__idle_hit(&s->idle, kind);
			ipcx__idle_sent = false;
			ch->peer.pid = (pid_t)who.pid;
			ch->peer.uid = (uid_t)who.uid;
			return 0;
		}
		if (rc != IPCX_EAGAIN)
			return rc;
		if (!waiting) {
			ipcx__idle_begin(&s->idle, &w.iw, kind);
			waiting = true;
		}
		if (!hot_spin(s, &w.iw, false, 0))
			continue; /* something at head: peek */
		now = ipcx__now_ns();
		if (w.iw.t0 < 0) {
			w.iw.t0 = now;
			w.next_peek = now + SHM_STUCK_PEEK_NS;
		}
		expired = deadline >= 0 && now >= deadline;
		park = !ipcx__idle_spinning(&s->idle, &w.iw, now);
		if (expired || park || now >= w.next_peek) {
			rc = check_stuck(s, &w, now);
			if (rc < 0)
				return rc;
			if (rc > 0)
				continue;
		}
		if (expired) {
			if (s->poll_fd >= 0)
				poll_arm(s);
			return ipcx__err(IPCX_ETIMEDOUT,
			                 "recv: no message within the timeout "
			                 "(is a sender running?)");
		}
		if (!park) {
			ipcx__idle_step(&s->idle, &w.iw, now);
			continue;
		}
		ipcx__idle_sleeping(&s->idle, &w.iw, now);
		park_rx(s, &w, deadline);
	}
}

/* A sender short of room: is the receiver that should make it dead? */
static int rx_dead(ipcx_chan *ch, struct shm *s, int64_t now)
{
	if (now - s->rx_chk_ns < SHM_LIVE_SLICE_NS)
		return 0;
	s->rx_chk_ns = now;
	if (!ipcx__seg_rx_gone(&s->seg))
		return 0;
	return ipcx__err(IPCX_EPEER,
	                 "shm://%s is full and its receiver (pid %u) died; "
	                 "start a receiver and send again",
	                 ch->ep.name, (unsigned)ipcx__ring_rx_pid(s->ring));
}

/*
 * Wait until head moves past `seen` (the receiver made some room), the
 * receiver is found dead (IPCX_EPEER) or the deadline passes.
 */
static int wait_room(ipcx_chan *ch, struct shm *s, uint64_t seen,
                     int64_t deadline)
{
	struct ipcx__idle_wait w;

	ipcx__idle_begin(&s->idle, &w, IPCX__IDLE_ROOM);
	for (;;) {
		int64_t now;
		int rc;
		if (ipcx__ring_head_moved(s->ring, seen)) {
			ipcx__idle_end(&w);
			return 0;
		}
		if (!hot_spin(s, &w, true, seen))
			continue;
		now = ipcx__now_ns();
		if (w.t0 < 0)
			w.t0 = now;
		rc = rx_dead(ch, s, now);
		if (rc < 0)
			return rc;
		if (deadline >= 0 && now >= deadline)
			return ipcx__err(IPCX_ETIMEDOUT,
			                 "send: the ring is full and the "
			                 "receiver made no room within the "
			                 "timeout (is it running? a larger "
			                 "?size= absorbs bursts)");
		if (ipcx__idle_spinning(&s->idle, &w, now)) {
			ipcx__idle_step(&s->idle, &w, now);
			continue;
		}
		/* Announce, fence, re-check, sleep: the mirror of park_rx
		 * (the receiver stores head, fences, then reads tx_wait). */
		uint32_t v = ipcx__ring_tx_wait_set(s->ring);
		if (ipcx__ring_head_moved(s->ring, seen))
			continue;
		/* Sleep in slices to notice a receiver that dies. */
		int64_t until = now + SHM_LIVE_SLICE_NS;
		if (deadline >= 0 && deadline < until)
			until = deadline;
		ipcx__idle_sleeping(&s->idle, &w, now);
		ipcx__futex_wait(ipcx__ring_words(s->ring).tx_wait, v, until);
	}
}

static int reserve_wait(ipcx_chan *ch, struct shm *s, size_t len,
                        int64_t deadline, struct ipcx__ring_resv *rv)
{
	for (;;) {
		int rc = ipcx__seg_lock(&s->seg, deadline);
		if (rc < 0)
			return rc;
		rc = ipcx__ring_reserve_locked(s->ring, len, &s->seg.me, rv);
		ipcx__seg_unlock(&s->seg);
		if (rc != IPCX_EAGAIN)
			return rc;
		rc = wait_room(ch, s, s->ring->head_cache, deadline);
		if (rc < 0)
			return rc;
	}
}

/* ---- the ops ---- */

/*
 * Copy one message into the ring, waiting (per wait=) for room until the
 * deadline. The receiver's wake-up bits the commit found go into *rxw for
 * the caller to act on once, after its last message; before waiting for
 * room we wake the receiver ourselves, since it is the one to make room.
 */
static int shm_put(ipcx_chan *ch, struct shm *s, const void *buf, size_t len,
                   int64_t deadline, uint32_t *rxw)
{
	for (;;) {
		/* The lock is free on the fast path: one call takes it,
		 * writes and lets it go. Held: wait for it, then write. */
		int rc = ipcx__ring_write(s->ring, buf, len, &s->seg.me, false);
		if (rc == IPCX_EBUSY) {
			rc = ipcx__seg_lock(&s->seg, deadline);
			if (rc == 0)
				rc = ipcx__ring_write(s->ring, buf, len,
				                      &s->seg.me, true);
		}
		*rxw |= s->ring->rx_wake;
		s->ring->rx_wake = 0;
		wake_rx(s); /* now: only writers asleep on the lock, if any */
		if (rc != IPCX_EAGAIN)
			return rc;
		s->ring->rx_wake = *rxw;
		*rxw = 0;
		wake_rx(s);
		rc = wait_room(ch, s, s->ring->head_cache, deadline);
		if (rc < 0)
			return rc;
	}
}

/*
 * sendv: copy n messages into the ring in order, then wake the receiver
 * once (if it sleeps). Blocks per wait= while the ring is full, until
 * deadline. Returns how many went (ipcx__transport), or IPCX_ETIMEDOUT,
 * IPCX_EPEER (the receiver died), IPCX_EMSGSIZE (above half the ring) for
 * the first. The caller keeps the buffers.
 */
static int shm_sendv(ipcx_chan *ch, const struct iovec *msgs, int n,
                     int64_t deadline)
{
	struct shm *s = ch->priv;
	uint32_t rxw = 0;
	int i, rc = 0;

	for (i = 0; i < n; i++) {
		rc = shm_put(ch, s, msgs[i].iov_base, msgs[i].iov_len, deadline,
		             &rxw);
		if (rc < 0)
			break;
	}
	s->ring->rx_wake = rxw;
	wake_rx(s);
	if (i > 0)
		ipcx__idle_sent = true;
	return i > 0 ? i : rc;
}

/* send: sendv of one message. */
static int shm_send(ipcx_chan *ch, const void *buf, size_t len,
                    int64_t deadline)
{
	struct iovec m = {.iov_base = (void *)buf, .iov_len = len};
	int rc = shm_sendv(ch, &m, 1, deadline);

	return rc < 0 ? rc : 0;
}

/*
 * recv: copy the next message into buf and free it in the ring. Blocks per
 * wait= until deadline. A message longer than cap stays in the ring:
 * IPCX_ENOBUFS with ch->pending set. Returns the length.
 */
static ssize_t shm_recv(ipcx_chan *ch, void *buf, size_t cap, int64_t deadline)
{
	struct shm *s = ch->priv;
	const void *p;
	size_t n;
	int rc = next_msg(ch, s, deadline, &p, &n);

	if (rc < 0)
		return rc;
	if (n > cap) {
		ch->pending = n;
		ch->has_pending = true;
		return ipcx__err(IPCX_ENOBUFS,
		                 "message of %zu bytes does not fit the "
		                 "%zu-byte buffer; it stays queued "
		                 "(ipcx_pending() tells its size)",
		                 n, cap);
	}
	if (n)
		ipcx__ring_copy(buf, p, n);
	ipcx__ring_release(s->ring);
	s->peeked = false;
	wake_tx(s);
	return (ssize_t)n;
}

/*
 * fd: an abstract unix datagram socket, bound under a random name that
 * the receiver publishes in the segment (rx_nonce). While the receiver
 * has found the ring empty with a poll armed, the next commit sends it one
 * byte. Cost: a sender pays one sendto (~2 us) only for the first commit
 * after each arming, never otherwise; the receiver pays a recv to drain
 * and an atomic to re-arm each time a receive finds the ring empty. For
 * the receiving end only (IPCX_ENOTSUP otherwise).
 */
static int shm_fd(ipcx_chan *ch)
{
	struct shm *s = ch->priv;
	struct sockaddr_un sa;
	uint64_t nonce = 0;
	int fd, i;

	if (!s->seg.rx)
		return ipcx__err(IPCX_ENOTSUP,
		                 "shm://: only the receiving end has a "
		                 "pollable fd");
	if (s->poll_fd >= 0)
		return s->poll_fd;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return ipcx__errno(errno, "socket(AF_UNIX, SOCK_DGRAM)");
	for (i = 0; i < 8; i++) {
		if (getrandom(&nonce, sizeof(nonce), 0) != sizeof(nonce))
			nonce ^= (uint64_t)ipcx__now_ns() * 0x9e3779b97f4a7c15u;
		nonce |= 1; /* 0 means "no socket" */
		if (bind(fd, (struct sockaddr *)&sa, poll_addr(nonce, &sa)) ==
		    0)
			break;
		if (errno != EADDRINUSE) {
			int e = errno;
			close(fd);
			return ipcx__errno(e, "bind (abstract unix socket)");
		}
	}
	if (i == 8) {
		close(fd);
		return ipcx__err(IPCX_ESYS, "no free abstract socket name");
	}
	/* poll_arm's fetch_or (seq_cst) publishes it. */
	ipcx__ring_set_nonce(s->ring, nonce);
	s->poll_fd = fd;
	poll_arm(s);
	return fd;
}

/*
 * The work of close (shm_op_close below). Idempotent: run again after a
 * SIGBUS part way, it finishes without touching the segment.
 */
static void shm_close(struct shm *s)
{
	if (s->broken) {
		/* The pages are gone: leave rx_pid and the loan as they are. */
		s->loaned = false;
		s->seg.rx = false;
	}
	if (s->loaned) {
		s->loaned = false;
		ipcx__ring_commit(s->ring, &s->loan, 0, IPCX__RING_K_SKIP);
		wake_rx(s);
	}
	if (s->poll_fd >= 0)
		close(s->poll_fd);
	if (s->poke_fd >= 0)
		close(s->poke_fd);
	s->poll_fd = s->poke_fd = -1;
	ipcx__seg_close(&s->seg);
}

/* unlink: remove /dev/shm/NAME. Mappings in use stay valid. */
static int shm_op_unlink(const struct ipcx__ep *ep)
{
	char name[NAME_MAX + 2];

	if (ep->name_len + 1 >= sizeof(name))
		return ipcx__err(IPCX_ENAMETOOLONG, "shm name too long");
	name[0] = '/';
	memcpy(name + 1, ep->name, ep->name_len + 1);
	if (shm_unlink(name) == 0)
		return 0;
	if (errno == ENOENT)
		return ipcx__err(IPCX_ENOENT,
		                 "no shared-memory ring /dev/shm%s (already "
		                 "removed, or check the name)",
		                 name);
	return ipcx__errno(errno, "shm_unlink /dev/shm%s", name);
}

/*
 * loan: reserve len bytes in place, waiting for room like send. *ptr
 * points into the segment until commit. One loan at a time.
 */
static int shm_loan(ipcx_chan *ch, size_t len, void **ptr, int64_t deadline)
{
	struct shm *s = ch->priv;
	int rc;

	if (s->loaned)
		return ipcx__err(IPCX_ESTATE, "one loan at a time: commit the "
		                              "outstanding one first");
	rc = reserve_wait(ch, s, len, deadline, &s->loan);
	if (rc < 0)
		return rc;
	s->loaned = true;
	*ptr = s->loan.ptr;
	return 0;
}

/* commit: publish the loan as a message of len (<= loaned) bytes. */
static int shm_commit(ipcx_chan *ch, void *ptr, size_t len)
{
	struct shm *s = ch->priv;

	if (!s->loaned)
		return ipcx__err(IPCX_ESTATE, "no loan to commit");
	if (ptr != s->loan.ptr)
		return ipcx__err(IPCX_EINVAL,
		                 "ipcx_commit: not the pointer ipcx_loan gave");
	if (len > s->loan.cap)
		return ipcx__err(IPCX_EINVAL,
		                 "ipcx_commit: %zu bytes, but only %zu were "
		                 "loaned",
		                 len, s->loan.cap);
	s->loaned = false;
	ipcx__ring_commit(s->ring, &s->loan, len, IPCX__RING_K_MSG);
	wake_rx(s);
	ipcx__idle_sent = true;
	return 0;
}

/* peek: the next message in place, until release. Blocks per wait=. */
static ssize_t shm_peek(ipcx_chan *ch, const void **ptr, int64_t deadline)
{
	struct shm *s = ch->priv;
	size_t n;
	int rc = next_msg(ch, s, deadline, ptr, &n);

	if (rc < 0)
		return rc;
	s->peeked = true;
	return (ssize_t)n;
}

/* release: free the message the last peek returned. */
static int shm_release(ipcx_chan *ch)
{
	struct shm *s = ch->priv;

	if (!s->peeked)
		return ipcx__err(IPCX_ESTATE, "nothing peeked to release");
	s->peeked = false;
	ipcx__ring_release(s->ring);
	wake_tx(s);
	return 0;
}

/* ---- a ring another uid could truncate (bus.h) ---- */

/* What every call on a truncated ring answers. */
static int shm_broken(ipcx_chan *ch)
{
	return ipcx__err(IPCX_ECORRUPT,
	                 "shm://%s was truncated by a process that may write "
	                 "it (another uid can: check its owner and mode); the "
	                 "ring is gone: remove it with `ipcx rm shm://%s` and "
	                 "start again (`ipcx clean` removes it once no process "
	                 "maps it)",
	                 ch->ep.name, ch->ep.name);
}

/*
 * SHM_GUARDED - return call's result; if another uid could truncate the
 * segment (seg.exposed), run it guarded, so that a SIGBUS on the segment
 * inside turns into IPCX_ECORRUPT and the channel stays broken. A ring
 * only our uid can write (the default, 0600) costs two predictable
 * branches. sigsetjmp must run in the op's own frame: hence a macro.
 */
#define SHM_GUARDED(ch, call)                                      \
	do {                                                       \
		struct shm *s_ = (ch)->priv;                       \
		struct ipcx__bus_guard g_;                         \
		ssize_t rc_;                                       \
		if (s_->broken)                                    \
			return shm_broken(ch);                     \
		if (!s_->seg.exposed)                              \
			return call;                               \
		ipcx__bus_push(&g_, s_->seg.map, s_->seg.map_len); \
		if (sigsetjmp(g_.jb, 0)) {                         \
			ipcx__bus_pop(&g_);                        \
			s_->broken = true;                         \
			return shm_broken(ch);                     \
		}                                                  \
		rc_ = call;                                        \
		ipcx__bus_pop(&g_);                                \
		return rc_;                                        \
	} while (0)

static int shm_op_send(ipcx_chan *ch, const void *buf, size_t len,
                       int64_t deadline)
{
	SHM_GUARDED(ch, shm_send(ch, buf, len, deadline));
}

static int shm_op_sendv(ipcx_chan *ch, const struct iovec *msgs, int n,
                        int64_t deadline)
{
	SHM_GUARDED(ch, shm_sendv(ch, msgs, n, deadline));
}

static ssize_t shm_op_recv(ipcx_chan *ch, void *buf, size_t cap,
                           int64_t deadline)
{
	SHM_GUARDED(ch, shm_recv(ch, buf, cap, deadline));
}

static int shm_op_fd(ipcx_chan *ch)
{
	SHM_GUARDED(ch, shm_fd(ch));
}

static int shm_op_loan(ipcx_chan *ch, size_t len, void **ptr, int64_t deadline)
{
	SHM_GUARDED(ch, shm_loan(ch, len, ptr, deadline));
}

static int shm_op_commit(ipcx_chan *ch, void *ptr, size_t len)
{
	SHM_GUARDED(ch, shm_commit(ch, ptr, len));
}

static ssize_t shm_op_peek(ipcx_chan *ch, const void **ptr, int64_t deadline)
{
	SHM_GUARDED(ch, shm_peek(ch, ptr, deadline));
}

static int shm_op_release(ipcx_chan *ch)
{
	SHM_GUARDED(ch, shm_release(ch));
}

/*
 * close: cancel an outstanding loan (the receiver skips it), give up the
 * receiver role and our writer id (closing the segment's fd), unmap.
 * Never removes the name (ipcx_unlink does). On a ring found truncated
 * (now, or before) it touches nothing in the segment.
 */
static int shm_op_close(ipcx_chan *ch)
{
	struct shm *s = ch->priv;
	struct ipcx__bus_guard g;

	if (!s)
		return 0;
	if (s->seg.exposed && !s->broken) {
		ipcx__bus_push(&g, s->seg.map, s->seg.map_len);
		if (sigsetjmp(g.jb, 0))
			s->broken = true; /* shm_close again skips the pages */
		shm_close(s);
		ipcx__bus_pop(&g);
	} else {
		shm_close(s);
	}
	free(s);
	ch->priv = NULL;
	return 0;
}

const struct ipcx__transport ipcx__tp_shm = {
    .scheme = IPCX__S_SHM,
    .try_first = true,
    .open = shm_op_open,
    .send = shm_op_send,
    .sendv = shm_op_sendv,
    .recv = shm_op_recv,
    .fd = shm_op_fd,
    .close = shm_op_close,
    .unlink = shm_op_unlink,
    .loan = shm_op_loan,
    .commit = shm_op_commit,
    .peek = shm_op_peek,
    .release = shm_op_release,
};
