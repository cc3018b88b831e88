/*
 * store.c: the bar store, one LMDB environment in a directory.
 *
 * Sub-databases (layout in docs/store.md):
 *   "meta"    "schema" -> u32 BB_STORE_SCHEMA
 *   "symbols" name -> u32 BE id          ids dense 0..n-1, first come
 *   "symids"  u32 BE id -> name
 *   "bars"    (u32 BE id, u64 BE time) -> 44-byte value (see val_put)
 * Big-endian keys make LMDB's memcmp order chronological per symbol.
 *
 * Threads: every function may be called from any thread on one bb_store
 * (MDB_NOTLS), bb_store_close() excepted. Writers of this process queue on
 * wmu (LMDB serialises writers of different processes). LMDB allows a map
 * resize only while this process has no transaction open, so every
 * transaction holds map_lock shared and a resize takes it exclusive.
 */
#include <endian.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <lmdb.h>

#include "store.h"

_Static_assert(offsetof(bb_bar, volume) - offsetof(bb_bar, open) == 32,
               "open..volume must be 5 contiguous doubles");
_Static_assert(BB_STORE_VAL_BYTES == 5 * sizeof(double) + sizeof(uint32_t),
               "value layout");

struct bb_store {
	MDB_env         *env;
	MDB_dbi          meta, syms, symids, bars;
	unsigned         flags;
	size_t           map_init, map_max;
	pthread_mutex_t  wmu;        /* one write transaction at a time */
	pthread_rwlock_t map_lock;   /* shared: any txn; exclusive: resize */
	pthread_mutex_t  scratch_mu; /* guards scratch (bb_store_load) */
	bb_bar          *scratch;
	size_t           scratch_cap;
};

/* ---- encoding ------------------------------------------------------------ */

static void key_put(uint8_t *k, uint32_t sym, int64_t t)
{
	uint32_t s = htobe32(sym);
	uint64_t u = htobe64((uint64_t)t);

	memcpy(k, &s, 4);
	memcpy(k + 4, &u, 8);
}

static void key_get(const uint8_t *k, uint32_t *sym, int64_t *t)
{
	uint32_t s;
	uint64_t u;

	memcpy(&s, k, 4);
	memcpy(&u, k + 4, 8);
	*sym = be32toh(s);
	*t = (int64_t)be64toh(u);
}

/* Value: open, high, low, close, volume (f64), flags (u32), host order. */
static void val_put(uint8_t *v, const bb_bar *b)
{
	memcpy(v, &b->open, 40);
	memcpy(v + 40, &b->flags, 4);
}

static void val_get(const uint8_t *v, bb_bar *b)
{
	memcpy(&b->open, v, 40);
	memcpy(&b->flags, v + 40, 4);
}

/* A full map or a full disk is BB_ESTORE_FULL; the rest passes through. */
static int map_err(int rc)
{
	switch (rc) {
	case MDB_MAP_FULL:
	case ENOSPC:
	case EFBIG:
	case EDQUOT:
		return BB_ESTORE_FULL;
	default:
		return rc;
	}
}

/* ---- transactions and map growth ------------------------------------------ */

/* size 0 adopts the size another process has grown the map to. */
static int map_resize(bb_store *st, size_t size)
{
	pthread_rwlock_wrlock(&st->map_lock);
	int rc = mdb_env_set_mapsize(st->env, size);
	pthread_rwlock_unlock(&st->map_lock);
	return rc;
}

/* On success map_lock is held shared until txn_commit()/txn_abort(). */
static int txn_begin(bb_store *st, unsigned flags, MDB_txn **txn)
{
	for (;;) {
		pthread_rwlock_rdlock(&st->map_lock);
		int rc = mdb_txn_begin(st->env, NULL, flags, txn);
		if (rc == 0)
			return 0;
		pthread_rwlock_unlock(&st->map_lock);
		if (rc != MDB_MAP_RESIZED)
			return rc;
		if ((rc = map_resize(st, 0)) != 0)
			return rc;
	}
}

