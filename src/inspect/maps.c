/*
 * maps.c - a live process's address space as a list of classified
 * regions: /proc/PID/smaps parsed into mappings with their RSS and PSS,
 * each named in the notes' vocabulary (stack, heap, .bss, .data, ...),
 * with the executable's sections placed exactly through its load bias.
 *
 * The executable's mappings are told apart by its ELF section headers
 * (elf.c): a mapping that .bss starts inside is cut in two at .bss's first
 * byte, so an address lands in "data" or "bss" exactly even when both
 * share a page; the RSS of a cut mapping is shared out by resident pages
 * (/proc/PID/pagemap), so the totals still equal smaps' (and pmap -x's).
 */
#include "inspect.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* smaps of a huge process is a few MiB; refuse absurd sizes. */
#define MAPS_MAX_TEXT (256u << 20)
#define MAPS_PAGE     4096u
/* PF_KTHREAD in /proc/PID/stat's flags (field 9): include/linux/sched.h */
#define MAPS_PF_KTHREAD 0x00200000u

static const char *const maps_kinds[] = {
    [IPCX__K_KERNEL] = "kernel",
    [IPCX__K_STACK] = "stack",
    [IPCX__K_THREAD_STACK] = "thread-stack",
    [IPCX__K_VVAR] = "vvar",
    [IPCX__K_VDSO] = "vdso",
    [IPCX__K_LIB] = "lib",
    [IPCX__K_SHM] = "shm",
    [IPCX__K_ANON] = "anon",
    [IPCX__K_HEAP] = "heap",
    [IPCX__K_BSS] = "bss",
    [IPCX__K_DATA] = "data",
    [IPCX__K_RODATA] = "rodata",
    [IPCX__K_TEXT] = "text",
    [IPCX__K_OTHER] = "other",
    [IPCX__K_GAP] = "gap",
};

const char *ipcx__kind_name(enum ipcx__kind k)
{
	return (unsigned)k <= IPCX__K_GAP ? maps_kinds[k] : "?";
}

/* Hex digits at *p (at most 16) into *v; false if none or too many. */
static bool maps_hex(const char **p, const char *end, uint64_t *v)
{
	int n = 0;

	*v = 0;
	while (*p < end) {
		int d = ipcx__hex_digit(**p);
		if (d < 0)
			break;
		if (++n > 16)
			return false;
		*v = *v << 4 | (unsigned)d;
		(*p)++;
	}
	return n > 0;
}

static bool maps_dec(const char **p, const char *end, uint64_t *v)
{
	int n = 0;

	*v = 0;
	while (*p < end && **p >= '0' && **p <= '9') {
		if (++n > 20 || *v > (UINT64_MAX - 9) / 10)
			return false;
		*v = *v * 10 + (uint64_t)(**p - '0');
		(*p)++;
	}
	return n > 0;
}

static bool maps_char(const char **p, const char *end, char c)
{
	if (*p >= end || **p != c)
		return false;
	(*p)++;
	return true;
}

int ipcx__maps_parse_line(const char *line, size_t len, struct ipcx__region *r,
                          const char **path, size_t *path_len)
{
	const char *p = line, *end = line + len;
	uint64_t maj, min;
	int i;

	if (len > 0 && end[-1] == '\n')
		end--;
	memset(r, 0, sizeof(*r));
	if (!maps_hex(&p, end, &r->start) || !maps_char(&p, end, '-') ||
	    !maps_hex(&p, end, &r->end) || !maps_char(&p, end, ' ') ||
	    r->end <= r->start)
		return IPCX_ECORRUPT;
	for (i = 0; i < 4; i++) {
		if (p >= end || strchr("rwxsp-", *p) == NULL || *p == '\0')
			return IPCX_ECORRUPT;
		r->perms[i] = *p++;
	}
	if (!maps_char(&p, end, ' ') || !maps_hex(&p, end, &r->offset) ||
	    !maps_char(&p, end, ' ') || !maps_hex(&p, end, &maj) ||
	    !maps_char(&p, end, ':') || !maps_hex(&p, end, &min) ||
	    !maps_char(&p, end, ' ') || !maps_dec(&p, end, &r->inode) ||
	    maj > 0xffffffffu || min > 0xffffffffu)
		return IPCX_ECORRUPT;
	r->dev_major = (unsigned)maj;
	r->dev_minor = (unsigned)min;
	/* The path starts after the padding; it may itself hold spaces. */
	while (p < end && *p == ' ')
		p++;
	*path = p;
	*path_len = (size_t)(end - p);
	return 0;
}

