/*
 * barbus.h: the public interface of libbarbus, a shared-memory market-data bus.
 *
 * Conventions (as LMDB): fallible functions return int, 0 on success, a
 * positive errno value for system errors, a negative BB_E* code for ours or an
 * MDB_* code passed through from LMDB. bb_strerror() names any of them.
 * Handles are opaque; the library never prints.
 */
#ifndef BARBUS_H
#define BARBUS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library's exported functions; everything else in libbarbus.so is
 * hidden (built with -fvisibility=hidden). */
#if defined(__GNUC__) || defined(__clang__)
#define BB_API __attribute__((visibility("default")))
#else
#define BB_API
#endif

/* ---- errors (libshm/error.c) ---------------------------------------- */

#define BB_ERRORS(X)                                                        \
	X(BADMAGIC,   "segment is not a bus segment")                         \
	X(VERSION,    "segment layout version not supported")                 \
	X(TRUNCATED,  "segment shorter than its header says")                 \
	X(NOTREADY,   "segment not yet published by its writer")              \
	X(ROLE,       "segment has another role than the one asked for")      \
	X(GEOMETRY,   "segment geometry is impossible")                       \
	X(MISMATCH,   "segment exists with another geometry or version")      \
	X(BUSY,       "segment is owned by a live writer")                    \
	X(NAME,       "invalid bus or segment name")                          \
	X(INVAL,      "invalid argument")                                     \
	X(EMPTY,      "no record yet")                                        \
	X(LAPPED,     "reader was lapped by the writer: records lost")        \
	X(TIMEDOUT,   "timed out waiting")                                    \
	X(NOWRITER,   "the segment's writer is not alive")                    \
	X(NOTFOUND,   "not found")                                            \
	X(STORE_VERSION, "bar store has an unsupported schema version")       \
	X(STORE_FULL, "bar store is full (map size or disk)")                 \
	X(BADSYMBOL,  "invalid symbol name")                                  \
	X(CALENDAR,   "malformed calendar")                                   \
	X(NOSESSION,  "no trading session in the requested range")            \
	X(END,        "end of data")                                          \
	X(RETRY,      "record kept changing while read; try again")           \
	X(FULL,       "table has no free row for this symbol")                \
	X(NOINTERVAL, "interval not maintained by the upkeep")                \
	X(OWNER,      "segment path holds another user's object or no "       \
	              "regular file")                                         \
	X(CORRUPT,    "segment content is damaged")

enum bb_err {
	BB_ERR_BASE = -32000, /* clear of errno (>0) and of MDB_* (-30799..) */
#define X(name, msg) BB_E##name,
	BB_ERRORS(X)
#undef X
	BB_ERR_END
};

/* Static string for any code: 0, errno, BB_E* or MDB_*. */
BB_API const char *bb_strerror(int err);

/* ---- version ----------------------------------------------------------- */

/* The version of this header; bb_version() is the library's, which may be
 * newer (the SONAME, libbarbus.so.MAJOR, changes only with MAJOR). */
#define BB_VERSION_MAJOR 0
#define BB_VERSION_MINOR 1
#define BB_VERSION_PATCH 0
#define BB_VERSION "0.1.0"

/* "MAJOR.MINOR.PATCH" of the library in use; a static string. */
BB_API const char *bb_version(void);

/* ---- names ----------------------------------------------------------- */

#define BB_NAME_MAX 64 /* bus name: [A-Za-z0-9_-]{1,64} */
#define BB_SYMBOL_MAX 31 /* symbol: [A-Za-z0-9._/-]{1,31}, starting alnum */

/* 0 when name is a valid bus name, BB_ENAME otherwise. */
BB_API int bb_bus_name_check(const char *name);
/* 0 when sym is a valid symbol name, BB_EBADSYMBOL otherwise. */
BB_API int bb_symbol_check(const char *sym);

/* ---- the bar record (56 bytes: one ring slot with its sequence word) - */

enum bb_bar_flag {
	BB_BAR_FILLED    = 1u << 0, /* came from the store to fill a gap */
	BB_BAR_SYNTHETIC = 1u << 1, /* made up (forward fill), not traded */
	BB_BAR_PARTIAL   = 1u << 2, /* derived bar whose interval is still forming */
	BB_BAR_LATE      = 1u << 3, /* live: a real bar that arrived after its
	                               minute was complete */
	BB_BAR_FLAG_MASK = 0x00ffffffu,
};

/* Record kinds, kept in bits 24-31 of flags; a plain bar has kind 0. */
enum bb_kind {
	BB_KIND_BAR           = 0,
	BB_KIND_MINUTE_END    = 1,
	BB_KIND_SESSION_START = 2,
	BB_KIND_SESSION_END   = 3,
	BB_KIND_USER          = 0x80, /* 0x80..0xff: free for tests and tools */
};
#define BB_KIND_SHIFT 24
#define BB_KIND(flags) ((uint32_t)(flags) >> BB_KIND_SHIFT)
/* The flags bits of kind k (unsigned: 0x80 << 24 does not fit an int). */
#define BB_KIND_FLAGS(k) ((uint32_t)(k) << BB_KIND_SHIFT)

