/*
 * fixture.h: what the bus benchmarks (replay_bench, upkeep_bench) share: a
 * generated store of 500 symbols trading every minute, starting the real
 * programs, and removing a bus. Static functions: one include per program.
 */
#ifndef BB_BENCH_FIXTURE_H
#define BB_BENCH_FIXTURE_H

#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

#include "barbus.h"

#define FIX_NSYM 500
/* The replays: every XNYS session of July 2024, 22 (07-03 closes early,
 * 07-04 is a holiday), 4.2M bars, through the coordinator's default ring of
 * 2^20 records (64 MiB), a quarter of the run: as in a process that runs
 * for days, a reader faults the ring's pages in once, on the first lap, and
 * reads them mapped after (a ring holding the whole run was paged in fresh
 * all along, at 2.6 us a page here: page_bench). The upkeep is not lapped,
 * since the replay is paced to it (a few thousand bars behind at most:
 * coordinator/handshake.c), nor is a reader that keeps up; a lapped
 * reader's rate is no figure. */
#define FIX_FROM     "2024-07-01"
#define FIX_TO       "2024-07-31"
#define FIX_FROM_D   20240701
#define FIX_TO_D     20240731
#define FIX_SESSIONS 22
#define FIX_RING     "1048576"

static char fix_bin[PATH_MAX], fix_dir[64];
static int fix_failures; /* checks failed: the program prints no figure */

/* A failed check: says why on stderr and counts it. */
static inline void fix_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "bench: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	fix_failures++;
}

/* Where fix_spawn() puts child pid's stderr (under fix_dir). */
static inline void fix_err_path(char *buf, size_t len, pid_t pid)
{
	if (fix_dir[0] == '\0')
		snprintf(buf, len, "/dev/null");
	else
		snprintf(buf, len, "%s/stderr.%d", fix_dir, (int)pid);
}

/* The last lines of child pid's stderr (fix_spawn()), if it wrote any,
 * said under the failure; the file removed either way. */
static inline void fix_err_show(pid_t pid, int failed)
{
	char path[PATH_MAX], line[512], last[4][512];
	int n = 0;
	FILE *f;

	fix_err_path(path, sizeof(path), pid);
	if (fix_dir[0] == '\0')
		return;
	if (failed && (f = fopen(path, "r")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL)
			snprintf(last[n++ % 4], sizeof(last[0]), "%s", line);
		fclose(f);
		for (int i = n > 4 ? n - 4 : 0; i < n; i++)
			fprintf(stderr, "bench:   its stderr: %s", last[i % 4]);
	}
	unlink(path);
}

/* Reap pid (what: a name for messages); a failure unless it exited 0,
 * with the last lines of its stderr. *maxrss_kib: its peak resident set
 * (may be NULL). */
static inline int fix_wait(pid_t pid, const char *what, long *maxrss_kib)
{
	struct rusage ru;
	int st;

	if (pid <= 0 || wait4(pid, &st, 0, &ru) != pid) {
		fix_fail("%s: not started", what);
		return -1;
	}
	if (maxrss_kib != NULL)
		*maxrss_kib = ru.ru_maxrss;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		fix_err_show(pid, 0);
		return 0;
	}
	if (WIFEXITED(st))
		fix_fail("%s exited %d", what, WEXITSTATUS(st));
	else
		fix_fail("%s killed by signal %d", what, WTERMSIG(st));
	fix_err_show(pid, 1);
	return -1;
}

/* n / (ns seconds): a failure (and 0) when either is not positive. */
static inline double fix_rate(double n, int64_t ns, const char *what)
{
	if (n > 0 && ns > 0)
		return n / (ns / 1e9);
	fix_fail("%s: no rate (%.0f over %lld ns)", what, n, (long long)ns);
	return 0;
}

