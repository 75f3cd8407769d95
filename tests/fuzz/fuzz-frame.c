/*
 * fuzz-frame.c - libFuzzer harness for stream framing.
 *
 * Input: [0] flags, [1..2] maxmsg (big-endian), [3..4] receive buffer
 * size, then the bytes of a stream. Two parts:
 *
 *   1. ipcx__frame_get() on the first stream bytes against maxmsg (and
 *      against arbitrary 64-bit limits): it agrees with a plain decode and
 *      with ipcx__frame_put().
 *   2. A framed receiver fed the stream: the bytes go into a pipe, the
 *      write end is closed, and "pipe://?fd=N&maxmsg=M" receives until it
 *      fails (flags & 4: a unix://@ listener instead, kept open across
 *      inputs with the same maxmsg, the bytes coming from a new raw
 *      connection per input, which exercises the fan-in path, where a
 *      clean end of stream is not an error: the listener waits for more
 *      senders). flags & 2: ipcx_recv_alloc receives (frames announcing
 *      up to ALLOC_MAX; a bigger one is taken with a buffer its size after
 *      IPCX_ENOBUFS, as without the flag). Each message must be exactly the
 * next frame of a reference decode of the same bytes; ENOBUFS must report the
 * right size and leave the frame for the next receive; the end must be
 * IPCX_EPEER (clean or torn end of stream) or IPCX_EMSGSIZE (header above the
 *      limit), never a hang (libFuzzer -timeout), never a crash. The
 *      sanitizer's malloc hook records every allocation made while
 *      receiving: none may exceed maxmsg plus the documented fixed read
 *      buffer, whatever length a header announces.
 * This end-to-end harness is the slow one (a pipe and a channel per
 * input); fuzz-stream.c runs the same codec in memory, fast, with the same
 * corpus format. Build and run: make fuzz.
 */
#include "internal.h"

#define FUZZ_NAME "fuzz-frame"
#include "fuzz-watch.h"

#include <fcntl.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The largest fixed buffer a stream may keep besides one message. */
#define FIXED_SLACK (64u << 10)
/* Stay below the pipe's default capacity: the stream is written at once. */
#define MAX_STREAM 60000

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void part_header(const uint8_t *h, size_t n, size_t maxmsg)
{
	static const size_t limits[] = {0, 1, 4096, 0xffffffffu, (size_t)-1};
	uint8_t hdr[IPCX__FRAME_HDR], back[IPCX__FRAME_HDR];
	uint32_t len = 0xdeadbeef;

	memset(hdr, 0, sizeof(hdr));
	memcpy(hdr, h, n < 4 ? n : 4);
	for (size_t i = 0; i <= sizeof(limits) / sizeof(limits[0]); i++) {
		size_t lim =
		    i < sizeof(limits) / sizeof(limits[0]) ? limits[i] : maxmsg;
		int r = ipcx__frame_get(hdr, lim, &len);
		if (be32(hdr) > lim) {
			check(r == IPCX_EMSGSIZE, "oversized -> EMSGSIZE");
			check(strstr(ipcx_errmsg(), "maxmsg") != NULL,
			      "message names the knob");
		} else {
			check(r == 0 && len == be32(hdr), "decode");
			ipcx__frame_put(back, len);
			check(!memcmp(back, hdr, 4), "put(get(h)) == h");
		}
	}
}

/*
 * Reference decode: the frame at *off, or why there is none. *len is set
 * whenever a whole header is there (R_TORN included: a receiver may report
 * IPCX_ENOBUFS from the header alone, before the payload arrives).
 */
enum ref { R_MSG, R_END, R_TORN, R_BIG };

static enum ref ref_next(const uint8_t *s, size_t n, size_t *off, size_t maxmsg,
                         const uint8_t **msg, uint32_t *len, int *have_hdr)
{
	*have_hdr = 0;
	if (*off == n)
		return R_END;
	if (n - *off < 4)
		return R_TORN;
	*len = be32(s + *off);
	*have_hdr = 1;
	if (*len > maxmsg)
		return R_BIG;
	if (n - *off - 4 < *len)
		return R_TORN;
	*msg = s + *off + 4;
	*off += 4 + (size_t)*len;
	return R_MSG;
}

/* A raw connection to the abstract unix socket @name. */
static int raw_connect(const char *name)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t n = strlen(name);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	check(fd >= 0 && n < sizeof(sa.sun_path) - 1, "socket");
	memcpy(sa.sun_path + 1, name, n);
	check(connect(fd, (struct sockaddr *)&sa,
	              (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
	                          n)) == 0,
	      "connect");
	return fd;
}

/*
 * The unix://@ listener, kept open across inputs while their maxmsg option
 * stays the same (each input's connection ends before the next one's:
 * a reused listener is how a real one lives). Closed at exit.
 */
static ipcx_chan *lst;
static char lst_ep[96];

static void lst_close(void)
{
	ipcx_close(lst);
	lst = NULL;
}

static ipcx_chan *lst_get(const char *opt, char *name, size_t namesz)
{
	char ep[96];

	snprintf(name, namesz, "ipcx-fuzz-frame-%d", (int)getpid());
	snprintf(ep, sizeof(ep), "unix://@%s%s%s", name, *opt ? "?" : "", opt);
	if (lst && strcmp(ep, lst_ep) != 0)
		lst_close();
	if (!lst) {
		static int once;
		int r = ipcx_open(ep, IPCX_RECV | IPCX_CREATE, &lst);

		if (r < 0)
			fprintf(stderr, "fuzz-frame: %s: %s\n", ep,
			        ipcx_errmsg());
		check(r == 0, "listen on unix://@");
		snprintf(lst_ep, sizeof(lst_ep), "%s", ep);
		if (!once++)
			atexit(lst_close);
	}
	return lst;
}

