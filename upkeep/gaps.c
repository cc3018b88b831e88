/*
 * gaps.c: the upkeep's session engine. Per symbol and minute of the session
 * it knows what is there (a real bar, a fill, a synthetic bar, a gap being
 * retried, an unfillable gap). When minute t completes, a symbol with
 * nothing at t has a gap: looked up in the store, filled, retried later or
 * given up (and, under ffill, replaced by a flat bar at the previous close).
 * Every 1-minute bar taken (real, filled, synthetic) is folded into the
 * derived bars (derive.c). All output goes through the sink (upkeep.h).
 *
 * Each symbol keeps its own clock of completed minutes, so a symbol that
 * appears mid-session (live) has its earlier minutes checked too, and a
 * resynchronisation can replay one symbol at a time in minute order.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "upkeep.h"

/* M_LATE: a real bar flagged BB_BAR_LATE, or one that came after its
 * minute was settled; it counts as real (and as late). */
enum { M_NONE, M_REAL, M_FILLED, M_SYNTH, M_PENDING, M_UNFILLABLE, M_LATE };

/* The minute holds a bar (real, late, filled or synthetic). */
static int has_bar(uint8_t st)
{
	return st == M_REAL || st == M_LATE || st == M_FILLED || st == M_SYNTH;
}

struct pend {
	uint32_t sym, minute, tries;
	int64_t  due_ns;
};

/* Per symbol, over its complete minutes: real + filled + unfillable +
 * pending = minutes complete (synthetic within unfillable, late within
 * real). underived: bars that came for a derived interval no longer the
 * latest row. */
struct symst {
	uint32_t real, filled, synthetic, unfillable, pending, late, underived;
	int64_t  through;    /* last complete minute of this symbol */
	double   prev_close; /* previous session's last close; NaN: unknown */
	int      asked;      /* prev_close was asked of the sink */
} __attribute__((aligned(64))); /* a line each: one prefetch fetches it */
_Static_assert(sizeof(struct symst) == 64, "symbol state: a line");

struct up_engine {
	struct up_engine_opts o;
	struct up_sink k;
	bb_session s;
	int        active, finished;
	int        seen_real; /* the session has a real bar (of any symbol) */
	uint8_t   *skip;     /* nsym: 1 when the symbol is not followed */
	int64_t    through;
	uint32_t   minutes;  /* of this session */
	uint8_t   *state;    /* rows x nsym (cell()): M_* */
	uint16_t  *ends;     /* rows: bit ki when the minute ends an interval */
	double    *close;    /* rows x nsym: close of what is there */
	struct symst *sym;
	struct up_forming *f; /* nsym x iv.n */
	struct pend *pend;
	size_t     npend, cap;
	bb_bar    *rbuf;     /* rows: real bars of one interval, re-deriving */
	uint64_t   bars, fills, unfillable;
};

int up_engine_new(struct up_engine **out, const struct up_engine_opts *o,
                  const struct up_sink *sink)
{
	/* Minutes of a session are kept as u16 (struct up_forming). */
	if (o->nsym == 0 || o->rows == 0 || o->rows >= UINT16_MAX ||
	    o->iv.n > UP_MAX_INTERVALS)
		return BB_EINVAL;
	struct up_engine *e = calloc(1, sizeof(*e));
	if (e == NULL)
		return ENOMEM;
	e->o = *o;
	e->k = *sink;
	size_t cells = (size_t)o->nsym * o->rows;
	e->state = calloc(cells, 1);
	e->ends = calloc(o->rows, sizeof(*e->ends));
	e->close = calloc(cells, sizeof(double));
	e->sym = aligned_alloc(64, o->nsym * sizeof(*e->sym));
	size_t nf = (size_t)o->nsym * (o->iv.n ? o->iv.n : 1);
	e->f = aligned_alloc(64, nf * sizeof(*e->f)); /* a line each */
	e->rbuf = calloc(o->rows, sizeof(*e->rbuf));
	e->skip = calloc(o->nsym, 1);
	if (!e->state || !e->ends || !e->close || !e->sym || !e->f ||
	    !e->rbuf || !e->skip) {
		up_engine_free(e);
		return ENOMEM;
	}
	for (uint32_t i = 0; i < o->nsym; i++)
		e->sym[i] = (struct symst){ .prev_close = NAN };
	*out = e;
	return 0;
}

