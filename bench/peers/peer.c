/*
 * peer.c - the comparison programs' shared command line and output.
 */
#include "peer.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static size_t peer_sizes[32];

static bool peer_parse_count(const char *s, long *out)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 1)
		return false;
	*out = v;
	return true;
}

int peer_parse(int argc, char **argv, const char *prog, const char *what,
               struct bench_config *cfg)
{
	static const struct option opts[] = {
	    {"sizes", required_argument, NULL, 's'},
	    {"roundtrips", required_argument, NULL, 'n'},
	    {"messages", required_argument, NULL, 'm'},
	    {"repeat", required_argument, NULL, 'r'},
	    {"json", required_argument, NULL, 'j'},
	    {"no-pin", no_argument, NULL, 'P'},
	    {"quick", no_argument, NULL, 'q'},
	    {"timeout", required_argument, NULL, 'T'},
	    /* ipcx bench's own: make bench passes BENCH_FLAGS to every
	     * program, and a peer has no idle test, reference rows or
	     * targets, so these are taken and ignored. */
	    {"idle", required_argument, NULL, 'I'},
	    {"no-baselines", no_argument, NULL, 'i'},
	    {"targets", no_argument, NULL, 'i'},
	    {"no-targets", no_argument, NULL, 'i'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	char *list = NULL, *end;
	long to;
	int c;

	memset(cfg, 0, sizeof(*cfg));
	cfg->timeout_ms = 5000;
	cfg->pin = true;
	cfg->out = stdout;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":s:n:m:r:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			list = optarg;
			break;
		case 'n':
			if (!peer_parse_count(optarg, &cfg->roundtrips))
				goto usage;
			break;
		case 'm':
			if (!peer_parse_count(optarg, &cfg->messages))
				goto usage;
			break;
		case 'r':
			if (!peer_parse_count(optarg, &to) || to > 100)
				goto usage;
			cfg->repeat = (int)to;
			break;
		case 'j':
			cfg->json = optarg;
			break;
		case 'P':
			cfg->pin = false;
			break;
		case 'q':
			cfg->quick = true;
			break;
		case 'T':
			if (!peer_parse_count(optarg, &to) || to > 3600000)
				goto usage;
			cfg->timeout_ms = (int)to;
			break;
		case 'I':
			if (strtod(optarg, &end) < 0 || end == optarg || *end)
				goto usage;
			break;
		case 'i':
			break;
		case 'h':
			printf(
			    "usage: %s [-s SIZES] [-n ROUNDTRIPS] [-m "
			    "MESSAGES] "
			    "[--json FILE]\n"
			    "          [--no-pin] [--quick] [--timeout MS]\n"
			    "\n%s\n"
			    "ipcx bench's --idle S, --no-baselines, --targets "
			    "and --no-targets\nare taken and ignored.\n"
			    "Prints the same columns as `ipcx bench`; "
			    "sizes take K and M suffixes (default 64,64K).\n",
			    prog, what);
			return 0;
		default:
			goto usage;
		}
	}
	if (optind < argc)
		goto usage;
	{
		static char dflt[] = "64,64K";
		char *s = list ? list : dflt, *tok, *save = NULL;

		for (tok = strtok_r(s, ",", &save); tok;
		     tok = strtok_r(NULL, ",", &save)) {
			if (cfg->nsizes == 32 ||
			    !bench_parse_size(tok, &peer_sizes[cfg->nsizes]))
				goto usage;
			cfg->nsizes++;
		}
	}
	cfg->sizes = peer_sizes;
	if (cfg->json && !strcmp(cfg->json, "-"))
		cfg->out = stderr;
	return -1;
usage:
	fprintf(stderr, "%s: bad command line (try '%s --help')\n", prog, prog);
	return 2;
}

void peer_begin(const struct bench_config *cfg, struct bench_result *res,
                const char *tool, const char *version)
{
	time_t now = time(NULL);
	struct tm tm;

	memset(res, 0, sizeof(*res));
	bench_signals_setup();
	res->ncpu =
	    bench_pin_setup(cfg->pin, res->pin_note, sizeof(res->pin_note));
	res->cpu_parent = bench_cpu_parent;
	res->cpu_child = bench_cpu_child;
	gmtime_r(&now, &tm);
	strftime(res->date, sizeof(res->date), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(res->tool, sizeof(res->tool), "%s", tool);
	snprintf(res->version, sizeof(res->version), "%s", version);
	res->load_start = bench_loadavg();
	fprintf(cfg->out, "%s %s  %s  %s  load %.2f\n\n", tool, version,
	        res->date, res->pin_note, res->load_start);
	bench_table_header(cfg->out);
}

void peer_row(const struct bench_config *cfg, struct bench_result *res,
              const struct bench_row *row)
{
	*bench_row_add(res) = *row;
	bench_table_row(cfg->out, row);
}

int peer_end(const struct bench_config *cfg, struct bench_result *res)
{
	int rc = 0;

	bench_pin_restore();
	res->load_end = bench_loadavg();
	for (size_t i = 0; i < res->nrows; i++)
		if (res->rows[i].status == BENCH_FAIL)
			rc = 1;
	if (cfg->json && bench_write_json(cfg->json, cfg, res, NULL, 0) < 0)
		rc = 1;
	bench_signals_restore();
	free(res->rows);
	res->rows = NULL;
	return rc;
}

int peer_spin_until(int (*ready)(void *arg), void *arg, int timeout_ms)
{
	uint64_t start = 0;

	for (unsigned k = 1;; k++) {
		if (ready(arg))
			return 0;
		if ((k & 1023) == 0) {
			uint64_t now = bench_now_ns();

			if (bench_stop)
				return -1;
			if (!start)
				start = now;
			else if (now - start > (uint64_t)timeout_ms * 1000000u)
				return -1;
		}
	}
}
