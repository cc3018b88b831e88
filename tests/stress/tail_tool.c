/*
 * tail_tool: barbus-tail against a real bus. barbus-gen makes a store of
 * two sessions with no gaps, barbus-coordinator replays it while
 * barbus-upkeep derives 5m bars, and the tails must print:
 *  - --from-start: every 1-minute bar once, as barbus-export
 *    prints them (plus the flags column), and the session and MINUTE_END
 *    events with --events;
 *  - --snapshot started in the middle of the run: the same bars, none twice;
 *  - --interval 5m --snapshot: every 5-minute bar once, final, as barbus-bars prints
 *    the last session's, though a row of it was held mid-write for 0.6 s
 *    (the upkeep stopped, the row's seqlock odd: readers of it get
 *    BB_ERETRY) while the tail looked, and the tail itself was stopped
 *    across the first session's end (it then reads the ring behind the
 *    upkeep, whose tables hold the next session);
 *  - lapped (a small ring, a tail stopped for a second): a message with
 *    the loss, no bar twice, the last session complete;
 *  - the usage and runtime errors their messages and exit codes.
 * Prints "N passed, N failed".
 */
#include <libgen.h>
#include <limits.h>

#include "stress.h"
#include "table.h"

static char dir[64], bin[PATH_MAX], me[PATH_MAX];

#define GEN "--symbols 6 --from 2024-07-01 --to 2024-07-02 --seed 5"

/* Bar lines only (no header, no '#' events), sorted. */
#define BARS(f) "grep -v -e '^#' -e '^symbol,' %s/" f " | sort"

static void replay(const char *bus, const char *extra, const char *tails)
{
	CHECK(stress_sh("cd %s; %s/barbus-upkeep --bus %s --db db --intervals 5m"
	         " 2>/dev/null & %s sleep 0.3; %s/barbus-coordinator --bus %s "
	         "--db %s/db %s backtest --from 2024-07-01 --to 2024-07-02 "
	         "2>/dev/null; rc=$?; wait; exit $rc", dir, bin, bus, tails, bin,
	         bus, dir, extra) == 0, "%s: coordinator replayed", bus);
}

/* Is pid stopped (state T in /proc/pid/stat)? */
static int stopped(pid_t pid)
{
	char path[64], buf[256], *r;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = '\0';
	return (r = strrchr(buf, ')')) != NULL && r[1] == ' ' && r[2] == 'T';
}

/*
 * `tail_tool --hold BUS`: what a reader meets when the upkeep is
 * descheduled in the middle of rewriting a row. The upkeep is stopped,
 * symbol 0's latest 5m row marked as being written (its seqlock odd) for
 * 0.6 s, then restored and the upkeep continued. Exit 0 if it was held.
 */
static int hold(const char *bus)
{
	bb_upkeep *u = NULL;
	struct bb__seg raw = { 0 };
	struct bb__table_geom g;
	pid_t pid = 0;
	int rc = 1, mapped = 0;

	for (int i = 0; i < 1000 && bb_upkeep_open(&u, bus) != 0; i++)
		usleep(10000);
	if (u != NULL)
		mapped = bb__seg_reader_open(&raw, bus, "up.5m", BB_ROLE_TABLE,
		                             BB__SEG_RW) == 0 &&
		         bb__table_geom(raw.hdr, &g) == 0;
	/* Once symbol 0 holds a 5m bar (the replay may not have begun; a
	 * reset alone sets the word's high half). */
	for (int i = 0; mapped && i < 1000 &&
	                (uint32_t)atomic_load(bb__table_state(&g, 0)) == 0; i++)
		usleep(10000);
	if (!mapped || bb_upkeep_writer_state(u, &pid) != BB_WRITER_ALIVE)
		pid = 0;
	/* Stopped between two writes (a row's sequence word even), else
	 * continued and stopped again. */
	for (int k = 0; pid > 0 && rc != 0 && k < 100 &&
	                kill(pid, SIGSTOP) == 0; k++) {
		for (int i = 0; i < 1000 && !stopped(pid); i++)
			usleep(1000);
		/* Bars held: the state word's low half. */
		uint32_t c = (uint32_t)atomic_load(bb__table_state(&g, 0));
		struct bb__slot *row = c > 0 && c <= g.rows ?
		                       bb__table_row(&g, 0, c - 1) : NULL;
		if (row != NULL && !(atomic_load(&row->seq) & 1)) {
			atomic_fetch_add(&row->seq, 1);
			usleep(600000);
			atomic_fetch_sub(&row->seq, 1);
			rc = 0;
		}
		kill(pid, SIGCONT);
	}
	if (mapped)
		bb__seg_reader_close(&raw);
	bb_upkeep_close(u);
	return rc;
}

