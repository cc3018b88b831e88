/*
 * frame.h: the bridge's wire format (docs/bridge.md), version 2. One
 * JetStream message is one frame: a 32-byte header, a fixed body for its
 * type, then `count` records (the upkeep's frames: `count` items). Little-endian, no padding, no pointers: the
 * encoder and decoder are pure functions, tested alone.
 */
#ifndef BRIDGE_FRAME_H
#define BRIDGE_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "barbus.h"

#define BR_MAGIC       "BBFR"
#define BR_VERSION     2
#define BR_HDR_BYTES   32
#define BR_REC_BYTES   52 /* symbol, flags, time offset, 5 x f64 */
#define BR_ITEM_BYTES  60 /* upkeep: table, row, record; or a quality */
#define BR_NAME_BYTES  32 /* a symbol name, NUL-padded */
#define BR_GEOM_BYTES  32
#define BR_UP_BYTES    72 /* UP, UP_END body: close, nqual, upkeep status */
#define BR_BLOCK_BYTES 24 /* UP_BLOCK body */
#define BR_UPHELLO_BYTES (8 + 4 * BB_UPKEEP_MAX_INTERVALS)

enum br_type {
	BR_HELLO         = 1, /* geometry and symbol directory */
	BR_HISTORY       = 2, /* one past session's bars, symbols [first, +n) */
	BR_SESSION_START = 3,
	BR_MINUTE        = 4, /* the bars that came while minute `time` formed */
	BR_SESSION_END   = 5,
	BR_DONE          = 6, /* backtest: end of data */
	BR_UP_HELLO      = 7, /* the upkeep's intervals and history days */
	BR_UP            = 8, /* the upkeep's rows changed, its quality */
	BR_UP_END        = 9, /* the same once it finished the session */
	BR_UP_BLOCK      = 10, /* one history block, symbols [first, +n) */
	BR_TYPE_MAX      = 10,
};

/* Sub-positions within a session number (position = number << 32 | sub):
 * minute i's MINUTE at (i + 1) << 16, its UP frames at that + 1 + c (c <
 * BR_UP_CHUNKS); the upkeep's frames of a session's end after its
 * SESSION_END. */
#define BR_SUB_HISTORY 0u
#define BR_SUB_START   1u
#define BR_SUB_END     0xf0000000u
#define BR_SUB_UP_END  0xf0000001u /* + chunk number */
#define BR_SUB_BLOCK   0xf0010000u /* + chunk number */
#define BR_SUB_BLOCK_MAX 0xfffffffeu
#define BR_SUB_DONE    0xffffffffu

/* UP_BLOCK: the block's last chunk (the block is complete with it). */
#define BR_BLOCK_LAST  1u

/* An upkeep item's table: up.fills, or derived interval k (of UP_HELLO's
 * list) as BR_TABLE_IV + k. */
#define BR_TABLE_FILLS 0u
#define BR_TABLE_IV    1u

struct br_geom {
	uint32_t max_symbols, table_symbols, rows, history;
	uint64_t ring_capacity;
	uint32_t mode; /* bb_mode of the source */
};

/* A decoded frame; records and names point into the message. */
struct br_frame {
	uint8_t        type;
	uint16_t       flags;  /* 0 in version 1 */
	uint32_t       count;  /* records, or names for HELLO */
	int32_t        date;   /* session date YYYYMMDD (0: HELLO) */
	int64_t        time;   /* MINUTE: the minute; sessions: the open */
	uint64_t       pos;    /* position: number << 32 | sub */
	/* body by type */
	bb_session     session; /* HISTORY, SESSION_START, SESSION_END */
	uint32_t       reason;  /* SESSION_END: bb_end_reason */
	uint32_t       history; /* SESSION_START: the status' history count */
	uint32_t       first;   /* HISTORY: first symbol of the chunk */
	uint32_t       nsym;    /* HISTORY: symbols in the chunk */
	struct br_geom geom;    /* HELLO */
	const uint8_t *recs;    /* count records of BR_REC_BYTES (HISTORY:
	                           nsym u32 counts first); the upkeep's frames:
	                           count items of BR_ITEM_BYTES */
	const uint8_t *names;   /* HELLO: count names of BR_NAME_BYTES */
	/* UP, UP_END: the last nqual items are quality figures; info the
	 * source upkeep's status. UP_BLOCK: session, first, nsym, last. */
	uint32_t       nqual;
	bb_upkeep_info info;
	uint32_t       last;    /* UP_BLOCK: BR_BLOCK_LAST */
	/* UP_HELLO */
	uint32_t       nintervals, history_days;
	uint32_t       minutes[BB_UPKEEP_MAX_INTERVALS];
};

