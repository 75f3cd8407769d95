/*
 * iceoryx.c - the iceoryx comparison: the same round trip and streaming
 * measurements as `ipcx bench`, through iceoryx's C binding (Debian's
 * libiceoryx-binding-c-dev 2.0.3). iox-roudi must be running.
 *
 * Two processes, each with its own runtime (initialised after fork, under
 * a unique name): the parent publishes on "ping" and subscribes to "pong",
 * the child the other way round. Row "iceoryx": both busy-poll
 * iox_sub_take_chunk(), to compare with ipcx's shm://?wait=spin; row
 * "iceoryx waitset": both sleep in a waitset until the subscriber has data,
 * to compare with shm://?wait=sleep. Every message is written
 * in place into a loaned chunk (one memcpy of the payload, like ipcx's
 * zero-copy rows); the receiver reads the sequence word and releases it.
 *
 * Streaming: blocking policies on both ends (the publisher waits for a
 * full subscriber queue instead of dropping); throughput runs from the
 * first loan to the child's last take, reported in an acknowledgement.
 */
#include "peer.h"

#include "iceoryx_binding_c/enums.h"
#include "iceoryx_binding_c/log.h"
#include "iceoryx_binding_c/publisher.h"
#include "iceoryx_binding_c/runtime.h"
#include "iceoryx_binding_c/subscriber.h"
#include "iceoryx_binding_c/types.h"
#include "iceoryx_binding_c/wait_set.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IOX_QUEUE 256 /* the most a subscriber queue holds here */

struct iox_ack {
	uint64_t count, first_ns, last_ns, bad;
};

/* One direction-pair of one process for one size. */
struct iox_link {
	iox_pub_storage_t pub_mem;
	iox_sub_storage_t sub_mem;
	iox_ws_storage_t ws_mem;
	iox_pub_t pub;
	iox_sub_t sub;
	iox_ws_t ws; /* NULL: busy-poll; else sleep in a waitset */
};

/* The two ways a receiver waits, one row each. */
static const char *const iox_mode_name[2] = {"iceoryx", "iceoryx waitset"};

struct iox_job {
	const struct bench_config *cfg;
	pid_t parent;
	int to;
};

static void iox_link_close(struct iox_link *l)
{
	if (l->ws)
		iox_ws_deinit(l->ws);
	l->ws = NULL;
	if (l->sub)
		iox_sub_deinit(l->sub);
	if (l->pub)
		iox_pub_deinit(l->pub);
	l->sub = NULL;
	l->pub = NULL;
}

static int iox_connected(void *arg)
{
	struct iox_link *l = arg;

	return iox_pub_has_subscribers(l->pub) &&
	       iox_sub_get_subscription_state(l->sub) ==
	           SubscribeState_SUBSCRIBED;
}

static int iox_link_open(struct iox_link *l, pid_t parent, size_t size,
                         int mode, int rep, bool is_parent, int to)
{
	iox_pub_options_t po;
	iox_sub_options_t so;
	char inst[64];
	uint64_t end = bench_now_ns() + (uint64_t)to * 1000000u;

	memset(l, 0, sizeof(*l));
	/* A service of its own per size and repetition: a subscriber of the
	 * previous round, not yet gone, must not take this round's data. */
	snprintf(inst, sizeof(inst), "%ld-%zu-%d-%d", (long)parent, size, mode,
	         rep);
	iox_pub_options_init(&po);
	po.historyCapacity = 0;
	po.subscriberTooSlowPolicy = ConsumerTooSlowPolicy_WAIT_FOR_CONSUMER;
	iox_sub_options_init(&so);
	so.queueCapacity = IOX_QUEUE;
	so.historyRequest = 0;
	so.queueFullPolicy = QueueFullPolicy_BLOCK_PRODUCER;
	l->pub = iox_pub_init(&l->pub_mem, "ipcx-bench", inst,
	                      is_parent ? "ping" : "pong", &po);
	l->sub = iox_sub_init(&l->sub_mem, "ipcx-bench", inst,
	                      is_parent ? "pong" : "ping", &so);
	if (!l->pub || !l->sub)
		return -1;
	if (mode == 1) {
		l->ws = iox_ws_init(&l->ws_mem);
		if (!l->ws || iox_ws_attach_subscriber_state(
		                  l->ws, l->sub, SubscriberState_HAS_DATA, 0,
		                  NULL) != WaitSetResult_SUCCESS)
			return -1;
	}
	/* Connection is asynchronous (RouDi makes it): wait for both ends,
	 * sleeping, so waiting does not steal the other side's CPU. */
	while (!iox_connected(l)) {
		if (bench_now_ns() > end || bench_stop)
			return -1;
		bench_sleep_ns(1000000);
	}
	return 0;
}

