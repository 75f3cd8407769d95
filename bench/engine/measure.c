/*
 * measure.c - the rows measured through libipcx: round trips against a forked
 * echo child, one-way streaming, and for shm the zero-copy variants.
 *
 * Shapes (see bench_ep_resolve):
 *   pipe     two ipcx_pipe() pairs made before fork: ping and pong;
 *   one-way  (shm, fifo) two named channels; each side creates the one it
 *            receives on and attaches to the other, retrying until it exists;
 *   socket   (unix, tcp, udp) the child listens and echoes on the connection
 *            (udp: to the last source) that delivered the message.
 *
 * The child knows the whole plan from the fork: warm + n echoes, then a sink
 * of m messages answered by one acknowledgement {count, first, last receive
 * time}, then the same two phases with loan/commit and peek/release where
 * the transport has them. CLOCK_MONOTONIC is system-wide, so the parent
 * computes throughput from its first send to the child's last receive.
 *
 * Events (sem, sysv-sem) carry no bytes: their rows run at size 0 only (in
 * the first size's group), the round trip is a post answered by a post
 * (twice the post-to-wake latency), the stream counts posts a second, and
 * the child's acknowledgement comes over its report pipe instead.
 */
#include "bench.h"

#include "ipcx.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Everything both sides of a row need; the child gets a copy by fork. */
struct ipc_job {
	const struct bench_config *cfg;
	struct bench_ep ep;
	size_t size, cap;
	long warm, n, m;
	int to;   /* ms, the bound on each wait outside the timed loops */
	int wait; /* ms, each wait inside them (see ipc_wait_init) */
	bool zc;
	long batch; /* --batch: a sendv stream too, this many a call */
	struct bench_plan *plan; /* n and m as the time budget leaves them */
	struct bench_child *c;   /* the parent's handle on the child */
	/* BENCH_PIPE: both pairs exist before fork; each side closes two. */
	ipcx_chan *ping_rd, *ping_wr, *pong_rd, *pong_wr;
};

/* The acknowledgement that ends a streaming phase. */
struct ipc_ack {
	uint64_t count, first_ns, last_ns, bad;
	uint64_t cpu_ns; /* the receiver's CPU over the stream */
};

/* Errors worth a skip rather than a failure: the mechanism cannot do it. */
static bool ipc_is_skip(long rc)
{
	return rc == IPCX_ENOTSUP || rc == IPCX_EMSGSIZE;
}

static void ipc_note(char *note, size_t cap, const char *what, long rc)
{
	const char *msg = ipcx_errmsg();

	if (!msg || !*msg)
		msg = ipcx_strerror((int)rc);
	snprintf(note, cap, "%s: %s", what, msg);
}

/* Open, retrying while the other side has not made the object yet. */
static int ipc_open_retry(const char *ep, int flags, int to, ipcx_chan **ch)
{
	uint64_t end = bench_now_ns() + (uint64_t)to * BENCH_NS_PER_MS;
	int rc;

	for (;;) {
		rc = ipcx_open(ep, flags, ch);
		if (rc != IPCX_ENOPEER && rc != IPCX_ENOENT)
			return rc;
		if (bench_now_ns() >= end || bench_stop)
			return rc;
		bench_sleep_ns(500000);
	}
}

static void ipc_put_seq(void *p, size_t size, uint64_t seq)
{
	if (size >= sizeof(seq))
		memcpy(p, &seq, sizeof(seq));
}

static bool ipc_seq_ok(const void *p, size_t size, uint64_t seq)
{
	uint64_t got;

	if (size < sizeof(got))
		return true;
	memcpy(&got, p, sizeof(got));
	return got == seq;
}

/*
 * signal:// (one-way shape): "signal://PID?opts" to send to pid; each side
 * receives on the endpoint as resolved ("signal://?opts", itself).
 */
static void ipc_sig_to(const struct ipc_job *j, pid_t pid, char *buf,
                       size_t cap)
{
	snprintf(buf, cap, "signal://%ld%s%s", (long)pid,
	         j->ep.opts[0] ? "?" : "", j->ep.opts);
}

