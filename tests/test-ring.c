/*
 * test-ring.c - the ring (src/ring/ring.c) in a private mapping: layout,
 * round trips, zero-length records, wrap-around, a full ring, message
 * limits, dead and cancelled reservations, the lock taken over from a dead
 * writer and the repair, both crash windows of issue 14, several writer
 * threads at once, and corrupt segments answered with IPCX_ECORRUPT. The
 * ring never waits and never asks who lives: that is test-segment.c's.
 */
#include "t.h"

#include "../src/ring/ring.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

/* The writer: this process (pid set in main), uid 6, writer id 1. */
static struct ipcx__ring_who me = {.pid = 0, .uid = 6, .id = 1};

/* A fresh segment with data_size bytes of data, shared with children. */
static void *seg_new(uint64_t data_size, size_t *lenp)
{
	size_t len = ipcx__ring_seg_bytes(data_size);
	void *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
	               MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	T_ASSERT(m != MAP_FAILED);
	T_OK(ipcx__ring_format(m, len, data_size, 1));
	ipcx__ring_publish(m);
	*lenp = len;
	return m;
}

/* A writer and a reader view of the same segment. */
static void views(void *m, size_t len, struct ipcx__ring *w,
                  struct ipcx__ring *r)
{
	T_OK(ipcx__ring_attach(w, m, len));
	T_OK(ipcx__ring_attach(r, m, len));
	T_OK(ipcx__ring_rx_init(r));
}

/* Lock (spinning: the ring itself never waits), reserve, unlock. */
static int reserve(struct ipcx__ring *w, size_t n,
                   const struct ipcx__ring_who *who, struct ipcx__ring_resv *rv)
{
	int rc;

	while (!ipcx__ring_lock_try(w, who->id))
		sched_yield();
	rc = ipcx__ring_reserve_locked(w, n, who, rv);
	ipcx__ring_unlock(w);
	return rc;
}

static int put(struct ipcx__ring *w, size_t n, unsigned seed)
{
	struct ipcx__ring_resv rv;
	int rc = reserve(w, n, &me, &rv);

	if (rc < 0)
		return rc;
	T_ASSERT(rv.cap == n);
	T_ASSERT(((uintptr_t)rv.ptr & (IPCX__RING_ALIGN - 1)) == 0);
	t_fill(rv.ptr, n, seed);
	ipcx__ring_commit(w, &rv, n, IPCX__RING_K_MSG);
	return 0;
}

/* The same through the copying path (lock held across the copy). */
static int write1(struct ipcx__ring *w, size_t n, unsigned seed)
{
	static unsigned char buf[1 << 16];
	int rc;

	T_ASSERT(n <= sizeof(buf));
	t_fill(buf, n, seed);
	while ((rc = ipcx__ring_write(w, buf, n, &me, false)) == IPCX_EBUSY)
		sched_yield();
	return rc;
}

static void get(struct ipcx__ring *r, size_t n, unsigned seed)
{
	const void *p;
	size_t len;
	struct ipcx__ring_who who;

	T_OK(ipcx__ring_peek(r, &p, &len, &who));
	T_EXPECT(len, n);
	T_ASSERT(t_same(p, n, seed));
	T_EXPECT(who.pid, me.pid);
	T_EXPECT(who.uid, me.uid);
	T_EXPECT(who.id, me.id);
	ipcx__ring_release(r);
}

static void test_geometry(void)
{
	T_EXPECT(ipcx__ring_data_size(0), IPCX__RING_DEFAULT_DATA);
	T_EXPECT(ipcx__ring_data_size(1), IPCX__RING_MIN_DATA);
	T_EXPECT(ipcx__ring_data_size(5000), 8192);
	T_EXPECT(ipcx__ring_data_size(8192), 8192);
	T_EXPECT(ipcx__ring_data_size(IPCX__RING_MAX_DATA),
	         IPCX__RING_MAX_DATA);
	T_EXPECT(ipcx__ring_data_size((size_t)IPCX__RING_MAX_DATA + 1), 0);
	/* The default ring takes 1 MiB messages with room to spare. */
	T_ASSERT(ipcx__ring_max_msg(IPCX__RING_DEFAULT_DATA) > (1u << 20));
	T_EXPECT(ipcx__ring_max_msg(4096), 4096 / 2 - 64);
}

