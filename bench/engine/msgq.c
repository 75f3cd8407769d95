/*
 * msgq.c - the rows that put the kernel message queues (mq, sysv-mq) next
 * to their bare system calls, and say what their waiting costs in CPU:
 *
 *   bare mq, bare sysv-mq   round trip and streaming with raw mq_send /
 *                           mq_receive, msgsnd / msgrcv (blocking), no
 *                           ipcx: the floor of the ipcx rows above them;
 *   ... cpu paced           a receiver blocked in receive while the sender
 *                           sends one message a millisecond: the CPU both
 *                           sides spend per message (getrusage in the
 *                           child, the thread's CPU clock in the parent);
 *   ... cpu b2b             the same for messages sent back to back.
 *
 * sysv-mq waits by polling with a back-off (src/transport/sysvmq.c); these
 * rows are where that design shows its price next to the bare blocking
 * calls, which have no timeout.
 */
#include "bench.h"

#include "ipcx.h"

#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <time.h>
#include <unistd.h>

/* The paced phase: one message every MQB_PACE_NS. */
#define MQB_PACE_NS BENCH_NS_PER_MS

enum mqb_kind { MQB_IPCX, MQB_POSIX, MQB_SYSV };

/* A System V message: the type, then the bytes (also the plain buffer). */
struct mqb_msg {
	long mtype;
	char mtext[];
};

/* One end: through ipcx, or straight on the kernel object. */
struct mqb_end {
	enum mqb_kind kind;
	ipcx_chan *ch;
	mqd_t q;
	int id;
	size_t size; /* the message size of the row */
	size_t cap;  /* receive buffer: the queue's msgsize for POSIX */
	struct mqb_msg *m;
};

/* Everything both sides need; the child gets a copy by fork. */
struct mqb_job {
	enum mqb_kind kind;
	bool sysv;
	size_t size;
	long warm, n, m; /* echo round trips, then a sink of m */
	long paced, b2b; /* CPU phases: paced messages, then back-to-back */
	bool cpu;        /* run the CPU phases instead of echo + sink */
	int to;
	char ping[320], pong[320]; /* ipcx endpoints, "/name"s, or keys */
};

static uint64_t mqb_cpu_thread(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * BENCH_NS_PER_S + (uint64_t)ts.tv_nsec;
}

static void mqb_end_init(struct mqb_end *e)
{
	memset(e, 0, sizeof(*e));
	e->q = (mqd_t)-1;
	e->id = -1;
}

/* Open name for the job's kind, creating the queue. 0, -errno or IPCX_E*. */
static int mqb_open(struct mqb_end *e, const struct mqb_job *j,
                    const char *name, bool rx)
{
	mqb_end_init(e);
	e->kind = j->kind;
	e->size = j->size;
	e->cap = j->size ? j->size : 1;
	if (j->kind == MQB_IPCX) {
		uint64_t end =
		    bench_now_ns() + (uint64_t)j->to * BENCH_NS_PER_MS;
		int r;
		/* Either side may create the queue; retry a race. */
		do
			r = ipcx_open(name,
			              rx ? IPCX_RECV | IPCX_CREATE : IPCX_SEND,
			              &e->ch);
		while (r == IPCX_EBUSY && bench_now_ns() < end);
		if (r < 0)
			return r;
	} else if (j->kind == MQB_POSIX) {
		struct mq_attr a = {.mq_maxmsg = 10,
		                    .mq_msgsize = (long)e->cap};
		e->q = mq_open(name, (rx ? O_RDONLY : O_WRONLY) | O_CREAT, 0600,
		               &a);
		if (e->q == (mqd_t)-1)
			return -errno;
		if (mq_getattr(e->q, &a) == 0)
			e->cap = (size_t)a.mq_msgsize;
	} else {
		e->id = msgget((key_t)strtoul(name, NULL, 0), IPC_CREAT | 0600);
		if (e->id < 0)
			return -errno;
	}
	e->m = bench_alloc(sizeof(*e->m) + e->cap);
	if (!e->m)
		return -ENOMEM;
	e->m->mtype = 1;
	memset(e->m->mtext, 'x', e->cap);
	return 0;
}