void up_engine_free(struct up_engine *e)
{
	if (e == NULL)
		return;
	free(e->state);
	free(e->ends);
	free(e->close);
	free(e->sym);
	free(e->f);
	free(e->pend);
	free(e->rbuf);
	free(e->skip);
	free(e);
}

const bb_session *up_engine_session(const struct up_engine *e)
{
	return &e->s;
}

int up_engine_finished(const struct up_engine *e)
{
	return e->finished;
}

int64_t up_engine_through(const struct up_engine *e)
{
	return e->through;
}

void up_engine_totals(const struct up_engine *e, uint64_t *bars,
                      uint64_t *fills, uint64_t *unfillable)
{
	*bars = e->bars;
	*fills = e->fills;
	*unfillable = e->unfillable;
}

/* Minute-major, as the tables: completing a minute goes through every
 * symbol's cell of it in one run of memory. */
static size_t cell(const struct up_engine *e, uint32_t sym, uint32_t m)
{
	return (size_t)m * e->o.nsym + sym;
}

/* The close sym's last minute of the session ended with; NaN: none. */
static double last_close(const struct up_engine *e, uint32_t sym)
{
	for (uint32_t m = e->minutes; m-- > 0;) {
		if (has_bar(e->state[cell(e, sym, m)]))
			return e->close[cell(e, sym, m)];
	}
	return NAN;
}

int up_engine_start(struct up_engine *e, const bb_session *s)
{
	int same = e->s.date == s->date && e->s.date != 0;
	uint32_t minutes = (uint32_t)((s->close - s->open) / 60);

	if (s->close <= s->open || minutes > e->o.rows)
		return BB_EGEOMETRY;
	for (uint32_t i = 0; i < e->o.nsym; i++) {
		struct symst *y = &e->sym[i];
		double pc = y->prev_close;
		int asked = y->asked;
		if (!same && e->active && !e->o.fresh) {
			pc = last_close(e, i);
			asked = !isnan(pc);
		} else if (!same) {
			pc = NAN;
			asked = 0;
		}
		*y = (struct symst){ .through = s->open - 60, .prev_close = pc,
		                     .asked = asked };
		for (uint32_t ki = 0; ki < e->o.iv.n; ki++)
			up_forming_reset(&e->f[(size_t)i * e->o.iv.n + ki]);
		if (e->k.reset != NULL) {
			int rc = e->k.reset(e->k.ctx, i);
			if (rc != 0)
				return rc;
		}
	}
	memset(e->state, 0, (size_t)e->o.nsym * e->o.rows);
	memset(e->ends, 0, e->o.rows * sizeof(*e->ends));
	for (uint32_t ki = 0; ki < e->o.iv.n; ki++)
		for (uint32_t i = 0; i < up_interval_count(s->open, s->close,
		                                           e->o.iv.min[ki]); i++)
			e->ends[(up_interval_last_minute(s->open, s->close, i,
			         e->o.iv.min[ki]) - s->open) / 60] |= 1u << ki;
	e->s = *s;
	e->minutes = minutes;
	e->active = 1;
	e->finished = 0;
	e->seen_real = 0;
	memset(e->skip, 0, e->o.nsym);
	e->through = s->open - 60;
	e->npend = 0;
	return 0;
}

static int put_quality(struct up_engine *e, uint32_t sym);
static int rederive_all(struct up_engine *e, const bb_bar *b);
static int ffill_deferred(struct up_engine *e);

/* Fold a taken 1-minute bar into every derived interval of sym; each
 * forming bar is handed to the sink as it stands. */
