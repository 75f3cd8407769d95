/*
 * kernel.c - the figures of the address-space table that come from the
 * kernel rather than from the mappings: the kernel row (where kernel space
 * starts, page tables, kernel stacks, kernel text, direct map) and the two
 * markers the notes draw, the stack pointer and brk.
 *
 * Sources, all read-only: /proc/cpuinfo (la57: 5-level paging),
 * /proc/meminfo (KernelStack, DirectMap*), /proc/loadavg (threads on the
 * system), /proc/kallsyms (_text, _etext; addresses hidden unless allowed),
 * /proc/PID/status (VmPTE, Threads), /proc/PID/syscall and
 * /proc/PID/task/TID/syscall (a blocked thread's stack pointer).
 */
#include "inspect.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* x86-64 kernel space with 4-level paging: 2^64 - 2^47. */
#define KERN_START_L4 0xffff800000000000ull
/* With 5-level paging (la57): 2^64 - 2^56. */
#define KERN_START_L5 0xff00000000000000ull
/*
 * One kernel stack per thread: THREAD_SIZE = PAGE_SIZE << THREAD_SIZE_ORDER,
 * 16 KiB on x86-64 without KASAN (arch/x86/include/asm/page_64_types.h),
 * 8 KiB on i386 (page_32_types.h). The kernel does not export it; the
 * measured figure (KernelStack / threads) checks it.
 */
#define KERN_THREAD_SIZE_KB 16u

int ipcx__proc_stat_fields(const char *buf, size_t len, uint64_t *f, size_t nf)
{
	const char *p = NULL, *end = buf + len;
	size_t k, i;

	for (i = 0; i < len; i++)
		if (buf[i] == ')')
			p = buf + i;
	if (p == NULL || nf < 2)
		return IPCX_ECORRUPT;
	memset(f, 0, nf * sizeof(*f));
	p++;
	/* Field 3 (state) is the first after the name; fields 1-2 stay 0. */
	for (k = 2; k < nf; k++) {
		uint64_t v = 0;
		while (p < end && *p == ' ')
			p++;
		if (p >= end || *p == '\n')
			break;
		if (k == 2) {
			v = (unsigned char)*p++;
		} else {
			bool neg = false;
			if (*p == '-') {
				neg = true;
				p++;
			}
			while (p < end && *p >= '0' && *p <= '9')
				v = v * 10 + (uint64_t)(*p++ - '0');
			if (neg)
				v = (uint64_t)0 - v;
		}
		while (p < end && *p != ' ' && *p != '\n')
			p++;
		f[k] = v;
	}
	return (int)k;
}

/* Read a small /proc file into buf (NUL-terminated); -1 on failure. */
static ssize_t kern_slurp(const char *path, char *buf, size_t cap)
{
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while (got + 1 < cap) {
		ssize_t k = read(fd, buf + got, cap - 1 - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	close(fd);
	buf[got] = '\0';
	return (ssize_t)got;
}

/* The number after "key:" in a "key: value" file, or 0. */
static uint64_t kern_value(const char *text, const char *key)
{
	size_t n = strlen(key);
	const char *p = text;

	while ((p = strstr(p, key)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == ':')
			return strtoull(p + n + 1, NULL, 10);
		p += n;
	}
	return 0;
}

/* Does /proc/cpuinfo list the la57 flag? The kernel clears it when it
 * runs with 4-level paging, so the flag means 5-level is in use. */
static bool kern_la57(void)
{
	char line[8192];
	bool yes = false;
	FILE *f = fopen("/proc/cpuinfo", "re");

	if (f == NULL)
		return false;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "flags", 5) != 0)
			continue;
		yes = strstr(line, " la57") != NULL;
		break;
	}
	fclose(f);
	return yes;
}

/* _text and _etext from /proc/kallsyms, when the kernel shows them. */
static void kern_text(struct ipcx__kernel *k)
{
	char line[512], name[128];
	unsigned long long a;
	char t;
	FILE *f = fopen("/proc/kallsyms", "re");

	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%llx %c %127s", &a, &t, name) != 3)
			continue;
		if (strcmp(name, "_text") == 0)
			k->text_start = a;
		else if (strcmp(name, "_etext") == 0) {
			k->text_end = a;
			break;
		}
	}
	fclose(f);
	/* Hidden addresses read as zero: report both as unknown. */
	if (k->text_start == 0 || k->text_end <= k->text_start)
		k->text_start = k->text_end = 0;
}

