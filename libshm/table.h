/* table.h: table segment layout shared by the writer (table.c) and readers
 * (table_reader.c). */
#ifndef BB_TABLE_H
#define BB_TABLE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "seg.h"
#include "seqlock.h"

#define BB_TABLE_TRIES 10000 /* a row rewritten this often while read */
/* Then a row still mid-write is waited for, yielding the CPU to its writer
 * (descheduled between its two stores), this long before BB_ERETRY: a
 * scheduler's time slice or two. */
#define BB_TABLE_WAIT_NS 4000000
#define BB_TABLE_MAX_ROWS (1u << 24)

/* The symbols' state words, 8 to a 64-byte line, before the rows. */
#define BB_TABLE_STATES_PER_LINE 8u

/*
 * Geometry validated once and then kept privately. The body is every
 * symbol's state word (resets << 32 | bars held), densely, 8 to a cache
 * line, the array padded to a whole line (10,000 symbols: 80 KB, cache
 * resident; a writer going through all symbols each minute finds them in
 * a few pages), then the rows minute-major: row i of every symbol, symbol
 * by symbol, then row i + 1 (docs/layout.md). A writer going through all
 * symbols in a minute writes one run of memory, and the latest rows of
 * all symbols lie together, a few pages for thousands.
 */
struct bb__table_geom {
	_Atomic uint64_t *state; /* body: nsym words */
	char    *rows0;  /* body + bb__table_states_bytes(nsym) */
	uint32_t nsym, rows;
	size_t   stride; /* bytes of one row of every symbol: nsym * 64 */
};

/* Bytes of the state words of nsym symbols: whole lines, so the rows
 * after them stay 64-byte aligned. */
static inline uint64_t bb__table_states_bytes(uint64_t nsym)
{
	return (nsym + BB_TABLE_STATES_PER_LINE - 1) /
	       BB_TABLE_STATES_PER_LINE * 64;
}

uint64_t bb__table_bytes(uint64_t nsym, uint64_t rows);
struct bb_table;
/* CLOCK_MONOTONIC ns of the table writer's last heartbeat: it moves as
 * long as the writer works (the coordinator's handshake tells an upkeep
 * making progress from one stopped or hung by it). */
int64_t  bb__table_beat_ns(const struct bb_table *t);
/* Geometry of a header already passed bb__seg_hdr_check(). */
int      bb__table_geom(const struct bb__seg_hdr *h, struct bb__table_geom *g);
/* A writer's geometry, fixed while it is open: for a writer that
 * prefetches inline (bb__table_prefetch_rows()). */
const struct bb__table_geom *bb__table_writer_geom(const bb_table_writer *w);

/* sym's state word: resets << 32 | bars held; sym < g->nsym. */
static inline _Atomic uint64_t *bb__table_state(const struct bb__table_geom *g,
                                                uint32_t sym)
{
	return g->state + sym;
}

static inline struct bb__slot *bb__table_row(const struct bb__table_geom *g,
                                             uint32_t sym, uint32_t i)
{
	return (struct bb__slot *)(g->rows0 + (size_t)i * g->stride) + sym;
}

/* Writer hint: the row an append of sym writes and the one a replacement
 * rewrites (bb_table_prefetch()); sym < g->nsym. Its state word is read
 * to find them: prefetch that (bb__table_state()) earlier when it may
 * miss. */
static inline void bb__table_prefetch_rows(const struct bb__table_geom *g,
                                           uint32_t sym)
{
	uint32_t c = (uint32_t)atomic_load_explicit(bb__table_state(g, sym),
	                                            memory_order_relaxed);

	if (c < g->rows)
		__builtin_prefetch(bb__table_row(g, sym, c), 1, 3);
	if (c > 0 && c <= g->rows)
		__builtin_prefetch(bb__table_row(g, sym, c - 1), 1, 3);
}

/* bb_table_writer_open(), with beat called while a fresh table's pages
 * are stored to. */
int bb__table_writer_open(bb_table_writer **out, const char *bus,
                          const char *role, uint32_t nsym, uint32_t rows,
                          const bb_seg_opts *o, struct bb__beat beat);

#endif /* BB_TABLE_H */
