/* co_backtest_test.c: backtest replay through the bus, end to end in one
 * process: a small store, the XNYS calendar, a ring reader draining after. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../coordinator/backtest.h"

#define MAXEV 100000

static char bus[40], dir[64];
static bb_store *st;
static bb_calendar *cal;
static struct bb__bw pub;
static bb_ring_reader *rd;
static bb_bar *ev;
static size_t nev;
static volatile sig_atomic_t stop;

/* Symbols A and B trade every minute; C skips every third minute. */
static void fill_session(int32_t date)
{
	bb_session s;
	bb_bar *b = calloc(390 * 3, sizeof(*b));
	size_t n = 0;

	cr_assert(eq(int, bb_calendar_next(cal, date, &s), 0));
	for (int64_t t = s.open; t < s.close; t += 60)
		for (uint32_t sym = 0; sym < 3; sym++) {
			if (sym == 2 && ((t - s.open) / 60) % 3 == 0)
				continue;
			double p = 100 + sym + (double)(t - s.open) / 6000;
			b[n++] = (bb_bar){ .symbol = sym, .time = t, .open = p,
			                   .high = p + 1, .low = p - 1, .close = p,
			                   .volume = 10 };
		}
	cr_assert(eq(int, bb_store_put(st, b, n, NULL), 0));
	free(b);
}

static void setup(void)
{
	static int n;
	uint32_t id;

	snprintf(bus, sizeof(bus), "t-cobt-%d-%d", (int)getpid(), n++);
	snprintf(dir, sizeof(dir), "/tmp/bb-cobt-XXXXXX");
	cr_assert(mkdtemp(dir) != NULL);
	cr_assert(eq(int, bb_store_open(&st, dir, 0), 0));
	cr_assert(eq(int, bb_calendar_load(&cal, "XNYS", NULL, 0), 0));
	cr_assert(eq(int, bb_store_symbol_add(st, "AAA", &id), 0));
	cr_assert(eq(int, bb_store_symbol_add(st, "BBB", &id), 0));
	cr_assert(eq(int, bb_store_symbol_add(st, "CCC", &id), 0));
	ev = calloc(MAXEV, sizeof(*ev));
	nev = 0;
	stop = 0;
}

static void teardown(void)
{
	char cmd[128];
	const char *roles[] = { "ring", "wake", "control", "bars.1m", "hist.0",
	                        "hist.1", "hist.2" };

	bb_ring_reader_close(rd);
	rd = NULL;
	bb__bw_close(&pub);
	bb_store_close(st);
	bb_calendar_free(cal);
	free(ev);
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		snprintf(cmd, sizeof(cmd), "/barbus.%s.%s", bus, roles[i]);
		shm_unlink(cmd);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert(eq(int, system(cmd), 0));
}

TestSuite(co_backtest, .init = setup, .fini = teardown, .timeout = 30);

static void run_paced(int32_t from, int32_t to, uint32_t history, double x)
{
	struct bb__bw_geom g = {
		.max_symbols = 16, .table_symbols = 3, .rows = 390,
		.history = history, .ring_capacity = 1 << 17,
		.heartbeat_ms = 100, .seg_mode = 0640, .mode = BB_MODE_BACKTEST,
	};
	struct co_backtest bt = { .from = from, .to = to,
	                          .pace = x > 0 ? CO_PACE_FACTOR : CO_PACE_MAX,
	                          .factor = x };
	bb_bar b;
	uint64_t lost;

	cr_assert(eq(int, co_pub_open(&pub, bus, &g), 0));
	cr_assert(eq(int, co_pub_sync_symbols(&pub, st), 0));
	cr_assert(eq(int, bb_ring_reader_open(&rd, bus, BB_WAIT_SPIN, 0), 0));
	cr_assert(eq(int, co_backtest_run(&pub, st, cal, &bt, &stop), 0));
	while (nev < MAXEV && bb_ring_read(rd, &b, &lost) == 0)
		ev[nev++] = b;
}

static void run(int32_t from, int32_t to, uint32_t history)
{
	run_paced(from, to, history, 0);
}

