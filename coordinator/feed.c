/*
 * feed.c: what each live feed line makes the bus do.
 *
 * Lines become actions (session start and end, bars, minute ends) decided
 * at once, in feed order; co_feed_flush() first writes the new bars to the
 * store in one transaction, then publishes the actions. So every bar a
 * reader can see is already in the store for a restart to find.
 *
 * A bar of a minute already complete (older than the clock) is late: it
 * is stored and published, flagged BB_BAR_LATE, on the ring and appended to
 * the session table in arrival order (readers that want time order sort;
 * bb_bars() does). A bar of a symbol and minute already published is a
 * duplicate: counted, told once per minute, neither stored nor published.
 * A bar of a session already ended is stale: stored only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "live.h"

int co_feed_init(struct co_feed *f, struct bb__bw *p, bb_store *st,
                 const bb_calendar *cal, const char *name)
{
	memset(f, 0, sizeof(*f));
	f->p = p;
	f->st = st;
	f->cal = cal;
	f->name = name;
	f->prev_t = INT64_MIN;
	f->dup_logged = INT64_MIN;
	f->done_bytes = ((size_t)bb__bw_geom(p)->table_symbols *
	                 bb__bw_geom(p)->rows + 7) / 8; /* a bit per minute */
	f->done = calloc(f->done_bytes, 1);
	return f->done == NULL ? ENOMEM : 0;
}

void co_feed_free(struct co_feed *f)
{
	free(f->done);
	free(f->acts);
	free(f->keep);
}

static int grow(void **a, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : 256;
	void *q = realloc(*a, c * size);
	if (q == NULL)
		return ENOMEM;
	*a = q;
	*cap = c;
	return 0;
}

static int act(struct co_feed *f, const struct co_act *a)
{
	int rc = grow((void **)&f->acts, &f->cap_acts, f->nacts, sizeof(*a));

	if (rc == 0)
		f->acts[f->nacts++] = *a;
	return rc;
}

static int keep(struct co_feed *f, const bb_bar *b)
{
	int rc = grow((void **)&f->keep, &f->cap_keep, f->nkeep, sizeof(*b));

	if (rc == 0)
		f->keep[f->nkeep++] = *b;
	return rc;
}

static void bad(struct co_feed *f, const char *reason)
{
	fprintf(stderr, "%s:%llu: %s\n", f->name, (unsigned long long)f->lineno,
	        reason);
	bb__bw_count(f->p, BB_CTR_FEED_BAD, 1);
}

int co_feed_minute_end(struct co_feed *f)
{
	struct co_act a = { .kind = BB_KIND_MINUTE_END, .bar.time = f->minute };

	f->minute += 60;
	f->minute_bars = 0;
	return act(f, &a);
}

int co_feed_close_session(struct co_feed *f, int reason)
{
	struct co_act a = { .kind = BB_KIND_SESSION_END, .reason = reason };
	int rc = 0;

	/* At the close every minute is over; after a timeout only the one
	 * that had bars: the others never happened. */
	while (rc == 0 && f->minute < f->s.close &&
	       (reason == BB_END_CLOSE || f->minute_bars > 0))
		rc = co_feed_minute_end(f);
	if (rc == 0)
		rc = act(f, &a);
	f->open = 0;
	f->last_date = f->s.date;
	return rc;
}

int co_feed_start_session(struct co_feed *f, const bb_session *s)
{
	struct co_act a = { .kind = BB_KIND_SESSION_START, .s = *s };

	f->open = 1;
	f->s = *s;
	f->minute = s->open;
	f->minute_bars = 0;
	memset(f->done, 0, f->done_bytes);
	return act(f, &a);
}

/* Bit of b's symbol and minute in f->done; -1 outside the session. */
static int64_t done_bit(const struct co_feed *f, const bb_bar *b)
{
	const struct bb__bw_geom *g = bb__bw_geom(f->p);
	int64_t m = (b->time - f->s.open) / 60;

	if (b->time < f->s.open || m >= g->rows || b->symbol >= g->table_symbols)
		return -1;
	return (int64_t)b->symbol * g->rows + m;
}

int co_feed_published(const struct co_feed *f, const bb_bar *b)
{
	int64_t i = done_bit(f, b);

	return i >= 0 && (f->done[i / 8] >> (i % 8) & 1);
}

void co_feed_mark(struct co_feed *f, const bb_bar *b)
{
	int64_t i = done_bit(f, b);

	if (i >= 0)
		f->done[i / 8] |= (uint8_t)(1u << (i % 8));
}

