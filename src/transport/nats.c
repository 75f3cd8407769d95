/*
 * nats.c - nats://: a subject on a NATS server or cluster, through the NATS
 * C client (libnats), loaded at run time so that libipcx itself needs
 * nothing beyond libc.
 *
 *   nats://[host[:port],...]/subject    default server 127.0.0.1:4222
 *   ?queue=GROUP                        receivers share the messages
 *   ?stream=S[&durable=NAME]            JetStream: a sender publishes into
 *                                       stream S and waits for the stored
 *                                       ack; a durable receiver pulls, and
 *                                       acks a message when the caller
 *                                       comes back for the next one (or
 *                                       closes): a receiver killed while
 *                                       it handles a message gets it again
 *   ?creds=FILE (or NATS_CREDS), ?tls, ?ca=FILE
 *
 * A receiver's messages arrive on the client's own threads: a callback (or,
 * for a pull consumer, a fetch thread) puts them in a bounded local queue
 * and counts them on an eventfd, which is ipcx_fd(). When the queue is full
 * the callback waits, so back-pressure reaches the client's pending limits.
 *
 * Built only where the client's header was found (IPCX_HAVE_NATS); the
 * scheme then still parses, and opening says how to get the client.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#ifndef IPCX_HAVE_NATS

static int nats_unbuilt(void)
{
	return ipcx__err(IPCX_ENOTSUP,
	                 "nats:// is not supported in this build (install "
	                 "libnats-dev and rebuild)");
}

static int nats_open(ipcx_chan *ch)
{
	(void)ch;
	return nats_unbuilt();
}

static int nats_unlink(const struct ipcx__ep *ep)
{
	(void)ep;
	return nats_unbuilt();
}

const struct ipcx__transport ipcx__tp_nats = {
    .scheme = IPCX__S_NATS,
    .open = nats_open,
    .unlink = nats_unlink,
};

#else /* IPCX_HAVE_NATS */

#include <dlfcn.h>
#include <errno.h>
#include <nats/nats.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

/* Messages a receiver holds locally before the client's queue takes over. */
#define NATS_QMAX           1024
/* A pull consumer's fetch waits this long per request (ms). */
#define NATS_FETCH_MS       200
/* Connect timeout, reconnect pacing and what a closing sender flushes. */
#define NATS_CONNECT_MS     2000
#define NATS_RECONNECT_MS   250
#define NATS_CLOSE_FLUSH_MS 5000
#define NATS_DEFAULT_SERVER "127.0.0.1:4222"
/* A durable consumer ipcx creates redelivers what a dead receiver held
 * after this long (JetStream's default is 30 s). */
#define NATS_ACK_WAIT_NS    (5 * 1000000000LL)
#define NATS_MS_NS          1000000LL

/* ---- the client library, loaded once ----------------------------------- */

#define NATS_FNS(X)                                \
	X(natsOptions_Create)                      \
	X(natsOptions_Destroy)                     \
	X(natsOptions_SetServers)                  \
	X(natsOptions_SetTimeout)                  \
	X(natsOptions_SetAllowReconnect)           \
	X(natsOptions_SetMaxReconnect)             \
	X(natsOptions_SetReconnectWait)            \
	X(natsOptions_SetUserCredentialsFromFiles) \
	X(natsOptions_SetSecure)                   \
	X(natsOptions_LoadCATrustedCertificates)   \
	X(natsConnection_Connect)                  \
	X(natsConnection_Destroy)                  \
	X(natsConnection_Publish)                  \
	X(natsConnection_FlushTimeout)             \
	X(natsConnection_GetMaxPayload)            \
	X(natsConnection_Subscribe)                \
	X(natsConnection_QueueSubscribe)           \
	X(natsSubscription_Unsubscribe)            \
	X(natsSubscription_Destroy)                \
	X(natsSubscription_SetPendingLimits)       \
	X(natsSubscription_SetOnCompleteCB)        \
	X(natsSubscription_Fetch)                  \
	X(natsMsg_GetData)                         \
	X(natsMsg_GetDataLength)                   \
	X(natsMsg_Destroy)                         \
	X(natsMsg_Ack)                             \
	X(natsMsg_Nak)                             \
	X(natsMsgList_Destroy)                     \
	X(natsStatus_GetText)                      \
	X(nats_GetLastError)                       \
	X(natsConnection_JetStream)                \
	X(jsCtx_Destroy)                           \
	X(jsStreamConfig_Init)                     \
	X(js_AddStream)                            \
	X(js_GetStreamInfo)                        \
	X(jsStreamInfo_Destroy)                    \
	X(js_DeleteStream)                         \
	X(jsPubOptions_Init)                       \
	X(js_Publish)                              \
	X(jsPubAck_Destroy)                        \
	X(jsSubOptions_Init)                       \
	X(js_PullSubscribe)

