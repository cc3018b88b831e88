/*
 * store_write.c: sorting and writing bars into the bar store (store.c).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "store_int.h"

/* LSD radix sort, 16-bit digits; passes where all keys agree are skipped. */
int bb__store_sort(struct bb__kidx *a, size_t n)
{
	struct bb__kidx *tmp = malloc(n * sizeof(*tmp)), *src = a, *dst = tmp;
	size_t (*cnt)[65536] = calloc(4, sizeof(*cnt));

	if (n < 2) {
		free(tmp);
		free(cnt);
		return 0;
	}
	if (tmp == NULL || cnt == NULL) {
		free(tmp);
		free(cnt);
		return ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		for (int d = 0; d < 4; d++)
			cnt[d][(a[i].key >> (16 * d)) & 0xffff]++;
	for (int d = 0; d < 4; d++) {
		size_t sum = 0, *c = cnt[d];
		if (c[(a[0].key >> (16 * d)) & 0xffff] == n)
			continue;
		for (size_t j = 0; j < 65536; j++) {
			size_t t = c[j];
			c[j] = sum;
			sum += t;
		}
		for (size_t i = 0; i < n; i++)
			dst[c[(src[i].key >> (16 * d)) & 0xffff]++] = src[i];
		struct bb__kidx *t = src;
		src = dst;
		dst = t;
	}
	if (src != a)
		memcpy(a, src, n * sizeof(*a));
	free(tmp);
	free(cnt);
	return 0;
}

struct put_job {
	const bb_bar       *bars;
	size_t              n;
	const char *const  *names;  /* NULL: bar.symbol is a store id */
	size_t              nnames;
	uint32_t           *ids;    /* nnames store ids, when names */
	struct bb__kidx        *order;  /* key order when the input is not in it */
	bb_put_stats        stats;
	struct bb__counts   counts; /* new bars per minute (st->minutes_ok) */
};

static int bar_ok(const bb_bar *b)
{
	return b->time >= 0 && b->time % 60 == 0 &&
	       b->time / 60 <= (int64_t)UINT32_MAX && BB_KIND(b->flags) == 0 &&
	       isfinite(b->open) && isfinite(b->high) && isfinite(b->low) &&
	       isfinite(b->close) && isfinite(b->volume);
}

/* Validate every bar; sort into key order unless the input is in it. */
static int put_prepare(struct put_job *j, uint32_t nsyms)
{
	uint64_t prev = 0;
	int sorted = 1;

	for (size_t i = 0; i < j->n; i++) {
		const bb_bar *b = &j->bars[i];
		uint64_t lim = j->names ? j->nnames : nsyms;
		if (b->symbol >= lim || !bar_ok(b))
			return BB_EINVAL;
		uint32_t id = j->names ? j->ids[b->symbol] : b->symbol;
		uint64_t key = (uint64_t)id << 32 | (uint64_t)(b->time / 60);
		sorted &= key >= prev;
		prev = key;
	}
	if (sorted || j->n < 2)
		return 0;
	if ((j->order = malloc(j->n * sizeof(*j->order))) == NULL)
		return ENOMEM;
	for (size_t i = 0; i < j->n; i++) {
		const bb_bar *b = &j->bars[i];
		uint32_t id = j->names ? j->ids[b->symbol] : b->symbol;
		j->order[i] = (struct bb__kidx){
			(uint64_t)id << 32 | (uint64_t)(b->time / 60), i };
	}
	return bb__store_sort(j->order, j->n);
}

/*
 * Move the cursor to the first key >= k (a few MDB_NEXT steps when it is
 * close, as it is when rewriting existing data, else a tree search).
 * *at_end is set when no such key exists: every later key can be appended.
 */
static int seek(MDB_cursor *cur, MDB_val *k, MDB_val *ck, MDB_val *cv,
                int positioned, int *at_end)
{
	int rc;

	for (int i = 0; positioned && i < 4; i++) {
		rc = mdb_cursor_get(cur, ck, cv, MDB_NEXT);
		if (rc == MDB_NOTFOUND) {
			*at_end = 1;
			return 0;
		}
		if (rc != 0)
			return rc;
		if (memcmp(ck->mv_data, k->mv_data, BB_STORE_KEY_BYTES) >= 0)
			return 0;
	}
	*ck = *k;
	rc = mdb_cursor_get(cur, ck, cv, MDB_SET_RANGE);
	if (rc == MDB_NOTFOUND)
		*at_end = 1;
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Write one bar at the cursor's position; see put_bars(). *fresh: a new key. */
static int put_one(MDB_cursor *cur, MDB_val *k, MDB_val *v, MDB_val *ck,
                   MDB_val *cv, int at_end, bb_put_stats *s, int *fresh)
{
	*fresh = 0;
	if (at_end) {
		s->stored++;
		*fresh = 1;
		return mdb_cursor_put(cur, k, v, MDB_APPEND);
	}
	if (ck->mv_size == BB_STORE_KEY_BYTES &&
	    memcmp(ck->mv_data, k->mv_data, BB_STORE_KEY_BYTES) == 0) {
		if (cv->mv_size == BB_STORE_VAL_BYTES &&
		    memcmp(cv->mv_data, v->mv_data, BB_STORE_VAL_BYTES) == 0) {
			s->unchanged++;
			return 0;
		}
		s->replaced++;
		return mdb_cursor_put(cur, k, v, MDB_CURRENT);
	}
	s->stored++;
	*fresh = 1;
	return mdb_cursor_put(cur, k, v, 0);
}

/*
 * One pass of a cursor over the bars in key order: new keys past the end
 * are appended (MDB_APPEND, the bulk-load fast path), an equal key is
 * compared and left alone or replaced, other new keys are inserted.
 */
static int put_bars(bb_store *st, MDB_txn *txn, struct put_job *j)
{
	uint8_t kb[BB_STORE_KEY_BYTES], vb[BB_STORE_VAL_BYTES];
	uint8_t prev[BB_STORE_KEY_BYTES];
	MDB_val k = { sizeof(kb), kb }, v = { sizeof(vb), vb }, ck, cv;
	int at_end = 0, positioned = 0, fresh, rc;
	MDB_cursor *cur;

	if ((rc = mdb_cursor_open(txn, st->bars, &cur)) != 0)
		return rc;
	for (size_t i = 0; i < j->n && rc == 0; i++) {
		const bb_bar *b = &j->bars[j->order ? j->order[i].idx : i];
		key_put(kb, j->names ? j->ids[b->symbol] : b->symbol, b->time);
		val_put(vb, b);
		if (positioned && memcmp(prev, kb, sizeof(kb)) == 0) {
			/* same key again in this batch: the cursor is on it */
			rc = mdb_cursor_get(cur, &ck, &cv, MDB_GET_CURRENT);
			if (rc == 0) /* never fresh: the key was just written */
				rc = put_one(cur, &k, &v, &ck, &cv, 0, &j->stats,
				             &fresh);
			continue;
		}
		memcpy(prev, kb, sizeof(kb));
		if (!at_end)
			rc = seek(cur, &k, &ck, &cv, positioned, &at_end);
		if (rc == 0)
			rc = put_one(cur, &k, &v, &ck, &cv, at_end, &j->stats,
			             &fresh);
		if (rc == 0 && fresh && st->minutes_ok)
			rc = bb__store_counts_add(&j->counts, b->time);
		positioned = 1;
	}
	mdb_cursor_close(cur);
	if (rc == 0 && st->minutes_ok) /* same transaction as the bars */
		rc = bb__store_counts_write(st, txn, &j->counts);
	return rc;
}

static int put_fn(bb_store *st, MDB_txn *txn, void *arg)
{
	struct put_job *j = arg;
	uint32_t nsyms = 0;
	int rc = 0;

	j->stats = (bb_put_stats){ 0 };
	bb__store_counts_reset(&j->counts); /* a rerun after MAP_FULL */
	free(j->order);
	j->order = NULL;
	for (size_t i = 0; j->names && i < j->nnames && rc == 0; i++)
		rc = bb__store_sym_add(st, txn, j->names[i], &j->ids[i]);
	if (rc == 0 && !j->names)
		rc = bb__store_sym_count(st, txn, &nsyms);
	if (rc == 0)
		rc = put_prepare(j, nsyms);
	return rc != 0 ? rc : put_bars(st, txn, j);
}

static int put_run(bb_store *st, struct put_job *j, bb_put_stats *stats)
{
	/* ~88 bytes a bar appended; twice that covers inserts and page copies */
	int rc = bb__store_write_txn(st,
	        j->n * 176 + j->nnames * 256 + (1u << 20), put_fn, j);

	free(j->order);
	bb__store_counts_reset(&j->counts);
	if (rc == 0 && stats)
		*stats = j->stats;
	return rc;
}

int bb_store_put(bb_store *st, const bb_bar *bars, size_t n,
                 bb_put_stats *stats)
{
	struct put_job j = { .bars = bars, .n = n };

	if (stats)
		*stats = (bb_put_stats){ 0 };
	if (st == NULL || (bars == NULL && n > 0))
		return BB_EINVAL;
	return n ? put_run(st, &j, stats) : 0;
}

int bb__store_put_named(bb_store *st, const char *const *names, size_t nnames,
                        const bb_bar *bars, size_t n, uint32_t *ids,
                        bb_put_stats *stats)
{
	struct put_job j = { .bars = bars, .n = n, .names = names,
	                     .nnames = nnames, .ids = ids };
	int rc;

	if (stats)
		*stats = (bb_put_stats){ 0 };
	if (st == NULL || (bars == NULL && n > 0) || (names == NULL && nnames))
		return BB_EINVAL;
	for (size_t i = 0; i < nnames; i++)
		if (bb_symbol_check(names[i]) != 0)
			return BB_EBADSYMBOL;
	if (nnames == 0)
		return n ? BB_EINVAL : 0;
	if (ids == NULL && (j.ids = malloc(nnames * sizeof(*ids))) == NULL)
		return ENOMEM;
	rc = put_run(st, &j, stats);
	if (ids == NULL)
		free(j.ids);
	return rc;
}
