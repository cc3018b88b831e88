/*
 * co_live_day: a whole live session, coordinator and upkeep, on a test
 * clock 120 x faster (a session minute per half second) and a calendar file
 * with one 30-minute session (2024-07-02 13:30Z-14:00Z):
 *
 *   barbus-upkeep --bus B --db DB --intervals 15m,30m --history-days 0
 *   barbus-coordinator --bus B --db DB --calendar day.cal --history-days 0
 *       --max-symbols 4 live --feed FIFO --clock wall --grace-ms 500
 *       --no-data-timeout 1 --test-clock 2024-07-02T13:26:00Z@120@EPOCH
 *
 * (grace 0.5 s real is a session minute on this clock: a bar of minute m
 * is late once minute m + 2 has begun.)
 *
 * The store holds the day's bars of 4 symbols but for the minutes the feed
 * will stall over and the two bars that will come late. The feed, written
 * minute by minute a little after each minute ends, has:
 *  - a quiet start: two session minutes before the open, no writer;
 *  - bars missing from the feed (the store has them: filled);
 *  - two stalls of 4 minutes (longer than the timeout), the store getting
 *    their bars a little later (filled by the upkeep's retries);
 *  - two late bars (after their minute and the grace): published late,
 *    real, and stored by the coordinator;
 *  - a duplicate; a symbol beyond --max-symbols (rejected, store unchanged);
 *  - a SIGKILL of the coordinator, restarted with the same arguments while
 *    the feed source connects again and sends the day from its first line.
 * At the close: bb_bars() for 1m and every derived interval equals the same
 * day computed from the store, and bb_upkeep_quality() counts equal what
 * was delivered, filled and missing. Prints "N passed, N failed".
 */
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#include "stress.h"

#define NSYM  4
#define NMIN  30
#define OPEN  1719927000 /* 2024-07-02 13:30Z */
#define RATE  120
#define DATE  20240702
#define HDR   "symbol,timestamp,open,high,low,close,volume\n"

static char dir[64], db[96], fifo[96], cal[96], coerr[96], uperr[96];
static char bin[PATH_MAX], clock_arg[96];
static const char *bus;
static bb_bar day[NSYM][NMIN];  /* the store's day, at the end */
static int64_t epoch_ms;        /* real ms when the test clock reads 13:26 */

/* What the feed does with each bar. */
enum fate { ON_TIME, MISSING, STALLED, LATE };
static enum fate fate[NSYM][NMIN];
static int stalled(int m) { return (m >= 6 && m <= 9) || (m >= 22 && m <= 25); }

static char **sent; /* every line sent so far, for the replay */
static size_t nsent;

static int64_t real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleep until the test clock reads OPEN + 60 * m + s seconds. */
static void at_minute(int m, double s)
{
	int64_t accel_ms = (OPEN + 60 * (int64_t)m) * 1000 + (int64_t)(s * 1000);
	int64_t real = epoch_ms + (accel_ms - (int64_t)(OPEN - 240) * 1000) / RATE;
	int64_t left = real - real_ms();

	if (left > 0)
		stress_sleep_ns(left * 1000000);
}

static pid_t start_coordinator(void)
{
	char exe[PATH_MAX + 32];

	snprintf(exe, sizeof(exe), "%s/barbus-coordinator", bin);
	pid_t pid = stress_fork();
	if (pid == 0) {
		char *const a[] = { exe, "--bus", (char *)bus, "--db", db,
		                    "--calendar", cal, "--history-days", "0",
		                    "--ring-capacity", "4096", "--max-symbols", "4",
		                    "live", "--feed", fifo, "--clock", "wall",
		                    "--grace-ms", "500",
		                    "--no-data-timeout", "1", "--test-clock",
		                    clock_arg, NULL };
		stress_exec_to(coerr, O_APPEND, a);
	}
	return pid;
}