static void test_roundtrip(void)
{
	size_t len;
	void *m = seg_new(4096, &len);
	struct ipcx__ring w, r;
	const void *p;
	size_t n;

	views(m, len, &w, &r);
	T_EXPECT(ipcx__ring_peek(&r, &p, &n, NULL), IPCX_EAGAIN);
	T_EXPECT(ipcx__ring_pending(&r, &(struct ipcx__ring_who){0}), 0);
	T_OK(put(&w, 5, 1));
	T_OK(put(&w, 0, 2)); /* zero-length record */
	T_OK(put(&w, 100, 3));
	T_ASSERT(ipcx__ring_ready(&r));
	/* Peek is idempotent until release. */
	T_OK(ipcx__ring_peek(&r, &p, &n, NULL));
	T_EXPECT(n, 5);
	get(&r, 5, 1);
	get(&r, 0, 2);
	get(&r, 100, 3);
	T_EXPECT(ipcx__ring_peek(&r, &p, &n, NULL), IPCX_EAGAIN);
	T_ASSERT(!ipcx__ring_ready(&r));
	munmap(m, len);
}

/* Many laps of mixed sizes: every wrap goes through a pad. */
static void test_wrap(void)
{
	size_t len;
	void *m = seg_new(4096, &len);
	struct ipcx__ring w, r;
	unsigned sent = 0, got = 0;
	size_t sizes[] = {0, 1, 31, 32, 33, 200, 700, 1000, 1984, 64};
	size_t ns = sizeof(sizes) / sizeof(sizes[0]);

	views(m, len, &w, &r);
	while (got < 5000) {
		/* Queue as many as fit, then drain a few. */
		while (sent - got < 6 &&
		       (sent % 3 ? put(&w, sizes[sent % ns], sent)
		                 : write1(&w, sizes[sent % ns], sent)) == 0)
			sent++;
		for (int k = 0; k < 3 && got < sent; k++, got++)
			get(&r, sizes[got % ns], got);
	}
	/* Well past a few hundred laps of 4 KiB. */
	T_ASSERT(atomic_load(&((struct ipcx__ring_hdr *)m)->tail) > 200 * 4096);
	munmap(m, len);
}

/* The largest message fits into an empty ring at any offset. */
static void test_limits(void)
{
	size_t len;
	void *m = seg_new(4096, &len);
	struct ipcx__ring w, r;
	struct ipcx__ring_resv rv;
	size_t max = ipcx__ring_max_msg(4096);

	views(m, len, &w, &r);
	T_EXPECT(reserve(&w, max + 1, &me, &rv), IPCX_EMSGSIZE);
	T_ASSERT(strstr(t_errmsg(), "size=") != NULL);
	for (unsigned off = 0; off < 4096 / 32; off++) {
		/* Move head/tail by one slot with a zero-length record. */
		T_OK(put(&w, 0, off));
		get(&r, 0, off);
		T_OK(put(&w, max, off));
		get(&r, max, off);
	}
	munmap(m, len);
}

static void test_full(void)
{
	size_t len;
	void *m = seg_new(4096, &len);
	struct ipcx__ring w, r;
	unsigned n = 0;
	int rc;

	views(m, len, &w, &r);
	while ((rc = put(&w, 100, n)) == 0)
		n++;
	T_EXPECT(rc, IPCX_EAGAIN);
	/* 100 bytes take a 160-byte record; one slot stays free. */
	T_EXPECT(n, (4096 - 32) / 160);
	T_ASSERT(!ipcx__ring_head_moved(&w, w.head_cache));
	get(&r, 100, 0);
	T_ASSERT(ipcx__ring_head_moved(&w, w.head_cache));
	/* The next record wraps: a 96-byte pad plus 160 need two freed. */
	T_EXPECT(put(&w, 100, n), IPCX_EAGAIN);
	get(&r, 100, 1);
	T_OK(put(&w, 100, n));
	for (unsigned i = 2; i <= n; i++)
		get(&r, 100, i);
	munmap(m, len);
}

