/* t.c - the tests' shared helpers (see t.h). */
#include "t.h"

#include "ipcx.h"

#include <dirent.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <stddef.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *t_errmsg(void)
{
	return ipcx_errmsg();
}

static int t_fds_at_start[1024];

static void t_fd_scan(int *set, size_t n)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	memset(set, 0, n * sizeof(*set));
	T_ASSERT(d != NULL);
	while ((e = readdir(d)) != NULL) {
		int fd = atoi(e->d_name);
		if (e->d_name[0] == '.' || fd == dirfd(d))
			continue;
		if (fd >= 0 && (size_t)fd < n)
			set[fd] = 1;
	}
	closedir(d);
}

int t_fd_count(void)
{
	int set[1024], n = 0;

	t_fd_scan(set, 1024);
	for (int i = 0; i < 1024; i++)
		n += set[i];
	return n;
}

void t_leak_begin(void)
{
	t_fd_scan(t_fds_at_start, 1024);
}

void t_leak_end(void)
{
	int now[1024];
	int leaked = 0;

	t_fd_scan(now, 1024);
	for (int i = 0; i < 1024; i++) {
		if (now[i] && !t_fds_at_start[i]) {
			char link[64], target[256];
			ssize_t n;
			snprintf(link, sizeof(link), "/proc/self/fd/%d", i);
			n = readlink(link, target, sizeof(target) - 1);
			target[n > 0 ? n : 0] = '\0';
			fprintf(stderr, "leaked fd %d -> %s\n", i, target);
			leaked++;
		}
	}
	T_ASSERT(leaked == 0);
}

const char *t_name(const char *tag)
{
	static char buf[4][128];
	static int k;
	char *b = buf[k++ & 3];

	snprintf(b, 128, "ipcx-t%d-%s", (int)getpid(), tag);
	return b;
}

const char *t_key_name(const char *tag)
{
	static char buf[4][16];
	static int k;
	char *b = buf[k++ & 3];
	uint32_t h = 2166136261u;

	/* FNV-1a of t_name(tag): unique per pid and tag, never 0. */
	for (const char *p = t_name(tag); *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	snprintf(b, 16, "0x%08x", h ? h : 1);
	return b;
}

const char *t_tmp_path(const char *tag)
{
	static char buf[4][160];
	static int k;
	char *b = buf[k++ & 3];

	snprintf(b, 160, "/tmp/ipcx-t%d-%s", (int)getpid(), tag);
	return b;
}

void t_sync_init(struct t_sync *s)
{
	T_ASSERT(pipe(s->p2c) == 0);
	T_ASSERT(pipe(s->c2p) == 0);
}

void t_sync_close(struct t_sync *s)
{
	close(s->p2c[0]);
	close(s->p2c[1]);
	close(s->c2p[0]);
	close(s->c2p[1]);
}

static void t_put(int fd)
{
	char c = 1;
	ssize_t n;

	do
		n = write(fd, &c, 1);
	while (n < 0 && errno == EINTR);
	T_ASSERT(n == 1);
}

static void t_get(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char c;
	int r;

	do
		r = poll(&p, 1, 10000);
	while (r < 0 && errno == EINTR);
	if (r == 0) {
		fprintf(stderr, "t_sync: peer did not answer in 10 s\n");
		exit(T_EXIT_FAIL);
	}
	T_ASSERT(read(fd, &c, 1) == 1);
}

void t_notify_parent(struct t_sync *s)
{
	t_put(s->c2p[1]);
}

void t_wait_child(struct t_sync *s)
{
	t_get(s->c2p[0]);
}

void t_notify_child(struct t_sync *s)
{
	t_put(s->p2c[1]);
}

void t_wait_parent(struct t_sync *s)
{
	t_get(s->p2c[0]);
}

pid_t t_fork(int (*fn)(void *), void *arg)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	T_ASSERT(pid >= 0);
	if (pid == 0)
		_exit(fn(arg));
	return pid;
}

