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
#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <sched.h>
#include <sys/resource.h>

#include "chaos.h"
#include "seg.h" /* segment headers: epochs and the writers' stamps */
#include "reader.h"
#include "verify.h"

enum { P_CO, P_UP, P_N };
static const char *const p_name[P_N] = { "coordinator", "upkeep" };

#define MAX_KILLS   1024
#define MAX_STOPS   512
#define MAX_SAMPLES (1 << 17)
#define SAMPLE_NS   10000000LL  /* rate samples every 10 ms */
#define SERVED_WAIT_NS 3000000000LL
#define SETTLE_NS   500000000LL /* a window this close after a coordinator
                                   kill is not clean */

static const char *const up_roles[] = {
	"up.status", "up.quality", "up.fills", "up.fills.h", "up.5m", "up.15m",
	"up.30m", "up.60m", "up.5m.h", "up.15m.h", "up.30m.h", "up.60m.h",
};
#define UP_NROLES (sizeof(up_roles) / sizeof(up_roles[0]))
#define NEYES     (1 + UP_NROLES) /* the ring, then the up.* tables */

struct kill_ev {
	int     proc;
	int64_t t_kill;
	double  served_ms; /* exec to the writer's stamp; < 0: not serving */
	double  seen_ms;   /* fork to the driver's first sight */
	double  cpu_ms, wait_ms; /* the new process's time on a CPU and
	                            waiting for one, when it was seen */
};

struct stop_ev {
	int64_t run_from, stop_at, cont_at;
};

struct sample {
	int64_t  t;
	uint64_t recs, epoch, session;
	uint32_t state;
};

/* One run of the driver: its processes, its events, its samples. */
struct run {
	uint64_t        rng;
	pid_t           pid[P_N];
	int             died[P_N];     /* exits nobody asked for */
	int             done[P_N];     /* exited 0 at the end of data */
	struct kill_ev  kill[MAX_KILLS];
	int             nkill;
	struct stop_ev  stop[MAX_STOPS];
	_Atomic int     nstop;         /* written by the stopper thread */
	struct sample  *smp;
	_Atomic int     nsmp;          /* written by the sampler thread */
	bb_bus         *bus;
	struct bb__seg_hdr *eye[NEYES];
	_Atomic int64_t *exec_ns;      /* [proc]: shared with the children */
	bb_ring_reader *aim;           /* to kill inside a minute's burst */
	uint32_t        last_kind;     /* of the last record aim read */
	int             aimed, mid_minute;
};

/* ---- cleanup: every segment of the bus, whatever its role ------------ */

/* Async-signal-safe: the roles of this bus, hist.0 .. hist.63 included. */
static void ch_unlink_all(void)
{
	static const char *const roles[] = { "ring", "wake", "control", "bars.1m" };
	char name[1 + 7 + BB_NAME_MAX + 1 + 16 + 1];

	if (g.bus == NULL)
		return;
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		snprintf(name, sizeof(name), "/barbus.%s.%s", g.bus, roles[i]);
		shm_unlink(name);
	}
	for (size_t i = 0; i < UP_NROLES; i++) {
		snprintf(name, sizeof(name), "/barbus.%s.%s", g.bus, up_roles[i]);
		shm_unlink(name);
	}
	for (int k = 0; k < 64; k++) {
		snprintf(name, sizeof(name), "/barbus.%s.hist.%d", g.bus, k);
		shm_unlink(name);
	}
}

/* At exit: also anything else named barbus.<bus>.* in /dev/shm. */
static void ch_cleanup(void)
{
	char prefix[8 + BB_NAME_MAX + 2], name[300];
	struct dirent *e;

	if (getpid() != g_stress.owner || g.bus == NULL)
		return;
	stress_kill_children();
	ch_unlink_all();
	DIR *d = opendir("/dev/shm");
	snprintf(prefix, sizeof(prefix), "barbus.%s.", g.bus);
	while (d != NULL && (e = readdir(d)) != NULL)
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) {
			snprintf(name, sizeof(name), "/%s", e->d_name);
			shm_unlink(name);
		}
	if (d != NULL)
		closedir(d);
}

