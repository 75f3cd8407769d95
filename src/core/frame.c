/*
 * frame.c - the stream frame header: a 4-byte big-endian payload length
 * (docs/FORMAT.md section 1). Decoding checks the length against the
 * receiver's limit before anyone allocates or reads the payload.
 */
#include "internal.h"

/* See internal.h. */
void ipcx__frame_put(uint8_t hdr[IPCX__FRAME_HDR], uint32_t len)
{
	hdr[0] = (uint8_t)(len >> 24);
	hdr[1] = (uint8_t)(len >> 16);
	hdr[2] = (uint8_t)(len >> 8);
	hdr[3] = (uint8_t)len;
}

/* See internal.h. Reads four bytes, checks nothing. */
uint32_t ipcx__frame_len(const uint8_t hdr[IPCX__FRAME_HDR])
{
	return (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
	       (uint32_t)hdr[2] << 8 | (uint32_t)hdr[3];
}

/* See internal.h. */
int ipcx__frame_get(const uint8_t hdr[IPCX__FRAME_HDR], size_t maxmsg,
                    uint32_t *len)
{
	uint32_t n = ipcx__frame_len(hdr);

	*len = n; /* the caller may name it in its own message */
	if (n > maxmsg)
		return ipcx__err(
		    IPCX_EMSGSIZE,
		    "frame announces %u bytes, above the receiver's "
		    "limit of %zu (raise it with ?maxmsg=)",
		    n, maxmsg);
	return 0;
}