int t_waitpid(pid_t pid, int timeout_ms)
{
	struct timespec ts = {0, 1000000};
	int status = 0;

	for (int waited = 0;; waited++) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return status;
		T_ASSERT(r == 0);
		if (waited >= timeout_ms) {
			fprintf(stderr, "child %d did not exit in %d ms\n",
			        (int)pid, timeout_ms);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			exit(T_EXIT_FAIL);
		}
		nanosleep(&ts, NULL);
	}
}

static uint64_t t_rng;
static int t_rng_ready;

uint64_t t_seed(void)
{
	if (!t_rng_ready) {
		const char *e = getenv("IPCX_T_SEED");
		struct timespec ts;

		if (e && *e) {
			t_rng = strtoull(e, NULL, 0);
		} else {
			clock_gettime(CLOCK_REALTIME, &ts);
			t_rng = (uint64_t)ts.tv_nsec ^
			        ((uint64_t)ts.tv_sec << 20) ^
			        ((uint64_t)getpid() << 40);
		}
		if (t_rng == 0)
			t_rng = 1;
		t_rng_ready = 1;
		fprintf(stderr, "seed %llu: IPCX_T_SEED=%llu to repeat\n",
		        (unsigned long long)t_rng, (unsigned long long)t_rng);
	}
	return t_rng;
}

uint32_t t_rand(void)
{
	uint64_t x;

	t_seed();
	x = t_rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	t_rng = x;
	return (uint32_t)((x * 0x2545F4914F6CDD1DULL) >> 32);
}

uint32_t t_rand_below(uint32_t n)
{
	return (uint32_t)(((uint64_t)t_rand() * n) >> 32);
}

int t_poll_in(int fd, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int r;

	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	T_ASSERT(r >= 0);
	return r > 0;
}

void t_expect_gone(const char *who, ssize_t r, unsigned allowed)
{
	if ((r == IPCX_EPEER && (allowed & T_GONE_EPEER)) ||
	    (r == IPCX_ETIMEDOUT && (allowed & T_GONE_TIMEOUT)) ||
	    (r >= 0 && (allowed & T_GONE_ACCEPTED)))
		return;
	fprintf(stderr, "%s after the peer went: %zd %s (%s)\n", who, r,
	        ipcx_errname((int)r), ipcx_errmsg());
	exit(T_EXIT_FAIL);
}

void t_socketpair(int sv[2])
{
	T_ASSERT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	                    0, sv) == 0);
}

void t_write_all(int fd, const void *b, size_t n)
{
	T_ASSERT(write(fd, b, n) == (ssize_t)n);
}

/* The abstract address "\0<name>" and its length. */
static socklen_t t_abstract_addr(const char *name, struct sockaddr_un *a)
{
	size_t n = strlen(name);

	T_ASSERT(n + 1 < sizeof(a->sun_path));
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	memcpy(a->sun_path + 1, name, n);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
}

int t_abstract_listen(const char *name)
{
	struct sockaddr_un a;
	socklen_t alen = t_abstract_addr(name, &a);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	T_ASSERT(fd >= 0);
	T_ASSERT(bind(fd, (struct sockaddr *)&a, alen) == 0);
	T_ASSERT(listen(fd, SOMAXCONN) == 0);
	return fd;
}

int t_abstract_connect(const char *name)
{
	struct sockaddr_un a;
	socklen_t alen = t_abstract_addr(name, &a);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	T_ASSERT(fd >= 0);
	T_ASSERT(connect(fd, (struct sockaddr *)&a, alen) == 0);
	return fd;
}

static uint32_t t_fnv(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h;
}

static void t_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t t_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

void t_msg_fill(void *buf, size_t len, uint32_t seq)
{
	uint8_t *b = buf;
	size_t i = 0;

	if (len >= T_MSG_MIN) {
		t_put32(b, seq);
		t_put32(b + 4, (uint32_t)len);
		i = 8;
	}
	for (size_t end = len >= T_MSG_MIN ? len - 4 : len; i < end; i++)
		b[i] = (uint8_t)(seq * 131u + i * 7u + (i >> 8) + len);
	if (len >= T_MSG_MIN)
		t_put32(b + len - 4, t_fnv(b, len - 4));
}