/* Wake bits: a commit reports a parked receiver, a release a writer. */
static void test_wake_bits(void)
{
	size_t len;
	void *m = seg_new(4096, &len);
	struct ipcx__ring_hdr *h = m;
	struct ipcx__ring w, r;

	views(m, len, &w, &r);
	T_OK(put(&w, 1, 0));
	T_EXPECT(w.rx_wake, 0);
	atomic_store(&h->rx_wait, IPCX__RING_W_FUTEX | IPCX__RING_W_POLL);
	T_OK(put(&w, 1, 1));
	T_EXPECT(w.rx_wake, IPCX__RING_W_FUTEX | IPCX__RING_W_POLL);
	T_EXPECT(atomic_load(&h->rx_wait), 0);
	get(&r, 1, 0);
	T_EXPECT(r.tx_wake, 0);
	atomic_store(&h->tx_wait, 1);
	get(&r, 1, 1);
	T_EXPECT(r.tx_wake, 1);
	T_EXPECT(atomic_load(&h->tx_wait), 0);
	munmap(m, len);
}

/* A reservation never committed: the reader can see whose and skip it. */
static void test_dead_and_cancelled(void)
{
	size_t len;
	void *m = seg_new(4096, &len);
	struct ipcx__ring w, r;
	struct ipcx__ring_resv rv;
	struct ipcx__ring_who who;
	const void *p;
	size_t n;

	views(m, len, &w, &r);
	T_OK(reserve(&w, 50, &me, &rv)); /* "dies" */
	T_OK(put(&w, 7, 1));
	T_EXPECT(ipcx__ring_peek(&r, &p, &n, NULL), IPCX_EAGAIN);
	T_EXPECT(ipcx__ring_pending(&r, &who), 1);
	T_EXPECT(who.pid, me.pid);
	T_EXPECT(who.id, me.id);
	T_EXPECT(ipcx__ring_skip(&r), 0);
	get(&r, 7, 1);

	/* A cancelled loan is passed without the reader noticing. */
	T_OK(reserve(&w, 300, &me, &rv));
	T_OK(put(&w, 9, 2));
	ipcx__ring_commit(&w, &rv, 0, IPCX__RING_K_SKIP);
	get(&r, 9, 2);

	/* A committed record found by pending: peek again. */
	T_OK(reserve(&w, 3, &me, &rv));
	T_EXPECT(ipcx__ring_pending(&r, &who), 1);
	ipcx__ring_commit(&w, &rv, 2, IPCX__RING_K_MSG); /* uses 2 of 3 */
	T_EXPECT(ipcx__ring_pending(&r, &who), 2);
	T_OK(ipcx__ring_peek(&r, &p, &n, NULL));
	T_EXPECT(n, 2);
	ipcx__ring_release(&r);
	munmap(m, len);
}

/* Writer 7 takes the lock and "dies" holding it: nobody answers for it. */
static const struct ipcx__ring_who dead = {.pid = 4242, .uid = 6, .id = 7};

/* The lock is one word: held means held; taking over is explicit. */
static void test_lock(void)
{
	size_t len;
	void *m = seg_new(4096, &len);
	struct ipcx__ring w, r;
	struct ipcx__ring_resv rv;
	_Atomic uint32_t *word;
	uint32_t val;

	views(m, len, &w, &r);
	T_EXPECT(ipcx__ring_writer_id(&w), 1);
	T_EXPECT(ipcx__ring_writer_id(&w), 2);
	T_ASSERT(ipcx__ring_lock_try(&w, dead.id));
	T_ASSERT(!ipcx__ring_lock_try(&w, me.id));
	T_EXPECT(ipcx__ring_lock_owner(&w), dead.id);
	T_EXPECT(ipcx__ring_write(&w, "x", 1, &me, false), IPCX_EBUSY);
	/* A sleeper announces itself; the unlock asks for a wake-up. */
	T_ASSERT(ipcx__ring_lock_sleep_prep(&w, dead.id, &word, &val));
	T_ASSERT(word == ipcx__ring_words(&w).wr_wake);
	T_ASSERT(!ipcx__ring_lock_sleep_prep(&w, 99, &word, &val));
	/* A takeover from the wrong holder fails; from the right one, once. */
	T_EXPECT(ipcx__ring_lock_takeover(&w, 99, me.id), 0);
	T_EXPECT(ipcx__ring_lock_takeover(&w, dead.id, me.id), 1);
	T_EXPECT(ipcx__ring_lock_takeover(&w, dead.id, me.id), 0);
	T_EXPECT(ipcx__ring_lock_owner(&w), me.id);
	T_OK(ipcx__ring_reserve_locked(&w, 10, &me, &rv));
	t_fill(rv.ptr, 10, 1);
	ipcx__ring_unlock(&w);
	T_ASSERT(w.wr_wake);
	T_EXPECT(*word, val + 1);
	ipcx__ring_commit(&w, &rv, 10, IPCX__RING_K_MSG);
	get(&r, 10, 1);
	T_EXPECT(ipcx__ring_lock_owner(&w), 0);
	munmap(m, len);
}

