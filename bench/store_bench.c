/*
 * store_bench.c: the bar store's rates, on data it makes in a temp dir.
 *
 *   gen.rate          barbus-gen, 500 symbols x one month, bars/s (wall)
 *   import.rate       barbus-import of a ~2M-row CSV into an empty store
 *   import.reimport.rate   the same file again (nothing changes)
 *   replay.scan.rate  bb_store_load() of one session of 500 symbols in
 *                     global time order, bars/s
 *   replay.scan.nocount.rate  the same from a copy of the store without
 *                     its counts of bars per minute (a store made before
 *                     them): the loader's closing-up path
 *   lmdb.scan.rate    the floor: a bare LMDB cursor walk over the same
 *                     bars, decoded into bb_bar in key order
 * The three scans take turns, SCAN_ROUNDS times, each on its own copy of
 * the store (LMDB forbids one environment opened twice in a process), so
 * that load on the machine falls on all three alike. The two loads must
 * give the same bars, bit for bit.
 *
 * Prints a small table, then "name value unit" lines.
 */
#include <errno.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

#include "store.h"

#define NSYMS     500
#define GEN_FROM  "2024-01-02"
#define GEN_TO    "2024-01-31"
#define CSV_TO    "2024-01-16" /* 10 sessions: ~1.9M rows */
#define SCAN_DAY  20240117
#define SCAN_SECS 1.0   /* per scan, over all rounds */
#define SCAN_ROUNDS 10

static char tmp[64], bin[PATH_MAX];


static int rm_one(const char *p, const struct stat *s, int f, struct FTW *w)
{
	(void)s, (void)f, (void)w;
	return remove(p);
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "store_bench: %s: %s\n", what, bb_strerror(rc));
	nftw(tmp, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	exit(1);
}

/* Runs a tool through the shell in tmp; seconds of wall time. */
static double tool(const char *fmt, const char *a, const char *b)
{
	char args[512], cmd[PATH_MAX + 1024];

	snprintf(args, sizeof(args), fmt, a, b);
	snprintf(cmd, sizeof(cmd), "cd %s && %s/barbus-%s", tmp, bin, args);
	double t = bb__mono_s();
	int st = system(cmd);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		die(args, EIO);
	return bb__mono_s() - t;
}

static void copy_dir(const char *from, const char *to)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "cp -r %s %s", from, to);
	int st = system(cmd);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		die(cmd, EIO);
}

static int count_one(void *arg, const bb_bar *b)
{
	(void)b;
	++*(uint64_t *)arg;
	return 0;
}

/* The bars and seconds of one scan, summed over its turns. */
struct tally {
	uint64_t bars;
	double   secs;
};

static double rate(const struct tally *t)
{
	return t->secs > 0 ? (double)t->bars / t->secs : 0;
}

/* Loads of [from, to) into b for secs of wall time, added to *t. */
static void replay_turn(bb_store *st, int64_t from, int64_t to, bb_batch *b,
                        double secs, struct tally *t)
{
	double t0 = bb__mono_s(), dt;
	int rc;

	do {
		if ((rc = bb_store_load(st, NULL, 0, from, to, b)) != 0)
			die("bb_store_load", rc);
		t->bars += b->n;
	} while ((dt = bb__mono_s() - t0) < secs);
	t->secs += dt;
}

/* The floor: per symbol MDB_SET_RANGE then MDB_NEXT, decoded in key order. */
static uint64_t lmdb_pass(MDB_env *env, MDB_dbi dbi, int64_t from, int64_t to,
                          bb_bar *out)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	uint64_t n = 0;

	mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
	mdb_cursor_open(txn, dbi, &cur);
	for (uint32_t s = 0; s < NSYMS; s++) {
		uint8_t kb[12];
		uint32_t be = htobe32(s);
		uint64_t bt = htobe64((uint64_t)from);
		memcpy(kb, &be, 4);
		memcpy(kb + 4, &bt, 8);
		MDB_val k = { 12, kb }, v;
		for (int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
		     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			memcpy(&be, k.mv_data, 4);
			memcpy(&bt, (char *)k.mv_data + 4, 8);
			int64_t t = (int64_t)be64toh(bt);
			if (be32toh(be) != s || t >= to)
				break;
			bb_bar *b = &out[n++];
			b->symbol = s;
			b->time = t;
			memcpy(&b->open, v.mv_data, 40);
			memcpy(&b->flags, (char *)v.mv_data + 40, 4);
		}
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return n;
}