/*
 * The acknowledgement as one message, or (signal://, 8 bytes a message)
 * as its five 8-byte fields in a row.
 */
static long ipc_ack_send(const struct ipc_job *j, ipcx_chan *tx,
                         const struct ipc_ack *ack)
{
	const uint64_t f[5] = {ack->count, ack->first_ns, ack->last_ns,
	                       ack->bad, ack->cpu_ns};
	long rc = 0;

	if (strcmp(j->ep.scheme, "signal"))
		return ipcx_send(tx, ack, sizeof(*ack), j->to);
	for (int i = 0; i < 5 && rc == 0; i++)
		rc = ipcx_send(tx, &f[i], sizeof(f[i]), j->to);
	return rc;
}

static ssize_t ipc_ack_recv(const struct ipc_job *j, ipcx_chan *rx,
                            struct ipc_ack *ack, int to)
{
	uint64_t f[5];
	ssize_t r;

	if (strcmp(j->ep.scheme, "signal"))
		return ipcx_recv(rx, ack, sizeof(*ack), to);
	for (int i = 0; i < 5; i++) {
		r = ipcx_recv(rx, &f[i], sizeof(f[i]), to);
		if (r < 0)
			return r;
		if (r != sizeof(f[i]))
			return IPCX_ECORRUPT;
	}
	ack->count = f[0];
	ack->first_ns = f[1];
	ack->last_ns = f[2];
	ack->bad = f[3];
	ack->cpu_ns = f[4];
	return sizeof(*ack);
}

/* ---- the child: echo, then sink ---- */

static int ipc_child_open(struct ipc_job *j, ipcx_chan **rx, ipcx_chan **tx)
{
	int rc = 0;

	*rx = *tx = NULL;
	switch (j->ep.shape) {
	case BENCH_PIPE:
		ipcx_close(j->ping_wr);
		ipcx_close(j->pong_rd);
		*rx = j->ping_rd;
		*tx = j->pong_wr;
		return 0;
	case BENCH_ONEWAY:
		/* No IPCX_EXCL: shm:// lets either end create, so the
		 * sender may have made the object first. */
		rc = ipcx_open(j->ep.cping, IPCX_RECV | IPCX_CREATE, rx);
		if (rc == 0 && !strcmp(j->ep.scheme, "signal")) {
			char to[320];
			ipc_sig_to(j, getppid(), to, sizeof(to));
			return ipcx_open(to, IPCX_SEND, tx);
		}
		if (rc == 0)
			rc = ipc_open_retry(j->ep.cpong, IPCX_SEND, j->to, tx);
		return rc;
	case BENCH_SOCKET:
		rc = ipcx_open(j->ep.ping,
		               IPCX_RECV | IPCX_SEND | IPCX_CREATE | IPCX_EXCL,
		               rx);
		*tx = *rx;
		return rc;
	}
	return IPCX_EINVAL;
}

static void ipc_close_pair(ipcx_chan *rx, ipcx_chan *tx)
{
	if (tx != rx)
		ipcx_close(tx);
	ipcx_close(rx);
}

/* Receive m messages; lossy transports stop after a short silence. */
static long ipc_sink(struct ipc_job *j, ipcx_chan *rx, void *buf, bool zc,
                     struct ipc_ack *ack)
{
	uint64_t c0 = bench_cpu_self_ns();

	memset(ack, 0, sizeof(*ack));
	/* The count is read again after each message: the parent may cut it. */
	for (long i = 0; i < j->plan->m; i++) {
		int to = j->ep.lossy && i > 0 ? 100 : j->wait;
		const void *p = buf;
		ssize_t r;

		if (zc)
			r = ipcx_peek(rx, &p, to);
		else
			r = ipcx_recv(rx, buf, j->cap, to);
		if (r == IPCX_ETIMEDOUT && j->ep.lossy && i > 0)
			break;
		if (r < 0)
			return r;
		ack->last_ns = bench_now_ns();
		if (i == 0)
			ack->first_ns = ack->last_ns;
		if ((size_t)r != j->size ||
		    (!j->ep.lossy && !ipc_seq_ok(p, j->size, (uint64_t)i)))
			ack->bad++;
		if (zc) {
			r = ipcx_release(rx);
			if (r < 0)
				return r;
		}
		ack->count++;
	}
	ack->cpu_ns = bench_cpu_self_ns() - c0;
	return 0;
}

