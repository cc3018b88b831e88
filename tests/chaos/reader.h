/*
 * reader.h: the chaos program's reader processes. Each opens the ring
 * from its oldest record as soon as the coordinator made it, reads with its
 * own way of waiting until the driver says the replay is over (SIGUSR1),
 * drains what is left, then takes what the bus and the upkeep hold of every
 * kept session at 1m and at each derived interval. Everything goes into
 * files (chaos.h); the driver judges it.
 */
#ifndef BB_CHAOS_READER_H
#define BB_CHAOS_READER_H

#include "chaos.h"

static volatile sig_atomic_t rd_stop;

static void rd_on_usr1(int sig)
{
	(void)sig;
	rd_stop = 1;
}

/* The ring, from its oldest record, retried while the coordinator has not
 * created it yet (up to 10 s). NULL when it never came. */
static bb_ring_reader *rd_open(int mode)
{
	int wait = mode == RD_POLL ? BB_WAIT_SPIN : mode; /* POLL never waits */
	bb_ring_reader *r = NULL;

	for (int i = 0; i < 10000; i++) {
		if (bb_ring_reader_open(&r, g.bus, wait, BB_RING_FROM_OLDEST) == 0)
			return r;
		stress_sleep_ns(1000000);
	}
	return NULL;
}

/* One read in the reader's way; 0, BB_ELAPPED, or why nothing came. The
 * POLL reader is a strategy with its own event loop: a non-blocking read,
 * and 1 ms of sleep when there is nothing. */
static int rd_next(bb_ring_reader *r, int mode, bb_bar *b, uint64_t *lost)
{
	if (mode != RD_POLL)
		return bb_ring_wait(r, b, lost, 20000000);
	int rc = bb_ring_read(r, b, lost);
	if (rc == BB_EEMPTY)
		stress_sleep_ns(1000000);
	return rc;
}

/* Reads until told to stop and the ring is drained; every record, lap
 * and error into f. */
static void rd_follow(bb_ring_reader *r, int mode, FILE *f)
{
	for (;;) {
		struct ch_rec e = { .seq = bb_ring_reader_seq(r) };
		e.rc = rd_next(r, mode, &e.bar, &e.lost);
		if (e.rc == BB_EEMPTY || e.rc == BB_ETIMEDOUT ||
		    e.rc == BB_ENOWRITER) {
			/* Stopped only once nothing is left: the writer has
			 * exited by then, so nothing more will come. */
			if (rd_stop)
				return;
			continue;
		}
		e.epoch = bb_ring_epoch(r);
		if (e.rc != 0 && e.rc != BB_ELAPPED)
			memset(&e.bar, 0, sizeof(e.bar));
		if (fwrite(&e, sizeof(e), 1, f) != 1)
			_exit(3);
	}
}

static void rd_snap_one(FILE *f, const bb_bus *b, const bb_upkeep *u,
                        int32_t back, int32_t date, uint32_t sym, uint32_t iv)
{
	static bb_bar bars[CH_MAX_ROWS];
	size_t got = 0;
	struct ch_snap h = { .back = back, .date = date, .sym = sym,
	                     .interval = iv };

	h.rc = back == 0 ? bb_bars(b, u, sym, iv, bars, CH_MAX_ROWS, &got)
	                 : bb_bars_history(b, u, (uint32_t)back, sym, iv, bars,
	                                   CH_MAX_ROWS, &got, &h.date);
	h.n = h.rc == 0 ? (uint32_t)got : 0;
	if (fwrite(&h, sizeof(h), 1, f) != 1 ||
	    fwrite(bars, sizeof(bars[0]), h.n, f) != h.n)
		_exit(3);
}

/* Every kept session (the current one and g.history before it), at 1m
 * and each derived interval, every symbol. 0 or why the bus or the
 * upkeep could not be opened. */
static int rd_snapshot(FILE *f)
{
	bb_bus *b = NULL;
	bb_upkeep *u = NULL;
	bb_status st;

	int rc = bb_bus_open(&b, g.bus);
	if (rc == 0)
		rc = bb_upkeep_open(&u, g.bus);
	if (rc == 0)
		rc = bb_bus_status(b, &st);
	if (rc == 0) {
		uint32_t nsym = bb_symbol_count(b);
		for (int32_t back = 0; back <= g.history; back++)
			for (int k = 0; k < CH_NIV; k++)
				for (uint32_t s = 0; s < nsym; s++)
					rd_snap_one(f, b, u, back, st.date, s,
					            ch_iv[k]);
	}
	bb_upkeep_close(u);
	bb_bus_close(b);
	return rc;
}

static FILE *rd_file(int idx, const char *ext)
{
	char path[PATH_MAX];

	ch_path(path, sizeof(path), idx, ext);
	FILE *f = fopen(path, "wb");
	if (f == NULL)
		_exit(4);
	return f;
}

/* The reader process idx; writes one byte to ready_fd once its ring is
 * open. Never returns. */
static void reader_main(int idx, int ready_fd)
{
	struct sigaction sa = { .sa_handler = rd_on_usr1 };
	struct ch_sum sum = { 0 };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	/* The readers that never sleep stand for readers on cores of their
	 * own, as they would be deployed: on two shared cores they take only
	 * what the writers leave (docs/chaos.md, "On two shared cores"). */
	if ((idx == RD_SPIN || idx == RD_YIELD) && nice(CH_SPIN_NICE) == -1)
		fprintf(stderr, "reader %s: nice: %s\n", ch_rd_name[idx],
		        strerror(errno));
	FILE *ring = rd_file(idx, "ring"), *snap = rd_file(idx, "snap");
	FILE *fs = rd_file(idx, "sum");
	bb_ring_reader *r = rd_open(idx);
	if (r == NULL)
		_exit(5);
	sum.start = bb_ring_reader_seq(r);
	if (write(ready_fd, "r", 1) != 1)
		_exit(6);
	close(ready_fd);
	rd_follow(r, idx, ring);
	sum.end = bb_ring_reader_seq(r);
	bb_ring_reader_close(r);
	sum.snap_rc = rd_snapshot(snap);
	if (fwrite(&sum, sizeof(sum), 1, fs) != 1 || fclose(fs) != 0 ||
	    fclose(ring) != 0 || fclose(snap) != 0)
		_exit(7);
	_exit(0);
}

#endif /* BB_CHAOS_READER_H */
