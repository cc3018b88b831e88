/* up_history_test.c: the upkeep's history blocks (upkeep/status.c) as a
 * reader sees them through bb_bars_history (libshm/upkeep_reader.c): which
 * sessions are kept, newest first, rolled at session end, never a block
 * still being filled. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../upkeep/upkeep.h"

#define NSYM 2
#define ROWS 390
#define DAY0 1719840600LL /* 2024-07-01T13:30Z */

static char bus[40];
static struct up_segs *segs;
static struct up_engine *eng;
static bb_upkeep *up;

static void setup(void)
{
	static int n;
	struct up_intervals iv = { .n = 2, .min = { 5, 60 } };
	bb_seg_opts o = { 0 };
	struct up_sink k;
	struct up_engine_opts eo = { .nsym = NSYM, .rows = ROWS, .iv = iv };

	snprintf(bus, sizeof(bus), "t-uphist-%d-%d", (int)getpid(), n++);
	cr_assert(eq(int, up_segs_new(&segs, bus, &iv, 2, &o), 0));
	cr_assert(eq(int, up_segs_attach(segs, bus, NSYM, ROWS, &o), 0));
	up_segs_sink(segs, 1, NULL, NULL, &k);
	cr_assert(eq(int, up_engine_new(&eng, &eo, &k), 0));
}

static void teardown(void)
{
	static const char *const roles[] = { "up.status", "up.quality",
		"up.fills", "up.fills.h", "up.5m", "up.5m.h", "up.60m",
		"up.60m.h" };
	char name[128];

	bb_upkeep_close(up);
	up = NULL;
	up_engine_free(eng);
	up_segs_close(segs);
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		snprintf(name, sizeof(name), "/barbus.%s.%s", bus, roles[i]);
		shm_unlink(name);
	}
}

TestSuite(up_history, .init = setup, .fini = teardown, .timeout = 10);

static bb_session day(int d)
{
	return (bb_session){ .date = 20240701 + d,
	                     .open = DAY0 + 86400LL * d,
	                     .close = DAY0 + 86400LL * d + ROWS * 60 };
}

/* Session d: every minute a bar whose close is d * 1000 + minute; ended
 * (finished) unless `open`. */
static void run_session(int d, int open)
{
	bb_session s = day(d);
	bb_upkeep_info *st = up_segs_status(segs);

	cr_assert(eq(int, up_segs_block_begin(segs, 1, &s), 0));
	cr_assert(eq(int, up_engine_start(eng, &s), 0));
	for (int m = 0; m < ROWS; m++) {
		for (uint32_t y = 0; y < NSYM; y++) {
			double c = d * 1000 + m;
			bb_bar b = { .symbol = y, .time = s.open + 60 * m, .open = c,
			             .high = c, .low = c, .close = c, .volume = 1 };
			cr_assert(eq(int, up_engine_bar(eng, &b), 1));
		}
		cr_assert(eq(int, up_engine_complete(eng, s.open + 60 * m, NSYM,
		                                     0), 0));
	}
	st->date = s.date;
	if (!open) {
		cr_assert(eq(int, up_engine_finish(eng, NSYM), 0));
		cr_assert(eq(int, up_segs_block_done(segs, 1, &s), 0));
		st->done_date = s.date;
	}
	up_segs_status_put(segs);
}

static void open_reader(void)
{
	if (up == NULL)
		cr_assert(eq(int, bb_upkeep_open(&up, bus), 0));
}

Test(up_history, keeps_history_days_sessions_newest_first)
{
	bb_bar out[ROWS];
	size_t got;
	int32_t date;

	for (int d = 0; d < 4; d++)
		run_session(d, d == 3);
	open_reader();
	cr_assert(eq(u32, bb_upkeep_history_days(up), 2));
	cr_assert(eq(int, bb_bars_history(NULL, up, 1, 1, 60, out, ROWS, &got,
	                                  &date), 0));
	cr_assert(eq(i32, date, 20240703));
	cr_assert(eq(sz, got, 7));
	cr_assert(eq(dbl, out[6].close, 2 * 1000 + 389)); /* the day's last */
	cr_assert(eq(int, bb_bars_history(NULL, up, 2, 1, 5, out, ROWS, &got,
	                                  &date), 0));
	cr_assert(eq(i32, date, 20240702));
	cr_assert(eq(sz, got, 78));
	cr_assert(eq(int, bb_bars_history(NULL, up, 3, 1, 5, out, ROWS, &got,
	                                  &date), BB_ENOTFOUND));
}

