/*
 * semshm.c - semshm://name: the textbook bounded buffer, a slot array in
 * /dev/shm/semshm.name guarded by System V counting semaphores.
 *
 * One set of six semaphores: EMPTY (free slots, starts at slots=) and
 * FULL (filled slots, starts at 0) count; PMUTEX and CMUTEX (1 each) let
 * one producer and one consumer at a time at the slots (producers and
 * consumers touch different slots, so they need not exclude each other:
 * one mutex for both would make them hand it to each other for every
 * message); TAIL and HEAD hold the next slot to write and to read. A
 * writer waits for EMPTY and PMUTEX in one semop, copies its message into
 * the slot at TAIL, then in one semop posts FULL, advances TAIL and gives
 * PMUTEX back; a reader is the mirror image. Any number of writers and
 * readers may share one buffer. This is the slow, teaching path: three
 * system calls a message on each side. shm:// is the fast path (one copy,
 * no system call while the other side is busy).
 *
 * A process killed with SIGKILL in the middle must not deadlock the
 * others, nor lose or invent a slot. Every wait takes its semaphores with
 * SEM_UNDO, and every commit gives them back with SEM_UNDO in the same
 * semop that publishes (FULL, TAIL or EMPTY, HEAD): a process that dies
 * before its commit has its waits undone by the kernel at exit, as if it
 * had never started (its half-written slot is simply reused, a message it
 * was reading stays for the next reader); one that dies after it has
 * finished. Nothing to repair and no liveness check (unlike a pid tag,
 * this also works across PID namespaces, which share /dev/shm).
 *
 * The set is private (IPC_PRIVATE); the segment's header names it, with
 * the set's ctime so that a recycled id is never mistaken for ours. The
 * layout is in docs/FORMAT.md section 4. ipcx_fd() is IPCX_ENOTSUP.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/sem.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* "IPXS" in little-endian memory; written last by the creator. */
#define SM_MAGIC   0x53585049u
#define SM_VERSION 2
/* Defaults: 16 slots of 64 KiB. */
#define SM_SLOTS    16
#define SM_SLOT_MAX (64u << 10)
/* Largest segment we create or accept. */
#define SM_SEG_MAX (1ull << 30)
/* How long an attacher waits for the creator to finish. */
#define SM_INIT_WAIT_NS 2000000000
/* A semaphore's largest value (SEMVMX). */
#define SM_VMX 32767

enum { SM_PMUTEX, SM_CMUTEX, SM_EMPTY, SM_FULL, SM_TAIL, SM_HEAD, SM_NSEMS };

struct sm_hdr {
	_Atomic uint32_t magic;
	uint32_t version;
	int32_t semid;
	uint32_t has_set; /* semid is set (written right after semget) */
	uint32_t slots;
	uint64_t slot_size; /* payload bytes a slot holds */
	int64_t sem_ctime;  /* the set's sem_ctime after its set-up */
};

/*
 * A slot. wseq and rseq carry no decision: the semaphores do. wseq (the
 * writer's position + 1, stored with release after the copy) lets the
 * reader check that the slot holds what FULL says it does; both give
 * the two sides' copies a happens-before a race detector can see (it
 * cannot see one made by semop).
 */
struct sm_slot {
	_Atomic uint64_t wseq;
	_Atomic uint64_t rseq;
	uint64_t len;
	uint8_t data[];
};

#define SM_HDR_SIZE 64
_Static_assert(sizeof(struct sm_hdr) <= SM_HDR_SIZE, "header fits");
/* The offsets docs/FORMAT.md section 4 gives. */
_Static_assert(offsetof(struct sm_hdr, slots) == 16 &&
                   offsetof(struct sm_hdr, slot_size) == 24 &&
                   offsetof(struct sm_hdr, sem_ctime) == 32 &&
                   offsetof(struct sm_slot, len) == 16 &&
                   offsetof(struct sm_slot, data) == 24,
               "layout of docs/FORMAT.md");

