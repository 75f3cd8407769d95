/*
 * ls.c - `ipcx ls`: print every IPC object on the system and the processes
 * that hold it, as a table or as JSON. The facts come from
 * src/inspect/objects.c; this file only chooses, orders and prints them.
 *
 * POSIX queues can be listed only when the mqueue file system is mounted
 * on /dev/mqueue: as root ls mounts it (and says so on stderr), otherwise
 * it says how.
 */
#include "cli.h"
#include "util.h"

#include "../../src/inspect/objects.h"

#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static const char ls_usage[] =
    "usage: ipcx ls [OPTIONS]\n"
    "\n"
    "List every IPC object on the system, not only ipcx's: POSIX queues\n"
    "(/dev/mqueue), POSIX shared memory and named semaphores (/dev/shm),\n"
    "ipcx rings (with their receiver and the bytes queued), System V\n"
    "queues, segments and semaphore sets (/proc/sysvipc), named FIFOs\n"
    "that some process holds open and named unix sockets\n"
    "(/proc/net/unix). For each, the processes that hold it (an open\n"
    "descriptor or a mapping: PID/command) and a '!' flag on objects\n"
    "anyone may write.\n"
    "\n"
    "  -t, --type KIND[,KIND...]  only these kinds: mq, shm, sem, ring,\n"
    "                    sysv-mq, sysv-shm, sysv-sem, fifo, unix\n"
    "  -p, --pid PID     only objects PID holds\n"
    "      --json        one JSON document on stdout\n"
    "  -h, --help        show this help\n"
    "  -V, --version     show the version\n"
    "\n"
    "As root, ls mounts the mqueue file system on /dev/mqueue if it is not\n"
    "mounted (POSIX queues cannot be listed otherwise) and says so.\n"
    "Other users' processes may be unreadable: their holders are missing\n"
    "and a note on stderr says how many.\n"
    "Options may come anywhere on the line; '--' ends them.\n"
    "Exit status: 0 ok, 1 error, 2 usage error.\n";

enum { LS_OPT_JSON = 256 };

static const struct option ls_opts[] = {
    {"type", required_argument, NULL, 't'},
    {"pid", required_argument, NULL, 'p'},
    {"json", no_argument, NULL, LS_OPT_JSON},
    CLI_OPTS_END,
};

/* ls_types - parse "mq,ring" into kind bits; false on an unknown name. */
static bool ls_types(const char *cmd, const char *arg, unsigned *kinds)
{
	char *dup = strdup(arg), *save = NULL, *w;
	bool ok = dup != NULL;

	for (w = dup ? strtok_r(dup, ",", &save) : NULL; w != NULL && ok;
	     w = strtok_r(NULL, ",", &save)) {
		int k = ipcx__obj_kind_parse(w);
		if (k < 0) {
			cli_usage_error(cmd, "unknown kind '%s'", w);
			ok = false;
		} else {
			*kinds |= 1u << k;
		}
	}
	free(dup);
	return ok;
}

/*
 * ls_mq_mount - make /dev/mqueue listable: mount it as root (say so on
 * stderr), otherwise say how.
 */
static void ls_mq_mount(void)
{
	if (ipcx__objs_mq_mounted())
		return;
	if (geteuid() == 0) {
		mkdir("/dev/mqueue", 01777);
		if (mount("none", "/dev/mqueue", "mqueue", 0, NULL) == 0) {
			fprintf(stderr, "ipcx ls: mounted the mqueue file "
			                "system on /dev/mqueue to list POSIX "
			                "queues\n");
			return;
		}
		fprintf(stderr,
		        "ipcx ls: POSIX queues not listed: mount -t mqueue "
		        "none /dev/mqueue: %s\n",
		        strerror(errno));
		return;
	}
	fprintf(stderr,
	        "ipcx ls: POSIX queues not listed: /dev/mqueue is not "
	        "mounted (as root: mount -t mqueue none /dev/mqueue)\n");
}

/* ls_owner - the user name for uid, or the number, or "-". */
static void ls_owner(long long uid, char *buf, size_t cap)
{
	struct passwd *pw;

	if (uid < 0) {
		snprintf(buf, cap, "-");
		return;
	}
	pw = getpwuid((uid_t)uid);
	if (pw != NULL)
		snprintf(buf, cap, "%s", pw->pw_name);
	else
		snprintf(buf, cap, "%lld", uid);
}

/* ls_name - the object's name as ls prints it, control bytes escaped. */
static void ls_name(const struct ipcx__obj *o, char *buf, size_t cap)
{
	const char *s = o->name;
	size_t n = 0;

	if (o->key >= 0) {
		snprintf(buf, cap, "key 0x%08llx id %lld", o->key, o->id);
		return;
	}
	for (; *s && n + 5 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f || c == '\\' || c == '"')
			n += (size_t)snprintf(buf + n, cap - n, "\\x%02x", c);
		else
			buf[n++] = (char)c;
	}
	buf[n] = '\0';
}

