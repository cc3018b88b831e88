/*
 * up_e2e: coordinator and upkeep together, as a user runs them. barbus-gen
 * makes a store with missing minutes; barbus-upkeep starts first and
 * waits; barbus-coordinator replays it. Then: every derived bar equals a
 * recomputation from the store; bar counts per interval on a regular and
 * an early-close day; quality counts; the session handshake; the upkeep's
 * exit at the end of data. Prints "N passed, N failed".
 */
#include <limits.h>
#include <math.h>

#include "stress.h"

#define NSYM 20

static char dir[64], bin[PATH_MAX];

/* Bars of interval k minutes of sym in session s, from the store. */
static size_t recompute(bb_store *st, uint32_t sym, const bb_session *s,
                        uint32_t k, bb_bar *out)
{
	bb_bar m[1440];
	size_t n = 0, nb = 0;

	if (bb_store_range(st, sym, s->open, s->close, m, 1440, &n) != 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		int64_t start = s->open + (m[i].time - s->open) / (k * 60) * (k * 60);
		if (nb == 0 || out[nb - 1].time != start) {
			out[nb] = m[i];
			out[nb].time = start;
			out[nb].flags = 0;
			nb++;
			continue;
		}
		bb_bar *d = &out[nb - 1];
		d->high = fmax(d->high, m[i].high);
		d->low = fmin(d->low, m[i].low);
		d->close = m[i].close;
		d->volume += m[i].volume;
	}
	return nb;
}

static int same(const bb_bar *a, const bb_bar *b)
{
	return a->time == b->time && a->open == b->open && a->high == b->high &&
	       a->low == b->low && a->close == b->close && a->volume == b->volume;
}

/* Replay [from, to] on a new bus with an upkeep started first. */
static const char *run(const char *suffix, const char *from, const char *to)
{
	const char *bus = stress_bus(suffix);

	CHECK(stress_sh("%s/barbus-upkeep --bus %s --db %s/db --intervals "
	         "5m,15m,30m,1h,7m 2>%s/up-%s.err & up=$!; sleep 0.2; "
	         "%s/barbus-coordinator --bus %s --db %s/db backtest --from %s "
	         "--to %s --history-days 2 2>/dev/null && wait $up",
	         bin, bus, dir, dir, suffix, bin, bus, dir, from, to) == 0,
	      "%s: coordinator and upkeep both exit 0", suffix);
	return bus;
}

static void check_day(const char *bus, bb_store *st, int32_t date,
                      const uint32_t *want_counts)
{
	static const uint32_t iv[] = { 5, 15, 30, 60, 7 };
	bb_bus *b = NULL;
	bb_upkeep *u = NULL;
	bb_calendar *cal;
	bb_session s;
	bb_bar got[400], exp[400];
	size_t n;
	int bad = 0, counts = 1;

	if (bb_bus_open(&b, bus) || bb_upkeep_open(&u, bus) ||
	    bb_calendar_load(&cal, "XNYS", NULL, 0) ||
	    bb_calendar_next(cal, date, &s)) {
		CHECK(0, "%d: open bus, upkeep, calendar", date);
		return;
	}
	for (uint32_t sym = 0; sym < NSYM; sym++)
		for (size_t i = 0; i < 5; i++) {
			if (bb_bars(b, u, sym, iv[i], got, 400, &n) != 0) {
				bad++;
				continue;
			}
			size_t m = recompute(st, sym, &s, iv[i], exp);
			counts &= n == want_counts[i];
			for (size_t j = 0; j < n && j < m; j++)
				bad += !same(&got[j], &exp[j]) ||
				       (got[j].flags & BB_BAR_PARTIAL);
			bad += n != m;
		}
	CHECK(bad == 0, "%d: every derived bar equals the store's recomputation "
	      "(%d differ)", date, bad);
	CHECK(counts, "%d: bars per symbol at 5m/15m/30m/1h/7m are %u/%u/%u/%u/%u",
	      date, want_counts[0], want_counts[1], want_counts[2],
	      want_counts[3], want_counts[4]);
	CHECK(bb_bars(b, u, 0, 2, got, 400, &n) == BB_ENOINTERVAL,
	      "%d: an interval not maintained is BB_ENOINTERVAL", date);
	bb_quality q;
	bb_bar one[400];
	int qok = 1;
	for (uint32_t sym = 0; sym < NSYM; sym++) {
		size_t real;
		bb_store_range(st, sym, s.open, s.close, one, 400, &real);
		qok &= bb_upkeep_quality(u, sym, &q) == 0 &&
		       q.expected == (s.close - s.open) / 60 && q.real == real &&
		       q.unfillable == q.expected - real && q.filled == 0;
	}
	CHECK(qok, "%d: quality: expected minutes, real bars, unfillable gaps",
	      date);
	bb_upkeep_info info;
	CHECK(bb_upkeep_status(u, &info) == 0 && info.done_date == date,
	      "%d: the upkeep says the last session is done", date);
	CHECK(bb_bus_counter(b, BB_CTR_UPKEEP_TIMEOUTS) == 0,
	      "%d: no boundary gave up waiting for the upkeep", date);
	bb_upkeep_close(u);
	bb_bus_close(b);
	bb_calendar_free(cal);
}

/* Derived history: sessions back = 1.. are want[0..n), newest first, and
 * each derived bar equals the store's recomputation. */
