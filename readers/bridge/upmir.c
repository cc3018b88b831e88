/*
 * upmir.c: `mirror`'s part for the upkeep's segments (docs/bridge.md).
 * The mirror is the local bus's upkeep: it holds up.status (the writer
 * lock barbus-upkeep holds) and writes every up.* table through the
 * upkeep's own writer (upkeep/status.c: up_segs_new, up_segs_attach, the
 * sinks of up_segs_sink, up_segs_block_begin/done, up_segs_status_put).
 * An UP frame's rows are applied by their index, so a frame delivered
 * again, or a whole state sent again by a restarted publisher, changes
 * nothing; history blocks come whole (UP_BLOCK) and replace the block's
 * rows of their symbols.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../upkeep/upkeep.h"
#include "clock.h"
#include "up.h"

#define BEAT_MS 50

struct br_upmir {
	struct br_opts  *o;
	struct br_js    *j;
	uint32_t         nsym, rows;
	char             subject[BB_NAME_MAX + 32]; /* barbus.<src>.upkeep */
	struct up_segs  *segs;   /* NULL until the first upkeep frame */
	struct up_sink   live, past;
	struct up_intervals iv;  /* the UP_HELLO's, with days and tag */
	uint32_t         days;
	int              hello;   /* iv, days and tag read, segs not made */
	bb_table        *fills, *ivr[UP_MAX_INTERVALS]; /* read: row counts */
	bb_bar          *rowbuf;
	int64_t          beat_ms;
	int              refused; /* the role taken by another: frames left */
	uint16_t         tag;     /* the UP_HELLO's (br_up_tag()) */
	int              stale;   /* frames of this tag are of a layout the
	                             stream's last UP_HELLO no longer has;
	                             -1: none */
};

int br_upmir_new(struct br_upmir **out, struct br_opts *o, struct br_js *j,
                 uint32_t nsym, uint32_t rows)
{
	struct br_upmir *u = calloc(1, sizeof(*u));
	size_t n = strlen(o->hello);

	if (u == NULL)
		return ENOMEM;
	*u = (struct br_upmir){ .o = o, .j = j, .nsym = nsym, .rows = rows,
	                        .stale = -1 };
	/* o->hello is "barbus.<src>.hello". */
	snprintf(u->subject, sizeof(u->subject), "%.*supkeep", (int)(n - 5),
	         o->hello);
	if ((u->rowbuf = malloc(rows * sizeof(*u->rowbuf))) == NULL) {
		free(u);
		return ENOMEM;
	}
	*out = u;
	return 0;
}

static void close_readers(struct br_upmir *u)
{
	bb_table_close(u->fills);
	u->fills = NULL;
	for (uint32_t k = 0; k < UP_MAX_INTERVALS; k++) {
		bb_table_close(u->ivr[k]);
		u->ivr[k] = NULL;
	}
}

void br_upmir_free(struct br_upmir *u)
{
	if (u == NULL)
		return;
	close_readers(u);
	up_segs_close(u->segs);
	free(u->rowbuf);
	free(u);
}

void br_upmir_beat(struct br_upmir *u)
{
	int64_t t = bb__mono_ms();

	if (u->segs != NULL && t - u->beat_ms >= BEAT_MS) {
		up_segs_beat(u->segs);
		u->beat_ms = t;
	}
}