static int derive_all(struct up_engine *e, uint32_t sym, const bb_bar *b)
{
	uint32_t n = e->o.iv.n;
	struct up_forming *f = &e->f[(size_t)sym * n];
	int op[UP_MAX_INTERVALS];

	up_derive_fold(f, n, e->o.iv.min, e->s.open, e->s.close, b,
	               e->sym[sym].through, op);
	for (uint32_t ki = 0; ki < n; ki++) {
		if (op[ki] == UP_DERIVE_LATE) {
			e->sym[sym].underived++;
			continue;
		}
		int rc = e->k.derived(e->k.ctx, ki, sym, op[ki], &f[ki].bar);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* The 1-minute bar sym holds at minute u (other than the one being
 * replaced): 1 with *x, 0 when it is not known. */
static int bar_at(struct up_engine *e, uint32_t sym, uint32_t u,
                  const bb_bar *reals, size_t nr, bb_bar *x)
{
	int64_t t = e->s.open + (int64_t)u * 60;
	double c = e->close[cell(e, sym, u)];

	switch (e->state[cell(e, sym, u)]) {
	case M_REAL:
	case M_LATE:
		for (size_t i = 0; i < nr; i++)
			if (reals[i].time == t && reals[i].symbol == sym) {
				*x = reals[i];
				return 1;
			}
		return 0;
	case M_FILLED:
		if (e->k.lookup(e->k.ctx, sym, t, x) != 0 || x->time != t)
			return 0;
		x->flags = BB_BAR_FILLED;
		return 1;
	case M_SYNTH:
		*x = (bb_bar){ .symbol = sym, .time = t, .open = c, .high = c,
		               .low = c, .close = c, .flags = BB_BAR_SYNTHETIC };
		return 1;
	}
	return 0;
}

/*
 * Interval ki of b's symbol, the latest row, built again from its minutes
 * with b in place of the fill or synthetic bar it had: real bars from the
 * sink (the session table), fills from the store, synthetic bars from
 * their close. The row is rewritten; partial or final as it was.
 */
static int rederive(struct up_engine *e, uint32_t ki, const bb_bar *b)
{
	uint32_t sym = b->symbol, k = e->o.iv.min[ki];
	struct up_forming *f = &e->f[(size_t)sym * e->o.iv.n + ki];
	uint32_t idx = up_interval_index(e->s.open, b->time, k);
	int64_t from = up_interval_start(e->s.open, idx, k);
	int64_t last = up_interval_last_minute(e->s.open, e->s.close, idx, k);
	size_t nr = 0;
	bb_bar x, out;

	if (f->idx >= 0 && idx < (uint32_t)f->idx) {
		e->sym[sym].underived++; /* a table rewrites its latest row only */
		return 0;
	}
	if (f->idx < 0 || idx > (uint32_t)f->idx) { /* nothing of it folded */
		int op = up_derive_add(f, e->s.open, e->s.close, k, b,
		                       e->sym[sym].through, &out);
		return e->k.derived(e->k.ctx, ki, sym, op, &out);
	}
	if (e->k.reals != NULL &&
	    e->k.reals(e->k.ctx, sym, from, last + 60, e->rbuf, e->o.rows,
	               &nr) != 0)
		nr = 0;
	up_forming_reset(f);
	for (int64_t t = from; t <= last; t += 60) {
		uint32_t u = (uint32_t)((t - e->s.open) / 60);
		if (t == b->time)
			x = *b;
		else if (!bar_at(e, sym, u, e->rbuf, nr, &x))
			continue;
		up_derive_add(f, e->s.open, e->s.close, k, &x, e->sym[sym].through,
		              &out);
	}
	return e->k.derived(e->k.ctx, ki, sym, UP_DERIVE_REPLACE, &out);
}

static int rederive_all(struct up_engine *e, const bb_bar *b)
{
	for (uint32_t ki = 0; ki < e->o.iv.n; ki++) {
		int rc = rederive(e, ki, b);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Derived bars of sym whose last minute is now complete lose partial:
 * those of the intervals in mask (bit ki: interval ki). */
static int finalize(struct up_engine *e, uint32_t sym, int64_t through,
                    uint32_t mask)
{
	bb_bar out;

	for (uint32_t ki = 0; mask >> ki != 0; ki++) {
		if (!(mask >> ki & 1))
			continue;
		struct up_forming *f = &e->f[(size_t)sym * e->o.iv.n + ki];
		if (up_derive_complete(f, e->s.open, through, &out)) {
			int rc = e->k.derived(e->k.ctx, ki, sym, UP_DERIVE_FINAL, &out);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

/*
 * Minute m of sym was settled (a fill, a synthetic bar, a gap retried or
 * given up) and real bar b came for it: the counts move to real (and
 * late), and derived bars that held a fill or a synthetic bar for m are
 * built again with b instead.
 */
static int real_over_settled(struct up_engine *e, const bb_bar *b,
                             uint8_t was)
{
	struct symst *y = &e->sym[b->symbol];
	size_t c = cell(e, b->symbol, (uint32_t)((b->time - e->s.open) / 60));

	switch (was) {
	case M_PENDING:    y->pending--; break;
	case M_FILLED:     y->filled--; break;
	case M_SYNTH:      y->synthetic--; y->unfillable--; break;
	case M_UNFILLABLE: y->unfillable--; break;
	}
	y->real++;
	y->late++;
	e->state[c] = M_LATE;
	e->close[c] = b->close;
	e->bars++;
	int rc = was == M_FILLED || was == M_SYNTH ? rederive_all(e, b)
	         : derive_all(e, b->symbol, b);
	return rc != 0 ? rc : put_quality(e, b->symbol);
}

int up_engine_bar(struct up_engine *e, const bb_bar *b)
{
	/* One division (by a constant: a multiplication) for the minute and
	 * whether it is whole; unsigned: b->time is not checked yet. */
	uint64_t d = (uint64_t)b->time - (uint64_t)e->s.open;
	uint32_t m = (uint32_t)(d / 60);

	if (!e->active || e->finished || BB_KIND(b->flags) != BB_KIND_BAR ||
	    b->symbol >= e->o.nsym || b->time < e->s.open ||
	    b->time >= e->s.close || d % 60 != 0)
		return 0;
	if (!e->seen_real) {
		int rc = ffill_deferred(e);
		if (rc != 0)
			return rc;
	}
	size_t c = cell(e, b->symbol, m);
	uint8_t was = e->state[c];
	if (was == M_REAL || was == M_LATE)
		return 0; /* a duplicate */
	if (was != M_NONE || b->time <= e->sym[b->symbol].through) {
		int rc = real_over_settled(e, b, was);
		return rc != 0 ? rc : 1;
	}
	e->state[c] = (b->flags & BB_BAR_LATE) ? M_LATE : M_REAL;
	e->close[c] = b->close;
	e->bars++;
	int rc = derive_all(e, b->symbol, b);
	return rc != 0 ? rc : 1;
}

void up_engine_prefetch(const struct up_engine *e, uint32_t sym)
{
	if (sym >= e->o.nsym)
		return;
	for (uint32_t ki = 0; ki < e->o.iv.n; ki++)
		__builtin_prefetch(&e->f[(size_t)sym * e->o.iv.n + ki], 1, 3);
	__builtin_prefetch(&e->sym[sym], 1, 3);
}

static int put_quality(struct up_engine *e, uint32_t sym)
{
	bb_quality q;

	if (e->k.quality == NULL)
		return 0;
	up_engine_quality(e, sym, &q);
	return e->k.quality(e->k.ctx, sym, &q);
}

int up_engine_quality(const struct up_engine *e, uint32_t sym, bb_quality *q)
{
	if (sym >= e->o.nsym)
		return BB_EINVAL;
	const struct symst *y = &e->sym[sym];
	uint32_t exp = e->active ? (uint32_t)((y->through - e->s.open) / 60 + 1)
	                         : 0;
	*q = (bb_quality){
		.expected = exp, .real = y->real, .filled = y->filled,
		.synthetic = y->synthetic, .unfillable = y->unfillable,
		.pending = y->pending, .date = e->s.date, .late = y->late,
		.quality = exp ? 100.0 * y->real / exp : 100.0,
		.quality_with_fills = exp ? 100.0 * (y->real + y->filled) / exp
		                          : 100.0,
		.underived = y->underived,
	};
	return 0;
}

/* Minute m of sym becomes bar b (filled or synthetic). */
static int take(struct up_engine *e, uint32_t sym, uint32_t m, bb_bar *b,
                uint8_t st)
{
	b->symbol = sym;
	b->time = e->s.open + (int64_t)m * 60;
	b->flags = st == M_FILLED ? BB_BAR_FILLED : BB_BAR_SYNTHETIC;
	e->state[cell(e, sym, m)] = st;
	e->close[cell(e, sym, m)] = b->close;
	int rc = e->k.fill(e->k.ctx, sym, b);
	return rc != 0 ? rc : derive_all(e, sym, b);
}

/* The store has minute m of sym: 1 (filled), 0 (not there). */
static int try_fill(struct up_engine *e, uint32_t sym, uint32_t m, int *rc)
{
	bb_bar b;
	int64_t t = e->s.open + (int64_t)m * 60;

	*rc = 0;
	if (e->k.lookup(e->k.ctx, sym, t, &b) != 0 || b.time != t ||
	    !isfinite(b.close))
		return 0;
	e->sym[sym].filled++;
	e->fills++;
	*rc = take(e, sym, m, &b, M_FILLED);
	return 1;
}

/* The close before minute m of sym: this session's, or the previous one's. */
static double close_before(struct up_engine *e, uint32_t sym, uint32_t m)
{
	struct symst *y = &e->sym[sym];

	while (m-- > 0) {
		if (has_bar(e->state[cell(e, sym, m)]))
			return e->close[cell(e, sym, m)];
	}
	if (isnan(y->prev_close) && !y->asked && e->k.prev_close != NULL) {
		double c;
		y->asked = 1;
		if (e->k.prev_close(e->k.ctx, sym, e->s.open, &c) == 0)
			y->prev_close = c;
	}
	return y->prev_close;
}

/*
 * Unfillable minute m of sym under ffill: a flat bar if a close is known.
 * Not before the session has a real bar (of any symbol): a session the
 * store lacks entirely is not made up of flat bars. Minutes given up
 * before the first real bar get theirs when it comes (ffill_deferred).
 */
static int synthesize(struct up_engine *e, uint32_t sym, uint32_t m)
{
	if (e->o.gap_policy != UP_GAP_FFILL || !e->seen_real)
		return 0;
	double c = close_before(e, sym, m);
	if (isnan(c))
		return 0;
	bb_bar b = { .open = c, .high = c, .low = c, .close = c, .volume = 0 };
	e->sym[sym].synthetic++;
	return take(e, sym, m, &b, M_SYNTH);
}

/* Minute m of sym is unfillable. */
static int give_up(struct up_engine *e, uint32_t sym, uint32_t m)
{
	e->sym[sym].unfillable++;
	e->unfillable++;
	e->state[cell(e, sym, m)] = M_UNFILLABLE;
	return synthesize(e, sym, m);
}

/* The session's first real bar came: the minutes given up before it get
 * their flat bars now, in minute order per symbol (as they would have). */
static int ffill_deferred(struct up_engine *e)
{
	e->seen_real = 1;
	if (e->o.gap_policy != UP_GAP_FFILL)
		return 0;
	for (uint32_t sym = 0; sym < e->o.nsym; sym++) {
		const struct symst *y = &e->sym[sym];
		for (uint32_t m = 0; e->s.open + (int64_t)m * 60 <= y->through; m++) {
			if (e->state[cell(e, sym, m)] != M_UNFILLABLE)
				continue;
			int rc = synthesize(e, sym, m);
			if (rc != 0)
				return rc;
		}
		int rc = y->through >= e->s.open ? put_quality(e, sym) : 0;
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int push_pending(struct up_engine *e, uint32_t sym, uint32_t m,
                        int64_t now_ns)
{
	if (e->npend == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 256;
		struct pend *p = realloc(e->pend, cap * sizeof(*p));
		if (p == NULL)
			return ENOMEM;
		e->pend = p;
		e->cap = cap;
	}
	e->pend[e->npend++] = (struct pend){
		.sym = sym, .minute = m,
		.due_ns = now_ns + (int64_t)e->o.backoff_ms * 1000000,
	};
	e->state[cell(e, sym, m)] = M_PENDING;
	e->sym[sym].pending++;
	return 0;
}

/* Minute t of sym is complete. */
static int complete_one(struct up_engine *e, uint32_t sym, uint32_t m,
                        int64_t now_ns)
{
	struct symst *y = &e->sym[sym];
	int rc = 0;

	y->through = e->s.open + (int64_t)m * 60;
	switch (e->state[cell(e, sym, m)]) {
	case M_LATE:
		y->late++;
		/* fall through */
	case M_REAL:
		y->real++;
		break;
	case M_NONE:
		if (try_fill(e, sym, m, &rc))
			break;
		if (e->o.retries && e->o.max_retries > 0)
			rc = push_pending(e, sym, m, now_ns);
		else
			rc = give_up(e, sym, m);
		break;
	}
	/* Only a minute that ends an interval can end a partial bar: a bar
	 * folded in later than its interval's end is final at once. */
	return rc != 0 || e->ends[m] == 0 ? rc
	       : finalize(e, sym, y->through, e->ends[m]);
}

void up_engine_follow(struct up_engine *e, uint32_t sym, int on)
{
	if (sym < e->o.nsym)
		e->skip[sym] = !on;
}

/* Minutes of sym after its clock up to t (< close, > its clock). */
static int complete_upto(struct up_engine *e, uint32_t sym, int64_t t,
                         int64_t now_ns)
{
	uint32_t m = (uint32_t)((e->sym[sym].through + 60 - e->s.open) / 60);
	uint32_t last = (uint32_t)((t - e->s.open) / 60);

	for (; m <= last; m++) {
		int rc = complete_one(e, sym, m, now_ns);
		if (rc != 0)
			return rc;
	}
	return put_quality(e, sym);
}

int up_engine_complete_sym(struct up_engine *e, uint32_t sym, int64_t t,
                           int64_t now_ns)
{
	if (!e->active || e->finished || sym >= e->o.nsym || e->skip[sym])
		return 0;
	if (t > e->s.close - 60)
		t = e->s.close - 60;
	return e->sym[sym].through >= t ? 0 : complete_upto(e, sym, t, now_ns);
}

void up_engine_set_through(struct up_engine *e, int64_t t)
{
	if (t > e->s.close - 60)
		t = e->s.close - 60;
	if (t > e->through)
		e->through = t;
}

int up_engine_complete(struct up_engine *e, int64_t t, uint32_t nsym_live,
                       int64_t now_ns)
{
	if (nsym_live > e->o.nsym)
		nsym_live = e->o.nsym;
	if (!e->active)
		return 0;
	if (t > e->s.close - 60)
		t = e->s.close - 60;
	/* up_engine_complete_sym() of each symbol, its checks made once. */
	for (uint32_t sym = 0; !e->finished && sym < nsym_live; sym++) {
		if (e->skip[sym] || e->sym[sym].through >= t)
			continue;
		int rc = complete_upto(e, sym, t, now_ns);
		if (rc != 0)
			return rc;
	}
	up_engine_set_through(e, t);
	return 0;
}

/* Entry i is settled: a fill, or given up after its last try (force). */
static int settle(struct up_engine *e, struct pend *p, int force,
                  int64_t now_ns, int *done)
{
	int rc = 0;

	*done = 1;
	if (e->state[cell(e, p->sym, p->minute)] != M_PENDING)
		return 0; /* a real bar came meanwhile */
	e->sym[p->sym].pending--;
	e->state[cell(e, p->sym, p->minute)] = M_NONE;
	if (try_fill(e, p->sym, p->minute, &rc))
		return rc;
	if (!force && ++p->tries < e->o.max_retries) {
		e->state[cell(e, p->sym, p->minute)] = M_PENDING;
		e->sym[p->sym].pending++;
		p->due_ns = now_ns + ((int64_t)e->o.backoff_ms * 1000000 << p->tries);
		*done = 0;
		return 0;
	}
	return give_up(e, p->sym, p->minute);
}

/* Retries due (force: all of them, for the last time), in minute order. */
static int run_pending(struct up_engine *e, int64_t now_ns, int force)
{
	size_t keep = 0;
	int rc = 0;

	for (size_t i = 0; i < e->npend; i++) {
		struct pend p = e->pend[i];
		int done = 0;
		if (rc == 0 && (force || p.due_ns <= now_ns)) {
			rc = settle(e, &p, force, now_ns, &done);
			if (rc == 0 && done)
				rc = put_quality(e, p.sym);
		}
		if (!done)
			e->pend[keep++] = p;
	}
	e->npend = keep;
	return rc;
}

int up_engine_retry(struct up_engine *e, int64_t now_ns)
{
	return e->active && !e->finished ? run_pending(e, now_ns, 0) : 0;
}

int up_engine_finish(struct up_engine *e, uint32_t nsym_live)
{
	if (!e->active || e->finished)
		return 0;
	int rc = up_engine_complete(e, e->s.close - 60, nsym_live, 0);
	if (rc == 0)
		rc = run_pending(e, 0, 1);
	for (uint32_t sym = 0; rc == 0 && sym < e->o.nsym; sym++)
		rc = finalize(e, sym, e->s.close - 60, (1u << e->o.iv.n) - 1);
	if (rc == 0)
		e->finished = 1;
	return rc;
}