static void test_owner_died(void)
{
	size_t len;
	void *m = seg_new(4096, &len);
	struct ipcx__ring_hdr *h = m;
	struct ipcx__ring w, r;
	struct ipcx__ring_resv rv;

	views(m, len, &w, &r);
	/* Died after committing a pad but before storing tail: the repair
	 * moves tail past the pad the reader may already have passed. */
	for (unsigned i = 0; i < 3; i++) {
		T_OK(put(&w, 1000, i));
		get(&r, 1000, i);
	}
	uint64_t t0 = atomic_load(&h->tail);
	T_ASSERT((t0 & 4095) + 1056 > 4096); /* the next 1000 wraps */
	T_OK(reserve(&w, 1000, &me, &rv));
	T_ASSERT(rv.pos == (t0 | 4095) + 1);
	atomic_store(&h->tail, t0); /* as if the tail store never happened */
	T_ASSERT(ipcx__ring_lock_try(&w, dead.id));
	T_EXPECT(ipcx__ring_lock_takeover(&w, dead.id, me.id), 1);
	T_EXPECT(atomic_load(&h->tail), (t0 | 4095) + 1);
	ipcx__ring_unlock(&w);
	T_OK(put(&w, 20, 2));
	get(&r, 20, 2);

	/* Died in ipcx__ring_write after committing a pad and the message
	 * behind it, before storing tail: the repair passes both. */
	while (((atomic_load(&h->tail) & 4095) + 1056) <= 4096) {
		T_OK(write1(&w, 1000, 3));
		get(&r, 1000, 3);
	}
	t0 = atomic_load(&h->tail);
	T_OK(write1(&w, 1000, 4));
	T_EXPECT(atomic_load(&h->tail), (t0 | 4095) + 1 + 1056);
	atomic_store(&h->tail, t0);
	T_ASSERT(ipcx__ring_lock_try(&w, dead.id));
	T_EXPECT(ipcx__ring_lock_takeover(&w, dead.id, me.id), 1);
	T_OK(ipcx__ring_write(&w, "", 0, &me, true));
	get(&r, 1000, 4);
	get(&r, 0, 0);
	T_EXPECT(ipcx__ring_peek(&r, &(const void *){0}, &(size_t){0}, NULL),
	         IPCX_EAGAIN);

	/* A tail a dead writer left out of range: corrupt, lock let go. */
	atomic_store(&h->tail, atomic_load(&h->head) + 3 * 4096);
	T_ASSERT(ipcx__ring_lock_try(&w, dead.id));
	T_EXPECT(ipcx__ring_lock_takeover(&w, dead.id, me.id), IPCX_ECORRUPT);
	T_EXPECT(ipcx__ring_lock_owner(&w), 0);
	munmap(m, len);
}

/*
 * Crash window 1 (issue 14): a writer holding the lock stored a message's
 * stamp but died before storing tail; the receiver consumed the message,
 * so head is past tail. The next writer takes the lock over and must
 * repair (not answer IPCX_ECORRUPT), and a new receiver must accept the
 * ring. Played by hand through the layout: write the message as the dead
 * writer, then put tail back and the lock in the dead writer's name.
 */
