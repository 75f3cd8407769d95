/*
 * ring.c - the shared-memory ring: layout, reserve/commit, peek/release,
 * validation. See ring.h for the model and docs/FORMAT.md for the bytes.
 *
 * Memory ordering, in one place:
 *  - A writer fills a record (payload, len), then stores its stamp with
 *    release; the reader loads the stamp with acquire, so once it sees the
 *    stamp it sees the payload. This is the only line the reader waits on.
 *  - Under the writers' lock a reserver writes the record header (span,
 *    pid), clears the stamp of the slot right after the record (so the
 *    reader, arriving there, reads 0 and not stale bytes of an old lap),
 *    then stores tail with release. Readers and recovering writers that
 *    load tail with acquire see those header fields.
 *  - The reader stores head with release once it is done with a record's
 *    bytes; a writer loads head with acquire before reusing them.
 *  - Wake-ups are Dekker-style: each side stores (stamp, or head), issues a
 *    seq_cst fence, then loads the other side's wait word; a waiter stores
 *    its wait word, fences, then re-checks. At least one of the two sees
 *    the other's store, so no wake-up is lost. The waits themselves are
 *    the caller's (shm.c, segment.c), on the words ipcx__ring_words()
 *    gives.
 */
#include "ring.h"

#include <string.h>

#ifdef IPCX__RING_TSAN
_Atomic unsigned ipcx__ring_fence_word;
#endif

#define ACQ memory_order_acquire
#define REL memory_order_release
#define RLX memory_order_relaxed

_Static_assert(offsetof(struct ipcx__ring_hdr, data_size) == 16, "layout");
_Static_assert(offsetof(struct ipcx__ring_hdr, wr_owner) == 64, "layout");
_Static_assert(offsetof(struct ipcx__ring_hdr, wr_wait) == 72, "layout");
_Static_assert(offsetof(struct ipcx__ring_hdr, wr_wake) == 76, "layout");
_Static_assert(offsetof(struct ipcx__ring_hdr, wr_next) == 80, "layout");
_Static_assert(offsetof(struct ipcx__ring_hdr, tail) == 112, "layout");
_Static_assert(offsetof(struct ipcx__ring_hdr, head) == 128, "layout");
_Static_assert(offsetof(struct ipcx__ring_hdr, rx_wait) == 192, "layout");
_Static_assert(offsetof(struct ipcx__ring_hdr, tx_wait) == 256, "layout");
_Static_assert(offsetof(struct ipcx__ring_hdr, rx_pid) == 320, "layout");
_Static_assert(offsetof(struct ipcx__ring_hdr, rx_nonce) == 328, "layout");
_Static_assert(sizeof(struct ipcx__ring_hdr) == 384, "layout");
_Static_assert(sizeof(struct ipcx__ring_rec) == IPCX__RING_REC_HDR, "layout");
_Static_assert(offsetof(struct ipcx__ring_rec, pid) == 16, "layout");
_Static_assert(offsetof(struct ipcx__ring_rec, uid) == 20, "layout");
_Static_assert(offsetof(struct ipcx__ring_rec, wid) == 24, "layout");

static inline struct ipcx__ring_rec *rec_at(const struct ipcx__ring *r,
                                            uint64_t pos)
{
	return (struct ipcx__ring_rec *)(void *)(r->data + (pos & r->mask));
}

static inline uint64_t align_up(uint64_t n)
{
	return (n + IPCX__RING_ALIGN - 1) & ~(uint64_t)(IPCX__RING_ALIGN - 1);
}

size_t ipcx__ring_seg_bytes(uint64_t data_size)
{
	return (size_t)(IPCX__RING_HDR_SIZE + data_size);
}

uint64_t ipcx__ring_data_size(size_t want)
{
	uint64_t n = IPCX__RING_MIN_DATA;

	if (want == 0)
		return IPCX__RING_DEFAULT_DATA;
	if (want > IPCX__RING_MAX_DATA)
		return 0;
	while (n < want)
		n <<= 1;
	return n;
}

