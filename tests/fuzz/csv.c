/*
 * csv.c: the bar CSV parser (libshm/csv.c) as barbus-import uses it. The
 * first line of the input is the header row (when it is refused, the
 * standard header is used), every other line a data row. Each line is
 * handed over in a buffer of exactly its length, so a read past its end is
 * an ASan report. Properties checked:
 *   - a refused header or row has a reason, NUL-terminated in its buffer;
 *   - an accepted row keeps csv.h's rules (valid symbol, whole minute,
 *     finite prices, low <= open, close <= high, volume >= 0);
 *   - an accepted row written back by bb__csv_format() reads back as
 *     the same bar (export then import loses nothing);
 *   - every field that parses as a finite number prints (fmt_double) and
 *     reads back as exactly the same double.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "fuzz.h"

/* A refusal's reason: non-empty and terminated inside its buffer. */
static void check_reason(const char *reason, size_t len)
{
	FUZZ_CHECK(memchr(reason, '\0', len) != NULL && reason[0] != '\0');
}

static void check_header(bb__csv_hdr *h, const char *s, size_t len)
{
	char reason[BB__CSV_REASON_MAX];
	char *line = malloc(len ? len : 1);

	FUZZ_CHECK(line != NULL);
	memcpy(line, s, len);
	memset(reason, 'x', sizeof(reason));
	if (bb__csv_parse_header(h, line, len, reason, sizeof(reason)) != 0) {
		check_reason(reason, sizeof(reason));
		FUZZ_CHECK(bb__csv_parse_header(h, BB__CSV_HEADER,
		                                strlen(BB__CSV_HEADER),
		                                reason, sizeof(reason)) == 0);
	}
	free(line);
}

static void check_rules(const bb__csv_row *r)
{
	const bb_bar *b = &r->bar;

	FUZZ_CHECK(bb_symbol_check(r->symbol) == 0);
	FUZZ_CHECK(b->time % 60 == 0);
	FUZZ_CHECK(isfinite(b->open) && isfinite(b->high) && isfinite(b->low) &&
	           isfinite(b->close) && isfinite(b->volume));
	FUZZ_CHECK(b->low <= b->open && b->open <= b->high);
	FUZZ_CHECK(b->low <= b->close && b->close <= b->high);
	FUZZ_CHECK(b->volume >= 0 && r->trades >= -1);
}

/* Formatted with the standard columns, the row reads back the same. */
static void check_round_trip(const bb__csv_row *r)
{
	char buf[BB__CSV_LINE_MAX], reason[BB__CSV_REASON_MAX];
	bb__csv_hdr h;
	bb__csv_row back;

	FUZZ_CHECK(bb__csv_parse_header(&h, BB__CSV_HEADER,
	                                strlen(BB__CSV_HEADER), reason,
	                                sizeof(reason)) == 0);
	size_t n = bb__csv_format(buf, sizeof(buf), r->symbol, &r->bar);
	FUZZ_CHECK(n > 0 && buf[n - 1] == '\n');
	int rc = bb__csv_parse_row(&h, buf, n - 1, &back, reason, sizeof(reason));
	if (rc != 0)
		fprintf(stderr, "\"%.*s\": %s\n", (int)(n - 1), buf, reason);
	FUZZ_CHECK(rc == 0);
	FUZZ_CHECK(strcmp(back.symbol, r->symbol) == 0);
	FUZZ_CHECK(memcmp(&back.bar, &r->bar, sizeof(back.bar)) == 0);
}

/* Each comma-separated field that is a finite number round-trips. */
static void check_numbers(const char *s, size_t len)
{
	char buf[32];
	double v, w;

	for (size_t i = 0, j; i <= len; i = j + 1) {
		for (j = i; j < len && s[j] != ','; j++)
			;
		if (bb__csv_parse_double(s + i, j - i, &v) != 0 || !isfinite(v))
			continue;
		int n = bb__csv_fmt_double(buf, sizeof(buf), v);
		FUZZ_CHECK(n > 0 && (size_t)n < sizeof(buf));
		FUZZ_CHECK(bb__csv_parse_double(buf, (size_t)n, &w) == 0);
		FUZZ_CHECK(memcmp(&v, &w, sizeof(v)) == 0);
	}
}

static void check_row(const bb__csv_hdr *h, const char *s, size_t len)
{
	char reason[BB__CSV_REASON_MAX];
	bb__csv_row row;
	char *line = malloc(len ? len : 1);

	FUZZ_CHECK(line != NULL);
	memcpy(line, s, len);
	memset(reason, 'x', sizeof(reason));
	if (bb__csv_parse_row(h, line, len, &row, reason, sizeof(reason)) == 0) {
		check_rules(&row);
		check_round_trip(&row);
	} else {
		check_reason(reason, sizeof(reason));
	}
	check_numbers(line, len);
	free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *end = s + size;
	bb__csv_hdr h;

	const char *nl = memchr(s, '\n', size);
	check_header(&h, s, nl ? (size_t)(nl - s) : size);
	while (nl != NULL) {
		s = nl + 1;
		nl = memchr(s, '\n', (size_t)(end - s));
		check_row(&h, s, nl ? (size_t)(nl - s) : (size_t)(end - s));
	}
	return 0;
}
