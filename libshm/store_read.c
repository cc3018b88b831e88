/*
 * store_read.c: reading bars from the bar store (store.c): get, range,
 * scan, load and batches.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <lmdb.h>

#include "store_int.h"

/* Walks one symbol's bars with from <= time < to on an open cursor. */
struct iter {
	MDB_cursor *cur;
	uint32_t    sym;
	int64_t     to;
	MDB_cursor_op op;
	uint8_t     kb[BB_STORE_KEY_BYTES];
};

static void iter_init(struct iter *it, MDB_cursor *cur, uint32_t sym,
                      int64_t from, int64_t to)
{
	it->cur = cur;
	it->sym = sym;
	it->to = to;
	it->op = MDB_SET_RANGE;
	key_put(it->kb, sym, from < 0 ? 0 : from);
}

/* 0 with *out filled, BB_EEND after the last one, or an LMDB error. */
static int iter_next(struct iter *it, bb_bar *out)
{
	MDB_val k = { sizeof(it->kb), it->kb }, v;
	int rc = mdb_cursor_get(it->cur, &k, &v, it->op);

	it->op = MDB_NEXT;
	if (rc != 0)
		return rc == MDB_NOTFOUND ? BB_EEND : rc;
	if (k.mv_size != BB_STORE_KEY_BYTES || v.mv_size != BB_STORE_VAL_BYTES)
		return MDB_CORRUPTED;
	key_get(k.mv_data, &out->symbol, &out->time);
	if (out->symbol != it->sym || out->time >= it->to)
		return BB_EEND;
	val_get(v.mv_data, out);
	return 0;
}

