/*
 * up_live: the upkeep's live acceptance check, as a user runs it.
 *
 * barbus-gen makes a complete one-day store (10 symbols, 2024-07-02);
 * barbus-export exports the day; lines are deleted from the export (one
 * whole minute for every symbol, the session's first minute for some
 * symbols, its last minute for others, a few scattered single lines and a
 * two-minute gap) and the rest is fed, in time order, to
 *
 *   barbus-coordinator --bus B --db DB live --feed F --clock feed
 *                      --no-data-timeout 2
 *
 * on the same store, with barbus-upkeep --bus B --db DB started first. The
 * deleted bars are still in the store, so the upkeep must fill every one
 * of them. Once the coordinator has ended the session by the no-data
 * timeout (and exited at the end of its feed) and the upkeep says the
 * session is done, the upkeep is stopped with SIGTERM. Then:
 *
 *  - `barbus-bars --interval 1m` is, line for line and byte for byte, the
 *    export with a flags column: `filled` on exactly the deleted rows;
 *  - `barbus-bars --quality` is, per symbol, expected 390, real 390 - d,
 *    filled d, synthetic 0, unfillable 0, and the two quality figures as
 *    printed (d: the symbol's deleted lines);
 *  - the last minute deleted for a symbol (complete only when the session
 *    ends) is filled too; so is the first;
 *  - bus and upkeep counters, state and exit statuses; the 5m/15m/30m/1h
 *    bars equal the store's day aggregated, flagged filled exactly where
 *    they hold a deleted minute; the store is unchanged by the live run.
 *
 * Two runs: the feed as a file, exactly as the acceptance check says (the
 * coordinator reads it in a few milliseconds, so the upkeep, polling for
 * the bus, often maps it mid-feed and synchronises from the status and the
 * session table while the coordinator goes on publishing), and the same
 * lines through a FIFO written only once the upkeep has synchronised with
 * an empty bus (it then takes every bar and minute end from the ring).
 * Prints "N passed, N failed".
 */
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <sys/stat.h>

#include "stress.h"

#define NSYM  10
#define NMIN  390
#define DATE  20240702
#define DAY   "2024-07-02"
#define SEED  1 /* a seed whose day has every minute of every symbol */

static char dir[64], bin[PATH_MAX];
static bb_session sess;
static char *names[NSYM];             /* symbol names in id order */
static char *rows[NSYM][NMIN];        /* export lines, no newline */
static bb_bar day[NSYM][NMIN];        /* the store's day, parsed */
static uint8_t del[NSYM][NMIN];       /* deleted from the feed */
static unsigned ndel_sym[NSYM], ndel, nfed;
static char *header;                  /* the export's header */

/* The deletions: (symbol, minute of the session). */
static const struct { int sym, min; } deletions[] = {
	{ 0, 0 }, { 2, 0 }, { 3, 0 },             /* the session's first minute */
	{ 1, NMIN - 1 }, { 3, NMIN - 1 },         /* ... and its last */
	{ 4, 47 }, { 6, 255 }, { 8, 330 }, { 9, 93 }, /* scattered lines */
	{ 5, 149 },                               /* next to the whole minute */
};
#define WHOLE_MIN 150 /* 16:00Z (12:00 New York): deleted for every symbol */

/* Every line of path, newlines dropped; NULL when it cannot be read. */
static char **read_lines(const char *path, size_t *n)
{
	FILE *f = fopen(path, "r");
	char **v = NULL, *line = NULL;
	size_t cap = 0, len = 0;
	ssize_t k;

	*n = 0;
	if (f == NULL)
		return NULL;
	while ((k = getline(&line, &len, f)) >= 0) {
		if (k > 0 && line[k - 1] == '\n')
			line[k - 1] = '\0';
		if (*n == cap) {
			cap = cap ? 2 * cap : 4096;
			v = realloc(v, cap * sizeof(*v));
		}
		v[(*n)++] = strdup(line);
	}
	free(line);
	fclose(f);
	return v;
}

