/*
 * upkeep.h: barbus-upkeep's modules (internal).
 *
 *   config.c  settings table and argv ([upkeep] section of --config FILE)
 *   derive.c  interval arithmetic and the aggregation of one derived bar
 *   gaps.c    the session engine: minutes seen, gaps, fills, quality
 *   status.c  the upkeep's segments: opening them, the engine's sink
 *   session.c the followed session's bookkeeping: symbols on the bus, the
 *             status record with the engines' totals, finishing a session
 *   sync.c    synchronising: session starts, rebuilding what was missed
 *   follow.c  following the bus: waiting for it, the ring's events, ticks
 *
 * Calls go one way: follow.c -> sync.c -> session.c (follow.c calls
 * session.c too); session.c calls neither, so no two files call each other.
 *
 * The engine (gaps.c) touches no shared memory and no store itself: every
 * write and every store lookup goes through struct up_sink, so the unit
 * tests drive it with fakes and the daemon with the tables (status.c).
 */
#ifndef UP_UPKEEP_H
#define UP_UPKEEP_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "barbus.h"
#include "clock.h"

#define UP_MAX_INTERVALS BB_UPKEEP_MAX_INTERVALS
#define UP_MAX_INTERVAL_MIN 1440 /* a day; a session may not be longer */

/* ---- config.c ------------------------------------------------------------ */

enum up_gap_policy { UP_GAP_LEAVE = 0, UP_GAP_FFILL = 1 };

struct up_intervals {
	uint32_t n;
	uint32_t min[UP_MAX_INTERVALS]; /* minutes, as given (no duplicates) */
};

struct up_config {
	char     config_path[PATH_MAX];
	char     bus[BB_NAME_MAX + 1];
	char     db[PATH_MAX];
	bool     enabled;           /* false: exit 0 at once */
	struct up_intervals intervals;
	uint32_t check_interval_ms; /* live: how often the clock is looked at */
	bool     retry_missing;
	uint32_t max_retries;
	uint32_t retry_backoff_ms;  /* first retry delay; doubles per retry */
	int      gap_policy;        /* up_gap_policy */
	bool     auto_derive;       /* false: fills and quality only */
	uint32_t history_days;      /* derived history: trailing sessions kept */
	uint32_t heartbeat_ms;
	mode_t   segment_mode;
	gid_t    segment_group;
	int      log_level;         /* enum bb__log_level (log.h) */
	uint32_t wait_bus_ms;       /* 0: wait for the bus forever */
};

/* Parse "Nm" / "Nh" (2 <= minutes <= UP_MAX_INTERVAL_MIN): 0, or BB_EINVAL
 * with a reason naming s. */
int  up_interval_parse(const char *s, uint32_t *minutes, char *reason,
                       size_t len);
/* Parse a comma-separated list of intervals ("" : none); duplicates (60m and
 * 1h are the same) are an error. */
int  up_intervals_parse(const char *s, struct up_intervals *out, char *reason,
                        size_t len);
/* defaults < [upkeep] of --config < flags. 0; 1 after --help (usage
 * printed); BB_EINVAL with err naming the bad flag or key; ENOMEM. */
int  up_config_parse(struct up_config *c, int argc, char **argv, char *err,
                     size_t errlen);
void up_config_usage(FILE *out);

/* ---- derive.c -------------------------------------------------------------- */

/* Derived bars of k minutes in [open, close): ceil(minutes / k). */
uint32_t up_interval_count(int64_t open, int64_t close, uint32_t k);
/* Index of the interval holding minute t (t in [open, close)). */
uint32_t up_interval_index(int64_t open, int64_t t, uint32_t k);
/* Start time of interval idx, and its last minute (cut at close). */
int64_t  up_interval_start(int64_t open, uint32_t idx, uint32_t k);
int64_t  up_interval_last_minute(int64_t open, int64_t close, uint32_t idx,
                                 uint32_t k);

/* The derived bar of one symbol and interval being built (or last built):
 * one cache line. Minutes are counted from the session open. */
struct up_forming {
	bb_bar   bar;         /* bar.time: the interval's start */
	int16_t  idx;         /* interval index; -1: none this session */
	uint16_t first, last; /* earliest and latest minute folded in */
	uint16_t last_min;    /* the interval's last minute, cut at the close */
};
_Static_assert(sizeof(struct up_forming) == 64, "forming bar: a line");

enum up_derive_op {
	UP_DERIVE_APPEND  = 1, /* a new row */
	UP_DERIVE_REPLACE = 2, /* the latest row, rewritten */
	UP_DERIVE_FINAL   = 4, /* the latest row, rewritten: it lost partial
	                          (with this minute, or as minutes completed) */
	UP_DERIVE_LATE    = 3, /* minute of an interval before the latest row:
	                          nothing written (a table rewrites only its
	                          latest row) */
};

