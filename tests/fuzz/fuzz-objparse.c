/*
 * fuzz-objparse.c - libFuzzer harness for the parsers behind `ipcx ls`
 * (src/inspect/objparse.c): lines of /proc/sysvipc/{msg,shm,sem} and
 * /proc/net/unix, the QSIZE text of a /dev/mqueue file, and a ring's
 * header page.
 *
 * The first input byte picks the parser; the rest is its input, copied to
 * an exact-size heap buffer with one NUL after it (ASan catches a read past
 * it). For a System V line the input is "HEADER\nLINE". Checked on every
 * input:
 *   - each parser returns 0 or -1;
 *   - a System V key fits 32 bits, a mode 0777, and world_writable says
 *     mode & 002; a unix path fits its buffer and holds no newline;
 *   - a ring header gives at most the data size in bytes queued and a
 *     receiver pid of at most 32 bits.
 * Build and run: make fuzz.
 */
#include "../../src/inspect/objects.h"

#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz-objparse: invariant broken: %s\n", what);
		abort();
	}
}

static void sysv(char *s, unsigned pick)
{
	static const enum ipcx__obj_kind kinds[] = {
	    IPCX__OBJ_SYSV_MQ, IPCX__OBJ_SYSV_SHM, IPCX__OBJ_SYSV_SEM};
	char *nl = strchr(s, '\n');
	struct ipcx__obj o;
	int r;

	if (nl == NULL)
		return;
	*nl = '\0';
	memset(&o, 0, sizeof(o));
	r = ipcx__objs_sysv_line(s, nl + 1, kinds[pick % 3], &o);
	check(r == 0 || r == -1, "sysv: 0 or -1");
	if (r == 0) {
		check(o.key >= 0 && o.key <= 0xffffffffLL, "key fits 32 bits");
		check(o.mode >= 0 && o.mode <= 0777, "mode fits 0777");
		check(o.world_writable == ((o.mode & 002) != 0),
		      "world_writable is mode & 002");
	}
}

static void unixline(const char *s)
{
	char path[64];
	unsigned long ino;
	bool lis;
	int r = ipcx__objs_unix_line(s, &ino, &lis, path, sizeof(path));

	check(r == 0 || r == -1, "unix: 0 or -1");
	if (r == 0)
		check(strlen(path) < sizeof(path) && strchr(path, '\n') == NULL,
		      "path fits and holds no newline");
}

static void ring(const uint8_t *data, size_t size)
{
	static alignas(64) unsigned char page[IPCX__OBJS_RING_PAGE];
	long long file_size = 0;
	struct ipcx__obj o;
	int r;

	if (size >= 8) {
		memcpy(&file_size, data, 8);
		data += 8;
		size -= 8;
	}
	memset(page, 0, sizeof(page));
	memcpy(page, data, size < sizeof(page) ? size : sizeof(page));
	memset(&o, 0, sizeof(o));
	o.bytes = o.rx_pid = o.size = -1;
	r = ipcx__objs_ring_hdr(page, sizeof(page), file_size, &o);
	check(r == 0 || r == -1, "ring: 0 or -1");
	if (r == 0 && o.bytes >= 0)
		check(!o.corrupt && o.bytes <= o.size, "bytes <= data size");
	check(o.rx_pid <= 0xffffffffLL, "receiver pid fits 32 bits");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	long long q;
	char *s;
	int r;

	if (size < 1)
		return 0;
	if (data[0] % 4 == 3) {
		ring(data + 1, size - 1);
		return 0;
	}
	s = malloc(size);
	if (s == NULL)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (data[0] % 4) {
	case 0:
		sysv(s, data[0] / 4);
		break;
	case 1:
		unixline(s);
		break;
	default:
		r = ipcx__objs_qsize(s, &q);
		check(r == 0 || r == -1, "qsize: 0 or -1");
		check(r != 0 || q >= 0, "a queue size is not negative");
		break;
	}
	free(s);
	return 0;
}