static void free_lines(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* A copy of path's text (for showing a child's stderr). */
static void show_file(const char *what, const char *path)
{
	size_t n;
	char **v = read_lines(path, &n);

	printf("---- %s (%s), last lines:\n", what, path);
	for (size_t i = n > 20 ? n - 20 : 0; v != NULL && i < n; i++)
		printf("    %s\n", v[i]);
	free_lines(v, n);
}

/* The export: 10 symbols x 390 minutes, each parsed. 0 or -1. */
static int load_export(const char *path)
{
	size_t n;
	char **v = read_lines(path, &n);
	int nsym = 0, bad = 0;

	if (v == NULL || n != 1 + NSYM * NMIN) {
		printf("export %s: %zu lines, want %d\n", path, n, 1 + NSYM * NMIN);
		free_lines(v, n);
		return -1;
	}
	header = strdup(v[0]);
	for (size_t i = 1; i < n && !bad; i++) {
		char *copy = strdup(v[i]), *save = NULL;
		char *f[7];
		int k = 0;
		for (char *t = strtok_r(copy, ",", &save); t && k < 7;
		     t = strtok_r(NULL, ",", &save))
			f[k++] = t;
		int64_t t = 0;
		bad |= k != 7 || bb_time_parse(f[1], &t) != 0;
		int s = -1;
		for (int j = 0; !bad && j < nsym; j++)
			if (strcmp(names[j], f[0]) == 0)
				s = j;
		if (!bad && s < 0 && nsym < NSYM) {
			s = nsym;
			names[nsym++] = strdup(f[0]);
		}
		int64_t m = (t - sess.open) / 60;
		bad |= s < 0 || (t - sess.open) % 60 != 0 || m < 0 || m >= NMIN;
		if (!bad && rows[s][m] != NULL)
			bad = 1;
		if (!bad) {
			rows[s][m] = strdup(v[i]);
			day[s][m] = (bb_bar){ .symbol = (uint32_t)s, .time = t,
			                      .open = strtod(f[2], NULL),
			                      .high = strtod(f[3], NULL),
			                      .low = strtod(f[4], NULL),
			                      .close = strtod(f[5], NULL),
			                      .volume = strtod(f[6], NULL) };
		} else {
			printf("export line %zu unexpected: %s\n", i + 1, v[i]);
		}
		free(copy);
	}
	free_lines(v, n);
	return bad || nsym != NSYM ? -1 : 0;
}

/* The feed: the export's header, then every line not deleted, in time
 * order (symbols in id order within a minute). */
static int write_feed(const char *path)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	fprintf(f, "%s\n", header);
	for (int m = 0; m < NMIN; m++)
		for (int s = 0; s < NSYM; s++)
			if (!del[s][m])
				fprintf(f, "%s\n", rows[s][m]);
	return fclose(f) == 0 ? 0 : -1;
}

/* Our directory, once the children are gone (stress.h's own cleanup, which
 * runs after this one, unlinks every segment of our buses, whatever their
 * roles). */
static void cleanup(void)
{
	if (getpid() != g_stress.owner)
		return;
	stress_kill_children();
	if (dir[0] != '\0')
		stress_sh("rm -rf %s", dir);
}

/* Has child pid ended? (It is left to be reaped.) */
static int ended(pid_t pid)
{
	siginfo_t si = { 0 };

	return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0 ||
	       si.si_pid == pid;
}

/* Write the feed into fifo once the coordinator reads it, a minute's
 * lines at a time with a pause between minutes. 0 or -1. */