/*
 * One 1-minute or derived bar, or a ring event of another kind. time is the
 * start of the interval in seconds since 1970-01-01 UTC. The same record is
 * used in the ring, the tables and the store.
 */
typedef struct bb_bar {
	uint32_t symbol;
	uint32_t flags; /* bb_bar_flag bits | kind << BB_KIND_SHIFT */
	int64_t  time;
	double   open, high, low, close, volume;
} bb_bar;

/*
 * Ring events other than bars travel in the same 56-byte record (event.c):
 *   MINUTE_END     time = the minute t now complete; volume = bars in it
 *   SESSION_START  symbol = date (YYYYMMDD); time = open; open = close time;
 *                  low = session flags; volume = the session's number
 *                  (bb_status.sessions while it is current)
 *   SESSION_END    as SESSION_START, and high = bb_end_reason
 * Times and numbers kept in the double fields are whole, exact below 2^53.
 */
struct bb_session; /* below, with the calendars */
BB_API void bb_event_minute_end(bb_bar *ev, int64_t t, uint32_t bars);
BB_API void bb_event_session(bb_bar *ev, int kind, const struct bb_session *s,
                             int reason);
/* Decode a SESSION_START or SESSION_END; BB_EINVAL for other kinds. */
BB_API int  bb_event_session_get(const bb_bar *ev, struct bb_session *s,
                                 int *reason);
/* The session number a SESSION_START or SESSION_END carries; 0 for other
 * kinds and from writers that did not carry it. */
BB_API uint64_t bb_event_session_number(const bb_bar *ev);

/* ---- writer liveness ------------------------------------------------- */

enum bb_writer_state {
	BB_WRITER_ALIVE = 0, /* lock held, heartbeat fresh */
	BB_WRITER_STUCK = 1, /* lock held, heartbeat older than 3 intervals */
	BB_WRITER_DEAD  = 2, /* nobody holds the writer lock */
};

/* ---- broadcast ring (libshm/ring.c) ------------------------------------ */

typedef struct bb_ring_writer bb_ring_writer;
typedef struct bb_ring_reader bb_ring_reader;

enum bb_seg_flags {
	BB_SEG_KEEP = 1u << 0, /* refuse (BB_EMISMATCH) to replace a leftover
	                          segment of another geometry or version */
	BB_SEG_POPULATE = 1u << 1, /* writer creating the segment: map every
	                          page now and store to each once (tmpfs zeroes
	                          a reserved page at its first touch, and a
	                          page's first store faults even when mapped; a
	                          densely written table pays that up front, not
	                          in the middle of a session). Re-attaching
	                          maps lazily. */
};

/*
 * Writers that adopt, repair or refuse an existing segment say so through
 * this hook, one line each ("replaced: ...", "refused: owned by uid N ...",
 * "mode 0666 set to 0640"), naming the segment's file. The library never
 * prints: a daemon's main() sets the hook once, before opening any segment,
 * to print to its log. Process-wide; NULL (the default) drops the lines.
 */
BB_API void bb_seg_notify_set(void (*fn)(void *arg, const char *line),
                              void *arg);

typedef struct bb_seg_opts {
	unsigned flags;        /* bb_seg_flags */
	uint64_t capacity;     /* ring slots, a power of two; 0: 65536 */
	uint32_t heartbeat_ms; /* 0: 100 */
	mode_t   mode;         /* 0: 0640 */
	gid_t    group;        /* 0: leave as created (root group: fchown yourself) */
} bb_seg_opts;

/*
 * Create the ring of bus `bus` or re-attach to an existing one of the same
 * geometry (then the epoch is bumped and the sequence continues). Fails with
 * BB_EBUSY while another live writer holds it. Free with bb_ring_writer_close().
 */
BB_API int  bb_ring_writer_open(bb_ring_writer **out, const char *bus,
                                const bb_seg_opts *opts);
BB_API void bb_ring_writer_close(bb_ring_writer *w); /* NULL is a no-op */
/* As close, and unlink the ring if this writer created it: undoes a bus
 * whose other segments could not be made (a full /dev/shm). */
BB_API void bb_ring_writer_discard(bb_ring_writer *w);
/* Publish one record; never waits on readers. */
BB_API void bb_ring_put(bb_ring_writer *w, const bb_bar *rec);
/* Publish n records; readers may see them one by one, the wake check and
 * the shared head store are paid once. */