static void paced_run(void)
{
	const char *bus = stress_bus("a");
	static char tails[8 * PATH_MAX];

	snprintf(tails, sizeof(tails),
	         "%s/barbus-tail --bus %s --wait 10 --from-start --events > tail1 2>err1 &"
	         " %s/barbus-tail --bus %s --wait 10 --interval 5m --snapshot > tail5 "
	         "2>err5 & t5=$!; (sleep %s; kill -STOP $t5; sleep %s; kill -CONT $t5)"
	         " 2>/dev/null & (sleep 1; %s/barbus-tail --bus %s --wait 10 --snapshot "
	         "> snap 2>errs) & (sleep 1.2; %s --hold %s; echo $? > held) &",
	         bin, bus, bin, bus, stress_tsan() ? "5" : "1", stress_tsan() ?
	         "6" : "1.5", bin, bus, me, bus);
	/* 780 minutes in 2.3 s; under ThreadSanitizer, whose processes run
	 * several times slower, in 9.4 s, so no tail is lapped. The bus may
	 * still be being made a second in (its pages are stored to once, and
	 * slowly under ThreadSanitizer): the third tail waits for it too. */
	replay(bus, stress_tsan() ? "--speed 5000x" : "--speed 20000x", tails);
	CHECK(stress_sh(BARS("tail1") " > %s/t1 && cmp -s %s/t1 %s/export", dir,
	         dir, dir, dir) == 0, "1m tail: every bar once, as exported");
	CHECK(stress_sh("test $(grep -c '^# MINUTE_END' %s/tail1) -eq 780 && "
	         "test $(grep -c '^# SESSION_START' %s/tail1) -eq 2 && "
	         "grep -q '^# SESSION_END 2024-07-02 .*reason=end of data' %s/tail1",
	         dir, dir, dir) == 0, "--events: 780 MINUTE_END, 2 sessions");
	CHECK(stress_sh(BARS("snap") " > %s/s && cmp -s %s/s %s/export", dir, dir,
	         dir, dir) == 0, "--snapshot mid-run: every bar once");
	CHECK(stress_sh("test \"$(cat %s/held)\" = 0", dir) == 0,
	      "a 5m row held mid-write for 0.6 s during the run");
	CHECK(stress_sh("test $(grep -c . %s/tail5) -eq 936 && "
	         "! grep -q partial %s/tail5 && "
	         "test $(sort -u %s/tail5 | wc -l) -eq 936", dir, dir, dir) == 0,
	      "5m tail: 2 x 78 final bars of 6 symbols, none twice");
	CHECK(stress_sh("%s/barbus-bars --bus %s --interval 5m | tail -n +2 | "
	         "sort > %s/b5 && grep 2024-07-02 %s/tail5 | sort | cmp -s - %s/b5",
	         bin, bus, dir, dir, dir) == 0,
	      "5m tail: the last session as barbus-bars prints it");
	CHECK(stress_sh("test ! -s %s/err1 && test ! -s %s/err5 && test ! -s "
	         "%s/errs", dir, dir, dir) == 0, "tails said nothing on stderr");
}