/*
 * Why size / 2: a record must be contiguous, so one that does not fit
 * before the end of the data area is preceded by a pad up to the end. With
 * spans up to size/2 - 32, an empty ring always has room for any record on
 * one side of the wrap (plus the one slot of slack the writer keeps to
 * clear the next stamp), so a sender can never wait for room that cannot
 * come.
 */
size_t ipcx__ring_max_msg(uint64_t data_size)
{
	return (size_t)(data_size / 2 - IPCX__RING_ALIGN - IPCX__RING_REC_HDR);
}

static uint64_t max_span(uint64_t data_size)
{
	return data_size / 2 - IPCX__RING_ALIGN;
}

static int corrupt(const char *what, unsigned long long v)
{
	return ipcx__err(
	    IPCX_ECORRUPT,
	    "shared-memory ring is corrupt: %s (%llu); it stays "
	    "so: remove it with `ipcx rm shm://NAME` (ipcx_unlink) "
	    "and start again (`ipcx clean` removes it only once "
	    "no process maps it)",
	    what, v);
}

int ipcx__ring_format(void *mem, size_t len, uint64_t data_size,
                      uint32_t creator_pid)
{
	struct ipcx__ring_hdr *h = mem;

	if (data_size < IPCX__RING_MIN_DATA ||
	    data_size > IPCX__RING_MAX_DATA || (data_size & (data_size - 1)) ||
	    len < ipcx__ring_seg_bytes(data_size))
		return ipcx__err(IPCX_EINVAL,
		                 "ring geometry: %llu bytes of "
		                 "data in a %zu-byte segment",
		                 (unsigned long long)data_size, len);
	atomic_store_explicit(&h->version, IPCX__RING_VERSION, RLX);
	atomic_store_explicit(&h->hdr_size, IPCX__RING_HDR_SIZE, RLX);
	atomic_store_explicit(&h->rec_align, IPCX__RING_ALIGN, RLX);
	atomic_store_explicit(&h->data_size, data_size, RLX);
	atomic_store_explicit(&h->creator_pid, creator_pid, RLX);
	atomic_store_explicit(&h->flags, 0, RLX);
	/* The writers' lock is free (0) with nobody asleep on it. */
	atomic_store_explicit(&h->wr_owner, 0, RLX);
	atomic_store_explicit(&h->wr_wait, 0, RLX);
	atomic_store_explicit(&h->wr_wake, 0, RLX);
	atomic_store_explicit(&h->wr_next, 0, RLX);
	atomic_store_explicit(&h->tail, 0, RLX);
	atomic_store_explicit(&h->head, 0, RLX);
	atomic_store_explicit(&h->rx_wait, 0, RLX);
	atomic_store_explicit(&h->tx_wait, 0, RLX);
	atomic_store_explicit(&h->rx_pid, 0, RLX);
	atomic_store_explicit(&h->rx_nonce, 0, RLX);
	/* The first record's stamp (offset 0) is already 0: the segment
	 * comes zeroed from ftruncate, or the caller zeroed it. */
	return 0;
}

void ipcx__ring_publish(void *mem)
{
	struct ipcx__ring_hdr *h = mem;

	/* Release: whoever loads the magic with acquire sees the geometry
	 * and the free lock written above. */
	atomic_store_explicit(&h->magic, IPCX__RING_MAGIC, REL);
}

int ipcx__ring_attach(struct ipcx__ring *r, void *mem, size_t len)
{
	struct ipcx__ring_hdr *h = mem;
	uint32_t magic, version, hdr_size, align;
	uint64_t size;

	memset(r, 0, sizeof(*r));
	if (len < IPCX__RING_HDR_SIZE)
		return corrupt("segment smaller than its header", len);
	/* Acquire: pairs with ipcx__ring_publish(), so the fields below
	 * are the creator's. */
	magic = atomic_load_explicit(&h->magic, ACQ);
	if (magic == 0)
		return IPCX_EAGAIN;
	if (magic != IPCX__RING_MAGIC)
		return corrupt("bad magic", magic);
	version = atomic_load_explicit(&h->version, RLX);
	if (version != IPCX__RING_VERSION)
		return ipcx__err(IPCX_ECORRUPT,
		                 "shared-memory ring has layout version %u; "
		                 "this ipcx speaks version %u",
		                 version, IPCX__RING_VERSION);
	hdr_size = atomic_load_explicit(&h->hdr_size, RLX);
	if (hdr_size != IPCX__RING_HDR_SIZE)
		return corrupt("header size", hdr_size);
	align = atomic_load_explicit(&h->rec_align, RLX);
	if (align != IPCX__RING_ALIGN)
		return corrupt("record alignment", align);
	size = atomic_load_explicit(&h->data_size, RLX);
	if (size < IPCX__RING_MIN_DATA || size > IPCX__RING_MAX_DATA ||
	    (size & (size - 1)))
		return corrupt("data size", size);
	if (ipcx__ring_seg_bytes(size) != len)
		return corrupt("data size does not match the segment size",
		               size);
	r->hdr = h;
	r->data = (unsigned char *)mem + IPCX__RING_HDR_SIZE;
	r->size = size;
	r->mask = size - 1;
	r->maxspan = max_span(size);
	return 0;
}

