/*
 * test-ring.c - the ring (src/transport/ring.c) in a private mapping:
 * layout, round trips, zero-length records, wrap-around, a full ring,
 * message limits, dead and cancelled reservations, a writer dying with the
 * lock held, several writer threads at once, and corrupt segments
 * answered with IPCX_ECORRUPT.
 */
#include "t.h"

#include "../src/transport/ring.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

/* The writer: this process, with its start time (set in main), so that a
 * lock it holds is never taken over as a dead holder's; uid 6. */
static struct ipcx__ring_who me = {.pid = 0, .start = 0, .uid = 6};

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

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(seed * 31 + i * 7);
}

static int check(const unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (unsigned char)(seed * 31 + i * 7))
			return 0;
	return 1;
}

static int put(struct ipcx__ring *w, size_t n, unsigned seed)
{
	struct ipcx__ring_resv rv;
	int rc = ipcx__ring_reserve(w, n, &me, -1, &rv);

	if (rc < 0)
		return rc;
	T_ASSERT(rv.cap == n);
	T_ASSERT(((uintptr_t)rv.ptr & (IPCX__RING_ALIGN - 1)) == 0);
	fill(rv.ptr, n, seed);
	ipcx__ring_commit(w, &rv, n, IPCX__RING_K_MSG);
	return 0;
}

/* The same through the copying path (lock held across the copy). */
static int write1(struct ipcx__ring *w, size_t n, unsigned seed)
{
	static unsigned char buf[1 << 16];

	T_ASSERT(n <= sizeof(buf));
	fill(buf, n, seed);
	return ipcx__ring_write(w, buf, n, &me, -1);
}

static void get(struct ipcx__ring *r, size_t n, unsigned seed)
{
	const void *p;
	size_t len;
	struct ipcx__ring_who who;

	T_OK(ipcx__ring_peek(r, &p, &len, &who));
	T_EXPECT(len, n);
	T_ASSERT(check(p, n, seed));
	T_EXPECT(who.pid, me.pid);
	T_EXPECT(who.uid, me.uid);
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
	T_EXPECT(ipcx__ring_reserve(&w, max + 1, &me, -1, &rv), IPCX_EMSGSIZE);
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
	T_OK(ipcx__ring_reserve(&w, 50, &me, -1, &rv)); /* "dies" */
	T_OK(put(&w, 7, 1));
	T_EXPECT(ipcx__ring_peek(&r, &p, &n, NULL), IPCX_EAGAIN);
	T_EXPECT(ipcx__ring_pending(&r, &who), 1);
	T_EXPECT(who.pid, me.pid);
	T_EXPECT(who.start, me.start);
	ipcx__ring_skip(&r);
	get(&r, 7, 1);

	/* A cancelled loan is passed without the reader noticing. */
	T_OK(ipcx__ring_reserve(&w, 300, &me, -1, &rv));
	T_OK(put(&w, 9, 2));
	ipcx__ring_commit(&w, &rv, 0, IPCX__RING_K_SKIP);
	get(&r, 9, 2);

	/* A committed record found by pending: peek again. */
	T_OK(ipcx__ring_reserve(&w, 3, &me, -1, &rv));
	T_EXPECT(ipcx__ring_pending(&r, &who), 1);
	ipcx__ring_commit(&w, &rv, 2, IPCX__RING_K_MSG); /* uses 2 of 3 */
	T_EXPECT(ipcx__ring_pending(&r, &who), 2);
	T_OK(ipcx__ring_peek(&r, &p, &n, NULL));
	T_EXPECT(n, 2);
	ipcx__ring_release(&r);
	munmap(m, len);
}

/* A child takes the writers' lock (as itself) and dies holding it. */
static int die_locked(void *arg)
{
	struct ipcx__ring *w = arg;
	struct ipcx__ring_who self = {(uint32_t)getpid(), 0, 0};

	if (ipcx__ring_lock(w, &self, -1) < 0)
		return 2;
	raise(SIGKILL);
	return 3;
}

/* A child takes the lock, says so, and holds it until told to let go. */
struct hold_job {
	struct ipcx__ring *w;
	int said[2], go[2];
};

