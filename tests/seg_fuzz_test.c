/* seg_fuzz_test.c: segment behaviours first broken by tests/fuzz/seg.c;
 * each input that found one is kept in tests/fuzz/seg/ as well. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "seg.h"

static char name[64];

static void setup(void)
{
	snprintf(name, sizeof(name), "/barbus.t-segfuzz-%d.ring", (int)getpid());
}

static void teardown(void)
{
	shm_unlink(name);
}

TestSuite(seg_fuzz, .init = setup, .fini = teardown, .timeout = 10);

/* A locked segment whose heartbeat word is beat: the writer's state. */
static int state_with_beat(int64_t beat)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	struct bb__seg_hdr h = { .heartbeat_ms = 100 };
	int fd = shm_open(name, O_RDWR | O_CREAT, 0600);
	int writer = shm_open(name, O_RDWR, 0);

	cr_assert(fd >= 0 && writer >= 0);
	cr_assert(eq(int, fcntl(writer, F_OFD_SETLK, &fl), 0));
	atomic_init(&h.heartbeat_ns, beat);
	struct bb__seg s = { .hdr = &h, .len = sizeof(h), .fd = fd };
	int state = bb__seg_writer_state(&s, NULL);
	close(writer);
	close(fd);
	return state;
}

/* seg/writer-state-beat-overflow: now - INT64_MIN overflowed, and the
 * wrapped difference said a writer silent forever was alive. */
Test(seg_fuzz, heartbeat_far_in_the_past_is_stuck)
{
	cr_assert(eq(int, state_with_beat(INT64_MIN), BB_WRITER_STUCK));
}

Test(seg_fuzz, heartbeat_in_the_future_is_alive)
{
	cr_assert(eq(int, state_with_beat(INT64_MAX), BB_WRITER_ALIVE));
}

Test(seg_fuzz, fresh_heartbeat_is_alive)
{
	cr_assert(eq(int, state_with_beat(bb__mono_ns()), BB_WRITER_ALIVE));
}
