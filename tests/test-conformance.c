/*
 * test-conformance.c - the same cases over every transport.
 *
 * The transport table below says, in one place, how each transport is
 * opened and where it legitimately differs from the others: how big a
 * message may be with the test's options, whether it keeps boundaries (a
 * raw pipe does not) or may lose messages (udp), what object it creates in
 * the file system, and what each side sees when its peer is gone. The
 * cases never test a transport's name: they test these properties.
 *
 * Two-process cases fork the peer and synchronise through t_sync pipes,
 * never sleep. Every wait has a timeout, and every case checks that it
 * leaked no fd and left no object behind.
 *
 * Usage: test-conformance [TRANSPORT [CASE]] to run a subset.
 */
#include "internal.h"
#include "t.h"

#include "../src/ring/ring.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <grp.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- the transport table ---- */

/* What a transport is and does. */
enum {
	C_PIPE = 1 << 0,   /* made by ipcx_pipe(), no endpoint */
	C_FRAMED = 1 << 1, /* keeps message boundaries (not raw bytes) */
	C_LOSSY = 1 << 2,  /* may drop messages it cannot queue (udp) */
	C_PORT = 1 << 3,   /* endpoint needs a free port (%d) */
	C_STREAM = 1 << 4, /* framed byte stream: receiver-side maxmsg */
	C_MODE = 1 << 5,   /* creates a file system object with ?mode= */
	C_SEP = 1 << 6,    /* both ends opened by name, options apart */
	C_CRED = 1 << 7,   /* SO_PEERCRED: ipcx_peer() and ?uid=/?gid= */
	C_OWNER = 1 << 8,  /* opening another uid's object needs trust=any */
	C_FANIN = 1 << 9,  /* several senders into one receiver */
	C_EVENT = 1 << 10, /* zero-byte events only (semaphores) */
	C_NOFD = 1 << 11,  /* no pollable fd: ipcx_fd() is IPCX_ENOTSUP */
	C_KEY = 1 << 12,   /* named by a System V key (0x...), not a name */
	C_VALUE = 1 << 13, /* a message is one 8-byte value (signal) */
	C_SELF = 1 << 14,  /* the name is this process's pid (signal) */
	C_STORE = 1 << 15, /* keeps messages for a receiver to come (a spool) */
};

/* What a survivor may see when its peer is gone (a mask). */
enum {
	G_EPEER = T_GONE_EPEER,     /* IPCX_EPEER */
	G_TIMEOUT = T_GONE_TIMEOUT, /* keeps waiting: IPCX_ETIMEDOUT */
	G_ACCEPTED =
	    T_GONE_ACCEPTED, /* sends keep succeeding (datagrams dropped) */
};

/* A bad endpoint: prefix + fill x 'a' + suffix, and the code it gives. */
struct bad {
	const char *prefix;
	int fill;
	const char *suffix;
	int code;
};

struct tp {
	const char *name;
	/*
	 * Endpoint prefix, followed by the case's unique name (a /tmp path,
	 * or a bare name if bare) or, with C_PORT, a free port. Options are
	 * appended after '?'. NULL for C_PIPE.
	 */
	const char *ep;
	int bare;
	const char *opts; /* options giving a small limit ("" for none) */
	size_t limit;     /* largest message with opts (0: ask the ring) */
	size_t depth;     /* most messages queued at once (0: no count) */
	unsigned caps;    /* C_* */
	const char *obj;  /* prefix + name: the object to stat; NULL: none */
	mode_t obj_type;  /* S_IFIFO, S_IFSOCK, S_IFREG */
	unsigned rx_gone; /* receiver, after its only sender exited */
	unsigned tx_gone; /* sender, after its receiver exited */
	struct bad bad[6];
};

#define LIMIT 4096

