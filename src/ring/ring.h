/*
 * ring.h - the shared-memory ring behind shm:// (layout in docs/FORMAT.md).
 *
 * One segment = a 4 KiB header page + a data area of 2^k bytes holding
 * variable-length records. head and tail are free-running byte counters;
 * a record's place in the data area is `pos & (size - 1)`. Writers (any
 * number, serialised while they reserve by a lock word naming the holder's
 * writer id) append at tail; one reader consumes at head. Each record
 * carries a stamp word, written last with release order, that the reader
 * spins on, so the reader never needs the tail cache line on its fast path.
 *
 * This file knows nothing of files, endpoints, processes or wake-up
 * policy: it lays out, reserves, commits, peeks, releases, repairs and
 * validates, and every call returns at once (as Aeron keeps its ring free
 * of waiting and mapping). Who is alive is decided by the caller (byte
 * locks, live.h), which also waits (futex.h) on the words this file hands
 * it and on what the calls leave in rx_wake / tx_wake / wr_wake.
 *
 * The segment is shared with other processes and treated as hostile: every
 * shared word is read once with an atomic load, checked against the
 * geometry kept in struct ipcx__ring (private memory), and anything out of
 * bounds is IPCX_ECORRUPT, never a crash or an unbounded loop.
 */
#ifndef IPCX__RING_H
#define IPCX__RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

#define IPCX__RING_MAGIC        0x52585049u /* "IPXR" in little-endian memory */
#define IPCX__RING_VERSION      3u
#define IPCX__RING_HDR_SIZE     4096u /* the data area starts here */
#define IPCX__RING_ALIGN        32u   /* records start at multiples of this */
#define IPCX__RING_REC_HDR      32u   /* record header bytes */
#define IPCX__RING_MIN_DATA     4096u
#define IPCX__RING_MAX_DATA     (1u << 30)
#define IPCX__RING_DEFAULT_DATA (4u << 20)

/*
 * Liveness bytes (FORMAT.md 3.6): the receiver holds an open file
 * description write lock on the byte at IPCX__RING_RX_LOCK of the segment's
 * file, writer N on the byte at IPCX__RING_WR_LOCK + N. Writer ids come
 * from wr_next and are never reused; the largest is IPCX__RING_WR_ID_MAX.
 */
#define IPCX__RING_RX_LOCK   320u
#define IPCX__RING_WR_LOCK   (1ull << 32)
#define IPCX__RING_WR_ID_MAX (1ull << 62)

/*
 * IPCX__RING_FENCE - a seq_cst fence, for the Dekker pairs of the wake-up
 * protocol (see ring.c). ThreadSanitizer does not model fences (gcc warns
 * with -Wtsan); there a seq_cst read-modify-write stands in, which is a
 * full barrier on every machine we build for.
 */
#if defined(__SANITIZE_THREAD__)
#define IPCX__RING_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define IPCX__RING_TSAN 1
#endif
#endif
#ifdef IPCX__RING_TSAN
extern _Atomic unsigned ipcx__ring_fence_word;
#define IPCX__RING_FENCE() atomic_fetch_add(&ipcx__ring_fence_word, 0)
#else
#define IPCX__RING_FENCE() atomic_thread_fence(memory_order_seq_cst)
#endif

/* Record kinds, in the low bits of a committed stamp. */
enum {
	IPCX__RING_K_MSG = 1,  /* a message */
	IPCX__RING_K_PAD = 2,  /* filler up to the end of the data area */
	IPCX__RING_K_SKIP = 3, /* a reservation its writer cancelled */
};
#define IPCX__RING_K_MASK ((uint64_t)IPCX__RING_ALIGN - 1)

/* rx_wait bits: what the receiver waits with (cleared by a writer). */
enum {
	IPCX__RING_W_FUTEX = 1, /* parked in FUTEX_WAIT on the word */
	IPCX__RING_W_POLL = 2,  /* polling its datagram socket (rx_nonce) */
};

