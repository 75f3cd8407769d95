/*
 * signal.c - signal://: one 64-bit value a message, queued with sigqueue(2)
 * and taken with sigtimedwait(2).
 *
 * signal://PID sends to process PID (signal:// with IPCX_SEND sends to this
 * process); signal:// (or signal://<our own pid>) receives in this process.
 * The signal is SIGRTMIN+1 unless ?sig= picks another.
 *
 * A real-time signal carries a union sigval, pointer-sized: 8 bytes on
 * 64-bit Linux, so sival_ptr holds the whole message, one 64-bit value in
 * host byte order. A message is exactly 8 bytes (anything else is
 * IPCX_EMSGSIZE). Real-time signals queue in send order, up to the
 * receiving uid's RLIMIT_SIGPENDING; a full queue is IPCX_EAGAIN at once
 * (there is nothing to wait on for room). A classic signal (?sig=USR1,
 * USR2) carries no value and does not queue: pending ones merge into one,
 * so there a message is empty (0 bytes), an event.
 *
 * The receiver blocks the signal in the calling thread at open (other
 * threads must block it too: open the receiver before starting threads,
 * which inherit the mask, or block it in each; a thread that does not
 * block it takes the signal's default action, which ends the process).
 * Close leaves it blocked: unblocking with values still queued would end
 * the process. ipcx_fd() is a signalfd for the signal. ipcx_peer() gives
 * the sender's pid and uid from siginfo. One receiving channel per signal
 * per process: a second one is IPCX_EBUSY.
 */
#include "internal.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

/* The size of a message on a real-time signal: one 64-bit value. */
#define SIG_VALUE_LEN 8

struct sig_priv {
	int sig;
	bool value;   /* real-time: carries SIG_VALUE_LEN bytes, else 0 */
	pid_t pid;    /* whom we send to */
	int sfd;      /* receiver: the signalfd, -1 for a sender */
	bool claimed; /* receiver: sig_owner[sig] is this process */
	char name[64];
};

/*
 * Which process holds a receiving channel for each signal number: a pid
 * rather than a flag, so a child forked while its parent receives (and
 * which inherits this memory) may open its own receiver.
 */
static _Atomic pid_t sig_owner[65];

/* Claim signal sig for this process: false if one of our channels has it. */
static bool sig_claim(int sig)
{
	pid_t me = getpid();
	pid_t cur = atomic_load(&sig_owner[sig]);

	do {
		if (cur == me)
			return false;
	} while (!atomic_compare_exchange_weak(&sig_owner[sig], &cur, me));
	return true;
}

/* "RTMIN+1", "USR1", ... for messages. */
static void sig_label(int sig, char *buf, size_t cap)
{
	if (sig == SIGUSR1)
		snprintf(buf, cap, "SIGUSR1");
	else if (sig == SIGUSR2)
		snprintf(buf, cap, "SIGUSR2");
	else
		snprintf(buf, cap, "SIGRTMIN+%d", sig - SIGRTMIN);
}

/* Whether pid exists and we may signal it, as an IPCX_E* with a message. */
static int sig_check_pid(const struct sig_priv *p, bool sending)
{
	const char *verb = sending ? "send" : "open";

	if (kill(p->pid, 0) == 0)
		return 0;
	if (errno == ESRCH)
		return ipcx__err(sending ? IPCX_EPEER : IPCX_ENOPEER,
		                 "%s %s: no process %ld (it exited, or never "
		                 "ran; `ipcx recv signal://` prints its pid)",
		                 verb, p->name, (long)p->pid);
	if (errno == EPERM)
		return ipcx__err(IPCX_EACCES,
		                 "%s %s: may not signal process %ld (it "
		                 "belongs to another user; run as that user "
		                 "or root)",
		                 verb, p->name, (long)p->pid);
	return ipcx__errno(errno, "%s %s: kill(%ld, 0)", verb, p->name,
	                   (long)p->pid);
}

/*
 * open: a sender checks the target exists and may be signalled; a
 * receiver claims the signal in this process, blocks it in the calling
 * thread and makes the signalfd. Does not block.
 */
