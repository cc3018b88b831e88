/*
 * bridge_lap: a publisher that cannot keep up. A full-speed backtest of 22
 * sessions of 120 symbols, with 30 sessions of history loaded at its
 * start, on bus A with a ring of 1024 records: the publisher, started
 * before the coordinator, is lapped by the ring again and again, across
 * session ends, and must take the sessions that ended meanwhile from A's
 * history, under their own numbers, with the upkeep's history blocks
 * (an upkeep that finished a session after the publisher went on owes
 * its block, sent later). The mirror, following at the same
 * time into bus B, and a second mirror started after everything ended
 * into bus C (the whole stream at once: 52 sessions of history frames of
 * 512 KB, more than a server lets one client have pending), must each
 * hold A's bars: `barbus-bars --history` and the current session, byte
 * for byte. Then the same backtest with 2 sessions of history (the
 * publisher may lose sessions that left A's history before it could send
 * them, and says so): B still ends equal to A. Prints "N passed, N
 * failed".
 */
#include <limits.h>

#include "stress.h"
#include "bridge_nats.h"

static char dir[64], bin[PATH_MAX];

/* Bus a backtested at full speed with `days` sessions of history, a
 * ring of 1024, published and mirrored into b while it runs. */
static void lapped_run(const char *a, const char *b, const char *url,
                       int days)
{
	CHECK(stress_sh("timeout -s KILL 120 %s/barbus-upkeep --bus %s --db %s/db "
	         "--intervals 5m,1h --history-days %d 2>/dev/null & u=$!; "
	         "timeout -s KILL 120 %s/barbus-bridge publish --bus %s "
	         "--nats %s --exit-at-done 2>%s/pub%d.err & p=$!; "
	         "timeout -s KILL 120 %s/barbus-bridge mirror --bus %s --nats %s "
	         "--stream barbus-%s --exit-at-done 2>%s/mir%d.err & m=$!; "
	         "sleep 0.5; %s/barbus-coordinator --bus %s --db %s/db "
	         "--ring-capacity 1024 backtest --from 2024-07-01 --to 2024-07-31 "
	         "--history-days %d 2>/dev/null && wait $u && wait $p && wait $m",
	         bin, a, dir, days, bin, a, url, dir, days, bin, b, url, a, dir,
	         days, bin, a, dir, days) == 0,
	      "backtest on A (%d days of history) with an upkeep, publish and "
	      "mirror exit 0", days);
	/* Nearly always, not always: a publisher slow to attach may find
	 * the backtest over. What is checked is that B ends equal to A. */
	printf("info: the publisher was %slapped (%d days)\n",
	       stress_sh("grep -q 'lapped by the ring' %s/pub%d.err", dir, days)
	       == 0 ? "" : "not ", days);
	CHECK(stress_sh("! grep -q 'not delivered\\|skipped' %s/mir%d.err", dir, days)
	      == 0, "the mirror lost and skipped nothing (%d days)", days);
}

int main(int argc, char **argv)
{
	int rc;
	struct natsd n;

	(void)argc;
	stress_init("bridge-lap", 240);
	if (bridge_begin(argv[0], bin, sizeof(bin), dir, sizeof(dir), "blap",
	                 &rc))
		return rc;
	const char *a = stress_bus("a"), *b = stress_bus("b");
	const char *c = stress_bus("c");
	const char *a2 = stress_bus("a2"), *b2 = stress_bus("b2");
	nats_new(&n, dir, "n1");
	nats_start(&n, "");
	CHECK(stress_sh("%s/barbus-gen --db %s/db --symbols 120 --from 2024-05-10 "
	         "--to 2024-07-31 --seed 9 -q 2>/dev/null", bin, dir) == 0,
	      "barbus-gen made the store");

	lapped_run(a, b, n.url, 30);
	bridge_same(bin, dir, a, b, "lapped", "--history", 1000000);
	bridge_same(bin, dir, a, b, "lapped", "", 40000);
	bridge_same(bin, dir, a, b, "lapped-5m", "--interval 5m --history", 150000);
	bridge_same(bin, dir, a, b, "lapped-1h", "--interval 1h --history", 15000);
	bridge_same(bin, dir, a, b, "lapped-q", "--quality", 100);
	CHECK(stress_sh("timeout -s KILL 120 %s/barbus-bridge mirror --bus %s "
	         "--nats %s --stream barbus-%s --exit-at-done 2>%s/late.err",
	         bin, c, n.url, a, dir) == 0, "a late mirror exits at DONE");
	bridge_same(bin, dir, a, c, "late", "--history", 1000000);
	bridge_same(bin, dir, a, c, "late", "", 40000);
	bridge_same(bin, dir, a, c, "late-5m", "--interval 5m --history", 150000);

	lapped_run(a2, b2, n.url, 2);
	bridge_same(bin, dir, a2, b2, "short", "--history", 100000);
	bridge_same(bin, dir, a2, b2, "short", "", 40000);
	nats_stop(&n, SIGTERM);
	return stress_done();
}
