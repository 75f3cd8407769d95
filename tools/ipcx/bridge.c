/*
 * bridge.c - `ipcx bridge A B`: relay every message received on endpoint A
 * to endpoint B, any mechanism to any other, in order, until interrupted,
 * COUNT messages, or the end of A's stream.
 *
 * Nothing is lost silently:
 *  - A message is taken from A only to be sent to B at once. Where A can
 *    lend it in place (shm://: ipcx_peek), it is released from A only
 *    after B accepted it, so a message B refuses, or one in hand when
 *    bridge dies, stays in A.
 *  - A message too large for B (IPCX_EMSGSIZE) is reported on stderr with
 *    its size and B's limit. Without --skip-oversize bridge then stops
 *    with exit 1 (the message stays unread in A where A lends in place,
 *    else it is lost and the line says so); with --skip-oversize it goes
 *    on with the next message.
 *  - SIGINT, SIGTERM, SIGHUP: the message in hand is still sent (the
 *    library finishes a send interrupted by a signal). Where A lends in
 *    place its queue outlives bridge, so bridge stops there; elsewhere
 *    (a socket, a FIFO, a pipe: closing A would discard what its buffer
 *    holds) bridge first relays every message A has ready, without
 *    waiting. Then both ends are closed and bridge ends by that signal.
 *    A second signal stops the draining; while a send waits it ends
 *    bridge at once and says on stderr that the message in hand (its
 *    size) was not delivered.
 *
 * Batches: where A's queue dies with bridge anyway (a stream or datagram
 * socket, a pipe, a FIFO: what their kernel buffer holds is lost when
 * bridge exits), the first message is waited for, then what else A has
 * ready is taken without waiting (up to BRIDGE_BATCH messages and the
 * receive buffer) and the lot goes to B in one ipcx_sendv. A message
 * never waits for more to come. Queues that outlive bridge (mq://, a
 * spool, NATS...) give one message at a time, so a bridge killed holds at
 * most one of theirs. If B fails part way, the messages of the batch not
 * delivered are named on stderr.
 *
 * Waiting uses only the public API: ipcx_fd(A) polled next to a
 * self-pipe the signal handler writes to; where A has no fd, receives
 * wait in slices and the flag is checked between them.
 */
#include "cli.h"
#include "util.h"

#include "ipcx.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char bridge_usage[] =
    "usage: ipcx bridge [OPTIONS] A B\n"
    "\n"
    "Relay every message received on endpoint A (created or listened on,\n"
    "as by 'ipcx recv') to endpoint B (opened as by 'ipcx send'), in\n"
    "order, until SIGINT/SIGTERM, COUNT messages, or A's sender leaves.\n"
    "\n"
    "  -n, --count COUNT  stop after COUNT messages (A's sender leaving\n"
    "                     earlier is then an error)\n"
    "  -t, --timeout MS   wait at most MS ms for B's receiver to appear,\n"
    "                     for each message from A and for room in B\n"
    "                     (exit 3); without -t B's receiver must be there\n"
    "                     at once and waits are unbounded\n"
    "      --skip-oversize  report a message too large for B and go on;\n"
    "                     without it bridge reports it and stops (exit 1)\n"
    "  -v, --verbose      print a rate line on stderr every second, and a\n"
    "                     summary at the end\n"
    "  -h, --help         show this help\n"
    "  -V, --version      show the version\n"
    "\n"
    "A message too large for B is never dropped silently: one line on\n"
    "stderr gives its size and B's limit. Where A lends messages in place\n"
    "(shm://) a message is released from A only once B took it, so one\n"
    "that B refuses, or that is in hand when bridge is killed, stays in A.\n"
    "On SIGINT/SIGTERM the message in hand is still delivered; where A\n"
    "does not keep its queue without bridge (a socket, FIFO or pipe),\n"
    "the messages A has ready are relayed first. A second signal stops\n"
    "that at once (a message then lost is named on stderr).\n"
    "Options may come anywhere on the line; '--' ends them.\n"
    "Exit status: 0 ok, 1 error, 2 usage error, 3 timed out.\n";

enum { BRIDGE_OPT_SKIP = 256 };

static const struct option bridge_opts[] = {
    {"count", required_argument, NULL, 'n'},
    {"timeout", required_argument, NULL, 't'},
    {"skip-oversize", no_argument, NULL, BRIDGE_OPT_SKIP},
    {"verbose", no_argument, NULL, 'v'},
    CLI_OPTS_END,
};

