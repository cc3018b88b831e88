/*
 * follow.c: following a bus. The upkeep waits for the bus, opens the ring
 * (next record), then synchronises from the control status and the session
 * table, and from then on takes the ring's events in order:
 *
 *   SESSION_START  the engine starts the session (its tables reset)
 *   bar            taken (a minute already seen is a duplicate: skipped)
 *   MINUTE_END(t)  minutes up to t complete: gaps looked for
 *   SESSION_END    the session finished; up.status says it is done; with
 *                  reason end-of-data the upkeep exits 0
 *
 * The ring position is taken before the snapshot, so whatever the snapshot
 * missed is still ahead on the ring, and whatever both hold is skipped as a
 * duplicate. Lapped on the ring, the upkeep does the same again: the
 * session is rebuilt from the session table in minute order, so the derived
 * bars come out the same whatever the reading speed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "control.h"
#include "upkeep.h"
#include "upkeep_status.h"

#define BEAT_NS   (50 * 1000000LL) /* tables beat twice per 100 ms */
#define WAIT_NS   (20 * 1000000LL) /* ring wait between housekeeping */
#define RETRY_NS  (5 * 1000000LL)  /* pending gaps looked at this often */
#define UP_DONE   1                /* end of data reached */

static void sleep_ms(int ms)
{
	struct timespec ts = { 0, (long)ms * 1000000 };

	nanosleep(&ts, NULL);
}

static void close_bus(struct up_fol *f)
{
	bb_ring_reader_close(f->r);
	bb_table_close(f->s1m);
	bb_bus_close(f->bus);
	f->r = NULL;
	f->s1m = NULL;
	f->bus = NULL;
}

/* One attempt at mapping the bus: 0, or why not. */
static int open_bus(struct up_fol *f)
{
	int rc = bb_bus_open(&f->bus, f->c->bus);

	if (rc == 0)
		rc = bb_table_open(&f->s1m, f->c->bus, BB__ROLE_SESSION);
	if (rc == 0) {
		rc = bb_ring_reader_open(&f->r, f->c->bus, BB_WAIT_BLOCK, 0);
		if (rc != 0) /* the wake word may not be writable for us */
			rc = bb_ring_reader_open(&f->r, f->c->bus, BB_WAIT_YIELD, 0);
	}
	if (rc != 0)
		close_bus(f);
	return rc;
}

/*
 * Is there anything for us on the bus as it is? A dead coordinator's
 * finished run is not, unless we have not done its last session. Nor is a
 * running coordinator whose status still says DONE (or, in a backtest,
 * nothing yet): it is about to exit, or starting a run on the bus and has
 * not written the run's first status, so its tables and ring may still be
 * replaced by ones of another geometry. The bus is opened again until it
 * says more. (A live coordinator says nothing until its feed starts: it is
 * followed at once.)
 */
static int worth_following(struct up_fol *f)
{
	bb_status st;
	bb_upkeep_info up = { 0 };
	int rc = bb_bus_status(f->bus, &st);

	if (bb_bus_writer_state(f->bus, NULL) != BB_WRITER_DEAD)
		return rc == 0 && st.state != BB_STATE_DONE &&
		       (st.state != BB_STATE_NONE || st.mode == BB_MODE_LIVE);
	if (rc != 0 || st.state != BB_STATE_DONE)
		return 0;
	bb_table *t;
	if (bb_table_open(&t, f->c->bus, BB__UP_STATUS_ROLE) == 0) {
		bb_table_record(t, BB__UP_ROW_INFO, &up);
		bb_table_close(t);
	}
	return st.date != 0 && up.done_date != st.date;
}

static int wait_bus(struct up_fol *f, volatile sig_atomic_t *stop)
{
	int64_t t0 = bb__mono_ns();
	int said = 0;

	while (!*stop) {
		int rc = open_bus(f);
		if (rc == 0 && worth_following(f))
			return 0;
		if (rc == 0)
			close_bus(f);
		if (!said) {
			bb__log(BB__LOG_NOTICE, "bus %s: waiting for a "
			        "coordinator (%s)", f->c->bus, rc ? bb_strerror(rc)
			        : "its last run is finished");
			said = 1;
		}
		if (f->c->wait_bus_ms &&
		    bb__mono_ns() - t0 > (int64_t)f->c->wait_bus_ms * 1000000)
			return BB_ETIMEDOUT;
		up_segs_beat(f->segs); /* alive while waiting */
		sleep_ms(20);
	}
	return EINTR;
}

