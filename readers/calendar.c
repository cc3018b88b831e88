/*
 * barbus-calendar: prints the sessions of a trading calendar.
 *
 *   barbus-calendar [--calendar NAME|FILE] --from DATE --to DATE
 *   barbus-calendar [--calendar NAME|FILE] --next DATE
 *
 * One session per line: "DATE OPEN CLOSE", the local date as YYYY-MM-DD and
 * the times in ISO-8601 UTC. Exit 0 on success, 1 on errors, 2 on usage.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "barbus.h"

#define PROG "barbus-calendar"

static const char usage_text[] =
	"usage: " PROG " [--calendar NAME|FILE] --from DATE --to DATE\n"
	"       " PROG " [--calendar NAME|FILE] --next DATE\n"
	"\n"
	"Prints trading sessions, one per line: DATE OPEN CLOSE, the exchange's\n"
	"date as YYYY-MM-DD and the open and close as ISO-8601 UTC times.\n"
	"\n"
	"  --calendar NAME|FILE  built-in XNYS (default; NYSE 2000-2030), XLON\n"
	"                        (London 2024-2026) or 24x7 (one session per UTC\n"
	"                        day), or a calendar file\n"
	"                        (format: docs/calendars.md)\n"
	"  --from DATE           first date of the range (YYYY-MM-DD)\n"
	"  --to DATE             last date of the range, inclusive\n"
	"  --next DATE           print the first session on or after DATE\n"
	"  --help                print this help\n";

struct args {
	const char *calendar;
	int32_t     from, to, next; /* 0: not given */
};

/* Prints a usage error naming the argument and why; returns exit status 2. */
__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry '" PROG " --help'.\n", stderr);
	return 2;
}

/* The date option opt's value into *date; 0 or exit status 2. */
static int date_arg(const char *opt, const char *val, int32_t *date)
{
	if (*date != 0)
		return usage_error("%s given twice", opt);
	if (bb_date_parse(val, date) != 0)
		return usage_error("%s: '%s' is not a valid date (want YYYY-MM-DD)",
		                   opt, val);
	return 0;
}

/* Fills a from argv; 0, or the exit status (2 usage, -1 help shown). */
static int parse_args(int argc, char **argv, struct args *a)
{
	for (int i = 1; i < argc; i++) {
		const char *opt = argv[i], *val;
		if (strcmp(opt, "--help") == 0 || strcmp(opt, "-h") == 0) {
			fputs(usage_text, stdout);
			return -1;
		}
		if (strcmp(opt, "--calendar") && strcmp(opt, "--from") &&
		    strcmp(opt, "--to") && strcmp(opt, "--next"))
			return usage_error("unknown argument '%s'", opt);
		if (i + 1 == argc)
			return usage_error("%s needs a value", opt);
		val = argv[++i];
		int rc = 0;
		if (strcmp(opt, "--calendar") == 0) {
			if (a->calendar != NULL)
				return usage_error("%s given twice", opt);
			a->calendar = val;
		} else if (strcmp(opt, "--from") == 0) {
			rc = date_arg(opt, val, &a->from);
		} else if (strcmp(opt, "--to") == 0) {
			rc = date_arg(opt, val, &a->to);
		} else {
			rc = date_arg(opt, val, &a->next);
		}
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Cross-checks the options once all are known; 0 or 2. */
static int check_args(const struct args *a)
{
	char f[11], t[11];

	if (a->next != 0 && (a->from != 0 || a->to != 0))
		return usage_error("--next cannot be combined with --from/--to");
	if (a->next != 0)
		return 0;
	if (a->from == 0 || a->to == 0)
		return usage_error("%s is missing (give --from and --to, or --next)",
		                   a->from == 0 ? "--from" : "--to");
	if (a->from > a->to) {
		bb_date_format(a->from, f);
		bb_date_format(a->to, t);
		return usage_error("--from %s is after --to %s", f, t);
	}
	return 0;
}

static void print_session(const bb_session *s)
{
	char d[11], o[21], c[21];

	bb_date_format(s->date, d);
	bb_time_format(s->open, o);
	bb_time_format(s->close, c);
	printf("%s %s %s\n", d, o, c);
}

/* Sessions with from <= date <= to; notes when the range passes the end. */
static int print_range(const bb_calendar *cal, const char *name,
                       int32_t from, int32_t to)
{
	bb_session s, last;
	char d[11];
	int32_t date = from;

	while (bb_calendar_next(cal, date, &s) == 0 && s.date <= to) {
		print_session(&s);
		date = bb_days_to_date(bb_date_to_days(s.date) + 1);
		if (date == 0)
			break;
	}
	if (bb_calendar_prev(cal, 99991231, &last) == 0 && last.date < to) {
		bb_date_format(last.date, d);
		fprintf(stderr, PROG ": note: calendar %s ends with the session "
		        "of %s\n", name, d);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct args a = { 0 };
	bb_calendar *cal;
	bb_session s;
	char err[512], d[11];

	int rc = parse_args(argc, argv, &a);
	if (rc != 0)
		return rc < 0 ? 0 : rc;
	if ((rc = check_args(&a)) != 0)
		return rc;
	const char *name = a.calendar ? a.calendar : "XNYS";
	rc = bb_calendar_load(&cal, name, err, sizeof err);
	if (rc != 0) {
		if (rc == BB_ECALENDAR)
			fprintf(stderr, PROG ": %s\n", err);
		else
			fprintf(stderr, PROG ": calendar '%s': %s (built-ins: XNYS, "
			        "24x7)\n", name, bb_strerror(rc));
		return 1;
	}
	if (a.next != 0) {
		rc = bb_calendar_next(cal, a.next, &s);
		if (rc == 0) {
			print_session(&s);
		} else {
			bb_date_format(a.next, d);
			fprintf(stderr, PROG ": no session on or after %s in "
			        "calendar %s\n", d, name);
		}
	} else {
		rc = print_range(cal, name, a.from, a.to);
	}
	bb_calendar_free(cal);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror(PROG ": stdout");
		return 1;
	}
	return rc != 0;
}
