/* store_count_test.c: the bar store's bars per minute ("minutes") on every
 * write path, and loads from them, without them and from wrong ones. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <endian.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tmpdir.h"
#include "store.h"

#define TM   1704239880 /* 2024-01-02T23:58:00Z: minutes cross a UTC day */
#define NMIN 8
#define NSYM 5

static char dir[64];
static bb_store *st;

static void setup(void)
{
	tmpdir_make(dir, sizeof(dir), "count-test");
	st = NULL;
}

static void teardown(void)
{
	bb_store_close(st);
	tmpdir_remove(dir);
}

TestSuite(count, .init = setup, .fini = teardown, .timeout = 20);

static bb_bar bar(uint32_t sym, int minute, double px)
{
	return (bb_bar){ .symbol = sym, .time = TM + 60 * minute, .open = px,
	                 .high = px + 1, .low = px - 1, .close = px,
	                 .volume = 10 };
}

/* Symbol s trades at minute m unless (s + m) % 3 == 0 for odd s. */
static int trades(uint32_t s, int m)
{
	return s % 2 == 0 || (s + (uint32_t)m) % 3 != 0;
}

static size_t pattern(bb_bar *out, double px)
{
	size_t n = 0;

	for (uint32_t s = 0; s < NSYM; s++)
		for (int m = 0; m < NMIN; m++)
			if (trades(s, m))
				out[n++] = bar(s, m, px + s * 100 + m);
	return n;
}

static void open_with_symbols(void)
{
	char name[8];
	uint32_t id;

	cr_assert(eq(int, bb_store_open(&st, dir, 0), 0));
	for (uint32_t i = 0; i < NSYM; i++) {
		snprintf(name, sizeof(name), "S%u", i);
		cr_assert(eq(int, bb_store_symbol_add(st, name, &id), 0));
	}
}

/* The store's counts for minutes -1 .. NMIN are want[0..NMIN + 2). */
static void counts_are(const uint32_t *want)
{
	uint32_t got[NMIN + 2];

	cr_assert(eq(int, bb__store_minute_counts(st, TM - 60, NMIN + 2, got), 0));
	for (int m = 0; m < NMIN + 2; m++)
		cr_assert(eq(u32, got[m], want[m]), "minute %d", m - 1);
}

/* Counts of the pattern: minute m of the store is want[m + 1]. */
static void pattern_counts(uint32_t *want)
{
	memset(want, 0, (NMIN + 2) * sizeof(*want));
	for (uint32_t s = 0; s < NSYM; s++)
		for (int m = 0; m < NMIN; m++)
			want[m + 1] += (uint32_t)trades(s, m);
}

Test(count, counts_are_exact_after_an_import)
{
	const char *names[NSYM] = { "A", "B", "C", "D", "E" };
	bb_bar in[NSYM * NMIN];
	uint32_t want[NMIN + 2];
	size_t n = pattern(in, 10);

	cr_assert(eq(int, bb_store_open(&st, dir, 0), 0));
	cr_assert(eq(int, bb__store_put_named(st, names, NSYM, in, n, NULL,
	                                      NULL), 0));
	pattern_counts(want);
	cr_assert(eq(u32, want[1], 4)); /* minute 0: all but 3 */
	cr_assert(eq(u32, want[2], 5)); /* minute 1: all five */
	cr_assert(eq(u32, want[3], 4)); /* minute 2: all but 1 */
	counts_are(want);
}

Test(count, counts_are_exact_after_a_reimport_with_overlaps)
{
	bb_bar in[NSYM * NMIN], again[NSYM * NMIN + 2];
	uint32_t want[NMIN + 2];
	bb_put_stats ps;
	size_t n = pattern(in, 10), k = 0;

	open_with_symbols();
	/* the first half of the minutes, then everything: unchanged bars,
	 * changed ones (replaced), new ones between and after, a repeat */
	for (size_t i = 0; i < n; i++)
		if (in[i].time < TM + 60 * NMIN / 2)
			again[k++] = in[i];
	cr_assert(eq(int, bb_store_put(st, again, k, NULL), 0));
	size_t first = k;
	k = 0;
	for (size_t i = 0; i < n; i++) {
		again[k] = in[i];
		again[k++].close += in[i].symbol == 2 ? 0.5 : 0;
	}
	again[k++] = again[0];
	again[k++] = again[n - 1];
	cr_assert(eq(int, bb_store_put(st, again, k, &ps), 0));
	cr_assert(eq(u64, ps.stored, n - first));
	cr_assert(gt(u64, ps.replaced, 0));
	pattern_counts(want);
	counts_are(want);
}

Test(count, counts_are_exact_after_live_appends)
{
	bb_bar in[NSYM * NMIN];
	uint32_t want[NMIN + 2];
	size_t n = pattern(in, 10);

	open_with_symbols();
	for (int m = 0; m < NMIN; m++) /* one minute at a time, as a feed */
		for (size_t i = 0; i < n; i++)
			if (in[i].time == TM + 60 * m)
				cr_assert(eq(int, bb_store_put(st, &in[i], 1, NULL), 0));
	pattern_counts(want);
	counts_are(want);
}

Test(count, a_failed_batch_leaves_the_counts)
{
	bb_bar in[NSYM * NMIN];
	uint32_t want[NMIN + 2];
	size_t n = pattern(in, 10);

	open_with_symbols();
	cr_assert(eq(int, bb_store_put(st, in, n, NULL), 0));
	bb_bar more[2] = { bar(1, -1, 5), bar(9, 0, 5) }; /* 9: no such id */
	cr_assert(eq(int, bb_store_put(st, more, 2, NULL), BB_EINVAL));
	pattern_counts(want);
	counts_are(want);
}

