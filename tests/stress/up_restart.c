/*
 * up_restart: the upkeep killed with SIGKILL at 20 random points of a
 * paced multi-session backtest, and started again each time, ends
 * identical to a run that was never killed: barbus-bars --history at 1m
 * and at every derived interval, and --quality, byte for byte. The
 * coordinator is never disturbed: it exits 0 and its bars are all there.
 * Then the same with the upkeep lapped on a small ring (stopped with
 * SIGSTOP for longer than the ring holds): it resynchronises from the
 * session table and still ends byte for byte the same. And with the
 * coordinator killed and started again instead: the one upkeep follows
 * its new epochs without restarting, and ends the same.
 * Prints "N passed, N failed".
 */
#include <limits.h>

#include "stress.h"

#define NSYM 10
#define INTERVALS "5m,15m,30m,1h,7m"

static char dir[64], bin[PATH_MAX];
static const char *const outputs[] = { "1m", "5m", "15m", "30m", "1h", "7m" };

static pid_t spawn_upkeep(const char *bus, const char *tag, int n)
{
	char db[96], log[128];
	pid_t pid = stress_fork();

	if (pid == 0) {
		snprintf(db, sizeof(db), "%s/db", dir);
		snprintf(log, sizeof(log), "%s/up-%s-%d.err", dir, tag, n);
		if (freopen(log, "w", stderr) == NULL)
			_exit(127);
		char path[PATH_MAX + 16];
		snprintf(path, sizeof(path), "%s/barbus-upkeep", bin);
		execl(path, path, "--bus", bus, "--db", db, "--intervals",
		      INTERVALS, "--history-days", "8", (char *)NULL);
		_exit(127);
	}
	return pid;
}

