/*
 * tour-space.c - part 1 of `ipcx tour`: the address space as the notes draw
 * it, for this process and for a forked child, from the inspector
 * (src/inspect/): one row per row of the notes, then one virtual address
 * holding two values and the pages the two processes still share.
 */
#include "tour.h"
#include "util.h"

#include "../../src/inspect/inspect.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* A variable in .data: one virtual address, a value per process. */
static volatile long tour_value = 1;

/* One row of the notes' table, folded from the inspector's regions. */
struct space_row {
	const char *en, *ko;
	uint64_t start, end; /* 0, 0: none */
	uint64_t rss_kb, size_kb;
	unsigned count; /* regions folded in */
};

enum {
	SR_KERNEL,
	SR_STACK,
	SR_MMAP,
	SR_HEAP,
	SR_BSS,
	SR_DATA,
	SR_TEXT,
	SR_UNUSED,
	SR_COUNT
};

static void space_add(struct space_row *w, const struct ipcx__region *r)
{
	if (!w->count || r->start < w->start)
		w->start = r->start;
	if (!w->count || r->end > w->end)
		w->end = r->end;
	w->rss_kb += r->rss_kb;
	w->size_kb += (r->end - r->start) >> 10;
	w->count++;
}

/* space_fold - the notes' rows from m's regions. */
static void space_fold(const struct ipcx__maps *m, struct space_row *w)
{
	static const struct space_row names[SR_COUNT] = {
	    [SR_KERNEL] = {"kernel space", "커널 공간", 0, 0, 0, 0, 0},
	    [SR_STACK] = {"user stack", "사용자 스택", 0, 0, 0, 0, 0},
	    [SR_MMAP] = {"memory-mapped region (shared libraries)",
	                 "메모리 매핑 영역 (공유 라이브러리)", 0, 0, 0, 0, 0},
	    [SR_HEAP] = {"runtime heap (malloc)", "런타임 힙 (malloc)", 0, 0, 0,
	                 0, 0},
	    [SR_BSS] = {"uninitialized data (.bss)",
	                "초기화되지 않은 데이터 (.bss)", 0, 0, 0, 0, 0},
	    [SR_DATA] = {"initialized data (.data)", "초기화된 데이터 (.data)",
	                 0, 0, 0, 0, 0},
	    [SR_TEXT] = {"program text (.text, .rodata)",
	                 "프로그램 코드 (.text, .rodata)", 0, 0, 0, 0, 0},
	    [SR_UNUSED] = {"unused", "사용 안 함", 0, 0, 0, 0, 0},
	};

	memcpy(w, names, sizeof(names));
	for (size_t i = 0; i < m->n; i++) {
		const struct ipcx__region *r = &m->r[i];
		switch (r->kind) {
		case IPCX__K_STACK:
			space_add(&w[SR_STACK], r);
			break;
		case IPCX__K_HEAP:
			space_add(&w[SR_HEAP], r);
			break;
		case IPCX__K_BSS:
			space_add(&w[SR_BSS], r);
			break;
		case IPCX__K_DATA:
			space_add(&w[SR_DATA], r);
			break;
		case IPCX__K_TEXT:
		case IPCX__K_RODATA:
			space_add(&w[SR_TEXT], r);
			break;
		case IPCX__K_KERNEL:
			break;
		default: /* libraries, anonymous maps, vdso, thread stacks */
			if (r->start < m->kernel.start)
				space_add(&w[SR_MMAP], r);
			break;
		}
	}
	/* No [heap] mapping (an allocator that maps instead, as under ASan):
	 * the row still stands, empty, between start_brk and the break. */
	if (!w[SR_HEAP].count && m->start_brk) {
		w[SR_HEAP].start = m->start_brk;
		w[SR_HEAP].end = m->brk > m->start_brk ? m->brk : m->start_brk;
	}
	w[SR_KERNEL].start = m->kernel.start;
	w[SR_KERNEL].end = UINT64_MAX;
	w[SR_UNUSED].start = 0;
	w[SR_UNUSED].end = w[SR_TEXT].count ? w[SR_TEXT].start : 0;
}

static void space_size(char *s, size_t cap, uint64_t kb)
{
	if (kb >= 10ull << 20)
		snprintf(s, cap, "%" PRIu64 " GiB", kb >> 20);
	else if (kb >= 10ull << 10)
		snprintf(s, cap, "%" PRIu64 " MiB", kb >> 10);
	else
		snprintf(s, cap, "%" PRIu64 " KiB", kb);
}

