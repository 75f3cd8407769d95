/*
 * bench.c - `ipcx bench`: parse the flags, hand them to the measurement
 * engine (bench/engine/), map its outcome to an exit status.
 */
#include "cli.h"
#include "util.h"

#include "../../bench/engine/bench.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Every implemented mechanism; nats:// needs a server, so only on request. */
#define BENCH_DEFAULT_ITEMS                                                  \
	"shm://?wait=spin,shm,semshm,pipe,fifo,file,signal,unix,tcp,udp,mq," \
	"sysv-mq,sem,sysv-sem"
#define BENCH_DEFAULT_SIZES "64,64K"

static const char bench_usage[] =
    "usage: ipcx bench [-t LIST] [-s LIST] [-n N] [-m N] [-r N] [--json FILE]\n"
    "                  [--svg FILE] [--no-pin] [--quick] [OPTIONS]\n"
    "\n"
    "Measure round-trip time and one-way throughput of IPC transports, side\n"
    "by side with reference rows measured in the same run: a bare cache-line\n"
    "ping-pong between two processes, a bare pipe round trip, single-core\n"
    "memcpy bandwidth and the CPU an idle shm receiver uses, and for each\n"
    "kernel mechanism the bare system calls it wraps (socketpair,\n"
    "mq_send/mq_receive, msgsnd/msgrcv, sem_post/sem_wait). Each transport\n"
    "row names its bare row and the ratio of their round-trip p50s.\n"
    "\n"
    "  -t, --transports LIST  comma-separated endpoints or templates; a bare\n"
    "                         scheme (shm, pipe, fifo, unix, tcp, udp, mq,\n"
    "                         sysv-mq) or scheme://?options gets a\n"
    "                         unique name, path, key or free port "
    "(default: " BENCH_DEFAULT_ITEMS ")\n"
    "  -s, --sizes LIST       message sizes, K and M suffixes (x1024)\n"
    "                         (default: " BENCH_DEFAULT_SIZES ")\n"
    "  -n, --roundtrips N     timed round trips per row (default 20000 up\n"
    "                         to 4K, fewer for bigger messages, >= 1000,\n"
    "                         and at most 4 s of them)\n"
    "  -m, --messages N       messages per throughput run (default about\n"
    "                         256 MiB worth, 2000..200000, at most 4 s)\n"
    "  -r, --repeat N         measure every row N times and keep the best\n"
    "                         p50 and the best throughput (default 1)\n"
    "      --json FILE        also write the results as JSON ('-': stdout,\n"
    "                         the table then goes to stderr)\n"
    "      --svg FILE         also draw the round trips as an SVG chart\n"
    "      --no-pin           do not pin parent and child to two CPUs\n"
    "      --quick            a tiny run (200 round trips, 500 messages,\n"
    "                         0.3 s idle test): every mechanism in seconds\n"
    "      --idle SECONDS     idle-receiver window (default 3; 0 skips it)\n"
    "      --no-baselines     skip the reference rows and the idle test\n"
    "      --targets          print the shm target ratios (default: when a\n"
    "                         shm item is listed); --no-targets never\n"
    "      --timeout MS       bound on every single wait (default 5000);\n"
    "                         pipe, fifo, unix and tcp time their loops\n"
    "                         waiting for ever, as the bare rows do, and\n"
    "                         a watchdog stops a child idle for MS\n"
    "      --rate N           also a one-way stream paced at N msgs/s\n"
    "                         (shm items and a bare pipe): latency and\n"
    "                         CPU per message, both sides\n"
    "      --gaps LIST        also the first message after each idle gap\n"
    "                         (e.g. 1ms,10ms,1s; units us, ms, s; at most 8)\n"
    "      --batch N          also stream the framed transports (pipe, fifo,\n"
    "                         unix, tcp) with ipcx_sendv, N messages a call\n"
    "                         (1..1024): a 'sendv N' row; receiver as usual\n"
    "  -h, --help             show this help\n"
    "  -V, --version          show the version\n"
    "\n"
    "Round trip: the parent sends, a forked echo child replies, each round\n"
    "trip timed with CLOCK_MONOTONIC; p50/p99/p99.9 after a warm-up. One-way\n"
    "transports (pipe, fifo, shm) use two channels, sockets one connection.\n"
    "Throughput: one-way streaming, from the first send to the last receive.\n"
    "shm also gets a 'zero-copy' row (ipcx_loan/commit, ipcx_peek/release).\n"
    "mq and sysv-mq also get their bare system calls' row and the CPU per\n"
    "message, bare and through ipcx, at 1000 msg/s and back to back.\n"
    "\n"
    "Example:\n"
    "  ipcx bench -t 'shm://?wait=spin,shm,pipe' -s 64,65536 --json out.json\n"
    "\n"
    "On a terminal, stderr shows which row runs and how far the run is.\n"
    "nats:// is measured only when listed, against a running server. A\n"
    "nats item may name the echo child's own endpoint after '@': with\n"
    "  -t 'nats://127.0.0.1:4222@nats://127.0.0.1:4224'\n"
    "the parent publishes and subscribes on one node of a cluster, the child\n"
    "on another, so every message crosses a route (no subject: both get\n"
    "the same unique ones; given subjects and options must match).\n"
    "\n"
    "Exit status: 0 all rows measured (or skipped), 1 a row failed or an\n"
    "error, 2 usage error. Timings never change the exit status.\n";

