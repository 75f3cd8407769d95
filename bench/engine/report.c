/*
 * report.c - the table, the target ratios and the JSON file.
 *
 * The JSON is an object whose "rows" array holds one object per line, so
 * that a shell script can pick rows apart with awk as well as with jq.
 */
#include "bench.h"

#include "ipcx.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct bench_row *bench_row_add(struct bench_result *res)
{
	if (res->nrows == res->cap) {
		size_t cap = res->cap ? res->cap * 2 : 32;
		struct bench_row *r = realloc(res->rows, cap * sizeof(*r));

		if (!r) {
			/* Out of memory: the row is measured but dropped. */
			static struct bench_row lost;

			return &lost;
		}
		res->rows = r;
		res->cap = cap;
	}
	/* A new row starts empty: callers fill only what they measured. */
	memset(&res->rows[res->nrows], 0, sizeof(res->rows[0]));
	return &res->rows[res->nrows++];
}

/* The name column: 26 wide unless bench_table_fit asked for more. */
static int rep_name_w = 26;

void bench_table_fit(size_t name_len)
{
	if (name_len > (size_t)rep_name_w && name_len < 200)
		rep_name_w = (int)name_len;
}

void bench_table_header(FILE *f)
{
	fprintf(f, "%-*s %6s %-8s %9s %9s %9s %9s %10s %9s  %s\n", rep_name_w,
	        "transport", "size", "wait", "rtt p50", "p99", "p99.9",
	        "msgs/s", "bytes/s", "cpu/msg", "note");
	fflush(f);
}

/* r's note, then what the time budget cut ("N of M round trips (4 s
 * budget)"), in buf. */
static void rep_note(const struct bench_row *r, char *buf, size_t cap)
{
	size_t k = (size_t)snprintf(buf, cap, "%s", r->note);

	if (r->rtt_asked && k < cap)
		k += (size_t)snprintf(
		    buf + k, cap - k, "%s%ld of %ld round trips (%u s budget)",
		    k ? "; " : "", r->roundtrips, r->rtt_asked, r->budget_s);
	if (r->msgs_asked && k < cap)
		snprintf(buf + k, cap - k,
		         "%s%ld of %ld messages (%u s budget)", k ? "; " : "",
		         r->messages, r->msgs_asked, r->budget_s);
}

void bench_table_row(FILE *f, const struct bench_row *r)
{
	char sz[16], p50[16] = "-", p99[16] = "-", p999[16] = "-";
	char mps[16] = "-", bps[16] = "-", cpu[16] = "-", vs[80] = "";
	char note[400];

	bench_fmt_size(r->size, sz, sizeof(sz));
	rep_note(r, note, sizeof(note));
	if (r->status == BENCH_OK && r->has_rtt) {
		bench_fmt_ns(r->rtt_p50_ns, p50, sizeof(p50));
		bench_fmt_ns(r->rtt_p99_ns, p99, sizeof(p99));
		bench_fmt_ns(r->rtt_p999_ns, p999, sizeof(p999));
	}
	if (r->status == BENCH_OK && r->has_tput) {
		bench_fmt_rate(r->msgs_per_s, mps, sizeof(mps));
		bench_fmt_bytes(r->bytes_per_s, bps, sizeof(bps));
	}
	if (r->base_ratio > 0 && r->kind != BENCH_BASELINE)
		snprintf(vs, sizeof(vs), "%.2fx %s%s", r->base_ratio,
		         r->baseline, note[0] ? "; " : "");
	if (r->status == BENCH_OK && r->has_cpu)
		bench_fmt_ns((uint64_t)r->cpu_ns_per_msg, cpu, sizeof(cpu));
	fprintf(f, "%-*s %6s %-8s %9s %9s %9s %9s %10s %9s  %s%s%s\n",
	        rep_name_w, r->name, sz, r->wait, p50, p99, p999, mps, bps, cpu,
	        vs,
	        r->status == BENCH_FAIL   ? "FAILED: "
	        : r->status == BENCH_SKIP ? "skipped: "
	                                  : "",
	        note);
	fflush(f);
}

void bench_print_idle(FILE *f, const struct bench_idle *idle)
{
	if (!idle->done)
		return;
	if (idle->status == BENCH_OK)
		fprintf(f,
		        "idle shm receiver (wait=adaptive, blocked %.2f s in "
		        "ipcx_recv): %.2f ms CPU\n",
		        idle->window_s, idle->cpu_ms);
	else
		fprintf(f, "idle shm receiver: %s: %s\n",
		        idle->status == BENCH_SKIP ? "skipped" : "FAILED",
		        idle->note);
	fflush(f);
}