static int hold_locked(void *arg)
{
	struct hold_job *j = arg;
	struct ipcx__ring_who self = {(uint32_t)getpid(), 0, 0};
	char c = 0;

	if (ipcx__ring_lock(j->w, &self, -1) < 0)
		return 2;
	if (write(j->said[1], "x", 1) != 1 || read(j->go[0], &c, 1) != 1)
		return 3;
	ipcx__ring_unlock(j->w);
	return 0;
}

/* A live holder is waited for (until the deadline), never taken over. */
static void test_lock_held(void)
{
	size_t len;
	void *m = seg_new(4096, &len);
	struct ipcx__ring w, r;
	struct ipcx__ring_resv rv;
	struct hold_job j;
	pid_t pid;
	char c;

	views(m, len, &w, &r);
	j.w = &w;
	T_ASSERT(pipe(j.said) == 0 && pipe(j.go) == 0);
	pid = t_fork(hold_locked, &j);
	T_ASSERT(read(j.said[0], &c, 1) == 1);
	/* 30 ms: past the 10 ms liveness check, which finds it alive. */
	T_EXPECT(ipcx__ring_lock(&w, &me, ipcx__now_ns() + 30000000),
	         IPCX_ETIMEDOUT);
	T_EXPECT(ipcx__ring_reserve(&w, 10, &me, 0, &rv), IPCX_ETIMEDOUT);
	T_ASSERT(write(j.go[1], "x", 1) == 1);
	T_OK(ipcx__ring_lock(&w, &me, -1)); /* woken, or finds it free */
	ipcx__ring_unlock(&w);
	T_EXPECT(t_waitpid(pid, 10000), 0);
	T_OK(put(&w, 10, 1));
	get(&r, 10, 1);
	close(j.said[0]);
	close(j.said[1]);
	close(j.go[0]);
	close(j.go[1]);
	munmap(m, len);
}

static void test_owner_died(void)
{
	size_t len;
	void *m = seg_new(4096, &len);
	struct ipcx__ring_hdr *h = m;
	struct ipcx__ring w, r;
	struct ipcx__ring_resv rv;
	int st;

	views(m, len, &w, &r);
	st = t_waitpid(t_fork(die_locked, &w), 10000);
	T_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	T_OK(put(&w, 10, 1)); /* EOWNERDEAD, repaired, works */
	get(&r, 10, 1);

	/* Died after committing a pad but before storing tail: the repair
	 * moves tail past the pad the reader may already have passed. */
	for (unsigned i = 0; i < 3; i++) {
		T_OK(put(&w, 1000, i));
		get(&r, 1000, i);
	}
	uint64_t t0 = atomic_load(&h->tail);
	T_ASSERT((t0 & 4095) + 1056 > 4096); /* the next 1000 wraps */
	T_OK(ipcx__ring_reserve(&w, 1000, &me, -1, &rv));
	T_ASSERT(rv.pos == (t0 | 4095) + 1);
	atomic_store(&h->tail, t0); /* as if the tail store never happened */
	st = t_waitpid(t_fork(die_locked, &w), 10000);
	T_ASSERT(WIFSIGNALED(st));
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
	st = t_waitpid(t_fork(die_locked, &w), 10000);
	T_ASSERT(WIFSIGNALED(st));
	T_OK(write1(&w, 30, 5));
	get(&r, 1000, 4);
	get(&r, 30, 5);
	T_EXPECT(ipcx__ring_peek(&r, &(const void *){0}, &(size_t){0}, NULL),
	         IPCX_EAGAIN);
	munmap(m, len);
}