static int write_fifo(const char *fifo, const char *feed)
{
	int64_t deadline = stress_now_ns() + 10000000000LL;
	int fd = -1;
	size_t n;
	char **v = read_lines(feed, &n);

	while (v != NULL && (fd = open(fifo, O_WRONLY | O_NONBLOCK)) < 0 &&
	       errno == ENXIO && stress_now_ns() < deadline)
		stress_sleep_ns(2000000);
	if (fd < 0) {
		free_lines(v, n);
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	char *last = NULL;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		/* a pause whenever the minute changes: field 2 */
		char *c = strchr(v[i], ',');
		if (i > 1 && c != NULL && last != NULL &&
		    strncmp(c, last, 22) != 0)
			stress_sleep_ns(500000);
		last = c;
		size_t len = strlen(v[i]);
		v[i][len] = '\n';
		rc = write(fd, v[i], len + 1) == (ssize_t)(len + 1) ? 0 : -1;
		v[i][len] = '\0';
	}
	close(fd);
	free_lines(v, n);
	return rc;
}

/* Derived bars of k minutes of sym from the store's day, flagged filled
 * where they hold a deleted minute. */
static size_t aggregate(int sym, uint32_t k, bb_bar *out)
{
	size_t nb = 0;

	for (int m = 0; m < NMIN; m++) {
		const bb_bar *b = &day[sym][m];
		int64_t start = sess.open + (int64_t)(m / (int)k) * k * 60;
		uint32_t fl = del[sym][m] ? BB_BAR_FILLED : 0;
		if (nb == 0 || out[nb - 1].time != start) {
			out[nb] = *b;
			out[nb].time = start;
			out[nb].flags = fl;
			nb++;
			continue;
		}
		bb_bar *d = &out[nb - 1];
		d->high = fmax(d->high, b->high);
		d->low = fmin(d->low, b->low);
		d->close = b->close;
		d->volume += b->volume;
		d->flags |= fl;
	}
	return nb;
}

static void check_derived(const char *tag, const bb_bus *b, const bb_upkeep *u)
{
	static const uint32_t iv[] = { 5, 15, 30, 60 }, want[] = { 78, 26, 13, 7 };
	bb_bar got[NMIN], exp[NMIN];

	for (size_t i = 0; i < 4; i++) {
		int bad = 0, counts = 1;
		for (int s = 0; s < NSYM; s++) {
			size_t n = 0, m = aggregate(s, iv[i], exp);
			if (bb_bars(b, u, (uint32_t)s, iv[i], got, NMIN, &n) != 0) {
				bad++;
				continue;
			}
			counts &= n == want[i] && m == want[i];
			for (size_t j = 0; j < n && j < m; j++) {
				const bb_bar *g = &got[j], *e = &exp[j];
				int diff = g->time != e->time || g->open != e->open ||
				       g->high != e->high || g->low != e->low ||
				       g->close != e->close || g->volume != e->volume ||
				       (g->flags & (BB_BAR_FILLED | BB_BAR_SYNTHETIC |
				                    BB_BAR_PARTIAL)) != e->flags;
				if (diff && bad < 3) {
					char tg[24], te[24];
					bb_time_format(g->time, tg);
					bb_time_format(e->time, te);
					printf("  %s %um %s #%zu: got  %s %.17g %.17g "
					       "%.17g %.17g %.17g flags %#x\n"
					       "  %s %um %s #%zu: want %s %.17g %.17g "
					       "%.17g %.17g %.17g flags %#x\n",
					       tag, iv[i], names[s], j, tg, g->open,
					       g->high, g->low, g->close, g->volume,
					       g->flags, tag, iv[i], names[s], j, te,
					       e->open, e->high, e->low, e->close,
					       e->volume, e->flags);
				}
				bad += diff;
			}
		}
		CHECK(counts, "%s: %um bars: %u per symbol", tag, iv[i], want[i]);
		CHECK(bad == 0, "%s: %um bars equal the store's day aggregated, "
		      "flagged filled exactly where they hold a deleted minute, "
		      "none partial (%d differ)", tag, iv[i], bad);
	}
}