static void lapped_run(void)
{
	const char *bus = stress_bus("l");
	static char tails[8 * PATH_MAX];

	/* The tail stopped for a second: the writer laps it. */
	snprintf(tails, sizeof(tails),
	         "%s/barbus-tail --bus %s --wait 10 >taill 2>errl & t=$!; "
	         "(sleep 0.6; kill -STOP $t; sleep 1; kill -CONT $t) &", bin, bus);
	replay(bus, "--ring-capacity 1024 --speed 20000x", tails);
	CHECK(stress_sh("grep -q 'barbus-tail: bus %s: lapped, [0-9]* records "
	         "lost; resynchronised from the tables' %s/errl", bus, dir) == 0,
	      "lapped: the loss said on stderr");
	CHECK(stress_sh("test $(cut -d, -f1,2 %s/taill | sort | uniq -d | wc -l)"
	         " -eq 0", dir) == 0, "lapped: no bar twice");
	CHECK(stress_sh("grep 2024-07-02 %s/export > %s/day2 && grep 2024-07-02 "
	         "%s/taill | sort | cmp -s - %s/day2", dir, dir, dir, dir) == 0,
	      "lapped: the last session complete after resynchronising");
}

static void errors(void)
{
	CHECK(stress_sh("%s/barbus-tail 2>%s/e; test $? -eq 2 && grep -qx "
	         "'barbus-tail: --bus NAME is required' %s/e", bin, dir, dir) == 0,
	      "no --bus: usage error naming it, exit 2");
	CHECK(stress_sh("%s/barbus-tail --bus x --format=xml 2>%s/e; test $? -eq 2"
	         " && grep -q '^barbus-tail: --format: ' %s/e", bin, dir, dir) == 0,
	      "bad --format=VALUE: usage error naming it, exit 2");
	CHECK(stress_sh("%s/barbus-tail --bus x --snapshot --from-start 2>%s/e; "
	         "test $? -eq 2", bin, dir) == 0,
	      "--snapshot with --from-start: exit 2");
	CHECK(stress_sh("%s/barbus-tail --bus no-such-bus-%d 2>%s/e; test $? -eq 1"
	         " && grep -q '^barbus-tail: bus no-such-bus-[0-9]*: no such bus'"
	         " %s/e", bin, (int)getpid(), dir, dir) == 0,
	      "missing bus: runtime error, exit 1");
	CHECK(stress_sh("%s/barbus-tail --version | grep -qx 'barbus-tail "
	         BB_VERSION " (libbarbus " BB_VERSION ")'", bin) == 0,
	      "--version: the program's and the library's");
	CHECK(stress_sh("%s/barbus-tail -h | grep -q -- '--snapshot'", bin) == 0,
	      "-h prints the options");
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--hold") == 0)
		return hold(argv[2]);
	stress_init("tail-tool", 120);
	char rel[PATH_MAX], *arg0 = strdup(argv[0]);
	snprintf(rel, sizeof(rel), "%s/../bin", dirname(arg0));
	free(arg0);
	if (realpath(argv[0], me) == NULL)
		stress_fatal("realpath %s", argv[0]);
	if (realpath(rel, bin) == NULL) /* absolute: the tails run in dir */
		stress_fatal("realpath %s", rel);
	snprintf(dir, sizeof(dir), "/tmp/bb-tailtool-XXXXXX");
	if (mkdtemp(dir) == NULL)
		stress_fatal("mkdtemp");
	CHECK(stress_sh("%s/barbus-gen --db %s/db " GEN " 2>/dev/null && "
	         "%s/barbus-export --db %s/db --from 2024-07-01 --to 2024-07-02 |"
	         " tail -n +2 | sed 's/$/,/' | sort > %s/export", bin, dir, bin,
	         dir, dir) == 0, "barbus-gen made the store");
	paced_run();
	lapped_run();
	errors();
	if (!getenv("BB_KEEP")) stress_sh("rm -rf %s", dir);
	return stress_done();
}
