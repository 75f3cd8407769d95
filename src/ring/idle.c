/*
 * idle.c - the adaptive idle strategy's arithmetic: how long to spin before
 * sleeping, learnt from the recent waits (see idle.h).
 */
#include "idle.h"

#include "futex.h"

#include <sched.h>
#include <string.h>

/* The longest wait one sample counts for (so that a single long idle
 * period is forgotten within a few dozen short waits). */
#define IDLE_SAMPLE_MAX (2 * IPCX__IDLE_CAP_NS)
/* Probes back off to one in 2^IDLE_PROBE_LOG_MAX waits. */
#define IDLE_PROBE_LOG_MAX 6
/* Ask again whether we have one CPU at most this often. */
#define IDLE_CPU_CHECK_NS 1000000000
/* A spin lasts this many times the average wait (bounded above). */
#define IDLE_SPIN_FACTOR 4

_Thread_local bool ipcx__idle_sent;

/* Below this average a wait of the kind is worth spinning for. */
static int64_t idle_limit(enum ipcx__idle_kind kind)
{
	return kind == IPCX__IDLE_REPLY ? IPCX__IDLE_CAP_NS
	                                : IPCX__IDLE_SHORT_NS;
}

int64_t ipcx__idle_budget(struct ipcx__idle *st, enum ipcx__idle_kind kind)
{
	int64_t limit = idle_limit(kind), b;

	st->probing = false;
	if (st->avg_ns < limit) {
		/* Should waits turn long, the first probe comes after one
		 * wait that sleeps at once. */
		st->probe_log = 0;
		st->probe_left = 1;
		/* A reply comes from a peer that is awake and answering: spin
		 * for up to what a sleep-and-wake costs (the classic
		 * 2-competitive bound). A stream's next message or a writer's
		 * room: a few times the recent wait, never less than a floor
		 * (so that one quick wait does not make the next spin too
		 * short to catch anything). */
		if (kind == IPCX__IDLE_REPLY)
			return IPCX__IDLE_CAP_NS;
		b = (int64_t)st->avg_ns * IDLE_SPIN_FACTOR;
		if (b < IPCX__IDLE_FLOOR_NS)
			b = IPCX__IDLE_FLOOR_NS;
		return b > IPCX__IDLE_CAP_NS ? IPCX__IDLE_CAP_NS : b;
	}
	if (st->probe_left > 0) {
		st->probe_left--;
		return 0;
	}
	/* Sleeping at once only ever shows us our own wake-up latency plus
	 * the peer's (if it sleeps too, each sees the other's): now and then
	 * spin anyway, backing off while the probes find nothing. */
	st->probing = true;
	if (st->probe_log < IDLE_PROBE_LOG_MAX)
		st->probe_log++;
	st->probe_left = (uint16_t)((1u << st->probe_log) - 1);
	return kind == IPCX__IDLE_REPLY ? IPCX__IDLE_CAP_NS
	                                : 2 * IPCX__IDLE_SHORT_NS;
}

void ipcx__idle_note(struct ipcx__idle *st, enum ipcx__idle_kind kind,
                     int64_t waited_ns, bool slept)
{
	int64_t s = waited_ns < 0                 ? 0
	            : waited_ns > IDLE_SAMPLE_MAX ? IDLE_SAMPLE_MAX
	                                          : waited_ns;
	int64_t avg = st->avg_ns;

	if (st->probing && !slept && s < idle_limit(kind)) {
		/* A probe caught it: trust this one sample over the history
		 * of sleeps, which overstated every wait by a wake-up. */
		st->probing = false;
		st->avg_ns = (uint32_t)s;
		st->probe_log = 0;
		st->probe_left = 0;
		return;
	}
	st->probing = false;
	st->avg_ns = (uint32_t)(avg + (s - avg) / 8);
}

static bool idle_one_cpu(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return false;
	return CPU_COUNT(&set) == 1;
}

void ipcx__idle_policy_init(struct ipcx__idle_policy *p,
                            const struct ipcx__ep *ep)
{
	memset(p, 0, sizeof(*p));
	p->wait = ep->wait;
	p->polls_set = (ep->set & IPCX__O_SPIN) != 0;
	p->polls = ep->spin;
	p->one_cpu = idle_one_cpu();
	p->cpu_chk_ns = ipcx__now_ns();
}

void ipcx__idle_begin(struct ipcx__idle_policy *p, struct ipcx__idle_wait *w,
                      enum ipcx__idle_kind kind)
{
	memset(w, 0, sizeof(*w));
	w->t0 = -1;
	w->kind = kind;
	if (p->wait == IPCX__WAIT_SLEEP) {
		w->budget = 0;
	} else if (!ipcx__idle_adaptive(p)) {
		w->budget = -1; /* spin, or spin=N polls */
	} else {
		w->est = &p->est[kind];
		w->budget = ipcx__idle_budget(w->est, kind);
	}
}

void ipcx__idle_end(struct ipcx__idle_wait *w)
{
	if (w->est)
		ipcx__idle_note(w->est, w->kind,
		                w->t0 < 0 ? 0 : ipcx__now_ns() - w->t0,
		                w->slept);
}

bool ipcx__idle_spinning(const struct ipcx__idle_policy *p,
                         const struct ipcx__idle_wait *w, int64_t now)
{
	if (p->wait == IPCX__WAIT_SPIN)
		return true;
	if (p->polls_set && p->wait == IPCX__WAIT_ADAPTIVE)
		return w->n < p->polls;
	return w->budget < 0 || now - w->t0 < w->budget;
}

void ipcx__idle_step(struct ipcx__idle_policy *p, struct ipcx__idle_wait *w,
                     int64_t now)
{
	if (p->polls_set)
		w->n++;
	/* With 50 us spins and no yield, a round trip between two unpinned
	 * processes that shared one CPU took 125 us (each spin held the CPU
	 * the other needed), against 17 us for two that slept. */
	if (w->est && (p->one_cpu || now - w->t0 >= IPCX__IDLE_YIELD_NS))
		sched_yield();
	else
		ipcx__cpu_relax();
}

void ipcx__idle_sleeping(struct ipcx__idle_policy *p, struct ipcx__idle_wait *w,
                         int64_t now)
{
	w->slept = true;
	if (now - p->cpu_chk_ns >= IDLE_CPU_CHECK_NS) {
		p->cpu_chk_ns = now;
		p->one_cpu = idle_one_cpu();
	}
}