static int ipc_child(void *arg, int ctl)
{
	struct ipc_job *j = arg;
	ipcx_chan *rx, *tx;
	struct ipc_ack ack;
	void *buf = bench_alloc(j->cap);
	const char *what = "open";
	long rc;

	rc = ipc_child_open(j, &rx, &tx);
	if (rc < 0 || !buf)
		goto fail;
	bench_report(ctl, 'R', 0, "ready");
	what = "handshake";
	if (!strcmp(j->ep.scheme, "nats") &&
	    (rc = bench_split_sync_child(rx, tx, buf, j->cap, j->to)) < 0)
		goto fail;

	what = "echo";
	for (long i = 0; i < j->warm + j->plan->n; i++) {
		rc = ipcx_recv(rx, buf, j->cap, j->wait);
		if (rc < 0)
			goto fail;
		rc = ipcx_send(tx, buf, (size_t)rc, j->wait);
		if (rc < 0)
			goto fail;
	}
	what = "stream";
	rc = ipc_sink(j, rx, buf, false, &ack);
	if (rc < 0)
		goto fail;
	if (j->ep.event) {
		/* Four words fit the report: its CPU where "first" was. */
		uint64_t v[4] = {ack.count, ack.cpu_ns, ack.last_ns, ack.bad};
		bench_report_data(ctl, v);
		goto out;
	}
	rc = ipc_ack_send(j, tx, &ack);
	if (rc == 0 && j->batch) {
		/* The batched stream: the receiver does nothing new. */
		what = "batched stream";
		rc = ipc_sink(j, rx, buf, false, &ack);
		if (rc == 0)
			rc = ipc_ack_send(j, tx, &ack);
	}
	if (rc < 0 || !j->zc)
		goto out;

	what = "zero-copy echo";
	for (long i = 0; i < j->warm + j->plan->n; i++) {
		const void *in;
		void *outp;
		uint64_t seq = 0;
		ssize_t r = ipcx_peek(rx, &in, j->to);

		rc = r;
		if (r < 0)
			goto fail;
		if (r >= (ssize_t)sizeof(seq))
			memcpy(&seq, in, sizeof(seq));
		rc = ipcx_release(rx);
		if (rc < 0)
			goto fail;
		rc = ipcx_loan(tx, (size_t)r, &outp, j->to);
		if (rc < 0)
			goto fail;
		/* An echo writes its reply in place: one copy, like a producer.
		 */
		memcpy(outp, buf, (size_t)r);
		ipc_put_seq(outp, (size_t)r, seq);
		rc = ipcx_commit(tx, outp, (size_t)r);
		if (rc < 0)
			goto fail;
	}
	what = "zero-copy stream";
	rc = ipc_sink(j, rx, buf, true, &ack);
	if (rc < 0)
		goto fail;
	rc = ipc_ack_send(j, tx, &ack);
out:
	if (rc < 0)
		goto fail;
	ipc_close_pair(rx, tx);
	bench_free(buf);
	return 0;
fail:
	if (!buf)
		bench_report(ctl, 'E', IPCX_ENOMEM, "child: out of memory");
	else
		bench_report(ctl, 'E', (int)rc, "child: %s: %s", what,
		             ipcx_errmsg());
	ipc_close_pair(rx, tx);
	bench_free(buf);
	return 1;
}

/* ---- the parent: time it ---- */

