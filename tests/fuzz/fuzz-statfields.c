/*
 * fuzz-statfields.c - libFuzzer harness for ipcx__proc_stat_fields(), the
 * /proc/PID/stat reader behind `ipcx maps` (flags, kstkesp, start_brk).
 * The command name in field 2 is any text a user chooses, parentheses and
 * spaces included. Checked on every input:
 *   - the result is IPCX_ECORRUPT or a count from 2 to the fields asked,
 *     and nothing is read past size (exact-size heap copy; ASan);
 *   - a success means the input holds a ')';
 *   - fields past the count are 0.
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
		fprintf(stderr, "fuzz-statfields: invariant broken: %s\n",
		        what);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	uint64_t f[52];
	int n, k;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	n = ipcx__proc_stat_fields(buf, size, f, 52);
	check(n == IPCX_ECORRUPT || (n >= 2 && n <= 52), "result in range");
	if (n >= 2) {
		check(memchr(buf, ')', size) != NULL, "a ')' was found");
		for (k = n; k < 52; k++)
			check(f[k] == 0, "fields past the count are 0");
	}
	free(buf);
	return 0;
}
