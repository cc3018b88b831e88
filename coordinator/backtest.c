/*
 * backtest.c: replay the store through the bus in global time order, one
 * calendar session after another, with the next session prefetched.
 *
 * Resuming: the ring is the record of what was published. A coordinator
 * killed at any point left its last complete record there; the next one
 * continues right after it, so no bar is lost and none repeated. The session
 * table and the session's history block are rebuilt from the store up to
 * that point (a bar may have reached the ring but not the table, or the
 * other way round, when the process died).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "backtest.h"
#include "clock.h"
#include "prefetch.h"

#define PREFETCH_AHEAD 8 /* bars */

/* Where a killed coordinator stopped, inside session `date` (0: nowhere). */
struct resume {
	int32_t  date;
	int32_t  after;  /* the last session fully ended, or 0 */
	int64_t  t;      /* minute of the last bar or MINUTE_END; INT64_MIN */
	uint32_t sym;    /* last bar's symbol; UINT32_MAX: minute t ended */
};

static int32_t next_day(int32_t date)
{
	return bb_days_to_date(bb_date_to_days(date) + 1);
}

static void find_resume(const struct bb__bw *p, struct resume *r)
{
	bb_bar last;
	bb_session s;

	const bb_status *st = bb__bw_status(p);

	*r = (struct resume){ .t = INT64_MIN };
	if (!bb__bw_attached(p) || st->state == BB_STATE_DONE ||
	    bb__bw_last(p, &last) != 0)
		return;
	switch (BB_KIND(last.flags)) {
	case BB_KIND_SESSION_END:
		bb_event_session_get(&last, &s, NULL);
		r->after = s.date;
		break;
	case BB_KIND_SESSION_START:
		bb_event_session_get(&last, &s, NULL);
		r->date = s.date;
		break;
	case BB_KIND_BAR:
		*r = (struct resume){ .date = st->date, .t = last.time,
		                      .sym = last.symbol };
		break;
	case BB_KIND_MINUTE_END:
		*r = (struct resume){ .date = st->date, .t = last.time,
		                      .sym = UINT32_MAX };
		break;
	}
}

static int published(const bb_bar *b, const struct resume *r)
{
	return b->time < r->t || (b->time == r->t && b->symbol <= r->sym);
}

/* Sleep until deadline (monotonic ns), beating; early when stopped. */
static void pace_until(struct bb__bw *p, int64_t deadline,
                       volatile sig_atomic_t *stop)
{
	for (int64_t now = bb__mono_ns(); now < deadline && !*stop;
	     now = bb__mono_ns()) {
		int64_t d = deadline - now > 50000000 ? 50000000 : deadline - now;
		struct timespec ts = { 0, (long)d };
		nanosleep(&ts, NULL);
		bb__bw_beat(p);
	}
}

/*
 * Publish session s from batch (global time order): per minute its bars,
 * then MINUTE_END, also for minutes without any bar. With r, the part
 * already published goes into the tables only. nx (NULL: none) is the
 * session after s: before s's last minute the publisher waits until the
 * loader has it, so a loader slower than publishing (two cores shared with
 * readers and the upkeep) takes its time from inside the session, never
 * from the boundary.
 */
static int replay_session(struct bb__bw *p, const bb_session *s,
                          const bb_batch *b, const struct resume *r,
                          const struct co_backtest *bt, struct co_prefetch *pf,
                          const bb_session *nx, volatile sig_atomic_t *stop)
{
	size_t i = 0;
	int64_t wall0 = bb__mono_ns(), beat = wall0;
	int rc = 0;

	for (; r != NULL && i < b->n && published(&b->bars[i], r); i++)
		if ((rc = bb__bw_table_bar(p, &b->bars[i])) != 0)
			return rc;
	/* Resuming: the pace runs on from where it stopped, not from the open,
	 * and the minute after the last one ended is due at once: the restart
	 * already held it back longer than a paced minute would. */
	if (r != NULL && r->t >= s->open && bt->pace == CO_PACE_FACTOR)
		wall0 -= (int64_t)((double)(r->t + 120 - s->open) * 1e9 /
		                   bt->factor);
	for (int64_t t = s->open; t < s->close && !*stop; t += 60) {
		if (bt->pace == CO_PACE_FACTOR)
			pace_until(p, wall0 + (int64_t)((double)(t + 60 - s->open) *
			           1e9 / bt->factor), stop);
		if (nx != NULL && t + 60 >= s->close)
			co_prefetch_await(pf, nx);
		for (; i < b->n && b->bars[i].time <= t; i++) {
			/* Rows of different symbols are far apart: ask for
			 * those of a bar a little ahead, so the misses overlap. */
			if (i + PREFETCH_AHEAD < b->n)
				bb__bw_prefetch(p, b->bars[i + PREFETCH_AHEAD].symbol);
			if (b->bars[i].time == t &&
			    (rc = bb__bw_bar(p, &b->bars[i])) != 0)
				return rc;
		}
		if (r == NULL || t > r->t || (t == r->t && r->sym != UINT32_MAX))
			bb__bw_minute_end(p, t);
		if (bt->upkeep != NULL) /* never a minute ahead of the upkeep */
			co_handshake_pace(bt->upkeep, p, s, t);
		int64_t now = bb__mono_ns();
		if (now - beat > 50000000) {
			bb__bw_beat(p);
			beat = now;
		}
	}
	return 0;
}

/* The first session to publish, or BB_ENOSESSION when none is left. */
static int first_session(const bb_calendar *cal, const struct co_backtest *bt,
                         const struct resume *r, bb_session *s)
{
	int32_t from = bt->from;

	if (r->date != 0)
		from = r->date;
	else if (r->after != 0 && next_day(r->after) > from)
		from = next_day(r->after);
	int rc = bb_calendar_next(cal, from, s);
	if (rc == 0 && (s->date > bt->to || s->date < bt->from))
		rc = BB_ENOSESSION;
	return rc;
}

