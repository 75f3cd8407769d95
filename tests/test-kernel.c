/*
 * test-kernel.c - the kernel row and the markers (src/inspect/kernel.c):
 * the /proc/PID/stat field parser on names with spaces and parentheses
 * and on truncated lines; for a forked child blocked in read(), brk at the
 * end of its heap and (where the kernel shows it: /proc/PID/syscall) its
 * stack pointer inside its stack; kernel space where the paging mode puts
 * it; one 16 KiB kernel stack per thread.
 */
#include "t.h"

#include "ipcx.h"
#include "../../src/inspect/inspect.h"

#include <string.h>
#include <unistd.h>

static void stat_fields(void)
{
	const char *s = "123 (a) b) (c) S 1 2 3 4 5 -6 7\n";
	uint64_t f[52];
	int n;

	n = ipcx__proc_stat_fields(s, strlen(s), f, 52);
	T_ASSERT(n == 10);
	T_ASSERT(f[2] == 'S' && f[3] == 1 && f[7] == 5);
	T_ASSERT(f[8] == (uint64_t)-6 && f[9] == 7 && f[10] == 0);
	T_EXPECT(ipcx__proc_stat_fields("123 (x S 1", 10, f, 52),
	         IPCX_ECORRUPT);
	n = ipcx__proc_stat_fields("1 (x)", 5, f, 52);
	T_ASSERT(n == 2 && f[2] == 0);
}

static struct t_sync sync_;

static int child(void *arg)
{
	(void)arg;
	T_ASSERT(sbrk(8192) != (void *)-1); /* a heap for sure */
	t_notify_parent(&sync_);
	t_wait_parent(&sync_); /* blocked in read(): syscall shows sp */
	return 0;
}

int main(void)
{
	struct ipcx__maps m;
	pid_t pid;
	long h, s;

	stat_fields();
	t_sync_init(&sync_);
	pid = t_fork(child, NULL);
	t_wait_child(&sync_);
	T_OK(ipcx__maps_read(pid, &m));
	T_ASSERT(!m.self && m.pid == pid);
	h = -1;
	for (s = 0; s < (long)m.n; s++)
		if (m.r[s].kind == IPCX__K_HEAP)
			h = s;
	T_ASSERT(h >= 0 && m.brk == m.r[h].end && !m.brk_exact);
	T_ASSERT(m.start_brk == m.r[h].start);
	if (m.sp_src == IPCX__SP_NONE) {
		fprintf(stderr, "sp not exposed: %s\n", m.sp_note);
		T_ASSERT(m.sp_note[0] != '\0');
	} else {
		s = ipcx__maps_find(&m, m.sp);
		T_ASSERT(s >= 0 && m.r[s].kind == IPCX__K_STACK);
	}
	T_ASSERT(m.kernel.levels == 4 || m.kernel.levels == 5);
	T_ASSERT(m.kernel.start == (m.kernel.levels == 4
	                                ? 0xffff800000000000ull
	                                : 0xff00000000000000ull));
	T_ASSERT(m.kernel.threads >= 1 && m.kernel.kstack_kb == 16);
	T_ASSERT(m.kernel.user_top > m.r[m.n - 1].end ||
	         m.r[m.n - 1].start >= m.kernel.start);
	ipcx__maps_free(&m);
	t_notify_child(&sync_);
	t_child_ok(pid);
	t_sync_close(&sync_);
	return T_EXIT_PASS;
}
