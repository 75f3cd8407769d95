/*
 * options.c - parse and validate the options of an endpoint, the
 * "key=value&key" after '?': each key against the schemes that take it,
 * each value against its range, before any system call. It reads at most
 * len bytes and is fuzzed (tests/fuzz/fuzz-opts.c).
 */
#include "internal.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#define BIT(s) (1u << (s))

/* A character of a bare name: [A-Za-z0-9._-]. */
bool ipcx__name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* Decimal digits only, no sign, no overflow past max. */
int ipcx__hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int ipcx__parse_uint(const char *v, size_t n, unsigned long long max,
                     unsigned long long *out)
{
	unsigned long long x = 0;

	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		unsigned d = (unsigned)(v[i] - '0');
		if (d > max || x > (max - d) / 10)
			return -1;
		x = x * 10 + d;
	}
	*out = x;
	return 0;
}

/* A byte count with an optional binary suffix: 4096, 64K, 4M, 1G. */
static int parse_size(const char *v, size_t n, unsigned long long max,
                      unsigned long long *out)
{
	unsigned shift = 0;
	unsigned long long x;

	if (n > 1) {
		switch (v[n - 1]) {
		case 'k':
		case 'K':
			shift = 10;
			break;
		case 'm':
		case 'M':
			shift = 20;
			break;
		case 'g':
		case 'G':
			shift = 30;
			break;
		}
		if (shift)
			n--;
	}
	if (ipcx__parse_uint(v, n, max >> shift, &x) < 0)
		return -1;
	*out = x << shift;
	return 0;
}

/*
 * A signal for signal://?sig=: "USR1", "USR2", "RTMIN", "RTMIN+N",
 * "RTMAX", "RTMAX-N" (each with or without "SIG"), or a number that is
 * one of those. Only these: the others mean something already (SIGTERM
 * ends a process, SIGKILL and SIGSTOP cannot be waited for). SIGRTMIN is
 * a run-time value in glibc, hence no table.
 */
static int parse_sig(const char *v, size_t n, int *sig)
{
	unsigned long long x;
	int s;

	if (n >= 3 && !memcmp(v, "SIG", 3)) {
		v += 3;
		n -= 3;
	}
	if (n == 4 && !memcmp(v, "USR1", 4))
		s = SIGUSR1;
	else if (n == 4 && !memcmp(v, "USR2", 4))
		s = SIGUSR2;
	else if (n >= 5 && !memcmp(v, "RTMIN", 5)) {
		if (n == 5)
			x = 0;
		else if (v[5] != '+' ||
		         ipcx__parse_uint(v + 6, n - 6, 64, &x) < 0)
			return -1;
		s = SIGRTMIN + (int)x;
	} else if (n >= 5 && !memcmp(v, "RTMAX", 5)) {
		if (n == 5)
			x = 0;
		else if (v[5] != '-' ||
		         ipcx__parse_uint(v + 6, n - 6, 64, &x) < 0)
			return -1;
		s = SIGRTMAX - (int)x;
	} else if (ipcx__parse_uint(v, n, 64, &x) == 0) {
		s = (int)x;
	} else {
		return -1;
	}
	if (s != SIGUSR1 && s != SIGUSR2 && (s < SIGRTMIN || s > SIGRTMAX))
		return -1;
	*sig = s;
	return 0;
}

/* One option: its key, the schemes that take it, and its parser. */
struct opt_info {
	const char *key;
	unsigned bit;     /* IPCX__O_* */
	unsigned schemes; /* BIT(IPCX__S_*) */
	const char *hint; /* what a good value looks like */
};

#define NAMED                                                         \
	(BIT(IPCX__S_FILE) | BIT(IPCX__S_MQ) | BIT(IPCX__S_SYSV_MQ) | \
	 BIT(IPCX__S_SHM) | BIT(IPCX__S_FIFO) | BIT(IPCX__S_SEM) |    \
	 BIT(IPCX__S_SYSV_SEM) | BIT(IPCX__S_UNIX) | BIT(IPCX__S_SEMSHM))
#define STREAMS                                                      \
	(BIT(IPCX__S_PIPE) | BIT(IPCX__S_FIFO) | BIT(IPCX__S_UNIX) | \
	 BIT(IPCX__S_TCP))

