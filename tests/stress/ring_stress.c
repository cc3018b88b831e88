/*
 * ring_stress.c: 1 writer and 3 readers (spin, yield, block) over the
 * broadcast ring, with self-checking records (stress.h).
 *
 * Phase "lossless": a large ring (1 << 20 slots) and 10 million records.
 *   The writer keeps within 3/4 of the ring of the slowest reader (test-side
 *   pacing through the readers' published progress; the ring itself never
 *   waits), so every reader must get every record: contiguous sequence,
 *   intact payload, never BB_ELAPPED.
 * Phase "lapping": a small ring (1024 slots), an unpaced writer, and
 *   readers that now and then stop until the writer is two rings ahead.
 *   Each BB_ELAPPED must report exactly the records skipped: the next
 *   delivered sequence equals the expected one plus the reported losses,
 *   and delivered + lost equals the total.
 *
 * Process mode (default): writer and readers are forked processes.
 * Thread mode (BB_TSAN builds, or argv[1] "--threads"): the same as threads
 * of one process, with mmap aliased per object so TSan sees the ring at one
 * address (stress.h). "--procs" forces process mode.
 * BB_TEST_FAST=1 shortens the runs.
 */
#define STRESS_SHARE_MAPS 1
#include "stress.h"

#include <pthread.h>
#include <sched.h>

#define NREADERS  3
#define CHUNK_MAX 64
#define WAIT_NS   1000000000 /* one bb_ring_wait() */

struct phase {
	const char *name;
	const char *bus;
	uint64_t    cap, n;
	int         lossless;    /* writer paces; no record may be lost */
	unsigned    force_laps;  /* stops per reader until lapped */
	int64_t     budget_ns;   /* per participant */
};

struct rres {
	_Alignas(64) _Atomic uint64_t progress; /* UINT64_MAX: finished */
	int      open_rc, end_rc;
	uint64_t delivered, lost, laps, end_pos;
	uint64_t torn, seq_err, lost_err, rseq_err, false_laps, stalls;
	int64_t  ns;
	char     msg[200]; /* first error, if any */
};

struct shared {
	_Atomic int      created; /* 1: ring exists, -1: writer failed */
	_Atomic int      ready;   /* readers attached */
	_Alignas(64) _Atomic uint64_t wpos; /* records the writer published */
	int              w_rc;
	uint64_t         w_written;
	int64_t          w_ns;
	struct rres      r[NREADERS];
};

struct task {
	struct shared      *sh;
	const struct phase *ph;
	int                 idx; /* reader index, -1 for the writer */
};

static const int reader_wait[NREADERS] = {
	BB_WAIT_SPIN, BB_WAIT_YIELD, BB_WAIT_BLOCK
};
static const char *const wait_name[] = { "spin", "yield", "block" };

/* The payload of position seq in a phase: everything derived from seq. */
static void make_rec(bb_bar *b, uint64_t seq)
{
	stress_rec_make(b, seq, (uint32_t)seq, stress_mix(seq),
	                stress_mix(~seq));
}

/* ---- writer --------------------------------------------------------------- */

static uint64_t slowest_reader(struct shared *sh)
{
	uint64_t lo = UINT64_MAX;

	for (int i = 0; i < NREADERS; i++) {
		uint64_t p = atomic_load_explicit(&sh->r[i].progress,
		                                  memory_order_relaxed);
		if (p < lo)
			lo = p;
	}
	return lo;
}

/* Lossless phase: stay within 3/4 of the ring of the slowest reader. */
static void pace(struct shared *sh, bb_ring_writer *w, uint64_t upto,
                 uint64_t cap, int64_t deadline)
{
	for (unsigned i = 0;; i++) {
		uint64_t lo = slowest_reader(sh);
		if (lo == UINT64_MAX || upto <= lo + cap - cap / 4)
			return;
		if (stress_now_ns() > deadline)
			return; /* readers stuck: let the checks say so */
		if (i < 16) {
			sched_yield();
		} else {
			bb_ring_beat(w);
			stress_sleep_ns(50000);
		}
	}
}

static int wait_readers(struct shared *sh, int64_t deadline)
{
	while (atomic_load(&sh->ready) < NREADERS) {
		if (stress_now_ns() > deadline)
			return BB_ETIMEDOUT;
		stress_sleep_ns(100000);
	}
	return 0;
}