static void test_window_head_past_tail(void)
{
	size_t len;
	void *m = seg_new(4096, &len);
	struct ipcx__ring_hdr *h = m;
	struct ipcx__ring w, r, r2;
	uint64_t t0;

	views(m, len, &w, &r);
	for (unsigned wrap = 0; wrap < 2; wrap++) {
		/* wrap 1: the dead writer's message follows a pad. */
		if (wrap)
			while ((atomic_load(&h->tail) & 4095) + 1056 <= 4096) {
				T_OK(write1(&w, 1000, 3));
				get(&r, 1000, 3);
			}
		t0 = atomic_load(&h->tail);
		T_OK(ipcx__ring_write(&w, "dead", 4, &dead, false));
		atomic_store(&h->tail, t0);
		atomic_store(&h->wr_owner, dead.id);
		/* The receiver takes the committed message: head > tail. */
		{
			const void *p;
			size_t n;
			T_OK(ipcx__ring_peek(&r, &p, &n, NULL));
			T_ASSERT(n == 4 && memcmp(p, "dead", 4) == 0);
			ipcx__ring_release(&r);
		}
		T_ASSERT(atomic_load(&h->head) - t0 <= 4096);
		T_ASSERT(atomic_load(&h->head) != t0);
		/* A new receiver (the old one gone) accepts the ring. */
		T_OK(ipcx__ring_attach(&r2, m, len));
		T_OK(ipcx__ring_rx_init(&r2));
		T_EXPECT(ipcx__ring_pending(&r2, &(struct ipcx__ring_who){0}),
		         0);
		/* The next writer finds the lock held; its holder found
		 * dead (test-segment.c), it takes over, repairs, goes on. */
		T_EXPECT(ipcx__ring_write(&w, "", 0, &me, false), IPCX_EBUSY);
		T_EXPECT(ipcx__ring_lock_takeover(&w, dead.id, me.id), 1);
		T_EXPECT(atomic_load(&h->tail), atomic_load(&h->head));
		ipcx__ring_unlock(&w);
		T_OK(write1(&w, 30, 5 + wrap));
		get(&r, 30, 5 + wrap);
		T_OK(put(&w, 40, 7 + wrap));
		get(&r, 40, 7 + wrap);
	}
	munmap(m, len);
}

/*
 * Crash window 2 (issue 14): the receiver reads a zero stamp at head (a
 * loan), then its writer commits the loan and exits, then the receiver
 * finds the writer dead. Skipping now would lose a committed message: the
 * stamp must be read again after the liveness test.
 */
static void test_window_commit_then_exit(void)
{
	size_t len;
	void *m = seg_new(4096, &len);
	struct ipcx__ring w, r;
	struct ipcx__ring_resv rv;
	struct ipcx__ring_who who;

	views(m, len, &w, &r);
	T_OK(reserve(&w, 20, &dead, &rv));
	T_EXPECT(ipcx__ring_peek(&r, &(const void *){0}, &(size_t){0}, NULL),
	         IPCX_EAGAIN);
	T_EXPECT(ipcx__ring_pending(&r, &who), 1);
	/* Between the receiver's two reads: committed, then gone. */
	T_EXPECT(who.id, dead.id);
	t_fill(rv.ptr, 20, 9);
	ipcx__ring_commit(&w, &rv, 20, IPCX__RING_K_MSG);
	/* The caller now finds writer 7 dead, and asks to skip. */
	T_EXPECT(ipcx__ring_skip(&r), 2);
	/* The committed message is delivered, not skipped. */
	{
		const void *p;
		size_t n;
		T_OK(ipcx__ring_peek(&r, &p, &n, NULL));
		T_ASSERT(n == 20 && t_same(p, 20, 9));
		ipcx__ring_release(&r);
	}
	munmap(m, len);
}

/* Several writer threads, one reader: nothing lost, torn or mixed. */
#define MT_WRITERS 3
#define MT_N       20000
static struct ipcx__ring mt_ring;
static void *mt_mem;
static size_t mt_len;

static void *mt_writer(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	struct ipcx__ring w;
	struct ipcx__ring_who self = {1, 6, 10 + id};
	unsigned char buf[300];

	T_OK(ipcx__ring_attach(&w, mt_mem, mt_len));
	for (unsigned i = 0; i < MT_N; i++) {
		struct ipcx__ring_resv rv;
		size_t n = 8 + (i * 13 + id) % 250;
		int rc;

		memcpy(buf, &id, 4);
		memcpy(buf + 4, &i, 4);
		t_fill(buf + 8, n - 8, i ^ id);
		while ((rc = reserve(&w, n, &self, &rv)) == IPCX_EAGAIN)
			sched_yield();
		T_OK(rc);
		memcpy(rv.ptr, buf, n);
		ipcx__ring_commit(&w, &rv, n, IPCX__RING_K_MSG);
	}
	return NULL;
}

