/*
 * scale_bench: the whole market. A store of 10,000 symbols x 5 XNYS
 * sessions made by barbus-gen (random walks, 10% illiquid symbols), then
 * the real programs, as replay_bench and upkeep_bench do at 500 symbols:
 *  - scale.replay.scan.rate: bb_store_load of each session, in process;
 *  - scale.replay.rate: backtest at max speed, store to ring to a reader,
 *    from the second session's start (the first holds the programs'
 *    start-up: fixture.h); scale.replay.whole.rate and
 *    scale.upkeep.whole.rate have the first session in;
 *  - scale.upkeep.rate: the same with the upkeep deriving 5m,15m,30m,1h,
 *    and scale.upkeep.busy.rate, the bars it took in over its busy time,
 *    scale.upkeep.lapped the records it lost to lapping (target 0);
 *  - scale.rss.coordinator, scale.rss.upkeep, scale.rss.reader: peak
 *    resident MiB of each process (shared pages it touched included);
 *  - scale.segments: MiB of /dev/shm the bus's segments hold;
 *  - scale.prefetch.hit, scale.transition.max as in replay_bench.
 * The ring holds 2^22 records (256 MiB), about a session of 10,000
 * symbols and a quarter of the run (17M bars), as the 500-symbol benches'
 * default ring holds a quarter of theirs: readers fault its pages in on
 * the first lap only (fixture.h). The coordinator does not wait for
 * readers, so a reader slower than the replay is lapped once it is a ring
 * (about 0.4 s) behind, and a lapped reader's rate is no figure; the
 * upkeep is paced (a minute behind at most).
 * scale.table.latest is table_bench's. Every child must exit 0 and the
 * reader get every bar, or the program fails without figures.
 */
#include <dirent.h>
#include <sys/stat.h>

#include "fixture.h"

#define SCALE_NSYM "10000"
#define MAX_SYMS   "16384" /* the coordinator's max-symbols, > SCALE_NSYM */
#define RING_SLOTS "4194304" /* a quarter of the run: see above */
#define FROM       "2024-07-01"
#define TO         "2024-07-08" /* 5 sessions: 07-04 is a holiday */

/* Bars of every session of the store, and the in-process load rate. */
static size_t scan(double *rate)
{
	bb_store *st;
	bb_calendar *cal;
	bb_session s;
	bb_batch b = { 0 };
	size_t total = 0;
	int64_t dt = 0;

	if (bb_store_open(&st, fix_dir, BB_STORE_RDONLY) != 0 ||
	    bb_calendar_load(&cal, "XNYS", NULL, 0) != 0) {
		fix_fail("store %s: cannot open", fix_dir);
		return 0;
	}
	for (int32_t d = 20240701; bb_calendar_next(cal, d, &s) == 0 &&
	     s.date <= 20240708; d = bb_days_to_date(bb_date_to_days(s.date) + 1)) {
		int64_t t0 = bb__mono_ns();
		if (bb_store_load(st, NULL, 0, s.open, s.close, &b) != 0)
			fix_fail("store %s: load of %d", fix_dir, (int)s.date);
		dt += bb__mono_ns() - t0;
		total += b.n;
	}
	*rate = fix_rate((double)total, dt, "store load");
	bb_batch_free(&b);
	bb_calendar_free(cal);
	bb_store_close(st);
	return total;
}

/* MiB of /dev/shm held by the segments of bus. */
static double segments_mib(const char *bus)
{
	char pre[96], path[400];
	struct stat sb;
	double bytes = 0;
	DIR *d = opendir("/dev/shm");
	struct dirent *e;

	snprintf(pre, sizeof(pre), "barbus.%s.", bus);
	while (d != NULL && (e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, pre, strlen(pre)) != 0)
			continue;
		snprintf(path, sizeof(path), "/dev/shm/%s", e->d_name);
		if (stat(path, &sb) == 0)
			bytes += (double)sb.st_blocks * 512;
	}
	if (d != NULL)
		closedir(d);
	return bytes / (1 << 20);
}

