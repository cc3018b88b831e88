/*
 * publish.h: what the coordinator decides about the bus it writes. The
 * writing itself (ring, control, session table, history blocks and their
 * rotation) is libshm's bus writer (bus_writer.h); here: opening it with
 * the coordinator's geometry, the directory from the store, and which past
 * sessions the history loads from the store.
 */
#ifndef CO_PUBLISH_H
#define CO_PUBLISH_H

#include <stdint.h>

#include "barbus.h"
#include "bus_writer.h"

/* Create or re-attach every segment of bus; leftovers of another geometry
 * or version that were replaced are said on stderr. */
int  co_pub_open(struct bb__bw *w, const char *bus, const struct bb__bw_geom *g);
/* Make the directory the store's symbol table (ids are store ids);
 * BB_EFULL, with nothing added, when the bus has no room for all. */
int  co_pub_sync_symbols(struct bb__bw *w, bb_store *st);
/* Load a past session's bars from the store into the history block that
 * session number `number` maps to. */
int  co_pub_history_load(struct bb__bw *w, bb_store *st, const bb_session *s,
                         uint64_t number);
/* The trailing history sessions before s (which has number `number`),
 * loaded from the store unless history already holds them. */
int  co_pub_history_fill(struct bb__bw *w, bb_store *st,
                         const bb_calendar *cal, const bb_session *s,
                         uint64_t number);

#endif /* CO_PUBLISH_H */
