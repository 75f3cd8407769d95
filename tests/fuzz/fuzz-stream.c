/*
 * fuzz-stream.c - libFuzzer harness for the stream receive codec alone
 * (src/core/stream.c), fast: no endpoint, no channel, one socketpair per
 * input. fuzz-frame.c keeps the slower end-to-end path through ipcx_open.
 *
 * Input: [0] flags, [1..2] maxmsg (big-endian), [3..4] receive buffer
 * size, then the bytes of a stream (the format of fuzz-frame's corpus).
 * flags & 1: maxmsg is the default instead; (flags >> 4) & 3 chooses how
 * the stream is cut into writes (whole; 1-7 bytes; 1-600; mixed, for the
 * first MAX_WRITES writes) and flags >> 6 seeds the cut points, so frames
 * arrive split at fuzzer-chosen places. After every write the codec
 * is asked (ipcx__stream_try) for everything it has whole: each message
 * must be exactly the next frame of a reference decode, a partial one
 * must stay kept (never delivered torn, never lost), IPCX_ENOBUFS must
 * report the frame's size and leave it for a bigger buffer, and at the end
 * (the writer shut down) IPCX_EPEER or IPCX_EMSGSIZE must say why, exactly
 * as the reference decode predicts. No allocation may exceed maxmsg plus
 * the fixed read buffer.
 * Build and run: make fuzz.
 */
#include "stream.h"

#include <sanitizer/allocator_interface.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The largest fixed buffer a stream may keep besides one message. */
#define FIXED_SLACK (64u << 10)
/* Far below the socket buffer: a write never blocks. */
#define MAX_STREAM 60000
/* Cut into at most this many writes (each costs system calls). */
#define MAX_WRITES 64

static volatile int watching;
static volatile size_t biggest;

static void on_malloc(const volatile void *p, size_t n)
{
	(void)p;
	if (watching && n > biggest)
		biggest = n;
}

static void on_free(const volatile void *p)
{
	(void)p;
}

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz-stream: invariant broken: %s\n", what);
		abort();
	}
}

/* The reference decoder: where the next frame is, in the whole input. */
struct ref {
	const uint8_t *s;
	size_t n, off, maxmsg;
};

enum ref_kind { R_MSG, R_SHORT, R_BIG };

/*
 * The next frame among the first `avail` bytes: R_MSG (payload *msg, *len),
 * R_SHORT (not all there yet; *len set if its header is) or R_BIG.
 */
static enum ref_kind ref_peek(const struct ref *r, size_t avail,
                              const uint8_t **msg, uint32_t *len, int *hdr)
{
	*hdr = 0;
	if (avail - r->off < IPCX__FRAME_HDR)
		return R_SHORT;
	*len = ipcx__frame_len(r->s + r->off);
	*hdr = 1;
	if (*len > r->maxmsg)
		return R_BIG;
	if (avail - r->off - IPCX__FRAME_HDR < *len)
		return R_SHORT;
	*msg = r->s + r->off + IPCX__FRAME_HDR;
	return R_MSG;
}

