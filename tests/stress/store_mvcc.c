/*
 * store_mvcc.c: readers of the bar store see whole batches only.
 *
 * 1. A reader process reads a symbol's range over and over while the
 *    parent rewrites all of it with a new version per transaction (and adds
 *    other bars, so the map grows under the reader): every read must hold
 *    one version only, versions never go back, several must be seen.
 * 2. The same with a reader thread on the writer's own handle, using
 *    bb_store_load() (the coordinator's prefetch pattern): map resizes
 *    must wait for it.
 * 3. A writer process killed in the middle of a large batch: the store
 *    opens, what was committed is there, nothing of the batch is.
 * Prints "N passed, N failed". BB_TEST_FAST=1 shortens it.
 */
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "store.h"

#define T0     1704205800
#define NBARS  2000 /* bars of symbol 0 rewritten per batch */

static char dir[64];
static int passed, failed;
static double run_s = 2.0;

static void check(int ok, const char *what)
{
	printf("%s %s\n", ok ? "ok  " : "FAIL", what);
	ok ? passed++ : failed++;
}

static int rm_one(const char *p, const struct stat *s, int f, struct FTW *w)
{
	(void)s, (void)f, (void)w;
	return remove(p);
}

static void batch(bb_bar *b, size_t n, uint32_t sym, int64_t t0, double v)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (bb_bar){ .symbol = sym, .time = t0 + 60 * (int64_t)i,
		                 .open = v, .high = v, .low = v, .close = v,
		                 .volume = v };
}

struct seen {
	uint64_t reads, torn, back, errors, versions;
};

/* One read: all bars of symbol 0 must carry one version, >= the last. */
static void judge(struct seen *s, const bb_bar *b, size_t n, double *last)
{
	s->reads++;
	if (n != NBARS) {
		s->torn++;
		return;
	}
	for (size_t i = 1; i < n; i++)
		if (b[i].open != b[0].open || b[i].close != b[0].open) {
			s->torn++;
			return;
		}
	if (b[0].open < *last)
		s->back++;
	if (b[0].open != *last)
		s->versions++;
	*last = b[0].open;
}

/* Child: its own read-only handle; reads until the parent's pipe closes. */
static void reader_process(int wfd)
{
	static bb_bar buf[NBARS + 1];
	struct seen s = { 0 };
	double last = -1;
	bb_store *st;
	size_t n;

	if (bb_store_open(&st, dir, BB_STORE_RDONLY) != 0)
		_exit(3);
	double end = bb__mono_s() + run_s;
	while (bb__mono_s() < end) {
		int rc = bb_store_range(st, 0, 0, INT64_MAX, buf, NBARS + 1, &n);
		if (rc != 0) {
			s.errors++;
			continue;
		}
		judge(&s, buf, n, &last);
	}
	bb_store_close(st);
	if (write(wfd, &s, sizeof(s)) != sizeof(s))
		_exit(4);
	_exit(0);
}

/* Rewrites symbol 0 with version v and adds NBARS bars of symbol 1. */
static int write_round(bb_store *st, bb_bar *b, int v)
{
	int rc;

	batch(b, NBARS, 0, T0, v);
	if ((rc = bb_store_put(st, b, NBARS, NULL)) != 0)
		return rc;
	batch(b, NBARS, 1, T0 + (int64_t)v * NBARS * 60, v);
	return bb_store_put(st, b, NBARS, NULL);
}

static bb_store *fresh_store(size_t map_init)
{
	bb_store *st;
	uint32_t id;

	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	if (bb__store_open_ex(&st, dir, 0, map_init, 0) != 0 ||
	    bb_store_symbol_add(st, "A", &id) != 0 ||
	    bb_store_symbol_add(st, "B", &id) != 0) {
		fprintf(stderr, "store_mvcc: cannot create store in %s\n", dir);
		exit(1);
	}
	return st;
}

