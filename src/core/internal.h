/*
 * internal.h - what the core shares with the transports. Not installed.
 *
 * Internal non-static names start with ipcx__. Data flows one way:
 * public API (channel.c) -> transport table -> one transport -> kernel.
 */
#ifndef IPCX_INTERNAL_H
#define IPCX_INTERNAL_H

#include "ipcx.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define IPCX__HIDDEN __attribute__((visibility("hidden")))

/* Longest endpoint string accepted, NUL excluded. */
#define IPCX__EP_MAX 4096
/* Time units, for deadlines in CLOCK_MONOTONIC nanoseconds. */
#define IPCX__NS_PER_S  1000000000LL
#define IPCX__NS_PER_MS 1000000LL
/* The longest ipcx_errmsg(), terminator included (error.c). */
#define IPCX__ERRMSG_MAX 512
/* Default receive limit for framed streams (option maxmsg=). */
#define IPCX__DEFAULT_MAXMSG (16u << 20)

/* The schemes the parser knows, implemented or not. */
enum ipcx__scheme {
	IPCX__S_FILE,
	IPCX__S_MQ,
	IPCX__S_SYSV_MQ,
	IPCX__S_SHM,
	IPCX__S_PIPE,
	IPCX__S_FIFO,
	IPCX__S_SIGNAL,
	IPCX__S_SEM,
	IPCX__S_SYSV_SEM,
	IPCX__S_UNIX,
	IPCX__S_TCP,
	IPCX__S_UDP,
	IPCX__S_NATS,
	IPCX__S_SEMSHM,
	IPCX__S_COUNT
};

/* Wake-up policy (shm:// ?wait=). */
enum ipcx__wait { IPCX__WAIT_ADAPTIVE, IPCX__WAIT_SPIN, IPCX__WAIT_SLEEP };

/* Bits of ipcx__ep.set: which options were given explicitly. */
enum {
	IPCX__O_MODE = 1 << 0,
	IPCX__O_MAXMSG = 1 << 1,
	IPCX__O_SIZE = 1 << 2,
	IPCX__O_RAW = 1 << 3,
	IPCX__O_WAIT = 1 << 4,
	IPCX__O_FD = 1 << 5,
	IPCX__O_UID = 1 << 6,
	IPCX__O_GID = 1 << 7,
	IPCX__O_TRUST = 1 << 8,
	IPCX__O_SPIN = 1 << 9,
	IPCX__O_TYPE = 1 << 10,
	IPCX__O_QUEUE = 1 << 11,
	IPCX__O_DURABLE = 1 << 12,
	IPCX__O_STREAM = 1 << 13,
	IPCX__O_CREDS = 1 << 14,
	IPCX__O_TLS = 1 << 15,
	IPCX__O_CA = 1 << 16,
	IPCX__O_VALUE = 1 << 17,   /* sem, sysv-sem */
	IPCX__O_SLOTS = 1 << 18,   /* semshm */
	IPCX__O_PROJ = 1 << 19,    /* sysv-mq, sysv-sem (ftok) */
	IPCX__O_MSGSIZE = 1 << 20, /* mq */
	IPCX__O_PRIO = 1 << 21,    /* mq */
	IPCX__O_SIG = 1 << 22,     /* signal */
	IPCX__O_FSYNC = 1 << 23,   /* file */
};

/* Longest NATS queue group, durable or stream name; option file paths. */
#define IPCX__NATS_NAME_MAX 64
#define IPCX__OPT_PATH_MAX  255

/*
 * A parsed endpoint. Everything is validated by ipcx__ep_parse() before any
 * transport sees it: names are non-empty, of legal characters and lengths,
 * ports are in range, options are known to the scheme.
 */
struct ipcx__ep {
	enum ipcx__scheme scheme;
	/*
	 * The name part, meaning per scheme: an absolute path (file, fifo,
	 * unix path, sysv ftok path), a bare name (mq, shm, sem), "@name" for
	 * an abstract unix socket, the host for tcp/udp, the decimal pid for
	 * signal, "" for pipe.
	 */
	char name[IPCX__EP_MAX + 1];
	size_t name_len;
	uint16_t port; /* tcp, udp */
	long key;      /* sysv-mq, sysv-sem when given as a number */
	bool has_key;
	pid_t pid; /* signal://PID, 0 = this process */

