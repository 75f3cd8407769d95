/*
 * test-error.c - src/core/error.c: the code list, names, texts, the errno
 * mapping and the thread-local detailed message.
 */
#include "internal.h"
#include "t.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

/* Every code of the X-macro list, in order. */
static const int codes[] = {
#define CODE(name, val, text) IPCX_##name,
    IPCX_ERRNO_MAP(CODE)
#undef CODE
};
static const char *const names[] = {
#define NAME(name, val, text) #name,
    IPCX_ERRNO_MAP(NAME)
#undef NAME
};
static const char *const texts[] = {
#define TEXT(name, val, text) text,
    IPCX_ERRNO_MAP(TEXT)
#undef TEXT
};
#define NCODES (sizeof(codes) / sizeof(codes[0]))

static void test_codes(void)
{
	for (size_t i = 0; i < NCODES; i++) {
		const char *n = ipcx_errname(codes[i]);
		const char *s = ipcx_strerror(codes[i]);

		/* Negative, and the enum value is the listed one. */
		T_ASSERT(codes[i] < 0);
		T_ASSERT(n != NULL && s != NULL);
		T_ASSERT(strcmp(n, names[i]) == 0);
		T_ASSERT(strcmp(s, texts[i]) == 0);
		T_ASSERT(strcmp(n, "UNKNOWN") != 0);
		T_ASSERT(strcmp(s, ipcx_strerror(12345)) != 0);
		T_ASSERT(s[0] != '\0');
		for (size_t j = 0; j < i; j++) {
			T_ASSERT(codes[i] != codes[j]);
			T_ASSERT(strcmp(n, ipcx_errname(codes[j])) != 0);
			T_ASSERT(strcmp(s, ipcx_strerror(codes[j])) != 0);
		}
	}
	/* The ABI values named in the header, spot-checked. */
	T_ASSERT(IPCX_EINVAL == -1);
	T_ASSERT(IPCX_ETIMEDOUT == -6);
	T_ASSERT(IPCX_EPEER == -9);
	T_ASSERT(IPCX_ESTATE == -20);
	T_ASSERT(strcmp(ipcx_errname(IPCX_ETIMEDOUT), "ETIMEDOUT") == 0);
	T_ASSERT(strcmp(ipcx_errname(IPCX_OK), "UNKNOWN") != 0);
	T_ASSERT(ipcx_strerror(IPCX_OK) != NULL);
}

static void test_unknown(void)
{
	static const int odd[] = {1, 7, -21, -100, 12345, INT_MIN, INT_MAX};

	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		const char *s = ipcx_strerror(odd[i]);
		T_ASSERT(s != NULL && s[0] != '\0');
		T_ASSERT(strcmp(ipcx_errname(odd[i]), "UNKNOWN") == 0);
		for (size_t j = 0; j < NCODES; j++)
			T_ASSERT(strcmp(s, texts[j]) != 0);
	}
	T_ASSERT(ipcx_version() != NULL);
	T_ASSERT(strcmp(ipcx_version(), IPCX_VERSION_STRING) == 0);
}

static void test_errno_map(void)
{
	static const struct {
		int e, want;
	} map[] = {
	    {EINVAL, IPCX_EINVAL},
	    {ETIMEDOUT, IPCX_ETIMEDOUT},
	    {EMSGSIZE, IPCX_EMSGSIZE},
	    {EPIPE, IPCX_EPEER},
	    {ECONNRESET, IPCX_EPEER},
	    {ECONNREFUSED, IPCX_ENOPEER},
	    {ENXIO, IPCX_ENOPEER},
	    {ENOENT, IPCX_ENOENT},
	    {EEXIST, IPCX_EEXIST},
	    {EACCES, IPCX_EACCES},
	    {EPERM, IPCX_EACCES},
	    {EAGAIN, IPCX_EAGAIN},
	    {ENOMEM, IPCX_ENOMEM},
	    {ENAMETOOLONG, IPCX_ENAMETOOLONG},
	    {EBUSY, IPCX_EBUSY},
	    {EXDEV, IPCX_ESYS},
	    {0, IPCX_ESYS},
	    {9999, IPCX_ESYS},
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		int got = ipcx__errno_code(map[i].e);
		if (got != map[i].want) {
			fprintf(stderr, "errno %d -> %s, want %s\n", map[i].e,
			        ipcx_errname(got), ipcx_errname(map[i].want));
			T_ASSERT(0);
		}
	}
	/* ipcx__errno keeps the caller's context and adds strerror's text. */
	T_EXPECT(ipcx__errno(ENOENT, "open %s", "/tmp/x"), IPCX_ENOENT);
	T_ASSERT(strstr(ipcx_errmsg(), "open /tmp/x") != NULL);
	T_ASSERT(strstr(ipcx_errmsg(), strerror(ENOENT)) != NULL);
	/* An errno value no libc knows still yields a message. */
	T_EXPECT(ipcx__errno(99999, "weird"), IPCX_ESYS);
	T_ASSERT(strncmp(ipcx_errmsg(), "weird", 5) == 0);
}

static void test_errmsg_bounds(void)
{
	static char big[10000];

	/* A message longer than the buffer is cut, never overflows. */
	memset(big, 'x', sizeof(big) - 1);
	T_EXPECT(ipcx__err(IPCX_EINVAL, "%s", big), IPCX_EINVAL);
	T_ASSERT(strlen(ipcx_errmsg()) > 0 && strlen(ipcx_errmsg()) < 10000);
	T_EXPECT(ipcx__errno(EPIPE, "%s", big), IPCX_EPEER);
	T_ASSERT(strlen(ipcx_errmsg()) < 10000);
	T_EXPECT(ipcx__err(IPCX_EPEER, "short %d", 42), IPCX_EPEER);
	T_ASSERT(strcmp(ipcx_errmsg(), "short 42") == 0);
}

