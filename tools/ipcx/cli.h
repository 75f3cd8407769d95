/*
 * cli.h - what the ipcx command's subcommand files share. One file per
 * subcommand: each defines cmd_<name>(argc, argv) with argv[0] the
 * subcommand's name, and returns the process exit status. Each reads its
 * command line with struct cli_args (util.h, args.c), so -h, -V, unknown
 * options and '--' behave the same everywhere.
 */
#ifndef IPCX_CLI_H
#define IPCX_CLI_H

/* Exit statuses, documented in ipcx(1). */
enum {
	CLI_OK = 0,  /* success */
	CLI_ERR = 1, /* an error; one line on stderr says what and what to do */
	CLI_USAGE = 2,   /* bad command line */
	CLI_TIMEOUT = 3, /* -t expired before the work was done */
};

int cmd_send(int argc, char **argv);
int cmd_recv(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_clean(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_bridge(int argc, char **argv);
int cmd_maps(int argc, char **argv);
int cmd_tour(int argc, char **argv);

/*
 * cli_send_open - open ep with IPCX_SEND; with timeout_ms >= 0 wait that
 * long for the receiver to appear (send.c). Prints the error; returns an
 * exit status.
 */
struct ipcx_chan;
int cli_send_open(const char *ep, int timeout_ms, struct ipcx_chan **chp);

#endif