static const struct opt_info opts[] = {
    {"mode", IPCX__O_MODE, NAMED, "octal permissions such as 0600"},
    {"maxmsg", IPCX__O_MAXMSG,
     STREAMS | BIT(IPCX__S_FILE) | BIT(IPCX__S_MQ) | BIT(IPCX__S_SEMSHM),
     "a byte count up to 1G, such as 65536 or 16M (mq: messages)"},
    {"size", IPCX__O_SIZE, BIT(IPCX__S_SHM),
     "a byte count from 1 to 1G, such as 4M"},
    {"raw", IPCX__O_RAW, BIT(IPCX__S_PIPE) | BIT(IPCX__S_FIFO),
     "raw, raw=1 or raw=0"},
    {"wait", IPCX__O_WAIT, BIT(IPCX__S_SHM), "spin, adaptive or sleep"},
    {"spin", IPCX__O_SPIN, BIT(IPCX__S_SHM),
     "a count of polls up to 1000000000"},
    {"fd", IPCX__O_FD, BIT(IPCX__S_PIPE), "a file descriptor number"},
    {"uid", IPCX__O_UID, BIT(IPCX__S_UNIX), "a numeric user id"},
    {"gid", IPCX__O_GID, BIT(IPCX__S_UNIX), "a numeric group id"},
    {"trust", IPCX__O_TRUST, NAMED, "owner or any"},
    {"type", IPCX__O_TYPE, BIT(IPCX__S_SYSV_MQ),
     "a message type, 1 or more (0: receive any)"},
    {"msgsize", IPCX__O_MSGSIZE, BIT(IPCX__S_MQ),
     "a byte count from 1 to 16M, such as 8192"},
    {"prio", IPCX__O_PRIO, BIT(IPCX__S_MQ), "a priority from 0 to 32767"},
    {"proj", IPCX__O_PROJ, BIT(IPCX__S_SYSV_MQ) | BIT(IPCX__S_SYSV_SEM),
     "an ftok project id from 1 to 255"},
    {"sig", IPCX__O_SIG, BIT(IPCX__S_SIGNAL),
     "RTMIN+N, RTMAX-N, a real-time signal number, USR1 or USR2"},
    {"fsync", IPCX__O_FSYNC, BIT(IPCX__S_FILE), "fsync=1 or fsync=0"},
    {"queue", IPCX__O_QUEUE, BIT(IPCX__S_NATS),
     "a queue group name: letters, digits, '.', '_', '-'"},
    {"durable", IPCX__O_DURABLE, BIT(IPCX__S_NATS),
     "a durable consumer name: letters, digits, '_', '-'"},
    {"stream", IPCX__O_STREAM, BIT(IPCX__S_NATS),
     "a JetStream stream name: letters, digits, '_', '-'"},
    {"creds", IPCX__O_CREDS, BIT(IPCX__S_NATS),
     "the absolute path of a NATS credentials file"},
    {"tls", IPCX__O_TLS, BIT(IPCX__S_NATS), "tls, tls=1 or tls=0"},
    {"ca", IPCX__O_CA, BIT(IPCX__S_NATS),
     "the absolute path of a PEM file of trusted certificates"},
    {"value", IPCX__O_VALUE, BIT(IPCX__S_SEM) | BIT(IPCX__S_SYSV_SEM),
     "an initial count from 0 to 32767"},
    {"slots", IPCX__O_SLOTS, BIT(IPCX__S_SEMSHM),
     "a slot count from 1 to 32767"},
};

#define N_OPTS (sizeof(opts) / sizeof(opts[0]))

/* "k1, k2, ..." of the options scheme s takes, for error messages. */
static void known_opts(enum ipcx__scheme s, char *buf, size_t cap)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < N_OPTS; i++) {
		size_t k;
		if (!(opts[i].schemes & BIT(s)))
			continue;
		k = strlen(opts[i].key);
		if (used + k + 3 >= cap)
			break;
		if (used) {
			memcpy(buf + used, ", ", 2);
			used += 2;
		}
		memcpy(buf + used, opts[i].key, k);
		used += k;
		buf[used] = '\0';
	}
	if (!used)
		snprintf(buf, cap, "none");
}

