/*
 * test-pollset.c - the pollable fd over user-space buffers
 * (src/core/pollset.c): the eventfd is readable exactly while armed, a
 * watched fd reports its tag until removed, closing returns every fd.
 */
#include "ipcx.h"
#include "stream.h"
#include "t.h"

#include <stdbool.h>
#include <sys/epoll.h>
#include <unistd.h>

static char tag_ev, tag_pipe;

/* The one tag epoll reports now, or NULL if nothing is ready. */
static void *ready_tag(struct ipcx__pollset *ps)
{
	struct epoll_event ev[2];
	int n = epoll_wait(ps->epfd, ev, 2, 0);

	T_ASSERT(n >= 0 && n <= 1);
	return n ? ev[0].data.ptr : NULL;
}

static void test_empty(void)
{
	struct ipcx__pollset ps;

	ipcx__ps_reset(&ps);
	T_ASSERT(ps.epfd == -1 && ps.evfd == -1 && !ps.armed);
	ipcx__ps_arm(&ps, true); /* no eventfd yet: a no-op */
	T_ASSERT(!ps.armed);
	ipcx__ps_del(&ps, 0); /* no epoll fd: a no-op */
	ipcx__ps_close(&ps);
	ipcx__ps_close(&ps);
	T_ASSERT(ps.epfd == -1 && ps.evfd == -1);
}

static void test_arm(void)
{
	struct ipcx__pollset ps;

	ipcx__ps_reset(&ps);
	T_OK(ipcx__ps_open(&ps, false, NULL, "t"));
	T_ASSERT(ps.epfd >= 0 && ps.evfd == -1);
	ipcx__ps_arm(&ps, true); /* still no eventfd */
	T_ASSERT(!ps.armed);
	T_OK(ipcx__ps_open(&ps, true, &tag_ev, "t"));
	T_ASSERT(ps.evfd >= 0);
	T_ASSERT(!t_poll_in(ps.epfd, 0));
	ipcx__ps_arm(&ps, true);
	ipcx__ps_arm(&ps, true); /* twice: one write only */
	T_ASSERT(t_poll_in(ps.epfd, 0) && ready_tag(&ps) == &tag_ev);
	ipcx__ps_arm(&ps, false);
	T_ASSERT(!t_poll_in(ps.epfd, 0));
	ipcx__ps_arm(&ps, false);
	T_ASSERT(!ps.armed);
	/* Opening again keeps what is there. */
	{
		int ep = ps.epfd, ev = ps.evfd;
		T_OK(ipcx__ps_open(&ps, true, &tag_ev, "t"));
		T_ASSERT(ps.epfd == ep && ps.evfd == ev);
	}
	ipcx__ps_close(&ps);
}

static void test_add_del(void)
{
	struct ipcx__pollset ps;
	int p[2];

	T_ASSERT(pipe(p) == 0);
	ipcx__ps_reset(&ps);
	T_OK(ipcx__ps_open(&ps, true, &tag_ev, "t"));
	T_OK(ipcx__ps_add(&ps, p[0], &tag_pipe, "t"));
	T_ASSERT(ready_tag(&ps) == NULL);
	t_write_all(p[1], "x", 1);
	T_ASSERT(ready_tag(&ps) == &tag_pipe);
	/* The same fd twice is refused with a message. */
	T_ASSERT(ipcx__ps_add(&ps, p[0], &tag_pipe, "t") < 0);
	ipcx__ps_del(&ps, p[0]);
	T_ASSERT(ready_tag(&ps) == NULL);
	ipcx__ps_del(&ps, -1); /* a no-op */
	ipcx__ps_close(&ps);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	t_leak_begin();
	test_empty();
	test_arm();
	test_add_del();
	t_leak_end();
	return T_EXIT_PASS;
}