static void mqb_close(struct mqb_end *e)
{
	if (e->ch)
		ipcx_close(e->ch);
	if (e->q != (mqd_t)-1)
		mq_close(e->q);
	bench_free(e->m);
	mqb_end_init(e);
}

/* Remove the queue behind name (quietly: it may be gone already). */
static void mqb_unlink(enum mqb_kind kind, const char *name)
{
	int id;

	if (kind == MQB_IPCX)
		ipcx_unlink(name);
	else if (kind == MQB_POSIX)
		mq_unlink(name);
	else if ((id = msgget((key_t)strtoul(name, NULL, 0), 0)) >= 0)
		msgctl(id, IPC_RMID, NULL);
}

/* The error text for r from an end of this kind. */
static const char *mqb_strerror(enum mqb_kind kind, int r)
{
	if (kind == MQB_IPCX)
		return ipcx_errmsg();
	if (r == -EINVAL)
		return kind == MQB_POSIX ? "EINVAL: the size is above "
		                           "/proc/sys/fs/mqueue/msgsize_max"
		                         : "EINVAL: the size is above "
		                           "/proc/sys/kernel/msgmax";
	return strerror(-r);
}

/*
 * One message of e->size bytes. Bare calls block without a timeout: the
 * watchdog's signal (parent) or the parent's death (child) ends a stuck
 * one. 0, -errno or IPCX_E*.
 */
static int mqb_send(struct mqb_end *e, int to)
{
	for (;;) {
		int r;
		if (e->kind == MQB_IPCX)
			return ipcx_send(e->ch, e->m->mtext, e->size, to);
		if (e->kind == MQB_POSIX)
			r = mq_send(e->q, e->m->mtext, e->size, 0);
		else
			r = msgsnd(e->id, e->m, e->size, 0);
		if (r == 0)
			return 0;
		if (errno != EINTR || bench_stuck || bench_stop)
			return -errno;
	}
}

static int mqb_recv(struct mqb_end *e, int to)
{
	for (;;) {
		ssize_t r;
		if (e->kind == MQB_IPCX)
			r = ipcx_recv(e->ch, e->m->mtext, e->cap, to);
		else if (e->kind == MQB_POSIX)
			r = mq_receive(e->q, e->m->mtext, e->cap, NULL);
		else
			r = msgrcv(e->id, e->m, e->cap, 1, 0);
		if (r >= 0) {
			bench_progress++;
			return r == (ssize_t)e->size ? 0 : -EBADMSG;
		}
		if (e->kind == MQB_IPCX)
			return (int)r;
		if (errno != EINTR || bench_stuck || bench_stop)
			return -errno;
	}
}

/*
 * The child: echo warm + n, then sink m and report {count, first, last,
 * CPU of the sink};
 * or, for the CPU rows, receive paced + b2b and report {CPU of the paced
 * phase, CPU of the back-to-back phase, time of the last receive}.
 */
static int mqb_child(void *arg, int ctl)
{
	struct mqb_job *j = arg;
	struct mqb_end rx, tx;
	uint64_t v[4] = {0, 0, 0, 0}, c0, c1;
	int r;

	mqb_end_init(&tx);
	r = mqb_open(&rx, j, j->ping, true);
	if (r == 0 && !j->cpu)
		r = mqb_open(&tx, j, j->pong, false);
	if (r < 0) {
		bench_report(ctl, 'E', r, "child: open: %s",
		             mqb_strerror(j->kind, r));
		return 1;
	}
	bench_report(ctl, 'R', 0, "ready");
	if (j->cpu) {
		c0 = bench_cpu_self_ns();
		for (long i = 0; i < j->paced && r == 0; i++)
			r = mqb_recv(&rx, j->to);
		c1 = bench_cpu_self_ns();
		for (long i = 0; i < j->b2b && r == 0; i++)
			r = mqb_recv(&rx, j->to);
		v[0] = c1 - c0;
		v[1] = bench_cpu_self_ns() - c1;
		v[2] = bench_now_ns();
	} else {
		for (long i = 0; i < j->warm + j->n && r == 0; i++)
			if ((r = mqb_recv(&rx, j->to)) == 0)
				r = mqb_send(&tx, j->to);
		c0 = bench_cpu_self_ns();
		for (long i = 0; i < j->m && r == 0; i++) {
			r = mqb_recv(&rx, j->to);
			v[2] = bench_now_ns();
			if (i == 0)
				v[1] = v[2];
			v[0]++;
		}
		v[3] = bench_cpu_self_ns() - c0;
	}
	if (r < 0) {
		bench_report(ctl, 'E', r, "child: %s",
		             mqb_strerror(j->kind, r));
		return 1;
	}
	mqb_close(&tx);
	mqb_close(&rx);
	bench_report_data(ctl, v);
	return 0;
}