/* Round trips; fills row's percentiles. Returns 0 or IPCX_E*. */
static long ipc_rtt(struct ipc_job *j, ipcx_chan *rx, ipcx_chan *tx, void *src,
                    void *dst, bool zc, struct bench_row *row,
                    const char **what)
{
	uint64_t *t = malloc(sizeof(*t) * (size_t)j->n);
	uint64_t budget = bench_budget_ns(j->cfg, false), start = 0;
	long n = j->plan->n, total = j->warm + n, rc = 0;

	if (!t)
		return IPCX_ENOMEM;
	for (long i = 0; i < total && !bench_stop; i++) {
		uint64_t t0 = bench_now_ns(), t1;
		const void *in = dst;
		ssize_t r;

		if (i == j->warm)
			start = t0;
		/* Over the budget: this round trip is the last (the child
		 * reads the new count once it has this message). */
		if (i > j->warm &&
		    bench_budget_cut(budget, start, i - j->warm)) {
			j->plan->n = n = i - j->warm + 1;
			total = i + 1;
		}

		if (zc) {
			void *outp;

			*what = "loan";
			rc = ipcx_loan(tx, j->size, &outp, j->to);
			if (rc < 0)
				break;
			memcpy(outp, src, j->size);
			ipc_put_seq(outp, j->size, (uint64_t)i);
			*what = "commit";
			rc = ipcx_commit(tx, outp, j->size);
			if (rc < 0)
				break;
			*what = "peek";
			r = ipcx_peek(rx, &in, j->to);
		} else {
			ipc_put_seq(src, j->size, (uint64_t)i);
			*what = "send";
			rc = ipcx_send(tx, src, j->size, j->wait);
			if (rc < 0)
				break;
			*what = "recv";
			r = ipcx_recv(rx, dst, j->cap, j->wait);
		}
		if (r < 0) {
			rc = r;
			break;
		}
		if ((size_t)r != j->size ||
		    !ipc_seq_ok(in, j->size, (uint64_t)i)) {
			*what = "echo";
			rc = IPCX_ECORRUPT;
			break;
		}
		if (zc) {
			*what = "release";
			rc = ipcx_release(rx);
			if (rc < 0)
				break;
		}
		t1 = bench_now_ns();
		if (i >= j->warm)
			t[i - j->warm] = t1 - t0;
		bench_progress++;
	}
	if (rc == 0 && bench_stop)
		rc = IPCX_ETIMEDOUT;
	if (rc == 0) {
		bench_percentiles(t, (size_t)n, row);
		bench_budget_note(row, false, n, j->n, budget);
	}
	free(t);
	return rc;
}

/*
 * The m messages in ipcx_sendv calls of j->batch, from src: j->batch
 * copies of the message, each numbered in turn; bv: as many iovecs.
 */
static long ipc_send_batched(struct ipc_job *j, ipcx_chan *tx, char *src,
                             struct iovec *bv, long m, const char **what)
{
	*what = "sendv";
	for (long i = 0; i < m && !bench_stop;) {
		int k = (int)(m - i < j->batch ? m - i : j->batch);
		int done = 0;

		for (int b = 0; b < k; b++) {
			bv[b].iov_base = src + (size_t)b * j->size;
			bv[b].iov_len = j->size;
			ipc_put_seq(bv[b].iov_base, j->size, (uint64_t)(i + b));
		}
		while (done < k) {
			int r = ipcx_sendv(tx, bv + done, k - done, j->wait);
			if (r < 0)
				return r;
			done += r;
		}
		i += k;
		bench_progress++;
	}
	return 0;
}

/*
 * Stream m messages (bv: with ipcx_sendv, see ipc_send_batched); fills
 * row's throughput. Returns 0 or IPCX_E*.
 */
static long ipc_stream(struct ipc_job *j, ipcx_chan *rx, ipcx_chan *tx,
                       void *src, bool zc, struct iovec *bv,
                       struct bench_row *row, const char **what)
{
	struct ipc_ack ack;
	uint64_t budget = bench_budget_ns(j->cfg, true);
	uint64_t t0, c0 = bench_cpu_self_ns();
	long m = j->plan->m, rc = 0;
	ssize_t r;

	t0 = bench_now_ns();

