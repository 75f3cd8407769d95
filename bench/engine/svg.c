/*
 * svg.c - draws a run as one SVG chart: per message size, every ipcx row's
 * round-trip p50 as a bar with a whisker to its p99, on a log time axis,
 * with the bare row it is compared with drawn just under it and the ratio
 * written beside; the machine and the date in the caption.
 *
 * Plain SVG 1.1 with no scripts, fonts or external references, so that
 * any browser or rsvg-convert renders it the same.
 */
#include "bench.h"

#include "ipcx.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

/* Geometry, in SVG user units (pixels). */
#define SVG_W     1040
#define SVG_X0    260 /* plot area: left edge */
#define SVG_X1    850 /* plot area: right edge */
#define SVG_TOP   92
#define SVG_ROW   22 /* an ipcx row */
#define SVG_BASE  14 /* its baseline just under it */
#define SVG_GROUP 30

static const char svg_blue[] = "#2f6db5", svg_grey[] = "#9a9a9a";

/* Text with the XML specials escaped. */
static void svg_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

/* The CPU's model name from /proc/cpuinfo, or "unknown CPU". */
static void svg_cpu_model(char *buf, size_t cap)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];

	snprintf(buf, cap, "unknown CPU");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *v = strchr(line, ':');

		if (strncmp(line, "model name", 10) || !v)
			continue;
		v += 1 + strspn(v + 1, " \t");
		v[strcspn(v, "\n")] = '\0';
		snprintf(buf, cap, "%s", v);
		break;
	}
	fclose(f);
}

/* Whether row r is drawn: an ipcx row with a round trip, or skipped. */
static bool svg_drawn(const struct bench_row *r)
{
	return r->kind == BENCH_IPCX && !strstr(r->name, " cpu ") &&
	       ((r->status == BENCH_OK && r->has_rtt) || r->status != BENCH_OK);
}

/* A skipped or failed row's reason, short enough for the chart. */
static const char *svg_why(const struct bench_row *r)
{
	if (r->status == BENCH_FAIL)
		return "FAILED (the table says why)";
	if (strstr(r->note, "at most") || strstr(r->note, "exceeds") ||
	    strstr(r->note, "above"))
		return "skipped: the message is above this mechanism's limit";
	if (strstr(r->note, "NATS server"))
		return "skipped: no NATS server answers";
	return "skipped (the table says why)";
}

struct svg_axis {
	double lo, hi; /* log10 of ns at the plot's edges */
};

static double svg_x(const struct svg_axis *a, uint64_t ns)
{
	double v = log10(ns > 0 ? (double)ns : 1.0);

	if (v < a->lo)
		v = a->lo;
	if (v > a->hi)
		v = a->hi;
	return SVG_X0 + (v - a->lo) / (a->hi - a->lo) * (SVG_X1 - SVG_X0);
}

/* A bar to p50 and a whisker from p50 to p99, h high, centred on y. */
static void svg_bar(FILE *f, const struct svg_axis *a,
                    const struct bench_row *r, double y, double h,
                    const char *fill)
{
	double x50 = svg_x(a, r->rtt_p50_ns), x99 = svg_x(a, r->rtt_p99_ns);

	fprintf(f,
	        "<rect x=\"%d\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
	        "fill=\"%s\"/>\n",
	        SVG_X0, y - h / 2, x50 - SVG_X0, h, fill);
	if (x99 > x50 + 0.5)
		fprintf(
		    f,
		    "<path d=\"M%.1f %.1fH%.1fM%.1f %.1fV%.1f\" "
		    "stroke=\"#222\" stroke-width=\"1.2\" fill=\"none\"/>\n",
		    x50, y, x99, x99, y - h / 2, y + h / 2);
}

