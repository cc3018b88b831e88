/*
 * install_tree: `make install` into a temporary DESTDIR, then the example
 * strategy (readers/examples/strategy.c) built with pkg-config and run
 * against the installed files only:
 *  - libbarbus.so.VERSION with SONAME libbarbus.so.MAJOR and both links;
 *  - its dynamic symbols are exactly the BB_API functions of barbus.h
 *    (nm -D: no bb__ internal, none missing);
 *  - `cc strategy.c $(pkg-config --cflags --libs barbus)` builds, and runs
 *    on the installed library, taking every bar of a replay once (the
 *    snapshot, then the ring); the static library links with barbus.pc's
 *    Libs.private;
 *  - a man page for every program and barbus(7); the systemd units pass
 *    `systemd-analyze verify` where systemd is present;
 *  - `make uninstall` leaves no file behind.
 * Prints "N passed, N failed".
 */
#include <libgen.h>
#include <limits.h>

#include "stress.h"

static char dir[64], root[PATH_MAX], bdir[PATH_MAX];

#define STAGE "%s/stage"
#define LIB STAGE "/usr/lib"
#define PC "PKG_CONFIG_SYSROOT_DIR=%s/stage PKG_CONFIG_LIBDIR=%s/stage/usr/lib/pkgconfig pkg-config"

static void library(void)
{
	CHECK(stress_sh("readelf -d " LIB "/libbarbus.so." BB_VERSION " | grep -q "
	         "'SONAME.*\\[libbarbus.so.%d\\]'", dir, BB_VERSION_MAJOR) == 0,
	      "SONAME libbarbus.so.%d", BB_VERSION_MAJOR);
	CHECK(stress_sh("test \"$(readlink " LIB "/libbarbus.so)\" = libbarbus.so.%d"
	         " && test \"$(readlink " LIB "/libbarbus.so.%d)\" = libbarbus.so."
	         BB_VERSION, dir, BB_VERSION_MAJOR, dir, BB_VERSION_MAJOR) == 0,
	      "libbarbus.so -> .so.MAJOR -> .so.VERSION");
	CHECK(stress_sh("nm -D --defined-only " LIB "/libbarbus.so | awk '{print $3}'"
	         " | sort > %s/exported && grep -o '^BB_API [^(]*' " STAGE
	         "/usr/include/barbus.h | awk '{print $NF}' | tr -d '*' | sort > "
	         "%s/declared && cmp -s %s/exported %s/declared", dir, dir, dir,
	         dir, dir, dir) == 0,
	      "nm -D: the exported symbols are exactly barbus.h's BB_API ones");
	CHECK(stress_sh("test $(wc -l < %s/exported) -gt 50 && ! grep -q '^bb__' "
	         "%s/exported", dir, dir) == 0, "no bb__ internal exported");
	CHECK(stress_sh("test -f " LIB "/libbarbus.a && test -f " STAGE
	         "/usr/include/barbus.h", dir, dir) == 0, "libbarbus.a, barbus.h");
}

static void example(void)
{
	const char *bus = stress_bus(NULL);

	CHECK(stress_sh("cc -std=c11 -Wall -Werror %s/readers/examples/strategy.c "
	         "$(" PC " --cflags --libs barbus) -o %s/strategy", root, dir, dir,
	         dir) == 0, "the example builds with pkg-config --cflags --libs");
	CHECK(stress_sh("LD_LIBRARY_PATH=" LIB " ldd %s/strategy | grep -q '"
	         "libbarbus.so.%d => " LIB "/libbarbus.so.%d'", dir, dir,
	         BB_VERSION_MAJOR, dir, BB_VERSION_MAJOR) == 0,
	      "the example uses the installed libbarbus.so.%d", BB_VERSION_MAJOR);
	CHECK(stress_sh("cc -std=c11 %s/readers/examples/strategy.c $(" PC
	         " --cflags barbus) " LIB "/libbarbus.a $(" PC " --static --libs "
	         "barbus | sed 's/-lbarbus//') -o %s/strategy-static", root, dir,
	         dir, dir, dir, dir, dir, dir) == 0,
	      "the static library links with Libs.private");
	CHECK(stress_sh(STAGE "/usr/bin/barbus-gen --db %s/db --symbols 6 --from "
	         "2024-07-01 --to 2024-07-01 --seed 9 2>/dev/null", dir, dir) == 0,
	      "the installed barbus-gen made a store");
	/* 390 minutes in 1.2 s: the strategy starts in the middle. */
	CHECK(stress_sh(STAGE "/usr/bin/barbus-coordinator --bus %s --db %s/db "
	         "backtest --from 2024-07-01 --to 2024-07-01 --speed 20000x "
	         "2>/dev/null & sleep 0.4; LD_LIBRARY_PATH=" LIB " %s/strategy %s "
	         "> %s/out; rc=$?; wait; exit $rc", dir, bus, dir, dir, dir, bus,
	         dir) == 0, "the example ran to the end of data");
	CHECK(stress_sh("n=$(" STAGE "/usr/bin/barbus-export --db %s/db --from "
	         "2024-07-01 --to 2024-07-01 | tail -n +2 | wc -l) && grep -qx "
	         "\"bars $n crosses [0-9]* lost 0 (libbarbus " BB_VERSION ")\" "
	         "%s/out", dir, dir, dir) == 0,
	      "the example took every bar of the replay once");
}

