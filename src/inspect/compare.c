/*
 * compare.c - two processes' address spaces side by side: which pages
 * they share physically and which equal virtual addresses hold different
 * physical pages (the notes' "every process has its own space; identical
 * pages can be shared").
 *
 * With page frame numbers from /proc/PID/pagemap (bits 0-54 of each 8-byte
 * entry, bit 63 "present"; the kernel shows frames to CAP_SYS_ADMIN only)
 * every page of the first process's regions is looked up in both. Without
 * frames the answer is by mapping: the same file at the same offset and
 * address is shared through the page cache.
 */
#include "inspect.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CMP_PAGE    4096u
#define CMP_CHUNK   512u
#define CMP_MAX_LEN (1ull << 30) /* regions larger than this are skipped */
#define CMP_PRESENT (1ull << 63)
#define CMP_PFN     ((1ull << 55) - 1)

/* Read n pagemap entries of fd for the pages from addr on; 0s past EOF. */
static int cmp_entries(int fd, uint64_t addr, uint64_t *e, size_t n)
{
	ssize_t k = pread(fd, e, n * 8, (off_t)(addr / CMP_PAGE * 8));

	if (k < 0)
		return -1;
	memset((char *)e + k, 0, n * 8 - (size_t)k);
	return 0;
}

static int cmp_open(pid_t pid, int *fd)
{
	char file[64];

	snprintf(file, sizeof(file), "/proc/%d/pagemap", (int)pid);
	*fd = open(file, O_RDONLY | O_CLOEXEC);
	return *fd < 0 ? -1 : 0;
}

/* Count same and different frames over one region by pagemap. */
static int cmp_frames(struct ipcx__cmp_row *row, int fd1, int fd2)
{
	uint64_t a[CMP_CHUNK], b[CMP_CHUNK], addr;
	size_t i, n;

	for (addr = row->r.start; addr < row->r.end; addr += n * CMP_PAGE) {
		n = (size_t)((row->r.end - addr) / CMP_PAGE);
		if (n > CMP_CHUNK)
			n = CMP_CHUNK;
		if (n == 0)
			break;
		if (cmp_entries(fd1, addr, a, n) != 0 ||
		    cmp_entries(fd2, addr, b, n) != 0)
			return -1;
		for (i = 0; i < n; i++) {
			uint64_t pa = a[i] & CMP_PFN, pb = b[i] & CMP_PFN;
			uint64_t at = addr + i * CMP_PAGE;
			if (!(a[i] & CMP_PRESENT) || !(b[i] & CMP_PRESENT) ||
			    pa == 0 || pb == 0)
				continue;
			if (pa == pb) {
				row->same++;
				if (row->first_same == 0)
					row->first_same = at;
			} else {
				row->diff++;
				if (row->first_diff == 0)
					row->first_diff = at;
			}
		}
	}
	return 0;
}

/* Does pagemap show frame numbers to us? Look at a resident page. */
static bool cmp_have_frames(int fd, const struct ipcx__maps *m)
{
	uint64_t e[CMP_CHUNK];
	size_t i, k, n;

	for (i = 0; i < m->n; i++) {
		const struct ipcx__region *r = &m->r[i];
		if (r->rss_kb == 0 || r->end - r->start > CMP_MAX_LEN)
			continue;
		n = (size_t)((r->end - r->start) / CMP_PAGE);
		if (n > CMP_CHUNK)
			n = CMP_CHUNK;
		if (cmp_entries(fd, r->start, e, n) != 0)
			return false;
		for (k = 0; k < n; k++)
			if (e[k] & CMP_PRESENT)
				return (e[k] & CMP_PFN) != 0;
	}
	return false;
}

/* Without frames: the same file and offset at the same address. */
static void cmp_files(struct ipcx__cmp_row *row, const struct ipcx__maps *m2)
{
	long j = ipcx__maps_find(m2, row->r.start);
	const struct ipcx__region *o;

	if (j < 0 || row->r.path[0] != '/' || row->r.inode == 0)
		return;
	o = &m2->r[j];
	if (o->start == row->r.start && o->inode == row->r.inode &&
	    o->offset == row->r.offset && strcmp(o->path, row->r.path) == 0 &&
	    row->r.perms[1] != 'w') {
		/* Read-only file pages come from the one page cache. */
		uint64_t end = o->end < row->r.end ? o->end : row->r.end;
		row->same = (end - row->r.start) / CMP_PAGE;
		row->first_same = row->r.start;
	}
}

int ipcx__maps_compare(pid_t pid1, pid_t pid2, struct ipcx__maps_cmp *c)
{
	struct ipcx__maps m1, m2;
	int fd1 = -1, fd2 = -1, r;
	size_t i;

	memset(c, 0, sizeof(*c));
	r = ipcx__maps_read(pid1, &m1);
	if (r != 0)
		return r;
	r = ipcx__maps_read(pid2, &m2);
	if (r != 0) {
		ipcx__maps_free(&m1);
		return r;
	}
	c->pid1 = m1.pid;
	c->pid2 = m2.pid;
	c->rows = calloc(m1.n ? m1.n : 1, sizeof(*c->rows));
	if (c->rows == NULL) {
		r = ipcx__err(IPCX_ENOMEM, "compare: out of memory");
		goto out;
	}
	c->how = IPCX__CMP_FILES;
	if (cmp_open(m1.pid, &fd1) == 0 && cmp_open(m2.pid, &fd2) == 0 &&
	    cmp_have_frames(fd1, &m1))
		c->how = IPCX__CMP_FRAMES;
	for (i = 0; i < m1.n; i++) {
		struct ipcx__cmp_row *row = &c->rows[c->n++];
		/* The row takes over the region and its path. */
		row->r = m1.r[i];
		m1.r[i].path = NULL;
		if (row->r.end - row->r.start > CMP_MAX_LEN)
			row->skipped = true;
		else if (c->how == IPCX__CMP_FILES)
			cmp_files(row, &m2);
		else if (cmp_frames(row, fd1, fd2) != 0) {
			r = ipcx__errno(errno, "/proc/%d/pagemap", (int)m1.pid);
			goto out;
		}
		c->same += row->same;
		c->diff += row->diff;
	}
out:
	if (fd1 >= 0)
		close(fd1);
	if (fd2 >= 0)
		close(fd2);
	ipcx__maps_free(&m1);
	ipcx__maps_free(&m2);
	if (r != 0)
		ipcx__maps_cmp_free(c);
	return r;
}

void ipcx__maps_cmp_free(struct ipcx__maps_cmp *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++)
		free(c->rows[i].r.path);
	free(c->rows);
	c->rows = NULL;
	c->n = 0;
}