	if (bv) {
		/* Batched: no time budget (it streams fast), all m go. */
		rc = ipc_send_batched(j, tx, src, bv, m, what);
		if (rc < 0)
			return rc;
	}
	for (long i = bv ? m : 0; i < m && !bench_stop; i++) {
		/* Over the budget: this message is the last (the clock is read
		 * every 256 messages only, to stay out of the fast paths). */
		if ((i & 255) == 0 && bench_budget_cut(budget, t0, i))
			j->plan->m = m = i + 1;
		if (zc) {
			void *outp;

			*what = "loan";
			rc = ipcx_loan(tx, j->size, &outp, j->to);
			if (rc < 0)
				return rc;
			memcpy(outp, src, j->size);
			ipc_put_seq(outp, j->size, (uint64_t)i);
			*what = "commit";
			rc = ipcx_commit(tx, outp, j->size);
		} else {
			ipc_put_seq(src, j->size, (uint64_t)i);
			*what = "send";
			rc = ipcx_send(tx, src, j->size, j->wait);
			/* signal://: a full queue does not wait; we do. */
			while (rc == IPCX_EAGAIN && !bench_stop) {
				sched_yield();
				rc = ipcx_send(tx, src, j->size, j->wait);
			}
		}
		if (rc < 0)
			return rc;
		bench_progress++;
	}
	if (bench_stop)
		return IPCX_ETIMEDOUT;
	*what = "acknowledgement";
	if (j->ep.event) {
		struct bench_msg msg;
		int w = bench_wait_report(j->c, &msg, j->to);
		if (w != 1 || msg.kind != 'D')
			return w == 0 ? IPCX_ETIMEDOUT : IPCX_EPEER;
		ack =
		    (struct ipc_ack){msg.v[0], 0, msg.v[2], msg.v[3], msg.v[1]};
		r = sizeof(ack);
	} else {
		r = ipc_ack_recv(j, rx, &ack, j->to + (j->ep.lossy ? 200 : 0));
	}
	if (r < 0)
		return r;
	if ((size_t)r != sizeof(ack) || ack.count > (uint64_t)m)
		return IPCX_ECORRUPT;
	if (ack.bad) {
		snprintf(row->note, sizeof(row->note),
		         "%llu messages arrived damaged or out of order",
		         (unsigned long long)ack.bad);
		return IPCX_ECORRUPT;
	}
	row->has_tput = true;
	row->messages = m;
	row->received = (long)ack.count;
	if (ack.count > 0 && ack.cpu_ns) {
		/* Both sides' CPU over the stream (getrusage), per message. */
		row->has_cpu = true;
		row->tx_cpu_ns =
		    (double)(bench_cpu_self_ns() - c0) / (double)ack.count;
		row->rx_cpu_ns = (double)ack.cpu_ns / (double)ack.count;
		row->cpu_ns_per_msg = row->rx_cpu_ns + row->tx_cpu_ns;
	}
	if (ack.count > 0 && ack.last_ns > t0) {
		double s = (double)(ack.last_ns - t0) / BENCH_NS_PER_S;

		row->msgs_per_s = (double)ack.count / s;
		row->bytes_per_s = row->msgs_per_s * (double)j->size;
	}
	if (ack.count < (uint64_t)m)
		snprintf(row->note, sizeof(row->note), "%.1f%% lost",
		         100.0 * (double)(m - (long)ack.count) / (double)m);
	bench_budget_note(row, true, m, j->m, budget);
	return 0;
}

static void ipc_row_init(struct bench_row *row, const char *item,
                         const struct ipc_job *j, bool zc)
{
	memset(row, 0, sizeof(*row));
	bench_ep_name(item, row->name, sizeof(row->name));
	row->zero_copy = zc;
	if (zc)
		strncat(row->name, " zero-copy",
		        sizeof(row->name) - strlen(row->name) - 1);
	snprintf(row->endpoint, sizeof(row->endpoint), "%s", j->ep.ping);
	row->kind = BENCH_IPCX;
	snprintf(row->wait, sizeof(row->wait), "%s", j->ep.wait);
	row->size = j->size;
	row->status = BENCH_OK;
}

