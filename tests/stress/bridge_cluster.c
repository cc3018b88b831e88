/*
 * bridge_cluster: a three-node NATS cluster on loopback (three nats-server
 * processes, JetStream on each) and a stream of three replicas. A paced
 * backtest on bus A is published and mirrored into B while one node is
 * SIGKILLed in the middle of the run and left dead; afterwards
 * `barbus-bars --history` of B equals A's byte for byte.
 * Prints "N passed, N failed".
 */
#include <limits.h>

#include "stress.h"
#include "bridge_nats.h"

static char dir[64], bin[PATH_MAX];

int main(int argc, char **argv)
{
	int rc;
	struct natsd n[3];
	char routes[256] = "", urls[256] = "";

	(void)argc;
	stress_init("bridge-cluster", 180);
	if (bridge_begin(argv[0], bin, sizeof(bin), dir, sizeof(dir), "bridgec",
	                 &rc))
		return rc;
	const char *a = stress_bus("a"), *b = stress_bus("b");
	for (int i = 0; i < 3; i++) {
		char name[8];
		snprintf(name, sizeof(name), "n%d", i + 1);
		nats_new(&n[i], dir, name);
		size_t k = strlen(routes);
		snprintf(routes + k, sizeof(routes) - k, "%snats://127.0.0.1:%d",
		         i ? "," : "", n[i].cluster_port);
	}
	for (int i = 0; i < 3; i++) {
		nats_start(&n[i], routes);
		size_t k = strlen(urls);
		snprintf(urls + k, sizeof(urls) - k, "%s%s", i ? "," : "", n[i].url);
	}
	CHECK(stress_sh("%s/barbus-gen --db %s/db --symbols 8 --from 2024-07-01 "
	         "--to 2024-07-03 --seed 11 --missing-rate 0.05 2>/dev/null",
	         bin, dir) == 0, "barbus-gen made the store");
	/* Node 1 (the first URL each client tries) dies 2 s into the run. */
	pid_t killer = stress_fork();
	if (killer == 0) {
		stress_sleep_ns(2000 * 1000000LL);
		kill(n[0].pid, SIGKILL);
		_exit(0);
	}
	CHECK(stress_sh("%s/barbus-coordinator --bus %s --db %s/db backtest "
	         "--from 2024-07-01 --to 2024-07-03 --history-days 2 --speed "
	         "6000x 2>/dev/null & c=$!; "
	         "timeout -s KILL 60 %s/barbus-bridge publish --bus %s --nats %s --replicas 3 "
	         "--exit-at-done --retry 60 2>%s/publish.log & p=$!; "
	         "timeout -s KILL 60 %s/barbus-bridge mirror --bus %s --nats %s --stream barbus-%s "
	         "--exit-at-done --retry 60 2>%s/mirror.log & m=$!; "
	         "wait $c && wait $p && wait $m", bin, a, dir, bin, a, urls, dir,
	         bin, b, urls, a, dir) == 0,
	      "backtest, publish and mirror exit 0 with a node lost");
	stress_reap(killer, 10000);
	CHECK(waitpid(n[0].pid, NULL, WNOHANG) == n[0].pid || kill(n[0].pid, 0) != 0,
	      "node 1 was killed during the run");
	stress_forget(n[0].pid);
	CHECK(stress_sh("%s/barbus-bars --bus %s --history > %s/a.csv && "
	         "%s/barbus-bars --bus %s --history > %s/b.csv && "
	         "test $(wc -l < %s/a.csv) -gt 2000", bin, a, dir, bin, b, dir, dir)
	      == 0, "barbus-bars of both buses");
	CHECK(stress_sh("cmp %s/a.csv %s/b.csv", dir, dir) == 0,
	      "the mirror's bars equal the source's byte for byte");
	stress_sh("cat %s/publish.log %s/mirror.log | head -5 | sed 's/^/info /'",
	          dir, dir);
	for (int i = 1; i < 3; i++)
		nats_stop(&n[i], SIGTERM);
	return stress_done();
}