static size_t count_kind(uint32_t kind)
{
	size_t n = 0;

	for (size_t i = 0; i < nev; i++)
		n += BB_KIND(ev[i].flags) == kind;
	return n;
}

Test(co_backtest, opens_with_session_start_then_bars_in_symbol_order)
{
	bb_session s;

	fill_session(20240702);
	run(20240702, 20240702, 0);
	cr_assert(eq(int, bb_event_session_get(&ev[0], &s, NULL), 0));
	cr_assert(eq(i32, s.date, 20240702));
	cr_assert(eq(i64, s.open, 1719927000)); /* 2024-07-02T13:30:00Z */
	/* Minute 0: A, B (C skips it), then MINUTE_END. */
	cr_assert(eq(u32, BB_KIND(ev[1].flags), BB_KIND_BAR));
	cr_assert(eq(u32, ev[1].symbol, 0));
	cr_assert(eq(u32, ev[2].symbol, 1));
	cr_assert(eq(u32, BB_KIND(ev[3].flags), BB_KIND_MINUTE_END));
	cr_assert(eq(i64, ev[3].time, 1719927000));
	cr_assert(eq(dbl, ev[3].volume, 2.0));
	/* Minute 1: A, B, C, then MINUTE_END. */
	cr_assert(eq(u32, ev[6].symbol, 2));
	cr_assert(eq(i64, ev[6].time, 1719927060));
	cr_assert(eq(u32, BB_KIND(ev[7].flags), BB_KIND_MINUTE_END));
}

Test(co_backtest, every_bar_of_the_store_is_published_once)
{
	fill_session(20240702);
	run(20240702, 20240702, 0);
	cr_assert(eq(sz, count_kind(BB_KIND_BAR), 390 * 2 + 260));
}

Test(co_backtest, minute_end_for_every_minute_of_the_session)
{
	fill_session(20240702);
	run(20240702, 20240702, 0);
	cr_assert(eq(sz, count_kind(BB_KIND_MINUTE_END), 390));
}

Test(co_backtest, minute_end_even_when_no_symbol_traded)
{
	/* An empty session still has its 390 minutes. */
	run(20240702, 20240702, 0);
	cr_assert(eq(sz, count_kind(BB_KIND_BAR), 0));
	cr_assert(eq(sz, count_kind(BB_KIND_MINUTE_END), 390));
}

Test(co_backtest, early_close_day_ends_at_13_00_new_york)
{
	bb_session s;
	int reason;

	fill_session(20240703);
	run(20240703, 20240703, 0);
	cr_assert(eq(sz, count_kind(BB_KIND_MINUTE_END), 210));
	cr_assert(eq(int, bb_event_session_get(&ev[nev - 1], &s, &reason), 0));
	cr_assert(eq(u32, BB_KIND(ev[nev - 1].flags), BB_KIND_SESSION_END));
	cr_assert(eq(i64, s.close, 1720026000)); /* 2024-07-03T17:00:00Z */
	cr_assert(eq(i64, ev[nev - 2].time, 1720026000 - 60));
}

Test(co_backtest, holiday_week_skips_july_4)
{
	bb_session s;
	int32_t want[] = { 20240701, 20240702, 20240703, 20240705 };
	size_t k = 0;

	run(20240701, 20240705, 0);
	for (size_t i = 0; i < nev; i++)
		if (BB_KIND(ev[i].flags) == BB_KIND_SESSION_START) {
			bb_event_session_get(&ev[i], &s, NULL);
			cr_assert(lt(sz, k, 4));
			cr_assert(eq(i32, s.date, want[k++]));
		}
	cr_assert(eq(sz, k, 4));
}

Test(co_backtest, dst_week_moves_the_open_in_utc)
{
	bb_session s[2];
	size_t k = 0;

	run(20240308, 20240311, 0);
	for (size_t i = 0; i < nev && k < 2; i++)
		if (BB_KIND(ev[i].flags) == BB_KIND_SESSION_START)
			bb_event_session_get(&ev[i], &s[k++], NULL);
	cr_assert(eq(sz, k, 2));
	cr_assert(eq(i64, s[0].open, 1709908200)); /* Fri 14:30Z (EST) */
	cr_assert(eq(i32, s[1].date, 20240311));
	cr_assert(eq(i64, s[1].open, 1710163800)); /* Mon 13:30Z (EDT) */
}