/*
 * A buffer of exactly n <= BIG bytes as far as ASan can tell at its end:
 * the tail of one allocation made before the first input (a malloc of up
 * to 16 MiB per input would dominate the run under ASan).
 */
#define BIG       (IPCX__DEFAULT_MAXMSG + 4096)
#define ALLOC_MAX (128u << 10)
static uint8_t *big;

static void part_stream(uint8_t flags, size_t maxmsg, size_t cap,
                        const uint8_t *s, size_t n)
{
	int listener = (flags & 4) != 0;
	char ep[96], opt[40] = "";
	int p[2], fd = -1;
	ipcx_chan *ch = NULL;
	size_t off = 0;
	uint8_t *buf;
	int r;

	if (flags & 1)
		maxmsg = IPCX__DEFAULT_MAXMSG;
	else
		snprintf(opt, sizeof(opt), "maxmsg=%zu", maxmsg);
	if (listener) {
		char name[40];
		ch = lst_get(opt, name, sizeof(name));
		p[1] = raw_connect(name);
	} else {
		check(pipe2(p, O_CLOEXEC) == 0, "pipe");
		fd = p[0];
		snprintf(ep, sizeof(ep), "pipe://?fd=%d%s%s", fd,
		         *opt ? "&" : "", opt);
		r = ipcx_open(ep, IPCX_RECV, &ch);
		check(r == 0, "open pipe://?fd=");
	}
	if (n)
		check(write(p[1], s, n) == (ssize_t)n, "prefill the stream");
	close(p[1]);
	buf = malloc(cap ? cap : 1);
	check(buf != NULL, "malloc");

	biggest = 0;
	watching = 1;
	for (;;) {
		const uint8_t *want = NULL;
		uint32_t wlen = 0;
		int hdr = 0;
		enum ref e = ref_next(s, n, &off, maxmsg, &want, &wlen, &hdr);
		/* A listener waits for more senders after a clean end: do
		 * not wait for them. Everything else is already there. */
		int tmo = listener && e == R_END ? 0 : 5000;
		ssize_t got;
		void *abuf = NULL;

		/* ipcx_recv_alloc allocates what a header announces, up to
		 * maxmsg: up to 16 MiB per input costs milliseconds under
		 * ASan, so a frame above ALLOC_MAX goes the ENOBUFS way. */
		int alloc = (flags & 2) && (!hdr || wlen <= ALLOC_MAX);

		if (alloc)
			got = ipcx_recv_alloc(ch, &abuf, tmo);
		else
			got = ipcx_recv(ch, buf, cap, tmo);
		if (got == IPCX_ENOBUFS) {
			check((e == R_MSG || e == R_TORN) && hdr && wlen > cap,
			      "ENOBUFS only for a header announcing > cap");
			check(ipcx_pending(ch) == (ssize_t)wlen,
			      "pending is the frame's size");
			/* The frame is still there: take it whole (flags &
			 * 2: ipcx_recv_alloc sizes it; else a buffer its
			 * size). */
			if (flags & 2 && wlen <= ALLOC_MAX) {
				got = ipcx_recv_alloc(ch, &abuf, 5000);
			} else {
				abuf = big + BIG - wlen;
				got = ipcx_recv(ch, abuf, wlen, 5000);
				if (got < 0)
					abuf = NULL;
			}
		}
		if (got >= 0) {
			const uint8_t *m = abuf ? abuf : buf;
			check(e == R_MSG,
			      "a message only where the stream has one");
			check(got == (ssize_t)wlen, "its length");
			check(!memcmp(m, want, wlen), "its bytes");
			if (abuf != big + BIG - wlen)
				free(abuf);
			continue;
		}
		check(abuf == NULL, "no buffer on failure");
		if (e == R_END && listener)
			check(got == IPCX_ETIMEDOUT,
			      "listener: clean end -> wait");
		else if (e == R_END || e == R_TORN)
			check(got == IPCX_EPEER, "end of stream -> EPEER");
		else if (e == R_BIG)
			check(got == IPCX_EMSGSIZE, "oversized -> EMSGSIZE");
		else
			check(0, "a whole frame was not delivered");
		break;
	}
	watching = 0;
	check(biggest <= (maxmsg > cap ? maxmsg : cap) + FIXED_SLACK + 4096,
	      "no allocation beyond maxmsg");
	/* After the end, it stays ended (a listener: nothing more). */
	check(ipcx_recv(ch, buf, cap, 0) < 0, "ended stays ended");
	free(buf);
	if (!listener) {
		check(ipcx_close(ch) == 0, "close");
		/* ?fd=N works on a copy: the caller's fd stays open. */
		check(fcntl(fd, F_GETFD) >= 0,
		      "?fd= leaves the caller's fd open");
		close(fd);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int hooked;
	size_t maxmsg, cap;

	if (!hooked) {
		fuzz_watch_install();
		big = malloc(BIG);
		check(big != NULL, "malloc");
		hooked = 1;
	}
	if (size < 5)
		return 0;
	maxmsg = (size_t)data[1] << 8 | data[2];
	cap = (size_t)data[3] << 8 | data[4];
	data += 5;
	size -= 5;
	if (size > MAX_STREAM)
		size = MAX_STREAM;
	part_header(data, size, maxmsg);
	part_stream(data[-5], maxmsg, cap, data, size);
	return 0;
}