/*
 * The header page. Offsets are fixed (asserted in ring.c) and documented in
 * docs/FORMAT.md; every field another process writes is _Atomic so that
 * each read is one load the compiler cannot repeat or tear.
 */
struct ipcx__ring_hdr {
	/* line 0 (0): geometry, written once by the creator, magic last */
	_Atomic uint32_t magic;
	_Atomic uint32_t version;
	_Atomic uint32_t hdr_size;
	_Atomic uint32_t rec_align;
	_Atomic uint64_t data_size;
	_Atomic uint32_t creator_pid;
	_Atomic uint32_t flags;
	uint8_t pad0[32];
	/* line 1 (64): writers only: their lock and the tail */
	_Atomic uint64_t wr_owner; /* 0, or the holder's writer id */
	_Atomic uint32_t wr_wait;  /* 1: a writer may sleep on wr_wake */
	_Atomic uint32_t wr_wake;  /* futex: bumped by an unlock that saw one */
	_Atomic uint64_t wr_next;  /* the last writer id handed out */
	uint8_t pad1a[24];
	_Atomic uint64_t tail;
	uint8_t pad1[8];
	/* line 2 (128): the reader only */
	_Atomic uint64_t head;
	uint8_t pad2[56];
	/* line 3 (192): receiver parked/polling (set by it, cleared by writers)
	 */
	_Atomic uint32_t rx_wait;
	uint8_t pad3[60];
	/* line 4 (256): writers parked for room (set by them, cleared by rx) */
	_Atomic uint32_t tx_wait;
	uint8_t pad4[60];
	/* line 5 (320): the receiver's pid (for messages only) and its poll
	 * socket; the role itself is the lock on byte IPCX__RING_RX_LOCK */
	_Atomic uint32_t rx_pid;
	uint32_t pad5a;
	_Atomic uint64_t rx_nonce;
	uint8_t pad5[48];
};

/* A record header, at a multiple of IPCX__RING_ALIGN in the data area. */
struct ipcx__ring_rec {
	_Atomic uint64_t stamp; /* 0, or pos | kind once committed */
	_Atomic uint32_t span;  /* bytes taken, header included, 32-aligned */
	_Atomic uint32_t len;   /* payload bytes (<= span - 32) */
	_Atomic uint32_t pid;   /* the reserving writer (claimed, unverified) */
	_Atomic uint32_t uid;   /* its uid (claimed, unverified) */
	_Atomic uint64_t wid;   /* its writer id (whose lock byte says alive) */
};

/* Who reserves a record (writer) or who did (reader). */
struct ipcx__ring_who {
	uint32_t pid;
	uint32_t uid;
	uint64_t id; /* writer id, from ipcx__ring_writer_id() */
};

/*
 * A process's private view of one ring. Geometry is copied once at attach
 * and never re-read from the segment.
 */
struct ipcx__ring {
	struct ipcx__ring_hdr *hdr;
	unsigned char *data;
	uint64_t size;    /* data area bytes, a power of two */
	uint64_t mask;    /* size - 1 */
	uint64_t maxspan; /* largest record span: size / 2 - 32 */
	/* reader */
	uint64_t head;     /* == hdr->head, which only we write */
	uint64_t cur_pos;  /* the record last returned by peek */
	uint64_t cur_span; /* 0 when none */
	uint64_t stuck_pos;
	uint64_t stuck_span; /* set by ipcx__ring_pending() */
	/* writer */
	uint64_t head_cache; /* last head seen; refreshed when short of room */
	/* wake-up bits collected by the last calls, for the caller to act on */
	uint32_t
	    rx_wake; /* by commit: IPCX__RING_W_* the receiver waits with */
	uint32_t tx_wake; /* by release/skip/peek: writers parked for room */
	bool wr_wake;     /* by unlock: writers asleep on the lock (wr_wake) */
};

