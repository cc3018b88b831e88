/*
 * replay_bench: backtest replay, store to ring to a reader process, with
 * the real barbus-coordinator. 500 symbols x 22 sessions, every minute.
 * Floor: loading the same sessions from the store (bb_store_load) in this
 * process, the coordinator's own input path without publishing.
 * Also: session transitions and prefetch hits from the control segment,
 * and the restart time of a killed coordinator (exec to its first record;
 * the median of RESTARTS kills of one paced replay, the max beside it).
 * The reader's rate is the steady one, from the second session's start
 * (fixture.h); replay.whole.rate has the first session in.
 * Ends with `name value unit` lines: replay.rate replay.whole.rate
 * replay.floor.load.rate
 * replay.transition.p50 replay.transition.max replay.prefetch.hit (no
 * upkeep; upkeep_bench prints them with one) restart.ms.
 */
#include "fixture.h"

/* ring: the ring's capacity (records) */
static pid_t coordinator(const char *bus, const char *speed, const char *ring)
{
	return fix_spawn("coordinator", "--bus", bus, "--db", fix_dir,
	                 "--ring-capacity", ring, "backtest", "--from",
	                 FIX_FROM, "--to", FIX_TO, "--speed", speed,
	                 "--history-days", "1", (char *)NULL);
}

#define RESTARTS 5

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* SIGKILL the coordinator *pid a while into its run, start a new one and
 * time it to its first record on r (ms, or -1 with no record). */
static double restart_once(const char *bus, bb_ring_reader *r, pid_t *pid)
{
	bb_bar b;
	uint64_t lost;

	usleep(300000);
	kill(*pid, SIGKILL);
	waitpid(*pid, NULL, 0); /* killed: its status is ours */
	while (bb_ring_read(r, &b, &lost) != BB_EEMPTY)
		;
	int64_t t0 = bb__mono_ns();
	*pid = coordinator(bus, "2000x", "1048576");
	int rc = bb_ring_wait(r, &b, &lost, 5000000000);
	return rc == 0 || rc == BB_ELAPPED ? (bb__mono_ns() - t0) / 1e6 : -1;
}

/* A paced coordinator killed RESTARTS times mid-run: the median time from
 * a new one's exec to its first record, the longest into *max. */
static double restart_ms(const char *bus, double *max)
{
	double ms[RESTARTS];
	pid_t pid = coordinator(bus, "2000x", "1048576");
	bb_ring_reader *r = fix_ring_open(bus, BB_WAIT_SPIN, 0, 1000000);
	int n = 0;

	while (r != NULL && n < RESTARTS &&
	       (ms[n] = restart_once(bus, r, &pid)) >= 0)
		n++;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	bb_ring_reader_close(r);
	if (n < RESTARTS) {
		fix_fail("restart: no record from a new coordinator");
		return 0;
	}
	qsort(ms, RESTARTS, sizeof(ms[0]), cmp_double);
	*max = ms[RESTARTS - 1];
	return ms[RESTARTS / 2];
}

int main(int argc, char **argv)
{
	char bus[40], bus2[40];
	double load_rate, p50, max, hit;
	(void)argc;

	snprintf(bus, sizeof(bus), "bench-replay-%d", (int)getpid());
	snprintf(bus2, sizeof(bus2), "bench-restart-%d", (int)getpid());
	if (fix_init(argv[0], "replay") != 0)
		return 1;
	size_t total = fix_store(FIX_NSYM, FIX_FROM_D, FIX_TO_D, &load_rate);
	struct fix_drained *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
	                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	fflush(stdout);
	pid_t rd = fork();
	if (rd == 0)
		_exit(fix_drain(bus, 10000000000, sh));
	pid_t co = coordinator(bus, "max", FIX_RING);
	fix_wait(co, "coordinator", NULL);
	fix_wait(rd, "reader", NULL);
	if (sh->bars != total)
		fix_fail("reader received %llu bars of %zu",
		         (unsigned long long)sh->bars, total);
	double rate = fix_steady_rate(sh, "replay");
	double whole = fix_whole_rate(sh, "replay, whole run");
	fix_control(bus, FIX_SESSIONS, &p50, &max, &hit);
	double rmax = 0, rms = restart_ms(bus2, &rmax);
	fix_unlink_bus(bus);
	fix_unlink_bus(bus2);
	fix_cleanup();
	if (fix_failures > 0) {
		fprintf(stderr, "replay_bench: %d checks failed: no figures\n",
		        fix_failures);
		return 1;
	}
	printf("backtest replay, %d symbols x %d sessions, %zu bars, one reader\n"
	       "  %-34s %12.0f bars/s\n  %-34s %12.0f bars/s (%llu bars received)\n"
	       "  %-34s %12.0f bars/s\n"
	       "  %-34s %9.1f us p50, %.1f us max (target <= 1000 us)\n"
	       "  %-34s %11.0f %%  (target 100 %%)\n"
	       "  %-34s %11.1f ms median of %d, %.1f max (target <= 100 ms)\n",
	       FIX_NSYM, FIX_SESSIONS, total, "floor: store load, in process",
	       load_rate,
	       "replay: store to ring to reader", rate,
	       (unsigned long long)sh->bars, "the same, the first session in", whole,
	       "session transition", p50, max,
	       "prefetch hit", hit, "restart of a killed coordinator", rms,
	       RESTARTS, rmax);
	printf("replay.rate %.0f bars/s\nreplay.whole.rate %.0f bars/s\n"
	       "replay.floor.load.rate %.0f bars/s\n"
	       "replay.transition.p50 %.1f us\nreplay.transition.max %.1f us\n"
	       "replay.prefetch.hit %.0f %%\nrestart.ms %.1f ms\n",
	       rate, whole, load_rate, p50, max, hit, rms);
	return 0;
}
