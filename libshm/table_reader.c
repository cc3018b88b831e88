/*
 * table_reader.c: reading per-symbol tables from any process, read-only.
 * See table.c for the layout and why a copy can be trusted.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "table.h"

struct bb_table {
	struct bb__seg          seg;
	struct bb__table_geom   g;
};

int bb_table_open(bb_table **out, const char *bus, const char *role)
{
	bb_table *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return ENOMEM;
	int rc = bb__seg_reader_open(&t->seg, bus, role, BB_ROLE_TABLE, 0);
	if (rc == 0)
		rc = bb__table_geom(t->seg.hdr, &t->g);
	if (rc != 0) {
		bb__seg_reader_close(&t->seg);
		free(t);
		return rc;
	}
	*out = t;
	return 0;
}

void bb_table_close(bb_table *t)
{
	if (t == NULL)
		return;
	bb__seg_reader_close(&t->seg);
	free(t);
}

uint32_t bb_table_symbols(const bb_table *t) { return t->g.nsym; }
uint32_t bb_table_rows(const bb_table *t) { return t->g.rows; }

static uint64_t load_state(const bb_table *t, uint32_t sym)
{
	/* Acquire pairs with the release stores of state in table.c. */
	return atomic_load_explicit(bb__table_state(&t->g, sym),
	                            memory_order_acquire);
}

uint32_t bb_table_count(const bb_table *t, uint32_t sym)
{
	if (sym >= t->g.nsym)
		return 0;
	uint32_t c = (uint32_t)load_state(t, sym);
	return c <= t->g.rows ? c : 0;
}

/* A row still being written after BB_TABLE_TRIES reads: its writer was
 * most likely descheduled between the seqlock's two stores. The CPU is
 * yielded to it, reading again, for BB_TABLE_WAIT_NS; then BB_ERETRY. */
static __attribute__((noinline)) int wait_row(const struct bb__slot *s,
                                              bb_bar *out)
{
	int64_t end = bb__mono_ns() + BB_TABLE_WAIT_NS;

	do {
		sched_yield();
		if (!(bb__slot_read_into(s, out) & 1))
			return 0;
	} while (bb__mono_ns() < end);
	return BB_ERETRY;
}

/* Row i of sym through its seqlock, straight into *out: 0, or BB_ERETRY
 * (*out then holds a torn copy) if it kept changing. Ends with the
 * seqlock's acquire fence. */
static inline int read_row(const bb_table *t, uint32_t sym, uint32_t i,
                           bb_bar *out)
{
	const struct bb__slot *s = bb__table_row(&t->g, sym, i);

	for (int tries = 0; bb__slot_read_into(s, out) & 1;)
		if (++tries == BB_TABLE_TRIES)
			return wait_row(s, out);
	return 0;
}

/*
 * Copy rows [from, to) of sym, to > from; 0, or BB_ERETRY if the last one
 * kept changing. Only the latest row is ever rewritten in place (a forming
 * derived bar), so it alone needs the seqlock; the rows before it cannot
 * change while the symbol's state word stays the same, which the caller
 * checks after this copy (the last row's read ends with the acquire fence
 * that orders every load here before that check).
 */
static int copy_rows(const bb_table *t, uint32_t sym, uint32_t from,
                     uint32_t to, bb_bar *out)
{
	uint32_t n = to - from - 1;

	for (uint32_t i = 0; i < n; i++)
		bb__slot_copy(bb__table_row(&t->g, sym, from + i), &out[i]);
	return read_row(t, sym, from + n, &out[n]);
}

int bb_table_last_n(const bb_table *t, uint32_t sym, bb_bar *out, size_t n,
                    size_t *got)
{
	if (sym >= t->g.nsym)
		return BB_EINVAL;
	for (int tries = 0; tries < BB_TABLE_TRIES; tries++) {
		uint64_t st = load_state(t, sym);
		uint32_t c = (uint32_t)st;
		if (c > t->g.rows)
			return BB_EGEOMETRY;
		uint32_t k = n < c ? (uint32_t)n : c;
		int rc = k ? copy_rows(t, sym, c - k, c, out) : 0;
		if (rc != 0)
			return rc;
		/* The copy ended with an acquire fence (seqlock.h): a reset
		 * that overwrote a row we copied is visible here. */
		if ((load_state(t, sym) >> 32) == (st >> 32)) {
			*got = k;
			return 0;
		}
	}
	return BB_ERETRY;
}

