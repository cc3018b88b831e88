/* inspect_test.c: the operators' view of segments (libshm/inspect.c), one
 * behaviour per test, in a private BB_SHM_DIR. A writer killed without
 * closing (crashed) needs a process to kill: tests/stress/status_tool.c. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "barbus.h"

static char dir[64], bus[32];
static bb_ring_writer *w;

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/bb-inspect-%d-XXXXXX", (int)getpid());
	cr_assert(mkdtemp(dir) != NULL);
	setenv("BB_SHM_DIR", dir, 1);
	snprintf(bus, sizeof(bus), "t-inspect-%d", (int)getpid());
	w = NULL;
}

static void teardown(void)
{
	char path[600];
	struct dirent *e;

	bb_ring_writer_close(w);
	DIR *d = opendir(dir);
	while (d != NULL && (e = readdir(d)) != NULL)
		if (e->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			unlink(path);
		}
	if (d != NULL)
		closedir(d);
	rmdir(dir);
}

TestSuite(inspect, .init = setup, .fini = teardown, .timeout = 10);

static void open_writer(void)
{
	bb_seg_opts o = { .capacity = 64, .heartbeat_ms = 1000 };

	cr_assert(eq(int, bb_ring_writer_open(&w, bus, &o), 0));
}

/* A file "barbus.<b>.<role>" of n bytes of byte c in the directory. */
static void make_file(const char *b, const char *role, size_t n, int c)
{
	char path[600], buf[256];

	snprintf(path, sizeof(path), "%s/barbus.%s.%s", dir, b, role);
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	cr_assert(fd >= 0);
	memset(buf, c, sizeof(buf));
	cr_assert(eq(sz, (size_t)write(fd, buf, n), n));
	close(fd);
}

static int exists(const char *b, const char *role)
{
	char path[600];

	snprintf(path, sizeof(path), "%s/barbus.%s.%s", dir, b, role);
	return access(path, F_OK) == 0;
}

Test(inspect, running_writer)
{
	bb_seg_info in;

	open_writer();
	cr_assert(eq(int, bb_seg_inspect(bus, "ring", &in), 0));
	cr_assert(eq(int, in.err, 0));
	cr_assert(eq(u32, in.run, BB_RUN_RUNNING));
	cr_assert(eq(int, (int)in.pid, (int)getpid()));
	cr_assert(eq(u64, in.epoch, 1));
	cr_assert(in.heartbeat_age_ms >= 0 && in.heartbeat_age_ms < 1000);
}

Test(inspect, stopped_writer)
{
	bb_seg_info in;

	open_writer();
	bb_ring_writer_close(w);
	w = NULL;
	cr_assert(eq(int, bb_seg_inspect(bus, "ring", &in), 0));
	cr_assert(eq(u32, in.run, BB_RUN_STOPPED));
	cr_assert(eq(i64, in.heartbeat_age_ms, -1));
	cr_assert(eq(u64, in.epoch, 1));
}

Test(inspect, size_of_the_object)
{
	bb_seg_info in;
	struct stat st;
	char path[600];

	open_writer();
	snprintf(path, sizeof(path), "%s/barbus.%s.ring", dir, bus);
	cr_assert(eq(int, stat(path, &st), 0));
	cr_assert(eq(int, bb_seg_inspect(bus, "ring", &in), 0));
	cr_assert(eq(u64, in.bytes, (uint64_t)st.st_size));
}

Test(inspect, missing_segment_is_enoent)
{
	bb_seg_info in;

	cr_assert(eq(int, bb_seg_inspect(bus, "control", &in), ENOENT));
}

Test(inspect, damaged_header_is_err_not_failure)
{
	bb_seg_info in;

	make_file(bus, "hist.0", 200, 0xff);
	cr_assert(eq(int, bb_seg_inspect(bus, "hist.0", &in), 0));
	cr_assert(eq(int, in.err, BB_EBADMAGIC));
	cr_assert(eq(u32, in.run, BB_RUN_NONE));
	cr_assert(eq(u64, in.bytes, 200));
}

Test(inspect, invalid_bus_name)
{
	bb_seg_info in;

	cr_assert(eq(int, bb_seg_inspect("a.b", "ring", &in), BB_ENAME));
}

