/* seg_test.c: segment header validation, names, creation, liveness. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seg.h"

static struct bb__seg_hdr hdr;
static char bus[32];

static void setup(void)
{
	static int n;

	hdr = (struct bb__seg_hdr){
		.magic = BB_MAGIC, .role = BB_ROLE_RING,
		.total_len = sizeof(hdr), .hdr_len = BB_SEG_HDR_LEN,
	};
	atomic_init(&hdr.version, BB_LAYOUT_VERSION);
	snprintf(bus, sizeof(bus), "t-seg-%d-%d", (int)getpid(), n++);
}

static void unlink_bus(void)
{
	char name[BB_SEG_NAME_MAX];
	const char *roles[] = { "ring", "wake", "other" };

	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (bb__seg_name(name, sizeof(name), bus, roles[i]) == 0)
			shm_unlink(name);
}

TestSuite(seg, .init = setup, .fini = unlink_bus, .timeout = 10);

Test(seg, accepts_good_header)
{
	cr_assert(eq(int, bb__seg_hdr_check(&hdr, sizeof(hdr), BB_ROLE_RING), 0));
}

Test(seg, rejects_wrong_magic)
{
	hdr.magic ^= 1;
	cr_assert(eq(int, bb__seg_hdr_check(&hdr, sizeof(hdr), BB_ROLE_RING),
	             BB_EBADMAGIC));
}

Test(seg, rejects_other_version)
{
	atomic_store(&hdr.version, BB_LAYOUT_VERSION + 1);
	cr_assert(eq(int, bb__seg_hdr_check(&hdr, sizeof(hdr), BB_ROLE_RING),
	             BB_EVERSION));
}

Test(seg, unpublished_header_is_not_ready)
{
	atomic_store(&hdr.version, 0);
	cr_assert(eq(int, bb__seg_hdr_check(&hdr, sizeof(hdr), BB_ROLE_RING),
	             BB_ENOTREADY));
}

Test(seg, empty_object_is_not_ready)
{
	cr_assert(eq(int, bb__seg_hdr_check(&hdr, 0, BB_ROLE_RING), BB_ENOTREADY));
}

Test(seg, mapping_shorter_than_header_is_truncated)
{
	cr_assert(eq(int, bb__seg_hdr_check(&hdr, sizeof(hdr) - 1, BB_ROLE_RING),
	             BB_ETRUNCATED));
}

Test(seg, total_len_beyond_mapping_is_truncated)
{
	hdr.total_len = sizeof(hdr) + 64;
	cr_assert(eq(int, bb__seg_hdr_check(&hdr, sizeof(hdr), BB_ROLE_RING),
	             BB_ETRUNCATED));
}

Test(seg, rejects_other_role)
{
	cr_assert(eq(int, bb__seg_hdr_check(&hdr, sizeof(hdr), BB_ROLE_WAKE),
	             BB_EROLE));
}

Test(seg, rejects_bad_header_length)
{
	hdr.hdr_len = 64;
	cr_assert(eq(int, bb__seg_hdr_check(&hdr, sizeof(hdr), BB_ROLE_RING),
	             BB_EGEOMETRY));
}

Test(seg, rejects_total_shorter_than_header)
{
	hdr.total_len = 8;
	cr_assert(eq(int, bb__seg_hdr_check(&hdr, sizeof(hdr), BB_ROLE_RING),
	             BB_EGEOMETRY));
}

Test(seg, bus_name_accepts_letters_digits_dash_underscore)
{
	cr_assert(eq(int, bb_bus_name_check("Ab-9_z"), 0));
}

Test(seg, bus_name_rejects_slash_dot_and_space)
{
	cr_assert(eq(int, bb_bus_name_check("a/b"), BB_ENAME));
	cr_assert(eq(int, bb_bus_name_check("a.b"), BB_ENAME));
	cr_assert(eq(int, bb_bus_name_check("a b"), BB_ENAME));
}

Test(seg, bus_name_length_limit_is_64)
{
	char name[66];

	memset(name, 'x', 64);
	name[64] = '\0';
	cr_assert(eq(int, bb_bus_name_check(name), 0));
	name[64] = 'x';
	name[65] = '\0';
	cr_assert(eq(int, bb_bus_name_check(name), BB_ENAME));
	cr_assert(eq(int, bb_bus_name_check(""), BB_ENAME));
	cr_assert(eq(int, bb_bus_name_check(NULL), BB_ENAME));
}

Test(seg, segment_name_is_barbus_bus_role)
{
	char name[BB_SEG_NAME_MAX];

	cr_assert(eq(int, bb__seg_name(name, sizeof(name), "live", "ring"), 0));
	cr_assert(eq(str, name, "/barbus.live.ring"));
	cr_assert(eq(int, bb__seg_name(name, sizeof(name), "li/ve", "ring"),
	             BB_ENAME));
}

static struct bb__seg_spec spec(uint64_t total)
{
	return (struct bb__seg_spec){
		.role_name = "other", .role = BB_ROLE_WAKE, .geom = { 7 },
		.total_len = total, .heartbeat_ms = 20, .mode = 0640,
	};
}

Test(seg, created_with_mode_0640_and_reserved_size)
{
	struct bb__seg s;
	struct bb__seg_spec sp = spec(4096);
	struct stat st;
	int how;

	umask(0);
	cr_assert(eq(int, bb__seg_writer_open(&s, bus, &sp, &how), 0));
	cr_assert(eq(int, how, BB_SEG_CREATED));
	cr_assert(eq(int, fstat(s.fd, &st), 0));
	cr_assert(eq(int, (int)(st.st_mode & 0777), 0640));
	cr_assert(eq(i64, (int64_t)st.st_size, 4096));
	bb__seg_writer_close(&s);
}

Test(seg, reader_of_unpublished_segment_gets_not_ready)
{
	struct bb__seg w, r;
	struct bb__seg_spec sp = spec(4096);
	int how;

	cr_assert(eq(int, bb__seg_writer_open(&w, bus, &sp, &how), 0));
	cr_assert(eq(int, bb__seg_reader_open(&r, bus, "other", BB_ROLE_WAKE, 0),
	             BB_ENOTREADY));
	bb__seg_publish(&w);
	cr_assert(eq(int, bb__seg_reader_open(&r, bus, "other", BB_ROLE_WAKE, 0), 0));
	bb__seg_reader_close(&r);
	bb__seg_writer_close(&w);
}

Test(seg, reader_of_missing_segment_gets_enoent)
{
	struct bb__seg r;

	cr_assert(eq(int, bb__seg_reader_open(&r, bus, "other", BB_ROLE_WAKE, 0),
	             ENOENT));
}

Test(seg, second_writer_is_refused_while_first_lives)
{
	struct bb__seg a, b;
	struct bb__seg_spec sp = spec(4096);
	int how;

	cr_assert(eq(int, bb__seg_writer_open(&a, bus, &sp, &how), 0));
	cr_assert(eq(int, bb__seg_writer_open(&b, bus, &sp, &how), BB_EBUSY));
	bb__seg_writer_close(&a);
	cr_assert(eq(int, bb__seg_writer_open(&b, bus, &sp, &how), 0));
	/* Never published: a creator died half-way, so it is made anew. */
	cr_assert(eq(int, how, BB_SEG_REPLACED));
	bb__seg_writer_close(&b);
}

