/*
 * test-objects.c - the IPC object listing (src/inspect/objects.c).
 *
 * The live listing (the parsers are tested by test-objparse.c): a ring this
 * process receives on (its receiver and a mapping holder), a System V queue and
 * segment (attached here: a "SYSV" mapping), a FIFO held open, a listening
 * abstract unix socket, a POSIX queue when /dev/mqueue is mounted, and the kind
 * filter.
 */
#include "ipcx.h"
#include "t.h"

#include "../src/inspect/objects.h"

#include <fcntl.h>
#include <mqueue.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

static struct ipcx__obj *find(struct ipcx__objs *objs, enum ipcx__obj_kind k,
                              const char *name, long long id)
{
	size_t i;

	for (i = 0; i < objs->n; i++)
		if (objs->v[i].kind == k &&
		    (name == NULL || strcmp(objs->v[i].name, name) == 0) &&
		    (id < 0 || objs->v[i].id == id))
			return &objs->v[i];
	return NULL;
}

static void test_live(void)
{
	char ring_ep[128], ring_path[128], abs_ep[128], abs_name[128];
	const char *fifo = t_tmp_path("fifo");
	struct ipcx__objs objs;
	struct ipcx__obj *o;
	ipcx_chan *ring, *sock;
	int qid, mid, ffd;
	void *seg;
	mqd_t mq = (mqd_t)-1;
	char mq_name[128], mq_path[160];

	snprintf(ring_ep, sizeof(ring_ep), "shm://%s", t_name("ring"));
	snprintf(ring_path, sizeof(ring_path), "/dev/shm/%s", t_name("ring"));
	snprintf(abs_ep, sizeof(abs_ep), "unix://@%s", t_name("sock"));
	snprintf(abs_name, sizeof(abs_name), "@%s", t_name("sock"));
	T_OK(ipcx_open(ring_ep, IPCX_RECV | IPCX_CREATE, &ring));
	T_OK(ipcx_open(abs_ep, IPCX_RECV | IPCX_CREATE, &sock));
	qid = msgget(IPC_PRIVATE, 0600 | IPC_CREAT);
	T_ASSERT(qid >= 0);
	mid = shmget(IPC_PRIVATE, 4096, 0600 | IPC_CREAT);
	T_ASSERT(mid >= 0);
	seg = shmat(mid, NULL, SHM_RDONLY);
	T_ASSERT(seg != (void *)-1);
	T_ASSERT(mkfifo(fifo, 0600) == 0);
	ffd = open(fifo, O_RDWR | O_CLOEXEC);
	T_ASSERT(ffd >= 0);
	snprintf(mq_name, sizeof(mq_name), "/%s", t_name("mq"));
	snprintf(mq_path, sizeof(mq_path), "/dev/mqueue%s", mq_name);
	if (ipcx__objs_mq_mounted())
		mq = mq_open(mq_name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
		             0600, NULL);
	if (mq != (mqd_t)-1)
		T_ASSERT(mq_send(mq, "hello", 5, 0) == 0);

	memset(&objs, 0, sizeof(objs));
	T_OK(ipcx__objs_list(&objs, (1u << IPCX__OBJ_COUNT) - 1));
	o = find(&objs, IPCX__OBJ_RING, ring_path, -1);
	T_ASSERT(o != NULL);
	T_ASSERT(o->rx_pid == getpid() && !o->rx_dead && !o->corrupt);
	T_ASSERT(o->bytes == 0 && o->mode == 0600 && o->uid == getuid());
	T_ASSERT(ipcx__obj_held_by(o, getpid()));
	o = find(&objs, IPCX__OBJ_SYSV_MQ, NULL, qid);
	T_ASSERT(o != NULL && o->key == 0 && o->mode == 0600);
	T_ASSERT(o->msgs == 0 && o->uid == getuid() && !o->world_writable);
	o = find(&objs, IPCX__OBJ_SYSV_SHM, NULL, mid);
	T_ASSERT(o != NULL && o->nattch == 1 && o->size == 4096);
	T_ASSERT(ipcx__obj_held_by(o, getpid()));
	T_ASSERT(o->holders[0].how == IPCX__HOLD_MAP);
	o = find(&objs, IPCX__OBJ_FIFO, fifo, -1);
	T_ASSERT(o != NULL && o->mode == 0600 &&
	         ipcx__obj_held_by(o, getpid()));
	o = find(&objs, IPCX__OBJ_UNIX, abs_name, -1);
	T_ASSERT(o != NULL && o->listening && o->sockets >= 1);
	T_ASSERT(ipcx__obj_held_by(o, getpid()));
	if (mq != (mqd_t)-1) {
		o = find(&objs, IPCX__OBJ_MQ, mq_path, -1);
		T_ASSERT(o != NULL && o->bytes == 5 && o->mode == 0600);
		T_ASSERT(ipcx__obj_held_by(o, getpid()));
	}
	ipcx__objs_free(&objs);

	/* The kind filter keeps only what was asked for. */
	memset(&objs, 0, sizeof(objs));
	T_OK(ipcx__objs_list(&objs, 1u << IPCX__OBJ_SYSV_MQ));
	T_ASSERT(find(&objs, IPCX__OBJ_SYSV_MQ, NULL, qid) != NULL);
	for (size_t i = 0; i < objs.n; i++)
		T_ASSERT(objs.v[i].kind == IPCX__OBJ_SYSV_MQ);
	ipcx__objs_free(&objs);
	ipcx__objs_free(NULL);

	if (mq != (mqd_t)-1) {
		mq_close(mq);
		mq_unlink(mq_name);
	}
	close(ffd);
	unlink(fifo);
	shmdt(seg);
	shmctl(mid, IPC_RMID, NULL);
	msgctl(qid, IPC_RMID, NULL);
	T_OK(ipcx_close(sock));
	T_OK(ipcx_close(ring));
	T_OK(ipcx_unlink(ring_ep));
}

int main(void)
{
	t_leak_begin();
	test_live();
	t_leak_end();
	return T_EXIT_PASS;
}
