/* store_test.c: the LMDB bar store: symbols, put/get/range/load, versions. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <lmdb.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tmpdir.h"
#include "store.h"

#define T0 1704205800 /* 2024-01-02T14:30:00Z */

static char dir[64];
static bb_store *st;

static void setup(void)
{
	tmpdir_make(dir, sizeof(dir), "store-test");
	st = NULL;
}

static void teardown(void)
{
	bb_store_close(st);
	tmpdir_remove(dir);
}

TestSuite(store, .init = setup, .fini = teardown, .timeout = 20);

static bb_bar bar(uint32_t sym, int64_t t, double px)
{
	return (bb_bar){ .symbol = sym, .time = t, .open = px, .high = px + 1,
	                 .low = px - 1, .close = px + 0.5, .volume = 100 };
}

static int same(const bb_bar *a, const bb_bar *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

/* Opens the store with symbols "S0".."S<n-1>" (ids 0..n-1). */
static void open_with(uint32_t nsyms)
{
	char name[16];
	uint32_t id;

	cr_assert(eq(int, bb_store_open(&st, dir, 0), 0));
	for (uint32_t i = 0; i < nsyms; i++) {
		snprintf(name, sizeof(name), "S%u", i);
		cr_assert(eq(int, bb_store_symbol_add(st, name, &id), 0));
		cr_assert(eq(u32, id, i));
	}
}

Test(store, new_store_is_empty)
{
	uint32_t n = 99;

	open_with(0);
	cr_assert(eq(int, bb_store_symbol_count(st, &n), 0));
	cr_assert(eq(u32, n, 0));
}

Test(store, symbol_ids_are_dense_in_order_of_first_add)
{
	uint32_t a, b, a2, n;
	char name[BB_SYMBOL_MAX + 1];

	open_with(0);
	cr_assert(eq(int, bb_store_symbol_add(st, "AAPL", &a), 0));
	cr_assert(eq(int, bb_store_symbol_add(st, "BRK.B", &b), 0));
	cr_assert(eq(int, bb_store_symbol_add(st, "AAPL", &a2), 0));
	cr_assert(eq(u32, a, 0));
	cr_assert(eq(u32, b, 1));
	cr_assert(eq(u32, a2, 0));
	cr_assert(eq(int, bb_store_symbol_name(st, 1, name, sizeof(name)), 0));
	cr_assert(eq(str, name, "BRK.B"));
	cr_assert(eq(int, bb_store_symbol_id(st, "BRK.B", &b), 0));
	cr_assert(eq(u32, b, 1));
	cr_assert(eq(int, bb_store_symbol_count(st, &n), 0));
	cr_assert(eq(u32, n, 2));
}

Test(store, unknown_symbol_is_not_found)
{
	uint32_t id;
	char name[BB_SYMBOL_MAX + 1];

	open_with(1);
	cr_assert(eq(int, bb_store_symbol_id(st, "NOPE", &id), BB_ENOTFOUND));
	cr_assert(eq(int, bb_store_symbol_name(st, 7, name, sizeof(name)),
	             BB_ENOTFOUND));
}

Test(store, invalid_symbol_is_refused)
{
	uint32_t id;

	open_with(0);
	cr_assert(eq(int, bb_store_symbol_add(st, "BAD SYM", &id), BB_EBADSYMBOL));
	cr_assert(eq(int, bb_store_symbol_add(st, "", &id), BB_EBADSYMBOL));
}

Test(store, put_then_get_round_trips)
{
	bb_bar in[3] = { bar(0, T0, 10), bar(1, T0, 20), bar(0, T0 + 60, 11) }, out;
	bb_put_stats s;

	open_with(2);
	in[1].flags = BB_BAR_FILLED;
	in[2].volume = 0.125;
	cr_assert(eq(int, bb_store_put(st, in, 3, &s), 0));
	cr_assert(eq(u64, s.stored, 3));
	for (int i = 0; i < 3; i++) {
		cr_assert(eq(int, bb_store_get(st, in[i].symbol, in[i].time, &out), 0));
		cr_assert(same(&out, &in[i]));
	}
}

Test(store, get_of_absent_bar_is_not_found)
{
	bb_bar b = bar(0, T0, 10), out;

	open_with(1);
	cr_assert(eq(int, bb_store_put(st, &b, 1, NULL), 0));
	cr_assert(eq(int, bb_store_get(st, 0, T0 + 60, &out), BB_ENOTFOUND));
	cr_assert(eq(int, bb_store_get(st, 1, T0, &out), BB_ENOTFOUND));
}

Test(store, range_is_chronological_and_half_open)
{
	bb_bar in[6], out[8];
	size_t n;

	open_with(2);
	/* out of order, interleaved with another symbol */
	for (int i = 0; i < 6; i++)
		in[i] = bar((uint32_t)(i % 2), T0 + 60 * (5 - i / 2), i);
	cr_assert(eq(int, bb_store_put(st, in, 6, NULL), 0));
	cr_assert(eq(int, bb_store_range(st, 0, T0 + 180, T0 + 300, out, 8, &n), 0));
	cr_assert(eq(sz, n, 2));
	cr_assert(eq(i64, out[0].time, T0 + 180));
	cr_assert(eq(i64, out[1].time, T0 + 240));
	cr_assert(eq(int, bb_store_range(st, 1, 0, INT64_MAX, out, 8, &n), 0));
	cr_assert(eq(sz, n, 3));
	for (size_t i = 0; i < n; i++)
		cr_assert(eq(u32, out[i].symbol, 1));
	cr_assert(out[0].time < out[1].time && out[1].time < out[2].time);
}

Test(store, range_stops_at_max)
{
	bb_bar in[5], out[2];
	size_t n;

	open_with(1);
	for (int i = 0; i < 5; i++)
		in[i] = bar(0, T0 + 60 * i, i);
	cr_assert(eq(int, bb_store_put(st, in, 5, NULL), 0));
	cr_assert(eq(int, bb_store_range(st, 0, T0, T0 + 3600, out, 2, &n), 0));
	cr_assert(eq(sz, n, 2));
	cr_assert(same(&out[1], &in[1]));
}

Test(store, writing_the_same_bars_twice_stores_them_once)
{
	bb_bar in[100];
	bb_put_stats s;
	size_t n;

	open_with(2);
	for (int i = 0; i < 100; i++)
		in[i] = bar((uint32_t)(i % 2), T0 + 60 * (i / 2), i);
	cr_assert(eq(int, bb_store_put(st, in, 100, &s), 0));
	cr_assert(eq(int, bb_store_put(st, in, 100, &s), 0));
	cr_assert(eq(u64, s.stored, 0));
	cr_assert(eq(u64, s.unchanged, 100));
	cr_assert(eq(u64, s.replaced, 0));
	bb_bar out[128];
	cr_assert(eq(int, bb_store_range(st, 0, 0, INT64_MAX, out, 128, &n), 0));
	cr_assert(eq(sz, n, 50));
}

Test(store, another_bar_for_a_key_replaces_it_and_is_counted)
{
	bb_bar in[3] = { bar(0, T0, 1), bar(0, T0 + 60, 2), bar(0, T0 + 120, 3) };
	bb_bar out;
	bb_put_stats s;

	open_with(1);
	cr_assert(eq(int, bb_store_put(st, in, 3, NULL), 0));
	in[1].close = 2.25;
	cr_assert(eq(int, bb_store_put(st, in, 3, &s), 0));
	cr_assert(eq(u64, s.replaced, 1));
	cr_assert(eq(u64, s.unchanged, 2));
	cr_assert(eq(u64, s.stored, 0));
	cr_assert(eq(int, bb_store_get(st, 0, T0 + 60, &out), 0));
	cr_assert(eq(dbl, out.close, 2.25));
}

Test(store, repeated_key_in_one_batch_last_wins)
{
	bb_bar in[3] = { bar(0, T0, 1), bar(0, T0, 1), bar(0, T0, 5) }, out;
	bb_put_stats s;

	open_with(1);
	cr_assert(eq(int, bb_store_put(st, in, 3, &s), 0));
	cr_assert(eq(u64, s.stored, 1));
	cr_assert(eq(u64, s.unchanged, 1));
	cr_assert(eq(u64, s.replaced, 1));
	cr_assert(eq(int, bb_store_get(st, 0, T0, &out), 0));
	cr_assert(eq(dbl, out.open, 5));
}

Test(store, inserts_between_existing_bars)
{
	bb_bar in[40], out[64];
	bb_put_stats s;
	size_t n;

	open_with(1);
	for (int i = 0; i < 20; i++)
		in[i] = bar(0, T0 + 120 * i, i); /* even minutes */
	cr_assert(eq(int, bb_store_put(st, in, 20, NULL), 0));
	for (int i = 0; i < 40; i++)
		in[i] = bar(0, T0 + 60 * i, i % 2 ? 100 + i : i / 2); /* all minutes */
	cr_assert(eq(int, bb_store_put(st, in, 40, &s), 0));
	cr_assert(eq(u64, s.stored, 20));
	cr_assert(eq(u64, s.unchanged, 20));
	cr_assert(eq(int, bb_store_range(st, 0, 0, INT64_MAX, out, 64, &n), 0));
	cr_assert(eq(sz, n, 40));
	for (int i = 0; i < 40; i++)
		cr_assert(same(&out[i], &in[i]));
}

Test(store, a_bad_bar_fails_the_whole_batch)
{
	bb_bar in[3] = { bar(0, T0, 1), bar(0, T0 + 60, 2), bar(0, T0 + 90, 3) };
	bb_bar out;

	open_with(1);
	cr_assert(eq(int, bb_store_put(st, in, 3, NULL), BB_EINVAL));
	cr_assert(eq(int, bb_store_get(st, 0, T0, &out), BB_ENOTFOUND));
	in[2] = bar(5, T0, 1); /* no such symbol */
	cr_assert(eq(int, bb_store_put(st, in, 3, NULL), BB_EINVAL));
	in[2] = bar(0, T0 + 120, NAN);
	cr_assert(eq(int, bb_store_put(st, in, 3, NULL), BB_EINVAL));
	in[2] = bar(0, -60, 1);
	cr_assert(eq(int, bb_store_put(st, in, 3, NULL), BB_EINVAL));
	cr_assert(eq(int, bb_store_get(st, 0, T0, &out), BB_ENOTFOUND));
}

Test(store, load_is_in_global_time_order)
{
	bb_batch b = { 0 };
	bb_bar in[64];
	size_t n = 0;

	open_with(4);
	/* symbol s has minutes m where (m + s) % 3 != 0: gaps everywhere */
	for (uint32_t s = 4; s-- > 0;)
		for (int m = 0; m < 16; m++)
			if ((m + (int)s) % 3 != 0)
				in[n++] = bar(s, T0 + 60 * m, s * 100 + m);
	cr_assert(eq(int, bb_store_put(st, in, n, NULL), 0));
	cr_assert(eq(int, bb_store_load(st, NULL, 0, T0, T0 + 16 * 60, &b), 0));
	cr_assert(eq(sz, b.n, n));
	for (size_t i = 1; i < b.n; i++) {
		const bb_bar *p = &b.bars[i - 1], *q = &b.bars[i];
		cr_assert(p->time < q->time ||
		          (p->time == q->time && p->symbol < q->symbol));
	}
	cr_assert(eq(int, bb_store_load(st, NULL, 0, T0 + 60, T0 + 120, &b), 0));
	for (size_t i = 0; i < b.n; i++)
		cr_assert(eq(i64, b.bars[i].time, T0 + 60));
	cr_assert(eq(sz, b.n, 3)); /* (1 + s) % 3 != 0 for s = 0, 1, 3 */
	bb_batch_free(&b);
}

/* 70 symbols x 5 minutes: full minutes before the first short one, then
 * short minutes that move, then a reload into the same batch; every bar
 * compared whole with the one expected at its place. */
Test(store, load_of_a_day_keeps_every_bar_once_in_order)
{
	static bb_bar in[350], want[350];
	bb_batch b = { 0 };
	size_t n = 0, w = 0;

	open_with(70);
	for (uint32_t s = 0; s < 70; s++)
		for (int m = 0; m < 5; m++)
			if (m < 2 || (s * 7 + (uint32_t)m) % 5 != 0)
				in[n++] = bar(s, T0 + 60 * m, s * 10 + m);
	for (int m = 0; m < 5; m++)
		for (size_t i = 0; i < n; i++)
			if (in[i].time == T0 + 60 * m)
				want[w++] = in[i];
	cr_assert(eq(int, bb_store_put(st, in, n, NULL), 0));
	cr_assert(eq(int, bb_store_load(st, NULL, 0, T0, T0 + 5 * 60, &b), 0));
	cr_assert(eq(sz, b.n, n));
	for (size_t i = 0; i < n; i++)
		cr_assert(same(&b.bars[i], &want[i]), "bar %zu", i);
	cr_assert(eq(int, bb_store_load(st, NULL, 0, T0 + 120, T0 + 180, &b), 0));
	cr_assert(eq(sz, b.n, 56)); /* s * 7 + 2 = 0 mod 5: 14 of 70 */
	for (size_t i = 0, j = 140; i < b.n; i++, j++)
		cr_assert(same(&b.bars[i], &want[j]), "bar %zu", i);
	bb_batch_free(&b);
}

static int cmp_time_sym(const void *a, const void *b)
{
	const bb_bar *x = a, *y = b;

	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return (x->symbol > y->symbol) - (x->symbol < y->symbol);
}

/* The bars of in[0..n) with from <= time < to in global time order. */
static size_t expect(const bb_bar *in, size_t n, int64_t from, int64_t to,
                     bb_bar *want)
{
	size_t w = 0;

	for (size_t i = 0; i < n; i++)
		if (in[i].time >= from && in[i].time < to)
			want[w++] = in[i];
	qsort(want, w, sizeof(*want), cmp_time_sym);
	return w;
}

/* 40 symbols x 60 minutes: every fourth illiquid (a bar in about one
 * minute of three, in runs), symbol 7 with bars only outside the range,
 * symbol 39 with none at all; the range starts mid-minute and ends on one.
 * Each bar comes out once, whole, at its place; then the same batch is
 * reused for a shorter range. */
Test(store, load_of_illiquid_symbols_keeps_every_bar_once_in_order)
{
	static bb_bar in[2400], want[2400];
	bb_batch b = { 0 };
	size_t n = 0, w;

	open_with(40);
	for (uint32_t s = 0; s < 39; s++)
		for (int m = -5; m < 65; m++) {
			int in_range = m >= 0 && m < 60;
			if (s == 7 && in_range)
				continue;
			if (s % 4 == 3 && (m * 7 + (int)s) % 9 > 2)
				continue;
			in[n++] = bar(s, T0 + 60 * m, s * 1000 + m);
		}
	cr_assert(eq(int, bb_store_put(st, in, n, NULL), 0));
	w = expect(in, n, T0, T0 + 60 * 60, want);
	cr_assert(eq(int, bb_store_load(st, NULL, 0, T0 - 59, T0 + 60 * 60, &b),
	             0));
	cr_assert(eq(sz, b.n, w));
	cr_assert(eq(sz, w, 1961)); /* 30 liquid x 60 + 161 of 8 illiquid */
	for (size_t i = 0; i < w; i++)
		cr_assert(same(&b.bars[i], &want[i]), "bar %zu", i);
	w = expect(in, n, T0 + 60 * 20, T0 + 60 * 22, want);
	cr_assert(eq(int, bb_store_load(st, NULL, 0, T0 + 60 * 20, T0 + 60 * 22,
	                                &b), 0));
	cr_assert(eq(sz, b.n, w));
	for (size_t i = 0; i < w; i++)
		cr_assert(same(&b.bars[i], &want[i]), "bar %zu", i);
	bb_batch_free(&b);
}

/* A range of one minute, however it is cut, gives that minute's bars;
 * one that holds no whole minute gives none. */
Test(store, load_of_one_minute)
{
	bb_bar in[6], want[6];
	bb_batch b = { 0 };
	size_t n = 0;

	open_with(3);
	for (uint32_t s = 0; s < 3; s++)
		for (int m = 0; m < 2; m++)
			if (s != 1 || m != 1)
				in[n++] = bar(s, T0 + 60 * m, s * 10 + m);
	cr_assert(eq(int, bb_store_put(st, in, n, NULL), 0));
	cr_assert(eq(int, bb_store_load(st, NULL, 0, T0 + 60, T0 + 120, &b), 0));
	cr_assert(eq(sz, b.n, 2));
	cr_assert(eq(sz, expect(in, n, T0 + 60, T0 + 120, want), 2));
	for (size_t i = 0; i < 2; i++)
		cr_assert(same(&b.bars[i], &want[i]), "bar %zu", i);
	cr_assert(eq(int, bb_store_load(st, NULL, 0, T0 + 1, T0 + 61, &b), 0));
	cr_assert(eq(sz, b.n, 2));
	cr_assert(same(&b.bars[0], &want[0]));
	cr_assert(same(&b.bars[1], &want[1]));
	cr_assert(eq(int, bb_store_load(st, NULL, 0, T0 + 1, T0 + 60, &b), 0));
	cr_assert(eq(sz, b.n, 0));
	bb_batch_free(&b);
}

Test(store, load_takes_a_set_of_symbols)
{
	bb_batch b = { 0 };
	uint32_t syms[3] = { 2, 0, 2 };
	bb_bar in[30];

	open_with(3);
	for (int i = 0; i < 30; i++)
		in[i] = bar((uint32_t)(i % 3), T0 + 60 * (i / 3), i);
	cr_assert(eq(int, bb_store_put(st, in, 30, NULL), 0));
	cr_assert(eq(int, bb_store_load(st, syms, 3, 0, INT64_MAX, &b), 0));
	cr_assert(eq(sz, b.n, 20));
	for (size_t i = 0; i < b.n; i++) {
		cr_assert(eq(u32, b.bars[i].symbol, i % 2 ? 2 : 0));
		cr_assert(eq(i64, b.bars[i].time, T0 + 60 * (int64_t)(i / 2)));
	}
	bb_bar *mem = b.bars;
	cr_assert(eq(int, bb_store_load(st, syms, 1, 0, INT64_MAX, &b), 0));
	cr_assert(eq(sz, b.n, 10));
	cr_assert(eq(ptr, b.bars, mem)); /* reused */
	bb_batch_free(&b);
	cr_assert(eq(ptr, b.bars, NULL));
}

Test(store, load_of_sparse_bars_over_a_long_range)
{
	bb_batch b = { 0 };
	bb_bar in[4] = { bar(1, 0, 1), bar(0, 86400 * 365, 2),
	                 bar(1, 86400 * 365, 3), bar(0, 86400LL * 3650, 4) };

	open_with(2);
	cr_assert(eq(int, bb_store_put(st, in, 4, NULL), 0));
	cr_assert(eq(int, bb_store_load(st, NULL, 0, 0, INT64_MAX, &b), 0));
	cr_assert(eq(sz, b.n, 4));
	for (int i = 0; i < 4; i++)
		cr_assert(same(&b.bars[i], &in[i]));
	bb_batch_free(&b);
}

/* Sets meta "schema" of the store in dir to ver, with LMDB directly. */
static void set_schema(uint32_t ver)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi meta;
	MDB_val k = { 6, "schema" }, v = { sizeof(ver), &ver };

	cr_assert(eq(int, mdb_env_create(&env), 0));
	mdb_env_set_maxdbs(env, 8);
	cr_assert(eq(int, mdb_env_open(env, dir, 0, 0640), 0));
	cr_assert(eq(int, mdb_txn_begin(env, NULL, 0, &txn), 0));
	cr_assert(eq(int, mdb_dbi_open(txn, "meta", 0, &meta), 0));
	cr_assert(eq(int, mdb_put(txn, meta, &k, &v, 0), 0));
	cr_assert(eq(int, mdb_txn_commit(txn), 0));
	mdb_env_close(env);
}

