/*
 * rm.c - `ipcx rm [-f] ENDPOINT...`: remove the named object behind each
 * endpoint (a shm segment, a FIFO, a unix socket file, a message queue, a
 * semaphore) with ipcx_unlink; one some process holds only with -f.
 */
#include "cli.h"
#include "holders.h"
#include "util.h"

#include "ipcx.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

static const char rm_usage[] =
    "usage: ipcx rm [OPTIONS] ENDPOINT...\n"
    "\n"
    "Remove the named object behind each ENDPOINT: the /dev/shm segment of\n"
    "shm://name, the FIFO of fifo:///path, the socket file of unix:///path,\n"
    "the queue of mq://name (mq_unlink) or of sysv-mq://KEY (IPC_RMID),\n"
    "the semaphore of sem://name (sem_unlink), the set of sysv-sem://KEY\n"
    "(IPC_RMID), the buffer of semshm://name with its semaphore set.\n"
    "Channels already open keep working; new ones cannot find the name,\n"
    "so an object some process holds is named with its holders and kept.\n"
    "\n"
    "  -f, --force    remove objects in use too, and say nothing about\n"
    "                 objects that do not exist (as rm -f)\n"
    "  -h, --help     show this help\n"
    "  -V, --version  show the version\n"
    "\n"
    "Exit status: 0 ok, 1 error (an object could not be removed), 2 usage.\n";

static const struct option rm_opts[] = {
    {"force", no_argument, NULL, 'f'},
    CLI_OPTS_END,
};

int cmd_rm(int argc, char **argv)
{
	struct cli_args a = CLI_ARGS("rm", rm_usage, "f", rm_opts, argc, argv);
	bool force = false;
	char who[512];
	const char *ep;
	int c, r, rc;

	while ((c = cli_args_next(&a)) > 0) {
		if (c == 'f')
			force = true;
	}
	if (c == CLI_ARGS_EXIT)
		return a.rc;
	rc = cli_args_want(&a, 1, -1, "ENDPOINT");
	if (rc != CLI_OK)
		return rc;

	/* Go through all of them; one failure does not stop the others. */
	while ((ep = cli_args_operand(&a)) != NULL) {
		/* A live receiver would wait on a name nobody can reach. */
		if (!force && cli_holders(ep, who, sizeof(who), NULL) > 0) {
			fprintf(stderr,
			        "ipcx: %s: in use by %s; removing it strands "
			        "them (stop them first, or `ipcx rm --force "
			        "%s`)\n",
			        ep, who, ep);
			rc = CLI_ERR;
			continue;
		}
		r = ipcx_unlink(ep);
		if (r == 0 || (r == IPCX_ENOENT && force))
			continue;
		cli_fail(ep, r, NULL);
		rc = CLI_ERR;
	}
	return rc;
}