struct run {
	double rate, whole, up_bars, up_busy, segs, hit, tmax;
	uint64_t lapped; /* records the upkeep lost to lapping */
	long   rss_co, rss_up, rss_rd; /* KiB */
};

/* Transitions and prefetch of the finished replay on bus. */
static void control(const char *bus, struct run *o)
{
	bb_bus *b;
	bb_status st;

	if (bb_bus_open(&b, bus) != 0 || bb_bus_status(b, &st) != 0) {
		fix_fail("%s: no control segment", bus);
		return;
	}
	for (uint64_t s = 1; s <= st.sessions; s++) {
		double t = bb_bus_transition_ns(b, s) / 1e3;
		o->tmax = t > o->tmax ? t : o->tmax;
	}
	double h = (double)bb_bus_counter(b, BB_CTR_PREFETCH_HITS);
	double m = (double)bb_bus_counter(b, BB_CTR_PREFETCH_MISSES);
	if (h + m == 0)
		fix_fail("%s: no prefetch counted", bus);
	o->hit = h + m > 0 ? 100 * h / (h + m) : 0;
	bb_bus_close(b);
}

/* The last lines of file log, for a message. */
static const char *tail(const char *log)
{
	static char buf[2048];
	FILE *f = fopen(log, "r");
	size_t n = 0;

	buf[0] = '\0';
	if (f != NULL) {
		fseek(f, -(long)sizeof(buf) + 1, SEEK_END);
		n = fread(buf, 1, sizeof(buf) - 1, f);
		buf[n] = '\0';
		fclose(f);
	}
	return buf;
}

/* The upkeep's closing line: bars taken in and busy seconds. */
static void closing_line(const char *log, struct run *o)
{
	char line[512];
	FILE *f = fopen(log, "r");

	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		const char *p = strstr(line, "; busy "), *q = strstr(line, ": ");
		q = q ? strstr(q + 2, ": ") : NULL;
		if (p != NULL && q != NULL) {
			o->up_busy = strtod(p + 7, NULL);
			o->up_bars = strtod(q + 2, NULL);
		}
	}
	if (f != NULL)
		fclose(f);
}

static void replay(const char *bus, int with, size_t total, struct run *o)
{
	struct fix_drained *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
	                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	char log[PATH_MAX];
	pid_t up = 0;

	*o = (struct run){ 0 };
	snprintf(log, sizeof(log), "%s/upkeep.log", fix_dir);
	if (with) {
		up = fix_spawn_log(log, "upkeep", "--bus", bus, "--db", fix_dir,
		                   "--intervals", "5m,15m,30m,1h", (char *)NULL);
		usleep(200000);
	}
	fflush(stdout);
	pid_t rd = fork();
	if (rd == 0)
		_exit(fix_drain(bus, 30000000000, sh));
	pid_t co = fix_spawn("coordinator", "--bus", bus, "--db", fix_dir,
	                     "--max-symbols", MAX_SYMS, "--ring-capacity",
	                     RING_SLOTS, "--history-days", "1",
	                     "backtest", "--from", FROM, "--to", TO, (char *)NULL);
	fix_wait(co, "coordinator", &o->rss_co);
	if (with)
		fix_wait(up, "upkeep", &o->rss_up);
	fix_wait(rd, "reader", &o->rss_rd);
	if (sh->bars != total)
		fix_fail("%s: reader received %llu bars of %zu (%s)", bus,
		         (unsigned long long)sh->bars, total, bb_strerror(sh->rc));
	o->rate = fix_steady_rate(sh, bus);
	o->whole = fix_whole_rate(sh, bus);
	o->segs = segments_mib(bus);
	control(bus, o);
	if (with) {
		bb_upkeep *u;
		bb_upkeep_info info = { 0 };
		if (bb_upkeep_open(&u, bus) == 0) {
			bb_upkeep_status(u, &info);
			bb_upkeep_close(u);
		} else {
			fix_fail("%s: no upkeep status", bus);
		}
		o->lapped = info.lapped;
		closing_line(log, o);
		/* Lapped, it rebuilds from the tables and the store and may
		 * skip whole sessions: a figure (target 0), not a failure. */
		if (o->lapped == 0 && o->up_bars != (double)total)
			fix_fail("upkeep took in %.0f bars of %zu; its log:\n%s",
			         o->up_bars, total, tail(log));
	}
	munmap(sh, sizeof(*sh));
	fix_unlink_bus(bus);
}

