/* upkeep_reader_test.c: bb_bars() of a derived interval, the latest bar
 * alone (n == 1, read through bb_table_latest()) beside the general read of
 * n bars, over upkeep tables written here by hand (docs/upkeep.md). */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "table.h"
#include "upkeep_status.h"

#define NSYM 3
#define ROWS 78 /* 5-minute bars of a 390-minute session */
#define OPEN 1719840600LL /* 2024-07-01T13:30Z */

static char bus[40];
static const char *const roles[] = { "up.status", "up.quality", "up.fills",
                                     "up.5m" };
static bb_table_writer *w[4];
static bb_upkeep *u;

static void setup(void)
{
	static int n;

	snprintf(bus, sizeof(bus), "t-upread-%d-%d", (int)getpid(), n++);
	memset(w, 0, sizeof(w));
	u = NULL;
}

static void teardown(void)
{
	char name[96];

	bb_upkeep_close(u);
	for (int i = 0; i < 4; i++) {
		bb_table_writer_close(w[i]);
		snprintf(name, sizeof(name), "/barbus.%s.%s", bus, roles[i]);
		shm_unlink(name);
	}
}

TestSuite(upkeep_reader, .init = setup, .fini = teardown, .timeout = 10);

/* The upkeep's tables of NSYM symbols deriving 5m only, no history,
 * opened by a reader in u. */
static void upkeep_5m(void)
{
	bb_seg_opts o = { .mode = 0600 };
	uint32_t list[BB_UPKEEP_MAX_INTERVALS] = { 5 };
	bb_bar rec = { 0 };

	cr_assert(eq(int, bb_table_writer_open(&w[0], bus, roles[0],
	                                       bb__up_status_symbols(0), 1, &o), 0));
	cr_assert(eq(int, bb_table_writer_open(&w[1], bus, roles[1], NSYM, 1,
	                                       &o), 0));
	cr_assert(eq(int, bb_table_writer_open(&w[2], bus, roles[2], NSYM, 390,
	                                       &o), 0));
	cr_assert(eq(int, bb_table_writer_open(&w[3], bus, roles[3], NSYM, ROWS,
	                                       &o), 0));
	cr_assert(eq(int, bb_table_append(w[0], BB__UP_ROW_INFO, &rec), 0));
	memcpy(&rec, list, sizeof(rec));
	cr_assert(eq(int, bb_table_append(w[0], BB__UP_ROW_INTERVALS, &rec), 0));
	cr_assert(eq(int, bb_upkeep_open(&u, bus), 0));
}

/* The 5-minute bar k of sym, with flags. */
static bb_bar bar5(uint32_t sym, int k, uint32_t flags)
{
	double p = 100.0 + sym + k;

	return (bb_bar){ .symbol = sym, .time = OPEN + 300 * k, .open = p,
	                 .high = p + 2, .low = p - 1, .close = p + 0.5,
	                 .volume = 500.0 + k, .flags = flags };
}

static void append5(uint32_t sym, int n)
{
	for (int k = 0; k < n; k++) {
		bb_bar b = bar5(sym, k, 0);
		cr_assert(eq(int, bb_table_append(w[3], sym, &b), 0));
	}
}

static void assert_bar(const bb_bar *got, const bb_bar *want)
{
	cr_assert(eq(u32, got->symbol, want->symbol));
	cr_assert(eq(u32, got->flags, want->flags));
	cr_assert(eq(i64, got->time, want->time));
	cr_assert(eq(dbl, got->open, want->open));
	cr_assert(eq(dbl, got->high, want->high));
	cr_assert(eq(dbl, got->low, want->low));
	cr_assert(eq(dbl, got->close, want->close));
	cr_assert(eq(dbl, got->volume, want->volume));
}

Test(upkeep_reader, latest_derived_bar_is_the_last_appended)
{
	bb_bar b, want = bar5(1, 3, 0);
	size_t got = 9;

	upkeep_5m();
	append5(1, 4);
	cr_assert(eq(int, bb_bars(NULL, u, 1, 5, &b, 1, &got), 0));
	cr_assert(eq(sz, got, 1));
	assert_bar(&b, &want);
}

Test(upkeep_reader, latest_is_the_last_of_the_general_read)
{
	bb_bar one, all[ROWS];
	size_t got1 = 0, gotn = 0;

	upkeep_5m();
	append5(0, 7);
	append5(2, ROWS);
	for (uint32_t s = 0; s < NSYM; s += 2) {
		cr_assert(eq(int, bb_bars(NULL, u, s, 5, all, ROWS, &gotn), 0));
		cr_assert(eq(int, bb_bars(NULL, u, s, 5, &one, 1, &got1), 0));
		cr_assert(eq(sz, gotn, s == 0 ? 7 : ROWS));
		cr_assert(eq(sz, got1, 1));
		cr_assert(eq(int, memcmp(&one, &all[gotn - 1], sizeof(one)), 0));
	}
}

