/*
 * upkeep_bench: the upkeep at work, with the real programs.
 *  1. Backtest at max speed of 500 symbols x 22 sessions with the upkeep
 *     deriving 5m/15m/30m/1h and one reader process draining the ring:
 *     the reader's rate (replay.upkeep.rate, DESIGN's >= 5M bars/s), the
 *     upkeep's rate (upkeep.rate: bars taken in / the time it was busy
 *     taking records in, as its closing line says: what it can consume,
 *     since it cannot take bars in faster than the coordinator publishes
 *     them; upkeep.wall.rate: the same over its wall time, waiting on the
 *     coordinator included) and the records it lost to lapping
 *     (upkeep.lapped, target 0). Floor: the same replay without an upkeep
 *     (replay.noupkeep.rate), same run. The reader's rates are the steady
 *     ones, from the second session's start (the first holds the
 *     programs' start-up, fixture.h); replay.noupkeep.whole.rate and
 *     replay.upkeep.whole.rate have the first session in. The session transitions and
 *     prefetch hits of the replay with the upkeep: transition.p50,
 *     transition.max, prefetch.hit. What the machine gave each replay
 *     while the reader received: the cores busy (replay.noupkeep.cores,
 *     replay.upkeep.cores, from /proc/stat), the CPU time a bar cost over
 *     all processes (replay.noupkeep.cpu, replay.upkeep.cpu), and the CPU
 *     a bar could cost more with the upkeep and the replay still keep 0.9
 *     of its rate with every core busy (upkeep.cpu.allowed): the target
 *     within what two cores can do.
 *  2. The latest derived bar from a reader process (table.derived.latest).
 *  3. Live: a feed through a FIFO lacks some bars that the store has; a
 *     reader times each gap from its MINUTE_END to the fill being visible
 *     (fill.p50, fill.max: target max 10 ms).
 */
#include <pthread.h>
#include <sys/stat.h>

#include "bench.h"
#include "fixture.h"

/* The upkeep's closing line in file log: the bars it took in and the
 * seconds it was busy; 0 and 0 when there is none. */
static void closing_line(const char *log, double *bars, double *busy)
{
	char line[512];
	FILE *f = fopen(log, "r");

	*bars = *busy = 0;
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		const char *p = strstr(line, "; busy "), *q = strstr(line, ": ");
		q = q ? strstr(q + 2, ": ") : NULL; /* "barbus-upkeep: bus B: N bars" */
		if (p != NULL && q != NULL) {
			*busy = strtod(p + 7, NULL);
			*bars = strtod(q + 2, NULL);
		}
	}
	if (f != NULL)
		fclose(f);
}

/*
 * One backtest replay on bus of `total` bars, with an upkeep when `with`:
 * the reader's rate; the upkeep's wall seconds, the bars it took in, its
 * busy seconds and lapped count. Every process must exit 0 and the reader
 * receive every bar, or the run is a failure.
 */
static double replay(const char *bus, int with, size_t total, double *up_s,
                     double *up_bars, double *up_busy, uint64_t *lapped,
                     double tr[3], double *cores, double *whole)
{
	struct fix_drained *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
	                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t up = 0;
	char log[PATH_MAX];

	if (with) {
		snprintf(log, sizeof(log), "%s/upkeep.log", fix_dir);
		up = fix_spawn_log(log, "upkeep", "--bus", bus, "--db", fix_dir,
		                   "--intervals", "5m,15m,30m,1h", (char *)NULL);
		usleep(200000);
	}
	pid_t rd = fork();
	if (rd == 0)
		_exit(fix_drain(bus, 10000000000, sh));
	int64_t t0 = bb__mono_ns();
	pid_t co = fix_spawn("coordinator", "--bus", bus, "--db", fix_dir,
	                     "--ring-capacity", FIX_RING, "backtest", "--from",
	                     FIX_FROM, "--to", FIX_TO, "--history-days", "1",
	                     (char *)NULL);
	fix_wait(co, "coordinator", NULL);
	if (with)
		fix_wait(up, "upkeep", NULL);
	*up_s = (bb__mono_ns() - t0) / 1e9;
	*up_bars = *up_busy = 0;
	if (with)
		closing_line(log, up_bars, up_busy);
	fix_wait(rd, "reader", NULL);
	if (sh->bars != total)
		fix_fail("%s: reader received %llu bars of %zu", bus,
		         (unsigned long long)sh->bars, total);
	bb_upkeep *u;
	bb_upkeep_info info = { 0 };
	if (with && bb_upkeep_open(&u, bus) == 0) {
		bb_upkeep_status(u, &info);
		bb_upkeep_close(u);
	} else if (with) {
		fix_fail("%s: no upkeep status", bus);
	}
	*lapped = info.lapped;
	fix_control(bus, FIX_SESSIONS, &tr[0], &tr[1], &tr[2]);
	double rate = fix_steady_rate(sh, bus);
	*whole = fix_whole_rate(sh, bus);
	if ((*cores = fix_cores(&sh->c2, &sh->c1)) <= 0)
		fix_fail("%s: no CPU time read from /proc/stat", bus);
	munmap(sh, sizeof(*sh));
	return rate;
}

