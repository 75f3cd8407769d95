/*
 * spool.c - parse and write the file:// spool format (spool.h): entry
 * names and message headers. Safe on hostile input: reads only the bytes
 * it is given (tests/fuzz/fuzz-spool.c).
 */
#include "spool.h"

#include <string.h>

/* n characters of s, each a decimal (hex: also a-f) digit. */
static bool spool_digits(const char *s, size_t n, bool hex)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (hex && c >= 'a' && c <= 'f')))
			return false;
	}
	return true;
}

/* "<20 dec>.<16 hex>.<16 hex>" at s (54 characters). */
static bool spool_msg_tail(const char *s)
{
	return spool_digits(s, 20, false) && s[20] == '.' &&
	       spool_digits(s + 21, 16, true) && s[37] == '.' &&
	       spool_digits(s + 38, 16, true);
}

enum ipcx__spool_kind ipcx__spool_kind(const char *name)
{
	size_t n = strnlen(name, IPCX__SPOOL_CLAIM_LEN + 1);

	if (n < 2 || name[1] != '.')
		return IPCX__SPOOL_OTHER;
	switch (name[0]) {
	case 'm':
		if (n == IPCX__SPOOL_MSG_LEN && spool_msg_tail(name + 2))
			return IPCX__SPOOL_MSG;
		break;
	case 'c':
		if (n == IPCX__SPOOL_CLAIM_LEN && spool_msg_tail(name + 2) &&
		    name[56] == '.' && spool_digits(name + 57, 16, true))
			return IPCX__SPOOL_CLAIM;
		break;
	case 't':
		if (n == IPCX__SPOOL_TMP_LEN &&
		    spool_digits(name + 2, 16, true) && name[18] == '.' &&
		    spool_digits(name + 19, 16, true))
			return IPCX__SPOOL_TMP;
		break;
	case 'x':
		if (n > 2)
			return IPCX__SPOOL_ASIDE;
		break;
	}
	return IPCX__SPOOL_OTHER;
}

static void spool_put_le(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t spool_get_le(const uint8_t *p, int bytes)
{
	uint64_t v = 0;

	for (int i = bytes - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

void ipcx__spool_hdr_put(uint8_t h[IPCX__SPOOL_HDR], uint64_t len, uint32_t pid)
{
	memset(h, 0, IPCX__SPOOL_HDR);
	memcpy(h, "IPXF", 4);
	h[4] = IPCX__SPOOL_VERSION;
	h[5] = IPCX__SPOOL_HDR;
	spool_put_le(h + 8, pid, 4);
	spool_put_le(h + 16, len, 8);
}

int ipcx__spool_hdr_get(const uint8_t *h, size_t n, uint64_t file_size,
                        uint64_t *len, uint32_t *pid)
{
	uint64_t l;

	if (n < IPCX__SPOOL_HDR || file_size < IPCX__SPOOL_HDR ||
	    memcmp(h, "IPXF", 4) != 0 || h[4] != IPCX__SPOOL_VERSION ||
	    h[5] != IPCX__SPOOL_HDR || h[6] || h[7] ||
	    spool_get_le(h + 12, 4) != 0)
		return IPCX_ECORRUPT;
	l = spool_get_le(h + 16, 8);
	/* Exactly the rest of the file: a torn file cannot pass. */
	if (l != file_size - IPCX__SPOOL_HDR)
		return IPCX_ECORRUPT;
	*len = l;
	*pid = (uint32_t)spool_get_le(h + 8, 4);
	return 0;
}