static void test_processes(void)
{
	static bb_bar b[NBARS];
	bb_store *st = fresh_store(1 << 20);
	struct seen s = { 0 };
	int fds[2], v = 0, werr = 0, status;

	batch(b, NBARS, 0, T0, 0);
	bb_store_put(st, b, NBARS, NULL);
	size_t map0 = bb__store_map_size(st);
	if (pipe(fds) != 0)
		exit(1);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		reader_process(fds[1]);
	}
	close(fds[1]);
	double end = bb__mono_s() + run_s;
	while (bb__mono_s() < end && !werr)
		werr = write_round(st, b, ++v);
	ssize_t got = read(fds[0], &s, sizeof(s));
	waitpid(pid, &status, 0);
	close(fds[0]);
	printf("     %d batches written, %llu reads, %llu versions seen, map "
	       "%zu -> %zu KiB\n", v, (unsigned long long)s.reads,
	       (unsigned long long)s.versions, map0 >> 10,
	       bb__store_map_size(st) >> 10);
	check(werr == 0, "writer: every batch committed");
	check(got == sizeof(s) && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "reader process ran to the end");
	check(s.torn == 0, "reader process: never half a batch");
	check(s.back == 0, "reader process: versions never go back");
	check(s.errors == 0, "reader process: no read errors (map resized)");
	check(s.versions >= 3, "reader process: saw the batches change");
	check(bb__store_map_size(st) > map0, "map grew during the run");
	bb_store_close(st);
}

struct thr {
	bb_store      *st;
	struct seen    s;
	atomic_int     stop;
};

static void *reader_thread(void *arg)
{
	struct thr *t = arg;
	uint32_t sym = 0;
	bb_batch b = { 0 };
	double last = -1;

	while (!atomic_load(&t->stop)) {
		if (bb_store_load(t->st, &sym, 1, 0, INT64_MAX, &b) != 0) {
			t->s.errors++;
			continue;
		}
		judge(&t->s, b.bars, b.n, &last);
	}
	bb_batch_free(&b);
	return NULL;
}

static void test_threads(void)
{
	static bb_bar b[NBARS];
	struct thr t = { .st = fresh_store(1 << 20) };
	pthread_t th;
	int v = 0, werr = 0;

	batch(b, NBARS, 0, T0, 0);
	bb_store_put(t.st, b, NBARS, NULL);
	size_t map0 = bb__store_map_size(t.st);
	pthread_create(&th, NULL, reader_thread, &t);
	double end = bb__mono_s() + run_s;
	while (bb__mono_s() < end && !werr)
		werr = write_round(t.st, b, ++v);
	atomic_store(&t.stop, 1);
	pthread_join(th, NULL);
	printf("     %d batches written, %llu loads, %llu versions seen\n", v,
	       (unsigned long long)t.s.reads, (unsigned long long)t.s.versions);
	check(werr == 0, "thread: writer committed every batch");
	check(t.s.torn == 0 && t.s.back == 0 && t.s.errors == 0,
	      "thread: bb_store_load saw whole batches, in order, no errors");
	check(t.s.versions >= 3 && bb__store_map_size(t.st) > map0,
	      "thread: batches changed and the map grew under the reader");
	bb_store_close(t.st);
}

static void test_killed_writer(void)
{
	static bb_bar b[NBARS];
	bb_store *st = fresh_store(0);
	bb_bar out;
	size_t n = 1 << 21;
	int status;

	batch(b, NBARS, 0, T0, 7);
	bb_store_put(st, b, NBARS, NULL);
	bb_store_close(st);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		bb_bar *big = malloc(n * sizeof(*big));
		if (big == NULL || bb_store_open(&st, dir, 0) != 0)
			_exit(3);
		batch(big, n, 1, T0, 1);
		batch(big, NBARS, 0, T0, 8); /* would overwrite symbol 0 */
		bb_store_put(st, big, n, NULL);
		_exit(0);
	}
	usleep(150 * 1000);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	check(WIFSIGNALED(status), "writer was killed in its transaction");
	int rc = bb_store_open(&st, dir, 0);
	check(rc == 0, "store opens after the kill");
	if (rc != 0)
		return;
	int ok = 1;
	for (int i = 0; i < NBARS && ok; i++)
		ok = bb_store_get(st, 0, T0 + 60 * i, &out) == 0 && out.open == 7;
	check(ok, "committed bars intact");
	check(bb_store_get(st, 1, T0, &out) == BB_ENOTFOUND,
	      "nothing of the killed batch is visible");
	batch(b, NBARS, 1, T0, 9);
	check(bb_store_put(st, b, NBARS, NULL) == 0, "store writable again");
	bb_store_close(st);
}

int main(void)
{
	if (getenv("BB_TEST_FAST"))
		run_s = 0.5;
	strcpy(dir, "/tmp/bb-store-mvcc-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_processes();
	test_threads();
	test_killed_writer();
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
