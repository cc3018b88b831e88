/* calendar_test.c: built-in XNYS and 24x7 calendars, calendar files. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "barbus.h"
#include "calendar.h"

static bb_calendar *cal;
static char path[64];
static char err[512];

static void load_xnys(void)
{
	cr_assert(eq(int, bb_calendar_load(&cal, "XNYS", err, sizeof err), 0), "%s", err);
}

static void unload(void)
{
	bb_calendar_free(cal);
	cal = NULL;
}

static void cleanup_file(void)
{
	unload();
	if (path[0] != '\0')
		unlink(path);
	path[0] = '\0';
}

/* Writes text to a fresh file under /tmp, named in path. */
static void write_file(const char *text)
{
	static unsigned seq;

	snprintf(path, sizeof path, "/tmp/barbus-cal-test-%d-%u.cal",
	         (int)getpid(), seq++);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	cr_assert(eq(sz, fwrite(text, 1, strlen(text), f), strlen(text)));
	cr_assert(eq(int, fclose(f), 0));
}

/* Loads text as a calendar file; returns the code, err gets the message. */
static int load_text(const char *text)
{
	write_file(text);
	return bb_calendar_load(&cal, path, err, sizeof err);
}

/* Expected "path:LINE: reason" for the current file. */
static const char *at_line(int line, const char *reason)
{
	static char buf[512];

	snprintf(buf, sizeof buf, "%s:%d: %s", path, line, reason);
	return buf;
}

static int64_t utc(const char *iso)
{
	int64_t t = 0;

	cr_assert(eq(int, bb_time_parse(iso, &t), 0), "%s", iso);
	return t;
}

/* Asserts the session of date exists with the given UTC open and close. */
static void expect_session(int32_t date, const char *open, const char *close)
{
	bb_session s;

	cr_assert(eq(int, bb_calendar_next(cal, date, &s), 0));
	cr_assert(eq(i32, s.date, date), "no session on %d", (int)date);
	cr_assert(eq(i64, s.open, utc(open)), "open of %d", (int)date);
	cr_assert(eq(i64, s.close, utc(close)), "close of %d", (int)date);
}

static int has_session(int32_t date)
{
	bb_session s;

	return bb_calendar_next(cal, date, &s) == 0 && s.date == date;
}

static int is_early(int32_t date)
{
	bb_session s;

	cr_assert(eq(int, bb_calendar_next(cal, date, &s), 0));
	cr_assert(eq(i32, s.date, date));
	return (s.flags & BB_SESSION_EARLY_CLOSE) != 0;
}

static int count_year(int32_t year)
{
	bb_session s;
	int n = 0;
	int32_t d = year * 10000 + 101;

	while (bb_calendar_next(cal, d, &s) == 0 && s.date / 10000 == year) {
		n++;
		d = bb_days_to_date(bb_date_to_days(s.date) + 1);
	}
	return n;
}

/* ---- XNYS ------------------------------------------------------------- */

TestSuite(xnys, .init = load_xnys, .fini = unload, .timeout = 10);

Test(xnys, early_close_2024_07_03)
{
	expect_session(20240703, "2024-07-03T13:30:00Z", "2024-07-03T17:00:00Z");
	cr_assert(is_early(20240703));
}

Test(xnys, regular_session_is_not_flagged_early)
{
	expect_session(20240702, "2024-07-02T13:30:00Z", "2024-07-02T20:00:00Z");
	cr_assert_not(is_early(20240702));
}

Test(xnys, dst_start_2024_friday_est_monday_edt)
{
	expect_session(20240308, "2024-03-08T14:30:00Z", "2024-03-08T21:00:00Z");
	expect_session(20240311, "2024-03-11T13:30:00Z", "2024-03-11T20:00:00Z");
}

Test(xnys, dst_end_2024_friday_edt_monday_est)
{
	expect_session(20241101, "2024-11-01T13:30:00Z", "2024-11-01T20:00:00Z");
	expect_session(20241104, "2024-11-04T14:30:00Z", "2024-11-04T21:00:00Z");
}

Test(xnys, dst_start_2006_first_sunday_of_april)
{
	expect_session(20060331, "2006-03-31T14:30:00Z", "2006-03-31T21:00:00Z");
	expect_session(20060403, "2006-04-03T13:30:00Z", "2006-04-03T20:00:00Z");
	/* March 13, 2006 was still standard time under the pre-2007 rule. */
	expect_session(20060313, "2006-03-13T14:30:00Z", "2006-03-13T21:00:00Z");
}

