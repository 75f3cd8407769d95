/*
 * paced.c - what a message costs when messages are not back to back: a
 * one-way stream paced at N messages a second (--rate), and the first
 * message after an idle gap (--gaps), over each shm item and a bare pipe
 * in the same run, with the latency from send to receive and the CPU both
 * sides used per message (getrusage).
 *
 * The parent sends at absolute times (clock_nanosleep, timer slack 1 ns),
 * each message carrying its send time; the forked child receives, takes
 * the latency of each against the shared monotonic clock, and reports its
 * CPU time over the whole stream (waiting included: that is the point),
 * the latencies' p50 and p99 and the count. The parent's CPU is the same
 * pacing loop for every row; its send is what differs.
 */
#include "bench.h"

#include "ipcx.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

/* The message size of the paced rows (a stamp and some payload). */
#define PC_SIZE 64
/* A paced stream lasts about this long (seconds), within the counts. */
#define PC_STREAM_S  2
#define PC_MIN_COUNT 50
#define PC_MAX_COUNT 20000
/* After-idle rows: this many gaps, fewer for long ones (2 s in all). */
#define PC_GAP_COUNT   100
#define PC_GAP_MIN     5
#define PC_GAP_TOTAL_S 2u

struct pc_job {
	const char *ep; /* the ipcx endpoint, or NULL for the bare pipe */
	int pfd[2];     /* the bare pipe */
	long count;
	uint64_t gap_ns;
	int to;
};

static int pc_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Read exactly n bytes from the bare pipe (a blocking read, as a plain
 * pipe reader does). */
static int pc_read_all(int fd, void *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, (char *)buf + got, n - got);
		if (r < 0 && errno == EINTR && !bench_stuck)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static int pc_child(void *arg, int ctl)
{
	struct pc_job *j = arg;
	uint64_t *lat = calloc((size_t)j->count, sizeof(*lat));
	ipcx_chan *rx = NULL;
	unsigned char buf[PC_SIZE];
	uint64_t c0, v[4];
	long i;

	if (!lat) {
		bench_report(ctl, 'E', 0, "child: out of memory");
		return 1;
	}
	if (j->ep) {
		int rc = ipcx_open(j->ep, IPCX_RECV | IPCX_CREATE, &rx);
		if (rc < 0) {
			bench_report(ctl, 'E', rc, "child: open: %s",
			             ipcx_errmsg());
			free(lat);
			return 1;
		}
	} else {
		close(j->pfd[1]);
	}
	bench_report(ctl, 'R', 0, "ready");
	c0 = bench_cpu_self_ns();
	for (i = 0; i < j->count; i++) {
		uint64_t stamp;
		int to = (int)(j->gap_ns / BENCH_NS_PER_MS) + j->to;

		if (rx ? ipcx_recv(rx, buf, sizeof(buf), to) != PC_SIZE
		       : pc_read_all(j->pfd[0], buf, sizeof(buf)) < 0)
			break;
		memcpy(&stamp, buf, sizeof(stamp));
		lat[i] = bench_now_ns() - stamp;
	}
	v[0] = bench_cpu_self_ns() - c0;
	v[3] = (uint64_t)i;
	qsort(lat, (size_t)i, sizeof(*lat), pc_cmp);
	v[1] = i ? lat[i / 2] : 0;
	v[2] = i ? lat[(i * 99) / 100] : 0;
	bench_report_data(ctl, v);
	ipcx_close(rx);
	free(lat);
	return i == j->count ? 0 : 1;
}

/* Send j->count messages, one every j->gap_ns; returns the CPU it took,
 * or 0 with row->note set. */
static uint64_t pc_send(struct pc_job *j, ipcx_chan *tx, struct bench_row *row)
{
	unsigned char buf[PC_SIZE];
	uint64_t c0 = bench_cpu_self_ns(), t = bench_now_ns();
	int slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);

	memset(buf, 0x5a, sizeof(buf));
	/* Wake at the asked time, not up to 50 us late (the default). */
	prctl(PR_SET_TIMERSLACK, 1, 0, 0, 0);
	for (long i = 0; i < j->count && !bench_stop; i++) {
		struct timespec ts;
		uint64_t now;

		t += j->gap_ns;
		ts.tv_sec = (time_t)(t / BENCH_NS_PER_S);
		ts.tv_nsec = (long)(t % BENCH_NS_PER_S);
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts,
		                       NULL) == EINTR &&
		       !bench_stop)
			;
		now = bench_now_ns();
		memcpy(buf, &now, sizeof(now));
		if (tx ? ipcx_send(tx, buf, sizeof(buf), j->to) < 0
		       : write(j->pfd[1], buf, sizeof(buf)) != PC_SIZE) {
			snprintf(row->note, sizeof(row->note), "send: %s",
			         tx ? ipcx_errmsg() : strerror(errno));
			c0 = 0;
			break;
		}
	}
	if (slack > 0)
		prctl(PR_SET_TIMERSLACK, (unsigned long)slack, 0, 0, 0);
	return c0 ? bench_cpu_self_ns() - c0 + 1 : 0;
}

