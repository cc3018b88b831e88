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
};

/* Wait until the upkeep finished session date, or it made no progress for
 * the bound, or no upkeep is alive. Counts waits and timeouts in the
 * control segment. */
void co_handshake_wait(struct co_handshake *h, struct co_pub *p, int32_t date);
void co_handshake_close(struct co_handshake *h);

#endif /* CO_HANDSHAKE_H */
