/*
 * rm.c - `ipcx rm [-f] ENDPOINT...`: remove the named object behind each
 * endpoint (a shm segment, a FIFO, a unix socket file, a message queue, a
 * semaphore) with ipcx_unlink.
 */
#include "cli.h"
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
    "Channels already open keep working; new ones cannot find the name.\n"
    "\n"
    "  -f, --force    say nothing about objects that do not exist\n"
    "  -h, --help     show this help\n"
    "  -V, --version  show the version\n"
    "\n"
    "Exit status: 0 ok, 1 error (an object could not be removed), 2 usage.\n";

static const struct option rm_opts[] = {
    {"force", no_argument, NULL, 'f'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

int cmd_rm(int argc, char **argv)
{
	const char *cmd = "rm";
	bool force = false;
	int c, r, rc = CLI_OK;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":fhV", rm_opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			force = true;
			break;
		case 'h':
			return cli_help(rm_usage);
		case 'V':
			return cli_version();
		default:
			return cli_bad_option_in(cmd, c, argv, rm_opts);
		}
	}
	if (optind >= argc)
		return cli_usage_error(cmd, "missing ENDPOINT");

	/* Go through all of them; one failure does not stop the others. */
	for (; optind < argc; optind++) {
		r = ipcx_unlink(argv[optind]);
		if (r == 0 || (r == IPCX_ENOENT && force))
			continue;
		cli_fail(argv[optind], r, NULL);
		rc = CLI_ERR;
	}
	return rc;
}
