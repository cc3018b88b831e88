/*
 * chaos: a whole bus under a driver that kills its writers.
 *
 * A paced backtest over several sessions (barbus-coordinator), the upkeep
 * deriving 4 intervals (barbus-upkeep), and 4 reader processes (spin,
 * yield, block, poll), the block one stopped with SIGSTOP for seconds at a
 * time, often long enough to be lapped. Meanwhile the driver SIGKILLs the
 * coordinator or the upkeep at random times and starts it again at once
 * with the same arguments, as a service manager would.
 *
 * Checked afterwards (tests/chaos/verify.h for the readers' part):
 * - every process ended well: the last coordinator and upkeep exit 0 at the
 *   end of data, none died on its own, every reader exits 0;
 * - no reader saw a torn or invalid bar; each reader's 1m series equal the
 *   store and its derived bars a recomputation from the store;
 * - every killed process served again within 100 ms of its restart (from
 *   the fork that starts it to its new epoch on the segment a reader
 *   watches: the ring for the coordinator, every up.* table for the
 *   upkeep, with the new process as the live writer);
 * - the stopped reader was lapped, and its lost count is exact: lost +
 *   read = the ring positions it covered, up to the ring's head;
 * - the writer's publish rate while the reader was stopped is at least 90%
 *   of its rate while it ran (windows free of coordinator restarts and
 *   session boundaries, the paced replay's records per second);
 * - at least the run's minimum of kills happened.
 * Prints kills per process, recovery times (median, max) and every
 * violation, then "N passed, N failed".
 *
 * chaos [--short]: the long run (make chaos; at least 50 kills, about 5
 * minutes) or the short one (CI). BB_CHAOS_SEED=N repeats a run's choices.
 */
#include "chaos.h"
#include "reader.h"
#include "driver.h"
#include "../stress/canary.h"
#include "rate.h"
#include "verify.h"

/* ---- readers ---------------------------------------------------------- */

/* Readers: forked before any thread exists; returns when each has its
 * ring open (or fails the run). */
static void start_readers(void)
{
	int fds[2];
	char c;

	if (pipe(fds) != 0)
		stress_fatal("pipe: %s", strerror(errno));
	for (int i = 0; i < CH_NREADERS; i++) {
		g.reader[i] = stress_fork();
		if (g.reader[i] == 0) {
			close(fds[0]);
			reader_main(i, fds[1]);
		}
	}
	close(fds[1]);
	for (int i = 0; i < CH_NREADERS; i++)
		if (read(fds[0], &c, 1) != 1)
			stress_fatal("a reader never opened the ring");
	close(fds[0]);
}

/* ---- the report ------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median and max of the n values v (sorted in place). */
static void med_max(double *v, int n, double *med, double *max)
{
	qsort(v, (size_t)n, sizeof(v[0]), cmp_double);
	*med = n == 0 ? 0 : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	*max = n == 0 ? 0 : v[n - 1];
}

/*
 * Kill number i's recovery, less the longest stop of one CPU the canaries
 * saw within it (ms; < 0: not serving). A slow restart is said: as a
 * violation when what is left is over CH_SERVED_MS, else as excused.
 */
static double counted_ms(const struct run *r, const struct canaries *cs,
                         int i)
{
	const struct kill_ev *k = &r->kill[i];
	double at = (double)(k->t_kill - r->smp[0].t) / 1e9;
	int cpu;

	if (k->served_ms < 0) {
		printf("violation kill %d (%s, %.3f s into the run): not serving "
		       "3 s after its restart\n", i + 1, p_name[k->proc], at);
		return -1;
	}
	double stopped = (double)canaries_stopped(cs, k->t_exec, k->t_exec +
	                 (int64_t)(k->served_ms * 1e6), &cpu) / 1e6;
	double counted = k->served_ms - stopped;
	if (k->served_ms <= CH_SERVED_MS)
		return counted;
	printf("%s kill %d (%s, %.3f s into the run): served again %.1f ms "
	       "after its restart (seen at %.1f ms, by then %.1f ms on a CPU, "
	       "%.1f ms waiting for one, %.1f ms asleep)", counted >
	       CH_SERVED_MS ? "violation" : "info", i + 1, p_name[k->proc], at,
	       k->served_ms, k->seen_ms, k->cpu_ms, k->wait_ms,
	       k->seen_ms - k->cpu_ms - k->wait_ms);
	if (cpu >= 0)
		printf("; CPU %d was stopped for %.1f ms of it (its canary "
		       "woke that late): %.1f ms counted", cpu, stopped, counted);
	printf("\n");
	return counted;
}

