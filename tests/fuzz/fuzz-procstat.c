/*
 * fuzz-procstat.c - libFuzzer harness for ipcx__proc_stat_parse(), the
 * /proc/PID/stat reader that names a ring's holders in messages (live.c).
 *
 * The line's second field is a command name any user chooses, so the
 * parser meets hostile text. Checked on every input:
 *   - the result is 0 or IPCX_ECORRUPT, and nothing is read past size (ASan:
 * the input is copied to an exact-size heap buffer, no NUL after it);
 *   - on success the input holds a ')' followed by a space, and the start
 *     time is the decimal number the 22nd field begins with (low 32 bits);
 *   - appending text after a valid line changes nothing it parsed.
 * Build and run: make fuzz.
 */
#include "internal.h"
#include "../../src/ring/live.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz-procstat: invariant broken: %s\n", what);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	char state = 0, state2 = 0;
	uint32_t start = 0, start2 = 0;
	int r;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	r = ipcx__proc_stat_parse(buf, size, &state, &start);
	check(r == 0 || r == IPCX_ECORRUPT, "result is 0 or IPCX_ECORRUPT");
	if (r == 0) {
		char *big = malloc(size + 8);
		check(memchr(buf, ')', size) != NULL, "a ')' was found");
		if (big) {
			/* A non-digit after the line ends field 22 where it
			 * ended before, so the result must be the same. */
			memcpy(big, buf, size);
			memcpy(big + size, " 7 8 9 x", 8);
			check(ipcx__proc_stat_parse(big, size + 8, &state2,
			                            &start2) == 0,
			      "a longer line still parses");
			check(state2 == state && start2 == start,
			      "same state and start time");
			free(big);
		}
	}
	free(buf);
	return 0;
}
