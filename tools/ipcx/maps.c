/*
 * maps.c - `ipcx maps [PID]`: a live process's address space drawn as the
 * lecture notes' table, top (kernel space) to bottom (.text), as text,
 * JSON (--json) or an SVG picture (--svg FILE); `--compare PID1 PID2`
 * shows which pages two processes share physically.
 *
 * All figures come from the inspector (src/inspect/inspect.h); this file
 * only prints them.
 */
#include "cli.h"
#include "util.h"

#include "ipcx.h"
#include "../../src/inspect/inspect.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char maps_usage[] =
    "usage: ipcx maps [OPTIONS] [PID]\n"
    "       ipcx maps --compare PID1 PID2\n"
    "\n"
    "Show the address space of process PID (default: ipcx itself) as the\n"
    "table of the notes, top to bottom: kernel space, the stack with the\n"
    "stack pointer, the mmap region (shared libraries, shared memory,\n"
    "thread stacks), the heap up to brk, .bss, .data, .rodata, .text, and\n"
    "the unused gaps between them. Each row: start, end, size, permissions,\n"
    "resident (RSS) and proportional (PSS) kB from /proc/PID/smaps, kind,\n"
    "and what backs it. The executable's sections come from its ELF\n"
    "section headers, placed through the load bias.\n"
    "\n"
    "  -j, --json       print the layout as JSON\n"
    "  -s, --svg FILE   also draw the table as SVG into FILE (sizes\n"
    "                   log-scaled so small regions stay visible)\n"
    "  -c, --compare    take two PIDs and show which pages they share on\n"
    "                   the same physical frame (/proc/PID/pagemap, as\n"
    "                   root) or, without frames, through the same file\n"
    "  -h, --help       show this help\n"
    "  -V, --version    show the version\n"
    "\n"
    "Exit status: 0 ok, 1 error (no such process, not allowed, a kernel\n"
    "thread), 2 usage error.\n";

static const struct option maps_opts[] = {
    {"json", no_argument, NULL, 'j'},
    {"svg", required_argument, NULL, 's'},
    {"compare", no_argument, NULL, 'c'},
    CLI_OPTS_END,
};

/* One row of the picture: a region, a gap, or the kernel. */
struct maps_row {
	uint64_t start, end; /* end is exclusive; the kernel's is 2^64 - 1 */
	enum ipcx__kind kind;
	const struct ipcx__region *r; /* NULL for gaps and the kernel */
	const char *note;             /* what a gap is */
};

/* "4K", "1.5M", "128T": a size in bytes, short. */
static const char *maps_size(uint64_t b, char *buf, size_t len)
{
	static const char unit[] = "KMGTPE";
	double v = (double)b / 1024;
	int u = 0;

	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	if (v < 10 && v != (double)(uint64_t)v)
		snprintf(buf, len, "%.1f%c", v, unit[u]);
	else
		snprintf(buf, len, "%.0f%c", v, unit[u]);
	return buf;
}

/*
 * The rows top to bottom: [vsyscall] (it lies in kernel space), the
 * kernel, then the regions from the highest down with the gaps between.
 * Returns a malloc'd array of *n rows, or NULL.
 */
static struct maps_row *maps_rows(const struct ipcx__maps *m, size_t *n)
{
	struct maps_row *rows = calloc(2 * m->n + 3, sizeof(*rows));
	uint64_t below = m->kernel.start;
	size_t k = 0, i;