Test(xnys, dst_end_2006_last_sunday_of_october)
{
	expect_session(20061027, "2006-10-27T13:30:00Z", "2006-10-27T20:00:00Z");
	expect_session(20061030, "2006-10-30T14:30:00Z", "2006-10-30T21:00:00Z");
}

Test(xnys, dst_start_2007_second_sunday_of_march)
{
	expect_session(20070309, "2007-03-09T14:30:00Z", "2007-03-09T21:00:00Z");
	expect_session(20070312, "2007-03-12T13:30:00Z", "2007-03-12T20:00:00Z");
}

Test(xnys, dst_end_2007_first_sunday_of_november)
{
	/* Under the old rule this week would already be standard time. */
	expect_session(20071029, "2007-10-29T13:30:00Z", "2007-10-29T20:00:00Z");
	expect_session(20071102, "2007-11-02T13:30:00Z", "2007-11-02T20:00:00Z");
	expect_session(20071105, "2007-11-05T14:30:00Z", "2007-11-05T21:00:00Z");
}

Test(xnys, dst_2000_and_2030_weeks)
{
	expect_session(20000331, "2000-03-31T14:30:00Z", "2000-03-31T21:00:00Z");
	expect_session(20000403, "2000-04-03T13:30:00Z", "2000-04-03T20:00:00Z");
	expect_session(20301108, "2030-11-08T14:30:00Z", "2030-11-08T21:00:00Z");
	expect_session(20301101, "2030-11-01T13:30:00Z", "2030-11-01T20:00:00Z");
	expect_session(20300308, "2030-03-08T14:30:00Z", "2030-03-08T21:00:00Z");
	expect_session(20300311, "2030-03-11T13:30:00Z", "2030-03-11T20:00:00Z");
}

Test(xnys, every_session_opens_0930_and_lasts_6h30_or_3h30)
{
	bb_session s;
	int32_t d = 20000101;
	int n = 0;

	while (bb_calendar_next(cal, d, &s) == 0) {
		int64_t local_open = s.open - bb_date_to_days(s.date) * 86400;
		int64_t len = s.close - s.open;
		int early = (s.flags & BB_SESSION_EARLY_CLOSE) != 0;
		if ((local_open != 13 * 3600 + 1800 && local_open != 14 * 3600 + 1800) ||
		    len != (early ? 3 * 3600 + 1800 : 6 * 3600 + 1800))
			cr_fatal("bad session %d", (int)s.date);
		d = bb_days_to_date(bb_date_to_days(s.date) + 1);
		n++;
	}
	cr_assert(eq(int, n, 7794));
}

Test(xnys, no_weekend_sessions)
{
	bb_session s;
	int32_t d = 20000101;

	while (bb_calendar_next(cal, d, &s) == 0) {
		int wd = (int)((bb_date_to_days(s.date) % 7 + 11) % 7); /* 0 Sunday */
		cr_assert(wd >= 1 && wd <= 5, "session on a weekend: %d", (int)s.date);
		d = bb_days_to_date(bb_date_to_days(s.date) + 1);
	}
}

Test(xnys, covers_2000_to_2030)
{
	bb_session s;

	cr_assert(eq(int, bb_calendar_next(cal, 19990101, &s), 0));
	cr_assert(eq(i32, s.date, 20000103)); /* Jan 1 2000 was a Saturday */
	cr_assert(eq(int, bb_calendar_prev(cal, 20310101, &s), 0));
	cr_assert(eq(i32, s.date, 20301231));
}

Test(xnys, session_count_2024_is_252)
{
	cr_assert(eq(int, count_year(2024), 252));
}

Test(xnys, session_count_2023_is_250)
{
	cr_assert(eq(int, count_year(2023), 250));
}

Test(xnys, session_counts_other_years)
{
	cr_assert(eq(int, count_year(2001), 248)); /* September 11 */
	cr_assert(eq(int, count_year(2012), 250)); /* Hurricane Sandy */
	cr_assert(eq(int, count_year(2020), 253));
	cr_assert(eq(int, count_year(2022), 251));
	cr_assert(eq(int, count_year(2025), 250)); /* Carter */
}

