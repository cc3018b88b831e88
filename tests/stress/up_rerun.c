/*
 * up_rerun: a backtest re-run on a bus that already holds a finished run,
 * with the upkeep started shortly (0 to 0.3 s) before the coordinator, 50
 * times. Each time the upkeep must follow the new run, not take the old
 * one's end for its own: it exits 0 having taken every bar of the run, and
 * barbus-bars --quality and --interval 5m --history are byte for byte those
 * of the first run. Prints "N passed, N failed".
 */
#include "stress.h"

#define NSYM 6
#define RUNS 50

static char dir[64], bin[PATH_MAX];

static pid_t upkeep(const char *bus, int i)
{
	char db[96], log[128];

	snprintf(db, sizeof(db), "%s/db", dir);
	snprintf(log, sizeof(log), "%s/up-%d.err", dir, i);
	const char *args[] = { "--bus", bus, "--db", db, "--history-days", "3",
	                       NULL };
	return stress_spawn(bin, "barbus-upkeep", log, args);
}

static pid_t coordinator(const char *bus, int i)
{
	char db[96], log[128];

	snprintf(db, sizeof(db), "%s/db", dir);
	snprintf(log, sizeof(log), "%s/co-%d.err", dir, i);
	const char *args[] = { "--bus", bus, "--db", db, "backtest", "--from",
	                       "2024-07-01", "--to", "2024-07-05",
	                       "--history-days", "3", NULL };
	return stress_spawn(bin, "barbus-coordinator", log, args);
}

static int capture(const char *bus, const char *tag)
{
	return stress_sh("%s/barbus-bars --bus %s --quality >%s/%s-q.csv && "
	                 "%s/barbus-bars --bus %s --interval 5m --history "
	                 ">%s/%s-5m.csv", bin, bus, dir, tag, bin, bus, dir, tag);
}

/* Run number i: upkeep first, coordinator lead_ms later; both exit 0. */
static int run(const char *bus, int i, int lead_ms)
{
	pid_t up = upkeep(bus, i);

	stress_sleep_ns((int64_t)lead_ms * 1000000);
	pid_t co = coordinator(bus, i);
	int cx = stress_exit_code(co, 20000), ux = stress_exit_code(up, 20000);
	return cx == 0 && ux == 0 ? 0 : 1 + (cx != 0);
}

int main(int argc, char **argv)
{
	(void)argc;
	stress_init("up-rerun", 120);
	srand((unsigned)getpid());
	stress_bin(argv[0], NULL, bin, sizeof(bin));
	snprintf(dir, sizeof(dir), "/tmp/bb-uprerun-XXXXXX");
	if (mkdtemp(dir) == NULL)
		stress_fatal("mkdtemp");
	CHECK(stress_sh("%s/barbus-gen --db %s/db --symbols %d --from 2024-07-01 "
	         "--to 2024-07-05 --seed 7 --missing-rate 0.2 2>/dev/null", bin,
	         dir, NSYM) == 0, "barbus-gen made the store");
	const char *bus = stress_bus(NULL);
	CHECK(run(bus, 0, 100) == 0, "the first run: both exit 0");
	CHECK(capture(bus, "ref") == 0, "the first run: barbus-bars prints it");
	/* Real bars the upkeep took in during its run. */
	uint64_t want = stress_upkeep_info(bus).bars_seen;
	CHECK(want > 1000, "the first run: the upkeep took %llu bars",
	      (unsigned long long)want);
	int bad_exit = 0, bad_out = 0, runs = stress_fast() ? RUNS / 5 : RUNS;
	for (int i = 1; i <= runs; i++) {
		char tag[16];
		snprintf(tag, sizeof(tag), "run%d", i);
		int rc = run(bus, i, rand() % 300);
		uint64_t got = stress_upkeep_info(bus).bars_seen;
		int same = got == want && capture(bus, tag) == 0 &&
		           stress_sh("cmp -s %s/ref-q.csv %s/%s-q.csv && cmp -s "
		                     "%s/ref-5m.csv %s/%s-5m.csv", dir, dir, tag, dir,
		                     dir, tag) == 0;
		if (rc != 0 || !same)
			INFO("run %d: exits %s, %llu bars, outputs %s (logs "
			     "%s/*-%d.err)", i, rc ? "bad" : "0",
			     (unsigned long long)got, same ? "same" : "differ", dir,
			     i);
		bad_exit += rc != 0;
		bad_out += !same;
	}
	CHECK(bad_exit == 0, "re-runs: coordinator and upkeep exit 0 (%d of %d "
	      "did not)", bad_exit, runs);
	CHECK(bad_out == 0, "re-runs: the upkeep took every bar, --quality and "
	      "5m history byte for byte the first run's (%d of %d differ)",
	      bad_out, runs);
	return stress_done_dir(dir);
}
