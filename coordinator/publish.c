/* publish.c: what the coordinator decides about its bus; see publish.h. */
#include <stdio.h>
#include <string.h>

#include "publish.h"

int co_pub_open(struct bb__bw *w, const char *bus, const struct bb__bw_geom *g)
{
	char what[256];
	int rc = bb__bw_open(w, bus, g);

	/* An operator who changed a setting learns why readers saw a new
	 * segment. */
	if (rc == 0 && bb__bw_replaced(w, what, sizeof(what)) > 0)
		fprintf(stderr, "barbus-coordinator: bus %s: replaced leftover "
		        "segments of another geometry or version:%s\n", bus, what);
	return rc;
}

int co_pub_sync_symbols(struct bb__bw *w, bb_store *st)
{
	const struct bb__bw_geom *g = bb__bw_geom(w);
	char name[BB_SYMBOL_MAX + 1];
	uint32_t n;
	int rc = bb_store_symbol_count(st, &n);

	if (rc != 0)
		return rc;
	if (n > g->max_symbols || n > g->table_symbols)
		return BB_EFULL;
	/* A directory left by an earlier run must agree (BB_EMISMATCH). */
	for (uint32_t id = 0; rc == 0 && id < n; id++)
		if ((rc = bb_store_symbol_name(st, id, name, sizeof(name))) == 0)
			rc = bb__bw_symbol(w, id, name);
	return rc;
}

int co_pub_history_load(struct bb__bw *w, bb_store *st, const bb_session *s,
                        uint64_t number)
{
	bb_batch b = { 0 };

	if (bb__bw_geom(w)->history == 0)
		return 0;
	int rc = bb_store_load(st, NULL, 0, s->open, s->close, &b);
	if (rc == 0)
		bb__bw_block_take(w, s, number);
	for (size_t i = 0; rc == 0 && i < b.n; i++)
		rc = bb__bw_block_append(w, number, &b.bars[i]);
	bb_batch_free(&b);
	return rc;
}

int co_pub_history_fill(struct bb__bw *w, bb_store *st, const bb_calendar *cal,
                        const bb_session *s, uint64_t number)
{
	bb_session h = *s;

	for (uint32_t back = 1; back <= bb__bw_geom(w)->history && back < number;
	     back++) {
		if (bb_calendar_prev(cal, h.date, &h) != 0)
			break;
		if (bb__bw_block_holds(w, number - back, h.date))
			continue;
		int rc = co_pub_history_load(w, st, &h, number - back);
		if (rc != 0)
			return rc;
	}
	return 0;
}
