/*
 * tour.c - `ipcx tour`: the lecture notes, live: this process's address
 * space, a forked child's, then the seven IPC mechanisms in the notes' order,
 * each carrying real messages between two processes, and what each cost.
 *
 * Every object the tour makes is named before it is made and removed at the
 * end, also when SIGINT, SIGTERM, SIGHUP or SIGPIPE ends the tour early.
 */
#include "cli.h"
#include "tour.h"
#include "util.h"

#include "ipcx.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Round trips timed per mechanism, and the payload of a message. */
#define TOUR_RTTS 200
#define TOUR_RTTS_SLOW \
	20 /* the file spool pays a rename and more per message */
#define TOUR_PAYLOAD 64
/* One wait's bound; the tour checks for an interrupt between slices. */
#define TOUR_SLICE_MS 100
#define TOUR_WAIT_MS  5000

static const char tour_usage[] =
    "usage: ipcx tour [--json] [--lang en|ko] [--no-color]\n"
    "\n"
    "Walk the lecture notes live: this process's address space as the notes'\n"
    "table and a forked child's, then the seven IPC mechanisms in the notes'\n"
    "order (file, message queue, shared memory, pipe, signal, semaphore,\n"
    "socket), two processes exchanging messages over each real kernel object,\n"
    "where the object lives and what a round trip cost. Every object made is\n"
    "removed at the end, also on Ctrl-C.\n"
    "\n"
    "      --json         one JSON document on stdout instead of text\n"
    "      --lang LANG    en (default) or ko, the notes' language\n"
    "      --no-color     no colour (also when NO_COLOR is set or stdout is\n"
    "                     not a terminal)\n"
    "  -h, --help         show this help\n"
    "  -V, --version      show the version\n"
    "\n"
    "Exit status: 0 ok, 1 a mechanism failed, 2 usage, 130 interrupted.\n";

/*
 * TOUR_SNPRINTF / TOUR_PRINTF - format in the tour's language; both formats
 * are literals, so the compiler checks each against the arguments.
 */
#define TOUR_SNPRINTF(buf, cap, fmt_en, fmt_ko, ...)         \
	(tour_o.ko ? snprintf(buf, cap, fmt_ko, __VA_ARGS__) \
	           : snprintf(buf, cap, fmt_en, __VA_ARGS__))
#define TOUR_PRINTF(fmt_en, fmt_ko, ...) \
	(tour_o.ko ? printf(fmt_ko, __VA_ARGS__) : printf(fmt_en, __VA_ARGS__))

static volatile sig_atomic_t tour_stop;

static void tour_on_signal(int sig)
{
	tour_stop = sig;
}

/* ---- output: text in two languages, or JSON ---------------------------- */

struct tour_out tour_o;

const char *tour_t(const char *en, const char *ko)
{
	return tour_o.ko ? ko : en;
}

void tour_head(const char *en, const char *ko)
{
	if (tour_o.json)
		return;
	if (tour_o.color)
		printf("\n\033[1m%s\033[0m\n", tour_t(en, ko));
	else
		printf("\n%s\n", tour_t(en, ko));
}

/* ---- the objects the tour made, for the cleanup ------------------------ */

#define TOUR_MAX_OBJS 16
static char tour_objs[TOUR_MAX_OBJS][160];
static int tour_nobjs;
static char tour_dir[64]; /* scratch directory for paths */

/* tour_own - remember endpoint ep: the cleanup removes it. */
static void tour_own(const char *ep)
{
	if (tour_nobjs < TOUR_MAX_OBJS)
		snprintf(tour_objs[tour_nobjs++], sizeof(tour_objs[0]), "%s",
		         ep);
}

static void tour_cleanup(void)
{
	for (int i = 0; i < tour_nobjs; i++)
		ipcx_unlink(tour_objs[i]);
	tour_nobjs = 0;
	if (tour_dir[0]) {
		rmdir(tour_dir);
		tour_dir[0] = '\0';
	}
}

/* ---- one mechanism: a child echoes what the parent sends --------------- */

enum tour_kind { TK_FILE, TK_MQ, TK_SHM, TK_PIPE, TK_SIGNAL, TK_SEM, TK_SOCK };

struct tour_mech {
	enum tour_kind kind;
	const char *en, *ko; /* the notes' name */
	const char *scheme;
	size_t payload; /* bytes a message carries */
	int rtts;
};