int t_msg_check(const void *buf, size_t len, uint32_t *seq)
{
	const uint8_t *b = buf;

	if (len < T_MSG_MIN)
		return 0;
	if (t_get32(b + 4) != (uint32_t)len)
		return 0;
	if (t_get32(b + len - 4) != t_fnv(b, len - 4))
		return 0;
	*seq = t_get32(b);
	return t_msg_is(buf, len, *seq);
}

int t_msg_is(const void *buf, size_t len, uint32_t seq)
{
	const uint8_t *b = buf;
	uint8_t *want = malloc(len ? len : 1);
	int same;

	T_ASSERT(want != NULL);
	t_msg_fill(want, len, seq);
	same = memcmp(b, want, len) == 0;
	free(want);
	return same;
}

int t_path_gone(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0 && errno == ENOENT)
		return 1;
	fprintf(stderr, "%s still exists (mode %o)\n", path,
	        (unsigned)st.st_mode);
	return 0;
}

void t_fill(uint8_t *b, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(i * 31 + seed);
}

int t_same(const uint8_t *b, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		if (b[i] != (uint8_t)(i * 31 + seed))
			return 0;
	return 1;
}

long long t_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void t_child_ok(pid_t pid)
{
	int st = t_waitpid(pid, 20000);

	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "child failed (status 0x%x)\n", st);
		exit(T_EXIT_FAIL);
	}
}

unsigned t_free_port(int family, int type)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd = socket(family, type | SOCK_CLOEXEC, 0);
	unsigned p;

	if (fd < 0)
		return 0;
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = (sa_family_t)family;
	if (family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_addr.s_addr =
		    htonl(INADDR_LOOPBACK);
	else
		((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_loopback;
	if (bind(fd, (struct sockaddr *)&ss,
	         family == AF_INET ? sizeof(struct sockaddr_in)
	                           : sizeof(struct sockaddr_in6)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
		close(fd);
		return 0;
	}
	p = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
	                            : ((struct sockaddr_in6 *)&ss)->sin6_port);
	close(fd);
	return p;
}

static int (*t_torn_connect)(void);

/* Child: connect raw, send half a frame, die. */
static int t_torn_child(void *arg)
{
	uint8_t b[14] = {0, 0, 0, 100};
	int fd = t_torn_connect();

	(void)arg;
	if (write(fd, b, sizeof(b)) != (ssize_t)sizeof(b))
		return 1;
	_exit(0);
}

void t_hostile_and_torn(const char *ep, int (*raw_connect)(void))
{
	ipcx_chan *l;
	uint8_t buf[128];
	long long t0;
	pid_t pid;
	int fd;

	T_OK(ipcx_open(ep, IPCX_RECV | IPCX_CREATE, &l));
	fd = raw_connect();
	T_ASSERT(write(fd, "\xff\xff\xff\xff", 4) == 4);
	T_EXPECT(ipcx_recv(l, buf, sizeof(buf), 1000), IPCX_EMSGSIZE);
	/* The connection was closed: the raw client sees end of stream. */
	T_ASSERT(read(fd, buf, sizeof(buf)) <= 0);
	close(fd);

	t_torn_connect = raw_connect;
	pid = t_fork(t_torn_child, NULL);
	t0 = t_now_ms();
	T_EXPECT(ipcx_recv(l, buf, sizeof(buf), 10000), IPCX_EPEER);
	T_ASSERT(strstr(ipcx_errmsg(), "mid-message") != NULL);
	T_ASSERT(t_now_ms() - t0 < 5000);
	t_child_ok(pid);
	/* The listener goes on. */
	T_EXPECT(ipcx_recv(l, buf, sizeof(buf), 0), IPCX_ETIMEDOUT);
	T_OK(ipcx_close(l));
}