/* The longest wait without looking at the signal flag, when A has no fd. */
#define BRIDGE_SLICE_MS 200
/* How often -v prints a rate line. */
#define BRIDGE_RATE_MS 1000
/* First receive buffer; it grows to the largest message seen. */
#define BRIDGE_BUF_INIT (64 * 1024)
/* Most messages one ipcx_sendv to B carries (one writev on a stream). */
#define BRIDGE_BATCH 256

static volatile sig_atomic_t bridge_sig;
/* Signals received so far: a second one ends the draining. */
static volatile sig_atomic_t bridge_nsig;
/* Set while a message taken from A is being sent to B. */
static volatile sig_atomic_t bridge_in_hand;
static int bridge_wake[2] = {-1, -1};
/* What a second signal prints; written before each send. */
static char bridge_lost_msg[160];
static volatile sig_atomic_t bridge_lost_len;

static void bridge_on_signal(int sig)
{
	int e = errno;

	if (bridge_sig && bridge_in_hand) {
		/* Second signal: the send in progress is abandoned. */
		if (write(STDERR_FILENO, bridge_lost_msg,
		          (size_t)bridge_lost_len) < 0) {
			/* nothing more to do in a handler */
		}
		signal(sig, SIG_DFL);
		raise(sig);
	}
	bridge_sig = sig;
	if (bridge_nsig < 2)
		bridge_nsig++;
	if (bridge_wake[1] >= 0 && write(bridge_wake[1], "", 1) < 0) {
		/* full: a wake-up is pending already */
	}
	errno = e;
}