/* Chunks of 1..CHUNK_MAX, published with bb_ring_put or bb_ring_put_n. */
static void write_all(struct shared *sh, const struct phase *ph,
                      bb_ring_writer *w, int64_t deadline)
{
	bb_bar buf[CHUNK_MAX];
	uint64_t rng = 0x1234567 ^ ph->cap, pos = 0;

	while (pos < ph->n) {
		uint64_t r = stress_rand(&rng);
		size_t k = 1 + r % CHUNK_MAX;
		if (k > ph->n - pos)
			k = (size_t)(ph->n - pos);
		if (ph->lossless)
			pace(sh, w, pos + k, ph->cap, deadline);
		for (size_t i = 0; i < k; i++)
			make_rec(&buf[i], pos + i);
		if (r & (1ull << 40)) {
			bb_ring_put_n(w, buf, k);
		} else {
			for (size_t i = 0; i < k; i++)
				bb_ring_put(w, &buf[i]);
		}
		pos += k;
		atomic_store_explicit(&sh->wpos, pos, memory_order_relaxed);
		if ((pos & 0xfff) < k)
			bb_ring_beat(w);
	}
	sh->w_written = pos;
}

static void writer_run(struct shared *sh, const struct phase *ph)
{
	bb_seg_opts o = { .capacity = ph->cap, .group = (gid_t)-1 };
	bb_ring_writer *w;
	int64_t t0 = stress_now_ns(), deadline = t0 + ph->budget_ns;

	sh->w_rc = bb_ring_writer_open(&w, ph->bus, &o);
	if (sh->w_rc != 0) {
		atomic_store(&sh->created, -1);
		return;
	}
	atomic_store(&sh->created, 1);
	sh->w_rc = wait_readers(sh, deadline);
	if (sh->w_rc == 0) {
		t0 = stress_now_ns();
		write_all(sh, ph, w, deadline);
		sh->w_ns = stress_now_ns() - t0;
	}
	/* Closing drops the lock: readers drain what is left, then see
	 * BB_ENOWRITER; the segment stays until the program unlinks it. */
	bb_ring_writer_close(w);
}

/* ---- reader --------------------------------------------------------------- */

#define NOTE(res, ...) \
	do { if ((res)->msg[0] == '\0') \
		snprintf((res)->msg, sizeof((res)->msg), __VA_ARGS__); } while (0)

/* Forced lap: wait until the writer is two rings past pos (or done). */
static void stall_until_lapped(struct shared *sh, const struct phase *ph,
                               uint64_t pos)
{
	int64_t until = stress_now_ns() + 200000000;

	while (stress_now_ns() < until) {
		uint64_t wp = atomic_load_explicit(&sh->wpos,
		                                   memory_order_relaxed);
		if (wp >= ph->n || wp >= pos + 2 * ph->cap)
			return;
		stress_sleep_ns(100000);
	}
}

/*
 * Could the slot of pos have been overwritten? Only once the writer started
 * position pos + cap. wpos is stored after each chunk, so while it writes
 * pos + cap, wpos > pos + cap - CHUNK_MAX already (the store precedes the
 * slot's busy mark in program order; x86-TSO, and wpos only grows).
 */
static int writer_passed(struct shared *sh, const struct phase *ph,
                         uint64_t pos)
{
	return atomic_load(&sh->wpos) + CHUNK_MAX > pos + ph->cap;
}

/* One delivered record at expected position *pos. */
static void on_record(struct rres *res, const bb_bar *b, uint64_t *pos,
                      uint64_t lost_since)
{
	uint64_t seq;

	res->delivered++;
	if (stress_rec_check(b, &seq, NULL, NULL, NULL) != 0) {
		res->torn++;
		NOTE(res, "torn record at pos %llu (time %lld symbol %u)",
		     (unsigned long long)*pos, (long long)b->time, b->symbol);
		(*pos)++;
		return;
	}
	bb_bar e;
	make_rec(&e, seq);
	if (memcmp(&e, b, sizeof(e)) != 0) {
		res->torn++;
		NOTE(res, "foreign payload for seq %llu", (unsigned long long)seq);
	}
	if (seq != *pos) {
		if (lost_since > 0)
			res->lost_err++;
		else
			res->seq_err++;
		NOTE(res, "expected seq %llu got %llu (lost reported since "
		     "last record: %llu)", (unsigned long long)*pos,
		     (unsigned long long)seq, (unsigned long long)lost_since);
	}
	*pos = seq + 1;
}

/* Read until position n; the loop of one reader. */
static void read_all(struct shared *sh, const struct phase *ph,
                     struct rres *res, bb_ring_reader *r, int64_t deadline)
{
	uint64_t pos = 0, lost_since = 0, stall_every = 0;
	bb_bar b;