static struct {
#define NATS_FIELD(f) __typeof__(f) *f;
	NATS_FNS(NATS_FIELD)
#undef NATS_FIELD
} nx;
static pthread_once_t nx_once = PTHREAD_ONCE_INIT;
static const char *nx_missing; /* NULL when loaded */
static char nx_why[160];

static void nx_load(void)
{
	static const char *const libs[] = {"libnats.so.3.4", "libnats.so"};
	void *h = NULL;

	for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]) && !h; i++)
		h = dlopen(libs[i], RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(nx_why, sizeof(nx_why), "%s", dlerror());
		nx_missing = "libnats.so.3.4";
		return;
	}
	/* Never dlclose: the client keeps threads of its own. */
#define NATS_SYM(f)                                                   \
	if (!(*(void **)&nx.f = dlsym(h, #f))) {                      \
		snprintf(nx_why, sizeof(nx_why), "no symbol %s", #f); \
		nx_missing = #f;                                      \
		return;                                               \
	}
	NATS_FNS(NATS_SYM)
#undef NATS_SYM
}

static int nx_ready(void)
{
	pthread_once(&nx_once, nx_load);
	if (nx_missing)
		return ipcx__err(IPCX_ENOTSUP,
		                 "nats:// needs the NATS C client at run time "
		                 "(%s; install it: apt-get install libnats3.4)",
		                 nx_why);
	return 0;
}

/* The client's own words for a failure, with what it means for us. */
static int nx_err(int code, natsStatus s, const char *what)
{
	const char *last = nx.nats_GetLastError(NULL);

	return ipcx__err(code, "%s: %s%s%s", what, nx.natsStatus_GetText(s),
	                 last && *last ? ": " : "", last ? last : "");
}

/* ---- a channel ---------------------------------------------------------- */

struct nats_chan {
	natsOptions *opts;
	natsConnection *nc;
	natsSubscription *sub;
	jsCtx *js;
	char subject[IPCX__EP_MAX + 1];
	char servers[IPCX__EP_MAX + 1]; /* as given, for messages */
	int64_t max_payload;

	/* The receiver's local queue, filled by the client's threads. */
	pthread_mutex_t mu;
	pthread_cond_t avail, room, done;
	natsMsg *q[NATS_QMAX];
	size_t head, n;
	bool closing, completed, pull;
	natsMsg *unacked; /* handed over, acked at the next recv or close */
	pthread_t fetcher;
	bool has_fetcher;
	int efd;
};

/* nats_push - queue msg for the receiver (client thread); waits for room. */
static void nats_push(struct nats_chan *c, natsMsg *msg)
{
	uint64_t one = 1;

	pthread_mutex_lock(&c->mu);
	while (c->n == NATS_QMAX && !c->closing)
		pthread_cond_wait(&c->room, &c->mu);
	if (c->closing) {
		pthread_mutex_unlock(&c->mu);
		nx.natsMsg_Destroy(msg);
		return;
	}
	c->q[(c->head + c->n++) % NATS_QMAX] = msg;
	/* A semaphore-mode eventfd: readable while messages wait. */
	if (write(c->efd, &one, sizeof(one)) < 0) {
		/* Cannot overflow at NATS_QMAX; nothing to do if it did. */
	}
	pthread_cond_signal(&c->avail);
	pthread_mutex_unlock(&c->mu);
}

static void nats_on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg,
                        void *closure)
{
	(void)nc;
	(void)sub;
	nats_push(closure, msg);
}

static void nats_on_complete(void *closure)
{
	struct nats_chan *c = closure;

	pthread_mutex_lock(&c->mu);
	c->completed = true;
	pthread_cond_broadcast(&c->done);
	pthread_mutex_unlock(&c->mu);
}

/* The pull consumer's fetcher: keeps one message fetched ahead. */
static void *nats_fetch_main(void *arg)
{
	struct nats_chan *c = arg;

	for (;;) {
		natsMsgList list = {0};
		jsErrCode jerr = 0;
		natsStatus s;

		pthread_mutex_lock(&c->mu);
		while (c->n > 0 && !c->closing)
			pthread_cond_wait(&c->room, &c->mu);
		if (c->closing) {
			pthread_mutex_unlock(&c->mu);
			return NULL;
		}
		pthread_mutex_unlock(&c->mu);
		s = nx.natsSubscription_Fetch(&list, c->sub, 1, NATS_FETCH_MS,
		                              &jerr);
		if (s == NATS_OK) {
			for (int i = 0; i < list.Count; i++) {
				nats_push(c, list.Msgs[i]);
				list.Msgs[i] = NULL; /* ours now */
			}
			nx.natsMsgList_Destroy(&list);
		} else if (s != NATS_TIMEOUT) {
			/* Disconnected, reconnecting: pace the retries. */
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_nsec += NATS_FETCH_MS * NATS_MS_NS;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_mutex_lock(&c->mu);
			if (!c->closing)
				pthread_cond_timedwait(&c->room, &c->mu, &ts);
			pthread_mutex_unlock(&c->mu);
		}
	}
}

/*
 * nats_split - the endpoint's servers as "nats://host:port" URLs (into
 * urls, pointers in v) and its subject. Returns the number of servers.
 */
static int nats_split(const struct ipcx__ep *ep, char *urls, size_t cap,
                      const char **v, int vmax, char *subject)
{
	const char *slash = strchr(ep->name, '/');
	size_t hl = (size_t)(slash - ep->name), used = 0;
	char hosts[IPCX__EP_MAX + 1];
	int n = 0;

	snprintf(subject, IPCX__EP_MAX + 1, "%s", slash + 1);
	if (hl == 0)
		snprintf(hosts, sizeof(hosts), "%s", NATS_DEFAULT_SERVER);
	else
		snprintf(hosts, sizeof(hosts), "%.*s", (int)hl, ep->name);
	for (char *save = NULL, *h = strtok_r(hosts, ",", &save); h && n < vmax;
	     h = strtok_r(NULL, ",", &save)) {
		/* A host without a port gets NATS's 4222. */
		const char *rb = strrchr(h, ']');
		const char *colon = strrchr(rb ? rb : h, ':');
		int k = snprintf(urls + used, cap - used, "nats://%s%s", h,
		                 colon ? "" : ":4222");
		if (k < 0 || (size_t)k >= cap - used)
			break;
		v[n++] = urls + used;
		used += (size_t)k + 1;
	}
	return n;
}

static int nats_connect(ipcx_chan *ch, struct nats_chan *c)
{
	const struct ipcx__ep *ep = &ch->ep;
	const char *v[32];
	char urls[IPCX__EP_MAX + 256];
	const char *creds = ep->creds[0] ? ep->creds : getenv("NATS_CREDS");
	natsStatus s;
	int n = nats_split(ep, urls, sizeof(urls), v, 32, c->subject);

	snprintf(c->servers, sizeof(c->servers), "%s", v[0]);
	for (int i = 1; i < n; i++) {
		size_t l = strlen(c->servers);
		snprintf(c->servers + l, sizeof(c->servers) - l, ",%s", v[i]);
	}
	if ((s = nx.natsOptions_Create(&c->opts)) != NATS_OK)
		return nx_err(IPCX_ENOMEM, s, "NATS options");
	s = nx.natsOptions_SetServers(c->opts, v, n);
	if (s == NATS_OK)
		s = nx.natsOptions_SetTimeout(c->opts, NATS_CONNECT_MS);
	/* Reconnect for as long as the channel lives, to any known server. */
	if (s == NATS_OK)
		s = nx.natsOptions_SetAllowReconnect(c->opts, true);
	if (s == NATS_OK)
		s = nx.natsOptions_SetMaxReconnect(c->opts, 1 << 30);
	if (s == NATS_OK)
		s = nx.natsOptions_SetReconnectWait(c->opts, NATS_RECONNECT_MS);
	if (s == NATS_OK && creds && *creds)
		s = nx.natsOptions_SetUserCredentialsFromFiles(c->opts, creds,
		                                               NULL);
	if (s == NATS_OK && (ep->tls || ep->ca[0]))
		s = nx.natsOptions_SetSecure(c->opts, true);
	if (s == NATS_OK && ep->ca[0])
		s = nx.natsOptions_LoadCATrustedCertificates(c->opts, ep->ca);
	if (s != NATS_OK)
		return nx_err(IPCX_EINVAL, s,
		              "NATS options (servers, creds, tls)");
	s = nx.natsConnection_Connect(&c->nc, c->opts);
	if (s == NATS_NO_SERVER)
		return ipcx__err(
		    IPCX_ENOPEER,
		    "no NATS server answers at %s (start one, e.g. "
		    "nats-server -a 127.0.0.1 -p 4222, or name "
		    "another: nats://HOST:PORT/subject)",
		    c->servers);
	if (s != NATS_OK)
		return nx_err(s == NATS_NOT_PERMITTED ? IPCX_EACCES : IPCX_ESYS,
		              s, "NATS connect");
	c->max_payload = nx.natsConnection_GetMaxPayload(c->nc);
	return 0;
}

/* nats_stream - the JetStream context, and stream S for the subject. */
static int nats_stream(ipcx_chan *ch, struct nats_chan *c)
{
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	natsStatus s;

	if ((s = nx.natsConnection_JetStream(&c->js, c->nc, NULL)) != NATS_OK)
		return nx_err(IPCX_ESYS, s, "JetStream");
	s = nx.js_GetStreamInfo(&si, c->js, ch->ep.stream, NULL, &jerr);
	if (s == NATS_OK) {
		nx.jsStreamInfo_Destroy(si);
		return 0;
	}
	if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr) {
		jsStreamConfig cfg;
		const char *subj[1] = {c->subject};

		nx.jsStreamConfig_Init(&cfg);
		cfg.Name = ch->ep.stream;
		cfg.Subjects = subj;
		cfg.SubjectsLen = 1;
		cfg.Storage = js_FileStorage;
		s = nx.js_AddStream(&si, c->js, &cfg, NULL, &jerr);
		if (s == NATS_OK) {
			nx.jsStreamInfo_Destroy(si);
			return 0;
		}
	}
	if (s == NATS_NO_RESPONDERS || s == NATS_TIMEOUT)
		return ipcx__err(IPCX_ENOTSUP,
		                 "nats://: the server at %s has no JetStream "
		                 "(start it with -js, or drop ?stream=)",
		                 c->servers);
	return nx_err(IPCX_ESYS, s, "JetStream stream");
}

