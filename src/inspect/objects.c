/*
 * objects.c - list every IPC object on the system and the processes that
 * hold each one, from /dev/mqueue, /dev/shm, /proc/sysvipc, /proc/net/unix
 * and /proc/PID/{fd,maps}. Reads only; prints nothing.
 *
 * First each collector (one per source, in objs_sources) adds the objects
 * it sees; then one pass over /proc matches every open descriptor and
 * every mapping against them by device and inode (sockets by inode, System
 * V segments by shmid), and adds the named FIFOs it meets. Everything read
 * is untrusted text or a hostile ring header: every line is parsed bounded,
 * every ring field is loaded once and checked.
 */
#include "objects.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define OBJS_MQ_DIR   "/dev/mqueue"
#define OBJS_SHM_DIR  "/dev/shm"
#define OBJS_MQ_MAGIC 0x19800202L /* statfs f_type of the mqueue fs */

static const char *const objs_kind_names[IPCX__OBJ_COUNT] = {
    [IPCX__OBJ_MQ] = "mq",
    [IPCX__OBJ_SHM] = "shm",
    [IPCX__OBJ_SEM] = "sem",
    [IPCX__OBJ_RING] = "ring",
    [IPCX__OBJ_SYSV_MQ] = "sysv-mq",
    [IPCX__OBJ_SYSV_SHM] = "sysv-shm",
    [IPCX__OBJ_SYSV_SEM] = "sysv-sem",
    [IPCX__OBJ_FIFO] = "fifo",
    [IPCX__OBJ_UNIX] = "unix",
};

const char *ipcx__obj_kind_name(enum ipcx__obj_kind k)
{
	return (unsigned)k < IPCX__OBJ_COUNT ? objs_kind_names[k] : "?";
}

int ipcx__obj_kind_parse(const char *s)
{
	int k;

	for (k = 0; k < IPCX__OBJ_COUNT; k++)
		if (strcmp(s, objs_kind_names[k]) == 0)
			return k;
	return -1;
}

bool ipcx__obj_held_by(const struct ipcx__obj *o, pid_t pid)
{
	size_t i;

	for (i = 0; i < o->nholders; i++)
		if (o->holders[i].pid == pid)
			return true;
	return false;
}

void ipcx__objs_free(struct ipcx__objs *objs)
{
	size_t i;

	if (objs == NULL)
		return;
	for (i = 0; i < objs->n; i++)
		free(objs->v[i].holders);
	free(objs->v);
	objs->v = NULL;
	objs->n = objs->cap = 0;
}

/* objs_new - a new object of kind k with every number unknown, or NULL. */
static struct ipcx__obj *objs_new(struct ipcx__objs *objs,
                                  enum ipcx__obj_kind k)
{
	struct ipcx__obj *o;

	if (objs->n == objs->cap) {
		size_t cap = objs->cap ? objs->cap * 2 : 32;
		struct ipcx__obj *nv = realloc(objs->v, cap * sizeof(*nv));
		if (nv == NULL)
			return NULL;
		objs->v = nv;
		objs->cap = cap;
	}
	o = &objs->v[objs->n++];
	memset(o, 0, sizeof(*o));
	o->kind = k;
	o->key = o->id = o->uid = o->gid = o->mode = -1;
	o->size = o->bytes = o->msgs = o->nattch = o->nsems = -1;
	o->cpid = o->lpid = o->rx_pid = o->sockets = -1;
	return o;
}

/* objs_stat_into - owner, mode and identity of a file object from st. */
static void objs_stat_into(struct ipcx__obj *o, const struct stat *st)
{
	o->uid = st->st_uid;
	o->gid = st->st_gid;
	o->mode = st->st_mode & 07777;
	o->world_writable = (st->st_mode & S_IWOTH) != 0;
	o->dev = st->st_dev;
	o->ino = st->st_ino;
}

static int objs_nomem(void)
{
	return ipcx__err(IPCX_ENOMEM, "listing IPC objects: out of memory");
}

/* ---- collectors: one per source ---- */

bool ipcx__objs_mq_mounted(void)
{
	struct statfs sfs;

	return statfs(OBJS_MQ_DIR, &sfs) == 0 && sfs.f_type == OBJS_MQ_MAGIC;
}

