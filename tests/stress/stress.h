/*
 * stress.h: helpers shared by the plain stress programs in tests/stress/.
 *
 * - CHECK(cond, fmt, ...) counts into passed/failed; stress_done() prints
 *   the closing "N passed, N failed" line that tests/run.sh parses
 *   (stress_done_dir() also removes a directory of outputs when all passed).
 * - Unique bus names "t-<prog>-<pid>[-suffix]"; their segments (every
 *   known role, hist.N and up.* included) are unlinked at exit (atexit), on
 *   fatal signals, on the watchdog alarm and on stress_fatal(), by the
 *   process that created them only; at exit also any other
 *   barbus.<bus>.* in /dev/shm, whatever its role.
 * - Children are registered, reaped with a timeout and SIGKILLed when late,
 *   so no process outlives the program; children also get PDEATHSIG.
 * - stress_sh(fmt, ...): a shell command made like printf, its exit status.
 * - The programs under test (stress_bin()) run as registered children with
 *   their stderr into a log (stress_spawn(), stress_exec_to());
 *   stress_exit_code() waits for one and says how it ended,
 *   stress_file_has() looks for a line in its log, stress_upkeep_info()
 *   reads what an upkeep says of itself.
 * - stress_ring_drain(): a ring reader thread's loop, records to a callback.
 * - Self-checking records: every word of a bb_bar is a function of
 *   (seq, tag, u0, u1), so any mix of two records fails stress_rec_check().
 * - With STRESS_SHARE_MAPS defined before inclusion, mmap()/munmap() are
 *   interposed so that mappings of one shared-memory object made by the
 *   threads of one process alias one address range (see the note there).
 *
 * Everything is static: each stress program is one translation unit.
 */
#ifndef BB_STRESS_H
#define BB_STRESS_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "barbus.h"
#include "clock.h"

#define STRESS_MAX_BUSES    8
#define STRESS_MAX_CHILDREN 32
#define STRESS_U52          ((1ull << 52) - 1) /* exact in a double */

static struct {
	_Atomic int passed, failed;
	const char *prog;
	pid_t       owner; /* only this process unlinks and reaps */
	int         verbose;
	int         nbus;
	char        bus[STRESS_MAX_BUSES][BB_NAME_MAX + 1];
	pid_t       child[STRESS_MAX_CHILDREN]; /* 0: free entry */
} g_stress;

/* ---- time, environment -------------------------------------------------- */

/* The library's monotonic clock (clock.h), under the stress programs' name. */
static inline int64_t stress_now_ns(void)
{
	return bb__mono_ns();
}

static inline void stress_sleep_ns(int64_t ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000,
	                       .tv_nsec = ns % 1000000000 };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* A shell command made like printf; its exit status, -1 when it did not
 * exit (killed by a signal). */
static inline int stress_sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* BB_TEST_FAST=1 asks for shorter runs (sanitizer builds). */
static inline int stress_fast(void)
{
	const char *s = getenv("BB_TEST_FAST");

	return s != NULL && s[0] != '\0' && strcmp(s, "0") != 0;
}

static inline int stress_tsan(void)
{
#ifdef BB_TSAN
	return 1;
#else
	return 0;
#endif
}

/* ---- checks ----------------------------------------------------------- */

static void stress_check(int ok, const char *file, int line, const char *expr,
                         const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		atomic_fetch_add(&g_stress.passed, 1);
		if (!g_stress.verbose)
			return;
		fprintf(stdout, "ok   ");
	} else {
		atomic_fetch_add(&g_stress.failed, 1);
		fprintf(stdout, "FAIL %s:%d: (%s) ", file, line, expr);
	}
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

