/*
 * seg_repair: damage a coordinator's bus the ways a crash, a stray write or
 * a confused operator might, restart the coordinator, and check that it
 * replaces each damaged segment saying which and why, and that readers
 * (barbus-status) work again. Then kill the bus's ring with 0xFF bytes
 * under a dead writer: barbus-sessions must end with an error, not print
 * "lapped" forever. Prints "N passed, N failed".
 */
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>

#include "stress.h"
#include "control.h"
#include "seg.h"

static char top[64], db[96], bin[PATH_MAX], err[128];
static const char *bus;

static void teardown(void)
{
	if (getpid() == g_stress.owner)
		stress_sh("rm -rf %s", top);
}

static void make_store(void)
{
	bb_store *st;
	bb_calendar *cal;
	bb_session s;
	uint32_t id[2];
	bb_bar bars[780];

	if (bb_store_open(&st, db, 0) != 0 ||
	    bb_calendar_load(&cal, "XNYS", NULL, 0) != 0 ||
	    bb_calendar_next(cal, 20240702, &s) != 0 ||
	    bb_store_symbol_add(st, "AAA", &id[0]) != 0 ||
	    bb_store_symbol_add(st, "BBB", &id[1]) != 0)
		stress_fatal("store setup");
	for (int m = 0; m < 780; m++)
		bars[m] = (bb_bar){ .symbol = id[m % 2],
			.time = s.open + 60 * (m / 2), .open = 10, .high = 11,
			.low = 9, .close = 10, .volume = 1 };
	if (bb_store_put(st, bars, 780, NULL) != 0)
		stress_fatal("store put");
	bb_store_close(st);
	bb_calendar_free(cal);
}

/* Run the coordinator over the day; its exit status, stderr in err. */
static int coordinator(void)
{
	return stress_sh("%s/barbus-coordinator --bus %s --db %s backtest "
	                 "--from 2024-07-02 --to 2024-07-02 --speed max "
	                 "--history-days 1 >/dev/null 2>%s", bin, bus, db, err);
}

static int status_ok(void)
{
	return stress_sh("%s/barbus-status --bus %s >/dev/null 2>&1", bin,
	                 bus) == 0;
}

/* Map segment role read-write (we own it) and let fn damage it. */
static void damage(const char *role, void (*fn)(char *p, size_t len))
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "/dev/shm/barbus.%s.%s", bus, role);
	int fd = open(path, O_RDWR);
	if (fd < 0 || fstat(fd, &st) != 0)
		stress_fatal("open %s", path);
	char *p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE,
	               MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		stress_fatal("mmap %s", path);
	fn(p, (size_t)st.st_size);
	munmap(p, (size_t)st.st_size);
	close(fd);
}

static void short_total_len(char *p, size_t len)
{
	(void)len;
	((struct bb__seg_hdr *)p)->total_len -= 64;
}

static void bad_name(char *p, size_t len)
{
	(void)len;
	struct bb__ctl *c = (struct bb__ctl *)(p + BB_SEG_HDR_LEN);
	memset(c->names[1], 0xff, BB_CTL_NAME_LEN);
}

static void all_ff(char *p, size_t len)
{
	memset(p + BB_SEG_HDR_LEN, 0xff, len - BB_SEG_HDR_LEN);
}

/* Restart after a damage; the coordinator must name role and say why. */
static void restart(const char *what, const char *role, const char *why)
{
	int st = coordinator();
	CHECK(st == 0, "%s: the restarted coordinator runs (status %d)", what,
	      st);
	CHECK(stress_sh("grep -q 'barbus.%s.%s: replaced: %s' %s", bus, role,
	                why, err) == 0, "%s: it says it replaced %s: %s", what,
	      role, why);
	stress_sh("grep 'replaced' %s | sed 's/^/    /'", err);
	CHECK(status_ok(), "%s: barbus-status reads the bus again", what);
}

int main(int argc, char **argv)
{
	(void)argc;
	stress_init("seg_repair", 120);
	stress_bin(argv[0], NULL, bin, sizeof(bin));
	snprintf(top, sizeof(top), "/tmp/bb-repair-XXXXXX");
	if (mkdtemp(top) == NULL)
		stress_fatal("mkdtemp");
	atexit(teardown);
	snprintf(db, sizeof(db), "%s/db", top);
	snprintf(err, sizeof(err), "%s/err", top);
	if (mkdir(db, 0755) != 0)
		stress_fatal("mkdir");
	make_store();
	bus = stress_bus(NULL);
	CHECK(coordinator() == 0, "the coordinator makes the bus");
	CHECK(status_ok(), "barbus-status reads it");

	damage("control", short_total_len);
	restart("control total_len too small", "control",
	        "segment geometry is impossible");
	damage("control", bad_name);
	restart("a damaged symbol directory", "control",
	        "segment content is damaged: symbol directory entry 1");
	damage("hist.0", short_total_len);
	restart("hist.0 total_len too small", "hist.0",
	        "segment geometry is impossible");
	damage("bars.1m", short_total_len);
	restart("bars.1m total_len too small", "bars.1m",
	        "segment geometry is impossible");
	stress_sh("rm -f /dev/shm/barbus.%s.hist.1 && mkdir "
	          "/dev/shm/barbus.%s.hist.1", bus, bus);
	restart("a directory at hist.1", "hist.1",
	        "a directory was at its path");

	/* A dead writer's ring full of 0xFF: sessions ends, with an error. */
	damage("ring", all_ff);
	int64_t t = stress_now_ns();
	int st = stress_sh("timeout 10 %s/barbus-sessions --bus %s --wait 0 "
	                   ">/dev/null 2>%s", bin, bus, err);
	CHECK(st == 1 && stress_now_ns() - t < 5000000000ll,
	      "barbus-sessions on a ring of 0xFF ends with status 1 (%d)", st);
	CHECK(stress_sh("grep -q 'damaged' %s", err) == 0 &&
	      stress_sh("grep -q 'lapped' %s", err) != 0,
	      "saying the ring is damaged, not lapped");
	return stress_done();
}
