/*
 * session.c: the followed session's bookkeeping, shared by following
 * (follow.c) and synchronising (sync.c), which both call it and neither of
 * which it calls: the symbols on the bus, the status record with the
 * engines' totals, and finishing a session.
 */
#include "upkeep.h"

uint32_t up_fol_nsym(const struct up_fol *f)
{
	uint32_t n = bb_symbol_count(f->bus);

	return n < f->nsym ? n : f->nsym;
}

void up_fol_totals(const struct up_fol *f, uint64_t *bars, uint64_t *fills,
                   uint64_t *unfillable)
{
	uint64_t pbars = 0, pfills, punf;

	/* Bars taken in: followed, or rebuilt into a history block. */
	up_engine_totals(f->e, bars, fills, unfillable);
	if (f->pe != NULL)
		up_engine_totals(f->pe, &pbars, &pfills, &punf);
	*bars += pbars;
}

void up_fol_status(struct up_fol *f)
{
	bb_upkeep_info *s = up_segs_status(f->segs);

	up_fol_totals(f, &s->bars_seen, &s->fills, &s->unfillable);
	up_segs_status_put(f->segs);
}

int up_fol_finish(struct up_fol *f)
{
	const bb_session *s = up_engine_session(f->e);

	if (s->date == 0 || up_engine_finished(f->e))
		return 0;
	int rc = up_engine_finish(f->e, up_fol_nsym(f));
	if (rc == 0)
		rc = up_segs_block_done(f->segs, 1, s);
	if (rc != 0)
		return rc;
	bb_upkeep_info *st = up_segs_status(f->segs);
	st->done_date = s->date;
	st->date = s->date;
	st->sessions_done++;
	st->state = BB_UPKEEP_IDLE;
	up_fol_status(f);
	return 0;
}
