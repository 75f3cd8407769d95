/*
 * bench.h - the measurement engine behind `ipcx bench`.
 *
 * Linked into the ipcx command only, never into libipcx. The engine talks to
 * the library through the public API (ipcx.h) alone, like any user would.
 *
 * One run measures, for every (transport, size) pair asked for, the round
 * trip time (p50 / p99 / p99.9 of N round trips against a forked echo
 * child, each timed with CLOCK_MONOTONIC) and one-way streaming throughput
 * (M messages, msgs/s and bytes/s), plus reference rows measured in the same
 * run: a bare cache-line ping-pong, a bare pipe round trip, single-core
 * memcpy bandwidth and the CPU an idle shm receiver burns.
 *
 * Every wait has a timeout: a stuck peer aborts its row with an error, never
 * a hang. Children are always reaped; every object the engine creates is
 * closed and unlinked.
 */
#ifndef IPCX_BENCH_H
#define IPCX_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

/* What the command line asked for. Zero counts mean "pick a default". */
struct bench_config {
	char **items; /* -t: endpoints or templates ("shm://?wait=spin") */
	size_t nitems;
	size_t *sizes; /* -s: message sizes in bytes */
	size_t nsizes;
	long roundtrips; /* -n: timed round trips per row (0 = default) */
	long messages;   /* -m: messages per throughput run (0 = default) */
	int repeat;      /* -r: measure each row this often, keep the best */
	int timeout_ms;  /* the bound on every wait (streams' timed loops: the
	                    watchdog's period) */
	double idle_s;   /* idle-receiver window in seconds (0 = skip) */
	long rate;       /* --rate: a paced stream of N msgs/s (0 = none) */
	long
	    batch; /* --batch: also stream with ipcx_sendv, N a call (0 = no) */
	uint64_t gaps_ns[8]; /* --gaps: first message after this much idle */
	size_t ngaps;
	bool pin;         /* pin parent and child to two CPUs */
	bool quick;       /* tiny counts, for tests */
	bool baselines;   /* measure the reference rows */
	int targets;      /* -1 auto (when shm is listed), 0 off, 1 on */
	const char *json; /* write JSON here (NULL = none, "-" = stdout) */
	const char *svg;  /* write the chart here (NULL = none) */
	bool progress;    /* say on stderr which row runs (a terminal) */
	FILE *out;        /* the table goes here */
};

/* Row kinds. */
/* Row kinds: through libipcx, a reference floor, another library. */
enum bench_kind { BENCH_IPCX, BENCH_BASELINE, BENCH_PEER };

/* Row outcome. */
enum bench_status { BENCH_OK, BENCH_SKIP, BENCH_FAIL };

/* One row of results: one transport (or baseline) at one size. */
struct bench_row {
	char name[96];      /* "shm?wait=spin", "pipe", "shm zero-copy", ... */
	char endpoint[320]; /* what was opened (the ping side), or "" */
	enum bench_kind kind;
	bool zero_copy; /* measured with loan/commit and peek/release */
	char wait[16];  /* wake-up policy: spin, adaptive, sleep, kernel, - */
	size_t size;
	enum bench_status status;
	char note[256]; /* the error, the skip reason, or a remark */

	bool has_rtt;
	long roundtrips;
	uint64_t rtt_min_ns, rtt_p50_ns, rtt_p99_ns, rtt_p999_ns, rtt_max_ns;

	bool has_tput;
	long messages; /* sent */
	long received; /* arrived (udp may lose some) */
	double msgs_per_s, bytes_per_s;

	/* paced rows (paced.c): rtt_* hold the one-way latency */
	char pace[32]; /* "10000/s", "idle 1.00 ms", or "" */
	bool has_cpu;
	double cpu_ns_per_msg;       /* both sides, getrusage */
	double rx_cpu_ns, tx_cpu_ns; /* receiver's, sender's share */

	/* The bare row this one is compared with (bench_link_baseline), and
	 * this row's round-trip p50 over that row's; "" and 0 when none. */
	char baseline[48];
	double base_ratio;

	/* The figures that do not exist for this row (BENCH_NO_*) and why
	 * ("one process copies, nothing comes back"); 0 and "" when every
	 * figure was measured. */
	unsigned absent;
	char absent_why[80];

