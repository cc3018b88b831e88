/*
 * barbus-coordinator: the bus's only writer of the ring, the control
 * segment, the session table and history. Backtest replays the store;
 * live ingests a feed. See docs/operations.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backtest.h"
#include "config.h"
#include "live.h"
#include "log.h"
#include "publish.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* Longest session of cal in [from, to], in minutes (at least 1). */
static uint32_t session_minutes(const bb_calendar *cal, int32_t from, int32_t to)
{
	bb_session s;
	int64_t most = 1;

	for (int32_t d = from; bb_calendar_next(cal, d, &s) == 0 && s.date <= to;
	     d = bb_days_to_date(bb_date_to_days(s.date) + 1))
		if ((s.close - s.open) / 60 > most)
			most = (s.close - s.open) / 60;
	return (uint32_t)most;
}

/* Dates the run may touch: history before `from` and a year of live. */
static void span(const struct co_config *c, const bb_calendar *cal,
                 int32_t *from, int32_t *to)
{
	bb_session s = { 0 };
	int64_t now = c->clock_start ? c->clock_start : (int64_t)time(NULL);
	int32_t today = bb_days_to_date(now / 86400);

	*from = c->mode == BB_MODE_BACKTEST ? c->from : today;
	*to = c->mode == BB_MODE_BACKTEST ? c->to
	      : bb_days_to_date(bb_date_to_days(today) + 366);
	for (uint32_t i = 0; i < c->history_days; i++)
		if (bb_calendar_prev(cal, *from, &s) == 0)
			*from = s.date;
}

static int geometry(const struct co_config *c, const bb_calendar *cal,
                    bb_store *st, struct bb__bw_geom *g)
{
	uint32_t n;
	int32_t from, to;
	int rc = bb_store_symbol_count(st, &n);

	if (rc != 0)
		return rc;
	span(c, cal, &from, &to);
	*g = (struct bb__bw_geom){
		.max_symbols = c->max_symbols,
		.table_symbols = n,
		.rows = session_minutes(cal, from, to),
		.history = c->history_days,
		.ring_capacity = c->ring_capacity,
		.heartbeat_ms = c->heartbeat_ms,
		.seg_mode = c->segment_mode,
		.seg_group = c->segment_group,
		.mode = (uint32_t)c->mode,
	};
	if (c->mode == BB_MODE_LIVE) /* room for symbols the feed brings */
		g->table_symbols = n + 256 > n * 5 / 4 ? n + 256 : n * 5 / 4;
	if (g->table_symbols > c->max_symbols)
		g->table_symbols = c->max_symbols;
	if (g->table_symbols == 0)
		g->table_symbols = 1;
	return n > c->max_symbols ? BB_EFULL : 0;
}

/* Store ids of the --symbols list; *ids NULL for all symbols. */
static int symbol_ids(const struct co_config *c, bb_store *st, uint32_t **ids)
{
	*ids = NULL;
	if (c->nsymbols == 0)
		return 0;
	*ids = calloc(c->nsymbols, sizeof(**ids));
	if (*ids == NULL)
		return ENOMEM;
	for (size_t i = 0; i < c->nsymbols; i++) {
		int rc = bb_store_symbol_id(st, c->symbols[i], &(*ids)[i]);
		if (rc != 0) {
			bb__log(BB__LOG_ERR, "--symbols: %s: not in "
			        "the store %s", c->symbols[i], c->db);
			return rc;
		}
	}
	return 0;
}

static int run(const struct co_config *c, struct bb__bw *p, bb_store *st,
               const bb_calendar *cal)
{
	uint32_t *ids;
	int rc;

	if (c->mode == BB_MODE_LIVE) {
		struct co_live lv = {
			.feed = c->feed, .feed_clock = c->clock == CO_CLOCK_FEED,
			.no_data_timeout_s = c->no_data_timeout_s, .grace_ms = c->grace_ms,
			.clock_start = c->clock_start, .clock_rate = c->clock_rate,
			.clock_epoch_ms = c->clock_epoch_ms,
		};
		return co_live_run(p, st, cal, &lv, &stop);
	}
	if ((rc = symbol_ids(c, st, &ids)) != 0)
		return rc;
	struct co_handshake hs = { .bus = c->bus, .wait_ms = c->upkeep_wait_ms };
	struct co_backtest bt = {
		.from = c->from, .to = c->to, .syms = ids, .nsyms = c->nsymbols,
		.pace = c->speed == CO_SPEED_MAX ? CO_PACE_MAX : CO_PACE_FACTOR,
		.factor = c->speed == CO_SPEED_REALTIME ? 1.0 : c->speed_factor,
		.upkeep = &hs,
	};
	rc = co_backtest_run(p, st, cal, &bt, &stop);
	co_handshake_close(&hs);
	free(ids);
	return rc;
}

static void report(const struct co_config *c, const struct bb__bw *p)
{
	bb__log(BB__LOG_NOTICE, "bus %s: %llu bars, %llu sessions, "
	        "prefetch %llu hit / %llu missed, max transition %.3f ms%s",
	        c->bus, (unsigned long long)bb__bw_counter(p, BB_CTR_BARS),
	        (unsigned long long)bb__bw_started(p),
	        (unsigned long long)bb__bw_counter(p, BB_CTR_PREFETCH_HITS),
	        (unsigned long long)bb__bw_counter(p, BB_CTR_PREFETCH_MISSES),
	        (double)bb__bw_counter(p, BB_CTR_TRANSITION_MAX_NS) / 1e6,
	        stop ? " (stopped by signal)" : "");
}

