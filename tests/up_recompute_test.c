/* up_recompute_test.c: the upkeep's derived bars over generated sessions
 * (random walks, random gaps, some of them in a fake store) equal a plain
 * recomputation from the 1-minute bars, for 5m/15m/30m/1h/7m, on a regular
 * and an early-close day, whichever way the engine is fed. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <math.h>
#include <string.h>

#include "../upkeep/upkeep.h"

#define OPEN   1719840600LL /* 2024-07-01T13:30Z */
#define NSYM   6
#define ROWS   390
#define NIV    5

static const uint32_t ivs[NIV] = { 5, 15, 30, 60, 7 };

/* The generated day: per symbol and minute, a bar, and where it is. */
enum { REAL = 1, STORE = 2 }; /* 0: missing everywhere */

static struct gen {
	bb_session s;
	uint32_t   minutes;
	bb_bar     bar[NSYM][ROWS];
	int        where[NSYM][ROWS];
	double     prev_close[NSYM];
} g;

/* What the engine wrote: every interval's rows per symbol, and the
 * history a sink keeps by the ops' contract (final bars only: appended
 * when new and final or when FINAL, the latest rewritten by REPLACE). */
static struct out {
	bb_bar rows[NIV][NSYM][ROWS];
	size_t n[NIV][NSYM];
	bb_bar hist[NIV][NSYM][ROWS];
	size_t nh[NIV][NSYM];
	int    broken; /* an op the contract does not allow */
} o;

static uint64_t rng;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double unit(void)
{
	return (double)(next() >> 11) / (double)(1ull << 53);
}

/* A day of `minutes` minutes: random-walk bars, ~8 % missing from the
 * coordinator, half of those in the store. */
static void generate(uint64_t seed, uint32_t minutes)
{
	rng = seed;
	memset(&g, 0, sizeof(g));
	g.s = (bb_session){ .date = 20240701, .open = OPEN,
	                    .close = OPEN + 60 * (int64_t)minutes };
	g.minutes = minutes;
	for (uint32_t s = 0; s < NSYM; s++) {
		double p = 20 + 80 * unit();
		g.prev_close[s] = p;
		for (uint32_t m = 0; m < minutes; m++) {
			double o1 = p, c = p * (1 + (unit() - 0.5) / 100);
			double hi = fmax(o1, c) + unit() / 10, lo = fmin(o1, c) - unit() / 10;
			g.bar[s][m] = (bb_bar){ .symbol = s,
			                        .time = OPEN + 60 * (int64_t)m,
			                        .open = o1, .high = hi, .low = lo,
			                        .close = c,
			                        .volume = (double)(next() % 10000) };
			p = c;
			uint64_t r = next() % 100;
			g.where[s][m] = r < 4 ? 0 : r < 8 ? STORE : REAL;
		}
	}
}

static int s_derived(void *ctx, uint32_t ki, uint32_t sym, int op,
                     const bb_bar *b)
{
	(void)ctx;
	if (op == UP_DERIVE_APPEND)
		o.rows[ki][sym][o.n[ki][sym]++] = *b;
	else
		o.rows[ki][sym][o.n[ki][sym] - 1] = *b;
	int final = !(b->flags & BB_BAR_PARTIAL);
	size_t *nh = &o.nh[ki][sym];
	if (op == UP_DERIVE_FINAL && !final)
		o.broken++;
	if ((op == UP_DERIVE_APPEND && final) || op == UP_DERIVE_FINAL)
		o.hist[ki][sym][(*nh)++] = *b;
	else if (op == UP_DERIVE_REPLACE && final) {
		if (*nh == 0 || o.hist[ki][sym][*nh - 1].time != b->time)
			o.broken++; /* a final bar the history never got */
		else
			o.hist[ki][sym][*nh - 1] = *b;
	}
	return 0;
}

static int s_fill(void *ctx, uint32_t sym, const bb_bar *b)
{
	(void)ctx, (void)sym, (void)b;
	return 0;
}

static int s_quality(void *ctx, uint32_t sym, const bb_quality *q)
{
	(void)ctx, (void)sym, (void)q;
	return 0;
}

static int s_reset(void *ctx, uint32_t sym)
{
	(void)ctx;
	for (int k = 0; k < NIV; k++)
		o.n[k][sym] = o.nh[k][sym] = 0;
	return 0;
}

static int s_lookup(void *ctx, uint32_t sym, int64_t t, bb_bar *out)
{
	(void)ctx;
	uint32_t m = (uint32_t)((t - OPEN) / 60);
	if (m >= g.minutes || g.where[sym][m] != STORE)
		return BB_ENOTFOUND;
	*out = g.bar[sym][m];
	return 0;
}

static int s_prev(void *ctx, uint32_t sym, int64_t open, double *c)
{
	(void)ctx, (void)open;
	*c = g.prev_close[sym];
	return 0;
}

static struct up_engine *engine(int policy)
{
	struct up_sink k = { .derived = s_derived, .fill = s_fill,
	                     .quality = s_quality, .reset = s_reset,
	                     .lookup = s_lookup, .prev_close = s_prev };
	struct up_engine_opts eo = { .nsym = NSYM, .rows = ROWS,
	                             .iv = { .n = NIV }, .gap_policy = policy };
	struct up_engine *e;

