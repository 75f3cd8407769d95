/*
 * shm.c - shm://name: a ring of records (ring.c) in /dev/shm/name.
 *
 * This file owns everything around the ring: creating or attaching the
 * segment (0600, O_EXCL, owner check, waiting for the creator), claiming
 * the single receiver role, the wake-up policy (spin, adaptive, sleep) on
 * futexes that live in the segment, the pollable fd, dead-peer detection,
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
 * by the next one, which takes the lock over and repairs (ring.c). A
 * writer that dies between reserve and commit leaves a record with stamp 0
 * that names it (pid and start time): the receiver, finding it at head for
 * a while, checks that the process still exists and skips the record if
 * not. A dead receiver's
 * claim (rx_owner) is taken over by the next receiver; senders short of
 * room whose receiver died get IPCX_EPEER, others just time out.
 */
#include "internal.h"
#include "ring.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/*
 * Adaptive policy: spin this long before parking. Spinning for about what
 * a sleep-and-wake costs is the classic 2-competitive choice: a reply that
 * comes later than that costs at most twice the optimum. Measured here
 * (bench/shm-pingpong.c and a reply-delay sweep, 2-vCPU VM): a futex
 * sleep-and-wake adds 25-70 us (p50) to a round trip; with a 20 us spin a
 * 30 us reply paid ~26 us extra, with 50 us it paid 0.5 us. An idle
 * receiver still parks after it. Override at build time with
 * -DSHM_SPIN_NS=..., per channel with ?spin=N (polls).
 */
#ifndef SHM_SPIN_NS
#define SHM_SPIN_NS 50000
#endif
/* Spin policy: look at the tail for a dead writer at most this often. */
#define SHM_STUCK_PEEK_NS 1000000
/* Re-check a stuck writer's or a receiver's liveness this often. */
#define SHM_LIVE_SLICE_NS 10000000
/* How long an attacher waits for the creator to finish initialising. */
#define SHM_INIT_WAIT_NS 2000000000

struct shm {
	struct ipcx__ring ring;
	void *map;
	size_t map_len;
	char name[NAME_MAX + 2]; /* "/name" for shm_open */
	struct ipcx__ring_who me;
	uint64_t me_tag; /* pid | start << 32, as in rx_owner */
	unsigned me_gen; /* fork_gen when `me` was read */
	enum ipcx__wait wait;
	bool spin_iters_set;
	unsigned spin_iters;
	bool rx; /* we hold the receiver role */
	bool loaned;
	struct ipcx__ring_resv loan;
	bool peeked;
	int poll_fd; /* receiver's datagram socket for ipcx_fd(), or -1 */
	int poke_fd; /* sender's socket to poke a polling receiver, or -1 */
	uint64_t chk_pos; /* last stuck record whose writer we checked */
	int64_t chk_ns;
	int64_t rx_chk_ns; /* last check of a dead receiver (sender side) */
};

/* One wait: when it started and how often we went round. */
struct shm_wait {
	int64_t t0;
	int64_t next_peek; /* spin policy: next look for a dead writer */
	unsigned n;
	bool stuck; /* a live writer's reservation sits at head */
};

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

/* ---- processes: who is alive (ipcx__proc_alive, in ring.c) ---- */

/*
 * Bumped in the child at every fork: a channel used in a forked child
 * must tag its records and the writers' lock with the child's pid, not
 * the parent's (a lock tagged with a live parent's pid would never be
 * taken over if the child died holding it). Checked with one relaxed
 * load per send or loan; getpid() is a system call.
 */
static _Atomic unsigned fork_gen;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

static void fork_child(void)
{
	atomic_fetch_add_explicit(&fork_gen, 1, memory_order_relaxed);
}

static void fork_hook(void)
{
	pthread_atfork(NULL, NULL, fork_child);
}

static void who_am_i(struct shm *s)
{
	char state;
	uint32_t start = 0;

	s->me_gen = atomic_load_explicit(&fork_gen, memory_order_relaxed);
	s->me.pid = (uint32_t)getpid();
	if (ipcx__proc_start(s->me.pid, &state, &start) < 0)
		start = 0;
	s->me.start = start;
	s->me.uid = (uint32_t)geteuid();
	s->me_tag = (uint64_t)s->me.pid | (uint64_t)start << 32;
}

/*
 * The writer's identity for records and the writers' lock, re-read in a
 * forked child (me_tag, the receiver's claim, stays as claimed).
 */
