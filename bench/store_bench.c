/*
 * store_bench.c: the bar store's rates, on data it makes in a temp dir.
 *
 *   gen.rate          barbus-gen, 500 symbols x one month, bars/s (wall)
 *   import.rate       barbus-import of a ~2M-row CSV into an empty store
 *   import.reimport.rate   the same file again (nothing changes)
 *   replay.scan.rate  bb_store_load() of one session of 500 symbols in
 *                     global time order, bars/s
 *   lmdb.scan.rate    the floor: a bare LMDB cursor walk over the same
 *                     bars, decoded into bb_bar in key order
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
#define SCAN_SECS 1.0

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

static int count_one(void *arg, const bb_bar *b)
{
	(void)b;
	++*(uint64_t *)arg;
	return 0;
}

static double replay_scan(bb_store *st, int64_t from, int64_t to, size_t *n)
{
	bb_batch b = { 0 };
	uint64_t bars = 0;
	int rc;

	if ((rc = bb_store_load(st, NULL, 0, from, to, &b)) != 0) /* warm */
		die("bb_store_load", rc);
	double t0 = bb__mono_s(), t;
	do {
		if ((rc = bb_store_load(st, NULL, 0, from, to, &b)) != 0)
			die("bb_store_load", rc);
		bars += b.n;
	} while ((t = bb__mono_s() - t0) < SCAN_SECS);
	*n = b.n;
	bb_batch_free(&b);
	return (double)bars / t;
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

static double lmdb_scan(const char *dir, int64_t from, int64_t to, size_t max)
{
	bb_bar *out = malloc(max * sizeof(*out));
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi = 0;
	uint64_t bars = 0;
	int rc;

	if (out == NULL)
		die("malloc", ENOMEM);
	mdb_env_create(&env);
	mdb_env_set_maxdbs(env, 8);
	if ((rc = mdb_env_open(env, dir, MDB_RDONLY | MDB_NOTLS, 0640)) != 0 ||
	    (rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) != 0 ||
	    (rc = mdb_dbi_open(txn, "bars", 0, &dbi)) != 0 ||
	    (rc = mdb_txn_commit(txn)) != 0)
		die("lmdb", rc);
	lmdb_pass(env, dbi, from, to, out); /* warm */
	double t0 = bb__mono_s(), t;
	do
		bars += lmdb_pass(env, dbi, from, to, out);
	while ((t = bb__mono_s() - t0) < SCAN_SECS);
	mdb_env_close(env);
	free(out);
	return (double)bars / t;
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
	if ((rc = bb_store_open(&st, gdir, BB_STORE_RDONLY)) != 0)
		die(gdir, rc);
	if ((rc = bb__store_scan(st, NULL, 0, 0, INT64_MAX, count_one, &bars)) != 0)
		die("scan", rc);
	if ((rc = bb_calendar_load(&cal, "XNYS", NULL, 0)) != 0 ||
	    (rc = bb_calendar_next(cal, SCAN_DAY, &s)) != 0)
		die("calendar XNYS", rc);
	bb_calendar_free(cal);
	size_t nscan;
	double replay = replay_scan(st, s.open, s.close, &nscan);
	bb_store_close(st);
	double floor_rate = lmdb_scan(gdir, s.open, s.close, nscan);

	tool("export --db gen --from " GEN_FROM " --to %s%s >in.csv", CSV_TO, "");
	size_t rows = file_lines("in.csv") - 1;
	double imp_s = tool("import -q --db imp %s%s 2>/dev/null", "in.csv", "");
	double re_s = tool("import -q --db imp %s%s 2>/dev/null", "in.csv", "");
	nftw(tmp, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	/* No figure from nothing: every rate needs bars and time. */
	if (bars == 0 || nscan == 0 || rows == 0 || !(gen_s > 0) ||
	    !(imp_s > 0) || !(re_s > 0) || !(replay > 0) || !(floor_rate > 0)) {
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
	printf("  %-34s %12.0f bars/s  (replay at %.0f%% of it)\n",
	       "bare LMDB cursor scan (floor)", floor_rate, 100 * replay / floor_rate);
	printf("gen.rate %.0f bars/s\n", bars / gen_s);
	printf("import.rate %.0f rows/s\n", rows / imp_s);
	printf("import.reimport.rate %.0f rows/s\n", rows / re_s);
	printf("replay.scan.rate %.0f bars/s\n", replay);
	printf("lmdb.scan.rate %.0f bars/s\n", floor_rate);
	return 0;
}