#define CHECK(cond, ...) \
	stress_check(!!(cond), __FILE__, __LINE__, #cond, __VA_ARGS__)

/* Informational line (always printed). */
#define INFO(...) \
	do { printf("info "); printf(__VA_ARGS__); putchar('\n'); \
	     fflush(stdout); } while (0)

/* ---- buses, segments, cleanup --------------------------------------- */

static void stress_unlink_bus(const char *bus)
{
	static const char *const roles[] = {
		"ring", "wake", "control", "bars.1m",
		"up.status", "up.quality", "up.fills", "up.5m", "up.15m",
		"up.30m", "up.60m", "up.7m", "up.fills.h", "up.5m.h",
		"up.15m.h", "up.30m.h", "up.60m.h", "up.7m.h",
	};
	char name[1 + 7 + BB_NAME_MAX + 1 + 16 + 1];

	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		/* snprintf is not async-signal-safe in theory; the buffer is
		 * local and glibc's integer-free %s path takes no lock. */
		snprintf(name, sizeof(name), "/barbus.%s.%s", bus, roles[i]);
		shm_unlink(name);
	}
	for (int k = 0; k < 64; k++) { /* hist.N: up to BB_CTL_MAX_BLOCKS */
		snprintf(name, sizeof(name), "/barbus.%s.hist.%d", bus, k);
		shm_unlink(name);
	}
}

/* Not from a signal handler (opendir allocates): every /dev/shm object of
 * bus, whatever its role (up.<N>m of any N, ...). */
static void stress_unlink_bus_all(const char *bus)
{
	char prefix[8 + BB_NAME_MAX + 2], name[300];
	DIR *d = opendir("/dev/shm");
	struct dirent *e;

	snprintf(prefix, sizeof(prefix), "barbus.%s.", bus);
	while (d != NULL && (e = readdir(d)) != NULL)
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) {
			snprintf(name, sizeof(name), "/%s", e->d_name);
			shm_unlink(name);
		}
	if (d != NULL)
		closedir(d);
}

/* Async-signal-safe (kill, waitpid): SIGKILL and reap every child. */
static void stress_kill_children(void)
{
	for (int i = 0; i < STRESS_MAX_CHILDREN; i++)
		if (g_stress.child[i] > 0)
			kill(g_stress.child[i], SIGKILL);
	for (int i = 0; i < STRESS_MAX_CHILDREN; i++) {
		pid_t pid = g_stress.child[i];
		while (pid > 0 && waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		g_stress.child[i] = 0;
	}
}

static void stress_cleanup(void)
{
	if (getpid() != g_stress.owner)
		return;
	stress_kill_children();
	for (int i = 0; i < g_stress.nbus; i++) {
		stress_unlink_bus(g_stress.bus[i]);
		stress_unlink_bus_all(g_stress.bus[i]);
	}
}

/* Async-signal-safe decimal output. */
static void stress_put_u(int fd, unsigned long v)
{
	char b[24];
	int n = sizeof(b);

	do
		b[--n] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	if (write(fd, b + n, sizeof(b) - (size_t)n) < 0)
		return;
}

static void stress_put_s(int fd, const char *s)
{
	if (write(fd, s, strlen(s)) < 0)
		return;
}

/*
 * Fatal signals and the watchdog: kill children, unlink segments, print a
 * closing line that counts one more failure, and die. In a child (forked
 * from the owner, handlers inherited) only die.
 */
static void stress_on_signal(int sig)
{
	if (getpid() != g_stress.owner)
		_exit(128 + sig);
	stress_kill_children();
	for (int i = 0; i < g_stress.nbus; i++)
		stress_unlink_bus(g_stress.bus[i]);
	stress_put_s(1, sig == SIGALRM ? "\nFAIL watchdog: time budget exceeded\n"
	                               : "\nFAIL killed by signal ");
	if (sig != SIGALRM) {
		stress_put_u(1, (unsigned long)sig);
		stress_put_s(1, "\n");
	}
	stress_put_u(1, (unsigned long)atomic_load(&g_stress.passed));
	stress_put_s(1, " passed, ");
	stress_put_u(1, (unsigned long)atomic_load(&g_stress.failed) + 1);
	stress_put_s(1, " failed\n");
	if (sig == SIGALRM)
		_exit(1);
	signal(sig, SIG_DFL);
	raise(sig);
	_exit(128 + sig);
}

/*
 * Call first. watchdog_s: the whole program's time budget (0: none).
 * BB_STRESS_VERBOSE=1 prints passing checks too.
 */
static void stress_init(const char *prog, unsigned watchdog_s)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGALRM,
	                            SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
	struct sigaction sa = { .sa_handler = stress_on_signal };
	const char *v = getenv("BB_STRESS_VERBOSE");

	g_stress.prog = prog;
	g_stress.owner = getpid();
	g_stress.verbose = v != NULL && v[0] == '1';
	setvbuf(stdout, NULL, _IOLBF, 0);
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	atexit(stress_cleanup);
	if (watchdog_s > 0)
		alarm(watchdog_s);
}

