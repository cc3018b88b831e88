/* handshake.c: see handshake.h. */
#include <string.h>
#include <time.h>

#include "clock.h"
#include "handshake.h"
#include "table.h"
#include "upkeep_status.h"

/*
 * 1 when an upkeep is alive on the bus. Only its status table is looked
 * at: an upkeep that makes it first is alive before the bus exists, and
 * holds up the first boundary until it has caught up.
 */
static int upkeep_alive(struct co_handshake *h)
{
	if (h->up == NULL && bb_table_open(&h->up, h->bus, "up.status") != 0)
		return 0;
	if (bb_table_writer_state(h->up, NULL) != BB_WRITER_DEAD)
		return 1;
	/* A new upkeep makes a new table only when its layout changed;
	 * reopen next time to find it either way. */
	bb_table_close(h->up);
	h->up = NULL;
	return 0;
}

/*
 * The upkeep finished session date of this run. Equality, not order: a
 * bus used again keeps the last date an earlier run's upkeep finished,
 * which may lie after this run's boundaries; and an upkeep that has not
 * followed a session yet (waiting) is done with nothing. *info: the
 * record read (zero when unreadable), to tell progress by.
 */
static int done(const struct co_handshake *h, int32_t date,
                bb_upkeep_info *info)
{
	*info = (bb_upkeep_info){ 0 };
	return bb_table_record(h->up, BB__UP_ROW_INFO, info) == 0 &&
	       info->done_date == date && info->state != BB_UPKEEP_WAITING;
}

/* What the coordinator sees of the upkeep: its status record and its
 * heartbeat, and since when each has stood still. */
struct look {
	bb_upkeep_info info;
	int64_t        beat;
	int64_t        info_t, beat_t; /* when each last changed */
};

/* Heartbeats alone (the record unchanged) keep a wait going this long at
 * most: an upkeep beating while it sets up its tables or rebuilds a
 * session shows progress in its record within seconds. */
#define BEAT_ONLY_NS (60 * 1000000000LL)
#define SPIN_NS      (200 * 1000LL) /* the first of a wait: spinning */
#define NAP_NS       20000          /* then naps this long */

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* Give the core away for NAP_NS: not sched_yield(), which on cores shared
 * with other processes gives the core away until the next scheduler tick
 * (measured: 2-5 ms after the upkeep said done), where a woken sleeper is
 * run again at once. */
static void nap(void)
{
	struct timespec ts = { 0, NAP_NS };

	nanosleep(&ts, NULL);
}

/*
 * One pause of a boundary's wait on the upkeep that began at t0 (now: t).
 * The upkeep has about 100 us of work left when it begins (the pacing
 * keeps it level with the replay): spin that long, the core held being
 * ours, not its (it runs on the other one, or has been woken by the record
 * we published); then nap.
 */
static void rest(int64_t t0, int64_t t)
{
	if (t - t0 < SPIN_NS) {
		for (int k = 0; k < 64; k++)
			cpu_relax();
		return;
	}
	nap();
}

/* Take in what the upkeep shows now (at t). */
static void look_at(struct look *l, const struct co_handshake *h,
                    const bb_upkeep_info *info, int64_t t)
{
	int64_t beat = bb__table_beat_ns(h->up);

	if (memcmp(info, &l->info, sizeof(*info)) != 0) {
		l->info = *info;
		l->info_t = t;
	}
	if (beat != l->beat) {
		l->beat = beat;
		l->beat_t = t;
	}
}

/* The upkeep made no progress for bound ns: its record and its heartbeat
 * stood still that long, or only its heartbeat moved for BEAT_ONLY_NS. */
static int given_up(const struct look *l, int64_t bound, int64_t t)
{
	int64_t last = l->beat_t > l->info_t ? l->beat_t : l->info_t;

	return t - last >= bound || t - l->info_t >= BEAT_ONLY_NS;
}

/* The upkeep is as it was when a wait last timed out (info: read now). */
static int still_given_up(const struct co_handshake *h,
                          const bb_upkeep_info *info)
{
	return h->gave_up &&
	       memcmp(info, &h->gave_up_info, sizeof(*info)) == 0 &&
	       bb__table_beat_ns(h->up) == h->gave_up_beat;
}

/* A wait timed out on the upkeep showing l. */
static void give_up(struct co_handshake *h, struct bb__bw *p,
                    const struct look *l)
{
	h->gave_up = 1;
	h->gave_up_info = l->info;
	h->gave_up_beat = l->beat;
	bb__bw_count(p, BB_CTR_UPKEEP_TIMEOUTS, 1);
}

