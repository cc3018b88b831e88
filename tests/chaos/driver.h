/*
 * driver.h: the chaos driver's processes: starting the coordinator and the
 * upkeep, watching their segments' headers, killing them (some kills aimed
 * inside a minute's publication) and timing how soon each restart serves
 * again. Included by chaos.c only (see chaos.h).
 */
#ifndef BB_CHAOS_DRIVER_H
#define BB_CHAOS_DRIVER_H

#include <fcntl.h>
#include <sched.h>
#include <sys/resource.h>

#include "chaos.h"
#include "seg.h" /* segment headers: epochs and the writers' stamps */

enum { P_CO, P_UP, P_N };
static const char *const p_name[P_N] = { "coordinator", "upkeep" };

#define MAX_KILLS   1024
#define MAX_STOPS   512
#define MAX_SAMPLES (1 << 17)
#define SAMPLE_NS   10000000LL  /* rate samples every 10 ms */
#define SERVED_WAIT_NS 3000000000LL
#define SETTLE_NS   500000000LL /* rates are measured from this long after
                                   a coordinator kill */

static const char *const up_roles[] = {
	"up.status", "up.quality", "up.fills", "up.fills.h", "up.5m", "up.15m",
	"up.30m", "up.60m", "up.5m.h", "up.15m.h", "up.30m.h", "up.60m.h",
};
#define UP_NROLES (sizeof(up_roles) / sizeof(up_roles[0]))
#define NEYES     (1 + UP_NROLES) /* the ring, then the up.* tables */

struct kill_ev {
	int     proc;
	int64_t t_kill;
	int64_t t_exec;    /* the restarted process's exec (its stamp) */
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
	k->t_exec = atomic_load(&r->exec_ns[proc]);
	sched_ms(r->pid[proc], &k->cpu_ms, &k->wait_ms);
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

#endif /* BB_CHAOS_DRIVER_H */
