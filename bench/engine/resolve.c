/*
 * resolve.c - turn a -t item into the endpoints one row opens.
 *
 * An item is an endpoint ("unix:///tmp/s", "shm://ring?wait=spin") or a
 * template: a bare scheme ("shm") or a scheme with options only
 * ("shm://?wait=spin", "shm?wait=spin"). Templates get names nobody else
 * uses: shm://ipcx-bench-<pid>-<seq>-ping, unix:///tmp/ipcx-bench-<pid>-<seq>
 * .sock, tcp://127.0.0.1:<a free port>. One-way mechanisms get two names,
 * "-ping" (parent to child) and "-pong" (back).
 */
#include "bench.h"

#include "ipcx.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Split item into scheme, name part and options; false if malformed. */
static bool ep_split(const char *item, char *scheme, size_t scap, char *name,
                     size_t ncap, char *opts, size_t ocap)
{
	const char *sep = strstr(item, "://");
	const char *q, *rest;
	size_t slen;

	if (sep) {
		slen = (size_t)(sep - item);
		rest = sep + 3;
	} else {
		/* "shm" or "shm?wait=spin" */
		q = strchr(item, '?');
		slen = q ? (size_t)(q - item) : strlen(item);
		rest = item + slen;
	}
	if (slen == 0 || slen >= scap)
		return false;
	memcpy(scheme, item, slen);
	scheme[slen] = '\0';
	q = strchr(rest, '?');
	if (q) {
		if ((size_t)(q - rest) >= ncap || strlen(q + 1) >= ocap)
			return false;
		memcpy(name, rest, (size_t)(q - rest));
		name[q - rest] = '\0';
		strcpy(opts, q + 1);
	} else {
		if (strlen(rest) >= ncap)
			return false;
		strcpy(name, rest);
		opts[0] = '\0';
	}
	return true;
}

void bench_ep_name(const char *item, char *name, size_t cap)
{
	char scheme[16], nm[300], opts[256];

	if (!ep_split(item, scheme, sizeof(scheme), nm, sizeof(nm), opts,
	              sizeof(opts)) ||
	    nm[0] != '\0') {
		snprintf(name, cap, "%s", item);
		return;
	}
	if (opts[0])
		snprintf(name, cap, "%s?%s", scheme, opts);
	else
		snprintf(name, cap, "%s", scheme);
}

/* The value of key in "a=1&key=v&b", or "" (into val). */
static void ep_opt(const char *opts, const char *key, char *val, size_t cap)
{
	size_t klen = strlen(key);
	const char *p = opts;

	val[0] = '\0';
	while (*p) {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);

		if (len > klen && !strncmp(p, key, klen) && p[klen] == '=') {
			size_t vlen = len - klen - 1;

			if (vlen >= cap)
				vlen = cap - 1;
			memcpy(val, p + klen + 1, vlen);
			val[vlen] = '\0';
			return;
		}
		p += len;
		if (*p == '&')
			p++;
	}
}

/* "?opts" or "" */
static const char *ep_q(const struct bench_ep *ep)
{
	return ep->opts[0] ? "?" : "";
}

