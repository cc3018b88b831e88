/*
 * tools_test.c: barbus-import, barbus-export and barbus-gen as built
 * (build/bin next to this test's build/tests), run through the shell.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <limits.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tmpdir.h"
#include "barbus.h"

static char dir[64], bin[PATH_MAX];

#define CMD_MAX (2 * PATH_MAX + 1200)

static void setup(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	cr_assert(n > 0);
	self[n] = '\0';
	snprintf(bin, sizeof(bin), "%s/../bin", dirname(self));
	tmpdir_make(dir, sizeof(dir), "tools-test");
}

static void teardown(void)
{
	tmpdir_remove(dir);
}

TestSuite(tools, .init = setup, .fini = teardown, .timeout = 20);

/* Runs "barbus-<args>" in dir, stdout and stderr to files; exit status. */
static int run(const char *out, const char *err, const char *fmt, ...)
{
	char args[1024], cmd[CMD_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "cd %s && %s/barbus-%s >%s 2>%s", dir, bin, args,
	         out ? out : "/dev/null", err ? err : "/dev/null");
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void put_file(const char *name, const char *text)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	cr_assert(f != NULL);
	fputs(text, f);
	fclose(f);
}

static char *get_file(const char *name)
{
	static char buf[1 << 16];
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "r");
	cr_assert(f != NULL);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int same_files(const char *a, const char *b)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "cd %s && cmp -s %s %s", dir, a, b);
	return system(cmd) == 0;
}

static void starts(const char *s, const char *prefix)
{
	cr_assert(strncmp(s, prefix, strlen(prefix)) == 0,
	          "got:\n%s\nwanted a start of:\n%s", s, prefix);
}

#define HDR "symbol,timestamp,open,high,low,close,volume\n"

Test(tools, import_skips_and_reports_bad_rows_and_exits_2)
{
	put_file("in.csv", HDR
	         "AAA,2024-01-02T14:30:00Z,10,11,9,10.5,100\n"
	         "AAA,2024-01-02T14:31:00Z,10,9,11,10.5,100\n"
	         "BBB,2024-01-02T14:30:00Z,20,21,19,20.5,200\n"
	         "AAA,2024-01-02T14:30:00Z,10,11,9,10.75,100\n"
	         "AAA,2024-01-02T14:30:00Z,10,11,9,10.5,100\n");
	cr_assert(eq(int, run(NULL, "err", "import --db db in.csv"), 2));
	starts(get_file("err"),
	       "in.csv:3: high below low: high 9 < low 11\n"
	       "in.csv:5: duplicate of an earlier row with other values (line 2)\n"
	       "barbus-import: 5 rows read, 3 stored (2 new, 0 replaced, "
	       "1 unchanged), 2 rejected; ");
	cr_assert(eq(int, run("out", NULL, "export --db db --from 2024-01-02 "
	                      "--to 2024-01-02"), 0));
	cr_assert(eq(str, get_file("out"), HDR
	             "AAA,2024-01-02T14:30:00Z,10,11,9,10.5,100\n"
	             "BBB,2024-01-02T14:30:00Z,20,21,19,20.5,200\n"));
}

Test(tools, import_of_good_rows_exits_0_and_reimport_changes_nothing)
{
	put_file("in.csv", "volume,close,low,high,open,timestamp,symbol\n"
	         "100,10.5,9,11,10,1704205860,AAA\n"
	         "100,10.5,9,11,10,1704205800,AAA\n");
	cr_assert(eq(int, run(NULL, "err", "import --db db in.csv"), 0));
	starts(get_file("err"), "barbus-import: 2 rows read, 2 stored (2 new, "
	       "0 replaced, 0 unchanged), 0 rejected; ");
	cr_assert(eq(int, run("out1", NULL, "export --db db --from 2024-01-01 "
	                      "--to 2024-01-03"), 0));
	cr_assert(eq(int, run(NULL, "err", "import --db db - <in.csv"), 0));
	starts(get_file("err"), "barbus-import: 2 rows read, 2 stored (0 new, "
	       "0 replaced, 2 unchanged), 0 rejected; ");
	cr_assert(eq(int, run("out2", NULL, "export --db db --from 2024-01-01 "
	                      "--to 2024-01-03"), 0));
	cr_assert(same_files("out1", "out2"));
	cr_assert(eq(str, get_file("out1"), HDR
	             "AAA,2024-01-02T14:30:00Z,10,11,9,10.5,100\n"
	             "AAA,2024-01-02T14:31:00Z,10,11,9,10.5,100\n"));
}

