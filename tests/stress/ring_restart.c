/*
 * ring_restart.c: the ring's writer is SIGKILLed at random points 20 times
 * and restarted on the same bus while three readers (spin, yield, block;
 * threads of this process) keep reading.
 *
 * A writer is this program re-executed as "--writer": exec gives every
 * writer a fresh single-threaded process (also under TSan, where forking a
 * threaded process and carrying on is unsupported). Its records carry
 * (seq, generation, epoch, start time of the writer in microseconds).
 *
 * Checked:
 * - readers never see a torn record (all 7 words from one record);
 * - the delivered sequence goes up by exactly 1, or by exactly the count a
 *   BB_ELAPPED reported: it never repeats, never goes back, never skips;
 * - generations and their epochs only go up; bb_ring_epoch() is at least
 *   the epoch of any record delivered;
 * - each restart bumps the epoch by 1, and the writer is ALIVE as soon as
 *   its epoch shows; bb_ring_writer_state() says DEAD once the killed
 *   writer is reaped, and within 1 s of the kill in any case;
 * - every reader gets the first record of each new writer within 100 ms of
 *   that writer's first put;
 * - when the writer stays dead, every reader (the blocked one included)
 *   returns BB_ENOWRITER within the heartbeat interval (plus slack);
 * - at the end every reader stopped exactly at the ring's head.
 * The two time bounds are widened by the worst delay a thread of this test
 * saw waking from a 1 ms sleep during the run: on a loaded machine the
 * scheduler alone keeps a woken reader off the CPU that long, whatever the
 * ring does (printed with the results).
 * Informational: how many kills left a half-written slot or a head that
 * lagged published slots (what the restarted writer had to repair).
 *
 * BB_STRESS_SEED=N repeats a run's kill points.
 */
#include "stress.h"

#include <fcntl.h>
#include <pthread.h>

#include "ring.h" /* raw view of the slots, for the kill diagnostics */

#define NREADERS      3
#define KILLS         20
#define NGEN          (KILLS + 1)
#define CAP           (1u << 16)
#define HEARTBEAT_MS  50
#define FINAL_RECORDS 20000
#define LATENCY_MS    100

struct reader {
	int             idx;
	pthread_t       th;
	bb_ring_reader *r;
	uint64_t        pos;       /* expected seq of the next record */
	int             gen;       /* generation of the last record, -1 */
	uint64_t        epoch, t0_us;
	uint64_t        delivered, lost, laps, enowriter;
	uint64_t        torn, seq_err, lost_err, gen_err, epoch_err, other_err;
	int64_t         lat_us[NGEN]; /* first record of gen g; -1: none */
	uint64_t        first_seq[NGEN]; /* its sequence */
	uint64_t        epoch_of[NGEN];
	_Atomic int     enow_iter;    /* kill iteration of the ENOWRITER */
	_Atomic int64_t enow_ns;      /* first ENOWRITER after that kill */
	char            msg[240];
};

static struct {
	const char     *bus;
	_Atomic int     stop;
	_Atomic int     kill_iter;
	_Atomic int64_t kill_ns;
	struct reader   rd[NREADERS];
} g;

static const int reader_wait[NREADERS] = {
	BB_WAIT_SPIN, BB_WAIT_YIELD, BB_WAIT_BLOCK
};
static const char *const wait_name[] = { "spin", "yield", "block" };

static int64_t now_us(void) { return stress_now_ns() / 1000; }

/* ---- the writer process ------------------------------------------------- */

/* One burst of n records in chunks of 1..64, by put or put_n. */
static void write_burst(bb_ring_writer *w, uint64_t *rng, uint64_t n,
                        uint32_t gen, uint64_t epoch, uint64_t t0_us)
{
	bb_bar buf[64];

	while (n > 0) {
		uint64_t r = stress_rand(rng);
		uint64_t k = 1 + r % 64, seq = bb_ring_writer_seq(w);
		if (k > n)
			k = n;
		for (uint64_t i = 0; i < k; i++)
			stress_rec_make(&buf[i], seq + i, gen, epoch, t0_us);
		if (r & (1ull << 40)) {
			bb_ring_put_n(w, buf, k);
		} else {
			for (uint64_t i = 0; i < k; i++)
				bb_ring_put(w, &buf[i]);
		}
		n -= k;
	}
}

/* argv: --writer BUS GEN LIMIT SEED. Writes until killed, or LIMIT > 0
 * records and then closes cleanly. Never returns. */
