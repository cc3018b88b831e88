/*
 * store_count.c: the bar store's count of bars per minute (docs/store.md,
 * "minutes"), so that bb_store_load() can place each bar of a session at
 * its final position in one pass.
 *
 * "minutes": u32 BE day since the epoch -> 1440 x u32 (host order), the bars
 * the store holds at each minute of that UTC day, over all symbols. A day
 * without a record has no bars. Stores made before it have no "minutes"
 * (st->minutes_ok is 0): they are written and loaded as before.
 *
 * The counts are a hint the loader checks, never trusted: a load that meets
 * a minute with more or fewer bars than counted discards its placement and
 * takes the path that does not need them (store_read.c). So a store written
 * by a program that does not know the counts loads exactly, only slower.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "store_int.h"

#define DAY_MINUTES 1440

struct bb__day_count {
	uint32_t day;
	uint32_t n[DAY_MINUTES];
};

void bb__store_counts_reset(struct bb__counts *c)
{
	for (size_t i = 0; i < c->cap; i++)
		free(c->slot[i]);
	free(c->slot);
	*c = (struct bb__counts){ 0 };
}

/* The table slot of day: its record, or the empty slot where it belongs. */
static struct bb__day_count **find(const struct bb__counts *c, uint32_t day)
{
	size_t i = (day * 0x9e3779b1u) & (c->cap - 1);

	while (c->slot[i] != NULL && c->slot[i]->day != day)
		i = (i + 1) & (c->cap - 1);
	return &c->slot[i];
}

/* Double the table (a power of two, at most half full). */
static int grow(struct bb__counts *c)
{
	struct bb__counts g = { .cap = c->cap ? c->cap * 2 : 64, .ndays = c->ndays };

	if ((g.slot = calloc(g.cap, sizeof(*g.slot))) == NULL)
		return ENOMEM;
	for (size_t i = 0; i < c->cap; i++)
		if (c->slot[i] != NULL)
			*find(&g, c->slot[i]->day) = c->slot[i];
	free(c->slot);
	*c = g;
	return 0;
}

int bb__store_counts_add(struct bb__counts *c, int64_t t)
{
	uint32_t day = (uint32_t)(t / 86400);
	struct bb__day_count *d = c->last;

	if (d == NULL || d->day != day) {
		if (2 * (c->ndays + 1) > c->cap && grow(c) != 0)
			return ENOMEM;
		struct bb__day_count **s = find(c, day);
		if (*s == NULL) {
			if ((*s = calloc(1, sizeof(**s))) == NULL)
				return ENOMEM;
			(*s)->day = day;
			c->ndays++;
		}
		d = c->last = *s;
	}
	d->n[t / 60 % DAY_MINUTES]++;
	return 0;
}

/* Add one day's new bars to its record. */
static int day_write(bb_store *st, MDB_txn *txn, const struct bb__day_count *d)
{
	uint32_t n[DAY_MINUTES] = { 0 }, be = htobe32(d->day);
	MDB_val k = { sizeof(be), &be }, v;
	int rc = mdb_get(txn, st->minutes, &k, &v);

	if (rc == 0 && v.mv_size != sizeof(n))
		return MDB_CORRUPTED;
	if (rc == 0)
		memcpy(n, v.mv_data, sizeof(n));
	else if (rc != MDB_NOTFOUND)
		return rc;
	for (size_t m = 0; m < DAY_MINUTES; m++)
		n[m] += d->n[m];
	v = (MDB_val){ sizeof(n), n };
	return mdb_put(txn, st->minutes, &k, &v, 0);
}

int bb__store_counts_write(bb_store *st, MDB_txn *txn,
                           const struct bb__counts *c)
{
	int rc = 0;

	for (size_t i = 0; i < c->cap && rc == 0; i++)
		if (c->slot[i] != NULL)
			rc = day_write(st, txn, c->slot[i]);
	return rc;
}

int bb__store_counts_read(bb_store *st, MDB_txn *txn, int64_t base,
                          uint64_t nmin, uint32_t *cnt)
{
	uint64_t m0 = (uint64_t)base / 60;

	if (!st->minutes_ok)
		return BB_ENOTFOUND;
	for (uint64_t m = 0; m < nmin;) {
		uint64_t at = (m0 + m) % DAY_MINUTES;
		uint64_t len = DAY_MINUTES - at < nmin - m ? DAY_MINUTES - at
		                                           : nmin - m;
		uint32_t be = htobe32((uint32_t)((m0 + m) / DAY_MINUTES));
		MDB_val k = { sizeof(be), &be }, v;
		int rc = mdb_get(txn, st->minutes, &k, &v);
		if (rc == MDB_NOTFOUND)
			memset(&cnt[m], 0, len * sizeof(*cnt));
		else if (rc != 0)
			return rc;
		else if (v.mv_size != DAY_MINUTES * sizeof(uint32_t))
			return BB_ERETRY; /* not counts: load without them */
		else
			memcpy(&cnt[m], (const uint32_t *)v.mv_data + at,
			       len * sizeof(*cnt));
		m += len;
	}
	return 0;
}

int bb__store_minute_counts(bb_store *st, int64_t base, uint64_t nmin,
                            uint32_t *cnt)
{
	MDB_txn *txn;
	int rc;

	if (st == NULL || base < 0 || base % 60 != 0 || (cnt == NULL && nmin))
		return BB_EINVAL;
	if ((rc = bb__store_txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	rc = bb__store_counts_read(st, txn, base, nmin, cnt);
	bb__store_txn_abort(st, txn);
	return rc;
}
