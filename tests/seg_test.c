/* seg_test.c: segment header validation, names, creation, liveness. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "control.h"
#include "seg.h"
#include "table.h"

static struct bb__seg_hdr hdr;
static char bus[32];

static void setup(void)
{
	static int n;

	hdr = (struct bb__seg_hdr){
		.magic = BB_MAGIC, .role = BB_ROLE_RING,
		.total_len = sizeof(hdr), .hdr_len = BB_SEG_HDR_LEN,
		.heartbeat_ms = 100,
	};
	atomic_init(&hdr.version, BB_LAYOUT_VERSION);
	snprintf(bus, sizeof(bus), "t-seg-%d-%d", (int)getpid(), n++);
}

static void unlink_bus(void)
{
	char name[BB_SEG_NAME_MAX];
	char path[BB_SEG_PATH_MAX];
	const char *roles[] = { "ring", "wake", "other" };

	bb_seg_notify_set(NULL, NULL);
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (bb__seg_name(name, sizeof(name), bus, roles[i]) == 0 &&
		    bb__seg_path(path, sizeof(path), name) == 0 &&
		    unlink(path) != 0 && errno == EISDIR)
			rmdir(path);
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

static void count_beat(void *n)
{
	(*(int *)n)++;
}

Test(seg, a_fresh_populated_segment_beats_every_4096_pages_it_stores_to)
{
	struct bb__seg s;
	long pg = sysconf(_SC_PAGESIZE);
	struct bb__seg_spec sp = spec((uint64_t)pg * (3 * BB__BEAT_PAGES + 5));
	int beats = 0, how;

	sp.flags = BB_SEG_POPULATE;
	sp.beat = (struct bb__beat){ .fn = count_beat, .ctx = &beats };
	cr_assert(eq(int, bb__seg_writer_open(&s, bus, &sp, &how), 0));
	cr_assert(eq(int, how, BB_SEG_CREATED));
	cr_assert(eq(int, beats, 3));
	bb__seg_publish(&s);
	bb__seg_writer_close(&s);
	/* Attached again: its pages are not stored to, nothing beats. */
	cr_assert(eq(int, bb__seg_writer_open(&s, bus, &sp, &how), 0));
	cr_assert(eq(int, how, BB_SEG_ATTACHED));
	cr_assert(eq(int, beats, 3));
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

Test(seg, zero_or_huge_heartbeat_is_impossible_geometry)
{
	hdr.heartbeat_ms = 0;
	cr_assert(eq(int, bb__seg_hdr_check(&hdr, sizeof(hdr), BB_ROLE_RING),
	             BB_EGEOMETRY));
	hdr.heartbeat_ms = BB_HEARTBEAT_MAX_MS + 1;
	cr_assert(eq(int, bb__seg_hdr_check(&hdr, sizeof(hdr), BB_ROLE_RING),
	             BB_EGEOMETRY));
}

/* The notify hook's lines, joined. */
static char notes[1024];
static void capture(void *arg, const char *line)
{
	(void)arg;
	strncat(notes, line, sizeof(notes) - strlen(notes) - 2);
	strcat(notes, "\n");
}

static void seg_path_of(char *path, const char *role)
{
	char name[BB_SEG_NAME_MAX];

	cr_assert(eq(int, bb__seg_name(name, sizeof(name), bus, role), 0));
	cr_assert(eq(int, bb__seg_path(path, BB_SEG_PATH_MAX, name), 0));
}

Test(seg, a_fifo_at_the_path_is_refused_without_blocking_a_reader)
{
	char path[BB_SEG_PATH_MAX];
	struct bb__seg r;

	seg_path_of(path, "other");
	cr_assert(eq(int, mkfifo(path, 0644), 0));
	/* Before: open() without O_NONBLOCK waited for a FIFO writer. */
	cr_assert(eq(int, bb__seg_reader_open(&r, bus, "other", BB_ROLE_WAKE, 0),
	             BB_EOWNER));
}

Test(seg, a_symlink_at_the_path_is_not_followed)
{
	char path[BB_SEG_PATH_MAX];
	struct bb__seg r;

	seg_path_of(path, "other");
	cr_assert(eq(int, symlink("/etc/passwd", path), 0));
	cr_assert(eq(int, bb__seg_reader_open(&r, bus, "other", BB_ROLE_WAKE, 0),
	             BB_EOWNER));
}

Test(seg, writer_replaces_a_directory_of_ours_and_says_so)
{
	char path[BB_SEG_PATH_MAX];
	struct bb__seg_spec sp = spec(4096);
	struct bb__seg s;
	int how;

	seg_path_of(path, "other");
	cr_assert(eq(int, mkdir(path, 0755), 0));
	notes[0] = '\0';
	bb_seg_notify_set(capture, NULL);
	cr_assert(eq(int, bb__seg_writer_open(&s, bus, &sp, &how), 0));
	cr_assert(eq(int, how, BB_SEG_REPLACED));
	cr_assert(strstr(notes, path) != NULL, "%s", notes);
	cr_assert(strstr(notes, "replaced: a directory was at its path") != NULL,
	          "%s", notes);
	bb__seg_writer_close(&s);
}