Test(xnys, holidays_2024_absent)
{
	static const int32_t closed[] = {
		20240101, 20240115, 20240219, 20240329, 20240527, 20240619,
		20240704, 20240902, 20241128, 20241225,
	};
	for (size_t i = 0; i < sizeof closed / sizeof closed[0]; i++)
		cr_expect_not(has_session(closed[i]), "%d", (int)closed[i]);
}

Test(xnys, good_friday_2024_absent_and_next_is_monday)
{
	bb_session s;

	cr_assert_not(has_session(20240329));
	cr_assert(eq(int, bb_calendar_next(cal, 20240329, &s), 0));
	cr_assert(eq(i32, s.date, 20240401));
}

Test(xnys, holiday_on_saturday_observed_friday)
{
	cr_assert_not(has_session(20200703)); /* July 4 2020 was a Saturday */
	cr_assert_not(has_session(20211224)); /* Christmas 2021 */
	cr_assert_not(has_session(20270618)); /* Juneteenth 2027 */
}

Test(xnys, holiday_on_sunday_observed_monday)
{
	cr_assert_not(has_session(20170102)); /* New Year 2017 */
	cr_assert_not(has_session(20220620)); /* Juneteenth 2022 */
	cr_assert_not(has_session(20210705)); /* Independence Day 2021 */
	cr_assert_not(has_session(20221226)); /* Christmas 2022 */
}

Test(xnys, new_year_on_saturday_not_observed)
{
	cr_assert(has_session(20211231));
	cr_assert(has_session(20101231));
	cr_assert(has_session(20271231));
}

Test(xnys, juneteenth_only_from_2022)
{
	cr_assert(has_session(20210618)); /* June 19 2021: Saturday, no rule yet */
	cr_assert(has_session(20200619));
	cr_assert_not(has_session(20230619));
}

Test(xnys, one_off_closures_absent)
{
	static const int32_t closed[] = {
		20010911, 20010912, 20010913, 20010914, 20040611, 20070102,
		20121029, 20121030, 20181205, 20250109,
	};
	for (size_t i = 0; i < sizeof closed / sizeof closed[0]; i++)
		cr_expect_not(has_session(closed[i]), "%d", (int)closed[i]);
}

Test(xnys, trading_resumed_2001_09_17)
{
	bb_session s;

	cr_assert(has_session(20010910));
	cr_assert(eq(int, bb_calendar_next(cal, 20010911, &s), 0));
	cr_assert(eq(i32, s.date, 20010917));
}

Test(xnys, early_closes_thanksgiving_friday_and_christmas_eve)
{
	cr_assert(is_early(20241129));
	cr_assert(is_early(20241224));
	cr_assert(is_early(20011224));
	expect_session(20241129, "2024-11-29T14:30:00Z", "2024-11-29T18:00:00Z");
	cr_assert_not(is_early(20241231));
}

Test(xnys, july_early_close_rules_before_and_after_2013)
{
	cr_assert_not(is_early(20020703)); /* Wednesday before 2013: full day */
	cr_assert(is_early(20020705));     /* ... the Friday after was early */
	cr_assert(is_early(20130703));     /* Wednesday from 2013: early */
	cr_assert_not(is_early(20130705));
	cr_assert(is_early(20250703));     /* Thursday */
	cr_assert(is_early(20230703));     /* Monday */
	cr_assert_not(is_early(20150702)); /* July 3 2015 was the holiday */
}

Test(xnys, early_close_one_off_2003_12_26)
{
	cr_assert(is_early(20031226));
	cr_assert_not(is_early(20041227));
}

Test(xnys, prev_is_strictly_before)
{
	bb_session s;

	cr_assert(eq(int, bb_calendar_prev(cal, 20240705, &s), 0));
	cr_assert(eq(i32, s.date, 20240703));
	cr_assert(eq(int, bb_calendar_prev(cal, 20240703, &s), 0));
	cr_assert(eq(i32, s.date, 20240702));
}

Test(xnys, past_the_ends_is_nosession)
{
	bb_session s;

	cr_assert(eq(int, bb_calendar_next(cal, 20310101, &s), BB_ENOSESSION));
	cr_assert(eq(int, bb_calendar_prev(cal, 20000103, &s), BB_ENOSESSION));
}