static void check_recovery(const struct run *r, const struct canaries *cs)
{
	static double served[MAX_KILLS], seen[MAX_KILLS], cpu[MAX_KILLS],
	              wait[MAX_KILLS], counted[MAX_KILLS];
	int total = 0;

	for (int p = 0; p < P_N; p++) {
		int n = 0, slow = 0;
		double med, max, smed, smax, cmed, cmax, wmed, wmax, kmed, kmax;
		for (int k = 0; k < r->nkill; k++) {
			const struct kill_ev *e = &r->kill[k];
			if (e->proc != p)
				continue;
			double c = counted_ms(r, cs, k);
			served[n] = e->served_ms < 0 ? 1e9 : e->served_ms;
			seen[n] = e->seen_ms < 0 ? 1e9 : e->seen_ms;
			counted[n] = c < 0 ? 1e9 : c;
			cpu[n] = e->cpu_ms;
			wait[n++] = e->wait_ms;
			slow += c < 0 || c > CH_SERVED_MS;
		}
		med_max(served, n, &med, &max);
		med_max(seen, n, &smed, &smax);
		med_max(cpu, n, &cmed, &cmax);
		med_max(wait, n, &wmed, &wmax);
		med_max(counted, n, &kmed, &kmax);
		total += n;
		printf("kills %s %d, recovery median %.2f ms, max %.2f ms\n",
		       p_name[p], n, med, max);
		INFO("%s restarts: from the fork to the driver's sight median "
		     "%.2f ms, max %.2f; by then on a CPU median %.2f ms, max "
		     "%.2f; waiting for a CPU median %.2f ms, max %.2f; without "
		     "the machine's stops max %.2f ms", p_name[p], smed, smax,
		     cmed, cmax, wmed, wmax, kmax);
		CHECK(slow == 0, "%s: every one of %d restarts served again within "
		      "%d ms, the machine's stops not counted (%d did not)",
		      p_name[p], n, CH_SERVED_MS, slow);
		CHECK(r->died[p] == 0, "%s: never exited by itself (%d times)",
		      p_name[p], r->died[p]);
	}
	CHECK(total >= g.p.kills_min, "at least %d kills (%d)", g.p.kills_min,
	      total);
	INFO("coordinator kills: %d aimed at a minute's publication, %d left "
	     "a minute half published", r->aimed, r->mid_minute);
	CHECK(r->mid_minute > 0, "some coordinator kills left a minute half "
	      "published (%d; %d kills aimed at a minute's publication)",
	      r->mid_minute, r->aimed);
}

/* The end: the upkeep finishes, the readers drain and take their
 * snapshots. The ring's head once every writer is gone into *head. */
static void finish(struct run *r, uint64_t *head)
{
	bb_ring_reader *fresh;

	CHECK(r->done[P_CO], "the coordinator's last run exits 0 at the end of "
	      "data");
	if (!r->done[P_UP])
		exited(r, P_UP, exit_code(stress_reap(r->pid[P_UP], 60000)));
	CHECK(r->done[P_UP], "the upkeep's last run exits 0 at the end of data");
	*head = 0;
	if (bb_ring_reader_open(&fresh, g.bus, BB_WAIT_YIELD, 0) == 0) {
		*head = bb_ring_reader_seq(fresh);
		bb_ring_reader_close(fresh);
	}
	for (int i = 0; i < CH_NREADERS; i++)
		kill(g.reader[i], SIGUSR1);
	for (int i = 0; i < CH_NREADERS; i++) {
		char why[64];
		int st = stress_reap(g.reader[i], 120000);
		CHECK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "reader %s did not crash (%s)", ch_rd_name[i],
		      stress_status_str(st, why, sizeof(why)));
	}
}

static void verify(uint64_t head)
{
	uint64_t lost[CH_NREADERS];

	for (int i = 0; i < CH_NREADERS; i++) {
		vf_ring(i, head, &lost[i]);
		vf_snap(i);
	}
	CHECK(lost[CH_STOPPED] > 0, "the stopped reader was lapped (%llu lost)",
	      (unsigned long long)lost[CH_STOPPED]);
}

/* ---- main -------------------------------------------------------------- */