static char *file_bytes(const char *name, size_t *len)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	cr_assert(f != NULL);
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	rewind(f);
	char *p = malloc(*len + 1);
	cr_assert(eq(sz, fread(p, 1, *len, f), *len));
	fclose(f);
	return p;
}

Test(store, other_schema_version_is_refused_untouched)
{
	bb_bar b = bar(0, T0, 1);
	size_t n1, n2;

	open_with(1);
	cr_assert(eq(int, bb_store_put(st, &b, 1, NULL), 0));
	bb_store_close(st);
	st = NULL;
	set_schema(BB_STORE_SCHEMA + 1);
	char *before = file_bytes("data.mdb", &n1);
	cr_assert(eq(int, bb_store_open(&st, dir, 0), BB_ESTORE_VERSION));
	cr_assert(eq(ptr, st, NULL));
	cr_assert(eq(int, bb_store_open(&st, dir, BB_STORE_RDONLY),
	             BB_ESTORE_VERSION));
	char *after = file_bytes("data.mdb", &n2);
	cr_assert(eq(sz, n1, n2));
	cr_assert(memcmp(before, after, n1) == 0);
	cr_assert(eq(str, (char *)bb_strerror(BB_ESTORE_VERSION),
	             "bar store has an unsupported schema version"));
	free(before);
	free(after);
}

