/*
 * barbus-calendar: prints the sessions of a trading calendar.
 *
 *   barbus-calendar [--calendar NAME|FILE] --from DATE --to DATE
 *   barbus-calendar [--calendar NAME|FILE] --next DATE
 *
 * One session per line: "DATE OPEN CLOSE", the local date as YYYY-MM-DD and
 * the times in ISO-8601 UTC. Exit 0 on success, 1 on errors, 2 on usage.
 */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "barbus.h"

#define PROG "barbus-calendar"

struct opts {
	char    calendar[256];
	int32_t from, to, next; /* 0: not given */
};

#define F(f) BB__FIELD(struct opts, f)

static const struct bb__setting table[] = {
	{ .key = "calendar", .type = BB__SETTING_STRING, F(calendar),
	  .meta = "NAME|FILE", .def = "XNYS",
	  .doc = "built-in XNYS (NYSE 2000-2030), XLON (London 2024-2026) or "
	         "24x7 (one session per UTC day), or a calendar file "
	         "(docs/calendars.md)" },
	{ .key = "from", .type = BB__SETTING_DATE, F(from),
	  .doc = "first date of the range (YYYY-MM-DD)" },
	{ .key = "to", .type = BB__SETTING_DATE, F(to),
	  .doc = "last date of the range, inclusive" },
	{ .key = "next", .type = BB__SETTING_DATE, F(next),
	  .doc = "print the first session on or after DATE" },
};

static const struct bb__args args = {
	.prog = PROG,
	.synopsis =
	"usage: " PROG " [--calendar NAME|FILE] --from DATE --to DATE\n"
	"       " PROG " [--calendar NAME|FILE] --next DATE\n"
	"Prints trading sessions, one per line: DATE OPEN CLOSE, the exchange's\n"
	"date as YYYY-MM-DD and the open and close as ISO-8601 UTC times.\n",
	.table = table, .n = sizeof(table) / sizeof(table[0]),
};

#define usage_error(...) bb__args_usage_error(PROG, __VA_ARGS__)

/* Cross-checks the options once all are known; 0 or 2. */
static int check_args(const struct opts *a)
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
	struct opts a = { 0 };
	bb_calendar *cal;
	bb_session s;
	char err[512], d[11];

	int rc = bb__args_parse(&args, &a, argc, argv, NULL);
	if (rc != BB__ARGS_GO)
		return rc;
	if ((rc = check_args(&a)) != 0)
		return rc;
	const char *name = a.calendar;
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