BB_API void bb_ring_put_n(bb_ring_writer *w, const bb_bar *recs, size_t n);
/* Refresh the heartbeat; call at least every heartbeat interval. */
BB_API void bb_ring_beat(bb_ring_writer *w);
BB_API uint64_t bb_ring_writer_epoch(const bb_ring_writer *w);
/* 1 when opening replaced a leftover of another geometry or version. */
BB_API int bb_ring_writer_replaced(const bb_ring_writer *w);
/* Sequence number the next bb_ring_put() will use. */
BB_API uint64_t bb_ring_writer_seq(const bb_ring_writer *w);

enum bb_wait {
	BB_WAIT_SPIN  = 0,
	BB_WAIT_YIELD = 1,
	BB_WAIT_BLOCK = 2, /* futex; maps the bus's wake word read-write */
};

enum bb_ring_open_flags {
	BB_RING_FROM_OLDEST = 1u << 0, /* start at the oldest intact record
	                                  instead of the next one written */
};

/* Open read-only. wait is a bb_wait; flags bb_ring_open_flags. */
BB_API int  bb_ring_reader_open(bb_ring_reader **out, const char *bus,
                                int wait, unsigned flags);
BB_API void bb_ring_reader_close(bb_ring_reader *r); /* NULL is a no-op */
/*
 * Non-blocking read. 0: *out holds the next record. BB_EEMPTY: nothing yet.
 * BB_ELAPPED: the writer overwrote records this reader had not read; *lost
 * (if not NULL) is their exact count and the next call returns the oldest
 * record still intact.
 */
BB_API int  bb_ring_read(bb_ring_reader *r, bb_bar *out, uint64_t *lost);
/*
 * As bb_ring_read(), but waits with the reader's strategy up to timeout_ns
 * (<0: forever). BB_ETIMEDOUT when the time ran out; BB_ENOWRITER when no
 * writer is alive and nothing is left to read.
 */
BB_API int  bb_ring_wait(bb_ring_reader *r, bb_bar *out, uint64_t *lost,
                         int64_t timeout_ns);
/*
 * Up to max records into out[0..max) in one call (libshm/ring_batch.c);
 * *got says how many. 0: *got records (none when the ring is empty).
 * BB_ELAPPED: *got records read before the writer overwrote the next ones;
 * *lost (if not NULL) is their exact count, and the next call goes on with
 * the oldest record still intact. Other codes as bb_ring_read().
 */
BB_API int  bb_ring_read_n(bb_ring_reader *r, bb_bar *out, size_t max, size_t *got,
                    uint64_t *lost);
/* As bb_ring_read_n(), but first waits for one record as bb_ring_wait()
 * (BB_ETIMEDOUT, BB_ENOWRITER with *got 0); max must be at least 1. */
BB_API int  bb_ring_wait_n(bb_ring_reader *r, bb_bar *out, size_t max, size_t *got,
                    uint64_t *lost, int64_t timeout_ns);
/* Sequence number of the next record this reader will return. */
BB_API uint64_t bb_ring_reader_seq(const bb_ring_reader *r);
/* Current writer epoch: bumped by each writer (re)start. */
BB_API uint64_t bb_ring_epoch(const bb_ring_reader *r);
/* bb_writer_state of the ring's writer; pid if not NULL. */
BB_API int  bb_ring_writer_state(const bb_ring_reader *r, pid_t *pid);

/* ---- per-symbol bar tables (libshm/table.c) ---------------------------- */

/*
 * A table holds, per symbol, up to `rows` bars in order: the current
 * session's 1-minute bars, or derived bars of one interval. O(1) latest bar,
 * last-n bars and count from any reader process, never torn. One writer.
 */
typedef struct bb_table_writer bb_table_writer;
typedef struct bb_table bb_table;

/* role: segment role name, e.g. "bars.1m" ([a-z0-9.]{1,16}). Re-attaches to
 * an existing table of the same geometry; the epoch is bumped. */
BB_API int  bb_table_writer_open(bb_table_writer **out, const char *bus,
                                 const char *role, uint32_t nsym, uint32_t rows,
                                 const bb_seg_opts *opts);
BB_API void bb_table_writer_close(bb_table_writer *w); /* NULL is a no-op */
/* As close, and unlink the table if this writer created it. */
BB_API void bb_table_writer_discard(bb_table_writer *w);
/* 1 when opening replaced a leftover of another geometry or version. */
BB_API int  bb_table_writer_replaced(const bb_table_writer *w);
/* 1 when opening re-attached to a table of the same geometry: rows kept. */
BB_API int  bb_table_writer_kept(const bb_table_writer *w);
/* Append bar to symbol sym's rows; BB_EFULL when all rows are used. */
BB_API int  bb_table_append(bb_table_writer *w, uint32_t sym,
                            const bb_bar *bar);
/* Replace sym's latest bar (a derived bar still forming); BB_EEMPTY. */
BB_API int  bb_table_replace_last(bb_table_writer *w, uint32_t sym,
                                  const bb_bar *bar);