/*
 * objs_dir - call each(o, fd, st) for every file of dir with an object
 * of kind k already filled from its stat (name, owner, mode, identity).
 * fd is the file opened read-only (never following a link, never
 * blocking), or -1 when this user may not open it; each may change o's
 * kind. Non-regular files are passed over when regular_only.
 */
static int objs_dir(struct ipcx__objs *objs, const char *dir,
                    enum ipcx__obj_kind k, bool regular_only,
                    void (*each)(struct ipcx__obj *o, int fd,
                                 const struct stat *st))
{
	char path[PATH_MAX];
	struct ipcx__obj *o;
	struct dirent *e;
	struct stat st;
	DIR *d = opendir(dir);
	int fd;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0 && errno != EACCES)
			continue; /* removed meanwhile, or a link */
		if ((fd >= 0 ? fstat(fd, &st) : lstat(path, &st)) < 0 ||
		    (regular_only && !S_ISREG(st.st_mode))) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		if ((o = objs_new(objs, k)) == NULL) {
			if (fd >= 0)
				close(fd);
			closedir(d);
			return objs_nomem();
		}
		snprintf(o->name, sizeof(o->name), "%s", path);
		objs_stat_into(o, &st);
		each(o, fd, &st);
		if (fd >= 0)
			close(fd);
	}
	closedir(d);
	return 0;
}

/* A queue's file reads "QSIZE:N NOTIFY:... ": N is the bytes queued. */
static void objs_mq_each(struct ipcx__obj *o, int fd, const struct stat *st)
{
	char text[256];
	ssize_t n;

	(void)st;
	n = fd >= 0 ? read(fd, text, sizeof(text) - 1) : -1;
	if (n > 0) {
		text[n] = '\0';
		ipcx__objs_qsize(text, &o->bytes);
	}
}

/* POSIX queues: /dev/mqueue, when the mqueue file system is mounted. */
static int objs_mq(struct ipcx__objs *objs)
{
	if (!ipcx__objs_mq_mounted()) {
		objs->mq_unmounted = true;
		return 0;
	}
	return objs_dir(objs, OBJS_MQ_DIR, IPCX__OBJ_MQ, false, objs_mq_each);
}

/* objs_ring_probe - whether the /dev/shm file fd is an ipcx ring. */
static bool objs_ring_probe(int fd, const struct stat *st, struct ipcx__obj *o)
{
	void *h;
	uint32_t version;
	int r;

	if (st->st_size < (off_t)IPCX__OBJS_RING_PAGE)
		return false;
	/* Mapped read-only so each field is one atomic load, never torn. */
	h = mmap(NULL, IPCX__OBJS_RING_PAGE, PROT_READ, MAP_SHARED, fd, 0);
	if (h == MAP_FAILED)
		return false;
	r = ipcx__objs_ring_hdr(h, IPCX__OBJS_RING_PAGE, (long long)st->st_size,
	                        o);
	version = __atomic_load_n((const uint32_t *)h + 1, __ATOMIC_RELAXED);
	munmap(h, IPCX__OBJS_RING_PAGE);
	if (r == 0 && o->rx_pid > 0 && version >= 3) {
		/* Layout 3: the receiver holds an open file description lock
		 * on byte 320 (FORMAT.md 3.6); free while rx_pid is set means
		 * it died without closing, in whatever PID namespace. */
		struct flock fl = {.l_type = F_WRLCK,
		                   .l_whence = SEEK_SET,
		                   .l_start = 320,
		                   .l_len = 1};
		o->rx_dead =
		    fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type == F_UNLCK;
	} else if (r == 0 && o->rx_pid > 0) {
		char proc[32];
		snprintf(proc, sizeof(proc), "/proc/%lld", o->rx_pid);
		o->rx_dead = access(proc, F_OK) != 0 && errno == ENOENT;
	}
	return r == 0;
}

/* sem.NAME is a named semaphore; a file with the ring header a ring. */
static void objs_shm_each(struct ipcx__obj *o, int fd, const struct stat *st)
{
	const char *base = o->name + sizeof(OBJS_SHM_DIR);

	if (strncmp(base, "sem.", 4) == 0)
		o->kind = IPCX__OBJ_SEM;
	else if (fd >= 0 && objs_ring_probe(fd, st, o))
		o->kind = IPCX__OBJ_RING;
	if (o->kind != IPCX__OBJ_RING)
		o->size = (long long)st->st_size;
}

