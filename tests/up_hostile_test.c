/* up_hostile_test.c: readers of a bus and of its upkeep (libshm/bus.c,
 * libshm/upkeep_reader.c, barbus-bars) given counts in shared memory that
 * no writer of ours makes: every loop bound and array index comes from
 * validated geometry, so they end with an error or a bounded answer. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../upkeep/upkeep.h"
#include "control.h"

#define ROWS 390

static char bus[40];
static bb_table_writer *w[8];
static size_t nw;
static struct bb__seg ctl;
static int have_ctl;

static void setup(void)
{
	static int n;

	snprintf(bus, sizeof(bus), "t-uphostile-%d-%d", (int)getpid(), n++);
}

static void teardown(void)
{
	static const char *const roles[] = { "up.status", "up.quality",
		"up.fills", "up.fills.h", "up.5m", "up.5m.h", "control",
		"bars.1m", "hist.0", "hist.1", "hist.2" };
	char name[128];

	for (size_t i = 0; i < nw; i++)
		bb_table_writer_close(w[i]);
	nw = 0;
	if (have_ctl)
		bb__seg_writer_close(&ctl);
	have_ctl = 0;
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		snprintf(name, sizeof(name), "/barbus.%s.%s", bus, roles[i]);
		shm_unlink(name);
	}
}

TestSuite(up_hostile, .init = setup, .fini = teardown, .timeout = 20);

static bb_table_writer *table(const char *role, uint32_t nsym, uint32_t rows)
{
	bb_seg_opts o = { 0 };

	cr_assert(eq(int, bb_table_writer_open(&w[nw], bus, role, nsym, rows,
	                                       &o), 0));
	return w[nw++];
}

/* up.* tables as an upkeep of 1 symbol with interval 5m and `blocks`
 * history blocks would make them (up.fills.h of hsyms symbols), every
 * block named (dates below the
 * session followed). */
static void upkeep_tables_h(uint32_t blocks, uint32_t hsyms)
{
	uint32_t list[BB_UPKEEP_MAX_INTERVALS] = { 5 };
	bb_upkeep_info info = { .date = 20240801, .state = BB_UPKEEP_IDLE };
	bb_bar rec;
	bb_table_writer *st = table("up.status", 2 + blocks, 1);

	table("up.quality", 1, 1);
	table("up.fills", 1, ROWS);
	table("up.fills.h", hsyms, ROWS);
	table("up.5m", 1, ROWS / 5);
	table("up.5m.h", blocks, ROWS / 5);
	memcpy(&rec, &info, sizeof(rec));
	cr_assert(eq(int, bb_table_append(st, 0, &rec), 0));
	memcpy(&rec, list, sizeof(rec));
	cr_assert(eq(int, bb_table_append(st, 1, &rec), 0));
	for (uint32_t k = 0; k < blocks; k++) {
		struct bb__block b = { .date = 20240101 + (int32_t)k };
		memcpy(&rec, &b, sizeof(rec));
		cr_assert(eq(int, bb_table_append(st, 2 + k, &rec), 0));
	}
}

static void upkeep_tables(uint32_t blocks)
{
	upkeep_tables_h(blocks, blocks);
}

Test(up_hostile, more_blocks_than_the_geometry_allows_is_egeometry)
{
	bb_upkeep *u = NULL;

	upkeep_tables(BB_CTL_MAX_BLOCKS + 6);
	cr_assert(eq(int, bb_upkeep_open(&u, bus), BB_EGEOMETRY));
	cr_assert(eq(ptr, u, NULL));
}

Test(up_hostile, as_many_blocks_as_allowed_reads_the_oldest)
{
	bb_upkeep *u = NULL;
	bb_bar out[4];
	size_t got = 9;
	int32_t date = 0;

	upkeep_tables(BB_CTL_MAX_BLOCKS);
	cr_assert(eq(int, bb_upkeep_open(&u, bus), 0));
	cr_assert(eq(int, bb_bars_history(NULL, u, BB_CTL_MAX_BLOCKS, 0, 5, out,
	                                  4, &got, &date), 0));
	cr_assert(eq(i32, date, 20240101));
	cr_assert(eq(sz, got, 0));
	cr_assert(eq(int, bb_bars_history(NULL, u, BB_CTL_MAX_BLOCKS + 1, 0, 5,
	                                  out, 4, &got, &date), BB_ENOTFOUND));
	bb_upkeep_close(u);
}

Test(up_hostile, a_history_table_of_another_size_is_egeometry)
{
	bb_upkeep *u = NULL;

	upkeep_tables_h(2, 3); /* 2 blocks of 1 symbol: 2 expected */
	cr_assert(eq(int, bb_upkeep_open(&u, bus), BB_EGEOMETRY));
}

/* A control segment with 2 history blocks (history 1), its tables, and a
 * status whose history count is absurd. */
static void bus_with_history_count(uint32_t history)
{
	struct bb__seg_spec spec = {
		.role_name = "control", .role = BB_ROLE_CONTROL,
		.geom = { 1, 2, ROWS, 0 }, .total_len = bb__ctl_bytes(1),
		.heartbeat_ms = 100, .mode = 0600,
	};
	int how;
	bb_status st = { .date = 20240801, .state = BB_STATE_OPEN,
	                 .open = 1722519000, .close = 1722519000 + ROWS * 60,
	                 .sessions = 4000000000u, .mode = BB_MODE_BACKTEST,
	                 .history = history };

	cr_assert(eq(int, bb__seg_writer_open(&ctl, bus, &spec, &how), 0));
	have_ctl = 1;
	bb__seg_publish(&ctl);
	bb__seg_writer_start(&ctl);
	struct bb__ctl *c = bb__ctl_body(&ctl);
	cr_assert(eq(int, bb__ctl_add_symbol(c, 1, "AAA"), 0));
	bb__ctl_set_status(c, &st);
	table("bars.1m", 1, ROWS);
	table("hist.0", 1, ROWS);
	table("hist.1", 1, ROWS);
}

Test(up_hostile, status_history_is_bounded_by_the_blocks)
{
	bb_bus *b;
	bb_status st;

	bus_with_history_count(4000000000u);
	cr_assert(eq(int, bb_bus_open(&b, bus), 0));
	cr_assert(eq(int, bb_bus_status(b, &st), 0));
	cr_assert(eq(u32, st.history, 1));
	bb_bus_close(b);
}

Test(up_hostile, bars_history_ends_on_an_absurd_history_count)
{
	char self[PATH_MAX], cmd[PATH_MAX + 128];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	cr_assert(gt(sz, (size_t)n, 0));
	self[n] = '\0';
	bus_with_history_count(4000000000u);
	/* barbus-bars of the same build: build[-X]/bin next to build[-X]/tests */
	snprintf(cmd, sizeof(cmd), "timeout 10 %s/../bin/barbus-bars --bus %s "
	         "--history >/dev/null", dirname(self), bus);
	int st = system(cmd);
	cr_assert(eq(int, WIFEXITED(st) ? 1 : 0, 1));
	cr_assert(eq(int, WEXITSTATUS(st), 0));
}
