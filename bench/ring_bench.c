/*
 * ring_bench: the broadcast ring against its floor and a Unix socket, in one
 * run, between processes pinned to CPUs 0 and 1.
 *
 * 1. One-way latency: ping-pong of 64-byte records, one-way = round trip/2,
 *    over (a) one bare shared cache line (the floor), (b) two rings, A puts
 *    on ring a and B, spinning on a, answers on ring b, (c) a SOCK_STREAM
 *    socketpair. The floor is measured before and after the ring, so a
 *    change of vCPU placement during the run shows.
 * 2. Streaming throughput of 64-byte records: the writer alone, then 1, 2
 *    and 4 spinning readers, each checking order and counting lost records;
 *    rate = records / time from first to last record at the slowest reader.
 *    The harness (not the ring, whose writer never waits) keeps the writer
 *    at most LAG records ahead of the slowest reader, so the figure is
 *    lossless: it is how fast a reader drains the ring. The same over the
 *    socket, one write per record and 64 records per write.
 *    Every throughput row first probes the floor briefly, to say whether
 *    the two vCPUs were near or far during it.
 * 3. Writer cost: ns per record spent inside bb_ring_put(), the writer
 *    paced like a feed (bursts of 64 every 32 us) on a default-size ring,
 *    with 0, 1 and 16 readers, all readers on CPU 1, which yield
 *    (BB_WAIT_YIELD) or block (BB_WAIT_BLOCK) when caught up: 16 spinning
 *    readers on one CPU would measure the scheduler, not the writer.
 *
 * Ends with `name value unit` lines (bench/run.sh collects them).
 * Environment: BB_BENCH_FAST=1 divides every count by 10 (a quick check,
 * not a figure); BB_BENCH_LAG, BB_BENCH_PACE_NS and BB_BENCH_COST_CAP
 * override TP_LAG, the pacing and COST_CAP.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "barbus.h"
#include "bench.h"

#define PP_CAP     1024u      /* ping-pong rings: 64 KiB, cache-resident */
#define TP_CAP     (1u << 20) /* streaming ring: 64 MiB */
#define TP_LAG     (1u << 16) /* harness: writer at most this far ahead */
#define POS_EVERY  1024u      /* readers publish their position this often */
#define MAX_READERS 16
#define TIMEOUT_S  60

enum pp_kind { PP_FLOOR, PP_FLAGS, PP_RING, PP_UDS, PP_MIX };
#define PP_KINDS 3     /* PP_MIX cycles through PP_FLOOR, PP_FLAGS, PP_RING */
#define PP_BLOCK 10000 /* PP_MIX: round trips per block of one kind */

/* Counts, scaled down by BB_BENCH_FAST. */
static struct {
	uint64_t rtt, rtt_uds, stream, stream_uds, cost, probe;
} g_n = { 1000000, 100000, 10000000, 300000, 500000, 20000 };

/* ---- ping-pong -------------------------------------------------------- */

struct pingpong {
	_Atomic uint64_t line;           /* the floor's cache line */
	char             pad0[56];
	_Atomic uint64_t ready;          /* start line, another cache line */
	char             pad1[56];
	enum pp_kind     kind;
	uint64_t         n;              /* timed round trips per kind */
	const char      *bus[2];         /* ring a (A writes), ring b */
	int              fd[2];          /* socketpair ends: A, B */
	uint64_t        *samples[PP_KINDS]; /* round trips in ticks, by kind
	                                       (the socket's in [0]) */
	struct flag {                    /* PP_FLAGS: one word per line */
		_Atomic uint64_t v;
		char             pad[56];
	} *flags[2];                     /* PP_CAP lines each way */
};
_Static_assert(sizeof(struct pingpong) >= 128, "lines apart");

static void fill(bb_bar *b, uint64_t seq)
{
	*b = (bb_bar){ .symbol = (uint32_t)(seq * 2654435761u),
	               .time = (int64_t)seq, .open = 1, .high = 2, .low = 0.5,
	               .close = (double)seq, .volume = 100 };
}

static int check(const bb_bar *b, uint64_t seq)
{
	return b->time == (int64_t)seq &&
	       b->symbol == (uint32_t)(seq * 2654435761u);
}

/* Read exactly len bytes from a stream socket; 0 or -1. */
static int read_full(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len > 0) {
		ssize_t k = read(fd, p, len);
		if (k <= 0) {
			if (k < 0 && errno == EINTR)
				continue;
			return -1;
		}
		p += k;
		len -= (size_t)k;
	}
	return 0;
}

/*
 * The schedule both sides follow. PP_MIX cycles through blocks of PP_BLOCK
 * floor, flags and ring round trips, so all see the same vCPU placements;
 * the first cycle is warm-up. Others warm up for n/10 round trips.
 * Returns the total and sets, for round trip i, its kind and where its
 * sample goes (NULL: warm-up).
 */
