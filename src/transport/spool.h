/*
 * spool.h - the on-disk format of a file:// spool (docs/FORMAT.md section
 * 5): what each directory entry's name means, and the header at the start
 * of each message file. Pure functions, no system calls: file.c uses them,
 * tests/fuzz/fuzz-spool.c feeds them hostile names and headers.
 *
 * Names in a spool directory (every number fixed-width, so that names sort
 * as their numbers do):
 *   m.<stamp>.<chan>.<seq>        a message, ready (stamp: 20 decimal digits
 *                                 of CLOCK_REALTIME ns at commit; chan: 16
 *                                 hex digits naming the sending channel;
 *                                 seq: 16 hex digits, its count)
 *   t.<chan>.<seq>                a message being written (an OFD write lock
 *                                 is held on it while its writer lives)
 *   c.<stamp>.<chan>.<seq>.<rx>   a message claimed by receiver <rx> (16 hex
 *                                 digits), which holds an OFD read lock
 *   x.<anything>                  an entry refused as a message, moved aside
 * Anything else is not ipcx's and is left alone.
 */
#ifndef IPCX_SPOOL_H
#define IPCX_SPOOL_H

#include "internal.h"

#include <stddef.h>
#include <stdint.h>

/* A message file: the header, then the payload. */
#define IPCX__SPOOL_HDR     24
#define IPCX__SPOOL_VERSION 1
/* "m." + 20 + "." + 16 + "." + 16 */
#define IPCX__SPOOL_MSG_LEN 56
/* "c." + the 54 after "m." + "." + 16 */
#define IPCX__SPOOL_CLAIM_LEN 73
/* "t." + 16 + "." + 16 */
#define IPCX__SPOOL_TMP_LEN 35

enum ipcx__spool_kind {
	IPCX__SPOOL_OTHER, /* not ipcx's: left alone */
	IPCX__SPOOL_MSG,
	IPCX__SPOOL_TMP,
	IPCX__SPOOL_CLAIM,
	IPCX__SPOOL_ASIDE,
};

/* ipcx__spool_kind - what the NUL-terminated entry name is. */
IPCX__HIDDEN enum ipcx__spool_kind ipcx__spool_kind(const char *name);

/*
 * ipcx__spool_hdr_put - the header of a message of len bytes from pid:
 * "IPXF", version, header length, 2 bytes of flags (0), the pid (u32),
 * 4 reserved bytes (0), the payload length (u64); integers little-endian.
 */
IPCX__HIDDEN void ipcx__spool_hdr_put(uint8_t h[IPCX__SPOOL_HDR], uint64_t len,
                                      uint32_t pid);

/*
 * ipcx__spool_hdr_get - check the n bytes of h against a file of
 * file_size bytes: magic, version, header length, flags, and a payload
 * length that is exactly the rest of the file. Returns 0 with *len and
 * *pid set, or IPCX_ECORRUPT (no message set: the caller says which file).
 */
IPCX__HIDDEN int ipcx__spool_hdr_get(const uint8_t *h, size_t n,
                                     uint64_t file_size, uint64_t *len,
                                     uint32_t *pid);

#endif /* IPCX_SPOOL_H */
