/*
 * tail_tool: barbus-tail against a real bus. barbus-gen makes a store of
 * two sessions with no gaps, barbus-coordinator replays it while
 * barbus-upkeep derives 5m bars, and the tails must print:
 *  - --from-start: every 1-minute bar once, as barbus-export
 *    prints them (plus the flags column), and the session and MINUTE_END
 *    events with --events;
 *  - --snapshot started in the middle of the run: the same bars, none twice;
 *  - --interval 5m --snapshot: every 5-minute bar once, final, as barbus-bars prints
 *    the last session's;
 *  - lapped (a small ring, a tail stopped for a second): a message with
 *    the loss, no bar twice, the last session complete;
 *  - the usage and runtime errors their messages and exit codes.
 * Prints "N passed, N failed".
 */
#include <libgen.h>
#include <limits.h>

#include "stress.h"

static char dir[64], bin[PATH_MAX];

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

static void paced_run(void)
{
	const char *bus = stress_bus("a");
	static char tails[8 * PATH_MAX];

	snprintf(tails, sizeof(tails),
	         "%s/barbus-tail --bus %s --wait 10 --from-start --events > tail1 2>err1 &"
	         " %s/barbus-tail --bus %s --wait 10 --interval 5m --snapshot > tail5 "
	         "2>err5 & (sleep 1; %s/barbus-tail --bus %s --wait 10 --snapshot "
	         "> snap 2>errs) &", bin, bus, bin, bus, bin, bus);
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
	(void)argc;
	stress_init("tail-tool", 120);
	char rel[PATH_MAX], *me = strdup(argv[0]);
	snprintf(rel, sizeof(rel), "%s/../bin", dirname(me));
	free(me);
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
