/*
 * clean.c - `ipcx clean [-n] [ENDPOINT...]`: remove objects ipcx left
 * behind that no process uses any more.
 *
 * With no ENDPOINT it scans /dev/shm for ipcx rings (files that start with
 * the ring magic of docs/FORMAT.md section 3) and semshm:// buffers
 * (/dev/shm/semshm.NAME, magic "IPXS") that no process maps or holds
 * open. Given endpoints, it checks each: shm:// and semshm:// as above
 * (a buffer goes with its semaphore set), a unix://
 * socket file nobody is bound to (absent from /proc/net/unix and connect()
 * refused), a fifo:// nobody holds open, a file:// spool's leftovers. Removal
 * goes through ipcx_unlink. Each check is made just before the removal; an
 * object in use is kept.
 */
#include "cli.h"
#include "util.h"

#include "ipcx.h"

#include "../../src/inspect/objects.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static const char clean_usage[] =
    "usage: ipcx clean [OPTIONS] [ENDPOINT...]\n"
    "\n"
    "Remove stale objects that ipcx made and no process uses any more.\n"
    "With no ENDPOINT: every ipcx ring and semshm buffer in /dev/shm that\n"
    "no process maps or holds open. Each ENDPOINT is checked the same way:\n"
    "shm://name, semshm://name (removed with its semaphore set),\n"
    "unix:///path (removed if nobody is bound to it: connect is refused),\n"
    "fifo:///path (removed if no process holds it open), file:///dir (a\n"
    "spool: temporary files of dead writers removed, messages claimed by\n"
    "dead receivers given back). Objects in use are never touched, nor\n"
    "other users' objects unless --all-users. One line is printed per\n"
    "object removed, with the reason:\n"
    "  removed shm://jobs: no process maps it, 64 bytes queued, owner uid 0\n"
    "\n"
    "  -n, --dry-run    print what would be removed, remove nothing\n"
    "      --all-users  clean other users' objects too (root)\n"
    "      --json       one JSON array of {endpoint, action, reason,\n"
    "                   uid, queued_bytes} instead of text\n"
    "  -h, --help     show this help\n"
    "  -V, --version  show the version\n"
    "\n"
    "Exit status: 0 ok, 1 error, 2 usage error.\n";

enum { CLEAN_OPT_ALL = 256, CLEAN_OPT_JSON };

static const struct option clean_opts[] = {
    {"dry-run", no_argument, NULL, 'n'},
    {"all-users", no_argument, NULL, CLEAN_OPT_ALL},
    {"json", no_argument, NULL, CLEAN_OPT_JSON},
    CLI_OPTS_END,
};

/*
 * The first word of every ipcx ring, a 32-bit value in the host's byte
 * order ("IPXR" in little-endian memory): docs/FORMAT.md section 3, the
 * constant IPCX__RING_MAGIC of src/ring/ring.h. Copied, not included:
 * the CLI uses only ipcx.h. A ring still being set up has 0 there.
 */
#define CLEAN_RING_MAGIC 0x52585049u
/* The first word of a semshm:// buffer ("IPXS"; src/transport/semshm.c). */
#define CLEAN_SEMSHM_MAGIC 0x53585049u

#define SHM_DIR "/dev/shm/"

/* Paths that some process maps or holds open, gathered from /proc. */
struct clean_used {
	char **paths;
	size_t n, cap;
	/* Some process could not be inspected (another user's, usually). */
	bool blind;
};

static int clean_used_add(struct clean_used *u, const char *path)
{
	char *dup;

	if (u->n == u->cap) {
		size_t cap = u->cap ? u->cap * 2 : 64;
		char **np = realloc(u->paths, cap * sizeof(*np));
		if (np == NULL)
			return -1;
		u->paths = np;
		u->cap = cap;
	}
	dup = strdup(path);
	if (dup == NULL)
		return -1;
	u->paths[u->n++] = dup;
	return 0;
}

static void clean_used_free(struct clean_used *u)
{
	while (u->n > 0)
		free(u->paths[--u->n]);
	free(u->paths);
}

static bool clean_used_has(const struct clean_used *u, const char *path)
{
	size_t i;

	for (i = 0; i < u->n; i++)
		if (strcmp(u->paths[i], path) == 0)
			return true;
	return false;
}

