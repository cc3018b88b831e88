/*
 * store.h: internals of the bar store (store.c) shared by the store tools
 * (barbus-import, barbus-export, barbus-gen), the tests and the benchmark.
 * The on-disk layout is described in docs/store.md.
 */
#ifndef BB_STORE_H
#define BB_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "barbus.h"

#define BB_STORE_SCHEMA    1u  /* meta "schema": bumped on any layout change */
#define BB_STORE_KEY_BYTES 12  /* u32 BE symbol id, u64 BE bar start time */
#define BB_STORE_VAL_BYTES 44  /* open..volume (5 x f64), flags (u32), host order */

/* Map sizes: the map starts at MAP_INIT and doubles on demand up to MAP_MAX. */
#define BB_STORE_MAP_INIT ((size_t)64 << 20)
#define BB_STORE_MAP_MAX  ((size_t)1 << 40)

/*
 * bb_store_open() with explicit map limits (bytes; 0 takes the default).
 * The tests use small limits to exercise growth and BB_ESTORE_FULL.
 */
int bb__store_open_ex(bb_store **out, const char *dir, unsigned flags,
                      size_t map_init, size_t map_max);
/* Current map size in bytes. */
size_t bb__store_map_size(bb_store *st);

/*
 * Write n bars whose symbol field is an index into names[0..nnames), in one
 * transaction that also adds the names that are absent (ids in names[]
 * order). All or nothing. ids (nnames entries, may be NULL) receives the
 * store id of each name; stats may be NULL. Fails with BB_EBADSYMBOL for an
 * invalid name, BB_EINVAL for a bar that bb_store_put() would refuse.
 */
int bb__store_put_named(bb_store *st, const char *const *names, size_t nnames,
                        const bb_bar *bars, size_t n, uint32_t *ids,
                        bb_put_stats *stats);

/*
 * Call fn(arg, bar) for the bars of each symbol of syms[0..nsyms) in turn
 * (NULL: every symbol in id order), each in time order, from <= time < to,
 * all from one read transaction (one consistent snapshot). A non-zero
 * return from fn stops the scan and is returned.
 */
typedef int (*bb__store_fn)(void *arg, const bb_bar *bar);
int bb__store_scan(bb_store *st, const uint32_t *syms, size_t nsyms,
                   int64_t from, int64_t to, bb__store_fn fn, void *arg);

/*
 * cnt[0..nmin): the bars the store's counts ("minutes", docs/store.md) give
 * for minute base + 60 m over all symbols, from one read transaction
 * (base >= 0, a whole minute). BB_ENOTFOUND for a store made before them.
 * The counts are what bb_store_load() places bars by; tests check them.
 */
int bb__store_minute_counts(bb_store *st, int64_t base, uint64_t nmin,
                            uint32_t *cnt);

/* A sort key (symbol id << 32 | minute since the epoch) and a row index. */
struct bb__kidx {
	uint64_t key;
	uint64_t idx;
};

/* Stable sort of a[0..n) by key, O(n). 0 or ENOMEM. */
int bb__store_sort(struct bb__kidx *a, size_t n);

#endif /* BB_STORE_H */