static struct tp tps[] = {
    {
        .name = "pipe",
        .opts = "maxmsg=4096",
        .limit = LIMIT,
        .caps = C_PIPE | C_FRAMED | C_STREAM,
        .rx_gone = G_EPEER,
        .tx_gone = G_EPEER,
        .bad = {{"pipe://x", 0, "", IPCX_EENDPOINT},
                {"pipe://?fd=x", 0, "", IPCX_EOPTION},
                {"pipe://?mode=0600", 0, "", IPCX_EOPTION}},
    },
    {
        /* Raw bytes: no boundaries, no limit, no ENOBUFS. */
        .name = "pipe-raw",
        .opts = "raw",
        .limit = 0,
        .caps = C_PIPE,
        .rx_gone = G_EPEER,
        .tx_gone = G_EPEER,
    },
    {
        .name = "fifo",
        .ep = "fifo://",
        .opts = "maxmsg=4096",
        .limit = LIMIT,
        .caps = C_FRAMED | C_STREAM | C_MODE | C_SEP | C_OWNER | C_FANIN,
        .obj = "",
        .obj_type = S_IFIFO,
        /* The receiver reopens and waits for the next writer. */
        .rx_gone = G_TIMEOUT,
        .tx_gone = G_EPEER,
        .bad = {{"fifo://", 0, "", IPCX_EENDPOINT},
                {"fifo://relative", 0, "", IPCX_EENDPOINT},
                {"fifo:///tmp/dir/", 0, "", IPCX_EENDPOINT},
                {"fifo:///tmp/x?raw=2", 0, "", IPCX_EOPTION},
                {"fifo:///tmp/x?mode=0800", 0, "", IPCX_EOPTION}},
    },
    {
        .name = "unix",
        .ep = "unix://",
        .opts = "maxmsg=4096",
        .limit = LIMIT,
        /* A dialer refuses a listener of another uid unless ?trust=any. */
        .caps =
            C_FRAMED | C_STREAM | C_MODE | C_SEP | C_CRED | C_FANIN | C_OWNER,
        .obj = "",
        .obj_type = S_IFSOCK,
        /* A listener waits for further senders. */
        .rx_gone = G_TIMEOUT,
        .tx_gone = G_EPEER,
        .bad = {{"unix://", 0, "", IPCX_EENDPOINT},
                {"unix://relative", 0, "", IPCX_EENDPOINT},
                {"unix:///", 107, "", IPCX_ENAMETOOLONG},
                {"unix:///tmp/s?raw", 0, "", IPCX_EOPTION},
                {"unix:///tmp/s?uid=x", 0, "", IPCX_EOPTION}},
    },
    {
        .name = "unix-abstract",
        .ep = "unix://@",
        .bare = 1,
        .opts = "maxmsg=4096",
        .limit = LIMIT,
        .caps = C_FRAMED | C_STREAM | C_SEP | C_CRED | C_FANIN,
        .rx_gone = G_TIMEOUT,
        .tx_gone = G_EPEER,
        .bad = {{"unix://@", 0, "", IPCX_EENDPOINT},
                {"unix://@", 107, "", IPCX_ENAMETOOLONG}},
    },
    {
        .name = "tcp",
        .ep = "tcp://127.0.0.1:",
        .opts = "maxmsg=4096",
        .limit = LIMIT,
        .caps = C_FRAMED | C_STREAM | C_PORT | C_SEP | C_FANIN,
        .rx_gone = G_TIMEOUT,
        .tx_gone = G_EPEER,
        .bad = {{"tcp://", 0, "", IPCX_EENDPOINT},
                {"tcp://127.0.0.1", 0, "", IPCX_EENDPOINT},
                {"tcp://127.0.0.1:65536", 0, "", IPCX_EENDPOINT},
                {"tcp://:80", 0, "", IPCX_EENDPOINT},
                {"tcp://", 254, ":80", IPCX_ENAMETOOLONG},
                {"tcp://127.0.0.1:80?mode=0600", 0, "", IPCX_EOPTION}},
    },
    {
        /* One datagram a message: the IPv4 datagram limit, and loss. */
        .name = "udp",
        .ep = "udp://127.0.0.1:",
        .opts = "",
        .limit = 65507,
        .caps = C_FRAMED | C_PORT | C_LOSSY | C_SEP,
        .rx_gone = G_TIMEOUT,
        .tx_gone = G_EPEER | G_ACCEPTED,
        .bad = {{"udp://", 0, "", IPCX_EENDPOINT},
                {"udp://127.0.0.1:99999", 0, "", IPCX_EENDPOINT},
                {"udp://127.0.0.1:9?maxmsg=10", 0, "", IPCX_EOPTION}},
    },
    {
        .name = "shm",
        .ep = "shm://",
        .bare = 1,
        .opts = "size=64K",
        .limit = 0, /* from the ring's geometry */
        .caps = C_FRAMED | C_MODE | C_SEP | C_OWNER | C_FANIN,
        .obj = "/dev/shm/",
        .obj_type = S_IFREG,
        .rx_gone = G_TIMEOUT,
        /* Sends fill the ring; once short of room: EPEER (or time out). */
        .tx_gone = G_EPEER | G_TIMEOUT,
        .bad = {{"shm://", 0, "", IPCX_EENDPOINT},
                {"shm://a/b", 0, "", IPCX_EENDPOINT},
                {"shm://..", 0, "", IPCX_EENDPOINT},
                {"shm://", 256, "", IPCX_ENAMETOOLONG},
                {"shm://x?size=0", 0, "", IPCX_EOPTION},
                {"shm://x?raw", 0, "", IPCX_EOPTION}},
    },
    {
        /* A spool: a receiver need not exist, so sends never fail. */
        .name = "file",
        .ep = "file://",
        .opts = "maxmsg=4096&fsync=0",
        .limit = LIMIT,
        .caps = C_FRAMED | C_SEP | C_FANIN | C_STORE,
        .obj = "",
        .obj_type = S_IFDIR,
        .rx_gone = G_TIMEOUT,
        .tx_gone = G_ACCEPTED,
        .bad = {{"file://", 0, "", IPCX_EENDPOINT},
                {"file://relative", 0, "", IPCX_EENDPOINT},
                {"file:///tmp/a/../b", 0, "", IPCX_EENDPOINT},
                {"file:///tmp/x?raw", 0, "", IPCX_EOPTION},
                {"file:///tmp/x?fsync=2", 0, "", IPCX_EOPTION}},
    },
    {
        /* One 64-bit value a message, in this process (signal://PID). */
        .name = "signal",
        .ep = "signal://",
        .opts = "",
        .limit = 8,
        .caps = C_VALUE | C_SELF,
        .rx_gone = G_TIMEOUT,
        .tx_gone = G_EPEER,
        .bad = {{"signal://x", 0, "", IPCX_EENDPOINT},
                {"signal://0", 0, "", IPCX_EENDPOINT},
                {"signal://", 11, "", IPCX_ENAMETOOLONG},
                {"signal://?sig=TERM", 0, "", IPCX_EOPTION},
                {"signal://?mode=0600", 0, "", IPCX_EOPTION}},
    },
    {
        /* Zero-byte events: a post is a message; posts always fit. */
        .name = "sem",
        .ep = "sem://",
        .bare = 1,
        .opts = "",
        .caps = C_EVENT | C_NOFD | C_MODE | C_SEP | C_OWNER,
        .obj = "/dev/shm/sem.",
        .obj_type = S_IFREG,
        .rx_gone = G_TIMEOUT,
        .tx_gone = G_ACCEPTED,
        .bad = {{"sem://", 0, "", IPCX_EENDPOINT},
                {"sem://a/b", 0, "", IPCX_EENDPOINT},
                {"sem://", 252, "", IPCX_ENAMETOOLONG},
                {"sem://x?value=40000", 0, "", IPCX_EOPTION},
                {"sem://x?maxmsg=1", 0, "", IPCX_EOPTION}},
    },
    {
        .name = "sysv-sem",
        .ep = "sysv-sem://",
        .opts = "",
        .caps = C_EVENT | C_NOFD | C_SEP | C_OWNER | C_KEY,
        .rx_gone = G_TIMEOUT,
        .tx_gone = G_ACCEPTED,
        .bad = {{"sysv-sem://", 0, "", IPCX_EENDPOINT},
                {"sysv-sem://0", 0, "", IPCX_EENDPOINT},
                {"sysv-sem://0x123456789", 0, "", IPCX_EENDPOINT},
                {"sysv-sem://0x1?proj=0", 0, "", IPCX_EOPTION},
                {"sysv-sem://0x1?slots=1", 0, "", IPCX_EOPTION}},
    },
    {
        /* The bounded buffer: 64 slots hold a boundaries batch. */
        .name = "semshm",
        .ep = "semshm://",
        .bare = 1,
        .opts = "slots=64&maxmsg=4096",
        .limit = LIMIT,
        .caps = C_FRAMED | C_MODE | C_SEP | C_OWNER | C_FANIN | C_NOFD,
        .obj = "/dev/shm/semshm.",
        .obj_type = S_IFREG,
        .rx_gone = G_TIMEOUT,
        .tx_gone = G_TIMEOUT,
        .bad = {{"semshm://", 0, "", IPCX_EENDPOINT},
                {"semshm://a/b", 0, "", IPCX_EENDPOINT},
                {"semshm://", 249, "", IPCX_ENAMETOOLONG},
                {"semshm://x?slots=0", 0, "", IPCX_EOPTION},
                {"semshm://x?raw", 0, "", IPCX_EOPTION}},
    },
    {
        /* obj is dropped in main() when /dev/mqueue is not mounted. */
        .name = "mq",
        .ep = "mq://",
        .bare = 1,
        .opts = "maxmsg=10&msgsize=4096",
        .limit = LIMIT,
        .depth = 10,
        .caps = C_FRAMED | C_MODE | C_SEP | C_OWNER | C_FANIN,
        .obj = "/dev/mqueue/",
        .obj_type = S_IFREG,
        /* The kernel tells neither side that the other left. */
        .rx_gone = G_TIMEOUT,
        .tx_gone = G_TIMEOUT,
        .bad = {{"mq://", 0, "", IPCX_EENDPOINT},
                {"mq://a/b", 0, "", IPCX_EENDPOINT},
                {"mq://", 256, "", IPCX_ENAMETOOLONG},
                {"mq://x?prio=32768", 0, "", IPCX_EOPTION},
                {"mq://x?msgsize=0", 0, "", IPCX_EOPTION},
                {"mq://x?maxmsg=0", 0, "", IPCX_EOPTION}},
    },
    {
        /* limit: msgmax, read in main(). */
        .name = "sysv-mq",
        .ep = "sysv-mq://",
        .opts = "",
        .limit = 8192,
        .caps = C_FRAMED | C_SEP | C_OWNER | C_FANIN | C_NOFD | C_KEY,
        .rx_gone = G_TIMEOUT,
        .tx_gone = G_TIMEOUT,
        .bad = {{"sysv-mq://", 0, "", IPCX_EENDPOINT},
                {"sysv-mq://0x0", 0, "", IPCX_EENDPOINT},
                {"sysv-mq://relative", 0, "", IPCX_EENDPOINT},
                {"sysv-mq://0x1?proj=2", 0, "", IPCX_EOPTION},
                {"sysv-mq:///tmp/x?proj=0", 0, "", IPCX_EOPTION},
                {"sysv-mq://0x1?msgsize=10", 0, "", IPCX_EOPTION}},
    },
};

