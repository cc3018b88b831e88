/*
 * seg_enospc: a bus on a full /dev/shm. Segments go to a 512 KiB tmpfs
 * (BB_SHM_DIR), too small for a ring: writers fail with ENOSPC, and nothing
 * half-made is left behind, neither by the library nor by a coordinator
 * (whose control and tables fit, but whose ring does not); barbus-status
 * then says there is no such bus. Then a bus that fits, with the tmpfs
 * filled up to two pages before the upkeep starts: the upkeep fails with
 * ENOSPC and leaves none of its segments behind. Needs root to mount the
 * tmpfs; says
 * "skipped" otherwise. Prints "N passed, N failed".
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/mount.h>
#include <sys/statvfs.h>

#include "stress.h"

#define DAY 20240702

static char top[64], shm[96], db[96], bin[PATH_MAX];
static int mounted;

static void teardown(void)
{
	if (getpid() != g_stress.owner)
		return;
	if (mounted)
		umount2(shm, MNT_DETACH);
	stress_sh("rm -rf %s", top);
}

/* Files left in the tmpfs whose names do not contain keep. */
static int left_but(const char *keep)
{
	int n = 0;
	DIR *d = opendir(shm);
	struct dirent *e;

	while (d != NULL && (e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' &&
		    (keep == NULL || strstr(e->d_name, keep) == NULL)) {
			INFO("left behind: %s", e->d_name);
			n++;
		}
	if (d != NULL)
		closedir(d);
	return n;
}

/* Files left in the tmpfs. */
static int left(void)
{
	return left_but(NULL);
}

static void make_store(void)
{
	bb_store *st;
	bb_calendar *cal;
	bb_session s;
	uint32_t id;
	bb_bar bars[390];

	if (bb_store_open(&st, db, 0) != 0 ||
	    bb_calendar_load(&cal, "XNYS", NULL, 0) != 0 ||
	    bb_calendar_next(cal, DAY, &s) != 0 ||
	    bb_store_symbol_add(st, "AAA", &id) != 0)
		stress_fatal("store setup");
	for (int m = 0; m < 390; m++)
		bars[m] = (bb_bar){ .symbol = id, .time = s.open + 60 * m,
			.open = 10, .high = 11, .low = 9, .close = 10, .volume = 1 };
	if (bb_store_put(st, bars, 390, NULL) != 0)
		stress_fatal("store put");
	bb_store_close(st);
	bb_calendar_free(cal);
}

/*
 * A small bus that fits (its run done), then the tmpfs filled up to two
 * pages: the upkeep makes up.status, fails on its tables, and unlinks
 * every one of its segments it made.
 */
static void upkeep_on_a_full_shm(char *out, size_t len)
{
	const char *bus = stress_bus("up");
	char filler[128];
	struct statvfs v;

	if (umount2(shm, MNT_DETACH) != 0 ||
	    mount("tmpfs", shm, "tmpfs", 0, "size=4m,mode=1777") != 0)
		stress_fatal("remount");
	int st = stress_sh("%s/barbus-coordinator --bus %s --db %s "
	                   "--ring-capacity 1024 --history-days 0 backtest "
	                   "--from 2024-07-02 --to 2024-07-02 --speed max "
	                   ">/dev/null 2>/dev/null", bin, bus, db);
	CHECK(st == 0, "a small bus fits in 4 MiB (status %d)", st);
	snprintf(filler, sizeof(filler), "%s/filler", shm);
	int fd = open(filler, O_CREAT | O_WRONLY, 0600);
	if (fd < 0 || statvfs(shm, &v) != 0 ||
	    posix_fallocate(fd, 0, (off_t)(v.f_bavail * v.f_frsize) -
	                    2 * 4096) != 0)
		stress_fatal("filler");
	close(fd);
	snprintf(out, len, "%s/upkeep.err", top);
	st = stress_sh("%s/barbus-upkeep --bus %s --db %s --history-days 0 "
	               "--wait-bus-ms 5000 >/dev/null 2>%s", bin, bus, db, out);
	CHECK(st != 0, "the upkeep fails on a full shm (status %d)", st);
	CHECK(stress_sh("grep -q 'No space left on device' %s", out) == 0,
	      "and says why");
	stress_sh("sed 's/^/    /' %s", out);
	CHECK(left_but(".up.") == left(),
	      "the upkeep left none of its segments behind");
	unlink(filler);
}

int main(int argc, char **argv)
{
	(void)argc;
	stress_init("seg_enospc", 60);
	stress_bin(argv[0], NULL, bin, sizeof(bin));
	snprintf(top, sizeof(top), "/tmp/bb-enospc-XXXXXX");
	if (mkdtemp(top) == NULL)
		stress_fatal("mkdtemp");
	atexit(teardown);
	snprintf(shm, sizeof(shm), "%s/shm", top);
	snprintf(db, sizeof(db), "%s/db", top);
	if (mkdir(shm, 0755) != 0 || mkdir(db, 0755) != 0)
		stress_fatal("mkdir");
	if (mount("tmpfs", shm, "tmpfs", 0, "size=512k,mode=1777") != 0) {
		printf("skipped: cannot mount a tmpfs on %s: %s\n", shm,
		       strerror(errno));
		return 0;
	}
	mounted = 1;
	setenv("BB_SHM_DIR", shm, 1);
	const char *bus = stress_bus(NULL);

	bb_ring_writer *w = NULL;
	int rc = bb_ring_writer_open(&w, bus, NULL);
	CHECK(rc == ENOSPC, "ring of 4 MiB on 512 KiB: %s", bb_strerror(rc));
	CHECK(left() == 0, "no ring file left behind");
	bb_table_writer *t = NULL;
	rc = bb_table_writer_open(&t, bus, "bars.1m", 100, 390, NULL);
	CHECK(rc == ENOSPC, "table of 2.5 MiB: %s", bb_strerror(rc));
	CHECK(left() == 0, "no table file left behind");

	make_store();
	char out[128];
	snprintf(out, sizeof(out), "%s/coordinator.err", top);
	int st = stress_sh("%s/barbus-coordinator --bus %s --db %s backtest "
	                   "--from 2024-07-02 --to 2024-07-02 --speed max "
	                   ">/dev/null 2>%s", bin, bus, db, out);
	CHECK(st != 0, "the coordinator fails (status %d)", st);
	CHECK(stress_sh("grep -q 'No space left on device' %s", out) == 0,
	      "and says why");
	stress_sh("sed 's/^/    /' %s", out);
	CHECK(left() == 0, "the coordinator left no half-made bus");
	st = stress_sh("%s/barbus-status --bus %s >/dev/null 2>%s", bin, bus,
	               out);
	CHECK(st != 0 && stress_sh("grep -q 'no such bus' %s", out) == 0,
	      "barbus-status: no such bus (status %d)", st);
	upkeep_on_a_full_shm(out, sizeof(out));
	return stress_done();
}