	unsigned set;  /* IPCX__O_* given */
	unsigned mode; /* mode=, default 0600 */
	size_t maxmsg; /* maxmsg=, default IPCX__DEFAULT_MAXMSG */
	size_t size;   /* size= (shm ring bytes), 0 = transport default */
	bool raw;      /* raw: unframed bytes (pipe, fifo) */
	enum ipcx__wait wait; /* wait= */
	int fd;               /* fd= (pipe), -1 = stdin/stdout */
	uid_t uid;      /* uid= accept only this peer uid (unix listener) */
	gid_t gid;      /* gid= */
	bool trust_any; /* trust=any: accept objects owned by other uids */
	unsigned spin;  /* spin= iterations before parking (shm adaptive) */
	long type;      /* type= (sysv-mq message type; 0 = any, receive) */
	int sig;        /* sig= (signal): a signal number, 0 = SIGRTMIN+1 */
	bool nosync;    /* fsync=0 (file): no fsync before and after rename */
	unsigned value; /* value= (sem, sysv-sem: initial count), default 0 */
	unsigned slots; /* slots= (semshm slot count), 0 = default */
	size_t msgsize; /* msgsize= (mq bytes a message), 0 = system default */
	unsigned prio;  /* prio= (mq send priority, 0..32767) */
	unsigned proj;  /* proj= (ftok project id, 1..255), default 1 */

	/* nats:// (the name is "[host:port,...]/subject") */
	char queue[IPCX__NATS_NAME_MAX + 1];   /* queue= group, "" = none */
	char durable[IPCX__NATS_NAME_MAX + 1]; /* durable= consumer */
	char stream[IPCX__NATS_NAME_MAX + 1];  /* stream= JetStream stream */
	char creds[IPCX__OPT_PATH_MAX + 1];    /* creds= file */
	char ca[IPCX__OPT_PATH_MAX + 1];       /* ca= trusted certificates */
	bool tls;                              /* tls: require TLS */
};

/*
 * ipcx__ep_parse - parse and validate an endpoint string of len bytes (which
 * need not be NUL-terminated, may contain NULs: they are rejected).
 * Returns 0 or IPCX_E* with ipcx_errmsg() set.
 */
IPCX__HIDDEN int ipcx__ep_parse(const char *s, size_t len, struct ipcx__ep *ep);

/*
 * ipcx__ep_defaults - clear ep and give it scheme s and every option's
 * default (mode 0600, maxmsg 16 MiB, ...): what an endpoint means before
 * its '?' part is read. ipcx__ep_parse starts from it.
 */
IPCX__HIDDEN void ipcx__ep_defaults(struct ipcx__ep *ep, enum ipcx__scheme s);

/* ipcx__name_char - a character of a bare name: [A-Za-z0-9._-]. */
IPCX__HIDDEN bool ipcx__name_char(char c);

/* ipcx__hex_digit - the value of hex digit c (0-9, a-f, A-F), or -1. */
IPCX__HIDDEN int ipcx__hex_digit(char c);

/*
 * ipcx__parse_uint - n decimal digits (no sign) as a number up to max into
 * *out. Returns 0, or -1 on anything else or an overflow past max.
 */
IPCX__HIDDEN int ipcx__parse_uint(const char *v, size_t n,
                                  unsigned long long max,
                                  unsigned long long *out);

/* ipcx__scheme_name - "shm" for IPCX__S_SHM, etc. */
IPCX__HIDDEN const char *ipcx__scheme_name(enum ipcx__scheme s);

/*
 * ipcx__opts_parse - parse "key=value&key" options (as after '?') for the
 * given scheme into ep. Used by ipcx__ep_parse and ipcx_pipe().
 */
IPCX__HIDDEN int ipcx__opts_parse(const char *s, size_t len,
                                  struct ipcx__ep *ep);

/* A channel. The transport keeps its own state behind priv. */
struct ipcx_chan {
	const struct ipcx__transport *tp;
	struct ipcx__ep ep;
	int flags;      /* IPCX_SEND | IPCX_RECV | IPCX_CREATE | IPCX_EXCL */
	void *priv;     /* transport state */
	size_t pending; /* size refused by the last IPCX_ENOBUFS, 0 = none */
	bool has_pending;
	struct ipcx_peer peer; /* sender of the last message, where known */
};

/*
 * The operations one mechanism provides. Each transport file ends with one
 * `const struct ipcx__transport ipcx__tp_<name>` listed in channel.c's table.
 * Deadlines are absolute CLOCK_MONOTONIC nanoseconds, or -1 for none; use
 * the ipcx__deadline helpers below. Every member returns 0 / a count or
 * IPCX_E* with ipcx_errmsg() set through ipcx__err*(). Optional members may
 * be NULL: the core then answers IPCX_ENOTSUP.
 */