/* The stream's last UP_HELLO: the intervals, history days and tag. */
static int up_hello(struct br_upmir *u, struct up_intervals *iv,
                    uint32_t *days, uint16_t *tag)
{
	natsMsg *msg = NULL;
	struct br_frame f;
	const char *why = "type";
	char reason[128];
	time_t until = time(NULL) + u->o->retry_s;
	int rc;

	/* The server may be restarting: asked again up to --retry. */
	while ((rc = br_js_last(u->j, u->o, u->subject, &msg)) == EIO &&
	       time(NULL) < until)
		nats_Sleep(200);
	if (rc != 0) {
		fprintf(stderr, "barbus-bridge: mirror %s: stream %s holds no "
		        "UP_HELLO on %s (%s)\n", u->o->bus, u->o->stream, u->subject,
		        bb_strerror(rc));
		return rc == BB_EEMPTY ? BB_ENOTFOUND : rc;
	}
	rc = br_frame_get((const uint8_t *)natsMsg_GetData(msg),
	                  (size_t)natsMsg_GetDataLength(msg), &f, &why);
	if (rc == 0 && f.type != BR_UP_HELLO)
		rc = BB_ECORRUPT;
	iv->n = f.nintervals;
	memcpy(iv->min, f.minutes, sizeof(iv->min));
	*days = f.history_days;
	*tag = f.flags;
	/* The list as barbus-upkeep takes it: no duplicates, 2m .. 1440m. */
	for (uint32_t k = 0; rc == 0 && k < iv->n; k++) {
		for (uint32_t i = 0; i < k; i++)
			rc |= iv->min[i] == iv->min[k] ? BB_ECORRUPT : 0;
		if (iv->min[k] < 2 || iv->min[k] > UP_MAX_INTERVAL_MIN)
			rc = BB_ECORRUPT;
		why = "minutes";
	}
	if (rc != 0) {
		snprintf(reason, sizeof(reason), "%s", why ? why : "");
		fprintf(stderr, "barbus-bridge: mirror %s: stream %s: UP_HELLO: "
		        "%s: %s\n", u->o->bus, u->o->stream, reason, bb_strerror(rc));
	}
	natsMsg_Destroy(msg);
	return rc;
}

/* Readers of the local up.fills and up.<N>m: how many rows each holds. */
static int open_readers(struct br_upmir *u)
{
	char role[24];
	int rc = bb_table_open(&u->fills, u->o->bus, "up.fills");

	for (uint32_t k = 0; rc == 0 && k < u->iv.n; k++) {
		snprintf(role, sizeof(role), "up.%um", u->iv.min[k]);
		rc = bb_table_open(&u->ivr[k], u->o->bus, role);
	}
	return rc;
}

/* Take the upkeep's role on the local bus: up.status (its lock; BB_EBUSY
 * while a barbus-upkeep runs there), then the tables. The status an
 * earlier mirror left is kept (its session date says what the current
 * tables hold). */
static int open_segs(struct br_upmir *u)
{
	bb_upkeep_info left = { 0 };
	bb_seg_opts so = { 0 };
	bb_table *t = NULL;
	int kept = 0, rc = u->hello ? 0 : up_hello(u, &u->iv, &u->days, &u->tag);

	u->hello = 0;

	if (rc == 0 && bb_table_open(&t, u->o->bus, "up.status") == 0)
		kept = bb_table_record(t, 0, &left) == 0;
	bb_table_close(t);
	if (rc == 0)
		rc = up_segs_new(&u->segs, u->o->bus, &u->iv, u->days, &so);
	if (rc == 0)
		rc = up_segs_attach(u->segs, u->o->bus, u->nsym, u->rows, &so);
	if (rc == 0)
		rc = open_readers(u);
	if (rc != 0) {
		fprintf(stderr, "barbus-bridge: mirror %s: the upkeep's segments: "
		        "%s\n", u->o->bus, rc == BB_EBUSY ? "another upkeep is "
		        "running on it" : bb_strerror(rc));
		close_readers(u);
		up_segs_close(u->segs);
		u->segs = NULL;
		return rc;
	}
	if (kept) {
		*up_segs_status(u->segs) = left;
		up_segs_status_put(u->segs);
	}
	up_segs_sink(u->segs, 1, NULL, NULL, &u->live);
	up_segs_sink(u->segs, 0, NULL, NULL, &u->past);
	return 0;
}

/* ---- UP, UP_END ------------------------------------------------------- */

