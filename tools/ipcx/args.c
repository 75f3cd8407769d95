/*
 * args.c - reads a subcommand's command line the GNU way, the same for
 * every subcommand: options anywhere, '--' ends them, -h/--help and
 * -V/--version answered here, every mistake one line on stderr and exit 2.
 */
#include "util.h"

#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

/*
 * The getopt string: ':' first (so a missing argument is told apart from
 * an unknown option, and getopt stays silent), the subcommand's own
 * letters, then the two every subcommand takes. Not '+': GNU permutation,
 * so options may follow the operands.
 */
static void args_optstring(struct cli_args *a)
{
	snprintf(a->optstring_, sizeof(a->optstring_), ":%shV",
	         a->shorts ? a->shorts : "");
}

int cli_args_next(struct cli_args *a)
{
	int c;

	if (!a->started_) {
		a->started_ = true;
		args_optstring(a);
		opterr = 0;
		optind = 0; /* GNU: start over, whatever ran before */
	}
	c = getopt_long(a->argc, a->argv, a->optstring_, a->longs, NULL);
	switch (c) {
	case -1:
		a->ind = optind;
		return CLI_ARGS_END;
	case CLI_OPT_HELP:
		a->rc = cli_help(a->usage);
		return CLI_ARGS_EXIT;
	case CLI_OPT_VERSION:
		a->rc = cli_version();
		return CLI_ARGS_EXIT;
	case '?':
	case ':':
		a->rc = cli_bad_option_in(a->cmd, c, a->argv, a->longs);
		return CLI_ARGS_EXIT;
	default:
		return c;
	}
}

const char *cli_args_operand(struct cli_args *a)
{
	return a->ind < a->argc ? a->argv[a->ind++] : NULL;
}

int cli_args_left(const struct cli_args *a)
{
	return a->argc - a->ind;
}

int cli_args_want(const struct cli_args *a, int min, int max, const char *what)
{
	int n = cli_args_left(a);

	if (n < min)
		return cli_usage_error(a->cmd, "missing %s", what);
	if (max >= 0 && n > max)
		return cli_usage_error(a->cmd, "unexpected argument '%s'",
		                       a->argv[a->ind + max]);
	return CLI_OK;
}

bool cli_args_ms(struct cli_args *a, int *ms)
{
	if (cli_parse_ms(optarg, ms))
		return true;
	a->rc = cli_usage_error(a->cmd, "bad timeout '%s': want milliseconds",
	                        optarg);
	return false;
}

bool cli_args_count(struct cli_args *a, long *n)
{
	if (cli_parse_count(optarg, n))
		return true;
	a->rc = cli_usage_error(a->cmd, "bad count '%s': want a number >= 1",
	                        optarg);
	return false;
}
