/*
 * tour.h - what the two files of `ipcx tour` share: the output settings and
 * the first part, the address space (tour-space.c).
 */
#ifndef IPCX_CLI_TOUR_H
#define IPCX_CLI_TOUR_H

#include <stdbool.h>
#include <stdio.h>

struct tour_out {
	bool json;  /* one JSON document instead of text */
	bool ko;    /* Korean, the notes' language */
	bool color; /* bold headings (a terminal, NO_COLOR unset) */
};
extern struct tour_out tour_o;

/* tour_t - en or ko, as the tour speaks. */
const char *tour_t(const char *en, const char *ko);
/* tour_head - a heading line (nothing in JSON). */
void tour_head(const char *en, const char *ko);

/*
 * tour_space - part 1: this process's address space as the notes' table,
 * then a forked child's: one virtual address, two values, and the pages the
 * two still share. Text on f, or one JSON object (tour_o.json).
 */
void tour_space(FILE *f);

#endif
