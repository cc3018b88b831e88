/*
 * co_live_stall: a live coordinator on the wall clock (a test clock 60 x
 * faster, a session minute per second) through a quiet start, a stall and
 * late and duplicate bars, and two start-up errors that must touch no
 * segment.
 *
 *   barbus-coordinator --bus B --db DB --calendar short.cal --history-days 0
 *       live --feed FIFO --clock wall --no-data-timeout 2
 *       --test-clock 2024-07-02T13:27:00Z@60
 *
 * short.cal has one session, 2024-07-02 13:30Z to 13:42Z.
 *
 * It starts three session minutes (3 s) before the 13:30Z open with no
 * writer on the FIFO: pre-open, then open at the open with no data, not
 * stalled although more than the timeout has passed since its start. Bars of
 * minutes 0-2 come one second apart; then nothing for 4 s: the session is
 * stalled (status, counter, a line), still open, minutes still ending; then
 * minutes 7-9 come, the stall clears, a bar of minute 3 comes late (after
 * its minute and the grace) and is published flagged late, a bar of minute
 * 9 comes twice. The writer closes the FIFO: the session, stalled again,
 * still ends at its close (plus the 2 s grace), and then the coordinator,
 * its feed over, exits 0. A ring reader sees every bar exactly once. Prints
 * "N passed, N failed".
 */
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <sys/stat.h>

#include "stress.h"

#define NSYM 3
#define OPEN 1719927000 /* 2024-07-02 13:30Z */

static char dir[64], fifo[96], db[96], coerr[96], cal[96], exe[PATH_MAX];
static const char *bus;
static int64_t t0; /* the coordinator's start, monotonic ns */

/* Sleep until s seconds after the coordinator's start. */
static void at(double s)
{
	int64_t left = t0 + (int64_t)(s * 1e9) - stress_now_ns();

	if (left > 0)
		stress_sleep_ns(left);
}

static void put(int fd, int sym, int minute, double close)
{
	char line[128], iso[24];

	bb_time_format(OPEN + 60 * minute, iso);
	int n = snprintf(line, sizeof(line), "S%d,%s,%.2f,%.2f,%.2f,%.2f,%d\n",
	                 sym, iso, close, close + 1, close - 1, close, minute + 1);
	if (write(fd, line, (size_t)n) != n)
		stress_fatal("write the FIFO: %s", strerror(errno));
}

static void minute(int fd, int m)
{
	for (int s = 0; s < NSYM; s++)
		put(fd, s, m, 10 + m);
}

static bb_status status_now(void)
{
	bb_bus *b;
	bb_status st = { 0 };

	if (bb_bus_open(&b, bus) == 0) {
		bb_bus_status(b, &st);
		bb_bus_close(b);
	}
	return st;
}

static uint64_t counter(int c)
{
	bb_bus *b;
	uint64_t v = UINT64_MAX;

	if (bb_bus_open(&b, bus) == 0) {
		v = bb_bus_counter(b, c);
		bb_bus_close(b);
	}
	return v;
}

/* What the ring reader saw. */
static struct {
	int starts, ends, minute_ends, bars[NSYM][10], late[NSYM][10];
	int others;
} seen;

static atomic_int stop_reader;

/* One record the reader saw, into seen. */
static void tally(const bb_bar *b, void *unused)
{
	int m = (int)((b->time - OPEN) / 60);

	(void)unused;
	switch (BB_KIND(b->flags)) {
	case BB_KIND_SESSION_START: seen.starts++; break;
	case BB_KIND_SESSION_END: seen.ends++; break;
	case BB_KIND_MINUTE_END: seen.minute_ends++; break;
	case BB_KIND_BAR:
		if (b->symbol >= NSYM || m < 0 || m >= 10) {
			seen.others++;
			break;
		}
		seen.bars[b->symbol][m]++;
		seen.late[b->symbol][m] += (b->flags & BB_BAR_LATE) != 0;
		break;
	}
}

static void *reader(void *arg)
{
	stress_ring_drain(arg, &stop_reader, tally, NULL);
	return NULL;
}