/* The row name of kind k with suffix. */
static void mqb_name(struct bench_row *row, const struct mqb_job *j,
                     const char *suffix)
{
	const char *base = j->kind == MQB_IPCX    ? (j->sysv ? "sysv-mq" : "mq")
	                   : j->kind == MQB_POSIX ? "bare mq"
	                                          : "bare sysv-mq";

	snprintf(row->name, sizeof(row->name), "%s%s", base, suffix);
}

/* Wait for the child's data report; 0, or -1 with the reason in row. */
static int mqb_data(struct bench_child *c, struct bench_row *row, int to,
                    uint64_t v[4])
{
	struct bench_msg m;
	int r = bench_wait_report(c, &m, to);

	if (r == 1 && m.kind == 'D') {
		memcpy(v, m.v, sizeof(m.v));
		return 0;
	}
	row->status = BENCH_FAIL;
	snprintf(row->note, sizeof(row->note), "%s",
	         r == 1   ? m.text
	         : r == 0 ? "the child stopped answering"
	                  : "the child went away");
	return -1;
}

/* The parent's echo + sink: round trips into row, then streaming. */
static int mqb_echo(struct mqb_job *j, struct mqb_end *tx, struct mqb_end *rx,
                    struct bench_child *c, uint64_t *t, struct bench_row *row)
{
	struct bench_cpu cpu;
	uint64_t v[4], t0;
	int r = 0;

	for (long i = 0; i < j->warm + j->n && r == 0; i++) {
		t0 = bench_now_ns();
		if ((r = mqb_send(tx, j->to)) == 0)
			r = mqb_recv(rx, j->to);
		if (i >= j->warm)
			t[i - j->warm] = bench_now_ns() - t0;
	}
	if (r < 0)
		return r;
	bench_percentiles(t, (size_t)j->n, row);
	bench_cpu_start(&cpu);
	t0 = bench_now_ns();
	for (long i = 0; i < j->m && r == 0; i++)
		r = mqb_send(tx, j->to);
	if (r < 0 || mqb_data(c, row, j->to, v) < 0)
		return r;
	if (v[0] == (uint64_t)j->m && v[2] > t0) {
		row->has_tput = true;
		row->messages = row->received = j->m;
		row->msgs_per_s =
		    (double)j->m / ((double)(v[2] - t0) / BENCH_NS_PER_S);
		row->bytes_per_s = row->msgs_per_s * (double)j->size;
		bench_cpu_fill(&cpu, j->m, v[3], row);
	}
	return 0;
}

/* Fill a CPU row: k messages at rate, rx and tx CPU in ns over them. */
static void mqb_cpu_row(struct bench_row *row, long k, double rate,
                        uint64_t rx_ns, uint64_t tx_ns, size_t size)
{
	row->has_tput = true;
	row->messages = row->received = k;
	row->msgs_per_s = rate;
	row->bytes_per_s = rate * (double)size;
	row->has_cpu = true;
	row->rx_cpu_ns = (double)rx_ns / (double)k;
	row->tx_cpu_ns = (double)tx_ns / (double)k;
	row->cpu_ns_per_msg = row->rx_cpu_ns + row->tx_cpu_ns;
	row->absent = BENCH_NO_RTT;
	snprintf(row->absent_why, sizeof(row->absent_why),
	         "a one-way stream: CPU per message, no round trip");
	snprintf(row->note, sizeof(row->note),
	         "CPU per message: receiver %.2f us, sender %.2f us",
	         (double)rx_ns / 1e3 / (double)k,
	         (double)tx_ns / 1e3 / (double)k);
}

