/* timefmt_test.c: civil dates, ISO-8601 parsing and formatting. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "barbus.h"
#include "timefmt.h"

TestSuite(timefmt, .timeout = 10);

Test(timefmt, date_valid_accepts_leap_day)
{
	cr_assert(bb_date_valid(20240229));
	cr_assert(bb_date_valid(20000229));
}

Test(timefmt, date_valid_rejects_impossible_dates)
{
	cr_assert_not(bb_date_valid(20230229)); /* not a leap year */
	cr_assert_not(bb_date_valid(19000229)); /* century, not leap */
	cr_assert_not(bb_date_valid(20240230)); /* Feb 30 */
	cr_assert_not(bb_date_valid(20240431));
	cr_assert_not(bb_date_valid(20241301));
	cr_assert_not(bb_date_valid(20240001));
	cr_assert_not(bb_date_valid(20240100));
	cr_assert_not(bb_date_valid(0));
	cr_assert_not(bb_date_valid(-20240101));
	cr_assert_not(bb_date_valid(100000101)); /* year 10000 */
}

Test(timefmt, date_to_days_exact_values)
{
	cr_assert(eq(i64, bb_date_to_days(19700101), 0));
	cr_assert(eq(i64, bb_date_to_days(19691231), -1));
	cr_assert(eq(i64, bb_date_to_days(20000301), 11017));
	cr_assert(eq(i64, bb_date_to_days(10101), -719162));
	cr_assert(eq(i64, bb_date_to_days(99991231), 2932896));
}

Test(timefmt, days_to_date_round_trips_every_day_0001_to_9999)
{
	int32_t prev = 0;

	for (int64_t d = -719162; d <= 2932896; d++) {
		int32_t date = bb_days_to_date(d);
		if (!bb_date_valid(date) || bb_date_to_days(date) != d || date <= prev)
			cr_fatal("day %lld gave %d", (long long)d, (int)date);
		prev = date;
	}
}

Test(timefmt, days_to_date_outside_0001_9999_is_zero)
{
	cr_assert(eq(i32, bb_days_to_date(-719163), 0));
	cr_assert(eq(i32, bb_days_to_date(2932897), 0));
}

Test(timefmt, date_parse_accepts_iso_date)
{
	int32_t d = 0;

	cr_assert(eq(int, bb_date_parse("2024-07-03", &d), 0));
	cr_assert(eq(i32, d, 20240703));
}

Test(timefmt, date_parse_rejects_bad_input)
{
	static const char *bad[] = {
		"", "2024-7-03", "2024-07-3", "2024-07-03x", "2024-07-03 ",
		" 2024-07-03", "2024/07/03", "2024-02-30", "2023-02-29",
		"2024-13-01", "0000-01-01", "20240703", "2024-07-03T00:00Z",
	};
	int32_t d = 7;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_expect(eq(int, bb_date_parse(bad[i], &d), BB_EINVAL), "%s", bad[i]);
	cr_assert(eq(int, bb_date_parse(NULL, &d), BB_EINVAL));
	cr_assert(eq(i32, d, 7), "output untouched on error");
}

Test(timefmt, time_parse_utc_with_and_without_seconds)
{
	int64_t t = 0;

	cr_assert(eq(int, bb_time_parse("2024-07-03T13:30:00Z", &t), 0));
	cr_assert(eq(i64, t, 1720013400));
	cr_assert(eq(int, bb_time_parse("2024-07-03T13:30Z", &t), 0));
	cr_assert(eq(i64, t, 1720013400));
	cr_assert(eq(int, bb_time_parse("2024-07-03T13:30:59Z", &t), 0));
	cr_assert(eq(i64, t, 1720013459));
}

Test(timefmt, time_parse_applies_offsets)
{
	int64_t t = 0;

	cr_assert(eq(int, bb_time_parse("2024-07-03T09:30-04:00", &t), 0));
	cr_assert(eq(i64, t, 1720013400));
	cr_assert(eq(int, bb_time_parse("2024-07-03T19:00:00+05:30", &t), 0));
	cr_assert(eq(i64, t, 1720013400));
	cr_assert(eq(int, bb_time_parse("2024-07-03T13:30+00:00", &t), 0));
	cr_assert(eq(i64, t, 1720013400));
}

