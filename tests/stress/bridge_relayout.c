/*
 * bridge_relayout: the source's upkeep restarted with other intervals
 * while a bridge carries its bus. A paced backtest of three sessions on
 * bus A with barbus-upkeep deriving 5m, `publish` from A and `mirror` into
 * B; inside the second session the upkeep is SIGKILLed and a new one
 * started with 15m and 30m (its tables replace the old ones). The
 * publisher carries the new tables under a new UP_HELLO, the mirror makes
 * B's upkeep segments again for it: at the end B's 15m and 30m bars of the
 * last session and its quality equal A's byte for byte, and 5m is gone
 * from both. Prints "N passed, N failed".
 */
#include <limits.h>

#include "stress.h"
#include "bridge_nats.h"

static char dir[64], bin[PATH_MAX];

/* barbus-bars `args` of a and b: the same exit status and output. */
static void same(const char *a, const char *b, const char *args, int lines)
{
	int ra = stress_sh("%s/barbus-bars --bus %s %s > %s/a.out 2>/dev/null",
	                   bin, a, args, dir);
	int rb = stress_sh("%s/barbus-bars --bus %s %s > %s/b.out 2>/dev/null",
	                   bin, b, args, dir);

	CHECK(ra == rb, "barbus-bars %s: the same exit status on both buses "
	      "(%d, %d)", args, ra, rb);
	CHECK(lines == 0 || stress_sh("test $(wc -l < %s/a.out) -gt %d", dir,
	      lines) == 0, "barbus-bars %s: the source holds more than %d lines",
	      args, lines);
	CHECK(stress_sh("cmp -s %s/a.out %s/b.out", dir, dir) == 0,
	      "barbus-bars %s of the mirror equals the source's byte for byte",
	      args);
}

int main(int argc, char **argv)
{
	int rc;
	struct natsd n;

	(void)argc;
	stress_init("bridge-relayout", 120);
	if (bridge_begin(argv[0], bin, sizeof(bin), dir, sizeof(dir),
	                 "relayout", &rc))
		return rc;
	const char *a = stress_bus("a"), *b = stress_bus("b");
	nats_new(&n, dir, "n1");
	nats_start(&n, "");
	CHECK(stress_sh("%s/barbus-gen --db %s/db --symbols 8 --from 2024-07-01 "
	         "--to 2024-07-03 --seed 7 --missing-rate 0.05 2>/dev/null",
	         bin, dir) == 0, "barbus-gen made the store");

	/* About 1.2 s a session; the upkeep replaced 1.6 s in. */
	CHECK(stress_sh("%s/barbus-upkeep --bus %s --db %s/db --intervals 5m "
	         "--history-days 2 2>/dev/null & u=$!; sleep 0.2; "
	         "%s/barbus-coordinator --bus %s --db %s/db backtest --from "
	         "2024-07-01 --to 2024-07-03 --history-days 2 --speed 20000x "
	         "2>/dev/null & c=$!; "
	         "timeout -s KILL 60 %s/barbus-bridge publish --bus %s --nats %s "
	         "--exit-at-done 2>%s/publish.err & p=$!; sleep 0.2; "
	         "timeout -s KILL 60 %s/barbus-bridge mirror --bus %s --nats %s "
	         "--stream barbus-%s --exit-at-done 2>%s/mirror.err & m=$!; "
	         "sleep 1.4; { kill -KILL $u; wait $u; } 2>/dev/null; "
	         "%s/barbus-upkeep --bus %s --db %s/db --intervals 15m,30m "
	         "--history-days 2 2>/dev/null & u=$!; "
	         "wait $c && wait $u && wait $p && wait $m",
	         bin, a, dir, bin, a, dir, bin, a, n.url, dir, bin, b, n.url, a,
	         dir, bin, a, dir) == 0,
	      "backtest, upkeep replaced mid-run, publish and mirror exit 0");
	CHECK(stress_sh("grep -q 'the upkeep was replaced' %s/publish.err", dir)
	      == 0, "the publisher says it carries the new upkeep");
	CHECK(stress_sh("grep -q 'new layout (2 intervals, 2 history days)' "
	         "%s/mirror.err", dir) == 0,
	      "the mirror says its upkeep segments follow the new layout");
	same(a, b, "--interval 15m", 20);
	same(a, b, "--interval 30m", 10);
	same(a, b, "--quality", 8);
	same(a, b, "", 300);
	CHECK(stress_sh("%s/barbus-bars --bus %s --interval 5m >/dev/null "
	         "2>&1", bin, b) != 0, "5m is no longer derived on the mirror");
	nats_stop(&n, SIGTERM);
	return stress_done();
}
