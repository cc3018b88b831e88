/* bus_writer_test.c: the writer half of a bus (libshm/bus_writer.c). */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "bus_writer.h"
#include "clock.h"

static char bus[40];
static struct bb__bw w;
static int opened;

/* Sessions of three consecutive days, 10:00 to 10:05 UTC. */
static bb_session day(int k)
{
	int64_t open = 1719914400 + (int64_t)k * 86400;

	return (bb_session){ .date = 20240702 + k, .open = open,
	                     .close = open + 300 };
}

static struct bb__bw_geom geom(uint32_t history, uint32_t rows)
{
	return (struct bb__bw_geom){
		.max_symbols = 4, .table_symbols = 2, .rows = rows,
		.history = history, .ring_capacity = 1 << 10,
		.heartbeat_ms = 100, .seg_mode = 0640, .mode = BB_MODE_BACKTEST,
	};
}

static void open_bus(uint32_t history, uint32_t rows)
{
	struct bb__bw_geom g = geom(history, rows);

	cr_assert(eq(int, bb__bw_open(&w, bus, &g), 0));
	opened = 1;
}

static void setup(void)
{
	static int n;

	snprintf(bus, sizeof(bus), "t-bw-%d-%d", (int)getpid(), n++);
	opened = 0;
}

static void teardown(void)
{
	if (opened)
		bb__bw_close(&w);
	bb_bus_remove(bus, BB_REMOVE_FORCE, NULL);
}

TestSuite(bus_writer, .init = setup, .fini = teardown, .timeout = 10);

/* Rows of sym in the table of role. */
static uint32_t rows_of(const char *role, uint32_t sym)
{
	bb_table *t;

	cr_assert(eq(int, bb_table_open(&t, bus, role), 0), "%s", role);
	uint32_t n = bb_table_count(t, sym);
	bb_table_close(t);
	return n;
}

static struct bb__block block(uint32_t k)
{
	struct bb__block b;

	cr_assert(eq(int, bb__ctl_block(w.ctl, k, &b), 0));
	return b;
}

static void one_bar(const bb_session *s, uint32_t sym)
{
	bb_bar b = { .symbol = sym, .time = s->open, .open = 1, .high = 2,
	             .low = 0.5, .close = 1.5, .volume = 10 };

	cr_assert(eq(int, bb__bw_bar(&w, &b), 0));
}

Test(bus_writer, a_fresh_bus_numbers_its_first_session_history_plus_one)
{
	bb_session s = day(0);

	open_bus(2, 5);
	bb__bw_number_fresh(&w);
	bb__bw_session_start(&w, &s, 0);
	cr_assert(eq(u64, bb__bw_status(&w)->sessions, 3));
	cr_assert(eq(u32, bb__bw_status(&w)->history, 2));
	cr_assert(eq(i32, block(0).date, 20240702)); /* 3 mod 3 */
	cr_assert(eq(u64, block(0).session, 3));
}

Test(bus_writer, session_n_goes_into_block_n_mod_blocks)
{
	open_bus(2, 5);
	for (int k = 0; k < 4; k++) {
		bb_session s = day(k);
		bb__bw_session_start(&w, &s, 0);
		one_bar(&s, 0);
		bb__bw_session_end(&w, BB_END_CLOSE);
	}
	/* Sessions 1..4 into blocks 1, 2, 0, 1: block 1 taken again. */
	cr_assert(eq(i32, block(0).date, 20240704));
	cr_assert(eq(i32, block(1).date, 20240705));
	cr_assert(eq(u64, block(1).session, 4));
	cr_assert(eq(i32, block(2).date, 20240703));
	cr_assert(eq(u32, rows_of("hist.1", 0), 1));
	cr_assert(eq(u32, rows_of("bars.1m", 0), 1));
}