Test(timefmt, time_parse_offset_crosses_midnight)
{
	int64_t t = 0;

	cr_assert(eq(int, bb_time_parse("2024-01-01T00:30+01:00", &t), 0));
	cr_assert(eq(i64, t, bb_date_to_days(20231231) * 86400 + 23 * 3600 + 1800));
}

Test(timefmt, time_parse_epoch_seconds)
{
	int64_t t = 0;

	cr_assert(eq(int, bb_time_parse("1720013400", &t), 0));
	cr_assert(eq(i64, t, 1720013400));
	cr_assert(eq(int, bb_time_parse("0", &t), 0));
	cr_assert(eq(i64, t, 0));
	cr_assert(eq(int, bb_time_parse("-86400", &t), 0));
	cr_assert(eq(i64, t, -86400));
}

Test(timefmt, time_parse_accepts_pandas_and_polygon_iso_forms)
{
	static const char *good[] = {
		"2024-01-02 14:30:00+00:00",     /* pandas to_csv, UTC index */
		"2024-01-02T14:30:00.000Z",
		"2024-01-02T14:30:00.000000000Z", /* Databento pretty_ts */
		"2024-01-02 14:30:00+0000",
		"2024-01-02T09:30:00-0500",
		"2024-01-02 09:30:00.000-05:00",
		"2024-01-02T20:00+0530",
	};
	int64_t t = 0;

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		cr_assert(eq(int, bb_time_parse(good[i], &t), 0), "%s", good[i]);
		cr_expect(eq(i64, t, 1704205800), "%s", good[i]);
	}
}

Test(timefmt, epoch_units_by_option_and_by_magnitude)
{
	static const struct {
		const char *s;
		int unit;
		int64_t t;
	} ok[] = {
		{ "1704205800", BB__TIME_AUTO, 1704205800 },
		{ "1704205800000", BB__TIME_AUTO, 1704205800 },
		{ "1704205800000000", BB__TIME_AUTO, 1704205800 },
		{ "1704205800000000000", BB__TIME_AUTO, 1704205800 },
		{ "99999999960", BB__TIME_AUTO, 99999999960 },    /* < 1e11: s */
		{ "100000000000", BB__TIME_AUTO, 100000000 },     /* 1e11: ms */
		{ "-86400", BB__TIME_AUTO, -86400 },
		{ "60000", BB__TIME_MS, 60 },
		{ "60000000", BB__TIME_US, 60 },
		{ "60000000000", BB__TIME_NS, 60 },
		{ "1704205800000", BB__TIME_S, 1704205800000 },
		{ "2024-01-02T14:30Z", BB__TIME_NS, 1704205800 },
	};
	int64_t t;
	int why;

	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		t = 0;
		cr_assert(eq(int, bb__time_parse_unit(ok[i].s, ok[i].unit, &t, &why),
		             0), "%s", ok[i].s);
		cr_expect(eq(i64, t, ok[i].t), "%s", ok[i].s);
	}
}

Test(timefmt, fractions_of_a_second_are_told_apart_from_syntax)
{
	int64_t t = 7;
	int why = 0;

	cr_assert(eq(int, bb__time_parse_unit("1704205800500", BB__TIME_AUTO, &t,
	                                      &why), BB_EINVAL));
	cr_assert(eq(int, why, BB__TIME_FRACTION));
	cr_assert(eq(int, bb__time_parse_unit("2024-01-02T14:30:00.001Z",
	                                      BB__TIME_AUTO, &t, &why), BB_EINVAL));
	cr_assert(eq(int, why, BB__TIME_FRACTION));
	cr_assert(eq(int, bb__time_parse_unit("60001", BB__TIME_MS, &t, &why),
	             BB_EINVAL));
	cr_assert(eq(int, why, BB__TIME_FRACTION));
	cr_assert(eq(int, bb__time_parse_unit("2024-01-02T14:30:0.0Z",
	                                      BB__TIME_AUTO, &t, &why), BB_EINVAL));
	cr_assert(eq(int, why, BB__TIME_SYNTAX));
	cr_assert(eq(int, bb__time_parse_unit("12x", BB__TIME_AUTO, &t, &why),
	             BB_EINVAL));
	cr_assert(eq(int, why, BB__TIME_SYNTAX));
	cr_assert(eq(i64, t, 7), "output untouched on error");
}

