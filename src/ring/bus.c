/*
 * bus.c - a SIGBUS inside a guarded range of a shared mapping becomes a
 * jump back to the guard's start (see bus.h).
 */
#include "bus.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <string.h>

static _Thread_local struct ipcx__bus_guard *bus_top;
static struct sigaction bus_old;
static pthread_once_t bus_once = PTHREAD_ONCE_INIT;
static int bus_err;

static void bus_handler(int sig, siginfo_t *si, void *uc)
{
	const char *a = si->si_addr;

	for (struct ipcx__bus_guard *g = bus_top; g; g = g->prev)
		if (a >= g->lo && a < g->hi) {
			g->caught = 1;
			siglongjmp(g->jb, 1);
		}
	/* Not ours: what would have happened without us. */
	if ((bus_old.sa_flags & SA_SIGINFO) && bus_old.sa_sigaction) {
		bus_old.sa_sigaction(sig, si, uc);
		return;
	}
	if (bus_old.sa_handler != SIG_DFL && bus_old.sa_handler != SIG_IGN) {
		bus_old.sa_handler(sig);
		return;
	}
	/* Default: die of SIGBUS. Returning re-runs a faulting access,
	 * which then faults again with the default action; a sent SIGBUS
	 * is raised again instead. */
	signal(SIGBUS, SIG_DFL);
	if (si->si_code <= 0)
		raise(SIGBUS);
}

static void bus_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = bus_handler;
	/* SA_NODEFER: the jump out leaves SIGBUS unblocked without the
	 * system call a mask-restoring siglongjmp would cost. */
	sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, &bus_old) < 0)
		bus_err = errno;
}

int ipcx__bus_init(void)
{
	pthread_once(&bus_once, bus_install);
	if (bus_err)
		return ipcx__errno(bus_err, "sigaction(SIGBUS)");
	return 0;
}

void ipcx__bus_push(struct ipcx__bus_guard *g, const void *lo, size_t len)
{
	g->lo = lo;
	g->hi = (const char *)lo + len;
	g->caught = 0;
	g->prev = bus_top;
	/* A signal fence: the handler (same thread) sees the whole guard
	 * before it is linked. */
	atomic_signal_fence(memory_order_seq_cst);
	bus_top = g;
}

void ipcx__bus_pop(struct ipcx__bus_guard *g)
{
	bus_top = g->prev;
	atomic_signal_fence(memory_order_seq_cst);
	if (g->caught) {
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGBUS);
		pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	}
}
