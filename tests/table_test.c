/* table_test.c: per-symbol bar tables, one behaviour per test. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "table.h"

static char bus[32];
static bb_table_writer *w;
static bb_table *t;

static void setup(void)
{
	static int n;

	snprintf(bus, sizeof(bus), "t-table-%d-%d", (int)getpid(), n++);
	w = NULL;
	t = NULL;
}

static void teardown(void)
{
	char name[BB_SEG_NAME_MAX];

	bb_table_close(t);
	bb_table_writer_close(w);
	bb__seg_name(name, sizeof(name), bus, "bars.1m");
	shm_unlink(name);
}

TestSuite(table, .init = setup, .fini = teardown, .timeout = 10);

static bb_bar bar(uint32_t sym, int64_t minute)
{
	double p = 100.0 + (double)minute;

	return (bb_bar){ .symbol = sym, .time = 1719840600 + minute * 60,
	                 .open = p, .high = p + 1, .low = p - 1,
	                 .close = p + 0.5, .volume = (double)(minute * 10) };
}

static void open_both(uint32_t nsym, uint32_t rows)
{
	cr_assert(eq(int, bb_table_writer_open(&w, bus, "bars.1m", nsym, rows,
	                                       NULL), 0));
	cr_assert(eq(int, bb_table_open(&t, bus, "bars.1m"), 0));
}

static void append_n(uint32_t sym, int64_t n)
{
	for (int64_t i = 0; i < n; i++) {
		bb_bar b = bar(sym, i);
		cr_assert(eq(int, bb_table_append(w, sym, &b), 0));
	}
}

Test(table, new_table_is_empty)
{
	bb_bar b;

	open_both(4, 8);
	cr_assert(eq(u32, bb_table_count(t, 2), 0));
	cr_assert(eq(int, bb_table_latest(t, 2, &b), BB_EEMPTY));
}

Test(table, latest_is_the_last_appended_bar)
{
	bb_bar b, want = bar(1, 2);

	open_both(4, 8);
	append_n(1, 3);
	cr_assert(eq(int, bb_table_latest(t, 1, &b), 0));
	cr_assert(eq(int, memcmp(&b, &want, sizeof(b)), 0));
}

/* The latest bar is read first where symbol 0's count points: each of
 * these is right only if sym's own count decides. */
static void assert_latest(uint32_t sym, bb_bar want)
{
	bb_bar b;

	cr_assert(eq(int, bb_table_latest(t, sym, &b), 0));
	cr_assert(eq(int, memcmp(&b, &want, sizeof(b)), 0));
}

Test(table, latest_of_a_symbol_as_long_as_symbol_0)
{
	open_both(4, 8);
	append_n(0, 3);
	append_n(2, 3);
	assert_latest(2, bar(2, 2));
}

Test(table, latest_of_a_symbol_behind_symbol_0)
{
	open_both(4, 8);
	append_n(0, 3);
	append_n(2, 2);
	assert_latest(2, bar(2, 1));
}

Test(table, latest_of_a_symbol_ahead_of_symbol_0)
{
	open_both(4, 8);
	append_n(0, 1);
	append_n(2, 3);
	assert_latest(2, bar(2, 2));
}

Test(table, latest_after_a_reset_is_the_new_bar_not_the_old_row)
{
	bb_bar b = bar(2, 7);

	open_both(4, 8);
	append_n(0, 1);
	append_n(2, 3);
	cr_assert(eq(int, bb_table_reset(w, 2), 0));
	cr_assert(eq(int, bb_table_append(w, 2, &b), 0));
	assert_latest(2, bar(2, 7));
}

Test(table, count_counts_each_symbol_apart)
{
	open_both(4, 8);
	append_n(1, 3);
	append_n(3, 5);
	cr_assert(eq(u32, bb_table_count(t, 0), 0));
	cr_assert(eq(u32, bb_table_count(t, 1), 3));
	cr_assert(eq(u32, bb_table_count(t, 3), 5));
}

Test(table, last_n_returns_the_latest_bars_oldest_first)
{
	bb_bar b[4];
	size_t got = 0;

	open_both(2, 16);
	append_n(0, 10);
	cr_assert(eq(int, bb_table_last_n(t, 0, b, 4, &got), 0));
	cr_assert(eq(sz, got, 4));
	for (int i = 0; i < 4; i++)
		cr_assert(eq(i64, b[i].time, bar(0, 6 + i).time));
}