/* ---- writers ---- */

uint64_t ipcx__ring_writer_id(struct ipcx__ring *r)
{
	/* Relaxed: the id only has to be unique; the lock byte it names is
	 * what others look at. */
	uint64_t id = atomic_fetch_add_explicit(&r->hdr->wr_next, 1, RLX) + 1;

	return id == 0 || id > IPCX__RING_WR_ID_MAX ? 0 : id;
}

/* Check one record a dead writer committed at t (pad or message). */
static int dead_rec(struct ipcx__ring *r, uint64_t t, uint64_t *spanp)
{
	struct ipcx__ring_rec *rec = rec_at(r, t);
	uint64_t off = t & r->mask, stamp, span, kind;

	stamp = atomic_load_explicit(&rec->stamp, ACQ);
	if (stamp == 0 || (stamp & ~IPCX__RING_K_MASK) != t)
		return 0;
	kind = stamp & IPCX__RING_K_MASK;
	span = atomic_load_explicit(&rec->span, RLX);
	if (kind == IPCX__RING_K_PAD) {
		if (off == 0 || span != r->size - off)
			return corrupt("pad left by a dead writer", span);
	} else if (kind != IPCX__RING_K_MSG || span < IPCX__RING_REC_HDR ||
	           (span & IPCX__RING_K_MASK) || span > r->maxspan ||
	           span > r->size - off) {
		return corrupt("record left by a dead writer", span);
	}
	*spanp = span;
	return 1;
}

/*
 * Repair after a writer died holding the lock. Everything a writer does
 * under the lock is invisible until its stamps and tail store; if it
 * died after committing a stamp at tail but before moving tail past it (a
 * pad, or a message written by ipcx__ring_write), tail moves past
 * it. The reader may already have consumed those records, so head may be
 * up to their end past tail (crash window 1 of issue 14): head is checked
 * against tail only after the walk. A reservation whose stamp is still 0
 * is simply overwritten by the next writer.
 */
static int ring_repair(struct ipcx__ring *r)
{
	/* Acquire: the dead holder never released the lock, so its tail
	 * and header stores are ordered for us only by their own release. */
	uint64_t t = atomic_load_explicit(&r->hdr->tail, ACQ), span = 0;
	uint64_t head = atomic_load_explicit(&r->hdr->head, ACQ);

	if ((t & IPCX__RING_K_MASK) || (head & IPCX__RING_K_MASK) ||
	    (t - head > r->size && head - t > r->size))
		return corrupt("tail after a writer died", t);
	/* At most a pad and the message after it. */
	for (int i = 0; i < 2; i++) {
		int rc = dead_rec(r, t, &span);
		if (rc < 0)
			return rc;
		if (rc == 0)
			break;
		t += span;
	}
	if (t - head > r->size)
		return corrupt("head after a writer died", head);
	/* Release: as in reserve, the cleared stamp at the new tail (done
	 * before the records were committed) is visible with it. */
	atomic_store_explicit(&r->hdr->tail, t, REL);
	return 0;
}

/* ---- the writers' lock ---- */

