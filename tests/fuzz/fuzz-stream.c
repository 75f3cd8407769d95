/*
 * fuzz-stream.c - libFuzzer harness for the stream receive codec alone
 * (src/core/stream.c), in memory: the codec's own state machine (header,
 * read buffer, direct reads into the caller's buffer, the kept partial
 * frame and its growth) reads the fuzzer's bytes through
 * ipcx__stream_feed, with no file descriptor and no system call, so it
 * runs long. fuzz-frame.c keeps the end-to-end path through ipcx_open and
 * real pipes and sockets.
 *
 * Input: [0] flags, [1..2] maxmsg (big-endian), [3..4] receive buffer
 * size, then the bytes of a stream (the format of fuzz-frame's corpus).
 * flags & 1: maxmsg is the default instead. (flags >> 4) & 3 chooses how
 * the stream is cut into the chunks the codec's reads see: 0 whole; 1 and
 * 2 pseudo-random 1-7 and 1-600 bytes (flags >> 6 seeds them); 3 chosen
 * by the input: a count byte (k: its low 6 bits) and k cut bytes come
 * before the stream,
 * chunk i is (c_i + 1) << 2 * (flags >> 6) bytes. flags & 8: the end of
 * the stream comes with its last chunk rather than after it. After every
 * chunk the codec is asked (ipcx__stream_try) for everything it has
 * whole: each message must be exactly the next frame of a reference
 * decode, a partial one must stay kept (never delivered torn, never lost,
 * every fed byte taken), IPCX_ENOBUFS must report the frame's size and
 * leave it for a bigger buffer, and at the end IPCX_EPEER or
 * IPCX_EMSGSIZE must say why, exactly as the reference decode predicts.
 * No allocation may exceed maxmsg plus the fixed read buffer.
 * Build and run: make fuzz.
 */
#include "stream.h"

#define FUZZ_NAME "fuzz-stream"
#include "fuzz-watch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The largest fixed buffer a stream may keep besides one message. */
#define FIXED_SLACK (64u << 10)
/* The end-to-end harness's bound, so both read the same corpus alike. */
#define MAX_STREAM 60000
/* Pseudo-random cuts for at most this many chunks, then the rest whole. */
#define MAX_CHUNKS 64
/* Take a partial frame into a buffer of its size (the direct path) only
 * up to this size: a 16 MiB malloc per input would slow everything. */
#define BIG_PARTIAL (256u << 10)

static ipcx_chan ch;

/*
 * A buffer of exactly n <= BIG_PARTIAL bytes as far as ASan can tell at
 * its end: the tail of one allocation made before the first input (a
 * malloc of this size per input would cost an mmap and a munmap).
 */
static uint8_t *big;

static uint8_t *big_buffer(size_t n)
{
	return big + BIG_PARTIAL - n;
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
	uint8_t *big;
	int again = 0;

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
			if (k == R_SHORT && wlen > BIG_PARTIAL)
				return end; /* the rest is still on its way */
			/* A buffer its size: the frame whole, or its part
			 * read straight there and kept by the codec. */
			big = big_buffer(wlen);
			got = ipcx__stream_try(st, big, wlen, &ch);
			if (got == IPCX_EAGAIN && end && k == R_SHORT) {
				/* As below: the end is read next time. */
				check(st->memlen == 0, "every fed byte taken");
				got = ipcx__stream_try(st, big, wlen, &ch);
			}
			if (k == R_MSG) {
				check(got == (ssize_t)wlen,
				      "the kept frame, whole");
				check(!memcmp(big, want, wlen), "its bytes");
				r->off += IPCX__FRAME_HDR + wlen;
				continue;
			}
			if (!end) {
				check(got == IPCX_EAGAIN,
				      "partial big frame -> EAGAIN, kept");
				check(st->memlen == 0, "every fed byte taken");
				return 0;
			}
			check(got == IPCX_EPEER && !st->hup,
			      "torn end of a big frame -> EPEER");
			return 1;
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
		if (got == IPCX_EAGAIN) {
			check(st->memlen == 0, "every fed byte taken");
			/* At the end: a short read told the codec the buffer
			 * was empty, so it did not read again; the next
			 * receive reads the end (once, not forever). */
			if (end && !again++)
				continue;
		}
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
	const uint8_t *cuts = NULL;
	uint8_t *buf, flags;
	size_t cap, sent = 0, ncuts = 0;
	uint32_t seed;
	int ended = 0, mode, shift, end_with_last;

	if (!hooked) {
		fuzz_watch_install();
		big = malloc(BIG_PARTIAL);
		check(big != NULL, "malloc");
		hooked = 1;
	}
	if (size < 5)
		return 0;
	flags = data[0];
	ipcx__ep_defaults(&ep, IPCX__S_UNIX);
	if (!(flags & 1))
		ep.maxmsg = (size_t)data[1] << 8 | data[2];
	cap = (size_t)data[3] << 8 | data[4];
	mode = (flags >> 4) & 3;
	shift = 2 * (flags >> 6);
	end_with_last = (flags & 8) != 0;
	seed = 0x9e3779b9u ^ (uint32_t)(flags >> 6) ^ (uint32_t)size << 8;
	data += 5;
	size -= 5;
	if (mode == 3 && size > 0) {
		ncuts = (size_t)(data[0] & 63) < size - 1
		            ? (size_t)(data[0] & 63)
		            : size - 1;
		cuts = data + 1;
		data += 1 + ncuts;
		size -= 1 + ncuts;
	}
	r.s = data;
	r.n = size > MAX_STREAM ? MAX_STREAM : size;
	r.off = 0;
	r.maxmsg = ep.maxmsg;

	ipcx__stream_init(&st, -1, IPCX__ST_MEM, &ep, "fuzz");
	buf = malloc(cap ? cap : 1);
	check(buf != NULL, "malloc");

	biggest = 0;
	watching = 1;
	for (size_t w = 0; !ended && sent < r.n; w++) {
		/* The cut points: one chunk, or up to MAX_CHUNKS chosen ones
		 * and then the rest. */
		size_t k = r.n - sent;
		uint32_t x = next_rand(&seed);
		int last;

		if (w < MAX_CHUNKS && mode == 1)
			k = 1 + x % 7;
		else if (w < MAX_CHUNKS && mode == 2)
			k = 1 + x % 600;
		else if (w < ncuts)
			k = ((size_t)cuts[w] + 1) << shift;
		if (k > r.n - sent)
			k = r.n - sent;
		last = sent + k == r.n;
		/* Bytes the codec left unread (a refused big frame's rest)
		 * stay in front, as in a kernel's buffer. */
		ipcx__stream_feed(&st, r.s + sent - st.memlen, st.memlen + k,
		                  last && end_with_last);
		sent += k;
		ended = drain(&st, &r, sent, buf, cap, last && end_with_last);
	}
	if (!ended) {
		ipcx__stream_feed(&st, r.s + sent - st.memlen, st.memlen, true);
		drain(&st, &r, sent, buf, cap, 1);
	}
	/* After the end, it stays ended. */
	check(ipcx__stream_try(&st, buf, cap, &ch) < 0, "ended stays ended");
	watching = 0;
	check(biggest <=
	          (ep.maxmsg > cap ? ep.maxmsg : cap) + FIXED_SLACK + 4096,
	      "no allocation beyond maxmsg");
	ipcx__stream_fini(&st);
	free(buf);
	return 0;
}