int bb_store_get(bb_store *st, uint32_t symbol, int64_t t, bb_bar *out)
{
	uint8_t kb[BB_STORE_KEY_BYTES];
	MDB_val k = { sizeof(kb), kb }, v;
	MDB_txn *txn;
	int rc;

	if (st == NULL || out == NULL)
		return BB_EINVAL;
	if (t < 0)
		return BB_ENOTFOUND;
	key_put(kb, symbol, t);
	if ((rc = bb__store_txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	rc = mdb_get(txn, st->bars, &k, &v);
	if (rc == MDB_NOTFOUND)
		rc = BB_ENOTFOUND;
	else if (rc == 0 && v.mv_size != BB_STORE_VAL_BYTES)
		rc = MDB_CORRUPTED;
	if (rc == 0) {
		*out = (bb_bar){ .symbol = symbol, .time = t };
		val_get(v.mv_data, out);
	}
	bb__store_txn_abort(st, txn);
	return rc;
}

/* A read transaction and a cursor on "bars"; end with read_end(). */
static int read_begin(bb_store *st, MDB_txn **txn, MDB_cursor **cur)
{
	int rc = bb__store_txn_begin(st, MDB_RDONLY, txn);

	if (rc == 0 && (rc = mdb_cursor_open(*txn, st->bars, cur)) != 0)
		bb__store_txn_abort(st, *txn);
	return rc;
}

static void read_end(bb_store *st, MDB_txn *txn, MDB_cursor *cur)
{
	mdb_cursor_close(cur);
	bb__store_txn_abort(st, txn);
}

int bb_store_range(bb_store *st, uint32_t symbol, int64_t from, int64_t to,
                   bb_bar *out, size_t max, size_t *n)
{
	MDB_cursor *cur;
	MDB_txn *txn;
	struct iter it;
	size_t i = 0;
	int rc;

	if (st == NULL || n == NULL || (out == NULL && max > 0))
		return BB_EINVAL;
	*n = 0;
	if (to <= from || max == 0)
		return 0;
	if ((rc = read_begin(st, &txn, &cur)) != 0)
		return rc;
	iter_init(&it, cur, symbol, from, to);
	while (i < max && (rc = iter_next(&it, &out[i])) == 0)
		i++;
	read_end(st, txn, cur);
	*n = i;
	return rc == BB_EEND || i == max ? 0 : rc;
}

int bb__store_scan(bb_store *st, const uint32_t *syms, size_t nsyms,
                   int64_t from, int64_t to, bb__store_fn fn, void *arg)
{
	MDB_cursor *cur;
	MDB_txn *txn;
	struct iter it;
	bb_bar bar;
	uint32_t n = 0;
	int rc;

	if (st == NULL || fn == NULL || (syms == NULL && nsyms > 0))
		return BB_EINVAL;
	if ((rc = read_begin(st, &txn, &cur)) != 0)
		return rc;
	if (syms == NULL && (rc = bb__store_sym_count(st, txn, &n)) == 0)
		nsyms = n;
	for (size_t i = 0; rc == 0 && i < nsyms && from < to; i++) {
		iter_init(&it, cur, syms ? syms[i] : (uint32_t)i, from, to);
		while ((rc = iter_next(&it, &bar)) == 0 &&
		       (rc = fn(arg, &bar)) == 0)
			;
		if (rc == BB_EEND)
			rc = 0;
	}
	read_end(st, txn, cur);
	return rc;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* Every id 0..n-1 when syms is NULL, else a sorted copy without repeats. */
static int sym_set(bb_store *st, MDB_txn *txn, const uint32_t *syms,
                   size_t *nsyms, uint32_t **out)
{
	uint32_t n = 0;
	size_t m = 0;
	int rc;

	if (syms == NULL && (rc = bb__store_sym_count(st, txn, &n)) != 0)
		return rc;
	if (syms == NULL)
		*nsyms = n;
	if ((*out = malloc((*nsyms ? *nsyms : 1) * sizeof(**out))) == NULL)
		return ENOMEM;
	for (size_t i = 0; i < *nsyms; i++)
		(*out)[i] = syms ? syms[i] : (uint32_t)i;
	if (syms != NULL)
		qsort(*out, *nsyms, sizeof(**out), cmp_u32);
	for (size_t i = 0; i < *nsyms; i++)
		if (m == 0 || (*out)[m - 1] != (*out)[i])
			(*out)[m++] = (*out)[i];
	*nsyms = m;
	return 0;
}

/* A growable run of bars in symbol order (the scratch of bb_store_load). */
struct run {
	bb_bar *bars;
	size_t  n, cap;
};

#define HUGE_BYTES ((size_t)2 << 20)

/*
 * Grow *bars (n used) to cap. Large arrays are 2 MiB aligned and asked to
 * be transparent huge pages: the minute sort scatters writes over hundreds
 * of places at once, and 4 KiB pages make that a TLB miss per bar.
 */
static int bars_grow(bb_bar **bars, size_t n, size_t cap)
{
	size_t bytes = cap * sizeof(bb_bar);
	void *p;

	if (bytes < HUGE_BYTES) {
		p = realloc(*bars, bytes);
		if (p == NULL)
			return ENOMEM;
		*bars = p;
		return 0;
	}
	bytes = (bytes + HUGE_BYTES - 1) & ~(HUGE_BYTES - 1);
	if (posix_memalign(&p, HUGE_BYTES, bytes) != 0)
		return ENOMEM;
	madvise(p, bytes, MADV_HUGEPAGE);
	if (n > 0)
		memcpy(p, *bars, n * sizeof(bb_bar));
	free(*bars);
	*bars = p;
	return 0;
}

static int run_grow(struct run *r)
{
	size_t cap = r->cap ? r->cap * 2 : 4096;
	int rc = bars_grow(&r->bars, r->n, cap);

	if (rc == 0)
		r->cap = cap;
	return rc;
}

/* Read the bars of ids[0..n) into r, symbol by symbol, each in time order. */
static int load_runs(MDB_cursor *cur, const uint32_t *ids, size_t nsyms,
                     int64_t from, int64_t to, struct run *r, size_t *cnt)
{
	struct iter it;
	int rc = 0;

	for (size_t i = 0; i < nsyms && rc == 0; i++) {
		iter_init(&it, cur, ids[i], from, to);
		for (;;) {
			if (r->n == r->cap && (rc = run_grow(r)) != 0)
				break;
			if ((rc = iter_next(&it, &r->bars[r->n])) != 0)
				break;
			if (cnt) /* bars per minute since from, counted in passing */
				cnt[(r->bars[r->n].time - from) / 60]++;
			r->n++;
		}
		if (rc == BB_EEND)
			rc = 0;
	}
	return rc;
}

static int cmp_time_sym(const void *a, const void *b)
{
	const bb_bar *x = a, *y = b;

	if (x->time != y->time)
		return (x->time > y->time) - (x->time < y->time);
	return (x->symbol > y->symbol) - (x->symbol < y->symbol);
}

/* Counting sort by minute: cnt[m] bars at from + 60 m, m < nmin. */
static void scatter(const struct run *r, size_t *cnt, uint64_t nmin,
                    int64_t from, bb_bar *out)
{
	size_t sum = 0;

	for (uint64_t i = 0; i < nmin; i++) {
		size_t c = cnt[i];
		cnt[i] = sum;
		sum += c;
	}
	for (size_t i = 0; i < r->n; i++)
		out[cnt[(r->bars[i].time - from) / 60]++] = r->bars[i];
}

/*
 * Symbol-major runs into global time order. Bar times are whole minutes, so
 * a counting sort by minute does it in O(n), and keeps the symbols of one
 * minute in id order because the runs come in id order. This is the path
 * for ranges too long to count minutes from the start; sparse data spread
 * over many more minutes than bars takes a comparison sort.
 */
static int merge_minutes(const struct run *r, bb_bar *out)
{
	int64_t tmin = INT64_MAX, tmax = INT64_MIN;

	for (size_t i = 0; i < r->n; i++) {
		tmin = r->bars[i].time < tmin ? r->bars[i].time : tmin;
		tmax = r->bars[i].time > tmax ? r->bars[i].time : tmax;
	}
	uint64_t m = (uint64_t)(tmax - tmin) / 60 + 1;
	if (m > 4 * (uint64_t)r->n + 65536) {
		memcpy(out, r->bars, r->n * sizeof(*out));
		qsort(out, r->n, sizeof(*out), cmp_time_sym);
		return 0;
	}
	size_t *cnt = calloc(m, sizeof(*cnt));
	if (cnt == NULL)
		return ENOMEM;
	for (size_t i = 0; i < r->n; i++)
		cnt[(r->bars[i].time - tmin) / 60]++;
	scatter(r, cnt, m, tmin, out);
	free(cnt);
	return 0;
}

/* Room for n more bars in b, keeping what it holds. */
static int batch_room(bb_batch *b, size_t n)
{
	if (b->cap - b->n >= n)
		return 0;
	size_t cap = b->cap * 2 > b->n + n ? b->cap * 2 : b->n + n;
	int rc = bars_grow(&b->bars, b->n, cap);
	if (rc == 0)
		b->cap = cap;
	return rc;
}

#define COUNT_MAX_MINUTES ((uint64_t)1 << 22) /* 8 years of minutes */
#define SLOT_MAX_MINUTES  1440                 /* a day */

/*
 * Runs symbol by symbol into the store's scratch, then a counting sort
 * into b: ranges longer than a day. Ranges of up to COUNT_MAX_MINUTES (a
 * year) count bars per minute while reading, saving two passes over the
 * scratch.
 */
static int load_sorted(bb_store *st, MDB_cursor *cur, const uint32_t *ids,
                       size_t k, int64_t base, uint64_t nmin, int64_t to,
                       bb_batch *b)
{
	size_t *cnt = NULL;
	struct run r = { 0 };
	int own, rc;

	if (nmin <= COUNT_MAX_MINUTES &&
	    (cnt = calloc(nmin, sizeof(*cnt))) == NULL)
		return ENOMEM;
	/* The store keeps one scratch run for the common single-loader case. */
	own = pthread_mutex_trylock(&st->scratch_mu) == 0;
	if (own)
		r = (struct run){ st->scratch, 0, st->scratch_cap };
	rc = load_runs(cur, ids, k, base, to, &r, cnt);
	if (rc == 0 && (rc = batch_room(b, r.n)) == 0 && r.n > 0) {
		if (cnt)
			scatter(&r, cnt, nmin, base, b->bars);
		else
			rc = merge_minutes(&r, b->bars);
		b->n = rc == 0 ? r.n : 0;
	}
	if (own) {
		st->scratch = r.bars;
		st->scratch_cap = r.cap;
		pthread_mutex_unlock(&st->scratch_mu);
	} else {
		free(r.bars);
	}
	free(cnt);
	return rc;
}

/*
 * Where load_symbol() puts the bars of one minute: the next free index of
 * the batch and the end of the minute's room. Minute-major slots give a
 * minute k slots from m * k; the store's counts give it exactly its bars.
 */
struct place {
	uint32_t next, end;
};

/*
 * Close up the minutes of bars[0..nmin * k): minute m holds its bars at
 * the front of its k slots, up to pl[m].next. Minutes before the first
 * short one stay in place; each later one is one memmove of contiguous bars.
 */
static size_t squeeze(bb_bar *bars, const struct place *pl, uint64_t nmin,
                      size_t k)
{
	size_t n = 0;

	for (uint64_t m = 0; m < nmin; m++) {
		size_t src = (size_t)m * k, c = pl[m].next - src;
		if (n != src && c > 0)
			memmove(&bars[n], &bars[src], c * sizeof(*bars));
		n += c;
	}
	return n;
}

/*
 * What load_symbol() prefetches. A symbol's bars land one minute's room
 * apart, beyond what the hardware prefetcher follows, so without it every
 * bar's write waits for its cache line: the place SLOT_PREFETCH_MINUTES
 * ahead is asked for. And the hardware prefetcher stops at the end of a
 * 4 KiB page, where the cursor goes on to the next leaf page, which in a
 * store written in key order (barbus-gen, barbus-import) is the next page
 * of the file: the line PAGE_PREFETCH_BYTES past the value being read is
 * asked for, so the next page comes in while this one is read. Elsewhere
 * the hint only costs an instruction: a prefetch never faults.
 */
#define SLOT_PREFETCH_MINUTES 16
#define PAGE_PREFETCH_BYTES   4096

/*
 * The bars of symbol id, base <= time < to, each decoded from the cursor
 * straight into bars[pl[m].next++] for its minute m (nmin minutes).
 * BB_ERETRY when a minute has no room left: the counts behind pl were
 * wrong (bars of that minute may be overwritten; the caller starts over).
 */
static int load_symbol(MDB_cursor *cur, uint32_t id, int64_t base, int64_t to,
                       uint64_t nmin, struct place *pl, bb_bar *bars)
{
	uint8_t kb[BB_STORE_KEY_BYTES];
	MDB_val key = { sizeof(kb), kb }, v;
	MDB_cursor_op op = MDB_SET_RANGE;
	uint32_t sym;
	int64_t t;
	int rc;

	key_put(kb, id, base);
	while ((rc = mdb_cursor_get(cur, &key, &v, op)) == 0) {
		op = MDB_NEXT;
		if (key.mv_size != BB_STORE_KEY_BYTES ||
		    v.mv_size != BB_STORE_VAL_BYTES)
			return MDB_CORRUPTED;
		key_get(key.mv_data, &sym, &t);
		if (sym != id || t >= to)
			return 0;
		const char *val = v.mv_data;
		__builtin_prefetch(val + PAGE_PREFETCH_BYTES, 0, 3);
		size_t m = (size_t)((t - base) / 60);
		size_t ahead = m + SLOT_PREFETCH_MINUTES;
		if (ahead < nmin) /* for writing, keep in all cache levels */
			__builtin_prefetch(&bars[pl[ahead].next], 1, 3);
		if (pl[m].next == pl[m].end)
			return BB_ERETRY;
		bb_bar *d = &bars[pl[m].next++];
		d->symbol = sym;
		d->time = t;
		val_get(v.mv_data, d);
	}
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Every symbol of ids[0..k) through load_symbol(). */
static int load_symbols(MDB_cursor *cur, const uint32_t *ids, size_t k,
                        int64_t base, uint64_t nmin, int64_t to,
                        struct place *pl, bb_bar *bars)
{
	int rc = 0;

	for (size_t i = 0; i < k && rc == 0; i++)
		rc = load_symbol(cur, ids[i], base, to, nmin, pl, bars);
	return rc;
}

/*
 * Up to a day, each bar goes straight from the cursor to a slot of b:
 * minute-major, k slots a minute, a minute's bars at the front of its slots
 * in the order read, which is id order (a symbol has one bar a minute, so
 * a minute never holds more than its k symbols). One pass writes each bar
 * once; a second, sequential, closes up the minutes some symbol did not
 * trade (none on a full session of liquid symbols), one memmove a minute.
 * No scratch, no per-bar allocation: b is sized for every slot at once
 * (room never touched costs no memory), the places live on the stack.
 */
static int load_slots(MDB_cursor *cur, const uint32_t *ids, size_t k,
                      int64_t base, uint64_t nmin, int64_t to, bb_batch *b)
{
	struct place pl[SLOT_MAX_MINUTES];
	int rc = batch_room(b, k * nmin);

	for (uint64_t m = 0; m < nmin; m++)
		pl[m] = (struct place){ (uint32_t)(m * k), (uint32_t)(m * k + k) };
	if (rc == 0)
		rc = load_symbols(cur, ids, k, base, nmin, to, pl, b->bars);
	if (rc == 0)
		b->n = squeeze(b->bars, pl, nmin, k);
	return rc;
}

/*
 * The same from the store's counts of bars per minute ("minutes", over all
 * symbols, so for a load of every symbol only): minute m's bars are placed
 * from the sum of the counts before it, and no closing-up pass is needed.
 * The counts are checked, not trusted: a minute with more bars than
 * counted, or fewer, is BB_ERETRY and the caller takes load_slots().
 */
static int load_counted(bb_store *st, MDB_txn *txn, MDB_cursor *cur,
                        const uint32_t *ids, size_t k, int64_t base,
                        uint64_t nmin, int64_t to, bb_batch *b)
{
	uint32_t cnt[SLOT_MAX_MINUTES];
	struct place pl[SLOT_MAX_MINUTES];
	uint64_t n = 0;
	int rc = bb__store_counts_read(st, txn, base, nmin, cnt);

	for (uint64_t m = 0; rc == 0 && m < nmin; m++) {
		pl[m] = (struct place){ (uint32_t)n, (uint32_t)(n + cnt[m]) };
		n += cnt[m];
		if (cnt[m] > k) /* more than one bar a symbol: wrong counts */
			rc = BB_ERETRY;
	}
	if (rc == 0 && (rc = batch_room(b, n)) == 0)
		rc = load_symbols(cur, ids, k, base, nmin, to, pl, b->bars);
	for (uint64_t m = 0; rc == 0 && m < nmin; m++)
		if (pl[m].next != pl[m].end)
			rc = BB_ERETRY;
	b->n = rc == 0 ? n : 0;
	return rc;
}

/* ids[0..k), sorted and without repeats, are all the store's symbols. */
static int every_symbol(bb_store *st, MDB_txn *txn, const uint32_t *ids,
                        size_t k)
{
	uint32_t n;

	return bb__store_sym_count(st, txn, &n) == 0 && k == n &&
	       (k == 0 || ids[k - 1] == k - 1);
}

/* Up to a day: load_counted() when the store's counts serve, else load_slots(). */
static int load_day(bb_store *st, MDB_txn *txn, MDB_cursor *cur,
                    const uint32_t *ids, size_t k, int64_t base,
                    uint64_t nmin, int64_t to, bb_batch *b)
{
	int rc = BB_ENOTFOUND;

	if (st->minutes_ok && every_symbol(st, txn, ids, k))
		rc = load_counted(st, txn, cur, ids, k, base, nmin, to, b);
	if (rc == BB_ENOTFOUND || rc == BB_ERETRY)
		rc = load_slots(cur, ids, k, base, nmin, to, b);
	return rc;
}

int bb_store_load(bb_store *st, const uint32_t *syms, size_t nsyms,
                  int64_t from, int64_t to, bb_batch *b)
{
	MDB_cursor *cur;
	MDB_txn *txn;
	uint32_t *ids = NULL;
	int rc;

	if (st == NULL || b == NULL || (syms == NULL && nsyms > 0))
		return BB_EINVAL;
	b->n = 0;
	from = from < 0 ? 0 : from;
	if (to <= from || from > INT64_MAX - 60 || (syms != NULL && nsyms == 0))
		return 0;
	if ((rc = read_begin(st, &txn, &cur)) != 0)
		return rc;
	int64_t base = (from + 59) / 60 * 60; /* first minute in range */
	uint64_t nmin = to > base ? (uint64_t)(to - 1 - base) / 60 + 1 : 0;
	if (nmin > 0 && (rc = sym_set(st, txn, syms, &nsyms, &ids)) == 0)
		rc = nmin <= SLOT_MAX_MINUTES && nsyms <= UINT32_MAX / nmin
		     ? load_day(st, txn, cur, ids, nsyms, base, nmin, to, b)
		     : load_sorted(st, cur, ids, nsyms, base, nmin, to, b);
	if (rc != 0)
		b->n = 0;
	free(ids);
	read_end(st, txn, cur);
	return rc;
}

void bb_batch_free(bb_batch *b)
{
	if (b == NULL)
		return;
	free(b->bars);
	*b = (bb_batch){ 0 };
}