/* ls_state - the kind's live facts in a few words. */
static void ls_state(const struct ipcx__obj *o, char *buf, size_t cap)
{
	switch (o->kind) {
	case IPCX__OBJ_MQ:
		if (o->bytes >= 0) /* unknown when this user may not read it */
			snprintf(buf, cap, "%lld B queued", o->bytes);
		else
			snprintf(buf, cap, "-");
		return;
	case IPCX__OBJ_SYSV_MQ:
		snprintf(buf, cap, "%lld msgs %lld B", o->msgs, o->bytes);
		return;
	case IPCX__OBJ_RING:
		if (o->corrupt)
			snprintf(buf, cap, "header corrupt");
		else if (o->bytes < 0)
			snprintf(buf, cap, "unknown layout");
		else if (o->rx_pid > 0)
			snprintf(buf, cap, "%lld B queued, rx %lld%s", o->bytes,
			         o->rx_pid, o->rx_dead ? " (gone)" : "");
		else
			snprintf(buf, cap, "%lld B queued, no rx", o->bytes);
		return;
	case IPCX__OBJ_SYSV_SHM:
		snprintf(buf, cap, "%lld attached", o->nattch);
		return;
	case IPCX__OBJ_SYSV_SEM:
		snprintf(buf, cap, "%lld sems", o->nsems);
		return;
	case IPCX__OBJ_UNIX:
		snprintf(buf, cap, "%s%lld sockets",
		         o->listening ? "listening, " : "", o->sockets);
		return;
	default:
		snprintf(buf, cap, "-");
	}
}

/* ls_holders - "PID/comm,PID/comm" or "-". */
static void ls_holders(const struct ipcx__obj *o, char *buf, size_t cap)
{
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < o->nholders && n < cap; i++)
		n += (size_t)snprintf(buf + n, cap - n, "%s%d/%s", i ? "," : "",
		                      (int)o->holders[i].pid,
		                      o->holders[i].comm);
	if (o->nholders == 0)
		snprintf(buf, cap, "-");
}

enum { LS_NCOL = 7 };

static const char *const ls_heads[LS_NCOL] = {"KIND", "NAME",  "OWNER",  "MODE",
                                              "SIZE", "STATE", "HOLDERS"};

/* ls_cells - one row's cells (malloc'd), false when out of memory. */
static bool ls_cells(const struct ipcx__obj *o, char *cell[LS_NCOL])
{
	char name[8192], owner[64], mode[32], size[32], state[96];
	char holders[1024];

	ls_name(o, name, sizeof(name));
	ls_owner(o->uid, owner, sizeof(owner));
	if (o->mode >= 0)
		snprintf(mode, sizeof(mode), "%04llo%s", o->mode,
		         o->world_writable ? "!" : "");
	else
		snprintf(mode, sizeof(mode), "-");
	if (o->size >= 0)
		snprintf(size, sizeof(size), "%lld", o->size);
	else
		snprintf(size, sizeof(size), "-");
	ls_state(o, state, sizeof(state));
	ls_holders(o, holders, sizeof(holders));
	cell[0] = strdup(ipcx__obj_kind_name(o->kind));
	cell[1] = strdup(name);
	cell[2] = strdup(owner);
	cell[3] = strdup(mode);
	cell[4] = strdup(size);
	cell[5] = strdup(state);
	cell[6] = strdup(holders);
	for (int i = 0; i < LS_NCOL; i++)
		if (cell[i] == NULL)
			return false;
	return true;
}

/* ls_table - the objects kept (keep[i]) as an aligned table. */
static int ls_table(const struct ipcx__objs *objs, const bool *keep)
{
	size_t w[LS_NCOL], i, r, nrows = 0;
	char *(*cells)[LS_NCOL] = calloc(objs->n + 1, sizeof(*cells));
	int c, rc = CLI_OK;

	if (cells == NULL)
		return cli_errno("ls");
	for (c = 0; c < LS_NCOL; c++)
		w[c] = strlen(ls_heads[c]);
	for (i = 0; i < objs->n; i++) {
		if (!keep[i])
			continue;
		if (!ls_cells(&objs->v[i], cells[nrows++])) {
			errno = ENOMEM;
			rc = cli_errno("ls");
			break;
		}
		for (c = 0; c < LS_NCOL; c++)
			if (strlen(cells[nrows - 1][c]) > w[c])
				w[c] = strlen(cells[nrows - 1][c]);
	}
	if (rc == CLI_OK) {
		/* The last column is not padded: no trailing blanks. */
		for (c = 0; c < LS_NCOL; c++)
			printf("%-*s%s", c + 1 < LS_NCOL ? (int)w[c] : 0,
			       ls_heads[c], c + 1 < LS_NCOL ? "  " : "\n");
		for (r = 0; r < nrows; r++)
			for (c = 0; c < LS_NCOL; c++)
				printf(
				    "%-*s%s", c + 1 < LS_NCOL ? (int)w[c] : 0,
				    cells[r][c], c + 1 < LS_NCOL ? "  " : "\n");
	}
	for (r = 0; r < nrows; r++)
		for (c = 0; c < LS_NCOL; c++)
			free(cells[r][c]);
	free(cells);
	return rc;
}

/* ls_json_num - ,"name":v unless v is -1 (the kind has no such fact). */
static void ls_json_num(const char *name, long long v)
{
	if (v >= 0)
		printf(",\"%s\":%lld", name, v);
}