static void ch_on_signal(int sig)
{
	if (getpid() == g_stress.owner) {
		stress_kill_children();
		ch_unlink_all();
	}
	stress_on_signal(sig);
}

static void ch_init(const char *prog, unsigned watchdog_s)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGALRM,
	                            SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
	struct sigaction sa = { .sa_handler = ch_on_signal };

	stress_init(prog, watchdog_s);
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	atexit(ch_cleanup); /* runs before stress_cleanup: LIFO */
}

/* ---- processes ---------------------------------------------------------- */

/* Start the coordinator or the upkeep with the run's arguments. */
static pid_t spawn(struct run *r, int proc)
{
	char exe[PATH_MAX + 32], db[96], log[96], hist[16], speed[24], ring[24];

	snprintf(exe, sizeof(exe), "%s/barbus-%s", g.bin, p_name[proc]);
	snprintf(db, sizeof(db), "%s/db", g.dir);
	snprintf(log, sizeof(log), "%s/%s.err", g.dir, p_name[proc]);
	snprintf(hist, sizeof(hist), "%d", g.history);
	snprintf(speed, sizeof(speed), "%dx", g.p.speed);
	snprintf(ring, sizeof(ring), "%d", g.p.ring);
	pid_t pid = stress_fork();
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		int null = open("/dev/null", O_WRONLY);
		if (fd < 0 || null < 0 || dup2(fd, 2) < 0 || dup2(null, 1) < 0)
			_exit(126);
		if (g.writer_nice != 0 &&
		    setpriority(PRIO_PROCESS, 0, g.writer_nice) != 0)
			_exit(125);
		atomic_store(&r->exec_ns[proc], stress_now_ns());
		if (proc == P_CO)
			execl(exe, exe, "--bus", g.bus, "--db", db, "backtest",
			      "--from", g.p.from, "--to", g.p.to, "--history-days",
			      hist, "--speed", speed, "--ring-capacity", ring,
			      (char *)NULL);
		else
			execl(exe, exe, "--bus", g.bus, "--db", db, "--intervals",
			      CH_INTERVALS, "--history-days", hist, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* The exit code of a reaped status; 128 + signal when killed. */
static int exit_code(int st)
{
	if (st == -1)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

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

/*
 * The driver's eyes: the header of every segment a restart must re-attach
 * (the ring for the coordinator, which it attaches last; every up.* table
 * for the upkeep), mapped read-only once the upkeep made its tables (up to
 * 10 s), and the bus for its status.
 */
static struct bb__seg_hdr *map_hdr(const char *role)
{
	char name[1 + 7 + BB_NAME_MAX + 1 + 16 + 1];

	snprintf(name, sizeof(name), "/barbus.%s.%s", g.bus, role);
	struct stat st;
	int fd = shm_open(name, O_RDONLY, 0);
	if (fd < 0)
		return NULL;
	/* A segment being created may not have its size yet: touching its
	 * mapping then would be a SIGBUS. */
	void *p = fstat(fd, &st) != 0 || st.st_size < BB_SEG_HDR_LEN ? MAP_FAILED
	          : mmap(NULL, BB_SEG_HDR_LEN, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return NULL;
	struct bb__seg_hdr *h = p;
	/* Acquire pairs with the release in bb__seg_publish(). */
	if (atomic_load_explicit(&h->version, memory_order_acquire) != 0)
		return h;
	munmap(p, BB_SEG_HDR_LEN);
	return NULL;
}

static void open_eyes(struct run *r)
{
	size_t have = 0;

	if (bb_bus_open(&r->bus, g.bus) != 0 ||
	    bb_ring_reader_open(&r->aim, g.bus, BB_WAIT_SPIN, 0) != 0)
		stress_fatal("the driver cannot open the bus");
	for (int i = 0; i < 10000 && have < NEYES; i++) {
		have = 0;
		for (size_t k = 0; k < NEYES; k++)
			have += r->eye[k] != NULL ||
			        (r->eye[k] = map_hdr(k == 0 ? "ring"
			                             : up_roles[k - 1])) != NULL;
		if (have < NEYES)
			stress_sleep_ns(1000000);
	}
	if (have < NEYES)
		stress_fatal("the coordinator or the upkeep never made its segments");
}

/* ---- kills and restarts ------------------------------------------------ */

/* The eyes a restart of proc must see bumped: [*from, *to). */
static void eyes_of(int proc, size_t *from, size_t *to)
{
	*from = proc == P_CO ? 0 : 1;
	*to = proc == P_CO ? 1 : NEYES;
}

/* pid's time on a CPU and waiting in a run queue so far (ms), from
 * /proc/PID/schedstat; -1 when not known. */
static void sched_ms(pid_t pid, double *cpu, double *wait)
{
	char path[64];
	unsigned long long run_ns, wait_ns;

	*cpu = *wait = -1;
	snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)pid);
	FILE *f = fopen(path, "r");
	if (f != NULL && fscanf(f, "%llu %llu", &run_ns, &wait_ns) == 2) {
		*cpu = (double)run_ns / 1e6;
		*wait = (double)wait_ns / 1e6;
	}
	if (f != NULL)
		fclose(f);
}

/*
 * Wait until the restarted proc (pid, forked at t0) has bumped the epoch
 * of each of its segments, and say when it did by its own clock: the
 * heartbeat it stamps just before the bump (bb__seg_writer_start()). The
 * stamp read with the new epoch is that one or a later beat, so the figure
 * is never early, and the driver's own polling delay is not in it. The
 * largest over its segments, in ms since the child's exec (its stamp in
 * r->exec_ns), into *served; from t0 to the driver's first sight of the
 * last one into *seen. -1 when not within SERVED_WAIT_NS.
 */
static void wait_served(struct run *r, int proc, const uint64_t *before,
                        int64_t t0, double *served, double *seen)
{
	int64_t stamp[NEYES] = { 0 }, last = 0;
	size_t from, to, left;

	eyes_of(proc, &from, &to);
	left = to - from;
	*served = *seen = -1;
	for (int64_t t = stress_now_ns(); t - t0 < SERVED_WAIT_NS && left > 0;
	     t = stress_now_ns()) {
		for (size_t k = from; k < to; k++) {
			struct bb__seg_hdr *h = r->eye[k];
			/* Acquire pairs with the release in
			 * bb__seg_writer_start(): pid and beat come first. */
			if (stamp[k] != 0 || atomic_load_explicit(&h->epoch,
			    memory_order_acquire) <= before[k] ||
			    atomic_load_explicit(&h->writer_pid,
			    memory_order_relaxed) != r->pid[proc])
				continue;
			stamp[k] = atomic_load_explicit(&h->heartbeat_ns,
			                                memory_order_relaxed);
			last = stamp[k] > last ? stamp[k] : last;
			left--;
		}
		if (left == 0) {
			int64_t exec = atomic_load(&r->exec_ns[proc]);
			*served = (double)(last - exec) / 1e6;
			*seen = (double)(stress_now_ns() - t0) / 1e6;
			return;
		}
		stress_sleep_ns(100000);
	}
}

/* Is the backtest over (the coordinator's end of data published)? */
static int bus_done(const struct run *r)
{
	bb_status st;

	return bb_bus_status(r->bus, &st) == 0 && st.state == BB_STATE_DONE;
}

/* proc exited by itself with code: the end of data for a coordinator's or,
 * once the backtest is over, an upkeep's exit 0; otherwise a violation. */
static void exited(struct run *r, int proc, int code)
{
	if (code == 0 && (proc == P_CO || bus_done(r))) {
		r->done[proc] = 1;
		return;
	}
	r->died[proc]++;
	printf("violation %s exited %d by itself\n", p_name[proc], code);
}

/* Read the driver's ring reader up to the head; r->last_kind is then
 * the kind of the last record on the ring (or of the last one read). */
static void ring_drain(struct run *r)
{
	bb_bar b;
	int rc;

	while ((rc = bb_ring_read(r->aim, &b, NULL)) != BB_EEMPTY)
		if (rc == 0)
			r->last_kind = BB_KIND(b.flags);
}

/* The CPU pid last ran on (field 39 of /proc/PID/stat), or -1. */
static int last_cpu(pid_t pid)
{
	char path[64], buf[1024];
	int cpu = -1;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	size_t n = f != NULL ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	if (f != NULL)
		fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')'); /* the name may hold spaces */
	for (int field = 2; p != NULL && field < 39; field++)
		p = strchr(p + 1, ' ');
	if (p != NULL)
		cpu = atoi(p + 1);
	return cpu;
}

/* Keep the calling thread off the CPU the coordinator last ran on (it
 * wakes there): watching from the same CPU, the driver would only run
 * once the coordinator sleeps again, its burst over. *old: to restore. */
static void off_its_cpu(const struct run *r, cpu_set_t *old)
{
	cpu_set_t set;
	int c = last_cpu(r->pid[P_CO]);

	if (sched_getaffinity(0, sizeof(*old), old) != 0)
		CPU_ZERO(old);
	set = *old;
	if (c >= 0 && c < CPU_SETSIZE && CPU_ISSET(c, &set) && CPU_COUNT(&set) > 1) {
		CPU_CLR(c, &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
}

/*
 * Wait (up to 500 ms) for the coordinator to start publishing a minute:
 * a paced replay publishes a minute's bars in a burst of microseconds and
 * then sleeps, so kills at random times nearly always land between
 * minutes. Killed the moment its first bar shows, it is usually in the
 * middle of the burst: the resume that must neither repeat nor lose a bar.
 */
static void aim(struct run *r)
{
	bb_bar b;

	ring_drain(r);
	for (int64_t end = stress_now_ns() + 500000000; stress_now_ns() < end;)
		if (bb_ring_read(r->aim, &b, NULL) == 0 &&
		    (r->last_kind = BB_KIND(b.flags)) == BB_KIND_BAR)
			break;
	r->aimed++;
}

/* SIGKILL proc (aimed at a minute's publication for some of the
 * coordinator's kills: g.p.aim_pct) and reap it; its exit code, and when
 * it was killed into *t_kill. */
static int kill_now(struct run *r, int proc, int64_t *t_kill)
{
	cpu_set_t cpus;
	int aimed = proc == P_CO &&
	            (int)(stress_rand(&r->rng) % 100) < g.p.aim_pct;

	if (aimed) {
		off_its_cpu(r, &cpus);
		aim(r);
	}
	*t_kill = stress_now_ns();
	kill(r->pid[proc], SIGKILL);
	int code = exit_code(stress_reap(r->pid[proc], 5000));
	if (aimed && CPU_COUNT(&cpus) > 0) /* before children inherit it */
		sched_setaffinity(0, sizeof(cpus), &cpus);
	/* Its last record a bar: killed with a minute half published. */
	if (proc == P_CO) {
		ring_drain(r);
		r->mid_minute += r->last_kind == BB_KIND_BAR;
	}
	return code;
}

static void say_slow(const struct run *r, const struct kill_ev *k)
{
	double at = (double)(k->t_kill - r->smp[0].t) / 1e9;

	if (k->served_ms < 0)
		printf("violation kill %d (%s, %.3f s into the run): not serving "
		       "3 s after its restart\n", r->nkill, p_name[k->proc], at);
	else if (k->served_ms > CH_SERVED_MS)
		printf("violation kill %d (%s, %.3f s into the run): served "
		       "again %.1f ms after its restart (seen at %.1f ms, by "
		       "then %.1f ms on a CPU, %.1f ms waiting for one, %.1f "
		       "ms asleep)\n", r->nkill, p_name[k->proc], at,
		       k->served_ms, k->seen_ms, k->cpu_ms, k->wait_ms,
		       k->seen_ms - k->cpu_ms - k->wait_ms);
}

/* SIGKILL proc, start it again at once, time its recovery. */
static void kill_one(struct run *r, int proc)
{
	uint64_t before[NEYES];
	size_t from, to;
	int64_t t_kill;

	/* A finished backtest is left to exit (see docs/chaos.md). */
	if (r->done[proc] || (proc == P_CO && bus_done(r)))
		return;
	eyes_of(proc, &from, &to);
	for (size_t k = from; k < to; k++)
		before[k] = atomic_load_explicit(&r->eye[k]->epoch,
		                                 memory_order_acquire);
	int code = kill_now(r, proc, &t_kill);
	if (code != 128 + SIGKILL) {
		exited(r, proc, code); /* it had exited before the kill */
		if (r->done[proc])
			return;
	}
	int64_t t0 = stress_now_ns();
	atomic_store(&r->exec_ns[proc], INT64_MAX);
	r->pid[proc] = spawn(r, proc);
	struct kill_ev *k = &r->kill[r->nkill++];
	*k = (struct kill_ev){ .proc = proc, .t_kill = t_kill };
	wait_served(r, proc, before, t0, &k->served_ms, &k->seen_ms);
	sched_ms(r->pid[proc], &k->cpu_ms, &k->wait_ms);
	say_slow(r, k);
}

/* A process that exited by itself: judged, and started again unless it
 * was the end of its work. */
static void watch_exits(struct run *r)
{
	for (int p = 0; p < P_N; p++) {
		int st;
		if (r->done[p] || waitpid(r->pid[p], &st, WNOHANG) != r->pid[p])
			continue;
		stress_forget(r->pid[p]);
		exited(r, p, exit_code(st));
		if (!r->done[p])
			r->pid[p] = spawn(r, p);
	}
}

static void drive(struct run *r)
{
	int64_t next = stress_now_ns() + (int64_t)stress_rand_in(&r->rng,
	               (uint64_t)g.p.kill_gap_ms[0],
	               (uint64_t)g.p.kill_gap_ms[1]) * 1000000;

	while (!r->done[P_CO] && r->nkill < MAX_KILLS) {
		watch_exits(r);
		if (!r->done[P_CO] && stress_now_ns() >= next) {
			kill_one(r, (int)(stress_rand(&r->rng) % P_N));
			next = stress_now_ns() + (int64_t)stress_rand_in(&r->rng,
			       (uint64_t)g.p.kill_gap_ms[0],
			       (uint64_t)g.p.kill_gap_ms[1]) * 1000000;
		}
		stress_sleep_ns(2000000);
	}
}

/* ---- the stopped reader and the rate samples ---------------------------- */

/* Sleep ns, or less once the run is finished; 1 when it is. */
static int nap(int64_t ns)
{
	for (int64_t end = stress_now_ns() + ns; stress_now_ns() < end;) {
		if (atomic_load(&g.finished))
			return 1;
		stress_sleep_ns(5000000);
	}
	return atomic_load(&g.finished);
}

static void *stopper(void *arg)
{
	struct run *r = arg;
	uint64_t rng = r->rng ^ 0x5eed;
	pid_t pid = g.reader[CH_STOPPED];

	for (int n = 0; n < MAX_STOPS; n++) {
		struct stop_ev *e = &r->stop[n];
		e->run_from = stress_now_ns();
		if (nap((int64_t)stress_rand_in(&rng, (uint64_t)g.p.run_ms[0],
		                               (uint64_t)g.p.run_ms[1]) * 1000000))
			break;
		e->stop_at = stress_now_ns();
		kill(pid, SIGSTOP);
		nap((int64_t)stress_rand_in(&rng, (uint64_t)g.p.stop_ms[0],
		                            (uint64_t)g.p.stop_ms[1]) * 1000000);
		kill(pid, SIGCONT);
		e->cont_at = stress_now_ns();
		atomic_store(&r->nstop, n + 1);
	}
	return NULL;
}

static void *sampler(void *arg)
{
	struct run *r = arg;
	bb_bus *b;
	bb_ring_reader *rr;
	bb_status st;

	if (bb_bus_open(&b, g.bus) != 0 ||
	    bb_ring_reader_open(&rr, g.bus, BB_WAIT_YIELD, 0) != 0)
		return NULL;
	for (int n = 1; n < MAX_SAMPLES && !atomic_load(&g.finished);) {
		if (bb_bus_status(b, &st) == 0) {
			r->smp[n] = (struct sample){ stress_now_ns(),
				bb_bus_counter(b, BB_CTR_BARS) +
				bb_bus_counter(b, BB_CTR_MINUTES),
				bb_ring_epoch(rr), st.sessions, st.state };
			atomic_store(&r->nsmp, ++n);
		}
		stress_sleep_ns(SAMPLE_NS);
	}
	bb_ring_reader_close(rr);
	bb_bus_close(b);
	return NULL;
}

/* Records published in [a, b] (seconds into *secs); 0 when the samples
 * do not show one stretch of an open session of one writer, at least
 * 0.5 s long. */
static double piece_recs(const struct run *r, int64_t a, int64_t b,
                         double *secs)
{
	int n = atomic_load(&r->nsmp), i = 1, j;

	while (i < n && r->smp[i].t < a)
		i++;
	for (j = i; j + 1 < n && r->smp[j + 1].t <= b; j++)
		;
	if (i >= n || j <= i || r->smp[j].t - r->smp[i].t < SAMPLE_NS * 50)
		return 0;
	const struct sample *s0 = &r->smp[i], *s1 = &r->smp[j];
	if (s0->epoch != s1->epoch || s0->session != s1->session ||
	    s0->state != BB_STATE_OPEN || s1->state != BB_STATE_OPEN)
		return 0;
	*secs = (double)(s1->t - s0->t) / 1e9;
	return (double)(s1->recs - s0->recs);
}

/* The clean pieces of [a, b] (cut around coordinator kills: from 50 ms
 * before each to SETTLE_NS after it) into rec[0] records over rec[1]
 * seconds; returns how many pieces there were. */
static int window(const struct run *r, int64_t a, int64_t b, double *rec)
{
	int64_t from = a;
	double secs = 0, n;
	int pieces = 0;

	rec[0] = rec[1] = 0;
	for (int k = 0; k <= r->nkill && from < b; k++) {
		int64_t t = k < r->nkill ? r->kill[k].t_kill : INT64_MAX;
		if (k < r->nkill && (r->kill[k].proc != P_CO || t + SETTLE_NS <= a))
			continue;
		int64_t to = t - 50000000 < b ? t - 50000000 : b;
		if (to > from && (n = piece_recs(r, from, to, &secs)) > 0) {
			rec[0] += n, rec[1] += secs, pieces++;
		}
		if (t < INT64_MAX && t + SETTLE_NS > from)
			from = t + SETTLE_NS;
	}
	return pieces;
}

/* Pooled rates of the clean pieces with the reader running and stopped. */
static void check_rate(const struct run *r)
{
	double tot[2][2] = { { 0, 0 }, { 0, 0 } }, w[2][2], lo = 1e9;
	int clean[2] = { 0, 0 }, n = atomic_load(&r->nstop);

	for (int k = 0; k < n; k++) {
		const struct stop_ev *e = &r->stop[k];
		clean[0] += window(r, e->run_from, e->stop_at, w[0]);
		clean[1] += window(r, e->stop_at, e->cont_at, w[1]);
		for (int i = 0; i < 2; i++)
			tot[i][0] += w[i][0], tot[i][1] += w[i][1];
		if (w[0][1] > 0 && w[1][1] > 0 &&
		    (w[1][0] / w[1][1]) / (w[0][0] / w[0][1]) < lo)
			lo = (w[1][0] / w[1][1]) / (w[0][0] / w[0][1]);
	}
	double rate_run = tot[0][1] > 0 ? tot[0][0] / tot[0][1] : 0;
	double rate_stop = tot[1][1] > 0 ? tot[1][0] / tot[1][1] : 0;
	INFO("writer rate: %.0f records/s in %d clean pieces with the reader "
	     "running (%.1f s), %.0f in %d with it stopped (%.1f s); lowest "
	     "ratio of a stop to the run before it %.3f", rate_run, clean[0],
	     tot[0][1], rate_stop, clean[1], tot[1][1], lo < 1e9 ? lo : NAN);
	CHECK(clean[0] >= 3 && clean[1] >= 3, "at least 3 clean pieces of each "
	      "kind to measure the rate (%d running, %d stopped, of %d stops)",
	      clean[0], clean[1], n);
	CHECK(rate_stop >= (1 - CH_RATE_DROP) * rate_run, "the writer's rate "
	      "with the reader stopped is %.1f%% of its rate with it running "
	      "(at least %.0f%%)", rate_run > 0 ? 100 * rate_stop / rate_run : 0,
	      100 * (1 - CH_RATE_DROP));
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

static void check_recovery(const struct run *r)
{
	static double served[MAX_KILLS], seen[MAX_KILLS], cpu[MAX_KILLS],
	              wait[MAX_KILLS];
	int total = 0;

	for (int p = 0; p < P_N; p++) {
		int n = 0, slow = 0;
		double med, max, smed, smax, cmed, cmax, wmed, wmax;
		for (int k = 0; k < r->nkill; k++) {
			const struct kill_ev *e = &r->kill[k];
			if (e->proc != p)
				continue;
			served[n] = e->served_ms < 0 ? 1e9 : e->served_ms;
			seen[n] = e->seen_ms < 0 ? 1e9 : e->seen_ms;
			cpu[n] = e->cpu_ms;
			wait[n++] = e->wait_ms;
			slow += e->served_ms < 0 || e->served_ms > CH_SERVED_MS;
		}
		med_max(served, n, &med, &max);
		med_max(seen, n, &smed, &smax);
		med_max(cpu, n, &cmed, &cmax);
		med_max(wait, n, &wmed, &wmax);
		total += n;
		printf("kills %s %d, recovery median %.2f ms, max %.2f ms\n",
		       p_name[p], n, med, max);
		INFO("%s restarts: from the fork to the driver's sight median "
		     "%.2f ms, max %.2f; by then on a CPU median %.2f ms, max "
		     "%.2f; waiting for a CPU median %.2f ms, max %.2f", p_name[p],
		     smed, smax, cmed, cmax, wmed, wmax);
		CHECK(slow == 0, "%s: every one of %d restarts served again within "
		      "%d ms (%d did not)", p_name[p], n, CH_SERVED_MS, slow);
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
	ch_init("chaos", g.p.watchdog_s);
	r->rng = seed != NULL ? strtoull(seed, NULL, 10)
	                      : (uint64_t)stress_now_ns() ^ (uint64_t)getpid();
	r->rng |= 1;
	printf("chaos: %s run, seed %llu\n", g.p.kills_min >= 50 ? "long"
	       : "short", (unsigned long long)r->rng);
	char self[PATH_MAX];
	snprintf(self, sizeof(self), "%s", argv[0]);
	snprintf(g.bin, sizeof(g.bin), "%s/../bin", dirname(self));
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
	pthread_t th_stop, th_smp;
	uint64_t head;

	setup(argc, argv, &r);
	r.pid[P_UP] = spawn(&r, P_UP);
	stress_sleep_ns(100000000);
	r.pid[P_CO] = spawn(&r, P_CO);
	start_readers();
	open_eyes(&r);
	r.smp[0].t = stress_now_ns();
	pthread_create(&th_smp, NULL, sampler, &r);
	pthread_create(&th_stop, NULL, stopper, &r);
	drive(&r);
	atomic_store(&g.finished, 1);
	pthread_join(th_stop, NULL);
	pthread_join(th_smp, NULL);
	finish(&r, &head);
	INFO("the run took %.1f s; %d stops of the %s reader",
	     (double)(stress_now_ns() - r.smp[0].t) / 1e9,
	     atomic_load(&r.nstop), ch_rd_name[CH_STOPPED]);
	verify(head);
	check_recovery(&r);
	check_rate(&r);
	if (atomic_load(&g_stress.failed) == 0)
		stress_sh("rm -rf %s", g.dir);
	else
		INFO("files kept in %s", g.dir);
	return stress_done();
}
