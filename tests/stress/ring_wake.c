/*
 * ring_wake: no lost wake-up. Blocking readers (processes) with a 5 s
 * heartbeat, so a missed wake is not hidden by their liveness probe; the
 * writer puts in bursts at random microsecond gaps (landing on readers just
 * as they go to sleep), then stays silent 60 ms. A record delivered more
 * than 50 ms after its put is a lost wake-up. Prints "N passed, N failed".
 */
#include "stress.h"

#define READERS   3
#define LATE_NS   50000000
#define SILENCE_NS 60000000

/* Child: read until the writer leaves; exit status = late records (<=100),
 * 101 on a gap or a bad record, 102 when it could not open. */
static int reader(const char *bus, int go_fd, int ready_fd)
{
	bb_ring_reader *r;
	bb_bar b;
	uint64_t next = 0, late = 0;
	int64_t worst = 0;
	char c;

	if (read(go_fd, &c, 1) != 1 ||
	    bb_ring_reader_open(&r, bus, BB_WAIT_BLOCK, 0) != 0)
		return 102;
	if (write(ready_fd, "r", 1) != 1)
		return 102;
	int rc;
	while ((rc = bb_ring_wait(r, &b, NULL, -1)) == 0) {
		int64_t d = stress_now_ns() - b.time;
		if (b.symbol != (uint32_t)next++)
			return 101;
		if (d > worst)
			worst = d;
		if (d > LATE_NS)
			late++;
	}
	printf("info reader %d: %llu records, worst put-to-wake %.3f ms, "
	       "%llu late, ended with %s\n", (int)getpid(),
	       (unsigned long long)next, worst / 1e6,
	       (unsigned long long)late, bb_strerror(rc));
	bb_ring_reader_close(r);
	return rc == BB_ENOWRITER ? (int)(late > 100 ? 100 : late) : 101;
}

int main(void)
{
	stress_init("ring_wake", 60);
	const char *bus = stress_bus(NULL);
	bb_seg_opts o = { .capacity = 1 << 12, .heartbeat_ms = 5000 };
	bb_ring_writer *w;
	pid_t pid[READERS];
	int fds[2], go[2];
	char c;

	/* Readers are forked before the writer opens: a child holding the
	 * writer's fd would hold its lock, and the writer would never die. */
	CHECK(pipe(fds) == 0 && pipe(go) == 0, "pipes");
	for (int i = 0; i < READERS; i++)
		if ((pid[i] = stress_fork()) == 0)
			_exit(reader(bus, go[0], fds[1]));
	CHECK(bb_ring_writer_open(&w, bus, &o) == 0, "writer opens");
	CHECK(write(go[1], "gggg", READERS) == READERS, "readers go");
	for (int i = 0; i < READERS; i++)
		CHECK(read(fds[0], &c, 1) == 1, "reader %d ready", i);
	uint64_t seed = (uint64_t)getpid(), seq = 0;
	int64_t end = stress_now_ns() + (stress_fast() ? 1500 : 3000) * 1000000ll;
	int bursts = 0;
	while (stress_now_ns() < end) {
		int n = (int)stress_rand_in(&seed, 2, 6);
		for (int k = 0; k < n; k++) {
			/* 0.3 to 4 us apart: a reader that just took the
			 * previous record is spinning down into its sleep. */
			int64_t until = stress_now_ns() +
			                (int64_t)stress_rand_in(&seed, 300, 4000);
			while (stress_now_ns() < until)
				;
			bb_bar b = { .symbol = (uint32_t)seq++,
			             .time = stress_now_ns() };
			bb_ring_put(w, &b);
		}
		bursts++;
		stress_sleep_ns(SILENCE_NS);
	}
	INFO("%d bursts, %llu records", bursts, (unsigned long long)seq);
	bb_ring_writer_close(w);
	for (int i = 0; i < READERS; i++) {
		int st = stress_reap(pid[i], 10000);
		CHECK(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "reader %d: every record woke it within 50 ms (exit %d)",
		      i, st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	}
	return stress_done();
}