static int txn_commit(bb_store *st, MDB_txn *txn)
{
	int rc = mdb_txn_commit(txn);

	pthread_rwlock_unlock(&st->map_lock);
	return rc;
}

static void txn_abort(bb_store *st, MDB_txn *txn)
{
	mdb_txn_abort(txn);
	pthread_rwlock_unlock(&st->map_lock);
}

static size_t map_size(bb_store *st, size_t *used)
{
	MDB_envinfo info;
	MDB_stat ms;

	mdb_env_info(st->env, &info);
	mdb_env_stat(st->env, &ms);
	if (used)
		*used = (info.me_last_pgno + 1) * (size_t)ms.ms_psize;
	return info.me_mapsize;
}

/* Double the map up to map_max; BB_ESTORE_FULL when it is there already. */
static int grow(bb_store *st, size_t need)
{
	size_t used, cur = map_size(st, &used), size = cur;

	if (cur >= st->map_max)
		return BB_ESTORE_FULL;
	do
		size *= 2;
	while (size < used + need && size < st->map_max);
	return map_resize(st, size < st->map_max ? size : st->map_max);
}

typedef int (*write_fn)(bb_store *st, MDB_txn *txn, void *arg);

/*
 * Run fn in a write transaction and commit, all or nothing. need estimates
 * the bytes fn adds, to grow the map once up front rather than retrying;
 * MDB_MAP_FULL still aborts, grows the map and reruns fn from scratch.
 */
static int write_txn(bb_store *st, size_t need, write_fn fn, void *arg)
{
	size_t used;
	int rc = 0;

	if (st->flags & BB_STORE_RDONLY)
		return EACCES;
	pthread_mutex_lock(&st->wmu);
	if (map_size(st, &used) < used + need)
		grow(st, need); /* best effort: MDB_MAP_FULL below is the judge */
	for (;;) {
		MDB_txn *txn;
		if ((rc = txn_begin(st, 0, &txn)) != 0)
			break;
		rc = fn(st, txn, arg);
		if (rc == 0)
			rc = txn_commit(st, txn);
		else
			txn_abort(st, txn);
		if (rc != MDB_MAP_FULL || (rc = grow(st, need)) != 0)
			break;
	}
	pthread_mutex_unlock(&st->wmu);
	return map_err(rc);
}

/* ---- open / close ------------------------------------------------------------ */

static int dbi(MDB_txn *txn, const char *name, unsigned flags, MDB_dbi *out)
{
	int rc = mdb_dbi_open(txn, name, flags, out);

	return rc == MDB_NOTFOUND || rc == MDB_INCOMPATIBLE ? BB_ESTORE_VERSION : rc;
}

/*
 * Open the sub-databases after checking the schema version. A store without
 * "meta" is BB_ENOTFOUND unless create (then it must be an empty env). Any
 * other version is BB_ESTORE_VERSION, found before anything is written.
 */
static int schema_open(bb_store *st, MDB_txn *txn, int create)
{
	uint32_t ver = BB_STORE_SCHEMA;
	MDB_val k = { 6, "schema" }, v;
	MDB_dbi main;
	MDB_stat ms;
	int rc = mdb_dbi_open(txn, "meta", 0, &st->meta);

	if (rc == MDB_NOTFOUND) {
		if (!create)
			return BB_ENOTFOUND;
		if ((rc = mdb_dbi_open(txn, NULL, 0, &main)) != 0 ||
		    (rc = mdb_stat(txn, main, &ms)) != 0)
			return rc;
		if (ms.ms_entries != 0)
			return BB_ESTORE_VERSION; /* an LMDB env, not ours */
		if ((rc = dbi(txn, "meta", MDB_CREATE, &st->meta)) != 0)
			return rc;
		v = (MDB_val){ sizeof(ver), &ver };
		if ((rc = mdb_put(txn, st->meta, &k, &v, 0)) != 0)
			return rc;
	} else if (rc != 0) {
		return rc == MDB_INCOMPATIBLE ? BB_ESTORE_VERSION : rc;
	} else {
		if ((rc = mdb_get(txn, st->meta, &k, &v)) != 0)
			return rc == MDB_NOTFOUND ? BB_ESTORE_VERSION : rc;
		if (v.mv_size != sizeof(ver) || memcmp(v.mv_data, &ver, sizeof(ver)))
			return BB_ESTORE_VERSION;
	}
	unsigned f = create ? MDB_CREATE : 0;
	if ((rc = dbi(txn, "symbols", f, &st->syms)) != 0 ||
	    (rc = dbi(txn, "symids", f, &st->symids)) != 0)
		return rc;
	return dbi(txn, "bars", f, &st->bars);
}