static int sig_open(ipcx_chan *ch)
{
	bool recv = ch->flags & IPCX_RECV;
	struct sig_priv *p;
	struct sigaction old;
	sigset_t set;
	char label[24];

	if (recv == !!(ch->flags & IPCX_SEND))
		return ipcx__err(
		    IPCX_EINVAL,
		    "signal://: an end either sends or receives: "
		    "open it with IPCX_SEND or IPCX_RECV, not both");
	p = calloc(1, sizeof(*p));
	if (!p)
		return ipcx__err(IPCX_ENOMEM, "out of memory");
	ch->priv = p;
	p->sfd = -1;
	p->sig = ch->ep.sig ? ch->ep.sig : SIGRTMIN + 1;
	p->value = p->sig >= SIGRTMIN;
	p->pid = ch->ep.pid ? ch->ep.pid : getpid();
	snprintf(p->name, sizeof(p->name), "signal://%ld", (long)p->pid);
	sig_label(p->sig, label, sizeof(label));

	if (!recv)
		return sig_check_pid(p, false);

	if (p->pid != getpid())
		return ipcx__err(IPCX_EINVAL,
		                 "%s: a process receives only its own signals "
		                 "(%ld is not this process, %ld): open "
		                 "signal:// to receive",
		                 p->name, (long)p->pid, (long)getpid());
	/* An ignored signal is discarded when sent: nothing would arrive. */
	if (sigaction(p->sig, NULL, &old) == 0 && old.sa_handler == SIG_IGN)
		return ipcx__err(IPCX_EBUSY,
		                 "%s: %s is ignored in this process (SIG_IGN), "
		                 "so values sent would be lost (set it to "
		                 "SIG_DFL first)",
		                 p->name, label);
	if (!sig_claim(p->sig))
		return ipcx__err(IPCX_EBUSY,
		                 "%s: another channel of this process already "
		                 "receives %s (pick another with ?sig=)",
		                 p->name, label);
	p->claimed = true;
	sigemptyset(&set);
	sigaddset(&set, p->sig);
	/* Blocked first: from here a value waits queued instead of
	 * taking the default action (which ends the process). */
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		return ipcx__err(IPCX_ESYS, "%s: cannot block %s", p->name,
		                 label);
	p->sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (p->sfd < 0)
		return ipcx__errno(errno, "%s: signalfd", p->name);
	return 0;
}

/*
 * send: queue one value (8 bytes; empty for a classic signal). Never
 * waits: a full queue is IPCX_EAGAIN naming RLIMIT_SIGPENDING.
 */
static int sig_send(ipcx_chan *ch, const void *buf, size_t len,
                    int64_t deadline)
{
	struct sig_priv *p = ch->priv;
	union sigval v;
	uint64_t x = 0;
	char label[24];

	(void)deadline;
	sig_label(p->sig, label, sizeof(label));
	if (!p->value && len != 0)
		return ipcx__err(IPCX_EMSGSIZE,
		                 "%s: %s is a classic signal: it carries no "
		                 "value and pending ones merge into one, so a "
		                 "message is empty, not %zu bytes (use a "
		                 "real-time signal, ?sig=RTMIN+1, the default, "
		                 "for 8-byte values)",
		                 p->name, label, len);
	if (p->value && len != SIG_VALUE_LEN)
		return ipcx__err(IPCX_EMSGSIZE,
		                 "%s: a signal carries exactly %d bytes (one "
		                 "64-bit value in host byte order), not %zu",
		                 p->name, SIG_VALUE_LEN, len);
	if (len)
		memcpy(&x, buf, sizeof(x));
	memset(&v, 0, sizeof(v));
#if UINTPTR_MAX < UINT64_MAX
	if (x > UINTPTR_MAX)
		return ipcx__err(IPCX_EMSGSIZE,
		                 "%s: a signal's value is %zu bytes on this "
		                 "machine; %llu does not fit",
		                 p->name, sizeof(v), (unsigned long long)x);
#endif
	/* sival_ptr is the pointer-sized member: all 64 bits travel. */
	v.sival_ptr = (void *)(uintptr_t)x;
	if (sigqueue(p->pid, p->sig, v) == 0)
		return 0;
	if (errno == EAGAIN)
		return ipcx__err(
		    IPCX_EAGAIN,
		    "%s: the queue of pending signals is full "
		    "(RLIMIT_SIGPENDING of the receiving user; let the "
		    "receiver catch up, or raise it: ulimit -i)",
		    p->name);
	return sig_check_pid(p, true);
}