struct sm {
	struct sm_hdr *hdr;
	void *map;
	size_t map_len;
	int semid;
	/* Geometry copied once at attach and trusted from then on. */
	uint32_t slots;
	uint32_t wrap; /* positions run 0 .. wrap-1: slots * (32767 / slots) */
	size_t slot_size;
	size_t slot_stride;
};

/* Test hook (tests only): called at the numbered points of a send or a
 * receive between its wait and its commit, so a test can kill the
 * process there. */
void (*ipcx__semshm_hook)(int stage) IPCX__HIDDEN;

static void sm_stop(int stage)
{
	if (ipcx__semshm_hook)
		ipcx__semshm_hook(stage);
}

static size_t sm_stride(size_t slot_size)
{
	return sizeof(struct sm_slot) + ((slot_size + 7) & ~(size_t)7);
}

static struct sm_slot *sm_slot(const struct sm *s, unsigned pos)
{
	return (struct sm_slot *)((uint8_t *)s->map + SM_HDR_SIZE +
	                          (size_t)(pos % s->slots) * s->slot_stride);
}

/* ---- the semaphores ---- */

/* The set was removed (ipcx rm) or is not ours any more. */
static int sm_gone(ipcx_chan *ch, int e, const char *what)
{
	if (e == EIDRM || e == EINVAL)
		return ipcx__err(IPCX_EPEER,
		                 "semshm://%s was removed while in use",
		                 ch->ep.name);
	return ipcx__errno(e, "%s semshm://%s", what, ch->ep.name);
}

/*
 * Wait for a unit of `count` (EMPTY for a writer, FULL for a reader) and
 * `mutex` in one atomic semop, until the deadline, both with SEM_UNDO;
 * then read the position (TAIL or HEAD) we may use. Returns 0 with *pos
 * set, or IPCX_E*.
 */
