/*
 * objparse.c - parse what the kernel shows about IPC objects: lines of
 * /proc/sysvipc/{msg,shm,sem} and /proc/net/unix, the QSIZE text of a
 * /dev/mqueue file, and an ipcx ring's header page. Pure functions over
 * untrusted input (fuzzed by tests/fuzz/fuzz-objparse.c); objects.c reads
 * the files and calls them.
 */
#include "objects.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int ipcx__objs_qsize(const char *text, long long *qsize)
{
	const char *p = strstr(text, "QSIZE:");
	char *end;

	if (p == NULL)
		return -1;
	p += 6;
	if (*p < '0' || *p > '9')
		return -1;
	errno = 0;
	*qsize = strtoll(p, &end, 10);
	return errno == 0 ? 0 : -1;
}

/* objs_ld32/objs_ld64 - one atomic load of a header field (copy once). */
static uint32_t objs_ld32(const unsigned char *h, size_t off)
{
	return __atomic_load_n((const uint32_t *)(const void *)(h + off),
	                       __ATOMIC_ACQUIRE);
}

static uint64_t objs_ld64(const unsigned char *h, size_t off)
{
	return __atomic_load_n((const uint64_t *)(const void *)(h + off),
	                       __ATOMIC_ACQUIRE);
}

/*
 * The ring-specific part, kept to this one function: the header fields of
 * docs/FORMAT.md section 3.3, each loaded once into private memory and
 * checked there. head is loaded before tail: tail only grows, so the
 * difference never goes negative for a healthy ring.
 */
int ipcx__objs_ring_hdr(const void *hdr, size_t len, long long file_size,
                        struct ipcx__obj *o)
{
	const unsigned char *h = hdr;
	uint64_t data, head, tail, rx;
	uint32_t version;

	if (len < IPCX__OBJS_RING_PAGE || objs_ld32(h, 0) != 0x52585049u)
		return -1;
	data = objs_ld64(h, 16);
	o->size = (long long)data;
	if (objs_ld32(h, 8) != IPCX__OBJS_RING_PAGE || data < 4096 ||
	    data > (1u << 30) || (data & (data - 1)) != 0 ||
	    file_size != (long long)(IPCX__OBJS_RING_PAGE + data)) {
		o->corrupt = true;
		return 0;
	}
	version = objs_ld32(h, 4);
	if (version != 2 && version != 3)
		return 0; /* another layout version: depth unknown */
	head = objs_ld64(h, 128);
	tail = objs_ld64(h, 112);
	/* Both versions keep the receiver's pid in the low 32 bits. */
	rx = objs_ld64(h, 320);
	/* Version 3: head may be up to D past tail while a writer that
	 * died between its stamp and tail stores awaits repair (FORMAT.md
	 * 3.6): nothing is queued then. */
	if (version == 3 && tail < head && head - tail <= data &&
	    (head | tail) % 32 == 0)
		tail = head;
	if (tail < head || (head | tail) % 32 != 0) {
		o->corrupt = true;
		return 0;
	}
	/* More than D apart: the receiver moved between the two loads. */
	o->bytes = (long long)(tail - head > data ? data : tail - head);
	o->rx_pid = (long long)(uint32_t)rx;
	return 0;
}

/*
 * objs_field - the n-th blank-separated field of line (0-based) copied
 * into buf (cap bytes). Returns false if there is none or it is too long.
 */
static bool objs_field(const char *line, int n, char *buf, size_t cap)
{
	const char *p = line;
	size_t len;

	for (;;) {
		p += strspn(p, " \t");
		len = strcspn(p, " \t\n");
		if (len == 0)
			return false;
		if (n-- == 0)
			break;
		p += len;
	}
	if (len >= cap)
		return false;
	memcpy(buf, p, len);
	buf[len] = '\0';
	return true;
}