static uint64_t pp_plan(const struct pingpong *pp, uint64_t i,
                        enum pp_kind *kind, uint64_t **slot)
{
	if (pp->kind != PP_MIX) {
		uint64_t warm = pp->n / 10;
		*kind = pp->kind;
		*slot = i >= warm ? &pp->samples[0][i - warm] : NULL;
		return warm + pp->n;
	}
	uint64_t blk = i / PP_BLOCK, k = blk % PP_KINDS, cyc = blk / PP_KINDS;
	*kind = (enum pp_kind)k;
	*slot = cyc >= 1 ? &pp->samples[k][(cyc - 1) * PP_BLOCK + i % PP_BLOCK]
	                 : NULL;
	return PP_KINDS * (pp->n + PP_BLOCK);
}

/* Both sides of the ring ping-pong open their writer, then (after the
 * other's writer exists) their reader. */
static void pp_ring_open(struct pingpong *pp, int side, bb_ring_writer **w,
                         bb_ring_reader **r)
{
	bb_seg_opts o = { .capacity = PP_CAP };
	int rc = bb_ring_writer_open(w, pp->bus[side], &o);

	if (rc != 0)
		bench_child_fail("writer %s: %s", pp->bus[side], bb_strerror(rc));
	/* Release pairs with the acquire in the peer's bench_await(). */
	atomic_fetch_add_explicit(&pp->ready, 1, memory_order_release);
	if (bench_await(&pp->ready, 2, 10) != 0)
		bench_child_fail("ping-pong peer did not start");
	rc = bb_ring_reader_open(r, pp->bus[!side], BB_WAIT_SPIN, 0);
	if (rc != 0)
		bench_child_fail("reader %s: %s", pp->bus[!side], bb_strerror(rc));
}

/* One round trip of side A (i-th); 0 or -1. */
static int pp_round(struct pingpong *pp, enum pp_kind kind, uint64_t i,
                    bb_ring_writer *w, bb_ring_reader *r)
{
	bb_bar b;
	uint64_t lost;

	switch (kind) {
	case PP_FLOOR:
		/* Release/acquire pair with B's, on the one line. */
		atomic_store_explicit(&pp->line, 2 * i + 1, memory_order_release);
		while (atomic_load_explicit(&pp->line, memory_order_acquire) !=
		       2 * i + 2)
			bench_relax();
		return 0;
	case PP_FLAGS: {
		_Atomic uint64_t *out = &pp->flags[0][i % PP_CAP].v;
		_Atomic uint64_t *in = &pp->flags[1][i % PP_CAP].v;
		/* Release/acquire pairs with B's, one line each way. */
		atomic_store_explicit(out, i + 1, memory_order_release);
		while (atomic_load_explicit(in, memory_order_acquire) != i + 1)
			bench_relax();
		return 0;
	}
	case PP_RING:
		fill(&b, i);
		bb_ring_put(w, &b);
		if (bb_ring_wait(r, &b, &lost, 5000000000) != 0)
			return -1;
		return check(&b, i) ? 0 : -1;
	case PP_UDS:
		fill(&b, i);
		if (write(pp->fd[0], &b, sizeof(b)) != (ssize_t)sizeof(b) ||
		    read_full(pp->fd[0], &b, sizeof(b)) != 0)
			return -1;
		return check(&b, i) ? 0 : -1;
	default:
		return -1;
	}
}

/* Side B's answer to round trip i; 0 or -1. */
static int pp_answer(struct pingpong *pp, enum pp_kind kind, uint64_t i,
                     bb_ring_writer *w, bb_ring_reader *r)
{
	bb_bar b;
	uint64_t lost;

	switch (kind) {
	case PP_FLOOR:
		while (atomic_load_explicit(&pp->line, memory_order_acquire) !=
		       2 * i + 1)
			bench_relax();
		atomic_store_explicit(&pp->line, 2 * i + 2, memory_order_release);
		return 0;
	case PP_FLAGS: {
		_Atomic uint64_t *in = &pp->flags[0][i % PP_CAP].v;
		_Atomic uint64_t *out = &pp->flags[1][i % PP_CAP].v;
		while (atomic_load_explicit(in, memory_order_acquire) != i + 1)
			bench_relax();
		atomic_store_explicit(out, i + 1, memory_order_release);
		return 0;
	}
	case PP_RING:
		if (bb_ring_wait(r, &b, &lost, 5000000000) != 0)
			return -1;
		bb_ring_put(w, &b);
		return 0;
	case PP_UDS:
		if (read_full(pp->fd[1], &b, sizeof(b)) != 0 ||
		    write(pp->fd[1], &b, sizeof(b)) != (ssize_t)sizeof(b))
			return -1;
		return 0;
	default:
		return -1;
	}
}

/* Child: side 0 (A, times round trips) or 1 (B, answers). */
static int pp_side(void *arg, int side)
{
	struct pingpong *pp = arg;
	bb_ring_writer *w = NULL;
	bb_ring_reader *r = NULL;
	enum pp_kind kind;
	uint64_t *slot;

	if (pp->kind == PP_MIX)
		pp_ring_open(pp, side, &w, &r);
	atomic_fetch_add_explicit(&pp->ready, 1, memory_order_release);
	if (bench_await(&pp->ready, pp->kind == PP_MIX ? 4 : 2, 10) != 0)
		bench_child_fail("ping-pong peer did not start");
	uint64_t prev = bench_ticks(), total = pp_plan(pp, 0, &kind, &slot);
	for (uint64_t i = 0; i < total; i++) {
		pp_plan(pp, i, &kind, &slot);
		if (side == 1) {
			if (pp_answer(pp, kind, i, w, r) != 0)
				bench_child_fail("ping-pong answer %llu failed",
				                 (unsigned long long)i);
			continue;
		}
		if (pp_round(pp, kind, i, w, r) != 0)
			bench_child_fail("ping-pong round trip %llu failed",
			                 (unsigned long long)i);
		uint64_t now = bench_ticks();
		if (slot != NULL)
			*slot = now - prev;
		prev = now;
	}
	/* Closing is safe in any order: a reader reports a dead writer only
	 * once the ring is empty, and every answer was read. */
	bb_ring_reader_close(r);
	bb_ring_writer_close(w);
	return 0;
}

