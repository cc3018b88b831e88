/*
 * derive.c: derived bars. Intervals of k minutes are aligned to the session
 * open and stamped with their start; the last one is cut at the close. A
 * derived bar is the first open, highest high, lowest low, last close and
 * summed volume of the 1-minute bars inside, with their filled and synthetic
 * flags, and partial until its last minute is complete.
 *
 * Minutes may be folded in any order within an interval (a fill for minute
 * t comes after real bars of later minutes when it needed retries): open and
 * close follow the earliest and latest minute, the rest commutes. So the
 * bar depends on which minutes the interval holds, never on reading speed.
 */
#include <stddef.h>
#include <string.h>

#include "upkeep.h"

#define CARRIED (BB_BAR_FILLED | BB_BAR_SYNTHETIC)

uint32_t up_interval_count(int64_t open, int64_t close, uint32_t k)
{
	if (close <= open || k == 0)
		return 0;
	int64_t m = (close - open) / 60;
	return (uint32_t)((m + k - 1) / k);
}

uint32_t up_interval_index(int64_t open, int64_t t, uint32_t k)
{
	return (uint32_t)(((t - open) / 60) / k);
}

int64_t up_interval_start(int64_t open, uint32_t idx, uint32_t k)
{
	return open + (int64_t)idx * k * 60;
}

int64_t up_interval_last_minute(int64_t open, int64_t close, uint32_t idx,
                                uint32_t k)
{
	int64_t end = up_interval_start(open, idx + 1, k);

	return (end < close ? end : close) - 60;
}

void up_forming_reset(struct up_forming *f)
{
	*f = (struct up_forming){ .idx = -1 };
}

/* Minute of the session t falls in (t in [open, close)). */
static uint16_t minute_of(int64_t open, int64_t t)
{
	return (uint16_t)((t - open) / 60);
}

static uint32_t partial_flag(const struct up_forming *f, uint16_t through)
{
	return through != UINT16_MAX && through >= f->last_min ? 0
	       : BB_BAR_PARTIAL;
}

/* Last complete minute as a minute of the session; UINT16_MAX: none. */
static uint16_t through_min(int64_t open, int64_t through)
{
	return through < open ? UINT16_MAX : minute_of(open, through);
}

/*
 * The bar's fields are computed one by one and stored to both the forming
 * bar and *out: copying the forming bar whole right after some of its
 * fields were stored makes wide loads wait for those narrower stores.
 */
int up_derive_add(struct up_forming *f, int64_t open, int64_t close,
                  uint32_t k, const bb_bar *m, int64_t through, bb_bar *out)
{
	bb_bar *b = &f->bar;
	uint16_t mm = minute_of(open, m->time);
	int op = UP_DERIVE_REPLACE;
	double o, h, l, c, v;
	uint32_t fl;

	/* The common case, without a division: a minute of the interval
	 * being formed. */
	if (f->idx < 0 || m->time < b->time || mm > f->last_min) {
		uint32_t idx = up_interval_index(open, m->time, k);
		if (f->idx >= 0 && idx < (uint32_t)f->idx)
			return UP_DERIVE_LATE;
		f->idx = (int16_t)idx;
		f->first = f->last = mm;
		f->last_min = minute_of(open, up_interval_last_minute(open, close,
		                                                      idx, k));
		b->symbol = m->symbol;
		b->time = up_interval_start(open, idx, k);
		o = m->open, h = m->high, l = m->low, c = m->close;
		v = m->volume;
		fl = 0;
		op = UP_DERIVE_APPEND;
	} else {
		if (b->flags & BB_BAR_PARTIAL)
			op = UP_DERIVE_FINAL; /* unless it stays partial, below */
		o = b->open, h = b->high, l = b->low, c = b->close;
		v = b->volume + m->volume;
		fl = b->flags & CARRIED;
		if (mm < f->first) {
			f->first = mm;
			o = m->open;
		}
		if (mm > f->last) {
			f->last = mm;
			c = m->close;
		}
		if (m->high > h) /* bars are validated: no NaN */
			h = m->high;
		if (m->low < l)
			l = m->low;
	}
	fl |= (m->flags & CARRIED) | partial_flag(f, through_min(open, through));
	if (op == UP_DERIVE_FINAL && (fl & BB_BAR_PARTIAL))
		op = UP_DERIVE_REPLACE;
	out->symbol = b->symbol;
	out->time = b->time;
	b->flags = out->flags = fl;
	b->open = out->open = o;
	b->high = out->high = h;
	b->low = out->low = l;
	b->close = out->close = c;
	b->volume = out->volume = v;
	return op;
}

int up_derive_complete(struct up_forming *f, int64_t open, int64_t through,
                       bb_bar *out)
{
	if (f->idx < 0 || !(f->bar.flags & BB_BAR_PARTIAL) ||
	    partial_flag(f, through_min(open, through)) != 0)
		return 0;
	f->bar.flags &= ~(uint32_t)BB_BAR_PARTIAL;
	*out = f->bar;
	return 1;
}

/*
 * The common case of every bar: a minute after the latest folded into the
 * interval being formed. The bar is updated field by field in place (the
 * table row is then written from it): no division, no copy.
 */
static int fold_next(struct up_forming *f, uint16_t mm, uint16_t tm,
                     const bb_bar *m)
{
	bb_bar *b = &f->bar;
	uint32_t was = b->flags;
	uint32_t fl = (was | m->flags) & CARRIED;

	if (tm == UINT16_MAX || tm < f->last_min)
		fl |= BB_BAR_PARTIAL;
	f->last = mm;
	/* Bars are validated (no NaN): maxsd and minsd, no branches. */
	b->high = m->high > b->high ? m->high : b->high;
	b->low = m->low < b->low ? m->low : b->low;
	b->close = m->close;
	b->volume += m->volume;
	/* Flags go in with the symbol as one 8-byte word: the row write
	 * that follows loads the bar word by word, and a 4-byte store under
	 * an 8-byte load is not forwarded. */
	struct { uint32_t symbol, flags; } w0 = { b->symbol, fl };
	_Static_assert(offsetof(bb_bar, flags) == 4, "flags after symbol");
	memcpy(b, &w0, sizeof(w0));
	return (was & BB_BAR_PARTIAL) && !(fl & BB_BAR_PARTIAL)
	       ? UP_DERIVE_FINAL : UP_DERIVE_REPLACE;
}

void up_derive_fold(struct up_forming *f, uint32_t n, const uint32_t *k,
                    int64_t open, int64_t close, const bb_bar *m,
                    int64_t through, int *op)
{
	uint16_t mm = minute_of(open, m->time), tm = through_min(open, through);
	bb_bar out;

	for (uint32_t i = 0; i < n; i++, f++) {
		if (f->idx >= 0 && mm > f->last && mm <= f->last_min)
			op[i] = fold_next(f, mm, tm, m);
		else
			op[i] = up_derive_add(f, open, close, k[i], m, through, &out);
	}
}