/*
 * A reader of bus's ring (wait, flags: as bb_ring_reader_open()), once the
 * ring is there: looked for every poll_ns for up to 60 s (a coordinator
 * stores to every page of its segments before the ring appears: seconds
 * at 10,000 symbols on this kind of VM). NULL when it never came.
 */
static inline bb_ring_reader *fix_ring_open(const char *bus, int wait,
                                            unsigned flags, int64_t poll_ns)
{
	int64_t give_up = bb__mono_ns() + 60 * (int64_t)1000000000;
	bb_ring_reader *r = NULL;

	while (bb_ring_reader_open(&r, bus, wait, flags) != 0) {
		r = NULL;
		if (bb__mono_ns() > give_up)
			break;
		nanosleep(&(struct timespec){ 0, poll_ns }, NULL);
	}
	return r;
}

/* The machine's CPU time so far (/proc/stat), in ticks: busy (user, nice,
 * system, irq, softirq) and all (busy, idle, iowait, steal). */
struct fix_cpu {
	unsigned long long busy, all;
};

static inline void fix_cpu_read(struct fix_cpu *c)
{
	unsigned long long v[8] = { 0 };
	FILE *f = fopen("/proc/stat", "r");

	if (f == NULL || fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu",
	                        &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
	                        &v[6], &v[7]) != 8)
		memset(v, 0, sizeof(v));
	if (f != NULL)
		fclose(f);
	c->busy = v[0] + v[1] + v[2] + v[5] + v[6];
	c->all = c->busy + v[3] + v[4] + v[7];
}

/* Cores busy from a to b (of all the machine's); -1 when no tick passed. */
static inline double fix_cores(const struct fix_cpu *a, const struct fix_cpu *b)
{
	if (b->all <= a->all)
		return -1;
	return (double)sysconf(_SC_NPROCESSORS_ONLN) * (double)(b->busy - a->busy) /
	       (double)(b->all - a->all);
}

/* What a reader process saw of a replay; lives in shared memory. */
struct fix_drained {
	uint64_t bars;   /* bars read */
	uint64_t first;  /* of those, in the batch read at t0 */
	int64_t  t0, t1; /* when the first and the last came */
	uint64_t bars2;  /* bars read up to the batch of the second session's
	                    start (0: none seen), read at t2 */
	int64_t  t2;
	struct fix_cpu c2, c1; /* the machine's CPU time at t2 and at the end */
	int      rc;     /* why it stopped early; 0 at the end of data */
};

/* The rate from the first bar's batch to the end of data. */
static inline double fix_whole_rate(const struct fix_drained *d,
                                    const char *what)
{
	return fix_rate((double)(d->bars - d->first), d->t1 - d->t0, what);
}

/* The rate from the second session's start to the end of data: a failure
 * (and 0) when the run had one session. */
static inline double fix_steady_rate(const struct fix_drained *d,
                                     const char *what)
{
	if (d->bars2 == 0 || d->bars2 >= d->bars)
		return fix_rate(0, 0, what);
	return fix_rate((double)(d->bars - d->bars2), d->t1 - d->t2, what);
}

#define FIX_BATCH 256 /* records a reader takes per call */

/*
 * Reader process: the ring of bus from its oldest record to the end of
 * data, blocking, counting bars into *d. It reads in batches
 * (bb_ring_wait_n), as a reader that keeps up with a replay at full speed
 * would: one call and one clock read per batch, not per record, so it
 * leaves the core it shares with the upkeep to the upkeep. t1 is taken
 * after each batch, so it is the time the batch's last bar was read; the
 * whole run's rate (fix_whole_rate) is (bars - first) / (t1 - t0). The
 * steady rate (fix_steady_rate) leaves the first session out: it holds the
 * programs' start-up (the upkeep making its tables, 2.2 GB at 10,000
 * symbols, while the coordinator waits at the first boundary), which a
 * replay of years pays once; c2 and c1 bound the same window for the
 * cores the machine kept busy (fix_cores). 0, or 1 when the ring never
 * opened or reading stopped early (lapped, nothing for timeout_ns, writer
 * gone): no figure then.
 */