static void space_table(FILE *f, const struct ipcx__maps *m,
                        const struct space_row *w)
{
	char sz[32], rss[32];

	fprintf(f, "   %-18s %-18s %-44s %9s %9s\n", tour_t("from", "시작"),
	        tour_t("to", "끝"), tour_t("row of the notes", "노트의 행"),
	        tour_t("mapped", "매핑"), tour_t("resident", "상주"));
	for (int i = 0; i < SR_COUNT; i++) {
		if (i != SR_KERNEL && i != SR_UNUSED && i != SR_HEAP &&
		    !w[i].count)
			continue;
		space_size(sz, sizeof(sz), w[i].size_kb);
		space_size(rss, sizeof(rss), w[i].rss_kb);
		fprintf(
		    f, "   0x%016" PRIx64 " 0x%016" PRIx64 " %-44s %9s %9s\n",
		    w[i].start, w[i].end == UINT64_MAX ? UINT64_MAX : w[i].end,
		    tour_t(w[i].en, w[i].ko),
		    i == SR_KERNEL || i == SR_UNUSED ? "" : sz,
		    i == SR_KERNEL || i == SR_UNUSED ? "" : rss);
		if (i == SR_KERNEL) {
			if (tour_o.ko)
				fprintf(
				    f,
				    "      사용자 코드는 접근할 수 없음; 이 "
				    "프로세스의 페이지 테이블 %" PRIu64
				    " KiB, 커널 스택 %u 개 x %u KiB; 커널 "
				    "코드와 데이터는 모든 프로세스가 공유\n",
				    m->kernel.vm_pte_kb, m->kernel.threads,
				    m->kernel.kstack_kb);
			else
				fprintf(
				    f,
				    "      unreachable from user code; this "
				    "process's page tables %" PRIu64
				    " KiB, %u kernel stack(s) of %u KiB; the "
				    "kernel's code and data, the same for "
				    "every process\n",
				    m->kernel.vm_pte_kb, m->kernel.threads,
				    m->kernel.kstack_kb);
		}
		if (i == SR_STACK && m->sp)
			fprintf(f, "      <- %%rsp 0x%" PRIx64 "\n", m->sp);
		if (i == SR_HEAP)
			fprintf(f, "      <- brk 0x%" PRIx64 "\n", m->brk);
		if (i == SR_MMAP)
			fprintf(f,
			        tour_o.ko ? "      매핑 %u 개\n"
			                  : "      %u mappings\n",
			        w[i].count);
	}
	space_size(sz, sizeof(sz), m->size_kb);
	space_size(rss, sizeof(rss), m->rss_kb);
	if (tour_o.ko)
		fprintf(f,
		        "   매핑된 %s 중 %s 만 물리 메모리에 있다: 아주 극히 "
		        "일부분만 물리 메모리에 들어간다.\n",
		        sz, rss);
	else
		fprintf(
		    f,
		    "   Of %s mapped, %s is in physical memory: only a small "
		    "part of the space is resident.\n",
		    sz, rss);
}

static void space_json(FILE *f, const struct ipcx__maps *m,
                       const struct space_row *w)
{
	fprintf(f,
	        "{\"kernel_start\": \"0x%" PRIx64 "\", \"sp\": \"0x%" PRIx64
	        "\", \"brk\": \"0x%" PRIx64 "\", \"mapped_kb\": %" PRIu64
	        ", \"rss_kb\": %" PRIu64 ", \"rows\": [",
	        m->kernel.start, m->sp, m->brk, m->size_kb, m->rss_kb);
	for (int i = 0, first = 1; i < SR_COUNT; i++) {
		if (i != SR_KERNEL && i != SR_UNUSED && i != SR_HEAP &&
		    !w[i].count)
			continue;
		fprintf(f, "%s{\"row\": ", first ? "" : ", ");
		cli_json_str(f, w[i].en);
		fprintf(f,
		        ", \"start\": \"0x%" PRIx64 "\", \"end\": \"0x%" PRIx64
		        "\", \"mapped_kb\": %" PRIu64 ", \"rss_kb\": %" PRIu64
		        "}",
		        w[i].start, w[i].end, w[i].size_kb, w[i].rss_kb);
		first = 0;
	}
	fprintf(f, "]");
}

