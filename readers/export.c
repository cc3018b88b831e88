/*
 * barbus-export --db DIR [--symbol S]... --from DATE --to DATE: the store's
 * bars as CSV on stdout, in the format barbus-import reads, so that an
 * export imported into an empty store and exported again is byte-identical.
 *
 * DATE is YYYY-MM-DD (UTC days, both ends included) or a timestamp as
 * barbus-import takes it (--to then excluded). Symbols come in the order
 * given, or every symbol in id order; each one's bars in time order, all
 * from one read transaction.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
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

static void usage(FILE *f)
{
	fprintf(f, "usage: " PROG " --db DIR [--symbol S]... --from DATE --to DATE\n"
	        "  DATE: YYYY-MM-DD (UTC, both ends included) or a timestamp "
	        "(--to excluded)\n");
}

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
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "symbol", required_argument, NULL, 's' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *db = NULL, *from_s = NULL, *to_s = NULL;
	const char **syms = calloc((size_t)argc, sizeof(*syms));
	uint32_t *ids = calloc((size_t)argc, sizeof(*ids)), nsym_all;
	struct out o = { 0 };
	size_t nsyms = 0;
	int64_t from, to;
	bb_store *st;
	int c, rc;

	if (syms == NULL || ids == NULL)
		return 1;
	while ((c = getopt_long(argc, argv, "d:s:f:t:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 's': syms[nsyms++] = optarg; break;
		case 'f': from_s = optarg; break;
		case 't': to_s = optarg; break;
		case 'h': usage(stdout); goto usage_out;
		default: usage(stderr); goto usage_out;
		}
	}
	if (db == NULL || from_s == NULL || to_s == NULL || optind != argc) {
		usage(stderr);
		goto usage_out;
	}
	if (parse_when(from_s, 0, &from) != 0 || parse_when(to_s, 1, &to) != 0) {
		fprintf(stderr, PROG ": bad date \"%s\"\n",
		        parse_when(from_s, 0, &from) ? from_s : to_s);
		goto usage_out;
	}
	if ((rc = bb_store_open(&st, db, BB_STORE_RDONLY)) != 0) {
		fprintf(stderr, PROG ": %s: %s\n", db, bb_strerror(rc));
		free(syms);
		free(ids);
		return 1;
	}
	for (size_t i = 0; i < nsyms && rc == 0; i++)
		if ((rc = bb_store_symbol_id(st, syms[i], &ids[i])) != 0)
			fprintf(stderr, PROG ": symbol %s: %s\n", syms[i], bb_strerror(rc));
	if (rc == 0 && (rc = load_names(st, &o, &nsym_all)) != 0)
		fprintf(stderr, PROG ": %s: symbol table: %s\n", db, bb_strerror(rc));
	static char obuf[1 << 20];
	setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
	if (rc == 0) {
		fputs(BB__CSV_HEADER "\n", stdout);
		rc = bb__store_scan(st, nsyms ? ids : NULL, nsyms, from, to, emit, &o);
		if (fflush(stdout) != 0 && rc == 0)
			rc = EIO;
		if (rc != 0)
			fprintf(stderr, PROG ": %s: %s\n", rc == EIO ? "stdout" : db,
			        bb_strerror(rc));
	}
	bb_store_close(st);
	free(o.names);
	free(syms);
	free(ids);
	return rc ? 1 : 0;
usage_out:
	free(syms);
	free(ids);
	return c == 'h' ? 0 : 2;
}
