/*
 * bench.h: helpers shared by the benchmark programs in bench/.
 *
 * - Time: bench_now_ns() (CLOCK_MONOTONIC), bench_ticks() (rdtsc on x86,
 *   else the clock) and bench_tick_ns(), the tick length calibrated once.
 * - Processes: bench_spawn() forks a child pinned to one CPU (PDEATHSIG, so
 *   none outlives the program); bench_reap() waits with a deadline and
 *   SIGKILLs the late. bench_shared() is anonymous shared memory made
 *   before fork() for results and start lines.
 * - Buses: bench_bus() names a unique bus "<prog>-<pid>-<tag>"; every bus
 *   named has its ring unlinked (its wake word needs nothing) at exit, on SIGINT/SIGTERM/
 *   SIGHUP and by bench_bus_drop(), by the parent only.
 * - Results: bench_pct() over a sorted sample array, bench_median() of
 *   rounds, BENCH_TIMED() a loop's median round; bench_metric() keeps a
 *   `name value unit` figure for bench_metrics_print(), which prints them
 *   all as the program's closing lines (bench/run.sh collects those lines
 *   from every program and reprints them together at the end).
 *
 * Everything is static inline: each bench program is one translation unit.
 */
#ifndef BB_BENCH_H
#define BB_BENCH_H

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

#include "clock.h"

#include "barbus.h"

#define BENCH_MAX_BUSES    16
#define BENCH_MAX_CHILDREN 40
#define BENCH_MAX_METRICS  64

static struct {
	const char *prog;
	pid_t       owner; /* only this process unlinks */
	int         nbus, nmetric;
	char        bus[BENCH_MAX_BUSES][BB_NAME_MAX + 1];
	double      tick_ns;
	struct { char name[48]; double value; char unit[16]; int prec; }
	            metric[BENCH_MAX_METRICS];
} g_bench;

/* ---- time ------------------------------------------------------------- */

static inline int64_t bench_now_ns(void)
{
	return bb__mono_ns();
}

/* A cheap monotonic counter: the TSC (constant and synchronised across
 * CPUs here: constant_tsc, nonstop_tsc), else the clock in ns. */
static inline uint64_t bench_ticks(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __rdtsc();
#else
	return (uint64_t)bench_now_ns();
#endif
}

static inline void bench_sleep_ns(int64_t ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000,
	                       .tv_nsec = ns % 1000000000 };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Nanoseconds per bench_ticks() tick, measured against the clock over
 * 50 ms on first use. */
static inline double bench_tick_ns(void)
{
	if (g_bench.tick_ns > 0)
		return g_bench.tick_ns;
	int64_t n0 = bench_now_ns();
	uint64_t t0 = bench_ticks();
	bench_sleep_ns(50000000);
	int64_t n1 = bench_now_ns();
	uint64_t t1 = bench_ticks();
	g_bench.tick_ns = (double)(n1 - n0) / (double)(t1 - t0);
	return g_bench.tick_ns;
}

static inline void bench_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* ---- failure, cleanup --------------------------------------------------- */

static inline void bench_unlink_bus(const char *bus)
{
	char name[BB_NAME_MAX + 32];

	/* The ring's wake word is a System V segment marked removed at its
	 * creation: the kernel frees it with its last user. */
	snprintf(name, sizeof(name), "/barbus.%.64s.ring", bus);
	shm_unlink(name);
}

static inline void bench_cleanup(void)
{
	if (getpid() != g_bench.owner)
		return;
	for (int i = 0; i < g_bench.nbus; i++)
		if (g_bench.bus[i][0] != '\0')
			bench_unlink_bus(g_bench.bus[i]);
}