/* Mark row failed (or skipped) from rc, preferring the child's reason. */
static void ipc_row_error(struct bench_row *row, struct bench_child *c, long rc,
                          const char *what)
{
	struct bench_msg m;

	if (row->status != BENCH_OK)
		return;
	row->status = ipc_is_skip(rc) ? BENCH_SKIP : BENCH_FAIL;
	if (rc == IPCX_ECORRUPT && row->note[0])
		return;
	/*
	 * The child's failure is usually the cause of the parent's: when the
	 * parent timed out or lost its peer, give the child's report a moment.
	 */
	if (c && c->pid > 0 &&
	    bench_wait_report(
	        c, &m, rc == IPCX_ETIMEDOUT || rc == IPCX_EPEER ? 200 : 0) ==
	        1 &&
	    m.kind == 'E') {
		snprintf(row->note, sizeof(row->note), "%s", m.text);
		if (ipc_is_skip(m.code))
			row->status = BENCH_SKIP;
		return;
	}
	if (bench_stop)
		snprintf(row->note, sizeof(row->note), "interrupted");
	else
		ipc_note(row->note, sizeof(row->note), what, rc);
}

/*
 * The parent's side of the setup; the child reports 'R' when it is done.
 * A failure the child reported lands in note.
 */
static long ipc_parent_open(struct ipc_job *j, struct bench_child *c,
                            ipcx_chan **rx, ipcx_chan **tx, const char **what,
                            char *note, size_t cap)
{
	struct bench_msg m;
	long rc = 0;
	int r;

	*rx = *tx = NULL;
	if (j->ep.shape == BENCH_PIPE) {
		ipcx_close(j->ping_rd);
		ipcx_close(j->pong_wr);
		j->ping_rd = j->pong_wr = NULL;
		*tx = j->ping_wr;
		*rx = j->pong_rd;
		j->ping_wr = j->pong_rd = NULL;
	} else if (j->ep.shape == BENCH_ONEWAY) {
		*what = "open";
		rc = ipcx_open(j->ep.pong, IPCX_RECV | IPCX_CREATE, rx);
		if (rc == 0 && !strcmp(j->ep.scheme, "signal")) {
			char to[320];
			ipc_sig_to(j, c->pid, to, sizeof(to));
			rc = ipcx_open(to, IPCX_SEND, tx);
		} else if (rc == 0) {
			rc = ipc_open_retry(j->ep.ping, IPCX_SEND, j->to, tx);
		}
		if (rc < 0)
			return rc;
	}
	*what = "waiting for the echo child";
	r = bench_wait_report(c, &m, j->to);
	if (r == 1 && m.kind == 'E') {
		snprintf(note, cap, "%s", m.text);
		return m.code < 0 ? m.code : IPCX_EPEER;
	}
	if (r != 1)
		return r == 0 ? IPCX_ETIMEDOUT : IPCX_EPEER;
	if (j->ep.shape == BENCH_SOCKET) {
		*what = "connect";
		rc = ipc_open_retry(j->ep.ping, IPCX_SEND | IPCX_RECV, j->to,
		                    tx);
		*rx = *tx;
	}
	return rc;
}

/* The most bytes one batch of the sendv stream holds (it lowers N). */
#define IPC_BATCH_BYTES (16u << 20)

/* The framed byte streams: pipe, fifo, unix, tcp. */
static bool ipc_framed(const struct ipc_job *j)
{
	static const char *const framed[] = {"pipe", "fifo", "unix", "tcp"};

	for (size_t i = 0; i < sizeof(framed) / sizeof(framed[0]); i++)
		if (!strcmp(j->ep.scheme, framed[i]))
			return true;
	return false;
}

/*
 * The timed loops of a framed stream wait without a timeout (-1), as the
 * bare rows they are compared with do: a pipe has no per-read timeout, so
 * a bounded receive there costs poll() + read() where -1 costs one
 * blocking read (libipcx(3), "Timeouts and system calls"). A stream
 * reports its peer's death, and the watchdog (bench_watchdog_victim)
 * kills a child that stops answering. Other mechanisms keep the bound.
 */
static void ipc_wait_init(struct ipc_job *j)
{
	j->wait = ipc_framed(j) ? -1 : j->to;
}

/*
 * With --batch, the framed streams (which write a batch with one writev)
 * get a sendv row: j->batch messages a call, fewer for big messages.
 */