Test(co_backtest, last_session_ends_with_end_of_data_and_status_done)
{
	bb_session s;
	bb_status stt;
	int reason = -1;
	bb_bus *b;

	run(20240701, 20240702, 0);
	for (size_t i = 0, k = 0; i < nev; i++)
		if (BB_KIND(ev[i].flags) == BB_KIND_SESSION_END) {
			bb_event_session_get(&ev[i], &s, &reason);
			cr_assert(eq(int, reason, k++ ? BB_END_DATA : BB_END_CLOSE));
		}
	cr_assert(eq(int, bb_bus_open(&b, bus), 0));
	cr_assert(eq(int, bb_bus_status(b, &stt), 0));
	cr_assert(eq(u32, stt.state, BB_STATE_DONE));
	cr_assert(eq(i32, stt.date, 20240702));
	cr_assert(eq(u64, stt.sessions, 2));
	bb_bus_close(b);
}

Test(co_backtest, session_table_holds_the_current_session)
{
	bb_bar last;
	bb_bus *b;

	fill_session(20240702);
	fill_session(20240703);
	run(20240702, 20240703, 0);
	cr_assert(eq(int, bb_bus_open(&b, bus), 0));
	cr_assert(eq(u32, bb_count(b, 0), 210));
	cr_assert(eq(u32, bb_count(b, 2), 140));
	cr_assert(eq(int, bb_latest(b, 1, &last), 0));
	cr_assert(eq(i64, last.time, 1720026000 - 60));
	bb_bus_close(b);
}

Test(co_backtest, history_holds_the_trailing_sessions)
{
	bb_bar *bars = calloc(400, sizeof(bb_bar));
	size_t got;
	int32_t date;
	bb_bus *b;

	fill_session(20240628);
	fill_session(20240701);
	fill_session(20240702);
	fill_session(20240703);
	run(20240702, 20240703, 2);
	cr_assert(eq(int, bb_bus_open(&b, bus), 0));
	/* back 1 was published in this run; back 2 loaded from the store. */
	cr_assert(eq(int, bb_history(b, 1, 0, bars, 400, &got, &date), 0));
	cr_assert(eq(i32, date, 20240702));
	cr_assert(eq(sz, got, 390));
	cr_assert(eq(int, bb_history(b, 2, 2, bars, 400, &got, &date), 0));
	cr_assert(eq(i32, date, 20240701));
	cr_assert(eq(sz, got, 260));
	cr_assert(eq(i64, bars[0].time, 1719840600 + 60)); /* C skips minute 0 */
	cr_assert(eq(int, bb_history(b, 3, 0, bars, 400, &got, &date),
	             BB_ENOTFOUND));
	bb_bus_close(b);
	free(bars);
}

Test(co_backtest, every_boundary_counts_a_prefetch_hit_or_miss)
{
	bb_bus *b;

	fill_session(20240701);
	fill_session(20240702);
	fill_session(20240703);
	run(20240701, 20240703, 0);
	cr_assert(eq(int, bb_bus_open(&b, bus), 0));
	cr_assert(eq(u64, bb_bus_counter(b, BB_CTR_PREFETCH_HITS) +
	                  bb_bus_counter(b, BB_CTR_PREFETCH_MISSES), 2));
	bb_bus_close(b);
}

Test(co_backtest, next_session_is_loaded_while_the_current_one_plays)
{
	bb_bus *b;

	fill_session(20240701);
	fill_session(20240702);
	fill_session(20240703);
	/* 200000x: a 390-minute session plays in 117 ms, longer than a load. */
	run_paced(20240701, 20240703, 0, 200000);
	cr_assert(eq(int, bb_bus_open(&b, bus), 0));
	cr_assert(eq(u64, bb_bus_counter(b, BB_CTR_PREFETCH_HITS), 2));
	cr_assert(eq(u64, bb_bus_counter(b, BB_CTR_PREFETCH_MISSES), 0));
	cr_assert(gt(u64, bb_bus_transition_ns(b, 2), 0));
	bb_bus_close(b);
}