static int nats_subscribe(ipcx_chan *ch, struct nats_chan *c)
{
	const struct ipcx__ep *ep = &ch->ep;
	natsStatus s;

	if (ep->durable[0] || ep->stream[0]) {
		jsSubOptions so;
		jsErrCode jerr = 0;

		if (!ep->durable[0] || !ep->stream[0])
			return ipcx__err(
			    IPCX_EOPTION,
			    "nats://: a durable receiver needs both "
			    "?stream=S and ?durable=NAME");
		nx.jsSubOptions_Init(&so);
		so.Stream = ep->stream;
		so.Config.AckPolicy = js_AckExplicit;
		so.Config.AckWait = NATS_ACK_WAIT_NS;
		s = nx.js_PullSubscribe(&c->sub, c->js, c->subject, ep->durable,
		                        NULL, &so, &jerr);
		if (s != NATS_OK)
			return nx_err(IPCX_ESYS, s, "JetStream pull subscribe");
		c->pull = true;
		if (pthread_create(&c->fetcher, NULL, nats_fetch_main, c) != 0)
			return ipcx__err(IPCX_ESYS, "nats://: no fetch thread");
		c->has_fetcher = true;
		return 0;
	}
	if (ep->queue[0])
		s = nx.natsConnection_QueueSubscribe(&c->sub, c->nc, c->subject,
		                                     ep->queue, nats_on_msg, c);
	else
		s = nx.natsConnection_Subscribe(&c->sub, c->nc, c->subject,
		                                nats_on_msg, c);
	if (s == NATS_INVALID_SUBJECT)
		return ipcx__err(IPCX_EENDPOINT, "nats://: bad subject '%s'",
		                 c->subject);
	if (s == NATS_OK)
		s = nx.natsSubscription_SetOnCompleteCB(c->sub,
		                                        nats_on_complete, c);
	/* Our queue bounds memory; the client's limits count what waits. */
	if (s == NATS_OK)
		s = nx.natsSubscription_SetPendingLimits(c->sub, 65536,
		                                         256 << 20);
	/* The server has the subscription once this round trip is done. */
	if (s == NATS_OK)
		s = nx.natsConnection_FlushTimeout(c->nc, NATS_CONNECT_MS);
	if (s != NATS_OK)
		return nx_err(IPCX_ESYS, s, "NATS subscribe");
	return 0;
}