/* POSIX shm, named semaphores and ipcx rings: /dev/shm. */
static int objs_shm(struct ipcx__objs *objs)
{
	return objs_dir(objs, OBJS_SHM_DIR, IPCX__OBJ_SHM, true, objs_shm_each);
}

/* System V objects of one kind from /proc/sysvipc/{msg,shm,sem}. */
static int objs_sysv(struct ipcx__objs *objs, const char *file,
                     enum ipcx__obj_kind kind)
{
	char hdr[512], line[512];
	struct ipcx__obj *o;
	FILE *f = fopen(file, "re");

	if (f == NULL)
		return 0;
	if (fgets(hdr, sizeof(hdr), f) == NULL) {
		fclose(f);
		return 0;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if ((o = objs_new(objs, kind)) == NULL) {
			fclose(f);
			return objs_nomem();
		}
		if (ipcx__objs_sysv_line(hdr, line, kind, o) < 0)
			objs->n--; /* not a line of that form: skip it */
	}
	fclose(f);
	return 0;
}

static int objs_sysv_mq(struct ipcx__objs *objs)
{
	return objs_sysv(objs, "/proc/sysvipc/msg", IPCX__OBJ_SYSV_MQ);
}

static int objs_sysv_shm(struct ipcx__objs *objs)
{
	return objs_sysv(objs, "/proc/sysvipc/shm", IPCX__OBJ_SYSV_SHM);
}

static int objs_sysv_sem(struct ipcx__objs *objs)
{
	return objs_sysv(objs, "/proc/sysvipc/sem", IPCX__OBJ_SYSV_SEM);
}

/*
 * Sockets by inode, for the /proc scan: a name has one object but may have
 * many sockets (a listener and every connection it accepted).
 */
struct objs_sock {
	unsigned long ino;
	size_t obj;
};

struct objs_scan {
	struct ipcx__objs *objs;
	unsigned kinds;
	struct objs_sock *socks;
	size_t nsocks, capsocks;
};

/* Named unix sockets from /proc/net/unix, one object per name. */
static int objs_unix(struct objs_scan *sc)
{
	struct ipcx__objs *objs = sc->objs;
	char line[4096 + 128], path[4096 + 1];
	unsigned long ino;
	bool listening;
	FILE *f = fopen("/proc/net/unix", "re");
	size_t i;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		struct ipcx__obj *o = NULL;
		struct stat st;

		if (ipcx__objs_unix_line(line, &ino, &listening, path,
		                         sizeof(path)) < 0 ||
		    path[0] == '\0')
			continue; /* the header, or an unnamed socket */
		for (i = 0; i < objs->n && o == NULL; i++)
			if (objs->v[i].kind == IPCX__OBJ_UNIX &&
			    strcmp(objs->v[i].name, path) == 0)
				o = &objs->v[i];
		if (o == NULL) {
			if ((o = objs_new(objs, IPCX__OBJ_UNIX)) == NULL)
				goto nomem;
			snprintf(o->name, sizeof(o->name), "%s", path);
			o->sockets = 0;
			if (path[0] == '/' && lstat(path, &st) == 0 &&
			    S_ISSOCK(st.st_mode))
				objs_stat_into(o, &st);
			o->id = (long long)ino;
		}
		o->sockets++;
		o->listening |= listening;
		if (sc->nsocks == sc->capsocks) {
			size_t cap = sc->capsocks ? sc->capsocks * 2 : 64;
			struct objs_sock *ns =
			    realloc(sc->socks, cap * sizeof(*ns));
			if (ns == NULL)
				goto nomem;
			sc->socks = ns;
			sc->capsocks = cap;
		}
		sc->socks[sc->nsocks].ino = ino;
		sc->socks[sc->nsocks++].obj = (size_t)(o - objs->v);
	}
	fclose(f);
	return 0;
nomem:
	fclose(f);
	return objs_nomem();
}

/* ---- holders: one pass over /proc ---- */