static int sm_take(ipcx_chan *ch, struct sm *s, int count, int mutex, int posn,
                   int64_t deadline, unsigned *pos)
{
	short fl = (short)(SEM_UNDO | (deadline == 0 ? IPC_NOWAIT : 0));
	struct sembuf ops[2] = {
	    {(unsigned short)count, -1, fl},
	    {(unsigned short)mutex, -1, fl},
	};
	int v;

	for (;;) {
		struct timespec ts;
		if (semtimedop(s->semid, ops, 2,
		               ipcx__timespec_left(deadline, &ts)) == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			return ipcx__err(IPCX_ETIMEDOUT,
			                 count == SM_EMPTY
			                     ? "no free slot within the timeout"
			                     : "no message within the timeout");
		return sm_gone(ch, errno, "semop");
	}
	/* Only the holder of `mutex` moves this position: it is stable. */
	v = semctl(s->semid, posn, GETVAL);
	if (v >= 0 && (unsigned)v < s->wrap) {
		*pos = (unsigned)v;
		return 0;
	}
	return v < 0 ? sm_gone(ch, errno, "semctl GETVAL")
	             : ipcx__err(IPCX_ECORRUPT,
	                         "semshm://%s: position %d is past %u",
	                         ch->ep.name, v, s->wrap);
}

/*
 * Give back what sm_take took, changing nothing (a message that does not
 * fit, a corrupt slot): both semaphores up again, their undo cleared.
 */
static void sm_untake(struct sm *s, int count, int mutex)
{
	struct sembuf ops[2] = {
	    {(unsigned short)count, 1, SEM_UNDO},
	    {(unsigned short)mutex, 1, SEM_UNDO},
	};

	while (semop(s->semid, ops, 2) < 0 && errno == EINTR)
		;
}

/*
 * Commit in one semop (never blocks): post `post` (FULL after a write,
 * EMPTY after a read), move the position past pos (wrapping), and keep
 * the unit of `count` and give `mutex` back, clearing both undos. The
 * kept unit is "+1 with SEM_UNDO, then -1 without": the value stays
 * taken, the undo goes back to zero.
 */
static int sm_commit(ipcx_chan *ch, struct sm *s, int count, int mutex,
                     int post, int posn, unsigned pos)
{
	struct sembuf ops[5] = {
	    {(unsigned short)post, 1, 0},
	    {(unsigned short)posn, (short)(pos + 1 == s->wrap ? -(int)pos : 1),
	     0},
	    {(unsigned short)count, 1, SEM_UNDO},
	    {(unsigned short)count, -1, 0},
	    {(unsigned short)mutex, 1, SEM_UNDO},
	};

	while (semop(s->semid, ops, 5) < 0)
		if (errno != EINTR)
			return sm_gone(ch, errno, "semop");
	return 0;
}

/* ---- opening ---- */

/* "/semshm.NAME" for shm_open; the parser bounds NAME to NAME_MAX - 7. */
static void sm_path(const struct ipcx__ep *ep, char name[NAME_MAX + 2])
{
	memcpy(name, "/semshm.", 8);
	memcpy(name + 8, ep->name, ep->name_len + 1);
}

/* The set named by a header: ours only if its ctime and owner match. */
static int sm_check_set(ipcx_chan *ch, int semid, int64_t ctime, uid_t owner)
{
	struct semid_ds ds;

	if (semctl(semid, 0, IPC_STAT, &ds) < 0 || ds.sem_nsems != SM_NSEMS ||
	    (int64_t)ds.sem_ctime != ctime || ds.sem_perm.uid != owner)
		return ipcx__err(IPCX_ECORRUPT,
		                 "semshm://%s: its semaphore set (id %d) is "
		                 "gone or not its own; remove it with `ipcx rm "
		                 "semshm://%s` and start again",
		                 ch->ep.name, semid, ch->ep.name);
	return 0;
}

static int sm_create(ipcx_chan *ch, struct sm *s, int fd, const char *name)
{
	const struct ipcx__ep *ep = &ch->ep;
	unsigned short init[SM_NSEMS];
	struct semid_ds ds;
	int e;

	s->slots = ep->slots ? ep->slots : SM_SLOTS;
	s->wrap = s->slots * (SM_VMX / s->slots);
	s->slot_size = (ep->set & IPCX__O_MAXMSG) ? ep->maxmsg : SM_SLOT_MAX;
	s->slot_stride = sm_stride(s->slot_size);
	if ((uint64_t)s->slots * s->slot_stride + SM_HDR_SIZE > SM_SEG_MAX)
		return ipcx__err(IPCX_EINVAL,
		                 "semshm://%s: %u slots of %zu bytes exceed "
		                 "1 GiB; lower ?slots= or ?maxmsg=",
		                 ep->name, s->slots, s->slot_size);
	s->map_len = SM_HDR_SIZE + (size_t)s->slots * s->slot_stride;
	/* shm_open applied the umask; mode= means exactly that mode. */
	if (fchmod(fd, (mode_t)ep->mode) < 0)
		return ipcx__errno(errno, "fchmod /dev/shm%s", name);
	e = posix_fallocate(fd, 0, (off_t)s->map_len);
	if (e == EOPNOTSUPP || e == EINVAL)
		e = ftruncate(fd, (off_t)s->map_len) < 0 ? errno : 0;
	if (e)
		return ipcx__errno(e, "allocating %zu bytes for /dev/shm%s",
		                   s->map_len, name);
	s->map =
	    mmap(NULL, s->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (s->map == MAP_FAILED) {
		s->map = NULL;
		return ipcx__errno(errno, "mmap /dev/shm%s", name);
	}
	s->hdr = s->map;
	s->semid = semget(IPC_PRIVATE, SM_NSEMS, IPC_CREAT | (int)ep->mode);
	if (s->semid < 0)
		return ipcx__errno(errno,
		                   "semget (a set of 6 semaphores for "
		                   "semshm://%s; see /proc/sys/kernel/sem)",
		                   ep->name);
	/* Name the set at once: should we die before the magic, `ipcx rm`
	 * still finds it and removes it with the segment. */
	s->hdr->semid = s->semid;
	s->hdr->has_set = 1;
	init[SM_PMUTEX] = 1;
	init[SM_CMUTEX] = 1;
	init[SM_EMPTY] = (unsigned short)s->slots;
	init[SM_FULL] = 0;
	init[SM_TAIL] = 0;
	init[SM_HEAD] = 0;
	if (semctl(s->semid, 0, SETALL, init) < 0 ||
	    semctl(s->semid, 0, IPC_STAT, &ds) < 0)
		return ipcx__errno(errno, "semctl (setting up semshm://%s)",
		                   ep->name);
	s->hdr->version = SM_VERSION;
	s->hdr->slots = s->slots;
	s->hdr->slot_size = s->slot_size;
	s->hdr->sem_ctime = (int64_t)ds.sem_ctime;
	/* Release: an attacher that sees the magic sees all of the above. */
	atomic_store_explicit(&s->hdr->magic, SM_MAGIC, memory_order_release);
	return 0;
}

static int sm_attach(ipcx_chan *ch, struct sm *s, int fd, const char *name)
{
	int64_t give_up = ipcx__now_ns() + SM_INIT_WAIT_NS;
	struct stat st;
	struct sm_hdr h;

	if (fstat(fd, &st) < 0)
		return ipcx__errno(errno, "fstat /dev/shm%s", name);
	if (!S_ISREG(st.st_mode))
		return ipcx__err(IPCX_ECORRUPT, "/dev/shm%s is not a file",
		                 name);
	if (st.st_uid != geteuid() && !ch->ep.trust_any)
		return ipcx__err(IPCX_EACCES,
		                 "semshm://%s belongs to uid %u, not to you "
		                 "(uid %u); add ?trust=any to use it anyway",
		                 ch->ep.name, (unsigned)st.st_uid,
		                 (unsigned)geteuid());
	/* The creator sets the size first and the magic last: wait for
	 * both (a few microseconds, unless it died). */
	for (unsigned i = 0;; i++) {
		uint32_t magic = 0;
		if (fstat(fd, &st) < 0)
			return ipcx__errno(errno, "fstat /dev/shm%s", name);
		if (st.st_size >= SM_HDR_SIZE &&
		    (uint64_t)st.st_size <= SM_SEG_MAX && !s->map) {
			s->map_len = (size_t)st.st_size;
			s->map = mmap(NULL, s->map_len, PROT_READ | PROT_WRITE,
			              MAP_SHARED, fd, 0);
			if (s->map == MAP_FAILED) {
				s->map = NULL;
				return ipcx__errno(errno, "mmap /dev/shm%s",
				                   name);
			}
			s->hdr = s->map;
		}
		if (s->hdr)
			magic = atomic_load_explicit(&s->hdr->magic,
			                             memory_order_acquire);
		if (magic == SM_MAGIC)
			break;
		if (s->hdr && magic != 0)
			return ipcx__err(IPCX_ECORRUPT,
			                 "/dev/shm%s is not a semshm buffer",
			                 name);
		if (ipcx__now_ns() > give_up)
			return ipcx__err(
			    IPCX_ECORRUPT,
			    "semshm://%s was never initialised (did "
			    "its creator die?); remove it with `ipcx "
			    "rm semshm://%s`",
			    ch->ep.name, ch->ep.name);
		if (i < 64) {
			sched_yield();
		} else {
			struct timespec ts = {0, 1000000};
			nanosleep(&ts, NULL);
		}
	}
	/* Copy the geometry once and check it against the mapping: the
	 * segment is shared, so it is not trusted. */
	memcpy(&h, s->hdr, sizeof(h));
	if (h.version != SM_VERSION || h.slots == 0 || h.slots > SM_VMX ||
	    h.slot_size > SM_SEG_MAX ||
	    SM_HDR_SIZE + (uint64_t)h.slots * sm_stride(h.slot_size) >
	        s->map_len)
		return ipcx__err(IPCX_ECORRUPT,
		                 "/dev/shm%s: bad semshm header (version %u, "
		                 "%u slots of %llu bytes in %zu)",
		                 name, h.version, h.slots,
		                 (unsigned long long)h.slot_size, s->map_len);
	s->slots = h.slots;
	s->wrap = s->slots * (SM_VMX / s->slots);
	s->slot_size = (size_t)h.slot_size;
	s->slot_stride = sm_stride(s->slot_size);
	s->semid = h.semid;
	return sm_check_set(ch, s->semid, h.sem_ctime, st.st_uid);
}

/*
 * open: create /dev/shm/semshm.NAME (O_EXCL, mode=) with its semaphore
 * set, slots= slots of maxmsg= bytes; or attach to the existing one
 * (owner check, wait for its creator, validate the header and the set).
 * Either end may create; IPCX_EXCL refuses an existing one. Blocks at
 * most ~2 s, only while another process sets the buffer up.
 */
static int sm_op_open(ipcx_chan *ch)
{
	char name[NAME_MAX + 2];
	struct sm *s;
	int fd, r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return ipcx__err(IPCX_ENOMEM, "out of memory");
	s->semid = -1;
	ch->priv = s;
	sm_path(&ch->ep, name);
	fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
	              (mode_t)ch->ep.mode);
	if (fd >= 0) {
		r = sm_create(ch, s, fd, name);
		close(fd);
		if (r < 0) {
			/* Remove the half-made buffer: nobody can use it. */
			if (s->semid >= 0)
				semctl(s->semid, 0, IPC_RMID);
			s->semid = -1;
			shm_unlink(name);
		}
		return r;
	}
	if (errno != EEXIST)
		return ipcx__errno(errno, "shm_open /dev/shm%s", name);
	if (ch->flags & IPCX_EXCL)
		return ipcx__err(IPCX_EEXIST,
		                 "semshm://%s already exists (remove it with "
		                 "`ipcx rm semshm://%s`)",
		                 ch->ep.name, ch->ep.name);
	fd = shm_open(name, O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0);
	if (fd < 0)
		return ipcx__errno(errno, "shm_open /dev/shm%s", name);
	r = sm_attach(ch, s, fd, name);
	close(fd);
	return r;
}

/*
 * send: wait (until the deadline) for a free slot and the producers'
 * mutex, copy the message in, publish it. IPCX_EMSGSIZE above the slot
 * size.
 */
static int sm_op_send(ipcx_chan *ch, const void *buf, size_t len,
                      int64_t deadline)
{
	struct sm *s = ch->priv;
	struct sm_slot *slot;
	unsigned pos;
	int r;

	if (len > s->slot_size)
		return ipcx__err(IPCX_EMSGSIZE,
		                 "message of %zu bytes exceeds semshm://%s's "
		                 "slot size %zu; create it with ?maxmsg=",
		                 len, ch->ep.name, s->slot_size);
	r = sm_take(ch, s, SM_EMPTY, SM_PMUTEX, SM_TAIL, deadline, &pos);
	if (r < 0) {
		if (r == IPCX_ECORRUPT)
			sm_untake(s, SM_EMPTY, SM_PMUTEX);
		return r;
	}
	sm_stop(1);
	slot = sm_slot(s, pos);
	/* Acquire: the last reader of this slot is done with it. */
	(void)atomic_load_explicit(&slot->rseq, memory_order_acquire);
	slot->len = len;
	if (len)
		memcpy(slot->data, buf, len);
	sm_stop(2);
	/* Release: the reader that checks wseq sees the copy. */
	atomic_store_explicit(&slot->wseq, (uint64_t)pos + 1,
	                      memory_order_release);
	sm_stop(3);
	return sm_commit(ch, s, SM_EMPTY, SM_PMUTEX, SM_FULL, SM_TAIL, pos);
}

/*
 * recv: wait (until the deadline) for a message and the consumers'
 * mutex, copy it out. If it does not fit cap, it stays first in line:
 * IPCX_ENOBUFS with ch->pending set.
 */
static ssize_t sm_op_recv(ipcx_chan *ch, void *buf, size_t cap,
                          int64_t deadline)
{
	struct sm *s = ch->priv;
	struct sm_slot *slot;
	uint64_t len;
	unsigned pos;
	int r;

	r = sm_take(ch, s, SM_FULL, SM_CMUTEX, SM_HEAD, deadline, &pos);
	if (r < 0) {
		if (r == IPCX_ECORRUPT)
			sm_untake(s, SM_FULL, SM_CMUTEX);
		return r;
	}
	sm_stop(4);
	slot = sm_slot(s, pos);
	/* Acquire: pairs with the writer's release of wseq. The segment is
	 * shared, so what it says is checked, not trusted. */
	if (atomic_load_explicit(&slot->wseq, memory_order_acquire) !=
	        (uint64_t)pos + 1 ||
	    (len = slot->len) > s->slot_size) {
		sm_untake(s, SM_FULL, SM_CMUTEX);
		return ipcx__err(
		    IPCX_ECORRUPT,
		    "semshm://%s: slot %u does not hold the message "
		    "FULL counts (or claims more than %zu bytes)",
		    ch->ep.name, pos % s->slots, s->slot_size);
	}
	if (len > cap) {
		/* The message stays first in line; nothing changes. */
		ch->pending = (size_t)len;
		ch->has_pending = true;
		sm_untake(s, SM_FULL, SM_CMUTEX);
		return ipcx__err(
		    IPCX_ENOBUFS,
		    "semshm://%s: message of %llu bytes, buffer of "
		    "%zu",
		    ch->ep.name, (unsigned long long)len, cap);
	}
	if (len)
		memcpy(buf, slot->data, (size_t)len);
	/* Release: the next writer of this slot comes after our copy. */
	atomic_store_explicit(&slot->rseq, (uint64_t)pos + 1,
	                      memory_order_release);
	sm_stop(5);
	r = sm_commit(ch, s, SM_FULL, SM_CMUTEX, SM_EMPTY, SM_HEAD, pos);
	return r < 0 ? r : (ssize_t)len;
}

static int sm_op_fd(ipcx_chan *ch)
{
	return ipcx__err(IPCX_ENOTSUP,
	                 "semshm://%s has no file descriptor: its waits are "
	                 "System V semaphores, which cannot be polled; "
	                 "receive with a timeout, or use shm://",
	                 ch->ep.name);
}

/* close: unmap. The name and the set stay (ipcx_unlink removes both). */
static int sm_op_close(ipcx_chan *ch)
{
	struct sm *s = ch->priv;

	if (!s)
		return 0;
	if (s->map)
		munmap(s->map, s->map_len);
	free(s);
	ch->priv = NULL;
	return 0;
}

/*
 * unlink: remove the semaphore set the header names (if it is the
 * buffer's own: same owner, same ctime) and /dev/shm/semshm.NAME.
 * Channels still open get IPCX_EPEER at their next wait.
 */
static int sm_op_unlink(const struct ipcx__ep *ep)
{
	char name[NAME_MAX + 2], path[NAME_MAX + 16];
	struct sm_hdr h;
	struct semid_ds ds;
	struct stat st;
	int fd;

	sm_path(ep, name);
	snprintf(path, sizeof(path), "/dev/shm%s", name);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return ipcx__err(IPCX_ENOENT,
		                 "no semshm buffer %s (already removed, or "
		                 "check the name)",
		                 path);
	if (fd >= 0) {
		/* A creator that died before its magic has named the set
		 * but not its ctime: then owner and size must do. */
		if (fstat(fd, &st) == 0 &&
		    pread(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h) &&
		    h.has_set == 1 && semctl(h.semid, 0, IPC_STAT, &ds) == 0 &&
		    (h.magic != SM_MAGIC ||
		     (int64_t)ds.sem_ctime == h.sem_ctime) &&
		    ds.sem_perm.uid == st.st_uid && ds.sem_nsems == SM_NSEMS)
			semctl(h.semid, 0, IPC_RMID);
		close(fd);
	}
	if (shm_unlink(name) == 0)
		return 0;
	if (errno == ENOENT)
		return ipcx__err(IPCX_ENOENT, "no semshm buffer %s", path);
	return ipcx__errno(errno, "shm_unlink %s", path);
}

const struct ipcx__transport ipcx__tp_semshm = {
    .scheme = IPCX__S_SEMSHM,
    .try_first = true,
    .open = sm_op_open,
    .send = sm_op_send,
    .recv = sm_op_recv,
    .fd = sm_op_fd,
    .close = sm_op_close,
    .unlink = sm_op_unlink,
};