	if (rows == NULL)
		return NULL;
	for (i = m->n; i-- > 0;)
		if (m->r[i].start >= m->kernel.start)
			rows[k++] =
			    (struct maps_row){m->r[i].start, m->r[i].end,
			                      m->r[i].kind, &m->r[i], NULL};
	rows[k++] = (struct maps_row){m->kernel.start, UINT64_MAX,
	                              IPCX__K_KERNEL, NULL, NULL};
	/*
	 * Between the user half and the kernel half no address is valid
	 * (non-canonical). A 32-bit process owns only its low 4 GiB.
	 */
	below = 1ull << m->kernel.va_bits;
	if (m->bits == 32)
		below = 1ull << 32;
	rows[k++] = (struct maps_row){
	    below, m->kernel.start, IPCX__K_GAP, NULL,
	    m->bits == 32 ? "(beyond a 32-bit process's 4 GiB)"
	                  : "(non-canonical: no address here is valid)"};
	for (i = m->n; i-- > 0;) {
		const struct ipcx__region *r = &m->r[i];
		if (r->start >= m->kernel.start)
			continue;
		if (r->end < below)
			rows[k++] = (struct maps_row){
			    r->end, below, IPCX__K_GAP, NULL, "(unused)"};
		rows[k++] =
		    (struct maps_row){r->start, r->end, r->kind, r, NULL};
		below = r->start;
	}
	if (below > 0)
		rows[k++] =
		    (struct maps_row){0, below, IPCX__K_GAP, NULL, "(unused)"};
	*n = k;
	return rows;
}

static const char *maps_sp_src(const struct ipcx__maps *m)
{
	switch (m->sp_src) {
	case IPCX__SP_SELF:
		return "ipcx's own frame";
	case IPCX__SP_SYSCALL:
		return "/proc/PID/syscall";
	case IPCX__SP_STAT:
		return "/proc/PID/stat kstkesp";
	default:
		return "not exposed";
	}
}

/* The marker lines under the row that holds sp or brk. */
static void maps_markers_in(const struct ipcx__maps *m,
                            const struct maps_row *w)
{
	if (m->sp != 0 && m->sp >= w->start && m->sp < w->end)
		printf("%35s<- sp  0x%" PRIx64 " (%s)\n", "", m->sp,
		       maps_sp_src(m));
	if (w->kind == IPCX__K_HEAP)
		printf("%35s<- brk 0x%" PRIx64 " (%s; start_brk 0x%" PRIx64
		       ")\n",
		       "", m->brk, m->brk_exact ? "sbrk(0)" : "end of [heap]",
		       m->start_brk);
}

static void maps_print_kernel(const struct ipcx__maps *m)
{
	const struct ipcx__kernel *k = &m->kernel;
	char a[16];

	printf("\nkernel space from 0x%016" PRIx64 " (%s), above the user's "
	       "%d-bit half;\n  user code cannot reach it (supervisor-only "
	       "pages: a user access faults).\n",
	       k->start, k->start_src, k->va_bits);
	if (m->bits == 32)
		printf("  This 32-bit process may use up to 0x%08" PRIx64
		       " on this 64-bit kernel;\n  the 3 GiB user / 1 GiB "
		       "kernel split at 0xc0000000 is a 32-bit kernel's.\n",
		       k->user_top);
	printf("  page tables of this process: VmPTE %" PRIu64 " kB\n",
	       k->vm_pte_kb);
	printf("  kernel stacks: %u thread%s x %u KiB (THREAD_SIZE on "
	       "x86-64, arch/x86/include/asm/page_64_types.h",
	       k->threads, k->threads == 1 ? "" : "s", k->kstack_kb);
	if (k->kstack_measured_kb)
		printf("; measured %u KiB = /proc/meminfo KernelStack / "
		       "threads in /proc/loadavg",
		       k->kstack_measured_kb);
	printf(")\n  shared by every process: the kernel's code and data");
	if (k->text_start)
		printf(" (text 0x%" PRIx64 "-0x%" PRIx64 ", /proc/kallsyms)",
		       k->text_start, k->text_end);
	else
		printf(" (their addresses: hidden from us by kptr_restrict)");
	if (k->direct_map_kb)
		printf(" and the direct map of all RAM (%s)",
		       maps_size(k->direct_map_kb * 1024, a, sizeof(a)));
	printf("\n");
}

