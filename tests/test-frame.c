/*
 * test-frame.c - the stream frame header (src/core/frame.c): big-endian on
 * the wire, every length round-trips, the limit is inclusive, and a refused
 * header still tells its length.
 */
#include "ipcx.h"
#include "internal.h"
#include "t.h"

#include <string.h>

static void test_wire(void)
{
	uint8_t h[IPCX__FRAME_HDR];

	ipcx__frame_put(h, 0x01020304u);
	T_ASSERT(memcmp(h, "\1\2\3\4", 4) == 0);
	T_ASSERT(ipcx__frame_len(h) == 0x01020304u);
	ipcx__frame_put(h, 0);
	T_ASSERT(memcmp(h, "\0\0\0\0", 4) == 0);
	ipcx__frame_put(h, UINT32_MAX);
	T_ASSERT(memcmp(h, "\377\377\377\377", 4) == 0);
	T_ASSERT(ipcx__frame_len(h) == UINT32_MAX);
}

static void test_roundtrip(void)
{
	uint8_t h[IPCX__FRAME_HDR];
	uint32_t len;

	for (int i = 0; i < 10000; i++) {
		uint32_t n = t_rand();
		ipcx__frame_put(h, n);
		T_OK(ipcx__frame_get(h, UINT32_MAX, &len));
		T_ASSERT(len == n);
	}
}

static void test_limit(void)
{
	uint8_t h[IPCX__FRAME_HDR];
	uint32_t len = 0;

	ipcx__frame_put(h, 1024);
	T_OK(ipcx__frame_get(h, 1024, &len));
	T_ASSERT(len == 1024);
	len = 0;
	T_EXPECT(ipcx__frame_get(h, 1023, &len), IPCX_EMSGSIZE);
	T_ASSERT(len == 1024); /* for the caller's own message */
	T_ASSERT(strstr(ipcx_errmsg(), "1024") != NULL);
	T_ASSERT(strstr(ipcx_errmsg(), "?maxmsg=") != NULL);
	ipcx__frame_put(h, 0);
	T_OK(ipcx__frame_get(h, 0, &len));
	T_ASSERT(len == 0);
}

int main(void)
{
	test_wire();
	test_roundtrip();
	test_limit();
	return T_EXIT_PASS;
}