static inline int fix_drain(const char *bus, int64_t timeout_ns,
                            struct fix_drained *d)
{
	static bb_bar buf[FIX_BATCH];
	bb_ring_reader *r = fix_ring_open(bus, BB_WAIT_BLOCK, BB_RING_FROM_OLDEST,
	                                  100000);
	uint64_t lost;
	size_t got;

	if (r == NULL)
		return 1;
	for (;;) {
		if ((d->rc = bb_ring_wait_n(r, buf, FIX_BATCH, &got, &lost,
		                            timeout_ns)) != 0) {
			bb_ring_reader_close(r);
			return 1;
		}
		uint64_t bars = 0;
		int end = 0, second = 0;
		for (size_t i = 0; i < got; i++) {
			uint32_t k = BB_KIND(buf[i].flags);
			bars += k == BB_KIND_BAR;
			end |= k == BB_KIND_SESSION_END && buf[i].high == BB_END_DATA;
			second |= k == BB_KIND_SESSION_START && d->bars + bars > 0;
		}
		int64_t now = bars > 0 || second ? bb__mono_ns() : 0;
		if (bars > 0) {
			if (d->bars == 0) {
				d->t0 = now;
				d->first = bars;
			}
			d->t1 = now;
			d->bars += bars;
		}
		if (second && d->bars2 == 0) {
			d->t2 = now;
			d->bars2 = d->bars;
			fix_cpu_read(&d->c2);
		}
		if (end)
			break;
	}
	fix_cpu_read(&d->c1);
	bb_ring_reader_close(r);
	return 0;
}

/* Call first: where the programs are, and a fresh temp dir for the store. */
static inline int fix_init(const char *argv0, const char *tag)
{
	snprintf(fix_bin, sizeof(fix_bin), "%s/../bin", dirname(strdup(argv0)));
	snprintf(fix_dir, sizeof(fix_dir), "/tmp/bb-%s-XXXXXX", tag);
	return mkdtemp(fix_dir) != NULL ? 0 : -1;
}

static inline void fix_unlink_bus(const char *bus)
{
	bb_bus_remove(bus, BB_REMOVE_FORCE, NULL);
}

static inline void fix_cleanup(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", fix_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", fix_dir);
}

/*
 * Store fix_dir: nsym symbols S000.., every minute of every XNYS session in
 * [from, to] (YYYYMMDD). *load_rate: bars/s of bb_store_load over them
 * (NULL: not measured). Returns the bars stored.
 */
static inline size_t fix_store(uint32_t nsym, int32_t from, int32_t to,
                               double *load_rate)
{
	bb_store *st;
	bb_calendar *cal;
	bb_session s;
	bb_batch b = { 0 };
	uint32_t id;
	char name[16];
	size_t total = 0, loaded = 0;
	int64_t dt = 0;
	bb_bar *bars = malloc(sizeof(*bars) * nsym * 1440);

	if (bars == NULL || bb_store_open(&st, fix_dir, 0) != 0 ||
	    bb_calendar_load(&cal, "XNYS", NULL, 0) != 0) {
		fprintf(stderr, "bench: store %s: cannot open\n", fix_dir);
		exit(1);
	}
	for (uint32_t i = 0; i < nsym; i++) {
		snprintf(name, sizeof(name), "S%03u", i);
		if (bb_store_symbol_add(st, name, &id) != 0 || id != i) {
			fprintf(stderr, "bench: store %s: symbol %s\n", fix_dir, name);
			exit(1);
		}
	}
	for (int32_t d = from; bb_calendar_next(cal, d, &s) == 0 && s.date <= to;
	     d = bb_days_to_date(bb_date_to_days(s.date) + 1)) {
		size_t n = 0;
		for (int64_t t = s.open; t < s.close; t += 60)
			for (uint32_t k = 0; k < nsym; k++)
				bars[n++] = (bb_bar){ .symbol = k, .time = t,
					.open = 10, .high = 11, .low = 9,
					.close = 10.5, .volume = 100 };
		if (bb_store_put(st, bars, n, NULL) != 0) {
			fprintf(stderr, "bench: store %s: put failed\n", fix_dir);
			exit(1);
		}
		total += n;
		int64_t t0 = bb__mono_ns();
		if (bb_store_load(st, NULL, 0, s.open, s.close, &b) != 0 ||
		    b.n != n) {
			fprintf(stderr, "bench: store %s: load failed\n", fix_dir);
			exit(1);
		}
		dt += bb__mono_ns() - t0;
		loaded += b.n;
	}
	if (load_rate != NULL)
		*load_rate = fix_rate((double)loaded, dt, "store load");
	bb_batch_free(&b);
	bb_calendar_free(cal);
	bb_store_close(st);
	free(bars);
	return total;
}

