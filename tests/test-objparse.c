/*
 * test-objparse.c - the parsers behind `ipcx ls` (src/inspect/objparse.c)
 * on fixed input: System V lines (a negative key, octal perms, columns
 * found by name, short and foreign lines), /proc/net/unix lines with and
 * without a path, one with blanks, one too long for the buffer; QSIZE
 * text; ring headers good, corrupt and of another version; kind names.
 */
#include "ipcx.h"
#include "t.h"

#include "../src/inspect/objects.h"

#include <stdalign.h>
#include <string.h>

static void test_sysv_line(void)
{
	static const char hdr[] =
	    "       key      msqid perms      cbytes       qnum lspid lrpid"
	    "   uid   gid  cuid  cgid      stime      rtime      ctime\n";
	static const char shm_hdr[] =
	    "       key      shmid perms                  size  cpid  lpid "
	    "nattch   uid   gid  cuid  cgid      atime      dtime      ctime"
	    "                   rss                  swap\n";
	struct ipcx__obj o;

	memset(&o, 0, sizeof(o));
	T_OK(ipcx__objs_sysv_line(hdr,
	                          "-280250871          7   666          12     "
	                          "     3    42     0  1000   100     0     0 "
	                          "         0          0 1796151424\n",
	                          IPCX__OBJ_SYSV_MQ, &o));
	T_ASSERT(o.key == 0xef4bb609LL);
	T_ASSERT(o.id == 7 && o.mode == 0666 && o.world_writable);
	T_ASSERT(o.bytes == 12 && o.msgs == 3 && o.lpid == 42);
	T_ASSERT(o.uid == 1000 && o.gid == 100);
	memset(&o, 0, sizeof(o));
	T_OK(ipcx__objs_sysv_line(shm_hdr,
	                          "         0          5  1600      4096  10  "
	                          "11      2     0     0     0     0 0 0 0 0 0",
	                          IPCX__OBJ_SYSV_SHM, &o));
	T_ASSERT(o.key == 0 && o.id == 5 && o.mode == 0600);
	T_ASSERT(!o.world_writable && o.size == 4096 && o.nattch == 2);
	T_ASSERT(o.cpid == 10 && o.lpid == 11);
	/* Short, non-numeric, or the wrong kind. */
	T_EXPECT(ipcx__objs_sysv_line(hdr, "1 2 3\n", IPCX__OBJ_SYSV_MQ, &o),
	         -1);
	T_EXPECT(ipcx__objs_sysv_line(hdr, hdr, IPCX__OBJ_SYSV_MQ, &o), -1);
	T_EXPECT(ipcx__objs_sysv_line(hdr, "", IPCX__OBJ_SYSV_MQ, &o), -1);
	T_EXPECT(ipcx__objs_sysv_line(hdr, "1 2 3", IPCX__OBJ_MQ, &o), -1);
}

static void test_unix_line(void)
{
	char path[64];
	unsigned long ino;
	bool lis;

	T_OK(ipcx__objs_unix_line("0000000000000000: 00000002 00000000 "
	                          "00010000 0001 01 31337 /run/a b.sock\n",
	                          &ino, &lis, path, sizeof(path)));
	T_ASSERT(ino == 31337 && lis && strcmp(path, "/run/a b.sock") == 0);
	T_OK(ipcx__objs_unix_line("0000000000000000: 00000003 00000000 "
	                          "00000000 0001 03  1073\n",
	                          &ino, &lis, path, sizeof(path)));
	T_ASSERT(ino == 1073 && !lis && path[0] == '\0');
	T_EXPECT(ipcx__objs_unix_line("Num       RefCount Protocol Flags    "
	                              "Type St Inode Path\n",
	                              &ino, &lis, path, sizeof(path)),
	         -1);
	T_EXPECT(ipcx__objs_unix_line("0: 1 2 3", &ino, &lis, path, 8), -1);
	/* A path longer than the buffer is refused, not cut. */
	T_EXPECT(ipcx__objs_unix_line("0: 2 0 0 1 1 5 /a/very/long/path\n",
	                              &ino, &lis, path, 8),
	         -1);
}