static int opt_value(struct ipcx__ep *ep, const struct opt_info *o,
                     const char *v, size_t n, bool has_v)
{
	const char *sch = ipcx__scheme_name(ep->scheme);
	unsigned long long x;

	/* Only the flags "raw" and "tls" may go without a value. */
	if (!has_v && o->bit != IPCX__O_RAW && o->bit != IPCX__O_TLS)
		return ipcx__err(IPCX_EOPTION,
		                 "%s://: option '%s' needs a value (%s)", sch,
		                 o->key, o->hint);
	switch (o->bit) {
	case IPCX__O_MODE:
		x = 0;
		if (n == 0 || n > 4)
			goto bad;
		for (size_t i = 0; i < n; i++) {
			if (v[i] < '0' || v[i] > '7')
				goto bad;
			x = x * 8 + (unsigned)(v[i] - '0');
		}
		if (x > 0777)
			goto bad;
		ep->mode = (unsigned)x;
		return 0;
	case IPCX__O_MAXMSG:
		if (parse_size(v, n, 1ull << 30, &x) < 0)
			goto bad;
		ep->maxmsg = (size_t)x;
		return 0;
	case IPCX__O_SIZE:
		if (parse_size(v, n, 1ull << 30, &x) < 0 || x == 0)
			goto bad;
		ep->size = (size_t)x;
		return 0;
	case IPCX__O_RAW:
	case IPCX__O_TLS:
		if (has_v && !(n == 1 && (v[0] == '1' || v[0] == '0')))
			goto bad;
		*(o->bit == IPCX__O_RAW ? &ep->raw : &ep->tls) =
		    !has_v || v[0] == '1';
		return 0;
	case IPCX__O_QUEUE:
	case IPCX__O_DURABLE:
	case IPCX__O_STREAM: {
		char *dst = o->bit == IPCX__O_QUEUE     ? ep->queue
		            : o->bit == IPCX__O_DURABLE ? ep->durable
		                                        : ep->stream;
		if (n == 0 || n > IPCX__NATS_NAME_MAX)
			goto bad;
		for (size_t i = 0; i < n; i++)
			/* JetStream names may not hold '.', queue groups may.
			 */
			if (!ipcx__name_char(v[i]) ||
			    (v[i] == '.' && o->bit != IPCX__O_QUEUE))
				goto bad;
		memcpy(dst, v, n);
		dst[n] = '\0';
		return 0;
	}
	case IPCX__O_CREDS:
	case IPCX__O_CA: {
		char *dst = o->bit == IPCX__O_CREDS ? ep->creds : ep->ca;
		if (n == 0 || n > IPCX__OPT_PATH_MAX || v[0] != '/')
			goto bad;
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)v[i] < 0x20)
				goto bad;
		memcpy(dst, v, n);
		dst[n] = '\0';
		return 0;
	}
	case IPCX__O_WAIT:
		if (n == 4 && !memcmp(v, "spin", 4))
			ep->wait = IPCX__WAIT_SPIN;
		else if (n == 8 && !memcmp(v, "adaptive", 8))
			ep->wait = IPCX__WAIT_ADAPTIVE;
		else if (n == 5 && !memcmp(v, "sleep", 5))
			ep->wait = IPCX__WAIT_SLEEP;
		else
			goto bad;
		return 0;
	case IPCX__O_SPIN:
		if (ipcx__parse_uint(v, n, 1000000000, &x) < 0)
			goto bad;
		ep->spin = (unsigned)x;
		return 0;
	case IPCX__O_FD:
		if (ipcx__parse_uint(v, n, INT_MAX, &x) < 0)
			goto bad;
		ep->fd = (int)x;
		return 0;
	case IPCX__O_UID:
		if (ipcx__parse_uint(v, n, (uid_t)-2, &x) < 0)
			goto bad;
		ep->uid = (uid_t)x;
		return 0;
	case IPCX__O_GID:
		if (ipcx__parse_uint(v, n, (gid_t)-2, &x) < 0)
			goto bad;
		ep->gid = (gid_t)x;
		return 0;
	case IPCX__O_TRUST:
		if (n == 3 && !memcmp(v, "any", 3))
			ep->trust_any = true;
		else if (n == 5 && !memcmp(v, "owner", 5))
			ep->trust_any = false;
		else
			goto bad;
		return 0;
	case IPCX__O_TYPE:
		if (ipcx__parse_uint(v, n, LONG_MAX, &x) < 0)
			goto bad;
		ep->type = (long)x;
		return 0;
	case IPCX__O_SIG:
		if (parse_sig(v, n, &ep->sig) < 0)
			goto bad;
		return 0;
	case IPCX__O_FSYNC:
		if (!(n == 1 && (v[0] == '1' || v[0] == '0')))
			goto bad;
		ep->nosync = v[0] == '0';
		return 0;
	case IPCX__O_VALUE:
		/* 32767 is System V's SEMVMX; POSIX allows more, but one
		 * bound for both keeps an endpoint portable between them. */
		if (ipcx__parse_uint(v, n, 32767, &x) < 0)
			goto bad;
		ep->value = (unsigned)x;
		return 0;
	case IPCX__O_SLOTS:
		if (ipcx__parse_uint(v, n, 32767, &x) < 0 || x == 0)
			goto bad;
		ep->slots = (unsigned)x;
		return 0;
	case IPCX__O_MSGSIZE:
		/* 16 MiB is the kernel's hard ceiling (HARD_MSGSIZEMAX). */
		if (parse_size(v, n, 16ull << 20, &x) < 0 || x == 0)
			goto bad;
		ep->msgsize = (size_t)x;
		return 0;
	case IPCX__O_PRIO:
		/* MQ_PRIO_MAX is 32768 on Linux. */
		if (ipcx__parse_uint(v, n, 32767, &x) < 0)
			goto bad;
		ep->prio = (unsigned)x;
		return 0;
	case IPCX__O_PROJ:
		/* ftok keeps the low 8 bits; 0 is not a project id. */
		if (ipcx__parse_uint(v, n, 255, &x) < 0 || x == 0)
			goto bad;
		ep->proj = (unsigned)x;
		return 0;
	}
