/* prefetch.c: see prefetch.h. */
#include <string.h>

#include "prefetch.h"

enum { PF_FREE, PF_WANTED, PF_LOADING, PF_READY };

/* The slot holding session date, or NULL. Caller holds mu. */
static struct co_pf_slot *find(struct co_prefetch *pf, int32_t date)
{
	for (int i = 0; i < CO_PREFETCH_DEPTH; i++)
		if (pf->slot[i].state != PF_FREE && pf->slot[i].s.date == date)
			return &pf->slot[i];
	return NULL;
}

/* The earliest session wanted and not loading yet, or NULL. */
static struct co_pf_slot *next_wanted(struct co_prefetch *pf)
{
	struct co_pf_slot *best = NULL;

	for (int i = 0; i < CO_PREFETCH_DEPTH; i++)
		if (pf->slot[i].state == PF_WANTED &&
		    (best == NULL || pf->slot[i].s.date < best->s.date))
			best = &pf->slot[i];
	return best;
}

static void *run(void *arg)
{
	struct co_prefetch *pf = arg;
	struct co_pf_slot *sl;

	pthread_mutex_lock(&pf->mu);
	for (;;) {
		while (!pf->stop && (sl = next_wanted(pf)) == NULL)
			pthread_cond_wait(&pf->cv, &pf->mu);
		if (pf->stop)
			break;
		sl->state = PF_LOADING;
		bb_session s = sl->s;
		pthread_mutex_unlock(&pf->mu);
		/* The slot is ours while LOADING: nobody frees or reuses it. */
		int rc = bb_store_load(pf->store, pf->syms, pf->nsyms, s.open,
		                       s.close, &sl->batch);
		pthread_mutex_lock(&pf->mu);
		sl->rc = rc;
		sl->state = PF_READY;
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

/* Ask for s; caller holds mu. 1 when it is (now) asked for. */
static int want(struct co_prefetch *pf, const bb_session *s)
{
	if (find(pf, s->date) != NULL)
		return 1;
	for (int i = 0; i < CO_PREFETCH_DEPTH; i++)
		if (pf->slot[i].state == PF_FREE) {
			pf->slot[i].s = *s;
			pf->slot[i].state = PF_WANTED;
			pthread_cond_broadcast(&pf->cv);
			return 1;
		}
	return 0;
}

void co_prefetch_request(struct co_prefetch *pf, const bb_session *s)
{
	pthread_mutex_lock(&pf->mu);
	want(pf, s);
	pthread_mutex_unlock(&pf->mu);
}

int co_prefetch_take(struct co_prefetch *pf, const bb_session *s,
                     bb_batch *out, int *hit)
{
	struct co_pf_slot *sl;

	pthread_mutex_lock(&pf->mu);
	/* Wait for a free slot if s was never asked for and all are busy. */
	while (!want(pf, s))
		pthread_cond_wait(&pf->cv, &pf->mu);
	sl = find(pf, s->date);
	*hit = sl->state == PF_READY;
	while (sl->state != PF_READY)
		pthread_cond_wait(&pf->cv, &pf->mu);
	bb_batch tmp = *out;
	*out = sl->batch;
	sl->batch = tmp;
	sl->state = PF_FREE;
	int rc = sl->rc;
	pthread_cond_broadcast(&pf->cv);
	pthread_mutex_unlock(&pf->mu);
	return rc;
}

void co_prefetch_await(struct co_prefetch *pf, const bb_session *s)
{
	pthread_mutex_lock(&pf->mu);
	struct co_pf_slot *sl = find(pf, s->date);
	/* Only the publisher takes slots, and it is waiting here: sl stays
	 * s's until it is ready. */
	while (sl != NULL && sl->state != PF_READY && !pf->stop)
		pthread_cond_wait(&pf->cv, &pf->mu);
	pthread_mutex_unlock(&pf->mu);
}

void co_prefetch_stop(struct co_prefetch *pf)
{
	pthread_mutex_lock(&pf->mu);
	pf->stop = 1;
	pthread_cond_broadcast(&pf->cv);
	pthread_mutex_unlock(&pf->mu);
	pthread_join(pf->thread, NULL);
	for (int i = 0; i < CO_PREFETCH_DEPTH; i++)
		bb_batch_free(&pf->slot[i].batch);
	pthread_mutex_destroy(&pf->mu);
	pthread_cond_destroy(&pf->cv);
}