static inline void bench_on_signal(int sig)
{
	bench_cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Call first in main(). */
static inline void bench_init(const char *prog)
{
	g_bench.prog = prog;
	g_bench.owner = getpid();
	atexit(bench_cleanup);
	signal(SIGINT, bench_on_signal);
	signal(SIGTERM, bench_on_signal);
	signal(SIGHUP, bench_on_signal);
	/* Line-buffer stdout so children's and parent's lines never mix and
	 * a pipe to run.sh sees progress as it happens. */
	setvbuf(stdout, NULL, _IOLBF, 0);
}

/* In a child: report and leave without running the parent's atexit. */
#define bench_child_fail(...)                                              \
	do {                                                               \
		fprintf(stderr, "%s: ", g_bench.prog);                     \
		fprintf(stderr, __VA_ARGS__);                              \
		fputc('\n', stderr);                                       \
		_exit(2);                                                  \
	} while (0)

/* In the parent: report and exit (atexit unlinks the buses). */
#define bench_fail(...)                                                    \
	do {                                                               \
		fprintf(stderr, "%s: ", g_bench.prog);                     \
		fprintf(stderr, __VA_ARGS__);                              \
		fputc('\n', stderr);                                       \
		exit(1);                                                   \
	} while (0)

/*
 * A unique bus name "<prog>-<pid>-<tag>", remembered for unlinking; valid
 * until bench_bus_drop(). At most BENCH_MAX_BUSES at once.
 */
static inline const char *bench_bus(const char *tag)
{
	int i = 0;

	while (i < g_bench.nbus && g_bench.bus[i][0] != '\0')
		i++;
	if (i == BENCH_MAX_BUSES)
		bench_fail("too many buses at once");
	if (i == g_bench.nbus)
		g_bench.nbus++;
	char *b = g_bench.bus[i];
	snprintf(b, BB_NAME_MAX + 1, "%s-%d-%s", g_bench.prog,
	         (int)g_bench.owner, tag);
	return b;
}

/* Unlink a bus now (its segments can be large) and forget its name. */
static inline void bench_bus_drop(const char *bus)
{
	for (int i = 0; i < g_bench.nbus; i++)
		if (g_bench.bus[i] == bus || strcmp(g_bench.bus[i], bus) == 0) {
			bench_unlink_bus(g_bench.bus[i]);
			g_bench.bus[i][0] = '\0';
			return;
		}
	bench_unlink_bus(bus);
}

/* ---- processes ----------------------------------------------------------- */

/* Anonymous memory shared with children forked later; zeroed. */
static inline void *bench_shared(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
	               MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		bench_fail("mmap %zu bytes: %s", len, strerror(errno));
	return p;
}

static inline int bench_ncpu(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (int)n : 1;
}

/* Pin the calling process to cpu (modulo the CPUs online); -1: any. */
static inline int bench_pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	if (cpu < 0) {
		for (int i = 0; i < bench_ncpu(); i++)
			CPU_SET(i, &set);
	} else {
		CPU_SET(cpu % bench_ncpu(), &set);
	}
	return sched_setaffinity(0, sizeof(set), &set);
}

/*
 * Fork a child pinned to cpu that runs fn(arg, idx) and _exit()s with its
 * return value. The child dies with the parent (PDEATHSIG).
 */
static inline pid_t bench_spawn(int cpu, int (*fn)(void *, int), void *arg,
                                int idx)
{
	fflush(NULL);
	pid_t pid = fork();

	if (pid < 0)
		bench_fail("fork: %s", strerror(errno));
	if (pid > 0)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != g_bench.owner)
		_exit(3);
	if (bench_pin(cpu) != 0)
		bench_child_fail("sched_setaffinity cpu %d: %s", cpu,
		                 strerror(errno));
	_exit(fn(arg, idx));
}

/*
 * Wait for n children up to timeout_s; SIGKILL the late ones. Returns the
 * number that failed (non-zero exit, signal, or late).
 */