/*
 * Register and return a unique bus name "t-<prog>-<pid>" (suffix NULL) or
 * "t-<prog>-<pid>-<suffix>". Stale segments of that name are removed first.
 */
static const char *stress_bus(const char *suffix)
{
	if (g_stress.nbus >= STRESS_MAX_BUSES) {
		fprintf(stderr, "stress: too many buses\n");
		exit(2);
	}
	char *b = g_stress.bus[g_stress.nbus];
	if (suffix != NULL)
		snprintf(b, BB_NAME_MAX + 1, "t-%s-%d-%s", g_stress.prog,
		         (int)g_stress.owner, suffix);
	else
		snprintf(b, BB_NAME_MAX + 1, "t-%s-%d", g_stress.prog,
		         (int)g_stress.owner);
	if (bb_bus_name_check(b) != 0) {
		fprintf(stderr, "stress: bad bus name %s\n", b);
		exit(2);
	}
	stress_unlink_bus(b);
	g_stress.nbus++;
	return b;
}

/* Print the closing line; the exit status for main(). */
static int stress_done(void)
{
	int p = atomic_load(&g_stress.passed), f = atomic_load(&g_stress.failed);

	fflush(stderr);
	printf("%d passed, %d failed\n", p, f);
	fflush(stdout);
	return f == 0 ? 0 : 1;
}

/* As stress_done(), and first remove the program's directory of outputs
 * when every check passed, else say that it is kept. */
static inline int stress_done_dir(const char *dir)
{
	if (atomic_load(&g_stress.failed) == 0)
		stress_sh("rm -rf %s", dir);
	else
		INFO("outputs kept in %s", dir);
	return stress_done();
}

/* Count a failure and leave through the cleanup paths. */
static void stress_fatal(const char *fmt, ...)
{
	va_list ap;

	atomic_fetch_add(&g_stress.failed, 1);
	printf("FAIL fatal: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	exit(stress_done());
}

/* ---- children ----------------------------------------------------------- */

/*
 * fork() a registered child. In the child: PDEATHSIG so it dies with the
 * parent, default signal dispositions kept (the handler only _exits there).
 * Returns the pid in the parent and 0 in the child, as fork().
 */
static inline pid_t stress_fork(void)
{
	int slot = -1;

	for (int i = 0; i < STRESS_MAX_CHILDREN && slot < 0; i++)
		if (g_stress.child[i] == 0)
			slot = i;
	if (slot < 0)
		stress_fatal("too many children");
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0)
		stress_fatal("fork: %s", strerror(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != g_stress.owner)
			_exit(99); /* the parent died before prctl */
		alarm(0);
		return 0;
	}
	g_stress.child[slot] = pid;
	return pid;
}

static inline void stress_forget(pid_t pid)
{
	for (int i = 0; i < STRESS_MAX_CHILDREN; i++)
		if (g_stress.child[i] == pid)
			g_stress.child[i] = 0;
}

/*
 * Wait for a child up to timeout_ms, then SIGKILL and reap it. Returns its
 * wait status, or -1 when it had to be killed (a failure for the caller).
 */
static inline int stress_reap(pid_t pid, int64_t timeout_ms)
{
	int64_t deadline = stress_now_ns() + timeout_ms * 1000000;
	int status = 0;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR) {
			stress_forget(pid);
			return -1;
		}
		if (stress_now_ns() >= deadline) {
			kill(pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			stress_forget(pid);
			return -1;
		}
		stress_sleep_ns(1000000);
	}
	stress_forget(pid);
	return status;
}

