/* up_gaps_test.c: the upkeep's session engine (upkeep/gaps.c) with a fake
 * sink: gaps at minute completion, fills, retries, ffill, quality. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <math.h>
#include <string.h>

#include "../upkeep/upkeep.h"

#define OPEN  1719840600LL
#define NSYM  3
#define MAXB  4096

static struct fake {
	bb_bar   fills[MAXB];
	size_t   nfills;
	bb_bar   derived[MAXB]; /* interval 0's rows, symbol 0 */
	size_t   nderived;
	bb_quality q[NSYM];
	int      in_store[NSYM][400]; /* 1: the store has it */
	int      lookups;
	double   prev[NSYM];
	bb_bar   reals[MAXB]; /* real bars given, as the session table */
	size_t   nreals;
} fk;

static int f_derived(void *ctx, uint32_t ki, uint32_t sym, int op,
                     const bb_bar *b)
{
	(void)ctx;
	if (ki != 0 || sym != 0)
		return 0;
	if (op == UP_DERIVE_APPEND)
		fk.derived[fk.nderived++] = *b;
	else
		fk.derived[fk.nderived - 1] = *b;
	return 0;
}

static int f_fill(void *ctx, uint32_t sym, const bb_bar *b)
{
	(void)ctx;
	(void)sym;
	fk.fills[fk.nfills++] = *b;
	return 0;
}

static int f_quality(void *ctx, uint32_t sym, const bb_quality *q)
{
	(void)ctx;
	fk.q[sym] = *q;
	return 0;
}

static int f_reset(void *ctx, uint32_t sym)
{
	(void)ctx;
	(void)sym;
	return 0;
}

static int f_lookup(void *ctx, uint32_t sym, int64_t t, bb_bar *out)
{
	(void)ctx;
	fk.lookups++;
	int m = (int)((t - OPEN) / 60);
	if (m < 0 || m >= 400 || !fk.in_store[sym][m])
		return BB_ENOTFOUND;
	*out = (bb_bar){ .symbol = sym, .time = t, .open = 50, .high = 51,
	                 .low = 49, .close = 50.5, .volume = 7 };
	return 0;
}

static int f_prev(void *ctx, uint32_t sym, int64_t open, double *c)
{
	(void)ctx;
	(void)open;
	if (isnan(fk.prev[sym]))
		return BB_ENOTFOUND;
	*c = fk.prev[sym];
	return 0;
}

static int f_reals(void *ctx, uint32_t sym, int64_t from, int64_t to,
                   bb_bar *out, size_t max, size_t *got)
{
	(void)ctx;
	*got = 0;
	for (size_t i = 0; i < fk.nreals && *got < max; i++)
		if (fk.reals[i].symbol == sym && fk.reals[i].time >= from &&
		    fk.reals[i].time < to)
			out[(*got)++] = fk.reals[i];
	return 0;
}

static struct up_engine *e;
static const bb_session day = { .date = 20240701, .open = OPEN,
                                .close = OPEN + 390 * 60 };

static void make(int policy, int retries)
{
	struct up_sink s = { .derived = f_derived, .fill = f_fill,
	                     .quality = f_quality, .reset = f_reset,
	                     .lookup = f_lookup, .prev_close = f_prev,
	                     .reals = f_reals };
	struct up_engine_opts o = {
		.nsym = NSYM, .rows = 390, .iv = { .n = 1, .min = { 5 } },
		.gap_policy = policy, .retries = retries, .max_retries = 2,
		.backoff_ms = 100,
	};
	memset(&fk, 0, sizeof(fk));
	for (int i = 0; i < NSYM; i++)
		fk.prev[i] = NAN;
	cr_assert(eq(int, up_engine_new(&e, &o, &s), 0));
	cr_assert(eq(int, up_engine_start(e, &day), 0));
}

static void fini(void)
{
	up_engine_free(e);
	e = NULL;
}

TestSuite(up_gaps, .fini = fini, .timeout = 5);

static void bar_flags(uint32_t sym, int m, double c, uint32_t flags)
{
	bb_bar b = { .symbol = sym, .time = OPEN + m * 60, .open = c, .high = c,
	             .low = c, .close = c, .volume = 1, .flags = flags };
	fk.reals[fk.nreals++] = b;
	cr_assert(eq(int, up_engine_bar(e, &b), 1));
}

static void bar(uint32_t sym, int m, double c)
{
	bar_flags(sym, m, c, 0);
}

/* Every symbol trades minute m, except those in skip (bit mask). */
static void minute(int m, unsigned skip)
{
	for (uint32_t s = 0; s < NSYM; s++)
		if (!(skip & (1u << s)))
			bar(s, m, 10 + m);
	cr_assert(eq(int, up_engine_complete(e, OPEN + m * 60, NSYM, 0), 0));
}

