/*
 * status.c: the upkeep's segments, all tables of the one table mechanism
 * (libshm/table.c):
 *
 *   up.fills      nsym x rows          filled and synthetic 1-minute bars
 *   up.<N>m       nsym x ceil(rows/N)  derived bars of N minutes
 *   up.quality    nsym x 1             a bb_quality per symbol
 *   up.status     (2 + B) x 1          info, intervals, block records
 *                                      (libshm/upkeep_status.h)
 *   up.fills.h    (B nsym) x rows      history: block k's symbol s is
 *   up.<N>m.h     (B nsym) x ceil(rows/N)   table symbol k * nsym + s
 *
 * B = history-days + 1 blocks (none with history off): the sessions kept
 * and the one being written. A block's record (struct bb__block) names its
 * session once the session is finished, and is zero while the block is
 * being filled, so readers never take a block that is not final. The
 * history takes each derived bar once it is final and every fill as made.
 *
 * One-row records are appended once after a reset, then rewritten in place
 * with bb_table_replace_last(), so readers get them whole or not at all.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "table.h"
#include "upkeep.h"
#include "upkeep_status.h"

_Static_assert(sizeof(bb_quality) == sizeof(bb_bar), "quality is a record");

/* Where one engine's output goes. */
struct up_target {
	struct up_segs *s;
	int             live;  /* current tables too; else a past session */
	int32_t         blk;   /* history block written; -1: none */
	int32_t         date;  /* its session */
};

#define PREV_DAYS 10   /* how far back the previous close is looked for */
#define PREV_CHUNK 512

struct up_segs {
	bb_table_writer *fills, *quality, *status;
	bb_table_writer *iv[UP_MAX_INTERVALS];
	bb_table_writer *hfills, *hiv[UP_MAX_INTERVALS]; /* NULL: no history */
	struct bb__table_geom g[UP_MAX_INTERVALS]; /* iv[k]'s, to prefetch */
	struct up_intervals ivs;
	uint32_t         nsym, rows, nblocks;
	struct bb__block map[BB_CTL_MAX_BLOCKS];
	struct up_target live, past;
	bb_upkeep_info   st;
	bb_store        *store;
	const bb_bus    *bus;
	bb_bar          *pbuf;   /* a past session's store bars of psym */
	size_t           pn;
	uint32_t         psym;
	bb_bar           prev[PREV_CHUNK]; /* looking for a previous close */
	uint32_t         work;   /* sink calls, for beating while busy */
};

/* Write a one-row record of sym: rewrite it, or append the first. */
static int put_one(bb_table_writer *w, uint32_t sym, const void *rec)
{
	bb_bar b;

	memcpy(&b, rec, sizeof(b));
	int rc = bb_table_replace_last(w, sym, &b);
	return rc == BB_EEMPTY ? bb_table_append(w, sym, &b) : rc;
}

static uint32_t iv_rows(uint32_t rows, uint32_t k)
{
	return (rows + k - 1) / k;
}

/* Fills are few: their tables are left to fault in; derived bars and
 * quality are written for every symbol every minute: populated. */
static int open_tables(struct up_segs *s, const char *bus,
                       const bb_seg_opts *o)
{
	char role[24];
	uint32_t nb = s->nblocks, n = s->nsym;
	bb_seg_opts dense = *o;
	int rc = bb_table_writer_open(&s->fills, bus, "up.fills", n, s->rows, o);

	dense.flags |= BB_SEG_POPULATE;
	bb_table_beat(s->status); /* each table may take a while to reserve */
	if (rc == 0)
		rc = bb_table_writer_open(&s->quality, bus, "up.quality", n, 1,
		                          &dense);
	if (rc == 0 && nb)
		rc = bb_table_writer_open(&s->hfills, bus, "up.fills.h", nb * n,
		                          s->rows, o);
	bb_table_beat(s->status);
	for (uint32_t k = 0; rc == 0 && k < s->ivs.n; k++) {
		uint32_t r = iv_rows(s->rows, s->ivs.min[k]);
		snprintf(role, sizeof(role), "up.%um", s->ivs.min[k]);
		rc = bb_table_writer_open(&s->iv[k], bus, role, n, r, &dense);
		bb_table_beat(s->status);
		snprintf(role, sizeof(role), "up.%um.h", s->ivs.min[k]);
		if (rc == 0 && nb)
			rc = bb_table_writer_open(&s->hiv[k], bus, role, nb * n, r,
			                          &dense);
	}
	return rc;
}

