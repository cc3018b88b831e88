/*
 * handshake.h: the session boundary handshake with the upkeep. After
 * SESSION_END(D) a backtest coordinator waits until the upkeep says in its
 * own segment that session D is done, so no reader sees a session begin
 * before the previous one's derived bars are final. The bound is on the
 * upkeep making no progress (its status record unchanged): an upkeep that
 * is taking bars in is waited for however long it needs. It never waits
 * for an upkeep that is not alive (its lock says so).
 */
#ifndef CO_HANDSHAKE_H
#define CO_HANDSHAKE_H

#include "barbus.h"
#include "publish.h"

struct co_handshake {
	const char *bus;
	uint32_t    wait_ms;  /* the bound on no progress; 0: never wait */
	bb_table   *up;       /* its up.status, opened when it appears */
	/* Pacing (co_handshake_pace): */
	bb_table   *q;        /* its up.quality, opened in a session */
	int64_t     look_ns;  /* not there: not looked for again before */
	int32_t     pace_date;
	uint32_t    pace_sym; /* the symbol whose quality says how far */
	uint32_t    pace_lag; /* minutes the replay may be ahead */
	int         stuck;    /* gave up: the upkeep as it was then */
	bb_quality  stuck_q;
	int64_t     stuck_beat;
	/* Boundaries (co_handshake_wait): */
	int            gave_up;  /* a wait timed out: the upkeep as it was */
	bb_upkeep_info gave_up_info;
	int64_t        gave_up_beat;
};

/* Wait until the upkeep finished session date, or it made no progress for
 * the bound, or no upkeep is alive. Counts waits and timeouts in the
 * control segment. After a wait timed out, the next boundaries do not wait
 * (a timeout at once) while the upkeep is exactly as it was then: its
 * status record and heartbeat unchanged (stopped, hung); any progress of
 * it and they wait again. */
void co_handshake_wait(struct co_handshake *h, struct bb__bw *p, int32_t date);
/*
 * Backtest, after MINUTE_END(t) of session s: wait until the upkeep has
 * completed minute t - L (its quality row of the last symbol it follows says
 * so); L is 4096 bars' worth of minutes (8 at 500 symbols, 1 from 4096
 * symbols on), and 0 at the session's last minute. The replay then never runs
 * more than L minutes ahead of the upkeep, and before its last bar is out the
 * upkeep has completed the whole session: the wait at the session boundary is
 * for the session's end alone (about 100 us of the upkeep's work), not for
 * its last minutes or a backlog of the whole session. An upkeep that came
 * after the coordinator (up.quality looked for every 5 ms until it is there)
 * is waited for here while it sets up and catches up, inside the session:
 * while it is not in session s yet, up.status's heartbeat counts as progress
 * and the bound is upkeep-wait-ms, as at a boundary. An upkeep in s that
 * shows no progress for 250 ms (its quality row and heartbeats unchanged; time
 * the coordinator itself did not run not counted) is
 * not paced against again until it moves. Pace waits nap 20 us at a time
 * from the start (the replay is minutes ahead: a spin would only hold a
 * core the upkeep needs; not sched_yield(), which on shared cores gives the
 * core away until the next tick). Not counted as waits: the boundary's wait
 * is what counts.
 */
void co_handshake_pace(struct co_handshake *h, struct bb__bw *p,
                       const bb_session *s, int64_t t);
void co_handshake_close(struct co_handshake *h);

#endif /* CO_HANDSHAKE_H */
