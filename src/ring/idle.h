/*
 * idle.h - how long a waiter on a shared-memory ring spins before it
 * sleeps: the adaptive idle strategy behind shm:// ?wait=adaptive.
 *
 * Spinning pays CPU for every microsecond it waits; sleeping on a futex
 * pays a system call on each side and a wake-up (tens of microseconds
 * here). So spin only while recent waits say the message (or the room) is
 * likely to come within the spin, and sleep at once when they say it will
 * not: a receiver of a stream paced at 60 us or slower then costs what a
 * pipe's reader costs, while a request/response pair that answers within
 * microseconds keeps its sub-microsecond round trip. In the manner of
 * Agrona's BackoffIdleStrategy (spin, then yield, then park) and of the
 * kernel's adaptive mutex (spin only while the peer is likely to act
 * soon), with the estimate learnt per channel and per kind of wait:
 *
 *  - an exponentially weighted average of the recent waits (what a wait
 *    that ended in a sleep observed counts too: an overestimate, by the
 *    wake-up latency);
 *  - a wait is a "reply" wait when this thread sent on a shm:// ring since
 *    its last receive (request/response: the peer is awake and answering),
 *    otherwise a "next" wait (a stream); writers short of room have their
 *    own "room" estimate. Reply waits spin up to the cap as long as
 *    replies come within it; the others only while the average wait is
 *    below IPCX__IDLE_SHORT_NS, where spinning costs no more CPU than a
 *    sleep and a wake-up;
 *  - while the estimate says sleep at once, an occasional probe spins
 *    anyway (every 2, 4, ... 64 waits), so that a peer that sped up is
 *    noticed even when both sides sleep (each would otherwise only ever
 *    see the other's wake-up latency);
 *  - past IPCX__IDLE_YIELD_NS of spinning, or from the start when this
 *    thread may run on one CPU only, the spin yields the CPU between
 *    polls: a peer that shares our CPU gets to run and answer instead of
 *    waiting for us to give up.
 *
 * Nothing here is shared with other processes: it is private state and
 * arithmetic, with no system call (the caller reads the clock).
 */
#ifndef IPCX__IDLE_H
#define IPCX__IDLE_H

#include <stdbool.h>
#include <stdint.h>

#include "internal.h"

/* The longest spin before sleeping (about one sleep-and-wake here). */
#define IPCX__IDLE_CAP_NS 50000
/* A "next" or "room" wait spins only while waits average below this. */
#define IPCX__IDLE_SHORT_NS 10000
/* The shortest spin, once spinning is worth it at all. */
#define IPCX__IDLE_FLOOR_NS 4000
/* Past this much spinning, yield the CPU between polls. */
#define IPCX__IDLE_YIELD_NS 5000

/* The kinds of wait, each with its own estimate. */
enum ipcx__idle_kind {
	IPCX__IDLE_NEXT,  /* the next message of a stream */
	IPCX__IDLE_REPLY, /* a message after this thread sent one */
	IPCX__IDLE_ROOM,  /* room in a full ring, for a writer */
};

/* One estimate (private memory; zeroed is a valid start: spin). */
struct ipcx__idle {
	uint32_t avg_ns;     /* EWMA of recent waits, weight 1/8 */
	uint16_t probe_left; /* sleeping at once: waits until a probe */
	uint8_t probe_log;   /* log2 of the waits between probes */
	bool probing;        /* the current wait is a probe */
};

/*
 * ipcx__idle_budget - at the start of a wait of the given kind: how long
 * to spin (ns) before sleeping; 0 means sleep at once. Counts down the
 * waits to the next probe.
 */
IPCX__HIDDEN int64_t ipcx__idle_budget(struct ipcx__idle *st,
                                       enum ipcx__idle_kind kind);

/*
 * ipcx__idle_note - a wait of that kind ended after waited_ns (from its
 * start to the message or the room), slept: whether it went to sleep first. A
 * wait that found what it wanted before reading the clock notes 0.
 */
