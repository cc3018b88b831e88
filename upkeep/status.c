/*
 * status.c: the upkeep's segments, all tables of the one table mechanism
 * (libshm/table.c):
 *
 *   up.fills    nsym x rows        filled and synthetic 1-minute bars
 *   up.<N>m     nsym x ceil(rows/N) derived bars of N minutes
 *   up.quality  nsym x 1           a bb_quality per symbol
 *   up.status   2 x 1              symbol 0: bb_upkeep_info; symbol 1:
 *                                  the intervals (u32 minutes x 14)
 *
 * One-row records are appended once after a reset, then rewritten in place
 * with bb_table_replace_last(), so readers get them whole or not at all.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "upkeep.h"

_Static_assert(sizeof(bb_quality) == sizeof(bb_bar), "quality is a record");
_Static_assert(sizeof(bb_upkeep_info) == sizeof(bb_bar), "status is a record");
_Static_assert(UP_MAX_INTERVALS * sizeof(uint32_t) == sizeof(bb_bar),
               "interval list is a record");

struct up_segs {
	bb_table_writer *fills, *quality, *status;
	bb_table_writer *iv[UP_MAX_INTERVALS];
	struct up_intervals ivs;
	bb_upkeep_info st;
	bb_store        *store;
	const bb_bus    *bus;
};

/* Write a one-row record of sym: rewrite it, or append the first. */
static int put_one(bb_table_writer *w, uint32_t sym, const void *rec)
{
	bb_bar b;

	memcpy(&b, rec, sizeof(b));
	int rc = bb_table_replace_last(w, sym, &b);
	return rc == BB_EEMPTY ? bb_table_append(w, sym, &b) : rc;
}

int up_segs_open(struct up_segs **out, const char *bus, uint32_t nsym,
                 uint32_t rows, const struct up_intervals *iv,
                 const bb_seg_opts *o)
{
	char role[16];
	struct up_segs *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return ENOMEM;
	s->ivs = *iv;
	int rc = bb_table_writer_open(&s->status, bus, "up.status", 2, 1, o);
	if (rc == 0)
		rc = bb_table_writer_open(&s->fills, bus, "up.fills", nsym, rows, o);
	if (rc == 0)
		rc = bb_table_writer_open(&s->quality, bus, "up.quality", nsym, 1, o);
	for (uint32_t k = 0; rc == 0 && k < iv->n; k++) {
		snprintf(role, sizeof(role), "up.%um", iv->min[k]);
		rc = bb_table_writer_open(&s->iv[k], bus, role, nsym,
		                          (rows + iv->min[k] - 1) / iv->min[k], o);
	}
	if (rc != 0) {
		up_segs_close(s);
		return rc;
	}
	/* Pick up the status left by an earlier run (sessions done, totals). */
	bb_table *t;
	if (bb_table_open(&t, bus, "up.status") == 0) {
		bb_bar b;
		if (bb_table_latest(t, 0, &b) == 0)
			memcpy(&s->st, &b, sizeof(s->st));
		bb_table_close(t);
	}
	uint32_t list[UP_MAX_INTERVALS] = { 0 };
	memcpy(list, iv->min, iv->n * sizeof(uint32_t));
	s->st.nintervals = iv->n;
	if ((rc = put_one(s->status, 1, list)) == 0)
		rc = put_one(s->status, 0, &s->st);
	if (rc != 0) {
		up_segs_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

void up_segs_close(struct up_segs *s)
{
	if (s == NULL)
		return;
	for (uint32_t k = 0; k < UP_MAX_INTERVALS; k++)
		bb_table_writer_close(s->iv[k]);
	bb_table_writer_close(s->quality);
	bb_table_writer_close(s->fills);
	bb_table_writer_close(s->status);
	free(s);
}

void up_segs_beat(struct up_segs *s)
{
	bb_table_beat(s->status);
	bb_table_beat(s->fills);
	bb_table_beat(s->quality);
	for (uint32_t k = 0; k < s->ivs.n; k++)
		bb_table_beat(s->iv[k]);
}

void up_segs_prefetch(const struct up_segs *s, uint32_t sym)
{
	bb_table_prefetch(s->quality, sym);
	for (uint32_t k = 0; k < s->ivs.n; k++)
		bb_table_prefetch(s->iv[k], sym);
}

bb_upkeep_info *up_segs_status(struct up_segs *s)
{
	return &s->st;
}

void up_segs_status_put(struct up_segs *s)
{
	put_one(s->status, 0, &s->st);
}

/* ---- the engine's sink ---------------------------------------------------- */

static int sink_derived(void *ctx, uint32_t ki, uint32_t sym, int op,
                        const bb_bar *bar)
{
	struct up_segs *s = ctx;

	if (op == UP_DERIVE_APPEND)
		return bb_table_append(s->iv[ki], sym, bar);
	return bb_table_replace_last(s->iv[ki], sym, bar);
}

static int sink_fill(void *ctx, uint32_t sym, const bb_bar *bar)
{
	struct up_segs *s = ctx;

	return bb_table_append(s->fills, sym, bar);
}

static int sink_quality(void *ctx, uint32_t sym, const bb_quality *q)
{
	struct up_segs *s = ctx;

	return put_one(s->quality, sym, q);
}

static int sink_reset(void *ctx, uint32_t sym)
{
	struct up_segs *s = ctx;
	int rc = bb_table_reset(s->fills, sym);

	if (rc == 0)
		rc = bb_table_reset(s->quality, sym);
	for (uint32_t k = 0; rc == 0 && k < s->ivs.n; k++)
		rc = bb_table_reset(s->iv[k], sym);
	return rc;
}

static int sink_lookup(void *ctx, uint32_t sym, int64_t t, bb_bar *out)
{
	struct up_segs *s = ctx;

	return s->store ? bb_store_get(s->store, sym, t, out) : BB_ENOTFOUND;
}

#define PREV_DAYS 10   /* how far back the previous close is looked for */
#define PREV_CHUNK 512

/* The last close of sym before open: from the bus's history, else the
 * store's last bar within PREV_DAYS days. */
static int sink_prev_close(void *ctx, uint32_t sym, int64_t open,
                           double *close)
{
	struct up_segs *s = ctx;
	static bb_bar buf[PREV_CHUNK];
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

void up_segs_sink(struct up_segs *s, bb_store *st, const bb_bus *bus,
                  struct up_sink *out)
{
	s->store = st;
	s->bus = bus;
	*out = (struct up_sink){
		.ctx = s, .derived = sink_derived, .fill = sink_fill,
		.quality = sink_quality, .reset = sink_reset,
		.lookup = sink_lookup, .prev_close = sink_prev_close,
	};
}
