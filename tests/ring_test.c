/* ring_test.c: the broadcast ring, one behaviour per test. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <unistd.h>

#include "ring.h"
#include "wake.h"

static char bus[32];
static bb_ring_writer *w;
static bb_ring_reader *r;

static void setup(void)
{
	static int n;

	snprintf(bus, sizeof(bus), "t-ring-%d-%d", (int)getpid(), n++);
	w = NULL;
	r = NULL;
}

static void teardown(void)
{
	char name[BB_SEG_NAME_MAX];

	bb_ring_reader_close(r);
	bb_ring_writer_close(w);
	bb__seg_name(name, sizeof(name), bus, "ring");
	shm_unlink(name);
}

TestSuite(ring, .init = setup, .fini = teardown, .timeout = 10);

static bb_bar bar(uint64_t i)
{
	return (bb_bar){
		.symbol = (uint32_t)(i % 7), .flags = BB_KIND_FLAGS(BB_KIND_USER),
		.time = (int64_t)i * 60, .open = (double)i, .high = i + 0.5,
		.low = i - 0.5, .close = i + 0.25, .volume = (double)(i * 3),
	};
}

static void open_both(uint64_t cap, int wait, unsigned flags)
{
	bb_seg_opts o = { .capacity = cap, .heartbeat_ms = 20 };

	cr_assert(eq(int, bb_ring_writer_open(&w, bus, &o), 0));
	cr_assert(eq(int, bb_ring_reader_open(&r, bus, wait, flags), 0));
}

static void put_range(uint64_t from, uint64_t to)
{
	for (uint64_t i = from; i < to; i++) {
		bb_bar b = bar(i);
		bb_ring_put(w, &b);
	}
}

Test(ring, empty_ring_reads_nothing)
{
	bb_bar b;

	open_both(16, BB_WAIT_SPIN, 0);
	cr_assert(eq(int, bb_ring_read(r, &b, NULL), BB_EEMPTY));
}

Test(ring, record_arrives_intact)
{
	bb_bar got, want = bar(5);

	open_both(16, BB_WAIT_SPIN, 0);
	bb_ring_put(w, &want);
	cr_assert(eq(int, bb_ring_read(r, &got, NULL), 0));
	cr_assert(eq(int, memcmp(&got, &want, sizeof(got)), 0));
	cr_assert(eq(int, bb_ring_read(r, &got, NULL), BB_EEMPTY));
}

Test(ring, reader_starts_at_the_next_record)
{
	bb_bar b;
	bb_seg_opts o = { .capacity = 16 };

	cr_assert(eq(int, bb_ring_writer_open(&w, bus, &o), 0));
	put_range(0, 3);
	cr_assert(eq(int, bb_ring_reader_open(&r, bus, BB_WAIT_SPIN, 0), 0));
	put_range(3, 4);
	cr_assert(eq(int, bb_ring_read(r, &b, NULL), 0));
	cr_assert(eq(i64, b.time, 3 * 60));
}

Test(ring, from_oldest_starts_at_the_oldest_intact_record)
{
	bb_bar b;
	bb_seg_opts o = { .capacity = 16 };

	cr_assert(eq(int, bb_ring_writer_open(&w, bus, &o), 0));
	put_range(0, 40);
	cr_assert(eq(int, bb_ring_reader_open(&r, bus, BB_WAIT_SPIN,
	                                      BB_RING_FROM_OLDEST), 0));
	cr_assert(eq(int, bb_ring_read(r, &b, NULL), 0));
	cr_assert(eq(i64, b.time, 25 * 60)); /* 40 - 16 + 1 */
}

Test(ring, records_come_in_order)
{
	bb_bar b;

	open_both(64, BB_WAIT_SPIN, 0);
	put_range(0, 50);
	for (uint64_t i = 0; i < 50; i++) {
		cr_assert(eq(int, bb_ring_read(r, &b, NULL), 0));
		cr_assert(eq(i64, b.time, (int64_t)i * 60));
	}
}

Test(ring, lapped_reader_is_told_the_exact_loss)
{
	bb_bar b;
	uint64_t lost = 0;

	open_both(16, BB_WAIT_SPIN, 0);
	put_range(0, 40);
	cr_assert(eq(int, bb_ring_read(r, &b, &lost), BB_ELAPPED));
	cr_assert(eq(u64, lost, 25)); /* positions 0..24 are gone */
	cr_assert(eq(int, bb_ring_read(r, &b, NULL), 0));
	cr_assert(eq(i64, b.time, 25 * 60));
}

