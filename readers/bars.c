/*
 * barbus-bars: what a bus holds, as CSV, for people and scripts.
 *
 * usage: barbus-bars --bus NAME [--symbol S]... [--interval 1m|Nm|Nh]
 *                    [--history] [--quality]
 *
 * symbol,timestamp,open,high,low,close,volume,flags: one line per bar,
 * symbols in the order given (all, in id order, when none is), each
 * symbol's bars in time order; timestamps are interval starts in UTC;
 * prices print so that they read back as the same double; flags are empty
 * or |-joined words from filled, synthetic, partial, late.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "barbus.h"
#include "csv.h"

struct opts {
	const char  *bus;
	const char **syms;
	size_t       nsyms;
	uint32_t     interval; /* minutes */
	const char  *interval_arg; /* as given */
	int          history, quality;
};

static void usage(FILE *f)
{
	fprintf(f,
	    "usage: barbus-bars --bus NAME [--symbol S]... [--interval 1m|Nm|Nh]\n"
	    "                   [--history] [--quality]\n"
	    "Prints the bars a bus holds as CSV: the current (or just ended)\n"
	    "session, or with --history the trailing sessions first.\n"
	    "--quality prints the upkeep's per-symbol quality figures instead.\n");
}

/* "1m", "15m", "2h": whole minutes; 0 on anything else. */
static uint32_t interval_minutes(const char *s)
{
	char *end;
	errno = 0;
	unsigned long n = strtoul(s, &end, 10);

	if (errno || end == s || n == 0 || s[0] == '-' || s[0] == '+')
		return 0;
	if (strcmp(end, "m") == 0 && n <= 1440)
		return (uint32_t)n;
	if (strcmp(end, "h") == 0 && n <= 24)
		return (uint32_t)n * 60;
	return 0;
}

static int parse(int argc, char **argv, struct opts *o)
{
	o->syms = calloc((size_t)argc, sizeof(*o->syms));
	o->interval = 1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--help") == 0) {
			usage(stdout);
			exit(0);
		} else if (strcmp(a, "--history") == 0) {
			o->history = 1;
		} else if (strcmp(a, "--quality") == 0) {
			o->quality = 1;
		} else if (v != NULL && strcmp(a, "--bus") == 0) {
			o->bus = v, i++;
		} else if (v != NULL && strcmp(a, "--symbol") == 0) {
			o->syms[o->nsyms++] = v, i++;
		} else if (v != NULL && strcmp(a, "--interval") == 0) {
			o->interval_arg = v;
			if ((o->interval = interval_minutes(v)) == 0) {
				fprintf(stderr, "barbus-bars: --interval: '%s' is "
				        "not 1m, Nm or Nh\n", v);
				return 2;
			}
			i++;
		} else {
			fprintf(stderr, "barbus-bars: %s: %s\n", a, v == NULL &&
			        a[0] == '-' ? "needs a value or is unknown"
			        : "unknown argument");
			usage(stderr);
			return 2;
		}
	}
	if (o->bus == NULL || bb_bus_name_check(o->bus) != 0) {
		fprintf(stderr, "barbus-bars: --bus: %s\n",
		        o->bus ? bb_strerror(BB_ENAME) : "required");
		return 2;
	}
	return 0;
}

static void flag_words(uint32_t flags, char *buf, size_t len)
{
	static const struct { uint32_t bit; const char *word; } w[] = {
		{ BB_BAR_FILLED, "filled" }, { BB_BAR_SYNTHETIC, "synthetic" },
		{ BB_BAR_PARTIAL, "partial" }, { BB_BAR_LATE, "late" },
	};
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++)
		if (flags & w[i].bit)
			n += (size_t)snprintf(buf + n, len - n, "%s%s",
			                      n ? "|" : "", w[i].word);
}

static void print_bars(const char *sym, const bb_bar *b, size_t n)
{
	char line[BB__CSV_LINE_MAX], fl[40];

	for (size_t i = 0; i < n; i++) {
		size_t k = bb__csv_format(line, sizeof(line), sym, &b[i]);
		line[k - 1] = '\0'; /* drop the newline: flags follow */
		flag_words(b[i].flags, fl, sizeof(fl));
		printf("%s,%s\n", line, fl);
	}
}

static void print_quality(const char *sym, const bb_quality *q)
{
	printf("%s,%u,%u,%u,%u,%u,%.2f,%.2f\n", sym, q->expected, q->real,
	       q->filled, q->synthetic, q->unfillable, q->quality,
	       q->quality_with_fills);
}

/* sym's bars: with --history the trailing sessions, oldest first, then
 * the current session; fills merged in for 1m. */