/*
 * The lock is one word, wr_owner: 0 when free, else the holder's writer
 * id. Taking it is one compare-and-swap, releasing it one store (plus a
 * fence and a load, to wake sleepers): 6-7 ns here against 14-35 ns for a
 * robust pthread mutex, and every send takes it once. Whether a holder
 * lives is the caller's question (its lock byte, live.h); a dead one is
 * taken over with a compare-and-swap from its id, so only one waiter does.
 */
uint64_t ipcx__ring_lock_owner(const struct ipcx__ring *r)
{
	return atomic_load_explicit(&r->hdr->wr_owner, RLX);
}

int ipcx__ring_lock_takeover(struct ipcx__ring *r, uint64_t dead, uint64_t id)
{
	int rc;

	/* Acquire: what the dead holder published before it died. */
	if (!atomic_compare_exchange_strong_explicit(&r->hdr->wr_owner, &dead,
	                                             id, ACQ, RLX))
		return 0;
	rc = ring_repair(r);
	if (rc < 0) {
		ipcx__ring_unlock(r);
		return rc;
	}
	return 1;
}

bool ipcx__ring_lock_sleep_prep(struct ipcx__ring *r, uint64_t held,
                                _Atomic uint32_t **word, uint32_t *val)
{
	struct ipcx__ring_hdr *h = r->hdr;

	/* Announce ourselves, fence, look again (the unlock stores 0,
	 * fences, then reads wr_wait: one of us sees the other). wr_wake is
	 * read first, so a wake-up between here and the futex call changes
	 * it and FUTEX_WAIT returns at once. wr_wait is a flag, not a count:
	 * the unlock clears it and wakes everyone, and each sleeper sets it
	 * again, so a writer killed asleep costs one spare wake-up, not one
	 * per unlock. */
	*word = &h->wr_wake;
	*val = atomic_load_explicit(&h->wr_wake, ACQ);
	atomic_store_explicit(&h->wr_wait, 1, RLX);
	IPCX__RING_FENCE();
	return atomic_load_explicit(&h->wr_owner, RLX) == held;
}

void ipcx__ring_unlock(struct ipcx__ring *r)
{
	struct ipcx__ring_hdr *h = r->hdr;

	/* Release: our tail and headers are visible to the next holder. */
	atomic_store_explicit(&h->wr_owner, 0, REL);
	/* seq_cst fence: the store above before the load of wr_wait; a
	 * sleeper adds itself to wr_wait, fences, then re-reads wr_owner. */
	IPCX__RING_FENCE();
	r->wr_wake = false;
	if (atomic_load_explicit(&h->wr_wait, RLX) &&
	    atomic_exchange_explicit(&h->wr_wait, 0, memory_order_acq_rel)) {
		atomic_fetch_add_explicit(&h->wr_wake, 1, memory_order_release);
		r->wr_wake = true;
	}
}

static void rec_fill(struct ipcx__ring_rec *rec, uint64_t span, size_t len,
                     const struct ipcx__ring_who *who)
{
	atomic_store_explicit(&rec->span, (uint32_t)span, RLX);
	atomic_store_explicit(&rec->len, (uint32_t)len, RLX);
	atomic_store_explicit(&rec->pid, who->pid, RLX);
	atomic_store_explicit(&rec->uid, who->uid, RLX);
	atomic_store_explicit(&rec->wid, who->id, RLX);
}

/*
 * Where a record for len bytes goes: *tp = tail, *posp = the record (past
 * a pad if it must wrap), *spanp = its span. With the lock held.
 */
