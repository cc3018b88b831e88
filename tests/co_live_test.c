/* co_live_test.c: live feed lines to bus actions, through co_feed_*. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <criterion/redirect.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../coordinator/live.h"
#include "seg.h"

static char bus[40], dir[64];
static bb_store *st;
static bb_calendar *cal;
static struct bb__bw pub;
static struct co_feed feed;
static bb_ring_reader *rd;

#define HDR "symbol,timestamp,open,high,low,close,volume"

static void setup(void)
{
	static int n;
	uint32_t id;
	struct bb__bw_geom g = {
		.max_symbols = 4, .table_symbols = 3, .rows = 390,
		.ring_capacity = 1 << 12, .heartbeat_ms = 100, .seg_mode = 0640,
		.mode = BB_MODE_LIVE,
	};

	snprintf(bus, sizeof(bus), "t-colive-%d-%d", (int)getpid(), n++);
	snprintf(dir, sizeof(dir), "/tmp/bb-colive-XXXXXX");
	cr_assert(mkdtemp(dir) != NULL);
	cr_assert(eq(int, bb_store_open(&st, dir, 0), 0));
	cr_assert(eq(int, bb_store_symbol_add(st, "AAA", &id), 0));
	cr_assert(eq(int, bb_calendar_load(&cal, "XNYS", NULL, 0), 0));
	cr_assert(eq(int, co_pub_open(&pub, bus, &g), 0));
	cr_assert(eq(int, co_pub_sync_symbols(&pub, st), 0));
	cr_assert(eq(int, bb_ring_reader_open(&rd, bus, BB_WAIT_SPIN, 0), 0));
	cr_assert(eq(int, co_feed_init(&feed, &pub, st, cal, "feed.csv"), 0));
	cr_redirect_stderr();
}

static void teardown(void)
{
	char cmd[128];
	const char *roles[] = { "ring", "wake", "control", "bars.1m" };

	co_feed_free(&feed);
	bb_ring_reader_close(rd);
	bb__bw_close(&pub);
	bb_store_close(st);
	bb_calendar_free(cal);
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		snprintf(cmd, sizeof(cmd), "/barbus.%s.%s", bus, roles[i]);
		shm_unlink(cmd);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert(eq(int, system(cmd), 0));
}

TestSuite(co_live, .init = setup, .fini = teardown, .timeout = 20);

static void lines(const char *const *l)
{
	for (; *l != NULL; l++)
		cr_assert(eq(int, co_feed_line(&feed, *l, strlen(*l)), 0));
	cr_assert(eq(int, co_feed_flush(&feed), 0));
}

/* The kinds of the records on the ring so far, as letters: S session
 * start, B bar, M minute end, E session end. */
static void kinds(char *out, size_t len)
{
	bb_bar b;
	size_t n = 0;

	while (n + 1 < len && bb_ring_read(rd, &b, NULL) == 0)
		out[n++] = "BMSE"[BB_KIND(b.flags)];
	out[n] = '\0';
}

/* Rows of AAA in the session table. */
static uint32_t aaa_rows(void)
{
	bb_table *t;
	uint32_t n;

	cr_assert(eq(int, bb_table_open(&t, bus, "bars.1m"), 0));
	n = bb_table_count(t, 0);
	bb_table_close(t);
	return n;
}

static uint64_t ctr(int c)
{
	return atomic_load(&pub.ctl->counters[c]);
}

Test(co_live, first_bar_opens_its_session)
{
	char k[64];
	const char *l[] = { HDR, "AAA,2024-07-02T13:30:00Z,1,2,0.5,1.5,10", NULL };

	lines(l);
	kinds(k, sizeof(k));
	cr_assert(eq(str, k, "SB"));
	cr_assert(eq(i32, pub.st.date, 20240702));
	cr_assert(eq(u32, pub.st.state, BB_STATE_OPEN));
}

Test(co_live, a_later_minute_ends_the_earlier_ones)
{
	char k[64];
	const char *l[] = { HDR, "AAA,2024-07-02T13:30:00Z,1,2,0.5,1.5,10",
	                    "AAA,2024-07-02T13:33:00Z,1,2,0.5,1.5,10", NULL };

	lines(l);
	kinds(k, sizeof(k));
	cr_assert(eq(str, k, "SBMMMB"));
	cr_assert(eq(i64, pub.st.clock, 1719927000 + 120));
}