#define NTPS (sizeof(tps) / sizeof(tps[0]))

/* Generous bound for waits that must succeed (never reached normally). */
#define LONG_MS 10000

/* ---- one case's setup ---- */

struct ctx {
	const struct tp *tp;
	char name[128]; /* unique name: a /tmp path or a bare name */
	char obj[160];  /* file system object, "" if none */
	char base[256]; /* endpoint without options */
	int port;
};

static int next_port;
static unsigned next_key;

/* A case's message of n bytes, or the 8 a C_VALUE transport carries. */
static size_t vlen(const struct ctx *c, size_t n)
{
	return (c->tp->caps & C_VALUE) ? 8 : n;
}

static void ctx_init(struct ctx *c, const struct tp *tp, const char *tag)
{
	memset(c, 0, sizeof(*c));
	c->tp = tp;
	if (tp->caps & C_KEY)
		/* A key of this run's own: the pid, then a counter. */
		snprintf(c->name, sizeof(c->name), "0x%x",
		         0x40000000u | ((unsigned)getpid() & 0x3ffff) << 8 |
		             (next_key++ & 0xff));
	else
		snprintf(c->name, sizeof(c->name), "%s",
		         tp->bare ? t_name(tag) : t_tmp_path(tag));
	if (tp->caps & C_SELF)
		snprintf(c->name, sizeof(c->name), "%ld", (long)getpid());
	if (tp->obj)
		snprintf(c->obj, sizeof(c->obj), "%s%s", tp->obj, c->name);
}

/* The endpoint with opts (which may be NULL or ""). */
static const char *ctx_ep(struct ctx *c, const char *opts)
{
	static char buf[4][320];
	static int k;
	char *b = buf[k++ & 3];

	if (c->tp->caps & C_PORT)
		snprintf(c->base, sizeof(c->base), "%s%d", c->tp->ep, c->port);
	else
		snprintf(c->base, sizeof(c->base), "%s%s", c->tp->ep, c->name);
	snprintf(b, 320, "%s%s%s", c->base, opts && *opts ? "?" : "",
	         opts ? opts : "");
	return b;
}

/*
 * Open the receiving end (creating the object) with rx_opts. For ported
 * transports, try ports until one is free.
 */
static void open_rx(struct ctx *c, const char *opts, ipcx_chan **rx)
{
	int r;

	if (!(c->tp->caps & C_PORT)) {
		T_OK(ipcx_open(ctx_ep(c, opts), IPCX_RECV | IPCX_CREATE, rx));
		return;
	}
	if (!next_port)
		next_port = 20000 + (int)(getpid() * 7 % 20000);
	for (int i = 0; i < 200; i++) {
		c->port = next_port;
		next_port = next_port >= 60000 ? 20000 : next_port + 1;
		r = ipcx_open(ctx_ep(c, opts), IPCX_RECV | IPCX_CREATE, rx);
		if (r == 0)
			return;
		T_ASSERT(r == IPCX_EEXIST || r == IPCX_EBUSY ||
		         r == IPCX_EACCES);
	}
	fprintf(stderr, "no free port found\n");
	exit(T_EXIT_FAIL);
}

static void open_tx(struct ctx *c, const char *opts, ipcx_chan **tx)
{
	T_OK(ipcx_open(ctx_ep(c, opts), IPCX_SEND, tx));
}

/* A connected pair in this process, both ends with the table's options. */
static void pair_open(struct ctx *c, ipcx_chan **rx, ipcx_chan **tx)
{
	if (c->tp->caps & C_PIPE) {
		T_OK(ipcx_pipe(c->tp->opts, rx, tx));
		return;
	}
	open_rx(c, c->tp->opts, rx);
	open_tx(c, c->tp->opts, tx);
}

/*
 * Remove what the case created (only its creator or ipcx_unlink removes a
 * name) and check that nothing is left.
 */
static void ctx_cleanup(struct ctx *c)
{
	if (c->tp->ep && !(c->tp->caps & C_PORT)) {
		int r = ipcx_unlink(ctx_ep(c, NULL));
		T_ASSERT(r == 0 || r == IPCX_ENOENT || r == IPCX_ENOTSUP);
		if (r == 0)
			T_EXPECT(ipcx_unlink(ctx_ep(c, NULL)), IPCX_ENOENT);
	}
	if (c->obj[0])
		T_ASSERT(t_path_gone(c->obj));
}

/* A message of len bytes, or none (0) on a transport of events. */
static size_t mlen(const struct ctx *c, size_t len)
{
	return (c->tp->caps & C_EVENT) ? 0 : len;
}

/* Receive exactly one message into buf, which must be want/len. */
static void recv_is(ipcx_chan *rx, size_t len, uint32_t seq)
{
	static uint8_t buf[70000];
	ssize_t n = ipcx_recv(rx, buf, sizeof(buf), LONG_MS);

	if (n != (ssize_t)len || !t_msg_is(buf, len, seq)) {
		fprintf(stderr, "recv: got %zd (%s), want %zu bytes seq %u\n",
		        n, n < 0 ? ipcx_errmsg() : "content differs", len,
		        (unsigned)seq);
		exit(T_EXIT_FAIL);
	}
}

static void send_msg(ipcx_chan *tx, size_t len, uint32_t seq)
{
	static uint8_t buf[70000];

	T_ASSERT(len <= sizeof(buf));
	t_msg_fill(buf, len, seq);
	T_OK(ipcx_send(tx, buf, len, LONG_MS));
}

/* Raw transports: collect exactly len bytes from however many receives. */
static void recv_bytes(ipcx_chan *rx, void *out, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n =
		    ipcx_recv(rx, (char *)out + got, len - got, LONG_MS);
		if (n <= 0) {
			fprintf(stderr, "raw recv: %zd (%s) after %zu of %zu\n",
			        n, ipcx_errmsg(), got, len);
			exit(T_EXIT_FAIL);
		}
		got += (size_t)n;
	}
}

/* ---- the cases ---- */