/* The latest 5m bar of a random symbol: its close. */
static double derived_one(const bb_bus *b, const bb_upkeep *u, uint32_t *x)
{
	bb_bar bar;
	size_t got;

	*x = *x * 1664525u + 1013904223u;
	if (bb_bars(b, u, (*x >> 8) % FIX_NSYM, 5, &bar, 1, &got) != 0 ||
	    got != 1)
		_exit(1);
	return bar.close;
}

/* ns per latest 5m bar of a random symbol, in a reader process: the median
 * of 15 rounds (BENCH_TIMED, as table_bench measures its floor). */
static double derived_latest(const char *bus)
{
	double *ns = mmap(NULL, sizeof(*ns), PROT_READ | PROT_WRITE,
	                  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t pid = fork();

	if (pid == 0) {
		bb_bus *b;
		bb_upkeep *u;
		uint32_t x = 1;
		double sink = 0;
		if (bb_bus_open(&b, bus) || bb_upkeep_open(&u, bus))
			_exit(1);
		for (int i = 0; i < 200000; i++) /* warm: rows into cache */
			sink += derived_one(b, u, &x);
		BENCH_TIMED(*ns, 3000000, sink += derived_one(b, u, &x));
		*ns += sink * 0;
		_exit(0);
	}
	fix_wait(pid, "derived reader", NULL);
	double v = *ns;
	munmap(ns, sizeof(*ns));
	if (!(v > 0))
		fix_fail("derived reader: no time");
	return v;
}

#define FILL_SYMS 20
#define FILL_MINS 60

static int is_gap(int m, int k) { return (m * 7 + k) % 29 == 0; }

struct feed { const char *fifo; int64_t open; };

/* The feed: FILL_MINS minutes of FILL_SYMS symbols minus the gaps, a
 * minute's lines every 5 ms, then one bar of the next minute. */
static void *feeder(void *arg)
{
	const struct feed *f = arg;
	FILE *out = fopen(f->fifo, "w");
	char iso[24];

	if (out == NULL)
		return NULL;
	fprintf(out, "symbol,timestamp,open,high,low,close,volume\n");
	for (int m = 0; m <= FILL_MINS; m++) {
		bb_time_format(f->open + 60 * m, iso);
		for (int k = 0; k < FILL_SYMS; k++)
			if (!is_gap(m, k) || m == FILL_MINS)
				fprintf(out, "S%03d,%s,10,11,9,10.5,100\n", k, iso);
		fflush(out);
		usleep(5000);
	}
	fclose(out);
	return NULL;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Wait for every gap of minute m to show as filled; latencies into lat. */
static size_t time_fills(const bb_upkeep *u, int m, uint32_t *filled,
                         int64_t t0, int64_t *lat)
{
	size_t n = 0;
	bb_quality q;

	for (int k = 0; k < FILL_SYMS; k++) {
		if (!is_gap(m, k) || m >= FILL_MINS) /* the last minute is fed whole */
			continue;
		int64_t deadline = t0 + 1000000000;
		while (!(bb_upkeep_quality(u, (uint32_t)k, &q) == 0 &&
		         q.filled > filled[k]))
			if (bb__mono_ns() > deadline) {
				fix_fail("fill of S%03d minute %d: not seen in 1 s",
				         k, m);
				return n;
			}
		filled[k] = q.filled;
		lat[n++] = bb__mono_ns() - t0;
	}
	return n;
}

static void fill_latency(const char *bus, double *p50_us, double *max_us)
{
	static int64_t lat[FILL_MINS * FILL_SYMS];
	uint32_t filled[FILL_SYMS] = { 0 };
	struct feed f = { .open = 1719927000 }; /* 2024-07-02T13:30Z */
	char fifo[128];
	pthread_t th;
	size_t n = 0;

	snprintf(fifo, sizeof(fifo), "%s/feed", fix_dir);
	mkfifo(fifo, 0600);
	f.fifo = fifo;
	pid_t up = fix_spawn("upkeep", "--bus", bus, "--db", fix_dir,
	                     "--intervals", "5m", (char *)NULL);
	pid_t co = fix_spawn("coordinator", "--bus", bus, "--db", fix_dir,
	                     "--history-days", "0", "live", "--feed", fifo,
	                     "--clock", "feed", "--no-data-timeout", "1",
	                     (char *)NULL);
	bb_ring_reader *r = NULL;
	bb_upkeep *u = NULL;
	for (int i = 0; i < 400 && (r == NULL || u == NULL); i++) {
		usleep(5000);
		if (r == NULL && bb_ring_reader_open(&r, bus, BB_WAIT_SPIN, 0))
			r = NULL;
		if (u == NULL && bb_upkeep_open(&u, bus))
			u = NULL;
	}
	pthread_create(&th, NULL, feeder, &f);
	bb_bar b;
	uint64_t lost;
	while (r && u && bb_ring_wait(r, &b, &lost, 3000000000) == 0) {
		if (BB_KIND(b.flags) == BB_KIND_SESSION_END)
			break;
		if (BB_KIND(b.flags) == BB_KIND_MINUTE_END)
			n += time_fills(u, (int)((b.time - f.open) / 60), filled,
			                bb__mono_ns(), lat + n);
	}
	pthread_join(th, NULL);
	fix_wait(co, "live coordinator", NULL);
	kill(up, SIGTERM);
	fix_wait(up, "live upkeep", NULL);
	if (r == NULL || u == NULL)
		fix_fail("live: bus %s not opened", bus);
	bb_ring_reader_close(r);
	bb_upkeep_close(u);
	size_t gaps = 0;
	for (int m = 0; m < FILL_MINS; m++)
		for (int k = 0; k < FILL_SYMS; k++)
			gaps += is_gap(m, k);
	if (n != gaps)
		fix_fail("live: %zu fills timed of %zu gaps", n, gaps);
	qsort(lat, n, sizeof(lat[0]), cmp_i64);
	*p50_us = n ? lat[n / 2] / 1e3 : -1;
	*max_us = n ? lat[n - 1] / 1e3 : -1;
}

int main(int argc, char **argv)
{
	char b1[40], b2[40], b3[40];
	double up_s, none_s, up_bars, up_busy, none_bars, none_busy, p50, max;
	double none_cores, cores, none_whole, whole;
	uint64_t lapped, none_lapped;
	(void)argc;

	snprintf(b1, sizeof(b1), "bench-up-%d", (int)getpid());
	snprintf(b2, sizeof(b2), "bench-noup-%d", (int)getpid());
	snprintf(b3, sizeof(b3), "bench-fill-%d", (int)getpid());
	if (fix_init(argv[0], "upkeep") != 0)
		return 1;
	size_t total = fix_store(FIX_NSYM, FIX_FROM_D, FIX_TO_D, NULL);
	double none_tr[3], tr[3]; /* transition p50, max (us), prefetch hit % */
	double floor = replay(b2, 0, total, &none_s, &none_bars, &none_busy,
	                      &none_lapped, none_tr, &none_cores, &none_whole);
	double with = replay(b1, 1, total, &up_s, &up_bars, &up_busy, &lapped,
	                     tr, &cores, &whole);
	double dl = derived_latest(b1);
	fix_cleanup();
	fix_init(argv[0], "fill");
	fix_store(FILL_SYMS, 20240702, 20240702, NULL);
	fill_latency(b3, &p50, &max);
	fix_unlink_bus(b1);
	fix_unlink_bus(b2);
	fix_unlink_bus(b3);
	fix_cleanup();
	/* Lapped, the upkeep rebuilds from the tables and the store and may
	 * skip whole sessions: upkeep.lapped says so (target 0). */
	if (lapped == 0 && up_bars != (double)total)
		fix_fail("upkeep took in %.0f bars of %zu", up_bars, total);
	double up_rate = fix_rate(up_bars, (int64_t)(up_busy * 1e9), "upkeep");
	double up_wall = fix_rate(up_bars, (int64_t)(up_s * 1e9), "upkeep wall");
	/* What the machine gave: the cores busy while the reader received,
	 * the CPU time a bar cost (every process on every core), and how much
	 * more a bar may cost with the upkeep for the replay to keep 0.9 of
	 * its rate on all of this machine's cores. */
	double ncpu = (double)sysconf(_SC_NPROCESSORS_ONLN);
	double cpu_none = none_cores / floor * 1e9, cpu_up = cores / with * 1e9;
	double allowed = (ncpu / 0.9 - none_cores) / floor * 1e9;
	if (fix_failures > 0) {
		fprintf(stderr, "upkeep_bench: %d checks failed: no figures\n",
		        fix_failures);
		return 1;
	}
	printf("upkeep, backtest of %d symbols x %d sessions (%zu bars), "
	       "deriving 5m/15m/30m/1h\n"
	       "  %-40s %12.0f bars/s\n  %-40s %12.0f bars/s (%.2f of it)\n"
	       "  %-40s %12.0f bars/s, with the upkeep %.0f (%.2f)\n"
	       "  %-40s %12.0f bars/s\n"
	       "  %-40s %12.0f bars/s\n  %-40s %12llu (target 0)\n"
	       "  %-40s %12.1f ns\n"
	       "  %-40s %9.1f us p50, %.1f us max (target max <= 10000 us)\n"
	       "  %-40s %9.1f us p50, %.1f us max, prefetch hit %.0f %%\n"
	       "  %-40s %12.2f of %.0f, %.0f ns a bar\n"
	       "  %-40s %12.2f of %.0f, %.0f ns a bar\n"
	       "  %-40s %12.0f ns (the upkeep added %.0f)\n",
	       FIX_NSYM, FIX_SESSIONS, total, "floor: replay to a reader, no upkeep", floor,
	       "replay to a reader, upkeep running", with, with / floor,
	       "both, the first session in", none_whole, whole,
	       whole / none_whole,
	       "upkeep: bars taken in / its busy time", up_rate,
	       "upkeep: bars taken in / its wall time", up_wall,
	       "upkeep: records lost to lapping", (unsigned long long)lapped,
	       "latest 5m bar, reader process", dl,
	       "live gap: MINUTE_END to fill visible", p50, max,
	       "session transitions, upkeep running", tr[0], tr[1], tr[2],
	       "cores busy, CPU a bar: no upkeep", none_cores, ncpu, cpu_none,
	       "cores busy, CPU a bar: upkeep running", cores, ncpu, cpu_up,
	       "CPU a bar may add for 0.9 of the floor", allowed,
	       cpu_up - cpu_none);
	printf("replay.noupkeep.rate %.0f bars/s\nreplay.upkeep.rate %.0f bars/s\n"
	       "replay.noupkeep.whole.rate %.0f bars/s\n"
	       "replay.upkeep.whole.rate %.0f bars/s\n"
	       "upkeep.rate %.0f bars/s\nupkeep.wall.rate %.0f bars/s\n"
	       "upkeep.lapped %llu records\n"
	       "table.derived.latest %.1f ns\nfill.p50 %.1f us\nfill.max %.1f us\n"
	       "transition.p50 %.1f us\ntransition.max %.1f us\n"
	       "prefetch.hit %.0f %%\n"
	       "replay.noupkeep.cores %.2f cores\nreplay.upkeep.cores %.2f cores\n"
	       "replay.noupkeep.cpu %.0f ns/bar\nreplay.upkeep.cpu %.0f ns/bar\n"
	       "upkeep.cpu.allowed %.0f ns/bar\n",
	       floor, with, none_whole, whole, up_rate, up_wall,
	       (unsigned long long)lapped, dl, p50, max, tr[0], tr[1], tr[2],
	       none_cores, cores, cpu_none, cpu_up, allowed);
	return 0;
}