Test(bus_writer, a_bar_is_in_both_tables_when_it_is_on_the_ring)
{
	bb_ring_reader *r;
	bb_session s = day(0);
	bb_bar got;

	open_bus(1, 5);
	cr_assert(eq(int, bb_ring_reader_open(&r, bus, BB_WAIT_SPIN, 0), 0));
	bb__bw_session_start(&w, &s, 0);
	one_bar(&s, 1);
	cr_assert(eq(int, bb_ring_read(r, &got, NULL), 0));
	cr_assert(eq(u32, BB_KIND(got.flags), BB_KIND_SESSION_START));
	cr_assert(eq(int, bb_ring_read(r, &got, NULL), 0));
	cr_assert(eq(u32, got.symbol, 1));
	cr_assert(eq(u32, rows_of("bars.1m", 1), 1));
	cr_assert(eq(u32, rows_of("hist.1", 1), 1)); /* session 1 of 2 blocks */
	bb_ring_reader_close(r);
}

Test(bus_writer, session_events_carry_the_session_number)
{
	bb_ring_reader *r;
	bb_session s = day(0), got_s;
	bb_bar got;

	open_bus(2, 5);
	bb__bw_number_fresh(&w); /* history takes 1 and 2: this is 3 */
	cr_assert(eq(int, bb_ring_reader_open(&r, bus, BB_WAIT_SPIN, 0), 0));
	bb__bw_session_start(&w, &s, 0);
	one_bar(&s, 0);
	bb__bw_session_end(&w, BB_END_CLOSE);
	cr_assert(eq(int, bb_ring_read(r, &got, NULL), 0));
	cr_assert(eq(u64, bb_event_session_number(&got), 3));
	cr_assert(eq(int, bb_event_session_get(&got, &got_s, NULL), 0));
	cr_assert(eq(i32, got_s.date, 20240702));
	cr_assert(eq(int, bb_ring_read(r, &got, NULL), 0));
	cr_assert(eq(u64, bb_event_session_number(&got), 0)); /* a bar */
	cr_assert(eq(int, bb_ring_read(r, &got, NULL), 0));
	cr_assert(eq(u32, BB_KIND(got.flags), BB_KIND_SESSION_END));
	cr_assert(eq(u64, bb_event_session_number(&got), 3));
	bb_event_session(&got, BB_KIND_SESSION_START, &s, 0);
	cr_assert(eq(u64, bb_event_session_number(&got), 0)); /* none said */
	bb_ring_reader_close(r);
}

Test(bus_writer, minute_end_counts_the_minutes_on_time_bars_only)
{
	bb_ring_reader *r;
	bb_session s = day(0);
	bb_bar late = { .symbol = 1, .time = s.open, .flags = BB_BAR_LATE };
	bb_bar got;

	open_bus(0, 5);
	cr_assert(eq(int, bb_ring_reader_open(&r, bus, BB_WAIT_SPIN, 0), 0));
	bb__bw_session_start(&w, &s, 0);
	one_bar(&s, 0);
	cr_assert(eq(int, bb__bw_bar(&w, &late), 0));
	bb__bw_minute_end(&w, s.open);
	for (int i = 0; i < 4; i++)
		cr_assert(eq(int, bb_ring_read(r, &got, NULL), 0));
	cr_assert(eq(u32, BB_KIND(got.flags), BB_KIND_MINUTE_END));
	cr_assert(eq(i64, got.time, s.open));
	cr_assert(eq(dbl, got.volume, 1.0)); /* the count: the late bar is not in it */
	cr_assert(eq(i64, bb__bw_status(&w)->clock, s.open));
	bb_ring_reader_close(r);
}