void ipcx__maps_kernel(struct ipcx__maps *m)
{
	struct ipcx__kernel *k = &m->kernel;
	char buf[8192], path[64];
	unsigned long running, total;
	uint64_t stack_kb;
	const char *p;

	memset(k, 0, sizeof(*k));
	k->levels = 4;
	k->start_src = "no la57 flag in /proc/cpuinfo: 4-level paging";
	if (kern_la57()) {
		k->levels = 5;
		k->start_src = "la57 flag in /proc/cpuinfo: 5-level paging";
	} else if (m->n > 0 && m->r[m->n - 1].end > (1ull << 47) &&
	           m->r[m->n - 1].end < KERN_START_L4) {
		/* A user mapping above 2^47 exists only with 5 levels. */
		k->levels = 5;
		k->start_src = "a user mapping above 2^47: 5-level paging";
	}
	k->start = k->levels == 5 ? KERN_START_L5 : KERN_START_L4;
	k->va_bits = k->levels == 5 ? 56 : 47;
	/*
	 * A 32-bit process on a 64-bit kernel may use almost all of its
	 * 4 GiB (IA32_PAGE_OFFSET); only a 32-bit kernel splits 3G/1G.
	 */
	k->user_top =
	    m->bits == 32 ? 0xffffe000ull : (1ull << k->va_bits) - 4096;
	k->kstack_kb = KERN_THREAD_SIZE_KB;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)m->pid);
	if (kern_slurp(path, buf, sizeof(buf)) > 0) {
		k->vm_pte_kb = kern_value(buf, "VmPTE");
		k->threads = (unsigned)kern_value(buf, "Threads");
	}
	if (kern_slurp("/proc/meminfo", buf, sizeof(buf)) > 0) {
		stack_kb = kern_value(buf, "KernelStack");
		k->direct_map_kb = kern_value(buf, "DirectMap4k") +
		                   kern_value(buf, "DirectMap2M") +
		                   kern_value(buf, "DirectMap1G");
		/* loadavg's 4th field is running/threads on the system. */
		if (kern_slurp("/proc/loadavg", buf, sizeof(buf)) > 0 &&
		    (p = strchr(buf, '/')) != NULL &&
		    sscanf(p - 1, "%*c/%lu", &total) == 1 && total > 0 &&
		    sscanf(buf, "%*s %*s %*s %lu/", &running) == 1)
			k->kstack_measured_kb =
			    (unsigned)((stack_kb + total / 2) / total);
	}
	kern_text(k);
}

/* The stack pointer of a thread blocked in (or between) system calls:
 * /proc/.../syscall is "NR args... sp pc", "-1 sp pc" or "running". */
static int kern_syscall_sp(const char *path, uint64_t *sp, char *why,
                           size_t whylen)
{
	char buf[512], *tok[12], *save = NULL, *t;
	size_t n = 0;

	if (kern_slurp(path, buf, sizeof(buf)) < 0) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return -1;
	}
	for (t = strtok_r(buf, " \n", &save); t != NULL && n < 12;
	     t = strtok_r(NULL, " \n", &save))
		tok[n++] = t;
	if (n == 0 || strcmp(tok[0], "running") == 0) {
		snprintf(why, whylen, "running on a CPU, so %s has no sp",
		         path);
		return -1;
	}
	if (n < 3) {
		snprintf(why, whylen, "%s: unexpected text", path);
		return -1;
	}
	*sp = strtoull(tok[n - 2], NULL, 16);
	return *sp ? 0 : -1;
}

/* Mark an anonymous region holding a thread's sp as that thread's stack. */
static void kern_mark_thread(struct ipcx__maps *m, uint64_t sp)
{
	long i = ipcx__maps_find(m, sp);

	if (i >= 0 && (m->r[i].kind == IPCX__K_ANON))
		m->r[i].kind = IPCX__K_THREAD_STACK;
}

static void kern_threads(struct ipcx__maps *m)
{
	char path[96], why[160];
	struct dirent *d;
	uint64_t sp;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)m->pid);
	dir = opendir(path);
	if (dir == NULL)
		return;
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] < '1' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.20s/syscall",
		         (int)m->pid, d->d_name);
		if (kern_syscall_sp(path, &sp, why, sizeof(why)) == 0)
			kern_mark_thread(m, sp);
	}
	closedir(dir);
}

void ipcx__maps_markers(struct ipcx__maps *m, const uint64_t *stat,
                        size_t nstat)
{
	char path[64];
	long i;

	/* proc(5): field 47 start_brk, field 29 kstkesp. */
	m->start_brk = nstat > 46 ? stat[46] : 0;
	m->brk = m->start_brk;
	if (m->self) {
		/* Our own break, exactly; and our own frame for sp. */
		void *cur = sbrk(0);
		volatile char here = 0;
		if (cur != (void *)-1)
			m->brk = (uint64_t)(uintptr_t)cur;
		m->brk_exact = cur != (void *)-1;
		m->sp = (uint64_t)(uintptr_t)&here;
		m->sp_src = IPCX__SP_SELF;
	} else {
		/* Another's break is not in /proc: the heap's end bounds it
		 * to the page. */
		for (i = 0; i < (long)m->n; i++)
			if (m->r[i].kind == IPCX__K_HEAP)
				m->brk = m->r[i].end;
		snprintf(path, sizeof(path), "/proc/%d/syscall", (int)m->pid);
		if (kern_syscall_sp(path, &m->sp, m->sp_note,
		                    sizeof(m->sp_note)) == 0) {
			m->sp_src = IPCX__SP_SYSCALL;
		} else if (nstat > 28 && stat[28] != 0) {
			m->sp = stat[28];
			m->sp_src = IPCX__SP_STAT;
		} else {
			m->sp = 0;
			m->sp_src = IPCX__SP_NONE;
		}
		if (m->sp_src != IPCX__SP_NONE)
			m->sp_note[0] = '\0';
	}
	kern_threads(m);
}
