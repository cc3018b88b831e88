/* tz_test.c: TZif zones from the system's zoneinfo (tz.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "barbus.h"
#include "tz.h"

static bb__tz *z;
static char why[512];

static void unload(void)
{
	bb__tz_free(z);
	z = NULL;
}

TestSuite(tz, .fini = unload, .timeout = 20);

static void load(const char *name)
{
	cr_assert(eq(int, bb__tz_load(&z, name, why, sizeof why), 0), "%s: %s",
	          name, why);
}

static int64_t utc(const char *iso)
{
	int64_t t = 0;

	cr_assert(eq(int, bb_time_parse(iso, &t), 0), "%s", iso);
	return t;
}

static void offset_is(const char *iso, int32_t off)
{
	cr_expect(eq(i32, bb__tz_offset_at(z, utc(iso)), off), "%s", iso);
}

Test(tz, london_bst_changes_2024_to_2026)
{
	load("Europe/London");
	offset_is("2024-03-31T00:59:59Z", 0);
	offset_is("2024-03-31T01:00:00Z", 3600);
	offset_is("2024-10-27T00:59:59Z", 3600);
	offset_is("2024-10-27T01:00:00Z", 0);
	offset_is("2025-03-30T01:00:00Z", 3600);
	offset_is("2025-10-26T01:00:00Z", 0);
	offset_is("2026-03-29T00:59:59Z", 0);
	offset_is("2026-03-29T01:00:00Z", 3600);
	offset_is("2026-10-25T01:00:00Z", 0);
}

Test(tz, footer_rules_past_the_last_transition)
{
	load("America/New_York");
	offset_is("2040-03-11T06:59:59Z", -18000);
	offset_is("2040-03-11T07:00:00Z", -14400);
	offset_is("2040-11-04T05:59:59Z", -14400);
	offset_is("2040-11-04T06:00:00Z", -18000);
	offset_is("1800-01-01T00:00:00Z", -17762); /* LMT, time type 0 */
	unload();
	load("Australia/Sydney"); /* southern: DST spans the new year */
	offset_is("2040-01-15T00:00:00Z", 39600);
	offset_is("2040-03-31T15:59:59Z", 39600);
	offset_is("2040-03-31T16:00:00Z", 36000);
	offset_is("2040-10-06T15:59:59Z", 36000);
	offset_is("2040-10-06T16:00:00Z", 39600);
	unload();
	load("Europe/Dublin"); /* negative DST: winter is the "daylight" time */
	offset_is("2040-01-01T12:00:00Z", 0);
	offset_is("2040-07-01T12:00:00Z", 3600);
	unload();
	load("Europe/London");
	offset_is("2099-10-25T00:59:59Z", 3600);
	offset_is("2099-10-25T01:00:00Z", 0);
}

Test(tz, local_times_skipped_repeated_and_plain)
{
	int32_t off[2] = { 7, 7 };
	int64_t day = bb_date_to_days(20240331) * 86400;

	load("Europe/London");
	cr_assert(eq(int, bb__tz_local_offsets(z, day + 3600 + 1800, off), 0));
	cr_assert(eq(int, bb__tz_local_offsets(z, day + 8 * 3600, off), 1));
	cr_assert(eq(i32, off[0], 3600));
	day = bb_date_to_days(20241027) * 86400;
	cr_assert(eq(int, bb__tz_local_offsets(z, day + 3600 + 1800, off), 2));
	cr_assert(eq(i32, off[0], 3600));
	cr_assert(eq(i32, off[1], 0));
	cr_assert(eq(int, bb__tz_local_offsets(z, day + 8 * 3600, off), 1));
	cr_assert(eq(i32, off[0], 0));
}

/* glibc reads the same files: every zone agrees with localtime_r(). */
Test(tz, agrees_with_libc_1970_to_2100)
{
	static const char *zones[] = {
		"Europe/London", "America/New_York", "Australia/Sydney",
		"Europe/Dublin", "Asia/Tokyo", "America/Sao_Paulo",
		"Australia/Lord_Howe", "Asia/Kolkata", "America/Santiago",
		"Pacific/Chatham",
	};
	const int64_t end = utc("2100-01-01T00:00:00Z");

	for (size_t i = 0; i < sizeof zones / sizeof zones[0]; i++) {
		char tzenv[160];
		snprintf(tzenv, sizeof tzenv, "%s", zones[i]);
		setenv("TZ", tzenv, 1);
		tzset();
		load(zones[i]);
		for (int64_t t = 0; t < end; t += 13 * 3600 + 17 * 60 + 11) {
			time_t tt = (time_t)t;
			struct tm tm;
			localtime_r(&tt, &tm);
			if (bb__tz_offset_at(z, t) != tm.tm_gmtoff)
				cr_fail("%s at %lld: %d, libc %ld", zones[i], (long long)t,
				        (int)bb__tz_offset_at(z, t), (long)tm.tm_gmtoff);
		}
		unload();
	}
}

Test(tz, utc_needs_no_file)
{
	setenv("TZDIR", "/nonexistent", 1);
	load("UTC");
	cr_assert(eq(i32, bb__tz_offset_at(z, 1704205800), 0));
	unload();
	load("Etc/UTC");
	cr_assert(eq(i32, bb__tz_offset_at(z, -1), 0));
}

