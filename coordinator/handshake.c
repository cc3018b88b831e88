/* handshake.c: see handshake.h. */
#include <string.h>
#include <time.h>

#include "handshake.h"
#include "table.h"

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

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
	return bb_table_record(h->up, 0, info) == 0 &&
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
void co_handshake_wait(struct co_handshake *h, struct co_pub *p, int32_t date)
{
	bb_upkeep_info now;
	struct look l = { .beat = 0 };

	if (h->wait_ms == 0 || !upkeep_alive(h) || done(h, date, &now))
		return;
	bb__ctl_add(p->ctl, BB_CTR_UPKEEP_WAITS, 1);
	int64_t bound = (int64_t)h->wait_ms * 1000000, t = now_ns();
	look_at(&l, h, &now, t);
	l.info_t = l.beat_t = t;
	/* Spin briefly (the upkeep is usually microseconds behind), then
	 * poll every 50 us; the upkeep dying ends the wait at once. */
	for (int i = 0; !done(h, date, &now); i++) {
		t = now_ns();
		look_at(&l, h, &now, t);
		if (given_up(&l, bound, t)) {
			bb__ctl_add(p->ctl, BB_CTR_UPKEEP_TIMEOUTS, 1);
			return;
		}
		if (i > 1000) {
			struct timespec ts = { 0, 50000 };
			nanosleep(&ts, NULL);
			if ((i & 63) == 0 && !upkeep_alive(h))
				return;
			if ((i & 255) == 0) /* ~13 ms: alive while waiting */
				co_pub_beat(p);
		}
	}
}

void co_handshake_close(struct co_handshake *h)
{
	bb_table_close(h->up);
	h->up = NULL;
}