static void extras(void)
{
	CHECK(stress_sh("for p in " STAGE "/usr/bin/*; do test -s " STAGE
	         "/usr/share/man/man1/$(basename $p).1 || exit 1; done && test -s "
	         STAGE "/usr/share/man/man7/barbus.7", dir, dir, dir) == 0,
	      "a man page for every program, and barbus(7)");
	CHECK(stress_sh("for u in coordinator upkeep bridge-publish bridge-mirror; "
	         "do test -s " STAGE "/usr/lib/systemd/system/barbus-$u@.service "
	         "|| exit 1; done", dir) == 0, "the unit templates");
	if (stress_sh("command -v systemd-analyze >/dev/null") != 0) {
		INFO("no systemd-analyze: units not verified");
		return;
	}
	/* Instances, with ExecStart in the staging tree (verify wants it). */
	CHECK(stress_sh("mkdir %s/units && for u in coordinator upkeep "
	         "bridge-publish bridge-mirror; do sed "
	         "'s|/usr/bin|" STAGE "/usr/bin|' " STAGE "/usr/lib/systemd/system/"
	         "barbus-$u@.service > %s/units/barbus-$u@t.service; done && "
	         "MANPATH=" STAGE "/usr/share/man systemd-analyze verify "
	         "%s/units/*.service", dir, dir, dir, dir, dir, dir) == 0,
	      "systemd-analyze verify passes on the four units");
}

int main(int argc, char **argv)
{
	char rel[PATH_MAX], b[PATH_MAX], *me = strdup(argv[0]);

	(void)argc;
	stress_init("install", 120);
	snprintf(rel, sizeof(rel), "%s/..", dirname(me));
	free(me);
	if (realpath(rel, bdir) == NULL)
		stress_fatal("realpath %s", rel);
	snprintf(b, sizeof(b), "%s", strrchr(bdir, '/') + 1); /* B */
	if (strstr(b, "address") != NULL || strstr(b, "thread") != NULL) {
		printf("skipped: an install is checked in the plain build\n");
		return 0;
	}
	snprintf(root, sizeof(root), "%.*s", (int)(strrchr(bdir, '/') - bdir),
	         bdir);
	snprintf(dir, sizeof(dir), "/tmp/bb-install-XXXXXX");
	if (mkdtemp(dir) == NULL)
		stress_fatal("mkdtemp");
	CHECK(stress_sh("make -s --no-print-directory -C %s B=%s DESTDIR=" STAGE
	         " PREFIX=/usr install >%s/make.log 2>&1", root, b, dir, dir) == 0,
	      "make install");
	library();
	example();
	extras();
	CHECK(stress_sh("make -s --no-print-directory -C %s B=%s DESTDIR=" STAGE
	         " PREFIX=/usr uninstall && test -z \"$(find " STAGE " ! -type d)\"",
	         root, b, dir, dir) == 0,
	      "make uninstall removes every file");
	if (getenv("BB_KEEP") == NULL)
		stress_sh("rm -rf %s", dir);
	return stress_done();
}