static void maps_print_sections(const struct ipcx__maps *m)
{
	int s;

	if (m->sec_note[0] != '\0') {
		printf("sections: unknown: %s\n", m->sec_note);
		return;
	}
	printf("sections (ELF section headers + load bias 0x%" PRIx64 "):",
	       m->load_bias);
	for (s = IPCX__SEC_COUNT; s-- > 0;)
		if (m->sec[s].present)
			printf(" %s 0x%" PRIx64 "-0x%" PRIx64,
			       ipcx__sec_name((enum ipcx__sec)s),
			       m->sec[s].addr, m->sec[s].addr + m->sec[s].size);
	printf("\n");
}

static int maps_print_table(const struct ipcx__maps *m)
{
	struct maps_row *rows;
	size_t n, i;
	char a[16];

	rows = maps_rows(m, &n);
	if (rows == NULL)
		return cli_errno("maps");
	printf("process %d: %s%s, %d-bit\n", (int)m->pid, m->exe,
	       m->self ? " (ipcx itself)" : "", m->bits);
	printf("%-16s  %-16s  %6s  %-4s  %8s  %8s  %-12s  %s\n", "START", "END",
	       "SIZE", "PERM", "RSS kB", "PSS kB", "KIND", "BACKING");
	for (i = 0; i < n; i++) {
		const struct maps_row *w = &rows[i];
		uint64_t len =
		    w->end - w->start + (w->r == NULL && w->end == UINT64_MAX);
		if (w->kind == IPCX__K_GAP) {
			printf("%016" PRIx64 "  %016" PRIx64 "  %6s  %42s%s\n",
			       w->start, w->end, maps_size(len, a, sizeof(a)),
			       "", w->note);
			continue;
		}
		if (w->kind == IPCX__K_KERNEL) {
			printf("%016" PRIx64 "  %016" PRIx64 "  %6s  %-4s  "
			       "%8s  %8s  %-12s  %s\n",
			       w->start, w->end, maps_size(len, a, sizeof(a)),
			       "----", "-", "-", "kernel",
			       "kernel space (see below)");
			continue;
		}
		printf("%016" PRIx64 "  %016" PRIx64 "  %6s  %-4s  %8" PRIu64
		       "  %8" PRIu64 "  %-12s  %s\n",
		       w->start, w->end, maps_size(len, a, sizeof(a)),
		       w->r->perms, w->r->rss_kb, w->r->pss_kb,
		       ipcx__kind_name(w->kind), w->r->path);
		maps_markers_in(m, w);
	}
	free(rows);
	if (m->sp == 0)
		printf("sp: unknown (%s)\n",
		       m->sp_note[0] ? m->sp_note : "the kernel hides it");
	maps_print_kernel(m);
	maps_print_sections(m);
	printf("in physical memory: RSS %" PRIu64 " kB of %" PRIu64
	       " kB mapped (%.1f%%), PSS %" PRIu64 " kB\n",
	       m->rss_kb, m->size_kb,
	       m->size_kb ? 100.0 * (double)m->rss_kb / (double)m->size_kb : 0,
	       m->pss_kb);
	return fflush(stdout) == 0 ? CLI_OK : cli_errno("stdout");
}

