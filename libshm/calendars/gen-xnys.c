/*
 * gen-xnys.c: writes XNYS.cal, the New York Stock Exchange calendar, from
 * the exchange's rules. Self-contained C11; built and run by hand:
 *
 *   cc -std=c11 -O2 -o /tmp/gen-xnys libshm/calendars/gen-xnys.c && /tmp/gen-xnys 2000 2030 > libshm/calendars/XNYS.cal
 *
 * Arguments: first and last year (default 2000 2030; rules hold 1998..).
 * The rules (NYSE Rule 7.2 and the exchange's holiday announcements):
 *   - regular session 09:30-16:00 America/New_York, Monday to Friday;
 *   - full-day holidays: New Year's Day (Sunday -> Monday; Saturday -> no
 *     holiday, the Friday before stays open), Martin Luther King Jr. Day
 *     (3rd Monday of January), Washington's Birthday (3rd Monday of
 *     February), Good Friday, Memorial Day (last Monday of May), Juneteenth
 *     (June 19, from 2022), Independence Day (July 4), Labor Day (1st Monday
 *     of September), Thanksgiving (4th Thursday of November), Christmas
 *     (December 25); holidays other than New Year's Day move from Saturday
 *     to the Friday before and from Sunday to the Monday after;
 *   - one-off closures listed in closures[];
 *   - 13:00 early closes: July 3 when a Monday, Tuesday or Thursday, and
 *     when a Wednesday from 2013 on; July 5 when a Friday until 2012 (July 4
 *     on a Thursday); the day after Thanksgiving; December 24 from Monday to
 *     Thursday; the one-offs listed in early_closes[].
 * US daylight saving time: 2007 on, 2nd Sunday of March to 1st Sunday of
 * November; 1987-2006, 1st Sunday of April to last Sunday of October.
 */
#include <stdio.h>
#include <stdlib.h>