/* ---- baselines ---- */

/*
 * Which bare row each scheme is compared with. Size-free rows (events)
 * match any size; the cache-line ping-pong moves 64 bytes only, so shm is
 * compared with it at 64 bytes, and at other sizes with memcpy (the floor
 * of its streaming; memcpy has no round trip, so no ratio).
 */
static const struct {
	const char *scheme, *base;
	bool any_size;
	size_t only; /* the one size this baseline exists at, 0: all */
} rep_bases[] = {
    {"pipe", "bare pipe", false, 0},
    {"fifo", "bare pipe", false, 0},
    {"unix", "bare socketpair", false, 0},
    {"tcp", "bare socketpair", false, 0},
    {"udp", "bare socketpair", false, 0},
    {"shm", "cache-line ping-pong", false, 64},
    {"shm", "memcpy", false, 0},
    {"semshm", "bare sem_post/sem_wait", true, 0},
    {"sem", "bare sem_post/sem_wait", true, 0},
    {"sysv-sem", "bare sem_post/sem_wait", true, 0},
    {"mq", "bare mq", false, 0},
    {"sysv-mq", "bare sysv-mq", false, 0},
    {"file", "bare spool rename", false, 0},
    {"signal", "bare sigqueue", true, 0},
};

/* The index into rep_bases for r's scheme (its name up to ':', '?', ' '). */
static int rep_base_index(const struct bench_row *r)
{
	size_t n = strcspn(r->name, ":? ");

	/* Only the round-trip rows of ipcx (not mq's CPU-only rows). */
	if (r->kind != BENCH_IPCX || strstr(r->name, " cpu "))
		return -1;
	for (size_t i = 0; i < sizeof(rep_bases) / sizeof(rep_bases[0]); i++)
		if (strlen(rep_bases[i].scheme) == n &&
		    !strncmp(r->name, rep_bases[i].scheme, n) &&
		    (!rep_bases[i].only || rep_bases[i].only == r->size))
			return (int)i;
	return -1;
}

const char *bench_baseline_name(const struct bench_row *r)
{
	int i = rep_base_index(r);

	return i < 0 ? NULL : rep_bases[i].base;
}

const struct bench_row *bench_find_baseline(const struct bench_result *res,
                                            const struct bench_row *r)
{
	int k = rep_base_index(r);

	for (size_t i = 0; k >= 0 && i < res->nrows; i++) {
		const struct bench_row *b = &res->rows[i];

		if (b->kind == BENCH_BASELINE && b->status == BENCH_OK &&
		    b->has_rtt && !strcmp(b->name, rep_bases[k].base) &&
		    (rep_bases[k].any_size || b->size == r->size))
			return b;
	}
	return NULL;
}

void bench_link_baseline(const struct bench_result *res, struct bench_row *r)
{
	const char *name = bench_baseline_name(r);
	const struct bench_row *b = bench_find_baseline(res, r);

	snprintf(r->baseline, sizeof(r->baseline), "%s", name ? name : "");
	r->base_ratio = 0;
	if (b && r->status == BENCH_OK && r->has_rtt && b->rtt_p50_ns)
		r->base_ratio = (double)r->rtt_p50_ns / (double)b->rtt_p50_ns;
	/* A reference row is its own baseline; mq's CPU rows have theirs
	 * among the bare CPU rows ("mq cpu b2b" and "bare mq cpu b2b"). */
	if (r->kind == BENCH_BASELINE) {
		snprintf(r->baseline, sizeof(r->baseline), "%.47s", r->name);
		r->base_ratio = r->status == BENCH_OK && r->has_rtt ? 1.0 : 0;
	} else if (r->kind == BENCH_IPCX && !name && strstr(r->name, " cpu ")) {
		snprintf(r->baseline, sizeof(r->baseline), "bare %.42s",
		         r->name);
	}
}

/* ---- targets ---- */

static bool rep_is_shm(const struct bench_row *r)
{
	return r->kind == BENCH_IPCX && r->status == BENCH_OK &&
	       !strncmp(r->endpoint, "shm://", 6);
}

