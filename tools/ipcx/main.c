/*
 * main.c - the ipcx command: dispatch to one subcommand.
 *
 *   ipcx COMMAND [ARGS...]      run COMMAND (argv[0] of it is its name)
 *   ipcx help [COMMAND]         general usage, or COMMAND's --help
 *   ipcx --help | --version
 */
#include "cli.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

struct cli_cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct cli_cmd cli_cmds[] = {
    {"send", cmd_send, "send messages to an endpoint"},
    {"recv", cmd_recv, "receive messages from an endpoint and print them"},
    {"rm", cmd_rm, "remove the named object behind endpoints"},
    {"clean", cmd_clean, "remove stale objects that ipcx left behind"},
    {"bench", cmd_bench, "measure round-trip time and throughput"},
    {"ls", cmd_ls, "list every IPC object on the system and its holders"},
    {"bridge", cmd_bridge, "relay every message from one endpoint to another"},
    {"maps", cmd_maps, "show a process's address space as the notes' table"},
    {"tour", cmd_tour,
     "the lecture notes, live: address space and the seven mechanisms"},
    {"help", NULL, "show this help, or a command's: ipcx help COMMAND"},
};

#define CLI_NCMDS (sizeof(cli_cmds) / sizeof(cli_cmds[0]))

static void main_usage(FILE *f)
{
	size_t i;

	fputs("usage: ipcx COMMAND [OPTIONS] [ARGS...]\n"
	      "       ipcx --help | --version\n"
	      "\n"
	      "One message API over Linux IPC. Endpoints:\n"
	      "  pipe://  fifo:///path  unix:///path  unix://@name\n"
	      "  tcp://host:port  udp://host:port  shm://name\n"
	      "  mq://name  sysv-mq://0x1234  sysv-mq:///path\n"
	      "\n"
	      "Commands:\n",
	      f);
	for (i = 0; i < CLI_NCMDS; i++)
		fprintf(f, "  %-7s %s\n", cli_cmds[i].name,
		        cli_cmds[i].summary);
	fputs("\n"
	      "Exit status: 0 ok, 1 error, 2 usage error, 3 timed out.\n"
	      "See 'ipcx COMMAND --help' and ipcx(1).\n",
	      f);
}

static const struct cli_cmd *main_find(const char *name)
{
	size_t i;

	for (i = 0; i < CLI_NCMDS; i++)
		if (strcmp(cli_cmds[i].name, name) == 0)
			return &cli_cmds[i];
	return NULL;
}

/*
 * main_distance - the edit distance of a and b (insertions, deletions,
 * substitutions, and swaps of two neighbours: "sned" is one from "send"),
 * for names of at most 15 bytes; larger otherwise.
 */
static size_t main_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, v;
	size_t d[16][16];

	if (la > 15 || lb > 15)
		return 99;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++)
		for (j = 1; j <= lb; j++) {
			v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	return d[la][lb];
}

/* main_suggest - the command closest to name (at most 2 edits), or NULL. */
static const char *main_suggest(const char *name)
{
	const char *best = NULL;
	size_t i, d, bestd = 3;

	for (i = 0; i < CLI_NCMDS; i++) {
		d = main_distance(name, cli_cmds[i].name);
		/* Two edits turn "rm" into nearly anything short: one there. */
		if (d < bestd && (d < 2 || strlen(cli_cmds[i].name) > 3)) {
			best = cli_cmds[i].name;
			bestd = d;
		}
	}
	return best;
}

/* ipcx help [COMMAND]: runs COMMAND --help so each text lives in one place. */
static int main_help(int argc, char **argv)
{
	const struct cli_cmd *c;
	char *args[3];

	if (argc < 2 || strcmp(argv[1], "help") == 0 ||
	    strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		main_usage(stdout);
		return fflush(stdout) == 0 ? CLI_OK : cli_errno("stdout");
	}
	c = main_find(argv[1]);
	if (c == NULL || argc > 2) {
		fprintf(stderr, "ipcx help: %s '%s' (try 'ipcx --help')\n",
		        c == NULL ? "unknown command" : "unexpected argument",
		        argv[c == NULL ? 1 : 2]);
		return CLI_USAGE;
	}
	args[0] = argv[1];
	args[1] = "--help";
	args[2] = NULL;
	return c->run(2, args);
}

int main(int argc, char **argv)
{
	const struct cli_cmd *c;
	const char *name;

	if (argc < 2) {
		main_usage(stderr);
		return CLI_USAGE;
	}
	name = argv[1];
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0)
		return main_help(1, argv + 1);
	if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0)
		return cli_version();
	if (name[0] == '-') {
		fprintf(stderr,
		        "ipcx: unknown option '%s' (try 'ipcx --help')\n",
		        name);
		return CLI_USAGE;
	}
	c = main_find(name);
	if (c == NULL) {
		const char *near = main_suggest(name);
		if (near != NULL)
			fprintf(stderr,
			        "ipcx: unknown command '%s' (did you mean "
			        "%s?)\n",
			        name, near);
		else
			fprintf(stderr,
			        "ipcx: unknown command '%s' (try 'ipcx "
			        "--help')\n",
			        name);
		return CLI_USAGE;
	}
	if (c->run == NULL)
		return main_help(argc - 1, argv + 1);
	return c->run(argc - 1, argv + 1);
}
