/*
 * socketpeer.h - one driver for the message-library peers (ZeroMQ, nng):
 * a PAIR socket per process over ipc:// and tcp://, the same round trip and
 * streaming measurements as `ipcx bench`. Each library fills the ops.
 */
#ifndef IPCX_SOCKETPEER_H
#define IPCX_SOCKETPEER_H

#include <stdbool.h>
#include <stddef.h>

struct sp_ops {
	const char *lib; /* "zmq" */
	/* A PAIR socket bound (listen) or connected (dial) to url, with
	 * send and receive timeouts of to ms; NULL with err set on failure.
	 * dial may fail while nobody listens: the driver retries. */
	void *(*listen)(const char *url, int to, char *err, size_t cap);
	void *(*dial)(const char *url, int to, char *err, size_t cap);
	/* 0, or -1 (timeout, error). */
	int (*send)(void *s, const void *buf, size_t len);
	/* The message length, or -1 (timeout, error, too long for cap). */
	long (*recv)(void *s, void *buf, size_t cap);
	void (*close)(void *s);
	/* A text for the last failure. */
	const char *(*error)(void);
};

/* sp_main - the whole program: flags, rows, output; returns exit status. */
int sp_main(int argc, char **argv, const struct sp_ops *ops,
            const char *version);

#endif