struct ipcx__transport {
	enum ipcx__scheme scheme;

	/*
	 * try_first: send and loan with deadline 0 either succeed or fail
	 * with IPCX_ETIMEDOUT having changed nothing. The core then tries
	 * them that way before it reads the clock for a positive timeout, so
	 * a send that need not wait (the common case on a ring) costs no
	 * clock read (~35 ns in a VM). Stream sockets cannot promise it: a
	 * partial write is a side effect.
	 */
	bool try_first;

	/*
	 * open: set up ch->priv for ch->ep and ch->flags. Must not block for
	 * long (connect on loopback is fine). On failure leave ch->priv NULL
	 * or safe for close().
	 */
	int (*open)(ipcx_chan *ch);

	/*
	 * send: queue one whole message or nothing (stream transports that
	 * time out halfway mark the channel broken). Blocks until deadline.
	 */
	int (*send)(ipcx_chan *ch, const void *buf, size_t len,
	            int64_t deadline);

	/*
	 * sendv: optional; n >= 1 messages in order, each whole or not at
	 * all, in as few system calls as the mechanism allows. Returns how
	 * many went (1..n) or, if none did, IPCX_E*; when it returns k < n,
	 * ipcx_errmsg() says why message k did not go. Blocks until
	 * deadline. Without it the core sends the messages one by one.
	 */
	int (*sendv)(ipcx_chan *ch, const struct iovec *msgs, int n,
	             int64_t deadline);

	/*
	 * recv: one whole message into buf. If it does not fit, set
	 * ch->pending/has_pending, keep the message queued and return
	 * IPCX_ENOBUFS. Blocks until deadline. Sets ch->peer if known.
	 */
	ssize_t (*recv)(ipcx_chan *ch, void *buf, size_t cap, int64_t deadline);

	/* fd: the descriptor to poll for POLLIN, or IPCX_ENOTSUP. */
	int (*fd)(ipcx_chan *ch);

	/* close: stop I/O and free ch->priv; must accept half-opened state. */
	int (*close)(ipcx_chan *ch);

	/* unlink: remove the name behind ep (no channel needed). Optional. */
	int (*unlink)(const struct ipcx__ep *ep);

	/* Zero-copy, optional: see ipcx_loan() and friends in ipcx.h. */
	int (*loan)(ipcx_chan *ch, size_t len, void **ptr, int64_t deadline);
	int (*commit)(ipcx_chan *ch, void *ptr, size_t len);
	ssize_t (*peek)(ipcx_chan *ch, const void **ptr, int64_t deadline);
	int (*release)(ipcx_chan *ch);
};

/*
 * ipcx__chan_new - a channel for transport tp, endpoint ep (copied) and
 * flags, with no transport state yet (priv NULL) and no peer known.
 * Returns NULL when out of memory. ipcx_close() frees it.
 */
IPCX__HIDDEN ipcx_chan *ipcx__chan_new(const struct ipcx__transport *tp,
                                       const struct ipcx__ep *ep, int flags);

/* The transports (one file each in src/transport/). */
extern const struct ipcx__transport ipcx__tp_pipe IPCX__HIDDEN;
extern const struct ipcx__transport ipcx__tp_fifo IPCX__HIDDEN;
extern const struct ipcx__transport ipcx__tp_unix IPCX__HIDDEN;
extern const struct ipcx__transport ipcx__tp_tcp IPCX__HIDDEN;
extern const struct ipcx__transport ipcx__tp_udp IPCX__HIDDEN;
extern const struct ipcx__transport ipcx__tp_shm IPCX__HIDDEN;
extern const struct ipcx__transport ipcx__tp_signal IPCX__HIDDEN;
extern const struct ipcx__transport ipcx__tp_file IPCX__HIDDEN;
extern const struct ipcx__transport ipcx__tp_mq IPCX__HIDDEN;
extern const struct ipcx__transport ipcx__tp_sysvmq IPCX__HIDDEN;
extern const struct ipcx__transport ipcx__tp_nats IPCX__HIDDEN;
extern const struct ipcx__transport ipcx__tp_sem IPCX__HIDDEN;
extern const struct ipcx__transport ipcx__tp_sysv_sem IPCX__HIDDEN;
extern const struct ipcx__transport ipcx__tp_semshm IPCX__HIDDEN;
/* Tests only: semshm.c calls it at numbered points inside its mutex. */
extern void (*ipcx__semshm_hook)(int stage) IPCX__HIDDEN;