Test(store, foreign_lmdb_environment_is_refused)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = { 3, "key" }, v = { 3, "val" };

	cr_assert(eq(int, mdb_env_create(&env), 0));
	cr_assert(eq(int, mdb_env_open(env, dir, 0, 0640), 0));
	cr_assert(eq(int, mdb_txn_begin(env, NULL, 0, &txn), 0));
	cr_assert(eq(int, mdb_dbi_open(txn, NULL, 0, &dbi), 0));
	cr_assert(eq(int, mdb_put(txn, dbi, &k, &v, 0), 0));
	cr_assert(eq(int, mdb_txn_commit(txn), 0));
	mdb_env_close(env);
	cr_assert(eq(int, bb_store_open(&st, dir, 0), BB_ESTORE_VERSION));
}

Test(store, read_only_open_of_a_missing_store_fails)
{
	char path[96];

	snprintf(path, sizeof(path), "%s/none", dir);
	cr_assert(eq(int, bb_store_open(&st, path, BB_STORE_RDONLY), ENOENT));
}

Test(store, read_only_store_refuses_writes)
{
	bb_bar b = bar(0, T0, 1), out;
	uint32_t id;

	open_with(1);
	cr_assert(eq(int, bb_store_put(st, &b, 1, NULL), 0));
	bb_store_close(st);
	cr_assert(eq(int, bb_store_open(&st, dir, BB_STORE_RDONLY), 0));
	cr_assert(eq(int, bb_store_put(st, &b, 1, NULL), EACCES));
	cr_assert(eq(int, bb_store_symbol_add(st, "NEW", &id), EACCES));
	cr_assert(eq(int, bb_store_get(st, 0, T0, &out), 0));
	cr_assert(same(&out, &b));
}