struct lat { double p50, p90, p99, p999, max; };

/* Percentiles of n round trips in ticks, sorted here, as one-way ns. */
static struct lat lat_of(uint64_t *s, uint64_t n)
{
	double k = bench_tick_ns() / 2; /* one way */

	bench_sort(s, n);
	return (struct lat){ bench_pct(s, n, 0.50) * k, bench_pct(s, n, 0.90) * k,
	                     bench_pct(s, n, 0.99) * k,
	                     bench_pct(s, n, 0.999) * k, (double)s[n - 1] * k };
}

struct pp_result {
	struct lat a, flags, ring; /* a: the floor or the socket */
	int        blocks, near;  /* PP_MIX: block pairs, those on near cores */
	double     pair_diff;     /* median over pairs of ring - floor p50 */
};

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

/* PP_MIX: per block pair, the floor's and the ring's median. A pair is
 * near when its floor median is under 120 ns (ANCHORS.md: 56-61 near,
 * 211-235 far). Sorts each block in place. */
static void pp_pairs(struct pingpong *pp, struct pp_result *res)
{
	int nb = (int)(pp->n / PP_BLOCK);
	double *d = calloc((size_t)nb, sizeof(double));
	double k = bench_tick_ns() / 2;

	if (d == NULL)
		bench_fail("out of memory");
	for (int j = 0; j < nb; j++) {
		uint64_t *f = pp->samples[0] + (size_t)j * PP_BLOCK;
		uint64_t *g = pp->samples[PP_RING] + (size_t)j * PP_BLOCK;
		bench_sort(f, PP_BLOCK);
		bench_sort(g, PP_BLOCK);
		double fm = (double)f[PP_BLOCK / 2] * k;
		d[j] = (double)g[PP_BLOCK / 2] * k - fm;
		res->near += fm < 120;
	}
	qsort(d, (size_t)nb, sizeof(double), cmp_double);
	res->blocks = nb;
	res->pair_diff = d[nb / 2];
	free(d);
}

/* One ping-pong run (PP_MIX or PP_UDS, or PP_FLOOR to probe the cores)
 * of n timed round trips per kind. */
