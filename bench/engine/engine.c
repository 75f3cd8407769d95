/*
 * engine.c - one benchmark run: pin, measure the reference rows and every
 * (item, size) pair, then the idle receiver, then report.
 *
 * Rows are grouped by size, references first, so that each group of the
 * table reads against its own floors.
 */
#include "bench.h"

#include "ipcx.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum eng_what {
	ENG_PINGPONG,
	ENG_PIPE,
	ENG_MEMCPY,
	ENG_IPCX,
	ENG_SEM,
	ENG_MSGQ,
	ENG_SOCKETPAIR,
	ENG_SIGQUEUE,
	ENG_SPOOL
};

/* Where a run stands, for the progress line and the table. */
struct eng_state {
	size_t printed; /* rows already in the table */
	unsigned step, steps;
};

/* On a terminal: which row runs now and how far the run is, on stderr. */
static void eng_progress(const struct bench_config *cfg, struct eng_state *st,
                         const char *what, size_t size)
{
	char sz[16];

	st->step++;
	if (!cfg->progress)
		return;
	bench_fmt_size(size, sz, sizeof(sz));
	fprintf(stderr, "\r\033[K[%u/%u] %s at %s B ...", st->step, st->steps,
	        what, sz);
	fflush(stderr);
}

/* Compare the rows not yet shown with their baselines and print them. */
static void eng_flush(const struct bench_config *cfg, struct bench_result *res,
                      struct eng_state *st)
{
	if (cfg->progress && st->printed < res->nrows) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	for (; st->printed < res->nrows; st->printed++) {
		bench_link_baseline(res, &res->rows[st->printed]);
		bench_table_row(cfg->out, &res->rows[st->printed]);
	}
}

/*
 * Measure one row (or an item's rows) cfg->repeat times, fold the
 * repetitions into the first (best p50, best throughput, any failure) and
 * print the result.
 */
static void eng_row(const struct bench_config *cfg, struct bench_result *res,
                    enum eng_what what, const char *item, size_t size,
                    unsigned *seq)
{
	size_t start = res->nrows, k = 0;
	int reps = cfg->repeat > 1 ? cfg->repeat : 1;

	for (int r = 0; r < reps && !bench_stop; r++) {
		size_t before = res->nrows;

		switch (what) {
		case ENG_PINGPONG:
			bench_pingpong_row(cfg, res);
			break;
		case ENG_PIPE:
			bench_pipe_row(cfg, size, res);
			break;
		case ENG_MEMCPY:
			bench_memcpy_row(cfg, size, res);
			break;
		case ENG_IPCX:
			bench_ipcx_rows(cfg, item, size, ++*seq, res);
			break;
		case ENG_SIGQUEUE:
			bench_sigqueue_row(cfg, res);
			break;
		case ENG_SPOOL:
			bench_spool_row(cfg, size, ++*seq, res);
			break;
		case ENG_SEM:
			bench_sem_row(cfg, res);
			break;
		case ENG_MSGQ:
			bench_msgq_rows(cfg, item, size, ++*seq, res);
			break;
		case ENG_SOCKETPAIR:
			bench_socketpair_row(cfg, size, res);
			break;
		}
		if (r == 0) {
			k = res->nrows - start;
			continue;
		}
		/* Every repetition yields the same rows in the same order. */
		if (res->nrows - before == k)
			for (size_t i = 0; i < k; i++)
				bench_row_merge(&res->rows[start + i],
				                &res->rows[before + i]);
		res->nrows = before;
	}
}

static bool eng_has(const struct bench_config *cfg, const char *scheme)
{
	size_t n = strlen(scheme);

	for (size_t i = 0; i < cfg->nitems; i++)
		if (!strncmp(cfg->items[i], scheme, n) &&
		    (cfg->items[i][n] == '\0' || cfg->items[i][n] == ':' ||
		     cfg->items[i][n] == '?'))
			return true;
	return false;
}

static bool eng_has_shm(const struct bench_config *cfg)
{
	return eng_has(cfg, "shm");
}

/* Whether item's scheme is one in the comma list schemes. */
static bool eng_item_is(const char *item, const char *schemes)
{
	size_t n = strcspn(item, ":?");

	for (const char *p = schemes; *p; p += strcspn(p, ",")) {
		p += *p == ',';
		if (strcspn(p, ",") == n && !strncmp(item, p, n))
			return true;
	}
	return false;
}

/* How many items have a scheme in the comma list schemes. */
static size_t eng_count(const struct bench_config *cfg, const char *schemes)
{
	size_t k = 0;

	for (size_t i = 0; i < cfg->nitems; i++)
		k += eng_item_is(cfg->items[i], schemes);
	return k;
}