Test(bus_writer, bars_go_to_tables_and_ring_in_order_refused_ones_nowhere)
{
	bb_ring_reader *r;
	bb_session s = day(0);
	bb_bar b[3] = { { .symbol = 1, .time = s.open, .close = 1 },
	                { .symbol = 5, .time = s.open, .close = 2 }, /* no row */
	                { .symbol = 0, .time = s.open, .close = 3 } };
	bb_bar got;
	size_t refused = 9;

	open_bus(1, 5);
	cr_assert(eq(int, bb_ring_reader_open(&r, bus, BB_WAIT_SPIN, 0), 0));
	bb__bw_session_start(&w, &s, 0);
	cr_assert(eq(int, bb__bw_bars(&w, b, 3, &refused), BB_EINVAL));
	cr_assert(eq(sz, refused, 1));
	cr_assert(eq(u64, bb_ring_writer_seq(w.ring), 3)); /* start + 2 bars */
	cr_assert(eq(int, bb_ring_read(r, &got, NULL), 0)); /* SESSION_START */
	cr_assert(eq(int, bb_ring_read(r, &got, NULL), 0));
	cr_assert(eq(dbl, got.close, 1.0));
	cr_assert(eq(int, bb_ring_read(r, &got, NULL), 0));
	cr_assert(eq(dbl, got.close, 3.0));
	cr_assert(eq(int, bb_ring_read(r, &got, NULL), BB_EEMPTY));
	cr_assert(eq(u32, rows_of("bars.1m", 0), 1));
	cr_assert(eq(u32, rows_of("bars.1m", 1), 1));
	cr_assert(eq(u32, rows_of("hist.1", 0), 1));
	cr_assert(eq(u64, bb__bw_counter(&w, BB_CTR_BARS), 2));
	bb_ring_reader_close(r);
}

Test(bus_writer, bars_count_in_the_minute_as_bar_does)
{
	bb_ring_reader *r;
	bb_session s = day(0);
	bb_bar b[2] = { { .symbol = 0, .time = s.open },
	                { .symbol = 1, .time = s.open - 60, .flags = BB_BAR_LATE } };
	bb_bar got;
	size_t refused;

	open_bus(0, 5);
	cr_assert(eq(int, bb_ring_reader_open(&r, bus, BB_WAIT_SPIN, 0), 0));
	bb__bw_session_start(&w, &s, 0);
	cr_assert(eq(int, bb__bw_bars(&w, b, 2, &refused), 0));
	cr_assert(eq(sz, refused, 0));
	bb__bw_minute_end(&w, s.open);
	for (int i = 0; i < 4; i++)
		cr_assert(eq(int, bb_ring_read(r, &got, NULL), 0));
	cr_assert(eq(u32, BB_KIND(got.flags), BB_KIND_MINUTE_END));
	cr_assert(eq(dbl, got.volume, 1.0)); /* the late bar is not in it */
	bb_ring_reader_close(r);
}

Test(bus_writer, history_put_twice_changes_nothing)
{
	bb_session s = day(0);
	bb_bar b[2] = { { .symbol = 0, .time = s.open, .close = 1 },
	                { .symbol = 0, .time = s.open + 60, .close = 2 } };

	open_bus(2, 5);
	cr_assert(eq(int, bb__bw_history_put(&w, &s, 7, 0, b, 2), 0));
	cr_assert(eq(int, bb__bw_history_put(&w, &s, 7, 0, b, 2), 0));
	cr_assert(eq(u32, rows_of("hist.1", 0), 2)); /* 7 mod 3 */
	cr_assert(eq(int, bb__bw_block_holds(&w, 7, 20240702), 1));
	cr_assert(eq(int, bb__bw_block_holds(&w, 7, 20240703), 0));
	cr_assert(eq(int, bb__bw_block_holds(&w, 4, 20240702), 0));
	cr_assert(eq(int, bb__bw_history_put(&w, &s, 7, 2, b, 2), BB_EINVAL));
}

Test(bus_writer, without_history_no_block_is_taken)
{
	bb_session s = day(0);
	bb_bar b = { .symbol = 0, .time = s.open };

	open_bus(0, 5);
	cr_assert(eq(int, bb__bw_block_take(&w, &s, 1), -1));
	cr_assert(eq(int, bb__bw_block_append(&w, 1, &b), 0));
	cr_assert(eq(int, bb__bw_block_holds(&w, 1, s.date), 0));
}