static bb_bar *many(size_t n, uint32_t sym)
{
	bb_bar *b = malloc(n * sizeof(*b));

	for (size_t i = 0; i < n; i++)
		b[i] = bar(sym, T0 + 60 * (int64_t)i, (double)i);
	return b;
}

Test(store, map_grows_with_the_data)
{
	size_t n = 100000;
	bb_bar *b = many(n, 0), out;
	uint32_t id;

	cr_assert(eq(int, bb__store_open_ex(&st, dir, 0, 1 << 20, 0), 0));
	cr_assert(eq(int, bb_store_symbol_add(st, "A", &id), 0));
	cr_assert(eq(int, bb_store_put(st, b, n, NULL), 0));
	cr_assert(gt(sz, bb__store_map_size(st), 1 << 20));
	cr_assert(eq(int, bb_store_get(st, 0, b[n - 1].time, &out), 0));
	cr_assert(same(&out, &b[n - 1]));
	free(b);
}

Test(store, full_map_is_a_clear_error_and_keeps_commits)
{
	size_t n = 100000;
	bb_bar *b = many(n, 0), out;
	uint32_t id;

	cr_assert(eq(int, bb__store_open_ex(&st, dir, 0, 1 << 20, 2 << 20), 0));
	cr_assert(eq(int, bb_store_symbol_add(st, "A", &id), 0));
	cr_assert(eq(int, bb_store_put(st, b, 1000, NULL), 0));
	cr_assert(eq(int, bb_store_put(st, b + 1000, n - 1000, NULL),
	             BB_ESTORE_FULL));
	cr_assert(eq(int, bb_store_get(st, 0, b[999].time, &out), 0));
	cr_assert(eq(int, bb_store_get(st, 0, b[1000].time, &out), BB_ENOTFOUND));
	bb_store_close(st);
	cr_assert(eq(int, bb_store_open(&st, dir, BB_STORE_RDONLY), 0));
	cr_assert(eq(int, bb_store_get(st, 0, b[999].time, &out), 0));
	cr_assert(same(&out, &b[999]));
	free(b);
}