void tour_space(FILE *f)
{
	struct ipcx__maps m;
	struct ipcx__maps_cmp c;
	struct space_row w[SR_COUNT];
	int up[2], down[2], r, rc;
	long theirs = -1;
	char go = 'g';
	pid_t child = -1;

	/* 1a: this process. */
	r = ipcx__maps_read(0, &m);
	if (r == 0) {
		space_fold(&m, w);
		if (tour_o.json) {
			fprintf(f, "{\"self\": ");
			space_json(f, &m, w);
		} else {
			tour_head("1. The address space of this process",
			          "1. 이 프로세스의 주소 공간");
			if (tour_o.ko)
				fprintf(
				    f,
				    "   pid %d, 가상 주소, 위가 높은 주소:\n",
				    (int)getpid());
			else
				fprintf(f,
				        "   pid %d, virtual addresses, highest "
				        "first:\n",
				        (int)getpid());
			space_table(f, &m, w);
		}
		ipcx__maps_free(&m);
	} else if (tour_o.json) {
		fprintf(f, "{\"self\": null");
	} else {
		fprintf(f, "   %s\n", ipcx_errmsg());
	}

	/* 1b: a forked child writes the variable; compare while it lives. */
	fflush(f);
	if (pipe(up) < 0)
		goto out;
	if (pipe(down) < 0) {
		close(up[0]);
		close(up[1]);
		goto out;
	}
	child = fork();
	if (child == 0) {
		tour_value = 2; /* copy on write: only the child's page moves */
		close(up[0]);
		close(down[1]);
		if (write(up[1], (const void *)&tour_value, sizeof(long)) < 0)
			_exit(1);
		/* Stay alive until the parent has compared the two spaces. */
		if (read(down[0], &go, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(up[1]);
	close(down[0]);
	if (child > 0 && read(up[0], &theirs, sizeof(theirs)) == sizeof(theirs))
		rc = ipcx__maps_compare(0, child, &c);
	else
		rc = -1;
	if (write(down[1], &go, 1) < 0) {
		/* The child is gone already; waitpid reaps it. */
	}
	close(up[0]);
	close(down[1]);
	if (child > 0)
		waitpid(child, NULL, 0);
	if (tour_o.json) {
		fprintf(
		    f,
		    ", \"variable\": {\"address\": \"%p\", \"parent\": %ld, "
		    "\"child\": %ld, \"child_pid\": %d}",
		    (void *)&tour_value, tour_value, theirs, (int)child);
		if (rc == 0)
			fprintf(f,
			        ", \"shared_pages\": %" PRIu64
			        ", \"different_pages\": %" PRIu64
			        ", \"compared_by\": \"%s\"",
			        c.same, c.diff,
			        c.how == IPCX__CMP_FRAMES ? "frames" : "files");
		fprintf(f, "}");
	} else {
		tour_head("   A forked child", "   fork 한 자식 프로세스");
		if (tour_o.ko)
			fprintf(
			    f,
			    "   변수 tour_value 의 가상 주소 %p: 부모(pid %d)"
			    "에서는 %ld, 자식(pid %d)에서는 %ld.\n"
			    "   프로세스 간 공간은 완전히 분리되어 있다.\n",
			    (void *)&tour_value, (int)getpid(), tour_value,
			    (int)child, theirs);
		else
			fprintf(
			    f,
			    "   tour_value at virtual address %p holds %ld in "
			    "the parent (pid %d) and %ld in the child (pid "
			    "%d):\n   the two spaces are fully separated.\n",
			    (void *)&tour_value, tour_value, (int)getpid(),
			    theirs, (int)child);
		if (rc == 0 && c.how == IPCX__CMP_FRAMES)
			fprintf(
			    f,
			    tour_o.ko
			        ? "   같은 물리 페이지를 공유: %" PRIu64
			          " 페이지; 같은 주소지만 다른 물리 페이지: "
			          "%" PRIu64
			          " 페이지 (tour_value 의 페이지 포함)\n"
			        : "   pages still shared (one physical frame): "
			          "%" PRIu64
			          "; same address, different frames: %" PRIu64
			          " (tour_value's page among them)\n",
			    c.same, c.diff);
		else if (rc == 0)
			fprintf(f,
			        tour_o.ko
			            ? "   같은 파일을 같은 주소에 매핑한 "
			              "페이지: %" PRIu64
			              " (물리 프레임은 root 만 볼 수 있음)\n"
			            : "   pages mapped from the same file at "
			              "the same "
			              "address: %" PRIu64
			              " (physical frames need root)\n",
			        c.same);
	}
	if (rc == 0)
		ipcx__maps_cmp_free(&c);
out:
	if (tour_o.json)
		fprintf(f, "}");
}