static int ring_place(struct ipcx__ring *r, size_t len, uint64_t *tp,
                      uint64_t *posp, uint64_t *spanp)
{
	struct ipcx__ring_hdr *hdr = r->hdr;
	uint64_t t, h, span, off, need;
	size_t max = ipcx__ring_max_msg(r->size);

	if (len > max)
		return ipcx__err(IPCX_EMSGSIZE,
		                 "message of %zu bytes exceeds the ring's "
		                 "limit of %zu bytes (half its %llu-byte data "
		                 "area, less headers); a ring keeps the size "
		                 "it was created with: remove it first (`ipcx "
		                 "rm ENDPOINT`), then open it with a larger "
		                 "?size=",
		                 len, max, (unsigned long long)r->size);
	span = align_up(IPCX__RING_REC_HDR + (uint64_t)len);
	/* Our own tail store, or another writer's, made visible by the
	 * lock we hold; a plain (relaxed) load is enough. */
	t = atomic_load_explicit(&hdr->tail, RLX);
	if (t & IPCX__RING_K_MASK)
		return corrupt("tail not aligned", t);
	off = t & r->mask;
	need = off + span <= r->size ? span : (r->size - off) + span;
	h = r->head_cache;
	/* The cached head may be stale (then the ring looks fuller than it
	 * is, or even past a lap behind): refresh it once before saying no
	 * room. One slot (ALIGN bytes) is kept free: the slot after the new
	 * record, whose stamp we clear. */
	if (t - h > r->size || (t - h) + need + IPCX__RING_ALIGN > r->size) {
		/* Acquire: the reader released head after it finished
		 * reading the bytes we are about to reuse. */
		h = atomic_load_explicit(&hdr->head, ACQ);
		if ((h & IPCX__RING_K_MASK) || t - h > r->size)
			return corrupt("tail - head exceeds the ring size",
			               t - h);
		r->head_cache = h;
		if ((t - h) + need + IPCX__RING_ALIGN > r->size)
			return IPCX_EAGAIN;
	}
	*tp = t;
	*posp = off + span <= r->size ? t : t + (r->size - off);
	*spanp = span;
	return 0;
}

int ipcx__ring_reserve_locked(struct ipcx__ring *r, size_t len,
                              const struct ipcx__ring_who *who,
                              struct ipcx__ring_resv *rv)
{
	uint64_t t, pos, span;
	int rc = ring_place(r, len, &t, &pos, &span);

	if (rc < 0)
		return rc;
	if (pos != t) {
		/* Wrap: a pad record fills the rest of the data area and the
		 * message starts at offset 0. */
		rec_fill(rec_at(r, t), pos - t, 0, who);
		/* Offset 0 holds an old lap's bytes: clear its stamp before
		 * the reader can pass the pad and look there. */
		atomic_store_explicit(&rec_at(r, pos)->stamp, 0, RLX);
	}
	rec_fill(rec_at(r, pos), span, len, who);
	/* The slot after our record is where the reader will look next:
	 * clear its stamp now, ordered before our commit (release), so the
	 * reader finds 0 there and never an old lap's bytes. */
	atomic_store_explicit(&rec_at(r, pos + span)->stamp, 0, RLX);
	if (pos != t) {
		/* Release: the pad's header and the cleared stamp at offset 0
		 * are visible to a reader that acquires the pad's stamp. */
		atomic_store_explicit(&rec_at(r, t)->stamp,
		                      t | IPCX__RING_K_PAD, REL);
	}
	/* Release: the headers written above are visible to whoever
	 * acquires tail (a reader checking on a dead writer, the next
	 * writer repairing after us). */
	atomic_store_explicit(&r->hdr->tail, pos + span, REL);
	rv->pos = pos;
	rv->cap = len;
	rv->ptr = r->data + (pos & r->mask) + IPCX__RING_REC_HDR;
	return 0;
}

void ipcx__ring_copy(void *dst, const void *src, size_t n)
{
	uintptr_t d = ((uintptr_t)dst - (uintptr_t)src) & 4095;

	/* glibc's memcpy switches to REP MOVSB above ~2 KiB, which runs at
	 * a tenth of its speed here when the destination is a few bytes
	 * ahead of the source modulo 4 KiB (4K aliasing): a malloc'd buffer
	 * (16 mod 4096) against a ring payload (32-aligned) hits it every
	 * 128th record. Copy such pairs in 2 KiB pieces, which stay on the
	 * vector path. */
	if (n > 2048 && d != 0 && d < 64) {
		unsigned char *o = dst;
		const unsigned char *i = src;
		while (n > 2048) {
			memcpy(o, i, 2048);
			o += 2048;
			i += 2048;
			n -= 2048;
		}
		memcpy(o, i, n);
		return;
	}
	memcpy(dst, src, n);
}

/* After a seq_cst fence that follows our stamp store: does the receiver
 * wait to be woken? */