/* One ring record. UP_DONE at the end of data. */
static int on_event(struct up_fol *f, const bb_bar *ev)
{
	bb_session s;
	int reason = 0, rc = 0;
	const bb_session *cur = up_engine_session(f->e);

	switch (BB_KIND(ev->flags)) {
	case BB_KIND_BAR:
		rc = up_engine_bar(f->e, ev);
		return rc < 0 ? rc : 0;
	case BB_KIND_MINUTE_END:
		return up_engine_complete(f->e, ev->time, up_fol_nsym(f), bb__mono_ns());
	case BB_KIND_SESSION_START:
		bb_event_session_get(ev, &s, NULL);
		if (cur->date == s.date)
			return 0; /* the synchronisation took it already (the
			             ring and the snapshot overlap) */
		return up_sync_start(f, &s);
	case BB_KIND_SESSION_END:
		bb_event_session_get(ev, &s, &reason);
		if (cur->date == s.date)
			rc = up_fol_finish(f);
		return rc == 0 && reason == BB_END_DATA ? UP_DONE : rc;
	}
	return 0;
}

/*
 * Live backup for a lost MINUTE_END: the session clock. The status is
 * written after the ring records it covers, so a clock read now may refer
 * to records still ahead of us on the ring: it is acted on only at the
 * next idle check, once the ring was drained after reading it.
 */
static int check_clock(struct up_fol *f, int64_t now)
{
	bb_status st;
	int rc = 0;

	if (f->mode != BB_MODE_LIVE)
		return 0;
	if (f->clock_seen != INT64_MIN)
		rc = up_engine_complete(f->e, f->clock_seen, up_fol_nsym(f), now);
	f->clock_seen = INT64_MIN;
	if (bb_bus_status(f->bus, &st) == 0 && st.state == BB_STATE_OPEN &&
	    st.date == up_engine_session(f->e)->date)
		f->clock_seen = st.clock;
	return rc;
}

/* Housekeeping between events: beats, retries; idle: the live clock. */
static int tick(struct up_fol *f, int64_t now, int idle)
{
	int rc = 0;

	if (now - f->last_beat >= BEAT_NS) {
		up_segs_beat(f->segs);
		up_fol_status(f);
		f->last_beat = now;
	}
	if (now - f->last_retry >= RETRY_NS) {
		rc = up_engine_retry(f->e, now);
		f->last_retry = now;
	}
	if (rc == 0 && idle && now - f->last_check >=
	    (int64_t)f->c->check_interval_ms * 1000000) {
		f->last_check = now;
		rc = check_clock(f, now);
	}
	uint64_t ep = bb_ring_epoch(f->r);
	if (ep != f->epoch) {
		if (f->epoch != 0)
			bb__log(BB__LOG_NOTICE, "bus %s: coordinator restarted "
			        "(epoch %llu); following", f->c->bus,
			        (unsigned long long)ep);
		f->epoch = ep;
	}
	return rc;
}

/* No writer on the ring and nothing left: at the end of data, finish. */
static int on_no_writer(struct up_fol *f)
{
	bb_status st;
	int eod = 0;

	if (bb_bus_status(f->bus, &st) == 0 && st.state == BB_STATE_DONE) {
		int rc = up_sync(f, &eod);
		return rc != 0 ? rc : UP_DONE;
	}
	sleep_ms(20);
	return 0;
}

#define BATCH 32 /* records read ahead */
#define AHEAD 6  /* prefetch the rows of the bar this far ahead */
#define FAR   12 /* and the tables' lines (that say which rows) this far */

/*
 * ev[0] was read; read what else is there (up to BATCH) and take it in,
 * asking for the table rows of the bar AHEAD records on: the rows of 500
 * symbols lie on different pages, so the misses had better overlap. The
 * rows' addresses come from the tables' symbol lines, fetched FAR records
 * on: at 10,000 symbols those are out of cache too, and a miss there
 * would hold up the row prefetch that reads them. *w
 * becomes BB_ELAPPED when the reading ahead was lapped (after the records
 * read are taken in).
 */