Test(co_live, new_symbol_is_added_to_store_and_directory)
{
	uint32_t id;
	const char *l[] = { HDR, "ZZZ,2024-07-02T13:30:00Z,1,2,0.5,1.5,10", NULL };

	lines(l);
	cr_assert(eq(int, bb_store_symbol_id(st, "ZZZ", &id), 0));
	cr_assert(eq(u32, id, 1));
	cr_assert(eq(str, pub.ctl->names[1], "ZZZ"));
}

Test(co_live, published_bar_is_in_the_store)
{
	bb_bar b;
	const char *l[] = { HDR, "AAA,2024-07-02T13:30:00Z,1,2,0.5,1.5,10", NULL };

	lines(l);
	cr_assert(eq(int, bb_store_get(st, 0, 1719927000, &b), 0));
	cr_assert(eq(dbl, b.close, 1.5));
}

Test(co_live, duplicate_is_counted_not_published)
{
	char k[64];
	const char *l[] = { HDR, "AAA,2024-07-02T13:30:00Z,1,2,0.5,1.5,10",
	                    "AAA,2024-07-02T13:30:00Z,1,2,0.5,1.9,10", NULL };

	lines(l);
	kinds(k, sizeof(k));
	cr_assert(eq(str, k, "SB"));
	cr_assert(eq(u64, ctr(BB_CTR_FEED_DUPLICATES), 1));
}

/* The ring's records, every one. */
static size_t records(bb_bar *out, size_t max)
{
	size_t n = 0;

	while (n < max && bb_ring_read(rd, &out[n], NULL) == 0)
		n++;
	return n;
}

Test(co_live, late_bar_is_published_flagged_late_and_stored)
{
	bb_bar r[16], b;
	const char *l[] = { HDR, "AAA,2024-07-02T13:31:00Z,1,2,0.5,1.5,10",
	                    "ZZZ,2024-07-02T13:32:00Z,1,2,0.5,1.5,10",
	                    "AAA,2024-07-02T13:30:00Z,1,2,0.5,1.25,10", NULL };

	lines(l);
	cr_assert(eq(sz, records(r, 16), 6)); /* S M B M B B */
	cr_assert(eq(u32, BB_KIND(r[5].flags), BB_KIND_BAR));
	cr_assert(eq(u32, r[5].flags, BB_BAR_LATE));
	cr_assert(eq(i64, r[5].time, 1719927000));
	cr_assert(eq(dbl, r[5].close, 1.25));
	cr_assert(eq(u32, r[3].flags & BB_BAR_LATE, 0)); /* on time: not late */
	cr_assert(eq(u64, ctr(BB_CTR_FEED_LATE), 1));
	cr_assert(eq(u64, ctr(BB_CTR_BARS), 3));
	cr_assert(eq(int, bb_store_get(st, 0, 1719927000, &b), 0));
	cr_assert(eq(dbl, b.close, 1.25));
}

Test(co_live, late_bar_is_appended_to_the_session_table_in_arrival_order)
{
	bb_table *t;
	bb_bar b[4];
	size_t got;
	const char *l[] = { HDR, "AAA,2024-07-02T13:31:00Z,1,2,0.5,1.5,10",
	                    "AAA,2024-07-02T13:32:00Z,1,2,0.5,1.5,10",
	                    "AAA,2024-07-02T13:30:00Z,1,2,0.5,1.5,10", NULL };

	lines(l);
	cr_assert(eq(int, bb_table_open(&t, bus, "bars.1m"), 0));
	cr_assert(eq(int, bb_table_last_n(t, 0, b, 4, &got), 0));
	bb_table_close(t);
	cr_assert(eq(sz, got, 3));
	cr_assert(eq(i64, b[0].time, 1719927060));
	cr_assert(eq(i64, b[1].time, 1719927120));
	cr_assert(eq(i64, b[2].time, 1719927000));
	cr_assert(eq(u32, b[2].flags, BB_BAR_LATE));
}