/* The OK row named name at size (any size if size is 0: the smallest). */
static const struct bench_row *rep_find_base(const struct bench_result *res,
                                             const char *name, size_t size)
{
	for (size_t i = 0; i < res->nrows; i++) {
		const struct bench_row *r = &res->rows[i];

		if (r->kind == BENCH_BASELINE && r->status == BENCH_OK &&
		    !r->pace[0] && !strcmp(r->name, name) &&
		    (size == 0 || r->size == size))
			return r;
	}
	return NULL;
}

/* The smallest-size shm copy row with the given policy and a round trip. */
static const struct bench_row *rep_find_shm_rtt(const struct bench_result *res,
                                                const char *wait)
{
	const struct bench_row *best = NULL;

	for (size_t i = 0; i < res->nrows; i++) {
		const struct bench_row *r = &res->rows[i];

		if (rep_is_shm(r) && !r->zero_copy && r->has_rtt &&
		    !r->pace[0] && !strcmp(r->wait, wait) &&
		    (!best || r->size < best->size))
			best = r;
	}
	return best;
}

/* The fastest streaming shm row at size, copy or zero-copy. */
static const struct bench_row *rep_find_shm_tput(const struct bench_result *res,
                                                 size_t size, bool zc)
{
	const struct bench_row *best = NULL;

	for (size_t i = 0; i < res->nrows; i++) {
		const struct bench_row *r = &res->rows[i];

		if (rep_is_shm(r) && r->zero_copy == zc && r->has_tput &&
		    r->size == size &&
		    (!best || r->bytes_per_s > best->bytes_per_s))
			best = r;
	}
	return best;
}

static void rep_set(struct bench_target *t, const char *what, const char *op,
                    double value, double target, const char *unit)
{
	snprintf(t->what, sizeof(t->what), "%s", what);
	t->op = op;
	t->value = value;
	t->target = target;
	t->unit = unit;
	if (!strcmp(op, "<="))
		t->met = value <= target;
	else if (!strcmp(op, ">="))
		t->met = value >= target;
	else
		t->met = value < target;
}

int bench_targets(const struct bench_result *res, struct bench_target *t)
{
	const struct bench_row *a, *b;
	int n = 0;

	a = rep_find_shm_rtt(res, "spin");
	b = rep_find_base(res, "cache-line ping-pong", 0);
	if (a && b && b->rtt_p50_ns) {
		rep_set(&t[n], "spin round trip p50 vs cache-line ping-pong",
		        "<=", (double)a->rtt_p50_ns / (double)b->rtt_p50_ns,
		        2.0, "x");
		snprintf(t[n].rows, sizeof(t[n].rows),
		         "%s at %zu B: %llu ns / %llu ns", a->name, a->size,
		         (unsigned long long)a->rtt_p50_ns,
		         (unsigned long long)b->rtt_p50_ns);
		n++;
	}
	a = rep_find_shm_rtt(res, "adaptive");
	b = a ? rep_find_base(res, "bare pipe", a->size) : NULL;
	if (a && b && b->rtt_p50_ns) {
		rep_set(&t[n], "adaptive round trip p50 vs pipe round trip",
		        "<=", (double)a->rtt_p50_ns / (double)b->rtt_p50_ns,
		        0.1, "x");
		snprintf(t[n].rows, sizeof(t[n].rows),
		         "%s at %zu B: %llu ns / bare pipe %llu ns", a->name,
		         a->size, (unsigned long long)a->rtt_p50_ns,
		         (unsigned long long)b->rtt_p50_ns);
		n++;
	}
	b = rep_find_base(res, "memcpy", 65536);
	for (int zc = 0; zc < 2 && b && b->bytes_per_s > 0; zc++) {
		a = rep_find_shm_tput(res, 65536, zc);
		if (!a)
			continue;
		rep_set(&t[n],
		        zc ? "64 KiB streaming (zero-copy) vs memcpy"
		           : "64 KiB streaming (copy) vs memcpy",
		        ">=", a->bytes_per_s / b->bytes_per_s, 0.6, "x");
		snprintf(t[n].rows, sizeof(t[n].rows),
		         "%s: %.2f GB/s / memcpy %.2f GB/s", a->name,
		         a->bytes_per_s / 1e9, b->bytes_per_s / 1e9);
		n++;
	}
	if (res->idle.done && res->idle.status == BENCH_OK &&
	    res->idle.window_s > 0) {
		/* The target is per 3 s; a shorter window is scaled to it. */
		double ms = res->idle.cpu_ms * 3.0 / res->idle.window_s;

		rep_set(&t[n], "idle receiver CPU over 3 s", "<", ms, 60.0,
		        "ms");
		snprintf(t[n].rows, sizeof(t[n].rows),
		         "%.2f ms CPU in %.2f s blocked (wait=adaptive)",
		         res->idle.cpu_ms, res->idle.window_s);
		n++;
	}
	return n;
}