static void case_roundtrip(struct ctx *c)
{
	ipcx_chan *rx, *tx;
	char buf[64];
	struct ipcx_peer peer;

	pair_open(c, &rx, &tx);
	if (c->tp->caps & C_EVENT) {
		/* An event: no bytes, and bytes are refused. */
		T_EXPECT(ipcx_send(tx, "hello", 5, LONG_MS), IPCX_EMSGSIZE);
		T_OK(ipcx_send(tx, "", 0, LONG_MS));
		T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), LONG_MS), 0);
		T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), 0), IPCX_ETIMEDOUT);
		memcpy(buf, "hello", 5);
	} else {
		T_OK(ipcx_send(tx, "hello!!!", vlen(c, 5), LONG_MS));
	}
	if (c->tp->caps & C_EVENT) {
	} else if (c->tp->caps & (C_FRAMED | C_VALUE)) {
		T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), LONG_MS), vlen(c, 5));
	} else {
		recv_bytes(rx, buf, 5);
	}
	T_ASSERT(memcmp(buf, "hello!!!", vlen(c, 5)) == 0);
	T_OK(ipcx_peer(rx, &peer));
	/* Direction is enforced. */
	T_EXPECT(ipcx_recv(tx, buf, sizeof(buf), 0), IPCX_ESTATE);
	if (c->tp->caps & C_PIPE)
		T_EXPECT(ipcx_send(rx, "x", 1, 0), IPCX_ESTATE);
	T_OK(ipcx_close(tx));
	T_OK(ipcx_close(rx));
}

/*
 * Many messages of varying sizes back to back, sent in batches that fit
 * any transport's kernel buffer (so even a lossy one keeps them all), each
 * received whole and in order with its content checked.
 */
static void case_boundaries(struct ctx *c)
{
	size_t top = c->tp->limit < 3000 ? c->tp->limit : 3000;
	ipcx_chan *rx, *tx;
	uint32_t seq = 0;
	size_t lens[64];

	pair_open(c, &rx, &tx);
	for (int batch = 0; batch < 20; batch++) {
		size_t total = 0;
		int n = 0;
		while (n < 64 && total < 12000 &&
		       (!c->tp->depth || (size_t)n < c->tp->depth)) {
			size_t len = t_rand_below((uint32_t)top + 1);
			/* Now and then the extremes. */
			if (t_rand_below(8) == 0)
				len = t_rand_below(2) ? 0 : top;
			lens[n++] = len;
			total += len;
		}
		for (int i = 0; i < n; i++)
			send_msg(tx, lens[i], seq + (uint32_t)i);
		for (int i = 0; i < n; i++)
			recv_is(rx, lens[i], seq + (uint32_t)i);
		seq += (uint32_t)n;
	}
	/* Nothing more: the next receive times out. */
	T_EXPECT(ipcx_recv(rx, lens, sizeof(lens), 0), IPCX_ETIMEDOUT);
	T_OK(ipcx_close(tx));
	T_OK(ipcx_close(rx));
}

/*
 * ipcx_sendv: batches (small enough for any kernel buffer, and for a
 * stream more than one writev's worth) arrive as that many messages, in
 * order; a message above the limit ends a batch, the ones before it sent.
 */
static void case_sendv(struct ctx *c)
{
	static uint8_t data[700][16];
	static struct iovec v[700];
	size_t top = c->tp->limit < 16 ? c->tp->limit : 16;
	int n = (c->tp->caps & C_STREAM) ? 700 : 40;
	ipcx_chan *rx, *tx;
	uint32_t seq = 0;

	if (c->tp->depth && (size_t)n > c->tp->depth)
		n = (int)c->tp->depth;
	pair_open(c, &rx, &tx);
	T_EXPECT(ipcx_sendv(tx, v, 0, 0), 0);
	T_EXPECT(ipcx_sendv(tx, v, -1, 0), IPCX_EINVAL);
	T_EXPECT(ipcx_sendv(tx, NULL, 1, 0), IPCX_EINVAL);
	T_EXPECT(ipcx_sendv(rx, v, 1, 0), IPCX_ESTATE);
	for (int round = 0; round < 3; round++) {
		size_t total = 0;
		for (int i = 0; i < n; i++) {
			v[i].iov_base = data[i];
			v[i].iov_len =
			    mlen(c, vlen(c, t_rand_below((uint32_t)top + 1)));
			t_msg_fill(data[i], v[i].iov_len, seq + (uint32_t)i);
			total += v[i].iov_len;
		}
		T_EXPECT(ipcx_sendv(tx, v, n, LONG_MS), n);
		if (c->tp->caps & (C_FRAMED | C_VALUE | C_EVENT)) {
			for (int i = 0; i < n; i++)
				recv_is(rx, v[i].iov_len, seq + (uint32_t)i);
		} else {
			/* Raw bytes: the batch arrives as one byte string. */
			uint8_t got[sizeof(data)], *at = got;
			recv_bytes(rx, got, total);
			for (int i = 0; i < n; i++) {
				T_ASSERT(memcmp(at, data[i], v[i].iov_len) ==
				         0);
				at += v[i].iov_len;
			}
		}
		seq += (uint32_t)n;
	}
	T_EXPECT(ipcx_recv(rx, data, sizeof(data), 0), IPCX_ETIMEDOUT);
	if ((c->tp->caps & C_FRAMED) && c->tp->limit) {
		/* Too big in the middle: the two before it go, then it fails
		 * on its own and names the limit. */
		uint8_t *big = calloc(1, c->tp->limit + 1);
		T_ASSERT(big != NULL);
		v[0].iov_len = v[1].iov_len = 3;
		t_msg_fill(data[0], 3, 1);
		t_msg_fill(data[1], 3, 2);
		v[2].iov_base = big;
		v[2].iov_len = c->tp->limit + 1;
		T_EXPECT(ipcx_sendv(tx, v, 3, LONG_MS), 2);
		T_EXPECT(ipcx_sendv(tx, v + 2, 1, LONG_MS), IPCX_EMSGSIZE);
		recv_is(rx, 3, 1);
		recv_is(rx, 3, 2);
		free(big);
	}
	T_OK(ipcx_close(tx));
	T_OK(ipcx_close(rx));
}

/*
 * A sender thread floods while this thread receives: blocking both ways,
 * with and without a deadline.
 */
struct flood {
	ipcx_chan *tx;
	size_t top;
	int count;
	int err;
};

static void *flood_thread(void *arg)
{
	struct flood *f = arg;
	uint8_t *buf = malloc(f->top ? f->top : 1);

	for (int i = 0; i < f->count && !f->err; i++) {
		size_t len = (size_t)((uint32_t)i * 2654435761u % (f->top + 1));
		t_msg_fill(buf, len, (uint32_t)i);
		/* Without a deadline too: blocking fds wait in the call. */
		f->err = ipcx_send(f->tx, buf, len, i % 2 ? -1 : LONG_MS);
	}
	free(buf);
	return NULL;
}