static const struct tour_mech tour_mechs[] = {
    {TK_FILE, "file", "파일", "file", TOUR_PAYLOAD, TOUR_RTTS_SLOW},
    {TK_MQ, "message queue", "메시지 큐", "mq", TOUR_PAYLOAD, TOUR_RTTS},
    {TK_SHM, "shared memory", "공유 메모리", "shm", TOUR_PAYLOAD, TOUR_RTTS},
    {TK_PIPE, "pipe", "파이프", "pipe", TOUR_PAYLOAD, TOUR_RTTS},
    {TK_SIGNAL, "signal", "시그널", "signal", 8, TOUR_RTTS},
    {TK_SEM, "semaphore", "세마포어", "sem", 0, TOUR_RTTS},
    {TK_SOCK, "socket", "소켓", "unix", TOUR_PAYLOAD, TOUR_RTTS},
};
#define TOUR_NMECHS (sizeof(tour_mechs) / sizeof(tour_mechs[0]))

struct tour_result {
	int rc;                /* 0, or the IPCX_E* that stopped it */
	char err[256];         /* ipcx_errmsg() of that failure */
	char ab[160], ba[160]; /* parent->child and child->parent endpoints */
	char where[512];       /* where the kernel object lives */
	long long p50_ns, min_ns;
	int done; /* round trips made */
};

/*
 * tour_names - the two endpoints of mechanism m: ab (parent sends, child
 * receives) and ba (child sends, parent receives). For a signal the
 * receiving side is "signal://" in each process and the sending side names
 * the other's pid; mine is 1 for the parent's view, 0 for the child's.
 */
static void tour_names(const struct tour_mech *m, pid_t parent, pid_t child,
                       int mine, char *ab, char *ba, size_t cap)
{
	pid_t me = getpid();

	switch (m->kind) {
	case TK_FILE:
		snprintf(ab, cap, "file://%s/ab", tour_dir);
		snprintf(ba, cap, "file://%s/ba", tour_dir);
		break;
	case TK_SOCK:
		snprintf(ab, cap, "unix://%s/ab.sock", tour_dir);
		snprintf(ba, cap, "unix://%s/ba.sock", tour_dir);
		break;
	case TK_SIGNAL:
		if (mine) {
			snprintf(ab, cap, "signal://%d", (int)child);
			snprintf(ba, cap, "signal://");
		} else {
			snprintf(ab, cap, "signal://");
			snprintf(ba, cap, "signal://%d", (int)parent);
		}
		break;
	case TK_PIPE:
		ab[0] = ba[0] = '\0'; /* ipcx_pipe(): no names */
		break;
	default:
		snprintf(ab, cap, "%s://ipcx-tour-%d-ab", m->scheme,
		         (int)parent);
		snprintf(ba, cap, "%s://ipcx-tour-%d-ba", m->scheme,
		         (int)parent);
		break;
	}
	(void)me;
}

/* tour_recv - one message, in slices so an interrupt is seen. */
static ssize_t tour_recv(ipcx_chan *ch, void *buf, size_t cap)
{
	long long end = cli_now_ms() + TOUR_WAIT_MS;
	ssize_t n;

	do {
		n = ipcx_recv(ch, buf, cap, TOUR_SLICE_MS);
		if (n != IPCX_ETIMEDOUT)
			return n;
	} while (!tour_stop && cli_now_ms() < end);
	return IPCX_ETIMEDOUT;
}

/* tour_open_retry - open until the peer's object exists, in slices. */
static int tour_open_retry(const char *ep, int flags, ipcx_chan **ch)
{
	long long end = cli_now_ms() + TOUR_WAIT_MS;
	int r;

	do {
		r = ipcx_open(ep, flags, ch);
		if (r != IPCX_ENOENT && r != IPCX_ENOPEER)
			return r;
		cli_sleep_ms(2);
	} while (!tour_stop && cli_now_ms() < end);
	return r;
}

