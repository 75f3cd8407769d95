/*
 * pollset.c - the pollable fd of a channel whose messages may sit in a
 * user-space buffer: an epoll fd over the real fds plus an eventfd kept
 * readable while a whole frame waits buffered, so poll() never misses one.
 */
#include "stream.h"

#include <errno.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* See stream.h. */
void ipcx__ps_reset(struct ipcx__pollset *ps)
{
	ps->epfd = -1;
	ps->evfd = -1;
	ps->armed = false;
}

/* See stream.h. Closes both fds. */
void ipcx__ps_close(struct ipcx__pollset *ps)
{
	if (ps->evfd >= 0)
		close(ps->evfd);
	if (ps->epfd >= 0)
		close(ps->epfd);
	ipcx__ps_reset(ps);
}

/* See stream.h. */
int ipcx__ps_add(struct ipcx__pollset *ps, int fd, void *tag, const char *name)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = tag};

	if (epoll_ctl(ps->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return ipcx__errno(errno, "%s: epoll_ctl", name);
	return 0;
}

/* See stream.h. */
void ipcx__ps_del(struct ipcx__pollset *ps, int fd)
{
	if (ps->epfd >= 0 && fd >= 0)
		epoll_ctl(ps->epfd, EPOLL_CTL_DEL, fd, NULL);
}

/* See stream.h. */
int ipcx__ps_open(struct ipcx__pollset *ps, bool want_ev, void *evtag,
                  const char *name)
{
	if (ps->epfd < 0) {
		ps->epfd = epoll_create1(EPOLL_CLOEXEC);
		if (ps->epfd < 0)
			return ipcx__errno(errno, "%s: epoll_create1", name);
	}
	if (want_ev && ps->evfd < 0) {
		int r;
		ps->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (ps->evfd < 0)
			return ipcx__errno(errno, "%s: eventfd", name);
		r = ipcx__ps_add(ps, ps->evfd, evtag, name);
		if (r < 0) {
			close(ps->evfd);
			ps->evfd = -1;
			return r;
		}
		ps->armed = false;
	}
	return 0;
}

/*
 * Keep the eventfd readable exactly while a whole frame waits in a read
 * buffer, where poll() on the real fd cannot see it. Costs a system call
 * only when that changes, and nothing until someone asked for the fd.
 */
void ipcx__ps_arm(struct ipcx__pollset *ps, bool on)
{
	uint64_t v = 1;

	if (ps->evfd < 0 || ps->armed == on)
		return;
	if (on) {
		if (write(ps->evfd, &v, sizeof(v)) < 0)
			return;
	} else {
		if (read(ps->evfd, &v, sizeof(v)) < 0)
			return;
	}
	ps->armed = on;
}