/*
 * An environment on dir and its "bars", read-only unless drop names a
 * sub-database to drop first ("minutes": the copy is then a store made
 * before the counts).
 */
static MDB_env *raw_open(const char *dir, MDB_dbi *bars, const char *drop)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi d;
	int rc;

	mdb_env_create(&env);
	mdb_env_set_maxdbs(env, 8);
	if ((rc = mdb_env_open(env, dir, (drop ? 0 : MDB_RDONLY) | MDB_NOTLS,
	                       0640)) != 0)
		die(dir, rc);
	if ((rc = mdb_txn_begin(env, NULL, drop ? 0 : MDB_RDONLY, &txn)) != 0)
		die(dir, rc);
	if (drop && (rc = mdb_dbi_open(txn, drop, 0, &d)) == 0)
		rc = mdb_drop(txn, d, 1);
	if (drop && rc != 0 && rc != MDB_NOTFOUND) /* none: nothing to drop */
		die("dropping the counts", rc);
	if ((rc = mdb_dbi_open(txn, "bars", 0, bars)) != 0 ||
	    (rc = mdb_txn_commit(txn)) != 0)
		die("lmdb", rc);
	return env;
}

static void floor_turn(MDB_env *env, MDB_dbi dbi, int64_t from, int64_t to,
                       bb_bar *out, double secs, struct tally *t)
{
	double t0 = bb__mono_s(), dt;

	do
		t->bars += lmdb_pass(env, dbi, from, to, out);
	while ((dt = bb__mono_s() - t0) < secs);
	t->secs += dt;
}

static bb_store *store_open(const char *dir)
{
	bb_store *st;
	int rc = bb_store_open(&st, dir, BB_STORE_RDONLY);

	if (rc != 0)
		die(dir, rc);
	return st;
}

/*
 * The loader on the store (counts), on a copy without counts, and the floor
 * on a third copy, in turns; t[0..3) in that order. *n: bars a load.
 */
static void scans(const char *gdir, int64_t from, int64_t to,
                  struct tally *t, size_t *n)
{
	char old[160], raw[160];
	bb_batch a = { 0 }, b = { 0 };
	MDB_dbi dbi;

	snprintf(old, sizeof(old), "%s.old", gdir);
	snprintf(raw, sizeof(raw), "%s.raw", gdir);
	copy_dir(gdir, old);
	copy_dir(gdir, raw);
	mdb_env_close(raw_open(old, &dbi, "minutes"));
	bb_store *st = store_open(gdir), *ost = store_open(old);
	MDB_env *env = raw_open(raw, &dbi, NULL);
	replay_turn(st, from, to, &a, 0, &t[0]); /* warm, and compare */
	replay_turn(ost, from, to, &b, 0, &t[1]);
	if (a.n == 0 || a.n != b.n || memcmp(a.bars, b.bars, a.n * sizeof(*a.bars)))
		die("loads with and without counts differ", EIO);
	bb_bar *out = malloc(a.n * sizeof(*out));
	if (out == NULL)
		die("malloc", ENOMEM);
	floor_turn(env, dbi, from, to, out, 0, &t[2]);
	*n = a.n;
	memset(t, 0, 3 * sizeof(*t));
	for (int r = 0; r < SCAN_ROUNDS; r++) { /* rotate who goes first */
		for (int i = 0; i < 3; i++) {
			int w = (r + i) % 3;
			double secs = SCAN_SECS / SCAN_ROUNDS;
			if (w == 2)
				floor_turn(env, dbi, from, to, out, secs, &t[2]);
			else
				replay_turn(w ? ost : st, from, to, w ? &b : &a,
				            secs, &t[w]);
		}
	}
	free(out);
	mdb_env_close(env);
	bb_store_close(st);
	bb_store_close(ost);
	bb_batch_free(&a);
	bb_batch_free(&b);
}

