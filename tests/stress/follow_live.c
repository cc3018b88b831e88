/*
 * follow_live: bb_follow_open() and bb_follow_next() under a running
 * writer. A child process writes as the coordinator does (table row, then
 * ring record; a MINUTE_END after each minute) while the parent snapshots
 * and follows; every (symbol, minute) must reach the parent exactly once,
 * through the snapshot or the ring:
 *  - paced writer, ring larger than the run: no lap possible;
 *  - the same across a session boundary (tables reset, SESSION_START);
 *  - a small ring with a slow reader: lapped, told
 *    the loss, re-snapshotted, and still every bar exactly once.
 * Prints "N passed, N failed".
 */
#include <sched.h>

#include "stress.h"

#define NSYM 8
#define MINUTES 4000

struct round {
	const char *name;
	uint64_t    capacity;
	int         paced, session_at, slow;
};

static bb_bar make(uint32_t sym, int64_t minute)
{
	double base = sym * 100000.0 + (double)minute;

	return (bb_bar){ .symbol = sym, .time = 1700000000 + minute * 60,
	                 .open = base, .high = base + 1, .low = base - 1,
	                 .close = base + 0.5, .volume = (double)sym + 1 };
}

static void session_event(bb_ring_writer *r, int kind, int64_t minute)
{
	bb_session s = { .date = 20240102, .open = 1700000000 + minute * 60,
	                 .close = 1700000000 + MINUTES * 60 };
	bb_bar ev;

	bb_event_session(&ev, kind, &s, 0);
	bb_ring_put(r, &ev);
}

/* The child: NSYM symbols, MINUTES minutes, then a USER sentinel. */
static void writer(const char *bus, const struct round *rd, int ready_fd)
{
	bb_seg_opts o = { .capacity = rd->capacity };
	bb_ring_writer *r;
	bb_table_writer *t;

	if (bb_ring_writer_open(&r, bus, &o) != 0 ||
	    bb_table_writer_open(&t, bus, "bars.1m", NSYM, MINUTES, NULL) != 0)
		_exit(3);
	session_event(r, BB_KIND_SESSION_START, 0);
	for (int64_t m = 0; m < MINUTES; m++) {
		if (m == 1 && write(ready_fd, "r", 1) != 1)
			_exit(4);
		if (m == rd->session_at) {
			for (uint32_t s = 0; s < NSYM; s++)
				bb_table_reset(t, s);
			session_event(r, BB_KIND_SESSION_START, m);
		}
		for (uint32_t s = 0; s < NSYM; s++) {
			bb_bar b = make(s, m);
			bb_table_append(t, s, &b);
			bb_ring_put(r, &b);
		}
		bb_bar ev;
		bb_event_minute_end(&ev, make(0, m).time, NSYM);
		bb_ring_put(r, &ev);
		if (rd->paced && m % 16 == 0)
			stress_sleep_ns(20000);
	}
	bb_bar end = { .flags = BB_KIND_FLAGS(BB_KIND_USER) };
	bb_ring_put(r, &end);
	bb_table_writer_close(t);
	bb_ring_writer_close(r);
	_exit(0);
}

struct seen {
	uint8_t  n[NSYM][MINUTES];
	uint64_t snap, ring, laps, lost, bad;
};

static void take(struct seen *sn, const bb_bar *b)
{
	int64_t m = (b->time - 1700000000) / 60;
	bb_bar want = make(b->symbol, m);

	if (b->symbol >= NSYM || m < 0 || m >= MINUTES ||
	    memcmp(b, &want, sizeof(want)) != 0) {
		sn->bad++;
		return;
	}
	sn->n[b->symbol][m]++;
}

static void take_snapshot(struct seen *sn, const bb_follow *f)
{
	size_t n;
	const bb_bar *v = bb_follow_snapshot(f, &n);

	for (size_t i = 0; i < n; i++)
		take(sn, &v[i]);
	sn->snap += n;
}

