/*
 * table_stress: one writer appends, replaces and resets per-symbol tables
 * while readers check that every bar they get is whole (all fields agree)
 * and that last-n bars are consecutive minutes of one session: every row is
 * tagged with the reset round that wrote it, and a snapshot mixing two
 * rounds (a reset missed by the reader's re-check) fails; the second
 * reader reads the latest bar alone (bb_table_latest(), its own path).
 * Threads of one process, so it runs under ThreadSanitizer too.
 * Prints "N passed, N failed".
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "barbus.h"

#define NSYM    8
#define ROWS    64
#define READERS 2

static char bus[40];
static atomic_int done;
static uint64_t rounds;

/* Every field is a function of (sym, minute, version, round): a torn copy
 * mixes two bars and breaks the relation. flags = round << 8 | version. */
static bb_bar make(uint32_t sym, int64_t minute, uint32_t version,
                   uint64_t round)
{
	uint32_t flags = (uint32_t)(round & 0xffff) << 8 | version;
	double base = sym * 1000.0 + minute + flags / 1024.0;

	return (bb_bar){ .symbol = sym, .flags = flags, .time = minute * 60,
	                 .open = base, .high = base + 1, .low = base - 1,
	                 .close = base + 0.5, .volume = base * 2 };
}

static int whole(const bb_bar *b)
{
	bb_bar want = make(b->symbol, b->time / 60, b->flags & 0xff,
	                   b->flags >> 8);

	return memcmp(b, &want, sizeof(want)) == 0;
}

static void *writer(void *arg)
{
	bb_table_writer *w = arg;

	for (uint64_t r = 0; r < rounds; r++) {
		for (uint32_t s = 0; s < NSYM; s++)
			bb_table_reset(w, s);
		for (int64_t m = 0; m < ROWS; m++)
			for (uint32_t s = 0; s < NSYM; s++) {
				bb_bar b = make(s, m, 0, r);
				bb_table_append(w, s, &b);
				b = make(s, m, 1 + (uint32_t)(r & 7), r);
				bb_table_replace_last(w, s, &b);
			}
	}
	atomic_store(&done, 1);
	return NULL;
}

struct result { int latest; uint64_t reads, bad_bar, bad_run, mixed; };

/* The reader's read of sym: the last 8 bars, or the latest alone. */
static int read_sym(const bb_table *t, const struct result *res, uint32_t s,
                    bb_bar *b, size_t *got)
{
	if (!res->latest)
		return bb_table_last_n(t, s, b, 8, got);
	int rc = bb_table_latest(t, s, b);
	*got = rc == 0;
	return rc == BB_EEMPTY ? 0 : rc;
}

static void *reader(void *arg)
{
	struct result *res = arg;
	bb_table *t;
	bb_bar b[8];
	size_t got;

	if (bb_table_open(&t, bus, "bars.1m") != 0) {
		res->bad_bar++;
		return NULL;
	}
	for (uint32_t s = 0; !atomic_load(&done); s = (s + 1) % NSYM) {
		if (read_sym(t, res, s, b, &got) != 0)
			continue;
		res->reads++;
		for (size_t i = 0; i < got; i++) {
			res->bad_bar += !whole(&b[i]) || b[i].symbol != s;
			if (i > 0) {
				res->bad_run += b[i].time != b[i - 1].time + 60;
				res->mixed += b[i].flags >> 8 != b[0].flags >> 8;
			}
		}
	}
	bb_table_close(t);
	return NULL;
}

int main(void)
{
	bb_table_writer *w;
	pthread_t wt, rt[READERS];
	struct result res[READERS] = { 0 };
	int passed = 0, failed = 0;

	rounds = getenv("BB_TEST_FAST") ? 1000 : 30000;
	snprintf(bus, sizeof(bus), "t-tstress-%d", (int)getpid());
	int rc = bb_table_writer_open(&w, bus, "bars.1m", NSYM, ROWS, NULL);
	if (rc != 0) {
		printf("open: %s\n0 passed, 1 failed\n", bb_strerror(rc));
		return 1;
	}
	for (int i = 0; i < READERS; i++) {
		res[i].latest = i % 2;
		pthread_create(&rt[i], NULL, reader, &res[i]);
	}
	pthread_create(&wt, NULL, writer, w);
	pthread_join(wt, NULL);
	for (int i = 0; i < READERS; i++) {
		pthread_join(rt[i], NULL);
		printf("reader %d (%s): %llu reads, %llu torn or foreign bars, "
		       "%llu broken runs, %llu rows of another reset round\n", i,
		       res[i].latest ? "latest" : "last 8",
		       (unsigned long long)res[i].reads,
		       (unsigned long long)res[i].bad_bar,
		       (unsigned long long)res[i].bad_run,
		       (unsigned long long)res[i].mixed);
		if (res[i].reads > 0 && res[i].bad_bar == 0 &&
		    res[i].bad_run == 0 && res[i].mixed == 0)
			passed++;
		else
			failed++;
	}
	bb_table_writer_close(w);
	char name[128];
	snprintf(name, sizeof(name), "/barbus.%s.bars.1m", bus);
	shm_unlink(name);
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
