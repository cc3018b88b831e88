/*
 * sync.c: bringing the engine level with the bus, whatever the upkeep
 * missed. A session is started with its history block, after the session
 * it never saw end is rebuilt and finished, and after every session of the
 * bus's history without a block is rebuilt (by the second engine). A
 * synchronisation (start, lapped, restarted) rebuilds the current session
 * from the session table in minute order, so the derived bars come out the
 * same whatever the reading speed; a session that changed meanwhile is
 * rebuilt from its history block or the store.
 */
#include <errno.h>

#include "upkeep.h"

static int rebuild_ended(struct up_fol *f, bb_session s);
static int ensure_history(struct up_fol *f, const bb_session *cur);

/* Engine e follows the symbols the coordinator replays (a backtest with
 * --symbols replays a subset of the directory). */
static void follow_replayed(struct up_fol *f, struct up_engine *e)
{
	for (uint32_t sym = 0; sym < f->nsym; sym++)
		up_engine_follow(e, sym, bb_symbol_replayed(f->bus, sym));
}

/* The engine starts s, writing its history block. */
static int begin(struct up_fol *f, const bb_session *s)
{
	int rc = up_segs_block_begin(f->segs, 1, s);

	if (rc == 0 && (rc = up_engine_start(f->e, s)) == 0)
		follow_replayed(f, f->e);
	return rc;
}

int up_sync_start(struct up_fol *f, const bb_session *s)
{
	const bb_session *cur = up_engine_session(f->e);
	int rc = 0;

	/* A session whose end we never saw (lapped over it, or the ring's
	 * writer changed): rebuilt whole from history or the store. */
	if (cur->date != 0 && cur->date != s->date && !up_engine_finished(f->e))
		rc = rebuild_ended(f, *cur);
	if (rc == 0)
		rc = ensure_history(f, s);
	if (rc == 0)
		rc = begin(f, s);
	if (rc == 0) {
		bb_upkeep_info *st = up_segs_status(f->segs);
		st->date = s->date;
		st->state = BB_UPKEEP_FOLLOWING;
		up_fol_status(f);
	}
	return rc;
}

/* sym's bars of session s into f->buf: from the session table (back 0),
 * or from history block `back` when it holds s, else from the store. */
static int load_sym(struct up_fol *f, uint32_t back, const bb_session *s,
                    uint32_t sym, size_t *got)
{
	int32_t date = 0;

	*got = 0;
	if (back == 0)
		return bb_table_last_n(f->s1m, sym, f->buf, f->rows, got);
	if (bb_history(f->bus, back, sym, f->buf, f->rows, got, &date) == 0 &&
	    date == s->date)
		return 0;
	return bb_store_range(f->store, sym, s->open, s->close, f->buf, f->rows,
	                      got);
}

/*
 * Replay sym's bars into engine e, minute by minute, completing minutes as
 * the ring would have: every minute before a bar (the coordinator ends a
 * minute before it publishes a bar of a later one, so a table read after
 * the clock may hold bars past it), and at last up to through.
 */
static int replay_sym(struct up_fol *f, struct up_engine *e, uint32_t back,
                      uint32_t sym, int64_t through)
{
	size_t got = 0;
	int64_t now = bb__mono_ns();
	int rc = load_sym(f, back, up_engine_session(e), sym, &got);

	for (size_t i = 0; rc == 0 && i < got; i++) {
		rc = up_engine_complete_sym(e, sym, f->buf[i].time - 60, now);
		if (rc == 0)
			rc = up_engine_bar(e, &f->buf[i]) < 0 ? BB_EINVAL : 0;
	}
	return rc == 0 ? up_engine_complete_sym(e, sym, through, now) : rc;
}

static int replay_all(struct up_fol *f, uint32_t back, int64_t through)
{
	int rc = 0;

	for (uint32_t sym = 0; rc == 0 && sym < up_fol_nsym(f); sym++)
		rc = replay_sym(f, f->e, back, sym, through);
	if (rc == 0)
		up_engine_set_through(f->e, through);
	return rc;
}

