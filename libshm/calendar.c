/*
 * calendar.c: trading calendars. A calendar is a sorted array of sessions
 * parsed from a calendar file (docs/calendars.md), either one compiled into
 * the library (build/gen/calendars.c, from libshm/calendars/NAME.cal) or
 * one the user names by path; "24x7" is computed: one session per UTC day.
 *
 * Local times become UTC without libc's time zone state (TZ, tzset): each
 * time in a file carries its UTC offset, or the file names an IANA zone,
 * read from the system's zoneinfo by tz.c when the calendar is loaded; when
 * both are given the offset must be one the zone has at that local time.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "barbus.h"
#include "calendar.h"
#include "tz.h"

#define SECS_PER_DAY  86400
#define HOUR          3600
#define CAL_LINE_MAX  256          /* bytes in one line, without "\r\n" */
#define CAL_FIELDS    4            /* DATE OPEN CLOSE [early] */
#define CAL_FILE_MAX  (64u << 20)  /* refuse bigger files: EFBIG */
#define DEFAULT_NAME  "XNYS"

enum cal_kind { CAL_TABLE, CAL_24X7 };

struct bb_calendar {
	int         kind; /* cal_kind */
	size_t      n;    /* sessions in s, dates and opens strictly increasing */
	size_t      cap;
	bb_session *s;
};

/* State of one file being parsed. */
struct parse {
	const char  *file;
	unsigned     line;
	bb__tz      *zone; /* NULL until a zone line */
	char         zone_name[BB__TZ_NAME_MAX];
	char        *err;
	size_t       err_len;
	bb_calendar *cal;
};