static struct pp_result pingpong(enum pp_kind kind, uint64_t n,
                                 const char *tag)
{
	struct pingpong *pp = bench_shared(sizeof(*pp));
	struct pp_result res = { 0 };
	int sv[2] = { -1, -1 };
	char t[32];

	pp->kind = kind;
	pp->n = kind == PP_MIX ? n - n % PP_BLOCK : n;
	size_t len = pp->n * sizeof(uint64_t);
	pp->samples[0] = bench_shared(len);
	if (kind == PP_MIX) {
		pp->samples[PP_FLAGS] = bench_shared(len);
		pp->samples[PP_RING] = bench_shared(len);
		pp->flags[0] = bench_shared(PP_CAP * sizeof(struct flag));
		pp->flags[1] = bench_shared(PP_CAP * sizeof(struct flag));
		snprintf(t, sizeof(t), "%s-a", tag);
		pp->bus[0] = bench_bus(t);
		snprintf(t, sizeof(t), "%s-b", tag);
		pp->bus[1] = bench_bus(t);
	}
	if (kind == PP_UDS && socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		bench_fail("socketpair: %s", strerror(errno));
	pp->fd[0] = sv[0];
	pp->fd[1] = sv[1];
	pid_t pid[2] = { bench_spawn(0, pp_side, pp, 0),
	                 bench_spawn(1, pp_side, pp, 1) };
	if (bench_reap(pid, 2, TIMEOUT_S) != 0)
		bench_fail("ping-pong %s failed", tag);
	if (kind == PP_UDS) {
		close(sv[0]);
		close(sv[1]);
	}
	if (kind == PP_MIX) {
		bench_bus_drop(pp->bus[0]);
		bench_bus_drop(pp->bus[1]);
		pp_pairs(pp, &res);
		res.flags = lat_of(pp->samples[PP_FLAGS], pp->n);
		res.ring = lat_of(pp->samples[PP_RING], pp->n);
		munmap(pp->samples[PP_FLAGS], len);
		munmap(pp->samples[PP_RING], len);
		munmap(pp->flags[0], PP_CAP * sizeof(struct flag));
		munmap(pp->flags[1], PP_CAP * sizeof(struct flag));
	}
	res.a = lat_of(pp->samples[0], pp->n);
	munmap(pp->samples[0], len);
	munmap(pp, sizeof(*pp));
	return res;
}

/* A short floor ping-pong: its p50 says whether CPUs 0 and 1 are near
 * right now. */
static double probe(void)
{
	return pingpong(PP_FLOOR, g_n.probe, "probe").a.p50;
}

/* ---- streaming --------------------------------------------------------- */

struct reader_res {
	_Atomic uint64_t pos;   /* next position wanted, for the harness */
	uint64_t         got, lost, bad, start;
	int64_t          t_first, t_last;
	char             pad[8];
};
_Static_assert(sizeof(struct reader_res) == 64, "one line per reader");

struct stream {
	_Atomic uint64_t ready_w, ready_r, done;
	char             pad[40];
	struct reader_res rd[MAX_READERS];
	const char      *bus;
	uint64_t         n, lag;    /* lag 0: the writer runs free */
	uint64_t         cap;       /* ring slots */
	int64_t          pace_ns;   /* > 0: a burst of BURST records this often */
	int              nreaders, wait, fd[2], batch;
	int64_t          w_ns, w_cpu_ns;
	uint64_t        *burst;     /* paced: ticks inside each burst's puts */
};

#define BURST 64

static int64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* How far position i is ahead of the slowest reader. */
static uint64_t ahead(struct stream *st, uint64_t i)
{
	uint64_t m = UINT64_MAX;

	for (int k = 0; k < st->nreaders; k++) {
		/* Acquire pairs with the reader's release store of pos. */
		uint64_t p = atomic_load_explicit(&st->rd[k].pos,
		                                  memory_order_acquire);
		if (p < m)
			m = p;
	}
	return m < i ? i - m : 0;
}

/* Free-running, at most lag (0: any) ahead of the slowest reader:
 * positions from..end. */
static void write_all(struct stream *st, bb_ring_writer *w, uint64_t from,
                      uint64_t end, uint64_t lag)
{
	bb_bar b;

	for (uint64_t i = from; i < end; i++) {
		if (lag != 0 && (i & (POS_EVERY - 1)) == 0)
			while (ahead(st, i) > lag)
				sched_yield(); /* a reader may share this CPU */
		fill(&b, i);
		bb_ring_put(w, &b);
	}
}

/* Paced: a burst of BURST puts every pace_ns, as a feed publishes. Only
 * the puts are timed, burst by burst into st->burst. */
static void write_paced(struct stream *st, bb_ring_writer *w, uint64_t from,
                        uint64_t end)
{
	uint64_t gap = (uint64_t)((double)st->pace_ns / bench_tick_ns());
	uint64_t due = bench_ticks(), *out = st->burst;
	bb_bar b[BURST];

	for (uint64_t i = from; i < end; i += BURST) {
		for (int j = 0; j < BURST; j++)
			fill(&b[j], i + (uint64_t)j);
		while (bench_ticks() < due)
			bench_relax();
		due += gap;
		uint64_t t0 = bench_ticks();
		for (int j = 0; j < BURST; j++)
			bb_ring_put(w, &b[j]);
		*out++ = bench_ticks() - t0;
	}
}

/* Child: the ring writer. Fills the ring once (page faults, cache), lets
 * the readers open, then puts n records. */
static int stream_writer(void *arg, int idx)
{
	struct stream *st = arg;
	bb_ring_writer *w;
	bb_seg_opts o = { .capacity = st->cap };
	(void)idx;

	int rc = bb_ring_writer_open(&w, st->bus, &o);
	if (rc != 0)
		bench_child_fail("writer %s: %s", st->bus, bb_strerror(rc));
	write_all(st, w, 0, st->cap, 0);
	atomic_store_explicit(&st->ready_w, 1, memory_order_release);
	if (bench_await(&st->ready_r, (uint64_t)st->nreaders, 20) != 0)
		bench_child_fail("readers did not start");
	int64_t c0 = cpu_ns(), t0 = bench_now_ns();
	if (st->pace_ns > 0)
		write_paced(st, w, st->cap, st->cap + st->n);
	else
		write_all(st, w, st->cap, st->cap + st->n, st->lag);
	st->w_ns = bench_now_ns() - t0;
	st->w_cpu_ns = cpu_ns() - c0;
	if (bench_await(&st->done, (uint64_t)st->nreaders, TIMEOUT_S) != 0)
		bench_child_fail("readers did not finish");
	bb_ring_writer_close(w);
	return 0;
}

/* The next record for a reader: bb_ring_read() while records are there,
 * the reader's wait strategy only when it has caught up. */
static int next_record(bb_ring_reader *r, bb_bar *b, uint64_t *lost)
{
	int rc = bb_ring_read(r, b, lost);

	if (rc != BB_EEMPTY)
		return rc;
	return bb_ring_wait(r, b, lost, 10000000000);
}

/* Child: reader idx. Drains the warm-up lap (maps and touches the ring),
 * then counts records start..start+n, checking each one's sequence. */
static int stream_reader(void *arg, int idx)
{
	struct stream *st = arg;
	struct reader_res *res = &st->rd[idx];
	bb_ring_reader *r;
	bb_bar b;
	uint64_t lost = 0;

	if (bench_await(&st->ready_w, 1, 20) != 0)
		bench_child_fail("writer did not start");
	int rc = bb_ring_reader_open(&r, st->bus, st->wait, BB_RING_FROM_OLDEST);
	if (rc != 0)
		bench_child_fail("reader %s: %s", st->bus, bb_strerror(rc));
	while (bb_ring_read(r, &b, &lost) != BB_EEMPTY)
		;
	uint64_t next = bb_ring_reader_seq(r), end = next + st->n;
	res->start = next;
	atomic_store_explicit(&res->pos, next, memory_order_release);
	atomic_fetch_add_explicit(&st->ready_r, 1, memory_order_release);
	while (next < end) {
		rc = next_record(r, &b, &lost);
		if (rc == BB_ELAPPED) {
			res->lost += lost;
			next += lost;
			continue;
		}
		if (rc != 0)
			bench_child_fail("reader %d at %llu: %s", idx,
			                 (unsigned long long)next, bb_strerror(rc));
		if (res->got++ == 0)
			res->t_first = bench_now_ns();
		if (!check(&b, next))
			res->bad++;
		next = (uint64_t)b.time + 1;
		/* Release pairs with the acquire in ahead(). */
		if ((next & (POS_EVERY - 1)) == 0)
			atomic_store_explicit(&res->pos, next,
			                      memory_order_release);
	}
	res->t_last = bench_now_ns();
	atomic_store_explicit(&res->pos, UINT64_MAX, memory_order_release);
	atomic_fetch_add_explicit(&st->done, 1, memory_order_release);
	bb_ring_reader_close(r);
	return 0;
}

struct tput {
	double rate_min, rate_sum; /* records/s: slowest reader, all readers */
	uint64_t lost, bad;
	double w_rate;             /* writer, records/s (wall) */
	double w_cost_ns;          /* writer, ns per record: CPU time when free
	                              running; paced, the median burst's time
	                              inside bb_ring_put() */
	double w_mean_ns;          /* paced: the same, mean over the bursts */
	double probe_ns;           /* floor p50 just before the run */
};

struct run_spec {
	const char *tag;
	int         nreaders, wait;
	int         readers_cpu;   /* -1: reader i on CPU i + 1 (mod CPUs) */
	uint64_t    n, lag;        /* lag 0: the writer runs free */
	uint64_t    cap;           /* ring slots; 0: TP_CAP */
	int64_t     pace_ns;       /* > 0: paced, a burst of BURST this often */
};

/* One streaming run, the writer on CPU 0; the floor is probed first. */
static struct tput stream_run(const struct run_spec *sp)
{
	struct stream *st = bench_shared(sizeof(*st));
	pid_t pid[MAX_READERS + 1];
	struct tput t = { .probe_ns = probe() };

	st->bus = bench_bus(sp->tag);
	st->n = sp->n - sp->n % BURST;
	st->lag = sp->lag;
	st->cap = sp->cap ? sp->cap : TP_CAP;
	st->pace_ns = sp->pace_ns;
	st->nreaders = sp->nreaders;
	st->wait = sp->wait;
	size_t nb = st->n / BURST, blen = (nb ? nb : 1) * sizeof(uint64_t);
	if (sp->pace_ns > 0)
		st->burst = bench_shared(blen);
	pid[0] = bench_spawn(0, stream_writer, st, 0);
	for (int i = 0; i < sp->nreaders; i++)
		pid[i + 1] = bench_spawn(sp->readers_cpu >= 0 ? sp->readers_cpu
		                                              : i + 1,
		                         stream_reader, st, i);
	if (bench_reap(pid, sp->nreaders + 1, TIMEOUT_S) != 0)
		bench_fail("streaming run %s failed", sp->tag);
	bench_bus_drop(st->bus);
	t.rate_min = sp->nreaders > 0 ? 1e300 : 0;
	for (int i = 0; i < sp->nreaders; i++) {
		const struct reader_res *r = &st->rd[i];
		double secs = (double)(r->t_last - r->t_first) * 1e-9;
		double rate = r->got > 1 && secs > 0 ? (double)(r->got - 1) / secs
		                                     : 0;
		if (rate < t.rate_min)
			t.rate_min = rate;
		t.rate_sum += rate;
		t.lost += r->lost;
		t.bad += r->bad;
	}
	t.w_rate = (double)st->n / ((double)st->w_ns * 1e-9);
	t.w_cost_ns = (double)st->w_cpu_ns / (double)st->n;
	if (sp->pace_ns > 0) {
		double sum = 0;
		for (size_t i = 0; i < nb; i++)
			sum += (double)st->burst[i];
		t.w_mean_ns = sum * bench_tick_ns() / (double)st->n;
		bench_sort(st->burst, nb);
		t.w_cost_ns = (double)bench_pct(st->burst, nb, 0.5) *
		              bench_tick_ns() / BURST;
		munmap(st->burst, blen);
	}
	munmap(st, sizeof(*st));
	return t;
}

/* ---- streaming over a Unix stream socket ------------------------------ */

static int uds_writer(void *arg, int idx)
{
	struct stream *st = arg;
	bb_bar b[64];
	size_t per = (size_t)st->batch;
	(void)idx;

	for (uint64_t i = 0; i < st->n; i += per) {
		for (size_t j = 0; j < per; j++)
			fill(&b[j], i + j);
		if (write(st->fd[0], b, per * sizeof(bb_bar)) !=
		    (ssize_t)(per * sizeof(bb_bar)))
			bench_child_fail("uds write: %s", strerror(errno));
	}
	return 0;
}

/* Reads whatever is there (up to 64 records at once), whole records only. */
static int uds_reader(void *arg, int idx)
{
	struct stream *st = arg;
	struct reader_res *res = &st->rd[0];
	bb_bar b[64];
	size_t have = 0;
	uint64_t next = 0;
	(void)idx;

	while (next < st->n) {
		ssize_t k = read(st->fd[1], (char *)b + have, sizeof(b) - have);
		if (k <= 0)
			bench_child_fail("uds read: %s", k ? strerror(errno) : "EOF");
		have += (size_t)k;
		size_t whole = have / sizeof(bb_bar);
		if (whole > 0 && res->got == 0)
			res->t_first = bench_now_ns();
		for (size_t j = 0; j < whole; j++, next++)
			if (!check(&b[j], next))
				res->bad++;
		res->got += whole;
		have -= whole * sizeof(bb_bar);
		memmove(b, (char *)b + whole * sizeof(bb_bar), have);
	}
	res->t_last = bench_now_ns();
	return 0;
}

static struct tput uds_stream(uint64_t n, int batch)
{
	struct stream *st = bench_shared(sizeof(*st));
	int sv[2];
	struct tput t = { 0 };

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		bench_fail("socketpair: %s", strerror(errno));
	st->fd[0] = sv[0];
	st->fd[1] = sv[1];
	st->n = n - n % (uint64_t)batch;
	st->batch = batch;
	pid_t pid[2] = { bench_spawn(0, uds_writer, st, 0),
	                 bench_spawn(1, uds_reader, st, 0) };
	if (bench_reap(pid, 2, TIMEOUT_S) != 0)
		bench_fail("uds streaming failed");
	close(sv[0]);
	close(sv[1]);
	const struct reader_res *r = &st->rd[0];
	/* The first read already holds up to 64 records: count from it. */
	t.rate_min = (double)st->n / ((double)(r->t_last - r->t_first) * 1e-9);
	t.bad = r->bad;
	munmap(st, sizeof(*st));
	return t;
}

/* ---- report ------------------------------------------------------------ */

static const char *cpu_model(char *buf, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];

	snprintf(buf, len, "unknown");
	if (f == NULL)
		return buf;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *c = strchr(line, ':');
		if (strncmp(line, "model name", 10) == 0 && c != NULL) {
			snprintf(buf, len, "%s", c + 2);
			buf[strcspn(buf, "\n")] = '\0';
			break;
		}
	}
	fclose(f);
	return buf;
}

