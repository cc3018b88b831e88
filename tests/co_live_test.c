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
static struct co_pub pub;
static struct co_feed feed;
static bb_ring_reader *rd;

#define HDR "symbol,timestamp,open,high,low,close,volume"

static void setup(void)
{
	static int n;
	uint32_t id;
	struct co_geom g = {
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
	co_pub_close(&pub);
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

Test(co_live, late_bar_is_stored_not_published)
{
	char k[64];
	bb_bar b;
	const char *l[] = { HDR, "AAA,2024-07-02T13:31:00Z,1,2,0.5,1.5,10",
	                    "ZZZ,2024-07-02T13:32:00Z,1,2,0.5,1.5,10",
	                    "AAA,2024-07-02T13:30:00Z,1,2,0.5,1.5,10", NULL };

	lines(l);
	kinds(k, sizeof(k));
	cr_assert(eq(str, k, "SMBMB"));
	cr_assert(eq(u64, ctr(BB_CTR_FEED_LATE), 1));
	cr_assert(eq(int, bb_store_get(st, 0, 1719927000, &b), 0));
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

Test(co_live, symbols_beyond_the_table_are_rejected)
{
	const char *l[] = { HDR, "BBB,2024-07-02T13:30:00Z,1,2,0.5,1.5,10",
	                    "CCC,2024-07-02T13:30:00Z,1,2,0.5,1.5,10",
	                    "DDD,2024-07-02T13:30:00Z,1,2,0.5,1.5,10", NULL };

	lines(l);
	fflush(stderr);
	cr_assert_stderr_eq_str("feed.csv:4: symbol DDD: "
	                        "table has no free row for this symbol\n");
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

Test(co_live, timeout_ends_the_session_as_timer_expired)
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
	/* A bar of the session that timed out is late now. */
	const char *l2[] = { "AAA,2024-07-02T13:40:00Z,1,2,0.5,1.5,10", NULL };
	lines(l2);
	cr_assert(eq(int, bb_ring_read(rd, &b, NULL), BB_EEMPTY));
	cr_assert(eq(u64, ctr(BB_CTR_FEED_LATE), 1));
}

Test(co_live, feed_file_ends_its_session_by_the_no_data_timeout)
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
