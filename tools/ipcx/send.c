/*
 * send.c - `ipcx send ENDPOINT [MSG...]`: each argument one message; with
 * none, each line of stdin one message; --raw sends all of stdin as one.
 */
#include "cli.h"
#include "holders.h"
#include "sigval.h"
#include "util.h"

#include "ipcx.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static const char send_usage[] =
    "usage: ipcx send [OPTIONS] ENDPOINT [MSG...]\n"
    "\n"
    "Send each MSG as one message. With no MSG, send each line of stdin\n"
    "as one message (the newline stripped). pipe:// writes to stdout.\n"
    "\n"
    "  -t, --timeout MS  wait at most MS ms for the receiver to appear and\n"
    "                    for room for each message (exit 3 when it\n"
    "                    expires); without -t a missing receiver is an\n"
    "                    error at once and a full channel waits forever\n"
    "      --raw         send all of stdin, unchanged, as one message\n"
    "  -h, --help        show this help\n"
    "  -V, --version     show the version\n"
    "\n"
    "Options may come anywhere on the line; '--' ends them.\n"
    "Exit status: 0 ok, 1 error, 2 usage error, 3 timed out.\n";

enum { SEND_OPT_RAW = 256 };

static const struct option send_opts[] = {
    {"timeout", required_argument, NULL, 't'},
    {"raw", no_argument, NULL, SEND_OPT_RAW},
    CLI_OPTS_END,
};

/* The first and longest pause between two tries to open, in ms. */
#define SEND_RETRY_MIN_MS 1
#define SEND_RETRY_MAX_MS 20

/*
 * cli_send_open - open ep for sending (send and bridge share it). With
 * timeout_ms >= 0 a receiver that is not there yet is waited for, by trying
 * again until the timeout: nobody listens (IPCX_ENOPEER), or the object the
 * receiver creates, a FIFO, does not exist yet (IPCX_ENOENT). With -1 (no -t)
 * the first failure is final.
 */
int cli_send_open(const char *ep, int timeout_ms, ipcx_chan **chp)
{
	long long deadline = cli_now_ms() + timeout_ms, left;
	int pause = SEND_RETRY_MIN_MS;
	char ctx[64];
	int r;

	for (;;) {
		r = ipcx_open(ep, IPCX_SEND, chp);
		if ((r != IPCX_ENOPEER && r != IPCX_ENOENT) || timeout_ms < 0)
			break;
		left = deadline - cli_now_ms();
		if (left <= 0) {
			/* Keep the library's reason; say that time ran out. */
			snprintf(ctx, sizeof(ctx), "no receiver within %d ms",
			         timeout_ms);
			cli_fail(ep, r, ctx);
			return CLI_TIMEOUT;
		}
		cli_sleep_ms(pause < left ? pause : (int)left);
		if (pause < SEND_RETRY_MAX_MS)
			pause *= 2;
	}
	if (r < 0)
		return cli_fail(ep, r, NULL);
	return CLI_OK;
}

/* How long a send waits for room before it says so on a terminal. */
#define SEND_QUIET_MS 1000

/*
 * send_atomic_wait - whether a send on ep that times out leaves nothing
 * behind (a ring or a queue takes a message whole or not at all), so that
 * a wait may be cut in two; a stream would be left mid-frame.
 */
static bool send_atomic_wait(const char *ep)
{
	static const char *const schemes[] = {"shm://", "semshm://", "mq://",
	                                      "sysv-mq://"};
	size_t i;

	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (strncmp(ep, schemes[i], strlen(schemes[i])) == 0)
			return true;
	return false;
}

/* On a terminal: say what a send that waits for room waits for. */
static void send_notice(const char *ep)
{
	char who[512];
	long long rx;

	cli_holders(ep, who, sizeof(who), &rx);
	if (rx > 0)
		snprintf(who, sizeof(who), "its receiver, pid %lld", rx);
	else if (who[0] == '\0')
		snprintf(who, sizeof(who), "a receiver (none is running)");
	fprintf(stderr,
	        "ipcx: %s: full; waiting for %s to make room "
	        "(Ctrl-C to stop; -t MS to give up)\n",
	        ep, who);
}

/*
 * send_batch - send the k messages of v in order, with as few ipcx_sendv
 * calls as the channel takes them in; returns an exit status. Waiting
 * for ever (no -t) on a full ring, say after a second on a terminal what
 * it waits for and on whom, then keep waiting.
 */