Test(xnys, at_finds_the_session_holding_t)
{
	bb_session s;

	cr_assert(eq(int, bb_calendar_at(cal, utc("2024-07-03T13:30:00Z"), &s), 0));
	cr_assert(eq(i32, s.date, 20240703));
	cr_assert(eq(int, bb_calendar_at(cal, utc("2024-07-03T16:59:59Z"), &s), 0));
	cr_assert(eq(i32, s.date, 20240703));
}

Test(xnys, at_outside_sessions_is_nosession)
{
	bb_session s;

	/* [open, close): the close itself is outside. */
	cr_assert(eq(int, bb_calendar_at(cal, utc("2024-07-03T17:00:00Z"), &s),
	             BB_ENOSESSION));
	cr_assert(eq(int, bb_calendar_at(cal, utc("2024-07-03T13:29:59Z"), &s),
	             BB_ENOSESSION));
	cr_assert(eq(int, bb_calendar_at(cal, utc("2024-07-04T15:00:00Z"), &s),
	             BB_ENOSESSION));
	cr_assert(eq(int, bb_calendar_at(cal, 0, &s), BB_ENOSESSION));
	cr_assert(eq(int, bb_calendar_at(cal, utc("2040-01-02T15:00:00Z"), &s),
	             BB_ENOSESSION));
}

Test(xnys, invalid_date_is_einval)
{
	bb_session s;

	cr_assert(eq(int, bb_calendar_next(cal, 20240230, &s), BB_EINVAL));
	cr_assert(eq(int, bb_calendar_prev(cal, 0, &s), BB_EINVAL));
}

/* ---- loading by name ---------------------------------------------------- */

TestSuite(load, .fini = cleanup_file, .timeout = 10);

Test(load, default_and_case_insensitive_name_are_xnys)
{
	static const char *names[] = { NULL, "", "xnys", "Xnys" };
	bb_session s;

	for (size_t i = 0; i < 4; i++) {
		cr_assert(eq(int, bb_calendar_load(&cal, names[i], NULL, 0), 0));
		cr_assert(eq(int, bb_calendar_next(cal, 20240704, &s), 0));
		cr_assert(eq(i32, s.date, 20240705));
		unload();
	}
}

Test(load, missing_file_is_enoent)
{
	cr_assert(eq(int, bb_calendar_load(&cal, "/tmp/barbus-no-such.cal", err,
	                                   sizeof err), ENOENT));
	cr_assert_null(cal);
}

Test(load, directory_is_eisdir)
{
	cr_assert(eq(int, bb_calendar_load(&cal, "/tmp", err, sizeof err), EISDIR));
}

Test(load, null_out_is_einval)
{
	cr_assert(eq(int, bb_calendar_load(NULL, "XNYS", err, sizeof err), BB_EINVAL));
}

/* ---- 24x7 ------------------------------------------------------------- */

TestSuite(cal24x7, .fini = unload, .timeout = 10);

Test(cal24x7, one_session_per_utc_day)
{
	cr_assert(eq(int, bb_calendar_load(&cal, "24x7", NULL, 0), 0));
	expect_session(20240704, "2024-07-04T00:00:00Z", "2024-07-05T00:00:00Z");
	expect_session(21000301, "2100-03-01T00:00:00Z", "2100-03-02T00:00:00Z");
	expect_session(19000101, "1900-01-01T00:00:00Z", "1900-01-02T00:00:00Z");
}

Test(cal24x7, name_is_case_insensitive)
{
	cr_assert(eq(int, bb_calendar_load(&cal, "24X7", NULL, 0), 0));
	cr_assert(has_session(20240706));
}

Test(cal24x7, prev_and_at)
{
	bb_session s;

	cr_assert(eq(int, bb_calendar_load(&cal, "24x7", NULL, 0), 0));
	cr_assert(eq(int, bb_calendar_prev(cal, 20240301, &s), 0));
	cr_assert(eq(i32, s.date, 20240229));
	cr_assert(eq(int, bb_calendar_at(cal, -1, &s), 0));
	cr_assert(eq(i32, s.date, 19691231));
	cr_assert(eq(int, bb_calendar_at(cal, utc("2024-07-04T23:59:59Z"), &s), 0));
	cr_assert(eq(i32, s.date, 20240704));
}