/* bb_table_latest() by the general loop: the count, then its row. */
static __attribute__((noinline)) int latest_loop(const bb_table *t,
                                                 uint32_t sym, bb_bar *out)
{
	for (int tries = 0; tries < BB_TABLE_TRIES; tries++) {
		uint64_t st = load_state(t, sym);
		uint32_t c = (uint32_t)st;
		if (c > t->g.rows)
			return BB_EGEOMETRY;
		int rc = c ? read_row(t, sym, c - 1, out) : 0;
		if (rc != 0)
			return rc;
		/* The copy ended with an acquire fence (seqlock.h): a reset
		 * that overwrote the row is visible here. */
		if ((load_state(t, sym) >> 32) == (st >> 32))
			return c ? 0 : BB_EEMPTY;
	}
	return BB_ERETRY;
}

/*
 * bb_table_last_n(t, sym, out, 1, ...) spelled for its one row, the read a
 * strategy makes most: no row loop, no row count to clamp, the row copied
 * straight into *out (on BB_ERETRY it may hold a torn copy). BB_EEMPTY
 * where bb_table_last_n() says 0 bars.
 *
 * First a guess: the row symbol 0's count points at, since at the live
 * end symbols hold as many rows (the writers append a minute to every
 * symbol). Its address does not wait for sym's own state word, so from
 * a table larger than the L1 cache (10,000 symbols) the state word and
 * the row come together rather than one after the other. The copy is
 * kept only when sym's count (acquire, loaded before the row as in the
 * loop) names that row, the seqlock says it is whole and the reset count
 * held: the loop's first round, with the row known early. Anything else
 * (an empty or lagging symbol, a row being written) goes to the loop.
 */
int bb_table_latest(const bb_table *t, uint32_t sym, bb_bar *out)
{
	if (sym >= t->g.nsym)
		return BB_EINVAL;
	/* Relaxed: a guess, ordering nothing; symbol 0's state stays cached
	 * (every read of the latest bar looks at it). */
	uint32_t c0 = (uint32_t)atomic_load_explicit(
		bb__table_state(&t->g, 0), memory_order_relaxed);
	if (c0 - 1 >= t->g.rows) /* not 0 < c0 <= rows: no row to guess */
		return latest_loop(t, sym, out);
	const struct bb__slot *r = bb__table_row(&t->g, sym, c0 - 1);
	uint64_t st = load_state(t, sym);

	if ((uint32_t)st == c0 && !(bb__slot_read_into(r, out) & 1) &&
	    /* The copy ended with an acquire fence (seqlock.h): a reset
	     * that overwrote the row is visible here. */
	    (load_state(t, sym) >> 32) == (st >> 32))
		return 0;
	return latest_loop(t, sym, out);
}

int bb_table_record(const bb_table *t, uint32_t sym, void *rec)
{
	bb_bar b;
	int rc = bb_table_latest(t, sym, &b);

	if (rc == 0)
		memcpy(rec, &b, sizeof(b));
	return rc;
}

uint64_t bb_table_epoch(const bb_table *t)
{
	/* Acquire pairs with the release in bb__seg_writer_start(). */
	return atomic_load_explicit(&t->seg.hdr->epoch, memory_order_acquire);
}

int bb_table_writer_state(const bb_table *t, pid_t *pid)
{
	return bb__seg_writer_state(&t->seg, pid);
}

int64_t bb__table_beat_ns(const bb_table *t)
{
	/* Relaxed: a time stamp read alone, ordering nothing else. */
	return atomic_load_explicit(&t->seg.hdr->heartbeat_ns,
	                            memory_order_relaxed);
}