Test(store, put_named_adds_symbols_in_the_same_transaction)
{
	const char *names[2] = { "NEW", "OLD" };
	bb_bar in[2] = { bar(0, T0, 1), bar(1, T0, 2) }, out;
	uint32_t ids[2], old, n;

	open_with(0);
	cr_assert(eq(int, bb_store_symbol_add(st, "OLD", &old), 0));
	cr_assert(eq(int, bb__store_put_named(st, names, 2, in, 2, ids, NULL), 0));
	cr_assert(eq(u32, ids[0], 1));
	cr_assert(eq(u32, ids[1], old));
	cr_assert(eq(int, bb_store_get(st, 1, T0, &out), 0));
	cr_assert(eq(dbl, out.open, 1));
	const char *bad[2] = { "GOOD", "NOT GOOD" };
	cr_assert(eq(int, bb__store_put_named(st, bad, 2, in, 2, NULL, NULL),
	             BB_EBADSYMBOL));
	cr_assert(eq(int, bb_store_symbol_count(st, &n), 0));
	cr_assert(eq(u32, n, 2));
}

/* Size of the store's data file. */
static off_t data_size(void)
{
	char p[128];
	struct stat sb;

	snprintf(p, sizeof(p), "%s/data.mdb", dir);
	cr_assert(eq(int, stat(p, &sb), 0));
	return sb.st_size;
}

