/*
 * segment.c - one process's part in a ring segment: create or attach
 * /dev/shm/NAME, hold the byte locks that say we live, wait for the
 * writers' lock, and start afresh in a forked child (see segment.h).
 *
 * Liveness (FORMAT.md 3.6): each open segment holds, through its own open
 * file description, a write lock on the byte of its writer id; the
 * receiver also holds the receiver byte. The kernel drops them when the
 * last process holding the description dies, and every PID namespace
 * sharing /dev/shm sees them alike, so no decision here reads /proc.
 */
#include "segment.h"

#include "futex.h"
#include "live.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* How long an attacher waits for the creator to finish initialising. */
#define SEG_INIT_WAIT_NS 2000000000
/* Spin this many rounds on a held lock before sleeping (~20-50 us). */
#define SEG_LOCK_SPINS 1024
/* A try (deadline 0) spins this many: the holder is between a few stores. */
#define SEG_LOCK_TRY_SPINS 64
/* While one holder keeps the lock, ask whether it lives this often. */
#define SEG_LOCK_CHECK_NS 10000000
/* Pre-fault at most this much of a segment at open (the default ring). */
#define SEG_PREFAULT_MAX (IPCX__RING_HDR_SIZE + IPCX__RING_DEFAULT_DATA)
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif

/* ---- every open segment, so that a forked child can start afresh ---- */

static pthread_mutex_t seg_list_mu = PTHREAD_MUTEX_INITIALIZER;
static struct ipcx__seg *seg_list;
static pthread_once_t seg_fork_once = PTHREAD_ONCE_INIT;

static void seg_fork_prepare(void)
{
	pthread_mutex_lock(&seg_list_mu);
}

static void seg_fork_parent(void)
{
	pthread_mutex_unlock(&seg_list_mu);
}

/* Take a fresh writer id and hold its byte. */
static int seg_writer_id(struct ipcx__seg *g)
{
	uint64_t id = ipcx__ring_writer_id(&g->ring);
	int rc;

	if (id == 0)
		return ipcx__err(IPCX_ECORRUPT,
		                 "shm://%s: the ring's writer ids are used up "
		                 "(corrupt header); remove it with `ipcx rm "
		                 "shm://%s`",
		                 g->ep_name, g->ep_name);
	rc = ipcx__live_hold(g->fd, IPCX__RING_WR_LOCK + id);
	if (rc < 0)
		return rc == IPCX_EBUSY
		           ? ipcx__err(IPCX_ECORRUPT,
		                       "shm://%s: writer id %llu is taken "
		                       "(corrupt header)",
		                       g->ep_name, (unsigned long long)id)
		           : rc;
	g->me.id = id;
	return 0;
}

/*
 * In the child after fork: the fd and the mapping (a mapping holds its
 * file description too) still share the parent's description, whose
 * locks would then live as long as either process. Give the child a
 * description of its own, map the segment from it at the same address
 * (MAP_FIXED replaces the inherited mapping; pointers stay valid), and a
 * writer id of its own, so the parent's locks die with the parent and
 * ours with us. The receiver role stays the parent's. Only system calls
 * and atomics (open, dup3, mmap, fcntl).
 */
static void seg_fork_child(void)
{
	for (struct ipcx__seg *g = seg_list; g; g = g->next) {
		if (ipcx__live_reopen(g->fd) == 0 && g->map)
			(void)mmap(g->map, g->map_len, PROT_READ | PROT_WRITE,
			           MAP_SHARED | MAP_FIXED, g->fd, 0);
		g->me.pid = (uint32_t)getpid();
		g->rx = false;
		if (seg_writer_id(g) < 0)
			g->me.id = 0; /* never matches a live lock owner */
	}
	pthread_mutex_init(&seg_list_mu, NULL);
}

static void seg_fork_hook(void)
{
	pthread_atfork(seg_fork_prepare, seg_fork_parent, seg_fork_child);
}

static void seg_list_add(struct ipcx__seg *g)
{
	pthread_mutex_lock(&seg_list_mu);
	g->next = seg_list;
	seg_list = g;
	pthread_mutex_unlock(&seg_list_mu);
}

static void seg_list_del(struct ipcx__seg *g)
{
	pthread_mutex_lock(&seg_list_mu);
	for (struct ipcx__seg **p = &seg_list; *p; p = &(*p)->next)
		if (*p == g) {
			*p = g->next;
			break;
		}
	pthread_mutex_unlock(&seg_list_mu);
}

/* ---- creating and attaching ---- */