/* objs_column - index of the column named name in a header, or -1. */
static int objs_column(const char *hdr, const char *name)
{
	char f[32];
	int i;

	for (i = 0; i < 64 && objs_field(hdr, i, f, sizeof(f)); i++)
		if (strcmp(f, name) == 0)
			return i;
	return -1;
}

/* objs_num - the number in the named column, base 10 (8 for perms). */
static bool objs_num(const char *hdr, const char *line, const char *name,
                     int base, long long *v)
{
	char f[32], *end;
	int col = objs_column(hdr, name);

	if (col < 0 || !objs_field(line, col, f, sizeof(f)))
		return false;
	errno = 0;
	*v = strtoll(f, &end, base);
	return errno == 0 && *end == '\0' && end != f;
}

int ipcx__objs_sysv_line(const char *hdr, const char *line,
                         enum ipcx__obj_kind kind, struct ipcx__obj *o)
{
	static const char *const id_col[] = {
	    [IPCX__OBJ_SYSV_MQ] = "msqid",
	    [IPCX__OBJ_SYSV_SHM] = "shmid",
	    [IPCX__OBJ_SYSV_SEM] = "semid",
	};
	long long key;

	if (kind != IPCX__OBJ_SYSV_MQ && kind != IPCX__OBJ_SYSV_SHM &&
	    kind != IPCX__OBJ_SYSV_SEM)
		return -1;
	if (!objs_num(hdr, line, "key", 10, &key) ||
	    !objs_num(hdr, line, id_col[kind], 10, &o->id) ||
	    !objs_num(hdr, line, "perms", 8, &o->mode) ||
	    !objs_num(hdr, line, "uid", 10, &o->uid) ||
	    !objs_num(hdr, line, "gid", 10, &o->gid))
		return -1;
	/* The kernel prints the key as a signed int; ipcs shows it as hex. */
	o->key = (long long)(uint32_t)key;
	o->mode &= 0777;
	o->world_writable = (o->mode & 002) != 0;
	if (kind == IPCX__OBJ_SYSV_MQ) {
		if (!objs_num(hdr, line, "cbytes", 10, &o->bytes) ||
		    !objs_num(hdr, line, "qnum", 10, &o->msgs))
			return -1;
		objs_num(hdr, line, "lspid", 10, &o->lpid);
	} else if (kind == IPCX__OBJ_SYSV_SHM) {
		if (!objs_num(hdr, line, "size", 10, &o->size) ||
		    !objs_num(hdr, line, "nattch", 10, &o->nattch))
			return -1;
		objs_num(hdr, line, "cpid", 10, &o->cpid);
		objs_num(hdr, line, "lpid", 10, &o->lpid);
	} else if (!objs_num(hdr, line, "nsems", 10, &o->nsems)) {
		return -1;
	}
	return 0;
}

int ipcx__objs_unix_line(const char *line, unsigned long *inode,
                         bool *listening, char *path, size_t cap)
{
	/* Num: RefCount Protocol Flags Type St Inode [Path] */
	char f[32], *end;
	const char *p = line;
	unsigned long flags;
	size_t len;
	int i;

	if (!objs_field(line, 3, f, sizeof(f)))
		return -1;
	errno = 0;
	flags = strtoul(f, &end, 16);
	if (errno != 0 || *end != '\0')
		return -1;
	if (!objs_field(line, 6, f, sizeof(f)))
		return -1;
	*inode = strtoul(f, &end, 10);
	if (errno != 0 || *end != '\0' || end == f)
		return -1;
	*listening = (flags & 0x10000) != 0; /* __SO_ACCEPTCON */
	/* The path is the rest after the seventh field, blanks and all. */
	for (i = 0; i < 7; i++) {
		p += strspn(p, " \t");
		p += strcspn(p, " \t\n");
	}
	p += strspn(p, " \t");
	len = strcspn(p, "\n");
	if (len >= cap)
		return -1;
	memcpy(path, p, len);
	path[len] = '\0';
	return 0;
}
