/*
 * test-idle.c - the adaptive idle strategy (src/ring/idle.c): a fresh
 * estimate spins; waits that keep ending in a sleep make the next ones
 * sleep at once, with probes that back off; a probe that catches the
 * message, or a run of messages found at once, brings the spin back;
 * replies spin up to the cap while they come within it; wait=spin,
 * wait=sleep and spin=N keep their meaning; and a send and a receive on a
 * shm:// ring set and clear the thread's "sent" mark that makes the next
 * wait a reply wait. No timing is asserted: the estimates are fed
 * made-up waits.
 */
#include "t.h"

#include "ipcx.h"

#include "../src/ring/idle.h"

#include <string.h>

/* Feed n waits of ns each (slept or not); return the last budget. */
static int64_t feed(struct ipcx__idle *st, enum ipcx__idle_kind kind, int n,
                    int64_t ns, bool slept)
{
	int64_t b = 0;

	for (int i = 0; i < n; i++) {
		b = ipcx__idle_budget(st, kind);
		ipcx__idle_note(st, kind, ns, slept);
	}
	return b;
}

static void test_stream(void)
{
	struct ipcx__idle st;
	int probes = 0;

	/* Fresh: spin, at least the floor. */
	memset(&st, 0, sizeof(st));
	T_ASSERT(ipcx__idle_budget(&st, IPCX__IDLE_NEXT) ==
	         IPCX__IDLE_FLOOR_NS);
	ipcx__idle_note(&st, IPCX__IDLE_NEXT, 0, false);
	/* Waits of 2 us: spin about 4x that. */
	T_ASSERT(feed(&st, IPCX__IDLE_NEXT, 50, 2000, false) >=
	         IPCX__IDLE_FLOOR_NS);
	T_ASSERT(ipcx__idle_budget(&st, IPCX__IDLE_NEXT) <= IPCX__IDLE_CAP_NS);
	ipcx__idle_note(&st, IPCX__IDLE_NEXT, 2000, false);
	/* A stream paced at 60 us: sleep at once, but for the probes,
	 * which back off to one in 64 waits. */
	feed(&st, IPCX__IDLE_NEXT, 50, 60000, true);
	for (int i = 0; i < 640; i++) {
		int64_t b = ipcx__idle_budget(&st, IPCX__IDLE_NEXT);
		if (b > 0)
			probes++;
		T_ASSERT(b <= IPCX__IDLE_CAP_NS);
		/* A probe spins, finds nothing, sleeps. */
		ipcx__idle_note(&st, IPCX__IDLE_NEXT, 60000, true);
	}
	T_ASSERT(probes >= 10 && probes <= 20);
	/* A probe that catches a message within a short wait: spin again. */
	while (ipcx__idle_budget(&st, IPCX__IDLE_NEXT) == 0)
		ipcx__idle_note(&st, IPCX__IDLE_NEXT, 60000, true);
	ipcx__idle_note(&st, IPCX__IDLE_NEXT, 1500, false);
	T_ASSERT(ipcx__idle_budget(&st, IPCX__IDLE_NEXT) > 0);
	ipcx__idle_note(&st, IPCX__IDLE_NEXT, 1500, false);
	/* A long idle period, then a backlog found at once: spinning comes
	 * back within a few dozen messages, without any probe. */
	feed(&st, IPCX__IDLE_NEXT, 1, 5000000000, true);
	T_ASSERT(ipcx__idle_budget(&st, IPCX__IDLE_NEXT) == 0);
	for (int i = 0; i < 40; i++)
		ipcx__idle_note(&st, IPCX__IDLE_NEXT, 0, false);
	T_ASSERT(ipcx__idle_budget(&st, IPCX__IDLE_NEXT) > 0);
}