/* Start build/bin/barbus-<prog> with the arguments of ap (NULL-terminated),
 * its stderr into the file err (NULL: fix_err_path()). */
static inline pid_t fix_spawnv(const char *err, const char *prog, va_list ap)
{
	char *args[32], path[PATH_MAX + 32];
	int n = 0;

	snprintf(path, sizeof(path), "%s/barbus-%s", fix_bin, prog);
	args[n++] = path;
	while (n < 31 && (args[n] = va_arg(ap, char *)) != NULL)
		n++;
	args[n] = NULL;
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		char own[PATH_MAX];
		if (err == NULL)
			fix_err_path(own, sizeof(own), getpid());
		int fd = open(err ? err : own, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 2);
		execv(path, args);
		_exit(127);
	}
	return pid;
}

/* barbus-PROG with the NULL-terminated arguments; its stderr kept until
 * fix_wait() (shown if it failed). */
static inline pid_t fix_spawn(const char *prog, ...)
{
	va_list ap;

	va_start(ap, prog);
	pid_t pid = fix_spawnv(NULL, prog, ap);
	va_end(ap);
	return pid;
}

/* The same, stderr into the file err. */
static inline pid_t fix_spawn_log(const char *err, const char *prog, ...)
{
	va_list ap;

	va_start(ap, prog);
	pid_t pid = fix_spawnv(err, prog, ap);
	va_end(ap);
	return pid;
}

static int fix_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Transitions (us, p50 and max) and prefetch hits (%) of the finished run
 * on bus; a failure unless there were sessions - 1 of each. */
static inline void fix_control(const char *bus, int sessions, double *p50,
                               double *max, double *hit)
{
	bb_bus *b;
	bb_status st;
	uint64_t v[256];
	size_t n = 0;

	*p50 = *max = *hit = 0;
	if (bb_bus_open(&b, bus) != 0 || bb_bus_status(b, &st) != 0) {
		fix_fail("%s: no control segment", bus);
		return;
	}
	for (uint64_t s = 1; s <= st.sessions && n < 256; s++)
		if ((v[n] = bb_bus_transition_ns(b, s)) != 0)
			n++;
	qsort(v, n, sizeof(v[0]), fix_cmp_u64);
	if (n > 0) {
		*p50 = v[n / 2] / 1e3;
		*max = v[n - 1] / 1e3;
	}
	double h = (double)bb_bus_counter(b, BB_CTR_PREFETCH_HITS);
	double m = (double)bb_bus_counter(b, BB_CTR_PREFETCH_MISSES);
	*hit = h + m > 0 ? 100 * h / (h + m) : 0;
	/* The first session is not prefetched; its transition is from the
	 * history's last session when there is one. */
	if (h + m != sessions - 1 || n + 1 < (size_t)sessions)
		fix_fail("%s: %.0f prefetches and %zu transitions counted, not %d",
		         bus, h + m, n, sessions - 1);
	bb_bus_close(b);
}

#endif /* BB_BENCH_FIXTURE_H */