static void lat_row(const char *what, const struct lat *l, uint64_t n)
{
	printf("  %-30s %8.0f %8.0f %8.0f %8.0f %9.0f  (%llu round trips)\n",
	       what, l->p50, l->p90, l->p99, l->p999, l->max,
	       (unsigned long long)n);
}

static void lat_metrics(const char *pre, const struct lat *l)
{
	char name[48];

	snprintf(name, sizeof(name), "%s.p50", pre);
	bench_metric(name, l->p50, "ns", 0);
	snprintf(name, sizeof(name), "%s.p90", pre);
	bench_metric(name, l->p90, "ns", 0);
	snprintf(name, sizeof(name), "%s.p99", pre);
	bench_metric(name, l->p99, "ns", 0);
	snprintf(name, sizeof(name), "%s.p999", pre);
	bench_metric(name, l->p999, "ns", 0);
}

static const char *ok(int good) { return good ? "ok" : "MISSED"; }

/* Verdict on a 16-reader / 1-reader cost ratio. */
static const char *same(double r)
{
	return r > 1.1 ? "MISSED (dearer with 16)"
	     : r < 0.9 ? "MISSED (cheaper with 16)" : "ok";
}

static const char *where(double floor_p50)
{
	return floor_p50 < 120 ? "near" : "far";
}