static int send_batch(ipcx_chan *ch, const char *ep, struct iovec *v, int k,
                      int timeout_ms)
{
	bool quiet =
	    timeout_ms < 0 && send_atomic_wait(ep) && isatty(STDERR_FILENO);
	int i = 0, r;

	while (i < k) {
		r = ipcx_sendv(ch, v + i, k - i,
		               quiet ? SEND_QUIET_MS : timeout_ms);
		if (r == IPCX_ETIMEDOUT && quiet) {
			send_notice(ep);
			quiet = false;
			continue;
		}
		if (r < 0)
			return cli_fail(ep, r, NULL);
		i += r; /* a short count: the next call says why */
	}
	return CLI_OK;
}

/* send_one - send one message; returns an exit status. */
static int send_one(ipcx_chan *ch, const char *ep, const void *buf, size_t len,
                    int timeout_ms)
{
	struct iovec v;
	uint8_t val[8];
	int r;

	/* signal://: the text is a number, the message its 8 bytes. */
	if (cli_is_signal(ep)) {
		r = cli_sigval_parse(buf, len, val);
		if (r < 0)
			return cli_usage_error(
			    "send",
			    "'%.*s' is not a signal value (want a decimal "
			    "or 0x hex number of at most 64 bits)",
			    (int)(len > 40 ? 40 : len), (const char *)buf);
		buf = val;
		len = (size_t)r;
	}
	v.iov_base = (void *)buf;
	v.iov_len = len;
	return send_batch(ch, ep, &v, 1, timeout_ms);
}

/* Lines one ipcx_sendv carries at most (one writev on a stream). */
#define SEND_BATCH 256
/* First stdin buffer; it grows to hold the longest line. */
#define SEND_BUF_INIT (64 * 1024)

/*
 * send_lines - each line of stdin one message, the newline stripped (a
 * last line without one too). What one read() of stdin brings goes out at
 * once, every whole line of it in one ipcx_sendv: a line never waits for
 * more input, and a burst costs one system call, not one a line. A
 * signal:// value is parsed line by line.
 */
static int send_lines(ipcx_chan *ch, const char *ep, int timeout_ms)
{
	size_t cap = SEND_BUF_INIT, have = 0, at;
	char *buf = malloc(cap), *nl, *nb;
	struct iovec v[SEND_BATCH];
	bool sig = cli_is_signal(ep);
	int rc = CLI_OK, k;
	ssize_t n;

	if (buf == NULL)
		return cli_errno("stdin");
	while (rc == CLI_OK) {
		if (have == cap) {
			nb = realloc(buf, cap * 2);
			if (nb == NULL) {
				rc = cli_errno("stdin");
				break;
			}
			buf = nb;
			cap *= 2;
		}
		n = read(STDIN_FILENO, buf + have, cap - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = cli_errno("stdin");
			break;
		}
		if (n == 0) {
			if (have > 0)
				rc = send_one(ch, ep, buf, have, timeout_ms);
			break;
		}
		have += (size_t)n;
		at = 0;
		k = 0;
		while (rc == CLI_OK &&
		       (nl = memchr(buf + at, '\n', have - at)) != NULL) {
			size_t len = (size_t)(nl - (buf + at));
			if (sig) {
				rc =
				    send_one(ch, ep, buf + at, len, timeout_ms);
			} else {
				v[k].iov_base = buf + at;
				v[k++].iov_len = len;
			}
			at += len + 1;
			if (k == SEND_BATCH) {
				rc = send_batch(ch, ep, v, k, timeout_ms);
				k = 0;
			}
		}
		if (rc == CLI_OK && k > 0)
			rc = send_batch(ch, ep, v, k, timeout_ms);
		memmove(buf, buf + at, have - at);
		have -= at;
	}
	free(buf);
	return rc;
}

/*
 * The most --raw reads: the largest message any transport takes (maxmsg=
 * stops at 1G), so that a runaway stdin fails early instead of filling
 * memory before the library refuses the message.
 */
#define SEND_RAW_MAX ((size_t)1 << 30)

