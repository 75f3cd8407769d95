/*
 * idle.c - what an idle shm receiver costs: a child blocks in ipcx_recv()
 * on a shm:// channel with the default (adaptive) wake-up policy while the
 * parent stays silent for the window, then sends one message. The child
 * measures its own CPU time (getrusage) around the call, which also proves
 * the wake-up after a long park works.
 */
#include "bench.h"

#include "ipcx.h"

#include <string.h>
#include <unistd.h>

struct idle_job {
	char ep[320];
	uint64_t window_ns;
	int to;
};

static int idle_child(void *arg, int ctl)
{
	struct idle_job *j = arg;
	ipcx_chan *rx = NULL;
	uint64_t c0, c1, t0, t1, v[4];
	char buf[64];
	ssize_t r;
	int rc;

	rc = ipcx_open(j->ep, IPCX_RECV | IPCX_CREATE, &rx);
	if (rc < 0) {
		bench_report(ctl, 'E', rc, "child: open: %s", ipcx_errmsg());
		return 1;
	}
	bench_report(ctl, 'R', 0, "ready");
	c0 = bench_cpu_self_ns();
	t0 = bench_now_ns();
	r = ipcx_recv(rx, buf, sizeof(buf),
	              (int)(j->window_ns / BENCH_NS_PER_MS) + j->to);
	t1 = bench_now_ns();
	c1 = bench_cpu_self_ns();
	if (r < 0) {
		bench_report(ctl, 'E', (int)r, "child: recv: %s",
		             ipcx_errmsg());
		ipcx_close(rx);
		return 1;
	}
	v[0] = c1 - c0;
	v[1] = t1 - t0;
	v[2] = (uint64_t)r;
	v[3] = 0;
	bench_report_data(ctl, v);
	ipcx_close(rx);
	return 0;
}

void bench_idle_test(const struct bench_config *cfg, unsigned seq,
                     struct bench_result *res)
{
	struct bench_idle *idle = &res->idle;
	struct bench_child c = {-1, -1};
	struct idle_job j;
	struct bench_msg m;
	ipcx_chan *tx = NULL;
	char err[160];
	int rc, r;

	memset(idle, 0, sizeof(*idle));
	idle->done = true;
	idle->status = BENCH_FAIL;
	memset(&j, 0, sizeof(j));
	j.window_ns = (uint64_t)(cfg->idle_s * BENCH_NS_PER_S);
	j.to = cfg->timeout_ms;
	snprintf(j.ep, sizeof(j.ep), "shm://ipcx-bench-%ld-%u-idle",
	         (long)getpid(), seq);
	snprintf(idle->endpoint, sizeof(idle->endpoint), "%s", j.ep);
	idle->window_s = cfg->idle_s;

	if (bench_fork(&c, idle_child, &j, err, sizeof(err)) < 0) {
		snprintf(idle->note, sizeof(idle->note), "%s", err);
		return;
	}
	r = bench_wait_report(&c, &m, j.to);
	if (r != 1 || m.kind != 'R') {
		snprintf(idle->note, sizeof(idle->note), "%s",
		         r == 1 ? m.text : "the child did not get ready");
		if (r == 1 && (m.code == IPCX_ENOTSUP))
			idle->status = BENCH_SKIP;
		goto out;
	}
	rc = ipcx_open(j.ep, IPCX_SEND, &tx);
	if (rc < 0) {
		snprintf(idle->note, sizeof(idle->note), "open: %s",
		         ipcx_errmsg());
		goto out;
	}
	/* Stay silent for the window; the stop flag cuts it short. */
	for (uint64_t end = bench_now_ns() + j.window_ns;
	     bench_now_ns() < end && !bench_stop;)
		bench_sleep_ns(10 * BENCH_NS_PER_MS);
	rc = ipcx_send(tx, "wake", 4, j.to);
	if (rc < 0) {
		snprintf(idle->note, sizeof(idle->note), "send: %s",
		         ipcx_errmsg());
		goto out;
	}
	r = bench_wait_report(&c, &m, j.to);
	if (r != 1 || m.kind != 'D') {
		snprintf(idle->note, sizeof(idle->note), "%s",
		         r == 1 ? m.text : "the receiver did not wake up");
		goto out;
	}
	idle->status = BENCH_OK;
	idle->cpu_ms = (double)m.v[0] / BENCH_NS_PER_MS;
	idle->window_s = (double)m.v[1] / BENCH_NS_PER_S;
out:
	ipcx_close(tx);
	bench_reap(&c, idle->status == BENCH_OK ? j.to : 0);
	ipcx_unlink(j.ep);
}