Test(ring, lapped_reader_then_reads_every_intact_record)
{
	bb_bar b;
	uint64_t lost = 0, got = 0;

	open_both(16, BB_WAIT_SPIN, 0);
	put_range(0, 40);
	cr_assert(eq(int, bb_ring_read(r, &b, &lost), BB_ELAPPED));
	while (bb_ring_read(r, &b, NULL) == 0)
		got++;
	cr_assert(eq(u64, lost + got, 40));
	cr_assert(eq(u64, bb_ring_reader_seq(r), 40));
}

static struct bb__slot *raw_slots(struct bb__seg *s)
{
	cr_assert(eq(int, bb__seg_reader_open(s, bus, "ring", BB_ROLE_RING,
	                                      BB__SEG_RW), 0));
	return bb__ring_slots(s);
}

Test(ring, half_written_slot_is_never_delivered)
{
	struct bb__seg raw;
	bb_bar b;

	open_both(16, BB_WAIT_SPIN, 0);
	put_range(0, 1);
	/* As if the writer died between marking slot 1 busy and publishing. */
	atomic_store(&raw_slots(&raw)[1].seq, bb__seq_busy(1));
	cr_assert(eq(int, bb_ring_read(r, &b, NULL), 0));
	cr_assert(eq(int, bb_ring_read(r, &b, NULL), BB_EEMPTY));
	bb__seg_reader_close(&raw);
}

Test(ring, restarted_writer_rewrites_the_half_written_slot)
{
	struct bb__seg raw;
	bb_bar b;
	bb_seg_opts o = { .capacity = 16 };

	open_both(16, BB_WAIT_SPIN, 0);
	put_range(0, 1);
	cr_assert(eq(int, bb_ring_read(r, &b, NULL), 0));
	struct bb__slot *s = raw_slots(&raw);
	atomic_store(&s[1].seq, bb__seq_busy(1));
	atomic_store(&s[1].w[0], 0xdeadbeef); /* garbage half record */
	bb_ring_writer_close(w);
	cr_assert(eq(int, bb_ring_writer_open(&w, bus, &o), 0));
	cr_assert(eq(u64, bb_ring_writer_seq(w), 1));
	put_range(1, 2);
	cr_assert(eq(int, bb_ring_read(r, &b, NULL), 0));
	bb_bar want = bar(1);
	cr_assert(eq(int, memcmp(&b, &want, sizeof(b)), 0));
	bb__seg_reader_close(&raw);
}

Test(ring, restarted_writer_continues_the_sequence_under_a_new_epoch)
{
	bb_bar b;
	bb_seg_opts o = { .capacity = 16 };

	open_both(16, BB_WAIT_SPIN, 0);
	cr_assert(eq(u64, bb_ring_epoch(r), 1));
	put_range(0, 5);
	bb_ring_writer_close(w);
	cr_assert(eq(int, bb_ring_writer_open(&w, bus, &o), 0));
	cr_assert(eq(u64, bb_ring_epoch(r), 2));
	cr_assert(eq(u64, bb_ring_writer_seq(w), 5));
	put_range(5, 8);
	for (int64_t i = 0; i < 8; i++) {
		cr_assert(eq(int, bb_ring_read(r, &b, NULL), 0));
		cr_assert(eq(i64, b.time, i * 60));
	}
}

Test(ring, head_lagging_a_published_slot_is_recovered)
{
	struct bb__seg raw;
	bb_seg_opts o = { .capacity = 16 };

	open_both(16, BB_WAIT_SPIN, 0);
	put_range(0, 3);
	raw_slots(&raw);
	/* As if the writer died after publishing slot 2 but before head. */
	atomic_store(&bb__ring_ctl(&raw)->head, 2);
	bb_ring_writer_close(w);
	cr_assert(eq(int, bb_ring_writer_open(&w, bus, &o), 0));
	cr_assert(eq(u64, bb_ring_writer_seq(w), 3));
	bb__seg_reader_close(&raw);
}

Test(ring, other_capacity_replaces_a_dead_writers_ring)
{
	bb_seg_opts o = { .capacity = 32 };

	open_both(16, BB_WAIT_SPIN, 0);
	bb_ring_writer_close(w);
	cr_assert(eq(int, bb_ring_writer_open(&w, bus, &o), 0));
	cr_assert(eq(u64, bb_ring_writer_seq(w), 0));
}