	/* The counts asked for when the time budget cut a phase short
	 * (roundtrips, messages hold what was done), 0 when not cut. */
	long rtt_asked, msgs_asked;
	unsigned budget_s;
};

/* bench_row.absent: the round trip; msgs/s and bytes/s; CPU per message. */
enum { BENCH_NO_RTT = 1, BENCH_NO_TPUT = 2, BENCH_NO_CPU = 4 };

/* The idle-receiver test's result. */
struct bench_idle {
	bool done;
	enum bench_status status;
	char endpoint[320];
	char note[256];
	double window_s; /* how long the receiver was blocked */
	double cpu_ms;   /* user + system CPU it used meanwhile */
};

/* A growable list of rows plus the run's facts, filled by bench_run(). */
struct bench_result {
	struct bench_row *rows;
	size_t nrows, cap;
	struct bench_idle idle;
	int ncpu;       /* CPUs this process may run on */
	int cpu_parent; /* -1 when not pinned */
	int cpu_child;
	char pin_note[128];
	double load_start, load_end; /* 1-minute load average, -1 unknown */
	char date[32];               /* UTC, ISO 8601 */
	char tool[32];    /* who measured: "ipcx bench", "iceoryx peer" */
	char version[32]; /* its version */
};

/*
 * bench_run - run everything cfg asks for, print the table on cfg->out as
 * rows finish, then the targets, and write cfg->json. Returns 0 when every
 * row was measured or skipped, 1 if any failed, or -1 (with a line on
 * stderr) when the run could not start at all.
 */
int bench_run(const struct bench_config *cfg);

/* ---- endpoints (resolve.c) ---- */

/* How an item's channels are set up. */
enum bench_shape {
	BENCH_PIPE,   /* ipcx_pipe(): two anonymous pipes made before fork */
	BENCH_ONEWAY, /* two named one-way channels: ping and pong */
	BENCH_SOCKET, /* one listener (child) and one dialer (parent) */
};

/* One -t item resolved for one row. */
struct bench_ep {
	char scheme[16]; /* "shm", "pipe", ... */
	enum bench_shape shape;
	bool lossy;     /* udp: messages may be dropped */
	bool event;     /* sem, sysv-sem: zero-byte events, size 0 only */
	bool zero_copy; /* shm: loan/commit and peek/release exist */
	bool owned;     /* names were made up by the engine */
	char wait[16];  /* policy named in the row */
	char opts[256]; /* the part after '?', for ipcx_pipe() */
	char ping[320]; /* parent -> child (or the socket endpoint) */
	char pong[320]; /* child -> parent (one-way shapes) */
	/* What the echo child opens: ping and pong, or the item's part
	 * after '@' (split.c). */
	char cping[320], cpong[320];
};

/*
 * bench_ep_name - the row name for an item: a template shows as its scheme
 * and options ("shm?wait=spin"), an endpoint as given.
 */
void bench_ep_name(const char *item, char *name, size_t cap);

/*
 * bench_ep_resolve - fill ep for one row of item. Templates get unique
 * names (shm://ipcx-bench-<pid>-<seq>-ping), paths in /tmp or a free
 * loopback port. Returns 0, or -1 with a reason in err.
 */
int bench_ep_resolve(const char *item, unsigned seq, struct bench_ep *ep,
                     char *err, size_t errcap);

/*
 * split.c: an item "PARENT@CHILD" whose echo child opens its own endpoint
 * (nats://, a node of the same cluster). bench_ep_child - the '@' that
 * starts CHILD, or NULL. bench_ep_resolve_split - resolve both halves
 * (same subjects), CHILD's into cping / cpong; 0, or -1 with err.
 */
const char *bench_ep_child(const char *item);
int bench_ep_resolve_split(const char *item, unsigned seq, struct bench_ep *ep,
                           char *err, size_t errcap);
/*
 * The handshake before a nats:// row's first timed message: the parent
 * probes until an echo comes back (each subscription has reached the
 * other's server), the child echoes until it has echoed the end mark.
 * Return 0 or IPCX_E*; buf holds cap >= 1 bytes.
 */
struct ipcx_chan;
long bench_split_sync_parent(struct ipcx_chan *rx, struct ipcx_chan *tx,
                             void *buf, size_t cap, int to);