Test(cal24x7, ends_at_years_0001_and_9999)
{
	bb_session s;

	cr_assert(eq(int, bb_calendar_load(&cal, "24x7", NULL, 0), 0));
	cr_assert(eq(int, bb_calendar_prev(cal, 10101, &s), BB_ENOSESSION));
	cr_assert(eq(int, bb_calendar_next(cal, 99991231, &s), 0));
	cr_assert(eq(int, bb_calendar_at(cal, INT64_MAX, &s), BB_ENOSESSION));
}

/* ---- user calendar files ------------------------------------------------ */

TestSuite(file, .fini = cleanup_file, .timeout = 10);

Test(file, explicit_offsets_without_zone)
{
	cr_assert(eq(int, load_text(
		"# a test calendar\n"
		"\n"
		"2024-07-03 09:30-04:00 13:00-04:00 early  # comment\n"
		"2024-07-05\t01:30Z\t07:00:00Z\n"), 0), "%s", err);
	expect_session(20240703, "2024-07-03T13:30:00Z", "2024-07-03T17:00:00Z");
	cr_assert(is_early(20240703));
	expect_session(20240705, "2024-07-05T01:30:00Z", "2024-07-05T07:00:00Z");
	cr_assert_not(is_early(20240705));
}

Test(file, zone_rules_turn_local_times_into_utc_across_dst)
{
	cr_assert(eq(int, load_text(
		"zone America/New_York\n"
		"2006-03-31 09:30 16:00\n"
		"2006-04-03 09:30 16:00\n"
		"2024-03-08 09:30 16:00\n"
		"2024-03-11 09:30 16:00\n"
		"2024-11-01 09:30 16:00\n"
		"2024-11-04 09:30 16:00\n"), 0), "%s", err);
	expect_session(20060331, "2006-03-31T14:30:00Z", "2006-03-31T21:00:00Z");
	expect_session(20060403, "2006-04-03T13:30:00Z", "2006-04-03T20:00:00Z");
	expect_session(20240308, "2024-03-08T14:30:00Z", "2024-03-08T21:00:00Z");
	expect_session(20240311, "2024-03-11T13:30:00Z", "2024-03-11T20:00:00Z");
	expect_session(20241101, "2024-11-01T13:30:00Z", "2024-11-01T20:00:00Z");
	expect_session(20241104, "2024-11-04T14:30:00Z", "2024-11-04T21:00:00Z");
}

Test(file, dst_transition_day_itself)
{
	/* 2024-03-10: 01:00 is EST, 03:00 EDT; 2024-11-03: 00:30 EDT, 02:00 EST. */
	cr_assert(eq(int, load_text(
		"zone America/New_York\n"
		"2024-03-10 01:00 03:00\n"
		"2024-11-03 00:30 02:00\n"), 0), "%s", err);
	expect_session(20240310, "2024-03-10T06:00:00Z", "2024-03-10T07:00:00Z");
	expect_session(20241103, "2024-11-03T04:30:00Z", "2024-11-03T07:00:00Z");
}

Test(file, utc_zone_and_24_00_close)
{
	cr_assert(eq(int, load_text(
		"zone UTC\n"
		"2024-07-03 00:00 24:00\n"
		"2024-07-04 00:00:00 24:00:00Z\n"), 0), "%s", err);
	expect_session(20240703, "2024-07-03T00:00:00Z", "2024-07-04T00:00:00Z");
	expect_session(20240704, "2024-07-04T00:00:00Z", "2024-07-05T00:00:00Z");
}

Test(file, crlf_line_ends_are_accepted)
{
	cr_assert(eq(int, load_text("zone UTC\r\n2024-07-03 09:00 17:00\r\n"), 0),
	          "%s", err);
	expect_session(20240703, "2024-07-03T09:00:00Z", "2024-07-03T17:00:00Z");
}

/* Each malformed file is refused with exactly "path:LINE: reason". */
static void expect_refused(const char *text, int line, const char *reason)
{
	cr_assert(eq(int, load_text(text), BB_ECALENDAR));
	cr_assert_null(cal);
	cr_assert(eq(str, err, (char *)at_line(line, reason)));
}

Test(file, refuses_unparsable_date)
{
	expect_refused("zone UTC\n2024-07-02 09:30 16:00\n2024-02-30 09:30 16:00\n",
	               3, "bad date '2024-02-30' (want a valid YYYY-MM-DD)");
}

Test(file, refuses_close_not_after_open)
{
	expect_refused("zone UTC\n# c\n2024-07-03 16:00 09:30\n", 3,
	               "close 09:30 is not after open 16:00");
}