Test(timefmt, time_unit_names)
{
	int u = -1;

	cr_assert(eq(int, bb__time_unit_parse("ns", &u), 0));
	cr_assert(eq(int, u, BB__TIME_NS));
	cr_assert(eq(int, bb__time_unit_parse("auto", &u), 0));
	cr_assert(eq(int, u, BB__TIME_AUTO));
	cr_assert(eq(int, bb__time_unit_parse("sec", &u), BB_EINVAL));
	cr_assert(eq(int, bb__time_unit_parse(NULL, &u), BB_EINVAL));
}

Test(timefmt, time_parse_rejects_bad_input)
{
	static const char *bad[] = {
		"", "-", "12a", "1e9", "+5", "9223372036854775808",
		"2024-07-03T13:30:00",      /* no zone */
		"2024-07-03  13:30:00Z", "2024-07-03t13:30:00Z",
		"2024-07-03T13:30:00z",
		"2024-07-03T24:00Z", "2024-07-03T13:60Z", "2024-07-03T13:30:60Z",
		"2024-07-03T1:30Z", "2024-07-03T13:3Z", "2024-07-03T13Z",
		"2024-02-30T00:00Z",        /* Feb 30 */
		"2024-07-03T13:30Zjunk", "2024-07-03T13:30Z ",
		"2024-07-03T13:30+040", "2024-07-03T13:30+04", "2024-07-03T13:30+24:00",
		"2024-07-03T13:30+04:60", "2024-07-03T13:30:00.5Z", "2024-07-03",
		"2024-07-03T13:30+2400", "2024-07-03T13:30:00.Z",
		"2024-07-03T13:30:00.0000000000Z", "2024-07-03T13:30.000Z",
	};
	int64_t t = 7;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_expect(eq(int, bb_time_parse(bad[i], &t), BB_EINVAL), "%s", bad[i]);
	cr_assert(eq(int, bb_time_parse(NULL, &t), BB_EINVAL));
	cr_assert(eq(i64, t, 7), "output untouched on error");
}

Test(timefmt, time_format_exact)
{
	char buf[21];

	bb_time_format(1720013400, buf);
	cr_assert(eq(str, buf, "2024-07-03T13:30:00Z"));
	bb_time_format(0, buf);
	cr_assert(eq(str, buf, "1970-01-01T00:00:00Z"));
	bb_time_format(-1, buf);
	cr_assert(eq(str, buf, "1969-12-31T23:59:59Z"));
	bb_time_format(951868799, buf);
	cr_assert(eq(str, buf, "2000-02-29T23:59:59Z"));
}

Test(timefmt, time_format_clamps_outside_0001_9999)
{
	char buf[21];

	bb_time_format(INT64_MAX, buf);
	cr_assert(eq(str, buf, "9999-12-31T23:59:59Z"));
	bb_time_format(INT64_MIN, buf);
	cr_assert(eq(str, buf, "0001-01-01T00:00:00Z"));
}

Test(timefmt, time_format_then_parse_round_trips)
{
	char buf[21];
	int64_t back;

	for (int64_t t = -2000000000; t < 4000000000; t += 7777777) {
		bb_time_format(t, buf);
		cr_assert(eq(int, bb_time_parse(buf, &back), 0), "%s", buf);
		cr_assert(eq(i64, back, t), "%s", buf);
	}
}

Test(timefmt, date_format_exact)
{
	char buf[11];

	bb_date_format(20240703, buf);
	cr_assert(eq(str, buf, "2024-07-03"));
	bb_date_format(10101, buf);
	cr_assert(eq(str, buf, "0001-01-01"));
	bb_date_format(20240230, buf);
	cr_assert(eq(str, buf, "0000-00-00"), "invalid date has a fixed form");
}
