/*
 * barbus-bars: what a bus holds, as CSV, for people and scripts.
 *
 * usage: barbus-bars --bus NAME [--symbols A,B|@FILE] [--symbol S]...
 *                    [--interval 1m|Nm|Nh] [--history] [--quality]
 *
 * symbol,timestamp,open,high,low,close,volume,flags: one line per bar,
 * symbols in the order given (all, in id order, when none is), each
 * symbol's bars in time order; timestamps are interval starts in UTC;
 * prices print so that they read back as the same double; flags are empty
 * or |-joined words from filled, synthetic, partial, late.
 *
 * --quality: symbol,expected,real,late,filled,unfillable,synthetic,
 * pending,quality,quality_with_fills per symbol (docs/upkeep.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "barbus.h"
#include "barfmt.h"

#define PROG "barbus-bars"

struct opts {
	char       bus[BB_NAME_MAX + 1];
	char     **syms;
	size_t     nsyms;
	uint32_t   interval; /* minutes */
	int        history, quality;
};

#define F(f) BB__FIELD(struct opts, f)

static const struct bb__setting table[] = {
	{ .key = "bus", .type = BB__SETTING_STRING, F(bus),
	  .check = bb__args_check_bus, .meta = "NAME", .tags = BB__ARG_REQUIRED,
	  .doc = "bus name (required)" },
	{ .key = "symbols", .type = BB__SETTING_LIST, F(syms),
	  .count_offset = offsetof(struct opts, nsyms),
	  .check = bb__args_check_symbol, .meta = "A,B|@FILE",
	  .doc = "these symbols, in this order (default: all, in id order)" },
	{ .key = "symbol", .type = BB__SETTING_LIST, F(syms),
	  .count_offset = offsetof(struct opts, nsyms),
	  .check = bb__args_check_symbol, .meta = "S",
	  .doc = "one symbol; may be given again (as --symbols)" },
	{ .key = "interval", .type = BB__SETTING_CUSTOM, F(interval),
	  .parse = bb__barfmt_interval, .meta = "1m|Nm|Nh", .def = "1m",
	  .doc = "bar interval: 1m, or one the upkeep derives" },
	{ .key = "history", .type = BB__SETTING_BOOL, F(history),
	  .doc = "the trailing sessions first" },
	{ .key = "quality", .type = BB__SETTING_BOOL, F(quality),
	  .doc = "the upkeep's per-symbol quality figures instead" },
};

static const struct bb__args args = {
	.prog = PROG,
	.synopsis =
	"usage: " PROG " --bus NAME [--symbols A,B|@FILE] [--interval 1m|Nm|Nh]\n"
	"                   [--history] [--quality]\n"
	"Prints the bars a bus holds as CSV: the current (or just ended)\n"
	"session, or with --history the trailing sessions first.\n"
	"--quality prints the upkeep's per-symbol quality figures instead.\n",
	.table = table, .n = sizeof(table) / sizeof(table[0]),
};

static void print_bars(const char *sym, const bb_bar *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		bb__barfmt_csv(stdout, sym, &b[i]);
}

/* Counts first, in the order of the identity expected = real + filled +
 * unfillable + pending, each part followed by what it contains (late bars
 * are real, synthetic ones unfillable), then the two percentages. */
#define QUALITY_HEADER "symbol,expected,real,late,filled,unfillable," \
                       "synthetic,pending,quality,quality_with_fills"

static void print_quality(const char *sym, const bb_quality *q)
{
	printf("%s,%u,%u,%u,%u,%u,%u,%u,%.2f,%.2f\n", sym, q->expected, q->real,
	       q->late, q->filled, q->unfillable, q->synthetic, q->pending,
	       q->quality, q->quality_with_fills);
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
		fprintf(stderr, "barbus-bars: bus %s: --interval %um: %s\n", o->bus,
		        o->interval, bb_strerror(BB_ENOINTERVAL));
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
	printf("%s\n", o->quality ? QUALITY_HEADER : BB__BARFMT_HEADER);
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
	int rc = bb__args_parse(&args, &o, argc, argv, NULL);

	if (rc != BB__ARGS_GO)
		return rc;
	if ((rc = bb_bus_open(&bus, o.bus)) != 0) {
		fprintf(stderr, "barbus-bars: bus %s: %s\n", o.bus, rc == ENOENT
		        ? "no such bus (no coordinator has made it)" : bb_strerror(rc));
		bb__settings_free(table, args.n, &o);
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
	bb__settings_free(table, args.n, &o);
	bb_bus_close(bus);
	return rc;
}
