/*
 * ring_wake: no lost wake-up. Blocking readers (processes) with a 5 s
 * heartbeat, so a missed wake is not hidden by their liveness probe. The
 * writer puts a record, waits until the readers have it, then puts the next
 * one a random 0-30 us later: just when a reader, having found the ring
 * empty, is announcing that it goes to sleep (the reader's re-check after
 * its announcement is what makes this safe).
 *
 * A record not with every reader 50 ms after its put returned (the wake
 * call made) is waited for. If it comes within 4 s, a loaded machine kept
 * a woken reader off the CPU: printed, and a failure only past 1% of the
 * records. If it comes later, the reader slept through the put until its
 * 5 s heartbeat: a lost wake-up, a failure. Prints "N passed, N failed".
 */
#include "stress.h"

#define READERS  2
#define LATE_NS  50000000ll
#define LOST_NS  4000000000ll

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

/* How long after t every reader had n records; gives up at t + limit. */
static int64_t taken_after(uint64_t n, int64_t t, int64_t limit)
{
	for (int i = 0; i < READERS; i++)
		while (atomic_load(&shared[i].n) < n) {
			if (stress_now_ns() - t > limit)
				return stress_now_ns() - t;
			if (stress_now_ns() - t > LATE_NS)
				stress_sleep_ns(1000000);
		}
	return stress_now_ns() - t;
}

/* Put record seq stamped with the time; the time the put returned. */
static int64_t put(bb_ring_writer *w, uint64_t seq)
{
	bb_bar b = { .symbol = (uint32_t)seq, .time = stress_now_ns() };

	bb_ring_put(w, &b);
	return stress_now_ns();
}

/* Put seq and see it taken: 0 in time, 1 slow, 2 lost. */
static int put_and_see(bb_ring_writer *w, uint64_t seq)
{
	int64_t t = put(w, seq);
	int64_t d = taken_after(seq + 1, t, 2 * LOST_NS);

	if (d <= LATE_NS)
		return 0;
	INFO("record %llu reached every reader %.1f ms after its put",
	     (unsigned long long)seq, d / 1e6);
	return d < LOST_NS ? 1 : 2;
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
	int pairs = 0, slow = 0, lost = 0;
	while (stress_now_ns() < end && !lost) {
		int rc = put_and_see(w, seq++);
		slow += rc == 1;
		lost += rc == 2;
		if (rc != 0)
			continue;
		/* A reader just took it and is spinning down into its sleep
		 * (about ten microseconds of empty polls, then the
		 * announcement): put the next one somewhere in that. */
		int64_t t = atomic_load(&shared[0].last_ns) +
		            (int64_t)stress_rand_in(&seed, 0, 30000);
		while (stress_now_ns() < t)
			;
		rc = put_and_see(w, seq++);
		slow += rc == 1;
		lost += rc == 2;
		pairs++;
	}
	INFO("%d pairs, %llu records, %d slow", pairs, (unsigned long long)seq,
	     slow);
	CHECK(lost == 0, "no reader slept through a put until its heartbeat "
	      "(%d pairs)", pairs);
	CHECK(slow <= pairs / 100, "at most 1%% of records later than 50 ms "
	      "(%d of %d pairs)", slow, pairs);
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