Test(table, last_n_larger_than_count_returns_what_there_is)
{
	bb_bar b[8];
	size_t got = 0;

	open_both(2, 16);
	append_n(0, 3);
	cr_assert(eq(int, bb_table_last_n(t, 0, b, 8, &got), 0));
	cr_assert(eq(sz, got, 3));
	cr_assert(eq(i64, b[0].time, bar(0, 0).time));
}

Test(table, replace_last_updates_in_place)
{
	bb_bar b, upd = bar(0, 1);

	open_both(2, 8);
	append_n(0, 2);
	upd.close = 999.0;
	cr_assert(eq(int, bb_table_replace_last(w, 0, &upd), 0));
	cr_assert(eq(u32, bb_table_count(t, 0), 2));
	cr_assert(eq(int, bb_table_latest(t, 0, &b), 0));
	cr_assert(eq(dbl, b.close, 999.0));
}

Test(table, replace_last_of_an_empty_symbol_is_refused)
{
	bb_bar b = bar(0, 0);

	open_both(2, 8);
	cr_assert(eq(int, bb_table_replace_last(w, 0, &b), BB_EEMPTY));
}

Test(table, reset_empties_the_symbol_and_hides_old_bars)
{
	bb_bar b;

	open_both(2, 8);
	append_n(0, 5);
	append_n(1, 2);
	cr_assert(eq(int, bb_table_reset(w, 0), 0));
	cr_assert(eq(u32, bb_table_count(t, 0), 0));
	cr_assert(eq(int, bb_table_latest(t, 0, &b), BB_EEMPTY));
	cr_assert(eq(u32, bb_table_count(t, 1), 2));
	append_n(0, 1);
	cr_assert(eq(int, bb_table_latest(t, 0, &b), 0));
	cr_assert(eq(i64, b.time, bar(0, 0).time));
}

Test(table, append_beyond_rows_is_full)
{
	bb_bar b = bar(0, 9);

	open_both(1, 4);
	append_n(0, 4);
	cr_assert(eq(int, bb_table_append(w, 0, &b), BB_EFULL));
	cr_assert(eq(u32, bb_table_count(t, 0), 4));
}

Test(table, symbol_out_of_range_is_invalid)
{
	bb_bar b = bar(0, 0);
	size_t got;

	open_both(2, 4);
	cr_assert(eq(int, bb_table_append(w, 2, &b), BB_EINVAL));
	cr_assert(eq(int, bb_table_latest(t, 2, &b), BB_EINVAL));
	cr_assert(eq(int, bb_table_last_n(t, 9, &b, 1, &got), BB_EINVAL));
	cr_assert(eq(u32, bb_table_count(t, 2), 0));
}

Test(table, zero_rows_is_refused)
{
	cr_assert(eq(int, bb_table_writer_open(&w, bus, "bars.1m", 2, 0, NULL),
	             BB_EINVAL));
}

Test(table, reader_of_another_role_is_refused)
{
	struct bb__seg s;
	struct bb__seg_spec sp = {
		.role_name = "bars.1m", .role = BB_ROLE_RING, .total_len = 256,
		.mode = 0640, .heartbeat_ms = 100,
	};
	int how;

	cr_assert(eq(int, bb__seg_writer_open(&s, bus, &sp, &how), 0));
	bb__seg_publish(&s);
	cr_assert(eq(int, bb_table_open(&t, bus, "bars.1m"), BB_EROLE));
	bb__seg_writer_close(&s);
}

Test(table, reader_rejects_geometry_that_does_not_add_up)
{
	struct bb__seg s;
	struct bb__seg_spec sp = {
		.role_name = "bars.1m", .role = BB_ROLE_TABLE,
		.geom = { 4, 8, 64 }, .total_len = bb__table_bytes(4, 8) + 64,
		.mode = 0640, .heartbeat_ms = 100,
	};
	int how;

	cr_assert(eq(int, bb__seg_writer_open(&s, bus, &sp, &how), 0));
	bb__seg_publish(&s);
	cr_assert(eq(int, bb_table_open(&t, bus, "bars.1m"), BB_EGEOMETRY));
	bb__seg_writer_close(&s);
}

