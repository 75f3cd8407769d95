/*
 * inspect.h - the address-space inspector's internal API: a live process's
 * regions, sections, markers and kernel figures as structures. Not
 * installed and not exported (the names are ipcx__*, hidden); the ipcx
 * command and the tests call it. It reads /proc and ELF files only, never
 * prints and never opens a channel.
 *
 * The two calls a caller needs:
 *   struct ipcx__maps m;
 *   if (ipcx__maps_read(pid, &m) == 0) { ...m.r[0..m.n)...;
 *           ipcx__maps_free(&m); }
 *   struct ipcx__maps_cmp c;
 *   if (ipcx__maps_compare(pid1, pid2, &c) == 0) { ...;
 *           ipcx__maps_cmp_free(&c); }
 */
#ifndef IPCX_INSPECT_H
#define IPCX_INSPECT_H

#include "internal.h"

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- ELF section headers (elf.c) ---- */

/* The sections the address-space table shows, in ipcx__elf.sec[]. */
enum ipcx__sec {
	IPCX__SEC_TEXT,
	IPCX__SEC_RODATA,
	IPCX__SEC_DATA,
	IPCX__SEC_BSS,
	IPCX__SEC_COUNT
};

/* One section: its link-time address range (add the load bias). */
struct ipcx__elf_sec {
	uint64_t addr, size;
	bool present;
};

/* What the parser keeps of one ELF file. */
struct ipcx__elf {
	int bits;            /* 32 or 64 */
	int type;            /* ET_EXEC, ET_DYN, ... */
	int machine;         /* EM_X86_64, EM_386, ... */
	uint64_t load_vaddr; /* lowest PT_LOAD p_vaddr - p_offset, page-down */
	bool has_load;       /* a PT_LOAD was found */
	struct ipcx__elf_sec sec[IPCX__SEC_COUNT];
};

/*
 * ipcx__elf_read_fn - read n bytes at offset off of the file into dst.
 * Returns 0, or -1 if the bytes are not all there.
 */
typedef int (*ipcx__elf_read_fn)(void *ctx, uint64_t off, void *dst, size_t n);

/*
 * ipcx__elf_parse - parse the ELF header, the program headers and the
 * section headers (names through .shstrtab) through rd, reading at most
 * 65535 headers and a 1 MiB name table, so any file is bounded work.
 * Fills *e. Returns 0, or IPCX_ECORRUPT ("not an ELF file", "truncated",
 * ...) with ipcx_errmsg() set. Does not allocate more than the name table.
 */
IPCX__HIDDEN int ipcx__elf_parse(ipcx__elf_read_fn rd, void *ctx,
                                 struct ipcx__elf *e);

/* ipcx__elf_parse_mem - ipcx__elf_parse over the bytes buf[0..len). */
IPCX__HIDDEN int ipcx__elf_parse_mem(const void *buf, size_t len,
                                     struct ipcx__elf *e);

/* ipcx__elf_parse_fd - ipcx__elf_parse over an open file (pread). */
IPCX__HIDDEN int ipcx__elf_parse_fd(int fd, struct ipcx__elf *e);

/* ipcx__sec_name - ".text", ".rodata", ".data", ".bss". */
IPCX__HIDDEN const char *ipcx__sec_name(enum ipcx__sec s);

/* ---- the address space (maps.c) ---- */

/* What a region is, in the notes' vocabulary. */
enum ipcx__kind {
	IPCX__K_KERNEL,
	IPCX__K_STACK,
	IPCX__K_THREAD_STACK,
	IPCX__K_VVAR,
	IPCX__K_VDSO,
	IPCX__K_LIB,
	IPCX__K_SHM,
	IPCX__K_ANON,
	IPCX__K_HEAP,
	IPCX__K_BSS,
	IPCX__K_DATA,
	IPCX__K_RODATA,
	IPCX__K_TEXT,
	IPCX__K_OTHER,
	IPCX__K_GAP, /* no mapping: never in ipcx__maps.r, the CLI draws it */
};

