/*
 * table.c: per-symbol bar tables, the one mechanism behind the session
 * table, history and derived bars.
 *
 * Segment body: a state word per symbol, 8 to a 64-byte line, then `rows`
 * rows of a seqlock slot per symbol, minute-major (table.h).
 * The symbol's `state` word packs (reset count << 32 | bars held), so one
 * atomic load gives a consistent count and says whether a reset happened.
 * A row's sequence word only ever grows (each write is the row's next
 * generation), so a rewrite of the same row is never mistaken for the
 * version a reader started copying.
 */
#include <errno.h>
#include <stdlib.h>

#include "table.h"

struct bb_table_writer {
	struct bb__seg        seg;
	struct bb__table_geom g;
};

uint64_t bb__table_bytes(uint64_t nsym, uint64_t rows)
{
	return BB_SEG_HDR_LEN + bb__table_states_bytes(nsym) + nsym * rows * 64;
}

int bb__table_geom(const struct bb__seg_hdr *h, struct bb__table_geom *g)
{
	uint64_t nsym = h->geom[0], rows = h->geom[1];

	if (nsym == 0 || nsym > UINT32_MAX || rows == 0 ||
	    rows > BB_TABLE_MAX_ROWS || h->geom[2] != sizeof(struct bb__slot))
		return BB_EGEOMETRY;
	/* rows <= 2^24, so 64 + 64 * rows < 2^31 and this cannot overflow;
	 * the state words take at most 64 bytes a symbol, so neither can
	 * bb__table_bytes() within this bound. */
	if (nsym > (UINT64_MAX / 2) / (64 + rows * 64) ||
	    h->total_len != bb__table_bytes(nsym, rows))
		return BB_EGEOMETRY;
	char *body = (char *)h + BB_SEG_HDR_LEN;
	*g = (struct bb__table_geom){
		.state = (_Atomic uint64_t *)body,
		.rows0 = body + bb__table_states_bytes(nsym),
		.nsym = (uint32_t)nsym, .rows = (uint32_t)rows,
		.stride = (size_t)nsym * 64,
	};
	return 0;
}

static _Atomic uint64_t *state(const struct bb__table_geom *g, uint32_t sym)
{
	return bb__table_state(g, sym);
}

static struct bb__slot *row(const struct bb__table_geom *g, uint32_t sym,
                            uint32_t i)
{
	return bb__table_row(g, sym, i);
}

/* Writer: the row's next generation, so its sequence word only grows.
 * Inlined: the upkeep rewrites four rows a bar through its callers. */
static inline __attribute__((always_inline))
void row_write(struct bb__slot *s, const bb_bar *bar)
{
	uint64_t seq = atomic_load_explicit(&s->seq, memory_order_relaxed);

	bb__slot_write(s, seq == 0 ? 0 : bb__seq_gen(seq) + 1, bar);
}

/*
 * After a writer died: a latest row left mid-rewrite holds half a bar, so
 * the count steps back over it; the dead writer's successor republishes.
 */
static void repair(struct bb__table_geom *g)
{
	for (uint32_t s = 0; s < g->nsym; s++) {
		_Atomic uint64_t *l = state(g, s);
		uint64_t st = atomic_load_explicit(l, memory_order_relaxed);
		uint32_t c = (uint32_t)st;
		if (c > g->rows)
			st = st & ~0xffffffffull, c = 0;
		while (c > 0 && (atomic_load_explicit(&row(g, s, c - 1)->seq,
		                 memory_order_relaxed) & 1))
			c--;
		/* Release pairs with the acquire loads of state by readers. */
		atomic_store_explicit(l, (st & ~0xffffffffull) | c,
		                      memory_order_release);
	}
}

int bb_table_writer_open(bb_table_writer **out, const char *bus,
                         const char *role, uint32_t nsym, uint32_t rows,
                         const bb_seg_opts *o)
{
	return bb__table_writer_open(out, bus, role, nsym, rows, o,
	                             (struct bb__beat){ 0 });
}

