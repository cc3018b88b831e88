/*
 * feed.c: what each live feed line makes the bus do.
 *
 * Lines become actions (session start and end, bars, minute ends) decided
 * at once, in feed order; co_feed_flush() first writes the new bars to the
 * store in one transaction, then publishes the actions. So every bar a
 * reader can see is already in the store for a restart to find.
 *
 * A bar of a minute already ended is late: stored (the upkeep may fill the
 * gap from there) but never published. A bar of a symbol and minute already
 * published is a duplicate: neither stored nor published.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "live.h"

int co_feed_init(struct co_feed *f, struct co_pub *p, bb_store *st,
                 const bb_calendar *cal, const char *name)
{
	memset(f, 0, sizeof(*f));
	f->p = p;
	f->st = st;
	f->cal = cal;
	f->name = name;
	f->last_t = malloc(sizeof(int64_t) * p->g.table_symbols);
	if (f->last_t == NULL)
		return ENOMEM;
	for (uint32_t i = 0; i < p->g.table_symbols; i++)
		f->last_t[i] = INT64_MIN;
	return 0;
}

void co_feed_free(struct co_feed *f)
{
	free(f->last_t);
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
	bb__ctl_add(f->p->ctl, BB_CTR_FEED_BAD, 1);
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
	for (uint32_t i = 0; i < f->p->g.table_symbols; i++)
		f->last_t[i] = INT64_MIN;
	return act(f, &a);
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
		return 1; /* a session already over: late, below */
	*rc = co_feed_start_session(f, &s);
	return *rc == 0;
}

static int late(struct co_feed *f, const bb_bar *b)
{
	bb_bar old;

	if (bb_store_get(f->st, b->symbol, b->time, &old) == 0) {
		bb__ctl_add(f->p->ctl, BB_CTR_FEED_DUPLICATES, 1);
		return 0;
	}
	bb__ctl_add(f->p->ctl, BB_CTR_FEED_LATE, 1);
	return keep(f, b);
}

/* Place a valid bar: publish, or count it late or duplicate. */
static int place(struct co_feed *f, const bb_bar *b)
{
	int rc = 0;

	if (!session_for(f, b, &rc))
		return rc;
	if (!f->open || b->time < f->minute)
		return late(f, b);
	while (rc == 0 && f->minute < b->time)
		rc = co_feed_minute_end(f);
	if (rc != 0)
		return rc;
	if (f->last_t[b->symbol] == b->time) {
		bb__ctl_add(f->p->ctl, BB_CTR_FEED_DUPLICATES, 1);
		return 0;
	}
	f->last_t[b->symbol] = b->time;
	f->minute_bars++;
	struct co_act a = { .kind = BB_KIND_BAR, .bar = *b };
	rc = keep(f, b);
	return rc == 0 ? act(f, &a) : rc;
}

/* Store id of the row's symbol, adding it to store and directory. */
static int symbol_id(struct co_feed *f, const char *name, uint32_t *id)
{
	int rc = bb_store_symbol_id(f->st, name, id);

	if (rc == BB_ENOTFOUND) {
		rc = bb_store_symbol_add(f->st, name, id);
		if (rc == 0)
			rc = co_pub_sync_symbols(f->p, f->st);
	}
	return rc;
}

int co_feed_line(struct co_feed *f, const char *s, size_t n)
{
	char reason[BB__CSV_REASON_MAX];
	bb__csv_row row;
	uint32_t id;

	f->lineno++;
	bb__ctl_add(f->p->ctl, BB_CTR_FEED_LINES, 1);
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
	if (rc == 0 && id >= f->p->g.table_symbols)
		rc = BB_EFULL;
	if (rc != 0) {
		snprintf(reason, sizeof(reason), "symbol %s: %s", row.symbol,
		         bb_strerror(rc));
		bad(f, reason);
		return 0;
	}
	row.bar.symbol = id;
	return place(f, &row.bar);
}

static int run_act(struct co_feed *f, const struct co_act *a)
{
	struct co_pub *p = f->p;

	switch (a->kind) {
	case BB_KIND_BAR:
		return co_pub_bar(p, &a->bar);
	case BB_KIND_MINUTE_END:
		co_pub_minute_end(p, a->bar.time);
		return 0;
	case BB_KIND_SESSION_END:
		co_pub_session_end(p, a->reason);
		return 0;
	}
	if (p->st.sessions == 0)
		p->st.sessions = p->g.history; /* see backtest.c */
	int rc = co_pub_history_fill(p, f->st, f->cal, &a->s, p->st.sessions + 1);
	co_pub_session_start(p, &a->s, 0);
	return rc;
}

int co_feed_flush(struct co_feed *f)
{
	int rc = 0;

	if (f->nkeep > 0 && (rc = bb_store_put(f->st, f->keep, f->nkeep, NULL))) {
		/* The bus goes on; a restart may then miss these bars. */
		fprintf(stderr, "%s: storing %zu bars: %s\n", f->name, f->nkeep,
		        bb_strerror(rc));
		bb__ctl_add(f->p->ctl, BB_CTR_STORE_ERRORS, 1);
		rc = 0; /* not fatal, with or without actions to run */
	}
	for (size_t i = 0; i < f->nacts && (rc = run_act(f, &f->acts[i])) == 0; i++)
		;
	f->nkeep = f->nacts = 0;
	return rc;
}
