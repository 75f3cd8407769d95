/*
 * util.c - helpers the subcommands share: parsing, the one-line error
 * format and exit codes. No mechanism logic lives here.
 */
#include "util.h"

#include "cli.h"
#include "ipcx.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Nanoseconds in a millisecond. */
#define CLI_NS_PER_MS 1000000L

bool cli_parse_ms(const char *s, int *ms)
{
	char *end;
	long v;

	if (strcmp(s, "-1") == 0) {
		*ms = -1;
		return true;
	}
	/* strtol accepts leading blanks and signs; a timeout is digits only. */
	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > INT_MAX)
		return false;
	*ms = (int)v;
	return true;
}

bool cli_parse_count(const char *s, long *n)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1)
		return false;
	*n = v;
	return true;
}

int cli_exit_code(int code)
{
	return code == IPCX_ETIMEDOUT ? CLI_TIMEOUT : CLI_ERR;
}

/*
 * cli_unrepeat - the library's messages often name the endpoint after the
 * operation ("connect unix:///s: nobody is listening (...)"), and ours
 * start with it already. Turn "VERB EP<rest>" into "VERB<rest>" in buf;
 * any other message is returned as it is.
 */
static const char *cli_unrepeat(const char *msg, const char *ep, char *buf,
                                size_t cap)
{
	size_t verb = strcspn(msg, " :"), eplen = strlen(ep);
	const char *rest = msg + verb + 1 + eplen;

	if (verb == 0 || msg[verb] != ' ' || eplen == 0 ||
	    strncmp(msg + verb + 1, ep, eplen) != 0 ||
	    (*rest != ':' && *rest != ' '))
		return msg;
	snprintf(buf, cap, "%.*s%s", (int)verb, msg, rest);
	return buf;
}

/*
 * The endpoint comes from the command line and may hold a newline or a
 * terminal escape: print control bytes as \xNN so an error stays one line
 * (the library escapes its own messages the same way).
 */
static void cli_put_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
}

int cli_fail(const char *endpoint, int code, const char *context)
{
	return cli_fail_msg(endpoint, code, context, ipcx_errmsg());
}

int cli_fail_msg(const char *endpoint, int code, const char *context,
                 const char *msg)
{
	char buf[2048];

	/*
	 * The library's detailed message says what failed and what to do;
	 * fall back to the code's short text if a path left it empty.
	 */
	if (msg == NULL || *msg == '\0')
		msg = ipcx_strerror(code);
	msg = cli_unrepeat(msg, endpoint, buf, sizeof(buf));
	fputs("ipcx: ", stderr);
	cli_put_escaped(stderr, endpoint);
	fprintf(stderr, ": %s%s%s\n", context ? context : "",
	        context ? ": " : "", msg);
	return cli_exit_code(code);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ipcx %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (try 'ipcx %s --help')\n", cmd);
	return CLI_USAGE;
}

/*
 * Whether word is "--NAME=..." for a long option of opts whose value is val
 * (any long option with a value, when opts is NULL).
 */
static bool cli_long_with_value(const char *word, int val,
                                const struct option *opts)
{
	size_t len;

	if (strncmp(word, "--", 2) != 0 || strchr(word, '=') == NULL)
		return false;
	if (opts == NULL)
		return true;
	len = strcspn(word + 2, "=");
	for (; opts->name != NULL; opts++)
		if (opts->val == val && strncmp(opts->name, word + 2, len) == 0)
			return true;
	return false;
}

int cli_bad_option_in(const char *cmd, int c, char **argv,
                      const struct option *opts)
{
	/*
	 * getopt_long has already stepped over the offending word, unless
	 * it was a letter inside a cluster ("-xq"), so it is normally
	 * argv[optind - 1]. optopt names a short option's letter, or the
	 * value of a known long option given a value it does not take; it
	 * is 0 for an unknown long option.
	 */
	const char *word = optind > 0 ? argv[optind - 1] : "?";

	if (c == ':')
		return cli_usage_error(cmd, "option '%s' needs an argument",
		                       word);
	if (optopt != 0 && cli_long_with_value(word, optopt, opts))
		return cli_usage_error(cmd, "option '%.*s' takes no value",
		                       (int)strcspn(word, "="), word);
	if (optopt > 0 && optopt < 128)
		return cli_usage_error(cmd, "unknown option '-%c'", optopt);
	return cli_usage_error(cmd, "unknown option '%s'", word);
}

int cli_version(void)
{
	printf("ipcx %s (libipcx %s)\n", IPCX_VERSION_STRING, ipcx_version());
	return fflush(stdout) == 0 ? CLI_OK : cli_errno("stdout");
}

int cli_help(const char *text)
{
	fputs(text, stdout);
	return fflush(stdout) == 0 ? CLI_OK : cli_errno("stdout");
}

int cli_errno(const char *what)
{
	fprintf(stderr, "ipcx: %s: %s\n", what, strerror(errno));
	return CLI_ERR;
}

void cli_catch_stop_signals(void (*fn)(int))
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};
	struct sigaction sa, old;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], NULL, &old) == 0 &&
		    old.sa_handler != SIG_IGN)
			sigaction(sigs[i], &sa, NULL);
}

void cli_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * CLI_NS_PER_MS};

	nanosleep(&ts, NULL);
}

long long cli_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / CLI_NS_PER_MS;
}

void cli_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}
