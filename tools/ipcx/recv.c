/*
 * recv.c - `ipcx recv ENDPOINT`: receive messages and print each on its
 * own line (or, with --raw, write the bytes unchanged).
 *
 * When it stops:
 *  - after COUNT messages with -n COUNT (exit 0);
 *  - when the peer is gone (IPCX_EPEER: a pipe or FIFO at end of file, a
 *    sender dead mid-message; a unix or tcp listener just waits for the
 *    next sender): exit 0 without -n; with -n it is an error (exit 1) if
 *    fewer than COUNT messages came;
 *  - on any other error (exit 1, or 3 for a timeout);
 *  - when a wait exceeds -t MS (exit 3);
 *  - on SIGINT, SIGTERM, SIGHUP or SIGPIPE (stdout's reader left, as in
 *    `recv ... | head -1`; unless ignored when recv started): the
 *    channel is closed (a unix listener's socket file goes away) and the
 *    command ends by that signal.
 *
 * Signals: the library retries EINTR inside with the time left, so a
 * handler alone cannot wake a receive that waits forever. recv therefore
 * waits in slices of at most CLI_SLICE_MS and checks the flag the handler
 * sets between slices; a timed-out slice leaves the channel as it was.
 */
#include "cli.h"
#include "sigval.h"
#include "util.h"

#include "ipcx.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static const char recv_usage[] =
    "usage: ipcx recv [OPTIONS] ENDPOINT\n"
    "\n"
    "Create or listen on ENDPOINT and print each message received on its\n"
    "own line. pipe:// reads stdin. Runs until the peer is gone (exit 0),\n"
    "COUNT messages came, a wait times out, or SIGINT/SIGTERM.\n"
    "\n"
    "  -n, --count COUNT stop after COUNT messages (the peer leaving\n"
    "                    earlier is then an error)\n"
    "  -t, --timeout MS  wait at most MS ms for each message (exit 3)\n"
    "      --raw         write the bytes unchanged, no newline added\n"
    "                    (use it for binary messages)\n"
    "      --from        print 'pid=P uid=U: ' before each message, '?'\n"
    "                    where the transport cannot tell (with --raw:\n"
    "                    'pid=P uid=U' lines on stderr)\n"
    "  -h, --help        show this help\n"
    "  -V, --version     show the version\n"
    "\n"
    "Options may come anywhere on the line; '--' ends them.\n"
    "Exit status: 0 ok, 1 error, 2 usage error, 3 timed out.\n";

enum { RECV_OPT_RAW = 256, RECV_OPT_FROM };

static const struct option recv_opts[] = {
    {"count", required_argument, NULL, 'n'},
    {"timeout", required_argument, NULL, 't'},
    {"raw", no_argument, NULL, RECV_OPT_RAW},
    {"from", no_argument, NULL, RECV_OPT_FROM},
    CLI_OPTS_END,
};

/* The longest single wait, so a signal is noticed within this many ms. */
#define CLI_SLICE_MS 200
/* First receive buffer; it grows to the largest message seen. */
#define RECV_BUF_INIT (64 * 1024)

static volatile sig_atomic_t recv_stop_sig;

static void recv_on_signal(int sig)
{
	recv_stop_sig = sig;
}

/*
 * No SA_RESTART: a blocking write of ours returns EINTR. A signal ignored
 * when recv starts (nohup, a shell's background job) stays ignored.
 */
static void recv_signals(void)
{
	cli_catch_stop_signals(recv_on_signal);
}

struct recv_buf {
	char *p;
	size_t cap;
};

/*
 * recv_wait - receive one message into b, growing it as needed. Waits up to
 * timeout_ms in total (-1 forever), in slices of CLI_SLICE_MS so that a
 * signal ends the wait. Returns the length, IPCX_E*, or 0 with *stopped
 * set when a signal came.
 */
static ssize_t recv_wait(ipcx_chan *ch, struct recv_buf *b, int timeout_ms,
                         bool *stopped)
{
	long long deadline = cli_now_ms() + timeout_ms;
	ssize_t n;
	int slice;

	for (;;) {
		if (recv_stop_sig) {
			*stopped = true;
			return 0;
		}
		slice = CLI_SLICE_MS;
		if (timeout_ms >= 0) {
			long long left = deadline - cli_now_ms();
			if (left < slice)
				slice = left > 0 ? (int)left : 0;
		}
		n = ipcx_recv(ch, b->p, b->cap, slice);
		if (n == IPCX_ENOBUFS) {
			/* The message stays queued; make room and take it. */
			ssize_t need = ipcx_pending(ch);
			char *np;
			if (need < 0)
				return need;
			/* A size that fits already would loop for ever. */
			if ((size_t)need <= b->cap)
				return n;
			np = realloc(b->p, (size_t)need);
			if (np == NULL)
				return IPCX_ENOMEM;
			b->p = np;
			b->cap = (size_t)need;
			continue;
		}
		if (n != IPCX_ETIMEDOUT && n != IPCX_EAGAIN)
			return n;
		if (timeout_ms >= 0 && cli_now_ms() >= deadline)
			return IPCX_ETIMEDOUT;
	}
}

/*
 * recv_write - write all of buf to fd 1. Signals interrupt write() (no
 * SA_RESTART): go on unless it was one that ends recv, so that a blocked
 * stdout does not keep recv from stopping. False on error or such a signal.
 */
static bool recv_write(const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t w;

	while (len > 0) {
		w = write(STDOUT_FILENO, p, len);
		if (w < 0 && errno == EINTR && !recv_stop_sig)
			continue;
		if (w < 0)
			return false;
		p += w;
		len -= (size_t)w;
	}
	return true;
}