static void check_history(const char *bus, bb_store *st, const int32_t *want,
                          size_t n)
{
	static const uint32_t iv[] = { 5, 15, 30, 60, 7 };
	bb_bus *b = NULL;
	bb_upkeep *u = NULL;
	bb_calendar *cal;
	bb_session s;
	bb_bar got[400], exp[400];
	size_t ng;
	int32_t date;
	int bad = 0, dates = 1;

	if (bb_bus_open(&b, bus) || bb_upkeep_open(&u, bus) ||
	    bb_calendar_load(&cal, "XNYS", NULL, 0)) {
		CHECK(0, "history: open bus, upkeep, calendar");
		return;
	}
	for (uint32_t back = 1; back <= n; back++)
		for (uint32_t sym = 0; sym < NSYM; sym++)
			for (size_t i = 0; i < 5; i++) {
				int rc = bb_bars_history(b, u, back, sym, iv[i], got,
				                         400, &ng, &date);
				dates &= rc == 0 && date == want[back - 1];
				if (rc != 0 || bb_calendar_next(cal, date, &s) != 0) {
					bad++;
					continue;
				}
				size_t m = recompute(st, sym, &s, iv[i], exp);
				bad += ng != m;
				for (size_t j = 0; j < ng && j < m; j++)
					bad += !same(&got[j], &exp[j]) || got[j].flags;
			}
	CHECK(dates, "history: sessions 1..%zu back are the ones expected", n);
	CHECK(bad == 0, "history: every derived bar of every kept session equals "
	      "the store's recomputation (%d differ)", bad);
	CHECK(bb_bars_history(b, u, 1, 0, 2, got, 400, &ng, &date) ==
	      BB_ENOINTERVAL, "history: an interval not maintained is "
	      "BB_ENOINTERVAL");
	CHECK(bb_upkeep_history_days(u) == 5, "history: 5 sessions kept by "
	      "default");
	bb_upkeep_close(u);
	bb_bus_close(b);
	bb_calendar_free(cal);
}

/* barbus-status of the finished week: the figures a script would grep. */
static void check_status(const char *bus, bb_store *st)
{
	char want[1024];
	size_t bars = 0, n;
	static bb_bar all[NSYM * 400 * 5];

	for (uint32_t sym = 0; sym < NSYM; sym++)
		if (bb_store_range(st, sym, 1719840600, 1720209600, all,
		                   sizeof(all) / sizeof(all[0]), &n) == 0)
			bars += n;
	snprintf(want, sizeof(want), "session.date 2024-07-05\n"
	         "session.state done\ncounter.bars %zu\nupkeep.state exited\n"
	         "upkeep.done_date 2024-07-05\nupkeep.sessions_done 4\n"
	         "upkeep.intervals 5m,15m,30m,60m,7m\nupkeep.history_days 5",
	         bars);
	CHECK(stress_sh("%s/barbus-status --bus %s | grep -E '^(session\\.(date|"
	                "state)|counter\\.bars|upkeep\\.(state|done_date|"
	                "sessions_done|intervals|history_days)) ' >%s/status.txt && "
	                "printf '%%s\\n' '%s' | cmp -s - %s/status.txt", bin, bus,
	                dir, want, dir) == 0,
	      "barbus-status: the week's session, bars and the upkeep's state");
	CHECK(stress_sh("%s/barbus-status --bus %s-none 2>/dev/null; test $? -eq 1",
	                bin, bus) == 0, "barbus-status: a missing bus is exit 1");
}

int main(int argc, char **argv)
{
	static const uint32_t regular[] = { 78, 26, 13, 7, 56 };
	static const uint32_t early[] = { 42, 14, 7, 4, 30 };
	bb_store *st;
	(void)argc;

	stress_init("up-e2e", 240);
	stress_bin(argv[0], NULL, bin, sizeof(bin));
	snprintf(dir, sizeof(dir), "/tmp/bb-upe2e-XXXXXX");
	if (mkdtemp(dir) == NULL)
		stress_fatal("mkdtemp");
	CHECK(stress_sh("%s/barbus-gen --db %s/db --symbols %d --from 2024-07-01 "
	         "--to 2024-07-05 --seed 7 --missing-rate 0.02 2>/dev/null",
	         bin, dir, NSYM) == 0, "barbus-gen made the store");
	const char *week = run("week", "2024-07-01", "2024-07-05");
	const char *short_day = run("early", "2024-07-03", "2024-07-03");
	char db[96];
	snprintf(db, sizeof(db), "%s/db", dir);
	if (bb_store_open(&st, db, BB_STORE_RDONLY) != 0)
		stress_fatal("store %s", db);
	check_day(week, st, 20240705, regular);
	static const int32_t past[] = { 20240703, 20240702, 20240701 };
	check_history(week, st, past, 3);
	CHECK(stress_sh("test $(%s/barbus-bars --bus %s --interval 1h --history | "
	         "wc -l) -eq %d", bin, week, 1 + NSYM * (7 + 7 + 4 + 7)) == 0,
	      "barbus-bars --interval 1h --history: four sessions, 7/7/4/7 "
	      "bars per symbol");
	check_status(week, st);
	CHECK(stress_sh("test $(%s/barbus-bars --bus %s --interval 1h | wc -l) -eq %d",
	         bin, week, 1 + NSYM * 7) == 0,
	      "barbus-bars --interval 1h: 7 bars per symbol and a header");
	CHECK(stress_sh("%s/barbus-bars --bus %s --quality | head -1 | grep -qx "
	         "'symbol,expected,real,late,filled,unfillable,synthetic,"
	         "pending,quality,quality_with_fills' && test $(%s/barbus-bars --bus %s "
	         "--quality | wc -l) -eq %d", bin, week, bin, week, 1 + NSYM) == 0,
	      "barbus-bars --quality: its header and a line per symbol");
	CHECK(stress_sh("%s/barbus-bars --bus %s --interval 2h 2>/dev/null; test $? -eq 1",
	         bin, week) == 0, "barbus-bars: an interval not kept is exit 1");
	check_day(short_day, st, 20240703, early);
	bb_store_close(st);
	stress_sh("rm -rf %s", dir);
	return stress_done();
}