/* Session s is over on the bus: rebuild it whole and finish it. */
static int rebuild_ended(struct up_fol *f, bb_session s)
{
	int rc = begin(f, &s); /* same date: a restart */

	if (rc == 0)
		rc = replay_all(f, 1, s.close - 60);
	return rc == 0 ? up_fol_finish(f) : rc;
}

/* Past session s, history `back` of the bus, into a history block. */
static int rebuild_past(struct up_fol *f, uint32_t back, const bb_session *s)
{
	int rc = up_segs_block_begin(f->segs, 0, s);

	if (rc == 1)
		return 0;
	if (rc == 0 && (rc = up_engine_start(f->pe, s)) == 0)
		follow_replayed(f, f->pe);
	for (uint32_t sym = 0; rc == 0 && sym < up_fol_nsym(f); sym++)
		if (bb_symbol_replayed(f->bus, sym) &&
		    (rc = up_segs_past_load(f->segs, sym, s)) == 0)
			rc = replay_sym(f, f->pe, back, sym, s->close - 60);
	if (rc == 0)
		rc = up_engine_finish(f->pe, up_fol_nsym(f));
	return rc == 0 ? up_segs_block_done(f->segs, 0, s) : rc;
}

/*
 * Before session cur starts: every session of the bus's history (as far
 * as ours reaches) has its block, oldest first. Sessions finished here
 * have theirs already; those from before the upkeep came (or while it was
 * down) are rebuilt from the bus's history and the store.
 */
static int ensure_history(struct up_fol *f, const bb_session *cur)
{
	bb_session h;
	int rc = 0;

	for (uint32_t back = f->c->history_days; rc == 0 && back > 0; back--)
		if (bb_history_session(f->bus, back, &h) == 0 &&
		    h.date < cur->date && !up_segs_has_block(f->segs, h.date))
			rc = rebuild_past(f, back, &h);
	return rc;
}

static int ended(uint32_t state)
{
	return state == BB_STATE_ENDED || state == BB_STATE_TIMER_EXPIRED ||
	       state == BB_STATE_DONE;
}

/*
 * Rebuild the current session from control status and session table.
 * When the session changed while the table was read, the copy may hold
 * the next session's rows: the session is rebuilt from its history block
 * or the store instead, and the new one synchronised.
 */
int up_sync(struct up_fol *f, int *eod)
{
	bb_status st, again;

	for (int tries = 0; tries < 100; tries++) {
		int rc = bb_bus_status(f->bus, &st);
		/* DONE from a coordinator still alive is not the end of data
		 * yet: it may be a new run starting on the bus. */
		*eod = rc == 0 && st.state == BB_STATE_DONE &&
		       bb_bus_writer_state(f->bus, NULL) == BB_WRITER_DEAD;
		if (rc != 0 || st.date == 0 || st.state == BB_STATE_NONE ||
		    st.state == BB_STATE_PREOPEN)
			return rc;
		const bb_session *cur = up_engine_session(f->e);
		bb_session s = { .date = st.date, .open = st.open, .close = st.close };
		if (cur->date == st.date && up_engine_finished(f->e))
			return 0;
		if (cur->date == 0 && ended(st.state) &&
		    up_segs_status(f->segs)->done_date == st.date) {
			up_segs_status(f->segs)->state = BB_UPKEEP_IDLE;
			up_fol_status(f);
			return 0; /* finished by our previous run */
		}
		if ((rc = up_sync_start(f, &s)) != 0)
			return rc;
		rc = replay_all(f, 0, ended(st.state) ? st.close - 60 : st.clock);
		if (rc != 0)
			return rc;
		if (bb_bus_status(f->bus, &again) != 0 ||
		    again.sessions == st.sessions)
			return ended(st.state) ? up_fol_finish(f) : 0;
		if ((rc = rebuild_ended(f, s)) != 0)
			return rc;
	}
	return BB_ERETRY;
}

