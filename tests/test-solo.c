/*
 * test-solo.c - one stream as a channel (src/core/solo.c): the pollable fd
 * stays readable while a frame is buffered, follows a swapped fd, and the
 * connection is closed at once after a bad frame.
 */
#include "ipcx.h"
#include "stream.h"
#include "t.h"

#include <string.h>
#include <unistd.h>

static struct ipcx__ep ep;
static ipcx_chan ch;

static void reset_ep(void)
{
	ipcx__ep_defaults(&ep, IPCX__S_UNIX);
	memset(&ch, 0, sizeof(ch));
}

static void test_solo_pollset(void)
{
	struct ipcx__solo so;
	char buf[8];
	int sv[2], fd, nfd;

	reset_ep();
	t_socketpair(sv);
	ipcx__solo_init(&so, sv[0], IPCX__ST_SOCK, &ep, "solo");
	fd = ipcx__solo_fd(&so);
	T_ASSERT(fd >= 0 && !t_poll_in(fd, 0));
	t_write_all(sv[1], "\0\0\0\1a\0\0\0\1b", 10);
	T_ASSERT(t_poll_in(fd, 0));
	T_EXPECT(ipcx__solo_recv(&so, buf, sizeof(buf), &ch, 0), 1);
	T_ASSERT(t_poll_in(fd, 0)); /* "b" is buffered */
	T_EXPECT(ipcx__solo_recv(&so, buf, sizeof(buf), &ch, 0), 1);
	T_ASSERT(!t_poll_in(fd, 0));
	/* Swapping the fd keeps the pollable fd working. */
	close(sv[1]);
	t_socketpair(sv);
	nfd = dup(sv[0]);
	close(sv[0]);
	ipcx__solo_swap_fd(&so, nfd);
	T_ASSERT(!t_poll_in(fd, 0));
	t_write_all(sv[1], "\0\0\0\1c", 5);
	T_ASSERT(t_poll_in(fd, 0));
	T_EXPECT(ipcx__solo_recv(&so, buf, sizeof(buf), &ch, 0), 1);
	T_ASSERT(buf[0] == 'c');
	ipcx__solo_fini(&so);
	close(sv[1]);
}

/* An oversized header: the solo closes its fd at once (FORMAT.md). */
static void test_solo_reap(void)
{
	struct ipcx__solo so;
	char buf[8];
	int sv[2], fd;

	reset_ep();
	ep.maxmsg = 16;
	t_socketpair(sv);
	ipcx__solo_init(&so, sv[0], IPCX__ST_SOCK, &ep, "solo");
	fd = ipcx__solo_fd(&so);
	T_ASSERT(fd >= 0);
	t_write_all(sv[1], "\0\0\1\0", 4); /* 256 > 16 */
	T_EXPECT(ipcx__solo_recv(&so, buf, sizeof(buf), &ch, 1000),
	         IPCX_EMSGSIZE);
	T_ASSERT(so.st.fd == -1);
	/* The pollable fd says "go and see": a receive fails at once. */
	T_ASSERT(t_poll_in(fd, 0));
	T_EXPECT(ipcx__solo_recv(&so, buf, sizeof(buf), &ch, 0), IPCX_ESTATE);
	/* The peer sees the connection closed. */
	T_ASSERT(read(sv[1], buf, sizeof(buf)) == 0);
	ipcx__solo_fini(&so);
	close(sv[1]);
}

int main(void)
{
	t_leak_begin();
	test_solo_pollset();
	test_solo_reap();
	t_leak_end();
	return T_EXIT_PASS;
}