/* A reservation: where the payload goes and how much fits. */
struct ipcx__ring_resv {
	uint64_t pos; /* the record's position */
	size_t cap;   /* payload bytes reserved */
	void *ptr;    /* payload start, in the segment */
};

/* ipcx__ring_seg_bytes - segment size (header page + data) for data size. */
IPCX__HIDDEN size_t ipcx__ring_seg_bytes(uint64_t data_size);

/*
 * ipcx__ring_data_size - the data size for a wish of `want` bytes (0 for
 * the default): rounded up to a power of two within [MIN, MAX]. Returns 0
 * if want is above IPCX__RING_MAX_DATA.
 */
IPCX__HIDDEN uint64_t ipcx__ring_data_size(size_t want);

/* ipcx__ring_max_msg - largest payload a ring of data_size ever holds. */
IPCX__HIDDEN size_t ipcx__ring_max_msg(uint64_t data_size);

/*
 * ipcx__ring_format - the creator lays out a fresh, zeroed segment of len
 * bytes with data_size bytes of data: geometry and a free writers' lock.
 * It does not publish the magic: call ipcx__ring_publish() last.
 * Returns 0 or IPCX_E*.
 */
IPCX__HIDDEN int ipcx__ring_format(void *mem, size_t len, uint64_t data_size,
                                   uint32_t creator_pid);

/* ipcx__ring_publish - store the magic (release): the segment is ready. */
IPCX__HIDDEN void ipcx__ring_publish(void *mem);

/*
 * ipcx__ring_attach - validate the header of a mapped segment of len bytes
 * and fill r from it. IPCX_EAGAIN while the magic is still 0 (the creator
 * is initialising), IPCX_ECORRUPT for a bad magic, version or geometry.
 */
IPCX__HIDDEN int ipcx__ring_attach(struct ipcx__ring *r, void *mem, size_t len);

/*
 * ipcx__ring_writer_id - hand out a fresh writer id (never 0, never
 * reused). Returns it, or 0 if the counter is past IPCX__RING_WR_ID_MAX
 * (a hostile segment).
 */
IPCX__HIDDEN uint64_t ipcx__ring_writer_id(struct ipcx__ring *r);

/* ---- writers: the lock (see FORMAT.md 3.5; every call returns at once) */

/*
 * ipcx__ring_lock_try - take the writers' lock for writer id if it is
 * free: one compare-and-swap (acquire: the previous holder's tail and
 * record headers are visible). Returns whether we hold it.
 */
static inline bool ipcx__ring_lock_try(struct ipcx__ring *r, uint64_t id)
{
	uint64_t free_ = 0;

	return atomic_compare_exchange_strong_explicit(
	    &r->hdr->wr_owner, &free_, id, memory_order_acquire,
	    memory_order_relaxed);
}

/* ipcx__ring_lock_owner - the holder's writer id, 0 when free. */
IPCX__HIDDEN uint64_t ipcx__ring_lock_owner(const struct ipcx__ring *r);

/*
 * ipcx__ring_lock_takeover - the caller found holder `dead` dead: take the
 * lock from it for id (compare-and-swap, so one of several waiters does)
 * and repair tail (FORMAT.md 3.6). Returns 1 (we hold it), 0 (someone else
 * changed it first: look again) or IPCX_ECORRUPT (lock released).
 */
IPCX__HIDDEN int ipcx__ring_lock_takeover(struct ipcx__ring *r, uint64_t dead,
                                          uint64_t id);

/*
 * ipcx__ring_lock_sleep_prep - before sleeping on a lock held by `held`:
 * read the futex word, announce a sleeper, fence, and look again. Returns
 * whether `held` still holds it (then FUTEX_WAIT on *word with *val); an
 * unlock after this changes *word, so no wake-up is lost.
 */
IPCX__HIDDEN bool ipcx__ring_lock_sleep_prep(struct ipcx__ring *r,
                                             uint64_t held,
                                             _Atomic uint32_t **word,
                                             uint32_t *val);