/* History blocks survive a restart only when every history table did. */
static int history_kept(const struct up_segs *s)
{
	int kept = s->nblocks && bb_table_writer_kept(s->status) &&
	           bb_table_writer_kept(s->hfills);

	for (uint32_t k = 0; kept && k < s->ivs.n; k++)
		kept = bb_table_writer_kept(s->hiv[k]);
	return kept;
}

/* What an earlier run left in up.status: its status, and its finished
 * blocks (when asked to). */
static void load_left(struct up_segs *s, const char *bus, int blocks)
{
	bb_table *t;

	if (bb_table_open(&t, bus, BB__UP_STATUS_ROLE) != 0)
		return;
	if (!blocks)
		bb_table_record(t, BB__UP_ROW_INFO, &s->st);
	for (uint32_t k = 0; blocks && k < s->nblocks; k++)
		bb_table_record(t, bb__up_block_row(k), &s->map[k]);
	bb_table_close(t);
}

int up_segs_new(struct up_segs **out, const char *bus,
                const struct up_intervals *iv, uint32_t history_days,
                const bb_seg_opts *o)
{
	struct up_segs *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return ENOMEM;
	*s = (struct up_segs){
		.ivs = *iv, .nblocks = history_days ? history_days + 1 : 0,
		.live = { .s = s, .live = 1, .blk = -1 },
		.past = { .s = s, .live = 0, .blk = -1 },
	};
	int rc = s->nblocks > BB_CTL_MAX_BLOCKS ? BB_EINVAL
	         : bb_table_writer_open(&s->status, bus, BB__UP_STATUS_ROLE,
	                                bb__up_status_symbols(s->nblocks), 1, o);
	if (rc != 0) {
		up_segs_close(s);
		return rc;
	}
	load_left(s, bus, 0);
	s->st.state = BB_UPKEEP_WAITING;
	s->st.nintervals = iv->n;
	/* Said at once: a coordinator starting a new run must not take the
	 * done_date an earlier run left for this run's handshake. */
	up_segs_status_put(s);
	*out = s;
	return 0;
}

/* A failed attach (a full /dev/shm): unlink every table this run created,
 * up.status included, keep what it adopted, so that no half-made set of
 * the upkeep's segments is left for readers to mistake for one. */
static void discard_tables(struct up_segs *s)
{
	for (uint32_t k = 0; k < UP_MAX_INTERVALS; k++) {
		bb_table_writer_discard(s->iv[k]);
		bb_table_writer_discard(s->hiv[k]);
	}
	bb_table_writer_discard(s->hfills);
	bb_table_writer_discard(s->quality);
	bb_table_writer_discard(s->fills);
	bb_table_writer_discard(s->status);
	memset(s->iv, 0, sizeof(s->iv));
	memset(s->hiv, 0, sizeof(s->hiv));
	s->hfills = s->quality = s->fills = s->status = NULL;
}