static int maps_print_json(const struct ipcx__maps *m)
{
	const struct ipcx__kernel *k = &m->kernel;
	size_t i;
	int s;
	bool first = true;

	printf("{\"pid\": %d,\n \"kernel\": {\"start\": \"0x%" PRIx64
	       "\", \"levels\": %d, \"va_bits\": %d, \"user_top\": \"0x%" PRIx64
	       "\", \"vm_pte_kb\": %" PRIu64 ", \"threads\": %u, "
	       "\"kstack_kb\": %u, \"kstack_measured_kb\": %u, "
	       "\"text_start\": \"0x%" PRIx64 "\", \"text_end\": \"0x%" PRIx64
	       "\", \"direct_map_kb\": %" PRIu64 "},\n",
	       (int)m->pid, k->start, k->levels, k->va_bits, k->user_top,
	       k->vm_pte_kb, k->threads, k->kstack_kb, k->kstack_measured_kb,
	       k->text_start, k->text_end, k->direct_map_kb);
	if (m->sp != 0)
		printf(" \"markers\": {\"sp\": \"0x%" PRIx64 "\", ", m->sp);
	else
		printf(" \"markers\": {\"sp\": null, ");
	printf("\"brk\": \"0x%" PRIx64 "\"},\n \"sections\": {", m->brk);
	for (s = 0; s < IPCX__SEC_COUNT; s++) {
		if (!m->sec[s].present)
			continue;
		printf("%s\"%s\": {\"start\": \"0x%" PRIx64 "\", \"end\": "
		       "\"0x%" PRIx64 "\"}",
		       first ? "" : ", ", ipcx__sec_name((enum ipcx__sec)s),
		       m->sec[s].addr, m->sec[s].addr + m->sec[s].size);
		first = false;
	}
	printf("},\n \"regions\": [");
	for (i = m->n; i-- > 0;) {
		const struct ipcx__region *r = &m->r[i];
		printf(
		    "%s\n  {\"start\": \"0x%" PRIx64 "\", \"end\": \"0x%" PRIx64
		    "\", \"kind\": \"%s\", \"perms\": \"%s\", \"rss_kb\": "
		    "%" PRIu64 ", \"pss_kb\": %" PRIu64 ", \"path\": ",
		    i + 1 == m->n ? "" : ",", r->start, r->end,
		    ipcx__kind_name(r->kind), r->perms, r->rss_kb, r->pss_kb);
		cli_json_str(stdout, r->path);
		printf("}");
	}
	printf("\n ]}\n");
	return fflush(stdout) == 0 ? CLI_OK : cli_errno("stdout");
}

/* Fill colours by kind, light enough for black labels. */
static const char *maps_colour(enum ipcx__kind k)
{
	switch (k) {
	case IPCX__K_KERNEL:
		return "#b0b0b0";
	case IPCX__K_STACK:
	case IPCX__K_THREAD_STACK:
		return "#f4c87a";
	case IPCX__K_VVAR:
	case IPCX__K_VDSO:
		return "#d9c2f0";
	case IPCX__K_LIB:
		return "#a9d4f5";
	case IPCX__K_SHM:
		return "#f5a9c8";
	case IPCX__K_ANON:
		return "#d8e8d0";
	case IPCX__K_HEAP:
		return "#9be39b";
	case IPCX__K_BSS:
	case IPCX__K_DATA:
		return "#f7e08a";
	case IPCX__K_RODATA:
	case IPCX__K_TEXT:
		return "#f2a37e";
	case IPCX__K_GAP:
		return "#ffffff";
	default:
		return "#e0e0e0";
	}
}

static void maps_xml(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '<')
			fputs("&lt;", f);
		else if (*s == '>')
			fputs("&gt;", f);
		else if (*s == '&')
			fputs("&amp;", f);
		else if ((unsigned char)*s >= 0x20)
			fputc(*s, f);
	}
}

/* Height of a row: 18 px plus 4 px per doubling above one page. */
static double maps_height(uint64_t len)
{
	double pages = (double)len / 4096;

	return 18 + 4 * (pages > 1 ? log2(pages) : 0);
}

/* A red arrow at addr inside a row drawn from y (top) to y + h. */
static void maps_svg_marker(FILE *f, const struct maps_row *w, double y,
                            double h, uint64_t addr, const char *name)
{
	double frac, at;

	/* brk may equal the heap's end: draw it on the top edge. */
	if (addr <= w->start || addr > w->end)
		return;
	frac = (double)(w->end - addr) / (double)(w->end - w->start);
	at = y + frac * h;
	fprintf(f,
	        "<line x1='150' y1='%.1f' x2='700' y2='%.1f' stroke='red' "
	        "stroke-width='2'/>\n<text x='705' y='%.1f' fill='red' "
	        "font-weight='bold'>%s 0x%" PRIx64 "</text>\n",
	        at, at, at + 4, name, addr);
}

