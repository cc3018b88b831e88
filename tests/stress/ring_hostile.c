/*
 * ring_hostile: a reader of another uid, in the bus's group, tries every
 * way to break what it can open: truncate, extend, write, delete each
 * segment file, and scribble on, resize or remove the wake word's System V
 * segment. Meanwhile the writer keeps publishing and a blocking reader
 * keeps receiving every record, woken within a heartbeat (and 150 ms of
 * slack; time the machine itself was stopped, seen by tests/stress/
 * canary.h, not counted). Needs root (to become uid 65534); says
 * "skipped" otherwise.
 * Prints "N passed, N failed".
 */
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/shm.h>

#include "stress.h"
#include "canary.h"
#include "ring.h"

#define HOSTILE_ID 65534
#define RECORDS    600
#define WAKE_NS    250000000 /* a heartbeat (100 ms) and 150 ms of slack */
#define SLOW_MAX   64

/* The follower's wakes later than 100 ms, for the parent to judge: from
 * the put to the wake (monotonic ns). Shared memory made before fork. */
struct slow {
	_Atomic int n;
	struct { int64_t put, wake; } w[SLOW_MAX];
};

/* Child, as uid/gid 65534: exit status = attacks that worked (<= 100). */
static int hostile(const char *bus, int go_fd)
{
	char prefix[96], path[512], c;
	int won = 0;
	uint64_t seed = 7;

	if (read(go_fd, &c, 1) != 1 || setgroups(0, NULL) != 0 ||
	    setgid(HOSTILE_ID) != 0 || setuid(HOSTILE_ID) != 0)
		return 100;
	snprintf(prefix, sizeof(prefix), "barbus.%s.", bus);
	DIR *d = opendir("/dev/shm");
	struct dirent *e;
	int wake_id = -1;
	while (d != NULL && (e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
			continue;
		snprintf(path, sizeof(path), "/dev/shm/%s", e->d_name);
		int fd = open(path, O_RDWR | O_NONBLOCK);
		if (fd >= 0) {
			printf("info hostile: opened %s read-write\n", path);
			won++;
			close(fd);
		}
		fd = open(path, O_RDONLY | O_NONBLOCK);
		if (fd >= 0 && (ftruncate(fd, 0) == 0 ||
		    ftruncate(fd, 1 << 20) == 0)) {
			printf("info hostile: resized %s\n", path);
			won++;
		}
		if (fd >= 0 && strstr(e->d_name, ".ring") != NULL) {
			void *p = mmap(NULL, bb__ring_bytes(1024), PROT_READ,
			               MAP_SHARED, fd, 0);
			struct bb__seg s = { .hdr = p };
			if (p != MAP_FAILED)
				wake_id = bb__ring_wake_id(bb__ring_ctl(&s));
		}
		if (fd >= 0)
			close(fd);
		if (unlink(path) == 0) {
			printf("info hostile: deleted %s\n", path);
			won++;
		}
	}
	if (d != NULL)
		closedir(d);
	if (wake_id < 0)
		return 100; /* could not even find the word: test is broken */
	_Atomic uint32_t *word = shmat(wake_id, NULL, 0);
	if (word == (void *)-1)
		return 100;
	struct shmid_ds ds;
	if (shmctl(wake_id, IPC_RMID, NULL) == 0 ||
	    (shmctl(wake_id, IPC_STAT, &ds) == 0 &&
	     shmctl(wake_id, IPC_SET, &ds) == 0)) {
		printf("info hostile: changed the wake segment\n");
		won++;
	}
	/* Scribble for a second: random words, the waiters bit on and off. */
	int64_t end = stress_now_ns() + 1000000000;
	while (stress_now_ns() < end) {
		atomic_store(word, (uint32_t)stress_rand(&seed));
		stress_sleep_ns(50000);
	}
	atomic_store(word, 0xffffffffu); /* leaves the bit set: one wake */
	return won;
}

/* Child: every record, in order, from a blocking reader; its wakes later
 * than 100 ms into *sl. */
static int follower(const char *bus, int go_fd, struct slow *sl)
{
	bb_ring_reader *r;
	bb_bar b;
	uint64_t next = 0;
	int64_t worst = 0;
	char c;

	if (read(go_fd, &c, 1) != 1 ||
	    bb_ring_reader_open(&r, bus, BB_WAIT_BLOCK, 0) != 0)
		return 3;
	int rc;
	while ((rc = bb_ring_wait(r, &b, NULL, 5000000000)) == 0) {
		if (b.symbol != (uint32_t)next++)
			return 4;
		int64_t now = stress_now_ns(), dly = now - b.time;
		worst = dly > worst ? dly : worst;
		int k = atomic_load(&sl->n);
		if (dly > 100000000 && k < SLOW_MAX) {
			sl->w[k].put = b.time;
			sl->w[k].wake = now;
			atomic_store(&sl->n, k + 1);
		}
	}
	printf("info follower: %llu records, worst put-to-wake %.3f ms, %s\n",
	       (unsigned long long)next, worst / 1e6, bb_strerror(rc));
	return rc == BB_ENOWRITER && next == RECORDS ? 0 : 5;
}

/*
 * A hostile who clears the waiters bit can delay a sleeper by one
 * heartbeat (100 ms), never more: every wake within WAKE_NS of its put,
 * less the longest time one CPU was stopped meanwhile. The count of those
 * over the bound.
 */
static int late_wakes(const struct slow *sl, const struct canaries *cs)
{
	int late = 0, n = atomic_load(&sl->n), cpu;

	for (int k = 0; k < n; k++) {
		int64_t d = sl->w[k].wake - sl->w[k].put;
		int64_t off = canaries_stopped(cs, sl->w[k].put, sl->w[k].wake,
		                               &cpu);
		INFO("follower: a wake %.1f ms after its put%s%.1f ms", d / 1e6,
		     cpu >= 0 ? ", a CPU stopped for " : "", cpu >= 0 ? off / 1e6
		     : 0.0);
		late += d - off > WAKE_NS;
	}
	return late;
}

int main(void)
{
	stress_init("ring_hostile", 60);
	if (geteuid() != 0) {
		printf("skipped: needs root to run a reader of another uid\n");
		return 0;
	}
	const char *bus = stress_bus(NULL);
	bb_seg_opts o = { .capacity = 1024, .heartbeat_ms = 100,
	                  .mode = 0640, .group = HOSTILE_ID };
	bb_ring_writer *w;
	int go[2];

	static struct canaries cn;
	struct slow *sl = mmap(NULL, sizeof(*sl), PROT_READ | PROT_WRITE,
	                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	CHECK(pipe(go) == 0 && sl != MAP_FAILED, "pipe, shared memory");
	pid_t fol = stress_fork();
	if (fol == 0)
		_exit(follower(bus, go[0], sl));
	pid_t bad = stress_fork();
	if (bad == 0)
		_exit(hostile(bus, go[0]));
	canaries_start(&cn);
	CHECK(bb_ring_writer_open(&w, bus, &o) == 0, "writer opens");
	CHECK(write(go[1], "gg", 2) == 2, "children go");
	stress_sleep_ns(20000000);
	uint64_t seed = 11;
	for (uint32_t i = 0; i < RECORDS; i++) {
		bb_bar b = { .symbol = i, .time = stress_now_ns() };
		bb_ring_put(w, &b);
		if (i % 50 == 0)
			bb_ring_beat(w);
		stress_sleep_ns((int64_t)stress_rand_in(&seed, 0, 5000000));
	}
	CHECK(1, "the writer published %d records through it all", RECORDS);
	int st = stress_reap(bad, 10000);
	CHECK(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "no attack of the hostile reader worked (exit %d)",
	      st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	bb_ring_writer_close(w);
	st = stress_reap(fol, 10000);
	canaries_stop(&cn);
	CHECK(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "the blocking reader got every record (exit %d)",
	      st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	int late = late_wakes(sl, &cn);
	CHECK(late == 0, "the blocking reader was woken within %d ms of each "
	      "put, the machine's stops not counted (%d later)",
	      WAKE_NS / 1000000, late);
	return stress_done();
}