/*
 * The bound is on the upkeep standing still, not on the wait: an upkeep
 * that is alive and working rewrites its status record (bars taken in,
 * fills, sessions) at least every 50 ms while it follows the ring, and
 * beats up.status while it sets up its tables or rebuilds a session. So a
 * backtest replaying faster than the upkeep derives (10,000 symbols at
 * full speed) waits at each boundary for as long as the upkeep needs, and
 * never starts a session that the upkeep would then rebuild from the
 * store; an upkeep stopped, hung or dead is given up on within the bound
 * as before. (Only a backtest waits: a live coordinator never holds its
 * feed for the upkeep.)
 */
void co_handshake_wait(struct co_handshake *h, struct bb__bw *p, int32_t date)
{
	bb_upkeep_info now;
	struct look l = { .beat = 0 };

	if (h->wait_ms == 0 || !upkeep_alive(h) || done(h, date, &now))
		return;
	bb__bw_count(p, BB_CTR_UPKEEP_WAITS, 1);
	if (still_given_up(h, &now)) { /* it has not moved since */
		bb__bw_count(p, BB_CTR_UPKEEP_TIMEOUTS, 1);
		return;
	}
	h->gave_up = 0;
	int64_t bound = (int64_t)h->wait_ms * 1000000, t = bb__mono_ns();
	look_at(&l, h, &now, t);
	l.info_t = l.beat_t = t;
	/* The upkeep, paced to the session's last minute, has only the
	 * session's end left (rest()); the upkeep dying ends the wait at
	 * once. */
	int64_t t0 = t, alive = t, ours = t;
	while (!done(h, date, &now)) {
		t = bb__mono_ns();
		look_at(&l, h, &now, t);
		if (given_up(&l, bound, t)) {
			give_up(h, p, &l);
			return;
		}
		rest(t0, t);
		if (t - alive > 3000000) { /* every 3 ms: still there? */
			if (!upkeep_alive(h))
				return;
			alive = t;
		}
		if (t - ours > 13000000) { /* alive while waiting */
			bb__bw_beat(p);
			ours = t;
		}
	}
}

/* ---- pacing within a session ---------------------------------------------- */

/* No progress for this long: stop pacing. Longer than a stop of the
 * machine (a VM's vCPU held about 100 ms) that leaves the upkeep alone
 * standing still while the replay runs. */
#define PACE_STILL_NS (250 * 1000000LL)
#define PACE_GAP_NS   (5 * 1000000LL)   /* between two looks: not counted */
#define PACE_LOOK_NS  (5 * 1000000LL) /* no up.quality: look again after */
/* Bars the replay may run ahead of the upkeep, in whole minutes: enough
 * that a time slice the upkeep loses does not hold the replay at once,
 * few enough (about a millisecond of the upkeep's work) that the boundary
 * waits no longer. */
#define PACE_LAG_BARS 4096

/* The symbol whose quality the upkeep writes last when it completes a
 * minute (it goes through the symbols it follows in id order): the
 * highest replayed id it has a row for (UINT32_MAX: none); and the
 * minutes the replay may run ahead: PACE_LAG_BARS of the symbols
 * replayed, one at least. */
static void last_symbol(struct co_handshake *h, const struct bb__bw *p)
{
	uint32_t n = bb__bw_nsym(p), count = 0;

	if (n > bb__bw_geom(p)->table_symbols)
		n = bb__bw_geom(p)->table_symbols;
	if (n > bb_table_symbols(h->q))
		n = bb_table_symbols(h->q);
	h->pace_sym = UINT32_MAX;
	while (n-- > 0)
		if (bb__bw_replayed(p, n)) {
			if (h->pace_sym == UINT32_MAX)
				h->pace_sym = n;
			count++;
		}
	h->pace_lag = count ? (PACE_LAG_BARS + count - 1) / count : 1;
	if (h->pace_lag < 1)
		h->pace_lag = 1;
}

/* The upkeep completed minute `need` - 1 of session date for every
 * symbol; *q: what it says. */
static int paced(const struct co_handshake *h, int32_t date, uint32_t need,
                 bb_quality *q)
{
	*q = (bb_quality){ 0 };
	return bb_table_record(h->q, h->pace_sym, q) == 0 && q->date == date &&
	       q->expected >= need;
}

/* Is the upkeep where it was when pacing last gave up? */
static int still_stuck(const struct co_handshake *h, const bb_quality *q)
{
	return h->stuck && memcmp(q, &h->stuck_q, sizeof(*q)) == 0 &&
	       bb__table_beat_ns(h->q) == h->stuck_beat;
}

