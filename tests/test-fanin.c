/*
 * test-fanin.c - the listener fan-in (src/core/fanin.c) over an abstract
 * unix socket: accepting with an admit hook, reply-to-last, a clean close
 * dropped silently, a torn frame reported, ENOBUFS retried on the same
 * connection, the pollable fd.
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

static int admitted;

static int admit_all(struct ipcx__fanin *f, struct ipcx__stream *c)
{
	(void)f;
	c->peer.pid = 4242;
	admitted++;
	return 0;
}

static void test_fanin(void)
{
	struct ipcx__fanin f;
	const char *name = t_name("fan");
	int lfd, c[3], fd;
	char buf[16];

	reset_ep();
	lfd = t_abstract_listen(name);
	T_OK(ipcx__fanin_init(&f, lfd, &ep, "fan", admit_all));
	T_EXPECT(ipcx__fanin_send(&f, "x", 1, 0), IPCX_ESTATE);
	for (int i = 0; i < 3; i++) {
		c[i] = t_abstract_connect(name);
	}
	fd = ipcx__fanin_fd(&f);
	T_ASSERT(t_poll_in(fd, 0));
	T_EXPECT(ipcx__fanin_recv(&f, buf, sizeof(buf), &ch, 0),
	         IPCX_ETIMEDOUT);
	T_ASSERT(admitted == 3 && f.nconn == 3);
	t_write_all(c[1], "\0\0\0\2c1", 6);
	T_EXPECT(ipcx__fanin_recv(&f, buf, sizeof(buf), &ch, 1000), 2);
	T_ASSERT(memcmp(buf, "c1", 2) == 0);
	T_ASSERT(ch.peer.pid == 4242);
	T_OK(ipcx__fanin_send(&f, "r", 1, 1000));
	T_EXPECT(read(c[1], buf, sizeof(buf)), 5);
	/* c0 closes cleanly: dropped without a word. */
	close(c[0]);
	T_EXPECT(ipcx__fanin_recv(&f, buf, sizeof(buf), &ch, 20),
	         IPCX_ETIMEDOUT);
	T_ASSERT(f.nconn == 2);
	/* c2 sends two frames and a half, then dies: two messages, then
	 * IPCX_EPEER for the torn one. */
	t_write_all(c[2], "\0\0\0\1a\0\0\0\1b\0\0\0\5ab", 17);
	close(c[2]);
	T_EXPECT(ipcx__fanin_recv(&f, buf, sizeof(buf), &ch, 1000), 1);
	T_ASSERT(t_poll_in(fd, 0));
	T_EXPECT(ipcx__fanin_recv(&f, buf, sizeof(buf), &ch, 1000), 1);
	T_ASSERT(buf[0] == 'b');
	T_EXPECT(ipcx__fanin_recv(&f, buf, sizeof(buf), &ch, 1000), IPCX_EPEER);
	T_ASSERT(f.nconn == 1);
	/* The last sender (c2) is gone: replying says so. */
	T_EXPECT(ipcx__fanin_send(&f, "x", 1, 0), IPCX_EPEER);
	/* ENOBUFS on c1: the retry gets exactly that message. */
	t_write_all(c[1], "\0\0\0\6abcdef", 10);
	T_EXPECT(ipcx__fanin_recv(&f, buf, 3, &ch, 1000), IPCX_ENOBUFS);
	T_ASSERT(ch.pending == 6);
	T_EXPECT(ipcx__fanin_recv(&f, buf, sizeof(buf), &ch, 1000), 6);
	ipcx__fanin_fini(&f);
	ipcx__fanin_fini(&f); /* twice is fine */
	close(c[1]);
}

int main(void)
{
	t_leak_begin();
	test_fanin();
	t_leak_end();
	return T_EXIT_PASS;
}
