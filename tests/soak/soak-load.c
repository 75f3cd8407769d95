/*
 * soak-load.c - one load soak: MESSAGES self-checking messages from SENDERS
 * concurrent forked senders into one receiver over TRANSPORT, checking that
 * none is lost, duplicated, reordered (per sender) or corrupt, and that the
 * receiver's RSS stays flat. Prints one line with the figures and the seed.
 *
 *   soak-load TRANSPORT MESSAGES SENDERS
 *
 * TRANSPORT: pipe, fifo (one sender each: a byte stream has one writer),
 * unix, tcp, shm, shm-zc (zero-copy receive: ipcx_peek/ipcx_release).
 * Exit 0 pass, 1 fail. Run by `make soak` (tests/soak/soak.sh).
 */
#include "ipcx.h"
#include "t.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define SOAK_MAXLEN      256 /* message sizes T_MSG_MIN..SOAK_MAXLEN */
#define SOAK_MAX_SENDERS 16
#define SOAK_WAIT_MS     30000 /* a silent receiver after this long fails */

struct soak {
	const char *tp;
	char ep[128];
	long per; /* messages per sender */
	int senders;
	bool zc;
	ipcx_chan *pipe_tx; /* pipe: the sender's end, made before fork */
	int sender;         /* in a child: which one */
};

/* The receiver's resident set, in KiB (VmRSS), or -1. */
static long rss_kib(void)
{
	char line[128];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &v) == 1)
			break;
	fclose(f);
	return v;
}

static size_t msg_len(uint32_t seq)
{
	/* Sizes from the seed and the sequence number, the same in every
	 * process: the receiver checks the length too. */
	uint64_t x = (t_seed() ^ seq) * 0x9e3779b97f4a7c15ull;
	return T_MSG_MIN + (size_t)((x >> 33) % (SOAK_MAXLEN - T_MSG_MIN + 1));
}

static int sender(void *arg)
{
	struct soak *s = arg;
	uint8_t buf[SOAK_MAXLEN];
	ipcx_chan *tx = s->pipe_tx;
	int r;

	if (!tx) {
		long long end = t_now_ms() + SOAK_WAIT_MS;
		while ((r = ipcx_open(s->ep, IPCX_SEND, &tx)) == IPCX_ENOPEER ||
		       r == IPCX_ENOENT) {
			if (t_now_ms() > end)
				break;
		}
		if (r < 0) {
			fprintf(stderr, "sender %d: open: %s\n", s->sender,
			        ipcx_errmsg());
			return 1;
		}
	}
	for (long i = 0; i < s->per; i++) {
		uint32_t seq = (uint32_t)(s->sender * s->per + i);
		size_t len = msg_len(seq);
		t_msg_fill(buf, len, seq);
		r = ipcx_send(tx, buf, len, SOAK_WAIT_MS);
		if (r < 0) {
			fprintf(stderr, "sender %d: send %ld: %s\n", s->sender,
			        i, ipcx_errmsg());
			return 1;
		}
	}
	ipcx_close(tx);
	return 0;
}

