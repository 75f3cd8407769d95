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
	ENG_SIGQUEUE,
	ENG_SPOOL
};

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
	for (size_t i = start; i < res->nrows; i++)
		bench_table_row(cfg->out, &res->rows[i]);
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

/* Whether an item is a semaphore (events): sem or sysv-sem, not semshm. */
static bool eng_has_events(const struct bench_config *cfg)
{
	for (size_t i = 0; i < cfg->nitems; i++) {
		size_t n = strcspn(cfg->items[i], ":?");
		if ((n == 3 && !strncmp(cfg->items[i], "sem", 3)) ||
		    (n == 8 && !strncmp(cfg->items[i], "sysv-sem", 8)))
			return true;
	}
	return false;
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
	bench_table_header(f);

	for (size_t s = 0; s < cfg->nsizes && !bench_stop; s++) {
		size_t size = cfg->sizes[s];

		if (s > 0)
			fputc('\n', f);
		if (cfg->baselines) {
			if (s == 0)
				eng_row(cfg, &res, ENG_PINGPONG, NULL, size,
				        &seq);
			eng_row(cfg, &res, ENG_PIPE, NULL, size, &seq);
			eng_row(cfg, &res, ENG_MEMCPY, NULL, size, &seq);
			/* The floors of signal:// and file://, when listed. */
			if (size == 8 && eng_has(cfg, "signal"))
				eng_row(cfg, &res, ENG_SIGQUEUE, NULL, size,
				        &seq);
			if (eng_has(cfg, "file"))
				eng_row(cfg, &res, ENG_SPOOL, NULL, size, &seq);
			if (s == 0 && eng_has_events(cfg))
				eng_row(cfg, &res, ENG_SEM, NULL, 0, &seq);
		}
		for (size_t i = 0; i < cfg->nitems && !bench_stop; i++) {
			eng_row(cfg, &res, ENG_IPCX, cfg->items[i], size, &seq);
			/* mq, sysv-mq: their bare floor and CPU rows. */
			if (cfg->baselines)
				eng_row(cfg, &res, ENG_MSGQ, cfg->items[i],
				        size, &seq);
		}
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
	if (bench_stop) {
		fprintf(stderr, "ipcx bench: interrupted\n");
		rc = 1;
	}
	bench_signals_restore();
	free(res.rows);
	return rc;
}