/* ipcx__kind_name - "kernel", "thread-stack", ... for k. */
IPCX__HIDDEN const char *ipcx__kind_name(enum ipcx__kind k);

/* One mapping (or the part of one that a section boundary cuts off). */
struct ipcx__region {
	uint64_t start, end; /* [start, end) */
	char perms[5];       /* "r-xp" */
	uint64_t offset, inode;
	unsigned dev_major, dev_minor;
	uint64_t rss_kb, pss_kb; /* resident, proportional set (smaps) */
	enum ipcx__kind kind;
	char *path; /* owned; "" for an anonymous mapping */
};

/* Where the stack pointer figure came from. */
enum ipcx__sp_src {
	IPCX__SP_NONE,    /* the kernel did not expose it */
	IPCX__SP_SELF,    /* the reader's own frame */
	IPCX__SP_SYSCALL, /* /proc/PID/syscall (blocked in a system call) */
	IPCX__SP_STAT,    /* /proc/PID/stat kstkesp */
};

/* The kernel row: the kernel's own figures for this process. */
struct ipcx__kernel {
	uint64_t start;        /* lowest kernel-space address */
	int levels;            /* page-table levels: 4 or 5 */
	int va_bits;           /* user address bits: 47 or 56 */
	const char *start_src; /* how levels were found */
	uint64_t user_top;     /* highest user address + 1 for this process */
	uint64_t vm_pte_kb;    /* this process's page tables (VmPTE) */
	unsigned threads;      /* its threads, each with one kernel stack */
	unsigned kstack_kb;    /* one kernel stack (THREAD_SIZE) */
	unsigned kstack_measured_kb; /* KernelStack / all threads, 0 unknown */
	uint64_t text_start, text_end; /* kernel text (kallsyms), 0 hidden */
	uint64_t direct_map_kb;        /* DirectMap* in /proc/meminfo */
};

/* A live process's address space. */
struct ipcx__maps {
	pid_t pid;
	bool self;          /* the reader itself */
	int bits;           /* 64, or 32 for a compat process */
	char exe[PATH_MAX]; /* /proc/PID/exe's target */
	bool exe_deleted;
	uint64_t load_bias; /* added to the ELF's addresses (PIE) */
	struct ipcx__kernel kernel;
	uint64_t sp;
	enum ipcx__sp_src sp_src;
	char sp_note[128];       /* why sp is missing, "" if present */
	uint64_t start_brk, brk; /* brk: exact for self, else the heap end */
	bool brk_exact;
	struct ipcx__elf_sec sec[IPCX__SEC_COUNT]; /* placed: bias added */
	char sec_note[256];     /* why sections are missing, "" if present */
	struct ipcx__region *r; /* ascending addresses, n of them, owned */
	size_t n;
	uint64_t size_kb, rss_kb, pss_kb; /* totals over r */
};

/*
 * ipcx__maps_read - fill *m for pid (0: the caller itself) from
 * /proc/PID/smaps, status, stat, syscall and the executable's ELF headers.
 * Blocks only on /proc reads. Returns 0 (free *m with ipcx__maps_free), or
 * IPCX_ENOENT (no such process), IPCX_EACCES (not allowed to read it),
 * IPCX_EINVAL (a kernel thread: no user address space), IPCX_ENOMEM,
 * IPCX_ESYS, with ipcx_errmsg() set; on failure *m needs no freeing. A
 * non-ELF or unreadable executable is no failure: m->sec_note says why
 * the sections are missing.
 */
IPCX__HIDDEN int ipcx__maps_read(pid_t pid, struct ipcx__maps *m);

/* ipcx__maps_free - release what ipcx__maps_read allocated; NULL is ok. */
IPCX__HIDDEN void ipcx__maps_free(struct ipcx__maps *m);