/* Hint: sym's next append (or replacement of its latest bar) comes soon;
 * start fetching the rows it will write. */
BB_API void bb_table_prefetch(const bb_table_writer *w, uint32_t sym);
/* Empty sym's rows (a new session); readers never see old bars again. */
BB_API int  bb_table_reset(bb_table_writer *w, uint32_t sym);
BB_API void bb_table_beat(bb_table_writer *w);

BB_API int  bb_table_open(bb_table **out, const char *bus, const char *role);
BB_API void bb_table_close(bb_table *t); /* NULL is a no-op */
BB_API uint32_t bb_table_symbols(const bb_table *t);
BB_API uint32_t bb_table_rows(const bb_table *t);
/* Bars held for sym now; 0 for a symbol out of range. */
BB_API uint32_t bb_table_count(const bb_table *t, uint32_t sym);
/* Latest bar of sym: 0, BB_EEMPTY (none yet), BB_EINVAL (no such symbol),
 * BB_ERETRY (its row kept changing, or stayed mid-write for 4 ms, the
 * CPU yielded to its writer meanwhile; *out may then hold a torn copy). */
BB_API int  bb_table_latest(const bb_table *t, uint32_t sym, bb_bar *out);
/* The same for a table of one-row records (a status, a quality figure):
 * sym's latest row copied into the 56-byte record rec. */
BB_API int  bb_table_record(const bb_table *t, uint32_t sym, void *rec);
/* Up to n latest bars of sym, oldest first, into out; *got says how many.
 * On an error out[0..n) may hold anything. */
BB_API int  bb_table_last_n(const bb_table *t, uint32_t sym, bb_bar *out,
                            size_t n, size_t *got);
BB_API uint64_t bb_table_epoch(const bb_table *t);
BB_API int  bb_table_writer_state(const bb_table *t, pid_t *pid);

/* ---- the bus: control segment and the reader's view (control.c, bus.c) -- */

enum bb_state {
	BB_STATE_NONE          = 0, /* no session yet */
	BB_STATE_PREOPEN       = 1, /* session announced, before its open */
	BB_STATE_OPEN          = 2,
	BB_STATE_ENDED         = 3, /* closed at its close */
	BB_STATE_TIMER_EXPIRED = 4, /* live, feed clock: the feed ended (its end
	                               reached, no data for the no-data timeout) */
	BB_STATE_DONE          = 5, /* backtest: end of data, nothing follows */
};

enum bb_end_reason {
	BB_END_CLOSE   = 0, /* the calendar's close */
	BB_END_TIMEOUT = 1, /* live: end of the feed, then the no-data timeout */
	BB_END_DATA    = 2, /* backtest: end of the requested range */
};

enum bb_mode { BB_MODE_BACKTEST = 1, BB_MODE_LIVE = 2 };

/* The session the coordinator is in; 56 bytes, read as one snapshot. */
typedef struct bb_status {
	int32_t  date;      /* YYYYMMDD of the current (or just ended) session */
	uint32_t state;     /* bb_state */
	int64_t  open;      /* UTC seconds */
	int64_t  close;
	int64_t  clock;     /* session clock: start of the last complete minute */
	uint64_t sessions;  /* session number: +1 per session (history loaded
	                       at the start takes the numbers below) */
	uint32_t mode;      /* bb_mode */
	uint32_t history;   /* trailing sessions held in history */
	int64_t  stalled_since; /* live: the session is open but stalled (no
	                           data for the no-data timeout) since this
	                           wall-clock UTC second, the last data's; 0:
	                           not stalled */
} bb_status;

enum bb_counter {
	BB_CTR_BARS,              /* 1-minute bars published */
	BB_CTR_MINUTES,           /* MINUTE_END events published */
	BB_CTR_PREFETCH_HITS,     /* sessions whose bars were loaded in time */
	BB_CTR_PREFETCH_MISSES,   /* sessions the boundary had to wait for */
	BB_CTR_TRANSITION_NS,     /* last transition: last bar to next START */
	BB_CTR_TRANSITION_MAX_NS,
	BB_CTR_UPKEEP_WAITS,      /* boundaries that waited for the upkeep */
	BB_CTR_UPKEEP_TIMEOUTS,   /* ... and gave up after --upkeep-wait-ms */
	BB_CTR_FEED_LINES,        /* live: lines read */
	BB_CTR_FEED_BAD,          /* live: lines rejected */
	BB_CTR_FEED_LATE,         /* live: bars published late (BB_BAR_LATE) */
	BB_CTR_FEED_DUPLICATES,   /* live: bars already published */
	BB_CTR_STORE_ERRORS,      /* live: failed store writes */
	BB_CTR_RESTARTS,          /* coordinator attaches after the first */
	BB_CTR_STALLS,            /* live: no-data timeouts in an open session */
	BB_CTR_FEED_STALE,        /* live: bars of a session already ended:
	                             stored, not published */
	BB_CTR_FEED_BACKWARDS,    /* live: bars older than the line before */
	BB_CTR_SYMBOLS_REJECTED,  /* live: bars of a new symbol with no room
	                             left for it (max-symbols) */
	BB_CTR_EMPTY_SESSIONS,    /* backtest: sessions of the calendar the
	                             store has no bar of (any symbol) */
	BB_CTR_REPLAYED_SYMBOLS,  /* backtest: symbols replayed (--symbols);
	                             0: every symbol of the directory */
	BB_CTR_COUNT
};