Test(seg, reattach_keeps_body_and_bumps_epoch)
{
	struct bb__seg s;
	struct bb__seg_spec sp = spec(4096);
	int how;

	cr_assert(eq(int, bb__seg_writer_open(&s, bus, &sp, &how), 0));
	bb__seg_publish(&s);
	cr_assert(eq(u64, bb__seg_writer_start(&s), 1));
	((char *)s.hdr)[BB_SEG_HDR_LEN] = 42;
	bb__seg_writer_close(&s);
	cr_assert(eq(int, bb__seg_writer_open(&s, bus, &sp, &how), 0));
	cr_assert(eq(int, how, BB_SEG_ATTACHED));
	cr_assert(eq(int, ((char *)s.hdr)[BB_SEG_HDR_LEN], 42));
	cr_assert(eq(u64, bb__seg_writer_start(&s), 2));
	bb__seg_writer_close(&s);
}

Test(seg, leftover_of_other_geometry_is_replaced)
{
	struct bb__seg s;
	struct bb__seg_spec sp = spec(4096);
	int how;

	cr_assert(eq(int, bb__seg_writer_open(&s, bus, &sp, &how), 0));
	bb__seg_publish(&s);
	bb__seg_writer_close(&s);
	sp.geom[0] = 8;
	cr_assert(eq(int, bb__seg_writer_open(&s, bus, &sp, &how), 0));
	cr_assert(eq(int, how, BB_SEG_REPLACED));
	cr_assert(eq(u64, s.hdr->geom[0], 8));
	bb__seg_writer_close(&s);
}

Test(seg, leftover_of_other_size_is_refused_with_keep)
{
	struct bb__seg s;
	struct bb__seg_spec sp = spec(4096);
	int how;

	cr_assert(eq(int, bb__seg_writer_open(&s, bus, &sp, &how), 0));
	bb__seg_publish(&s);
	bb__seg_writer_close(&s);
	sp.total_len = 8192;
	sp.flags = BB_SEG_KEEP;
	cr_assert(eq(int, bb__seg_writer_open(&s, bus, &sp, &how), BB_EMISMATCH));
}

Test(seg, writer_state_follows_lock_and_heartbeat)
{
	struct bb__seg w, r;
	struct bb__seg_spec sp = spec(4096);
	pid_t pid = 0;
	int how;

	cr_assert(eq(int, bb__seg_writer_open(&w, bus, &sp, &how), 0));
	bb__seg_publish(&w);
	bb__seg_writer_start(&w);
	cr_assert(eq(int, bb__seg_reader_open(&r, bus, "other", BB_ROLE_WAKE, 0), 0));
	cr_assert(eq(int, bb__seg_writer_state(&r, &pid), BB_WRITER_ALIVE));
	cr_assert(eq(int, pid, getpid()));
	usleep(3 * 20000 + 20000); /* three heartbeats of 20 ms, and margin */
	cr_assert(eq(int, bb__seg_writer_state(&r, NULL), BB_WRITER_STUCK));
	bb__seg_beat(&w);
	cr_assert(eq(int, bb__seg_writer_state(&r, NULL), BB_WRITER_ALIVE));
	bb__seg_writer_close(&w);
	cr_assert(eq(int, bb__seg_writer_state(&r, NULL), BB_WRITER_DEAD));
	bb__seg_reader_close(&r);
}

Test(seg, reader_maps_read_only)
{
	struct bb__seg w, r;
	struct bb__seg_spec sp = spec(4096);
	int how;

	cr_assert(eq(int, bb__seg_writer_open(&w, bus, &sp, &how), 0));
	bb__seg_publish(&w);
	cr_assert(eq(int, bb__seg_reader_open(&r, bus, "other", BB_ROLE_WAKE, 0), 0));
	/* Asking the kernel to make the page writable must fail: the fd
	 * is O_RDONLY, so no reader bug can write the segment. */
	cr_assert(eq(int, mprotect(r.hdr, 4096, PROT_READ | PROT_WRITE), -1));
	cr_assert(eq(int, errno, EACCES));
	bb__seg_reader_close(&r);
	bb__seg_writer_close(&w);
}
