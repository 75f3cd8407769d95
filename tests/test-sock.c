/*
 * test-sock.c - the socket channel ops (src/core/sock.c): a listening
 * channel goes to its fan-in, a dialled one to its solo, for send, recv and
 * fd; the reset state closes cleanly.
 */
#include "ipcx.h"
#include "stream.h"
#include "t.h"

#include <string.h>
#include <unistd.h>

static struct ipcx__ep ep;
static ipcx_chan ch;

static void setup(struct ipcx__sock *s)
{
	ipcx__ep_defaults(&ep, IPCX__S_UNIX);
	memset(&ch, 0, sizeof(ch));
	ipcx__sock_reset(s);
	ch.priv = s;
}

static void test_reset(void)
{
	struct ipcx__sock s;

	setup(&s);
	T_ASSERT(s.fan.lfd == -1 && s.solo.st.fd == -1);
	ipcx__sock_fini(&s);
	ipcx__sock_fini(&s);
}

static void test_listening(void)
{
	const char *name = t_name("sock");
	struct ipcx__sock s;
	char buf[16];
	int c, fd;

	setup(&s);
	s.listening = true;
	T_OK(ipcx__fanin_init(&s.fan, t_abstract_listen(name), &ep, "l", NULL));
	c = t_abstract_connect(name);
	t_write_all(c, "\0\0\0\2hi", 6);
	T_EXPECT(ipcx__sock_recv(&ch, buf, sizeof(buf), ipcx__deadline(1000)),
	         2);
	T_ASSERT(memcmp(buf, "hi", 2) == 0);
	T_OK(ipcx__sock_send(&ch, "r", 1, ipcx__deadline(1000)));
	T_EXPECT(read(c, buf, sizeof(buf)), 5);
	T_ASSERT(memcmp(buf, "\0\0\0\1r", 5) == 0);
	fd = ipcx__sock_fd(&ch);
	T_ASSERT(fd >= 0 && fd == s.fan.ps.epfd);
	T_ASSERT(s.solo.ps.epfd == -1); /* the other half stays untouched */
	ipcx__sock_fini(&s);
	close(c);
}

static void test_dialled(void)
{
	struct ipcx__sock s;
	char buf[16];
	int sv[2], fd;

	setup(&s);
	t_socketpair(sv);
	ipcx__solo_init(&s.solo, sv[0], IPCX__ST_SOCK, &ep, "d");
	T_OK(ipcx__sock_send(&ch, "ab", 2, ipcx__deadline(1000)));
	T_EXPECT(read(sv[1], buf, sizeof(buf)), 6);
	T_ASSERT(memcmp(buf, "\0\0\0\2ab", 6) == 0);
	t_write_all(sv[1], "\0\0\0\1z", 5);
	T_EXPECT(ipcx__sock_recv(&ch, buf, sizeof(buf), ipcx__deadline(1000)),
	         1);
	T_ASSERT(buf[0] == 'z');
	fd = ipcx__sock_fd(&ch);
	T_ASSERT(fd >= 0 && fd == s.solo.ps.epfd);
	T_ASSERT(s.fan.ps.epfd == -1);
	ipcx__sock_fini(&s);
	close(sv[1]);
}

int main(void)
{
	t_leak_begin();
	test_reset();
	test_listening();
	test_dialled();
	t_leak_end();
	return T_EXIT_PASS;
}
