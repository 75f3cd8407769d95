/*
 * endpoint.c - parse and validate "scheme://name?key=value&key": the scheme
 * and the name (options.c reads what follows '?').
 *
 * Everything a transport relies on is checked here, before any system call:
 * the scheme, the name's characters and length against the kernel's own
 * limits, ports; options.c checks every option against the schemes that
 * take it. The
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
		if (!ipcx__name_char(ep->name[i]))
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
			int d = ipcx__hex_digit(v[i]);
			if (d < 0)
				goto bad;
			x = x * 16 + (unsigned)d;
		}
	} else if (ipcx__parse_uint(v, n, 0xffffffffull, &x) < 0) {
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
			if (!(ipcx__name_char(host[i]) || host[i] == ':' ||
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
			if (!ipcx__name_char(host[i]))
				goto badhost;
	}
	if (hlen == 0)
		return ipcx__err(IPCX_EENDPOINT,
		                 "%s://: missing host (use 127.0.0.1 or "
		                 "localhost)",
		                 sch);
	if (ipcx__parse_uint(port, (size_t)(s + n - port), 0xffffffffull, &p) <
	    0)
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
				if (!ipcx__name_char(*c))
					goto badserver;
		}
		if (hostend == h ||
		    (colon &&
		     (ipcx__parse_uint(colon + 1, (size_t)(he - colon - 1),
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
		if (ipcx__parse_uint(ep->name, ep->name_len, 0x3fffffff, &x) <
		        0 ||
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