void up_forming_reset(struct up_forming *f);
/*
 * Fold the 1-minute bar m (any order within an interval) into f, for the
 * session [open, close) and k minutes; `through`: last complete minute of
 * the session (INT64_MIN: none). *out is the bar to write. Returns an
 * up_derive_op: APPEND, REPLACE, FINAL (the row was partial and this
 * minute, its interval's last minute being complete, makes it final), or
 * LATE.
 */
int  up_derive_add(struct up_forming *f, int64_t open, int64_t close,
                   uint32_t k, const bb_bar *m, int64_t through, bb_bar *out);
/* up_derive_add of m into the forming bars f[0..n) of the intervals of
 * k[0..n) minutes: op[i] for f[i], whose bar (f[i].bar) is the one to
 * write unless op[i] is UP_DERIVE_LATE. */
void up_derive_fold(struct up_forming *f, uint32_t n, const uint32_t *k,
                    int64_t open, int64_t close, const bb_bar *m,
                    int64_t through, int *op);
/* Minute `through` just completed (or the session ended, through =
 * close - 60): 1 with *out when f's bar loses its partial flag. */
int  up_derive_complete(struct up_forming *f, int64_t open, int64_t through,
                        bb_bar *out);

/* ---- gaps.c: the engine ----------------------------------------------------- */

/* Everything the engine writes or asks, supplied by its owner. */
struct up_sink {
	void *ctx;
	/* A derived bar of interval number ki: append a row or rewrite the
	 * latest (op is UP_DERIVE_APPEND, UP_DERIVE_REPLACE or
	 * UP_DERIVE_FINAL). A bar without BB_BAR_PARTIAL is final; it becomes
	 * so either when appended or with FINAL, and is final from then on. */
	int (*derived)(void *ctx, uint32_t ki, uint32_t sym, int op,
	               const bb_bar *bar);
	int (*fill)(void *ctx, uint32_t sym, const bb_bar *bar);  /* up.fills */
	int (*quality)(void *ctx, uint32_t sym, const bb_quality *q);
	/* Reset sym's rows in every table (a new session). */
	int (*reset)(void *ctx, uint32_t sym);
	/* Store lookup: 0 with *out, BB_ENOTFOUND, or another error. */
	int (*lookup)(void *ctx, uint32_t sym, int64_t t, bb_bar *out);
	/* sym's last close before open (the previous session's); 0 or
	 * BB_ENOTFOUND. May be NULL. */
	int (*prev_close)(void *ctx, uint32_t sym, int64_t open, double *close);
	/* sym's real bars of [from, to) as the bus holds them (any order),
	 * up to max, for building a derived bar again when a late real bar
	 * replaces a fill. May be NULL (those minutes are then left out). */
	int (*reals)(void *ctx, uint32_t sym, int64_t from, int64_t to,
	             bb_bar *out, size_t max, size_t *got);
};

struct up_engine_opts {
	uint32_t nsym;          /* table symbols */
	uint32_t rows;          /* longest session, minutes */
	struct up_intervals iv; /* derived intervals (empty: none) */
	int      gap_policy;    /* up_gap_policy */
	int      retries;       /* 0: a gap not in the store is unfillable at
	                           once (backtest; retry-missing false) */
	uint32_t max_retries;
	uint32_t backoff_ms;
	int      fresh;         /* each session asks its previous closes anew
	                           (sessions started out of order) */
};

struct up_engine;

int  up_engine_new(struct up_engine **out, const struct up_engine_opts *o,
                   const struct up_sink *sink);
void up_engine_free(struct up_engine *e);
/* Start session s (tables reset, state cleared). Restarting the session
 * already followed keeps the previous session's closes. */
int  up_engine_start(struct up_engine *e, const bb_session *s);
/* The session followed (date 0: none) and whether it is finished. */
const bb_session *up_engine_session(const struct up_engine *e);
int  up_engine_finished(const struct up_engine *e);
/* Last complete minute (INT64_MIN: none). */
int64_t up_engine_through(const struct up_engine *e);
/* A real 1-minute bar; duplicates and bars outside the session ignored.
 * One for a minute already settled (filled, synthetic, pending or
 * unfillable) wins: the minute counts as real and late, and the derived
 * bars are built again with it (the latest row of each interval; an
 * earlier one is counted in bb_quality.underived). A bar flagged
 * BB_BAR_LATE counts as late too. Returns 1 when taken, 0 when ignored,
 * or an error. */
int  up_engine_bar(struct up_engine *e, const bb_bar *b);
/* Hint: a bar of sym comes soon; start fetching the engine's state of it. */
void up_engine_prefetch(const struct up_engine *e, uint32_t sym);
/* Follow sym in the session started (on 0: its minutes never complete:
 * no gaps, fills or quality; a symbol the coordinator does not replay).
 * Every symbol is followed after up_engine_start(). */
void up_engine_follow(struct up_engine *e, uint32_t sym, int on);
/* Minutes up to t (inclusive) complete for symbols [0, nsym_live). */
int  up_engine_complete(struct up_engine *e, int64_t t, uint32_t nsym_live,
                        int64_t now_ns);
/* Resync helper: the same for one symbol only (caller then sets the
 * engine's clock with up_engine_set_through). */