static void test_reply(void)
{
	struct ipcx__idle st;
	int64_t b;

	memset(&st, 0, sizeof(st));
	/* Replies within a few us: spin up to the cap. */
	T_ASSERT(feed(&st, IPCX__IDLE_REPLY, 20, 1000, false) ==
	         IPCX__IDLE_CAP_NS);
	/* Replies after 300 us (the spin gave up each time): sleep. */
	feed(&st, IPCX__IDLE_REPLY, 30, 300000, true);
	b = ipcx__idle_budget(&st, IPCX__IDLE_REPLY);
	ipcx__idle_note(&st, IPCX__IDLE_REPLY, 300000, true);
	T_ASSERT(b == 0 || b == IPCX__IDLE_CAP_NS); /* a probe spins the cap */
	/* Both sides asleep see each other's wake-up latency; a probe that
	 * catches a reply within the cap makes it spin again. */
	do {
		b = ipcx__idle_budget(&st, IPCX__IDLE_REPLY);
		if (b == 0)
			ipcx__idle_note(&st, IPCX__IDLE_REPLY, 300000, true);
	} while (b == 0);
	T_ASSERT(b == IPCX__IDLE_CAP_NS);
	ipcx__idle_note(&st, IPCX__IDLE_REPLY, 40000, false);
	T_ASSERT(ipcx__idle_budget(&st, IPCX__IDLE_REPLY) == IPCX__IDLE_CAP_NS);
}

static void test_policy(void)
{
	struct ipcx__idle_policy p;
	struct ipcx__idle_wait w;
	struct ipcx__ep ep;

	ipcx__ep_defaults(&ep, IPCX__S_SHM);
	ep.wait = IPCX__WAIT_SLEEP;
	ipcx__idle_policy_init(&p, &ep);
	ipcx__idle_begin(&p, &w, IPCX__IDLE_NEXT);
	w.t0 = 1000;
	T_ASSERT(!ipcx__idle_spinning(&p, &w, 1000));

	ep.wait = IPCX__WAIT_SPIN;
	ipcx__idle_policy_init(&p, &ep);
	ipcx__idle_begin(&p, &w, IPCX__IDLE_NEXT);
	w.t0 = 0;
	T_ASSERT(ipcx__idle_spinning(&p, &w, 3600 * 1000000000LL));
	T_ASSERT(w.est == NULL); /* nothing learnt */

	ep.wait = IPCX__WAIT_ADAPTIVE;
	ep.set |= IPCX__O_SPIN;
	ep.spin = 3;
	ipcx__idle_policy_init(&p, &ep);
	T_ASSERT(!ipcx__idle_adaptive(&p));
	ipcx__idle_begin(&p, &w, IPCX__IDLE_NEXT);
	w.t0 = 0;
	for (int i = 0; i < 3; i++) {
		T_ASSERT(ipcx__idle_spinning(&p, &w, 0));
		ipcx__idle_step(&p, &w, 0);
	}
	T_ASSERT(!ipcx__idle_spinning(&p, &w, 0));

	/* Adaptive: a fresh wait spins for its budget, then sleeps. */
	ep.set &= ~IPCX__O_SPIN;
	ipcx__idle_policy_init(&p, &ep);
	ipcx__idle_begin(&p, &w, IPCX__IDLE_NEXT);
	T_ASSERT(w.est == &p.est[IPCX__IDLE_NEXT]);
	w.t0 = 0;
	T_ASSERT(ipcx__idle_spinning(&p, &w, w.budget - 1));
	T_ASSERT(!ipcx__idle_spinning(&p, &w, w.budget));
	ipcx__idle_step(&p, &w, IPCX__IDLE_YIELD_NS); /* yields: returns */
	ipcx__idle_sleeping(&p, &w, 0);
	T_ASSERT(w.slept);
}

/* The thread's "sent" mark follows sends and receives on a ring. */
static void test_sent_mark(void)
{
	const char *name = t_name("idle");
	char ep[128], buf[16];
	ipcx_chan *ch;

	snprintf(ep, sizeof(ep), "shm://%s", name);
	T_OK(ipcx_open(ep, IPCX_SEND | IPCX_RECV, &ch));
	T_ASSERT(!ipcx__idle_sent);
	T_OK(ipcx_send(ch, "a", 1, 1000));
	T_ASSERT(ipcx__idle_sent);
	T_EXPECT(ipcx_recv(ch, buf, sizeof(buf), 1000), 1);
	T_ASSERT(!ipcx__idle_sent);
	/* A reply wait that times out leaves the mark alone. */
	T_OK(ipcx_send(ch, "b", 1, 1000));
	T_EXPECT(ipcx_recv(ch, buf, sizeof(buf), 1000), 1);
	T_EXPECT(ipcx_recv(ch, buf, sizeof(buf), 20), IPCX_ETIMEDOUT);
	T_OK(ipcx_close(ch));
	T_OK(ipcx_unlink(ep));
}

int main(void)
{
	t_leak_begin();
	test_stream();
	test_reply();
	test_policy();
	test_sent_mark();
	t_leak_end();
	return T_EXIT_PASS;
}
