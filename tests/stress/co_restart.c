/*
 * co_restart: SIGKILL the coordinator at 20 random points of a multi-session
 * backtest and start it again with the same arguments each time. One reader
 * keeps its ring open throughout: the union of the bars it received must be
 * the store's bars, each exactly once, and every session must start and end
 * exactly once. Prints "N passed, N failed".
 */
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>

#include "stress.h"

#define NSYM   12
#define KILLS  20
#define FROM   20240701
#define TO     20240705 /* July 4 is a holiday: 4 sessions */

static char dir[64], exe[PATH_MAX], speed[32];
static const char *bus;
static bb_calendar *cal;
static uint8_t *seen;        /* per (session index, minute, symbol) */
static int64_t opens[8];
static int nsess;
static atomic_int reader_stop;
static uint64_t dup_bars, stray_bars, starts, ends;

static int slot_of(const bb_bar *b)
{
	for (int s = 0; s < nsess; s++) {
		int64_t m = (b->time - opens[s]) / 60;
		if (b->time >= opens[s] && m < 390)
			return (s * 390 + (int)m) * NSYM + (int)b->symbol;
	}
	return -1;
}

/* Every symbol trades every minute but for a few holes; returns bars. */
static size_t make_store(void)
{
	bb_store *st;
	bb_session s;
	uint32_t id;
	char name[8];
	size_t total = 0;
	bb_bar *bars = calloc(390 * NSYM, sizeof(*bars));

	if (bb_store_open(&st, dir, 0) != 0)
		stress_fatal("store open %s", dir);
	for (int i = 0; i < NSYM; i++) {
		snprintf(name, sizeof(name), "S%02d", i);
		bb_store_symbol_add(st, name, &id);
	}
	for (int32_t d = FROM; bb_calendar_next(cal, d, &s) == 0 && s.date <= TO;
	     d = bb_days_to_date(bb_date_to_days(s.date) + 1)) {
		size_t n = 0;
		opens[nsess++] = s.open;
		for (int64_t t = s.open; t < s.close; t += 60)
			for (uint32_t k = 0; k < NSYM; k++) {
				if ((t / 60 + k) % 17 == 0)
					continue; /* a hole */
				bars[n++] = (bb_bar){ .symbol = k, .time = t,
					.open = 10, .high = 11, .low = 9, .close = 10,
					.volume = 1 };
			}
		if (bb_store_put(st, bars, n, NULL) != 0)
			stress_fatal("store put");
		total += n;
	}
	bb_store_close(st);
	free(bars);
	return total;
}

static void *reader(void *arg)
{
	bb_ring_reader *r = arg;
	bb_bar b;
	uint64_t lost;

	while (!atomic_load(&reader_stop)) {
		int rc = bb_ring_wait(r, &b, &lost, 20000000);
		if (rc == BB_ELAPPED)
			stress_check(0, __FILE__, __LINE__, "reader lapped", "%llu lost",
			             (unsigned long long)lost);
		if (rc != 0)
			continue;
		switch (BB_KIND(b.flags)) {
		case BB_KIND_SESSION_START: starts++; break;
		case BB_KIND_SESSION_END: ends++; break;
		case BB_KIND_BAR: {
			int k = slot_of(&b);
			if (k < 0)
				stray_bars++;
			else if (seen[k]++)
				dup_bars++;
			break;
		}
		}
	}
	return NULL;
}

static pid_t start_coordinator(void)
{
	pid_t pid = stress_fork();

	if (pid == 0) {
		char from[16], to[16];
		bb_date_format(FROM, from);
		bb_date_format(TO, to);
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		execl(exe, exe, "--bus", bus, "--db", dir, "backtest", "--from",
		      from, "--to", to, "--speed", speed, "--history-days", "1",
		      (char *)NULL);
		_exit(127);
	}
	return pid;
}

int main(int argc, char **argv)
{
	pthread_t th;
	bb_ring_reader *r = NULL;
	uint64_t seed = (uint64_t)stress_now_ns();
	(void)argc;

	stress_init("co-restart", 300);
	stress_bin(argv[0], "barbus-coordinator", exe, sizeof(exe));
	snprintf(dir, sizeof(dir), "/tmp/bb-corestart-XXXXXX");
	if (mkdtemp(dir) == NULL || bb_calendar_load(&cal, "XNYS", NULL, 0) != 0)
		stress_fatal("setup");
	bus = stress_bus(NULL);
	size_t total = make_store();
	seen = calloc((size_t)nsess * 390 * NSYM, 1);
	/* The whole run lasts about 3 s: 4 sessions of 23 400 s each. */
	snprintf(speed, sizeof(speed), "%dx", 40000);
	printf("seed %llu, %zu bars in %d sessions\n", (unsigned long long)seed,
	       total, nsess);
	pid_t pid = start_coordinator();
	for (int i = 0; i < 200 && r == NULL; i++) {
		stress_sleep_ns(5000000);
		if (bb_ring_reader_open(&r, bus, BB_WAIT_YIELD, BB_RING_FROM_OLDEST) != 0)
			r = NULL;
	}
	if (r == NULL)
		stress_fatal("the coordinator never opened the bus");
	pthread_create(&th, NULL, reader, r);
	for (int k = 0; k < KILLS; k++) {
		stress_sleep_ns((int64_t)stress_rand_in(&seed, 20, 140) * 1000000);
		kill(pid, SIGKILL);
		stress_reap(pid, 5000);
		stress_forget(pid);
		pid = start_coordinator();
	}
	int status = stress_reap(pid, 60000);
	stress_forget(pid);
	char why[64];
	CHECK(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "last coordinator finished the backtest (%s)",
	      stress_status_str(status, why, sizeof(why)));
	stress_sleep_ns(200000000);
	atomic_store(&reader_stop, 1);
	pthread_join(th, NULL);
	size_t got = 0;
	for (size_t k = 0; k < (size_t)nsess * 390 * NSYM; k++)
		got += seen[k] != 0;
	CHECK(got == total, "every store bar received: %zu of %zu", got, total);
	CHECK(dup_bars == 0, "no bar received twice: %llu", (unsigned long long)dup_bars);
	CHECK(stray_bars == 0, "no bar that is not in the store: %llu",
	      (unsigned long long)stray_bars);
	CHECK(starts == (uint64_t)nsess, "each session started once: %llu",
	      (unsigned long long)starts);
	CHECK(ends == (uint64_t)nsess, "each session ended once: %llu",
	      (unsigned long long)ends);
	/* SIGTERM: a clean stop, segments left for readers, marked stopped. */
	pid = start_coordinator();
	stress_sleep_ns(150000000);
	int64_t t0 = stress_now_ns();
	kill(pid, SIGTERM);
	status = stress_reap(pid, 5000);
	stress_forget(pid);
	CHECK(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "SIGTERM: exit 0 (%s) after %.0f ms",
	      stress_status_str(status, why, sizeof(why)),
	      (stress_now_ns() - t0) / 1e6);
	bb_bus *b = NULL;
	bb_status stt;
	CHECK(bb_ring_writer_state(r, NULL) == BB_WRITER_DEAD,
	      "SIGTERM: the ring has no writer");
	CHECK(bb_bus_open(&b, bus) == 0 && bb_bus_status(b, &stt) == 0 &&
	      stt.date != 0, "SIGTERM: the bus is still readable");
	bb_bus_close(b);
	bb_ring_reader_close(r);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("could not remove %s\n", dir);
	return stress_done();
}
