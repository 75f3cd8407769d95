/*
 * sigval.c - signal:// values on the command line: parse decimal or 0x hex
 * into the 8-byte message, print a received one in decimal.
 */
#include "sigval.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

bool cli_is_signal(const char *ep)
{
	return strncmp(ep, "signal://", 9) == 0;
}

int cli_sigval_parse(const char *s, size_t n, uint8_t out[8])
{
	bool hex = n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
	unsigned base = hex ? 16 : 10;
	uint64_t x = 0;
	size_t i = hex ? 2 : 0;

	if (n == 0)
		return 0;
	for (; i < n; i++) {
		char c = s[i];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (hex && c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (hex && c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return -1;
		/* Above 64 bits is refused, never wrapped. */
		if (x > (UINT64_MAX - d) / base)
			return -1;
		x = x * base + d;
	}
	memcpy(out, &x, sizeof(x));
	return 8;
}

size_t cli_sigval_text(const char *ep, char *buf, size_t cap, size_t n)
{
	uint64_t x;

	if (!cli_is_signal(ep) || n != sizeof(x))
		return n;
	memcpy(&x, buf, sizeof(x));
	return (size_t)snprintf(buf, cap, "%" PRIu64, x);
}

void cli_sigval_listening(const char *ep)
{
	if (cli_is_signal(ep))
		fprintf(stderr, "ipcx: listening on signal://%ld\n",
		        (long)getpid());
}
