/* upkeep_reader_fuzz_test.c: behaviours of the upkeep's reader first broken
 * by tests/fuzz/seg.c; each input that found one is in tests/fuzz/seg/. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "barbus.h"
#include "control.h"

static char bus[40];
static bb_table_writer *w[4];
static const char *const roles[] = {
	"up.status", "up.quality", "up.fills", "up.fills.h",
};

static void setup(void)
{
	snprintf(bus, sizeof(bus), "t-upfuzz-%d", (int)getpid());
}

static void teardown(void)
{
	char name[96];

	for (int i = 0; i < 4; i++) {
		bb_table_writer_close(w[i]);
		w[i] = NULL;
		snprintf(name, sizeof(name), "/barbus.%s.%s", bus, roles[i]);
		shm_unlink(name);
	}
}

TestSuite(upkeep_reader_fuzz, .init = setup, .fini = teardown, .timeout = 10);

/* The upkeep's tables, one symbol, nblocks history blocks each holding a
 * finished session; no derived intervals. */
static void upkeep_with_blocks(uint32_t nblocks)
{
	bb_seg_opts o = { .mode = 0600 };
	bb_bar rec = { 0 };
	struct bb__block blk = { .session = 1 };

	cr_assert(eq(int, bb_table_writer_open(&w[0], bus, roles[0],
	                                       2 + nblocks, 1, &o), 0));
	cr_assert(eq(int, bb_table_writer_open(&w[1], bus, roles[1], 1, 1, &o), 0));
	cr_assert(eq(int, bb_table_writer_open(&w[2], bus, roles[2], 1, 1, &o), 0));
	cr_assert(eq(int, bb_table_writer_open(&w[3], bus, roles[3], nblocks,
	                                       1, &o), 0));
	cr_assert(eq(int, bb_table_append(w[0], 0, &rec), 0));
	cr_assert(eq(int, bb_table_append(w[0], 1, &rec), 0)); /* no interval */
	for (uint32_t k = 0; k < nblocks; k++) {
		blk.date = 20240101 + (int32_t)k;
		memcpy(&rec, &blk, sizeof(rec));
		cr_assert(eq(int, bb_table_append(w[0], 2 + k, &rec), 0));
	}
}

/* seg/upkeep-status-too-many-blocks: bb_bars_history() sorted the finished
 * blocks' dates into an array of BB_CTL_MAX_BLOCKS on the stack, and an
 * up.status of more blocks wrote past it. */
Test(upkeep_reader_fuzz, more_history_blocks_than_the_upkeep_writes_is_refused)
{
	bb_upkeep *u = NULL;

	upkeep_with_blocks(BB_CTL_MAX_BLOCKS + 1);
	cr_assert(eq(int, bb_upkeep_open(&u, bus), BB_EGEOMETRY));
	cr_assert(u == NULL);
}

Test(upkeep_reader_fuzz, as_many_history_blocks_as_the_upkeep_writes_open)
{
	bb_upkeep *u = NULL;

	upkeep_with_blocks(BB_CTL_MAX_BLOCKS);
	cr_assert(eq(int, bb_upkeep_open(&u, bus), 0));
	cr_assert(eq(u32, bb_upkeep_history_days(u), BB_CTL_MAX_BLOCKS - 1));
	bb_upkeep_close(u);
}
