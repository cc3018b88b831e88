/*
 * table_bench: cost of reading per-symbol tables from another process
 * while nothing writes (the steady state between minutes): latest bar,
 * last 20 bars and bar count, over a table of 500 symbols x 390 bars.
 * Floor: plain copies of the same bars from the same shared memory, without
 * the seqlock (and, informative, from private heap memory, which the kernel
 * may back with huge pages where shared memory has 4 KiB ones).
 * Ends with `name value unit` lines: table.latest table.last20 table.count,
 * table.floor.shm1 table.floor.shm20, table.floor.copy1 table.floor.copy20;
 * then the latest bar over 10,000 symbols: scale.table.latest beside
 * scale.table.floor.shm1 and scale.table.floor.copy1. Each figure is the
 * median of 15 rounds of its loop (BENCH_TIMED, bench.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "clock.h"

#include "barbus.h"
#include "table.h"

#define NSYM  500
#define SCALE_NSYM 10000 /* the scale rows */
#define ROWS  390
#define ITERS 4000000


/* Symbol sequence: a cheap LCG so the access pattern is not a stride. */
static uint32_t next_sym(uint32_t *x, uint32_t n)
{
	*x = *x * 1664525u + 1013904223u;
	return (*x >> 8) % n;
}

static volatile double sink;

/*
 * The floors copy a bar with bb__rec_copy(), word by word as the seqlock
 * does: the least a copy of one bar costs. A memcpy() of the 56 bytes may
 * compile to `rep movs`, whose start-up alone costs more than the copy
 * (gcc 12 -O2 does so here), and a floor must not be slower than what it
 * is the floor of.
 */

/* The table's rows mapped read-only again, for plain copies: the floor. */
static void raw_rows(const char *bus, struct bb__table_geom *g)
{
	static struct bb__seg s;

	if (bb__seg_reader_open(&s, bus, "bars.1m", BB_ROLE_TABLE, 0) != 0 ||
	    bb__table_geom(s.hdr, g) != 0)
		exit(1);
}

/* The scale rows: the latest bar of n symbols beside plain copies. */
static void scale_floors(const bb_bar *priv, const struct bb__table_geom *g,
                         uint32_t n, double latest)
{
	uint32_t x = 7;
	bb_bar b;
	double copy1, shm1;

	BENCH_TIMED(copy1, ITERS, {
		bb__rec_copy(&b, &priv[next_sym(&x, n) * ROWS + ROWS - 1]);
		sink += b.close;
	});
	BENCH_TIMED(shm1, ITERS, {
		bb__rec_copy(&b, &bb__table_row(g, next_sym(&x, n), ROWS - 1)->w[0]);
		sink += b.close;
	});
	printf("table reads, %u symbols x %d bars, random symbol (ns/call)\n"
	       "  %-30s %8.1f\n  %-30s %8.1f\n  %-30s %8.1f\n", n, ROWS,
	       "floor: plain copy, same shm", shm1,
	       "private heap copy", copy1, "table latest (seqlocked)", latest);
	printf("scale.table.latest %.1f ns\nscale.table.floor.shm1 %.1f ns\n"
	       "scale.table.floor.copy1 %.1f ns\n", latest, shm1, copy1);
}

/* Every figure over n symbols; scale: the latest bar and its floors only,
 * named scale.*. */