int bb__table_writer_open(bb_table_writer **out, const char *bus,
                          const char *role, uint32_t nsym, uint32_t rows,
                          const bb_seg_opts *o, struct bb__beat beat)
{
	struct bb__seg_spec sp = {
		.role_name = role, .role = BB_ROLE_TABLE,
		.geom = { nsym, rows, sizeof(struct bb__slot), 0 },
		.total_len = bb__table_bytes(nsym, rows),
		.heartbeat_ms = o && o->heartbeat_ms ? o->heartbeat_ms : 100,
		.mode = o && o->mode ? o->mode : 0640,
		.group = o ? o->group : 0, .flags = o ? o->flags : 0,
		.beat = beat,
	};
	struct bb__table_geom g;
	int how;

	if (bb__table_geom(&(struct bb__seg_hdr){ .geom = { nsym, rows, 64 },
	                   .total_len = sp.total_len }, &g) != 0)
		return BB_EINVAL;
	bb_table_writer *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return ENOMEM;
	int rc = bb__seg_writer_open(&w->seg, bus, &sp, &how);
	if (rc != 0) {
		free(w);
		return rc;
	}
	bb__table_geom(w->seg.hdr, &w->g);
	if (how == BB_SEG_ATTACHED)
		repair(&w->g);
	else
		bb__seg_publish(&w->seg);
	bb__seg_writer_start(&w->seg);
	*out = w;
	return 0;
}

void bb_table_writer_close(bb_table_writer *w)
{
	if (w == NULL)
		return;
	bb__seg_writer_close(&w->seg);
	free(w);
}

void bb_table_writer_discard(bb_table_writer *w)
{
	if (w == NULL)
		return;
	bb__seg_writer_discard(&w->seg);
	free(w);
}

int bb_table_append(bb_table_writer *w, uint32_t sym, const bb_bar *bar)
{
	if (sym >= w->g.nsym)
		return BB_EINVAL;
	_Atomic uint64_t *l = state(&w->g, sym);
	uint64_t st = atomic_load_explicit(l, memory_order_relaxed);
	if ((uint32_t)st >= w->g.rows)
		return BB_EFULL;
	row_write(row(&w->g, sym, (uint32_t)st), bar);
	/* Release pairs with the acquire load of state in the readers: a
	 * reader that counts this row finds it complete. */
	atomic_store_explicit(l, st + 1, memory_order_release);
	return 0;
}

int bb_table_replace_last(bb_table_writer *w, uint32_t sym, const bb_bar *bar)
{
	if (sym >= w->g.nsym)
		return BB_EINVAL;
	uint64_t st = atomic_load_explicit(state(&w->g, sym),
	                                   memory_order_relaxed);
	if ((uint32_t)st == 0)
		return BB_EEMPTY;
	row_write(row(&w->g, sym, (uint32_t)st - 1), bar);
	return 0;
}

int bb_table_reset(bb_table_writer *w, uint32_t sym)
{
	if (sym >= w->g.nsym)
		return BB_EINVAL;
	_Atomic uint64_t *l = state(&w->g, sym);
	uint64_t st = atomic_load_explicit(l, memory_order_relaxed);
	/* Release: rows written after this belong to the new count; a reader
	 * that copied one of them sees the new reset count on its re-check
	 * (its acquire fence pairs with the row write's release fence). */
	atomic_store_explicit(l, ((st >> 32) + 1) << 32,
	                      memory_order_release);
	return 0;
}

void bb_table_prefetch(const bb_table_writer *w, uint32_t sym)
{
	if (sym < w->g.nsym)
		bb__table_prefetch_rows(&w->g, sym);
}

const struct bb__table_geom *bb__table_writer_geom(const bb_table_writer *w)
{
	return &w->g;
}

int bb_table_writer_replaced(const bb_table_writer *w)
{
	return w->seg.how == BB_SEG_REPLACED;
}

int bb_table_writer_kept(const bb_table_writer *w)
{
	return w->seg.how == BB_SEG_ATTACHED;
}

void bb_table_beat(bb_table_writer *w)
{
	bb__seg_beat(&w->seg);
}