static int nats_close(ipcx_chan *ch);

static int nats_open(ipcx_chan *ch)
{
	struct nats_chan *c;
	pthread_condattr_t ca;
	int r;

	if ((r = nx_ready()) < 0)
		return r;
	if ((ch->flags & IPCX_SEND) && (ch->ep.durable[0] || ch->ep.queue[0]) &&
	    !(ch->flags & IPCX_RECV))
		return ipcx__err(IPCX_EOPTION,
		                 "nats://: ?queue= and ?durable= are for "
		                 "receivers; a sender needs only the subject "
		                 "(and ?stream= to store into JetStream)");
	c = calloc(1, sizeof(*c));
	if (!c)
		return ipcx__err(IPCX_ENOMEM, "out of memory");
	c->efd = -1;
	pthread_mutex_init(&c->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->avail, &ca);
	pthread_cond_init(&c->room, &ca);
	pthread_cond_init(&c->done, &ca);
	pthread_condattr_destroy(&ca);
	ch->priv = c;
	if ((r = nats_connect(ch, c)) < 0)
		goto fail;
	if (ch->ep.stream[0] && (r = nats_stream(ch, c)) < 0)
		goto fail;
	if (ch->flags & IPCX_RECV) {
		c->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE);
		if (c->efd < 0) {
			r = ipcx__errno(errno, "nats://: eventfd");
			goto fail;
		}
		if ((r = nats_subscribe(ch, c)) < 0)
			goto fail;
	}
	return 0;