/* A tiny PRNG for the write sizes (xorshift32). */
static uint32_t next_rand(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

/*
 * Take everything the codec has whole, checking each against the
 * reference. end: the writer is gone, so the last answer is final.
 * Returns 0 to go on, 1 when the stream ended (as it must have).
 */
static int drain(struct ipcx__stream *st, struct ref *r, size_t avail,
                 uint8_t *buf, size_t cap, int end)
{
	static ipcx_chan ch;
	uint8_t *big;

	for (;;) {
		const uint8_t *want = NULL;
		uint32_t wlen = 0;
		int hdr;
		enum ref_kind k = ref_peek(r, avail, &want, &wlen, &hdr);
		ssize_t got = ipcx__stream_try(st, buf, cap, &ch);

		if (got == IPCX_ENOBUFS) {
			check(hdr && wlen > cap && k != R_BIG,
			      "ENOBUFS only for a header announcing > cap");
			check(ch.has_pending && ch.pending == wlen,
			      "pending is the frame's size");
			if (k == R_SHORT)
				return 0; /* the rest is still on its way */
			/* A buffer its size: the frame, whole. */
			big = malloc(wlen ? wlen : 1);
			check(big != NULL, "malloc");
			got = ipcx__stream_try(st, big, wlen, &ch);
			check(got == (ssize_t)wlen, "the kept frame, whole");
			check(!memcmp(big, want, wlen), "its bytes");
			free(big);
			r->off += IPCX__FRAME_HDR + wlen;
			continue;
		}
		if (got >= 0) {
			check(k == R_MSG, "a message only where one is whole");
			check(got == (ssize_t)wlen, "its length");
			check(!memcmp(buf, want, wlen), "its bytes");
			r->off += IPCX__FRAME_HDR + wlen;
			continue;
		}
		if (k == R_BIG) {
			check(got == IPCX_EMSGSIZE, "oversized -> EMSGSIZE");
			check(st->killed, "an oversized header kills");
			return 1;
		}
		check(k == R_SHORT, "a whole frame was not delivered");
		if (!end) {
			check(got == IPCX_EAGAIN, "partial -> EAGAIN, kept");
			return 0;
		}
		check(got == IPCX_EPEER, "end of stream -> EPEER");
		check(st->hup == (r->off == r->n),
		      "clean only at a frame boundary");
		return 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int hooked;
	struct ipcx__stream st;
	struct ipcx__ep ep;
	struct ref r;
	uint8_t *buf;
	size_t cap, sent = 0;
	uint32_t seed;
	int sv[2], ended = 0, mode;

	if (!hooked) {
		__sanitizer_install_malloc_and_free_hooks(on_malloc, on_free);
		hooked = 1;
	}
	if (size < 5)
		return 0;
	ipcx__ep_defaults(&ep, IPCX__S_UNIX);
	if (!(data[0] & 1))
		ep.maxmsg = (size_t)data[1] << 8 | data[2];
	cap = (size_t)data[3] << 8 | data[4];
	mode = (data[0] >> 4) & 3;
	seed = 0x9e3779b9u ^ (uint32_t)(data[0] >> 6) ^ (uint32_t)size << 8;
	r.s = data + 5;
	r.n = size - 5 > MAX_STREAM ? MAX_STREAM : size - 5;
	r.off = 0;
	r.maxmsg = ep.maxmsg;

	check(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	                 sv) == 0,
	      "socketpair");
	ipcx__stream_init(&st, sv[0], IPCX__ST_SOCK, &ep, "fuzz");
	buf = malloc(cap ? cap : 1);
	check(buf != NULL, "malloc");

	biggest = 0;
	watching = 1;
	for (int w = 0; !ended && sent < r.n; w++) {
		/* The cut points: one write, or up to MAX_WRITES small or
		 * mixed ones and then the rest. */
		size_t k = r.n - sent;
		uint32_t x = next_rand(&seed);
		if (w < MAX_WRITES && mode == 1)
			k = 1 + x % 7;
		else if (w < MAX_WRITES && mode == 2)
			k = 1 + x % 600;
		else if (w < MAX_WRITES && mode == 3)
			k = 1 + x % (x & 1 ? 7 : 600);
		if (k > r.n - sent)
			k = r.n - sent;
		check(write(sv[1], r.s + sent, k) == (ssize_t)k, "write");
		sent += k;
		ended = drain(&st, &r, sent, buf, cap, 0);
	}
	shutdown(sv[1], SHUT_WR);
	if (!ended)
		drain(&st, &r, sent, buf, cap, 1);
	watching = 0;
	check(biggest <=
	          (ep.maxmsg > cap ? ep.maxmsg : cap) + FIXED_SLACK + 4096,
	      "no allocation beyond maxmsg");
	ipcx__stream_fini(&st);
	close(sv[1]);
	free(buf);
	return 0;
}