/* recv_from - "pid=P uid=U" for the last message, '?' where unknown. */
static void recv_from(ipcx_chan *ch, char *s, size_t cap)
{
	struct ipcx_peer p;
	char pid[24] = "?", uid[24] = "?";

	if (ipcx_peer(ch, &p) == 0) {
		if (p.pid >= 0)
			snprintf(pid, sizeof(pid), "%ld", (long)p.pid);
		if (p.uid != (uid_t)-1)
			snprintf(uid, sizeof(uid), "%lu", (unsigned long)p.uid);
	}
	snprintf(s, cap, "pid=%s uid=%s", pid, uid);
}

/*
 * recv_print - write one message of n bytes: with --from its sender first,
 * then the bytes, then (without --raw) a newline. False if stdout failed.
 */
static bool recv_print(ipcx_chan *ch, const struct recv_buf *b, size_t n,
                       bool raw, bool from)
{
	char pre[64];

	if (from) {
		recv_from(ch, pre, sizeof(pre));
		if (raw) /* stdout keeps the exact bytes */
			fprintf(stderr, "%s\n", pre);
		else if (!recv_write(pre, strlen(pre)) || !recv_write(": ", 2))
			return false;
	}
	return recv_write(b->p, n) && (raw || recv_write("\n", 1));
}

/*
 * What to say when plain pipe:// (framed, on stdin) gets something that is
 * no frame stream: text typed or piped from another program.
 */
static const char recv_not_frames[] =
    "stdin is not an ipcx frame stream: pipe it from `ipcx send pipe://`, "
    "or use --raw with pipe://?raw for plain bytes";

/*
 * recv_torn - whether n, the end of a pipe:// receive, means stdin was no
 * frame stream: the first frame announced more than maxmsg, or input ended
 * inside a header or a frame (a torn stream, not a clean end).
 */
static bool recv_torn(ssize_t n, long got)
{
	if (n == IPCX_EMSGSIZE && got == 0)
		return true;
	return n == IPCX_EPEER && strstr(ipcx_errmsg(), "mid-message") != NULL;
}

int cmd_recv(int argc, char **argv)
{
	const char *cmd = "recv";
	struct cli_args a =
	    CLI_ARGS(cmd, recv_usage, "n:t:", recv_opts, argc, argv);
	int timeout_ms = -1;
	long count = 0, got = 0;
	bool raw = false, from = false, stopped = false, pipe_in;
	struct recv_buf b = {NULL, 0};
	ipcx_chan *ch;
	const char *ep;
	ssize_t n = 0;
	int c, r, rc = CLI_OK;

	while ((c = cli_args_next(&a)) > 0) {
		switch (c) {
		case 'n':
			if (!cli_args_count(&a, &count))
				return a.rc;
			break;
		case 't':
			if (!cli_args_ms(&a, &timeout_ms))
				return a.rc;
			break;
		case RECV_OPT_RAW:
			raw = true;
			break;
		case RECV_OPT_FROM:
			from = true;
			break;
		}
	}
	if (c == CLI_ARGS_EXIT)
		return a.rc;
	rc = cli_args_want(&a, 1, 1, "ENDPOINT");
	if (rc != CLI_OK)
		return rc;
	ep = cli_args_operand(&a);

	/* A terminal on stdin types text, not frames: refuse before waiting. */
	pipe_in = strcmp(ep, "pipe://") == 0;
	if (pipe_in && isatty(STDIN_FILENO)) {
		fprintf(stderr, "ipcx: %s: stdin is a terminal; %s\n", ep,
		        recv_not_frames);
		return CLI_ERR;
	}

	recv_signals();
	b.cap = RECV_BUF_INIT;
	b.p = malloc(b.cap);
	if (b.p == NULL)
		return cli_errno("recv");
	r = ipcx_open(ep, IPCX_RECV | IPCX_CREATE, &ch);
	if (r < 0) {
		free(b.p);
		return cli_fail(ep, r, NULL);
	}
	cli_sigval_listening(ep);

	while (count == 0 || got < count) {
		n = recv_wait(ch, &b, timeout_ms, &stopped);
		if (stopped || n < 0)
			break;
		if (!raw) /* signal://: the value in decimal */
			n = (ssize_t)cli_sigval_text(ep, b.p, b.cap, (size_t)n);
		if (!recv_print(ch, &b, (size_t)n, raw, from)) {
			if (recv_stop_sig) {
				stopped = true;
				break;
			}
			rc = cli_errno("stdout");
			break;
		}
		got++;
	}

	if (rc == CLI_OK && !stopped && n < 0) {
		if (pipe_in && recv_torn(n, got)) {
			fprintf(stderr, "ipcx: %s: %s (%s)\n", ep,
			        recv_not_frames, ipcx_errmsg());
			rc = CLI_ERR;
		} else if (n == IPCX_EPEER && count == 0) {
			rc = CLI_OK; /* the peer left: the end of the stream */
		} else if (n == IPCX_EPEER) {
			char ctx[64];
			snprintf(ctx, sizeof(ctx), "got %ld of %ld messages",
			         got, count);
			rc = cli_fail(ep, (int)n, ctx);
		} else {
			rc = cli_fail(ep, (int)n, NULL);
		}
	}
	/* Closing removes what only this channel used (a listener's path). */
	r = ipcx_close(ch);
	if (r < 0 && rc == CLI_OK && !stopped)
		rc = cli_fail(ep, r, NULL);
	free(b.p);
	if (stopped) {
		/* End by the signal, as the shell expects of an interrupt. */
		signal(recv_stop_sig, SIG_DFL);
		raise(recv_stop_sig);
	}
	return rc;
}