int main(int argc, char **argv)
{
	char b1[40], b2[40];
	struct run none, with;
	double scan_rate = 0;
	(void)argc;

	snprintf(b1, sizeof(b1), "bench-scale-%d", (int)getpid());
	snprintf(b2, sizeof(b2), "bench-scaleup-%d", (int)getpid());
	if (fix_init(argv[0], "scale") != 0)
		return 1;
	int64_t t0 = bb__mono_ns();
	fix_wait(fix_spawn("gen", "--db", fix_dir, "--symbols", SCALE_NSYM,
	                   "--from", FROM, "--to", TO, "--seed", "1", "-q",
	                   (char *)NULL), "barbus-gen", NULL);
	double gen_s = (bb__mono_ns() - t0) / 1e9;
	size_t total = fix_failures ? 0 : scan(&scan_rate);
	if (total > 0) {
		replay(b1, 0, total, &none);
		replay(b2, 1, total, &with);
	}
	fix_cleanup();
	double busy = fix_rate(with.up_bars, (int64_t)(with.up_busy * 1e9),
	                       "upkeep");
	if (fix_failures > 0) {
		fprintf(stderr, "scale_bench: %d checks failed: no figures\n",
		        fix_failures);
		return 1;
	}
	printf("scale: %s symbols x 5 sessions, %zu bars (barbus-gen %.1f s)\n"
	       "  %-40s %12.0f bars/s\n  %-40s %12.0f bars/s\n"
	       "  %-40s %12.0f bars/s (%.2f of it)\n"
	       "  %-40s %12.0f bars/s, with the upkeep %.0f\n"
	       "  %-40s %12.0f bars/s (%.0f bars taken in, lapped %llu)\n"
	       "  %-40s %9.0f %%, transition max %.0f us (with upkeep %.0f %%, "
	       "%.0f us)\n"
	       "  %-40s coordinator %ld, upkeep %ld, reader %ld MiB\n"
	       "  %-40s %12.0f MiB (with upkeep %.0f MiB)\n",
	       SCALE_NSYM, total, gen_s,
	       "store load, in process", scan_rate,
	       "replay: store to ring to reader", none.rate,
	       "replay with the upkeep", with.rate, with.rate / none.rate,
	       "both, the first session in", none.whole, with.whole,
	       "upkeep: bars taken in / its busy time", busy, with.up_bars,
	       (unsigned long long)with.lapped,
	       "prefetch hit", none.hit, none.tmax, with.hit, with.tmax,
	       "peak RSS", with.rss_co >> 10, with.rss_up >> 10,
	       with.rss_rd >> 10, "segments in /dev/shm", none.segs, with.segs);
	printf("scale.replay.scan.rate %.0f bars/s\nscale.replay.rate %.0f bars/s\n"
	       "scale.upkeep.rate %.0f bars/s\nscale.upkeep.busy.rate %.0f bars/s\n"
	       "scale.replay.whole.rate %.0f bars/s\n"
	       "scale.upkeep.whole.rate %.0f bars/s\n"
	       "scale.upkeep.lapped %llu records\n"
	       "scale.prefetch.hit %.0f %%\nscale.transition.max %.0f us\n"
	       "scale.rss.coordinator %.0f MiB\nscale.rss.upkeep %.0f MiB\n"
	       "scale.rss.reader %.0f MiB\nscale.segments %.0f MiB\n",
	       scan_rate, none.rate, with.rate, busy, none.whole, with.whole,
	       (unsigned long long)with.lapped, none.hit, none.tmax,
	       with.rss_co / 1024.0, with.rss_up / 1024.0, with.rss_rd / 1024.0,
	       with.segs);
	return 0;
}