/*
 * The parent's CPU phases: paced sends, then back to back; fills the two
 * rows from its own CPU clock and the child's report.
 */
static int mqb_cpu(struct mqb_job *j, struct mqb_end *tx, struct bench_child *c,
                   struct bench_row *paced, struct bench_row *b2b)
{
	struct timespec next;
	uint64_t v[4], c0, c1, c2, b0;
	int r = 0;

	clock_gettime(CLOCK_MONOTONIC, &next);
	c0 = mqb_cpu_thread();
	for (long i = 0; i < j->paced && r == 0; i++) {
		next.tv_nsec += MQB_PACE_NS;
		if (next.tv_nsec >= 1000000000) {
			next.tv_nsec -= 1000000000;
			next.tv_sec++;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next,
		                       NULL) == EINTR &&
		       !bench_stop)
			;
		r = mqb_send(tx, j->to);
	}
	b0 = bench_now_ns();
	c1 = mqb_cpu_thread();
	for (long i = 0; i < j->b2b && r == 0; i++)
		r = mqb_send(tx, j->to);
	c2 = mqb_cpu_thread();
	if (r < 0 || mqb_data(c, paced, j->to, v) < 0)
		return r;
	mqb_cpu_row(paced, j->paced, (double)BENCH_NS_PER_S / MQB_PACE_NS, v[0],
	            c1 - c0, j->size);
	mqb_cpu_row(b2b, j->b2b,
	            (double)j->b2b / ((double)(v[2] - b0) / BENCH_NS_PER_S),
	            v[1], c2 - c1, j->size);
	return 0;
}

/*
 * One run: the echo + sink row of a bare kind, or the two CPU rows (paced,
 * back to back) of any kind.
 */
static void mqb_run(const struct bench_config *cfg, struct mqb_job *j,
                    struct bench_result *res)
{
	struct bench_row row, row2;
	struct bench_child c = {-1, -1};
	struct bench_msg m;
	struct mqb_end tx, rx;
	uint64_t *t = NULL;
	char err[160];
	int r = 0, st;