IPCX__HIDDEN void ipcx__idle_note(struct ipcx__idle *st,
                                  enum ipcx__idle_kind kind, int64_t waited_ns,
                                  bool slept);

/* ---- one waiter's policy and its waits, built on the estimates ---- */

/* A channel's wait policy (wait=, spin=) and its estimates. */
struct ipcx__idle_policy {
	enum ipcx__wait wait;
	bool polls_set; /* spin=N: spin N polls, then sleep (no estimate) */
	unsigned polls;
	bool one_cpu; /* we may run on one CPU only: yield, never spin */
	int64_t cpu_chk_ns;
	struct ipcx__idle est[3]; /* by enum ipcx__idle_kind */
};

/* One wait under a policy. */
struct ipcx__idle_wait {
	int64_t t0;     /* the first clock read, -1 before */
	int64_t budget; /* spin this long (ns), then sleep; -1: never sleep */
	struct ipcx__idle *est; /* wait=adaptive: the estimate it feeds */
	enum ipcx__idle_kind kind;
	unsigned n; /* polls (spin=N) */
	bool slept; /* it went to sleep at least once */
};

/* ipcx__idle_policy_init - from the endpoint's wait= and spin=. One
 * system call (sched_getaffinity). */
IPCX__HIDDEN void ipcx__idle_policy_init(struct ipcx__idle_policy *p,
                                         const struct ipcx__ep *ep);

/* ipcx__idle_adaptive - whether the estimates apply (not spin=N). */
static inline bool ipcx__idle_adaptive(const struct ipcx__idle_policy *p)
{
	return p->wait == IPCX__WAIT_ADAPTIVE && !p->polls_set;
}

/*
 * ipcx__idle_hit - what a wait of kind waited for was there at once:
 * teach its estimate (a wait of 0). No clock read.
 */
static inline void ipcx__idle_hit(struct ipcx__idle_policy *p,
                                  enum ipcx__idle_kind kind)
{
	if (ipcx__idle_adaptive(p))
		ipcx__idle_note(&p->est[kind], kind, 0, false);
}

/* ipcx__idle_begin - start a wait of kind: its budget, from the policy. */
IPCX__HIDDEN void ipcx__idle_begin(struct ipcx__idle_policy *p,
                                   struct ipcx__idle_wait *w,
                                   enum ipcx__idle_kind kind);

/* ipcx__idle_end - the wait got what it waited for: teach its estimate
 * (one clock read if it read the clock before). */
IPCX__HIDDEN void ipcx__idle_end(struct ipcx__idle_wait *w);

/*
 * ipcx__idle_spinning - whether the wait still spins at now (>= w->t0,
 * which the caller sets at its first clock read) rather than sleeps.
 */
IPCX__HIDDEN bool ipcx__idle_spinning(const struct ipcx__idle_policy *p,
                                      const struct ipcx__idle_wait *w,
                                      int64_t now);

/*
 * ipcx__idle_step - one round of a spin that goes on: a pause, or a yield
 * of the CPU once the wait=adaptive spin has lasted IPCX__IDLE_YIELD_NS,
 * or at once if we may run on one CPU only. A peer that shares our CPU
 * then runs and answers instead of waiting for our spin to give up.
 */
IPCX__HIDDEN void ipcx__idle_step(struct ipcx__idle_policy *p,
                                  struct ipcx__idle_wait *w, int64_t now);

/* ipcx__idle_sleeping - the wait is about to sleep (once a second this
 * asks again whether we have one CPU). */
IPCX__HIDDEN void ipcx__idle_sleeping(struct ipcx__idle_policy *p,
                                      struct ipcx__idle_wait *w, int64_t now);

/*
 * Whether this thread sent on a shm:// ring since its last receive on
 * one: set by a send or commit, cleared when a receive returns. It makes
 * the next wait a reply wait (IPCX__IDLE_REPLY).
 */
IPCX__HIDDEN extern _Thread_local bool ipcx__idle_sent;

#endif /* IPCX__IDLE_H */
