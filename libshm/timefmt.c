/*
 * timefmt.c: civil dates and UTC times without libc time zone state.
 *
 * Dates are proleptic Gregorian, years 0001..9999. Day numbers use
 * H. Hinnant's days_from_civil / civil_from_days: exact integer arithmetic,
 * no tables, no tm structs, no TZ.
 */
#include <stdint.h>
#include <string.h>

#include "barbus.h"
#include "calendar.h"
#include "timefmt.h"

#define SECS_PER_DAY 86400
#define DAY_MIN      (-719162)  /* 0001-01-01 */
#define DAY_MAX      2932896    /* 9999-12-31 */

static int is_leap(int32_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int32_t y, int32_t m)
{
	static const unsigned char len[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	return m == 2 && is_leap(y) ? 29 : len[m - 1];
}

int bb_date_valid(int32_t date)
{
	int32_t y = date / 10000, m = date / 100 % 100, d = date % 100;

	if (date <= 0 || y < 1 || y > 9999 || m < 1 || m > 12)
		return 0;
	return d >= 1 && d <= month_days(y, m);
}

/* Exact for valid dates; any other input gives an unspecified value. */
int64_t bb_date_to_days(int32_t date)
{
	int64_t y = date / 10000, m = date / 100 % 100, d = date % 100;

	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;                          /* [0, 399] */
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;  /* [0, 146096] */
	return era * 146097 + doe - 719468;
}

/* YYYYMMDD of day number days; 0 (not a valid date) outside 0001..9999. */
int32_t bb_days_to_date(int64_t days)
{
	if (days < DAY_MIN || days > DAY_MAX)
		return 0;
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1;
	int64_t m = mp < 10 ? mp + 3 : mp - 9;
	int64_t y = yoe + era * 400 + (m <= 2);
	return (int32_t)(y * 10000 + m * 100 + d);
}

/* Reads exactly n decimal digits at *p and advances *p; -1 if not digits. */
static int32_t digits(const char **p, int n)
{
	int32_t v = 0;

	for (int i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	*p += n;
	return v;
}

/* "YYYY-MM-DD" at *p, advancing *p past it; 0 or BB_EINVAL. */
static int date_scan(const char **p, int32_t *date)
{
	int32_t y = digits(p, 4), m, d;

	if (y < 0 || **p != '-')
		return BB_EINVAL;
	++*p;
	if ((m = digits(p, 2)) < 0 || **p != '-')
		return BB_EINVAL;
	++*p;
	if ((d = digits(p, 2)) < 0)
		return BB_EINVAL;
	if (!bb_date_valid(y * 10000 + m * 100 + d))
		return BB_EINVAL;
	*date = y * 10000 + m * 100 + d;
	return 0;
}

int bb_date_parse(const char *s, int32_t *date)
{
	int32_t v;

	if (s == NULL || date_scan(&s, &v) != 0 || *s != '\0')
		return BB_EINVAL;
	*date = v;
	return 0;
}

/*
 * "HH:MM" or "HH:MM:SS" at *p, advancing *p; *sec is seconds after
 * midnight. With allow_24, "24:00" and "24:00:00" give 86400.
 */
int bb__clock_scan(const char **p, int allow_24, int32_t *sec)
{
	const char *q = *p;
	int32_t h = digits(&q, 2), m, s = 0;

	if (h < 0 || *q != ':')
		return BB_EINVAL;
	q++;
	if ((m = digits(&q, 2)) < 0)
		return BB_EINVAL;
	if (*q == ':') {
		q++;
		if ((s = digits(&q, 2)) < 0)
			return BB_EINVAL;
	}
	if (m > 59 || s > 59 || h > 24 || (h == 24 && (!allow_24 || m || s)))
		return BB_EINVAL;
	*sec = h * 3600 + m * 60 + s;
	*p = q;
	return 0;
}

/* "Z", "+HH:MM" or "-HH:MM" at *p, advancing *p; *off is seconds east. */
int bb__offset_scan(const char **p, int32_t *off)
{
	const char *q = *p;
	int32_t h, m;

	if (*q == 'Z') {
		*off = 0;
		*p = q + 1;
		return 0;
	}
	if (*q != '+' && *q != '-')
		return BB_EINVAL;
	int sign = *q++ == '-' ? -1 : 1;
	if ((h = digits(&q, 2)) < 0 || *q != ':')
		return BB_EINVAL;
	q++;
	if ((m = digits(&q, 2)) < 0 || h > 23 || m > 59)
		return BB_EINVAL;
	*off = sign * (h * 3600 + m * 60);
	*p = q;
	return 0;
}

/* Optional '-' and 1..19 digits that fit an int64, nothing else. */
static int epoch_parse(const char *s, int64_t *t)
{
	int neg = *s == '-';
	int64_t v = 0;
	size_t n = 0;

	s += neg;
	for (; s[n] != '\0'; n++) {
		int d = s[n] - '0';
		if (s[n] < '0' || s[n] > '9' || v > (INT64_MAX - d) / 10)
			return BB_EINVAL;
		v = v * 10 + d;
	}
	if (n == 0)
		return BB_EINVAL;
	*t = neg ? -v : v;
	return 0;
}

/* Epoch count v in unit (AUTO: by magnitude) into whole seconds. */
static int epoch_to_secs(int64_t v, int unit, int64_t *t, int *why)
{
	static const int64_t per_sec[] = { 1, 1, 1000, 1000000, 1000000000 };
	int64_t a = v < 0 ? -v : v;

	if (unit == BB__TIME_AUTO)
		unit = a < INT64_C(100000000000) ? BB__TIME_S
		     : a < INT64_C(100000000000000) ? BB__TIME_MS
		     : a < INT64_C(100000000000000000) ? BB__TIME_US : BB__TIME_NS;
	if (unit < BB__TIME_S || unit > BB__TIME_NS) {
		*why = BB__TIME_SYNTAX;
		return BB_EINVAL;
	}
	if (v % per_sec[unit] != 0) {
		*why = BB__TIME_FRACTION;
		return BB_EINVAL;
	}
	*t = v / per_sec[unit];
	return 0;
}

/* ".d" with 1..9 digits at *p, if any, advancing *p; *why when not zero. */
static int fraction_scan(const char **p, int *why)
{
	const char *q = *p;
	int n = 0, nonzero = 0;

	if (*q != '.')
		return 0;
	for (q++; *q >= '0' && *q <= '9'; q++, n++)
		nonzero |= *q != '0';
	if (n == 0 || n > 9) {
		*why = BB__TIME_SYNTAX;
		return BB_EINVAL;
	}
	if (nonzero) {
		*why = BB__TIME_FRACTION;
		return BB_EINVAL;
	}
	*p = q;
	return 0;
}

/* An offset as bb__offset_scan() reads it, or "+HHMM" / "-HHMM". */
static int offset_scan_any(const char **p, int32_t *off)
{
	const char *q = *p;
	int32_t h, m;

	if (bb__offset_scan(p, off) == 0)
		return 0;
	if (*q != '+' && *q != '-')
		return BB_EINVAL;
	int sign = *q++ == '-' ? -1 : 1;
	if ((h = digits(&q, 2)) < 0 || (m = digits(&q, 2)) < 0 || h > 23 ||
	    m > 59)
		return BB_EINVAL;
	*off = sign * (h * 3600 + m * 60);
	*p = q;
	return 0;
}

/* Inside years 0001..9999 UTC, which bb_time_format() writes as they are. */
static int in_years(int64_t t)
{
	return t >= (int64_t)DAY_MIN * SECS_PER_DAY &&
	       t < ((int64_t)DAY_MAX + 1) * SECS_PER_DAY;
}

/* ISO-8601 as bb__time_parse_unit() describes it. */
static int iso_parse(const char *p, int64_t *t, int *why)
{
	int32_t date, sec, off;

	*why = BB__TIME_SYNTAX;
	if (date_scan(&p, &date) != 0 || (*p != 'T' && *p != ' '))
		return BB_EINVAL;
	const char *clock = ++p;
	if (bb__clock_scan(&p, 0, &sec) != 0)
		return BB_EINVAL;
	if (*p == '.' && p - clock != 8)
		return BB_EINVAL; /* a fraction needs seconds: HH:MM:SS.fff */
	if (fraction_scan(&p, why) != 0)
		return BB_EINVAL;
	if (offset_scan_any(&p, &off) != 0 || *p != '\0')
		return BB_EINVAL;
	*t = bb_date_to_days(date) * SECS_PER_DAY + sec - off;
	return 0;
}

int bb__time_parse_unit(const char *s, int unit, int64_t *t, int *why)
{
	int64_t v;
	int w = BB__TIME_SYNTAX;

	if (s != NULL && strchr(s, ':') != NULL) {
		if (iso_parse(s, &v, &w) == 0) {
			*t = v;
			return 0;
		}
	} else if (s != NULL && epoch_parse(s, &v) == 0) {
		return epoch_to_secs(v, unit, t, why);
	}
	*why = w;
	return BB_EINVAL;
}

int bb__time_unit_parse(const char *name, int *unit)
{
	static const char *const names[] = { "auto", "s", "ms", "us", "ns" };

	for (int i = 0; i < (int)(sizeof names / sizeof names[0]); i++)
		if (name != NULL && strcmp(name, names[i]) == 0) {
			*unit = i;
			return 0;
		}
	return BB_EINVAL;
}

int bb_time_parse(const char *s, int64_t *t)
{
	int64_t v;
	int why;

	/* an offset past the first or last day, or a 19-digit count */
	if (bb__time_parse_unit(s, BB__TIME_S, &v, &why) != 0 || !in_years(v))
		return BB_EINVAL;
	*t = v;
	return 0;
}

/* Writes v as exactly n decimal digits (v >= 0, v < 10^n). */
static char *put(char *b, int64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v /= 10)
		b[i] = (char)('0' + v % 10);
	return b + n;
}

void bb_date_format(int32_t date, char *buf)
{
	char *b = buf;

	if (!bb_date_valid(date)) {
		memcpy(buf, "0000-00-00", 11);
		return;
	}
	b = put(b, date / 10000, 4);
	*b++ = '-';
	b = put(b, date / 100 % 100, 2);
	*b++ = '-';
	b = put(b, date % 100, 2);
	*b = '\0';
}

/* Times outside years 0001..9999 are clamped to that range. */
void bb_time_format(int64_t t, char *buf)
{
	const int64_t lo = (int64_t)DAY_MIN * SECS_PER_DAY;
	const int64_t hi = ((int64_t)DAY_MAX + 1) * SECS_PER_DAY - 1;

	if (t < lo)
		t = lo;
	if (t > hi)
		t = hi;
	int64_t days = (t >= 0 ? t : t - (SECS_PER_DAY - 1)) / SECS_PER_DAY;
	int64_t sec = t - days * SECS_PER_DAY;
	bb_date_format(bb_days_to_date(days), buf);
	char *b = buf + 10;
	*b++ = 'T';
	b = put(b, sec / 3600, 2);
	*b++ = ':';
	b = put(b, sec / 60 % 60, 2);
	*b++ = ':';
	b = put(b, sec % 60, 2);
	*b++ = 'Z';
	*b = '\0';
}