/* The day's bar of symbol s, minute m: prices in quarters (exact). */
static bb_bar make_bar(int s, int m)
{
	double c = 100 + 10 * s + 0.25 * ((m * 7 + s * 3) % 13);

	return (bb_bar){ .symbol = (uint32_t)s, .time = OPEN + 60 * m,
	                 .open = c - 0.25, .high = c + 0.5, .low = c - 0.75,
	                 .close = c, .volume = 100 + m * 10 + s };
}

static void line_of(const bb_bar *b, char *out, size_t len)
{
	char iso[24];

	bb_time_format(b->time, iso);
	snprintf(out, len, "D%u,%s,%.2f,%.2f,%.2f,%.2f,%.0f\n", b->symbol, iso,
	         b->open, b->high, b->low, b->close, b->volume);
}

static int send_line(int fd, const char *l)
{
	size_t n = strlen(l);

	sent = realloc(sent, (nsent + 1) * sizeof(*sent));
	sent[nsent++] = strdup(l);
	return write(fd, l, n) == (ssize_t)n ? 0 : -1;
}

static void send_bar(int fd, int s, int m)
{
	char l[128];

	line_of(&day[s][m], l, sizeof(l));
	if (send_line(fd, l) != 0)
		stress_fatal("feed write: %s", strerror(errno));
}

static void store_put(const bb_bar *b, size_t n)
{
	bb_store *st;

	if (bb_store_open(&st, db, 0) != 0 || bb_store_put(st, b, n, NULL) != 0)
		stress_fatal("store put");
	bb_store_close(st);
}

/* The store gets a stall's bars (a backfill), minutes [m0, m1]. */
static void backfill(int m0, int m1)
{
	bb_bar b[NSYM * NMIN];
	size_t n = 0;

	for (int m = m0; m <= m1; m++)
		for (int s = 0; s < NSYM; s++)
			b[n++] = day[s][m];
	store_put(b, n);
}

static void make_store(void)
{
	bb_store *st;
	bb_bar b[NSYM * NMIN];
	uint32_t id;
	size_t n = 0;
	char name[8];

	if (mkdir(db, 0700) != 0 || bb_store_open(&st, db, 0) != 0)
		stress_fatal("store");
	for (int s = 0; s < NSYM; s++) {
		snprintf(name, sizeof(name), "D%d", s);
		bb_store_symbol_add(st, name, &id);
		for (int m = 0; m < NMIN; m++) {
			day[s][m] = make_bar(s, m);
			fate[s][m] = stalled(m) ? STALLED : ON_TIME;
		}
	}
	fate[1][3] = fate[2][14] = fate[3][27] = MISSING;
	fate[1][1] = fate[0][15] = LATE;
	for (int s = 0; s < NSYM; s++)
		for (int m = 0; m < NMIN; m++)
			if (fate[s][m] == ON_TIME || fate[s][m] == MISSING)
				b[n++] = day[s][m];
	if (bb_store_put(st, b, n, NULL) != 0)
		stress_fatal("store put");
	bb_store_close(st);
}

/* The FIFO's writer, once the coordinator reads it (10 s at most). */
static int open_feed(void)
{
	int fd = -1;

	for (int i = 0; i < 1000 && fd < 0; i++) {
		fd = open(fifo, O_WRONLY | O_NONBLOCK);
		if (fd < 0)
			stress_sleep_ns(10000000);
	}
	if (fd >= 0)
		fcntl(fd, F_SETFL, 0); /* blocking writes from here */

	if (fd < 0 || write(fd, HDR, strlen(HDR)) != (ssize_t)strlen(HDR))
		stress_fatal("feed open: %s", strerror(errno));
	return fd;
}

