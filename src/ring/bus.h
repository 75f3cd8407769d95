/*
 * bus.h - surviving a shared mapping that another process truncates:
 * a SIGBUS inside a guarded section becomes a jump back to its start.
 *
 * Touching a page of a MAP_SHARED mapping past the end of its file raises
 * SIGBUS; anyone who may write the file can truncate it. For a ring that
 * another uid could truncate, each library call that touches the segment
 * runs guarded: ipcx__bus_push() records the mapping's range and a jump
 * buffer (set with sigsetjmp(g.jb, 0) right after, in the caller's frame),
 * and a process-wide SIGBUS handler, installed once by ipcx__bus_init(),
 * jumps there when the faulting address lies in a guarded range of the
 * faulting thread. Any other SIGBUS goes to the handler that was there
 * before (or kills the process, as without us). Memory the application
 * touches itself (a loaned or peeked pointer) is not guarded.
 */
#ifndef IPCX__BUS_H
#define IPCX__BUS_H

#include <setjmp.h>
#include <signal.h>
#include <stddef.h>

#include "internal.h"

struct ipcx__bus_guard {
	sigjmp_buf jb; /* set by the caller: sigsetjmp(g.jb, 0) */
	const char *lo, *hi;
	struct ipcx__bus_guard *prev;
	volatile sig_atomic_t caught; /* set by the handler before the jump */
};

/*
 * ipcx__bus_init - install the SIGBUS handler (once per process; it
 * chains to the one it replaces). Returns 0 or IPCX_ESYS.
 */
IPCX__HIDDEN int ipcx__bus_init(void);

/* ipcx__bus_push - guard [lo, lo + len) in this thread until the pop. */
IPCX__HIDDEN void ipcx__bus_push(struct ipcx__bus_guard *g, const void *lo,
                                 size_t len);

/*
 * ipcx__bus_pop - end the innermost guard (after a jump too: then it also
 * unblocks SIGBUS, which a runtime wrapping our handler, such as TSan's,
 * may leave blocked in spite of SA_NODEFER).
 */
IPCX__HIDDEN void ipcx__bus_pop(struct ipcx__bus_guard *g);

#endif /* IPCX__BUS_H */
