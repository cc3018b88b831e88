/*
 * follow.c: snapshot, then follow. The session table's bars, then the ring
 * from exactly the next record, with no gap and no duplicate.
 *
 * Why it is exact. The coordinator appends a bar to the session table
 * before it puts it on the ring, and only one thread writes both, so:
 *  - every bar on the ring before head H (read with acquire) is in the
 *    table when the snapshot is copied after reading H;
 *  - each symbol's bars reach the table and the ring in the same order, so
 *    the bars of symbol s on the ring from H that the snapshot already
 *    holds are the first ones of s from H. The first bar of s read from H
 *    is looked up in the snapshot (the whole record; a symbol has one bar
 *    per minute in a session): found at row i, it and the next cnt - i - 1
 *    bars of s are skipped; not found, none is.
 *  - a reset of the table (a new session, a restarted coordinator) during
 *    the copy would mix two sessions: each symbol's reset count is read
 *    before H and after the copy, and the snapshot is taken again if any
 *    changed.
 * Lapped, the follower re-snapshots and hands out the rows it had not yet
 * handed out: per symbol, rows [delivered, count) of the same reset count.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "barbus.h"
#include "control.h"
#include "table.h"

#define SNAPSHOT_TRIES 100 /* resets during the copy before giving up */

struct fsym {
	size_t   off;         /* first row in rows[] */
	uint32_t cnt;         /* rows copied */
	uint32_t gen;         /* reset count of the copy */
	uint32_t gen_new;     /* read before the copy */
	int      gen_known;   /* gen is from a snapshot */
	uint32_t delivered;   /* rows of gen handed out (snapshot + ring) */
	uint32_t since_start; /* bars handed out since the last SESSION_START */
	int64_t  skip;        /* ring bars still to skip; -1: not resolved */
};

struct bb_follow {
	char            bus[BB_NAME_MAX + 1];
	int             wait;
	bb_ring_reader *ring;
	bb_table       *tab;   /* bars.1m: the rows */
	struct bb__seg  seg;   /* bars.1m again: the symbols' state words */
	struct bb__table_geom g;
	uint32_t        nsym, starts; /* SESSION_STARTs since the snapshot */
	struct fsym    *sym;
	bb_bar         *rows, *view;
	size_t          rows_cap, view_n;
	int             view_own; /* view is its own array, not rows */
};

static uint32_t gen_of(const bb_follow *f, uint32_t s)
{
	/* Acquire pairs with the release store of state in bb_table_reset(). */
	return (uint32_t)(atomic_load_explicit(bb__table_state(&f->g, s),
	                                       memory_order_acquire) >> 32);
}

static int reserve(bb_follow *f, size_t n)
{
	if (n <= f->rows_cap)
		return 0;
	size_t cap = f->rows_cap ? f->rows_cap : 1024;
	while (cap < n)
		cap *= 2;
	bb_bar *p = realloc(f->rows, cap * sizeof(*p));
	if (p == NULL)
		return ENOMEM;
	f->rows = p;
	f->rows_cap = cap;
	return 0;
}

/* Bars held by s, read with acquire after the ring's head (see above). */
static uint32_t count_of(const bb_follow *f, uint32_t s)
{
	/* Acquire pairs with the release store of state in bb_table_append():
	 * the rows counted are complete. */
	return (uint32_t)atomic_load_explicit(bb__table_state(&f->g, s),
	                                      memory_order_acquire);
}

/* Row i of s into out; the latest row under its seqlock (rewritten in
 * place by a writer's replacement), the ones before it cannot change while
 * the reset count stays (checked by the caller after this). */
static int copy_row(const bb_follow *f, uint32_t s, uint32_t i, int latest,
                    bb_bar *out)
{
	const struct bb__slot *r = bb__table_row(&f->g, s, i);

	if (!latest) {
		bb__slot_copy(r, out);
		return 0;
	}
	for (int tries = 0; bb__slot_read(r, out) & 1;)
		if (++tries == BB_TABLE_TRIES)
			return BB_ERETRY;
	return 0;
}