/*
 * The tag of an upkeep layout (its derived intervals in order and its
 * history days), in the header's flags of UP_HELLO, UP, UP_END and
 * UP_BLOCK: a mirror applies the upkeep's frames only under the UP_HELLO
 * of the same tag, and reads the stream's last UP_HELLO again when a frame
 * comes with another. Never 0 (0: an untagged frame, applied as before).
 * FNV-1a over the values, folded to 16 bits.
 */
static inline uint16_t br_up_tag(uint32_t n, const uint32_t *min,
                                 uint32_t days)
{
	uint32_t h = 2166136261u;
	uint32_t v[2 + BB_UPKEEP_MAX_INTERVALS];

	v[0] = n;
	v[1] = days;
	for (uint32_t k = 0; k < n && k < BB_UPKEEP_MAX_INTERVALS; k++)
		v[2 + k] = min[k];
	for (uint32_t k = 0; k < 2 + n && k < 2 + BB_UPKEEP_MAX_INTERVALS; k++)
		for (int b = 0; b < 4; b++)
			h = (h ^ (v[k] >> (8 * b) & 0xff)) * 16777619u;
	h = (h ^ h >> 16) & 0xffff;
	return (uint16_t)(h ? h : 1);
}

static inline uint64_t br_pos(uint64_t number, uint32_t sub)
{
	return number << 32 | sub;
}

#define BR_UP_CHUNKS 0xffffu /* UP frames of one minute, at most */

/* The sub-position of minute t of a session opening at open. */
static inline uint32_t br_sub_minute(int64_t open, int64_t t)
{
	return ((uint32_t)((t - open) / 60) + 1u) << 16;
}

/* The sub-position of the upkeep's UP frame c of minute t. */
static inline uint32_t br_sub_up(int64_t open, int64_t t, uint32_t c)
{
	return br_sub_minute(open, t) + 1u + c;
}

/* Bytes a frame of type with count records (names) and nsym counts takes. */
size_t br_frame_bytes(int type, uint32_t count, uint32_t nsym);
/* Encode the header and body of f (not its records) into buf, which has
 * br_frame_bytes() bytes; records follow with br_rec_put(). */
void   br_frame_put(uint8_t *buf, const struct br_frame *f);
/* Record i of a frame whose header is at buf. */
void   br_rec_put(uint8_t *buf, const struct br_frame *f, uint32_t i,
                  const bb_bar *b);
void   br_name_put(uint8_t *buf, uint32_t i, const char *name);
void   br_count_put(uint8_t *buf, uint32_t i, uint32_t n);

/*
 * Decode len bytes at buf. 0, or BB_EBADMAGIC (not a frame), BB_EVERSION
 * (another version), BB_ETRUNCATED (shorter than its counts say),
 * BB_ECORRUPT (unknown type, trailing bytes, bad counts). *why (if not
 * NULL) names the field at fault.
 */
int    br_frame_get(const uint8_t *buf, size_t len, struct br_frame *f,
                    const char **why);
/* Record i of a decoded frame. */
void   br_rec_get(const struct br_frame *f, uint32_t i, bb_bar *out);
/* Record i's symbol, the rest not decoded. */
uint32_t br_rec_symbol(const struct br_frame *f, uint32_t i);
/* HISTORY: bars of the chunk's symbol first + j. */
uint32_t br_count_get(const struct br_frame *f, uint32_t j);
/* HELLO: name i, NUL-terminated, into buf (>= BR_NAME_BYTES + 1). */
void   br_name_get(const struct br_frame *f, uint32_t i, char *buf);

/* The upkeep's frames: item i is row `row` of table `table` (BR_TABLE_*)
 * holding b; for UP and UP_END, the quality items follow the rows. */
void   br_item_put(uint8_t *buf, const struct br_frame *f, uint32_t i,
                   uint32_t table, uint32_t row, const bb_bar *b);
void   br_item_get(const struct br_frame *f, uint32_t i, uint32_t *table,
                   uint32_t *row, bb_bar *out);
void   br_quality_put(uint8_t *buf, const struct br_frame *f, uint32_t i,
                      uint32_t sym, const bb_quality *q);
void   br_quality_get(const struct br_frame *f, uint32_t i, uint32_t *sym,
                      bb_quality *out);

#endif /* BRIDGE_FRAME_H */