enum { SUN, MON, TUE, WED, THU, FRI, SAT };

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static long days_from_civil(long y, long m, long d)
{
	y -= m <= 2;
	long era = (y >= 0 ? y : y - 399) / 400;
	long yoe = y - era * 400;
	long doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(long z, long *y, long *m, long *d)
{
	z += 719468;
	long era = (z >= 0 ? z : z - 146096) / 146097;
	long doe = z - era * 146097;
	long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yoe + era * 400 + (*m <= 2);
}

static int weekday(long days)
{
	return (int)(((days % 7) + 7 + THU) % 7); /* 1970-01-01 was a Thursday */
}

/* The n-th (n >= 1) weekday wd of month m; n = -1: the last one. */
static long nth_weekday(long y, long m, int wd, int n)
{
	if (n < 0) {
		long last = (m == 12 ? days_from_civil(y + 1, 1, 1)
		                     : days_from_civil(y, m + 1, 1)) - 1;
		return last - (weekday(last) - wd + 7) % 7;
	}
	long first = days_from_civil(y, m, 1);
	return first + (wd - weekday(first) + 7) % 7 + 7L * (n - 1);
}

/* Easter Sunday (anonymous Gregorian computus). */
static long easter(long y)
{
	long a = y % 19, b = y / 100, c = y % 100, d = b / 4, e = b % 4;
	long f = (b + 8) / 25, g = (b - f + 1) / 3;
	long h = (19 * a + b - d - g + 15) % 30, i = c / 4, k = c % 4;
	long l = (32 + 2 * e + 2 * i - h - k) % 7;
	long m = (a + 11 * h + 22 * l) / 451;
	long month = (h + l - 7 * m + 114) / 31;
	long day = (h + l - 7 * m + 114) % 31 + 1;
	return days_from_civil(y, month, day);
}

/* Saturday -> Friday before, Sunday -> Monday after. */
static long observed(long days)
{
	int wd = weekday(days);
	return wd == SAT ? days - 1 : wd == SUN ? days + 1 : days;
}

/* Closures the exchange declared for single events (YYYYMMDD). */
static const long closures[] = {
	20010911, 20010912, 20010913, 20010914, /* September 11 attacks */
	20040611, /* national day of mourning, President Reagan */
	20070102, /* national day of mourning, President Ford */
	20121029, 20121030, /* Hurricane Sandy */
	20181205, /* national day of mourning, President G. H. W. Bush */
	20250109, /* national day of mourning, President Carter */
};

/* Early closes outside the yearly rules (YYYYMMDD). */
static const long early_closes[] = {
	20031226, /* Friday after Christmas 2003 */
};

static int listed(const long *list, size_t n, long days)
{
	long y, m, d;

	civil_from_days(days, &y, &m, &d);
	for (size_t i = 0; i < n; i++)
		if (list[i] == y * 10000 + m * 100 + d)
			return 1;
	return 0;
}

static int is_holiday(long days)
{
	long y, m, d;

	civil_from_days(days, &y, &m, &d);
	long jan1 = days_from_civil(y, 1, 1);
	long hol[] = {
		weekday(jan1) == SUN ? jan1 + 1 : jan1, /* SAT: none (see head) */
		y >= 1998 ? nth_weekday(y, 1, MON, 3) : -1,
		nth_weekday(y, 2, MON, 3),
		easter(y) - 2,
		nth_weekday(y, 5, MON, -1),
		y >= 2022 ? observed(days_from_civil(y, 6, 19)) : -1,
		observed(days_from_civil(y, 7, 4)),
		nth_weekday(y, 9, MON, 1),
		nth_weekday(y, 11, THU, 4),
		observed(days_from_civil(y, 12, 25)),
	};
	for (size_t i = 0; i < sizeof hol / sizeof hol[0]; i++)
		if (hol[i] == days)
			return 1;
	/* No holiday moves across a year: a Saturday New Year's Day is not
	 * observed, and the others are far from year ends. */
	return listed(closures, sizeof closures / sizeof closures[0], days);
}

static int is_early_close(long days)
{
	long y, m, d;
	int wd = weekday(days);

	civil_from_days(days, &y, &m, &d);
	if (m == 7 && d == 3)
		return wd == MON || wd == TUE || wd == THU ||
		       (wd == WED && y >= 2013);
	if (m == 7 && d == 5)
		return wd == FRI && y <= 2012;
	if (days == nth_weekday(y, 11, THU, 4) + 1)
		return 1;
	if (m == 12 && d == 24)
		return wd >= MON && wd <= THU;
	return listed(early_closes, sizeof early_closes / sizeof early_closes[0],
	              days);
}

/* UTC offset in hours of New York at midday of local date days. */
static int ny_offset(long days)
{
	long y, m, d, start, end;

	civil_from_days(days, &y, &m, &d);
	if (y >= 2007) {
		start = nth_weekday(y, 3, SUN, 2);
		end = nth_weekday(y, 11, SUN, 1);
	} else {
		start = nth_weekday(y, 4, SUN, 1);
		end = nth_weekday(y, 10, SUN, -1);
	}
	return days >= start && days < end ? -4 : -5;
}

static void header(long y0, long y1)
{
	printf("# XNYS.cal: New York Stock Exchange regular sessions, "
	       "%04ld-01-01 to %04ld-12-31.\n", y0, y1);
	puts("# Generated by libshm/calendars/gen-xnys.c from the exchange's rules; edit the\n"
	     "# generator, not this file, and regenerate (docs/calendars.md):\n"
	     "#   cc -std=c11 -O2 -o /tmp/gen-xnys libshm/calendars/gen-xnys.c && "
	     "/tmp/gen-xnys 2000 2030 > libshm/calendars/XNYS.cal\n"
	     "#\n"
	     "# Format: '#' starts a comment. \"zone NAME\" names the time zone of the\n"
	     "# local times. Then one session per line, dates strictly increasing:\n"
	     "#   YYYY-MM-DD OPEN CLOSE [early]\n"
	     "# DATE is the exchange's local date; OPEN and CLOSE are local times\n"
	     "# HH:MM[:SS] with their UTC offset (Z, +HH:MM or -HH:MM), which the loader\n"
	     "# checks against the zone's daylight saving rules; \"early\" marks a\n"
	     "# scheduled early close. Days without a line have no session.\n"
	     "#\n"
	     "# Sessions 09:30-16:00 Monday to Friday; early closes at 13:00. Closed on\n"
	     "# New Year's Day, Martin Luther King Jr. Day, Washington's Birthday, Good\n"
	     "# Friday, Memorial Day, Juneteenth (from 2022), Independence Day, Labor Day,\n"
	     "# Thanksgiving and Christmas, observed per NYSE Rule 7.2, and on 2001-09-11\n"
	     "# to 09-14, 2004-06-11, 2007-01-02, 2012-10-29/30, 2018-12-05, 2025-01-09.\n"
	     "zone America/New_York");
}

int main(int argc, char **argv)
{
	long y0 = 2000, y1 = 2030;

	char *end0 = "", *end1 = "";

	if (argc == 3) {
		y0 = strtol(argv[1], &end0, 10);
		y1 = strtol(argv[2], &end1, 10);
	}
	if ((argc != 1 && argc != 3) || *end0 != '\0' || *end1 != '\0' ||
	    y0 < 1998 || y1 < y0 || y1 > 9999) {
		fprintf(stderr, "usage: gen-xnys [FIRST_YEAR LAST_YEAR]  "
		        "(1998 <= FIRST <= LAST <= 9999)\n");
		return 2;
	}
	header(y0, y1);
	for (long t = days_from_civil(y0, 1, 1);
	     t < days_from_civil(y1 + 1, 1, 1); t++) {
		long y, m, d;
		int wd = weekday(t), off = ny_offset(t);
		if (wd == SAT || wd == SUN || is_holiday(t))
			continue;
		civil_from_days(t, &y, &m, &d);
		int early = is_early_close(t);
		printf("%04ld-%02ld-%02ld 09:30-%02d:00 %s-%02d:00%s\n", y, m, d,
		       -off, early ? "13:00" : "16:00", -off, early ? " early" : "");
	}
	return ferror(stdout) || fflush(stdout) != 0;
}
