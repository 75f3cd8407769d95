/*
 * test-maps.c - the address-space inspector (src/inspect/maps.c): the
 * maps line parser on good and bad lines, then this process read through
 * ipcx__maps_read with a known address in every row (text, rodata, data,
 * bss, heap, a large malloc, a shared-library function, a /dev/shm
 * mapping, the main stack, a blocked thread's stack): each lands in a
 * region of the right kind and each variable in its section; the markers
 * lie in the stack and at the heap's end; the RSS of a cut mapping sums
 * to smaps'; errors for a missing pid and a kernel thread.
 *
 * `test-maps --hold` sets up the same rows, prints their addresses as one
 * JSON line and waits for EOF on stdin: tests/test-maps-cli.sh inspects
 * it from outside with `ipcx maps --json`, `pmap -x` and `--svg`.
 */
#include "t.h"

#include "ipcx.h"
#include "../../src/inspect/inspect.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* One variable per section; volatile so none is folded away. */
static const char rodata_var[] = "the notes' table";
int data_var = 42;
static volatile int bss_var;

#define BIG_LEN (8u << 20)

/* The addresses a test process holds, one per row of the table. */
struct rows {
	uintptr_t text, rodata, data, bss, heap, big, lib, shm, stack, thread;
};

struct thr {
	int pipe[2];
	uintptr_t frame;
	int ready[2];
};

/* A thread that reports its frame and blocks in read() until told. */
static void *thr_main(void *arg)
{
	struct thr *t = arg;
	char c = 0;
	ssize_t k;

	t->frame = (uintptr_t)__builtin_frame_address(0);
	k = write(t->ready[1], &c, 1);
	(void)k;
	k = read(t->pipe[0], &c, 1);
	(void)k;
	return NULL;
}

static void thr_start(pthread_t *tid, struct thr *t)
{
	char c;

	T_ASSERT(pipe(t->pipe) == 0 && pipe(t->ready) == 0);
	T_ASSERT(pthread_create(tid, NULL, thr_main, t) == 0);
	T_ASSERT(t_poll_in(t->ready[0], 10000) == 1);
	T_ASSERT(read(t->ready[0], &c, 1) == 1);
}

static void thr_stop(pthread_t tid, struct thr *t)
{
	T_ASSERT(write(t->pipe[1], "x", 1) == 1);
	T_ASSERT(pthread_join(tid, NULL) == 0);
	close(t->pipe[0]);
	close(t->pipe[1]);
	close(t->ready[0]);
	close(t->ready[1]);
}

/* Set up every row; the shm object's name is removed at once. */
static void rows_setup(struct rows *w, void **big, void **shm)
{
	const char *name = t_name("maps");
	char *brk0;
	int fd;

	bss_var = 1;
	data_var++;
	w->text = (uintptr_t)&rows_setup;
	w->rodata = (uintptr_t)rodata_var;
	w->data = (uintptr_t)&data_var;
	w->bss = (uintptr_t)&bss_var;
	/* sbrk, not malloc: a sanitizer's malloc does not use the heap. */
	brk0 = sbrk(4096);
	T_ASSERT(brk0 != (void *)-1);
	brk0[0] = 1;
	w->heap = (uintptr_t)brk0 + 16;
	*big = malloc(BIG_LEN);
	T_ASSERT(*big != NULL);
	memset(*big, 1, 4096);
	w->big = (uintptr_t)*big + BIG_LEN / 2;
	w->lib = (uintptr_t)&getpid;
	fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	T_ASSERT(fd >= 0);
	T_ASSERT(ftruncate(fd, 4096) == 0);
	*shm = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	T_ASSERT(*shm != MAP_FAILED);
	close(fd);
	T_ASSERT(shm_unlink(name) == 0);
	w->shm = (uintptr_t)*shm + 8;
	w->stack = (uintptr_t)__builtin_frame_address(0);
}