Test(file, refuses_duplicate_date)
{
	expect_refused("zone UTC\n2024-07-03 09:30 16:00\n2024-07-03 09:30 16:00\n",
	               3, "duplicate date 2024-07-03");
}

Test(file, refuses_decreasing_dates)
{
	expect_refused("zone UTC\n2024-07-03 09:30 16:00\n2024-07-02 09:30 16:00\n",
	               3, "date 2024-07-02 is before the previous line's");
}

Test(file, refuses_overlapping_sessions)
{
	expect_refused("2024-07-03 09:30Z 24:00Z\n2024-07-04 00:00+01:00 16:00Z\n",
	               2, "session opens before the previous one closes");
}

Test(file, refuses_unknown_zone)
{
	expect_refused("# x\nzone Mars/Olympus\n", 2,
	               "unknown zone 'Mars/Olympus': no file "
	               "/usr/share/zoneinfo/Mars/Olympus (is tzdata installed?)");
}

Test(file, refuses_offset_that_contradicts_the_zone)
{
	expect_refused("zone America/New_York\n2024-07-03 09:30-05:00 16:00\n", 2,
	               "open time '09:30-05:00': America/New_York has offset "
	               "-04:00 there, not -05:00");
}

Test(file, refuses_time_without_offset_or_zone)
{
	expect_refused("2024-07-03 09:30 16:00\n", 1,
	               "open time '09:30' has no UTC offset and no zone line "
	               "names the zone");
}

Test(file, refuses_skipped_and_ambiguous_local_times)
{
	expect_refused("zone America/New_York\n2024-03-10 02:30 04:00\n", 2,
	               "open time '02:30' is skipped in America/New_York: give "
	               "its UTC offset");
	cleanup_file();
	expect_refused("zone America/New_York\n2024-11-03 01:30 04:00\n", 2,
	               "open time '01:30' is ambiguous in America/New_York: give "
	               "its UTC offset");
}

Test(file, ambiguous_local_time_with_offset_is_accepted)
{
	cr_assert(eq(int, load_text("zone America/New_York\n"
	                            "2024-11-03 01:30-05:00 04:00\n"), 0), "%s", err);
	expect_session(20241103, "2024-11-03T06:30:00Z", "2024-11-03T09:00:00Z");
}

Test(file, refuses_bad_time)
{
	expect_refused("zone UTC\n2024-07-03 9:30 16:00\n", 2,
	               "bad open time '9:30' (want HH:MM[:SS], then Z, +HH:MM or "
	               "-HH:MM)");
	cleanup_file();
	expect_refused("zone UTC\n2024-07-03 09:30 16:00+4\n", 2,
	               "bad close time '16:00+4' (want HH:MM[:SS], then Z, +HH:MM "
	               "or -HH:MM)");
}

Test(file, refuses_unknown_flag_and_extra_fields)
{
	expect_refused("zone UTC\n2024-07-03 09:30 13:00 half\n", 2,
	               "unknown flag 'half' (want 'early')");
	cleanup_file();
	expect_refused("zone UTC\n2024-07-03 09:30 13:00 early x\n", 2,
	               "unexpected text after field 4");
	cleanup_file();
	expect_refused("zone UTC\n2024-07-03 09:30\n", 2,
	               "want DATE OPEN CLOSE [early]");
}

Test(file, refuses_zone_after_sessions_or_twice)
{
	expect_refused("zone UTC\nzone UTC\n", 2,
	               "second zone line (the zone is UTC)");
	cleanup_file();
	expect_refused("2024-07-03 09:30Z 16:00Z\nzone UTC\n", 2,
	               "zone line after the first session");
}

Test(file, refuses_file_without_sessions)
{
	expect_refused("", 1, "no sessions");
	cleanup_file();
	expect_refused("# only\n# comments\nzone UTC\n", 3, "no sessions");
}

Test(file, refuses_control_characters)
{
	expect_refused("zone UTC\n2024-07-03\v09:30 16:00\n", 2,
	               "control character 0x0b");
}

Test(file, long_error_is_truncated_not_overflowed)
{
	char small[12];

	write_file("2024-02-30 09:30Z 16:00Z\n");
	cr_assert(eq(int, bb_calendar_load(&cal, path, small, sizeof small),
	             BB_ECALENDAR));
	cr_assert(eq(sz, strlen(small), sizeof small - 1));
	cr_assert(eq(int, strncmp(small, path, sizeof small - 1), 0));
}

