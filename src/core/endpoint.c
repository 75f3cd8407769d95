/*
 * endpoint.c - parse and validate "scheme://name?key=value&key".
 *
 * Everything a transport relies on is checked here, before any system call:
 * the scheme, the name's characters and length against the kernel's own
 * limits, ports, and every option against the schemes that take it. The
 * parser reads at most len bytes, never past them, and rejects NUL bytes,
 * so it is safe on hostile input (tests/fuzz/fuzz-endpoint.c).
 */
#include "internal.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#define SUN_PATH_MAX 107 /* sizeof(sun_path) - 1 for the NUL / the '@' */

/* How a scheme's name part is validated. */
enum name_kind {
	N_PATH,     /* absolute path */
	N_NAME,     /* bare name: [A-Za-z0-9._-]+ */
	N_SYSV,     /* a key (0x hex or decimal) or an absolute path for ftok */
	N_NONE,     /* nothing: pipe:// */
	N_PID,      /* empty or a decimal pid */
	N_UNIX,     /* absolute path or @abstract */
	N_HOSTPORT, /* host:port */
	N_NATS      /* [host:port,...]/subject */
};

struct scheme_info {
	const char *name;
	enum name_kind kind;
	size_t max; /* longest name accepted */
};

#define BIT(s) (1u << (s))

static const struct scheme_info schemes[IPCX__S_COUNT] = {
    [IPCX__S_FILE] = {"file", N_PATH, PATH_MAX - 1},
    /* mq and sem names live in one directory entry: NAME_MAX. sem_open
     * prepends "sem." in /dev/shm. */
    [IPCX__S_MQ] = {"mq", N_NAME, NAME_MAX},
    [IPCX__S_SYSV_MQ] = {"sysv-mq", N_SYSV, PATH_MAX - 1},
    [IPCX__S_SHM] = {"shm", N_NAME, NAME_MAX},
    [IPCX__S_PIPE] = {"pipe", N_NONE, IPCX__EP_MAX},
    [IPCX__S_FIFO] = {"fifo", N_PATH, PATH_MAX - 1},
    [IPCX__S_SIGNAL] = {"signal", N_PID, 10},
    [IPCX__S_SEM] = {"sem", N_NAME, NAME_MAX - 4},
    [IPCX__S_SYSV_SEM] = {"sysv-sem", N_SYSV, PATH_MAX - 1},
    [IPCX__S_UNIX] = {"unix", N_UNIX, SUN_PATH_MAX},
    [IPCX__S_TCP] = {"tcp", N_HOSTPORT, 253},
    [IPCX__S_UDP] = {"udp", N_HOSTPORT, 253},
    [IPCX__S_NATS] = {"nats", N_NATS, 1024},
    /* /dev/shm/semshm.NAME */
    [IPCX__S_SEMSHM] = {"semshm", N_NAME, NAME_MAX - 7},
};

const char *ipcx__scheme_name(enum ipcx__scheme s)
{
	return (unsigned)s < IPCX__S_COUNT ? schemes[s].name : "?";
}

/* ---- option values ---- */