Test(seg, writer_refuses_a_segment_of_another_user_naming_owner_and_mode)
{
	char path[BB_SEG_PATH_MAX], want[64];
	struct bb__seg_spec sp = spec(4096);
	struct bb__seg s;
	int how;

	if (geteuid() != 0)
		cr_skip_test("needs root to make a file of another uid");
	seg_path_of(path, "other");
	int fd = open(path, O_CREAT | O_EXCL | O_RDWR, 0666);
	cr_assert(fd >= 0);
	cr_assert(eq(int, fchown(fd, 65534, 65534), 0));
	cr_assert(eq(int, fchmod(fd, 0666), 0));
	cr_assert(eq(int, ftruncate(fd, 4096), 0));
	close(fd);
	notes[0] = '\0';
	bb_seg_notify_set(capture, NULL);
	cr_assert(eq(int, bb__seg_writer_open(&s, bus, &sp, &how), BB_EOWNER));
	cr_assert(strstr(notes, path) != NULL, "%s", notes);
	snprintf(want, sizeof(want), "owned by uid 65534 gid 65534, mode 0666");
	cr_assert(strstr(notes, want) != NULL, "%s", notes);
	struct stat st;
	cr_assert(eq(int, stat(path, &st), 0)); /* left alone */
	cr_assert(eq(u32, (uint32_t)st.st_uid, 65534));
}

Test(seg, a_0666_leftover_of_ours_gets_its_mode_again)
{
	char path[BB_SEG_PATH_MAX];
	struct bb__seg_spec sp = spec(4096);
	struct bb__seg s;
	struct stat st;
	int how;

	cr_assert(eq(int, bb__seg_writer_open(&s, bus, &sp, &how), 0));
	bb__seg_publish(&s);
	bb__seg_writer_close(&s);
	seg_path_of(path, "other");
	cr_assert(eq(int, chmod(path, 0666), 0));
	notes[0] = '\0';
	bb_seg_notify_set(capture, NULL);
	cr_assert(eq(int, bb__seg_writer_open(&s, bus, &sp, &how), 0));
	cr_assert(eq(int, how, BB_SEG_ATTACHED));
	cr_assert(eq(int, fstat(s.fd, &st), 0));
	cr_assert(eq(int, (int)(st.st_mode & 07777), 0640));
	cr_assert(strstr(notes, "mode 0666 set to 0640") != NULL, "%s", notes);
	bb__seg_writer_close(&s);
}

static struct bb__seg_spec table_spec(void)
{
	return (struct bb__seg_spec){
		.role_name = "other", .role = BB_ROLE_TABLE,
		.geom = { 2, 4, 64 }, .total_len = bb__table_bytes(2, 4),
		.heartbeat_ms = 20, .mode = 0640,
	};
}

Test(seg, a_header_total_len_shorter_than_the_file_is_replaced)
{
	struct bb__seg_spec sp = table_spec();
	struct bb__seg s;
	int how;

	cr_assert(eq(int, bb__seg_writer_open(&s, bus, &sp, &how), 0));
	bb__seg_publish(&s);
	s.hdr->total_len -= 64; /* readers' geometry check fails on this */
	bb__seg_writer_close(&s);
	notes[0] = '\0';
	bb_seg_notify_set(capture, NULL);
	cr_assert(eq(int, bb__seg_writer_open(&s, bus, &sp, &how), 0));
	cr_assert(eq(int, how, BB_SEG_REPLACED));
	cr_assert(eq(u64, s.hdr->total_len, sp.total_len));
	cr_assert(strstr(notes, "replaced: segment geometry is impossible")
	          != NULL, "%s", notes);
	bb__seg_writer_close(&s);
}

Test(seg, validate_names_a_damaged_symbol_directory)
{
	uint64_t len = bb__ctl_bytes(4);
	char *buf = calloc(1, len), why[160];
	struct bb__seg_hdr *h = (struct bb__seg_hdr *)buf;
	struct bb__ctl *c = (struct bb__ctl *)(buf + BB_SEG_HDR_LEN);

	*h = (struct bb__seg_hdr){ .magic = BB_MAGIC, .role = BB_ROLE_CONTROL,
		.total_len = len, .hdr_len = BB_SEG_HDR_LEN, .heartbeat_ms = 100,
		.geom = { 4, 2, 390 } };
	atomic_init(&h->version, BB_LAYOUT_VERSION);
	cr_assert(eq(int, bb__ctl_add_symbol(c, 4, "AAPL"), 0));
	cr_assert(eq(int, bb__ctl_add_symbol(c, 4, "MSFT"), 0));
	cr_assert(eq(int, bb__seg_validate(buf, len, BB_ROLE_CONTROL, why,
	                                   sizeof(why)), 0));
	memset(c->names[1], 0xff, BB_CTL_NAME_LEN);
	cr_assert(eq(int, bb__seg_validate(buf, len, BB_ROLE_CONTROL, why,
	                                   sizeof(why)), BB_ECORRUPT));
	cr_assert(eq(str, why, "segment content is damaged: symbol directory "
	             "entry 1 is not a symbol name"));
	atomic_store(&c->nsym, 5);
	cr_assert(eq(int, bb__seg_validate(buf, len, BB_ROLE_CONTROL, why,
	                                   sizeof(why)), BB_ECORRUPT));
	cr_assert(eq(str, why, "segment content is damaged: symbol directory "
	             "counts 5 names, room for 4"));
	free(buf);
}

Test(seg, shm_dir_comes_from_the_environment)
{
	char path[BB_SEG_PATH_MAX];

	setenv("BB_SHM_DIR", "/tmp/x", 1);
	cr_assert(eq(int, bb__seg_path(path, sizeof(path), "/barbus.a.ring"), 0));
	cr_assert(eq(str, path, "/tmp/x/barbus.a.ring"));
	setenv("BB_SHM_DIR", "rel", 1);
	cr_assert(eq(int, bb__seg_path(path, sizeof(path), "/barbus.a.ring"),
	             BB_ENAME));
	unsetenv("BB_SHM_DIR");
	cr_assert(eq(int, bb__seg_path(path, sizeof(path), "/barbus.a.ring"), 0));
	cr_assert(eq(str, path, "/dev/shm/barbus.a.ring"));
}