static inline const struct ipcx__ring_who *me_now(struct shm *s)
{
	if (s->me_gen !=
	    atomic_load_explicit(&fork_gen, memory_order_relaxed)) {
		uint64_t tag = s->me_tag;
		who_am_i(s);
		s->me_tag = tag;
	}
	return &s->me;
}

/* ---- futexes in the segment ---- */

static void futex_wake_all(_Atomic uint32_t *w)
{
	syscall(SYS_futex, (uint32_t *)w, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/*
 * Sleep while *w == val, until the absolute monotonic time `until` (-1:
 * no limit). FUTEX_WAIT takes a relative timeout: compute it from what is
 * left. Every outcome (woken, value changed, EINTR, timed out) returns to
 * the caller, which re-checks the ring and the deadline.
 */
static void futex_wait_until(_Atomic uint32_t *w, uint32_t val, int64_t until)
{
	struct timespec ts, *tp = NULL;

	if (until >= 0) {
		int64_t left = until - ipcx__now_ns();
		if (left <= 0)
			return;
		ts.tv_sec = (time_t)(left / 1000000000);
		ts.tv_nsec = (long)(left % 1000000000);
		tp = &ts;
	}
	syscall(SYS_futex, (uint32_t *)w, FUTEX_WAIT, val, tp, NULL, 0);
}

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
	uint32_t w = s->ring.rx_wake;

	if (!w)
		return;
	s->ring.rx_wake = 0;
	if (w & IPCX__RING_W_FUTEX)
		futex_wake_all(&s->ring.hdr->rx_wait);
	if (w & IPCX__RING_W_POLL) {
		if (s->poke_fd < 0)
			s->poke_fd = socket(
			    AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
			    0);
		/* The nonce was stored before the poll bit that our swap
		 * (acq_rel, in ring.c) read: it is the current one. */
		poke(s->poke_fd, atomic_load_explicit(&s->ring.hdr->rx_nonce,
		                                      memory_order_relaxed));
	}
}

/* After a release or skip: wake writers parked for room. */
static void wake_tx(struct shm *s)
{
	if (s->ring.tx_wake) {
		s->ring.tx_wake = 0;
		futex_wake_all(&s->ring.hdr->tx_wait);
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
	atomic_fetch_or(&s->ring.hdr->rx_wait, IPCX__RING_W_POLL);
	IPCX__RING_FENCE();
	if (ipcx__ring_ready(&s->ring))
		poke(s->poll_fd, atomic_load_explicit(&s->ring.hdr->rx_nonce,
		                                      memory_order_relaxed));
}

/* ---- opening ---- */

static int init_segment(ipcx_chan *ch, struct shm *s, int fd,
                        uint64_t data_size, mode_t mode)
{
	size_t len = ipcx__ring_seg_bytes(data_size);
	int rc, e;

	/* shm_open applied the umask; mode= means exactly that mode. */
	if (fchmod(fd, mode) < 0)
		return ipcx__errno(errno, "fchmod /dev/shm%s", s->name);
	/* Allocate the pages now: a ring that tmpfs cannot back would
	 * otherwise SIGBUS at the first write past the free space. */
	e = posix_fallocate(fd, 0, (off_t)len);
	if (e == EOPNOTSUPP || e == EINVAL)
		e = ftruncate(fd, (off_t)len) < 0 ? errno : 0;
	if (e)
		return ipcx__errno(e,
		                   "allocating %zu bytes for /dev/shm%s "
		                   "(is /dev/shm full? a smaller ?size= "
		                   "helps)",
		                   len, s->name);
	s->map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (s->map == MAP_FAILED) {
		s->map = NULL;
		return ipcx__errno(errno, "mmap /dev/shm%s", s->name);
	}
	s->map_len = len;
	rc = ipcx__ring_format(s->map, len, data_size, s->me.pid);
	if (rc < 0)
		return rc;
	ipcx__ring_publish(s->map);
	(void)ch;
	return ipcx__ring_attach(&s->ring, s->map, len);
}

static int attach_segment(ipcx_chan *ch, struct shm *s, int fd)
{
	int64_t give_up = ipcx__now_ns() + SHM_INIT_WAIT_NS;
	struct stat st;
	int rc;

	if (fstat(fd, &st) < 0)
		return ipcx__errno(errno, "fstat /dev/shm%s", s->name);
	if (!S_ISREG(st.st_mode))
		return ipcx__err(IPCX_ECORRUPT, "/dev/shm%s is not a file",
		                 s->name);
	if (st.st_uid != geteuid() && !ch->ep.trust_any)
		return ipcx__err(IPCX_EACCES,
		                 "shm://%s belongs to uid %u, not to you (uid "
		                 "%u); add ?trust=any to use it anyway",
		                 ch->ep.name, (unsigned)st.st_uid,
		                 (unsigned)geteuid());
	for (unsigned i = 0;; i++) {
		if (fstat(fd, &st) < 0)
			return ipcx__errno(errno, "fstat /dev/shm%s", s->name);
		if (st.st_size >
		    (off_t)ipcx__ring_seg_bytes(IPCX__RING_MAX_DATA))
			return ipcx__err(IPCX_ECORRUPT,
			                 "/dev/shm%s has %lld bytes, more than "
			                 "any ipcx ring",
			                 s->name, (long long)st.st_size);
		if (st.st_size >= (off_t)IPCX__RING_HDR_SIZE) {
			size_t len = (size_t)st.st_size;
			void *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
			               MAP_SHARED, fd, 0);
			if (m == MAP_FAILED)
				return ipcx__errno(errno, "mmap /dev/shm%s",
				                   s->name);
			rc = ipcx__ring_attach(&s->ring, m, len);
			if (rc == 0) {
				s->map = m;
				s->map_len = len;
				return 0;
			}
			munmap(m, len);
			if (rc != IPCX_EAGAIN)
				return rc;
		}
		if (ipcx__now_ns() > give_up)
			return ipcx__err(IPCX_ECORRUPT,
			                 "shm://%s was never initialised (did "
			                 "its creator die while setting it "
			                 "up?); remove it with `ipcx rm "
			                 "shm://%s` and start again",
			                 ch->ep.name, ch->ep.name);
		/* The creator is between shm_open and its magic store: a
		 * few microseconds, unless it died. */
		if (i < 64) {
			sched_yield();
		} else {
			struct timespec ts = {0, 1000000};
			nanosleep(&ts, NULL);
		}
	}
}

/* Take the receiver role: at most one live receiver per ring. */
static int claim_rx(ipcx_chan *ch, struct shm *s)
{
	_Atomic uint64_t *o = &s->ring.hdr->rx_owner;

	for (int i = 0; i < 16 && !s->rx; i++) {
		uint64_t cur = atomic_load(o);
		if (cur != 0 &&
		    ipcx__proc_alive((uint32_t)cur, (uint32_t)(cur >> 32)))
			return ipcx__err(IPCX_EBUSY,
			                 "shm://%s already has a receiver (pid "
			                 "%u); a ring has one at a time",
			                 ch->ep.name, (unsigned)(uint32_t)cur);
		/* Free, or its holder died: take it. The CAS fails if
		 * someone else took it first; look again. */
		s->rx = atomic_compare_exchange_strong(o, &cur, s->me_tag);
	}
	if (!s->rx)
		return ipcx__err(IPCX_EBUSY,
		                 "shm://%s: lost the race for the receiver "
		                 "role",
		                 ch->ep.name);
	/* A dead receiver may have left wait bits set: clear them, so that
	 * writers stop waking nobody. Only we set them from now on. */
	atomic_store(&s->ring.hdr->rx_wait, 0);
	return ipcx__ring_rx_init(&s->ring);
}

/*
 * open: create /dev/shm/NAME (O_EXCL, mode 0600 or mode=) and lay out a
 * ring, or attach to the existing one (owner check, wait for its creator,
 * validate). Either end may create; IPCX_EXCL refuses an existing one. A
 * receiving end then claims the receiver role (IPCX_EBUSY if taken).
 * Blocks at most ~2 s, only while another process initialises the ring.
 */
static int shm_op_open(ipcx_chan *ch)
{
	struct shm *s;
	uint64_t data_size;
	mode_t mode = (ch->ep.set & IPCX__O_MODE) ? (mode_t)ch->ep.mode : 0600;
	int fd = -1, rc;
	bool created = false;

	s = calloc(1, sizeof(*s));
	if (!s)
		return ipcx__err(IPCX_ENOMEM, "out of memory");
	s->poll_fd = s->poke_fd = -1;
	ch->priv = s;
	if (ch->ep.name_len + 1 >= sizeof(s->name))
		return ipcx__err(IPCX_ENAMETOOLONG, "shm name too long");
	s->name[0] = '/';
	memcpy(s->name + 1, ch->ep.name, ch->ep.name_len + 1);
	data_size =
	    ipcx__ring_data_size((ch->ep.set & IPCX__O_SIZE) ? ch->ep.size : 0);
	if (data_size == 0)
		return ipcx__err(IPCX_EOPTION,
		                 "size=%zu is above the largest ring (%u "
		                 "bytes)",
		                 ch->ep.size, IPCX__RING_MAX_DATA);
	pthread_once(&fork_once, fork_hook);
	s->wait = ch->ep.wait;
	s->spin_iters_set = (ch->ep.set & IPCX__O_SPIN) != 0;
	s->spin_iters = ch->ep.spin;
	who_am_i(s);

	for (int tries = 0; fd < 0 && tries < 8; tries++) {
		fd = shm_open(s->name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
		              mode & 0777);
		if (fd >= 0) {
			created = true;
			break;
		}
		if (errno != EEXIST)
			return ipcx__errno(errno, "creating /dev/shm%s",
			                   s->name);
		if (ch->flags & IPCX_EXCL)
			return ipcx__err(IPCX_EEXIST,
			                 "shm://%s exists (IPCX_EXCL); remove "
			                 "it with `ipcx rm shm://%s`",
			                 ch->ep.name, ch->ep.name);
		fd = shm_open(s->name, O_RDWR | O_CLOEXEC, 0);
		if (fd < 0 && errno != ENOENT)
			return ipcx__errno(errno, "opening /dev/shm%s",
			                   s->name);
		/* ENOENT: removed between our two calls; create again. */
	}
	if (fd < 0)
		return ipcx__err(IPCX_ESYS, "/dev/shm%s keeps vanishing",
		                 s->name);
	if (created) {
		rc = init_segment(ch, s, fd, data_size, mode);
		if (rc < 0) {
			/* Half made and ours alone: do not leave it behind
			 * for attachers to wait on. */
			shm_unlink(s->name);
		}
	} else {
		rc = attach_segment(ch, s, fd);
	}
	close(fd);
	if (rc < 0)
		return rc;
	if (ch->flags & IPCX_RECV)
		return claim_rx(ch, s);
	return 0;
}

/* ---- waiting ---- */

/* Whether the policy still says spin (rather than park). */
static bool spinning(const struct shm *s, const struct shm_wait *w, int64_t now)
{
	if (s->wait == IPCX__WAIT_SPIN)
		return true;
	if (s->wait == IPCX__WAIT_SLEEP)
		return false;
	if (s->spin_iters_set)
		return w->n < s->spin_iters;
	return now - w->t0 < SHM_SPIN_NS;
}

/*
 * Nothing committed at head: is a dead writer's reservation in the way?
 * Returns 1 if we skipped one (peek again), 2 if something got committed,
 * 0 if not (w->stuck says a live writer holds head), or IPCX_ECORRUPT.
 */
static int check_stuck(struct shm *s, struct shm_wait *w, int64_t now)
{
	struct ipcx__ring_who who;
	int rc = ipcx__ring_pending(&s->ring, &who);

	w->stuck = false;
	w->next_peek = now + SHM_STUCK_PEEK_NS;
	if (rc != 1)
		return rc;
	/* Reading /proc costs microseconds: once per slice per record. */
	if (s->ring.stuck_pos == s->chk_pos &&
	    now - s->chk_ns < SHM_LIVE_SLICE_NS) {
		w->stuck = true;
		return 0;
	}
	s->chk_pos = s->ring.stuck_pos;
	s->chk_ns = now;
	if (ipcx__proc_alive(who.pid, who.start)) {
		w->stuck = true;
		return 0;
	}
	ipcx__ring_skip(&s->ring);
	wake_tx(s);
	return 1;
}

/* Park the receiver on rx_wait until a commit, the deadline or a slice. */
static void park_rx(struct shm *s, const struct shm_wait *w, int64_t deadline)
{
	_Atomic uint32_t *word = &s->ring.hdr->rx_wait;
	uint32_t v =
	    atomic_fetch_or(word, IPCX__RING_W_FUTEX) | IPCX__RING_W_FUTEX;
	int64_t until = deadline;

	/* seq_cst fence: our rx_wait store before the re-check of the
	 * stamp; a writer stores the stamp, fences, then reads rx_wait. One
	 * of us sees the other: no lost wake-up. */
	IPCX__RING_FENCE();
	if (ipcx__ring_ready(&s->ring))
		return;
	if (w->stuck) {
		/* A live writer sits on an unfinished record: wake up now
		 * and then to see whether it died. */
		int64_t slice = ipcx__now_ns() + SHM_LIVE_SLICE_NS;
		if (until < 0 || slice < until)
			until = slice;
	}
	futex_wait_until(word, v, until);
}

/* Wait for the next message at head; point *ptr at it, set *len. */
static int next_msg(ipcx_chan *ch, struct shm *s, int64_t deadline,
                    const void **ptr, size_t *len)
{
	struct shm_wait w = {.t0 = -1};
	struct ipcx__ring_who who;

	for (;;) {
		int64_t now;
		bool expired, park;
		int rc = ipcx__ring_peek(&s->ring, ptr, len, &who);

		wake_tx(s);
		if (rc == 0) {
			ch->peer.pid = (pid_t)who.pid;
			ch->peer.uid = (uid_t)who.uid;
			return 0;
		}
		if (rc != IPCX_EAGAIN)
			return rc;
		/* Hot spin: re-read only the stamp at head, with a pause, and
		 * the clock (~40 ns in a VM) only every 32 rounds, not at all
		 * if the message comes within them. */
		if (!s->spin_iters_set && s->wait != IPCX__WAIT_SLEEP &&
		    (++w.n & 31)) {
			cpu_relax();
			while ((w.n & 31) && !ipcx__ring_ready(&s->ring)) {
				cpu_relax();
				w.n++;
			}
			if (w.n & 31)
				continue; /* something at head: peek */
		}
		now = ipcx__now_ns();
		if (w.t0 < 0) {
			w.t0 = now;
			w.next_peek = now + SHM_STUCK_PEEK_NS;
		}
		expired = deadline >= 0 && now >= deadline;
		park = !spinning(s, &w, now);
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
			if (s->spin_iters_set)
				w.n++;
			cpu_relax();
			continue;
		}
		park_rx(s, &w, deadline);
	}
}