static void case_flood(struct ctx *c)
{
	struct flood f = {.top = c->tp->limit, .count = 3000};
	uint8_t *buf = malloc(c->tp->limit);
	ipcx_chan *rx;
	pthread_t th;

	T_ASSERT(buf != NULL);
	pair_open(c, &rx, &f.tx);
	T_ASSERT(pthread_create(&th, NULL, flood_thread, &f) == 0);
	for (int i = 0; i < f.count; i++) {
		size_t len = (size_t)((uint32_t)i * 2654435761u % (f.top + 1));
		ssize_t n =
		    ipcx_recv(rx, buf, c->tp->limit, i % 3 ? LONG_MS : -1);
		if (n != (ssize_t)len || !t_msg_is(buf, len, (uint32_t)i)) {
			fprintf(stderr, "flood: message %d: got %zd (%s)\n", i,
			        n, n < 0 ? ipcx_errmsg() : "bad content");
			exit(T_EXIT_FAIL);
		}
	}
	T_ASSERT(pthread_join(th, NULL) == 0);
	T_EXPECT(f.err, 0);
	free(buf);
	T_OK(ipcx_close(f.tx));
	T_OK(ipcx_close(rx));
}

/* Sizes 0, 1, limit go through; limit + 1 is refused at the sender. */
static void case_sizes(struct ctx *c)
{
	size_t lim = c->tp->limit;
	uint8_t *big = malloc(lim + 2);
	ipcx_chan *rx, *tx;
	void *abuf = NULL;

	T_ASSERT(big != NULL);
	pair_open(c, &rx, &tx);
	send_msg(tx, 0, 0);
	recv_is(rx, 0, 0);
	send_msg(tx, 1, 1);
	recv_is(rx, 1, 1);
	send_msg(tx, lim, 2);
	recv_is(rx, lim, 2);
	t_msg_fill(big, lim + 1, 3);
	T_EXPECT(ipcx_send(tx, big, lim + 1, LONG_MS), IPCX_EMSGSIZE);
	/* The error names the limit. */
	{
		char want[32];
		snprintf(want, sizeof(want), "%zu", lim);
		T_ASSERT(strstr(ipcx_errmsg(), want) != NULL);
	}
	/* Nothing of it was sent; the channel still works. */
	send_msg(tx, 7, 4);
	T_EXPECT(ipcx_recv_alloc(rx, &abuf, LONG_MS), 7);
	T_ASSERT(abuf != NULL && t_msg_is(abuf, 7, 4));
	free(abuf);
	/* An empty message through recv_alloc: a buffer, never NULL. */
	send_msg(tx, 0, 5);
	abuf = NULL;
	T_EXPECT(ipcx_recv_alloc(rx, &abuf, LONG_MS), 0);
	T_ASSERT(abuf != NULL);
	free(abuf);
	free(big);
	T_OK(ipcx_close(tx));
	T_OK(ipcx_close(rx));
}

/*
 * A stream receiver enforces its own limit: a sender allowed more gets
 * its oversized frame refused by the receiver (EMSGSIZE, connection
 * closed), never a huge allocation.
 */
static void case_rx_limit(struct ctx *c)
{
	size_t lim = c->tp->limit;
	char opts[64];
	ipcx_chan *rx, *tx;
	uint8_t buf[64];
	ssize_t r;

	open_rx(c, c->tp->opts, &rx);
	snprintf(opts, sizeof(opts), "maxmsg=%zu", lim * 2);
	open_tx(c, opts, &tx);
	send_msg(tx, lim + 1, 1);
	r = ipcx_recv(rx, buf, sizeof(buf), LONG_MS);
	if (r != IPCX_EMSGSIZE) {
		fprintf(stderr, "rx_limit: got %zd (%s)\n", r, ipcx_errmsg());
		exit(T_EXIT_FAIL);
	}
	T_OK(ipcx_close(tx));
	T_OK(ipcx_close(rx));
}

static void case_timeout(struct ctx *c)
{
	ipcx_chan *rx, *tx;
	char buf[16];

	pair_open(c, &rx, &tx);
	T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), 0), IPCX_ETIMEDOUT);
	T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), 1), IPCX_ETIMEDOUT);
	T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), 30), IPCX_ETIMEDOUT);
	/* Still usable after timing out. */
	if (c->tp->caps & C_EVENT) {
		T_OK(ipcx_send(tx, "", 0, LONG_MS));
		T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), LONG_MS), 0);
		memcpy(buf, "abc", 3);
	} else {
		T_OK(ipcx_send(tx, "abcdefgh", vlen(c, 3), LONG_MS));
	}
	if (c->tp->caps & C_EVENT)
		;
	else if (c->tp->caps & (C_FRAMED | C_VALUE))
		T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), LONG_MS), vlen(c, 3));
	else
		recv_bytes(rx, buf, 3);
	T_ASSERT(memcmp(buf, "abcdefgh", vlen(c, 3)) == 0);
	T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), 0), IPCX_ETIMEDOUT);
	T_OK(ipcx_close(tx));
	T_OK(ipcx_close(rx));
}

/* Too small a buffer: ENOBUFS, the size, and the message stays queued. */
static void case_enobufs(struct ctx *c)
{
	ipcx_chan *rx, *tx;
	uint8_t buf[200];

	pair_open(c, &rx, &tx);
	T_EXPECT(ipcx_pending(rx), IPCX_ESTATE);
	send_msg(tx, 100, 1);
	send_msg(tx, 20, 2);
	T_EXPECT(ipcx_recv(rx, buf, 10, LONG_MS), IPCX_ENOBUFS);
	T_EXPECT(ipcx_pending(rx), 100);
	T_EXPECT(ipcx_recv(rx, buf, 0, LONG_MS), IPCX_ENOBUFS);
	T_EXPECT(ipcx_pending(rx), 100);
	T_EXPECT(ipcx_recv(rx, buf, 99, LONG_MS), IPCX_ENOBUFS);
	T_EXPECT(ipcx_recv(rx, buf, 100, LONG_MS), 100);
	T_ASSERT(t_msg_is(buf, 100, 1));
	T_EXPECT(ipcx_pending(rx), IPCX_ESTATE);
	recv_is(rx, 20, 2);
	T_OK(ipcx_close(tx));
	T_OK(ipcx_close(rx));
}

/* ipcx_fd() polls readable once a message is there. */
static void case_pollable(struct ctx *c)
{
	ipcx_chan *rx, *tx;
	char buf[16];
	int fd, got = 0;

	pair_open(c, &rx, &tx);
	fd = ipcx_fd(rx);
	T_ASSERT(fd >= 0);
	T_EXPECT(ipcx_fd(rx), fd); /* stable */
	T_OK(ipcx_send(tx, "pingPING", vlen(c, 4), LONG_MS));
	/* A wake-up may be spurious: poll, then receive without waiting. */
	for (int i = 0; i < 1000 && !got; i++) {
		ssize_t n;
		if (!t_poll_in(fd, LONG_MS)) {
			fprintf(stderr, "ipcx_fd() never became readable\n");
			exit(T_EXIT_FAIL);
		}
		n = ipcx_recv(rx, buf, sizeof(buf), 0);
		if (n == IPCX_ETIMEDOUT)
			continue;
		if (c->tp->caps & (C_FRAMED | C_VALUE))
			T_EXPECT(n, vlen(c, 4));
		else if (n > 0 && n < 4)
			recv_bytes(rx, buf + n, 4 - (size_t)n);
		else
			T_EXPECT(n, 4);
		got = 1;
	}
	T_ASSERT(got && memcmp(buf, "pingPING", vlen(c, 4)) == 0);
	/* A second message after draining: readable again. */
	T_OK(ipcx_send(tx, "pongPONG", vlen(c, 4), LONG_MS));
	T_ASSERT(t_poll_in(fd, LONG_MS));
	if (c->tp->caps & (C_FRAMED | C_VALUE))
		T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), LONG_MS), vlen(c, 4));
	else
		recv_bytes(rx, buf, 4);
	T_ASSERT(memcmp(buf, "pongPONG", vlen(c, 4)) == 0);
	T_OK(ipcx_close(tx));
	T_OK(ipcx_close(rx));
}