/* A character of a bare name: [A-Za-z0-9._-]. */
static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* Decimal digits only, no sign, no overflow past max. */
static int parse_uint(const char *v, size_t n, unsigned long long max,
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
	if (parse_uint(v, n, max >> shift, &x) < 0)
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
		else if (v[5] != '+' || parse_uint(v + 6, n - 6, 64, &x) < 0)
			return -1;
		s = SIGRTMIN + (int)x;
	} else if (n >= 5 && !memcmp(v, "RTMAX", 5)) {
		if (n == 5)
			x = 0;
		else if (v[5] != '-' || parse_uint(v + 6, n - 6, 64, &x) < 0)
			return -1;
		s = SIGRTMAX - (int)x;
	} else if (parse_uint(v, n, 64, &x) == 0) {
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
	const char *sch = schemes[ep->scheme].name;
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
			if (!name_char(v[i]) ||
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
		if (parse_uint(v, n, 1000000000, &x) < 0)
			goto bad;
		ep->spin = (unsigned)x;
		return 0;
	case IPCX__O_FD:
		if (parse_uint(v, n, INT_MAX, &x) < 0)
			goto bad;
		ep->fd = (int)x;
		return 0;
	case IPCX__O_UID:
		if (parse_uint(v, n, (uid_t)-2, &x) < 0)
			goto bad;
		ep->uid = (uid_t)x;
		return 0;
	case IPCX__O_GID:
		if (parse_uint(v, n, (gid_t)-2, &x) < 0)
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
		if (parse_uint(v, n, LONG_MAX, &x) < 0)
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
		if (parse_uint(v, n, 32767, &x) < 0)
			goto bad;
		ep->value = (unsigned)x;
		return 0;
	case IPCX__O_SLOTS:
		if (parse_uint(v, n, 32767, &x) < 0 || x == 0)
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
		if (parse_uint(v, n, 32767, &x) < 0)
			goto bad;
		ep->prio = (unsigned)x;
		return 0;
	case IPCX__O_PROJ:
		/* ftok keeps the low 8 bits; 0 is not a project id. */
		if (parse_uint(v, n, 255, &x) < 0 || x == 0)
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
	const char *sch = schemes[ep->scheme].name;
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

/* ---- names ---- */

static int check_path(const struct ipcx__ep *ep, const char *what)
{
	const char *sch = schemes[ep->scheme].name;

	if (ep->name_len == 0)
		return ipcx__err(IPCX_EENDPOINT,
		                 "%s://: missing %s (e.g. %s:///tmp/name)", sch,
		                 what, sch);
	if (ep->name[0] != '/')
		return ipcx__err(IPCX_EENDPOINT,
		                 "%s://: %s must be absolute, as in %s:///tmp/"
		                 "name (three slashes)",
		                 sch, what, sch);
	if (ep->name[ep->name_len - 1] == '/')
		return ipcx__err(IPCX_EENDPOINT,
		                 "%s://: %s '%s' names a directory", sch, what,
		                 ep->name);
	return 0;
}

/*
 * A spool directory: an absolute path without a ".." component, so that
 * a name cannot climb out of where its writer meant it to be.
 */
static int check_spool(const struct ipcx__ep *ep)
{
	const char *p = ep->name, *end = ep->name + ep->name_len;
	int r = check_path(ep, "spool directory");

	if (r < 0)
		return r;
	while (p < end) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		const char *e = slash ? slash : end;
		if (e - p == 2 && p[0] == '.' && p[1] == '.')
			return ipcx__err(
			    IPCX_EENDPOINT,
			    "file://%s: a '..' in the path is "
			    "refused (name the directory directly)",
			    ep->name);
		p = e + 1;
	}
	return 0;
}

static int check_bare(const struct ipcx__ep *ep)
{
	const char *sch = schemes[ep->scheme].name;

	if (ep->name_len == 0)
		return ipcx__err(IPCX_EENDPOINT,
		                 "%s://: missing name (e.g. %s://jobs)", sch,
		                 sch);
	if ((ep->name_len == 1 && ep->name[0] == '.') ||
	    (ep->name_len == 2 && !memcmp(ep->name, "..", 2)))
		return ipcx__err(IPCX_EENDPOINT, "%s://: '%s' is not a name",
		                 sch, ep->name);
	if (ep->name[0] == '/')
		return ipcx__err(IPCX_EENDPOINT,
		                 "%s://: '%s' is a path; the name is a word: "
		                 "drop the leading slash (%s://%s)",
		                 sch, ep->name, sch, ep->name + 1);
	for (size_t i = 0; i < ep->name_len; i++)
		if (!name_char(ep->name[i]))
			return ipcx__err(IPCX_EENDPOINT,
			                 "%s://: bad character in name '%s' "
			                 "(use letters, digits, '.', '_', '-')",
			                 sch, ep->name);
	return 0;
}

static int check_sysv(struct ipcx__ep *ep)
{
	const char *sch = schemes[ep->scheme].name;
	unsigned long long x;
	const char *v = ep->name;
	size_t n = ep->name_len;

	if (n > 0 && v[0] == '/')
		return check_path(ep, "path");
	/* A key is the whole story: proj= only makes one from a path. */
	if (ep->set & IPCX__O_PROJ)
		return ipcx__err(IPCX_EOPTION,
		                 "%s://: proj= goes with a path (%s:///path?"
		                 "proj=N), not with a key",
		                 sch, sch);
	if (n > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
		x = 0;
		if (n > 10)
			goto bad;
		for (size_t i = 2; i < n; i++) {
			char c = v[i];
			unsigned d;
			if (c >= '0' && c <= '9')
				d = (unsigned)(c - '0');
			else if (c >= 'a' && c <= 'f')
				d = (unsigned)(c - 'a' + 10);
			else if (c >= 'A' && c <= 'F')
				d = (unsigned)(c - 'A' + 10);
			else
				goto bad;
			x = x * 16 + d;
		}
	} else if (parse_uint(v, n, 0xffffffffull, &x) < 0) {
		goto bad;
	}
	if (x == 0)
		return ipcx__err(IPCX_EENDPOINT,
		                 "%s://: key 0 is IPC_PRIVATE and cannot be "
		                 "shared by name; pick another key",
		                 sch);
	/* key_t is a signed int: keys above 0x7fffffff are the negative half.
	 */
	ep->key = (long)(int)(unsigned)x;
	ep->has_key = true;
	return 0;
bad:
	return ipcx__err(
	    IPCX_EENDPOINT,
	    "%s://: expected a key (0x1234 or 4660) or an absolute "
	    "path, got '%s'",
	    sch, ep->name);
}

static int check_hostport(struct ipcx__ep *ep)
{
	const char *sch = schemes[ep->scheme].name;
	char *s = ep->name;
	size_t n = ep->name_len;
	const char *host, *port;
	size_t hlen;
	unsigned long long p;

	if (n == 0)
		return ipcx__err(IPCX_EENDPOINT,
		                 "%s://: missing host:port (e.g. "
		                 "%s://127.0.0.1:5555)",
		                 sch, sch);
	if (s[0] == '[') {
		char *rb = memchr(s, ']', n);
		if (!rb || rb[1] != ':')
			return ipcx__err(IPCX_EENDPOINT,
			                 "%s://: expected [ipv6]:port", sch);
		host = s + 1;
		hlen = (size_t)(rb - host);
		port = rb + 2;
		for (size_t i = 0; i < hlen; i++)
			if (!(name_char(host[i]) || host[i] == ':' ||
			      host[i] == '%'))
				goto badhost;
	} else {
		char *colon = memrchr(s, ':', n);
		if (!colon)
			return ipcx__err(IPCX_EENDPOINT,
			                 "%s://: missing port in '%s' (e.g. "
			                 "%s://127.0.0.1:5555)",
			                 sch, s, sch);
		host = s;
		hlen = (size_t)(colon - s);
		port = colon + 1;
		for (size_t i = 0; i < hlen; i++)
			if (!name_char(host[i]))
				goto badhost;
	}
	if (hlen == 0)
		return ipcx__err(IPCX_EENDPOINT,
		                 "%s://: missing host (use 127.0.0.1 or "
		                 "localhost)",
		                 sch);
	if (parse_uint(port, (size_t)(s + n - port), 0xffffffffull, &p) < 0)
		return ipcx__err(IPCX_EENDPOINT,
		                 "%s://: bad port '%s': want a port number "
		                 "(service names such as http are not looked "
		                 "up: tcp://localhost:80)",
		                 sch, port);
	if (p > 65535)
		return ipcx__err(IPCX_EENDPOINT,
		                 "%s://: port %llu is out of range (0-65535)",
		                 sch, p);
	ep->port = (uint16_t)p;
	/* Keep only the host in name, without brackets. */
	memmove(s, host, hlen);
	s[hlen] = '\0';
	ep->name_len = hlen;
	return 0;
badhost:
	return ipcx__err(IPCX_EENDPOINT, "%s://: bad host in '%s'", sch, s);
}

/*
 * check_nats - "[host[:port],...]/subject": each server a host of name
 * characters (or [ipv6]) with an optional port, then a subject of tokens
 * separated by '.', none empty, no white space or control bytes.
 */
static int check_nats(const struct ipcx__ep *ep)
{
	const char *s = ep->name, *end = s + ep->name_len;
	const char *slash = memchr(s, '/', ep->name_len);
	const char *subj;

	if (!slash || slash + 1 >= end)
		return ipcx__err(IPCX_EENDPOINT,
		                 "nats://: missing subject (e.g. "
		                 "nats://127.0.0.1:4222/jobs, or nats:///jobs "
		                 "for the local server)");
	for (const char *h = s; h < slash;) {
		const char *comma = memchr(h, ',', (size_t)(slash - h));
		const char *he = comma ? comma : slash;
		const char *colon = memrchr(h, ':', (size_t)(he - h));
		const char *hostend = colon ? colon : he;
		unsigned long long p = 0;

		if (*h == '[') {
			const char *rb = memchr(h, ']', (size_t)(he - h));
			if (!rb)
				goto badserver;
			hostend = rb + 1;
			colon = rb + 1 < he && rb[1] == ':' ? rb + 1 : NULL;
		} else {
			for (const char *c = h; c < hostend; c++)
				if (!name_char(*c))
					goto badserver;
		}
		if (hostend == h ||
		    (colon && (parse_uint(colon + 1, (size_t)(he - colon - 1),
		                          65535, &p) < 0 ||
		               p == 0)))
			goto badserver;
		if (!colon && hostend != he)
			goto badserver;
		h = comma ? comma + 1 : slash;
		if (comma && h == slash)
			goto badserver;
		continue;
	badserver:
		return ipcx__err(IPCX_EENDPOINT,
		                 "nats://: bad server '%.*s' (expected host or "
		                 "host:port, several separated by ',')",
		                 (int)((size_t)(he - h) > 64 ? 64 : he - h), h);
	}
	subj = slash + 1;
	for (const char *c = subj; c < end; c++) {
		if ((unsigned char)*c <= 0x20 || *c == 0x7f ||
		    (*c == '.' && (c == subj || c + 1 == end || c[1] == '.')))
			return ipcx__err(
			    IPCX_EENDPOINT,
			    "nats://: bad subject '%s' (tokens "
			    "separated by '.', none empty, no spaces)",
			    subj);
	}
	return 0;
}

static int check_name(struct ipcx__ep *ep)
{
	const struct scheme_info *si = &schemes[ep->scheme];
	unsigned long long x;

	if (ep->name_len > si->max) {
		if (ep->scheme == IPCX__S_UNIX)
			return ipcx__err(
			    IPCX_ENAMETOOLONG,
			    "unix://: socket name is %zu bytes, the "
			    "kernel's limit is %d (sun_path); use a "
			    "shorter path or unix://@name",
			    ep->name_len, SUN_PATH_MAX);
		return ipcx__err(IPCX_ENAMETOOLONG,
		                 "%s://: name is %zu bytes, the limit is %zu",
		                 si->name, ep->name_len, si->max);
	}
	switch (si->kind) {
	case N_PATH:
		if (ep->scheme == IPCX__S_FILE)
			return check_spool(ep);
		return check_path(ep, "path");
	case N_NAME:
		return check_bare(ep);
	case N_SYSV:
		return check_sysv(ep);
	case N_NONE:
		if (ep->name_len)
			return ipcx__err(
			    IPCX_EENDPOINT,
			    "pipe:// takes no name (got '%s'); use "
			    "pipe://?fd=N or fifo:///path",
			    ep->name);
		return 0;
	case N_PID:
		if (ep->name_len == 0)
			return 0;
		if (parse_uint(ep->name, ep->name_len, 0x3fffffff, &x) < 0 ||
		    x == 0)
			return ipcx__err(
			    IPCX_EENDPOINT,
			    "signal://: expected a process id, got "
			    "'%s'",
			    ep->name);
		ep->pid = (pid_t)x;
		return 0;
	case N_UNIX:
		if (ep->name_len > 0 && ep->name[0] == '@') {
			if (ep->name_len == 1)
				return ipcx__err(IPCX_EENDPOINT,
				                 "unix://@: missing abstract "
				                 "name after '@'");
			return 0;
		}
		return check_path(ep, "socket path");
	case N_HOSTPORT:
		return check_hostport(ep);
	case N_NATS:
		return check_nats(ep);
	}
	return 0;
}

void ipcx__ep_defaults(struct ipcx__ep *ep, enum ipcx__scheme s)
{
	memset(ep, 0, sizeof(*ep));
	ep->scheme = s;
	ep->mode = 0600;
	ep->maxmsg = IPCX__DEFAULT_MAXMSG;
	ep->wait = IPCX__WAIT_ADAPTIVE;
	ep->fd = -1;
	ep->uid = (uid_t)-1;
	ep->gid = (gid_t)-1;
	ep->type = 1;
	ep->proj = 1;
}

int ipcx__ep_parse(const char *s, size_t len, struct ipcx__ep *ep)
{
	const char *sep, *rest, *q;
	size_t slen, nlen;
	int sc = -1;

	ipcx__ep_defaults(ep, IPCX__S_FILE);
	if (s == NULL)
		return ipcx__err(IPCX_EINVAL, "endpoint is NULL");
	if (len > IPCX__EP_MAX)
		return ipcx__err(IPCX_ENAMETOOLONG,
		                 "endpoint is %zu bytes, the limit is %d", len,
		                 IPCX__EP_MAX);
	if (memchr(s, '\0', len))
		return ipcx__err(IPCX_EENDPOINT,
		                 "endpoint contains a NUL byte");
	sep = len >= 3 ? memmem(s, len, "://", 3) : NULL;
	if (!sep)
		return ipcx__err(
		    IPCX_EENDPOINT,
		    "'%.*s' is not an endpoint: expected "
		    "scheme://name, e.g. unix:///tmp/sock or shm://bus",
		    (int)(len > 64 ? 64 : len), s);
	slen = (size_t)(sep - s);
	for (int i = 0; i < IPCX__S_COUNT; i++) {
		if (strlen(schemes[i].name) == slen &&
		    !memcmp(schemes[i].name, s, slen)) {
			sc = i;
			break;
		}
	}
	if (sc < 0)
		return ipcx__err(
		    IPCX_ESCHEME,
		    "unknown scheme '%.*s' (known: file, mq, "
		    "sysv-mq, shm, pipe, fifo, signal, sem, sysv-sem, "
		    "unix, tcp, udp, nats, semshm)",
		    (int)(slen > 32 ? 32 : slen), s);
	ep->scheme = (enum ipcx__scheme)sc;
	rest = sep + 3;
	q = memchr(rest, '?', len - (size_t)(rest - s));
	nlen = (size_t)((q ? q : s + len) - rest);
	memcpy(ep->name, rest, nlen);
	ep->name[nlen] = '\0';
	ep->name_len = nlen;
	if (q) {
		int r = ipcx__opts_parse(q + 1, len - (size_t)(q + 1 - s), ep);
		if (r < 0)
			return r;
	}
	return check_name(ep);
}