/* A sender short of room: is the receiver that should make it dead? */
static int rx_dead(ipcx_chan *ch, struct shm *s, int64_t now)
{
	uint64_t o;

	if (now - s->rx_chk_ns < SHM_LIVE_SLICE_NS)
		return 0;
	s->rx_chk_ns = now;
	o = atomic_load(&s->ring.hdr->rx_owner);
	if (o == 0 || ipcx__proc_alive((uint32_t)o, (uint32_t)(o >> 32)))
		return 0;
	return ipcx__err(IPCX_EPEER,
	                 "shm://%s is full and its receiver (pid %u) died; "
	                 "start a receiver and send again",
	                 ch->ep.name, (unsigned)(uint32_t)o);
}

/*
 * Wait until head moves past `seen` (the receiver made some room), the
 * receiver is found dead (IPCX_EPEER) or the deadline passes.
 */
static int wait_room(ipcx_chan *ch, struct shm *s, uint64_t seen,
                     int64_t deadline, struct shm_wait *w)
{
	_Atomic uint32_t *word = &s->ring.hdr->tx_wait;

	for (;;) {
		int64_t now;
		int rc;

		if (ipcx__ring_head_moved(&s->ring, seen))
			return 0;
		if (!s->spin_iters_set && s->wait != IPCX__WAIT_SLEEP &&
		    (++w->n & 31)) {
			cpu_relax();
			continue;
		}
		now = ipcx__now_ns();
		if (w->t0 < 0)
			w->t0 = now;
		rc = rx_dead(ch, s, now);
		if (rc < 0)
			return rc;
		if (deadline >= 0 && now >= deadline)
			return ipcx__err(IPCX_ETIMEDOUT,
			                 "send: the ring is full and the "
			                 "receiver made no room within the "
			                 "timeout (is it running? a larger "
			                 "?size= absorbs bursts)");
		if (spinning(s, w, now)) {
			if (s->spin_iters_set)
				w->n++;
			cpu_relax();
			continue;
		}
		/* Announce, fence, re-check, sleep: the mirror of park_rx
		 * (the receiver stores head, fences, then reads tx_wait). */
		uint32_t v = atomic_fetch_or(word, 1) | 1;
		IPCX__RING_FENCE();
		if (ipcx__ring_head_moved(&s->ring, seen))
			return 0;
		/* Sleep in slices to notice a receiver that dies. */
		int64_t until = now + SHM_LIVE_SLICE_NS;
		if (deadline >= 0 && deadline < until)
			until = deadline;
		futex_wait_until(word, v, until);
	}
}