	if (ph->force_laps > 0)
		stall_every = ph->n / (ph->force_laps + 1);
	while (pos < ph->n) {
		uint64_t lost = 0;
		int rc = bb_ring_wait(r, &b, &lost, WAIT_NS);
		if (rc == 0) {
			on_record(res, &b, &pos, lost_since);
			lost_since = 0;
			if (stall_every && res->delivered % stall_every == 0) {
				res->stalls++;
				stall_until_lapped(sh, ph, pos);
			}
		} else if (rc == BB_ELAPPED) {
			res->laps++;
			res->lost += lost;
			lost_since += lost;
			if (lost == 0 || pos + lost > ph->n) {
				res->lost_err++;
				NOTE(res, "lapped at %llu with lost %llu",
				     (unsigned long long)pos,
				     (unsigned long long)lost);
			}
			if (!writer_passed(sh, ph, pos) && res->false_laps++ == 0)
				NOTE(res, "BB_ELAPPED at %llu but the writer had "
				     "not reached %llu (wpos %llu)",
				     (unsigned long long)pos,
				     (unsigned long long)(pos + ph->cap),
				     (unsigned long long)atomic_load(&sh->wpos));
			pos += lost;
		} else if (rc != BB_ETIMEDOUT || stress_now_ns() > deadline) {
			res->end_rc = rc;
			NOTE(res, "bb_ring_wait at pos %llu: %s",
			     (unsigned long long)pos, bb_strerror(rc));
			break;
		}
		if (bb_ring_reader_seq(r) != pos && res->rseq_err++ == 0)
			NOTE(res, "bb_ring_reader_seq %llu, expected %llu",
			     (unsigned long long)bb_ring_reader_seq(r),
			     (unsigned long long)pos);
		if ((pos & 0xff) == 0 || rc != 0)
			atomic_store_explicit(&res->progress, pos,
			                      memory_order_relaxed);
	}
	res->end_pos = pos;
}

static void reader_run(struct shared *sh, const struct phase *ph, int idx)
{
	struct rres *res = &sh->r[idx];
	int64_t t0 = stress_now_ns(), deadline = t0 + ph->budget_ns;
	bb_ring_reader *r = NULL;

	while (atomic_load(&sh->created) == 0 && stress_now_ns() < deadline)
		stress_sleep_ns(100000);
	res->open_rc = atomic_load(&sh->created) == 1 ?
		bb_ring_reader_open(&r, ph->bus, reader_wait[idx], 0) :
		BB_ENOWRITER;
	atomic_fetch_add(&sh->ready, 1); /* failed or not: don't hold up */
	if (res->open_rc == 0) {
		t0 = stress_now_ns();
		read_all(sh, ph, res, r, deadline);
		res->ns = stress_now_ns() - t0;
	}
	atomic_store(&res->progress, UINT64_MAX); /* never pace on us */
	bb_ring_reader_close(r);
}

/* ---- running a phase ------------------------------------------------------- */

static void *task_main(void *arg)
{
	struct task *t = arg;

	if (t->idx < 0)
		writer_run(t->sh, t->ph);
	else
		reader_run(t->sh, t->ph, t->idx);
	return NULL;
}

/* Start writer and readers as threads; join them. */
static void run_threads(struct task *tasks, int n)
{
	pthread_t th[NREADERS + 1];

	for (int i = 0; i < n; i++)
		if (pthread_create(&th[i], NULL, task_main, &tasks[i]) != 0)
			stress_fatal("pthread_create failed");
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
}

/* Start writer and readers as processes; reap them within the budget. */
static void run_procs(struct task *tasks, int n, int64_t budget_ns)
{
	pid_t pid[NREADERS + 1];
	char buf[64];

	for (int i = 0; i < n; i++) {
		pid[i] = stress_fork();
		if (pid[i] == 0) {
			task_main(&tasks[i]);
			_exit(0);
		}
	}
	for (int i = 0; i < n; i++) {
		int st = stress_reap(pid[i], budget_ns / 1000000 + 5000);
		CHECK(st == 0, "%s %s process ended: %s", tasks[i].ph->name,
		      tasks[i].idx < 0 ? "writer" : wait_name[tasks[i].idx],
		      stress_status_str(st, buf, sizeof(buf)));
	}
}