/* The public API sets the message too: it names what was wrong. */
static void test_errmsg_api(void)
{
	ipcx_chan *ch = (ipcx_chan *)1;

	T_EXPECT(ipcx_open("nosuchscheme://x", IPCX_RECV, &ch), IPCX_ESCHEME);
	T_ASSERT(ch == NULL);
	T_ASSERT(strstr(ipcx_errmsg(), "nosuchscheme") != NULL);
	T_EXPECT(ipcx_open(NULL, IPCX_RECV, &ch), IPCX_EINVAL);
	T_EXPECT(ipcx_open("shm://x", 0, &ch), IPCX_EINVAL);
	T_EXPECT(ipcx_send(NULL, "", 0, 0), IPCX_EINVAL);
	T_EXPECT(ipcx_recv(NULL, NULL, 0, 0), IPCX_EINVAL);
	T_EXPECT(ipcx_pending(NULL), IPCX_EINVAL);
	T_EXPECT(ipcx_fd(NULL), IPCX_EINVAL);
	T_EXPECT(ipcx_close(NULL), 0);
	T_EXPECT(ipcx_unlink(NULL), IPCX_EINVAL);
}

/*
 * Thread-local messages: two threads fail in lock step with different
 * messages; each must read back its own, whatever the other did between.
 */
struct tl {
	int id;
	int fd_go[2];   /* main -> thread */
	int fd_done[2]; /* thread -> main */
	int ok;
};

static void tl_step(int rd, int wr)
{
	char c = 0;
	T_ASSERT(write(wr, &c, 1) == 1);
	T_ASSERT(read(rd, &c, 1) == 1);
}

static void *tl_thread(void *arg)
{
	struct tl *t = arg;
	char want[64];
	char c;

	snprintf(want, sizeof(want), "thread %d failed", t->id);
	T_ASSERT(read(t->fd_go[0], &c, 1) == 1);
	ipcx__err(IPCX_EBUSY, "thread %d failed", t->id);
	/* Let main overwrite its own message, then check ours. */
	tl_step(t->fd_go[0], t->fd_done[1]);
	t->ok = strcmp(ipcx_errmsg(), want) == 0;
	T_ASSERT(write(t->fd_done[1], &c, 1) == 1);
	return NULL;
}

static void test_thread_local(void)
{
	struct tl t = {.id = 7};
	pthread_t th;
	char c = 0;

	T_ASSERT(pipe(t.fd_go) == 0 && pipe(t.fd_done) == 0);
	ipcx__err(IPCX_EINVAL, "main failed");
	T_ASSERT(pthread_create(&th, NULL, tl_thread, &t) == 0);
	T_ASSERT(write(t.fd_go[1], &c, 1) == 1);
	T_ASSERT(read(t.fd_done[0], &c, 1) == 1); /* thread set its own */
	T_ASSERT(strcmp(ipcx_errmsg(), "main failed") == 0);
	ipcx__err(IPCX_EINVAL, "main failed again");
	T_ASSERT(write(t.fd_go[1], &c, 1) == 1);
	T_ASSERT(read(t.fd_done[0], &c, 1) == 1);
	T_ASSERT(pthread_join(th, NULL) == 0);
	T_ASSERT(t.ok);
	T_ASSERT(strcmp(ipcx_errmsg(), "main failed again") == 0);
	close(t.fd_go[0]);
	close(t.fd_go[1]);
	close(t.fd_done[0]);
	close(t.fd_done[1]);
}

/* Hostile bytes in a name never reach the message as control bytes. */
static void test_errmsg_escaped(void)
{
	ipcx_chan *ch = NULL;
	const char *m;

	T_EXPECT(ipcx_open("shm://a\nb\x1b[31m", IPCX_SEND, &ch),
	         IPCX_EENDPOINT);
	m = ipcx_errmsg();
	T_ASSERT(strstr(m, "a\\x0ab\\x1b[31m") != NULL);
	for (; *m; m++)
		T_ASSERT((unsigned char)*m >= 0x20 && *m != 0x7f);
	/* Escaped after a clean prefix, and at the very end of the buffer:
	 * a clean message is kept up to the same length as one that needs
	 * escaping, and an escape is never cut in half. */
	T_EXPECT(ipcx__err(IPCX_EINVAL, "%s\x7f", "clean prefix "),
	         IPCX_EINVAL);
	T_ASSERT(strcmp(ipcx_errmsg(), "clean prefix \\x7f") == 0);
	{
		static char big[IPCX__ERRMSG_MAX * 2];
		size_t clean;

		memset(big, 'y', sizeof(big) - 1);
		T_EXPECT(ipcx__err(IPCX_EINVAL, "%s", big), IPCX_EINVAL);
		clean = strlen(ipcx_errmsg());
		T_ASSERT(clean < IPCX__ERRMSG_MAX);
		big[clean - 1] = '\t';
		T_EXPECT(ipcx__err(IPCX_EINVAL, "%s", big), IPCX_EINVAL);
		m = ipcx_errmsg();
		T_ASSERT(strlen(m) <= clean + 3);
		T_ASSERT(strchr(m, '\t') == NULL);
		T_ASSERT(strstr(m, "\\x09") != NULL);
	}
}

int main(void)
{
	t_leak_begin();
	test_codes();
	test_unknown();
	test_errno_map();
	test_errmsg_bounds();
	test_errmsg_api();
	test_thread_local();
	test_errmsg_escaped();
	t_leak_end();
	return T_EXIT_PASS;
}
