/* up_derive_test.c: derived-bar arithmetic and aggregation (upkeep/derive.c). */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "../upkeep/upkeep.h"

/* 2024-07-01 (regular) and 2024-07-03 (early close at 13:00) at XNYS. */
#define OPEN  1719840600LL               /* 09:30 EDT */
#define CLOSE (OPEN + 390 * 60)          /* 16:00 */
#define ECLOSE (OPEN + 210 * 60)         /* 13:00 */

static bb_bar minute(int m, double o, double h, double l, double c, double v)
{
	return (bb_bar){ .symbol = 3, .time = OPEN + m * 60, .open = o, .high = h,
	                 .low = l, .close = c, .volume = v };
}

Test(up_derive, counts_regular_day)
{
	cr_assert(eq(u32, up_interval_count(OPEN, CLOSE, 5), 78));
	cr_assert(eq(u32, up_interval_count(OPEN, CLOSE, 15), 26));
	cr_assert(eq(u32, up_interval_count(OPEN, CLOSE, 30), 13));
	cr_assert(eq(u32, up_interval_count(OPEN, CLOSE, 60), 7));
}

Test(up_derive, counts_early_close)
{
	cr_assert(eq(u32, up_interval_count(OPEN, ECLOSE, 5), 42));
	cr_assert(eq(u32, up_interval_count(OPEN, ECLOSE, 15), 14));
	cr_assert(eq(u32, up_interval_count(OPEN, ECLOSE, 30), 7));
	cr_assert(eq(u32, up_interval_count(OPEN, ECLOSE, 60), 4));
}

Test(up_derive, last_hour_of_early_close_starts_1230_lasts_30_minutes)
{
	int64_t s = up_interval_start(OPEN, 3, 60);
	int64_t last = up_interval_last_minute(OPEN, ECLOSE, 3, 60);

	cr_assert(eq(i64, s, OPEN + 180 * 60)); /* 12:30 */
	cr_assert(eq(i64, last + 60 - s, 30 * 60));
}

Test(up_derive, seven_minutes_last_bar_is_five_minutes)
{
	uint32_t n = up_interval_count(OPEN, CLOSE, 7);
	int64_t s = up_interval_start(OPEN, n - 1, 7);

	cr_assert(eq(u32, n, 56));
	cr_assert(eq(i64, up_interval_last_minute(OPEN, CLOSE, n - 1, 7) + 60 - s,
	             5 * 60));
}

Test(up_derive, aligned_to_open_stamped_with_start)
{
	cr_assert(eq(u32, up_interval_index(OPEN, OPEN + 59 * 60, 60), 0));
	cr_assert(eq(u32, up_interval_index(OPEN, OPEN + 60 * 60, 60), 1));
	cr_assert(eq(i64, up_interval_start(OPEN, 1, 60), OPEN + 3600)); /* 10:30 */
}

Test(up_derive, aggregates_ohlcv)
{
	struct up_forming f;
	bb_bar out, m[] = { minute(0, 10, 12, 9, 11, 100),
	                    minute(1, 11, 15, 10, 14, 50),
	                    minute(2, 14, 14, 7, 8, 25) };

	up_forming_reset(&f);
	cr_assert(eq(int, up_derive_add(&f, OPEN, CLOSE, 5, &m[0], OPEN - 60, &out),
	             UP_DERIVE_APPEND));
	cr_assert(eq(int, up_derive_add(&f, OPEN, CLOSE, 5, &m[1], OPEN - 60, &out),
	             UP_DERIVE_REPLACE));
	up_derive_add(&f, OPEN, CLOSE, 5, &m[2], OPEN - 60, &out);
	cr_assert(eq(i64, out.time, OPEN));
	cr_assert(eq(u32, out.symbol, 3));
	cr_assert(eq(dbl, out.open, 10));
	cr_assert(eq(dbl, out.high, 15));
	cr_assert(eq(dbl, out.low, 7));
	cr_assert(eq(dbl, out.close, 8));
	cr_assert(eq(dbl, out.volume, 175));
}

Test(up_derive, order_within_interval_does_not_matter)
{
	struct up_forming f;
	bb_bar out, m0 = minute(0, 10, 12, 9, 11, 100),
	       m1 = minute(1, 11, 15, 10, 14, 50);

	up_forming_reset(&f);
	up_derive_add(&f, OPEN, CLOSE, 5, &m1, OPEN - 60, &out);
	up_derive_add(&f, OPEN, CLOSE, 5, &m0, OPEN - 60, &out);
	cr_assert(eq(dbl, out.open, 10));
	cr_assert(eq(dbl, out.close, 14));
}

Test(up_derive, partial_lifecycle)
{
	struct up_forming f;
	bb_bar out, m4 = minute(4, 1, 1, 1, 1, 1), m5 = minute(5, 2, 2, 2, 2, 1);

	up_forming_reset(&f);
	up_derive_add(&f, OPEN, CLOSE, 5, &m4, OPEN + 3 * 60, &out);
	cr_assert(ne(u32, out.flags & BB_BAR_PARTIAL, 0));
	/* Minute 3 complete: the interval's last minute (4) is not. */
	cr_assert(eq(int, up_derive_complete(&f, OPEN, OPEN + 3 * 60, &out), 0));
	cr_assert(eq(int, up_derive_complete(&f, OPEN, OPEN + 4 * 60, &out), 1));
	cr_assert(eq(u32, out.flags & BB_BAR_PARTIAL, 0));
	cr_assert(eq(int, up_derive_complete(&f, OPEN, OPEN + 5 * 60, &out), 0));
	/* The next interval's first minute: a new row, partial. */
	cr_assert(eq(int, up_derive_add(&f, OPEN, CLOSE, 5, &m5, OPEN + 4 * 60,
	                                &out), UP_DERIVE_APPEND));
	cr_assert(ne(u32, out.flags & BB_BAR_PARTIAL, 0));
}