fail:
	/* Keep open's message across the teardown. */
	{
		char keep[512];
		snprintf(keep, sizeof(keep), "%s", ipcx_errmsg());
		nats_close(ch);
		ipcx__err(r, "%s", keep);
	}
	return r;
}

static int nats_send(ipcx_chan *ch, const void *buf, size_t len,
                     int64_t deadline)
{
	struct nats_chan *c = ch->priv;
	natsStatus s;

	if (c->max_payload > 0 && (int64_t)len > c->max_payload)
		return ipcx__err(IPCX_EMSGSIZE,
		                 "message of %zu bytes exceeds the NATS "
		                 "server's max_payload %lld (raise max_payload "
		                 "in the server's configuration)",
		                 len, (long long)c->max_payload);
	if (c->js) {
		jsPubOptions po;
		jsPubAck *pa = NULL;
		jsErrCode jerr = 0;
		int ms = ipcx__remaining_ms(deadline);

		nx.jsPubOptions_Init(&po);
		po.MaxWait = ms < 0 ? 60000 : ms > 0 ? ms : 1;
		s = nx.js_Publish(&pa, c->js, c->subject, buf, (int)len, &po,
		                  &jerr);
		if (pa)
			nx.jsPubAck_Destroy(pa);
		if (s == NATS_TIMEOUT)
			return ipcx__err(
			    IPCX_ETIMEDOUT,
			    "JetStream did not acknowledge in time "
			    "(is stream '%s' reachable from %s?)",
			    ch->ep.stream, c->servers);
	} else {
		/* Queued in the client, which writes it to the server, also
		 * across a reconnect (its reconnect buffer). */
		s = nx.natsConnection_Publish(c->nc, c->subject, buf, (int)len);
	}
	if (s == NATS_CONNECTION_CLOSED)
		return ipcx__err(IPCX_EPEER,
		                 "the NATS connection to %s is "
		                 "closed",
		                 c->servers);
	if (s != NATS_OK)
		return nx_err(IPCX_ESYS, s, "NATS publish");
	return 0;
}

