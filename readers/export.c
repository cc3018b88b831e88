/*
 * barbus-export --db DIR [--symbols A,B|@FILE] --from DATE --to DATE: the store's
 * bars as CSV on stdout, in the format barbus-import reads, so that an
 * export imported into an empty store and exported again is byte-identical.
 *
 * DATE is YYYY-MM-DD (UTC days, both ends included) or a timestamp as
 * barbus-import takes it (--to then excluded). Symbols come in the order
 * given, or every symbol in id order; each one's bars in time order, all
 * from one read transaction.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "csv.h"
#include "error.h"
#include "store.h"

#define PROG "barbus-export"

struct out {
	char   (*names)[BB_SYMBOL_MAX + 1]; /* by store id */
	uint64_t rows;
};

/* A date is its first second (or, for an inclusive end, the next day's). */
static int parse_when(const char *s, int end, int64_t *t)
{
	int32_t date;

	if (bb_date_parse(s, &date) == 0) {
		*t = (bb_date_to_days(date) + (end ? 1 : 0)) * 86400;
		return 0;
	}
	return bb_time_parse(s, t);
}

static int emit(void *arg, const bb_bar *b)
{
	struct out *o = arg;
	char line[BB__CSV_LINE_MAX];
	size_t n = bb__csv_format(line, sizeof(line), o->names[b->symbol], b);

	o->rows++;
	return fwrite(line, 1, n, stdout) == n ? 0 : EIO;
}

struct opts {
	char    db[4096];
	char  **syms;
	size_t  nsyms;
	int64_t from, to;
};

static int parse_from(void *dst, const char *v, char *reason, size_t len)
{
	return parse_when(v, 0, dst) == 0 ? 0
	       : bb__fail(reason, len, "'%s' is not a date YYYY-MM-DD or a "
	                  "timestamp", v);
}

static int parse_to(void *dst, const char *v, char *reason, size_t len)
{
	return parse_when(v, 1, dst) == 0 ? 0
	       : bb__fail(reason, len, "'%s' is not a date YYYY-MM-DD or a "
	                  "timestamp", v);
}

#define F(f) BB__FIELD(struct opts, f)

static const struct bb__setting table[] = {
	{ .key = "db", .type = BB__SETTING_STRING, F(db), .meta = "DIR",
	  .tags = BB__ARG_REQUIRED, .doc = "bar store directory (required)" },
	{ .key = "symbols", .type = BB__SETTING_LIST, F(syms),
	  .count_offset = offsetof(struct opts, nsyms),
	  .check = bb__args_check_symbol, .meta = "A,B|@FILE",
	  .doc = "these symbols, in this order (default: all, in id order)" },
	{ .key = "symbol", .type = BB__SETTING_LIST, F(syms),
	  .count_offset = offsetof(struct opts, nsyms),
	  .check = bb__args_check_symbol, .meta = "S",
	  .doc = "one symbol; may be given again (as --symbols)" },
	{ .key = "from", .type = BB__SETTING_CUSTOM, F(from), .parse = parse_from,
	  .meta = "DATE", .tags = BB__ARG_REQUIRED,
	  .doc = "first day (UTC), or first timestamp (required)" },
	{ .key = "to", .type = BB__SETTING_CUSTOM, F(to), .parse = parse_to,
	  .meta = "DATE", .tags = BB__ARG_REQUIRED,
	  .doc = "last day, included, or a timestamp, excluded (required)" },
};

static const struct bb__args args = {
	.prog = PROG,
	.synopsis =
	"usage: " PROG " --db DIR [--symbols A,B|@FILE] --from DATE --to DATE\n"
	"The store's bars as CSV on stdout, in the format barbus-import reads.\n"
	"DATE: YYYY-MM-DD (UTC, both ends included) or a timestamp (--to\n"
	"excluded).\n",
	.table = table, .n = sizeof(table) / sizeof(table[0]),
};

/* Every symbol's name by id into o->names. */
static int load_names(bb_store *st, struct out *o, uint32_t *n)
{
	int rc = bb_store_symbol_count(st, n);

	if (rc != 0)
		return rc;
	if ((o->names = calloc(*n ? *n : 1, sizeof(*o->names))) == NULL)
		return ENOMEM;
	for (uint32_t i = 0; i < *n && rc == 0; i++)
		rc = bb_store_symbol_name(st, i, o->names[i], sizeof(o->names[i]));
	return rc;
}

int main(int argc, char **argv)
{
	struct opts a = { 0 };
	struct out o = { 0 };
	uint32_t *ids = NULL, nsym_all;
	bb_store *st;
	int rc = bb__args_parse(&args, &a, argc, argv, NULL);

	if (rc != BB__ARGS_GO)
		return rc;
	if ((ids = calloc(a.nsyms + 1, sizeof(*ids))) == NULL ||
	    (rc = bb_store_open(&st, a.db, BB_STORE_RDONLY)) != 0) {
		fprintf(stderr, PROG ": %s: %s\n", a.db,
		        bb_strerror(ids ? rc : ENOMEM));
		free(ids);
		bb__settings_free(table, args.n, &a);
		return 1;
	}
	for (size_t i = 0; i < a.nsyms && rc == 0; i++)
		if ((rc = bb_store_symbol_id(st, a.syms[i], &ids[i])) != 0)
			fprintf(stderr, PROG ": symbol %s: %s\n", a.syms[i],
			        bb_strerror(rc));
	if (rc == 0 && (rc = load_names(st, &o, &nsym_all)) != 0)
		fprintf(stderr, PROG ": %s: symbol table: %s\n", a.db,
		        bb_strerror(rc));
	static char obuf[1 << 20];
	setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
	if (rc == 0) {
		fputs(BB__CSV_HEADER "\n", stdout);
		rc = bb__store_scan(st, a.nsyms ? ids : NULL, a.nsyms, a.from, a.to,
		                    emit, &o);
		if (fflush(stdout) != 0 && rc == 0)
			rc = EIO;
		if (rc != 0)
			fprintf(stderr, PROG ": %s: %s\n", rc == EIO ? "stdout" : a.db,
			        bb_strerror(rc));
	}
	bb_store_close(st);
	free(o.names);
	free(ids);
	bb__settings_free(table, args.n, &a);
	return rc ? 1 : 0;
}
