/*
 * status_snap.h: barbus-status's snapshot of a bus (everything it shows,
 * read once per interval) and the growable text buffer its outputs are
 * rendered into. Included by readers/status.c only (one program per file).
 */
#ifndef BB_STATUS_SNAP_H
#define BB_STATUS_SNAP_H

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "barbus.h"

#define PROG "barbus-status"
#define SNAP_WHY_MAX 512

/* ---- a growable buffer ---------------------------------------------- */

struct sbuf {
	char  *p;
	size_t n, cap;
	int    oom;
};

__attribute__((format(printf, 2, 3)))
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;

	for (int pass = 0; pass < 2 && !b->oom; pass++) {
		va_start(ap, fmt);
		int n = vsnprintf(b->p ? b->p + b->n : NULL,
		                  b->p ? b->cap - b->n : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (b->p != NULL && b->n + (size_t)n < b->cap) {
			b->n += (size_t)n;
			return;
		}
		size_t cap = (b->cap ? b->cap : 4096);
		while (cap <= b->n + (size_t)n)
			cap *= 2;
		char *q = realloc(b->p, cap);
		if (q == NULL) {
			b->oom = 1;
			return;
		}
		b->p = q;
		b->cap = cap;
	}
}

static void sb_reset(struct sbuf *b)
{
	b->n = 0;
	if (b->p != NULL)
		b->p[0] = '\0';
}

static void sb_free(struct sbuf *b)
{
	free(b->p);
	*b = (struct sbuf){ 0 };
}

/* ---- the snapshot ---------------------------------------------------- */

struct symq {
	char       name[BB_SYMBOL_MAX + 1];
	bb_quality q;
};

enum verdict { V_HEALTHY = 0, V_NOBUS = 1, V_DEGRADED = 3 };

struct snap {
	const char  *bus;
	int64_t      wall;        /* UTC seconds when read */
	int          verdict;     /* enum verdict */
	char         why[SNAP_WHY_MAX];
	/* coordinator */
	bb_seg_info  coord;
	int          have_status;
	bb_status    st;
	uint64_t     ctr[BB_CTR_COUNT];
	uint32_t     nsym;
	/* ring */
	int          have_ring;
	bb_ring_info ring;
	double       rate;        /* records/s over the last interval; <0: - */
	/* upkeep */
	int          have_upkeep; /* its status segment exists */
	bb_seg_info  up;
	int          have_info;
	bb_upkeep_info ui;
	uint32_t     iv[BB_UPKEEP_MAX_INTERVALS];
	size_t       niv;
	uint32_t     hdays;
	/* quality: the worst symbols first */
	uint32_t     nquality;    /* symbols with a quality figure */
	struct symq *worst;       /* owned */
	size_t       nworst;
};

static const char *const run_words[] = { "damaged", "running", "stuck",
	"stopped", "crashed" };
static const char *const writer_words[] = { "alive", "stuck", "dead" };
static const char *const state_words[] = { "none", "preopen", "open",
	"ended", "timer-expired", "done" };
static const char *const upkeep_words[] = { "waiting", "following", "idle",
	"exited" };
static const char *const counter_keys[BB_CTR_COUNT] = {
	[BB_CTR_BARS] = "bars", [BB_CTR_MINUTES] = "minutes",
	[BB_CTR_PREFETCH_HITS] = "prefetch_hits",
	[BB_CTR_PREFETCH_MISSES] = "prefetch_misses",
	[BB_CTR_TRANSITION_NS] = "transition_ns",
	[BB_CTR_TRANSITION_MAX_NS] = "transition_max_ns",
	[BB_CTR_UPKEEP_WAITS] = "upkeep_waits",
	[BB_CTR_UPKEEP_TIMEOUTS] = "upkeep_timeouts",
	[BB_CTR_FEED_LINES] = "feed_lines", [BB_CTR_FEED_BAD] = "feed_bad",
	[BB_CTR_FEED_LATE] = "feed_late",
	[BB_CTR_FEED_DUPLICATES] = "feed_duplicates",
	[BB_CTR_STORE_ERRORS] = "store_errors",
	[BB_CTR_RESTARTS] = "restarts", [BB_CTR_STALLS] = "stalls",
	[BB_CTR_FEED_STALE] = "feed_stale",
	[BB_CTR_FEED_BACKWARDS] = "feed_backwards",
	[BB_CTR_SYMBOLS_REJECTED] = "symbols_rejected",
	[BB_CTR_EMPTY_SESSIONS] = "empty_sessions",
	[BB_CTR_REPLAYED_SYMBOLS] = "replayed_symbols",
};

#define WORD(tab, i) ((size_t)(i) < sizeof(tab) / sizeof(tab[0]) ? tab[i] \
                                                                : "unknown")

/* A writer's word: the segment's run, "damaged" when unreadable. */
static const char *run_word(const bb_seg_info *in)
{
	return in->err ? "damaged" : WORD(run_words, in->run);
}

static int run_live(const bb_seg_info *in)
{
	return in->err == 0 &&
	       (in->run == BB_RUN_RUNNING || in->run == BB_RUN_STUCK);
}

/* The upkeep's state as shown: its own word while it lives or after a
 * clean stop, "crashed" when it died without closing (its segment still
 * says what it was doing then: last_state). */
static const char *upkeep_state(const struct snap *s)
{
	if (s->up.err == 0 && s->up.run == BB_RUN_CRASHED)
		return "crashed";
	return WORD(upkeep_words, s->ui.state);
}

static void snap_free(struct snap *s)
{
	free(s->worst);
	s->worst = NULL;
	s->nworst = 0;
}

#endif /* BB_STATUS_SNAP_H */