/* Kill the coordinator, start it again, send the day so far again. */
static pid_t kill_and_restart(pid_t co, int *fd)
{
	char **old = sent;
	size_t n = nsent;

	kill(co, SIGKILL);
	stress_reap(co, 5000);
	stress_forget(co);
	close(*fd);
	co = start_coordinator();
	*fd = open_feed();
	sent = NULL;
	nsent = 0;
	for (size_t i = 0; i < n; i++) {
		if (send_line(*fd, old[i]) != 0)
			stress_fatal("replay: %s", strerror(errno));
		free(old[i]);
	}
	free(old);
	return co;
}

/* The feed, minute by minute; returns the coordinator's pid at the end. */
static pid_t feed_day(pid_t co, size_t *replayed)
{
	int fd = -1;

	at_minute(0, 6); /* the feed's writer comes 6 session s after the open */
	fd = open_feed();
	for (int m = 0; m < NMIN; m++) {
		at_minute(m + 1, 10); /* the minute ended 10 session s ago */
		for (int s = 0; s < NSYM; s++)
			if (fate[s][m] == ON_TIME)
				send_bar(fd, s, m);
		if (m == 5) /* a symbol the bus has no room for */
			send_line(fd, "ZZZ,2024-07-02T13:35:00Z,1,2,0.5,1.5,10\n");
		if (m == 11) {
			send_bar(fd, 1, 1); /* late: minute 1 ended 10 min ago */
			backfill(6, 9);
		}
		if (m == 13)
			send_bar(fd, 2, 12); /* a duplicate */
		if (m == 16) {
			stress_sleep_ns(150000000); /* all taken in */
			*replayed = nsent;
			co = kill_and_restart(co, &fd);
		}
		if (m == 21)
			send_bar(fd, 0, 15); /* late */
		if (m == 27)
			backfill(22, 25);
	}
	at_minute(NMIN + 2, 0); /* the session ended at close + grace */
	close(fd);
	return co;
}

static void check_1m(const bb_bus *b, const bb_upkeep *u)
{
	bb_bar out[NMIN + 4];
	size_t got;
	int ok = 1, flags_ok = 1;

	for (int s = 0; s < NSYM; s++) {
		if (bb_bars(b, u, (uint32_t)s, 1, out, NMIN + 4, &got) != 0 ||
		    got != NMIN) {
			ok = 0;
			INFO("D%d: %zu 1m bars", s, got);
			continue;
		}
		for (int m = 0; m < NMIN; m++) {
			const bb_bar *x = &out[m], *w = &day[s][m];
			ok &= x->time == w->time && x->open == w->open &&
			      x->high == w->high && x->low == w->low &&
			      x->close == w->close && x->volume == w->volume;
			uint32_t want = fate[s][m] == LATE ? BB_BAR_LATE
			              : fate[s][m] == ON_TIME ? 0 : BB_BAR_FILLED;
			if ((x->flags & BB_BAR_FLAG_MASK) != want) {
				flags_ok = 0;
				INFO("D%d minute %d: flags %#x, want %#x", s, m,
				     x->flags, want);
			}
		}
	}
	CHECK(ok, "1m bars of the day (bb_bars) equal the store's day");
	CHECK(flags_ok, "1m flags: late where late, filled where missing or "
	      "stalled, none elsewhere");
}

static void check_derived(const bb_bus *b, const bb_upkeep *u)
{
	static const uint32_t ivs[] = { 15, 30 };
	bb_bar out[8];
	size_t got;

	for (size_t k = 0; k < sizeof(ivs) / sizeof(ivs[0]); k++) {
		uint32_t iv = ivs[k], want_n = (NMIN + iv - 1) / iv;
		int ok = 1;
		for (int s = 0; s < NSYM; s++) {
			int rc = bb_bars(b, u, (uint32_t)s, iv, out, 8, &got);
			ok &= rc == 0 && got == want_n;
			for (uint32_t j = 0; ok && j < want_n; j++) {
				int m0 = (int)(j * iv), m1 = m0 + (int)iv;
				bb_bar w = day[s][m0];
				w.volume = 0;
				for (int m = m0; m < m1 && m < NMIN; m++) {
					const bb_bar *d = &day[s][m];
					w.high = d->high > w.high ? d->high : w.high;
					w.low = d->low < w.low ? d->low : w.low;
					w.close = d->close;
					w.volume += d->volume;
				}
				const bb_bar *x = &out[j];
				ok &= x->time == w.time && x->open == w.open &&
				      x->high == w.high && x->low == w.low &&
				      x->close == w.close && x->volume == w.volume &&
				      !(x->flags & BB_BAR_PARTIAL);
			}
		}
		CHECK(ok, "%um bars (bb_bars) equal the store's day aggregated, "
		      "final", iv);
	}
}