static int batch(struct up_fol *f, bb_bar *ev, int *w)
{
	uint64_t lost;
	size_t n = 0;
	int rc = 0;

	*w = bb_ring_read_n(f->r, &ev[1], BATCH - 1, &n, &lost) == BB_ELAPPED
	     ? BB_ELAPPED : 0;
	n++;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (i + FAR < n && BB_KIND(ev[i + FAR].flags) == BB_KIND_BAR)
			up_segs_prefetch_far(f->segs, ev[i + FAR].symbol);
		if (i + AHEAD < n && BB_KIND(ev[i + AHEAD].flags) == BB_KIND_BAR) {
			up_segs_prefetch(f->segs, ev[i + AHEAD].symbol);
			up_engine_prefetch(f->e, ev[i + AHEAD].symbol);
		}
		rc = on_event(f, &ev[i]);
	}
	return rc;
}

#define END_SPIN_NS 2000000LL /* how long the session's end is spun for */

/*
 * The followed session's last minute is complete and its end not taken:
 * the SESSION_END comes next, at once in a backtest, and the coordinator's
 * boundary waits on our taking it. It is spun for, once a session and for
 * END_SPIN_NS at most, rather than slept for. Measured here (a replay of
 * 22 sessions): asleep in bb_ring_wait(), the upkeep took the end 250-310
 * us after it was published at many boundaries, and the longest boundary
 * of a run was over 1 ms in 4 runs of 7 (up to 5.9 ms); spinning, it took
 * the end at once, and the longest was over 1 ms in 2 runs of 14.
 * 0 with *ev, BB_EEMPTY when nothing came, or bb_ring_read()'s error.
 */
static int end_spin(struct up_fol *f, bb_bar *ev, uint64_t *lost)
{
	const bb_session *s = up_engine_session(f->e);

	if (s->date == 0 || s->date == f->end_spun || up_engine_finished(f->e) ||
	    up_engine_through(f->e) < s->close - 60)
		return BB_EEMPTY;
	f->end_spun = s->date;
	int64_t end = bb__mono_ns() + END_SPIN_NS;
	for (unsigned i = 1;; i++) {
		int rc = bb_ring_read(f->r, ev, lost);
		if (rc != BB_EEMPTY || ((i & 63) == 0 && bb__mono_ns() > end))
			return rc;
	}
}

/* busy_ns: all of the loop's time but that spent in bb_ring_wait() or
 * waiting for a writer: taking records in, resynchronising after a lap,
 * ticks, session ends. */
static int loop(struct up_fol *f, volatile sig_atomic_t *stop)
{
	bb_bar ev[BATCH];
	uint64_t lost;
	int eod = 0, n = 0;
	int64_t t0 = bb__mono_ns(), waited = 0;
	int rc = up_sync(f, &eod);

	if (rc == 0 && eod) {
		f->busy_ns += bb__mono_ns() - t0;
		return UP_DONE;
	}
	while (rc == 0 && !*stop) {
		int64_t w0 = bb__mono_ns();
		int w = end_spin(f, &ev[0], &lost);
		if (w == BB_EEMPTY)
			w = bb_ring_wait(f->r, &ev[0], &lost, WAIT_NS);
		waited += bb__mono_ns() - w0;
		if (w == 0) {
			rc = batch(f, ev, &w);
			n += BATCH;
			if (w == 0 && n % 256 >= BATCH)
				continue;
		}
		if (rc != 0) {
			break;
		} else if (w == BB_ELAPPED) {
			up_segs_status(f->segs)->lapped++;
			rc = up_sync(f, &eod);
			if (rc == 0 && eod)
				rc = UP_DONE;
		} else if (w == BB_ENOWRITER) {
			int64_t n0 = bb__mono_ns(); /* mostly sleeping: waiting */
			rc = on_no_writer(f);
			waited += bb__mono_ns() - n0;
		} else if (w != BB_ETIMEDOUT && w != BB_EEMPTY) {
			rc = w;
		}
		if (rc == 0)
			rc = tick(f, bb__mono_ns(), w == BB_ETIMEDOUT || w == BB_EEMPTY);
	}
	f->busy_ns += bb__mono_ns() - t0 - waited;
	return rc;
}

