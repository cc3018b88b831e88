/*
 * barbus-import --db DIR [-q] [--time-unit U] FILE...: load bar CSV files
 * into the store.
 *
 * Each file is read whole, every row parsed and validated (csv.h); bad rows
 * are reported as "FILE:LINE: reason" and skipped, good ones are written in
 * one transaction per file, so a fatal error leaves nothing of that file
 * behind. Exit 0 when every row was good, 2 when some were rejected (or on
 * a usage error), 1 on a fatal error (the run stops there).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "clock.h"
#include "csv.h"
#include "error.h"
#include "store.h"
#include "timefmt.h"

#define PROG "barbus-import"

/* Names of one file's symbols, in order of first appearance, hashed. */
struct symtab {
	char     (*names)[BB_SYMBOL_MAX + 1];
	size_t     n, cap;
	uint32_t  *slot; /* open addressing: index + 1, 0 empty */
	size_t     nslot;
	size_t     last; /* rows tend to repeat the previous symbol */
};

/* The good rows of one file: bar.symbol indexes the symtab. */
struct rows {
	bb_bar   *bars;
	uint64_t *lines;
	size_t    n, cap;
};

struct totals {
	uint64_t read, rejected, dup_same;
	bb_put_stats put;
};

static struct {
	int    progress;   /* stderr is a terminal and not -q */
	int    shown;      /* a progress line is on screen */
	int    noted;      /* trades/vwap note printed */
	int    time_unit;  /* enum bb__time_unit of epoch timestamps */
	double last;
} g;

static void progress_clear(void)
{
	if (g.shown)
		fputs("\r\033[K", stderr);
	g.shown = 0;
}

static void progress(const char *file, size_t done, size_t total, uint64_t rows)
{
	double t = bb__mono_s();

	if (!g.progress || t - g.last < 0.1)
		return;
	g.last = t;
	g.shown = 1;
	fprintf(stderr, "\r%s: %3d%% %llu rows\033[K", file,
	        total ? (int)(100.0 * (double)done / (double)total) : 0,
	        (unsigned long long)rows);
}

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* Index of name, added when absent; -1 when out of memory. */
static long sym_index(struct symtab *t, const char *name)
{
	if (t->n > 0 && strcmp(t->names[t->last], name) == 0)
		return (long)t->last;
	if (2 * (t->n + 1) > t->nslot) {
		size_t ns = t->nslot ? 2 * t->nslot : 1024;
		uint32_t *slot = calloc(ns, sizeof(*slot));
		if (slot == NULL)
			return -1;
		for (size_t i = 0; i < t->n; i++) {
			size_t h = hash(t->names[i]) & (ns - 1);
			while (slot[h])
				h = (h + 1) & (ns - 1);
			slot[h] = (uint32_t)i + 1;
		}
		free(t->slot);
		t->slot = slot;
		t->nslot = ns;
	}
	size_t h = hash(name) & (t->nslot - 1);
	for (; t->slot[h]; h = (h + 1) & (t->nslot - 1))
		if (strcmp(t->names[t->slot[h] - 1], name) == 0)
			return (long)(t->last = t->slot[h] - 1);
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 256;
		void *p = realloc(t->names, cap * sizeof(*t->names));
		if (p == NULL)
			return -1;
		t->names = p;
		t->cap = cap;
	}
	strcpy(t->names[t->n], name);
	t->slot[h] = (uint32_t)++t->n;
	return (long)(t->last = t->n - 1);
}

static void symtab_free(struct symtab *t)
{
	free(t->names);
	free(t->slot);
	*t = (struct symtab){ 0 };
}

#define HUGE_BYTES ((size_t)2 << 20)

/*
 * Room for cap elements of size sz at *p, n of them kept. Arrays of 2 MiB
 * and more are 2 MiB aligned and asked to be transparent huge pages: a
 * large file's rows would otherwise take a page fault every 4 KiB, the
 * larger part of the time spent parsing on a virtual machine.
 */