Test(table, reattach_keeps_bars_and_bumps_epoch)
{
	bb_bar b;

	open_both(2, 8);
	append_n(0, 3);
	cr_assert(eq(u64, bb_table_epoch(t), 1));
	bb_table_writer_close(w);
	cr_assert(eq(int, bb_table_writer_state(t, NULL), BB_WRITER_DEAD));
	cr_assert(eq(int, bb_table_writer_open(&w, bus, "bars.1m", 2, 8, NULL), 0));
	cr_assert(eq(u64, bb_table_epoch(t), 2));
	cr_assert(eq(int, bb_table_writer_state(t, NULL), BB_WRITER_ALIVE));
	cr_assert(eq(u32, bb_table_count(t, 0), 3));
	cr_assert(eq(int, bb_table_latest(t, 0, &b), 0));
	cr_assert(eq(i64, b.time, bar(0, 2).time));
}

Test(table, reattach_drops_a_half_rewritten_latest_bar)
{
	struct bb__seg raw;
	struct bb__table_geom g;

	open_both(2, 8);
	append_n(0, 3);
	cr_assert(eq(int, bb__seg_reader_open(&raw, bus, "bars.1m",
	                                      BB_ROLE_TABLE, BB__SEG_RW), 0));
	cr_assert(eq(int, bb__table_geom(raw.hdr, &g), 0));
	/* As if the writer died in the middle of replacing row 2. */
	atomic_fetch_add(&bb__table_row(&g, 0, 2)->seq, 1);
	bb_table_writer_close(w);
	cr_assert(eq(int, bb_table_writer_open(&w, bus, "bars.1m", 2, 8, NULL), 0));
	cr_assert(eq(u32, bb_table_count(t, 0), 2));
	bb__seg_reader_close(&raw);
}

/* A 2 x 8 table, symbol 0 with one bar whose row is left mid-write (its
 * sequence word odd), as a writer stopped between its two stores leaves
 * it; the row's sequence word, through raw's read-write mapping. */
static _Atomic uint64_t *row_mid_write(struct bb__seg *raw)
{
	struct bb__table_geom g;

	open_both(2, 8);
	append_n(0, 1);
	cr_assert(eq(int, bb__seg_reader_open(raw, bus, "bars.1m",
	                                      BB_ROLE_TABLE, BB__SEG_RW), 0));
	cr_assert(eq(int, bb__table_geom(raw->hdr, &g), 0));
	_Atomic uint64_t *seq = &bb__table_row(&g, 0, 0)->seq;
	atomic_fetch_add(seq, 1);
	return seq;
}

Test(table, row_stuck_mid_write_is_reported_not_returned)
{
	struct bb__seg raw;
	bb_bar b;

	row_mid_write(&raw);
	cr_assert(eq(int, bb_table_latest(t, 0, &b), BB_ERETRY));
	bb__seg_reader_close(&raw);
}

/* The writer of a row held mid-write, descheduled: it finishes the row
 * when it next gets the CPU. */
static void *finish_row(void *seq)
{
	atomic_fetch_add((_Atomic uint64_t *)seq, 1);
	return NULL;
}

Test(table, row_mid_write_is_waited_for_while_its_writer_is_off_cpu)
{
	struct bb__seg raw;
	pthread_t th;
	bb_bar b;

	_Atomic uint64_t *seq = row_mid_write(&raw);
	/* Reader and writer on one CPU, the writer at idle priority: it
	 * runs only when the reader gives the CPU up (a reader that only
	 * spins gets BB_ERETRY). */
	cpu_set_t one;
	pthread_attr_t at;
	struct sched_param sp = { 0 };
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	cr_assert(eq(int, sched_setaffinity(0, sizeof(one), &one), 0));
	pthread_attr_init(&at);
	pthread_attr_setinheritsched(&at, PTHREAD_EXPLICIT_SCHED);
	pthread_attr_setschedpolicy(&at, SCHED_IDLE);
	pthread_attr_setschedparam(&at, &sp);
	cr_assert(eq(int, pthread_create(&th, &at, finish_row, (void *)seq), 0));
	pthread_attr_destroy(&at);
	cr_assert(eq(int, bb_table_latest(t, 0, &b), 0));
	pthread_join(th, NULL);
	cr_assert(eq(i64, b.time, bar(0, 0).time));
	bb__seg_reader_close(&raw);
}