Test(file, refuses_bad_zone_names)
{
	expect_refused("zone ../../etc/passwd\n", 1,
	               "bad zone name '../../etc/passwd' (want an IANA name such "
	               "as Europe/London: no '..', no leading '/')");
	cleanup_file();
	expect_refused("zone /etc/localtime\n", 1,
	               "bad zone name '/etc/localtime' (want an IANA name such "
	               "as Europe/London: no '..', no leading '/')");
}

Test(file, refuses_malformed_zone_file)
{
	char dir[] = "/tmp/bb-cal-tz-XXXXXX", zf[64], want[256];

	cr_assert_not_null(mkdtemp(dir));
	snprintf(zf, sizeof zf, "%s/Bad", dir);
	FILE *f = fopen(zf, "w");
	cr_assert_not_null(f);
	fputs("TZif2 but nothing else", f);
	fclose(f);
	setenv("TZDIR", dir, 1);
	int rc = load_text("# x\nzone Bad\n2024-07-03 09:30 16:00\n");
	unlink(zf);
	rmdir(dir);
	cr_assert(eq(int, rc, BB_ECALENDAR));
	snprintf(want, sizeof want, "zone 'Bad': %s: not a TZif file", zf);
	cr_assert(eq(str, err, (char *)at_line(2, want)));
}

Test(file, any_iana_zone_tokyo)
{
	cr_assert(eq(int, load_text("zone Asia/Tokyo\n"
	                            "2024-07-03 09:00 15:00\n"), 0), "%s", err);
	expect_session(20240703, "2024-07-03T00:00:00Z", "2024-07-03T06:00:00Z");
}

/* ---- XNYS from tzdata ---------------------------------------------------- */

/* XNYS.cal with every "-05:00"/"-04:00" taken out: local times only. */
static char *xnys_without_offsets(size_t *len)
{
	const struct bb__cal_file *f = bb__cal_files;

	while (f->name && strcmp(f->name, "XNYS") != 0)
		f++;
	cr_assert_not_null(f->name);
	char *out = malloc(f->len + 1);
	cr_assert_not_null(out);
	size_t n = 0;
	for (size_t i = 0; i < f->len; i++) {
		if (strncmp(f->text + i, "-05:00", 6) == 0 ||
		    strncmp(f->text + i, "-04:00", 6) == 0) {
			i += 5;
			continue;
		}
		out[n++] = f->text[i];
	}
	cr_assert(ge(sz, f->len - n, 2 * 6 * 7794), "every time had an offset");
	*len = n;
	return out;
}

Test(load, xnys_local_times_through_tzdata_give_every_session_2000_2030)
{
	bb_calendar *local = NULL;
	bb_session a, b;
	size_t len, n = 0;
	char *text = xnys_without_offsets(&len);

	int rc = bb__calendar_parse(&local, text, len, "XNYS-local", err, sizeof err);
	free(text);
	cr_assert(eq(int, rc, 0), "%s", err);
	load_xnys();
	for (int32_t d = 20000101;
	     bb_calendar_next(cal, d, &a) == 0; n++) {
		cr_assert(eq(int, bb_calendar_next(local, d, &b), 0));
		cr_assert(eq(i32, b.date, a.date));
		cr_assert(eq(i64, b.open, a.open), "open of %d", (int)a.date);
		cr_assert(eq(i64, b.close, a.close), "close of %d", (int)a.date);
		cr_assert(eq(u32, b.flags, a.flags));
		d = bb_days_to_date(bb_date_to_days(a.date) + 1);
	}
	cr_assert(eq(sz, n, 7794));
	bb_calendar_free(local);
}

/* ---- XLON ------------------------------------------------------------- */

static void load_xlon(void)
{
	cr_assert(eq(int, bb_calendar_load(&cal, "xlon", err, sizeof err), 0),
	          "%s", err);
}

TestSuite(xlon, .init = load_xlon, .fini = unload, .timeout = 10);