/* nats_wait - wait until a message is queued (mu held). */
static int nats_wait(struct nats_chan *c, int64_t deadline)
{
	while (c->n == 0) {
		struct timespec ts;
		if (deadline == 0 || (deadline > 0 && ipcx__expired(deadline)))
			return IPCX_ETIMEDOUT;
		if (deadline < 0) {
			pthread_cond_wait(&c->avail, &c->mu);
			continue;
		}
		ts.tv_sec = (time_t)(deadline / 1000000000LL);
		ts.tv_nsec = (long)(deadline % 1000000000LL);
		pthread_cond_timedwait(&c->avail, &c->mu, &ts);
	}
	return 0;
}

static ssize_t nats_recv(ipcx_chan *ch, void *buf, size_t cap, int64_t deadline)
{
	struct nats_chan *c = ch->priv;
	natsMsg *m;
	uint64_t one;
	size_t len;
	int r;

	/* The caller is back: it is done with the last message. */
	if (c->unacked) {
		nx.natsMsg_Ack(c->unacked, NULL);
		nx.natsMsg_Destroy(c->unacked);
		c->unacked = NULL;
	}
	pthread_mutex_lock(&c->mu);
	if ((r = nats_wait(c, deadline)) < 0) {
		pthread_mutex_unlock(&c->mu);
		return ipcx__err(r, "no message on %s within the timeout",
		                 c->subject);
	}
	m = c->q[c->head];
	len = (size_t)nx.natsMsg_GetDataLength(m);
	if (len > cap) {
		pthread_mutex_unlock(&c->mu);
		ch->pending = len;
		ch->has_pending = true;
		return ipcx__err(IPCX_ENOBUFS,
		                 "message of %zu bytes does not fit %zu", len,
		                 cap);
	}
	c->head = (c->head + 1) % NATS_QMAX;
	c->n--;
	if (read(c->efd, &one, sizeof(one)) < 0) {
		/* The count and the queue move together under mu. */
	}
	pthread_cond_signal(&c->room);
	pthread_mutex_unlock(&c->mu);
	memcpy(buf, nx.natsMsg_GetData(m), len);
	/* JetStream hears of the delivery only when the caller comes back
	 * for the next message or closes the channel; a receiver that dies
	 * in between gets it again (at-least-once, never lost). */
	if (c->pull)
		c->unacked = m;
	else
		nx.natsMsg_Destroy(m);
	return (ssize_t)len;
}

static int nats_fd(ipcx_chan *ch)
{
	struct nats_chan *c = ch->priv;

	if (c->efd < 0)
		return ipcx__err(IPCX_ENOTSUP,
		                 "nats://: a sender has nothing to poll");
	return c->efd;
}

