/*
 * util.h - helpers the subcommands share: number and timeout parsing, the
 * one-line error format, exit-code mapping, help and version output.
 *
 * Every error the command prints is one line on stderr:
 *   ipcx: <endpoint>: <what> (<what to do>)        library failures
 *   ipcx <cmd>: <what> (try 'ipcx <cmd> --help')   usage errors
 */
#ifndef IPCX_CLI_UTIL_H
#define IPCX_CLI_UTIL_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

/* Long options every subcommand takes; put these in each getopt table. */
#define CLI_OPT_HELP    'h'
#define CLI_OPT_VERSION 'V'

/*
 * The end of every subcommand's long option table: --help, --version and
 * the terminator. cli_args_next() answers the first two itself.
 */
/* clang-format off */
#define CLI_OPTS_END                                     \
	{"help", no_argument, NULL, CLI_OPT_HELP},       \
	{"version", no_argument, NULL, CLI_OPT_VERSION}, \
	{NULL, 0, NULL, 0}
/* clang-format on */

/* ---- a subcommand's command line (args.c) ----
 *
 *	struct cli_args a = CLI_ARGS("send", send_usage, "t:", send_opts,
 *	                             argc, argv);
 *	while ((c = cli_args_next(&a)) > 0)
 *		switch (c) { case 't': ... optarg ...; }
 *	if (c == CLI_ARGS_EXIT)
 *		return a.rc;
 *	if ((rc = cli_args_want(&a, 1, -1, "ENDPOINT")) != CLI_OK)
 *		return rc;
 *	ep = cli_args_operand(&a);
 *
 * GNU conventions: options and operands in any order ("ipcx send EP a -t
 * 500"), '--' ends the options, -h/--help prints usage (exit 0), -V/
 * --version the version (exit 0); an unknown option, a missing argument or
 * a value given to a flag is one line on stderr and exit 2 (CLI_USAGE).
 */
struct cli_args {
	const char *cmd;            /* "send": names the command in errors */
	const char *usage;          /* printed for -h/--help */
	const char *shorts;         /* its own short options ("t:"), or NULL */
	const struct option *longs; /* its long options, ending CLI_OPTS_END */
	int argc;
	char **argv; /* argv[0] is the subcommand's name; getopt permutes it */
	int rc;      /* the exit status after CLI_ARGS_EXIT */
	int ind;     /* after CLI_ARGS_END: the next operand's index */
	bool started_;       /* private */
	char optstring_[64]; /* private */
};

#define CLI_ARGS(cmd, usage, shorts, longs, argc, argv)                  \
	{                                                                \
		(cmd), (usage), (shorts), (longs), (argc), (argv), 0, 0, \
		    false, ""                                            \
	}

/* cli_args_next results other than an option's value (which is > 0). */
enum {
	CLI_ARGS_END = -1,  /* no more options: read the operands */
	CLI_ARGS_EXIT = -2, /* help, version or a usage error: exit with rc */
};

/*
 * cli_args_next - the next of the subcommand's own options (its short
 * letter or long value; its argument in optarg), CLI_ARGS_END, or
 * CLI_ARGS_EXIT when it has printed help, the version or a usage error.
 */
int cli_args_next(struct cli_args *a);

/* cli_args_operand - the next operand, or NULL when none is left. */
const char *cli_args_operand(struct cli_args *a);

/* cli_args_left - how many operands are left. */
int cli_args_left(const struct cli_args *a);

/*
 * cli_args_ms, cli_args_count - parse the current option's argument
 * (optarg) as cli_parse_ms / cli_parse_count do; on a bad one print the
 * usage error ("bad timeout 'x': want milliseconds", "bad count ...") and
 * return false with a->rc set: `if (!cli_args_ms(&a, &ms)) return a.rc;`
 */
bool cli_args_ms(struct cli_args *a, int *ms);
bool cli_args_count(struct cli_args *a, long *n);

/*
 * cli_args_want - check that min to max (-1: any number) operands are
 * left: CLI_OK, or a usage error ("missing <what>", "unexpected argument")
 * printed and CLI_USAGE returned.
 */
int cli_args_want(const struct cli_args *a, int min, int max, const char *what);

/*
 * cli_parse_ms - parse a timeout in milliseconds: a decimal integer from 0
 * to INT_MAX, or -1 (wait forever). Returns false on anything else.
 */
bool cli_parse_ms(const char *s, int *ms);

/*
 * cli_parse_count - parse a positive decimal count (1 .. LONG_MAX).
 * Returns false on anything else.
 */
bool cli_parse_count(const char *s, long *n);

/*
 * cli_fail - report the library failure `code` for endpoint: prints
 * "ipcx: <endpoint>: <ipcx_errmsg()>" (prefixed by context if non-NULL)
 * and returns the exit status for it: CLI_TIMEOUT for IPCX_ETIMEDOUT,
 * CLI_ERR for everything else.
 */
int cli_fail(const char *endpoint, int code, const char *context);

/*
 * cli_fail_msg - cli_fail with the library's message given (one saved
 * from an earlier failure) instead of the current ipcx_errmsg().
 */
int cli_fail_msg(const char *endpoint, int code, const char *context,
                 const char *msg);

/* cli_exit_code - the exit status for the IPCX_E* code (see cli_fail). */
int cli_exit_code(int code);

/*
 * cli_usage_error - print "ipcx <cmd>: <message> (try 'ipcx <cmd> --help')"
 * and return CLI_USAGE.
 */
int cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * cli_bad_option_in - report getopt_long's '?' or ':' result for cmd as a
 * usage error (opterr must be 0 so getopt stays silent). argv, the long
 * options opts and the getopt globals tell which option was wrong.
 * Returns CLI_USAGE.
 */
int cli_bad_option_in(const char *cmd, int c, char **argv,
                      const struct option *opts);

/* cli_version - print "ipcx <version> (libipcx <version>)" on stdout. */
int cli_version(void);

/*
 * cli_help - print text (a subcommand's usage) on stdout and return CLI_OK,
 * or CLI_ERR if stdout could not be written.
 */
int cli_help(const char *text);

/*
 * cli_errno - print "ipcx: <what>: <strerror(errno)>" and return CLI_ERR,
 * for failures outside the library (stdin, stdout, /proc).
 */
int cli_errno(const char *what);

/*
 * cli_catch_stop_signals - run fn on SIGINT, SIGTERM, SIGHUP and SIGPIPE
 * (a reader such as `head -1` went away: close the channel, remove its
 * socket file, then end), without SA_RESTART (a blocking call returns
 * EINTR); a signal ignored when the command started (nohup, a shell's
 * background job) stays ignored.
 */
void cli_catch_stop_signals(void (*fn)(int));

/* cli_sleep_ms - sleep ms milliseconds (EINTR ends it early). */
void cli_sleep_ms(int ms);

/*
 * cli_json_str - write s as a JSON string on f: quotes, backslashes and
 * control bytes escaped, so a hostile name cannot break the document.
 */
void cli_json_str(FILE *f, const char *s);

/* cli_now_ms - CLOCK_MONOTONIC now, in milliseconds. */
long long cli_now_ms(void);

#endif
