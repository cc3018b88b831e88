/*
 * bridge_e2e: barbus-bridge end to end against a nats-server on a free
 * loopback port. A backtest of three sessions (two of history) on bus A,
 * with barbus-upkeep deriving 5m, 15m and 1h and forward-filling the
 * store's missing minutes; `publish` from A and `mirror` into B, started
 * after the backtest ended: `barbus-bars` (current session and --history)
 * at 1m and every derived interval, and `--quality`, of B equal A's byte
 * for byte. Then the same with the publisher and the mirror started in the
 * middle of a paced backtest, and a stream whose settings contradict the
 * publisher's refused, and the stream of a bus removed and made again
 * under the same name refused to the new bus (its positions start again).
 * Prints "N passed, N failed".
 */
#include <limits.h>

#include "stress.h"
#include "bridge_nats.h"

static char dir[64], bin[PATH_MAX];

#define UPKEEP_ARGS "--intervals 5m,15m,1h --history-days 2 --gap-policy ffill"

/* 1m and every derived interval, this session and history; quality. */
static void same_bars(const char *a, const char *b, const char *what)
{
	bridge_same(bin, dir, a, b, what, "--history", 2000);
	bridge_same(bin, dir, a, b, what, "", 1000);
	bridge_same(bin, dir, a, b, what, "--interval 5m --history", 1000);
	bridge_same(bin, dir, a, b, what, "--interval 5m", 300);
	bridge_same(bin, dir, a, b, what, "--interval 15m --history", 400);
	bridge_same(bin, dir, a, b, what, "--interval 15m", 100);
	bridge_same(bin, dir, a, b, what, "--interval 1h --history", 100);
	bridge_same(bin, dir, a, b, what, "--interval 1h", 30);
	bridge_same(bin, dir, a, b, what, "--quality", 8);
	/* The store's missing minutes made synthetic bars on both. */
	CHECK(stress_sh("%s/barbus-bars --bus %s --history | grep -c synthetic "
	         "| grep -qv '^0$'", bin, b) == 0,
	      "%s: the mirror holds the source's synthetic fills", what);
}

int main(int argc, char **argv)
{
	int rc;
	struct natsd n;

	(void)argc;
	stress_init("bridge-e2e", 120);
	if (bridge_begin(argv[0], bin, sizeof(bin), dir, sizeof(dir), "bridge",
	                 &rc))
		return rc;
	const char *a = stress_bus("a"), *b = stress_bus("b");
	const char *a2 = stress_bus("a2"), *b2 = stress_bus("b2");
	nats_new(&n, dir, "n1");
	nats_start(&n, "");
	CHECK(stress_sh("%s/barbus-gen --db %s/db --symbols 8 --from 2024-07-01 "
	         "--to 2024-07-03 --seed 5 --missing-rate 0.05 2>/dev/null",
	         bin, dir) == 0, "barbus-gen made the store");

	/* A finished backtest, published, then mirrored: the late mirror. */
	CHECK(stress_sh("%s/barbus-upkeep --bus %s --db %s/db " UPKEEP_ARGS
	         " 2>/dev/null & u=$!; sleep 0.2; "
	         "%s/barbus-coordinator --bus %s --db %s/db backtest "
	         "--from 2024-07-01 --to 2024-07-03 --history-days 2 2>/dev/null "
	         "&& wait $u", bin, a, dir, bin, a, dir) == 0,
	      "backtest on A with an upkeep");
	CHECK(stress_sh("timeout -s KILL 60 %s/barbus-bridge publish --bus %s --nats %s "
	         "--exit-at-done", bin, a, n.url) == 0, "publish exits at DONE");
	CHECK(stress_sh("timeout -s KILL 60 %s/barbus-bridge mirror --bus %s --nats %s --stream "
	         "barbus-%s --exit-at-done", bin, b, n.url, a) == 0,
	      "mirror exits at DONE");
	same_bars(a, b, "late");
	CHECK(stress_sh("timeout -s KILL 60 %s/barbus-bridge publish --bus %s --nats %s "
	         "--exit-at-done", bin, a, n.url) == 0, "publish again");
	CHECK(stress_sh("timeout -s KILL 60 %s/barbus-bridge mirror --bus %s --nats %s --stream "
	         "barbus-%s --exit-at-done", bin, b, n.url, a) == 0,
	      "mirror again");
	same_bars(a, b, "again");

	/* Publisher and mirror started in the middle of a paced backtest. */
	CHECK(stress_sh("%s/barbus-upkeep --bus %s --db %s/db " UPKEEP_ARGS
	         " 2>/dev/null & u=$!; sleep 0.2; "
	         "%s/barbus-coordinator --bus %s --db %s/db backtest "
	         "--from 2024-07-01 --to 2024-07-03 --history-days 2 --speed "
	         "30000x 2>/dev/null & c=$!; sleep 0.5; "
	         "timeout -s KILL 60 %s/barbus-bridge publish --bus %s --nats %s --exit-at-done & "
	         "p=$!; sleep 0.3; timeout -s KILL 60 %s/barbus-bridge mirror --bus %s --nats %s "
	         "--stream barbus-%s --exit-at-done & m=$!; "
	         "wait $c && wait $u && wait $p && wait $m", bin, a2, dir, bin, a2,
	         dir, bin, a2, n.url, bin, b2, n.url, a2) == 0,
	      "paced backtest with an upkeep, publish and mirror exit 0");
	same_bars(a2, b2, "mid-session");

	CHECK(stress_sh("timeout -s KILL 60 %s/barbus-bridge publish --bus %s --nats %s --max-age 1d"
	         " 2>%s/err; test $? -eq 1 && grep -q 'max age' %s/err", bin, a,
	         n.url, dir, dir) == 0, "a stream of other settings is refused");
	CHECK(stress_sh("timeout -s KILL 60 %s/barbus-bridge mirror --bus %s --nats %s --stream "
	         "nope --retry 1 2>%s/err; test $? -eq 1 && grep -q 'stream nope not found' "
	         "%s/err", bin, b, n.url, dir, dir) == 0,
	      "a missing stream is named");
	CHECK(stress_sh("%s/barbus-bus rm %s --force >/dev/null && "
	         "%s/barbus-coordinator --bus %s --db %s/db backtest --from "
	         "2024-07-01 --to 2024-07-02 --history-days 1 2>/dev/null && "
	         "timeout -s KILL 60 %s/barbus-bridge publish --bus %s --nats %s "
	         "--exit-at-done 2>%s/err; test $? -eq 1 && grep -q 'removed and "
	         "made again' %s/err && grep -q 'nats stream rm barbus-%s' %s/err",
	         bin, a, bin, a, dir, bin, a, n.url, dir, dir, a, dir) == 0,
	      "the stream of a bus removed and made again is refused to the new "
	      "one, naming both and the remedy");
	nats_stop(&n, SIGTERM);
	return stress_done();
}