/* As recv: no SA_RESTART; a signal ignored at start stays ignored. */
static int bridge_signals(void)
{
	if (pipe2(bridge_wake, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	cli_catch_stop_signals(bridge_on_signal);
	return 0;
}

struct bridge {
	const char *a, *b;
	ipcx_chan *ca, *cb;
	int timeout_ms;
	bool skip_oversize, verbose;
	bool lend;        /* A lends in place (ipcx_peek works) */
	bool batch;       /* A's buffer dies with bridge: take what is ready */
	const void *held; /* the lent message, or NULL */
	char *buf;        /* receive buffer when A does not lend */
	size_t cap;
	struct iovec v[BRIDGE_BATCH]; /* the batch in buf, for B */
	int a_err;                    /* A failed while a batch was gathered */
	char a_msg[512];              /* its ipcx_errmsg() */
	long long sent, bytes, skipped;
	long long t0, last_rate, last_sent, last_bytes;
};

/* bridge_rate - with -v, a rate line once a second (or now, if final). */
static void bridge_rate(struct bridge *br, bool final)
{
	long long now = cli_now_ms(), dt = now - br->last_rate;

	if (!br->verbose || (!final && dt < BRIDGE_RATE_MS))
		return;
	if (final) {
		dt = now - br->t0;
		fprintf(stderr,
		        "ipcx bridge: %lld messages, %lld bytes relayed in "
		        "%.3f s; %lld too large for B skipped\n",
		        br->sent, br->bytes, (double)dt / 1000, br->skipped);
		return;
	}
	fprintf(stderr,
	        "ipcx bridge: %lld messages, %lld bytes; %.0f msg/s, "
	        "%.3f MB/s\n",
	        br->sent, br->bytes,
	        (double)(br->sent - br->last_sent) * 1000 / (double)dt,
	        (double)(br->bytes - br->last_bytes) / 1000 / (double)dt);
	br->last_rate = now;
	br->last_sent = br->sent;
	br->last_bytes = br->bytes;
}

/*
 * bridge_try - take the next message from A without waiting: lent in
 * place (br->held) or copied into br->buf. Returns its length,
 * IPCX_ETIMEDOUT when there is none, or IPCX_E*.
 */
static ssize_t bridge_try(struct bridge *br)
{
	ssize_t n;

	if (br->lend) {
		n = ipcx_peek(br->ca, &br->held, 0);
		if (n != IPCX_ENOTSUP)
			return n;
		br->lend = false; /* this transport copies */
	}
	for (;;) {
		n = ipcx_recv(br->ca, br->buf, br->cap, 0);
		if (n == IPCX_ENOBUFS) {
			/* The message stays queued; make room and take it. */
			ssize_t need = ipcx_pending(br->ca);
			char *nb;
			if (need < 0 || (size_t)need <= br->cap)
				return need < 0 ? need : n;
			nb = realloc(br->buf, (size_t)need);
			if (nb == NULL)
				return IPCX_ENOMEM;
			br->buf = nb;
			br->cap = (size_t)need;
			continue;
		}
		return n == IPCX_EAGAIN ? IPCX_ETIMEDOUT : n;
	}
}

/*
 * bridge_next - wait for the next message from A, at most timeout_ms in
 * all (-1 forever). Returns its length, IPCX_E*, or 0 with *stopped set
 * when a signal came first.
 */
static ssize_t bridge_next(struct bridge *br, bool *stopped)
{
	long long deadline = cli_now_ms() + br->timeout_ms;
	struct pollfd p[2];
	int fd = ipcx_fd(br->ca), wait;
	ssize_t n;
	char drain[16];

	if (br->a_err) {
		/* Met while gathering the last batch, which went first. */
		n = br->a_err;
		br->a_err = 0;
		return n;
	}
	br->a_msg[0] = '\0';
	for (;;) {
		if (bridge_sig) {
			*stopped = true;
			return 0;
		}
		n = bridge_try(br);
		if (n != IPCX_ETIMEDOUT)
			return n;
		bridge_rate(br, false);
		wait = br->verbose ? BRIDGE_RATE_MS : -1;
		if (br->timeout_ms >= 0) {
			long long left = deadline - cli_now_ms();
			if (left <= 0)
				return IPCX_ETIMEDOUT;
			if (wait < 0 || left < wait)
				wait = (int)left;
		}
		if (fd < 0) {
			/* No fd to poll: wait inside the library, in slices. */
			if (wait < 0 || wait > BRIDGE_SLICE_MS)
				wait = BRIDGE_SLICE_MS;
			if (br->lend)
				n = ipcx_peek(br->ca, &br->held, wait);
			else
				n = ipcx_recv(br->ca, br->buf, br->cap, wait);
			if (n >= 0 ||
			    (n != IPCX_ETIMEDOUT && n != IPCX_EAGAIN &&
			     n != IPCX_ENOBUFS && n != IPCX_ENOTSUP))
				return n;
			continue;
		}
		p[0].fd = fd;
		p[0].events = POLLIN;
		p[1].fd = bridge_wake[0];
		p[1].events = POLLIN;
		if (poll(p, 2, wait) < 0 && errno != EINTR)
			return IPCX_ESYS;
		while (read(bridge_wake[0], drain, sizeof(drain)) > 0)
			;
	}
}

/*
 * bridge_gather - with the first message (n bytes) in br->buf, take what
 * else A has ready, without waiting, into the rest of br->buf: at most
 * BRIDGE_BATCH messages and `room` (what COUNT leaves). Fills br->v and
 * returns how many it holds. A lending A gives one at a time. An error
 * from A (other than nothing ready, or a message larger than the space
 * left, which stays queued) is kept for bridge_next to return after this
 * batch is sent.
 */
static int bridge_gather(struct bridge *br, size_t n, long long room)
{
	size_t used = n;
	int k = 1;
	ssize_t m;

	br->v[0].iov_base = br->lend ? (void *)br->held : br->buf;
	br->v[0].iov_len = n;
	while (br->batch && !br->lend && k < BRIDGE_BATCH && k < room &&
	       used < br->cap) {
		m = ipcx_recv(br->ca, br->buf + used, br->cap - used, 0);
		if (m < 0) {
			if (m != IPCX_ETIMEDOUT && m != IPCX_EAGAIN &&
			    m != IPCX_ENOBUFS) {
				br->a_err = (int)m;
				snprintf(br->a_msg, sizeof(br->a_msg), "%s",
				         ipcx_errmsg());
			}
			break;
		}
		br->v[k].iov_base = br->buf + used;
		br->v[k++].iov_len = (size_t)m;
		used += (size_t)m;
	}
	return k;
}

/* What a second signal prints while messages i..k-1 of the batch wait. */
static void bridge_lost_set(struct bridge *br, int i, int k, long long first)
{
	size_t bytes = 0;

	for (int j = i; j < k; j++)
		bytes += br->v[j].iov_len;
	if (k - i == 1)
		bridge_lost_len = snprintf(
		    bridge_lost_msg, sizeof(bridge_lost_msg),
		    "ipcx bridge: interrupted again: message %lld (%zu "
		    "bytes) %s\n",
		    first, bytes,
		    br->lend ? "stays unread in A" : "was not delivered to B");
	else
		bridge_lost_len = snprintf(
		    bridge_lost_msg, sizeof(bridge_lost_msg),
		    "ipcx bridge: interrupted again: messages %lld to %lld "
		    "(%zu bytes) were not delivered to B\n",
		    first, first + (k - i) - 1, bytes);
	if (bridge_lost_len >= (int)sizeof(bridge_lost_msg))
		bridge_lost_len = sizeof(bridge_lost_msg) - 1;
}

/*
 * bridge_send - send the batch br->v[0..k) to B (one ipcx_sendv, more if
 * B takes part of it), then release the message from A if lent. Returns
 * an exit status; CLI_OK also when oversize messages were skipped. A
 * message too large for B without --skip-oversize stops bridge, after the
 * rest of its batch (taken from A already) went to B.
 */
static int bridge_send(struct bridge *br, int k)
{
	char ctx[256];
	int i = 0, r, rc = CLI_OK, lost = 0;

	while (i < k) {
		size_t n = br->v[i].iov_len;
		long long no = br->sent + br->skipped + lost + 1;

		bridge_lost_set(br, i, k, no);
		bridge_in_hand = 1;
		r = ipcx_sendv(br->cb, br->v + i, k - i, br->timeout_ms);
		bridge_in_hand = 0;
		if (r > 0) {
			for (int j = i; j < i + r; j++)
				br->bytes += (long long)br->v[j].iov_len;
			br->sent += r;
			i += r;
			continue;
		}
		if (r == IPCX_EMSGSIZE) {
			bool skip = br->skip_oversize;
			snprintf(ctx, sizeof(ctx),
			         "message %lld of %zu bytes from %s is too "
			         "large%s",
			         no, n, br->a,
			         skip       ? "; skipped"
			         : br->lend ? "; it stays unread in A, bridge "
			                      "stops"
			                    : "; it was taken from A and is "
			                      "lost, bridge stops");
			cli_fail(br->b, r, ctx);
			if (skip) {
				br->skipped++;
			} else {
				rc = CLI_ERR;
				lost++;
			}
			i++;
			continue;
		}
		if (k - i > 1)
			snprintf(
			    ctx, sizeof(ctx),
			    "messages %lld to %lld from %s were taken from "
			    "A and are lost",
			    no, no + (k - i) - 1, br->a);
		else
			snprintf(ctx, sizeof(ctx),
			         "message %lld of %zu bytes from %s %s", no, n,
			         br->a,
			         br->lend ? "stays unread in A"
			                  : "was taken from A and is lost");
		return cli_fail(br->b, r, ctx);
	}
	/* Lent (a batch of one): sent or skipped, it leaves A now. */
	if (rc == CLI_OK && br->lend && (r = ipcx_release(br->ca)) < 0)
		return cli_fail(br->a, r, "release");
	bridge_rate(br, false);
	return rc;
}

/*
 * bridge_volatile - whether what endpoint a's kernel object holds is lost
 * when bridge closes it anyway (then taking several at once risks
 * nothing more).
 */
static bool bridge_volatile(const char *a)
{
	static const char *const schemes[] = {"pipe://", "fifo://", "unix://",
	                                      "tcp://", "udp://"};

	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (strncmp(a, schemes[i], strlen(schemes[i])) == 0)
			return true;
	return false;
}

/* left - messages COUNT still allows (count 0: no limit). */
static long long left(const struct bridge *br, long count)
{
	return count == 0 ? BRIDGE_BATCH : count - br->sent - br->skipped;
}

/* bridge_fail_a - report A's failure code, with the message kept for it
 * when it came while a batch was gathered. */
static int bridge_fail_a(struct bridge *br, int code, const char *ctx)
{
	if (br->a_msg[0])
		return cli_fail_msg(br->a, code, ctx, br->a_msg);
	return cli_fail(br->a, code, ctx);
}

/* bridge_run - the relay loop; returns an exit status. */
static int bridge_run(struct bridge *br, long count, bool *stopped)
{
	ssize_t n;
	int rc;

	while (count == 0 || br->sent + br->skipped < count) {
		n = bridge_next(br, stopped);
		if (*stopped)
			return CLI_OK;
		if (n == IPCX_EPEER && count == 0)
			return CLI_OK; /* A's sender left: the end of the stream
			                */
		if (n == IPCX_EPEER) {
			char ctx[64];
			snprintf(ctx, sizeof(ctx), "got %lld of %ld messages",
			         br->sent + br->skipped, count);
			return bridge_fail_a(br, (int)n, ctx);
		}
		if (n < 0)
			return bridge_fail_a(br, (int)n, NULL);
		rc = bridge_send(br,
		                 bridge_gather(br, (size_t)n, left(br, count)));
		if (rc != CLI_OK)
			return rc;
	}
	return CLI_OK;
}

/*
 * bridge_drain - after a signal, relay what A has ready when A does not
 * lend in place (its buffer dies with it), until nothing more is ready,
 * COUNT is reached or a second signal comes. Returns an exit status.
 */
static int bridge_drain(struct bridge *br, long count)
{
	ssize_t n;
	int rc;

	while (!br->lend && bridge_nsig < 2 &&
	       (count == 0 || br->sent + br->skipped < count)) {
		n = bridge_try(br);
		if (n < 0)
			return CLI_OK; /* nothing more ready, or A is gone */
		rc = bridge_send(br,
		                 bridge_gather(br, (size_t)n, left(br, count)));
		if (rc != CLI_OK)
			return rc;
	}
	return CLI_OK;
}

int cmd_bridge(int argc, char **argv)
{
	const char *cmd = "bridge";
	struct cli_args a =
	    CLI_ARGS(cmd, bridge_usage, "n:t:v", bridge_opts, argc, argv);
	struct bridge br;
	long count = 0;
	bool stopped = false;
	int c, r, rc;

	memset(&br, 0, sizeof(br));
	br.timeout_ms = -1;
	while ((c = cli_args_next(&a)) > 0) {
		switch (c) {
		case 'n':
			if (!cli_args_count(&a, &count))
				return a.rc;
			break;
		case 't':
			if (!cli_args_ms(&a, &br.timeout_ms))
				return a.rc;
			break;
		case BRIDGE_OPT_SKIP:
			br.skip_oversize = true;
			break;
		case 'v':
			br.verbose = true;
			break;
		}
	}
	if (c == CLI_ARGS_EXIT)
		return a.rc;
	rc = cli_args_want(&a, 2, 2,
	                   cli_args_left(&a) == 0 ? "endpoints A and B"
	                                          : "endpoint B");
	if (rc != CLI_OK)
		return rc;
	br.a = cli_args_operand(&a);
	br.b = cli_args_operand(&a);

	/*
	 * B's reader leaving is reported (IPCX_EPEER), not a death by
	 * SIGPIPE; ignored before B opens, a pipe:// or fifo:// B sends with
	 * one writev, without blocking the signal around it. (So SIGPIPE is
	 * not one of bridge's stop signals: nothing else it writes is a
	 * pipe.)
	 */
	signal(SIGPIPE, SIG_IGN);
	if (bridge_signals() < 0)
		return cli_errno("pipe");
	br.cap = BRIDGE_BUF_INIT;
	br.buf = malloc(br.cap);
	if (br.buf == NULL)
		return cli_errno("bridge");
	br.lend = true;
	br.batch = bridge_volatile(br.a);
	r = ipcx_open(br.a, IPCX_RECV | IPCX_CREATE, &br.ca);
	if (r < 0) {
		free(br.buf);
		return cli_fail(br.a, r, NULL);
	}
	rc = cli_send_open(br.b, br.timeout_ms, &br.cb);
	if (rc == CLI_OK) {
		br.t0 = br.last_rate = cli_now_ms();
		rc = bridge_run(&br, count, &stopped);
		if (stopped && rc == CLI_OK)
			rc = bridge_drain(&br, count);
		bridge_rate(&br, true);
		r = ipcx_close(br.cb);
		if (r < 0 && rc == CLI_OK && !stopped)
			rc = cli_fail(br.b, r, NULL);
	}
	/* A lent message not released stays in A when A closes. */
	r = ipcx_close(br.ca);
	if (r < 0 && rc == CLI_OK && !stopped)
		rc = cli_fail(br.a, r, NULL);
	free(br.buf);
	if (stopped) {
		/* End by the signal, as the shell expects of an interrupt. */
		signal(bridge_sig, SIG_DFL);
		raise(bridge_sig);
	}
	return rc;
}
