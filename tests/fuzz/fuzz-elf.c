/*
 * fuzz-elf.c - libFuzzer harness for ipcx__elf_parse_mem(), the bounded
 * ELF section-header reader behind `ipcx maps` (src/inspect/elf.c). Any
 * executable a process runs can be hostile. Checked on every input:
 *   - the result is 0, IPCX_ECORRUPT or IPCX_ENOMEM, and nothing is read
 *     outside the input (exact-size heap copy; ASan);
 *   - on success the class is 32 or 64 and no found section wraps the
 *     address space;
 *   - a copy with bytes appended parses to the same answer (the reader
 *     never looks at bytes it does not need).
 * Build and run: make fuzz.
 */
#include "internal.h"
#include "../../src/inspect/inspect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Field by field: the struct has padding memcmp would see. */
static int same(const struct ipcx__elf *a, const struct ipcx__elf *b)
{
	int k;

	if (a->bits != b->bits || a->type != b->type ||
	    a->machine != b->machine || a->load_vaddr != b->load_vaddr ||
	    a->has_load != b->has_load)
		return 0;
	for (k = 0; k < IPCX__SEC_COUNT; k++)
		if (a->sec[k].present != b->sec[k].present ||
		    a->sec[k].addr != b->sec[k].addr ||
		    a->sec[k].size != b->sec[k].size)
			return 0;
	return 1;
}

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz-elf: invariant broken: %s\n", what);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *buf = malloc(size ? size : 1), *big;
	struct ipcx__elf e, e2;
	int k, rc;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	rc = ipcx__elf_parse_mem(buf, size, &e);
	check(rc == 0 || rc == IPCX_ECORRUPT || rc == IPCX_ENOMEM,
	      "result is 0, ECORRUPT or ENOMEM");
	if (rc == 0) {
		check(e.bits == 32 || e.bits == 64, "class 32 or 64");
		for (k = 0; k < IPCX__SEC_COUNT; k++)
			check(!e.sec[k].present ||
			          e.sec[k].addr + e.sec[k].size >=
			              e.sec[k].addr,
			      "no section wraps");
		big = malloc(size + 64);
		if (big != NULL) {
			memcpy(big, buf, size);
			memset(big + size, 0xa5, 64);
			check(ipcx__elf_parse_mem(big, size + 64, &e2) == 0 &&
			          same(&e, &e2),
			      "appended bytes change nothing");
			free(big);
		}
	}
	free(buf);
	return 0;
}