/* The day: quiet start, stall, late and duplicate bars. */
static void day(void)
{
	char why[64];
	pthread_t rt;
	bb_ring_reader *r = NULL;

	pid_t co = stress_fork();
	if (co == 0) {
		char *const a[] = { exe, "--bus", (char *)bus, "--db", db,
		                    "--calendar", cal, "--history-days", "0",
		                    "--ring-capacity", "4096",
		                    "live", "--feed", fifo,
		                    "--clock", "wall", "--no-data-timeout", "2",
		                    "--test-clock", "2024-07-02T13:27:00Z@60", NULL };
		stress_exec_to(coerr, O_TRUNC, a);
	}
	for (int i = 0; i < 2000 && r == NULL; i++) {
		stress_sleep_ns(1000000);
		if (bb_ring_reader_open(&r, bus, BB_WAIT_BLOCK, BB_RING_FROM_OLDEST))
			r = NULL;
	}
	t0 = stress_now_ns(); /* the test clock starts about now */
	if (r == NULL)
		stress_fatal("the coordinator never opened the bus");
	pthread_create(&rt, NULL, reader, r);

	at(2.0);
	bb_status st = status_now();
	CHECK(st.state == BB_STATE_PREOPEN && st.date == 20240702 &&
	      st.open == OPEN, "before the open: pre-open for 2024-07-02 "
	      "(state %u, date %d)", st.state, st.date);
	at(3.8); /* the open passed 0.8 s ago; the start 3.8 s ago */
	st = status_now();
	CHECK(st.state == BB_STATE_OPEN && st.stalled_since == 0,
	      "at the open, with no data yet: open, not stalled (state %u, "
	      "stalled since %lld)", st.state, (long long)st.stalled_since);

	int fd = open(fifo, O_WRONLY); /* the feed's writer comes now */
	const char *hdr = "symbol,timestamp,open,high,low,close,volume\n";
	if (fd < 0 || write(fd, hdr, strlen(hdr)) != (ssize_t)strlen(hdr))
		stress_fatal("open the FIFO: %s", strerror(errno));
	for (int m = 0; m < 3; m++) { /* minute m ends at 4 + m */
		at(4.2 + m);
		minute(fd, m);
	}
	at(6.5);
	CHECK(counter(BB_CTR_STALLS) == 0, "no stall while bars come (%llu)",
	      (unsigned long long)counter(BB_CTR_STALLS));
	at(9.6); /* last data at 6.2, timeout 2 s */
	st = status_now();
	int64_t want = OPEN - 180 + (int64_t)(6.2 * 60);
	CHECK(st.state == BB_STATE_OPEN && st.stalled_since >= want - 6 &&
	      st.stalled_since <= want + 6, "no data for the timeout: the "
	      "session is stalled since the last data (%lld, ~%lld), still "
	      "open (state %u)", (long long)st.stalled_since, (long long)want,
	      st.state);
	CHECK(counter(BB_CTR_STALLS) == 1, "one stall counted (%llu)",
	      (unsigned long long)counter(BB_CTR_STALLS));
	CHECK(stress_file_has(coerr, "session 20240702 stalled, still open"),
	      "the stall is told on stderr");
	CHECK(st.clock >= OPEN + 3 * 60, "minutes go on ending while stalled "
	      "(clock %lld)", (long long)(st.clock - OPEN));
	for (int m = 7; m < 10; m++) {
		at(4.2 + m);
		minute(fd, m);
		if (m == 7) {
			stress_sleep_ns(200000000);
			st = status_now();
			CHECK(st.stalled_since == 0 && st.state == BB_STATE_OPEN,
			      "data again: the stall is over (stalled since %lld)",
			      (long long)st.stalled_since);
			put(fd, 0, 3, 99); /* minute 3 ended at 7 + grace 2 */
		}
	}
	put(fd, 1, 9, 98); /* a duplicate */
	stress_sleep_ns(300000000);
	close(fd);

	int status = stress_reap(co, 20000);
	stress_forget(co);
	CHECK(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
	      stress_now_ns() - t0 >= 17000000000LL, "its feed over, the "
	      "coordinator ends after the close (13:44 with the grace: 17 s) (%s)",
	      stress_status_str(status, why, sizeof(why)));
	atomic_store(&stop_reader, 1);
	pthread_join(rt, NULL);
	bb_ring_reader_close(r);
	st = status_now();
	CHECK(st.state == BB_STATE_ENDED && st.stalled_since == 0, "the feed "
	      "over, the session ended at its close, not by the timeout (state "
	      "%u)", st.state);
	CHECK(stress_file_has(coerr, "no longer stalled"),
	      "the stall's end is told");

	int ok = 1, lates = 0;
	for (int s = 0; s < NSYM; s++)
		for (int m = 0; m < 10; m++) {
			int want_bar = m < 3 || m >= 7 || (s == 0 && m == 3);
			ok &= seen.bars[s][m] == want_bar;
			lates += seen.late[s][m];
		}
	CHECK(ok && seen.others == 0, "every bar fed reached the ring once, "
	      "none else");
	CHECK(lates == 1 && seen.late[0][3] == 1, "only the late bar is "
	      "flagged late (%d)", lates);
	CHECK(seen.starts == 1 && seen.ends == 1, "one session start and end "
	      "(%d, %d)", seen.starts, seen.ends);
	CHECK(counter(BB_CTR_FEED_LATE) == 1 &&
	      counter(BB_CTR_FEED_DUPLICATES) == 1 &&
	      counter(BB_CTR_BARS) == 6 * NSYM + 1,
	      "counters: 1 late, 1 duplicate, %d bars (%llu, %llu, %llu)",
	      6 * NSYM + 1, (unsigned long long)counter(BB_CTR_FEED_LATE),
	      (unsigned long long)counter(BB_CTR_FEED_DUPLICATES),
	      (unsigned long long)counter(BB_CTR_BARS));
	/* The second stall: from the feed's end to the close. */
	char bindir[PATH_MAX];
	snprintf(bindir, sizeof(bindir), "%s", exe);
	CHECK(stress_sh("%s/barbus-status --bus %s | grep -q '^counter.stalls "
	                "2$'", dirname(bindir), bus) == 0,
	      "barbus-status shows counter.stalls 2");
}