int up_segs_attach(struct up_segs *s, const char *bus, uint32_t nsym,
                   uint32_t rows, const bb_seg_opts *o)
{
	uint32_t list[UP_MAX_INTERVALS] = { 0 };

	s->nsym = nsym;
	s->rows = rows;
	if ((s->pbuf = calloc(rows, sizeof(*s->pbuf))) == NULL)
		return ENOMEM;
	int rc = open_tables(s, bus, o);
	if (rc != 0) {
		discard_tables(s);
		return rc;
	}
	for (uint32_t k = 0; k < s->ivs.n; k++)
		s->g[k] = *bb__table_writer_geom(s->iv[k]);
	if (history_kept(s))
		load_left(s, bus, 1);
	memcpy(list, s->ivs.min, s->ivs.n * sizeof(uint32_t));
	for (uint32_t k = 0; rc == 0 && k < s->nblocks; k++)
		rc = put_one(s->status, bb__up_block_row(k), &s->map[k]);
	if (rc == 0 &&
	    (rc = put_one(s->status, BB__UP_ROW_INTERVALS, list)) == 0)
		rc = put_one(s->status, BB__UP_ROW_INFO, &s->st);
	return rc;
}

void up_segs_close(struct up_segs *s)
{
	if (s == NULL)
		return;
	for (uint32_t k = 0; k < UP_MAX_INTERVALS; k++) {
		bb_table_writer_close(s->iv[k]);
		bb_table_writer_close(s->hiv[k]);
	}
	bb_table_writer_close(s->hfills);
	bb_table_writer_close(s->quality);
	bb_table_writer_close(s->fills);
	bb_table_writer_close(s->status);
	free(s->pbuf);
	free(s);
}

void up_segs_beat(struct up_segs *s)
{
	bb_table_beat(s->status);
	if (s->fills == NULL) /* not attached yet */
		return;
	bb_table_beat(s->fills);
	bb_table_beat(s->quality);
	if (s->hfills != NULL)
		bb_table_beat(s->hfills);
	for (uint32_t k = 0; k < s->ivs.n; k++) {
		bb_table_beat(s->iv[k]);
		if (s->hiv[k] != NULL)
			bb_table_beat(s->hiv[k]);
	}
}

/* Inline from the tables' geometry taken at attach: a few instructions a
 * table, not a call. */
void up_segs_prefetch(const struct up_segs *s, uint32_t sym)
{
	/* Not up.quality: it is written when a minute completes, for every
	 * symbol in a row, not when a bar comes. */
	if (sym >= s->nsym)
		return;
	for (uint32_t k = 0; k < s->ivs.n; k++)
		bb__table_prefetch_rows(&s->g[k], sym);
}

void up_segs_prefetch_far(const struct up_segs *s, uint32_t sym)
{
	if (sym >= s->nsym)
		return;
	for (uint32_t k = 0; k < s->ivs.n; k++)
		__builtin_prefetch(bb__table_state(&s->g[k], sym), 0, 3);
}

/* ---- history blocks -------------------------------------------------------- */

int up_segs_has_block(const struct up_segs *s, int32_t date)
{
	for (uint32_t k = 0; k < s->nblocks; k++)
		if (s->map[k].date == date)
			return 1;
	return 0;
}

/* The block for session `date`: its own, else an unused one, else the
 * oldest; never the block the other target is filling. -1: none. */
static int32_t choose_block(const struct up_segs *s, int32_t date,
                            int32_t busy)
{
	int32_t pick = -1;

	for (uint32_t k = 0; k < s->nblocks; k++) {
		if ((int32_t)k == busy)
			continue;
		if (s->map[k].date == date)
			return (int32_t)k;
		if (pick < 0 || (s->map[pick].date != 0 &&
		                 s->map[k].date < s->map[pick].date))
			pick = (int32_t)k;
	}
	return pick;
}

int up_segs_block_begin(struct up_segs *s, int live, const bb_session *ses)
{
	struct up_target *t = live ? &s->live : &s->past;
	const struct up_target *o = live ? &s->past : &s->live;

	if (t->blk >= 0 && t->date == ses->date)
		return 0; /* the same session again: same block */
	t->blk = choose_block(s, ses->date, o->blk);
	t->date = ses->date;
	if (t->blk < 0)
		return 0;
	struct bb__block *m = &s->map[t->blk];
	if (!live && m->date > ses->date) {
		t->blk = -1; /* older than all kept: it would go first */
		return 1;
	}
	*m = (struct bb__block){ 0 }; /* readers leave it while it fills */
	return put_one(s->status, bb__up_block_row((uint32_t)t->blk), m);
}