/*
 * Read a whole /proc file; *out is owned by the caller. Returns 0, the
 * errno value (> 0) of a failed open or read, or IPCX_ENOMEM.
 */
static int maps_slurp(const char *file, char **out, size_t *len)
{
	size_t cap = 1 << 16, got = 0;
	char *buf = malloc(cap), *nb;
	int fd, e;

	if (buf == NULL)
		return ipcx__err(IPCX_ENOMEM, "%s: out of memory", file);
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		free(buf);
		return e;
	}
	for (;;) {
		ssize_t k;
		if (got + 1 >= cap) {
			if (cap >= MAPS_MAX_TEXT ||
			    !(nb = realloc(buf, cap * 2)))
				break;
			buf = nb;
			cap *= 2;
		}
		k = read(fd, buf + got, cap - 1 - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			e = errno;
			close(fd);
			free(buf);
			return e;
		}
		if (k == 0)
			break;
		got += (size_t)k;
	}
	close(fd);
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return 0;
}

/* The failure for errno value e met reading pid's file. */
static int maps_proc_err(pid_t pid, const char *file, int e)
{
	if (e == ENOENT || e == ESRCH)
		return ipcx__err(IPCX_ENOENT,
		                 "no process %d (is it still running?)",
		                 (int)pid);
	if (e == EACCES || e == EPERM)
		return ipcx__err(IPCX_EACCES,
		                 "process %d: may not read %s (run as its "
		                 "owner or as root)",
		                 (int)pid, file);
	return ipcx__errno(e, "process %d: %s", (int)pid, file);
}

static int maps_push(struct ipcx__maps *m, size_t *cap,
                     const struct ipcx__region *r, const char *path,
                     size_t plen)
{
	struct ipcx__region *nr;

	if (m->n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		nr = realloc(m->r, c * sizeof(*nr));
		if (nr == NULL)
			return ipcx__err(IPCX_ENOMEM, "maps: out of memory");
		m->r = nr;
		*cap = c;
	}
	m->r[m->n] = *r;
	m->r[m->n].path = strndup(path, plen);
	if (m->r[m->n].path == NULL)
		return ipcx__err(IPCX_ENOMEM, "maps: out of memory");
	m->n++;
	return 0;
}

/* The "Key:   N kB" value lines of smaps that the table uses. */
static void maps_value(struct ipcx__region *r, const char *line, size_t len)
{
	const char *p, *end = line + len;
	uint64_t v;

	if (len > 4 && memcmp(line, "Rss:", 4) == 0)
		p = line + 4;
	else if (len > 4 && memcmp(line, "Pss:", 4) == 0)
		p = line + 4;
	else
		return;
	while (p < end && *p == ' ')
		p++;
	if (!maps_dec(&p, end, &v))
		return;
	if (line[0] == 'R')
		r->rss_kb = v;
	else
		r->pss_kb = v;
}

static int maps_parse_smaps(struct ipcx__maps *m, const char *text, size_t len)
{
	const char *line = text, *end = text + len, *nl, *path;
	struct ipcx__region r;
	size_t cap = 0, plen;
	int e;

	while (line < end) {
		nl = memchr(line, '\n', (size_t)(end - line));
		if (nl == NULL)
			nl = end;
		if (ipcx__maps_parse_line(line, (size_t)(nl - line), &r, &path,
		                          &plen) == 0) {
			e = maps_push(m, &cap, &r, path, plen);
			if (e != 0)
				return e;
		} else if (m->n > 0) {
			maps_value(&m->r[m->n - 1], line, (size_t)(nl - line));
		}
		line = nl + 1;
	}
	return 0;
}

