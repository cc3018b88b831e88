/* prefetch.c: see prefetch.h. */
#include <string.h>

#include "prefetch.h"

static void *run(void *arg)
{
	struct co_prefetch *pf = arg;

	pthread_mutex_lock(&pf->mu);
	for (;;) {
		while (!pf->stop && (!pf->requested || pf->ready))
			pthread_cond_wait(&pf->cv, &pf->mu);
		if (pf->stop)
			break;
		bb_session s = pf->want;
		pthread_mutex_unlock(&pf->mu);
		int rc = bb_store_load(pf->store, pf->syms, pf->nsyms, s.open,
		                       s.close, &pf->batch);
		pthread_mutex_lock(&pf->mu);
		/* A newer request came while loading: load that one. */
		if (pf->want.date != s.date)
			continue;
		pf->rc = rc;
		pf->ready = 1;
		pthread_cond_broadcast(&pf->cv);
	}
	pthread_mutex_unlock(&pf->mu);
	return NULL;
}

int co_prefetch_start(struct co_prefetch *pf, bb_store *st,
                      const uint32_t *syms, size_t nsyms)
{
	memset(pf, 0, sizeof(*pf));
	pf->store = st;
	pf->syms = syms;
	pf->nsyms = nsyms;
	pthread_mutex_init(&pf->mu, NULL);
	pthread_cond_init(&pf->cv, NULL);
	return pthread_create(&pf->thread, NULL, run, pf);
}

void co_prefetch_request(struct co_prefetch *pf, const bb_session *s)
{
	pthread_mutex_lock(&pf->mu);
	pf->want = *s;
	pf->requested = 1;
	pf->ready = 0;
	pthread_cond_broadcast(&pf->cv);
	pthread_mutex_unlock(&pf->mu);
}

int co_prefetch_take(struct co_prefetch *pf, const bb_session *s,
                     bb_batch *out, int *hit)
{
	pthread_mutex_lock(&pf->mu);
	if (!pf->requested || pf->want.date != s->date) {
		pthread_mutex_unlock(&pf->mu);
		co_prefetch_request(pf, s);
		pthread_mutex_lock(&pf->mu);
	}
	*hit = pf->ready;
	while (!pf->ready)
		pthread_cond_wait(&pf->cv, &pf->mu);
	bb_batch tmp = *out;
	*out = pf->batch;
	pf->batch = tmp;
	pf->requested = 0;
	pf->ready = 0;
	int rc = pf->rc;
	pthread_mutex_unlock(&pf->mu);
	return rc;
}

void co_prefetch_stop(struct co_prefetch *pf)
{
	pthread_mutex_lock(&pf->mu);
	pf->stop = 1;
	pthread_cond_broadcast(&pf->cv);
	pthread_mutex_unlock(&pf->mu);
	pthread_join(pf->thread, NULL);
	bb_batch_free(&pf->batch);
	pthread_mutex_destroy(&pf->mu);
	pthread_cond_destroy(&pf->cv);
}
