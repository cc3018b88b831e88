/* ring_batch_test.c: bb_ring_read_n() and bb_ring_wait_n(), many ring
 * records in one call, one behaviour per test. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "barbus.h"

static char bus[32];
static bb_ring_writer *w;
static bb_ring_reader *r;

static void setup(void)
{
	static int n;
	bb_seg_opts o = { .capacity = 1024, .heartbeat_ms = 20 };

	snprintf(bus, sizeof(bus), "t-rbatch-%d-%d", (int)getpid(), n++);
	cr_assert(eq(int, bb_ring_writer_open(&w, bus, &o), 0));
	cr_assert(eq(int, bb_ring_reader_open(&r, bus, BB_WAIT_BLOCK, 0), 0));
}

static void teardown(void)
{
	char name[96];

	bb_ring_reader_close(r);
	bb_ring_writer_close(w);
	snprintf(name, sizeof(name), "/barbus.%s.ring", bus);
	shm_unlink(name);
	snprintf(name, sizeof(name), "/barbus.%s.wake", bus);
	shm_unlink(name);
}

TestSuite(ring_batch, .init = setup, .fini = teardown, .timeout = 10);

static void put_range(uint64_t from, uint64_t to)
{
	for (uint64_t i = from; i < to; i++) {
		bb_bar b = { .symbol = (uint32_t)i,
		             .flags = BB_KIND_FLAGS(BB_KIND_USER),
		             .time = (int64_t)i * 60, .close = (double)i };
		bb_ring_put(w, &b);
	}
}

Test(ring_batch, reads_up_to_max_in_order)
{
	bb_bar out[8];
	size_t got = 99;

	put_range(0, 10);
	cr_assert(eq(int, bb_ring_read_n(r, out, 4, &got, NULL), 0));
	cr_assert(eq(sz, got, 4));
	for (uint32_t i = 0; i < 4; i++)
		cr_assert(eq(u32, out[i].symbol, i));
	cr_assert(eq(int, bb_ring_read_n(r, out, 8, &got, NULL), 0));
	cr_assert(eq(sz, got, 6));
	cr_assert(eq(u32, out[0].symbol, 4));
	cr_assert(eq(u32, out[5].symbol, 9));
}

Test(ring_batch, empty_ring_is_zero_records)
{
	bb_bar out[4];
	size_t got = 99;

	cr_assert(eq(int, bb_ring_read_n(r, out, 4, &got, NULL), 0));
	cr_assert(eq(sz, got, 0));
}

Test(ring_batch, lapped_counts_exactly_and_goes_on)
{
	bb_bar out[2048];
	size_t got = 99;
	uint64_t lost = 0;

	put_range(0, 3000); /* capacity 1024: 0 .. 3000 - 1024 overwritten */
	cr_assert(eq(int, bb_ring_read_n(r, out, 2048, &got, &lost), BB_ELAPPED));
	cr_assert(eq(sz, got, 0));
	cr_assert(eq(u64, lost, 3000 - 1023));
	cr_assert(eq(int, bb_ring_read_n(r, out, 2048, &got, &lost), 0));
	cr_assert(eq(sz, got, 1023));
	cr_assert(eq(u32, out[0].symbol, 3000 - 1023));
	cr_assert(eq(u32, out[got - 1].symbol, 2999));
}

Test(ring_batch, wait_n_times_out_then_returns_what_came)
{
	bb_bar out[16];
	size_t got = 99;

	cr_assert(eq(int, bb_ring_wait_n(r, out, 16, &got, NULL, 20000000),
	             BB_ETIMEDOUT));
	cr_assert(eq(sz, got, 0));
	put_range(0, 5);
	cr_assert(eq(int, bb_ring_wait_n(r, out, 16, &got, NULL, 20000000), 0));
	cr_assert(eq(sz, got, 5));
	cr_assert(eq(u32, out[4].symbol, 4));
}

Test(ring_batch, bad_arguments_are_einval)
{
	bb_bar out[1];
	size_t got;

	cr_assert(eq(int, bb_ring_read_n(r, NULL, 1, &got, NULL), BB_EINVAL));
	cr_assert(eq(int, bb_ring_read_n(r, out, 1, NULL, NULL), BB_EINVAL));
	cr_assert(eq(int, bb_ring_wait_n(r, out, 0, &got, NULL, 0), BB_EINVAL));
}