/* One backtest run's state, passed to its steps. */
struct run {
	struct bb__bw            *p;
	const bb_calendar        *cal;
	const struct co_backtest *bt;
	volatile sig_atomic_t    *stop;
	struct co_prefetch        pf;
	struct resume             r;
	bb_batch                  b;      /* the session being published */
	uint64_t                  taken;  /* sessions taken from prefetch */
	int64_t                   last_bar_ns; /* the previous session's
	                                          last minute published */
};

/* The session after s within the range, into *nx; 0 when none. */
static int next_in_range(const struct run *run, const bb_session *s,
                         bb_session *nx)
{
	return bb_calendar_next(run->cal, next_day(s->date), nx) == 0 &&
	       nx->date <= run->bt->to;
}

/* Ask for s and the sessions after it, as many as there are slots. */
static void request_from(struct run *run, bb_session s)
{
	bb_session nx;

	for (int k = 0; k < CO_PREFETCH_DEPTH; k++) {
		co_prefetch_request(&run->pf, &s);
		if (!next_in_range(run, &s, &nx))
			break;
		s = nx;
	}
}

/* Take s's bars. *more: a session follows (into *nx). */
static int take(struct run *run, const bb_session *s, bb_session *nx,
                int *more)
{
	int hit;
	int rc = co_prefetch_take(&run->pf, s, &run->b, &hit);

	/* The first session could not have been loaded ahead: not counted. */
	if (rc == 0 && run->taken++ > 0)
		bb__bw_count(run->p, hit ? BB_CTR_PREFETCH_HITS
		                         : BB_CTR_PREFETCH_MISSES, 1);
	*more = next_in_range(run, s, nx);
	return rc;
}

/* A session of the calendar the store has no bar of, for any symbol
 * replayed: said, and counted (BB_CTR_EMPTY_SESSIONS). */
static void empty_session(const struct run *run, const bb_session *s)
{
	fprintf(stderr, "barbus-coordinator: session %04d-%02d-%02d: the store "
	        "has no bar of it (%s); published without bars\n",
	        s->date / 10000, s->date / 100 % 100, s->date % 100,
	        run->bt->syms ? "for the symbols asked for" : "for any symbol");
	bb__bw_count(run->p, BB_CTR_EMPTY_SESSIONS, 1);
}

/* One session: take its bars, start it (or reopen it when resuming),
 * publish, end it. */
static int one_session(struct run *run, const bb_session *s, bb_session *nx,
                       int *more)
{
	struct bb__bw *p = run->p;
	const bb_status *st = bb__bw_status(p);
	int resumed = run->r.date == s->date;
	int rc = take(run, s, nx, more);

	if (rc != 0)
		return rc;
	if (run->b.n == 0) /* published all the same: minutes without bars */
		empty_session(run, s);
	if (resumed) {
		bb__bw_session_reopen(p, s);
	} else {
		/* The previous session's derived bars are final before the
		 * next one starts (and the wait counts in the transition). */
		if (run->bt->upkeep != NULL && st->date != 0 &&
		    st->state == BB_STATE_ENDED)
			co_handshake_wait(run->bt->upkeep, p, st->date);
		bb__bw_session_start(p, s, run->last_bar_ns);
	}
	/* The sessions after s asked for once s has started: waking the
	 * loader (and its taking the lock) is not in the transition. */
	if (*more)
		request_from(run, *nx);
	rc = replay_session(p, s, &run->b, resumed ? &run->r : NULL, run->bt,
	                    &run->pf, *more ? nx : NULL, run->stop);
	if (rc == 0)
		run->last_bar_ns = bb__mono_ns();
	if (rc == 0 && !*run->stop)
		bb__bw_session_end(p, *more ? BB_END_CLOSE : BB_END_DATA);
	return rc;
}

int co_backtest_range_check(const bb_calendar *cal, int32_t from, int32_t to)
{
	bb_session s;

	return bb_calendar_next(cal, from, &s) == 0 && s.date <= to ? 0
	       : BB_ENOSESSION;
}

int co_backtest_run(struct bb__bw *p, bb_store *st, const bb_calendar *cal,
                    const struct co_backtest *bt, volatile sig_atomic_t *stop)
{
	struct run run = { .p = p, .cal = cal, .bt = bt, .stop = stop };
	bb_session s, nx;
	int more = 0;

	find_resume(p, &run.r);
	/* Before any session: readers (the upkeep) follow these symbols. */
	bb__bw_set_replayed(p, bt->syms, bt->nsyms);
	int rc = first_session(cal, bt, &run.r, &s);
	if (rc == BB_ENOSESSION) {
		bb__bw_done(p);
		return 0;
	}
	if (rc == 0)
		rc = co_prefetch_start(&run.pf, st, bt->syms, bt->nsyms);
	if (rc != 0)
		return rc;
	/* The loader starts on the first sessions while the history loads. */
	request_from(&run, s);
	bb__bw_number_fresh(p);
	uint64_t sessions = bb__bw_status(p)->sessions;
	uint64_t number = run.r.date == s.date ? sessions : sessions + 1;
	rc = co_pub_history_fill(p, st, cal, &s, number);
	for (; rc == 0 && !*stop; s = nx) {
		rc = one_session(&run, &s, &nx, &more);
		if (rc == 0 && !more && !*stop)
			bb__bw_done(p);
		if (!more)
			break;
	}
	co_prefetch_stop(&run.pf);
	bb_batch_free(&run.b);
	return rc;
}