/* Open up.quality (not more often than PACE_LOOK_NS while it is not
 * there) and find the symbol to watch in session date: 0 when ready. */
static int pace_setup(struct co_handshake *h, const struct bb__bw *p,
                      int32_t date, int64_t now)
{
	/* up.quality is looked for again in each session (an upkeep started
	 * since may have made a new one): at its first minute, not at the
	 * boundary (unmapping it takes 0.2 ms at 10,000 symbols). */
	if (h->q != NULL && h->pace_date != date) {
		bb_table_close(h->q);
		h->q = NULL;
		h->look_ns = 0;
	}
	if (h->q == NULL) {
		if (now < h->look_ns)
			return -1;
		h->look_ns = now + PACE_LOOK_NS;
		if (bb_table_open(&h->q, h->bus, "up.quality") != 0) {
			h->q = NULL;
			return -1;
		}
		h->pace_date = 0;
		upkeep_alive(h); /* its up.status: progress while it sets up */
	}
	if (h->pace_date != date) {
		h->pace_date = date;
		last_symbol(h, p);
		h->stuck = 0;
	}
	return h->pace_sym == UINT32_MAX ? -1 : 0;
}

/* The upkeep's heartbeats: of up.quality, and of up.status (beaten while
 * it creates its tables and rebuilds a session), 0 for one not open. */
static void beats(const struct co_handshake *h, int64_t b[2])
{
	b[0] = bb__table_beat_ns(h->q);
	b[1] = h->up != NULL ? bb__table_beat_ns(h->up) : 0;
}

/*
 * Wait until paced (q: as it was seen last). The bound on no progress is
 * PACE_STILL_NS while the upkeep follows session s, and upkeep-wait-ms
 * while it is not in it yet: an upkeep that came late creates its tables
 * and catches up (seconds at 10,000 symbols), beating up.status; that is
 * waited for here, inside the session, and not at its end.
 */
static void pace_wait(struct co_handshake *h, struct bb__bw *p,
                      const bb_session *s, uint32_t need, bb_quality q)
{
	int64_t last = bb__mono_ns(), ours = last, prev = last;
	int64_t beat[2], b[2];
	bb_quality seen = q;

	beats(h, beat);
	while (!paced(h, s->date, need, &q)) {
		int64_t now = bb__mono_ns();
		/* We did not run meanwhile (preempted, or the machine stopped:
		 * a VM's vCPU held by its host for 100 ms): that time is not the
		 * upkeep's standing still, it did not run either. */
		if (now - prev > PACE_GAP_NS)
			last += now - prev;
		prev = now;
		int64_t bound = q.date == s->date ? PACE_STILL_NS
		                : (int64_t)h->wait_ms * 1000000;
		beats(h, b);
		if (memcmp(&q, &seen, sizeof(q)) != 0 ||
		    memcmp(b, beat, sizeof(b)) != 0) {
			seen = q; /* it moves on */
			memcpy(beat, b, sizeof(b));
			last = now;
		} else if (now - last >= bound) {
			h->stuck = 1; /* stopped, hung or dead: not again until
			                 it moves */
			h->stuck_q = q;
			h->stuck_beat = b[0];
			return;
		}
		if (now - ours > 50000000) { /* alive while it waits */
			bb__bw_beat(p);
			ours = now;
		}
		/* Nap at once: the replay is minutes ahead (pace_lag), so
		 * nothing waits on how soon we see the upkeep move, and a
		 * spin here held a core the upkeep, the reader and our
		 * loader need (0.1 to 0.4 s of CPU in a 4 M bar replay). */
		nap();
	}
	h->stuck = 0;
}

void co_handshake_pace(struct co_handshake *h, struct bb__bw *p,
                       const bb_session *s, int64_t t)
{
	uint32_t m = (uint32_t)((t - s->open) / 60), need;
	bb_quality q;

	/* At the session's last minute no lag: the boundary then waits for
	 * the session's end only, the upkeep's minutes are waited for here. */
	uint32_t lag = t + 60 >= s->close ? 0 : h->pace_lag;

	if (h->wait_ms == 0 || pace_setup(h, p, s->date, bb__mono_ns()) != 0 ||
	    (need = m + 1 > lag ? m + 1 - lag : 0) == 0 ||
	    paced(h, s->date, need, &q) || still_stuck(h, &q))
		return;
	pace_wait(h, p, s, need, q);
}

void co_handshake_close(struct co_handshake *h)
{
	bb_table_close(h->up);
	bb_table_close(h->q);
	h->up = NULL;
	h->q = NULL;
}