static void ls_json_obj(const struct ipcx__obj *o)
{
	char owner[64];
	size_t i;

	printf("{\"kind\":\"%s\"", ipcx__obj_kind_name(o->kind));
	if (o->key >= 0) {
		printf(",\"key\":\"0x%08llx\"", o->key);
	} else {
		printf(",\"name\":");
		cli_json_str(stdout, o->name);
	}
	ls_json_num("id", o->id);
	if (o->uid >= 0) {
		ls_owner(o->uid, owner, sizeof(owner));
		printf(",\"owner\":");
		cli_json_str(stdout, owner);
	}
	ls_json_num("uid", o->uid);
	ls_json_num("gid", o->gid);
	if (o->mode >= 0)
		printf(",\"mode\":\"%04llo\"", o->mode);
	ls_json_num("size", o->size);
	ls_json_num("bytes", o->bytes);
	ls_json_num("messages", o->msgs);
	ls_json_num("nattch", o->nattch);
	ls_json_num("nsems", o->nsems);
	ls_json_num("cpid", o->cpid);
	ls_json_num("lpid", o->lpid);
	if (o->kind == IPCX__OBJ_RING) {
		ls_json_num("receiver", o->rx_pid);
		printf(",\"receiver_gone\":%s,\"corrupt\":%s",
		       o->rx_dead ? "true" : "false",
		       o->corrupt ? "true" : "false");
	}
	if (o->kind == IPCX__OBJ_UNIX)
		printf(",\"listening\":%s,\"sockets\":%lld",
		       o->listening ? "true" : "false", o->sockets);
	printf(",\"world_writable\":%s,\"holders\":[",
	       o->world_writable ? "true" : "false");
	for (i = 0; i < o->nholders; i++) {
		const struct ipcx__holder *h = &o->holders[i];
		printf("%s{\"pid\":%d,\"comm\":", i ? "," : "", (int)h->pid);
		cli_json_str(stdout, h->comm);
		printf(",\"fd\":%s,\"map\":%s}",
		       h->how & IPCX__HOLD_FD ? "true" : "false",
		       h->how & IPCX__HOLD_MAP ? "true" : "false");
	}
	printf("]}");
}

static void ls_json(const struct ipcx__objs *objs, const bool *keep)
{
	size_t i;
	bool first = true;

	printf("{\"objects\":[");
	for (i = 0; i < objs->n; i++) {
		if (!keep[i])
			continue;
		printf(first ? "\n" : ",\n");
		ls_json_obj(&objs->v[i]);
		first = false;
	}
	printf("],\n\"mq_listed\":%s,\"unreadable_processes\":%zu}\n",
	       objs->mq_unmounted ? "false" : "true", objs->blind);
}

int cmd_ls(int argc, char **argv)
{
	const char *cmd = "ls";
	struct cli_args a =
	    CLI_ARGS(cmd, ls_usage, "t:p:", ls_opts, argc, argv);
	struct ipcx__objs objs;
	unsigned kinds = 0;
	long pid = 0;
	bool json = false, *keep;
	size_t i;
	int c, r, rc;

	while ((c = cli_args_next(&a)) > 0) {
		switch (c) {
		case 't':
			if (!ls_types(cmd, optarg, &kinds))
				return CLI_USAGE;
			break;
		case 'p':
			if (!cli_parse_count(optarg, &pid))
				return cli_usage_error(
				    cmd, "bad pid '%s': want a number >= 1",
				    optarg);
			break;
		case LS_OPT_JSON:
			json = true;
			break;
		}
	}
	if (c == CLI_ARGS_EXIT)
		return a.rc;
	rc = cli_args_want(&a, 0, 0, "");
	if (rc != CLI_OK)
		return rc;
	if (kinds == 0)
		kinds = (1u << IPCX__OBJ_COUNT) - 1;
	if (kinds & (1u << IPCX__OBJ_MQ))
		ls_mq_mount();

	memset(&objs, 0, sizeof(objs));
	r = ipcx__objs_list(&objs, kinds);
	if (r < 0) {
		fprintf(stderr, "ipcx ls: %s\n", ipcx_errmsg());
		ipcx__objs_free(&objs);
		return CLI_ERR;
	}
	keep = calloc(objs.n + 1, sizeof(*keep));
	if (keep == NULL) {
		ipcx__objs_free(&objs);
		return cli_errno("ls");
	}
	for (i = 0; i < objs.n; i++)
		keep[i] = pid == 0 || ipcx__obj_held_by(&objs.v[i], (pid_t)pid);
	if (json) {
		ls_json(&objs, keep);
		rc = CLI_OK;
	} else {
		rc = ls_table(&objs, keep);
	}
	if (objs.blind > 0)
		fprintf(stderr,
		        "ipcx ls: %zu processes could not be inspected "
		        "(another user's): their holdings are not shown\n",
		        objs.blind);
	free(keep);
	ipcx__objs_free(&objs);
	if (fflush(stdout) != 0 && rc == CLI_OK)
		rc = cli_errno("stdout");
	return rc;
}