/* barbus-bars --interval 1m against the export with a flags column. */
static void check_bars_1m(const char *tag, const char *bus)
{
	char out[128];
	size_t n;

	snprintf(out, sizeof(out), "%s/bars-%s.csv", dir, tag);
	CHECK(stress_sh("%s/barbus-bars --bus %s --interval 1m >%s", bin, bus, out) == 0,
	      "%s: barbus-bars --interval 1m exits 0", tag);
	char **v = read_lines(out, &n);
	CHECK(v != NULL && n == 1 + NSYM * NMIN,
	      "%s: barbus-bars --interval 1m: a header and %d lines (%zu lines)",
	      tag, NSYM * NMIN, n ? n - 1 : 0);
	char want[512];
	snprintf(want, sizeof(want), "%s,flags", header);
	CHECK(n > 0 && strcmp(v[0], want) == 0,
	      "%s: header is the export's plus ',flags': '%s'", tag,
	      n > 0 ? v[0] : "");
	int diffs = 0, shown = 0, filled = 0;
	for (int s = 0; s < NSYM; s++)
		for (int m = 0; m < NMIN; m++) {
			size_t i = 1 + (size_t)s * NMIN + (size_t)m;
			snprintf(want, sizeof(want), "%s,%s", rows[s][m],
			         del[s][m] ? "filled" : "");
			const char *got = i < n ? v[i] : "(missing)";
			filled += strstr(got, ",filled") != NULL;
			if (strcmp(got, want) == 0)
				continue;
			diffs++;
			if (shown++ < 8)
				printf("  %s line %zu: got  '%s'\n"
				       "  %s line %zu: want '%s'\n", tag, i + 1, got,
				       tag, i + 1, want);
		}
	CHECK(diffs == 0, "%s: barbus-bars 1m equals the store's day line for "
	      "line, byte for byte, 'filled' on exactly the %u deleted rows "
	      "(%d lines differ, %d filled)", tag, ndel, diffs, filled);
	/* The two ends of the session, said on their own. */
	for (size_t k = 0; k < sizeof(deletions) / sizeof(deletions[0]); k++) {
		int s = deletions[k].sym, m = deletions[k].min;
		if (m != 0 && m != NMIN - 1)
			continue;
		size_t i = 1 + (size_t)s * NMIN + (size_t)m;
		snprintf(want, sizeof(want), "%s,filled", rows[s][m]);
		CHECK(i < n && strcmp(v[i], want) == 0, "%s: %s's %s minute "
		      "(deleted) is there, filled: '%s'", tag, names[s],
		      m == 0 ? "first" : "last", i < n ? v[i] : "(missing)");
	}
	free_lines(v, n);
}

/* barbus-bars --quality: the exact lines. */
static void check_quality(const char *tag, const char *bus, const bb_upkeep *u)
{
	/* real / expected and (real + filled) / expected, as printed (%.2f) */
	static const char *const q[] = { "100.00", "99.74", "99.49", "99.23" };
	char out[128], want[256];
	size_t n;

	snprintf(out, sizeof(out), "%s/quality-%s.csv", dir, tag);
	CHECK(stress_sh("%s/barbus-bars --bus %s --quality >%s", bin, bus, out) == 0,
	      "%s: barbus-bars --quality exits 0", tag);
	char **v = read_lines(out, &n);
	CHECK(n == 1 + NSYM && strcmp(v[0], "symbol,expected,real,late,filled,"
	      "unfillable,synthetic,pending,quality,quality_with_fills") == 0,
	      "%s: barbus-bars --quality: its header and a line per symbol", tag);
	for (int s = 0; s < NSYM; s++) {
		unsigned d = ndel_sym[s];
		snprintf(want, sizeof(want), "%s,%d,%u,0,%u,0,0,0,%s,100.00", names[s],
		         NMIN, NMIN - d, d, q[d]);
		const char *got = (size_t)s + 1 < n ? v[s + 1] : "(missing)";
		CHECK(strcmp(got, want) == 0, "%s: quality of %s (%u deleted): "
		      "'%s' (want '%s')", tag, names[s], d, got, want);
	}
	free_lines(v, n);
	int ok = 1;
	for (int s = 0; s < NSYM; s++) {
		bb_quality qq = { 0 };
		unsigned d = ndel_sym[s];
		int one = bb_upkeep_quality(u, (uint32_t)s, &qq) == 0 &&
		      qq.expected == NMIN && qq.real == NMIN - d && qq.filled == d &&
		      qq.synthetic == 0 && qq.unfillable == 0 && qq.pending == 0 &&
		      qq.late == 0 && qq.date == DATE &&
		      fabs(qq.quality - 100.0 * (NMIN - d) / NMIN) < 1e-9 &&
		      fabs(qq.quality_with_fills - 100.0) < 1e-9;
		if (!one)
			printf("  %s quality %s: expected %u real %u filled %u "
			       "synthetic %u unfillable %u pending %u date %d "
			       "late %u quality %.17g with fills %.17g\n", tag,
			       names[s], qq.expected, qq.real, qq.filled,
			       qq.synthetic, qq.unfillable, qq.pending, qq.date,
			       qq.late, qq.quality, qq.quality_with_fills);
		ok &= one;
	}
	CHECK(ok, "%s: bb_upkeep_quality agrees (no pending, none late, date %d)",
	      tag, DATE);
}

