/*
 * py_bench: the Python package's figures beside the same work in C, on one
 * bus made by the real programs (500 symbols, 2 sessions replayed with the
 * upkeep). In C here: c.latest (bb_latest, ns per call) and c.bars390
 * (bb_bars of a whole session of one symbol, us). Then bench/py_bench.py
 * under /usr/bin/python3 (or $PYTHON) prints py.latest, py.bars390,
 * py.follow.rate (follow_batches), py.follow.each.rate (follow) and
 * csv.bars390 (barbus-bars | pandas.read_csv, the route users have without
 * the package). Without Python, numpy or pandas: a "skipped" line, exit 0.
 */
#include "fixture.h"

#define NSYM 500
#define ROUNDS 20000

/* Best mean of 30 blocks: short blocks, so that one of them runs without
 * being preempted on a loaded machine (the Python figures are taken so). */
#define BLOCKS 30

static double c_latest_ns(const bb_bus *b)
{
	bb_bar bar;
	uint32_t s = 1, sink = 0;
	double best = 1e30;

	for (int k = 0; k < BLOCKS; k++) {
		int64_t t0 = bb__mono_ns();
		for (int i = 0; i < ROUNDS; i++) {
			s = s * 1103515245u + 12345u;
			sink += (uint32_t)bb_latest(b, (s >> 8) % NSYM, &bar);
		}
		double ns = (double)(bb__mono_ns() - t0) / ROUNDS;
		best = ns < best ? ns : best;
	}
	return sink == 0 ? best : -1;
}

static double c_bars390_us(const bb_bus *b, const bb_upkeep *u)
{
	static bb_bar out[400];
	size_t got = 0;
	int rounds = 1000;
	double best = 1e30;

	for (int k = 0; k < BLOCKS; k++) {
		int64_t t0 = bb__mono_ns();
		for (int i = 0; i < rounds; i++)
			if (bb_bars(b, u, (uint32_t)i % NSYM, 1, out, 390,
			            &got) != 0 || got != 390)
				return -1;
		double us = (double)(bb__mono_ns() - t0) / rounds / 1000;
		best = us < best ? us : best;
	}
	return best;
}

int main(int argc, char **argv)
{
	char bus[64], err[128], cmd[PATH_MAX * 3 + 256];
	const char *py = getenv("PYTHON") ? getenv("PYTHON") : "/usr/bin/python3";
	(void)argc;

	if (fix_init(argv[0], "py") != 0)
		return 1;
	snprintf(bus, sizeof(bus), "pybench-%d", (int)getpid());
	snprintf(err, sizeof(err), "%s/up.err", fix_dir);
	size_t nbars = fix_store(NSYM, 20240701, 20240702, NULL);
	pid_t up = fix_spawn_log(err, "upkeep", "--bus", bus, "--db", fix_dir,
	                         "--wait-bus-ms", "20000", NULL);
	snprintf(err, sizeof(err), "%s/co.err", fix_dir);
	pid_t co = fix_spawn_log(err, "coordinator", "--bus", bus, "--db",
	                         fix_dir, "--history-days", "1", "backtest",
	                         "--from", "2024-07-01", "--to", "2024-07-02",
	                         NULL);
	int st_co = 0, st_up = 0;
	waitpid(co, &st_co, 0);
	waitpid(up, &st_up, 0);

	bb_bus *b = NULL;
	bb_upkeep *u = NULL;
	int rc = 1;
	if (st_co != 0 || st_up != 0 || bb_bus_open(&b, bus) != 0 ||
	    bb_upkeep_open(&u, bus) != 0) {
		fprintf(stderr, "py_bench: the replay of %zu bars failed\n", nbars);
		goto out;
	}
	printf("python package vs C, bus of %d symbols x 2 sessions (%zu bars)\n",
	       NSYM, nbars);
	printf("c.latest %.1f ns\n", c_latest_ns(b));
	printf("c.bars390 %.2f us\n", c_bars390_us(b, u));
	snprintf(cmd, sizeof(cmd), "%s -c 'import numpy, pandas' 2>/dev/null",
	         py);
	if (system(cmd) != 0) {
		printf("skipped: no %s with numpy and pandas: no py.* figures\n",
		       py);
		rc = 0;
		goto out;
	}
	fflush(stdout);
	if (snprintf(cmd, sizeof(cmd), "BARBUS_LIB=%s/../libbarbus.so %s "
	             "%s/../../bench/py_bench.py --bus %s --bin %s --symbols %d",
	             fix_bin, py, fix_bin, bus, fix_bin, NSYM) >= (int)sizeof(cmd))
		fprintf(stderr, "py_bench: paths too long\n");
	else
		rc = system(cmd) == 0 ? 0 : 1;
out:
	bb_upkeep_close(u);
	bb_bus_close(b);
	fix_unlink_bus(bus);
	fix_cleanup();
	return rc;
}
