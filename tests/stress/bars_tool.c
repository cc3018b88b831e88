/*
 * bars_tool: the read-side tools against a real bus. barbus-gen makes a
 * store, barbus-coordinator replays three sessions with two of history,
 * then barbus-bars --history must print exactly what barbus-export prints
 * for the same days (plus the empty flags column), barbus-sessions one line
 * per session, and the error cases their messages and exit codes.
 * Prints "N passed, N failed".
 */
#include <limits.h>

#include "stress.h"

static char dir[64], bin[PATH_MAX];
static const char *bus;

/* Run a shell command line; its exit status (or -1). */
int main(int argc, char **argv)
{
	(void)argc;
	stress_init("bars-tool", 120);
	stress_bin(argv[0], NULL, bin, sizeof(bin));
	snprintf(dir, sizeof(dir), "/tmp/bb-barstool-XXXXXX");
	if (mkdtemp(dir) == NULL)
		stress_fatal("mkdtemp");
	bus = stress_bus(NULL);
	CHECK(stress_sh("%s/barbus-gen --db %s/db --symbols 12 --from 2024-07-01 "
	         "--to 2024-07-03 --seed 3 --missing-rate 0.05 2>/dev/null",
	         bin, dir) == 0, "barbus-gen made the store");
	CHECK(stress_sh("%s/barbus-sessions --bus %s --wait 20 > %s/sessions &"
	         " %s/barbus-coordinator --bus %s --db %s/db backtest --from "
	         "2024-07-01 --to 2024-07-03 --history-days 2 2>/dev/null; wait",
	         bin, bus, dir, bin, bus, dir) == 0, "coordinator replayed");
	CHECK(stress_sh("test $(wc -l < %s/sessions) -eq 3 && grep -q '^2024-07-03 .*"
	         "end of data' %s/sessions", dir, dir) == 0,
	      "barbus-sessions printed one line per session");
	CHECK(stress_sh("%s/barbus-export --db %s/db --from 2024-07-01 --to 2024-07-03"
	         " | sed '1s/$/,flags/;2,$s/$/,/' > %s/export.csv", bin, dir,
	         dir) == 0, "barbus-export");
	CHECK(stress_sh("%s/barbus-bars --bus %s --history > %s/bars.csv", bin, bus,
	         dir) == 0, "barbus-bars --history exits 0");
	CHECK(stress_sh("cmp -s %s/bars.csv %s/export.csv", dir, dir) == 0,
	      "barbus-bars --history equals the store's three days");
	CHECK(stress_sh("%s/barbus-bars --bus %s --symbol SYM0003 | tail -n +2 | "
	         "cut -d, -f1 | sort -u | grep -qx SYM0003", bin, bus) == 0,
	      "--symbol selects that symbol only");
	CHECK(stress_sh("%s/barbus-bars --bus %s --symbol NOPE 2>%s/err; test $? -eq 1"
	         " && grep -q 'unknown symbol NOPE' %s/err", bin, bus, dir, dir)
	      == 0, "unknown symbol: message and exit 1");
	CHECK(stress_sh("%s/barbus-bars --bus %s-none 2>%s/err; test $? -eq 1 && "
	         "grep -q 'no such bus' %s/err", bin, bus, dir, dir) == 0,
	      "missing bus: message and exit 1");
	CHECK(stress_sh("%s/barbus-bars --bus %s --interval 7x 2>%s/err; test $? -eq 2"
	         " && grep -q -- '--interval' %s/err", bin, bus, dir, dir) == 0,
	      "bad interval: message and exit 2");
	stress_sh("rm -rf %s", dir);
	return stress_done();
}