static void check_reader(const struct phase *ph, const struct rres *res,
                         int idx)
{
	const char *nm = ph->name, *wn = wait_name[idx];
	double secs = (double)res->ns / 1e9;

	INFO("%s %-5s reader: %llu delivered, %llu lost in %llu laps, "
	     "%.2f s, %.1f M rec/s%s%s", nm, wn,
	     (unsigned long long)res->delivered, (unsigned long long)res->lost,
	     (unsigned long long)res->laps, secs,
	     secs > 0 ? (double)res->delivered / secs / 1e6 : 0.0,
	     res->msg[0] ? "; first error: " : "", res->msg);
	CHECK(res->open_rc == 0, "%s %s reader open: %s", nm, wn,
	      bb_strerror(res->open_rc));
	CHECK(res->end_rc == 0, "%s %s reader ended early: %s", nm, wn,
	      bb_strerror(res->end_rc));
	CHECK(res->torn == 0, "%s %s reader: %llu torn records", nm, wn,
	      (unsigned long long)res->torn);
	CHECK(res->seq_err == 0, "%s %s reader: %llu sequence breaks without "
	      "a lap", nm, wn, (unsigned long long)res->seq_err);
	CHECK(res->lost_err == 0, "%s %s reader: %llu lapped counts that did "
	      "not match the records missed", nm, wn,
	      (unsigned long long)res->lost_err);
	CHECK(res->false_laps == 0, "%s %s reader: %llu BB_ELAPPED before the "
	      "writer could have overwritten the slot", nm, wn,
	      (unsigned long long)res->false_laps);
	CHECK(res->rseq_err == 0, "%s %s reader: bb_ring_reader_seq wrong "
	      "%llu times", nm, wn, (unsigned long long)res->rseq_err);
	CHECK(res->end_pos == ph->n && res->delivered + res->lost == ph->n,
	      "%s %s reader: delivered %llu + lost %llu = %llu records",
	      nm, wn, (unsigned long long)res->delivered,
	      (unsigned long long)res->lost, (unsigned long long)ph->n);
	if (ph->lossless)
		CHECK(res->laps == 0 && res->delivered == ph->n,
		      "%s %s reader: lossless (%llu laps)", nm, wn,
		      (unsigned long long)res->laps);
	if (ph->force_laps > 0)
		CHECK(res->laps > 0, "%s %s reader: was lapped (%llu laps "
		      "after %llu stalls)", nm, wn,
		      (unsigned long long)res->laps,
		      (unsigned long long)res->stalls);
}

static void run_phase(const struct phase *ph, int threads)
{
	struct shared *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
	                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct task tasks[NREADERS + 1];

	if (sh == MAP_FAILED)
		stress_fatal("mmap: %s", strerror(errno));
	tasks[0] = (struct task){ sh, ph, -1 };
	for (int i = 0; i < NREADERS; i++)
		tasks[i + 1] = (struct task){ sh, ph, i };
	INFO("%s: %llu records, ring of %llu slots, %s", ph->name,
	     (unsigned long long)ph->n, (unsigned long long)ph->cap,
	     threads ? "threads" : "processes");
	if (threads)
		run_threads(tasks, NREADERS + 1);
	else
		run_procs(tasks, NREADERS + 1, ph->budget_ns);
	CHECK(sh->w_rc == 0 && sh->w_written == ph->n,
	      "%s writer: %s, wrote %llu of %llu", ph->name,
	      bb_strerror(sh->w_rc), (unsigned long long)sh->w_written,
	      (unsigned long long)ph->n);
	INFO("%s writer: %.2f s, %.1f M rec/s", ph->name, sh->w_ns / 1e9,
	     sh->w_ns > 0 ? (double)ph->n / (sh->w_ns / 1e9) / 1e6 : 0.0);
	for (int i = 0; i < NREADERS; i++)
		check_reader(ph, &sh->r[i], i);
	stress_unlink_bus(ph->bus);
	if (munmap(sh, sizeof(*sh)) != 0)
		stress_fatal("munmap: %s", strerror(errno));
}

int main(int argc, char **argv)
{
	int threads = stress_tsan();

	if (argc > 1 && strcmp(argv[1], "--threads") == 0)
		threads = 1;
	else if (argc > 1 && strcmp(argv[1], "--procs") == 0)
		threads = 0;
	else if (argc > 1)
		stress_fatal("usage: %s [--threads|--procs]", argv[0]);
	int fast = stress_fast(), tsan = stress_tsan();
	stress_init("ring_stress", tsan ? 600 : 170);
	uint64_t n_big = fast ? (tsan ? 1000000 : 2000000) :
	                        (tsan ? 4000000 : 10000000);
	int64_t budget = (tsan ? 250 : 75) * 1000000000ll;

	struct phase phases[] = {
		{ "lossless", stress_bus("a"), 1u << 20, n_big, 1, 0, budget },
		{ "lapping", stress_bus("b"), 1024, n_big / 2, 0, 40, budget },
	};
	g_share_maps.on = threads;
	for (size_t i = 0; i < sizeof(phases) / sizeof(phases[0]); i++)
		run_phase(&phases[i], threads);
	if (threads)
		CHECK(g_share_maps.hits >= 2 * NREADERS, "thread mode: reader "
		      "mappings alias the writer's (%u shared), so TSan sees "
		      "one ring", g_share_maps.hits);
	return stress_done();
}