static pid_t spawn_coordinator(const char *bus, const char *speed,
                               const char *ring)
{
	char db[96];
	pid_t pid = stress_fork();

	if (pid == 0) {
		snprintf(db, sizeof(db), "%s/db", dir);
		if (freopen("/dev/null", "w", stderr) == NULL)
			_exit(127);
		char path[PATH_MAX + 24];
		snprintf(path, sizeof(path), "%s/barbus-coordinator", bin);
		execl(path, path, "--bus", bus, "--db", db, "backtest", "--from",
		      "2024-07-01", "--to", "2024-07-10", "--history-days", "8",
		      "--speed", speed, "--ring-capacity", ring, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* Exit code of pid once it exited (128 + signal when killed), waiting up
 * to ms; -1 when it is still running (ms 0: just look; else it is then
 * killed, and that is a failure). */
static int reap(pid_t pid, int ms)
{
	int st;

	if (ms > 0)
		st = stress_reap(pid, ms);
	else if (waitpid(pid, &st, WNOHANG) == pid)
		stress_forget(pid);
	else
		return -1;
	if (st == -1)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* What barbus-bars prints of bus, into DIR/TAG-<output>.csv. */
static int capture(const char *bus, const char *tag)
{
	int bad = 0;

	for (size_t i = 0; i < sizeof(outputs) / sizeof(outputs[0]); i++)
		bad |= stress_sh("%s/barbus-bars --bus %s --interval %s --history "
		          ">%s/%s-%s.csv", bin, bus, outputs[i], dir, tag,
		          outputs[i]);
	bad |= stress_sh("%s/barbus-bars --bus %s --quality >%s/%s-q.csv", bin, bus,
	          dir, tag);
	return bad;
}

/* The reference: upkeep first, coordinator at full speed, nothing killed. */
static void reference(void)
{
	const char *bus = stress_bus("ref");
	pid_t up = spawn_upkeep(bus, "ref", 0);

	stress_sleep_ns(100 * 1000000LL);
	pid_t co = spawn_coordinator(bus, "max", "1048576");
	CHECK(reap(co, 60000) == 0, "reference: the coordinator exits 0");
	CHECK(reap(up, 30000) == 0, "reference: the upkeep exits 0 at the end "
	      "of data");
	CHECK(capture(bus, "ref") == 0, "reference: barbus-bars prints it all");
}

/* One paced replay, disturbed `times` times while the coordinator runs. */
struct disturbed {
	const char *tag, *what, *speed, *ring;
	int         times;
	/* One disturbance, number k; may replace the processes. */
	void      (*disturb)(const struct disturbed *d, const char *bus, int k,
	                     pid_t *up, pid_t *co);
};

static void replay_disturbed(const struct disturbed *d, const char **busp)
{
	const char *bus = stress_bus(d->tag);
	pid_t up = spawn_upkeep(bus, d->tag, 0);
	int k = 0, co_rc = -1;

	stress_sleep_ns(100 * 1000000LL);
	pid_t co = spawn_coordinator(bus, d->speed, d->ring);
	for (; k < d->times && up != 0 && (co_rc = reap(co, 0)) < 0; k++)
		d->disturb(d, bus, k, &up, &co);
	if (co_rc < 0)
		co_rc = reap(co, 120000);
	INFO("%s: %d times while the coordinator ran", d->what, k);
	CHECK(k >= d->times / 2, "%s: at least %d times during the replay (%d)",
	      d->what, d->times / 2, k);
	CHECK(co_rc == 0, "%s: the coordinator's last run exits 0", d->what);
	/* up 0: the last one ended at the end of data before its kill */
	CHECK(up == 0 || reap(up, 60000) == 0, "%s: the last upkeep exits 0 at "
	      "the end of data", d->what);
	CHECK(capture(bus, d->tag) == 0, "%s: barbus-bars prints it all",
	      d->what);
	*busp = bus;
}

/* The upkeep killed after 20..400 ms, sometimes left down a while. */
static void kill_upkeep(const struct disturbed *d, const char *bus, int k,
                        pid_t *up, pid_t *co)
{
	(void)co;
	stress_sleep_ns((20 + rand() % 380) * 1000000LL);
	kill(*up, SIGKILL);
	if (reap(*up, 5000) == 0) {
		/* The coordinator ended meanwhile and the upkeep with it, at
		 * the end of data: a new one would find nothing left to do. */
		*up = 0;
		return;
	}
	if (rand() % 4 == 0)
		stress_sleep_ns((rand() % 200) * 1000000LL);
	*up = spawn_upkeep(bus, d->tag, k + 1);
}

/* The upkeep stopped until the coordinator has written more records than
 * the ring holds since (the upkeep is lapped then; a stop of a fixed time
 * may end at the session's last minute, where the replay waits for it),
 * 3 s at most (the replay may end first). */
static void stop_upkeep(const struct disturbed *d, const char *bus, int k,
                        pid_t *up, pid_t *co)
{
	uint64_t over = strtoull(d->ring, NULL, 10) + 64, from, lost;
	bb_ring_reader *r = NULL;
	bb_bar b;

	(void)k, (void)co;
	stress_sleep_ns((50 + rand() % 200) * 1000000LL);
	if (bb_ring_reader_open(&r, bus, BB_WAIT_BLOCK, 0) != 0)
		return; /* the coordinator is starting again or has ended */
	kill(*up, SIGSTOP);
	from = bb_ring_reader_seq(r);
	for (int64_t end = stress_now_ns() + 3000000000LL;
	     bb_ring_reader_seq(r) - from < over && stress_now_ns() < end;)
		if (bb_ring_wait(r, &b, &lost, 10000000) == BB_ENOWRITER)
			break;
	kill(*up, SIGCONT);
	bb_ring_reader_close(r);
}

/* The coordinator killed and started again with the same arguments. */
static void kill_coordinator(const struct disturbed *d, const char *bus,
                             int k, pid_t *up, pid_t *co)
{
	(void)k, (void)up;
	stress_sleep_ns((100 + rand() % 400) * 1000000LL);
	kill(*co, SIGKILL);
	reap(*co, 5000);
	*co = spawn_coordinator(bus, d->speed, d->ring);
}

static void compare(const char *tag, const char *what)
{
	for (size_t i = 0; i < sizeof(outputs) / sizeof(outputs[0]); i++)
		CHECK(stress_sh("cmp -s %s/ref-%s.csv %s/%s-%s.csv", dir, outputs[i],
		         dir, tag, outputs[i]) == 0, "%s: --interval %s --history: "
		      "byte for byte the undisturbed run", what, outputs[i]);
	CHECK(stress_sh("cmp -s %s/ref-q.csv %s/%s-q.csv", dir, dir, tag) == 0,
	      "%s: --quality: byte for byte the undisturbed run", what);
}

static void check_reference(void)
{
	/* July 4th is a holiday: 7 sessions, 4 on the 1h history of the
	 * regular days kept and the early close, all of them here. */
	CHECK(stress_sh("test $(cut -d, -f2 %s/ref-1h.csv | cut -c1-10 | sort -u | "
	         "grep -c ^2024) -eq 7", dir) == 0,
	      "the 1h output holds all 7 sessions");
	CHECK(stress_sh("test $(grep -c ',2024-07-03T' %s/ref-1h.csv) -eq %d", dir,
	         NSYM * 4) == 0, "the early close has 4 1h bars per symbol");
}

int main(int argc, char **argv)
{
	(void)argc;
	stress_init("up-restart", 300);
	srand((unsigned)getpid());
	stress_bin(argv[0], NULL, bin, sizeof(bin));
	snprintf(dir, sizeof(dir), "/tmp/bb-uprestart-XXXXXX");
	if (mkdtemp(dir) == NULL)
		stress_fatal("mkdtemp");
	CHECK(stress_sh("%s/barbus-gen --db %s/db --symbols %d --from 2024-07-01 "
	         "--to 2024-07-10 --seed 11 --missing-rate 0.02 2>/dev/null",
	         bin, dir, NSYM) == 0, "barbus-gen made the store");
	reference();
	/* 7 sessions of 390 (one of 210) minutes in about 6 s; slower under
	 * the sanitizers, with fewer kills. */
	const char *bus;
	struct disturbed upkill = { "kill", "upkeep killed",
	                          stress_fast() ? "12000x" : "24000x", "1048576",
	                          stress_fast() ? 8 : 20, kill_upkeep };
	replay_disturbed(&upkill, &bus);
	compare("kill", "upkeep killed");
	struct disturbed lap = { "lap", "upkeep lapped", "24000x", "1024",
	                         stress_fast() ? 4 : 8, stop_upkeep };
	replay_disturbed(&lap, &bus);
	/* The upkeep's own count of resynchronisations after a lap. */
	uint64_t n = stress_upkeep_info(bus).lapped;
	CHECK(n > 0, "upkeep lapped: it was, on the 1024-record ring (%llu "
	      "times)", (unsigned long long)n);
	compare("lap", "upkeep lapped");
	struct disturbed cokill = { "cokill", "coordinator killed", "24000x",
	                            "1048576", stress_fast() ? 3 : 5,
	                            kill_coordinator };
	replay_disturbed(&cokill, &bus);
	compare("cokill", "coordinator killed");
	check_reference();
	return stress_done_dir(dir);
}