__attribute__((format(printf, 2, 3)))
static int fail(struct parse *p, const char *fmt, ...)
{
	va_list ap;

	if (p->err == NULL || p->err_len == 0)
		return BB_ECALENDAR;
	int n = snprintf(p->err, p->err_len, "%s:%u: ", p->file, p->line);
	if (n >= 0 && (size_t)n < p->err_len) {
		va_start(ap, fmt);
		vsnprintf(p->err + n, p->err_len - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return BB_ECALENDAR;
}

/* "+HH:MM" / "-HH:MM" into buf (>= 7 bytes). */
static const char *offset_str(int32_t off, char *buf)
{
	int32_t a = off < 0 ? -off : off;

	snprintf(buf, 7, "%c%02d:%02d", off < 0 ? '-' : '+',
	         (int)(a / HOUR % 24), (int)(a / 60 % 60));
	return buf;
}

/* ---- the parser ------------------------------------------------------- */

/* Splits line at blanks into at most max fields; returns max + 1 if more. */
static int split(char *line, char **field, int max)
{
	int n = 0;

	for (char *q = line;;) {
		while (*q == ' ' || *q == '\t')
			*q++ = '\0';
		if (*q == '\0')
			return n;
		if (n == max)
			return max + 1;
		field[n++] = q;
		while (*q != '\0' && *q != ' ' && *q != '\t')
			q++;
	}
}

static int parse_zone(struct parse *p, char **f, int n)
{
	char why[CAL_LINE_MAX + 64];

	if (n != 2)
		return fail(p, "want 'zone NAME'");
	if (p->zone != NULL)
		return fail(p, "second zone line (the zone is %s)", p->zone_name);
	if (p->cal->n > 0)
		return fail(p, "zone line after the first session");
	if (bb__tz_name_check(f[1]) != 0)
		return fail(p, "bad zone name '%s' (want an IANA name such as "
		            "Europe/London: no '..', no leading '/')", f[1]);
	int rc = bb__tz_load(&p->zone, f[1], why, sizeof(why));
	if (rc == ENOMEM)
		return rc;
	if (rc != 0)
		return fail(p, "%s", why);
	snprintf(p->zone_name, sizeof(p->zone_name), "%s", f[1]);
	return 0;
}

static int bad_time(struct parse *p, const char *what, const char *s)
{
	return fail(p, "bad %s time '%s' (want HH:MM[:SS], then Z, +HH:MM or "
	            "-HH:MM)", what, s);
}

/*
 * One OPEN or CLOSE field: a local time of the session's local day, with
 * or without a UTC offset, into *t (UTC seconds).
 */
static int parse_time(struct parse *p, const char *what, const char *s,
                      int64_t day, int64_t *t)
{
	const char *q = s;
	int32_t sec, off = 0, zoff[2];
	char a[8], b[8];

	if (bb__clock_scan(&q, 1, &sec) != 0)
		return bad_time(p, what, s);
	int has_off = *q != '\0';
	if (has_off && (bb__offset_scan(&q, &off) != 0 || *q != '\0'))
		return bad_time(p, what, s);
	if (p->zone == NULL) {
		if (!has_off)
			return fail(p, "%s time '%s' has no UTC offset and no zone "
			            "line names the zone", what, s);
	} else {
		int n = bb__tz_local_offsets(p->zone, day * SECS_PER_DAY + sec,
		                             zoff);
		if (!has_off && n != 1)
			return fail(p, "%s time '%s' is %s in %s: give its UTC "
			            "offset", what, s, n ? "ambiguous" : "skipped",
			            p->zone_name);
		if (!has_off)
			off = zoff[0];
		else if (n == 0 || (off != zoff[0] && (n < 2 || off != zoff[1])))
			return fail(p, "%s time '%s': %s has offset %s there, "
			            "not %s", what, s, p->zone_name,
			            n ? offset_str(zoff[0], a) : "none",
			            offset_str(off, b));
	}
	*t = day * SECS_PER_DAY + sec - off;
	return 0;
}

static int append(bb_calendar *cal, const bb_session *s)
{
	if (cal->n == cal->cap) {
		size_t cap = cal->cap ? cal->cap * 2 : 512;
		bb_session *ns = realloc(cal->s, cap * sizeof(*ns));
		if (ns == NULL)
			return ENOMEM;
		cal->s = ns;
		cal->cap = cap;
	}
	cal->s[cal->n++] = *s;
	return 0;
}

static int parse_session(struct parse *p, char **f, int n)
{
	bb_session s = { 0 };
	int rc;

	if (n < 3)
		return fail(p, "want DATE OPEN CLOSE [early]");
	if (n > CAL_FIELDS)
		return fail(p, "unexpected text after field %d", CAL_FIELDS);
	if (bb_date_parse(f[0], &s.date) != 0)
		return fail(p, "bad date '%s' (want a valid YYYY-MM-DD)", f[0]);
	int64_t day = bb_date_to_days(s.date);
	if ((rc = parse_time(p, "open", f[1], day, &s.open)) != 0 ||
	    (rc = parse_time(p, "close", f[2], day, &s.close)) != 0)
		return rc;
	if (s.close <= s.open)
		return fail(p, "close %s is not after open %s", f[2], f[1]);
	if (n == 4 && strcmp(f[3], "early") != 0)
		return fail(p, "unknown flag '%s' (want 'early')", f[3]);
	s.flags = n == 4 ? BB_SESSION_EARLY_CLOSE : 0;
	if (p->cal->n > 0) {
		const bb_session *prev = &p->cal->s[p->cal->n - 1];
		if (s.date == prev->date)
			return fail(p, "duplicate date %s", f[0]);
		if (s.date < prev->date)
			return fail(p, "date %s is before the previous line's", f[0]);
		if (s.open < prev->close)
			return fail(p, "session opens before the previous one closes");
	}
	return append(p->cal, &s);
}

/* One line, NUL-terminated, without its newline. */
static int parse_line(struct parse *p, char *line)
{
	char *f[CAL_FIELDS + 1];

	for (const char *c = line; *c != '\0' && *c != '#'; c++)
		if ((unsigned char)*c < 0x20 && *c != '\t')
			return fail(p, "control character 0x%02x", (unsigned)*c);
	line[strcspn(line, "#")] = '\0';
	int n = split(line, f, CAL_FIELDS);
	if (n == 0)
		return 0;
	if (strcmp(f[0], "zone") == 0)
		return parse_zone(p, f, n);
	return parse_session(p, f, n);
}

int bb__calendar_parse(bb_calendar **out, const char *text, size_t len,
                       const char *file, char *err, size_t err_len)
{
	char buf[CAL_LINE_MAX + 1];
	int rc = 0;
	bb_calendar *cal = calloc(1, sizeof(*cal));
	struct parse p = { .file = file, .err = err, .err_len = err_len,
	                   .cal = cal };

	if (cal == NULL)
		return ENOMEM;
	cal->kind = CAL_TABLE;
	for (size_t i = 0; i < len && rc == 0;) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t e = nl ? (size_t)(nl - text) : len, n = e - i;
		p.line++;
		if (n > 0 && text[e - 1] == '\r')
			n--;
		if (n > CAL_LINE_MAX) {
			rc = fail(&p, "line longer than %d bytes", CAL_LINE_MAX);
			break;
		}
		memcpy(buf, text + i, n);
		buf[n] = '\0';
		/* An embedded NUL would hide the rest of the line. */
		if (memchr(text + i, '\0', n) != NULL)
			rc = fail(&p, "control character 0x00");
		else
			rc = parse_line(&p, buf);
		i = e + 1;
	}
	if (rc == 0 && cal->n == 0) {
		p.line = p.line ? p.line : 1;
		rc = fail(&p, "no sessions");
	}
	bb__tz_free(p.zone);
	if (rc != 0) {
		bb_calendar_free(cal);
		return rc;
	}
	*out = cal;
	return 0;
}

/* ---- loading ---------------------------------------------------------- */

/* Doubles the buffer *b of *cap bytes, up to CAL_FILE_MAX (then EFBIG). */
static int grow(char **b, size_t *cap)
{
	if (*cap >= CAL_FILE_MAX)
		return EFBIG;
	char *nb = realloc(*b, *cap * 2);
	if (nb == NULL)
		return ENOMEM;
	*b = nb;
	*cap *= 2;
	return 0;
}

/* Whole file into a malloc'd buffer (*buf, *len); 0 or an errno value. */
static int slurp(const char *path, char **buf, size_t *len)
{
	struct stat st;
	size_t n = 0, cap = 1 << 16;
	char *b = NULL;
	int rc = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return errno;
	if (fstat(fd, &st) != 0) {
		rc = errno;
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = EISDIR;
		goto out;
	}
	if ((b = malloc(cap)) == NULL) {
		rc = ENOMEM;
		goto out;
	}
	for (;;) {
		if (n == cap && (rc = grow(&b, &cap)) != 0)
			goto out;
		ssize_t r = read(fd, b + n, cap - n);
		if (r == 0)
			break;
		if (r < 0 && errno != EINTR) {
			rc = errno;
			goto out;
		}
		n += r > 0 ? (size_t)r : 0;
	}
out:
	close(fd);
	if (rc != 0) {
		free(b);
		return rc;
	}
	*buf = b;
	*len = n;
	return 0;
}

int bb_calendar_load(bb_calendar **out, const char *name_or_path,
                     char *err, size_t err_len)
{
	const char *name = name_or_path;
	char *text = NULL;
	size_t len = 0;

	if (err != NULL && err_len > 0)
		err[0] = '\0';
	if (out == NULL)
		return BB_EINVAL;
	*out = NULL;
	if (name == NULL || name[0] == '\0')
		name = DEFAULT_NAME;
	if (strcasecmp(name, "24x7") == 0) {
		if ((*out = calloc(1, sizeof(**out))) == NULL)
			return ENOMEM;
		(*out)->kind = CAL_24X7;
		return 0;
	}
	for (const struct bb__cal_file *f = bb__cal_files; f->name; f++)
		if (strcasecmp(name, f->name) == 0)
			return bb__calendar_parse(out, f->text, f->len, f->path,
			                          err, err_len);
	int rc = slurp(name, &text, &len);
	if (rc != 0)
		return rc;
	rc = bb__calendar_parse(out, text, len, name, err, err_len);
	free(text);
	return rc;
}

void bb_calendar_free(bb_calendar *cal)
{
	if (cal == NULL)
		return;
	free(cal->s);
	free(cal);
}

/* ---- queries ---------------------------------------------------------- */

/* The 24x7 session of day number day, within years 0001..9999. */
static int utc_day(int64_t day, bb_session *out)
{
	int32_t date = bb_days_to_date(day);

	if (date == 0)
		return BB_ENOSESSION;
	*out = (bb_session){ .date = date, .open = day * SECS_PER_DAY,
	                     .close = (day + 1) * SECS_PER_DAY };
	return 0;
}

/* Index of the first session whose date is >= date (n if none). */
static size_t lower_bound(const bb_calendar *cal, int32_t date)
{
	size_t lo = 0, hi = cal->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cal->s[mid].date < date)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int bb_calendar_next(const bb_calendar *cal, int32_t date, bb_session *out)
{
	if (cal == NULL || out == NULL || !bb_date_valid(date))
		return BB_EINVAL;
	if (cal->kind == CAL_24X7)
		return utc_day(bb_date_to_days(date), out);
	size_t i = lower_bound(cal, date);
	if (i == cal->n)
		return BB_ENOSESSION;
	*out = cal->s[i];
	return 0;
}

int bb_calendar_prev(const bb_calendar *cal, int32_t date, bb_session *out)
{
	if (cal == NULL || out == NULL || !bb_date_valid(date))
		return BB_EINVAL;
	if (cal->kind == CAL_24X7)
		return utc_day(bb_date_to_days(date) - 1, out);
	size_t i = lower_bound(cal, date);
	if (i == 0)
		return BB_ENOSESSION;
	*out = cal->s[i - 1];
	return 0;
}

int bb_calendar_at(const bb_calendar *cal, int64_t t, bb_session *out)
{
	if (cal == NULL || out == NULL)
		return BB_EINVAL;
	if (cal->kind == CAL_24X7) {
		int64_t day = t / SECS_PER_DAY - (t % SECS_PER_DAY < 0);
		return utc_day(day, out);
	}
	/* Opens increase strictly: find the last session opening at or before t. */
	size_t lo = 0, hi = cal->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cal->s[mid].open <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || t >= cal->s[lo - 1].close)
		return BB_ENOSESSION;
	*out = cal->s[lo - 1];
	return 0;
}