static int seg_init(struct ipcx__seg *g, uint64_t data_size, mode_t mode)
{
	size_t len = ipcx__ring_seg_bytes(data_size);
	int rc, e;

	/* shm_open applied the umask; mode= means exactly that mode. */
	if (fchmod(g->fd, mode) < 0)
		return ipcx__errno(errno, "fchmod /dev/shm%s", g->name);
	/* Allocate the pages now: a ring that tmpfs cannot back would
	 * otherwise SIGBUS at the first write past the free space. */
	e = posix_fallocate(g->fd, 0, (off_t)len);
	if (e == EOPNOTSUPP || e == EINVAL)
		e = ftruncate(g->fd, (off_t)len) < 0 ? errno : 0;
	if (e)
		return ipcx__errno(e,
		                   "allocating %zu bytes for /dev/shm%s "
		                   "(is /dev/shm full? a smaller ?size= "
		                   "helps)",
		                   len, g->name);
	g->map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, g->fd, 0);
	if (g->map == MAP_FAILED) {
		g->map = NULL;
		return ipcx__errno(errno, "mmap /dev/shm%s", g->name);
	}
	g->map_len = len;
	rc = ipcx__ring_format(g->map, len, data_size, g->me.pid);
	if (rc < 0)
		return rc;
	ipcx__ring_publish(g->map);
	return ipcx__ring_attach(&g->ring, g->map, len);
}

/* One look at an existing segment: 0 attached, IPCX_EAGAIN not ready. */
static int seg_try_attach(struct ipcx__seg *g)
{
	struct stat st;
	size_t len;
	void *m;
	int rc;

	if (fstat(g->fd, &st) < 0)
		return ipcx__errno(errno, "fstat /dev/shm%s", g->name);
	if (st.st_size > (off_t)ipcx__ring_seg_bytes(IPCX__RING_MAX_DATA))
		return ipcx__err(IPCX_ECORRUPT,
		                 "/dev/shm%s has %lld bytes, more than any "
		                 "ipcx ring",
		                 g->name, (long long)st.st_size);
	if (st.st_size < (off_t)IPCX__RING_HDR_SIZE)
		return IPCX_EAGAIN;
	len = (size_t)st.st_size;
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, g->fd, 0);
	if (m == MAP_FAILED)
		return ipcx__errno(errno, "mmap /dev/shm%s", g->name);
	rc = ipcx__ring_attach(&g->ring, m, len);
	if (rc == 0) {
		g->map = m;
		g->map_len = len;
		return 0;
	}
	munmap(m, len);
	return rc;
}