static int schema_create(bb_store *st, MDB_txn *txn, void *arg)
{
	(void)arg;
	return schema_open(st, txn, 1);
}

static int env_open(bb_store *st, const char *dir)
{
	unsigned rdonly = st->flags & BB_STORE_RDONLY;
	MDB_txn *txn;
	size_t used;
	int rc;

	if (!rdonly && mkdir(dir, 0750) != 0 && errno != EEXIST)
		return errno;
	if ((rc = mdb_env_create(&st->env)) != 0)
		return rc;
	if ((rc = mdb_env_set_maxdbs(st->env, 8)) != 0 ||
	    (rc = mdb_env_open(st->env, dir,
	                       MDB_NOTLS | (rdonly ? MDB_RDONLY : 0), 0640)) != 0)
		return rc;
	/* Read first: a store of another version is refused untouched. */
	if ((rc = txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	rc = schema_open(st, txn, 0);
	if (rc == 0)
		return txn_commit(st, txn); /* commit keeps the dbi handles */
	txn_abort(st, txn);
	if (rc != BB_ENOTFOUND || rdonly)
		return rc;
	if (map_size(st, &used) < st->map_init &&
	    (rc = map_resize(st, st->map_init)) != 0)
		return rc;
	return write_txn(st, 0, schema_create, NULL);
}

int bb__store_open_ex(bb_store **out, const char *dir, unsigned flags,
                      size_t map_init, size_t map_max)
{
	pthread_rwlockattr_t ra;
	bb_store *st;
	size_t used;
	int rc;

	if (out == NULL)
		return BB_EINVAL;
	*out = NULL;
	if (dir == NULL || *dir == '\0' || (flags & ~(unsigned)BB_STORE_RDONLY))
		return BB_EINVAL;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return ENOMEM;
	st->flags = flags;
	st->map_init = map_init ? map_init : BB_STORE_MAP_INIT;
	st->map_max = map_max ? map_max : BB_STORE_MAP_MAX;
	pthread_mutex_init(&st->wmu, NULL);
	pthread_mutex_init(&st->scratch_mu, NULL);
	/* Prefer the writer so a resize is not starved by back-to-back reads. */
	pthread_rwlockattr_init(&ra);
	pthread_rwlockattr_setkind_np(&ra,
	        PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&st->map_lock, &ra);
	pthread_rwlockattr_destroy(&ra);
	rc = env_open(st, dir);
	if (rc == 0 && !(flags & BB_STORE_RDONLY) &&
	    map_size(st, &used) < st->map_init)
		rc = map_resize(st, st->map_init);
	if (rc != 0) {
		bb_store_close(st);
		return rc;
	}
	*out = st;
	return 0;
}

int bb_store_open(bb_store **out, const char *dir, unsigned flags)
{
	return bb__store_open_ex(out, dir, flags, 0, 0);
}

void bb_store_close(bb_store *st)
{
	if (st == NULL)
		return;
	if (st->env)
		mdb_env_close(st->env);
	pthread_rwlock_destroy(&st->map_lock);
	pthread_mutex_destroy(&st->wmu);
	pthread_mutex_destroy(&st->scratch_mu);
	free(st->scratch);
	free(st);
}

size_t bb__store_map_size(bb_store *st)
{
	return map_size(st, NULL);
}

/* ---- symbols ---------------------------------------------------------------- */

static int sym_lookup(bb_store *st, MDB_txn *txn, const char *name, uint32_t *id)
{
	MDB_val k = { strlen(name), (void *)name }, v;
	uint32_t be;
	int rc = mdb_get(txn, st->syms, &k, &v);

	if (rc != 0)
		return rc == MDB_NOTFOUND ? BB_ENOTFOUND : rc;
	if (v.mv_size != sizeof(be))
		return MDB_CORRUPTED;
	memcpy(&be, v.mv_data, sizeof(be));
	*id = be32toh(be);
	return 0;
}

static int sym_count(bb_store *st, MDB_txn *txn, uint32_t *n)
{
	MDB_stat ms;
	int rc = mdb_stat(txn, st->symids, &ms);

	if (rc == 0)
		*n = (uint32_t)ms.ms_entries;
	return rc;
}

/* Id of name (valid), adding it with the next id when absent. */
static int sym_add(bb_store *st, MDB_txn *txn, const char *name, uint32_t *id)
{
	int rc = sym_lookup(st, txn, name, id);
	uint32_t n, be;

	if (rc != BB_ENOTFOUND)
		return rc;
	if ((rc = sym_count(st, txn, &n)) != 0)
		return rc;
	be = htobe32(n);
	MDB_val kn = { strlen(name), (void *)name }, kid = { sizeof(be), &be };
	if ((rc = mdb_put(txn, st->syms, &kn, &kid, MDB_NOOVERWRITE)) != 0 ||
	    (rc = mdb_put(txn, st->symids, &kid, &kn, MDB_NOOVERWRITE)) != 0)
		return rc;
	*id = n;
	return 0;
}

struct sym_job {
	const char *name;
	uint32_t    id;
};

static int sym_add_fn(bb_store *st, MDB_txn *txn, void *arg)
{
	struct sym_job *j = arg;

	return sym_add(st, txn, j->name, &j->id);
}

int bb_store_symbol_id(bb_store *st, const char *name, uint32_t *id)
{
	MDB_txn *txn;
	int rc;

	if (st == NULL || id == NULL || bb_symbol_check(name) != 0)
		return st && id ? BB_EBADSYMBOL : BB_EINVAL;
	if ((rc = txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	rc = sym_lookup(st, txn, name, id);
	txn_abort(st, txn);
	return rc;
}

int bb_store_symbol_add(bb_store *st, const char *name, uint32_t *id)
{
	struct sym_job j = { name, 0 };
	int rc = bb_store_symbol_id(st, name, id);

	if (rc != BB_ENOTFOUND)
		return rc; /* found, or an error */
	if ((rc = write_txn(st, 4096, sym_add_fn, &j)) == 0)
		*id = j.id;
	return rc;
}

int bb_store_symbol_name(bb_store *st, uint32_t id, char *buf, size_t len)
{
	uint32_t be = htobe32(id);
	MDB_val k = { sizeof(be), &be }, v;
	MDB_txn *txn;
	int rc;

	if (st == NULL || buf == NULL)
		return BB_EINVAL;
	if ((rc = txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	rc = mdb_get(txn, st->symids, &k, &v);
	if (rc == MDB_NOTFOUND)
		rc = BB_ENOTFOUND;
	else if (rc == 0 && v.mv_size >= len)
		rc = ERANGE;
	else if (rc == 0) {
		memcpy(buf, v.mv_data, v.mv_size);
		buf[v.mv_size] = '\0';
	}
	txn_abort(st, txn);
	return rc;
}

int bb_store_symbol_count(bb_store *st, uint32_t *n)
{
	MDB_txn *txn;
	int rc;

	if (st == NULL || n == NULL)
		return BB_EINVAL;
	if ((rc = txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	rc = sym_count(st, txn, n);
	txn_abort(st, txn);
	return rc;
}

/* ---- writing bars --------------------------------------------------------------- */

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

/* Write one bar at the cursor's position; see put_bars(). */
static int put_one(MDB_cursor *cur, MDB_val *k, MDB_val *v, MDB_val *ck,
                   MDB_val *cv, int at_end, bb_put_stats *s)
{
	if (at_end) {
		s->stored++;
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
	int at_end = 0, positioned = 0, rc;
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
			if (rc == 0)
				rc = put_one(cur, &k, &v, &ck, &cv, 0, &j->stats);
			continue;
		}
		memcpy(prev, kb, sizeof(kb));
		if (!at_end)
			rc = seek(cur, &k, &ck, &cv, positioned, &at_end);
		if (rc == 0)
			rc = put_one(cur, &k, &v, &ck, &cv, at_end, &j->stats);
		positioned = 1;
	}
	mdb_cursor_close(cur);
	return rc;
}

static int put_fn(bb_store *st, MDB_txn *txn, void *arg)
{
	struct put_job *j = arg;
	uint32_t nsyms = 0;
	int rc = 0;

	j->stats = (bb_put_stats){ 0 };
	free(j->order);
	j->order = NULL;
	for (size_t i = 0; j->names && i < j->nnames && rc == 0; i++)
		rc = sym_add(st, txn, j->names[i], &j->ids[i]);
	if (rc == 0 && !j->names)
		rc = sym_count(st, txn, &nsyms);
	if (rc == 0)
		rc = put_prepare(j, nsyms);
	return rc != 0 ? rc : put_bars(st, txn, j);
}

static int put_run(bb_store *st, struct put_job *j, bb_put_stats *stats)
{
	/* ~88 bytes a bar appended; twice that covers inserts and page copies */
	int rc = write_txn(st, j->n * 176 + j->nnames * 256 + (1u << 20),
	                   put_fn, j);

	free(j->order);
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

/* ---- reading bars ------------------------------------------------------------------ */

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
	if ((rc = txn_begin(st, MDB_RDONLY, &txn)) != 0)
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
	txn_abort(st, txn);
	return rc;
}

/* A read transaction and a cursor on "bars"; end with read_end(). */
static int read_begin(bb_store *st, MDB_txn **txn, MDB_cursor **cur)
{
	int rc = txn_begin(st, MDB_RDONLY, txn);

	if (rc == 0 && (rc = mdb_cursor_open(*txn, st->bars, cur)) != 0)
		txn_abort(st, *txn);
	return rc;
}

static void read_end(bb_store *st, MDB_txn *txn, MDB_cursor *cur)
{
	mdb_cursor_close(cur);
	txn_abort(st, txn);
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
	if (syms == NULL && (rc = sym_count(st, txn, &n)) == 0)
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

	if (syms == NULL && (rc = sym_count(st, txn, &n)) != 0)
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

/*
 * Runs symbol by symbol into the store's scratch, then a counting sort
 * into b. Ranges of up to COUNT_MAX_MINUTES (a session, a year) count bars
 * per minute while reading, saving two passes over the scratch.
 */
static int load_sorted(bb_store *st, MDB_cursor *cur, const uint32_t *ids,
                       size_t k, int64_t from, int64_t to, bb_batch *b)
{
	int64_t base = (from + 59) / 60 * 60; /* first minute in range */
	uint64_t nmin = to > base ? (uint64_t)(to - 1 - base) / 60 + 1 : 0;
	size_t *cnt = NULL;
	struct run r = { 0 };
	int own, rc;

	if (nmin == 0)
		return 0;
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
	if ((rc = sym_set(st, txn, syms, &nsyms, &ids)) == 0)
		rc = load_sorted(st, cur, ids, nsyms, from, to, b);
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