static void ipc_batch_init(struct ipc_job *j, const struct bench_config *cfg,
                           const char *item, struct bench_row *bat)
{
	size_t n;

	j->batch = cfg->batch && ipc_framed(j) ? cfg->batch : 0;
	if (j->batch && j->size && (size_t)j->batch * j->size > IPC_BATCH_BYTES)
		j->batch = j->size < IPC_BATCH_BYTES
		               ? (long)(IPC_BATCH_BYTES / j->size)
		               : 1;
	ipc_row_init(bat, item, j, false);
	n = strlen(bat->name);
	snprintf(bat->name + n, sizeof(bat->name) - n, " sendv %ld", j->batch);
	bat->absent = BENCH_NO_RTT;
	snprintf(
	    bat->absent_why, sizeof(bat->absent_why),
	    "a one-way stream of batches; its round trip is the row above");
}

/*
 * Stop the watchdog ipc_wait_init's rows run under; a row it ended (its
 * child killed for making no progress) says so.
 */
static void ipc_watchdog_end(const struct ipc_job *j, struct bench_row *row,
                             long rc, const char *what)
{
	if (j->wait >= 0)
		return;
	bench_watchdog_stop();
	bench_watchdog_victim = 0;
	if (rc < 0 && bench_stuck && row->status == BENCH_OK) {
		row->status = BENCH_FAIL;
		snprintf(
		    row->note, sizeof(row->note),
		    "%s: no progress for %d ms; the echo child was stopped",
		    what, j->to);
	}
}