#define BB_TRANSITIONS 64 /* recent transition durations kept */

typedef struct bb_bus bb_bus;

/* Map a bus read-only: control, session table and history. */
BB_API int  bb_bus_open(bb_bus **out, const char *name);
BB_API void bb_bus_close(bb_bus *b); /* NULL is a no-op */
BB_API int  bb_bus_status(const bb_bus *b, bb_status *out);
BB_API uint64_t bb_bus_counter(const bb_bus *b, int counter); /* bb_counter */
/* Duration (ns) of the transition into session number `session`
 * (bb_status.sessions counts from 1); 0 when no longer kept. */
BB_API uint64_t bb_bus_transition_ns(const bb_bus *b, uint64_t session);
BB_API uint64_t bb_bus_epoch(const bb_bus *b);
/* When the bus was made (UTC ns; its control segment created): one bus
 * removed and made again under the same name is another bus. Writers
 * restarting keep it. 0 for a bus an earlier barbus made. */
BB_API int64_t bb_bus_created(const bb_bus *b);
BB_API int  bb_bus_writer_state(const bb_bus *b, pid_t *pid);
/* Symbols: ids 0 .. bb_symbol_count() - 1. */
BB_API uint32_t bb_symbol_count(const bb_bus *b);
/* 1 when the coordinator publishes sym in its run: every symbol of the
 * directory, unless a backtest replays a subset (--symbols). */
BB_API int  bb_symbol_replayed(const bb_bus *b, uint32_t sym);
BB_API int  bb_symbol_name(const bb_bus *b, uint32_t id, char *buf, size_t len);
BB_API int  bb_symbol_lookup(const bb_bus *b, const char *name, uint32_t *id);
/* The current session's 1-minute bars (session table). */
BB_API int  bb_latest(const bb_bus *b, uint32_t sym, bb_bar *out);
BB_API int  bb_last_n(const bb_bus *b, uint32_t sym, bb_bar *out, size_t n,
                      size_t *got);
BB_API uint32_t bb_count(const bb_bus *b, uint32_t sym);
/*
 * History: session `back` sessions before the current one (1 = the
 * previous session). Its date into *date; up to max bars of sym into out.
 * BB_ENOTFOUND when history holds no such session.
 */
BB_API int  bb_history(const bb_bus *b, uint32_t back, uint32_t sym,
                       bb_bar *out, size_t max, size_t *got, int32_t *date);
/* The session of history `back` (date, open, close); BB_ENOTFOUND as above. */
BB_API int  bb_history_session(const bb_bus *b, uint32_t back,
                               struct bb_session *out);

/* ---- snapshot, then follow (libshm/follow.c) -------------------------- */

/*
 * The current session's 1-minute bars from the session table, then the ring
 * from exactly the next record: no bar missing and none twice between the
 * two, even while the coordinator writes flat out. A bar that was already
 * in the snapshot when it reached the ring is skipped. Lapped, the follower
 * says how many records it lost and takes a new snapshot itself: one that
 * holds only the bars it had not yet delivered (docs/operations.md).
 * The ring's 1-minute bars only: fills and derived bars are the upkeep's
 * (bb_bars()).
 */
typedef struct bb_follow bb_follow;

/* Snapshot bus `bus` now and position its ring right after the snapshot.
 * wait is a bb_wait; flags must be 0. Free with bb_follow_close(). */
BB_API int  bb_follow_open(bb_follow **out, const char *bus, int wait,
                           unsigned flags);
BB_API void bb_follow_close(bb_follow *f); /* NULL is a no-op */
/*
 * The bars of the last snapshot not yet handed out: symbols in id order,
 * each symbol's bars in session order. *n receives their count. The array
 * is owned by f and valid until the next bb_follow_next() or close.
 */
BB_API const bb_bar *bb_follow_snapshot(const bb_follow *f, size_t *n);
/*
 * The next ring record after the snapshot (bars, MINUTE_END and session
 * events), waiting up to timeout_ns (<0: forever) as bb_ring_wait().
 * BB_ELAPPED: *lost (if not NULL) records were overwritten unread; a new
 * snapshot was taken, read it with bb_follow_snapshot() before going on.
 * BB_ETIMEDOUT, BB_ENOWRITER as bb_ring_wait().
 */
