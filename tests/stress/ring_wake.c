/*
 * ring_wake: no lost wake-up. Blocking readers (processes) with a 5 s
 * heartbeat, so a missed wake is not hidden by their liveness probe. The
 * writer puts a record, waits until the readers have it, then puts the next
 * one a random 0-30 us later: just when a reader, having found the ring
 * empty, is announcing that it goes to sleep. A record a reader gets more
 * than 50 ms after its put is a lost wake-up (the reader's re-check after
 * its announcement is what prevents it). As root the readers run
 * SCHED_FIFO, so a loaded machine cannot keep a woken reader off the CPU
 * for 50 ms (they sleep or spin for microseconds, never run on). A late
 * record is then waited for, and how late it came is printed: a lost
 * wake-up shows as the 5 s heartbeat. Prints "N passed, N failed".
 */
#include <sched.h>

#include "stress.h"

#define READERS  2
#define LATE_NS  50000000

struct seen {
	_Atomic uint64_t n;       /* records taken */
	_Atomic int64_t  last_ns; /* when the last one was taken */
	_Atomic int64_t  worst_ns;
	_Atomic int      end_rc;
};

static struct seen *shared;

/* Child: follow the ring, publishing progress; exit 0 unless out of order. */
static int reader(const char *bus, int go_fd, int ready_fd, struct seen *me)
{
	bb_ring_reader *r;
	bb_bar b;
	uint64_t next = 0;
	char c;

	struct sched_param sp = { .sched_priority = 1 };
	if (geteuid() == 0 && sched_setscheduler(0, SCHED_FIFO, &sp) != 0)
		return 5;
	if (read(go_fd, &c, 1) != 1 ||
	    bb_ring_reader_open(&r, bus, BB_WAIT_BLOCK, 0) != 0 ||
	    write(ready_fd, "r", 1) != 1)
		return 2;
	int rc;
	while ((rc = bb_ring_wait(r, &b, NULL, -1)) == 0) {
		int64_t now = stress_now_ns(), d = now - b.time;
		if (b.symbol != (uint32_t)next++)
			return 3;
		if (d > atomic_load(&me->worst_ns))
			atomic_store(&me->worst_ns, d);
		atomic_store(&me->last_ns, now);
		atomic_store(&me->n, next); /* seq_cst: after last_ns */
	}
	atomic_store(&me->end_rc, rc);
	bb_ring_reader_close(r);
	return rc == BB_ENOWRITER ? 0 : 4;
}

/* Until every reader has taken n records, at most LATE_NS after t. */
static int all_taken(uint64_t n, int64_t t)
{
	for (int i = 0; i < READERS; i++)
		while (atomic_load(&shared[i].n) < n)
			if (stress_now_ns() - t > LATE_NS)
				return 0;
	return 1;
}

static void put(bb_ring_writer *w, uint64_t seq)
{
	bb_bar b = { .symbol = (uint32_t)seq, .time = stress_now_ns() };

	bb_ring_put(w, &b);
}

int main(void)
{
	stress_init("ring_wake", 60);
	const char *bus = stress_bus(NULL);
	bb_seg_opts o = { .capacity = 1 << 12, .heartbeat_ms = 5000 };
	bb_ring_writer *w;
	pid_t pid[READERS];
	int go[2], ready[2];
	char c;

	shared = mmap(NULL, READERS * sizeof(*shared), PROT_READ | PROT_WRITE,
	              MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		stress_fatal("mmap: %s", strerror(errno));
	/* Readers are forked before the writer opens: a child holding the
	 * writer's fd would hold its lock, and the writer would never die. */
	CHECK(pipe(go) == 0 && pipe(ready) == 0, "pipes");
	for (int i = 0; i < READERS; i++)
		if ((pid[i] = stress_fork()) == 0)
			_exit(reader(bus, go[0], ready[1], &shared[i]));
	CHECK(bb_ring_writer_open(&w, bus, &o) == 0, "writer opens");
	CHECK(write(go[1], "gg", READERS) == READERS, "readers go");
	for (int i = 0; i < READERS; i++)
		CHECK(read(ready[0], &c, 1) == 1, "reader %d open", i);
	uint64_t seed = (uint64_t)getpid(), seq = 0;
	int64_t end = stress_now_ns() + (stress_fast() ? 1500 : 3000) * 1000000ll;
	int pairs = 0, lost = 0;
	while (stress_now_ns() < end && lost == 0) {
		put(w, seq++);
		if (!all_taken(seq, stress_now_ns() - 1)) {
			lost++;
			break;
		}
		/* A reader just took it and is spinning down into its sleep
		 * (about ten microseconds of empty polls, then the
		 * announcement): put the next one somewhere in that. */
		int64_t t = atomic_load(&shared[0].last_ns) +
		            (int64_t)stress_rand_in(&seed, 0, 30000);
		while (stress_now_ns() < t)
			;
		put(w, seq++);
		lost += !all_taken(seq, stress_now_ns());
		pairs++;
	}
	INFO("%d pairs, %llu records", pairs, (unsigned long long)seq);
	for (int i = 0; lost && i < READERS; i++) {
		int64_t t = stress_now_ns();
		while (atomic_load(&shared[i].n) < seq &&
		       stress_now_ns() - t < 6000000000)
			stress_sleep_ns(1000000);
		INFO("reader %d took record %llu %.1f ms later", i,
		     (unsigned long long)seq - 1, (stress_now_ns() - t) / 1e6);
	}
	CHECK(lost == 0, "every record reached every reader within 50 ms of "
	      "its put (%d pairs)", pairs);
	CHECK(pairs > 100, "enough pairs to hit the readers' sleep (%d)", pairs);
	bb_ring_writer_close(w);
	for (int i = 0; i < READERS; i++) {
		int st = stress_reap(pid[i], 10000);
		CHECK(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "reader %d: in order, ended by the writer's close (%s), "
		      "worst put-to-wake %.3f ms", i,
		      bb_strerror(atomic_load(&shared[i].end_rc)),
		      atomic_load(&shared[i].worst_ns) / 1e6);
	}
	return stress_done();
}
