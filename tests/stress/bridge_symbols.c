/*
 * bridge_symbols: `barbus-bridge publish --symbols` and `--intervals`
 * against a nats-server on a free loopback port. A finished backtest of
 * two sessions (one of history) of four symbols on bus A, published with
 * --symbols SYM0003,SYM0001 and mirrored into B: B's directory holds those
 * two (in A's id order) and `barbus-bars --history` of B equals A's for
 * them byte for byte, and so do its upkeep's 5m bars (history and the
 * session) and quality figures (A's upkeep's rows under the stream's
 * numbers). --intervals 1m,5x is refused naming the option and the
 * interval. Prints "N passed, N failed".
 */
#include <limits.h>

#include "stress.h"
#include "bridge_nats.h"

static char dir[64], bin[PATH_MAX];

int main(int argc, char **argv)
{
	int rc;
	struct natsd n;

	(void)argc;
	stress_init("bridge-symbols", 60);
	if (bridge_begin(argv[0], bin, sizeof(bin), dir, sizeof(dir), "bridge",
	                 &rc))
		return rc;
	const char *a = stress_bus("a"), *b = stress_bus("b");
	nats_new(&n, dir, "n1");
	nats_start(&n, "");
	CHECK(stress_sh("%s/barbus-gen --db %s/db --symbols 4 --from 2024-07-01 "
	         "--to 2024-07-02 --seed 9 --missing-rate 0.05 2>/dev/null",
	         bin, dir) == 0, "barbus-gen made the store");
	CHECK(stress_sh("%s/barbus-upkeep --bus %s --db %s/db --intervals 5m "
	         "--gap-policy ffill 2>/dev/null & u=$!; sleep 0.2; "
	         "%s/barbus-coordinator --bus %s --db %s/db backtest "
	         "--from 2024-07-01 --to 2024-07-02 --history-days 1 2>/dev/null "
	         "&& wait $u", bin, a, dir, bin, a, dir) == 0,
	      "backtest on A with an upkeep (5m)");
	CHECK(stress_sh("timeout -s KILL 60 %s/barbus-bridge publish --bus %s "
	         "--nats %s --intervals 1m,5x 2>%s/err; test $? -eq 2 && "
	         "grep -q -- \"--intervals: '1m,5x': interval '5x' is not Nm\" "
	         "%s/err", bin, a, n.url, dir, dir) == 0,
	      "--intervals 1m,5x is refused, the option and interval named");
	CHECK(stress_sh("timeout -s KILL 60 %s/barbus-bridge publish --bus %s "
	         "--nats %s --symbols SYM0003,SYM0001 --intervals 1m,5m "
	         "--exit-at-done", bin, a, n.url) == 0,
	      "publish --symbols SYM0003,SYM0001 --intervals 1m,5m exits at DONE");
	CHECK(stress_sh("timeout -s KILL 60 %s/barbus-bridge mirror --bus %s "
	         "--nats %s --stream barbus-%s --exit-at-done", bin, b, n.url,
	         a) == 0, "mirror exits at DONE");
	CHECK(stress_sh("%s/barbus-bars --bus %s --history --symbols "
	         "SYM0001,SYM0003 > %s/a && %s/barbus-bars --bus %s --history "
	         "> %s/b && test $(wc -l < %s/a) -gt 1000 && cmp %s/a %s/b", bin,
	         a, dir, bin, b, dir, dir, dir, dir) == 0,
	      "B holds SYM0001 and SYM0003 only, their bars equal A's byte for byte");
	static const char *const up[] = { "--interval 5m --history",
	                                  "--interval 5m", "--quality" };
	for (int i = 0; i < 3; i++)
		CHECK(stress_sh("%s/barbus-bars --bus %s %s --symbols SYM0001,SYM0003"
		         " > %s/a && %s/barbus-bars --bus %s %s > %s/b && "
		         "test $(wc -l < %s/a) -gt 2 && cmp %s/a %s/b", bin, a, up[i],
		         dir, bin, b, up[i], dir, dir, dir, dir) == 0,
		      "B's barbus-bars %s equals A's for SYM0001 and SYM0003", up[i]);
	CHECK(stress_sh("%s/barbus-bars --bus %s --symbol SYM0002 >/dev/null "
	         "2>&1", bin, b) != 0, "SYM0002 is not on B");
	nats_stop(&n, SIGTERM);
	return stress_done();
}