/* The child: receive on ab, answer on ba, rtts times; exit status 0 ok. */
static void tour_child(const struct tour_mech *m, ipcx_chan *rx, int ready,
                       pid_t parent)
{
	char ab[160], ba[160], buf[TOUR_PAYLOAD];
	ipcx_chan *tx = NULL;
	int r = 0;

	tour_names(m, parent, getpid(), 0, ab, ba, sizeof(ab));
	if (!rx && (r = ipcx_open(ab, IPCX_RECV | IPCX_CREATE, &rx)) < 0)
		_exit(10);
	if (ready >= 0) {
		/* The receiver exists: the parent may send now. */
		if (write(ready, "r", 1) != 1)
			_exit(11);
		close(ready);
	}
	(void)tx;
	if (m->kind == TK_PIPE)
		_exit(12); /* pipes are opened by the parent: see tour_run */
	if ((r = tour_open_retry(ba, IPCX_SEND, &tx)) < 0)
		_exit(13);
	for (int i = 0; i < m->rtts; i++) {
		ssize_t n = tour_recv(rx, buf, sizeof(buf));
		if (n < 0 || ipcx_send(tx, buf, (size_t)n, TOUR_WAIT_MS) < 0)
			_exit(14);
	}
	ipcx_close(tx);
	ipcx_close(rx);
	_exit(0);
}

/* The pipe child: both channels come from the parent. */
static void tour_pipe_child(ipcx_chan *rx, ipcx_chan *tx, int rtts)
{
	char buf[TOUR_PAYLOAD];

	for (int i = 0; i < rtts; i++) {
		ssize_t n = tour_recv(rx, buf, sizeof(buf));
		if (n < 0 || ipcx_send(tx, buf, (size_t)n, TOUR_WAIT_MS) < 0)
			_exit(14);
	}
	_exit(0);
}

static int tour_cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return (x > y) - (x < y);
}

static long long tour_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* tour_where - a sentence on where mechanism m's kernel object lives. */
static void tour_where(const struct tour_mech *m, struct tour_result *res,
                       ipcx_chan *rx, pid_t child)
{
	char path[256];
	struct stat st;
	const char *name = strstr(res->ba, "://");

	name = name ? name + 3 : "";
	switch (m->kind) {
	case TK_FILE:
		if (stat(name, &st) == 0)
			TOUR_SNPRINTF(
			    res->where, sizeof(res->where),
			    "a spool directory %s (inode %lu) on disk: "
			    "each message one file",
			    "디스크의 스풀 디렉터리 %s (inode %lu): "
			    "메시지 하나가 파일 하나",
			    name, (unsigned long)st.st_ino);
		break;
	case TK_MQ:
		snprintf(path, sizeof(path), "/dev/mqueue/%s", name);
		if (stat(path, &st) == 0)
			TOUR_SNPRINTF(
			    res->where, sizeof(res->where),
			    "a POSIX queue in kernel memory, seen as %s",
			    "커널 메모리의 POSIX 큐, %s 로 보임", path);
		else
			TOUR_SNPRINTF(
			    res->where, sizeof(res->where),
			    "a POSIX queue /%s in kernel memory (mount "
			    "/dev/mqueue to see it as a file)",
			    "커널 메모리의 POSIX 큐 /%s (/dev/mqueue 를 "
			    "마운트하면 파일로 보임)",
			    name);
		break;
	case TK_SHM:
		TOUR_SNPRINTF(res->where, sizeof(res->where),
		              "pages mapped into both processes: /dev/shm/%s",
		              "두 프로세스에 함께 매핑된 페이지: /dev/shm/%s",
		              name);
		break;
	case TK_PIPE: {
		int fd = rx ? ipcx_fd(rx) : -1;
		if (fd >= 0 && fstat(fd, &st) == 0)
			TOUR_SNPRINTF(res->where, sizeof(res->where),
			              "a kernel pipe buffer: pipe:[%lu] among "
			              "/proc/%d/fd",
			              "커널의 파이프 버퍼: /proc/%2$d/fd 의 "
			              "pipe:[%1$lu]",
			              (unsigned long)st.st_ino, (int)getpid());
		break;
	}
	case TK_SIGNAL:
		TOUR_SNPRINTF(
		    res->where, sizeof(res->where),
		    "the kernel's queue of pending real-time signals "
		    "of pids %d and %d",
		    "커널이 pid %d 와 %d 에 쌓아 두는 실시간 시그널 큐",
		    (int)getpid(), (int)child);
		break;
	case TK_SEM:
		TOUR_SNPRINTF(res->where, sizeof(res->where),
		              "a counter in shared memory, /dev/shm/sem.%s",
		              "공유 메모리의 카운터, /dev/shm/sem.%s", name);
		break;
	case TK_SOCK:
		if (stat(name, &st) == 0)
			TOUR_SNPRINTF(
			    res->where, sizeof(res->where),
			    "a socket in the kernel, its name the file "
			    "%s (inode %lu)",
			    "커널의 소켓, 이름은 파일 %s (inode %lu)", name,
			    (unsigned long)st.st_ino);
		break;
	}
}