void bench_ipcx_rows(const struct bench_config *cfg, const char *item,
                     size_t size, unsigned seq, struct bench_result *res)
{
	struct ipc_job j;
	struct bench_child c = {-1, -1};
	struct bench_row copy, zc, bat;
	ipcx_chan *rx = NULL, *tx = NULL;
	void *src = NULL, *dst = NULL, *bsrc = NULL;
	struct iovec *bv = NULL;
	const char *what = "setup";
	char err[256], note[256] = "";
	long rc;
	int st;

	memset(&j, 0, sizeof(j));
	j.cfg = cfg;
	j.size = size;
	j.cap = size < sizeof(struct ipc_ack) ? sizeof(struct ipc_ack) : size;
	j.to = cfg->timeout_ms;
	bench_counts(cfg, size, &j.n, &j.m, &j.warm);
	if (bench_ep_resolve(item, seq, &j.ep, err, sizeof(err)) < 0) {
		ipc_row_init(&copy, item, &j, false);
		copy.status = BENCH_FAIL;
		snprintf(copy.note, sizeof(copy.note), "%s", err);
		*bench_row_add(res) = copy;
		return;
	}
	if (j.ep.event) {
		/* Events have one size, 0: measured once, with the first
		 * group; a System V count stops at 32767, so fewer posts. */
		if (size != cfg->sizes[0])
			return;
		j.size = 0;
		if (j.m > 30000)
			j.m = 30000;
	} else if (!strcmp(j.ep.scheme, "signal")) {
		/* A signal carries 8 bytes (its sigval): measured once, at
		 * 8, with the first group, like its bare sigqueue row. */
		if (size != cfg->sizes[0])
			return;
		j.size = 8;
		bench_counts(cfg, 8, &j.n, &j.m, &j.warm);
	}
	j.zc = j.ep.zero_copy;
	ipc_row_init(&copy, item, &j, false);
	ipc_row_init(&zc, item, &j, true);
	ipc_batch_init(&j, cfg, item, &bat);
	ipc_wait_init(&j);
	if (!strcmp(j.ep.scheme, "nats")) {
		/* A server is the user's to start: none answering skips. */
		ipcx_chan *probe = NULL;

		rc = ipcx_open(j.ep.ping, IPCX_SEND, &probe);
		ipcx_close(probe);
		if (rc == 0 && strcmp(j.ep.cping, j.ep.ping)) {
			rc = ipcx_open(j.ep.cping, IPCX_SEND, &probe);
			ipcx_close(probe);
		}
		if (rc == IPCX_ENOPEER) {
			copy.status = BENCH_SKIP;
			ipc_note(copy.note, sizeof(copy.note), "open", rc);
			*bench_row_add(res) = copy;
			return;
		}
	}

	src = bench_alloc(j.cap);
	dst = bench_alloc(j.cap);
	if (j.batch) {
		bsrc = bench_alloc((size_t)j.batch * (j.size ? j.size : 1));
		bv = calloc((size_t)j.batch, sizeof(*bv));
	}
	j.plan = bench_plan_map(j.n, j.m);
	if (!src || !dst || !j.plan || (j.batch && (!bsrc || !bv))) {
		rc = IPCX_ENOMEM;
		goto fail;
	}
	if (j.ep.shape == BENCH_PIPE) {
		what = "ipcx_pipe";
		rc = ipcx_pipe(j.ep.opts[0] ? j.ep.opts : NULL, &j.ping_rd,
		               &j.ping_wr);
		if (rc == 0)
			rc = ipcx_pipe(j.ep.opts[0] ? j.ep.opts : NULL,
			               &j.pong_rd, &j.pong_wr);
		if (rc < 0)
			goto fail;
	}
	j.c = &c;
	if (bench_fork(&c, ipc_child, &j, err, sizeof(err)) < 0) {
		snprintf(note, sizeof(note), "%s", err);
		rc = IPCX_ESYS;
		goto fail;
	}
	rc = ipc_parent_open(&j, &c, &rx, &tx, &what, note, sizeof(note));
	if (rc == 0 && !strcmp(j.ep.scheme, "nats")) {
		what = "handshake";
		rc = bench_split_sync_parent(rx, tx, dst, j.cap, j.to);
	}
	if (rc < 0)
		goto fail;
	if (j.wait < 0) {
		bench_watchdog_victim = c.pid;
		bench_watchdog_start(j.to);
	}
	rc = ipc_rtt(&j, rx, tx, src, dst, false, &copy, &what);
	if (rc == 0)
		rc = ipc_stream(&j, rx, tx, src, false, NULL, &copy, &what);
	if (rc == 0 && j.batch) {
		rc = ipc_stream(&j, rx, tx, bsrc, false, bv, &bat, &what);
		if (rc < 0) {
			ipc_watchdog_end(&j, &bat, rc, what);
			ipc_row_error(&bat, &c, rc, what);
			goto done;
		}
	}
	ipc_watchdog_end(&j, &copy, rc, what);
	if (rc < 0)
		goto fail;
	if (j.zc) {
		rc = ipc_rtt(&j, rx, tx, src, dst, true, &zc, &what);
		if (rc == 0)
			rc =
			    ipc_stream(&j, rx, tx, src, true, NULL, &zc, &what);
		if (rc < 0) {
			ipc_row_error(&zc, &c, rc, what);
			goto done;
		}
	}
	goto done;
fail:
	if (note[0]) {
		copy.status = ipc_is_skip(rc) ? BENCH_SKIP : BENCH_FAIL;
		snprintf(copy.note, sizeof(copy.note), "%s", note);
	} else {
		ipc_row_error(&copy, &c, rc, what);
	}
	zc.status = copy.status;
	snprintf(zc.note, sizeof(zc.note), "not run: %.200s",
	         copy.status == BENCH_SKIP ? copy.note : "the copy row failed");
	bat.status = zc.status;
	snprintf(bat.note, sizeof(bat.note), "%s", zc.note);
done:
	ipc_close_pair(rx, tx);
	ipcx_close(j.ping_rd);
	ipcx_close(j.ping_wr);
	ipcx_close(j.pong_rd);
	ipcx_close(j.pong_wr);
	if (c.pid > 0) {
		bool ok = copy.status == BENCH_OK &&
		          (!j.zc || zc.status == BENCH_OK) &&
		          (!j.batch || bat.status == BENCH_OK);

		/* A healthy child exits once its channels close; after a
		 * failure it may be stuck in a wait, so it is killed. */
		st = bench_reap(&c, ok ? j.to : 0);
		if (st != 0 && ok) {
			copy.status = BENCH_FAIL;
			snprintf(copy.note, sizeof(copy.note),
			         "echo child exited with status %d", st);
		}
	}
	bench_ep_cleanup(&j.ep);
	bench_plan_unmap(j.plan);
	bench_free(src);
	bench_free(dst);
	bench_free(bsrc);
	free(bv);
	*bench_row_add(res) = copy;
	if (j.batch)
		*bench_row_add(res) = bat;
	if (j.zc) {
		*bench_row_add(res) = zc;
	}
}