struct iox_take {
	iox_sub_t sub;
	const void *p;
};

static int iox_try_take(void *arg)
{
	struct iox_take *t = arg;

	return iox_sub_take_chunk(t->sub, &t->p) == ChunkReceiveResult_SUCCESS;
}

/*
 * The next chunk, NULL on timeout: busy-poll, or sleep in the waitset
 * (attached to "has data") between attempts.
 */
static const void *iox_take(struct iox_link *l, int to)
{
	struct iox_take t = {l->sub, NULL};
	uint64_t end;

	if (!l->ws)
		return peer_spin_until(iox_try_take, &t, to) == 0 ? t.p : NULL;
	end = bench_now_ns() + (uint64_t)to * 1000000u;
	for (;;) {
		iox_notification_info_t info[2];
		uint64_t missed = 0, now;
		struct timespec ts;

		if (iox_try_take(&t))
			return t.p;
		now = bench_now_ns();
		if (now >= end || bench_stop)
			return NULL;
		ts.tv_sec = (time_t)((end - now) / 1000000000u);
		ts.tv_nsec = (long)((end - now) % 1000000000u);
		iox_ws_timed_wait(l->ws, ts, info, 2, &missed);
	}
}

struct iox_loan {
	iox_pub_t pub;
	uint32_t size;
	void *p;
};

static int iox_try_loan(void *arg)
{
	struct iox_loan *l = arg;

	return iox_pub_loan_chunk(l->pub, &l->p, l->size) ==
	       AllocationResult_SUCCESS;
}

/* Loan a chunk, retrying while the pool is drained; NULL on timeout. */
static void *iox_loan(iox_pub_t pub, size_t size, int to)
{
	struct iox_loan l = {pub, (uint32_t)(size ? size : 1), NULL};

	return peer_spin_until(iox_try_loan, &l, to) == 0 ? l.p : NULL;
}

static void iox_put_seq(void *p, size_t size, uint64_t seq)
{
	if (size >= sizeof(seq))
		memcpy(p, &seq, sizeof(seq));
}

static uint64_t iox_get_seq(const void *p, size_t size)
{
	uint64_t seq = 0;

	if (size >= sizeof(seq))
		memcpy(&seq, p, sizeof(seq));
	return seq;
}

static void iox_runtime(const char *role, pid_t parent)
{
	char name[64];

	snprintf(name, sizeof(name), "ipcx-bench-%ld-%s", (long)parent, role);
	iox_set_loglevel(Iceoryx_LogLevel_Warn);
	/* If RouDi is not there the runtime waits for it; do not wait
	 * forever (SIGALRM's default action ends the process). */
	alarm(30);
	iox_runtime_init(name);
	alarm(0);
}

static int iox_reps(const struct bench_config *cfg)
{
	return cfg->repeat > 1 ? cfg->repeat : 1;
}

/* ---- the echo child ---- */

static int iox_child_size(struct iox_job *j, size_t size, int mode, int rep,
                          const void *src)
{
	const struct bench_config *cfg = j->cfg;
	struct iox_link l;
	struct iox_ack ack;
	long n, m, warm;

	bench_counts(cfg, size, &n, &m, &warm);
	if (iox_link_open(&l, j->parent, size, mode, rep, false, j->to) < 0)
		goto fail;
	for (long i = 0; i < warm + n; i++) {
		const void *in = iox_take(&l, j->to);
		uint64_t seq;
		void *out;

		if (!in)
			goto fail;
		seq = iox_get_seq(in, size);
		iox_sub_release_chunk(l.sub, in);
		out = iox_loan(l.pub, size, j->to);
		if (!out)
			goto fail;
		memcpy(out, src, size);
		iox_put_seq(out, size, seq);
		iox_pub_publish_chunk(l.pub, out);
	}
	memset(&ack, 0, sizeof(ack));
	for (long i = 0; i < m; i++) {
		const void *in = iox_take(&l, j->to);

		if (!in)
			goto fail;
		ack.last_ns = bench_now_ns();
		if (i == 0)
			ack.first_ns = ack.last_ns;
		if (iox_get_seq(in, size) != (size >= 8 ? (uint64_t)i : 0))
			ack.bad++;
		iox_sub_release_chunk(l.sub, in);
		ack.count++;
	}
	{
		void *out = iox_loan(l.pub, sizeof(ack), j->to);

		if (!out)
			goto fail;
		memcpy(out, &ack, sizeof(ack));
		iox_pub_publish_chunk(l.pub, out);
	}
	/* Wait for the parent's word that it has the acknowledgement: a
	 * publisher that goes away may take its last chunk with it. */
	{
		const void *bye = iox_take(&l, j->to);

		if (bye)
			iox_sub_release_chunk(l.sub, bye);
	}
	iox_link_close(&l);
	return 0;
fail:
	iox_link_close(&l);
	return -1;
}