	memset(&row, 0, sizeof(row));
	mqb_name(&row, j, j->cpu ? " cpu paced" : "");
	snprintf(row.endpoint, sizeof(row.endpoint), "%s", j->ping);
	row.kind = j->kind == MQB_IPCX ? BENCH_IPCX : BENCH_BASELINE;
	snprintf(row.wait, sizeof(row.wait), "%s",
	         j->kind == MQB_IPCX && j->sysv ? "backoff" : "kernel");
	row.size = j->size;
	row.status = BENCH_OK;
	row2 = row;
	mqb_name(&row2, j, " cpu b2b");
	mqb_end_init(&tx);
	mqb_end_init(&rx);
	mqb_unlink(j->kind, j->ping);
	mqb_unlink(j->kind, j->pong);
	if (!j->cpu && !(t = malloc(sizeof(*t) * (size_t)j->n))) {
		row.status = BENCH_FAIL;
		snprintf(row.note, sizeof(row.note), "out of memory");
		goto out;
	}
	if (bench_fork(&c, mqb_child, j, err, sizeof(err)) < 0) {
		row.status = BENCH_FAIL;
		snprintf(row.note, sizeof(row.note), "%s", err);
		goto out;
	}
	if (bench_wait_report(&c, &m, j->to) != 1 || m.kind != 'R') {
		/* The mechanism cannot take this size here: a skip. */
		row.status = m.kind == 'E' && (m.code == IPCX_EMSGSIZE ||
		                               m.code == -EINVAL)
		                 ? BENCH_SKIP
		                 : BENCH_FAIL;
		snprintf(row.note, sizeof(row.note), "%s",
		         m.kind == 'E' ? m.text : "the child did not start");
		goto out;
	}
	r = mqb_open(&tx, j, j->ping, false);
	if (r == 0 && !j->cpu)
		r = mqb_open(&rx, j, j->pong, true);
	if (r == 0) {
		bench_watchdog_start(cfg->timeout_ms);
		r = j->cpu ? mqb_cpu(j, &tx, &c, &row, &row2)
		           : mqb_echo(j, &tx, &rx, &c, t, &row);
		bench_watchdog_stop();
	}
	if (r != 0 && row.status == BENCH_OK) {
		/* Too big for this queue (msgsize, msgmax): a skip. */
		row.status =
		    r == IPCX_EMSGSIZE || r == -EINVAL || r == -EMSGSIZE
		        ? BENCH_SKIP
		        : BENCH_FAIL;
		snprintf(row.note, sizeof(row.note), "%s",
		         bench_stop    ? "interrupted"
		         : bench_stuck ? "the child stopped answering"
		                       : mqb_strerror(j->kind, r));
	}
out:
	mqb_close(&tx);
	mqb_close(&rx);
	if (c.pid > 0) {
		st = bench_reap(&c, row.status == BENCH_OK ? j->to : 0);
		if (row.status == BENCH_OK && st != 0) {
			row.status = BENCH_FAIL;
			snprintf(row.note, sizeof(row.note),
			         "child exited with %d", st);
		}
	}
	mqb_unlink(j->kind, j->ping);
	mqb_unlink(j->kind, j->pong);
	free(t);
	*bench_row_add(res) = row;
	if (j->cpu) {
		if (row.status != BENCH_OK) {
			row2.status = row.status;
			snprintf(row2.note, sizeof(row2.note), "%s", row.note);
		}
		*bench_row_add(res) = row2;
	}
}

void bench_msgq_rows(const struct bench_config *cfg, const char *item,
                     size_t size, unsigned seq, struct bench_result *res)
{
	unsigned long pid = (unsigned long)getpid() & 0xffff;
	struct bench_ep ep;
	struct mqb_job j;
	char err[160];

	if (bench_ep_resolve(item, seq, &ep, err, sizeof(err)) < 0 ||
	    (strcmp(ep.scheme, "mq") && strcmp(ep.scheme, "sysv-mq")))
		return;
	memset(&j, 0, sizeof(j));
	j.sysv = ep.scheme[0] == 's';
	j.size = size;
	j.to = cfg->timeout_ms;
	bench_counts(cfg, size, &j.n, &j.m, &j.warm);
	j.paced = cfg->quick ? 20 : 500;
	j.b2b = cfg->quick ? 200 : 5000;

	/* The bare floor: round trips and streaming. */
	j.kind = j.sysv ? MQB_SYSV : MQB_POSIX;
	if (j.sysv) {
		unsigned long k = 0x1c000000ul | pid << 8 | (seq * 2 & 0xff);
		snprintf(j.ping, sizeof(j.ping), "0x%08lx", k);
		snprintf(j.pong, sizeof(j.pong), "0x%08lx", k + 1);
	} else {
		snprintf(j.ping, sizeof(j.ping), "/ipcx-bench-%lu-%u-bping",
		         pid, seq);
		snprintf(j.pong, sizeof(j.pong), "/ipcx-bench-%lu-%u-bpong",
		         pid, seq);
	}
	mqb_run(cfg, &j, res);
	/* CPU per message, bare and through ipcx, paced and back to back. */
	j.cpu = true;
	mqb_run(cfg, &j, res);
	j.kind = MQB_IPCX;
	snprintf(j.ping, sizeof(j.ping), "%s", ep.ping);
	snprintf(j.pong, sizeof(j.pong), "%s", ep.pong);
	mqb_run(cfg, &j, res);
}