/* No fd: ipcx_fd() says so plainly, and the channel still works. */
static void case_no_fd(struct ctx *c)
{
	ipcx_chan *rx, *tx;
	char buf[8];

	pair_open(c, &rx, &tx);
	T_EXPECT(ipcx_fd(rx), IPCX_ENOTSUP);
	T_ASSERT(strstr(ipcx_errmsg(), "no file descriptor") != NULL);
	T_OK(ipcx_send(tx, "", 0, LONG_MS));
	T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), LONG_MS), 0);
	T_OK(ipcx_close(tx));
	T_OK(ipcx_close(rx));
}

/* Objects are 0600 by default (whatever the umask), and mode= changes it. */
static void case_mode(struct ctx *c)
{
	static const unsigned modes[] = {0600, 0640, 0604};
	char opts[64];

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		ipcx_chan *rx, *tx;
		struct stat st;

		if (i == 0)
			snprintf(opts, sizeof(opts), "%s", c->tp->opts);
		else
			snprintf(opts, sizeof(opts), "%s%smode=0%o",
			         c->tp->opts, *c->tp->opts ? "&" : "",
			         modes[i]);
		open_rx(c, opts, &rx);
		open_tx(c, c->tp->opts, &tx);
		T_ASSERT(lstat(c->obj, &st) == 0);
		if ((st.st_mode & S_IFMT) != c->tp->obj_type ||
		    (st.st_mode & 07777) != modes[i] ||
		    st.st_uid != geteuid()) {
			fprintf(stderr, "%s: mode %o uid %d, want %o\n", c->obj,
			        (unsigned)st.st_mode, (int)st.st_uid, modes[i]);
			exit(T_EXIT_FAIL);
		}
		T_OK(ipcx_close(tx));
		T_OK(ipcx_close(rx));
		ctx_cleanup(c);
	}
}

/* Bad names are refused by the parser, before any system call. */
static void case_bad_names(struct ctx *c)
{
	for (size_t i = 0; i < sizeof(c->tp->bad) / sizeof(c->tp->bad[0]);
	     i++) {
		const struct bad *b = &c->tp->bad[i];
		char ep[600];
		size_t n;
		ipcx_chan *ch = (ipcx_chan *)&ep;
		int r;

		if (!b->prefix)
			break;
		n = (size_t)snprintf(ep, sizeof(ep), "%s", b->prefix);
		T_ASSERT(n + (size_t)b->fill + strlen(b->suffix) < sizeof(ep));
		memset(ep + n, 'a', (size_t)b->fill);
		snprintf(ep + n + (size_t)b->fill, sizeof(ep) - n - b->fill,
		         "%s", b->suffix);
		r = ipcx_open(ep, IPCX_RECV | IPCX_CREATE, &ch);
		if (r != b->code || ch != NULL) {
			fprintf(stderr, "'%.60s...': %s (%s), want %s\n", ep,
			        ipcx_errname(r), ipcx_errmsg(),
			        ipcx_errname(b->code));
			exit(T_EXIT_FAIL);
		}
		T_EXPECT(ipcx_open(ep, IPCX_SEND, &ch), b->code);
	}
	if (c->tp->caps & C_PIPE) {
		ipcx_chan *rx = (ipcx_chan *)c, *tx = (ipcx_chan *)c;
		T_EXPECT(ipcx_pipe("bogus", &rx, &tx), IPCX_EOPTION);
		T_ASSERT(rx == NULL && tx == NULL);
		T_EXPECT(ipcx_pipe("fd=3", &rx, &tx), IPCX_EOPTION);
	}
}

/*
 * The sending process exits (after three messages): the receiver gets
 * them, then EPEER or keeps waiting until its timeout, per the table.
 */
struct peer_arg {
	struct ctx *c;
	struct t_sync sync;
	ipcx_chan *inherited; /* pipe: the end the child uses */
	ipcx_chan *other;     /* pipe: the end the child drops */
};

static int child_sender(void *arg)
{
	struct peer_arg *a = arg;
	ipcx_chan *tx = a->inherited;

	if (a->other)
		ipcx_close(a->other);
	if (!tx)
		open_tx(a->c, a->c->tp->opts, &tx);
	for (uint32_t i = 0; i < 3; i++)
		send_msg(tx, mlen(a->c, 50 + i), i);
	t_notify_parent(&a->sync);
	/* A clean exit (test-kill.c covers dying without closing). */
	ipcx_close(tx);
	return 0;
}

static void case_sender_exits(struct ctx *c)
{
	struct peer_arg a = {.c = c};
	ipcx_chan *rx, *tx = NULL;
	uint8_t buf[256];
	ssize_t r;
	pid_t pid;
	int st;

	t_sync_init(&a.sync);
	if (c->tp->caps & C_PIPE) {
		pair_open(c, &rx, &tx);
		a.inherited = tx;
		a.other = rx;
	} else {
		open_rx(c, c->tp->opts, &rx);
	}
	pid = t_fork(child_sender, &a);
	ipcx_close(tx); /* the parent's copy of the child's end */
	t_wait_child(&a.sync);
	if (c->tp->caps & (C_FRAMED | C_EVENT)) {
		for (uint32_t i = 0; i < 3; i++)
			recv_is(rx, mlen(c, 50 + i), i);
	} else {
		/* Raw: the same bytes, boundaries aside. */
		recv_bytes(rx, buf, 50 + 51 + 52);
		T_ASSERT(t_msg_is(buf, 50, 0) && t_msg_is(buf + 50, 51, 1) &&
		         t_msg_is(buf + 101, 52, 2));
	}
	st = t_waitpid(pid, LONG_MS);
	T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* Those allowed to wait get a short timeout; EPEER ones a long one. */
	r = ipcx_recv(rx, buf, sizeof(buf),
	              (c->tp->rx_gone & G_TIMEOUT) ? 50 : LONG_MS);
	t_expect_gone("receiver", r, c->tp->rx_gone);
	/* And it stays so. */
	r = ipcx_recv(rx, buf, sizeof(buf), 0);
	t_expect_gone("receiver (again)", r, c->tp->rx_gone | G_TIMEOUT);
	T_OK(ipcx_close(rx));
	t_sync_close(&a.sync);
}

/*
 * The receiving process exits: the sender gets EPEER or ETIMEDOUT within a
 * bounded number of sends, never SIGPIPE death, never a hang.
 */