/*
 * ipcx__ring_unlock - release the writers' lock. Sets r->wr_wake if
 * writers may sleep on it: the caller then FUTEX_WAKEs
 * &r->hdr->wr_wake (ipcx__ring_words()).
 */
IPCX__HIDDEN void ipcx__ring_unlock(struct ipcx__ring *r);

/*
 * ipcx__ring_reserve_locked - with the lock held, reserve a contiguous
 * record for len payload bytes (writing a pad first if it must wrap) and
 * advance tail. The record stays invisible to the reader until committed.
 * Returns 0 with *rv filled, IPCX_EAGAIN if there is no room now (see
 * r->head_cache for the head it saw), IPCX_EMSGSIZE, IPCX_ECORRUPT.
 */
IPCX__HIDDEN int ipcx__ring_reserve_locked(struct ipcx__ring *r, size_t len,
                                           const struct ipcx__ring_who *who,
                                           struct ipcx__ring_resv *rv);

/*
 * ipcx__ring_write - a send: take the writers' lock if it is free (held:
 * the caller already holds it, from ipcx__seg_lock), copy len bytes from
 * buf in as one committed message (payload, then the header and stamp in
 * one burst, then tail: FORMAT.md 3.5), unlock. Sets r->rx_wake and
 * r->wr_wake for the caller to act on. Returns 0, IPCX_EBUSY (the lock is
 * held: nothing done), IPCX_EAGAIN (no room now), IPCX_EMSGSIZE or
 * IPCX_ECORRUPT.
 */
IPCX__HIDDEN int ipcx__ring_write(struct ipcx__ring *r, const void *buf,
                                  size_t len, const struct ipcx__ring_who *who,
                                  bool held);

/*
 * ipcx__ring_note_rx - after a commit and a seq_cst fence (an unlock's):
 * set r->rx_wake to the receiver's wait bits if it must be woken.
 */
IPCX__HIDDEN void ipcx__ring_note_rx(struct ipcx__ring *r);

/*
 * ipcx__ring_copy - memcpy, minus a glibc slow path for 4K-aliased pairs
 * (see ring.c). For copies into and out of the ring.
 */
IPCX__HIDDEN void ipcx__ring_copy(void *dst, const void *src, size_t n);

/*
 * ipcx__ring_commit - publish a reservation as a message of used bytes
 * (<= rv->cap), or cancel it with kind IPCX__RING_K_SKIP. Never blocks.
 * Sets r->rx_wake to the receiver's wait bits if it must be woken.
 */
IPCX__HIDDEN void ipcx__ring_commit(struct ipcx__ring *r,
                                    const struct ipcx__ring_resv *rv,
                                    size_t used, int kind);

/* ipcx__ring_head_moved - whether head is past `seen` (writer's recheck). */
IPCX__HIDDEN bool ipcx__ring_head_moved(struct ipcx__ring *r, uint64_t seen);

/* ---- the reader (one at a time: see rx_owner) ---- */

/*
 * ipcx__ring_rx_init - take over the reader's position from the segment
 * (after claiming rx_owner). Returns 0 or IPCX_ECORRUPT.
 */
IPCX__HIDDEN int ipcx__ring_rx_init(struct ipcx__ring *r);

/*
 * ipcx__ring_peek - the next committed message, in place: *ptr, *len (and
 * *who, if not NULL) until ipcx__ring_release(). Passes pads and cancelled
 * records (releasing them: may set r->tx_wake). Idempotent until release.
 * Returns 0, IPCX_EAGAIN (nothing committed at head) or IPCX_ECORRUPT.
 */
IPCX__HIDDEN int ipcx__ring_peek(struct ipcx__ring *r, const void **ptr,
                                 size_t *len, struct ipcx__ring_who *who);