Test(table, writer_kept_says_whether_rows_survived)
{
	bb_table_writer *w2;

	open_both(2, 4);
	cr_assert(eq(int, bb_table_writer_kept(w), 0));
	bb_table_writer_close(w);
	w = NULL;
	cr_assert(eq(int, bb_table_writer_open(&w2, bus, "bars.1m", 2, 4, NULL), 0));
	cr_assert(eq(int, bb_table_writer_kept(w2), 1));
	bb_table_writer_close(w2);
	cr_assert(eq(int, bb_table_writer_open(&w, bus, "bars.1m", 2, 8, NULL), 0));
	cr_assert(eq(int, bb_table_writer_kept(w), 0));
}

Test(table, size_is_state_words_8_to_a_line_then_the_rows)
{
	cr_assert(eq(u64, bb__table_bytes(1, 1), 128 + 64 + 64));
	cr_assert(eq(u64, bb__table_bytes(8, 2), 128 + 64 + 8 * 2 * 64));
	cr_assert(eq(u64, bb__table_bytes(9, 2), 128 + 128 + 9 * 2 * 64));
	cr_assert(eq(u64, bb__table_bytes(10000, 390),
	             128 + 80000 + 10000ull * 390 * 64));
}

/* The bytes docs/layout.md gives: state word of s at 128 + 8 s, the
 * rows after the words' whole lines, row i of s at (i nsym + s) x 64. */
Test(table, state_words_lie_8_to_a_line_before_the_rows)
{
	struct bb__seg raw;
	uint64_t st;
	bb_bar got, want = bar(8, 2);

	open_both(9, 4);
	append_n(8, 3);
	cr_assert(eq(int, bb__seg_reader_open(&raw, bus, "bars.1m",
	                                      BB_ROLE_TABLE, 0), 0));
	const char *p = (const char *)raw.hdr;
	memcpy(&st, p + 128 + 8 * 8, sizeof(st));
	cr_assert(eq(u64, st, 3));
	memcpy(&st, p + 128 + 7 * 8, sizeof(st));
	cr_assert(eq(u64, st, 0));
	memcpy(&got, p + 128 + 128 + (2 * 9 + 8) * 64 + 8, sizeof(got));
	cr_assert(eq(int, memcmp(&got, &want, sizeof(got)), 0));
	bb__seg_reader_close(&raw);
}

Test(table, reader_refuses_a_table_of_layout_version_2)
{
	struct bb__seg raw;

	cr_assert(eq(int, bb_table_writer_open(&w, bus, "bars.1m", 2, 4, NULL), 0));
	cr_assert(eq(int, bb__seg_reader_open(&raw, bus, "bars.1m",
	                                      BB_ROLE_TABLE, BB__SEG_RW), 0));
	atomic_store(&raw.hdr->version, 2);
	cr_assert(eq(int, bb_table_open(&t, bus, "bars.1m"), BB_EVERSION));
	bb__seg_reader_close(&raw);
}

Test(table, writer_replaces_a_table_of_layout_version_2)
{
	struct bb__seg raw;

	open_both(2, 4);
	append_n(0, 2);
	bb_table_close(t);
	t = NULL;
	cr_assert(eq(int, bb__seg_reader_open(&raw, bus, "bars.1m",
	                                      BB_ROLE_TABLE, BB__SEG_RW), 0));
	atomic_store(&raw.hdr->version, 2);
	bb__seg_reader_close(&raw);
	bb_table_writer_close(w);
	cr_assert(eq(int, bb_table_writer_open(&w, bus, "bars.1m", 2, 4, NULL), 0));
	cr_assert(eq(int, bb_table_writer_replaced(w), 1));
	cr_assert(eq(int, bb_table_open(&t, bus, "bars.1m"), 0));
	cr_assert(eq(u32, bb_table_count(t, 0), 0));
}