/*
 * Copy every symbol's rows into f->rows, symbol after symbol; 0 or an
 * error. The rows are read minute-major, as they lie in the segment (row i
 * of every symbol, then row i + 1): a symbol's rows are a row of all
 * symbols apart, so reading them symbol by symbol would touch a new page
 * at every row, and the copy of a full table took tens of milliseconds.
 */
static int copy_all(bb_follow *f)
{
	uint32_t maxc = 0;
	size_t off = 0;

	for (uint32_t s = 0; s < f->nsym; s++) {
		uint32_t c = count_of(f, s);
		if (c > f->g.rows)
			return BB_EGEOMETRY;
		f->sym[s].off = off;
		f->sym[s].cnt = c;
		off += c;
		maxc = c > maxc ? c : maxc;
	}
	int rc = reserve(f, off ? off : 1);
	for (uint32_t i = 0; rc == 0 && i < maxc; i++)
		for (uint32_t s = 0; rc == 0 && s < f->nsym; s++) {
			struct fsym *y = &f->sym[s];
			if (i < y->cnt)
				rc = copy_row(f, s, i, i + 1 == y->cnt,
				              &f->rows[y->off + i]);
		}
	/* Acquire fence pairs with the release fence of a row write
	 * (seqlock.h): a reset whose rows any load above saw is visible to
	 * the caller's re-check of the reset counts. */
	atomic_thread_fence(memory_order_acquire);
	return rc;
}

/* One try: 0, BB_ERETRY when a reset came during it, or an error. */
static int snapshot_once(bb_follow *f)
{
	for (uint32_t s = 0; s < f->nsym; s++)
		f->sym[s].gen_new = gen_of(f, s);
	bb_ring_reader_close(f->ring);
	f->ring = NULL;
	int rc = bb_ring_reader_open(&f->ring, f->bus, f->wait, 0);
	if (rc == 0)
		rc = copy_all(f);
	for (uint32_t s = 0; rc == 0 && s < f->nsym; s++)
		if (gen_of(f, s) != f->sym[s].gen_new)
			rc = BB_ERETRY;
	return rc;
}

/* Rows of s already handed out in the reset count of the new copy. */
static uint32_t handed_out(const bb_follow *f, const struct fsym *y)
{
	uint32_t n = 0;

	if (!y->gen_known)
		n = 0;
	else if (y->gen_new == y->gen)
		n = y->delivered;
	else if (f->starts && y->gen_new == y->gen + f->starts)
		n = y->since_start;
	return n < y->cnt ? n : y->cnt;
}

/* The view: rows not yet handed out. The state is reset to the copy. When
 * none was handed out yet (the first snapshot) that is every row copied,
 * and the view is f->rows itself rather than a second copy of it. */
static int build_view(bb_follow *f)
{
	size_t n = 0;
	uint32_t out = 0;

	for (uint32_t s = 0; s < f->nsym; s++) {
		n += f->sym[s].cnt;
		out |= handed_out(f, &f->sym[s]);
	}
	if (f->view_own)
		free(f->view);
	f->view = out ? malloc((n ? n : 1) * sizeof(*f->view)) : f->rows;
	f->view_own = out != 0;
	if (f->view == NULL)
		return ENOMEM;
	f->view_n = 0;
	for (uint32_t s = 0; s < f->nsym; s++) {
		struct fsym *y = &f->sym[s];
		uint32_t from = handed_out(f, y);
		if (out)
			memcpy(f->view + f->view_n, f->rows + y->off + from,
			       (y->cnt - from) * sizeof(bb_bar));
		f->view_n += y->cnt - from;
		*y = (struct fsym){ .off = y->off, .cnt = y->cnt,
		                    .gen = y->gen_new, .gen_known = 1,
		                    .delivered = y->cnt, .skip = -1 };
	}
	f->starts = 0;
	return 0;
}

static int snapshot(bb_follow *f)
{
	int rc = BB_ERETRY;

	for (int i = 0; i < SNAPSHOT_TRIES && rc == BB_ERETRY; i++)
		rc = snapshot_once(f);
	return rc == 0 ? build_view(f) : rc;
}