Test(inspect, ring_head_capacity_epoch)
{
	bb_ring_info ri;
	bb_bar b = { .flags = BB_KIND_FLAGS(BB_KIND_USER) };

	open_writer();
	for (int i = 0; i < 5; i++)
		bb_ring_put(w, &b);
	cr_assert(eq(int, bb_ring_info_get(bus, &ri), 0));
	cr_assert(eq(u64, ri.head, 5));
	cr_assert(eq(u64, ri.capacity, 64));
	cr_assert(eq(u64, ri.epoch, 1));
}

Test(inspect, ring_info_without_ring)
{
	bb_ring_info ri;

	cr_assert(eq(int, bb_ring_info_get(bus, &ri), ENOENT));
}

struct seen {
	int  n;
	char names[8][96];
};

static int note(void *arg, const char *b, const char *role)
{
	struct seen *s = arg;

	if (s->n < 8)
		snprintf(s->names[s->n++], 96, "%s|%s", b, role);
	return 0;
}

Test(inspect, foreach_lists_bus_segments_only)
{
	struct seen s = { 0 };

	make_file("alpha", "hist.3", 10, 0);
	make_file("alpha", "up.5m.h", 10, 0);
	make_file("bad$x", "ring", 10, 0); /* not a bus name */
	make_file("beta", "", 10, 0);     /* no role */
	char path[600];
	snprintf(path, sizeof(path), "%s/other", dir);
	close(open(path, O_CREAT | O_WRONLY, 0600));
	cr_assert(eq(int, bb_shm_foreach(note, &s), 0));
	cr_assert(eq(int, s.n, 2));
	int hist = strcmp(s.names[0], "alpha|hist.3") == 0 ||
	           strcmp(s.names[1], "alpha|hist.3") == 0;
	int up = strcmp(s.names[0], "alpha|up.5m.h") == 0 ||
	         strcmp(s.names[1], "alpha|up.5m.h") == 0;
	cr_assert(hist && up);
}

static int stop_at_first(void *arg, const char *b, const char *role)
{
	(void)arg, (void)b, (void)role;
	return 7;
}

Test(inspect, foreach_returns_what_fn_returns)
{
	make_file("alpha", "ring", 10, 0);
	cr_assert(eq(int, bb_shm_foreach(stop_at_first, NULL), 7));
}

Test(inspect, foreach_relative_dir_is_ename)
{
	setenv("BB_SHM_DIR", "relative/dir", 1);
	cr_assert(eq(int, bb_shm_foreach(note, &(struct seen){ 0 }), BB_ENAME));
}

Test(inspect, remove_refused_while_writer_lives)
{
	unsigned n = 99;

	open_writer();
	make_file(bus, "hist.0", 10, 0);
	cr_assert(eq(int, bb_bus_remove(bus, 0, &n), BB_EBUSY));
	cr_assert(eq(u32, n, 0));
	cr_assert(exists(bus, "ring") && exists(bus, "hist.0"));
}

Test(inspect, remove_forced_while_writer_lives)
{
	unsigned n = 0;

	open_writer();
	make_file(bus, "hist.0", 10, 0);
	cr_assert(eq(int, bb_bus_remove(bus, BB_REMOVE_FORCE, &n), 0));
	cr_assert(eq(u32, n, 2));
	cr_assert(eq(int, exists(bus, "ring") + exists(bus, "hist.0"), 0));
}

Test(inspect, remove_every_role_of_that_bus_only)
{
	unsigned n = 0;

	open_writer();
	bb_ring_writer_close(w);
	w = NULL;
	make_file(bus, "hist.12", 10, 0);
	make_file(bus, "up.7m.h", 10, 0);
	make_file(bus, "wake", 10, 0); /* an older layout's wake file */
	make_file("other", "ring", 10, 0);
	cr_assert(eq(int, bb_bus_remove(bus, 0, &n), 0));
	cr_assert(eq(u32, n, 4));
	cr_assert(eq(int, exists(bus, "ring") + exists(bus, "hist.12") +
	          exists(bus, "up.7m.h") + exists(bus, "wake"), 0));
	cr_assert(exists("other", "ring"));
}

Test(inspect, remove_no_such_bus_removes_nothing)
{
	unsigned n = 99;

	cr_assert(eq(int, bb_bus_remove(bus, 0, &n), 0));
	cr_assert(eq(u32, n, 0));
}

Test(inspect, remove_invalid_name)
{
	cr_assert(eq(int, bb_bus_remove("../x", BB_REMOVE_FORCE, NULL), BB_ENAME));
}
