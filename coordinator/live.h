/* live.h: ingesting a live feed of CSV bars into the bus and the store. */
#ifndef CO_LIVE_H
#define CO_LIVE_H

#include <signal.h>

#include "barbus.h"
#include "csv.h"
#include "publish.h"

struct co_live {
	const char *feed;             /* path (file or FIFO), "-": stdin */
	int         feed_clock;       /* 1: bar times drive the clock; 0: wall */
	uint32_t    no_data_timeout_s;
	uint32_t    grace_ms;         /* wall clock: a minute is complete this
	                                 long after its end */
	int64_t     clock_start;      /* tests: the wall clock reads this UTC
	                                 second (0: the real clock) ... */
	uint32_t    clock_rate;       /* ... and runs this many times faster */
	int64_t     clock_epoch_ms;   /* ... from this real UTC ms (0: from
	                                 co_live_run's start) */
};

/* A feed this many bars in a row older than the clock is out of order. */
#define CO_FEED_ORDER_RUN 100

/* What one feed line, or a timer, makes the bus do. */
struct co_act {
	int        kind;   /* BB_KIND_* */
	int        reason; /* SESSION_END */
	bb_bar     bar;    /* BAR; MINUTE_END: time */
	bb_session s;      /* SESSION_START */
};

/* The live coordinator's state between feed lines. */
struct co_feed {
	struct bb__bw     *p;
	bb_store          *st;
	const bb_calendar *cal;
	const char        *name;        /* feed name for messages */
	uint64_t           lineno;
	bb__csv_hdr        hdr;
	int                have_hdr;
	int                open;        /* a session is open */
	bb_session         s;
	int32_t            last_date;   /* last session ended */
	int64_t            minute;      /* the minute being collected */
	uint32_t           minute_bars;
	uint8_t           *done;        /* bit per symbol and minute of the
	                                   open session: published */
	size_t             done_bytes;
	int64_t            prev_t;      /* the last bar line's time */
	uint32_t           late_run;    /* late bars in a row */
	int                order_warned;
	int64_t            dup_logged;  /* minute of the last duplicate told */
	int                got_data;    /* a bar line came (this process) */
	char               rejected[BB_SYMBOL_MAX + 1]; /* last refused */
	struct co_act     *acts;        /* to do once `keep` is stored */
	size_t             nacts, cap_acts;
	bb_bar            *keep;        /* bars for the store */
	size_t             nkeep, cap_keep;
};

int  co_feed_init(struct co_feed *f, struct bb__bw *p, bb_store *st,
                  const bb_calendar *cal, const char *name);
void co_feed_free(struct co_feed *f);
/* One feed line (no terminator): queues actions; bad lines are reported
 * on stderr as NAME:LINE: reason and counted. <0 only when fatal. */
int  co_feed_line(struct co_feed *f, const char *s, size_t n);
/* Close the open session: minute ends, then SESSION_END(reason). */
int  co_feed_close_session(struct co_feed *f, int reason);
/* Open session s: SESSION_START, tables reset, minutes from its open. */
int  co_feed_start_session(struct co_feed *f, const bb_session *s);
/* The minute being collected is complete. */
int  co_feed_minute_end(struct co_feed *f);
/* Store what was queued, then publish it in order. */
int  co_feed_flush(struct co_feed *f);
/* Was b's symbol and minute published in the open session? Mark it so. */
int  co_feed_published(const struct co_feed *f, const bb_bar *b);
void co_feed_mark(struct co_feed *f, const bb_bar *b);
/* After a restart: pick up the open session from the ring. */
int  co_feed_resume(struct co_feed *f);

int co_live_run(struct bb__bw *p, bb_store *st, const bb_calendar *cal,
                const struct co_live *lv, volatile sig_atomic_t *stop);

#endif /* CO_LIVE_H */