Test(co_live, late_bar_does_not_count_in_the_current_minute)
{
	bb_bar r[16];
	const char *l[] = { HDR, "AAA,2024-07-02T13:31:00Z,1,2,0.5,1.5,10",
	                    "AAA,2024-07-02T13:30:00Z,1,2,0.5,1.5,10",
	                    "AAA,2024-07-02T13:32:00Z,1,2,0.5,1.5,10", NULL };

	lines(l);
	cr_assert(eq(sz, records(r, 16), 6)); /* S M B B M B */
	cr_assert(eq(u32, BB_KIND(r[4].flags), BB_KIND_MINUTE_END));
	cr_assert(eq(i64, r[4].time, 1719927060));
	cr_assert(eq(dbl, r[4].volume, 1)); /* 13:31's one bar, not the late */
}

Test(co_live, a_late_bar_sent_twice_is_a_duplicate_the_second_time)
{
	char k[64];
	const char *l[] = { HDR, "AAA,2024-07-02T13:31:00Z,1,2,0.5,1.5,10",
	                    "AAA,2024-07-02T13:30:00Z,1,2,0.5,1.5,10",
	                    "AAA,2024-07-02T13:30:00Z,1,2,0.5,1.5,10", NULL };

	lines(l);
	kinds(k, sizeof(k));
	cr_assert(eq(str, k, "SMBB"));
	cr_assert(eq(u64, ctr(BB_CTR_FEED_LATE), 1));
	cr_assert(eq(u64, ctr(BB_CTR_FEED_DUPLICATES), 1));
}

Test(co_live, duplicates_are_told_once_per_minute)
{
	const char *l[] = { HDR, "AAA,2024-07-02T13:30:00Z,1,2,0.5,1.5,10",
	                    "AAA,2024-07-02T13:30:00Z,1,2,0.5,1.5,10",
	                    "AAA,2024-07-02T13:30:00Z,1,2,0.5,1.5,10",
	                    "AAA,2024-07-02T13:31:00Z,1,2,0.5,1.5,10",
	                    "AAA,2024-07-02T13:31:00Z,1,2,0.5,1.5,10", NULL };

	lines(l);
	fflush(stderr);
	cr_assert_stderr_eq_str(
	    "feed.csv:3: AAA 2024-07-02T13:30:00Z: already published, duplicate "
	    "dropped (others of this minute are only counted)\n"
	    "feed.csv:6: AAA 2024-07-02T13:31:00Z: already published, duplicate "
	    "dropped (others of this minute are only counted)\n");
	cr_assert(eq(u64, ctr(BB_CTR_FEED_DUPLICATES), 3));
}

Test(co_live, symbol_major_feed_is_told_once_to_be_in_time_order)
{
	char line[128];
	const char *h = HDR;

	cr_assert(eq(int, co_feed_line(&feed, h, strlen(h)), 0));
	/* As barbus-export writes: every minute of AAA, then of ZZZ. */
	for (int s = 0; s < 2; s++)
		for (int m = 0; m < 150; m++) {
			char iso[24];
			bb_time_format(1719927000 + 60 * m, iso);
			int n = snprintf(line, sizeof(line), "%s,%s,1,2,0.5,1.5,10",
			                 s ? "ZZZ" : "AAA", iso);
			cr_assert(eq(int, co_feed_line(&feed, line, (size_t)n), 0));
		}
	cr_assert(eq(int, co_feed_flush(&feed), 0));
	fflush(stderr);
	/* ZZZ's first bar is line 152; its 100th late bar line 251. */
	cr_assert_stderr_eq_str(
	    "feed.csv:251: 100 bars in a row older than the feed clock: the feed "
	    "is not in time order (symbol-major, as barbus-export writes?). A "
	    "live feed must be in time order across symbols; these bars are "
	    "published late (counters feed_late, feed_backwards)\n");
	cr_assert(eq(u64, ctr(BB_CTR_FEED_BACKWARDS), 1));
	cr_assert(eq(u64, ctr(BB_CTR_FEED_LATE), 149));
	cr_assert(eq(u64, ctr(BB_CTR_BARS), 300));
}