int bench_ep_resolve(const char *item, unsigned seq, struct bench_ep *ep,
                     char *err, size_t errcap)
{
	char name[300], base[64];
	bool tmpl;
	int n1 = 0, n2 = 0;

	if (bench_ep_child(item))
		return bench_ep_resolve_split(item, seq, ep, err, errcap);
	memset(ep, 0, sizeof(*ep));
	if (!ep_split(item, ep->scheme, sizeof(ep->scheme), name, sizeof(name),
	              ep->opts, sizeof(ep->opts))) {
		snprintf(err, errcap, "'%s' is not an endpoint or a template",
		         item);
		return -1;
	}
	tmpl = name[0] == '\0';
	ep->owned = tmpl;
	strcpy(ep->wait, "kernel");
	snprintf(base, sizeof(base), "ipcx-bench-%ld-%u", (long)getpid(), seq);

	if (!strcmp(ep->scheme, "pipe")) {
		ep->shape = BENCH_PIPE;
		if (!tmpl) {
			snprintf(err, errcap,
			         "pipe:// takes no name in a benchmark");
			return -1;
		}
		snprintf(ep->ping, sizeof(ep->ping), "pipe://%s%s", ep_q(ep),
		         ep->opts);
		return 0;
	}
	if (!strcmp(ep->scheme, "sysv-sem")) {
		/* Two keys of this run's own (or KEY and KEY + 1). */
		unsigned long k = 0x42000000ul |
		                  ((unsigned long)getpid() & 0xffff) << 8 |
		                  (seq * 2u & 0xff);
		ep->shape = BENCH_ONEWAY;
		ep->event = true;
		if (!tmpl)
			k = strtoul(name, NULL, 0);
		n1 = snprintf(ep->ping, sizeof(ep->ping),
		              "sysv-sem://0x%lx%s%s", k, ep_q(ep), ep->opts);
		n2 =
		    snprintf(ep->pong, sizeof(ep->pong), "sysv-sem://0x%lx%s%s",
		             k + 1, ep_q(ep), ep->opts);
	} else if (!strcmp(ep->scheme, "shm") || !strcmp(ep->scheme, "mq") ||
	           !strcmp(ep->scheme, "sem") ||
	           !strcmp(ep->scheme, "semshm")) {
		ep->shape = BENCH_ONEWAY;
		ep->event = !strcmp(ep->scheme, "sem");
		if (!strcmp(ep->scheme, "shm")) {
			ep->zero_copy = true;
			ep_opt(ep->opts, "wait", ep->wait, sizeof(ep->wait));
			if (!ep->wait[0])
				strcpy(ep->wait, "adaptive");
		}
		if (tmpl)
			snprintf(name, sizeof(name), "%s", base);
		n1 = snprintf(ep->ping, sizeof(ep->ping), "%s://%s-ping%s%s",
		              ep->scheme, name, ep_q(ep), ep->opts);
		n2 = snprintf(ep->pong, sizeof(ep->pong), "%s://%s-pong%s%s",
		              ep->scheme, name, ep_q(ep), ep->opts);
	} else if (!strcmp(ep->scheme, "sysv-mq")) {
		/* Two keys of our own (type 1 each way), or key and key+1. */
		unsigned long k = tmpl ? 0x1b000000ul |
		                             ((unsigned long)getpid() & 0xffff)
		                                 << 8 |
		                             (seq * 2 & 0xff)
		                       : strtoul(name, NULL, 0);

		ep->shape = BENCH_ONEWAY;
		strcpy(ep->wait, "backoff");
		if (!tmpl && (name[0] == '/' || k == 0 || k >= 0x7fffffff)) {
			snprintf(err, errcap,
			         "sysv-mq in a benchmark takes a key below "
			         "0x7fffffff (it uses it and the next)");
			return -1;
		}
		n1 = snprintf(ep->ping, sizeof(ep->ping),
		              "sysv-mq://0x%08lx%s%s", k, ep_q(ep), ep->opts);
		n2 = snprintf(ep->pong, sizeof(ep->pong),
		              "sysv-mq://0x%08lx%s%s", k + 1, ep_q(ep),
		              ep->opts);
	} else if (!strcmp(ep->scheme, "fifo") || !strcmp(ep->scheme, "file")) {
		ep->shape = BENCH_ONEWAY;
		if (tmpl)
			snprintf(name, sizeof(name), "/tmp/%s", base);
		n1 = snprintf(ep->ping, sizeof(ep->ping), "%s://%s-ping%s%s",
		              ep->scheme, name, ep_q(ep), ep->opts);
		n2 = snprintf(ep->pong, sizeof(ep->pong), "%s://%s-pong%s%s",
		              ep->scheme, name, ep_q(ep), ep->opts);
	} else if (!strcmp(ep->scheme, "nats")) {
		/* Two subjects of this run on the named server (default:
		 * 127.0.0.1:4222); a given subject gets -ping and -pong. */
		const char *slash = strchr(name, '/');

		ep->shape = BENCH_ONEWAY;
		if (tmpl || !slash || !slash[1])
			n1 = snprintf(
			    ep->ping, sizeof(ep->ping),
			    "nats://%.*s/%s-ping%s%s",
			    (int)(slash ? slash - name : (long)strlen(name)),
			    name, base, ep_q(ep), ep->opts);
		else
			n1 = snprintf(ep->ping, sizeof(ep->ping),
			              "nats://%s-ping%s%s", name, ep_q(ep),
			              ep->opts);
		snprintf(ep->pong, sizeof(ep->pong), "%s", ep->ping);
		memcpy(strstr(ep->pong, "-ping"), "-pong", 5);
		n2 = n1;
	} else if (!strcmp(ep->scheme, "signal")) {
		/* Each side receives in itself and sends to the other's pid,
		 * known only after fork: ipcx.c names them then. */
		ep->shape = BENCH_ONEWAY;
		if (!tmpl) {
			snprintf(err, errcap,
			         "signal:// takes no pid in a benchmark");
			return -1;
		}
		n1 = snprintf(ep->ping, sizeof(ep->ping), "signal://%s%s",
		              ep_q(ep), ep->opts);
		n2 = snprintf(ep->pong, sizeof(ep->pong), "%s", ep->ping);
	} else if (!strcmp(ep->scheme, "unix")) {
		ep->shape = BENCH_SOCKET;
		if (tmpl)
			snprintf(name, sizeof(name), "/tmp/%s.sock", base);
		n1 = snprintf(ep->ping, sizeof(ep->ping), "unix://%s%s%s", name,
		              ep_q(ep), ep->opts);
	} else if (!strcmp(ep->scheme, "tcp") || !strcmp(ep->scheme, "udp")) {
		bool udp = ep->scheme[0] == 'u';
		size_t nl = strlen(name);

		ep->shape = BENCH_SOCKET;
		ep->lossy = udp;
		/* A template, or host:0, gets a free loopback port. */
		if (tmpl || (nl > 2 && !strcmp(name + nl - 2, ":0"))) {
			int port =
			    bench_free_port(udp ? SOCK_DGRAM : SOCK_STREAM);

			if (port < 0) {
				snprintf(err, errcap,
				         "no free loopback port: %s",
				         strerror(errno));
				return -1;
			}
			if (tmpl)
				snprintf(name, sizeof(name), "127.0.0.1:%d",
				         port);
			else
				snprintf(name + nl - 1, sizeof(name) - nl + 1,
				         "%d", port);
		}
		n1 = snprintf(ep->ping, sizeof(ep->ping), "%s://%s%s%s",
		              ep->scheme, name, ep_q(ep), ep->opts);
	} else {
		snprintf(err, errcap,
		         "%s:// cannot be benchmarked (try shm, pipe, fifo, "
		         "file, signal, unix, tcp, udp, mq, sysv-mq, sem, "
		         "sysv-sem, semshm or nats)",
		         ep->scheme);
		return -1;
	}
	if (n1 < 0 || (size_t)n1 >= sizeof(ep->ping) || n2 < 0 ||
	    (size_t)n2 >= sizeof(ep->pong)) {
		snprintf(err, errcap, "endpoint '%s' is too long", item);
		return -1;
	}
	memcpy(ep->cping, ep->ping, sizeof(ep->cping));
	memcpy(ep->cpong, ep->pong, sizeof(ep->cpong));
	return 0;
}

void bench_ep_cleanup(const struct bench_ep *ep)
{
	/* Quiet: a name that is not there is the normal case. */
	if (ep->shape == BENCH_ONEWAY) {
		ipcx_unlink(ep->ping);
		ipcx_unlink(ep->pong);
	} else if (ep->shape == BENCH_SOCKET && !strcmp(ep->scheme, "unix") &&
	           strstr(ep->ping, "unix://@") != ep->ping) {
		ipcx_unlink(ep->ping);
	}
}