int up_segs_block_done(struct up_segs *s, int live, const bb_session *ses)
{
	struct up_target *t = live ? &s->live : &s->past;

	if (t->blk < 0 || t->date != ses->date)
		return 0;
	struct bb__block *m = &s->map[t->blk];
	*m = (struct bb__block){ .date = ses->date, .open = ses->open,
	                         .close = ses->close };
	t->blk = -1;
	return put_one(s->status, bb__up_block_row((uint32_t)(m - s->map)), m);
}

int up_segs_past_load(struct up_segs *s, uint32_t sym, const bb_session *ses)
{
	s->pn = 0;
	s->psym = sym;
	return s->store ? bb_store_range(s->store, sym, ses->open, ses->close,
	                                 s->pbuf, s->rows, &s->pn) : 0;
}

bb_upkeep_info *up_segs_status(struct up_segs *s)
{
	return &s->st;
}

void up_segs_status_put(struct up_segs *s)
{
	put_one(s->status, BB__UP_ROW_INFO, &s->st);
}

/* ---- the engines' sinks ------------------------------------------------------ */

/* Every WORK_BEAT sink calls the tables beat: a session rebuilt whole (10,000
 * symbols take seconds) shows the upkeep at work, which a coordinator
 * waiting at a boundary tells from an upkeep stopped or hung. */
#define WORK_BEAT 4096

static void working(struct up_segs *s)
{
	if (++s->work % WORK_BEAT == 0)
		up_segs_beat(s);
}

/* Table symbol of sym in t's history block. */
static uint32_t hsym(const struct up_target *t, uint32_t sym)
{
	return (uint32_t)t->blk * t->s->nsym + sym;
}

/* Not inlined: its registers would be saved on every call of the short
 * path below. */
__attribute__((noinline))
static int derived_rest(struct up_target *t, uint32_t ki, uint32_t sym,
                        int op, const bb_bar *bar)
{
	struct up_segs *s = t->s;
	int rc = 0;

	if (t->live)
		rc = op == UP_DERIVE_APPEND ? bb_table_append(s->iv[ki], sym, bar)
		     : bb_table_replace_last(s->iv[ki], sym, bar);
	/* History holds final bars: a new one is appended, a final one
	 * rewritten (a late fill) replaces the history's latest. */
	if (rc != 0 || t->blk < 0 || (bar->flags & BB_BAR_PARTIAL))
		return rc;
	if (op == UP_DERIVE_REPLACE)
		return bb_table_replace_last(s->hiv[ki], hsym(t, sym), bar);
	return bb_table_append(s->hiv[ki], hsym(t, sym), bar);
}

/* Nearly every call is the forming bar of the session followed, rewritten
 * with one more minute: that alone is kept short (a tail call). */
static int sink_derived(void *ctx, uint32_t ki, uint32_t sym, int op,
                        const bb_bar *bar)
{
	struct up_target *t = ctx;

	if (t->live && op == UP_DERIVE_REPLACE &&
	    (t->blk < 0 || (bar->flags & BB_BAR_PARTIAL)))
		return bb_table_replace_last(t->s->iv[ki], sym, bar);
	return derived_rest(t, ki, sym, op, bar);
}

static int sink_fill(void *ctx, uint32_t sym, const bb_bar *bar)
{
	struct up_target *t = ctx;
	int rc = t->live ? bb_table_append(t->s->fills, sym, bar) : 0;

	if (rc == 0 && t->blk >= 0)
		rc = bb_table_append(t->s->hfills, hsym(t, sym), bar);
	return rc;
}

/* Once a minute for every symbol: rewritten in place, without a copy
 * (the table reads its record byte-wise, as put_one()'s). */
static int sink_quality(void *ctx, uint32_t sym, const bb_quality *q)
{
	struct up_target *t = ctx;

	working(t->s);
	if (!t->live)
		return 0;
	int rc = bb_table_replace_last(t->s->quality, sym, (const bb_bar *)q);
	return rc == BB_EEMPTY ? put_one(t->s->quality, sym, q) : rc;
}