/* The axis' decades and their labels, from y0 to y1. */
static void svg_grid(FILE *f, const struct svg_axis *a, double y0, double y1)
{
	static const char *unit[] = {"ns", "us", "ms", "s"};

	for (int d = (int)a->lo; d <= (int)a->hi; d++) {
		for (int k = 1; k < 10; k++) {
			double v = d + log10((double)k), x;

			if (v < a->lo - 1e-9 || v > a->hi + 1e-9)
				continue;
			x = SVG_X0 +
			    (v - a->lo) / (a->hi - a->lo) * (SVG_X1 - SVG_X0);
			fprintf(f,
			        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
			        "y2=\"%.1f\" stroke=\"%s\"/>\n",
			        x, y0, x, y1, k == 1 ? "#c8c8c8" : "#eeeeee");
			if (k != 1)
				continue;
			fprintf(f,
			        "<text x=\"%.1f\" y=\"%.1f\" "
			        "text-anchor=\"middle\" fill=\"#444\">%d "
			        "%s</text>\n",
			        x, y0 - 6, (int)pow(10, d % 3),
			        unit[d / 3 < 3 ? d / 3 : 3]);
		}
	}
}

int bench_write_svg(const char *path, const struct bench_result *res)
{
	struct svg_axis a = {2, 3};
	double lo = 1e18, hi = 0, y;
	size_t sizes[32], nsizes = 0, nrows = 0, nbase = 0;
	char model[128], when[40];
	struct utsname u;
	FILE *f;
	int bad;

	/* The sizes in the order measured, and the range of the figures. */
	for (size_t i = 0; i < res->nrows; i++) {
		const struct bench_row *r = &res->rows[i], *b;
		size_t k;

		if (!svg_drawn(r))
			continue;
		nrows++;
		for (k = 0; k < nsizes && sizes[k] != r->size; k++)
			;
		if (k == nsizes && nsizes < 32)
			sizes[nsizes++] = r->size;
		if (r->status != BENCH_OK)
			continue;
		lo = fmin(lo, (double)r->rtt_p50_ns);
		hi = fmax(hi, (double)r->rtt_p99_ns);
		if ((b = bench_find_baseline(res, r))) {
			nbase++;
			lo = fmin(lo, (double)b->rtt_p50_ns);
			hi = fmax(hi, (double)b->rtt_p99_ns);
		}
	}
	if (hi > 0) {
		a.lo = floor(log10(fmax(lo, 1)));
		a.hi = ceil(log10(fmax(hi, 1)));
		if (a.hi <= a.lo)
			a.hi = a.lo + 1;
	}

	f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "ipcx bench: %s: %s\n", path, strerror(errno));
		return -1;
	}
	y = SVG_TOP + (double)nsizes * SVG_GROUP + (double)nrows * SVG_ROW +
	    (double)nbase * SVG_BASE + 70;
	fprintf(f,
	        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
	        "height=\"%.0f\" viewBox=\"0 0 %d %.0f\" "
	        "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" "
	        "font-size=\"12\">\n"
	        "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
	        SVG_W, y, SVG_W, y);
	fputs("<text x=\"16\" y=\"26\" font-size=\"17\" font-weight=\"bold\">"
	      "ipcx: round trip per mechanism, beside the bare system "
	      "call</text>\n",
	      f);
	/* The legend. */
	fprintf(f,
	        "<rect x=\"16\" y=\"40\" width=\"26\" height=\"12\" "
	        "fill=\"%s\"/><text x=\"48\" y=\"50\">ipcx round trip p50"
	        "</text>\n"
	        "<path d=\"M196 46H226M226 40V52\" stroke=\"#222\" "
	        "stroke-width=\"1.2\"/><text x=\"232\" y=\"50\">p99</text>\n"
	        "<rect x=\"276\" y=\"42\" width=\"26\" height=\"8\" "
	        "fill=\"%s\"/><text x=\"308\" y=\"50\">the bare system calls "
	        "it wraps, no library, same size and pinning</text>\n"
	        "<text x=\"%d\" y=\"50\" fill=\"#444\" "
	        "text-anchor=\"end\">right: p50 and its "
	        "ratio to the bare p50</text>\n",
	        svg_blue, svg_grey, SVG_W - 16);
	fputs("<text x=\"16\" y=\"68\" fill=\"#444\">log scale; shorter is "
	      "faster; one process sends, a forked echo process answers"
	      "</text>\n",
	      f);
	svg_grid(f, &a, SVG_TOP, y - 62);

	y = SVG_TOP;
	for (size_t s = 0; s < nsizes; s++) {
		char sz[24];

		/* "64 B", "64 KiB", "1 MiB": a unit a reader knows. */
		if (sizes[s] >= 1024 && sizes[s] % 1024 == 0)
			snprintf(sz, sizeof(sz), "%zu %s",
			         sizes[s] % (1u << 20) ? sizes[s] >> 10
			                               : sizes[s] >> 20,
			         sizes[s] % (1u << 20) ? "KiB" : "MiB");
		else
			snprintf(sz, sizeof(sz), "%zu B", sizes[s]);
		y += SVG_GROUP;
		fprintf(f,
		        "<text x=\"16\" y=\"%.1f\" font-weight=\"bold\">%s "
		        "messages%s</text>\n"
		        "<line x1=\"16\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
		        "stroke=\"#888\"/>\n",
		        y - 8, sz, sizes[s] ? "" : " (events: post to wake)",
		        y - 3, SVG_W - 16, y - 3);
		for (size_t i = 0; i < res->nrows; i++) {
			const struct bench_row *r = &res->rows[i], *b;
			char p50[16];

			if (!svg_drawn(r) || r->size != sizes[s])
				continue;
			y += SVG_ROW;
			fprintf(f,
			        "<text x=\"%d\" y=\"%.1f\" "
			        "text-anchor=\"end\">",
			        SVG_X0 - 8, y - 7);
			svg_text(f, r->name);
			fputs("</text>\n", f);
			if (r->status != BENCH_OK) {
				fprintf(f,
				        "<text x=\"%d\" y=\"%.1f\" "
				        "fill=\"#a33\">%s</text>\n",
				        SVG_X0 + 4, y - 7, svg_why(r));
				continue;
			}
			svg_bar(f, &a, r, y - 11, 13, svg_blue);
			bench_fmt_ns(r->rtt_p50_ns, p50, sizeof(p50));
			fprintf(f, "<text x=\"%d\" y=\"%.1f\">%s", SVG_X1 + 8,
			        y - 7, p50);
			if (r->base_ratio > 0)
				fprintf(f, "  %s%.2fx</tspan>",
				        "<tspan font-weight=\"bold\">",
				        r->base_ratio);
			fputs("</text>\n", f);
			if (!(b = bench_find_baseline(res, r)))
				continue;
			y += SVG_BASE;
			fprintf(f,
			        "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" "
			        "fill=\"#666\" font-size=\"10.5\">",
			        SVG_X0 - 8, y - 4);
			svg_text(f, b->name);
			fputs("</text>\n", f);
			svg_bar(f, &a, b, y - 7, 7, svg_grey);
			bench_fmt_ns(b->rtt_p50_ns, p50, sizeof(p50));
			fprintf(f,
			        "<text x=\"%d\" y=\"%.1f\" fill=\"#666\" "
			        "font-size=\"10.5\">%s</text>\n",
			        SVG_X1 + 8, y - 4, p50);
		}
	}

	/* The caption: what ran where, and when. */
	svg_cpu_model(model, sizeof(model));
	if (uname(&u) != 0)
		snprintf(u.release, sizeof(u.release), "?");
	/* "2026-12-01T20:16:59Z" reads as "2026-12-01 20:16". */
	snprintf(when, sizeof(when), "%.10s %.5s", res->date, res->date + 11);
	y += 34;
	fprintf(f, "<text x=\"16\" y=\"%.1f\" fill=\"#333\">", y);
	fprintf(f, "%s %s, %s UTC. Linux %s, %ld CPUs (%d used), ",
	        res->tool[0] ? res->tool : "ipcx bench",
	        res->version[0] ? res->version : ipcx_version(), when,
	        u.release, sysconf(_SC_NPROCESSORS_ONLN), res->ncpu);
	svg_text(f, model);
	fputs(".</text>\n", f);
	fprintf(f,
	        "<text x=\"16\" y=\"%.1f\" fill=\"#333\">Load average %.2f "
	        "at the start, %.2f at the end; ",
	        y + 17, res->load_start, res->load_end);
	svg_text(f, res->pin_note);
	fputs(".</text>\n</svg>\n", f);
	bad = ferror(f);
	bad |= fclose(f);
	if (bad) {
		fprintf(stderr, "ipcx bench: %s: write failed\n", path);
		return -1;
	}
	return 0;
}