/* A new session: every symbol's current rows emptied. */
static int new_session(struct br_upmir *u, const struct br_frame *f)
{
	int rc = 0;

	for (uint32_t sym = 0; rc == 0 && sym < u->nsym; sym++)
		rc = u->live.reset(u->live.ctx, sym);
	if (rc == 0) {
		up_segs_status(u->segs)->date = f->date;
		up_segs_status_put(u->segs);
	}
	return rc;
}

/* sym's fill `row`: appended when it is the next one. */
static int fill_row(struct br_upmir *u, uint32_t row, const bb_bar *b)
{
	uint32_t c = bb_table_count(u->fills, b->symbol);

	if (row < c)
		return 0;
	if (row > c)
		return BB_ECORRUPT; /* a row before it is missing */
	return u->live.fill(u->live.ctx, b->symbol, b);
}

/* sym's derived row `row` of interval k: appended when it is the next
 * one, the latest rewritten when it differs (final when it lost
 * PARTIAL), an earlier one left (rows before the latest never change). */
static int derived_row(struct br_upmir *u, uint32_t k, uint32_t row,
                       const bb_bar *b)
{
	uint32_t c = bb_table_count(u->ivr[k], b->symbol);
	bb_bar have;

	if (row > c)
		return BB_ECORRUPT;
	if (row == c)
		return u->live.derived(u->live.ctx, k, b->symbol, UP_DERIVE_APPEND, b);
	if (row + 1 < c || bb_table_latest(u->ivr[k], b->symbol, &have) != 0 ||
	    memcmp(&have, b, sizeof(have)) == 0)
		return 0;
	int op = (have.flags & BB_BAR_PARTIAL) && !(b->flags & BB_BAR_PARTIAL)
	         ? UP_DERIVE_FINAL : UP_DERIVE_REPLACE;
	return u->live.derived(u->live.ctx, k, b->symbol, op, b);
}

static void warn(const struct br_upmir *u, const struct br_frame *f,
                 const char *what, int rc)
{
	fprintf(stderr, "barbus-bridge: mirror %s: stream %s, upkeep frame of "
	        "type %u at position %llx: %s: %s\n", u->o->bus, u->o->stream,
	        f->type, (unsigned long long)f->pos, what, bb_strerror(rc));
}

static int up_rows(struct br_upmir *u, const struct br_frame *f)
{
	uint32_t table, row, sym;
	bb_quality q;
	bb_bar b;
	int rc;

	if (f->info.date != f->date)
		return 0; /* not the frame's session: nothing to say */
	if (up_segs_status(u->segs)->date != f->date &&
	    (rc = new_session(u, f)) != 0)
		return rc;
	for (uint32_t i = 0; i + f->nqual < f->count; i++) {
		br_item_get(f, i, &table, &row, &b);
		if (b.symbol >= u->nsym || table > u->iv.n)
			rc = BB_EINVAL;
		else if (table == BR_TABLE_FILLS)
			rc = fill_row(u, row, &b);
		else
			rc = derived_row(u, table - BR_TABLE_IV, row, &b);
		if (rc != 0)
			warn(u, f, table == BR_TABLE_FILLS ? "a fill" : "a derived bar",
			     rc);
	}
	for (uint32_t i = 0; i < f->nqual; i++) {
		br_quality_get(f, i, &sym, &q);
		if (sym >= u->nsym || (rc = u->live.quality(u->live.ctx, sym, &q)))
			warn(u, f, "a quality figure", sym >= u->nsym ? BB_EINVAL : rc);
	}
	/* The source upkeep's status, of the intervals carried. */
	*up_segs_status(u->segs) = f->info;
	up_segs_status(u->segs)->nintervals = u->iv.n;
	up_segs_status_put(u->segs);
	return 0;
}

/* ---- UP_BLOCK ------------------------------------------------------------ */

/* The chunk's symbols' rows of the block of its session, replaced whole;
 * the block named with the last chunk. */