int  up_engine_complete_sym(struct up_engine *e, uint32_t sym, int64_t t,
                            int64_t now_ns);
void up_engine_set_through(struct up_engine *e, int64_t t);
/* Retries due at now_ns. */
int  up_engine_retry(struct up_engine *e, int64_t now_ns);
/* Session end: every minute complete, pending gaps resolved (one more
 * lookup), derived bars final. */
int  up_engine_finish(struct up_engine *e, uint32_t nsym_live);
int  up_engine_quality(const struct up_engine *e, uint32_t sym,
                       bb_quality *out);
/* Totals since the engine was made. */
void up_engine_totals(const struct up_engine *e, uint64_t *bars,
                      uint64_t *fills, uint64_t *unfillable);

/* ---- status.c: the upkeep's segments ------------------------------------- */

struct up_segs;

/* Create or re-attach up.status (with history_days, its block map): from
 * here on the upkeep is alive on the bus. BB_EBUSY: another upkeep is. */
int  up_segs_new(struct up_segs **out, const char *bus,
                 const struct up_intervals *iv, uint32_t history_days,
                 const bb_seg_opts *o);
/* Create or re-attach up.fills, up.<N>m, up.quality and the history
 * tables, for a bus whose session table has nsym symbols and rows minutes. */
int  up_segs_attach(struct up_segs *s, const char *bus, uint32_t nsym,
                    uint32_t rows, const bb_seg_opts *o);
void up_segs_close(struct up_segs *s);
void up_segs_beat(struct up_segs *s);
/* Hint: a bar of sym comes soon; start fetching the rows it will write.
 * up_segs_prefetch_far() a few bars before: the tables' lines of sym,
 * which up_segs_prefetch() reads to find those rows. */
void up_segs_prefetch(const struct up_segs *s, uint32_t sym);
void up_segs_prefetch_far(const struct up_segs *s, uint32_t sym);
/*
 * A sink writing an engine's output into these segments, lookups in st.
 * live: the current session (current tables and its history block); else
 * a past session being rebuilt (its history block only; lookups in the
 * bars of up_segs_past_load()).
 */
void up_segs_sink(struct up_segs *s, int live, bb_store *st, const bb_bus *bus,
                  struct up_sink *out);
/* History: the block for session ses is taken (emptied: readers leave it)
 * before the engine starts it, and named when it is finished. begin
 * returns 1 when a past session is older than every block kept. */
int  up_segs_block_begin(struct up_segs *s, int live, const bb_session *ses);
int  up_segs_block_done(struct up_segs *s, int live, const bb_session *ses);
/* A finished block holds session `date`. */
int  up_segs_has_block(const struct up_segs *s, int32_t date);
/* A past session's lookups for sym: its bars in the store, loaded once. */
int  up_segs_past_load(struct up_segs *s, uint32_t sym, const bb_session *ses);
/* The status record: as last written (or zero), and write it. */
bb_upkeep_info *up_segs_status(struct up_segs *s);
void up_segs_status_put(struct up_segs *s);

/* ---- session.c, sync.c, follow.c: following a bus ------------------------- */

struct up_fol {
	const struct up_config *c;
	bb_bus          *bus;
	bb_table        *s1m;
	bb_ring_reader  *r;
	bb_store        *store;
	struct up_segs  *segs;
	struct up_engine *e;     /* the session followed */
	struct up_engine *pe;    /* past sessions rebuilt for the history */
	bb_bar          *buf;    /* rows bars: one symbol's session */
	uint32_t         nsym, rows;
	uint64_t         epoch;
	int64_t          last_beat, last_check, last_retry;
	int64_t          clock_seen; /* live: clock read at the last idle check */
	uint32_t         mode;       /* bb_mode of the coordinator */
	int64_t          busy_ns;    /* spent taking records in, not waiting */
	int32_t          end_spun;   /* the session whose end was spun for */
};

/* session.c. Symbols on the bus now (its directory, up to the table's). */
uint32_t up_fol_nsym(const struct up_fol *f);
/* Bars taken in (followed, or rebuilt into a history block), and the
 * followed sessions' fills and unfillable gaps. */
void     up_fol_totals(const struct up_fol *f, uint64_t *bars,
                       uint64_t *fills, uint64_t *unfillable);
/* The status record, with the engines' totals, written. */
void     up_fol_status(struct up_fol *f);
/* The session the engine follows is finished: up.status says so. */
int      up_fol_finish(struct up_fol *f);

/* sync.c (calls session.c): start session s (rebuilding what was missed first); bring the
 * engine level with the bus's status and session table (*eod: the bus is
 * at its end of data). */
int      up_sync_start(struct up_fol *f, const bb_session *s);
int      up_sync(struct up_fol *f, int *eod);

/* follow.c (calls sync.c and session.c). Follow bus until end of data (0) or *stop; errors as codes. */
int  up_follow(const struct up_config *c, volatile sig_atomic_t *stop);

#endif /* UP_UPKEEP_H */
