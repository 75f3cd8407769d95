/*
 * fuzz-watch.h - what the framing harnesses (fuzz-frame.c, fuzz-stream.c)
 * share: the invariant check, and a watch on the largest allocation made
 * while `watching` is set (through the sanitizer's malloc hook, installed
 * with fuzz_watch_install()). Define FUZZ_NAME before including it.
 */
#ifndef IPCX_FUZZ_WATCH_H
#define IPCX_FUZZ_WATCH_H

#include <sanitizer/allocator_interface.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

static volatile int watching;
static volatile size_t biggest;

static void on_malloc(const volatile void *p, size_t n)
{
	(void)p;
	if (watching && n > biggest)
		biggest = n;
}

static void on_free(const volatile void *p)
{
	(void)p;
}

static inline void fuzz_watch_install(void)
{
	__sanitizer_install_malloc_and_free_hooks(on_malloc, on_free);
}

/* A broken invariant is a finding: say which, and abort for libFuzzer. */
static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, FUZZ_NAME ": invariant broken: %s\n", what);
		abort();
	}
}

#endif
