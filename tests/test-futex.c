/*
 * test-futex.c - the futex helpers (src/core/futex.c): a wait on a word
 * that changed returns at once, a wait on an unchanged word ends at its
 * deadline (never before), and a wake reaches a sleeper in another
 * process through a shared mapping.
 */
#include "t.h"

#include "../src/core/futex.h"

#include <sys/mman.h>
#include <unistd.h>

static int sleeper(void *arg)
{
	_Atomic uint32_t *w = arg;

	atomic_store(&w[1], 1); /* about to sleep */
	while (atomic_load(&w[0]) == 0)
		ipcx__futex_wait(&w[0], 0, ipcx__now_ns() + 10000000000);
	return atomic_load(&w[0]) == 7 ? 0 : 2;
}

int main(void)
{
	_Atomic uint32_t *w = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	                           MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int64_t t0;
	pid_t pid;

	T_ASSERT(w != MAP_FAILED);
	ipcx__cpu_relax();
	atomic_store(&w[0], 5);
	t0 = ipcx__now_ns();
	ipcx__futex_wait(&w[0], 4, -1);     /* changed: returns at once */
	ipcx__futex_wait(&w[0], 5, t0 - 1); /* deadline passed */
	ipcx__futex_wait(&w[0], 5, ipcx__now_ns() + 20000000);
	T_ASSERT(ipcx__now_ns() - t0 >= 20000000);
	atomic_store(&w[0], 0);
	pid = t_fork(sleeper, (void *)w);
	while (atomic_load(&w[1]) == 0)
		ipcx__cpu_relax();
	atomic_store(&w[0], 7);
	ipcx__futex_wake(&w[0]);
	T_EXPECT(t_waitpid(pid, 10000), 0);
	munmap((void *)w, 4096);
	return T_EXIT_PASS;
}