Test(ring, capacity_must_be_a_power_of_two)
{
	bb_seg_opts o = { .capacity = 24 };

	cr_assert(eq(int, bb_ring_writer_open(&w, bus, &o), BB_EINVAL));
}

Test(ring, reader_rejects_impossible_geometry)
{
	struct bb__seg s;
	struct bb__seg_spec sp = {
		.role_name = "ring", .role = BB_ROLE_RING,
		.geom = { 24, 64, 56 }, .total_len = bb__ring_bytes(24),
		.mode = 0640, .heartbeat_ms = 100,
	};
	int how;

	cr_assert(eq(int, bb__seg_writer_open(&s, bus, &sp, &how), 0));
	bb__seg_publish(&s);
	cr_assert(eq(int, bb_ring_reader_open(&r, bus, BB_WAIT_SPIN, 0),
	             BB_EGEOMETRY));
	bb__seg_writer_close(&s);
}

Test(ring, reader_rejects_unknown_wait_strategy)
{
	cr_assert(eq(int, bb_ring_reader_open(&r, bus, 7, 0), BB_EINVAL));
}

Test(ring, invalid_bus_name_is_refused)
{
	cr_assert(eq(int, bb_ring_writer_open(&w, "no/slash", NULL), BB_ENAME));
}

Test(ring, wait_times_out)
{
	bb_bar b;

	open_both(16, BB_WAIT_YIELD, 0);
	cr_assert(eq(int, bb_ring_wait(r, &b, NULL, 2000000), BB_ETIMEDOUT));
}

Test(ring, wait_reports_a_dead_writer)
{
	bb_bar b;

	open_both(16, BB_WAIT_BLOCK, 0);
	bb_ring_writer_close(w);
	w = NULL;
	cr_assert(eq(int, bb_ring_wait(r, &b, NULL, -1), BB_ENOWRITER));
}

Test(ring, writer_state_is_dead_after_close)
{
	open_both(16, BB_WAIT_SPIN, 0);
	cr_assert(eq(int, bb_ring_writer_state(r, NULL), BB_WRITER_ALIVE));
	bb_ring_writer_close(w);
	w = NULL;
	cr_assert(eq(int, bb_ring_writer_state(r, NULL), BB_WRITER_DEAD));
}

/* The wake word as a reader attaches it: the id the ring records. */
static _Atomic uint32_t *raw_word(void)
{
	struct bb__seg raw;
	_Atomic uint32_t *word = NULL;

	cr_assert(eq(int, bb__seg_reader_open(&raw, bus, "ring", BB_ROLE_RING,
	                                      0), 0));
	int id = bb__ring_wake_id(bb__ring_ctl(&raw));
	bb__seg_reader_close(&raw);
	cr_assert(id >= 0);
	cr_assert(eq(int, bb__wake_reader_attach(id, &word), 0));
	return word;
}

Test(ring, put_without_sleepers_leaves_the_wake_word_alone)
{
	open_both(16, BB_WAIT_SPIN, 0);
	_Atomic uint32_t *word = raw_word();
	uint32_t before = atomic_load(word);
	put_range(0, 100);
	cr_assert(eq(u32, atomic_load(word), before));
	bb__wake_detach(word);
}

Test(ring, put_with_a_sleeper_clears_the_bit_and_counts_a_wake)
{
	open_both(16, BB_WAIT_SPIN, 0);
	_Atomic uint32_t *word = raw_word();
	uint32_t before = atomic_load(word);
	atomic_fetch_or(word, BB_WAKE_WAITERS);
	put_range(0, 2);
	cr_assert(eq(u32, atomic_load(word), before + 2));
	bb__wake_detach(word);
}

Test(ring, a_restarted_writer_keeps_the_wake_word_its_sleepers_hold)
{
	open_both(16, BB_WAIT_BLOCK, 0);
	_Atomic uint32_t *word = raw_word();
	bb_ring_writer_close(w);
	bb_seg_opts o = { .capacity = 16, .heartbeat_ms = 20 };
	cr_assert(eq(int, bb_ring_writer_open(&w, bus, &o), 0));
	atomic_fetch_or(word, BB_WAKE_WAITERS);
	uint32_t before = atomic_load(word);
	put_range(0, 1);
	/* The new writer saw this reader's bit: same word, one wake. */
	cr_assert(eq(u32, atomic_load(word), (before & ~BB_WAKE_WAITERS) + 2));
	bb__wake_detach(word);
}