static int block(struct br_upmir *u, const struct br_frame *f)
{
	uint32_t table, row;
	bb_bar b;
	int rc = up_segs_block_begin(u->segs, 0, &f->session);

	if (rc == 1)
		return 0; /* older than every block kept */
	for (uint32_t s = f->first; rc == 0 && s < f->first + f->nsym &&
	                            s < u->nsym; s++)
		rc = u->past.reset(u->past.ctx, s);
	for (uint32_t i = 0; rc == 0 && i < f->count; i++) {
		br_item_get(f, i, &table, &row, &b);
		if (b.symbol >= u->nsym || table > u->iv.n)
			warn(u, f, "an item", BB_EINVAL);
		else if (table == BR_TABLE_FILLS)
			rc = u->past.fill(u->past.ctx, b.symbol, &b);
		else
			rc = u->past.derived(u->past.ctx, table - BR_TABLE_IV, b.symbol,
			                     UP_DERIVE_APPEND, &b);
	}
	if (rc == 0 && (f->last & BR_BLOCK_LAST))
		rc = up_segs_block_done(u->segs, 0, &f->session);
	if (rc != 0)
		warn(u, f, "the history block", rc);
	return 0;
}

/*
 * A frame whose tag is not the UP_HELLO's: the source's upkeep changed its
 * layout (other intervals or history days; the publisher sent a new
 * UP_HELLO before the first frame of it), or the frame is older than that
 * change. The stream's last UP_HELLO says which: its tag is the frame's,
 * and the local segments are made again for it (1); or it is not, and
 * frames of that tag are left (0, said once).
 */
static void leave(struct br_upmir *u, const struct br_frame *f)
{
	if (u->stale == (int)f->flags)
		return;
	u->stale = f->flags;
	fprintf(stderr, "barbus-bridge: mirror %s: stream %s: the upkeep's "
	        "frames from position %llx on are of an earlier layout than its "
	        "last UP_HELLO; left\n", u->o->bus, u->o->stream,
	        (unsigned long long)f->pos);
}

static int relayout(struct br_upmir *u, const struct br_frame *f)
{
	struct up_intervals iv;
	uint32_t days;
	uint16_t tag;

	if ((int)f->flags == u->stale || up_hello(u, &iv, &days, &tag) != 0)
		return 0;
	if (tag != f->flags) {
		leave(u, f);
		return 0;
	}
	fprintf(stderr, "barbus-bridge: mirror %s: stream %s: the source's "
	        "upkeep has a new layout (%u intervals, %u history days); the "
	        "local upkeep segments follow it\n", u->o->bus, u->o->stream,
	        iv.n, days);
	close_readers(u);
	up_segs_close(u->segs);
	u->segs = NULL;
	u->stale = -1;
	/* open_segs() makes the segments for the UP_HELLO read here. */
	u->iv = iv;
	u->days = days;
	u->tag = tag;
	u->hello = 1;
	return 1;
}

int br_upmir_apply(struct br_upmir *u, const struct br_frame *f,
                   uint64_t current)
{
	int rc;

	if (f->pos >> 32 < current && f->type != BR_UP_BLOCK)
		return 0; /* an older session's: the current one is newer */
	if (u->refused)
		return 0;
	if (u->segs != NULL && f->flags != u->tag && !relayout(u, f))
		return 0;
	/* Without the role (a barbus-upkeep runs on the local bus, or the
	 * stream lacks the UP_HELLO) the upkeep's frames are left, said once. */
	if (u->segs == NULL && (rc = open_segs(u)) != 0) {
		u->refused = rc != ENOMEM && rc != EIO;
		return u->refused ? 0 : rc;
	}
	/* Opened just now under a later UP_HELLO than this frame's. */
	if (f->flags != u->tag) {
		leave(u, f);
		return 0;
	}
	br_upmir_beat(u);
	return f->type == BR_UP_BLOCK ? block(u, f) : up_rows(u, f);
}