static int nats_close(ipcx_chan *ch)
{
	struct nats_chan *c = ch->priv;

	if (!c)
		return 0;
	pthread_mutex_lock(&c->mu);
	c->closing = true;
	pthread_cond_broadcast(&c->room);
	pthread_mutex_unlock(&c->mu);
	if (c->has_fetcher)
		pthread_join(c->fetcher, NULL);
	if (c->sub && !c->pull) {
		/* Wait until the client has returned from our callback. */
		if (nx.natsSubscription_Unsubscribe(c->sub) == NATS_OK) {
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_sec += NATS_CLOSE_FLUSH_MS / 1000;
			pthread_mutex_lock(&c->mu);
			while (!c->completed && pthread_cond_timedwait(
			                            &c->done, &c->mu, &ts) == 0)
				;
			pthread_mutex_unlock(&c->mu);
		}
	}
	/* A durable's subscription is destroyed without an unsubscribe:
	 * that would delete the consumer and its place in the stream. */
	if (c->sub)
		nx.natsSubscription_Destroy(c->sub);
	/* A message fetched ahead but never handed over goes back at once
	 * (a nak), not after the consumer's ack wait. */
	if (c->unacked) {
		nx.natsMsg_Ack(c->unacked, NULL);
		nx.natsMsg_Destroy(c->unacked);
	}
	if (c->pull)
		for (size_t i = 0; i < c->n; i++)
			nx.natsMsg_Nak(c->q[(c->head + i) % NATS_QMAX], NULL);
	/* What we published, acked or nakked reaches the server before we
	 * go. */
	if (c->nc)
		nx.natsConnection_FlushTimeout(c->nc, NATS_CLOSE_FLUSH_MS);
	if (c->js)
		nx.jsCtx_Destroy(c->js);
	if (c->nc)
		nx.natsConnection_Destroy(c->nc);
	if (c->opts)
		nx.natsOptions_Destroy(c->opts);
	/* Unacknowledged JetStream messages come again to the next
	 * receiver of the durable. */
	for (; c->n; c->n--, c->head = (c->head + 1) % NATS_QMAX)
		nx.natsMsg_Destroy(c->q[c->head]);
	if (c->efd >= 0)
		close(c->efd);
	pthread_cond_destroy(&c->avail);
	pthread_cond_destroy(&c->room);
	pthread_cond_destroy(&c->done);
	pthread_mutex_destroy(&c->mu);
	free(c);
	ch->priv = NULL;
	return 0;
}

/* unlink: with ?stream=S, delete the stream; a bare subject is no object. */
static int nats_unlink(const struct ipcx__ep *ep)
{
	ipcx_chan *ch;
	struct nats_chan *c;
	jsErrCode jerr = 0;
	natsStatus s;
	int r;

	if (!ep->stream[0])
		return ipcx__err(
		    IPCX_ENOTSUP,
		    "nats://: a subject is not an object, there is "
		    "nothing to remove (with ?stream=S, this "
		    "deletes JetStream stream S)");
	if ((r = nx_ready()) < 0)
		return r;
	ch = ipcx__chan_new(&ipcx__tp_nats, ep, IPCX_RECV);
	if (!ch)
		return ipcx__err(IPCX_ENOMEM, "out of memory");
	c = calloc(1, sizeof(*c));
	if (!c) {
		free(ch);
		return ipcx__err(IPCX_ENOMEM, "out of memory");
	}
	c->efd = -1;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->avail, NULL);
	pthread_cond_init(&c->room, NULL);
	pthread_cond_init(&c->done, NULL);
	ch->priv = c;
	r = nats_connect(ch, c);
	if (r == 0 &&
	    (s = nx.natsConnection_JetStream(&c->js, c->nc, NULL)) != NATS_OK)
		r = nx_err(IPCX_ESYS, s, "JetStream");
	if (r == 0) {
		s = nx.js_DeleteStream(c->js, ep->stream, NULL, &jerr);
		if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr)
			r = ipcx__err(IPCX_ENOENT, "no JetStream stream '%s'",
			              ep->stream);
		else if (s != NATS_OK)
			r = nx_err(IPCX_ESYS, s, "JetStream delete stream");
	}
	nats_close(ch);
	free(ch);
	return r;
}

const struct ipcx__transport ipcx__tp_nats = {
    .scheme = IPCX__S_NATS,
    .open = nats_open,
    .send = nats_send,
    .recv = nats_recv,
    .fd = nats_fd,
    .close = nats_close,
    .unlink = nats_unlink,
};

#endif /* IPCX_HAVE_NATS */