/* Segments of bus b in /dev/shm. */
static int segments(const char *b)
{
	return stress_sh("ls /dev/shm | grep -q '^barbus\\.%s\\.'", b) == 0;
}

/* Errors at start: named, and no segment made. */
static void start_errors(void)
{
	char err[128], why[64];
	const char *b = stress_bus("err");

	snprintf(err, sizeof(err), "%s/err.txt", dir);
	pid_t co = stress_fork();
	if (co == 0) {
		char *const a[] = { exe, "--bus", (char *)b, "--db", db, "live",
		                    "--feed", "/nonexistent/feed.csv", NULL };
		stress_exec_to(err, O_TRUNC, a);
	}
	int status = stress_reap(co, 10000);
	stress_forget(co);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 1 &&
	      stress_file_has(err, "feed /nonexistent/feed.csv: No such file") &&
	      !segments(b), "a mistyped --feed: exit 1 naming the feed, no "
	      "segment made (%s)", stress_status_str(status, why, sizeof(why)));
	co = stress_fork();
	if (co == 0) {
		char *const a[] = { exe, "--bus", (char *)b, "--db", db,
		                    "--max-symbols", "2", "live", "--feed", fifo,
		                    NULL };
		stress_exec_to(err, O_TRUNC, a);
	}
	status = stress_reap(co, 10000);
	stress_forget(co);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 1 &&
	      stress_file_has(err, "has 3 symbols, more than max-symbols 2; "
	                      "raise --max-symbols") && !segments(b),
	      "more store symbols than --max-symbols: exit 1 naming both "
	      "numbers and the setting, no segment made");
}

int main(int argc, char **argv)
{
	bb_store *st;
	uint32_t id;
	char name[8];
	(void)argc;

	stress_init("co-live-stall", 120);
	signal(SIGPIPE, SIG_IGN); /* a coordinator gone: EPIPE, not death */
	stress_bin(argv[0], "barbus-coordinator", exe, sizeof(exe));
	snprintf(dir, sizeof(dir), "/tmp/bb-livestall-XXXXXX");
	if (mkdtemp(dir) == NULL)
		stress_fatal("mkdtemp");
	snprintf(db, sizeof(db), "%s/db", dir);
	snprintf(fifo, sizeof(fifo), "%s/feed", dir);
	snprintf(coerr, sizeof(coerr), "%s/coordinator.err", dir);
	snprintf(cal, sizeof(cal), "%s/short.cal", dir);
	FILE *f = fopen(cal, "w");
	if (f == NULL)
		stress_fatal("calendar");
	fputs("2024-07-02 13:30Z 13:42Z\n", f);
	fclose(f);
	if (mkdir(db, 0700) != 0 || bb_store_open(&st, db, 0) != 0)
		stress_fatal("store");
	for (int k = 0; k < NSYM; k++) {
		snprintf(name, sizeof(name), "S%d", k);
		bb_store_symbol_add(st, name, &id);
	}
	bb_store_close(st);
	if (mkfifo(fifo, 0600) != 0)
		stress_fatal("mkfifo");
	bus = stress_bus(NULL);
	start_errors();
	day();
	if (atomic_load(&g_stress.failed) != 0)
		stress_sh("cat %s", coerr);
	stress_sh("rm -rf %s", dir);
	return stress_done();
}