/* ipcx__maps_find - the index of the region holding addr, or -1. */
IPCX__HIDDEN long ipcx__maps_find(const struct ipcx__maps *m, uint64_t addr);

/*
 * ipcx__maps_parse_line - parse one /proc/PID/maps (or smaps header) line
 * of len bytes (no NUL needed, a trailing '\n' allowed) into r, except
 * r->path: *path and *path_len point at the path inside line ("" for
 * none). Returns 0, or IPCX_ECORRUPT if the line is not a mapping line.
 */
IPCX__HIDDEN int ipcx__maps_parse_line(const char *line, size_t len,
                                       struct ipcx__region *r,
                                       const char **path, size_t *path_len);

/* ---- the kernel row and the markers (kernel.c) ---- */

/*
 * ipcx__proc_stat_fields - parse /proc/PID/stat text buf[0..len) (the
 * command name may hold spaces and parentheses: fields start after the
 * last ')'). f[k] is field k+1 of proc(5) for k < nf; missing fields are
 * 0. Returns the number of fields found (>= 2), or IPCX_ECORRUPT.
 */
IPCX__HIDDEN int ipcx__proc_stat_fields(const char *buf, size_t len,
                                        uint64_t *f, size_t nf);

/*
 * ipcx__maps_kernel - fill m->kernel from /proc/cpuinfo, meminfo, loadavg,
 * kallsyms and /proc/PID/status; uses m->r and m->bits. Never fails: a
 * figure the kernel does not give stays 0.
 */
IPCX__HIDDEN void ipcx__maps_kernel(struct ipcx__maps *m);

/*
 * ipcx__maps_markers - fill m->sp, sp_src, sp_note, start_brk and brk
 * for m->pid, and mark anonymous regions holding a thread's stack
 * pointer as IPCX__K_THREAD_STACK. stat holds /proc/PID/stat's fields.
 */
IPCX__HIDDEN void ipcx__maps_markers(struct ipcx__maps *m, const uint64_t *stat,
                                     size_t nstat);

/* ---- two processes side by side (compare.c) ---- */

/* How the comparison knew which pages are shared. */
enum ipcx__cmp_how {
	IPCX__CMP_FRAMES, /* page frame numbers from /proc/PID/pagemap */
	IPCX__CMP_FILES,  /* same file at the same offset (no frames: not root)
	                   */
};

/* One region of the first process and what the second has there. */
struct ipcx__cmp_row {
	struct ipcx__region r; /* path owned */
	uint64_t same;         /* pages resident in both on the same frame */
	uint64_t diff; /* same address, both resident, different frames */
	uint64_t first_same, first_diff; /* an example address, 0 if none */
	bool skipped;                    /* too large to walk (over 1 GiB) */
};

struct ipcx__maps_cmp {
	pid_t pid1, pid2;
	enum ipcx__cmp_how how;
	struct ipcx__cmp_row *rows; /* the first process's regions, ascending */
	size_t n;
	uint64_t same, diff; /* totals in pages */
};

/*
 * ipcx__maps_compare - which pages pid1 and pid2 (0: the caller) share
 * physically. With /proc/PID/pagemap frame numbers (root), a page counts
 * as same when both have it resident on one frame, as diff when both have
 * it resident at the same virtual address on different frames (the notes'
 * "separated per process"). Without frames, file-backed regions mapped
 * from the same file and offset at the same address count as same.
 * Returns 0 (free with ipcx__maps_cmp_free) or an IPCX_E* code as
 * ipcx__maps_read.
 */
IPCX__HIDDEN int ipcx__maps_compare(pid_t pid1, pid_t pid2,
                                    struct ipcx__maps_cmp *c);

/* ipcx__maps_cmp_free - release *c; NULL is ok. */
IPCX__HIDDEN void ipcx__maps_cmp_free(struct ipcx__maps_cmp *c);

#endif