/* sigtimedwait until deadline, EINTR retried with the time left. */
static int sig_wait(struct sig_priv *p, siginfo_t *si, int64_t deadline)
{
	sigset_t set;
	int r;

	sigemptyset(&set);
	sigaddset(&set, p->sig);
	for (;;) {
		if (deadline < 0) {
			r = sigwaitinfo(&set, si);
		} else {
			int64_t left = deadline - ipcx__now_ns();
			struct timespec ts;
			if (left < 0)
				left = 0;
			ts.tv_sec = (time_t)(left / 1000000000);
			ts.tv_nsec = (long)(left % 1000000000);
			r = sigtimedwait(&set, si, &ts);
		}
		if (r >= 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			return ipcx__err(IPCX_ETIMEDOUT,
			                 "recv %s: timed out (no signal came)",
			                 p->name);
		return ipcx__errno(errno, "recv %s: sigtimedwait", p->name);
	}
}

/*
 * recv: take the next queued value (FIFO for real-time signals). Blocks
 * until deadline. A buffer under 8 bytes gets IPCX_ENOBUFS once a value is
 * queued, and the value stays queued. A real-time signal sent without a
 * value (kill(2) rather than sigqueue) reads as 0.
 */
static ssize_t sig_recv(ipcx_chan *ch, void *buf, size_t cap, int64_t deadline)
{
	struct sig_priv *p = ch->priv;
	size_t len = p->value ? SIG_VALUE_LEN : 0;
	siginfo_t si;
	uint64_t x;
	int r;

	if (cap < len) {
		/* Peek by polling the signalfd: readable = one is queued. */
		r = ipcx__poll1(p->sfd, POLLIN, deadline);
		if (r == IPCX_ETIMEDOUT)
			return ipcx__err(IPCX_ETIMEDOUT,
			                 "recv %s: timed out (no signal came)",
			                 p->name);
		if (r < 0)
			return r;
		ch->pending = len;
		ch->has_pending = true;
		return ipcx__err(IPCX_ENOBUFS,
		                 "recv %s: a value is %zu bytes, the buffer "
		                 "%zu",
		                 p->name, len, cap);
	}
	r = sig_wait(p, &si, deadline);
	if (r < 0)
		return r;
	ch->peer.pid = si.si_pid;
	ch->peer.uid = si.si_uid;
	ch->peer.gid = (gid_t)-1;
	if (!len)
		return 0;
	x = si.si_code == SI_QUEUE ? (uint64_t)(uintptr_t)si.si_value.sival_ptr
	                           : 0;
	memcpy(buf, &x, sizeof(x));
	return (ssize_t)len;
}

/* fd: the receiver's signalfd, readable while a signal is queued. */
static int sig_fd(ipcx_chan *ch)
{
	struct sig_priv *p = ch->priv;

	if (p->sfd < 0)
		return ipcx__err(IPCX_ENOTSUP,
		                 "%s: a sending end has nothing to poll for",
		                 p->name);
	return p->sfd;
}

/*
 * close: closes the signalfd and gives the signal back to the process;
 * the signal stays blocked (see the top of the file).
 */
static int sig_close(ipcx_chan *ch)
{
	struct sig_priv *p = ch->priv;

	if (!p)
		return 0;
	if (p->sfd >= 0)
		close(p->sfd);
	if (p->claimed) {
		pid_t me = getpid();
		atomic_compare_exchange_strong(&sig_owner[p->sig], &me, 0);
	}
	free(p);
	ch->priv = NULL;
	return 0;
}

const struct ipcx__transport ipcx__tp_signal = {
    .scheme = IPCX__S_SIGNAL,
    .open = sig_open,
    .send = sig_send,
    .recv = sig_recv,
    .fd = sig_fd,
    .close = sig_close,
};