/* objs_hold - record that pid holds o (how: IPCX__HOLD_*). */
static int objs_hold(struct ipcx__obj *o, pid_t pid, unsigned how,
                     const char *comm)
{
	struct ipcx__holder *nh;
	size_t i;

	for (i = 0; i < o->nholders; i++)
		if (o->holders[i].pid == pid) {
			o->holders[i].how |= how;
			return 0;
		}
	nh = realloc(o->holders, (o->nholders + 1) * sizeof(*nh));
	if (nh == NULL)
		return objs_nomem();
	o->holders = nh;
	nh[o->nholders].pid = pid;
	nh[o->nholders].how = how;
	snprintf(nh[o->nholders].comm, sizeof(nh->comm), "%s", comm);
	o->nholders++;
	return 0;
}

static bool objs_is_file_kind(enum ipcx__obj_kind k)
{
	return k == IPCX__OBJ_MQ || k == IPCX__OBJ_SHM || k == IPCX__OBJ_SEM ||
	       k == IPCX__OBJ_RING || k == IPCX__OBJ_FIFO;
}

/* objs_by_file - the file object with that device and inode, or NULL. */
static struct ipcx__obj *objs_by_file(struct ipcx__objs *objs, dev_t dev,
                                      ino_t ino)
{
	size_t i;

	for (i = 0; i < objs->n; i++)
		if (objs_is_file_kind(objs->v[i].kind) &&
		    objs->v[i].ino == ino && objs->v[i].dev == dev)
			return &objs->v[i];
	return NULL;
}

/*
 * objs_fd - match one open descriptor (its link target, and a stat through
 * the link) against the objects; a named FIFO not seen before becomes one.
 */
static int objs_fd(struct objs_scan *sc, pid_t pid, const char *comm,
                   const char *link, const char *target)
{
	struct ipcx__objs *objs = sc->objs;
	struct ipcx__obj *o;
	unsigned long ino;
	struct stat st;
	size_t i;

	if (sscanf(target, "socket:[%lu]", &ino) == 1) {
		for (i = 0; i < sc->nsocks; i++)
			if (sc->socks[i].ino == ino &&
			    objs_hold(&objs->v[sc->socks[i].obj], pid,
			              IPCX__HOLD_FD, comm) < 0)
				return IPCX_ENOMEM; /* message set */
		return 0;
	}
	/* Anonymous pipes, eventfds, ...: not named objects. */
	if (target[0] != '/' || stat(link, &st) < 0)
		return 0;
	o = objs_by_file(objs, st.st_dev, st.st_ino);
	if (o == NULL && S_ISFIFO(st.st_mode) &&
	    (sc->kinds & (1u << IPCX__OBJ_FIFO))) {
		if ((o = objs_new(objs, IPCX__OBJ_FIFO)) == NULL)
			return objs_nomem();
		snprintf(o->name, sizeof(o->name), "%s", target);
		objs_stat_into(o, &st);
		o->id = (long long)st.st_ino;
	}
	return o == NULL ? 0 : objs_hold(o, pid, IPCX__HOLD_FD, comm);
}

static int objs_scan_fds(struct objs_scan *sc, pid_t pid, const char *comm)
{
	char dir[48], link[48 + NAME_MAX + 2], target[PATH_MAX];
	struct dirent *e;
	ssize_t n;
	DIR *d;
	int r = 0;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	d = opendir(dir);
	if (d == NULL) {
		if (errno != ENOENT && errno != ESRCH)
			sc->objs->blind++;
		return 0;
	}
	while (r == 0 && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s", dir, e->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		r = objs_fd(sc, pid, comm, link, target);
	}
	closedir(d);
	return r;
}

/*
 * One /proc/PID/maps line: "start-end perms offset maj:min inode path".
 * A System V segment shows as "/SYSV<key>" with its shmid as the inode.
 */