/* Counts of fate f for symbol s. */
static uint32_t count(int s, enum fate f)
{
	uint32_t n = 0;

	for (int m = 0; m < NMIN; m++)
		n += fate[s][m] == f;
	return n;
}

static void check_quality(const bb_upkeep *u)
{
	int ok = 1;

	for (int s = 0; s < NSYM; s++) {
		bb_quality q;
		uint32_t real = count(s, ON_TIME) + count(s, LATE);
		uint32_t filled = count(s, MISSING) + count(s, STALLED);
		int rc = bb_upkeep_quality(u, (uint32_t)s, &q);
		int one = rc == 0 && q.expected == NMIN && q.real == real &&
		          q.filled == filled && q.unfillable == 0 &&
		          q.pending == 0 && q.synthetic == 0 && q.date == DATE;
		if (!one)
			INFO("D%d quality: expected %u real %u (want %u) filled %u "
			     "(want %u) unfillable %u pending %u", s, q.expected,
			     q.real, real, q.filled, filled, q.unfillable, q.pending);
		ok &= one;
	}
	CHECK(ok, "quality: expected %d, real = delivered (late included), "
	      "filled = missing + stalled, none unfillable or pending", NMIN);
}

/* Every symbol's late count (bb_quality.late, part of real) is the late
 * bars delivered. */
static void check_quality_late(const bb_upkeep *u)
{
	int ok = 1;

	for (int s = 0; s < NSYM; s++) {
		bb_quality q;
		ok &= bb_upkeep_quality(u, (uint32_t)s, &q) == 0 &&
		      q.late == count(s, LATE);
	}
	CHECK(ok, "quality: late = the late bars delivered");
}

static void check_bus(const bb_bus *b, size_t replayed)
{
	bb_status st = { 0 };
	uint32_t n = 0;
	bb_store *sto;

	bb_bus_status(b, &st);
	CHECK(st.state == BB_STATE_ENDED && st.date == DATE && st.sessions == 1,
	      "the session ended at its close, the only session (state %u, "
	      "sessions %llu)", st.state, (unsigned long long)st.sessions);
	uint64_t stalls = bb_bus_counter(b, BB_CTR_STALLS);
	uint64_t late = bb_bus_counter(b, BB_CTR_FEED_LATE);
	uint64_t dups = bb_bus_counter(b, BB_CTR_FEED_DUPLICATES);
	uint64_t rej = bb_bus_counter(b, BB_CTR_SYMBOLS_REJECTED);
	uint64_t restarts = bb_bus_counter(b, BB_CTR_RESTARTS);
	/* The replay: every line sent before the kill but ZZZ's again. */
	CHECK(stalls == 2 && late == 2 && dups == 1 + (replayed - 1) &&
	      rej == 2 && restarts == 1,
	      "counters: 2 stalls, 2 late, %zu duplicates, 2 rejected (ZZZ, "
	      "and again in the replay), 1 restart (%llu, %llu, %llu, %llu, "
	      "%llu)", replayed, (unsigned long long)stalls,
	      (unsigned long long)late, (unsigned long long)dups,
	      (unsigned long long)rej, (unsigned long long)restarts);
	if (bb_store_open(&sto, db, BB_STORE_RDONLY) == 0) {
		bb_store_symbol_count(sto, &n);
		bb_store_close(sto);
	}
	CHECK(n == NSYM && bb_symbol_count(b) == NSYM, "the rejected symbol "
	      "is in neither the store nor the directory (%u, %u)", n,
	      bb_symbol_count(b));
	CHECK(stress_file_has(coerr, "symbol ZZZ rejected, nothing stored: "
	                      "the bus has 4 symbols and max-symbols 4 reached"),
	      "the rejection names the symbol, max-symbols and the count");
}

