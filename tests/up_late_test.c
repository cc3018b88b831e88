/* up_late_test.c: a late real bar through the upkeep's own segments
 * (upkeep/status.c) and the reader (libshm/upkeep_reader.c): the bus's
 * session table holds it after later minutes, as the coordinator appends
 * it; the derived bar is built again from the table, and bb_bars() gives
 * the real bar, not the synthetic one it replaced. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../upkeep/upkeep.h"
#include "control.h"

#define ROWS 390
#define OPEN 1719840600LL /* 2024-07-01T13:30Z */

static char bus[40];
static struct bb__seg ctl;
static bb_table_writer *s1m;
static struct up_segs *segs;
static struct up_engine *eng;
static bb_bus *rb;
static bb_upkeep *up;
static const bb_session day = { .date = 20240701, .open = OPEN,
                                .close = OPEN + ROWS * 60 };

/* A bus of one symbol, session `day` open, no history. */
static void make_bus(void)
{
	struct bb__seg_spec spec = {
		.role_name = "control", .role = BB_ROLE_CONTROL,
		.geom = { 1, 0, ROWS, 0 }, .total_len = bb__ctl_bytes(1),
		.heartbeat_ms = 100, .mode = 0600,
	};
	bb_status st = { .date = day.date, .state = BB_STATE_OPEN,
	                 .open = day.open, .close = day.close, .sessions = 1,
	                 .mode = BB_MODE_LIVE };
	bb_seg_opts o = { 0 };
	int how;

	cr_assert(eq(int, bb__seg_writer_open(&ctl, bus, &spec, &how), 0));
	bb__seg_publish(&ctl);
	bb__seg_writer_start(&ctl);
	cr_assert(eq(int, bb__ctl_add_symbol(bb__ctl_body(&ctl), 1, "AAA"), 0));
	bb__ctl_set_status(bb__ctl_body(&ctl), &st);
	cr_assert(eq(int, bb_table_writer_open(&s1m, bus, "bars.1m", 1, ROWS,
	                                       &o), 0));
	cr_assert(eq(int, bb_bus_open(&rb, bus), 0));
}

static void setup(void)
{
	static int n;
	struct up_intervals iv = { .n = 1, .min = { 5 } };
	bb_seg_opts o = { 0 };
	struct up_sink k;
	struct up_engine_opts eo = { .nsym = 1, .rows = ROWS, .iv = iv,
	                             .gap_policy = UP_GAP_FFILL };

	snprintf(bus, sizeof(bus), "t-uplate-%d-%d", (int)getpid(), n++);
	make_bus();
	cr_assert(eq(int, up_segs_new(&segs, bus, &iv, 0, &o), 0));
	cr_assert(eq(int, up_segs_attach(segs, bus, 1, ROWS, &o), 0));
	up_segs_sink(segs, 1, NULL, rb, &k);
	cr_assert(eq(int, up_engine_new(&eng, &eo, &k), 0));
	cr_assert(eq(int, up_engine_start(eng, &day), 0));
}

static void teardown(void)
{
	static const char *const roles[] = { "up.status", "up.quality",
		"up.fills", "up.5m", "control", "bars.1m" };
	char name[128];

	bb_upkeep_close(up);
	up = NULL;
	up_engine_free(eng);
	up_segs_close(segs);
	bb_bus_close(rb);
	bb_table_writer_close(s1m);
	bb__seg_writer_close(&ctl);
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		snprintf(name, sizeof(name), "/barbus.%s.%s", bus, roles[i]);
		shm_unlink(name);
	}
}

TestSuite(up_late, .init = setup, .fini = teardown, .timeout = 10);

/* A real bar of minute m, close c, in the session table and to the
 * engine, as the coordinator publishes it. */
static void real(int m, double c, uint32_t flags)
{
	bb_bar b = { .symbol = 0, .time = OPEN + 60 * m, .open = c,
	             .high = c + 1, .low = c - 1, .close = c, .volume = 10,
	             .flags = flags };

	cr_assert(eq(int, bb_table_append(s1m, 0, &b), 0));
	cr_assert(eq(int, up_engine_bar(eng, &b), 1));
}

static void complete(int m)
{
	cr_assert(eq(int, up_engine_complete(eng, OPEN + 60 * m, 1, 0), 0));
}

/* Minutes 0..4, minute 2 missing (synthetic at 10), then it comes late. */
static void session_with_late_minute_2(void)
{
	for (int m = 0; m < 5; m++) {
		if (m != 2)
			real(m, 10 + m, 0);
		complete(m);
	}
	real(2, 30, BB_BAR_LATE);
	cr_assert(eq(int, bb_upkeep_open(&up, bus), 0));
}

Test(up_late, the_derived_bar_is_built_again_from_the_session_table)
{
	bb_bar d[4];
	size_t got;

	session_with_late_minute_2();
	cr_assert(eq(int, bb_bars(rb, up, 0, 5, d, 4, &got), 0));
	cr_assert(eq(sz, got, 1));
	cr_assert(eq(u32, d[0].flags, 0)); /* final, neither synthetic nor late */
	cr_assert(eq(dbl, d[0].open, 10));
	cr_assert(eq(dbl, d[0].high, 31));
	cr_assert(eq(dbl, d[0].low, 9));
	cr_assert(eq(dbl, d[0].close, 14));
	cr_assert(eq(dbl, d[0].volume, 50));
}

Test(up_late, one_minute_bars_give_the_real_bar_in_time_order)
{
	bb_bar b[8];
	size_t got;

	session_with_late_minute_2();
	cr_assert(eq(int, bb_bars(rb, up, 0, 1, b, 8, &got), 0));
	cr_assert(eq(sz, got, 5));
	for (int m = 0; m < 5; m++)
		cr_assert(eq(i64, b[m].time, OPEN + 60 * m));
	cr_assert(eq(dbl, b[2].close, 30));
	cr_assert(eq(u32, b[2].flags, BB_BAR_LATE));
}

Test(up_late, quality_counts_it_real_and_late)
{
	bb_quality q;

	session_with_late_minute_2();
	cr_assert(eq(int, bb_upkeep_quality(up, 0, &q), 0));
	cr_assert(eq(u32, q.expected, 5));
	cr_assert(eq(u32, q.real, 5));
	cr_assert(eq(u32, q.late, 1));
	cr_assert(eq(u32, q.unfillable, 0));
	cr_assert(eq(u32, q.synthetic, 0));
	cr_assert(eq(dbl, q.quality, 100.0));
}

Test(up_late, barbus_bars_quality_prints_every_column_mid_session)
{
	char self[PATH_MAX], cmd[PATH_MAX + 256], out[512] = "";
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	cr_assert(gt(sz, (size_t)n, 0));
	self[n] = '\0';
	session_with_late_minute_2();
	real(5, 15, 0);
	complete(5);
	complete(6); /* minute 6: nobody, synthetic at 15 */
	/* barbus-bars of the same build: build[-X]/bin next to build[-X]/tests */
	snprintf(cmd, sizeof(cmd), "%s/../bin/barbus-bars --bus %s --quality",
	         dirname(self), bus);
	FILE *p = popen(cmd, "r");
	cr_assert(ne(ptr, p, NULL));
	size_t got = fread(out, 1, sizeof(out) - 1, p);
	out[got] = '\0';
	cr_assert(eq(int, pclose(p), 0));
	cr_assert(eq(str, out, "symbol,expected,real,late,filled,unfillable,"
	             "synthetic,pending,quality,quality_with_fills\n"
	             "AAA,7,6,1,0,1,1,0,85.71,85.71\n"));
}
