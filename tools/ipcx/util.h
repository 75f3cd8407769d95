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

/* cli_bad_option - the same without the table (less precise wording). */
int cli_bad_option(const char *cmd, int c, char **argv);

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

/* cli_sleep_ms - sleep ms milliseconds (EINTR ends it early). */
void cli_sleep_ms(int ms);

/* cli_now_ms - CLOCK_MONOTONIC now, in milliseconds. */
long long cli_now_ms(void);

#endif