static int objs_map_line(struct objs_scan *sc, pid_t pid, const char *comm,
                         const char *line)
{
	struct ipcx__objs *objs = sc->objs;
	struct ipcx__obj *o;
	unsigned maj, min;
	unsigned long long ino;
	int path = -1;
	size_t i;

	if (sscanf(line, "%*s %*s %*s %x:%x %llu %n", &maj, &min, &ino, &path) <
	        3 ||
	    path < 0 || ino == 0)
		return 0;
	if (strncmp(line + path, "/SYSV", 5) == 0) {
		for (i = 0; i < objs->n; i++)
			if (objs->v[i].kind == IPCX__OBJ_SYSV_SHM &&
			    objs->v[i].id == (long long)ino)
				return objs_hold(&objs->v[i], pid,
				                 IPCX__HOLD_MAP, comm);
		return 0;
	}
	o = objs_by_file(objs, makedev(maj, min), (ino_t)ino);
	return o == NULL ? 0 : objs_hold(o, pid, IPCX__HOLD_MAP, comm);
}

static int objs_scan_maps(struct objs_scan *sc, pid_t pid, const char *comm)
{
	char file[48], line[PATH_MAX + 128];
	FILE *f;
	int r = 0;

	snprintf(file, sizeof(file), "/proc/%d/maps", (int)pid);
	f = fopen(file, "re");
	if (f == NULL)
		return 0; /* gone, or counted blind by the fd scan */
	while (r == 0 && fgets(line, sizeof(line), f) != NULL)
		r = objs_map_line(sc, pid, comm, line);
	fclose(f);
	return r;
}

/* objs_comm - /proc/PID/comm without its newline, "" if unreadable. */
static void objs_comm(pid_t pid, char comm[17])
{
	char file[48];
	ssize_t n;
	int fd;

	comm[0] = '\0';
	snprintf(file, sizeof(file), "/proc/%d/comm", (int)pid);
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, comm, 16);
	close(fd);
	if (n <= 0)
		return;
	comm[n] = '\0';
	comm[strcspn(comm, "\n")] = '\0';
}

static int objs_scan_proc(struct objs_scan *sc)
{
	char comm[17];
	struct dirent *e;
	DIR *d = opendir("/proc");
	int r = 0;

	if (d == NULL)
		return ipcx__errno(errno, "opendir /proc (is /proc mounted?)");
	while (r == 0 && (e = readdir(d)) != NULL) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (e->d_name[0] < '1' || e->d_name[0] > '9' || *end != '\0')
			continue;
		objs_comm((pid_t)pid, comm);
		r = objs_scan_fds(sc, (pid_t)pid, comm);
		if (r == 0)
			r = objs_scan_maps(sc, (pid_t)pid, comm);
	}
	closedir(d);
	return r;
}

/* The sources: a new kind adds its collector here (one row). */
static const struct objs_source {
	enum ipcx__obj_kind kind;
	int (*collect)(struct ipcx__objs *objs);
} objs_sources[] = {
    {IPCX__OBJ_MQ, objs_mq},
    {IPCX__OBJ_SHM, objs_shm}, /* also SEM and RING: one directory */
    {IPCX__OBJ_SYSV_MQ, objs_sysv_mq},
    {IPCX__OBJ_SYSV_SHM, objs_sysv_shm},
    {IPCX__OBJ_SYSV_SEM, objs_sysv_sem},
};

int ipcx__objs_list(struct ipcx__objs *objs, unsigned kinds)
{
	const unsigned shm_dir = (1u << IPCX__OBJ_SHM) | (1u << IPCX__OBJ_SEM) |
	                         (1u << IPCX__OBJ_RING);
	struct objs_scan sc = {objs, kinds, NULL, 0, 0};
	size_t i, j;
	int r = 0;

	for (i = 0; i < sizeof(objs_sources) / sizeof(objs_sources[0]); i++) {
		unsigned want = 1u << objs_sources[i].kind;
		if (objs_sources[i].kind == IPCX__OBJ_SHM)
			want = shm_dir;
		if ((kinds & want) && (r = objs_sources[i].collect(objs)) < 0)
			return r;
	}
	if ((kinds & (1u << IPCX__OBJ_UNIX)) && (r = objs_unix(&sc)) < 0)
		goto out;
	r = objs_scan_proc(&sc);
	/* One directory gave three kinds: keep only those asked for. */
	for (i = j = 0; i < objs->n; i++) {
		if (kinds & (1u << objs->v[i].kind))
			objs->v[j++] = objs->v[i];
		else
			free(objs->v[i].holders);
	}
	objs->n = j;
out:
	free(sc.socks);
	return r;
}