/* "exit 0", "exit 3", "signal 9", "timed out (killed)" */
static inline const char *stress_status_str(int status, char *buf, size_t len)
{
	if (status == -1)
		snprintf(buf, len, "timed out (killed)");
	else if (WIFEXITED(status))
		snprintf(buf, len, "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "signal %d", WTERMSIG(status));
	else
		snprintf(buf, len, "status %#x", status);
	return buf;
}

/* ---- the project's programs -------------------------------------------- */

/*
 * Where the programs under test are: "<directory of argv0>/../bin" into
 * out (prog NULL), or that directory's prog ("<...>/../bin/<prog>").
 */
static inline void stress_bin(const char *argv0, const char *prog, char *out,
                              size_t len)
{
	char self[PATH_MAX];

	snprintf(self, sizeof(self), "%s", argv0);
	if (prog != NULL)
		snprintf(out, len, "%s/../bin/%s", dirname(self), prog);
	else
		snprintf(out, len, "%s/../bin", dirname(self));
}

/*
 * A registered child (stress_fork()) running bin/prog with args
 * (NULL-terminated, the first 22 kept), its stderr into log (truncated).
 * The child's pid; the child exits 127 when log cannot be opened or prog
 * cannot be run.
 */
static inline pid_t stress_spawn(const char *bin, const char *prog,
                                 const char *log, const char *const *args)
{
	pid_t pid = stress_fork();

	if (pid == 0) {
		const char *argv[24];
		char path[PATH_MAX + 32];
		int n = 0;
		snprintf(path, sizeof(path), "%s/%s", bin, prog);
		argv[n++] = path;
		while (*args != NULL && n < 23)
			argv[n++] = *args++;
		argv[n] = NULL;
		if (freopen(log, "w", stderr) == NULL)
			_exit(127);
		execv(path, (char *const *)argv);
		_exit(127);
	}
	return pid;
}

/*
 * In a child: exec argv (argv[0] a path) with stdout and stderr into
 * errpath, opened with O_WRONLY | O_CREAT | oflag (O_TRUNC or O_APPEND);
 * never returns (exit 127 when argv[0] cannot be run).
 */
static inline void stress_exec_to(const char *errpath, int oflag,
                                  char *const argv[])
{
	int fd = open(errpath, O_WRONLY | O_CREAT | oflag, 0600);

	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
	}
	execv(argv[0], argv);
	_exit(127);
}

/*
 * Exit code of a registered child, waiting up to timeout_ms: 128 + the
 * signal when a signal ended it, -1 when it had to be killed (late).
 */
static inline int stress_exit_code(pid_t pid, int64_t timeout_ms)
{
	int st = stress_reap(pid, timeout_ms);

	return st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Does a line of the file at path hold needle (no newline in it)? 0 when
 * the file cannot be read. */
static inline int stress_file_has(const char *path, const char *needle)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	int found = 0;

	while (f != NULL && !found && getline(&line, &cap, f) >= 0)
		found = strstr(line, needle) != NULL;
	free(line);
	if (f != NULL)
		fclose(f);
	return found;
}

/* What the upkeep of bus says of itself (bb_upkeep_status()); all 0 when
 * it has no status segment. */
static inline bb_upkeep_info stress_upkeep_info(const char *bus)
{
	bb_upkeep *u;
	bb_upkeep_info info = { 0 };

	if (bb_upkeep_open(&u, bus) == 0) {
		bb_upkeep_status(u, &info);
		bb_upkeep_close(u);
	}
	return info;
}

/* ---- ring readers ------------------------------------------------------ */

/*
 * A reader thread's loop: each record of r to on(b, ctx), until *stop is
 * set and then until nothing more comes for 20 ms (what was published
 * before the stop is all seen). The seq_cst load of *stop pairs with the
 * store that sets it.
 */
