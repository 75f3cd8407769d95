/*
 * test-bus.c - SIGBUS recovery (src/ring/bus.c): a fault on a truncated
 * shared mapping inside a guard jumps back to it, again and again; a
 * fault outside every guard still kills the process with SIGBUS, as it
 * would without the handler.
 */
#include "t.h"

#include "../src/ring/bus.h"

#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile unsigned char *map;
static int fd;

static int touch_unguarded(void *arg)
{
	struct rlimit no_core = {0, 0};

	(void)arg;
	setrlimit(RLIMIT_CORE, &no_core); /* no core file from the test */
	T_OK(ipcx__bus_init());
	(void)map[4096]; /* past the end of the file: dies of SIGBUS */
	return 0;        /* survived: wrong */
}

int main(void)
{
	char path[200];
	struct ipcx__bus_guard g;
	volatile int jumps = 0;
	int st;

	snprintf(path, sizeof(path), "/%s", t_name("bus"));
	fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	T_ASSERT(fd >= 0 && ftruncate(fd, 8192) == 0);
	map = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	T_ASSERT(map != MAP_FAILED);
	map[4096] = 1;
	T_ASSERT(ftruncate(fd, 4096) == 0); /* the second page is gone */
	T_OK(ipcx__bus_init());
	for (int i = 0; i < 3; i++) {
		ipcx__bus_push(&g, (const void *)map, 8192);
		if (sigsetjmp(g.jb, 0) == 0) {
			map[0] = 2;    /* still there */
			map[4096] = 3; /* gone: SIGBUS, back to sigsetjmp */
			T_ASSERT(0);
		}
		jumps++;
		ipcx__bus_pop(&g);
	}
	T_EXPECT(jumps, 3);
	T_EXPECT(map[0], 2);
	/* Outside a guard: what the handler before ours does (the default
	 * action: death by SIGBUS; under a sanitizer, its report and exit). */
	st = t_waitpid(t_fork(touch_unguarded, NULL), 10000);
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	T_ASSERT(!WIFEXITED(st) || WEXITSTATUS(st) != 0);
#else
	T_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGBUS);
#endif
	munmap((void *)map, 8192);
	close(fd);
	shm_unlink(path);
	return T_EXIT_PASS;
}
