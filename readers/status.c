/*
 * barbus-status: what a bus is doing, at a glance, for operators and
 * scripts.
 *
 * usage: barbus-status --bus NAME
 *
 * One "key value" line per figure, keys stable (a script greps them):
 * the coordinator (liveness, pid, epoch, mode), the session (date, state,
 * open, close, clock, stalled since, number, history held), every counter
 * of the control
 * segment, and the upkeep (liveness, state, session followed and last
 * done, totals, intervals, history kept). Exit 1 when there is no bus.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "barbus.h"

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

static void print_date(const char *key, int32_t date)
{
	if (date == 0)
		printf("%s -\n", key);
	else
		printf("%s %04d-%02d-%02d\n", key, date / 10000, date / 100 % 100,
		       date % 100);
}

static void print_time(const char *key, int64_t t, int set)
{
	char iso[32];

	if (!set) {
		printf("%s -\n", key);
		return;
	}
	bb_time_format(t, iso);
	printf("%s %s\n", key, iso);
}

static void coordinator(const bb_bus *b)
{
	bb_status st = { 0 };
	pid_t pid = 0;
	int ws = bb_bus_writer_state(b, &pid);

	printf("coordinator.writer %s\n", WORD(writer_words, ws));
	printf("coordinator.pid %d\n", (int)pid);
	printf("coordinator.epoch %" PRIu64 "\n", bb_bus_epoch(b));
	if (bb_bus_status(b, &st) != 0)
		return;
	printf("coordinator.mode %s\n", st.mode == BB_MODE_LIVE ? "live"
	       : st.mode == BB_MODE_BACKTEST ? "backtest" : "-");
	print_date("session.date", st.date);
	printf("session.state %s\n", WORD(state_words, st.state));
	print_time("session.open", st.open, st.date != 0);
	print_time("session.close", st.close, st.date != 0);
	print_time("session.clock", st.clock, st.date != 0 && st.clock >= st.open);
	print_time("session.stalled_since", st.stalled_since,
	           st.stalled_since != 0);
	printf("session.number %" PRIu64 "\n", st.sessions);
	printf("history.sessions %u\n", st.history);
	printf("symbols %u\n", bb_symbol_count(b));
	for (int c = 0; c < BB_CTR_COUNT; c++)
		printf("counter.%s %" PRIu64 "\n", counter_keys[c],
		       bb_bus_counter(b, c));
}

static void upkeep(const char *bus)
{
	bb_upkeep *u;
	bb_upkeep_info in;
	uint32_t iv[BB_UPKEEP_MAX_INTERVALS];
	pid_t pid = 0;

	if (bb_upkeep_open(&u, bus) != 0) {
		printf("upkeep.writer none\n");
		return;
	}
	int ws = bb_upkeep_writer_state(u, &pid);
	printf("upkeep.writer %s\n", WORD(writer_words, ws));
	printf("upkeep.pid %d\n", (int)pid);
	if (bb_upkeep_status(u, &in) == 0) {
		printf("upkeep.state %s\n", WORD(upkeep_words, in.state));
		print_date("upkeep.date", in.date);
		print_date("upkeep.done_date", in.done_date);
		printf("upkeep.sessions_done %" PRIu64 "\n", in.sessions_done);
		printf("upkeep.bars_seen %" PRIu64 "\n", in.bars_seen);
		printf("upkeep.fills %" PRIu64 "\n", in.fills);
		printf("upkeep.unfillable %" PRIu64 "\n", in.unfillable);
		printf("upkeep.lapped %" PRIu64 "\n", in.lapped);
	}
	size_t n = bb_upkeep_intervals(u, iv, BB_UPKEEP_MAX_INTERVALS);
	printf("upkeep.intervals ");
	for (size_t i = 0; i < n && i < BB_UPKEEP_MAX_INTERVALS; i++)
		printf("%s%um", i ? "," : "", iv[i]);
	printf("%s\n", n ? "" : "-");
	printf("upkeep.history_days %u\n", bb_upkeep_history_days(u));
	bb_upkeep_close(u);
}

int main(int argc, char **argv)
{
	bb_bus *b;

	if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		printf("usage: barbus-status --bus NAME\n"
		       "Prints what bus NAME is doing, one \"key value\" line per "
		       "figure.\n");
		return 0;
	}
	if (argc != 3 || strcmp(argv[1], "--bus") != 0 ||
	    bb_bus_name_check(argv[2]) != 0) {
		fprintf(stderr, "barbus-status: %s\nusage: barbus-status --bus "
		        "NAME\n", argc == 3 && strcmp(argv[1], "--bus") == 0
		        ? bb_strerror(BB_ENAME) : "--bus NAME is required");
		return 2;
	}
	int rc = bb_bus_open(&b, argv[2]);
	if (rc != 0) {
		fprintf(stderr, "barbus-status: bus %s: %s\n", argv[2], rc == ENOENT
		        ? "no such bus (no coordinator has made it)" : bb_strerror(rc));
		return 1;
	}
	/* A coordinator makes the ring last: without it the bus is half
	 * made (its creation failed, e.g. on a full /dev/shm). */
	bb_ring_reader *r;
	if ((rc = bb_ring_reader_open(&r, argv[2], BB_WAIT_SPIN, 0)) != 0) {
		fprintf(stderr, "barbus-status: bus %s: incomplete: ring: %s\n",
		        argv[2], rc == ENOENT ? "missing" : bb_strerror(rc));
		bb_bus_close(b);
		return 1;
	}
	bb_ring_reader_close(r);
	printf("bus %s\n", argv[2]);
	coordinator(b);
	upkeep(argv[2]);
	bb_bus_close(b);
	return 0;
}
