/* handshake.c: see handshake.h. */
#include <time.h>

#include "clock.h"
#include "handshake.h"
#include "upkeep_status.h"

/*
 * 1 when an upkeep is alive on the bus. Only its status table is looked
 * at: an upkeep that makes it first is alive before the bus exists, and
 * holds up the first boundary until it has caught up.
 */
static int upkeep_alive(struct co_handshake *h)
{
	if (h->up == NULL &&
	    bb_table_open(&h->up, h->bus, BB__UP_STATUS_ROLE) != 0)
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
 * followed a session yet (waiting) is done with nothing.
 */
static int done(const struct co_handshake *h, int32_t date)
{
	bb_upkeep_info info;

	return bb_table_record(h->up, BB__UP_ROW_INFO, &info) == 0 &&
	       info.done_date == date && info.state != BB_UPKEEP_WAITING;
}

void co_handshake_wait(struct co_handshake *h, struct bb__bw *p, int32_t date)
{
	if (h->wait_ms == 0 || !upkeep_alive(h) || done(h, date))
		return;
	bb__bw_count(p, BB_CTR_UPKEEP_WAITS, 1);
	int64_t deadline = bb__mono_ns() + (int64_t)h->wait_ms * 1000000;
	/* Spin briefly (the upkeep is usually microseconds behind), then
	 * poll every 50 us; the upkeep dying ends the wait at once. */
	for (int i = 0; !done(h, date); i++) {
		if (bb__mono_ns() >= deadline) {
			bb__bw_count(p, BB_CTR_UPKEEP_TIMEOUTS, 1);
			return;
		}
		if (i > 1000) {
			struct timespec ts = { 0, 50000 };
			nanosleep(&ts, NULL);
			if ((i & 63) == 0 && !upkeep_alive(h))
				return;
			if ((i & 255) == 0) /* ~13 ms: alive while waiting */
				bb__bw_beat(p);
		}
	}
}

void co_handshake_close(struct co_handshake *h)
{
	bb_table_close(h->up);
	h->up = NULL;
}
