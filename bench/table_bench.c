/*
 * table_bench: cost of reading per-symbol tables from another process
 * while nothing writes (the steady state between minutes): latest bar,
 * last 20 bars and bar count, over a table of 500 symbols x 390 bars.
 * Floor: plain copies of the same bars from the same shared memory, without
 * the seqlock (and, informative, from private heap memory, which the kernel
 * may back with huge pages where shared memory has 4 KiB ones).
 * Ends with `name value unit` lines: table.latest table.last20 table.count,
 * table.floor.shm1 table.floor.shm20, table.floor.copy1 table.floor.copy20.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "barbus.h"
#include "table.h"

#define NSYM  500
#define ROWS  390
#define ITERS 4000000

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Symbol sequence: a cheap LCG so the access pattern is not a stride. */
static uint32_t next_sym(uint32_t *x)
{
	*x = *x * 1664525u + 1013904223u;
	return (*x >> 8) % NSYM;
}

static volatile double sink;

/* The table's rows mapped read-only again, for plain copies: the floor. */
static const struct bb__slot *raw_rows(const char *bus, struct bb__table_geom *g)
{
	static struct bb__seg s;

	if (bb__seg_reader_open(&s, bus, "bars.1m", BB_ROLE_TABLE, 0) != 0 ||
	    bb__table_geom(s.hdr, g) != 0)
		exit(1);
	return bb__table_row(g, 0, 0);
}

static void measure(const char *bus)
{
	struct bb__table_geom g;
	const struct bb__slot *rows = raw_rows(bus, &g);
	bb_table *t;
	bb_bar b[20], *priv = malloc(sizeof(bb_bar) * NSYM * ROWS);
	size_t got;
	uint32_t x = 1, cnt = 0;

	if (bb_table_open(&t, bus, "bars.1m") != 0 || priv == NULL)
		exit(1);
	memset(priv, 1, sizeof(bb_bar) * NSYM * ROWS);
	double t0 = now_ns();
	for (int i = 0; i < ITERS; i++) {
		bb_table_latest(t, next_sym(&x), b);
		sink += b[0].close;
	}
	double latest = (now_ns() - t0) / ITERS;
	t0 = now_ns();
	for (int i = 0; i < ITERS / 4; i++) {
		bb_table_last_n(t, next_sym(&x), b, 20, &got);
		sink += b[19].close;
	}
	double last20 = (now_ns() - t0) / (ITERS / 4);
	t0 = now_ns();
	for (int i = 0; i < ITERS; i++)
		cnt += bb_table_count(t, next_sym(&x));
	double count = (now_ns() - t0) / ITERS;
	sink += cnt;
	t0 = now_ns();
	for (int i = 0; i < ITERS; i++) {
		memcpy(b, &priv[next_sym(&x) * ROWS + ROWS - 1], sizeof(bb_bar));
		sink += b[0].close;
	}
	double copy1 = (now_ns() - t0) / ITERS;
	t0 = now_ns();
	for (int i = 0; i < ITERS / 4; i++) {
		memcpy(b, &priv[next_sym(&x) * ROWS + ROWS - 20], 20 * sizeof(bb_bar));
		sink += b[19].close;
	}
	double copy20 = (now_ns() - t0) / (ITERS / 4);
	t0 = now_ns();
	for (int i = 0; i < ITERS; i++) {
		memcpy(b, &rows[next_sym(&x) * ROWS + ROWS - 1].w[0], sizeof(bb_bar));
		sink += b[0].close;
	}
	double shm1 = (now_ns() - t0) / ITERS;
	t0 = now_ns();
	static struct bb__slot raw[20];
	for (int i = 0; i < ITERS / 4; i++) {
		/* One copy of the 20 rows' 1280 bytes: the least a read of
		 * them can cost. */
		memcpy(raw, &rows[next_sym(&x) * ROWS + ROWS - 20], sizeof(raw));
		sink += (double)raw[19].w[6];
	}
	double shm20 = (now_ns() - t0) / (ITERS / 4);
	printf("table reads from a reader process, %d symbols x %d bars, random "
	       "symbol (ns/call)\n"
	       "  %-30s %8s %8s %8s\n  %-30s %8.1f %8.1f %8s\n"
	       "  %-30s %8.1f %8.1f %8s\n"
	       "  %-30s %8.1f %8.1f %8.1f\n  %-30s %8s %8s %8s\n",
	       NSYM, ROWS, "", "latest", "last20", "count",
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

int main(void)
{
	char bus[40], name[80];
	bb_table_writer *w;

	snprintf(bus, sizeof(bus), "bench-table-%d", (int)getpid());
	int rc = bb_table_writer_open(&w, bus, "bars.1m", NSYM, ROWS, NULL);
	if (rc != 0) {
		fprintf(stderr, "table_bench: %s\n", bb_strerror(rc));
		return 1;
	}
	for (int64_t m = 0; m < ROWS; m++)
		for (uint32_t s = 0; s < NSYM; s++) {
			bb_bar b = { .symbol = s, .time = m * 60, .open = 1,
			             .high = 2, .low = 0.5, .close = 1.5, .volume = 9 };
			bb_table_append(w, s, &b);
		}
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		measure(bus);
		fflush(stdout);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	bb_table_writer_close(w);
	snprintf(name, sizeof(name), "/barbus.%s.bars.1m", bus);
	shm_unlink(name);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}