static int grow(void **p, size_t n, size_t cap, size_t sz)
{
	size_t bytes = cap * sz;
	void *q;

	if (bytes < HUGE_BYTES) {
		if ((q = realloc(*p, bytes)) == NULL)
			return ENOMEM;
		*p = q;
		return 0;
	}
	bytes = (bytes + HUGE_BYTES - 1) & ~(HUGE_BYTES - 1);
	if (posix_memalign(&q, HUGE_BYTES, bytes) != 0)
		return ENOMEM;
	madvise(q, bytes, MADV_HUGEPAGE);
	if (n > 0)
		memcpy(q, *p, n * sz);
	free(*p);
	*p = q;
	return 0;
}

/* n elements of size sz, as grow() allocates them; NULL when out of memory. */
static void *big_alloc(size_t n, size_t sz)
{
	void *p = NULL;

	return grow(&p, 0, n, sz) == 0 ? p : NULL;
}

static int rows_room(struct rows *r, size_t cap)
{
	void *bars = r->bars, *lines = r->lines;
	int rc = grow(&bars, r->n, cap, sizeof(*r->bars));

	r->bars = bars;
	if (rc == 0 && (rc = grow(&lines, r->n, cap, sizeof(*r->lines))) == 0)
		r->cap = cap;
	r->lines = lines;
	return rc;
}

static int rows_add(struct rows *r, const bb_bar *b, uint64_t line)
{
	int rc;

	if (r->n == r->cap &&
	    (rc = rows_room(r, r->cap ? 2 * r->cap : 65536)) != 0)
		return rc;
	r->bars[r->n] = *b;
	r->lines[r->n++] = line;
	return 0;
}