/*
 * tour_run - mechanism m: a forked child echoes rtts messages; the parent
 * times each round trip. Fills res; returns 0 or the IPCX_E* that stopped.
 */
static int tour_run(const struct tour_mech *m, struct tour_result *res)
{
	char buf[TOUR_PAYLOAD], ab[160], cab[160], cba[160];
	ipcx_chan *rx = NULL, *tx = NULL, *crx = NULL, *ctx = NULL;
	long long *ns = NULL;
	int sync[2] = {-1, -1}, r = 0, status;
	pid_t child = -1, parent = getpid();

	memset(res, 0, sizeof(*res));
	memset(buf, 'x', sizeof(buf));
	tour_names(m, parent, 0, 1, res->ab, res->ba, sizeof(res->ab));
	if (m->kind != TK_SIGNAL) {
		tour_own(res->ab);
		tour_own(res->ba);
	}
	ns = calloc((size_t)m->rtts, sizeof(*ns));
	if (!ns) {
		r = IPCX_ENOMEM;
		goto out;
	}
	/* The parent's receiver exists before the child is born. */
	if (m->kind == TK_PIPE) {
		if ((r = ipcx_pipe(NULL, &crx, &tx)) < 0 ||
		    (r = ipcx_pipe(NULL, &rx, &ctx)) < 0)
			goto out;
	} else if ((r = ipcx_open(res->ba, IPCX_RECV | IPCX_CREATE, &rx)) < 0) {
		goto out;
	}
	if (pipe(sync) < 0) {
		r = IPCX_ESYS;
		goto out;
	}
	fflush(stdout);
	child = fork();
	if (child < 0) {
		r = IPCX_ESYS;
		goto out;
	}
	if (child == 0) {
		/* The inherited channels belong to the parent: leave them. */
		signal(SIGINT, SIG_DFL);
		close(sync[0]);
		if (m->kind == TK_PIPE)
			tour_pipe_child(crx, ctx, m->rtts);
		tour_child(m, NULL, sync[1], parent);
	}
	close(sync[1]);
	sync[1] = -1;
	if (m->kind == TK_PIPE) {
		ipcx_close(crx);
		ipcx_close(ctx);
		crx = ctx = NULL;
	} else {
		/* Wait for the child's receiver, then open our sending end. */
		struct pollfd p = {.fd = sync[0], .events = POLLIN};
		char c;
		int left = TOUR_WAIT_MS;
		while (!tour_stop && left > 0 &&
		       poll(&p, 1, TOUR_SLICE_MS) == 0)
			left -= TOUR_SLICE_MS;
		if (tour_stop || left <= 0 || read(sync[0], &c, 1) != 1) {
			r = tour_stop ? IPCX_ETIMEDOUT : IPCX_ENOPEER;
			snprintf(
			    res->err, sizeof(res->err), "%s",
			    tour_t("the child did not open its receiver",
			           "자식 프로세스가 수신 채널을 열지 못함"));
			goto out;
		}
		tour_names(m, parent, child, 1, ab, cba, sizeof(ab));
		snprintf(res->ab, sizeof(res->ab), "%s", ab);
		if ((r = tour_open_retry(ab, IPCX_SEND, &tx)) < 0)
			goto out;
	}
	(void)cab;
	for (int i = 0; i < m->rtts && !tour_stop; i++) {
		long long t0 = tour_ns();
		ssize_t n;
		if ((r = ipcx_send(tx, buf, m->payload, TOUR_WAIT_MS)) < 0)
			goto out;
		if ((n = tour_recv(rx, buf, sizeof(buf))) < 0) {
			r = (int)n;
			goto out;
		}
		ns[i] = tour_ns() - t0;
		res->done++;
	}
	tour_where(m, res, rx, child);
	if (res->done) {
		qsort(ns, (size_t)res->done, sizeof(*ns), tour_cmp_ll);
		res->p50_ns = ns[res->done / 2];
		res->min_ns = ns[0];
	}
out:
	if (r < 0 && !res->err[0])
		snprintf(res->err, sizeof(res->err), "%s", ipcx_errmsg());
	res->rc = r < 0 ? r : 0;
	ipcx_close(tx);
	ipcx_close(crx);
	ipcx_close(ctx);
	if (child > 0) {
		if (r < 0 || tour_stop)
			kill(child, SIGKILL);
		while (waitpid(child, &status, 0) < 0 && errno == EINTR)
			;
		if (!res->rc && !tour_stop &&
		    !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
			res->rc = IPCX_EPEER;
			TOUR_SNPRINTF(
			    res->err, sizeof(res->err),
			    "the echoing child failed (status %d)",
			    "되돌려 보내는 자식 프로세스 실패 (상태 %d)",
			    status);
		}
	}
	ipcx_close(rx);
	if (sync[0] >= 0)
		close(sync[0]);
	if (sync[1] >= 0)
		close(sync[1]);
	free(ns);
	return res->rc;
}