enum {
	OPT_JSON = 256,
	OPT_SVG,
	OPT_NO_PIN,
	OPT_QUICK,
	OPT_IDLE,
	OPT_NO_BASELINES,
	OPT_TARGETS,
	OPT_NO_TARGETS,
	OPT_TIMEOUT,
	OPT_RATE,
	OPT_GAPS,
	OPT_BATCH,
};

static const struct option bench_opts[] = {
    {"transports", required_argument, NULL, 't'},
    {"sizes", required_argument, NULL, 's'},
    {"roundtrips", required_argument, NULL, 'n'},
    {"messages", required_argument, NULL, 'm'},
    {"repeat", required_argument, NULL, 'r'},
    {"json", required_argument, NULL, OPT_JSON},
    {"svg", required_argument, NULL, OPT_SVG},
    {"no-pin", no_argument, NULL, OPT_NO_PIN},
    {"quick", no_argument, NULL, OPT_QUICK},
    {"idle", required_argument, NULL, OPT_IDLE},
    {"no-baselines", no_argument, NULL, OPT_NO_BASELINES},
    {"targets", no_argument, NULL, OPT_TARGETS},
    {"no-targets", no_argument, NULL, OPT_NO_TARGETS},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"rate", required_argument, NULL, OPT_RATE},
    {"gaps", required_argument, NULL, OPT_GAPS},
    {"batch", required_argument, NULL, OPT_BATCH},
    CLI_OPTS_END,
};

/* Split a comma list in place into a NULL-free array of its words. */
static char **bench_split(char *s, size_t *n)
{
	size_t cap = 1;
	char **v;

	for (char *p = s; *p; p++)
		cap += *p == ',';
	v = calloc(cap, sizeof(*v));
	if (!v)
		return NULL;
	*n = 0;
	for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ","))
		v[(*n)++] = tok;
	return v;
}

static bool bench_parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	if ((*s < '0' || *s > '9') && *s != '.')
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end != '\0' || v < 0 || v > 3600)
		return false;
	*out = v;
	return true;
}

/* "500us", "1ms", "1s": a gap of 10 us to 10 s, in ns. */
static bool bench_parse_gap(const char *s, uint64_t *out)
{
	char *end;
	double v, unit;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (!strcmp(end, "us"))
		unit = 1e3;
	else if (!strcmp(end, "ms"))
		unit = 1e6;
	else if (!strcmp(end, "s"))
		unit = 1e9;
	else
		return false;
	v *= unit;
	if (errno || v < 1e4 || v > 1e10)
		return false;
	*out = (uint64_t)v;
	return true;
}

/* --gaps LIST into cfg (a copy of LIST is cut up). */
static bool bench_parse_gaps(const char *list, struct bench_config *cfg)
{
	char buf[256], *save = NULL;

	if (strlen(list) >= sizeof(buf))
		return false;
	strcpy(buf, list);
	cfg->ngaps = 0;
	for (char *t = strtok_r(buf, ",", &save); t;
	     t = strtok_r(NULL, ",", &save)) {
		if (cfg->ngaps ==
		        sizeof(cfg->gaps_ns) / sizeof(cfg->gaps_ns[0]) ||
		    !bench_parse_gap(t, &cfg->gaps_ns[cfg->ngaps]))
			return false;
		cfg->ngaps++;
	}
	return cfg->ngaps > 0;
}

