/*
 * stats.c - percentiles, buffers and the human units of the table.
 */
#include "bench.h"

#include <stdlib.h>
#include <string.h>

static int stats_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest sample with at least p of them at or below. */
static uint64_t stats_rank(const uint64_t *v, size_t n, double p)
{
	size_t k = (size_t)(p * (double)n + 0.999999);

	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

void bench_percentiles(uint64_t *v, size_t n, struct bench_row *row)
{
	if (n == 0)
		return;
	qsort(v, n, sizeof(*v), stats_cmp);
	row->has_rtt = true;
	row->roundtrips = (long)n;
	row->rtt_min_ns = v[0];
	row->rtt_p50_ns = stats_rank(v, n, 0.50);
	row->rtt_p99_ns = stats_rank(v, n, 0.99);
	row->rtt_p999_ns = stats_rank(v, n, 0.999);
	row->rtt_max_ns = v[n - 1];
}

void bench_row_merge(struct bench_row *dst, const struct bench_row *src)
{
	if (dst->status != BENCH_OK)
		return;
	if (src->status != BENCH_OK) {
		*dst = *src;
		return;
	}
	if (src->has_rtt &&
	    (!dst->has_rtt || src->rtt_p50_ns < dst->rtt_p50_ns)) {
		dst->has_rtt = true;
		dst->roundtrips = src->roundtrips;
		dst->rtt_min_ns = src->rtt_min_ns;
		dst->rtt_p50_ns = src->rtt_p50_ns;
		dst->rtt_p99_ns = src->rtt_p99_ns;
		dst->rtt_p999_ns = src->rtt_p999_ns;
		dst->rtt_max_ns = src->rtt_max_ns;
		dst->rtt_asked = src->rtt_asked;
	}
	if (src->has_tput &&
	    (!dst->has_tput || src->msgs_per_s > dst->msgs_per_s)) {
		dst->has_tput = true;
		dst->messages = src->messages;
		dst->received = src->received;
		dst->msgs_per_s = src->msgs_per_s;
		dst->bytes_per_s = src->bytes_per_s;
		dst->msgs_asked = src->msgs_asked;
		/* A streaming note (udp loss) goes with its figures. */
		memcpy(dst->note, src->note, sizeof(dst->note));
	}
}

void bench_fmt_ns(uint64_t ns, char *buf, size_t cap)
{
	double us = (double)ns / 1000.0;

	if (us < 10.0)
		snprintf(buf, cap, "%.2f us", us);
	else if (us < 1000.0)
		snprintf(buf, cap, "%.1f us", us);
	else
		snprintf(buf, cap, "%.2f ms", us / 1000.0);
}

void bench_fmt_rate(double r, char *buf, size_t cap)
{
	if (r >= 1e6)
		snprintf(buf, cap, "%.2f M", r / 1e6);
	else if (r >= 1e3)
		snprintf(buf, cap, "%.1f K", r / 1e3);
	else
		snprintf(buf, cap, "%.0f", r);
}

void bench_fmt_bytes(double r, char *buf, size_t cap)
{
	if (r >= 1e9)
		snprintf(buf, cap, "%.2f GB/s", r / 1e9);
	else if (r >= 1e6)
		snprintf(buf, cap, "%.1f MB/s", r / 1e6);
	else
		snprintf(buf, cap, "%.1f KB/s", r / 1e3);
}

void bench_fmt_size(size_t n, char *buf, size_t cap)
{
	if (n >= (1u << 20) && n % (1u << 20) == 0)
		snprintf(buf, cap, "%zuM", n >> 20);
	else if (n >= 1024 && n % 1024 == 0)
		snprintf(buf, cap, "%zuK", n >> 10);
	else
		snprintf(buf, cap, "%zu", n);
}

void bench_counts(const struct bench_config *cfg, size_t size, long *n, long *m,
                  long *warm)
{
	long dn, dm;

	if (cfg->quick) {
		dn = 200;
		dm = 500;
	} else {
		/* Enough samples for a p99.9 at small sizes; big messages
		 * cost more each, so fewer, but never under 1000. */
		dn = size <= 4096 ? 20000 : (long)(20000 * 4096 / size);
		if (dn < 1000)
			dn = 1000;
		/* Stream about 256 MiB, between 2000 and 200000 messages. */
		dm = size ? (long)((256u << 20) / size) : 200000;
		if (dm > 200000)
			dm = 200000;
		if (dm < 2000)
			dm = 2000;
	}
	*n = cfg->roundtrips > 0 ? cfg->roundtrips : dn;
	*m = cfg->messages > 0 ? cfg->messages : dm;
	*warm = cfg->quick ? 20 : (*n / 10 < 100 ? 100 : *n / 10);
	if (*warm > 2000)
		*warm = 2000;
}

void *bench_alloc(size_t n)
{
	void *p = NULL;

	if (n < 64)
		n = 64;
	if (posix_memalign(&p, 4096, n) != 0)
		return NULL;
	/* Touch every page now so no fault lands inside a timed loop. */
	memset(p, 0x5a, n);
	return p;
}

void bench_free(void *p)
{
	free(p);
}