void bench_print_targets(FILE *f, const struct bench_target *t, int n)
{
	if (n == 0)
		return;
	fprintf(f, "\ntargets (measured in this run):\n");
	for (int i = 0; i < n; i++) {
		char val[32], tgt[32];

		if (!strcmp(t[i].unit, "x")) {
			snprintf(val, sizeof(val), "%.3fx", t[i].value);
			snprintf(tgt, sizeof(tgt), "%s %.2gx", t[i].op,
			         t[i].target);
		} else {
			snprintf(val, sizeof(val), "%.2f %s", t[i].value,
			         t[i].unit);
			snprintf(tgt, sizeof(tgt), "%s %g %s", t[i].op,
			         t[i].target, t[i].unit);
		}
		fprintf(f, "  %-46s %10s  target %-9s %-3s  (%s)\n", t[i].what,
		        val, tgt, t[i].met ? "yes" : "no", t[i].rows);
	}
	fflush(f);
}

/* ---- JSON ---- */

static void rep_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void rep_json_row(FILE *f, const struct bench_row *r)
{
	char note[400];

	fputs("{\"transport\": ", f);
	rep_json_str(f, r->name);
	fprintf(f, ", \"kind\": \"%s\", \"endpoint\": ",
	        r->kind == BENCH_IPCX   ? "ipcx"
	        : r->kind == BENCH_PEER ? "peer"
	                                : "baseline");
	rep_json_str(f, r->endpoint);
	fprintf(f, ", \"size\": %zu, \"wait\": ", r->size);
	rep_json_str(f, r->wait);
	fprintf(f, ", \"zero_copy\": %s, \"status\": \"%s\"",
	        r->zero_copy ? "true" : "false",
	        r->status == BENCH_OK     ? "ok"
	        : r->status == BENCH_SKIP ? "skipped"
	                                  : "failed");
	if (r->status == BENCH_OK && r->has_rtt)
		fprintf(f,
		        ", \"roundtrips\": %ld, \"rtt_min_ns\": %llu, "
		        "\"rtt_p50_ns\": %llu, \"rtt_p99_ns\": %llu, "
		        "\"rtt_p999_ns\": %llu, \"rtt_max_ns\": %llu",
		        r->roundtrips, (unsigned long long)r->rtt_min_ns,
		        (unsigned long long)r->rtt_p50_ns,
		        (unsigned long long)r->rtt_p99_ns,
		        (unsigned long long)r->rtt_p999_ns,
		        (unsigned long long)r->rtt_max_ns);
	else
		fputs(", \"roundtrips\": null, \"rtt_min_ns\": null, "
		      "\"rtt_p50_ns\": null, \"rtt_p99_ns\": null, "
		      "\"rtt_p999_ns\": null, \"rtt_max_ns\": null",
		      f);
	if (r->status == BENCH_OK && r->has_tput)
		fprintf(f,
		        ", \"messages\": %ld, \"received\": %ld, "
		        "\"msgs_per_s\": %.0f, \"bytes_per_s\": %.0f",
		        r->messages, r->received, r->msgs_per_s,
		        r->bytes_per_s);
	else
		fputs(", \"messages\": null, \"received\": null, "
		      "\"msgs_per_s\": null, \"bytes_per_s\": null",
		      f);
	if (r->status == BENCH_OK && r->has_cpu)
		fprintf(f,
		        ", \"cpu_ns_per_msg\": %.0f, \"rx_cpu_ns_per_msg\": "
		        "%.0f, \"tx_cpu_ns_per_msg\": %.0f",
		        r->cpu_ns_per_msg, r->rx_cpu_ns, r->tx_cpu_ns);
	else
		fputs(", \"cpu_ns_per_msg\": null, \"rx_cpu_ns_per_msg\": "
		      "null, \"tx_cpu_ns_per_msg\": null",
		      f);
	fputs(", \"pace\": ", f);
	rep_json_str(f, r->pace);
	fputs(", \"baseline\": ", f);
	if (r->baseline[0])
		rep_json_str(f, r->baseline);
	else
		fputs("null", f);
	if (r->base_ratio > 0)
		fprintf(f, ", \"baseline_ratio\": %.3f", r->base_ratio);
	else
		fputs(", \"baseline_ratio\": null", f);
	/* The null figures above that do not exist for this row, and why. */
	fputs(", \"absent\": ", f);
	if (r->absent) {
		const char *sep = "";

		fputs("{\"fields\": [", f);
		if (r->absent & BENCH_NO_RTT) {
			fputs("\"rtt_p50_ns\", \"rtt_p99_ns\", \"rtt_p999_ns\"",
			      f);
			sep = ", ";
		}
		if (r->absent & BENCH_NO_TPUT) {
			fprintf(f, "%s\"msgs_per_s\", \"bytes_per_s\"", sep);
			sep = ", ";
		}
		if (r->absent & BENCH_NO_CPU)
			fprintf(f, "%s\"cpu_ns_per_msg\"", sep);
		fputs("], \"why\": ", f);
		rep_json_str(f, r->absent_why);
		fputc('}', f);
	} else {
		fputs("null", f);
	}
	rep_note(r, note, sizeof(note));
	fputs(", \"note\": ", f);
	rep_json_str(f, note);
	fputc('}', f);
}

