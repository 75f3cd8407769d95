/*
 * socketpeer.c - the driver behind zmq-peer and nng-peer. Per (transport,
 * size) row a forked child listens and echoes; the parent dials, times
 * round trips, then streams m messages that the child acknowledges with
 * {count, first, last receive time}; a last "bye" lets the child close
 * only after its acknowledgement was taken.
 */
#include "socketpeer.h"

#include "peer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

struct sp_ack {
	uint64_t count, first_ns, last_ns, bad;
};

struct sp_job {
	const struct bench_config *cfg;
	const struct sp_ops *ops;
	char url[160];
	size_t size, cap;
	long n, m, warm;
	int to;
};

static void sp_put_seq(void *p, size_t size, uint64_t seq)
{
	if (size >= sizeof(seq))
		memcpy(p, &seq, sizeof(seq));
}

static bool sp_seq_ok(const void *p, size_t size, uint64_t seq)
{
	uint64_t got;

	if (size < sizeof(got))
		return true;
	memcpy(&got, p, sizeof(got));
	return got == seq;
}

static int sp_child(void *arg, int ctl)
{
	struct sp_job *j = arg;
	const struct sp_ops *o = j->ops;
	char err[160];
	void *buf = bench_alloc(j->cap), *s;
	struct sp_ack ack;
	const char *what = "echo";

	s = o->listen(j->url, j->to, err, sizeof(err));
	if (!s || !buf) {
		bench_report(ctl, 'E', -1, "child: listen %s: %s", j->url,
		             s ? "out of memory" : err);
		return 1;
	}
	bench_report(ctl, 'R', 0, "ready");
	for (long i = 0; i < j->warm + j->n; i++) {
		long r = o->recv(s, buf, j->cap);

		if (r < 0 || o->send(s, buf, (size_t)r) < 0)
			goto fail;
	}
	what = "stream";
	memset(&ack, 0, sizeof(ack));
	for (long i = 0; i < j->m; i++) {
		long r = o->recv(s, buf, j->cap);

		if (r < 0)
			goto fail;
		ack.last_ns = bench_now_ns();
		if (i == 0)
			ack.first_ns = ack.last_ns;
		if ((size_t)r != j->size ||
		    !sp_seq_ok(buf, j->size, (uint64_t)i))
			ack.bad++;
		ack.count++;
	}
	if (o->send(s, &ack, sizeof(ack)) < 0)
		goto fail;
	o->recv(s, buf, j->cap); /* the parent's bye, or a timeout */
	o->close(s);
	bench_free(buf);
	return 0;
fail:
	bench_report(ctl, 'E', -1, "child: %s: %s", what, o->error());
	o->close(s);
	bench_free(buf);
	return 1;
}

/* What the pinger measures, in a page shared with the parent. */
struct sp_shared {
	struct bench_row row;
};

struct sp_ping_job {
	struct sp_job *j;
	struct sp_shared *sh;
};

/*
 * The timing side runs in a child of its own too: nng refuses to work in
 * a process forked after it was used, so the parent never touches the
 * library and forks both ends fresh for every row.
 */