static bb_seg_opts seg_opts(const struct up_config *c)
{
	return (bb_seg_opts){ .heartbeat_ms = c->heartbeat_ms,
	                      .mode = c->segment_mode,
	                      .group = c->segment_group };
}

static struct up_intervals intervals(const struct up_config *c)
{
	return c->auto_derive ? c->intervals : (struct up_intervals){ 0 };
}

static int setup(struct up_fol *f)
{
	const struct up_config *c = f->c;
	bb_status st;
	bb_seg_opts o = seg_opts(c);
	struct up_intervals iv = intervals(c);
	struct up_sink sink;

	f->nsym = bb_table_symbols(f->s1m);
	f->rows = bb_table_rows(f->s1m);
	for (uint32_t k = 0; k < iv.n; k++)
		if (iv.min[k] > f->rows) {
			bb__log(BB__LOG_WARNING, "interval %um is longer than the "
			        "bus's sessions (%u minutes)", iv.min[k], f->rows);
			return BB_EINVAL;
		}
	int rc = bb_bus_status(f->bus, &st);
	f->mode = st.mode;
	if (rc == 0)
		rc = up_segs_attach(f->segs, c->bus, f->nsym, f->rows, &o);
	if (rc != 0)
		return rc;
	struct up_engine_opts eo = {
		.nsym = f->nsym, .rows = f->rows, .iv = iv,
		.gap_policy = c->gap_policy,
		.retries = c->retry_missing && st.mode == BB_MODE_LIVE,
		.max_retries = c->max_retries, .backoff_ms = c->retry_backoff_ms,
	};
	f->buf = calloc(f->rows, sizeof(*f->buf));
	if (f->buf == NULL)
		return ENOMEM;
	up_segs_sink(f->segs, 1, f->store, f->bus, &sink);
	if ((rc = up_engine_new(&f->e, &eo, &sink)) != 0)
		return rc;
	eo.retries = 0; /* a past session's store is as complete as it gets */
	eo.fresh = 1;
	up_segs_sink(f->segs, 0, f->store, f->bus, &sink);
	return up_engine_new(&f->pe, &eo, &sink);
}

/* The closing line: what this run did, and how fast it took bars in. */
static void summary(const struct up_fol *f)
{
	const bb_upkeep_info *s = up_segs_status(f->segs);
	uint64_t bars, fills, unf;
	double busy = f->busy_ns / 1e9;

	up_fol_totals(f, &bars, &fills, &unf);
	bb__log(BB__LOG_NOTICE, "bus %s: %llu bars, %llu filled, %llu "
	        "unfillable, %llu sessions done, lapped %llu; busy %.3f s "
	        "(%.0f bars/s)", f->c->bus, (unsigned long long)bars,
	        (unsigned long long)fills, (unsigned long long)unf,
	        (unsigned long long)s->sessions_done,
	        (unsigned long long)s->lapped, busy, busy > 0 ? bars / busy : 0);
}

int up_follow(const struct up_config *c, volatile sig_atomic_t *stop)
{
	struct up_fol f = { .c = c, .clock_seen = INT64_MIN };
	int rc = bb_store_open(&f.store, c->db, BB_STORE_RDONLY);

	if (rc != 0) {
		bb__log(BB__LOG_ERR, "store %s: %s", c->db,
		        bb_strerror(rc));
		return rc;
	}
	bb_seg_opts o = seg_opts(c);
	struct up_intervals iv = intervals(c);
	rc = up_segs_new(&f.segs, c->bus, &iv, c->history_days, &o);
	if (rc == 0)
		rc = wait_bus(&f, stop);
	if (rc == 0)
		rc = setup(&f);
	if (rc == BB_EBUSY)
		bb__log(BB__LOG_ERR, "bus %s: another upkeep is running "
		        "on it", c->bus);
	if (rc == 0)
		rc = loop(&f, stop);
	if (rc == UP_DONE) {
		up_segs_status(f.segs)->state = BB_UPKEEP_EXITED;
		up_fol_status(&f);
		rc = 0;
	}
	if (f.e != NULL)
		summary(&f);
	if (f.e != NULL && f.segs != NULL)
		up_fol_status(&f);
	up_engine_free(f.e);
	up_engine_free(f.pe);
	up_segs_close(f.segs);
	free(f.buf);
	close_bus(&f);
	bb_store_close(f.store);
	return rc;
}