/* Follow until the sentinel; 0 or the error that stopped it. */
static int follow(bb_follow *f, struct seen *sn, const struct round *rd)
{
	bb_bar b;
	uint64_t lost;

	take_snapshot(sn, f);
	for (uint64_t i = 0;; i++) {
		/* 200 us every 32 records: far slower than the unpaced writer
		 * even when ThreadSanitizer slows the writer more than the
		 * reader (1 us was not, under it). */
		if (rd->slow && i % 32 == 0)
			stress_sleep_ns(200000);
		int rc = bb_follow_next(f, &b, &lost, 5000000000LL);
		if (rc == BB_ELAPPED) {
			sn->laps++;
			sn->lost += lost;
			take_snapshot(sn, f);
			continue;
		}
		/* The sentinel may have been skipped by the last lap. */
		if (rc == BB_ENOWRITER && sn->laps > 0)
			return 0;
		if (rc != 0)
			return rc;
		if (BB_KIND(b.flags) == BB_KIND_USER)
			return 0;
		if (BB_KIND(b.flags) == BB_KIND_BAR) {
			take(sn, &b);
			sn->ring++;
		}
	}
}

static void run(const struct round *rd, struct seen *sn)
{
	const char *bus = stress_bus(rd->name);
	int fds[2];
	char c;

	if (pipe(fds) != 0)
		stress_fatal("pipe");
	pid_t pid = stress_fork();
	if (pid == 0)
		writer(bus, rd, fds[1]);
	close(fds[1]);
	CHECK(read(fds[0], &c, 1) == 1, "%s: writer started", rd->name);
	close(fds[0]);
	bb_follow *f;
	int rc = bb_follow_open(&f, bus, BB_WAIT_YIELD, 0);
	CHECK(rc == 0, "%s: open: %s", rd->name, bb_strerror(rc));
	if (rc != 0)
		return;
	rc = follow(f, sn, rd);
	CHECK(rc == 0, "%s: follow: %s", rd->name, bb_strerror(rc));
	bb_follow_close(f);
	CHECK(stress_reap(pid, 5000) == 0, "%s: writer exits 0", rd->name);
}

/* Every (symbol, minute) exactly once, or counted as lost in a lap of a
 * session the tables no longer hold (none of these rounds has one). */
static void check(const struct round *rd, const struct seen *sn)
{
	uint64_t missing = 0, twice = 0;

	for (int s = 0; s < NSYM; s++)
		for (int m = 0; m < MINUTES; m++) {
			missing += sn->n[s][m] == 0;
			twice += sn->n[s][m] > 1;
		}
	INFO("%s: %llu from the snapshots, %llu from the ring, %llu laps "
	     "(%llu records lost)", rd->name, (unsigned long long)sn->snap,
	     (unsigned long long)sn->ring, (unsigned long long)sn->laps,
	     (unsigned long long)sn->lost);
	CHECK(sn->bad == 0, "%s: %llu foreign or torn bars", rd->name,
	      (unsigned long long)sn->bad);
	CHECK(missing == 0, "%s: %llu bars missing", rd->name,
	      (unsigned long long)missing);
	CHECK(twice == 0, "%s: %llu bars twice", rd->name,
	      (unsigned long long)twice);
}

int main(void)
{
	static const struct round rounds[] = {
		{ "paced", 65536, 1, -1, 0 },
		{ "session", 65536, 1, MINUTES / 2, 0 },
		{ "lapped", 256, 1, -1, 1 },
	};
	static struct seen sn[3];
	uint64_t mid = 0;

	stress_init("follow", 60);
	for (int i = 0; i < 3; i++) {
		run(&rounds[i], &sn[i]);
		check(&rounds[i], &sn[i]);
	}
	for (int i = 0; i < 2; i++)
		mid += sn[i].snap > 0 && sn[i].ring > 0;
	CHECK(mid > 0, "a snapshot was taken while the writer ran (%llu rounds)",
	      (unsigned long long)mid);
	CHECK(sn[2].laps > 0 && sn[2].lost > 0,
	      "lapped: the slow reader was told it lost records");
	return stress_done();
}
