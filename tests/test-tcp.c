/*
 * test-tcp.c - tcp:// (src/transport/tcp.c).
 *
 * Listener and dialer round trips with replies, fan-in, boundaries, sizes
 * 0/1/maxmsg/maxmsg+1, 1 MiB both ways across processes, ENOBUFS and
 * retry, timeouts, peers leaving on either side, a 0xFFFFFFFF header, a
 * sender dying mid-frame, refused connections, a busy port, localhost and
 * [::1], peer credentials unknown (-1).
 */
#include "ipcx.h"
#include "t.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char ep[128];
static unsigned port;

/* A port that was free a moment ago (the kernel picks it). */
static int raw_connect(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	T_ASSERT(fd >= 0);
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	T_ASSERT(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	return fd;
}

static void test_roundtrip(void)
{
	ipcx_chan *l, *d, *l2;
	struct ipcx_peer peer;
	char buf[64], ep2[128];

	T_EXPECT(ipcx_open(ep, IPCX_SEND, &d), IPCX_ENOPEER);
	T_ASSERT(strstr(ipcx_errmsg(), "start the receiver first") != NULL);
	T_OK(ipcx_open(ep, IPCX_RECV | IPCX_SEND | IPCX_CREATE, &l));
	T_EXPECT(ipcx_open(ep, IPCX_RECV | IPCX_CREATE, &l2), IPCX_EEXIST);
	T_EXPECT(ipcx_send(l, "x", 1, 0), IPCX_ESTATE);
	/* By name too: localhost resolves through /etc/hosts. */
	snprintf(ep2, sizeof(ep2), "tcp://localhost:%u", port);
	T_OK(ipcx_open(ep2, IPCX_SEND | IPCX_RECV, &d));
	T_OK(ipcx_send(d, "ping", 4, 1000));
	T_EXPECT(ipcx_recv(l, buf, sizeof(buf), 1000), 4);
	T_ASSERT(memcmp(buf, "ping", 4) == 0);
	T_OK(ipcx_peer(l, &peer));
	T_ASSERT(peer.pid == -1 && peer.uid == (uid_t)-1);
	T_OK(ipcx_send(l, "pong", 4, 1000));
	T_EXPECT(ipcx_recv(d, buf, sizeof(buf), 1000), 4);
	T_ASSERT(memcmp(buf, "pong", 4) == 0);
	T_OK(ipcx_close(d));
	T_OK(ipcx_close(l));
}

static void test_ipv6(void)
{
	unsigned p6 = t_free_port(AF_INET6, SOCK_STREAM);
	ipcx_chan *l, *d;
	char ep6[128], buf[16];

	if (!p6) {
		fprintf(stderr, "skip [::1]: no IPv6 loopback\n");
		return;
	}
	snprintf(ep6, sizeof(ep6), "tcp://[::1]:%u", p6);
	T_OK(ipcx_open(ep6, IPCX_RECV | IPCX_SEND | IPCX_CREATE, &l));
	T_OK(ipcx_open(ep6, IPCX_SEND | IPCX_RECV, &d));
	T_OK(ipcx_send(d, "six", 3, 1000));
	T_EXPECT(ipcx_recv(l, buf, sizeof(buf), 1000), 3);
	T_OK(ipcx_send(l, "ok", 2, 1000));
	T_EXPECT(ipcx_recv(d, buf, sizeof(buf), 1000), 2);
	T_OK(ipcx_close(d));
	T_OK(ipcx_close(l));
}

static void test_fanin_and_boundaries(void)
{
	ipcx_chan *l, *a, *b;
	uint8_t msg[256], buf[256];
	int cnt[2] = {0, 0};

	T_OK(ipcx_open(ep, IPCX_RECV | IPCX_SEND | IPCX_CREATE, &l));
	T_OK(ipcx_open(ep, IPCX_SEND | IPCX_RECV, &a));
	T_OK(ipcx_open(ep, IPCX_SEND | IPCX_RECV, &b));
	for (unsigned i = 0; i < 200; i++) {
		msg[0] = 0;
		t_fill(msg + 1, i, i);
		T_OK(ipcx_send(a, msg, i + 1, 1000));
		msg[0] = 1;
		t_fill(msg + 1, i, i + 1000);
		T_OK(ipcx_send(b, msg, i + 1, 1000));
	}
	for (int k = 0; k < 400; k++) {
		ssize_t n = ipcx_recv(l, buf, sizeof(buf), 1000);
		T_ASSERT(n >= 1 && buf[0] <= 1);
		T_ASSERT(n - 1 == cnt[buf[0]]);
		T_ASSERT(t_same(buf + 1, (size_t)n - 1,
		                (unsigned)(n - 1) + 1000u * buf[0]));
		cnt[buf[0]]++;
	}
	T_EXPECT(ipcx_recv(l, buf, sizeof(buf), 0), IPCX_ETIMEDOUT);
	T_OK(ipcx_send(a, "A", 1, 1000));
	T_EXPECT(ipcx_recv(l, buf, sizeof(buf), 1000), 1);
	T_OK(ipcx_send(l, "to a", 4, 1000));
	T_EXPECT(ipcx_recv(a, buf, sizeof(buf), 1000), 4);
	T_EXPECT(ipcx_recv(b, buf, sizeof(buf), 0), IPCX_ETIMEDOUT);
	T_OK(ipcx_close(a));
	T_EXPECT(ipcx_recv(l, buf, sizeof(buf), 30), IPCX_ETIMEDOUT);
	T_EXPECT(ipcx_send(l, "x", 1, 100), IPCX_EPEER);
	T_OK(ipcx_send(b, "B", 1, 1000));
	T_EXPECT(ipcx_recv(l, buf, sizeof(buf), 1000), 1);
	T_OK(ipcx_close(b));
	T_OK(ipcx_close(l));
}

static void test_sizes_and_enobufs(void)
{
	static uint8_t msg[2048], buf[2048];
	ipcx_chan *l, *d, *big;
	char ep2[160];

	snprintf(ep2, sizeof(ep2), "%s?maxmsg=1024", ep);
	T_OK(ipcx_open(ep2, IPCX_RECV | IPCX_SEND | IPCX_CREATE, &l));
	T_OK(ipcx_open(ep2, IPCX_SEND | IPCX_RECV, &d));
	t_fill(msg, sizeof(msg), 5);
	T_OK(ipcx_send(d, msg, 0, 1000));
	T_OK(ipcx_send(d, msg, 1, 1000));
	T_OK(ipcx_send(d, msg, 1024, 1000));
	T_EXPECT(ipcx_send(d, msg, 1025, 1000), IPCX_EMSGSIZE);
	T_ASSERT(strstr(ipcx_errmsg(), "maxmsg") != NULL);
	T_EXPECT(ipcx_recv(l, buf, sizeof(buf), 1000), 0);
	T_EXPECT(ipcx_recv(l, buf, sizeof(buf), 1000), 1);
	T_EXPECT(ipcx_recv(l, buf, 100, 1000), IPCX_ENOBUFS);
	T_EXPECT(ipcx_pending(l), 1024);
	T_EXPECT(ipcx_recv(l, buf, 1024, 1000), 1024);
	T_ASSERT(t_same(buf, 1024, 5));

	T_OK(ipcx_open(ep, IPCX_SEND | IPCX_RECV, &big));
	T_OK(ipcx_send(big, msg, 1025, 1000));
	T_EXPECT(ipcx_recv(l, buf, sizeof(buf), 1000), IPCX_EMSGSIZE);
	T_EXPECT(ipcx_recv(big, buf, sizeof(buf), 1000), IPCX_EPEER);
	T_OK(ipcx_send(d, "ok", 2, 1000));
	T_EXPECT(ipcx_recv(l, buf, sizeof(buf), 1000), 2);
	T_OK(ipcx_close(big));
	T_OK(ipcx_close(d));
	T_OK(ipcx_close(l));
}

static int big_child(void *arg)
{
	size_t n = 1u << 20;
	uint8_t *m = malloc(n);
	void *back = NULL;
	ipcx_chan *d;

	(void)arg;
	t_fill(m, n, 13);
	if (ipcx_open(ep, IPCX_SEND | IPCX_RECV, &d) < 0)
		return 2;
	if (ipcx_send(d, m, n, 10000) < 0)
		return 3;
	if (ipcx_recv_alloc(d, &back, 10000) != (ssize_t)n ||
	    !t_same(back, n, 13))
		return 4;
	free(back);
	free(m);
	ipcx_close(d);
	return 0;
}

static void test_1mib(void)
{
	ipcx_chan *l;
	void *m = NULL;
	pid_t pid;

	T_OK(ipcx_open(ep, IPCX_RECV | IPCX_SEND | IPCX_CREATE, &l));
	pid = t_fork(big_child, NULL);
	T_EXPECT(ipcx_recv_alloc(l, &m, 10000), 1 << 20);
	T_ASSERT(t_same(m, 1u << 20, 13));
	T_OK(ipcx_send(l, m, 1u << 20, 10000));
	free(m);
	t_child_ok(pid);
	T_OK(ipcx_close(l));
}

static void test_timeouts_and_peer_gone(void)
{
	ipcx_chan *l, *d;
	char buf[16];
	long long t0;

	signal(SIGPIPE, SIG_DFL);
	T_OK(ipcx_open(ep, IPCX_RECV | IPCX_SEND | IPCX_CREATE, &l));
	T_EXPECT(ipcx_recv(l, buf, sizeof(buf), 0), IPCX_ETIMEDOUT);
	t0 = t_now_ms();
	T_EXPECT(ipcx_recv(l, buf, sizeof(buf), 50), IPCX_ETIMEDOUT);
	T_ASSERT(t_now_ms() - t0 >= 45);
	T_OK(ipcx_open(ep, IPCX_SEND | IPCX_RECV, &d));
	T_EXPECT(ipcx_recv(d, buf, sizeof(buf), 0), IPCX_ETIMEDOUT);
	T_OK(ipcx_send(d, "hi", 2, 1000));
	T_EXPECT(ipcx_recv(l, buf, sizeof(buf), 1000), 2);
	T_OK(ipcx_close(l));
	T_EXPECT(ipcx_recv(d, buf, sizeof(buf), 1000), IPCX_EPEER);
	/* TCP may take one send to notice the reset; never SIGPIPE. */
	for (int i = 0; i < 100; i++)
		if (ipcx_send(d, "x", 1, 1000) == IPCX_EPEER)
			break;
	T_EXPECT(ipcx_send(d, "x", 1, 1000), IPCX_EPEER);
	T_OK(ipcx_close(d));
}

int main(void)
{
	port = t_free_port(AF_INET, SOCK_STREAM);
	if (!port) {
		fprintf(stderr, "no IPv4 loopback\n");
		return T_EXIT_SKIP;
	}
	snprintf(ep, sizeof(ep), "tcp://127.0.0.1:%u", port);
	t_leak_begin();
	test_roundtrip();
	test_ipv6();
	test_fanin_and_boundaries();
	test_sizes_and_enobufs();
	test_1mib();
	test_timeouts_and_peer_gone();
	t_hostile_and_torn(ep, raw_connect);
	t_leak_end();
	return T_EXIT_PASS;
}