static inline int bench_reap(pid_t *pids, int n, int timeout_s)
{
	int64_t deadline = bench_now_ns() + (int64_t)timeout_s * 1000000000;
	int left = n, bad = 0;

	while (left > 0) {
		int st;
		pid_t p = waitpid(-1, &st, WNOHANG);
		if (p > 0) {
			for (int i = 0; i < n; i++) {
				if (pids[i] != p)
					continue;
				pids[i] = 0;
				left--;
				if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
					bad++;
			}
			continue;
		}
		if (bench_now_ns() > deadline) {
			for (int i = 0; i < n; i++)
				if (pids[i] > 0) {
					kill(pids[i], SIGKILL);
					waitpid(pids[i], NULL, 0);
					pids[i] = 0;
					bad++;
				}
			break;
		}
		bench_sleep_ns(1000000);
	}
	return bad;
}

/* Spin (with a pause) until *flag >= want; 0, or -1 after timeout_s. */
static inline int bench_await(_Atomic uint64_t *flag, uint64_t want,
                              int timeout_s)
{
	int64_t deadline = bench_now_ns() + (int64_t)timeout_s * 1000000000;

	for (unsigned i = 0;; i++) {
		/* Acquire pairs with the release store/add of the peer. */
		if (atomic_load_explicit(flag, memory_order_acquire) >= want)
			return 0;
		bench_relax();
		if ((i & 1023) == 0) {
			if (bench_now_ns() > deadline)
				return -1;
			sched_yield(); /* lets a peer on this CPU run */
		}
	}
}

/* ---- results ----------------------------------------------------------- */

static inline int bench_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static inline void bench_sort(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), bench_cmp_u64);
}

/* Percentile q (0..1) of sorted v[0..n), nearest rank. */
static inline uint64_t bench_pct(const uint64_t *v, size_t n, double q)
{
	size_t i = (size_t)(q * (double)n);

	return v[i < n ? i : n - 1];
}

static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of v[0..n), n > 0, sorting v: a figure taken as the median
 * of rounds, so that one round spoiled by the machine does not move it. */
static inline double bench_median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), bench_cmp_double);
	return v[n / 2];
}

/*
 * ns per run of body, into out: the median of BENCH_ROUNDS rounds of
 * iters / BENCH_ROUNDS runs each (about a millisecond): a time slice lost
 * to another process, or the VM's host holding the CPU, spoils one round,
 * not the figure. A figure and its floor are measured the same way.
 */
#define BENCH_ROUNDS 15
#define BENCH_TIMED(out, iters, body)                                        \
	do {                                                                 \
		double r_[BENCH_ROUNDS];                                     \
		int n_ = (iters) / BENCH_ROUNDS;                             \
		for (int k_ = 0; k_ < BENCH_ROUNDS; k_++) {                  \
			int64_t t0_ = bb__mono_ns();                         \
			for (int i_ = 0; i_ < n_; i_++) {                    \
				body;                                        \
			}                                                    \
			r_[k_] = (double)(bb__mono_ns() - t0_) / n_;         \
		}                                                            \
		(out) = bench_median(r_, BENCH_ROUNDS);                      \
	} while (0)

/* Keep `name value unit` for bench_metrics_print(); prec is the number of
 * decimals printed. */
static inline void bench_metric(const char *name, double value,
                                const char *unit, int prec)
{
	if (g_bench.nmetric < BENCH_MAX_METRICS) {
		int i = g_bench.nmetric++;
		snprintf(g_bench.metric[i].name, sizeof(g_bench.metric[i].name),
		         "%s", name);
		snprintf(g_bench.metric[i].unit, sizeof(g_bench.metric[i].unit),
		         "%s", unit);
		g_bench.metric[i].value = value;
		g_bench.metric[i].prec = prec;
	}
}

/* The closing lines: every metric, one per line. */
static inline void bench_metrics_print(void)
{
	for (int i = 0; i < g_bench.nmetric; i++)
		printf("%s %.*f %s\n", g_bench.metric[i].name,
		       g_bench.metric[i].prec, g_bench.metric[i].value,
		       g_bench.metric[i].unit);
	fflush(stdout);
}

#endif /* BB_BENCH_H */