static void parse_lines(void)
{
	static const char *bad[] = {
	    "",
	    "zz-1000 r--p 00000000 00:00 0",
	    "1000-1000 r--p 00000000 00:00 0",
	    "2000-1000 r--p 00000000 00:00 0",
	    "1000-2000 rq-p 00000000 00:00 0",
	    "1000-2000 r--p 00000000 00:00",
	    "1000-2000 r--p 00000000 0000 0",
	    "11112222333344445-11112222333344446 r--p 0 00:00 0",
	    "Rss:                   4 kB",
	};
	const char *line = "7f0000001000-7f0000003000 r-xp 0001a000 fe:01 "
	                   "1234     /usr/lib/a b.so (deleted)\n";
	struct ipcx__region r;
	const char *path;
	size_t plen, i;

	T_OK(ipcx__maps_parse_line(line, strlen(line), &r, &path, &plen));
	T_ASSERT(r.start == 0x7f0000001000 && r.end == 0x7f0000003000);
	T_ASSERT(strcmp(r.perms, "r-xp") == 0 && r.offset == 0x1a000);
	T_ASSERT(r.dev_major == 0xfe && r.dev_minor == 1 && r.inode == 1234);
	T_ASSERT(plen == strlen("/usr/lib/a b.so (deleted)"));
	T_ASSERT(memcmp(path, "/usr/lib/a b.so (deleted)", plen) == 0);
	line = "1000-2000 rw-p 00000000 00:00 0";
	T_OK(ipcx__maps_parse_line(line, strlen(line), &r, &path, &plen));
	T_ASSERT(plen == 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		T_EXPECT(ipcx__maps_parse_line(bad[i], strlen(bad[i]), &r,
		                               &path, &plen),
		         IPCX_ECORRUPT);
}

static enum ipcx__kind kind_at(const struct ipcx__maps *m, uintptr_t a)
{
	long i = ipcx__maps_find(m, a);

	if (i < 0) {
		fprintf(stderr, "0x%lx: in no region\n", (unsigned long)a);
		return IPCX__K_GAP;
	}
	return m->r[i].kind;
}

static bool in_sec(const struct ipcx__maps *m, enum ipcx__sec s, uintptr_t a)
{
	return m->sec[s].present && a >= m->sec[s].addr &&
	       a < m->sec[s].addr + m->sec[s].size;
}

#define KIND(m, a, k)                                                          \
	do {                                                                   \
		enum ipcx__kind got_ = kind_at(m, a);                          \
		if (got_ != (k)) {                                             \
			fprintf(stderr, "%s:%d: %s is %s, want %s\n",          \
			        __FILE__, __LINE__, #a, ipcx__kind_name(got_), \
			        ipcx__kind_name(k));                           \
			exit(T_EXIT_FAIL);                                     \
		}                                                              \
	} while (0)

static void self_rows(void)
{
	struct rows w;
	struct thr t;
	struct ipcx__maps m;
	pthread_t tid;
	void *big, *shm;
	uint64_t rss = 0;
	long h;
	size_t i;

	rows_setup(&w, &big, &shm);
	thr_start(&tid, &t);
	T_OK(ipcx__maps_read(0, &m));
	T_ASSERT(m.self && m.n > 5);
	T_ASSERT(m.sec_note[0] == '\0');
	KIND(&m, w.text, IPCX__K_TEXT);
	KIND(&m, w.rodata, IPCX__K_RODATA);
	KIND(&m, w.data, IPCX__K_DATA);
	KIND(&m, w.bss, IPCX__K_BSS);
	KIND(&m, w.heap, IPCX__K_HEAP);
	KIND(&m, w.big, IPCX__K_ANON);
	KIND(&m, w.lib, IPCX__K_LIB);
	KIND(&m, w.shm, IPCX__K_SHM);
	KIND(&m, w.stack, IPCX__K_STACK);
	KIND(&m, t.frame, IPCX__K_THREAD_STACK);
	T_ASSERT(in_sec(&m, IPCX__SEC_TEXT, w.text));
	T_ASSERT(in_sec(&m, IPCX__SEC_RODATA, w.rodata));
	T_ASSERT(in_sec(&m, IPCX__SEC_DATA, w.data));
	T_ASSERT(in_sec(&m, IPCX__SEC_BSS, w.bss));
	T_ASSERT(!in_sec(&m, IPCX__SEC_DATA, w.bss));
	/* The markers: sp in the main stack, brk at the heap's end. */
	T_ASSERT(m.sp_src == IPCX__SP_SELF);
	KIND(&m, m.sp, IPCX__K_STACK);
	h = ipcx__maps_find(&m, w.heap);
	T_ASSERT(m.brk_exact && m.brk > m.r[h].start && m.brk <= m.r[h].end);
	T_ASSERT(m.r[h].end - m.brk < 4096);
	T_ASSERT(m.start_brk == m.r[h].start);
	/* The kernel row. */
	T_ASSERT(m.kernel.start == 0xffff800000000000ull ||
	         m.kernel.start == 0xff00000000000000ull);
	/* Sanitizer runtimes may add a thread of their own. */
	T_ASSERT(m.kernel.threads >= 2 && m.kernel.kstack_kb == 16);
	T_ASSERT(m.kernel.vm_pte_kb > 0);
	/* Regions sorted, disjoint; totals are their sums. */
	for (i = 0; i < m.n; i++) {
		T_ASSERT(m.r[i].start < m.r[i].end);
		T_ASSERT(i == 0 || m.r[i - 1].end <= m.r[i].start);
		rss += m.r[i].rss_kb;
	}
	T_ASSERT(rss == m.rss_kb && m.rss_kb <= m.size_kb);
	ipcx__maps_free(&m);
	thr_stop(tid, &t);
	munmap(shm, 4096);
	free(big);
}

static void errors(void)
{
	struct ipcx__maps m;

	/* pid_max is at most 2^22: this one cannot exist. */
	T_EXPECT(ipcx__maps_read(0x7ffffff0, &m), IPCX_ENOENT);
	T_ASSERT(strstr(ipcx_errmsg(), "no process") != NULL);
	/* kthreadd is pid 2 wherever there is a kernel to look at. */
	if (ipcx__maps_read(2, &m) == 0) {
		ipcx__maps_free(&m); /* a PID namespace: pid 2 is a user's */
	} else {
		T_ASSERT(strstr(ipcx_errmsg(), "kernel thread") != NULL);
	}
	T_EXPECT(ipcx__maps_read(-1, &m), IPCX_EINVAL);
}

/* The held process for test-maps-cli.sh. */
static int hold(void)
{
	struct rows w;
	struct thr t;
	pthread_t tid;
	void *big, *shm;
	char buf[64];

	rows_setup(&w, &big, &shm);
	thr_start(&tid, &t);
	w.thread = t.frame;
	printf("{\"pid\": %d, \"text\": \"0x%lx\", \"rodata\": \"0x%lx\", "
	       "\"data\": \"0x%lx\", \"bss\": \"0x%lx\", \"heap\": \"0x%lx\", "
	       "\"big\": \"0x%lx\", \"lib\": \"0x%lx\", \"shm\": \"0x%lx\", "
	       "\"stack\": \"0x%lx\", \"thread\": \"0x%lx\"}\n",
	       (int)getpid(), (unsigned long)w.text, (unsigned long)w.rodata,
	       (unsigned long)w.data, (unsigned long)w.bss,
	       (unsigned long)w.heap, (unsigned long)w.big,
	       (unsigned long)w.lib, (unsigned long)w.shm,
	       (unsigned long)w.stack, (unsigned long)w.thread);
	fflush(stdout);
	while (read(0, buf, sizeof(buf)) > 0)
		;
	thr_stop(tid, &t);
	munmap(shm, 4096);
	free(big);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--hold") == 0)
		return hold();
	parse_lines();
	self_rows();
	errors();
	return T_EXIT_PASS;
}