Test(co_live, bar_outside_every_session_is_rejected_with_its_line)
{
	const char *l[] = { HDR, "AAA,2024-07-04T14:00:00Z,1,2,0.5,1.5,10", NULL };

	lines(l);
	fflush(stderr);
	cr_assert_stderr_eq_str(
	    "feed.csv:2: bar outside every trading session of the calendar\n");
	cr_assert(eq(u64, ctr(BB_CTR_FEED_BAD), 1));
}

Test(co_live, unparsable_line_is_rejected_and_the_next_one_kept)
{
	char k[64];
	const char *l[] = { HDR, "AAA,2024-07-02T13:30:00Z,1,2,x,1.5,10",
	                    "AAA,2024-07-02T13:30:00Z,1,2,0.5,1.5,10", NULL };

	lines(l);
	kinds(k, sizeof(k));
	cr_assert(eq(str, k, "SB"));
	cr_assert(eq(u64, ctr(BB_CTR_FEED_BAD), 1));
	cr_assert(eq(u64, ctr(BB_CTR_FEED_LINES), 3));
}

Test(co_live, missing_header_is_fatal)
{
	const char *l = "AAA,2024-07-02T13:30:00Z,1,2,0.5,1.5,10";

	cr_assert(eq(int, co_feed_line(&feed, l, strlen(l)), BB_EINVAL));
}

Test(co_live, symbol_beyond_the_room_is_rejected_before_it_is_stored)
{
	uint32_t id, n;
	char k[64];
	const char *l[] = { HDR, "BBB,2024-07-02T13:30:00Z,1,2,0.5,1.5,10",
	                    "CCC,2024-07-02T13:30:00Z,1,2,0.5,1.5,10",
	                    "DDD,2024-07-02T13:30:00Z,1,2,0.5,1.5,10",
	                    "DDD,2024-07-02T13:31:00Z,1,2,0.5,1.5,10", NULL };

	lines(l);
	fflush(stderr);
	cr_assert_stderr_eq_str("feed.csv:4: symbol DDD rejected, nothing stored: "
	                        "the bus has 3 symbols and the tables have room "
	                        "for 3 symbols (max-symbols 4); restart the "
	                        "coordinator to size them anew\n");
	cr_assert(eq(int, bb_store_symbol_id(st, "DDD", &id), BB_ENOTFOUND));
	cr_assert(eq(int, bb_store_symbol_count(st, &n), 0));
	cr_assert(eq(u32, n, 3));
	cr_assert(eq(u32, bb__ctl_nsym(pub.ctl), 3));
	cr_assert(eq(u64, ctr(BB_CTR_SYMBOLS_REJECTED), 2));
	kinds(k, sizeof(k));
	cr_assert(eq(str, k, "SBB")); /* DDD's 13:31 ended no minute */
}

Test(co_live, symbol_beyond_max_symbols_names_the_setting)
{
	const char *l[] = { HDR, "BBB,2024-07-02T13:30:00Z,1,2,0.5,1.5,10",
	                    "CCC,2024-07-02T13:30:00Z,1,2,0.5,1.5,10", NULL };

	pub.g.table_symbols = 4; /* as if the tables had room for more */
	pub.g.max_symbols = 2;
	lines(l);
	fflush(stderr);
	cr_assert_stderr_eq_str("feed.csv:3: symbol CCC rejected, nothing stored: "
	                        "the bus has 2 symbols and max-symbols 2 "
	                        "reached; restart the coordinator with a larger "
	                        "--max-symbols\n");
}

Test(co_live, bar_after_the_close_ends_the_session_and_opens_the_next)
{
	char k[1024];
	const char *l[] = { HDR, "AAA,2024-07-03T16:59:00Z,1,2,0.5,1.5,10",
	                    "AAA,2024-07-05T13:30:00Z,1,2,0.5,1.5,10", NULL };

	lines(l);
	kinds(k, sizeof(k));
	/* 2024-07-03 closes early at 17:00Z: its last minute ends, then E. */
	cr_assert(eq(str, k + strlen(k) - 5, "BMESB"));
	cr_assert(eq(i32, pub.st.date, 20240705));
}