/*
 * ipcx__sysv_key - the System V key an endpoint names: its number, or
 * ftok(path, proj=) for a path (which must exist). Returns 0 or IPCX_E*.
 * (sysvsem.c)
 */
IPCX__HIDDEN int ipcx__sysv_key(const struct ipcx__ep *ep, int *key);

/*
 * ipcx__sem_no_bytes - 0 for an empty message; IPCX_EMSGSIZE ("a semaphore
 * carries no bytes") for len > 0. (sem.c, for sem:// and sysv-sem://)
 */
IPCX__HIDDEN int ipcx__sem_no_bytes(size_t len);

/* ---- errors (error.c) ---- */

/*
 * ipcx__err - set the thread's detailed message (printf-style) and return
 * code, so a failure reads `return ipcx__err(IPCX_EINVAL, "...", ...);`.
 */
IPCX__HIDDEN int ipcx__err(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * ipcx__errno - map errno value e (positive) to an IPCX_E* code and set the
 * message "<what>: <strerror(e)>". Returns the code.
 */
IPCX__HIDDEN int ipcx__errno(int e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * ipcx__errno_path - as ipcx__errno for "<what> <path>" (what: "mkfifo
 * fifo://...") but for ENOENT, the directory of path missing, a message
 * that names the directory and says to create it. Returns the code.
 */
IPCX__HIDDEN int ipcx__errno_path(int e, const char *what, const char *path);

/* ipcx__errno_code - the IPCX_E* code for errno value e. */
IPCX__HIDDEN int ipcx__errno_code(int e);

/* ---- kernel message queues (msgq.c) ---- */

/* ipcx__sysctl - the number in /proc/sys file path, or dflt. */
IPCX__HIDDEN long ipcx__sysctl(const char *path, long dflt);

/*
 * ipcx__held_give - deliver a message of *got bytes that a transport took
 * from its queue into its own buffer held: copy it into buf and set *got
 * to -1, or, if cap is too small, keep it and return IPCX_ENOBUFS with
 * ch->pending set. what names the endpoint in the message.
 */
IPCX__HIDDEN ssize_t ipcx__held_give(ipcx_chan *ch, const char *what,
                                     const void *held, ssize_t *got, void *buf,
                                     size_t cap);

/* ---- time (time.c) ---- */

/* CLOCK_MONOTONIC now, in nanoseconds. */
IPCX__HIDDEN int64_t ipcx__now_ns(void);
/* Absolute deadline for a timeout in ms: -1 stays -1 (forever). */
IPCX__HIDDEN int64_t ipcx__deadline(int timeout_ms);
/* Milliseconds left, rounded up, for poll(): -1 forever, 0 if past. */
IPCX__HIDDEN int ipcx__remaining_ms(int64_t deadline);
/*
 * ipcx__timespec_left - the time left until deadline as a relative
 * timespec in *ts (0 once past), for calls that take one (semtimedop,
 * futex): returns ts, or NULL for -1 (no limit).
 */
IPCX__HIDDEN struct timespec *ipcx__timespec_left(int64_t deadline,
                                                  struct timespec *ts);
/* Whether the deadline has passed (never for -1). */
IPCX__HIDDEN bool ipcx__expired(int64_t deadline);
/*
 * ipcx__poll1 - wait for events on fd until deadline, retrying EINTR with the
 * time left. Returns the revents (> 0), IPCX_ETIMEDOUT or IPCX_E*.
 */
IPCX__HIDDEN int ipcx__poll1(int fd, short events, int64_t deadline);

/* ---- stream framing (frame.c) ---- */

/* Frame header: 4-byte big-endian payload length. */
#define IPCX__FRAME_HDR 4
IPCX__HIDDEN void ipcx__frame_put(uint8_t hdr[IPCX__FRAME_HDR], uint32_t len);
/* ipcx__frame_len - the announced length, unchecked (the one decoder). */
IPCX__HIDDEN uint32_t ipcx__frame_len(const uint8_t hdr[IPCX__FRAME_HDR]);
/*
 * ipcx__frame_get - decode a header: *len is set to the announced length;
 * returns IPCX_EMSGSIZE (message set) if it exceeds maxmsg, else 0.
 */
IPCX__HIDDEN int ipcx__frame_get(const uint8_t hdr[IPCX__FRAME_HDR],
                                 size_t maxmsg, uint32_t *len);

#endif /* IPCX_INTERNAL_H */