Test(upkeep_reader, latest_of_a_symbol_with_no_bar_yet_is_none)
{
	bb_bar b = bar5(0, 0, 0);
	size_t got = 9;

	upkeep_5m();
	append5(1, 2);
	cr_assert(eq(int, bb_bars(NULL, u, 0, 5, &b, 1, &got), 0));
	cr_assert(eq(sz, got, 0));
}

Test(upkeep_reader, latest_after_a_reset_is_none)
{
	bb_bar b;
	size_t got = 9;

	upkeep_5m();
	append5(0, 3);
	cr_assert(eq(int, bb_table_reset(w[3], 0), 0));
	cr_assert(eq(int, bb_bars(NULL, u, 0, 5, &b, 1, &got), 0));
	cr_assert(eq(sz, got, 0));
}

Test(upkeep_reader, latest_of_a_symbol_past_the_table_is_invalid)
{
	bb_bar b;
	size_t got = 9;

	upkeep_5m();
	cr_assert(eq(int, bb_bars(NULL, u, NSYM, 5, &b, 1, &got), BB_EINVAL));
	cr_assert(eq(sz, got, 0));
}

Test(upkeep_reader, latest_of_an_interval_not_derived_is_no_interval)
{
	bb_bar b;
	size_t got = 9;

	upkeep_5m();
	append5(0, 3);
	cr_assert(eq(int, bb_bars(NULL, u, 0, 15, &b, 1, &got), BB_ENOINTERVAL));
	cr_assert(eq(sz, got, 0));
	cr_assert(eq(int, bb_bars(NULL, NULL, 0, 5, &b, 1, &got),
	             BB_ENOINTERVAL));
}

Test(upkeep_reader, latest_forming_bar_is_partial_until_final)
{
	bb_bar b, forming = bar5(0, 1, BB_BAR_PARTIAL), final = bar5(0, 1, 0);
	size_t got = 0;

	upkeep_5m();
	append5(0, 1);
	cr_assert(eq(int, bb_table_append(w[3], 0, &forming), 0));
	cr_assert(eq(int, bb_bars(NULL, u, 0, 5, &b, 1, &got), 0));
	cr_assert(eq(sz, got, 1));
	assert_bar(&b, &forming);
	forming.close = 104.25;
	forming.high = 104.5;
	forming.volume = 777;
	cr_assert(eq(int, bb_table_replace_last(w[3], 0, &forming), 0));
	cr_assert(eq(int, bb_bars(NULL, u, 0, 5, &b, 1, &got), 0));
	assert_bar(&b, &forming);
	cr_assert(eq(int, bb_table_replace_last(w[3], 0, &final), 0));
	cr_assert(eq(int, bb_bars(NULL, u, 0, 5, &b, 1, &got), 0));
	cr_assert(eq(sz, got, 1));
	assert_bar(&b, &final);
}

/* A reader-writable mapping of up.5m, for damage the writer never does. */
static void raw_5m(struct bb__seg *raw, struct bb__table_geom *g)
{
	cr_assert(eq(int, bb__seg_reader_open(raw, bus, "up.5m", BB_ROLE_TABLE,
	                                      BB__SEG_RW), 0));
	cr_assert(eq(int, bb__table_geom(raw->hdr, g), 0));
}

Test(upkeep_reader, latest_row_stuck_mid_write_is_retry)
{
	struct bb__seg raw;
	struct bb__table_geom g;
	bb_bar b;
	size_t got = 9;

	upkeep_5m();
	append5(0, 2);
	raw_5m(&raw, &g);
	atomic_fetch_add(&bb__table_row(&g, 0, 1)->seq, 1); /* left busy */
	cr_assert(eq(int, bb_bars(NULL, u, 0, 5, &b, 1, &got), BB_ERETRY));
	cr_assert(eq(sz, got, 0));
	bb__seg_reader_close(&raw);
}

Test(upkeep_reader, latest_of_a_count_past_the_rows_is_bad_geometry)
{
	struct bb__seg raw;
	struct bb__table_geom g;
	bb_bar b;
	size_t got = 9;

	upkeep_5m();
	append5(0, 2);
	raw_5m(&raw, &g);
	atomic_store(bb__table_state(&g, 0), (uint64_t)ROWS + 1);
	cr_assert(eq(int, bb_bars(NULL, u, 0, 5, &b, 1, &got), BB_EGEOMETRY));
	cr_assert(eq(sz, got, 0));
	bb__seg_reader_close(&raw);
}