Test(ring, the_wake_word_cannot_be_resized_or_removed_by_a_reader)
{
	struct shmid_ds ds;

	open_both(16, BB_WAIT_BLOCK, 0);
	_Atomic uint32_t *word = raw_word();
	struct bb__seg raw;
	cr_assert(eq(int, bb__seg_reader_open(&raw, bus, "ring", BB_ROLE_RING,
	                                      0), 0));
	int id = bb__ring_wake_id(bb__ring_ctl(&raw));
	bb__seg_reader_close(&raw);
	cr_assert(eq(int, shmctl(id, IPC_STAT, &ds), 0));
	cr_assert(eq(u64, (uint64_t)ds.shm_segsz, BB_WAKE_BYTES));
	/* Marked removed from the start: freed with its last user. */
	cr_assert(ne(int, ds.shm_perm.mode & SHM_DEST, 0));
	bb__wake_detach(word);
}

static void *late_put(void *arg)
{
	(void)arg;
	usleep(20000);
	put_range(0, 1);
	return NULL;
}

Test(ring, blocked_reader_is_woken_by_a_put)
{
	pthread_t t;
	bb_bar b;

	bb_seg_opts o = { .capacity = 16, .heartbeat_ms = 2000 };

	cr_assert(eq(int, bb_ring_writer_open(&w, bus, &o), 0));
	cr_assert(eq(int, bb_ring_reader_open(&r, bus, BB_WAIT_BLOCK, 0), 0));
	pthread_create(&t, NULL, late_put, NULL);
	int64_t t0 = bb__mono_ns();
	cr_assert(eq(int, bb_ring_wait(r, &b, NULL, 5000000000), 0));
	/* Woken by the put at 20 ms, not by the 2 s heartbeat timeout. */
	cr_assert(lt(i64, bb__mono_ns() - t0, 500000000));
	cr_assert(eq(i64, b.time, 0));
	pthread_join(t, NULL);
}

static void *late_close(void *arg)
{
	(void)arg;
	usleep(20000);
	bb_ring_writer_close(w);
	w = NULL;
	return NULL;
}

Test(ring, a_clean_close_tells_a_sleeper_at_once)
{
	pthread_t t;
	bb_bar b;
	bb_seg_opts o = { .capacity = 16, .heartbeat_ms = 2000 };

	cr_assert(eq(int, bb_ring_writer_open(&w, bus, &o), 0));
	cr_assert(eq(int, bb_ring_reader_open(&r, bus, BB_WAIT_BLOCK, 0), 0));
	pthread_create(&t, NULL, late_close, NULL);
	int64_t t0 = bb__mono_ns();
	cr_assert(eq(int, bb_ring_wait(r, &b, NULL, 5000000000), BB_ENOWRITER));
	/* Before: the sleeper went back to sleep until its next probe, one
	 * or two heartbeats (2-4 s) after the close. */
	cr_assert(lt(i64, bb__mono_ns() - t0, 300000000));
	pthread_join(t, NULL);
}

/* Overwrite the ring's body (control line and slots) with byte v. */
static void scribble_body(int v, int keep_head)
{
	char name[BB_SEG_NAME_MAX], path[BB_SEG_PATH_MAX];

	bb__seg_name(name, sizeof(name), bus, "ring");
	bb__seg_path(path, sizeof(path), name);
	int fd = open(path, O_RDWR);
	cr_assert(fd >= 0);
	size_t len = bb__ring_bytes(16);
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	cr_assert(p != MAP_FAILED);
	size_t from = BB_SEG_HDR_LEN + (keep_head ? 64 : 0);
	memset(p + from, v, len - from);
	munmap(p, len);
	close(fd);
}

Test(ring, a_dead_writers_ring_of_0xff_is_an_error_at_open)
{
	bb_ring_reader *r2;

	open_both(16, BB_WAIT_BLOCK, 0);
	put_range(0, 40);
	bb_ring_writer_close(w);
	w = NULL;
	scribble_body(0xff, 0);
	cr_assert(eq(int, bb_ring_reader_open(&r2, bus, BB_WAIT_BLOCK,
	                                      BB_RING_FROM_OLDEST), BB_ECORRUPT));
}

