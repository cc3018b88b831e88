/*
 * publish.h: everything the coordinator writes, behind one handle: the ring,
 * the control segment, the session table (bars.1m) and the history blocks
 * (hist.K). Backtest and live both publish through these calls only.
 */
#ifndef CO_PUBLISH_H
#define CO_PUBLISH_H

#include <stdint.h>

#include "barbus.h"
#include "control.h"

struct co_geom {
	uint32_t max_symbols;   /* directory capacity */
	uint32_t table_symbols; /* session table and history capacity */
	uint32_t rows;          /* bars per symbol per session, at most */
	uint32_t history;       /* trailing sessions kept (0: none) */
	uint64_t ring_capacity;
	uint32_t heartbeat_ms;
	mode_t   seg_mode;
	gid_t    seg_group;
	uint32_t mode;          /* bb_mode */
};

struct co_pub {
	bb_ring_writer  *ring;
	struct bb__seg   ctl_seg;
	struct bb__ctl  *ctl;
	bb_table_writer *session;
	bb_table_writer *hist[BB_CTL_MAX_BLOCKS];
	struct co_geom   g;
	uint32_t         nblocks;  /* history + 1: the current session's too */
	bb_status        st;
	uint32_t         minute_bars;
	uint64_t         started;  /* sessions started by this process */
	int              attached; /* segments were there: a restart */
	int64_t          last_bar_ns; /* CLOCK_MONOTONIC of the last bar */
};

/* Create or re-attach every segment of bus. */
int  co_pub_open(struct co_pub *p, const char *bus, const struct co_geom *g);
/* Stop: segments stay, marked stopped; locks released. */
void co_pub_close(struct co_pub *p);
/* Make the directory the store's symbol table (ids are store ids). */
int  co_pub_sync_symbols(struct co_pub *p, bb_store *st);
/* The last record published on the ring, for resuming; BB_EEMPTY. */
int  co_pub_last(const struct co_pub *p, bb_bar *out);

/* A new session: tables reset, history block taken, SESSION_START out.
 * transition_ns: time since the previous session's last bar (0: none). */
void co_pub_session_start(struct co_pub *p, const bb_session *s,
                          uint64_t transition_ns);
/* Hint: a bar of sym comes soon; its table rows start loading. */
void co_pub_prefetch(const struct co_pub *p, uint32_t sym);
/* One 1-minute bar: session table and history first, then the ring. A
 * late one (BB_BAR_LATE) is appended in arrival order: after the later
 * minutes already there; it does not count in the current minute. */
int  co_pub_bar(struct co_pub *p, const bb_bar *b);
/* Bar onto the ring only: it is in the tables already (a writer killed
 * between the two; counted as co_pub_bar() counts it). */
void co_pub_ring_bar(struct co_pub *p, const bb_bar *b);
/* Bar into the tables only (rebuilding after a restart). */
int  co_pub_table_bar(struct co_pub *p, const bb_bar *b);
void co_pub_minute_end(struct co_pub *p, int64_t t);
void co_pub_session_end(struct co_pub *p, int reason);
/* Live, between sessions: announce the next one (status only). */
void co_pub_preopen(struct co_pub *p, const bb_session *s);
/* Live: the open session is stalled since wall-clock second `since`
 * (status and counter; nothing on the ring), or no longer. */
void co_pub_stall(struct co_pub *p, int64_t since);
void co_pub_stall_end(struct co_pub *p);
/* Backtest: nothing follows. */
void co_pub_done(struct co_pub *p);
/* Load a past session's bars from the store into the history block that
 * session number `number` maps to. */
int  co_pub_history_load(struct co_pub *p, bb_store *st, const bb_session *s,
                         uint64_t number);
void co_pub_beat(struct co_pub *p);
/* The trailing history sessions before s (which has number `number`),
 * loaded from the store unless history already holds them. */
int  co_pub_history_fill(struct co_pub *p, bb_store *st, const bb_calendar *cal,
                         const bb_session *s, uint64_t number);
/* After a restart inside session s (the current one): empty its tables so
 * they can be refilled with co_pub_table_bar(); no event is published. */
void co_pub_session_reopen(struct co_pub *p, const bb_session *s);
/* Directory entry id is name: appended when id is the next one, 0 when
 * it is there already, BB_EMISMATCH when another name has it (a mirror
 * builds its directory from its source's). */
int  co_pub_symbol(struct co_pub *p, uint32_t id, const char *name);
/* The history block of session s (number `number`) holds exactly sym's
 * bars[0..n): the block is taken first when it held another session, and
 * sym's rows are replaced, so that a repeated call changes nothing. */
int  co_pub_history_put(struct co_pub *p, const bb_session *s,
                        uint64_t number, uint32_t sym, const bb_bar *bars,
                        size_t n);
/* Does history already hold session number `number` of date `date`? */
int  co_pub_block_holds(const struct co_pub *p, uint64_t number, int32_t date);

#endif /* CO_PUBLISH_H */