static void eng_date(char *buf, size_t cap)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int bench_run(const struct bench_config *cfg)
{
	struct bench_result res;
	struct bench_target t[12];
	struct eng_state st = {0, 0, 0};
	FILE *f = cfg->out;
	unsigned seq = 0;
	int nt = 0, rc = 0;
	bool targets;

	memset(&res, 0, sizeof(res));
	bench_stop = 0;
	bench_signals_setup();
	res.ncpu =
	    bench_pin_setup(cfg->pin, res.pin_note, sizeof(res.pin_note));
	res.cpu_parent = bench_cpu_parent;
	res.cpu_child = bench_cpu_child;
	eng_date(res.date, sizeof(res.date));
	targets = cfg->targets > 0 || (cfg->targets < 0 && eng_has_shm(cfg));

	res.load_start = bench_loadavg();
	fprintf(f, "ipcx bench %s  %s  %s  load %.2f\n", ipcx_version(),
	        res.date, res.pin_note, res.load_start);
	fprintf(f, "round trip: echo child, timed per round trip "
	           "(CLOCK_MONOTONIC); msgs/s, bytes/s: one-way streaming\n");
	if (cfg->repeat > 1)
		fprintf(f,
		        "each row measured %d times: best p50 (with its p99, "
		        "p99.9), best throughput\n",
		        cfg->repeat);
	fputc('\n', f);
	/* Row names are an item and at most " zero-copy" or " sendv 1024". */
	for (size_t i = 0; i < cfg->nitems; i++)
		bench_table_fit(strlen(cfg->items[i]) + 11);
	bench_table_header(f);

	/* Semaphores (and semshm, woken by one) compare with bare sem_post;
	 * the socket transports with a bare socketpair. */
	bool sems = eng_count(cfg, "sem,sysv-sem,semshm") > 0;
	bool socks = eng_count(cfg, "unix,tcp,udp") > 0;
	size_t nq = eng_count(cfg, "mq,sysv-mq");

	/* One step per row function called: the progress line's total. */
	st.steps =
	    (unsigned)(cfg->nsizes *
	                   (cfg->nitems +
	                    (cfg->baselines
	                         ? 2 + socks + nq + (eng_count(cfg, "file") > 0)
	                         : 0)) +
	               (cfg->baselines
	                    ? 1 + sems + (eng_count(cfg, "signal") > 0)
	                    : 0));
	for (size_t s = 0; s < cfg->nsizes && !bench_stop; s++) {
		size_t size = cfg->sizes[s];

		if (s > 0)
			fputc('\n', f);
		if (cfg->baselines) {
			if (s == 0) {
				eng_progress(cfg, &st, "cache-line ping-pong",
				             64);
				eng_row(cfg, &res, ENG_PINGPONG, NULL, size,
				        &seq);
			}
			eng_progress(cfg, &st, "bare pipe", size);
			eng_row(cfg, &res, ENG_PIPE, NULL, size, &seq);
			if (socks) {
				eng_progress(cfg, &st, "bare socketpair", size);
				eng_row(cfg, &res, ENG_SOCKETPAIR, NULL, size,
				        &seq);
			}
			eng_progress(cfg, &st, "memcpy", size);
			eng_row(cfg, &res, ENG_MEMCPY, NULL, size, &seq);
			/* The floors of signal:// (8 bytes, once) and file://.
			 */
			if (s == 0 && eng_count(cfg, "signal")) {
				eng_progress(cfg, &st, "bare sigqueue", 8);
				eng_row(cfg, &res, ENG_SIGQUEUE, NULL, 8, &seq);
			}
			if (eng_count(cfg, "file")) {
				eng_progress(cfg, &st, "bare spool rename",
				             size);
				eng_row(cfg, &res, ENG_SPOOL, NULL, size, &seq);
			}
			if (s == 0 && sems) {
				eng_progress(cfg, &st, "bare sem_post/sem_wait",
				             0);
				eng_row(cfg, &res, ENG_SEM, NULL, 0, &seq);
			}
			eng_flush(cfg, &res, &st);
		}
		for (size_t i = 0; i < cfg->nitems && !bench_stop; i++) {
			eng_progress(cfg, &st, cfg->items[i], size);
			eng_row(cfg, &res, ENG_IPCX, cfg->items[i], size, &seq);
			/* mq, sysv-mq: their bare floor and CPU rows. */
			if (cfg->baselines) {
				if (eng_item_is(cfg->items[i], "mq,sysv-mq"))
					eng_progress(cfg, &st, cfg->items[i],
					             size);
				eng_row(cfg, &res, ENG_MSGQ, cfg->items[i],
				        size, &seq);
			}
			/* After the item's own baselines: the ratios. */
			eng_flush(cfg, &res, &st);
		}
	}
	if (cfg->progress) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	if (cfg->baselines && cfg->idle_s > 0 && !bench_stop) {
		fputc('\n', f);
		bench_idle_test(cfg, ++seq, &res);
		bench_print_idle(f, &res.idle);
	}
	bench_paced_rows(cfg, &seq, &res);
	bench_pin_restore();
	res.load_end = bench_loadavg();
	fprintf(f,
	        "\nload average %.2f at the start, %.2f at the end (%d CPUs): "
	        "other work on the machine shows in the figures\n",
	        res.load_start, res.load_end, res.ncpu);

	if (targets) {
		nt = bench_targets(&res, t);
		nt += bench_paced_targets(&res, t + nt);
		bench_print_targets(f, t, nt);
	}
	for (size_t i = 0; i < res.nrows; i++)
		if (res.rows[i].status == BENCH_FAIL)
			rc = 1;
	if (res.idle.done && res.idle.status == BENCH_FAIL)
		rc = 1;
	if (cfg->json && bench_write_json(cfg->json, cfg, &res, t, nt) < 0)
		rc = -1;
	if (cfg->svg && bench_write_svg(cfg->svg, &res) < 0)
		rc = -1;
	if (bench_stop) {
		fprintf(stderr, "ipcx bench: interrupted\n");
		rc = 1;
	}
	bench_signals_restore();
	free(res.rows);
	return rc;
}