bad:
	return ipcx__err(
	    IPCX_EOPTION,
	    "%s://: bad value '%.*s' for option '%s' (expected %s)", sch,
	    (int)(n > 64 ? 64 : n), v, o->key, o->hint);
}

int ipcx__opts_parse(const char *s, size_t len, struct ipcx__ep *ep)
{
	const char *sch = ipcx__scheme_name(ep->scheme);
	const char *end = s + len;

	while (s < end) {
		const char *amp = memchr(s, '&', (size_t)(end - s));
		const char *item_end = amp ? amp : end;
		const char *eq = memchr(s, '=', (size_t)(item_end - s));
		const char *kend = eq ? eq : item_end;
		size_t klen = (size_t)(kend - s);
		const struct opt_info *o = NULL;
		int r;

		if (klen == 0) {
			if (!eq && item_end != end) {
				s = item_end + 1; /* tolerate "a&&b" */
				continue;
			}
			if (!eq && item_end == end)
				break; /* a trailing '&' or a bare '?' */
			return ipcx__err(IPCX_EOPTION,
			                 "%s://: option with an empty name",
			                 sch);
		}
		for (size_t i = 0; i < N_OPTS; i++) {
			if (strlen(opts[i].key) == klen &&
			    !memcmp(opts[i].key, s, klen)) {
				o = &opts[i];
				break;
			}
		}
		if (!o || !(o->schemes & BIT(ep->scheme))) {
			char known[128];
			known_opts(ep->scheme, known, sizeof(known));
			return ipcx__err(IPCX_EOPTION,
			                 "%s://: unknown option '%.*s' "
			                 "(options %s:// takes: %s)",
			                 sch, (int)(klen > 64 ? 64 : klen), s,
			                 sch, known);
		}
		if (ep->set & o->bit)
			return ipcx__err(IPCX_EOPTION,
			                 "%s://: option '%s' given twice", sch,
			                 o->key);
		r = opt_value(ep, o, eq ? eq + 1 : NULL,
		              eq ? (size_t)(item_end - eq - 1) : 0, eq != NULL);
		if (r < 0)
			return r;
		ep->set |= o->bit;
		s = amp ? amp + 1 : end;
	}
	return 0;
}