void ipcx__ring_note_rx(struct ipcx__ring *r)
{
	_Atomic uint32_t *w = &r->hdr->rx_wait;

	if (atomic_load_explicit(w, RLX))
		r->rx_wake =
		    atomic_exchange_explicit(w, 0, memory_order_acq_rel);
	else
		r->rx_wake = 0;
}

/* After publishing a stamp: the fence, then the same. */
static void note_rx(struct ipcx__ring *r)
{
	/* seq_cst fence: order the stamp store before the load of rx_wait.
	 * The receiver stores rx_wait, fences, then re-reads the stamp: at
	 * least one of us sees the other's store, so it never sleeps on a
	 * message nobody will wake it for. */
	IPCX__RING_FENCE();
	ipcx__ring_note_rx(r);
}

static int ring_write_held(struct ipcx__ring *r, const void *buf, size_t len,
                           const struct ipcx__ring_who *who)
{
	uint64_t t, pos, span;
	struct ipcx__ring_rec *rec;
	int rc = ring_place(r, len, &t, &pos, &span);

	if (rc < 0)
		return rc;
	/* Payload first, then the header and the stamp in one burst: the
	 * receiver is likely polling the header's cache line, and every
	 * store to it that it sees separately costs a line transfer. */
	rec = rec_at(r, pos);
	if (len)
		ipcx__ring_copy((unsigned char *)rec + IPCX__RING_REC_HDR, buf,
		                len);
	rec_fill(rec, span, len, who);
	/* As in reserve: the next slot's stamp reads 0 before ours is
	 * published. */
	atomic_store_explicit(&rec_at(r, pos + span)->stamp, 0, RLX);
	/* Release: payload and header are visible with the stamp. */
	atomic_store_explicit(&rec->stamp, pos | IPCX__RING_K_MSG, REL);
	if (pos != t) {
		/* The pad after the message it leads to: a reader passing
		 * the pad finds the message already committed at offset 0. */
		rec_fill(rec_at(r, t), pos - t, 0, who);
		atomic_store_explicit(&rec_at(r, t)->stamp,
		                      t | IPCX__RING_K_PAD, REL);
	}
	/* Release, for the next writer (and its repair if we die before
	 * this store: it finds our stamps committed and moves past them,
	 * though the reader may have consumed them already). */
	atomic_store_explicit(&r->hdr->tail, pos + span, REL);
	return 0;
}

int ipcx__ring_write(struct ipcx__ring *r, const void *buf, size_t len,
                     const struct ipcx__ring_who *who, bool held)
{
	int rc;

	r->rx_wake = 0;
	r->wr_wake = false;
	if (!held && !ipcx__ring_lock_try(r, who->id))
		return IPCX_EBUSY;
	rc = ring_write_held(r, buf, len, who);
	ipcx__ring_unlock(r);
	/* The unlock's seq_cst fence came after our stamp store: it is the
	 * fence note_rx() would issue, so one serves both Dekker pairs. */
	if (rc == 0)
		ipcx__ring_note_rx(r);
	return rc;
}

void ipcx__ring_commit(struct ipcx__ring *r, const struct ipcx__ring_resv *rv,
                       size_t used, int kind)
{
	struct ipcx__ring_rec *rec = rec_at(r, rv->pos);

	if (used > rv->cap)
		used = rv->cap;
	atomic_store_explicit(&rec->len, (uint32_t)used, RLX);
	/* Release: the payload and len above are visible to the reader that
	 * acquires this stamp. */
	atomic_store_explicit(&rec->stamp, rv->pos | (uint64_t)kind, REL);
	note_rx(r);
}

bool ipcx__ring_head_moved(struct ipcx__ring *r, uint64_t seen)
{
	return atomic_load_explicit(&r->hdr->head, ACQ) != seen;
}

/* ---- the reader ---- */

int ipcx__ring_rx_init(struct ipcx__ring *r)
{
	/* Acquire both: head as the previous reader left it, tail as the
	 * writers left it; check one against the other. */
	uint64_t h = atomic_load_explicit(&r->hdr->head, ACQ);
	uint64_t t = atomic_load_explicit(&r->hdr->tail, ACQ);

	if ((h & IPCX__RING_K_MASK) || (t & IPCX__RING_K_MASK))
		return corrupt("head or tail not aligned", h);
	/* head may be past tail: a writer that died between its stamp and
	 * tail stores, whose records were consumed (the next writer
	 * repairs tail). Then nothing is pending at head. */
	if (t - h > r->size && h - t > r->size)
		return corrupt("tail - head exceeds the ring size", t - h);
	r->head = h;
	r->cur_span = 0;
	return 0;
}