static void writer_main(char **argv)
{
	const char *bus = argv[2];
	uint32_t gen = (uint32_t)strtoul(argv[3], NULL, 10);
	uint64_t limit = strtoull(argv[4], NULL, 10);
	uint64_t rng = strtoull(argv[5], NULL, 10) | 1;
	bb_seg_opts o = { .capacity = CAP, .heartbeat_ms = HEARTBEAT_MS,
	                  .group = (gid_t)-1 };
	bb_ring_writer *w;

	int rc = bb_ring_writer_open(&w, bus, &o);
	if (rc != 0) {
		fprintf(stderr, "writer %u: open: %s\n", gen, bb_strerror(rc));
		_exit(2);
	}
	uint64_t epoch = bb_ring_writer_epoch(w), t0 = (uint64_t)now_us();
	int64_t start = stress_now_ns(), give_up = start + 120000000000ll;
	/* Odd generations go flat out after 5 ms, so that kills land inside
	 * slot writes and batches; even ones stay paced throughout, at most
	 * 256 records a burst: about 0.5 M records/s, so the ring holds more
	 * than LATENCY_MS of them and a reader within that bound is not
	 * lapped over a paced writer's first record. */
	int64_t flat_from = gen & 1 ? start + 5000000 : INT64_MAX;
	for (uint64_t done = 0; limit == 0 || done < limit;) {
		int flat = stress_now_ns() > flat_from;
		uint64_t n = flat ? 4096 : stress_rand_in(&rng, 16, 256);
		if (limit > 0 && n > limit - done)
			n = limit - done;
		write_burst(w, &rng, n, gen, epoch, t0);
		done += n;
		bb_ring_beat(w);
		if (!flat)
			stress_sleep_ns((int64_t)stress_rand_in(&rng, 100, 400) *
			                1000);
		if (stress_now_ns() > give_up)
			_exit(3); /* the parent should have killed us */
	}
	bb_ring_writer_close(w);
	exit(0);
}