/* send_raw - all of stdin as one message, bytes unchanged. */
static int send_raw(ipcx_chan *ch, const char *ep, int timeout_ms)
{
	size_t len = 0, cap = 64 * 1024;
	char *buf = malloc(cap), *nb;
	size_t n;
	int rc;

	if (buf == NULL)
		return cli_errno("stdin");
	for (;;) {
		if (len == cap && cap >= SEND_RAW_MAX) {
			if (getc(stdin) == EOF)
				break; /* exactly the maximum */
			fprintf(stderr,
			        "ipcx: %s: stdin holds more than %zu bytes, "
			        "the most one message can carry (split it)\n",
			        ep, SEND_RAW_MAX);
			free(buf);
			return CLI_ERR;
		}
		if (len == cap) {
			nb = realloc(buf, cap * 2);
			if (nb == NULL) {
				free(buf);
				return cli_errno("stdin");
			}
			buf = nb;
			cap *= 2;
		}
		n = fread(buf + len, 1, cap - len, stdin);
		if (n == 0)
			break;
		len += n;
	}
	if (ferror(stdin)) {
		free(buf);
		return cli_errno("stdin");
	}
	rc = send_one(ch, ep, buf, len, timeout_ms);
	free(buf);
	return rc;
}

/*
 * send_shm_path - for a shm:// endpoint, its file "/dev/shm/NAME" in buf
 * (true); false for any other endpoint or a name that does not fit.
 */
static bool send_shm_path(const char *ep, char *buf, size_t cap)
{
	size_t n;

	if (strncmp(ep, "shm://", 6) != 0)
		return false;
	n = strcspn(ep + 6, "?");
	return n > 0 && n < 256 &&
	       snprintf(buf, cap, "/dev/shm/%.*s", (int)n, ep + 6) < (int)cap;
}

int cmd_send(int argc, char **argv)
{
	const char *cmd = "send";
	struct cli_args a =
	    CLI_ARGS(cmd, send_usage, "t:", send_opts, argc, argv);
	int timeout_ms = -1;
	bool raw = false, shm;
	char shm_path[300];
	ipcx_chan *ch;
	const char *ep, *msg;
	int c, rc, r;

	while ((c = cli_args_next(&a)) > 0) {
		switch (c) {
		case 't':
			if (!cli_args_ms(&a, &timeout_ms))
				return a.rc;
			break;
		case SEND_OPT_RAW:
			raw = true;
			break;
		}
	}
	if (c == CLI_ARGS_EXIT)
		return a.rc;
	rc = cli_args_want(&a, 1, -1, "ENDPOINT");
	if (rc != CLI_OK)
		return rc;
	ep = cli_args_operand(&a);
	if (raw && cli_args_left(&a) > 0)
		return cli_usage_error(cmd,
		                       "--raw reads the message from stdin: "
		                       "give no MSG");

	/* Frames are binary: a terminal would show bytes nobody can read. */
	if (strcmp(ep, "pipe://") == 0 && isatty(STDOUT_FILENO)) {
		fprintf(stderr,
		        "ipcx: %s: stdout is a terminal; pipe:// writes ipcx "
		        "frames for `ipcx recv pipe://` (pipe it there, or use "
		        "--raw with pipe://?raw for plain bytes)\n",
		        ep);
		return CLI_ERR;
	}
	/*
	 * A shm:// sender creates the ring when it comes first, so a typo
	 * strands the message: say so when this open made the ring.
	 */
	shm = send_shm_path(ep, shm_path, sizeof(shm_path)) &&
	      access(shm_path, F_OK) != 0;
	/*
	 * A reader that leaves is an error we report (IPCX_EPEER: "peer
	 * gone"), never a death by SIGPIPE; with SIGPIPE ignored when the
	 * channel opens, a pipe:// or fifo:// send is one writev, without
	 * blocking the signal around it. send writes nothing else to a pipe.
	 */
	signal(SIGPIPE, SIG_IGN);
	rc = cli_send_open(ep, timeout_ms, &ch);
	if (rc != CLI_OK)
		return rc;
	if (shm && access(shm_path, F_OK) == 0)
		fprintf(stderr,
		        "ipcx: %s: created the ring; it has no receiver yet, "
		        "the messages wait for one (`ipcx recv %.*s`; a typo? "
		        "`ipcx rm %.*s`)\n",
		        ep, (int)strcspn(ep, "?"), ep, (int)strcspn(ep, "?"),
		        ep);
	if (raw)
		rc = send_raw(ch, ep, timeout_ms);
	else if (cli_args_left(&a) == 0)
		rc = send_lines(ch, ep, timeout_ms);
	else
		while (rc == CLI_OK && (msg = cli_args_operand(&a)) != NULL)
			rc = send_one(ch, ep, msg, strlen(msg), timeout_ms);
	r = ipcx_close(ch);
	if (r < 0 && rc == CLI_OK)
		rc = cli_fail(ep, r, NULL);
	return rc;
}