int main(int argc, char **argv)
{
	static struct soak s;
	long next[SOAK_MAX_SENDERS] = {0}, total, got = 0, bad = 0;
	long rss0 = -1, rss1;
	uint8_t buf[SOAK_MAXLEN];
	pid_t pid[SOAK_MAX_SENDERS];
	ipcx_chan *rx = NULL;
	long long t0, ms;
	int fails = 0;

	if (argc != 4) {
		fprintf(stderr,
		        "usage: soak-load TRANSPORT MESSAGES SENDERS\n");
		return 2;
	}
	s.tp = argv[1];
	total = atol(argv[2]);
	s.senders = atoi(argv[3]);
	s.zc = strcmp(s.tp, "shm-zc") == 0;
	if (!strcmp(s.tp, "pipe") || !strcmp(s.tp, "fifo"))
		s.senders = 1;
	if (total < 1 || s.senders < 1 || s.senders > SOAK_MAX_SENDERS) {
		fprintf(stderr, "soak-load: bad MESSAGES or SENDERS\n");
		return 2;
	}
	s.per = total / s.senders;
	total = s.per * s.senders;
	t_seed();
	if (!strcmp(s.tp, "pipe")) {
		T_OK(ipcx_pipe(NULL, &rx, &s.pipe_tx));
	} else {
		if (!strcmp(s.tp, "unix"))
			snprintf(s.ep, sizeof(s.ep), "unix://@%s",
			         t_name("soak"));
		else if (!strcmp(s.tp, "tcp"))
			snprintf(s.ep, sizeof(s.ep), "tcp://127.0.0.1:%u",
			         t_free_port(AF_INET, SOCK_STREAM));
		else if (!strcmp(s.tp, "shm") || s.zc)
			snprintf(s.ep, sizeof(s.ep), "shm://%s?size=1M",
			         t_name("soak"));
		else if (!strcmp(s.tp, "fifo"))
			snprintf(s.ep, sizeof(s.ep), "fifo://%s",
			         t_tmp_path("soak"));
		else {
			fprintf(stderr, "soak-load: unknown transport %s\n",
			        s.tp);
			return 2;
		}
		T_OK(ipcx_open(s.ep, IPCX_RECV | IPCX_CREATE, &rx));
	}
	t0 = t_now_ms();
	for (int i = 0; i < s.senders; i++) {
		s.sender = i;
		pid[i] = t_fork(sender, &s);
	}
	if (s.pipe_tx)
		ipcx_close(s.pipe_tx);
	while (got < total) {
		const void *p = buf;
		ssize_t n;
		uint32_t seq;

		if (s.zc)
			n = ipcx_peek(rx, &p, SOAK_WAIT_MS);
		else
			n = ipcx_recv(rx, buf, sizeof(buf), SOAK_WAIT_MS);
		if (n < 0) {
			fprintf(stderr, "%s: receive %ld of %ld: %s\n", s.tp,
			        got, total, ipcx_errmsg());
			fails++;
			break;
		}
		if (!t_msg_check(p, (size_t)n, &seq) ||
		    seq / s.per >= s.senders || (size_t)n != msg_len(seq) ||
		    (long)(seq % s.per) != next[seq / s.per]) {
			if (bad++ < 5)
				fprintf(stderr,
				        "%s: message %ld: torn, corrupt, "
				        "lost, duplicated or reordered\n",
				        s.tp, got);
		} else {
			next[seq / s.per]++;
		}
		if (s.zc)
			T_OK(ipcx_release(rx));
		if (++got == total / 10)
			rss0 = rss_kib();
	}
	ms = t_now_ms() - t0;
	rss1 = rss_kib();
	for (int i = 0; i < s.senders; i++) {
		int st = t_waitpid(pid[i], SOAK_WAIT_MS);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			fails++;
	}
	ipcx_close(rx);
	if (s.ep[0] && strncmp(s.ep, "unix", 4) && strncmp(s.ep, "tcp", 3))
		ipcx_unlink(s.ep);
	/* Flat: no more than 1 MiB of growth after the first tenth. */
	if (rss0 > 0 && rss1 - rss0 > 1024)
		fails++;
	printf("soak-load %-6s %ld messages from %d sender%s: %ld delivered "
	       "in order, %ld bad; %.1f s, %.0f msg/s; receiver RSS %ld -> "
	       "%ld KiB; seed %llu: %s\n",
	       s.tp, total, s.senders, s.senders > 1 ? "s" : "", got - bad, bad,
	       (double)ms / 1000, ms ? (double)got * 1000 / (double)ms : 0,
	       rss0, rss1, (unsigned long long)t_seed(),
	       fails || bad || got != total ? "FAIL" : "ok");
	return fails || bad || got != total ? T_EXIT_FAIL : T_EXIT_PASS;
}