static int reserve_wait(ipcx_chan *ch, struct shm *s, size_t len,
                        int64_t deadline, struct ipcx__ring_resv *rv)
{
	struct shm_wait w = {.t0 = -1};

	for (;;) {
		int rc =
		    ipcx__ring_reserve(&s->ring, len, me_now(s), deadline, rv);
		if (rc != IPCX_EAGAIN)
			return rc;
		rc = wait_room(ch, s, s->ring.head_cache, deadline, &w);
		if (rc < 0)
			return rc;
	}
}

/* ---- the ops ---- */

/*
 * send: copy one message into the ring. Blocks (per wait=) while the ring
 * is full, until deadline: IPCX_ETIMEDOUT, or IPCX_EPEER if the receiver
 * died. IPCX_EMSGSIZE above half the ring. The caller keeps buf.
 */
static int shm_op_send(ipcx_chan *ch, const void *buf, size_t len,
                       int64_t deadline)
{
	struct shm *s = ch->priv;
	struct shm_wait w = {.t0 = -1};

	for (;;) {
		int rc =
		    ipcx__ring_write(&s->ring, buf, len, me_now(s), deadline);
		if (rc == 0) {
			wake_rx(s);
			return 0;
		}
		if (rc != IPCX_EAGAIN)
			return rc;
		rc = wait_room(ch, s, s->ring.head_cache, deadline, &w);
		if (rc < 0)
			return rc;
	}
}