int bb_follow_open(bb_follow **out, const char *bus, int wait,
                   unsigned flags)
{
	if (flags != 0 || wait < BB_WAIT_SPIN || wait > BB_WAIT_BLOCK)
		return BB_EINVAL;
	int rc = bb_bus_name_check(bus);
	if (rc != 0)
		return rc;
	bb_follow *f = calloc(1, sizeof(*f));
	if (f == NULL)
		return ENOMEM;
	f->seg.fd = -1;
	strcpy(f->bus, bus);
	f->wait = wait;
	rc = bb_table_open(&f->tab, bus, BB__ROLE_SESSION);
	if (rc == 0)
		rc = bb__seg_reader_open(&f->seg, bus, BB__ROLE_SESSION,
		                         BB_ROLE_TABLE, 0);
	if (rc == 0)
		rc = bb__table_geom(f->seg.hdr, &f->g);
	if (rc == 0) {
		f->nsym = f->g.nsym < bb_table_symbols(f->tab)
		          ? f->g.nsym : bb_table_symbols(f->tab);
		f->sym = calloc(f->nsym ? f->nsym : 1, sizeof(*f->sym));
		rc = f->sym == NULL ? ENOMEM : snapshot(f);
	}
	if (rc != 0) {
		bb_follow_close(f);
		return rc;
	}
	*out = f;
	return 0;
}

void bb_follow_close(bb_follow *f)
{
	if (f == NULL)
		return;
	bb_ring_reader_close(f->ring);
	bb_table_close(f->tab);
	if (f->seg.hdr != NULL || f->seg.fd >= 0)
		bb__seg_reader_close(&f->seg);
	free(f->sym);
	if (f->view_own)
		free(f->view);
	free(f->rows);
	free(f);
}

const bb_bar *bb_follow_snapshot(const bb_follow *f, size_t *n)
{
	*n = f->view_n;
	return f->view;
}

/* Is bar b, read from the ring, one the snapshot already handed out? */
static int already_out(bb_follow *f, const bb_bar *b)
{
	if (b->symbol >= f->nsym)
		return 0;
	struct fsym *y = &f->sym[b->symbol];
	if (y->skip < 0) {
		y->skip = 0;
		for (uint32_t i = y->cnt; i-- > 0;)
			if (memcmp(&f->rows[y->off + i], b, sizeof(*b)) == 0) {
				y->skip = (int64_t)(y->cnt - i);
				break;
			}
	}
	if (y->skip > 0) {
		y->skip--;
		return 1;
	}
	y->delivered++;
	y->since_start++;
	return 0;
}

static void session_started(bb_follow *f)
{
	f->starts++;
	for (uint32_t s = 0; s < f->nsym; s++)
		f->sym[s].since_start = 0;
}

/* Lapped: a new snapshot, and the ring again from its head. The records
 * between the oldest intact one and that head are skipped too: count them
 * in the loss (a restarted writer continues the sequence). */
static int resync(bb_follow *f, uint64_t *lost)
{
	uint64_t from = bb_ring_reader_seq(f->ring);
	int rc = snapshot(f);

	if (rc != 0)
		return rc;
	uint64_t to = bb_ring_reader_seq(f->ring);
	if (lost != NULL && to > from)
		*lost += to - from;
	return BB_ELAPPED;
}

int bb_follow_next(bb_follow *f, bb_bar *out, uint64_t *lost,
                   int64_t timeout_ns)
{
	for (;;) {
		int rc = bb_ring_wait(f->ring, out, lost, timeout_ns);
		if (rc == BB_ELAPPED)
			return resync(f, lost);
		if (rc != 0)
			return rc;
		f->view_n = 0;
		uint32_t kind = BB_KIND(out->flags);
		if (kind == BB_KIND_SESSION_START)
			session_started(f);
		if (kind != BB_KIND_BAR || !already_out(f, out))
			return 0;
	}
}