static int child_receiver(void *arg)
{
	struct peer_arg *a = arg;
	ipcx_chan *rx = a->inherited;

	if (a->other)
		ipcx_close(a->other);
	if (!rx)
		open_rx(a->c, a->c->tp->opts, &rx);
	/* Tell the parent which port we got. */
	T_ASSERT(write(a->sync.c2p[1], &a->c->port, sizeof(a->c->port)) ==
	         sizeof(a->c->port));
	t_wait_parent(&a->sync); /* the sender is connected */
	recv_is(rx, mlen(a->c, 10), 1);
	ipcx_close(rx);
	return 0;
}

static void case_receiver_exits(struct ctx *c)
{
	struct peer_arg a = {.c = c};
	ipcx_chan *rx = NULL, *tx;
	uint8_t buf[1024];
	int r = 0, st, i;
	pid_t pid;

	t_sync_init(&a.sync);
	if (c->tp->caps & C_PIPE) {
		pair_open(c, &rx, &tx);
		a.inherited = rx;
		a.other = tx;
	}
	pid = t_fork(child_receiver, &a);
	ipcx_close(rx);
	T_ASSERT(t_poll_in(a.sync.c2p[0], LONG_MS));
	T_ASSERT(read(a.sync.c2p[0], &c->port, sizeof(c->port)) ==
	         sizeof(c->port));
	if (!(c->tp->caps & C_PIPE))
		open_tx(c, c->tp->opts, &tx);
	t_notify_child(&a.sync);
	send_msg(tx, mlen(c, 10), 1);
	st = t_waitpid(pid, LONG_MS);
	T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* Keep sending: an error must come, or (datagrams) none at all. */
	memset(buf, 'x', sizeof(buf));
	for (i = 0; i < 20000; i++) {
		r = ipcx_send(tx, buf, mlen(c, sizeof(buf)), 100);
		if (r < 0)
			break;
		/* A store keeps them all: a few show it. */
		if ((c->tp->caps & C_STORE) && i == 200)
			break;
	}
	if (r == 0)
		T_ASSERT(c->tp->tx_gone & G_ACCEPTED);
	else
		t_expect_gone("sender", r, c->tp->tx_gone);
	T_OK(ipcx_close(tx));
	t_sync_close(&a.sync);
}

/*
 * Several senders at once into one receiver: nothing lost, mixed or torn,
 * each sender's messages in its order. (FIFO frames stay below PIPE_BUF,
 * the size the kernel writes in one piece.)
 */
#define FANIN_SENDERS 3
#define FANIN_COUNT   1500

struct fanin {
	const char *ep;
	uint32_t id;
	int err;
};

static size_t fanin_len(uint32_t id, uint32_t i)
{
	return T_MSG_MIN + (size_t)((i * 2654435761u + id * 97u) % 1000);
}

static void *fanin_thread(void *arg)
{
	struct fanin *f = arg;
	uint8_t mbuf[1100];
	ipcx_chan *tx;

	f->err = ipcx_open(f->ep, IPCX_SEND, &tx);
	for (uint32_t i = 0; i < FANIN_COUNT && !f->err; i++) {
		size_t len = fanin_len(f->id, i);
		t_msg_fill(mbuf, len, f->id << 24 | i);
		f->err = ipcx_send(tx, mbuf, len, LONG_MS);
	}
	if (f->err == 0)
		f->err = ipcx_close(tx);
	return NULL;
}

static void case_fanin(struct ctx *c)
{
	struct fanin f[FANIN_SENDERS];
	pthread_t th[FANIN_SENDERS];
	uint32_t next[FANIN_SENDERS] = {0};
	uint8_t mbuf[1100];
	char ep[320];
	ipcx_chan *rx;

	open_rx(c, c->tp->opts, &rx);
	/* The threads share one copy: ctx_ep() is not thread-safe. */
	snprintf(ep, sizeof(ep), "%s", ctx_ep(c, c->tp->opts));
	for (uint32_t k = 0; k < FANIN_SENDERS; k++) {
		f[k] = (struct fanin){.ep = ep, .id = k};
		T_ASSERT(pthread_create(&th[k], NULL, fanin_thread, &f[k]) ==
		         0);
	}
	for (int k = 0; k < FANIN_SENDERS * FANIN_COUNT; k++) {
		ssize_t n = ipcx_recv(rx, mbuf, sizeof(mbuf), LONG_MS);
		uint32_t seq, id;
		if (n < 0 || !t_msg_check(mbuf, (size_t)n, &seq) ||
		    (id = seq >> 24) >= FANIN_SENDERS ||
		    (seq & 0xffffff) != next[id] ||
		    (size_t)n != fanin_len(id, seq & 0xffffff)) {
			fprintf(stderr, "fanin: message %d: %zd (%s)\n", k, n,
			        n < 0 ? ipcx_errmsg() : "torn, mixed or lost");
			exit(T_EXIT_FAIL);
		}
		next[id]++;
	}
	for (int k = 0; k < FANIN_SENDERS; k++) {
		T_ASSERT(pthread_join(th[k], NULL) == 0);
		T_EXPECT(f[k].err, 0);
	}
	T_OK(ipcx_close(rx));
}

/* ---- credentials and ownership (as root: a second uid to play) ---- */

#define NOBODY 65534

static void become_nobody(void)
{
	T_ASSERT(setgroups(0, NULL) == 0);
	T_ASSERT(setgid(NOBODY) == 0);
	T_ASSERT(setuid(NOBODY) == 0);
}

static int child_nobody_sends(void *arg)
{
	struct peer_arg *a = arg;
	ipcx_chan *tx;

	become_nobody();
	/* The listener may refuse at once or after accepting: either way
	 * nothing sent here may be delivered. */
	if (ipcx_open(ctx_ep(a->c, a->c->tp->opts), IPCX_SEND, &tx) == 0) {
		t_msg_fill(a->c->name, 20, 99);
		(void)ipcx_send(tx, a->c->name, mlen(a->c, 20), LONG_MS);
		ipcx_close(tx);
	}
	t_notify_parent(&a->sync);
	return 0;
}

/*
 * ipcx_peer() names the sender; a listener with ?uid=0 refuses a sender
 * running as nobody and still serves root.
 */
static void case_peer_cred(struct ctx *c)
{
	struct peer_arg a = {.c = c};
	struct ipcx_peer peer;
	ipcx_chan *rx, *tx;
	char opts[96];
	uint8_t buf[64];
	pid_t pid;
	int st;

	pair_open(c, &rx, &tx);
	send_msg(tx, 20, 1);
	recv_is(rx, 20, 1);
	T_OK(ipcx_peer(rx, &peer));
	T_ASSERT(peer.pid == getpid() && peer.uid == geteuid() &&
	         peer.gid == getegid());
	T_OK(ipcx_close(tx));
	T_OK(ipcx_close(rx));
	if (geteuid() != 0) {
		fprintf(stderr, "  (not root: ?uid= refusal not tested)\n");
		return;
	}
	/* mode=0666 (path sockets): only ?uid= stands in nobody's way. */
	snprintf(opts, sizeof(opts), "%s&uid=0%s", c->tp->opts,
	         c->tp->obj ? "&mode=0666" : "");
	open_rx(c, opts, &rx);
	t_sync_init(&a.sync);
	pid = t_fork(child_nobody_sends, &a);
	t_wait_child(&a.sync);
	st = t_waitpid(pid, LONG_MS);
	T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	T_EXPECT(ipcx_recv(rx, buf, sizeof(buf), 50), IPCX_ETIMEDOUT);
	/* Root is served on the same listener. */
	open_tx(c, c->tp->opts, &tx);
	send_msg(tx, 20, 2);
	recv_is(rx, 20, 2);
	T_OK(ipcx_peer(rx, &peer));
	T_ASSERT(peer.uid == 0 && peer.pid == getpid());
	T_OK(ipcx_close(tx));
	T_OK(ipcx_close(rx));
	t_sync_close(&a.sync);
}