/* One live run; use_fifo: the feed through a FIFO written once the
 * upkeep follows the bus, else the feed file. */
static void run(const char *tag, int use_fifo)
{
	const char *bus = stress_bus(tag);
	int64_t slow = stress_fast() || stress_tsan() ? 4 : 1;
	char db[96], feed[96], fifo[96], uperr[128], coerr[128], why[64];
	int failed0 = atomic_load(&g_stress.failed);
	int64_t t0 = stress_now_ns();

	snprintf(db, sizeof(db), "%s/db", dir);
	snprintf(feed, sizeof(feed), "%s/feed.csv", dir);
	snprintf(fifo, sizeof(fifo), "%s/feed-%s.fifo", dir, tag);
	snprintf(uperr, sizeof(uperr), "%s/upkeep-%s.err", dir, tag);
	snprintf(coerr, sizeof(coerr), "%s/coordinator-%s.err", dir, tag);
	if (use_fifo && mkfifo(fifo, 0600) != 0)
		stress_fatal("mkfifo %s: %s", fifo, strerror(errno));

	/* The upkeep first; the coordinator once it waits for the bus. */
	char up_exe[PATH_MAX + 32], co_exe[PATH_MAX + 32];
	snprintf(up_exe, sizeof(up_exe), "%s/barbus-upkeep", bin);
	snprintf(co_exe, sizeof(co_exe), "%s/barbus-coordinator", bin);
	pid_t up = stress_fork();
	if (up == 0) {
		char *const a[] = { up_exe, "--bus", (char *)bus, "--db", db, NULL };
		stress_exec_to(uperr, O_TRUNC, a);
	}
	int64_t deadline = stress_now_ns() + 10000000000LL * slow;
	while (!stress_file_has(uperr, "waiting for a coordinator") &&
	       stress_now_ns() < deadline && !ended(up))
		stress_sleep_ns(5000000);
	CHECK(stress_file_has(uperr, "waiting for a coordinator"),
	      "%s: the upkeep, started first, waits for the coordinator", tag);
	pid_t co = stress_fork();
	if (co == 0) {
		char *const a[] = { co_exe, "--bus", (char *)bus, "--db", db,
		                    "live", "--feed", use_fifo ? fifo : feed,
		                    "--clock", "feed", "--no-data-timeout", "2",
		                    NULL };
		stress_exec_to(coerr, O_TRUNC, a);
	}

	bb_upkeep *u = NULL;
	bb_upkeep_info info = { 0 };
	if (use_fifo) {
		/* The upkeep maps the ring before it makes its segments: once
		 * they are there, every record the feed makes is ahead of it. */
		while (bb_upkeep_open(&u, bus) != 0 && stress_now_ns() < deadline)
			stress_sleep_ns(5000000);
		CHECK(u != NULL, "%s: the upkeep made its segments before the "
		      "feed began", tag);
		/* It synchronises (nothing there yet) right after making
		 * them, then waits on the ring: give it that moment, so that
		 * this run takes everything from the ring. */
		stress_sleep_ns(200000000 * slow);
		CHECK(write_fifo(fifo, feed) == 0, "%s: the feed went through "
		      "the FIFO whole", tag);
	}

	/* The coordinator ends the session 2 s after the last line, then
	 * leaves at the end of its feed. */
	int st = stress_reap(co, 20000 * slow);
	CHECK(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "%s: the coordinator ends at the end of its feed after the "
	      "no-data timeout (%s)", tag, stress_status_str(st, why, sizeof(why)));
	deadline = stress_now_ns() + 10000000000LL * slow;
	for (;;) {
		if (u == NULL && bb_upkeep_open(&u, bus) != 0)
			u = NULL;
		if (u != NULL && bb_upkeep_status(u, &info) == 0 &&
		    info.done_date == DATE)
			break;
		if (stress_now_ns() >= deadline || ended(up))
			break;
		stress_sleep_ns(5000000);
	}
	CHECK(info.done_date == DATE, "%s: the upkeep says session %d is done "
	      "(done_date %d)", tag, DATE, info.done_date);
	CHECK(info.state == BB_UPKEEP_IDLE, "%s: ... and is idle, waiting for "
	      "the next session (state %u)", tag, info.state);
	/* Live: the upkeep keeps following; SIGTERM ends it with 0. */
	CHECK(!ended(up), "%s: the upkeep is still "
	      "following after the session", tag);
	kill(up, SIGTERM);
	st = stress_reap(up, 10000 * slow);
	CHECK(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "%s: the upkeep ends with 0 on SIGTERM (%s)", tag,
	      stress_status_str(st, why, sizeof(why)));
	CHECK(!stress_file_has(uperr, "Sanitizer") &&
	      !stress_file_has(coerr, "Sanitizer") &&
	      !stress_file_has(uperr, "runtime error") &&
	      !stress_file_has(coerr, "runtime error"),
	      "%s: no sanitizer report from the upkeep or the coordinator", tag);
	INFO("%s: session done %.2f s after the upkeep started", tag,
	     (double)(stress_now_ns() - t0) / 1e9);

	/* What the bus holds. */
	bb_bus *b = NULL;
	if (bb_bus_open(&b, bus) != 0 || u == NULL) {
		CHECK(0, "%s: open the bus and the upkeep's segments", tag);
	} else {
		bb_status bs = { 0 };
		int brc = bb_bus_status(b, &bs);
		CHECK(brc == 0 && bs.date == DATE &&
		      bs.state == BB_STATE_TIMER_EXPIRED && bs.mode == BB_MODE_LIVE,
		      "%s: the bus's session %d ended by the no-data timeout "
		      "(date %d, state %u)", tag, DATE, bs.date, bs.state);
		CHECK(bb_bus_counter(b, BB_CTR_BARS) == nfed &&
		      bb_bus_counter(b, BB_CTR_FEED_LINES) == nfed + 1 &&
		      bb_bus_counter(b, BB_CTR_FEED_BAD) == 0 &&
		      bb_bus_counter(b, BB_CTR_FEED_LATE) == 0 &&
		      bb_bus_counter(b, BB_CTR_FEED_DUPLICATES) == 0 &&
		      bb_bus_counter(b, BB_CTR_STORE_ERRORS) == 0,
		      "%s: the coordinator published the %u bars fed, none bad, "
		      "late or duplicate (bars %llu, lines %llu, bad %llu, late "
		      "%llu, dup %llu)", tag, nfed,
		      (unsigned long long)bb_bus_counter(b, BB_CTR_BARS),
		      (unsigned long long)bb_bus_counter(b, BB_CTR_FEED_LINES),
		      (unsigned long long)bb_bus_counter(b, BB_CTR_FEED_BAD),
		      (unsigned long long)bb_bus_counter(b, BB_CTR_FEED_LATE),
		      (unsigned long long)bb_bus_counter(b, BB_CTR_FEED_DUPLICATES));
		CHECK(bb_bus_counter(b, BB_CTR_MINUTES) == NMIN,
		      "%s: %d minute ends, the deleted whole minute's and the "
		      "last's (at the timeout) included (%llu)", tag, NMIN,
		      (unsigned long long)bb_bus_counter(b, BB_CTR_MINUTES));
		bb_upkeep_status(u, &info);
		CHECK(info.sessions_done == 1 && info.fills == ndel &&
		      info.unfillable == 0 && info.bars_seen == nfed,
		      "%s: upkeep status: 1 session done, %u fills, none "
		      "unfillable, %u bars seen (%llu, %llu, %llu, %llu)", tag,
		      ndel, nfed, (unsigned long long)info.sessions_done,
		      (unsigned long long)info.fills,
		      (unsigned long long)info.unfillable,
		      (unsigned long long)info.bars_seen);
		if (use_fifo)
			CHECK(info.lapped == 0, "%s: the upkeep was never lapped",
			      tag);
		check_bars_1m(tag, bus);
		check_quality(tag, bus, u);
		check_derived(tag, b, u);
	}
	bb_upkeep_close(u);
	bb_bus_close(b);
	if (atomic_load(&g_stress.failed) != failed0) {
		show_file("upkeep stderr", uperr);
		show_file("coordinator stderr", coerr);
	}
}