/* The file mappings of one process: the path field of /proc/PID/maps. */
static int clean_scan_maps(struct clean_used *u, const char *pid)
{
	char file[64], line[PATH_MAX + 128];
	FILE *f;
	char *p;
	size_t len;

	snprintf(file, sizeof(file), "/proc/%s/maps", pid);
	f = fopen(file, "re");
	if (f == NULL) {
		/* A process that exited meanwhile used nothing. */
		if (errno != ENOENT && errno != ESRCH)
			u->blind = true;
		return 0;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		p = strstr(line, " /");
		if (p == NULL)
			continue;
		p++;
		len = strcspn(p, "\n");
		p[len] = '\0';
		/* A name removed and made again is another file. */
		if (len > 10 && strcmp(p + len - 10, " (deleted)") == 0)
			continue;
		if (clean_used_add(u, p) < 0) {
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	return 0;
}

/* The open files of one process: the targets of /proc/PID/fd/N. */
static int clean_scan_fds(struct clean_used *u, const char *pid)
{
	char dir[64], link[64 + NAME_MAX + 2], target[PATH_MAX];
	struct dirent *e;
	ssize_t n;
	DIR *d;
	int rc = 0;

	snprintf(dir, sizeof(dir), "/proc/%s/fd", pid);
	d = opendir(dir);
	if (d == NULL) {
		if (errno != ENOENT && errno != ESRCH)
			u->blind = true;
		return 0;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s", dir, e->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0 || target[0] != '/')
			continue;
		target[n] = '\0';
		if (clean_used_add(u, target) < 0) {
			rc = -1;
			break;
		}
	}
	closedir(d);
	return rc;
}

/* clean_scan - gather every file any process maps or holds open. */
static int clean_scan(struct clean_used *u)
{
	struct dirent *e;
	DIR *d = opendir("/proc");

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		if (clean_scan_maps(u, e->d_name) < 0 ||
		    clean_scan_fds(u, e->d_name) < 0) {
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	return 0;
}

/*
 * clean_ring - whether the /dev/shm file at path starts with the magic
 * want: 1 yes, 0 no, -1 it cannot be opened (errno tells why).
 */
static int clean_ring(const char *path, struct stat *st, uint32_t want)
{
	uint32_t magic;
	ssize_t n;
	int fd;

	/* O_NOFOLLOW and O_NONBLOCK: never follow a link, never block. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		return 0;
	}
	n = pread(fd, &magic, sizeof(magic), 0);
	close(fd);
	return n == (ssize_t)sizeof(magic) && magic == want;
}

struct clean_ctx {
	bool dry_run;
	bool all_users; /* not only the caller's own objects */
	bool json;      /* JSON array on stdout */
	size_t printed; /* objects printed so far (JSON commas) */
	struct clean_used used;
	bool scanned;
	int rc;
};

static int clean_ensure_scan(struct clean_ctx *cx)
{
	if (cx->scanned)
		return 0;
	if (clean_scan(&cx->used) < 0)
		return cli_errno("scanning /proc");
	cx->scanned = true;
	return 0;
}

/*
 * clean_mine - whether clean may touch an object owned by uid: the
 * caller's own, or any with --all-users.
 */
static bool clean_mine(const struct clean_ctx *cx, uid_t uid)
{
	return cx->all_users || uid == geteuid();
}

/*
 * clean_unread - the bytes a ring at path holds unread (from its header,
 * as `ipcx ls` reads it), or -1 when unknown.
 */
static long long clean_unread(const char *path, const struct stat *st)
{
	static uint8_t hdr[IPCX__OBJS_RING_PAGE];
	struct ipcx__obj o;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = pread(fd, hdr, sizeof(hdr), 0);
	close(fd);
	memset(&o, 0, sizeof(o));
	o.bytes = -1;
	if (n <= 0 ||
	    ipcx__objs_ring_hdr(hdr, (size_t)n, (long long)st->st_size, &o) < 0)
		return -1;
	return o.bytes;
}

/*
 * clean_print - one object acted on: "<act> <what>: <reason>", or with
 * --json an element of the array (uid -1 and queued -1: unknown).
 */
static void clean_print(struct clean_ctx *cx, const char *act, const char *what,
                        const char *reason, long long uid, long long queued)
{
	if (cx->json) {
		printf("%s\n{\"endpoint\":", cx->printed ? "," : "");
		cli_json_str(stdout, what);
		printf(",\"action\":\"%s\",\"reason\":", act);
		cli_json_str(stdout, reason);
		printf(",\"uid\":%lld,\"queued_bytes\":%lld}", uid, queued);
	} else {
		printf("%s %s: %s\n", act, what, reason);
	}
	cx->printed++;
	fflush(stdout);
}

/*
 * clean_remove - remove (or, dry, name) the stale object behind ep,
 * printing why: "<why>, [N bytes queued, ]owner uid U".
 */
static void clean_remove(struct clean_ctx *cx, const char *ep, const char *why,
                         const struct stat *st, long long unread)
{
	const char *act = cx->dry_run ? "would remove" : "removed";
	char reason[160], more[48] = "";
	int r;

	if (!cx->dry_run) {
		r = ipcx_unlink(ep);
		if (r == IPCX_ENOENT)
			return; /* someone else cleaned it meanwhile */
		if (r < 0) {
			cx->rc = cli_fail(ep, r, NULL);
			return;
		}
	}
	if (unread >= 0)
		snprintf(more, sizeof(more), ", %lld bytes queued", unread);
	snprintf(reason, sizeof(reason), "%s%s, owner uid %lu", why, more,
	         (unsigned long)st->st_uid);
	clean_print(cx, act, ep, reason, (long long)st->st_uid, unread);
}

/*
 * clean_shm - the ring /dev/shm/name (with semshm, the buffer
 * /dev/shm/semshm.name), if no process maps it or holds it open. When
 * some process could not be inspected, one that other users may open
 * (mode beyond 0600) is kept: it might be theirs to use.
 */
static void clean_shm(struct clean_ctx *cx, const char *name, bool semshm,
                      bool quiet)
{
	char path[sizeof(SHM_DIR) + NAME_MAX + 8], ep[sizeof(path) + 16];
	struct stat st;
	int r;

	if (name[0] == '\0' || strchr(name, '/') != NULL ||
	    strlen(name) > NAME_MAX) {
		if (!quiet) {
			fprintf(stderr, "ipcx: shm://%s: not a shm name\n",
			        name);
			cx->rc = CLI_ERR;
		}
		return;
	}
	snprintf(path, sizeof(path), SHM_DIR "%s%s", semshm ? "semshm." : "",
	         name);
	snprintf(ep, sizeof(ep), "%s://%s", semshm ? "semshm" : "shm", name);
	r = clean_ring(path, &st,
	               semshm ? CLEAN_SEMSHM_MAGIC : CLEAN_RING_MAGIC);
	if (r < 0 && errno == ENOENT)
		return; /* nothing to clean */
	if (r <= 0) {
		if (!quiet) {
			if (r < 0)
				fprintf(stderr, "ipcx: %s: %s: %s\n", ep, path,
				        strerror(errno));
			else
				fprintf(stderr,
				        "ipcx: %s: not an ipcx %s, left "
				        "alone\n",
				        ep, semshm ? "semshm buffer" : "ring");
			cx->rc = CLI_ERR;
		}
		return;
	}
	if (!clean_mine(cx, st.st_uid))
		return; /* another user's: only with --all-users */
	if (clean_ensure_scan(cx) != 0) {
		cx->rc = CLI_ERR;
		return;
	}
	if (clean_used_has(&cx->used, path))
		return;
	if (cx->used.blind && (st.st_mode & 077) != 0)
		return;
	clean_remove(cx, ep, "no process maps it or holds it open", &st,
	             semshm ? -1 : clean_unread(path, &st));
}

/* Every ring in /dev/shm. */
static void clean_all_shm(struct clean_ctx *cx)
{
	struct dirent *e;
	DIR *d = opendir(SHM_DIR);

	if (d == NULL) {
		if (errno != ENOENT)
			cx->rc = cli_errno(SHM_DIR);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (strncmp(e->d_name, "semshm.", 7) == 0)
			clean_shm(cx, e->d_name + 7, true, true);
		clean_shm(cx, e->d_name, false, true);
	}
	closedir(d);
}

/*
 * clean_unix_bound - whether some socket is bound to path: listed in
 * /proc/net/unix (this network namespace). The listing does not disturb a
 * listener, unlike a connection would.
 */
static bool clean_unix_bound(const char *path)
{
	char line[PATH_MAX + 128], *p;
	FILE *f = fopen("/proc/net/unix", "re");
	int field;
	bool found = false;

	if (f == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		/* Num RefCount Protocol Flags Type St Inode Path */
		p = line;
		for (field = 0; field < 7 && p != NULL; field++) {
			p = strchr(p, ' ');
			if (p != NULL)
				p += strspn(p, " ");
		}
		if (p == NULL)
			continue;
		p[strcspn(p, "\n")] = '\0';
		found = strcmp(p, path) == 0;
	}
	fclose(f);
	return found;
}

/*
 * clean_unix_stale - whether nobody listens on the socket file path:
 * nothing bound to it, and a connection is refused. Anything unclear keeps
 * the file.
 */
static bool clean_unix_stale(const char *path)
{
	struct sockaddr_un sa;
	int fd, r, e;

	if (clean_unix_bound(path) || strlen(path) >= sizeof(sa.sun_path))
		return false;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return false;
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	e = errno;
	close(fd);
	return r < 0 && e == ECONNREFUSED;
}

/* path is the part of ep between "scheme://" and '?'; cap >= PATH_MAX. */
static bool clean_path(const char *rest, char *path, size_t cap)
{
	size_t len = strcspn(rest, "?");

	if (len == 0 || len >= cap || rest[0] != '/')
		return false;
	memcpy(path, rest, len);
	path[len] = '\0';
	return true;
}

/*
 * Spool leftovers (docs/FORMAT.md section 5), by name: t.<16 hex>.<16 hex>
 * a message being written, c.<20 dec>.<16 hex>.<16 hex>.<16 hex> one being
 * received. Each is held by an OFD lock while its process lives.
 */
#define SPOOL_TMP_LEN   35
#define SPOOL_CLAIM_LEN 73

/*
 * clean_spool_dead - whether nobody holds a lock on dir/name: we get a
 * write lock on it at once (the kernel dropped its holder's on death,
 * whatever PID namespace the holder ran in). The fd, still locked, goes
 * to *fdp so the entry is handled while we hold it.
 */
static bool clean_spool_dead(int dir, const char *name, int *fdp)
{
	struct flock fl;
	int fd =
	    openat(dir, name, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return false;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_OFD_SETLK, &fl) < 0) {
		close(fd);
		return false;
	}
	*fdp = fd;
	return true;
}

/*
 * clean_spool - in the spool at path: remove the temporary files of dead
 * writers, and give the messages that dead receivers had claimed back to
 * the spool (c.X.rx renamed to m.X), so nothing is lost.
 */
static void clean_spool(struct clean_ctx *cx, const char *ep, const char *path)
{
	int dir = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct dirent *e;
	DIR *d;

	if (dir < 0) {
		if (errno != ENOENT) {
			fprintf(stderr, "ipcx: %s: %s\n", ep, strerror(errno));
			cx->rc = CLI_ERR;
		}
		return;
	}
	d = fdopendir(dir);
	if (d == NULL) {
		close(dir);
		cx->rc = cli_errno(path);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		bool tmp = len == SPOOL_TMP_LEN && !strncmp(e->d_name, "t.", 2);
		bool claim =
		    len == SPOOL_CLAIM_LEN && !strncmp(e->d_name, "c.", 2);
		char back[SPOOL_CLAIM_LEN], what[PATH_MAX + 80];
		int fd;

		if ((!tmp && !claim) || !clean_spool_dead(dir, e->d_name, &fd))
			continue;
		if (tmp && !cx->dry_run && unlinkat(dir, e->d_name, 0) < 0)
			tmp = false;
		if (claim) {
			/* m.<stamp>.<chan>.<seq>: the name without ".<rx>" */
			snprintf(back, sizeof(back), "m.%.54s", e->d_name + 2);
			if (!cx->dry_run && renameat2(dir, e->d_name, dir, back,
			                              RENAME_NOREPLACE) < 0)
				claim = false;
		}
		close(fd);
		if (tmp) {
			snprintf(what, sizeof(what), "%s/%s", ep, e->d_name);
			clean_print(
			    cx, cx->dry_run ? "would remove" : "removed", what,
			    "its writer died mid-message", -1, -1);
		}
		if (claim) {
			snprintf(what, sizeof(what), "%s/%s", ep, back);
			clean_print(
			    cx, cx->dry_run ? "would restore" : "restored",
			    what, "a dead receiver's message, given back", -1,
			    -1);
		}
	}
	closedir(d);
	fflush(stdout);
}

static void clean_endpoint(struct clean_ctx *cx, const char *ep)
{
	char path[PATH_MAX];
	struct stat st;

	if (strncmp(ep, "shm://", 6) == 0 || strncmp(ep, "semshm://", 9) == 0) {
		bool semshm = ep[1] == 'e';
		const char *rest = ep + (semshm ? 9 : 6);
		size_t len = strcspn(rest, "?");
		char name[NAME_MAX + 1];
		if (len > NAME_MAX) {
			fprintf(stderr, "ipcx: %s: name too long\n", ep);
			cx->rc = CLI_ERR;
			return;
		}
		memcpy(name, rest, len);
		name[len] = '\0';
		clean_shm(cx, name, semshm, false);
		return;
	}
	if (strncmp(ep, "unix://@", 8) == 0)
		return; /* abstract: the name dies with its last socket */
	if (strncmp(ep, "unix://", 7) == 0) {
		if (!clean_path(ep + 7, path, sizeof(path))) {
			fprintf(stderr, "ipcx: %s: not a unix socket path\n",
			        ep);
			cx->rc = CLI_ERR;
		} else if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) &&
		           clean_mine(cx, st.st_uid) &&
		           clean_unix_stale(path)) {
			clean_remove(cx, ep, "nobody is bound to it", &st, -1);
		}
		return;
	}
	if (strncmp(ep, "fifo://", 7) == 0) {
		if (!clean_path(ep + 7, path, sizeof(path))) {
			fprintf(stderr, "ipcx: %s: not a FIFO path\n", ep);
			cx->rc = CLI_ERR;
			return;
		}
		if (lstat(path, &st) < 0 || !S_ISFIFO(st.st_mode) ||
		    !clean_mine(cx, st.st_uid))
			return;
		if (clean_ensure_scan(cx) != 0) {
			cx->rc = CLI_ERR;
			return;
		}
		if (!clean_used_has(&cx->used, path))
			clean_remove(cx, ep, "no process holds it open", &st,
			             -1);
		return;
	}
	if (strncmp(ep, "file://", 7) == 0) {
		if (!clean_path(ep + 7, path, sizeof(path))) {
			fprintf(stderr, "ipcx: %s: not a spool path\n", ep);
			cx->rc = CLI_ERR;
			return;
		}
		clean_spool(cx, ep, path);
		return;
	}
	fprintf(stderr,
	        "ipcx: %s: clean knows shm://, semshm://, unix://, fifo:// and "
	        "file:// endpoints (use 'ipcx rm' for others)\n",
	        ep);
	cx->rc = CLI_ERR;
}

int cmd_clean(int argc, char **argv)
{
	struct cli_args a =
	    CLI_ARGS("clean", clean_usage, "n", clean_opts, argc, argv);
	struct clean_ctx cx;
	const char *ep;
	int c;

	memset(&cx, 0, sizeof(cx));
	while ((c = cli_args_next(&a)) > 0) {
		if (c == 'n')
			cx.dry_run = true;
		else if (c == CLEAN_OPT_ALL)
			cx.all_users = true;
		else if (c == CLEAN_OPT_JSON)
			cx.json = true;
	}
	if (c == CLI_ARGS_EXIT)
		return a.rc;
	if (cx.json)
		putchar('[');
	if (cli_args_left(&a) == 0)
		clean_all_shm(&cx);
	while ((ep = cli_args_operand(&a)) != NULL)
		clean_endpoint(&cx, ep);
	if (cx.json)
		printf("%s]\n", cx.printed ? "\n" : "");
	clean_used_free(&cx.used);
	return cx.rc;
}
