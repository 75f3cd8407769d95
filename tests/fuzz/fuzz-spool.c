/*
 * fuzz-spool.c - libFuzzer harness for the file:// spool format: entry
 * names and message headers (src/transport/spool.c), and a receiver
 * facing a hostile message file.
 *
 * Input: [0] flags, then bytes.
 *   flags & 1: the bytes (up to 300, cut at a NUL) are a directory entry
 *     name: ipcx__spool_kind() must agree with a plain reading of the
 *     formats in spool.h.
 *   else: the bytes are a message file. ipcx__spool_hdr_get() accepts it
 *     only if it is exactly what ipcx__spool_hdr_put() writes for its
 *     payload; then the bytes are put in a spool as a message and a
 *     receiver takes it: it must deliver exactly the payload when the
 *     header is good and answer IPCX_ECORRUPT otherwise, never crash,
 *     never hang, never allocate by what a header announces.
 * Build and run: make fuzz.
 */
#include "internal.h"

#include "../../src/transport/spool.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MSG "m.00000000000000000001.0000000000000000.0000000000000000"

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz-spool: %s\n", what);
		abort();
	}
}

static bool digits(const char *s, size_t n, bool hex)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (hex && s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* The formats of spool.h, read as plainly as possible. */
static enum ipcx__spool_kind ref_kind(const char *s)
{
	size_t n = strlen(s);

	if (n == 56 && !strncmp(s, "m.", 2) && digits(s + 2, 20, false) &&
	    s[22] == '.' && digits(s + 23, 16, true) && s[39] == '.' &&
	    digits(s + 40, 16, true))
		return IPCX__SPOOL_MSG;
	if (n == 73 && !strncmp(s, "c.", 2) && digits(s + 2, 20, false) &&
	    s[22] == '.' && digits(s + 23, 16, true) && s[39] == '.' &&
	    digits(s + 40, 16, true) && s[56] == '.' &&
	    digits(s + 57, 16, true))
		return IPCX__SPOOL_CLAIM;
	if (n == 35 && !strncmp(s, "t.", 2) && digits(s + 2, 16, true) &&
	    s[18] == '.' && digits(s + 19, 16, true))
		return IPCX__SPOOL_TMP;
	if (n > 2 && !strncmp(s, "x.", 2))
		return IPCX__SPOOL_ASIDE;
	return IPCX__SPOOL_OTHER;
}

static char dir[64];
static char ep[96];
static ipcx_chan *rx;

static void spool_empty(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d && (e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			unlinkat(dirfd(d), e->d_name, 0);
	if (d)
		closedir(d);
}

static void spool_fini(void)
{
	ipcx_close(rx);
	spool_empty();
	rmdir(dir);
}

static void one_file(const uint8_t *b, size_t n)
{
	uint8_t hdr[IPCX__SPOOL_HDR], *out;
	uint64_t len = 0;
	uint32_t pid = 0;
	char path[160];
	ssize_t r;
	int good, fd;

	good = ipcx__spool_hdr_get(b, n, n, &len, &pid) == 0;
	if (good) {
		check(len == n - IPCX__SPOOL_HDR, "length is not the rest");
		ipcx__spool_hdr_put(hdr, len, pid);
		check(!memcmp(hdr, b, IPCX__SPOOL_HDR),
		      "accepted a header hdr_put would not write");
	}
	if (!rx) {
		snprintf(dir, sizeof(dir), "/tmp/ipcx-fuzz-spool-%ld",
		         (long)getpid());
		snprintf(ep, sizeof(ep), "file://%s?maxmsg=1M", dir);
		check(ipcx_open(ep, IPCX_RECV, &rx) == 0, "open the spool");
		atexit(spool_fini);
	}
	snprintf(path, sizeof(path), "%s/" MSG, dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	check(fd >= 0, "create the message file");
	check(write(fd, b, n) == (ssize_t)n, "write the message file");
	close(fd);
	out = malloc(n + 1);
	check(out != NULL, "malloc");
	r = ipcx_recv(rx, out, n + 1, 0);
	if (good) {
		check(r == (ssize_t)len, "a good message not delivered");
		check(!memcmp(out, b + IPCX__SPOOL_HDR, len), "wrong payload");
	} else {
		check(r == IPCX_ECORRUPT, "a bad message not refused");
	}
	free(out);
	/* A delivered message is gone from the spool (a leftover would be
	 * delivered again by the next input's receive, which checks it); a
	 * refused one was set aside: remove it. */
	if (!good)
		spool_empty();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[301];
	size_t n;

	if (size < 1)
		return 0;
	if (data[0] & 1) {
		n = size - 1 < 300 ? size - 1 : 300;
		memcpy(name, data + 1, n);
		name[n] = '\0';
		check(ipcx__spool_kind(name) == ref_kind(name),
		      "spool_kind disagrees with the format");
		return 0;
	}
	if (size - 1 <= (1u << 16))
		one_file(data + 1, size - 1);
	return 0;
}