static size_t file_lines(const char *name)
{
	char path[128];
	size_t n = 0;
	int c;

	snprintf(path, sizeof(path), "%s/%s", tmp, name);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		die(path, errno);
	while ((c = getc_unlocked(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

int main(void)
{
	char self[PATH_MAX], gdir[128], syms[16];
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	bb_calendar *cal;
	bb_session s;
	bb_store *st;
	uint64_t bars = 0;
	int rc;

	if (len <= 0)
		return 1;
	self[len] = '\0';
	snprintf(bin, sizeof(bin), "%s/../bin", dirname(self));
	strcpy(tmp, "/tmp/bb-store-bench-XXXXXX");
	if (mkdtemp(tmp) == NULL)
		die("mkdtemp", errno);
	snprintf(gdir, sizeof(gdir), "%s/gen", tmp);
	snprintf(syms, sizeof(syms), "%d", NSYMS);

	double gen_s = tool("gen -q --db gen --seed 1 --symbols %s --from "
	                    GEN_FROM " --to %s 2>/dev/null", syms, GEN_TO);
	st = store_open(gdir);
	if ((rc = bb__store_scan(st, NULL, 0, 0, INT64_MAX, count_one, &bars)) != 0)
		die("scan", rc);
	bb_store_close(st);
	if ((rc = bb_calendar_load(&cal, "XNYS", NULL, 0)) != 0 ||
	    (rc = bb_calendar_next(cal, SCAN_DAY, &s)) != 0)
		die("calendar XNYS", rc);
	bb_calendar_free(cal);
	size_t nscan;
	struct tally t[3];
	scans(gdir, s.open, s.close, t, &nscan);
	double replay = rate(&t[0]), old = rate(&t[1]), floor_rate = rate(&t[2]);

	tool("export --db gen --from " GEN_FROM " --to %s%s >in.csv", CSV_TO, "");
	size_t rows = file_lines("in.csv") - 1;
	double imp_s = tool("import -q --db imp %s%s 2>/dev/null", "in.csv", "");
	double re_s = tool("import -q --db imp %s%s 2>/dev/null", "in.csv", "");
	nftw(tmp, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	/* No figure from nothing: every rate needs bars and time. */
	if (bars == 0 || nscan == 0 || rows == 0 || !(gen_s > 0) ||
	    !(imp_s > 0) || !(re_s > 0) || !(replay > 0) || !(old > 0) ||
	    !(floor_rate > 0)) {
		fprintf(stderr, "store_bench: nothing measured (%llu bars, %zu "
		        "scanned, %zu rows)\n", (unsigned long long)bars, nscan,
		        rows);
		return 1;
	}

	printf("store_bench: %d symbols, %llu bars generated; scan: one session, "
	       "%zu bars\n", NSYMS, (unsigned long long)bars, nscan);
	printf("  %-34s %12.0f bars/s  (%.2f s)\n", "barbus-gen", bars / gen_s, gen_s);
	printf("  %-34s %12.0f rows/s  (%zu rows, %.2f s)\n", "barbus-import, empty store",
	       rows / imp_s, rows, imp_s);
	printf("  %-34s %12.0f rows/s  (%.2f s)\n", "barbus-import, same file again",
	       rows / re_s, re_s);
	printf("  %-34s %12.0f bars/s\n", "bb_store_load, global time order", replay);
	printf("  %-34s %12.0f bars/s\n", "the same, store without counts", old);
	printf("  %-34s %12.0f bars/s  (replay at %.0f%% of it)\n",
	       "bare LMDB cursor scan (floor)", floor_rate, 100 * replay / floor_rate);
	printf("gen.rate %.0f bars/s\n", bars / gen_s);
	printf("import.rate %.0f rows/s\n", rows / imp_s);
	printf("import.reimport.rate %.0f rows/s\n", rows / re_s);
	printf("replay.scan.rate %.0f bars/s\n", replay);
	printf("replay.scan.nocount.rate %.0f bars/s\n", old);
	printf("lmdb.scan.rate %.0f bars/s\n", floor_rate);
	return 0;
}
