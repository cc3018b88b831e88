/*
 * prefetch.h: a background thread that loads the next session's bars from
 * the store while the current one is published, so a session boundary never
 * waits on the store.
 */
#ifndef CO_PREFETCH_H
#define CO_PREFETCH_H

#include <pthread.h>

#include "barbus.h"

struct co_prefetch {
	pthread_t       thread;
	pthread_mutex_t mu;
	pthread_cond_t  cv;
	bb_store       *store;
	const uint32_t *syms;   /* NULL: all symbols */
	size_t          nsyms;
	bb_session      want;   /* the session requested */
	bb_batch        batch;  /* its bars, once ready */
	int             requested, ready, stop, rc;
};

/* syms (may be NULL) must outlive the prefetcher. */
int  co_prefetch_start(struct co_prefetch *pf, bb_store *st,
                       const uint32_t *syms, size_t nsyms);
/* Begin loading session s; a request not yet taken is replaced. */
void co_prefetch_request(struct co_prefetch *pf, const bb_session *s);
/*
 * The bars of session s, swapped into *out (whose old memory the
 * prefetcher reuses). *hit is 1 when they were ready without waiting.
 * Loads s itself when it was not the session requested.
 */
int  co_prefetch_take(struct co_prefetch *pf, const bb_session *s,
                      bb_batch *out, int *hit);
void co_prefetch_stop(struct co_prefetch *pf);

#endif /* CO_PREFETCH_H */