/* One paced row: fork the receiver, pace the sender, fill row. */
static void pc_row(const struct bench_config *cfg, struct pc_job *j,
                   struct bench_row *row)
{
	struct bench_child c = {-1, -1};
	struct bench_msg m;
	ipcx_chan *tx = NULL;
	uint64_t tx_cpu = 0;
	int r;

	row->status = BENCH_FAIL;
	if (!j->ep && pipe(j->pfd) < 0) {
		snprintf(row->note, sizeof(row->note), "pipe: %s",
		         strerror(errno));
		return;
	}
	if (bench_fork(&c, pc_child, j, row->note, sizeof(row->note)) < 0)
		goto out;
	if (!j->ep) {
		close(j->pfd[0]);
		j->pfd[0] = -1;
	}
	r = bench_wait_report(&c, &m, cfg->timeout_ms);
	if (r != 1 || m.kind != 'R') {
		snprintf(row->note, sizeof(row->note), "%s",
		         r == 1 ? m.text : "the receiver did not get ready");
		goto out;
	}
	if (j->ep && ipcx_open(j->ep, IPCX_SEND, &tx) < 0) {
		snprintf(row->note, sizeof(row->note), "open: %s",
		         ipcx_errmsg());
		goto out;
	}
	tx_cpu = pc_send(j, tx, row);
	if (!tx_cpu)
		goto out;
	r = bench_wait_report(&c, &m, cfg->timeout_ms);
	if (r != 1 || m.kind != 'D' || (long)m.v[3] != j->count) {
		snprintf(row->note, sizeof(row->note), "%s",
		         r == 1 && m.kind == 'E' ? m.text
		                                 : "the receiver fell short");
		goto out;
	}
	row->status = BENCH_OK;
	row->has_rtt = true;
	row->roundtrips = j->count;
	row->rtt_p50_ns = m.v[1];
	row->rtt_p99_ns = m.v[2];
	row->has_cpu = true;
	row->rx_cpu_ns = (double)m.v[0] / (double)j->count;
	row->tx_cpu_ns = (double)(tx_cpu - 1) / (double)j->count;
	row->cpu_ns_per_msg = row->rx_cpu_ns + row->tx_cpu_ns;
out:
	ipcx_close(tx);
	if (!j->ep) {
		if (j->pfd[0] >= 0)
			close(j->pfd[0]);
		close(j->pfd[1]);
	}
	bench_reap(&c, row->status == BENCH_OK ? cfg->timeout_ms : 0);
}

static void pc_print(FILE *f, const struct bench_row *r)
{
	char p50[32], p99[32];

	if (r->status != BENCH_OK) {
		fprintf(f, "%-30s %-14s %s: %s\n", r->name, r->pace,
		        r->status == BENCH_SKIP ? "skipped" : "FAILED",
		        r->note);
		return;
	}
	bench_fmt_ns(r->rtt_p50_ns, p50, sizeof(p50));
	bench_fmt_ns(r->rtt_p99_ns, p99, sizeof(p99));
	fprintf(f, "%-30s %-14s %10s %10s %9.2f us %9.2f us %9.2f us\n",
	        r->name, r->pace, p50, p99, r->cpu_ns_per_msg / 1e3,
	        r->rx_cpu_ns / 1e3, r->tx_cpu_ns / 1e3);
}

/* Measure the bare pipe and every shm item at one pace. */
static void pc_pace(const struct bench_config *cfg, struct bench_result *res,
                    unsigned *seq, uint64_t gap_ns, long count,
                    const char *pace)
{
	for (size_t i = 0; i <= cfg->nitems && !bench_stop; i++) {
		const char *item = i ? cfg->items[i - 1] : NULL;
		struct bench_row *row;
		struct bench_ep ep;
		struct pc_job j;
		char err[160];

		if (item && strncmp(item, "shm", 3))
			continue;
		row = bench_row_add(res);
		if (!row)
			return;
		memset(&j, 0, sizeof(j));
		j.pfd[0] = j.pfd[1] = -1;
		j.count = count;
		j.gap_ns = gap_ns;
		j.to = cfg->timeout_ms;
		row->size = PC_SIZE;
		snprintf(row->pace, sizeof(row->pace), "%s", pace);
		if (!item) {
			row->kind = BENCH_BASELINE;
			snprintf(row->name, sizeof(row->name), "bare pipe");
			snprintf(row->wait, sizeof(row->wait), "kernel");
			pc_row(cfg, &j, row);
		} else if (bench_ep_resolve(item, ++*seq, &ep, err,
		                            sizeof(err)) < 0) {
			row->kind = BENCH_IPCX;
			bench_ep_name(item, row->name, sizeof(row->name));
			snprintf(row->note, sizeof(row->note), "%s", err);
			row->status = BENCH_FAIL;
		} else {
			row->kind = BENCH_IPCX;
			bench_ep_name(item, row->name, sizeof(row->name));
			snprintf(row->wait, sizeof(row->wait), "%s", ep.wait);
			snprintf(row->endpoint, sizeof(row->endpoint), "%s",
			         ep.ping);
			j.ep = ep.ping;
			pc_row(cfg, &j, row);
			bench_ep_cleanup(&ep);
		}
		pc_print(cfg->out, row);
	}
}