int bench_write_json(const char *path, const struct bench_config *cfg,
                     const struct bench_result *res,
                     const struct bench_target *t, int nt)
{
	bool out = !strcmp(path, "-");
	FILE *f = out ? stdout : fopen(path, "w");
	int bad;

	if (!f) {
		fprintf(stderr, "ipcx bench: %s: %s\n", path, strerror(errno));
		return -1;
	}
	fputs("{\n\"tool\": ", f);
	rep_json_str(f, res->tool[0] ? res->tool : "ipcx bench");
	fputs(", \"version\": ", f);
	rep_json_str(f, res->version[0] ? res->version : IPCX_VERSION_STRING);
	fputs(", ", f);
	fprintf(f, "\"date\": \"%s\", \"cpus\": %d, ", res->date, res->ncpu);
	fprintf(f, "\"cpu_parent\": %d, \"cpu_child\": %d, \"pinning\": ",
	        res->cpu_parent, res->cpu_child);
	rep_json_str(f, res->pin_note);
	fprintf(f, ", \"load_start\": %.2f, \"load_end\": %.2f",
	        res->load_start, res->load_end);
	fprintf(f, ", \"timeout_ms\": %d, \"repeat\": %d,\n\"rows\": [\n",
	        cfg->timeout_ms, cfg->repeat > 1 ? cfg->repeat : 1);
	for (size_t i = 0; i < res->nrows; i++) {
		rep_json_row(f, &res->rows[i]);
		fputs(i + 1 < res->nrows ? ",\n" : "\n", f);
	}
	fputs("],\n\"idle\": ", f);
	if (res->idle.done) {
		fprintf(f, "{\"endpoint\": ");
		rep_json_str(f, res->idle.endpoint);
		fprintf(f, ", \"wait\": \"adaptive\", \"status\": \"%s\", ",
		        res->idle.status == BENCH_OK     ? "ok"
		        : res->idle.status == BENCH_SKIP ? "skipped"
		                                         : "failed");
		if (res->idle.status == BENCH_OK)
			fprintf(f, "\"window_s\": %.3f, \"cpu_ms\": %.3f, ",
			        res->idle.window_s, res->idle.cpu_ms);
		fputs("\"note\": ", f);
		rep_json_str(f, res->idle.note);
		fputs("}", f);
	} else {
		fputs("null", f);
	}
	fputs(",\n\"targets\": [\n", f);
	for (int i = 0; i < nt; i++) {
		fputs("{\"what\": ", f);
		rep_json_str(f, t[i].what);
		fprintf(f,
		        ", \"value\": %.4f, \"op\": \"%s\", \"target\": %g, "
		        "\"unit\": \"%s\", \"met\": %s, \"rows\": ",
		        t[i].value, t[i].op, t[i].target, t[i].unit,
		        t[i].met ? "true" : "false");
		rep_json_str(f, t[i].rows);
		fputs(i + 1 < nt ? "},\n" : "}\n", f);
	}
	fputs("]\n}\n", f);
	bad = ferror(f);
	if (out)
		bad |= fflush(f);
	else
		bad |= fclose(f);
	if (bad) {
		fprintf(stderr, "ipcx bench: %s: write failed\n", path);
		return -1;
	}
	return 0;
}