/*
 * A full disk, simulated: a file size limit just above what the store holds
 * (SIGXFSZ ignored, so writes past it fail with EFBIG or come up short,
 * which LMDB reports as EIO). Nothing committed before is lost.
 */
Test(store, full_disk_is_store_full_not_an_io_error)
{
	size_t n = 100000;
	bb_bar *b = many(n, 0), out;
	struct rlimit old, lim;
	uint32_t id;

	cr_assert(eq(int, bb_store_open(&st, dir, 0), 0));
	cr_assert(eq(int, bb_store_symbol_add(st, "A", &id), 0));
	cr_assert(eq(int, bb_store_put(st, b, 1000, NULL), 0));
	signal(SIGXFSZ, SIG_IGN);
	cr_assert(eq(int, getrlimit(RLIMIT_FSIZE, &old), 0));
	lim = old;
	lim.rlim_cur = (rlim_t)data_size() + 8192 + 1000;
	cr_assert(eq(int, setrlimit(RLIMIT_FSIZE, &lim), 0));
	int rc = bb_store_put(st, b + 1000, n - 1000, NULL);
	cr_assert(eq(int, setrlimit(RLIMIT_FSIZE, &old), 0));
	cr_assert(eq(int, rc, BB_ESTORE_FULL), "%s", bb_strerror(rc));
	cr_assert(eq(int, bb_store_get(st, 0, b[999].time, &out), 0));
	cr_assert(eq(int, bb_store_get(st, 0, b[1000].time, &out), BB_ENOTFOUND));
	bb_store_close(st);
	cr_assert(eq(int, bb_store_open(&st, dir, BB_STORE_RDONLY), 0));
	cr_assert(eq(int, bb_store_get(st, 0, b[999].time, &out), 0));
	cr_assert(same(&out, &b[999]));
	free(b);
}

