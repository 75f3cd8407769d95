/*
 * holders.c - which processes hold the named object behind an endpoint, for
 * the commands that must not act on a live object silently (rm, send). It
 * asks the `ipcx ls` listing (src/inspect/objects.h); it reads /proc itself
 * nowhere.
 */
#include "holders.h"

#include "../../src/inspect/objects.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/*
 * holders_path - the file of the object behind ep, as the listing names it
 * ("/dev/shm/NAME", "/path"), or false for an endpoint without one.
 */
static bool holders_path(const char *ep, char *path, size_t cap,
                         unsigned *kinds)
{
	static const struct {
		const char *scheme, *dir;
		unsigned kinds;
	} map[] = {
	    {"shm://", "/dev/shm/", 1u << IPCX__OBJ_RING | 1u << IPCX__OBJ_SHM},
	    {"semshm://", "/dev/shm/semshm.", 1u << IPCX__OBJ_SHM},
	    {"sem://", "/dev/shm/sem.", 1u << IPCX__OBJ_SEM},
	    {"mq://", "/dev/mqueue/", 1u << IPCX__OBJ_MQ},
	    {"fifo://", "", 1u << IPCX__OBJ_FIFO},
	    {"unix://", "", 1u << IPCX__OBJ_UNIX},
	};
	size_t i, n, len;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		len = strlen(map[i].scheme);
		if (strncmp(ep, map[i].scheme, len) != 0)
			continue;
		n = strcspn(ep + len, "?");
		if (n == 0 || (map[i].dir[0] == '\0' && ep[len] != '/'))
			return false;
		*kinds = map[i].kinds;
		return snprintf(path, cap, "%s%.*s", map[i].dir, (int)n,
		                ep + len) < (int)cap;
	}
	return false;
}

size_t cli_holders(const char *ep, char *buf, size_t cap, long long *rx_pid)
{
	struct ipcx__objs objs;
	char path[4096 + 32];
	unsigned kinds;
	size_t i, j, found = 0, n = 0;

	buf[0] = '\0';
	if (rx_pid != NULL)
		*rx_pid = 0;
	if (!holders_path(ep, path, sizeof(path), &kinds))
		return 0;
	memset(&objs, 0, sizeof(objs));
	if (ipcx__objs_list(&objs, kinds) < 0) {
		ipcx__objs_free(&objs);
		return 0;
	}
	for (i = 0; i < objs.n; i++) {
		const struct ipcx__obj *o = &objs.v[i];
		if (strcmp(o->name, path) != 0)
			continue;
		if (rx_pid != NULL && o->rx_pid > 0 && !o->rx_dead)
			*rx_pid = o->rx_pid;
		for (j = 0; j < o->nholders; j++) {
			if (o->holders[j].pid == getpid())
				continue; /* this command's own channel */
			if (n < cap)
				n += (size_t)snprintf(
				    buf + n, cap - n, "%spid %d (%s)",
				    found ? ", " : "", (int)o->holders[j].pid,
				    o->holders[j].comm);
			found++;
		}
	}
	ipcx__objs_free(&objs);
	return found;
}
