/*
 * feed.c: the live coordinator's feed lines (coordinator/feed.c,
 * co_feed_line) with everything behind them: a fresh bus and bar store per
 * input (the store in a directory under /dev/shm, removed after), the XNYS
 * calendar. The input is the feed: its lines, the first being the header,
 * each handed over in a buffer of exactly its length and flushed at once.
 * After each line the ring is read and what the bus published must obey
 * the live rules (docs/operations.md):
 *   - bars only inside a session, each in [open, close) on a whole minute,
 *     of a symbol the session table holds;
 *   - minute ends one minute apart from the session's open on, and no bar
 *     of a minute already ended (a late bar is stored, never published);
 *   - per symbol, bar times strictly increase within a session.
 * Bad lines are reported on stderr by the coordinator and skipped.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../coordinator/live.h"
#include "fuzz.h"

#define NSYM      3
#define LINES_MAX 256

static const char *const seg_roles[] = {
	"ring", "wake", "control", "bars.1m", "hist.0", "hist.1",
};

/* What the ring has shown so far. */
/* Minutes of a session whose bars are checked for duplicates. */
#define SEEN_MINUTES 1440

struct watch {
	int     in;              /* inside a session */
	int64_t open, close, ended; /* ended: the last minute ended */
	int64_t last[NSYM];      /* per symbol: the last on-time bar's time */
	uint8_t seen[NSYM][SEEN_MINUTES]; /* per symbol and minute: published */
};

struct rig {
	char                bus[40], dir[64];
	bb_store           *st;
	const bb_calendar  *cal;
	struct bb__bw       pub;
	struct co_feed      feed;
	bb_ring_reader     *rd;
};

static const bb_calendar *calendar(void)
{
	static bb_calendar *cal;

	if (cal == NULL)
		FUZZ_CHECK(bb_calendar_load(&cal, "XNYS", NULL, 0) == 0);
	return cal;
}

/* One line publishes at most two sessions' minute ends (390 each), a
 * session end and start and its bar: a ring of 1024 is never lapped
 * between two drains. */
static void rig_open(struct rig *r)
{
	struct bb__bw_geom g = {
		.max_symbols = NSYM + 1, .table_symbols = NSYM, .rows = 390,
		.history = 1, .ring_capacity = 1024, .heartbeat_ms = 100,
		.seg_mode = 0600, .mode = BB_MODE_LIVE,
	};
	uint32_t id;

	memset(r, 0, sizeof(*r));
	snprintf(r->bus, sizeof(r->bus), "fuzz-feed-%d", (int)getpid());
	snprintf(r->dir, sizeof(r->dir), "/dev/shm/fuzz-feed-%d-XXXXXX",
	         (int)getpid());
	FUZZ_CHECK(mkdtemp(r->dir) != NULL);
	FUZZ_CHECK(bb_store_open(&r->st, r->dir, 0) == 0);
	FUZZ_CHECK(bb_store_symbol_add(r->st, "AAA", &id) == 0);
	r->cal = calendar();
	FUZZ_CHECK(co_pub_open(&r->pub, r->bus, &g) == 0);
	FUZZ_CHECK(co_pub_sync_symbols(&r->pub, r->st) == 0);
	FUZZ_CHECK(bb_ring_reader_open(&r->rd, r->bus, BB_WAIT_SPIN, 0) == 0);
	FUZZ_CHECK(co_feed_init(&r->feed, &r->pub, r->st, r->cal, "feed") == 0);
}

static void rig_close(struct rig *r)
{
	char path[128];

	co_feed_free(&r->feed);
	bb_ring_reader_close(r->rd);
	bb__bw_close(&r->pub);
	bb_store_close(r->st);
	for (size_t i = 0; i < sizeof(seg_roles) / sizeof(seg_roles[0]); i++) {
		snprintf(path, sizeof(path), "/barbus.%s.%s", r->bus, seg_roles[i]);
		shm_unlink(path);
	}
	const char *files[] = { "data.mdb", "lock.mdb" };
	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", r->dir, files[i]);
		unlink(path);
	}
	FUZZ_CHECK(rmdir(r->dir) == 0);
}

static void watch_bar(struct watch *w, const bb_bar *b)
{
	FUZZ_CHECK(w->in);
	FUZZ_CHECK(b->symbol < NSYM);
	FUZZ_CHECK(b->time % 60 == 0);
	FUZZ_CHECK(b->time >= w->open && b->time < w->close);
	/* A late bar (its minute already ended) is flagged so; each symbol
	 * and minute is published once. */
	int late = (b->flags & BB_BAR_LATE) != 0;
	FUZZ_CHECK(late == (b->time <= w->ended));
	int64_t k = (b->time - w->open) / 60;
	if (k < SEEN_MINUTES) {
		FUZZ_CHECK(!w->seen[b->symbol][k]);
		w->seen[b->symbol][k] = 1;
	}
	if (!late) {
		FUZZ_CHECK(b->time > w->last[b->symbol]);
		w->last[b->symbol] = b->time;
	}
}

static void watch_record(struct watch *w, const bb_bar *b)
{
	bb_session s;
	int reason;

	switch (BB_KIND(b->flags)) {
	case BB_KIND_BAR:
		watch_bar(w, b);
		break;
	case BB_KIND_MINUTE_END:
		FUZZ_CHECK(w->in && b->time == w->ended + 60);
		FUZZ_CHECK(b->time < w->close);
		w->ended = b->time;
		break;
	case BB_KIND_SESSION_START:
		FUZZ_CHECK(!w->in);
		FUZZ_CHECK(bb_event_session_get(b, &s, &reason) == 0);
		FUZZ_CHECK(s.open < s.close);
		*w = (struct watch){ .in = 1, .open = s.open, .close = s.close,
		                     .ended = s.open - 60 };
		for (int i = 0; i < NSYM; i++)
			w->last[i] = INT64_MIN;
		break;
	case BB_KIND_SESSION_END:
		FUZZ_CHECK(w->in);
		w->in = 0;
		break;
	default:
		FUZZ_CHECK(!"a record of an unknown kind");
	}
}

/* Everything published since the last call; the ring is never lapped. */
static void drain(struct rig *r, struct watch *w)
{
	bb_bar b;
	int rc;

	while ((rc = bb_ring_read(r->rd, &b, NULL)) == 0)
		watch_record(w, &b);
	FUZZ_CHECK(rc == BB_EEMPTY);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *end = s + size;
	struct watch w = { 0 };
	struct rig r;

	rig_open(&r);
	for (int n = 0; s < end && n < LINES_MAX; n++) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t len = nl ? (size_t)(nl - s) : (size_t)(end - s);
		char *line = malloc(len ? len : 1);
		FUZZ_CHECK(line != NULL);
		memcpy(line, s, len);
		int rc = co_feed_line(&r.feed, line, len);
		free(line);
		if (rc == BB_EINVAL) /* no header: the feed cannot be read */
			break;
		FUZZ_CHECK(rc == 0);
		FUZZ_CHECK(co_feed_flush(&r.feed) == 0);
		drain(&r, &w);
		s = nl ? nl + 1 : end;
	}
	rig_close(&r);
	return 0;
}