Test(ring, slots_of_0xff_end_a_reader_with_an_error_not_endless_laps)
{
	bb_bar b;
	int rc = 0;

	open_both(16, BB_WAIT_BLOCK, BB_RING_FROM_OLDEST);
	put_range(0, 40);
	bb_ring_writer_close(w);
	w = NULL;
	scribble_body(0xff, 1);
	/* Before: BB_ELAPPED on every call, forever. */
	for (int i = 0; i < 100 && (rc == 0 || rc == BB_ELAPPED); i++)
		rc = bb_ring_wait(r, &b, NULL, 1000000000);
	cr_assert(eq(int, rc, BB_ECORRUPT));
}

Test(ring, a_restarted_writer_replaces_a_ring_with_an_impossible_head)
{
	bb_seg_opts o = { .capacity = 16, .heartbeat_ms = 20 };

	open_both(16, BB_WAIT_SPIN, 0);
	bb_ring_writer_close(w);
	scribble_body(0xff, 0);
	cr_assert(eq(int, bb_ring_writer_open(&w, bus, &o), 0));
	cr_assert(eq(int, bb_ring_writer_replaced(w), 1));
	cr_assert(eq(u64, bb_ring_writer_seq(w), 0));
}

static int data_arrived(void *arg)
{
	(void)arg;
	return 1; /* a put landed between the caller's check and its CAS */
}

Test(ring, a_put_between_the_last_check_and_the_announcement_is_not_slept_through)
{
	_Atomic uint32_t word = 0;

	int64_t t0 = bb__mono_ns();
	/* Nobody will ever wake this word: only the re-check after the
	 * announcement keeps the sleeper from waiting the whole 5 s. */
	cr_assert(eq(int, bb__wake_wait(&word, data_arrived, NULL,
	                                5000000000), 0));
	cr_assert(lt(i64, bb__mono_ns() - t0, 50000000));
	cr_assert(eq(u32, atomic_load(&word), BB_WAKE_WAITERS));
}

/* The head readers see, from the segment itself. */
static uint64_t shared_head(void)
{
	struct bb__seg raw;

	cr_assert(eq(int, bb__seg_reader_open(&raw, bus, "ring", BB_ROLE_RING,
	                                      0), 0));
	uint64_t h = atomic_load(&bb__ring_ctl(&raw)->head);
	bb__seg_reader_close(&raw);
	return h;
}

Test(ring, written_records_are_read_before_the_head_is_published)
{
	bb_bar b = bar(1), got;

	open_both(16, BB_WAIT_SPIN, 0);
	bb__ring_write(w, &b);
	bb__ring_write(w, &b);
	cr_assert(eq(u64, shared_head(), 0));
	cr_assert(eq(int, bb_ring_read(r, &got, NULL), 0));
	cr_assert(eq(int, memcmp(&got, &b, sizeof(b)), 0));
	bb__ring_publish(w);
	cr_assert(eq(u64, shared_head(), 2));
}

Test(ring, a_sleeper_is_woken_once_by_a_publish_not_by_each_write)
{
	bb_bar b = bar(1);

	open_both(16, BB_WAIT_SPIN, 0);
	_Atomic uint32_t *word = raw_word();
	uint32_t before = atomic_load(word);
	atomic_fetch_or(word, BB_WAKE_WAITERS);
	for (int i = 0; i < 5; i++)
		bb__ring_write(w, &b);
	cr_assert(eq(u32, atomic_load(word), before | BB_WAKE_WAITERS));
	bb__ring_publish(w);
	cr_assert(eq(u32, atomic_load(word), before + 2));
	bb__wake_detach(word);
}

Test(ring, writes_publish_the_head_before_it_lags_half_the_capacity)
{
	bb_bar b = bar(1);

	open_both(16, BB_WAIT_SPIN, 0);
	for (int i = 0; i < 9; i++)
		bb__ring_write(w, &b);
	cr_assert(eq(u64, shared_head(), 8)); /* 8 - 0 > 15 / 2 */
}

Test(ring, a_reader_lapped_behind_an_unpublished_head_counts_each_loss_once)
{
	bb_bar got;
	uint64_t lost, total = 0;
	int rc;

	open_both(16, BB_WAIT_SPIN, 0);
	for (uint64_t i = 0; i < 19; i++) {
		bb_bar b = bar(i);
		bb__ring_write(w, &b); /* head published at 8 and 16 only */
	}
	cr_assert(eq(u64, shared_head(), 16));
	while ((rc = bb_ring_read(r, &got, &lost)) == BB_ELAPPED)
		total += lost;
	cr_assert(eq(int, rc, 0));
	cr_assert(eq(u64, total, 3)); /* positions 0, 1, 2 */
	cr_assert(eq(i64, got.time, 3 * 60));
}
