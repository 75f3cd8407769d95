/*
 * test-udp.c - udp:// (src/transport/udp.c).
 *
 * Round trips with a reply to the last source, datagram boundaries, sizes
 * 0/1/65507/65508, ENOBUFS leaving the datagram queued, timeouts, a port
 * nobody receives on (ICMP -> IPCX_EPEER), a busy port, a bound channel
 * sending before it received, [::1], the fd.
 */
#include "ipcx.h"
#include "t.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static char ep[128];

/* A UDP port that was free a moment ago. */
static void test_roundtrip(void)
{
	ipcx_chan *r, *s, *s2, *r2;
	char buf[64];

	T_OK(ipcx_open(ep, IPCX_RECV | IPCX_SEND | IPCX_CREATE, &r));
	T_EXPECT(ipcx_open(ep, IPCX_RECV | IPCX_CREATE, &r2), IPCX_EEXIST);
	T_EXPECT(ipcx_send(r, "x", 1, 0), IPCX_ESTATE);
	T_OK(ipcx_open(ep, IPCX_SEND | IPCX_RECV, &s));
	T_OK(ipcx_open(ep, IPCX_SEND | IPCX_RECV, &s2));
	T_OK(ipcx_send(s, "ping", 4, 1000));
	T_EXPECT(ipcx_recv(r, buf, sizeof(buf), 1000), 4);
	T_ASSERT(memcmp(buf, "ping", 4) == 0);
	T_OK(ipcx_send(r, "pong", 4, 1000));
	T_EXPECT(ipcx_recv(s, buf, sizeof(buf), 1000), 4);
	T_ASSERT(memcmp(buf, "pong", 4) == 0);
	/* The reply goes to the last source only. */
	T_OK(ipcx_send(s2, "ping2", 5, 1000));
	T_EXPECT(ipcx_recv(r, buf, sizeof(buf), 1000), 5);
	T_OK(ipcx_send(r, "pong2", 5, 1000));
	T_EXPECT(ipcx_recv(s2, buf, sizeof(buf), 1000), 5);
	T_EXPECT(ipcx_recv(s, buf, sizeof(buf), 0), IPCX_ETIMEDOUT);
	T_ASSERT(ipcx_fd(r) >= 0);
	T_OK(ipcx_close(s2));
	T_OK(ipcx_close(s));
	T_OK(ipcx_close(r));
}

static void test_boundaries_sizes_enobufs(void)
{
	static uint8_t msg[65600], buf[65600];
	ipcx_chan *r, *s;
	int sz = 4 << 20;

	T_OK(ipcx_open(ep, IPCX_RECV | IPCX_CREATE, &r));
	T_OK(ipcx_open(ep, IPCX_SEND, &s));
	/* Room for everything below in the receive queue. */
	setsockopt(ipcx_fd(r), SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	for (unsigned i = 0; i < 50; i++) {
		t_fill(msg, i, i);
		T_OK(ipcx_send(s, msg, i, 1000));
	}
	for (unsigned i = 0; i < 50; i++) {
		T_EXPECT(ipcx_recv(r, buf, sizeof(buf), 1000), i);
		T_ASSERT(t_same(buf, i, i));
	}
	t_fill(msg, sizeof(msg), 3);
	T_OK(ipcx_send(s, msg, 1, 1000));
	T_OK(ipcx_send(s, msg, 65507, 1000));
	T_EXPECT(ipcx_send(s, msg, 65508, 1000), IPCX_EMSGSIZE);
	T_ASSERT(strstr(ipcx_errmsg(), "65507") != NULL);
	T_EXPECT(ipcx_recv(r, buf, sizeof(buf), 1000), 1);
	/* Too small: the datagram stays queued, then comes whole. */
	T_EXPECT(ipcx_recv(r, buf, 100, 1000), IPCX_ENOBUFS);
	T_EXPECT(ipcx_pending(r), 65507);
	T_EXPECT(ipcx_recv(r, buf, 65507, 1000), 65507);
	T_ASSERT(t_same(buf, 65507, 3));
	T_EXPECT(ipcx_recv(r, buf, sizeof(buf), 0), IPCX_ETIMEDOUT);
	/* Zero-length datagrams are messages too. */
	T_OK(ipcx_send(s, NULL, 0, 1000));
	T_EXPECT(ipcx_recv(r, NULL, 0, 1000), 0);
	T_OK(ipcx_close(s));
	T_OK(ipcx_close(r));
}

static void test_timeouts_and_refused(void)
{
	ipcx_chan *r, *s;
	char buf[16];
	long long t0;
	int rc = 0;

	T_OK(ipcx_open(ep, IPCX_RECV | IPCX_CREATE, &r));
	T_EXPECT(ipcx_recv(r, buf, sizeof(buf), 0), IPCX_ETIMEDOUT);
	t0 = t_now_ms();
	T_EXPECT(ipcx_recv(r, buf, sizeof(buf), 50), IPCX_ETIMEDOUT);
	T_ASSERT(t_now_ms() - t0 >= 45);
	T_OK(ipcx_close(r));

	/* Nobody receives: the ICMP refusal comes back as IPCX_EPEER on a
	 * later call (loopback answers at once). */
	T_OK(ipcx_open(ep, IPCX_SEND | IPCX_RECV, &s));
	T_OK(ipcx_send(s, "lost", 4, 1000));
	rc = (int)ipcx_recv(s, buf, sizeof(buf), 1000);
	if (rc != IPCX_EPEER)
		rc = ipcx_send(s, "lost", 4, 1000);
	T_EXPECT(rc, IPCX_EPEER);
	T_ASSERT(strstr(ipcx_errmsg(), "nobody is receiving") != NULL);
	T_OK(ipcx_close(s));
}

static void test_ipv6(void)
{
	unsigned p6 = t_free_port(AF_INET6, SOCK_DGRAM);
	static uint8_t msg[65600];
	ipcx_chan *r, *s;
	char ep6[128], buf[16];

	if (!p6) {
		fprintf(stderr, "skip [::1]: no IPv6 loopback\n");
		return;
	}
	snprintf(ep6, sizeof(ep6), "udp://[::1]:%u", p6);
	T_OK(ipcx_open(ep6, IPCX_RECV | IPCX_SEND | IPCX_CREATE, &r));
	T_OK(ipcx_open(ep6, IPCX_SEND | IPCX_RECV, &s));
	T_OK(ipcx_send(s, "six", 3, 1000));
	T_EXPECT(ipcx_recv(r, buf, sizeof(buf), 1000), 3);
	T_EXPECT(ipcx_send(s, msg, 65528, 1000), IPCX_EMSGSIZE);
	T_ASSERT(strstr(ipcx_errmsg(), "65527") != NULL);
	T_OK(ipcx_close(s));
	T_OK(ipcx_close(r));
}

int main(void)
{
	unsigned port = t_free_port(AF_INET, SOCK_DGRAM);

	if (!port) {
		fprintf(stderr, "no IPv4 loopback\n");
		return T_EXIT_SKIP;
	}
	snprintf(ep, sizeof(ep), "udp://127.0.0.1:%u", port);
	t_leak_begin();
	test_roundtrip();
	test_boundaries_sizes_enobufs();
	test_timeouts_and_refused();
	test_ipv6();
	t_leak_end();
	return T_EXIT_PASS;
}