	memcpy(eo.iv.min, ivs, sizeof(ivs));
	memset(&o, 0, sizeof(o));
	cr_assert(eq(int, up_engine_new(&e, &eo, &k), 0));
	cr_assert(eq(int, up_engine_start(e, &g.s), 0));
	return e;
}

/* As the ring gives it: minute by minute, MINUTE_END after each. */
static void feed_minutes(struct up_engine *e)
{
	for (uint32_t m = 0; m < g.minutes; m++) {
		for (uint32_t s = 0; s < NSYM; s++)
			if (g.where[s][m] == REAL)
				cr_assert(eq(int, up_engine_bar(e, &g.bar[s][m]), 1));
		cr_assert(eq(int, up_engine_complete(e, OPEN + 60 * (int64_t)m,
		                                     NSYM, 0), 0));
	}
	cr_assert(eq(int, up_engine_finish(e, NSYM), 0));
}

/* As a resynchronisation gives it: one symbol at a time, completing every
 * minute before each bar. */
static void feed_symbols(struct up_engine *e)
{
	for (uint32_t s = 0; s < NSYM; s++) {
		for (uint32_t m = 0; m < g.minutes; m++) {
			if (g.where[s][m] != REAL)
				continue;
			cr_assert(eq(int, up_engine_complete_sym(e, s,
			             g.bar[s][m].time - 60, 0), 0));
			cr_assert(eq(int, up_engine_bar(e, &g.bar[s][m]), 1));
		}
		cr_assert(eq(int, up_engine_complete_sym(e, s, g.s.close - 60, 0),
		             0));
	}
	cr_assert(eq(int, up_engine_finish(e, NSYM), 0));
}

/* The plain recomputation of interval k for symbol s: every bar there is
 * (real or in the store; under ffill a flat bar at the last close for the
 * rest), grouped by (minute / k). */
static size_t recompute(uint32_t s, uint32_t k, int ffill, bb_bar *out)
{
	size_t n = 0;
	double last = g.prev_close[s];

	for (uint32_t m = 0; m < g.minutes; m++) {
		bb_bar b = g.bar[s][m];
		uint32_t fl = g.where[s][m] == STORE ? BB_BAR_FILLED : 0;
		if (g.where[s][m] == 0) {
			if (!ffill)
				continue;
			b = (bb_bar){ .symbol = s, .time = b.time, .open = last,
			              .high = last, .low = last, .close = last };
			fl = BB_BAR_SYNTHETIC;
		}
		last = b.close;
		int64_t start = OPEN + (int64_t)(m / k) * k * 60;
		if (n == 0 || out[n - 1].time != start) {
			out[n] = b;
			out[n].time = start;
			out[n++].flags = fl;
			continue;
		}
		bb_bar *d = &out[n - 1];
		d->high = fmax(d->high, b.high);
		d->low = fmin(d->low, b.low);
		d->close = b.close;
		d->volume += b.volume;
		d->flags |= fl;
	}
	return n;
}

static int same(const bb_bar *a, const bb_bar *b)
{
	return a->time == b->time && a->open == b->open && a->high == b->high &&
	       a->low == b->low && a->close == b->close &&
	       a->volume == b->volume && a->flags == b->flags;
}

static void check_all(int ffill)
{
	static bb_bar want[ROWS];

	cr_assert(eq(int, o.broken, 0), "ops outside the contract");
	for (uint32_t ki = 0; ki < NIV; ki++)
		for (uint32_t s = 0; s < NSYM; s++) {
			size_t n = recompute(s, ivs[ki], ffill, want);
			cr_assert(eq(sz, o.n[ki][s], n), "%um sym %u: %zu bars, "
			          "want %zu", ivs[ki], s, o.n[ki][s], n);
			cr_assert(eq(sz, o.nh[ki][s], n), "%um sym %u: history "
			          "%zu bars, want %zu", ivs[ki], s, o.nh[ki][s], n);
			for (size_t i = 0; i < n; i++) {
				cr_assert(same(&o.rows[ki][s][i], &want[i]),
				          "%um sym %u bar %zu differs", ivs[ki], s, i);
				cr_assert(same(&o.hist[ki][s][i], &want[i]),
				          "%um sym %u history bar %zu differs", ivs[ki], s, i);
			}
		}
}

Test(up_recompute, regular_day_in_minute_order)
{
	generate(0x9e3779b97f4a7c15ull, 390);
	struct up_engine *e = engine(UP_GAP_LEAVE);
	feed_minutes(e);
	check_all(0);
	up_engine_free(e);
}

Test(up_recompute, early_close_in_minute_order)
{
	generate(0x2545f4914f6cdd1dull, 210);
	struct up_engine *e = engine(UP_GAP_LEAVE);
	feed_minutes(e);
	check_all(0);
	cr_assert(eq(sz, o.n[3][0], 4)); /* 1h: 13:30 .. 16:30, 30 minutes */
	up_engine_free(e);
}

Test(up_recompute, symbol_at_a_time_gives_the_same_bars)
{
	generate(0x853c49e6748fea9bull, 390);
	struct up_engine *e = engine(UP_GAP_LEAVE);
	feed_symbols(e);
	check_all(0);
	up_engine_free(e);
}

Test(up_recompute, ffill_bars_are_part_of_the_recomputation)
{
	generate(0xda942042e4dd58b5ull, 210);
	struct up_engine *e = engine(UP_GAP_FFILL);
	feed_minutes(e);
	check_all(1);
	up_engine_free(e);
}