static void test_threads(void)
{
	pthread_t th[MT_WRITERS];
	unsigned next[MT_WRITERS] = {0};
	unsigned total = 0;

	mt_mem = seg_new(8192, &mt_len);
	T_OK(ipcx__ring_attach(&mt_ring, mt_mem, mt_len));
	T_OK(ipcx__ring_rx_init(&mt_ring));
	for (uintptr_t i = 0; i < MT_WRITERS; i++)
		T_ASSERT(pthread_create(&th[i], NULL, mt_writer, (void *)i) ==
		         0);
	while (total < MT_WRITERS * MT_N) {
		const void *p;
		size_t n;
		unsigned id, seq;
		int rc = ipcx__ring_peek(&mt_ring, &p, &n, NULL);

		if (rc == IPCX_EAGAIN) {
			sched_yield();
			continue;
		}
		T_OK(rc);
		T_ASSERT(n >= 8);
		memcpy(&id, p, 4);
		memcpy(&seq, (const char *)p + 4, 4);
		T_ASSERT(id < MT_WRITERS);
		T_EXPECT(seq, next[id]);
		T_EXPECT(n, 8 + (seq * 13 + id) % 250);
		T_ASSERT(t_same((const uint8_t *)p + 8, n - 8, seq ^ id));
		next[id]++;
		total++;
		ipcx__ring_release(&mt_ring);
	}
	for (int i = 0; i < MT_WRITERS; i++)
		pthread_join(th[i], NULL);
	munmap(mt_mem, mt_len);
}

/* ---- corruption ---- */

static void expect_corrupt_peek(struct ipcx__ring *r)
{
	const void *p;
	size_t n;

	T_EXPECT(ipcx__ring_peek(r, &p, &n, NULL), IPCX_ECORRUPT);
}

static void test_corrupt_header(void)
{
	size_t len;
	void *m = seg_new(4096, &len);
	struct ipcx__ring_hdr *h = m;
	struct ipcx__ring v;

	T_EXPECT(ipcx__ring_attach(&v, m, 100), IPCX_ECORRUPT);
	T_EXPECT(ipcx__ring_attach(&v, m, len - 4096), IPCX_ECORRUPT);
	atomic_store(&h->magic, 0);
	T_EXPECT(ipcx__ring_attach(&v, m, len), IPCX_EAGAIN);
	atomic_store(&h->magic, 0x12345678);
	T_EXPECT(ipcx__ring_attach(&v, m, len), IPCX_ECORRUPT);
	atomic_store(&h->magic, IPCX__RING_MAGIC);
	atomic_store(&h->version, 99);
	T_EXPECT(ipcx__ring_attach(&v, m, len), IPCX_ECORRUPT);
	T_ASSERT(strstr(t_errmsg(), "version") != NULL);
	atomic_store(&h->version, IPCX__RING_VERSION);
	atomic_store(&h->data_size, 4097);
	T_EXPECT(ipcx__ring_attach(&v, m, len), IPCX_ECORRUPT);
	atomic_store(&h->data_size, 8192); /* larger than the mapping */
	T_EXPECT(ipcx__ring_attach(&v, m, len), IPCX_ECORRUPT);
	atomic_store(&h->data_size, 4096);
	atomic_store(&h->rec_align, 8);
	T_EXPECT(ipcx__ring_attach(&v, m, len), IPCX_ECORRUPT);
	atomic_store(&h->rec_align, IPCX__RING_ALIGN);
	atomic_store(&h->hdr_size, 64);
	T_EXPECT(ipcx__ring_attach(&v, m, len), IPCX_ECORRUPT);
	atomic_store(&h->hdr_size, IPCX__RING_HDR_SIZE);
	T_OK(ipcx__ring_attach(&v, m, len));

	/* Wild indices. */
	atomic_store(&h->tail, 5 * 4096);
	T_EXPECT(ipcx__ring_rx_init(&v), IPCX_ECORRUPT); /* tail-head > size */
	T_EXPECT(reserve(&v, 1, &me, &(struct ipcx__ring_resv){0}),
	         IPCX_ECORRUPT);
	atomic_store(&h->tail, 33);
	T_EXPECT(ipcx__ring_rx_init(&v), IPCX_ECORRUPT); /* unaligned */
	T_EXPECT(reserve(&v, 1, &me, &(struct ipcx__ring_resv){0}),
	         IPCX_ECORRUPT);
	atomic_store(&h->tail, 40960 + 64);
	atomic_store(&h->head, 40960 + 64 + 2 * 4096); /* far past tail */
	T_EXPECT(ipcx__ring_rx_init(&v), IPCX_ECORRUPT);
	/* Just past tail: a dead writer's consumed records (crash window
	 * 1): a receiver accepts it, a writer holding the lock does not. */
	atomic_store(&h->head, 40960 + 128);
	T_OK(ipcx__ring_rx_init(&v));
	T_EXPECT(ipcx__ring_pending(&v, &(struct ipcx__ring_who){0}), 0);
	T_EXPECT(reserve(&v, 1, &me, &(struct ipcx__ring_resv){0}),
	         IPCX_ECORRUPT);
	munmap(m, len);
}