static int iox_child(void *arg, int ctl)
{
	struct iox_job *j = arg;
	size_t big = 64;
	void *src;
	int rc = 0;

	for (size_t s = 0; s < j->cfg->nsizes; s++)
		if (j->cfg->sizes[s] > big)
			big = j->cfg->sizes[s];
	src = bench_alloc(big);
	iox_runtime("echo", j->parent);
	bench_report(ctl, 'R', 0, "ready");
	/* The same plan as the parent: sizes, modes, repetitions. */
	for (size_t s = 0; s < j->cfg->nsizes && src && rc == 0; s++)
		for (int mode = 0; mode < 2 && rc == 0; mode++)
			for (int r = 0; r < iox_reps(j->cfg) && rc == 0; r++)
				if (iox_child_size(j, j->cfg->sizes[s], mode, r,
				                   src) < 0)
					rc = 1;
	bench_free(src);
	close(ctl);
	/* exit(), not _exit(): the runtime deregisters from RouDi in its
	 * destructor, else /tmp keeps this process's files. */
	exit(rc);
}

/* ---- the parent ---- */

static void iox_row(const struct bench_config *cfg, struct bench_row *out_row,
                    pid_t parent, size_t size, int mode, int rep, void *src,
                    uint64_t *t)
{
	struct bench_row row;
	struct iox_link l;
	struct iox_ack ack;
	long n, m, warm;
	int to = cfg->timeout_ms;
	uint64_t t0;
	const void *in;

	memset(&row, 0, sizeof(row));
	snprintf(row.name, sizeof(row.name), "%s", iox_mode_name[mode]);
	snprintf(row.endpoint, sizeof(row.endpoint), "iceoryx_binding_c, %s",
	         mode ? "waitset on has-data, then take_chunk"
	              : "busy-poll take_chunk");
	snprintf(row.wait, sizeof(row.wait), "%s", mode ? "sleep" : "spin");
	row.kind = BENCH_PEER;
	row.zero_copy = true;
	row.size = size;
	row.status = BENCH_FAIL;
	bench_counts(cfg, size, &n, &m, &warm);

	if (iox_link_open(&l, parent, size, mode, rep, true, to) < 0) {
		snprintf(row.note, sizeof(row.note),
		         "no connection to the echo child within %d ms", to);
		goto out;
	}
	for (long i = 0; i < warm + n; i++) {
		void *out;

		t0 = bench_now_ns();
		out = iox_loan(l.pub, size, to);
		if (!out) {
			snprintf(row.note, sizeof(row.note), "loan timed out");
			goto out;
		}
		memcpy(out, src, size);
		iox_put_seq(out, size, (uint64_t)i);
		iox_pub_publish_chunk(l.pub, out);
		in = iox_take(&l, to);
		if (!in) {
			snprintf(row.note, sizeof(row.note),
			         "no echo within %d ms", to);
			goto out;
		}
		if (iox_get_seq(in, size) != (size >= 8 ? (uint64_t)i : 0)) {
			snprintf(row.note, sizeof(row.note), "bad echo");
			iox_sub_release_chunk(l.sub, in);
			goto out;
		}
		iox_sub_release_chunk(l.sub, in);
		if (i >= warm)
			t[i - warm] = bench_now_ns() - t0;
	}
	bench_percentiles(t, (size_t)n, &row);

	t0 = bench_now_ns();
	for (long i = 0; i < m; i++) {
		void *out = iox_loan(l.pub, size, to);

		if (!out) {
			snprintf(row.note, sizeof(row.note), "loan timed out");
			goto out;
		}
		memcpy(out, src, size);
		iox_put_seq(out, size, (uint64_t)i);
		iox_pub_publish_chunk(l.pub, out);
	}
	in = iox_take(&l, to);
	if (!in) {
		snprintf(row.note, sizeof(row.note),
		         "no acknowledgement within %d ms", to);
		goto out;
	}
	memcpy(&ack, in, sizeof(ack));
	iox_sub_release_chunk(l.sub, in);
	{
		/* Tell the child it may tear down. */
		void *out = iox_loan(l.pub, size, to);

		if (out) {
			memset(out, 0, size < 8 ? size : 8);
			iox_pub_publish_chunk(l.pub, out);
		}
	}
	if (ack.count != (uint64_t)m || ack.bad || ack.last_ns <= t0) {
		snprintf(row.note, sizeof(row.note),
		         "stream: %llu of %ld arrived, %llu damaged",
		         (unsigned long long)ack.count, m,
		         (unsigned long long)ack.bad);
		goto out;
	}
	row.has_tput = true;
	row.messages = row.received = m;
	row.msgs_per_s = (double)m / ((double)(ack.last_ns - t0) / 1e9);
	row.bytes_per_s = row.msgs_per_s * (double)size;
	row.status = BENCH_OK;
out:
	iox_link_close(&l);
	*out_row = row;
}