static void test_qsize(void)
{
	long long q = -1;

	T_OK(ipcx__objs_qsize("QSIZE:129        NOTIFY:0     SIGNO:0     "
	                      "NOTIFY_PID:0     \n",
	                      &q));
	T_ASSERT(q == 129);
	T_EXPECT(ipcx__objs_qsize("NOTIFY:0\n", &q), -1);
	T_EXPECT(ipcx__objs_qsize("QSIZE:-1", &q), -1);
}

static void put32(unsigned char *h, size_t off, uint32_t v)
{
	memcpy(h + off, &v, 4);
}

static void put64(unsigned char *h, size_t off, uint64_t v)
{
	memcpy(h + off, &v, 8);
}

static void test_ring_hdr(void)
{
	static alignas(64) unsigned char h[4096];
	struct ipcx__obj o;

	memset(h, 0, sizeof(h));
	memset(&o, 0, sizeof(o));
	T_EXPECT(ipcx__objs_ring_hdr(h, sizeof(h), 8192, &o), -1);
	put32(h, 0, 0x52585049u);
	put32(h, 4, 2);
	put32(h, 8, 4096);
	put32(h, 12, 32);
	put64(h, 16, 4096);
	put64(h, 112, 1024 + 96); /* tail */
	put64(h, 128, 1024);      /* head */
	put64(h, 320, (uint64_t)77 << 32 | 4242);
	o.bytes = o.rx_pid = -1;
	T_OK(ipcx__objs_ring_hdr(h, sizeof(h), 8192, &o));
	T_ASSERT(!o.corrupt && o.size == 4096 && o.bytes == 96);
	T_ASSERT(o.rx_pid == 4242);
	/* The geometry must match the file; head may not pass tail. */
	memset(&o, 0, sizeof(o));
	T_OK(ipcx__objs_ring_hdr(h, sizeof(h), 8193, &o));
	T_ASSERT(o.corrupt);
	memset(&o, 0, sizeof(o));
	put64(h, 128, 2048);
	T_OK(ipcx__objs_ring_hdr(h, sizeof(h), 8192, &o));
	T_ASSERT(o.corrupt);
	memset(&o, 0, sizeof(o));
	put64(h, 16, 3000);
	T_OK(ipcx__objs_ring_hdr(h, sizeof(h), 7096, &o));
	T_ASSERT(o.corrupt);
	/* Layout 3: head just past tail (a dead writer's consumed records
	 * await repair) is an empty ring, not a corrupt one. */
	put64(h, 16, 4096);
	put32(h, 4, 3);
	put64(h, 112, 1024);
	put64(h, 128, 1024 + 64);
	memset(&o, 0, sizeof(o));
	T_OK(ipcx__objs_ring_hdr(h, sizeof(h), 8192, &o));
	T_ASSERT(!o.corrupt && o.bytes == 0 && o.rx_pid == 4242);
	put64(h, 128, 1024 + 8192); /* far past: corrupt */
	memset(&o, 0, sizeof(o));
	T_OK(ipcx__objs_ring_hdr(h, sizeof(h), 8192, &o));
	T_ASSERT(o.corrupt);
	/* Another layout version: a ring, depth unknown. */
	put32(h, 4, 4);
	memset(&o, 0, sizeof(o));
	o.bytes = -1;
	T_OK(ipcx__objs_ring_hdr(h, sizeof(h), 8192, &o));
	T_ASSERT(!o.corrupt && o.bytes == -1);
	T_EXPECT(ipcx__objs_ring_hdr(h, 100, 8192, &o), -1);
}

static void test_kind_names(void)
{
	int k;

	for (k = 0; k < IPCX__OBJ_COUNT; k++)
		T_ASSERT(ipcx__obj_kind_parse(ipcx__obj_kind_name(k)) == k);
	T_ASSERT(ipcx__obj_kind_parse("nope") == -1);
	T_ASSERT(strcmp(ipcx__obj_kind_name(IPCX__OBJ_COUNT), "?") == 0);
}

int main(void)
{
	test_sysv_line();
	test_unix_line();
	test_qsize();
	test_ring_hdr();
	test_kind_names();
	return T_EXIT_PASS;
}
