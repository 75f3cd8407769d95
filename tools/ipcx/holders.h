/*
 * holders.h - the processes that hold an endpoint's object (holders.c).
 */
#ifndef IPCX_CLI_HOLDERS_H
#define IPCX_CLI_HOLDERS_H

#include <stdbool.h>
#include <stddef.h>

/*
 * cli_holders - how many processes other than this one hold the object
 * behind ep open or mapped, as `ipcx ls` sees them (another user's
 * processes may be invisible to a non-root caller), with "pid P (comm), ..."
 * in buf. rx_pid (may be NULL) gets a ring's live receiver pid, or 0.
 * 0 for an endpoint that names no file (tcp, udp, System V keys).
 * Reads /proc; does not block.
 */
size_t cli_holders(const char *ep, char *buf, size_t cap, long long *rx_pid);

#endif