static inline void stress_ring_drain(bb_ring_reader *r, atomic_int *stop,
                                     void (*on)(const bb_bar *b, void *ctx),
                                     void *ctx)
{
	bb_bar b;

	for (;;) {
		int stopping = atomic_load(stop);
		if (bb_ring_wait(r, &b, NULL, 20000000) != 0) {
			if (stopping)
				break;
			continue;
		}
		on(&b, ctx);
	}
}

/* ---- random numbers and self-checking records ---------------------- */

/* splitmix64 finaliser: a bijection with full avalanche. */
static inline uint64_t stress_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* xorshift64*; state must not be 0. */
static inline uint64_t stress_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

/* Uniform-ish in [lo, hi]. */
static inline uint64_t stress_rand_in(uint64_t *s, uint64_t lo, uint64_t hi)
{
	return lo + stress_rand(s) % (hi - lo + 1);
}

/*
 * A record for position seq: time = seq, symbol = tag, open/high carry two
 * 52-bit user words exactly, and the remaining bits (flags' low 24, low,
 * close, volume) are a hash of all of them. Kind is BB_KIND_USER.
 */
static inline void stress_rec_make(bb_bar *b, uint64_t seq, uint32_t tag,
                                   uint64_t u0, uint64_t u1)
{
	u0 &= STRESS_U52;
	u1 &= STRESS_U52;
	uint64_t h = stress_mix(seq ^ stress_mix(tag ^ stress_mix(u0 ^
	                        stress_mix(u1))));

	b->symbol = tag;
	b->flags = ((uint32_t)BB_KIND_USER << BB_KIND_SHIFT) |
	           (uint32_t)(h & 0xffffff);
	b->time = (int64_t)seq;
	b->open = (double)u0;
	b->high = (double)u1;
	b->low = (double)(stress_mix(h + 1) >> 12);
	b->close = (double)(stress_mix(h + 2) >> 12);
	b->volume = (double)(stress_mix(h + 3) >> 12);
}

/*
 * 0 when all seven words of b are consistent with one stress_rec_make()
 * call, whose arguments are then stored (any pointer may be NULL); -1 for
 * a torn or foreign record.
 */
static inline int stress_rec_check(const bb_bar *b, uint64_t *seq,
                                   uint32_t *tag, uint64_t *u0, uint64_t *u1)
{
	bb_bar e;

	if (!(b->open >= 0 && b->open <= (double)STRESS_U52 &&
	      b->high >= 0 && b->high <= (double)STRESS_U52))
		return -1;
	stress_rec_make(&e, (uint64_t)b->time, b->symbol, (uint64_t)b->open,
	                (uint64_t)b->high);
	if (memcmp(&e, b, sizeof(e)) != 0)
		return -1;
	if (seq != NULL)
		*seq = (uint64_t)b->time;
	if (tag != NULL)
		*tag = b->symbol;
	if (u0 != NULL)
		*u0 = (uint64_t)b->open;
	if (u1 != NULL)
		*u1 = (uint64_t)b->high;
	return 0;
}

/* ---- one mapping per object per process (for TSan) ------------------ */

#ifdef STRESS_SHARE_MAPS
#include <dlfcn.h>
#include <pthread.h>
/*
 * ThreadSanitizer tracks memory by virtual address. The writer and every
 * reader map the ring with their own mmap(), so when they are threads of
 * one process each sees the ring at a different address and TSan cannot
 * relate their accesses: it would neither report a race nor check the
 * seqlock's ordering. Interposing mmap()/munmap() (the program's symbols
 * win over libc's, and libbarbus.a is linked into the program) makes every
 * MAP_SHARED mapping of the same object, length and offset return the one
 * address range first mapped, reference-counted. Only while
 * g_share_maps.on is set (thread mode), and only when the first mapping's
 * protection covers the one asked for (the writer maps first, read-write).
 */
static struct {
	pthread_mutex_t lock;
	int             on;
	unsigned        hits;
	struct share_ent {
		void  *addr;
		size_t len;
		off_t  off;
		dev_t  dev;
		ino_t  ino;
		int    prot, refs;
	} ent[16];
} g_share_maps = { .lock = PTHREAD_MUTEX_INITIALIZER };