static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? strtoull(v, NULL, 0) : dflt;
}

/* Latency: floor and ring interleaved, then the socket. */
static void run_latency(void)
{
	struct pp_result m = pingpong(PP_MIX, g_n.rtt, "pp");
	struct pp_result u = pingpong(PP_UDS, g_n.rtt_uds, "uds");
	double d50 = m.ring.p50 - m.a.p50, r99 = m.ring.p99 / m.a.p99;

	printf("\none-way latency, ns (round trip / 2), processes on CPUs 0 "
	       "and 1; the three first rows take turns\n  in blocks of %d "
	       "round trips; flags = one word per 64-byte line, a new line "
	       "per message\n", PP_BLOCK);
	printf("  %-32s %8s %8s %8s %8s %9s\n", "", "p50", "p90", "p99",
	       "p99.9", "max");
	lat_row("floor: one shared cache line", &m.a, m.blocks * PP_BLOCK);
	lat_row("flags: two rings of 8-byte flags", &m.flags,
	        m.blocks * PP_BLOCK);
	lat_row("ring: two rings, spinning reader", &m.ring, m.blocks * PP_BLOCK);
	lat_row("unix stream socket", &u.a, g_n.rtt_uds);
	printf("  cores near (floor block median < 120 ns) in %d of %d block "
	       "pairs\n", m.near, m.blocks);
	printf("  ring p50 - floor p50 = %+.0f ns (target <= +20): %s; "
	       "median over block pairs %+.0f ns\n", d50, ok(d50 <= 20),
	       m.pair_diff);
	printf("  ring p99 / floor p99 = %.2fx (target <= 2x): %s\n", r99,
	       ok(r99 <= 2));
	printf("  socket p50 / ring p50 = %.0fx\n", u.a.p50 / m.ring.p50);
	lat_metrics("floor", &m.a);
	lat_metrics("ring", &m.ring);
	bench_metric("flags.p50", m.flags.p50, "ns", 0);
	bench_metric("flags.p99", m.flags.p99, "ns", 0);
	lat_metrics("uds", &u.a);
	bench_metric("ring.vs.floor.p50", d50, "ns", 0);
	bench_metric("ring.vs.floor.p50.pairs", m.pair_diff, "ns", 0);
	bench_metric("ring.vs.floor.p99", r99, "x", 2);
	bench_metric("floor.near.blocks", 100.0 * m.near / m.blocks, "%", 0);
}