int main(int argc, char **argv)
{
	char why[64], up_exe[PATH_MAX + 32];
	size_t replayed = 0;
	FILE *f;
	(void)argc;

	stress_init("co-live-day", 120);
	signal(SIGPIPE, SIG_IGN);
	stress_bin(argv[0], NULL, bin, sizeof(bin));
	snprintf(dir, sizeof(dir), "/tmp/bb-liveday-XXXXXX");
	if (mkdtemp(dir) == NULL)
		stress_fatal("mkdtemp");
	snprintf(db, sizeof(db), "%s/db", dir);
	snprintf(fifo, sizeof(fifo), "%s/feed", dir);
	snprintf(cal, sizeof(cal), "%s/day.cal", dir);
	snprintf(coerr, sizeof(coerr), "%s/coordinator.err", dir);
	snprintf(uperr, sizeof(uperr), "%s/upkeep.err", dir);
	if ((f = fopen(cal, "w")) == NULL)
		stress_fatal("calendar");
	fputs("# one short session\n2024-07-02 13:30Z 14:00Z\n", f);
	fclose(f);
	if (mkfifo(fifo, 0600) != 0)
		stress_fatal("mkfifo");
	make_store();
	bus = stress_bus(NULL);

	snprintf(up_exe, sizeof(up_exe), "%s/barbus-upkeep", bin);
	pid_t up = stress_fork();
	if (up == 0) {
		char *const a[] = { up_exe, "--bus", (char *)bus, "--db", db,
		                    "--intervals", "15m,30m", "--history-days",
		                    "0", "--check-interval-ms", "50", NULL };
		stress_exec_to(uperr, O_APPEND, a);
	}
	epoch_ms = real_ms() + 500; /* the test clock reads 13:26 then */
	snprintf(clock_arg, sizeof(clock_arg), "2024-07-02T13:26:00Z@%d@%lld",
	         RATE, (long long)epoch_ms);
	pid_t co = start_coordinator();
	co = feed_day(co, &replayed);

	int status = stress_reap(co, 20000);
	stress_forget(co);
	CHECK(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "the coordinator ends with its feed after the close (%s)",
	      stress_status_str(status, why, sizeof(why)));
	bb_upkeep *u = NULL;
	bb_upkeep_info info = { 0 };
	int64_t deadline = stress_now_ns() + 15000000000LL;
	while (stress_now_ns() < deadline) {
		if (u == NULL && bb_upkeep_open(&u, bus) != 0)
			u = NULL;
		if (u != NULL && bb_upkeep_status(u, &info) == 0 &&
		    info.done_date == DATE)
			break;
		stress_sleep_ns(20000000);
	}
	CHECK(info.done_date == DATE, "the upkeep finished the session");
	bb_bus *b = NULL;
	if (u != NULL && bb_bus_open(&b, bus) == 0) {
		check_1m(b, u);
		check_derived(b, u);
		check_quality(u);
		check_quality_late(u);
		check_bus(b, replayed);
	} else {
		CHECK(0, "open the bus and the upkeep");
	}
	bb_bus_close(b);
	bb_upkeep_close(u);
	kill(up, SIGTERM);
	stress_reap(up, 10000);
	stress_forget(up);
	if (atomic_load(&g_stress.failed) != 0) {
		stress_sh("grep -v 'already published' %s | head -40", coerr);
		stress_sh("head -40 %s", uperr);
	}
	stress_sh("rm -rf %s", dir);
	return stress_done();
}
