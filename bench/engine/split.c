/*
 * split.c - rows whose echo child opens its own endpoint: an item
 * "PARENT@CHILD" (nats:// for now) and the handshake those rows need.
 *
 * A NATS cluster row puts the parent (the publisher of ping, the subscriber
 * of pong) on node A and the echo child on node C:
 *
 *   -t 'nats://127.0.0.1:4222@nats://127.0.0.1:4224'
 *
 * Both halves resolve with the same sequence number, so templates get the
 * same subjects; the parent opens PARENT's ping and pong, the child CHILD's.
 *
 * A subscription made on one node reaches the others through the routes a
 * little later, and NATS drops what is published to a subject nobody has
 * subscribed to yet: the first ping could vanish. So, before the timed
 * round trips, the parent sends 1-byte probes until one comes back (both
 * subscriptions have then reached the other's node), then a 'g' the child
 * echoes last: everything that comes back before that 'g' is a probe, and
 * nothing of the handshake is left in flight once the parent has it.
 */
#include "bench.h"

#include "ipcx.h"

#include <string.h>

/* How long the parent waits for a probe's echo before the next probe. */
#define SPLIT_PROBE_MS 100

/* The '@' before "scheme://" in item, or NULL (an '@' of user:pass@host is
 * followed by the host, never by a scheme). */
const char *bench_ep_child(const char *item)
{
	for (const char *at = strchr(item, '@'); at; at = strchr(at + 1, '@')) {
		const char *p = at + 1;

		while ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		       *p == '-')
			p++;
		if (p > at + 1 && !strncmp(p, "://", 3))
			return at;
	}
	return NULL;
}

/* The subject and options of a resolved nats:// endpoint, or "". */
static const char *split_subject(const char *ep)
{
	const char *s = strchr(ep + strlen("nats://"), '/');

	return s ? s : "";
}

int bench_ep_resolve_split(const char *item, unsigned seq, struct bench_ep *ep,
                           char *err, size_t errcap)
{
	const char *at = bench_ep_child(item);
	char parent[sizeof(ep->ping)];
	struct bench_ep child;

	if (!at || (size_t)(at - item) >= sizeof(parent)) {
		snprintf(err, errcap, "endpoint '%s' is too long", item);
		return -1;
	}
	memcpy(parent, item, (size_t)(at - item));
	parent[at - item] = '\0';
	if (bench_ep_resolve(parent, seq, ep, err, errcap) < 0 ||
	    bench_ep_resolve(at + 1, seq, &child, err, errcap) < 0)
		return -1;
	if (strcmp(ep->scheme, "nats") || strcmp(child.scheme, "nats")) {
		snprintf(err, errcap,
		         "'%s': only nats:// takes the echo child's own "
		         "endpoint after '@'",
		         item);
		return -1;
	}
	if (strcmp(split_subject(ep->ping), split_subject(child.ping))) {
		snprintf(err, errcap,
		         "'%s': both sides must name the same subject and "
		         "options (or no subject: "
		         "nats://HOST:PORT@nats://HOST:PORT)",
		         item);
		return -1;
	}
	memcpy(ep->cping, child.ping, sizeof(ep->cping));
	memcpy(ep->cpong, child.pong, sizeof(ep->cpong));
	return 0;
}

long bench_split_sync_parent(ipcx_chan *rx, ipcx_chan *tx, void *buf,
                             size_t cap, int to)
{
	uint64_t end = bench_now_ns() + (uint64_t)to * BENCH_NS_PER_MS;
	ssize_t r = 0;
	long rc;

	/* Probe until one comes back: both subscriptions are in place. */
	do {
		if (bench_now_ns() >= end || bench_stop)
			return IPCX_ETIMEDOUT;
		rc = ipcx_send(tx, "p", 1, to);
		if (rc < 0)
			return rc;
		r = ipcx_recv(rx, buf, cap, SPLIT_PROBE_MS);
	} while (r == IPCX_ETIMEDOUT);
	if (r < 0)
		return r;
	/* Then 'g', the child's last echo: later probes' echoes come first. */
	rc = ipcx_send(tx, "g", 1, to);
	while (rc == 0) {
		r = ipcx_recv(rx, buf, cap, to);
		if (r < 0)
			return r;
		if (r == 1 && *(const char *)buf == 'g')
			break;
	}
	return rc;
}

long bench_split_sync_child(ipcx_chan *rx, ipcx_chan *tx, void *buf, size_t cap,
                            int to)
{
	for (;;) {
		ssize_t r = ipcx_recv(rx, buf, cap, to);
		long rc;

		if (r < 0)
			return r;
		rc = ipcx_send(tx, buf, (size_t)r, to);
		if (rc < 0)
			return rc;
		if (r == 1 && *(const char *)buf == 'g')
			return 0;
	}
}