BB_API int  bb_follow_next(bb_follow *f, bb_bar *out, uint64_t *lost,
                           int64_t timeout_ns);

/* ---- time helpers (libshm/timefmt.c) --------------------------------- */

/* Dates are YYYYMMDD integers; times are seconds since the epoch, UTC. */
BB_API int     bb_date_valid(int32_t date);
BB_API int64_t bb_date_to_days(int32_t date);    /* days since 1970-01-01 */
BB_API int32_t bb_days_to_date(int64_t days);
/* Parse "YYYY-MM-DD"; 0 or BB_EINVAL. */
BB_API int     bb_date_parse(const char *s, int32_t *date);
/*
 * Parse ISO-8601 "YYYY-MM-DD(T| )HH:MM[:SS[.000]](Z|+HH:MM|-HH:MM|+HHMM|-HHMM)"
 * (a fraction of a second only when all zeros) or epoch seconds.
 */
BB_API int     bb_time_parse(const char *s, int64_t *t);
/* "YYYY-MM-DDTHH:MM:SSZ" into buf (>= 21 bytes). */
BB_API void    bb_time_format(int64_t t, char *buf);
/* "YYYY-MM-DD" into buf (>= 11 bytes). */
BB_API void    bb_date_format(int32_t date, char *buf);

/* ---- trading calendars (libshm/calendar.c) ----------------------------- */

typedef struct bb_session {
	int32_t  date;   /* YYYYMMDD, the exchange's local date */
	uint32_t flags;  /* bb_session_flag */
	int64_t  open;   /* UTC seconds */
	int64_t  close;  /* UTC seconds */
} bb_session;

enum bb_session_flag {
	BB_SESSION_EARLY_CLOSE = 1u << 0,
};

typedef struct bb_calendar bb_calendar;

/*
 * Load a calendar: a built-in name ("XNYS", "XLON", "24x7") or a calendar
 * file path. A file's "zone NAME" is read from the system's tzdata
 * (docs/calendars.md).
 * On BB_ECALENDAR, err (if not NULL) receives "FILE:LINE: reason".
 * Free with bb_calendar_free().
 */
BB_API int  bb_calendar_load(bb_calendar **out, const char *name_or_path,
                             char *err, size_t err_len);
BB_API void bb_calendar_free(bb_calendar *cal); /* NULL is a no-op */
/* First session on or after date; BB_ENOSESSION past the calendar's end. */
BB_API int  bb_calendar_next(const bb_calendar *cal, int32_t date,
                             bb_session *out);
/* Last session strictly before date; BB_ENOSESSION before its start. */
BB_API int  bb_calendar_prev(const bb_calendar *cal, int32_t date,
                             bb_session *out);
/* The session whose [open, close) holds t; BB_ENOSESSION outside them. */
BB_API int  bb_calendar_at(const bb_calendar *cal, int64_t t, bb_session *out);

/* ---- bar store (libshm/store.c, on LMDB) ------------------------------- */

/*
 * One LMDB environment in a directory (docs/store.md). Many processes may
 * read while one writes; a reader sees each bb_store_put() batch whole or
 * not at all. Every function may be called from any thread on one handle
 * (bb_store_close() excepted). The map grows on demand; a full map or disk
 * is BB_ESTORE_FULL and loses nothing committed. A store of another schema
 * version is refused with BB_ESTORE_VERSION and left untouched.
 */
typedef struct bb_store bb_store;

enum bb_store_flags {
	BB_STORE_RDONLY = 1u << 0, /* open an existing store read-only */
};

typedef struct bb_put_stats {
	uint64_t stored;    /* new keys */
	uint64_t unchanged; /* same key, same bar: nothing written */
	uint64_t replaced;  /* same key, another bar: replaced */
} bb_put_stats;

/* Open or create the store in directory dir. Free with bb_store_close(). */
BB_API int  bb_store_open(bb_store **out, const char *dir, unsigned flags);
BB_API void bb_store_close(bb_store *st); /* NULL is a no-op */
/* Id of symbol name, adding it when absent (writable stores only). */
BB_API int  bb_store_symbol_add(bb_store *st, const char *name, uint32_t *id);
/* Id of symbol name; BB_ENOTFOUND when absent. */
BB_API int  bb_store_symbol_id(bb_store *st, const char *name, uint32_t *id);
/* Name of symbol id into buf (>= BB_SYMBOL_MAX + 1); BB_ENOTFOUND. */
BB_API int  bb_store_symbol_name(bb_store *st, uint32_t id, char *buf,
                                 size_t len);
/* Number of symbols; ids are 0 .. n-1. */
BB_API int  bb_store_symbol_count(bb_store *st, uint32_t *n);
/*
 * Write n bars in one transaction; all or nothing. stats may be NULL.
 * BB_EINVAL for a bar with an unknown symbol id, a time not a whole minute
 * (or negative), a non-finite price or volume, or a kind other than BAR.
 * A key repeated within bars: the last one wins.
 */