Test(tz, zone_names_are_checked)
{
	static const char *bad[] = {
		"", "/etc/localtime", "../etc/passwd", "Europe/../../etc/passwd",
		"Europe//London", "Europe/", "Europe/..", ".", "Europe/Lon don",
		"Europe/London\n", "A\\B",
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cr_expect(eq(int, bb__tz_name_check(bad[i]), BB_EINVAL), "%s", bad[i]);
		cr_expect(eq(int, bb__tz_load(&z, bad[i], why, sizeof why), BB_EINVAL),
		          "%s", bad[i]);
	}
	cr_assert(eq(int, bb__tz_name_check(NULL), BB_EINVAL));
	cr_assert(eq(int, bb__tz_name_check("Etc/GMT+5"), 0));
	cr_assert(eq(int, bb__tz_name_check("America/Port-au-Prince"), 0));
	cr_assert(eq(int, bb__tz_load(&z, "../etc/passwd", why, sizeof why),
	             BB_EINVAL));
	cr_assert(eq(str, why, "bad zone name '../etc/passwd'"));
}

Test(tz, missing_zone_names_the_file)
{
	cr_assert(eq(int, bb__tz_load(&z, "Europe/Atlantis", why, sizeof why),
	             ENOENT));
	cr_assert(eq(str, why, "unknown zone 'Europe/Atlantis': no file "
	             "/usr/share/zoneinfo/Europe/Atlantis (is tzdata installed?)"));
	cr_assert(eq(int, bb__tz_load(&z, "Europe", why, sizeof why), EISDIR));
}

/* ---- synthetic files ----------------------------------------------------- */

struct buf {
	unsigned char b[512];
	size_t        n;
};

static void put32(struct buf *b, uint32_t v)
{
	for (int i = 3; i >= 0; i--)
		b->b[b->n++] = (unsigned char)(v >> (8 * i));
}

/* A v2 file: no transitions, one type of offset utoff, then footer. */
static void tzif(struct buf *b, char version, uint32_t leap, int32_t utoff,
                 const char *footer)
{
	b->n = 0;
	for (int sec = 0; sec < 2; sec++) {
		memcpy(b->b + b->n, "TZif", 4);
		b->b[b->n + 4] = (unsigned char)version;
		memset(b->b + b->n + 5, 0, 15);
		b->n += 20;
		put32(b, 0); put32(b, 0); put32(b, leap);
		put32(b, 0); put32(b, 1); put32(b, 4);
		put32(b, (uint32_t)utoff);
		b->b[b->n++] = 0;
		b->b[b->n++] = 0;
		memcpy(b->b + b->n, "XXX", 4);
		b->n += 4;
		for (uint32_t i = 0; i < leap; i++) {
			memset(b->b + b->n, 0, sec ? 12 : 8);
			b->n += sec ? 12 : 8;
		}
	}
	b->n += (size_t)sprintf((char *)b->b + b->n, "\n%s\n", footer);
}

static int parse(const struct buf *b)
{
	return bb__tz_parse(&z, b->b, b->n, why, sizeof why);
}

Test(tz, slim_file_with_only_a_footer)
{
	struct buf b;

	tzif(&b, '2', 0, -18000, "EST5EDT,M3.2.0,M11.1.0");
	cr_assert(eq(int, parse(&b), 0), "%s", why);
	offset_is("2024-03-10T06:59:59Z", -18000);
	offset_is("2024-03-10T07:00:00Z", -14400);
	offset_is("2024-11-03T06:00:00Z", -18000);
	unload();
	tzif(&b, '3', 0, 0, "<+0530>-5:30");
	cr_assert(eq(int, parse(&b), 0), "%s", why);
	offset_is("2024-03-10T07:00:00Z", 19800);
	unload();
	tzif(&b, '2', 0, 3600, "");
	cr_assert(eq(int, parse(&b), 0), "%s", why);
	offset_is("2024-03-10T07:00:00Z", 3600);
}

static void malformed(const struct buf *b, const char *reason)
{
	cr_assert(eq(int, parse(b), BB_EINVAL));
	cr_assert_null(z);
	cr_assert(eq(str, why, (char *)reason));
}

Test(tz, malformed_files_are_refused_with_a_reason)
{
	struct buf b;

	tzif(&b, '2', 0, 0, "GMT0");
	b.n -= 6; /* no footer */
	malformed(&b, "no TZ string footer");
	b.n = 30;
	malformed(&b, "not a TZif file");
	tzif(&b, '2', 0, 0, "GMT0");
	b.n = 60;
	malformed(&b, "truncated TZif file");
	tzif(&b, 0, 0, 0, "GMT0");
	malformed(&b, "TZif version 1 (want 2 or later)");
	tzif(&b, '2', 1, 0, "GMT0");
	malformed(&b, "leap-second zones are not supported");
	tzif(&b, '2', 0, 0, "GMT0BST,M13.5.0,M10.5.0");
	malformed(&b, "bad TZ string footer 'GMT0BST,M13.5.0,M10.5.0'");
	tzif(&b, '2', 0, 0, "G0");
	malformed(&b, "bad TZ string footer 'G0'");
	tzif(&b, '2', 0, 30 * 3600, "GMT0");
	malformed(&b, "impossible local time type");
	b.n = 0;
	malformed(&b, "not a TZif file");
}

Test(tz, tzdir_names_another_database)
{
	char dir[] = "/tmp/bb-tz-test-XXXXXX", path[64];
	struct buf b;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/Bad", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	tzif(&b, '2', 0, 0, "GMT0");
	fwrite(b.b, 1, 50, f);
	fclose(f);
	setenv("TZDIR", dir, 1);
	int rc = bb__tz_load(&z, "Bad", why, sizeof why);
	unlink(path);
	rmdir(dir);
	cr_assert(eq(int, rc, BB_EINVAL));
	char want[160];
	snprintf(want, sizeof want, "zone 'Bad': %s: truncated TZif file", path);
	cr_assert(eq(str, why, want));
}