static int maps_write_svg(const struct ipcx__maps *m, const char *file)
{
	struct maps_row *rows;
	size_t n, i;
	double y = 40, total = 40;
	char a[16], b[16];
	FILE *f;

	rows = maps_rows(m, &n);
	if (rows == NULL)
		return cli_errno("maps");
	for (i = 0; i < n; i++)
		total += maps_height(rows[i].end - rows[i].start);
	f = fopen(file, "we");
	if (f == NULL) {
		free(rows);
		return cli_errno(file);
	}
	fprintf(f,
	        "<?xml version='1.0' encoding='UTF-8'?>\n"
	        "<svg xmlns='http://www.w3.org/2000/svg' width='1000' "
	        "height='%.0f' font-family='monospace' font-size='11'>\n"
	        "<rect width='100%%' height='100%%' fill='white'/>\n"
	        "<text x='10' y='24' font-size='14' font-weight='bold'>"
	        "process %d: ",
	        total + 30, (int)m->pid);
	maps_xml(f, m->exe);
	fprintf(f,
	        " (%d-bit), heights log-scaled; RSS %" PRIu64 " kB of %" PRIu64
	        " kB mapped</text>\n",
	        m->bits, m->rss_kb, m->size_kb);
	for (i = 0; i < n; i++) {
		const struct maps_row *w = &rows[i];
		double h = maps_height(w->end - w->start);
		uint64_t len = w->end - w->start;
		const char *label = w->r ? w->r->path : w->note ? w->note : "";
		const char *slash = strrchr(label, '/');
		if (slash != NULL)
			label = slash + 1;
		fprintf(f,
		        "<rect x='150' y='%.1f' width='550' height='%.1f' "
		        "fill='%s' stroke='%s'%s/>\n",
		        y, h, maps_colour(w->kind),
		        w->kind == IPCX__K_GAP ? "#bbbbbb" : "black",
		        w->kind == IPCX__K_GAP ? " stroke-dasharray='4 3'"
		                               : "");
		fprintf(f,
		        "<text x='145' y='%.1f' text-anchor='end'>0x%" PRIx64
		        "</text>\n",
		        y + 10, w->end == UINT64_MAX ? w->end : w->end - 1);
		fprintf(f, "<text x='158' y='%.1f'>%s  %s ", y + h / 2 + 4,
		        ipcx__kind_name(w->kind), maps_size(len, a, sizeof(a)));
		if (w->r != NULL)
			fprintf(f, "  %s  RSS %s ", w->r->perms,
			        maps_size(w->r->rss_kb * 1024, b, sizeof(b)));
		else if (w->kind == IPCX__K_KERNEL)
			fprintf(f,
			        "page tables %" PRIu64 " kB, %u x %u KiB "
			        "kernel stacks; code, data shared",
			        m->kernel.vm_pte_kb, m->kernel.threads,
			        m->kernel.kstack_kb);
		maps_xml(f, label);
		fprintf(f, "</text>\n");
		maps_svg_marker(f, w, y, h, m->sp, "sp");
		if (w->kind == IPCX__K_HEAP)
			maps_svg_marker(f, w, y, h, m->brk, "brk");
		y += h;
	}
	fprintf(f,
	        "<text x='145' y='%.1f' text-anchor='end'>0x0</text>\n"
	        "</svg>\n",
	        y);
	free(rows);
	if (fclose(f) != 0)
		return cli_errno(file);
	return CLI_OK;
}

static bool maps_parse_pid(const char *s, pid_t *pid)
{
	long n;

	if (!cli_parse_count(s, &n) || n > INT32_MAX)
		return false;
	*pid = (pid_t)n;
	return true;
}

static int maps_fail(int r)
{
	fprintf(stderr, "ipcx maps: %s\n", ipcx_errmsg());
	return cli_exit_code(r);
}