BB_API int  bb_store_put(bb_store *st, const bb_bar *bars, size_t n,
                         bb_put_stats *stats);
/* One bar; BB_ENOTFOUND when absent. */
BB_API int  bb_store_get(bb_store *st, uint32_t symbol, int64_t t, bb_bar *out);
/*
 * Bars of symbol with from <= time < to, in time order, into out[0..max);
 * *n receives how many were stored (up to max).
 */
BB_API int  bb_store_range(bb_store *st, uint32_t symbol, int64_t from,
                           int64_t to, bb_bar *out, size_t max, size_t *n);

/*
 * A session's bars for a set of symbols in global time order: all bars of
 * minute t before any of minute t+1, symbols in id order within a minute.
 * Loaded in one read transaction; iterating touches no store.
 */
typedef struct bb_batch {
	bb_bar *bars;  /* owned; free with bb_batch_free() */
	size_t  n;
	size_t  cap;
} bb_batch;

/* syms NULL means every symbol. Reuses b's memory when large enough. */
BB_API int  bb_store_load(bb_store *st, const uint32_t *syms, size_t nsyms,
                          int64_t from, int64_t to, bb_batch *b);
BB_API void bb_batch_free(bb_batch *b);

/* ---- upkeep (libshm/upkeep_reader.c) ---------------------------------- */

/*
 * barbus-upkeep writes, next to the coordinator's segments of a bus, the
 * tables "up.fills" (filled and synthetic 1-minute bars of the current
 * session), "up.<N>m" (derived bars of N minutes), "up.quality" (one
 * bb_quality per symbol) and "up.status" (docs/upkeep.md).
 */
enum bb_upkeep_state {
	BB_UPKEEP_WAITING   = 0, /* no session followed yet */
	BB_UPKEEP_FOLLOWING = 1, /* inside session `date` */
	BB_UPKEEP_IDLE      = 2, /* session `date` done, waiting for the next */
	BB_UPKEEP_EXITED    = 3, /* backtest end of data: the upkeep left */
};

#define BB_UPKEEP_MAX_INTERVALS 14

/* The upkeep's own status; 56 bytes, read as one snapshot. */
typedef struct bb_upkeep_info {
	int32_t  done_date;     /* last session finished (YYYYMMDD); 0: none */
	uint32_t state;         /* bb_upkeep_state */
	int32_t  date;          /* session followed now (or last) */
	uint32_t nintervals;    /* derived intervals maintained */
	uint64_t sessions_done; /* sessions finished by this upkeep */
	uint64_t bars_seen;     /* real 1-minute bars taken in */
	uint64_t lapped;        /* resynchronisations after a lapped ring */
	uint64_t fills;         /* bars filled from the store, all sessions */
	uint64_t unfillable;    /* gaps left unfillable, all sessions */
} bb_upkeep_info;

/* Bar quality of one symbol in the current session; 56 bytes. At every
 * minute: expected = real + filled + unfillable + pending; synthetic is a
 * part of unfillable, late a part of real. */
typedef struct bb_quality {
	uint32_t expected;   /* minutes complete so far */
	uint32_t real;       /* of those, with a bar from the coordinator */
	uint32_t filled;     /* filled from the store */
	uint32_t synthetic;  /* forward-filled (gap policy ffill) */
	uint32_t unfillable; /* gaps given up on (synthetic ones included) */
	uint32_t pending;    /* gaps still being retried */
	int32_t  date;       /* session date YYYYMMDD */
	uint32_t late;       /* real bars that came after their minute was
	                        complete (flagged BB_BAR_LATE, or after the
	                        upkeep settled the minute); counted in real */
	double   quality;            /* real / expected, percent (100: none yet) */
	double   quality_with_fills; /* (real + filled) / expected, percent */
	uint32_t underived;  /* bars (fills, synthetic, late real) that came
	                        when their derived interval's row was no longer
	                        the latest: those derived bars lack them */
	uint32_t reserved;
} bb_quality;

typedef struct bb_upkeep bb_upkeep;

/* Map the upkeep's segments of bus read-only. BB_ENOTREADY (or ENOENT)
 * while no upkeep has run on it. Free with bb_upkeep_close(). */
BB_API int  bb_upkeep_open(bb_upkeep **out, const char *bus);
BB_API void bb_upkeep_close(bb_upkeep *u); /* NULL is a no-op */
BB_API int  bb_upkeep_status(const bb_upkeep *u, bb_upkeep_info *out);
/* bb_writer_state of the upkeep process; pid if not NULL. */
BB_API int  bb_upkeep_writer_state(const bb_upkeep *u, pid_t *pid);
/* Derived intervals maintained, in minutes, into out[0..max); returns how
 * many there are (which may exceed max). */