/* The session bar b belongs in, opening or closing sessions on the way.
 * 1: go on; 0: b was dealt with (late or outside). */
static int session_for(struct co_feed *f, const bb_bar *b, int *rc)
{
	bb_session s;

	if (f->open && b->time >= f->s.close)
		*rc = co_feed_close_session(f, BB_END_CLOSE);
	if (*rc != 0 || f->open)
		return *rc == 0;
	if (bb_calendar_at(f->cal, b->time, &s) != 0) {
		bad(f, "bar outside every trading session of the calendar");
		return 0;
	}
	if (s.date <= f->last_date)
		return 1; /* a session already over: stale, below */
	*rc = co_feed_start_session(f, &s);
	return *rc == 0;
}

/* A bar of a symbol and minute already published: told once a minute. */
static int duplicate(struct co_feed *f, const bb_bar *b, const char *sym)
{
	char iso[24];

	bb__bw_count(f->p, BB_CTR_FEED_DUPLICATES, 1);
	if (f->dup_logged != b->time) {
		f->dup_logged = b->time;
		bb_time_format(b->time, iso);
		fprintf(stderr, "%s:%llu: %s %s: already published, duplicate "
		        "dropped (others of this minute are only counted)\n",
		        f->name, (unsigned long long)f->lineno, sym, iso);
	}
	return 0;
}

/* A bar of a session already over: stored for the upkeep and history. */
static int stale(struct co_feed *f, const bb_bar *b, const char *sym)
{
	bb_bar old;

	if (bb_store_get(f->st, b->symbol, b->time, &old) == 0)
		return duplicate(f, b, sym);
	bb__bw_count(f->p, BB_CTR_FEED_STALE, 1);
	return keep(f, b);
}

/* One clear word when the feed is not in time order (CO_FEED_ORDER_RUN
 * late bars in a row: not a few stragglers but, say, an export's
 * symbol-major order). */
static void order_warning(struct co_feed *f)
{
	if (f->order_warned || ++f->late_run < CO_FEED_ORDER_RUN)
		return;
	f->order_warned = 1;
	fprintf(stderr, "%s:%llu: %d bars in a row older than the feed clock: "
	        "the feed is not in time order (symbol-major, as barbus-export "
	        "writes?). A live feed must be in time order across symbols; "
	        "these bars are published late (counters feed_late, "
	        "feed_backwards)\n", f->name, (unsigned long long)f->lineno,
	        CO_FEED_ORDER_RUN);
}

/* Publish b (flags as given), store it, mark its minute done. */
static int publish(struct co_feed *f, const bb_bar *b)
{
	struct co_act a = { .kind = BB_KIND_BAR, .bar = *b };
	int rc = keep(f, b);

	co_feed_mark(f, b);
	return rc == 0 ? act(f, &a) : rc;
}

/* Place a valid bar: publish it (late if its minute is complete), or
 * count it duplicate or stale. */
static int place(struct co_feed *f, const bb_bar *b, const char *sym)
{
	int rc = 0;

	if (!session_for(f, b, &rc))
		return rc;
	if (!f->open || b->time < f->s.open)
		return stale(f, b, sym);
	if (co_feed_published(f, b))
		return duplicate(f, b, sym);
	if (b->time < f->minute) {
		bb_bar l = *b;
		l.flags |= BB_BAR_LATE;
		bb__bw_count(f->p, BB_CTR_FEED_LATE, 1);
		order_warning(f);
		return publish(f, &l);
	}
	f->late_run = 0;
	while (rc == 0 && f->minute < b->time)
		rc = co_feed_minute_end(f);
	if (rc != 0)
		return rc;
	f->minute_bars++;
	return publish(f, b);
}

/* Symbols the bus has room for: the directory and the tables. */
static uint32_t room(const struct co_feed *f)
{
	const struct bb__bw_geom *g = bb__bw_geom(f->p);

	return g->table_symbols < g->max_symbols ? g->table_symbols
	                                         : g->max_symbols;
}

/* Store id of the row's symbol, adding it to store and directory; BB_EFULL,
 * with nothing stored, when the bus has no room for a new one. */
