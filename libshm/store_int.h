/*
 * store_int.h: internals shared by store*.c, the bar store split by concern:
 *   store.c        transactions, map growth, open/close, symbols
 *   store_write.c  sorting and writing bars
 *   store_read.c   get, range, scan, load, batch
 *   store_count.c  bars per minute ("minutes"), for the loader
 * Only those files include it; store.h is the internal API for the tools,
 * tests and benchmark and stays free of LMDB and pthread types.
 */
#ifndef BB_STORE_INT_H
#define BB_STORE_INT_H

#include <endian.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <lmdb.h>

#include "store.h"

_Static_assert(offsetof(bb_bar, volume) - offsetof(bb_bar, open) == 32,
               "open..volume must be 5 contiguous doubles");
_Static_assert(BB_STORE_VAL_BYTES == 5 * sizeof(double) + sizeof(uint32_t),
               "value layout");

struct bb_store {
	MDB_env         *env;
	MDB_dbi          meta, syms, symids, bars, minutes;
	int              minutes_ok; /* "minutes" exists (stores made since) */
	unsigned         flags;
	size_t           map_init, map_max;
	pthread_mutex_t  wmu;        /* one write transaction at a time */
	pthread_rwlock_t map_lock;   /* shared: any txn; exclusive: resize */
	pthread_mutex_t  scratch_mu; /* guards scratch (bb_store_load) */
	bb_bar          *scratch;
	size_t           scratch_cap;
};

/* ---- encoding ------------------------------------------------------------ */

static inline void key_put(uint8_t *k, uint32_t sym, int64_t t)
{
	uint32_t s = htobe32(sym);
	uint64_t u = htobe64((uint64_t)t);

	memcpy(k, &s, 4);
	memcpy(k + 4, &u, 8);
}

static inline void key_get(const uint8_t *k, uint32_t *sym, int64_t *t)
{
	uint32_t s;
	uint64_t u;

	memcpy(&s, k, 4);
	memcpy(&u, k + 4, 8);
	*sym = be32toh(s);
	*t = (int64_t)be64toh(u);
}

/* Value: open, high, low, close, volume (f64), flags (u32), host order. */
static inline void val_put(uint8_t *v, const bb_bar *b)
{
	memcpy(v, &b->open, 40);
	memcpy(v + 40, &b->flags, 4);
}

static inline void val_get(const uint8_t *v, bb_bar *b)
{
	memcpy(&b->open, v, 40);
	memcpy(&b->flags, v + 40, 4);
}

/* ---- transactions (store.c) ------------------------------------------ */

/*
 * Every transaction holds map_lock shared (see store.c), so begin it with
 * bb__store_txn_begin() and end it with bb__store_txn_commit() or
 * bb__store_txn_abort(), never with mdb_txn_* directly.
 * On success map_lock is held shared until the commit or abort.
 */
int bb__store_txn_begin(bb_store *st, unsigned flags, MDB_txn **txn);
int bb__store_txn_commit(bb_store *st, MDB_txn *txn);
void bb__store_txn_abort(bb_store *st, MDB_txn *txn);

typedef int (*bb__store_write_fn)(bb_store *st, MDB_txn *txn, void *arg);

/*
 * Run fn in a write transaction and commit, all or nothing. need estimates
 * the bytes fn adds, to grow the map once up front rather than retrying;
 * MDB_MAP_FULL still aborts, grows the map and reruns fn from scratch.
 */
int bb__store_write_txn(bb_store *st, size_t need, bb__store_write_fn fn,
                        void *arg);

/* ---- symbols (store.c) ----------------------------------------------- */

/* Number of symbols; ids are dense, so also the next id. */
int bb__store_sym_count(bb_store *st, MDB_txn *txn, uint32_t *n);
/* Id of name (valid), adding it with the next id when absent. */
int bb__store_sym_add(bb_store *st, MDB_txn *txn, const char *name,
                      uint32_t *id);

/* ---- bars per minute (store_count.c) ---------------------------------- */

/*
 * The new bars of one write transaction, counted per minute: a hash table
 * of days (power-of-two capacity, at most half full), last the day of the
 * previous bar (bars come in runs of one day).
 */
struct bb__day_count;
struct bb__counts {
	struct bb__day_count **slot;
	size_t                 cap, ndays;
	struct bb__day_count  *last;
};

/* Count one new bar at time t (>= 0, a whole minute). 0 or ENOMEM. */
int bb__store_counts_add(struct bb__counts *c, int64_t t);
/* Add c to the store's "minutes" in txn (st->minutes_ok only). */
int bb__store_counts_write(bb_store *st, MDB_txn *txn,
                           const struct bb__counts *c);
/* Free what c holds and empty it. */
void bb__store_counts_reset(struct bb__counts *c);
/*
 * cnt[0..nmin): the store's bars at minute base + 60 m over all symbols, as
 * counted by its writers (base >= 0, a whole minute). BB_ENOTFOUND when
 * the store keeps no counts, BB_ERETRY when a record is not 1440 counts.
 */
int bb__store_counts_read(bb_store *st, MDB_txn *txn, int64_t base,
                          uint64_t nmin, uint32_t *cnt);

#endif /* BB_STORE_INT_H */
