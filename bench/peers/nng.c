/*
 * nng.c - the nng comparison (libnng-dev): pair1 sockets over ipc:// and
 * tcp://, driven by socketpeer.c.
 */
#include "socketpeer.h"

#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>
#include <stdio.h>
#include <stdlib.h>

static _Thread_local int np_last;

struct np_sock {
	nng_socket s;
};

static void np_close(void *p)
{
	struct np_sock *n = p;

	if (!n)
		return;
	nng_close(n->s);
	free(n);
}

static void *np_open(const char *url, int to, bool listen, char *err,
                     size_t cap)
{
	struct np_sock *n = calloc(1, sizeof(*n));
	int rv;

	if (!n) {
		snprintf(err, cap, "out of memory");
		return NULL;
	}
	rv = nng_pair1_open(&n->s);
	if (rv) {
		snprintf(err, cap, "%s", nng_strerror(rv));
		free(n);
		return NULL;
	}
	rv = nng_socket_set_ms(n->s, NNG_OPT_RECVTIMEO, to);
	if (!rv)
		rv = nng_socket_set_ms(n->s, NNG_OPT_SENDTIMEO, to);
	if (!rv)
		rv = listen ? nng_listen(n->s, url, NULL, 0)
		            : nng_dial(n->s, url, NULL, 0);
	if (rv) {
		snprintf(err, cap, "%s", nng_strerror(rv));
		np_close(n);
		return NULL;
	}
	return n;
}

static void *np_listen(const char *url, int to, char *err, size_t cap)
{
	return np_open(url, to, true, err, cap);
}

static void *np_dial(const char *url, int to, char *err, size_t cap)
{
	/* A synchronous dial: fails while nobody listens; the driver
	 * retries. */
	return np_open(url, to, false, err, cap);
}

static int np_send(void *p, const void *buf, size_t len)
{
	struct np_sock *n = p;

	np_last = nng_send(n->s, (void *)buf, len, 0);
	return np_last ? -1 : 0;
}

static long np_recv(void *p, void *buf, size_t cap)
{
	struct np_sock *n = p;
	size_t sz = cap;

	np_last = nng_recv(n->s, buf, &sz, 0);
	return np_last ? -1 : (long)sz;
}

static const char *np_error(void)
{
	return nng_strerror(np_last);
}

int main(int argc, char **argv)
{
	struct sp_ops ops = {
	    .lib = "nng",
	    .listen = np_listen,
	    .dial = np_dial,
	    .send = np_send,
	    .recv = np_recv,
	    .close = np_close,
	    .error = np_error,
	};

	return sp_main(argc, argv, &ops, nng_version());
}