/* Store head (ours alone) and note writers parked for room. */
static void rx_advance(struct ipcx__ring *r, uint64_t to)
{
	_Atomic uint32_t *w = &r->hdr->tx_wait;

	r->head = to;
	r->cur_span = 0;
	/* Release: we are done reading everything before `to`; a writer
	 * that acquires head may overwrite it. */
	atomic_store_explicit(&r->hdr->head, to, REL);
	/* seq_cst fence: head store before the tx_wait load; the writer
	 * stores tx_wait, fences and re-reads head (Dekker, as in commit). */
	IPCX__RING_FENCE();
	if (atomic_load_explicit(w, RLX))
		r->tx_wake |=
		    atomic_exchange_explicit(w, 0, memory_order_acq_rel);
}

int ipcx__ring_peek(struct ipcx__ring *r, const void **ptr, size_t *len,
                    struct ipcx__ring_who *who)
{
	uint64_t h = r->head, passed = 0;

	r->tx_wake = 0;
	for (;;) {
		struct ipcx__ring_rec *rec = rec_at(r, h);
		uint64_t off = h & r->mask, stamp, span, kind, n;

		/* Acquire: pairs with the writer's release of the stamp; the
		 * record's header and payload are complete once we see it. */
		stamp = atomic_load_explicit(&rec->stamp, ACQ);
		if (stamp == 0) {
			if (h != r->head)
				rx_advance(r, h);
			return IPCX_EAGAIN;
		}
		if ((stamp & ~IPCX__RING_K_MASK) != h)
			return corrupt("record stamp does not match its "
			               "position",
			               stamp);
		kind = stamp & IPCX__RING_K_MASK;
		/* Copy once, then check against our own geometry. */
		span = atomic_load_explicit(&rec->span, RLX);
		if (span < IPCX__RING_REC_HDR || (span & IPCX__RING_K_MASK) ||
		    span > r->size - off)
			return corrupt("record span", span);
		if (kind == IPCX__RING_K_MSG) {
			if (span > r->maxspan)
				return corrupt("record span", span);
			n = atomic_load_explicit(&rec->len, RLX);
			if (n > span - IPCX__RING_REC_HDR)
				return corrupt("record length", n);
			if (h != r->head)
				rx_advance(r, h);
			r->cur_pos = h;
			r->cur_span = span;
			*ptr = (const unsigned char *)rec + IPCX__RING_REC_HDR;
			*len = (size_t)n;
			if (who) {
				who->pid = atomic_load_explicit(&rec->pid, RLX);
				who->uid = atomic_load_explicit(&rec->uid, RLX);
				who->id = atomic_load_explicit(&rec->wid, RLX);
			}
			return 0;
		}
		if (kind == IPCX__RING_K_PAD) {
			if (off == 0 || span != r->size - off)
				return corrupt("pad record span", span);
		} else if (kind != IPCX__RING_K_SKIP || span > r->maxspan) {
			return corrupt("record kind", kind);
		}
		/* A pad or a cancelled record: pass it. Positions only grow,
		 * so a lap's worth of them without a message means the
		 * stamps are forged. */
		passed += span;
		if (passed > r->size)
			return corrupt("a lap of records without a message",
			               passed);
		h += span;
	}
}

void ipcx__ring_release(struct ipcx__ring *r)
{
	r->tx_wake = 0;
	if (r->cur_span)
		rx_advance(r, r->cur_pos + r->cur_span);
}