Test(bus_writer, directory_entries_are_checked)
{
	open_bus(0, 5);
	cr_assert(eq(int, bb__bw_symbol(&w, 0, "AAA"), 0));
	cr_assert(eq(int, bb__bw_symbol(&w, 0, "AAA"), 0));
	cr_assert(eq(int, bb__bw_symbol(&w, 0, "BBB"), BB_EMISMATCH));
	cr_assert(eq(int, bb__bw_symbol(&w, 2, "CCC"), BB_EINVAL));
	cr_assert(eq(int, bb__bw_symbol(&w, 1, "BBB"), 0));
	cr_assert(eq(int, bb__bw_symbol(&w, 2, "CCC"), BB_EFULL)); /* 2 rows */
	cr_assert(eq(u32, bb__bw_nsym(&w), 2));
	cr_assert(eq(str, (char *)bb__bw_symbol_name(&w, 1), "BBB"));
}

Test(bus_writer, reopening_with_other_rows_names_what_was_replaced)
{
	char what[128];

	open_bus(1, 5);
	cr_assert(eq(sz, bb__bw_replaced(&w, what, sizeof(what)), 0));
	cr_assert(eq(str, what, ""));
	bb__bw_close(&w);
	opened = 0;
	open_bus(1, 6);
	cr_assert(eq(int, bb__bw_attached(&w), 0));
	bb__bw_replaced(&w, what, sizeof(what));
	cr_assert(eq(str, what, " control bars.1m hist.0 hist.1"));
}

Test(bus_writer, reopening_the_same_geometry_re_attaches)
{
	bb_session s = day(0);

	open_bus(1, 5);
	bb__bw_session_start(&w, &s, 0);
	bb__bw_close(&w);
	opened = 0;
	open_bus(1, 5);
	cr_assert(eq(int, bb__bw_attached(&w), 1));
	cr_assert(eq(i32, bb__bw_status(&w)->date, 20240702));
	cr_assert(eq(u64, bb__bw_counter(&w, BB_CTR_RESTARTS), 1));
	cr_assert(eq(u64, bb__bw_started(&w), 0));
}

/* The transition is from the previous session's end to the new session's
 * status, the writer's own resets included; none without a previous end. */
Test(bus_writer, a_transition_counts_from_the_previous_end_to_the_start)
{
	bb_session s0 = day(0), s1 = day(1);

	open_bus(1, 5);
	bb__bw_session_start(&w, &s0, 0);
	cr_assert(eq(u64, bb__bw_counter(&w, BB_CTR_TRANSITION_NS), 0));
	bb__bw_session_end(&w, BB_END_CLOSE);
	int64_t before = bb__mono_ns();
	bb__bw_session_start(&w, &s1, before - 5000000);
	int64_t after = bb__mono_ns();
	uint64_t ns = bb__bw_counter(&w, BB_CTR_TRANSITION_NS);
	cr_assert(ge(u64, ns, 5000000));
	cr_assert(le(u64, ns, (uint64_t)(after - before) + 5000000));
	cr_assert(eq(u64, bb__bw_counter(&w, BB_CTR_TRANSITION_MAX_NS), ns));
}

static int64_t created_of(void)
{
	bb_bus *b;

	cr_assert(eq(int, bb_bus_open(&b, bus), 0));
	int64_t t = bb_bus_created(b);
	bb_bus_close(b);
	return t;
}

/* bb_bus_created: stamped when the bus is made, kept by a writer that
 * attaches again, new for a bus removed and made again. */
Test(bus_writer, a_bus_keeps_when_it_was_made_until_it_is_made_again)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t before = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	open_bus(1, 5);
	int64_t made = created_of();
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t after = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	cr_assert(ge(i64, made, before));
	cr_assert(le(i64, made, after));
	bb__bw_close(&w);
	open_bus(1, 5); /* attached again: the same bus */
	cr_assert(eq(i64, created_of(), made));
	bb__bw_close(&w);
	opened = 0;
	cr_assert(eq(int, bb_bus_remove(bus, 0, NULL), 0));
	open_bus(1, 5);
	cr_assert(gt(i64, created_of(), made));
}
