/*
 * objects.h - the system-wide IPC object listing behind `ipcx ls`: data
 * only, read from /proc, /dev/shm, /dev/mqueue and /proc/sysvipc; nothing
 * is printed and nothing is changed. Internal (ipcx__), not exported.
 *
 * A kind joins the listing with one enum value, one collector function in
 * objects.c and one row of its collector table.
 */
#ifndef IPCX__OBJECTS_H
#define IPCX__OBJECTS_H

#include "internal.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* What an object is. ipcx__obj_kind_name() gives the names `ls -t` takes. */
enum ipcx__obj_kind {
	IPCX__OBJ_MQ,       /* POSIX message queue, /dev/mqueue/NAME */
	IPCX__OBJ_SHM,      /* POSIX shared memory, /dev/shm/NAME */
	IPCX__OBJ_SEM,      /* POSIX named semaphore, /dev/shm/sem.NAME */
	IPCX__OBJ_RING,     /* an ipcx ring (shm://), /dev/shm/NAME */
	IPCX__OBJ_SYSV_MQ,  /* System V message queue */
	IPCX__OBJ_SYSV_SHM, /* System V shared memory segment */
	IPCX__OBJ_SYSV_SEM, /* System V semaphore set */
	IPCX__OBJ_FIFO,     /* a named pipe some process holds open */
	IPCX__OBJ_UNIX,     /* a named unix socket (path or @abstract) */
	IPCX__OBJ_COUNT
};

/* How a holder holds the object (bits). */
enum {
	IPCX__HOLD_FD = 1,  /* an open descriptor (/proc/PID/fd) */
	IPCX__HOLD_MAP = 2, /* a mapping (/proc/PID/maps, SysV attach) */
};

struct ipcx__holder {
	pid_t pid;
	unsigned how;  /* IPCX__HOLD_* */
	char comm[17]; /* /proc/PID/comm, "" if unreadable */
};

/*
 * One object. Numbers a kind does not have are -1. Strings are
 * NUL-terminated copies of what the kernel showed (they may hold any byte
 * but NUL: a printer escapes them).
 */
struct ipcx__obj {
	enum ipcx__obj_kind kind;
	char name[4096 + 16]; /* path, "@abstract", or "" for System V */
	long long key;        /* System V key, else -1 */
	long long id;         /* System V id, socket/FIFO inode, else -1 */
	long long uid, gid;   /* owner, -1 unknown (abstract sockets) */
	long long mode;       /* permission bits, -1 unknown */
	long long size;       /* bytes (segment, ring data area), -1 n/a */
	long long bytes;      /* bytes queued (mq, sysv-mq, ring), -1 n/a */
	long long msgs;       /* messages queued (mq, sysv-mq), -1 n/a */
	long long nattch;     /* System V shm attach count, -1 n/a */
	long long nsems;      /* System V semaphores in the set, -1 n/a */
	long long cpid, lpid; /* System V creator / last pid, -1 n/a */
	long long rx_pid;     /* ring receiver, 0 none, -1 n/a */
	bool rx_dead;         /* the ring names a receiver that is gone */
	bool corrupt;         /* a ring whose header does not add up */
	bool listening;       /* unix: some socket listens on the name */
	long long sockets;    /* unix: sockets with that name */
	bool world_writable;  /* anyone may write (mode & 002) */
	dev_t dev;            /* for matching fds and mappings; private */
	ino_t ino;
	struct ipcx__holder *holders;
	size_t nholders;
};

struct ipcx__objs {
	struct ipcx__obj *v;
	size_t n, cap;
	/* /dev/mqueue is not a mounted mqueue file system: no queues shown. */
	bool mq_unmounted;
	/* Processes whose fds or maps could not be read (other users'). */
	size_t blind;
};

/*
 * ipcx__objs_list - fill *objs (zeroed by the caller) with every object of
 * the kinds whose bit (1 << kind) is in kinds, and each one's holders.
 * Reads only; does not block. Returns 0, or IPCX_ENOMEM / IPCX_ESYS with
 * ipcx_errmsg() set (what was read so far stays in *objs). A source that
 * does not exist on this system (no /proc/sysvipc) just adds nothing.
 */
IPCX__HIDDEN int ipcx__objs_list(struct ipcx__objs *objs, unsigned kinds);

/*
 * ipcx__objs_mq_mounted - whether /dev/mqueue is a mounted mqueue file
 * system (POSIX queues can be listed only then).
 */
IPCX__HIDDEN bool ipcx__objs_mq_mounted(void);

/* ipcx__objs_free - free what ipcx__objs_list filled in; accepts NULL. */
IPCX__HIDDEN void ipcx__objs_free(struct ipcx__objs *objs);

/* ipcx__obj_kind_name - "mq", "sysv-shm", ...; "?" out of range. */
IPCX__HIDDEN const char *ipcx__obj_kind_name(enum ipcx__obj_kind k);

/* ipcx__obj_kind_parse - the kind named s, or -1. */
IPCX__HIDDEN int ipcx__obj_kind_parse(const char *s);

/* ipcx__obj_held_by - whether pid is among o's holders. */
IPCX__HIDDEN bool ipcx__obj_held_by(const struct ipcx__obj *o, pid_t pid);

/* The header page of an ipcx ring (docs/FORMAT.md section 3.3). */
#define IPCX__OBJS_RING_PAGE 4096u

/*
 * Parsers (objparse.c), exposed for tests and fuzzers. Each takes one line (NUL
 * terminated, without or with its newline) and returns 0 on success or -1
 * if the line is not of that form.
 *
 * ipcx__objs_sysv_line - a /proc/sysvipc/{msg,shm,sem} data line, whose
 * column names came from the file's header line (hdr). kind says which.
 */
IPCX__HIDDEN int ipcx__objs_sysv_line(const char *hdr, const char *line,
                                      enum ipcx__obj_kind kind,
                                      struct ipcx__obj *o);

/* ipcx__objs_unix_line - a /proc/net/unix line; the path may be empty. */
IPCX__HIDDEN int ipcx__objs_unix_line(const char *line, unsigned long *inode,
                                      bool *listening, char *path, size_t cap);

/* ipcx__objs_qsize - the QSIZE number of a /dev/mqueue/NAME file's text. */
IPCX__HIDDEN int ipcx__objs_qsize(const char *text, long long *qsize);

/*
 * ipcx__objs_ring_hdr - fill o's ring facts (size, bytes, rx_pid,
 * corrupt) from a copy of the ring's header page (hdr, len bytes) and the
 * file's size. Returns 0, or -1 if it is not an ipcx ring at all.
 */
IPCX__HIDDEN int ipcx__objs_ring_hdr(const void *hdr, size_t len,
                                     long long file_size, struct ipcx__obj *o);

#endif
