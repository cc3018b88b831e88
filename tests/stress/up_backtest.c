/*
 * up_backtest: backtests that cannot silently lie.
 *
 *  - a --from/--to range without a session is an error (exit 1) that makes
 *    no segment of the bus;
 *  - a session of the calendar the store lacks entirely (2024-07-03 here)
 *    is said on stderr, counted (barbus-status counter.empty_sessions), and
 *    the upkeep under ffill makes no flat bar of it: no 1-minute and no 5m
 *    bar of that day, every minute unfillable;
 *  - with --symbols a subset, the upkeep follows only those (no fill of
 *    any other symbol, no quality figure: expected 0), and barbus-status
 *    says how many are replayed.
 *
 * Prints "N passed, N failed".
 */
#include "stress.h"

#define NSYM 4

static char dir[64], bin[PATH_MAX];

/* Upkeep (ffill) first, then a coordinator over 07-01..07-05 with extra
 * arguments (NULL-terminated); both exit codes, 0 and 0 expected. */
static int run(const char *bus, const char *tag, const char *symbols)
{
	char db[96], ulog[128], clog[128];

	snprintf(db, sizeof(db), "%s/db", dir);
	snprintf(ulog, sizeof(ulog), "%s/up-%s.err", dir, tag);
	snprintf(clog, sizeof(clog), "%s/co-%s.err", dir, tag);
	const char *ua[] = { "--bus", bus, "--db", db, "--gap-policy", "ffill",
	                     NULL };
	pid_t up = stress_spawn(bin, "barbus-upkeep", ulog, ua);
	stress_sleep_ns(100 * 1000000LL);
	const char *ca[] = { "--bus", bus, "--db", db, "backtest", "--from",
	                     "2024-07-01", "--to", "2024-07-05", "--history-days",
	                     "3", symbols ? "--symbols" : NULL, symbols, NULL };
	pid_t co = stress_spawn(bin, "barbus-coordinator", clog, ca);
	int cx = stress_exit_code(co, 30000), ux = stress_exit_code(up, 30000);
	return cx != 0 ? 1 : ux != 0 ? 2 : 0;
}

static int shm_objects(const char *bus)
{
	return stress_sh("test -z \"$(ls /dev/shm | grep -F 'barbus.%s.')\"",
	                 bus) == 0 ? 0 : 1;
}

static void no_session_range(void)
{
	const char *bus = stress_bus("none");
	char db[96];

	snprintf(db, sizeof(db), "%s/db", dir);
	int rc = stress_sh("%s/barbus-coordinator --bus %s --db %s backtest "
	                   "--from 2024-07-06 --to 2024-07-07 2>%s/none.err", bin,
	                   bus, db, dir);
	CHECK(rc == 1, "a range without a session (a weekend): exit 1 (%d)", rc);
	CHECK(stress_sh("grep -q 'no session of calendar' %s/none.err", dir) == 0,
	      "a range without a session: said on stderr");
	CHECK(shm_objects(bus) == 0, "a range without a session: no segment "
	      "of the bus made");
}

static void empty_session(void)
{
	const char *bus = stress_bus("empty");

	CHECK(run(bus, "empty", NULL) == 0, "store without 2024-07-03: "
	      "coordinator and upkeep exit 0");
	CHECK(stress_sh("grep -q 'session 2024-07-03: the store has no bar of it' "
	                "%s/co-empty.err", dir) == 0,
	      "the empty session is said on stderr");
	CHECK(stress_sh("%s/barbus-status --bus %s | grep -qx "
	                "'counter.empty_sessions 1'", bin, bus) == 0,
	      "barbus-status: counter.empty_sessions 1");
	CHECK(stress_sh("%s/barbus-bars --bus %s --interval 1m --history >%s/e1.csv"
	                " && %s/barbus-bars --bus %s --interval 5m --history "
	                ">%s/e5.csv", bin, bus, dir, bin, bus, dir) == 0,
	      "barbus-bars prints the history");
	CHECK(stress_sh("! grep -q ',2024-07-03T' %s/e1.csv %s/e5.csv", dir,
	                dir) == 0,
	      "no flat bar (1m or 5m) of the session the store lacks");
	CHECK(stress_sh("grep -q ',2024-07-02T.*synthetic' %s/e1.csv", dir) == 0,
	      "ffill still fills the gaps of a session with real bars");
	CHECK(stress_sh("test $(grep -c ',2024-07-05T' %s/e5.csv) -eq %d", dir,
	                NSYM * 78) == 0, "the session after it is whole at 5m");
}

static void symbol_subset(void)
{
	const char *bus = stress_bus("subset");

	CHECK(run(bus, "subset", "SYM0001,SYM0003") == 0, "--symbols SYM0001,SYM0003: "
	      "coordinator and upkeep exit 0");
	CHECK(stress_sh("%s/barbus-status --bus %s | grep -qx "
	                "'counter.replayed_symbols 2'", bin, bus) == 0,
	      "barbus-status: counter.replayed_symbols 2");
	CHECK(stress_sh("%s/barbus-bars --bus %s --quality >%s/sq.csv", bin, bus,
	                dir) == 0, "barbus-bars --quality");
	CHECK(stress_sh("grep -qx 'SYM0002,0,0,0,0,0,0,0,100.00,100.00' %s/sq.csv && "
	                "grep -qx 'SYM0004,0,0,0,0,0,0,0,100.00,100.00' %s/sq.csv",
	                dir, dir) == 0,
	      "symbols not replayed: no quality figure (expected 0)");
	CHECK(stress_sh("grep -q '^SYM0001,390,' %s/sq.csv && grep -q '^SYM0003,390,' "
	                "%s/sq.csv", dir, dir) == 0,
	      "symbols replayed: every minute of the last session expected");
	CHECK(stress_sh("test -z \"$(%s/barbus-bars --bus %s --symbol SYM0002 "
	                "--symbol SYM0004 --interval 1m --history | tail -n +2)\"",
	                bin, bus) == 0,
	      "symbols not replayed: no 1-minute bar, filled or synthetic");
	CHECK(stress_sh("test -z \"$(%s/barbus-bars --bus %s --symbol SYM0002 "
	                "--interval 5m --history | tail -n +2)\"", bin, bus) == 0,
	      "symbols not replayed: no derived bar");
}

int main(int argc, char **argv)
{
	(void)argc;
	stress_init("up-backtest", 120);
	stress_bin(argv[0], NULL, bin, sizeof(bin));
	snprintf(dir, sizeof(dir), "/tmp/bb-upbacktest-XXXXXX");
	if (mkdtemp(dir) == NULL)
		stress_fatal("mkdtemp");
	/* Two ranges into one store: 2024-07-03 left out. */
	CHECK(stress_sh("%s/barbus-gen --db %s/db --symbols %d --from 2024-06-24 "
	         "--to 2024-07-02 --seed 5 --missing-rate 0.05 2>/dev/null && "
	         "%s/barbus-gen --db %s/db --symbols %d --from 2024-07-05 --to "
	         "2024-07-05 --seed 6 --missing-rate 0.05 2>/dev/null", bin, dir,
	         NSYM, bin, dir, NSYM) == 0, "barbus-gen made the store");
	no_session_range();
	empty_session();
	symbol_subset();
	return stress_done_dir(dir);
}