/* ---- the report -------------------------------------------------------- */

static void tour_us(char *s, size_t cap, long long ns)
{
	if (ns <= 0)
		snprintf(s, cap, "-");
	else if (ns < 10000)
		snprintf(s, cap, "%.2f us", ns / 1000.0);
	else
		snprintf(s, cap, "%.1f us", ns / 1000.0);
}

static void tour_print_mech(int i, const struct tour_mech *m,
                            const struct tour_result *res)
{
	char t[32];

	if (tour_o.json)
		return;
	if (tour_o.color)
		printf("\n\033[1m2.%d %s\033[0m  (%s://)\n", i + 1,
		       tour_t(m->en, m->ko), m->scheme);
	else
		printf("\n2.%d %s  (%s://)\n", i + 1, tour_t(m->en, m->ko),
		       m->scheme);
	if (res->rc == IPCX_ENOTSUP) {
		printf("   %s\n", tour_t("not built in this ipcx: skipped",
		                         "이 ipcx 에는 아직 없음: 건너뜀"));
		return;
	}
	if (res->rc < 0) {
		printf("   %s: %s\n", tour_t("FAILED", "실패"), res->err);
		return;
	}
	printf("   %s %s -> %s\n", tour_t("endpoints:", "엔드포인트:"),
	       res->ab[0] ? res->ab : "ipcx_pipe()",
	       res->ba[0] ? res->ba : "ipcx_pipe()");
	printf("   %s %s\n", tour_t("object:", "객체:"), res->where);
	tour_us(t, sizeof(t), res->p50_ns);
	TOUR_PRINTF("   %1$d round trips of %2$zu bytes, pid %3$d and its "
	            "child: p50 %4$s\n",
	            "   pid %3$d 와 자식 사이 %2$zu 바이트 %1$d 번 왕복: "
	            "p50 %4$s\n",
	            res->done, m->payload, (int)getpid(), t);
}

static void tour_json_mech(FILE *f, const struct tour_mech *m,
                           const struct tour_result *res, int first)
{
	fprintf(f, "%s\n    {\"mechanism\": ", first ? "" : ",");
	cli_json_str(f, m->en);
	fprintf(f, ", \"scheme\": ");
	cli_json_str(f, m->scheme);
	fprintf(f, ", \"ok\": %s, ", res->rc == 0 ? "true" : "false");
	fprintf(f, "\"skipped\": %s, ",
	        res->rc == IPCX_ENOTSUP ? "true" : "false");
	fprintf(f, "\"endpoints\": [");
	cli_json_str(f, res->ab);
	fprintf(f, ", ");
	cli_json_str(f, res->ba);
	fprintf(f, "], \"object\": ");
	cli_json_str(f, res->where);
	fprintf(f,
	        ", \"payload\": %zu, \"round_trips\": %d, "
	        "\"rtt_p50_ns\": %lld, \"rtt_min_ns\": %lld, "
	        "\"via_kernel_space\": %s, \"error\": ",
	        m->payload, res->done, res->p50_ns, res->min_ns,
	        m->kind == TK_FILE ? "false" : "true");
	cli_json_str(f, res->rc < 0 ? res->err : "");
	fputc('}', f);
}

