/*
 * fuzz-opts.c - libFuzzer harness for ipcx__opts_parse().
 *
 * Input: one byte choosing the scheme, then the option string ("k=v&k").
 * Checked on every input:
 *   - the result is 0 or IPCX_EOPTION (the only code options can give),
 *     with a bounded message, and no read past len (ASan);
 *   - on success every value is in its documented range and only the
 *     fields of options that were given changed from their defaults;
 *   - differential: the same options after a valid name for the scheme,
 *     through ipcx__ep_parse(), give the same verdict and the same fields.
 * Build and run: make fuzz.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ipcx__ep ep, ep2;
static char buf[IPCX__EP_MAX + 64];

/*
 * A valid name for each scheme, to build a whole endpoint around options
 * (System V: a path, with which proj= is valid; a key refuses it).
 */
static const char *const sample[IPCX__S_COUNT] = {
    [IPCX__S_FILE] = "/tmp/f",     [IPCX__S_MQ] = "q",
    [IPCX__S_SYSV_MQ] = "/tmp/k",  [IPCX__S_SHM] = "s",
    [IPCX__S_PIPE] = "",           [IPCX__S_FIFO] = "/tmp/f",
    [IPCX__S_SIGNAL] = "",         [IPCX__S_SEM] = "s",
    [IPCX__S_SYSV_SEM] = "/tmp/k", [IPCX__S_UNIX] = "/tmp/s",
    [IPCX__S_TCP] = "127.0.0.1:1", [IPCX__S_UDP] = "127.0.0.1:1",
    [IPCX__S_SEMSHM] = "s",        [IPCX__S_NATS] = "/s",
};

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz-opts: invariant broken: %s\n", what);
		abort();
	}
}

static int same_opts(const struct ipcx__ep *a, const struct ipcx__ep *b)
{
	return a->set == b->set && a->mode == b->mode &&
	       a->maxmsg == b->maxmsg && a->size == b->size &&
	       a->raw == b->raw && a->wait == b->wait && a->fd == b->fd &&
	       a->uid == b->uid && a->gid == b->gid &&
	       a->trust_any == b->trust_any && a->spin == b->spin &&
	       a->type == b->type && a->tls == b->tls &&
	       !strcmp(a->queue, b->queue) && !strcmp(a->durable, b->durable) &&
	       !strcmp(a->stream, b->stream) && !strcmp(a->creds, b->creds) &&
	       !strcmp(a->ca, b->ca) && a->msgsize == b->msgsize &&
	       a->prio == b->prio && a->proj == b->proj &&
	       a->value == b->value && a->slots == b->slots &&
	       a->sig == b->sig && a->nosync == b->nosync;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum ipcx__scheme s;
	const char *o;

	/* Every scheme has a sample name: a new scheme needs one here. */
	for (int i = 0; i < IPCX__S_COUNT; i++)
		check(sample[i] != NULL, "a sample name for every scheme");
	size_t n;
	int r, r2, len;

	if (size < 1)
		return 0;
	s = (enum ipcx__scheme)(data[0] % IPCX__S_COUNT);
	o = (const char *)data + 1;
	n = size - 1;

	ipcx__ep_defaults(&ep, s);
	r = ipcx__opts_parse(o, n, &ep);
	check(r == 0 || r == IPCX_EOPTION, "0 or IPCX_EOPTION");
	check(strlen(ipcx_errmsg()) < 512, "bounded message");
	check(ep.scheme == s && ep.name_len == 0, "options leave the name");
	if (r == 0) {
		ipcx__ep_defaults(&ep2, s);
		check(ep.mode <= 0777, "mode within 0777");
		check(ep.size > 0 || !(ep.set & IPCX__O_SIZE), "size > 0");
		check(ep.size <= (1u << 30), "size bounded");
		check(ep.maxmsg <= (1u << 30), "maxmsg bounded");
		check(ep.fd >= -1 && ep.type >= 0, "fd and type in range");
		check(ep.msgsize <= (16u << 20), "msgsize bounded");
		check(ep.msgsize > 0 || !(ep.set & IPCX__O_MSGSIZE),
		      "msgsize > 0");
		check(ep.prio <= 32767, "prio below MQ_PRIO_MAX");
		check(ep.proj >= 1 && ep.proj <= 255, "proj is an ftok id");
		check(ep.uid != (uid_t)-1 || !(ep.set & IPCX__O_UID),
		      "uid= never means 'anyone'");
		check(ep.gid != (gid_t)-1 || !(ep.set & IPCX__O_GID),
		      "gid= never means 'anyone'");
		/* Fields of options not given keep their defaults. */
		check((ep.set & IPCX__O_MODE) || ep.mode == ep2.mode, "mode");
		check((ep.set & IPCX__O_MAXMSG) || ep.maxmsg == ep2.maxmsg,
		      "maxmsg");
		check((ep.set & IPCX__O_FD) || ep.fd == ep2.fd, "fd");
		check((ep.set & IPCX__O_RAW) || !ep.raw, "raw");
		check((ep.set & IPCX__O_TRUST) || !ep.trust_any, "trust");
	}

	/* Differential against the whole-endpoint parser. */
	if (memchr(o, '\0', n))
		return 0;
	len = snprintf(buf, sizeof(buf), "%s://%s?", ipcx__scheme_name(s),
	               sample[s]);
	if ((size_t)len + n > IPCX__EP_MAX)
		return 0;
	memcpy(buf + len, o, n);
	r2 = ipcx__ep_parse(buf, (size_t)len + n, &ep2);
	check((r == 0) == (r2 == 0), "same verdict as ipcx__ep_parse");
	if (r == 0)
		check(same_opts(&ep, &ep2), "same fields as ipcx__ep_parse");
	else
		check(r2 == IPCX_EOPTION, "ipcx__ep_parse: also EOPTION");
	return 0;
}