/*
 * recv: copy the next message into buf and free it in the ring. Blocks per
 * wait= until deadline. A message longer than cap stays in the ring:
 * IPCX_ENOBUFS with ch->pending set. Returns the length.
 */
static ssize_t shm_op_recv(ipcx_chan *ch, void *buf, size_t cap,
                           int64_t deadline)
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
	ipcx__ring_release(&s->ring);
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
static int shm_op_fd(ipcx_chan *ch)
{
	struct shm *s = ch->priv;
	struct sockaddr_un sa;
	uint64_t nonce = 0;
	int fd, i;

	if (!s->rx)
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
	/* Relaxed: poll_arm's fetch_or (seq_cst) publishes it. */
	atomic_store_explicit(&s->ring.hdr->rx_nonce, nonce,
	                      memory_order_relaxed);
	s->poll_fd = fd;
	poll_arm(s);
	return fd;
}

/*
 * close: cancel an outstanding loan (the receiver skips it), give up the
 * receiver role, unmap. Never removes the name (ipcx_unlink does).
 */
static int shm_op_close(ipcx_chan *ch)
{
	struct shm *s = ch->priv;

	if (!s)
		return 0;
	if (s->loaned) {
		ipcx__ring_commit(&s->ring, &s->loan, 0, IPCX__RING_K_SKIP);
		wake_rx(s);
	}
	if (s->rx) {
		uint64_t me = s->me_tag;
		atomic_compare_exchange_strong(&s->ring.hdr->rx_owner, &me, 0);
	}
	if (s->poll_fd >= 0)
		close(s->poll_fd);
	if (s->poke_fd >= 0)
		close(s->poke_fd);
	if (s->map)
		munmap(s->map, s->map_len);
	free(s);
	ch->priv = NULL;
	return 0;
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
static int shm_op_loan(ipcx_chan *ch, size_t len, void **ptr, int64_t deadline)
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
static int shm_op_commit(ipcx_chan *ch, void *ptr, size_t len)
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
	ipcx__ring_commit(&s->ring, &s->loan, len, IPCX__RING_K_MSG);
	wake_rx(s);
	return 0;
}

/* peek: the next message in place, until release. Blocks per wait=. */
static ssize_t shm_op_peek(ipcx_chan *ch, const void **ptr, int64_t deadline)
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
static int shm_op_release(ipcx_chan *ch)
{
	struct shm *s = ch->priv;

	if (!s->peeked)
		return ipcx__err(IPCX_ESTATE, "nothing peeked to release");
	s->peeked = false;
	ipcx__ring_release(&s->ring);
	wake_tx(s);
	return 0;
}

const struct ipcx__transport ipcx__tp_shm = {
    .scheme = IPCX__S_SHM,
    .try_first = true,
    .open = shm_op_open,
    .send = shm_op_send,
    .recv = shm_op_recv,
    .fd = shm_op_fd,
    .close = shm_op_close,
    .unlink = shm_op_unlink,
    .loan = shm_op_loan,
    .commit = shm_op_commit,
    .peek = shm_op_peek,
    .release = shm_op_release,
};