Test(tools, changed_row_on_reimport_replaces_and_is_counted)
{
	put_file("a.csv", HDR "AAA,2024-01-02T14:30:00Z,10,11,9,10.5,100\n");
	put_file("b.csv", HDR "AAA,2024-01-02T14:30:00Z,10,11,9,10.25,100\n");
	cr_assert(eq(int, run(NULL, NULL, "import --db db a.csv"), 0));
	cr_assert(eq(int, run(NULL, "err", "import --db db b.csv"), 0));
	starts(get_file("err"), "barbus-import: 1 rows read, 1 stored (0 new, "
	       "1 replaced, 0 unchanged), 0 rejected; ");
}

Test(tools, bad_header_is_fatal_and_stores_nothing)
{
	put_file("in.csv", "symbol,timestamp,open,high,low,close\n"
	         "AAA,2024-01-02T14:30:00Z,10,11,9,10.5\n");
	cr_assert(eq(int, run(NULL, "err", "import --db db in.csv"), 1));
	starts(get_file("err"), "in.csv:1: missing column \"volume\"\n");
	cr_assert(eq(int, run("out", NULL, "export --db db --from 2024-01-01 "
	                      "--to 2024-01-03"), 0));
	cr_assert(eq(str, get_file("out"), HDR));
}

Test(tools, missing_file_is_fatal)
{
	cr_assert(eq(int, run(NULL, "err", "import --db db nope.csv"), 1));
	starts(get_file("err"), "barbus-import: nope.csv: No such file or directory\n");
}

Test(tools, usage_errors_exit_2)
{
	cr_assert(eq(int, run(NULL, NULL, "import in.csv"), 2));
	cr_assert(eq(int, run(NULL, NULL, "export --db db --from 2024-01-01"), 2));
	cr_assert(eq(int, run(NULL, NULL, "gen --db db --symbols 0 --from 2024-01-01 "
	                      "--to 2024-01-02"), 2));
}

Test(tools, bridge_help_and_version_exit_0)
{
	cr_assert(eq(int, run("out", NULL, "bridge --help"), 0));
	starts(get_file("out"), "usage: barbus-bridge publish --bus NAME --nats URL");
	cr_assert(eq(int, run("out", NULL, "bridge --version"), 0));
	starts(get_file("out"), "barbus-bridge " BB_VERSION " (libbarbus ");
}

Test(tools, bridge_usage_errors_exit_2_naming_the_flag)
{
	cr_assert(eq(int, run(NULL, "err", "bridge publish --bus a --nats u "
	                      "--max-age 3q"), 2));
	starts(get_file("err"), "barbus-bridge: --max-age: '3q': want a duration");
	cr_assert(eq(int, run(NULL, "err", "bridge publish --bus a --nats u "
	                      "--replicas 6"), 2));
	starts(get_file("err"), "barbus-bridge: --replicas: ");
	cr_assert(eq(int, run(NULL, "err", "bridge publish --bus a --nats u "
	                      "--in-flight 0"), 2));
	starts(get_file("err"), "barbus-bridge: --in-flight: ");
	cr_assert(eq(int, run(NULL, "err", "bridge mirror --bus a --nats u"), 2));
	starts(get_file("err"), "barbus-bridge: --stream NAME is required with "
	       "mirror\n");
	cr_assert(eq(int, run(NULL, "err", "bridge copy --bus a --nats u"), 2));
	starts(get_file("err"), "barbus-bridge: copy: unknown command\n");
	cr_assert(eq(int, run(NULL, "err", "bridge publish --nats u"), 2));
	starts(get_file("err"), "barbus-bridge: --bus NAME is required\n");
}

Test(tools, trades_and_vwap_are_validated_not_stored_said_once)
{
	put_file("in.csv", "symbol,timestamp,open,high,low,close,volume,trades,vwap\n"
	         "AAA,2024-01-02T14:30:00Z,10,11,9,10.5,100,3,10.2\n");
	cr_assert(eq(int, run(NULL, "err", "import --db db in.csv in.csv"), 0));
	starts(get_file("err"), "barbus-import: note: trades and vwap are validated "
	       "but not stored (the bar record has no room for them)\n"
	       "barbus-import: 2 rows read");
}

