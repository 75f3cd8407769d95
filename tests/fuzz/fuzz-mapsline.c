/*
 * fuzz-mapsline.c - libFuzzer harness for ipcx__maps_parse_line(), the
 * /proc/PID/maps and smaps header line parser of the address-space
 * inspector. A mapping's path is any name a user gives a file, so the
 * parser meets hostile text. Checked on every input:
 *   - the result is 0 or IPCX_ECORRUPT, and nothing is read past size
 *     (the input sits in an exact-size heap buffer, no NUL after it);
 *   - on success start < end, the permissions are four of "rwxsp-", and
 *     the path lies inside the input;
 *   - parsing the same bytes again gives the same fields.
 * Build and run: make fuzz.
 */
#include "internal.h"
#include "../../src/inspect/inspect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz-mapsline: invariant broken: %s\n", what);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	struct ipcx__region r, r2;
	const char *path, *path2;
	size_t plen, plen2;
	int i, rc;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	rc = ipcx__maps_parse_line(buf, size, &r, &path, &plen);
	check(rc == 0 || rc == IPCX_ECORRUPT, "result is 0 or ECORRUPT");
	if (rc == 0) {
		check(r.start < r.end, "start < end");
		for (i = 0; i < 4; i++)
			check(r.perms[i] != '\0' &&
			          strchr("rwxsp-", r.perms[i]) != NULL,
			      "perms from rwxsp-");
		check(r.perms[4] == '\0', "perms end");
		check(path >= buf && path + plen <= buf + size,
		      "path inside the line");
		check(ipcx__maps_parse_line(buf, size, &r2, &path2, &plen2) ==
		              0 &&
		          r2.start == r.start && r2.end == r.end &&
		          r2.inode == r.inode && path2 == path && plen2 == plen,
		      "same result twice");
	}
	free(buf);
	return 0;
}
