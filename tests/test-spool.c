/*
 * test-spool.c - the file:// spool format on its own (src/transport/
 * spool.c): which entry names are messages, temporary files, claims or
 * set aside, and the message header both ways, hostile lengths included.
 * The spool itself (writers, receivers, clean) is in test-file.c.
 */
#include "../src/transport/spool.h"
#include "t.h"

#include <string.h>

int main(void)
{
	static const char msg[] =
	    "m.00000000000000000042.00000000000000ab.0000000000000001";
	static const char tmp[] = "t.00000000000000ab.0000000000000001";
	uint8_t h[IPCX__SPOOL_HDR];
	uint64_t len;
	uint32_t pid;
	char claim[IPCX__SPOOL_CLAIM_LEN + 1];

	T_ASSERT(strlen(msg) == IPCX__SPOOL_MSG_LEN);
	T_ASSERT(ipcx__spool_kind(msg) == IPCX__SPOOL_MSG);
	T_ASSERT(ipcx__spool_kind(tmp) == IPCX__SPOOL_TMP);
	snprintf(claim, sizeof(claim), "c.%s.00000000000000cd", msg + 2);
	T_ASSERT(ipcx__spool_kind(claim) == IPCX__SPOOL_CLAIM);
	T_ASSERT(ipcx__spool_kind("x.anything") == IPCX__SPOOL_ASIDE);
	/* Not ipcx's: left alone. */
	T_ASSERT(ipcx__spool_kind("notes.txt") == IPCX__SPOOL_OTHER);
	T_ASSERT(ipcx__spool_kind("m.42") == IPCX__SPOOL_OTHER);
	T_ASSERT(ipcx__spool_kind(".") == IPCX__SPOOL_OTHER);
	T_ASSERT(ipcx__spool_kind("") == IPCX__SPOOL_OTHER);
	T_ASSERT(
	    ipcx__spool_kind(
	        "m.0000000000000000004x.00000000000000ab.0000000000000001") ==
	    IPCX__SPOOL_OTHER);

	ipcx__spool_hdr_put(h, 10, 1234);
	T_OK(ipcx__spool_hdr_get(h, sizeof(h), IPCX__SPOOL_HDR + 10, &len,
	                         &pid));
	T_ASSERT(len == 10 && pid == 1234);
	/* The payload length must be exactly the rest of the file. */
	T_EXPECT(
	    ipcx__spool_hdr_get(h, sizeof(h), IPCX__SPOOL_HDR + 9, &len, &pid),
	    IPCX_ECORRUPT);
	T_EXPECT(
	    ipcx__spool_hdr_get(h, sizeof(h), IPCX__SPOOL_HDR + 11, &len, &pid),
	    IPCX_ECORRUPT);
	T_EXPECT(ipcx__spool_hdr_get(h, 3, 100, &len, &pid), IPCX_ECORRUPT);
	h[0] ^= 1; /* the magic */
	T_EXPECT(
	    ipcx__spool_hdr_get(h, sizeof(h), IPCX__SPOOL_HDR + 10, &len, &pid),
	    IPCX_ECORRUPT);
	ipcx__spool_hdr_put(h, UINT64_MAX, 1);
	T_EXPECT(ipcx__spool_hdr_get(h, sizeof(h), 100, &len, &pid),
	         IPCX_ECORRUPT);
	return T_EXIT_PASS;
}