Test(up_gaps, no_gap_no_lookup)
{
	make(UP_GAP_LEAVE, 0);
	minute(0, 0);
	minute(1, 0);
	cr_assert(eq(int, fk.lookups, 0));
	cr_assert(eq(u32, fk.q[0].expected, 2));
	cr_assert(eq(u32, fk.q[0].real, 2));
	cr_assert(eq(dbl, fk.q[0].quality, 100.0));
}

Test(up_gaps, gap_found_at_minute_completion_is_filled)
{
	make(UP_GAP_LEAVE, 0);
	fk.in_store[1][0] = 1;
	minute(0, 1u << 1);
	cr_assert(eq(sz, fk.nfills, 1));
	cr_assert(eq(u32, fk.fills[0].symbol, 1));
	cr_assert(eq(i64, fk.fills[0].time, OPEN));
	cr_assert(eq(u32, fk.fills[0].flags, BB_BAR_FILLED));
	cr_assert(eq(u32, fk.q[1].filled, 1));
	cr_assert(eq(u32, fk.q[1].real, 0));
	cr_assert(eq(dbl, fk.q[1].quality, 0.0));
	cr_assert(eq(dbl, fk.q[1].quality_with_fills, 100.0));
}

Test(up_gaps, gap_not_there_before_completion)
{
	make(UP_GAP_LEAVE, 0);
	bar(0, 0, 1); /* minute 0 not complete yet: nothing is a gap */
	cr_assert(eq(int, fk.lookups, 0));
}

Test(up_gaps, unfillable_at_once_without_retries)
{
	make(UP_GAP_LEAVE, 0);
	minute(0, 1u << 2);
	cr_assert(eq(sz, fk.nfills, 0));
	cr_assert(eq(u32, fk.q[2].unfillable, 1));
	cr_assert(eq(u32, fk.q[2].expected, 1));
}

Test(up_gaps, unfillable_after_retries)
{
	make(UP_GAP_LEAVE, 1);
	minute(0, 1u << 2);
	cr_assert(eq(u32, fk.q[2].pending, 1));
	cr_assert(eq(int, fk.lookups, 1));
	up_engine_retry(e, 50 * 1000000LL); /* not due yet */
	cr_assert(eq(int, fk.lookups, 1));
	up_engine_retry(e, 100 * 1000000LL); /* first retry */
	cr_assert(eq(int, fk.lookups, 2));
	cr_assert(eq(u32, fk.q[2].pending, 1));
	up_engine_retry(e, 300 * 1000000LL); /* second: 200 ms later; limit */
	cr_assert(eq(int, fk.lookups, 3));
	cr_assert(eq(u32, fk.q[2].pending, 0));
	cr_assert(eq(u32, fk.q[2].unfillable, 1));
}

Test(up_gaps, filled_on_retry)
{
	make(UP_GAP_LEAVE, 1);
	minute(0, 1u << 2);
	fk.in_store[2][0] = 1; /* the feed stored it meanwhile */
	up_engine_retry(e, 100 * 1000000LL);
	cr_assert(eq(sz, fk.nfills, 1));
	cr_assert(eq(u32, fk.q[2].filled, 1));
	cr_assert(eq(u32, fk.q[2].pending, 0));
}

Test(up_gaps, session_end_resolves_pending)
{
	make(UP_GAP_LEAVE, 1);
	minute(0, 1u << 2);
	cr_assert(eq(int, up_engine_finish(e, NSYM), 0));
	cr_assert(eq(u32, fk.q[2].pending, 0));
	cr_assert(eq(u32, fk.q[2].expected, 390));
	/* minute 0 and the 389 minutes nobody traded */
	cr_assert(eq(u32, fk.q[2].unfillable, 390));
	cr_assert(eq(u32, fk.q[0].real, 1));
}

Test(up_gaps, ffill_uses_previous_close)
{
	make(UP_GAP_FFILL, 0);
	minute(0, 0);
	minute(1, 1u << 0);
	cr_assert(eq(sz, fk.nfills, 1));
	cr_assert(eq(u32, fk.fills[0].flags, BB_BAR_SYNTHETIC));
	cr_assert(eq(dbl, fk.fills[0].open, 10.0));
	cr_assert(eq(dbl, fk.fills[0].close, 10.0));
	cr_assert(eq(dbl, fk.fills[0].volume, 0.0));
	cr_assert(eq(u32, fk.q[0].synthetic, 1));
	cr_assert(eq(u32, fk.q[0].unfillable, 1));
}