Test(xlon, bank_holidays_2024_to_2026_absent)
{
	static const int32_t hol[] = {
		20240101, 20250101, 20260101, /* New Year's Day */
		20240329, 20250418, 20260403, /* Good Friday */
		20240401, 20250421, 20260406, /* Easter Monday */
		20240506, 20250505, 20260504, /* Early May */
		20240527, 20250526, 20260525, /* Spring */
		20240826, 20250825, 20260831, /* Summer */
		20241225, 20241226, 20251225, 20251226, 20261225,
		20261228,                     /* Boxing Day substitute */
	};

	for (size_t i = 0; i < sizeof hol / sizeof hol[0]; i++)
		cr_expect_not(has_session(hol[i]), "%d", (int)hol[i]);
	cr_assert(has_session(20250102));
	cr_assert(has_session(20260102));
	cr_assert(has_session(20240328));
	cr_assert(has_session(20240402));
	cr_assert_not(has_session(20240330)); /* Saturday */
}

Test(xlon, session_counts_per_year)
{
	cr_assert(eq(int, count_year(2024), 254));
	cr_assert(eq(int, count_year(2025), 253));
	cr_assert(eq(int, count_year(2026), 253));
	cr_assert(eq(int, count_year(2023), 0));
	cr_assert(eq(int, count_year(2027), 0));
}

Test(xlon, early_closes_1230_on_christmas_and_new_years_eves)
{
	static const int32_t eves[] = {
		20241224, 20241231, 20251224, 20251231, 20261224, 20261231,
	};
	char o[32], c[32];

	for (size_t i = 0; i < sizeof eves / sizeof eves[0]; i++) {
		int32_t d = eves[i];
		snprintf(o, sizeof o, "%04d-%02d-%02dT08:00:00Z", (int)(d / 10000),
		         (int)(d / 100 % 100), (int)(d % 100));
		snprintf(c, sizeof c, "%04d-%02d-%02dT12:30:00Z", (int)(d / 10000),
		         (int)(d / 100 % 100), (int)(d % 100));
		expect_session(d, o, c);
		cr_assert(is_early(d), "%d", (int)d);
	}
	cr_assert_not(is_early(20241223));
	expect_session(20241223, "2024-12-23T08:00:00Z", "2024-12-23T16:30:00Z");
}

Test(xlon, bst_changes_2024_to_2026)
{
	/* 2024: BST 31 Mar to 27 Oct */
	expect_session(20240328, "2024-03-28T08:00:00Z", "2024-03-28T16:30:00Z");
	expect_session(20240402, "2024-04-02T07:00:00Z", "2024-04-02T15:30:00Z");
	expect_session(20241025, "2024-10-25T07:00:00Z", "2024-10-25T15:30:00Z");
	expect_session(20241028, "2024-10-28T08:00:00Z", "2024-10-28T16:30:00Z");
	/* 2025: BST 30 Mar to 26 Oct */
	expect_session(20250328, "2025-03-28T08:00:00Z", "2025-03-28T16:30:00Z");
	expect_session(20250331, "2025-03-31T07:00:00Z", "2025-03-31T15:30:00Z");
	expect_session(20251024, "2025-10-24T07:00:00Z", "2025-10-24T15:30:00Z");
	expect_session(20251027, "2025-10-27T08:00:00Z", "2025-10-27T16:30:00Z");
	/* 2026: BST 29 Mar to 25 Oct */
	expect_session(20260327, "2026-03-27T08:00:00Z", "2026-03-27T16:30:00Z");
	expect_session(20260330, "2026-03-30T07:00:00Z", "2026-03-30T15:30:00Z");
	expect_session(20261023, "2026-10-23T07:00:00Z", "2026-10-23T15:30:00Z");
	expect_session(20261026, "2026-10-26T08:00:00Z", "2026-10-26T16:30:00Z");
}

Test(xlon, at_and_past_the_ends)
{
	bb_session s;

	cr_assert(eq(int, bb_calendar_at(cal, utc("2024-07-01T07:00:00Z"), &s), 0));
	cr_assert(eq(i32, s.date, 20240701));
	cr_assert(eq(int, bb_calendar_at(cal, utc("2024-07-01T15:30:00Z"), &s),
	             BB_ENOSESSION));
	cr_assert(eq(int, bb_calendar_next(cal, 20261232 - 1, &s), 0));
	cr_assert(eq(i32, s.date, 20261231));
	cr_assert(eq(int, bb_calendar_next(cal, 20270101, &s), BB_ENOSESSION));
	cr_assert(eq(int, bb_calendar_prev(cal, 20240102, &s), BB_ENOSESSION));
}