static pid_t spawn_writer(int gen, uint64_t limit, uint64_t seed)
{
	char a_gen[16], a_lim[24], a_seed[24];

	snprintf(a_gen, sizeof(a_gen), "%d", gen);
	snprintf(a_lim, sizeof(a_lim), "%llu", (unsigned long long)limit);
	snprintf(a_seed, sizeof(a_seed), "%llu", (unsigned long long)seed);
	pid_t pid = stress_fork();
	if (pid == 0) {
		char *argv[] = { "ring_restart", "--writer", (char *)g.bus,
		                 a_gen, a_lim, a_seed, NULL };
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	return pid;
}

/* ---- readers --------------------------------------------------------------- */

#define NOTE(rd, ...) \
	do { if ((rd)->msg[0] == '\0') \
		snprintf((rd)->msg, sizeof((rd)->msg), __VA_ARGS__); } while (0)

/* The first record of a new generation: latency, epoch order. */
static void new_generation(struct reader *rd, uint64_t seq, uint32_t gen,
                           uint64_t epoch, uint64_t t0_us)
{
	if (rd->gen >= 0 && epoch <= rd->epoch) {
		rd->epoch_err++;
		NOTE(rd, "generation %u has epoch %llu, not above %llu", gen,
		     (unsigned long long)epoch, (unsigned long long)rd->epoch);
	}
	if (gen < NGEN) {
		rd->lat_us[gen] = now_us() - (int64_t)t0_us;
		rd->first_seq[gen] = seq;
		rd->epoch_of[gen] = epoch;
	}
	rd->gen = (int)gen;
	rd->epoch = epoch;
	rd->t0_us = t0_us;
}

static void on_record(struct reader *rd, const bb_bar *b, uint64_t lost_since)
{
	uint64_t seq, epoch, t0;
	uint32_t gen;

	rd->delivered++;
	if (stress_rec_check(b, &seq, &gen, &epoch, &t0) != 0) {
		rd->torn++;
		NOTE(rd, "torn record at pos %llu", (unsigned long long)rd->pos);
		rd->pos++;
		return;
	}
	if (seq != rd->pos) {
		*(lost_since ? &rd->lost_err : &rd->seq_err) += 1;
		NOTE(rd, "expected seq %llu, got %llu of generation %u (lost "
		     "reported before it: %llu)", (unsigned long long)rd->pos,
		     (unsigned long long)seq, gen,
		     (unsigned long long)lost_since);
	}
	rd->pos = seq + 1;
	if ((int)gen < rd->gen) {
		rd->gen_err++;
		NOTE(rd, "generation went back from %d to %u", rd->gen, gen);
	} else if ((int)gen > rd->gen) {
		new_generation(rd, seq, gen, epoch, t0);
	} else if (epoch != rd->epoch || t0 != rd->t0_us) {
		rd->epoch_err++;
		NOTE(rd, "generation %u changed its epoch or start time", gen);
	}
	/* Acquire in bb_ring_epoch() vs the writer's release bump, which
	 * precedes all its records: the epoch seen is at least theirs. */
	if (bb_ring_epoch(rd->r) < epoch && rd->epoch_err++ == 0)
		NOTE(rd, "bb_ring_epoch %llu below record epoch %llu",
		     (unsigned long long)bb_ring_epoch(rd->r),
		     (unsigned long long)epoch);
}

/* First BB_ENOWRITER after the current kill: when. */
static void on_enowriter(struct reader *rd)
{
	int it = atomic_load_explicit(&g.kill_iter, memory_order_acquire);
	int64_t kns = atomic_load_explicit(&g.kill_ns, memory_order_relaxed);
	int64_t t = stress_now_ns();

	rd->enowriter++;
	if (t >= kns && atomic_load(&rd->enow_iter) != it) {
		atomic_store(&rd->enow_ns, t);
		atomic_store(&rd->enow_iter, it);
	}
}

static void *reader_main(void *arg)
{
	struct reader *rd = arg;
	uint64_t lost_since = 0;
	bb_bar b;

	rd->pos = bb_ring_reader_seq(rd->r);
	for (;;) {
		uint64_t lost = 0;
		int rc = bb_ring_wait(rd->r, &b, &lost, 1000000000);
		if (rc == 0) {
			on_record(rd, &b, lost_since);
			lost_since = 0;
		} else if (rc == BB_ELAPPED) {
			rd->laps++;
			rd->lost += lost;
			lost_since += lost;
			if (lost == 0 && rd->lost_err++ == 0)
				NOTE(rd, "BB_ELAPPED with 0 lost");
			rd->pos += lost;
		} else if (rc == BB_ENOWRITER) {
			on_enowriter(rd);
		} else if (rc != BB_ETIMEDOUT) {
			rd->other_err++;
			NOTE(rd, "bb_ring_wait: %s", bb_strerror(rc));
		}
		if (bb_ring_reader_seq(rd->r) != rd->pos && rd->seq_err++ == 0)
			NOTE(rd, "bb_ring_reader_seq %llu, expected %llu",
			     (unsigned long long)bb_ring_reader_seq(rd->r),
			     (unsigned long long)rd->pos);
		if (rc != 0 && rc != BB_ELAPPED && atomic_load(&g.stop))
			break;
	}
	return NULL;
}

/* ---- the kill loop ----------------------------------------------------------- */

/* What the parent learnt of each writer generation. */
struct gens {
	uint64_t epoch[NGEN]; /* seen through bb_ring_epoch() */
	uint64_t start[NGEN]; /* its first sequence (recovered head) */
};

/* What a kill left in the ring, read through a private read-only map. */
struct raw {
	const struct bb__ring_ctl *ctl;
	const struct bb__slot     *slots;
	void                      *map;
	size_t                     len;
	unsigned                   mid_record, head_lag, bad;
};

static void raw_open(struct raw *raw)
{
	char name[BB_SEG_NAME_MAX];

	snprintf(name, sizeof(name), "/barbus.%s.ring", g.bus);
	int fd = shm_open(name, O_RDONLY, 0);
	raw->len = bb__ring_bytes(CAP);
	raw->map = fd < 0 ? MAP_FAILED :
		mmap(NULL, raw->len, PROT_READ, MAP_SHARED, fd, 0);
	if (fd >= 0)
		close(fd);
	if (raw->map == MAP_FAILED)
		stress_fatal("map %s: %s", name, strerror(errno));
	raw->ctl = (const void *)((char *)raw->map + BB_SEG_HDR_LEN);
	raw->slots = (const void *)(raw->ctl + 1);
}

/* After a kill: slots past head that are complete (head lagged), then the
 * first one that is not: half-written (busy) or an older generation. That
 * is where the next writer must go on; returned. */
static uint64_t raw_inspect(struct raw *raw)
{
	uint64_t head = atomic_load(&((struct bb__ring_ctl *)raw->ctl)->head);
	uint64_t p = head, s;

	for (;; p++) {
		s = atomic_load(&((struct bb__slot *)raw->slots)[p % CAP].seq);
		if (s != bb__seq_done(p) || p - head > CAP)
			break;
	}
	raw->head_lag += p > head;
	raw->mid_record += s == bb__seq_busy(p);
	if (s != bb__seq_busy(p) && s >= bb__seq_done(p) && raw->bad++ == 0)
		printf("FAIL-diag slot of %llu holds seq %llu\n",
		       (unsigned long long)p, (unsigned long long)s);
	return p;
}

/* Wait for the writer of gen to bump the epoch; check it is ALIVE then. */
static uint64_t await_writer(bb_ring_reader *probe, int gen, uint64_t prev,
                             pid_t pid)
{
	int64_t limit = (stress_tsan() ? 60 : 10) * 1000000000ll;
	int64_t t0 = stress_now_ns();
	uint64_t e;

	while ((e = bb_ring_epoch(probe)) == prev &&
	       stress_now_ns() - t0 < limit &&
	       waitpid(pid, NULL, WNOHANG) == 0)
		stress_sleep_ns(200000);
	if (e == prev)
		stress_fatal("writer %d did not start", gen);
	int st = bb_ring_writer_state(probe, NULL);
	CHECK(e == prev + 1, "restart %d: epoch %llu -> %llu", gen,
	      (unsigned long long)prev, (unsigned long long)e);
	CHECK(st == BB_WRITER_ALIVE, "restart %d: writer state %d once its "
	      "epoch shows (ALIVE is %d)", gen, st, BB_WRITER_ALIVE);
	return e;
}

/* SIGKILL the writer; check it is reported dead. Returns the kill time. */
static int64_t kill_writer(bb_ring_reader *probe, pid_t pid, int it,
                           int64_t *max_dead_ns)
{
	char buf[48];
	int64_t t = stress_now_ns();

	atomic_store_explicit(&g.kill_ns, t, memory_order_relaxed);
	atomic_store_explicit(&g.kill_iter, it, memory_order_release);
	kill(pid, SIGKILL);
	int st = stress_reap(pid, 2000);
	CHECK(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
	      "kill %d: writer ended by SIGKILL (%s)", it,
	      stress_status_str(st, buf, sizeof(buf)));
	int first = bb_ring_writer_state(probe, NULL), state = first;
	while (state != BB_WRITER_DEAD && stress_now_ns() - t < 1000000000)
		state = bb_ring_writer_state(probe, NULL);
	int64_t dead_ns = stress_now_ns() - t;
	CHECK(first == BB_WRITER_DEAD, "kill %d: DEAD as soon as reaped "
	      "(state %d)", it, first);
	CHECK(state == BB_WRITER_DEAD, "kill %d: DEAD within 1 s (%.1f ms)",
	      it, dead_ns / 1e6);
	if (dead_ns > *max_dead_ns)
		*max_dead_ns = dead_ns;
	return t;
}

/* Worst oversleep of a 1 ms sleep while the test runs: the machine's own
 * scheduling delay, added to the time bounds. */
static _Atomic int64_t sched_worst_ns;
static atomic_int sched_stop;

static void *sched_probe(void *arg)
{
	(void)arg;
	while (!atomic_load(&sched_stop)) {
		int64_t t = stress_now_ns();
		stress_sleep_ns(1000000);
		int64_t late = stress_now_ns() - t - 1000000;
		if (late > atomic_load(&sched_worst_ns))
			atomic_store(&sched_worst_ns, late);
	}
	return NULL;
}

/* The slack of a time bound: a fixed part, and the worst scheduling
 * delay seen so far (the machine's own stops). */
static int64_t slack_ns(void)
{
	return (stress_tsan() ? 150 : 50) * 1000000ll +
	       atomic_load(&sched_worst_ns);
}

/*
 * The writer stays dead: every reader returns BB_ENOWRITER in time. The
 * bound is read when judged, not when the wait began: a stop of the
 * machine during the wait delays the readers and is in the probe's worst
 * by then (given 2 ms to wake and note it).
 */
static void hold_dead(int it, int64_t kill_ns)
{
	int64_t beat = HEARTBEAT_MS * 1000000ll;

	while (stress_now_ns() - kill_ns < beat + slack_ns() + 50000000)
		stress_sleep_ns(1000000);
	stress_sleep_ns(2000000);
	int64_t slack = slack_ns();
	for (int i = 0; i < NREADERS; i++) {
		struct reader *rd = &g.rd[i];
		int ok = atomic_load(&rd->enow_iter) == it;
		int64_t dt = atomic_load(&rd->enow_ns) - kill_ns;
		CHECK(ok && dt <= beat + slack, "kill %d: %s reader returned "
		      "BB_ENOWRITER %.1f ms after the kill (heartbeat %d ms, "
		      "slack %.1f ms)", it, wait_name[i], ok ? dt / 1e6 : -1.0,
		      HEARTBEAT_MS, slack / 1e6);
	}
}

static void start_readers(void)
{
	for (int i = 0; i < NREADERS; i++) {
		struct reader *rd = &g.rd[i];
		rd->idx = i;
		rd->gen = -1;
		atomic_store(&rd->enow_iter, -1);
		for (int k = 0; k < NGEN; k++)
			rd->lat_us[k] = -1;
		int rc = bb_ring_reader_open(&rd->r, g.bus, reader_wait[i], 0);
		if (rc != 0)
			stress_fatal("reader open: %s", bb_strerror(rc));
		if (pthread_create(&rd->th, NULL, reader_main, rd) != 0)
			stress_fatal("pthread_create failed");
	}
}

/* Create the ring once so readers can attach before the first writer. */
static void create_ring(void)
{
	bb_seg_opts o = { .capacity = CAP, .heartbeat_ms = HEARTBEAT_MS,
	                  .group = (gid_t)-1 };
	bb_ring_writer *w;

	int rc = bb_ring_writer_open(&w, g.bus, &o);
	if (rc != 0)
		stress_fatal("create ring: %s", bb_strerror(rc));
	bb_ring_writer_close(w);
}

static void run_kills(bb_ring_reader *probe, uint64_t seed, struct gens *gs)
{
	struct raw raw = { 0 };
	uint64_t rng = seed | 1, epoch = bb_ring_epoch(probe);
	int64_t max_dead = 0;
	char buf[48];

	raw_open(&raw);
	for (int it = 0; it <= KILLS; it++) {
		uint64_t limit = it == KILLS ? FINAL_RECORDS : 0;
		pid_t pid = spawn_writer(it, limit, stress_rand(&rng));
		epoch = gs->epoch[it] = await_writer(probe, it, epoch, pid);
		if (it == KILLS) {
			int st = stress_reap(pid, 30000);
			CHECK(st == 0, "last writer wrote %d records and closed "
			      "(%s)", FINAL_RECORDS,
			      stress_status_str(st, buf, sizeof(buf)));
			break;
		}
		stress_sleep_ns((int64_t)stress_rand_in(&rng, 1, 50) * 1000000);
		int64_t t = kill_writer(probe, pid, it, &max_dead);
		gs->start[it + 1] = raw_inspect(&raw);
		if (it % 4 == 3)
			hold_dead(it, t);
	}
	INFO("kills: %u left a half-written slot, %u a head behind published "
	     "slots; DEAD seen at most %.2f ms after kill()", raw.mid_record,
	     raw.head_lag, max_dead / 1e6);
	CHECK(raw.bad == 0, "after each kill the slot at the recovered head "
	      "is busy or older (%u bad)", raw.bad);
	if (munmap(raw.map, raw.len) != 0)
		stress_fatal("munmap: %s", strerror(errno));
}

/*
 * Latency counts where the reader got a writer's very first record. Where
 * it was lapped over it (a skip the sequence checks prove was reported),
 * it is excused; at most a third of the paced writers (even generations)
 * may be. An odd generation goes flat out 5 ms after its start and laps
 * the ring within a millisecond more: a reader woken later than that
 * (a blocked one on a loaded machine) is lapped over its first record by
 * design, the faster the machine the more often.
 */
static void check_reader(const struct reader *rd, const struct gens *gs,
                         uint64_t head)
{
	const char *wn = wait_name[rd->idx];
	int64_t worst = -1;
	int excused = 0, paced = 0, paced_excused = 0, slow = 0, epoch_bad = 0;

	for (int k = 0; k < NGEN; k++) {
		int64_t lat = rd->lat_us[k];
		epoch_bad += lat >= 0 && rd->epoch_of[k] != gs->epoch[k];
		int lapped = lat < 0 || rd->first_seq[k] != gs->start[k];
		paced += !(k & 1);
		paced_excused += lapped && !(k & 1);
		if (lapped) {
			excused++;
			continue;
		}
		slow += lat > LATENCY_MS * 1000 +
		        atomic_load(&sched_worst_ns) / 1000;
		if (lat > worst)
			worst = lat;
	}
	INFO("%-5s reader: %llu delivered, %llu lost in %llu laps, %llu "
	     "ENOWRITER; first record of a new writer after at most %.2f ms%s%s",
	     wn, (unsigned long long)rd->delivered,
	     (unsigned long long)rd->lost, (unsigned long long)rd->laps,
	     (unsigned long long)rd->enowriter, worst / 1e3,
	     rd->msg[0] ? "; first error: " : "", rd->msg);
	CHECK(rd->torn == 0, "%s reader: %llu torn records", wn,
	      (unsigned long long)rd->torn);
	CHECK(rd->seq_err == 0, "%s reader: %llu repeated, skipped or "
	      "backward sequences", wn, (unsigned long long)rd->seq_err);
	CHECK(rd->lost_err == 0, "%s reader: %llu lapped counts that did not "
	      "match the records missed", wn, (unsigned long long)rd->lost_err);
	CHECK(rd->gen_err == 0 && rd->epoch_err == 0 && epoch_bad == 0,
	      "%s reader: generations and epochs only go up (%llu, %llu, %d)",
	      wn, (unsigned long long)rd->gen_err,
	      (unsigned long long)rd->epoch_err, epoch_bad);
	CHECK(rd->other_err == 0, "%s reader: %llu unexpected errors", wn,
	      (unsigned long long)rd->other_err);
	CHECK(paced_excused <= paced / 3, "%s reader: got the first record of "
	      "most paced writers (lapped over %d of %d; %d of all %d)", wn,
	      paced_excused, paced, excused, NGEN);
	CHECK(slow == 0, "%s reader: first record of each new writer within "
	      "%d ms (+ %.1f ms of scheduling delay) of its first put (%d "
	      "late, worst %.2f ms)", wn, LATENCY_MS,
	      atomic_load(&sched_worst_ns) / 1e6, slow, worst / 1e3);
	CHECK(rd->pos == head, "%s reader: ended at the head (%llu vs %llu)",
	      wn, (unsigned long long)rd->pos, (unsigned long long)head);
}

int main(int argc, char **argv)
{
	if (argc == 6 && strcmp(argv[1], "--writer") == 0)
		writer_main(argv);
	if (argc > 1)
		stress_fatal("usage: %s", argv[0]);
	stress_init("ring_restart", stress_tsan() ? 600 : 170);
	const char *s = getenv("BB_STRESS_SEED");
	uint64_t seed = s ? strtoull(s, NULL, 10) :
		(uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
	INFO("seed %llu (BB_STRESS_SEED=%llu repeats it)",
	     (unsigned long long)seed, (unsigned long long)seed);
	g.bus = stress_bus(NULL);
	atomic_store(&g.kill_iter, -1);
	create_ring();

	bb_ring_reader *probe;
	int rc = bb_ring_reader_open(&probe, g.bus, BB_WAIT_SPIN, 0);
	if (rc != 0)
		stress_fatal("probe open: %s", bb_strerror(rc));
	struct gens gs = { .start = { bb_ring_reader_seq(probe) } };
	pthread_t sched;
	pthread_create(&sched, NULL, sched_probe, NULL);
	start_readers();
	run_kills(probe, seed, &gs);
	atomic_store(&sched_stop, 1);
	pthread_join(sched, NULL);
	INFO("worst scheduling delay of a 1 ms sleep: %.2f ms",
	     atomic_load(&sched_worst_ns) / 1e6);
	CHECK(bb_ring_writer_state(probe, NULL) == BB_WRITER_DEAD,
	      "DEAD after the last writer closed");
	atomic_store(&g.stop, 1);
	for (int i = 0; i < NREADERS; i++)
		pthread_join(g.rd[i].th, NULL);

	bb_ring_reader *fresh;
	rc = bb_ring_reader_open(&fresh, g.bus, BB_WAIT_SPIN, 0);
	if (rc != 0)
		stress_fatal("reader open: %s", bb_strerror(rc));
	uint64_t head = bb_ring_reader_seq(fresh);
	INFO("%llu records in %d generations", (unsigned long long)head, NGEN);
	for (int i = 0; i < NREADERS; i++) {
		check_reader(&g.rd[i], &gs, head);
		bb_ring_reader_close(g.rd[i].r);
	}
	bb_ring_reader_close(fresh);
	bb_ring_reader_close(probe);
	return stress_done();
}
