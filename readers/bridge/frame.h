/*
 * frame.h: the bridge's wire format (docs/bridge.md), version 1. One
 * JetStream message is one frame: a 32-byte header, a fixed body for its
 * type, then `count` records. Little-endian, no padding, no pointers: the
 * encoder and decoder are pure functions, tested alone.
 */
#ifndef BRIDGE_FRAME_H
#define BRIDGE_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "barbus.h"

#define BR_MAGIC       "BBFR"
#define BR_VERSION     1
#define BR_HDR_BYTES   32
#define BR_REC_BYTES   52 /* symbol, flags, time offset, 5 x f64 */
#define BR_NAME_BYTES  32 /* a symbol name, NUL-padded */
#define BR_GEOM_BYTES  32

enum br_type {
	BR_HELLO         = 1, /* geometry and symbol directory */
	BR_HISTORY       = 2, /* one past session's bars, symbols [first, +n) */
	BR_SESSION_START = 3,
	BR_MINUTE        = 4, /* the bars that came while minute `time` formed */
	BR_SESSION_END   = 5,
	BR_DONE          = 6, /* backtest: end of data */
	BR_TYPE_MAX      = 6,
};

/* Sub-positions within a session number (position = number << 32 | sub). */
#define BR_SUB_HISTORY 0u
#define BR_SUB_START   1u
#define BR_SUB_END     0xfffffff0u
#define BR_SUB_DONE    0xffffffffu

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
	                           nsym u32 counts first) */
	const uint8_t *names;   /* HELLO: count names of BR_NAME_BYTES */
};

static inline uint64_t br_pos(uint64_t number, uint32_t sub)
{
	return number << 32 | sub;
}

/* The sub-position of minute t of a session opening at open. */
static inline uint32_t br_sub_minute(int64_t open, int64_t t)
{
	return 2u + (uint32_t)((t - open) / 60);
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
/* HISTORY: bars of the chunk's symbol first + j. */
uint32_t br_count_get(const struct br_frame *f, uint32_t j);
/* HELLO: name i, NUL-terminated, into buf (>= BR_NAME_BYTES + 1). */
void   br_name_get(const struct br_frame *f, uint32_t i, char *buf);

#endif /* BRIDGE_FRAME_H */