int ipcx__ring_pending(struct ipcx__ring *r, struct ipcx__ring_who *who)
{
	/* Acquire: pairs with the reserver's release of tail, so the header
	 * fields of every reservation before tail are visible. */
	uint64_t t = atomic_load_explicit(&r->hdr->tail, ACQ);
	uint64_t h = r->head, off = h & r->mask, span;
	struct ipcx__ring_rec *rec = rec_at(r, h);

	/* ipcx__ring_write publishes stamps before tail, so we may
	 * have consumed past the tail we see: then nothing is reserved. */
	if (t == h || h - t <= r->size)
		return 0;
	if ((t & IPCX__RING_K_MASK) || t - h > r->size)
		return corrupt("tail - head exceeds the ring size", t - h);
	if (atomic_load_explicit(&rec->stamp, ACQ) != 0)
		return 2;
	span = atomic_load_explicit(&rec->span, RLX);
	if (span < IPCX__RING_REC_HDR || (span & IPCX__RING_K_MASK) ||
	    span > r->size - off || span > t - h)
		return corrupt("span of an uncommitted record", span);
	who->pid = atomic_load_explicit(&rec->pid, RLX);
	who->uid = atomic_load_explicit(&rec->uid, RLX);
	who->id = atomic_load_explicit(&rec->wid, RLX);
	r->stuck_pos = h;
	r->stuck_span = span;
	return 1;
}

int ipcx__ring_skip(struct ipcx__ring *r)
{
	uint64_t span = r->stuck_span;

	r->tx_wake = 0;
	r->stuck_span = 0;
	if (!span || r->stuck_pos != r->head)
		return 2;
	/* Acquire, again, after the caller's liveness test: a writer may
	 * have committed between pending's read and its end (crash window 2
	 * of issue 14). Found dead, it stores nothing more, so this read is
	 * final: a committed record is delivered, only a 0 one is dropped. */
	if (atomic_load_explicit(&rec_at(r, r->head)->stamp, ACQ) != 0)
		return 2;
	rx_advance(r, r->head + span);
	return 0;
}

/* ---- the words others sleep on, and the receiver's role ---- */

struct ipcx__ring_words ipcx__ring_words(const struct ipcx__ring *r)
{
	struct ipcx__ring_words w = {&r->hdr->rx_wait, &r->hdr->tx_wait,
	                             &r->hdr->wr_wake};

	return w;
}

uint32_t ipcx__ring_rx_wait_set(struct ipcx__ring *r, uint32_t bits)
{
	uint32_t v = atomic_fetch_or(&r->hdr->rx_wait, bits) | bits;

	/* seq_cst fence: our rx_wait store before the caller re-checks the
	 * stamp; a writer stores the stamp, fences, then reads rx_wait. One
	 * of us sees the other: no lost wake-up. */
	IPCX__RING_FENCE();
	return v;
}

uint32_t ipcx__ring_tx_wait_set(struct ipcx__ring *r)
{
	uint32_t v = atomic_fetch_or(&r->hdr->tx_wait, 1) | 1;

	/* The mirror of the above: the receiver stores head, fences, then
	 * reads tx_wait; the caller re-reads head after this fence. */
	IPCX__RING_FENCE();
	return v;
}

int ipcx__ring_rx_claimed(struct ipcx__ring *r, uint32_t pid)
{
	/* A dead receiver may have left wait bits set: clear them, so that
	 * writers stop waking nobody. Only we set them from now on. */
	atomic_store(&r->hdr->rx_wait, 0);
	atomic_store_explicit(&r->hdr->rx_pid, pid, RLX);
	return ipcx__ring_rx_init(r);
}

uint32_t ipcx__ring_rx_pid(const struct ipcx__ring *r)
{
	return atomic_load_explicit(&r->hdr->rx_pid, RLX);
}

void ipcx__ring_rx_left(struct ipcx__ring *r)
{
	atomic_store_explicit(&r->hdr->rx_pid, 0, RLX);
}

uint64_t ipcx__ring_nonce(const struct ipcx__ring *r)
{
	return atomic_load_explicit(&r->hdr->rx_nonce, RLX);
}

void ipcx__ring_set_nonce(struct ipcx__ring *r, uint64_t nonce)
{
	/* Relaxed: the poll bit's fetch_or (seq_cst) that follows publishes
	 * it; a writer's swap of rx_wait (acq_rel) reads it after. */
	atomic_store_explicit(&r->hdr->rx_nonce, nonce, RLX);
}
