/*
 * upkeep_bench: the upkeep at work, with the real programs.
 *  1. Backtest at max speed of 500 symbols x 6 sessions with the upkeep
 *     deriving 5m/15m/30m/1h and one reader process draining the ring:
 *     the reader's rate (replay.upkeep.rate, DESIGN's >= 5M bars/s), the
 *     upkeep's rate (upkeep.rate: bars taken in / the time it was busy
 *     taking records in, as its closing line says: what it can consume,
 *     since it cannot take bars in faster than the coordinator publishes
 *     them; upkeep.wall.rate: the same over its wall time, waiting on the
 *     coordinator included) and the records it lost to lapping
 *     (upkeep.lapped, target 0). Floor: the same replay without an upkeep
 *     (replay.noupkeep.rate), same run.
 *  2. The latest derived bar from a reader process (table.derived.latest).
 *  3. Live: a feed through a FIFO lacks some bars that the store has; a
 *     reader times each gap from its MINUTE_END to the fill being visible
 *     (fill.p50, fill.max: target max 10 ms).
 */
#include <pthread.h>
#include <sys/stat.h>

#include "fixture.h"

struct shared { uint64_t bars; int64_t t0, t1; };

static int drain(const char *bus, struct shared *sh)
{
	bb_ring_reader *r = NULL;
	bb_bar b;
	uint64_t lost;

	for (int i = 0; i < 20000 && r == NULL; i++)
		if (bb_ring_reader_open(&r, bus, BB_WAIT_BLOCK, BB_RING_FROM_OLDEST))
			usleep(100), r = NULL;
	while (r != NULL && bb_ring_wait(r, &b, &lost, 10000000000) == 0) {
		uint32_t k = BB_KIND(b.flags);
		if (k == BB_KIND_BAR) {
			if (sh->bars++ == 0)
				sh->t0 = fix_now_ns();
			sh->t1 = fix_now_ns();
		} else if (k == BB_KIND_SESSION_END && b.high == BB_END_DATA) {
			break;
		}
	}
	bb_ring_reader_close(r);
	return 0;
}

/* One backtest replay on bus, with an upkeep when `with`; the reader's
 * rate; the upkeep's wall time and lapped count. */
/* The upkeep's busy seconds, from its closing line in file log; 0: none. */
static double busy_seconds(const char *log)
{
	char line[512];
	double busy = 0;
	FILE *f = fopen(log, "r");

	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		const char *p = strstr(line, "; busy ");
		if (p != NULL)
			busy = strtod(p + 7, NULL);
	}
	if (f != NULL)
		fclose(f);
	return busy;
}

static double replay(const char *bus, int with, double *up_s, double *up_busy,
                     uint64_t *lapped)
{
	struct shared *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
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
		_exit(drain(bus, sh));
	int64_t t0 = fix_now_ns();
	pid_t co = fix_spawn("coordinator", "--bus", bus, "--db", fix_dir,
	                     "backtest", "--from", "2024-07-01", "--to",
	                     "2024-07-09", "--history-days", "1", (char *)NULL);
	waitpid(co, NULL, 0);
	if (with)
		waitpid(up, NULL, 0);
	*up_s = (fix_now_ns() - t0) / 1e9;
	*up_busy = with ? busy_seconds(log) : 0;
	waitpid(rd, NULL, 0);
	bb_upkeep *u;
	bb_upkeep_info info = { 0 };
	if (with && bb_upkeep_open(&u, bus) == 0) {
		bb_upkeep_status(u, &info);
		bb_upkeep_close(u);
	}
	*lapped = info.lapped;
	double rate = sh->bars > 1 ? (sh->bars - 1) / ((sh->t1 - sh->t0) / 1e9) : 0;
	munmap(sh, sizeof(*sh));
	return rate;
}