static void measure(const char *bus, uint32_t n, int scale)
{
	struct bb__table_geom g;
	raw_rows(bus, &g);
	bb_table *t;
	bb_bar b[20], *priv = malloc(sizeof(bb_bar) * n * ROWS);
	size_t got;
	uint32_t x = 1, cnt = 0;

	if (bb_table_open(&t, bus, "bars.1m") != 0 || priv == NULL)
		exit(1);
	memset(priv, 1, sizeof(bb_bar) * n * ROWS);
	double latest, last20, count, copy1, copy20, shm1, shm20;
	BENCH_TIMED(latest, ITERS, {
		if (bb_table_latest(t, next_sym(&x, n), b) != 0)
			exit(1);
		sink += b[0].close;
	});
	if (scale) {
		scale_floors(priv, &g, n, latest);
		bb_table_close(t);
		free(priv);
		return;
	}
	BENCH_TIMED(last20, ITERS / 4, {
		bb_table_last_n(t, next_sym(&x, n), b, 20, &got);
		sink += b[19].close;
	});
	BENCH_TIMED(count, ITERS, cnt += bb_table_count(t, next_sym(&x, n)));
	sink += cnt;
	BENCH_TIMED(copy1, ITERS, {
		bb__rec_copy(b, &priv[next_sym(&x, n) * ROWS + ROWS - 1]);
		sink += b[0].close;
	});
	BENCH_TIMED(copy20, ITERS / 4, {
		const bb_bar *p = &priv[next_sym(&x, n) * ROWS + ROWS - 20];
		for (int j = 0; j < 20; j++)
			bb__rec_copy(&b[j], &p[j]);
		sink += b[19].close;
	});
	BENCH_TIMED(shm1, ITERS, {
		bb__rec_copy(b, &bb__table_row(&g, next_sym(&x, n), ROWS - 1)->w[0]);
		sink += b[0].close;
	});
	BENCH_TIMED(shm20, ITERS / 4, {
		/* Plain copies of the 20 rows' bars, each from its place: the
		 * least a read of them can cost (rows are minute-major). */
		uint32_t sym = next_sym(&x, n);
		for (int j = 0; j < 20; j++)
			bb__rec_copy(&b[j],
			         &bb__table_row(&g, sym, ROWS - 20 + j)->w[0]);
		sink += b[19].close;
	});
	printf("table reads from a reader process, %d symbols x %d bars, random "
	       "symbol (ns/call)\n"
	       "  %-30s %8s %8s %8s\n  %-30s %8.1f %8.1f %8s\n"
	       "  %-30s %8.1f %8.1f %8s\n"
	       "  %-30s %8.1f %8.1f %8.1f\n  %-30s %8s %8s %8s\n",
	       (int)n, ROWS, "", "latest", "last20", "count",
	       "floor: plain copy, same shm", shm1, shm20, "-",
	       "private heap copy (informative)", copy1, copy20, "-",
	       "table (seqlocked)", latest, last20, count,
	       "target", "<= 20", "<= 100", "<= 5");
	printf("table.latest %.1f ns\ntable.last20 %.1f ns\ntable.count %.1f ns\n"
	       "table.floor.shm1 %.1f ns\ntable.floor.shm20 %.1f ns\n"
	       "table.floor.copy1 %.1f ns\ntable.floor.copy20 %.1f ns\n",
	       latest, last20, count, shm1, shm20, copy1, copy20);
	bb_table_close(t);
	free(priv);
}

/* A table of n symbols x ROWS on a bus of its own, read by a child
 * process; 0 when the child measured. */
static int run(uint32_t n, int scale)
{
	char bus[40], name[80];
	bb_table_writer *w;

	snprintf(bus, sizeof(bus), "bench-table-%d-%u", (int)getpid(), n);
	int rc = bb_table_writer_open(&w, bus, "bars.1m", n, ROWS, NULL);
	if (rc != 0) {
		fprintf(stderr, "table_bench: %s\n", bb_strerror(rc));
		return 1;
	}
	for (int64_t m = 0; m < ROWS && rc == 0; m++)
		for (uint32_t s = 0; s < n && rc == 0; s++) {
			bb_bar b = { .symbol = s, .time = m * 60, .open = 1,
			             .high = 2, .low = 0.5, .close = 1.5, .volume = 9 };
			rc = bb_table_append(w, s, &b);
		}
	fflush(stdout);
	pid_t pid = rc == 0 ? fork() : -1;
	if (pid == 0) {
		measure(bus, n, scale);
		fflush(stdout);
		_exit(0);
	}
	int st = 1;
	if (pid > 0)
		waitpid(pid, &st, 0);
	bb_table_writer_close(w);
	snprintf(name, sizeof(name), "/barbus.%s.bars.1m", bus);
	shm_unlink(name);
	if (rc != 0)
		fprintf(stderr, "table_bench: append: %s\n", bb_strerror(rc));
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}

int main(void)
{
	if (run(NSYM, 0) != 0)
		return 1;
	return run(SCALE_NSYM, 1);
}