void bench_paced_rows(const struct bench_config *cfg, unsigned *seq,
                      struct bench_result *res)
{
	FILE *f = cfg->out;
	char pace[32];

	if (cfg->rate <= 0 && cfg->ngaps == 0)
		return;
	fprintf(f,
	        "\npaced one-way %d B: latency send -> receive; CPU per "
	        "message (getrusage): both sides, receiver, sender\n",
	        PC_SIZE);
	fprintf(f, "%-30s %-14s %10s %10s %12s %12s %12s\n", "transport",
	        "pace", "p50", "p99", "cpu/msg", "rx cpu/msg", "tx cpu/msg");
	if (cfg->rate > 0) {
		long count = cfg->rate * PC_STREAM_S;

		if (cfg->quick)
			count = PC_MIN_COUNT;
		count = count < PC_MIN_COUNT   ? PC_MIN_COUNT
		        : count > PC_MAX_COUNT ? PC_MAX_COUNT
		                               : count;
		snprintf(pace, sizeof(pace), "%ld/s", cfg->rate);
		pc_pace(cfg, res, seq, BENCH_NS_PER_S / (uint64_t)cfg->rate,
		        count, pace);
	}
	for (size_t g = 0; g < cfg->ngaps && !bench_stop; g++) {
		uint64_t gap = cfg->gaps_ns[g];
		long count = (long)(PC_GAP_TOTAL_S * BENCH_NS_PER_S / gap);
		char t[24];

		count = count < PC_GAP_MIN     ? PC_GAP_MIN
		        : count > PC_GAP_COUNT ? PC_GAP_COUNT
		                               : count;
		if (cfg->quick)
			count = PC_GAP_MIN;
		bench_fmt_ns(gap, t, sizeof(t));
		snprintf(pace, sizeof(pace), "idle %s", t);
		pc_pace(cfg, res, seq, gap, count, pace);
	}
}

/* The paced row of name (wait, if not NULL) at pace, measured. */
static const struct bench_row *pc_find(const struct bench_result *res,
                                       const char *name, const char *wait,
                                       const char *pace)
{
	for (size_t i = 0; i < res->nrows; i++) {
		const struct bench_row *r = &res->rows[i];

		if (r->status == BENCH_OK && r->has_cpu && r->pace[0] &&
		    !strcmp(r->pace, pace) &&
		    (wait
		         ? !strncmp(r->name, "shm", 3) && !strcmp(r->wait, wait)
		         : !strcmp(r->name, name)))
			return r;
	}
	return NULL;
}

static void pc_target(struct bench_target *t, const char *what, double value,
                      double target)
{
	snprintf(t->what, sizeof(t->what), "%s", what);
	t->op = "<=";
	t->value = value;
	t->target = target;
	t->unit = "x";
	t->met = value <= target;
}

int bench_paced_targets(const struct bench_result *res, struct bench_target *t)
{
	const struct bench_row *a, *b, *wa = NULL, *wb = NULL;
	double worst = 0;
	int n = 0;

	for (size_t i = 0; i < res->nrows; i++) {
		const struct bench_row *r = &res->rows[i];

		if (!r->has_cpu || !r->pace[0] || strcmp(r->name, "bare pipe"))
			continue;
		a = pc_find(res, NULL, "adaptive", r->pace);
		if (!a || !r->rtt_p50_ns || !r->cpu_ns_per_msg)
			continue;
		if (strncmp(r->pace, "idle ", 5)) {
			pc_target(&t[n], "adaptive CPU/msg vs bare pipe, paced",
			          a->cpu_ns_per_msg / r->cpu_ns_per_msg, 1.5);
			snprintf(t[n].rows, sizeof(t[n].rows),
			         "%.60s at %.20s: %.0f ns / bare pipe %.0f ns",
			         a->name, r->pace, a->cpu_ns_per_msg,
			         r->cpu_ns_per_msg);
			n++;
		} else if (!wa ||
		           (double)a->rtt_p50_ns / r->rtt_p50_ns > worst) {
			worst = (double)a->rtt_p50_ns / (double)r->rtt_p50_ns;
			wa = a;
			wb = r;
		}
	}
	b = wb;
	if (wa && b) {
		pc_target(&t[n], "first message after idle vs bare pipe", worst,
		          1.0);
		snprintf(
		    t[n].rows, sizeof(t[n].rows),
		    "worst gap, %.20s: %.60s p50 %llu ns / bare pipe %llu ns",
		    b->pace, wa->name, (unsigned long long)wa->rtt_p50_ns,
		    (unsigned long long)b->rtt_p50_ns);
		n++;
	}
	return n;
}