int main(int argc, char **argv)
{
	bb_calendar *cal = NULL;
	char db[96];
	(void)argc;

	stress_init("up-live", 180);
	atexit(cleanup); /* runs before stress.h's own cleanup */
	stress_bin(argv[0], NULL, bin, sizeof(bin));
	snprintf(dir, sizeof(dir), "/tmp/bb-uplive-XXXXXX");
	if (mkdtemp(dir) == NULL)
		stress_fatal("mkdtemp: %s", strerror(errno));
	if (bb_calendar_load(&cal, "XNYS", NULL, 0) != 0 ||
	    bb_calendar_next(cal, DATE, &sess) != 0 || sess.date != DATE ||
	    sess.close - sess.open != NMIN * 60)
		stress_fatal("XNYS session %d", DATE);
	bb_calendar_free(cal);
	snprintf(db, sizeof(db), "%s/db", dir);

	/* The store, and its day exported. */
	CHECK(stress_sh("%s/barbus-gen --db %s --symbols %d --from " DAY " --to " DAY
	         " --seed %d --missing-rate 0 >/dev/null 2>&1", bin, db, NSYM,
	         SEED) == 0, "barbus-gen made the store");
	CHECK(stress_sh("%s/barbus-export --db %s --from " DAY " --to " DAY
	         " >%s/day.csv", bin, db, dir) == 0, "barbus-export exported "
	      DAY);
	char path[128];
	snprintf(path, sizeof(path), "%s/day.csv", dir);
	if (load_export(path) != 0)
		stress_fatal("the store's day is not %d symbols x %d minutes",
		             NSYM, NMIN);

	/* The deletions, and the feed of what is left. */
	for (int s = 0; s < NSYM; s++)
		del[s][WHOLE_MIN] = 1;
	for (size_t k = 0; k < sizeof(deletions) / sizeof(deletions[0]); k++)
		del[deletions[k].sym][deletions[k].min] = 1;
	for (int s = 0; s < NSYM; s++)
		for (int m = 0; m < NMIN; m++) {
			ndel_sym[s] += del[s][m];
			ndel += del[s][m];
		}
	nfed = NSYM * NMIN - ndel;
	snprintf(path, sizeof(path), "%s/feed.csv", dir);
	if (write_feed(path) != 0)
		stress_fatal("writing %s", path);
	printf("%u of %d lines deleted, %u fed\n", ndel, NSYM * NMIN, nfed);

	run("file", 0);
	run("fifo", 1);

	/* The live coordinator wrote every fed bar to the store again: the
	 * store's day is what it was. */
	CHECK(stress_sh("%s/barbus-export --db %s --from " DAY " --to " DAY
	         " | cmp -s - %s/day.csv", bin, db, dir) == 0,
	      "the store's day is unchanged by the live runs");
	return stress_done();
}