Test(up_history, back_0_is_the_followed_session_once_finished)
{
	bb_bar out[ROWS];
	size_t got;
	int32_t date;

	run_session(0, 0);
	run_session(1, 0);
	open_reader();
	cr_assert(eq(int, bb_bars_history(NULL, up, 0, 1, 60, out, ROWS, &got,
	                                  &date), 0));
	cr_assert(eq(i32, date, 20240702));
	cr_assert(eq(sz, got, 7));
	cr_assert(eq(dbl, out[6].close, 1 * 1000 + 389));
	cr_assert(eq(u32, out[6].flags, 0));
}

Test(up_history, back_0_of_a_session_not_finished_is_not_found)
{
	bb_bar out[ROWS];
	size_t got;
	int32_t date;

	run_session(0, 0);
	run_session(1, 1);
	open_reader();
	cr_assert(eq(int, bb_bars_history(NULL, up, 0, 1, 60, out, ROWS, &got,
	                                  &date), BB_ENOTFOUND));
	cr_assert(eq(int, bb_bars_history(NULL, up, 1, 1, 60, out, ROWS, &got,
	                                  &date), 0));
	cr_assert(eq(i32, date, 20240701));
}

Test(up_history, history_bars_are_final)
{
	bb_bar out[ROWS];
	size_t got;
	int32_t date;

	run_session(0, 0);
	run_session(1, 1);
	open_reader();
	cr_assert(eq(int, bb_bars_history(NULL, up, 1, 0, 5, out, ROWS, &got,
	                                  &date), 0));
	for (size_t i = 0; i < got; i++)
		cr_assert(eq(u32, out[i].flags, 0));
	cr_assert(eq(dbl, out[0].open, 0));
	cr_assert(eq(dbl, out[0].close, 4));
	cr_assert(eq(dbl, out[0].volume, 5));
}

Test(up_history, the_followed_session_is_not_history)
{
	bb_bar out[ROWS];
	size_t got;
	int32_t date;

	run_session(0, 0);
	run_session(1, 0); /* finished, and still the one followed */
	open_reader();
	cr_assert(eq(int, bb_bars_history(NULL, up, 1, 0, 60, out, ROWS, &got,
	                                  &date), 0));
	cr_assert(eq(i32, date, 20240701));
}

Test(up_history, a_block_being_filled_is_invisible)
{
	bb_bar out[ROWS];
	size_t got;
	int32_t date;
	bb_session s = day(5);

	run_session(0, 0);
	run_session(1, 0);
	run_session(2, 0); /* followed: history is days 0 and 1 */
	open_reader();
	cr_assert(eq(int, bb_bars_history(NULL, up, 2, 0, 60, out, ROWS, &got,
	                                  &date), 0));
	cr_assert(eq(i32, date, 20240701));
	/* Session 5 takes the oldest block (day 0's) and starts filling it. */
	cr_assert(eq(int, up_segs_block_begin(segs, 1, &s), 0));
	cr_assert(eq(int, bb_bars_history(NULL, up, 2, 0, 60, out, ROWS, &got,
	                                  &date), BB_ENOTFOUND));
	cr_assert(eq(int, bb_bars_history(NULL, up, 1, 0, 60, out, ROWS, &got,
	                                  &date), 0));
	cr_assert(eq(i32, date, 20240702));
}

Test(up_history, an_interval_not_kept_is_enointerval)
{
	bb_bar out[ROWS];
	size_t got;
	int32_t date;

	run_session(0, 0);
	run_session(1, 1);
	open_reader();
	cr_assert(eq(int, bb_bars_history(NULL, up, 1, 0, 15, out, ROWS, &got,
	                                  &date), BB_ENOINTERVAL));
	cr_assert(eq(int, bb_bars_history(NULL, up, 1, 0, 1, out, ROWS, &got,
	                                  &date), BB_EINVAL));
}