Test(up_derive, last_bar_cut_at_early_close_is_final_at_close)
{
	struct up_forming f;
	bb_bar out, m = minute(209, 1, 1, 1, 1, 1);

	up_forming_reset(&f);
	up_derive_add(&f, OPEN, ECLOSE, 60, &m, OPEN + 208 * 60, &out);
	cr_assert(eq(i64, out.time, OPEN + 180 * 60));
	cr_assert(ne(u32, out.flags & BB_BAR_PARTIAL, 0));
	cr_assert(eq(int, up_derive_complete(&f, OPEN, ECLOSE - 60, &out), 1));
}

Test(up_derive, filled_and_synthetic_flags_carried)
{
	struct up_forming f;
	bb_bar out, a = minute(0, 1, 1, 1, 1, 1), b = minute(1, 1, 1, 1, 1, 0),
	       c = minute(2, 1, 1, 1, 1, 1);

	a.flags = BB_BAR_FILLED;
	b.flags = BB_BAR_SYNTHETIC;
	up_forming_reset(&f);
	up_derive_add(&f, OPEN, CLOSE, 5, &c, OPEN - 60, &out);
	cr_assert(eq(u32, out.flags & (BB_BAR_FILLED | BB_BAR_SYNTHETIC), 0));
	up_derive_add(&f, OPEN, CLOSE, 5, &a, OPEN - 60, &out);
	up_derive_add(&f, OPEN, CLOSE, 5, &b, OPEN - 60, &out);
	cr_assert(eq(u32, out.flags & (BB_BAR_FILLED | BB_BAR_SYNTHETIC),
	             BB_BAR_FILLED | BB_BAR_SYNTHETIC));
}

Test(up_derive, minute_of_an_earlier_interval_is_late)
{
	struct up_forming f;
	bb_bar out, a = minute(7, 1, 1, 1, 1, 1), b = minute(2, 1, 1, 1, 1, 1);

	up_forming_reset(&f);
	up_derive_add(&f, OPEN, CLOSE, 5, &a, OPEN - 60, &out);
	cr_assert(eq(int, up_derive_add(&f, OPEN, CLOSE, 5, &b, OPEN - 60, &out),
	             UP_DERIVE_LATE));
}

Test(up_derive, empty_interval_makes_no_bar)
{
	struct up_forming f;
	bb_bar out, a = minute(1, 1, 1, 1, 1, 1), b = minute(12, 2, 2, 2, 2, 1);

	up_forming_reset(&f);
	up_derive_add(&f, OPEN, CLOSE, 5, &a, OPEN - 60, &out);
	/* Interval 1 (minutes 5-9) has no bar: the next row is interval 2. */
	cr_assert(eq(int, up_derive_add(&f, OPEN, CLOSE, 5, &b, OPEN - 60, &out),
	             UP_DERIVE_APPEND));
	cr_assert(eq(i64, out.time, OPEN + 10 * 60));
}

/* up_derive_fold (the engine's path, with its shortcut for the next minute
 * of the interval being formed) gives, interval by interval, the ops and
 * bars of up_derive_add: minutes in order, a duplicate, one out of order,
 * the one that makes a bar final, and the next interval's first. */
Test(up_derive, fold_is_up_derive_add_per_interval)
{
	static const uint32_t k[2] = { 5, 15 };
	static const int mins[] = { 0, 1, 3, 2, 3, 4, 5, 6, 14, 15 };
	struct up_forming f[2], g[2];
	bb_bar out;

	up_forming_reset(&f[0]);
	up_forming_reset(&f[1]);
	g[0] = f[0];
	g[1] = f[1];
	for (size_t i = 0; i < sizeof(mins) / sizeof(mins[0]); i++) {
		int m = mins[i], op[2];
		bb_bar b = minute(m, 10 + m, 12 + m, 8 - m, 11 + m, 100 + m);
		int64_t through = OPEN + (m - 1) * 60 + (m == 4 ? 60 : 0);
		b.flags = m == 2 ? BB_BAR_FILLED : 0;
		up_derive_fold(f, 2, k, OPEN, CLOSE, &b, through, op);
		for (int j = 0; j < 2; j++) {
			int want = up_derive_add(&g[j], OPEN, CLOSE, k[j], &b,
			                         through, &out);
			cr_assert(eq(int, op[j], want), "minute %d, %um", m, k[j]);
			cr_assert(eq(int, memcmp(&f[j].bar, &out, sizeof(out)), 0),
			          "minute %d, %um: the same bar", m, k[j]);
			cr_assert(eq(int, memcmp(&f[j], &g[j], sizeof(f[j])), 0));
		}
	}
	/* Minute 15 began a new row of both. */
	cr_assert(eq(i64, f[0].bar.time, OPEN + 15 * 60));
	cr_assert(eq(i64, f[1].bar.time, OPEN + 15 * 60));
	cr_assert(eq(dbl, f[1].bar.volume, 115));
}