long ipcx__maps_find(const struct ipcx__maps *m, uint64_t addr)
{
	size_t lo = 0, hi = m->n;

	/* Regions are sorted and disjoint: binary search. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (addr < m->r[mid].start)
			hi = mid;
		else if (addr >= m->r[mid].end)
			lo = mid + 1;
		else
			return (long)mid;
	}
	return -1;
}

/* Resident pages of pid in [start, end) by pagemap's present bit, or -1. */
static long maps_present(pid_t pid, uint64_t start, uint64_t end)
{
	char file[64];
	uint64_t e[64], a;
	long n = 0;
	int fd;

	snprintf(file, sizeof(file), "/proc/%d/pagemap", (int)pid);
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	for (a = start; a < end;) {
		size_t want = (size_t)((end - a) / MAPS_PAGE), i;
		ssize_t k;
		if (want > 64)
			want = 64;
		k = pread(fd, e, want * 8, (off_t)(a / MAPS_PAGE * 8));
		if (k <= 0) {
			n = -1;
			break;
		}
		for (i = 0; i < (size_t)k / 8; i++)
			n += (long)(e[i] >> 63);
		a += (uint64_t)k / 8 * MAPS_PAGE;
	}
	close(fd);
	return n;
}

/*
 * Cut region i at address cut (start < cut < end) into two regions. The
 * page holding cut stays with the lower part; resident pages are counted
 * in pagemap to share RSS out (by page count if it is unreadable) and PSS
 * in proportion, so the two parts sum to the mapping's figures.
 */
static int maps_cut(struct ipcx__maps *m, size_t i, uint64_t cut)
{
	struct ipcx__region *nr, *lo, *hi;
	uint64_t page = (cut + MAPS_PAGE - 1) & ~(uint64_t)(MAPS_PAGE - 1);
	uint64_t pages, hipages, rss_hi;
	long res_hi;

	nr = realloc(m->r, (m->n + 1) * sizeof(*nr));
	if (nr == NULL)
		return ipcx__err(IPCX_ENOMEM, "maps: out of memory");
	m->r = nr;
	memmove(&m->r[i + 2], &m->r[i + 1], (m->n - i - 1) * sizeof(*nr));
	m->n++;
	lo = &m->r[i];
	hi = &m->r[i + 1];
	*hi = *lo;
	hi->path = strdup(lo->path);
	if (hi->path == NULL) {
		hi->path = lo->path; /* keep the list freeable once */
		memmove(hi, hi + 1, (m->n - i - 2) * sizeof(*nr));
		m->n--;
		return ipcx__err(IPCX_ENOMEM, "maps: out of memory");
	}
	hi->offset += cut - lo->start;
	lo->end = hi->start = cut;
	pages = (hi->end - lo->start) / MAPS_PAGE;
	hipages = page < hi->end ? (hi->end - page) / MAPS_PAGE : 0;
	res_hi = maps_present(m->pid, page, hi->end);
	rss_hi = res_hi >= 0 ? (uint64_t)res_hi * (MAPS_PAGE / 1024)
	                     : lo->rss_kb * hipages / (pages ? pages : 1);
	if (rss_hi > lo->rss_kb)
		rss_hi = lo->rss_kb;
	hi->rss_kb = rss_hi;
	hi->pss_kb = lo->rss_kb ? lo->pss_kb * rss_hi / lo->rss_kb : 0;
	lo->rss_kb -= hi->rss_kb;
	lo->pss_kb -= hi->pss_kb;
	return 0;
}

static bool maps_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

/* The kind of a mapping that is not the executable's. */
static enum ipcx__kind maps_kind_of(const struct ipcx__region *r)
{
	const char *p = r->path;

	if (strcmp(p, "[heap]") == 0)
		return IPCX__K_HEAP;
	if (strcmp(p, "[stack]") == 0)
		return IPCX__K_STACK;
	if (maps_prefix(p, "[vvar"))
		return IPCX__K_VVAR;
	if (strcmp(p, "[vdso]") == 0 || strcmp(p, "[vsyscall]") == 0)
		return IPCX__K_VDSO;
	if (maps_prefix(p, "/dev/shm/") || maps_prefix(p, "/SYSV") ||
	    maps_prefix(p, "/memfd:") ||
	    (r->perms[3] == 's' && maps_prefix(p, "/dev/zero")))
		return IPCX__K_SHM;
	if (p[0] == '\0' || maps_prefix(p, "[anon:"))
		return IPCX__K_ANON;
	if (p[0] == '/' && (strstr(p, ".so") != NULL || r->perms[2] == 'x'))
		return IPCX__K_LIB;
	return IPCX__K_OTHER;
}

/* The executable's ELF, its load bias and the placed sections. */
static void maps_exe(struct ipcx__maps *m, dev_t *dev, ino_t *ino)
{
	char file[64];
	struct ipcx__elf e;
	struct stat st;
	ssize_t k;
	size_t i, s;
	int fd;

	snprintf(file, sizeof(file), "/proc/%d/exe", (int)m->pid);
	k = readlink(file, m->exe, sizeof(m->exe) - 1);
	m->exe[k > 0 ? k : 0] = '\0';
	m->exe_deleted = k > 10 && strcmp(m->exe + k - 10, " (deleted)") == 0;
	*ino = 0;
	/* /proc/PID/exe opens the file even when its name was deleted. */
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0) {
		snprintf(m->sec_note, sizeof(m->sec_note),
		         "cannot open the executable%s%.150s: %s",
		         m->exe_deleted ? " (deleted from disk) " : " ", m->exe,
		         strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	*dev = st.st_dev;
	*ino = st.st_ino;
	if (ipcx__elf_parse_fd(fd, &e) != 0) {
		snprintf(m->sec_note, sizeof(m->sec_note), "%.100s: %.140s",
		         m->exe, ipcx_errmsg());
		close(fd);
		return;
	}
	close(fd);
	m->bits = e.bits;
	/* The lowest mapping of file offset 0 is where load_vaddr went. */
	for (i = 0; i < m->n; i++)
		if (m->r[i].inode == st.st_ino && m->r[i].offset == 0 &&
		    makedev(m->r[i].dev_major, m->r[i].dev_minor) == st.st_dev)
			break;
	if (i == m->n || !e.has_load) {
		snprintf(m->sec_note, sizeof(m->sec_note),
		         "%.200s: its load address is not in the maps", m->exe);
		return;
	}
	m->load_bias = m->r[i].start - e.load_vaddr;
	for (s = 0; s < IPCX__SEC_COUNT; s++) {
		m->sec[s] = e.sec[s];
		if (m->sec[s].present)
			m->sec[s].addr += m->load_bias;
	}
}

static bool maps_is_exe(const struct ipcx__region *r, dev_t dev, ino_t ino)
{
	return ino != 0 && r->inode == ino &&
	       makedev(r->dev_major, r->dev_minor) == dev;
}

/* Name every region; cut the executable's mapping where .bss starts. */
static int maps_classify(struct ipcx__maps *m, dev_t dev, ino_t ino)
{
	const struct ipcx__elf_sec *bss = &m->sec[IPCX__SEC_BSS];
	uint64_t bss_end = bss->addr + bss->size;
	size_t i;
	int e;

	for (i = 0; i < m->n; i++) {
		struct ipcx__region *r = &m->r[i];
		bool exe = maps_is_exe(r, dev, ino);
		if (exe && bss->present && bss->addr > r->start &&
		    bss->addr < r->end) {
			e = maps_cut(m, i, bss->addr);
			if (e != 0)
				return e;
			r = &m->r[i];
		}
		if (exe && bss->present && r->start >= bss->addr &&
		    r->start < bss_end)
			r->kind = IPCX__K_BSS;
		else if (exe)
			r->kind = r->perms[2] == 'x'   ? IPCX__K_TEXT
			          : r->perms[1] == 'w' ? IPCX__K_DATA
			                               : IPCX__K_RODATA;
		else if (r->path[0] == '\0' && bss->present &&
		         r->start >= bss->addr && r->start < bss_end)
			/* The part of .bss beyond the file's last page. */
			r->kind = IPCX__K_BSS;
		else if (r->path[0] == '\0' && !bss->present && i > 0 &&
		         maps_is_exe(&m->r[i - 1], dev, ino) &&
		         m->r[i - 1].end == r->start && r->perms[1] == 'w')
			r->kind = IPCX__K_BSS;
		else
			r->kind = maps_kind_of(r);
	}
	/*
	 * glibc puts a thread's stack above an inaccessible guard mapping:
	 * an anonymous rw mapping of at least PTHREAD_STACK_MIN (16 KiB)
	 * right on top of an anonymous ---p one. (markers add those a
	 * thread's stack pointer is seen in.)
	 */
	for (i = 1; i < m->n; i++) {
		const struct ipcx__region *g = &m->r[i - 1];
		if (m->r[i].kind == IPCX__K_ANON && g->end == m->r[i].start &&
		    g->path[0] == '\0' && strncmp(g->perms, "---", 3) == 0 &&
		    m->r[i].perms[0] == 'r' && m->r[i].perms[1] == 'w' &&
		    m->r[i].end - m->r[i].start >= 16384)
			m->r[i].kind = IPCX__K_THREAD_STACK;
	}
	return 0;
}

/* Is pid a process we can look at? Reads /proc/PID/stat for the flags. */
static int maps_check_pid(pid_t pid, uint64_t *f, size_t nf, int *nstat)
{
	char file[64], *text;
	size_t len;
	int r;

	snprintf(file, sizeof(file), "/proc/%d/stat", (int)pid);
	r = maps_slurp(file, &text, &len);
	if (r != 0)
		return r < 0 ? r : maps_proc_err(pid, "stat", r);
	r = ipcx__proc_stat_fields(text, len, f, nf);
	free(text);
	if (r < 0)
		return ipcx__err(IPCX_ECORRUPT,
		                 "/proc/%d/stat: unexpected text", (int)pid);
	*nstat = r;
	if (f[8] & MAPS_PF_KTHREAD)
		return ipcx__err(
		    IPCX_EINVAL,
		    "process %d is a kernel thread: it has no user "
		    "address space (pick a user process)",
		    (int)pid);
	return 0;
}

int ipcx__maps_read(pid_t pid, struct ipcx__maps *m)
{
	uint64_t stat[52];
	char file[64], *text = NULL;
	size_t len, i;
	dev_t dev = 0;
	ino_t ino = 0;
	int r, nstat = 0;

	memset(m, 0, sizeof(*m));
	if (pid < 0)
		return ipcx__err(IPCX_EINVAL, "pid %d: not a process id",
		                 (int)pid);
	m->self = pid == 0 || pid == getpid();
	m->pid = m->self ? getpid() : pid;
	m->bits = (int)sizeof(void *) * 8;
	r = maps_check_pid(m->pid, stat, 52, &nstat);
	if (r != 0)
		return r;
	snprintf(file, sizeof(file), "/proc/%d/smaps", (int)m->pid);
	r = maps_slurp(file, &text, &len);
	if (r != 0)
		return r < 0 ? r : maps_proc_err(m->pid, "smaps", r);
	r = maps_parse_smaps(m, text, len);
	free(text);
	if (r == 0 && m->n == 0)
		r = ipcx__err(IPCX_EINVAL,
		              "process %d has no mappings (a kernel thread or "
		              "a zombie?)",
		              (int)m->pid);
	if (r != 0)
		goto fail;
	maps_exe(m, &dev, &ino);
	r = maps_classify(m, dev, ino);
	if (r != 0)
		goto fail;
	ipcx__maps_markers(m, stat, (size_t)nstat);
	ipcx__maps_kernel(m);
	for (i = 0; i < m->n; i++) {
		m->size_kb += m->r[i].end - m->r[i].start;
		m->rss_kb += m->r[i].rss_kb;
		m->pss_kb += m->r[i].pss_kb;
	}
	m->size_kb /= 1024;
	return 0;
fail:
	ipcx__maps_free(m);
	return r;
}

void ipcx__maps_free(struct ipcx__maps *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->n; i++)
		free(m->r[i].path);
	free(m->r);
	m->r = NULL;
	m->n = 0;
}