/* ns per latest 5m bar of a random symbol, in a reader process. */
static double derived_latest(const char *bus)
{
	double *ns = mmap(NULL, sizeof(*ns), PROT_READ | PROT_WRITE,
	                  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t pid = fork();

	if (pid == 0) {
		bb_bus *b;
		bb_upkeep *u;
		bb_bar bar;
		size_t got;
		uint32_t x = 1;
		double sink = 0;
		if (bb_bus_open(&b, bus) || bb_upkeep_open(&u, bus))
			_exit(1);
		int64_t t0 = fix_now_ns();
		for (int i = 0; i < 2000000; i++) {
			x = x * 1664525u + 1013904223u;
			bb_bars(b, u, (x >> 8) % FIX_NSYM, 5, &bar, 1, &got);
			sink += bar.close;
		}
		*ns = (fix_now_ns() - t0) / 2e6 + sink * 0;
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	double v = *ns;
	munmap(ns, sizeof(*ns));
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
		while (fix_now_ns() < deadline &&
		       !(bb_upkeep_quality(u, (uint32_t)k, &q) == 0 &&
		         q.filled > filled[k]))
			;
		filled[k] = q.filled;
		lat[n++] = fix_now_ns() - t0;
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
			                fix_now_ns(), lat + n);
	}
	pthread_join(th, NULL);
	waitpid(co, NULL, 0);
	kill(up, SIGTERM);
	waitpid(up, NULL, 0);
	bb_ring_reader_close(r);
	bb_upkeep_close(u);
	qsort(lat, n, sizeof(lat[0]), cmp_i64);
	*p50_us = n ? lat[n / 2] / 1e3 : -1;
	*max_us = n ? lat[n - 1] / 1e3 : -1;
}

int main(int argc, char **argv)
{
	char b1[40], b2[40], b3[40];
	double up_s, none_s, up_busy, none_busy, p50, max;
	uint64_t lapped, none_lapped;
	(void)argc;

	snprintf(b1, sizeof(b1), "bench-up-%d", (int)getpid());
	snprintf(b2, sizeof(b2), "bench-noup-%d", (int)getpid());
	snprintf(b3, sizeof(b3), "bench-fill-%d", (int)getpid());
	if (fix_init(argv[0], "upkeep") != 0)
		return 1;
	size_t total = fix_store(FIX_NSYM, 20240701, 20240709, NULL);
	double floor = replay(b2, 0, &none_s, &none_busy, &none_lapped);
	double with = replay(b1, 1, &up_s, &up_busy, &lapped);
	double dl = derived_latest(b1);
	fix_cleanup();
	fix_init(argv[0], "fill");
	fix_store(FILL_SYMS, 20240702, 20240702, NULL);
	fill_latency(b3, &p50, &max);
	printf("upkeep, backtest of %d symbols x 6 sessions (%zu bars), "
	       "deriving 5m/15m/30m/1h\n"
	       "  %-40s %12.0f bars/s\n  %-40s %12.0f bars/s\n"
	       "  %-40s %12.0f bars/s (target >= 5M)\n"
	       "  %-40s %12.0f bars/s\n  %-40s %12llu (target 0)\n"
	       "  %-40s %12.1f ns (target <= 20)\n"
	       "  %-40s %9.1f us p50, %.1f us max (target max <= 10000 us)\n",
	       FIX_NSYM, total, "floor: replay to a reader, no upkeep", floor,
	       "replay to a reader, upkeep running", with,
	       "upkeep: bars taken in / its busy time", total / up_busy,
	       "upkeep: bars taken in / its wall time", total / up_s,
	       "upkeep: records lost to lapping", (unsigned long long)lapped,
	       "latest 5m bar, reader process", dl,
	       "live gap: MINUTE_END to fill visible", p50, max);
	printf("replay.noupkeep.rate %.0f bars/s\nreplay.upkeep.rate %.0f bars/s\n"
	       "upkeep.rate %.0f bars/s\nupkeep.wall.rate %.0f bars/s\n"
	       "upkeep.lapped %llu records\n"
	       "table.derived.latest %.1f ns\nfill.p50 %.1f us\nfill.max %.1f us\n",
	       floor, with, total / up_busy, total / up_s,
	       (unsigned long long)lapped, dl, p50, max);
	fix_unlink_bus(b1);
	fix_unlink_bus(b2);
	fix_unlink_bus(b3);
	fix_cleanup();
	return 0;
}
