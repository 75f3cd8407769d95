/*
 * tour-space.c - part 1 of `ipcx tour`: the address space, as the notes draw
 * it, for this process and for a forked child.
 */
#include "tour.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

/* A variable in .data: one virtual address, a value per process. */
static volatile long tour_value = 1;

void tour_space(FILE *f)
{
	int p[2];
	long theirs = 0;
	pid_t child;

	fflush(f);
	if (pipe(p) < 0)
		return;
	child = fork();
	if (child == 0) {
		tour_value =
		    2; /* copy-on-write: only the child's page changes */
		if (write(p[1], (const void *)&tour_value, sizeof(long)) < 0)
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	if (child < 0 || read(p[0], &theirs, sizeof(theirs)) != sizeof(theirs))
		theirs = -1;
	close(p[0]);
	if (child > 0)
		waitpid(child, NULL, 0);
	if (tour_o.json) {
		fprintf(f,
		        "{\"variable\": {\"address\": \"%p\", \"parent\": %ld, "
		        "\"child\": %ld, \"child_pid\": %d}}",
		        (void *)&tour_value, tour_value, theirs, (int)child);
		return;
	}
	tour_head("1. One address, two processes",
	          "1. 하나의 주소, 두 프로세스");
	if (tour_o.ko)
		fprintf(
		    f,
		    "   변수 tour_value 의 가상 주소 %p: 부모(pid %d)에서는 "
		    "%ld, fork 한 자식(pid %d)에서는 %ld.\n"
		    "   프로세스 간 공간은 완전히 분리되어 있다.\n",
		    (void *)&tour_value, (int)getpid(), tour_value, (int)child,
		    theirs);
	else
		fprintf(
		    f,
		    "   tour_value at virtual address %p holds %ld in the "
		    "parent (pid %d) and %ld in its forked child (pid %d).\n"
		    "   The two spaces are fully separated.\n",
		    (void *)&tour_value, tour_value, (int)getpid(), theirs,
		    (int)child);
}