Test(up_gaps, ffill_first_minute_uses_previous_session_close)
{
	make(UP_GAP_FFILL, 0);
	fk.prev[1] = 42.5;
	minute(0, 1u << 1 | 1u << 2); /* symbol 2: no previous close known */
	cr_assert(eq(sz, fk.nfills, 1));
	cr_assert(eq(u32, fk.fills[0].symbol, 1));
	cr_assert(eq(dbl, fk.fills[0].close, 42.5));
	cr_assert(eq(u32, fk.q[2].synthetic, 0));
	cr_assert(eq(u32, fk.q[2].unfillable, 1));
}

Test(up_gaps, ffill_next_session_uses_last_close_followed)
{
	bb_session d2 = { .date = 20240702, .open = OPEN + 86400,
	                  .close = OPEN + 86400 + 390 * 60 };

	make(UP_GAP_FFILL, 0);
	minute(0, 0);
	bar(1, 389, 77);
	cr_assert(eq(int, up_engine_finish(e, NSYM), 0));
	cr_assert(eq(int, up_engine_start(e, &d2), 0));
	fk.nfills = 0;
	/* a real bar of minute 1 first: a session without any is not
	 * forward-filled */
	bb_bar b = { .symbol = 0, .time = d2.open + 60, .open = 1, .high = 1,
	             .low = 1, .close = 1, .volume = 1 };
	cr_assert(eq(int, up_engine_bar(e, &b), 1));
	cr_assert(eq(int, up_engine_complete(e, d2.open, NSYM, 0), 0));
	cr_assert(eq(sz, fk.nfills, 3));
	cr_assert(eq(dbl, fk.fills[1].close, 77.0)); /* symbol 1 */
}

Test(up_gaps, duplicates_ignored)
{
	make(UP_GAP_LEAVE, 0);
	bar(0, 0, 1);
	bb_bar b = { .symbol = 0, .time = OPEN, .close = 2 };
	cr_assert(eq(int, up_engine_bar(e, &b), 0));
}

Test(up_gaps, derived_bar_includes_fill_and_loses_partial)
{
	make(UP_GAP_LEAVE, 0);
	fk.in_store[0][2] = 1;
	for (int m = 0; m < 5; m++)
		minute(m, m == 2 ? 1u : 0);
	cr_assert(eq(sz, fk.nderived, 1));
	bb_bar d = fk.derived[0];
	cr_assert(eq(u32, d.flags, BB_BAR_FILLED));
	cr_assert(eq(dbl, d.volume, 4 + 7));
	cr_assert(eq(dbl, d.high, 50.5 + 0.5)); /* the fill's high, 51 */
	cr_assert(eq(dbl, d.open, 10));
	cr_assert(eq(dbl, d.close, 14));
}

Test(up_gaps, quality_counts)
{
	make(UP_GAP_FFILL, 0);
	fk.in_store[0][1] = 1;
	minute(0, 0);
	minute(1, 1u);      /* filled */
	minute(2, 1u);      /* synthetic */
	minute(3, 0);
	bb_quality q;
	cr_assert(eq(int, up_engine_quality(e, 0, &q), 0));
	cr_assert(eq(u32, q.expected, 4));
	cr_assert(eq(u32, q.real, 2));
	cr_assert(eq(u32, q.filled, 1));
	cr_assert(eq(u32, q.synthetic, 1));
	cr_assert(eq(u32, q.unfillable, 1));
	cr_assert(eq(dbl, q.quality, 50.0));
	cr_assert(eq(dbl, q.quality_with_fills, 75.0));
	cr_assert(eq(i32, q.date, 20240701));
}

/* ---- late real bars, and the identity ------------------------------------ */

/* expected = real + filled + unfillable + pending for every symbol, in
 * the figure last written and in the engine's. */
static void identity(void)
{
	for (uint32_t y = 0; y < NSYM; y++) {
		bb_quality q;
		cr_assert(eq(int, up_engine_quality(e, y, &q), 0));
		cr_assert(eq(u32, q.expected,
		             q.real + q.filled + q.unfillable + q.pending));
		cr_assert(le(u32, q.synthetic, q.unfillable));
		cr_assert(le(u32, q.late, q.real));
		cr_assert(eq(int, memcmp(&q, &fk.q[y], sizeof(q)), 0));
	}
}