static int one_symbol(const bb_bus *bus, const bb_upkeep *up,
                      const struct opts *o, uint32_t id, const char *name,
                      bb_bar *buf, size_t cap)
{
	bb_status st;
	size_t got;
	int32_t date;
	int rc = bb_bus_status(bus, &st);
	uint32_t back = !o->history ? 0 : o->interval == 1 ? st.history
	                : bb_upkeep_history_days(up);

	for (; rc == 0 && back > 0; back--) {
		rc = bb_bars_history(bus, up, back, id, o->interval, buf, cap,
		                     &got, &date);
		if (rc == BB_ENOTFOUND) { /* not kept (yet): nothing to print */
			rc = 0;
			continue;
		}
		if (rc == 0)
			print_bars(name, buf, got);
	}
	if (rc == 0)
		rc = bb_bars(bus, up, id, o->interval, buf, cap, &got);
	if (rc == 0)
		print_bars(name, buf, got);
	return rc;
}

/* The upkeep, when the options need it: 0, or 1 after saying why not. */
static int open_upkeep(const struct opts *o, bb_upkeep **up)
{
	uint32_t have[BB_UPKEEP_MAX_INTERVALS];
	int rc = bb_upkeep_open(up, o->bus);

	if (rc != 0)
		*up = NULL;
	if (rc != 0 && (o->quality || o->interval != 1)) {
		fprintf(stderr, "barbus-bars: bus %s: no upkeep has run on it, so "
		        "it holds no %s\n", o->bus, o->quality ? "quality figures"
		        : "derived bars");
		return 1;
	}
	size_t nhave = *up ? bb_upkeep_intervals(*up, have,
	                                         BB_UPKEEP_MAX_INTERVALS) : 0;
	int known = o->interval == 1 || o->quality;
	for (size_t i = 0; i < nhave && i < BB_UPKEEP_MAX_INTERVALS; i++)
		known |= have[i] == o->interval;
	if (!known) {
		fprintf(stderr, "barbus-bars: bus %s: --interval %s: %s\n", o->bus,
		        o->interval_arg, bb_strerror(BB_ENOINTERVAL));
		return 1;
	}
	return 0;
}

/* The ids of the symbols asked for (all, in id order, when none is). */
static int resolve(const struct opts *o, const bb_bus *bus, uint32_t *ids,
                   uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		ids[i] = i;
		if (o->nsyms && bb_symbol_lookup(bus, o->syms[i], &ids[i]) != 0) {
			fprintf(stderr, "barbus-bars: bus %s: unknown symbol %s\n",
			        o->bus, o->syms[i]);
			return 1;
		}
	}
	return 0;
}

static int one_quality(const bb_upkeep *up, uint32_t id, const char *name)
{
	bb_quality q;
	int rc = bb_upkeep_quality(up, id, &q);

	if (rc == BB_EEMPTY) /* nothing complete yet */
		q = (bb_quality){ .quality = 100, .quality_with_fills = 100 }, rc = 0;
	if (rc == 0)
		print_quality(name, &q);
	return rc;
}

static int print_all(const struct opts *o, const bb_bus *bus,
                     const bb_upkeep *up, const uint32_t *ids, uint32_t n)
{
	char name[BB_SYMBOL_MAX + 1];
	size_t cap = 1440 * 61; /* a day's minutes, 60 days of history and one */
	bb_bar *buf = o->quality ? NULL : malloc(cap * sizeof(*buf));
	int rc = 0;

	if (!o->quality && buf == NULL) {
		fprintf(stderr, "barbus-bars: %s\n", bb_strerror(ENOMEM));
		return 1;
	}
	printf("%s\n", o->quality ? "symbol,expected,real,filled,synthetic,"
	       "unfillable,quality,quality_with_fills" : BB__CSV_HEADER ",flags");
	for (uint32_t i = 0; rc == 0 && i < n; i++) {
		bb_symbol_name(bus, ids[i], name, sizeof(name));
		rc = o->quality ? one_quality(up, ids[i], name)
		     : one_symbol(bus, up, o, ids[i], name, buf, cap);
		if (rc != 0)
			fprintf(stderr, "barbus-bars: %s: %s\n", name, bb_strerror(rc));
	}
	free(buf);
	return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	bb_bus *bus;
	bb_upkeep *up = NULL;
	int rc = parse(argc, argv, &o);

	if (rc != 0)
		return rc;
	if ((rc = bb_bus_open(&bus, o.bus)) != 0) {
		fprintf(stderr, "barbus-bars: bus %s: %s\n", o.bus, rc == ENOENT
		        ? "no such bus (no coordinator has made it)" : bb_strerror(rc));
		free(o.syms);
		return 1;
	}
	uint32_t n = o.nsyms ? (uint32_t)o.nsyms : bb_symbol_count(bus);
	uint32_t *ids = calloc(n + 1, sizeof(*ids));
	if (ids == NULL)
		fprintf(stderr, "barbus-bars: %s\n", bb_strerror(ENOMEM));
	rc = ids == NULL ? 1 : open_upkeep(&o, &up);
	if (rc == 0)
		rc = resolve(&o, bus, ids, n);
	if (rc == 0)
		rc = print_all(&o, bus, up, ids, n);
	bb_upkeep_close(up);
	free(ids);
	free(o.syms);
	bb_bus_close(bus);
	return rc;
}