/* Live: the feed must be there and readable before any segment is made
 * or replaced; 0, or 1 after a message naming it. */
static int feed_check(const struct co_config *c)
{
	struct stat sb;
	const char *why = NULL;

	if (c->mode != BB_MODE_LIVE || strcmp(c->feed, "-") == 0)
		return 0;
	if (stat(c->feed, &sb) != 0)
		why = strerror(errno);
	else if (!S_ISREG(sb.st_mode) && !S_ISFIFO(sb.st_mode) &&
	         !S_ISCHR(sb.st_mode) && !S_ISSOCK(sb.st_mode))
		why = "not a file, FIFO or character device";
	else if (access(c->feed, R_OK) != 0)
		why = strerror(errno);
	if (why == NULL)
		return 0;
	bb__log(BB__LOG_ERR, "feed %s: %s (nothing was done to "
	        "bus %s)", c->feed, why, c->bus);
	return 1;
}

/* The store has more symbols than the bus may hold: say both numbers. */
static void too_many(const struct co_config *c, bb_store *st)
{
	uint32_t n = 0;

	bb_store_symbol_count(st, &n);
	bb__log(BB__LOG_ERR, "bus %s: the store %s has %u "
	        "symbols, more than max-symbols %u; raise --max-symbols (or "
	        "max-symbols in [coordinator]) to at least %u", c->bus, c->db,
	        n, c->max_symbols, n);
}

/* Open store, calendar and bus; 0 or an exit status after a message. */
static int setup(const struct co_config *c, bb_store **st, bb_calendar **cal,
                 struct bb__bw *p)
{
	char err[512] = "";
	struct bb__bw_geom g;
	int rc = bb_store_open(st, c->db, c->mode == BB_MODE_LIVE ? 0
	                                  : BB_STORE_RDONLY);

	if (rc != 0) {
		bb__log(BB__LOG_ERR, "store %s: %s", c->db,
		        bb_strerror(rc));
		return 1;
	}
	if ((rc = bb_calendar_load(cal, c->calendar, err, sizeof(err))) != 0) {
		bb__log(BB__LOG_ERR, "calendar %s: %s",
		        c->calendar, err[0] ? err : bb_strerror(rc));
		return 1;
	}
	if (c->mode == BB_MODE_BACKTEST &&
	    co_backtest_range_check(*cal, c->from, c->to) != 0) {
		fprintf(stderr, "barbus-coordinator: --from %04d-%02d-%02d --to "
		        "%04d-%02d-%02d: no session of calendar %s in that range; "
		        "nothing done\n", c->from / 10000, c->from / 100 % 100,
		        c->from % 100, c->to / 10000, c->to / 100 % 100, c->to % 100,
		        c->calendar);
		return 1;
	}
	if ((rc = geometry(c, *cal, *st, &g)) == 0 &&
	    (rc = co_pub_open(p, c->bus, &g)) == 0)
		rc = co_pub_sync_symbols(p, *st);
	if (rc == BB_EFULL) {
		too_many(c, *st);
		return 1;
	}
	if (rc != 0) {
		bb__log(BB__LOG_ERR, "bus %s: %s", c->bus,
		        rc == BB_EBUSY ? "another coordinator is running on it"
		                       : bb_strerror(rc));
		return 1;
	}
	return 0;
}

/* Segments adopted, repaired, replaced or refused: one line each. */
static void seg_note(void *arg, const char *line)
{
	(void)arg;
	bb__log(BB__LOG_WARNING, "%s", line);
}

int main(int argc, char **argv)
{
	struct co_config c;
	struct bb__bw p = { 0 };
	bb_store *st = NULL;
	bb_calendar *cal = NULL;
	char err[512];
	int rc = co_config_parse(&c, argc, argv, err, sizeof(err));

	bb_seg_notify_set(seg_note, NULL);

	if (rc == 1)
		return 0; /* --help */
	if (rc != 0) {
		fprintf(stderr, "barbus-coordinator: %s\n", err);
		return 2;
	}
	bb__log_setup("barbus-coordinator", c.log_level, stderr);
	catch_signals();
	/* Sleeps as asked: a boundary's nap on the upkeep (handshake.c) of
	 * 20 us took 90 with the default 50 us of slack, 40 without. */
	prctl(PR_SET_TIMERSLACK, 1UL);
	int status = feed_check(&c);
	if (status == 0)
		status = setup(&c, &st, &cal, &p);
	if (status == 0) {
		rc = run(&c, &p, st, cal);
		if (rc != 0) {
			bb__log(BB__LOG_ERR, "bus %s: %s", c.bus,
			        bb_strerror(rc));
			status = 1;
		}
		report(&c, &p);
	}
	bb__bw_close(&p);
	bb_calendar_free(cal);
	bb_store_close(st);
	co_config_free(&c);
	return status;
}
