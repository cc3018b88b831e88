/*
 * csv.h: the bar CSV format, shared by barbus-import, barbus-export and the
 * coordinator's live feed so that all of them accept the same rows and
 * reject the others with the same reason texts (docs/store.md).
 *
 *   symbol,timestamp,open,high,low,close,volume[,trades][,vwap]
 *
 * Columns in any order given by the header row, names case-insensitive;
 * Polygon's and Databento's names are accepted too, and Databento's
 * rtype, publisher_id and instrument_id columns are ignored.
 * Fields may be padded with blanks and wrapped in double quotes (no
 * embedded commas). Timestamps are ISO-8601 with an offset or Z, or epoch
 * seconds, milliseconds, microseconds or nanoseconds (timefmt.h), on a
 * minute boundary, from 1970 to 9999. trades and vwap are validated only: the
 * 56-byte bar record has no room for them.
 */
#ifndef BB_CSV_H
#define BB_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "barbus.h"

enum bb__csv_col {
	BB__COL_SYMBOL, BB__COL_TIMESTAMP, BB__COL_OPEN, BB__COL_HIGH,
	BB__COL_LOW, BB__COL_CLOSE, BB__COL_VOLUME, BB__COL_TRADES,
	BB__COL_VWAP, BB__NCOLS
};

#define BB__CSV_HEADER     "symbol,timestamp,open,high,low,close,volume"
#define BB__CSV_FIELDS_MAX 16 /* fields in a row, ignored columns included */
#define BB__CSV_REASON_MAX 192 /* reason buffers: longest text fits */
#define BB__CSV_LINE_MAX   (BB_SYMBOL_MAX + 21 + 5 * 25 + 8) /* format out */
/* Reported by the importer, not by bb__csv_parse_row(); + " (line N)". */
#define BB__CSV_DUPLICATE  "duplicate of an earlier row with other values"

typedef struct bb__csv_hdr {
	int    nfields;              /* fields per row */
	int8_t pos[BB__NCOLS];       /* column -> field index, -1 when absent */
	int8_t col[BB__CSV_FIELDS_MAX]; /* field index -> column, -1: ignored */
	int8_t time_unit;            /* enum bb__time_unit of epoch numbers:
	                                AUTO after bb__csv_parse_header() */
} bb__csv_hdr;

typedef struct bb__csv_row {
	bb_bar  bar;                      /* symbol 0, flags 0: the caller maps */
	char    symbol[BB_SYMBOL_MAX + 1];
	int64_t trades;                   /* -1 when the column is absent */
	double  vwap;                     /* NaN when the column is absent */
} bb__csv_row;

/*
 * Parse a header row s[0..len) (no line terminator). 0, or BB_EINVAL with
 * the reason in reason[0..reason_len): "unknown column \"x\"",
 * "duplicate column \"x\"", "missing column \"x\"", "missing header row".
 */
int bb__csv_parse_header(bb__csv_hdr *h, const char *s, size_t len,
                         char *reason, size_t reason_len);

/*
 * Parse and validate one data row s[0..len) (no line terminator; a trailing
 * '\r' is ignored). 0 with *row filled, or BB_EINVAL with the reason
 * (first failing check, in this order): wrong column count, NUL byte
 * in a field, invalid
 * symbol, unparsable timestamp, a fraction of a second, timestamp outside
 * 1970..9999, timestamp not on a minute boundary,
 * unparsable number / NaN or infinity (per column), trades not a
 * non-negative integer, high below low, open or close outside [low, high],
 * negative volume, vwap outside [low, high]. Thread-safe, no allocation.
 */
int bb__csv_parse_row(const bb__csv_hdr *h, const char *s, size_t len,
                      bb__csv_row *row, char *reason, size_t reason_len);

/*
 * A whole field s[0..len) as a double: fast exact path for plain decimals,
 * strtod otherwise. 0 (the value may be NaN or infinite: the caller says
 * so) or BB_EINVAL when it is not a number (hexadecimal included).
 */
int bb__csv_parse_double(const char *s, size_t len, double *v);

/*
 * The shortest of %.15g, %.16g, %.17g that reads back as exactly v, into
 * buf (>= 25 bytes). Returns its length.
 */
int bb__csv_fmt_double(char *buf, size_t len, double v);

/*
 * One data row "symbol,timestamp,open,high,low,close,volume\n" into buf
 * (>= BB__CSV_LINE_MAX bytes), timestamp as YYYY-MM-DDTHH:MM:SSZ. Returns
 * its length.
 */
size_t bb__csv_format(char *buf, size_t len, const char *symbol,
                      const bb_bar *b);

#endif /* BB_CSV_H */