static int sink_reset(void *ctx, uint32_t sym)
{
	struct up_target *t = ctx;
	struct up_segs *s = t->s;
	int rc = 0;

	working(s);
	if (t->live && (rc = bb_table_reset(s->fills, sym)) == 0)
		rc = bb_table_reset(s->quality, sym);
	for (uint32_t k = 0; rc == 0 && t->live && k < s->ivs.n; k++)
		rc = bb_table_reset(s->iv[k], sym);
	if (rc == 0 && t->blk >= 0)
		rc = bb_table_reset(s->hfills, hsym(t, sym));
	for (uint32_t k = 0; rc == 0 && t->blk >= 0 && k < s->ivs.n; k++)
		rc = bb_table_reset(s->hiv[k], hsym(t, sym));
	return rc;
}

/* A past session: the symbol's bars loaded by up_segs_past_load(). */
static int past_lookup(const struct up_segs *s, int64_t t, bb_bar *out)
{
	size_t lo = 0, hi = s->pn;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->pbuf[mid].time < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == s->pn || s->pbuf[lo].time != t)
		return BB_ENOTFOUND;
	*out = s->pbuf[lo];
	return 0;
}

static int sink_lookup(void *ctx, uint32_t sym, int64_t t, bb_bar *out)
{
	struct up_target *tg = ctx;
	struct up_segs *s = tg->s;

	if (!tg->live && sym == s->psym)
		return past_lookup(s, t, out);
	return s->store ? bb_store_get(s->store, sym, t, out) : BB_ENOTFOUND;
}


/* The last close of sym before open: from the bus's history, else the
 * store's last bar within PREV_DAYS days. */
static int sink_prev_close(void *ctx, uint32_t sym, int64_t open,
                           double *close)
{
	struct up_segs *s = ((struct up_target *)ctx)->s;
	bb_bar *buf = s->prev;
	size_t got = 0;
	int32_t date;
	int found = 0;

	if (s->bus != NULL && bb_history(s->bus, 1, sym, buf, PREV_CHUNK, &got,
	                                 &date) == 0 && got > 0 && got < PREV_CHUNK &&
	    buf[got - 1].time < open) {
		*close = buf[got - 1].close;
		return 0;
	}
	for (int64_t from = open - PREV_DAYS * 86400; s->store != NULL;) {
		if (bb_store_range(s->store, sym, from, open, buf, PREV_CHUNK,
		                   &got) != 0 || got == 0)
			break;
		*close = buf[got - 1].close;
		found = 1;
		if (got < PREV_CHUNK)
			break;
		from = buf[got - 1].time + 60;
	}
	return found && isfinite(*close) ? 0 : BB_ENOTFOUND;
}

/* sym's real bars of [from, to) in the session table (late ones are
 * appended after later minutes: any order). out holds rows bars. */
static int sink_reals(void *ctx, uint32_t sym, int64_t from, int64_t to,
                      bb_bar *out, size_t max, size_t *got)
{
	struct up_segs *s = ((struct up_target *)ctx)->s;
	size_t n = 0, keep = 0;

	*got = 0;
	if (s->bus == NULL)
		return BB_ENOTFOUND;
	int rc = bb_last_n(s->bus, sym, out, max, &n);
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (out[i].time >= from && out[i].time < to)
			out[keep++] = out[i];
	*got = keep;
	return rc;
}

void up_segs_sink(struct up_segs *s, int live, bb_store *st,
                  const bb_bus *bus, struct up_sink *out)
{
	s->store = st;
	s->bus = bus;
	*out = (struct up_sink){
		.ctx = live ? &s->live : &s->past, .derived = sink_derived,
		.fill = sink_fill, .quality = sink_quality, .reset = sink_reset,
		.lookup = sink_lookup, .prev_close = sink_prev_close,
		.reals = live ? sink_reals : NULL,
	};
}
