/*
 * prefetch.h: a background thread that loads the next sessions' bars from
 * the store while the current one is published, so a session boundary never
 * waits on the store. It keeps up to CO_PREFETCH_DEPTH sessions in flight:
 * a short session (an early close) leaves the one after it less time.
 */
#ifndef CO_PREFETCH_H
#define CO_PREFETCH_H

#include <pthread.h>

#include "barbus.h"

#define CO_PREFETCH_DEPTH 3

struct co_pf_slot {
	bb_session s;
	bb_batch   batch;
	int        state; /* PF_FREE, PF_WANTED, PF_LOADING, PF_READY */
	int        rc;
};

struct co_prefetch {
	pthread_t         thread;
	pthread_mutex_t   mu;
	pthread_cond_t    cv;
	bb_store         *store;
	const uint32_t   *syms;   /* NULL: all symbols */
	size_t            nsyms;
	struct co_pf_slot slot[CO_PREFETCH_DEPTH];
	int               stop;
};

/* syms (may be NULL) must outlive the prefetcher. */
int  co_prefetch_start(struct co_prefetch *pf, bb_store *st,
                       const uint32_t *syms, size_t nsyms);
/* Load session s in the background, unless it is already asked for; when
 * every slot is taken the request is dropped (take() will load it). */
void co_prefetch_request(struct co_prefetch *pf, const bb_session *s);
/*
 * The bars of session s, swapped into *out (whose old memory the
 * prefetcher reuses). *hit is 1 when they were ready without waiting.
 * Loads s itself when it was not asked for.
 */
int  co_prefetch_take(struct co_prefetch *pf, const bb_session *s,
                      bb_batch *out, int *hit);
/* Wait until s is loaded, when it was asked for (else return at once):
 * the publisher leaves its core to the loader before a boundary. */
void co_prefetch_await(struct co_prefetch *pf, const bb_session *s);
void co_prefetch_stop(struct co_prefetch *pf);

#endif /* CO_PREFETCH_H */