typedef void *(*stress_mmap_fn)(void *, size_t, int, int, int, off_t);
typedef int (*stress_munmap_fn)(void *, size_t);

/*
 * The wrappers run inside TSan's own start-up (its symbolizer maps memory
 * through the mmap symbol), so they are not instrumented, and they reach
 * the real functions through TSan's exported interceptors when present
 * (no dlsym, which may allocate, before TSan is ready).
 */
#define STRESS_NO_TSAN __attribute__((no_sanitize_thread, noinline))
extern void *__interceptor_mmap(void *, size_t, int, int, int, off_t)
	__attribute__((weak));
extern int __interceptor_munmap(void *, size_t) __attribute__((weak));

STRESS_NO_TSAN
static void *stress_real_mmap(void *a, size_t l, int p, int f, int fd, off_t o)
{
	static stress_mmap_fn real;

	if (__interceptor_mmap != NULL)
		return __interceptor_mmap(a, l, p, f, fd, o);
	if (real == NULL)
		real = (stress_mmap_fn)dlsym(RTLD_NEXT, "mmap");
	return real(a, l, p, f, fd, o);
}

STRESS_NO_TSAN
static int stress_real_munmap(void *a, size_t l)
{
	static stress_munmap_fn real;

	if (__interceptor_munmap != NULL)
		return __interceptor_munmap(a, l);
	if (real == NULL)
		real = (stress_munmap_fn)dlsym(RTLD_NEXT, "munmap");
	return real(a, l);
}

STRESS_NO_TSAN
static struct share_ent *share_find(dev_t dev, ino_t ino, size_t len, off_t off)
{
	for (int i = 0; i < 16; i++) {
		struct share_ent *e = &g_share_maps.ent[i];
		if (e->refs > 0 && e->dev == dev && e->ino == ino &&
		    e->len == len && e->off == off)
			return e;
	}
	return NULL;
}

STRESS_NO_TSAN
static void share_add(void *p, size_t len, off_t off, const struct stat *st,
                      int prot)
{
	for (int i = 0; i < 16; i++) {
		struct share_ent *e = &g_share_maps.ent[i];
		if (e->refs == 0) {
			*e = (struct share_ent){ p, len, off, st->st_dev,
			                         st->st_ino, prot, 1 };
			return;
		}
	}
}

STRESS_NO_TSAN
void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	struct stat st;

	if (fd < 0 || !g_share_maps.on || addr != NULL ||
	    !(flags & MAP_SHARED) || (flags & MAP_FIXED) || fstat(fd, &st) != 0)
		return stress_real_mmap(addr, len, prot, flags, fd, off);
	pthread_mutex_lock(&g_share_maps.lock);
	void *p;
	struct share_ent *e = share_find(st.st_dev, st.st_ino, len, off);
	if (e != NULL && (e->prot & prot) == prot) {
		e->refs++;
		g_share_maps.hits++;
		p = e->addr;
	} else {
		p = stress_real_mmap(addr, len, prot, flags, fd, off);
		if (p != MAP_FAILED && e == NULL)
			share_add(p, len, off, &st, prot);
	}
	pthread_mutex_unlock(&g_share_maps.lock);
	return p;
}

STRESS_NO_TSAN
int munmap(void *addr, size_t len)
{
	if (!g_share_maps.on)
		return stress_real_munmap(addr, len);
	pthread_mutex_lock(&g_share_maps.lock);
	for (int i = 0; i < 16; i++) {
		struct share_ent *e = &g_share_maps.ent[i];
		if (e->refs > 0 && e->addr == addr && e->len == len &&
		    --e->refs > 0) {
			pthread_mutex_unlock(&g_share_maps.lock);
			return 0;
		}
	}
	pthread_mutex_unlock(&g_share_maps.lock);
	return stress_real_munmap(addr, len);
}
#endif /* STRESS_SHARE_MAPS */

#endif /* BB_STRESS_H */