static const struct ch_params long_run = {
	.from = "2024-07-01", .to = "2024-07-11", /* 8 sessions, an early close */
	.nsym = 50, .speed = 600, .ring = 1024, .kills_min = 50, .aim_pct = 50,
	.kill_gap_ms = { 1500, 5000 }, .run_ms = { 2000, 3000 },
	.stop_ms = { 3000, 4500 }, .watchdog_s = 900,
};
static const struct ch_params short_run = {
	.from = "2024-07-01", .to = "2024-07-03", /* 3 sessions */
	.nsym = 50, .speed = 800, .ring = 1024, .kills_min = 15, .aim_pct = 75,
	.kill_gap_ms = { 1000, 3000 }, .run_ms = { 1500, 2500 },
	.stop_ms = { 2500, 3500 }, .watchdog_s = 300,
};

static void setup(int argc, char **argv, struct run *r)
{
	const char *seed = getenv("BB_CHAOS_SEED");

	g.p = argc > 1 && strcmp(argv[1], "--short") == 0 ? short_run : long_run;
	stress_init("chaos", g.p.watchdog_s);
	r->rng = seed != NULL ? strtoull(seed, NULL, 10)
	                      : (uint64_t)stress_now_ns() ^ (uint64_t)getpid();
	r->rng |= 1;
	printf("chaos: %s run, seed %llu\n", g.p.kills_min >= 50 ? "long"
	       : "short", (unsigned long long)r->rng);
	stress_bin(argv[0], NULL, g.bin, sizeof(g.bin));
	snprintf(g.dir, sizeof(g.dir), "/tmp/bb-chaos-XXXXXX");
	if (mkdtemp(g.dir) == NULL)
		stress_fatal("mkdtemp: %s", strerror(errno));
	if (stress_sh("%s/barbus-gen --db %s/db --symbols %d --from %s --to %s "
	              "--seed %llu -q 2>/dev/null", g.bin, g.dir, g.p.nsym,
	              g.p.from, g.p.to, (unsigned long long)(r->rng % 1000)) != 0)
		stress_fatal("barbus-gen failed");
	int rc = vf_load();
	if (rc != 0 || ex.n < 2)
		stress_fatal("the store: %s, %d sessions", bb_strerror(rc), ex.n);
	g.history = ex.n - 1;
	/* The writers get the priority a unit file would give them (Nice=)
	 * when the driver may give it: the probe lowers its own nice value
	 * (which needs CAP_SYS_NICE) and raises it back (which does not). */
	if (setpriority(PRIO_PROCESS, 0, CH_WRITER_NICE) == 0) {
		g.writer_nice = CH_WRITER_NICE;
		setpriority(PRIO_PROCESS, 0, 0);
	}
	/* Registered: its segments, hist.N and up.* included, are unlinked at
	 * exit and on a fatal signal or the watchdog (stress.h). */
	g.bus = stress_bus(NULL);
	r->smp = calloc(MAX_SAMPLES, sizeof(*r->smp));
	r->exec_ns = mmap(NULL, P_N * sizeof(*r->exec_ns), PROT_READ | PROT_WRITE,
	                  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (r->smp == NULL || r->exec_ns == MAP_FAILED)
		stress_fatal("out of memory");
	INFO("%d sessions, %d symbols, %llu bars at %dx; ring of %d; the "
	     "writers at nice %d, the spin and yield readers at %d", ex.n,
	     g.p.nsym, (unsigned long long)ex.nbars, g.p.speed, g.p.ring,
	     g.writer_nice, CH_SPIN_NICE);
}

int main(int argc, char **argv)
{
	static struct run r;
	static struct canaries cn;
	pthread_t th_stop, th_smp;
	uint64_t head;

	setup(argc, argv, &r);
	r.pid[P_UP] = spawn(&r, P_UP);
	stress_sleep_ns(100000000);
	r.pid[P_CO] = spawn(&r, P_CO);
	start_readers();
	open_eyes(&r);
	canaries_start(&cn);
	r.smp[0].t = stress_now_ns();
	pthread_create(&th_smp, NULL, sampler, &r);
	pthread_create(&th_stop, NULL, stopper, &r);
	drive(&r);
	atomic_store(&g.finished, 1);
	pthread_join(th_stop, NULL);
	pthread_join(th_smp, NULL);
	canaries_stop(&cn);
	finish(&r, &head);
	INFO("the run took %.1f s; %d stops of the %s reader",
	     (double)(stress_now_ns() - r.smp[0].t) / 1e9,
	     atomic_load(&r.nstop), ch_rd_name[CH_STOPPED]);
	verify(head);
	check_recovery(&r, &cn);
	check_rate(&r);
	if (atomic_load(&g_stress.failed) == 0)
		stress_sh("rm -rf %s", g.dir);
	else
		INFO("files kept in %s", g.dir);
	return stress_done();
}