static void tput_row(const char *what, const struct tput *t, int nreaders)
{
	printf("  %-44s %6.1f", what, t->rate_min / 1e6);
	if (nreaders > 1)
		printf(" / %5.1f", t->rate_sum / nreaders / 1e6);
	else
		printf("        ");
	printf("  lost %-8llu bad %llu  [%s %.0f ns]\n",
	       (unsigned long long)t->lost, (unsigned long long)t->bad,
	       where(t->probe_ns), t->probe_ns);
}

/* Streaming throughput; returns how many records failed their check. */
static uint64_t run_stream(void)
{
	uint64_t lag = env_u64("BB_BENCH_LAG", TP_LAG);
	struct run_spec sp = { .tag = "w0", .n = g_n.stream, .readers_cpu = -1,
	                       .wait = BB_WAIT_SPIN };
	struct tput w = stream_run(&sp);
	sp.lag = lag;
	sp.tag = "r1", sp.nreaders = 1;
	struct tput t1 = stream_run(&sp);
	sp.tag = "r2", sp.nreaders = 2;
	struct tput t2 = stream_run(&sp);
	sp.tag = "r4", sp.nreaders = 4;
	struct tput t4 = stream_run(&sp);
	struct tput u1 = uds_stream(g_n.stream_uds, 1);
	struct tput u64 = uds_stream(g_n.stream, 64);
	double want1 = t1.probe_ns < 120 ? 50e6 : 25e6;
	double vs_uds = t1.rate_min / u1.rate_min;

	printf("\nstreaming 64-byte records, M records/s at the slowest reader "
	       "(/ mean of readers); writer on CPU 0,\n  reader i on CPU "
	       "(i+1) mod 2, writer kept <= %llu records ahead (lossless); "
	       "[cores, floor p50 just before]\n", (unsigned long long)lag);
	printf("  %-44s %6.1f  %36s[%s %.0f ns]\n", "writer alone, no reader",
	       w.w_rate / 1e6, "", where(w.probe_ns), w.probe_ns);
	tput_row("ring, 1 spinning reader", &t1, 1);
	tput_row("ring, 2 spinning readers (3 procs, 2 CPUs)", &t2, 2);
	tput_row("ring, 4 spinning readers (5 procs, 2 CPUs)", &t4, 4);
	printf("  %-44s %6.2f  (%llu records)\n",
	       "unix stream socket, 1 record per write", u1.rate_min / 1e6,
	       (unsigned long long)g_n.stream_uds);
	printf("  %-44s %6.1f\n", "unix stream socket, 64 records per write",
	       u64.rate_min / 1e6);
	printf("  1 reader: %.1fM/s, target >= %.0fM (%s cores): %s\n",
	       t1.rate_min / 1e6, want1 / 1e6, where(t1.probe_ns),
	       ok(t1.rate_min >= want1));
	printf("  2 readers: %.1fM/s each, target >= 18M: %s\n",
	       t2.rate_min / 1e6, ok(t2.rate_min >= 18e6));
	printf("  ring, 1 reader / socket, 1 record per write = %.0fx "
	       "(target >= 40x): %s\n", vs_uds, ok(vs_uds >= 40));
	bench_metric("writer.rate", w.w_rate, "records/s", 0);
	bench_metric("ring.rate.1r", t1.rate_min, "records/s", 0);
	bench_metric("ring.rate.2r", t2.rate_min, "records/s", 0);
	bench_metric("ring.rate.4r", t4.rate_min, "records/s", 0);
	bench_metric("ring.lost", (double)(t1.lost + t2.lost + t4.lost),
	             "records", 0);
	bench_metric("uds.rate", u1.rate_min, "records/s", 0);
	bench_metric("uds.rate.batch64", u64.rate_min, "records/s", 0);
	bench_metric("ring.vs.uds.rate", vs_uds, "x", 1);
	bench_metric("writer.cost.0r", w.w_cost_ns, "ns/record", 2);
	return t1.bad + t2.bad + t4.bad + u1.bad + u64.bad;
}

#define COST_ROUNDS 5
#define COST_CAP    65536u /* the default ring: 16 readers stay lossless */