static int maps_compare(pid_t p1, pid_t p2)
{
	struct ipcx__maps_cmp c;
	size_t i;
	int r = ipcx__maps_compare(p1, p2, &c);

	if (r != 0)
		return maps_fail(r);
	printf("processes %d and %d, by %s:\n", (int)c.pid1, (int)c.pid2,
	       c.how == IPCX__CMP_FRAMES
	           ? "physical frames (/proc/PID/pagemap)"
	           : "mappings (no frame numbers: not root); same file and "
	             "offset at the same address");
	printf("%-16s  %-16s  %-12s  %8s  %8s  %s\n", "START", "END", "KIND",
	       "SHARED", "OWN", "BACKING");
	for (i = c.n; i-- > 0;) {
		const struct ipcx__cmp_row *w = &c.rows[i];
		if (w->same == 0 && w->diff == 0 && !w->skipped)
			continue;
		printf("%016" PRIx64 "  %016" PRIx64 "  %-12s  %8" PRIu64
		       "  %8" PRIu64 "  %s%s\n",
		       w->r.start, w->r.end, ipcx__kind_name(w->r.kind),
		       w->same, w->diff, w->r.path,
		       w->skipped ? " (not compared: over 1 GiB)" : "");
		if (w->first_diff)
			printf("%36s e.g. 0x%" PRIx64 ": same address, "
			       "different physical pages\n",
			       "", w->first_diff);
	}
	if (c.how == IPCX__CMP_FRAMES)
		printf("pages on the same physical frame: %" PRIu64
		       "; same address but separate frames: %" PRIu64 "\n",
		       c.same, c.diff);
	else
		printf("pages mapped from the same file at the same address: "
		       "%" PRIu64 " (anonymous pages cannot be told apart "
		       "without frame numbers: run as root)\n",
		       c.same);
	ipcx__maps_cmp_free(&c);
	return fflush(stdout) == 0 ? CLI_OK : cli_errno("stdout");
}

int cmd_maps(int argc, char **argv)
{
	const char *cmd = "maps", *svg = NULL, *p1, *p2;
	struct cli_args a =
	    CLI_ARGS(cmd, maps_usage, "js:c", maps_opts, argc, argv);
	bool json = false, compare = false;
	struct ipcx__maps m;
	pid_t pid = 0, pid2 = 0;
	int c, r;

	while ((c = cli_args_next(&a)) > 0) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 's':
			svg = optarg;
			break;
		case 'c':
			compare = true;
			break;
		}
	}
	if (c == CLI_ARGS_EXIT)
		return a.rc;
	if (compare) {
		if (cli_args_left(&a) != 2)
			return cli_usage_error(cmd, "--compare takes two PIDs");
		if (json || svg)
			return cli_usage_error(cmd,
			                       "--compare prints text only");
		p1 = cli_args_operand(&a);
		p2 = cli_args_operand(&a);
		if (!maps_parse_pid(p1, &pid) || !maps_parse_pid(p2, &pid2))
			return cli_usage_error(cmd,
			                       "a PID is a positive number");
		return maps_compare(pid, pid2);
	}
	r = cli_args_want(&a, 0, 1, "");
	if (r != CLI_OK)
		return r;
	p1 = cli_args_operand(&a);
	if (p1 && !maps_parse_pid(p1, &pid))
		return cli_usage_error(cmd, "bad PID '%s' (a positive number)",
		                       p1);
	r = ipcx__maps_read(pid, &m);
	if (r != 0)
		return maps_fail(r);
	if (m.sec_note[0] != '\0' && !json)
		fprintf(stderr, "ipcx maps: note: %s\n", m.sec_note);
	r = CLI_OK;
	if (svg != NULL)
		r = maps_write_svg(&m, svg);
	if (r == CLI_OK)
		r = json ? maps_print_json(&m) : maps_print_table(&m);
	ipcx__maps_free(&m);
	return r;
}