static int child_nobody_receives(void *arg)
{
	struct peer_arg *a = arg;
	char opts[96];
	ipcx_chan *rx;

	become_nobody();
	snprintf(opts, sizeof(opts), "%s%smode=0666", a->c->tp->opts,
	         *a->c->tp->opts ? "&" : "");
	open_rx(a->c, opts, &rx);
	t_notify_parent(&a->sync);
	recv_is(rx, mlen(a->c, 30), 7);
	ipcx_close(rx);
	return 0;
}

/*
 * An object owned by another uid (nobody's, mode 0666) is refused, even to
 * root, unless ?trust=any.
 */
static void case_foreign_owner(struct ctx *c)
{
	struct peer_arg a = {.c = c};
	ipcx_chan *tx = NULL;
	char opts[96];
	pid_t pid;
	int st, r;

	if (geteuid() != 0) {
		fprintf(stderr, "  (not root: no second uid to test with)\n");
		return;
	}
	t_sync_init(&a.sync);
	pid = t_fork(child_nobody_receives, &a);
	t_wait_child(&a.sync);
	r = ipcx_open(ctx_ep(c, c->tp->opts), IPCX_SEND, &tx);
	if (r != IPCX_EACCES) {
		fprintf(stderr, "another uid's object: %s (%s), want EACCES\n",
		        ipcx_errname(r), r ? ipcx_errmsg() : "opened");
		kill(pid, SIGKILL);
		exit(T_EXIT_FAIL);
	}
	T_ASSERT(strstr(ipcx_errmsg(), "trust=any") != NULL);
	snprintf(opts, sizeof(opts), "%s%strust=any", c->tp->opts,
	         *c->tp->opts ? "&" : "");
	open_tx(c, opts, &tx);
	send_msg(tx, mlen(c, 30), 7);
	st = t_waitpid(pid, LONG_MS);
	T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	T_OK(ipcx_close(tx));
	t_sync_close(&a.sync);
}

struct kase {
	const char *name;
	void (*fn)(struct ctx *c);
	unsigned needs; /* every C_* bit here */
	unsigned avoid; /* none of these */
	int needs_obj;  /* a file system object to stat */
};

static const struct kase cases[] = {
    {"roundtrip", case_roundtrip, 0, 0, 0},
    {"boundaries", case_boundaries, C_FRAMED, 0, 0},
    {"flood", case_flood, C_FRAMED, C_LOSSY, 0},
    {"sendv", case_sendv, 0, 0, 0},
    {"sizes", case_sizes, C_FRAMED, 0, 0},
    {"rx-limit", case_rx_limit, C_STREAM | C_SEP, 0, 0},
    {"timeout", case_timeout, 0, 0, 0},
    {"enobufs", case_enobufs, C_FRAMED, 0, 0},
    {"pollable", case_pollable, 0, C_NOFD, 0},
    {"no-fd", case_no_fd, C_NOFD, 0, 0},
    {"mode", case_mode, C_MODE, 0, 1},
    {"bad-names", case_bad_names, 0, 0, 0},
    {"sender-exits", case_sender_exits, 0, C_VALUE, 0},
    {"receiver-exits", case_receiver_exits, 0, C_VALUE, 0},
    {"fanin", case_fanin, C_FANIN, 0, 0},
    {"peer-cred", case_peer_cred, C_CRED, 0, 0},
    {"foreign-owner", case_foreign_owner, C_OWNER, 0, 0},
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

int main(int argc, char **argv)
{
	int ran = 0;

	/* Default SIGPIPE: a library that lets it through kills the test. */
	signal(SIGPIPE, SIG_DFL);
	/* Objects must be 0600 because ipcx says so, not thanks to umask. */
	umask(0);
	t_seed();
	for (size_t i = 0; i < NTPS; i++) {
		FILE *f;
		long v;
		struct statfs sf;
		/* Without the mqueue mount there is no file to stat. */
		if (!strcmp(tps[i].name, "mq") &&
		    (statfs("/dev/mqueue", &sf) < 0 ||
		     sf.f_type != 0x19800202 /* MQUEUE_MAGIC */)) {
			fprintf(stderr, "/dev/mqueue is not mounted: mq's "
			                "mode case is skipped\n");
			tps[i].obj = NULL;
		}
		/* sysv-mq: the largest message is the system's msgmax. */
		if ((tps[i].caps & C_KEY) &&
		    (f = fopen("/proc/sys/kernel/msgmax", "r"))) {
			if (fscanf(f, "%ld", &v) == 1 && v > 0 && v < 65536)
				tps[i].limit = (size_t)v;
			fclose(f);
		}
		/* ... unless a new queue holds less (msgmnb). */
		if ((tps[i].caps & C_KEY) &&
		    (f = fopen("/proc/sys/kernel/msgmnb", "r"))) {
			if (fscanf(f, "%ld", &v) == 1 && v > 0 &&
			    (size_t)v < tps[i].limit)
				tps[i].limit = (size_t)v;
			fclose(f);
		}
	}
	for (size_t i = 0; i < NTPS; i++)
		if (tps[i].limit == 0 && (tps[i].caps & C_FRAMED))
			tps[i].limit =
			    ipcx__ring_max_msg(ipcx__ring_data_size(64 << 10));

	for (size_t i = 0; i < NTPS; i++) {
		const struct tp *tp = &tps[i];
		if (argc > 1 && strcmp(argv[1], tp->name) != 0)
			continue;
		for (size_t k = 0; k < NCASES; k++) {
			const struct kase *ks = &cases[k];
			struct ctx c;
			if (argc > 2 && strcmp(argv[2], ks->name) != 0)
				continue;
			if ((tp->caps & ks->needs) != ks->needs ||
			    (tp->caps & ks->avoid) ||
			    (ks->needs_obj && !tp->obj))
				continue;
			fprintf(stderr, "%s/%s\n", tp->name, ks->name);
			t_leak_begin();
			ctx_init(&c, tp, "conf");
			ks->fn(&c);
			ctx_cleanup(&c);
			t_leak_end();
			ran++;
		}
	}
	if (ran == 0) {
		fprintf(stderr, "no case matched\n");
		return argc > 1 ? T_EXIT_FAIL : T_EXIT_SKIP;
	}
	printf("%d cases passed\n", ran);
	return T_EXIT_PASS;
}
