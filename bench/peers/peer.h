/*
 * peer.h - what the comparison programs share: the command line, the
 * header line and the JSON file. They reuse the ipcx engine's statistics,
 * process plumbing and output (bench/engine/{stats,proc,report}.c), so their
 * rows read exactly like `ipcx bench`'s.
 */
#ifndef IPCX_PEER_H
#define IPCX_PEER_H

#include "bench.h"

/*
 * peer_parse - parse the shared flags into cfg:
 *   -s LIST  -n N  -m N  -r N  --json FILE  --no-pin  --quick  --timeout MS
 *   -h
 * Returns -1 to go on, else the exit status (0 after --help, 2 usage).
 */
int peer_parse(int argc, char **argv, const char *prog, const char *what,
               struct bench_config *cfg);

/* peer_begin - pin, date, print the header line and the table header. */
void peer_begin(const struct bench_config *cfg, struct bench_result *res,
                const char *tool, const char *version);

/* peer_row - append row to res and print it. */
void peer_row(const struct bench_config *cfg, struct bench_result *res,
              const struct bench_row *row);

/* peer_end - unpin, write the JSON; returns the exit status. */
int peer_end(const struct bench_config *cfg, struct bench_result *res);

/* peer_spin_until - busy-poll ready(arg) until it holds or timeout_ms
 * passes (the clock is read every 1024 polls); 0 or -1. */
int peer_spin_until(int (*ready)(void *arg), void *arg, int timeout_ms);

#endif
