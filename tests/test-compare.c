/*
 * test-compare.c - two address spaces side by side (src/inspect/
 * compare.c): a parent and its forked child share the physical page of a
 * private mapping until one of them writes to it (copy on write); then
 * the same virtual address holds two different pages. Without page frame
 * numbers (not root) the check is by mapping: the executable's text is
 * shared through the same file.
 */
#include "t.h"

#include "ipcx.h"
#include "../../src/inspect/inspect.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static char *page;

/* The row of c that holds addr. */
static const struct ipcx__cmp_row *row_at(const struct ipcx__maps_cmp *c,
                                          uintptr_t addr)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (addr >= c->rows[i].r.start && addr < c->rows[i].r.end)
			return &c->rows[i];
	return NULL;
}

/* The child: waits, writes its copy of the page, waits again. */
static struct t_sync sync_;

static int child(void *arg)
{
	(void)arg;
	t_notify_parent(&sync_);
	t_wait_parent(&sync_);
	page[0] = 'c'; /* copy on write: the child gets its own frame */
	t_notify_parent(&sync_);
	t_wait_parent(&sync_);
	return 0;
}

int main(void)
{
	struct ipcx__maps_cmp c;
	const struct ipcx__cmp_row *w;
	pid_t pid;

	/* One page between two inaccessible ones: its own mapping, which
	 * the kernel cannot merge with a neighbour. */
	page =
	    mmap(NULL, 3 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	T_ASSERT(page != MAP_FAILED);
	page += 4096;
	T_ASSERT(mprotect(page, 4096, PROT_READ | PROT_WRITE) == 0);
	page[0] = 'p'; /* resident before the fork, so both map one frame */
	t_sync_init(&sync_);
	pid = t_fork(child, NULL);
	t_wait_child(&sync_);

	T_OK(ipcx__maps_compare(0, pid, &c));
	T_ASSERT(c.pid1 == getpid() && c.pid2 == pid);
	if (c.how == IPCX__CMP_FILES) {
		/* No frames for us: only file-backed sharing is known. */
		w = row_at(&c, (uintptr_t)&main);
		T_ASSERT(w != NULL && w->same > 0);
		ipcx__maps_cmp_free(&c);
		t_notify_child(&sync_);
		t_wait_child(&sync_);
		t_notify_child(&sync_);
		t_child_ok(pid);
		fprintf(stderr, "no page frames in pagemap (not root): "
		                "compared by mapping only\n");
		return T_EXIT_SKIP;
	}
	w = row_at(&c, (uintptr_t)page);
	T_ASSERT(w != NULL && w->same == 1 && w->diff == 0);
	T_ASSERT(w->first_same == (uintptr_t)page);
	T_ASSERT(c.same >= 1);
	ipcx__maps_cmp_free(&c);

	t_notify_child(&sync_);
	t_wait_child(&sync_);
	T_OK(ipcx__maps_compare(0, pid, &c));
	w = row_at(&c, (uintptr_t)page);
	T_ASSERT(w != NULL && w->same == 0 && w->diff == 1);
	T_ASSERT(w->first_diff == (uintptr_t)page);
	/* The text is still one copy for both. */
	w = row_at(&c, (uintptr_t)&main);
	T_ASSERT(w != NULL && w->same > 0);
	ipcx__maps_cmp_free(&c);

	t_notify_child(&sync_);
	t_child_ok(pid);
	t_sync_close(&sync_);
	munmap(page - 4096, 3 * 4096);
	T_EXPECT(ipcx__maps_compare(0, 0x7ffffff0, &c), IPCX_ENOENT);
	return T_EXIT_PASS;
}