/*
 * ipcx__ring_ready - cheap hint: something is committed at head. One
 * relaxed load of the stamp the reader waits on, inline, for spin loops
 * (ipcx__ring_peek() then acquires and checks it).
 */
static inline bool ipcx__ring_ready(const struct ipcx__ring *r)
{
	const _Atomic uint64_t *stamp =
	    (const _Atomic uint64_t *)(const void *)(r->data +
	                                             (r->head & r->mask));

	return atomic_load_explicit(stamp, memory_order_relaxed) != 0;
}

/*
 * ipcx__ring_release - free the record returned by the last peek (advance
 * head). May set r->tx_wake.
 */
IPCX__HIDDEN void ipcx__ring_release(struct ipcx__ring *r);

/*
 * ipcx__ring_pending - after peek said IPCX_EAGAIN: 0 if nothing is
 * reserved (the ring is empty), 1 if an uncommitted reservation sits at
 * head (*who says whose: the caller checks if that writer still lives),
 * 2 if it got committed meanwhile (peek again), or IPCX_ECORRUPT.
 */
IPCX__HIDDEN int ipcx__ring_pending(struct ipcx__ring *r,
                                    struct ipcx__ring_who *who);

/*
 * ipcx__ring_skip - drop the reservation ipcx__ring_pending() returned 1
 * for, because the caller found its writer dead. Reads the stamp again
 * first (acquire): a writer may have committed between pending's read and
 * the liveness test, then exited; such a record is delivered, not lost.
 * Returns 0 (skipped; may set r->tx_wake) or 2 (committed: peek again).
 */
IPCX__HIDDEN int ipcx__ring_skip(struct ipcx__ring *r);

/* ---- the words other processes sleep on, for the caller's futexes ---- */

struct ipcx__ring_words {
	_Atomic uint32_t *rx_wait; /* the receiver sleeps here (W_FUTEX) */
	_Atomic uint32_t *tx_wait; /* writers short of room sleep here */
	_Atomic uint32_t *wr_wake; /* writers waiting for the lock */
};

/* ipcx__ring_words - where those words are in r's segment. */
IPCX__HIDDEN struct ipcx__ring_words
ipcx__ring_words(const struct ipcx__ring *r);

/*
 * ipcx__ring_rx_wait_set - the receiver announces how it waits (bits of
 * IPCX__RING_W_*), then a seq_cst fence: the Dekker pair of a commit's
 * fence. Returns the word's new value (for FUTEX_WAIT).
 */
IPCX__HIDDEN uint32_t ipcx__ring_rx_wait_set(struct ipcx__ring *r,
                                             uint32_t bits);

/*
 * ipcx__ring_tx_wait_set - a writer short of room announces it sleeps,
 * then fences. Returns the word's value (for FUTEX_WAIT on tx_wait).
 */
IPCX__HIDDEN uint32_t ipcx__ring_tx_wait_set(struct ipcx__ring *r);

/*
 * ipcx__ring_rx_claimed - the new receiver (it holds the role): clear the
 * wait bits a dead one may have left, record its pid (for messages), and
 * take over the reading position (ipcx__ring_rx_init).
 */
IPCX__HIDDEN int ipcx__ring_rx_claimed(struct ipcx__ring *r, uint32_t pid);

/* ipcx__ring_rx_pid - the receiver's pid as it stored it (0: none). */
IPCX__HIDDEN uint32_t ipcx__ring_rx_pid(const struct ipcx__ring *r);

/* ipcx__ring_rx_left - the receiver leaves: rx_pid back to 0. */
IPCX__HIDDEN void ipcx__ring_rx_left(struct ipcx__ring *r);

/* ipcx__ring_nonce / ipcx__ring_set_nonce - the receiver's poll socket. */
IPCX__HIDDEN uint64_t ipcx__ring_nonce(const struct ipcx__ring *r);
IPCX__HIDDEN void ipcx__ring_set_nonce(struct ipcx__ring *r, uint64_t nonce);

#endif /* IPCX__RING_H */