long bench_split_sync_child(struct ipcx_chan *rx, struct ipcx_chan *tx,
                            void *buf, size_t cap, int to);

/* bench_ep_cleanup - unlink whatever names ep may have left (quietly). */
void bench_ep_cleanup(const struct bench_ep *ep);

/* ---- processes, time and pinning (proc.c) ---- */

/* The largest message size a benchmark takes (-s). */
#define BENCH_MAX_SIZE (64u << 20)

/*
 * bench_parse_size - "64", "4K", "64k", "1M", "64KB": bytes, at most
 * BENCH_MAX_SIZE; false if malformed or too big.
 */
bool bench_parse_size(const char *s, size_t *out);

/*
 * bench_free_port - a loopback port free right now for a socket of type
 * (SOCK_STREAM, SOCK_DGRAM), or -1. Someone may take it before we bind it:
 * a small race benchmarks accept.
 */
int bench_free_port(int type);

/* CLOCK_MONOTONIC now, in nanoseconds. */
/* Time units for the engine's CLOCK_MONOTONIC nanoseconds. */
#define BENCH_NS_PER_S  1000000000u
#define BENCH_NS_PER_MS 1000000u

static inline uint64_t bench_now_ns(void);

/* A child and the pipe it reports through. */
struct bench_child {
	pid_t pid;
	int ctl; /* parent's read end of the child's report pipe, or -1 */
};

/* A report from a child: kind 'R' ready, 'E' error, 'D' data. */
struct bench_msg {
	char kind;
	int code;
	uint64_t v[4];
	char text[200];
};

/*
 * bench_fork - fork a child that runs fn(arg, ctl_fd) pinned to the child
 * CPU, dies with its parent, and _exits with fn's result. Returns 0, or -1
 * with err set.
 */
int bench_fork(struct bench_child *c, int (*fn)(void *arg, int ctl), void *arg,
               char *err, size_t errcap);

