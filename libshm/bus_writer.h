/*
 * bus_writer.h: the writer half of a bus (internal): the ring, the control
 * segment, the session table bars.1m and the history blocks hist.K with
 * their rotation, behind one struct. The coordinator (coordinator/publish.c
 * decides what to publish when) and the bridge's mirror write a bus through
 * these calls only; the reader half is bus.c.
 *
 * History: with H trailing sessions kept there are H + 1 blocks, the
 * current session's included. Session number n (bb_status.sessions) is
 * written into block n % (H + 1), so a session boundary copies nothing:
 * the block a session was published into simply becomes history. The
 * control segment's block map names the session each block holds (date 0
 * while the block is being emptied).
 *
 * The struct is visible for tests and the mirror's resuming; the
 * coordinator's modules use the calls and accessors only.
 */
#ifndef BB_BUS_WRITER_H
#define BB_BUS_WRITER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "barbus.h"
#include "control.h"

struct bb__bw_geom {
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

struct bb__bw {
	bb_ring_writer    *ring;
	struct bb__seg     ctl_seg;
	struct bb__ctl    *ctl;
	bb_table_writer   *session;
	bb_table_writer   *hist[BB_CTL_MAX_BLOCKS];
	struct bb__bw_geom g;
	uint32_t           nblocks;     /* history + 1: the current one's too */
	bb_status          st;          /* as last published, and the next */
	uint32_t           minute_bars; /* on-time bars of the current minute */
	uint64_t           started;     /* sessions started by this process */
	int                attached;    /* segments were there: a restart */
};

/* Create or re-attach every segment of bus (w is overwritten). On failure
 * what this call created is unlinked again, what it adopted is kept. */
int  bb__bw_open(struct bb__bw *w, const char *bus, const struct bb__bw_geom *g);
/* Stop: segments stay, marked stopped; locks released. */
void bb__bw_close(struct bb__bw *w);
/* The leftovers of another geometry or version open replaced, as
 * " control bars.1m hist.K ring" (those that were) into buf; its length. */
size_t bb__bw_replaced(const struct bb__bw *w, char *buf, size_t len);
void bb__bw_beat(struct bb__bw *w);

/* ---- state ------------------------------------------------------- */

/* The status as published (and the next one being made). */
static inline const bb_status *bb__bw_status(const struct bb__bw *w)
{
	return &w->st;
}
static inline const struct bb__bw_geom *bb__bw_geom(const struct bb__bw *w)
{
	return &w->g;
}
static inline int bb__bw_attached(const struct bb__bw *w)
{
	return w->attached;
}
/* Sessions started by this process. */
static inline uint64_t bb__bw_started(const struct bb__bw *w)
{
	return w->started;
}
void     bb__bw_count(struct bb__bw *w, int counter, uint64_t n);
uint64_t bb__bw_counter(const struct bb__bw *w, int counter);
/* The last record published on the ring, for resuming; BB_EEMPTY. */
int  bb__bw_last(const struct bb__bw *w, bb_bar *out);
/* The ring's complete records, newest first, to fn (bb__ring_writer_scan_back). */
int  bb__bw_scan_back(const struct bb__bw *w,
                      int (*fn)(void *arg, const bb_bar *rec), void *arg);
/* A fresh bus numbers its first session history + 1, so that the trailing
 * sessions loaded before it have numbers (and blocks) too. */
void bb__bw_number_fresh(struct bb__bw *w);

/* ---- the directory ----------------------------------------------- */

uint32_t bb__bw_nsym(const struct bb__bw *w);
/* The directory's name of id (NUL-padded to BB_CTL_NAME_LEN). */
const char *bb__bw_symbol_name(const struct bb__bw *w, uint32_t id);
/* Directory entry id is name: appended when id is the next one, 0 when it
 * is there already, BB_EMISMATCH when another name has it, BB_EINVAL past
 * the next id, BB_EFULL past the tables or max_symbols. */
int  bb__bw_symbol(struct bb__bw *w, uint32_t id, const char *name);
/* The symbols a backtest replays (NULL: all), before any session. */
void bb__bw_set_replayed(struct bb__bw *w, const uint32_t *syms, size_t n);
/* 1 when the backtest replays symbol id (every symbol when no set). */
int  bb__bw_replayed(const struct bb__bw *w, uint32_t id);

/* ---- sessions, bars, minutes ------------------------------------- */

/* A new session, number st.sessions + 1: tables reset, its history block
 * taken, SESSION_START out. prev_end_ns: when (bb__mono_ns()) the previous
 * session's last minute was published, 0: none; the transition counted is
 * from then to the new session's status, the resets included. */
void bb__bw_session_start(struct bb__bw *w, const bb_session *s,
                          int64_t prev_end_ns);
/* After a restart inside session s (the current one): its tables emptied
 * to be refilled with bb__bw_table_bar(); no event published. */
void bb__bw_session_reopen(struct bb__bw *w, const bb_session *s);
/* Hint: a bar of sym comes soon; its table rows start loading. */
void bb__bw_prefetch(const struct bb__bw *w, uint32_t sym);
/* One 1-minute bar: session table and history block first, then the ring,
 * so a reader that sees it on the ring finds it in the tables. A late one
 * (BB_BAR_LATE) does not count in the current minute. */
int  bb__bw_bar(struct bb__bw *w, const bb_bar *b);
/* n bars, each as bb__bw_bar() (tables, then its ring slot), the ring's
 * head stored and its sleepers woken once at the end rather than at every
 * bar. A bar the tables refuse is left out of both and counted in
 * *refused; the first such error is returned (0: none). */
int  bb__bw_bars(struct bb__bw *w, const bb_bar *b, size_t n, size_t *refused);
/* The bar into the tables only (rebuilding after a restart). */
int  bb__bw_table_bar(struct bb__bw *w, const bb_bar *b);
/* The bar onto the ring only: it is in the tables already. */
void bb__bw_ring_bar(struct bb__bw *w, const bb_bar *b);
/* MINUTE_END(t) with the minute's bar count; the status clock is t. */
void bb__bw_minute_end(struct bb__bw *w, int64_t t);
void bb__bw_session_end(struct bb__bw *w, int reason);
/* Live, between sessions: announce the next one (status only). */
void bb__bw_preopen(struct bb__bw *w, const bb_session *s);
/* Live: the open session is stalled since wall-clock second `since`
 * (status and counter; nothing on the ring), or no longer. */
void bb__bw_stall(struct bb__bw *w, int64_t since);
void bb__bw_stall_end(struct bb__bw *w);
/* Backtest: nothing follows. */
void bb__bw_done(struct bb__bw *w);

/* ---- history blocks ---------------------------------------------- */

/* Does history hold session number `number` of date `date`? */
int  bb__bw_block_holds(const struct bb__bw *w, uint64_t number, int32_t date);
/* Take the block of session s (number `number`): emptied, then named in
 * the map. 0, or -1 with history off. */
int  bb__bw_block_take(struct bb__bw *w, const bb_session *s, uint64_t number);
/* Append b to the block of session number `number` (symbols past the
 * tables are skipped). */
int  bb__bw_block_append(struct bb__bw *w, uint64_t number, const bb_bar *b);
/* The block of session s (number `number`) holds exactly sym's bars[0..n):
 * taken first when it held another session, sym's rows replaced, so that
 * a repeated call changes nothing. */
int  bb__bw_history_put(struct bb__bw *w, const bb_session *s, uint64_t number,
                        uint32_t sym, const bb_bar *bars, size_t n);

#endif /* BB_BUS_WRITER_H */