static int sp_pinger(void *arg, int ctl)
{
	struct sp_ping_job *pj = arg;
	struct sp_job *j = pj->j;
	struct bench_row *row = &pj->sh->row;
	const struct sp_ops *o = j->ops;
	void *src = bench_alloc(j->cap), *dst = bench_alloc(j->cap), *s = NULL;
	uint64_t *t = malloc(sizeof(*t) * (size_t)j->n), t0;
	struct sp_ack ack;
	char err[160] = "";
	size_t size = j->size;

	(void)ctl;
	if (bench_cpu_parent >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(bench_cpu_parent, &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
	if (!src || !dst || !t) {
		snprintf(row->note, sizeof(row->note), "out of memory");
		return 1;
	}
	for (uint64_t end = bench_now_ns() + (uint64_t)j->to * 1000000u;
	     !s && bench_now_ns() < end && !bench_stop;) {
		s = o->dial(j->url, j->to, err, sizeof(err));
		if (!s)
			bench_sleep_ns(1000000);
	}
	if (!s) {
		snprintf(row->note, sizeof(row->note), "dial %s: %s", j->url,
		         err);
		return 1;
	}
	for (long i = 0; i < j->warm + j->n; i++) {
		long r;

		t0 = bench_now_ns();
		sp_put_seq(src, size, (uint64_t)i);
		if (o->send(s, src, size) < 0 ||
		    (r = o->recv(s, dst, j->cap)) < 0) {
			snprintf(row->note, sizeof(row->note), "round trip: %s",
			         o->error());
			goto fail;
		}
		if ((size_t)r != size || !sp_seq_ok(dst, size, (uint64_t)i)) {
			snprintf(row->note, sizeof(row->note), "bad echo");
			goto fail;
		}
		if (i >= j->warm)
			t[i - j->warm] = bench_now_ns() - t0;
	}
	bench_percentiles(t, (size_t)j->n, row);
	t0 = bench_now_ns();
	for (long i = 0; i < j->m; i++) {
		sp_put_seq(src, size, (uint64_t)i);
		if (o->send(s, src, size) < 0) {
			snprintf(row->note, sizeof(row->note), "stream: %s",
			         o->error());
			goto fail;
		}
	}
	if (o->recv(s, &ack, sizeof(ack)) != (long)sizeof(ack)) {
		snprintf(row->note, sizeof(row->note), "acknowledgement: %s",
		         o->error());
		goto fail;
	}
	o->send(s, "bye", 3);
	if (ack.count != (uint64_t)j->m || ack.bad || ack.last_ns <= t0) {
		snprintf(row->note, sizeof(row->note),
		         "stream: %llu of %ld arrived, %llu damaged",
		         (unsigned long long)ack.count, j->m,
		         (unsigned long long)ack.bad);
		goto fail;
	}
	row->has_tput = true;
	row->messages = row->received = j->m;
	row->msgs_per_s = (double)j->m / ((double)(ack.last_ns - t0) / 1e9);
	row->bytes_per_s = row->msgs_per_s * (double)size;
	row->status = BENCH_OK;
	o->close(s);
	return 0;
fail:
	o->close(s);
	return 1;
}

static void sp_row(const struct bench_config *cfg, struct bench_row *out_row,
                   const struct sp_ops *o, const char *tr, size_t size,
                   unsigned seq)
{
	struct bench_child echo = {-1, -1}, ping = {-1, -1};
	struct sp_shared *sh;
	struct bench_row row;
	struct bench_msg msg;
	struct sp_ping_job pj;
	struct sp_job j;
	char err[160] = "";
	long bound;
	int st;

	memset(&row, 0, sizeof(row));
	memset(&j, 0, sizeof(j));
	snprintf(row.name, sizeof(row.name), "%s %s", o->lib, tr);
	snprintf(row.wait, sizeof(row.wait), "kernel");
	row.kind = BENCH_PEER;
	row.size = size;
	row.status = BENCH_FAIL;
	j.cfg = cfg;
	j.ops = o;
	j.size = size;
	j.cap = size < sizeof(struct sp_ack) ? sizeof(struct sp_ack) : size;
	j.to = cfg->timeout_ms;
	bench_counts(cfg, size, &j.n, &j.m, &j.warm);
	if (!strcmp(tr, "ipc"))
		snprintf(j.url, sizeof(j.url),
		         "ipc:///tmp/ipcx-bench-%ld-%u.ipc", (long)getpid(),
		         seq);
	else
		snprintf(j.url, sizeof(j.url), "tcp://127.0.0.1:%d",
		         bench_free_port(SOCK_STREAM));
	snprintf(row.endpoint, sizeof(row.endpoint), "%s", j.url);

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
	          MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		snprintf(row.note, sizeof(row.note), "mmap: out of memory");
		*out_row = row;
		return;
	}
	sh->row = row;
	if (bench_fork(&echo, sp_child, &j, err, sizeof(err)) < 0) {
		snprintf(sh->row.note, sizeof(sh->row.note), "%s", err);
		goto out;
	}
	if (bench_wait_report(&echo, &msg, j.to) != 1 || msg.kind != 'R') {
		snprintf(sh->row.note, sizeof(sh->row.note), "%s",
		         msg.kind == 'E' ? msg.text
		                         : "the echo child did not start");
		goto out;
	}
	pj.j = &j;
	pj.sh = sh;
	if (bench_fork(&ping, sp_pinger, &pj, err, sizeof(err)) < 0) {
		snprintf(sh->row.note, sizeof(sh->row.note), "%s", err);
		goto out;
	}
	/* The pinger bounds each of its waits by j.to; its whole run is
	 * bounded by this, generously. */
	bound = 60000 + (j.warm + j.n + j.m) / 10;
	st = bench_reap(&ping, bound > 600000 ? 600000 : (int)bound);
	if (st != 0 && sh->row.status == BENCH_OK) {
		sh->row.status = BENCH_FAIL;
		snprintf(sh->row.note, sizeof(sh->row.note),
		         "the timing child %s",
		         st < 0 ? "died or was killed" : "failed");
	}
	if (sh->row.status != BENCH_OK && !sh->row.note[0])
		snprintf(sh->row.note, sizeof(sh->row.note),
		         "the timing child died");
out:
	if (echo.pid > 0) {
		if (sh->row.status != BENCH_OK &&
		    bench_wait_report(&echo, &msg, 0) == 1 && msg.kind == 'E')
			snprintf(sh->row.note, sizeof(sh->row.note), "%s",
			         msg.text);
		st = bench_reap(&echo, sh->row.status == BENCH_OK ? j.to : 0);
		if (st != 0 && sh->row.status == BENCH_OK) {
			sh->row.status = BENCH_FAIL;
			snprintf(sh->row.note, sizeof(sh->row.note),
			         "echo child exited with %d", st);
		}
	}
	if (!strcmp(tr, "ipc"))
		unlink(j.url + strlen("ipc://"));
	*out_row = sh->row;
	munmap(sh, sizeof(*sh));
}

int sp_main(int argc, char **argv, const struct sp_ops *ops,
            const char *version)
{
	static const char *const trs[] = {"ipc", "tcp"};
	struct bench_config cfg;
	struct bench_result res;
	char prog[32], tool[32], what[160];
	unsigned seq = 0;
	int rc;

	snprintf(prog, sizeof(prog), "%s-peer", ops->lib);
	snprintf(tool, sizeof(tool), "%s peer", ops->lib);
	snprintf(what, sizeof(what),
	         "Round trip and one-way throughput through %s PAIR sockets "
	         "over ipc:// and tcp://.",
	         ops->lib);
	rc = peer_parse(argc, argv, prog, what, &cfg);
	if (rc >= 0)
		return rc;
	peer_begin(&cfg, &res, tool, version);
	for (size_t s = 0; s < cfg.nsizes && !bench_stop; s++) {
		if (s > 0)
			fputc('\n', cfg.out);
		for (size_t i = 0; i < 2 && !bench_stop; i++) {
			struct bench_row best, row;

			for (int r = 0; r < (cfg.repeat > 1 ? cfg.repeat : 1);
			     r++) {
				sp_row(&cfg, &row, ops, trs[i], cfg.sizes[s],
				       ++seq);
				if (r == 0)
					best = row;
				else
					bench_row_merge(&best, &row);
			}
			peer_row(&cfg, &res, &best);
		}
	}
	return peer_end(&cfg, &res);
}