/* bench_report - send a report from the child (never blocks for long). */
void bench_report(int ctl, char kind, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void bench_report_data(int ctl, const uint64_t v[4]);

/*
 * bench_wait_report - wait up to timeout_ms for the child's next report.
 * Returns 1 with *m filled, 0 on timeout, -1 if the child closed its pipe.
 */
int bench_wait_report(struct bench_child *c, struct bench_msg *m,
                      int timeout_ms);

/*
 * bench_reap - wait up to timeout_ms for the child to exit, then SIGKILL
 * it; always reaps. Returns its exit status (0..255), or -1 if it died by
 * a signal or had to be killed. Closes the ctl pipe.
 */
int bench_reap(struct bench_child *c, int timeout_ms);

/* Pinning: the CPUs chosen by bench_pin_setup(), -1 when not pinned. */
extern int bench_cpu_parent, bench_cpu_child;

/*
 * bench_pin_setup - choose two CPUs from this process's mask and pin the
 * parent to the first; explains what it did in note. Returns the CPUs
 * available.
 */
int bench_pin_setup(bool want, char *note, size_t cap);
void bench_pin_restore(void);

/* Set by SIGINT / SIGTERM: every loop gives up its row. */
extern volatile sig_atomic_t bench_stop;
void bench_signals_setup(void);
void bench_signals_restore(void);

/*
 * The watchdog for loops that wait without a timeout (the baselines, and
 * the timed loops of the framed ipcx rows): a timer ticks
 * every period_ms; a tick that finds bench_progress unchanged since the
 * last sets bench_stuck. Loops bump bench_progress and give up on
 * bench_stuck; a blocked read() returns EINTR at each tick.
 */
extern volatile unsigned long bench_progress;
extern volatile sig_atomic_t bench_stuck;
/*
 * A child the watchdog kills (SIGKILL) when it finds no progress: the
 * ipcx rows whose timed loops wait without a timeout set it, so that a
 * lost message ends the row (the parent's receive sees its peer gone)
 * instead of the run. 0: none.
 */
extern volatile pid_t bench_watchdog_victim;
void bench_watchdog_start(int period_ms);
void bench_watchdog_stop(void);

/* bench_loadavg - the 1-minute load average (/proc/loadavg), or -1. */
double bench_loadavg(void);

/* bench_cpu_self_ns - user + system CPU this process has used, in ns. */
uint64_t bench_cpu_self_ns(void);

/*
 * The sender's CPU over a streaming run: bench_cpu_start() before the
 * first send, bench_cpu_fill() once the last message arrived. Read from
 * this process's CPU clock (user + system, as getrusage reports, at
 * nanosecond resolution). The receiving child measures its own.
 */
struct bench_cpu {
	uint64_t self0;
};
void bench_cpu_start(struct bench_cpu *c);
/*
 * bench_cpu_fill - CPU per message into row: rx_ns, the receiving child's
 * CPU over the stream as it measured it itself (a running process's clock
 * read from another lags until it is next descheduled), and this process's
 * since bench_cpu_start() as the sender's; has_cpu when both are known.
 */
void bench_cpu_fill(const struct bench_cpu *c, long msgs, uint64_t rx_ns,
                    struct bench_row *row);

/*
 * A row's counts shared with its child (MAP_SHARED): the parent lowers n
 * (round trips) or m (streamed messages) when a phase outlasts its time
 * budget. It stores the new count before it sends the message that
 * becomes the last, so the child, which reads the count after each
 * message, stops exactly there.
 */
struct bench_plan {
	_Atomic long n, m;
};
struct bench_plan *bench_plan_map(long n, long m); /* NULL: no memory */
void bench_plan_unmap(struct bench_plan *p);
/*
 * bench_budget_ns - how long one phase (the round trips, the stream) of a
 * row may run before its count is cut: 1 s with --quick, else 4 s; 0 (no
 * bound) when the count was given (-n for round trips, -m for a stream).
 */
uint64_t bench_budget_ns(const struct bench_config *cfg, bool stream);
/*
 * bench_budget_cut - in a phase that started at t0 and has done `done` of
 * count: true when the budget is spent (and at least 100 are done), so the
 * next message must be the last.
 */
bool bench_budget_cut(uint64_t budget_ns, uint64_t t0, long done);
/*
 * bench_budget_note - record in row that the budget cut a phase (the round
 * trips, or the stream) to done of count; the table and the JSON note say
 * "N of M round trips (4 s budget)".
 */
void bench_budget_note(struct bench_row *row, bool stream, long done,
                       long count, uint64_t budget_ns);

/* bench_sleep_ns - sleep (EINTR ends it early). */
void bench_sleep_ns(uint64_t ns);

/* ---- statistics and formatting (stats.c) ---- */

/*
 * bench_row_merge - fold another repetition of the same row into dst: the
 * round trip of the repetition with the lowest p50, the highest throughput,
 * and a failure over any success.
 */
void bench_row_merge(struct bench_row *dst, const struct bench_row *src);

/* Sort v[0..n) and fill the row's percentiles (nearest rank). */
void bench_percentiles(uint64_t *v, size_t n, struct bench_row *row);
/* "0.31 us", "75.2 us", "1.25 ms" */
void bench_fmt_ns(uint64_t ns, char *buf, size_t cap);
/* "3.21 M", "850 K" */
void bench_fmt_rate(double r, char *buf, size_t cap);
/* "12.3 GB/s", "512 MB/s" */
void bench_fmt_bytes(double r, char *buf, size_t cap);
/* "64", "4K", "64K", "1M" */
void bench_fmt_size(size_t n, char *buf, size_t cap);
/*
 * bench_counts - round trips (*n), streamed messages (*m) and warm-up round
 * trips for one size: cfg's -n / -m, else defaults scaled by size.
 */
void bench_counts(const struct bench_config *cfg, size_t size, long *n, long *m,
                  long *warm);
/* aligned, zeroed, page-touched buffer; free with bench_free() */
void *bench_alloc(size_t n);
void bench_free(void *p);

/* ---- the rows (measure.c, baseline.c, idle.c) ---- */

/* Fills the defaults for one size into *n (round trips), *m (messages). */
void bench_counts(const struct bench_config *cfg, size_t size, long *n, long *m,
                  long *warm);

/*
 * The row functions append their rows to res (the engine prints them).
 *
 * bench_ipcx_rows - measure one item at one size: a copy row (send/recv)
 * and, where the transport has one, a zero-copy row.
 */
void bench_ipcx_rows(const struct bench_config *cfg, const char *item,
                     size_t size, unsigned seq, struct bench_result *res);

/* The reference rows at one size (or size-independent, once). */
void bench_pingpong_row(const struct bench_config *cfg,
                        struct bench_result *res);
void bench_pipe_row(const struct bench_config *cfg, size_t size,
                    struct bench_result *res);
/* Bare read/write over a unix socketpair: the floor of unix://. */
void bench_socketpair_row(const struct bench_config *cfg, size_t size,
                          struct bench_result *res);
void bench_memcpy_row(const struct bench_config *cfg, size_t size,
                      struct bench_result *res);
/* Bare sem_post/sem_wait between two processes: the events' floor. */
void bench_sem_row(const struct bench_config *cfg, struct bench_result *res);
void bench_idle_test(const struct bench_config *cfg, unsigned seq,
                     struct bench_result *res);
/* kbase.c: bare sigqueue (8 bytes) and bare spool rename round trips. */
void bench_sigqueue_row(const struct bench_config *cfg,
                        struct bench_result *res);
void bench_spool_row(const struct bench_config *cfg, size_t size, unsigned seq,
                     struct bench_result *res);
/*
 * bench_paced_rows - --rate and --gaps: a paced one-way stream and the
 * first message after idle, over a bare pipe and each shm item; prints
 * its own lines (paced.c).
 */
void bench_paced_rows(const struct bench_config *cfg, unsigned *seq,
                      struct bench_result *res);
/*
 * bench_msgq_rows - for an mq or sysv-mq item (nothing otherwise): the bare
 * mq_send/mq_receive or msgsnd/msgrcv row, and CPU per message, paced and
 * back to back, bare and through ipcx (msgq.c).
 */
void bench_msgq_rows(const struct bench_config *cfg, const char *item,
                     size_t size, unsigned seq, struct bench_result *res);

/* ---- output (report.c, svg.c) ---- */

/* One of the target ratios, as measured in this run. */
struct bench_target {
	char what[96];  /* "spin round trip p50 / cache-line ping-pong" */
	char rows[160]; /* which rows it compares */
	const char *op; /* "<=", ">=" or "<" */
	double value, target;
	const char *unit; /* "x" for ratios, "ms" */
	bool met;
};

struct bench_row *bench_row_add(struct bench_result *res);
/* bench_table_fit - widen the name column (before the header) so that a
 * row name of name_len characters lines up with the others. */
void bench_table_fit(size_t name_len);
void bench_table_header(FILE *f);
void bench_table_row(FILE *f, const struct bench_row *r);
void bench_print_idle(FILE *f, const struct bench_idle *idle);
/* Find the target ratios res allows (at most 5); returns how many. */
int bench_targets(const struct bench_result *res, struct bench_target *t);
/*
 * bench_paced_targets - the paced rows' targets (at most 2): the adaptive
 * shm receiver's CPU per message against the bare pipe's at the same
 * rate, and its first message after idle against the pipe's (the worst
 * gap). Returns how many it wrote to t.
 */
int bench_paced_targets(const struct bench_result *res, struct bench_target *t);
void bench_print_targets(FILE *f, const struct bench_target *t, int n);
/*
 * bench_baseline_name - the bare row an ipcx row is compared with ("bare
 * pipe" for pipe:// and fifo://, ...), or NULL when it has none.
 */
const char *bench_baseline_name(const struct bench_row *r);
/* The measured baseline row r is compared with, or NULL. */
const struct bench_row *bench_find_baseline(const struct bench_result *res,
                                            const struct bench_row *r);
/*
 * bench_link_baseline - fill r->baseline and r->base_ratio from the
 * baseline row of res measured at r's size (events: any size).
 */
void bench_link_baseline(const struct bench_result *res, struct bench_row *r);
/* Write the run as JSON (one row a line) to path, "-" for stdout. */
int bench_write_json(const char *path, const struct bench_config *cfg,
                     const struct bench_result *res,
                     const struct bench_target *t, int nt);

/*
 * bench_write_svg - one chart of the run: round-trip p50 bars with p99
 * whiskers on a log scale, each ipcx row over its baseline, grouped by
 * size, the machine and date in the caption. Returns 0 or -1 (said on
 * stderr).
 */
int bench_write_svg(const char *path, const struct bench_result *res);

#include <time.h>
static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * BENCH_NS_PER_S + (uint64_t)ts.tv_nsec;
}

#endif /* IPCX_BENCH_H */
