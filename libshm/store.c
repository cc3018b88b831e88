/*
 * store.c: the bar store, one LMDB environment in a directory.
 *
 * Sub-databases (layout in docs/store.md):
 *   "meta"    "schema" -> u32 BB_STORE_SCHEMA
 *   "symbols" name -> u32 BE id          ids dense 0..n-1, first come
 *   "symids"  u32 BE id -> name
 *   "bars"    (u32 BE id, u64 BE time) -> 44-byte value (see val_put)
 *   "minutes" u32 BE day -> 1440 x u32 bars per minute (store_count.c);
 *             made with the store, absent from stores made before it
 * Big-endian keys make LMDB's memcmp order chronological per symbol.
 *
 * Threads: every function may be called from any thread on one bb_store
 * (MDB_NOTLS), bb_store_close() excepted. Writers of this process queue on
 * wmu (LMDB serialises writers of different processes). LMDB allows a map
 * resize only while this process has no transaction open, so every
 * transaction holds map_lock shared and a resize takes it exclusive.
 *
 * This file: transactions, map growth, open/close, symbols. Writing bars is
 * in store_write.c, reading them in store_read.c; store_int.h holds what
 * they share (struct bb_store, the key/value encoding, the transactions).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <lmdb.h>

#include "store_int.h"

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

/*
 * On success map_lock is held shared until bb__store_txn_commit() or
 * bb__store_txn_abort().
 */
int bb__store_txn_begin(bb_store *st, unsigned flags, MDB_txn **txn)
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

int bb__store_txn_commit(bb_store *st, MDB_txn *txn)
{
	int rc = mdb_txn_commit(txn);

	pthread_rwlock_unlock(&st->map_lock);
	return rc;
}

void bb__store_txn_abort(bb_store *st, MDB_txn *txn)
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

/*
 * LMDB reports a short write as EIO ("filesystem full?"), and a write that
 * crosses the file size limit comes up short before one fails with EFBIG.
 * Such an EIO is a full store when the disk has less room than the batch
 * needed, or the data file with the batch would pass RLIMIT_FSIZE; any
 * other EIO is a real I/O error and passes through.
 */
static int io_err(bb_store *st, int rc, size_t need)
{
	struct statvfs vfs;
	struct rlimit lim;
	struct stat sb;
	mdb_filehandle_t fd;
	size_t used;

	if (rc != EIO || mdb_env_get_fd(st->env, &fd) != 0)
		return rc;
	if (fstatvfs(fd, &vfs) == 0 &&
	    (uint64_t)vfs.f_bavail * vfs.f_frsize < (uint64_t)need)
		return BB_ESTORE_FULL;
	map_size(st, &used);
	if (fstat(fd, &sb) == 0 && (uint64_t)sb.st_size > used)
		used = (size_t)sb.st_size;
	if (getrlimit(RLIMIT_FSIZE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY &&
	    (uint64_t)used + need >= (uint64_t)lim.rlim_cur)
		return BB_ESTORE_FULL;
	return rc;
}

/*
 * Run fn in a write transaction and commit, all or nothing. need estimates
 * the bytes fn adds, to grow the map once up front rather than retrying;
 * MDB_MAP_FULL still aborts, grows the map and reruns fn from scratch.
 */
int bb__store_write_txn(bb_store *st, size_t need, bb__store_write_fn fn,
                        void *arg)
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
		if ((rc = bb__store_txn_begin(st, 0, &txn)) != 0)
			break;
		rc = fn(st, txn, arg);
		if (rc == 0)
			rc = bb__store_txn_commit(st, txn);
		else
			bb__store_txn_abort(st, txn);
		if (rc != MDB_MAP_FULL || (rc = grow(st, need)) != 0)
			break;
	}
	rc = io_err(st, rc, need);
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
	    (rc = dbi(txn, "symids", f, &st->symids)) != 0 ||
	    (rc = dbi(txn, "bars", f, &st->bars)) != 0)
		return rc;
	/* Optional: a store made before the counts loads without them. */
	rc = mdb_dbi_open(txn, "minutes", f, &st->minutes);
	st->minutes_ok = rc == 0;
	return rc == MDB_NOTFOUND ? 0 : rc;
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
	if ((rc = bb__store_txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	rc = schema_open(st, txn, 0);
	if (rc == 0)
		/* commit keeps the dbi handles */
		return bb__store_txn_commit(st, txn);
	bb__store_txn_abort(st, txn);
	if (rc != BB_ENOTFOUND || rdonly)
		return rc;
	if (map_size(st, &used) < st->map_init &&
	    (rc = map_resize(st, st->map_init)) != 0)
		return rc;
	return bb__store_write_txn(st, 0, schema_create, NULL);
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

int bb__store_sym_count(bb_store *st, MDB_txn *txn, uint32_t *n)
{
	MDB_stat ms;
	int rc = mdb_stat(txn, st->symids, &ms);

	if (rc == 0)
		*n = (uint32_t)ms.ms_entries;
	return rc;
}

/* Id of name (valid), adding it with the next id when absent. */
int bb__store_sym_add(bb_store *st, MDB_txn *txn, const char *name,
                      uint32_t *id)
{
	int rc = sym_lookup(st, txn, name, id);
	uint32_t n, be;

	if (rc != BB_ENOTFOUND)
		return rc;
	if ((rc = bb__store_sym_count(st, txn, &n)) != 0)
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

	return bb__store_sym_add(st, txn, j->name, &j->id);
}

int bb_store_symbol_id(bb_store *st, const char *name, uint32_t *id)
{
	MDB_txn *txn;
	int rc;

	if (st == NULL || id == NULL || bb_symbol_check(name) != 0)
		return st && id ? BB_EBADSYMBOL : BB_EINVAL;
	if ((rc = bb__store_txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	rc = sym_lookup(st, txn, name, id);
	bb__store_txn_abort(st, txn);
	return rc;
}

int bb_store_symbol_add(bb_store *st, const char *name, uint32_t *id)
{
	struct sym_job j = { name, 0 };
	int rc = bb_store_symbol_id(st, name, id);

	if (rc != BB_ENOTFOUND)
		return rc; /* found, or an error */
	if ((rc = bb__store_write_txn(st, 4096, sym_add_fn, &j)) == 0)
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
	if ((rc = bb__store_txn_begin(st, MDB_RDONLY, &txn)) != 0)
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
	bb__store_txn_abort(st, txn);
	return rc;
}

int bb_store_symbol_count(bb_store *st, uint32_t *n)
{
	MDB_txn *txn;
	int rc;

	if (st == NULL || n == NULL)
		return BB_EINVAL;
	if ((rc = bb__store_txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	rc = bb__store_sym_count(st, txn, n);
	bb__store_txn_abort(st, txn);
	return rc;
}