/* A pid that is certainly dead: a child that exited and was reaped. */
static uint32_t dead_pid(void)
{
	pid_t pid = fork();

	T_ASSERT(pid >= 0);
	if (pid == 0)
		_exit(0);
	T_EXPECT(t_waitpid(pid, 10000), 0);
	return (uint32_t)pid;
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
	struct ipcx__ring_who dead = {dead_pid(), 0, 6};
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
		T_OK(ipcx__ring_write(&w, "dead", 4, &dead, -1));
		atomic_store(&h->tail, t0);
		atomic_store(&h->wr_owner, ipcx__ring_tag(&dead));
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
		/* The next writer takes the lock over, repairs, goes on. */
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
	struct ipcx__ring_who dead = {dead_pid(), 0, 6}, who;

	views(m, len, &w, &r);
	T_OK(ipcx__ring_reserve(&w, 20, &dead, -1, &rv));
	T_EXPECT(ipcx__ring_peek(&r, &(const void *){0}, &(size_t){0}, NULL),
	         IPCX_EAGAIN);
	T_EXPECT(ipcx__ring_pending(&r, &who), 1);
	/* Between the receiver's two reads: committed, then gone. */
	fill(rv.ptr, 20, 9);
	ipcx__ring_commit(&w, &rv, 20, IPCX__RING_K_MSG);
	T_ASSERT(!ipcx__proc_alive(who.pid, who.start));
	ipcx__ring_skip(&r);
	/* The committed message is delivered, not skipped. */
	{
		const void *p;
		size_t n;
		T_OK(ipcx__ring_peek(&r, &p, &n, NULL));
		T_ASSERT(n == 20 && check(p, 20, 9));
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
	unsigned char buf[300];

	T_OK(ipcx__ring_attach(&w, mt_mem, mt_len));
	for (unsigned i = 0; i < MT_N; i++) {
		struct ipcx__ring_resv rv;
		size_t n = 8 + (i * 13 + id) % 250;
		int rc;

		memcpy(buf, &id, 4);
		memcpy(buf + 4, &i, 4);
		fill(buf + 8, n - 8, i ^ id);
		while ((rc = ipcx__ring_reserve(&w, n, &me, -1, &rv)) ==
		       IPCX_EAGAIN)
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
		T_ASSERT(check((const unsigned char *)p + 8, n - 8, seq ^ id));
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
	T_EXPECT(
	    ipcx__ring_reserve(&v, 1, &me, -1, &(struct ipcx__ring_resv){0}),
	    IPCX_ECORRUPT);
	atomic_store(&h->tail, 33);
	T_EXPECT(ipcx__ring_rx_init(&v), IPCX_ECORRUPT); /* unaligned */
	T_EXPECT(
	    ipcx__ring_reserve(&v, 1, &me, -1, &(struct ipcx__ring_resv){0}),
	    IPCX_ECORRUPT);
	atomic_store(&h->tail, 40960 + 64);
	atomic_store(&h->head, 40960 + 128); /* head past tail */
	T_EXPECT(ipcx__ring_rx_init(&v), IPCX_ECORRUPT);
	T_EXPECT(
	    ipcx__ring_reserve(&v, 1, &me, -1, &(struct ipcx__ring_resv){0}),
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
		T_OK(ipcx__ring_reserve(&w2, 10, &me, -1, &rv));
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

/*
 * /proc/PID/stat lines: the command name is chosen by its owner and may
 * hold ") Z " and digits; only the text after the last ')' counts.
 */
static void test_proc_stat_parse(void)
{
	static const char hostile[] =
	    "9 (x) Z 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 999) S 1 2 "
	    "3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 4242 0 0";
	char state = 0;
	uint32_t start = 0;

	T_OK(ipcx__proc_stat_parse(hostile, sizeof(hostile) - 1, &state,
	                           &start));
	T_ASSERT(state == 'S' && start == 4242);
	/* Truncated lines, no ')' or no field 22: refused, never read past. */
	T_EXPECT(ipcx__proc_stat_parse("5 (a) R 1 2", 11, &state, &start),
	         -EIO);
	T_EXPECT(ipcx__proc_stat_parse("5 (a", 4, &state, &start), -EIO);
	T_EXPECT(ipcx__proc_stat_parse("5 (a)", 5, &state, &start), -EIO);
	T_EXPECT(ipcx__proc_stat_parse("", 0, &state, &start), -EIO);
}

int main(void)
{
	char state;

	me.pid = (uint32_t)getpid();
	T_OK(ipcx__proc_start(me.pid, &state, &me.start));
	T_ASSERT(me.start != 0 && ipcx__proc_alive(me.pid, me.start));
	T_ASSERT(!ipcx__proc_alive(me.pid, me.start + 1));
	test_proc_stat_parse();
	test_geometry();
	test_roundtrip();
	test_wrap();
	test_limits();
	test_full();
	test_wake_bits();
	test_dead_and_cancelled();
	test_owner_died();
	test_window_head_past_tail();
	test_window_commit_then_exit();
	test_lock_held();
	test_threads();
	test_corrupt_header();
	test_corrupt_records();
	return T_EXIT_PASS;
}
