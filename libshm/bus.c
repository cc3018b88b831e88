/*
 * bus.c: the reader's view of a bus: control segment, session table and
 * history blocks, mapped read-only, behind one handle.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"

struct bb_bus {
	struct bb__seg         seg;
	const struct bb__ctl  *ctl;
	uint64_t               max_syms;
	uint32_t               nblocks;
	bb_table              *session;
	bb_table              *hist[BB_CTL_MAX_BLOCKS];
};

static int open_tables(bb_bus *b, const char *name)
{
	char role[BB__ROLE_MAX];
	int rc = bb_table_open(&b->session, name, BB__ROLE_SESSION);

	for (uint32_t k = 0; rc == 0 && k < b->nblocks; k++) {
		bb__hist_role(role, sizeof(role), k);
		rc = bb_table_open(&b->hist[k], name, role);
	}
	return rc;
}

int bb_bus_open(bb_bus **out, const char *name)
{
	bb_bus *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return ENOMEM;
	int rc = bb__seg_reader_open(&b->seg, name, "control", BB_ROLE_CONTROL, 0);
	if (rc == 0)
		rc = bb__ctl_geom_check(b->seg.hdr);
	if (rc == 0) {
		b->ctl = bb__ctl_body(&b->seg);
		b->max_syms = b->seg.hdr->geom[BB_CTL_G_SYMS];
		b->nblocks = (uint32_t)b->seg.hdr->geom[BB_CTL_G_BLOCKS];
		rc = open_tables(b, name);
	}
	if (rc != 0) {
		bb_bus_close(b);
		return rc;
	}
	*out = b;
	return 0;
}

void bb_bus_close(bb_bus *b)
{
	if (b == NULL)
		return;
	for (uint32_t k = 0; k < b->nblocks; k++)
		bb_table_close(b->hist[k]);
	bb_table_close(b->session);
	bb__seg_reader_close(&b->seg);
	free(b);
}

/* The status as written, but for `history`: bounded by the blocks the
 * geometry has (history + 1 with history on), so that no reader loops over
 * a count that a corrupted control segment made up. */
int bb_bus_status(const bb_bus *b, bb_status *out)
{
	int rc = bb__ctl_status(b->ctl, out);
	uint32_t kept = b->nblocks ? b->nblocks - 1 : 0;

	if (rc == 0 && out->history > kept)
		out->history = kept;
	return rc;
}

uint64_t bb_bus_counter(const bb_bus *b, int counter)
{
	if (counter < 0 || counter >= BB_CTR_COUNT)
		return 0;
	return atomic_load_explicit(&b->ctl->counters[counter],
	                            memory_order_relaxed);
}

uint64_t bb_bus_transition_ns(const bb_bus *b, uint64_t session)
{
	bb_status st;

	if (bb_bus_status(b, &st) != 0 || session == 0 ||
	    session > st.sessions || st.sessions - session >= BB_TRANSITIONS)
		return 0;
	return atomic_load_explicit(&b->ctl->transitions[session % BB_TRANSITIONS],
	                            memory_order_relaxed);
}

int64_t bb_bus_created(const bb_bus *b)
{
	/* Written before the segment was published: the acquire of its
	 * version at open makes it visible. */
	return b->seg.hdr->created_ns;
}

uint64_t bb_bus_epoch(const bb_bus *b)
{
	/* Acquire pairs with the release in bb__seg_writer_start(). */
	return atomic_load_explicit(&b->seg.hdr->epoch, memory_order_acquire);
}

int bb_bus_writer_state(const bb_bus *b, pid_t *pid)
{
	return bb__seg_writer_state(&b->seg, pid);
}

uint32_t bb_symbol_count(const bb_bus *b)
{
	/* Acquire pairs with the release in bb__ctl_add_symbol(). */
	uint64_t n = atomic_load_explicit(&b->ctl->nsym, memory_order_acquire);

	return (uint32_t)(n < b->max_syms ? n : b->max_syms);
}

/* The replay set is a backtest's: a live run on a bus an earlier backtest
 * left publishes whatever its feed brings. */
int bb_symbol_replayed(const bb_bus *b, uint32_t sym)
{
	bb_status st;

	if (bb_bus_status(b, &st) == 0 && st.mode == BB_MODE_LIVE)
		return 1;
	return bb__ctl_replayed(b->ctl, b->max_syms, sym);
}

int bb_symbol_name(const bb_bus *b, uint32_t id, char *buf, size_t len)
{
	if (id >= bb_symbol_count(b))
		return BB_ENOTFOUND;
	int n = snprintf(buf, len, "%.*s", BB_CTL_NAME_LEN - 1, b->ctl->names[id]);
	return n >= 0 && (size_t)n < len ? 0 : BB_EINVAL;
}

int bb_symbol_lookup(const bb_bus *b, const char *name, uint32_t *id)
{
	uint32_t n = bb_symbol_count(b);

	for (uint32_t i = 0; i < n; i++)
		if (strncmp(b->ctl->names[i], name, BB_CTL_NAME_LEN) == 0) {
			*id = i;
			return 0;
		}
	return BB_ENOTFOUND;
}

int bb_latest(const bb_bus *b, uint32_t sym, bb_bar *out)
{
	return bb_table_latest(b->session, sym, out);
}

int bb_last_n(const bb_bus *b, uint32_t sym, bb_bar *out, size_t n,
              size_t *got)
{
	return bb_table_last_n(b->session, sym, out, n, got);
}

uint32_t bb_count(const bb_bus *b, uint32_t sym)
{
	return bb_table_count(b->session, sym);
}

/* Block holding session number `session`, or -1. */
static int find_block(const bb_bus *b, uint64_t session, struct bb__block *blk)
{
	for (uint32_t k = 0; k < b->nblocks; k++)
		if (bb__ctl_block(b->ctl, k, blk) == 0 && blk->date != 0 &&
		    blk->session == session)
			return (int)k;
	return -1;
}

/* The session number of history `back`, or BB_ENOTFOUND. */
static int history_number(const bb_bus *b, uint32_t back, uint64_t *n)
{
	bb_status st;
	int rc = bb_bus_status(b, &st);

	if (rc != 0)
		return rc;
	if (back == 0 || back > st.history || back >= st.sessions + 1)
		return BB_ENOTFOUND;
	*n = st.sessions - back;
	return 0;
}

int bb_history_session(const bb_bus *b, uint32_t back, bb_session *out)
{
	struct bb__block blk;
	uint64_t n;
	int rc = history_number(b, back, &n);

	if (rc != 0)
		return rc;
	if (find_block(b, n, &blk) < 0)
		return BB_ENOTFOUND;
	*out = (bb_session){ .date = blk.date, .open = blk.open,
	                     .close = blk.close };
	return 0;
}

int bb_history(const bb_bus *b, uint32_t back, uint32_t sym, bb_bar *out,
               size_t max, size_t *got, int32_t *date)
{
	struct bb__block blk, again;
	uint64_t num;
	int rc = history_number(b, back, &num);

	if (rc != 0)
		return rc;
	for (int tries = 0; tries < 100; tries++) {
		int k = find_block(b, num, &blk);
		if (k < 0)
			return BB_ENOTFOUND;
		uint32_t n = bb_table_count(b->hist[k], sym);
		rc = bb_table_last_n(b->hist[k], sym, out, n < max ? n : max, got);
		if (rc != 0)
			return rc;
		/* The block was not reused for a newer session meanwhile. */
		if (bb__ctl_block(b->ctl, (uint32_t)k, &again) == 0 &&
		    again.session == blk.session) {
			*date = blk.date;
			return 0;
		}
	}
	return BB_ERETRY;
}
