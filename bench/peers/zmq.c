/*
 * zmq.c - the ZeroMQ comparison (libzmq3-dev): ZMQ_PAIR sockets over
 * ipc:// and tcp://, driven by socketpeer.c. Each process makes its own
 * context after fork (a context does not survive fork).
 */
#include "socketpeer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <zmq.h>

struct zp_sock {
	void *ctx, *s;
};

static void zp_close(void *p)
{
	struct zp_sock *z = p;

	if (!z)
		return;
	if (z->s)
		zmq_close(z->s);
	if (z->ctx)
		zmq_ctx_term(z->ctx);
	free(z);
}

static void *zp_open(const char *url, int to, bool bind, char *err, size_t cap)
{
	struct zp_sock *z = calloc(1, sizeof(*z));
	/* Linger long enough for a last queued message to leave. */
	int linger = to;

	if (!z) {
		snprintf(err, cap, "out of memory");
		return NULL;
	}
	z->ctx = zmq_ctx_new();
	z->s = z->ctx ? zmq_socket(z->ctx, ZMQ_PAIR) : NULL;
	if (!z->s || zmq_setsockopt(z->s, ZMQ_RCVTIMEO, &to, sizeof(to)) ||
	    zmq_setsockopt(z->s, ZMQ_SNDTIMEO, &to, sizeof(to)) ||
	    zmq_setsockopt(z->s, ZMQ_LINGER, &linger, sizeof(linger)) ||
	    (bind ? zmq_bind(z->s, url) : zmq_connect(z->s, url))) {
		snprintf(err, cap, "%s", zmq_strerror(zmq_errno()));
		zp_close(z);
		return NULL;
	}
	return z;
}

static void *zp_listen(const char *url, int to, char *err, size_t cap)
{
	return zp_open(url, to, true, err, cap);
}

static void *zp_dial(const char *url, int to, char *err, size_t cap)
{
	/* zmq_connect succeeds before the peer exists and connects later. */
	return zp_open(url, to, false, err, cap);
}

static int zp_send(void *p, const void *buf, size_t len)
{
	struct zp_sock *z = p;

	return zmq_send(z->s, buf, len, 0) == (int)len ? 0 : -1;
}

static long zp_recv(void *p, void *buf, size_t cap)
{
	struct zp_sock *z = p;
	int r = zmq_recv(z->s, buf, cap, 0);

	/* zmq_recv reports the full length of a truncated message. */
	if (r < 0 || (size_t)r > cap) {
		if (r >= 0)
			errno = EMSGSIZE;
		return -1;
	}
	return r;
}

static const char *zp_error(void)
{
	return zmq_strerror(zmq_errno());
}

int main(int argc, char **argv)
{
	static char version[32];
	struct sp_ops ops = {
	    .lib = "zmq",
	    .listen = zp_listen,
	    .dial = zp_dial,
	    .send = zp_send,
	    .recv = zp_recv,
	    .close = zp_close,
	    .error = zp_error,
	};
	int maj, min, pat;

	zmq_version(&maj, &min, &pat);
	snprintf(version, sizeof(version), "%d.%d.%d", maj, min, pat);
	return sp_main(argc, argv, &ops, version);
}
