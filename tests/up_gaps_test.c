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

static struct up_engine *e;
static const bb_session day = { .date = 20240701, .open = OPEN,
                                .close = OPEN + 390 * 60 };

static void make(int policy, int retries)
{
	struct up_sink s = { .derived = f_derived, .fill = f_fill,
	                     .quality = f_quality, .reset = f_reset,
	                     .lookup = f_lookup, .prev_close = f_prev };
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

static void bar(uint32_t sym, int m, double c)
{
	bb_bar b = { .symbol = sym, .time = OPEN + m * 60, .open = c, .high = c,
	             .low = c, .close = c, .volume = 1 };
	cr_assert(eq(int, up_engine_bar(e, &b), 1));
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