Test(tools, export_then_import_round_trips_exactly)
{
	cr_assert(eq(int, run(NULL, NULL, "gen --db g --symbols 4 --from 2024-03-01 "
	                      "--to 2024-03-05 --seed 7"), 0));
	cr_assert(eq(int, run("a.csv", NULL, "export --db g --from 2024-03-01 "
	                      "--to 2024-03-05"), 0));
	cr_assert(eq(int, run(NULL, NULL, "import --db c a.csv"), 0));
	cr_assert(eq(int, run("b.csv", NULL, "export --db c --from 2024-03-01 "
	                      "--to 2024-03-05"), 0));
	cr_assert(same_files("a.csv", "b.csv"));
	cr_assert(eq(int, run("s.csv", NULL, "export --db c --symbol SYM0003 "
	                      "--symbol SYM0001 --from 2024-03-04 --to 2024-03-04"), 0));
	const char *s = get_file("s.csv");
	cr_assert(strstr(s, "\nSYM0003,2024-03-04T14:30:00Z,") != NULL);
	cr_assert(strstr(s, "SYM0002") == NULL);
	cr_assert(strstr(s, "2024-03-05") == NULL);
	cr_assert(strstr(s, "SYM0003") < strstr(s, "SYM0001"));
}

Test(tools, gen_is_deterministic_per_seed)
{
	const char *g = "gen --db %s --symbols 3 --from 2024-01-02 --to 2024-01-03 "
	                "--seed %d --missing-rate 0.05";
	const char *e = "export --db %s --from 2024-01-02 --to 2024-01-03";

	cr_assert(eq(int, run(NULL, NULL, g, "g1", 42), 0));
	cr_assert(eq(int, run(NULL, NULL, g, "g2", 42), 0));
	cr_assert(eq(int, run(NULL, NULL, g, "g3", 43), 0));
	cr_assert(eq(int, run("e1", NULL, e, "g1"), 0));
	cr_assert(eq(int, run("e2", NULL, e, "g2"), 0));
	cr_assert(eq(int, run("e3", NULL, e, "g3"), 0));
	cr_assert(same_files("e1", "e2"));
	cr_assert(not(same_files("e1", "e3")));
	/* a symbol's bars do not depend on how many symbols are made */
	cr_assert(eq(int, run(NULL, NULL, "gen --db g4 --symbols 1 --from 2024-01-02 "
	                      "--to 2024-01-03 --seed 42 --missing-rate 0.05"), 0));
	cr_assert(eq(int, run("e4", NULL, e, "g4"), 0));
	cr_assert(eq(int, run("e1s", NULL, "export --db g1 --symbol SYM0001 "
	                      "--from 2024-01-02 --to 2024-01-03"), 0));
	cr_assert(same_files("e1s", "e4"));
	/* and generating again into the same store changes nothing */
	cr_assert(eq(int, run(NULL, "err", g, "g1", 42), 0));
	cr_assert(strstr(get_file("err"), "(0 new, 0 replaced,") != NULL);
}

Test(tools, gen_follows_the_calendar)
{
	/* 2024-07-04 is a holiday, 2024-07-03 an early close (13:00 New York) */
	cr_assert(eq(int, run(NULL, NULL, "gen --db g --symbols 1 --from 2024-07-03 "
	                      "--to 2024-07-05 --missing-rate 0"), 0));
	cr_assert(eq(int, run("o", NULL, "export --db g --from 2024-07-03 "
	                      "--to 2024-07-05"), 0));
	const char *s = get_file("o");
	cr_assert(strstr(s, "2024-07-04") == NULL);
	cr_assert(strstr(s, "2024-07-03T16:59:00Z") != NULL);
	cr_assert(strstr(s, "2024-07-03T17:00:00Z") == NULL);
	cr_assert(strstr(s, "2024-07-05T13:30:00Z") != NULL);
	cr_assert(strstr(s, "2024-07-05T19:59:00Z") != NULL);
}