/*
 * In the store at dir, with LMDB directly: drop "minutes" (drop), cut the
 * record of b's day to 4 bytes (cut), or put one bar into "bars" as a
 * program that does not know the counts would (put), or delete one (del).
 * bb_store must be closed (LMDB: one env per process and file).
 */
static void raw(const char *what, const bb_bar *b)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi d;
	uint8_t kb[12], vb[44] = { 0 };
	uint32_t s = htobe32(b ? b->symbol : 0);
	uint64_t t = htobe64(b ? (uint64_t)b->time : 0);
	MDB_val k = { sizeof(kb), kb }, v = { sizeof(vb), vb };

	memcpy(kb, &s, 4);
	memcpy(kb + 4, &t, 8);
	if (b) {
		memcpy(vb, &b->open, 40);
		memcpy(vb + 40, &b->flags, 4);
	}
	cr_assert(eq(int, mdb_env_create(&env), 0));
	mdb_env_set_maxdbs(env, 8);
	cr_assert(eq(int, mdb_env_open(env, dir, 0, 0640), 0));
	cr_assert(eq(int, mdb_txn_begin(env, NULL, 0, &txn), 0));
	if (strcmp(what, "drop") == 0) {
		cr_assert(eq(int, mdb_dbi_open(txn, "minutes", 0, &d), 0));
		cr_assert(eq(int, mdb_drop(txn, d, 1), 0));
	} else if (strcmp(what, "cut") == 0) {
		uint32_t day = htobe32((uint32_t)(b->time / 86400));
		MDB_val dk = { sizeof(day), &day }, dv = { 4, vb };
		cr_assert(eq(int, mdb_dbi_open(txn, "minutes", 0, &d), 0));
		cr_assert(eq(int, mdb_put(txn, d, &dk, &dv, 0), 0));
	} else {
		cr_assert(eq(int, mdb_dbi_open(txn, "bars", 0, &d), 0));
		cr_assert(eq(int, strcmp(what, "put") == 0
		                  ? mdb_put(txn, d, &k, &v, 0)
		                  : mdb_del(txn, d, &k, NULL), 0));
	}
	cr_assert(eq(int, mdb_txn_commit(txn), 0));
	mdb_env_close(env);
}

static int cmp_time_sym(const void *a, const void *b)
{
	const bb_bar *x = a, *y = b;

	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return (x->symbol > y->symbol) - (x->symbol < y->symbol);
}

/* A load of every symbol over the pattern's minutes gives want[0..n). */
static void load_is(bb_bar *want, size_t n)
{
	bb_batch b = { 0 };

	qsort(want, n, sizeof(*want), cmp_time_sym);
	cr_assert(eq(int, bb_store_load(st, NULL, 0, TM - 60, TM + 60 * NMIN,
	                                &b), 0));
	cr_assert(eq(sz, b.n, n));
	for (size_t i = 0; i < n; i++)
		cr_assert(eq(int, memcmp(&b.bars[i], &want[i], sizeof(bb_bar)), 0),
		          "bar %zu", i);
	bb_batch_free(&b);
}

Test(count, a_store_without_counts_loads_the_same_bars)
{
	bb_bar in[NSYM * NMIN + 1];
	uint32_t want[NMIN + 2];
	size_t n = pattern(in, 10);

	open_with_symbols();
	cr_assert(eq(int, bb_store_put(st, in, n, NULL), 0));
	load_is(in, n);
	bb_store_close(st);
	raw("drop", NULL);
	cr_assert(eq(int, bb_store_open(&st, dir, 0), 0));
	cr_assert(eq(int, bb__store_minute_counts(st, TM, NMIN, want),
	             BB_ENOTFOUND));
	load_is(in, n);
	in[n] = bar(1, 2, 7); /* new: still written and loaded, uncounted */
	cr_assert(eq(int, bb_store_put(st, &in[n], 1, NULL), 0));
	load_is(in, n + 1);
	cr_assert(eq(int, bb__store_minute_counts(st, TM, NMIN, want),
	             BB_ENOTFOUND));
}

Test(count, a_bar_the_counts_miss_is_loaded_in_its_place)
{
	bb_bar in[NSYM * NMIN + 1];
	size_t n = pattern(in, 10);

	open_with_symbols();
	cr_assert(eq(int, bb_store_put(st, in, n, NULL), 0));
	bb_store_close(st);
	in[n] = bar(1, 2, 7); /* (1 + 2) % 3 == 0: a new bar at minute 2 */
	raw("put", &in[n]);
	cr_assert(eq(int, bb_store_open(&st, dir, BB_STORE_RDONLY), 0));
	load_is(in, n + 1);
}

Test(count, a_bar_the_counts_still_hold_is_not_loaded)
{
	bb_bar in[NSYM * NMIN];
	size_t n = pattern(in, 10);

	open_with_symbols();
	cr_assert(eq(int, bb_store_put(st, in, n, NULL), 0));
	bb_store_close(st);
	raw("del", &in[n - 1]);
	cr_assert(eq(int, bb_store_open(&st, dir, BB_STORE_RDONLY), 0));
	load_is(in, n - 1);
}

Test(count, a_damaged_count_record_is_loaded_around)
{
	bb_bar in[NSYM * NMIN];
	uint32_t got[NMIN];
	size_t n = pattern(in, 10);

	open_with_symbols();
	cr_assert(eq(int, bb_store_put(st, in, n, NULL), 0));
	bb_store_close(st);
	raw("cut", &in[0]);
	cr_assert(eq(int, bb_store_open(&st, dir, BB_STORE_RDONLY), 0));
	cr_assert(eq(int, bb__store_minute_counts(st, TM, NMIN, got), BB_ERETRY));
	load_is(in, n);
}
