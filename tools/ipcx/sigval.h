/*
 * sigval.h - how the ipcx command writes and reads signal:// values: a
 * message on a real-time signal is one 64-bit value (8 bytes, host
 * order); on the command line it is a decimal or 0x hex number.
 */
#ifndef IPCX_CLI_SIGVAL_H
#define IPCX_CLI_SIGVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* cli_is_signal - whether ep is a signal:// endpoint. */
bool cli_is_signal(const char *ep);

/*
 * cli_sigval_parse - s (n bytes) as a value: decimal or 0x/0X hex, at most
 * 64 bits, nothing else. The empty string is the empty message (a classic
 * signal's). Stores the message in out and returns its length (8 or 0),
 * or -1 if s is not a value.
 */
int cli_sigval_parse(const char *s, size_t n, uint8_t out[8]);

/*
 * cli_sigval_text - for a signal:// ep, turn the n-byte message in buf
 * (capacity cap >= 21) into its decimal text in place and return the text's
 * length; for other endpoints (or a message not 8 bytes) return n.
 */
size_t cli_sigval_text(const char *ep, char *buf, size_t cap, size_t n);

/*
 * cli_sigval_listening - for a signal:// ep, print "ipcx: listening on
 * signal://PID" on stderr, so a sender can find this process.
 */
void cli_sigval_listening(const char *ep);

#endif