static int seg_attach(struct ipcx__seg *g, bool trust_any)
{
	int64_t give_up = ipcx__now_ns() + SEG_INIT_WAIT_NS;
	struct stat st;

	if (fstat(g->fd, &st) < 0)
		return ipcx__errno(errno, "fstat /dev/shm%s", g->name);
	if (!S_ISREG(st.st_mode))
		return ipcx__err(IPCX_ECORRUPT, "/dev/shm%s is not a file",
		                 g->name);
	if (st.st_uid != geteuid() && !trust_any)
		return ipcx__err(IPCX_EACCES,
		                 "shm://%s belongs to uid %u, not to you (uid "
		                 "%u); add ?trust=any to use it anyway",
		                 g->ep_name, (unsigned)st.st_uid,
		                 (unsigned)geteuid());
	for (unsigned i = 0;; i++) {
		int rc = seg_try_attach(g);
		if (rc != IPCX_EAGAIN)
			return rc;
		if (ipcx__now_ns() > give_up)
			return ipcx__err(IPCX_ECORRUPT,
			                 "shm://%s was never initialised (did "
			                 "its creator die while setting it "
			                 "up?); remove it with `ipcx rm "
			                 "shm://%s` and start again",
			                 g->ep_name, g->ep_name);
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

/*
 * Another user's ring whose mode keeps us out: name its owner and the two
 * ways in, instead of a bare "Permission denied".
 */
static int seg_denied(struct ipcx__seg *g)
{
	char path[sizeof(g->name) + 16];
	struct stat st;

	snprintf(path, sizeof(path), "/dev/shm%s", g->name);
	if (stat(path, &st) < 0)
		return ipcx__errno(EACCES, "opening %s", path);
	return ipcx__err(IPCX_EACCES,
	                 "shm://%s belongs to uid %u with mode %04o, which "
	                 "keeps you (uid %u) out: its owner must create it "
	                 "with ?mode=0666 (and you add ?trust=any), or run "
	                 "as uid %u",
	                 g->ep_name, (unsigned)st.st_uid,
	                 (unsigned)(st.st_mode & 07777), (unsigned)geteuid(),
	                 (unsigned)st.st_uid);
}

/*
 * Touch each page of our mapping once, at open, so that the messages do
 * not pay for it. The first access to each page of a fresh mapping costs
 * a fault, 10-40 us in this VM (whose page tables are shadowed by the
 * host, so that even a page the kernel mapped already costs an exit),
 * ~0.1-1 us on bare metal; over a 4 MiB ring that first lap of faults was
 * a fresh ring's round-trip p99 (39 us against 1.1 us warm). MAP_POPULATE
 * or MADV_POPULATE_WRITE alone fill only the kernel's page tables (here
 * they left every page's first write as slow as before); a read of one
 * byte a page, after MADV_POPULATE_WRITE has made the kernel's part cheap,
 * fills the rest. Bounded by SEG_PREFAULT_MAX (the default ring): larger
 * rings warm up past that as they are used. Skipped where another uid
 * could truncate the file under us (a read would SIGBUS outside the guard
 * of bus.h).
 */
static void seg_prefault(struct ipcx__seg *g)
{
	size_t len =
	    g->map_len < SEG_PREFAULT_MAX ? g->map_len : SEG_PREFAULT_MAX;
	const volatile unsigned char *p = g->map;

	if (g->exposed || !p)
		return;
	(void)madvise(g->map, len, MADV_POPULATE_WRITE);
	for (size_t off = 0; off < len; off += 4096)
		(void)p[off];
}

/* shm_open: create (O_EXCL) or open; *created says which. */
static int seg_file(struct ipcx__seg *g, mode_t mode, bool excl, bool *created)
{
	for (int tries = 0; tries < 8; tries++) {
		g->fd = shm_open(g->name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
		                 mode & 0777);
		if (g->fd >= 0) {
			*created = true;
			return 0;
		}
		if (errno != EEXIST)
			return ipcx__errno(errno, "creating /dev/shm%s",
			                   g->name);
		if (excl)
			return ipcx__err(IPCX_EEXIST,
			                 "shm://%s exists (IPCX_EXCL); remove "
			                 "it with `ipcx rm shm://%s`",
			                 g->ep_name, g->ep_name);
		g->fd = shm_open(g->name, O_RDWR | O_CLOEXEC, 0);
		if (g->fd >= 0)
			return 0;
		if (errno == EACCES)
			return seg_denied(g);
		if (errno != ENOENT)
			return ipcx__errno(errno, "opening /dev/shm%s",
			                   g->name);
		/* ENOENT: removed between our two calls; create again. */
	}
	return ipcx__err(IPCX_ESYS, "/dev/shm%s keeps vanishing", g->name);
}

/*
 * Whether another uid may write the file: it owns it, or the mode lets
 * group or others write. Only the owner (or root) can chmod it, so what
 * we see now holds for a file we own.
 */
static int seg_exposed(struct ipcx__seg *g)
{
	struct stat st;

	if (fstat(g->fd, &st) < 0)
		return ipcx__errno(errno, "fstat /dev/shm%s", g->name);
	g->exposed = st.st_uid != geteuid() || (st.st_mode & 0022);
	return 0;
}

int ipcx__seg_open(struct ipcx__seg *g, const struct ipcx__ep *ep, bool excl)
{
	mode_t mode = (ep->set & IPCX__O_MODE) ? (mode_t)ep->mode : 0600;
	uint64_t data_size =
	    ipcx__ring_data_size((ep->set & IPCX__O_SIZE) ? ep->size : 0);
	bool created = false;
	int rc;

	g->fd = -1;
	g->ep_name = ep->name;
	if (ep->name_len + 1 >= sizeof(g->name))
		return ipcx__err(IPCX_ENAMETOOLONG, "shm name too long");
	if (data_size == 0)
		return ipcx__err(IPCX_EOPTION,
		                 "size=%zu is above the largest ring (%u "
		                 "bytes)",
		                 ep->size, IPCX__RING_MAX_DATA);
	g->name[0] = '/';
	memcpy(g->name + 1, ep->name, ep->name_len + 1);
	g->me.pid = (uint32_t)getpid();
	g->me.uid = (uint32_t)geteuid();
	pthread_once(&seg_fork_once, seg_fork_hook);
	rc = seg_file(g, mode, excl, &created);
	if (rc < 0)
		return rc;
	if (created) {
		rc = seg_init(g, data_size, mode);
		/* Half made and ours alone: do not leave it behind for
		 * attachers to wait on. */
		if (rc < 0)
			shm_unlink(g->name);
	} else {
		rc = seg_attach(g, ep->trust_any);
	}
	if (rc == 0)
		rc = seg_exposed(g);
	if (rc == 0)
		seg_prefault(g);
	if (rc == 0)
		rc = seg_writer_id(g);
	if (rc == 0)
		seg_list_add(g);
	g->listed = rc == 0;
	return rc;
}

int ipcx__seg_claim_rx(struct ipcx__seg *g)
{
	int rc = ipcx__live_hold(g->fd, IPCX__RING_RX_LOCK);

	if (rc == IPCX_EBUSY) {
		uint32_t pid = ipcx__ring_rx_pid(&g->ring);
		return ipcx__err(
		    IPCX_EBUSY,
		    "shm://%s already has a receiver (pid %u%s); a "
		    "ring has one at a time (stop that one first, e.g. "
		    "`kill %u`, or receive on another name)",
		    g->ep_name, (unsigned)pid,
		    ipcx__proc_alive(pid, 0)
		        ? ""
		        : ", in another PID namespace or its "
		          "segment held open by a child",
		    (unsigned)pid);
	}
	if (rc < 0)
		return rc;
	g->rx = true;
	return ipcx__ring_rx_claimed(&g->ring, g->me.pid);
}

int ipcx__seg_rx_gone(struct ipcx__seg *g)
{
	/* We are the receiver (a channel that sends and receives): our own
	 * lock reads as free to us. rx_pid stays non-zero only if the
	 * receiver did not close. */
	if (g->rx)
		return 0;
	return ipcx__live_held(g->fd, IPCX__RING_RX_LOCK) == 0 &&
	       ipcx__ring_rx_pid(&g->ring) != 0;
}

bool ipcx__seg_writer_alive(struct ipcx__seg *g, uint64_t id)
{
	/* Our own id: another thread of this process, using this channel
	 * (F_OFD_GETLK does not see our own description's lock). Ids out
	 * of range come from a hostile segment: no such writer. */
	if (id == g->me.id)
		return true;
	if (id == 0 || id > IPCX__RING_WR_ID_MAX)
		return false;
	return ipcx__live_held(g->fd, IPCX__RING_WR_LOCK + id) != 0;
}

int ipcx__seg_lock(struct ipcx__seg *g, int64_t deadline)
{
	struct ipcx__ring *r = &g->ring;
	uint64_t id = g->me.id, seen = 0, cur;
	int64_t seen_ns = 0;
	unsigned spins = 0;

	for (;;) {
		int64_t now, until;
		_Atomic uint32_t *word;
		uint32_t val;

		if (ipcx__ring_lock_try(r, id))
			return 0;
		cur = ipcx__ring_lock_owner(r);
		if (cur == 0)
			continue;
		if (++spins <
		    (deadline == 0 ? SEG_LOCK_TRY_SPINS : SEG_LOCK_SPINS)) {
			ipcx__cpu_relax();
			continue;
		}
		now = ipcx__now_ns();
		if (cur != seen) {
			/* A new holder: give it a slice before asking. */
			seen = cur;
			seen_ns = now;
		} else if (now - seen_ns >= SEG_LOCK_CHECK_NS) {
			seen_ns = now;
			if (!ipcx__seg_writer_alive(g, cur)) {
				int rc = ipcx__ring_lock_takeover(r, cur, id);
				/* On ECORRUPT it let the lock go again. */
				if (rc < 0 && r->wr_wake)
					ipcx__futex_wake(
					    ipcx__ring_words(r).wr_wake);
				if (rc != 0)
					return rc < 0 ? rc : 0;
				continue; /* released, or taken over */
			}
		}
		if (deadline >= 0 && now >= deadline)
			return ipcx__err(
			    IPCX_ETIMEDOUT,
			    "timed out waiting for another writer of "
			    "shm://%s (writer %llu holds its lock)",
			    g->ep_name, (unsigned long long)cur);
		if (ipcx__ring_lock_sleep_prep(r, cur, &word, &val)) {
			until = now + SEG_LOCK_CHECK_NS;
			if (deadline >= 0 && deadline < until)
				until = deadline;
			ipcx__futex_wait(word, val, until);
		}
	}
}

void ipcx__seg_unlock(struct ipcx__seg *g)
{
	ipcx__ring_unlock(&g->ring);
	if (g->ring.wr_wake)
		ipcx__futex_wake(ipcx__ring_words(&g->ring).wr_wake);
}

void ipcx__seg_close(struct ipcx__seg *g)
{
	if (g->listed)
		seg_list_del(g);
	g->listed = false;
	if (g->rx)
		ipcx__ring_rx_left(&g->ring);
	g->rx = false;
	if (g->map)
		munmap(g->map, g->map_len);
	g->map = NULL;
	/* Closing our description drops our locks (unless a child still
	 * shares it: it reopened its own at fork, see seg_fork_child). */
	if (g->fd >= 0)
		close(g->fd);
	g->fd = -1;
}
