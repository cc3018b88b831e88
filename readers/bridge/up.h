/*
 * up.h: the upkeep's segments over the bridge (docs/bridge.md, "The
 * upkeep's frames"). upsrc.c reads the source bus's up.* tables and makes
 * UP_HELLO, UP, UP_END and UP_BLOCK frames; upmir.c writes them into the
 * local bus through the upkeep's own writer (upkeep/status.c), as the
 * local bus's upkeep.
 */
#ifndef BRIDGE_UP_H
#define BRIDGE_UP_H

#include <stdint.h>

#include "barbus.h"
#include "bridge.h"
#include "frame.h"

#define BR_UP_CHUNK_BYTES (512u * 1024) /* an upkeep frame at most */

/* Publish one frame (its bytes at data); *stored: 1 when the stream took
 * it now (0: it held that position already). */
typedef int (*br_up_emit)(void *ctx, const struct br_frame *f,
                          const uint8_t *data, size_t len, int *stored);

/* The stream's symbols: stream id i is the source's map[i], i < n. */
struct br_up_map {
	const uint32_t *src_of;
	uint32_t        n;
};

struct br_upsrc;

/* --intervals: "1m" (always carried; may be left out) and derived
 * intervals (Nm, Nh) into min[] (*n of them, at most 14). 0, or BB_EINVAL
 * with why naming the bad one. */
int  br_up_intervals(const char *list, uint32_t *min, uint32_t *n, char *why,
                     size_t len);

/* Follow the upkeep of bus (none yet is no error: looked for again as
 * minutes pass). */
int  br_upsrc_new(struct br_upsrc **out, const struct br_opts *o,
                  struct br_js *j, const bb_bus *bus);
void br_upsrc_free(struct br_upsrc *u);
/* Minute t of the session `number` is published: wait (a bounded time)
 * for the upkeep to take it, then send its UP frame. */
int  br_upsrc_minute(struct br_upsrc *u, const struct br_up_map *map,
                     const bb_session *ses, uint64_t number, int64_t t,
                     br_up_emit emit, void *ctx);
/* Session `number` ended (its SESSION_END is published): wait for the
 * upkeep to finish it, send UP_END and the session's history block.
 * *owed: 1 when the block did not go but may later (no upkeep yet, or no
 * block of that session yet). */
int  br_upsrc_end(struct br_upsrc *u, const struct br_up_map *map,
                  const bb_session *ses, uint64_t number, br_up_emit emit,
                  void *ctx, int *owed);
/* A past session's history block (a publisher starting late); *owed as
 * above. */
int  br_upsrc_block(struct br_upsrc *u, const struct br_up_map *map,
                    const bb_session *ses, uint64_t number, br_up_emit emit,
                    void *ctx, int *owed);

struct br_upmir;

/* The local bus's upkeep role, for frames of stream subject prefix
 * `hello` ("barbus.<src>.hello"); its segments are made at the first
 * upkeep frame. */
int  br_upmir_new(struct br_upmir **out, struct br_opts *o, struct br_js *j,
                  uint32_t nsym, uint32_t rows);
void br_upmir_free(struct br_upmir *u);
/* Apply an UP, UP_END or UP_BLOCK frame of session `current` or later
 * (older ones change nothing). */
int  br_upmir_apply(struct br_upmir *u, const struct br_frame *f,
                    uint64_t current);
/* Heartbeat of the upkeep's segments (while frames come). */
void br_upmir_beat(struct br_upmir *u);

#endif /* BRIDGE_UP_H */
