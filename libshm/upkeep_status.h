/*
 * upkeep_status.h: the layout of the upkeep's status segment, up.status,
 * once for its writer (upkeep/status.c), its reader (upkeep_reader.c) and
 * the coordinator's session handshake (coordinator/handshake.c).
 *
 * up.status is a table (table.c) of 2 + B symbols of one row each, every
 * row one 56-byte record rewritten in place (docs/upkeep.md):
 *
 *   symbol 0       bb_upkeep_info: state, the last session done, totals
 *   symbol 1       the derived intervals: u32 minutes x 14, 0-terminated
 *   symbol 2 + k   struct bb__block of history block k (k < B)
 *
 * B = history-days + 1, or 0 with the history off.
 */
#ifndef BB_UPKEEP_STATUS_H
#define BB_UPKEEP_STATUS_H

#include <stdint.h>

#include "barbus.h"
#include "control.h"

#define BB__UP_STATUS_ROLE "up.status"

enum {
	BB__UP_ROW_INFO      = 0, /* bb_upkeep_info */
	BB__UP_ROW_INTERVALS = 1, /* uint32_t minutes[BB_UPKEEP_MAX_INTERVALS] */
	BB__UP_ROW_BLOCKS    = 2, /* + k: struct bb__block of history block k */
};

_Static_assert(sizeof(bb_upkeep_info) == sizeof(bb_bar), "status is a record");
_Static_assert(BB_UPKEEP_MAX_INTERVALS * sizeof(uint32_t) == sizeof(bb_bar),
               "interval list is a record");
_Static_assert(sizeof(struct bb__block) == sizeof(bb_bar), "block record");

/* The symbol of history block k's record. */
static inline uint32_t bb__up_block_row(uint32_t k)
{
	return BB__UP_ROW_BLOCKS + k;
}

/* The table symbol of symbol s of history block k in the history tables
 * (up.fills.h, up.<N>m.h: nblocks x nsym symbols, block-major). */
static inline uint32_t bb__up_hist_symbol(uint32_t k, uint32_t nsym,
                                          uint32_t s)
{
	return k * nsym + s;
}

/* Symbols of an up.status of nblocks history blocks. */
static inline uint32_t bb__up_status_symbols(uint32_t nblocks)
{
	return BB__UP_ROW_BLOCKS + nblocks;
}

/* History blocks of an up.status of `symbols` symbols; 0 when it has
 * fewer than the info and interval rows (check those apart). */
static inline uint32_t bb__up_status_blocks(uint32_t symbols)
{
	return symbols > BB__UP_ROW_BLOCKS ? symbols - BB__UP_ROW_BLOCKS : 0;
}

#endif /* BB_UPKEEP_STATUS_H */