/*
 * Writer cost with 0, 1 and 16 readers, paced. The 1- and 16-reader runs
 * take turns, COST_ROUNDS times each; the figure is the median of the
 * runs' medians, as the vCPU placement changes from run to run. Returns
 * how many records failed their check.
 */
static uint64_t run_cost(void)
{
	int64_t pace = (int64_t)env_u64("BB_BENCH_PACE_NS", 32000);
	struct run_spec sp = { .n = g_n.cost, .pace_ns = pace,
	                       .readers_cpu = 1, .tag = "p0",
	                       .cap = env_u64("BB_BENCH_COST_CAP", COST_CAP) };
	const struct { const char *tag, *what; int nr, wait; } row[] = {
		{ "y1", "1 yielding reader", 1, BB_WAIT_YIELD },
		{ "y16", "16 yielding readers", 16, BB_WAIT_YIELD },
		{ "b1", "1 blocking reader", 1, BB_WAIT_BLOCK },
		{ "b16", "16 blocking readers", 16, BB_WAIT_BLOCK },
	};
	double cost[4], mean[4] = { 0 }, one[4][COST_ROUNDS];
	char where_[4][COST_ROUNDS];
	uint64_t bad = 0, lost[4] = { 0 };
	char tag[16];

	struct tput t0 = stream_run(&sp);
	for (int k = 0; k < COST_ROUNDS; k++)
		for (int i = 0; i < 4; i++) {
			snprintf(tag, sizeof(tag), "%s-%d", row[i].tag, k);
			sp.tag = tag;
			sp.nreaders = row[i].nr;
			sp.wait = row[i].wait;
			struct tput t = stream_run(&sp);
			one[i][k] = t.w_cost_ns;
			where_[i][k] = where(t.probe_ns)[0];
			mean[i] += t.w_mean_ns / COST_ROUNDS;
			lost[i] += t.lost;
			bad += t.bad;
		}
	for (int i = 0; i < 4; i++) {
		double v[COST_ROUNDS];
		memcpy(v, one[i], sizeof(v));
		qsort(v, COST_ROUNDS, sizeof(double), cmp_double);
		cost[i] = v[COST_ROUNDS / 2];
	}
	printf("\nwriter cost, ns per record inside bb_ring_put(), median "
	       "burst (mean): bursts of %d records every %.0f us\n  (%.1fM "
	       "records/s) into a %llu-slot ring; writer alone on CPU 0, every "
	       "reader on CPU 1;\n  1 and 16 readers take turns, %d runs each, "
	       "median of runs [each run: median, n/f = near/far cores]\n", BURST, pace / 1e3,
	       BURST * 1e3 / (double)pace, (unsigned long long)sp.cap,
	       COST_ROUNDS);
	printf("  %-32s %6.1f (%6.1f)\n", "no reader", t0.w_cost_ns,
	       t0.w_mean_ns);
	for (int i = 0; i < 4; i++) {
		printf("  %-32s %6.1f (%6.1f)  [", row[i].what, cost[i],
		       mean[i]);
		for (int k = 0; k < COST_ROUNDS; k++)
			printf("%s%.0f%c", k ? " " : "", one[i][k],
			       where_[i][k]);
		printf("]  lost %llu\n", (unsigned long long)lost[i]);
	}
	double y = cost[1] / cost[0], b = cost[3] / cost[2];
	printf("  yielding: 16 / 1 readers = %.2f (target 0.90-1.10): %s\n", y,
	       same(y));
	printf("  blocking: 16 / 1 readers = %.2f (target 0.90-1.10): %s\n", b,
	       same(b));
	bench_metric("writer.cost.paced.0r", t0.w_cost_ns, "ns/record", 2);
	bench_metric("writer.cost.1r", cost[0], "ns/record", 2);
	bench_metric("writer.cost.mean.1r", mean[0], "ns/record", 2);
	bench_metric("writer.cost.mean.16r", mean[1], "ns/record", 2);
	bench_metric("writer.cost.16r", cost[1], "ns/record", 2);
	bench_metric("writer.cost.ratio", y, "x", 3);
	bench_metric("writer.cost.block.1r", cost[2], "ns/record", 2);
	bench_metric("writer.cost.block.16r", cost[3], "ns/record", 2);
	bench_metric("writer.cost.block.ratio", b, "x", 3);
	return bad + t0.bad;
}

int main(void)
{
	const char *fast = getenv("BB_BENCH_FAST");
	struct utsname u;
	char model[128];

	bench_init("ring_bench");
	if (fast != NULL && fast[0] != '\0' && strcmp(fast, "0") != 0) {
		g_n.rtt /= 10, g_n.rtt_uds /= 10, g_n.stream /= 10;
		g_n.stream_uds /= 10, g_n.cost /= 10;
	}
	uname(&u);
	printf("ring_bench: %d CPUs, %s, %s %s; tick %.3f ns\n", bench_ncpu(),
	       cpu_model(model, sizeof(model)), u.sysname, u.release,
	       bench_tick_ns());
	int64_t t0 = bench_now_ns();
	run_latency();
	uint64_t bad = run_stream();
	bad += run_cost();
	printf("\nring_bench: %.1f s, %llu records failed their check\n\n",
	       (double)(bench_now_ns() - t0) * 1e-9, (unsigned long long)bad);
	bench_metrics_print();
	return bad != 0;
}