Test(tools, import_reads_polygon_nanoseconds_and_rejects_unstorable_rows)
{
	put_file("in.csv", "ticker,volume,open,close,high,low,window_start,transactions\n"
	         "AAA,100,10,10.5,11,9,1704205800000000000,7\n"
	         "AAA,100,10,10.5,11,9,-60000000000,7\n"
	         "AAA,100,10,10.5,11,9,1704205860500000000,7\n");
	cr_assert(eq(int, run(NULL, "err", "import --db db in.csv"), 2));
	starts(get_file("err"),
	       "barbus-import: note: trades and vwap are validated but not "
	       "stored (the bar record has no room for them)\n"
	       "in.csv:3: timestamp \"-60000000000\" outside 1970-01-01 to "
	       "9999-12-31: the store cannot hold it\n"
	       "in.csv:4: timestamp has a fraction of a second "
	       "\"1704205860500000000\": bars are whole minutes\n"
	       "barbus-import: 3 rows read, 1 stored (1 new, ");
	cr_assert(eq(int, run("out", NULL, "export --db db --from 2024-01-02 "
	                      "--to 2024-01-02"), 0));
	cr_assert(eq(str, get_file("out"), HDR
	             "AAA,2024-01-02T14:30:00Z,10,11,9,10.5,100\n"));
}

Test(tools, import_time_unit_option)
{
	put_file("in.csv", HDR "AAA,1704205800,10,11,9,10.5,100\n"
	         "AAA,253402300800,10,11,9,10.5,100\n");
	cr_assert(eq(int, run(NULL, "err", "import --db db --time-unit s in.csv"), 2));
	starts(get_file("err"), "in.csv:3: timestamp \"253402300800\" outside "
	       "1970-01-01 to 9999-12-31: the store cannot hold it\n");
	put_file("ms.csv", HDR "AAA,1704205860000,10,11,9,10.5,100\n");
	cr_assert(eq(int, run(NULL, "err", "import --db db --time-unit ms ms.csv"), 0));
	cr_assert(eq(int, run(NULL, "err", "import --db db --time-unit us ms.csv"), 2));
	starts(get_file("err"), "ms.csv:2: timestamp has a fraction of a second "
	       "\"1704205860000\": bars are whole minutes\n");
	cr_assert(eq(int, run(NULL, "err", "import --db db --time-unit sec ms.csv"), 2));
	starts(get_file("err"), "barbus-import: --time-unit: 'sec': want s, ms, us, "
	       "ns or auto\n");
	cr_assert(eq(int, run("out", NULL, "export --db db --from 2024-01-02 "
	                      "--to 2024-01-02"), 0));
	cr_assert(eq(str, get_file("out"), HDR
	             "AAA,2024-01-02T14:30:00Z,10,11,9,10.5,100\n"
	             "AAA,2024-01-02T14:31:00Z,10,11,9,10.5,100\n"));
}

Test(tools, import_into_a_full_store_names_the_store)
{
	char row[128], path[128], cmd[CMD_MAX];
	struct stat sb;

	put_file("a.csv", HDR "AAA,2024-01-02T14:30:00Z,10,11,9,10.5,100\n");
	cr_assert(eq(int, run(NULL, NULL, "import --db db a.csv"), 0));
	snprintf(path, sizeof(path), "%s/big.csv", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(HDR, f);
	for (int i = 1; i <= 20000; i++) {
		snprintf(row, sizeof(row), "AAA,%d,10,11,9,10.5,%d\n",
		         1704205800 + 60 * i, i);
		fputs(row, f);
	}
	fclose(f);
	snprintf(path, sizeof(path), "%s/db/data.mdb", dir);
	cr_assert(eq(int, stat(path, &sb), 0));
	/* A file size limit (512-byte blocks in dash) just above the store,
	 * SIGXFSZ ignored: the disk is full as far as the import can tell. */
	snprintf(cmd, sizeof(cmd), "cd %s && ulimit -f %lld && trap '' XFSZ && "
	         "%s/barbus-import --db db big.csv 2>err", dir,
	         (long long)(sb.st_size / 512 + 4), bin);
	int st = system(cmd);
	int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	cr_assert(eq(int, code, 1), "%s", get_file("err"));
	starts(get_file("err"), "barbus-import: big.csv: storing into db: bar "
	       "store is full (map size or disk)\n");
	cr_assert(eq(int, run("out", NULL, "export --db db --from 2024-01-02 "
	                      "--to 2024-01-03"), 0));
	cr_assert(eq(str, get_file("out"), HDR
	             "AAA,2024-01-02T14:30:00Z,10,11,9,10.5,100\n"));
}