int cmd_bench(int argc, char **argv)
{
	struct bench_config cfg;
	char *items = NULL, *sizes = NULL, **words = NULL;
	size_t nwords = 0;
	struct cli_args a = CLI_ARGS("bench", bench_usage,
	                             "t:s:n:m:r:", bench_opts, argc, argv);
	int c, rc = CLI_ERR, r;

	memset(&cfg, 0, sizeof(cfg));
	cfg.timeout_ms = 5000;
	cfg.idle_s = -1;
	cfg.pin = true;
	cfg.baselines = true;
	cfg.targets = -1;
	cfg.out = stdout;

	while ((c = cli_args_next(&a)) > 0) {
		switch (c) {
		case 't':
			items = optarg;
			break;
		case 's':
			sizes = optarg;
			break;
		case 'n':
			if (!cli_parse_count(optarg, &cfg.roundtrips))
				return cli_usage_error(
				    "bench",
				    "-n wants a positive count, not '%s'",
				    optarg);
			break;
		case 'm':
			if (!cli_parse_count(optarg, &cfg.messages))
				return cli_usage_error(
				    "bench",
				    "-m wants a positive count, not '%s'",
				    optarg);
			break;
		case 'r': {
			long rep;

			if (!cli_parse_count(optarg, &rep) || rep > 100)
				return cli_usage_error(
				    "bench",
				    "-r wants a count from 1 to 100, not '%s'",
				    optarg);
			cfg.repeat = (int)rep;
			break;
		}
		case OPT_JSON:
			cfg.json = optarg;
			break;
		case OPT_SVG:
			cfg.svg = optarg;
			break;
		case OPT_NO_PIN:
			cfg.pin = false;
			break;
		case OPT_QUICK:
			cfg.quick = true;
			break;
		case OPT_IDLE:
			if (!bench_parse_seconds(optarg, &cfg.idle_s))
				return cli_usage_error(
				    "bench",
				    "--idle wants seconds from 0 to 3600, not "
				    "'%s'",
				    optarg);
			break;
		case OPT_NO_BASELINES:
			cfg.baselines = false;
			break;
		case OPT_TARGETS:
			cfg.targets = 1;
			break;
		case OPT_NO_TARGETS:
			cfg.targets = 0;
			break;
		case OPT_TIMEOUT:
			if (!cli_parse_ms(optarg, &cfg.timeout_ms) ||
			    cfg.timeout_ms < 1)
				return cli_usage_error(
				    "bench",
				    "--timeout wants milliseconds >= 1, not "
				    "'%s'",
				    optarg);
			break;
		case OPT_RATE:
			if (!cli_parse_count(optarg, &cfg.rate) ||
			    cfg.rate > 1000000)
				return cli_usage_error(
				    "bench",
				    "--rate wants msgs/s from 1 to 1000000, "
				    "not '%s'",
				    optarg);
			break;
		case OPT_GAPS:
			if (!bench_parse_gaps(optarg, &cfg))
				return cli_usage_error(
				    "bench",
				    "--gaps wants up to 8 gaps of 10us to 10s "
				    "(e.g. 1ms,10ms,1s), not '%s'",
				    optarg);
			break;
		case OPT_BATCH:
			if (!cli_parse_count(optarg, &cfg.batch) ||
			    cfg.batch > 1024)
				return cli_usage_error(
				    "bench",
				    "--batch wants messages a call from 1 to "
				    "1024, not '%s'",
				    optarg);
			break;
		}
	}
	if (c == CLI_ARGS_EXIT)
		return a.rc;
	rc = cli_args_want(&a, 0, 0, "");
	if (rc != CLI_OK)
		return rc;
	rc = CLI_ERR;
	if (cfg.idle_s < 0)
		cfg.idle_s = cfg.quick ? 0.3 : 3.0;
	if (cfg.json && !strcmp(cfg.json, "-"))
		cfg.out = stderr;
	/* Find out now, not after a minute of measuring, that a file cannot
	 * be written ("a": nothing is truncated yet). */
	for (int k = 0; k < 2; k++) {
		const char *path = k ? cfg.svg : cfg.json;
		FILE *f;

		if (!path || !strcmp(path, "-"))
			continue;
		f = fopen(path, "a");
		if (!f) {
			fprintf(stderr, "ipcx bench: %s: %s\n", path,
			        strerror(errno));
			return CLI_ERR;
		}
		fclose(f);
	}
	/* Progress only for a person watching, never into a pipe or file. */
	cfg.progress = isatty(STDERR_FILENO) && cfg.out != stderr;

	/* Copies: strtok writes into them, argv stays intact. */
	items = strdup(items ? items : BENCH_DEFAULT_ITEMS);
	sizes = strdup(sizes ? sizes : BENCH_DEFAULT_SIZES);
	if (!items || !sizes) {
		fprintf(stderr, "ipcx bench: out of memory\n");
		goto out;
	}
	cfg.items = bench_split(items, &cfg.nitems);
	words = bench_split(sizes, &nwords);
	cfg.sizes = calloc(nwords ? nwords : 1, sizeof(*cfg.sizes));
	if (!cfg.items || !words || !cfg.sizes) {
		fprintf(stderr, "ipcx bench: out of memory\n");
		goto out;
	}
	for (size_t i = 0; i < cfg.nitems; i++) {
		struct bench_ep ep;
		char err[256];

		/* Check every item before measuring anything. */
		if (bench_ep_resolve(cfg.items[i], 0, &ep, err, sizeof(err)) <
		    0) {
			rc = cli_usage_error("bench", "-t: %s", err);
			goto out;
		}
	}
	for (size_t i = 0; i < nwords; i++) {
		if (!bench_parse_size(words[i], &cfg.sizes[cfg.nsizes++])) {
			rc = cli_usage_error("bench",
			                     "-s: '%s' is not a size from 0 to "
			                     "64M (e.g. 64, 4K, "
			                     "1M)",
			                     words[i]);
			goto out;
		}
	}
	if (cfg.nitems == 0 && !cfg.baselines) {
		rc = cli_usage_error("bench", "nothing to measure");
		goto out;
	}
	if (cfg.nsizes == 0) {
		rc = cli_usage_error("bench", "-s: no sizes given");
		goto out;
	}
	r = bench_run(&cfg);
	rc = r == 0 ? CLI_OK : CLI_ERR;
out:
	free(cfg.items);
	free(cfg.sizes);
	free(words);
	free(items);
	free(sizes);
	return rc;
}