static int symbol_id(struct co_feed *f, const char *name, uint32_t *id)
{
	uint32_t n;
	int rc = bb_store_symbol_id(f->st, name, id);

	if (rc == BB_ENOTFOUND) {
		rc = bb_store_symbol_count(f->st, &n);
		if (rc == 0 && n >= room(f))
			return BB_EFULL;
		if (rc == 0)
			rc = bb_store_symbol_add(f->st, name, id);
	}
	if (rc == 0 && *id >= room(f))
		return BB_EFULL;
	if (rc == 0 && *id >= bb__bw_nsym(f->p))
		rc = co_pub_sync_symbols(f->p, f->st);
	return rc;
}

/* A new symbol refused for want of room: told once per run of its lines. */
static void rejected(struct co_feed *f, const char *sym)
{
	const struct bb__bw_geom *g = bb__bw_geom(f->p);
	char why[BB__CSV_REASON_MAX];

	bb__bw_count(f->p, BB_CTR_SYMBOLS_REJECTED, 1);
	bb__bw_count(f->p, BB_CTR_FEED_BAD, 1);
	if (strcmp(f->rejected, sym) == 0)
		return;
	snprintf(f->rejected, sizeof(f->rejected), "%s", sym);
	if (g->table_symbols < g->max_symbols)
		snprintf(why, sizeof(why), "the tables have room for %u symbols "
		         "(max-symbols %u); restart the coordinator to size them "
		         "anew", g->table_symbols, g->max_symbols);
	else
		snprintf(why, sizeof(why), "max-symbols %u reached; restart the "
		         "coordinator with a larger --max-symbols", g->max_symbols);
	fprintf(stderr, "%s:%llu: symbol %s rejected, nothing stored: the bus "
	        "has %u symbols and %s\n", f->name, (unsigned long long)f->lineno,
	        sym, bb__bw_nsym(f->p), why);
}

int co_feed_line(struct co_feed *f, const char *s, size_t n)
{
	char reason[BB__CSV_REASON_MAX];
	bb__csv_row row;
	uint32_t id;

	f->lineno++;
	bb__bw_count(f->p, BB_CTR_FEED_LINES, 1);
	if (!f->have_hdr) {
		if (bb__csv_parse_header(&f->hdr, s, n, reason, sizeof(reason))) {
			bad(f, reason);
			return BB_EINVAL; /* without a header no line can be read */
		}
		f->have_hdr = 1;
		return 0;
	}
	if (bb__csv_parse_row(&f->hdr, s, n, &row, reason, sizeof(reason))) {
		bad(f, reason);
		return 0;
	}
	int rc = symbol_id(f, row.symbol, &id);
	if (rc == BB_EFULL) {
		rejected(f, row.symbol);
		return 0;
	}
	if (rc != 0) {
		snprintf(reason, sizeof(reason), "symbol %s: %s", row.symbol,
		         bb_strerror(rc));
		bad(f, reason);
		return 0;
	}
	row.bar.symbol = id;
	f->got_data = 1;
	if (row.bar.time < f->prev_t)
		bb__bw_count(f->p, BB_CTR_FEED_BACKWARDS, 1);
	f->prev_t = row.bar.time;
	return place(f, &row.bar, row.symbol);
}

static int run_act(struct co_feed *f, const struct co_act *a)
{
	struct bb__bw *p = f->p;

	switch (a->kind) {
	case BB_KIND_BAR:
		return bb__bw_bar(p, &a->bar);
	case BB_KIND_MINUTE_END:
		bb__bw_minute_end(p, a->bar.time);
		return 0;
	case BB_KIND_SESSION_END:
		bb__bw_session_end(p, a->reason);
		return 0;
	}
	bb__bw_number_fresh(p);
	int rc = co_pub_history_fill(p, f->st, f->cal, &a->s,
	                             bb__bw_status(p)->sessions + 1);
	bb__bw_session_start(p, &a->s, 0);
	return rc;
}

int co_feed_flush(struct co_feed *f)
{
	int rc = 0;

	if (f->nkeep > 0 && (rc = bb_store_put(f->st, f->keep, f->nkeep, NULL))) {
		/* The bus goes on; a restart may then miss these bars. */
		fprintf(stderr, "%s: storing %zu bars: %s\n", f->name, f->nkeep,
		        bb_strerror(rc));
		bb__bw_count(f->p, BB_CTR_STORE_ERRORS, 1);
		rc = 0; /* not fatal, with or without actions to run */
	}
	for (size_t i = 0; i < f->nacts && (rc = run_act(f, &f->acts[i])) == 0; i++)
		;
	f->nkeep = f->nacts = 0;
	return rc;
}