/* The whole of fd into a NUL-terminated buffer; errno value or 0. */
static int slurp(int fd, char **out, size_t *len)
{
	struct stat st;
	size_t cap = 1 << 20, n = 0;
	char *buf;

	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		cap = (size_t)st.st_size + 1;
	if ((buf = malloc(cap)) == NULL)
		return ENOMEM;
	for (;;) {
		if (n + 1 >= cap) {
			char *p = realloc(buf, cap *= 2);
			if (p == NULL) {
				free(buf);
				return ENOMEM;
			}
			buf = p;
		}
		ssize_t k = read(fd, buf + n, cap - 1 - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			int e = errno;
			free(buf);
			return e;
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

static int same_bar(const bb_bar *a, const bb_bar *b)
{
	return memcmp(&a->open, &b->open, 5 * sizeof(double)) == 0;
}

static uint64_t row_key(const bb_bar *b)
{
	return (uint64_t)b->symbol << 32 | (uint64_t)(b->time / 60);
}

struct dup {
	size_t row, first; /* rejected row and the earlier one it contradicts */
};

static int cmp_dup(const void *a, const void *b)
{
	size_t x = ((const struct dup *)a)->row, y = ((const struct dup *)b)->row;

	return (x > y) - (x < y);
}

/* Reports the duplicates with other values, in line order. */
static void report_dups(const char *file, const struct rows *r,
                        struct dup *d, size_t n)
{
	qsort(d, n, sizeof(*d), cmp_dup);
	progress_clear();
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "%s:%llu: " BB__CSV_DUPLICATE " (line %llu)\n", file,
		        (unsigned long long)r->lines[d[i].row],
		        (unsigned long long)r->lines[d[i].first]);
}

/*
 * Key order, one row per key: a repeat with the same values is dropped
 * (counted as unchanged), one with other values is rejected against the
 * first row of its key. *out receives the rows to store: r->bars itself
 * when it is in key order already, else a new array.
 */
static int dedup(const char *file, struct rows *r, bb_bar **out, size_t *n,
                 struct totals *tot)
{
	struct bb__kidx *o = NULL;
	struct dup *d = NULL;
	size_t m = 0, nd = 0, i;
	int rc = ENOMEM;

	*out = NULL;
	for (i = 1; i < r->n && row_key(&r->bars[i - 1]) < row_key(&r->bars[i]);)
		i++;
	if (i >= r->n) {
		*out = r->bars;
		*n = r->n;
		return 0;
	}
	if ((o = big_alloc(r->n, sizeof(*o))) == NULL ||
	    (d = malloc(r->n * sizeof(*d))) == NULL ||
	    (*out = big_alloc(r->n, sizeof(**out))) == NULL)
		goto out;
	for (i = 0; i < r->n; i++)
		o[i] = (struct bb__kidx){ row_key(&r->bars[i]), i };
	if ((rc = bb__store_sort(o, r->n)) != 0)
		goto out;
	for (size_t k = 0, first = 0; k < r->n; k++) {
		const bb_bar *b = &r->bars[o[k].idx];
		if (k == 0 || o[k].key != o[k - 1].key) {
			first = o[k].idx;
			(*out)[m++] = *b;
		} else if (same_bar(b, &r->bars[first])) {
			tot->dup_same++;
		} else {
			d[nd++] = (struct dup){ o[k].idx, first };
		}
	}
	report_dups(file, r, d, nd);
	tot->rejected += nd;
	*n = m;
	rc = 0;
out:
	if (rc != 0)
		free(*out);
	free(o);
	free(d);
	return rc;
}

/*
 * A slice of a file's rows, parsed by one thread. With two slices the
 * second one's rejection messages are kept until the first has printed
 * its own, so that they still come in line order.
 */
struct part {
	const char        *file, *base, *p, *end; /* base: the whole file */
	uint64_t           line;                  /* line number at p */
	const bb__csv_hdr *h;
	struct symtab      syms;
	struct rows        r;
	size_t             rows_hint;             /* room to make at first */
	uint64_t           read, rejected;
	int                buffered, show, rc;
	char              *msg;                   /* buffered messages */
	size_t             msg_len, msg_cap;
};

static void reject(struct part *pt, uint64_t line, const char *reason)
{
	char m[BB__CSV_REASON_MAX + 300];
	int n = snprintf(m, sizeof(m), "%s:%llu: %s\n", pt->file,
	                 (unsigned long long)line, reason);

	pt->rejected++;
	if (!pt->buffered) {
		progress_clear();
		fputs(m, stderr);
		return;
	}
	if (pt->msg_len + (size_t)n + 1 > pt->msg_cap) {
		size_t cap = 2 * pt->msg_cap + (size_t)n + 4096;
		char *q = realloc(pt->msg, cap);
		if (q == NULL) {
			pt->rc = ENOMEM;
			return;
		}
		pt->msg = q;
		pt->msg_cap = cap;
	}
	memcpy(pt->msg + pt->msg_len, m, (size_t)n + 1);
	pt->msg_len += (size_t)n;
}

/* Parses the rows of pt; the good ones into pt->r, the bad ones reported. */
static void *parse_part(void *arg)
{
	char reason[BB__CSV_REASON_MAX];
	struct part *pt = arg;
	const char *p = pt->p, *nl;
	bb__csv_row row;
	uint64_t line = pt->line;

	pt->rc = rows_room(&pt->r, pt->rows_hint);
	for (; p < pt->end && pt->rc == 0; p = nl ? nl + 1 : pt->end, line++) {
		nl = memchr(p, '\n', (size_t)(pt->end - p));
		size_t n = (size_t)((nl ? nl : pt->end) - p);
		if (n == 0 || (n == 1 && *p == '\r'))
			continue; /* blank line: not a row */
		pt->read++;
		if (pt->show && (line & 0xffff) == 0)
			progress(pt->file, (size_t)(p - pt->base),
			         (size_t)(pt->end - pt->base) * (pt->buffered ? 2 : 1),
			         pt->read * (pt->buffered ? 2 : 1));
		if (bb__csv_parse_row(pt->h, p, n, &row, reason, sizeof(reason))) {
			reject(pt, line, reason);
			continue;
		}
		long id = sym_index(&pt->syms, row.symbol);
		if (id < 0) {
			pt->rc = ENOMEM;
			break;
		}
		row.bar.symbol = (uint32_t)id;
		pt->rc = rows_add(&pt->r, &row.bar, line);
	}
	return NULL;
}

/* Appends b's rows to a's, mapping b's symbols into a's table. */
static int part_merge(struct part *a, struct part *b)
{
	uint32_t *map = malloc((b->syms.n + 1) * sizeof(*map));

	if (map == NULL)
		return ENOMEM;
	for (size_t i = 0; i < b->syms.n; i++) {
		long id = sym_index(&a->syms, b->syms.names[i]);
		if (id < 0) {
			free(map);
			return ENOMEM;
		}
		map[i] = (uint32_t)id;
	}
	for (size_t i = 0; i < b->r.n; i++) {
		bb_bar bar = b->r.bars[i];
		bar.symbol = map[bar.symbol];
		if (rows_add(&a->r, &bar, b->r.lines[i]) != 0) {
			free(map);
			return ENOMEM;
		}
	}
	free(map);
	return 0;
}

static void part_free(struct part *pt)
{
	symtab_free(&pt->syms);
	free(pt->r.bars);
	free(pt->r.lines);
	free(pt->msg);
}

/*
 * Parses buf (the whole file) into pt[0]: the header, then the rows, in two
 * threads when the file is large. A bad header is BB_EINVAL (reported).
 */
static int parse(const char *file, const char *buf, size_t len,
                 struct part *pt)
{
	bb__csv_hdr h;
	char reason[BB__CSV_REASON_MAX];
	const char *end = buf + len, *nl = memchr(buf, '\n', len);
	pthread_t th;
	int two = len > (8u << 20);

	if (bb__csv_parse_header(&h, buf, nl ? (size_t)(nl - buf) : len,
	                         reason, sizeof(reason)) != 0) {
		progress_clear();
		fprintf(stderr, "%s:1: %s\n", file, reason);
		return BB_EINVAL;
	}
	h.time_unit = (int8_t)g.time_unit;
	if (!g.noted && (h.pos[BB__COL_TRADES] >= 0 || h.pos[BB__COL_VWAP] >= 0)) {
		g.noted = 1;
		progress_clear();
		fprintf(stderr, PROG ": note: trades and vwap are validated but "
		        "not stored (the bar record has no room for them)\n");
	}
	const char *data = nl ? nl + 1 : end, *mid = end;
	uint64_t line2 = 2;
	if (two && (nl = memchr(data + (end - data) / 2, '\n',
	                        (size_t)(end - data) / 2)) != NULL) {
		mid = nl + 1;
		for (const char *q = data; (q = memchr(q, '\n', (size_t)(mid - q)));
		     q++)
			line2++;
	}
	/* Rows of 48 bytes or more; the first part makes room for the second's,
	 * which are merged into it. */
	pt[0] = (struct part){ file, buf, data, mid, 2, &h, .show = g.progress,
	                       .buffered = mid != end,
	                       .rows_hint = (size_t)(end - data) / 48 + 1024 };
	pt[1] = (struct part){ file, buf, mid, end, line2, &h, .buffered = 1,
	                       .rows_hint = (size_t)(end - mid) / 48 + 1024 };
	int threaded = mid != end &&
	               pthread_create(&th, NULL, parse_part, &pt[1]) == 0;
	if (mid != end && !threaded)
		parse_part(&pt[1]);
	parse_part(&pt[0]);
	if (threaded)
		pthread_join(th, NULL);
	progress_clear();
	for (int i = 0; i < 2; i++)
		if (pt[i].msg_len)
			fwrite(pt[i].msg, 1, pt[i].msg_len, stderr);
	pt[0].read += pt[1].read;
	pt[0].rejected += pt[1].rejected;
	if (pt[0].rc || pt[1].rc)
		return pt[0].rc ? pt[0].rc : pt[1].rc;
	return mid != end ? part_merge(&pt[0], &pt[1]) : 0;
}

/* The file's bytes: mapped when it is a regular file, else read. */
struct input {
	char  *buf;
	size_t len;
	int    mapped;
};

static int input_open(const char *path, struct input *in)
{
	struct stat st;
	int fd = 0, rc = 0;

	*in = (struct input){ 0 };
	if (strcmp(path, "-") != 0 && (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
		/* populated: one call maps every page, not a fault per few */
		void *p = mmap(NULL, (size_t)st.st_size, PROT_READ,
		               MAP_PRIVATE | MAP_POPULATE, fd, 0);
		if (p != MAP_FAILED) {
			madvise(p, (size_t)st.st_size, MADV_SEQUENTIAL | MADV_WILLNEED);
			*in = (struct input){ p, (size_t)st.st_size, 1 };
		}
	}
	if (!in->mapped)
		rc = slurp(fd, &in->buf, &in->len);
	if (fd != 0)
		close(fd);
	return rc;
}

static void input_close(struct input *in)
{
	if (in->mapped)
		munmap(in->buf, in->len);
	else
		free(in->buf);
	*in = (struct input){ 0 };
}

/*
 * LMDB mallocs each page a write transaction dirties, 4 KiB at a time,
 * about 68 bytes a bar appended: a large file's transaction takes a page
 * fault for every page of heap it touches, the larger part of its time on a
 * virtual machine. So the heap is grown once by about that much, asked to
 * be transparent huge pages, and kept (not trimmed): LMDB's pages are then
 * carved from it with a fault per 2 MiB. Memory never touched costs
 * nothing; only speed depends on this working.
 */
static void heap_prepare(size_t bytes)
{
	enum { CHUNK = 30 << 20 }; /* below glibc's largest mmap threshold */
	void *p[64];
	size_t k = 0;
	char *lo = sbrk(0), *hi;

	if (bytes < 8 * HUGE_BYTES || lo == (char *)-1)
		return;
	mallopt(M_MMAP_THRESHOLD, 32 << 20); /* heap, not mmap, up to it */
	mallopt(M_TRIM_THRESHOLD, INT_MAX);
	for (; k < 64 && k * CHUNK < bytes; k++)
		if ((p[k] = malloc(CHUNK)) == NULL)
			break;
	hi = sbrk(0);
	uintptr_t a = ((uintptr_t)lo + HUGE_BYTES - 1) & ~(HUGE_BYTES - 1);
	if (hi != (char *)-1 && (uintptr_t)hi > a)
		madvise((void *)a, (uintptr_t)hi - a, MADV_HUGEPAGE);
	while (k > 0)
		free(p[--k]);
}

/* One file: all its good rows in one transaction. 0 or a fatal error. */
static int import_file(bb_store *st, const char *db, const char *path,
                       struct totals *tot)
{
	const char *file = strcmp(path, "-") == 0 ? "stdin" : path;
	struct part pt[2] = { 0 };
	struct input in;
	bb_bar *keep = NULL;
	const char **names = NULL;
	bb_put_stats ps;
	size_t n = 0;
	uint64_t dup_same = tot->dup_same;
	int rc = input_open(path, &in);

	if (rc != 0) {
		fprintf(stderr, PROG ": %s: %s\n", file, strerror(rc));
		return rc;
	}
	rc = parse(file, in.buf, in.len, pt);
	input_close(&in);
	tot->read += pt[0].read;
	tot->rejected += pt[0].rejected;
	if (rc == 0)
		rc = dedup(file, &pt[0].r, &keep, &n, tot);
	if (rc == 0 && (names = malloc((pt[0].syms.n + 1) * sizeof(*names))) == NULL)
		rc = ENOMEM;
	for (size_t i = 0; rc == 0 && i < pt[0].syms.n; i++)
		names[i] = pt[0].syms.names[i];
	if (rc == 0) {
		heap_prepare(n * 72); /* a little over 68 bytes a bar */
		rc = bb__store_put_named(st, names, pt[0].syms.n, keep, n, NULL, &ps);
		if (rc != 0)
			fprintf(stderr, PROG ": %s: storing into %s: %s\n", file, db,
			        bb_strerror(rc));
	} else if (rc != BB_EINVAL) {
		fprintf(stderr, PROG ": %s: %s\n", file, bb_strerror(rc));
	}
	if (rc != 0)
		tot->dup_same = dup_same; /* nothing of this file is stored */
	else {
		tot->put.stored += ps.stored;
		tot->put.replaced += ps.replaced;
		tot->put.unchanged += ps.unchanged;
	}
	free(names);
	if (keep != pt[0].r.bars)
		free(keep);
	part_free(&pt[0]);
	part_free(&pt[1]);
	return rc;
}

struct opts {
	char db[4096];
	int  quiet;
	int  time_unit; /* enum bb__time_unit */
};

static int parse_unit(void *dst, const char *v, char *reason, size_t len)
{
	return bb__time_unit_parse(v, dst) == 0 ? 0
	       : bb__fail(reason, len, "'%s': want s, ms, us, ns or auto", v);
}

#define F(f) BB__FIELD(struct opts, f)

static const struct bb__setting table[] = {
	{ .key = "db", .type = BB__SETTING_STRING, F(db), .meta = "DIR",
	  .tags = BB__ARG_REQUIRED, .doc = "bar store directory (required)" },
	{ .key = "quiet", .type = BB__SETTING_BOOL, F(quiet),
	  .doc = "no progress line" },
	{ .key = "time-unit", .type = BB__SETTING_CUSTOM, F(time_unit),
	  .parse = parse_unit, .meta = "s|ms|us|ns|auto", .def = "auto",
	  .doc = "unit of epoch numbers; auto: told by magnitude (below 1e11 "
	         "s, 1e14 ms, 1e17 us, else ns)" },
};

static const struct bb__short shorts[] = { { 'q', "quiet" } };

static const struct bb__args args = {
	.prog = PROG,
	.synopsis =
	"usage: " PROG " --db DIR [-q] [--time-unit U] FILE...   (FILE '-' is "
	"stdin)\n"
	"Loads bar CSV files into the store: a header row naming symbol,\n"
	"timestamp,open,high,low,close,volume[,trades][,vwap] in any order;\n"
	"timestamps ISO-8601 with Z or an offset, or epoch numbers.\n",
	.about = "Bad rows are reported as FILE:LINE: reason and skipped.\n"
	         "Exit 0: all rows good, 2: some rejected (or a usage error),\n"
	         "1: fatal error.\n",
	.table = table, .n = sizeof(table) / sizeof(table[0]),
	.shorts = shorts, .nshorts = 1, .flags = BB__ARGS_POSITIONAL,
};

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct totals tot = { 0 };
	bb_store *st;
	int nfiles = 0, rc = bb__args_parse(&args, &o, argc, argv, &nfiles);

	if (rc != BB__ARGS_GO)
		return rc;
	if (nfiles == 0)
		return bb__args_usage_error(PROG, "no input file");
	const char *db = o.db;
	g.time_unit = o.time_unit;
	g.progress = !o.quiet && isatty(STDERR_FILENO);
	if ((rc = bb_store_open(&st, db, 0)) != 0) {
		fprintf(stderr, PROG ": %s: %s\n", db, bb_strerror(rc));
		return 1;
	}
	double t0 = bb__mono_s();
	for (int i = 1; i <= nfiles && rc == 0; i++)
		rc = import_file(st, db, argv[i], &tot);
	bb_store_close(st);
	double secs = bb__mono_s() - t0;
	uint64_t good = tot.put.stored + tot.put.replaced + tot.put.unchanged +
	                tot.dup_same;
	progress_clear();
	fprintf(stderr, PROG ": %llu rows read, %llu stored (%llu new, "
	        "%llu replaced, %llu unchanged), %llu rejected%s; %.2f s, "
	        "%.0f rows/s\n", (unsigned long long)tot.read,
	        (unsigned long long)good, (unsigned long long)tot.put.stored,
	        (unsigned long long)tot.put.replaced,
	        (unsigned long long)(tot.put.unchanged + tot.dup_same),
	        (unsigned long long)tot.rejected, rc ? " (stopped: fatal error)" : "",
	        secs, secs > 0 ? (double)tot.read / secs : 0.0);
	return rc != 0 ? 1 : tot.rejected ? 2 : 0;
}