static void test_corrupt_records(void)
{
	size_t len;
	void *m = seg_new(4096, &len);
	unsigned char *data = (unsigned char *)m + IPCX__RING_HDR_SIZE;
	struct ipcx__ring_rec *rec = (struct ipcx__ring_rec *)(void *)data;
	struct ipcx__ring w, r;
	struct ipcx__ring_who who;

	views(m, len, &w, &r);
	T_OK(put(&w, 10, 1));

	atomic_store(&rec->stamp, 64 | IPCX__RING_K_MSG); /* wrong position */
	expect_corrupt_peek(&r);
	atomic_store(&rec->stamp, IPCX__RING_K_MSG);
	atomic_store(&rec->len, 33); /* len > span - header */
	expect_corrupt_peek(&r);
	atomic_store(&rec->len, 10);
	atomic_store(&rec->span, 8192); /* runs past the ring */
	expect_corrupt_peek(&r);
	atomic_store(&rec->span, 40); /* not aligned */
	expect_corrupt_peek(&r);
	atomic_store(&rec->span, 0); /* would never advance */
	expect_corrupt_peek(&r);
	atomic_store(&rec->span, 4096 - 32); /* > largest message span */
	expect_corrupt_peek(&r);
	atomic_store(&rec->span, 64);
	atomic_store(&rec->stamp, 7); /* unknown kind */
	expect_corrupt_peek(&r);
	atomic_store(&rec->stamp, IPCX__RING_K_PAD); /* pad at offset 0 */
	expect_corrupt_peek(&r);
	atomic_store(&rec->stamp, IPCX__RING_K_MSG);
	get(&r, 10, 1);

	/* A lap of forged skip records: passed, then a stamp that cannot
	 * match ends it. Never a loop. */
	for (uint64_t pos = 64; pos <= 4096; pos += 64) {
		struct ipcx__ring_rec *x =
		    (struct ipcx__ring_rec *)(void *)(data + (pos & 4095));
		atomic_store(&x->span, 64);
		atomic_store(&x->stamp, pos | IPCX__RING_K_SKIP);
	}
	expect_corrupt_peek(&r);

	/* An uncommitted record with a wild span. */
	{
		size_t l2;
		void *m2 = seg_new(4096, &l2);
		struct ipcx__ring w2, r2;
		struct ipcx__ring_resv rv;
		struct ipcx__ring_rec *x =
		    (struct ipcx__ring_rec *)(void *)((unsigned char *)m2 +
		                                      IPCX__RING_HDR_SIZE);

		views(m2, l2, &w2, &r2);
		T_OK(reserve(&w2, 10, &me, &rv));
		atomic_store(&x->span, 1u << 30);
		T_EXPECT(ipcx__ring_pending(&r2, &who), IPCX_ECORRUPT);
		atomic_store(&x->span, 64); /* more than tail - head (64)? */
		T_EXPECT(ipcx__ring_pending(&r2, &who), 1);
		atomic_store(&x->span, 96);
		T_EXPECT(ipcx__ring_pending(&r2, &who), IPCX_ECORRUPT);
		munmap(m2, l2);
	}
	munmap(m, len);
}

int main(void)
{
	me.pid = (uint32_t)getpid();
	test_geometry();
	test_roundtrip();
	test_wrap();
	test_limits();
	test_full();
	test_wake_bits();
	test_dead_and_cancelled();
	test_lock();
	test_owner_died();
	test_window_head_past_tail();
	test_window_commit_then_exit();
	test_threads();
	test_corrupt_header();
	test_corrupt_records();
	return T_EXIT_PASS;
}