Test(up_gaps, identity_holds_at_every_minute_mid_session)
{
	make(UP_GAP_FFILL, 1);
	fk.prev[0] = fk.prev[1] = fk.prev[2] = 9;
	fk.in_store[1][2] = fk.in_store[2][4] = 1;
	for (int m = 0; m < 8; m++) {
		/* 0 misses 1, 3 (found on retry) and 5; 1 misses 2 (in the
		 * store) and 4; 2 misses 4 (in the store) and 6 */
		unsigned skip = (m == 1 || m == 3 || m == 5 ? 1u : 0) |
		                (m == 2 || m == 4 ? 2u : 0) |
		                (m == 4 || m == 6 ? 4u : 0);
		minute(m, skip);
		identity();
		if (m == 3)
			fk.in_store[0][3] = 1;
		up_engine_retry(e, (int64_t)(m + 1) * 100 * 1000000LL);
		identity();
		if (m == 5) { /* symbol 1's minute 4 comes late, while pending */
			bar_flags(1, 4, 14, BB_BAR_LATE);
			identity();
		}
	}
	/* at 800 ms: 0's minute 5 retried twice (given up, synthetic), 2's
	 * minute 6 once */
	cr_assert(eq(u32, fk.q[0].expected, 8));
	cr_assert(eq(u32, fk.q[0].real, 5));
	cr_assert(eq(u32, fk.q[0].filled, 1));
	cr_assert(eq(u32, fk.q[0].unfillable, 2));
	cr_assert(eq(u32, fk.q[0].synthetic, 2));
	cr_assert(eq(u32, fk.q[0].pending, 0));
	cr_assert(eq(u32, fk.q[1].real, 7));
	cr_assert(eq(u32, fk.q[1].late, 1));
	cr_assert(eq(u32, fk.q[1].filled, 1));
	cr_assert(eq(u32, fk.q[2].real, 6));
	cr_assert(eq(u32, fk.q[2].filled, 1));
	cr_assert(eq(u32, fk.q[2].pending, 1));
}

Test(up_gaps, late_real_bar_ends_retries_and_counts_real_and_late)
{
	make(UP_GAP_LEAVE, 1);
	minute(0, 1u << 2);
	cr_assert(eq(u32, fk.q[2].pending, 1));
	bar_flags(2, 0, 33, BB_BAR_LATE);
	cr_assert(eq(u32, fk.q[2].pending, 0));
	cr_assert(eq(u32, fk.q[2].real, 1));
	cr_assert(eq(u32, fk.q[2].late, 1));
	cr_assert(eq(dbl, fk.q[2].quality, 100.0));
	int before = fk.lookups;
	up_engine_retry(e, 1000 * 1000000LL);
	cr_assert(eq(int, fk.lookups, before)); /* no retry left */
	cr_assert(eq(sz, fk.nfills, 0));
}

Test(up_gaps, late_real_bar_wins_over_a_fill_in_counts_and_derived_bar)
{
	make(UP_GAP_LEAVE, 0);
	fk.in_store[0][2] = 1;
	for (int m = 0; m < 5; m++)
		minute(m, m == 2 ? 1u : 0);
	cr_assert(eq(u32, fk.derived[0].flags, BB_BAR_FILLED));
	bar_flags(0, 2, 12, BB_BAR_LATE);
	cr_assert(eq(u32, fk.q[0].filled, 0));
	cr_assert(eq(u32, fk.q[0].real, 5));
	cr_assert(eq(u32, fk.q[0].late, 1));
	cr_assert(eq(sz, fk.nderived, 1)); /* the same row, rewritten */
	bb_bar d = fk.derived[0];
	cr_assert(eq(u32, d.flags, 0)); /* final, not filled any more */
	cr_assert(eq(dbl, d.open, 10));
	cr_assert(eq(dbl, d.high, 14));
	cr_assert(eq(dbl, d.low, 10));
	cr_assert(eq(dbl, d.close, 14));
	cr_assert(eq(dbl, d.volume, 5));
}

Test(up_gaps, late_real_bar_wins_over_a_synthetic_bar)
{
	make(UP_GAP_FFILL, 0);
	minute(0, 0);
	minute(1, 1u);
	cr_assert(eq(u32, fk.q[0].synthetic, 1));
	cr_assert(eq(u32, fk.derived[0].flags, BB_BAR_SYNTHETIC |
	                                       BB_BAR_PARTIAL));
	bar(0, 1, 3);
	cr_assert(eq(u32, fk.q[0].synthetic, 0));
	cr_assert(eq(u32, fk.q[0].unfillable, 0));
	cr_assert(eq(u32, fk.q[0].real, 2));
	cr_assert(eq(u32, fk.q[0].late, 1)); /* after the minute was settled */
	cr_assert(eq(u32, fk.derived[0].flags, BB_BAR_PARTIAL));
	cr_assert(eq(dbl, fk.derived[0].low, 3));
	cr_assert(eq(dbl, fk.derived[0].volume, 2));
}