int main(int argc, char **argv)
{
	struct bench_config cfg;
	struct bench_result res;
	struct bench_child c;
	struct bench_msg msg;
	struct iox_job j;
	size_t big = 64;
	long maxn = 0;
	void *src;
	uint64_t *t;
	char err[160];
	int rc;

	rc = peer_parse(argc, argv, "iceoryx-peer",
	                "Round trip and one-way throughput through iceoryx "
	                "(C binding, busy-poll).\n"
	                "iox-roudi must be running.",
	                &cfg);
	if (rc >= 0)
		return rc;
	if (access("/tmp/roudi", F_OK) != 0) {
		fprintf(stderr, "iceoryx-peer: iox-roudi is not running "
		                "(start it first: iox-roudi -c "
		                "bench/peers/roudi.toml)\n");
		return 1;
	}
	for (size_t s = 0; s < cfg.nsizes; s++) {
		long n, m, w;

		bench_counts(&cfg, cfg.sizes[s], &n, &m, &w);
		if (n > maxn)
			maxn = n;
		if (cfg.sizes[s] > big)
			big = cfg.sizes[s];
	}
	src = bench_alloc(big);
	t = malloc(sizeof(*t) * (size_t)maxn);
	if (!src || !t) {
		fprintf(stderr, "iceoryx-peer: out of memory\n");
		return 1;
	}
	peer_begin(&cfg, &res, "iceoryx peer", "2.0.3");
	j.cfg = &cfg;
	j.parent = getpid();
	j.to = cfg.timeout_ms;
	/* Fork before any runtime exists: each process makes its own. */
	if (bench_fork(&c, iox_child, &j, err, sizeof(err)) < 0) {
		fprintf(stderr, "iceoryx-peer: %s\n", err);
		return 1;
	}
	iox_runtime("main", j.parent);
	if (bench_wait_report(&c, &msg, 30000) != 1) {
		fprintf(stderr, "iceoryx-peer: the echo child did not start\n");
		bench_reap(&c, 0);
		return 1;
	}
	for (size_t s = 0; s < cfg.nsizes && !bench_stop; s++) {
		for (int mode = 0; mode < 2 && !bench_stop; mode++) {
			struct bench_row best, row;

			for (int r = 0; r < iox_reps(&cfg); r++) {
				iox_row(&cfg, &row, j.parent, cfg.sizes[s],
				        mode, r, src, t);
				if (r == 0)
					best = row;
				else
					bench_row_merge(&best, &row);
			}
			peer_row(&cfg, &res, &best);
		}
	}
	rc = bench_reap(&c, cfg.timeout_ms);
	if (rc != 0)
		fprintf(stderr, "iceoryx-peer: the echo child %s\n",
		        rc < 0 ? "had to be killed" : "failed");
	rc = peer_end(&cfg, &res) || rc != 0;
	free(t);
	bench_free(src);
	/* Return from main: the runtime's destructor deregisters. */
	return rc;
}