/* ---- a real full disk: a 1 MiB tmpfs in a private mount namespace ------- */

static char fs[96];

static void disk_teardown(void)
{
	bb_store_close(st);
	st = NULL;
	if (fs[0] != '\0')
		umount2(fs, MNT_DETACH);
	tmpdir_remove(dir);
}

TestSuite(store_disk, .init = setup, .fini = disk_teardown, .timeout = 20);

Test(store_disk, full_tmpfs_is_store_full)
{
	size_t n = 100000;
	bb_bar *b = many(n, 0), out;
	uint32_t id;

	snprintf(fs, sizeof(fs), "%s/fs", dir);
	cr_assert(eq(int, mkdir(fs, 0700), 0));
	if (geteuid() != 0 || unshare(CLONE_NEWNS) != 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
	    mount("tmpfs", fs, "tmpfs", 0, "size=1m") != 0) {
		fs[0] = '\0';
		free(b);
		cr_skip_test("needs root and mount namespaces to mount a small "
		             "tmpfs (the RLIMIT_FSIZE test covers the same path)");
	}
	cr_assert(eq(int, bb_store_open(&st, fs, 0), 0));
	cr_assert(eq(int, bb_store_symbol_add(st, "A", &id), 0));
	cr_assert(eq(int, bb_store_put(st, b, 1000, NULL), 0));
	int rc = bb_store_put(st, b + 1000, n - 1000, NULL);
	cr_assert(eq(int, rc, BB_ESTORE_FULL), "%s", bb_strerror(rc));
	cr_assert(eq(int, bb_store_get(st, 0, b[999].time, &out), 0));
	cr_assert(same(&out, &b[999]));
	free(b);
}