static void tour_conclusion(const struct tour_result *res)
{
	char t[32];

	if (tour_o.json)
		return;
	tour_head("3. What it comes to", "3. 정리");
	printf("   %-16s %-8s %12s  %s\n", tour_t("mechanism", "기법"),
	       tour_t("scheme", "스킴"), tour_t("rtt p50", "왕복 p50"),
	       tour_t("carried by", "경로"));
	for (size_t i = 0; i < TOUR_NMECHS; i++) {
		const struct tour_mech *m = &tour_mechs[i];
		if (res[i].rc == IPCX_ENOTSUP)
			snprintf(t, sizeof(t), "%s",
			         tour_t("not built", "없음"));
		else if (res[i].rc < 0)
			snprintf(t, sizeof(t), "%s", tour_t("failed", "실패"));
		else
			tour_us(t, sizeof(t), res[i].p50_ns);
		printf("   %-16s %-8s %12s  %s\n", tour_t(m->en, m->ko),
		       m->scheme, t,
		       m->kind == TK_FILE
		           ? tour_t("the file system (disk)",
		                    "파일 시스템 (디스크)")
		           : tour_t("kernel space, shared by all",
		                    "모든 프로세스가 공유하는 커널 공간"));
	}
	printf(
	    "\n   %s\n",
	    tour_t("All but the file ride on kernel space, which every "
	           "process shares: that sharing is the whole trick.",
	           "2번부터는 모두 커널 공간을 사용하고, 공유하는 것이 "
	           "핵심이다. 커널 공간은 모든 프로세스가 공유하기 때문이다."));
}

int cmd_tour(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"lang", required_argument, NULL, 'l'},
	    {"no-color", no_argument, NULL, 'C'},
	    CLI_OPTS_END,
	};
	struct cli_args a =
	    CLI_ARGS("tour", tour_usage, NULL, opts, argc, argv);
	struct tour_result res[TOUR_NMECHS];
	struct sigaction sa;
	const char *nc = getenv("NO_COLOR");
	bool no_color = false;
	int c, fails = 0;

	while ((c = cli_args_next(&a)) > 0) {
		switch (c) {
		case 'j':
			tour_o.json = true;
			break;
		case 'l':
			if (strcmp(optarg, "ko") == 0)
				tour_o.ko = true;
			else if (strcmp(optarg, "en") != 0)
				return cli_usage_error("tour",
				                       "--lang takes en or ko");
			break;
		case 'C':
			no_color = true;
			break;
		}
	}
	if (c == CLI_ARGS_EXIT)
		return a.rc;
	if (cli_args_want(&a, 0, 0, "") != CLI_OK)
		return CLI_USAGE;
	tour_o.color =
	    !tour_o.json && !no_color && !(nc && *nc) && isatty(STDOUT_FILENO);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = tour_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);

	snprintf(tour_dir, sizeof(tour_dir), "/tmp/ipcx-tour-%d",
	         (int)getpid());
	if (mkdir(tour_dir, 0700) < 0) {
		tour_dir[0] = '\0';
		return cli_errno("mkdir /tmp/ipcx-tour-PID");
	}

	if (tour_o.json)
		printf("{\"pid\": %d,\n  \"address_space\": ", (int)getpid());
	else
		printf("%s\n",
		       tour_t("ipcx tour: the lecture notes, live.",
		              "ipcx tour: 강의 노트를 실제로 돌려 봅니다."));
	tour_space(stdout);
	if (tour_o.json)
		printf(",\n  \"mechanisms\": [");
	else
		tour_head("2. Seven ways to talk across separated spaces",
		          "2. 다양한 IPC 기법");
	for (size_t i = 0; i < TOUR_NMECHS && !tour_stop; i++) {
		tour_run(&tour_mechs[i], &res[i]);
		if (res[i].rc < 0 && res[i].rc != IPCX_ENOTSUP && !tour_stop)
			fails++;
		if (tour_o.json)
			tour_json_mech(stdout, &tour_mechs[i], &res[i], i == 0);
		else
			tour_print_mech((int)i, &tour_mechs[i], &res[i]);
		fflush(stdout);
	}
	tour_cleanup();
	if (tour_stop) {
		if (tour_o.json)
			printf("\n  ], \"interrupted\": true}\n");
		else
			fprintf(
			    stderr,
			    "ipcx tour: interrupted; removed what it made\n");
		return 128 + (tour_stop == SIGPIPE ? SIGPIPE : (int)tour_stop);
	}
	if (tour_o.json) {
		printf("\n  ],\n  \"conclusion\": ");
		cli_json_str(stdout,
		             "All but the file ride on kernel space, which "
		             "every process shares.");
		printf(",\n  \"interrupted\": false}\n");
	} else {
		tour_conclusion(res);
	}
	return fails ? CLI_ERR : CLI_OK;
}