BB_API size_t bb_upkeep_intervals(const bb_upkeep *u, uint32_t *out,
                                  size_t max);
/* Quality of sym; BB_EEMPTY before the upkeep wrote any, BB_EINVAL for a
 * symbol out of range. */
BB_API int  bb_upkeep_quality(const bb_upkeep *u, uint32_t sym,
                              bb_quality *out);
/*
 * The last n bars of sym at interval_min minutes, oldest first; *got says
 * how many. Interval 1: the session table merged in time order with the
 * upkeep's fills (u NULL: no fills). Others: the upkeep's derived bars;
 * BB_ENOINTERVAL when the upkeep does not maintain that interval. The
 * latest derived bar alone (n 1: the forming one, flagged BB_BAR_PARTIAL,
 * or the last final one) costs what bb_table_latest() costs.
 */
BB_API int  bb_bars(const bb_bus *b, const bb_upkeep *u, uint32_t sym,
                    uint32_t interval_min, bb_bar *out, size_t n, size_t *got);
/*
 * History at interval_min minutes: session `back` sessions before the
 * current one (1 = the previous), all of sym's bars up to max, oldest
 * first; its date into *date. Interval 1: bb_history() merged with the
 * fills the upkeep made in that session. Others: the upkeep's derived
 * history, counted back from the session it follows (bb_upkeep_info.date);
 * back 0 is that session itself once the upkeep has finished it (its
 * block final: read there, it cannot be reset under the reader by the
 * next session's start). BB_ENOTFOUND when no such session is kept (or
 * back 0 not finished); BB_ENOINTERVAL as bb_bars().
 */
BB_API int  bb_bars_history(const bb_bus *b, const bb_upkeep *u, uint32_t back,
                            uint32_t sym, uint32_t interval_min, bb_bar *out,
                            size_t max, size_t *got, int32_t *date);
/* Sessions of derived history the upkeep keeps (its history-days). */
BB_API uint32_t bb_upkeep_history_days(const bb_upkeep *u);

/* ---- the operators' view of segments (libshm/inspect.c) --------------- */

/* How the writer of a segment runs, or how it stopped. */
enum bb_run {
	BB_RUN_NONE    = 0, /* header unreadable (bb_seg_info.err says why) */
	BB_RUN_RUNNING = 1, /* writer lock held, heartbeat fresh */
	BB_RUN_STUCK   = 2, /* lock held, heartbeat older than 3 intervals */
	BB_RUN_STOPPED = 3, /* no lock; the writer closed it cleanly */
	BB_RUN_CRASHED = 4, /* no lock, yet marked running: the writer died
	                       without closing (SIGKILL, a crash) */
};

typedef struct bb_seg_info {
	uint32_t run;              /* bb_run */
	pid_t    pid;              /* last writer's pid, informational */
	uint64_t epoch;            /* writer attaches: restarts = epoch - 1 */
	int64_t  heartbeat_age_ms; /* running or stuck; -1 otherwise */
	uint64_t bytes;            /* size of the object */
	int64_t  mtime;            /* UTC seconds: its file's last change */
	int      err;              /* 0, or why its header is unreadable */
} bb_seg_info;

/* Segment "barbus.<bus>.<role>" as it is now, without taking anything:
 * 0 (a damaged header is err in *out, not a failure), ENOENT, BB_ENAME. */
BB_API int bb_seg_inspect(const char *bus, const char *role, bb_seg_info *out);

typedef struct bb_ring_info {
	uint64_t head;     /* records written since the ring was made */
	uint64_t capacity; /* slots */
	uint64_t epoch;    /* the ring writer's attaches */
} bb_ring_info;

/* The ring of bus now; the errors of bb_ring_reader_open(). */
BB_API int bb_ring_info_get(const char *bus, bb_ring_info *out);

/*
 * fn(arg, bus, role) for each "barbus.<bus>.<role>" in the shared-memory
 * directory ($BB_SHM_DIR, else /dev/shm), in directory order, until fn
 * returns non-zero (which is returned). Other files are skipped.
 */
BB_API int bb_shm_foreach(int (*fn)(void *arg, const char *bus, const char *role),
                   void *arg);

enum bb_remove_flags {
	BB_REMOVE_FORCE = 1u << 0, /* even while a writer holds a segment */
};

/*
 * Unlink every segment of bus, whatever its role (hist.N, up.*, an older
 * layout's wake file), and mark its System V wake word removed. BB_EBUSY,
 * removing nothing, while a live writer holds one of them, unless
 * BB_REMOVE_FORCE. *removed (if not NULL): segments unlinked.
 */
BB_API int bb_bus_remove(const char *bus, unsigned flags, unsigned *removed);

#ifdef __cplusplus
}
#endif
#endif /* BARBUS_H */