Test(co_live, bar_of_a_session_already_ended_is_stored_not_published)
{
	char k[64];
	bb_bar b;
	const char *l[] = { HDR, "AAA,2024-07-02T13:30:00Z,1,2,0.5,1.5,10", NULL };

	lines(l);
	cr_assert(eq(int, co_feed_close_session(&feed, BB_END_TIMEOUT), 0));
	cr_assert(eq(int, co_feed_flush(&feed), 0));
	kinds(k, sizeof(k));
	cr_assert(eq(str, k, "SBME"));
	cr_assert(eq(u32, pub.st.state, BB_STATE_TIMER_EXPIRED));
	const char *l2[] = { "AAA,2024-07-02T13:40:00Z,1,2,0.5,1.5,10", NULL };
	lines(l2);
	cr_assert(eq(int, bb_ring_read(rd, &b, NULL), BB_EEMPTY));
	cr_assert(eq(u64, ctr(BB_CTR_FEED_STALE), 1));
	cr_assert(eq(u64, ctr(BB_CTR_FEED_LATE), 0));
	cr_assert(eq(int, bb_store_get(st, 0, 1719927600, &b), 0));
}

Test(co_live, feed_file_ends_its_session_at_its_end_after_the_timeout)
{
	char path[] = "/tmp/bb-feed-XXXXXX", k[64];
	struct co_live lv = { .feed = path, .feed_clock = 1,
	                      .no_data_timeout_s = 1 };
	volatile sig_atomic_t stop = 0;
	bb_bar b;
	int fd = mkstemp(path);
	const char *text = HDR "\n"
	    "AAA,2024-07-02T13:30:00Z,1,2,0.5,1.5,10\n"
	    "AAA,2024-07-02T13:31:00Z,1,2,0.5,1.5,10\n";

	cr_assert(ge(int, fd, 0));
	cr_assert(eq(sz, (size_t)write(fd, text, strlen(text)), strlen(text)));
	close(fd);
	int64_t t0 = bb__mono_ns();
	cr_assert(eq(int, co_live_run(&pub, st, cal, &lv, &stop), 0));
	unlink(path);
	/* It waited the timeout after the last line, then returned. */
	cr_assert(ge(i64, bb__mono_ns() - t0, 1000000000));
	kinds(k, sizeof(k));
	cr_assert(eq(str, k, "SBMBME"));
	cr_assert(eq(u32, pub.st.state, BB_STATE_TIMER_EXPIRED));
	(void)b;
}

Test(co_live, restart_resumes_the_session_and_drops_what_was_published)
{
	char k[64];
	struct bb__bw_geom g = pub.g;
	const char *l[] = { HDR, "AAA,2024-07-02T13:30:00Z,1,2,0.5,1.5,10",
	                    "AAA,2024-07-02T13:31:00Z,1,2,0.5,1.5,10", NULL };
	const char *again[] = { HDR, "AAA,2024-07-02T13:30:00Z,1,2,0.5,1.5,10",
	                        "AAA,2024-07-02T13:31:00Z,1,2,0.5,1.5,10",
	                        "AAA,2024-07-02T13:32:00Z,1,2,0.5,1.5,10", NULL };

	lines(l);
	kinds(k, sizeof(k));
	cr_assert(eq(str, k, "SBMB"));
	co_feed_free(&feed); /* as if killed: segments stay */
	bb__bw_close(&pub);
	cr_assert(eq(int, co_pub_open(&pub, bus, &g), 0));
	cr_assert(eq(int, co_feed_init(&feed, &pub, st, cal, "feed.csv"), 0));
	cr_assert(eq(int, co_feed_resume(&feed), 0));
	lines(again);
	kinds(k, sizeof(k));
	cr_assert(eq(str, k, "MB")); /* 13:31 ends, 13:32's bar; no START */
	cr_assert(eq(u64, ctr(BB_CTR_FEED_DUPLICATES), 2));
	cr_assert(eq(u64, ctr(BB_CTR_BARS), 3));
	cr_assert(eq(u32, aaa_rows(), 3));
}