Test(up_gaps, late_real_bar_after_an_unfillable_gap_counts_real)
{
	make(UP_GAP_LEAVE, 0);
	minute(0, 1u);
	cr_assert(eq(u32, fk.q[0].unfillable, 1));
	bar(0, 0, 7);
	cr_assert(eq(u32, fk.q[0].unfillable, 0));
	cr_assert(eq(u32, fk.q[0].real, 1));
	cr_assert(eq(sz, fk.nderived, 1));
	cr_assert(eq(dbl, fk.derived[0].open, 7));
}

Test(up_gaps, late_flag_before_completion_counts_late_at_completion)
{
	make(UP_GAP_LEAVE, 0);
	bar_flags(0, 0, 5, BB_BAR_LATE);
	cr_assert(eq(u32, fk.q[0].late, 0)); /* not complete yet */
	minute(0, 1u);
	cr_assert(eq(u32, fk.q[0].real, 1));
	cr_assert(eq(u32, fk.q[0].late, 1));
}

Test(up_gaps, late_real_bar_of_an_earlier_interval_is_underived)
{
	make(UP_GAP_LEAVE, 0);
	fk.in_store[0][1] = 1;
	for (int m = 0; m < 6; m++)
		minute(m, m == 1 ? 1u : 0);
	cr_assert(eq(sz, fk.nderived, 2));
	bb_bar first = fk.derived[0];
	bar(0, 1, 99);
	cr_assert(eq(u32, fk.q[0].real, 6));
	cr_assert(eq(u32, fk.q[0].filled, 0));
	cr_assert(eq(u32, fk.q[0].underived, 1));
	cr_assert(eq(sz, fk.nderived, 2));
	cr_assert(eq(int, memcmp(&fk.derived[0], &first, sizeof(first)), 0));
}

/* ---- sessions without a real bar, symbols not followed ------------------- */

Test(up_gaps, ffill_makes_no_flat_bar_in_a_session_without_real_bars)
{
	make(UP_GAP_FFILL, 0);
	fk.prev[0] = fk.prev[1] = fk.prev[2] = 9;
	cr_assert(eq(int, up_engine_finish(e, NSYM), 0));
	cr_assert(eq(sz, fk.nfills, 0));
	cr_assert(eq(sz, fk.nderived, 0));
	cr_assert(eq(u32, fk.q[0].expected, 390));
	cr_assert(eq(u32, fk.q[0].unfillable, 390));
	cr_assert(eq(u32, fk.q[0].synthetic, 0));
}

Test(up_gaps, ffill_minutes_before_the_first_real_bar_get_theirs_when_it_comes)
{
	make(UP_GAP_FFILL, 0);
	fk.prev[0] = fk.prev[1] = fk.prev[2] = 9;
	minute(0, 7u); /* nobody trades minute 0 */
	cr_assert(eq(sz, fk.nfills, 0));
	cr_assert(eq(u32, fk.q[1].synthetic, 0));
	cr_assert(eq(u32, fk.q[1].unfillable, 1));
	bar(0, 1, 20);
	cr_assert(eq(sz, fk.nfills, 3)); /* minute 0 of every symbol */
	for (uint32_t y = 0; y < NSYM; y++) {
		cr_assert(eq(u32, fk.fills[y].symbol, y));
		cr_assert(eq(i64, fk.fills[y].time, OPEN));
		cr_assert(eq(dbl, fk.fills[y].close, 9));
		cr_assert(eq(u32, fk.fills[y].flags, BB_BAR_SYNTHETIC));
		cr_assert(eq(u32, fk.q[y].synthetic, 1));
		cr_assert(eq(u32, fk.q[y].unfillable, 1));
	}
	cr_assert(eq(u32, fk.derived[0].flags, BB_BAR_SYNTHETIC | BB_BAR_PARTIAL));
	cr_assert(eq(dbl, fk.derived[0].close, 20));
}

Test(up_gaps, a_symbol_not_followed_has_no_gaps)
{
	make(UP_GAP_LEAVE, 0);
	fk.in_store[1][0] = fk.in_store[1][1] = 1;
	up_engine_follow(e, 1, 0);
	minute(0, 2u);
	minute(1, 2u);
	cr_assert(eq(int, up_engine_finish(e, NSYM), 0));
	cr_assert(eq(sz, fk.nfills, 0));
	cr_assert(eq(u32, fk.q[1].expected, 0));
	cr_assert(eq(u32, fk.q[0].expected, 390));
	cr_assert(eq(u32, fk.q[2].expected, 390));
	cr_assert(eq(u32, fk.q[2].unfillable, 388));
}
