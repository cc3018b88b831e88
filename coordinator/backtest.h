/* backtest.h: replaying the store through the bus, session by session. */
#ifndef CO_BACKTEST_H
#define CO_BACKTEST_H

#include <signal.h>

#include "barbus.h"
#include "handshake.h"
#include "publish.h"

enum co_pace { CO_PACE_MAX, CO_PACE_FACTOR }; /* realtime is factor 1 */

struct co_backtest {
	int32_t         from, to;     /* YYYYMMDD, inclusive */
	const uint32_t *syms;         /* store ids; NULL: every symbol */
	size_t          nsyms;
	int             pace;         /* co_pace */
	double          factor;       /* session time / wall time */
	struct co_handshake *upkeep;  /* wait for it at boundaries; may be NULL */
};

/* 0 when cal has a session in [from, to], else BB_ENOSESSION: checked
 * before any segment is made. */
int co_backtest_range_check(const bb_calendar *cal, int32_t from, int32_t to);

/*
 * Publish every session of cal in [from, to], resuming after the last
 * record on the ring when the bus was left by a killed coordinator.
 * Returns 0 at the end of data (status DONE), or when *stop became set.
 */
int co_backtest_run(struct bb__bw *p, bb_store *st, const bb_calendar *cal,
                    const struct co_backtest *bt, volatile sig_atomic_t *stop);

#endif /* CO_BACKTEST_H */
